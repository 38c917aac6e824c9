//! The send side of a worker: frames from its queue of a session's TAP to the tunnel's socket.
//!
//! Without offloads, up to [`BATCH`] frames are read, each into a buffer with [`HEADROOM`] in
//! front so that the session header is written in place, and sent with one `sendmmsg`.
//!
//! With offloads, each read (into a buffer of its own) returns a virtio-net header and a frame
//! that may be a super-frame of up to 64 KiB. It is segmented without copying its payload: each
//! segment's headers (session header, L2, IP and transport headers, checksum completed over
//! the payload where it lies) are written into an arena, and the segment is numbered and
//! encapsulated there (segment before numbering: with sequencing, every L2TP packet carries
//! its own number); the datagram is then gathered from its headers and its payload. A frame
//! that is not a super-frame is encapsulated in place, its partial checksum completed first.
//! Runs of datagrams of one size (the last of a run may be shorter) leave in one `sendmmsg`
//! message each, with `UDP_SEGMENT` telling the kernel where to cut. When the kernel refuses GSO for a message (an IPsec
//! policy on the socket, or datagrams over the path MTU, which are then fragmented as
//! without offloads), its datagrams go out one by one; after an IPsec refusal the tunnel
//! stops asking for GSO, and after a refusal for size it asks only for smaller datagrams.

use std::io::{self, IoSlice};
use std::ops::Range;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering::Relaxed;

use nix::libc;

use super::{BATCH, BUF_LEN, SessionState, TunnelShared, Worker};
use crate::codec::HEADROOM;
use crate::offload::{GsoType, Segmenter, VNET_HDR_LEN, VnetHdr, complete_checksum, ethernet_l3};
use crate::stats::SessionCounters;
use crate::sys::{self, MAX_BATCH};

/// Octets of the arena that super-frames are segmented into.
pub(super) const ARENA_LEN: usize = 2 << 20;
/// Most datagrams in one GSO message (the kernel's `UDP_MAX_SEGMENTS` is 64 or more).
const GSO_MAX_SEGMENTS: usize = 64;
/// Most octets in one GSO message (a UDP datagram's payload is at most 65 507 over IPv4).
const GSO_MAX_BYTES: usize = 65_000;

/// Where a datagram's first part lies: in the arena or in a read buffer.
pub(super) const IN_ARENA: usize = usize::MAX;

/// A datagram ready to send: its first part (session header and, for a segment, the frame's
/// headers), the payload of a segment, and how many frame octets it carries.
#[derive(Clone, Debug)]
pub(super) struct Datagram {
    /// [`IN_ARENA`] or the read buffer.
    pub(super) head_in: usize,
    pub(super) head: Range<usize>,
    /// The read buffer and range of a segment's payload (empty for a whole frame).
    pub(super) payload: (usize, Range<usize>),
    pub(super) frame_len: usize,
}

impl Datagram {
    fn len(&self) -> usize {
        self.head.len() + self.payload.1.len()
    }
}

/// The send buffers of a worker.
#[derive(Debug)]
pub(super) struct TxBuffers {
    /// One buffer per frame read (room for a virtio-net header, or a session header, in front).
    pub(super) bufs: Vec<Vec<u8>>,
    pub(super) ranges: Vec<Range<usize>>,
    /// Segment headers, with offloads.
    pub(super) arena: Vec<u8>,
    pub(super) datagrams: Vec<Datagram>,
}

impl TxBuffers {
    pub(super) fn new() -> Self {
        Self {
            bufs: vec![vec![0; HEADROOM + BUF_LEN + VNET_HDR_LEN]; BATCH],
            ranges: vec![0..0; BATCH],
            arena: vec![0; ARENA_LEN],
            datagrams: Vec::with_capacity(4 * BATCH),
        }
    }
}

/// Why reading a TAP stopped.
enum ReadEnd {
    /// Nothing more to read now (or a transient error, counted).
    Drained,
    /// The TAP is gone: the reason.
    Gone(String),
}

