//! The data-path threads. Each one (a [`Worker`]) runs one `epoll` set over the data sockets of
//! the tunnels it receives for, its queues of the sessions' TAPs, and an `eventfd` that the
//! control side rings when it queues a [`Command`].
//!
//! - Tunnels are spread over the workers: a tunnel's *home* worker reads its socket
//!   (`recvmmsg`, with UDP GRO when offloads are on: one buffer then holds many datagrams of
//!   one size), decapsulates each datagram and writes the frames to the sessions' TAPs ([`rx`]).
//! - A session's TAP has one queue per worker (multi-queue TAPs, the kernel spreading its
//!   flows over them), each read by one worker, which encapsulates the frames and sends them on
//!   the tunnel's socket, shared by every worker ([`tx`]). A session that numbers its packets
//!   has one queue only, read by its home worker, so that its sequence numbers go out in order.
//!
//! With offloads, a TAP hands out TCP (and UDP) super-frames with a virtio-net header: the
//! sending worker segments them ([`crate::offload::Segmenter`]) before numbering and
//! encapsulating each segment, and sends runs of equal-sized datagrams with UDP GSO in one
//! message each. The receiving worker joins consecutive TCP segments of a flow into
//! super-frames ([`crate::offload::Coalescer`]) and writes each with one `writev`.
//!
//! Epoll is level-triggered: a descriptor with more than one batch queued is reported again on
//! the next `epoll_wait`, so one busy session cannot starve the others.
//!
//! A TAP whose interface is deleted (`ip link del`, persistent or not) stays open but detached:
//! epoll reports it in error at every wait and its reads fail with `EBADFD`. The worker then
//! drops the session (closing the descriptor, so it does not spin on it); the session's home
//! worker reports it down to the control sink ([`SinkEvent::SessionDown`]).
//!
//! Native-PPP sessions have no device of their own: every worker reads its queue of the
//! shared TUN and sends each packet to the session its routing table names ([`tun`]); a
//! session's packets from the network are decapsulated by its tunnel's home worker and written
//! to the TUN ([`ppp`]). Worker 0 also reports, at most once per
//! [`crate::ppp::ACTIVITY_PERIOD`], the sessions that carried IP. A TUN that is deleted is
//! dropped by every worker, and worker 0 reports the sessions it routed to down.

mod early;
mod limit;
pub(crate) mod ppp;
mod rx;
mod tun;
mod tx;

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::time::Instant;

use l2tp_proto::wire::header::Encapsulation;
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::EventFd;

use crate::codec::SessionCodec;
use crate::ppp::routes::IdMap;
use crate::reorder::ReorderQueue;
use crate::stats::{SessionCounters, TotalCounters, TunnelCounters};
use crate::tap::{Tap, TapOffloads};
use crate::{ControlSink, SessionDown, SinkEvent};
use ppp::{PppChange, PppCommon, PppRx};

pub(crate) use limit::FrameLimit;
pub(crate) use rx::release;

/// Datagrams or frames moved per system call.
pub(crate) const BATCH: usize = 32;

/// Size of each packet buffer: the largest IP datagram.
const BUF_LEN: usize = 65_536;

const TOKEN_WAKE: u64 = 0;
const KIND_TUNNEL: u64 = 1 << 32;
const KIND_SESSION: u64 = 2 << 32;
const KIND_TUN: u64 = 3 << 32;

/// A tunnel's data socket, shared by every worker that sends on it.
#[derive(Debug)]
pub(crate) struct TunnelShared {
    pub(crate) tid: u32,
    /// The tunnels whose sockets have the same local and peer addresses and ports (several
    /// tunnels between two ends, or clients behind one NAT) share a group: the kernel gives
    /// all their datagrams to one of those sockets, so a packet that arrives on one of them
    /// may be for a session of any tunnel of the group. They share a home worker too.
    pub(crate) group: u64,
    pub(crate) encap: Encapsulation,
    pub(crate) ipv4: bool,
    pub(crate) socket: OwnedFd,
    /// The peer, for an adopted socket that is not connected (a tunnel whose peer's address
    /// and port are another tunnel's too, on a kernel that gives that address and port's
    /// datagrams to the other's socket): every datagram is sent to it explicitly.
    pub(crate) dest: Option<socket2::SockAddr>,
    pub(crate) counters: Arc<TunnelCounters>,
    /// The data plane's totals, which the drops of the tunnel and its sessions also count in.
    pub(crate) totals: Arc<TotalCounters>,
    /// Send runs of datagrams with UDP GSO. Cleared for good when the kernel refuses it on
    /// this socket (under an IPsec policy, for one).
    pub(crate) gso: AtomicBool,
    /// The largest datagram sent with GSO: lowered below a size the kernel refused (datagrams
    /// over the path MTU, which the kernel then fragments as without offloads).
    pub(crate) gso_max: AtomicUsize,
    /// The socket coalesces what it receives (UDP GRO is on).
    pub(crate) gro: bool,
}

