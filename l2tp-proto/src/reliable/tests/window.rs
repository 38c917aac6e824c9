//! The send window: the peer's Receive Window Size, slow start and congestion avoidance
//! (RFC 2661 §5.8, Appendix A).

use super::*;

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
