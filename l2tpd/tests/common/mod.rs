//! A harness for running the real `l2tpd` binary: a temporary directory with its config,
//! control socket, pid file and log, free loopback ports, bounded waits, and a `Drop` that
//! kills whatever is left.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use l2tp_ctl::{CtlError, Request, Response};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The longest any wait in these tests lasts.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn l2tpd() -> &'static str {
    env!("CARGO_BIN_EXE_l2tpd")
}

/// A port free on both 127.0.0.1 and [::1] (UDP), found by binding and releasing, and never
/// handed to two tests of this process (which run in parallel).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..100 {
        let v4 = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        if !given.contains(&port)
            && UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], port))).is_ok()
        {
            given.push(port);
            return port;
        }
    }
    panic!("no free port");
}

/// A temporary directory for one test, removed on drop, with the daemon it started.
pub struct Env {
    pub dir: PathBuf,
    pub port: u16,
    pub child: Option<Child>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Env {
    pub fn new(name: &str) -> Env {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("l2tpd-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            dir,
            port: free_port(),
            child: None,
        }
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.join("l2tpd.conf")
    }
    pub fn sock(&self) -> PathBuf {
        self.dir.join("ctl.sock")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("l2tpd.pid")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("l2tpd.log")
    }

    /// The `system` block every test uses (loopback ports, paths in the test directory), with
    /// `extra` lines added, followed by `rest`.
    pub fn config_text(&self, extra: &str, rest: &str) -> String {
        format!(
            "system {{\n    listen 127.0.0.1:{p} [::1]:{p}\n    control_socket {}\n    \
             pid_file {}\n{extra}}}\n{rest}",
            self.sock().display(),
            self.pid_file().display(),
            p = self.port,
        )
    }

    pub fn write_config(&self, extra: &str, rest: &str) {
        std::fs::write(self.conf(), self.config_text(extra, rest)).unwrap();
    }

    /// Runs `l2tpd ARGS` to completion (bounded).
    pub fn run(&self, args: &[&str]) -> Output {
        let child = Command::new(l2tpd())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_output(child)
    }

    /// Starts `l2tpd -f -c CONF -o LOG ARGS` and waits until it answers on its socket.
    pub fn start(&mut self, args: &[&str]) {
        let conf = self.conf();
        let log = self.log();
        let child = Command::new(l2tpd())
            .arg("-f")
            .arg("-c")
            .arg(&conf)
            .arg("-o")
            .arg(&log)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until the daemon answers `show system`.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Ok(Response::System(_))) = self.try_request(&Request::ShowSystem) {
                return;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "l2tpd exited during start-up: {status}; log:\n{}",
                    self.log_text()
                );
            }
            assert!(Instant::now() < deadline, "l2tpd did not answer in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One request over the control socket.
    pub fn try_request(&self, request: &Request) -> std::io::Result<Result<Response, CtlError>> {
        let line = l2tp_ctl::encode_request(request);
        let reply = self.raw_line(&line)?;
        Ok(l2tp_ctl::decode_reply(&reply).and_then(l2tp_ctl::Reply::into_result))
    }

    pub fn request(&self, request: &Request) -> Result<Response, CtlError> {
        self.try_request(request).unwrap()
    }

    /// Sends `line` as is and returns the first line of the answer.
    pub fn raw_line(&self, line: &str) -> std::io::Result<String> {
        let stream = UnixStream::connect(self.sock())?;
        stream.set_read_timeout(Some(WAIT))?;
        (&stream).write_all(line.as_bytes())?;
        let mut reply = String::new();
        BufReader::new(&stream).read_line(&mut reply)?;
        Ok(reply)
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().expect("started").id() as i32)
    }

    pub fn signal(&self, sig: Signal) {
        kill(self.pid(), sig).unwrap();
    }

    /// Waits (bounded) for the foreground daemon to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("started");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "l2tpd did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// Waits (bounded) until the log holds `needle`, flushing it with SIGUSR1 first.
    pub fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.child.is_some() {
                let _ = kill(self.pid(), Signal::SIGUSR1);
            }
            let text = self.log_text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "log never showed {needle:?}; log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child
            && child.try_wait().ok().flatten().is_none()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A daemon that went into the background is not our child: its pid file names it.
        if let Ok(text) = std::fs::read_to_string(self.pid_file())
            && let Ok(pid) = text.trim().parse::<i32>()
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits (bounded) for `child` and collects its output; kills it on timeout.
pub fn wait_output(mut child: Child) -> Output {
    let deadline = Instant::now() + WAIT;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "process did not finish in time: {:?}",
                child.wait_with_output()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `text` with the test directory replaced by `[DIR]`, for snapshots.
pub fn redact(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[DIR]")
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
