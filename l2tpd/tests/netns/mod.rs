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

mod guest;

use l2tp_testkit::tshark::{self, Packet};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

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

/// A running capture.
#[derive(Debug)]
pub struct Capture {
    proc: ProcId,
    /// The pcap file.
    pub path: PathBuf,
}

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

    /// Starts tcpdump on `side`'s veth end, writing `capture.pcap`, and waits until it listens.
    pub fn capture(&mut self, side: Side, filter: &str) -> Capture {
        let path = self.path("capture.pcap");
        let ifname = self.ifname(side).to_string();
        let path_s = path.to_str().unwrap().to_string();
        let mut argv = vec![
            "tcpdump",
            "--immediate-mode",
            "-n",
            "-U",
            "-s",
            "0",
            "-i",
            &ifname,
            "-w",
            &path_s,
        ];
        argv.extend(filter.split_whitespace());
        let proc = self.spawn(side, "tcpdump", &argv);
        self.wait_log(proc, "listening on", SHORT);
        Capture { proc, path }
    }

    /// Stops the capture (its file is then complete at `cap.path`).
    pub fn end_capture(&mut self, cap: &Capture) {
        // tcpdump writes every packet as it comes (-U); give the last ones a moment.
        std::thread::sleep(Duration::from_millis(300));
        let status = self.stop(cap.proc, Signal::SIGINT, SHORT);
        assert!(status.is_some(), "tcpdump did not stop on SIGINT");
    }

    /// Stops the capture and has tshark decode it (`extra_args` as for
    /// [`tshark::decode_with`]); fails the test if any packet is malformed or carries an expert
    /// error, or if there is no L2TP packet at all. Returns the packets.
    pub fn judge(&mut self, cap: &Capture, extra_args: &[&str]) -> Vec<Packet> {
        self.end_capture(cap);
        let packets = tshark::decode_with(&cap.path, extra_args)
            .unwrap_or_else(|e| panic!("tshark on {}: {e}", cap.path.display()));
        // Kept for the CI step that judges every capture (scripts/judge-captures.sh).
        let name = self
            .dir
            .file_name()
            .map_or_else(|| "netns".into(), |n| n.to_string_lossy().into_owned());
        l2tp_testkit::captures::keep(&name, &cap.path).unwrap();
        l2tp_testkit::captures::set_args(&name, extra_args).unwrap();
        let bad = l2tp_testkit::tshark::unclean(&packets);
        assert!(
            bad.is_empty(),
            "tshark found problems in {}:\n{bad}\n{}",
            cap.path.display(),
            summary(&packets)
        );
        assert!(
            packets.iter().any(|p| !p.l2tp.is_empty()),
            "no L2TP packet in {} ({} packets)",
            cap.path.display(),
            packets.len()
        );
        packets
    }
}

/// One line per packet: number, version, tunnel/session id and message name.
pub fn summary(packets: &[Packet]) -> String {
    let mut s = String::new();
    for p in packets {
        let _ = match p.first_l2tp() {
            Some(l) => writeln!(
                s,
                "{:>3} v{} tid={} sid={} {}",
                p.number,
                l.version.unwrap_or(0),
                l.tunnel_id.unwrap_or(0),
                l.session_id.unwrap_or(0),
                if l.control == Some(false) {
                    "data"
                } else {
                    tshark::message_name(l.message_type)
                }
            ),
            None => writeln!(s, "{:>3} {}", p.number, p.protocols),
        };
    }
    s
}

/// Asserts that `packets` hold each of the control messages `wanted` (by name).
pub fn assert_messages(packets: &[Packet], wanted: &[&str]) {
    let names = message_names(packets);
    for m in wanted {
        assert!(
            names.contains(m),
            "no {m} in the capture: {names:?}\n{}",
            summary(packets)
        );
    }
}

/// The names of the control messages in the capture, in order (`ZLB` for acknowledgements).
pub fn message_names(packets: &[Packet]) -> Vec<&'static str> {
    packets
        .iter()
        .filter_map(Packet::first_l2tp)
        .filter(|l| l.control == Some(true))
        .map(|l| tshark::message_name(l.message_type))
        .collect()
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

