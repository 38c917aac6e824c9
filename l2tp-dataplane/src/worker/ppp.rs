//! Native-PPP sessions on a worker: their state, and their receive side (datagrams from a
//! tunnel's socket to the shared TUN, or, for control frames, to the control plane). The send
//! side, from the TUN, is in [`super::tun`].
//!
//! A session's [`PppShared`] is shared by every worker (each one's routing table may send to
//! it) and by the control side (its counters, its sequence numbers for control frames, its
//! [`NetState`]). Its receive state ([`PppRx`]: the sequence window, the rate of its reports)
//! is its tunnel's home worker's alone.

use std::io::IoSlice;
use std::net::IpAddr;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Instant;

use l2tp_proto::wire::header::Packet;
use nix::sys::eventfd::EventFd;

use super::{COOKIE_REPORT_INTERVAL, CookieReporting, TunnelShared};
use crate::codec::{RxDrop, RxSequence};
use crate::offload::{Coalescer, FrameRef, VNET_HDR_LEN};
use crate::ppp::ControlBudget;
use crate::ppp::codec::{Inbound, InboundDrop, NetState, PppCodec, judge};
use crate::ppp::routes::{IdMap, Routes};
use crate::stats::{SessionCounters, TotalCounters};
use crate::tap::{Tap, TapOffloads};
use crate::{ControlSink, CookieReport, PppActivity, PppDrop, PppDropReport, PppFrame, SinkEvent};

/// Activity bits: IP packets received from the peer, sent to it.
const ACTIVE_RX: u8 = 1;
const ACTIVE_TX: u8 = 2;

/// The key of a native-PPP session in the data path: an L2TPv3 session id as it is (unique in
/// the data plane), an L2TPv2 one with its tunnel's id (unique in its tunnel only).
pub(crate) fn v2_key(tid: u16, sid: u16) -> u64 {
    1 << 32 | u64::from(tid) << 16 | u64::from(sid)
}

/// A native-PPP session as every worker and the control side share it.
#[derive(Debug)]
pub(crate) struct PppShared {
    pub(crate) tid: u32,
    pub(crate) sid: u32,
    pub(crate) key: u64,
    pub(crate) tunnel: Arc<TunnelShared>,
    pub(crate) codec: PppCodec,
    /// Whether the packets it sends are numbered now.
    numbered: AtomicBool,
    /// An L2TPv2 LAC's session numbers its packets as its LNS does (RFC 2661 §5.4).
    follows_lns: bool,
    /// The next sequence number to send (masked by the codec's width).
    ns: AtomicU32,
    /// The [`NetState`], packed: the flags and the IPv4 address, and the IPv6 interface
    /// identifier (stored before the flags that make it valid).
    net: AtomicU64,
    ifid: AtomicU64,
    pub(crate) counters: SessionCounters,
    /// [`ACTIVE_RX`] and [`ACTIVE_TX`] since the last report.
    activity: AtomicU8,
}

impl PppShared {
    /// Session `tid`/`sid` (data-path key `key`) of `tunnel`; `follows_lns`: an L2TPv2 LAC's
    /// session, which numbers its packets when its LNS does.
    pub(crate) fn new(
        (tid, sid, key): (u32, u32, u64),
        tunnel: Arc<TunnelShared>,
        codec: PppCodec,
        follows_lns: bool,
    ) -> Self {
        let numbered = codec.spec().send_seq && codec.sequence_mask().is_some();
        Self {
            tid,
            sid,
            key,
            tunnel,
            codec,
            numbered: AtomicBool::new(numbered),
            follows_lns,
            ns: AtomicU32::new(0),
            net: AtomicU64::new(0),
            ifid: AtomicU64::new(0),
            counters: SessionCounters::default(),
            activity: AtomicU8::new(0),
        }
    }

    /// Whether the packets it sends are numbered now.
    pub(crate) fn numbered(&self) -> bool {
        self.numbered.load(Relaxed)
    }

