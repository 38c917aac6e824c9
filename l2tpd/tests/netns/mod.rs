//! Real peers in network namespaces.
//!
//! A [`Lab`] is a pair of network namespaces, side A and side B, joined by a veth: A has
//! 192.0.2.1/24 and 2001:db8::1/64, B has 192.0.2.2/24 and 2001:db8::2/64 (IPv6 without DAD, so
//! the addresses work at once, and static neighbour entries, so the first datagram is not
//! delayed by neighbour discovery). Names include the test process's pid and a counter, and
//! addresses are namespace-local, so tests run in parallel. Processes are started inside with
//! `ip netns exec NS ...` (which execs, so the child's pid is the program's own), their output
//! goes to a log in the lab's work directory, and they are stopped by pid. [`Lab::capture`]
//! runs tcpdump on one end of the veth and [`Lab::judge`] has tshark check every packet.
//!
//! Dropping the lab stops every process it started (and anything else left inside its
//! namespaces, such as the pppd stubs xl2tpd starts), deletes the namespaces, and removes the
//! work directory, unless the test failed: then the directory (configs, logs, pcap) is kept and
//! its path and the tail of every log are printed (also on success with `L2TP_NETNS_KEEP=1`).
//!
//! Every wait is bounded: [`DEADLINE`] for the protocol, [`SHORT`] for programs to start or stop.
//! These tests need root, and fail (they do not skip) without it.
//!
//! This file holds the lab, its namespaces and processes; `capture` holds captures and their
//! summaries, `daemon` the l2tpd and l2tpctl under test, `guest` the qemu guest as a peer, and
//! `ppp` two l2tpd with native PPP between them on the userspace data plane.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod capture;
mod daemon;
mod guest;
pub mod ppp;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

// Each test binary uses some of these only.
#[allow(unused_imports)]
pub use capture::{Capture, assert_messages, message_names, summary};
#[allow(unused_imports)]
pub use daemon::{L2tpd, l2tpctl_bin, l2tpd_bin};
#[allow(unused_imports)]
pub use guest::guest_l2tpd_script;

/// The longest wait for the protocol (a tunnel or session coming up or going away).
pub const DEADLINE: Duration = Duration::from_secs(30);
/// The longest wait for a program to start, answer or stop.
pub const SHORT: Duration = Duration::from_secs(10);

/// tcpdump filter: L2TP over UDP port 1701 and over IP (protocol 115), IPv4 and IPv6.
pub const L2TP_FILTER: &str = "udp port 1701 or ip proto 115 or ip6 proto 115";

/// One end of the veth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// 192.0.2.1, 2001:db8::1.
    A,
    /// 192.0.2.2, 2001:db8::2.
    B,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
    fn letter(self) -> char {
        match self {
            Side::A => 'a',
            Side::B => 'b',
        }
    }
}

/// The address family a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The side's address, without port or brackets.
    pub fn addr(self, side: Side) -> &'static str {
        match (self, side) {
            (Family::V4, Side::A) => "192.0.2.1",
            (Family::V4, Side::B) => "192.0.2.2",
            (Family::V6, Side::A) => "2001:db8::1",
            (Family::V6, Side::B) => "2001:db8::2",
        }
    }
    /// `addr:port`, with brackets for IPv6.
    pub fn sockaddr(self, side: Side, port: u16) -> String {
        match self {
            Family::V4 => format!("{}:{port}", self.addr(side)),
            Family::V6 => format!("[{}]:{port}", self.addr(side)),
        }
    }
    /// The veth's subnet.
    pub fn subnet(self) -> &'static str {
        match self {
            Family::V4 => "192.0.2.0/24",
            Family::V6 => "2001:db8::/64",
        }
    }
}

/// Fails the test, clearly, when not root (CI runs these tests as root; a skip is not a pass),
/// or when a program the tests need is missing.
pub fn require_root_and(programs: &[&str]) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests create network namespaces and must run as root (CI runs them as root); \
         run e.g. `sudo -E env PATH=$PATH cargo test -p l2tpd --test netns_l2tpd --test \
         netns_xl2tpd`"
    );
    for p in ["ip", "tcpdump", "tshark"].iter().chain(programs) {
        let found = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "`{p}` is not installed (Debian: apt-get install iproute2 tcpdump tshark xl2tpd)"
        );
    }
}

/// Runs `cmd` to completion, killing it (by pid) after `limit`.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = rx.recv_timeout(SHORT);
            panic!("{cmd:?} did not finish within {limit:?}");
        }
    }
}

