//! Keepalive, dead peers, teardown, CDN, outgoing calls, WEN/SLI and refusals.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, Policy, accept_all, count};
use crate::event::{Command, DataplaneRequest, DownCause, Event, Refusal};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{TunnelConfig, VersionMode};
use crate::wire::MessageType;
use crate::wire::avp::Avp;
use crate::wire::header::Version;
use crate::wire::message::Message;
use crate::{EndpointConfig, SessionState};

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];

fn cfg(version: VersionMode) -> TunnelConfig {
    TunnelConfig {
        version,
        ..TunnelConfig::default()
    }
}

/// A tunnel from node 0 to node 1 with `sessions` incoming calls placed by node 0, all up.
fn up(mode: VersionMode, sessions: usize, link: Link) -> (Mesh, u32) {
    let mut mesh = Mesh::new(2, 11, link, accept_all(cfg(mode)));
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
    for _ in 0..sessions {
        mesh.open_session(
            0,
            tid,
            CallType::Incoming,
            Arc::new(SessionConfig::default()),
        );
    }
    mesh.run_for(Duration::from_secs(10));
    assert_eq!(mesh.established_sessions(0), sessions, "{mode:?}");
    assert_eq!(mesh.established_sessions(1), sessions, "{mode:?}");
    (mesh, tid)
}

fn down_causes(mesh: &Mesh, node: usize) -> Vec<DownCause> {
    mesh.events(node)
        .iter()
        .filter_map(|e| match e {
            Event::TunnelDown { reason, .. } => Some(reason.cause),
            _ => None,
        })
        .collect()
}

#[test]
fn silent_peer_exhausts_retries_within_the_bound() {
    for mode in BOTH {
        let (mut mesh, _) = up(mode, 2, Link::CLEAN);
        let cut = mesh.now;
        mesh.muted = vec![true, true];
        let config = cfg(mode);
        // Silence is noticed after hello_timeout; then the HELLO is retransmitted until the
        // retransmission span (1+2+4+8+8+8 = 31 s with the defaults) runs out.
        let bound = config.hello_timeout + config.reliable_config().retransmission_span();
        assert_eq!(bound, Duration::from_secs(91));
        mesh.run_for(bound + Duration::from_secs(1));
        for node in 0..2 {
            assert_eq!(
                down_causes(&mesh, node),
                vec![DownCause::RetriesExhausted],
                "{mode:?}"
            );
            let down_at = mesh
                .sent
                .iter()
                .filter(|s| s.from == node)
                .map(|s| s.at)
                .max();
            assert!(down_at.is_some_and(|t| t - cut <= bound), "{mode:?}");
            assert_eq!(mesh.nodes[node].endpoint.tunnel_count(), 0, "{mode:?}");
            assert_eq!(mesh.nodes[node].endpoint.session_count(), 0, "{mode:?}");
            let ev = mesh.events(node);
            assert_eq!(count(ev, |e| matches!(e, Event::SessionDown { .. })), 2);
            assert_eq!(
                count(ev, |e| matches!(
                    e,
                    Event::Dataplane(DataplaneRequest::RemoveTunnel { .. })
                )),
                1
            );
        }
    }
}

#[test]
fn silent_peer_during_setup() {
    let mut mesh = Mesh::new(2, 12, Link::CLEAN, accept_all(cfg(VersionMode::V3)));
    mesh.muted = vec![false, true];
    mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3)));
    mesh.run_for(Duration::from_secs(30));
    assert!(down_causes(&mesh, 0).is_empty());
    mesh.run_for(Duration::from_secs(2));
    assert_eq!(down_causes(&mesh, 0), vec![DownCause::RetriesExhausted]);
}

#[test]
fn hello_keeps_an_idle_tunnel_up_for_an_hour() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 1, Link::lossy(0.05));
        mesh.run_for(Duration::from_secs(3600));
        assert_eq!(mesh.established_tunnels(0), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 1, "{mode:?}");
        assert!(
            mesh.nodes[0]
                .endpoint
                .tunnel(tid)
                .is_some_and(|t| t.is_established())
        );
        let hellos =
            mesh.sent_by(0, MessageType::Hello).len() + mesh.sent_by(1, MessageType::Hello).len();
        // One side or the other says HELLO about once a minute.
        assert!((50..=130).contains(&hellos), "{mode:?}: {hellos}");
        // Timer cost stays bounded: a couple of heap entries per tunnel.
        assert!(mesh.nodes[0].endpoint.timer_entries() <= 4);
    }
}

