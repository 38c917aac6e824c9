//! The real `l2tpd` binary: command line, dry runs, start-up failures, background mode, the
//! control socket, signals and reload. Every wait is bounded (see `common::WAIT`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::UdpSocket;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Env, WAIT, l2tpd, redact};
use l2tp_ctl::{ErrorKind, ProfileKind, Request, Response};
use nix::sys::signal::Signal;

const BAD_CONFIG: &str = "\
system {
    log_levle info
}
tunnel profile \"t\" {
    encap foo
    hello_timeout 5 6
}
";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_and_version() {
    let env = Env::new(l2tpd(), "help");
    let o = env.run(&["-h"]);
    assert_eq!(o.status.code(), Some(0));
    for opt in [
        "-h",
        "-v",
        "-f",
        "-c",
        "-o",
        "-n",
        "-d",
        "--foreground",
        "--dry-run",
        "--debug",
    ] {
        assert!(stdout(&o).contains(opt), "help lacks {opt}: {}", stdout(&o));
    }
    let o = env.run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with(&format!("l2tpd {}\n", env!("CARGO_PKG_VERSION"))));
    assert!(out.contains("Copyright") && out.contains("MIT"), "{out}");
    let o = env.run(&["-v"]);
    assert_eq!(o.status.code(), Some(0));
    let o = env.run(&["--frobnicate"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn autoname_interfaces_false_is_accepted_with_a_warning() {
    let env = Env::new(l2tpd(), "dry-autoname");
    env.write_config("    autoname_interfaces false\n", "");
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("config OK"));
    // At the line of the setting, as every warning of the file is.
    let at = place_of(&conf, "false");
    assert!(
        stderr(&o).contains(&format!(
            "l2tpd: {at}: warning: autoname_interfaces false is ignored"
        )),
        "{}",
        stderr(&o)
    );
    env.write_config("    autoname_interfaces true\n", "");
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(stderr(&o), "");
}

#[test]
fn dry_run_of_a_good_config() {
    let env = Env::new(l2tpd(), "dry-good");
    env.write_config("", "tunnel profile \"v3\" {\n    version 3\n}\n");
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("config OK"));
    // A dry run binds nothing.
    assert!(!env.sock().exists() && !env.pid_file().exists());
}

#[test]
fn dry_run_reports_every_problem_with_its_location() {
    let env = Env::new(l2tpd(), "dry-bad");
    std::fs::write(env.conf(), BAD_CONFIG).unwrap();
    let conf = env.conf();
    let o = env.run(&["--dry-run", "--config-file", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = redact(&stderr(&o), &env.dir);
    assert!(err.contains("[DIR]/l2tpd.conf:2:5: "), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn the_example_configs_pass_a_dry_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // no examples in this checkout
    };
    let env = Env::new(l2tpd(), "examples");
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "conf") {
            let o = env.run(&["-n", "-c", path.to_str().unwrap()]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}: {}",
                path.display(),
                stderr(&o)
            );
        }
    }
}

