//! RFC 5515 connect speed updates from l2tpd's own LAC role: a session block with
//! `connect_speed_updates true` enables them in its ICRQ; a reload that changes only its
//! speeds keeps the call and sends the LNS a CSUN, which the LNS (l2tpd too) shows; the LNS's
//! `request speeds` is answered. A session without it sends nothing and keeps its call.

use std::time::Duration;

use l2tp_ctl::{EventKind, Selector};

use super::super::Command;
use super::access_line::lac;
use super::harness::Net;
use super::radius::{lns, net, server, up};
use super::speed_update::{avp_value, message_type};

const ICRQ: u16 = 10;
const CSUN: u16 = 28;

/// The control datagrams of type `t` node `i` sent.
fn sent(net: &Net, i: usize, t: u16) -> Vec<Vec<u8>> {
    net.nodes[i]
        .sent
        .iter()
        .filter(|(_, tx)| message_type(&tx.contents) == Some(t))
        .map(|(_, tx)| tx.contents.clone())
        .collect()
}

/// The LAC's session block with `line`, and an LNS authenticating with RADIUS; the call up.
fn call(line: &str) -> (Net, String) {
    let lns_text = lns("auth_chap", "auth_source radius");
    let lac_text = lac(line);
    let mut net = net(
        &lns_text,
        &lac_text,
        Some(server(radius_proto::Attributes::new())),
    );
    up(&mut net, "the call");
    (net, lac_text)
}

/// `(tx, rx)` of `show session` on node `i`.
fn speeds(net: &Net, i: usize) -> (Option<u64>, Option<u64>) {
    let call = net.first_session(i).call;
    (
        call.tx_connect_speed.map(|s| s.get()),
        call.rx_connect_speed.map(|s| s.get()),
    )
}

/// The Connect Speed Update AVP of the L2TPv2 form: reserved, session id, Tx, Rx.
fn update(sid: u32, tx: u32, rx: u32) -> Vec<u8> {
    let sid = u16::try_from(sid).unwrap_or(0);
    [
        &[0, 0][..],
        &sid.to_be_bytes(),
        &tx.to_be_bytes(),
        &rx.to_be_bytes(),
    ]
    .concat()
}

#[test]
fn a_speed_change_on_reload_goes_to_the_lns_in_a_csun_and_keeps_the_call() {
    let (mut net, lac_text) = call(
        " tx_connect_speed 80000000\n rx_connect_speed 20000000\n connect_speed_updates true\n",
    );
    // The ICRQ enabled updates; both ends say so and show the ICCN's speeds.
    let icrq = sent(&net, 0, ICRQ);
    assert_eq!(avp_value(&icrq[0], 98), Some(vec![]));
    assert!(net.first_session(0).call.connect_speed_updates);
    assert!(net.first_session(1).call.connect_speed_updates);
    assert_eq!(speeds(&net, 1), (Some(80_000_000), Some(20_000_000)));
    assert_eq!(speeds(&net, 0), (Some(80_000_000), Some(20_000_000)));
    let before = (net.first_session(0).info, net.first_session(1).info);

    let new_text = lac_text
        .replace("80000000", "30000000")
        .replace("20000000", "7000000");
    net.reload(0, &new_text);
    net.run_for(Duration::from_secs(3));
    // One CSUN naming the LNS's session id, with the new speeds.
    let csuns = sent(&net, 0, CSUN);
    assert_eq!(csuns.len(), 1);
    let lns_sid = before.1.sid;
    assert_eq!(
        avp_value(&csuns[0], 97),
        Some(update(lns_sid, 30_000_000, 7_000_000))
    );
    assert_eq!(speeds(&net, 1), (Some(30_000_000), Some(7_000_000)));
    assert_eq!(speeds(&net, 0), (Some(30_000_000), Some(7_000_000)));
    // The same call: same ids, no second session-up, nothing went down.
    let after = (net.first_session(0).info, net.first_session(1).info);
    assert_eq!((after.0.sid, after.1.sid), (before.0.sid, before.1.sid));
    for i in [0, 1] {
        assert_eq!(net.nodes[i].saw(EventKind::SessionUp), 1, "node {i}");
        assert_eq!(net.nodes[i].saw(EventKind::SessionDown), 0, "node {i}");
    }
    let shown = net.first_session(0).settings;
    assert!(
        format!("{shown:?}").contains("30000000"),
        "show session has the new settings: {shown:?}"
    );

    // The LNS asks: the LAC answers with one CSUN of the current speeds.
    let asked = net.command(1, Command::RequestSpeeds(Selector::Id(after.1.tid), None));
    assert!(format!("{asked:?}").contains("1 session(s)"), "{asked:?}");
    net.run_for(Duration::from_secs(3));
    let csuns = sent(&net, 0, CSUN);
    assert_eq!(csuns.len(), 2);
    assert_eq!(
        avp_value(&csuns[1], 97),
        Some(update(lns_sid, 30_000_000, 7_000_000))
    );
}

