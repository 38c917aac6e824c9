//! Memory per established idle session: two engines, 10 tunnels × 10 000 sessions, all up.
//! Prints the bytes per session and fails if 100 000 sessions would not fit in a few hundred
//! MB.
//!
//! The workspace forbids `unsafe`, so no counting allocator: the engine reports the memory its
//! session state holds ([`Endpoint::session_memory`], from the capacities of the containers; a
//! session owns no other heap memory, its profile being a shared `Arc`).

#![allow(clippy::expect_used)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use l2tp_proto::time::Instant;
use l2tp_proto::{
    CallType, Command, CommandOutcome, Decision, DeterministicRng, Endpoint, EndpointConfig,
    SessionConfig, SessionHandle, TunnelConfig, TunnelHandle, VersionMode,
};

const TUNNELS: usize = 10;
const SESSIONS_PER_TUNNEL: usize = 10_000;

fn pump(eps: &mut [Endpoint; 2], addrs: [SocketAddr; 2], now: Instant) -> bool {
    let mut moved = false;
    for i in 0..2 {
        while let Some(decision) = eps[i].poll_decision() {
            match decision {
                Decision::Tunnel(req) => {
                    let config = Arc::new(TunnelConfig::default());
                    eps[i]
                        .accept_tunnel(now, req.id, TunnelHandle(1), config)
                        .expect("accept");
                }
                Decision::Session(req) => {
                    let config = Arc::new(SessionConfig::default());
                    eps[i]
                        .accept_session(now, req.id, SessionHandle(1), config)
                        .expect("accept");
                }
                _ => {}
            }
        }
        while eps[i].poll_event().is_some() {}
        let mut out = Vec::new();
        while let Some(tx) = eps[i].poll_transmit() {
            out.push(tx);
        }
        for tx in out {
            moved = true;
            eps[1 - i].handle_datagram(now, addrs[1 - i], addrs[i], tx.encap, &tx.contents);
        }
    }
    moved
}

#[test]
fn bytes_per_established_session() {
    let addrs = [
        SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 1701)),
        SocketAddr::from((Ipv4Addr::new(192, 0, 2, 2), 1701)),
    ];
    let tunnel = Arc::new(TunnelConfig {
        version: VersionMode::V3,
        ..TunnelConfig::default()
    });
    let session = Arc::new(SessionConfig::default());
    let mut eps = [
        Endpoint::new(
            EndpointConfig::default(),
            Box::new(DeterministicRng::new(1)),
        ),
        Endpoint::new(
            EndpointConfig::default(),
            Box::new(DeterministicRng::new(2)),
        ),
    ];
    let mut now = Instant::from_secs(1);
    for t in 0..TUNNELS {
        let CommandOutcome::Tunnel(tid) = eps[0]
            .handle_command(
                now,
                Command::OpenTunnel {
                    handle: TunnelHandle(t as u64),
                    config: Arc::clone(&tunnel),
                    local: addrs[0],
                    remote: addrs[1],
                },
            )
            .expect("open")
        else {
            panic!("not a tunnel")
        };
        for s in 0..SESSIONS_PER_TUNNEL {
            eps[0]
                .handle_command(
                    now,
                    Command::OpenSession {
                        tunnel_id: tid,
                        handle: SessionHandle(s as u64),
                        call: CallType::Incoming,
                        config: Arc::clone(&session),
                    },
                )
                .expect("session");
        }
    }
    // Drive: deliver everything, then let the clock reach the next timer (delayed ACKs).
    for _ in 0..10_000_000 {
        let moved = pump(&mut eps, addrs, now);
        if !moved {
            let next = eps.iter().filter_map(Endpoint::poll_timeout).min();
            match next {
                Some(at) if at < Instant::from_secs(3600) => {
                    now = now.max(at);
                    for ep in &mut eps {
                        ep.handle_timeout(now);
                    }
                }
                _ => break,
            }
        }
    }
    let sessions = TUNNELS * SESSIONS_PER_TUNNEL;
    for ep in &eps {
        assert_eq!(ep.session_count(), sessions);
        let up: usize = ep
            .tunnels()
            .map(|t| {
                ep.sessions(t.tunnel_id)
                    .filter(|s| s.state.to_string() == "established")
                    .count()
            })
            .sum();
        assert_eq!(up, sessions);
    }
    let used = eps[1].session_memory();
    let per_session = used / sessions;
    println!(
        "engine memory: {per_session} bytes per established idle session \
         ({sessions} sessions, {used} bytes); 100 000 sessions ≈ {} MB",
        per_session * 100_000 / 1_000_000
    );
    assert!(per_session < 1500, "{per_session} bytes per session");
}
