//! A tunnel hears only its peer (RFC 2661 §8.1, RFC 3931 §4.1.2.2: the addresses and ports
//! stay the same for the life of the tunnel). Two l2tpd on the userspace data plane carry an
//! L2TPv3 Ethernet pseudowire; a third host that knows the tunnel id, and the peer's own
//! address from another port (a NAT that rebound it), send StopCCNs for it with every Ns of a
//! window. Each is discarded, logged with its sender and counted as `wrong_peer`; the tunnel,
//! its session and the traffic across it are untouched. A tunnel of an IP version the daemon
//! does not listen on sends on its own socket, and says why when it cannot. Needs root; see
//! `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::time::Duration;

use netns::{DEADLINE, L2tpd, Lab, Side, num, poll};

/// Side A's and side B's pseudowire addresses.
const OVERLAY_A: &str = "198.51.100.1";
const OVERLAY_B: &str = "198.51.100.2";
/// The StopCCNs sent from each source: Ns 0 to 63, the expected one among them.
const PER_SOURCE: u64 = 64;

/// Sends, from `src` (address and port) in side A's namespace to B's port 1701, L2TPv3
/// StopCCNs for B's tunnel `tid` naming A's `peer_tid`, one for each Ns below `PER_SOURCE`.
const STOPCCNS: &str = "import socket, struct, sys\n\
    tid, peer_tid, src, port, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], \
    int(sys.argv[4]), int(sys.argv[5])\n\
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
    s.bind((src, port))\n\
    def avp(t, v): return struct.pack('!HHH', 0x8000 | (6 + len(v)), 0, t) + v\n\
    body = avp(0, struct.pack('!H', 4)) + avp(1, struct.pack('!H', 1)) + \
    avp(61, struct.pack('!I', peer_tid))\n\
    for ns in range(n):\n\
    \x20   hdr = struct.pack('!HHIHH', 0xC803, 12 + len(body), tid, ns, 0)\n\
    \x20   s.sendto(hdr + body, ('192.0.2.2', 1701))\n";

/// Adds each of `cidrs` to the veth of `side`, with no duplicate address detection.
fn add_addresses(lab: &Lab, side: Side, cidrs: &[&str]) {
    let (ns, dev) = (lab.ns(side), lab.ifname(side));
    for cidr in cidrs {
        netns::ip(&["-n", ns, "addr", "add", cidr, "dev", dev, "nodad"]);
    }
}

/// Starts B as the server and A as the client of an L2TPv3 Ethernet pseudowire over `encap`
/// between the addresses `ips` (A's, B's; B's peer profile takes `peers`), both on the
/// userspace data plane.
fn start(lab: &mut Lab, encap: &str, ips: (&str, &str), peers: &str) -> (L2tpd, L2tpd) {
    let dp = "    dataplane userspace\n";
    let session = "    pseudowire_type eth\n    cookie_length 8\n";
    let server_conf = format!(
        "peer profile \"clients\" {{\n    peer_ipaddr {peers}\n    tunnel_profile_name \"srv\"\n    \
         session_profile_name \"srv\"\n    pseudowire_profile_name \"srv\"\n}}\n\n\
         tunnel profile \"srv\" {{\n    version 3\n    encap {encap}\n}}\n\n\
         session profile \"srv\" {{\n{session}}}\n\n\
         pseudowire profile \"srv\" {{\n    interface_name pwb%d\n    local_ip {OVERLAY_B}\n    \
         netmask 255.255.255.0\n}}\n"
    );
    let client_conf = format!(
        "tunnel \"t1\" {{\n    version 3\n    encap {encap}\n    peer {}\n    persist false\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n{session}    pseudowire_profile_name \"cli\"\n}}\n\n\
         pseudowire profile \"cli\" {{\n    interface_name pwa%d\n    local_ip {OVERLAY_A}\n    \
         netmask 255.255.255.0\n}}\n",
        ips.1
    );
    let listen = |ip: &str| {
        if ip.contains(':') {
            format!("[{ip}]:1701")
        } else {
            format!("{ip}:1701")
        }
    };
    let b = lab.start_l2tpd(Side::B, &listen(ips.1), dp, &server_conf);
    let a = lab.start_l2tpd(Side::A, &listen(ips.0), dp, &client_conf);
    (a, b)
}

