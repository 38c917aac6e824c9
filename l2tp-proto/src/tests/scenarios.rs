//! Tunnel and session scenarios.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all, count};
use crate::event::{DataplaneRequest, DownCause, Event};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{TunnelConfig, VersionMode};
use crate::wire::MessageType;
use crate::wire::header::{Encapsulation, Version};

fn cfg(version: VersionMode) -> TunnelConfig {
    TunnelConfig {
        version,
        ..TunnelConfig::default()
    }
}

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];

fn expect_version(mode: VersionMode) -> Version {
    if mode == VersionMode::V2 {
        Version::V2
    } else {
        Version::V3
    }
}

#[test]
fn tunnel_and_session_come_up() {
    for mode in BOTH {
        let mut mesh = Mesh::new(2, 1, Link::CLEAN, accept_all(cfg(mode)));
        let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
        mesh.open_session(
            0,
            tid,
            CallType::Incoming,
            Arc::new(SessionConfig::default()),
        );
        mesh.run_for(Duration::from_secs(5));
        assert_eq!(mesh.established_tunnels(0), 1, "{mode:?}");
        assert_eq!(mesh.established_tunnels(1), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(0), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 1, "{mode:?}");
        for node in 0..2 {
            let ev = mesh.events(node);
            assert_eq!(
                count(
                    ev,
                    |e| matches!(e, Event::TunnelUp { version, .. } if *version == expect_version(mode))
                ),
                1
            );
            assert_eq!(
                count(ev, |e| matches!(
                    e,
                    Event::Dataplane(DataplaneRequest::InstallTunnel(_))
                )),
                1
            );
            assert_eq!(
                count(ev, |e| matches!(
                    e,
                    Event::Dataplane(DataplaneRequest::InstallSession(_))
                )),
                1
            );
            assert_eq!(count(ev, |e| matches!(e, Event::SessionUp { .. })), 1);
        }
        // Explicit acknowledgements were sent where nothing else carried the Nr.
        assert!(mesh.nodes[1].endpoint.stats().acks_sent > 0, "{mode:?}");
        let _ = DownCause::Local;
        let _ = MessageType::Sccrq;
    }
}

fn secret_cfg(mode: VersionMode, secret: &str) -> TunnelConfig {
    TunnelConfig {
        version: mode,
        secret: secret.into(),
        auth_mode: crate::tunnel::AuthMode::Challenge,
        ..TunnelConfig::default()
    }
}

fn tunnel_down_results(mesh: &Mesh, node: usize) -> Vec<(DownCause, u16)> {
    mesh.events(node)
        .iter()
        .filter_map(|e| match e {
            Event::TunnelDown { reason, .. } => Some((reason.cause, reason.result)),
            _ => None,
        })
        .collect()
}

#[test]
fn authentication_succeeds_with_the_same_secret() {
    for mode in BOTH {
        let mut mesh = Mesh::new(
            2,
            2,
            Link::lossy(0.1),
            accept_all(secret_cfg(mode, "s3cret")),
        );
        let tid = mesh.open_tunnel(0, 1, Arc::new(secret_cfg(mode, "s3cret")));
        mesh.open_session(
            0,
            tid,
            CallType::Incoming,
            Arc::new(SessionConfig::default()),
        );
        mesh.run_for(Duration::from_secs(20));
        assert_eq!(mesh.established_tunnels(0), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 1, "{mode:?}");
        for node in 0..2 {
            assert_eq!(
                mesh.nodes[node].endpoint.stats().auth_failures,
                0,
                "{mode:?}"
            );
        }
        if mode == VersionMode::V3 {
            // Every L2TPv3 message, ACKs included, carries a Message Digest, which verified.
            assert!(mesh.sent.iter().all(|s| s.message_type.is_some()));
        } else {
            let sccrp = mesh.sent_by(1, MessageType::Sccrp);
            assert!(!sccrp.is_empty());
        }
    }
}

