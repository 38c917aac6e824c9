//! RFC 5515 connect speed updates sent by a LAC: Connect Speed Update Enable in the ICRQ of a
//! call whose config asks for it, one CSUN per tunnel for new speeds of such calls and for no
//! other (§4.1), and a CSURQ answered for those calls only (§4.2).

use std::sync::Arc;
use std::time::Duration;

use super::util::{Mesh, count, two_nodes_with_tunnel, version_of};
use crate::Discard;
use crate::event::{Command, CommandOutcome, Event};
use crate::session::{CallType, SessionConfig};
use crate::speed::SpeedChange;
use crate::tunnel::VersionMode;
use crate::wire::avp::types::ConnectSpeedUpdate;
use crate::wire::avp::{Avp, AvpType};
use crate::wire::header::Version;
use crate::wire::message::{Message, MessageType};

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];

/// Two established calls from node 0 (LAC) to node 1 (LNS), the first with
/// `connect_speed_updates`, the second without, both at 10/2 Mbit/s. Returns the mesh, the
/// tunnel id at node 0 and node 0's session ids.
fn two_calls(mode: VersionMode) -> (Mesh, u32, u32, u32) {
    let (mut mesh, tid) = two_nodes_with_tunnel(mode, 23);
    let call = |updates| {
        Arc::new(SessionConfig {
            tx_connect_speed: Some(10_000_000),
            rx_connect_speed: 2_000_000,
            connect_speed_updates: updates,
            ..SessionConfig::default()
        })
    };
    let a = mesh.open_session(0, tid, CallType::Incoming, call(true));
    let b = mesh.open_session(0, tid, CallType::Incoming, call(false));
    mesh.run_for(Duration::from_secs(3));
    assert_eq!(mesh.established_sessions(1), 2, "{mode:?}");
    (mesh, tid, a, b)
}

/// Node `node`'s peer session id of its session `sid` in tunnel `tid`.
fn peer_of(mesh: &Mesh, node: usize, tid: u32, sid: u32) -> u32 {
    mesh.nodes[node]
        .endpoint
        .sessions(tid)
        .find(|s| s.session_id == sid)
        .map(|s| s.peer_session_id)
        .expect("session")
}

