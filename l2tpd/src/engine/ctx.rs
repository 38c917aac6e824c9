//! [`Ctx`]: the parts of the engine that an operation on tunnels and sessions touches, borrowed
//! together for the length of one input, so that the supervisor of instances, the handlers of
//! protocol events and the commands can be functions of their own types rather than methods of
//! one engine object.

use std::net::SocketAddr;
use std::time::Instant;

use l2tp_config::Config;
use l2tp_proto::wire::header::Encapsulation;
use l2tp_proto::{self as proto, DownCause, Refusal, TunnelConfig};

use super::api::HostFacts;
use super::names::Names;
use super::notify::Outbox;
use super::protocol::Protocol;
use super::registry::{Control, Registry, TunnelRec};
use crate::dataplane::{SocketChange, SocketRequest};
use crate::notice;

/// One input's view of the engine.
#[derive(Debug)]
pub(super) struct Ctx<'a> {
    pub(super) now: Instant,
    pub(super) protocol: &'a mut Protocol,
    pub(super) registry: &'a mut Registry,
    pub(super) names: &'a mut Names,
    pub(super) out: &'a mut Outbox,
    pub(super) ppp: &'a mut super::ppp::state::Ppp,
    /// The log-line budgets of the tunnels' sessions.
    pub(super) lines: &'a mut super::lines::SessionLines,
    pub(super) config: &'a Config,
    pub(super) facts: &'a HostFacts,
    pub(super) shutting_down: bool,
}

impl Ctx<'_> {
    /// Records tunnel `rec` under `handle` and asks the shell for its own socket (over UDP
    /// always; over IP the shell opens one where the kernel has L2TP/IP sockets).
    pub(super) fn add_tunnel(
        &mut self,
        handle: u64,
        mut rec: TunnelRec,
        encap: Encapsulation,
        (local, remote): (SocketAddr, SocketAddr),
    ) {
        rec.socket = Some((local, remote));
        let tid = rec.tid();
        if encap == Encapsulation::Udp {
            let others = self.registry.live_same_peer(handle, (local, remote));
            if !others.is_empty() {
                // Several tunnels of ours to one peer are our own doing (a LAC with tunnels
                // for several config_ids, or a tunnel opened again while the last one's
                // StopCCN is retransmitted); only tunnels that peers open hint at a NAT.
                let why = if rec.origin.created_by == l2tp_ctl::CreatedBy::Net {
                    "from the same address and port already (several clients behind one NAT?)"
                } else {
                    "to the same address and port already"
                };
                tracing::info!(
                    "tunnel {tid}: the peer {remote} has tunnel(s) {} {why}",
                    crate::logging::id_list(&others)
                );
            }
        }
        // A tunnel the peer opened knows the peer's tunnel id from its SCCRQ already.
        let info = self.protocol.ep().tunnel(tid);
        let request = SocketRequest {
            tid,
            encap,
            local,
            remote,
            peer_tid: info.as_ref().map_or(0, |t| t.peer_tunnel_id),
            version: info.map_or(proto::wire::Version::V2, |t| t.version),
        };
        self.registry.insert_tunnel(handle, rec);
        self.out.socket(SocketChange::Open(request));
    }

    /// Opens tunnel `handle`'s socket again when the peer answered our SCCRQ from another
    /// address or port than the one dialled (RFC 2661 §8.1), which the protocol sends to from
    /// then on (`info.remote`): the socket was connected to the one dialled, and would send
    /// the SCCCN and everything after it there.
    pub(super) fn follow_peer(&mut self, handle: u64, info: &proto::TunnelInfo) {
        let Some(rec) = self.registry.tunnel_mut(handle) else {
            return;
        };
        let Some((local, dialled)) = rec.socket else {
            return;
        };
        if dialled == info.remote {
            return;
        }
        notice!(
            "tunnel {}: the peer answered from {}, not {dialled}: talking to it there",
            info.tunnel_id,
            info.remote
        );
        rec.socket = Some((local, info.remote));
        self.out.socket(SocketChange::Open(SocketRequest {
            tid: info.tunnel_id,
            encap: info.encap,
            local,
            remote: info.remote,
            peer_tid: info.peer_tunnel_id,
            version: info.version,
        }));
    }

    /// Accepts the peer's SCCRQ `req` with `config` (over IP, as L2TPv3); on failure, logs why
    /// (`what`: how it was to be accepted) and refuses it. Returns the tunnel's handle and id.
    pub(super) fn accept_peer_tunnel(
        &mut self,
        req: &proto::TunnelRequest,
        mut config: TunnelConfig,
        what: &str,
    ) -> Option<(u64, u32)> {
        config.encap = req.encap;
        if req.encap == Encapsulation::Ip {
            config.version = proto::VersionMode::V3;
        }
        let handle = self.registry.next_handle();
        match self
            .protocol
            .accept_tunnel(self.now, req.id, handle, config)
        {
            Ok(tid) => Some((handle, tid)),
            Err(e) => {
                tracing::warn!("tunnel from {}: cannot accept {what}: {e}", req.remote);
                self.protocol
                    .reject_tunnel(self.now, req.id, Refusal::not_authorized());
                None
            }
        }
    }

    /// Closes the tunnel with this handle: a StopCCN for a managed one, at once for a static
    /// one.
    pub(super) fn close_tunnel(&mut self, handle: u64) {
        let Some(rec) = self.registry.tunnel(handle) else {
            return;
        };
        let (tid, peer_tid) = (rec.tid(), rec.peer_tid);
        match rec.control {
            // The peer learns why (RFC 2661 §4.4.2 result 6) rather than a general request.
            Control::Managed if self.shutting_down => {
                self.protocol.shut_down_tunnel(self.now, tid);
            }
            Control::Managed => self.protocol.close_tunnel(self.now, tid),
            Control::Static { .. } => {
                for (h, ids) in self.registry.static_sessions_of(handle) {
                    self.registry.forget_static_session(h);
                    self.protocol
                        .static_session_down(h, ids, DownCause::TunnelDown);
                }
                self.protocol.static_tunnel_down(handle, tid, peer_tid);
            }
        }
    }

    /// Disconnects the session with this handle: a CDN for a managed one, at once for a static
    /// one.
    pub(super) fn close_session(&mut self, handle: u64) {
        let Some(rec) = self.registry.session(handle) else {
            return;
        };
        let (tid, sid) = (rec.tid(), rec.sid());
        if rec.is_static {
            self.registry.forget_static_session(handle);
            self.protocol
                .static_session_down(handle, (tid, sid), DownCause::Local);
        } else {
            self.protocol.close_session(self.now, tid, sid);
        }
    }
}