#[test]
fn stopccn_removes_every_session_on_both_sides() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 5, Link::lossy(0.1));
        mesh.command(0, Command::CloseTunnel { tunnel_id: tid });
        mesh.run_for(Duration::from_secs(5));
        for node in 0..2 {
            let ev = mesh.events(node);
            assert_eq!(
                count(ev, |e| matches!(e, Event::SessionDown { .. })),
                5,
                "{mode:?}"
            );
            assert_eq!(
                count(ev, |e| matches!(
                    e,
                    Event::Dataplane(DataplaneRequest::RemoveSession { .. })
                )),
                5
            );
            assert_eq!(mesh.nodes[node].endpoint.session_count(), 0);
        }
        assert_eq!(down_causes(&mesh, 0), vec![DownCause::Local]);
        assert_eq!(down_causes(&mesh, 1), vec![DownCause::Peer]);
        // Both keep the tunnel in `closing` for the linger, then delete it.
        assert_eq!(mesh.nodes[1].endpoint.tunnel_count(), 1);
        mesh.run_for(Duration::from_secs(40));
        for node in 0..2 {
            assert_eq!(mesh.nodes[node].endpoint.tunnel_count(), 0);
            assert_eq!(
                count(mesh.events(node), |e| matches!(
                    e,
                    Event::TunnelDeleted { .. }
                )),
                1
            );
        }
        let stop = mesh.sent_by(0, MessageType::StopCcn);
        assert!(stop.iter().all(|s| s.result == Some(1)));
    }
}

#[test]
fn stopccn_retransmission_is_acknowledged_during_the_linger() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 1, Link::CLEAN);
        // Lose node 1's acknowledgement of the StopCCN: node 0 retransmits, and node 1, still
        // lingering, acknowledges the duplicate.
        mesh.command(0, Command::CloseTunnel { tunnel_id: tid });
        mesh.muted = vec![true, false];
        mesh.run_for(Duration::from_millis(1500));
        mesh.muted = vec![false, false];
        mesh.run_for(Duration::from_secs(5));
        assert!(mesh.sent_by(0, MessageType::StopCcn).len() >= 2, "{mode:?}");
        assert!(
            mesh.nodes[0].endpoint.stats().retransmissions >= 1,
            "{mode:?}"
        );
        // Node 1 acknowledged the last retransmission although its tunnel is closing.
        let last_stop = mesh.sent_by(0, MessageType::StopCcn).last().map(|s| s.at);
        let acked = mesh.sent.iter().any(|s| {
            s.from == 1
                && Some(s.at) > last_stop
                && matches!(s.message_type, None | Some(MessageType::Ack))
        });
        assert!(acked, "{mode:?}");
        assert!(
            mesh.nodes[0]
                .endpoint
                .tunnels()
                .all(|t| t.state == crate::TunnelState::Closing)
        );
        assert_eq!(down_causes(&mesh, 0), vec![DownCause::Local]);
    }
}

