//! Coalescing on receipt (what the kernel's GRO does for a NIC): consecutive TCP segments of
//! one flow are joined into one super-frame, written to the device with a virtio-net header
//! that tells the kernel how to split it again (`gso_size`), with the transport checksum left
//! partial. One write then carries up to 64 segments through the device and the stack.
//!
//! A segment joins the open super-frame of its flow when every header field but the lengths,
//! the IPv4 id and the checksums equals the first segment's (the L2 header, addresses, TOS or
//! traffic class and flow label, TTL, DF, ports, acknowledgement, window, TCP options), its
//! sequence number follows on, it carries payload of at most the first segment's length, and
//! its flags are ACK or ACK+PSH (PSH closes the super-frame, as does a shorter segment). Each
//! segment's own checksum is verified before it joins, since the kernel will not verify the
//! super-frame's. With `udp` (devices that take `VIRTIO_NET_HDR_GSO_UDP_L4`, Linux 6.2),
//! datagrams of one UDP flow with equal lengths (the last may be shorter) are joined the same
//! way. Everything else is written as it came, in order.
//!
//! Frames are not copied: the caller keeps them in its buffers and names them with a
//! [`FrameRef`]; a [`Write`] is a head frame plus the payload ranges of the frames joined to
//! it, for one gathered write (`writev`). [`Coalescer::finish`] rewrites the head's lengths and
//! checksum field in place.

use super::csum;
use super::vnet::{GsoType, VnetHdr};
use super::{Addrs, IPPROTO_TCP, IPPROTO_UDP};

/// Most super-frames open at once (flows interleaved in one batch).
const MAX_OPEN: usize = 8;
/// Most segments in one super-frame.
const MAX_SEGMENTS: usize = 64;
/// Octets of the header fields compared between segments, at most.
const KEY_MAX: usize = 128;
/// TCP flags that may be coalesced: ACK, and PSH (which closes the super-frame).
const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;

/// A frame in one of the caller's buffers.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct FrameRef {
    /// Which buffer.
    pub buf: u32,
    /// Start of the frame (or, in [`Write::tails`], of the payload) in it.
    pub start: u32,
    /// End.
    pub end: u32,
}

impl FrameRef {
    /// The range in its buffer.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One write to the device: a frame, and the payloads of the segments joined to it.
#[derive(Debug)]
pub struct Write {
    /// The caller's tag (for example the session).
    pub tag: u32,
    /// The first frame, whole.
    pub head: FrameRef,
    /// The payloads of the frames joined to it, in order.
    pub tails: Vec<FrameRef>,
    meta: Meta,
}

impl Write {
    /// The frames this write carries.
    pub fn frames(&self) -> usize {
        1 + self.tails.len()
    }

