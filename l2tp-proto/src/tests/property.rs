//! Many tunnels and sessions over bad links, and the loss × window table.

use std::fmt::Write as _;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{TunnelConfig, VersionMode};

fn cfg(version: VersionMode) -> TunnelConfig {
    TunnelConfig {
        version,
        // A patient peer: under 20 % loss a message can need many tries.
        max_retries: 10,
        // No HELLO, so that the mesh falls silent once everything is up and every message
        // sent has had its chance to arrive.
        hello_timeout: Duration::ZERO,
        ..TunnelConfig::default()
    }
}

/// 10 tunnels × 100 sessions under 20 % loss with reordering and duplication: everything comes
/// up, and every control message sent reaches its state machine exactly once and in order.
#[test]
fn ten_tunnels_of_a_hundred_sessions_under_loss() {
    for mode in [VersionMode::V2, VersionMode::V3] {
        for seed in 0..6 {
            let link = Link {
                delay: Duration::from_millis(20),
                jitter: Duration::from_millis(60),
                loss: 0.2,
                duplicate: 0.1,
            };
            let mut mesh = Mesh::new(11, 1000 + seed, link, accept_all(cfg(mode)));
            for peer in 1..=10 {
                let tid = mesh.open_tunnel(0, peer, Arc::new(cfg(mode)));
                for i in 0..100 {
                    let call = if i % 2 == 0 {
                        CallType::Incoming
                    } else {
                        CallType::Outgoing
                    };
                    mesh.open_session(0, tid, call, Arc::new(SessionConfig::default()));
                }
            }
            mesh.run_for(Duration::from_secs(600));
            let what = format!("{mode:?} seed {seed}");
            assert_eq!(mesh.established_tunnels(0), 10, "{what}");
            assert_eq!(mesh.established_sessions(0), 1000, "{what}");
            let mut sent = 0;
            let mut received = 0;
            for node in &mesh.nodes {
                let stats = node.endpoint.stats();
                assert_eq!(stats.order_violations, 0, "{what}");
                assert_eq!(stats.malformed, Default::default(), "{what}");
                sent += stats.sent.total();
                received += stats.received.total();
            }
            for peer in 1..=10 {
                assert_eq!(mesh.established_sessions(peer), 100, "{what}");
            }
            // Each message delivered in order (checked per tunnel against its Ns) and as many
            // deliveries as messages sent: exactly once.
            assert_eq!(sent, received, "{what}");
            let retransmissions: u64 = mesh
                .nodes
                .iter()
                .map(|n| n.endpoint.stats().retransmissions)
                .sum();
            assert!(retransmissions > 0, "{what}");
        }
    }
}

/// Messages sent, retransmissions and time until 20 sessions are up, by loss and window.
#[test]
fn loss_window_table() {
    let mut table =
        String::from("version loss window | messages retransmits acks | establish_ms\n");
    for mode in [VersionMode::V2, VersionMode::V3] {
        for loss in [0.0, 0.05, 0.1, 0.2, 0.3] {
            for window in [1u16, 4, 10] {
                let window = NonZeroU16::new(window).expect("non-zero");
                let config = TunnelConfig {
                    rx_window: window,
                    tx_window: window,
                    ..cfg(mode)
                };
                let link = Link {
                    delay: Duration::from_millis(20),
                    jitter: Duration::from_millis(20),
                    loss,
                    duplicate: 0.0,
                };
                let mut mesh = Mesh::new(2, 7, link, accept_all(config.clone()));
                let start = mesh.now;
                let tid = mesh.open_tunnel(0, 1, Arc::new(config));
                for _ in 0..20 {
                    mesh.open_session(
                        0,
                        tid,
                        CallType::Incoming,
                        Arc::new(SessionConfig::default()),
                    );
                }
                let mut established = None;
                for _ in 0..6000 {
                    mesh.run_for(Duration::from_millis(50));
                    if mesh.established_sessions(0) == 20 && mesh.established_sessions(1) == 20 {
                        established = Some(mesh.now - start);
                        break;
                    }
                }
                let (mut messages, mut retransmits, mut acks) = (0, 0, 0);
                for node in &mesh.nodes {
                    let stats = node.endpoint.stats();
                    messages += stats.sent.total();
                    retransmits += stats.retransmissions;
                    acks += stats.acks_sent;
                }
                let ms = established.map_or("never".to_string(), |d| d.as_millis().to_string());
                let _ = writeln!(
                    table,
                    "{:>7} {loss:>4.2} {window:>6} | {messages:>8} {retransmits:>11} {acks:>4} | {ms:>12}",
                    if mode == VersionMode::V2 { "v2" } else { "v3" }
                );
            }
        }
    }
    insta::assert_snapshot!(table);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Network input never panics the engine: arbitrary bytes, and mutations of the messages
    /// of a real exchange replayed into an established tunnel.
    #[test]
    fn arbitrary_datagrams_do_not_panic(
        garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        flips in proptest::collection::vec((0usize..400, proptest::prelude::any::<u8>()), 1..6),
        v3 in proptest::prelude::any::<bool>(),
    ) {
        let mode = if v3 { VersionMode::V3 } else { VersionMode::V2 };
        let mut mesh = Mesh::new(2, 9, Link::CLEAN, accept_all(cfg(mode)));
        let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
        mesh.open_session(0, tid, CallType::Incoming, Arc::new(SessionConfig::default()));
        mesh.run_for(Duration::from_secs(2));
        let now = mesh.now;
        let (a, b) = (super::util::addr(0), super::util::addr(1));
        let ep = &mut mesh.nodes[1].endpoint;
        let enc = crate::wire::header::Encapsulation::Udp;
        ep.handle_datagram(now, b, a, enc, &garbage);
        for sent in mesh.sent.iter().filter(|s| s.from == 0).map(|s| s.header) {
            // Rebuild a plausible control message for tunnel traffic and corrupt it.
            let mut bytes = Vec::new();
            sent.emit(enc, 0, &mut bytes);
            bytes.extend_from_slice(&garbage);
            let len = bytes.len().min(0xffff) as u16;
            bytes[2..4].copy_from_slice(&len.to_be_bytes());
            for (at, v) in &flips {
                if let Some(x) = bytes.get_mut(*at) {
                    *x ^= v;
                }
            }
            ep.handle_datagram(now, b, a, enc, &bytes);
        }
        ep.handle_timeout(now + Duration::from_secs(100));
        while ep.poll_transmit().is_some() {}
    }
}
