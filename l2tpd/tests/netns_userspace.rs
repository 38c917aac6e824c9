//! Two l2tpd with `dataplane userspace` carry an L2TPv3 Ethernet pseudowire between two network
//! namespaces (issue 6): each session gets a TAP in its daemon's namespace, frames cross it over
//! UDP and over IP, a bridge can take the TAP as a port, and packets with a wrong cookie, and
//! frames longer than the TAP's MTU, are dropped and counted. tshark judges the captured data
//! packets. Needs root; see `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "netns_userspace/bridge_watch.rs"]
mod bridge_watch;
mod netns;
#[path = "netns_userspace/oversize.rs"]
mod oversize;
#[path = "netns_userspace/peer_unreachable.rs"]
mod peer_unreachable;
#[path = "netns_userspace/setup_errors.rs"]
mod setup_errors;
#[path = "netns_userspace/static_pw.rs"]
mod static_pw;

use std::time::Duration;

use netns::{DEADLINE, L2TP_FILTER, L2tpd, Lab, Side, num, poll};
use serde_json::Value;

/// The overlay: side A's TAP and side B's TAP (or bridge) addresses.
const OVERLAY_A: &str = "198.51.100.1";
const OVERLAY_B: &str = "198.51.100.2";

struct Pw {
    lab: Lab,
    a: L2tpd,
    b: L2tpd,
    /// Side A's and side B's session objects once up.
    sessions: [Value; 2],
}

/// Starts a client on A and a server on B with `dataplane userspace`, an Ethernet pseudowire
/// with 8-octet cookies, the default L2-Specific Sublayer and sequencing on both sides; B's
/// pseudowire profile gets `b_pw` (its address, or a bridge). Waits until both are up and
/// their interfaces exist.
fn start(tag: &str, encap: &str, b_pw: &str, b_setup: impl FnOnce(&Lab)) -> Pw {
    start_dp(tag, encap, b_pw, "    dataplane userspace\n", b_setup)
}

/// As [`start`], with `dp` as the data-plane lines of both `system` blocks.
fn start_dp(tag: &str, encap: &str, b_pw: &str, dp: &str, b_setup: impl FnOnce(&Lab)) -> Pw {
    let mut lab = Lab::new(tag, &["iperf3", "python3"]);
    b_setup(&lab);
    let session = "    pseudowire_type eth\n    cookie_length 8\n    l2spec_type default\n    \
                   data_sequencing all\n";
    let server_conf = format!(
        "peer profile \"clients\" {{\n    peer_ipaddr 192.0.2.0/24\n    tunnel_profile_name \"srv\"\n    \
         session_profile_name \"srv\"\n    pseudowire_profile_name \"srv\"\n}}\n\n\
         tunnel profile \"srv\" {{\n    version 3\n    encap {encap}\n}}\n\n\
         session profile \"srv\" {{\n{session}}}\n\n\
         pseudowire profile \"srv\" {{\n    interface_name pwb%d\n{b_pw}}}\n"
    );
    let client_conf = format!(
        "tunnel \"t1\" {{\n    version 3\n    encap {encap}\n    peer 192.0.2.2\n    persist false\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n{session}    pseudowire_profile_name \"cli\"\n}}\n\n\
         pseudowire profile \"cli\" {{\n    interface_name pwa%d\n    local_ip {OVERLAY_A}\n    \
         netmask 255.255.255.0\n}}\n"
    );
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, &server_conf);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, &client_conf);
    let (_, sa) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let (_, sb) = lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    let pw = Pw {
        lab,
        a,
        b,
        sessions: [sa, sb],
    };
    // Each daemon made its TAP in its own namespace, with the name the session shows.
    for (side, s, want) in [
        (Side::A, &pw.sessions[0], "pwa0"),
        (Side::B, &pw.sessions[1], "pwb0"),
    ] {
        assert_eq!(s["interface_name"], want, "{}", pw.context());
        let out = pw
            .lab
            .run(side, &["ip", "-d", "link", "show", want], netns::SHORT);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("tun type tap") && text.contains("UP"),
            "side {side:?}: {want} is not an up TAP: {text}{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            pw.context()
        );
    }
    pw
}

