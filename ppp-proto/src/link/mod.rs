//! The PPP link: one value per session, driven by the host (RFC 1661 §3: the phases Link
//! Dead, Establish, Authenticate, Network and Terminate).
//!
//! Inputs, each with the current time: [`Link::open`], [`Link::handle_frame`],
//! [`Link::handle_timeout`], [`Link::auth_verdict`], [`Link::set_network`], [`Link::close`],
//! [`Link::lower_down`] and [`Link::note_activity`]. Outputs: [`Link::poll_transmit`],
//! [`Link::poll_event`] and [`Link::poll_timeout`]. After any input, drain the first two and
//! re-arm a timer for the third; randomness (Magic-Numbers, challenges, interface
//! identifiers) comes from the `Rng` passed to the inputs that need it.
//!
//! A daemon holding many links keeps them in a slab and one timer heap keyed by link: after an
//! input it pushes `(poll_timeout(), key)` if that is earlier than what it has scheduled for
//! the link, and on a due entry calls `handle_timeout` (calling it early or twice is
//! harmless). Deadlines only move later on their own (the idle timer, for one, re-arms itself
//! from the last activity when it fires), so stale heap entries cost one spurious wake-up.
//!
//! A link holds no heap memory while Opened and idle: its frame queue keeps small frames in
//! place, its event queue and the authentication state are released once drained or done.

mod auth;
mod layers;
mod proxy;

pub use proxy::{Proxied, ProxiedAuth, ProxiedLcp, ProxiedSide, ProxyRefusal};

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;

use crate::auth::{AuthId, Verdict};
use crate::config::{InterfaceId, LinkConfig, NetworkParams};
use crate::event::{CloseReason, Counters, DownReason, Event};
use crate::fsm::State;
use crate::fsm::machine::{Cx, Fsm};
use crate::ipcp::IpcpOptions;
use crate::ipv6cp::Ipv6cpOptions;
use crate::lcp::LcpOptions;
use crate::outq::OutQueue;
use crate::timer::{TimerKind, TimerTable};
use crate::wire::{Framing, code, protocol, split_protocol};

use auth::AuthState;

/// The phases of a link (RFC 1661 §3.2).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum Phase {
    /// Not opened yet, or finished.
    #[default]
    Dead,
    /// LCP is negotiating.
    Establish,
    /// LCP is Opened; authentication runs.
    Authenticate,
    /// Authentication is done; the NCPs run.
    Network,
    /// The link is being closed.
    Terminate,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Dead => "Link Dead",
            Phase::Establish => "Link Establishment",
            Phase::Authenticate => "Authentication",
            Phase::Network => "Network-Layer Protocol",
            Phase::Terminate => "Link Termination",
        })
    }
}

/// Data activity the host reports (`Link::note_activity`).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Activity {
    /// Data came from the peer: the link is alive (adaptive echo) and not idle.
    Received,
    /// Data went to the peer: the link is not idle.
    Sent,
}

/// Why a verdict was not taken.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum VerdictError {
    /// No request with this id waits for a verdict (answered, superseded or timed out).
    NoSuchRequest,
    /// An MS-CHAPv2 acceptance without the authenticator response (RFC 2759 §5).
    MissingAuthenticatorResponse,
}

impl fmt::Display for VerdictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSuchRequest => "no authentication request with this id is waiting",
            Self::MissingAuthenticatorResponse => {
                "an MS-CHAPv2 acceptance needs the authenticator response"
            }
        })
    }
}

impl std::error::Error for VerdictError {}

/// A non-zero number of whole seconds, rounded up. Timeouts come in seconds (RADIUS's
/// Idle-Timeout, RFC 2865 §5.28, and l2tpd.conf(5)'s are `u32` seconds): a `u32` of seconds
/// holds every one of them, where one of milliseconds would cut those beyond 49.7 days.
fn whole_secs(d: Duration) -> u32 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(s).unwrap_or(u32::MAX).max(1)
}

