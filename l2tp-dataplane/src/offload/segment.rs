//! Segmentation of super-frames read from a TAP or TUN device (what the kernel's GSO would do
//! on a device without TSO): each segment gets a copy of the L2, IP and transport headers, with
//!
//! - IPv4: its own total length, an id one more than the segment before, and a header checksum
//!   (RFC 791); IPv6: its own payload length (RFC 8200);
//! - TCP: its own sequence number; FIN and PSH only on the last segment, CWR only on the first
//!   (RFC 9293 §3.1, RFC 3168 §6.1.2, as Linux's `tcp_gso_segment`);
//! - UDP: its own length (RFC 768);
//! - its transport checksum computed in full.
//!
//! A packet that is not a super-frame but carries a partial checksum (`NEEDS_CSUM`) gets it
//! completed in place ([`complete_checksum`]).

use super::vnet::{GsoType, VnetHdr};
use std::ops::Range;

use super::{Addrs, csum};
use super::{IPPROTO_TCP, IPPROTO_UDP, OffloadError};

/// TCP flags cleared on every segment but the last (FIN, PSH) and on every one but the first
/// (CWR).
const TCP_FIN_PSH: u8 = 0x09;
const TCP_CWR: u8 = 0x80;

/// Splits one super-frame into segments, written one at a time into buffers of the caller's
/// (so that each lands where its encapsulation wants it).
#[derive(Debug)]
pub struct Segmenter<'a> {
    packet: &'a [u8],
    /// Offsets of the IP header, the transport header and the payload.
    l3: usize,
    l4: usize,
    payload: usize,
    /// End of the IP packet (Ethernet padding, if any, is left out).
    end: usize,
    v6: bool,
    proto: u8,
    addrs: Addrs,
    /// Payload octets per segment.
    mss: usize,
    /// Payload offset of the next segment.
    next: usize,
    index: u16,
}

impl<'a> Segmenter<'a> {
    /// Prepares to segment `packet`, whose IP header starts at `l3` (the L2 header before it
    /// is copied into every segment), as described by its virtio-net header `hdr`.
    pub fn new(packet: &'a [u8], l3: usize, hdr: &VnetHdr) -> Result<Self, OffloadError> {
        let version = packet.get(l3).ok_or(OffloadError::Truncated)? >> 4;
        let (v6, proto) = match (hdr.gso_type, version) {
            (GsoType::TcpV4, 4) => (false, IPPROTO_TCP),
            (GsoType::TcpV6, 6) => (true, IPPROTO_TCP),
            (GsoType::UdpL4, 4) => (false, IPPROTO_UDP),
            (GsoType::UdpL4, 6) => (true, IPPROTO_UDP),
            _ => return Err(OffloadError::Malformed),
        };
        let end = ip_end(packet, l3, v6)?;
        // The transport header: where the device's checksum starts, else right after a
        // fixed-size IP header.
        let l4 = if hdr.needs_csum {
            usize::from(hdr.csum_start)
        } else if v6 {
            l3 + 40
        } else {
            l3 + usize::from(packet[l3] & 0x0f) * 4
        };
        let l4_len = if proto == IPPROTO_TCP {
            usize::from(packet.get(l4 + 12).ok_or(OffloadError::Truncated)? >> 4) * 4
        } else {
            8
        };
        // RFC 791: an IPv4 header is IHL 32-bit words, at least five, and the transport
        // header (wherever the device says its checksum starts) cannot begin inside it: each
        // segment's header checksum covers those IHL words.
        let min_l4 = if v6 {
            l3 + 40
        } else {
            let ihl = usize::from(packet[l3] & 0x0f) * 4;
            if ihl < 20 {
                return Err(OffloadError::Malformed);
            }
            l3 + ihl
        };
        let min_l4_len = if proto == IPPROTO_TCP { 20 } else { 8 };
        if l4 < min_l4 || l4_len < min_l4_len || l4 + l4_len > end {
            return Err(OffloadError::Malformed);
        }
        // A fragment (MF or an offset) cannot be a super-frame, nor can one without payload.
        let fragment = !v6 && u16::from_be_bytes([packet[l3 + 6], packet[l3 + 7]]) & 0x3fff != 0;
        if fragment || l4 + l4_len == end {
            return Err(OffloadError::Malformed);
        }
        let addrs = Addrs::read(packet, l3, v6).ok_or(OffloadError::Truncated)?;
        let mss = usize::from(hdr.gso_size);
        if mss == 0 {
            return Err(OffloadError::Malformed);
        }
        Ok(Self {
            packet,
            l3,
            l4,
            payload: l4 + l4_len,
            end,
            v6,
            proto,
            addrs,
            mss,
            next: l4 + l4_len,
            index: 0,
        })
    }

