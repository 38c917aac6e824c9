//! Static (unmanaged) L2TPv3 tunnels and sessions: a `tunnel` with `peer_tunnel_id` and its
//! `session`s with `peer_session_id`, as `ip l2tp add tunnel/session` makes them. There is no
//! control connection (RFC 3931 §3.1 allows the data channel to be set up by manual
//! configuration): no SCCRQ, no HELLO, no CDN. The tunnel and its sessions are up as soon as
//! they are started, and go down only by command, reload or shutdown.
//!
//! They live in the adapter's own tables, not in the protocol engine. To keep one path for
//! events, scripts, data-plane requests and views, the adapter feeds itself the events the
//! engine would have emitted for a managed tunnel ([`ProtoEngine::on_event`]).

use std::net::SocketAddr;
use std::time::Instant;

use l2tp_config as cfg;
use l2tp_ctl as ctl;
use l2tp_proto::event::{DownCause, DownReason, Origin as POrigin, SessionParams, TunnelParams};
use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};
use l2tp_proto::wire::result::result_code::{cdn, stop_ccn};
use l2tp_proto::{DataplaneRequest as PReq, Event as PEvent, SessionHandle, TunnelHandle};

use super::{ProtoEngine, SessionIds, TunnelRec, cookie, encap_of, transport_of};
use crate::notice;

/// The local and peer addresses of a static tunnel.
#[derive(Clone, Copy, Debug)]
pub(super) struct StaticTunnel {
    pub(super) local: SocketAddr,
    pub(super) remote: SocketAddr,
}

impl ProtoEngine {
    /// Whether the tunnel or session with this handle is static.
    pub(super) fn is_static(&self, handle: u64) -> bool {
        self.statics.contains_key(&handle) || self.static_sessions.contains(&handle)
    }

    /// Starts static tunnel instance `name`, then its sessions.
    pub(super) fn start_static_tunnel(&mut self, now: Instant, name: &str) {
        let Some(inst) = self.tunnel_instances.get(name) else {
            return;
        };
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        // The config checks make both ids present on a static tunnel.
        let (Some(tid), Some(peer_tid)) = (resolved.tunnel_id, resolved.peer_tunnel_id) else {
            return;
        };
        let fail = |this: &mut Self, why: String| {
            tracing::error!("static tunnel \"{name}\": {why}; not started");
            if let Some(inst) = this.tunnel_instances.get_mut(name) {
                inst.stopped = true;
            }
        };
        if self.by_tid.contains_key(&tid) {
            return fail(self, format!("tunnel_id {tid} is in use"));
        }
        let remote = match Self::peer_addr(&resolved) {
            Ok(r) => r,
            Err(e) => return fail(self, e),
        };
        let local = self.local_for(&resolved.settings, remote);
        let s = &resolved.settings;
        let handle = self.handle();
        let rec = TunnelRec::for_instance(tid, peer_tid, name, created_by, &resolved, now);
        self.statics.insert(handle, StaticTunnel { local, remote });
        self.add_tunnel(handle, rec, transport_of(s.encap), local, remote);
        if let Some(inst) = self.tunnel_instances.get_mut(name) {
            inst.handle = Some(handle);
        }
        notice!("static tunnel \"{name}\" (tid {tid}, peer tid {peer_tid}): {local} -> {remote}");
        let th = TunnelHandle(handle);
        self.on_event(
            now,
            PEvent::TunnelCreated {
                handle: th,
                tunnel_id: tid,
                remote,
                origin: POrigin::Local,
            },
        );
        self.on_event(
            now,
            PEvent::Dataplane(PReq::InstallTunnel(TunnelParams {
                handle: th,
                tunnel_id: tid,
                peer_tunnel_id: peer_tid,
                version: Version::V3,
                encap: encap_of(s.encap),
                local,
                remote,
                udp_checksums: s.use_udp_checksums,
            })),
        );
        self.on_event(
            now,
            PEvent::TunnelUp {
                handle: th,
                tunnel_id: tid,
                peer_tunnel_id: peer_tid,
                version: Version::V3,
            },
        );
        let sessions: Vec<String> = self
            .session_instances
            .iter()
            .filter(|(_, i)| i.resolved.tunnel == name)
            .map(|(n, _)| n.clone())
            .collect();
        for s in sessions {
            self.start_session_instance(now, &s);
        }
    }

