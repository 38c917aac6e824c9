//! The `l2tpctl` commands that act on tunnels and sessions (create, delete, debug), and the
//! data plane's reports of tunnels and sessions it lost. Each command acts through the
//! supervisor and the context; the engine builds the answer once the protocol has run
//! ([`Answer`]).

use l2tp_config::{self as cfg, Config};
use l2tp_ctl::{self as ctl, CtlError, DebugTarget, ErrorKind, Selector};
use l2tp_proto::Command as ProtoCommand;

use super::api::Command;
use super::ctx::Ctx;
use super::instances::{InstanceKind, InstanceState, Instances};
use super::views::{Views, instance_text, no_tunnel, session_going, shown};
use crate::notice;

/// What a command's answer shows, once the protocol has run.
#[derive(Debug)]
pub(super) enum Answer {
    /// The tunnel made.
    Tunnel(Selector),
    /// The session instance made, in its tunnel.
    Session { name: String, tunnel: Selector },
    /// A line of text.
    Done(String),
}

fn refused(msg: impl Into<String>) -> CtlError {
    CtlError::new(ErrorKind::Refused, msg)
}

/// The parser's problems with `l2tpctl create` parameters, one per line.
fn invalid_params(what: &str, name: &str, problems: &[String]) -> CtlError {
    let mut msg = format!("cannot create {what} \"{name}\":");
    for p in problems {
        msg.push_str("\n  ");
        msg.push_str(p);
    }
    CtlError::new(ErrorKind::InvalidConfig, msg)
}

