//! `l2tp-static` refuses a command line that `man/l2tp-static.8` rules out with exit status 2
//! and a message naming the option, before it makes anything: a cookie that is not 4 or 8
//! octets of hex, `--seq` without `--l2spec default`, a VLAN without `--pw-type eth-vlan` and
//! the other way round, a VLAN ID or MTU out of range, an address that is none.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The required options, for a pseudowire between two documentation addresses.
const BASE: &[&str] = &[
    "--local",
    "192.0.2.1",
    "--peer",
    "192.0.2.2",
    "--tunnel-id",
    "1",
    "--peer-tunnel-id",
    "2",
    "--session-id",
    "3",
    "--peer-session-id",
    "4",
    "--ifname",
    "clitest%d",
];

/// Runs `l2tp-static BASE extra`, with `--peer` `nowhere` for an `extra` of `["nowhere"]`;
/// its exit status and standard error. One that is still running after 10 seconds (it took
/// the command line) is killed and reported as such.
fn run(extra: &[&str]) -> (Option<i32>, String) {
    let base = BASE.iter().map(|a| match (*a, extra) {
        ("192.0.2.2", ["nowhere"]) => "nowhere",
        _ => a,
    });
    let rest = extra.iter().filter(|a| **a != "nowhere");
    let mut child = Command::new(env!("CARGO_BIN_EXE_l2tp-static"))
        .args(base)
        .args(rest)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return (None, format!("still running with {extra:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_command_line_the_page_rules_out_is_refused_with_status_2() {
    for (extra, says) in [
        (&["--cookie", "0102"][..], "4 or 8 octets"),
        (&["--cookie", "hex:"], "4 or 8 octets"),
        (&["--peer-cookie", "xyz1"], "is not hex"),
        (&["--seq"], "--seq needs --l2spec default"),
        (
            &["--pw-type", "eth-vlan"],
            "--pw-type eth-vlan needs --vlan-id",
        ),
        (&["--vlan-id", "5"], "--vlan-id needs --pw-type eth-vlan"),
        (&["--pw-type", "eth-vlan", "--vlan-id", "4095"], "--vlan-id"),
        (&["--mtu", "10"], "--mtu"),
        (&["nowhere"], "is not an address"),
    ] {
        let (status, err) = run(extra);
        assert_eq!(status, Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
}
