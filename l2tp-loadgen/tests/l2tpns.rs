//! `l2tp-loadgen --ppp` against a real LNS with its own userspace PPP: l2tpns (Debian package
//! `l2tpns`), which authenticates every session with RADIUS (FreeRADIUS, with the
//! configuration of `examples/radius` and a user of its own) and assigns addresses from its
//! pool. Each lab is a network namespace (`lgppp-PID-N`) with only a loopback interface:
//! l2tpns on 192.0.2.1 with a TUN device, FreeRADIUS on 127.0.0.1, and the load generator
//! sending from 192.0.2.2.
//!
//! The PAP test captures the exchange with tcpdump and has tshark check what the load
//! generator sent: PPP in L2TPv2 data messages, decoded without a malformed packet.
//!
//! These tests need root, `ip`, `l2tpns`, `freeradius`, `tcpdump` and `tshark`
//! (`scripts/deps.sh`); without them
//! they are skipped, except with `L2TP_REQUIRE_ALL=1` (as CI runs them), where they fail. A
//! failed test keeps its directory (configurations and logs) and prints the logs' tails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use l2tp_testkit::daemon::{spawn_piped, wait_output_within};
use l2tp_testkit::lab::{NsLab, ProcId};
use l2tp_testkit::{freeradius, l2tpns};
use serde_json::Value;

/// The RADIUS secret between l2tpns and FreeRADIUS.
const RADIUS_SECRET: &str = "lgppp-radius-secret";
/// The user every session logs in as, and its password.
const USER: &str = "load";
const PASSWORD: &str = "load-password";
/// The longest wait for a daemon to be ready.
const READY: Duration = Duration::from_secs(30);
/// The longest a load generator run may take.
const RUN: Duration = Duration::from_secs(90);

/// What the tests need that is not there, if anything.
fn missing() -> Option<String> {
    l2tp_testkit::lab::missing(
        &["ip", "l2tpns", "freeradius", "tcpdump", "tshark"],
        "scripts/deps.sh: l2tpns freeradius iproute2 tcpdump tshark",
    )
    .or_else(|| {
        (!Path::new(l2tpns::TUN).exists())
            .then(|| "no /dev/net/tun (l2tpns needs a TUN device)".into())
    })
}

/// A namespace with FreeRADIUS and l2tpns in it; stopped, deleted and removed on drop.
struct Lab {
    lab: NsLab,
    /// l2tpns's own log.
    l2tpns_log: PathBuf,
}

impl Lab {
    /// A lab whose l2tpns asks for `authtypes` (`chap`, `pap` or both, in its order), sends
    /// LCP Echo-Requests after `echo` seconds without traffic (at most one per 10 s: its
    /// ECHO_TIMEOUT) and drops a session that has sent nothing for `idle` seconds; `None`
    /// (skipped) when something is missing and `L2TP_REQUIRE_ALL` is not 1.
    fn start(tag: &str, authtypes: &str, echo: u32, idle: u32) -> Option<Lab> {
        if l2tp_testkit::lab::skip(missing()) {
            return None;
        }
        let mut lab = NsLab::new("lgppp", tag);
        for a in ["192.0.2.1/32", "192.0.2.2/32"] {
            lab.add_address(a);
        }
        // FreeRADIUS on 127.0.0.1 with l2tpns as its client and one user.
        let conf = lab.dir.join("radius");
        l2tpns::configure_freeradius(&conf, RADIUS_SECRET, USER, PASSWORD);
        let p = lab.spawn("freeradius", &freeradius::argv(&conf));
        lab.wait_log(p, freeradius::READY, READY);
        // l2tpns on 192.0.2.1: one user logged in many times, the pool 198.51.100.0/24.
        let extra = format!(
            "set allow_duplicate_users yes\n\
             set echo_timeout {echo}\n\
             set ppp_keepalive no\n\
             set idle_echo_timeout {idle}\n"
        );
        let l2tpns = l2tpns::prepare(
            &lab.dir,
            &l2tpns::Config {
                bind_address: "192.0.2.1",
                radius_secret: RADIUS_SECRET,
                authtypes,
                pool: "198.51.100.0/24",
                extra: &extra,
            },
        );
        let p = lab.spawn("l2tpns", &l2tpns.argv);
        lab.show_log("l2tpns-own", &l2tpns.log);
        lab.wait_file(p, &l2tpns.log, l2tpns::MASTER, READY);
        Some(Lab {
            lab,
            l2tpns_log: l2tpns.log,
        })
    }

