//! The offloads of the userspace data path, end to end between two `l2tp-static` in network
//! namespaces (see `common`): TAP super-frames segmented before numbering, UDP GSO and GRO,
//! coalesced writes, multi-queue TAPs. iperf3 TCP and UDP both ways over IPv4 and IPv6 inside
//! the pseudowire; a TCP transfer checked byte for byte; UDP super-frames from a sender that
//! uses `UDP_SEGMENT` inside; pings one octet under, at and over the pseudowire's MTU, with
//! and without DF; and a capture of the underlay that tshark judges: only well-formed L2TP
//! packets, none over the underlay's MTU of 1500, no IP fragments.
//!
//! Needs root, `ip`, iperf3, python3, tcpdump and tshark (`scripts/deps.sh`); each test says
//! why it skipped otherwise (a failure under `L2TP_REQUIRE_ALL=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use common::{Pair, in_ns, run};

const V4_B: &str = "198.51.100.2";
const V6_B: &str = "2001:db8:1::2";

/// Options for cookies that match both ways and sequencing (one TAP queue per session).
const SEQ_A: [&str; 9] = [
    "--l2spec",
    "default",
    "--seq",
    "--cookie",
    "0102030405060708",
    "--peer-cookie",
    "a1a2a3a4a5a6a7a8",
    "--threads",
    "2",
];
const SEQ_B: [&str; 9] = [
    "--l2spec",
    "default",
    "--seq",
    "--cookie",
    "a1a2a3a4a5a6a7a8",
    "--peer-cookie",
    "0102030405060708",
    "--threads",
    "2",
];

/// Why a tool the tests need is missing.
fn missing_tools() -> Option<String> {
    common::unavailable_with(&[
        ("iperf3", "-v"),
        ("python3", "-V"),
        ("tcpdump", "--version"),
        ("tshark", "-v"),
    ])
}

macro_rules! require_tools {
    () => {
        if let Some(why) = missing_tools() {
            common::skip(&why);
            return;
        }
    };
}

