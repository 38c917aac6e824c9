//! A network namespace with FreeRADIUS in it, and the sans-IO client driven over real UDP
//! sockets from the test.
//!
//! The namespace (`radt-PID-N`, unique per test process and lab) has only a loopback
//! interface, with 192.0.2.1, .2 and .3 and 2001:db8::1, ::2 and ::3: FreeRADIUS instances
//! listen on .1 and .2 (or ::1), the test's sockets use .3 (or ::3). The test's sockets are made inside the namespace by a thread that enters it
//! (`setns`), so the test process itself stays where it is. Each FreeRADIUS instance runs
//! `examples/radius` (copied, with its `raddbdir` and `listen_address` lines replaced) in the
//! foreground with `-X`, its output in a log in the lab's directory. [`Lab::capture`] runs
//! tcpdump on the loopback and [`Lab::judge`] has tshark decode every packet.
//!
//! Dropping the lab stops its processes (by pid), deletes the namespace and removes the
//! directory, unless the test failed: then the directory (configs, logs, detail files,
//! capture) is kept and the tail of every log is printed.
//!
//! These tests need root, FreeRADIUS (`freeradius`, `radclient`), tcpdump and tshark
//! (`scripts/deps.sh`). Without them they are skipped, except with `L2TP_REQUIRE_ALL=1` (as CI
//! runs them), where they fail.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant as StdInstant};

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use radius_proto::client::{Client, ClientConfig, Event, RequestHandle, Service, SocketId};
use radius_proto::{Attributes, Secret};

/// The secret of `examples/radius/clients.conf`.
pub const SECRET: &str = "radius-test-secret";
/// The longest wait for a program to start or an answer to come.
pub const LIMIT: Duration = Duration::from_secs(20);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// What the tests need that is not there, if anything.
fn missing() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (network namespaces)".into());
    }
    for p in ["ip", "freeradius", "radclient", "tcpdump", "tshark"] {
        let found = std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|d| d.join(p).is_file())
                || Path::new("/usr/sbin").join(p).is_file()
        });
        if !found {
            return Some(format!(
                "`{p}` is not installed (scripts/deps.sh: freeradius freeradius-utils tcpdump \
                 tshark)"
            ));
        }
    }
    None
}

/// A process of the lab.
struct Proc {
    label: String,
    child: Child,
    log: PathBuf,
}

/// The namespace, its processes and a work directory.
pub struct Lab {
    pub dir: PathBuf,
    pub ns: String,
    procs: Vec<Proc>,
    capture: Option<(usize, PathBuf)>,
}