    /// How many segments are left.
    pub fn remaining(&self) -> usize {
        (self.end - self.next).div_ceil(self.mss)
    }

    /// The length of the longest segment (headers included).
    pub fn max_segment_len(&self) -> usize {
        self.payload + self.mss.min(self.end - self.payload)
    }

    /// The length of a segment's headers (L2, IP and transport).
    pub fn headers_len(&self) -> usize {
        self.payload
    }

    /// Writes the next segment at the start of `out` and returns its length; `None` when every
    /// segment has been written. `out` must hold [`Segmenter::max_segment_len`] octets.
    pub fn next_into(&mut self, out: &mut [u8]) -> Option<usize> {
        let hdrs = self.payload;
        let (_, payload) = self.next_headers(out)?;
        let len = hdrs + payload.len();
        out.get_mut(hdrs..len)?
            .copy_from_slice(&self.packet[payload]);
        Some(len)
    }

    /// Writes the headers of the next segment at the start of `out`, its payload staying where
    /// it is in the super-frame (to be sent from there, gathered), and returns their length and
    /// the payload's range in the super-frame; `None` when every segment has been done. `out`
    /// must hold [`Segmenter::headers_len`] octets.
    pub fn next_headers(&mut self, out: &mut [u8]) -> Option<(usize, Range<usize>)> {
        if self.next >= self.end {
            return None;
        }
        let chunk = self.mss.min(self.end - self.next);
        let first = self.index == 0;
        let last = self.next + chunk >= self.end;
        let hdrs = self.payload;
        let len = hdrs + chunk;
        let out = out.get_mut(..hdrs)?;
        out.copy_from_slice(&self.packet[..hdrs]);
        let (l3, l4) = (self.l3, self.l4);
        if self.v6 {
            let plen = (len - l3 - 40) as u16;
            out[l3 + 4..l3 + 6].copy_from_slice(&plen.to_be_bytes());
        } else {
            out[l3 + 2..l3 + 4].copy_from_slice(&((len - l3) as u16).to_be_bytes());
            let id = u16::from_be_bytes([out[l3 + 4], out[l3 + 5]]).wrapping_add(self.index);
            out[l3 + 4..l3 + 6].copy_from_slice(&id.to_be_bytes());
            let ihl = usize::from(out[l3] & 0x0f) * 4;
            let c = csum::ipv4_header(&out[l3..l3 + ihl]);
            out[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let check_at = if self.proto == IPPROTO_TCP {
            let offset = (self.next - self.payload) as u32;
            let seq = u32::from_be_bytes([out[l4 + 4], out[l4 + 5], out[l4 + 6], out[l4 + 7]]);
            out[l4 + 4..l4 + 8].copy_from_slice(&seq.wrapping_add(offset).to_be_bytes());
            if !last {
                out[l4 + 13] &= !TCP_FIN_PSH;
            }
            if !first {
                out[l4 + 13] &= !TCP_CWR;
            }
            l4 + 16
        } else {
            out[l4 + 4..l4 + 6].copy_from_slice(&((len - l4) as u16).to_be_bytes());
            l4 + 6
        };
        out[check_at..check_at + 2].fill(0);
        let payload = self.next..self.next + chunk;
        // The transport header has an even length, so the two sums add up.
        let acc = csum::sum(&out[l4..], self.addrs.pseudo(self.proto, len - l4));
        let acc = csum::sum(&self.packet[payload.clone()], acc);
        out[check_at..check_at + 2].copy_from_slice(&csum::finish_nonzero(acc).to_be_bytes());
        self.next += chunk;
        self.index = self.index.wrapping_add(1);
        Some((hdrs, payload))
    }
}

/// Where the IP packet at `l3` ends, by its own length field.
fn ip_end(packet: &[u8], l3: usize, v6: bool) -> Result<usize, OffloadError> {
    let end = if v6 {
        let plen = packet.get(l3 + 4..l3 + 6).ok_or(OffloadError::Truncated)?;
        l3 + 40 + usize::from(u16::from_be_bytes([plen[0], plen[1]]))
    } else {
        let tot = packet.get(l3 + 2..l3 + 4).ok_or(OffloadError::Truncated)?;
        l3 + usize::from(u16::from_be_bytes([tot[0], tot[1]]))
    };
    // A super-frame's IPv4 total length may be 0 when it is over 64 KiB (BIG TCP); such
    // frames are not asked for, so a length past the end is an error.
    if end > packet.len() || end <= l3 {
        return Err(OffloadError::Truncated);
    }
    Ok(end)
}

/// Completes a partial transport checksum in place: the field at `csum_start + csum_offset`
/// holds the pseudo-header sum, and the checksum covers everything from `csum_start` to the
/// end of the IP packet at `l3` (Ethernet padding excluded).
pub fn complete_checksum(
    packet: &mut [u8],
    l3: usize,
    csum_start: u16,
    csum_offset: u16,
) -> Result<(), OffloadError> {
    let start = usize::from(csum_start);
    let at = start + usize::from(csum_offset);
    let v6 = match packet.get(l3).map(|b| b >> 4) {
        Some(4) => false,
        Some(6) => true,
        _ => return Err(OffloadError::Malformed),
    };
    let end = ip_end(packet, l3, v6)?;
    if start < l3 || at + 2 > end {
        return Err(OffloadError::Malformed);
    }
    let c = csum::finish_nonzero(csum::sum(&packet[start..end], 0));
    packet[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testpkt::{self, Proto};
    use super::*;

    /// Segments `frame` and checks each segment with etherparse; returns (seq or 0, payload,
    /// TCP flags) per segment.
    fn split(frame: &[u8], l3: usize, hdr: &VnetHdr) -> Vec<testpkt::Seen> {
        let mut s = Segmenter::new(frame, l3, hdr).unwrap_or_else(|e| panic!("{e}"));
        let n = s.remaining();
        let mut out = vec![0u8; s.max_segment_len()];
        let mut seen = Vec::new();
        while let Some(len) = s.next_into(&mut out) {
            seen.push(testpkt::check(&out[..len], l3));
        }
        assert_eq!(seen.len(), n);
        seen
    }

    #[test]
    fn a_tcp_v4_super_frame_becomes_numbered_checksummed_segments() {
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        for l2 in [true, false] {
            let (frame, hdr) = testpkt::super_frame(Proto::TcpV4, l2, 1000, 0x18 | 0x80, &payload);
            let l3 = if l2 { 14 } else { 0 };
            let segs = split(&frame, l3, &hdr);
            assert_eq!(segs.len(), 3);
            for (i, s) in segs.iter().enumerate() {
                assert_eq!(s.seq, testpkt::SEQ.wrapping_add(1000 * i as u32));
                assert_eq!(s.payload, payload[1000 * i..1000 * (i + 1)]);
                assert_eq!(s.ip_id, Some(testpkt::IP_ID + i as u16));
                // PSH only on the last, CWR only on the first; ACK on all.
                assert_eq!(s.flags & 0x10, 0x10);
                assert_eq!(s.flags & 0x08 != 0, i == 2, "PSH on {i}");
                assert_eq!(s.flags & 0x80 != 0, i == 0, "CWR on {i}");
            }
        }
    }

    /// An IPv4 header whose IHL reaches past where the device says the transport header (and
    /// its checksum) starts, or that is under five words, is refused, not segmented (the
    /// header checksum of each segment would read past its headers).
    #[test]
    fn an_ipv4_header_length_that_disagrees_with_the_transport_header_is_refused() {
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let (frame, hdr) = testpkt::super_frame(Proto::TcpV4, false, 1000, 0x10, &payload);
        assert!(hdr.needs_csum, "the test needs a checksum start");
        for ihl in [15u8, 6, 4, 0] {
            let mut bad = frame.clone();
            bad[0] = 0x40 | ihl;
            let r = Segmenter::new(&bad, 0, &hdr);
            assert!(
                matches!(r, Err(OffloadError::Malformed)),
                "IHL {ihl}: {r:?}"
            );
        }
    }

    #[test]
    fn a_tcp_v6_super_frame_with_a_short_last_segment() {
        let payload: Vec<u8> = (0..2500u32).map(|i| (i * 7) as u8).collect();
        let (frame, hdr) = testpkt::super_frame(Proto::TcpV6, true, 1200, 0x10, &payload);
        let segs = split(&frame, 14, &hdr);
        let lens: Vec<usize> = segs.iter().map(|s| s.payload.len()).collect();
        assert_eq!(lens, [1200, 1200, 100]);
        let joined: Vec<u8> = segs.iter().flat_map(|s| s.payload.clone()).collect();
        assert_eq!(joined, payload);
    }

    #[test]
    fn udp_super_frames_of_both_families() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 3) as u8).collect();
        for proto in [Proto::UdpV4, Proto::UdpV6] {
            let (frame, hdr) = testpkt::super_frame(proto, false, 300, 0, &payload);
            let segs = split(&frame, 0, &hdr);
            let lens: Vec<usize> = segs.iter().map(|s| s.payload.len()).collect();
            assert_eq!(lens, [300, 300, 300, 100], "{proto:?}");
        }
    }

