//! l2tpd against l2tpd over a veth between two network namespaces (issue 4).
//!
//! Side A (192.0.2.1, 2001:db8::1) runs a client: a `tunnel` instance and a `session` instance.
//! Side B (192.0.2.2, 2001:db8::2) accepts them through a peer profile. Every scenario checks
//! with `l2tpctl --json show tunnels` / `show sessions` on both sides that the tunnel and the
//! session reach state "up" with matching ids, stops the client (SIGTERM: StopCCN) and waits for
//! the server to take the tunnel down, and has tshark judge the whole capture. Needs root; see
//! `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::time::Instant;

use netns::{Family, L2TP_FILTER, Lab, Side, num};
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum Encap {
    Udp,
    Ip,
}

impl Encap {
    fn name(self) -> &'static str {
        match self {
            Encap::Udp => "udp",
            Encap::Ip => "ip",
        }
    }
}

/// Tunnel authentication of a scenario.
#[derive(Clone, Copy, Debug)]
enum Auth {
    None,
    /// A shared secret: challenge/response (v2) or the message digest (v3).
    Secret(&'static str),
    /// A shared secret and hidden AVPs.
    SecretHidden(&'static str),
    /// A shared secret, and the L2TPv3 Message Digest as HMAC-SHA-1 (`digest_type`).
    SecretSha1(&'static str),
}

impl Auth {
    fn lines(self) -> String {
        match self {
            Auth::None => String::new(),
            Auth::Secret(s) => format!("    secret \"{s}\"\n    auth_mode challenge\n"),
            Auth::SecretHidden(s) => {
                format!("    secret \"{s}\"\n    auth_mode challenge\n    hide_avps true\n")
            }
            Auth::SecretSha1(s) => {
                format!("    secret \"{s}\"\n    auth_mode challenge\n    digest_type hmac_sha1\n")
            }
        }
    }
    fn secret(self) -> Option<&'static str> {
        match self {
            Auth::None => None,
            Auth::Secret(s) | Auth::SecretHidden(s) | Auth::SecretSha1(s) => Some(s),
        }
    }
}

fn scenario(tag: &str, version: u8, encap: Encap, family: Family, auth: Auth) {
    let started = Instant::now();
    let mut lab = Lab::new(tag, &[]);
    let cap = lab.capture(Side::A, L2TP_FILTER);

    // An L2TPv2 LAC also tells of its subscriber's access line (RFC 5515).
    let (pw, client_type, server_type) = match version {
        2 => (
            "ppp",
            "    session_type laic\n    agent_circuit_id \"dslam-7 eth 1/4:100\"\n    \
             actual_data_rate_downstream 80000000000\n",
            "    session_type lnic\n",
        ),
        _ => ("eth", "", ""),
    };
    let e = encap.name();
    let auth_lines = auth.lines();
    let server_conf = format!(
        "peer profile \"clients\" {{\n    peer_ipaddr {subnet}\n    tunnel_profile_name \"srv\"\n    \
         session_profile_name \"srv\"\n}}\n\n\
         tunnel profile \"srv\" {{\n    version {version}\n    encap {e}\n{auth_lines}}}\n\n\
         session profile \"srv\" {{\n    pseudowire_type {pw}\n{server_type}}}\n",
        subnet = family.subnet(),
    );
    let client_conf = format!(
        "tunnel \"t1\" {{\n    version {version}\n    encap {e}\n    peer {peer}\n    \
         persist false\n{auth_lines}}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type {pw}\n{client_type}}}\n",
        peer = family.addr(Side::B),
    );
    let server = lab.start_l2tpd(Side::B, &family.sockaddr(Side::B, 1701), "", &server_conf);
    let client = lab.start_l2tpd(Side::A, &family.sockaddr(Side::A, 1701), "", &client_conf);

    let (ta, sa) = lab.wait_one_up(&client, || lab.pair_context(&client, &server));
    let (tb, sb) = lab.wait_one_up(&server, || lab.pair_context(&client, &server));
    let up_after = started.elapsed();
    let ctx = || {
        format!(
            "client: {ta}\n        {sa}\nserver: {tb}\n        {sb}\n{}",
            lab.pair_context(&client, &server)
        )
    };

    // Tunnel ids cross-match and are non-zero.
    assert!(num(&ta, "tid") != 0 && num(&tb, "tid") != 0, "{}", ctx());
    assert_eq!(num(&ta, "tid"), num(&tb, "peer_tid"), "{}", ctx());
    assert_eq!(num(&ta, "peer_tid"), num(&tb, "tid"), "{}", ctx());
    for t in [&ta, &tb] {
        assert_eq!(num(t, "version"), u64::from(version), "{}", ctx());
        assert_eq!(t["encap"], e, "{}", ctx());
        assert_eq!(num(t, "sessions"), 1, "{}", ctx());
    }
    assert_eq!(ta["name"], "t1", "{}", ctx());
    assert_eq!(ta["created_by"], "config", "{}", ctx());
    assert_eq!(tb["name"], Value::Null, "{}", ctx());
    assert_eq!(tb["created_by"], "net", "{}", ctx());
    // Each side names the other's address (with its port over UDP, alone over IP).
    let peer_ip = |t: &Value| -> String {
        let p = t["peer"].as_str().unwrap_or_default();
        p.parse::<std::net::SocketAddr>()
            .map_or_else(|_| p.to_owned(), |a| a.ip().to_string())
    };
    assert_eq!(peer_ip(&ta), family.addr(Side::B), "{}", ctx());
    assert_eq!(peer_ip(&tb), family.addr(Side::A), "{}", ctx());

    // Sessions: in those tunnels, ids cross-match.
    assert_eq!(num(&sa, "tid"), num(&ta, "tid"), "{}", ctx());
    assert_eq!(num(&sb, "tid"), num(&tb, "tid"), "{}", ctx());
    assert_eq!(num(&sa, "peer_tid"), num(&tb, "tid"), "{}", ctx());
    assert_eq!(num(&sb, "peer_tid"), num(&ta, "tid"), "{}", ctx());
    assert!(num(&sa, "sid") != 0 && num(&sb, "sid") != 0, "{}", ctx());
    assert_eq!(num(&sa, "sid"), num(&sb, "peer_sid"), "{}", ctx());
    assert_eq!(num(&sa, "peer_sid"), num(&sb, "sid"), "{}", ctx());
    assert_eq!(sa["name"], "s1", "{}", ctx());
    for s in [&sa, &sb] {
        assert_eq!(s["pseudowire_type"], pw, "{}", ctx());
    }

    // The client stops: StopCCN; the server forgets the tunnel.
    lab.stop_l2tpd(&client);
    let left = lab.wait_tunnels_down(&server, || lab.l2tpd_logs(&server));
    eprintln!("{tag}: server tunnels after StopCCN: {left:?}");

    let mut args = Vec::new();
    let secret_pref;
    if version == 3
        && let Some(s) = auth.secret()
    {
        // tshark checks the L2TPv3 Message Digest AVPs with the secret.
        secret_pref = format!("l2tp.shared_secret:{s}");
        args = vec!["-o", secret_pref.as_str()];
    }
    let packets = lab.judge(&cap, &args);
    // With the secret, tshark checks every Message Digest AVP; a wrong one is only a warning.
    let bad_digests: Vec<u64> = packets
        .iter()
        .filter(|p| {
            p.expert
                .iter()
                .any(|e| e.message.contains("Incorrect Digest"))
        })
        .map(|p| p.number)
        .collect();
    assert!(
        bad_digests.is_empty(),
        "tshark: Incorrect Digest in frames {bad_digests:?}"
    );
    netns::assert_messages(
        &packets,
        &["SCCRQ", "SCCRP", "SCCCN", "ICRQ", "ICRP", "ICCN", "StopCCN"],
    );
    let avps = || packets.iter().flat_map(|p| &p.l2tp).flat_map(|l| &l.avps);
    let hidden = avps().filter(|a| a.hidden).count();
    if matches!(auth, Auth::SecretHidden(_)) {
        assert!(hidden > 0, "no hidden AVP\n{}", netns::summary(&packets));
    } else {
        assert_eq!(hidden, 0, "{}", netns::summary(&packets));
    }
    // With a secret, L2TPv2 challenges (Challenge AVP 11) and L2TPv3 signs (Message Digest 59).
    let auth_avp = if version == 2 { 11 } else { 59 };
    assert_eq!(
        avps().any(|a| a.vendor_id == 0 && a.attr_type == auth_avp),
        auth.secret().is_some(),
        "AVP {auth_avp}\n{}",
        netns::summary(&packets)
    );
    for p in &packets {
        for l in &p.l2tp {
            assert_eq!(l.version, Some(version), "frame {}", p.number);
        }
    }
    if version == 2 {
        // The ICRQ carries the Access Line AVPs (vendor 3561), which tshark reads when they
        // are not hidden.
        let line: Vec<&l2tp_testkit::tshark::Avp> =
            avps().filter(|a| a.vendor_id == 3561).collect();
        assert_eq!(line.len(), 2, "{}", netns::summary(&packets));
        if hidden == 0 {
            let text = |a: &l2tp_testkit::tshark::Avp| {
                a.fields.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()
            };
            assert!(
                text(line[0]).iter().any(|v| v == "dslam-7 eth 1/4:100")
                    && text(line[1]).iter().any(|v| v == "80000000000"),
                "{line:?}"
            );
        }
    }
    if let Auth::SecretSha1(s) = auth {
        // Every Message Digest AVP is HMAC-SHA-1: 6 octets of header, the Digest Type octet
        // and 20 of digest (RFC 3931 §5.4.1), on every control message, both ways. tshark
        // verified each above; with another secret it rejects each, so it did check them.
        let digests: Vec<u16> = avps()
            .filter(|a| a.vendor_id == 0 && a.attr_type == 59)
            .map(|a| a.length)
            .collect();
        let control = packets
            .iter()
            .filter_map(|p| p.first_l2tp())
            .filter(|l| l.control == Some(true) && l.message_type.is_some())
            .count();
        assert!(
            digests.len() == control && digests.iter().all(|&len| len == 27),
            "Message Digest AVP lengths {digests:?} for {control} control messages\n{}",
            netns::summary(&packets)
        );
        let wrong = format!("l2tp.shared_secret:not-{s}");
        let packets = l2tp_testkit::tshark::decode_with(&cap.path, &["-o", &wrong]).unwrap();
        let rejected = packets
            .iter()
            .filter(|p| {
                p.expert
                    .iter()
                    .any(|e| e.message.contains("Incorrect Digest"))
            })
            .count();
        assert_eq!(
            rejected, control,
            "tshark did not reject every digest under a wrong secret"
        );
    }
    eprintln!(
        "{tag}: up after {:.2?}, done in {:.2?} ({} packets)",
        up_after,
        started.elapsed(),
        packets.len()
    );
}

#[test]
fn v2_udp_ipv4() {
    scenario("v2-udp-4", 2, Encap::Udp, Family::V4, Auth::None);
}

#[test]
fn v2_udp_ipv6() {
    scenario("v2-udp-6", 2, Encap::Udp, Family::V6, Auth::None);
}

#[test]
fn v3_udp_ipv4() {
    scenario("v3-udp-4", 3, Encap::Udp, Family::V4, Auth::None);
}

#[test]
fn v3_udp_ipv6() {
    scenario("v3-udp-6", 3, Encap::Udp, Family::V6, Auth::None);
}

#[test]
fn v3_ip_ipv4() {
    scenario("v3-ip-4", 3, Encap::Ip, Family::V4, Auth::None);
}

#[test]
fn v3_ip_ipv6() {
    scenario("v3-ip-6", 3, Encap::Ip, Family::V6, Auth::None);
}

#[test]
fn v2_udp_ipv4_challenge_hidden() {
    scenario(
        "v2-udp-4-hidden",
        2,
        Encap::Udp,
        Family::V4,
        Auth::SecretHidden("v2-netns-secret"),
    );
}

#[test]
fn v2_udp_ipv6_challenge() {
    scenario(
        "v2-udp-6-chal",
        2,
        Encap::Udp,
        Family::V6,
        Auth::Secret("v2-netns-secret"),
    );
}

#[test]
fn v3_udp_ipv6_secret() {
    scenario(
        "v3-udp-6-secret",
        3,
        Encap::Udp,
        Family::V6,
        Auth::Secret("v3-netns-secret"),
    );
}

#[test]
fn v3_ip_ipv4_secret() {
    scenario(
        "v3-ip-4-secret",
        3,
        Encap::Ip,
        Family::V4,
        Auth::Secret("v3-netns-secret"),
    );
}

#[test]
fn v3_udp_ipv4_sha1_digest() {
    scenario(
        "v3-udp-4-sha1",
        3,
        Encap::Udp,
        Family::V4,
        Auth::SecretSha1("v3-netns-secret"),
    );
}

/// Both ends are configured alike, as LCCEs of a pseudowire usually are: a tunnel to the other
/// and a session for circuit "vc-100" (its End ID). They start together, so their SCCRQs and
/// then their ICRQs cross. The tie breakers (RFC 3931 §5.4.3, §5.4.4) leave one tunnel and one
/// session, which each side shows as its own instances ("t1", "s1").
#[test]
fn symmetric_ends_meet_on_one_tunnel_and_one_session() {
    let mut lab = Lab::new("symmetric", &[]);
    let cap = lab.capture(Side::A, L2TP_FILTER);
    let conf = |peer: Side| {
        format!(
            "tunnel \"t1\" {{\n    version 3\n    peer {}\n}}\n\n\
             session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type eth\n    \
             remote_end_id \"vc-100\"\n}}\n",
            Family::V4.addr(peer)
        )
    };
    let a = lab.start_l2tpd(
        Side::A,
        &Family::V4.sockaddr(Side::A, 1701),
        "",
        &conf(Side::B),
    );
    let b = lab.start_l2tpd(
        Side::B,
        &Family::V4.sockaddr(Side::B, 1701),
        "",
        &conf(Side::A),
    );
    // (A tunnel that lost a tie breaker may linger in state "closing", RFC 3931 §4.2.)
    let settled = |d: &netns::L2tpd| {
        let t: Vec<Value> = lab
            .list(d, "tunnels")
            .into_iter()
            .filter(|x| x["state"] != "closing")
            .collect();
        let s = lab.list(d, "sessions");
        let up = |v: &Vec<Value>| v.iter().filter(|x| x["state"] == "up").count();
        (up(&t), up(&s), t.len(), s.len())
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if settled(&a) == (1, 1, 1, 1) && settled(&b) == (1, 1, 1, 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a: {:?} b: {:?}\n{}",
            settled(&a),
            settled(&b),
            lab.pair_context(&a, &b)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for d in [&a, &b] {
        let t: Vec<Value> = lab
            .list(d, "tunnels")
            .into_iter()
            .filter(|x| x["state"] == "up")
            .collect();
        let s = lab.list(d, "sessions");
        assert_eq!(t[0]["name"], "t1", "{t:?}");
        assert_eq!(s[0]["name"], "s1", "{s:?}");
    }
    // One session: the two ends' ids match.
    let (sa, sb) = (&lab.list(&a, "sessions")[0], &lab.list(&b, "sessions")[0]);
    assert_eq!(num(sa, "sid"), num(sb, "peer_sid"));
    assert_eq!(num(sb, "sid"), num(sa, "peer_sid"));
    lab.stop_l2tpd(&a);
    lab.stop_l2tpd(&b);
    let packets = lab.judge(&cap, &[]);
    let names = netns::message_names(&packets);
    assert!(names.contains(&"ICRQ"), "{names:?}");
}

/// `idle_timeout`: the client's tunnel closes (StopCCN result 1) once it has had no session for
/// that long, and opens again for the next session made in it.
#[test]
fn an_idle_tunnel_closes_and_opens_again_for_its_next_session() {
    let mut lab = Lab::new("idle-timeout", &[]);
    let server = "peer profile \"c\" {\n    peer_ipaddr 192.0.2.0/24\n}\n";
    let client = format!(
        "tunnel \"t1\" {{\n    version 3\n    peer {}\n    idle_timeout 2\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type eth\n}}\n",
        Family::V4.addr(Side::B)
    );
    let b = lab.start_l2tpd(Side::B, &Family::V4.sockaddr(Side::B, 1701), "", server);
    let a = lab.start_l2tpd(Side::A, &Family::V4.sockaddr(Side::A, 1701), "", &client);
    let (t, _) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let first = num(&t, "tid");
    let done = lab
        .ctl(&a, &["delete", "session", "t1", "s1"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done["ok"], true, "{done}");
    assert!(
        lab.list(&a, "sessions").is_empty(),
        "{}",
        lab.pair_context(&a, &b)
    );
    // Kept while younger than the timeout, closed after it.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert!(
        lab.list(&a, "tunnels").iter().any(|t| t["state"] == "up"),
        "closed too early\n{}",
        lab.pair_context(&a, &b)
    );
    let down = lab.wait_tunnels_down(&a, || lab.pair_context(&a, &b));
    assert!(down.iter().all(|t| t["state"] != "up"), "{down:?}");
    let logs = lab.l2tpd_logs(&a);
    assert!(logs.contains("down (idle timeout, result 1"), "{logs}");
    lab.wait_tunnels_down(&b, || lab.pair_context(&a, &b));
    // The next session opens the tunnel again.
    lab.ctl(
        &a,
        &["create", "session", "t1", "s2", "pseudowire_type=eth"],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // (The closed tunnel lingers in state "closing" for a retransmission cycle.)
    let up = |v: Vec<Value>| v.into_iter().find(|x| x["state"] == "up");
    let (t, s) = netns::poll(
        netns::DEADLINE,
        "side a: tunnel t1 open again, with session s2 up",
        || Some((up(lab.list(&a, "tunnels"))?, up(lab.list(&a, "sessions"))?)),
        || lab.pair_context(&a, &b),
    );
    assert_ne!(num(&t, "tid"), first, "{t}");
    assert_eq!(t["name"], "t1", "{t}");
    assert_eq!(s["name"], "s2", "{s}");
}

/// l2tpd.conf(5), `listen_encap_ip`: a server whose config has only a peer profile (its tunnel
/// profile the built-in `default`, over UDP) listens on IP protocol 115 only when asked to.
/// With `listen_encap_ip true` it accepts an L2TPv3-over-IP tunnel and session from another
/// daemon; without it, it opens no protocol 115 socket and the client's SCCRQs over IP get
/// no answer.
#[test]
fn listen_encap_ip_takes_l2tpv3_over_ip_with_peer_profiles_only() {
    let server = "peer profile \"c\" {\n    peer_ipaddr 192.0.2.0/24\n}\n";
    let client = format!(
        "tunnel \"t1\" {{\n    version 3\n    encap ip\n    peer {}\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type eth\n}}\n",
        Family::V4.addr(Side::B)
    );
    for listen in [true, false] {
        let mut lab = Lab::new(&format!("listen-encap-ip-{listen}"), &[]);
        let extra = if listen {
            "    listen_encap_ip true\n"
        } else {
            ""
        };
        let b = lab.start_l2tpd(Side::B, &Family::V4.sockaddr(Side::B, 1701), extra, server);
        let logs = lab.l2tpd_logs(&b);
        let ip = format!("IP protocol 115 on {}", Family::V4.addr(Side::B));
        assert_eq!(logs.contains(&ip), listen, "{logs}");
        let a = lab.start_l2tpd(Side::A, &Family::V4.sockaddr(Side::A, 1701), "", &client);
        if listen {
            let (t, _) = lab.wait_one_up(&b, || lab.pair_context(&a, &b));
            assert_eq!(t["encap"], "ip", "{t}");
            assert_eq!(num(&t, "version"), 3, "{t}");
            lab.wait_one_up(&a, || lab.pair_context(&a, &b));
            continue;
        }
        // The client sends its SCCRQ and retransmits it; nothing on the server hears it.
        netns::poll(
            netns::DEADLINE,
            "the client's SCCRQ retransmitted",
            || {
                let s = lab.ctl(&a, &["show", "system"]).ok()?;
                (s["statistics"]["retransmits"].as_u64()? >= 1).then_some(())
            },
            || lab.pair_context(&a, &b),
        );
        let s = lab.ctl(&b, &["show", "system"]).unwrap();
        assert_eq!(
            s["statistics"]["rx_packets"], 0,
            "the server heard something: {s}"
        );
        assert!(lab.list(&b, "tunnels").is_empty());
    }
}

/// l2tpd(8), `l2tpd_socket_transmit_errors_total`: a peer that a firewall keeps l2tpd from
/// reaching fails every retransmission; the first failure is logged as a warning, the rest
/// only counted (`show system`'s `tx_errors`) until a datagram to the peer leaves again,
/// which is logged with the count. The tunnel then comes up.
#[test]
fn sends_a_firewall_refuses_are_counted_and_logged_once() {
    let mut lab = Lab::new("tx-errors", &["nft"]);
    let server = "peer profile \"c\" {\n    peer_ipaddr 192.0.2.0/24\n}\n";
    let client = format!(
        "tunnel \"t1\" {{\n    version 3\n    peer {}\n    retry_timeout 1\n    \
         max_retries 8\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type eth\n}}\n",
        Family::V4.addr(Side::B)
    );
    nft(&lab, "add table inet block");
    nft(
        &lab,
        "add chain inet block out { type filter hook output priority 0 ; }",
    );
    nft(&lab, "add rule inet block out udp dport 1701 drop");
    let b = lab.start_l2tpd(Side::B, &Family::V4.sockaddr(Side::B, 1701), "", server);
    let a = lab.start_l2tpd(Side::A, &Family::V4.sockaddr(Side::A, 1701), "", &client);
    let errors = |lab: &Lab| {
        lab.ctl(&a, &["show", "system"])
            .map_or(0, |v| num(&v["statistics"], "tx_errors"))
    };
    // The SCCRQ and its first two retransmissions (after 1 s and 3 s) are refused.
    netns::poll(
        netns::SHORT,
        "side a: three sends refused",
        || (errors(&lab) >= 3).then_some(()),
        || lab.pair_context(&a, &b),
    );
    let peer = format!("sending to {}:1701", Family::V4.addr(Side::B));
    // (The debug lines of the tunnel's own socket, tried first, aside.)
    let warned = |logs: &str| {
        logs.lines()
            .filter(|l| l.contains(&peer) && !l.contains("debug:"))
            .count()
    };
    let logs = lab.l2tpd_logs(&a);
    assert_eq!(
        warned(&logs),
        1,
        "one line for {} failures\n{logs}",
        errors(&lab)
    );
    nft(&lab, "delete table inet block");
    let (t, _) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    assert_eq!(t["name"], "t1", "{t}");
    let logs = lab.l2tpd_logs(&a);
    let refused = errors(&lab);
    assert!(
        logs.contains(&format!(
            "{peer} works again ({} failure(s) since the last logged one)",
            refused - 1
        )),
        "{refused} refused\n{logs}"
    );
    assert!(refused >= 3, "{refused}");
}

/// Runs `nft ARGS` in side A's namespace.
fn nft(lab: &Lab, args: &str) {
    let argv: Vec<&str> = std::iter::once("nft")
        .chain(args.split_whitespace())
        .collect();
    let out = lab.run(Side::A, &argv, netns::SHORT);
    assert!(
        out.status.success(),
        "nft {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