impl Lab {
    /// A lab, or `None` (the test is skipped) when something is missing and
    /// `L2TP_REQUIRE_ALL` is not 1.
    pub fn new(tag: &str) -> Option<Lab> {
        if let Some(why) = missing() {
            assert!(
                std::env::var_os("L2TP_REQUIRE_ALL").is_none_or(|v| v != "1"),
                "cannot run: {why} (L2TP_REQUIRE_ALL=1)"
            );
            eprintln!("skipped: {why}");
            return None;
        }
        remove_stale_namespaces();
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let ns = format!("radt-{pid}-{n}");
        let dir = std::env::temp_dir().join(format!("radius-proto-{pid}-{n}-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        ip(&["netns", "add", &ns]);
        let lab = Lab {
            dir,
            ns,
            procs: Vec::new(),
            capture: None,
        };
        ip(&["-n", &lab.ns, "link", "set", "lo", "up"]);
        for last in 1..=3 {
            let v4 = format!("192.0.2.{last}/32");
            ip(&["-n", &lab.ns, "addr", "add", &v4, "dev", "lo"]);
            let v6 = format!("2001:db8::{last}/128");
            ip(&["-n", &lab.ns, "addr", "add", &v6, "dev", "lo", "nodad"]);
        }
        Some(lab)
    }

    /// Starts `argv` in the namespace with its output in `LABEL.log`.
    pub fn spawn(&mut self, label: &str, argv: &[&str]) -> usize {
        let log = self.dir.join(format!("{label}.log"));
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {argv:?}: {e}"));
        self.procs.push(Proc {
            label: label.to_string(),
            child,
            log,
        });
        self.procs.len() - 1
    }

    /// Runs `argv` in the namespace to completion (killed after `limit`).
    pub fn run(&self, argv: &[&str], stdin: &str, limit: Duration) -> Output {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            input.write_all(stdin.as_bytes()).unwrap();
        }
        let deadline = StdInstant::now() + limit;
        while child.try_wait().unwrap().is_none() {
            if StdInstant::now() >= deadline {
                let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    /// The text of a process's log.
    pub fn log(&self, p: usize) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.procs[p].log).unwrap_or_default()).into_owned()
    }

    /// Waits until the log of `p` contains `needle`.
    pub fn wait_log(&mut self, p: usize, needle: &str) {
        let deadline = StdInstant::now() + LIMIT;
        loop {
            if self.log(p).contains(needle) {
                return;
            }
            if let Some(status) = self.procs[p].child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) before logging {needle:?}\n{}",
                    self.procs[p].label,
                    self.logs()
                );
            }
            assert!(
                StdInstant::now() < deadline,
                "no {needle:?} in the log of {}\n{}",
                self.procs[p].label,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts FreeRADIUS on `192.0.2.LAST` with the configuration of `examples/radius`;
    /// returns its process and its configuration directory.
    pub fn start_freeradius(&mut self, last: u8) -> (usize, PathBuf) {
        self.start_freeradius_on(&format!("192.0.2.{last}"), &format!("freeradius-{last}"))
    }

    /// Starts FreeRADIUS on `address` (in the `listen_address` syntax) under `label`.
    pub fn start_freeradius_on(&mut self, address: &str, label: &str) -> (usize, PathBuf) {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/radius");
        let conf = self.dir.join(label);
        std::fs::create_dir_all(&conf).unwrap();
        for entry in std::fs::read_dir(&example).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), conf.join(entry.file_name())).unwrap();
            }
        }
        let main = conf.join("radiusd.conf");
        let text = std::fs::read_to_string(&main).unwrap();
        let mut replaced = 0;
        let text: String = text
            .lines()
            .map(|line| {
                let new = if line.starts_with("raddbdir = ") {
                    format!("raddbdir = {}", conf.display())
                } else if line.starts_with("listen_address = ") {
                    format!("listen_address = {address}")
                } else if line.trim() == "ipaddr = ${listen_address}" && address.contains(':') {
                    // FreeRADIUS reads `ipaddr` as IPv4.
                    "\t\tipv6addr = ${listen_address}".to_string()
                } else {
                    return format!("{line}\n");
                };
                replaced += 1;
                format!("{new}\n")
            })
            .collect();
        let expected = if address.contains(':') { 4 } else { 2 };
        assert_eq!(
            replaced, expected,
            "examples/radius/radiusd.conf lost a line the tests set"
        );
        std::fs::write(&main, text).unwrap();
        for d in ["run", "log", "radacct"] {
            std::fs::create_dir_all(conf.join(d)).unwrap();
        }
        let p = self.spawn(label, &["freeradius", "-X", "-d", conf.to_str().unwrap()]);
        self.wait_log(p, "Ready to process requests");
        (p, conf)
    }

    /// The directory radclient reads its local `dictionary` from (`-d`): `examples/radius`.
    pub fn radclient_dictionary() -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/radius")
            .to_string_lossy()
            .into_owned()
    }

    /// Stops process `p` (SIGTERM, then SIGKILL).
    pub fn stop(&mut self, p: usize) {
        let child = &mut self.procs[p].child;
        if child.try_wait().unwrap().is_none() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            let deadline = StdInstant::now() + Duration::from_secs(5);
            while child.try_wait().unwrap().is_none() && StdInstant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if child.try_wait().unwrap().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// A UDP socket bound to `addr` inside the namespace.
    pub fn socket(&self, addr: &str) -> UdpSocket {
        let ns = PathBuf::from("/run/netns").join(&self.ns);
        let addr: SocketAddr = addr.parse().unwrap();
        std::thread::spawn(move || {
            let f = File::open(&ns).unwrap();
            nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            UdpSocket::bind(addr).unwrap()
        })
        .join()
        .unwrap()
    }

    /// Starts tcpdump on the loopback for every UDP datagram (ICMP errors about the server
    /// that is down quote truncated RADIUS, so they are left out).
    pub fn capture(&mut self) {
        let path = self.dir.join("capture.pcap");
        let p = self.spawn(
            "tcpdump",
            &[
                "tcpdump",
                "--immediate-mode",
                "-n",
                "-U",
                "-s",
                "0",
                "-i",
                "lo",
                "-w",
                path.to_str().unwrap(),
                "udp",
            ],
        );
        self.wait_log(p, "listening on");
        self.capture = Some((p, path));
    }

    /// Stops the capture and has tshark decode it with the shared secret, so that it also
    /// checks every authenticator it can: no packet may be malformed, carry an expert error or
    /// an invalid authenticator, or be anything but RADIUS. Returns, per packet, its code and
    /// whether tshark found its authenticator valid (`None` where it does not check).
    pub fn judge(&mut self) -> Vec<(u8, Option<bool>)> {
        let (p, path) = self.capture.take().expect("no capture");
        std::thread::sleep(Duration::from_millis(300));
        let pid = Pid::from_raw(self.procs[p].child.id() as i32);
        let _ = kill(pid, Signal::SIGINT);
        self.stop(p);
        let prefs = [
            "-o",
            "radius.shared_secret:radius-test-secret",
            "-o",
            "radius.validate_authenticator:TRUE",
        ];
        let packets = l2tp_testkit::tshark::decode_with(&path, &prefs)
            .unwrap_or_else(|e| panic!("tshark on {}: {e}", path.display()));
        let bad = l2tp_testkit::tshark::unclean(&packets);
        assert!(
            bad.is_empty(),
            "tshark found problems in {}:\n{bad}",
            path.display()
        );
        for p in &packets {
            assert!(
                p.protocols.ends_with(":radius"),
                "frame {} is not RADIUS: {}",
                p.number,
                p.protocols
            );
        }
        let out = Command::new("tshark")
            .args(prefs)
            .arg("-r")
            .arg(&path)
            .args([
                "-n",
                "-T",
                "fields",
                "-E",
                "separator=;",
                "-e",
                "radius.code",
                "-e",
                "radius.authenticator.valid",
                "-e",
                "radius.authenticator.invalid",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let fields: Vec<(u8, Option<bool>)> = text
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split(';').collect();
                // tshark sets both booleans where it checks: valid 1 and invalid 0, or the
                // other way round.
                let valid = match (f.get(1).copied(), f.get(2).copied()) {
                    (Some("1"), Some("0")) => Some(true),
                    (Some(""), Some("")) | (None, _) => None,
                    _ => Some(false),
                };
                (f[0].parse().unwrap_or(0), valid)
            })
            .collect();
        assert_eq!(fields.len(), packets.len());
        assert!(!fields.is_empty(), "the capture is empty");
        fields
    }

    /// The tail of every log.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for p in &self.procs {
            let text =
                String::from_utf8_lossy(&std::fs::read(&p.log).unwrap_or_default()).into_owned();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            let _ = writeln!(s, "--- {} ({})\n{tail}", p.label, p.log.display());
        }
        s
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in 0..self.procs.len() {
            self.stop(p);
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        if std::thread::panicking() {
            eprintln!("lab kept: {}\n{}", self.dir.display(), self.logs());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Deletes the namespaces of earlier test processes that were killed before their `Drop` ran
/// (ours only: `radt-PID-N` with a PID that no longer runs), and what still runs in them.
fn remove_stale_namespaces() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
            return;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            let Some(Ok(pid)) = name
                .strip_prefix("radt-")
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
    });
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Random octets from the operating system, as the daemon will supply them.
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        use std::io::Read;
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(buf))
            .unwrap();
    }
}