#[test]
fn cdn_from_either_side() {
    for mode in BOTH {
        for closer in 0..2 {
            let (mut mesh, tid) = up(mode, 3, Link::lossy(0.1));
            let peer_tid = mesh.nodes[0]
                .endpoint
                .tunnel(tid)
                .expect("tunnel")
                .peer_tunnel_id;
            let local_tid = if closer == 0 { tid } else { peer_tid };
            let sid = mesh.nodes[closer]
                .endpoint
                .sessions(local_tid)
                .next()
                .expect("session")
                .session_id;
            mesh.command(
                closer,
                Command::CloseSession {
                    tunnel_id: local_tid,
                    session_id: sid,
                },
            );
            mesh.run_for(Duration::from_secs(5));
            for node in 0..2 {
                assert_eq!(
                    mesh.established_sessions(node),
                    2,
                    "{mode:?} closer {closer}"
                );
                let downs: Vec<_> = mesh
                    .events(node)
                    .iter()
                    .filter_map(|e| match e {
                        Event::SessionDown { reason, .. } => Some(reason.clone()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(downs.len(), 1);
                assert_eq!(downs[0].result, 3);
                let expected = if node == closer {
                    DownCause::Local
                } else {
                    DownCause::Peer
                };
                assert_eq!(downs[0].cause, expected);
            }
            assert_eq!(mesh.established_tunnels(0), 1);
        }
    }
}

#[test]
fn outgoing_calls() {
    for mode in BOTH {
        let mut mesh = Mesh::new(2, 13, Link::lossy(0.1), accept_all(cfg(mode)));
        let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
        let session = SessionConfig {
            called_number: b"0800".to_vec(),
            ..SessionConfig::default()
        };
        mesh.open_session(0, tid, CallType::Outgoing, Arc::new(session));
        mesh.run_for(Duration::from_secs(10));
        assert_eq!(mesh.established_sessions(0), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 1, "{mode:?}");
        assert_eq!(mesh.sent_by(0, MessageType::Ocrq).len(), 1);
        assert_eq!(mesh.sent_by(1, MessageType::Ocrp).len(), 1);
        assert_eq!(mesh.sent_by(1, MessageType::Occn).len(), 1);
        // L2TPv2: the OCRQ sender is the LNS, the recipient the LAC.
        let lns: Vec<bool> = (0..2)
            .map(|n| {
                mesh.events(n)
                    .iter()
                    .find_map(|e| match e {
                        Event::Dataplane(DataplaneRequest::InstallSession(p)) => Some(p.lns),
                        _ => None,
                    })
                    .expect("install")
            })
            .collect();
        assert_eq!(
            lns,
            if mode == VersionMode::V2 {
                vec![true, false]
            } else {
                vec![false, false]
            }
        );
    }
}

#[test]
fn incoming_call_roles_and_v3_parameters() {
    let mode = VersionMode::V3;
    let mut mesh = Mesh::new(2, 14, Link::CLEAN, accept_all(cfg(mode)));
    let responder = SessionConfig {
        cookie_length: 4,
        data_sequencing: crate::DataSequencing::All,
        pw_type: crate::wire::avp::types::pw_type::ETH,
        interface_name: Some("l2tpeth%d".into()),
        ..SessionConfig::default()
    };
    mesh.nodes[1].policy.session = Ok(Arc::new(responder));
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
    let initiator = SessionConfig {
        cookie_length: 8,
        pw_type: crate::wire::avp::types::pw_type::ETH,
        remote_end_id: b"pw-7".to_vec(),
        ..SessionConfig::default()
    };
    mesh.open_session(0, tid, CallType::Incoming, Arc::new(initiator));
    mesh.run_for(Duration::from_secs(5));
    let params: Vec<_> = (0..2)
        .map(|n| {
            mesh.events(n)
                .iter()
                .find_map(|e| match e {
                    Event::Dataplane(DataplaneRequest::InstallSession(p)) => Some(p.clone()),
                    _ => None,
                })
                .expect("install")
        })
        .collect();
    let (a, b) = (&params[0], &params[1]);
    assert_eq!(a.cookie.len(), 8);
    assert_eq!(b.cookie.len(), 4);
    assert_eq!(a.peer_cookie, b.cookie);
    assert_eq!(b.peer_cookie, a.cookie);
    assert_eq!(
        (a.session_id, a.peer_session_id),
        (b.peer_session_id, b.session_id)
    );
    assert_eq!(
        (a.tunnel_id, a.peer_tunnel_id),
        (b.peer_tunnel_id, b.tunnel_id)
    );
    assert_eq!(a.pw_type, crate::wire::avp::types::pw_type::ETH);
    assert_eq!(b.pw_type, crate::wire::avp::types::pw_type::ETH);
    // Node 1 requires sequencing: it expects it, node 0 sends it.
    assert!(b.recv_seq && a.send_seq && !a.recv_seq && !b.send_seq);
    assert_eq!(b.interface_name.as_deref(), Some("l2tpeth%d"));
    let Some(Event::Dataplane(DataplaneRequest::InstallTunnel(tp))) = mesh
        .events(1)
        .iter()
        .find(|e| matches!(e, Event::Dataplane(DataplaneRequest::InstallTunnel(_))))
    else {
        panic!("no tunnel install")
    };
    assert_eq!(tp.version, Version::V3);
    assert!(tp.udp_checksums);
}

#[test]
fn wen_and_sli_are_passed_up() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 1, Link::CLEAN);
        let now = mesh.now;
        let ep = &mut mesh.nodes[0].endpoint;
        let ti = ep.tunnel_ids[&tid];
        let s = ep.sessions(tid).next().expect("session");
        let version = if mode == VersionMode::V2 {
            Version::V2
        } else {
            Version::V3
        };
        for t in [MessageType::Wen, MessageType::Sli] {
            let mut msg = Message::new(t);
            if version == Version::V3 {
                msg.push(Avp::LocalSessionId(s.session_id), version);
                msg.push(Avp::RemoteSessionId(s.peer_session_id), version);
            }
            if t == MessageType::Wen {
                msg.push(Avp::CallErrors(Default::default()), version);
            } else {
                msg.push(Avp::Accm(Default::default()), version);
            }
            ep.send(now, ti, msg, s.peer_session_id as u16);
        }
        mesh.run_for(Duration::from_secs(2));
        let ev = mesh.events(1);
        assert_eq!(
            count(ev, |e| matches!(e, Event::WanErrorNotify { .. })),
            1,
            "{mode:?}"
        );
        assert_eq!(
            count(ev, |e| matches!(
                e,
                Event::SetLinkInfo { accm: Some(_), .. }
            )),
            1
        );
        assert_eq!(mesh.established_sessions(1), 1);
    }
}