    /// The sequence number of the next packet, if `numbered` (as [`PppShared::numbered`] said
    /// when the packet's header room was measured).
    pub(crate) fn ns(&self, numbered: bool) -> Option<u32> {
        let mask = self.codec.sequence_mask().filter(|_| numbered)?;
        Some(self.ns.fetch_add(1, Relaxed) & mask)
    }

    /// An L2TPv2 data message arrived, `with_ns` or without: an LAC numbers its packets from
    /// now on as its LNS does (RFC 2661 §5.4: "if the LAC receives a data message without
    /// sequence numbers present, it MUST stop sending sequence numbers"; with them, it MUST
    /// begin). The numbers pick up where they left off.
    pub(crate) fn follow(&self, with_ns: bool) {
        if self.follows_lns && self.numbered.load(Relaxed) != with_ns {
            self.numbered.store(with_ns, Relaxed);
        }
    }

    pub(crate) fn net(&self) -> NetState {
        let w = self.net.load(Acquire);
        NetState::unpack(w, self.ifid.load(Relaxed))
    }

    /// Sets what the session carries. A reader that races a change of identifier may see the
    /// new one with the old flags for one packet: the control side only changes an identifier
    /// while its route is out of the tables.
    pub(crate) fn set_net(&self, net: NetState) {
        let (w, id) = net.pack();
        self.ifid.store(id, Relaxed);
        self.net.store(w, Release);
    }

    /// Notes that the session carried IP one way; the first time since the last report puts
    /// it on the list of active sessions.
    pub(crate) fn mark(self: &Arc<Self>, bit: u8, common: &PppCommon) {
        if self.activity.load(Relaxed) & bit != 0 {
            return;
        }
        if self.activity.fetch_or(bit, Relaxed) == 0 {
            common.note_active(self);
        }
    }
}

/// What the workers and the control side share about native PPP.
#[derive(Debug)]
pub(crate) struct PppCommon {
    /// Sessions that carried IP since the last report (weakly: a session removed meanwhile
    /// is not kept, nor its tunnel's socket open).
    active: Mutex<Vec<Weak<PppShared>>>,
    /// The list has entries and the reporter has not taken them yet.
    pending: AtomicBool,
    /// The reporting worker's eventfd, rung when the list gets its first entry.
    reporter: Arc<EventFd>,
    /// Native-PPP sessions installed.
    pub(crate) sessions: AtomicUsize,
    /// Set by a worker that found the TUN gone; the control side makes a new one.
    pub(crate) tun_gone: AtomicBool,
    /// Where packets read from the TUN go: one table for every worker, so that routing a
    /// session is no round trip to each of them. The control side adds a session's entry
    /// before the kernel's route exists, so a packet the kernel routes into the TUN finds its
    /// session; a worker holds the read lock over a whole batch, so once an entry is removed
    /// no worker sends to its session.
    routes: RwLock<Routes<Arc<PppShared>>>,
}

impl PppCommon {
    pub(crate) fn new(reporter: Arc<EventFd>) -> Self {
        Self {
            active: Mutex::default(),
            pending: AtomicBool::new(false),
            reporter,
            sessions: AtomicUsize::new(0),
            tun_gone: AtomicBool::new(false),
            routes: RwLock::default(),
        }
    }

    /// The routing table, to read (a worker, over one batch of packets from the TUN).
    pub(crate) fn routes(&self) -> RwLockReadGuard<'_, Routes<Arc<PppShared>>> {
        self.routes.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The routing table, to change (the control side).
    pub(crate) fn routes_mut(&self) -> RwLockWriteGuard<'_, Routes<Arc<PppShared>>> {
        self.routes.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn note_active(&self, s: &Arc<PppShared>) {
        let mut list = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        list.push(Arc::downgrade(s));
        if list.len() == 1 {
            self.pending.store(true, Relaxed);
            drop(list);
            // Non-blocking; a full counter only means that it is rung already.
            let _ = self.reporter.write(1);
        }
    }