/// The client driven over real sockets and the real clock, as the daemon will drive it.
pub struct Driver {
    pub client: Client,
    sockets: Vec<UdpSocket>,
    start: StdInstant,
    /// Every event, in order.
    pub events: Vec<Event>,
    buf: Vec<u8>,
}

impl Driver {
    pub fn new(config: ClientConfig, socket: UdpSocket) -> Self {
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        Self {
            client: Client::new(config, Box::new(OsRng)).unwrap(),
            sockets: vec![socket],
            start: StdInstant::now(),
            events: Vec::new(),
            buf: Vec::new(),
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    pub fn submit(&mut self, service: Service, attributes: Attributes) -> RequestHandle {
        let now = self.now();
        self.client.submit(now, service, attributes)
    }

    /// Sends what the client wants sent, receives for a moment, runs its timers.
    fn step(&mut self) {
        while let Some(t) = self.client.poll_transmit(&mut self.buf) {
            let socket = &self.sockets[usize::from(t.socket.0)];
            socket.send_to(&self.buf, t.destination).unwrap();
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
        let mut datagram = [0u8; 4096];
        for (i, socket) in self.sockets.iter().enumerate() {
            if let Ok((n, from)) = socket.recv_from(&mut datagram) {
                let now = Instant::from_micros(self.start.elapsed().as_micros() as u64);
                self.client
                    .handle_datagram(now, SocketId(i as u16), from, &datagram[..n]);
            }
        }
        let now = self.now();
        if self.client.poll_timeout().is_some_and(|at| at <= now) {
            self.client.handle_timeout(now);
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    /// Runs until `done` holds for the events so far (bounded by `limit`).
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&[Event]) -> bool) {
        let deadline = StdInstant::now() + limit;
        while !done(&self.events) {
            assert!(
                StdInstant::now() < deadline,
                "timed out; events so far: {:#?}",
                self.events
            );
            self.step();
        }
    }

    /// Runs until request `handle` is finished; returns its event.
    pub fn wait(&mut self, handle: RequestHandle) -> &Event {
        self.run_until(LIMIT, |events| events.iter().any(|e| finishes(e, handle)));
        self.events.iter().find(|e| finishes(e, handle)).unwrap()
    }

    pub fn secret(&self) -> Secret {
        Secret::from(SECRET)
    }
}

fn finishes(e: &Event, handle: RequestHandle) -> bool {
    matches!(e, Event::Reply { handle: h, .. } | Event::Failed { handle: h, .. } if *h == handle)
}