fn spawn_in(ns: &str, args: &[&str]) -> Child {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A pseudowire over UDP up with IPv4 and IPv6 addresses on both ends, and pinging.
fn pseudowire(pair: &Pair, a_extra: &[&str], b_extra: &[&str]) -> (common::Static, common::Static) {
    pseudowire_over(pair, "udp", a_extra, b_extra)
}

fn pseudowire_over(
    pair: &Pair,
    encap: &str,
    a_extra: &[&str],
    b_extra: &[&str],
) -> (common::Static, common::Static) {
    let ipv6 = encap.ends_with('6');
    let encap = encap.trim_end_matches('6');
    let (a, b) = pair.start_over(ipv6, &["--encap", encap], a_extra, b_extra);
    pair.address(&a.ifname, &b.ifname);
    for (ns, dev, addr) in [
        (&pair.a.0, &a.ifname, "2001:db8:1::1/64"),
        (&pair.b.0, &b.ifname, "2001:db8:1::2/64"),
    ] {
        run(&["ip", "-n", ns, "addr", "add", addr, "dev", dev, "nodad"]);
    }
    assert!(pair.ping(2), "no ping across the pseudowire");
    (a, b)
}

/// Runs iperf3 from a to `dst` in b (`-R`: b sends) and returns its JSON report.
fn iperf3(pair: &Pair, dst: &str, extra: &[&str]) -> serde_json::Value {
    let mut server = l2tp_testkit::netns::spawn_iperf3_server(&pair.b.0, &["-B", dst]);
    let mut args = vec!["timeout", "40", "iperf3", "-c", dst, "-J"];
    args.extend_from_slice(extra);
    let out = in_ns(&pair.a.0, &args);
    let _ = server.kill();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "iperf3 {extra:?} to {dst}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Mbit/s that a TCP iperf3 run (`extra`: its time, direction, streams) carries to `dst`,
/// `what` naming it in the output. On a loaded machine a two-second run can stall behind a
/// retransmission timeout: below [`TCP_FLOOR_MBPS`] it is run once more, and the better of
/// the two counts.
fn tcp_mbps(pair: &Pair, dst: &str, extra: &[&str], what: &str) -> f64 {
    let run = || {
        let r = iperf3(pair, dst, extra);
        let retransmits = r["end"]["sum_sent"]["retransmits"].as_u64().unwrap_or(0);
        let mbps = r["end"]["sum_received"]["bits_per_second"]
            .as_f64()
            .unwrap()
            / 1e6;
        println!("{what}: {mbps:.0} Mbit/s, {retransmits} retransmissions");
        mbps
    };
    let first = run();
    if first > TCP_FLOOR_MBPS {
        return first;
    }
    first.max(run())
}

/// What a TCP run must carry at least to count as working.
const TCP_FLOOR_MBPS: f64 = 20.0;

/// TCP and UDP, both ways, over IPv4 and IPv6: every run carries data, UDP loses little.
fn both_ways(pair: &Pair) {
    for dst in [V4_B, V6_B] {
        for reverse in [false, true] {
            let r: &[&str] = if reverse { &["-R"] } else { &[] };
            let what = format!("TCP to {dst} reverse={reverse}");
            let mbps = tcp_mbps(pair, dst, &[&["-t", "2"], r].concat(), &what);
            assert!(mbps > TCP_FLOOR_MBPS, "{what}: {mbps} Mbit/s");
            let udp = || {
                let udp = iperf3(
                    pair,
                    dst,
                    &[&["-t", "2", "-u", "-b", "20M", "-l", "1200"], r].concat(),
                );
                let sum = udp["end"]["sum"].clone();
                let field = |k: &str| {
                    sum[k].as_u64().unwrap_or_else(|| {
                        panic!("UDP to {dst} reverse={reverse}: no {k} in {udp}")
                    })
                };
                let (lost, packets) = (field("lost_packets"), field("packets"));
                println!("UDP to {dst} reverse={reverse}: {lost} of {packets} lost");
                // Most of what is sent arrives; on a 2-core machine busy with other work the
                // receiving iperf3 itself drops some (up to 18 % was seen at 50 Mbit/s, 30 %
                // once at 20 Mbit/s with two test suites at once): a run that loses more is
                // run once more, and the better of the two counts.
                (packets > 1000 && lost * 5 < packets, sum)
            };
            let (ok, sum) = udp();
            let (ok, sum) = if ok { (ok, sum) } else { udp() };
            assert!(ok, "UDP to {dst} reverse={reverse}: {sum}");
        }
    }
}

#[test]
fn tcp_and_udp_both_ways_with_cookies_and_sequencing() {
    require_tools!();
    let pair = Pair::new();
    let (a, b) = pseudowire(&pair, &SEQ_A, &SEQ_B);
    both_ways(&pair);
    for s in [a.session_stats(), b.session_stats()] {
        println!("{s:?}");
        assert_eq!(s["cookie_mismatches"], 0, "{s:?}");
        // One queue, numbered after segmentation: nothing arrives out of order.
        assert_eq!(s["seq_errors"], 0, "{s:?}");
        assert_eq!(s["rx_errors"], 0, "{s:?}");
        assert!(
            s["rx_packets"] > 10_000 && s["tx_packets"] > 10_000,
            "{s:?}"
        );
    }
}

#[test]
fn tcp_and_udp_both_ways_over_multi_queue_taps() {
    require_tools!();
    let pair = Pair::new();
    let (a, b) = pseudowire(&pair, &["--threads", "2"], &["--threads", "2"]);
    let queues = |ns: &str, dev: &str| {
        let out = in_ns(ns, &["ls", &format!("/sys/class/net/{dev}/queues")]);
        String::from_utf8_lossy(&out.stdout).matches("tx-").count()
    };
    assert_eq!(queues(&pair.a.0, &a.ifname), 2, "a TAP queue per thread");
    both_ways(&pair);
    // Eight streams spread over both queues.
    let mbps = tcp_mbps(&pair, V4_B, &["-t", "2", "-P", "8"], "8 TCP streams");
    assert!(mbps > TCP_FLOOR_MBPS);
    for s in [a.session_stats(), b.session_stats()] {
        assert_eq!(s["rx_errors"], 0, "{s:?}");
    }
}

#[test]
fn tcp_and_udp_both_ways_over_an_ipv6_underlay() {
    require_tools!();
    let pair = Pair::new();
    let (a, b) = pseudowire_over(&pair, "udp6", &SEQ_A, &SEQ_B);
    both_ways(&pair);
    for s in [a.session_stats(), b.session_stats()] {
        assert_eq!((s["seq_errors"], s["rx_errors"]), (0, 0), "{s:?}");
    }
}

#[test]
fn tcp_both_ways_over_ip_encapsulation() {
    // Raw IP sockets have no GSO or GRO: super-frames are segmented and sent one datagram
    // each, and received segments are still coalesced for the TAP.
    require_tools!();
    let pair = Pair::new();
    let (a, b) = pseudowire_over(&pair, "ip", &SEQ_A, &SEQ_B);
    for reverse in [false, true] {
        let r: &[&str] = if reverse { &["-R"] } else { &[] };
        for dst in [V4_B, V6_B] {
            let what = format!("TCP over IP to {dst} reverse={reverse}");
            let mbps = tcp_mbps(&pair, dst, &[&["-t", "2"], r].concat(), &what);
            assert!(mbps > TCP_FLOOR_MBPS, "{what}");
        }
    }
    for s in [a.session_stats(), b.session_stats()] {
        assert_eq!((s["seq_errors"], s["rx_errors"]), (0, 0), "{s:?}");
    }
}

/// Sends `mib` MiB of deterministic bytes over TCP from a to `dst` in b; both ends hash what
/// they handled.
const TCP_HASH: &str = r#"
import hashlib, socket, sys
mode, addr, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
h = hashlib.sha256(); n = 0
if mode == "server":
    s = socket.socket(fam, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 5555)); s.listen(1); s.settimeout(30)
    print("ready", flush=True)
    c, _ = s.accept(); c.settimeout(30)
    while True:
        d = c.recv(1 << 20)
        if not d: break
        h.update(d); n += len(d)
else:
    c = socket.create_connection((addr, 5555), timeout=30)
    block = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(256)) * 128
    for i in range(mib * (1 << 20) // len(block)):
        b = bytes([i & 0xff]) + block[1:]
        c.sendall(b); h.update(b); n += len(b)
    c.close()
print(n, h.hexdigest())
"#;

#[test]
fn tcp_carries_every_byte_intact() {
    require_tools!();
    let pair = Pair::new();
    let (_a, _b) = pseudowire(&pair, &SEQ_A, &SEQ_B);
    for dst in [V4_B, V6_B] {
        let (server, from_server) = spawn_ready(
            &pair.b.0,
            &[
                "timeout", "60", "python3", "-c", TCP_HASH, "server", dst, "0",
            ],
        );
        let client = in_ns(
            &pair.a.0,
            &[
                "timeout", "60", "python3", "-c", TCP_HASH, "client", dst, "64",
            ],
        );
        let (got, server) = answer(server, from_server);
        let sent = String::from_utf8_lossy(&client.stdout);
        println!("{dst}: sent {sent} received {got}");
        assert!(
            client.status.success() && server.status.success(),
            "{}",
            String::from_utf8_lossy(&server.stderr)
        );
        assert!(sent.starts_with("67108864 "), "{sent}");
        assert_eq!(sent, got, "what arrived over {dst} is not what was sent");
    }
}

/// Sends UDP super-frames (`UDP_SEGMENT`, as QUIC stacks do) from a to b, so that the TAP
/// hands the data path UDP super-frames to segment; b checks every datagram.
const UDP_GSO: &str = r#"
import socket, sys
mode, addr = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
SEG, PER, ROUNDS = 1000, 10, 200
if mode == "server":
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((addr, 5556)); s.settimeout(3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    print("ready", flush=True)
    ok = bad = 0
    try:
        while True:
            d = s.recv(65535)
            if len(d) == SEG and d == bytes([d[0]]) * SEG: ok += 1
            else: bad += 1
    except socket.timeout: pass
    print(ok, bad)
else:
    s = socket.socket(fam, socket.SOCK_DGRAM); s.connect((addr, 5556))
    s.setsockopt(socket.IPPROTO_UDP, 103, SEG)  # UDP_SEGMENT
    import time
    for r in range(ROUNDS):
        s.send(b"".join(bytes([(r * PER + i) & 0xff]) * SEG for i in range(PER)))
        if r % 20 == 19: time.sleep(0.01)
    print(ROUNDS * PER)
"#;

/// Starts a server script in `ns` and waits until it says it is ready (its socket bound), so
/// that the client's first packet is not refused; its output after that line is its answer.
fn spawn_ready(ns: &str, args: &[&str]) -> (Child, BufReader<ChildStdout>) {
    let mut server = spawn_in(ns, args);
    let mut from_server = BufReader::new(server.stdout.take().unwrap());
    let mut ready = String::new();
    from_server.read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "ready", "the server {args:?} did not start");
    (server, from_server)
}

/// The rest of a server's output once it ends, and how it ended (its status and stderr).
fn answer(server: Child, mut from_server: BufReader<ChildStdout>) -> (String, Output) {
    let mut got = String::new();
    from_server.read_to_string(&mut got).unwrap();
    (got, server.wait_with_output().unwrap())
}

#[test]
fn udp_super_frames_from_the_tap_arrive_as_datagrams() {
    require_tools!();
    let pair = Pair::new();
    let (a, _b) = pseudowire(&pair, &["--threads", "2"], &["--threads", "2"]);
    for dst in [V4_B, V6_B] {
        // A datagram before the server's socket is bound would be refused (ICMP port
        // unreachable), and the client's connected socket would fail.
        let (server, from_server) = spawn_ready(
            &pair.b.0,
            &["timeout", "30", "python3", "-c", UDP_GSO, "server", dst],
        );
        let client = in_ns(
            &pair.a.0,
            &["timeout", "30", "python3", "-c", UDP_GSO, "client", dst],
        );
        assert!(
            client.status.success(),
            "{}",
            String::from_utf8_lossy(&client.stderr)
        );
        let (got, _) = answer(server, from_server);
        let v: Vec<u64> = got
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        println!("{dst}: {got}");
        assert_eq!(v.len(), 2, "{got}");
        assert_eq!(v[1], 0, "datagrams damaged on the way: {got}");
        assert!(v[0] >= 1900, "{} of 2000 datagrams arrived", v[0]);
    }
    assert!(a.session_stats()["tx_packets"] >= 3800);
}

/// Whether a ping of an IP packet of `size` octets to `dst` gets its reply; `df`: forbid
/// fragmentation.
fn ping_size(pair: &Pair, dst: &str, size: usize, df: bool) -> bool {
    let header = if dst.contains(':') { 48 } else { 28 };
    let payload = (size - header).to_string();
    let pmtu = if df { "do" } else { "dont" };
    in_ns(
        &pair.a.0,
        &[
            "ping", "-c", "1", "-W", "3", "-M", pmtu, "-s", &payload, dst,
        ],
    )
    .status
    .success()
}

#[test]
fn pings_around_the_mtu_and_a_clean_capture_of_the_underlay() {
    require_tools!();
    let pair = Pair::new();
    let (a, _b) = pseudowire(&pair, &SEQ_A, &SEQ_B);
    let veth = |ns: &str| {
        let out = in_ns(ns, &["ip", "-o", "link", "show", "type", "veth"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let name = text.split(':').nth(1).unwrap().trim();
        name.split('@').next().unwrap().to_owned()
    };
    // A veth passes UDP super-datagrams through whole; one segment at most makes both ends cut
    // them before they are captured, as a NIC without UDP segmentation offload would, so that
    // the capture shows what a wire carries.
    for ns in [&pair.a.0, &pair.b.0] {
        run(&[
            "ip",
            "-n",
            ns,
            "link",
            "set",
            &veth(ns),
            "gso_max_segs",
            "1",
        ]);
    }
    let veth = veth(&pair.a.0);
    let pcap = pair.dir.join("underlay.pcap");
    let pcap_s = pcap.to_str().unwrap();
    let mut tcpdump = spawn_in(
        &pair.a.0,
        &[
            "tcpdump",
            "-n",
            "-U",
            "-s",
            "0",
            "-i",
            &veth,
            "-w",
            pcap_s,
            "udp",
            "or",
            "ip[6:2] & 0x3fff != 0",
        ],
    );
    std::thread::sleep(Duration::from_millis(800));
    let mtu: usize = String::from_utf8_lossy(
        &in_ns(
            &pair.a.0,
            &["cat", &format!("/sys/class/net/{}/mtu", a.ifname)],
        )
        .stdout,
    )
    .trim()
    .parse()
    .unwrap();
    // 1500 - IPv4 20 - UDP 8 - L2TPv3 over UDP 20 (flags and version, session id, 8-octet
    // cookie, sublayer) - Ethernet 14.
    assert_eq!(mtu, 1438);
    for dst in [V4_B, V6_B] {
        for size in [mtu - 1, mtu, mtu + 1] {
            assert!(
                ping_size(&pair, dst, size, false),
                "{dst}: {size} octets, fragments allowed"
            );
            let fits = size <= mtu;
            assert_eq!(
                ping_size(&pair, dst, size, true),
                fits,
                "{dst}: {size} octets with DF"
            );
        }
        assert!(
            ping_size(&pair, dst, 4000, false),
            "{dst}: 4000 octets in fragments"
        );
    }
    // TCP both ways while the capture runs: super-frames segmented and sent with GSO.
    iperf3(&pair, V4_B, &["-n", "3M"]);
    iperf3(&pair, V6_B, &["-n", "3M", "-R"]);
    std::thread::sleep(Duration::from_millis(300));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tcpdump.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let _ = tcpdump.wait();
    // tshark, told the session's cookie and sublayer (a static pseudowire has no ICRQ to
    // name them), finds nothing malformed.
    let packets = l2tp_testkit::tshark::decode_with(
        &pcap,
        &[
            "-o",
            "l2tp.cookie_size:8 Byte Cookie",
            "-o",
            "l2tp.l2_specific:Default L2-Specific",
            "-d",
            "l2tp.pw_type==0,eth",
        ],
    )
    .unwrap();
    let unclean = l2tp_testkit::tshark::unclean(&packets);
    assert!(unclean.is_empty(), "tshark: {unclean}");
    let l2tp = packets
        .iter()
        .filter(|p| p.protocols.contains("l2tp:eth"))
        .count();
    let tcp = packets
        .iter()
        .filter(|p| p.protocols.contains("l2tp:eth") && p.protocols.contains(":tcp"))
        .count();
    println!(
        "{} packets captured, {l2tp} L2TP Ethernet, {tcp} with TCP",
        packets.len()
    );
    // 3 MiB each way is about 2 300 segments each way, and their acknowledgements.
    assert!(tcp > 2000, "only {tcp} TCP segments in L2TP captured");
    assert!(
        packets.iter().all(|p| p.protocols.contains("l2tp")),
        "a packet that is not L2TP"
    );
    // None is larger than the underlay's MTU, and none was fragmented.
    let out = Command::new("tshark")
        .args([
            "-r",
            pcap_s,
            "-T",
            "fields",
            "-e",
            "ip.len",
            "-e",
            "ip.flags.mf",
            "-e",
            "ip.frag_offset",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut largest = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let len: usize = f[0].parse().unwrap_or(0);
        largest = largest.max(len);
        assert!(
            f.get(1).is_none_or(|mf| *mf != "1" && *mf != "True"),
            "a fragment: {line}"
        );
        assert!(
            f.get(2).is_none_or(|o| o.is_empty() || *o == "0"),
            "a fragment: {line}"
        );
    }
    println!("largest IP packet on the underlay: {largest} octets");
    assert!((1490..=1500).contains(&largest), "largest {largest}");
}

#[test]
fn tcp_over_an_eth_vlan_pseudowire_fits_the_path() {
    // The tag pushed on every segment is counted in the default MTU: 1500 - IPv4 20 - UDP 8 -
    // L2TPv3 over UDP 8 - Ethernet 14 - tag 4.
    require_tools!();
    let pair = Pair::new();
    let vlan = ["--pw-type", "eth-vlan", "--vlan-id", "100"];
    let (a, b) = pseudowire(&pair, &vlan, &vlan);
    let mtu = String::from_utf8_lossy(
        &in_ns(
            &pair.a.0,
            &["cat", &format!("/sys/class/net/{}/mtu", a.ifname)],
        )
        .stdout,
    )
    .trim()
    .to_owned();
    assert_eq!(mtu, "1446");
    for r in [&[][..], &["-R"][..]] {
        let what = format!("TCP over eth-vlan {r:?}");
        let mbps = tcp_mbps(&pair, V4_B, &[&["-t", "2"], r].concat(), &what);
        assert!(mbps > TCP_FLOOR_MBPS, "{what}");
    }
    for s in [a.session_stats(), b.session_stats()] {
        assert_eq!(s["rx_errors"], 0, "{s:?}");
    }
}

#[test]
fn an_mtu_over_the_path_is_fragmented_not_refused() {
    // With a TAP MTU of 1500 the datagrams exceed the underlay's MTU: the kernel refuses them
    // as GSO runs, and the data path sends them one by one, fragmented, as without offloads.
    require_tools!();
    let pair = Pair::new();
    let (a, _b) = pseudowire(&pair, &["--mtu", "1500"], &["--mtu", "1500"]);
    let what = "TCP with a TAP MTU over the path's";
    let mbps = tcp_mbps(&pair, V4_B, &["-t", "2"], what);
    assert!(mbps > TCP_FLOOR_MBPS, "{what}");
    let s = a.session_stats();
    assert!(s["tx_errors"] * 100 < s["tx_packets"], "{s:?}");
}
