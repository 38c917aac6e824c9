//! The RFC 1661 §4.1 table once more, this time through the running automaton: for every
//! state and event, a fixture puts an automaton in the state (smoltcp's habit), the event
//! arrives as the packet, timeout or command that causes it, and the packets sent, the layer
//! actions returned, the Restart counter and timer, and the next state are checked against the
//! table's actions.

use std::time::Duration;

use l2tp_proto::rng::{DeterministicRng, Rng};
use l2tp_proto::time::Instant;

use crate::config::Retries;
use crate::event::DownReason;
use crate::fsm::machine::{Answer, Cx, Fsm, NakValue, Negotiator, OptBuf, Received};
use crate::fsm::{Actions, Event, State, transition};
use crate::outq::OutQueue;
use crate::timer::{TimerKind, TimerTable};
use crate::wire::{ControlPacket, PppOption, code, protocol, split_protocol};

/// Requests option 1 = AA; acknowledges option 1, Naks option 2 toward BB, rejects the rest.
#[derive(Debug, Default)]
struct TestOpts {
    restarts: u32,
    accepted: Vec<u8>,
    naked: Vec<u8>,
    rejected: Vec<u8>,
}

impl Negotiator for TestOpts {
    const PROTOCOL: u16 = protocol::IPCP;
    const TIMER: TimerKind = TimerKind::IpcpRestart;

    fn restart(&mut self) {
        self.restarts += 1;
    }

    fn request(&self, out: &mut OptBuf) {
        out.option(1, &[0xaa]);
    }

    fn check(&self, o: PppOption<'_>, _: &mut dyn Rng) -> Answer {
        match o.kind {
            1 => Answer::Ack,
            2 => Answer::Nak(NakValue::new(&[0xbb])),
            _ => Answer::Reject,
        }
    }

    fn accept(&mut self, o: PppOption<'_>) {
        self.accepted.push(o.kind);
    }

    fn nak(&mut self, o: PppOption<'_>, _: &mut dyn Rng) -> Result<(), DownReason> {
        self.naked.push(o.kind);
        Ok(())
    }

    fn reject(&mut self, o: PppOption<'_>) -> Result<(), DownReason> {
        self.rejected.push(o.kind);
        Ok(())
    }
}

/// An automaton in a state, with everything it sends to.
struct Fixture {
    fsm: Fsm,
    opts: TestOpts,
    env: Env,
}

/// The link around an automaton.
struct Env {
    out: OutQueue,
    timers: TimerTable,
    retries: Retries,
    rng: DeterministicRng,
    now: Instant,
    full: u32,
}

impl Env {
    fn cx(&mut self) -> (Cx<'_>, &mut DeterministicRng) {
        (
            Cx {
                now: self.now,
                retries: &self.retries,
                out: &mut self.out,
                timers: &mut self.timers,
                peer_mru: 1500,
                term_message: "bye",
                queue_full: &mut self.full,
            },
            &mut self.rng,
        )
    }
}

/// Where the fixture's Restart timer stands before the event, to see it kept, restarted or
/// stopped.
const EARLIER: Instant = Instant::from_secs(50);

impl Fixture {
    fn in_state(state: State) -> Self {
        let mut timers = TimerTable::default();
        timers.set(TimerKind::IpcpRestart, EARLIER);
        Self {
            fsm: Fsm::in_state(state),
            opts: TestOpts::default(),
            env: Env {
                out: OutQueue::default(),
                timers,
                retries: Retries::default(),
                rng: DeterministicRng::new(1),
                now: Instant::from_secs(100),
                full: 0,
            },
        }
    }

    /// Sends the packet `bytes` (code, id, length, data) to the automaton.
    fn packet(&mut self, bytes: &[u8]) -> Received {
        let p = ControlPacket::parse(bytes).unwrap_or_else(|e| panic!("{e}"));
        let (mut cx, rng) = self.env.cx();
        self.fsm.receive(&mut self.opts, &mut cx, rng, &p)
    }