fn stop_results(mesh: &Mesh, node: usize) -> Vec<(Option<u16>, Version)> {
    mesh.sent_by(node, MessageType::StopCcn)
        .iter()
        .map(|s| (s.result, s.header.version))
        .collect()
}

#[test]
fn refusals_carry_the_right_result_codes() {
    // No matching profile: the caller's refusal goes out as is.
    let policy = Policy {
        tunnel: Err(Refusal::no_profile()),
        session: Ok(Arc::new(SessionConfig::default())),
    };
    let mut mesh = Mesh::new(2, 15, Link::CLEAN, policy);
    mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V2)));
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(stop_results(&mesh, 1)[0], (Some(2), Version::V2));
    assert_eq!(down_causes(&mesh, 0), vec![DownCause::Peer]);

    // Unsupported version: a v2-only recipient refuses an L2TPv3 SCCRQ with result 5.
    let mut mesh = Mesh::new(2, 16, Link::CLEAN, accept_all(cfg(VersionMode::V2)));
    mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3)));
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(stop_results(&mesh, 1)[0], (Some(5), Version::V3));
    assert_eq!(down_causes(&mesh, 0), vec![DownCause::Peer]);

    // Limit reached: result 2 with error 4, without asking the caller.
    let config = EndpointConfig {
        max_tunnels: 1,
        ..EndpointConfig::default()
    };
    let mut mesh = Mesh::with_config(3, 17, Link::CLEAN, accept_all(cfg(VersionMode::V3)), config);
    mesh.open_tunnel(0, 2, Arc::new(cfg(VersionMode::V3)));
    mesh.run_for(Duration::from_secs(2));
    mesh.open_tunnel(1, 2, Arc::new(cfg(VersionMode::V3)));
    mesh.run_for(Duration::from_secs(2));
    assert_eq!(stop_results(&mesh, 2), vec![(Some(2), Version::V3)]);
    let refused = mesh.events(1).iter().find_map(|e| match e {
        Event::TunnelDown { reason, .. } => Some((reason.result, reason.error)),
        _ => None,
    });
    assert_eq!(refused, Some((2, Some(4))));
    assert_eq!(mesh.established_tunnels(2), 1);

    // A refused session: CDN with the caller's result.
    let mut mesh = Mesh::new(2, 18, Link::CLEAN, accept_all(cfg(VersionMode::V3)));
    mesh.nodes[1].policy.session = Err(Refusal::limit_reached());
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3)));
    mesh.open_session(
        0,
        tid,
        CallType::Incoming,
        Arc::new(SessionConfig::default()),
    );
    mesh.run_for(Duration::from_secs(5));
    let down = mesh.events(0).iter().find_map(|e| match e {
        Event::SessionDown { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    let down = down.expect("session down");
    assert_eq!(
        (down.cause, down.result, down.error),
        (DownCause::Peer, 2, Some(4))
    );
    assert_eq!(mesh.nodes[0].endpoint.session_count(), 0);
    assert_eq!(mesh.established_tunnels(0), 1);
}

#[test]
fn session_waits_for_its_tunnel() {
    let mut mesh = Mesh::new(2, 19, Link::CLEAN, accept_all(cfg(VersionMode::V3)));
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(VersionMode::V3)));
    let sid = mesh.open_session(
        0,
        tid,
        CallType::Incoming,
        Arc::new(SessionConfig::default()),
    );
    let state = mesh.nodes[0]
        .endpoint
        .sessions(tid)
        .next()
        .expect("session")
        .state;
    assert_eq!(
        (state, state.to_string().as_str()),
        (SessionState::WaitTunnel, "wait-tunnel")
    );
    mesh.run_for(Duration::from_secs(2));
    let s = mesh.nodes[0]
        .endpoint
        .sessions(tid)
        .next()
        .expect("session");
    assert_eq!((s.session_id, s.state), (sid, SessionState::Established));
}

