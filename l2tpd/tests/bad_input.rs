//! Hostile input against a live l2tpd: malformed headers and AVPs, unknown mandatory AVPs,
//! hidden AVPs without a Random Vector, unknown ids, Ns outside the window, messages in the
//! wrong state and L2F version bits. For each, the daemon must react as the RFC says (checked
//! on the wire, and by tshark on what it sent), log a line naming the peer and the problem,
//! count it in `show system`, and leave an established tunnel with a session untouched: that
//! tunnel keeps exchanging HELLOs throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input_rfc5515;
mod common;
mod raw;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Env, l2tpd};
use l2tp_ctl::{Request, Response, State, SystemStats};
use raw::{RawPeer, Rx, avp, msg_type, mt};

const QUIET: Duration = Duration::from_millis(600);

fn stats(env: &Env) -> SystemStats {
    match env.request(&Request::ShowSystem) {
        Ok(Response::System(s)) => s.statistics,
        other => panic!("show system: {other:?}"),
    }
}

fn count(map: &BTreeMap<String, u64>, key: &str) -> u64 {
    map.get(key).copied().unwrap_or(0)
}

/// The daemon's state of tunnel `tid` and of its sessions.
fn tunnel_state(env: &Env, tid: u16) -> (Option<State>, Vec<State>) {
    let tunnels = match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t,
        other => panic!("show tunnels: {other:?}"),
    };
    let sessions = match env.request(&Request::show_sessions(None)) {
        Ok(Response::Sessions(s)) => s,
        other => panic!("show sessions: {other:?}"),
    };
    (
        tunnels
            .iter()
            .find(|t| t.tid == u32::from(tid))
            .map(|t| t.state),
        sessions
            .iter()
            .filter(|s| s.tid == u32::from(tid))
            .map(|s| s.state)
            .collect(),
    )
}

/// The value of a Connect Speed Update AVP in its L2TPv2 form (RFC 5515 §6.1): 2 reserved
/// octets, the receiver's session id, the Tx and Rx speeds.
fn speed_update(sid: u16, tx: u32, rx: u32) -> Vec<u8> {
    [
        &[0, 0][..],
        &sid.to_be_bytes(),
        &tx.to_be_bytes(),
        &rx.to_be_bytes(),
    ]
    .concat()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + common::WAIT;
    while !f() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A control message (tunnel 0, session 0) with `body` whose length field says `length`.
fn lying_length(body: &[u8], length: u16) -> Vec<u8> {
    let mut m = raw::control(0, 0, 0, 0, body);
    m[2..4].copy_from_slice(&length.to_be_bytes());
    m
}

/// What the daemon must send back to one bad input.
#[derive(Debug)]
enum Expect {
    /// Nothing at all.
    Silence,
    /// A StopCCN with (result, error).
    StopCcn(u16, Option<u16>),
    /// A CDN with (result, error).
    Cdn(u16, Option<u16>),
    /// An acknowledgement (ZLB) and no message.
    Ack,
}

struct Case {
    name: &'static str,
    /// The RFC text the reaction follows.
    rfc: &'static str,
    expect: Expect,
    /// Words the log line must hold after `from ADDR`.
    log: &'static str,
    /// The counter that must grow: (`malformed` or `tunnels_refused` key).
    counter: &'static str,
}

/// Checks one case: the reply, the log line and the counter. Returns the daemon's replies.
fn check(env: &Env, peer: &RawPeer, before: &SystemStats, mark: usize, case: &Case) -> Vec<Rx> {
    let replies = match case.expect {
        Expect::Silence => {
            std::thread::sleep(QUIET);
            let got: Vec<Rx> = peer
                .since(mark)
                .into_iter()
                .filter(|r| r.msg_type.is_some())
                .collect();
            assert!(
                got.is_empty(),
                "{}: {} says the message is discarded, but the daemon answered {got:?}",
                case.name,
                case.rfc
            );
            peer.since(mark)
        }
        Expect::Ack => {
            peer.wait_for(mark, Duration::from_secs(5), |r| r.msg_type.is_none())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: {} requires an acknowledgement; got {:?}",
                        case.name,
                        case.rfc,
                        peer.since(mark)
                    )
                });
            std::thread::sleep(QUIET);
            let got: Vec<Rx> = peer
                .since(mark)
                .into_iter()
                .filter(|r| r.msg_type.is_some_and(|t| t != mt::HELLO))
                .collect();
            assert!(
                got.is_empty(),
                "{}: {} says the message is ignored, but the daemon answered {got:?}",
                case.name,
                case.rfc
            );
            peer.since(mark)
        }
        Expect::StopCcn(result, error) | Expect::Cdn(result, error) => {
            let t = if matches!(case.expect, Expect::StopCcn(..)) {
                mt::STOPCCN
            } else {
                mt::CDN
            };
            let rx = peer
                .wait_type(mark, t, Duration::from_secs(5))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: {} requires {:?}; got {:?}",
                        case.name,
                        case.rfc,
                        case.expect,
                        peer.since(mark)
                    )
                });
            assert_eq!(
                rx.result_code(),
                Some((result, error)),
                "{}: result and error code ({})",
                case.name,
                case.rfc
            );
            peer.since(mark)
        }
    };
    let needle = format!("from {}", peer.addr());
    let text = env.wait_log(&needle);
    let line = text
        .lines()
        .find(|l| l.contains(&needle) && l.contains(case.log))
        .unwrap_or_else(|| {
            panic!(
                "{}: no log line naming {} and {:?}:\n{text}",
                case.name,
                peer.addr(),
                case.log
            )
        });
    eprintln!("{}: {line}", case.name);
    if matches!(case.expect, Expect::Ack) && case.counter != "body" {
        // An optional message the RFCs let us ignore is no fault of the peer's.
        assert!(
            line.contains("notice") && !line.contains("malformed"),
            "{}: logged as a fault: {line}",
            case.name
        );
    }
    let after = stats(env);
    let grew = |m: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>| {
        count(m, case.counter) > count(b, case.counter)
    };
    assert!(
        grew(&after.malformed, &before.malformed)
            || grew(&after.tunnels_refused, &before.tunnels_refused)
            || grew(&after.messages_received, &before.messages_received),
        "{}: counter {} did not grow: {:?} -> {:?}",
        case.name,
        case.counter,
        before.malformed,
        after.malformed
    );
    replies
}

