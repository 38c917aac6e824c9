//! RFC 5515 connect speed updates from a LAC to the LNS: the LAC's ICRQ carries Connect Speed
//! Update Enable and, once the call is up, a CSUN gives new speeds. The LNS shows them in
//! `show session` and sends them as Connect-Info in the session's next Interim-Update and in
//! its Stop; `l2tpctl request speeds` sends a CSURQ for the session. The LAC here is an
//! l2tpd whose datagrams the wire rewrites into those of such a LAC, with the AVP's M bit set
//! (l2tpd's own LAC role, in `speed_update_lac`, sends it clear).

use std::time::Duration;

use radius_proto::dict::AttrType;
use radius_proto::dict::values::acct_status_type;

use l2tp_ctl::Selector;

use super::super::Command;
use super::access_line::lac;
use super::harness::{L2tpWire, Net};
use super::radius::{accounting, lns, server, up};

/// Message types (RFC 2661 §3.2, RFC 5515 §4).
const HELLO: u16 = 6;
const ICRQ: u16 = 10;
const ICRP: u16 = 11;
const CSUN: u16 = 28;
const CSURQ: u16 = 29;

/// The message type of an L2TPv2 control datagram (12-octet header, Message Type first).
pub(super) fn message_type(d: &[u8]) -> Option<u16> {
    let is_control = d.first().is_some_and(|b| b & 0x80 != 0);
    let v = d
        .get(18..20)
        .filter(|_| is_control && d.get(16..18) == Some(&[0, 0]))?;
    Some(u16::from_be_bytes([v[0], v[1]]))
}

/// The value of the first AVP of type `attr` (vendor 0) of a control datagram.
pub(super) fn avp_value(d: &[u8], attr: u16) -> Option<Vec<u8>> {
    let mut at = 12;
    while let Some(h) = d.get(at..at + 6) {
        let len = usize::from(u16::from_be_bytes([h[0], h[1]]) & 0x3ff);
        if len < 6 {
            return None;
        }
        if h[2..4] == [0, 0] && u16::from_be_bytes([h[4], h[5]]) == attr {
            return d.get(at + 6..at + len).map(<[u8]>::to_vec);
        }
        at += len;
    }
    None
}

fn avp(mandatory: bool, attr: u16, value: &[u8]) -> Vec<u8> {
    let flags = if mandatory { 0x8000u16 } else { 0 } | (6 + value.len() as u16);
    [
        &flags.to_be_bytes()[..],
        &[0, 0],
        &attr.to_be_bytes(),
        value,
    ]
    .concat()
}

/// `header` (12 octets, its Length fixed) followed by `body`.
fn with_body(header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut d = [&header[..12], body].concat();
    let len = u16::try_from(d.len()).unwrap_or(u16::MAX);
    d[2..4].copy_from_slice(&len.to_be_bytes());
    d
}

/// The wire: node 0's ICRQ gains Connect Speed Update Enable (M bit set); node 1's ICRP tells
/// the session id the LNS assigned; node 0's first HELLO after that becomes a CSUN (same Ns and
/// Nr) with the new speeds of that session.
fn speed_updating_lac() -> L2tpWire {
    let mut lns_sid: Option<[u8; 2]> = None;
    let mut sent = false;
    L2tpWire(Box::new(move |from, _to, d| {
        match (from, message_type(&d)) {
            (0, Some(ICRQ)) => {
                let body = [&d[12..], &avp(true, 98, &[])[..]].concat();
                return vec![with_body(&d, &body)];
            }
            (1, Some(ICRP)) => {
                lns_sid = avp_value(&d, 14).and_then(|v| v.try_into().ok());
            }
            (0, Some(HELLO)) if !sent => {
                if let Some(sid) = lns_sid {
                    sent = true;
                    let update = [
                        &[0, 0][..],
                        &sid,
                        &30_000_000u32.to_be_bytes(),
                        &7_000_000u32.to_be_bytes(),
                    ]
                    .concat();
                    let body = [avp(false, 0, &CSUN.to_be_bytes()), avp(false, 97, &update)];
                    return vec![with_body(&d, &body.concat())];
                }
            }
            _ => {}
        }
        vec![d]
    }))
}

