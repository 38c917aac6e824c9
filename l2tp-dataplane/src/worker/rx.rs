//! The receive side of a worker: datagrams from a tunnel's socket to its sessions' TAPs.
//!
//! One `recvmmsg` fills up to [`BATCH`] buffers; with UDP GRO each buffer may hold many
//! datagrams of one size back to back (the last may be shorter), which are split here. Each
//! datagram is parsed, its session looked up and the packet decapsulated (cookie, sublayer,
//! sequence checks: per datagram, so per segment), and each frame held to its TAP's MTU
//! ([`super::limit`]: a longer one is dropped, as the kernel's `l2tp_eth` drops it). Frames
//! for a session whose TAP takes super-frames are handed to the [`Coalescer`], and once the
//! whole batch is through, each resulting write (a super-frame or a frame on its own) goes to
//! the TAP in one `writev` with its virtio-net header. Frames stay in the receive buffers until
//! then; nothing is copied.
//!
//! A session with a reorder queue writes its frames at once instead, so that frames released
//! from the queue cannot overtake them.

use std::io::IoSlice;
use std::os::fd::AsFd;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use std::{collections::HashMap, collections::HashSet, io};

use l2tp_proto::wire::header::{Encapsulation, Packet};

use super::limit::FrameLimit;
use super::ppp::{self as native, PppCtx, TunPlace, v2_key};
use super::{BATCH, BUF_LEN, COOKIE_REPORT_INTERVAL, SessionState, TunnelShared, Worker};
use crate::codec::{Received, RxDrop};
use crate::offload::{Coalescer, FrameRef, VNET_HDR_LEN, ethernet_l3};
use crate::socket::l2tp_payload;
use crate::stats::{SessionCounters, TotalCounters, TunnelCounters};
use crate::sys::{self, GroBatch};
use crate::tap::Tap;
use crate::{ControlPacket, ControlSink, CookieReport, EarlyData, SinkEvent};

/// Most pieces of one write: the virtio-net header, the head frame and 64 payloads.
pub(super) const MAX_PARTS: usize = 66;

/// The receive buffers of a worker, and the coalescers of a batch (the TAPs' and the TUN's).
#[derive(Debug)]
pub(super) struct RxBuffers {
    bufs: Vec<Vec<u8>>,
    batch: GroBatch,
    coalescer: Coalescer,
    tun_coalescer: Coalescer,
}

impl RxBuffers {
    pub(super) fn new() -> Self {
        Self {
            bufs: vec![vec![0; BUF_LEN]; BATCH],
            batch: GroBatch::new(),
            coalescer: Coalescer::new(),
            tun_coalescer: Coalescer::new(),
        }
    }
}

/// Where a received packet sits, so that its frame can be written later from there.
struct Place<'a> {
    coalescer: &'a mut Coalescer,
    tun_coalescer: &'a mut Coalescer,
    buf: u32,
    /// Offset of the packet in the buffer.
    base: usize,
}

