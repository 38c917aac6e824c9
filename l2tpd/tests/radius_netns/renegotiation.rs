//! `renegotiation`: a native-PPP client that renegotiates LCP each time its link is up again
//! (`bench/noisy-peer.py reneg`, an L2TPv2 LAC and PPP client on plain sockets), against l2tpd
//! on the userspace data plane asking FreeRADIUS about every login: the link is closed at the
//! profile's `max_renegotiations` (the default, 10 a minute) with a Terminate-Request saying
//! why, RADIUS is asked once per round and no more, the rounds and the end are counted and
//! logged, and a bystander (`l2tp-loadgen`, an LCP echo every second) notices nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{ctl, loadgen_command, native_radius_lab, skip};

#[test]
fn a_peer_renegotiating_without_end_is_closed_at_the_bound() {
    if skip() {
        return;
    }
    // chap-user's Access-Accept names the pool `pool-chap`.
    let pools = "ip pool \"pool-chap\" {\n    ranges 198.51.100.11-198.51.100.19\n}\n";
    let (mut lab, _radius, l2tpd, log) = native_radius_lab("reneg", "nas-reneg", (pools, ""), &[]);
    let socket = lab.dir.join("l2tpd.sock");
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    // The bystander: up for 8 s, an echo of its own every second.
    let mut bystander = loadgen_command(
        &lab,
        "192.0.2.3",
        1,
        ("chap", "acct-user", "acct-password"),
        8,
    );
    let bystander = bystander
        .args(["--lcp-echo-interval", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // The noisy peer: 5 s or 20 000 packets at most.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/noisy-peer.py");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns,
            "python3",
            script,
            "192.0.2.3",
            "reneg",
            "5",
        ])
        .args(["20000", "chap-user", "chap-password"])
        .output()
        .unwrap();
    let noisy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "noisy-peer.py: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let by = bystander.wait_with_output().unwrap();
    let by: serde_json::Value = serde_json::from_slice(&by.stdout).unwrap();
    let ctx = || format!("{noisy}\n{by}\n{}", context());
    // The 11th round within the minute ended the link, and its session.
    assert_eq!(noisy["first_up"], true, "{}", ctx());
    assert_eq!(noisy["terminate"], "Too many renegotiations", "{}", ctx());
    assert_eq!(noisy["rounds_started"], 11, "{}", ctx());
    assert_eq!(noisy["cdns"], 1, "{}", ctx());
    // RADIUS: the login and ten rounds for the noisy peer, one login for the bystander.
    let radius: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(radius["access_requests"], 12, "{radius}\n{}", ctx());
    let system: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "system"])).unwrap();
    let stats = &system["statistics"];
    assert_eq!(stats["ppp_renegotiations"], 11, "{stats}");
    assert_eq!(stats["ppp_down"]["renegotiations"], 1, "{stats}");
    let log = context();
    assert!(
        log.contains("PPP down (user \"chap-user\"): the peer renegotiated too often"),
        "{log}"
    );
    // The bystander was up throughout: no echo of its own went unanswered three times.
    assert_eq!(by["ppp"]["sessions_up"], 1, "{}", ctx());
    assert_eq!(by["ppp"]["sessions_lost"], 0, "{}", ctx());
    assert_eq!(by["failed"], 0, "{}", ctx());
    lab.stop(l2tpd);
}
