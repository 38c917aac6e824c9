//! A reload reads the config and its users files off the daemon's main loop: two real
//! `l2tpd` on 127.0.0.1 with a tunnel between them, and the server's users file swapped for a
//! FIFO that the test writes only when it has seen the daemon serve on meanwhile (as a users
//! file on a hung network file system would make it wait). Reloads asked for while one is
//! read are queued, as one, and each gets the answer of the reload that read the file after
//! it asked; a stop does not wait for a reload. Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Env, WAIT, ctl, l2tpd, wait_for};
use l2tp_ctl::{CtlError, ErrorKind, Request, Response, SystemStats};
use nix::sys::signal::Signal;

/// The longest `show system` may take while a reload waits (generous: the machine is shared;
/// a reload on the main loop would make it wait for as long as the FIFO stays unwritten).
const PROMPT: Duration = Duration::from_secs(2);

/// How long the test keeps the reload waiting, asking `show system` meanwhile.
const HOLD: Duration = Duration::from_secs(3);

const USERS: &str = "alice * alice-pw -\n";

/// A server with a ppp profile whose users file is `chap-secrets` (holding `USERS`).
fn server() -> Env {
    let mut s = Env::new(l2tpd(), "reload-bg");
    std::fs::write(users_path(&s), USERS).unwrap();
    let rest = format!(
        "ppp profile \"lns\" {{\n    auth_chap true\n    users_file {}\n}}\n",
        users_path(&s).display()
    );
    s.write_config("    dataplane none\n", &rest);
    s.start(&[]);
    s
}

fn users_path(env: &Env) -> PathBuf {
    env.dir.join("chap-secrets")
}

/// A client with a tunnel "t" to `server`, which sends a HELLO after a second of silence.
fn client(server: &Env) -> Env {
    let mut c = Env::new(l2tpd(), "reload-bg-client");
    let rest = format!(
        "tunnel \"t\" {{\n    peer 127.0.0.1:{}\n    hello_timeout 1\n}}\n",
        server.port
    );
    c.write_config("    dataplane none\n", &rest);
    c.start(&[]);
    c
}

fn tunnel_up(env: &Env, name: Option<&str>) -> bool {
    ctl(env, &["show", "tunnels"])
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["state"] == "up" && name.is_none_or(|n| t["name"] == n))
}

fn stats(env: &Env) -> SystemStats {
    match env.request(&Request::ShowSystem) {
        Ok(Response::System(s)) => s.statistics,
        other => panic!("show system: {other:?}"),
    }
}

/// Replaces `path` with a FIFO.
fn make_fifo(path: &Path) {
    let fifo = path.with_extension("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    std::fs::rename(&fifo, path).unwrap();
}

/// The writing end of the FIFO at `path`, once the daemon has it open for reading (a reload
/// is reading it); the daemon's read ends when the text written into it is closed.
fn reader_waiting(path: &Path) -> std::fs::File {
    let deadline = Instant::now() + WAIT;
    loop {
        // Non-blocking: fails (ENXIO) until the daemon has the FIFO open for reading.
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => return f,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the daemon never opened {}: {e}", path.display()),
        }
    }
}

/// Writes `text` into `fifo` and closes it.
fn feed(mut fifo: std::fs::File, text: &str) {
    fifo.write_all(text.as_bytes()).unwrap();
}

/// Waits until the daemon has counted `n` control requests more than `base` besides those
/// of this wait (each `show system` counts itself).
fn requests_counted(s: &Env, base: u64, n: u64) {
    let mut asked = 0;
    wait_for(WAIT, "the reloads asked for", s, || {
        asked += 1;
        (stats(s).control_requests >= base + asked + n).then_some(())
    });
}