/// A session's queue as one worker holds it.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub(crate) sid: u32,
    pub(crate) tid: u32,
    /// This worker's queue of the session's TAP.
    pub(crate) tap: Tap,
    pub(crate) tunnel: Arc<TunnelShared>,
    pub(crate) codec: SessionCodec,
    /// This worker receives the session's packets (it is its tunnel's home) and reports it.
    pub(crate) home: bool,
    /// What the TAP took: with `tso`, received TCP segments are joined into super-frames; with
    /// `uso`, UDP datagrams too.
    pub(crate) offloads: TapOffloads,
    /// Packets held for reordering, when the session has a reorder timeout.
    pub(crate) reorder: Option<ReorderQueue>,
    pub(crate) counters: Arc<SessionCounters>,
    pub(crate) totals: Arc<TotalCounters>,
    pub(crate) cookie_report: CookieReporting,
    /// The longest frame its TAP is given.
    pub(crate) frame_limit: FrameLimit,
}

/// How often a session reports packets with a wrong cookie to the control plane.
const COOKIE_REPORT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The wrong-cookie drops of a session not yet reported, and when it last reported.
#[derive(Debug, Default)]
pub(crate) struct CookieReporting {
    unreported: u64,
    last: Option<Instant>,
}

/// What the control side asks of a worker.
#[derive(Debug)]
pub(crate) enum Command {
    /// This worker's queue of the shared TUN, to read when `true` (else a descriptor of
    /// another worker's queue, to write received packets through).
    AddTun(Tap, TapOffloads, bool, SyncSender<io::Result<()>>),
    /// A tunnel this worker is the home of.
    AddTunnel(Arc<TunnelShared>, SyncSender<io::Result<()>>),
    AddSession(Box<SessionState>, SyncSender<io::Result<()>>),
    /// A tunnel and its sessions' ids.
    RemoveTunnel(u32, Vec<u32>, SyncSender<()>),
    RemoveSession(u32, SyncSender<()>),
    /// A data packet that arrived on a control-plane socket.
    Inject(Encapsulation, Vec<u8>),
    Stop,
}

/// A data-path thread's state.
#[derive(Debug)]
pub(crate) struct Worker {
    epoll: Epoll,
    wake: Arc<EventFd>,
    commands: Receiver<Command>,
    /// Native-PPP sessions added and removed (see [`PppChange`]), and how many were queued
    /// since the worker last took them.
    ppp_changes: (Receiver<PppChange>, Arc<AtomicUsize>),
    control_sink: Option<Arc<ControlSink>>,
    tunnels: HashMap<u32, Arc<TunnelShared>>,
    sessions: HashMap<u32, SessionState>,
    /// Sessions with packets held for reordering.
    held: HashSet<u32>,
    rx: rx::RxBuffers,
    tx: tx::TxBuffers,
    /// Native-PPP sessions this worker receives for, by key.
    ppp: IdMap<u64, PppRx>,
    /// This worker's queue of the shared TUN, and what it took.
    tun: Option<Tap>,
    tun_offloads: TapOffloads,
    ppp_common: Arc<PppCommon>,
    totals: Arc<TotalCounters>,
    /// Worker 0 reports native-PPP activity: when next, and when it last did.
    reporter: bool,
    report_at: Option<Instant>,
    last_report: Option<Instant>,
    /// LCP Echo-Replies received and not yet handed over, and when they are due.
    replies: Vec<crate::PppFrame>,
    replies_at: Option<Instant>,
    /// Packets for sessions not installed yet that it may still hand over ([`early`]).
    early: early::EarlyBudget,
}