    /// Starts tcpdump on the loopback for L2TP (UDP port 1701); returns it and the
    /// capture's path.
    fn capture(&mut self) -> (ProcId, PathBuf) {
        let path = self.lab.dir.join("l2tp.pcap");
        // 32 MiB: the set-up is a burst that a busy machine must not drop.
        let p = self
            .lab
            .tcpdump("lo", &path, "udp port 1701", &["-B", "32768"]);
        (p, path)
    }

    /// Runs `l2tp-loadgen --peer 192.0.2.1 --local 192.0.2.2 ARGS --json` in the namespace
    /// and returns its exit status and report.
    fn loadgen(&self, args: &[&str]) -> (Option<i32>, Value) {
        let child = spawn_piped(
            Command::new("ip")
                .args(["netns", "exec", &self.lab.ns])
                .arg(env!("CARGO_BIN_EXE_l2tp-loadgen"))
                .args(["--peer", "192.0.2.1", "--local", "192.0.2.2"])
                .args(args)
                .arg("--json"),
        );
        let out = wait_output_within(child, RUN);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            )
        });
        (out.status.code(), report)
    }

    /// l2tpns's own log.
    fn l2tpns_text(&self) -> String {
        std::fs::read_to_string(&self.l2tpns_log).unwrap_or_default()
    }

    /// The addresses l2tpns says it gave, one per login.
    fn logins(&self) -> Vec<String> {
        l2tpns::logins(&self.l2tpns_text(), USER)
    }

    /// The tail of every log.
    fn logs(&self) -> String {
        self.lab.logs()
    }
}

/// The PPP part of a report.
fn ppp(r: &Value) -> &Value {
    assert!(r["ppp"].is_object(), "no PPP figures: {r}");
    &r["ppp"]
}

