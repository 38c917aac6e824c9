//! Native PPP between two l2tpd on the userspace data plane: the LNS (side B: a pool, a
//! local user, CHAP, MRU 1400) and the client (side A), their configurations, and [`start`],
//! which brings PPP up at both ends under a capture of the underlay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use l2tp_testkit::tshark::Packet;
use serde_json::Value;

use super::{Capture, DEADLINE, L2tpd, Lab, SHORT, Side, num, poll};

/// The LNS's own address on every PPP link (not its tunnel address, 192.0.2.2).
pub const LNS_PPP: &str = "203.0.113.1";
/// The address the LNS gives the client (the only one in its pool).
pub const CLIENT_PPP: &str = "203.0.113.10";
/// The TUN every native-PPP session of a side shares.
pub const TUN: &str = "l2tpppp0";
/// The data plane of both sides, offloads on (the default).
pub const DP: &str = "    dataplane userspace\n";

/// The session of the L2TPv3 tests: an 8-octet cookie, the Default L2-Specific Sublayer and
/// sequencing.
pub const V3_SESSION: &str =
    "    cookie_length 8\n    l2spec_type default\n    data_sequencing all\n";
/// What tshark needs to decode [`V3_SESSION`]'s data (it does not take the pseudowire type
/// from the ICRQ).
pub const V3_TSHARK: [&str; 6] = [
    "-o",
    "l2tp.cookie_size:8 Byte Cookie",
    "-o",
    "l2tp.l2_specific:Default L2-Specific",
    "-d",
    "l2tp.pw_type==0,ppp",
];

/// The LNS: peers of 192.0.2.0/24 get PPP sessions terminated by l2tpd, CHAP-MD5 against the
/// local user `alice`, an address from the pool. `session` adds to the session profile, `ppp`
/// to the ppp profile.
pub fn lns_conf(version: u8, session: &str, ppp: &str) -> String {
    let encap = encap(version);
    let lac = if version == 2 {
        "    lac_lns lac\n"
    } else {
        ""
    };
    format!(
        "peer profile \"lacs\" {{\n    peer_ipaddr 192.0.2.0/24\n{lac}    tunnel_profile_name \"lns\"\n    \
         session_profile_name \"ppp-in\"\n    pseudowire_profile_name \"native\"\n}}\n\n\
         tunnel profile \"lns\" {{\n    version {version}\n{encap}}}\n\n\
         session profile \"ppp-in\" {{\n    pseudowire_type ppp\n{session}}}\n\n\
         pseudowire profile \"native\" {{\n    ppp_profile_name \"customers\"\n}}\n\n\
         ppp profile \"customers\" {{\n    auth_mschapv2 false\n    local_ip_addr {LNS_PPP}\n    \
         ip_pool_name \"pool\"\n    mru 1400\n    lcp_echo_interval 5\n    ipv6cp false\n{ppp}}}\n\n\
         ip pool \"pool\" {{\n    ranges {CLIENT_PPP}\n}}\n\n\
         user \"alice\" {{\n    password \"alice-chap-7731\"\n}}\n"
    )
}

/// L2TPv2 runs over UDP; the L2TPv3 pseudowire here over IP (UDP is L2TPv2's, and the
/// codec's unit tests have both).
pub fn encap(version: u8) -> &'static str {
    if version == 3 { "    encap ip\n" } else { "" }
}

/// The client: one tunnel and one PPP session to the LNS, PPP as user `alice`.
pub fn client_conf(version: u8, session: &str) -> String {
    let encap = encap(version);
    let kind = if version == 2 {
        "    session_type laic\n"
    } else {
        ""
    };
    format!(
        "tunnel \"t1\" {{\n    version {version}\n{encap}    peer 192.0.2.2\n    persist false\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type ppp\n{kind}{session}    \
         pseudowire_profile_name \"cli\"\n}}\n\n\
         pseudowire profile \"cli\" {{\n    ppp_profile_name \"cli\"\n}}\n\n\
         ppp profile \"cli\" {{\n    user_name \"alice\"\n    user_password \"alice-chap-7731\"\n    \
         mru 1400\n    ipv6cp false\n}}\n"
    )
}

pub struct Ppp {
    pub lab: Lab,
    pub a: L2tpd,
    pub b: L2tpd,
    /// (tid, sid) of each side's session.
    pub ids: [(String, String); 2],
}

impl Ppp {
    /// Ends `cap` and judges it with tshark (`prefs` added), asserting that it holds at least
    /// `at_least` ICMP packets carried by L2TP; its packets.
    pub fn judge_pings(&mut self, cap: &Capture, prefs: &[&str], at_least: usize) -> Vec<Packet> {
        let packets = self.lab.judge(cap, prefs);
        let icmp = packets
            .iter()
            .filter(|x| x.protocols.contains("l2tp:") && x.protocols.contains(":icmp"))
            .count();
        assert!(
            icmp >= at_least,
            "tshark saw {icmp} ICMP packets in L2TP, not {at_least}:\n{}",
            super::summary(&packets)
        );
        packets
    }

    pub fn context(&self) -> String {
        self.lab.pair_context(&self.a, &self.b)
    }

