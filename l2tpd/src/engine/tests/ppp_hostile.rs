//! Native PPP against hostile and broken peers: malformed LCP, PAP, CHAP, IPCP and IPv6CP
//! packets, a peer that Naks every Configure-Request, one that never authenticates, one whose
//! credentials are wrong, one that stops answering echoes. Each case runs two sessions of
//! alice in one L2TPv2 tunnel; one of them misbehaves (its frames rewritten or dropped on the
//! virtual wire, or frames handed to the LNS's engine directly), and the other must not
//! notice: it stays up, keeps its address and gets no data-plane request.
//!
//! Each misbehaviour is logged (the log lines are recorded) and counted (`show system`'s
//! `ppp_down` by reason, `ppp_auth_failures`, `ppp_frames_malformed`, a session's
//! `frames_discarded`), and a session that must end ends with the CDN result RFC 2661 §4.4.2
//! gives for it.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use l2tp_ctl::{EventKind, Selector, SessionInfo, State};

use super::harness::{Net, PppWire};
use super::logs::{Line, recorded};
use ppp_proto::{Ipv6Config, LinkConfig};

use super::super::ppp::PppPolicy;
use super::ppp::{POOL, client, server};
use crate::dataplane::DataplaneRequest;

/// The password of every session of alice: it must never reach a log line.
const PASSWORD: &str = "wonderland";

/// `policy` with IPv6CP on (both ends run it, so IPv6CP frames reach an automaton).
fn with_ipv6(policy: PppPolicy) -> PppPolicy {
    let on = |c: &Arc<LinkConfig>| {
        Arc::new(LinkConfig {
            ipv6: Some(Ipv6Config::default()),
            ..(**c).clone()
        })
    };
    PppPolicy {
        server: on(&policy.server),
        client: on(&policy.client),
        ..policy
    }
}

/// Two LAC sessions of alice against an LNS that gives addresses from its pool, IPv4 and
/// IPv6, with LCP echoes every `echo` from the LNS.
/// The LAC allows itself twice the LNS's time to authenticate, so that the LNS is the one
/// that gives up on a silent authentication.
fn alice_twice(echo: Option<Duration>) -> Net {
    let patient = |p: PppPolicy| {
        let c = Arc::new(LinkConfig {
            auth_timeout: Duration::from_secs(60),
            ..(*p.client).clone()
        });
        PppPolicy { client: c, ..p }
    };
    let c = patient(with_ipv6(client("alice", PASSWORD)));
    let c2 = patient(with_ipv6(client("alice", PASSWORD)));
    super::ppp::unstarted(
        &[c, c2],
        with_ipv6(server(Some(POOL), echo)),
        ("198.51.100.10", "198.51.100.19"),
    )
}

/// Two sessions of alice, both up, the LNS's rows of them sorted by the address they got.
pub(super) fn two_up(net: &mut Net) -> [SessionInfo; 2] {
    net.run_until(Duration::from_secs(10), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    lns_rows(net)
}

pub(super) fn lns_rows(net: &Net) -> [SessionInfo; 2] {
    let mut rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("sessions: {e:?}"));
    rows.sort_by_key(|r| r.ppp_ipv4);
    match <[SessionInfo; 2]>::try_from(rows) {
        Ok(r) => r,
        Err(rows) => panic!("not two sessions: {rows:#?}"),
    }
}

/// Runs 30 s more, then asserts [`assert_untouched`] for the LNS's session `keep`.
fn stays_untouched(net: &mut Net, keep: &SessionInfo) {
    let before = net.nodes[1].requests.len();
    net.run_for(Duration::from_secs(30));
    assert_untouched(net, keep, before);
}

/// Some line of `lines` says PPP went down and contains `what`.
fn assert_logged_down(lines: &[Line], what: &str) {
    assert!(
        lines
            .iter()
            .any(|(_, m)| m.contains("PPP down") && m.contains(what)),
        "{lines:#?}"
    );
}

