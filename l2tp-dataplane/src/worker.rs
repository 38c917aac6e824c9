//! The data-path thread: one `epoll` set over the tunnels' data sockets, the sessions' TAPs and
//! an `eventfd` that the control side rings when it queues a [`Command`].
//!
//! - Socket readable: `recvmmsg` up to [`BATCH`] datagrams, parse each one's L2TP header
//!   (`Packet::parse`), look the session up by session id (a `HashMap`, O(1)), decapsulate and
//!   write the frame to the session's TAP.
//! - TAP readable: read up to [`BATCH`] frames, each into a buffer with [`HEADROOM`] in front so
//!   that the session header is written in place, and hand them to one `sendmmsg` on the
//!   tunnel's connected socket.
//!
//! Epoll is level-triggered: a descriptor with more than one batch queued is reported again on
//! the next `epoll_wait`, so one busy session cannot starve the others.
//!
//! A TAP whose interface is deleted (`ip link del`, persistent or not) stays open but detached:
//! epoll reports it in error at every wait and its reads fail with `EBADFD`. The worker then
//! drops the session (closing the descriptor, so it does not spin on it) and reports it down
//! to the control sink ([`SinkEvent::SessionDown`]).

use std::collections::{HashMap, HashSet};
use std::io;
use std::ops::Range;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::time::Instant;

use l2tp_proto::wire::header::{Encapsulation, Packet};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::EventFd;

use crate::codec::{HEADROOM, Received, RxDrop, SessionCodec};
use crate::reorder::ReorderQueue;
use crate::socket::l2tp_payload;
use crate::stats::{SessionCounters, TotalCounters, TunnelCounters};
use crate::sys;
use crate::tap::Tap;
use crate::{ControlPacket, ControlSink, CookieReport, SessionDown, SinkEvent};

/// Datagrams or frames moved per system call.
pub(crate) const BATCH: usize = 32;

/// Size of each packet buffer: the largest IP datagram.
const BUF_LEN: usize = 65_536;

const TOKEN_WAKE: u64 = 0;
const KIND_TUNNEL: u64 = 1 << 32;
const KIND_SESSION: u64 = 2 << 32;

/// A tunnel as the worker holds it.
#[derive(Debug)]
pub(crate) struct TunnelState {
    pub(crate) tid: u32,
    pub(crate) encap: Encapsulation,
    pub(crate) ipv4: bool,
    pub(crate) socket: OwnedFd,
    pub(crate) counters: Arc<TunnelCounters>,
}

/// A session as the worker holds it.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub(crate) sid: u32,
    pub(crate) tid: u32,
    pub(crate) tap: Tap,
    pub(crate) codec: SessionCodec,
    /// Packets held for reordering, when the session has a reorder timeout.
    pub(crate) reorder: Option<ReorderQueue>,
    pub(crate) counters: Arc<SessionCounters>,
    pub(crate) totals: Arc<TotalCounters>,
    pub(crate) cookie_report: CookieReporting,
}

/// How often a session reports packets with a wrong cookie to the control plane.
const COOKIE_REPORT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The wrong-cookie drops of a session not yet reported, and when it last reported.
#[derive(Debug, Default)]
pub(crate) struct CookieReporting {
    unreported: u64,
    last: Option<Instant>,
}

/// What the control side asks of the worker.
#[derive(Debug)]
pub(crate) enum Command {
    AddTunnel(Box<TunnelState>, SyncSender<io::Result<()>>),
    AddSession(Box<SessionState>, SyncSender<io::Result<()>>),
    /// A tunnel and its sessions' ids.
    RemoveTunnel(u32, Vec<u32>, SyncSender<()>),
    RemoveSession(u32, SyncSender<()>),
    /// A data packet that arrived on a control-plane socket.
    Inject(Encapsulation, Vec<u8>),
    Stop,
}

/// The data-path thread's state.
#[derive(Debug)]
pub(crate) struct Worker {
    epoll: Epoll,
    wake: Arc<EventFd>,
    commands: Receiver<Command>,
    control_sink: Option<ControlSink>,
    tunnels: HashMap<u32, TunnelState>,
    sessions: HashMap<u32, SessionState>,
    /// Sessions with packets held for reordering.
    held: HashSet<u32>,
    rx_bufs: Vec<Vec<u8>>,
    rx_lens: Vec<usize>,
    tx_bufs: Vec<Vec<u8>>,
    tx_ranges: Vec<Range<usize>>,
}