    pub fn daemon(&self, side: Side) -> &L2tpd {
        if side == Side::A { &self.a } else { &self.b }
    }

    /// `show session` of `side`'s session.
    pub fn detail(&self, side: Side) -> Value {
        let (tid, sid) = &self.ids[usize::from(side == Side::B)];
        self.lab
            .ctl(self.daemon(side), &["show", "session", tid, sid])
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()))
    }

    /// `ip ARGS` in `side`'s namespace; its output.
    pub fn ip(&self, side: Side, args: &[&str]) -> String {
        let mut argv = vec!["ip"];
        argv.extend_from_slice(args);
        let out = self.lab.run(side, &argv, SHORT);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Pings `target` from side A (from `source` when given) `count` times, for at most
    /// `deadline` seconds; whether replies came.
    pub fn ping(&self, target: &str, source: Option<&str>, count: u32, deadline: u32) -> bool {
        let (count, deadline) = (count.to_string(), deadline.to_string());
        let mut argv = vec![
            "ping", "-c", &count, "-i", "0.2", "-W", "2", "-w", &deadline,
        ];
        if let Some(s) = source {
            argv.extend_from_slice(&["-I", s]);
        }
        argv.push(target);
        let out = self.lab.run(Side::A, &argv, Duration::from_secs(20));
        println!("{}", String::from_utf8_lossy(&out.stdout));
        out.status.success()
    }

    /// `ping -M do|dont` (`df`) of IP packets of `size` octets (`header`: 28 for IPv4, 48 for
    /// IPv6) from side A to `target`, up to three, for at most `deadline` seconds; how many
    /// replies came, and ping's output.
    pub fn ping_size(
        &self,
        target: &str,
        (header, size): (usize, usize),
        df: bool,
        deadline: &str,
    ) -> (u32, String) {
        let payload = (size - header).to_string();
        let pmtu = if df { "do" } else { "dont" };
        let argv = [
            "ping", "-c", "3", "-i", "0.2", "-W", "2", "-w", deadline, "-M", pmtu, "-s", &payload,
            target,
        ];
        let out = self.lab.run(Side::A, &argv, Duration::from_secs(20));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // "3 packets transmitted, 2 received, ..."
        let received = text
            .split(", ")
            .find_map(|f| f.strip_suffix(" received")?.parse().ok())
            .unwrap_or(0);
        (received, text)
    }

    /// iperf3 TCP for 3 s from A to B's PPP address (`reverse`: B sends); Mbit/s received.
    pub fn iperf3(&self, reverse: bool) -> f64 {
        let args: &[&str] = if reverse {
            &["-t", "3", "-R"]
        } else {
            &["-t", "3"]
        };
        let (a, b) = (self.lab.ns(Side::A), self.lab.ns(Side::B));
        let report = l2tp_testkit::netns::iperf3(a, b, LNS_PPP, args)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()));
        l2tp_testkit::netns::received_mbps(&report)
    }

    /// Side `side`'s log, flushed.
    pub fn log(&self, side: Side) -> String {
        let d = self.daemon(side);
        let _ = self.lab.l2tpd_logs(d);
        let x = if side == Side::A { 'a' } else { 'b' };
        std::fs::read_to_string(self.lab.path(&format!("l2tpd-{x}.log"))).unwrap_or_default()
    }
}

/// Starts both daemons and waits until PPP is up at both ends with their addresses.
/// `dp` is the data-plane lines of both `system` blocks.
pub fn start(tag: &str, (version, dp): (u8, &str), session: &str, lns_ppp: &str) -> (Ppp, Capture) {
    let confs = [
        lns_conf(version, session, lns_ppp),
        client_conf(version, session),
    ];
    start_with(tag, dp, &confs)
}

/// tcpdump filter of the underlay: L2TP, and every IP fragment (a fragment after the first
/// has no UDP header for `udp port` to match).
pub const UNDERLAY_FILTER: &str = "udp port 1701 or ip proto 115 or (ip[6:2] & 0x3fff != 0)";

/// [`start`] with the configurations given: `[lns, client]`.
pub fn start_with(tag: &str, dp: &str, [lns, client]: &[String; 2]) -> (Ppp, Capture) {
    let mut lab = Lab::new(tag, &["iperf3"]);
    // Captured from the start, so that tshark sees the call's pseudowire type.
    let cap = lab.capture(Side::A, UNDERLAY_FILTER);
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, lns);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, client);
    let (_, sa) = lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let (_, sb) = lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    let ids = |s: &Value| (num(s, "tid").to_string(), num(s, "sid").to_string());
    let p = Ppp {
        ids: [ids(&sa), ids(&sb)],
        lab,
        a,
        b,
    };
    for side in [Side::A, Side::B] {
        poll(
            DEADLINE,
            &format!("side {side:?}: PPP up with an address"),
            || {
                let d = p.detail(side);
                (d["ppp"]["phase"] == "network"
                    && d["ppp"]["peer_ipv4"].is_string()
                    && d["interface_name"] == TUN)
                    .then_some(())
            },
            || format!("{}\n{}", p.detail(side), p.context()),
        );
    }
    (p, cap)
}