/// The LNS's session `row` is still up with the same address, was never taken down, and its
/// data plane was asked for nothing since `requests_before` (requests then).
pub(super) fn assert_untouched(net: &Net, row: &SessionInfo, requests_before: usize) {
    let now = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default()
        .into_iter()
        .find(|r| (r.tid, r.sid) == (row.tid, row.sid))
        .unwrap_or_else(|| panic!("session {}/{} is gone", row.tid, row.sid));
    assert_eq!(now.state, State::Up, "{now:?}");
    assert_eq!(now.ppp_ipv4, row.ppp_ipv4, "{now:?}");
    assert!(now.uptime_s >= row.uptime_s, "{now:?} {row:?}");
    let later: Vec<&DataplaneRequest> = net.nodes[1].requests[requests_before..]
        .iter()
        .filter(|r| match r {
            DataplaneRequest::PppUp { tid, sid, .. }
            | DataplaneRequest::PppDown { tid, sid }
            | DataplaneRequest::RemoveSession { tid, sid } => (*tid, *sid) == (row.tid, row.sid),
            DataplaneRequest::RemoveTunnel { tid } => *tid == row.tid,
            _ => false,
        })
        .collect();
    assert!(later.is_empty(), "{later:?}");
    let downs: Vec<_> = net.nodes[1]
        .events
        .iter()
        .filter(|e| e.event == EventKind::PppDown)
        .filter_map(|e| e.ppp.as_ref().and_then(|p| p.peer_ipv4))
        .collect();
    assert!(!downs.contains(&row.ppp_ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED)));
}

/// The LNS (node 1) counted one login refused for wrong credentials, and one PPP link down
/// for it.
pub(super) fn assert_one_wrong_login(net: &Net) {
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats.ppp_auth_failures.get("wrong_credentials"),
        Some(&1),
        "{stats:?}"
    );
    assert_eq!(stats.ppp_down.get("auth_failed"), Some(&1), "{stats:?}");
}

/// The first CDN the LAC heard: (result, message).
fn lac_cdn(net: &Net) -> (u16, String) {
    let r = net.nodes[0].first_cdn();
    (r.result, r.message.unwrap_or_default())
}

/// The PPP protocol and control-packet code of a frame as the engine sends it (`FF 03` on).
fn proto_code(frame: &[u8]) -> (u16, u8) {
    match frame {
        [0xff, 0x03, hi, lo, code, ..] => (u16::from_be_bytes([*hi, *lo]), *code),
        _ => (0, 0),
    }
}

/// A frame of `proto` whose information field is `info`.
fn frame(proto: u16, info: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03];
    f.extend_from_slice(&proto.to_be_bytes());
    f.extend_from_slice(info);
    f
}

const LCP: u16 = 0xc021;
const PAP: u16 = 0xc023;
const CHAP: u16 = 0xc223;
const IPCP: u16 = 0x8021;
const IPV6CP: u16 = 0x8057;

/// Frames no PPP implementation may act on (RFC 1661 §5: bad lengths are silently discarded;
/// options with bad lengths make the whole packet invalid), for every protocol the link runs.
fn malformed_frames() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", vec![]),
        ("address and control only", vec![0xff, 0x03]),
        ("one octet of protocol", vec![0xff, 0x03, 0xc0]),
        ("LCP without a header", frame(LCP, &[0x01, 0x05])),
        ("LCP length below 4", frame(LCP, &[0x01, 0x05, 0x00, 0x02])),
        (
            "LCP length past the frame",
            frame(LCP, &[0x09, 0x05, 0x00, 0x40, 1, 2, 3, 4]),
        ),
        (
            "LCP Configure-Request, option length 0",
            frame(LCP, &[0x01, 0x05, 0x00, 0x08, 0x01, 0x00, 0x05, 0xdc]),
        ),
        (
            "LCP Configure-Request, option past the packet",
            frame(LCP, &[0x01, 0x05, 0x00, 0x08, 0x01, 0x0c, 0x05, 0xdc]),
        ),
        (
            "LCP Echo-Request without a Magic-Number",
            frame(LCP, &[0x09, 0x05, 0x00, 0x04]),
        ),
        ("PAP without a header", frame(PAP, &[0x01])),
        (
            "PAP Authenticate-Request, Peer-ID past the packet",
            frame(PAP, &[0x01, 0x01, 0x00, 0x07, 0x20, b'a', b'l']),
        ),
        (
            "CHAP length below 4",
            frame(CHAP, &[0x02, 0x01, 0x00, 0x03]),
        ),
        (
            "CHAP Response, Value-Size past the packet",
            frame(CHAP, &[0x02, 0x01, 0x00, 0x08, 0x31, 1, 2, 3]),
        ),
        (
            "CHAP Response, length past the frame",
            frame(CHAP, &[0x02, 0x01, 0x01, 0x00, 0x10]),
        ),
        ("IPCP without a header", frame(IPCP, &[0x01, 0x09, 0x00])),
        (
            "IPCP Configure-Request, option length 0",
            frame(IPCP, &[0x01, 0x09, 0x00, 0x0a, 0x03, 0x00, 198, 51, 100, 9]),
        ),
        (
            "IPCP Configure-Request, option past the packet",
            frame(IPCP, &[0x01, 0x09, 0x00, 0x0a, 0x03, 0x20, 198, 51, 100, 9]),
        ),
        (
            "IPCP length past the frame",
            frame(IPCP, &[0x01, 0x09, 0x00, 0xff, 0x03, 0x06]),
        ),
        (
            "IPv6CP Configure-Request, option length 1",
            frame(IPV6CP, &[0x01, 0x09, 0x00, 0x06, 0x01, 0x01]),
        ),
        (
            "IPv6CP Configure-Request, option past the packet",
            frame(IPV6CP, &[0x01, 0x09, 0x00, 0x08, 0x01, 0x0a, 0, 0]),
        ),
    ]
}

