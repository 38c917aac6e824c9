//! A second SIGTERM or SIGINT stops the daemon at once (l2tpd(8), SIGNALS): it no longer
//! waits for its peers, RADIUS servers, watchers or user scripts, wherever the first stop had
//! got to, and still removes its control socket and pid file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::{Env, l2tpd, start_with_tunnel_created_script, wait_for};
use l2tp_ctl::{Request, Response};
use nix::sys::signal::Signal;

/// How soon "at once" must be; every wait the stop could make is 2 s or more.
const AT_ONCE: Duration = Duration::from_millis(1500);

#[test]
fn a_second_signal_ends_every_wait_of_the_stop() {
    for (first, second) in [
        (Signal::SIGTERM, Signal::SIGTERM),
        (Signal::SIGINT, Signal::SIGTERM),
        (Signal::SIGTERM, Signal::SIGINT),
    ] {
        let mut env = Env::new(l2tpd(), "stop-at-once");
        let pid_of_script = env.dir.join("script.pid");
        // A script that outlasts the stop's wait for scripts, and a peer that never answers,
        // so that the stop waits for it too.
        start_with_tunnel_created_script(
            &mut env,
            &format!("echo $$ > \"{}\"\nexec sleep 60\n", pid_of_script.display()),
        );
        // A watcher that never reads.
        let watcher = UnixStream::connect(env.sock()).unwrap();
        (&watcher)
            .write_all(l2tp_ctl::encode_request(&l2tp_ctl::Request::Watch).as_bytes())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pid_of_script.exists() {
            assert!(Instant::now() < deadline, "tunnel-created did not run");
            std::thread::sleep(Duration::from_millis(20));
        }
        env.signal(first);
        env.wait_log(": stopping");
        std::thread::sleep(Duration::from_millis(300));
        let asked = Instant::now();
        env.signal(second);
        let status = env.wait_exit();
        let took = asked.elapsed();
        let script_pid = std::fs::read_to_string(&pid_of_script).unwrap();
        if let Ok(pid) = script_pid.trim().parse() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
        assert_eq!(status.code(), Some(0), "{first} then {second}");
        assert!(
            took < AT_ONCE,
            "{first} then {second}: stopped {took:?} after the second signal; log:\n{}",
            env.log_text()
        );
        assert!(!env.sock().exists(), "socket left behind");
        assert!(!env.pid_file().exists(), "pid file left behind");
        let log = env.log_text();
        assert!(log.contains("again: stopping now"), "{log}");
        assert!(log.contains("l2tpd stopped"), "{log}");
        assert!(!log.contains("RADIUS"), "no RADIUS here: {log}");
        drop(watcher);
    }
}

/// A watcher that never reads, subscribed to `env`.
fn idle_watcher(env: &Env) -> UnixStream {
    let watcher = UnixStream::connect(env.sock()).unwrap();
    (&watcher)
        .write_all(l2tp_ctl::encode_request(&Request::Watch).as_bytes())
        .unwrap();
    watcher
}

/// While the daemon still waits for a peer that has stopped answering (its StopCCN is not
/// acknowledged), a second signal ends that wait and the ones after it.
#[test]
fn a_second_signal_ends_the_wait_for_a_silent_peer() {
    let mut server = Env::new(l2tpd(), "stop-at-once-server");
    server.write_config("    dataplane none\n", "");
    server.start(&[]);
    let mut client = Env::new(l2tpd(), "stop-at-once-client");
    client.write_config(
        "    dataplane none\n",
        &format!(
            "tunnel \"t\" {{\n    peer 127.0.0.1:{}\n    version 3\n}}\n",
            server.port
        ),
    );
    client.start(&[]);
    wait_for(
        Duration::from_secs(10),
        "tunnel t up",
        &client,
        || match client.request(&Request::show_tunnels()) {
            Ok(Response::Tunnels(t)) => t
                .into_iter()
                .find(|t| t.state == l2tp_ctl::State::Up)
                .map(|_| ()),
            _ => None,
        },
    );
    let watcher = idle_watcher(&client);
    server.signal(Signal::SIGSTOP);
    client.signal(Signal::SIGTERM);
    client.wait_log("SIGTERM: stopping");
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    client.signal(Signal::SIGTERM);
    let status = client.wait_exit();
    let took = asked.elapsed();
    server.signal(Signal::SIGCONT);
    assert_eq!(status.code(), Some(0));
    let log = client.log_text();
    assert!(
        took < AT_ONCE,
        "stopped {took:?} after the second signal; log:\n{log}"
    );
    assert!(log.contains("SIGTERM again: stopping now"), "{log}");
    assert!(!log.contains("RADIUS"), "no RADIUS here: {log}");
    assert!(!client.sock().exists() && !client.pid_file().exists());
    drop(watcher);
}