#[test]
fn control_messages_from_anyone_but_the_peer_leave_the_tunnel_alone() {
    let mut lab = Lab::new("peer-address", &["python3"]);
    let dev = lab.ifname(Side::A).to_owned();
    let ns = lab.ns(Side::A).to_owned();
    netns::ip(&["-n", &ns, "addr", "add", "192.0.2.3/24", "dev", &dev]);
    let (a, b) = start(&mut lab, "udp", ("192.0.2.1", "192.0.2.2"), "192.0.2.0/24");
    let (tunnel, _) = lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let context = || lab.pair_context(&a, &b);
    assert!(
        lab.ping(Side::A, OVERLAY_B, 2).status.success(),
        "{}",
        context()
    );
    let (tid, peer_tid) = (num(&tunnel, "tid"), num(&tunnel, "peer_tid"));
    let received = || {
        let t = lab.ctl(&b, &["show", "tunnel", &tid.to_string()]).unwrap();
        num(&t["stats"], "control_rx_packets")
    };
    let received_before = received();

    // A third host, then the peer's address from another port.
    for src in ["192.0.2.3", "192.0.2.1"] {
        let args = [
            tid.to_string(),
            peer_tid.to_string(),
            src.to_owned(),
            "5555".to_owned(),
            PER_SOURCE.to_string(),
        ];
        let mut argv = vec!["python3", "-c", STOPCCNS];
        argv.extend(args.iter().map(String::as_str));
        let out = lab.run(Side::A, &argv, netns::SHORT);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The log's budget (10 lines a second per kind) starts afresh for the next source.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let system = poll(
        DEADLINE,
        "every StopCCN counted as wrong_peer",
        || {
            let s = lab.ctl(&b, &["show", "system"]).unwrap();
            (s["statistics"]["malformed"]["wrong_peer"].as_u64() == Some(2 * PER_SOURCE))
                .then_some(s)
        },
        context,
    );
    assert_eq!(
        system["statistics"]["messages_received"]["StopCCN"].as_u64(),
        None,
        "{system}"
    );
    // Logged with the sender and the peer it is not; the rest of the first second summed up
    // when the next source came (the second's summary waits for later input).
    let lines = |src: &str| {
        let line = format!("from {src} (tunnel {tid}): not from the tunnel's peer 192.0.2.1:1701");
        let log = std::fs::read_to_string(&b.log).unwrap();
        log.lines().filter(|l| l.contains(&line)).count()
    };
    let more = format!("{} more `wrong_peer` problem(s)", PER_SOURCE - 10);
    poll(
        DEADLINE,
        "both senders logged, and what the budget left out summed up",
        || {
            let log = std::fs::read_to_string(&b.log).unwrap();
            (lines("192.0.2.3:5555") == 10 && lines("192.0.2.1:5555") == 10 && log.contains(&more))
                .then_some(())
        },
        context,
    );
    // They are not the tunnel's messages: its counter saw at most the peer's own (a HELLO).
    let received_after = received();
    assert!(
        received_after - received_before < PER_SOURCE,
        "control_rx_packets went from {received_before} to {received_after}"
    );
    // The tunnel, its session and the pseudowire are untouched, on both sides.
    for d in [&b, &a] {
        let (t, s) = lab.wait_one_up(d, context);
        assert_eq!(
            (t["state"].as_str(), s["state"].as_str()),
            (Some("up"), Some("up"))
        );
    }
    assert!(
        lab.ping(Side::A, OVERLAY_B, 2).status.success(),
        "{}",
        context()
    );
}

