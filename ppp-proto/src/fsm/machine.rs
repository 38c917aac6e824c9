//! One protocol's automaton at run time: the table of [`super::transition`], the counters of
//! RFC 1661 §4.6, the Restart timer, and the packets the actions send (§4.4, §5.1-§5.6). What
//! to request and how to answer each option is the [`Negotiator`]'s business (LCP, IPCP,
//! IPv6CP).

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;

use super::{Actions, Event, State, transition};
use crate::config::Retries;
use crate::event::DownReason;
use crate::outq::OutQueue;
use crate::timer::{TimerKind, TimerTable};
use crate::wire::code;
use crate::wire::{ControlPacket, OptionIter, PppOption};

/// The per-protocol half of the automaton.
pub(crate) trait Negotiator {
    /// The PPP protocol.
    const PROTOCOL: u16;
    /// The Restart timer of this protocol.
    const TIMER: TimerKind;

    /// A new negotiation starts (a Configure-Request is sent from a state other than Req-Sent,
    /// Ack-Rcvd or Ack-Sent): go back to what we want, forget what the peer asked.
    fn restart(&mut self);

    /// The options of our Configure-Request, as things stand.
    fn request(&self, out: &mut OptBuf);

    /// How to answer one option of the peer's Configure-Request. It must not change `self`:
    /// it runs once to classify the request and once to write the answer.
    fn check(&self, option: PppOption<'_>, rng: &mut dyn Rng) -> Answer;

    /// The option of a peer's Configure-Request we are acknowledging.
    fn accept(&mut self, option: PppOption<'_>);

    /// Options missing from the peer's Configure-Request that we want it to include: they are
    /// appended to a Configure-Nak (RFC 1661 §5.3 hints; RFC 1332 §3.3 and RFC 5072 §4.1 ask
    /// for it), once per negotiation (`naked` hears of them).
    fn hint(&self, _request: &[u8], _out: &mut OptBuf) {}

    /// We sent a Configure-Nak suggesting `value` for option `kind`, asked for or hinted
    /// (loop-back detection and hints remember it).
    fn naked(&mut self, _kind: u8, _value: &[u8]) {}

    /// The peer Nak'ed our request with this option.
    ///
    /// # Errors
    ///
    /// The reason to give up when the peer insists on something we cannot do.
    fn nak(&mut self, option: PppOption<'_>, rng: &mut dyn Rng) -> Result<(), DownReason>;

    /// The peer rejected this option of our request.
    ///
    /// # Errors
    ///
    /// The reason to give up when we cannot do without the option.
    fn reject(&mut self, option: PppOption<'_>) -> Result<(), DownReason>;
}

/// The answer to one option of a peer's Configure-Request.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Answer {
    /// Acceptable as it is.
    Ack,
    /// Acceptable with this value instead (at most 8 octets).
    Nak(NakValue),
    /// Not acceptable at all (unknown, or not negotiable).
    Reject,
}

/// The value suggested in a Configure-Nak.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct NakValue {
    len: u8,
    bytes: [u8; 8],
}

impl NakValue {
    pub(crate) fn new(value: &[u8]) -> Self {
        let mut bytes = [0; 8];
        let len = value.len().min(8);
        bytes[..len].copy_from_slice(&value[..len]);
        Self {
            len: len as u8,
            bytes,
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The options of one Configure-Request (at most 64 octets: ours never come near).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptBuf {
    len: u8,
    bytes: [u8; 64],
}

impl OptBuf {
    pub(crate) fn new() -> Self {
        Self {
            len: 0,
            bytes: [0; 64],
        }
    }

    pub(crate) fn option(&mut self, kind: u8, value: &[u8]) {
        let at = usize::from(self.len);
        let end = at + 2 + value.len();
        if let Some(dst) = self.bytes.get_mut(at..end) {
            dst[0] = kind;
            dst[1] = (value.len() + 2) as u8;
            dst[2..].copy_from_slice(value);
            self.len = end as u8;
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// What the shared machinery needs from the link for one step.
pub(crate) struct Cx<'a> {
    pub(crate) now: Instant,
    pub(crate) retries: &'a Retries,
    pub(crate) out: &'a mut OutQueue,
    pub(crate) timers: &'a mut TimerTable,
    /// The largest packet the peer takes (its MRU): Code-Rejects are cut to it.
    pub(crate) peer_mru: usize,
    /// The text of our Terminate-Requests.
    pub(crate) term_message: &'a str,
    /// Frames dropped because the queue was full.
    pub(crate) queue_full: &'a mut u32,
}

impl Cx<'_> {
    fn send(
        &mut self,
        protocol: u16,
        code: u8,
        identifier: u8,
        body: impl FnOnce(&mut crate::outq::PacketWriter<'_>),
    ) {
        if !self
            .out
            .packet(protocol, code, identifier, self.peer_mru, body)
        {
            *self.queue_full += 1;
        }
    }
}

/// The result of a received packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Received {
    /// Processed; these layer actions (tlu, tld, tls, tlf, ser) are the caller's to carry out.
    Done(Actions),
    /// The peer insists on something we cannot do: give up with this reason.
    Fatal(DownReason),
    /// Malformed (discarded, RFC 1661 §5).
    Malformed,
    /// Well formed but not acceptable: an answer to a request we did not send, or an illegal
    /// transition (discarded).
    Invalid,
}

/// The automaton of one protocol.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fsm {
    pub(crate) state: State,
    /// The Restart counter.
    restart: u8,
    /// Configure-Naks sent since the last Configure-Ack sent (Max-Failure).
    failures: u8,
    /// Configure-Naks and -Rejects received in this negotiation.
    naks_received: u8,
    /// The Identifier of our last Configure-Request.
    request_id: u8,
    /// Whether the last Configure-Request has been answered (later answers are duplicates).
    answered: bool,
    /// The Identifier of our next Configure-Request or Terminate-Request.
    next_id: u8,
    /// The Identifier and a fingerprint of the options of the peer's Configure-Request we
    /// last acknowledged.
    acked: Option<(u8, u16)>,
}

/// A 16-bit fingerprint of a Configure-Request's options (FNV-1a, folded).
fn fingerprint(options: &[u8]) -> u16 {
    let h = options.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    (h >> 16) as u16 ^ h as u16
}

/// The layer actions the caller carries out.
const LAYER: Actions =
    Actions(Actions::TLU.0 | Actions::TLD.0 | Actions::TLS.0 | Actions::TLF.0 | Actions::SER.0);

impl Fsm {
    /// Opened without a negotiation of its own: another party negotiated on this side's
    /// behalf (RFC 2661 §4.4.5 proxy LCP). No timer runs; the next Configure-Request the peer
    /// sends renegotiates as in any Opened automaton, with `restart` Configure-Requests left
    /// (Opened's RCR does not initialize the counter, RFC 1661 §4.1).
    pub(crate) fn opened_by_proxy(&mut self, restart: u8) {
        self.state = State::Opened;
        self.answered = true;
        self.restart = restart;
        self.acked = None;
    }

    /// Runs an event that carries no packet (Up, Down, Open, Close, the timeouts, RXJ).
    pub(crate) fn event<N: Negotiator>(
        &mut self,
        neg: &mut N,
        cx: &mut Cx<'_>,
        e: Event,
    ) -> Actions {
        let Some((actions, next)) = transition(self.state, e) else {
            return Actions::NONE;
        };
        self.perform(neg, cx, actions, next, None)
    }

    /// The Restart timer expired: TO+ or TO- (RFC 1661 §4.3).
    pub(crate) fn timeout<N: Negotiator>(&mut self, neg: &mut N, cx: &mut Cx<'_>) -> Actions {
        let e = if self.restart > 0 {
            Event::TimeoutRetry
        } else {
            Event::TimeoutGiveUp
        };
        self.event(neg, cx, e)
    }

    /// A packet of this protocol with a code from 1 to 7, or an unknown code (RUC).
    pub(crate) fn receive<N: Negotiator>(
        &mut self,
        neg: &mut N,
        cx: &mut Cx<'_>,
        rng: &mut dyn Rng,
        p: &ControlPacket<'_>,
    ) -> Received {
        let input = Input { packet: p, rng };
        let e = match p.code {
            code::CONFIGURE_REQUEST => return self.configure_request(neg, cx, input),
            code::CONFIGURE_ACK => {
                if OptionIter::validate(p.data).is_err() {
                    return Received::Malformed;
                }
                let mut ours = OptBuf::new();
                neg.request(&mut ours);
                if p.identifier != self.request_id || self.answered || p.data != ours.as_slice() {
                    return Received::Invalid;
                }
                self.answered = true;
                Event::ConfigureAck
            }
            code::CONFIGURE_NAK | code::CONFIGURE_REJECT => {
                if OptionIter::validate(p.data).is_err() {
                    return Received::Malformed;
                }
                if p.identifier != self.request_id || self.answered {
                    return Received::Invalid;
                }
                let mut ours = OptBuf::new();
                neg.request(&mut ours);
                let reject = p.code == code::CONFIGURE_REJECT;
                // A Configure-Reject names options of our request, unchanged (RFC 1661 §5.4).
                if reject
                    && !OptionIter::new(p.data)
                        .flatten()
                        .all(|o| contains(&ours, o))
                {
                    return Received::Invalid;
                }
                self.answered = true;
                if self.state.negotiating() || self.state == State::Opened {
                    for o in OptionIter::new(p.data).flatten() {
                        let r = if reject {
                            neg.reject(o)
                        } else {
                            neg.nak(o, input.rng)
                        };
                        if let Err(why) = r {
                            return Received::Fatal(why);
                        }
                    }
                    self.naks_received = self.naks_received.saturating_add(1);
                    if self.naks_received > cx.retries.max_failure && self.state.negotiating() {
                        // The peer does not converge: give up as if the Restart counter were
                        // exhausted.
                        return Received::Done(self.event(neg, cx, Event::TimeoutGiveUp));
                    }
                }
                Event::ConfigureNak
            }
            code::TERMINATE_REQUEST => Event::TerminateRequest,
            code::TERMINATE_ACK => Event::TerminateAck,
            code::CODE_REJECT => {
                // The rejected packet's code: losing any of 1-7 makes the protocol unusable.
                match p.data.first() {
                    Some(1..=7) => Event::CatastrophicReject,
                    Some(_) => Event::PermittedReject,
                    None => return Received::Malformed,
                }
            }
            _ => Event::UnknownCode,
        };
        let Some((actions, next)) = transition(self.state, e) else {
            return Received::Invalid;
        };
        Received::Done(self.perform(neg, cx, actions, next, Some(input)))
    }

    fn configure_request<N: Negotiator>(
        &mut self,
        neg: &mut N,
        cx: &mut Cx<'_>,
        input: Input<'_, '_>,
    ) -> Received {
        let data = input.packet.data;
        if OptionIter::validate(data).is_err() {
            return Received::Malformed;
        }
        let p = input.packet;
        if self.state == State::Opened && self.acked == Some((p.identifier, fingerprint(data))) {
            // The request that opened the automaton, again: its Identifier MUST have changed
            // if the peer had had our Configure-Ack (RFC 1661 §5.1), so this is a copy the
            // network duplicated or delayed, or a retransmission of a peer whose Ack was
            // lost. Acknowledged again as it stands; a renegotiation (RCR in Opened) would
            // take the link or its network layer down for nothing, and on a path that
            // duplicates often, again and again.
            cx.send(N::PROTOCOL, code::CONFIGURE_ACK, p.identifier, |w| {
                w.bytes(data)
            });
            return Received::Done(Actions::NONE);
        }
        let mut worst = Answer::Ack;
        for o in OptionIter::new(data).flatten() {
            match neg.check(o, input.rng) {
                Answer::Reject => worst = Answer::Reject,
                Answer::Nak(v) if worst == Answer::Ack => worst = Answer::Nak(v),
                _ => {}
            }
        }
        let mut hints = OptBuf::new();
        neg.hint(data, &mut hints);
        let e = if worst == Answer::Ack && hints.as_slice().is_empty() {
            Event::GoodConfigureRequest
        } else {
            Event::BadConfigureRequest
        };
        let Some((actions, next)) = transition(self.state, e) else {
            return Received::Invalid;
        };
        Received::Done(self.perform(neg, cx, actions, next, Some(input)))
    }

    /// Carries out `actions` and moves to `next`; returns the layer actions.
    fn perform<N: Negotiator>(
        &mut self,
        neg: &mut N,
        cx: &mut Cx<'_>,
        actions: Actions,
        next: State,
        input: Option<Input<'_, '_>>,
    ) -> Actions {
        let previous = self.state;
        self.state = next;
        if actions.contains(Actions::IRC) {
            self.restart = if actions.contains(Actions::STR) {
                cx.retries.max_terminate
            } else {
                cx.retries.max_configure
            };
        }
        if actions.contains(Actions::ZRC) {
            self.restart = 0;
        }
        if actions.contains(Actions::SCR) {
            if !previous.negotiating() {
                neg.restart();
                self.failures = 0;
                self.naks_received = 0;
            }
            let mut opts = OptBuf::new();
            neg.request(&mut opts);
            self.request_id = self.take_id();
            self.answered = false;
            self.restart = self.restart.saturating_sub(1);
            cx.send(N::PROTOCOL, code::CONFIGURE_REQUEST, self.request_id, |w| {
                w.bytes(opts.as_slice())
            });
        }
        if let Some(input) = input {
            let p = input.packet;
            if actions.contains(Actions::SCA) {
                self.failures = 0;
                self.acked = Some((p.identifier, fingerprint(p.data)));
                for o in OptionIter::new(p.data).flatten() {
                    neg.accept(o);
                }
                cx.send(N::PROTOCOL, code::CONFIGURE_ACK, p.identifier, |w| {
                    w.bytes(p.data)
                });
            }
            if actions.contains(Actions::SCN) {
                self.configure_nak(neg, cx, input);
            }
            if actions.contains(Actions::STA) {
                cx.send(N::PROTOCOL, code::TERMINATE_ACK, p.identifier, |_| {});
            }
            if actions.contains(Actions::SCJ) {
                let id = self.take_id();
                cx.send(N::PROTOCOL, code::CODE_REJECT, id, |w| w.bytes(p.bytes));
            }
        }
        if actions.contains(Actions::STR) {
            let id = self.take_id();
            self.restart = self.restart.saturating_sub(1);
            let message = cx.term_message.as_bytes();
            cx.send(N::PROTOCOL, code::TERMINATE_REQUEST, id, |w| {
                w.bytes(message)
            });
        }
        if actions.contains(Actions::SCR)
            || actions.contains(Actions::STR)
            || actions.contains(Actions::ZRC)
        {
            cx.timers.set(N::TIMER, cx.now + cx.retries.restart);
        } else if !next.timer_runs() {
            cx.timers.stop(N::TIMER);
        }
        actions.intersection(LAYER)
    }

    /// Sends a Configure-Reject of the options we cannot take at all, if any (RFC 1661 §5.4:
    /// the Nak'able ones wait for the next round); else a Configure-Nak, or a Configure-Reject
    /// of the Nak'able options once Max-Failure Naks were sent (RFC 1661 §4.6: further Naks
    /// become Rejects).
    fn configure_nak<N: Negotiator>(&mut self, neg: &mut N, cx: &mut Cx<'_>, input: Input<'_, '_>) {
        let p = input.packet;
        let answers = || OptionIter::new(p.data).flatten();
        let mut any_reject = false;
        for o in answers() {
            any_reject |= neg.check(o, input.rng) == Answer::Reject;
        }
        let naks_too = !any_reject && self.failures >= cx.retries.max_failure;
        if any_reject || naks_too {
            let rng = &mut *input.rng;
            cx.send(N::PROTOCOL, code::CONFIGURE_REJECT, p.identifier, |w| {
                for o in answers() {
                    let rejected = match neg.check(o, rng) {
                        Answer::Reject => true,
                        Answer::Nak(_) => naks_too,
                        Answer::Ack => false,
                    };
                    if rejected {
                        w.option(o.kind, o.value);
                    }
                }
            });
            return;
        }
        self.failures = self.failures.saturating_add(1);
        let mut naked = [(0u8, NakValue::new(&[])); 8];
        let mut n = 0;
        let mut hints = OptBuf::new();
        neg.hint(p.data, &mut hints);
        let rng = &mut *input.rng;
        cx.send(N::PROTOCOL, code::CONFIGURE_NAK, p.identifier, |w| {
            for o in answers() {
                if let Answer::Nak(v) = neg.check(o, rng) {
                    w.option(o.kind, v.as_slice());
                    if let Some(slot) = naked.get_mut(n) {
                        *slot = (o.kind, v);
                        n += 1;
                    }
                }
            }
            w.bytes(hints.as_slice());
        });
        for (kind, v) in &naked[..n] {
            neg.naked(*kind, v.as_slice());
        }
        for o in OptionIter::new(hints.as_slice()).flatten() {
            neg.naked(o.kind, o.value);
        }
    }

    fn take_id(&mut self) -> u8 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Puts the automaton in `state` with a full Restart counter, as if it had sent a
    /// Configure-Request with Identifier 0 (tests).
    #[cfg(test)]
    pub(crate) fn in_state(state: State) -> Self {
        Self {
            state,
            restart: 10,
            next_id: 1,
            ..Self::default()
        }
    }

    /// The Restart counter (tests).
    #[cfg(test)]
    pub(crate) fn restart_count(&self) -> u8 {
        self.restart
    }
}

/// A received packet and the randomness to answer it.
struct Input<'p, 'r> {
    packet: &'p ControlPacket<'p>,
    rng: &'r mut dyn Rng,
}

/// Whether `ours` holds `option` with the same value.
fn contains(ours: &OptBuf, option: PppOption<'_>) -> bool {
    OptionIter::new(ours.as_slice())
        .flatten()
        .any(|o| o.kind == option.kind && o.value == option.value)
}
