//! l2tpd's native PPP as the client of a real LNS with its own userspace PPP: l2tpns (Debian
//! package `l2tpns`), which authenticates every session with RADIUS (FreeRADIUS, with the
//! modules and policy of `examples/radius` and a user of its own) and gives addresses from its
//! pool.
//!
//! The lab is a pair of network namespaces joined by a veth (`netns/mod.rs`): side A runs
//! l2tpd on the userspace data plane, which places an L2TPv2 call to 192.0.2.2 with a `ppp
//! profile` holding a user name and password; side B runs l2tpns on 192.0.2.2 (its TUN
//! `tun0`), FreeRADIUS on 127.0.0.1, and holds 203.0.113.1, the address l2tpns gives as its
//! own end of every PPP link (`peer_address`).
//!
//! - CHAP, and PAP: PPP comes up, l2tpd's session shows the address that l2tpns says it gave
//!   (its log's `Login by USER at ADDR`) and l2tpns's end as the peer, l2tpd logs `PPP up`
//!   and counts it; pings cross the PPP session both ways (from A to l2tpns's end, and from
//!   B to the address l2tpns gave, through l2tpns's TUN and route); l2tpd answers l2tpns's
//!   LCP Echo-Requests; tshark decodes the L2TP and PPP on the veth, ICMP inside, without a
//!   malformed packet.
//! - A wrong password: FreeRADIUS rejects it, l2tpns refuses the login, and l2tpd's client
//!   logs the refusal, counts it under `show system`'s `ppp_down`, and the session ends.
//!
//! Needs root, `ip`, `tcpdump`, `tshark`, `l2tpns`, `freeradius` and `/dev/net/tun`
//! (`scripts/deps.sh`); fails, rather than skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::path::PathBuf;
use std::time::Duration;

use l2tp_testkit::{freeradius, l2tpns};
use netns::{Capture, DEADLINE, L2TP_FILTER, L2tpd, Lab, SHORT, Side, num, poll};
use serde_json::Value;

/// The RADIUS secret between l2tpns and FreeRADIUS.
const RADIUS_SECRET: &str = "l2tpns-radius-secret";
/// The user FreeRADIUS knows, and its password.
const USER: &str = "native";
const PASSWORD: &str = "native-password-4417";
/// l2tpns's own end of every PPP link (its `peer_address`), an address of side B.
const LNS_PPP: &str = "203.0.113.1";
/// l2tpns's address pool.
const POOL: &str = "198.51.100.0/24";
/// The shared TUN of l2tpd's userspace PPP.
const TUN: &str = "l2tpppp0";

/// A lab with FreeRADIUS and l2tpns in side B and l2tpd, the client, in side A.
struct Client {
    lab: Lab,
    l2tpd: L2tpd,
    /// l2tpns's own log (`log_file`).
    l2tpns_log: PathBuf,
}

impl Client {
    /// Starts FreeRADIUS and l2tpns asking for `authtypes` (`chap` or `pap`), then l2tpd
    /// placing one call as `USER` with `password`, capturing the veth from the start.
    fn start(tag: &str, authtypes: &str, password: &str) -> (Client, Capture) {
        let mut lab = Lab::new(tag, &["l2tpns", "freeradius", "ping"]);
        assert!(
            std::path::Path::new(l2tpns::TUN).exists(),
            "no /dev/net/tun (l2tpns and l2tpd's userspace PPP need a TUN device)"
        );
        let ns_b = lab.ns(Side::B).to_owned();
        netns::ip(&[
            "-n",
            &ns_b,
            "addr",
            "add",
            &format!("{LNS_PPP}/32"),
            "dev",
            "lo",
        ]);
        start_freeradius(&mut lab);
        let l2tpns_log = start_l2tpns(&mut lab, authtypes);
        let cap = lab.capture(Side::A, L2TP_FILTER);
        let l2tpd = lab.start_l2tpd(
            Side::A,
            "192.0.2.1:1701",
            "    dataplane userspace\n",
            &client_conf(password),
        );
        (
            Client {
                lab,
                l2tpd,
                l2tpns_log,
            },
            cap,
        )
    }

