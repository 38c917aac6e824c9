//! Native PPP on the userspace data plane with no `mru` in either ppp profile: two l2tpd in
//! network namespaces (as `netns_ppp.rs`), side B the LNS, side A the client, over a veth of
//! MTU 1500. Each end asks for the MRU its tunnel carries without fragmenting a 1500-octet
//! underlay, and sends no more:
//!
//! - `show session` gives that MRU asked, as the peer's MRU and as the MTU in use, at both
//!   ends; each TUN route to the peer has it as its MTU;
//! - a ping with DF of an IP packet of that size crosses and is answered; one octet more is
//!   refused at A ("message too long"), not sent;
//! - the capture of the underlay holds no IP fragment and no packet over 1500 octets, and
//!   tshark decodes it cleanly.
//!
//! Over L2TPv2 over UDP (1500 - 20 - 8 - 12 - 4 = 1456) and an L2TPv3 PPP pseudowire over IP
//! with an 8-octet cookie and the Default L2-Specific Sublayer (1500 - 20 - 4 - 8 - 4 - 4 =
//! 1460).
//!
//! Needs root; see `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use netns::ppp::{CLIENT_PPP, DP, LNS_PPP, TUN, V3_SESSION, V3_TSHARK};
use netns::{Side, num};

/// Brings PPP up with no `mru` and checks the MTU `expected` end to end.
fn derived_mtu(tag: &str, version: u8, session: &str, tshark_prefs: &[&str], expected: u16) {
    let no_mru = |c: String| c.replace("    mru 1400\n", "");
    let confs = [
        no_mru(netns::ppp::lns_conf(version, session, "")),
        no_mru(netns::ppp::client_conf(version, session)),
    ];
    assert!(confs.iter().all(|c| !c.contains("mru")), "{confs:?}");
    let (mut p, cap) = netns::ppp::start_with(tag, DP, &confs);

    // What each end asked for, got and sends with; the route to the peer.
    for (side, peer) in [(Side::A, LNS_PPP), (Side::B, CLIENT_PPP)] {
        let d = p.detail(side);
        let ppp = &d["ppp"];
        for field in ["mru", "peer_mru", "mtu"] {
            assert_eq!(
                num(ppp, field),
                u64::from(expected),
                "side {side:?} {field}: {ppp}"
            );
        }
        let routes = p.ip(side, &["-4", "route", "show", "dev", TUN]);
        assert!(
            routes
                .lines()
                .any(|l| l.starts_with(peer) && l.contains(&format!("mtu {expected}"))),
            "side {side:?}: no route to {peer} of MTU {expected}: {routes}\n{}",
            p.context()
        );
    }
    let veth = p.lab.ifname(Side::A).to_owned();
    let link = p.ip(Side::A, &["link", "show", &veth]);
    assert!(link.contains("mtu 1500"), "{link}");

    // At the MTU with DF: replies. One octet over: refused at A, nothing sent.
    let size = usize::from(expected);
    let (got, text) = p.ping_size(LNS_PPP, (28, size), true, "6");
    assert!(
        got > 0,
        "{size} octets with DF: no reply\n{text}\n{}",
        p.context()
    );
    let (got, text) = p.ping_size(LNS_PPP, (28, size + 1), true, "2");
    assert_eq!(got, 0, "{} octets with DF got a reply\n{text}", size + 1);
    assert!(
        text.to_lowercase().contains("message too long"),
        "{} octets with DF: not refused locally\n{text}",
        size + 1
    );

    // tshark: every packet clean; none a fragment nor over the underlay's MTU.
    p.judge_pings(&cap, tshark_prefs, 2);
    let mut args = vec!["-o", "ip.defragment:FALSE"];
    args.extend_from_slice(tshark_prefs);
    let rows = l2tp_testkit::tshark::fields_with(
        &cap.path,
        &args,
        &["ip.len", "ip.flags.mf", "ip.frag_offset"],
    )
    .unwrap_or_else(|e| panic!("tshark: {e}"));
    let first = |f: &String| f.split(',').next().unwrap_or("").to_owned();
    let mut largest = 0;
    for row in &rows {
        let f: Vec<String> = row.iter().map(first).collect();
        let len: usize = f[0].parse().unwrap_or(0);
        largest = largest.max(len);
        assert!(len <= 1500, "a packet over the underlay's MTU: {row:?}");
        assert!(
            matches!(f[1].as_str(), "0" | "False") && f[2] == "0",
            "an IP fragment on the underlay: {row:?}"
        );
    }
    // The pings at the MTU crossed in one packet each: IPv4 20, at least UDP 8 and an L2TPv2
    // header of 6 or a Session ID of 4, PPP 1 at least.
    assert!(
        largest > size + 20 + 4,
        "the largest packet {largest} octets: the pings at {size} are not there"
    );
    println!(
        "{} packets, the largest {largest} octets, none a fragment",
        rows.len()
    );
}

#[test]
fn l2tpv2_asks_for_and_sends_what_the_underlay_carries() {
    derived_mtu("ppp-mtu-v2", 2, "", &[], 1456);
}

#[test]
fn l2tpv3_over_ip_with_a_cookie_and_the_sublayer_does_too() {
    derived_mtu("ppp-mtu-v3", 3, V3_SESSION, &V3_TSHARK, 1460);
}