impl Worker {
    /// Receives a batch on a tunnel's socket and delivers each datagram.
    // Several arrays are walked in step by index.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn tunnel_readable(&mut self, tid: u32) {
        let Self {
            tunnels,
            sessions,
            held,
            rx,
            control_sink,
            ppp,
            ppp_changes,
            tun,
            tun_offloads,
            ppp_common,
            totals,
            replies,
            early,
            ..
        } = self;
        let Some(t) = tunnels.get(&tid) else { return };
        let RxBuffers {
            bufs,
            batch,
            coalescer,
            tun_coalescer,
        } = rx;
        let mut ppp = PppCtx {
            sessions: ppp,
            changes: &ppp_changes.0,
            tun: tun.as_ref(),
            tun_offloads: *tun_offloads,
            common: ppp_common,
            totals,
            replies,
            early,
        };
        let got = if t.gro {
            sys::udp_gro_recv(t.socket.as_fd(), bufs, batch)
        } else {
            sys::recvmmsg(t.socket.as_fd(), bufs, &mut batch.lens).inspect(|&n| {
                batch.segs[..n].fill(0);
            })
        };
        let n = match got {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                // An ICMP port unreachable from the peer, kept for the connected socket
                // (RFC 1122 §4.1.3.3); reading it cleared it, and nothing was lost.
                t.counters.peer_unreachable.fetch_add(1, Relaxed);
                totals.peer_unreachable.fetch_add(1, Relaxed);
                return;
            }
            Err(_) => {
                // Another ICMP error on the connected socket; reading it cleared it.
                t.counters.rx_errors.fetch_add(1, Relaxed);
                totals.rx_errors.fetch_add(1, Relaxed);
                return;
            }
        };
        let sink = control_sink.as_deref();
        for i in 0..n {
            let len = batch.lens[i];
            if len > bufs[i].len() {
                t.counters.rx_packets.fetch_add(1, Relaxed);
                t.counters.rx_errors.fetch_add(1, Relaxed);
                totals.rx_errors.fetch_add(1, Relaxed);
                continue;
            }
            let step = match batch.segs[i] {
                0 => len,
                s => s,
            };
            let mut at = 0;
            while at < len {
                let end = (at + step).min(len);
                t.counters.rx_packets.fetch_add(1, Relaxed);
                let datagram = &mut bufs[i][at..end];
                let Some(offset) =
                    l2tp_payload(datagram, t.encap, t.ipv4).map(|p| end - at - p.len())
                else {
                    t.counters.rx_malformed.fetch_add(1, Relaxed);
                    totals.rx_malformed.fetch_add(1, Relaxed);
                    at = end;
                    continue;
                };
                let place = Place {
                    coalescer,
                    tun_coalescer,
                    buf: i as u32,
                    base: at + offset,
                };
                deliver(
                    (sessions, held, &mut ppp),
                    Some(t),
                    sink,
                    t.encap,
                    &mut bufs[i][at + offset..end],
                    Some(place),
                );
                at = end;
            }
        }
        flush(sessions, bufs, coalescer);
        native::flush_tun(ppp.tun, bufs, tun_coalescer, ppp.totals);
    }

    /// Delivers a data packet that arrived on a control-plane socket.
    pub(super) fn inject(&mut self, encap: Encapsulation, packet: &mut [u8]) {
        let mut ppp = PppCtx {
            sessions: &mut self.ppp,
            changes: &self.ppp_changes.0,
            tun: self.tun.as_ref(),
            tun_offloads: self.tun_offloads,
            common: &self.ppp_common,
            totals: &self.totals,
            replies: &mut self.replies,
            early: &mut self.early,
        };
        deliver(
            (&mut self.sessions, &mut self.held, &mut ppp),
            None,
            self.control_sink.as_deref(),
            encap,
            packet,
            None,
        );
    }
}

/// Writes the batch's pending writes to their sessions' TAPs.
fn flush(sessions: &HashMap<u32, SessionState>, bufs: &mut [Vec<u8>], c: &mut Coalescer) {
    for w in c.writes() {
        let Some(s) = sessions.get(&w.tag) else {
            continue;
        };
        let head = w.head.range();
        let hdr = Coalescer::finish(w, &mut bufs[w.head.buf as usize][head.clone()]);
        let hdr = hdr.to_bytes();
        let mut parts = [IoSlice::new(&[]); MAX_PARTS];
        parts[0] = IoSlice::new(&hdr);
        parts[1] = IoSlice::new(&bufs[w.head.buf as usize][head]);
        let mut k = 2;
        for t in w.tails.iter().take(MAX_PARTS - 2) {
            parts[k] = IoSlice::new(&bufs[t.buf as usize][t.range()]);
            k += 1;
        }
        let c = &s.counters;
        match s.tap.write_parts(&parts[..k]) {
            Ok(_) => {
                c.rx_packets.fetch_add(w.frames() as u64, Relaxed);
                c.rx_bytes.fetch_add(w.frame_bytes() as u64, Relaxed);
            }
            Err(_) => {
                c.rx_errors.fetch_add(w.frames() as u64, Relaxed);
                s.totals.tap_errors.fetch_add(w.frames() as u64, Relaxed);
            }
        }
    }
    c.clear();
}

