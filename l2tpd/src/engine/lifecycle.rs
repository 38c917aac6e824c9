//! The records follow the protocol: each event of `l2tp_proto` (a tunnel or session created,
//! up, down, deleted; a data-plane request; a discarded input) moves its record through the
//! registry, tells watchers and scripts, tells the supervisor what happened to its instance,
//! and turns data-plane requests into the data plane's specs.

use std::fmt;
use std::time::{Duration, Instant};

use l2tp_ctl::{EventKind, text};
use l2tp_proto::wire::result::result_code::stop_ccn;
use l2tp_proto::{self as proto, Event};

use super::ctx::{self, Ctx};
use super::instances::Instances;
use super::notify::{self, event, result_code};
use super::ppp;
use super::registry::{DataPath, Install, Origin, Phase, Registry, SessionRec, TunnelRec};
use super::restart;
use super::translate::{self, SessionData};
use crate::dataplane::{DataplaneRequest, SocketChange};
use crate::discards::DiscardLog;
use crate::metrics::snapshot::down_cause_label;
use crate::notice;

/// Handles one event of the protocol (or one synthesized for a static tunnel).
pub(super) fn on_event(
    ctx: &mut Ctx<'_>,
    instances: &mut Instances,
    discards: &mut DiscardLog,
    e: Event,
) {
    match e {
        Event::TunnelCreated {
            handle, tunnel_id, ..
        } => {
            let Some(rec) = ctx.registry.tunnel(handle.0) else {
                return;
            };
            let mut ev = event(EventKind::TunnelCreated, tunnel_id);
            ev.name = rec.origin.name.clone();
            ev.profile = Some(rec.profile.clone());
            let info = ctx.protocol.ep().tunnel(tunnel_id);
            ctx.out.tunnel(
                ev,
                (rec.origin.name.as_deref(), rec.peer_host()),
                info.as_ref(),
            );
        }
        Event::TunnelUp {
            handle,
            tunnel_id,
            peer_tunnel_id,
            version,
        } => {
            let info = ctx.protocol.ep().tunnel(tunnel_id);
            if let Some(i) = &info {
                ctx.follow_peer(handle.0, i);
            }
            let Some(rec) = ctx.registry.tunnel_up(handle.0, ctx.now, peer_tunnel_id) else {
                return;
            };
            if let Some(i) = &info {
                rec.set_peer_host(&i.peer_host_name);
            }
            let name = rec.origin.name.clone();
            notice!(
                "tunnel {tunnel_id}{}: up (peer tid {peer_tunnel_id}, L2TPv{})",
                quoted(name.as_deref()),
                version.number()
            );
            let mut ev = event(EventKind::TunnelUp, tunnel_id);
            ev.peer_tid = Some(peer_tunnel_id);
            ctx.out
                .tunnel(ev, (name.as_deref(), rec.peer_host()), info.as_ref());
            if let Some(i) = &info {
                restart::tunnel_up(ctx, handle.0, i);
            }
        }
        Event::TunnelDown {
            handle,
            tunnel_id,
            peer_tunnel_id,
            reason,
        } => tunnel_down(
            ctx,
            instances,
            handle.0,
            (tunnel_id, peer_tunnel_id),
            &reason,
        ),
        Event::TunnelDeleted { handle, tunnel_id } => tunnel_deleted(ctx, handle.0, tunnel_id),
        Event::SessionCreated {
            handle,
            tunnel_id,
            session_id,
            ..
        } => {
            let host = peer_host_name(ctx.registry, tunnel_id);
            let Some(rec) = ctx.registry.renumber_session(handle.0, session_id) else {
                return;
            };
            let mut ev = event(EventKind::SessionCreated, tunnel_id);
            ev.sid = Some(session_id);
            ev.name = rec.origin.name.clone();
            ev.profile = Some(rec.profile.clone());
            ev.pw_profile = Some(rec.pw_profile.clone());
            ctx.out.session(ev, rec, host.as_deref());
        }
        Event::SessionUp {
            handle,
            peer_tunnel_id,
            peer_session_id,
            ..
        } => {
            let Some(rec) = ctx.registry.session_mut(handle.0) else {
                return;
            };
            (rec.peer_tid, rec.peer_sid) = (peer_tunnel_id, peer_session_id);
            // It is up, and the log, watchers and scripts hear of it, once its data path
            // exists (its interface, which a session-up script sets up, is the data plane's):
            // one the data plane refuses was never up, and counts only as a set-up failure.
            match rec.install {
                Install::Settled => {
                    ctx.registry.session_up(handle.0, ctx.now);
                    tell_session_up(ctx, handle.0);
                }
                Install::Pending => rec.install = Install::UpWaiting,
                Install::UpWaiting | Install::Refused => {}
            }
            ppp::open(ctx, handle.0);
        }
        Event::SessionDown {
            handle,
            tunnel_id,
            session_id,
            reason,
        } => session_down(ctx, instances, handle.0, (tunnel_id, session_id), &reason),
        Event::SessionDeleted {
            handle,
            tunnel_id,
            session_id,
        } => {
            ppp::release_removal(ctx, handle.0);
            match ctx.registry.remove_session(handle.0) {
                Some(rec) => {
                    let host = peer_host_name(ctx.registry, tunnel_id);
                    let ev = notify::session_deleted(&rec);
                    let down = rec.last_down.as_deref();
                    ctx.out.session_ended(ev, &rec, host.as_deref(), down);
                }
                None => {
                    let mut ev = event(EventKind::SessionDeleted, tunnel_id);
                    ev.sid = Some(session_id);
                    ctx.out.notify(ev);
                }
            }
        }
        Event::WanErrorNotify {
            session_id, errors, ..
        } => {
            tracing::info!("session {session_id}: WAN-Error-Notify from the peer: {errors:?}");
        }
        Event::SetLinkInfo {
            handle,
            session_id,
            accm,
        } => {
            tracing::info!("session {session_id}: Set-Link-Info from the peer: {accm:?}");
            ppp::link_info(ctx, handle.0, accm);
        }
        Event::ConnectSpeedUpdate {
            handle,
            tunnel_id,
            session_id,
            speed,
        } => {
            // RFC 5515 §4.1: the LNS SHOULD update the speeds of an active session. They
            // reach `show session` and the next accounting request (Connect-Info).
            if let Some(rec) = ctx.registry.session_mut(handle.0) {
                let old = std::mem::replace(&mut rec.connect_speed, speed);
                let show = |s: Option<l2tp_proto::ConnectSpeed>| {
                    s.map_or_else(|| "unknown".to_owned(), |s| format!("{s} bit/s"))
                };
                tracing::info!(
                    "tunnel {tunnel_id} session {session_id}: connect speed updated by the \
                     LAC's CSUN: {} -> {}",
                    show(old),
                    show(speed)
                );
            }
        }
        Event::Dataplane(req) => dataplane(ctx, req),
        Event::Discarded {
            remote,
            tunnel_id,
            problem,
        } => discards.record(ctx.now, remote, tunnel_id, &problem),
        Event::CallRefused {
            tunnel_id, refusal, ..
        } => notice!(
            "tunnel {tunnel_id}: refusing a session from the peer: {}",
            text::plain(refusal.message.as_deref().unwrap_or("limit reached"))
        ),
        _ => {}
    }
}