    /// Whether sessions wait to be reported.
    pub(crate) fn pending(&self) -> bool {
        self.pending.load(Relaxed)
    }

    /// The sessions active since the last report, with what they did, and a new period.
    pub(crate) fn take_activity(&self) -> Vec<PppActivity> {
        let list = {
            let mut l = self.active.lock().unwrap_or_else(PoisonError::into_inner);
            self.pending.store(false, Relaxed);
            std::mem::take(&mut *l)
        };
        list.iter()
            .filter_map(Weak::upgrade)
            .map(|s| {
                let a = s.activity.swap(0, Relaxed);
                PppActivity {
                    tid: s.tid,
                    sid: s.sid,
                    received: a & ACTIVE_RX != 0,
                    sent: a & ACTIVE_TX != 0,
                }
            })
            .collect()
    }
}

/// A native-PPP session's receive state, on its tunnel's home worker.
#[derive(Debug)]
pub(crate) struct PppRx {
    pub(crate) shared: Arc<PppShared>,
    rx: RxSequence,
    /// Made at the first packet worth a report (a wrong cookie, a dropped frame).
    reports: Option<Box<Reports>>,
    /// What the session may still hand the control plane of its control frames.
    control: ControlBudget,
}

#[derive(Debug, Default)]
struct Reports {
    cookie: CookieReporting,
    spoof: CookieReporting,
    /// IPv4, IPv6.
    not_carried: [CookieReporting; 2],
    invalid: CookieReporting,
}

impl PppRx {
    pub(crate) fn new(shared: Arc<PppShared>) -> Self {
        let rx = shared.codec.rx_sequence();
        Self {
            shared,
            rx,
            reports: None,
            control: ControlBudget::default(),
        }
    }
}

/// A native-PPP session that a worker receives for (its tunnel's home) comes or goes.
///
/// These go on a channel of their own that the control side does not wait on: the worker
/// takes them at each wake-up, and before it counts a packet as of no session, so a packet
/// that arrives after the session was queued finds it, as it did when the control side waited
/// for the worker to take it. The first change queued since the worker last took them wakes
/// it, not every one. A packet of a session removed meanwhile reaches a session that carries
/// no IP any more, and a session of the same key comes later on the same channel.
#[derive(Debug)]
pub(crate) enum PppChange {
    Add(Box<PppRx>),
    /// Its route is removed first.
    Remove(u64),
}

/// Applies the queued [`PppChange`]s.
pub(super) fn apply_changes(
    sessions: &mut IdMap<u64, PppRx>,
    changes: &std::sync::mpsc::Receiver<PppChange>,
) {
    while let Ok(change) = changes.try_recv() {
        match change {
            PppChange::Add(rx) => {
                sessions.insert(rx.shared.key, *rx);
            }
            PppChange::Remove(key) => {
                sessions.remove(&key);
            }
        }
    }
}

/// What delivering a native-PPP session's packet needs of its worker.
pub(super) struct PppCtx<'a> {
    pub(super) sessions: &'a mut IdMap<u64, PppRx>,
    pub(super) changes: &'a std::sync::mpsc::Receiver<PppChange>,
    pub(super) tun: Option<&'a Tap>,
    pub(super) tun_offloads: TapOffloads,
    pub(super) common: &'a PppCommon,
    pub(super) totals: &'a TotalCounters,
    /// The LCP Echo-Replies held for the control plane (see [`SinkEvent::PppEchoReplies`]).
    pub(super) replies: &'a mut Vec<PppFrame>,
    /// What this worker may still hand the control plane of packets for sessions it does not
    /// know yet ([`super::early`]).
    pub(super) early: &'a mut super::early::EarlyBudget,
}

/// Where a received packet lies, for writes joined by the TUN's coalescer.
pub(super) struct TunPlace<'a> {
    pub(super) coalescer: &'a mut Coalescer,
    pub(super) buf: u32,
    /// Offset of the L2TP packet in the buffer.
    pub(super) base: usize,
}