/// A client over IP whose host has a second address that the kernel would prefer for the
/// server (a longer common prefix, RFC 6724 rule 8): its data leaves from the address its
/// control messages leave from, the one of its `listen`, which the server's data socket for
/// the tunnel is connected to. Before, the data socket was bound to no address, the kernel
/// chose the other one, and the server heard none of the data.
#[test]
fn data_over_ip_leaves_from_the_tunnel_s_own_address() {
    let mut lab = Lab::new("ip-source", &["python3"]);
    add_addresses(&lab, Side::A, &["2001:db8::3/64"]);
    let (a, b) = start(
        &mut lab,
        "ip",
        ("2001:db8::1", "2001:db8::2"),
        "2001:db8::/64",
    );
    let (tunnel, _) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let (_, session) = lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    let context = || lab.pair_context(&a, &b);
    assert!(
        lab.ping(Side::A, OVERLAY_B, 3).status.success(),
        "{}",
        context()
    );
    // Over IP, which has no ports, the address alone.
    assert_eq!(tunnel["local"], "2001:db8::1", "{tunnel}");
    // Data for the session from the other address reaches no data socket of B's (its raw
    // listen socket sees it): counted with the other data on the control path, and logged.
    let sid = num(&session, "sid").to_string();
    let out = lab.run(Side::A, &["python3", "-c", IP_DATA, &sid], netns::SHORT);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = "from [2001:db8::3]:0: data packet on the control path: discarded";
    poll(
        DEADLINE,
        "5 data packets from 2001:db8::3 counted and logged",
        || {
            let s = lab.ctl(&b, &["show", "system"]).unwrap();
            let log = std::fs::read_to_string(&b.log).unwrap();
            (s["statistics"]["malformed"]["data"].as_u64() == Some(5)
                && log.matches(line).count() == 5)
                .then_some(())
        },
        context,
    );
    assert!(
        lab.ping(Side::A, OVERLAY_B, 1).status.success(),
        "{}",
        context()
    );
}

/// Sends five L2TPv3 data packets over IP for session `argv[1]` from 2001:db8::3 to B.
const IP_DATA: &str = "import socket, struct, sys\n\
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 115)\n\
    s.bind(('2001:db8::3', 0))\n\
    frame = b'\\xff' * 6 + b'\\x02' * 6 + b'\\x08\\x06' + b'\\x00' * 46\n\
    for n in range(5):\n\
    \x20   s.sendto(struct.pack('!I', int(sys.argv[1])) + b'\\xee' * 8 + frame, ('2001:db8::2', 0))\n";

/// A tunnel to an IPv4 peer from a daemon listening on IPv6 only has a socket of its own
/// (bound to any address and port, connected to the peer). While the peer's port is closed,
/// the log says that the peer refuses (the socket's own error: on a send, or read by the
/// daemon and summed up as a port unreachable), not that no socket would do; once the peer
/// listens, the tunnel comes up on the next retransmission.
#[test]
fn a_tunnel_of_a_family_nothing_listens_on_says_why_it_cannot_send() {
    let mut lab = Lab::new("own-socket", &[]);
    let client = "tunnel \"t1\" {\n    version 3\n    peer 192.0.2.2\n}\n";
    let a = lab.start_l2tpd(Side::A, "[2001:db8::1]:1701", "", client);
    let refused = "sending to 192.0.2.2:1701: Connection refused (os error 111), on the tunnel's \
                   own socket (no listen socket of its family)";
    let unreachable = |l: &str| {
        l.contains("l2tpd (no data plane) dropped in the last ")
            && l.contains(" on an ICMP port unreachable from the peer")
    };
    poll(
        DEADLINE,
        "the refused SCCRQ logged with the socket's error",
        || {
            let log = std::fs::read_to_string(&a.log).unwrap();
            (log.contains(refused) || log.lines().any(unreachable)).then_some(())
        },
        || lab.l2tpd_logs(&a),
    );
    let log = std::fs::read_to_string(&a.log).unwrap();
    assert!(!log.contains("no Udp socket to send on"), "{log}");
    let server = "tunnel profile \"default\" {\n    version 3\n}\n";
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", "", server);
    let tunnel = poll(
        DEADLINE,
        "the tunnel up",
        || {
            let t = lab.list(&a, "tunnels");
            (t.first()?["state"] == "up").then(|| t[0].clone())
        },
        || lab.pair_context(&a, &b),
    );
    assert_eq!(tunnel["peer"], "192.0.2.2:1701", "{tunnel}");
}