/// The Host Name the peer of tunnel `tid` sent, if any.
fn peer_host_name(registry: &Registry, tid: u32) -> Option<Vec<u8>> {
    registry
        .tunnel_by_tid(tid)
        .and_then(|t| t.peer_host())
        .map(<[u8]>::to_vec)
}

/// ` "name"` for a named record, nothing for a peer's.
fn quoted(name: Option<&str>) -> String {
    name.map_or(String::new(), |n| format!(" {}", text::quoted(n)))
}

/// Why a tunnel or session went down, for its log line: the cause in words (the teardown
/// metric's label, `l2tpd(8)`), the result and error codes and the message.
fn describe_reason(reason: &proto::DownReason) -> String {
    format!(
        "{}, result {} error {}{}",
        down_cause_label(reason.cause).replace('_', " "),
        reason.result,
        reason.error.unwrap_or(0),
        reason
            .message
            .as_ref()
            .map_or(String::new(), |m| format!(": {}", text::plain(m)))
    )
}

/// A tunnel's or a session's record, as far as its going down is the same for both.
trait DownRecord {
    /// Its phase, why it last went down and its origin.
    fn down_parts(&mut self) -> (Phase, &mut Option<Box<proto::DownReason>>, &Origin);
}

impl DownRecord for TunnelRec {
    fn down_parts(&mut self) -> (Phase, &mut Option<Box<proto::DownReason>>, &Origin) {
        (self.phase(), &mut self.last_down, &self.origin)
    }
}

