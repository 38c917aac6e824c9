//! Running the real `l2tpd` binary in a test: a temporary directory with its config, control
//! socket, pid file and log, free loopback ports, requests over the control socket, bounded
//! waits, and a `Drop` that kills whatever is left.
//!
//! The binary is passed in: `env!("CARGO_BIN_EXE_l2tpd")` in `l2tpd`'s own tests,
//! [`l2tpd_beside`] in the tests of other crates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use l2tp_ctl::{CtlError, Request, Response};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The longest any wait of this harness lasts.
pub const WAIT: Duration = Duration::from_secs(10);

/// The `l2tpd` binary for the tests of another crate whose binary is `own_bin`: `$L2TPD_BIN`,
/// else the `l2tpd` beside `own_bin` in the same target directory, built first with
/// `cargo build -p l2tpd` for that profile and target directory (if that build fails, an
/// `l2tpd` already there is used). Looked up once per test process.
pub fn l2tpd_beside(own_bin: &str) -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| program_beside(own_bin, "l2tpd", "l2tpd", "L2TPD_BIN"))
        .clone()
}

/// The `l2tpctl` binary for the tests of another crate whose binary is `own_bin`, found or
/// built as [`l2tpd_beside`] finds `l2tpd` (`$L2TPCTL_BIN` first).
pub fn l2tpctl_beside(own_bin: &str) -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| program_beside(own_bin, "l2tpctl", "l2tpctl", "L2TPCTL_BIN"))
        .clone()
}

/// Runs `l2tpctl -S SOCKET ARGS` (the `l2tpctl` of [`l2tpctl_beside`]); its standard output
/// and then its standard error, as text.
///
/// # Panics
///
/// If `l2tpctl` cannot be started.
pub fn l2tpctl_text(own_bin: &str, socket: &Path, args: &[&str]) -> String {
    let out = Command::new(l2tpctl_beside(own_bin))
        .arg("-S")
        .arg(socket)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("l2tpctl: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The `l2tp-loadgen` binary for the tests of another crate whose binary is `own_bin`, found
/// or built as [`l2tpd_beside`] finds `l2tpd` (`$L2TP_LOADGEN_BIN` first).
pub fn loadgen_beside(own_bin: &str) -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| program_beside(own_bin, "l2tp-loadgen", "l2tp-loadgen", "L2TP_LOADGEN_BIN"))
        .clone()
}

/// Program `name` of package `package` beside `own_bin` (or `$var`), built first.
fn program_beside(own_bin: &str, package: &str, name: &str, var: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return p.into();
    }
    let beside = PathBuf::from(own_bin).with_file_name(name);
    let built = build(&beside, package);
    assert!(
        beside.exists(),
        "{} not found and `cargo build -p {package}` failed: {built}; set {var}",
        beside.display()
    );
    if !built.is_empty() {
        eprintln!("cargo build -p {package} failed, using the existing binary: {built}");
    }
    beside
}

/// `cargo build -p PACKAGE` into the target directory and profile of `bin`; the error text on
/// failure, empty on success.
fn build(bin: &Path, package: &str) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (Some(profile_dir), Some(target)) = (bin.parent(), bin.parent().and_then(Path::parent))
    else {
        return "no target directory".into();
    };
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => return "no profile".into(),
    };
    let child = Command::new(cargo)
        .args(["build", "--quiet", "-p", package, "--profile", profile])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    match child {
        Ok(c) => {
            let out = wait_output_within(c, Duration::from_secs(300));
            if out.status.success() {
                String::new()
            } else {
                String::from_utf8_lossy(&out.stderr).into_owned()
            }
        }
        Err(e) => e.to_string(),
    }
}

/// A port free on both 127.0.0.1 and `[::1]` (UDP), found by binding and releasing, and never
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

/// A temporary directory for one test, removed on drop, with the `l2tpd` it started (if any)
/// and the loopback port it listens on.
#[derive(Debug)]
pub struct Env {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub port: u16,
    pub child: Option<Child>,
}

impl Env {
    /// A fresh directory for the test `name`, to run the `l2tpd` at `bin` in.
    pub fn new(bin: impl Into<PathBuf>, name: &str) -> Env {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("l2tpd-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            bin: bin.into(),
            dir,
            port: free_port(),
            child: None,
        }
    }

    /// [`Env::new`], [`Env::write_config`] and [`Env::start`] with no arguments.
    pub fn started(bin: impl Into<PathBuf>, name: &str, extra: &str, rest: &str) -> Env {
        let mut env = Env::new(bin, name);
        env.write_config(extra, rest);
        env.start(&[]);
        env
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
        wait_output(spawn_piped(Command::new(&self.bin).args(args)))
    }

    /// Starts `l2tpd -f -c CONF -o LOG ARGS` and waits until it answers on its socket.
    pub fn start(&mut self, args: &[&str]) {
        let child = Command::new(&self.bin)
            .arg("-f")
            .arg("-c")
            .arg(self.conf())
            .arg("-o")
            .arg(self.log())
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

/// Starts `command` with no input and its output and errors piped.
pub fn spawn_piped(command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

/// Waits (bounded by [`WAIT`]) for `child` and collects its output; kills it on timeout.
pub fn wait_output(child: Child) -> Output {
    wait_output_within(child, WAIT)
}

/// Waits at most `limit` for `child` and collects its output; kills it on timeout.
pub fn wait_output_within(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
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

/// Whether process `pid` has ended: gone, or a zombie nobody has reaped yet.
pub fn process_ended(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, s)| s.starts_with('Z')),
    }
}