#[test]
fn start_up_with_a_bad_config_fails_with_the_problems_on_stderr() {
    let env = Env::new(l2tpd(), "start-bad");
    std::fs::write(env.conf(), BAD_CONFIG).unwrap();
    let conf = env.conf();
    let o = env.run(&["-f", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("l2tpd.conf:2:5:"), "{err}");
    assert!(err.contains("l2tpd.conf:5:11:"), "{err}");
    assert!(err.contains("3 problem(s)"), "{err}");
    // Also without -f: nothing forks before the config is read.
    let o = env.run(&["-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("l2tpd.conf:2:5:"));
}

#[test]
fn a_missing_config_file_is_a_start_up_error() {
    let env = Env::new(l2tpd(), "no-config");
    let conf = env.dir.join("absent.conf");
    let o = env.run(&["-f", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("absent.conf"), "{}", stderr(&o));
}

#[test]
fn a_port_in_use_is_a_start_up_error_naming_the_address() {
    let mut env = Env::new(l2tpd(), "port-busy");
    // Hold a port the kernel picked, rather than racing other tests for a free one.
    let busy = UdpSocket::bind("127.0.0.1:0").unwrap();
    env.port = busy.local_addr().unwrap().port();
    env.write_config("", "");
    let conf = env.conf();
    let o = env.run(&["-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("cannot listen on UDP 127.0.0.1:{}", env.port)),
        "{err}"
    );
    assert!(!env.sock().exists() && !env.pid_file().exists());
}

#[test]
fn background_mode_writes_the_pid_file_and_the_parent_exits_0() {
    let env = Env::new(l2tpd(), "background");
    env.write_config("", "");
    let (conf, log) = (env.conf(), env.log());
    let o = env.run(&["-c", conf.to_str().unwrap(), "-o", log.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The parent exits only once the daemon is ready: the pid file and socket exist now.
    let pid: i32 = std::fs::read_to_string(env.pid_file())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(pid);
    assert_ne!(pid.as_raw() as u32, std::process::id());
    let Ok(Response::System(info)) = env.request(&Request::ShowSystem) else {
        panic!("no answer from the background daemon");
    };
    assert_eq!(info.pid, pid.as_raw() as u32);
    // It runs in its own session, detached from ours.
    assert_eq!(nix::unistd::getsid(Some(pid)).ok(), Some(pid));
    nix::sys::signal::kill(pid, Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + WAIT;
    while env.pid_file().exists() || env.sock().exists() {
        assert!(Instant::now() < deadline, "daemon did not clean up");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(env.wait_log("l2tpd stopped").contains("SIGTERM: stopping"));
}

#[test]
fn the_control_socket_is_0600_by_default() {
    let mut env = Env::new(l2tpd(), "mode-600");
    env.write_config("", "");
    env.start(&[]);
    let m = std::fs::metadata(env.sock()).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
}

#[test]
fn the_control_socket_is_0660_with_a_group() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: cannot give the socket to another group; skipped");
        return;
    }
    let group = ["daemon", "nogroup", "adm"]
        .into_iter()
        .find_map(|g| nix::unistd::Group::from_name(g).ok().flatten())
        .expect("a system group");
    let mut env = Env::new(l2tpd(), "mode-660");
    env.write_config(&format!("    control_socket_group {}\n", group.name), "");
    env.start(&[]);
    let m = std::fs::metadata(env.sock()).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o660);
    assert_eq!(m.gid(), group.gid.as_raw());
}

#[test]
fn an_unknown_control_socket_group_is_a_start_up_error() {
    let env = Env::new(l2tpd(), "bad-group");
    env.write_config("    control_socket_group no-such-group-l2tpd\n", "");
    let conf = env.conf();
    let o = env.run(&["-f", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no-such-group-l2tpd"), "{}", stderr(&o));
    // A dry run on this host says so before the start does, at the line of the group, as
    // every problem of the file is (l2tpd.conf(5), SYNTAX).
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let at = place_of(&conf, "no-such-group-l2tpd");
    assert!(
        stderr(&o).contains(&format!(
            "l2tpd: {at}: error: control_socket_group \"no-such-group-l2tpd\": no such group"
        )),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("config OK"), "{}", stdout(&o));
}

/// `FILE:LINE:COL` of the first `text` in the file at `path`.
fn place_of(path: &std::path::Path, text: &str) -> String {
    place_in(path, text, text)
}

/// FILE:LINE:COL of `token` on the first line of the file at `path` that holds `line_text`
/// (a token alone could also be found in a temporary directory's random name).
fn place_in(path: &std::path::Path, line_text: &str, token: &str) -> String {
    let file = std::fs::read_to_string(path).unwrap();
    let (n, line) = file
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(line_text))
        .unwrap_or_else(|| panic!("no {line_text} in {file}"));
    let col = line.find(token).unwrap_or(0) + 1;
    format!("{}:{}:{col}", path.display(), n + 1)
}

/// A session the data plane the file names cannot carry: `l2tpd -n` names the session's line
/// (its `pseudowire_type`), each one's.
#[test]
fn dry_run_names_the_line_of_a_session_the_data_plane_cannot_carry() {
    let env = Env::new(l2tpd(), "dry-refused");
    env.write_config(
        "    dataplane userspace\n",
        "session profile \"other\" {\n    pseudowire_type 99\n}\n\n\
         tunnel \"t\" {\n    version 3\n    peer 192.0.2.9\n}\n\n\
         session \"by-profile\" {\n    tunnel \"t\"\n    profile \"other\"\n}\n\n\
         session \"own\" {\n    tunnel \"t\"\n    pseudowire_type 98\n}\n",
    );
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    for (at, session) in [
        (
            place_of(&conf, "\"by-profile\""),
            "by-profile\" (tunnel \"t\"): pseudowire_type 99",
        ),
        (
            place_in(&conf, "pseudowire_type 98", "98"),
            "own\" (tunnel \"t\"): pseudowire_type 98",
        ),
    ] {
        let line = format!("l2tpd: {at}: error: session \"{session}: the userspace data plane");
        assert!(err.contains(&line), "{line}\n{err}");
    }
    assert!(
        err.contains("2 session(s) that the data plane cannot carry"),
        "{err}"
    );
}

/// With `dataplane auto`, a session the data plane it means on this host cannot carry is a
/// warning, not an error (another host may have another data plane), at the session's line
/// as the error of a named data plane is.
#[test]
fn dry_run_warns_at_the_line_of_a_session_dataplane_auto_cannot_carry() {
    let env = Env::new(l2tpd(), "dry-auto");
    env.write_config(
        "    dataplane auto\n",
        "tunnel \"t\" {\n    version 3\n    peer 192.0.2.9\n}\n\n\
         session \"own\" {\n    tunnel \"t\"\n    pseudowire_type 98\n}\n",
    );
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("config OK"), "{}", stdout(&o));
    let line = format!(
        "l2tpd: {}: warning: on this host, dataplane auto means ",
        place_in(&conf, "pseudowire_type 98", "98")
    );
    assert!(stderr(&o).contains(&line), "{line}\n{}", stderr(&o));
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused() {
    let mut first = Env::new(l2tpd(), "first");
    first.write_config("", "");
    first.start(&[]);
    // Another port, the same control socket.
    let second = Env::new(l2tpd(), "second");
    let text = first
        .config_text("", "")
        .replace(&first.port.to_string(), &second.port.to_string())
        .replace(
            &first.pid_file().display().to_string(),
            &second.pid_file().display().to_string(),
        );
    std::fs::write(second.conf(), text).unwrap();
    let conf = second.conf();
    let o = second.run(&["-f", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("another l2tpd is running"),
        "{}",
        stderr(&o)
    );
    // The first one is unharmed.
    assert!(first.request(&Request::ShowSystem).is_ok());
}

/// A pid file that names a running l2tpd is not taken over: the second daemon would leave the
/// first without one when it stopped (and logrotate's SIGUSR1 would go to the wrong daemon).
#[test]
fn a_second_daemon_on_the_same_pid_file_is_refused() {
    let mut first = Env::new(l2tpd(), "pid-first");
    first.write_config("", "");
    first.start(&[]);
    let own = std::fs::read_to_string(first.pid_file()).unwrap();
    // Another port and control socket, the same pid file.
    let second = Env::new(l2tpd(), "pid-second");
    let text = first
        .config_text("", "")
        .replace(&first.port.to_string(), &second.port.to_string())
        .replace(
            &first.sock().display().to_string(),
            &second.sock().display().to_string(),
        );
    std::fs::write(second.conf(), text).unwrap();
    let conf = second.conf();
    let o = second.run(&["-f", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("another l2tpd is running"),
        "{}",
        stderr(&o)
    );
    assert!(
        !second.sock().exists(),
        "its control socket was left behind"
    );
    assert_eq!(std::fs::read_to_string(first.pid_file()).unwrap(), own);
    assert!(first.request(&Request::ShowSystem).is_ok());
}

/// A pid file left by a daemon that is gone is taken over.
#[test]
fn a_stale_pid_file_is_replaced() {
    let mut env = Env::new(l2tpd(), "stale-pid");
    env.write_config("", "");
    // A pid no process has (above the kernel's pid_max).
    std::fs::write(env.pid_file(), "99999999\n").unwrap();
    env.start(&[]);
    let pid = std::fs::read_to_string(env.pid_file()).unwrap();
    assert_eq!(pid.trim(), env.pid().to_string());
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let mut env = Env::new(l2tpd(), "stale");
    env.write_config("", "");
    drop(std::os::unix::net::UnixListener::bind(env.sock()).unwrap());
    assert!(env.sock().exists());
    env.start(&[]);
    assert!(env.request(&Request::ShowSystem).is_ok());
}

#[test]
fn sighup_applies_a_valid_change_and_logs_the_diff() {
    let mut env = Env::new(l2tpd(), "hup-good");
    env.write_config("", "tunnel profile \"a\" {\n    hello_timeout 5\n}\n");
    env.start(&[]);
    env.write_config(
        "",
        "tunnel profile \"a\" {\n    hello_timeout 7\n}\nsession profile \"s\" {\n}\n",
    );
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("config reloaded");
    assert!(log.contains("tunnel profile \"a\" changed"), "{log}");
    assert!(log.contains("session profile \"s\" added"), "{log}");
    let Ok(Response::Profiles(p)) = env.request(&Request::ShowProfiles {
        kind: ProfileKind::Session,
    }) else {
        panic!("no profiles");
    };
    assert!(p.iter().any(|p| p.name == "s"));
    let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
        panic!("no system info");
    };
    assert_eq!(s.statistics.reloads, 1);
}

/// A SIGHUP reload logs a block it refuses (named like a tunnel made with `l2tpctl`) with its
/// reason, and does not log it as added; once the block is taken out of the file, the next
/// one does not log it as removed: the `l2tpctl` tunnel stays, as it was.
#[test]
fn sighup_logs_a_refused_block_with_its_reason() {
    let mut env = Env::new(l2tpd(), "hup-refused");
    env.write_config("", "");
    env.start(&[]);
    // To a silent peer: it stays connecting.
    let params = [("peer", "192.0.2.1".to_owned())].into_iter().collect();
    let r = env.request(&Request::CreateTunnel {
        name: "c".into(),
        params,
    });
    assert!(r.is_ok(), "{r:?}");
    env.write_config("", "tunnel \"c\" {\n    peer 192.0.2.2\n}\n");
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("config reloaded");
    assert!(
        log.contains("tunnel \"c\" refused: a tunnel of that name was made with l2tpctl"),
        "{log}"
    );
    assert!(log.contains("config reloaded from"), "{log}");
    assert!(!log.contains("tunnel \"c\" added"), "{log}");
    // The tunnel made with l2tpctl: (tid, name, created_by).
    let tunnel = |env: &Env| match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t
            .iter()
            .map(|t| (t.tid, t.name.clone(), t.created_by))
            .collect::<Vec<_>>(),
        other => panic!("show tunnels: {other:?}"),
    };
    let before = tunnel(&env);
    assert_eq!(before.len(), 1, "{before:?}");
    env.write_config("", "tunnel profile \"p\" {\n}\n");
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("tunnel profile \"p\" added");
    let line = log
        .lines()
        .find(|l| l.contains("tunnel profile \"p\" added"))
        .unwrap_or_default();
    assert!(line.ends_with("tunnel profile \"p\" added"), "{line}");
    assert!(!log.contains("tunnel \"c\" removed"), "{log}");
    assert_eq!(before[0].2, l2tp_ctl::CreatedBy::Cli, "{before:?}");
    assert_eq!(tunnel(&env), before);
}

#[test]
fn sighup_with_an_invalid_file_keeps_the_running_config() {
    let mut env = Env::new(l2tpd(), "hup-bad");
    env.write_config("", "tunnel profile \"keep\" {\n}\n");
    env.start(&[]);
    std::fs::write(env.conf(), BAD_CONFIG).unwrap();
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("keeping the running config");
    assert!(log.contains("l2tpd.conf:2:5: "), "{log}");
    assert!(log.contains("l2tpd.conf:5:11: "), "{log}");
    assert!(
        env.request(&Request::ShowProfile {
            kind: ProfileKind::Tunnel,
            name: "keep".into(),
        })
        .is_ok()
    );
    let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
        panic!("no system info");
    };
    assert_eq!((s.statistics.reloads, s.statistics.reload_failures), (0, 1));
    // The control socket's reload reports the same problems.
    let e = env.request(&Request::Reload).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidConfig);
    assert!(e.message.contains("l2tpd.conf:2:5: error"), "{}", e.message);
}

#[test]
fn sighup_can_raise_the_log_level() {
    let mut env = Env::new(l2tpd(), "hup-level");
    env.write_config("", "");
    env.start(&[]);
    env.write_config("    log_level debug\n", "");
    env.signal(Signal::SIGHUP);
    env.wait_log("log level now debug");
    let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
        panic!("no system info");
    };
    assert_eq!(s.log_level, "debug");
}

#[test]
fn debug_flags_raise_the_log_level() {
    let mut env = Env::new(l2tpd(), "debug-flags");
    env.write_config("", "");
    env.start(&["-d", "-d"]);
    let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
        panic!("no system info");
    };
    assert_eq!(s.log_level, "debug");
    // Debug lines (here: the control request) reach the log once flushed.
    env.wait_log("control request: ShowSystem");
}

#[test]
fn sigterm_stops_cleanly() {
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let mut env = Env::new(l2tpd(), "term");
        env.write_config("", "");
        env.start(&[]);
        assert!(env.sock().exists() && env.pid_file().exists());
        env.signal(sig);
        let status = env.wait_exit();
        assert_eq!(status.code(), Some(0), "{sig}");
        assert!(!env.sock().exists(), "{sig}: socket left behind");
        assert!(!env.pid_file().exists(), "{sig}: pid file left behind");
        let log = env.log_text();
        assert!(log.contains("l2tpd stopped"), "{log}");
    }
}

#[test]
fn sigusr1_flushes_and_reopens_the_log() {
    let mut env = Env::new(l2tpd(), "usr1");
    env.write_config("", "");
    env.start(&[]);
    env.wait_log("started");
    let rotated = env.dir.join("l2tpd.log.1");
    std::fs::rename(env.log(), &rotated).unwrap();
    env.signal(Signal::SIGUSR1);
    let deadline = Instant::now() + WAIT;
    while !env.log().exists() {
        assert!(Instant::now() < deadline, "log file not re-opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    env.signal(Signal::SIGHUP);
    env.wait_log("config reloaded");
    assert!(
        !std::fs::read_to_string(rotated)
            .unwrap()
            .contains("config reloaded")
    );
}

/// A signal the daemon gives no meaning (SIGUSR2) is logged and ignored: its default action
/// would end the daemon without removing its socket and pid file.
#[test]
fn sigusr2_is_logged_and_ignored() {
    let mut env = Env::new(l2tpd(), "usr2");
    env.write_config("", "");
    env.start(&[]);
    env.wait_log("started");
    env.signal(Signal::SIGUSR2);
    env.wait_log("SIGUSR2 ignored");
    env.signal(Signal::SIGHUP);
    env.wait_log("config reloaded");
    assert!(env.sock().exists() && env.pid_file().exists());
    env.signal(Signal::SIGTERM);
    assert_eq!(env.wait_exit().code(), Some(0));
}

#[test]
fn the_control_protocol_reports_errors_and_keeps_the_connection() {
    let mut env = Env::new(l2tpd(), "protocol");
    env.write_config("", "");
    env.start(&[]);
    let r = env
        .raw_line("{\"version\":99,\"request\":{\"command\":\"new\"}}\n")
        .unwrap();
    assert!(r.contains("\"kind\":\"version\""), "{r}");
    let r = env.raw_line("hello\n").unwrap();
    assert!(r.contains("\"kind\":\"bad_request\""), "{r}");
    let e = env
        .request(&Request::CreateTunnel {
            name: "t".into(),
            params: [
                ("peer", "192.0.2.1".to_owned()),
                ("retry_timeout", "never".to_owned()),
            ]
            .into_iter()
            .collect(),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidConfig);
    assert!(e.message.contains("never"), "{}", e.message);
    let e = env
        .request(&Request::ShowProfile {
            kind: ProfileKind::Pseudowire,
            name: "nope".into(),
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(matches!(
        env.request(&Request::show_tunnels()),
        Ok(Response::Tunnels(t)) if t.is_empty()
    ));
    // Several requests on one connection are answered in order.
    let two = format!(
        "{}{}",
        l2tp_ctl::encode_request(&Request::show_tunnels()),
        l2tp_ctl::encode_request(&Request::ShowSystem)
    );
    let stream = std::os::unix::net::UnixStream::connect(env.sock()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    std::io::Write::write_all(&mut &stream, two.as_bytes()).unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(&stream));
    assert!(lines.next().unwrap().unwrap().contains("\"tunnels\""));
    assert!(lines.next().unwrap().unwrap().contains("\"system\""));
}

#[test]
fn listen_on_v4_and_v6_wildcards_with_one_port() {
    let mut env = Env::new(l2tpd(), "wildcards");
    let text = env
        .config_text("", "")
        .replace("127.0.0.1:", "0.0.0.0:")
        .replace("[::1]:", "[::]:");
    std::fs::write(env.conf(), text).unwrap();
    env.start(&[]);
    let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
        panic!("no system info");
    };
    assert_eq!(
        s.listen,
        [
            format!("0.0.0.0:{}", env.port),
            format!("[::]:{}", env.port)
        ]
    );
}

#[test]
fn encap_ip_opens_protocol_115_sockets_or_says_why_not() {
    let mut env = Env::new(l2tpd(), "encap-ip");
    env.write_config(
        "",
        "tunnel profile \"ip\" {\n    encap ip\n    version 3\n}\n",
    );
    env.start(&[]);
    let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
        panic!("no system info");
    };
    // The protocol 115 addresses open are listed, those of `listen` (no port).
    let udp: Vec<String> = s
        .listen
        .iter()
        .filter_map(|a| a.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.ip().to_string())
        .collect();
    assert_eq!(s.ip_encap, !s.ip_listen.is_empty(), "{:?}", s.ip_listen);
    assert!(s.ip_listen.iter().all(|a| udp.contains(a)), "{s:?}");
    if s.ip_encap {
        env.wait_log("protocol 115");
    } else {
        let log = env.wait_log("cannot open an L2TPv3-over-IP socket");
        assert!(log.contains("encap ip"), "{log}");
    }
}

#[test]
fn secrets_stay_out_of_logs_and_answers() {
    let mut env = Env::new(l2tpd(), "secrets");
    env.write_config(
        "",
        "tunnel profile \"s\" {\n    secret \"hunter2-secret\"\n}\n",
    );
    env.start(&["-d", "-d", "-d"]);
    let answer = env
        .raw_line(&l2tp_ctl::encode_request(&Request::ShowProfile {
            kind: ProfileKind::Tunnel,
            name: "s".into(),
        }))
        .unwrap();
    assert!(
        answer.contains("<redacted>") && !answer.contains("hunter2"),
        "{answer}"
    );
    let _ = env.request(&Request::CreateTunnel {
        name: "t".into(),
        params: [("secret", "other-secret-xyz".to_owned())]
            .into_iter()
            .collect(),
    });
    std::fs::write(
        env.conf(),
        env.config_text(
            "",
            "tunnel profile \"s\" {\n    secret \"changed-secret\"\n}\n",
        ),
    )
    .unwrap();
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("tunnel profile \"s\" changed");
    for s in ["hunter2", "other-secret-xyz", "changed-secret"] {
        assert!(!log.contains(s), "{s} in the log:\n{log}");
    }
}

#[test]
fn a_watcher_is_acknowledged_and_released_when_the_daemon_stops() {
    let mut env = Env::new(l2tpd(), "watch");
    env.write_config("", "");
    env.start(&[]);
    let stream = std::os::unix::net::UnixStream::connect(env.sock()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    std::io::Write::write_all(
        &mut &stream,
        l2tp_ctl::encode_request(&Request::Watch).as_bytes(),
    )
    .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(&stream));
    let first = lines.next().unwrap().unwrap();
    assert!(
        matches!(
            l2tp_ctl::decode_reply(&first),
            Ok(l2tp_ctl::Reply::Ok(Response::Watching))
        ),
        "{first}"
    );
    env.signal(Signal::SIGTERM);
    assert_eq!(env.wait_exit().code(), Some(0));
    // The watcher sees the end of the stream, as l2tpwatch must when the daemon exits.
    assert!(lines.next().is_none());
}

#[test]
fn datagrams_reach_the_core_on_both_families() {
    let mut env = Env::new(l2tpd(), "datagrams");
    env.write_config("", "");
    env.start(&[]);
    // Client ports come from the harness too, so no daemon of a parallel test is given them.
    let v4 = UdpSocket::bind(("127.0.0.1", common::free_port())).unwrap();
    v4.send_to(&[0xc8, 0x02, 0, 12], ("127.0.0.1", env.port))
        .unwrap();
    let v6 = UdpSocket::bind(("::1", common::free_port())).unwrap();
    v6.send_to(&[0xc8, 0x02], ("::1", env.port)).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let Ok(Response::System(s)) = env.request(&Request::ShowSystem) else {
            panic!("no system info");
        };
        let st = s.statistics;
        if st.rx_packets == 2 {
            // No engine yet: both are counted and discarded.
            assert_eq!((st.rx_bytes, st.rx_discards), (6, 2));
            break;
        }
        assert!(Instant::now() < deadline, "datagrams not counted: {st:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Without `-o`, logs go to syslog: `/dev/log`, facility daemon. The daemon runs in a private
/// mount namespace whose `/dev` is an empty tmpfs with a listener at `/dev/log`, so the host's
/// syslog is not involved.
#[test]
fn without_a_log_file_messages_go_to_syslog_facility_daemon() {
    let env = Env::new(l2tpd(), "syslog");
    env.write_config("", "");
    let listener = r#"
import socket, subprocess, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(0.5)
p = subprocess.Popen([sys.argv[1], "-f", "-c", sys.argv[2]], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seen, deadline = [], time.time() + 10
while time.time() < deadline and not any(b"started" in m for m in seen):
    try:
        seen.append(s.recv(4096))
    except socket.timeout:
        pass
p.terminate()
p.wait(timeout=10)
for m in seen:
    print(m.decode("utf-8", "replace"))
"#;
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs /dev && exec python3 -c \"$0\" \"$1\" \"$2\"")
        .arg(listener)
        .arg(l2tpd())
        .arg(env.conf())
        .output()
        .unwrap_or_else(|e| panic!("unshare: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // RFC 3164: <PRI> with facility daemon (3) and severity notice (5) = 29, then the tag.
    let started = text
        .lines()
        .find(|l| l.contains("started"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(started.starts_with("<29>"), "{started}");
    assert!(started.contains("l2tpd"), "{started}");
}

#[test]
fn dry_run_warns_of_a_pseudowire_type_the_data_plane_cannot_carry() {
    let env = Env::new(l2tpd(), "dry-pw-types");
    env.write_config(
        "    dataplane userspace\n",
        "session profile \"l2\" {\n    pseudowire_types eth 0x0011\n}\n",
    );
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = redact(&stderr(&o), &env.dir);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("pseudowire_types"))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].starts_with("l2tpd: [DIR]/l2tpd.conf:")
            && warnings[0].contains(": warning: session profile `l2`: `pseudowire_types` lists ")
            && warnings[0].contains("the userspace data plane carries only Ethernet"),
        "{err}"
    );
}

/// The check takes the PPP mode the profile's calls get: PPP with pppd (`use_pppd true` in
/// the pseudowire profile it names, or that its peers' tunnels name) is refused on the
/// userspace data plane, PPP that l2tpd terminates is not.
#[test]
fn dry_run_checks_pseudowire_types_with_the_ppp_mode_the_calls_take() {
    let env = Env::new(l2tpd(), "dry-pw-pppd");
    env.write_config(
        "    dataplane userspace\n",
        "pseudowire profile \"pppd\" {\n    use_pppd true\n}\n\n\
         session profile \"own\" {\n    pseudowire_types ppp\n    \
         pseudowire_profile_name \"pppd\"\n}\n\n\
         tunnel profile \"t\" {\n    session_profile_name \"by-peer\"\n    \
         pseudowire_profile_name \"pppd\"\n}\n\n\
         peer profile \"p\" {\n    peer_ipaddr 192.0.2.9\n    tunnel_profile_name \"t\"\n}\n\n\
         session profile \"by-peer\" {\n    pseudowire_types ppp eth\n}\n\n\
         session profile \"native\" {\n    pseudowire_types ppp eth\n}\n",
    );
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("pseudowire_types"))
        .collect();
    assert_eq!(warnings.len(), 2, "{err}");
    for (w, profile) in warnings.iter().zip(["own", "by-peer"]) {
        assert!(
            w.contains(&format!(
                "session profile `{profile}`: `pseudowire_types` lists ppp"
            )) && w.contains("the userspace data plane runs no pppd"),
            "{err}"
        );
    }
}