#[test]
fn bad_input_is_answered_as_the_rfcs_say_logged_counted_and_harms_no_other_tunnel() {
    let mut env = Env::new(l2tpd(), "bad-input");
    env.write_config(
        "    dataplane none\n    log_level info\n",
        "tunnel profile \"default\" {\n    hello_timeout 1\n    retry_timeout 1\n}\n",
    );
    env.start(&[]);
    let daemon = std::net::SocketAddr::from(([127, 0, 0, 1], env.port));

    // The bystander: an established tunnel with a session, which must stay untouched.
    let good = RawPeer::new(daemon);
    let good_tid = good.establish(100);
    let good_sid = good.open_session(good_tid, 200);
    wait_until("the bystander's session is up", || {
        tunnel_state(&env, good_tid) == (Some(State::Up), vec![State::Up])
    });
    let good_start = good.mark();
    let mut replies: Vec<(std::net::SocketAddr, Rx)> = Vec::new();
    let mut record = |peer: &RawPeer, rxs: Vec<Rx>| {
        replies.extend(rxs.into_iter().map(|r| (peer.addr(), r)));
    };

    // Each bad input comes from its own port, so that its log line is its own.
    let header_cases: Vec<(Case, Vec<u8>)> = vec![
        (
            Case {
                name: "truncated header",
                rfc: "RFC 3931 §7.1 (a malformed header MUST be discarded)",
                expect: Expect::Silence,
                log: "truncated header",
                counter: "header",
            },
            vec![0xC8, 0x02, 0x00],
        ),
        (
            Case {
                name: "length field larger than the datagram",
                rfc: "RFC 3931 §7.1",
                expect: Expect::Silence,
                log: "length field says 200",
                counter: "header",
            },
            lying_length(&raw::sccrq_body(1), 200),
        ),
        (
            Case {
                name: "length field shorter than the header",
                rfc: "RFC 3931 §7.1",
                expect: Expect::Silence,
                log: "malformed header",
                counter: "header",
            },
            lying_length(&raw::sccrq_body(1), 4),
        ),
        (
            Case {
                name: "oversize datagram with a lying length",
                rfc: "RFC 3931 §7.1",
                expect: Expect::Silence,
                log: "length field says 65535",
                counter: "header",
            },
            lying_length(&vec![0u8; 60_000], 65_535),
        ),
        (
            Case {
                name: "version 1 (L2F)",
                rfc: "RFC 2661 §3.1 (unknown Ver MUST be discarded; 1 is L2F)",
                expect: Expect::Silence,
                log: "(L2F)",
                counter: "l2f",
            },
            {
                let mut m = raw::control(0, 0, 0, 0, &raw::sccrq_body(1));
                m[1] = (m[1] & 0xF0) | 1;
                m
            },
        ),
        (
            Case {
                name: "unknown tunnel id",
                rfc: "RFC 2661 §3.1 (no such tunnel: nothing to answer for)",
                expect: Expect::Silence,
                log: "unknown tunnel id 4242",
                counter: "unknown_tunnel",
            },
            raw::control(4242, 0, 0, 0, &msg_type(mt::HELLO)),
        ),
    ];
    for (case, bytes) in &header_cases {
        let before = stats(&env);
        let peer = RawPeer::new(daemon);
        let m = peer.mark();
        peer.send_raw(bytes);
        record(&peer, check(&env, &peer, &before, m, case));
    }

    // SCCRQs with bad AVPs: the tunnel they ask for is refused with StopCCN (RFC 2661 §4.1:
    // "the entire tunnel MUST be terminated"; §7.1 for malformed AVPs with the M bit).
    let zero_len = [0x80u8, 0x00, 0, 0, 0, 7];
    let overrun = {
        let mut a = avp(true, 7, b"host");
        a[0..2].copy_from_slice(&(0x8000u16 | 200).to_be_bytes());
        a
    };
    let hidden_host = {
        let mut a = avp(true, 7, b"host");
        a[0] |= 0x40;
        a
    };
    let sccrq_cases: Vec<(Case, Vec<u8>)> = vec![
        (
            Case {
                name: "AVP of zero length in an SCCRQ",
                rfc: "RFC 2661 §4.1, §7.1",
                expect: Expect::StopCcn(2, Some(2)),
                log: "StopCCN result 2 error 2",
                counter: "body",
            },
            [raw::sccrq_body(11), zero_len.to_vec()].concat(),
        ),
        (
            Case {
                name: "AVP that overruns the SCCRQ",
                rfc: "RFC 2661 §4.1, §7.1",
                expect: Expect::StopCcn(2, Some(2)),
                log: "StopCCN result 2 error 2",
                counter: "body",
            },
            [raw::sccrq_body(12), overrun.clone()].concat(),
        ),
        (
            Case {
                name: "unknown AVP with the M bit in an SCCRQ",
                rfc: "RFC 2661 §4.1 (M bit on an unrecognized AVP: the tunnel MUST be \
                      terminated), RFC 3931 §5.2 (error 8)",
                expect: Expect::StopCcn(2, Some(8)),
                log: "StopCCN result 2 error 8",
                counter: "body",
            },
            [raw::sccrq_body(13), avp(true, 999, &[1, 2])].concat(),
        ),
        (
            Case {
                name: "hidden AVP without a Random Vector in an SCCRQ",
                rfc: "RFC 2661 §4.3 (a hidden AVP needs a preceding Random Vector), §7.1",
                expect: Expect::StopCcn(2, Some(3)),
                log: "hidden AVP without a preceding Random Vector): StopCCN result 2 error 3",
                counter: "body",
            },
            [raw::sccrq_body(14), hidden_host.clone()].concat(),
        ),
        (
            Case {
                name: "SCCRQ assigning tunnel id 0",
                rfc: "RFC 2661 §4.4.3 (the Assigned Tunnel ID is non-zero), §7.1 (an \
                      out-of-range value in an AVP with the M bit: StopCCN, error 3)",
                expect: Expect::StopCcn(2, Some(3)),
                log: "value 0 out of range, expected a non-zero Assigned Tunnel ID (RFC 2661 \
                      §4.4.3)): StopCCN result 2 error 3",
                counter: "body",
            },
            raw::sccrq_body(0),
        ),
    ];
    for (case, body) in &sccrq_cases {
        let before = stats(&env);
        let peer = RawPeer::new(daemon);
        let m = peer.mark();
        peer.send(0, 0, body);
        record(&peer, check(&env, &peer, &before, m, case));
    }

    // On an attacker's own established tunnel: session-level and sequencing problems.
    let bad = RawPeer::new(daemon);
    let bad_tid = bad.establish(300);
    let bad_sid = bad.open_session(bad_tid, 400);
    wait_until("the attacker's session is up", || {
        tunnel_state(&env, bad_tid) == (Some(State::Up), vec![State::Up])
    });
    type Send = Box<dyn Fn(&RawPeer)>;
    let tunnel_cases: Vec<(Case, Send)> = vec![
        (
            Case {
                name: "unknown AVP with the M bit in an ICRQ",
                rfc: "RFC 2661 §4.1 (M bit on an unrecognized AVP in a session message: the \
                      session MUST be terminated)",
                expect: Expect::Cdn(2, Some(8)),
                log: "CDN result 2 error 8",
                counter: "body",
            },
            Box::new(move |p: &RawPeer| {
                p.send(
                    bad_tid,
                    0,
                    &[raw::icrq_body(401), avp(true, 999, &[0])].concat(),
                );
            }),
        ),
        (
            Case {
                name: "hidden AVP without a Random Vector in an ICRQ",
                rfc: "RFC 2661 §4.3, §7.1",
                expect: Expect::Cdn(2, Some(3)),
                log: "hidden AVP without a preceding Random Vector): CDN result 2 error 3",
                counter: "body",
            },
            Box::new(move |p: &RawPeer| {
                let mut serial = avp(true, 15, &9u32.to_be_bytes());
                serial[0] |= 0x40;
                let body = [
                    msg_type(mt::ICRQ),
                    avp(true, 14, &402u16.to_be_bytes()),
                    serial,
                ]
                .concat();
                p.send(bad_tid, 0, &body);
            }),
        ),
        (
            Case {
                name: "ICRQ assigning session id 0",
                rfc: "RFC 2661 §5.3 (0 MUST NOT be used as an Assigned Session ID), §7.1",
                expect: Expect::Cdn(2, Some(3)),
                log: "expected a non-zero Assigned Session ID (RFC 2661 §4.4.4)): CDN result 2 \
                      error 3",
                counter: "body",
            },
            Box::new(move |p: &RawPeer| p.send(bad_tid, 0, &raw::icrq_body(0))),
        ),
        (
            Case {
                name: "message for an unknown session id",
                rfc: "RFC 2661 §3.1 (session ids are the receiver's)",
                expect: Expect::Silence,
                log: "unknown session id 777",
                counter: "unknown_session",
            },
            Box::new(move |p: &RawPeer| p.send(bad_tid, 777, &raw::iccn_body())),
        ),
        (
            Case {
                name: "Ns outside the receive window",
                rfc: "RFC 2661 §5.8 (messages outside the window are discarded)",
                expect: Expect::Silence,
                log: "outside the receive window",
                counter: "outside_window",
            },
            Box::new(move |p: &RawPeer| {
                let ns = p.state.lock().unwrap().ns.wrapping_add(1000);
                p.send_with_ns(bad_tid, 0, ns, &msg_type(mt::HELLO));
            }),
        ),
        (
            Case {
                name: "Nr acknowledging messages never sent",
                rfc: "RFC 2661 §5.8 (Nr acknowledges what the peer received)",
                expect: Expect::Silence,
                log: "acknowledges nothing sent",
                counter: "invalid_nr",
            },
            Box::new(move |p: &RawPeer| p.send_zlb_nr_ahead(bad_tid, 500)),
        ),
        (
            Case {
                name: "RFC 5515 CSURQ, M bit clear",
                rfc: "RFC 5515 §4.2 (the LAC MUST NOT answer for an unknown session or one \
                      whose ICRQ did not carry Connect Speed Update Enable)",
                expect: Expect::Ack,
                log: "CSURQ for 1 session(s) acknowledged, not answered",
                counter: "CSURQ",
            },
            Box::new(move |p: &RawPeer| {
                // One Connect Speed Update AVP (97), L2TPv2 form, speeds 0 as in a CSURQ.
                let update = avp(false, 97, &speed_update(bad_sid, 0, 0));
                p.send(
                    bad_tid,
                    0,
                    &[avp(false, 0, &29u16.to_be_bytes()), update].concat(),
                );
            }),
        ),
        (
            Case {
                name: "RFC 5515 CSUN for an unknown session, M bit clear",
                rfc: "RFC 5515 §4.1 (the LAC MUST NOT send an update for a session that did \
                      not enable them): ignored, the tunnel kept",
                expect: Expect::Ack,
                log: "Connect Speed Update for session 4001 ignored: no such session",
                counter: "speed_update_ignored",
            },
            Box::new(move |p: &RawPeer| {
                let update = avp(false, 97, &speed_update(4001, 10_000, 10_000));
                p.send(
                    bad_tid,
                    0,
                    &[avp(false, 0, &28u16.to_be_bytes()), update].concat(),
                );
            }),
        ),
        (
            Case {
                name: "RFC 5515 CSUN for a session that did not enable updates",
                rfc: "RFC 5515 §4.1, §6.2",
                expect: Expect::Ack,
                log: "its ICRQ did not carry Connect Speed Update Enable",
                counter: "speed_update_ignored",
            },
            Box::new(move |p: &RawPeer| {
                let update = avp(true, 97, &speed_update(bad_sid, 10_000, 10_000));
                p.send(bad_tid, 0, &[msg_type(28), update].concat());
            }),
        ),
        (
            Case {
                name: "RFC 5515 CSUN without a Connect Speed Update AVP",
                rfc: "RFC 5515 §4.1 (at least one MUST be present): malformed, the tunnel kept",
                expect: Expect::Ack,
                log: "malformed CSUN without a Connect Speed Update AVP",
                counter: "body",
            },
            Box::new(move |p: &RawPeer| p.send(bad_tid, 0, &msg_type(28))),
        ),
        (
            Case {
                name: "unknown message type, M bit clear",
                rfc: "RFC 2661 §4.4.1, RFC 3931 §5.4.1",
                expect: Expect::Ack,
                log: "unknown optional message type 999 (M bit clear): acknowledged, ignored",
                counter: "unsupported_message",
            },
            Box::new(move |p: &RawPeer| p.send(bad_tid, 0, &avp(false, 0, &999u16.to_be_bytes()))),
        ),
        (
            Case {
                name: "ICCN for an established session",
                rfc: "RFC 2661 §7.4/§7.5 state tables (unexpected message: send CDN, clean up)",
                expect: Expect::Cdn(2, Some(0)),
                log: "unexpected ICCN",
                counter: "wrong_state",
            },
            Box::new(move |p: &RawPeer| p.send(bad_tid, bad_sid, &raw::iccn_body())),
        ),
        (
            Case {
                name: "SCCCN on an established tunnel",
                rfc: "RFC 2661 §7.2 state table (unexpected message: StopCCN, clean up), \
                      result 7 (FSM error)",
                expect: Expect::StopCcn(7, None),
                log: "unexpected SCCCN",
                counter: "wrong_state",
            },
            Box::new(move |p: &RawPeer| p.send(bad_tid, 0, &msg_type(mt::SCCCN))),
        ),
    ];
    for (case, send) in &tunnel_cases {
        let before = stats(&env);
        let m = bad.mark();
        send(&bad);
        record(&bad, check(&env, &bad, &before, m, case));
        if !matches!(case.expect, Expect::StopCcn(..)) {
            assert_eq!(
                tunnel_state(&env, bad_tid).0,
                Some(State::Up),
                "{}: the attacker's own tunnel stays up",
                case.name
            );
        }
    }

    bad_input_rfc5515::csun_updates_an_enabled_session(&env, daemon);

    // A session message before the tunnel is up (SCCRP sent, no SCCCN yet).
    let before = stats(&env);
    let early = RawPeer::new(daemon);
    let m = early.mark();
    early.send(0, 0, &raw::sccrq_body(500));
    let sccrp = early
        .wait_type(m, mt::SCCRP, Duration::from_secs(5))
        .expect("SCCRP");
    let early_tid = u16::from_be_bytes(sccrp.avp(9).unwrap().try_into().unwrap());
    early.send(early_tid, 0, &raw::icrq_body(501));
    let case = Case {
        name: "ICRQ before the tunnel is up",
        rfc: "RFC 2661 §7.2 state table (wait-ctl-conn: unexpected message, StopCCN)",
        expect: Expect::StopCcn(7, Some(0)),
        log: "unexpected ICRQ",
        counter: "wrong_state",
    };
    record(&early, check(&env, &early, &before, m, &case));

    // The bystander is untouched: up, its session up, HELLOs exchanged all along.
    assert_eq!(
        tunnel_state(&env, good_tid),
        (Some(State::Up), vec![State::Up]),
        "the bystander tunnel and session"
    );
    let hellos_during = good
        .since(good_start)
        .iter()
        .filter(|r| r.msg_type == Some(mt::HELLO))
        .count();
    assert!(
        hellos_during >= 2,
        "the bystander kept exchanging HELLOs: {hellos_during} received"
    );
    let m = good.mark();
    good.send(good_tid, 0, &msg_type(mt::HELLO));
    good.wait_for(m, Duration::from_secs(3), |r| r.msg_type.is_none())
        .expect("the daemon acknowledges the bystander's HELLO");
    let _ = good_sid;

    // tshark judges everything the daemon sent: well-formed, and the codes we checked.
    let datagrams: Vec<l2tp_testkit::pcap::Datagram> = replies
        .iter()
        .map(|(to, r)| l2tp_testkit::pcap::Datagram::new(r.from, *to, r.raw.clone()))
        .collect();
    common::judge_capture("bad_input", env.port, &datagrams);
}