    /// l2tpd's state and log, and the tails of FreeRADIUS's and l2tpns's logs.
    fn context(&self) -> String {
        format!(
            "sessions {:?}\n{}\n--- l2tpns ({})\n{}\n{}",
            self.lab.ctl(&self.l2tpd, &["show", "sessions"]),
            self.lab.l2tpd_logs(&self.l2tpd),
            self.l2tpns_log.display(),
            netns::tail(&self.l2tpns_text(), 40),
            self.lab.logs_summary()
        )
    }

    fn l2tpns_text(&self) -> String {
        std::fs::read_to_string(&self.l2tpns_log).unwrap_or_default()
    }

    /// The addresses l2tpns says it gave (`Login by USER at ADDR from ...`).
    fn logins(&self) -> Vec<String> {
        l2tpns::logins(&self.l2tpns_text(), USER)
    }

    /// l2tpd's log, flushed.
    fn log(&self) -> String {
        let _ = self.lab.l2tpd_logs(&self.l2tpd);
        std::fs::read_to_string(&self.l2tpd.log).unwrap_or_default()
    }

    /// `show session` of the only session.
    fn detail(&self, (tid, sid): (&str, &str)) -> Value {
        self.lab
            .ctl(&self.l2tpd, &["show", "session", tid, sid])
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()))
    }

    /// Pings `target` from `side` (from `source` when given) three times; whether replies
    /// came.
    fn ping(&self, side: Side, source: Option<&str>, target: &str) -> bool {
        let mut argv = vec!["ping", "-c", "3", "-i", "0.2", "-W", "2", "-w", "10"];
        if let Some(s) = source {
            argv.extend_from_slice(&["-I", s]);
        }
        argv.push(target);
        let out = self.lab.run(side, &argv, Duration::from_secs(20));
        println!("{}", String::from_utf8_lossy(&out.stdout));
        out.status.success()
    }
}

/// The client: one tunnel to l2tpns and one PPP session in it, PPP as `USER`.
fn client_conf(password: &str) -> String {
    format!(
        "tunnel \"t1\" {{\n    version 2\n    peer 192.0.2.2\n    persist false\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type ppp\n    session_type laic\n    \
         pseudowire_profile_name \"cli\"\n}}\n\n\
         pseudowire profile \"cli\" {{\n    ppp_profile_name \"cli\"\n}}\n\n\
         ppp profile \"cli\" {{\n    user_name \"{USER}\"\n    user_password \"{password}\"\n    \
         ipv6cp false\n}}\n"
    )
}

/// FreeRADIUS on 127.0.0.1 of side B with `examples/radius` (its modules and policy), the
/// client l2tpns and one user without an address of its own, so that l2tpns gives one from
/// its pool.
fn start_freeradius(lab: &mut Lab) {
    let conf = lab.path("radius");
    l2tpns::configure_freeradius(&conf, RADIUS_SECRET, USER, PASSWORD);
    let argv = freeradius::argv(&conf);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let p = lab.spawn(Side::B, "freeradius", &argv);
    lab.wait_log(p, freeradius::READY, DEADLINE);
}

/// l2tpns on 192.0.2.2 in side B (see `l2tp_testkit::l2tpns`): `LNS_PPP` as its end of
/// every link, the pool `POOL`, and LCP Echo-Requests after a second without traffic (then
/// at most one per 10 s). Returns its log's path once it is the master (and so takes calls).
fn start_l2tpns(lab: &mut Lab, authtypes: &str) -> PathBuf {
    let extra = format!("set peer_address {LNS_PPP}\nset echo_timeout 1\n");
    let l2tpns = l2tpns::prepare(
        &lab.dir,
        &l2tpns::Config {
            bind_address: "192.0.2.2",
            radius_secret: RADIUS_SECRET,
            authtypes,
            pool: POOL,
            extra: &extra,
        },
    );
    let log = l2tpns.log;
    let argv: Vec<&str> = l2tpns.argv.iter().map(String::as_str).collect();
    let p = lab.spawn(Side::B, "l2tpns", &argv);
    poll(
        DEADLINE,
        "l2tpns declaring itself the master",
        || {
            if let Some(status) = lab.exited(p) {
                panic!("l2tpns exited ({status})\n{}", lab.logs_summary());
            }
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains(l2tpns::MASTER)
                .then_some(())
        },
        || std::fs::read_to_string(&log).unwrap_or_default(),
    );
    log
}