/// An unknown AVP with the M bit set: in a session message it clears the session with CDN, in
/// a tunnel message the tunnel with StopCCN (RFC 2661 §4.1, RFC 3931 §5.2), error 8.
#[test]
fn unknown_mandatory_avp_clears_the_session_or_the_tunnel() {
    let unknown = || {
        let mut entry = crate::wire::AvpEntry::new(
            Avp::Raw(crate::wire::avp::types::RawValue {
                vendor_id: 0,
                attr_type: 0x1ff,
                value: vec![1, 2],
            }),
            Version::V2,
        );
        entry.mandatory = true;
        entry
    };
    let (mut mesh, tid) = up(VersionMode::V2, 2, Link::CLEAN);
    let now = mesh.now;
    let ep = &mut mesh.nodes[0].endpoint;
    let ti = ep.tunnel_ids[&tid];
    let s = ep.sessions(tid).next().expect("session");
    let mut msg = Message::new(MessageType::Sli);
    msg.push(Avp::Accm(Default::default()), Version::V2);
    msg.avps.push(unknown());
    ep.send(now, ti, msg, s.peer_session_id as u16);
    mesh.run_for(Duration::from_secs(2));
    let down = mesh.events(1).iter().find_map(|e| match e {
        Event::SessionDown { reason, .. } => Some((reason.cause, reason.result, reason.error)),
        _ => None,
    });
    assert_eq!(down, Some((DownCause::Local, 2, Some(8))));
    assert_eq!(mesh.established_sessions(0), 1);
    assert_eq!(mesh.established_tunnels(1), 1);

    let now = mesh.now;
    let ep = &mut mesh.nodes[0].endpoint;
    let mut msg = Message::new(MessageType::Hello);
    msg.avps.push(unknown());
    ep.send(now, ti, msg, 0);
    mesh.run_for(Duration::from_secs(2));
    assert_eq!(mesh.sent_by(1, MessageType::StopCcn)[0].result, Some(2));
    assert_eq!(down_causes(&mesh, 0), vec![DownCause::Peer]);
}