impl Pw {
    fn context(&self) -> String {
        self.lab.pair_context(&self.a, &self.b)
    }

    /// Pings B's overlay address from A; whether replies came.
    fn ping(&self, count: u32) -> bool {
        self.ping_to(OVERLAY_B, count)
    }

    /// Pings `target` (IPv4 or IPv6) from A; whether replies came.
    fn ping_to(&self, target: &str, count: u32) -> bool {
        let out = self.lab.ping(Side::A, target, count);
        println!("{}", String::from_utf8_lossy(&out.stdout));
        out.status.success()
    }

    /// `show session` of `d`'s only session.
    fn session_detail(&self, d: &L2tpd, s: &Value) -> Value {
        let tid = num(s, "tid").to_string();
        let sid = num(s, "sid").to_string();
        self.lab
            .ctl(d, &["show", "session", &tid, &sid])
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()))
    }

    /// Runs iperf3 (TCP, 3 s) from A to B across the pseudowire; returns Mbit/s received.
    fn iperf3(&self) -> f64 {
        let (a, b) = (self.lab.ns(Side::A), self.lab.ns(Side::B));
        let report = l2tp_testkit::netns::iperf3(a, b, OVERLAY_B, &["-t", "3"])
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()));
        l2tp_testkit::netns::received_mbps(&report)
    }
}

/// Ping across, tshark's view of the data packets, iperf3, the counters, and clean-up.
fn ping_and_iperf(encap: &str) {
    let tag = format!("userspace-{encap}");
    let b_pw = format!("    local_ip {OVERLAY_B}\n    netmask 255.255.255.0\n");
    let mut pw = start(&tag, encap, &b_pw, |_| {});
    // Offloads are on by default: the TAP has a virtio-net header, and the daemon said so once.
    assert!(
        tap_details(&pw, Side::A).contains("vnet_hdr on"),
        "{}",
        pw.context()
    );
    let log = flushed_log(&pw.lab, &pw.a);
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("userspace data plane: "))
        .collect();
    assert!(
        said.len() == 1 && said[0].contains("offloads on: TAP TCP super-frames on"),
        "{said:?}"
    );
    let cap = pw.lab.capture(Side::A, L2TP_FILTER);
    assert!(
        pw.ping(3),
        "no ping reply across the pseudowire\n{}",
        pw.context()
    );
    // tshark decodes our data packets as L2TPv3 carrying Ethernet frames with the ICMP inside.
    let packets = pw.lab.judge(
        &cap,
        &[
            "-o",
            "l2tp.cookie_size:8 Byte Cookie",
            "-o",
            "l2tp.l2_specific:Default L2-Specific",
            // The capture starts after the ICRQ that names the pseudowire type.
            "-d",
            "l2tp.pw_type==0,eth",
        ],
    );
    let icmp = packets
        .iter()
        .filter(|p| p.protocols.contains("l2tp:eth") && p.protocols.contains("icmp"))
        .count();
    assert!(
        icmp >= 6,
        "tshark saw {icmp} ICMP-in-Ethernet-in-L2TPv3 packets, expected 3 requests and 3 replies:\n{}",
        netns::summary(&packets)
    );

    let mbps = pw.iperf3();
    println!("iperf3 over the {encap} pseudowire: {mbps:.0} Mbit/s");
    assert!(
        mbps > 5.0,
        "iperf3: only {mbps:.1} Mbit/s\n{}",
        pw.context()
    );

    // Both sides count what crossed (show session merges the data plane's counters): the
    // pings and at least a few hundred frames of iperf3 even on a machine too busy to carry
    // more than the 5 Mbit/s asked above.
    let da = pw.session_detail(&pw.a, &pw.sessions[0]);
    let db = pw.session_detail(&pw.b, &pw.sessions[1]);
    for d in [&da, &db] {
        netns::assert_carried_cleanly(d, 300);
    }

    // Stopping the client tears the session down on both sides and deletes both TAPs.
    pw.lab.stop_l2tpd(&pw.a);
    poll(
        DEADLINE,
        "both TAPs deleted",
        || {
            let gone = |side, name| {
                !pw.lab
                    .run(side, &["ip", "link", "show", name], netns::SHORT)
                    .status
                    .success()
            };
            (gone(Side::A, "pwa0") && gone(Side::B, "pwb0")).then_some(())
        },
        || pw.context(),
    );
}