/// Waits until PPP is up with an address; returns the session's (tid, sid) and the address.
fn wait_ppp_up(c: &Client) -> ((String, String), String) {
    let (_, s) = c.lab.wait_one_up(&c.l2tpd, || c.context());
    let ids = (num(&s, "tid").to_string(), num(&s, "sid").to_string());
    let d = poll(
        DEADLINE,
        "PPP up with an address from l2tpns",
        || {
            let d = c.detail((&ids.0, &ids.1));
            (d["ppp"]["phase"] == "network" && d["ppp"]["local_ipv4"].is_string()).then_some(d)
        },
        || format!("{}\n{}", c.detail((&ids.0, &ids.1)), c.context()),
    );
    let addr = d["ppp"]["local_ipv4"].as_str().unwrap().to_owned();
    (ids, addr)
}

/// PPP up with `authtypes`, pings both ways, and tshark's view of the veth.
fn comes_up_and_carries_ping(tag: &str, authtypes: &str, auth_shown: &str) {
    let (mut c, cap) = Client::start(tag, authtypes, PASSWORD);
    let (ids, addr) = wait_ppp_up(&c);
    let d = c.detail((&ids.0, &ids.1));
    assert_eq!(d["ppp"]["role"], "client", "{d}");
    assert_eq!(d["ppp"]["auth"], auth_shown, "{d}");
    assert_eq!(d["ppp"]["peer_ipv4"], LNS_PPP, "{d}");
    assert_eq!(d["interface_name"], TUN, "{d}");
    // The address is the one l2tpns says it gave, from its pool.
    let logins = poll(
        SHORT,
        "l2tpns logging the login",
        || Some(c.logins()).filter(|l| !l.is_empty()),
        || c.context(),
    );
    assert_eq!(logins, vec![addr.clone()], "{}", c.context());
    assert!(addr.starts_with("198.51.100."), "{addr}");
    // l2tpd's TUN holds it, with a host route to l2tpns's end.
    let ip = |args: &[&str]| {
        let mut argv = vec!["ip"];
        argv.extend_from_slice(args);
        String::from_utf8_lossy(&c.lab.run(Side::A, &argv, SHORT).stdout).into_owned()
    };
    let tun_addr = ip(&["-4", "addr", "show", "dev", TUN]);
    assert!(tun_addr.contains(&format!("inet {addr}/32")), "{tun_addr}");
    let routes = ip(&["-4", "route", "show", "dev", TUN]);
    assert!(
        routes
            .lines()
            .any(|l| l.starts_with(LNS_PPP) && l.contains(&format!("src {addr}"))),
        "{routes}"
    );
    // `show sessions` names l2tpns's end of the link.
    let rows = c.lab.list(&c.l2tpd, "sessions");
    assert_eq!(rows[0]["ppp_ipv4"], LNS_PPP, "{rows:?}");
    // The log line and the counter.
    poll(
        SHORT,
        "l2tpd logging PPP up",
        || {
            c.log()
                .lines()
                .any(|l| l.contains("PPP up") && l.contains(&format!("peer {LNS_PPP}")))
                .then_some(())
        },
        || c.context(),
    );
    let sys = c.lab.ctl(&c.l2tpd, &["show", "system"]).unwrap();
    assert_eq!(sys["statistics"]["ppp_up"], 1, "{sys}");

    // Across the PPP session: to l2tpns's end, and back from it to the address l2tpns gave
    // (from that end: the default source there would be l2tpns's tunnel address, whose
    // replies take the veth).
    assert!(
        c.ping(Side::A, None, LNS_PPP),
        "no ping reply from l2tpns's end\n{}",
        c.context()
    );
    assert!(
        c.ping(Side::B, Some(LNS_PPP), &addr),
        "no ping reply from l2tpd's end\n{}",
        c.context()
    );
    let st = &c.detail((&ids.0, &ids.1))["stats"];
    assert!(
        num(st, "rx_packets") >= 6 && num(st, "tx_packets") >= 6,
        "{st}"
    );

    // l2tpns sends an LCP Echo-Request once the link has been quiet for a second (before the
    // pings, or after them), which l2tpd answers.
    poll(
        SHORT,
        "an LCP Echo-Reply from l2tpd to l2tpns",
        || (echo_replies(&cap.path) > 0).then_some(()),
        || c.context(),
    );
    assert!(
        !c.l2tpns_text().contains("No response to LCP ECHO"),
        "{}",
        c.context()
    );

    // tshark: L2TP carrying PPP carrying the pings, nothing malformed.
    std::thread::sleep(Duration::from_millis(300));
    let packets = c.lab.judge(&cap, &[]);
    let icmp = packets
        .iter()
        .filter(|x| x.protocols.contains("l2tp:") && x.protocols.contains(":icmp"))
        .count();
    assert!(
        icmp >= 12,
        "tshark saw {icmp} ICMP-in-PPP-in-L2TP packets:\n{}",
        netns::summary(&packets)
    );
    assert!(
        packets
            .iter()
            .any(|x| x.protocols.contains("l2tp:") && x.protocols.contains(auth_shown)),
        "no {auth_shown} in the capture:\n{}",
        netns::summary(&packets)
    );
}