/// A client's tunnels show the local address in use, not the one configured: over IPv4 from
/// a daemon listening on 0.0.0.0 (a shared listen socket), the address the server's answers
/// arrive on; over IPv6, where nothing listens, its own socket's address and port
/// (getsockname once connected). Before, `show tunnel` gave `0.0.0.0:1701` and `[::]:0`.
#[test]
fn a_client_s_tunnels_show_the_local_address_in_use() {
    let mut lab = Lab::new("local-in-use", &[]);
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701 [2001:db8::2]:1701", "", "");
    let client = "tunnel \"t6\" {\n    version 3\n    peer 2001:db8::2\n}\n\n\
                  tunnel \"t4\" {\n    version 3\n    peer 192.0.2.2\n}\n";
    let a = lab.start_l2tpd(Side::A, "0.0.0.0:1701", "", client);
    let tunnels = poll(
        DEADLINE,
        "two tunnels up",
        || {
            let t = lab.list(&a, "tunnels");
            (t.len() == 2 && t.iter().all(|t| t["state"] == "up")).then_some(t)
        },
        || lab.pair_context(&a, &b),
    );
    let mut locals: Vec<String> = tunnels
        .iter()
        .map(|t| {
            let tid = num(t, "tid").to_string();
            let t = lab.ctl(&a, &["show", "tunnel", &tid]).unwrap();
            t["local"].as_str().unwrap().to_owned()
        })
        .collect();
    locals.sort();
    assert_eq!(locals[0], "192.0.2.1:1701", "{locals:?}");
    let port = locals[1].strip_prefix("[2001:db8::1]:");
    assert!(
        port.is_some_and(|p| p.parse::<u16>().is_ok_and(|p| p != 0)),
        "{locals:?}"
    );
}

/// A server listening on the unspecified addresses (the default) with several addresses of
/// each family answers a client's SCCRQ from the address the client dialled: its tunnel's
/// socket is bound to the SCCRQ's destination (`IP_PKTINFO`, `IPV6_RECVPKTINFO`), and
/// `l2tpctl show tunnel` gives that address as `local`. Before, the socket was bound to the
/// unspecified address and routing chose the source: the newest IPv6 address, the primary
/// IPv4 one, not the one dialled, so the client saw its peer change under it.
#[test]
fn a_server_on_the_unspecified_address_answers_from_the_address_dialled() {
    answers_from_the_address_dialled("udp", "", ["\"192.0.2.3:1701\"", "\"[2001:db8::2]:1701\""]);
}

/// The same over IP (protocol 115), where the listen sockets are raw ones (or the kernel's
/// L2TP/IP ones) and a tunnel has no socket of its own on raw sockets: each SCCRQ comes with
/// its destination, which becomes the tunnel's local address, and the tunnel's control
/// messages leave the listen socket from it (`IP_PKTINFO`, `IPV6_PKTINFO`). Before, routing
/// chose their source, and the client saw its peer change under it.
#[test]
fn a_server_on_the_unspecified_address_answers_over_ip_from_the_address_dialled() {
    answers_from_the_address_dialled(
        "ip",
        "    listen_encap_ip true\n",
        ["\"192.0.2.3\"", "\"2001:db8::2\""],
    );
}

/// B, on the unspecified addresses with two of each family, and A's two tunnels over `encap`
/// to the second of each: A sees its peers, and B its tunnels' local addresses, as `dialled`.
fn answers_from_the_address_dialled(encap: &str, b_system: &str, dialled: [&str; 2]) {
    let mut lab = Lab::new(&format!("dialled-{encap}"), &[]);
    add_addresses(&lab, Side::B, &["2001:db8::3/64", "192.0.2.3/24"]);
    let b = lab.start_l2tpd(Side::B, "0.0.0.0:1701 [::]:1701", b_system, "");
    let client = format!(
        "tunnel \"t6\" {{\n    version 3\n    encap {encap}\n    peer 2001:db8::2\n}}\n\n\
         tunnel \"t4\" {{\n    version 3\n    encap {encap}\n    peer 192.0.2.3\n}}\n"
    );
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701 [2001:db8::1]:1701", "", &client);
    let up = |d: &L2tpd| {
        poll(
            DEADLINE,
            "two tunnels up",
            || {
                let t = lab.list(d, "tunnels");
                (t.len() == 2 && t.iter().all(|t| t["state"] == "up")).then_some(t)
            },
            || lab.pair_context(&a, &b),
        )
    };
    let mut peers: Vec<String> = up(&a).iter().map(|t| t["peer"].to_string()).collect();
    peers.sort();
    assert_eq!(peers, dialled);
    let mut locals: Vec<String> = up(&b)
        .iter()
        .map(|t| {
            let tid = num(t, "tid").to_string();
            let t = lab.ctl(&b, &["show", "tunnel", &tid]).unwrap();
            t["local"].to_string()
        })
        .collect();
    locals.sort();
    assert_eq!(locals, dialled);
}