/// Flags of a link, in one octet.
mod flag {
    /// `Link::set_session_timeout` was called: the configured timeout no longer applies.
    pub(super) const SESSION_SET: u8 = 1;
    /// The peer Code-Rejected Echo-Request: send no more.
    pub(super) const NO_ECHO: u8 = 1 << 1;
    /// Data came from the peer since the last echo tick.
    pub(super) const RECEIVED: u8 = 1 << 2;
    /// A network protocol has been up.
    pub(super) const NETWORK_WAS_UP: u8 = 1 << 3;
    /// The link is finished.
    pub(super) const FINISHED: u8 = 1 << 4;
    /// The link has been opened.
    pub(super) const OPENED: u8 = 1 << 5;
}

/// The parts of a link the automata share.
#[derive(Debug)]
struct Shared {
    config: Arc<LinkConfig>,
    out: OutQueue,
    timers: TimerTable,
    counters: Counters,
    /// Why the link is closing or closed, once known.
    closing: Option<DownReason>,
}

impl Shared {
    /// The automaton's context for LCP.
    fn cx(&mut self, now: Instant, peer_mru: u16) -> Cx<'_> {
        self.cx_with(now, peer_mru, false)
    }

    /// The automaton's context for LCP, or with `ncp` for IPCP and IPv6CP (their own
    /// counters and Restart timer).
    fn cx_with(&mut self, now: Instant, peer_mru: u16, ncp: bool) -> Cx<'_> {
        Cx {
            now,
            retries: if ncp {
                &self.config.ncp_retries
            } else {
                &self.config.retries
            },
            out: &mut self.out,
            timers: &mut self.timers,
            peer_mru: usize::from(peer_mru),
            term_message: self.closing.map_or("", |r| r.message()),
            queue_full: &mut self.counters.queue_full,
        }
    }
}

/// One PPP session. See the [module documentation](self).
#[derive(Debug)]
pub struct Link {
    shared: Shared,
    phase: Phase,
    flags: u8,
    lcp: Fsm,
    lcp_opts: LcpOptions,
    ipcp: Fsm,
    ipcp_opts: IpcpOptions,
    ipv6cp: Fsm,
    ipv6cp_opts: Ipv6cpOptions,
    /// Present while authenticating (and until a network protocol is up, to repeat a lost
    /// Success).
    auth: Option<Box<AuthState>>,
    events: VecDeque<Event>,
    /// Identifier of the next Echo-Request or Protocol-Reject (the automaton numbers the
    /// other LCP packets).
    echo_id: u8,
    /// Echo-Requests sent and not answered.
    echo_outstanding: u8,
    /// The last data activity, for the idle timeout.
    last_activity: Instant,
    /// The idle timeout in seconds, 0 for none.
    idle_s: u32,
    /// Numbers the authentication requests.
    auth_serial: u32,
    /// The Identifier and value of our next CHAP re-challenge, drawn while randomness is at
    /// hand (timers come without it); only with `chap.rechallenge`.
    next_challenge: Option<Box<[u8; 17]>>,
    /// Random, drawn at the first MS-CHAPv2 Challenge from the peer: each Response's
    /// Peer-Challenge is derived from it and the Challenge value (`maths::ms_chap_v2_peer_challenge`).
    peer_challenge_salt: [u8; 8],
    /// The Identifier of our last PAP Authenticate-Request, kept across LCP renegotiations:
    /// a new round that started again from 1 would take a late Ack of the last round's
    /// request 1 for its own.
    pap_id: u8,
    /// When the current count of the peer's renegotiations began (`max_renegotiations`).
    reneg_since: Instant,
    /// The peer's renegotiations since `reneg_since`.
    reneg_count: u16,
}