/// Asks `show system` for `HOLD`, each answer within `PROMPT`, and checks the tunnel
/// meanwhile; returns the slowest answer.
fn serves_meanwhile(s: &Env, c: &Env) -> Duration {
    let end = Instant::now() + HOLD;
    let mut slowest = Duration::ZERO;
    while Instant::now() < end {
        let asked = Instant::now();
        let r = s.try_request(&Request::ShowSystem);
        let took = asked.elapsed();
        assert!(
            matches!(r, Ok(Ok(Response::System(_)))) && took < PROMPT,
            "show system during the reload: {r:?} after {took:?}"
        );
        slowest = slowest.max(took);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(tunnel_up(s, None), "the server's tunnel went down");
    assert!(tunnel_up(c, Some("t")), "the client's tunnel went down");
    slowest
}

fn changes(r: &Result<Response, CtlError>) -> Vec<String> {
    match r {
        Ok(Response::Reloaded(s)) => s.changes.iter().map(|c| c.to_string()).collect(),
        other => panic!("reload: {other:?}"),
    }
}

#[test]
fn a_reload_waiting_for_its_users_file_blocks_nothing() {
    let s = server();
    let c = client(&s);
    wait_for(WAIT, "the tunnel up", &c, || {
        tunnel_up(&c, Some("t")).then_some(())
    });
    make_fifo(&users_path(&s));
    std::thread::scope(|scope| {
        let reload = scope.spawn(|| s.request(&Request::Reload));
        let fifo = reader_waiting(&users_path(&s));
        let slowest = serves_meanwhile(&s, &c);
        assert!(
            !reload.is_finished(),
            "the reload did not wait for the FIFO"
        );
        assert_eq!(stats(&s).reloads, 0);
        feed(fifo, &format!("{USERS}bob * bob-pw -\n"));
        let answer = reload.join().unwrap();
        assert_eq!(
            changes(&answer),
            ["user \"bob\" added"],
            "slowest {slowest:?}"
        );
    });
    let after = stats(&s);
    assert_eq!((after.reloads, after.reload_failures), (1, 0));
    let log = s.wait_log("config reloaded");
    assert!(log.contains("user \"bob\" added"), "{log}");
    assert!(tunnel_up(&c, Some("t")));
}

/// Three reloads asked for in quick succession: the first reads the FIFO; the two asked for
/// while it waits are queued as one, which reads the FIFO again once the first is applied;
/// each answer says what its own reading changed.
#[test]
fn reloads_asked_for_during_a_reload_run_once_after_it() {
    let s = server();
    let path = users_path(&s);
    make_fifo(&path);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| s.request(&Request::Reload));
        let fifo = reader_waiting(&path);
        let base = stats(&s).control_requests;
        let second = scope.spawn(|| s.request(&Request::Reload));
        let third = scope.spawn(|| s.request(&Request::Reload));
        requests_counted(&s, base, 2);
        feed(fifo, &format!("{USERS}bob * bob-pw -\n"));
        assert_eq!(changes(&first.join().unwrap()), ["user \"bob\" added"]);
        let fifo = reader_waiting(&path);
        feed(
            fifo,
            &format!("{USERS}bob * bob-pw -\ncarol * carol-pw -\n"),
        );
        let second = second.join().unwrap();
        assert_eq!(changes(&second), ["user \"carol\" added"]);
        assert_eq!(third.join().unwrap(), second);
    });
    let after = stats(&s);
    assert_eq!((after.reloads, after.reload_failures), (2, 0));
    // A plain file again: the reload after them finds nothing new.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(
        &path,
        format!("{USERS}bob * bob-pw -\ncarol * carol-pw -\n"),
    )
    .unwrap();
    assert_eq!(changes(&s.request(&Request::Reload)), Vec::<String>::new());
}

/// SIGTERM while a reload waits for its users file: the daemon stops as usual, and the
/// reload's client is told so.
#[test]
fn sigterm_during_a_reload_stops_the_daemon() {
    let mut s = server();
    make_fifo(&users_path(&s));
    // Kept open until the daemon has gone: its read never ends.
    let _fifo = std::thread::scope(|scope| {
        let reload = scope.spawn(|| s.request(&Request::Reload));
        let fifo = reader_waiting(&users_path(&s));
        s.signal(Signal::SIGTERM);
        let e = reload.join().unwrap().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Busy, "{e:?}");
        fifo
    });
    assert_eq!(s.wait_exit().code(), Some(0));
    assert!(s.log_text().contains("l2tpd stopped"), "{}", s.log_text());
}