impl Worker {
    pub(crate) fn new(
        wake: Arc<EventFd>,
        commands: Receiver<Command>,
        control_sink: Option<ControlSink>,
    ) -> io::Result<Self> {
        let epoll = Epoll::new(nix::sys::epoll::EpollCreateFlags::EPOLL_CLOEXEC)?;
        epoll.add(
            wake.as_fd(),
            EpollEvent::new(EpollFlags::EPOLLIN, TOKEN_WAKE),
        )?;
        Ok(Self {
            epoll,
            wake,
            commands,
            control_sink,
            tunnels: HashMap::new(),
            sessions: HashMap::new(),
            held: HashSet::new(),
            rx_bufs: vec![vec![0; BUF_LEN]; BATCH],
            rx_lens: vec![0; BATCH],
            tx_bufs: vec![vec![0; BUF_LEN]; BATCH],
            tx_ranges: vec![0..0; BATCH],
        })
    }

    /// Runs until [`Command::Stop`] or until the control side is dropped.
    pub(crate) fn run(mut self) {
        let mut events = vec![EpollEvent::empty(); 64];
        loop {
            let timeout = self.reorder_timeout();
            let n = match self.epoll.wait(&mut events, timeout) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(_) => return,
            };
            for event in &events[..n] {
                let token = event.data();
                match token & !0xffff_ffff {
                    KIND_TUNNEL => self.tunnel_readable(token as u32),
                    KIND_SESSION => {
                        let sid = token as u32;
                        let failed = event
                            .events()
                            .intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP);
                        if let Some(reason) = self.tap_readable(sid, failed) {
                            self.session_gone(sid, reason);
                        }
                    }
                    _ => {
                        // Drain the eventfd; it is non-blocking and a count of 0 means none.
                        let _ = self.wake.read();
                        if !self.run_commands() {
                            return;
                        }
                    }
                }
            }
            if !self.held.is_empty() {
                self.release_held(Instant::now());
            }
        }
    }

    /// How long `epoll_wait` may sleep: until the first held packet times out.
    fn reorder_timeout(&self) -> EpollTimeout {
        let first = self
            .held
            .iter()
            .filter_map(|sid| self.sessions.get(sid)?.reorder.as_ref()?.deadline())
            .min();
        match first {
            None => EpollTimeout::NONE,
            Some(at) => {
                let ms = at
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .saturating_add(1);
                EpollTimeout::from(u16::try_from(ms).unwrap_or(u16::MAX))
            }
        }
    }

    /// Delivers the held packets whose gap closed or whose time is up.
    fn release_held(&mut self, now: Instant) {
        let Self { held, sessions, .. } = self;
        held.retain(|sid| {
            let Some(s) = sessions.get_mut(sid) else {
                return false;
            };
            release(s, now);
            s.reorder.as_ref().is_some_and(|q| !q.is_empty())
        });
    }

    /// Executes the queued commands; false when the worker should stop.
    fn run_commands(&mut self) -> bool {
        loop {
            let command = match self.commands.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            };
            match command {
                Command::AddTunnel(t, reply) => {
                    let r = self
                        .epoll
                        .add(
                            t.socket.as_fd(),
                            EpollEvent::new(EpollFlags::EPOLLIN, KIND_TUNNEL | u64::from(t.tid)),
                        )
                        .map_err(io::Error::from);
                    if r.is_ok() {
                        self.tunnels.insert(t.tid, *t);
                    }
                    let _ = reply.send(r);
                }
                Command::AddSession(s, reply) => {
                    let r = self
                        .epoll
                        .add(
                            s.tap.as_fd(),
                            EpollEvent::new(EpollFlags::EPOLLIN, KIND_SESSION | u64::from(s.sid)),
                        )
                        .map_err(io::Error::from);
                    if r.is_ok() {
                        self.sessions.insert(s.sid, *s);
                    }
                    let _ = reply.send(r);
                }
                Command::RemoveSession(sid, reply) => {
                    self.drop_session(sid);
                    let _ = reply.send(());
                }
                Command::RemoveTunnel(tid, sids, reply) => {
                    for sid in sids {
                        self.drop_session(sid);
                    }
                    if let Some(t) = self.tunnels.remove(&tid) {
                        let _ = self.epoll.delete(t.socket.as_fd());
                    }
                    let _ = reply.send(());
                }
                Command::Inject(encap, mut packet) => {
                    deliver(
                        &mut self.sessions,
                        &mut self.held,
                        None,
                        self.control_sink.as_ref(),
                        None,
                        encap,
                        &mut packet,
                    );
                }
                Command::Stop => return false,
            }
        }
    }

    /// Forgets a session; dropping its TAP deletes the interface.
    fn drop_session(&mut self, sid: u32) {
        if let Some(s) = self.sessions.remove(&sid) {
            let _ = self.epoll.delete(s.tap.as_fd());
        }
    }

    /// Drops a session whose TAP is unusable and reports it down.
    fn session_gone(&mut self, sid: u32, reason: String) {
        let Some(s) = self.sessions.remove(&sid) else {
            return;
        };
        let _ = self.epoll.delete(s.tap.as_fd());
        self.held.remove(&sid);
        if let Some(sink) = &self.control_sink {
            sink.deliver(SinkEvent::SessionDown(SessionDown {
                tid: s.tid,
                sid,
                reason,
            }));
        }
    }

    /// Receives a batch on a tunnel's socket and delivers each datagram.
    fn tunnel_readable(&mut self, tid: u32) {
        let Self {
            tunnels,
            sessions,
            held,
            rx_bufs,
            rx_lens,
            control_sink,
            ..
        } = self;
        let Some(t) = tunnels.get(&tid) else { return };
        let n = match sys::recvmmsg(t.socket.as_fd(), rx_bufs, rx_lens) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => {
                // For example ECONNREFUSED from an ICMP error on the connected socket; reading
                // it cleared it.
                t.counters.rx_errors.fetch_add(1, Relaxed);
                return;
            }
        };
        for (buf, &len) in rx_bufs.iter_mut().zip(rx_lens.iter()).take(n) {
            t.counters.rx_packets.fetch_add(1, Relaxed);
            if len > buf.len() {
                t.counters.rx_errors.fetch_add(1, Relaxed);
                continue;
            }
            let datagram = &mut buf[..len];
            let offset = match l2tp_payload(datagram, t.encap, t.ipv4) {
                Some(p) => len - p.len(),
                None => {
                    t.counters.rx_malformed.fetch_add(1, Relaxed);
                    continue;
                }
            };
            deliver(
                sessions,
                held,
                Some(t),
                control_sink.as_ref(),
                Some(tid),
                t.encap,
                &mut datagram[offset..],
            );
        }
    }

    /// Reads a batch of frames from a session's TAP and sends them in one `sendmmsg`. `failed`:
    /// epoll reported the TAP in error. Returns why the session cannot go on, when its TAP is
    /// gone.
    fn tap_readable(&mut self, sid: u32, failed: bool) -> Option<String> {
        let Self {
            tunnels,
            sessions,
            tx_bufs,
            tx_ranges,
            ..
        } = self;
        let s = sessions.get_mut(&sid)?;
        let t = tunnels.get(&s.tid)?;
        let mut n = 0;
        let mut bytes = [0usize; BATCH];
        let mut gone = None;
        while n < BATCH {
            let buf = &mut tx_bufs[n];
            match s.tap.read(&mut buf[HEADROOM..]) {
                Ok(0) => break,
                Ok(len) => {
                    tx_ranges[n] = s.codec.encap(buf, HEADROOM..HEADROOM + len);
                    bytes[n] = len;
                    n += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(nix::libc::EBADFD) => {
                    gone = Some(format!("its TAP interface {} was deleted", s.tap.name()));
                    break;
                }
                Err(e) if failed => {
                    gone = Some(format!("its TAP interface {} failed: {e}", s.tap.name()));
                    break;
                }
                Err(_) => {
                    s.counters.tx_errors.fetch_add(1, Relaxed);
                    break;
                }
            }
        }
        let mut msgs: [&[u8]; BATCH] = [&[]; BATCH];
        for i in 0..n {
            msgs[i] = &tx_bufs[i][tx_ranges[i].clone()];
        }
        let mut sent = 0;
        while sent < n {
            match sys::sendmmsg(t.socket.as_fd(), &msgs[sent..n]) {
                Ok(0) => break,
                Ok(k) => {
                    s.counters.tx_packets.fetch_add(k as u64, Relaxed);
                    let b: usize = bytes[sent..sent + k].iter().sum();
                    s.counters.tx_bytes.fetch_add(b as u64, Relaxed);
                    sent += k;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    // This datagram failed (for example EMSGSIZE, or ECONNREFUSED left by an
                    // ICMP error); skip it and go on with the rest.
                    s.counters.tx_errors.fetch_add(1, Relaxed);
                    sent += 1;
                }
            }
        }
        // The socket's send buffer is full: the rest is dropped, as a NIC queue would.
        s.counters.tx_errors.fetch_add((n - sent) as u64, Relaxed);
        gone
    }
}