/// The reasons of the `SessionDown` (or, with `tunnel`, `TunnelDown`) events of `node`.
fn down_reasons(mesh: &Mesh, node: usize, tunnel: bool) -> Vec<crate::event::DownReason> {
    mesh.events(node)
        .iter()
        .filter_map(|e| match e {
            Event::SessionDown { reason, .. } if !tunnel => Some(reason.clone()),
            Event::TunnelDown { reason, .. } if tunnel => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// A lost data path (pppd gone, interface deleted) closes the session with CDN result 1 or
/// the tunnel with StopCCN result 2, and the peer reads only a generic text: what went,
/// with its process id or interface name, stays in the local reason.
#[test]
fn lost_data_path_tells_the_peer_no_details() {
    let detail = "pppd (pid 352) exited: exit status: 2";
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 1, Link::CLEAN);
        let sid = mesh.nodes[0]
            .endpoint
            .sessions(tid)
            .next()
            .expect("session")
            .session_id;
        mesh.command(
            0,
            Command::LoseSession {
                tunnel_id: tid,
                session_id: sid,
                why: detail.into(),
            },
        );
        mesh.run_for(Duration::from_secs(5));
        let (mine, theirs) = (down_reasons(&mesh, 0, false), down_reasons(&mesh, 1, false));
        assert_eq!((mine.len(), theirs.len()), (1, 1), "{mode:?}");
        assert_eq!((mine[0].cause, mine[0].result), (DownCause::Local, 1));
        assert_eq!(
            mine[0].message.as_deref(),
            Some(detail.as_bytes()),
            "{mode:?}"
        );
        assert_eq!((theirs[0].cause, theirs[0].result), (DownCause::Peer, 1));
        assert_eq!(
            theirs[0].message.as_deref(),
            Some("data path lost".as_bytes()),
            "{mode:?}: the CDN told the peer {:?}",
            theirs[0].message
        );
        // The CDN carried error code 0 before its message: both ends report it.
        assert_eq!((mine[0].error, theirs[0].error), (Some(0), Some(0)));

        let detail = "its kernel tunnel 7 is gone";
        mesh.command(
            0,
            Command::LoseTunnel {
                tunnel_id: tid,
                why: detail.into(),
            },
        );
        mesh.run_for(Duration::from_secs(5));
        let (mine, theirs) = (down_reasons(&mesh, 0, true), down_reasons(&mesh, 1, true));
        assert_eq!((mine.len(), theirs.len()), (1, 1), "{mode:?}");
        assert_eq!(
            mine[0].message.as_deref(),
            Some(detail.as_bytes()),
            "{mode:?}"
        );
        assert_eq!((theirs[0].cause, theirs[0].result), (DownCause::Peer, 2));
        assert_eq!((mine[0].result, mine[0].error), (2, Some(0)), "{mode:?}");
        assert_eq!(theirs[0].error, Some(0), "{mode:?}");
        assert_eq!(
            theirs[0].message.as_deref(),
            Some("data path lost".as_bytes()),
            "{mode:?}: the StopCCN told the peer {:?}",
            theirs[0].message
        );
    }
}

/// A layer above L2TP (its PPP failed authentication, say) ends a session with a CDN of its
/// own choosing: the peer reads exactly that result and message; the local reason keeps `why`.
#[test]
fn end_session_sends_the_callers_cdn() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 1, Link::CLEAN);
        let sid = mesh.nodes[0]
            .endpoint
            .sessions(tid)
            .next()
            .expect("session")
            .session_id;
        mesh.command(
            0,
            Command::EndSession {
                tunnel_id: tid,
                session_id: sid,
                refusal: Refusal::with(2, "PPP authentication failed"),
                why: "PAP: user \"alice\" refused".into(),
            },
        );
        mesh.run_for(Duration::from_secs(5));
        let (mine, theirs) = (down_reasons(&mesh, 0, false), down_reasons(&mesh, 1, false));
        assert_eq!((mine.len(), theirs.len()), (1, 1), "{mode:?}");
        assert_eq!((mine[0].cause, mine[0].result), (DownCause::Local, 2));
        assert_eq!(
            mine[0].message.as_deref(),
            Some("PAP: user \"alice\" refused".as_bytes())
        );
        assert_eq!((theirs[0].cause, theirs[0].result), (DownCause::Peer, 2));
        assert_eq!((mine[0].result, mine[0].error), (2, Some(0)), "{mode:?}");
        assert_eq!(theirs[0].error, Some(0), "{mode:?}");
        assert_eq!(
            theirs[0].message.as_deref(),
            Some("PPP authentication failed".as_bytes()),
            "{mode:?}"
        );
        // The tunnel stays up for the other sessions.
        assert_eq!(mesh.nodes[0].endpoint.tunnels().count(), 1, "{mode:?}");
    }
}

