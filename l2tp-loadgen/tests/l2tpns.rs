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
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use l2tp_testkit::daemon::{spawn_piped, wait_output_within};
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

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// What the tests need that is not there, if anything.
fn missing() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (network namespaces)".into());
    }
    for p in ["ip", "l2tpns", "freeradius", "tcpdump", "tshark"] {
        let found = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
            || Path::new("/usr/sbin").join(p).is_file();
        if !found {
            return Some(format!(
                "`{p}` is not installed (scripts/deps.sh: l2tpns freeradius iproute2 tcpdump \
                 tshark)"
            ));
        }
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun (l2tpns needs a TUN device)".into());
    }
    None
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A namespace with FreeRADIUS and l2tpns in it; stopped, deleted and removed on drop.
struct Lab {
    ns: String,
    dir: PathBuf,
    procs: Vec<(String, Child, PathBuf)>,
}

impl Lab {
    /// A lab whose l2tpns asks for `authtypes` (`chap`, `pap` or both, in its order), sends
    /// LCP Echo-Requests after `echo` seconds without traffic (at most one per 10 s: its
    /// ECHO_TIMEOUT) and drops a session that has sent nothing for `idle` seconds; `None`
    /// (skipped) when something is missing and `L2TP_REQUIRE_ALL` is not 1.
    fn start(tag: &str, authtypes: &str, echo: u32, idle: u32) -> Option<Lab> {
        if let Some(why) = missing() {
            assert!(
                std::env::var_os("L2TP_REQUIRE_ALL").is_none_or(|v| v != "1"),
                "cannot run: {why} (L2TP_REQUIRE_ALL=1)"
            );
            eprintln!("skipped: {why}");
            return None;
        }
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let ns = format!("lgppp-{pid}-{n}");
        let dir = std::env::temp_dir().join(format!("l2tp-loadgen-{pid}-{n}-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ip(&["netns", "add", &ns]);
        let mut lab = Lab {
            ns,
            dir,
            procs: Vec::new(),
        };
        ip(&["-n", &lab.ns, "link", "set", "lo", "up"]);
        for a in ["192.0.2.1/32", "192.0.2.2/32"] {
            ip(&["-n", &lab.ns, "addr", "add", a, "dev", "lo"]);
        }
        lab.start_freeradius();
        lab.start_l2tpns(authtypes, echo, idle);
        Some(lab)
    }

    /// Starts `argv` in the namespace, its output in `LABEL.log`.
    fn spawn(&mut self, label: &str, argv: &[&str]) {
        let log = self.dir.join(format!("{label}.log"));
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {argv:?}: {e}"));
        self.procs.push((label.into(), child, log));
    }

    /// Waits until `file` contains `needle`, while process `label` runs.
    fn wait_for(&mut self, label: &str, file: &Path, needle: &str) {
        let deadline = Instant::now() + READY;
        loop {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if text.contains(needle) {
                return;
            }
            let (_, child, _) = self.procs.iter_mut().find(|p| p.0 == label).unwrap();
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "{label} exited ({status}) before {needle:?}\n{}",
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} from {label}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// FreeRADIUS on 127.0.0.1 with `examples/radius` (its modules and policy), the client
    /// l2tpns (which sends no Message-Authenticator) and one user without an address of its
    /// own, so that l2tpns assigns from its pool.
    fn start_freeradius(&mut self) {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/radius");
        let conf = self.dir.join("radius");
        std::fs::create_dir_all(&conf).unwrap();
        for entry in std::fs::read_dir(&example).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), conf.join(entry.file_name())).unwrap();
            }
        }
        let main = conf.join("radiusd.conf");
        let text: String = std::fs::read_to_string(&main)
            .unwrap()
            .lines()
            .map(|line| {
                if line.starts_with("raddbdir = ") {
                    format!("raddbdir = {}\n", conf.display())
                } else if line.starts_with("listen_address = ") {
                    "listen_address = 127.0.0.1\n".into()
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        std::fs::write(&main, text).unwrap();
        std::fs::write(
            conf.join("clients.conf"),
            format!(
                "client l2tpns {{\n\tipaddr = 127.0.0.1\n\tsecret = \"{RADIUS_SECRET}\"\n\t\
                 require_message_authenticator = no\n\tnas_type = other\n}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            conf.join("users"),
            format!(
                "{USER}\tCleartext-Password := \"{PASSWORD}\"\n\t\tService-Type = Framed-User,\n\
                 \t\tFramed-Protocol = PPP\n"
            ),
        )
        .unwrap();
        for d in ["run", "log", "radacct"] {
            std::fs::create_dir_all(conf.join(d)).unwrap();
        }
        let conf_arg = conf.to_str().unwrap().to_owned();
        self.spawn("freeradius", &["freeradius", "-X", "-d", &conf_arg]);
        let log = self.dir.join("freeradius.log");
        self.wait_for("freeradius", &log, "Ready to process requests");
    }

    /// l2tpns on 192.0.2.1: its configuration directory bind-mounted over `/etc/l2tpns` in
    /// its own mount namespace (it reads `ip_pool` from there), a quick cluster election, one
    /// user logged in many times, and the address pool 198.51.100.0/24.
    fn start_l2tpns(&mut self, authtypes: &str, echo: u32, idle: u32) {
        let etc = self.dir.join("l2tpns");
        std::fs::create_dir_all(&etc).unwrap();
        let log = self.dir.join("l2tpns-own.log");
        let config = format!(
            "set debug 3\n\
             set log_file \"{}\"\n\
             set pid_file \"{}\"\n\
             set bind_address 192.0.2.1\n\
             set primary_dns 198.51.100.53\n\
             set primary_radius 127.0.0.1\n\
             set radius_secret \"{RADIUS_SECRET}\"\n\
             set radius_accounting no\n\
             set radius_authtypes \"{authtypes}\"\n\
             set cli_bind_address 127.0.0.1\n\
             set cluster_interface lo\n\
             set cluster_hb_interval 2\n\
             set cluster_hb_timeout 10\n\
             set tundevicename tun0\n\
             set allow_duplicate_users yes\n\
             set echo_timeout {echo}\n\
             set ppp_keepalive no\n\
             set idle_echo_timeout {idle}\n",
            log.display(),
            self.dir.join("l2tpns.pid").display(),
        );
        std::fs::write(etc.join("startup-config"), config).unwrap();
        std::fs::write(etc.join("ip_pool"), "198.51.100.0/24\n").unwrap();
        std::fs::write(etc.join("users"), "").unwrap();
        // l2tpns signals its whole process group when it stops: it gets its own (setsid).
        let script = format!(
            "mkdir -p /etc/l2tpns && mount --bind {} /etc/l2tpns && \
             exec l2tpns -c /etc/l2tpns/startup-config",
            etc.display()
        );
        self.spawn("l2tpns", &["setsid", "sh", "-c", &script]);
        self.wait_for("l2tpns", &log, "I am declaring myself the master");
    }

    /// Starts tcpdump on the loopback for L2TP (UDP port 1701); returns the capture's path.
    fn capture(&mut self) -> PathBuf {
        let path = self.dir.join("l2tp.pcap");
        let p = path.to_str().unwrap().to_owned();
        self.spawn(
            "tcpdump",
            &[
                "tcpdump",
                "--immediate-mode",
                // 32 MiB: the set-up is a burst that a busy machine must not drop.
                "-B",
                "32768",
                "-n",
                "-U",
                "-s",
                "0",
                "-i",
                "lo",
                "-w",
                &p,
                "udp port 1701",
            ],
        );
        let log = self.dir.join("tcpdump.log");
        self.wait_for("tcpdump", &log, "listening on");
        path
    }

    /// Stops process `label` (SIGINT, bounded wait, then SIGKILL).
    fn stop(&mut self, label: &str) {
        let (_, child, _) = self.procs.iter_mut().find(|p| p.0 == label).unwrap();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Runs `l2tp-loadgen --peer 192.0.2.1 --local 192.0.2.2 ARGS --json` in the namespace
    /// and returns its exit status and report.
    fn loadgen(&self, args: &[&str]) -> (Option<i32>, Value) {
        let child = spawn_piped(
            Command::new("ip")
                .args(["netns", "exec", &self.ns])
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

    /// The addresses l2tpns says it gave, one per login (`Login by USER at ADDR from ...`).
    fn logins(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("l2tpns-own.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| l.split_once(&format!("Login by {USER} at ")))
            .filter_map(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
            .collect()
    }

    /// The tail of every log.
    fn logs(&self) -> String {
        let mut s = String::new();
        for name in ["freeradius.log", "l2tpns.log", "l2tpns-own.log"] {
            let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            s.push_str(&format!("---- {name}\n{tail}\n"));
        }
        s
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, child, _) in self.procs.iter_mut().rev() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        if std::thread::panicking() {
            eprintln!("lab kept in {}\n{}", self.dir.display(), self.logs());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
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
    let log = std::fs::read_to_string(lab.dir.join("l2tpns-own.log")).unwrap();
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
    let pcap = lab.capture();
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
    std::thread::sleep(Duration::from_millis(300));
    lab.stop("tcpdump");
    let problems = l2tp_testkit::captures::problems(&pcap, &[]).expect("tshark");
    assert!(problems.is_empty(), "{problems:?}");
    let ours = "ip.src == 192.0.2.2 && l2tp.type == 0";
    let lcp = tshark_fields(
        &pcap,
        &format!("{ours} && lcp && ppp.code == 1"),
        "l2tp.session",
    );
    let lcp: BTreeSet<&String> = lcp.iter().collect();
    assert_eq!(
        lcp.len(),
        20,
        "LCP Configure-Requests in {} sessions",
        lcp.len()
    );
    let peer_ids = tshark_fields(&pcap, &format!("{ours} && pap.code == 1"), "pap.peer_id");
    assert!(peer_ids.len() >= 20, "{peer_ids:?}");
    assert!(peer_ids.iter().all(|p| p == USER), "{peer_ids:?}");
    let ipcp = tshark_fields(
        &pcap,
        &format!("{ours} && ipcp && ppp.code == 1"),
        "l2tp.session",
    );
    let ipcp: BTreeSet<&String> = ipcp.iter().collect();
    assert_eq!(
        ipcp.len(),
        20,
        "IPCP Configure-Requests in {} sessions",
        ipcp.len()
    );
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
    let radius = std::fs::read_to_string(lab.dir.join("freeradius.log")).unwrap();
    assert!(radius.contains("Access-Reject"), "{}", lab.logs());
}
