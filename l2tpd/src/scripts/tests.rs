//! The script runner: queues, counts, time limits.

use super::*;
use l2tp_testkit::daemon::process_ended;

#[test]
fn absent_scripts_cost_no_queue() {
    let dir = std::env::temp_dir().join(format!("l2tpd-noscripts-{}", std::process::id()));
    let mut runner = ScriptRunner::new(1);
    for sid in 1..=100 {
        let e = session_event(EventKind::SessionUp, 7, sid, &SessionFacts::default());
        runner.submit(&dir, None, e);
    }
    runner.submit(&dir, None, tunnel_event(EventKind::TunnelUp, 7, None, None));
    assert_eq!(runner.queues(), 0);
    assert_eq!(runner.present.len(), 2, "one lookup per script file");
}

#[tokio::test]
async fn runs_are_counted_by_script_and_result() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("l2tpd-script-runs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("session-up")).unwrap_or_else(|e| panic!("{e}"));
    for (name, body) in [("tunnel-up", "exit 0"), ("tunnel-down", "exit 3")] {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut runner = ScriptRunner::new(4);
    runner.submit(&dir, None, tunnel_event(EventKind::TunnelUp, 7, None, None));
    runner.submit(&dir, None, tunnel_event(EventKind::TunnelUp, 8, None, None));
    runner.submit(
        &dir,
        None,
        tunnel_event(EventKind::TunnelDown, 7, None, None),
    );
    let e = session_event(EventKind::SessionUp, 7, 1, &SessionFacts::default());
    runner.submit(&dir, None, e);
    // No script: not counted.
    runner.submit(
        &dir,
        None,
        tunnel_event(EventKind::TunnelCreated, 9, None, None),
    );
    let mut figures = runner.figures();
    for _ in 0..400 {
        if figures.runs.values().sum::<u64>() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        figures = runner.figures();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let want: std::collections::BTreeMap<_, _> = [
        (("tunnel-up", SUCCESS), 2),
        (("tunnel-down", FAILURE), 1),
        (("session-up", ERROR), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(figures.runs, want);
    assert_eq!(figures.running, 0);
}

#[test]
fn remote_end_id_printable_or_hex() {
    let f = SessionFacts {
        remote_end_id: Some(b"pw 1"),
        ..SessionFacts::default()
    };
    let e = session_event(EventKind::SessionCreated, 1, 2, &f);
    assert_eq!(e.var("REMOTE_END_ID"), Some("pw 1"));
    assert_eq!(e.var("REMOTE_END_ID_BIN"), None);
    assert_eq!(e.args, ["1", "2"]);
    let f = SessionFacts {
        remote_end_id: Some(&[0x01, 0xab]),
        pw_type: 5,
        ..SessionFacts::default()
    };
    let e = session_event(EventKind::SessionDeleted, 1, 2, &f);
    assert_eq!(e.var("REMOTE_END_ID"), None);
    assert_eq!(e.var("REMOTE_END_ID_BIN"), Some("01ab"));
    assert_eq!(e.args, ["1", "2", "ETH"]);
}

#[test]
fn interface_facts_only_up_and_down() {
    let f = SessionFacts {
        interface_name: Some("l2tpeth0"),
        mtu: Some(1400),
        bridge: Some("br0"),
        pw_type: 99,
        ..SessionFacts::default()
    };
    for kind in [EventKind::SessionUp, EventKind::SessionDown] {
        let e = session_event(kind, 1, 2, &f);
        assert_eq!(e.var("INTERFACE_NAME"), Some("l2tpeth0"));
        assert_eq!(e.var("MTU"), Some("1400"));
        assert_eq!(e.args[2], "99");
    }
    let e = session_event(EventKind::SessionDeleted, 1, 2, &f);
    assert_eq!(e.var("INTERFACE_NAME"), None);
    assert_eq!(e.var("MTU"), None);
    assert_eq!(e.var("BRIDGE"), Some("br0"));
}

/// A fresh directory for the scripts of test `name`.
fn script_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("l2tpd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// Writes the executable shell script `name` into `dir`.
fn write_script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Waits (at most 10 s) until `runner` has counted `n` runs; its figures.
async fn counted(runner: &ScriptRunner, n: u64) -> ScriptFigures {
    for _ in 0..200 {
        if runner.figures().runs.values().sum::<u64>() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    runner.figures()
}

/// Waits (at most 5 s) until the process whose pid is in `file` has ended.
async fn wait_ended(file: &Path) -> bool {
    let pid = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{e}"));
    let pid = pid.trim();
    for _ in 0..100 {
        if process_ended(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// With one permit, a script that never ends would hold every other script for good: past its
/// time limit it is stopped with what it started, counted as a timeout, and the next script of
/// its tunnel and the script of another tunnel run.
#[tokio::test]
async fn a_script_past_its_timeout_is_stopped_and_the_others_run() {
    let dir = script_dir("script-timeout");
    let d = dir.display();
    write_script(
        &dir,
        "tunnel-up",
        &format!(
            "if [ \"$1\" = 7 ]; then sleep 1000 & echo $! > {d}/child; wait; fi\n\
             echo \"up $1\" >> {d}/log"
        ),
    );
    write_script(&dir, "tunnel-down", &format!("echo \"down $1\" >> {d}/log"));
    let mut runner = ScriptRunner::new(1);
    let limit = Some(Duration::from_millis(300));
    let start = Instant::now();
    runner.submit(
        &dir,
        limit,
        tunnel_event(EventKind::TunnelUp, 7, None, None),
    );
    runner.submit(
        &dir,
        limit,
        tunnel_event(EventKind::TunnelDown, 7, None, None),
    );
    runner.submit(
        &dir,
        limit,
        tunnel_event(EventKind::TunnelUp, 8, None, None),
    );
    let figures = counted(&runner, 3).await;
    let elapsed = start.elapsed();
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    let child_ended = wait_ended(&dir.join("child")).await;
    let _ = std::fs::remove_dir_all(&dir);
    let want: std::collections::BTreeMap<_, _> = [
        (("tunnel-up", SUCCESS), 1),
        (("tunnel-up", TIMEOUT), 1),
        (("tunnel-down", SUCCESS), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(figures.runs, want, "log: {log:?}");
    assert_eq!(figures.running, 0);
    let mut lines: Vec<&str> = log.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["down 7", "up 8"]);
    // Held for the time limit only, not for the grace before SIGKILL: sh ends on SIGTERM.
    assert!(elapsed < KILL_AFTER, "{elapsed:?}");
    assert!(
        child_ended,
        "the script's background sleep was left running"
    );
}

/// A script that ignores SIGTERM, and so does what it started: SIGKILL to its process group
/// after the grace.
#[tokio::test]
async fn a_script_that_ignores_sigterm_is_killed() {
    let dir = script_dir("script-sigkill");
    let d = dir.display();
    write_script(
        &dir,
        "session-up",
        &format!("trap '' TERM\nsleep 1000 & echo $! > {d}/child\nwait"),
    );
    let mut runner = ScriptRunner::new(4);
    runner.kill_after = Duration::from_millis(400);
    let start = Instant::now();
    let e = session_event(EventKind::SessionUp, 7, 1, &SessionFacts::default());
    runner.submit(&dir, Some(Duration::from_millis(300)), e);
    let figures = counted(&runner, 1).await;
    let elapsed = start.elapsed();
    let child_ended = wait_ended(&dir.join("child")).await;
    let _ = std::fs::remove_dir_all(&dir);
    let want: std::collections::BTreeMap<_, _> =
        [(("session-up", TIMEOUT), 1)].into_iter().collect();
    assert_eq!(figures.runs, want);
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    assert!(
        child_ended,
        "the script's background sleep was left running"
    );
}

#[test]
fn script_timeout_zero_is_no_limit() {
    assert_eq!(script_timeout(0), None);
    assert_eq!(script_timeout(60), Some(Duration::from_secs(60)));
}

/// A PPP user name is the peer's bytes: a NUL in it (which no environment variable can hold)
/// must not keep the scripts of the session from running.
#[tokio::test]
async fn a_user_name_with_a_nul_byte_still_runs_the_script() {
    let dir = script_dir("script-nul-user");
    let d = dir.display();
    write_script(
        &dir,
        "session-down",
        &format!("printf '%s|%s' \"${{PPP_USER-unset}}\" \"$PPP_USER_BIN\" > {d}/env"),
    );
    let ppp = l2tp_ctl::PppEventInfo {
        user: Some("a\0b".to_owned()),
        ..Default::default()
    };
    let f = SessionFacts {
        ppp: Some(&ppp),
        ..SessionFacts::default()
    };
    let mut runner = ScriptRunner::new(1);
    runner.submit(&dir, None, session_event(EventKind::SessionDown, 7, 1, &f));
    let figures = counted(&runner, 1).await;
    let env = std::fs::read_to_string(dir.join("env")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let want: std::collections::BTreeMap<_, _> =
        [(("session-down", SUCCESS), 1)].into_iter().collect();
    assert_eq!(figures.runs, want);
    assert_eq!(env, "unset|610062");
}

/// The user name reaches the script byte for byte: not UTF-8, quotes, `$`, a newline.
#[test]
fn a_user_name_is_passed_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    let raw: &[u8] = b"caf\xe9 \"$x\"\n'y'";
    let ppp = l2tp_ctl::PppEventInfo {
        user: Some(String::from_utf8_lossy(raw).into_owned()),
        ..Default::default()
    };
    let f = SessionFacts {
        ppp: Some(&ppp),
        ppp_user: Some(raw),
        ..SessionFacts::default()
    };
    let e = session_event(EventKind::PppUp, 7, 1, &f);
    assert_eq!(e.var_os("PPP_USER").map(OsStr::as_bytes), Some(raw));
    assert_eq!(e.var("PPP_USER_BIN"), None);
}

/// The Result Code of a down event: its codes, and its message byte for byte (not UTF-8,
/// quotes, `$`, a newline); one with a NUL byte in hexadecimal.
#[test]
fn a_result_message_is_passed_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    let raw: &[u8] = b"caf\xe9 \"$x\"\n'y'";
    let mut e = tunnel_event(EventKind::TunnelDown, 7, None, None);
    e.put_result(2, Some(6), Some(raw));
    assert_eq!(e.var("RESULT_CODE"), Some("2"));
    assert_eq!(e.var("ERROR_CODE"), Some("6"));
    assert_eq!(e.var_os("RESULT_MESSAGE").map(OsStr::as_bytes), Some(raw));
    assert_eq!(e.var("RESULT_MESSAGE_BIN"), None);
    let mut e = session_event(EventKind::SessionDown, 7, 1, &SessionFacts::default());
    e.put_result(3, None, Some(b"a\0b"));
    assert_eq!(e.var("RESULT_CODE"), Some("3"));
    assert_eq!(e.var("ERROR_CODE"), None);
    assert_eq!(e.var("RESULT_MESSAGE"), None);
    assert_eq!(e.var("RESULT_MESSAGE_BIN"), Some("610062"));
}

/// A script's environment is the event's variables and `PATH`, as `l2tpd(8)` says, whatever
/// the daemon's own environment holds.
#[tokio::test]
async fn a_script_gets_the_events_variables_and_path_only() {
    let dir = script_dir("script-env");
    let d = dir.display();
    write_script(&dir, "tunnel-up", &format!("env > {d}/env"));
    let mut runner = ScriptRunner::new(1);
    runner.submit(
        &dir,
        None,
        tunnel_event(EventKind::TunnelUp, 7, Some("t 1"), None),
    );
    counted(&runner, 1).await;
    let env = std::fs::read_to_string(dir.join("env")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let mut names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        // What sh adds by itself.
        .filter(|k| !["PWD", "SHLVL", "_"].contains(k))
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["PATH", "TUNNEL_NAME"], "{env}");
    assert!(env.contains(&format!("PATH={SCRIPT_PATH}\n")), "{env}");
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../man/l2tpd.8"))
        .unwrap_or_else(|e| panic!("l2tpd.8: {e}"));
    assert!(
        page.contains(&format!(".IR {SCRIPT_PATH} ;")),
        "l2tpd.8 does not give the scripts' PATH"
    );
}