/// Polls `probe` every 50 ms until it returns `Some`, or panics after `limit` with `what` and
/// whatever `context` says then.
pub fn poll<T>(
    limit: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
    context: impl FnOnce() -> String,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {limit:?} waiting for {what}\n{}",
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A process started in a namespace.
#[derive(Debug)]
struct Proc {
    label: String,
    child: Child,
    log: PathBuf,
}

/// A handle on a process of a [`Lab`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcId(usize);

/// Two namespaces joined by a veth, the processes started in them and a work directory.
#[derive(Debug)]
pub struct Lab {
    /// The work directory (configs, logs, captures).
    pub dir: PathBuf,
    ns: [String; 2],
    ifs: [String; 2],
    created: [bool; 2],
    procs: Vec<Proc>,
}

/// The veth ends' MAC addresses (each lab is its own link, so they can be the same in every lab).
const MAC: [&str; 2] = ["02:00:00:00:00:01", "02:00:00:00:00:02"];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Lab {
    /// Creates the namespaces, the veth and the addresses; `tag` names the work directory.
    /// `programs` are checked to be installed besides ip, tcpdump and tshark.
    pub fn new(tag: &str, programs: &[&str]) -> Lab {
        require_root_and(programs);
        remove_stale_namespaces();
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("l2tp-netns-{pid}-{n}-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            dir,
            ns: [
                format!("{NS_PREFIX}{pid}-{n}-a"),
                format!("{NS_PREFIX}{pid}-{n}-b"),
            ],
            // at most 15 characters
            ifs: [format!("v{pid}-{n}a"), format!("v{pid}-{n}b")],
            created: [false; 2],
            procs: Vec::new(),
        };
        for i in 0..2 {
            let ns = lab.ns[i].clone();
            ip(&["netns", "add", &ns]);
            lab.created[i] = true;
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        let [nsa, nsb] = lab.ns.clone();
        let [ifa, ifb] = lab.ifs.clone();
        ip(&[
            "link", "add", &ifa, "netns", &nsa, "address", MAC[0], "type", "veth", "peer", "name",
            &ifb, "netns", &nsb, "address", MAC[1],
        ]);
        for side in [Side::A, Side::B] {
            let (ns, ifname) = (lab.ns(side).to_string(), lab.ifname(side).to_string());
            let v4 = format!("{}/24", Family::V4.addr(side));
            let v6 = format!("{}/64", Family::V6.addr(side));
            ip(&["-n", &ns, "addr", "add", &v4, "dev", &ifname]);
            ip(&["-n", &ns, "addr", "add", &v6, "dev", &ifname, "nodad"]);
            ip(&["-n", &ns, "link", "set", &ifname, "up"]);
            // Static neighbours: right after link-up the kernel leaves the first IPv6 neighbour
            // solicitation unanswered, which would delay the first datagram by a second.
            let peer_mac = MAC[side.other().index()];
            for family in [Family::V4, Family::V6] {
                let peer = family.addr(side.other());
                ip(&[
                    "-n",
                    &ns,
                    "neigh",
                    "replace",
                    peer,
                    "lladdr",
                    peer_mac,
                    "dev",
                    &ifname,
                    "nud",
                    "permanent",
                ]);
            }
        }
        lab
    }

    /// The namespace of `side`.
    pub fn ns(&self, side: Side) -> &str {
        &self.ns[side.index()]
    }

    /// The veth end in `side`'s namespace.
    pub fn ifname(&self, side: Side) -> &str {
        &self.ifs[side.index()]
    }

    /// A path in the work directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes a file in the work directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Starts `argv` inside `side`'s namespace with stdout and stderr in `LABEL.log`.
    pub fn spawn(&mut self, side: Side, label: &str, argv: &[&str]) -> ProcId {
        let log = self.path(&format!("{label}.log"));
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", self.ns(side)])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {argv:?} in {}: {e}", self.ns(side)));
        self.procs.push(Proc {
            label: label.to_string(),
            child,
            log,
        });
        ProcId(self.procs.len() - 1)
    }

    /// Runs `argv` inside `side`'s namespace to completion, bounded by `limit`.
    pub fn run(&self, side: Side, argv: &[&str], limit: Duration) -> Output {
        run_bounded(
            Command::new("ip")
                .args(["netns", "exec", self.ns(side)])
                .args(argv),
            limit,
        )
    }

    /// `count` pings from `side` to `target` (IPv4 or IPv6), 0.2 s apart, each waited for 2 s
    /// and all within 15 s.
    pub fn ping(&self, side: Side, target: &str, count: u32) -> Output {
        let count = count.to_string();
        let argv = [
            "ping", "-c", &count, "-i", "0.2", "-W", "2", "-w", "15", target,
        ];
        self.run(side, &argv, Duration::from_secs(20))
    }

    /// The pid of a process (the program's own: `ip netns exec` execs it).
    pub fn pid(&self, p: ProcId) -> Pid {
        Pid::from_raw(self.procs[p.0].child.id() as i32)
    }

    /// The log (stdout and stderr) of a process.
    pub fn log_path(&self, p: ProcId) -> &Path {
        &self.procs[p.0].log
    }

    pub fn log_text(&self, p: ProcId) -> String {
        read_lossy(self.log_path(p))
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self, p: ProcId) -> Option<ExitStatus> {
        self.procs[p.0].child.try_wait().ok().flatten()
    }

    pub fn signal(&self, p: ProcId, sig: Signal) {
        let _ = kill(self.pid(p), sig);
    }

    /// Waits (bounded by `limit`) for the process to exit after `sig`; SIGKILL after that.
    /// Returns the exit status, `None` if it had to be killed.
    pub fn stop(&mut self, p: ProcId, sig: Signal, limit: Duration) -> Option<ExitStatus> {
        if let Some(s) = self.exited(p) {
            return Some(s);
        }
        self.signal(p, sig);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(s) = self.exited(p) {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.signal(p, Signal::SIGKILL);
        let _ = self.procs[p.0].child.wait();
        None
    }

    /// Waits until the process's log matches `needle`, failing if it exits first.
    pub fn wait_log(&mut self, p: ProcId, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.log_text(p);
            if text.contains(needle) {
                return text;
            }
            let label = &self.procs[p.0].label.clone();
            if let Some(status) = self.exited(p) {
                panic!(
                    "{label} exited ({status}) before logging {needle:?}\n{}",
                    self.logs_summary()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {limit:?} waiting for {needle:?} in the log of {label}\n{}",
                    self.logs_summary()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of every log, for failure messages.
    pub fn logs_summary(&self) -> String {
        let mut s = String::new();
        for p in &self.procs {
            let _ = writeln!(
                s,
                "--- {} ({})\n{}",
                p.label,
                p.log.display(),
                tail(&read_lossy(&p.log), 60)
            );
        }
        s
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        // Ask politely, then kill; everything by pid.
        for p in &mut self.procs {
            if p.child.try_wait().ok().flatten().is_none() {
                let _ = kill(Pid::from_raw(p.child.id() as i32), Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for p in &mut self.procs {
            while p.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if p.child.try_wait().ok().flatten().is_none() {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
        for i in 0..2 {
            if self.created[i] {
                kill_inside(&self.ns[i]);
                let _ = quiet_ip(&["netns", "del", &self.ns[i]]);
            }
        }
        if failed || std::env::var_os("L2TP_NETNS_KEEP").is_some() {
            eprintln!(
                "netns lab kept for inspection: {} (configs, logs, capture.pcap)\n{}",
                self.dir.display(),
                self.logs_summary()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The prefix of every namespace these tests create: `l2tpt-PID-N-a`.
const NS_PREFIX: &str = "l2tpt-";

/// Kills (by pid) whatever still runs in namespace `ns`.
fn kill_inside(ns: &str) {
    if let Ok(out) = quiet_ip(&["netns", "pids", ns]) {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// Deletes namespaces left by an earlier test process that was killed before its `Drop` ran
/// (only ours, recognised by the prefix and a pid that no longer runs). Once per process.
fn remove_stale_namespaces() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let Ok(out) = quiet_ip(&["netns", "list"]) else {
            return;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            let Some(rest) = name.strip_prefix(NS_PREFIX) else {
                continue;
            };
            let Some(Ok(pid)) = rest.split('-').next().map(str::parse::<i32>) else {
                continue;
            };
            let gone = kill(Pid::from_raw(pid), None).is_err();
            if gone {
                kill_inside(name);
                let _ = quiet_ip(&["netns", "del", name]);
            }
        }
    });
}

fn quiet_ip(args: &[&str]) -> Result<Output, String> {
    let out = run_bounded(Command::new("ip").args(args), SHORT);
    if out.status.success() {
        Ok(out)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Runs `ip ARGS`, failing the test if it fails.
pub fn ip(args: &[&str]) {
    if let Err(e) = quiet_ip(args) {
        panic!("ip {}: {e}", args.join(" "));
    }
}

fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A number field of a `show` object.
pub fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {field:?} in {v}"))
}

/// Session `s` (as `show session` gives it) carried at least `packets` data packets each way,
/// with no cookie mismatch and no sequencing error.
pub fn assert_carried_cleanly(s: &Value, packets: u64) {
    let st = &s["stats"];
    assert!(
        num(st, "rx_packets") >= packets && num(st, "tx_packets") >= packets,
        "counters: {s}"
    );
    assert_eq!(num(st, "rx_cookie_mismatches"), 0, "{s}");
    assert_eq!(num(st, "rx_seq_errors"), 0, "{s}");
}
