//! Receiving: messages released in order, our receive window, duplicates, and when
//! acknowledgements go out (ack delay, piggybacked, explicit, half a window).

use super::*;

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
