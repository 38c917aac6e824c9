//! The endpoint: one L2TP engine instance holding every tunnel and session, the demultiplexer
//! for received control messages, admission of new tunnels, and the timer heap.
//!
//! The shape is quinn-proto's: a deterministic state machine driven by the caller.
//!
//! - Inputs: [`Endpoint::handle_datagram`], [`Endpoint::handle_command`], the decision answers
//!   ([`Endpoint::accept_tunnel`], [`Endpoint::reject_tunnel`], [`Endpoint::accept_session`],
//!   [`Endpoint::reject_session`]) and [`Endpoint::handle_timeout`], each with the current time.
//! - Outputs: [`Endpoint::poll_transmit`], [`Endpoint::poll_event`], [`Endpoint::poll_decision`]
//!   and [`Endpoint::poll_timeout`]. After any input, drain the first three and re-arm a timer
//!   for the fourth.
//!
//! Demultiplexing (RFC 2661 §3.1, RFC 3931 §3.2): a control message with a non-zero tunnel /
//! control connection id goes to that tunnel by `O(1)` hash lookup. One with id 0 must be an
//! SCCRQ; it is matched by (peer address, the peer's assigned id) so that retransmitted SCCRQs
//! reach the tunnel they already created instead of creating a second one. Sessions are found
//! by (tunnel id, session id) in L2TPv2 and by session id in L2TPv3 (whose ids are unique per
//! endpoint, as L2TPv3 data over IP carries only the session id).
//!
//! Data packets are not handled here: the data plane (kernel or userspace) takes them; the
//! engine only counts any it is handed.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::event::{
    Command, CommandError, CommandOutcome, Decision, DecisionId, Event, Refusal, SessionHandle,
    SessionInfo, Stats, Transmit, TunnelHandle, TunnelInfo,
};
use crate::guard::Discard;
use crate::rng::Rng;
use crate::seq::Seq;
use crate::session::{Session, SessionConfig, v2_key};
use crate::slab::Slab;
use crate::time::Instant;
use crate::timer::{Owner, TimerHeap};
use crate::tunnel::{Tunnel, TunnelConfig, TunnelState};
use crate::wire::header::{ControlHeader, Encapsulation, Packet, Version};
use crate::wire::message::{Message, MessageType};

/// Endpoint-wide settings.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Most tunnels; 0: no limit. An SCCRQ beyond it is refused with StopCCN result 2, error 4.
    pub max_tunnels: usize,
    /// Most sessions over all tunnels; 0: no limit. Beyond it: CDN result 2, error 4.
    pub max_sessions: usize,
    /// How long a [`Decision`] may stay unanswered before the request is dropped.
    pub decision_timeout: Duration,
    /// Used for refusing SCCRQs before a profile is chosen (timers and windows only).
    pub default_tunnel: Arc<TunnelConfig>,
    /// Used for an incoming ICRQ/OCRQ until the caller's decision supplies the real profile.
    pub default_session: Arc<SessionConfig>,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            max_tunnels: 0,
            max_sessions: 0,
            decision_timeout: Duration::from_secs(30),
            default_tunnel: Arc::new(TunnelConfig::default()),
            default_session: Arc::new(SessionConfig::default()),
        }
    }
}