#[test]
fn eth_pseudowire_over_udp_carries_ping_and_iperf3() {
    ping_and_iperf("udp");
}

#[test]
fn eth_pseudowire_over_ip_carries_ping_and_iperf3() {
    ping_and_iperf("ip");
}

/// B's pseudowire profile gives its TAP an IPv6 address (set over rtnetlink; the data path
/// sets IPv4 ones itself), and a ping over IPv6 crosses the pseudowire.
/// `ip -d link show` of side's TAP (`pwa0` or `pwb0`).
fn tap_details(pw: &Pw, side: Side) -> String {
    let name = if side == Side::A { "pwa0" } else { "pwb0" };
    let out = pw
        .lab
        .run(side, &["ip", "-d", "link", "show", name], netns::SHORT);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn offloads_off_and_one_data_path_thread_as_configured() {
    let b_pw = format!("    local_ip {OVERLAY_B}\n    netmask 255.255.255.0\n");
    let dp = "    dataplane userspace\n    dataplane_offloads false\n    dataplane_threads 1\n";
    let pw = start_dp("userspace-plain", "udp", &b_pw, dp, |_| {});
    for side in [Side::A, Side::B] {
        let tap = tap_details(&pw, side);
        assert!(
            tap.contains("vnet_hdr off") && !tap.contains("multi_queue"),
            "{tap}"
        );
    }
    assert!(pw.ping(3), "no ping reply\n{}", pw.context());
    let mbps = pw.iperf3();
    println!("iperf3 without offloads: {mbps:.0} Mbit/s");
    assert!(mbps > 5.0, "{}", pw.context());
    let log = flushed_log(&pw.lab, &pw.b);
    assert!(
        log.contains(
            "userspace data plane: 1 data-path thread, multi-queue TAPs off; offloads off"
        ),
        "{log}"
    );
}

#[test]
fn an_ipv6_address_on_the_pseudowire() {
    let pw = start(
        "userspace-ipv6",
        "udp",
        "    local_ip 2001:db8:100::2\n    netmask ffff:ffff:ffff:ffff::\n",
        |_| {},
    );
    let out = pw.lab.run(
        Side::B,
        &["ip", "-6", "addr", "show", "dev", "pwb0"],
        netns::SHORT,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("inet6 2001:db8:100::2/64"),
        "pwb0: {text}\n{}",
        pw.context()
    );
    // A's own end (its profile sets an IPv4 address only) gets one by hand.
    let ns_a = pw.lab.ns(Side::A);
    netns::ip(&[
        "-n",
        ns_a,
        "addr",
        "add",
        "2001:db8:100::1/64",
        "dev",
        "pwa0",
        "nodad",
    ]);
    assert!(
        pw.ping_to("2001:db8:100::2", 3),
        "no ping over IPv6\n{}",
        pw.context()
    );
}

/// Makes bridge `br-pw` with B's overlay address in B's namespace, up.
fn make_bridge(ns: &str) {
    netns::ip(&["-n", ns, "link", "add", "br-pw", "type", "bridge"]);
    netns::ip(&[
        "-n",
        ns,
        "addr",
        "add",
        &format!("{OVERLAY_B}/24"),
        "dev",
        "br-pw",
    ]);
    netns::ip(&["-n", ns, "link", "set", "br-pw", "up"]);
}

#[test]
fn the_pseudowire_joins_a_bridge() {
    let pw = start("userspace-bridge", "udp", "    bridge br-pw\n", |lab| {
        make_bridge(lab.ns(Side::B));
    });
    let out = pw
        .lab
        .run(Side::B, &["ip", "link", "show", "pwb0"], netns::SHORT);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("master br-pw"),
        "pwb0 is not a port of br-pw: {text}"
    );
    // B's TAP has no address: the replies come from the bridge.
    assert!(
        pw.ping(3),
        "no ping reply through the bridge\n{}",
        pw.context()
    );
}