/// Malformed packets of every protocol on one session: each is counted and logged (within
/// the log budget), none changes the state of either session, and both keep their addresses.
#[test]
fn malformed_packets_are_dropped_counted_and_logged_and_change_nothing() {
    let ((), lines) = recorded(|| {
        let mut net = alice_twice(None).start();
        let [victim, other] = two_up(&mut net);
        let before = net.nodes[1].requests.len();
        let discarded = |net: &Net| {
            net.nodes[1]
                .engine
                .session(
                    net.now,
                    &Selector::Id(victim.tid),
                    &Selector::Id(victim.sid),
                )
                .ok()
                .and_then(|d| d.ppp)
                .map_or(0, |p| p.frames_discarded)
        };
        let start = discarded(&net);
        let frames = malformed_frames();
        for (what, f) in &frames {
            let now = net.now;
            net.nodes[1]
                .engine
                .handle_ppp_frame(now, (victim.tid, victim.sid), f);
            net.settle();
            assert_eq!(net.nodes[1].saw(EventKind::PppDown), 0, "after {what}");
        }
        let n = u32::try_from(frames.len()).unwrap_or(u32::MAX);
        assert_eq!(discarded(&net) - start, n);
        let stats = net.nodes[1].engine.stats();
        assert_eq!(stats.ppp_frames_malformed, u64::from(n), "{stats:?}");
        // Time passes (LCP echoes, restart timers): nothing of it shows.
        net.run_for(Duration::from_secs(90));
        assert_untouched(&net, &victim, before);
        assert_untouched(&net, &other, before);
        assert_eq!(net.nodes[0].saw(EventKind::PppDown), 0);
        assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
        assert!(net.nodes[1].engine.stats().ppp_down.is_empty());
    });
    let logged: Vec<_> = lines
        .iter()
        .filter(|(_, m)| m.contains("malformed PPP"))
        .collect();
    // The log budget (discards::LINES_PER_WINDOW a second) holds the rest back, summed up.
    assert!(!logged.is_empty(), "{lines:#?}");
    assert!(
        logged
            .iter()
            .all(|(l, m)| *l == tracing::Level::WARN && m.contains("session ")),
        "{logged:#?}"
    );
}

/// A Configure-Ack for a request already answered (a duplicate from a path that duplicates
/// or delays frames, or one for no request) is well formed: discarded silently (RFC 1661
/// §5.2), counted as stale, never as malformed, and no warning.
#[test]
fn a_duplicated_answer_is_stale_not_malformed() {
    let ((), lines) = recorded(|| {
        let mut net = alice_twice(None).start();
        let [victim, other] = two_up(&mut net);
        let before = net.nodes[1].requests.len();
        let ack = frame(LCP, &[0x02, 0xee, 0x00, 0x08, 0x01, 0x04, 0x05, 0xdc]);
        for _ in 0..3 {
            let now = net.now;
            net.nodes[1]
                .engine
                .handle_ppp_frame(now, (victim.tid, victim.sid), &ack);
            net.settle();
        }
        let stats = net.nodes[1].engine.stats();
        assert_eq!(stats.ppp_frames_malformed, 0, "{stats:?}");
        assert_eq!(stats.ppp_frames_stale, 3, "{stats:?}");
        net.run_for(Duration::from_secs(60));
        assert_untouched(&net, &victim, before);
        assert_untouched(&net, &other, before);
    });
    let warned: Vec<_> = lines
        .iter()
        .filter(|(l, _)| *l <= tracing::Level::WARN)
        .collect();
    assert!(warned.is_empty(), "{warned:#?}");
    assert!(
        lines.iter().any(|(_, m)| m.contains("stale PPP frame")),
        "{lines:#?}"
    );
}