/// The engine. See the [module documentation](self).
pub struct Endpoint {
    pub(crate) config: EndpointConfig,
    pub(crate) rng: Box<dyn Rng + Send>,
    pub(crate) tunnels: Slab<Tunnel>,
    pub(crate) sessions: Slab<Session>,
    /// Local tunnel / control connection id → tunnel.
    pub(crate) tunnel_ids: HashMap<u32, u32>,
    /// (peer address, peer's assigned id) → tunnel created by that SCCRQ.
    pub(crate) peer_requests: HashMap<(SocketAddr, u32), u32>,
    /// (peer IP, encapsulation) → our tunnel in wait-ctl-reply to it, for tie breaking: a
    /// tunnel over UDP and one over IP are different control connections.
    pub(crate) initiating: HashMap<(IpAddr, Encapsulation), u32>,
    /// L2TPv2 (tunnel id, session id) → session.
    pub(crate) v2_sessions: HashMap<u32, u32>,
    /// L2TPv3 session id → session.
    pub(crate) v3_sessions: HashMap<u32, u32>,
    /// (tunnel, End ID) → our call for that circuit, for session tie breaking
    /// (RFC 3931 §5.4.4); only calls of configured End IDs are in it.
    pub(crate) calling_circuits: HashMap<(u32, Vec<u8>), u32>,
    pub(crate) timers: TimerHeap,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) decisions: VecDeque<Decision>,
    pub(crate) stats: Stats,
    pub(crate) next_serial: u32,
    /// The cap on tunnels in set-up and the per-peer SCCRQ rate.
    pub(crate) admission: crate::guard::Admission,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("tunnels", &self.tunnels.len())
            .field("sessions", &self.sessions.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint with no tunnels. `rng` supplies every random value the engine needs.
    pub fn new(config: EndpointConfig, rng: Box<dyn Rng + Send>) -> Self {
        Self {
            config,
            rng,
            tunnels: Slab::new(),
            sessions: Slab::new(),
            tunnel_ids: HashMap::new(),
            peer_requests: HashMap::new(),
            initiating: HashMap::new(),
            v2_sessions: HashMap::new(),
            v3_sessions: HashMap::new(),
            calling_circuits: HashMap::new(),
            timers: TimerHeap::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            decisions: VecDeque::new(),
            stats: Stats::default(),
            next_serial: 0,
            admission: crate::guard::Admission::default(),
        }
    }

    /// Processes a datagram received on `local` from `remote` with encapsulation `encap`
    /// (over IP: starting with the 4-octet session id, which is 0 for control messages).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        encap: Encapsulation,
        datagram: &[u8],
    ) {
        self.handle_packet(now, local, remote, encap, Packet::parse(datagram, encap));
    }

    /// As [`Endpoint::handle_datagram`], for a datagram the caller has classified already with
    /// [`Packet::parse`] (to hand data packets to a data plane first): the header is not read
    /// twice.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        encap: Encapsulation,
        packet: Result<Packet<'_>, crate::wire::header::HeaderError>,
    ) {
        let (header, message, body) = match packet {
            Ok(Packet::Control {
                header,
                message,
                body,
            }) => (header, message, body),
            Ok(_) => {
                self.stats.malformed.data += 1;
                self.discard(remote, 0, Discard::Data);
                return;
            }
            Err(e) => {
                self.stats.malformed.header += 1;
                self.discard(remote, 0, Discard::Header(e));
                return;
            }
        };
        if header.tunnel_id == 0 {
            match crate::wire::avp::message_type(body) {
                Some(MessageType::Sccrq) => {
                    self.new_sccrq(now, local, remote, encap, (header, message, body));
                }
                Some(MessageType::StopCcn)
                    if let Some(index) = self.refused_reply(remote, body) =>
                {
                    self.tunnel_datagram(now, index, remote, header, message, body);
                }
                _ => {
                    self.stats.malformed.unknown_tunnel += 1;
                    self.discard(remote, 0, Discard::NotSccrq);
                }
            }
            return;
        }
        let Some(&index) = self.tunnel_ids.get(&header.tunnel_id) else {
            self.stats.malformed.unknown_tunnel += 1;
            self.discard(remote, 0, Discard::UnknownTunnel(header.tunnel_id));
            return;
        };
        self.tunnel_datagram(now, index, remote, header, message, body);
    }

    /// Carries out a local command.
    ///
    /// # Errors
    ///
    /// [`CommandError`] when the command names no existing tunnel or session, a limit is
    /// reached, or the configuration cannot work.
    pub fn handle_command(
        &mut self,
        now: Instant,
        command: Command,
    ) -> Result<CommandOutcome, CommandError> {
        match command {
            Command::OpenTunnel {
                handle,
                config,
                local,
                remote,
            } => self
                .open_tunnel(now, handle, config, local, remote)
                .map(CommandOutcome::Tunnel),
            Command::CloseTunnel { tunnel_id }
            | Command::ShutDownTunnel { tunnel_id }
            | Command::LoseTunnel { tunnel_id, .. } => {
                use crate::wire::result::result_code::stop_ccn;
                // The peer learns that the data path is gone, not how: `why` names processes,
                // interfaces and kernel objects of this host, and stays in the local reason.
                let (refusal, detail) = match command {
                    Command::LoseTunnel { why, .. } => (
                        Refusal::with(stop_ccn::GENERAL_ERROR, crate::event::DATA_PATH_LOST),
                        Some(why),
                    ),
                    Command::ShutDownTunnel { .. } => {
                        (Refusal::result(stop_ccn::SHUTTING_DOWN), None)
                    }
                    _ => (Refusal::result(stop_ccn::CLEAR), None),
                };
                self.in_tunnel(now, tunnel_id, |ep, index| {
                    let cause = crate::event::DownCause::Local;
                    ep.close_tunnel_noting(now, index, refusal, cause, detail);
                    Ok(CommandOutcome::Done)
                })
            }
            Command::ForgetTunnel { tunnel_id, why } => {
                self.in_tunnel(now, tunnel_id, |ep, index| {
                    ep.forget_tunnel(now, index, why);
                    Ok(CommandOutcome::Done)
                })
            }
            Command::ProbeTunnel { tunnel_id } => self.in_tunnel(now, tunnel_id, |ep, index| {
                ep.probe_tunnel(now, index).map(CommandOutcome::Probed)
            }),
            Command::SetLinkInfo {
                tunnel_id,
                session_id,
                accm,
            } => self.in_tunnel(now, tunnel_id, |ep, index| {
                let si = ep
                    .find_session(index, session_id)
                    .ok_or(CommandError::NoSuchSession)?;
                ep.send_link_info(now, si, accm)?;
                Ok(CommandOutcome::Done)
            }),
            Command::RequestConnectSpeeds {
                tunnel_id,
                session_id,
            } => self.in_tunnel(now, tunnel_id, |ep, index| {
                ep.request_speeds(now, index, session_id)
                    .map(CommandOutcome::SpeedsRequested)
            }),
            Command::UpdateConnectSpeeds { tunnel_id, changes } => {
                self.in_tunnel(now, tunnel_id, |ep, index| {
                    ep.update_speeds(now, index, &changes)
                        .map(CommandOutcome::SpeedsUpdated)
                })
            }
            Command::OpenSession {
                tunnel_id,
                handle,
                call,
                config,
            } => self
                .open_session(now, tunnel_id, handle, call, config)
                .map(|session_id| CommandOutcome::Session {
                    tunnel_id,
                    session_id,
                }),
            Command::CloseSession {
                tunnel_id,
                session_id,
            }
            | Command::LoseSession {
                tunnel_id,
                session_id,
                ..
            }
            | Command::EndSession {
                tunnel_id,
                session_id,
                ..
            } => {
                use crate::wire::result::result_code::cdn;
                let (refusal, detail) = match command {
                    Command::LoseSession { why, .. } => (
                        Refusal::with(cdn::LOST_CARRIER, crate::event::DATA_PATH_LOST),
                        Some(why),
                    ),
                    Command::EndSession { refusal, why, .. } => (refusal, Some(why)),
                    _ => (Refusal::result(cdn::ADMINISTRATIVE), None),
                };
                self.in_tunnel(now, tunnel_id, |ep, index| {
                    let si = ep
                        .find_session(index, session_id)
                        .ok_or(CommandError::NoSuchSession)?;
                    ep.close_session_noting(now, si, refusal, detail);
                    Ok(CommandOutcome::Done)
                })
            }
        }
    }

    /// Accepts a [`crate::event::TunnelRequest`] with `config` (whose secret authenticates
    /// the peer); `handle` comes back in the tunnel's events. Returns the local tunnel id.
    ///
    /// # Errors
    ///
    /// [`CommandError::NoSuchDecision`] if the decision is unknown, answered or timed out;
    /// [`CommandError::InvalidConfig`] if `config` cannot work.
    pub fn accept_tunnel(
        &mut self,
        now: Instant,
        id: DecisionId,
        handle: TunnelHandle,
        config: Arc<TunnelConfig>,
    ) -> Result<u32, CommandError> {
        config.check().map_err(CommandError::InvalidConfig)?;
        self.answer_tunnel(now, id, Some((handle, config)))
            .ok_or(CommandError::NoSuchDecision)
    }

    /// Refuses a [`crate::event::TunnelRequest`]: StopCCN with `refusal`'s result code.
    ///
    /// # Errors
    ///
    /// [`CommandError::NoSuchDecision`] if the decision is unknown, answered or timed out.
    pub fn reject_tunnel(
        &mut self,
        now: Instant,
        id: DecisionId,
        refusal: Refusal,
    ) -> Result<(), CommandError> {
        let t = self
            .tunnels
            .get_mut(id.index)
            .filter(|t| t.pending.is_some())
            .ok_or(CommandError::NoSuchDecision)?;
        if let Some(pending) = t.pending.as_mut() {
            pending.refusal = Some(refusal);
        }
        self.answer_tunnel(now, id, None)
            .map(|_| ())
            .ok_or(CommandError::NoSuchDecision)
    }

    /// Accepts a [`crate::event::SessionRequest`] with `config`; `handle` comes back in the
    /// session's events.
    ///
    /// # Errors
    ///
    /// [`CommandError::NoSuchDecision`] if the decision is unknown, answered or timed out.
    pub fn accept_session(
        &mut self,
        now: Instant,
        id: DecisionId,
        handle: SessionHandle,
        config: Arc<SessionConfig>,
    ) -> Result<(), CommandError> {
        self.answer_session(now, id, Ok((handle, config)))
    }

    /// Refuses a [`crate::event::SessionRequest`]: CDN with `refusal`'s result code.
    ///
    /// # Errors
    ///
    /// [`CommandError::NoSuchDecision`] if the decision is unknown, answered or timed out.
    pub fn reject_session(
        &mut self,
        now: Instant,
        id: DecisionId,
        refusal: Refusal,
    ) -> Result<(), CommandError> {
        self.answer_session(now, id, Err(refusal))
    }

    /// Runs every timer due at `now`: retransmissions, delayed acknowledgements, HELLO,
    /// setup and decision timeouts, the end of StopCCN lingering. Harmless to call early.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, owner, generation)) = self.timers.pop_due(now) {
            match owner {
                Owner::Tunnel(index) => {
                    if claim_due(&mut self.tunnels, index, generation, at) {
                        self.tunnel_timeout(now, index);
                    }
                }
                Owner::Session(index) => {
                    if claim_due(&mut self.sessions, index, generation, at) {
                        self.session_timeout(now, index);
                    }
                }
            }
        }
    }

    /// The next datagram to send.
    ///
    /// Its answer changes after every `handle_*`, `accept_*` and `reject_*` call.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, in the order they happened.
    ///
    /// Its answer changes after every `handle_*`, `accept_*` and `reject_*` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next question for the caller (answer with `accept_*` or `reject_*`).
    ///
    /// Its answer changes after [`Endpoint::handle_datagram`].
    #[must_use]
    pub fn poll_decision(&mut self) -> Option<Decision> {
        self.decisions.pop_front()
    }

    /// When to call [`Endpoint::handle_timeout`] next. It may be earlier than needed (waking
    /// early is harmless). Its answer changes after every input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek()
    }

    /// The tunnel with local id `tunnel_id`.
    pub fn tunnel(&self, tunnel_id: u32) -> Option<TunnelInfo> {
        let index = *self.tunnel_ids.get(&tunnel_id)?;
        self.tunnels.get(index).map(tunnel_info)
    }

    /// Whether a control message from `remote` for the tunnel with local id `tunnel_id` comes
    /// from its peer: always while the tunnel waits for the reply that fixes the peer's address
    /// and port, then only from them (RFC 2661 §8.1). `false` for an unknown tunnel.
    pub fn is_from_peer(&self, tunnel_id: u32, remote: SocketAddr) -> bool {
        let Some(&index) = self.tunnel_ids.get(&tunnel_id) else {
            return false;
        };
        self.tunnels
            .get(index)
            .is_some_and(|t| t.hears_from(remote))
    }

    /// The counters of the reliable control channel of the tunnel with local id `tunnel_id`
    /// (messages sent, retransmitted, received, duplicates, acknowledgements).
    pub fn tunnel_channel_stats(&self, tunnel_id: u32) -> Option<crate::reliable::Stats> {
        let index = *self.tunnel_ids.get(&tunnel_id)?;
        self.tunnels.get(index).map(|t| *t.channel.stats())
    }

    /// Every tunnel that has a local id (pending decisions excluded).
    pub fn tunnels(&self) -> impl Iterator<Item = TunnelInfo> + '_ {
        self.tunnels
            .iter()
            .filter(|(_, t)| t.local_id != 0)
            .map(|(_, t)| tunnel_info(t))
    }

    /// Session `session_id` of the tunnel with local id `tunnel_id`: a lookup, not a scan.
    pub fn session(&self, tunnel_id: u32, session_id: u32) -> Option<SessionInfo> {
        let ti = *self.tunnel_ids.get(&tunnel_id)?;
        let s = self.sessions.get(self.find_session(ti, session_id)?)?;
        Some(session_info(tunnel_id, s))
    }

    /// The sessions of the tunnel with local id `tunnel_id`.
    pub fn sessions(&self, tunnel_id: u32) -> impl Iterator<Item = SessionInfo> + '_ {
        let list = self
            .tunnel_ids
            .get(&tunnel_id)
            .and_then(|i| self.tunnels.get(*i))
            .map(|t| t.sessions.as_slice())
            .unwrap_or_default();
        list.iter()
            .filter_map(|si| self.sessions.get(*si))
            .map(move |s| session_info(tunnel_id, s))
    }

    /// Whether every control message sent on every tunnel has been acknowledged by its peer
    /// (or the tunnel is gone). A caller stopping gracefully waits for this after closing its
    /// tunnels, rather than for the StopCCN linger to end.
    pub fn all_acked(&self) -> bool {
        self.tunnels.iter().all(|(_, t)| t.channel.all_acked())
    }

    /// Number of tunnel records (including those closing or awaiting a decision).
    pub fn tunnel_count(&self) -> usize {
        self.tunnels.len()
    }

    /// Number of session records.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The counters, with the reliable channels' retransmissions included.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Bytes held for session state: the session slab, the id maps and the tunnels' session
    /// lists, counted from their capacities (hash maps: one control octet per bucket plus the
    /// entry, buckets at a 7/8 load factor). A session owns no other heap memory: its profile
    /// is a shared `Arc` and cookies are inline.
    pub fn session_memory(&self) -> usize {
        fn map_bytes(map: &HashMap<u32, u32>) -> usize {
            let buckets = (map.capacity() * 8 / 7).next_power_of_two();
            buckets * (size_of::<(u32, u32)>() + 1)
        }
        let lists: usize = self
            .tunnels
            .iter()
            .map(|(_, t)| t.sessions.capacity() * size_of::<u32>())
            .sum();
        self.sessions.allocated_bytes()
            + map_bytes(&self.v2_sessions)
            + map_bytes(&self.v3_sessions)
            + lists
    }

    /// Entries in the timer heap (stale ones included), for tests of timer cost.
    pub fn timer_entries(&self) -> usize {
        self.timers.len()
    }

    /// Reports discarded input (the caller logs it; the counters are kept by the caller of
    /// this function).
    pub(crate) fn discard(&mut self, remote: SocketAddr, tunnel_id: u32, problem: Discard) {
        match &problem {
            Discard::Header(crate::wire::header::HeaderError::UnsupportedVersion(1)) => {
                self.stats.malformed.l2f += 1;
            }
            Discard::Body(_) | Discard::SpeedUpdateEmpty => self.stats.malformed.body += 1,
            Discard::SpeedUpdateIgnored { .. } => self.stats.malformed.speed_update_ignored += 1,
            Discard::OutsideWindow { .. } => self.stats.malformed.outside_window += 1,
            Discard::InvalidNr { .. } => self.stats.malformed.invalid_nr += 1,
            Discard::WrongState(_) => self.stats.malformed.wrong_state += 1,
            Discard::UnsupportedMessage { .. } => self.stats.malformed.unsupported_message += 1,
            Discard::CallRefused { .. } => self.stats.malformed.call_parameters += 1,
            Discard::WrongPeer { .. } => self.stats.malformed.wrong_peer += 1,
            Discard::LateCdn(_) => self.stats.malformed.late_cdn += 1,
            Discard::PeerSetupRate => self.stats.malformed.peer_setup_rate += 1,
            Discard::MaxSetupTunnels => self.stats.malformed.max_setup_tunnels += 1,
            _ => {}
        }
        self.events.push_back(Event::Discarded {
            remote,
            tunnel_id,
            problem,
        });
    }

    /// Sets the cap on tunnels in set-up (0: none) and the SCCRQs accepted per second from
    /// one peer address (0: no limit). Takes effect for the next SCCRQ.
    pub fn set_setup_limits(&mut self, max_setup_tunnels: usize, peer_setup_rate: u32) {
        self.admission.max_setup_tunnels = max_setup_tunnels;
        self.admission.peer_setup_rate = peer_setup_rate;
    }

    /// Tunnels created by a peer's SCCRQ and not yet established.
    pub fn setup_tunnels(&self) -> usize {
        self.admission.setting_up()
    }

    pub(crate) fn tunnel_limit_reached(&self) -> bool {
        self.config.max_tunnels != 0 && self.tunnel_ids.len() >= self.config.max_tunnels
    }

    pub(crate) fn session_limit_reached(&self) -> bool {
        self.config.max_sessions != 0 && self.sessions.len() >= self.config.max_sessions
    }

    pub(crate) fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        self.rng.fill(&mut bytes);
        bytes
    }

    /// A free local tunnel id; `short` keeps it within 16 bits (L2TPv2, or an RFC 3931 §4.7.3
    /// probe where Assigned Tunnel ID and Assigned Control Connection ID must agree).
    pub(crate) fn allocate_tunnel_id(&mut self, short: bool) -> Option<u32> {
        for _ in 0..64 {
            let mut id = self.rng.next_u32();
            if short {
                id &= 0xffff;
            }
            if id != 0 && !self.tunnel_ids.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }

    /// A free session id: 16-bit and unique in the tunnel (L2TPv2), or 32-bit and unique in
    /// the endpoint (L2TPv3).
    pub(crate) fn allocate_session_id(&mut self, version: Version, tunnel_id: u32) -> Option<u32> {
        for _ in 0..64 {
            let id = self.rng.next_u32();
            let taken = match version {
                Version::V2 => {
                    id & 0xffff == 0 || self.v2_sessions.contains_key(&v2_key(tunnel_id, id))
                }
                Version::V3 => id == 0 || self.v3_sessions.contains_key(&id),
            };
            if !taken {
                return Some(if version == Version::V2 {
                    id & 0xffff
                } else {
                    id
                });
            }
        }
        None
    }

    /// Runs a command's work `f` on tunnel `tunnel_id` (its index given), then sends what it
    /// queued and reschedules the tunnel; a failed `f` sends nothing.
    fn in_tunnel(
        &mut self,
        now: Instant,
        tunnel_id: u32,
        f: impl FnOnce(&mut Self, u32) -> Result<CommandOutcome, CommandError>,
    ) -> Result<CommandOutcome, CommandError> {
        let index = *self
            .tunnel_ids
            .get(&tunnel_id)
            .ok_or(CommandError::NoSuchTunnel)?;
        let outcome = f(self, index)?;
        self.flush(now, index);
        self.reschedule_tunnel(index);
        Ok(outcome)
    }

    pub(crate) fn find_session(&self, ti: u32, session_id: u32) -> Option<u32> {
        let t = self.tunnels.get(ti)?;
        let si = match t.version {
            Version::V2 => self.v2_sessions.get(&v2_key(t.local_id, session_id)),
            Version::V3 => self.v3_sessions.get(&session_id),
        }?;
        self.sessions
            .get(*si)
            .filter(|s| s.tunnel == ti)
            .map(|_| *si)
    }

    /// Encodes `msg` for tunnel `ti` and queues it on the reliable channel. `v2_session` is
    /// the Session ID of an L2TPv2 header (the peer's session id; 0 for tunnel messages).
    pub(crate) fn send(&mut self, now: Instant, ti: u32, msg: Message, v2_session: u16) {
        let random_vector = self.random_bytes(16);
        let Some(t) = self.tunnels.get_mut(ti) else {
            return;
        };
        self.stats.sent.add(msg.message_type);
        let out = t.encode(msg, v2_session, Some((random_vector, &mut *self.rng)));
        let _ = t.channel.send(out);
        self.flush(now, ti);
    }

    /// Moves whatever the tunnel's channel may send now into the transmit queue.
    pub(crate) fn flush(&mut self, now: Instant, ti: u32) {
        self.flush_channel(now, ti);
        self.reschedule_tunnel(ti);
    }

    fn flush_channel(&mut self, now: Instant, ti: u32) {
        let Self {
            tunnels,
            transmits,
            stats,
            ..
        } = self;
        let Some(t) = tunnels.get_mut(ti) else { return };
        loop {
            let before = t.channel.stats().retransmitted;
            let Some(tx) = t.channel.poll_transmit(now) else {
                break;
            };
            let (ns, nr) = (tx.ns, tx.nr);
            let (mut bytes, signed, sccrq) = match tx.payload {
                Some(out) => (
                    out.bytes.clone(),
                    out.signed,
                    out.message_type == MessageType::Sccrq,
                ),
                None => {
                    stats.acks_sent += 1;
                    let (bytes, signed) = explicit_ack(t);
                    (bytes, signed, false)
                }
            };
            if t.channel.stats().retransmitted != before {
                stats.retransmissions += 1;
            }
            t.finish(&mut bytes, signed, ns, nr, sccrq);
            transmits.push_back(Transmit {
                tunnel_id: t.local_id,
                local: t.local,
                remote: t.remote,
                encap: t.encap,
                contents: bytes,
            });
        }
    }
}

