//! Sequence numbers: the exchanges of RFC 2661 Appendix B, Ns and Nr on every message,
//! acknowledged messages leaving the send queue, and an Nr acknowledging unsent messages.

use super::*;

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