/// Delivers one data packet (`parsed` from `packet`, the L2TP packet) of native-PPP session
/// `key`: an IP packet from the peer's address to the TUN (at once, or through `place`'s
/// coalescer), a control frame to the control plane; anything else is dropped and counted.
/// `tunnel` is the tunnel it arrived on (`None`: injected from the control plane). Returns
/// false when no such session is here.
pub(super) fn deliver(
    ctx: &mut PppCtx<'_>,
    tunnel: Option<&Arc<TunnelShared>>,
    sink: Option<&ControlSink>,
    key: u64,
    (parsed, packet): (Packet<'_>, &[u8]),
    place: Option<TunPlace<'_>>,
) -> bool {
    // A session just installed may still be on its way (see `PppChange`).
    if !ctx.sessions.contains_key(&key) {
        apply_changes(ctx.sessions, ctx.changes);
    }
    let Some(s) = ctx
        .sessions
        .get_mut(&key)
        .filter(|s| tunnel.is_none_or(|t| t.group == s.shared.tunnel.group))
    else {
        return false;
    };
    let c = &s.shared.counters;
    let with_ns = matches!(parsed, Packet::V2Data { header, .. } if header.sequence.is_some());
    let frame = match s.shared.codec.decap(&mut s.rx, parsed) {
        Ok(f) => {
            if let Packet::V2Data { .. } = parsed {
                s.shared.follow(with_ns);
            }
            f
        }
        Err(drop) => {
            c.rx_errors.fetch_add(1, Relaxed);
            match drop {
                RxDrop::CookieMismatch => {
                    c.cookie_mismatches.fetch_add(1, Relaxed);
                    ctx.totals.cookie_mismatches.fetch_add(1, Relaxed);
                    let r = &mut s.reports.get_or_insert_with(Box::default).cookie;
                    if let Some(dropped) = due(r) {
                        report(
                            sink,
                            SinkEvent::WrongCookie(cookie_report(&s.shared, dropped)),
                        );
                    }
                }
                RxDrop::SequenceMissing | RxDrop::OutOfOrder => {
                    c.seq_errors.fetch_add(1, Relaxed);
                    ctx.totals.seq_errors.fetch_add(1, Relaxed);
                }
                RxDrop::Truncated => {
                    ctx.totals.rx_truncated.fetch_add(1, Relaxed);
                }
            }
            return true;
        }
    };
    let at = packet.len() - frame.len();
    match judge(frame, s.shared.net()) {
        Inbound::Ip(ip) => {
            let bytes = &frame[ip.clone()];
            c.rx_packets.fetch_add(1, Relaxed);
            c.rx_bytes.fetch_add(bytes.len() as u64, Relaxed);
            s.shared.mark(ACTIVE_RX, ctx.common);
            let Some(tun) = ctx.tun else {
                ctx.totals.tun_errors.fetch_add(1, Relaxed);
                return true;
            };
            match place {
                Some(p) if tun.vnet() => {
                    let start = p.base + at + ip.start;
                    let fref = FrameRef {
                        buf: p.buf,
                        start: start as u32,
                        end: (start + bytes.len()) as u32,
                    };
                    if ctx.tun_offloads.tso {
                        p.coalescer.push(0, fref, bytes, 0, ctx.tun_offloads.uso);
                    } else {
                        p.coalescer.single(0, fref);
                    }
                }
                _ => write_packet(tun, bytes, ctx.totals),
            }
        }
        Inbound::Control if !s.control.take(Instant::now()) => {
            // Past the session's budget: the peer floods control frames.
            c.rx_errors.fetch_add(1, Relaxed);
            ctx.totals.ppp_control_rate.fetch_add(1, Relaxed);
        }
        Inbound::Control => {
            c.rx_packets.fetch_add(1, Relaxed);
            c.rx_bytes.fetch_add(frame.len() as u64, Relaxed);
            let f = PppFrame {
                tid: s.shared.tid,
                sid: s.shared.sid,
                frame: frame.to_vec(),
            };
            if is_echo_reply(frame) {
                ctx.replies.push(f);
            } else {
                // In order: the replies held before it go first.
                flush_replies(sink, ctx.replies);
                report(sink, SinkEvent::PppFrame(f));
            }
        }
        Inbound::Drop(why) => {
            c.rx_errors.fetch_add(1, Relaxed);
            let reports = s.reports.get_or_insert_with(Box::default);
            let r = match why {
                InboundDrop::Spoofed(_) => {
                    c.spoofed.fetch_add(1, Relaxed);
                    ctx.totals.spoofed.fetch_add(1, Relaxed);
                    &mut reports.spoof
                }
                InboundDrop::NotCarried(v) => {
                    ctx.totals.ppp_not_carried.fetch_add(1, Relaxed);
                    &mut reports.not_carried[v as usize]
                }
                InboundDrop::Invalid => {
                    ctx.totals.ppp_invalid.fetch_add(1, Relaxed);
                    &mut reports.invalid
                }
            };
            if let Some(dropped) = due(r) {
                let why = match why {
                    InboundDrop::Spoofed(source) => spoof(&s.shared, source),
                    InboundDrop::NotCarried(v) => PppDrop::NotCarried(v),
                    InboundDrop::Invalid => PppDrop::Invalid,
                };
                let r = PppDropReport {
                    tid: s.shared.tid,
                    sid: s.shared.sid,
                    dropped,
                    why,
                };
                report(sink, SinkEvent::PppDropped(r));
            }
        }
    }
    true
}

fn cookie_report(s: &PppShared, dropped: u64) -> CookieReport {
    CookieReport {
        tid: s.tid,
        sid: s.sid,
        dropped,
    }
}

fn spoof(s: &PppShared, source: IpAddr) -> PppDrop {
    let net = s.net();
    let expected = match source {
        IpAddr::V4(_) => net.peer_ipv4.map(IpAddr::from),
        IpAddr::V6(_) => net
            .peer_ifid
            .map(|id| IpAddr::from(crate::ppp::routes::link_local(id))),
    };
    PppDrop::Spoofed { source, expected }
}

/// Counts one more drop for a report; returns the drops to report when the last report is a
/// second old.
fn due(r: &mut CookieReporting) -> Option<u64> {
    r.unreported += 1;
    let now = Instant::now();
    if r.last
        .is_some_and(|t| now.duration_since(t) < COOKIE_REPORT_INTERVAL)
    {
        return None;
    }
    r.last = Some(now);
    Some(std::mem::take(&mut r.unreported))
}

/// Whether `frame` (with or without `FF 03`) is an LCP Echo-Reply (RFC 1661 §5.8).
fn is_echo_reply(frame: &[u8]) -> bool {
    let f = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
    matches!(f, [0xc0, 0x21, 10, ..])
}

/// Hands the held LCP Echo-Replies to the control plane, in one event.
pub(super) fn flush_replies(sink: Option<&ControlSink>, replies: &mut Vec<PppFrame>) {
    if !replies.is_empty() {
        report(sink, SinkEvent::PppEchoReplies(std::mem::take(replies)));
    }
}

fn report(sink: Option<&ControlSink>, event: SinkEvent) {
    if let Some(sink) = sink {
        sink.deliver(event);
    }
}

/// Writes one IP packet to the TUN (behind an empty virtio-net header when it has them).
pub(super) fn write_packet(tun: &Tap, packet: &[u8], totals: &TotalCounters) {
    let written = if tun.vnet() {
        let hdr = [0u8; VNET_HDR_LEN];
        tun.write_parts(&[IoSlice::new(&hdr), IoSlice::new(packet)])
    } else {
        tun.write(packet)
    };
    if written.is_err() {
        totals.tun_errors.fetch_add(1, Relaxed);
    }
}

/// Writes the batch's joined packets to the TUN.
pub(super) fn flush_tun(
    tun: Option<&Tap>,
    bufs: &mut [Vec<u8>],
    c: &mut Coalescer,
    totals: &TotalCounters,
) {
    if let Some(tun) = tun {
        for w in c.writes() {
            let head = w.head.range();
            let hdr = Coalescer::finish(w, &mut bufs[w.head.buf as usize][head.clone()]);
            let hdr = hdr.to_bytes();
            let mut parts = [IoSlice::new(&[]); super::rx::MAX_PARTS];
            parts[0] = IoSlice::new(&hdr);
            parts[1] = IoSlice::new(&bufs[w.head.buf as usize][head]);
            let mut k = 2;
            for t in w.tails.iter().take(super::rx::MAX_PARTS - 2) {
                parts[k] = IoSlice::new(&bufs[t.buf as usize][t.range()]);
                k += 1;
            }
            if tun.write_parts(&parts[..k]).is_err() {
                totals.tun_errors.fetch_add(w.frames() as u64, Relaxed);
            }
        }
    }
    c.clear();
}

/// Marks a session's IP sent.
pub(super) fn mark_sent(s: &Arc<PppShared>, common: &PppCommon) {
    s.mark(ACTIVE_TX, common);
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::atomic::AtomicUsize;

    use l2tp_proto::wire::header::Encapsulation;

    use super::*;
    use crate::ppp::codec::{PppCodecSpec, PppL2tp};
    use crate::stats::TunnelCounters;

    pub(in crate::worker) fn session(send_seq: bool, follows_lns: bool) -> PppShared {
        let Ok(socket) = std::net::UdpSocket::bind("127.0.0.1:0") else {
            panic!("a UDP socket");
        };
        let tunnel = Arc::new(TunnelShared {
            group: 0,
            tid: 1,
            encap: Encapsulation::Udp,
            ipv4: true,
            socket: socket.into(),
            dest: None,
            counters: Arc::new(TunnelCounters::default()),
            totals: Arc::default(),
            gso: AtomicBool::new(false),
            gso_max: AtomicUsize::new(usize::MAX),
            gro: false,
        });
        let codec = PppCodec::new(PppCodecSpec {
            encap: Encapsulation::Udp,
            l2tp: PppL2tp::V2 {
                peer_tid: 2,
                peer_sid: 3,
            },
            send_seq,
            recv_seq: false,
        });
        PppShared::new((1, 4, v2_key(1, 4)), tunnel, codec, follows_lns)
    }

    #[test]
    fn an_l2tpv2_lac_numbers_its_packets_as_its_lns_does() {
        let lac = session(false, true);
        assert!(!lac.numbered());
        assert_eq!(lac.ns(lac.numbered()), None);
        // The LNS numbers its packets: so does the LAC, from 0.
        lac.follow(true);
        assert!(lac.numbered());
        assert_eq!(lac.ns(lac.numbered()), Some(0));
        assert_eq!(lac.ns(lac.numbered()), Some(1));
        // It stops; and starts again where it left off (RFC 2661 §5.4).
        lac.follow(false);
        assert_eq!(lac.ns(lac.numbered()), None);
        lac.follow(true);
        assert_eq!(lac.ns(lac.numbered()), Some(2));
        // An LNS numbers as it was told to, whatever its LAC does.
        let lns = session(true, false);
        lns.follow(false);
        assert_eq!(lns.ns(lns.numbered()), Some(0));
    }

    #[test]
    fn sixteen_bit_numbers_wrap() {
        let s = session(true, false);
        s.ns.store(0xffff, Relaxed);
        assert_eq!(s.ns(true), Some(0xffff));
        assert_eq!(s.ns(true), Some(0));
    }

    #[test]
    fn v2_keys_are_apart_from_v3_session_ids() {
        assert_eq!(v2_key(0x1234, 0x5678), 0x1_1234_5678);
        assert!(v2_key(0, 0) > u64::from(u32::MAX));
    }
}