#[test]
fn without_updates_enabled_a_speed_change_waits_for_the_next_call() {
    let (mut net, lac_text) = call(" tx_connect_speed 80000000\n rx_connect_speed 20000000\n");
    assert!(
        sent(&net, 0, ICRQ)
            .iter()
            .all(|d| avp_value(d, 98).is_none())
    );
    assert!(!net.first_session(0).call.connect_speed_updates);
    let before = net.first_session(1).info;
    net.reload(0, &lac_text.replace("80000000", "30000000"));
    net.run_for(Duration::from_secs(3));
    // RFC 5515 §4.1: no CSUN; the call stays with its speeds.
    assert!(sent(&net, 0, CSUN).is_empty());
    assert_eq!(speeds(&net, 1), (Some(80_000_000), Some(20_000_000)));
    assert_eq!(net.first_session(1).info.sid, before.sid);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 0);
    // The LNS may not ask (§4.2), and the LAC would not answer.
    let asked = net.command(1, Command::RequestSpeeds(Selector::Id(before.tid), None));
    assert!(asked.is_err(), "{asked:?}");
}

#[test]
fn any_other_change_still_places_the_call_again() {
    let (mut net, lac_text) = call(" tx_connect_speed 80000000\n connect_speed_updates true\n");
    net.reload(
        0,
        &lac_text.replace(
            " tx_connect_speed 80000000\n",
            " tx_connect_speed 30000000\n calling_number \"4711\"\n",
        ),
    );
    net.run_until(Duration::from_secs(30), "the call placed again", |n| {
        n.nodes[1].saw(EventKind::SessionDown) == 1 && n.nodes[1].up().1 == 1
    });
    assert!(sent(&net, 0, CSUN).is_empty());
    assert_eq!(speeds(&net, 1).0, Some(30_000_000));
}

/// The values of every AVP of type `attr` (vendor 0) of a control datagram.
fn avp_values(d: &[u8], attr: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 12;
    while let Some(h) = d.get(at..at + 6) {
        let len = usize::from(u16::from_be_bytes([h[0], h[1]]) & 0x3ff);
        if len < 6 {
            break;
        }
        if h[2..4] == [0, 0] && u16::from_be_bytes([h[4], h[5]]) == attr {
            out.extend(d.get(at + 6..at + len).map(<[u8]>::to_vec));
        }
        at += len;
    }
    out
}

#[test]
fn the_sessions_of_a_tunnel_changed_by_one_reload_share_one_csun() {
    let profile = |tx: &str| {
        format!(
            "session profile \"line\" {{\n tx_connect_speed {tx}\n connect_speed_updates true\n}}\n"
        )
    };
    let sessions = "session \"a\" {\n tunnel \"t\"\n profile \"line\"\n}\n\
                    session \"b\" {\n tunnel \"t\"\n profile \"line\"\n}\n";
    let lac_text = |tx: &str| {
        lac("").replace(
            "session \"s\" {\n tunnel \"t\"\n pseudowire_type ppp\n}\n",
            "",
        ) + &profile(tx)
            + sessions
    };
    let lns_text = lns("auth_chap", "auth_source radius");
    let mut net = net(
        &lns_text,
        &lac_text("80000000"),
        Some(server(radius_proto::Attributes::new())),
    );
    net.run_until(Duration::from_secs(30), "both calls up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    net.reload(0, &lac_text("30000000"));
    net.run_for(Duration::from_secs(3));
    let csuns = sent(&net, 0, CSUN);
    assert_eq!(csuns.len(), 1, "one CSUN for the tunnel");
    let mut lns_sids: Vec<u32> = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .iter()
        .map(|r| r.sid)
        .collect();
    lns_sids.sort_unstable();
    assert_eq!(lns_sids.len(), 2);
    let mut named: Vec<Vec<u8>> = avp_values(&csuns[0], 97);
    named.sort();
    let mut expected: Vec<Vec<u8>> = lns_sids
        .iter()
        .map(|&sid| update(sid, 30_000_000, 0))
        .collect();
    expected.sort();
    assert_eq!(named, expected);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 0);
    assert_eq!(net.nodes[1].saw(EventKind::SessionUp), 2);
}