/// Delivers one L2TP packet (from the session id or the UDP header on) to its session's TAP:
/// at once, or through `place`'s coalescer; or, for a native-PPP session, to the TUN or the
/// control plane. `tunnel` is the tunnel it arrived on, `None` for packets injected from the
/// control plane.
fn deliver(
    (sessions, held, ppp): (
        &mut HashMap<u32, SessionState>,
        &mut HashSet<u32>,
        &mut PppCtx<'_>,
    ),
    tunnel: Option<&std::sync::Arc<TunnelShared>>,
    control_sink: Option<&ControlSink>,
    encap: Encapsulation,
    packet: &mut [u8],
    place: Option<Place<'_>>,
) {
    // A drop (or a control message) of the tunnel's, counted in the totals too; one injected
    // from the control plane has no tunnel's counters.
    let totals = ppp.totals;
    let count = |f: fn(&TunnelCounters) -> &AtomicU64, total: Option<&AtomicU64>| {
        if let Some(t) = tunnel {
            f(&t.counters).fetch_add(1, Relaxed);
        }
        if let Some(total) = total {
            total.fetch_add(1, Relaxed);
        }
    };
    let tid = tunnel.map(|t| t.tid);
    let parsed = Packet::parse(packet, encap);
    // A native-PPP session's packet: an L2TPv2 one (named by our tunnel and session ids), or
    // an L2TPv3 one whose session id is no Ethernet session's.
    let ppp_key = match parsed {
        Ok(Packet::V2Data { header, .. }) => Some(v2_key(header.tunnel_id, header.session_id)),
        Ok(Packet::V3Data { session_id, .. }) if !sessions.contains_key(&session_id) => {
            Some(u64::from(session_id))
        }
        _ => None,
    };
    if let (Some(key), Ok(p)) = (ppp_key, &parsed) {
        let place = place.map(|p| TunPlace {
            coalescer: p.tun_coalescer,
            buf: p.buf,
            base: p.base,
        });
        if !native::deliver(ppp, tunnel, control_sink, key, (*p, packet), place)
            && !hand_over_early(tunnel, control_sink, ppp.early, packet)
        {
            count(|c| &c.rx_unknown_session, Some(&totals.rx_unknown_session));
        }
        return;
    }
    let (sid, offset) = match parsed {
        Ok(Packet::V3Data { session_id, rest }) => (session_id, packet.len() - rest.len()),
        Ok(Packet::Control { .. }) => {
            count(|c| &c.rx_control, None);
            if let (Some(sink), Some(tid)) = (control_sink, tid) {
                sink.deliver(SinkEvent::Control(ControlPacket {
                    tid,
                    packet: packet.to_vec(),
                }));
            }
            return;
        }
        Ok(Packet::V2Data { .. }) | Err(_) => {
            count(|c| &c.rx_malformed, Some(&totals.rx_malformed));
            return;
        }
    };
    let group = tunnel.map(|t| t.group);
    let Some(s) = sessions
        .get_mut(&sid)
        .filter(|s| s.home && group.is_none_or(|g| g == s.tunnel.group))
    else {
        count(|c| &c.rx_unknown_session, Some(&totals.rx_unknown_session));
        return;
    };
    let rest = &mut packet[offset..];
    let c = &s.counters;
    match s.codec.decap(sid, rest) {
        Ok(Received::Deliver(frame)) => {
            if !fits(&mut s.frame_limit, &s.tap, (c, &s.totals), frame.len()) {
                return;
            }
            let bytes = &rest[frame.clone()];
            match place {
                Some(p) if s.offloads.vnet && s.reorder.is_none() => {
                    let at = p.base + offset;
                    let fref = FrameRef {
                        buf: p.buf,
                        start: (at + frame.start) as u32,
                        end: (at + frame.end) as u32,
                    };
                    match ethernet_l3(bytes) {
                        Some((l3, 0x0800 | 0x86dd)) if s.offloads.tso => {
                            p.coalescer.push(sid, fref, bytes, l3, s.offloads.uso);
                        }
                        _ => p.coalescer.single(sid, fref),
                    }
                }
                _ => {
                    write_frame(&s.tap, (c, &s.totals), bytes);
                    if s.reorder.as_ref().is_some_and(|q| !q.is_empty()) {
                        // The gap may have closed.
                        release(s, Instant::now());
                    }
                }
            }
        }
        Ok(Received::Hold { seq, frame }) => {
            let Some(q) = s.reorder.as_mut() else {
                return;
            };
            if q.hold(s.codec.rx_sequence(), seq, &rest[frame], Instant::now()) {
                held.insert(sid);
            } else {
                // A duplicate of a held packet.
                c.rx_errors.fetch_add(1, Relaxed);
                c.seq_errors.fetch_add(1, Relaxed);
                s.totals.seq_errors.fetch_add(1, Relaxed);
            }
        }
        Err(drop) => {
            c.rx_errors.fetch_add(1, Relaxed);
            match drop {
                RxDrop::CookieMismatch => {
                    c.cookie_mismatches.fetch_add(1, Relaxed);
                    s.totals.cookie_mismatches.fetch_add(1, Relaxed);
                    report_cookie(s, control_sink);
                }
                RxDrop::SequenceMissing | RxDrop::OutOfOrder => {
                    c.seq_errors.fetch_add(1, Relaxed);
                    s.totals.seq_errors.fetch_add(1, Relaxed);
                }
                RxDrop::Truncated => {
                    s.totals.rx_truncated.fetch_add(1, Relaxed);
                }
            }
        }
    }
}