    /// The octets of those frames, each with its headers (as they arrived).
    pub fn frame_bytes(&self) -> usize {
        let head = self.head.range().len();
        let headers = usize::from(self.meta.payload) * self.tails.len();
        head + headers + self.tails.iter().map(|t| t.range().len()).sum::<usize>()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    v6: bool,
    proto: u8,
    l3: u16,
    l4: u16,
    /// Offset of the head's payload in the head frame.
    payload: u16,
    /// The segment size: the head's payload length.
    seg: u16,
    /// Payload octets of the head and tails.
    total: usize,
    /// TCP: the sequence number the next segment must carry.
    next_seq: u32,
    /// A segment with PSH joined: the super-frame carries PSH.
    psh: bool,
}

/// An open super-frame: which write, and the header fields a segment must match.
#[derive(Debug)]
struct Open {
    write: usize,
    tag: u32,
    key: [u8; KEY_MAX],
    key_len: usize,
}

/// A frame that may be coalesced, as classified.
struct Candidate {
    meta: Meta,
    payload_len: usize,
    seq: u32,
    psh: bool,
    key: [u8; KEY_MAX],
    key_len: usize,
}

/// Collects a batch of received frames into writes.
#[derive(Debug, Default)]
pub struct Coalescer {
    writes: Vec<Write>,
    open: Vec<Open>,
    pool: Vec<Vec<FrameRef>>,
}

impl Coalescer {
    /// An empty coalescer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a frame (`bytes` are its octets, the IP header at `l3`) under `tag`; frames of
    /// different tags are never joined. TCP segments may be joined, and UDP datagrams when
    /// `udp` (the device takes UDP super-frames).
    pub fn push(&mut self, tag: u32, frame: FrameRef, bytes: &[u8], l3: usize, udp: bool) {
        let Some(c) = classify(bytes, l3, udp) else {
            self.single(tag, frame);
            return;
        };
        if let Some(i) = self
            .open
            .iter()
            .position(|o| o.tag == tag && o.key[..o.key_len] == c.key[..c.key_len])
        {
            let w = &mut self.writes[self.open[i].write];
            if joins(&w.meta, w.tails.len(), &c) {
                let start = frame.start + u32::from(c.meta.payload);
                w.tails.push(FrameRef { start, ..frame });
                w.meta.total += c.payload_len;
                w.meta.next_seq = c.seq.wrapping_add(c.payload_len as u32);
                w.meta.psh |= c.psh;
                if c.psh || c.payload_len < usize::from(w.meta.seg) {
                    self.open.remove(i);
                }
                return;
            }
            self.open.remove(i);
        }
        let write = self.writes.len();
        let mut meta = c.meta;
        meta.total = c.payload_len;
        meta.next_seq = c.seq.wrapping_add(c.payload_len as u32);
        let tails = self.pool.pop().unwrap_or_default();
        self.writes.push(Write {
            tag,
            head: frame,
            tails,
            meta,
        });
        if c.psh {
            return;
        }
        if self.open.len() == MAX_OPEN {
            self.open.remove(0);
        }
        self.open.push(Open {
            write,
            tag,
            key: c.key,
            key_len: c.key_len,
        });
    }

    /// The writes of the batch so far, in order.
    pub fn writes(&self) -> &[Write] {
        &self.writes
    }