/// A stand-in server on B: takes an L2TPv3 SCCRQ on [2001:db8::2]:1701, answers with an
/// SCCRP from `argv[1]` port `argv[2]`, then prints which of its two sockets got the next
/// message (`new` or `old`) and the port that message came from.
const ANSWER_ELSEWHERE: &str = "import socket, struct, sys\n\
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
    s.bind(('2001:db8::2', 1701))\n\
    o = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
    o.bind((sys.argv[1], int(sys.argv[2])))\n\
    print('ready', flush=True)\n\
    def avp(t, v): return struct.pack('!HHH', 0x8000 | (6 + len(v)), 0, t) + v\n\
    data, peer = s.recvfrom(2000)\n\
    i, ptid = 12, 0\n\
    while i < len(data):\n\
    \x20   l, t = struct.unpack('!H', data[i:i+2])[0] & 0x3ff, struct.unpack('!H', data[i+4:i+6])[0]\n\
    \x20   ptid = struct.unpack('!I', data[i+6:i+10])[0] if t == 61 else ptid\n\
    \x20   i += l\n\
    body = avp(0, struct.pack('!H', 2)) + avp(7, b'elsewhere') + avp(60, struct.pack('!I', 7)) \
    + avp(61, struct.pack('!I', 4242)) + avp(62, struct.pack('!H', 5))\n\
    o.sendto(struct.pack('!HHIHH', 0xC803, 12 + len(body), ptid, 0, 1) + body, peer[:2])\n\
    o.settimeout(5); s.settimeout(0.1)\n\
    try:\n\
    \x20   d, p = o.recvfrom(2000); print('new', p[1], flush=True)\n\
    except socket.timeout:\n\
    \x20   d, p = s.recvfrom(2000); print('old', p[1], flush=True)\n";

/// RFC 2661 §8.1: the peer may answer an SCCRQ from another port (and, as a server with
/// several addresses might, another address). The client talks to it there from then on: its
/// SCCCN reaches the address and port the SCCRP came from, and `l2tpctl` shows that peer.
/// Before, the protocol took the new peer but the tunnel's socket stayed connected to the one
/// dialled: `show tunnel` gave the new peer while the SCCCN and all after it went to the old.
#[test]
fn a_peer_that_answers_from_elsewhere_is_talked_to_there() {
    let mut lab = Lab::new("elsewhere", &["python3"]);
    add_addresses(&lab, Side::B, &["2001:db8::3/64"]);
    let fake = lab.spawn(
        Side::B,
        "fake-server.out",
        &["python3", "-c", ANSWER_ELSEWHERE, "2001:db8::3", "1702"],
    );
    lab.wait_log(fake, "ready", netns::SHORT);
    let client = "tunnel \"t1\" {\n    version 3\n    peer 2001:db8::2\n}\n";
    let a = lab.start_l2tpd(Side::A, "[2001:db8::1]:1701", "", client);
    let out = poll(
        DEADLINE,
        "the stand-in server's verdict",
        || {
            let out = lab.log_text(fake);
            (out.contains("new ") || out.contains("old ")).then_some(out)
        },
        || lab.l2tpd_logs(&a),
    );
    assert!(out.contains("new 1701"), "{out}\n{}", lab.l2tpd_logs(&a));
    let t = lab.ctl(&a, &["show", "tunnel", "t1"]).unwrap();
    assert_eq!(t["peer"], "[2001:db8::3]:1702", "{t}");
}