/// An L2TPv3 control message over UDP (RFC 3931 §3.2.1): T, L, S bits, Ver 3, 32-bit Control
/// Connection ID.
fn v3_control(ccid: u32, ns: u16, nr: u16, body: &[u8]) -> Vec<u8> {
    let mut v = 0xC803u16.to_be_bytes().to_vec();
    v.extend_from_slice(&(12 + body.len() as u16).to_be_bytes());
    v.extend_from_slice(&ccid.to_be_bytes());
    v.extend_from_slice(&ns.to_be_bytes());
    v.extend_from_slice(&nr.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// Reads L2TPv3 messages from `sock` until one of type `want` (skipping ZLBs and others):
/// (Ns, AVPs as (type, value)).
fn v3_wait(sock: &std::net::UdpSocket, want: u16) -> (u16, Vec<(u16, Vec<u8>)>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no message type {want}"
        );
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let m = &buf[..n];
        let mut avps = Vec::new();
        let mut at = 12;
        while at + 6 <= n {
            let len = usize::from(u16::from_be_bytes([m[at], m[at + 1]]) & 0x3FF);
            if len < 6 || at + len > n {
                break;
            }
            avps.push((
                u16::from_be_bytes([m[at + 4], m[at + 5]]),
                m[at + 6..at + len].to_vec(),
            ));
            at += len;
        }
        let t = avps
            .first()
            .filter(|(a, v)| *a == 0 && v.len() == 2)
            .map(|(_, v)| u16::from_be_bytes([v[0], v[1]]));
        if t == Some(want) {
            return (u16::from_be_bytes([m[8], m[9]]), avps);
        }
    }
}