impl Link {
    /// A link in Link Dead that has not sent anything; `rng` chooses its Magic-Number and
    /// IPv6 interface identifier.
    pub fn new(config: Arc<LinkConfig>, rng: &mut dyn Rng) -> Self {
        let lcp_opts = LcpOptions::new(&config, rng);
        let ipcp_opts = IpcpOptions::new(&config.ipv4.unwrap_or_default());
        let ipv6cp_opts =
            Ipv6cpOptions::new(config.ipv6.map(|c| c.defaults).unwrap_or_default(), rng);
        let idle_s = config.idle_timeout.map_or(0, whole_secs);
        Self {
            shared: Shared {
                config,
                out: OutQueue::default(),
                timers: TimerTable::default(),
                counters: Counters::default(),
                closing: None,
            },
            phase: Phase::Dead,
            flags: 0,
            lcp: Fsm::default(),
            lcp_opts,
            ipcp: Fsm::default(),
            ipcp_opts,
            ipv6cp: Fsm::default(),
            ipv6cp_opts,
            auth: None,
            events: VecDeque::new(),
            echo_id: 0,
            echo_outstanding: 0,
            last_activity: Instant::ZERO,
            idle_s,
            auth_serial: 0,
            next_challenge: None,
            peer_challenge_salt: [0; 8],
            pap_id: 0,
            reneg_since: Instant::ZERO,
            reneg_count: 0,
        }
    }

    /// Sets the MRU this link requests in place of its configuration's, for an MRU that
    /// depends on the lower layer (the headers of the tunnel carrying the link). Takes effect
    /// from the next Configure-Request: call it before [`Link::open`].
    pub fn set_mru(&mut self, mru: u16) {
        self.lcp_opts.set_mru(mru);
    }

    /// Starts the link: the lower layer is up (the L2TP session is established) and LCP is
    /// opened, so the first Configure-Request goes out (RFC 1661 §4.3 Up, Open). Calling it
    /// again does nothing.
    pub fn open(&mut self, now: Instant) {
        if self.flags & (flag::OPENED | flag::FINISHED) != 0 {
            return;
        }
        self.flags |= flag::OPENED;
        self.phase = Phase::Establish;
        self.lcp_event(now, crate::fsm::Event::Up);
        self.lcp_event(now, crate::fsm::Event::Open);
    }

    /// Processes a PPP frame from the peer (with or without `FF 03`; see
    /// [`crate::wire::classify`]). Malformed frames are counted and dropped; nothing from the
    /// peer makes the link panic.
    pub fn handle_frame(&mut self, now: Instant, frame: &[u8], rng: &mut dyn Rng) {
        self.handle_frame_with(now, frame, rng, &|_| false);
    }

    /// [`Link::handle_frame`] for a link that shares an interface with others (every
    /// native-PPP session of a shared TUN): the peers' link-local addresses `fe80::<id>` must
    /// be apart, so a peer asking for an interface identifier that `peer_id_taken` says
    /// another link's peer uses is Nak'ed with a random one that is not (RFC 5072 §4.1: a
    /// Configure-Nak suggests a unique identifier).
    pub fn handle_frame_with(
        &mut self,
        now: Instant,
        frame: &[u8],
        rng: &mut dyn Rng,
        peer_id_taken: &dyn Fn(InterfaceId) -> bool,
    ) {
        self.shared.counters.frames_in = self.shared.counters.frames_in.wrapping_add(1);
        if !self.is_running() {
            self.discard();
            return;
        }
        let Some((proto, info)) = split_protocol(frame) else {
            self.malformed();
            return;
        };
        match proto {
            protocol::LCP => self.lcp_frame(now, info, rng),
            protocol::PAP | protocol::CHAP => self.auth_frame(now, proto, info, rng),
            protocol::IPCP if self.shared.config.ipv4.is_some() => {
                self.ncp_frame(now, proto, info, rng)
            }
            protocol::IPV6CP if self.shared.config.ipv6.is_some() => {
                self.ipv6cp_opts.vet(info, rng, peer_id_taken);
                self.ncp_frame(now, proto, info, rng)
            }
            protocol::IPV4 | protocol::IPV6 => self.discard(),
            _ => self.protocol_reject(proto, info),
        }
    }

