//! A network namespace for the RADIUS tests of l2tpd (`radg-PID-N`, an
//! [`l2tp_testkit::lab::NsLab`], whose processes, logs and waits it offers): FreeRADIUS
//! instances running `examples/radius` on addresses of the namespace, tcpdump, `radclient`, a
//! reader of FreeRADIUS's detail files, and processes of the test (l2tpd) in the namespace.
//! `radius_guest` gives it a TAP interface holding 192.0.2.10 and 192.0.2.11, whose Ethernet
//! frames a relay thread carries to and from the qemu guest's `-l` link (qemu sends each
//! frame as one UDP datagram on 127.0.0.1); `radius_netns` puts its addresses on the
//! loopback.
//!
//! Dropping the lab stops its processes (by pid) and deletes the namespace; its directory is
//! kept when the test failed.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::ops::{Deref, DerefMut};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use l2tp_testkit::freeradius;
use l2tp_testkit::lab::NsLab;
pub use l2tp_testkit::lab::ProcId as Proc;

/// The secret of `examples/radius/clients.conf`.
pub const SECRET: &str = freeradius::SECRET;
/// The longest wait for a program to start.
const LIMIT: Duration = Duration::from_secs(30);

/// The namespace, its processes and a work directory.
pub struct Lab {
    lab: NsLab,
    capture: Option<(Proc, PathBuf)>,
}

impl Deref for Lab {
    type Target = NsLab;
    fn deref(&self) -> &NsLab {
        &self.lab
    }
}

impl DerefMut for Lab {
    fn deref_mut(&mut self) -> &mut NsLab {
        &mut self.lab
    }
}

impl Lab {
    /// The namespace, its loopback up, and a directory.
    pub fn new(tag: &str) -> Lab {
        Lab {
            lab: NsLab::new("radg", tag),
            capture: None,
        }
    }

    /// Adds `addresses` (`a.b.c.d/32`) to the loopback.
    pub fn loopback(&self, addresses: &[&str]) {
        for a in addresses {
            self.lab.add_address(a);
        }
    }

    /// The link to the guest: the TAP made in the namespace, and a relay between it and a UDP
    /// socket on 127.0.0.1. Returns (the guest's port, the host's port) for `run-guest.sh -l`.
    pub fn link(&mut self) -> (u16, u16) {
        let guest = l2tp_testkit::daemon::free_port();
        let host = l2tp_testkit::daemon::free_port();
        let tap = self
            .lab
            .in_netns(|| l2tp_dataplane::tap::Tap::create("radt0").unwrap());
        // Blocking reads: the relay thread waits in read(2).
        nix::fcntl::fcntl(
            tap.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )
        .unwrap();
        for a in ["192.0.2.10/24", "192.0.2.11/24"] {
            self.lab.ip(&["addr", "add", a, "dev", "radt0"]);
        }
        self.lab.ip(&["link", "set", "radt0", "up"]);
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

    /// The configuration directory of the FreeRADIUS on `address`.
    fn conf(&self, address: &str) -> PathBuf {
        self.lab.dir.join(format!("freeradius-{address}"))
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
            freeradius::configure(&conf, address);
        }
        let label = format!("freeradius-{address}");
        let p = self.lab.spawn(&label, &freeradius::argv(&conf));
        self.lab.wait_log(p, freeradius::READY, LIMIT);
        p
    }

    /// Starts tcpdump on `interface` for the RADIUS ports (ICMP errors about a stopped server
    /// quote truncated RADIUS, so they are left out, and L2TP is not RADIUS).
    pub fn capture(&mut self, interface: &str) {
        let path = self.lab.dir.join("radius.pcap");
        let filter = "udp port 1812 or udp port 1813 or udp port 3799 or udp port 1645";
        let p = self.lab.tcpdump(interface, &path, filter, &[]);
        self.capture = Some((p, path));
    }

    /// Stops the capture and has tshark decode it with the secret: no packet may be malformed
    /// or anything but RADIUS. Returns the number of packets and of those whose authenticator
    /// tshark found invalid.
    pub fn judge(&mut self) -> (usize, usize) {
        let (p, path) = self.capture.take().expect("no capture");
        self.lab.end_capture(p);
        let packets = freeradius::judge(&path);
        let out = Command::new("tshark")
            .args(freeradius::TSHARK_PREFS)
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
        let dictionary = freeradius::example_dir();
        let dictionary = dictionary.to_str().unwrap();
        let argv = [
            "radclient",
            "-x",
            "-t",
            "3",
            "-r",
            "1",
            "-d",
            dictionary,
            target,
            kind,
            secret,
        ];
        let out = self.lab.run(&argv, input, LIMIT);
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }
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
