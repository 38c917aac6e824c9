//! A native-PPP session deleted with `l2tpctl delete session` says goodbye in PPP first, end to
//! end: two l2tpd on the userspace data plane in network namespaces (see `netns_ppp.rs`), the
//! client deletes its L2TPv2 session, and tshark finds on the wire its LCP Terminate-Request,
//! the LNS's Terminate-Ack, then the client's CDN, in that order; the LNS logs that its peer
//! terminated the link.
//!
//! Needs root; see `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::process::Command;

use netns::ppp::{DP, start};
use netns::{DEADLINE, Side, poll};

/// The frame numbers of the packets of `pcap` that match tshark's display `filter`.
fn frames(pcap: &std::path::Path, filter: &str) -> Vec<u64> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn a_deleted_session_sends_lcp_terminate_request_before_its_cdn() {
    let (mut p, cap) = start("goodbye", (2, DP), "", "");
    let (tid, sid) = p.ids[0].clone();
    p.lab.ctl(&p.a, &["delete", "session", &tid, &sid]).unwrap();
    poll(
        DEADLINE,
        "B's session gone",
        || p.lab.list(&p.b, "sessions").is_empty().then_some(()),
        || p.context(),
    );
    poll(
        DEADLINE,
        "B logging that its peer ended the link",
        || {
            p.log(Side::B)
                .contains("PPP down (user \"alice\"): the peer terminated the link")
                .then_some(())
        },
        || p.context(),
    );
    let packets = p.lab.judge(&cap, &[]);
    let summary = netns::summary(&packets);
    // The capture is on A's end: A sends from 192.0.2.1.
    let request = frames(&cap.path, "lcp && ppp.code == 5 && ip.src == 192.0.2.1");
    let ack = frames(&cap.path, "lcp && ppp.code == 6 && ip.src == 192.0.2.2");
    let cdn = frames(
        &cap.path,
        "l2tp.avp.message_type == 14 && ip.src == 192.0.2.1",
    );
    assert!(
        !request.is_empty() && !ack.is_empty() && !cdn.is_empty(),
        "Terminate-Request {request:?}, -Ack {ack:?}, CDN {cdn:?}\n{summary}"
    );
    assert!(
        request[0] < ack[0] && ack[0] < cdn[0],
        "Terminate-Request {request:?}, -Ack {ack:?}, CDN {cdn:?}\n{summary}"
    );
}
