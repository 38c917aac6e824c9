//! A pseudowire whose TAP MTU is raised over what the underlay carries: its encapsulated frames
//! are larger than the path MTU, and must leave fragmented (IPv4 with DF clear; IPv6 by this
//! host), never as IP packets over the path's MTU (l2tpd.conf(5) `mtu`, l2tpd(8) USERSPACE
//! DATA PLANE). Pings of 1550 octets both ways over a TAP MTU of 1600 and a veth of 1500, with
//! offloads on and off, over UDP and IP encapsulation, IPv4 and IPv6 underlays; tcpdump
//! captures both ends of the underlay, and tshark reports every IP packet's size and whether
//! it is a fragment.
//!
//! Needs root, `ip`, tcpdump and tshark (`scripts/deps.sh`); skips otherwise (a failure under
//! `L2TP_REQUIRE_ALL=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Pair, in_ns};

fn missing_tools() -> Option<String> {
    common::unavailable_with(&[("tcpdump", "--version"), ("tshark", "-v")])
}

/// The veth of namespace `ns`.
fn veth(ns: &str) -> String {
    let out = in_ns(ns, &["ip", "-o", "link", "show", "type", "veth"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let name = text.split(':').nth(1).unwrap().trim();
    name.split('@').next().unwrap().to_owned()
}

/// tcpdump on the veth of `ns`, writing `pcap`.
fn capture(ns: &str, pcap: &Path) -> Child {
    Command::new("ip")
        .args([
            "netns", "exec", ns, "tcpdump", "-n", "-U", "-Z", "root", "-s", "0", "-i",
        ])
        .arg(veth(ns))
        .arg("-w")
        .arg(pcap)
        .args(["ip", "or", "ip6"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Each captured IP packet: its total length, and whether it is a fragment.
fn ip_packets(pcap: &Path) -> Vec<(usize, bool)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=/t"])
        .args(["-e", "ip.len", "-e", "ip.flags.mf", "-e", "ip.frag_offset"])
        .args(["-e", "ipv6.plen", "-e", "ipv6.fraghdr.nxt"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or("");
            let set = |s: &str| !s.is_empty() && s != "0" && s != "False";
            // A tunnelled packet has two IP headers: the first is the underlay's.
            let first = |s: &str| s.split(',').next().unwrap_or("").to_owned();
            if let Ok(len) = first(field(0)).parse::<usize>() {
                let frag = set(&first(field(1))) || set(&first(field(2)));
                Some((len, frag))
            } else if let Ok(plen) = first(field(3)).parse::<usize>() {
                // A fragment header makes it a fragment.
                let frag = !field(4).is_empty();
                Some((40 + plen, frag))
            } else {
                None
            }
        })
        .collect()
}

/// Pings `dst` from `ns` with IP packets of `size` octets, fragmentation allowed; whether
/// the replies came.
fn ping(ns: &str, dst: &str, size: usize) -> bool {
    let header = if dst.contains(':') { 48 } else { 28 };
    let payload = (size - header).to_string();
    let out = in_ns(
        ns,
        &[
            "ping", "-c", "3", "-i", "0.2", "-W", "3", "-M", "dont", "-s", &payload, dst,
        ],
    );
    out.status.success()
}

/// One case: `encap` ("udp", "udp6", "ip", "ip6"), offloads or not.
fn case(encap: &str, offloads: bool) -> Result<(), String> {
    let pair = Pair::new();
    let ipv6 = encap.ends_with('6');
    let mut extra = vec!["--encap", encap.trim_end_matches('6'), "--mtu", "1600"];
    if !offloads {
        extra.push("--no-offloads");
    }
    let (a, b) = pair.start_over(ipv6, &extra, &[], &[]);
    pair.address(&a.ifname, &b.ifname);
    let pcaps = [pair.dir.join("a.pcap"), pair.dir.join("b.pcap")];
    let mut dumps = [capture(&pair.a.0, &pcaps[0]), capture(&pair.b.0, &pcaps[1])];
    std::thread::sleep(Duration::from_millis(800));
    let what = format!("{encap}, offloads {}", if offloads { "on" } else { "off" });
    // Small pings first, so that both ends know each other's MAC address.
    assert!(pair.ping(2), "{what}: no ping across the pseudowire");
    let a_to_b = ping(&pair.a.0, "198.51.100.2", 1550);
    let b_to_a = ping(&pair.b.0, "198.51.100.1", 1550);
    std::thread::sleep(Duration::from_millis(300));
    for d in &mut dumps {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(d.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = d.wait();
    }
    let mut report = Vec::new();
    let mut ok = a_to_b && b_to_a;
    for (side, pcap) in ["a", "b"].iter().zip(&pcaps) {
        let packets = ip_packets(pcap);
        let largest = packets.iter().map(|p| p.0).max().unwrap_or(0);
        let fragments = packets.iter().filter(|p| p.1).count();
        report.push(format!(
            "{side}: {} IP packets, largest {largest}, {fragments} fragments",
            packets.len()
        ));
        ok &= largest <= 1500 && fragments > 0;
    }
    println!(
        "{what}: 1550-octet pings a to b {a_to_b}, b to a {b_to_a}; {}",
        report.join("; ")
    );
    for s in [a.session_stats(), b.session_stats()] {
        ok &= s["tx_errors"] == 0;
    }
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: {}", report.join("; ")))
    }
}

#[test]
fn frames_over_the_path_mtu_leave_in_fragments() {
    if let Some(why) = missing_tools() {
        common::skip(&why);
        return;
    }
    let mut failed = Vec::new();
    for encap in ["udp", "udp6", "ip", "ip6"] {
        for offloads in [true, false] {
            if let Err(e) = case(encap, offloads) {
                failed.push(e);
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The datagrams the veth of `ns` sent: a GSO run counts once.
fn veth_tx_packets(ns: &str) -> u64 {
    let path = format!("/sys/class/net/{}/statistics/tx_packets", veth(ns));
    String::from_utf8_lossy(&in_ns(ns, &["cat", &path]).stdout)
        .trim()
        .parse()
        .unwrap()
}

/// Bulk TCP from a to b over the same pseudowire (TAP MTU 1600), one run whose segments
/// leave the TAP over the path MTU and one whose segments fit (an MSS of 1300): the first goes
/// out in fragments, the second still in GSO runs (the veth counts a run as one packet).
#[test]
fn bulk_tcp_is_fragmented_over_the_path_mtu_and_uses_gso_within_it() {
    if let Some(why) = missing_tools() {
        common::skip(&why);
        return;
    }
    let pair = Pair::new();
    let (a, b) = pair.start(&["--mtu", "1600"], &[], &[]);
    pair.address(&a.ifname, &b.ifname);
    assert!(pair.ping(2), "no ping across the pseudowire");
    let mut figures = Vec::new();
    for mss in [None, Some("1300")] {
        let before = (veth_tx_packets(&pair.a.0), a.session_stats()["tx_packets"]);
        let mut server =
            l2tp_testkit::netns::spawn_iperf3_server(&pair.b.0, &["-B", "198.51.100.2"]);
        let mut args = vec!["timeout", "40", "iperf3", "-c", "198.51.100.2", "-n", "3M"];
        if let Some(mss) = mss {
            args.extend(["-M", mss]);
        }
        let out = in_ns(&pair.a.0, &args);
        let _ = server.kill();
        let _ = server.wait();
        assert!(out.status.success(), "iperf3 {mss:?}");
        let veth = veth_tx_packets(&pair.a.0) - before.0;
        let datagrams = a.session_stats()["tx_packets"] - before.1;
        figures.push(format!(
            "MSS {mss:?}: {datagrams} datagrams, {veth} veth packets"
        ));
        if mss.is_none() {
            // Every datagram is over the path MTU: in two fragments each, one by one.
            assert!(veth > datagrams * 3 / 2, "{figures:?}");
        } else {
            assert!(veth * 2 < datagrams, "{figures:?}");
        }
    }
    println!("{}", figures.join("; "));
    for s in [a.session_stats(), b.session_stats()] {
        assert_eq!(s["tx_errors"], 0, "{s:?}");
    }
}
