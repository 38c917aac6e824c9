//! systemd notifications, received the way systemd receives them: on a unix datagram socket
//! named by `NOTIFY_SOCKET` (the test's own listener, since the test machines do not run
//! systemd as PID 1). `READY=1` when the daemon serves, `RELOADING=1` (with `MONOTONIC_USEC=`)
//! and `READY=1` around each reload, `STATUS=` with the counts, `STOPPING=1`, and `WATCHDOG=1`
//! at half of `WATCHDOG_USEC` from the main loop.
//!
//! A slow reload is made without any test hook in the daemon: the test swaps the config file
//! for a FIFO that nobody writes yet, so the read waits (as it would on a hung network file
//! system). The read happens off the main loop: the pings go on meanwhile, and `READY=1`
//! comes only once the config is written into the FIFO and applied.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use common::{Env, l2tpd};
use l2tp_ctl::{Request, Response};
use nix::sys::signal::Signal;

/// The watchdog timeout given to the daemon; it pings every half of it.
const WATCHDOG: Duration = Duration::from_millis(1000);

/// Generous bound for anything the daemon does in response to the test (the machine is shared).
const LIMIT: Duration = Duration::from_secs(20);

/// One notification: when it arrived and its `KEY=VALUE` lines.
#[derive(Debug)]
struct Message {
    at: Instant,
    lines: Vec<String>,
}

impl Message {
    fn has(&self, line: &str) -> bool {
        self.lines.iter().any(|l| l == line)
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
    }

    fn is_ping(&self) -> bool {
        self.lines == ["WATCHDOG=1"]
    }
}

/// The listening end of `NOTIFY_SOCKET`, read by a thread.
struct Listener {
    rx: Receiver<Message>,
}

impl Listener {
    fn bind(env: &Env) -> (Listener, std::path::PathBuf) {
        let path = env.dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                let msg = Message {
                    at: Instant::now(),
                    lines: text.lines().map(str::to_owned).collect(),
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        (Listener { rx }, path)
    }

    /// The next message other than a watchdog ping; the pings before it are returned too.
    fn next_state(&self, what: &str) -> (Message, Vec<Message>) {
        let deadline = Instant::now() + LIMIT;
        let mut pings = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if m.is_ping() => pings.push(m),
                Ok(m) => return (m, pings),
                Err(RecvTimeoutError::Timeout) => panic!("no notification: expected {what}"),
                Err(RecvTimeoutError::Disconnected) => panic!("listener gone: expected {what}"),
            }
        }
    }

    /// Every message that arrives within `d`.
    fn during(&self, d: Duration) -> Vec<Message> {
        let end = Instant::now() + d;
        let mut got = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(m) => got.push(m),
                Err(_) => break,
            }
        }
        got
    }
}

fn start_notified(env: &mut Env, socket: &std::path::Path, args: &[&str], watchdog: bool) {
    let mut cmd = Command::new(&env.bin);
    cmd.args(args)
        .arg("-c")
        .arg(env.conf())
        .arg("-o")
        .arg(env.log())
        .env("NOTIFY_SOCKET", socket)
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if watchdog {
        cmd.env("WATCHDOG_USEC", WATCHDOG.as_micros().to_string());
    }
    env.child = Some(cmd.spawn().unwrap());
}

/// Checks that `pings` come about every half of [`WATCHDOG`]: never in a burst, and on
/// average neither much faster nor as slow as the timeout itself.
fn assert_pinged_at_half_the_timeout(pings: &[Message]) {
    assert!(pings.len() >= 4, "too few watchdog pings: {}", pings.len());
    let gaps: Vec<Duration> = pings.windows(2).map(|w| w[1].at - w[0].at).collect();
    let mean = gaps.iter().sum::<Duration>() / u32::try_from(gaps.len()).unwrap();
    let half = WATCHDOG / 2;
    assert!(
        mean >= half * 8 / 10 && mean < WATCHDOG * 9 / 10,
        "pings every {mean:?} on average, not every {half:?}: {gaps:?}"
    );
    assert!(
        gaps.iter().all(|g| *g >= half / 4),
        "pings in a burst: {gaps:?}"
    );
}