/// Unknown codes and protocols are not malformed: the peer gets a Code-Reject or a
/// Protocol-Reject (RFC 1661 §5.6, §5.7) and the link goes on.
#[test]
fn unknown_codes_and_protocols_are_rejected_and_the_link_goes_on() {
    let sent: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let mut net = alice_twice(None).start();
    let [victim, other] = two_up(&mut net);
    let log = Arc::clone(&sent);
    net.ppp_wire = Some(PppWire(Box::new(move |from, _, f: &mut Vec<u8>| {
        if from == 1
            && let Ok(mut v) = log.lock()
        {
            v.push(f.clone());
        }
        true
    })));
    let before = net.nodes[1].requests.len();
    for f in [
        frame(LCP, &[0x7f, 0x11, 0x00, 0x05, 0xaa]),
        frame(IPCP, &[0x7f, 0x12, 0x00, 0x04]),
        frame(0x8fff, &[0x01, 0x02, 0x00, 0x04]),
    ] {
        let now = net.now;
        net.nodes[1]
            .engine
            .handle_ppp_frame(now, (victim.tid, victim.sid), &f);
        net.settle();
    }
    let sent = sent.lock().map(|v| v.clone()).unwrap_or_default();
    let answers: Vec<(u16, u8)> = sent.iter().map(|f| proto_code(f)).collect();
    // LCP Code-Reject, IPCP Code-Reject, LCP Protocol-Reject.
    assert_eq!(answers, vec![(LCP, 7), (IPCP, 7), (LCP, 8)], "{sent:x?}");
    net.run_for(Duration::from_secs(60));
    assert_untouched(&net, &victim, before);
    assert_untouched(&net, &other, before);
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
}