fn v3_avp(avps: &[(u16, Vec<u8>)], t: u16) -> Vec<u8> {
    avps.iter()
        .find(|(a, _)| *a == t)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no AVP {t} in {avps:?}"))
}

/// L2TPv3: an SCCRQ with an unknown AVP with the M bit is refused with StopCCN 2/8; an ICRQ
/// with one, or with a hidden AVP and no Random Vector, is refused with a CDN naming the session
/// the peer assigned (RFC 3931 §5.2, §7.1; error 8 and 3), and the tunnel stays up.
#[test]
fn l2tpv3_call_requests_with_bad_avps_are_refused_with_cdn() {
    let mut env = Env::new(l2tpd(), "bad-input-v3");
    env.write_config("    dataplane none\n", "");
    env.start(&[]);
    let daemon = std::net::SocketAddr::from(([127, 0, 0, 1], env.port));
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let our_ccid = 0x0102_0304u32;
    let sccrq = [
        msg_type(mt::SCCRQ),
        avp(true, 7, b"raw-v3"),
        avp(true, 60, &0xC000_0201u32.to_be_bytes()),
        avp(true, 61, &our_ccid.to_be_bytes()),
        avp(true, 62, &5u16.to_be_bytes()),
    ]
    .concat();
    // First an SCCRQ with an unknown AVP with the M bit: StopCCN 2/8 (RFC 3931 §5.2).
    let other = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let bad_sccrq = [sccrq.clone(), avp(true, 999, &[1])].concat();
    other
        .send_to(&v3_control(0, 0, 0, &bad_sccrq), daemon)
        .unwrap();
    let (_, avps) = v3_wait(&other, mt::STOPCCN);
    let result = v3_avp(&avps, 1);
    assert_eq!(&result[..4], &[0, 2, 0, 8], "StopCCN result 2 error 8");
    env.wait_log(&format!("from {}", other.local_addr().unwrap()));

    sock.send_to(&v3_control(0, 0, 0, &sccrq), daemon).unwrap();
    let (ns, avps) = v3_wait(&sock, mt::SCCRP);
    let ccid = u32::from_be_bytes(v3_avp(&avps, 61).try_into().unwrap());
    let mut nr = ns.wrapping_add(1);
    let mut our_ns = 1u16;
    let mut send = |body: &[u8], nr: u16| {
        sock.send_to(&v3_control(ccid, our_ns, nr, body), daemon)
            .unwrap();
        our_ns += 1;
    };
    send(&msg_type(mt::SCCCN), nr);

    let icrq = |sid: u32, extra: Vec<u8>| {
        [
            msg_type(mt::ICRQ),
            avp(true, 63, &sid.to_be_bytes()),
            avp(true, 64, &0u32.to_be_bytes()),
            avp(true, 15, &1u32.to_be_bytes()),
            avp(true, 68, &5u16.to_be_bytes()),
            avp(true, 66, b"end"),
            avp(true, 71, &3u16.to_be_bytes()),
            extra,
        ]
        .concat()
    };
    let mut hidden = avp(true, 7, b"x");
    hidden[0] |= 0x40;
    for (sid, extra, error) in [
        (0x1111u32, avp(true, 999, &[1]), 8u16),
        (0x2222u32, hidden, 3u16),
    ] {
        send(&icrq(sid, extra), nr);
        let (cdn_ns, avps) = v3_wait(&sock, mt::CDN);
        nr = cdn_ns.wrapping_add(1);
        let result = v3_avp(&avps, 1);
        assert_eq!(
            (
                u16::from_be_bytes([result[0], result[1]]),
                u16::from_be_bytes([result[2], result[3]])
            ),
            (2, error),
            "CDN result and error code"
        );
        assert_eq!(
            v3_avp(&avps, 64),
            sid.to_be_bytes(),
            "the CDN names the session we assigned"
        );
        env.wait_log(&format!("CDN result 2 error {error}"));
    }
    let tunnels = match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t,
        other => panic!("{other:?}"),
    };
    // The refused SCCRQ's tunnel lingers while closing; ours is up.
    let ours: Vec<_> = tunnels
        .iter()
        .filter(|t| t.peer == sock.local_addr().unwrap().to_string())
        .collect();
    assert_eq!(ours.len(), 1, "{tunnels:?}");
    assert_eq!(ours[0].state, State::Up, "the tunnel stays up");
    let s = stats(&env);
    assert!(count(&s.malformed, "body") >= 3, "{:?}", s.malformed);
}
