//! End-to-end tests of the userspace data plane: two `l2tp-static` processes in two network
//! namespaces joined by a veth pair (underlay 192.0.2.1/24 and 192.0.2.2/24), their TAPs
//! addressed 198.51.100.1/24 and 198.51.100.2/24. Needs root, `ip` and `/dev/net/tun`; each test
//! prints why it skipped otherwise. Every wait is bounded, every namespace and process is cleaned
//! up by a guard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Pair, run};

/// Options for 8-octet cookies that match: what a sends, b expects, and back.
const COOKIES_A: [&str; 4] = [
    "--cookie",
    "0102030405060708",
    "--peer-cookie",
    "a1a2a3a4a5a6a7a8",
];
const COOKIES_B: [&str; 4] = [
    "--cookie",
    "a1a2a3a4a5a6a7a8",
    "--peer-cookie",
    "0102030405060708",
];
/// L2TPv3 over UDP with the default L2-specific sublayer and sequencing.
const UDP_SEQ: [&str; 5] = ["--encap", "udp", "--l2spec", "default", "--seq"];

/// Sets up a pseudowire with `common` options, pings across it and checks the counters.
fn ping_across(common: &[&str], a_extra: &[&str], b_extra: &[&str]) {
    let pair = Pair::new();
    let (a, b) = pair.start(common, a_extra, b_extra);
    pair.address(&a.ifname, &b.ifname);
    assert!(pair.ping(3), "no ping reply across the pseudowire");
    let sa = a.session_stats();
    let sb = b.session_stats();
    println!("a: {sa:?}\nb: {sb:?}");
    for s in [&sa, &sb] {
        assert!(s["rx_packets"] >= 3 && s["tx_packets"] >= 3);
        assert_eq!(s["cookie_mismatches"], 0);
        assert_eq!(s["seq_errors"], 0);
        assert_eq!(s["rx_errors"], 0);
    }
}

#[test]
fn ping_over_udp() {
    require_privileges!();
    ping_across(&["--encap", "udp"], &[], &[]);
}

#[test]
fn ping_over_udp_without_offloads_on_one_thread() {
    require_privileges!();
    ping_across(
        &["--encap", "udp", "--no-offloads", "--threads", "1"],
        &[],
        &[],
    );
}

#[test]
fn ping_over_ip() {
    require_privileges!();
    ping_across(&["--encap", "ip"], &[], &[]);
}

#[test]
fn ping_with_8_octet_cookies_and_sequencing_over_udp() {
    require_privileges!();
    ping_across(&UDP_SEQ, &COOKIES_A, &COOKIES_B);
}

#[test]
fn ping_with_4_octet_cookies_and_sequencing_over_ip() {
    require_privileges!();
    ping_across(
        &["--encap", "ip", "--l2spec", "default", "--seq"],
        &["--cookie", "01020304", "--peer-cookie", "a1a2a3a4"],
        &["--cookie", "a1a2a3a4", "--peer-cookie", "01020304"],
    );
}

#[test]
fn ping_over_an_eth_vlan_pseudowire() {
    require_privileges!();
    ping_across(
        &[
            "--encap",
            "udp",
            "--pw-type",
            "eth-vlan",
            "--vlan-id",
            "100",
        ],
        &[],
        &[],
    );
}

#[test]
fn mismatched_cookies_are_dropped_and_counted() {
    require_privileges!();
    let pair = Pair::new();
    let (a, b) = pair.start(
        &["--encap", "udp"],
        &COOKIES_A,
        // b expects another cookie than a sends.
        &[
            "--cookie",
            "a1a2a3a4a5a6a7a8",
            "--peer-cookie",
            "0102030405060799",
        ],
    );
    pair.address(&a.ifname, &b.ifname);
    let out = Command::new("ip")
        .args([
            "netns", "exec", &pair.a.0, "ping", "-c", "3", "-i", "0.2", "-W", "1",
        ])
        .arg("198.51.100.2")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a ping crossed with the wrong cookie"
    );
    let sb = b.session_stats();
    println!("b: {sb:?}");
    assert!(sb["cookie_mismatches"] >= 3, "{sb:?}");
    assert_eq!(sb["rx_errors"], sb["cookie_mismatches"]);
    assert_eq!(sb["rx_packets"], 0);
    assert!(a.session_stats()["tx_packets"] >= 3);
}