/// B's log (flushed with SIGUSR1) once `done` holds of it; `what` names the wait.
fn b_log_until(pw: &Pw, what: &str, done: impl Fn(&str) -> bool) -> String {
    poll(
        DEADLINE,
        what,
        || {
            pw.lab.signal(pw.b.proc, nix::sys::signal::Signal::SIGUSR1);
            std::thread::sleep(Duration::from_millis(100));
            let log = std::fs::read_to_string(&pw.b.log).unwrap_or_default();
            done(&log).then_some(log)
        },
        || pw.context(),
    )
}

/// Sends `count` L2TPv3 data packets over UDP for session `sid` with the cookie
/// ee:ee:ee:ee:ee:ee:ee:ee from side A port `sport` (0: any) to B.
fn send_bad_cookies(lab: &Lab, sid: u64, sport: u16, count: u32) {
    const SCRIPT: &str = "import socket, struct, sys\n\
        sid, sport, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        s.bind(('192.0.2.1', sport))\n\
        frame = b'\\xff' * 6 + b'\\x02' * 6 + b'\\x08\\x00' + b'\\x00' * 46\n\
        for n in range(count):\n\
        \x20   pkt = struct.pack('!HHI', 3, 0, sid) + b'\\xee' * 8 + struct.pack('!I', 0x40000000 | n) + frame\n\
        \x20   s.sendto(pkt, ('192.0.2.2', 1701))\n";
    let args = [sid.to_string(), sport.to_string(), count.to_string()];
    run_python_on_a(lab, SCRIPT, &args, "sending bad cookies");
}