#[test]
fn readiness_reloads_status_watchdog_and_stop_reach_the_service_manager() {
    let mut env = Env::new(l2tpd(), "sd-notify");
    env.write_config("", "");
    let (listener, socket) = Listener::bind(&env);
    start_notified(&mut env, &socket, &["-f"], true);

    // READY=1 once it serves: the control socket answers at once, without waiting.
    let (ready, _) = listener.next_state("READY=1");
    assert!(ready.has("READY=1"), "{ready:?}");
    assert_eq!(
        ready.value("STATUS"),
        Some("0 tunnels (0 up), 0 sessions (0 up)")
    );
    assert_eq!(ready.value("MAINPID"), None, "-f: systemd started l2tpd");
    assert!(matches!(
        env.try_request(&Request::ShowSystem),
        Ok(Ok(Response::System(_)))
    ));

    // The watchdog: a ping about every half of WATCHDOG_USEC.
    let pings: Vec<Message> = listener
        .during(WATCHDOG * 4)
        .into_iter()
        .filter(Message::is_ping)
        .collect();
    assert_pinged_at_half_the_timeout(&pings);

    // A reload by SIGHUP, kept waiting by a config file that is a FIFO.
    let text = std::fs::read_to_string(env.conf()).unwrap();
    let fifo = env.dir.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    std::fs::rename(&fifo, env.conf()).unwrap();
    let signalled = Instant::now();
    env.signal(Signal::SIGHUP);
    let (reloading, _) = listener.next_state("RELOADING=1");
    assert!(reloading.has("RELOADING=1"), "{reloading:?}");
    let first_stamp: u64 = reloading
        .value("MONOTONIC_USEC")
        .expect("MONOTONIC_USEC beside RELOADING=1")
        .parse()
        .unwrap();
    // While the reload waits for the file, the loop goes on pinging, and the reload is not
    // over: no READY=1.
    let meanwhile = listener.during(WATCHDOG * 3);
    assert!(
        meanwhile.iter().all(Message::is_ping),
        "messages other than pings while the reload waited: {meanwhile:?}"
    );
    assert_pinged_at_half_the_timeout(&meanwhile);
    let mut writer = None;
    let deadline = Instant::now() + LIMIT;
    while writer.is_none() {
        // Non-blocking: fails (ENXIO) until the daemon has the FIFO open for reading.
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(env.conf())
        {
            Ok(f) => writer = Some(f),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("the daemon never opened the config file: {e}"),
        }
    }
    let mut writer = writer.unwrap();
    writer.write_all(text.as_bytes()).unwrap();
    drop(writer);
    let (ready, _) = listener.next_state("READY=1 after the reload");
    assert!(ready.has("READY=1"), "{ready:?}");
    assert_eq!(
        ready.value("STATUS"),
        Some("0 tunnels (0 up), 0 sessions (0 up)")
    );
    // The watchdog goes on.
    let pings: Vec<Message> = listener
        .during(WATCHDOG * 4)
        .into_iter()
        .filter(Message::is_ping)
        .collect();
    assert_pinged_at_half_the_timeout(&pings);
    std::fs::remove_file(env.conf()).unwrap();

    // A reload over the control socket (`l2tpctl reload`), of a config that does not parse:
    // the daemon goes on with the old one and says so in its status.
    std::fs::write(env.conf(), format!("{text}\nbogus {{\n")).unwrap();
    let before = Instant::now();
    assert!(env.request(&Request::Reload).is_err());
    let (reloading, _) = listener.next_state("RELOADING=1 (control socket)");
    assert!(reloading.has("RELOADING=1"), "{reloading:?}");
    let second_stamp: u64 = reloading
        .value("MONOTONIC_USEC")
        .expect("MONOTONIC_USEC")
        .parse()
        .unwrap();
    // CLOCK_MONOTONIC, in microseconds: the two stamps are as far apart as the two reloads.
    let apart = Duration::from_micros(second_stamp.saturating_sub(first_stamp));
    let most = before.elapsed() + (before - signalled);
    assert!(
        second_stamp > first_stamp && apart <= most + Duration::from_millis(100),
        "MONOTONIC_USEC {first_stamp} then {second_stamp}: {apart:?} apart, at most {most:?}"
    );
    let (ready, _) = listener.next_state("READY=1 after the failed reload");
    assert!(ready.has("READY=1"), "{ready:?}");
    let status = ready.value("STATUS").unwrap();
    assert!(status.contains("the last reload failed"), "{status}");

    // A good config again, and a tunnel: the status follows the counts.
    std::fs::write(env.conf(), &text).unwrap();
    assert!(matches!(
        env.request(&Request::Reload),
        Ok(Response::Reloaded(_))
    ));
    let _ = listener.next_state("RELOADING=1");
    let (ready, _) = listener.next_state("READY=1");
    assert_eq!(
        ready.value("STATUS"),
        Some("0 tunnels (0 up), 0 sessions (0 up)")
    );
    // A peer that never answers: the tunnel stays in set-up.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = silent.local_addr().unwrap().to_string();
    env.request(&Request::CreateTunnel {
        name: "t".into(),
        params: [("peer", peer)].into_iter().collect(),
    })
    .unwrap();
    let (status, _) = listener.next_state("STATUS= with the new tunnel");
    assert_eq!(
        status.lines,
        ["STATUS=1 tunnel (0 up), 0 sessions (0 up)"],
        "{status:?}"
    );

    // SIGTERM: STOPPING=1, and a clean exit.
    env.signal(Signal::SIGTERM);
    let (stopping, _) = listener.next_state("STOPPING=1");
    assert!(stopping.has("STOPPING=1"), "{stopping:?}");
    assert!(env.wait_exit().success());
}

#[test]
fn a_daemon_that_forks_names_its_pid_and_without_a_watchdog_sends_no_pings() {
    let mut env = Env::new(l2tpd(), "sd-notify-fork");
    env.write_config("", "");
    let (listener, socket) = Listener::bind(&env);
    start_notified(&mut env, &socket, &[], false);
    let (ready, pings) = listener.next_state("READY=1");
    assert!(ready.has("READY=1") && pings.is_empty(), "{ready:?}");
    assert!(env.wait_exit().success(), "the parent exits 0 once ready");
    let pid = std::fs::read_to_string(env.pid_file()).unwrap();
    assert_eq!(ready.value("MAINPID"), Some(pid.trim()));
    let quiet = listener.during(Duration::from_secs(2));
    assert!(quiet.is_empty(), "no WATCHDOG_USEC, yet: {quiet:?}");
    let pid: i32 = pid.trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    let (stopping, _) = listener.next_state("STOPPING=1");
    assert!(stopping.has("STOPPING=1"), "{stopping:?}");
}