/// A ZLB (L2TPv2, RFC 2661 §5.8) or an ACK message (L2TPv3, RFC 3931 §6.15) for `t`, with
/// Ns/Nr still to be patched.
fn explicit_ack(t: &Tunnel) -> (Vec<u8>, bool) {
    let header = ControlHeader {
        version: t.version,
        tunnel_id: t.peer_id,
        session_id: 0,
        ns: Seq::ZERO.value(),
        nr: 0,
    };
    if t.version == Version::V2 {
        let mut bytes = Vec::with_capacity(ControlHeader::wire_len(t.encap));
        header.emit(t.encap, 0, &mut bytes);
        return (bytes, false);
    }
    let out = t.encode(Message::new(MessageType::Ack), 0, None);
    (out.bytes, out.signed)
}

fn tunnel_info(t: &Tunnel) -> TunnelInfo {
    TunnelInfo {
        handle: t.handle,
        tunnel_id: t.local_id,
        peer_tunnel_id: t.peer_id,
        state: t.state,
        version: t.version,
        encap: t.encap,
        local: t.local,
        remote: t.remote,
        peer_host_name: t.peer_host_name.clone(),
        sessions: t.sessions.len(),
        origin: t.origin,
    }
}

impl TunnelInfo {
    /// Whether the control connection is established.
    pub fn is_established(&self) -> bool {
        self.state == TunnelState::Established
    }
}

