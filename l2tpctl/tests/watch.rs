//! `l2tpwatch` as built, on command lines that never reach a daemon (those that do are in
//! `l2tpd`'s `tests/events.rs`). Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use l2tp_testkit::daemon::{spawn_piped, wait_output};

fn l2tpwatch(args: &[&str]) -> Output {
    wait_output(spawn_piped(
        Command::new(env!("CARGO_BIN_EXE_l2tpwatch")).args(args),
    ))
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A socket path nothing is at, unique to this test process.
fn absent() -> String {
    std::env::temp_dir()
        .join(format!("l2tpwatch-absent-{}.sock", std::process::id()))
        .display()
        .to_string()
}

/// `-T` takes any whole number: one beyond what the clock counts is no limit, not a crash, and
/// the watch goes on to find that the daemon is not running (exit 1, l2tpwatch(1)).
#[test]
fn a_time_limit_too_far_off_for_the_clock_is_no_limit() {
    let sock = absent();
    for seconds in ["18446744073709551615", "9223372036854775807"] {
        let o = l2tpwatch(&["-S", &sock, "-T", seconds]);
        assert_eq!(o.status.code(), Some(1), "-T {seconds}: {}", err(&o));
        assert_eq!(
            err(&o),
            format!("l2tpwatch: l2tpd is not running (no socket at {sock})\n")
        );
    }
}

/// A negative count or time limit is an invalid value of its option (exit 2), named as such,
/// not an unknown argument `-1`.
#[test]
fn negative_counts_and_limits_name_their_option() {
    for (opt, name) in [("-n", "-n <max-events>"), ("-T", "-T <seconds>")] {
        let o = l2tpwatch(&["-S", &absent(), opt, "-1"]);
        assert_eq!(o.status.code(), Some(2), "{opt} -1: {}", err(&o));
        let e = err(&o);
        assert!(
            e.contains(&format!("invalid value '-1' for '{name}'"))
                && e.contains("expected a whole number from 0 to 18446744073709551615"),
            "{opt} -1: {e}"
        );
    }
    let o = l2tpwatch(&["-n", "18446744073709551616"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("from 0 to 18446744073709551615"),
        "{}",
        err(&o)
    );
}

/// `-S` naming a file: the message says so (exit 1, l2tpwatch(1)).
#[test]
fn a_path_that_is_not_a_socket_is_named_as_the_cause() {
    let file = std::env::temp_dir().join(format!("l2tpwatch-file-{}", std::process::id()));
    std::fs::write(&file, "").unwrap();
    let o = l2tpwatch(&["-S", file.to_str().unwrap(), "-T", "1"]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!(
            "l2tpwatch: {} is a regular file, not a socket; l2tpd does not seem to be running\n",
            file.display()
        )
    );
}
