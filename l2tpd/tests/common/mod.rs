//! What the tests of `l2tpd` share: the harness of `l2tp_testkit::daemon` (a temporary
//! directory with its config, control socket, pid file and log, free loopback ports, bounded
//! waits, and a `Drop` that kills whatever is left) run on this crate's `l2tpd`, and tshark as
//! the judge of what the daemon sent.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::{Duration, Instant};

pub use l2tp_testkit::daemon::{Env, WAIT, free_port, redact, spawn_piped, wait_output};

pub fn l2tpd() -> &'static str {
    env!("CARGO_BIN_EXE_l2tpd")
}

/// The `l2tpctl` built beside `l2tpd`, if it was.
fn l2tpctl() -> Option<std::path::PathBuf> {
    let p = std::path::PathBuf::from(l2tpd()).with_file_name("l2tpctl");
    p.exists().then_some(p)
}

/// `l2tpctl -S SOCK --json ARGS` as JSON; when `l2tpctl` has not been built beside `l2tpd`,
/// the same request on the control socket, its answer unwrapped as l2tpctl prints it
/// (`{"tunnels": [...]}` → `[...]`).
pub fn ctl(env: &Env, args: &[&str]) -> serde_json::Value {
    use l2tp_ctl::{Request, Selector};
    if let Some(bin) = l2tpctl() {
        let o = std::process::Command::new(bin)
            .arg("-S")
            .arg(env.sock())
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "l2tpctl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    }
    let request = match args {
        ["show", "tunnels"] => Request::show_tunnels(),
        ["show", "sessions"] => Request::show_sessions(None),
        ["show", "system"] => Request::ShowSystem,
        ["show", "tunnel", t] => Request::ShowTunnel {
            tunnel: Selector::parse(t),
        },
        ["show", "session", t, s] => Request::ShowSession {
            tunnel: Selector::parse(t),
            session: Selector::parse(s),
        },
        ["request", "speeds", t] => Request::RequestSpeeds {
            tunnel: Selector::parse(t),
            session: None,
        },
        _ => panic!("no fallback for {args:?}"),
    };
    let v = serde_json::to_value(env.request(&request).unwrap()).unwrap();
    v.as_object()
        .and_then(|o| o.values().next().cloned())
        .unwrap_or(serde_json::Value::Null)
}

/// Waits (bounded by `limit`) until `f` returns `Some`; on timeout, shows `env`'s log.
pub fn wait_for<T>(limit: Duration, what: &str, env: &Env, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(x) = f() {
            return x;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; log:\n{}",
            env.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes what the daemon sent (`datagrams`, from its L2TP port `port`) to the captures
/// directory as `NAME.pcap` and has tshark judge it as L2TP: no malformed packet, no expert
/// info of severity error.
pub fn judge_capture(name: &str, port: u16, datagrams: &[l2tp_testkit::pcap::Datagram]) {
    assert!(!datagrams.is_empty(), "{name}: nothing captured");
    let path = l2tp_testkit::captures::write_udp(name, datagrams).unwrap();
    let decode_as = format!("udp.port=={port},l2tp");
    let args = ["-d", decode_as.as_str()];
    l2tp_testkit::captures::set_args(name, &args).unwrap();
    if !l2tp_testkit::tshark::tshark_available() {
        assert!(
            std::env::var_os("L2TP_REQUIRE_TSHARK").is_none(),
            "tshark is required (L2TP_REQUIRE_TSHARK) but not installed"
        );
        eprintln!(
            "{name}: tshark not installed; capture kept at {}",
            path.display()
        );
        return;
    }
    let problems = l2tp_testkit::captures::problems(&path, &args).unwrap();
    assert!(
        problems.is_empty(),
        "tshark found problems in {}:\n{}",
        path.display(),
        problems.join("\n")
    );
}

/// Starts `env`'s daemon (`dataplane none`) with a `script_dir` that holds one executable
/// `tunnel-created` script, `body` (a shell script without its `#!` line), and a tunnel to
/// a peer that never answers, which runs the script at once.
pub fn start_with_tunnel_created_script(env: &mut Env, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let scripts = env.dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    let script = scripts.join("tunnel-created");
    std::fs::write(&script, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.write_config(
        &format!("    dataplane none\n    script_dir {}\n", scripts.display()),
        &format!(
            "tunnel \"t\" {{\n    peer 127.0.0.1:{}\n    version 3\n}}\n",
            free_port()
        ),
    );
    env.start(&[]);
}