/// Hands a data packet for a session this worker does not know to the control plane, which
/// gives it back after the events before it (see [`super::early`]); returns whether it did.
/// Only a packet read on one of the worker's UDP tunnels goes (one given back does not go
/// again; over IP, the control messages reach the control plane on another socket, so
/// nothing would keep the packet behind the ICCN), within the worker's budget, and to a sink
/// that takes it.
fn hand_over_early(
    tunnel: Option<&std::sync::Arc<TunnelShared>>,
    sink: Option<&ControlSink>,
    budget: &mut super::early::EarlyBudget,
    packet: &[u8],
) -> bool {
    let (Some(t), Some(sink)) = (tunnel, sink) else {
        return false;
    };
    if t.encap != Encapsulation::Udp || !sink.takes_early() || !budget.take(Instant::now()) {
        return false;
    }
    sink.deliver(SinkEvent::EarlyData(EarlyData {
        tid: t.tid,
        packet: packet.to_vec(),
    }));
    true
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

/// Whether a received frame of `len` octets fits the session's TAP ([`FrameLimit`]); one that
/// does not is counted as dropped (`rx_oversize`), to be dropped by the caller.
fn fits(
    limit: &mut FrameLimit,
    tap: &Tap,
    (c, totals): (&SessionCounters, &TotalCounters),
    len: usize,
) -> bool {
    if limit.admits(len, Instant::now, || tap.mtu().ok()) {
        return true;
    }
    c.rx_errors.fetch_add(1, Relaxed);
    c.oversize.fetch_add(1, Relaxed);
    totals.rx_oversize.fetch_add(1, Relaxed);
    false
}

/// Writes a received frame to the session's TAP (behind an empty virtio-net header when the
/// TAP has them) and counts it.
fn write_frame(tap: &Tap, (c, totals): (&SessionCounters, &TotalCounters), frame: &[u8]) {
    let written = if tap.vnet() {
        let hdr = [0u8; VNET_HDR_LEN];
        tap.write_parts(&[IoSlice::new(&hdr), IoSlice::new(frame)])
    } else {
        tap.write(frame)
    };
    match written {
        Ok(_) => {
            c.rx_packets.fetch_add(1, Relaxed);
            c.rx_bytes.fetch_add(frame.len() as u64, Relaxed);
        }
        Err(_) => {
            c.rx_errors.fetch_add(1, Relaxed);
            totals.tap_errors.fetch_add(1, Relaxed);
        }
    }
}

/// Delivers a session's held packets that can go now.
pub(crate) fn release(s: &mut SessionState, now: Instant) {
    let SessionState {
        tap,
        codec,
        reorder,
        counters,
        totals,
        frame_limit,
        ..
    } = s;
    if let Some(q) = reorder.as_mut() {
        let dropped = q.release(codec.rx_sequence_mut(), now, |f| {
            if !fits(frame_limit, tap, (counters, totals), f.len()) {
                return;
            }
            counters.reordered.fetch_add(1, Relaxed);
            write_frame(tap, (counters, totals), f)
        });
        counters.rx_errors.fetch_add(dropped, Relaxed);
        counters.seq_errors.fetch_add(dropped, Relaxed);
        TotalCounters::add(&totals.seq_errors, dropped);
    }
}