/// The message of the CDN of a session whose data path could not be set up: the peer learns
/// that much, not which interface or setting of this host failed.
pub(super) const DATA_PATH_SETUP_FAILED: &str = "data path set-up failed";

impl Ctx<'_> {
    /// Disconnects the session with this handle because the data plane could not set it up
    /// (`why`, for the local log): a CDN with result 4, lack of facilities (a temporary
    /// condition: the instance tries again), and [`DATA_PATH_SETUP_FAILED`] (RFC 2661 §4.4.2,
    /// RFC 3931 §5.4.2), at once for a static session; counted as a session that failed to come
    /// up.
    pub(super) fn fail_session(&mut self, handle: u64, why: String) {
        self.registry.session_data_path_failed(handle);
        let Some(rec) = self.registry.session(handle) else {
            return;
        };
        if rec.is_static {
            return self.close_session(handle);
        }
        let command = proto::Command::EndSession {
            tunnel_id: rec.tid(),
            session_id: rec.sid(),
            refusal: Refusal::with(
                proto::wire::result::result_code::cdn::NO_FACILITIES_TEMPORARY,
                DATA_PATH_SETUP_FAILED,
            ),
            why,
        };
        // A session that is gone already needs no CDN.
        let _ = self.protocol.command(self.now, command);
    }
}

/// Logs at notice level when `debug` is set for the tunnel or session, else at debug.
pub(super) fn trace(debug: bool, msg: std::fmt::Arguments<'_>) {
    if debug {
        notice!("{msg}");
    } else {
        tracing::debug!("{msg}");
    }
}
