//! A network namespace for the RADIUS tests of l2tpd (`radg-PID-TAG`): FreeRADIUS instances
//! running `examples/radius` on addresses of the namespace, tcpdump, `radclient`, a reader of
//! FreeRADIUS's detail files, and processes of the test (l2tpd) in the namespace.
//! `radius_guest` gives it a TAP interface holding 192.0.2.10 and 192.0.2.11, whose Ethernet
//! frames a relay thread carries to and from the qemu guest's `-l` link (qemu sends each
//! frame as one UDP datagram on 127.0.0.1); `radius_netns` puts its addresses on the
//! loopback.
//!
//! Dropping the lab stops its processes (by pid) and deletes the namespace; its directory is
//! kept when the test failed.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::fs::File;
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The secret of `examples/radius/clients.conf`.
pub const SECRET: &str = "radius-test-secret";
/// The longest wait for a program to start.
const LIMIT: Duration = Duration::from_secs(30);

/// A process of the lab, by its index.
#[derive(Debug)]
pub struct Proc(usize);

struct Running {
    label: String,
    child: Child,
    log: PathBuf,
}

/// The namespace, its processes and a work directory.
pub struct Lab {
    pub dir: PathBuf,
    pub ns: String,
    procs: Vec<Running>,
    capture: Option<(usize, PathBuf)>,
    starts: usize,
}

impl Lab {
    /// The namespace, its loopback up, and a directory.
    pub fn new(tag: &str) -> Lab {
        let pid = std::process::id();
        let ns = format!("radg-{pid}-{tag}");
        let dir = std::env::temp_dir().join(format!("radius-lab-{pid}-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("ip").args(["netns", "del", &ns]).output();
        ip(&["netns", "add", &ns]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        Lab {
            dir,
            ns,
            procs: Vec::new(),
            capture: None,
            starts: 0,
        }
    }

    /// Adds `addresses` (`a.b.c.d/32`) to the loopback.
    pub fn loopback(&self, addresses: &[&str]) {
        for a in addresses {
            ip(&["-n", &self.ns, "addr", "add", a, "dev", "lo"]);
        }
    }

    /// The link to the guest: the TAP made in the namespace, and a relay between it and a UDP
    /// socket on 127.0.0.1. Returns (the guest's port, the host's port) for `run-guest.sh -l`.
    pub fn link(&mut self) -> (u16, u16) {
        let guest = l2tp_testkit::daemon::free_port();
        let host = l2tp_testkit::daemon::free_port();
        let ns = PathBuf::from("/run/netns").join(&self.ns);
        let tap = std::thread::spawn(move || {
            let f = File::open(&ns).unwrap();
            nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            l2tp_dataplane::tap::Tap::create("radt0").unwrap()
        })
        .join()
        .unwrap();
        // Blocking reads: the relay thread waits in read(2).
        nix::fcntl::fcntl(
            tap.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )
        .unwrap();
        for a in ["192.0.2.10/24", "192.0.2.11/24"] {
            ip(&["-n", &self.ns, "addr", "add", a, "dev", "radt0"]);
        }
        ip(&["-n", &self.ns, "link", "set", "radt0", "up"]);
        let udp = UdpSocket::bind(("127.0.0.1", host)).unwrap();
        udp.connect(("127.0.0.1", guest)).unwrap();
        let (tap, udp) = (Arc::new(tap), Arc::new(udp));
        {
            let (tap, udp) = (Arc::clone(&tap), Arc::clone(&udp));
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_536];
                loop {
                    match udp.recv(&mut buf) {
                        Ok(n) => {
                            let _ = tap.write(&buf[..n]);
                        }
                        // ECONNREFUSED until qemu runs.
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            });
        }
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            loop {
                match tap.read(&mut buf) {
                    Ok(n) => {
                        let _ = udp.send(&buf[..n]);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        (guest, host)
    }

    /// Starts `argv` in the namespace, its output in a log of the lab.
    pub fn spawn(&mut self, label: &str, argv: &[&str]) -> Proc {
        self.starts += 1;
        let log = self.dir.join(format!("{label}-{}.log", self.starts));
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
        self.procs.push(Running {
            label: label.to_owned(),
            child,
            log,
        });
        Proc(self.procs.len() - 1)
    }

    /// What process `p` wrote.
    pub fn log(&self, p: &Proc) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.procs[p.0].log).unwrap_or_default())
            .into_owned()
    }

    /// Waits until process `p` writes `needle`.
    pub fn wait_log(&mut self, p: &Proc, needle: &str) {
        let deadline = Instant::now() + LIMIT;
        while !self.log(p).contains(needle) {
            if let Some(status) = self.procs[p.0].child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) before logging {needle:?}\n{}",
                    self.procs[p.0].label,
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} from {}\n{}",
                self.procs[p.0].label,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The configuration directory of the FreeRADIUS on `address`.
    fn conf(&self, address: &str) -> PathBuf {
        self.dir.join(format!("freeradius-{address}"))
    }

    /// The detail file of the FreeRADIUS on `address`.
    pub fn detail(&self, address: &str) -> PathBuf {
        self.conf(address).join("radacct/detail")
    }

    /// Starts FreeRADIUS on `address` with `examples/radius` (its directory is made the first
    /// time and kept, detail file included, when it is started again).
    pub fn start_freeradius(&mut self, address: &str) -> Proc {
        let conf = self.conf(address);
        if !conf.exists() {
            let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/radius");
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
                    if line.starts_with("raddbdir = ") {
                        replaced += 1;
                        format!("raddbdir = {}\n", conf.display())
                    } else if line.starts_with("listen_address = ") {
                        replaced += 1;
                        format!("listen_address = {address}\n")
                    } else {
                        format!("{line}\n")
                    }
                })
                .collect();
            assert_eq!(
                replaced, 2,
                "examples/radius/radiusd.conf lost a line the test sets"
            );
            std::fs::write(&main, text).unwrap();
            for d in ["run", "log", "radacct"] {
                std::fs::create_dir_all(conf.join(d)).unwrap();
            }
        }
        let label = format!("freeradius-{address}");
        let p = self.spawn(&label, &["freeradius", "-X", "-d", conf.to_str().unwrap()]);
        self.wait_log(&p, "Ready to process requests");
        p
    }

