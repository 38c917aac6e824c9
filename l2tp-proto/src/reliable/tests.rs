//! Unit tests per behaviour, and a deterministic lossy-link simulation of two channels.

use std::collections::VecDeque;
use std::num::NonZeroU16;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

type Channel = ReliableChannel<u32, u32>;

fn channel() -> Channel {
    ReliableChannel::new(Config::default())
}

fn t(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

fn seq(value: u16) -> Seq {
    Seq::new(value)
}

fn window(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

/// A transmit reduced to owned values: (ns, nr, payload or `None` for an explicit ack).
fn poll(channel: &mut Channel, now: Instant) -> Option<(u16, u16, Option<u32>)> {
    channel
        .poll_transmit(now)
        .map(|t| (t.ns.value(), t.nr.value(), t.payload.copied()))
}

fn poll_all(channel: &mut Channel, now: Instant) -> Vec<(u16, u16, Option<u32>)> {
    std::iter::from_fn(|| poll(channel, now)).collect()
}

fn delivered(channel: &mut Channel) -> Vec<u32> {
    std::iter::from_fn(|| channel.poll_delivered()).collect()
}

#[test]
fn idle_channel_is_small_and_allocates_nothing() {
    let idle = channel();
    assert_eq!(idle.send_queue.capacity(), 0);
    assert_eq!(idle.out_of_order.capacity(), 0);
    assert_eq!(idle.delivered.capacity(), 0);
    assert!(idle.is_quiescent());
    assert!(idle.all_acked());
    assert_eq!(idle.poll_timeout(), None);

    let size = size_of::<ReliableChannel<Vec<u8>, Vec<u8>>>();
    println!(
        "size_of ReliableChannel = {size} bytes (Config {}, Stats {}, three VecDeques {})",
        size_of::<Config>(),
        size_of::<Stats>(),
        3 * size_of::<VecDeque<Vec<u8>>>(),
    );
    // 10 000 tunnels then hold under 3 MB of reliable-delivery state.
    assert!(size <= 288, "ReliableChannel grew to {size} bytes");
}

#[test]
fn fresh_channel_sends_nothing() {
    let mut a = channel();
    assert_eq!(poll(&mut a, t(0)), None);
    assert_eq!(a.handle_timeout(t(100_000)), Ok(()));
    assert_eq!(a.poll_delivered(), None);
}

/// RFC 2661 Appendix B.1, lock-step tunnel establishment, with the final ZLB.
#[test]
fn appendix_b1_lock_step_establishment() {
    let (mut lac, mut lns) = (channel(), channel());

    assert_eq!(lac.send(1), seq(0)); // SCCRQ
    assert_eq!(poll(&mut lac, t(0)), Some((0, 0, Some(1))));
    assert_eq!(
        lns.on_receive(seq(0), seq(0), Some(1), t(10)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(delivered(&mut lns), [1]);

    assert_eq!(lns.send(2), seq(0)); // SCCRP
    assert_eq!(poll(&mut lns, t(20)), Some((0, 1, Some(2))));
    assert_eq!(
        lac.on_receive(seq(0), seq(1), Some(2), t(30)),
        ReceiveOutcome::Delivered
    );
    assert!(lac.all_acked(), "the SCCRP's Nr acknowledges the SCCRQ");

    assert_eq!(lac.send(3), seq(1)); // SCCCN
    assert_eq!(poll(&mut lac, t(40)), Some((1, 1, Some(3))));
    assert_eq!(
        lns.on_receive(seq(1), seq(1), Some(3), t(50)),
        ReceiveOutcome::Delivered
    );
    assert!(lns.all_acked());

    // Nothing to piggyback on: the LNS sends a ZLB with Nr 2, Ns 1 after the ack delay.
    assert_eq!(poll(&mut lns, t(50)), None);
    assert_eq!(lns.poll_timeout(), Some(t(150)));
    assert_eq!(poll(&mut lns, t(149)), None);
    assert_eq!(poll(&mut lns, t(150)), Some((1, 2, None)));
    assert_eq!(lns.stats().acks_sent, 1);

    assert_eq!(
        lac.on_receive(seq(1), seq(2), None, t(160)),
        ReceiveOutcome::Ack
    );
    assert!(lac.all_acked());
    // The SCCCN carried the LAC's acknowledgement of the SCCRP: no ZLB from the LAC.
    assert_eq!(poll(&mut lac, t(1000)), None);
    assert_eq!(delivered(&mut lac), [2]);
    assert_eq!(delivered(&mut lns), [3]);
    assert!(lac.is_quiescent() && lns.is_quiescent());
}

/// RFC 2661 Appendix B.2: a lost ICRP, a retransmitted ICRQ seen as a duplicate and answered by
/// a ZLB (Nr 3, Ns 2), then the ICRP retransmitted with the same Ns.
#[test]
fn appendix_b2_lost_packet_with_retransmission() {
    let (mut lac, mut lns) = (channel(), channel());
    // Bring both to LAC Ns 2 / Nr 1 and LNS Ns 1 / Nr 2 with a lossless exchange.
    for (ns, msg) in [(0u16, 10), (1, 11)] {
        assert_eq!(lac.send(msg), seq(ns));
        let (ns, nr, p) = poll(&mut lac, t(0)).unwrap_or_default();
        let _ = lns.on_receive(seq(ns), seq(nr), p, t(0));
        if ns == 0 {
            lns.send(20);
            let (ns, nr, p) = poll(&mut lns, t(0)).unwrap_or_default();
            let _ = lac.on_receive(seq(ns), seq(nr), p, t(0));
        }
    }
    let _ = poll(&mut lns, t(1000)); // ZLB for the LAC's Ns 1
    let _ = poll(&mut lac, t(1000)); // ZLB for the LNS's Ns 0
    let _ = lac.on_receive(seq(1), seq(2), None, t(1000));
    let _ = lns.on_receive(seq(2), seq(1), None, t(1000));
    assert_eq!(delivered(&mut lac), [20]);
    assert_eq!(delivered(&mut lns), [10, 11]);
    assert!(lac.is_quiescent() && lns.is_quiescent());

    let start = 2000;
    assert_eq!(lac.send(12), seq(2)); // ICRQ
    assert_eq!(poll(&mut lac, t(start)), Some((2, 1, Some(12))));
    assert_eq!(
        lns.on_receive(seq(2), seq(1), Some(12), t(start + 5)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(lns.send(21), seq(1)); // ICRP, lost
    assert_eq!(poll(&mut lns, t(start + 10)), Some((1, 3, Some(21))));

    // The LAC's timer started first, so fires first.
    assert_eq!(lac.poll_timeout(), Some(t(start + 1000)));
    assert_eq!(lac.handle_timeout(t(start + 1000)), Ok(()));
    assert_eq!(poll(&mut lac, t(start + 1000)), Some((2, 1, Some(12))));

    assert_eq!(
        lns.on_receive(seq(2), seq(1), Some(12), t(start + 1005)),
        ReceiveOutcome::Duplicate
    );
    assert_eq!(
        delivered(&mut lns),
        [12],
        "the duplicate is not delivered again"
    );
    assert_eq!(
        poll(&mut lns, t(start + 1005)),
        Some((2, 3, None)),
        "ZLB Nr 3, Ns 2"
    );
    assert_eq!(
        lac.on_receive(seq(2), seq(3), None, t(start + 1010)),
        ReceiveOutcome::Ack
    );
    assert!(lac.all_acked());

    assert_eq!(lns.handle_timeout(t(start + 1010)), Ok(()));
    assert_eq!(
        poll(&mut lns, t(start + 1010)),
        Some((1, 3, Some(21))),
        "same Ns"
    );
    assert_eq!(
        lac.on_receive(seq(1), seq(3), Some(21), t(start + 1015)),
        ReceiveOutcome::Delivered
    );
    lac.send(13); // ICCN carries Nr 2, acknowledging the ICRP
    assert_eq!(poll(&mut lac, t(start + 1020)), Some((3, 2, Some(13))));
}

#[test]
fn ns_increments_and_every_message_carries_current_nr() {
    let mut a = channel();
    a.set_peer_receive_window(window(8));
    for msg in 0..3 {
        assert_eq!(a.send(msg), seq(msg as u16));
    }
    assert_eq!(a.next_ns(), seq(3));
    assert_eq!(poll(&mut a, t(0)), Some((0, 0, Some(0))));
    // The peer's first message raises our Nr (and acknowledges message 0).
    assert_eq!(
        a.on_receive(seq(0), seq(1), Some(100), t(1)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(a.nr(), seq(1));
    assert_eq!(poll_all(&mut a, t(2)), [(1, 1, Some(1)), (2, 1, Some(2))]);
}

/// RFC 2661 §5.8: "The retransmitted message contains the same Ns value, but the Nr value MUST
/// be updated".
#[test]
fn retransmission_carries_updated_nr() {
    let mut a = channel();
    a.send(7);
    assert_eq!(poll(&mut a, t(0)), Some((0, 0, Some(7))));
    // The peer's message arrives without acknowledging ours (its Nr is 0).
    assert_eq!(
        a.on_receive(seq(0), seq(0), Some(1), t(500)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(
        a.on_receive(seq(1), seq(0), Some(2), t(600)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(a.handle_timeout(t(1000)), Ok(()));
    assert_eq!(poll_all(&mut a, t(1000)), [(0, 2, Some(7))]);
    assert_eq!(a.stats().retransmitted, 1);
    assert_eq!(a.stats().sent, 1);
    assert_eq!(a.stats().acks_sent, 0, "the retransmission carried the ack");
}

#[test]
fn acknowledged_messages_leave_the_send_queue() {
    let mut a = channel();
    a.set_peer_receive_window(window(8));
    grow_cwnd(&mut a, 4);
    for msg in 0..4 {
        a.send(msg);
    }
    let sent = poll_all(&mut a, t(0));
    assert_eq!(sent.len(), 4);
    let base = sent[0].0;

    assert_eq!(
        a.on_receive(seq(0), seq(base + 2), None, t(10)),
        ReceiveOutcome::Ack
    );
    assert_eq!(a.unacked(), 2);
    assert_eq!(a.in_flight(), 2);
    assert!(!a.all_acked());
    assert_eq!(a.send_queue.front(), Some(&2));

    // A stale Nr, as in a reordered older message, changes nothing.
    assert_eq!(
        a.on_receive(seq(0), seq(base + 1), None, t(11)),
        ReceiveOutcome::Ack
    );
    assert_eq!(a.unacked(), 2);

    assert_eq!(
        a.on_receive(seq(0), seq(base + 4), None, t(12)),
        ReceiveOutcome::Ack
    );
    assert!(a.all_acked());
    assert_eq!(
        a.poll_timeout(),
        None,
        "nothing outstanding, no retransmission timer"
    );
}

/// RFC 3931 §4.2: an Nr beyond the last Ns sent plus 1 is "clearly invalid".
#[test]
fn nr_acknowledging_unsent_messages_is_rejected() {
    let mut a = channel();
    a.send(0);
    a.send(1); // queued, but the congestion window holds it back
    assert_eq!(poll_all(&mut a, t(0)).len(), 1);

    assert_eq!(
        a.on_receive(seq(0), seq(2), Some(9), t(5)),
        ReceiveOutcome::InvalidNr
    );
    assert_eq!(a.unacked(), 2);
    assert_eq!(a.nr(), seq(0), "the message was discarded whole");
    assert_eq!(a.poll_delivered(), None);
    assert_eq!(a.stats().invalid_nr, 1);

    assert_eq!(
        a.on_receive(seq(0), seq(1), Some(9), t(6)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(a.unacked(), 1);
}

/// Opens the congestion window to `target` by sending and acknowledging filler messages.
fn grow_cwnd(a: &mut Channel, target: u16) {
    while a.congestion_window() < target {
        a.send(u32::MAX);
        let sent = poll_all(a, t(0));
        let last = sent.last().map_or(0, |s| s.0);
        let _ = a.on_receive(a.nr(), seq(last).next(), None, t(0));
    }
}

/// Sends 30 messages, acknowledging everything outstanding after each burst; returns the burst
/// sizes.
fn bursts(a: &mut Channel) -> Vec<usize> {
    for msg in 0..30 {
        a.send(msg);
    }
    let mut sizes = Vec::new();
    while !a.all_acked() {
        let sent = poll_all(a, t(0));
        sizes.push(sent.len());
        let last = sent.last().map_or(0, |s| s.0);
        let _ = a.on_receive(seq(0), seq(last).next(), None, t(0));
    }
    sizes
}

/// RFC 2661 §5.8: at most the peer's Receive Window Size outstanding, 4 when it sent none.
#[test]
fn peer_receive_window_defaults_to_4() {
    let mut a = channel();
    assert_eq!(a.peer_receive_window(), 4);
    // Slow start doubles per round trip up to the window.
    assert_eq!(bursts(&mut a)[..5], [1, 2, 4, 4, 4]);
}

#[test]
fn peer_receive_window_is_honoured_when_set() {
    let mut a = channel();
    a.set_peer_receive_window(window(2));
    assert_eq!(bursts(&mut a)[..4], [1, 2, 2, 2]);

    let mut b = channel();
    b.set_peer_receive_window(window(12));
    assert_eq!(bursts(&mut b)[..5], [1, 2, 4, 8, 12]);
    assert!(bursts(&mut b).iter().all(|&n| n <= 12));
}

#[test]
fn lowering_the_peer_window_clamps_the_congestion_window() {
    let mut a = channel();
    a.set_peer_receive_window(window(10));
    grow_cwnd(&mut a, 8);
    a.set_peer_receive_window(window(3));
    assert_eq!(a.congestion_window(), 3);
    assert_eq!(a.slow_start_threshold(), 3);
    for msg in 0..10 {
        a.send(msg);
    }
    assert_eq!(poll_all(&mut a, t(0)).len(), 3);
}

#[test]
fn window_blocked_messages_go_out_when_acknowledged() {
    let mut a = channel();
    a.send(1);
    a.send(2);
    assert_eq!(poll_all(&mut a, t(0)), [(0, 0, Some(1))]);
    assert_eq!(
        a.on_receive(seq(0), seq(1), None, t(50)),
        ReceiveOutcome::Ack
    );
    assert_eq!(poll_all(&mut a, t(50)), [(1, 0, Some(2))]);
}

/// RFC 2661 Appendix A: slow start to SSTHRESH, then one more per CWND acknowledgements; on
/// a timeout SSTHRESH becomes half of CWND and CWND one.
#[test]
fn slow_start_then_congestion_avoidance() {
    let mut a = channel();
    a.set_peer_receive_window(window(10));
    assert_eq!((a.congestion_window(), a.slow_start_threshold()), (1, 10));
    grow_cwnd(&mut a, 8);
    assert_eq!(a.congestion_window(), 8);

    // Lose a burst of 8: the timeout halves the threshold and resets the window.
    for msg in 0..8 {
        a.send(msg);
    }
    let burst = poll_all(&mut a, t(0));
    assert_eq!(burst.len(), 8);
    assert_eq!(a.handle_timeout(t(1000)), Ok(()));
    assert_eq!((a.congestion_window(), a.slow_start_threshold()), (1, 4));
    assert_eq!(
        poll_all(&mut a, t(1000)).len(),
        1,
        "only the oldest goes out again"
    );

    // Acknowledge one message at a time and watch the window.
    let mut windows = Vec::new();
    let first = burst[0].0;
    for i in 1..=8u16 {
        let _ = a.on_receive(seq(0), seq(first + i), None, t(1100));
        windows.push(a.congestion_window());
        let _ = poll_all(&mut a, t(1100));
    }
    // Slow start 1 -> 4 (one per ack), then congestion avoidance: 4 acks to reach 5.
    assert_eq!(windows, [2, 3, 4, 4, 4, 4, 5, 5]);
    assert_eq!(
        a.stats().retransmitted,
        1 + 7,
        "go-back-N resent the rest of the burst"
    );
}

#[test]
fn congestion_window_never_exceeds_peer_window() {
    let mut a = channel();
    for msg in 0..200 {
        a.send(msg);
    }
    while !a.all_acked() {
        let sent = poll_all(&mut a, t(0));
        assert!(sent.len() <= 4);
        for s in sent {
            let _ = a.on_receive(seq(0), seq(s.0).next(), None, t(0));
            assert!(a.congestion_window() <= a.peer_receive_window());
        }
    }
}

#[test]
fn out_of_order_messages_are_released_in_order() {
    let mut a = channel();
    assert_eq!(
        a.on_receive(seq(2), seq(0), Some(2), t(0)),
        ReceiveOutcome::Buffered
    );
    assert_eq!(
        a.on_receive(seq(4), seq(0), Some(4), t(0)),
        ReceiveOutcome::Buffered
    );
    assert_eq!(
        a.on_receive(seq(1), seq(0), Some(1), t(0)),
        ReceiveOutcome::Buffered
    );
    assert_eq!(a.poll_delivered(), None);
    assert_eq!(a.nr(), seq(0));
    assert_eq!(a.poll_timeout(), None, "nothing new to acknowledge yet");

    assert_eq!(
        a.on_receive(seq(0), seq(0), Some(0), t(10)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(delivered(&mut a), [0, 1, 2]);
    assert_eq!(a.nr(), seq(3), "4 still waits for 3");
    assert_eq!(
        a.on_receive(seq(3), seq(0), Some(3), t(20)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(delivered(&mut a), [3, 4]);
    assert_eq!(a.nr(), seq(5));
    assert!(a.out_of_order.is_empty());

    let stats = a.stats();
    assert_eq!(
        (stats.received, stats.out_of_order, stats.duplicates),
        (5, 3, 0)
    );
}

#[test]
fn our_receive_window_drops_messages_beyond_it() {
    let mut a = channel();
    assert_eq!(a.config().receive_window.get(), 10);
    assert_eq!(
        a.on_receive(seq(10), seq(0), Some(10), t(0)),
        ReceiveOutcome::OutsideWindow
    );
    assert_eq!(
        a.on_receive(seq(1000), seq(0), Some(1), t(0)),
        ReceiveOutcome::OutsideWindow
    );
    assert_eq!(
        a.on_receive(seq(9), seq(0), Some(9), t(0)),
        ReceiveOutcome::Buffered
    );
    assert_eq!(a.out_of_order.len(), 9);
    assert_eq!(a.stats().outside_window, 2);

    let mut small = ReliableChannel::<u32, u32>::new(Config {
        receive_window: window(1),
        ..Config::default()
    });
    assert_eq!(
        small.on_receive(seq(1), seq(0), Some(1), t(0)),
        ReceiveOutcome::OutsideWindow
    );
    assert_eq!(
        small.on_receive(seq(0), seq(0), Some(0), t(0)),
        ReceiveOutcome::Delivered
    );
}

/// RFC 2661 §5.8: duplicates are discarded, and "receipt of duplicate messages MUST be
/// acknowledged", at once, even after the first acknowledgement went out.
#[test]
fn duplicates_are_discarded_and_acknowledged_again() {
    let mut a = channel();
    assert_eq!(
        a.on_receive(seq(0), seq(0), Some(0), t(0)),
        ReceiveOutcome::Delivered
    );
    assert_eq!(poll(&mut a, t(100)), Some((0, 1, None)));
    assert_eq!(poll(&mut a, t(100)), None);

    assert_eq!(
        a.on_receive(seq(0), seq(0), Some(0), t(1000)),
        ReceiveOutcome::Duplicate
    );
    assert_eq!(a.poll_timeout(), Some(t(1000)));
    assert_eq!(poll(&mut a, t(1000)), Some((0, 1, None)));
    assert_eq!(delivered(&mut a), [0]);

    // Far in the past (the preceding 32767 values) also counts as a duplicate.
    assert_eq!(
        a.on_receive(seq(0x8001), seq(0), Some(9), t(1001)),
        ReceiveOutcome::Duplicate
    );
    // So does a second copy of a buffered out-of-order message.
    assert_eq!(
        a.on_receive(seq(3), seq(0), Some(3), t(1002)),
        ReceiveOutcome::Buffered
    );
    assert_eq!(
        a.on_receive(seq(3), seq(0), Some(3), t(1003)),
        ReceiveOutcome::Duplicate
    );
    assert_eq!(a.stats().duplicates, 3);
    assert_eq!(a.stats().acks_sent, 2);
}

#[test]
fn explicit_ack_waits_for_the_ack_delay() {
    let mut a = ReliableChannel::<u32, u32>::new(Config {
        ack_delay: Duration::from_millis(40),
        ..Config::default()
    });
    let _ = a.on_receive(seq(0), seq(0), Some(0), t(0));
    let _ = a.on_receive(seq(1), seq(0), Some(1), t(30));
    assert_eq!(
        a.poll_timeout(),
        Some(t(40)),
        "the first unacknowledged message sets the deadline"
    );
    assert_eq!(poll(&mut a, t(39)), None);
    assert_eq!(poll(&mut a, t(40)), Some((0, 2, None)));
    assert_eq!(a.poll_timeout(), None);
    assert!(a.is_quiescent() || a.poll_delivered().is_some());
}

#[test]
fn acknowledge_now_sends_the_owed_ack_without_the_delay() {
    let mut a = channel();
    a.acknowledge_now(t(0));
    assert_eq!(poll(&mut a, t(0)), None, "nothing is owed yet");
    assert_eq!(a.poll_timeout(), None);
    let _ = a.on_receive(seq(0), seq(0), Some(0), t(10));
    assert_eq!(poll(&mut a, t(10)), None, "delayed by `ack_delay`");
    a.acknowledge_now(t(10));
    assert_eq!(a.poll_timeout(), Some(t(10)));
    assert_eq!(poll(&mut a, t(10)), Some((0, 1, None)));
    assert_eq!(poll(&mut a, t(200)), None, "one acknowledgement only");
    // A message queued before the acknowledgement goes out carries it instead.
    let _ = a.on_receive(seq(1), seq(0), Some(1), t(20));
    a.acknowledge_now(t(20));
    a.send(7);
    assert_eq!(poll(&mut a, t(20)), Some((0, 2, Some(7))));
    assert_eq!(poll(&mut a, t(20)), None);
    assert_eq!(a.stats().acks_sent, 1);
}

#[test]
fn outgoing_message_carries_the_ack_instead_of_a_zlb() {
    let mut a = channel();
    let _ = a.on_receive(seq(0), seq(0), Some(0), t(0));
    a.send(5);
    assert_eq!(poll(&mut a, t(50)), Some((0, 1, Some(5))));
    assert_eq!(
        a.poll_timeout(),
        Some(t(1050)),
        "only the retransmission timer is left"
    );
    assert_eq!(poll(&mut a, t(500)), None);
    assert_eq!(a.stats().acks_sent, 0);
}

#[test]
fn received_ack_does_not_advance_nr_or_owe_an_ack() {
    let mut a = channel();
    assert_eq!(
        a.on_receive(seq(5), seq(0), None, t(0)),
        ReceiveOutcome::Ack
    );
    assert_eq!(a.nr(), seq(0));
    assert_eq!(a.poll_timeout(), None);
    assert_eq!(a.stats().acks_received, 1);
    assert!(a.is_quiescent());
}

/// The ack's Ns is the Ns of the next new message, and does not consume it (RFC 2661 §5.8).
#[test]
fn explicit_ack_takes_no_sequence_number() {
    let mut a = channel();
    a.send(1);
    a.send(2);
    assert_eq!(poll(&mut a, t(0)), Some((0, 0, Some(1))));
    let _ = a.on_receive(seq(0), seq(0), Some(7), t(0));
    // Message 2 is held back by the congestion window, so the ack goes alone.
    assert_eq!(poll(&mut a, t(100)), Some((1, 1, None)));
    let _ = a.on_receive(seq(1), seq(1), None, t(110));
    assert_eq!(poll(&mut a, t(110)), Some((1, 1, Some(2))));
}

/// Times at which a silent peer makes `a` retransmit, and the time and error it gives up with.
fn silent_peer(a: &mut Channel) -> (Vec<u64>, u64, Error) {
    a.send(42);
    assert!(poll(a, Instant::ZERO).is_some());
    let mut retransmissions = Vec::new();
    loop {
        let Some(deadline) = a.poll_timeout() else {
            panic!("the timer stopped")
        };
        // Nothing happens a microsecond early.
        let early = Instant::from_micros(deadline.as_micros() - 1);
        assert_eq!(a.handle_timeout(early), Ok(()));
        assert_eq!(poll(a, early), None);
        match a.handle_timeout(deadline) {
            Ok(()) => {
                assert_eq!(poll_all(a, deadline), [(0, 0, Some(42))]);
                retransmissions.push(deadline.as_micros() / 1000);
            }
            Err(error) => return (retransmissions, deadline.as_micros() / 1000, error),
        }
    }
}

/// RFC 2661 §5.8 with the defaults: retransmissions after 1, 2, 4, 8 and 8 s (the cap), then
/// one more capped interval for the last to be acknowledged: 1+2+4+8+8+8 = 31 s.
#[test]
fn silent_peer_exhausts_retries_at_the_expected_time() {
    let mut a = channel();
    let (retransmissions, gave_up, error) = silent_peer(&mut a);
    assert_eq!(retransmissions, [1_000, 3_000, 7_000, 15_000, 23_000]);
    assert_eq!(gave_up, 31_000);
    assert_eq!(
        Config::default().retransmission_span(),
        Duration::from_secs(31)
    );
    assert_eq!(
        error,
        Error::RetriesExhausted {
            ns: seq(0),
            retries: 5
        }
    );
    assert_eq!(
        error.to_string(),
        "control message Ns=0 unacknowledged after 5 retransmissions"
    );
    assert_eq!(a.stats().retransmitted, 5);
    assert_eq!(a.stats().timeouts, 5);
    // Reported once; the timer is gone.
    assert_eq!(a.poll_timeout(), None);
    assert_eq!(a.handle_timeout(t(100_000)), Ok(()));
}

#[test]
fn back_off_is_capped() {
    let mut a = ReliableChannel::<u32, u32>::new(Config {
        max_retries: 8,
        ..Config::default()
    });
    let (retransmissions, gave_up, _) = silent_peer(&mut a);
    let intervals: Vec<u64> = std::iter::once(0)
        .chain(retransmissions.iter().copied())
        .chain([gave_up])
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    assert_eq!(
        intervals,
        [
            1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000, 8_000
        ]
    );

    let mut b = ReliableChannel::<u32, u32>::new(Config {
        retransmit_timeout: Duration::from_millis(500),
        max_retransmit_timeout: Duration::from_secs(3),
        max_retries: 4,
        ..Config::default()
    });
    let (retransmissions, gave_up, _) = silent_peer(&mut b);
    assert_eq!(retransmissions, [500, 1_500, 3_500, 6_500]);
    assert_eq!(gave_up, 9_500);
    assert_eq!(
        b.config().retransmission_span(),
        Duration::from_millis(9_500)
    );
}

#[test]
fn zero_retries_gives_up_at_the_first_timeout() {
    let mut a = ReliableChannel::<u32, u32>::new(Config {
        max_retries: 0,
        ..Config::default()
    });
    let (retransmissions, gave_up, error) = silent_peer(&mut a);
    assert!(retransmissions.is_empty());
    assert_eq!(gave_up, 1_000);
    assert_eq!(
        error,
        Error::RetriesExhausted {
            ns: seq(0),
            retries: 0
        }
    );
}

/// Retries count per message: an acknowledgement restarts the back-off for the next one.
#[test]
fn acknowledgement_resets_the_back_off() {
    let mut a = channel();
    a.send(1);
    a.send(2);
    let _ = poll(&mut a, t(0));
    for deadline in [1_000, 3_000, 7_000] {
        assert_eq!(a.poll_timeout(), Some(t(deadline)));
        assert_eq!(a.handle_timeout(t(deadline)), Ok(()));
        assert_eq!(poll_all(&mut a, t(deadline)), [(0, 0, Some(1))]);
    }
    assert_eq!(
        a.on_receive(seq(0), seq(1), None, t(7_100)),
        ReceiveOutcome::Ack
    );
    assert_eq!(a.poll_timeout(), None);
    assert_eq!(poll_all(&mut a, t(7_200)), [(1, 0, Some(2))]);
    assert_eq!(a.poll_timeout(), Some(t(8_200)), "a fresh 1 s interval");
}

#[test]
fn partial_acknowledgement_restarts_the_timer_for_the_rest() {
    let mut a = channel();
    grow_cwnd(&mut a, 2);
    let first = a.next_ns();
    a.send(1);
    a.send(2);
    assert_eq!(poll_all(&mut a, t(0)).len(), 2);
    let _ = a.on_receive(seq(0), first.next(), None, t(400));
    assert_eq!(a.poll_timeout(), Some(t(1_400)));
}

#[test]
fn quiescence_and_all_acked() {
    let mut a = channel();
    a.send(1); // e.g. a StopCCN
    assert!(!a.all_acked() && !a.is_quiescent());
    let _ = poll(&mut a, t(0));
    let _ = a.on_receive(seq(0), seq(0), Some(9), t(10));
    assert!(!a.all_acked());
    let _ = a.on_receive(seq(1), seq(1), None, t(20));
    assert!(a.all_acked());
    assert!(!a.is_quiescent(), "a delivered message is still waiting");
    assert_eq!(a.poll_delivered(), Some(9));
    assert!(!a.is_quiescent(), "no: the ack for message 0 is still owed");
    assert_eq!(poll(&mut a, t(110)), Some((1, 1, None)));
    assert!(a.is_quiescent());
}

/// 70 000 messages each way across a lossless link: sequence numbers wrap past 65535.
#[test]
fn sequence_numbers_wrap() {
    let (mut a, mut b) = (channel(), channel());
    let count = 70_000u32;
    let mut now = t(0);
    let (mut next_a, mut next_b) = (0u32, 0u32);
    let (mut got_a, mut got_b) = (0u32, 0u32);
    while got_a < count || got_b < count {
        if next_a < count {
            a.send(next_a);
            next_a += 1;
        }
        if next_b < count {
            b.send(next_b);
            next_b += 1;
        }
        now += Duration::from_millis(1);
        pump(&mut a, &mut b, now);
        pump(&mut b, &mut a, now);
        while let Some(m) = a.poll_delivered() {
            assert_eq!(m, got_a);
            got_a += 1;
        }
        while let Some(m) = b.poll_delivered() {
            assert_eq!(m, got_b);
            got_b += 1;
        }
    }
    assert_eq!(a.nr(), seq((count % 65536) as u16));
    assert_eq!(a.stats().retransmitted + b.stats().retransmitted, 0);
}

/// Hands every transmit of `from` straight to `to`.
fn pump(from: &mut Channel, to: &mut Channel, now: Instant) {
    while let Some((ns, nr, payload)) = poll(from, now) {
        let outcome = to.on_receive(seq(ns), seq(nr), payload, now);
        assert_ne!(outcome, ReceiveOutcome::InvalidNr);
    }
}

/// A tiny deterministic PRNG (splitmix64), enough to drive the simulated link.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// Link behaviour of a simulation run.
#[derive(Clone, Copy, Debug)]
struct Link {
    loss_percent: u64,
    duplicate_percent: u64,
    /// Latency is uniform in `[min_latency_ms, max_latency_ms)`; a spread reorders datagrams.
    min_latency_ms: u64,
    max_latency_ms: u64,
}

/// A datagram in flight: arrival time, destination (0 = A, 1 = B), ns, nr, payload.
type Datagram = (Instant, usize, Seq, Seq, Option<u32>);

/// Two channels exchanging `count` messages each way, plus replies, over a lossy, reordering,
/// duplicating link, with a virtual clock that jumps to the earliest deadline or arrival.
/// Returns the final stats of both sides after asserting exactly-once in-order delivery.
fn simulate(seed: u64, count: u32, link: Link, config: Config) -> [Stats; 2] {
    let mut rng = SplitMix(seed);
    let mut sides = [Channel::new(config), Channel::new(config)];
    for side in &mut sides {
        side.set_peer_receive_window(config.receive_window);
    }
    // What each side has sent, in order, and what it has received, in order. Messages are
    // numbered per side; replies are offset so they are distinguishable.
    let mut sent: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let mut received: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let mut in_flight: Vec<Datagram> = Vec::new();
    let mut now = Instant::ZERO;

    for (side, channel) in sides.iter_mut().enumerate() {
        for msg in 0..count {
            let msg = msg + side as u32 * 1_000_000;
            channel.send(msg);
            sent[side].push(msg);
        }
    }

    for _step in 0..1_000_000 {
        // Transmit everything due, through the link.
        for (side, channel) in sides.iter_mut().enumerate() {
            while let Some((ns, nr, payload)) = poll(channel, now) {
                assert!(channel.in_flight() <= channel.peer_receive_window());
                let copies = if rng.chance(link.loss_percent) {
                    0
                } else if rng.chance(link.duplicate_percent) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let spread = link.max_latency_ms - link.min_latency_ms;
                    let latency = link.min_latency_ms + rng.below(spread.max(1));
                    let arrival = now + Duration::from_millis(latency);
                    in_flight.push((arrival, 1 - side, seq(ns), seq(nr), payload));
                }
            }
        }

        let next_arrival = in_flight.iter().map(|d| d.0).min();
        let next_deadline = sides.iter().filter_map(|s| s.poll_timeout()).min();
        let Some(next) = next_arrival.into_iter().chain(next_deadline).min() else {
            break;
        };
        assert!(next >= now, "time runs forward");
        now = next;

        // Deliver arrivals due now, in arrival order (ties in send order).
        let mut due: Vec<Datagram> = Vec::new();
        in_flight.retain(|d| {
            if d.0 <= now {
                due.push(*d);
                false
            } else {
                true
            }
        });
        due.sort_by_key(|d| d.0);
        for (_, to, ns, nr, payload) in due {
            let channel = &mut sides[to];
            let outcome = channel.on_receive(ns, nr, payload, now);
            assert_ne!(outcome, ReceiveOutcome::InvalidNr, "seed {seed}");
            assert_ne!(outcome, ReceiveOutcome::OutsideWindow, "seed {seed}");
            assert!(channel.out_of_order.len() < usize::from(config.receive_window.get()));
            while let Some(msg) = channel.poll_delivered() {
                received[to].push(msg);
                // The upper layer answers some messages, so acks ride on replies.
                if msg % 3 == 0 && msg < 2_000_000 {
                    let reply = msg + 2_000_000;
                    channel.send(reply);
                    sent[to].push(reply);
                }
            }
        }

        for channel in &mut sides {
            if let Err(error) = channel.handle_timeout(now) {
                panic!("seed {seed}: {error}");
            }
        }
    }

    assert!(
        in_flight.is_empty(),
        "seed {seed}: simulation did not settle"
    );
    for side in 0..2 {
        assert_eq!(
            received[1 - side],
            sent[side],
            "seed {seed}: side {side}'s messages"
        );
        assert!(sides[side].is_quiescent(), "seed {seed}");
    }
    [*sides[0].stats(), *sides[1].stats()]
}

const LOSSY: Link = Link {
    loss_percent: 20,
    duplicate_percent: 10,
    min_latency_ms: 5,
    max_latency_ms: 300,
};

/// At 20 % loss a message and its acknowledgement both survive an attempt only about 64 % of the
/// time, so six failures in a row (the default limit) would happen every few hundred messages;
/// the simulation allows more retries so that it tests delivery, not give-up.
fn patient() -> Config {
    Config {
        max_retries: 30,
        ..Config::default()
    }
}

#[test]
fn simulation_lossless_fixed_latency_needs_no_retransmission() {
    let link = Link {
        loss_percent: 0,
        duplicate_percent: 0,
        min_latency_ms: 20,
        max_latency_ms: 20,
    };
    let stats = simulate(1, 200, link, Config::default());
    for side in stats {
        assert_eq!(side.retransmitted, 0);
        assert_eq!(side.duplicates, 0);
        assert_eq!(side.out_of_order, 0);
    }
}

#[test]
fn simulation_lossy_link_exercises_every_path() {
    let stats = simulate(0x5EED, 300, LOSSY, patient());
    let total = |f: fn(&Stats) -> u64| stats.iter().map(f).sum::<u64>();
    assert!(total(|s| s.retransmitted) > 0);
    assert!(total(|s| s.duplicates) > 0);
    assert!(total(|s| s.out_of_order) > 0);
    assert!(total(|s| s.acks_sent) > 0);
    assert!(total(|s| s.timeouts) > 0);
    println!("{stats:#?}");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn simulation_delivers_exactly_once_in_order(seed: u64) {
        simulate(seed, 100, LOSSY, patient());
    }

    #[test]
    fn simulation_with_small_windows(seed: u64, ours in 1u16..4) {
        let config = Config { receive_window: window(ours), ..patient() };
        simulate(seed, 40, LOSSY, config);
    }
}

#[test]
fn half_a_window_unacknowledged_is_acknowledged_at_once() {
    // Our window is 10 (the default): four messages wait for `ack_delay`, the fifth is
    // acknowledged at once, so that a peer sending a burst does not stall on a full window.
    let mut lns = channel();
    for ns in 0..4u16 {
        let _ = lns.on_receive(seq(ns), seq(0), Some(u32::from(ns)), t(0));
        assert_eq!(
            poll(&mut lns, t(0)),
            None,
            "message {ns} acknowledged early"
        );
    }
    let _ = lns.on_receive(seq(4), seq(0), Some(4), t(0));
    assert_eq!(poll(&mut lns, t(0)), Some((0, 5, None)));
    // After that acknowledgement the count starts again.
    let _ = lns.on_receive(seq(5), seq(0), Some(5), t(1));
    assert_eq!(poll(&mut lns, t(1)), None);
    assert_eq!(poll(&mut lns, t(101)), Some((0, 6, None)));
}
