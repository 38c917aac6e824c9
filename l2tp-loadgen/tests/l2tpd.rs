//! `l2tp-loadgen` against a real `l2tpd` (LNS, data plane `none`) on 127.0.0.1.
//!
//! `l2tpd` is `$L2TPD_BIN`, else the one beside `l2tp-loadgen` in the same target directory,
//! built first with `cargo build -p l2tpd` for that profile and target directory (if that
//! build fails, an `l2tpd` already there is used). Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use l2tp_ctl::Request;
use l2tp_testkit::daemon::{
    Env, free_port, l2tpd_beside, spawn_piped, wait_output_within as wait_output,
};
use serde_json::Value;

/// The longest wait for the LNS to reach a state.
const WAIT: Duration = Duration::from_secs(20);

fn loadgen() -> &'static str {
    env!("CARGO_BIN_EXE_l2tp-loadgen")
}

/// A running `l2tpd -f` as LNS, with its files in a temporary directory; killed on drop.
/// It runs with `dataplane none`, the built-in permissive default peer profile, and `rest`
/// after the system block.
fn start_lns(name: &str, rest: &str) -> Env {
    Env::started(l2tpd_beside(loadgen()), name, "    dataplane none\n", rest)
}

/// What these tests ask of the LNS.
trait Lns {
    /// What `l2tp-loadgen` is to connect to.
    fn peer(&self) -> String;
    /// `show system` as JSON, if the daemon answers.
    fn try_system(&self) -> Option<Value>;
    fn system(&self) -> Value {
        self.try_system().expect("show system")
    }
    /// Waits (bounded) until `show system` satisfies `f`.
    fn wait_system(&self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let sys = self.system();
            if f(&sys) {
                return sys;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {sys}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Lns for Env {
    fn peer(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn try_system(&self) -> Option<Value> {
        let response = self.try_request(&Request::ShowSystem).ok()?.ok()?;
        // `{"system": {...}}` → `{...}`.
        let v = serde_json::to_value(response).ok()?;
        v.as_object().and_then(|o| o.values().next().cloned())
    }
}

fn spawn_loadgen(args: &[&str]) -> Child {
    spawn_piped(Command::new(loadgen()).args(args))
}

/// Starts `l2tp-loadgen --peer PEER --tunnels TUNNELS --sessions SESSIONS OPTIONS --json`.
fn loadgen_json(peer: &str, tunnels: &str, sessions: &str, options: &[&str]) -> Child {
    let mut args = vec!["--peer", peer, "--tunnels", tunnels, "--sessions", sessions];
    args.extend_from_slice(options);
    args.push("--json");
    spawn_loadgen(&args)
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// 5 tunnels × 20 sessions of `version`, held for 2 s while l2tpd's counts are checked.
fn five_by_twenty(version: &str) {
    let lns = start_lns(&format!("v{version}"), "");
    let peer = lns.peer();
    let child = loadgen_json(&peer, "5", "20", &["--version", version, "--hold", "2"]);
    // While held: the LNS counts the same tunnels and sessions up.
    let sys = lns.wait_system("5 tunnels and 100 sessions up on the LNS", |s| {
        s["counts"]["sessions_up"] == 100 && s["counts"]["tunnels_up"] == 5
    });
    assert_eq!(sys["counts"]["tunnels"], 5, "{sys}");
    assert_eq!(sys["counts"]["sessions"], 100, "{sys}");
    let out = wait_output(child, Duration::from_secs(60));
    let r = report(&out);
    assert!(out.status.success(), "{r}\n{}", lns.log_text());
    assert_eq!(r["version"], version.parse::<u64>().unwrap(), "{r}");
    assert_eq!(r["tunnels_up"], 5, "{r}");
    assert_eq!(r["sessions_up"], 100, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    assert_eq!(r["sockets"], 5, "{r}");
    assert_eq!(r["teardown_tunnels"], 5, "{r}");
    assert_eq!(r["teardown_sessions"], 100, "{r}");
    assert_eq!(r["teardown_complete"], true, "{r}");
    assert!(r["elapsed_s"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["sessions_per_s"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["hold_s"].as_f64().unwrap() >= 2.0, "{r}");
    assert!(r["retransmissions"].is_u64(), "{r}");
    assert!(r["teardown_sessions_per_s"].as_f64().unwrap() > 0.0, "{r}");
    // After the teardown: nothing is up on the LNS; it created exactly what we opened.
    let sys = lns.wait_system("everything down on the LNS", |s| {
        s["counts"]["sessions_up"] == 0 && s["counts"]["tunnels_up"] == 0
    });
    let st = &sys["statistics"];
    assert_eq!(st["tunnels_created"], 5, "{sys}");
    assert_eq!(st["sessions_created"], 100, "{sys}");
    assert_eq!(st["tunnel_setup_failures"], 0, "{sys}");
    assert_eq!(st["session_setup_failures"], 0, "{sys}");
    assert_eq!(st["auth_failures"], 0, "{sys}");
}

#[test]
fn five_tunnels_by_twenty_v3_sessions_come_up_and_go_down() {
    five_by_twenty("3");
}

#[test]
fn five_tunnels_by_twenty_v2_sessions_come_up_and_go_down() {
    five_by_twenty("2");
}

#[test]
fn the_right_secret_authenticates_both_ways() {
    let lns = start_lns(
        "secret",
        "tunnel profile \"default\" {\n    secret \"right\"\n}\n",
    );
    let peer = lns.peer();
    for version in ["2", "3"] {
        let out = wait_output(
            loadgen_json(
                &peer,
                "2",
                "3",
                &["--version", version, "--secret", "right"],
            ),
            Duration::from_secs(60),
        );
        let r = report(&out);
        assert!(out.status.success(), "{r}");
        assert_eq!(r["sessions_up"], 6, "{r}");
        assert_eq!(r["auth_failures"], 0, "{r}");
    }
}

#[test]
fn a_wrong_secret_reports_failures_and_exits_non_zero() {
    let lns = start_lns(
        "wrong-secret",
        "tunnel profile \"default\" {\n    secret \"right\"\n}\n",
    );
    let peer = lns.peer();
    // L2TPv2: the LNS's challenge response does not match ours; we refuse with result 4.
    let out = wait_output(
        loadgen_json(&peer, "5", "20", &["--version", "2", "--secret", "wrong"]),
        Duration::from_secs(60),
    );
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert_eq!(r["tunnels_up"], 0, "{r}");
    assert_eq!(r["sessions_up"], 0, "{r}");
    assert_eq!(r["tunnels_failed"], 5, "{r}");
    assert_eq!(r["sessions_failed"], 100, "{r}");
    assert_eq!(r["failed"], 105, "{r}");
    assert!(r["auth_failures"].as_u64().unwrap() > 0, "{r}");
    let reasons = r["failure_reasons"].as_object().unwrap();
    assert!(reasons.keys().any(|k| k.contains("result 4")), "{r}");
    // L2TPv3: the LNS drops our unauthentic SCCRQs; the set-up deadline ends the run.
    let start = Instant::now();
    let out = wait_output(
        loadgen_json(
            &peer,
            "2",
            "2",
            &["--version", "3", "--secret", "wrong", "--timeout", "1.5"],
        ),
        Duration::from_secs(30),
    );
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert!(start.elapsed() < Duration::from_secs(10), "{r}");
    assert_eq!(r["sessions_up"], 0, "{r}");
    assert_eq!(r["failed"], 6, "{r}");
    let reasons = r["failure_reasons"].as_object().unwrap();
    assert!(reasons.keys().any(|k| k.contains("--timeout")), "{r}");
    let sys = lns.system();
    assert!(
        sys["statistics"]["auth_failures"].as_u64().unwrap() > 0,
        "{sys}"
    );
    assert_eq!(sys["counts"]["tunnels_up"], 0, "{sys}");
}

#[test]
fn no_lns_fails_within_the_deadline() {
    // Nobody listens: the SCCRQs go unanswered until --timeout.
    let port = free_port().to_string();
    let out = wait_output(
        spawn_loadgen(&[
            "--peer",
            &format!("127.0.0.1:{port}"),
            "--tunnels",
            "3",
            "--sessions",
            "1",
            "--timeout",
            "1",
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0/3 tunnels and 0/3 sessions up"), "{text}");
    assert!(text.contains("failed:    6"), "{text}");
}

#[test]
fn usage_errors_exit_with_2() {
    let out = wait_output(
        spawn_loadgen(&["--peer", "127.0.0.1", "--tunnels", "0", "--sessions", "1"]),
        WAIT,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = wait_output(spawn_loadgen(&["--tunnels", "1", "--sessions", "1"]), WAIT);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tunnels_can_share_a_small_pool_of_sockets() {
    let lns = start_lns("pool", "");
    let peer = lns.peer();
    let out = wait_output(
        loadgen_json(
            &peer,
            "6",
            "5",
            &["--max-sockets", "2", "--concurrency", "3"],
        ),
        Duration::from_secs(60),
    );
    let r = report(&out);
    assert!(out.status.success(), "{r}\n{}", lns.log_text());
    assert_eq!(r["sockets"], 2, "{r}");
    assert_eq!(r["concurrency"], 3, "{r}");
    assert_eq!(r["tunnels_up"], 6, "{r}");
    assert_eq!(r["sessions_up"], 30, "{r}");
    let sys = lns.system();
    assert_eq!(sys["statistics"]["sessions_created"], 30, "{sys}");
}

#[test]
fn sigint_during_the_hold_tears_down_at_once() {
    let lns = start_lns("sigint", "");
    let peer = lns.peer();
    let child = loadgen_json(&peer, "2", "5", &["--hold", "60"]);
    lns.wait_system("10 sessions up on the LNS", |s| {
        s["counts"]["sessions_up"] == 10
    });
    let start = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = wait_output(child, Duration::from_secs(30));
    assert!(start.elapsed() < Duration::from_secs(10));
    let r = report(&out);
    assert!(out.status.success(), "{r}");
    assert!(r["hold_s"].as_f64().unwrap() < 60.0, "{r}");
    assert_eq!(r["teardown_sessions"], 10, "{r}");
    assert_eq!(r["teardown_complete"], true, "{r}");
    lns.wait_system("everything down on the LNS", |s| {
        s["counts"]["tunnels_up"] == 0
    });
}

/// A reload arrives during a heavy set-up: 20 tunnels × 250 sessions while l2tpd re-reads a
/// changed config five times. Every tunnel and session comes up, every reload is applied, and
/// the daemon stays up.
#[test]
fn reloads_during_a_heavy_setup_lose_nothing() {
    let lns = start_lns("reload", "");
    let conf = lns.dir.join("l2tpd.conf");
    let base = std::fs::read_to_string(&conf).unwrap();
    let peer = lns.peer();
    let child = loadgen_json(&peer, "20", "250", &["--version", "2", "--hold", "1"]);
    // Reload while the set-up runs: each time the config gains a tunnel profile.
    lns.wait_system("the set-up has begun", |s| s["counts"]["sessions"] != 0);
    let mut during = 0;
    for i in 0..5 {
        let extra: String = (0..=i)
            .map(|j| {
                format!(
                    "tunnel profile \"p{j}\" {{\n    hello_timeout {}\n}}\n",
                    30 + j
                )
            })
            .collect();
        std::fs::write(&conf, format!("{base}{extra}")).unwrap();
        let hup = Command::new("kill")
            .args(["-HUP", &lns.pid().to_string()])
            .status()
            .unwrap();
        assert!(hup.success());
        // Each applied before the next: a SIGHUP while one is read makes a single reload more.
        let sys = lns.wait_system("the reload applied", |s| {
            s["statistics"]["reloads"] == i + 1
        });
        if sys["counts"]["sessions_up"] != 5000 {
            during += 1;
        }
    }
    let sys = lns.wait_system("five reloads applied", |s| s["statistics"]["reloads"] == 5);
    assert_eq!(sys["statistics"]["reload_failures"], 0, "{sys}");
    let out = wait_output(child, Duration::from_secs(120));
    let r = report(&out);
    assert!(out.status.success(), "{r}\n{}", lns.log_text());
    assert_eq!(r["tunnels_up"], 20, "{r}");
    assert_eq!(r["sessions_up"], 5000, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    assert!(
        during > 0,
        "no reload landed while sessions were still being set up (the set-up was too fast)"
    );
    let log = lns.log_text();
    assert_eq!(log.matches("SIGHUP").count(), 5, "{log}");
    // (Closed tunnels linger to answer a retransmitted StopCCN: count the up ones.)
    let sys = lns.wait_system("everything torn down", |s| {
        s["counts"]["tunnels_up"] == 0 && s["counts"]["sessions"] == 0
    });
    assert_eq!(sys["statistics"]["sessions_created"], 5000, "{sys}");
    assert_eq!(sys["statistics"]["session_setup_failures"], 0, "{sys}");
}

/// `l2tpctl -S SOCK ARGS` against `lns`.
fn l2tpctl(lns: &Env, args: &[&str]) -> Output {
    let out = Command::new(l2tp_testkit::daemon::l2tpctl_beside(loadgen()))
        .arg("-S")
        .arg(lns.sock())
        .args(args)
        .output()
        .expect("l2tpctl");
    assert!(
        out.status.success(),
        "l2tpctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_list(lns: &Env, args: &[&str]) -> (Vec<Value>, usize) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = l2tpctl(lns, &all);
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON array");
    (v.as_array().cloned().expect("an array"), out.stdout.len())
}

/// 10 000 sessions: far past the 1 MiB of one reply line. The listings come whole, in text and
/// JSON, their filters work, and the daemon answers other requests while it pages through.
#[test]
fn ten_thousand_sessions_are_listed_whole_and_filtered() {
    let lns = start_lns("listing", "");
    let peer = lns.peer();
    let mut child = loadgen_json(&peer, "10", "1000", &["--version", "3", "--hold", "120"]);
    lns.wait_system("10 000 sessions up", |s| {
        s["counts"]["sessions_up"] == 10_000
    });
    let (sessions, bytes) = json_list(&lns, &["show", "sessions"]);
    assert_eq!(sessions.len(), 10_000);
    assert!(bytes > 1 << 20, "{bytes} bytes: not past the old 1 MiB cap");
    let text = l2tpctl(&lns, &["show", "sessions"]);
    let rows = String::from_utf8_lossy(&text.stdout).lines().count();
    assert_eq!(rows, 10_001, "a header and a line per session");
    // Filters.
    let (up, _) = json_list(&lns, &["show", "sessions", "state", "up", "limit", "7"]);
    assert_eq!(up.len(), 7);
    assert!(up.iter().all(|s| s["state"] == "up"));
    let (closing, _) = json_list(&lns, &["show", "sessions", "state", "closing"]);
    assert!(closing.is_empty());
    let tid = sessions[0]["tid"].as_u64().unwrap().to_string();
    let (of_one, _) = json_list(&lns, &["show", "sessions", &tid]);
    assert_eq!(of_one.len(), 1000);
    assert!(
        of_one
            .iter()
            .all(|s| s["tid"].as_u64().map(|t| t.to_string()) == Some(tid.clone()))
    );
    let (tunnels, _) = json_list(&lns, &["show", "tunnels", "limit", "3"]);
    assert_eq!(tunnels.len(), 3);
    // The daemon serves other requests while it pages through long listings.
    let listing = {
        let sock = lns.sock();
        let bin = l2tp_testkit::daemon::l2tpctl_beside(loadgen());
        std::thread::spawn(move || {
            for _ in 0..5 {
                let out = Command::new(&bin)
                    .arg("-S")
                    .arg(&sock)
                    .args(["--json", "show", "sessions"])
                    .output()
                    .expect("l2tpctl");
                assert!(out.status.success());
            }
        })
    };
    let mut slowest = Duration::ZERO;
    while !listing.is_finished() {
        let asked = Instant::now();
        lns.system();
        slowest = slowest.max(asked.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    listing.join().unwrap();
    assert!(
        slowest < Duration::from_secs(1),
        "show system took {slowest:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// The daemon's resident memory, in bytes.
fn rss(lns: &Env) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", lns.pid())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// A tunnel of 2 000 sessions deleted makes 4 001 events in one pass of the daemon's loop
/// (each session down and deleted, the tunnel down; deleted once the peer acknowledges): a
/// watcher gets every one of them, none lost (the daemon queues far more than one pass makes
/// for each watcher, and would say so if it had to drop any), while another client that
/// asked for events and never reads them costs the daemon no more than its queue's bound
/// (64 MiB, l2tpwatch(1)).
#[test]
fn a_watcher_gets_every_event_of_a_tunnel_of_2000_sessions_deleted() {
    let lns = start_lns("watch-burst", "");
    let peer = lns.peer();
    // Subscribed from the start, and never read.
    let idle = std::os::unix::net::UnixStream::connect(lns.sock()).unwrap();
    (&idle)
        .write_all(l2tp_ctl::encode_request(&Request::Watch).as_bytes())
        .unwrap();
    let before = rss(&lns);
    let mut child = loadgen_json(&peer, "1", "2000", &["--version", "3", "--hold", "120"]);
    lns.wait_system("2 000 sessions up", |s| s["counts"]["sessions_up"] == 2000);
    let (tunnels, _) = json_list(&lns, &["show", "tunnels"]);
    let tid = tunnels[0]["tid"].as_u64().unwrap().to_string();
    let l2tpwatch = l2tp_testkit::daemon::l2tpctl_beside(loadgen()).with_file_name("l2tpwatch");
    // Its output (some 400 KB) goes to a file: a pipe read only at the end would fill.
    let printed = lns.dir.join("watch.out");
    let mut watcher = Command::new(l2tpwatch)
        .arg("-S")
        .arg(lns.sock())
        .args(["-n", "4001", "-T", "30"])
        .stdout(std::fs::File::create(&printed).unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The watcher is acknowledged before the daemon's next answers (nothing outside the
    // daemon can see it): give it a moment.
    std::thread::sleep(Duration::from_secs(1));
    l2tpctl(&lns, &["delete", "tunnel", &tid]);
    let deadline = Instant::now() + Duration::from_secs(40);
    while watcher.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "l2tpwatch did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = watcher.wait_with_output().unwrap();
    let text = std::fs::read_to_string(&printed).unwrap();
    let count = |label: &str| text.lines().filter(|l| l.starts_with(label)).count();
    assert_eq!(
        count("EVENTS LOST"),
        0,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count("SESSION DOWN:"), 2000);
    assert_eq!(count("SESSION DELETED:"), 2000);
    assert_eq!(count("TUNNEL DOWN:"), 1);
    let grown = rss(&lns).saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "the daemon grew by {grown} bytes with a watcher that reads nothing"
    );
    drop(idle);
    let _ = child.kill();
    let _ = child.wait();
}
