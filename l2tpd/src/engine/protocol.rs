//! The protocol side of the engine: `l2tp_proto`'s [`Endpoint`] with its clock, and the events
//! that static tunnels stand in for.
//!
//! Static tunnels (`peer_tunnel_id`) have no control connection, so the endpoint never sees
//! them; [`Protocol::synthesize`] queues the events the endpoint would have emitted for a
//! managed tunnel, and [`Protocol::poll_event`] yields them after the endpoint's own, so that
//! records, events, scripts, data-plane requests and views take one path for both.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use l2tp_proto::wire::header::{Encapsulation, HeaderError, Packet};
use l2tp_proto::wire::result::result_code::{cdn, stop_ccn};
use l2tp_proto::{
    self as proto, Command, CommandError, CommandOutcome, DataplaneRequest, Decision, DecisionId,
    DownCause, DownReason, Endpoint, EndpointConfig, Event, Refusal, SessionConfig, SessionHandle,
    TunnelConfig, TunnelHandle,
};

use super::clock::Clock;

/// The endpoint, its clock, and the stand-in events of static tunnels.
#[derive(Debug)]
pub(super) struct Protocol {
    ep: Endpoint,
    clock: Clock,
    synthetic: VecDeque<Event>,
}

impl Protocol {
    /// An endpoint with no tunnels whose clock starts at `now`. The daemon applies the tunnel
    /// and session limits itself (a reload can change them), so the endpoint has none.
    pub(super) fn new(now: Instant, rng: Box<dyn proto::Rng + Send>) -> Self {
        let config = EndpointConfig {
            max_tunnels: 0,
            max_sessions: 0,
            ..EndpointConfig::default()
        };
        Self {
            ep: Endpoint::new(config, rng),
            clock: Clock::new(now),
            synthetic: VecDeque::new(),
        }
    }

    /// The clock the endpoint's instants count from.
    pub(super) fn clock(&self) -> Clock {
        self.clock
    }

    /// The endpoint, to read.
    pub(super) fn ep(&self) -> &Endpoint {
        &self.ep
    }

    /// The set-up limits of the `system` block.
    pub(super) fn set_setup_limits(&mut self, max_setup_tunnels: u32, peer_setup_rate: u32) {
        self.ep.set_setup_limits(
            usize::try_from(max_setup_tunnels).unwrap_or(usize::MAX),
            peer_setup_rate,
        );
    }

    /// A local command.
    pub(super) fn command(
        &mut self,
        now: Instant,
        command: Command,
    ) -> Result<CommandOutcome, CommandError> {
        self.ep.handle_command(self.clock.to_proto(now), command)
    }

    /// Opens a tunnel; returns its local id.
    pub(super) fn open_tunnel(
        &mut self,
        now: Instant,
        handle: u64,
        config: TunnelConfig,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<u32, CommandError> {
        let open = Command::OpenTunnel {
            handle: TunnelHandle(handle),
            config: std::sync::Arc::new(config),
            local,
            remote,
        };
        match self.command(now, open)? {
            CommandOutcome::Tunnel(tid) => Ok(tid),
            // The endpoint answers an OpenTunnel with its tunnel or an error: not reached.
            _ => Err(CommandError::NoFreeId),
        }
    }

    /// Closes tunnel `tid` (StopCCN).
    pub(super) fn close_tunnel(&mut self, now: Instant, tid: u32) {
        // An unknown tunnel has gone already.
        let _ = self.command(now, Command::CloseTunnel { tunnel_id: tid });
    }

    /// Closes tunnel `tid` as the daemon stops: StopCCN result 6.
    pub(super) fn shut_down_tunnel(&mut self, now: Instant, tid: u32) {
        // An unknown tunnel has gone already.
        let _ = self.command(now, Command::ShutDownTunnel { tunnel_id: tid });
    }

    /// Removes tunnel `tid`, which the peer has forgotten, without a StopCCN or CDN; `why` is
    /// the local reason.
    pub(super) fn forget_tunnel(&mut self, now: Instant, tid: u32, why: String) {
        // An unknown tunnel has gone already.
        let _ = self.command(
            now,
            Command::ForgetTunnel {
                tunnel_id: tid,
                why,
            },
        );
    }

    /// Sends tunnel `tid` a HELLO now unless it already waits on an acknowledgement
    /// ([`Command::ProbeTunnel`]); `None` for a tunnel closing or gone.
    pub(super) fn probe_tunnel(&mut self, now: Instant, tid: u32) -> Option<proto::Probe> {
        match self.command(now, Command::ProbeTunnel { tunnel_id: tid }) {
            Ok(CommandOutcome::Probed(probe)) => Some(probe),
            _ => None,
        }
    }

    /// Disconnects session `sid` of tunnel `tid` (CDN).
    pub(super) fn close_session(&mut self, now: Instant, tid: u32, sid: u32) {
        let close = Command::CloseSession {
            tunnel_id: tid,
            session_id: sid,
        };
        // An unknown session has gone already.
        let _ = self.command(now, close);
    }

    /// Accepts the peer's SCCRQ `id` with `config`; returns the tunnel's local id.
    pub(super) fn accept_tunnel(
        &mut self,
        now: Instant,
        id: DecisionId,
        handle: u64,
        config: TunnelConfig,
    ) -> Result<u32, CommandError> {
        let t = self.clock.to_proto(now);
        self.ep
            .accept_tunnel(t, id, TunnelHandle(handle), std::sync::Arc::new(config))
    }

    /// Refuses the peer's SCCRQ `id` (StopCCN).
    pub(super) fn reject_tunnel(&mut self, now: Instant, id: DecisionId, refusal: Refusal) {
        // A request that timed out meanwhile is gone already.
        let _ = self.ep.reject_tunnel(self.clock.to_proto(now), id, refusal);
    }

    /// Accepts the peer's call `id` with `config`.
    pub(super) fn accept_session(
        &mut self,
        now: Instant,
        id: DecisionId,
        handle: u64,
        config: std::sync::Arc<SessionConfig>,
    ) -> Result<(), CommandError> {
        let t = self.clock.to_proto(now);
        self.ep
            .accept_session(t, id, SessionHandle(handle), config)
            .map(|_| ())
    }

    /// Refuses the peer's call `id` (CDN).
    pub(super) fn reject_session(&mut self, now: Instant, id: DecisionId, refusal: Refusal) {
        // A request that timed out meanwhile is gone already.
        let _ = self
            .ep
            .reject_session(self.clock.to_proto(now), id, refusal);
    }

    /// A control message (or anything else) that arrived on one of the daemon's sockets,
    /// classified once by [`Packet::parse`].
    pub(super) fn handle_packet(
        &mut self,
        now: Instant,
        (local, remote): (SocketAddr, SocketAddr),
        encap: Encapsulation,
        packet: Result<Packet<'_>, HeaderError>,
    ) {
        let t = self.clock.to_proto(now);
        self.ep.handle_packet(t, local, remote, encap, packet);
    }

    /// The endpoint's timers.
    pub(super) fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(self.clock.to_proto(now));
    }

