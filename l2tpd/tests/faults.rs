//! Faults around a live l2tpd: a peer that vanishes (its tunnel is found dead by the HELLO
//! retries, cleaned up, and its scripts run, with values given verbatim, never through a
//! shell), and control-socket clients that misbehave (one never reads its answers, one sends a
//! huge line without a newline, one connects and says nothing) while the daemon keeps serving
//! everyone else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod raw;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Env, l2tpd};
use l2tp_ctl::{Request, Response, State};
use raw::{RawPeer, mt};

/// A value full of shell metacharacters, as it appears in the script's environment.
const NASTY: &str =
    "x\"; touch PWNED; $(touch PWNED) `touch PWNED` | & > PWNED < ' * ? ~ \\ !$$\nline";

/// `NASTY` as a config string (with `"`, `\` and the newline escaped).
fn nasty_in_config() -> String {
    NASTY
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Scripts that record their argv (one per line) and the variables they are given, with
/// `printf %s`, which interprets nothing.
fn write_scripts(dir: &Path) -> std::path::PathBuf {
    let scripts = dir.join("scripts");
    let records = dir.join("records");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::create_dir_all(&records).unwrap();
    for name in [
        "session-up",
        "session-down",
        "tunnel-down",
        "tunnel-deleted",
    ] {
        let body = format!(
            "#!/bin/sh\n\
             f=\"{r}/{name}\"\n\
             for a in \"$@\"; do printf 'arg %s\\n' \"$a\"; done > \"$f.tmp\"\n\
             printf '%s' \"$USER_DATA\" > \"$f.user_data\"\n\
             mv \"$f.tmp\" \"$f\"\n",
            r = records.display()
        );
        let path = scripts.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    scripts
}

fn wait_file(path: &Path, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(t) = std::fs::read_to_string(path) {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tunnel_states(env: &Env) -> Vec<(u32, State)> {
    match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t.iter().map(|t| (t.tid, t.state)).collect(),
        other => panic!("show tunnels: {other:?}"),
    }
}

#[test]
fn a_vanished_peer_is_found_dead_cleaned_up_and_its_scripts_run_with_verbatim_values() {
    let mut env = Env::new(l2tpd(), "vanish");
    let scripts = write_scripts(&env.dir);
    env.write_config(
        &format!("    dataplane none\n    script_dir {}\n", scripts.display()),
        &format!(
            "tunnel profile \"default\" {{\n    hello_timeout 1\n    retry_timeout 1\n    \
             max_retries 2\n}}\nsession profile \"default\" {{\n    user_data \"{}\"\n}}\n",
            nasty_in_config()
        ),
    );
    env.start(&[]);
    let daemon = SocketAddr::from(([127, 0, 0, 1], env.port));
    let peer = RawPeer::new(daemon);
    let tid = peer.establish(100);
    let sid = peer.open_session(tid, 200);
    let records = env.dir.join("records");

    // The session-up script got the value byte for byte, and no shell ran any of it.
    let args = wait_file(&records.join("session-up"), common::WAIT);
    assert_eq!(args, format!("arg {tid}\narg {sid}\narg PPP\n"));
    let user_data = wait_file(&records.join("session-up.user_data"), common::WAIT);
    assert_eq!(user_data, NASTY, "USER_DATA arrives verbatim");
    for dir in [&env.dir, &scripts, &records] {
        assert!(
            !dir.join("PWNED").exists(),
            "a shell interpreted the value in {}",
            dir.display()
        );
    }

    // The peer vanishes: it stops acknowledging. HELLO (1 s), then 2 retries (1 s, 2 s).
    peer.state.lock().unwrap().auto_ack = false;
    let gone = Instant::now();
    let deadline = gone + Duration::from_secs(15);
    while tunnel_states(&env)
        .iter()
        .any(|(t, s)| *t == u32::from(tid) && *s == State::Up)
    {
        assert!(Instant::now() < deadline, "the dead tunnel is still up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let found = gone.elapsed();
    let down = wait_file(&records.join("tunnel-down"), common::WAIT);
    assert_eq!(down, format!("arg {tid}\n"));
    let session_down = wait_file(&records.join("session-down"), common::WAIT);
    assert_eq!(session_down, format!("arg {tid}\narg {sid}\narg PPP\n"));
    let log = env.wait_log(&format!("tunnel {tid}"));
    eprintln!("dead tunnel found after {found:?}");
    // Retransmissions of the unanswered HELLO, then the daemon gives up on the peer.
    let hellos = peer
        .since(0)
        .iter()
        .filter(|r| r.msg_type == Some(mt::HELLO))
        .count();
    assert!(hellos >= 3, "HELLO sent and retried: {hellos}\n{log}");
    // Cleaned up: the record is deleted (after the StopCCN linger) and its script runs.
    let deleted = wait_file(&records.join("tunnel-deleted"), Duration::from_secs(60));
    assert_eq!(deleted, format!("arg {tid}\n"));
    assert!(tunnel_states(&env).is_empty(), "{:?}", tunnel_states(&env));
    match env.request(&Request::ShowSystem) {
        Ok(Response::System(s)) => {
            assert_eq!((s.counts.tunnels, s.counts.sessions), (0, 0));
        }
        other => panic!("{other:?}"),
    }
    common::judge_capture("faults_vanished_peer", env.port, &peer.capture());
}

/// Time to answer `show system` on a fresh connection.
fn timed_request(env: &Env) -> Duration {
    let t0 = Instant::now();
    match env.request(&Request::ShowSystem) {
        Ok(Response::System(_)) => t0.elapsed(),
        other => panic!("show system: {other:?}"),
    }
}

#[test]
fn misbehaving_control_clients_do_not_affect_the_daemon() {
    let mut env = Env::new(l2tpd(), "clients");
    env.write_config(
        "    dataplane none\n",
        "tunnel profile \"default\" {\n    hello_timeout 1\n}\n",
    );
    env.start(&[]);
    let daemon = SocketAddr::from(([127, 0, 0, 1], env.port));
    let peer = RawPeer::new(daemon);
    let tid = peer.establish(100);
    peer.open_session(tid, 200);
    let start = peer.mark();

    // 1: connects and never says anything.
    let silent = UnixStream::connect(env.sock()).unwrap();
    // 2: sends requests and never reads the answers, until its own send buffer is full.
    let greedy = UnixStream::connect(env.sock()).unwrap();
    greedy.set_nonblocking(true).unwrap();
    let line = l2tp_ctl::encode_request(&Request::ShowSystem);
    let mut sent = 0usize;
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(3) {
        match (&greedy).write(line.as_bytes()) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("greedy client: {e}"),
        }
    }
    assert!(
        sent > 100 * line.len(),
        "the greedy client sent only {sent} bytes"
    );
    // 3: a huge line without a newline: refused when it passes the limit, then hung up on.
    let mut huge = UnixStream::connect(env.sock()).unwrap();
    huge.set_read_timeout(Some(common::WAIT)).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 0usize;
    while written <= l2tp_ctl::MAX_LINE + chunk.len() {
        match huge.write(&chunk) {
            Ok(n) => written += n,
            // The daemon hung up after its answer.
            Err(_) => break,
        }
    }
    let mut answer = String::new();
    let _ = huge.read_to_string(&mut answer);
    assert!(
        answer.contains("request line too long"),
        "answer to a {written}-byte line: {answer:?}"
    );

    // Meanwhile everyone else is served at once, and the tunnel keeps its HELLOs.
    let worst = (0..20).map(|_| timed_request(&env)).max().unwrap();
    assert!(
        worst < Duration::from_millis(500),
        "show system took {worst:?}"
    );
    std::thread::sleep(Duration::from_millis(2500));
    let hellos = peer
        .since(start)
        .iter()
        .filter(|r| r.msg_type == Some(mt::HELLO))
        .count();
    assert!(
        hellos >= 2,
        "the tunnel exchanged {hellos} HELLOs meanwhile"
    );
    assert_eq!(tunnel_states(&env), vec![(u32::from(tid), State::Up)]);
    drop((silent, greedy));
    assert!(timed_request(&env) < Duration::from_millis(500));
}
