//! RFC 5515 connect speed updates on the mesh: Connect Speed Update Enable in the LAC's ICRQ
//! (M bit set or clear) is recorded, a CSUN updates the enabled sessions it names and is
//! otherwise ignored without harm to the tunnel, a CSURQ is acknowledged and not answered.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Mesh, count, two_nodes_with_tunnel, version_of};
use crate::event::{ConnectSpeed, Event};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::VersionMode;
use crate::wire::avp::Avp;
use crate::wire::avp::types::ConnectSpeedUpdate;
use crate::wire::header::{Encapsulation, Version};
use crate::wire::message::{AvpEntry, Message, MessageType};
use crate::{Discard, SpeedUpdateIgnored};

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];

/// Appends Connect Speed Update Enable (RFC 5515 §6.2) to every ICRQ node 0 sends, as a LAC
/// that supports updates would. Both control headers over UDP are 12 octets with the Length
/// at octets 2-3.
fn add_enable(from: usize, datagram: &mut Vec<u8>, encap: Encapsulation, mandatory: bool) {
    let is_icrq = datagram.get(12..20) == Some(&[0x80, 8, 0, 0, 0, 0, 0, 10][..]);
    if from != 0 || encap != Encapsulation::Udp || datagram[0] & 0x80 == 0 || !is_icrq {
        return;
    }
    let flags: u16 = if mandatory { 0x8000 | 6 } else { 6 };
    datagram.extend_from_slice(&flags.to_be_bytes());
    datagram.extend_from_slice(&[0, 0, 0, 98]);
    let len = u16::from_be_bytes([datagram[2], datagram[3]]) + 6;
    datagram[2..4].copy_from_slice(&len.to_be_bytes());
}

/// A tunnel from node 0 (LAC) to node 1 (LNS) with two established incoming calls: the first
/// one's ICRQ carries Connect Speed Update Enable (with the M bit `mandatory`), the second's
/// does not. Returns the mesh, the tunnel id at node 0 and node 1's session ids.
fn two_calls(mode: VersionMode, mandatory: bool) -> (Mesh, u32, u32, u32) {
    let (mut mesh, tid) = two_nodes_with_tunnel(mode, 17);
    mesh.tamper = Some(if mandatory {
        |from, d, e| add_enable(from, d, e, true)
    } else {
        |from, d, e| add_enable(from, d, e, false)
    });
    let call = Arc::new(SessionConfig::default());
    let first = mesh.open_session(0, tid, CallType::Incoming, Arc::clone(&call));
    mesh.run_for(Duration::from_secs(3));
    mesh.tamper = None;
    let second = mesh.open_session(0, tid, CallType::Incoming, call);
    mesh.run_for(Duration::from_secs(3));
    assert_eq!(mesh.established_sessions(1), 2, "{mode:?}");
    let peer_id = |sid: u32| {
        mesh.nodes[0]
            .endpoint
            .sessions(tid)
            .find(|s| s.session_id == sid)
            .map(|s| s.peer_session_id)
            .expect("session")
    };
    let (a, b) = (peer_id(first), peer_id(second));
    (mesh, tid, a, b)
}

/// Node 0 sends `msg` in the tunnel (as a tunnel message: header session id 0).
fn lac_sends(mesh: &mut Mesh, tid: u32, msg: Message) {
    let now = mesh.now;
    let ep = &mut mesh.nodes[0].endpoint;
    let ti = ep.tunnel_ids[&tid];
    ep.send(now, ti, msg, 0);
    mesh.run_for(Duration::from_secs(2));
}

fn update(v: Version, session_id: u32, tx: u64, rx: u64, mandatory: bool) -> AvpEntry {
    let mut e = AvpEntry::new(
        Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, session_id, tx, rx)),
        v,
    );
    e.mandatory = mandatory;
    e
}

#[test]
fn icrq_enable_is_recorded_with_the_m_bit_set_or_clear() {
    for mode in BOTH {
        for mandatory in [false, true] {
            let (mesh, _, a, b) = two_calls(mode, mandatory);
            let lns_tid = mesh.first_tunnel(1);
            let lns = &mesh.nodes[1].endpoint;
            let ti = lns.tunnel_ids[&lns_tid];
            let flag = |sid: u32| {
                let si = lns.find_session(ti, sid)?;
                lns.sessions.get(si).map(|s| s.speed_updates)
            };
            assert_eq!(flag(a), Some(true), "{mode:?} M={mandatory}");
            assert_eq!(flag(b), Some(false), "{mode:?} M={mandatory}");
            // No CDN: an LNS that knows the AVP does not refuse the call for its M bit.
            assert!(mesh.sent_by(1, MessageType::Cdn).is_empty());
        }
    }
}

