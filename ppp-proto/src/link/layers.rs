//! How the link drives its automata: LCP's layer actions move the link between phases
//! (RFC 1661 §3), LCP's own codes (Protocol-Reject, Echo, Discard; RFC 1661 §5.7-§5.9) are
//! answered here, and the NCPs are started, stopped and watched (a link whose network
//! protocols all fail is closed).

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;

use super::auth::ProxiedStart;
use super::{Link, Phase, flag};
use crate::config::RENEGOTIATION_WINDOW;
use crate::event::{DownReason, Event, LinkInfo};
use crate::fsm::machine::{Cx, Fsm, Negotiator, Received};
use crate::fsm::{Actions, Event as FsmEvent, State};
use crate::timer::TimerKind;
use crate::wire::{ControlPacket, Framing, code, protocol};

/// One step of an NCP's automaton.
pub(super) enum NcpStep<'a, 'p> {
    Event(FsmEvent),
    Timeout,
    Receive(&'a ControlPacket<'p>, &'a mut dyn Rng),
}

impl NcpStep<'_, '_> {
    fn run<N: Negotiator>(self, fsm: &mut Fsm, neg: &mut N, cx: &mut Cx<'_>) -> Received {
        match self {
            NcpStep::Event(e) => Received::Done(fsm.event(neg, cx, e)),
            NcpStep::Timeout => Received::Done(fsm.timeout(neg, cx)),
            NcpStep::Receive(p, rng) => fsm.receive(neg, cx, rng, p),
        }
    }
}

impl Link {
    /// Runs an LCP event that carries no packet.
    pub(super) fn lcp_event(&mut self, now: Instant, e: FsmEvent) {
        let actions = {
            let mru = self.lcp_opts.peer_mru;
            let mut cx = self.shared.cx(now, mru);
            self.lcp.event(&mut self.lcp_opts, &mut cx, e)
        };
        self.lcp_actions(now, actions, None);
    }

    /// Carries out LCP's layer actions (RFC 1661 §4.4 and the phases of §3).
    pub(super) fn lcp_actions(
        &mut self,
        now: Instant,
        actions: Actions,
        rng: Option<&mut dyn Rng>,
    ) {
        if actions.contains(Actions::TLD) {
            self.link_down(now);
        }
        if actions.contains(Actions::TLU) {
            match rng {
                Some(rng) => self.link_up(now, rng),
                // LCP opens only on a received packet, which comes with randomness.
                None => self.close_with(now, DownReason::NegotiationFailed),
            }
        }
        if actions.contains(Actions::TLF) {
            self.finish();
        }
    }

    /// This-Layer-Up of LCP: Authenticate or Network phase.
    fn link_up(&mut self, now: Instant, rng: &mut dyn Rng) {
        self.link_up_with(now, rng, None);
    }

    /// This-Layer-Up of LCP, authentication resuming from `proxied` if given.
    pub(super) fn link_up_with(
        &mut self,
        now: Instant,
        rng: &mut dyn Rng,
        proxied: Option<ProxiedStart>,
    ) {
        let o = &self.lcp_opts;
        self.push(Event::LinkUp(LinkInfo {
            peer_mru: o.peer_mru,
            local_mru: o.local_mru(),
            local_magic: o.magic(),
            peer_magic: o.peer_magic,
            peer_accm: o.peer_accm,
            local_accm: o.local_accm(),
            framing: Framing {
                acfc: o.peer_acfc,
                pfc: o.peer_pfc,
            },
            auth_peer: o.auth_peer(),
            auth_self: o.auth_self,
        }));
        self.echo_outstanding = 0;
        self.flags &= !flag::RECEIVED;
        if let Some(interval) = self.shared.config.echo_interval
            && self.flags & flag::NO_ECHO == 0
        {
            self.shared.timers.set(TimerKind::Echo, now + interval);
        }
        if self.phase == Phase::Terminate {
            return;
        }
        if self.lcp_opts.auth_peer().is_some() || self.lcp_opts.auth_self.is_some() {
            self.phase = Phase::Authenticate;
            self.start_auth(now, rng, proxied);
        } else {
            self.start_network(now);
        }
    }