    /// The interface identifier we acknowledged for the peer in the current IPv6CP
    /// negotiation, before IPv6CP is Opened too (`None`: none yet). A host that keeps the
    /// peers of several links apart ([`Link::handle_frame_with`]) holds it from then on.
    pub fn peer_interface_id(&self) -> Option<InterfaceId> {
        let id = self.ipv6cp_opts.acked_peer();
        (id != 0).then(|| InterfaceId::from_u64(id))
    }

    /// Runs every timer due at `now`: restart timers, authentication retransmissions and
    /// deadline, echo, idle and session timeouts. Harmless to call early.
    pub fn handle_timeout(&mut self, now: Instant) {
        use TimerKind as T;
        for kind in [
            T::LcpRestart,
            T::IpcpRestart,
            T::Ipv6cpRestart,
            T::ChallengeRestart,
            T::AuthRestart,
            T::AuthDeadline,
            T::Echo,
            T::Idle,
            T::Session,
        ] {
            if !self.is_running() {
                return;
            }
            if !self.shared.timers.take_expired(kind, now) {
                continue;
            }
            match kind {
                T::LcpRestart => {
                    let actions = {
                        let mru = self.lcp_opts.peer_mru;
                        let mut cx = self.shared.cx(now, mru);
                        self.lcp.timeout(&mut self.lcp_opts, &mut cx)
                    };
                    self.lcp_actions(now, actions, None);
                }
                T::IpcpRestart => self.ncp_timeout(now, protocol::IPCP),
                T::Ipv6cpRestart => self.ncp_timeout(now, protocol::IPV6CP),
                T::ChallengeRestart => self.challenge_retransmit(now),
                T::AuthRestart => self.auth_retransmit(now),
                T::AuthDeadline if self.phase == Phase::Authenticate => {
                    self.close_with(now, DownReason::AuthTimeout)
                }
                T::AuthDeadline => {}
                T::Echo => self.echo_tick(now),
                T::Idle => self.idle_tick(now),
                T::Session => self.close_with(now, DownReason::SessionTimeout),
            }
        }
    }

    /// Answers an [`Event::Authenticate`]: the peer gets a PAP Authenticate-Ack or a CHAP
    /// Success, and the network phase begins once every direction is authenticated; or the
    /// peer gets an Authenticate-Nak or a Failure and the link closes with
    /// [`DownReason::AuthFailed`]. Set the peer's address ([`Link::set_network`]) before
    /// accepting.
    ///
    /// # Errors
    ///
    /// [`VerdictError::NoSuchRequest`] if `id` names no waiting request (the link moved on,
    /// e.g. it timed out); [`VerdictError::MissingAuthenticatorResponse`] for an MS-CHAPv2
    /// acceptance without the authenticator response.
    pub fn auth_verdict(
        &mut self,
        now: Instant,
        id: AuthId,
        verdict: Verdict,
    ) -> Result<(), VerdictError> {
        self.verdict(now, id, verdict)
    }

    /// Leaves a re-challenge's request unanswered (a host that cannot judge it, its RADIUS
    /// server silent, and will not end a link authenticated already): the peer gets neither
    /// Success nor Failure, and the next re-challenge comes after the interval.
    ///
    /// # Errors
    ///
    /// [`VerdictError::NoSuchRequest`] if `id` names no re-challenge's waiting request (a
    /// login's must have a verdict).
    pub fn forgo_rechallenge(&mut self, now: Instant, id: AuthId) -> Result<(), VerdictError> {
        self.forgo(now, id)
    }

    /// Sets the addresses this link assigns and requests (e.g. the peer's address from a pool
    /// or RADIUS). Takes effect in the next IPCP/IPv6CP negotiation: call it before accepting
    /// the peer's credentials.
    pub fn set_network(&mut self, params: NetworkParams) {
        self.ipcp_opts.params = params.ipv4;
        self.ipv6cp_opts.set_params(params.ipv6);
    }