/// 4 tunnels × 25 sessions with CHAP, held for 14 s while l2tpns sends echoes (after 1 s of
/// silence, then every 10 s) and drops sessions silent for 12 s: every session comes up with
/// an address of its own (as l2tpns's log lists them too), answers the echoes and stays up
/// until the teardown.
#[test]
fn chap_sessions_each_get_a_distinct_address_and_answer_echoes() {
    let Some(lab) = Lab::start("chap", "chap", 1, 12) else {
        return;
    };
    let (status, r) = lab.loadgen(&[
        "--version",
        "2",
        "--tunnels",
        "4",
        "--sessions",
        "25",
        "--ppp",
        "--user",
        USER,
        "--password",
        PASSWORD,
        "--auth",
        "chap",
        "--hold",
        "14",
    ]);
    let p = ppp(&r);
    assert_eq!(status, Some(0), "{r}\n{}", lab.logs());
    assert_eq!(r["sessions_up"], 100, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    assert_eq!(p["auth"], "chap-md5", "{r}");
    assert_eq!(p["sessions_up"], 100, "{r}");
    assert_eq!(p["sessions_failed"], 0, "{r}");
    assert_eq!(p["sessions_lost"], 0, "{r}");
    assert_eq!(p["addresses"], 100, "{r}");
    assert_eq!(p["duplicate_addresses"], 0, "{r}");
    assert!(p["sessions_per_s"].as_f64().unwrap() > 0.0, "{r}");
    assert!(p["setup_ms"]["max"].as_f64().unwrap() > 0.0, "{r}");
    // Echoes came and were answered: no session was dropped for want of an answer.
    assert!(
        p["echo_requests_answered"].as_u64().unwrap() >= 100,
        "{r}\n{}",
        lab.logs()
    );
    let log = lab.l2tpns_text();
    assert!(!log.contains("No response to LCP ECHO"), "{}", lab.logs());
    assert_eq!(r["teardown_sessions"], 100, "{r}");
    // l2tpns's own account: 100 logins, at 100 distinct addresses of its pool.
    let logins = lab.logins();
    assert_eq!(logins.len(), 100, "{logins:?}\n{}", lab.logs());
    let distinct: BTreeSet<&String> = logins.iter().collect();
    assert_eq!(distinct.len(), 100, "{logins:?}");
    assert!(
        logins.iter().all(|a| a.starts_with("198.51.100.")),
        "{logins:?}"
    );
}

/// PAP, with l2tpns asking for CHAP first: the client, which takes PAP only, Naks toward it
/// (RFC 1661 §6.2) and every session comes up.
#[test]
fn pap_sessions_come_up_after_a_nak_toward_pap() {
    let Some(mut lab) = Lab::start("pap", "chap,pap", 10, 240) else {
        return;
    };
    let (tcpdump, pcap) = lab.capture();
    let (status, r) = lab.loadgen(&[
        "--version",
        "2",
        "--tunnels",
        "2",
        "--sessions",
        "10",
        "--ppp",
        "--user",
        USER,
        "--password",
        PASSWORD,
        "--auth",
        "pap",
    ]);
    let p = ppp(&r);
    assert_eq!(status, Some(0), "{r}\n{}", lab.logs());
    assert_eq!(p["auth"], "pap", "{r}");
    assert_eq!(p["sessions_up"], 20, "{r}");
    assert_eq!(p["addresses"], 20, "{r}");
    assert_eq!(lab.logins().len(), 20, "{}", lab.logs());
    // tshark's view of what the load generator sent: for each session an LCP
    // Configure-Request, a PAP Authenticate-Request with the user name and an IPCP
    // Configure-Request, in L2TPv2 data messages; nothing malformed.
    lab.lab.end_capture(tcpdump);
    // What tcpdump itself missed (it says so) may lack from the counts below.
    let dropped = lab.lab.capture_dropped(tcpdump);
    let seen = |n: usize| n <= 20 && n + dropped >= 20;
    let problems = l2tp_testkit::captures::problems(&pcap, &[]).expect("tshark");
    assert!(problems.is_empty(), "{problems:?}");
    let ours = "ip.src == 192.0.2.2 && l2tp.type == 0";
    // Each session sent a Configure-Request of `protocol` (tshark's name `filter`).
    let configure_requests = |protocol: &str, filter: &str| {
        let filter = format!("{ours} && {filter} && ppp.code == 1");
        let sessions = tshark_fields(&pcap, &filter, "l2tp.session");
        let sessions: BTreeSet<&String> = sessions.iter().collect();
        assert!(
            seen(sessions.len()),
            "{protocol} Configure-Requests in {} sessions ({dropped} packets dropped by tcpdump)",
            sessions.len()
        );
    };
    configure_requests("LCP", "lcp");
    let peer_ids = tshark_fields(&pcap, &format!("{ours} && pap.code == 1"), "pap.peer_id");
    assert!(
        peer_ids.len() + dropped >= 20,
        "{dropped} dropped: {peer_ids:?}"
    );
    assert!(peer_ids.iter().all(|p| p == USER), "{peer_ids:?}");
    configure_requests("IPCP", "ipcp");
    l2tp_testkit::captures::keep("l2tp-loadgen-ppp-l2tpns", &pcap).unwrap();
}

/// `tshark -r PCAP -Y FILTER -T fields -e FIELD`: one line per matching packet.
fn tshark_fields(pcap: &Path, filter: &str, field: &str) -> Vec<String> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", field])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A wrong password: RADIUS rejects it, l2tpns closes each session, and every one is reported
/// as failed at the PPP level with an authentication reason; the run exits with 1.
#[test]
fn a_wrong_password_fails_with_an_authentication_reason() {
    let Some(lab) = Lab::start("wrong", "chap", 10, 240) else {
        return;
    };
    let (status, r) = lab.loadgen(&[
        "--version",
        "2",
        "--tunnels",
        "2",
        "--sessions",
        "5",
        "--ppp",
        "--user",
        USER,
        "--password",
        "not-the-password",
        "--timeout",
        "20",
    ]);
    let p = ppp(&r);
    assert_eq!(status, Some(1), "{r}");
    assert_eq!(r["sessions_up"], 10, "the L2TP sessions came up: {r}");
    assert_eq!(p["sessions_up"], 0, "{r}");
    assert_eq!(p["sessions_failed"], 10, "{r}");
    assert_eq!(p["addresses"], 0, "{r}");
    assert_eq!(r["failed"], 10, "counted once, at the PPP level: {r}");
    let reasons = r["failure_reasons"].as_object().unwrap();
    let auth: u64 = reasons
        .iter()
        .filter(|(k, _)| k.starts_with("ppp: authentication failed"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(auth, 10, "{r}");
    assert!(lab.logins().is_empty(), "{}", lab.logs());
    let radius = std::fs::read_to_string(lab.lab.dir.join("freeradius.log")).unwrap();
    assert!(radius.contains("Access-Reject"), "{}", lab.logs());
}