impl DownRecord for SessionRec {
    fn down_parts(&mut self) -> (Phase, &mut Option<Box<proto::DownReason>>, &Origin) {
        (self.phase(), &mut self.last_down, &self.origin)
    }
}

/// The line that says a tunnel or a session went down.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum DownLine {
    /// An ordinary end: a notice.
    Notice,
    /// One end refused the other's authentication: a warning.
    Refused,
    /// None: a session the data plane refused, whose warning said it all; it was never up.
    Silent,
    /// None: its tunnel's sessions spent their log-line budget (`super::lines`).
    OverBudget,
}

/// What a tunnel's or a session's going down shares: its result kept in its record, the
/// line naming it (`what`, then its name, as `line` says), and its name and how long it was up
/// returned.
fn record_down(
    now: Instant,
    rec: &mut impl DownRecord,
    (what, line): (fmt::Arguments<'_>, DownLine),
    reason: &proto::DownReason,
) -> (Option<String>, Option<Duration>) {
    let (phase, last_down, origin) = rec.down_parts();
    let up_for = phase.up_since().map(|t| now.saturating_duration_since(t));
    *last_down = Some(Box::new(reason.clone()));
    let name = origin.name.clone();
    let name_shown = quoted(name.as_deref());
    let why = describe_reason(reason);
    match line {
        DownLine::Refused => tracing::warn!("{what}{name_shown}: down ({why})"),
        DownLine::Notice => notice!("{what}{name_shown}: down ({why})"),
        DownLine::Silent => return (name, None),
        DownLine::OverBudget => {}
    }
    (name, up_for)
}

fn tunnel_down(
    ctx: &mut Ctx<'_>,
    instances: &mut Instances,
    handle: u64,
    (tid, peer_tid): (u32, u32),
    reason: &proto::DownReason,
) {
    let Some(rec) = ctx.registry.tunnel_closing(handle, reason.cause) else {
        return;
    };
    // StopCCN result 4: one end refused the other's authentication (a wrong secret, a bad
    // challenge response, a Host Name not the one configured), which the operator is to see
    // (result codes: RFC 2661 §4.4.2).
    let line = if reason.result == stop_ccn::NOT_AUTHORIZED {
        DownLine::Refused
    } else {
        DownLine::Notice
    };
    let (name, up_for) = record_down(ctx.now, rec, (format_args!("tunnel {tid}"), line), reason);
    let mut ev = event(EventKind::TunnelDown, tid);
    ev.peer_tid = Some(peer_tid);
    ev.result = Some(result_code(reason));
    let info = ctx.protocol.ep().tunnel(tid);
    ctx.out.tunnel_ended(
        ev,
        (name.as_deref(), rec.peer_host()),
        info.as_ref(),
        Some(reason),
    );
    if let Some(n) = name {
        instances.tunnel_down(ctx, &n, (handle, up_for), reason);
    }
}

fn tunnel_deleted(ctx: &mut Ctx<'_>, handle: u64, tid: u32) {
    let mut ev = event(EventKind::TunnelDeleted, tid);
    let info = ctx.protocol.ep().tunnel(tid);
    let Some(rec) = ctx.registry.remove_tunnel(handle) else {
        ctx.out.tunnel(ev, (None, None), info.as_ref());
        return;
    };
    ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
    ev.result = rec.last_down.as_deref().map(result_code);
    ev.version = rec.settings.version.map(|v| match v {
        l2tp_config::L2tpVersion::V2 => 2,
        l2tp_config::L2tpVersion::V3 => 3,
    });
    let encap = translate::encap(rec.settings.encap);
    ev.encap = Some(notify::ctl_encap(encap));
    // Over IP there are no ports: the address alone.
    ev.peer = rec.socket.map(|(_, remote)| match encap {
        proto::wire::header::Encapsulation::Ip => remote.ip().to_string(),
        proto::wire::header::Encapsulation::Udp => remote.to_string(),
    });
    ctx.out.tunnel_ended(
        ev,
        (rec.origin.name.as_deref(), rec.peer_host()),
        info.as_ref(),
        rec.last_down.as_deref(),
    );
    if rec.socket.is_some() {
        ctx.out.socket(SocketChange::Close(tid));
    }
    ctx::trace(rec.debug, format_args!("tunnel {tid}: deleted"));
}

fn session_down(
    ctx: &mut Ctx<'_>,
    instances: &mut Instances,
    handle: u64,
    (tid, sid): (u32, u32),
    reason: &proto::DownReason,
) {
    // Its PPP ends first (watchers see PPP down before the session's down), and its
    // accounting Stop goes out before the data plane removes it (its counters go with it).
    ppp::lower_down(ctx, handle, reason.cause);
    ppp::release_removal(ctx, handle);
    let Some(rec) = ctx.registry.session_closing(handle, reason.cause) else {
        return;
    };
    // A session whose up was not told (its data path refused, or not there yet) is not told
    // down either; one the data plane refused was never up, and its warning is its only line.
    let line = if rec.install == Install::Refused {
        DownLine::Silent
    } else if !ctx.lines.admit(ctx.now, tid) {
        DownLine::OverBudget
    } else {
        DownLine::Notice
    };
    let untold = matches!(rec.install, Install::UpWaiting | Install::Refused);
    if untold {
        rec.install = Install::Refused;
    }
    let (name, up_for) = record_down(
        ctx.now,
        rec,
        (format_args!("session {tid}/{sid}"), line),
        reason,
    );
    let mut ev = event(EventKind::SessionDown, tid);
    ev.sid = Some(sid);
    ev.peer_tid = Some(rec.peer_tid);
    ev.peer_sid = Some(rec.peer_sid);
    ev.result = Some(result_code(reason));
    let Some(rec) = ctx.registry.session(handle) else {
        return;
    };
    let host = peer_host_name(ctx.registry, tid);
    if !untold {
        ctx.out
            .session_ended(ev, rec, host.as_deref(), Some(reason));
    }
    if let Some(n) = name {
        instances.session_down(ctx, &n, (handle, up_for), reason);
    }
}

/// Logs, and tells watchers and scripts, that session `handle` is up (its data path exists).
pub(super) fn tell_session_up(ctx: &mut Ctx<'_>, handle: u64) {
    let Some(rec) = ctx.registry.session(handle) else {
        return;
    };
    if ctx.lines.admit(ctx.now, rec.tid()) {
        notice!(
            "session {}/{}{}: up (peer {}/{})",
            rec.tid(),
            rec.sid(),
            quoted(rec.origin.name.as_deref()),
            rec.peer_tid,
            rec.peer_sid
        );
    }
    let host = peer_host_name(ctx.registry, rec.tid());
    let mut ev = event(EventKind::SessionUp, rec.tid());
    ev.sid = Some(rec.sid());
    ev.peer_tid = Some(rec.peer_tid);
    ev.peer_sid = Some(rec.peer_sid);
    ev.interface_name = rec.interface_name.clone();
    ctx.out.session(ev, rec, host.as_deref());
}

/// Passes a data-plane request of the protocol on, in the data plane's terms.
fn dataplane(ctx: &mut Ctx<'_>, req: proto::DataplaneRequest) {
    let out = match req {
        proto::DataplaneRequest::InstallTunnel(p) => {
            let debug = ctx
                .registry
                .tunnel_by_tid(p.tunnel_id)
                .is_some_and(|t| t.debug);
            DataplaneRequest::InstallTunnel(translate::tunnel_spec(&p, debug))
        }
        proto::DataplaneRequest::RemoveTunnel { tunnel_id } => {
            DataplaneRequest::RemoveTunnel { tid: tunnel_id }
        }
        proto::DataplaneRequest::InstallSession(p) => {
            let v3 = ctx
                .protocol
                .ep()
                .tunnel(p.tunnel_id)
                .is_some_and(|t| t.version == proto::wire::header::Version::V3);
            if let Some(rec) = ctx.registry.session_mut(p.handle.0) {
                rec.connect_speed = p.connect_speed;
                rec.install = Install::Pending;
                rec.pw_type = p.pw_type;
                rec.data_path = Some(DataPath {
                    v3,
                    l2spec: p.l2spec,
                    cookie_rx: cookie_len(&p.cookie),
                    cookie_tx: cookie_len(&p.peer_cookie),
                    send_seq: p.send_seq,
                    recv_seq: p.recv_seq,
                });
            }
            let native_ppp = ppp::prepare(ctx, &p);
            let underlay = ppp::underlay_sizes(ctx, &p);
            let Some(rec) = ctx.registry.session(p.handle.0) else {
                return;
            };
            let peer = ctx
                .registry
                .tunnel(rec.tunnel)
                .and_then(|t| t.socket)
                .map(|(_, remote)| remote);
            let data = SessionData {
                settings: &rec.settings,
                pseudowire: &rec.pseudowire,
                debug: rec.debug,
                calling_number: rec.calling_number(),
                peer,
                native_ppp,
                underlay,
            };
            DataplaneRequest::InstallSession(Box::new(translate::session_spec(&p, data)))
        }
        proto::DataplaneRequest::RemoveSession {
            tunnel_id,
            session_id,
        } => {
            // Sent after the session's accounting Stop, which reads its counters.
            if ppp::hold_removal(ctx, (tunnel_id, session_id)) {
                return;
            }
            DataplaneRequest::RemoveSession {
                tid: tunnel_id,
                sid: session_id,
            }
        }
        _ => return,
    };
    ctx.out.dataplane(out);
}

/// A cookie's length in octets (0, 4 or 8).
fn cookie_len(c: &proto::wire::header::Cookie) -> u8 {
    u8::try_from(c.as_bytes().len()).unwrap_or(u8::MAX)
}

/// Every remaining session and tunnel is reported deleted (the daemon exits and they end with
/// it).
pub(super) fn finish(ctx: &mut Ctx<'_>) {
    let (sessions, tunnels) = ctx.registry.drain();
    let hosts: std::collections::HashMap<u32, &[u8]> = tunnels
        .iter()
        .filter_map(|t| Some((t.tid(), t.peer_host()?)))
        .collect();
    for rec in sessions {
        let host = hosts.get(&rec.tid()).copied();
        let ev = notify::session_deleted(&rec);
        ctx.out
            .session_ended(ev, &rec, host, rec.last_down.as_deref());
    }
    for rec in tunnels {
        let mut ev = event(EventKind::TunnelDeleted, rec.tid());
        ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
        ev.result = rec.last_down.as_deref().map(result_code);
        ev.encap = Some(notify::ctl_encap(translate::encap(rec.settings.encap)));
        ev.peer = rec.socket.map(|(_, remote)| remote.to_string());
        let info = ctx.protocol.ep().tunnel(rec.tid());
        ctx.out.tunnel_ended(
            ev,
            (rec.origin.name.as_deref(), rec.peer_host()),
            info.as_ref(),
            rec.last_down.as_deref(),
        );
    }
}