    /// Closes the link at `now + timeout` with [`DownReason::SessionTimeout`] (`None`: no
    /// session timeout), instead of the configured `session_timeout`, which otherwise starts
    /// when the first network protocol comes up.
    pub fn set_session_timeout(&mut self, now: Instant, timeout: Option<Duration>) {
        self.flags |= flag::SESSION_SET;
        match timeout {
            Some(d) if !self.is_finished() => self.shared.timers.set(TimerKind::Session, now + d),
            _ => self.shared.timers.stop(TimerKind::Session),
        }
    }

    /// Replaces the configured idle timeout (`None`: none), held in whole seconds (a
    /// fraction rounds up). It counts from the last [`Link::note_activity`], or from when
    /// the network came up.
    pub fn set_idle_timeout(&mut self, now: Instant, timeout: Option<Duration>) {
        self.idle_s = timeout.map_or(0, whole_secs);
        if self.idle_s == 0 {
            self.shared.timers.stop(TimerKind::Idle);
        } else if self.phase == Phase::Network {
            self.arm_idle(now);
        }
    }

    /// Closes the link: LCP Terminate-Request (RFC 1661 §5.5), then [`Event::Down`] with
    /// [`DownReason::Closed`] once the peer acknowledges or the retries run out.
    pub fn close(&mut self, now: Instant, reason: CloseReason) {
        if self.flags & flag::OPENED == 0 {
            // Never opened: nothing to tell the peer.
            self.shared
                .closing
                .get_or_insert(DownReason::Closed(reason));
            self.finish();
            return;
        }
        self.close_with(now, DownReason::Closed(reason));
    }

    /// The lower layer is gone (the L2TP session closed): the link ends at once with
    /// [`DownReason::LowerLayerDown`] (RFC 1661 §4.3 Down), after the down events of its
    /// network protocols; with [`DownReason::AuthNoVerdict`] when the peer had our
    /// credentials and had not answered them.
    pub fn lower_down(&mut self, now: Instant) {
        if !self.is_running() {
            return;
        }
        let reason = if self.awaiting_verdict() {
            DownReason::AuthNoVerdict
        } else {
            DownReason::LowerLayerDown
        };
        self.shared.closing.get_or_insert(reason);
        self.lcp_event(now, crate::fsm::Event::Down);
        self.finish();
    }

    /// Tells the link that data passed (the data path never goes through the link): it resets
    /// the idle timeout, and data received counts as a sign of life for adaptive echo.
    /// Cheap: it updates a field, never a timer.
    pub fn note_activity(&mut self, now: Instant, activity: Activity) {
        self.last_activity = self.last_activity.max(now);
        if activity == Activity::Received {
            self.flags |= flag::RECEIVED;
        }
    }