    /// Starts static session instance `name` in static tunnel `th` (local id `tid`).
    pub(super) fn start_static_session(&mut self, now: Instant, name: &str, th: u64, tid: u32) {
        let Some(inst) = self.session_instances.get(name) else {
            return;
        };
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let (Some(sid), Some(peer_sid)) = (resolved.session_id, resolved.peer_session_id) else {
            return;
        };
        let Some(peer_tid) = self.tunnels.get(&th).map(|t| t.peer_tid) else {
            return;
        };
        let taken = self.ep.sessions(tid).any(|s| s.session_id == sid)
            || self
                .sessions
                .values()
                .any(|s| s.sid == sid && self.static_sessions.contains(&s.tunnel));
        if taken {
            tracing::error!("static session \"{name}\": session_id {sid} is in use; not started");
            if let Some(inst) = self.session_instances.get_mut(name) {
                inst.stopped = true;
            }
            return;
        }
        let s = &resolved.settings;
        let handle = self.handle();
        let ids = SessionIds {
            tid,
            sid,
            peer_tid,
            peer_sid,
        };
        let pw_type = s.pseudowire_type.number();
        self.add_instance_session(
            now,
            handle,
            (th, ids),
            (created_by, name),
            &resolved,
            pw_type,
        );
        self.static_sessions.insert(handle);
        if let Some(inst) = self.session_instances.get_mut(name) {
            inst.handle = Some(handle);
        }
        notice!("static session \"{name}\" (tid {tid} sid {sid}, peer sid {peer_sid})");
        let sh = SessionHandle(handle);
        self.on_event(
            now,
            PEvent::SessionCreated {
                tunnel: TunnelHandle(th),
                handle: sh,
                tunnel_id: tid,
                session_id: sid,
                origin: POrigin::Local,
            },
        );
        let sequencing = s.data_sequencing != cfg::DataSequencing::None;
        self.on_event(
            now,
            PEvent::Dataplane(PReq::InstallSession(SessionParams {
                handle: sh,
                tunnel_id: tid,
                session_id: sid,
                peer_tunnel_id: peer_tid,
                peer_session_id: peer_sid,
                pw_type: s.pseudowire_type.number(),
                // As for managed sessions (l2tpd.conf(5)): `cookie` is ours, which the peer
                // puts on what it sends; `peer_cookie` is the peer's, which we send. (The
                // reverse of `ip l2tp add session`'s `cookie` and `peer_cookie`.)
                cookie: cookie(s.cookie.as_deref()).unwrap_or_default(),
                peer_cookie: cookie(s.peer_cookie.as_deref()).unwrap_or_default(),
                l2spec: match s.l2spec_type {
                    cfg::L2specType::None => L2SpecificSublayer::None,
                    cfg::L2specType::Default => L2SpecificSublayer::Default,
                },
                send_seq: sequencing,
                recv_seq: sequencing,
                lns: false,
                interface_name: s
                    .interface_name
                    .clone()
                    .or_else(|| resolved.pseudowire.interface_name.clone()),
            })),
        );
        self.on_event(
            now,
            PEvent::SessionUp {
                handle: sh,
                tunnel_id: tid,
                session_id: sid,
                peer_tunnel_id: peer_tid,
                peer_session_id: peer_sid,
            },
        );
    }

    /// Takes a static session down: its events, scripts and data-plane removal, at once.
    pub(super) fn close_static_session(&mut self, now: Instant, handle: u64, cause: DownCause) {
        let Some(rec) = self.sessions.get(&handle) else {
            return;
        };
        let (tid, sid) = (rec.tid, rec.sid);
        self.static_sessions.remove(&handle);
        let sh = SessionHandle(handle);
        let reason = DownReason {
            cause,
            result: cdn::ADMINISTRATIVE,
            error: None,
            message: None,
        };
        self.on_event(
            now,
            PEvent::SessionDown {
                handle: sh,
                tunnel_id: tid,
                session_id: sid,
                reason,
            },
        );
        self.on_event(
            now,
            PEvent::Dataplane(PReq::RemoveSession {
                tunnel_id: tid,
                session_id: sid,
            }),
        );
        self.on_event(
            now,
            PEvent::SessionDeleted {
                handle: sh,
                tunnel_id: tid,
                session_id: sid,
            },
        );
    }

    /// Takes a static tunnel and its sessions down at once.
    pub(super) fn close_static_tunnel(&mut self, now: Instant, handle: u64) {
        let Some(rec) = self.tunnels.get(&handle) else {
            return;
        };
        let (tid, peer_tid) = (rec.tid, rec.peer_tid);
        // Only static sessions live in a static tunnel: no scan of all sessions.
        let sessions: Vec<u64> = self
            .static_sessions
            .iter()
            .filter(|h| self.sessions.get(h).is_some_and(|s| s.tunnel == handle))
            .copied()
            .collect();
        for s in sessions {
            self.close_static_session(now, s, DownCause::TunnelDown);
        }
        let th = TunnelHandle(handle);
        self.on_event(
            now,
            PEvent::TunnelDown {
                handle: th,
                tunnel_id: tid,
                peer_tunnel_id: peer_tid,
                reason: DownReason {
                    cause: DownCause::Local,
                    result: stop_ccn::CLEAR,
                    error: None,
                    message: None,
                },
            },
        );
        self.on_event(
            now,
            PEvent::Dataplane(PReq::RemoveTunnel { tunnel_id: tid }),
        );
        self.on_event(
            now,
            PEvent::TunnelDeleted {
                handle: th,
                tunnel_id: tid,
            },
        );
        self.statics.remove(&handle);
    }

    /// The state, local and peer addresses a view shows for a static tunnel.
    pub(super) fn static_view(&self, rec: &TunnelRec) -> Option<(ctl::State, String, String)> {
        let h = self.by_tid.get(&rec.tid)?;
        let st = self.statics.get(h)?;
        let state = if rec.up && !rec.down {
            ctl::State::Up
        } else {
            ctl::State::Closing
        };
        let encap = encap_of(rec.settings.encap);
        let show = |a: SocketAddr| {
            if encap == Encapsulation::Ip {
                a.ip().to_string()
            } else {
                a.to_string()
            }
        };
        Some((state, show(st.local), show(st.remote)))
    }
}
