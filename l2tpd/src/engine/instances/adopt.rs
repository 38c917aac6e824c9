//! Tie breaking between an instance and the peer: the peer's SCCRQ or call that an instance
//! takes as its own (RFC 3931 §5.4.3 and §5.4.4, RFC 2661 §4.4.3), so that two ends configured
//! alike meet on one control connection and one session.

use l2tp_config as cfg;
use l2tp_proto as proto;

use super::super::ctx::Ctx;
use super::super::registry::{CallFacts, Registry, SessionIds, TunnelRec};
use super::super::translate;
use super::{FIRST_RETRY, Instances, add_session};
use crate::notice;

impl Instances {
    /// The tunnel instance that the peer's SCCRQ `req` can serve: one for that peer address
    /// and encapsulation without a tunnel up (its own attempt lost the tie breaker to this
    /// SCCRQ, RFC 3931 §5.4.3 and RFC 2661 §4.4.3, or waits to try again), so that the two
    /// ends share one control connection and their sessions meet on it.
    pub(in crate::engine) fn peer_instance(
        &self,
        registry: &Registry,
        req: &proto::TunnelRequest,
    ) -> Option<String> {
        self.tunnels
            .iter()
            .find(|(_, inst)| {
                let t = &inst.resolved;
                !inst.state.is_stopped()
                    && !t.is_static()
                    && t.peers
                        .iter()
                        .any(|p| matches!(p.host, cfg::Host::Ip(ip) if ip == req.remote.ip()))
                    && translate::encap(t.settings.encap) == req.encap
                    && inst
                        .state
                        .handle()
                        .is_none_or(|h| registry.tunnel(h).is_none_or(|r| !r.phase().was_up()))
            })
            .map(|(name, _)| name.clone())
    }

    /// Accepts the peer's SCCRQ `req` as tunnel instance `name`'s tunnel, with the instance's
    /// settings, and places the instance's calls in it.
    pub(in crate::engine) fn adopt_tunnel(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        req: &proto::TunnelRequest,
    ) {
        let Some(inst) = self.tunnels.get(name) else {
            return;
        };
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let config = translate::tunnel_config(&resolved.settings, ctx.config.system(), ctx.facts);
        let what = format!("as tunnel \"{name}\"");
        let Some((handle, tid)) = ctx.accept_peer_tunnel(req, config, &what) else {
            return;
        };
        notice!(
            "tunnel \"{name}\": the tunnel {} opened (tid {tid}) is this tunnel now",
            req.remote
        );
        let mut rec = TunnelRec::for_instance(tid, name, created_by, &resolved, ctx.now);
        rec.set_peer_host(&req.host_name);
        ctx.add_tunnel(handle, rec, req.encap, (req.local, req.remote));
        if let Some(inst) = self.tunnels.get_mut(name) {
            inst.runs(handle);
        }
        // The instance's calls move here; those in its lost tunnel go down with it.
        let sessions = self.sessions_of(name);
        for s in &sessions {
            if let Some(i) = self.sessions.get_mut(s) {
                i.state = i.state.released();
                i.backoff = FIRST_RETRY;
            }
        }
        for s in sessions {
            self.start_session(ctx, &s);
        }
    }

    /// The session instance of tunnel `th`'s instance that the peer's call `req` is for: one
    /// with the same `remote_end_id` (RFC 3931 §5.4.4: the End ID names the circuit) and the
    /// same pseudowire type, whose own call is not up (it lost a tie breaker to this call, or
    /// waits to try again).
    pub(in crate::engine) fn circuit_instance(
        &self,
        registry: &Registry,
        th: u64,
        req: &proto::SessionRequest,
    ) -> Option<String> {
        let end_id = req.remote_end_id.as_deref().filter(|e| !e.is_empty())?;
        let tunnel = registry.tunnel(th)?.origin.name.as_deref()?;
        self.sessions
            .iter()
            .find(|(_, inst)| {
                let s = &inst.resolved.settings;
                inst.resolved.tunnel == tunnel
                    && !inst.state.is_stopped()
                    && s.remote_end_id.as_ref().map(|r| r.as_bytes()) == Some(end_id)
                    && s.pseudowire_type.number() == req.pw_type
                    && inst
                        .state
                        .handle()
                        .is_none_or(|h| registry.session(h).is_none_or(|r| !r.phase().was_up()))
            })
            .map(|(name, _)| name.clone())
    }

    /// Accepts the peer's call `req` as session instance `name`'s session, with the instance's
    /// settings; the instance's own call, if any, is left to go (the peer refuses it).
    pub(in crate::engine) fn adopt_call(
        &mut self,
        ctx: &mut Ctx<'_>,
        th: u64,
        name: &str,
        req: &proto::SessionRequest,
    ) {
        let Some(inst) = self.sessions.get(name) else {
            return;
        };
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let config = translate::session_config(
            &resolved.settings,
            &resolved.pseudowire,
            ctx.config.system(),
        );
        let handle = ctx.registry.next_handle();
        let accepted =
            ctx.protocol
                .accept_session(ctx.now, req.id, handle, std::sync::Arc::new(config));
        if let Err(e) = accepted {
            tracing::warn!("tunnel {}: cannot accept a session: {e}", req.tunnel_id);
            return;
        }
        notice!(
            "session \"{name}\": the peer's call for the same circuit (tid {} sid {}) is this \
             session now",
            req.tunnel_id,
            req.session_id
        );
        let ids = SessionIds {
            tid: req.tunnel_id,
            sid: req.session_id,
            peer_tid: 0,
            peer_sid: req.peer_session_id,
        };
        add_session(
            ctx,
            handle,
            (th, ids),
            (created_by, name),
            &resolved,
            req.pw_type,
            CallFacts::of_request(req),
        );
        let Some(inst) = self.sessions.get_mut(name) else {
            return;
        };
        let own = inst.state.handle();
        inst.runs(handle);
        // The instance's own call: one that lost the tie breaker is refused by the peer; one
        // still waiting for its tunnel is withdrawn before it is placed.
        if let Some(rec) = own.and_then(|h| ctx.registry.session(h))
            && ctx
                .protocol
                .ep()
                .session(rec.tid(), rec.sid())
                .is_some_and(|i| i.state == proto::SessionState::WaitTunnel)
        {
            let (tid, sid) = (rec.tid(), rec.sid());
            ctx.protocol.close_session(ctx.now, tid, sid);
        }
    }
}