/// Carries out `command`.
pub(super) fn execute(
    ctx: &mut Ctx<'_>,
    instances: &mut Instances,
    command: Command,
) -> Result<Answer, CtlError> {
    match command {
        Command::CreateTunnel { name, params } => {
            create_tunnel(ctx, instances, &name, params.0)?;
            Ok(Answer::Tunnel(Selector::Name(name)))
        }
        Command::CreateSession {
            tunnel,
            name,
            params,
        } => {
            create_session(ctx, instances, &tunnel, &name, params.0)?;
            Ok(Answer::Session { name, tunnel })
        }
        Command::DeleteTunnel(sel) => {
            let Some(h) = find_tunnel(ctx, instances, &sel) else {
                return delete_unconnected_tunnel(instances, &sel);
            };
            let rec = ctx.registry.tunnel(h).ok_or_else(|| no_tunnel(&sel))?;
            let (tid, name) = (rec.tid(), rec.origin.name.clone());
            if views(ctx, instances).tunnel_going(rec) {
                // Its StopCCN is out already, or waits for its links' Terminate-Acks; an
                // instance it was an earlier attempt of (which may wait to retry) is not this
                // tunnel, and is left alone.
                return Ok(Answer::Done(format!("tunnel {tid} is closing already")));
            }
            if let Some(n) = name.filter(|n| {
                instances
                    .tunnel(n)
                    .is_some_and(|i| i.state.handle() == Some(h))
            }) {
                // Not tried again until the config is reloaded with it changed.
                instances.stop(InstanceKind::Tunnel, &n);
            }
            notice!("l2tpctl: deleting tunnel {tid}");
            super::ppp::end_tunnel(ctx, h, ppp_proto::CloseReason::Deleted);
            Ok(Answer::Done(format!("tunnel {tid} deleted")))
        }
        Command::Disconnect(who) => {
            let (n, already) = super::ppp::disconnect(ctx, &who);
            // Those closing already keep their first reason and wait, as a repeated
            // `delete session` says.
            match (n, already) {
                (0, 0) => Err(CtlError::new(
                    ErrorKind::NotFound,
                    format!("no native-PPP session of {who} is up"),
                )),
                (0, m) => Ok(Answer::Done(format!(
                    "{m} session(s) of {who} closing already"
                ))),
                (n, m) => {
                    notice!("l2tpctl: disconnecting {n} session(s) of {who}");
                    let also = match m {
                        0 => String::new(),
                        m => format!(", {m} closing already"),
                    };
                    Ok(Answer::Done(format!(
                        "{n} session(s) of {who} disconnected{also}"
                    )))
                }
            }
        }
        Command::DeleteSession(tsel, ssel) => {
            let sh = match find_session(ctx, instances, &tsel, &ssel) {
                Ok(sh) => sh,
                Err(e) => return delete_unplaced_session(ctx, instances, &tsel, &ssel).ok_or(e),
            };
            let (sid, name, going) = ctx
                .registry
                .session(sh)
                .map(|s| (s.sid(), s.origin.name.clone(), session_going(s)))
                .unwrap_or_default();
            if let Some(n) = &name {
                instances.stop(InstanceKind::Session, n);
            }
            if going {
                // Its CDN is out already, or follows its PPP's Terminate-Ack: the first
                // reason stands.
                return Ok(Answer::Done(format!("session {sid} is closing already")));
            }
            notice!("l2tpctl: deleting session {sid}");
            super::ppp::end_session(ctx, sh, ppp_proto::CloseReason::Deleted);
            Ok(Answer::Done(format!("session {sid} deleted")))
        }
        Command::TunnelLost { tid, why } => {
            let h = ctx
                .registry
                .tunnel_handle(tid)
                .ok_or_else(|| no_tunnel(&Selector::Id(tid)))?;
            if ctx.registry.tunnel(h).is_some_and(|t| t.is_static()) {
                ctx.close_tunnel(h);
            } else {
                let lose = ProtoCommand::LoseTunnel {
                    tunnel_id: tid,
                    why,
                };
                // An unknown tunnel has gone already.
                let _ = ctx.protocol.command(ctx.now, lose);
            }
            Ok(Answer::Done(format!("tunnel {tid} closed")))
        }
        Command::SessionLost { tid, sid, why } => {
            let sh = find_session(ctx, instances, &Selector::Id(tid), &Selector::Id(sid))?;
            if ctx.registry.session(sh).is_some_and(|s| s.is_static) {
                ctx.close_session(sh);
            } else {
                let lose = ProtoCommand::LoseSession {
                    tunnel_id: tid,
                    session_id: sid,
                    why,
                };
                // An unknown session has gone already.
                let _ = ctx.protocol.command(ctx.now, lose);
            }
            Ok(Answer::Done(format!("session {sid} disconnected")))
        }
        Command::RequestSpeeds(tunnel, session) => request_speeds(ctx, instances, &tunnel, session),
        Command::Debug(DebugTarget::Tunnel { tunnel }, on) => {
            let Some(h) = find_tunnel(ctx, instances, &tunnel) else {
                return debug_waiting(instances, InstanceKind::Tunnel, (&tunnel, None), on)
                    .ok_or_else(|| no_live_tunnel(instances, &tunnel));
            };
            let rec = ctx
                .registry
                .tunnel_mut(h)
                .ok_or_else(|| no_tunnel(&tunnel))?;
            rec.debug = on;
            let state = if on { "on" } else { "off" };
            notice!("tunnel {}: debug {state}", rec.tid());
            Ok(Answer::Done(format!("tunnel {} debug {state}", rec.tid())))
        }
        Command::Debug(DebugTarget::Session { tunnel, session }, on) => {
            let sh = match find_session(ctx, instances, &tunnel, &session) {
                Ok(sh) => sh,
                Err(e) => {
                    let of = tunnel_name(ctx, instances, &tunnel);
                    let target = (&session, of.as_deref());
                    return debug_waiting(instances, InstanceKind::Session, target, on).ok_or(e);
                }
            };
            let rec = ctx
                .registry
                .session_mut(sh)
                .ok_or_else(|| no_tunnel(&tunnel))?;
            rec.debug = on;
            let state = if on { "on" } else { "off" };
            notice!("session {}/{}: debug {state}", rec.tid(), rec.sid());
            Ok(Answer::Done(format!("session {} debug {state}", rec.sid())))
        }
    }
}

/// The views of the engine's state, for the commands that look up what they act on.
fn views<'a>(ctx: &'a Ctx<'_>, instances: &'a Instances) -> Views<'a> {
    Views {
        registry: ctx.registry,
        instances,
        protocol: ctx.protocol,
        closing: &ctx.ppp.closing,
    }
}