    /// Waits, at most `limit`, until process `p` exits; whether it did, with status 0.
    pub fn wait_exit(&mut self, p: &Proc, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.procs[p.0].child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops process `p` (SIGTERM, then SIGKILL).
    pub fn stop(&mut self, p: Proc) {
        let child = &mut self.procs[p.0].child;
        if child.try_wait().unwrap().is_none() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if child.try_wait().unwrap().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Starts tcpdump on `interface` for the RADIUS ports (ICMP errors about a stopped server
    /// quote truncated RADIUS, so they are left out, and L2TP is not RADIUS).
    pub fn capture(&mut self, interface: &str) {
        let path = self.dir.join("radius.pcap");
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
                interface,
                "-w",
                path.to_str().unwrap(),
                "udp port 1812 or udp port 1813 or udp port 3799 or udp port 1645",
            ],
        );
        self.wait_log(&p, "listening on");
        self.capture = Some((p.0, path));
    }

    /// Stops the capture and has tshark decode it with the secret: no packet may be malformed
    /// or anything but RADIUS. Returns the number of packets and of those whose authenticator
    /// tshark found invalid.
    pub fn judge(&mut self) -> (usize, usize) {
        let (p, path) = self.capture.take().expect("no capture");
        std::thread::sleep(Duration::from_millis(300));
        let _ = kill(
            Pid::from_raw(self.procs[p].child.id() as i32),
            Signal::SIGINT,
        );
        self.stop(Proc(p));
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
            .args(["-n", "-T", "fields", "-e", "radius.authenticator.invalid"])
            .output()
            .unwrap();
        let invalid = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.trim() == "1")
            .count();
        (packets.len(), invalid)
    }

    /// `radclient` sends a Disconnect-Request for Acct-Session-Id `id` to `target`; its
    /// output.
    pub fn radclient_disconnect(&self, target: &str, id: &str) -> String {
        let input = format!("Acct-Session-Id = \"{id}\"\nNAS-Identifier = \"lns-1\"\n");
        self.radclient(target, "disconnect", SECRET, &input)
    }

    /// `radclient` sends a request of `kind` (`disconnect`, `coa`, `auth`, ...) with the
    /// attributes `input` to `target` with `secret` (one try, a 3 s wait); its output.
    pub fn radclient(&self, target: &str, kind: &str, secret: &str, input: &str) -> String {
        let dictionary = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/radius");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(["radclient", "-x", "-t", "3", "-r", "1", "-d"])
            .arg(&dictionary)
            .args([target, kind, secret])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("radclient");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    /// The tail of every log.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for p in &self.procs {
            let text =
                String::from_utf8_lossy(&std::fs::read(&p.log).unwrap_or_default()).into_owned();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            let _ = writeln!(s, "--- {} ({})\n{tail}", p.label, p.log.display());
        }
        s
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in 0..self.procs.len() {
            self.stop(Proc(p));
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        if std::thread::panicking() {
            eprintln!("lab kept: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
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

/// One record of a detail file: its attributes as FreeRADIUS wrote them (strings quoted,
/// enumerated values by name, octets as `0x...`).
#[derive(Clone, Debug, Default)]
pub struct Record(Vec<(String, String)>);

impl Record {
    /// The first value of `attr`.
    pub fn get(&self, attr: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == attr)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, v) in &self.0 {
            writeln!(f, "\t{k} = {v}")?;
        }
        Ok(())
    }
}

/// The records of some detail files.
#[derive(Debug, Default)]
pub struct Detail {
    pub records: Vec<Record>,
}

impl Detail {
    /// Reads `files` (a missing one has no records).
    pub fn read(files: &[&Path]) -> Detail {
        let mut records = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let mut cur: Option<Record> = None;
            for line in text.lines() {
                if line.trim().is_empty() {
                    records.extend(cur.take());
                } else if let Some(kv) = line.strip_prefix('\t') {
                    if let Some((k, v)) = kv.split_once(" = ") {
                        cur.get_or_insert_with(Record::default)
                            .0
                            .push((k.trim().to_owned(), v.trim().to_owned()));
                    }
                } else {
                    // The header line (a date) starts a record.
                    records.extend(cur.take());
                    cur = Some(Record::default());
                }
            }
            records.extend(cur.take());
        }
        Detail { records }
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for r in &self.records {
            writeln!(f, "{r}")?;
        }
        Ok(())
    }
}