#[test]
fn ping_through_a_bridge() {
    require_privileges!();
    let pair = Pair::new();
    let b_ns = pair.b.0.clone();
    // In b the TAP is a port of br0, and the overlay address sits on the bridge.
    run(&["ip", "-n", &b_ns, "link", "add", "br0", "type", "bridge"]);
    run(&["ip", "-n", &b_ns, "link", "set", "br0", "up"]);
    let (a, b) = pair.start(&["--encap", "udp"], &[], &["--bridge", "br0"]);
    pair.address(&a.ifname, "br0");
    let master = Command::new("ip")
        .args(["-n", &b_ns, "-o", "link", "show", &b.ifname])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&master.stdout).contains("master br0"),
        "{}",
        String::from_utf8_lossy(&master.stdout)
    );
    assert!(pair.ping(3), "no ping reply through the bridge");
    assert!(b.session_stats()["rx_packets"] >= 3);
}

#[test]
fn iperf3_tcp_across_the_pseudowire() {
    require_privileges!();
    if !Command::new("iperf3")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        common::skip("no iperf3");
        return;
    }
    let pair = Pair::new();
    // Without offloads: one frame per read, write and datagram (`tests/offload.rs` has them).
    let plain = [&UDP_SEQ[..], &["--no-offloads"]].concat();
    let (a, b) = pair.start(&plain, &COOKIES_A, &COOKIES_B);
    pair.address(&a.ifname, &b.ifname);
    assert!(pair.ping(1));
    let mut server = Command::new("ip")
        .args([
            "netns", "exec", &pair.b.0, "timeout", "30", "iperf3", "-s", "-1",
        ])
        .args(["-B", "198.51.100.2"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    l2tp_testkit::netns::wait_iperf3_server(&pair.b.0);
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &pair.a.0,
            "timeout",
            "30",
            "iperf3",
            "-c",
            "198.51.100.2",
        ])
        .args(["-t", "3", "-f", "m"])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        out.status.success(),
        "iperf3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receiver = text
        .lines()
        .find(|l| l.contains("receiver"))
        .expect("a receiver summary");
    let mbps: f64 = receiver
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1] == "Mbits/sec")
        .and_then(|w| w[0].parse().ok())
        .expect("a throughput");
    println!("iperf3 TCP across the userspace pseudowire: {mbps} Mbit/s");
    assert!(mbps > 1.0, "{mbps} Mbit/s");
    let (sa, sb) = (a.session_stats(), b.session_stats());
    println!("a: {sa:?}\nb: {sb:?}");
    assert_eq!(sb["cookie_mismatches"], 0);
}

#[test]
fn a_deleted_tap_is_reported_and_not_spun_on() {
    require_privileges!();
    let pair = Pair::new();
    let (a, b) = pair.start(&["--encap", "udp"], &[], &[]);
    pair.address(&a.ifname, &b.ifname);
    run(&["ip", "-n", &pair.a.0, "link", "del", &a.ifname]);
    let line = a.wait_line("session down: ", Duration::from_secs(5));
    assert_eq!(
        line,
        Some(format!(
            "session down: its TAP interface {} was deleted",
            a.ifname
        ))
    );
    // The detached TAP is in error at every epoll_wait: the data path closed it rather than
    // spin on it (a spinning thread would use about a second of CPU in this second).
    let before = a.cpu_time();
    std::thread::sleep(Duration::from_secs(1));
    let used = a.cpu_time() - before;
    assert!(
        used < Duration::from_millis(300),
        "l2tp-static used {used:?} of CPU in 1 s after its TAP was deleted"
    );
}