    /// How many frames are pending.
    pub fn frames(&self) -> usize {
        self.writes.iter().map(|w| 1 + w.tails.len()).sum()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Forgets the batch (keeping its allocations).
    pub fn clear(&mut self) {
        for mut w in self.writes.drain(..) {
            w.tails.clear();
            self.pool.push(w.tails);
        }
        self.open.clear();
    }

    /// Prepares `head` (the octets of `w.head`) to be written with the payloads of `w.tails`
    /// behind it: its IP length, IPv4 header checksum, UDP length and transport checksum field
    /// (the pseudo-header sum of the whole super-frame), and returns the virtio-net header to
    /// write in front. A write without tails is left as it is, with an empty header.
    pub fn finish(w: &Write, head: &mut [u8]) -> VnetHdr {
        let m = &w.meta;
        if w.tails.is_empty() {
            return VnetHdr::default();
        }
        let (l3, l4, payload) = (usize::from(m.l3), usize::from(m.l4), usize::from(m.payload));
        let l4_total = payload - l4 + m.total;
        if m.v6 {
            let plen = (payload - l3 - 40 + m.total) as u16;
            head[l3 + 4..l3 + 6].copy_from_slice(&plen.to_be_bytes());
        } else {
            let tot = (payload - l3 + m.total) as u16;
            head[l3 + 2..l3 + 4].copy_from_slice(&tot.to_be_bytes());
            let c = csum::ipv4_header(&head[l3..l3 + 20]);
            head[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let pseudo = Addrs::read(head, l3, m.v6).map_or(0, |a| a.pseudo(m.proto, l4_total));
        let (gso_type, csum_offset) = match (m.proto, m.v6) {
            (IPPROTO_TCP, false) => (GsoType::TcpV4, 16),
            (IPPROTO_TCP, true) => (GsoType::TcpV6, 16),
            _ => (GsoType::UdpL4, 6),
        };
        if m.proto == IPPROTO_TCP {
            if m.psh {
                head[l4 + 13] |= TCP_PSH;
            }
        } else {
            head[l4 + 4..l4 + 6].copy_from_slice(&(l4_total as u16).to_be_bytes());
        }
        let at = l4 + csum_offset;
        head[at..at + 2].copy_from_slice(&csum::fold(pseudo).to_be_bytes());
        VnetHdr {
            gso_type,
            ecn: false,
            needs_csum: true,
            hdr_len: m.payload,
            gso_size: m.seg,
            csum_start: m.l4,
            csum_offset: csum_offset as u16,
        }
    }

    /// Adds a frame that is written as it is (not IP, or its device takes no super-frames).
    pub fn single(&mut self, tag: u32, frame: FrameRef) {
        let tails = self.pool.pop().unwrap_or_default();
        self.writes.push(Write {
            tag,
            head: frame,
            tails,
            meta: Meta::default(),
        });
    }
}

/// Whether candidate `c` may join a super-frame described by `m` with `tails` segments.
fn joins(m: &Meta, tails: usize, c: &Candidate) -> bool {
    let fits = c.payload_len <= usize::from(m.seg)
        && tails + 1 < MAX_SEGMENTS
        && usize::from(m.payload) - usize::from(m.l3) + m.total + c.payload_len <= 0xffff;
    fits && (m.proto != IPPROTO_TCP || c.seq == m.next_seq)
}

/// Classifies a frame: `Some` when it may be coalesced (and its checksum is right).
fn classify(bytes: &[u8], l3: usize, udp: bool) -> Option<Candidate> {
    let mut key = [0u8; KEY_MAX];
    let mut key_len = 0;
    let mut put = |b: &[u8]| -> Option<()> {
        key.get_mut(key_len..key_len + b.len())?.copy_from_slice(b);
        key_len += b.len();
        Some(())
    };
    put(bytes.get(..l3)?)?;
    let ip = bytes.get(l3..)?;
    let (v6, proto, l4) = match ip.first()? >> 4 {
        4 => {
            let h = ip.get(..20)?;
            // No options, not a fragment, the exact length (no Ethernet padding).
            let frag = u16::from_be_bytes([h[6], h[7]]) & 0x3fff;
            let tot = usize::from(u16::from_be_bytes([h[2], h[3]]));
            let valid = csum::fold(csum::sum(h, 0)) == 0xffff;
            if h[0] != 0x45 || frag != 0 || tot != ip.len() || !valid {
                return None;
            }
            put(&[h[1], h[6] & 0x40, h[8], h[9]])?;
            put(&h[12..20])?;
            (false, h[9], l3 + 20)
        }
        6 => {
            let h = ip.get(..40)?;
            let plen = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if plen + 40 != ip.len() {
                return None;
            }
            put(&h[..4])?;
            put(&h[6..40])?;
            (true, h[6], l3 + 40)
        }
        _ => return None,
    };
    let addrs = Addrs::read(bytes, l3, v6)?;
    let t = bytes.get(l4..)?;
    let (payload, seq, psh) = match proto {
        IPPROTO_TCP => {
            let doff = usize::from(*t.get(12)? >> 4) * 4;
            let flags = *t.get(13)?;
            if doff < 20 || t.len() < doff || (flags != TCP_ACK && flags != TCP_ACK | TCP_PSH) {
                return None;
            }
            put(&t[..4])?;
            put(&t[8..13])?;
            put(&t[14..16])?;
            put(&t[18..doff])?;
            let seq = u32::from_be_bytes([t[4], t[5], t[6], t[7]]);
            (l4 + doff, seq, flags & TCP_PSH != 0)
        }
        IPPROTO_UDP if udp => {
            let h = t.get(..8)?;
            let zero_checksum = h[6] == 0 && h[7] == 0;
            if usize::from(u16::from_be_bytes([h[4], h[5]])) != t.len() || zero_checksum {
                return None;
            }
            put(&h[..4])?;
            (l4 + 8, 0, false)
        }
        _ => return None,
    };
    let payload_len = bytes.len() - payload;
    if payload_len == 0 || csum::fold(csum::sum(t, addrs.pseudo(proto, t.len()))) != 0xffff {
        return None;
    }
    Some(Candidate {
        meta: Meta {
            v6,
            proto,
            l3: l3 as u16,
            l4: l4 as u16,
            payload: payload as u16,
            seg: payload_len as u16,
            ..Meta::default()
        },
        payload_len,
        seq,
        psh,
        key,
        key_len,
    })
}

#[cfg(test)]
mod tests;