/// Runs the Python `script` with `args` in side A's namespace; `what` names it if it fails.
fn run_python_on_a(lab: &Lab, script: &str, args: &[String], what: &str) {
    let mut argv = vec!["python3", "-c", script];
    argv.extend(args.iter().map(String::as_str));
    let out = lab.run(Side::A, &argv, netns::SHORT);
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends `count` L2TPv3 data packets over UDP for session `sid` from side A's port 1701 to B,
/// cut short inside their 8-octet cookie.
fn send_truncated(lab: &Lab, sid: u64, count: u32) {
    const SCRIPT: &str = "import socket, struct, sys\n\
        sid, count = int(sys.argv[1]), int(sys.argv[2])\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        s.bind(('192.0.2.1', 1701))\n\
        for n in range(count):\n\
        \x20   s.sendto(struct.pack('!HHI', 3, 0, sid) + b'\\xee' * 4, ('192.0.2.2', 1701))\n";
    let args = [sid.to_string(), count.to_string()];
    run_python_on_a(lab, SCRIPT, &args, "sending truncated packets");
}

/// The numbers the data plane's periodic summaries in `log` give for drops `phrase`d so.
fn summed_up(log: &str, phrase: &str) -> u64 {
    log.lines()
        .filter_map(|l| l.split_once("userspace data plane dropped in the last "))
        .flat_map(|(_, rest)| rest.split([':', ',', '(']).map(str::trim))
        .filter_map(|part| part.strip_suffix(phrase))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .sum()
}

#[test]
fn packets_with_a_wrong_cookie_are_dropped_and_counted() {
    let b_pw = format!("    local_ip {OVERLAY_B}\n    netmask 255.255.255.0\n");
    let pw = start("userspace-cookie", "udp", &b_pw, |_| {});
    assert!(pw.ping(2), "no ping reply before\n{}", pw.context());
    let sid_b = num(&pw.sessions[1], "sid");
    let before = pw.session_detail(&pw.b, &pw.sessions[1]);
    // From the tunnel's own port (the socket the data plane adopted) and from another port
    // (the listen socket, which hands data packets to the data plane).
    send_bad_cookies(&pw.lab, sid_b, 1701, 5);
    send_bad_cookies(&pw.lab, sid_b, 0, 5);
    let after = poll(
        DEADLINE,
        "10 cookie mismatches counted on side B",
        || {
            let d = pw.session_detail(&pw.b, &pw.sessions[1]);
            (num(&d["stats"], "rx_cookie_mismatches") >= 10).then_some(d)
        },
        || pw.context(),
    );
    assert_eq!(
        num(&after["stats"], "rx_cookie_mismatches"),
        10,
        "before: {before}\nafter: {after}"
    );
    // None was delivered: the received-packet count did not grow by them (a stray frame of A's,
    // such as an IPv6 neighbour discovery message, may cross meanwhile).
    let delivered = num(&after["stats"], "rx_packets") - num(&before["stats"], "rx_packets");
    assert!(
        delivered < 10,
        "packets with a wrong cookie were delivered\nbefore: {before}\nafter: {after}"
    );
    assert!(num(&after["stats"], "rx_errors") >= 10, "{after}");
    // `show system` counts them with the other bad input, and the log names the sender.
    let system = pw.lab.ctl(&pw.b, &["show", "system"]).unwrap();
    assert_eq!(
        system["statistics"]["malformed"]["data_wrong_cookie"].as_u64(),
        Some(10),
        "{system}"
    );
    let log = b_log_until(
        &pw,
        "a log line naming the sender of the wrong cookies",
        |log| {
            log.lines()
                .any(|l| l.contains("peer 192.0.2.1:1701") && l.contains("wrong cookie"))
        },
    );
    let lines = log
        .lines()
        .filter(|l| l.contains("wrong cookie") && !l.contains("userspace data plane dropped"))
        .count();
    assert!(lines <= 2, "more than one report a second:\n{log}");
    // Truncated packets are counted by reason in `show system`; within ten seconds, the
    // periodic summary of the data plane's drops names both reasons with their numbers.
    send_truncated(&pw.lab, sid_b, 3);
    let system = poll(
        DEADLINE,
        "3 truncated packets in show system's data_discards",
        || {
            let s = pw.lab.ctl(&pw.b, &["show", "system"]).unwrap();
            (s["statistics"]["data_discards"]["rx_truncated"].as_u64() == Some(3)).then_some(s)
        },
        || pw.context(),
    );
    assert_eq!(
        system["statistics"]["malformed"]["data_wrong_cookie"].as_u64(),
        Some(10),
        "{system}"
    );
    let log = b_log_until(&pw, "the data plane's drops summed up in the log", |log| {
        summed_up(log, "truncated") >= 3
    });
    assert_eq!(summed_up(&log, "truncated"), 3, "{log}");
    assert_eq!(summed_up(&log, "with a wrong cookie"), 10, "{log}");
    // The session is untouched.
    assert_eq!(after["state"], "up", "{after}");
    assert!(pw.ping(2), "no ping reply after\n{}", pw.context());
}

/// `l2tpd -n` with `dataplane userspace`: a PPP session whose PPP l2tpd terminates itself is
/// fine; one that asks for pppd is refused, and says why.
#[test]
fn l2tpd_n_refuses_a_pppd_session_on_the_userspace_data_plane() {
    let dir = std::env::temp_dir().join(format!("l2tp-userspace-n-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("l2tpd.conf");
    let check = |pw: &str| {
        std::fs::write(
            &conf,
            format!(
                "system {{\n    dataplane userspace\n}}\n\ntunnel \"t\" {{\n    peer 192.0.2.9\n    \
                 version 2\n}}\n\nsession \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n    \
                 pseudowire_profile_name \"pw\"\n}}\n\npseudowire profile \"pw\" {{\n{pw}}}\n"
            ),
        )
        .unwrap();
        std::process::Command::new(netns::l2tpd_bin())
            .args(["-n", "-c"])
            .arg(&conf)
            .output()
            .unwrap()
    };
    let native = check("    ppp_profile_name \"default\"\n");
    let pppd = check("    use_pppd true\n");
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&native.stderr);
    assert_eq!(native.status.code(), Some(0), "{err}");
    let err = String::from_utf8_lossy(&pppd.stderr);
    assert_eq!(pppd.status.code(), Some(1), "{err}");
    assert!(
        err.contains("session \"s\" (tunnel \"t\"): pseudowire_type ppp")
            && err.contains("runs no pppd"),
        "{err}"
    );
}

/// A peer's PPP session that the server's profile would give to pppd is refused on the
/// userspace data plane (there is no kernel PPP for pppd), with a CDN that says the data path
/// could not be set up.
#[test]
fn a_pppd_session_from_a_peer_is_refused_at_run_time() {
    let mut lab = Lab::new("userspace-refuse-ppp", &[]);
    let server_conf = "peer profile \"clients\" {\n    peer_ipaddr 192.0.2.0/24\n    \
                       pseudowire_profile_name \"pppd\"\n}\n\n\
                       pseudowire profile \"pppd\" {\n    use_pppd true\n}\n";
    let client_conf = "tunnel \"t1\" {\n    version 3\n    peer 192.0.2.2\n    persist false\n}\n\n\
                       session \"s1\" {\n    tunnel \"t1\"\n    pseudowire_type ppp\n}\n";
    let b = lab.start_l2tpd(
        Side::B,
        "192.0.2.2:1701",
        "    dataplane userspace\n",
        server_conf,
    );
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", "", client_conf);
    // The server refuses the session with a CDN and says why; the tunnel stays up.
    let log = |d: &L2tpd| flushed_log(&lab, d);
    poll(
        DEADLINE,
        "the server refusing the PPP session and the client seeing its CDN",
        || {
            let (la, lb) = (log(&a), log(&b));
            let tunnel_up = lab.list(&a, "tunnels").iter().any(|t| t["state"] == "up");
            (tunnel_up
                && lb.contains("runs no pppd")
                && la.contains("down (peer, result 4 error 0: data path set-up failed)"))
            .then_some(())
        },
        || lab.pair_context(&a, &b),
    );
    assert!(
        lab.list(&a, "sessions").iter().all(|s| s["state"] != "up"),
        "{}",
        lab.pair_context(&a, &b)
    );
}

/// Sends L2TPv3/UDP data packets with the default sublayer for session `sid` from side A port
/// 1701 to B, one per `(seq, marker)`, each carrying an Ethernet frame of EtherType 0x88b5 whose
/// first payload octet is the marker; `pause_ms` between the first `split` and the rest.
fn send_sequenced(lab: &Lab, sid: u32, packets: &[(u32, u8)], split: usize, pause_ms: u32) {
    const SCRIPT: &str = "import socket, struct, sys, time\n\
        sid, split, pause = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])\n\
        pkts = [tuple(map(int, p.split(':'))) for p in sys.argv[4:]]\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        s.bind(('192.0.2.1', 1701))\n\
        for i, (seq, mark) in enumerate(pkts):\n\
        \x20   if i == split: time.sleep(pause / 1000)\n\
        \x20   frame = b'\\xff' * 6 + b'\\x02' * 6 + b'\\x88\\xb5' + bytes([mark]) + b'\\x00' * 45\n\
        \x20   s.sendto(struct.pack('!HHII', 3, 0, sid, 0x40000000 | seq) + frame, ('192.0.2.2', 1701))\n";
    let mut argv: Vec<String> = vec![
        "python3".into(),
        "-c".into(),
        SCRIPT.into(),
        sid.to_string(),
        split.to_string(),
        pause_ms.to_string(),
    ];
    argv.extend(packets.iter().map(|(s, m)| format!("{s}:{m}")));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = lab.run(Side::A, &argv, netns::SHORT);
    assert!(
        out.status.success(),
        "sending: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_reorder_timeout_puts_packets_back_in_order() {
    let mut lab = Lab::new("userspace-reorder", &["python3"]);
    // Side B only: a static session expecting sequenced packets, held up to 400 ms.
    let conf = "tunnel \"st\" {\n    version 3\n    peer 192.0.2.1\n    tunnel_id 200\n    \
                peer_tunnel_id 100\n}\n\n\
                session \"ss\" {\n    tunnel \"st\"\n    session_id 2000\n    peer_session_id 1000\n    \
                pseudowire_type eth\n    l2spec_type default\n    data_sequencing all\n    \
                reorder_timeout 400\n    interface_name spwb\n}\n";
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", "    dataplane userspace\n", conf);
    lab.wait_one_up(&b, || lab.l2tpd_logs(&b));
    let dump = spawn_tap_dump(&mut lab, "spwb", 5);
    // 1 arrives after 2 and 3; 4 never arrives, so 5 waits out the timeout.
    send_sequenced(
        &lab,
        2000,
        &[(0, 10), (2, 12), (3, 13), (1, 11), (5, 15)],
        4,
        50,
    );
    // tcpdump ends by itself after 5 frames; the last one comes out at the timeout.
    let (marks, status, text) = tap_markers(&mut lab, dump);
    let detail = lab.ctl(&b, &["show", "session", "st", "ss"]);
    assert_eq!(
        marks,
        [10, 11, 12, 13, 15],
        "frames reached the TAP out of order or not at all ({status:?}):\n{text}\n{detail:?}\n{}",
        lab.l2tpd_logs(&b)
    );
    let (_, s) = lab.wait_one_up(&b, || lab.l2tpd_logs(&b));
    let d = lab
        .ctl(&b, &["show", "session", "st", "ss"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(num(&d["stats"], "rx_packets"), 5, "{d}\n{s}");
    assert_eq!(num(&d["stats"], "rx_seq_errors"), 0, "{d}");
    // 2, 3 and 5 came ahead of a gap and went through the reorder queue.
    assert_eq!(num(&d["stats"], "rx_reordered"), 3, "{d}");
    // The tunnel counts the data packets of its sessions (l2tpctl(1), show tunnel).
    let t = lab
        .ctl(&b, &["show", "tunnel", "st"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(num(&t["stats"], "data_rx_packets"), 5, "{t}");
}

#[test]
fn dataplane_auto_takes_userspace_on_a_kernel_without_l2tp() {
    // This host's kernel has no L2TP (the qemu guest cases cover `auto` choosing the kernel).
    let mut lab = Lab::new("userspace-auto", &[]);
    let d = lab.start_l2tpd(Side::A, "192.0.2.1:1701", "    dataplane auto\n", "");
    let system = lab.ctl(&d, &["show", "system"]).unwrap();
    assert_eq!(system["dataplane"], "userspace", "{system}");
    let log = lab.l2tpd_logs(&d);
    assert!(
        log.contains("dataplane auto: no kernel L2TP")
            && log.contains("using the userspace data plane"),
        "{log}"
    );
}

/// `show sessions` and `show tunnels` of `d`: whether it has no session and one tunnel, up.
/// `d`'s log, after asking it to flush (SIGUSR1).
fn flushed_log(lab: &Lab, d: &L2tpd) -> String {
    lab.signal(d.proc, nix::sys::signal::Signal::SIGUSR1);
    std::thread::sleep(Duration::from_millis(100));
    std::fs::read_to_string(&d.log).unwrap_or_default()
}

/// The daemon's one tunnel is up, with one session in state up other than session `old`.
fn a_new_session_up(lab: &Lab, d: &L2tpd, old: u64) -> bool {
    let tunnels = lab.list(d, "tunnels");
    let sessions = lab.list(d, "sessions");
    tunnels.len() == 1
        && tunnels[0]["state"] == "up"
        && sessions.len() == 1
        && sessions[0]["state"] == "up"
        && num(&sessions[0], "sid") != old
}

#[test]
fn a_deleted_tap_takes_its_session_down_with_a_cdn() {
    let b_pw = format!("    local_ip {OVERLAY_B}\n    netmask 255.255.255.0\n");
    let mut pw = start("userspace-tap-deleted", "udp", &b_pw, |_| {});
    let cap = pw.lab.capture(Side::A, L2TP_FILTER);
    let sid_a = num(&pw.sessions[0], "sid");
    let sid_b = num(&pw.sessions[1], "sid");
    // Someone else deletes A's TAP.
    netns::ip(&["-n", pw.lab.ns(Side::A), "link", "del", "pwa0"]);
    // A notices, says which interface went, and disconnects the session (CDN result 1, loss of
    // carrier); B gets the CDN, whose text says the data path is lost but not which of A's
    // interfaces went. The tunnel stays on both sides.
    let log = |d: &L2tpd| flushed_log(&pw.lab, d);
    poll(
        DEADLINE,
        "side A: the session down with CDN result 1, its deleted TAP named",
        || {
            let la = log(&pw.a);
            (la.contains(&format!("{sid_a}: its TAP interface pwa0 was deleted"))
                && la.contains(&format!("{sid_a} \"s1\": down (local, result 1")))
            .then_some(())
        },
        || pw.context(),
    );
    poll(
        DEADLINE,
        "side B: the session down after the peer's CDN",
        || {
            log(&pw.b)
                .contains(&format!("{sid_b}: down (peer, result 1"))
                .then_some(())
        },
        || pw.context(),
    );
    let lb = log(&pw.b);
    assert!(
        lb.contains(&format!(
            "{sid_b}: down (peer, result 1 error 0: data path lost)"
        )) && !lb.contains("pwa0"),
        "the CDN told B more than that the data path is lost:\n{lb}"
    );
    // The session instance places its call again, as after any failure: a new session with a
    // new pwa0 on A (and pwb0 on B) carries traffic again, in the same tunnel.
    poll(
        DEADLINE,
        "a new session up on both sides, in the same tunnel",
        || {
            (a_new_session_up(&pw.lab, &pw.a, sid_a) && a_new_session_up(&pw.lab, &pw.b, sid_b))
                .then_some(())
        },
        || pw.context(),
    );
    assert!(
        pw.lab
            .run(Side::A, &["ip", "link", "show", "pwa0"], netns::SHORT)
            .status
            .success(),
        "no new pwa0\n{}",
        pw.context()
    );
    // On the wire, A sent a CDN (RFC 3931 §3.3.3) to B's tunnel id; nothing closed the tunnel.
    let packets = pw.lab.judge(&cap, &[]);
    let names = netns::message_names(&packets);
    assert!(
        !names.contains(&"StopCCN"),
        "control messages after the TAP was deleted: {names:?}\n{}",
        netns::summary(&packets)
    );
    let tid_b = num(&pw.sessions[1], "tid");
    let cdn_to_b = packets.iter().filter_map(|p| p.first_l2tp()).any(|l| {
        l.control == Some(true)
            && l.message_type == Some(14)
            && l.tunnel_id.map(u64::from) == Some(tid_b)
    });
    assert!(
        cdn_to_b,
        "no CDN from A to B's tunnel {tid_b}: {names:?}\n{}",
        netns::summary(&packets)
    );
}

/// Starts tcpdump on side B's `dev`, printing in hex the first `count` frames of EtherType
/// 0x88b5 (the test frames [`tap_markers`] reads), and waits until it listens.
fn spawn_tap_dump(lab: &mut Lab, dev: &str, count: u32) -> netns::ProcId {
    let count = count.to_string();
    let dump = lab.spawn(
        Side::B,
        "tap-dump",
        &[
            "tcpdump",
            "--immediate-mode",
            "-i",
            dev,
            "-n",
            "-x",
            "-l",
            "-c",
            &count,
            "ether",
            "proto",
            "0x88b5",
        ],
    );
    lab.wait_log(dump, "listening on", netns::SHORT);
    dump
}

/// Waits up to 5 s for tcpdump `dump` (`-x` on a TAP) to end by itself, stops it, and gives
/// the first octet of each frame it printed after the Ethernet header (where the tests put a
/// marker), with its exit status and its whole output.
fn tap_markers(
    lab: &mut Lab,
    dump: netns::ProcId,
) -> (Vec<u8>, Option<std::process::ExitStatus>, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lab.exited(dump).is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = lab.stop(
        dump,
        nix::sys::signal::Signal::SIGINT,
        Duration::from_secs(2),
    );
    let text = lab.log_text(dump);
    let marks = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("0x0000:"))
        .filter_map(|hex| u8::from_str_radix(hex.trim().get(..2)?, 16).ok())
        .collect();
    (marks, status, text)
}