/// The public view of session `s` of the tunnel with local id `tunnel_id`.
fn session_info(tunnel_id: u32, s: &crate::session::Session) -> SessionInfo {
    SessionInfo {
        handle: s.handle,
        tunnel_id,
        session_id: s.local_id,
        peer_session_id: s.peer_id,
        state: s.state,
        pw_type: s.pw_type,
        control_rx: s.rx_messages,
        control_tx: s.tx_messages,
    }
}

/// An owner of timer entries: its record of its earliest entry in the heap.
trait Scheduled {
    fn scheduled(&mut self) -> &mut Option<Instant>;
}

impl Scheduled for Tunnel {
    fn scheduled(&mut self) -> &mut Option<Instant> {
        &mut self.scheduled
    }
}

impl Scheduled for Session {
    fn scheduled(&mut self) -> &mut Option<Instant> {
        &mut self.scheduled
    }
}

/// Whether the timer entry due `at`, pushed for slot `index` of `slab` at `generation`, still
/// belongs to a live owner (a stale one is dropped); if so, and the owner's record of its
/// earliest entry is this one, clears the record so the owner is rescheduled.
#[inline]
fn claim_due<T: Scheduled>(slab: &mut Slab<T>, index: u32, generation: u32, at: Instant) -> bool {
    if slab.generation(index) != generation {
        return false;
    }
    let Some(owner) = slab.get_mut(index) else {
        return false;
    };
    let scheduled = owner.scheduled();
    if *scheduled == Some(at) {
        *scheduled = None;
    }
    true
}