    #[test]
    fn headers_with_the_payload_in_place_make_the_same_segments() {
        for proto in [Proto::TcpV4, Proto::TcpV6, Proto::UdpV4, Proto::UdpV6] {
            let payload: Vec<u8> = (0..2999u32).map(|i| (i * 13) as u8).collect();
            let (frame, hdr) = testpkt::super_frame(proto, true, 1000, 0x18, &payload);
            let mut whole = Segmenter::new(&frame, 14, &hdr).unwrap_or_else(|e| panic!("{e}"));
            let mut gathered = Segmenter::new(&frame, 14, &hdr).unwrap_or_else(|e| panic!("{e}"));
            let mut a = vec![0u8; whole.max_segment_len()];
            let mut b = vec![0u8; gathered.headers_len()];
            while let Some(len) = whole.next_into(&mut a) {
                let (h, p) = gathered
                    .next_headers(&mut b)
                    .unwrap_or_else(|| panic!("ended early"));
                let mut joined = b[..h].to_vec();
                joined.extend_from_slice(&frame[p]);
                assert_eq!(joined, a[..len], "{proto:?}");
            }
            assert!(gathered.next_headers(&mut b).is_none());
        }
    }

    #[test]
    fn a_partial_checksum_is_completed() {
        for proto in [Proto::TcpV4, Proto::TcpV6, Proto::UdpV4, Proto::UdpV6] {
            let (mut frame, hdr) = testpkt::super_frame(proto, true, 2000, 0x18, &[5; 100]);
            complete_checksum(&mut frame, 14, hdr.csum_start, hdr.csum_offset)
                .unwrap_or_else(|e| panic!("{e}"));
            let s = testpkt::check(&frame, 14);
            assert_eq!(s.payload, [5; 100]);
        }
    }