#[test]
fn wrong_secret_gives_stopccn_result_4_on_the_checking_side() {
    for mode in BOTH {
        let mut mesh = Mesh::new(2, 3, Link::CLEAN, accept_all(secret_cfg(mode, "other")));
        mesh.open_tunnel(0, 1, Arc::new(secret_cfg(mode, "s3cret")));
        mesh.run_for(Duration::from_secs(60));
        assert_eq!(mesh.established_tunnels(0), 0, "{mode:?}");
        assert_eq!(mesh.established_tunnels(1), 0, "{mode:?}");
        // L2TPv2: the initiator checks the SCCRP's Challenge Response and refuses.
        // L2TPv3: the recipient checks the SCCRQ's Message Digest and refuses.
        let checker = if mode == VersionMode::V2 { 0 } else { 1 };
        let stops = mesh.sent_by(checker, MessageType::StopCcn);
        assert!(!stops.is_empty(), "{mode:?}");
        assert!(stops.iter().all(|s| s.result == Some(4)), "{mode:?}");
        assert_eq!(
            mesh.sent_by(1 - checker, MessageType::StopCcn).len(),
            0,
            "{mode:?}"
        );
        assert!(mesh.nodes[checker].endpoint.stats().auth_failures > 0);
        assert!(
            tunnel_down_results(&mesh, checker).contains(&(DownCause::Local, 4)),
            "{mode:?}"
        );
        if mode == VersionMode::V2 {
            // The recipient learns why from the StopCCN.
            assert!(tunnel_down_results(&mesh, 1).contains(&(DownCause::Peer, 4)));
        } else {
            // The StopCCN cannot be authenticated with a different secret, so the initiator
            // gives up when its SCCRQ is never answered.
            assert_eq!(
                tunnel_down_results(&mesh, 0)[0].0,
                DownCause::RetriesExhausted
            );
        }
        assert_eq!(mesh.nodes[0].endpoint.tunnel_count(), 0);
        assert_eq!(mesh.nodes[1].endpoint.tunnel_count(), 0);
    }
}

/// With `hide_avps` on both sides and different secrets, the StopCCN refusing the tunnel
/// hides nothing: the peer cannot share the secret, and must still read why it was refused
/// (result 4), not take the StopCCN for a malformed message it cannot unhide.
#[test]
fn a_stopccn_refusing_the_secret_hides_nothing() {
    let hiding = |secret: &str| TunnelConfig {
        hide_avps: true,
        ..secret_cfg(VersionMode::V2, secret)
    };
    let mut mesh = Mesh::new(2, 3, Link::CLEAN, accept_all(hiding("other")));
    mesh.open_tunnel(0, 1, Arc::new(hiding("s3cret")));
    mesh.run_for(Duration::from_secs(60));
    let stops = mesh.sent_by(0, MessageType::StopCcn);
    assert!(!stops.is_empty());
    assert!(
        stops
            .iter()
            .all(|s| s.hidden_avps == 0 && s.result == Some(4))
    );
    assert_eq!(tunnel_down_results(&mesh, 1), vec![(DownCause::Peer, 4)]);
    assert_eq!(mesh.sent_by(1, MessageType::StopCcn).len(), 0);
}