    /// Queues an event that the endpoint would have emitted for a managed tunnel (static
    /// tunnels).
    pub(super) fn synthesize(&mut self, event: Event) {
        self.synthetic.push_back(event);
    }

    /// Queues what the endpoint would emit when a session goes down and is deleted: for a
    /// static session, which has no CDN to send.
    pub(super) fn static_session_down(
        &mut self,
        handle: u64,
        (tid, sid): (u32, u32),
        cause: DownCause,
    ) {
        let handle = SessionHandle(handle);
        let reason = DownReason {
            cause,
            result: cdn::ADMINISTRATIVE,
            error: None,
            message: None,
        };
        self.synthesize(Event::SessionDown {
            handle,
            tunnel_id: tid,
            session_id: sid,
            reason,
        });
        self.synthesize(Event::Dataplane(DataplaneRequest::RemoveSession {
            tunnel_id: tid,
            session_id: sid,
        }));
        self.synthesize(Event::SessionDeleted {
            handle,
            tunnel_id: tid,
            session_id: sid,
        });
    }

    /// Queues what the endpoint would emit when a tunnel is closed and deleted: for a static
    /// tunnel (its sessions first, with [`Protocol::static_session_down`]).
    pub(super) fn static_tunnel_down(&mut self, handle: u64, tid: u32, peer_tid: u32) {
        let handle = TunnelHandle(handle);
        self.synthesize(Event::TunnelDown {
            handle,
            tunnel_id: tid,
            peer_tunnel_id: peer_tid,
            reason: DownReason {
                cause: DownCause::Local,
                result: stop_ccn::CLEAR,
                error: None,
                message: None,
            },
        });
        self.synthesize(Event::Dataplane(DataplaneRequest::RemoveTunnel {
            tunnel_id: tid,
        }));
        self.synthesize(Event::TunnelDeleted {
            handle,
            tunnel_id: tid,
        });
    }

    /// The next event: the endpoint's, then the synthesized ones.
    pub(super) fn poll_event(&mut self) -> Option<Event> {
        self.ep.poll_event().or_else(|| self.synthetic.pop_front())
    }

    /// The next request for a decision.
    pub(super) fn poll_decision(&mut self) -> Option<Decision> {
        self.ep.poll_decision()
    }

    /// The next datagram to send.
    pub(super) fn poll_transmit(&mut self) -> Option<proto::Transmit> {
        self.ep.poll_transmit()
    }

    /// When the endpoint's timers are next due.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.ep.poll_timeout().map(|t| self.clock.to_std(t))
    }

    /// The protocol's view of session `handle` numbered (`tid`, `sid`); a session renumbered
    /// without an event is still found, by a scan of its tunnel.
    pub(super) fn session_info(
        &self,
        handle: u64,
        tid: u32,
        sid: u32,
    ) -> Option<proto::SessionInfo> {
        self.ep
            .session(tid, sid)
            .filter(|s| s.handle == SessionHandle(handle))
            .or_else(|| {
                self.ep
                    .sessions(tid)
                    .find(|s| s.handle == SessionHandle(handle))
            })
    }
}
