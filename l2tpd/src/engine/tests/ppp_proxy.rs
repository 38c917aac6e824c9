//! Proxy LCP and authentication AVPs (RFC 2661 §4.4.5) in an ICCN that the LNS cannot take
//! as they are: the virtual wire adds them to the LAC engine's ICCN. Options the profile
//! would not agree to, and lists that do not parse, leave the LNS to negotiate LCP as without
//! a proxy (the session comes up all the same, counted); a wrong proxied CHAP answer ends the
//! session as a failed login (CDN result 2, counted); with `proxy_auth` off the LCP is taken
//! and the caller challenged again; a profile with `proxy_lcp` off ignores the AVPs.

use std::time::Duration;

use l2tp_ctl::EventKind;
use ppp_proto::Password;
use ppp_proto::auth::maths::chap_md5_response;

use super::super::ppp::PppPolicy;
use super::harness::{L2tpWire, Net};
use super::ppp::{POOL, client, server, unstarted};

/// RFC 2661 §6.8: the Message Type of an ICCN.
const ICCN: u16 = 12;

/// An L2TPv2 control message as the engines send it (length and sequence fields, no offset,
/// the Message Type AVP first) with `avps` (type, value; M and H clear) appended, its
/// Length fixed; anything else unchanged.
fn with_avps(mut d: Vec<u8>, avps: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let is_iccn = d.first().is_some_and(|b| b & 0x80 != 0)
        && d.get(16..20) == Some(&[0, 0, 0, ICCN as u8][..]);
    if !is_iccn {
        return d;
    }
    for (kind, value) in avps {
        let len = (6 + value.len()) as u16;
        d.extend_from_slice(&len.to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(&kind.to_be_bytes());
        d.extend_from_slice(value);
    }
    let len = d.len() as u16;
    d[2..4].copy_from_slice(&len.to_be_bytes());
    d
}

/// The LAC's ICCN gains `avps` on its way to the LNS.
fn proxy_net(server: PppPolicy, avps: Vec<(u16, Vec<u8>)>) -> Net {
    let mut net = unstarted(
        &[client("alice", "wonderland")],
        server,
        ("198.51.100.10", "198.51.100.19"),
    );
    net.l2tp_wire = Some(L2tpWire(Box::new(move |from, _, d| {
        if from == 0 {
            vec![with_avps(d, &avps)]
        } else {
            vec![d]
        }
    })));
    net.start()
}

const LAC_CHAP: [u8; 11] = [3, 5, 0xc2, 0x23, 5, 5, 6, 0x11, 0x22, 0x33, 0x44];
const CALLER: [u8; 6] = [5, 6, 0xaa, 0xbb, 0xcc, 0xdd];

fn lcp(sent: &[u8], received: &[u8]) -> Vec<(u16, Vec<u8>)> {
    vec![(27, sent.to_vec()), (28, received.to_vec())]
}

fn proxy_counts(net: &Net) -> Vec<(String, u64)> {
    let stats = net.nodes[1].engine.stats();
    stats.ppp_proxy.into_iter().collect()
}

#[test]
fn unacceptable_or_malformed_proxy_lcp_is_negotiated_again() {
    let callback = [&CALLER[..], &[13, 3, 6]].concat();
    for (avps, outcome) in [
        // The caller asked for Callback, which the LNS rejects.
        (lcp(&LAC_CHAP, &callback), "lcp_refused"),
        // The LAC asked for PAP, which this profile does not use.
        (
            lcp(&[3, 4, 0xc0, 0x23, 5, 6, 1, 2, 3, 4], &CALLER),
            "lcp_refused",
        ),
        // Truncated options; a Length past the end.
        (lcp(&LAC_CHAP, &[5, 6, 0xaa]), "lcp_malformed"),
        (lcp(&[1, 200, 5, 220], &CALLER), "lcp_malformed"),
        // One of the two only.
        (vec![(27, LAC_CHAP.to_vec())], "lcp_malformed"),
    ] {
        let mut net = proxy_net(server(Some(POOL), None), avps);
        net.run_until(Duration::from_secs(20), "PPP up", |n| {
            n.nodes[1].saw(EventKind::PppUp) == 1
        });
        assert_eq!(proxy_counts(&net), [(outcome.to_owned(), 1)], "{outcome}");
        let d = net.first_session(1);
        assert_eq!(d.ppp.and_then(|p| p.proxied), None);
    }
}

#[test]
fn a_wrong_proxied_chap_answer_is_a_failed_login() {
    let challenge = [7u8; 16];
    let response = chap_md5_response(9, &Password::new("not-wonderland"), &challenge);
    let mut avps = lcp(&LAC_CHAP, &CALLER);
    avps.extend([
        (29, vec![0, 2]),
        (30, b"alice".to_vec()),
        (31, challenge.to_vec()),
        (32, vec![0, 9]),
        (33, response.to_vec()),
    ]);
    let mut net = proxy_net(server(Some(POOL), None), avps.clone());
    net.run_until(Duration::from_secs(20), "the session refused", |n| {
        n.nodes[0].saw(EventKind::SessionDown) == 1
    });
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0);
    assert_eq!(net.nodes[0].first_cdn().result, 2);
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats.ppp_auth_failures.values().sum::<u64>(),
        1,
        "{stats:?}"
    );
    assert_eq!(
        proxy_counts(&net),
        [("auth_taken".to_owned(), 1), ("lcp_taken".to_owned(), 1)]
    );

    // With proxy_auth off, the LCP is taken and the LNS challenges the caller itself (the
    // LAC's own PPP here, which knows nothing of the proxy: it starts LCP again, and logs in).
    let mut no_auth = server(Some(POOL), None);
    no_auth.proxy.auth = false;
    let mut net = proxy_net(no_auth, avps.clone());
    net.run_until(Duration::from_secs(30), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    assert_eq!(proxy_counts(&net), [("lcp_taken".to_owned(), 1)]);
    assert_eq!(
        net.nodes[1]
            .engine
            .stats()
            .ppp_auth_failures
            .values()
            .sum::<u64>(),
        0
    );

    // With proxy_lcp off, the same AVPs change nothing: the LAC's own PPP logs in.
    let mut off = server(Some(POOL), None);
    off.proxy.lcp = false;
    let mut net = proxy_net(off, avps);
    net.run_until(Duration::from_secs(20), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    assert!(proxy_counts(&net).is_empty());
}