/// The Connect Speed Update AVPs of every CSUN node 0 sent.
fn csun_updates(mesh: &Mesh, v: Version) -> Vec<Vec<ConnectSpeedUpdate>> {
    mesh.decoded_by(0, MessageType::Csun, v)
        .iter()
        .map(|msg| {
            msg.avps
                .iter()
                .filter_map(|e| match &e.avp {
                    Avp::ConnectSpeedUpdate(u) => Some(*u),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_icrq_carries_enable_with_the_m_bit_clear_only_when_configured() {
    for mode in BOTH {
        let (mesh, tid, a, b) = two_calls(mode);
        let v = version_of(mode);
        let icrqs: Vec<_> = mesh
            .decoded_by(0, MessageType::Icrq, v)
            .iter()
            .map(|msg| {
                msg.avps
                    .iter()
                    .find(|e| e.avp.avp_type() == Some(AvpType::ConnectSpeedUpdateEnable))
                    .map(|e| e.mandatory)
            })
            .collect();
        // The first call's ICRQ has it, M bit clear (RFC 5515 §6.2, §4); the second has none.
        assert_eq!(icrqs, vec![Some(false), None], "{mode:?}");
        // Both ends know which call enabled updates.
        let lac = &mesh.nodes[0].endpoint;
        let ti = lac.tunnel_ids[&tid];
        let flag = |ep: &crate::Endpoint, ti: u32, sid: u32| {
            ep.sessions
                .get(ep.find_session(ti, sid)?)
                .map(|s| s.speed_updates)
        };
        assert_eq!(flag(lac, ti, a), Some(true));
        assert_eq!(flag(lac, ti, b), Some(false));
        let lns = &mesh.nodes[1].endpoint;
        let lti = lns.tunnel_ids[&mesh.first_tunnel(1)];
        assert_eq!(flag(lns, lti, peer_of(&mesh, 0, tid, a)), Some(true));
        assert_eq!(flag(lns, lti, peer_of(&mesh, 0, tid, b)), Some(false));
        // The LAC's session tells the speeds of its ICCN (both versions send configured ones).
        let up = mesh.events(0).iter().find_map(|e| match e {
            Event::Dataplane(crate::DataplaneRequest::InstallSession(p)) if p.session_id == a => {
                Some(p.connect_speed.map(|s| s.to_string()))
            }
            _ => None,
        });
        assert_eq!(up, Some(Some("10000000/2000000".to_owned())), "{mode:?}");
    }
}

#[test]
fn new_speeds_go_in_one_csun_for_the_enabled_calls_only() {
    for mode in BOTH {
        let (mut mesh, tid, a, b) = two_calls(mode);
        let v = version_of(mode);
        let now = mesh.now;
        let change = |session_id, tx| SpeedChange {
            session_id,
            tx,
            rx: 3_000_000,
        };
        let update = Command::UpdateConnectSpeeds {
            tunnel_id: tid,
            changes: vec![
                change(a, 20_000_000),
                change(b, 30_000_000),
                change(0x7777, 1),
            ],
        };
        let out = mesh.nodes[0].endpoint.handle_command(now, update);
        assert_eq!(out, Ok(CommandOutcome::SpeedsUpdated(1)), "{mode:?}");
        mesh.run_for(Duration::from_secs(2));
        // One CSUN, naming the first call by the LNS's id, in the tunnel's form.
        let lns_a = peer_of(&mesh, 0, tid, a);
        assert_eq!(
            csun_updates(&mesh, v),
            vec![vec![ConnectSpeedUpdate::new(
                v, lns_a, 20_000_000, 3_000_000
            )]],
            "{mode:?}"
        );
        assert_eq!(
            mesh.speeds_applied(1),
            vec![(lns_a, Some("20000000/3000000".to_owned()))]
        );
        // Only the call that did not enable updates changed: no CSUN at all (§4.1).
        let now = mesh.now;
        let only_b = Command::UpdateConnectSpeeds {
            tunnel_id: tid,
            changes: vec![change(b, 40_000_000)],
        };
        let out = mesh.nodes[0].endpoint.handle_command(now, only_b);
        assert_eq!(out, Ok(CommandOutcome::SpeedsUpdated(0)));
        mesh.run_for(Duration::from_secs(2));
        assert_eq!(mesh.sent_by(0, MessageType::Csun).len(), 1, "{mode:?}");
        // Nothing went down at either end.
        assert_eq!(mesh.established_sessions(0), 2);
        assert_eq!(mesh.established_sessions(1), 2);
        assert!(mesh.sent_by(0, MessageType::Cdn).is_empty());
        assert!(mesh.sent_by(1, MessageType::Cdn).is_empty());
    }
}

#[test]
fn a_csurq_is_answered_for_the_enabled_calls_only() {
    for mode in BOTH {
        let (mut mesh, tid, a, b) = two_calls(mode);
        let v = version_of(mode);
        // The LAC's speeds of the first call changed: the answer has the current ones.
        let now = mesh.now;
        let change = Command::UpdateConnectSpeeds {
            tunnel_id: tid,
            changes: vec![SpeedChange {
                session_id: a,
                tx: 50_000_000,
                rx: 0,
            }],
        };
        let out = mesh.nodes[0].endpoint.handle_command(now, change);
        assert_eq!(out, Ok(CommandOutcome::SpeedsUpdated(1)));
        mesh.run_for(Duration::from_secs(2));
        // The LNS asks for both calls (the second against §4.2) and an unknown one, each by
        // the LAC's id as `request_speeds` does.
        let lns_tid = mesh.first_tunnel(1);
        let now = mesh.now;
        let ep = &mut mesh.nodes[1].endpoint;
        let ti = ep.tunnel_ids[&lns_tid];
        let mut csurq = Message::new(MessageType::Csurq);
        for id in [b, a, 0x7777, a] {
            csurq.push(
                Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, id, 0, 0)),
                v,
            );
        }
        ep.send(now, ti, csurq, 0);
        mesh.run_for(Duration::from_secs(3));
        let lns_a = peer_of(&mesh, 0, tid, a);
        let csuns = csun_updates(&mesh, v);
        assert_eq!(csuns.len(), 2, "{mode:?}");
        // One answer, for the first call once, with its current speeds.
        assert_eq!(
            csuns[1],
            vec![ConnectSpeedUpdate::new(v, lns_a, 50_000_000, 0)],
            "{mode:?}"
        );
        assert_eq!(
            mesh.speeds_applied(1),
            vec![
                (lns_a, Some("50000000".to_owned())),
                (lns_a, Some("50000000".to_owned()))
            ]
        );
        // The two left out are reported.
        assert_eq!(
            count(mesh.events(0), |e| matches!(
                e,
                Event::Discarded {
                    problem: Discard::SpeedRequestIgnored { sessions: 2 },
                    ..
                }
            )),
            1
        );
        // Asked only for the call without Enable: acknowledged, no CSUN.
        let now = mesh.now;
        let ep = &mut mesh.nodes[1].endpoint;
        let mut csurq = Message::new(MessageType::Csurq);
        csurq.push(
            Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, b, 0, 0)),
            v,
        );
        ep.send(now, ti, csurq, 0);
        mesh.run_for(Duration::from_secs(3));
        assert_eq!(mesh.sent_by(0, MessageType::Csun).len(), 2, "{mode:?}");
        assert_eq!(mesh.nodes[1].endpoint.stats().retransmissions, 0);
        assert_eq!(mesh.established_sessions(1), 2);
    }
}

#[test]
fn the_lac_takes_no_csun_and_the_lns_asks_the_lac_nothing_for_its_own_enable() {
    // A CSUN to the LAC for a call it enabled is ignored: only the ICRQ's receiver takes them.
    for mode in BOTH {
        let (mut mesh, tid, a, _) = two_calls(mode);
        let v = version_of(mode);
        let lns_tid = mesh.first_tunnel(1);
        let now = mesh.now;
        let ep = &mut mesh.nodes[1].endpoint;
        let ti = ep.tunnel_ids[&lns_tid];
        let mut csun = Message::new(MessageType::Csun);
        csun.push(
            Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, a, 1, 1)),
            v,
        );
        ep.send(now, ti, csun, 0);
        mesh.run_for(Duration::from_secs(2));
        assert_eq!(
            count(mesh.events(0), |e| matches!(
                e,
                Event::ConnectSpeedUpdate { .. }
            )),
            0
        );
        // And the LAC asks no CSURQ for a call it placed.
        let now = mesh.now;
        let ask = Command::RequestConnectSpeeds {
            tunnel_id: tid,
            session_id: Some(a),
        };
        assert!(mesh.nodes[0].endpoint.handle_command(now, ask).is_err());
    }
}