#[test]
fn a_stopccn_on_tunnel_id_0_closes_the_tunnel_whose_sccrp_it_refuses() {
    // Node 0 (L2TPv2 LAC) refuses node 1's SCCRP (wrong secret) with a StopCCN whose header
    // says tunnel id 0, as xl2tpd does; its Assigned Tunnel ID AVP names the tunnel.
    let mut mesh = Mesh::new(
        2,
        3,
        Link::CLEAN,
        accept_all(secret_cfg(VersionMode::V2, "other")),
    );
    mesh.tamper = Some(|from, datagram, _| {
        let stop = crate::wire::avp::AvpIter::new(datagram.get(12..).unwrap_or_default())
            .next()
            .and_then(Result::ok)
            .is_some_and(|a| a.attr_type == 0 && a.value == [0, MessageType::StopCcn as u8]);
        if from == 0 && stop {
            // L2TPv2 header with the L bit: flags, length, then the tunnel id.
            datagram[4..6].copy_from_slice(&[0, 0]);
        }
    });
    mesh.open_tunnel(0, 1, Arc::new(secret_cfg(VersionMode::V2, "s3cret")));
    mesh.run_for(Duration::from_secs(60));
    let stops = mesh.sent_by(0, MessageType::StopCcn);
    assert!(!stops.is_empty() && stops.iter().all(|s| s.header.tunnel_id == 0));
    // The recipient takes it: down at once with the peer's reason, not after its SCCRP's
    // retries, and its SCCRP is not sent again.
    assert_eq!(
        tunnel_down_results(&mesh, 1),
        vec![(DownCause::Peer, 4)],
        "{:?}",
        mesh.events(1)
    );
    assert_eq!(mesh.sent_by(1, MessageType::Sccrp).len(), 1);
    assert_eq!(mesh.nodes[1].endpoint.tunnel_count(), 0);
    assert_eq!(mesh.nodes[1].endpoint.stats().malformed.unknown_tunnel, 0);
}

#[test]
fn a_stopccn_on_tunnel_id_0_from_elsewhere_closes_nothing() {
    // The same StopCCN from another address, or naming another tunnel, is discarded.
    for bad in [0usize, 1] {
        let mut mesh = Mesh::new(
            3,
            3,
            Link::CLEAN,
            accept_all(secret_cfg(VersionMode::V2, "s3cret")),
        );
        let tid = mesh.open_tunnel(0, 1, Arc::new(secret_cfg(VersionMode::V2, "s3cret")));
        mesh.run_for(Duration::from_secs(5));
        assert_eq!(mesh.established_tunnels(1), 1);
        let peer_tid = u16::try_from(tid).unwrap_or(0);
        let mut stop = crate::wire::message::Message::new(MessageType::StopCcn);
        stop.push(
            crate::wire::avp::Avp::AssignedTunnelId(if bad == 1 {
                peer_tid.wrapping_add(1)
            } else {
                peer_tid
            }),
            Version::V2,
        );
        stop.push(
            crate::wire::avp::Avp::ResultCode(crate::wire::avp::types::ResultCode {
                result: 1,
                error: None,
                message: None,
            }),
            Version::V2,
        );
        let header = crate::wire::ControlHeader {
            version: Version::V2,
            tunnel_id: 0,
            session_id: 0,
            ns: 5,
            nr: 5,
        };
        let bytes = stop
            .encode(&header, Encapsulation::Udp, None)
            .unwrap_or_default();
        // bad 0: right tunnel, wrong address (node 2's); bad 1: right address, wrong tunnel.
        let from = if bad == 0 {
            crate::tests::util::addr(2)
        } else {
            crate::tests::util::addr(0)
        };
        let now = mesh.now;
        mesh.nodes[1].endpoint.handle_datagram(
            now,
            crate::tests::util::addr(1),
            from,
            Encapsulation::Udp,
            &bytes,
        );
        mesh.run_for(Duration::from_secs(5));
        assert_eq!(mesh.established_tunnels(1), 1, "case {bad}");
        assert_eq!(mesh.nodes[1].endpoint.stats().malformed.unknown_tunnel, 1);
    }
}

