//! Dynamic authorization (RFC 5176 §3) by the session identification attributes our own
//! requests give: a Disconnect-Request that names one of a user's two sessions by its
//! NAS-Port-Id ends only that one, and NAS-Port, Calling- and Called-Station-Id match the
//! values the Access-Request carried (the tunnel's addresses, when the LAC gave no numbers).

use std::time::Duration;

use l2tp_ctl::EventKind;
use radius_proto::Attributes;
use radius_proto::client::Service;
use radius_proto::dict::AttrType;
use radius_proto::dict::values::error_cause;
use radius_proto::dynauth::{Answer, DynAuthKind};

use super::harness::Net;
use super::logs::recorded;
use super::radius::{PASSWORD, dynauth, lac, lns, net, server, submits, two_accounted_sessions};

fn ask(net: &mut Net, kind: DynAuthKind, build: &dyn Fn(&mut Attributes)) -> Answer {
    let mut attrs = Attributes::new();
    build(&mut attrs);
    dynauth(net, kind, &attrs)
}

#[test]
fn a_request_names_a_session_by_nas_port_id_and_stations_as_sent() {
    let mut net = two_accounted_sessions();
    let access: Vec<Attributes> = submits(&net, 1)
        .into_iter()
        .filter(|(s, ..)| *s == Service::Access)
        .map(|(_, a, _)| a)
        .collect();
    assert_eq!(access.len(), 2);
    let text = |a: &Attributes, t| String::from_utf8(a.get(t).unwrap_or_default().to_vec());
    let text = |a: &Attributes, t| text(a, t).unwrap_or_else(|e| panic!("{e}"));
    let port_id = text(&access[0], AttrType::NAS_PORT_ID);
    let port = access[1].nas_port().unwrap_or_default();
    let calling = text(&access[0], AttrType::CALLING_STATION_ID);
    let called = text(&access[0], AttrType::CALLED_STATION_ID);
    assert!(!calling.is_empty() && !called.is_empty(), "{access:?}");
    // Another port of the same stations: no such session.
    let nak = ask(&mut net, DynAuthKind::Coa, &|a| {
        let _ = a.push_nas_port_id("1/1");
        let _ = a.push(AttrType::CALLING_STATION_ID, calling.as_bytes());
        let _ = a.push_session_timeout(3600);
    });
    assert_eq!(
        nak,
        Answer::Nak(Some(error_cause::SESSION_CONTEXT_NOT_FOUND))
    );
    // The stations as the Access-Request gave them.
    let ack = ask(&mut net, DynAuthKind::Coa, &|a| {
        let _ = a.push(AttrType::CALLING_STATION_ID, calling.as_bytes());
        let _ = a.push(AttrType::CALLED_STATION_ID, called.as_bytes());
        let _ = a.push_session_timeout(3600);
    });
    assert_eq!(ack, Answer::Ack(None));
    // NAS-Port as the Access-Request gave it.
    let ack = ask(&mut net, DynAuthKind::Coa, &|a| {
        let _ = a.push_nas_port(port);
        let _ = a.push_session_timeout(3600);
    });
    assert_eq!(ack, Answer::Ack(None));
    // The user and one port: that session alone.
    let ack = ask(&mut net, DynAuthKind::Disconnect, &|a| {
        let _ = a.push_user_name("alice");
        let _ = a.push_nas_port_id(&port_id);
    });
    assert_eq!(ack, Answer::Ack(None));
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
}

/// With `radius_dynauth_require_event_timestamp`, a request without Event-Timestamp is NAKed
/// with Error-Cause 402 (RFC 5176 §3.3, §6), logged and counted; one with it is carried out.
#[test]
fn a_required_event_timestamp_that_is_missing_is_nak_402() {
    let ((), lines) = recorded(|| {
        let text = lns("auth_pap", "auth_source radius").replacen(
            "radius_nas_identifier \"lns-test\"",
            "radius_nas_identifier \"lns-test\"\n radius_dynauth_require_event_timestamp true",
            1,
        );
        let mut net = net(&text, &lac(1, PASSWORD), Some(server(Attributes::new())));
        net.run_until(Duration::from_secs(20), "up", |n| {
            n.nodes[1].saw(EventKind::PppUp) == 1
        });
        for kind in [DynAuthKind::Coa, DynAuthKind::Disconnect] {
            let nak = ask(&mut net, kind, &|a| {
                let _ = a.push_user_name("alice");
                let _ = a.push_session_timeout(3600);
            });
            assert_eq!(
                nak,
                Answer::Nak(Some(error_cause::MISSING_ATTRIBUTE)),
                "{kind:?}"
            );
        }
        net.run_for(Duration::from_secs(10));
        assert_eq!(net.nodes[1].saw(EventKind::PppDown), 0, "still up");
        let dynauth = net.nodes[1].engine.radius_figures().dynauth;
        assert_eq!(
            (dynauth.get("coa_nak"), dynauth.get("disconnect_nak")),
            (Some(&1), Some(&1)),
            "{dynauth:?}"
        );
        let ack = ask(&mut net, DynAuthKind::Disconnect, &|a| {
            let _ = a.push_user_name("alice");
            let _ = a.push_event_timestamp(1_800_000_000);
        });
        assert_eq!(ack, Answer::Ack(None));
        net.run_for(Duration::from_secs(10));
        assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    });
    assert!(
        lines
            .iter()
            .any(|(_, m)| m.contains("Disconnect-Request: no Event-Timestamp")),
        "{lines:#?}"
    );
}
