//! Starting and removing instances: a tunnel instance's control connection (or static
//! tunnel) and its sessions, a session instance's call in its tunnel (opening the tunnel first
//! when it is idle), and the back-off of an attempt that fails at once.

use l2tp_config as cfg;
use l2tp_proto::{CallType, Command, CommandError, CommandOutcome, SessionHandle};

use super::super::ctx::{self, Ctx};
use super::super::registry::{SessionIds, TunnelRec};
use super::super::{statics, translate};
use super::{
    InstanceKind, InstanceState, Instances, Removal, Retry, add_session, secs, session_cap,
};
use crate::notice;

impl Instances {
    /// Brings up tunnel instance `name` (and its session instances).
    pub(super) fn start_tunnel(&mut self, ctx: &mut Ctx<'_>, name: &str) {
        let Some(inst) = self.tunnels.get_mut(name) else {
            return;
        };
        match inst.state {
            InstanceState::Waiting { .. } | InstanceState::Idle | InstanceState::Resolving => {
                inst.state = InstanceState::Idle;
            }
            _ => return,
        }
        if ctx.shutting_down {
            return;
        }
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let remote = match translate::peer_addr(&resolved, ctx.names, ctx.now, inst.attempt) {
            Ok(Some((remote, candidates))) => {
                inst.candidates = candidates;
                Ok(remote)
            }
            Ok(None) => {
                // Started again when the name's answer comes (`resolved`).
                inst.state = InstanceState::Resolving;
                ctx::trace(
                    resolved.settings.debug,
                    format_args!("tunnel \"{name}\": resolving its peers' names"),
                );
                return;
            }
            Err(why) => Err(why),
        };
        if resolved.is_static() {
            let started = remote.and_then(|remote| {
                statics::start_tunnel(ctx, name, (created_by, &resolved), remote)
            });
            match started {
                Ok(handle) => inst.state = InstanceState::Running { handle },
                Err(why) => {
                    tracing::error!("static tunnel \"{name}\": {why}; not started");
                    inst.state = InstanceState::Stopped;
                    return;
                }
            }
            for s in self.sessions_of(name) {
                self.start_session(ctx, &s);
            }
            return;
        }
        let s = &resolved.settings;
        let opened = remote.map_err(|why| (why, None)).and_then(|remote| {
            let local = translate::local_for(ctx.facts, s, remote);
            let mut config = translate::tunnel_config(s, ctx.config.system(), ctx.facts);
            config.local_id = resolved.tunnel_id;
            let handle = ctx.registry.next_handle();
            let tid = ctx
                .protocol
                .open_tunnel(ctx.now, handle, config, local, remote)
                .map_err(|e| (format!("cannot open: {e}"), Some(e)))?;
            Ok((handle, tid, local, remote))
        });
        let (handle, tid, local, remote) = match opened {
            Ok(x) => x,
            Err((e, error)) => {
                let log = inst.note_failure(error.as_ref());
                let retry = self.retry_tunnel(ctx, name, true);
                if !log {
                    // The same fixed id still in use: logged at the first attempt.
                    return;
                }
                match retry {
                    Some(Retry::FailOver(wait)) => tracing::warn!(
                        "tunnel \"{name}\": {e}; trying its next peer in {}",
                        secs(wait)
                    ),
                    Some(Retry::BackOff(wait)) => {
                        tracing::warn!(
                            "tunnel \"{name}\": {e}; retrying in {}{}",
                            secs(wait),
                            once_note(error.as_ref())
                        );
                    }
                    None => tracing::warn!("tunnel \"{name}\": {e}"),
                }
                return;
            }
        };
        ctx::trace(
            s.debug,
            format_args!(
                "tunnel \"{name}\" (tid {tid}): connecting to {remote} from {local} (profile \
                 \"{}\")",
                resolved.profile
            ),
        );
        inst.state = InstanceState::Running { handle };
        inst.id_in_use = None;
        let rec = TunnelRec::for_instance(tid, name, created_by, &resolved, ctx.now);
        ctx.add_tunnel(handle, rec, translate::encap(s.encap), (local, remote));
        for s in self.sessions_of(name) {
            self.start_session(ctx, &s);
        }
    }