#[test]
fn a_full_set_up_cap_makes_room_for_a_real_peer_after_the_grace() {
    for evicting in [true, false] {
        let mut mesh = Mesh::new(4, 9, Link::CLEAN, accept_all(cfg(VersionMode::V3)));
        mesh.nodes[1].endpoint.set_setup_limits(2, 0);
        // Nodes 2 and 3 never hear back (forged addresses): their tunnels stay in set-up.
        mesh.muted[2] = true;
        mesh.muted[3] = true;
        mesh.open_tunnel(2, 1, Arc::new(cfg(VersionMode::V3)));
        mesh.open_tunnel(3, 1, Arc::new(cfg(VersionMode::V3)));
        mesh.run_for(Duration::from_millis(100));
        assert_eq!(mesh.nodes[1].endpoint.setup_tunnels(), 2);
        if !evicting {
            // The control: while both are young, a third SCCRQ is dropped.
            mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3)));
            mesh.run_for(Duration::from_millis(500));
            assert_eq!(mesh.established_tunnels(0), 0);
            assert_eq!(
                mesh.nodes[1].endpoint.stats().malformed.max_setup_tunnels,
                1
            );
            continue;
        }
        mesh.run_for(crate::guard::EVICTION_GRACE);
        mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3)));
        mesh.run_for(Duration::from_secs(1));
        assert_eq!(mesh.established_tunnels(0), 1);
        assert_eq!(mesh.established_tunnels(1), 1);
        // The oldest went (and then, for their retransmitted SCCRQs, the forged ones take
        // each other's places), without a StopCCN to a forged address.
        let stats = mesh.nodes[1].endpoint.stats();
        assert!(stats.setup_evicted >= 1);
        assert_eq!(stats.malformed.max_setup_tunnels, 0);
        assert!(mesh.nodes[1].endpoint.setup_tunnels() <= 2);
        assert!(mesh.sent_by(1, MessageType::StopCcn).is_empty());
        let downs = tunnel_down_results(&mesh, 1);
        assert!(
            !downs.is_empty() && downs.iter().all(|d| *d == (DownCause::EstablishTimeout, 2)),
            "{downs:?}"
        );
    }
}

/// Both ends call for the same circuit (End ID) at the same moment (RFC 3931 §5.4.4).
fn simultaneous_calls(seed: u64, tie_breakers: bool) -> Mesh {
    let tunnel = TunnelConfig {
        use_tiebreaker: tie_breakers,
        ..cfg(VersionMode::V3)
    };
    let mut mesh = Mesh::new(2, seed, Link::CLEAN, accept_all(tunnel.clone()));
    let tid0 = mesh.open_tunnel(0, 1, Arc::new(tunnel));
    mesh.run_for(Duration::from_secs(2));
    let tid1 = mesh
        .events(1)
        .iter()
        .find_map(|e| match e {
            Event::TunnelUp { tunnel_id, .. } => Some(*tunnel_id),
            _ => None,
        })
        .expect("tunnel up on node 1");
    let circuit = Arc::new(SessionConfig {
        remote_end_id: b"vc-100".to_vec(),
        ..SessionConfig::default()
    });
    mesh.open_session(0, tid0, CallType::Incoming, Arc::clone(&circuit));
    mesh.open_session(1, tid1, CallType::Incoming, circuit);
    mesh.run_for(Duration::from_secs(5));
    mesh
}

fn cdn_results(mesh: &Mesh, node: usize) -> Vec<Option<u16>> {
    mesh.sent_by(node, MessageType::Cdn)
        .iter()
        .map(|s| s.result)
        .collect()
}

#[test]
fn simultaneous_calls_for_one_circuit_leave_one_session() {
    for seed in 0..8 {
        let mesh = simultaneous_calls(seed, true);
        assert_eq!(mesh.established_sessions(0), 1, "seed {seed}");
        assert_eq!(mesh.established_sessions(1), 1, "seed {seed}");
        // Exactly one side refused the other's call, with result 13.
        let (c0, c1) = (cdn_results(&mesh, 0), cdn_results(&mesh, 1));
        let mut all = c0.clone();
        all.extend(&c1);
        assert_eq!(all, vec![Some(13)], "seed {seed}: {c0:?} {c1:?}");
    }
}

#[test]
fn simultaneous_calls_without_tie_breakers_both_go() {
    let mesh = simultaneous_calls(1, false);
    assert_eq!(mesh.established_sessions(0), 0);
    assert_eq!(mesh.established_sessions(1), 0);
    assert!(cdn_results(&mesh, 0).iter().all(|r| *r == Some(13)));
    assert!(!cdn_results(&mesh, 0).is_empty() && !cdn_results(&mesh, 1).is_empty());
}