/// Delivers one L2TP packet (from the session id or the UDP header on) to its session's TAP.
/// `tid` is the tunnel it arrived on, `None` for packets injected from the control plane.
fn deliver(
    sessions: &mut HashMap<u32, SessionState>,
    held: &mut HashSet<u32>,
    tunnel: Option<&TunnelState>,
    control_sink: Option<&ControlSink>,
    tid: Option<u32>,
    encap: Encapsulation,
    packet: &mut [u8],
) {
    let count = |f: fn(&TunnelCounters) -> &std::sync::atomic::AtomicU64| {
        if let Some(t) = tunnel {
            f(&t.counters).fetch_add(1, Relaxed);
        }
    };
    let (sid, offset) = match Packet::parse(packet, encap) {
        Ok(Packet::V3Data { session_id, rest }) => (session_id, packet.len() - rest.len()),
        Ok(Packet::Control { .. }) => {
            count(|c| &c.rx_control);
            if let (Some(sink), Some(tid)) = (control_sink, tid) {
                sink.deliver(SinkEvent::Control(ControlPacket {
                    tid,
                    packet: packet.to_vec(),
                }));
            }
            return;
        }
        Ok(Packet::V2Data { .. }) | Err(_) => {
            count(|c| &c.rx_malformed);
            return;
        }
    };
    let Some(s) = sessions
        .get_mut(&sid)
        .filter(|s| tid.is_none_or(|t| t == s.tid))
    else {
        count(|c| &c.rx_unknown_session);
        return;
    };
    let rest = &mut packet[offset..];
    let c = &s.counters;
    match s.codec.decap(sid, rest) {
        Ok(Received::Deliver(frame)) => {
            write_frame(&s.tap, c, &rest[frame]);
            if s.reorder.as_ref().is_some_and(|q| !q.is_empty()) {
                // The gap may have closed.
                release(s, Instant::now());
            }
        }
        Ok(Received::Hold { seq, frame }) => {
            let Some(q) = s.reorder.as_mut() else {
                return;
            };
            if q.hold(s.codec.rx_sequence(), seq, &rest[frame], Instant::now()) {
                held.insert(sid);
            } else {
                c.rx_errors.fetch_add(1, Relaxed);
                c.seq_errors.fetch_add(1, Relaxed);
            }
        }
        Err(drop) => {
            c.rx_errors.fetch_add(1, Relaxed);
            match drop {
                RxDrop::CookieMismatch => {
                    c.cookie_mismatches.fetch_add(1, Relaxed);
                    s.totals.cookie_mismatches.fetch_add(1, Relaxed);
                    report_cookie(s, control_sink);
                    0
                }
                RxDrop::SequenceMissing | RxDrop::OutOfOrder => c.seq_errors.fetch_add(1, Relaxed),
                RxDrop::Truncated => 0,
            };
        }
    }
}