/// The name of the tunnel instance `sel` names.
fn tunnel_name(ctx: &Ctx<'_>, instances: &Instances, sel: &Selector) -> Option<String> {
    views(ctx, instances).instance_name(sel)
}

/// `debug` of a tunnel or session instance `sel` (a session: of tunnel instance `of`) that
/// has no tunnel or session now: its next one starts with it; `None` if there is no such
/// instance.
fn debug_waiting(
    instances: &mut Instances,
    kind: InstanceKind,
    (sel, of): (&Selector, Option<&str>),
    on: bool,
) -> Option<Answer> {
    let name = &instance_text(sel);
    if !instances.set_debug(kind, (name, of), on) {
        return None;
    }
    let item = kind.item();
    let state = if on { "on" } else { "off" };
    notice!("{item} \"{name}\": debug {state} from its next attempt");
    Some(Answer::Done(format!(
        "{item} \"{name}\" debug {state}: it is not connected; from its next attempt"
    )))
}

/// `delete tunnel NAME` of a tunnel instance that has no tunnel now (it waits to try again, or
/// for its peer's name): it is stopped, as a connected one would be, and not tried again.
fn delete_unconnected_tunnel(
    instances: &mut Instances,
    sel: &Selector,
) -> Result<Answer, CtlError> {
    let name = instance_text(sel);
    let live = instances
        .tunnel(&name)
        .is_some_and(|i| !i.state.is_stopped());
    if !live {
        return Err(no_live_tunnel(instances, sel));
    }
    instances.stop(InstanceKind::Tunnel, &name);
    notice!("l2tpctl: deleting tunnel \"{name}\" (not connected)");
    Ok(Answer::Done(format!("tunnel \"{name}\" deleted")))
}

/// The error for tunnel `sel`, which has no tunnel and no instance that waits for one: a
/// tunnel of the config file deleted with `l2tpctl` (or given up), which `show tunnel` still
/// gives as stopped, is named as such; anything else does not exist.
fn no_live_tunnel(instances: &Instances, sel: &Selector) -> CtlError {
    let name = instance_text(sel);
    match instances.tunnel(&name) {
        Some(i) if i.state.is_stopped() && shown(i) => refused(format!(
            "tunnel \"{name}\" is stopped: it was deleted, or given up"
        )),
        _ => no_tunnel(sel),
    }
}

/// `delete session TUNNEL NAME` of a session instance whose call is not placed (its tunnel is
/// not up, or it waits to try again): it is stopped, not placed later. `None` when no such
/// instance is in that tunnel.
fn delete_unplaced_session(
    ctx: &Ctx<'_>,
    instances: &mut Instances,
    tsel: &Selector,
    ssel: &Selector,
) -> Option<Answer> {
    let name = instance_text(ssel);
    let tunnel_name = find_tunnel(ctx, instances, tsel)
        .and_then(|h| ctx.registry.tunnel(h))
        .and_then(|t| t.origin.name.clone())
        .unwrap_or_else(|| instance_text(tsel));
    let inst = instances.session(&name)?;
    let unplaced = !inst.state.is_stopped() && inst.state.handle().is_none();
    if !unplaced || inst.resolved.tunnel != tunnel_name {
        return None;
    }
    instances.stop(InstanceKind::Session, &name);
    notice!("l2tpctl: deleting session \"{name}\" (not placed)");
    Some(Answer::Done(format!("session \"{name}\" deleted")))
}