#[test]
fn hidden_avps_are_sent_and_understood() {
    for mode in BOTH {
        let config = TunnelConfig {
            hide_avps: true,
            ..secret_cfg(mode, "hide-me")
        };
        let mut mesh = Mesh::new(2, 4, Link::lossy(0.1), accept_all(config.clone()));
        let tid = mesh.open_tunnel(0, 1, Arc::new(config));
        let session = SessionConfig {
            calling_number: b"5551234".to_vec(),
            cookie_length: 8,
            ..SessionConfig::default()
        };
        mesh.open_session(0, tid, CallType::Incoming, Arc::new(session));
        mesh.run_for(Duration::from_secs(20));
        assert_eq!(mesh.established_sessions(0), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 1, "{mode:?}");
        let hidden: usize = mesh.sent.iter().map(|s| s.hidden_avps).sum();
        assert!(hidden > 0, "{mode:?}");
        let icrq = mesh.sent_by(0, MessageType::Icrq);
        assert!(icrq.iter().all(|s| s.hidden_avps > 0), "{mode:?}");
    }
}

#[test]
fn simultaneous_open_leaves_exactly_one_tunnel() {
    for mode in BOTH {
        for seed in 0..8 {
            let mut mesh = Mesh::new(2, 100 + seed, Link::lossy(0.1), accept_all(cfg(mode)));
            mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
            mesh.open_tunnel(1, 0, Arc::new(cfg(mode)));
            mesh.run_for(Duration::from_secs(60));
            assert_eq!(mesh.established_tunnels(0), 1, "{mode:?} seed {seed}");
            assert_eq!(mesh.established_tunnels(1), 1, "{mode:?} seed {seed}");
            let a = mesh.nodes[0]
                .endpoint
                .tunnels()
                .find(|t| t.is_established())
                .expect("up");
            let b = mesh.nodes[1]
                .endpoint
                .tunnels()
                .find(|t| t.is_established())
                .expect("up");
            assert_eq!(a.peer_tunnel_id, b.tunnel_id);
            assert_eq!(b.peer_tunnel_id, a.tunnel_id);
            let losers: usize = (0..2)
                .map(|n| {
                    count(mesh.events(n), |e| {
                        matches!(e, Event::TunnelDown { reason, .. } if reason.cause == DownCause::LostTieBreaker || reason.cause == DownCause::Peer)
                    })
                })
                .sum();
            assert_eq!(losers, 1, "{mode:?} seed {seed}");
        }
    }
}

#[test]
fn v3_falls_back_to_v2() {
    let mut mesh = Mesh::new(2, 5, Link::lossy(0.1), accept_all(cfg(VersionMode::V2)));
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3WithFallback)));
    assert!(tid <= 0xffff, "a probe's id fits 16 bits");
    mesh.open_session(
        0,
        tid,
        CallType::Incoming,
        Arc::new(SessionConfig::default()),
    );
    mesh.run_for(Duration::from_secs(20));
    let t = mesh.nodes[0].endpoint.tunnel(tid).expect("tunnel");
    assert!(t.is_established());
    assert_eq!(t.version, Version::V2);
    assert_eq!(mesh.established_sessions(1), 1);
    // The probe went out with Ver=2.
    let sccrq = mesh.sent_by(0, MessageType::Sccrq);
    assert!(sccrq.iter().all(|s| s.header.version == Version::V2));

    // A peer that speaks L2TPv3 answers the probe in L2TPv3.
    let fallback = cfg(VersionMode::V3WithFallback);
    let mut mesh = Mesh::new(2, 6, Link::lossy(0.1), accept_all(fallback.clone()));
    let tid = mesh.open_tunnel(0, 1, Arc::new(fallback));
    mesh.run_for(Duration::from_secs(20));
    let t = mesh.nodes[0].endpoint.tunnel(tid).expect("tunnel");
    assert!(t.is_established());
    assert_eq!(t.version, Version::V3);
    assert!(
        mesh.sent_by(1, MessageType::Sccrp)
            .iter()
            .all(|s| s.header.version == Version::V3)
    );
}

