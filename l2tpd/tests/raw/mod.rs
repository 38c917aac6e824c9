//! A hand-written L2TPv2 peer over a plain UDP socket, for sending a live daemon exactly the
//! bytes a test wants (well-formed or not) and recording everything it answers.
//!
//! A background thread receives, records each message and, while `auto_ack` is on, acknowledges
//! every non-ZLB message with a ZLB, so that an established tunnel stays up (HELLOs answered).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Message types (RFC 2661 §3.2).
pub mod mt {
    pub const SCCRQ: u16 = 1;
    pub const SCCRP: u16 = 2;
    pub const SCCCN: u16 = 3;
    pub const STOPCCN: u16 = 4;
    pub const HELLO: u16 = 6;
    pub const ICRQ: u16 = 10;
    pub const ICRP: u16 = 11;
    pub const ICCN: u16 = 12;
    pub const CDN: u16 = 14;
}

/// One AVP: `M` bit, attribute type, value (vendor 0).
pub fn avp(mandatory: bool, attr: u16, value: &[u8]) -> Vec<u8> {
    let len = 6 + value.len() as u16;
    let flags = if mandatory { 0x8000 } else { 0 };
    let mut v = (flags | len).to_be_bytes().to_vec();
    v.extend_from_slice(&0u16.to_be_bytes());
    v.extend_from_slice(&attr.to_be_bytes());
    v.extend_from_slice(value);
    v
}

/// The Message Type AVP.
pub fn msg_type(t: u16) -> Vec<u8> {
    avp(true, 0, &t.to_be_bytes())
}

