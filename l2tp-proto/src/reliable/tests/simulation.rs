//! Two channels together: sequence numbers wrapping, and a deterministic lossy, reordering,
//! duplicating link simulated with a virtual clock.

use super::*;

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