/// Reads one frame from the session's queue; `Err` when reading should stop.
fn read_frame(s: &SessionState, buf: &mut [u8], failed: bool) -> Result<usize, ReadEnd> {
    match s.tap.read(buf) {
        Ok(0) => Err(ReadEnd::Drained),
        Ok(len) => Ok(len),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(ReadEnd::Drained),
        Err(e) if e.raw_os_error() == Some(libc::EBADFD) => Err(ReadEnd::Gone(format!(
            "its TAP interface {} was deleted",
            s.tap.name()
        ))),
        Err(e) if failed => Err(ReadEnd::Gone(format!(
            "its TAP interface {} failed: {e}",
            s.tap.name()
        ))),
        Err(_) => {
            s.counters.tx_errors.fetch_add(1, Relaxed);
            s.totals.tap_errors.fetch_add(1, Relaxed);
            Err(ReadEnd::Drained)
        }
    }
}

impl Worker {
    /// Reads a batch of frames from this worker's queue of a session's TAP and sends them.
    /// `failed`: epoll reported the TAP in error. Returns why the session cannot go on, when
    /// its TAP is gone.
    pub(super) fn tap_readable(&mut self, sid: u32, failed: bool) -> Option<String> {
        let Self { sessions, tx, .. } = self;
        let s = sessions.get_mut(&sid)?;
        if s.tap.vnet() {
            send_offloaded(s, tx, failed)
        } else {
            send_plain(s, tx, failed)
        }
    }
}

/// Sessions without offloads: one frame per datagram, encapsulated in place.
// Several arrays are walked in step by index.
#[allow(clippy::needless_range_loop)]
fn send_plain(s: &mut SessionState, tx: &mut TxBuffers, failed: bool) -> Option<String> {
    let mut n = 0;
    let mut bytes = [0usize; BATCH];
    let mut gone = None;
    while n < BATCH {
        let buf = &mut tx.bufs[n];
        match read_frame(s, &mut buf[HEADROOM..], failed) {
            Ok(len) => {
                tx.ranges[n] = s.codec.encap(buf, HEADROOM..HEADROOM + len);
                bytes[n] = len;
                n += 1;
            }
            Err(ReadEnd::Drained) => break,
            Err(ReadEnd::Gone(why)) => {
                gone = Some(why);
                break;
            }
        }
    }
    let mut msgs: [&[u8]; BATCH] = [&[]; BATCH];
    for i in 0..n {
        msgs[i] = &tx.bufs[i][tx.ranges[i].clone()];
    }
    let sent = send_each(&s.tunnel, &s.counters, &msgs[..n], &bytes[..n]);
    // The socket's send buffer is full: the rest is dropped, as a NIC queue would.
    tx_dropped(&s.tunnel, &s.counters, n - sent);
    gone
}

/// Sends `msgs` (datagrams carrying `bytes` frame octets each) one datagram per message;
/// returns how many were sent or skipped after an error (counted), stopping only when the
/// socket's buffer is full.
pub(super) fn send_each(
    tunnel: &TunnelShared,
    counters: &SessionCounters,
    msgs: &[&[u8]],
    bytes: &[usize],
) -> usize {
    let mut sent = 0;
    while sent < msgs.len() {
        let end = msgs.len().min(sent + MAX_BATCH);
        match sys::sendmmsg(
            tunnel.socket.as_fd(),
            tunnel.dest.as_ref(),
            &msgs[sent..end],
        ) {
            Ok(0) => break,
            Ok(k) => {
                counters.tx_packets.fetch_add(k as u64, Relaxed);
                let b: usize = bytes[sent..sent + k].iter().sum();
                counters.tx_bytes.fetch_add(b as u64, Relaxed);
                sent += k;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                // This datagram failed (for example EMSGSIZE, or ECONNREFUSED left by an
                // ICMP error); skip it and go on with the rest.
                send_failed(tunnel, counters, &e);
                sent += 1;
            }
        }
    }
    sent
}

/// Counts `n` frames (or IP packets) that will not be sent, in the session's `tx_errors` and
/// the data plane's.
pub(super) fn tx_dropped(tunnel: &TunnelShared, counters: &SessionCounters, n: usize) {
    if n > 0 {
        counters.tx_errors.fetch_add(n as u64, Relaxed);
        tunnel.totals.tx_errors.fetch_add(n as u64, Relaxed);
    }
}