#[test]
fn csun_updates_the_enabled_session_and_ignores_the_rest() {
    for mode in BOTH {
        for mandatory in [false, true] {
            let what = format!("{mode:?} M={mandatory}");
            let (mut mesh, tid, a, b) = two_calls(mode, mandatory);
            let v = version_of(mode);
            let mut csun = Message::new(MessageType::Csun);
            csun.avps
                .push(update(v, a, 20_000_000, 5_000_000, mandatory));
            // An id no session of the tunnel has, and the session without Enable.
            csun.avps.push(update(v, 0x7777, 1, 1, mandatory));
            csun.avps
                .push(update(v, b, 30_000_000, 6_000_000, mandatory));
            let before = mesh.nodes[1].endpoint.stats().malformed;
            lac_sends(&mut mesh, tid, csun);

            let ev = mesh.events(1);
            assert_eq!(
                mesh.speeds_applied(1),
                vec![(a, Some("20000000/5000000".to_owned()))],
                "{what}"
            );
            let ignored: Vec<_> = ev
                .iter()
                .filter_map(|e| match e {
                    Event::Discarded {
                        problem: Discard::SpeedUpdateIgnored { session_id, why },
                        ..
                    } => Some((*session_id, *why)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                ignored,
                vec![
                    (0x7777, SpeedUpdateIgnored::UnknownSession),
                    (b, SpeedUpdateIgnored::NotEnabled)
                ],
                "{what}"
            );
            let stats = mesh.nodes[1].endpoint.stats();
            assert_eq!(
                stats.malformed.speed_update_ignored - before.speed_update_ignored,
                2
            );
            assert_eq!(stats.received.get(MessageType::Csun), 1, "{what}");
            // The tunnel and both sessions are untouched.
            assert!(mesh.sent_by(1, MessageType::StopCcn).is_empty(), "{what}");
            assert!(mesh.sent_by(1, MessageType::Cdn).is_empty(), "{what}");
            assert_eq!(mesh.established_sessions(1), 2, "{what}");
        }
    }
}

#[test]
fn csun_without_an_update_is_malformed_and_the_tunnel_stays() {
    for mode in BOTH {
        let (mut mesh, tid, _, _) = two_calls(mode, false);
        let before = mesh.nodes[1].endpoint.stats().malformed.body;
        lac_sends(&mut mesh, tid, Message::new(MessageType::Csun));
        let ev = mesh.events(1);
        assert_eq!(
            count(ev, |e| matches!(
                e,
                Event::Discarded {
                    problem: Discard::SpeedUpdateEmpty,
                    ..
                }
            )),
            1
        );
        assert_eq!(mesh.nodes[1].endpoint.stats().malformed.body, before + 1);
        assert!(mesh.sent_by(1, MessageType::StopCcn).is_empty());
        assert_eq!(mesh.established_sessions(1), 2);
    }
}

#[test]
fn csurq_is_acknowledged_and_never_answered() {
    for mode in BOTH {
        let (mut mesh, tid, _, _) = two_calls(mode, false);
        // The LNS (node 1) asks the LAC (node 0) about a session of the tunnel.
        let now = mesh.now;
        let peer_of_lns = mesh.nodes[0]
            .endpoint
            .sessions(tid)
            .next()
            .map(|s| s.session_id)
            .expect("session");
        let lns_tid = mesh.first_tunnel(1);
        let ep = &mut mesh.nodes[1].endpoint;
        let ti = ep.tunnel_ids[&lns_tid];
        let v = version_of(mode);
        let mut csurq = Message::new(MessageType::Csurq);
        csurq.avps.push(update(v, peer_of_lns, 0, 0, false));
        ep.send(now, ti, csurq, 0);
        mesh.run_for(Duration::from_secs(3));
        assert!(mesh.sent_by(0, MessageType::Csun).is_empty(), "{mode:?}");
        assert_eq!(
            count(mesh.events(0), |e| matches!(
                e,
                Event::Discarded {
                    problem: Discard::SpeedRequestIgnored { sessions: 1 },
                    ..
                }
            )),
            1
        );
        assert_eq!(
            mesh.nodes[0]
                .endpoint
                .stats()
                .received
                .get(MessageType::Csurq),
            1
        );
        // Acknowledged (never retransmitted on this clean link), nothing went down.
        assert_eq!(mesh.nodes[1].endpoint.stats().retransmissions, 0);
        assert!(mesh.sent_by(0, MessageType::StopCcn).is_empty());
        assert_eq!(mesh.established_sessions(0), 2);
        // A request's speeds of 0 are no speeds.
        assert_eq!(
            ConnectSpeed::of_update(&ConnectSpeedUpdate::new(v, 1, 0, 0)),
            None
        );
    }
}

/// The CSUN body: the Message Type AVP with the M bit `type_m`, then `avps`.
fn csun_body(type_m: bool, msg: &Message) -> Vec<u8> {
    let mut body = Vec::new();
    msg.encode_body(None, &mut body).expect("encode");
    if !type_m {
        body[0] &= 0x7f;
    }
    body
}

#[test]
fn csun_and_csurq_decode_with_the_m_bits_set_or_clear() {
    use crate::wire::message::DecodeContext;
    for v in [Version::V2, Version::V3] {
        for (type_m, avp_m) in [(false, false), (false, true), (true, false), (true, true)] {
            for t in [MessageType::Csun, MessageType::Csurq] {
                let mut msg = Message::new(t);
                msg.avps.push(update(v, 401, 10_000_000, 2_000_000, avp_m));
                let body = csun_body(type_m, &msg);
                let ctx = DecodeContext {
                    version: Some(v),
                    hiding_key: None,
                };
                let decoded = Message::decode(&body, ctx).expect("decodes");
                assert_eq!(decoded.message_type, t);
                assert_eq!(decoded.avps, msg.avps, "{v:?} {t} M={type_m}/{avp_m}");
                assert!(decoded.ignored.is_empty());
            }
        }
    }
}

#[test]
fn hidden_connect_speed_update_round_trips() {
    use crate::wire::hidden::HidingKey;
    use crate::wire::message::DecodeContext;
    let key = HidingKey::v2(&"k".into()).expect("key");
    let v = Version::V2;
    let mut msg = Message::new(MessageType::Csun);
    msg.push(Avp::RandomVector(vec![9; 16]), v);
    let mut hidden = update(v, 401, 10_000_000, 2_000_000, false);
    hidden.hidden = true;
    hidden.padding = vec![1, 2, 3];
    msg.avps.push(hidden);
    let mut body = Vec::new();
    msg.encode_body(Some(&key), &mut body).expect("encode");
    let ctx = DecodeContext {
        version: Some(v),
        hiding_key: Some(&key),
    };
    assert_eq!(Message::decode(&body, ctx).map(|m| m.avps), Ok(msg.avps));
}

#[test]
fn the_other_version_s_form_is_a_wrong_length() {
    use crate::wire::message::{DecodeContext, Fault, Reaction};
    use crate::wire::result::ErrorCode;
    for (v, other) in [(Version::V2, Version::V3), (Version::V3, Version::V2)] {
        let ctx = DecodeContext {
            version: Some(v),
            hiding_key: None,
        };
        // M bit clear: ignored (kept raw), the message stands.
        let mut msg = Message::new(MessageType::Csun);
        msg.avps.push(update(other, 401, 1, 1, false));
        let decoded = Message::decode(&csun_body(false, &msg), ctx).expect("decodes");
        assert!(matches!(decoded.avps[0].avp, Avp::Raw(_)), "{v:?}");
        assert_eq!(decoded.ignored.len(), 1);
        // M bit set: the message fails as RFC 3931 §7.1 says (error 2, wrong length).
        let mut msg = Message::new(MessageType::Csun);
        msg.avps.push(update(other, 401, 1, 1, true));
        let err = Message::decode(&csun_body(false, &msg), ctx).expect_err("fails");
        assert!(
            matches!(
                err.fault,
                Fault::BadValue(crate::wire::avp::types::ValueError::BadLength { .. })
            ),
            "{err}"
        );
        assert!(matches!(
            err.reaction(),
            Reaction::StopCcn {
                error: ErrorCode::BadLength,
                ..
            }
        ));
    }
}

#[test]
fn the_lns_asks_only_for_enabled_sessions() {
    use crate::event::{Command, CommandError, CommandOutcome};
    for mode in BOTH {
        let (mut mesh, tid, a, b) = two_calls(mode, false);
        let lac_sid_of_a = mesh.nodes[0]
            .endpoint
            .sessions(tid)
            .find(|s| s.peer_session_id == a)
            .map(|s| s.session_id)
            .expect("session");
        let lns_tid = mesh.first_tunnel(1);
        let now = mesh.now;
        let ep = &mut mesh.nodes[1].endpoint;
        let ask = |session_id| Command::RequestConnectSpeeds {
            tunnel_id: lns_tid,
            session_id,
        };
        // §4.2: only for a session whose ICRQ carried Connect Speed Update Enable.
        assert_eq!(
            ep.handle_command(now, ask(Some(b))),
            Err(CommandError::SpeedUpdatesNotEnabled)
        );
        assert_eq!(
            ep.handle_command(now, ask(Some(0x7777))),
            Err(CommandError::NoSuchSession)
        );
        assert_eq!(
            ep.handle_command(now, ask(Some(a))),
            Ok(CommandOutcome::SpeedsRequested(1))
        );
        assert_eq!(
            ep.handle_command(now, ask(None)),
            Ok(CommandOutcome::SpeedsRequested(1))
        );
        mesh.run_for(Duration::from_secs(2));
        let v = version_of(mode);
        let sent = mesh.decoded_by(1, MessageType::Csurq, v);
        assert_eq!(sent.len(), 2, "{mode:?}");
        for msg in sent {
            let asked: Vec<_> = msg
                .all(crate::wire::avp::AvpType::ConnectSpeedUpdate)
                .cloned()
                .collect();
            // The LAC's own id of the session, speeds 0.
            assert_eq!(
                asked,
                vec![Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(
                    v,
                    lac_sid_of_a,
                    0,
                    0
                ))]
            );
        }
        // The LAC (which never enabled updates itself) acknowledges and does not answer.
        assert!(mesh.sent_by(0, MessageType::Csun).is_empty());
        assert_eq!(mesh.established_sessions(1), 2);
    }
}