#[test]
fn a_session_opened_during_the_probe_keeps_its_pseudowire_type() {
    // The session is opened while the version is still open; when the peer answers in
    // L2TPv3, its ICRQ must carry the configured type (Ethernet), not L2TPv2's PPP.
    let fallback = cfg(VersionMode::V3WithFallback);
    let mut mesh = Mesh::new(2, 8, Link::CLEAN, accept_all(fallback.clone()));
    let tid = mesh.open_tunnel(0, 1, Arc::new(fallback));
    let eth = SessionConfig {
        pw_type: crate::wire::avp::types::pw_type::ETH,
        ..SessionConfig::default()
    };
    mesh.open_session(0, tid, CallType::Incoming, Arc::new(eth));
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(mesh.established_sessions(0), 1);
    for node in 0..2 {
        let types: Vec<u16> = mesh
            .events(node)
            .iter()
            .filter_map(|e| match e {
                Event::Dataplane(DataplaneRequest::InstallSession(p)) => Some(p.pw_type),
                _ => None,
            })
            .collect();
        assert_eq!(types, [5], "node {node}");
    }
}

#[test]
fn the_recipient_takes_the_l2_specific_sublayer_the_initiator_requires() {
    use crate::wire::header::L2SpecificSublayer;
    // RFC 3931 §5.4.4: the initiator requires no sublayer; the recipient's own profile says
    // default, but it must send what the initiator requires (and, with one sublayer both
    // ways, use it for what it receives too).
    let v3 = cfg(VersionMode::V3);
    let recipient = SessionConfig {
        l2spec: L2SpecificSublayer::Default,
        ..SessionConfig::default()
    };
    let mut policy = accept_all(v3.clone());
    policy.session = Ok(Arc::new(recipient));
    let mut mesh = Mesh::new(2, 9, Link::CLEAN, policy);
    let tid = mesh.open_tunnel(0, 1, Arc::new(v3));
    let initiator = SessionConfig {
        l2spec: L2SpecificSublayer::None,
        ..SessionConfig::default()
    };
    mesh.open_session(0, tid, CallType::Incoming, Arc::new(initiator));
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(mesh.established_sessions(0), 1);
    for node in 0..2 {
        let l2spec: Vec<L2SpecificSublayer> = mesh
            .events(node)
            .iter()
            .filter_map(|e| match e {
                Event::Dataplane(DataplaneRequest::InstallSession(p)) => Some(p.l2spec),
                _ => None,
            })
            .collect();
        assert_eq!(l2spec, [L2SpecificSublayer::None], "node {node}");
    }
}

#[test]
fn a_session_is_looked_up_by_its_ids() {
    for version in [VersionMode::V2, VersionMode::V3] {
        let mut mesh = Mesh::new(2, 10, Link::CLEAN, accept_all(cfg(version)));
        let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(version)));
        for _ in 0..3 {
            mesh.open_session(
                0,
                tid,
                CallType::Incoming,
                Arc::new(SessionConfig::default()),
            );
        }
        mesh.run_for(Duration::from_secs(5));
        let ep = &mesh.nodes[0].endpoint;
        let all: Vec<_> = ep.sessions(tid).collect();
        assert_eq!(all.len(), 3, "{version:?}");
        for s in &all {
            assert_eq!(
                ep.session(tid, s.session_id).as_ref(),
                Some(s),
                "{version:?}"
            );
        }
        assert!(ep.session(tid, 0xdead).is_none());
        assert!(ep.session(tid + 1, all[0].session_id).is_none());
    }
}

