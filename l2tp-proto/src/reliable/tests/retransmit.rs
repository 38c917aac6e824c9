//! Retransmission: back-off and its cap, giving up on a silent peer, and quiescence.

use super::*;

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