/// Counts one datagram whose send failed with `e`. ECONNREFUSED is an ICMP port unreachable
/// from the peer, which the kernel kept for the connected socket and reports once (RFC 1122
/// §4.1.3.3): the datagram did not leave, through no fault of this host's, so the data plane
/// counts it as `peer_unreachable`, not as a `tx_error` (the session still counts a frame it
/// could not send).
fn send_failed(tunnel: &TunnelShared, counters: &SessionCounters, e: &io::Error) {
    if e.raw_os_error() == Some(libc::ECONNREFUSED) {
        counters.tx_errors.fetch_add(1, Relaxed);
        tunnel.counters.peer_unreachable.fetch_add(1, Relaxed);
        tunnel.totals.peer_unreachable.fetch_add(1, Relaxed);
    } else {
        tx_dropped(tunnel, counters, 1);
    }
}

/// Sessions with offloads: super-frames segmented, datagrams sent in GSO runs.
fn send_offloaded(s: &mut SessionState, tx: &mut TxBuffers, failed: bool) -> Option<String> {
    let TxBuffers {
        bufs,
        arena,
        datagrams,
        ..
    } = tx;
    datagrams.clear();
    let mut cursor = 0;
    let mut gone = None;
    // The virtio-net header lands in front of the frame, where its session header goes later.
    let at = HEADROOM - VNET_HDR_LEN;
    let mut n = 0;
    while n < BATCH {
        let len = match read_frame(s, &mut bufs[n][at..], failed) {
            Ok(len) => len,
            Err(ReadEnd::Drained) => break,
            Err(ReadEnd::Gone(why)) => {
                gone = Some(why);
                break;
            }
        };
        let buf = &mut bufs[n];
        let Some(hdr) = buf.get(at..at + len).and_then(|b| VnetHdr::parse(b).ok()) else {
            tx_dropped(&s.tunnel, &s.counters, 1);
            continue;
        };
        let end = at + len;
        let frame = &mut buf[HEADROOM..end];
        let l3 = ethernet_l3(frame).map_or(14, |(l3, _)| l3);
        if hdr.gso_type == GsoType::None {
            if hdr.needs_csum
                && complete_checksum(frame, l3, hdr.csum_start, hdr.csum_offset).is_err()
            {
                tx_dropped(&s.tunnel, &s.counters, 1);
                continue;
            }
            let frame_len = frame.len();
            let r = s.codec.encap(buf, HEADROOM..end);
            datagrams.push(Datagram {
                head_in: n,
                head: r,
                payload: (n, 0..0),
                frame_len,
            });
            n += 1;
            continue;
        }
        let frame = &bufs[n][HEADROOM..end];
        let Ok(mut seg) = Segmenter::new(frame, l3, &hdr) else {
            tx_dropped(&s.tunnel, &s.counters, 1);
            continue;
        };
        let overhead = s.codec.overhead(frame);
        let per = overhead + seg.headers_len();
        let need = seg.remaining() * per;
        if need > arena.len() {
            tx_dropped(&s.tunnel, &s.counters, 1);
            continue;
        }
        if cursor + need > arena.len() {
            send_datagrams((&s.tunnel, &s.counters), bufs, arena, datagrams);
            cursor = 0;
        }
        while let Some((h, payload)) = seg.next_headers(&mut arena[cursor + overhead..]) {
            let start = cursor + overhead;
            let r = s.codec.encap(arena, start..start + h);
            cursor = r.end;
            let frame_len = h + payload.len();
            datagrams.push(Datagram {
                head_in: IN_ARENA,
                head: r,
                payload: (n, HEADROOM + payload.start..HEADROOM + payload.end),
                frame_len,
            });
        }
        n += 1;
    }
    send_datagrams((&s.tunnel, &s.counters), bufs, arena, datagrams);
    gone
}