// ---------------------------------------------------------------------------------------------
// l2tpd and l2tpctl

/// The `l2tpd` binary under test.
pub fn l2tpd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_l2tpd")
}

/// The `l2tpctl` binary: `$L2TPCTL_BIN`, else beside `l2tpd` in the same target directory
/// (`cargo test --workspace` builds both). When it is not there (`cargo test -p l2tpd` alone),
/// it is built once with `cargo build -p l2tpctl` into that target directory (cargo holds no
/// lock while tests run), bounded by two minutes.
pub fn l2tpctl_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("L2TPCTL_BIN") {
            return p.into();
        }
        let beside = PathBuf::from(l2tpd_bin()).with_file_name("l2tpctl");
        if !beside.exists() {
            build_l2tpctl(&beside);
        }
        assert!(
            beside.exists(),
            "{} not found: build it first (`cargo build -p l2tpctl` with the same target \
             directory, or `cargo test --workspace`), or set L2TPCTL_BIN",
            beside.display()
        );
        beside
    })
    .clone()
}

/// `cargo build -p l2tpctl` for the profile and target directory `bin` lives in
/// (`TARGET/PROFILE/l2tpctl`).
fn build_l2tpctl(bin: &Path) {
    let (Some(profile_dir), Some(cargo)) = (
        bin.parent(),
        std::env::var_os("CARGO").or_else(|| option_env!("CARGO").map(Into::into)),
    ) else {
        return;
    };
    let Some(target) = profile_dir.parent() else {
        return;
    };
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => return,
    };
    let out = run_bounded(
        Command::new(cargo)
            .args(["build", "--quiet", "-p", "l2tpctl", "--profile", profile])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR")),
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "cargo build -p l2tpctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `l2tpd -f` in one side of a lab.
#[derive(Debug)]
pub struct L2tpd {
    pub proc: ProcId,
    pub side: Side,
    pub sock: PathBuf,
    pub log: PathBuf,
    pub conf: PathBuf,
}

impl Lab {
    /// Writes `l2tpd-X.conf` (a `system` block listening on `listen`, with the control socket,
    /// pid file and log in the work directory, `dataplane none`, `log_level debug` and
    /// `system_extra`, then `rest`) and starts `l2tpd -f` in `side`'s namespace; waits until
    /// it answers `l2tpctl show system`.
    pub fn start_l2tpd(
        &mut self,
        side: Side,
        listen: &str,
        system_extra: &str,
        rest: &str,
    ) -> L2tpd {
        let x = side.letter();
        let sock = self.path(&format!("l2tpd-{x}.sock"));
        let log = self.path(&format!("l2tpd-{x}.log"));
        // `dataplane none` unless the test chooses one.
        let dataplane = if system_extra.contains("dataplane") {
            ""
        } else {
            "    dataplane none\n"
        };
        let text = format!(
            "system {{\n    listen {listen}\n    host_name \"l2tpd-{x}\"\n    control_socket {}\n    \
             pid_file {}\n{dataplane}    log_level debug\n{system_extra}}}\n\n{rest}",
            sock.display(),
            self.path(&format!("l2tpd-{x}.pid")).display(),
        );
        let conf = self.write(&format!("l2tpd-{x}.conf"), &text);
        let proc = self.spawn(
            side,
            &format!("l2tpd-{x}.stderr"),
            &[
                l2tpd_bin(),
                "-f",
                "-c",
                conf.to_str().unwrap(),
                "-o",
                log.to_str().unwrap(),
            ],
        );
        let d = L2tpd {
            proc,
            side,
            sock,
            log,
            conf,
        };
        let deadline = Instant::now() + SHORT;
        while self.ctl(&d, &["show", "system"]).is_err() {
            if let Some(status) = self.exited(proc) {
                panic!(
                    "l2tpd-{x} exited during start-up ({status}); config:\n{text}\n{}",
                    self.l2tpd_logs(&d)
                );
            }
            assert!(
                Instant::now() < deadline,
                "l2tpd-{x} did not answer on its control socket within {SHORT:?}\n{}",
                self.l2tpd_logs(&d)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    /// `l2tpctl -S SOCK --json ARGS`, parsed; `Err` with its stderr if it fails.
    pub fn ctl(&self, d: &L2tpd, args: &[&str]) -> Result<Value, String> {
        let out = run_bounded(
            Command::new(l2tpctl_bin())
                .arg("-S")
                .arg(&d.sock)
                .arg("--json")
                .args(args),
            SHORT,
        );
        if !out.status.success() {
            return Err(format!(
                "l2tpctl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "l2tpctl {} printed no JSON ({e}): {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `show tunnels` or `show sessions` as an array (empty on any error).
    pub fn list(&self, d: &L2tpd, what: &str) -> Vec<Value> {
        match self.ctl(d, &["show", what]) {
            Ok(Value::Array(a)) => a,
            _ => Vec::new(),
        }
    }

    /// The daemon's log (flushed with SIGUSR1 first) and stderr, for failure messages.
    pub fn l2tpd_logs(&self, d: &L2tpd) -> String {
        self.signal(d.proc, Signal::SIGUSR1);
        std::thread::sleep(Duration::from_millis(100));
        format!(
            "--- {} (stderr)\n{}\n--- {}\n{}",
            d.side.letter(),
            tail(&self.log_text(d.proc), 20),
            d.log.display(),
            tail(&without_polling(&read_lossy(&d.log)), 80)
        )
    }

    /// Both daemons' state and logs, for failure messages.
    pub fn pair_context(&self, a: &L2tpd, b: &L2tpd) -> String {
        let mut s = String::new();
        for d in [a, b] {
            let _ = writeln!(
                s,
                "=== side {}: tunnels {:?}\n    sessions {:?}",
                d.side.letter(),
                self.ctl(d, &["show", "tunnels"]),
                self.ctl(d, &["show", "sessions"]),
            );
        }
        for d in [a, b] {
            s.push_str(&self.l2tpd_logs(d));
            s.push('\n');
        }
        s
    }

    /// Waits until `d` shows exactly one tunnel and one session, both in state "up"; returns
    /// them.
    pub fn wait_one_up(&self, d: &L2tpd, context: impl FnOnce() -> String) -> (Value, Value) {
        poll(
            DEADLINE,
            &format!(
                "side {}: one tunnel and one session in state \"up\"",
                d.side.letter()
            ),
            || {
                let t = self.list(d, "tunnels");
                let s = self.list(d, "sessions");
                match (t.as_slice(), s.as_slice()) {
                    ([t], [s]) if t["state"] == "up" && s["state"] == "up" => {
                        Some((t.clone(), s.clone()))
                    }
                    _ => None,
                }
            },
            context,
        )
    }

    /// Waits until `d` shows no tunnel in state "up" (a tunnel the peer closed may linger in
    /// state "closing" for a retransmission cycle, RFC 2661 §5.7, RFC 3931 §4.2); returns the
    /// tunnels left.
    pub fn wait_tunnels_down(&self, d: &L2tpd, context: impl FnOnce() -> String) -> Vec<Value> {
        poll(
            DEADLINE,
            &format!("side {}: no tunnel in state \"up\"", d.side.letter()),
            || {
                let t = self.list(d, "tunnels");
                t.iter().all(|t| t["state"] != "up").then_some(t)
            },
            || {
                format!(
                    "tunnels: {:?}\n{}",
                    self.ctl(d, &["show", "tunnels"]),
                    context()
                )
            },
        )
    }

    /// Stops the daemon with SIGTERM (StopCCN to its peers) and waits for a clean exit.
    pub fn stop_l2tpd(&mut self, d: &L2tpd) {
        let status = self.stop(d.proc, Signal::SIGTERM, SHORT);
        assert!(
            status.is_some_and(|s| s.success()),
            "l2tpd-{} did not exit cleanly on SIGTERM within {SHORT:?}: {status:?}\n{}",
            d.side.letter(),
            self.l2tpd_logs(d)
        );
    }
}

/// The log without the lines of the tests' own polling (`control request: Show...`).
fn without_polling(log: &str) -> String {
    log.lines()
        .filter(|l| !l.contains("control request: Show"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A number field of a `show` object.
pub fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {field:?} in {v}"))
}