    /// Makes `event` happen the way it happens on a link.
    fn cause(&mut self, event: Event) -> Actions {
        let received = match event {
            Event::Up | Event::Down | Event::Open | Event::Close | Event::EchoOrDiscard => {
                let (mut cx, _) = self.env.cx();
                return self.fsm.event(&mut self.opts, &mut cx, event);
            }
            Event::TimeoutRetry | Event::TimeoutGiveUp => {
                if event == Event::TimeoutGiveUp {
                    // Exhaust the counter: zrc does it, and TO- is what follows.
                    let (mut cx, _) = self.env.cx();
                    self.fsm = exhausted(self.fsm, &mut self.opts, &mut cx);
                    self.env.out = OutQueue::default();
                    self.env.timers.set(TimerKind::IpcpRestart, EARLIER);
                }
                let (mut cx, _) = self.env.cx();
                return self.fsm.timeout(&mut self.opts, &mut cx);
            }
            Event::GoodConfigureRequest => self.packet(&[1, 7, 0, 7, 1, 3, 0xaa]),
            Event::BadConfigureRequest => self.packet(&[1, 7, 0, 7, 2, 3, 0x01]),
            Event::ConfigureAck => self.packet(&[2, 0, 0, 7, 1, 3, 0xaa]),
            Event::ConfigureNak => self.packet(&[3, 0, 0, 7, 1, 3, 0xbb]),
            Event::TerminateRequest => self.packet(&[5, 8, 0, 4]),
            Event::TerminateAck => self.packet(&[6, 9, 0, 4]),
            Event::UnknownCode => self.packet(&[42, 10, 0, 5, 0]),
            Event::PermittedReject => self.packet(&[7, 11, 0, 8, 42, 10, 0, 4]),
            Event::CatastrophicReject => self.packet(&[7, 12, 0, 8, 1, 10, 0, 4]),
        };
        match received {
            Received::Done(a) => a,
            // An illegal transition: the packet is discarded.
            Received::Invalid => Actions::NONE,
            other => panic!("{event}: {other:?}"),
        }
    }

    /// The codes of the packets sent, sorted.
    fn sent_codes(&mut self) -> Vec<u8> {
        let mut codes = Vec::new();
        while let Some(f) = self.env.out.pop() {
            let (proto, info) = split_protocol(f).unwrap_or((0, &[]));
            assert_eq!(proto, protocol::IPCP);
            codes.push(info[0]);
        }
        codes.sort_unstable();
        codes
    }
}

/// The same automaton with its Restart counter at zero (what `zrc` does).
fn exhausted(fsm: Fsm, opts: &mut TestOpts, cx: &mut Cx<'_>) -> Fsm {
    let mut f = fsm;
    let state = f.state;
    // Run TO+ until the counter is spent, then put the state back.
    while f.restart_count() > 0 {
        f.state = State::Closing;
        let _ = f.timeout(opts, cx);
    }
    f.state = state;
    f
}

/// The codes the table's actions send.
fn expected_codes(actions: Actions) -> Vec<u8> {
    let mut codes = Vec::new();
    for (a, c) in [
        (Actions::SCR, code::CONFIGURE_REQUEST),
        (Actions::SCA, code::CONFIGURE_ACK),
        (Actions::SCN, code::CONFIGURE_NAK),
        (Actions::STR, code::TERMINATE_REQUEST),
        (Actions::STA, code::TERMINATE_ACK),
        (Actions::SCJ, code::CODE_REJECT),
    ] {
        if actions.contains(a) {
            codes.push(c);
        }
    }
    codes.sort_unstable();
    codes
}