/// Sends the datagrams: runs of one size (the last of a run may be shorter) as one GSO message
/// each when the tunnel allows it, else one by one; each gathered from its parts.
pub(super) fn send_datagrams(
    (tunnel, counters): (&TunnelShared, &SessionCounters),
    bufs: &[Vec<u8>],
    arena: &[u8],
    datagrams: &mut Vec<Datagram>,
) {
    if datagrams.is_empty() {
        return;
    }
    let gso = tunnel.gso.load(Relaxed);
    let gso_max = tunnel.gso_max.load(Relaxed);
    let head = |d: &Datagram| -> &[u8] {
        match d.head_in {
            IN_ARENA => &arena[d.head.clone()],
            b => &bufs[b][d.head.clone()],
        }
    };
    // Every datagram's parts, in order; a message is a range of them.
    let mut parts: Vec<IoSlice<'_>> = Vec::with_capacity(2 * datagrams.len());
    // (parts, segment size, datagrams)
    let mut msgs: Vec<(Range<usize>, u16, Range<usize>)> = Vec::with_capacity(datagrams.len());
    let mut i = 0;
    while i < datagrams.len() {
        let size = datagrams[i].len();
        let first_part = parts.len();
        let mut bytes = 0;
        let mut j = i;
        while j < datagrams.len() {
            let d = &datagrams[j];
            let more = j > i;
            if more
                && (!gso
                    || size > gso_max
                    || j - i >= GSO_MAX_SEGMENTS
                    || d.len() > size
                    || bytes + d.len() > GSO_MAX_BYTES)
            {
                break;
            }
            parts.push(IoSlice::new(head(d)));
            if !d.payload.1.is_empty() {
                parts.push(IoSlice::new(&bufs[d.payload.0][d.payload.1.clone()]));
            }
            bytes += d.len();
            j += 1;
            if d.len() < size {
                break;
            }
        }
        let seg = if j - i > 1 { size as u16 } else { 0 };
        msgs.push((first_part..parts.len(), seg, i..j));
        i = j;
    }
    let frame_bytes = |r: &Range<usize>| -> u64 {
        datagrams[r.clone()]
            .iter()
            .map(|d| d.frame_len as u64)
            .sum()
    };
    let mut m = 0;
    let mut batch: Vec<(&[IoSlice<'_>], u16)> = Vec::with_capacity(MAX_BATCH);
    while m < msgs.len() {
        let end = msgs.len().min(m + MAX_BATCH);
        batch.clear();
        batch.extend(msgs[m..end].iter().map(|(p, g, _)| (&parts[p.clone()], *g)));
        match sys::udp_gso_send(tunnel.socket.as_fd(), tunnel.dest.as_ref(), &batch) {
            Ok(0) => break,
            Ok(k) => {
                for (_, _, d) in &msgs[m..m + k] {
                    counters.tx_packets.fetch_add(d.len() as u64, Relaxed);
                    counters.tx_bytes.fetch_add(frame_bytes(d), Relaxed);
                }
                m += k;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                let (p, seg, d) = &msgs[m];
                if *seg != 0 {
                    // GSO refused for this message: EIO under an IPsec policy (for good);
                    // EMSGSIZE (EINVAL from older kernels) for datagrams over the path
                    // MTU, which one by one the kernel fragments. Send them one by one.
                    match e.raw_os_error() {
                        Some(libc::EIO) => tunnel.gso.store(false, Relaxed),
                        // The peer's port unreachable, reported (and cleared) instead of
                        // sending: counted, and the datagrams go out one by one.
                        Some(libc::ECONNREFUSED) => {
                            tunnel.counters.peer_unreachable.fetch_add(1, Relaxed);
                            tunnel.totals.peer_unreachable.fetch_add(1, Relaxed);
                        }
                        Some(libc::EMSGSIZE | libc::EINVAL) => {
                            tunnel.gso_max.fetch_min(usize::from(*seg) - 1, Relaxed);
                        }
                        _ => {}
                    }
                    let sent = send_one_by_one(
                        (tunnel, counters),
                        &parts[p.clone()],
                        &datagrams[d.clone()],
                    );
                    tx_dropped(tunnel, counters, d.len() - sent);
                } else {
                    send_failed(tunnel, counters, &e);
                }
                m += 1;
            }
        }
    }
    // The socket's send buffer is full: the rest is dropped, as a NIC queue would.
    let dropped: usize = msgs[m..].iter().map(|(_, _, d)| d.len()).sum();
    tx_dropped(tunnel, counters, dropped);
    datagrams.clear();
}

/// Sends `datagrams`, whose parts are `parts` in order, one datagram per message; returns how
/// many were sent or skipped after an error (counted), stopping when the socket is full.
fn send_one_by_one(
    (tunnel, counters): (&TunnelShared, &SessionCounters),
    parts: &[IoSlice<'_>],
    datagrams: &[Datagram],
) -> usize {
    let mut msgs: Vec<(&[IoSlice<'_>], u16)> = Vec::with_capacity(datagrams.len());
    let mut p = 0;
    for d in datagrams {
        let k = if d.payload.1.is_empty() { 1 } else { 2 };
        msgs.push((&parts[p..p + k], 0));
        p += k;
    }
    let mut sent = 0;
    while sent < msgs.len() {
        let end = msgs.len().min(sent + MAX_BATCH);
        match sys::udp_gso_send(
            tunnel.socket.as_fd(),
            tunnel.dest.as_ref(),
            &msgs[sent..end],
        ) {
            Ok(0) => break,
            Ok(k) => {
                counters.tx_packets.fetch_add(k as u64, Relaxed);
                let b: usize = datagrams[sent..sent + k].iter().map(|d| d.frame_len).sum();
                counters.tx_bytes.fetch_add(b as u64, Relaxed);
                sent += k;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                send_failed(tunnel, counters, &e);
                sent += 1;
            }
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    use l2tp_proto::wire::header::Encapsulation;

    use super::*;
    use crate::kernel::Rtnl;
    use crate::stats::TunnelCounters;

    /// A run of datagrams over the path MTU is refused as one GSO message (EMSGSIZE, or EINVAL
    /// from older kernels): its datagrams leave one by one, fragmented, and the tunnel stops
    /// asking GSO for datagrams that large. Needs root, for a network namespace whose loopback
    /// has an MTU of 1500.
    #[test]
    fn datagrams_over_the_path_mtu_leave_one_by_one_and_stop_gso_at_that_size() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: not root");
            return;
        }
        // Only this thread moves, and the sockets are made in it.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .unwrap_or_else(|e| panic!("unshare: {e}"));
        let rtnl = Rtnl::open().unwrap_or_else(|e| panic!("rtnetlink: {e}"));
        let lo = rtnl.index("lo").unwrap_or_else(|e| panic!("lo: {e}"));
        rtnl.set_state(lo, true, Some(1500))
            .unwrap_or_else(|e| panic!("lo up, MTU 1500: {e}"));
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        tx.connect(rx.local_addr().unwrap_or_else(|e| panic!("address: {e}")))
            .unwrap_or_else(|e| panic!("connect: {e}"));
        sys::set_fragmentation_allowed(tx.as_fd(), false)
            .unwrap_or_else(|e| panic!("IP_MTU_DISCOVER: {e}"));
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap_or_else(|e| panic!("timeout: {e}"));
        let tunnel = TunnelShared {
            group: 0,
            tid: 1,
            encap: Encapsulation::Udp,
            ipv4: true,
            socket: tx.into(),
            dest: None,
            counters: Arc::new(TunnelCounters::default()),
            totals: Arc::default(),
            gso: AtomicBool::new(true),
            gso_max: AtomicUsize::new(usize::MAX),
            gro: false,
        };
        let counters = SessionCounters::default();
        // Two datagrams of 1600 octets: over 1500 once in IPv4 and UDP.
        let arena: Vec<u8> = (0..3200u32).map(|i| i as u8).collect();
        let mut datagrams: Vec<Datagram> = [0..1600, 1600..3200]
            .into_iter()
            .map(|head| Datagram {
                head_in: IN_ARENA,
                head,
                payload: (0, 0..0),
                frame_len: 1600,
            })
            .collect();
        send_datagrams((&tunnel, &counters), &[], &arena, &mut datagrams);
        let mut buf = [0u8; 4000];
        for half in arena.chunks(1600) {
            let n = rx
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("a datagram: {e}"));
            assert_eq!(&buf[..n], half);
        }
        assert_eq!(counters.tx_packets.load(Relaxed), 2);
        assert_eq!(counters.tx_errors.load(Relaxed), 0);
        assert!(tunnel.gso.load(Relaxed));
        assert!(tunnel.gso_max.load(Relaxed) < 1600);
    }
}