    /// This-Layer-Down of LCP: the network protocols and authentication go down with it.
    fn link_down(&mut self, now: Instant) {
        for proto in [protocol::IPCP, protocol::IPV6CP] {
            let received = self.ncp_run(now, proto, NcpStep::Event(FsmEvent::Down));
            self.ncp_result(now, proto, received);
        }
        if self.phase == Phase::Terminate && self.refused_peer() {
            // Our Nak or Failure is kept while the link closes, to answer a repeated request
            // with it again (RFC 1334 §2.2.1, RFC 1994 §4.2).
            if let Some(state) = self.auth.as_mut() {
                state.forget_supplicant();
            }
        } else {
            self.auth = None;
        }
        let t = &mut self.shared.timers;
        for kind in [
            TimerKind::ChallengeRestart,
            TimerKind::AuthRestart,
            TimerKind::AuthDeadline,
            TimerKind::Echo,
            TimerKind::Idle,
        ] {
            t.stop(kind);
        }
        if matches!(self.phase, Phase::Authenticate | Phase::Network) {
            self.phase = Phase::Establish;
        }
    }

    /// Authentication is done in every direction: the network phase starts its NCPs.
    pub(super) fn start_network(&mut self, now: Instant) {
        self.phase = Phase::Network;
        self.shared.timers.stop(TimerKind::ChallengeRestart);
        self.shared.timers.stop(TimerKind::AuthRestart);
        self.shared.timers.stop(TimerKind::AuthDeadline);
        let config = &self.shared.config;
        let enabled = [
            (protocol::IPCP, config.ipv4.is_some()),
            (protocol::IPV6CP, config.ipv6.is_some()),
        ];
        if enabled.iter().all(|(_, on)| !on) {
            self.close_with(now, DownReason::NoNetworkProtocol);
            return;
        }
        self.arm_rechallenge(now);
        for (proto, on) in enabled {
            if on {
                for e in [FsmEvent::Up, FsmEvent::Open] {
                    let received = self.ncp_run(now, proto, NcpStep::Event(e));
                    self.ncp_result(now, proto, received);
                }
            }
        }
    }

    /// An LCP packet.
    pub(super) fn lcp_frame(&mut self, now: Instant, info: &[u8], rng: &mut dyn Rng) {
        let Ok(p) = ControlPacket::parse(info) else {
            self.malformed();
            return;
        };
        let opened = self.lcp.state == State::Opened;
        match p.code {
            code::PROTOCOL_REJECT if opened => return self.protocol_rejected(now, &p),
            code::ECHO_REQUEST | code::ECHO_REPLY if opened => return self.echo(now, &p),
            code::PROTOCOL_REJECT
            | code::ECHO_REQUEST
            | code::ECHO_REPLY
            | code::DISCARD_REQUEST
            | code::IDENTIFICATION
            | code::TIME_REMAINING => {
                // Discard-Request, RFC 1570's Identification and Time-Remaining, and the
                // Opened-only codes outside Opened are silently discarded (RFC 1661 §5.7-§5.9).
                self.discard();
                return;
            }
            code::TERMINATE_REQUEST if opened => {
                // RTR in Opened ends the link (tld, zrc, sta: Stopping, then tlf).
                self.shared
                    .closing
                    .get_or_insert(DownReason::PeerTerminated);
                self.phase = Phase::Terminate;
            }
            code::CODE_REJECT => match p.data.first() {
                Some(&code::ECHO_REQUEST) => {
                    self.flags |= flag::NO_ECHO;
                    self.shared.timers.stop(TimerKind::Echo);
                }
                Some(1..=7) => {
                    self.shared.closing.get_or_insert(DownReason::Rejected);
                }
                _ => {}
            },
            _ => {}
        }
        let received = {
            let mru = self.lcp_opts.peer_mru;
            let mut cx = self.shared.cx(now, mru);
            self.lcp.receive(&mut self.lcp_opts, &mut cx, &mut *rng, &p)
        };
        match received {
            Received::Done(actions) => {
                // LCP left Opened on the peer's packet, the link not closing: a renegotiation.
                let renegotiation = actions.contains(Actions::TLD)
                    && self.phase != Phase::Terminate
                    && self.shared.closing.is_none();
                self.lcp_actions(now, actions, Some(rng));
                if renegotiation {
                    self.renegotiated(now);
                }
            }
            Received::Fatal(reason) => self.close_with(now, reason),
            Received::Malformed => self.malformed(),
            Received::Invalid => self.stale(),
        }
        self.check_loopback(now);
    }

    /// Closes a link whose own Magic-Number keeps coming back (RFC 1661 §6.4).
    fn check_loopback(&mut self, now: Instant) {
        if self.lcp_opts.loops >= self.shared.config.retries.max_failure.max(1) {
            self.close_with(now, DownReason::Loopback);
        }
    }