/// An L2TPv2 control message (T, L, S bits; Ver 2) with `body` as its AVPs.
pub fn control(tid: u16, sid: u16, ns: u16, nr: u16, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(12 + body.len());
    v.extend_from_slice(&0xC802u16.to_be_bytes());
    v.extend_from_slice(&(12 + body.len() as u16).to_be_bytes());
    for x in [tid, sid, ns, nr] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

/// The AVPs of a plain SCCRQ assigning tunnel id `assigned`.
pub fn sccrq_body(assigned: u16) -> Vec<u8> {
    [
        msg_type(mt::SCCRQ),
        avp(true, 2, &[1, 0]),
        avp(true, 7, b"raw-peer"),
        avp(true, 3, &3u32.to_be_bytes()),
        avp(true, 9, &assigned.to_be_bytes()),
    ]
    .concat()
}

/// The AVPs of a plain ICRQ assigning session id `assigned`.
pub fn icrq_body(assigned: u16) -> Vec<u8> {
    [
        msg_type(mt::ICRQ),
        avp(true, 14, &assigned.to_be_bytes()),
        avp(true, 15, &7u32.to_be_bytes()),
    ]
    .concat()
}

/// The AVPs of an ICCN.
pub fn iccn_body() -> Vec<u8> {
    [
        msg_type(mt::ICCN),
        avp(true, 24, &10_000_000u32.to_be_bytes()),
        avp(true, 19, &1u32.to_be_bytes()),
    ]
    .concat()
}

/// One datagram received from the daemon.
#[derive(Clone, Debug)]
pub struct Rx {
    pub from: SocketAddr,
    pub tid: u16,
    pub sid: u16,
    pub ns: u16,
    pub nr: u16,
    /// `None` for a ZLB.
    pub msg_type: Option<u16>,
    /// (attribute type, value) of each vendor-0 AVP.
    pub avps: Vec<(u16, Vec<u8>)>,
    pub raw: Vec<u8>,
}

impl Rx {
    pub fn avp(&self, attr: u16) -> Option<&[u8]> {
        self.avps
            .iter()
            .find(|(a, _)| *a == attr)
            .map(|(_, v)| v.as_slice())
    }

    /// (result, error) of the Result Code AVP.
    pub fn result_code(&self) -> Option<(u16, Option<u16>)> {
        let v = self.avp(1)?;
        let result = u16::from_be_bytes([*v.first()?, *v.get(1)?]);
        let error = (v.len() >= 4).then(|| u16::from_be_bytes([v[2], v[3]]));
        Some((result, error))
    }
}

fn parse(raw: &[u8], from: SocketAddr) -> Option<Rx> {
    let w = |i: usize| Some(u16::from_be_bytes([*raw.get(i)?, *raw.get(i + 1)?]));
    if w(0)? & 0x8000 == 0 {
        return None;
    }
    let len = usize::from(w(2)?).min(raw.len());
    let mut avps = Vec::new();
    let mut at = 12;
    while at + 6 <= len {
        let alen = usize::from(w(at)? & 0x03FF);
        if alen < 6 || at + alen > len {
            break;
        }
        if w(at + 2)? == 0 {
            avps.push((w(at + 4)?, raw[at + 6..at + alen].to_vec()));
        }
        at += alen;
    }
    let msg_type = avps
        .first()
        .filter(|(a, v)| *a == 0 && v.len() == 2)
        .map(|(_, v)| u16::from_be_bytes([v[0], v[1]]));
    Some(Rx {
        from,
        tid: w(4)?,
        sid: w(6)?,
        ns: w(8)?,
        nr: w(10)?,
        msg_type,
        avps,
        raw: raw.to_vec(),
    })
}

#[derive(Debug, Default)]
pub struct State {
    /// Our next Ns.
    pub ns: u16,
    /// The next Ns expected from the daemon (our Nr).
    pub nr: u16,
    /// The daemon's tunnel id, once learned from its SCCRP.
    pub daemon_tid: u16,
    /// Where the daemon's tunnel sends from (RFC 2661 §8.1: maybe another port).
    pub daemon_addr: Option<SocketAddr>,
    pub received: Vec<Rx>,
    pub auto_ack: bool,
}

/// The peer: a socket, its recorded state and the receiving thread.
pub struct RawPeer {
    pub sock: Arc<UdpSocket>,
    pub daemon: SocketAddr,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawPeer {
    /// A peer on a new loopback port, talking to `daemon`.
    pub fn new(daemon: SocketAddr) -> RawPeer {
        Self::on(UdpSocket::bind("127.0.0.1:0").unwrap(), daemon)
    }

    /// A peer on `sock` (bound where the test wants it: a fixed port, a namespace's address),
    /// talking to `daemon`.
    pub fn on(sock: UdpSocket, daemon: SocketAddr) -> RawPeer {
        let sock = Arc::new(sock);
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let state = Arc::new(Mutex::new(State {
            auto_ack: true,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (sock, state, stop) = (sock.clone(), state.clone(), stop.clone());
            std::thread::spawn(move || receive_loop(&sock, &state, &stop))
        };
        RawPeer {
            sock,
            daemon,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends raw bytes to the daemon's listen address.
    pub fn send_raw(&self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.daemon).unwrap();
    }

    /// Sends a message with `body` on tunnel `tid`, session `sid`, with the next Ns.
    pub fn send(&self, tid: u16, sid: u16, body: &[u8]) {
        self.send_kept(tid, sid, body);
    }

    /// [`RawPeer::send`], returning the datagram sent (to judge it).
    pub fn send_kept(&self, tid: u16, sid: u16, body: &[u8]) -> Vec<u8> {
        let (bytes, to) = {
            let mut s = self.state.lock().unwrap();
            let bytes = control(tid, sid, s.ns, s.nr, body);
            s.ns = s.ns.wrapping_add(1);
            (bytes, s.daemon_addr.unwrap_or(self.daemon))
        };
        self.sock.send_to(&bytes, to).unwrap();
        bytes
    }

    /// The daemon's address as the peer talks to it.
    pub fn daemon_addr(&self) -> SocketAddr {
        self.state
            .lock()
            .unwrap()
            .daemon_addr
            .unwrap_or(self.daemon)
    }

    /// Sends a ZLB on tunnel `tid` whose Nr is `ahead` past the right one.
    pub fn send_zlb_nr_ahead(&self, tid: u16, ahead: u16) {
        let (bytes, to) = {
            let s = self.state.lock().unwrap();
            (
                control(tid, 0, s.ns, s.nr.wrapping_add(ahead), &[]),
                s.daemon_addr.unwrap_or(self.daemon),
            )
        };
        self.sock.send_to(&bytes, to).unwrap();
    }

    /// Sends with an explicit Ns (and the current Nr), leaving our Ns alone.
    pub fn send_with_ns(&self, tid: u16, sid: u16, ns: u16, body: &[u8]) {
        let (bytes, to) = {
            let s = self.state.lock().unwrap();
            (
                control(tid, sid, ns, s.nr, body),
                s.daemon_addr.unwrap_or(self.daemon),
            )
        };
        self.sock.send_to(&bytes, to).unwrap();
    }

    /// Everything received so far, as datagrams for a capture file.
    pub fn capture(&self) -> Vec<l2tp_testkit::pcap::Datagram> {
        let me = self.addr();
        self.since(0)
            .into_iter()
            .map(|r| l2tp_testkit::pcap::Datagram::new(r.from, me, r.raw))
            .collect()
    }

    /// How many datagrams were received so far.
    pub fn mark(&self) -> usize {
        self.state.lock().unwrap().received.len()
    }

    /// The received datagrams from index `from` on.
    pub fn since(&self, from: usize) -> Vec<Rx> {
        self.state.lock().unwrap().received[from..].to_vec()
    }

    /// Waits (bounded) for a datagram received after `from` that `pred` accepts.
    pub fn wait_for(
        &self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&Rx) -> bool,
    ) -> Option<Rx> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(rx) = self.since(from).into_iter().find(|r| pred(r)) {
                return Some(rx);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for a message of type `t` received after `from`.
    pub fn wait_type(&self, from: usize, t: u16, timeout: Duration) -> Option<Rx> {
        self.wait_for(from, timeout, |r| r.msg_type == Some(t))
    }

    /// Sets up a tunnel (SCCRQ, SCCRP, SCCCN), our id `assigned`; returns the daemon's id.
    pub fn establish(&self, assigned: u16) -> u16 {
        self.establish_with(&sccrq_body(assigned))
    }

    /// [`RawPeer::establish`] with the SCCRQ `sccrq` (its AVPs).
    pub fn establish_with(&self, sccrq: &[u8]) -> u16 {
        let m = self.mark();
        self.send(0, 0, sccrq);
        let sccrp = self
            .wait_type(m, mt::SCCRP, Duration::from_secs(5))
            .expect("SCCRP");
        let v = sccrp.avp(9).expect("Assigned Tunnel ID in the SCCRP");
        let tid = u16::from_be_bytes([v[0], v[1]]);
        {
            let mut s = self.state.lock().unwrap();
            s.daemon_tid = tid;
            s.daemon_addr = Some(sccrp.from);
        }
        self.send(tid, 0, &msg_type(mt::SCCCN));
        tid
    }

    /// Opens a session on tunnel `tid` (ICRQ, ICRP, ICCN), our id `assigned`; returns the
    /// daemon's session id.
    pub fn open_session(&self, tid: u16, assigned: u16) -> u16 {
        let m = self.mark();
        self.send(tid, 0, &icrq_body(assigned));
        let icrp = self
            .wait_type(m, mt::ICRP, Duration::from_secs(5))
            .expect("ICRP");
        let v = icrp.avp(14).expect("Assigned Session ID in the ICRP");
        let sid = u16::from_be_bytes([v[0], v[1]]);
        self.send(tid, sid, &iccn_body());
        sid
    }
}

impl Drop for RawPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn receive_loop(sock: &UdpSocket, state: &Mutex<State>, stop: &AtomicBool) {
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Some(rx) = parse(&buf[..n], from) else {
            continue;
        };
        let mut s = state.lock().unwrap();
        if rx.msg_type.is_some() {
            if rx.ns == s.nr {
                s.nr = s.nr.wrapping_add(1);
            }
            if s.auto_ack {
                // Acknowledge on the tunnel the message came for: the daemon's id is in the
                // SCCRP we learned, or in the message's Assigned Tunnel ID.
                let tid = if s.daemon_tid != 0 {
                    s.daemon_tid
                } else {
                    rx.avp(9)
                        .map(|v| u16::from_be_bytes([v[0], v[1]]))
                        .unwrap_or(0)
                };
                let zlb = control(tid, 0, s.ns, s.nr, &[]);
                let _ = sock.send_to(&zlb, from);
            }
        }
        s.received.push(rx);
    }
}