#[test]
fn every_transition_through_the_running_automaton() {
    let layer = Actions::TLU | Actions::TLD | Actions::TLS | Actions::TLF | Actions::SER;
    let mut checked = 0;
    for state in State::ALL {
        for event in Event::ALL {
            let mut f = Fixture::in_state(state);
            let before = if event == Event::TimeoutGiveUp {
                0
            } else {
                f.fsm.restart_count()
            };
            let returned = f.cause(event);
            let codes = f.sent_codes();
            let ctx = format!("{event} in {state}");
            let Some((actions, next)) = transition(state, event) else {
                assert_eq!(f.fsm.state, state, "{ctx}: illegal, nothing changes");
                assert!(codes.is_empty(), "{ctx}: illegal, nothing sent");
                assert!(returned.is_empty(), "{ctx}");
                continue;
            };
            assert_eq!(f.fsm.state, next, "{ctx}");
            assert_eq!(returned, actions.intersection(layer), "{ctx}");
            assert_eq!(codes, expected_codes(actions), "{ctx}: packets sent");
            // The Restart counter: irc sets it (Max-Terminate when a Terminate-Request
            // follows), zrc zeroes it, each request sent uses one.
            let mut count = before;
            if actions.contains(Actions::IRC) {
                count = if actions.contains(Actions::STR) {
                    2
                } else {
                    10
                };
            }
            if actions.contains(Actions::ZRC) {
                count = 0;
            }
            for a in [Actions::SCR, Actions::STR] {
                if actions.contains(a) {
                    count = count.saturating_sub(1);
                }
            }
            assert_eq!(f.fsm.restart_count(), count, "{ctx}: Restart counter");
            // The Restart timer: started by scr, str and zrc; stopped on leaving the states
            // where it runs; left alone otherwise.
            let timer = f.env.timers.get(TimerKind::IpcpRestart);
            let restarts = actions.contains(Actions::SCR)
                || actions.contains(Actions::STR)
                || actions.contains(Actions::ZRC);
            let want = if restarts {
                Some(f.env.now + Duration::from_secs(3))
            } else if !next.timer_runs() {
                None
            } else {
                Some(EARLIER)
            };
            assert_eq!(timer, want, "{ctx}: Restart timer");
            // sca acknowledges the options it answers.
            if actions.contains(Actions::SCA) {
                assert_eq!(f.opts.accepted, vec![1], "{ctx}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 120, "every legal cell (160 less 40 illegal)");
}

#[test]
fn configure_answers_carry_the_right_options() {
    let mut f = Fixture::in_state(State::ReqSent);
    // A Nak'able option gets a Nak with our value, in order, without the acceptable ones.
    let r = f.packet(&[1, 3, 0, 10, 1, 3, 0xaa, 2, 3, 0x01]);
    assert!(matches!(r, Received::Done(_)));
    let frame = f.env.out.pop().map(<[u8]>::to_vec).unwrap_or_default();
    assert_eq!(&frame[4..], &[3, 3, 0, 7, 2, 3, 0xbb]);
    // Any rejected option makes it a Reject listing only those (RFC 1661 §5.4): the
    // Nak'able one waits for the next request.
    let r = f.packet(&[1, 4, 0, 13, 1, 3, 0xaa, 2, 3, 0x01, 9, 3, 7]);
    assert!(matches!(r, Received::Done(_)));
    let frame = f.env.out.pop().map(<[u8]>::to_vec).unwrap_or_default();
    assert_eq!(&frame[4..], &[4, 4, 0, 7, 9, 3, 7]);
    // After Max-Failure Naks without an Ack, Naks become Rejects (RFC 1661 §4.6).
    let mut f = Fixture::in_state(State::ReqSent);
    for i in 0..5u8 {
        let _ = f.packet(&[1, i, 0, 7, 2, 3, 0x01]);
        let frame = f.env.out.pop().map(<[u8]>::to_vec).unwrap_or_default();
        assert_eq!(frame[4], code::CONFIGURE_NAK, "Nak {i}");
    }
    let _ = f.packet(&[1, 9, 0, 7, 2, 3, 0x01]);
    let frame = f.env.out.pop().map(<[u8]>::to_vec).unwrap_or_default();
    assert_eq!(&frame[4..], &[4, 9, 0, 7, 2, 3, 0x01]);
}

#[test]
fn answers_to_requests_we_did_not_send_are_discarded() {
    let mut f = Fixture::in_state(State::ReqSent);
    // Wrong identifier.
    assert_eq!(f.packet(&[2, 5, 0, 7, 1, 3, 0xaa]), Received::Invalid);
    // Options that are not our request.
    assert_eq!(f.packet(&[2, 0, 0, 7, 1, 3, 0xab]), Received::Invalid);
    // A Reject of an option we did not request.
    assert_eq!(f.packet(&[4, 0, 0, 7, 9, 3, 0xaa]), Received::Invalid);
    // Malformed options.
    assert_eq!(f.packet(&[1, 0, 0, 7, 1, 9, 0xaa]), Received::Malformed);
    assert_eq!(f.packet(&[3, 0, 0, 6, 1, 1]), Received::Malformed);
    assert_eq!(f.fsm.state, State::ReqSent);
    assert!(f.env.out.pop().is_none());
    // The real Ack is taken once; a duplicate is discarded.
    assert!(matches!(
        f.packet(&[2, 0, 0, 7, 1, 3, 0xaa]),
        Received::Done(_)
    ));
    assert_eq!(f.fsm.state, State::AckRcvd);
    assert_eq!(f.packet(&[2, 0, 0, 7, 1, 3, 0xaa]), Received::Invalid);
}

#[test]
fn a_stubborn_nak_gives_up_after_max_failure() {
    let mut f = Fixture::in_state(State::ReqSent);
    let mut id = 0;
    for round in 0..10 {
        let r = f.packet(&[3, id, 0, 7, 1, 3, 0xbb]);
        let _ = f.sent_codes();
        if f.fsm.state == State::Stopped {
            assert_eq!(r, Received::Done(Actions::TLF));
            assert_eq!(round, 5, "the sixth Nak is one too many");
            return;
        }
        // Our next request has the next identifier.
        id = id.wrapping_add(1);
    }
    panic!("never gave up");
}