    /// A Protocol-Reject in LCP Opened (RFC 1661 §5.7): stop the rejected protocol.
    fn protocol_rejected(&mut self, now: Instant, p: &ControlPacket<'_>) {
        let Some(&[high, low]) = p.data.get(..2) else {
            self.malformed();
            return;
        };
        match u16::from_be_bytes([high, low]) {
            protocol::LCP => {
                self.shared.closing.get_or_insert(DownReason::Rejected);
                self.lcp_event(now, FsmEvent::CatastrophicReject);
            }
            proto @ (protocol::IPCP | protocol::IPV6CP) => {
                let received =
                    self.ncp_run(now, proto, NcpStep::Event(FsmEvent::CatastrophicReject));
                self.ncp_result(now, proto, received);
            }
            protocol::PAP | protocol::CHAP if self.phase == Phase::Authenticate => {
                self.close_with(now, DownReason::AuthNotNegotiated);
            }
            _ => self.lcp_event(now, FsmEvent::PermittedReject),
        }
    }

    /// Echo-Request and Echo-Reply in LCP Opened (RFC 1661 §5.8, §6.4).
    fn echo(&mut self, now: Instant, p: &ControlPacket<'_>) {
        let Some(&[a, b, c, d]) = p.data.get(..4) else {
            self.malformed();
            return;
        };
        let magic = u32::from_be_bytes([a, b, c, d]);
        let ours = self.lcp_opts.magic();
        if magic != 0 && magic == ours {
            // Our own packet came back (RFC 1661 §6.4).
            self.lcp_opts.loops = self.lcp_opts.loops.saturating_add(1);
            self.check_loopback(now);
            return;
        }
        if p.code == code::ECHO_REPLY {
            self.echo_outstanding = 0;
            return;
        }
        let rest = &p.data[4..];
        self.send_lcp(code::ECHO_REPLY, p.identifier, |w| {
            w.u32(ours);
            w.bytes(rest);
        });
    }

    /// The echo timer: an Echo-Request, or the end of a silent peer.
    pub(super) fn echo_tick(&mut self, now: Instant) {
        let Some(interval) = self.shared.config.echo_interval else {
            return;
        };
        if self.lcp.state != State::Opened || self.flags & flag::NO_ECHO != 0 {
            return;
        }
        self.shared.timers.set(TimerKind::Echo, now + interval);
        let received = self.flags & flag::RECEIVED != 0;
        self.flags &= !flag::RECEIVED;
        if received && self.shared.config.echo_adaptive {
            self.echo_outstanding = 0;
            return;
        }
        if self.echo_outstanding >= self.shared.config.echo_failures.max(1) {
            self.close_with(now, DownReason::EchoTimeout);
            return;
        }
        let c = &mut self.shared.counters;
        if self.echo_outstanding > 0 {
            c.echo_missed = c.echo_missed.wrapping_add(1);
        }
        c.echo_sent = c.echo_sent.wrapping_add(1);
        self.echo_outstanding += 1;
        let (id, magic) = (self.echo_id, self.lcp_opts.magic());
        self.echo_id = self.echo_id.wrapping_add(1);
        self.send_lcp(code::ECHO_REQUEST, id, |w| w.u32(magic));
    }

    /// The idle timer: close if nothing passed since, else wait for the rest.
    pub(super) fn idle_tick(&mut self, now: Instant) {
        if self.idle_s == 0 || self.phase != Phase::Network {
            return;
        }
        let deadline = self.idle_deadline();
        if deadline <= now {
            self.close_with(now, DownReason::IdleTimeout);
        } else {
            self.shared.timers.set(TimerKind::Idle, deadline);
        }
    }

    pub(super) fn arm_idle(&mut self, now: Instant) {
        self.last_activity = self.last_activity.max(now);
        let deadline = self.idle_deadline();
        self.shared.timers.set(TimerKind::Idle, deadline);
    }

    fn idle_deadline(&self) -> Instant {
        self.last_activity + std::time::Duration::from_secs(u64::from(self.idle_s))
    }

    /// A packet of an NCP.
    pub(super) fn ncp_frame(&mut self, now: Instant, proto: u16, info: &[u8], rng: &mut dyn Rng) {
        if self.phase != Phase::Network {
            // NCP packets before the network phase are silently discarded (RFC 1661 §3.5,
            // RFC 1332 §2, RFC 5072 §3).
            self.discard();
            return;
        }
        let Ok(p) = ControlPacket::parse(info) else {
            self.malformed();
            return;
        };
        let received = self.ncp_run(now, proto, NcpStep::Receive(&p, rng));
        let renegotiation = matches!(&received, Received::Done(a) if a.contains(Actions::TLD));
        self.ncp_result(now, proto, received);
        if renegotiation {
            self.renegotiated(now);
        }
    }

