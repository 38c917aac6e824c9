//! One network namespace holding the processes of a test (FreeRADIUS, l2tpns, tcpdump, the
//! daemon), each with its output in a log of the lab's directory, and bounded waits for a
//! line in a log.
//!
//! The namespace is `PREFIX-PID-N` (unique per test process and lab); its directory
//! `PREFIX-PID-N-TAG` under the temporary directory. Dropping the lab stops its processes (by
//! pid, the last started first), deletes the namespace and removes the directory, unless the
//! test failed: then the directory is kept and the tail of every log is printed. A lab also
//! deletes, once per process, the namespaces of its prefix left by test processes that were
//! killed before their `Drop` ran.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How many lines of each log [`NsLab::logs`] shows.
const TAIL: usize = 40;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// What of `programs` (looked for on `PATH` and in `/usr/sbin`) is not installed, or that
/// this is not root; `hint` says where the programs come from.
pub fn missing(programs: &[&str], hint: &str) -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (network namespaces)".into());
    }
    programs
        .iter()
        .find(|p| {
            !(std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
                || Path::new("/usr/sbin").join(p).is_file())
        })
        .map(|p| format!("`{p}` is not installed ({hint})"))
}

/// Whether a test must skip because of `why` (from [`missing`]): it says so and returns true;
/// with `L2TP_REQUIRE_ALL=1` (as CI runs the tests) it fails instead, since a skip is no pass.
pub fn skip(why: Option<String>) -> bool {
    let Some(why) = why else {
        return false;
    };
    assert!(
        std::env::var_os("L2TP_REQUIRE_ALL").is_none_or(|v| v != "1"),
        "cannot run: {why} (L2TP_REQUIRE_ALL=1)"
    );
    eprintln!("skipped: {why}");
    true
}

/// Runs `ip ARGS`; panics with its error when it fails.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A process of a lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcId(usize);

#[derive(Debug)]
struct Running {
    label: String,
    child: Child,
    log: PathBuf,
}

/// The namespace, its processes and a work directory.
#[derive(Debug)]
pub struct NsLab {
    /// The work directory (configurations, logs, captures).
    pub dir: PathBuf,
    /// The namespace's name.
    pub ns: String,
    procs: Vec<Running>,
    /// Logs the processes write themselves, shown by [`NsLab::logs`] too.
    files: Vec<(String, PathBuf)>,
}

impl NsLab {
    /// A namespace `PREFIX-PID-N` with its loopback up, and an empty directory.
    pub fn new(prefix: &str, tag: &str) -> NsLab {
        remove_stale_namespaces(prefix);
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let ns = format!("{prefix}-{pid}-{n}");
        let dir = std::env::temp_dir().join(format!("{ns}-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot make {}: {e}", dir.display()));
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        ip(&["netns", "add", &ns]);
        let lab = NsLab {
            dir,
            ns,
            procs: Vec::new(),
            files: Vec::new(),
        };
        lab.ip(&["link", "set", "lo", "up"]);
        lab
    }

    /// Runs `ip -n NS ARGS`.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.ns.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// Adds `address` (with its prefix length) to the loopback; an IPv6 one without duplicate
    /// address detection, so that it can be used at once.
    pub fn add_address(&self, address: &str) {
        if address.contains(':') {
            self.ip(&["addr", "add", address, "dev", "lo", "nodad"]);
        } else {
            self.ip(&["addr", "add", address, "dev", "lo"]);
        }
    }