    /// Places the call of session instance `name` in its tunnel, if that tunnel is live.
    pub(super) fn start_session(&mut self, ctx: &mut Ctx<'_>, name: &str) {
        let Some(inst) = self.sessions.get_mut(name) else {
            return;
        };
        match inst.state {
            InstanceState::Waiting { .. } | InstanceState::Idle => inst.state = InstanceState::Idle,
            _ => return,
        }
        if ctx.shutting_down {
            return;
        }
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let Some((th, tid)) = self.live_tunnel(ctx.registry, &resolved.tunnel) else {
            // Started when its tunnel is; a tunnel instance closed for being idle (no live
            // tunnel, no retry pending) is opened again for it.
            if self
                .tunnels
                .get(&resolved.tunnel)
                .is_some_and(|t| t.state == InstanceState::Idle)
            {
                self.start_tunnel(ctx, &resolved.tunnel);
            }
            return;
        };
        let Some(tunnel) = ctx.registry.tunnel(th) else {
            return;
        };
        if tunnel.is_static() {
            let inst = self.sessions.get_mut(name);
            match statics::start_session(ctx, name, created_by, &resolved, (th, tid)) {
                Ok(handle) => {
                    if let Some(inst) = inst {
                        inst.state = InstanceState::Running { handle };
                    }
                }
                Err(why) => {
                    tracing::error!("static session \"{name}\": {why}; not started");
                    if let Some(inst) = inst {
                        inst.state = InstanceState::Stopped;
                    }
                }
            }
            return;
        }
        let version = tunnel.settings.version.unwrap_or(cfg::L2tpVersion::V3);
        let tdebug = tunnel.debug;
        let s = &resolved.settings;
        let call = match s.session_type {
            None | Some(cfg::SessionType::Laic) => CallType::Incoming,
            Some(cfg::SessionType::Lnoc) => CallType::Outgoing,
            Some(t @ (cfg::SessionType::Laoc | cfg::SessionType::Lnic)) => {
                if version == cfg::L2tpVersion::V2 {
                    tracing::info!(
                        "session \"{name}\": session_type {t}: the peer places this call; \
                         waiting for it"
                    );
                    return;
                }
                CallType::Incoming
            }
        };
        let mut config = translate::session_config(s, &resolved.pseudowire, ctx.config.system());
        config.local_id = resolved.session_id;
        let pw_type = config.pw_type;
        let handle = ctx.registry.next_handle();
        let open = Command::OpenSession {
            tunnel_id: tid,
            handle: SessionHandle(handle),
            call,
            config: std::sync::Arc::new(config),
        };
        let sid = match ctx.protocol.command(ctx.now, open) {
            Ok(CommandOutcome::Session { session_id, .. }) => session_id,
            other => {
                let error = other.err();
                let why = error.map_or_else(|| "no session id".to_owned(), |e| e.to_string());
                let cap = session_cap(ctx.config);
                let jitter = self.jitter();
                if let Some(inst) = self.sessions.get_mut(name) {
                    let wait = inst.schedule_retry(ctx.now, cap, jitter);
                    let log = inst.note_failure(error.as_ref());
                    self.retry(ctx.now + wait, InstanceKind::Session, name);
                    if log {
                        tracing::warn!(
                            "session \"{name}\": cannot place the call: {why}; retrying in {}{}",
                            secs(wait),
                            once_note(error.as_ref())
                        );
                    }
                }
                return;
            }
        };
        ctx::trace(
            s.debug || tdebug,
            format_args!(
                "session \"{name}\" (tid {tid} sid {sid}): placing {call:?} call (profile \
                 \"{}\", pseudowire profile \"{}\")",
                resolved.profile, resolved.pseudowire_profile
            ),
        );
        let ids = SessionIds {
            tid,
            sid,
            peer_tid: 0,
            peer_sid: 0,
        };
        add_session(
            ctx,
            handle,
            (th, ids),
            (created_by, name),
            &resolved,
            pw_type,
            None,
        );
        if let Some(rec) = ctx.registry.session_mut(handle) {
            rec.lac_speed_updates = call == CallType::Incoming && s.connect_speed_updates;
        }
        if let Some(inst) = self.sessions.get_mut(name) {
            inst.state = InstanceState::Running { handle };
            inst.id_in_use = None;
        }
    }

    /// Removes tunnel instance `name` (reload: its block was removed, or changed in the new
    /// config) and closes its tunnel.
    pub(super) fn remove_tunnel(&mut self, ctx: &mut Ctx<'_>, name: &str, why: Removal<'_>) {
        if let Some(inst) = self.tunnels.remove(name)
            && let Some(h) = inst.state.handle()
        {
            match why {
                Removal::Removed => notice!("tunnel \"{name}\": removed; closing it"),
                Removal::ChangedIn(config) => {
                    let changes = config
                        .resolve_tunnel(name)
                        .map(|new| cfg::tunnel_changes(&inst.resolved, &new))
                        .unwrap_or_default();
                    notice!(
                        "tunnel \"{name}\": {}; closing it to open it again",
                        cfg::describe_changes(&changes)
                    );
                }
            }
            super::super::ppp::end_tunnel(ctx, h, ppp_proto::CloseReason::Reconfigured);
        }
    }

    /// Removes session instance `name` (reload: its block was removed, or changed in the new
    /// config) and disconnects its session.
    pub(super) fn remove_session(&mut self, ctx: &mut Ctx<'_>, name: &str, why: Removal<'_>) {
        if let Some(inst) = self.sessions.remove(name)
            && let Some(h) = inst.state.handle()
        {
            match why {
                Removal::Removed => notice!("session \"{name}\": removed; disconnecting it"),
                Removal::ChangedIn(config) => {
                    let changes = config
                        .resolve_session(name)
                        .map(|new| cfg::session_changes(&inst.resolved, &new))
                        .unwrap_or_default();
                    notice!(
                        "session \"{name}\": {}; disconnecting it to place it again",
                        cfg::describe_changes(&changes)
                    );
                }
            }
            super::super::ppp::end_session(ctx, h, ppp_proto::CloseReason::Reconfigured);
        }
    }
}

/// What a failure's log line adds when it is logged once: a fixed id in use.
fn once_note(error: Option<&CommandError>) -> &'static str {
    match error {
        Some(CommandError::IdInUse(_)) => " (not logged again while it stays in use)",
        _ => "",
    }
}