/// The speeds node 1 (the LNS) installed its first session with.
fn lns_installed_speed(mesh: &Mesh) -> Option<crate::speed::ConnectSpeed> {
    mesh.events(1)
        .iter()
        .find_map(|e| match e {
            Event::Dataplane(crate::event::DataplaneRequest::InstallSession(p)) => Some(p),
            _ => None,
        })
        .expect("the LNS installed the session")
        .connect_speed
}

#[test]
fn the_iccn_tells_configured_speeds_in_both_versions() {
    for mode in BOTH {
        let (mesh, ..) = two_calls(mode);
        let v = version_of(mode);
        let iccn = &mesh.decoded_by(0, MessageType::Iccn, v)[0];
        let (tx, rx) = match v {
            Version::V2 => (AvpType::TxConnectSpeed, AvpType::RxConnectSpeed),
            Version::V3 => (AvpType::TxConnectSpeedBps, AvpType::RxConnectSpeedBps),
        };
        for t in [tx, rx] {
            let e = iccn.avps.iter().find(|e| e.avp.avp_type() == Some(t));
            let e = e.unwrap_or_else(|| panic!("{mode:?}: {t:?} in {iccn:?}"));
            // RFC 3931 §5.4.4: the M bit of the BPS forms SHOULD be 0; RFC 2661 §4.4.5 sets
            // Tx Connect Speed's.
            assert_eq!(e.mandatory, t == AvpType::TxConnectSpeed, "{mode:?}: {t:?}");
        }
        let speed = lns_installed_speed(&mesh).expect("speeds");
        assert_eq!(speed.to_string(), "10000000/2000000", "{mode:?}");
    }
}

#[test]
fn an_l2tpv3_iccn_tells_no_speed_unless_configured() {
    for mode in BOTH {
        let (mut mesh, tid) = two_nodes_with_tunnel(mode, 29);
        mesh.open_session(0, tid, CallType::Incoming, Arc::default());
        mesh.run_for(Duration::from_secs(3));
        let v = version_of(mode);
        let iccn = &mesh.decoded_by(0, MessageType::Iccn, v)[0];
        let tx = iccn.avps.iter().find_map(|e| match e.avp {
            Avp::TxConnectSpeed(s) => Some(u64::from(s)),
            Avp::TxConnectSpeedBps(s) => Some(s),
            _ => None,
        });
        match v {
            // RFC 2661 §6.7: an L2TPv2 ICCN MUST tell a Tx Connect Speed.
            Version::V2 => assert_eq!(tx, Some(100_000_000)),
            Version::V3 => assert_eq!(tx, None, "{iccn:?}"),
        }
        let speed = lns_installed_speed(&mesh).map(|s| s.to_string());
        let want = (v == Version::V2).then(|| "100000000".to_string());
        assert_eq!(speed, want, "{mode:?}");
    }
}
