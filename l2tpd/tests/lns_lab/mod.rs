//! What the tests that run `l2tp-loadgen --ppp` against one l2tpd LNS in a network namespace
//! (`l2tp_testkit::lab::NsLab`) share: the LNS's config and start, `l2tpctl`, bounded waits,
//! the load generator's JSON report.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use l2tp_testkit::lab::{NsLab, ProcId};

/// The LNS's address in the lab.
pub const LNS: &str = "192.0.2.3";

/// Whether to skip a test that needs `ip` and root (and fail under `L2TP_REQUIRE_ALL=1`).
pub fn skip() -> bool {
    l2tp_testkit::lab::skip(l2tp_testkit::lab::missing(&["ip"], "scripts/deps.sh"))
}

/// Runs `l2tpctl -S SOCKET ARGS`; its output.
pub fn ctl(socket: &Path, args: &[&str]) -> String {
    l2tp_testkit::daemon::l2tpctl_text(env!("CARGO_BIN_EXE_l2tpd"), socket, args)
}

/// Waits up to `limit` for `done`, checking every 100 ms.
pub fn wait(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The LNS's config: the userspace data plane listening on [`LNS`], local user `user` with
/// `password`, a pool of `ranges`, PAP (and CHAP, the default); `extra` in the ppp profile.
pub fn config(dir: &Path, ranges: &str, (user, password): (&str, &str), extra: &str) -> String {
    format!(
        "system {{\n    listen {LNS}:1701\n    dataplane userspace\n    \
         control_socket {d}/l2tpd.sock\n    pid_file {d}/l2tpd.pid\n}}\n\
         ip pool \"customers\" {{\n    ranges {ranges}\n}}\n\
         user \"{user}\" {{\n    password \"{password}\"\n}}\n\
         ppp profile \"default\" {{\n    auth_pap true\n    local_ip_addr 198.51.100.1\n    \
         ip_pool_name \"customers\"\n    ipv6cp false\n{extra}}}\n",
        d = dir.display()
    )
}

/// Starts l2tpd with `text` as its config; its process, log path and control socket, once it
/// answers.
pub fn start(lab: &mut NsLab, text: &str) -> (ProcId, PathBuf, PathBuf) {
    let dir = lab.dir.clone();
    let conf = dir.join("l2tpd.conf");
    let log = dir.join("l2tpd.log");
    let socket = dir.join("l2tpd.sock");
    let _ = std::fs::remove_file(&log);
    std::fs::write(&conf, text).unwrap();
    let p = lab.spawn(
        "l2tpd",
        &[
            env!("CARGO_BIN_EXE_l2tpd"),
            "-f",
            "-d",
            "-c",
            conf.to_str().unwrap(),
            "-o",
            log.to_str().unwrap(),
        ],
    );
    wait(Duration::from_secs(10), "l2tpd answers", || {
        ctl(&socket, &["show", "system"]).contains("control socket")
    });
    (p, log, socket)
}

/// A lab `name` (namespace `short`) with the LNS's address and `clients`' addresses, and
/// the LNS started with local user `login` and a pool: the lab, the LNS's log path and its
/// control socket.
pub fn lab_with_lns(
    short: &str,
    name: &str,
    clients: &[&str],
    login: (&str, &str),
) -> (NsLab, PathBuf, PathBuf) {
    let mut lab = NsLab::new(short, name);
    lab.add_address(&format!("{LNS}/32"));
    for c in clients {
        lab.add_address(&format!("{c}/32"));
    }
    let text = config(&lab.dir.clone(), "198.51.100.10-198.51.100.250", login, "");
    let (_, log, socket) = start(&mut lab, &text);
    (lab, log, socket)
}

/// The LNS's `statistics` of `show system`.
pub fn system(socket: &Path) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&ctl(socket, &["-j", "show", "system"]))
        .unwrap_or_else(|e| panic!("show system: {e}"));
    let v = v.get("system").cloned().unwrap_or(v);
    v["statistics"].clone()
}

/// `l2tp-loadgen --peer LNS ARGS --json` in the lab (`args` split at white space); its report.
pub fn loadgen(lab: &NsLab, args: &str) -> serde_json::Value {
    let bin = l2tp_testkit::daemon::loadgen_beside(env!("CARGO_BIN_EXE_l2tpd"));
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.ns])
        .arg(bin)
        .args(["--peer", LNS])
        .args(args.split_whitespace())
        .arg("--json")
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "l2tp-loadgen: {e}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