#[test]
fn a_csun_reaches_show_session_and_accounting() {
    let mut accept = radius_proto::Attributes::new();
    accept
        .push_acct_interim_interval(120)
        .unwrap_or_else(|e| panic!("{e}"));
    let lns_text = lns("auth_chap", "auth_source radius\n radius_accounting true");
    let lac_text = lac(" tx_connect_speed 80000000\n rx_connect_speed 20000000\n");
    let mut net = Net::unstarted(&[&lac_text, &lns_text], 41);
    net.nodes[1].radius_server = Some(server(accept));
    net.l2tp_wire = Some(speed_updating_lac());
    let mut net = net.start();
    up(&mut net, "a call with speed updates");
    let call = net.first_session(1).call;
    assert!(call.connect_speed_updates, "{call:?}");
    assert_eq!(call.tx_connect_speed.map(|s| s.get()), Some(80_000_000));

    // The LAC's first HELLO (after a silence) turns into the CSUN; the Interim-Updates (every
    // 120 s) carry the speeds of the time.
    let interim_with = |n: &Net, info: &[u8]| {
        accounting(n).iter().any(|(s, a, _)| {
            *s == acct_status_type::INTERIM_UPDATE && a.get(AttrType::CONNECT_INFO) == Some(info)
        })
    };
    net.run_until(
        Duration::from_secs(400),
        "an Interim-Update after the CSUN",
        |n| interim_with(n, b"30000000/7000000"),
    );
    let call = net.first_session(1).call;
    assert_eq!(
        call.rx_connect_speed.map(|s| s.get()),
        Some(7_000_000),
        "{call:?}"
    );
    let connect_info = |net: &Net, status: u32| {
        accounting(net)
            .into_iter()
            .rev()
            .find(|(s, ..)| *s == status)
            .and_then(|(_, a, _)| a.get(AttrType::CONNECT_INFO).map(<[u8]>::to_vec))
    };
    assert_eq!(
        connect_info(&net, acct_status_type::START).as_deref(),
        Some(&b"80000000/20000000"[..]),
        "the Start has the ICCN's speeds"
    );
    // `l2tpctl request speeds`: the LNS sends a CSURQ naming the LAC's session, speeds 0.
    let s = net.first_session(1);
    let asked = net.command(1, Command::RequestSpeeds(Selector::Id(s.info.tid), None));
    assert!(
        format!("{asked:?}").contains("requested for 1 session(s)"),
        "{asked:?}"
    );
    let csurq = net.nodes[1]
        .sent
        .iter()
        .find(|(_, tx)| message_type(&tx.contents) == Some(CSURQ))
        .map(|(_, tx)| tx.contents.clone())
        .unwrap_or_else(|| panic!("no CSURQ sent"));
    let lac_sid = net.first_session(0).info.sid;
    let mut expected = vec![0, 0];
    expected.extend_from_slice(&u16::try_from(lac_sid).unwrap_or(0).to_be_bytes());
    expected.extend_from_slice(&[0; 8]);
    assert_eq!(avp_value(&csurq, 97), Some(expected));
    // The LNS closes the call: its Stop carries the speeds too.
    net.command(
        1,
        Command::DeleteSession(Selector::Id(s.info.tid), Selector::Id(s.info.sid)),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    net.run_until(Duration::from_secs(30), "the Stop", |n| {
        accounting(n)
            .iter()
            .any(|(s, ..)| *s == acct_status_type::STOP)
    });
    assert_eq!(
        connect_info(&net, acct_status_type::STOP).as_deref(),
        Some(&b"30000000/7000000"[..]),
        "the Stop after the CSUN has its speeds"
    );
}