    /// The peer took LCP or an NCP out of Opened (RFC 1661 §4.3: a Configure-Request, -Ack
    /// or -Nak in Opened renegotiates; an NCP's Terminate-Request closes it until the peer
    /// opens it again). Each such round takes the network layer down and, for LCP,
    /// authenticates the peer again (a new request to the host, and to its RADIUS server):
    /// counted, and past `max_renegotiations` within [`RENEGOTIATION_WINDOW`] the link
    /// closes, so that a peer cannot make that work at the rate it sends packets.
    fn renegotiated(&mut self, now: Instant) {
        let c = &mut self.shared.counters;
        c.renegotiations = c.renegotiations.wrapping_add(1);
        let max = self.shared.config.max_renegotiations;
        if max == 0 {
            return;
        }
        if self.reneg_count == 0 || now >= self.reneg_since + RENEGOTIATION_WINDOW {
            self.reneg_since = now;
            self.reneg_count = 0;
        }
        self.reneg_count = self.reneg_count.saturating_add(1);
        if self.reneg_count > max {
            self.close_with(now, DownReason::Renegotiations);
        }
    }

    /// An NCP's Restart timer expired.
    pub(super) fn ncp_timeout(&mut self, now: Instant, proto: u16) {
        let received = self.ncp_run(now, proto, NcpStep::Timeout);
        self.ncp_result(now, proto, received);
    }

    fn ncp_run(&mut self, now: Instant, proto: u16, step: NcpStep<'_, '_>) -> Received {
        let mru = self.lcp_opts.peer_mru;
        let mut cx = self.shared.cx_with(now, mru, true);
        match proto {
            protocol::IPCP => step.run(&mut self.ipcp, &mut self.ipcp_opts, &mut cx),
            _ => step.run(&mut self.ipv6cp, &mut self.ipv6cp_opts, &mut cx),
        }
    }

    fn ncp_result(&mut self, now: Instant, proto: u16, received: Received) {
        let actions = match received {
            Received::Done(actions) => actions,
            Received::Fatal(_) => {
                // The NCP cannot be agreed on: close it; the link goes on if another is up.
                let r = self.ncp_run(now, proto, NcpStep::Event(FsmEvent::Close));
                return self.ncp_result(now, proto, r);
            }
            Received::Malformed => {
                self.malformed();
                return;
            }
            Received::Invalid => {
                self.stale();
                return;
            }
        };
        let v4 = proto == protocol::IPCP;
        if actions.contains(Actions::TLD) {
            self.push(if v4 { Event::Ipv4Down } else { Event::Ipv6Down });
        }
        if actions.contains(Actions::TLU) {
            self.push(if v4 {
                Event::Ipv4Up(self.ipcp_opts.info())
            } else {
                Event::Ipv6Up(self.ipv6cp_opts.info())
            });
            self.network_up(now);
        }
        if actions.contains(Actions::TLF) {
            self.check_network(now);
        }
    }

    /// A network protocol came up.
    fn network_up(&mut self, now: Instant) {
        // The peer is past authentication: no Success needs repeating (a re-challenge in
        // progress keeps its state).
        if !self.rechallenging() {
            self.auth = None;
        }
        if self.idle_s != 0 && self.shared.timers.get(TimerKind::Idle).is_none() {
            self.last_activity = now;
            self.arm_idle(now);
        }
        if self.flags & flag::NETWORK_WAS_UP != 0 {
            return;
        }
        self.flags |= flag::NETWORK_WAS_UP;
        if let Some(d) = self.shared.config.session_timeout
            && self.flags & flag::SESSION_SET == 0
        {
            self.shared.timers.set(TimerKind::Session, now + d);
        }
    }

    /// Closes the link when no network protocol is up or negotiating.
    fn check_network(&mut self, now: Instant) {
        if self.phase != Phase::Network {
            return;
        }
        let config = &self.shared.config;
        let alive = |on: bool, s: State| on && (s.negotiating() || s == State::Opened);
        if !alive(config.ipv4.is_some(), self.ipcp.state)
            && !alive(config.ipv6.is_some(), self.ipv6cp.state)
        {
            self.close_with(now, DownReason::NoNetworkProtocol);
        }
    }
}