/// Counts a packet with a wrong cookie for the session's next report, and reports when the
/// last report is a second old.
fn report_cookie(s: &mut SessionState, sink: Option<&ControlSink>) {
    let r = &mut s.cookie_report;
    r.unreported += 1;
    let now = Instant::now();
    if r.last
        .is_some_and(|t| now.duration_since(t) < COOKIE_REPORT_INTERVAL)
    {
        return;
    }
    if let Some(sink) = sink {
        sink.deliver(SinkEvent::WrongCookie(CookieReport {
            tid: s.tid,
            sid: s.sid,
            dropped: r.unreported,
        }));
    }
    r.unreported = 0;
    r.last = Some(now);
}

/// Writes a received frame to the session's TAP and counts it.
fn write_frame(tap: &Tap, c: &SessionCounters, frame: &[u8]) {
    match tap.write(frame) {
        Ok(_) => {
            c.rx_packets.fetch_add(1, Relaxed);
            c.rx_bytes.fetch_add(frame.len() as u64, Relaxed);
        }
        Err(_) => {
            c.rx_errors.fetch_add(1, Relaxed);
        }
    }
}

/// Delivers a session's held packets that can go now.
fn release(s: &mut SessionState, now: Instant) {
    let SessionState {
        tap,
        codec,
        reorder,
        counters,
        ..
    } = s;
    if let Some(q) = reorder.as_mut() {
        let dropped = q.release(codec.rx_sequence_mut(), now, |f| {
            counters.reordered.fetch_add(1, Relaxed);
            write_frame(tap, counters, f)
        });
        counters.rx_errors.fetch_add(dropped, Relaxed);
        counters.seq_errors.fetch_add(dropped, Relaxed);
    }
}