#[test]
fn v3_with_auth_falls_back_to_v2_with_challenge() {
    let mut mesh = Mesh::new(
        2,
        7,
        Link::CLEAN,
        accept_all(secret_cfg(VersionMode::V2, "pw")),
    );
    let tid = mesh.open_tunnel(
        0,
        1,
        Arc::new(secret_cfg(VersionMode::V3WithFallback, "pw")),
    );
    mesh.run_for(Duration::from_secs(5));
    let t = mesh.nodes[0].endpoint.tunnel(tid).expect("tunnel");
    assert!(t.is_established());
    assert_eq!(t.version, Version::V2);
    let mut mesh = Mesh::new(
        2,
        7,
        Link::CLEAN,
        accept_all(secret_cfg(VersionMode::V3WithFallback, "pw")),
    );
    let tid = mesh.open_tunnel(
        0,
        1,
        Arc::new(secret_cfg(VersionMode::V3WithFallback, "pw")),
    );
    mesh.run_for(Duration::from_secs(5));
    let t = mesh.nodes[0].endpoint.tunnel(tid).expect("tunnel");
    assert!(t.is_established());
    assert_eq!(t.version, Version::V3);
}

#[test]
fn simultaneous_opens_over_udp_and_over_ip_are_no_tie() {
    // A tunnel over UDP and one over IP between the same two hosts are two control
    // connections: opened at the same moment, both come up.
    let udp = cfg(VersionMode::V3);
    let ip = TunnelConfig {
        encap: Encapsulation::Ip,
        ..cfg(VersionMode::V3)
    };
    let mut mesh = Mesh::new(2, 4, Link::CLEAN, accept_all(udp.clone()));
    mesh.open_tunnel(0, 1, Arc::new(udp));
    mesh.open_tunnel(1, 0, Arc::new(ip));
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(mesh.established_tunnels(0), 2);
    assert_eq!(mesh.established_tunnels(1), 2);
    assert!(mesh.sent_by(0, MessageType::StopCcn).is_empty());
    assert!(mesh.sent_by(1, MessageType::StopCcn).is_empty());
}

#[test]
fn idle_timeout_closes_a_tunnel_left_without_sessions() {
    let idle = TunnelConfig {
        idle_timeout: Duration::from_secs(5),
        hello_timeout: Duration::ZERO,
        ..cfg(VersionMode::V3)
    };
    let mut mesh = Mesh::new(2, 5, Link::CLEAN, accept_all(cfg(VersionMode::V3)));
    let tid = mesh.open_tunnel(0, 1, Arc::new(idle));
    // A tunnel that never had a session is kept.
    mesh.run_for(Duration::from_secs(10));
    assert_eq!(mesh.established_tunnels(0), 1);
    let sid = mesh.open_session(
        0,
        tid,
        CallType::Incoming,
        Arc::new(SessionConfig::default()),
    );
    mesh.run_for(Duration::from_secs(2));
    assert_eq!(mesh.established_sessions(0), 1);
    let close = |mesh: &mut Mesh, sid| {
        mesh.command(
            0,
            crate::event::Command::CloseSession {
                tunnel_id: tid,
                session_id: sid,
            },
        );
    };
    close(&mut mesh, sid);
    // A new session within the timeout keeps the tunnel.
    mesh.run_for(Duration::from_secs(3));
    let sid = mesh.open_session(
        0,
        tid,
        CallType::Incoming,
        Arc::new(SessionConfig::default()),
    );
    mesh.run_for(Duration::from_secs(4));
    assert_eq!(mesh.established_tunnels(0), 1);
    assert_eq!(mesh.established_sessions(0), 1);
    close(&mut mesh, sid);
    mesh.run_for(Duration::from_secs(4));
    assert_eq!(mesh.established_tunnels(0), 1, "before the timeout");
    mesh.run_for(Duration::from_secs(2));
    assert_eq!(mesh.established_tunnels(0), 0, "after the timeout");
    assert_eq!(
        tunnel_down_results(&mesh, 0),
        vec![(DownCause::IdleTimeout, 1)]
    );
    assert_eq!(tunnel_down_results(&mesh, 1), vec![(DownCause::Peer, 1)]);
}

