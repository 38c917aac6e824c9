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