/// RFC 2661 §6.14: an LNS tells the LAC the ACCM its PPP negotiated with a Set-Link-Info; the
/// LAC's endpoint reports it, and a session not established cannot send one.
#[test]
fn set_link_info_carries_the_accm_to_the_peer() {
    use crate::wire::avp::types::Accm;
    for mode in BOTH {
        let (mut mesh, tid) = up(mode, 1, Link::CLEAN);
        let sid = mesh.nodes[0]
            .endpoint
            .sessions(tid)
            .next()
            .expect("session")
            .session_id;
        let accm = Accm {
            send: 0x000a_0000,
            receive: 0xffff_ffff,
        };
        mesh.command(
            0,
            Command::SetLinkInfo {
                tunnel_id: tid,
                session_id: sid,
                accm,
            },
        );
        mesh.run_for(Duration::from_secs(2));
        let got: Vec<_> = mesh
            .events(1)
            .iter()
            .filter_map(|e| match e {
                Event::SetLinkInfo { accm, .. } => Some(*accm),
                _ => None,
            })
            .collect();
        assert_eq!(got, vec![Some(accm)], "{mode:?}");
        // Still up on both sides: an SLI changes nothing else.
        assert_eq!(down_reasons(&mesh, 1, false).len(), 0, "{mode:?}");
        assert_eq!(
            mesh.nodes[0].endpoint.handle_command(
                crate::time::Instant::ZERO,
                Command::SetLinkInfo {
                    tunnel_id: tid,
                    session_id: sid ^ 0x5a5a,
                    accm,
                }
            ),
            Err(crate::event::CommandError::NoSuchSession)
        );
    }
}

/// A tunnel or session whose configuration fixes our id gets that id, and is refused while
/// another holds it (or, for a 16-bit id of L2TPv2, when it does not fit).
#[test]
fn fixed_ids_are_used_and_refused_while_held() {
    use crate::SessionHandle;
    use crate::TunnelHandle;
    use crate::event::CommandError;
    let v3 = TunnelConfig {
        version: VersionMode::V3,
        local_id: Some(500),
        ..TunnelConfig::default()
    };
    let mut mesh = Mesh::new(2, 41, Link::CLEAN, accept_all(v3.clone()));
    assert_eq!(mesh.open_tunnel(0, 1, Arc::new(v3.clone())), 500);
    let open = |config: TunnelConfig| Command::OpenTunnel {
        handle: TunnelHandle(9),
        config: Arc::new(config),
        local: super::util::addr(0),
        remote: super::util::addr(1),
    };
    let now = mesh.now;
    let ep = &mut mesh.nodes[0].endpoint;
    assert_eq!(
        ep.handle_command(now, open(v3.clone())).err(),
        Some(CommandError::IdInUse(500))
    );
    let v2 = TunnelConfig {
        version: VersionMode::V2,
        local_id: Some(70_000),
        ..v3
    };
    assert_eq!(
        ep.handle_command(now, open(v2)).err(),
        Some(CommandError::IdInUse(70_000))
    );
    mesh.run_for(Duration::from_secs(2));
    let session = Arc::new(SessionConfig {
        pw_type: crate::wire::avp::types::pw_type::ETH,
        local_id: Some(600),
        ..SessionConfig::default()
    });
    assert_eq!(
        mesh.open_session(0, 500, CallType::Incoming, Arc::clone(&session)),
        600
    );
    let again = Command::OpenSession {
        tunnel_id: 500,
        handle: SessionHandle(99),
        call: CallType::Incoming,
        config: session,
    };
    let now = mesh.now;
    assert_eq!(
        mesh.nodes[0].endpoint.handle_command(now, again).err(),
        Some(CommandError::IdInUse(600))
    );
}
