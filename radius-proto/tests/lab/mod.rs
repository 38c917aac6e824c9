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

use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::time::{Duration, Instant as StdInstant};

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;
use l2tp_testkit::freeradius;
use l2tp_testkit::lab::{NsLab, ProcId};
use radius_proto::client::{Client, ClientConfig, Event, RequestHandle, Service, SocketId};
use radius_proto::{Attributes, Secret};

/// The secret of `examples/radius/clients.conf`.
pub const SECRET: &str = freeradius::SECRET;
/// The longest wait for a program to start or an answer to come.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The namespace, its processes and a work directory (the namespace's processes, logs and
/// `run` are those of [`NsLab`]).
pub struct Lab {
    lab: NsLab,
    capture: Option<(ProcId, PathBuf)>,
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
    /// A lab, or `None` (the test is skipped) when something is missing and
    /// `L2TP_REQUIRE_ALL` is not 1.
    pub fn new(tag: &str) -> Option<Lab> {
        let why = l2tp_testkit::lab::missing(
            &["ip", "freeradius", "radclient", "tcpdump", "tshark"],
            "scripts/deps.sh: freeradius freeradius-utils tcpdump tshark",
        );
        if l2tp_testkit::lab::skip(why) {
            return None;
        }
        let lab = NsLab::new("radt", tag);
        for last in 1..=3 {
            lab.add_address(&format!("192.0.2.{last}/32"));
            lab.add_address(&format!("2001:db8::{last}/128"));
        }
        Some(Lab { lab, capture: None })
    }

    /// Starts FreeRADIUS on `192.0.2.LAST` with the configuration of `examples/radius`;
    /// returns its process and its configuration directory.
    pub fn start_freeradius(&mut self, last: u8) -> (ProcId, PathBuf) {
        self.start_freeradius_on(&format!("192.0.2.{last}"), &format!("freeradius-{last}"))
    }

    /// Starts FreeRADIUS on `address` (in the `listen_address` syntax) under `label`.
    pub fn start_freeradius_on(&mut self, address: &str, label: &str) -> (ProcId, PathBuf) {
        let conf = self.lab.dir.join(label);
        freeradius::configure(&conf, address);
        let p = self.lab.spawn(label, &freeradius::argv(&conf));
        self.lab.wait_log(p, freeradius::READY, LIMIT);
        (p, conf)
    }

    /// The directory radclient reads its local `dictionary` from (`-d`): `examples/radius`.
    pub fn radclient_dictionary() -> String {
        freeradius::example_dir().to_string_lossy().into_owned()
    }

    /// A UDP socket bound to `addr` inside the namespace.
    pub fn socket(&self, addr: &str) -> UdpSocket {
        let addr: SocketAddr = addr.parse().unwrap();
        self.lab.in_netns(move || UdpSocket::bind(addr).unwrap())
    }

    /// Starts tcpdump on the loopback for every UDP datagram (ICMP errors about the server
    /// that is down quote truncated RADIUS, so they are left out).
    pub fn capture(&mut self) {
        let path = self.lab.dir.join("capture.pcap");
        let p = self.lab.tcpdump("lo", &path, "udp", &[]);
        self.capture = Some((p, path));
    }

    /// Stops the capture and has tshark decode it with the shared secret, so that it also
    /// checks every authenticator it can: no packet may be malformed, carry an expert error or
    /// an invalid authenticator, or be anything but RADIUS. Returns, per packet, its code and
    /// whether tshark found its authenticator valid (`None` where it does not check).
    pub fn judge(&mut self) -> Vec<(u8, Option<bool>)> {
        let (p, path) = self.capture.take().expect("no capture");
        self.lab.end_capture(p);
        let packets = freeradius::judge(&path);
        let rows = freeradius::fields(
            &path,
            &[
                "radius.code",
                "radius.authenticator.valid",
                "radius.authenticator.invalid",
            ],
        );
        let fields: Vec<(u8, Option<bool>)> = rows
            .iter()
            .map(|f| {
                // tshark sets both booleans where it checks: valid 1 and invalid 0, or the
                // other way round.
                let valid = match (f.get(1).map(String::as_str), f.get(2).map(String::as_str)) {
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

    /// Runs for `time`.
    pub fn run_for(&mut self, time: Duration) {
        let end = StdInstant::now() + time;
        while StdInstant::now() < end {
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