    /// Starts `argv` in the namespace, its output in `LABEL.log` (`LABEL-K.log` when a
    /// process of that label was started before).
    pub fn spawn<S: AsRef<str>>(&mut self, label: &str, argv: &[S]) -> ProcId {
        let argv: Vec<&str> = argv.iter().map(AsRef::as_ref).collect();
        let before = self.procs.iter().filter(|p| p.label == label).count();
        let log = if before == 0 {
            self.dir.join(format!("{label}.log"))
        } else {
            self.dir.join(format!("{label}-{}.log", before + 1))
        };
        let out = File::create(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(&argv)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {argv:?}: {e}"));
        self.procs.push(Running {
            label: label.to_owned(),
            child,
            log,
        });
        ProcId(self.procs.len() - 1)
    }

    /// Has [`NsLab::logs`] show `path` (a log a process writes itself) under `label`.
    pub fn show_log(&mut self, label: &str, path: &Path) {
        self.files.push((label.to_owned(), path.to_owned()));
    }

    /// The log of process `p`.
    pub fn log_path(&self, p: ProcId) -> &Path {
        &self.procs[p.0].log
    }

    /// What process `p` wrote so far.
    pub fn log(&self, p: ProcId) -> String {
        read(&self.procs[p.0].log)
    }

    /// How process `p` ended, if it did.
    pub fn exited(&mut self, p: ProcId) -> Option<ExitStatus> {
        self.procs[p.0]
            .child
            .try_wait()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits, at most `limit`, until `file` contains `needle`; panics, with the logs, when
    /// process `p` ends first or the time is up.
    pub fn wait_file(&mut self, p: ProcId, file: &Path, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !read(file).contains(needle) {
            if let Some(status) = self.exited(p) {
                panic!(
                    "{} exited ({status}) before logging {needle:?}\n{}",
                    self.procs[p.0].label,
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} from {} within {limit:?}\n{}",
                self.procs[p.0].label,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits, at most `limit`, until process `p` writes `needle`.
    pub fn wait_log(&mut self, p: ProcId, needle: &str, limit: Duration) {
        let log = self.procs[p.0].log.clone();
        self.wait_file(p, &log, needle, limit);
    }

    /// Waits, at most `limit`, until process `p` ends; how it did.
    pub fn wait_exit(&mut self, p: ProcId, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited(p) {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops process `p`: SIGTERM, then SIGKILL after 5 s.
    pub fn stop(&mut self, p: ProcId) {
        self.stop_with(p, Signal::SIGTERM);
    }

    /// Stops process `p`: `signal`, then SIGKILL after 5 s.
    pub fn stop_with(&mut self, p: ProcId, signal: Signal) {
        let child = &mut self.procs[p.0].child;
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = kill(Pid::from_raw(child.id() as i32), signal);
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().ok().flatten().is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs `argv` in the namespace to completion with `stdin` as its input (killed after
    /// `limit`).
    pub fn run(&self, argv: &[&str], stdin: &str, limit: Duration) -> Output {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
        let input = child.stdin.take();
        let text = stdin.to_owned();
        // A writer of its own, so that a program that does not read cannot block the wait.
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            if let Some(mut input) = input {
                let _ = input.write_all(text.as_bytes());
            }
        });
        let pid = Pid::from_raw(child.id() as i32);
        let deadline = Instant::now() + limit;
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() >= deadline {
                let _ = kill(pid, Signal::SIGKILL);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = writer.join();
        child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    /// Runs `f` on a thread that has entered the namespace (sockets it makes stay there),
    /// while the test itself stays where it is.
    pub fn in_netns<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = PathBuf::from("/run/netns").join(&self.ns);
        std::thread::spawn(move || {
            let ns = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                .unwrap_or_else(|e| panic!("setns {}: {e}", path.display()));
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Starts tcpdump on `interface` writing what `filter` selects to `pcap` (`extra`: more
    /// options, e.g. a larger buffer), and waits until it listens.
    pub fn tcpdump(
        &mut self,
        interface: &str,
        pcap: &Path,
        filter: &str,
        extra: &[&str],
    ) -> ProcId {
        let path = pcap
            .to_str()
            .unwrap_or_else(|| panic!("not UTF-8: {}", pcap.display()));
        let mut argv = vec!["tcpdump", "--immediate-mode"];
        argv.extend_from_slice(extra);
        argv.extend_from_slice(&["-n", "-U", "-s", "0", "-i", interface, "-w", path, filter]);
        let p = self.spawn("tcpdump", &argv);
        self.wait_log(p, "listening on", Duration::from_secs(30));
        p
    }

    /// Ends the capture of tcpdump `p` after a moment for what is in flight (SIGINT, so that
    /// it writes out what it holds).
    pub fn end_capture(&mut self, p: ProcId) {
        std::thread::sleep(Duration::from_millis(300));
        self.stop_with(p, Signal::SIGINT);
    }

    /// How many packets tcpdump `p` (ended) says the kernel dropped before it could read
    /// them: what its capture may lack on a busy machine.
    pub fn capture_dropped(&self, p: ProcId) -> usize {
        read(&self.procs[p.0].log)
            .lines()
            .find_map(|l| l.strip_suffix(" packets dropped by kernel"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The tail of every log.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        let procs = self.procs.iter().map(|p| (&p.label, &p.log));
        for (label, path) in procs.chain(self.files.iter().map(|(l, p)| (l, p))) {
            let text = read(path);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(TAIL)..].join("\n");
            let _ = writeln!(s, "--- {label} ({})\n{tail}", path.display());
        }
        s
    }
}

impl Drop for NsLab {
    fn drop(&mut self) {
        for p in (0..self.procs.len()).rev() {
            self.stop(ProcId(p));
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        if std::thread::panicking() {
            eprintln!("lab kept: {}\n{}", self.dir.display(), self.logs());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// Deletes the namespaces `PREFIX-PID-...` of test processes that no longer run, and what
/// still runs in them (once per prefix and process).
fn remove_stale_namespaces(prefix: &str) {
    static DONE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    {
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if done.iter().any(|p| p == prefix) {
            return;
        }
        done.push(prefix.to_owned());
    }
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(Ok(pid)) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split('-').next())
            .map(str::parse::<i32>)
        else {
            continue;
        };
        if kill(Pid::from_raw(pid), None).is_ok() {
            continue;
        }
        if let Ok(pids) = Command::new("ip").args(["netns", "pids", name]).output() {
            for p in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
                if let Ok(p) = p.parse::<i32>() {
                    let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
                }
            }
        }
        let _ = Command::new("ip").args(["netns", "del", name]).output();
    }
}