/// `request speeds`: an RFC 5515 CSURQ for one session or all the tunnel's enabled ones.
fn request_speeds(
    ctx: &mut Ctx<'_>,
    instances: &Instances,
    tunnel: &Selector,
    session: Option<Selector>,
) -> Result<Answer, CtlError> {
    let Some(th) = find_tunnel(ctx, instances, tunnel) else {
        // Listed, but with no tunnel now: there is no LAC to ask.
        return Err(if views(ctx, instances).shown_instance(tunnel) {
            refused(format!(
                "tunnel {tunnel} is not connected: there is no LAC to ask for connect speeds"
            ))
        } else {
            no_tunnel(tunnel)
        });
    };
    let tid = ctx
        .registry
        .tunnel(th)
        .map(|t| t.tid())
        .ok_or_else(|| no_tunnel(tunnel))?;
    let sid = match &session {
        Some(s) => {
            let sh = find_session(ctx, instances, tunnel, s)?;
            ctx.registry.session(sh).map(|r| r.sid())
        }
        None => None,
    };
    let ask = ProtoCommand::RequestConnectSpeeds {
        tunnel_id: tid,
        session_id: sid,
    };
    match ctx.protocol.command(ctx.now, ask) {
        Ok(l2tp_proto::CommandOutcome::SpeedsRequested(n)) => {
            notice!("l2tpctl: tunnel {tid}: CSURQ sent for {n} session(s)");
            Ok(Answer::Done(format!(
                "connect speeds requested for {n} session(s) of tunnel {tid}"
            )))
        }
        Ok(_) => Ok(Answer::Done(format!("tunnel {tid}: CSURQ sent"))),
        Err(l2tp_proto::CommandError::SpeedUpdatesNotEnabled) => Err(CtlError::new(
            ErrorKind::Refused,
            match sid {
                Some(sid) => format!(
                    "session {sid}: its ICRQ did not enable connect speed updates (RFC 5515 \
                     §4.2)"
                ),
                None => format!(
                    "tunnel {tid}: no established session enabled connect speed updates \
                     (RFC 5515 §4.2)"
                ),
            },
        )),
        Err(e) => Err(CtlError::new(
            ErrorKind::NotFound,
            format!("tunnel {tid}: {e}"),
        )),
    }
}

fn find_tunnel(ctx: &Ctx<'_>, instances: &Instances, sel: &Selector) -> Option<u64> {
    views(ctx, instances).find_tunnel(sel)
}

fn find_session(
    ctx: &Ctx<'_>,
    instances: &Instances,
    tunnel: &Selector,
    session: &Selector,
) -> Result<u64, CtlError> {
    let views = views(ctx, instances);
    views
        .find_tunnel(tunnel)
        .and_then(|th| views.find_session(th, session))
        .ok_or_else(|| views.no_such_session(tunnel, session))
}

/// The refusal of `create session` in tunnel `sel` (`h`), which is closing: its StopCCN was
/// sent or received, and it only waits for the peer's acknowledgement or for its
/// retransmissions to end (RFC 2661 section 5.7). A tunnel instance that will open a tunnel
/// again is named, as the tunnel to give instead.
fn closing_tunnel(ctx: &Ctx<'_>, instances: &Instances, sel: &Selector, h: u64) -> CtlError {
    let next = ctx
        .registry
        .tunnel(h)
        .and_then(|t| t.origin.name.as_deref())
        .filter(|n| instances.tunnel(n).is_some_and(|i| !i.state.is_stopped()))
        .map_or_else(String::new, |n| {
            format!("; give it as \"{n}\" to create the session in that tunnel's next attempt")
        });
    refused(format!(
        "tunnel {sel} is closing: sessions cannot be created in it{next}"
    ))
}

/// Whether instance `created_by`, `state` may be made again by `l2tpctl create`: only one that
/// `l2tpctl` made and deleted.
fn replaceable(created_by: ctl::CreatedBy, state: InstanceState) -> bool {
    created_by == ctl::CreatedBy::Cli && state == InstanceState::Stopped
}

fn create_tunnel(
    ctx: &mut Ctx<'_>,
    instances: &mut Instances,
    name: &str,
    pairs: Vec<(String, String)>,
) -> Result<(), CtlError> {
    if ctx.config.system().deny_local_tunnel_creates {
        return Err(refused(
            "creating tunnels is switched off (deny_local_tunnel_creates)",
        ));
    }
    if ctx.shutting_down {
        return Err(refused("l2tpd is shutting down"));
    }
    if let Some(inst) = instances.tunnel(name)
        && !replaceable(inst.created_by, inst.state)
    {
        let from = match inst.created_by {
            ctl::CreatedBy::Config => "the config file",
            _ => "l2tpctl",
        };
        return Err(refused(format!(
            "tunnel \"{name}\" already exists (created by {from})"
        )));
    }
    let config = cfg::with_instance(ctx.config, cfg::InstanceKind::Tunnel, name, &pairs)
        .map_err(|problems| invalid_params("tunnel", name, &problems))?;
    let resolved = config
        .resolve_tunnel(name)
        .ok_or_else(|| CtlError::new(ErrorKind::Internal, "the new tunnel did not resolve"))?;
    notice!("l2tpctl: creating tunnel \"{name}\"");
    instances.add_cli_tunnel(ctx, name, resolved, pairs);
    Ok(())
}