    /// The next frame to send to the peer, `FF 03` and Protocol field included, oldest first.
    /// Drain it until `None` after every input (the buffer is reused then).
    ///
    /// Its answer changes after [`Link::open`], [`Link::handle_frame`],
    /// [`Link::handle_timeout`], [`Link::auth_verdict`] and [`Link::close`].
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        let frame = self.shared.out.pop();
        if frame.is_some() {
            self.shared.counters.frames_out = self.shared.counters.frames_out.wrapping_add(1);
        }
        frame
    }

    /// The next event, in the order they happened; [`Event::Down`] is the last.
    ///
    /// Its answer changes after every input but [`Link::set_network`] and
    /// [`Link::note_activity`].
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front();
        if e.is_none() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
        e
    }

    /// When to call [`Link::handle_timeout`] next, `None` if no timer runs. It may be earlier
    /// than needed (the idle timer fires at the configured timeout after the activity it last
    /// saw). Its answer changes after every input but [`Link::note_activity`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.shared.timers.next()
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The state of LCP's automaton.
    pub fn lcp_state(&self) -> State {
        self.lcp.state
    }

    /// The state of IPCP's automaton.
    pub fn ipcp_state(&self) -> State {
        self.ipcp.state
    }

    /// The state of IPv6CP's automaton.
    pub fn ipv6cp_state(&self) -> State {
        self.ipv6cp.state
    }

    /// How data frames to the peer may be written (after LCP opened; [`Framing::FULL`]
    /// before).
    pub fn framing(&self) -> Framing {
        if self.lcp.state == State::Opened {
            Framing {
                acfc: self.lcp_opts.peer_acfc,
                pfc: self.lcp_opts.peer_pfc,
            }
        } else {
            Framing::FULL
        }
    }

    /// The link's counters.
    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// Whether the link has finished ([`Event::Down`] was queued): drop it once its events and
    /// frames are drained.
    pub fn is_finished(&self) -> bool {
        self.flags & flag::FINISHED != 0
    }

    /// Why the link is closing or closed, once known.
    pub fn down_reason(&self) -> Option<DownReason> {
        self.shared.closing
    }

    /// Heap octets this link holds beyond its own size (its shared configuration not
    /// counted): the frame and event queues and the authentication state.
    pub fn heap_bytes(&self) -> usize {
        self.shared.out.heap_bytes()
            + self.events.capacity() * std::mem::size_of::<Event>()
            + self.auth.as_ref().map_or(0, |a| a.heap_bytes())
            + self.next_challenge.as_ref().map_or(0, |c| c.len())
    }

    fn is_running(&self) -> bool {
        self.flags & (flag::OPENED | flag::FINISHED) == flag::OPENED
    }

    fn discard(&mut self) {
        self.shared.counters.discarded = self.shared.counters.discarded.wrapping_add(1);
    }

    fn malformed(&mut self) {
        self.shared.counters.malformed = self.shared.counters.malformed.wrapping_add(1);
    }

    /// A well-formed packet of no use now: a duplicate or late answer (RFC 1661 §5.2).
    fn stale(&mut self) {
        self.shared.counters.stale = self.shared.counters.stale.wrapping_add(1);
    }

    fn push(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// Closes the link for `reason` (the first reason given sticks).
    fn close_with(&mut self, now: Instant, reason: DownReason) {
        if !self.is_running() {
            return;
        }
        self.shared.closing.get_or_insert(reason);
        self.phase = Phase::Terminate;
        self.lcp_event(now, crate::fsm::Event::Close);
    }

    /// Link Dead: the last event, every timer stopped.
    fn finish(&mut self) {
        if self.flags & flag::FINISHED != 0 {
            return;
        }
        self.flags |= flag::FINISHED;
        self.phase = Phase::Dead;
        self.shared.timers = TimerTable::default();
        self.auth = None;
        let reason = self.shared.closing.unwrap_or(DownReason::NegotiationFailed);
        self.shared.closing = Some(reason);
        self.push(Event::Down(reason));
    }

    /// Sends an LCP packet outside the automaton (echo, Protocol-Reject).
    fn send_lcp(
        &mut self,
        code: u8,
        id: u8,
        body: impl FnOnce(&mut crate::outq::PacketWriter<'_>),
    ) {
        let limit = usize::from(self.lcp_opts.peer_mru);
        if !self.shared.out.packet(protocol::LCP, code, id, limit, body) {
            self.shared.counters.queue_full = self.shared.counters.queue_full.wrapping_add(1);
        }
    }

    /// A frame of a protocol this link does not run: Protocol-Reject in LCP Opened during the
    /// network phase, silently discarded otherwise (RFC 1661 §5.7, §3.5).
    fn protocol_reject(&mut self, proto: u16, info: &[u8]) {
        if self.lcp.state != State::Opened || self.phase != Phase::Network {
            self.discard();
            return;
        }
        self.shared.counters.protocol_rejects =
            self.shared.counters.protocol_rejects.wrapping_add(1);
        let id = self.echo_id;
        self.echo_id = self.echo_id.wrapping_add(1);
        self.send_lcp(code::PROTOCOL_REJECT, id, |w| {
            w.u16(proto);
            w.bytes(info);
        });
    }
}