/// A Configure-Request in Opened is the peer renegotiating (RFC 1661 §4.3, RCR in Opened:
/// This-Layer-Down, a new Configure-Request); an option of a known type with a wrong length is
/// Configure-Rejected (as pppd does), not taken as a malformed packet. Only that session's
/// link goes through the phases again (LCP, authentication, the NCPs; or IPCP alone), and it
/// comes back with the address it had; the other session never notices.
#[test]
fn a_peer_renegotiating_with_bad_options_restarts_only_its_own_link() {
    let mut net = alice_twice(None).start();
    let [victim, other] = two_up(&mut net);
    let before = net.nodes[1].requests.len();
    let ups = |net: &Net| {
        net.nodes[1].requests[before..]
            .iter()
            .filter_map(|r| match r {
                DataplaneRequest::PppUp { tid, sid, net }
                    if (*tid, *sid) == (victim.tid, victim.sid) =>
                {
                    Some(net.ipv4.map(|v| v.1))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for (proto, info) in [
        // LCP: an MRU of 3 octets.
        (LCP, &[0x01u8, 0x42, 0x00, 0x07, 0x01, 0x03, 0x05][..]),
        // IPCP: an IP-Address of 3 octets.
        (
            IPCP,
            &[0x01, 0x43, 0x00, 0x09, 0x03, 0x05, 198, 51, 100][..],
        ),
    ] {
        let seen = ups(&net).len();
        let now = net.now;
        net.nodes[1]
            .engine
            .handle_ppp_frame(now, (victim.tid, victim.sid), &frame(proto, info));
        net.run_until(Duration::from_secs(30), "the victim up again", |n| {
            ups(n).len() > seen
        });
        assert_eq!(ups(&net).last(), Some(&victim.ppp_ipv4), "{proto:#x}");
        net.run_for(Duration::from_secs(10));
    }
    // Nothing went down for good, and nobody came online twice.
    let stats = net.nodes[1].engine.stats();
    assert!(stats.ppp_down.is_empty(), "{stats:?}");
    assert_eq!(stats.ppp_up, 2, "{stats:?}");
    assert_eq!(stats.ppp_frames_malformed, 0, "{stats:?}");
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
    let [v, _] = lns_rows(&net);
    assert_eq!(
        (v.tid, v.sid, v.ppp_ipv4),
        (victim.tid, victim.sid, victim.ppp_ipv4)
    );
    assert_untouched(&net, &other, before);
}

/// A wire that rewrites or drops the frames of the LAC's first session to send a frame `f`
/// satisfies, and leaves every other session alone.
fn first_session_only(
    mut pick: impl FnMut(&[u8]) -> bool + 'static,
    mut act: impl FnMut(&mut Vec<u8>) -> bool + 'static,
) -> PppWire {
    let mut victim: Option<(u32, u32)> = None;
    PppWire(Box::new(move |from, ids, f: &mut Vec<u8>| {
        if from != 0 || !pick(f) {
            return true;
        }
        match victim {
            None => victim = Some(ids),
            Some(v) if v != ids => return true,
            Some(_) => {}
        }
        act(f)
    }))
}

/// A net of two sessions of alice whose LAC side runs `wire`; the server as `server` makes it
/// (no echo).
fn hostile_net(wire: PppWire) -> Net {
    let mut net = alice_twice(None);
    net.ppp_wire = Some(wire);
    net.start()
}

/// The one session that stayed up at the LNS all along (the other's call was placed again:
/// it is a new session).
fn survivor(net: &Net, first_up: &[SessionInfo]) -> SessionInfo {
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    let kept: Vec<&SessionInfo> = first_up
        .iter()
        .filter(|r| rows.iter().any(|n| (n.tid, n.sid) == (r.tid, r.sid)))
        .collect();
    assert_eq!(kept.len(), 1, "{rows:#?}");
    kept[0].clone()
}

/// The LNS's rows of the sessions up when the first PPP came up.
fn first_up(net: &mut Net) -> Vec<SessionInfo> {
    net.run_until(Duration::from_secs(10), "one PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) >= 1
    });
    net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.ppp_ipv4.is_some())
        .collect()
}

/// A peer whose every answer to our LCP Configure-Request is a Configure-Nak: the link gives
/// up after Max-Failure Naks (RFC 1661 §4.6), the session ends with CDN result 2, and it is
/// counted as `negotiation_failed`.
#[test]
fn a_peer_that_naks_every_lcp_request_is_given_up_on() {
    let ((), lines) = recorded(|| {
        let naks = Arc::new(Mutex::new(0u32));
        let count = Arc::clone(&naks);
        let mut net = hostile_net(first_session_only(
            |f| proto_code(f) == (LCP, 2),
            move |f| {
                f[4] = 3; // Configure-Ack -> Configure-Nak, the same options
                if let Ok(mut n) = count.lock() {
                    *n += 1;
                }
                true
            },
        ));
        let up = first_up(&mut net);
        net.run_until(Duration::from_secs(60), "the Nak'ed session ends", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        let keep = survivor(&net, &up);
        assert_eq!(lac_cdn(&net), (2, "PPP negotiation failed".to_owned()));
        let stats = net.nodes[1].engine.stats();
        assert_eq!(
            stats.ppp_down.get("negotiation_failed"),
            Some(&1),
            "{stats:?}"
        );
        // Max-Failure (5) Naks taken, then no more Configure-Requests.
        let n = naks.lock().map(|n| *n).unwrap_or(0);
        assert!((5..=6).contains(&n), "{n} Naks");
        stays_untouched(&mut net, &keep);
    });
    assert_logged_down(&lines, "negotiation");
}

/// A peer that Naks every IPCP Configure-Request (it wants our address to be another) and
/// every IPv6CP one: both give up, no network protocol is left, the session ends with CDN
/// result 2.
#[test]
fn a_peer_that_naks_every_ipcp_and_ipv6cp_request_is_given_up_on() {
    let mut net = hostile_net(first_session_only(
        |f| matches!(proto_code(f), (IPCP, 2) | (IPV6CP, 2)),
        |f| {
            if proto_code(f).0 == IPCP
                && let [.., a, b, c, d] = f.as_mut_slice()
            {
                // Our address, as the peer would rather have it.
                (*a, *b, *c, *d) = (203, 0, 113, 99);
            }
            f[4] = 3;
            true
        },
    ));
    let up = first_up(&mut net);
    net.run_until(Duration::from_secs(60), "the Nak'ed session ends", |n| {
        n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
    let keep = survivor(&net, &up);
    assert_eq!(lac_cdn(&net), (2, "PPP: no network protocol".to_owned()));
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_down.values().sum::<u64>(), 1, "{stats:?}");
    assert_eq!(
        stats.ppp_down.get("no_network_protocol"),
        Some(&1),
        "{stats:?}"
    );
    // Nobody came online on that session.
    assert_eq!(stats.ppp_up, 1, "{stats:?}");
    stays_untouched(&mut net, &keep);
}

/// A peer that never answers the CHAP Challenge: the authentication times out
/// (`auth_timeout`, 30 s), the session ends with CDN result 2, counted as `auth_timeout`.
#[test]
fn a_peer_that_never_authenticates_times_out() {
    let ((), lines) = recorded(|| {
        let mut net = hostile_net(first_session_only(|f| proto_code(f).0 == CHAP, |_| false));
        let up = first_up(&mut net);
        let t0 = net.elapsed();
        net.run_until(Duration::from_secs(60), "the silent session ends", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        let took = net.elapsed() - t0;
        assert!(took >= Duration::from_secs(25), "{took:?}");
        let keep = survivor(&net, &up);
        assert_eq!(lac_cdn(&net), (2, "PPP authentication failed".to_owned()));
        let stats = net.nodes[1].engine.stats();
        assert_eq!(stats.ppp_down.get("auth_timeout"), Some(&1), "{stats:?}");
        assert_eq!(stats.ppp_up, 1, "{stats:?}");
        stays_untouched(&mut net, &keep);
    });
    assert_logged_down(&lines, "authentication");
}

/// A peer with the wrong password (its MS-CHAPv2 response altered on the wire): refused with
/// CDN result 2, counted as `wrong_credentials`, logged with the user and the reason; no
/// password reaches the log.
#[test]
fn a_wrong_password_is_refused_logged_with_the_user_and_never_the_password() {
    let ((), lines) = recorded(|| {
        let mut net = hostile_net(first_session_only(
            |f| proto_code(f) == (CHAP, 2),
            |f| {
                // The NT-Response: 4 header octets, Value-Size, then 16 + 8 octets in.
                if let Some(b) = f.get_mut(4 + 4 + 1 + 16 + 8) {
                    *b ^= 0x5a;
                }
                true
            },
        ));
        let up = first_up(&mut net);
        net.run_until(Duration::from_secs(30), "the refused session ends", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        let keep = survivor(&net, &up);
        assert_eq!(lac_cdn(&net), (2, "PPP authentication failed".to_owned()));
        assert_one_wrong_login(&net);
        stays_untouched(&mut net, &keep);
    });
    let refused: Vec<_> = lines
        .iter()
        .filter(|(_, m)| m.contains("authentication of user \"alice\""))
        .collect();
    assert_eq!(refused.len(), 1, "{lines:#?}");
    assert_eq!(refused[0].0, tracing::Level::WARN);
    assert!(
        refused[0]
            .1
            .ends_with("(mschapv2) failed: wrong password or response"),
        "{refused:?}"
    );
    assert!(
        lines.iter().all(|(_, m)| !m.contains(PASSWORD)),
        "{lines:#?}"
    );
}

/// A peer that stops answering LCP Echo-Requests: the link closes after `echo_failures`
/// missed echoes, the session ends with CDN result 1 (the peer is gone), it is logged and
/// counted as `echo_timeout`, and the other session keeps its address.
#[test]
fn a_peer_that_stops_answering_echoes_is_logged_counted_and_alone() {
    let ((), lines) = recorded(|| {
        let mut net = alice_twice(Some(Duration::from_secs(10))).start();
        let [victim, other] = two_up(&mut net);
        let before = net.nodes[1].requests.len();
        // From now on the LAC drops the victim's echo replies (LCP code 10), and only those.
        let ids = (victim.peer_tid, victim.peer_sid);
        net.ppp_wire = Some(PppWire(Box::new(move |from, s, f: &mut Vec<u8>| {
            !(from == 0 && s == ids && proto_code(f) == (LCP, 10))
        })));
        net.run_until(Duration::from_secs(120), "the victim cut off", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        assert_eq!(lac_cdn(&net).0, 1);
        let stats = net.nodes[1].engine.stats();
        assert_eq!(stats.ppp_down.get("echo_timeout"), Some(&1), "{stats:?}");
        net.run_for(Duration::from_secs(30));
        assert_untouched(&net, &other, before);
    });
    assert_logged_down(&lines, "user \"alice\"");
}

/// The PPP UP of watchers and scripts (`ppp-up`) carries the user's IPv4 address even when
/// IPv6CP opens first (as with pppd, whose IPCP takes a Nak for its address): here the
/// LAC's first IPCP Configure-Request is lost, so IPCP opens a Restart period after IPv6CP.
#[test]
fn the_user_is_online_with_an_address_when_ipcp_opens_after_ipv6cp() {
    let mut lost = false;
    let mut net = hostile_net(PppWire(Box::new(move |from, _, f: &mut Vec<u8>| {
        if from == 0 && !lost && proto_code(f) == (IPCP, 1) {
            lost = true;
            return false;
        }
        true
    })));
    net.run_until(Duration::from_secs(20), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    let mut addrs: Vec<_> = net.nodes[1]
        .events
        .iter()
        .filter(|e| e.event == EventKind::PppUp)
        .map(|e| e.ppp.as_ref().and_then(|p| p.peer_ipv4))
        .collect();
    addrs.sort();
    assert_eq!(
        addrs,
        vec![
            Some("198.51.100.10".parse().unwrap_or(Ipv4Addr::UNSPECIFIED)),
            Some("198.51.100.11".parse().unwrap_or(Ipv4Addr::UNSPECIFIED)),
        ]
    );
    // The late one's IPv6 was carried before: its data plane had IPv6 first.
    let first_up: Vec<_> = net.nodes[1]
        .requests
        .iter()
        .filter_map(|r| match r {
            DataplaneRequest::PppUp { net, .. } => Some(net.ipv4.is_some()),
            _ => None,
        })
        .collect();
    assert!(first_up.contains(&false), "{first_up:?}");
    assert_eq!(net.nodes[1].engine.stats().ppp_up, 2);
}

/// A link whose IPCP never opens (the peer Naks it for ever) but whose IPv6CP does: the user
/// is online, without an IPv4 address, once IPCP gives up.
#[test]
fn the_user_is_online_on_ipv6_alone_once_ipcp_gives_up() {
    let mut net = hostile_net(first_session_only(
        |f| proto_code(f) == (IPCP, 2),
        |f| {
            f[4] = 3;
            true
        },
    ));
    net.run_until(Duration::from_secs(60), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    let ups: Vec<_> = net.nodes[1]
        .events
        .iter()
        .filter(|e| e.event == EventKind::PppUp)
        .map(|e| {
            e.ppp
                .as_ref()
                .map(|p| (p.peer_ipv4, p.peer_ipv6_ifid.is_some()))
        })
        .collect();
    assert!(ups.contains(&Some((None, true))), "{ups:?}");
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
}

/// Two sessions of one LAC ask for the same interface identifier (the daemon's own, shared by
/// its links), and so does the LNS of both: on a shared TUN the peers' link-local addresses
/// must be apart, so each end Naks the second session's peer with a free identifier. Each
/// end's data plane then gets two peers apart, neither of them one of our own identifiers.
#[test]
fn peers_of_two_sessions_get_interface_identifiers_apart() {
    let mut net = alice_twice(None).start();
    net.run_until(Duration::from_secs(20), "both up at both ends", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2 && n.nodes[0].saw(EventKind::PppUp) == 2
    });
    for node in 0..2 {
        // The last IPv6 each session's data plane was given.
        let mut last = std::collections::BTreeMap::new();
        for r in &net.nodes[node].requests {
            if let DataplaneRequest::PppUp { tid, sid, net } = r
                && let Some(ids) = net.ipv6
            {
                last.insert((*tid, *sid), ids);
            }
        }
        let ids: Vec<(u64, u64)> = last.into_values().collect();
        assert_eq!(ids.len(), 2, "node {node}: {ids:x?}");
        assert_ne!(
            ids[0].1, ids[1].1,
            "node {node}: the peers collide: {ids:x?}"
        );
        for (local, peer) in &ids {
            assert_ne!(*peer, 0, "node {node}: {ids:x?}");
            assert!(ids.iter().all(|(l, _)| l != peer), "node {node}: {ids:x?}");
            assert_ne!(local, peer);
        }
    }
    // The Naks were for the collision, not a failure: nobody went down.
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 0);
}