fn create_session(
    ctx: &mut Ctx<'_>,
    instances: &mut Instances,
    tunnel: &Selector,
    name: &str,
    mut pairs: Vec<(String, String)>,
) -> Result<(), CtlError> {
    if ctx.shutting_down {
        return Err(refused("l2tpd is shutting down"));
    }
    // The tunnel: a named instance, by name or by the id of its live tunnel.
    let tunnel_name = match tunnel {
        Selector::Name(n) if instances.tunnel(n).is_some() => n.clone(),
        sel => match find_tunnel(ctx, instances, sel) {
            Some(h)
                if ctx
                    .registry
                    .tunnel(h)
                    .is_some_and(|t| views(ctx, instances).tunnel_going(t)) =>
            {
                return Err(closing_tunnel(ctx, instances, sel, h));
            }
            Some(h) => ctx
                .registry
                .tunnel(h)
                .and_then(|t| t.origin.name.clone())
                .filter(|n| instances.tunnel(n).is_some())
                .ok_or_else(|| {
                    refused(format!(
                        "tunnel {sel} was created by a peer; sessions can be created only in \
                         tunnels of the config file or of l2tpctl"
                    ))
                })?,
            // No tunnel has that id: an instance named with its digits, if any.
            None if instances.tunnel(&instance_text(sel)).is_some() => instance_text(sel),
            None => return Err(no_tunnel(sel)),
        },
    };
    if instances
        .tunnel(&tunnel_name)
        .is_some_and(|i| i.state.is_stopped())
    {
        return Err(refused(format!("tunnel \"{tunnel_name}\" was deleted")));
    }
    if let Some(inst) = instances.session(name)
        && !replaceable(inst.created_by, inst.state)
    {
        return Err(refused(format!("session \"{name}\" already exists")));
    }
    // A tunnel made with l2tpctl is not in the config: check against both.
    let with_tunnel;
    let base: &Config = match instances.cli_tunnel(&tunnel_name) {
        Some(tp) => {
            with_tunnel =
                cfg::with_instance(ctx.config, cfg::InstanceKind::Tunnel, &tunnel_name, tp)
                    .map_err(|problems| invalid_params("tunnel", &tunnel_name, &problems))?;
            &with_tunnel
        }
        None => ctx.config,
    };
    pairs.retain(|(k, _)| k != "tunnel");
    pairs.insert(0, ("tunnel".to_owned(), tunnel_name.clone()));
    let config = cfg::with_instance(base, cfg::InstanceKind::Session, name, &pairs)
        .map_err(|problems| invalid_params("session", name, &problems))?;
    let resolved = config
        .resolve_session(name)
        .ok_or_else(|| CtlError::new(ErrorKind::Internal, "the new session did not resolve"))?;
    // A session of a live tunnel is placed at once: a fixed id in use is refused here, with
    // its reason, rather than logged after an answer that says the session was created.
    let live = instances
        .tunnel(&tunnel_name)
        .and_then(|i| i.state.handle())
        .and_then(|h| ctx.registry.tunnel(h))
        .filter(|t| t.phase().is_live())
        .map(|t| (t.tid(), t.is_static()));
    if let (Some((tid, is_static)), Some(sid)) = (live, resolved.session_id)
        && (ctx.registry.session_handle(tid, sid).is_some()
            || ctx.registry.static_sid_taken(sid)
            || (!is_static && ctx.protocol.ep().session_id_free(tid, sid) == Some(false)))
    {
        return Err(refused(format!(
            "session_id {sid} is in use (an L2TPv2 session id names one session of its \
             tunnel, an L2TPv3 one one session of this host)"
        )));
    }
    notice!("l2tpctl: creating session \"{name}\" in tunnel \"{tunnel_name}\"");
    instances.add_cli_session(ctx, name, resolved);
    Ok(())
}