/// LCP Echo-Replies (code 10) from l2tpd in the capture so far.
fn echo_replies(pcap: &std::path::Path) -> usize {
    let out = netns::run_bounded(
        std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(pcap)
            .args(["-Y", "ip.src == 192.0.2.1 && lcp && ppp.code == 10"]),
        SHORT,
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn chap_comes_up_and_carries_ping_both_ways() {
    comes_up_and_carries_ping("l2tpns-chap", "chap", "chap");
}

#[test]
fn pap_comes_up_and_carries_ping_both_ways() {
    comes_up_and_carries_ping("l2tpns-pap", "pap", "pap");
}

/// A wrong password: RADIUS rejects it and l2tpns refuses the login with a CDN right after
/// l2tpd's CHAP Response (no CHAP Failure). l2tpd's client logs the refusal as such, counts it
/// under `ppp_down` as `auth_no_verdict`, and the session ends (its instance tries again
/// later, with back-off).
#[test]
fn a_wrong_password_is_refused_and_the_session_ends() {
    let (c, _cap) = Client::start("l2tpns-wrong", "chap", "not-the-password");
    let refusal = "the lower layer went down before the peer's verdict on our credentials";
    let ids = poll(
        DEADLINE,
        "l2tpd logging the refusal",
        || {
            c.log().lines().find_map(|l| {
                let rest = l.split_once("session ")?.1;
                let (ids, why) = rest.split_once(&format!(": PPP down (user \"{USER}\"): "))?;
                (why == refusal).then(|| ids.to_owned())
            })
        },
        || c.context(),
    );
    let sid: u64 = ids.split_once('/').unwrap().1.parse().unwrap();
    poll(
        DEADLINE,
        "the refused session ending",
        || {
            let said = c
                .log()
                .contains(&format!("session {ids} \"s1\": down (peer"));
            let gone = !c
                .lab
                .list(&c.l2tpd, "sessions")
                .iter()
                .any(|r| r["sid"].as_u64() == Some(sid));
            (said && gone).then_some(())
        },
        || c.context(),
    );
    let sys = c.lab.ctl(&c.l2tpd, &["show", "system"]).unwrap();
    let st = &sys["statistics"];
    assert_eq!(st["ppp_up"], 0, "{sys}");
    assert!(
        st["ppp_down"]["auth_no_verdict"].as_u64() >= Some(1),
        "{sys}"
    );
    assert!(c.logins().is_empty(), "{}", c.context());
    let radius = std::fs::read_to_string(c.lab.path("freeradius.log")).unwrap();
    assert!(radius.contains("Access-Reject"), "{}", c.context());
}