    #[test]
    fn wrong_requests_are_refused_not_panicked_on() {
        let (frame, mut hdr) = testpkt::super_frame(Proto::TcpV4, true, 100, 0x10, &[1; 300]);
        hdr.gso_type = GsoType::TcpV6;
        assert_eq!(
            Segmenter::new(&frame, 14, &hdr).err(),
            Some(OffloadError::Malformed)
        );
        hdr.gso_type = GsoType::TcpV4;
        assert!(Segmenter::new(&frame[..40], 14, &hdr).is_err());
        hdr.gso_size = 0;
        assert!(Segmenter::new(&frame, 14, &hdr).is_err());
        hdr.gso_size = 100;
        hdr.csum_start = 60_000;
        assert!(Segmenter::new(&frame, 14, &hdr).is_err());
        // A TCP header shorter than its fixed 20 octets (found by fuzzing).
        hdr.csum_start = 34;
        let mut short = frame.clone();
        short[34 + 12] = 0x20;
        assert!(Segmenter::new(&short, 14, &hdr).is_err());
        for cut in 0..frame.len() {
            let _ = Segmenter::new(&frame[..cut], 14, &hdr);
            let mut f = frame[..cut].to_vec();
            let _ = complete_checksum(&mut f, 14, 34, 16);
        }
    }
}