#[test]
fn a_lac_call_carries_its_private_group_id_in_the_iccn() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SEEN: AtomicBool = AtomicBool::new(false);
    let mut mesh = Mesh::new(2, 6, Link::CLEAN, accept_all(cfg(VersionMode::V2)));
    mesh.tamper = Some(|from, datagram, _| {
        let body = datagram.get(12..).unwrap_or_default();
        let mut avps = crate::wire::avp::AvpIter::new(body).filter_map(Result::ok);
        let iccn = avps
            .next()
            .is_some_and(|a| a.attr_type == 0 && a.value == [0, MessageType::Iccn as u8]);
        if from == 0 && iccn && avps.any(|a| a.attr_type == 37 && a.value == b"grp-7") {
            SEEN.store(true, Ordering::Relaxed);
        }
    });
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V2)));
    let call = SessionConfig {
        private_group_id: b"grp-7".to_vec(),
        ..SessionConfig::default()
    };
    mesh.open_session(0, tid, CallType::Incoming, Arc::new(call));
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(mesh.established_sessions(1), 1);
    assert!(
        SEEN.load(Ordering::Relaxed),
        "no Private Group ID in the ICCN"
    );
}

#[test]
fn v3_over_ip() {
    let config = TunnelConfig {
        encap: crate::wire::header::Encapsulation::Ip,
        ..secret_cfg(VersionMode::V3WithFallback, "ip-secret")
    };
    let mut mesh = Mesh::new(2, 8, Link::lossy(0.1), accept_all(config.clone()));
    let tid = mesh.open_tunnel(0, 1, Arc::new(config));
    mesh.open_session(
        0,
        tid,
        CallType::Incoming,
        Arc::new(SessionConfig::default()),
    );
    mesh.run_for(Duration::from_secs(20));
    let t = mesh.nodes[0].endpoint.tunnel(tid).expect("tunnel");
    assert!(t.is_established());
    assert_eq!(t.version, Version::V3);
    assert_eq!(mesh.established_sessions(1), 1);
    assert!(
        mesh.sent_by(0, MessageType::Sccrq)
            .iter()
            .all(|s| s.header.version == Version::V3)
    );
}

/// RFC 2661 §5.8, RFC 3931 §4.2: an SCCRQ opens a control connection with Ns 0 and Nr 0. One
/// with another Ns or Nr would never be delivered on a new tunnel's channel: it is discarded
/// (and counted) rather than leaving a tunnel that waits for ever.
#[test]
fn an_sccrq_out_of_sequence_opens_no_tunnel() {
    for (ns, nr) in [(1u16, 0u16), (0, 3), (7, 7)] {
        let mut mesh = Mesh::new(2, 5, Link::CLEAN, accept_all(cfg(VersionMode::V2)));
        let mut sccrq = crate::wire::message::Message::new(MessageType::Sccrq);
        sccrq.push(
            crate::wire::avp::Avp::ProtocolVersion(crate::wire::avp::types::ProtocolVersion {
                version: 1,
                revision: 0,
            }),
            Version::V2,
        );
        sccrq.push(
            crate::wire::avp::Avp::HostName(b"peer".to_vec()),
            Version::V2,
        );
        sccrq.push(crate::wire::avp::Avp::FramingCapabilities(3), Version::V2);
        sccrq.push(crate::wire::avp::Avp::AssignedTunnelId(77), Version::V2);
        let header = crate::wire::ControlHeader {
            version: Version::V2,
            tunnel_id: 0,
            session_id: 0,
            ns,
            nr,
        };
        let bytes = sccrq
            .encode(&header, Encapsulation::Udp, None)
            .unwrap_or_default();
        let now = mesh.now;
        mesh.nodes[1].endpoint.handle_datagram(
            now,
            crate::tests::util::addr(1),
            crate::tests::util::addr(0),
            Encapsulation::Udp,
            &bytes,
        );
        mesh.run_for(Duration::from_secs(600));
        assert_eq!(mesh.nodes[1].endpoint.tunnel_count(), 0, "Ns {ns} Nr {nr}");
        let m = &mesh.nodes[1].endpoint.stats().malformed;
        assert_eq!(
            (m.outside_window, m.invalid_nr),
            (u64::from(ns != 0), u64::from(ns == 0)),
            "Ns {ns} Nr {nr}"
        );
    }
}