impl Worker {
    pub(crate) fn new(
        wake: Arc<EventFd>,
        (commands, ppp_changes): (Receiver<Command>, (Receiver<PppChange>, Arc<AtomicUsize>)),
        control_sink: Option<Arc<ControlSink>>,
        (ppp_common, totals, reporter): (Arc<PppCommon>, Arc<TotalCounters>, bool),
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
            ppp_changes,
            control_sink,
            tunnels: HashMap::new(),
            sessions: HashMap::new(),
            held: HashSet::new(),
            rx: rx::RxBuffers::new(),
            tx: tx::TxBuffers::new(),
            ppp: IdMap::default(),
            tun: None,
            tun_offloads: TapOffloads::default(),
            ppp_common,
            totals,
            reporter,
            report_at: None,
            last_report: None,
            replies: Vec::new(),
            replies_at: None,
            early: early::EarlyBudget::default(),
        })
    }

    /// Runs until [`Command::Stop`] or until the control side is dropped.
    pub(crate) fn run(mut self) {
        let mut events = vec![EpollEvent::empty(); 64];
        loop {
            let timeout = self.timeout();
            let n = match self.epoll.wait(&mut events, timeout) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(_) => return,
            };
            ppp::apply_changes(&mut self.ppp, &self.ppp_changes.0);
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
                    KIND_TUN => {
                        let failed = event
                            .events()
                            .intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP);
                        if let Some(reason) = self.tun_readable(failed) {
                            self.tun_gone(&reason);
                        }
                    }
                    _ => {
                        // Drain the eventfd; it is non-blocking and a count of 0 means none.
                        let _ = self.wake.read();
                        // After the read, so that a change queued from now on rings again;
                        // cleared before the changes are taken (acquiring what the control
                        // side queued before it counted), so that none is left behind.
                        self.ppp_changes
                            .1
                            .swap(0, std::sync::atomic::Ordering::Acquire);
                        ppp::apply_changes(&mut self.ppp, &self.ppp_changes.0);
                        if !self.run_commands() {
                            return;
                        }
                    }
                }
            }
            if !self.held.is_empty() {
                self.release_held(Instant::now());
            }
            if self.reporter {
                self.report_activity(Instant::now());
            }
            self.hand_over_replies();
        }
    }

    /// Hands the held LCP Echo-Replies over when their time is up or they are many; starts
    /// their time when the first is held.
    fn hand_over_replies(&mut self) {
        if self.replies.is_empty() {
            self.replies_at = None;
            return;
        }
        let now = Instant::now();
        let at = *self
            .replies_at
            .get_or_insert(now + crate::ppp::ECHO_REPLY_HOLD);
        if at <= now || self.replies.len() >= crate::ppp::ECHO_REPLY_BATCH {
            ppp::flush_replies(self.control_sink.as_deref(), &mut self.replies);
            self.replies_at = None;
        }
    }

    /// How long `epoll_wait` may sleep: until the first held packet times out, or the next
    /// activity report is due.
    fn timeout(&self) -> EpollTimeout {
        let first = self
            .held
            .iter()
            .filter_map(|sid| self.sessions.get(sid)?.reorder.as_ref()?.deadline())
            .chain(self.report_at)
            .chain(self.replies_at)
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
                        self.tunnels.insert(t.tid, t);
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
                Command::Inject(encap, mut packet) => self.inject(encap, &mut packet),
                Command::AddTun(tun, offloads, read, reply) => {
                    if let Some(old) = self.tun.take() {
                        let _ = self.epoll.delete(old.as_fd());
                    }
                    let r = if read {
                        self.epoll
                            .add(tun.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, KIND_TUN))
                            .map_err(io::Error::from)
                    } else {
                        Ok(())
                    };
                    if r.is_ok() {
                        self.tun = Some(tun);
                        self.tun_offloads = offloads;
                    }
                    let _ = reply.send(r);
                }
                Command::Stop => return false,
            }
        }
    }

    /// Worker 0: reports the native-PPP sessions that carried IP, at most once per
    /// [`crate::ppp::ACTIVITY_PERIOD`] and only when some did.
    fn report_activity(&mut self, now: Instant) {
        let period = crate::ppp::ACTIVITY_PERIOD;
        if self.report_at.is_none() && self.ppp_common.pending() {
            let at = self.last_report.map_or(now, |t| (t + period).max(now));
            self.report_at = Some(at);
        }
        if self.report_at.is_none_or(|at| at > now) {
            return;
        }
        self.report_at = None;
        self.last_report = Some(now);
        let sessions = self.ppp_common.take_activity();
        if sessions.is_empty() {
            return;
        }
        if let Some(sink) = &self.control_sink {
            sink.deliver(SinkEvent::PppActivity(sessions));
        }
    }

    /// The shared TUN is unusable (deleted): this worker stops reading it; worker 0 reports the
    /// sessions whose IP it carried down, and tells the control side to make a new TUN.
    fn tun_gone(&mut self, reason: &str) {
        if let Some(tun) = self.tun.take() {
            let _ = self.epoll.delete(tun.as_fd());
        }
        if !self.reporter {
            return;
        }
        self.ppp_common
            .tun_gone
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let mut down: Vec<(u32, u32)> = self
            .ppp_common
            .routes()
            .sessions()
            .map(|s| (s.tid, s.sid))
            .collect();
        down.sort_unstable();
        down.dedup();
        if let Some(sink) = &self.control_sink {
            for (tid, sid) in down {
                sink.deliver(SinkEvent::SessionDown(SessionDown {
                    tid,
                    sid,
                    reason: format!("{reason}, which carried its IP"),
                }));
            }
        }
    }

    /// Forgets a session's queue; when every queue is closed, the kernel deletes the TAP.
    fn drop_session(&mut self, sid: u32) {
        if let Some(s) = self.sessions.remove(&sid) {
            let _ = self.epoll.delete(s.tap.as_fd());
        }
        self.held.remove(&sid);
    }

    /// Drops a session whose TAP is unusable; its home worker reports it down.
    fn session_gone(&mut self, sid: u32, reason: String) {
        let Some(s) = self.sessions.remove(&sid) else {
            return;
        };
        let _ = self.epoll.delete(s.tap.as_fd());
        self.held.remove(&sid);
        if !s.home {
            return;
        }
        if let Some(sink) = &self.control_sink {
            sink.deliver(SinkEvent::SessionDown(SessionDown {
                tid: s.tid,
                sid,
                reason,
            }));
        }
    }
}
