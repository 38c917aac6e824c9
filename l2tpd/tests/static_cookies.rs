//! A static L2TPv3 Ethernet pseudowire whose two ends chose cookies of different lengths (RFC
//! 3931 §4.1 lets each end choose its own): side A expects a 4-octet cookie and sends an
//! 8-octet one, side B the other way round. Two l2tpd on the userspace data plane, in network
//! namespaces; a ping crosses the pseudowire, and tshark, told each direction's cookie length,
//! finds the cookie and the frame (the ping, ARP) inside every data packet of that direction.
//! Then both ends reload with a new cookie, and the pings cross the session made again.
//! Needs root; see `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use l2tp_testkit::tshark;
use netns::{L2TP_FILTER, Lab, Side, num};

const COOKIE_A: &str = "0a0b0c0d";
const COOKIE_B: &str = "1a1b1c1d1e1f1011";

/// One end: tunnel `tid` (the peer's `peer_tid`), session `sid` (the peer's `peer_sid`),
/// expecting `cookie` and sending `peer_cookie`, its TAP at `overlay`.
fn end(peer: &str, ids: [u32; 4], cookies: (&str, &str), overlay: &str) -> String {
    let [tid, peer_tid, sid, peer_sid] = ids;
    format!(
        "tunnel \"st\" {{\n    version 3\n    peer {peer}\n    tunnel_id {tid}\n    \
         peer_tunnel_id {peer_tid}\n}}\n\n\
         session \"ss\" {{\n    tunnel \"st\"\n    session_id {sid}\n    \
         peer_session_id {peer_sid}\n    pseudowire_type eth\n    cookie hex:{}\n    \
         peer_cookie hex:{}\n    pseudowire_profile_name \"pw\"\n}}\n\n\
         pseudowire profile \"pw\" {{\n    local_ip {overlay}\n    netmask 255.255.255.0\n}}\n",
        cookies.0, cookies.1
    )
}

/// Three pings from A to B's overlay address, which must be answered.
fn ping_across(lab: &Lab, a: &netns::L2tpd, b: &netns::L2tpd) {
    let out = lab.ping(Side::A, "198.51.100.2", 3);
    assert!(
        out.status.success(),
        "no ping reply across the pseudowire:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        lab.pair_context(a, b)
    );
}

#[test]
fn static_session_with_a_cookie_length_for_each_direction() {
    let mut lab = Lab::new("static-cookies", &[]);
    let cap = lab.capture(Side::A, L2TP_FILTER);
    let dp = "    dataplane userspace\n";
    // A: session 1000, expects COOKIE_A (4 octets), sends COOKIE_B (8); B the reverse.
    let b_conf = end(
        "192.0.2.1",
        [200, 100, 2000, 1000],
        (COOKIE_B, COOKIE_A),
        "198.51.100.2",
    );
    let a_conf = end(
        "192.0.2.2",
        [100, 200, 1000, 2000],
        (COOKIE_A, COOKIE_B),
        "198.51.100.1",
    );
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, &b_conf);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, &a_conf);
    let (_, sa) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let (_, sb) = lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    assert_eq!((num(&sa, "sid"), num(&sb, "sid")), (1000, 2000));
    ping_across(&lab, &a, &b);
    lab.end_capture(&cap);

    // Each direction decoded with its own cookie length: to B (session 2000) 8 octets, to A
    // (session 1000) 4. Every data packet of that direction carries the cookie and a ping.
    for (sid, size, cookie) in [(2000, 8, COOKIE_B), (1000, 4, COOKIE_A)] {
        let pref = format!("l2tp.cookie_size:{size} Byte Cookie");
        let packets = tshark::decode_with(
            &cap.path,
            &[
                "-o",
                &pref,
                "-o",
                "l2tp.l2_specific:Default L2-Specific",
                "-d",
                "l2tp.pw_type==0,eth",
            ],
        )
        .unwrap();
        let ours: Vec<_> = packets
            .iter()
            .filter(|p| {
                p.first_l2tp()
                    .is_some_and(|l| l.control != Some(true) && l.session_id == Some(sid))
            })
            .collect();
        assert!(
            ours.len() >= 3,
            "session {sid}: {} data packets\n{}",
            ours.len(),
            netns::summary(&packets)
        );
        for p in &ours {
            let l = p.first_l2tp().unwrap();
            assert_eq!(
                l.field("l2tp.cookie").map(|c| c.replace(':', "")),
                Some(cookie.to_string()),
                "frame {}: {}",
                p.number,
                p.protocols
            );
            assert!(
                p.is_clean() && (p.protocols.contains(":icmp") || p.protocols.contains(":arp")),
                "frame {} to session {sid} with a {size}-octet cookie: {} {:?}",
                p.number,
                p.protocols,
                p.expert
            );
        }
        let pings = ours
            .iter()
            .filter(|p| p.protocols.contains(":icmp"))
            .count();
        assert!(pings >= 3, "session {sid}: {pings} ICMP packets");
    }

    // A reload with a new cookie on both ends makes the static session again with it (it
    // used to take the session down for good), and the pseudowire carries pings again.
    const NEW_COOKIE_A: &str = "2a2b2c2d";
    for d in [&a, &b] {
        let text = std::fs::read_to_string(&d.conf).unwrap();
        std::fs::write(&d.conf, text.replace(COOKIE_A, NEW_COOKIE_A)).unwrap();
        lab.ctl(d, &["reload"]).unwrap();
    }
    let (_, sa) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    assert_eq!(num(&sa, "sid"), 1000);
    ping_across(&lab, &a, &b);
}
