//! Test packets: TCP and UDP over IPv4 and IPv6, with or without an Ethernet header, built
//! here and judged by etherparse (an independent parser and checksum).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use super::csum;
use super::vnet::{GsoType, VnetHdr};

/// The first TCP sequence number: close to the wrap, so that segmentation has to wrap it.
pub(crate) const SEQ: u32 = 0xffff_f000;
/// The IPv4 id of a super-frame.
pub(crate) const IP_ID: u16 = 7000;

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Proto {
    TcpV4,
    TcpV6,
    UdpV4,
    UdpV6,
}

impl Proto {
    fn v6(self) -> bool {
        matches!(self, Self::TcpV6 | Self::UdpV6)
    }
    fn tcp(self) -> bool {
        matches!(self, Self::TcpV4 | Self::TcpV6)
    }
}

/// What etherparse saw in a packet.
#[derive(Debug)]
pub(crate) struct Seen {
    pub(crate) seq: u32,
    pub(crate) flags: u8,
    pub(crate) ip_id: Option<u16>,
    pub(crate) payload: Vec<u8>,
}

/// A packet with every checksum right. `flags` are the TCP flags (ignored for UDP).
pub(crate) fn packet(proto: Proto, l2: bool, flags: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
    let (mut p, hdr) = raw(proto, l2, flags, seq, payload, 0);
    let l3 = if l2 { 14 } else { 0 };
    super::complete_checksum(&mut p, l3, hdr.csum_start, hdr.csum_offset).unwrap();
    p
}

/// A super-frame as a device hands it: the transport checksum partial (the pseudo-header sum
/// in the field), and its virtio-net header.
pub(crate) fn super_frame(
    proto: Proto,
    l2: bool,
    mss: u16,
    flags: u8,
    payload: &[u8],
) -> (Vec<u8>, VnetHdr) {
    raw(proto, l2, flags, SEQ, payload, mss)
}

fn raw(
    proto: Proto,
    l2: bool,
    flags: u8,
    seq: u32,
    payload: &[u8],
    mss: u16,
) -> (Vec<u8>, VnetHdr) {
    let mut p = Vec::new();
    if l2 {
        p.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
        p.extend_from_slice(if proto.v6() {
            &[0x86, 0xdd]
        } else {
            &[0x08, 0x00]
        });
    }
    let l3 = p.len();
    let l4_len = if proto.tcp() { 32 } else { 8 };
    let l4_total = l4_len + payload.len();
    let pnum = if proto.tcp() { 6 } else { 17 };
    let pseudo;
    if proto.v6() {
        p.extend_from_slice(&[0x60, 0x01, 0x23, 0x45]);
        p.extend_from_slice(&(l4_total as u16).to_be_bytes());
        p.extend_from_slice(&[pnum, 64]);
        let src: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut dst = src;
        dst[15] = 2;
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        pseudo = csum::pseudo_v6(src.into(), dst.into(), pnum, l4_total);
    } else {
        let tot = (20 + l4_total) as u16;
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&tot.to_be_bytes());
        p.extend_from_slice(&IP_ID.to_be_bytes());
        p.extend_from_slice(&[0x40, 0, 64, pnum, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2]);
        let c = csum::ipv4_header(&p[l3..]);
        p[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        pseudo = csum::pseudo_v4(
            [198, 51, 100, 1].into(),
            [198, 51, 100, 2].into(),
            pnum,
            l4_total,
        );
    }
    let l4 = p.len();
    p.extend_from_slice(&40000u16.to_be_bytes());
    p.extend_from_slice(&5201u16.to_be_bytes());
    if proto.tcp() {
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        // Data offset 8 (32 octets: a timestamp option), the flags, window 512.
        p.extend_from_slice(&[0x80, flags, 0x02, 0x00, 0, 0, 0, 0]);
        p.extend_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    } else {
        p.extend_from_slice(&(l4_total as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
    }
    p.extend_from_slice(payload);
    let csum_offset = if proto.tcp() { 16 } else { 6 };
    let partial = csum::fold(pseudo);
    p[l4 + csum_offset..l4 + csum_offset + 2].copy_from_slice(&partial.to_be_bytes());
    let gso_type = match (mss, proto) {
        (0, _) => GsoType::None,
        (_, Proto::TcpV4) => GsoType::TcpV4,
        (_, Proto::TcpV6) => GsoType::TcpV6,
        _ => GsoType::UdpL4,
    };
    let hdr = VnetHdr {
        gso_type,
        ecn: flags & 0x80 != 0,
        needs_csum: true,
        hdr_len: (l4 + l4_len) as u16,
        gso_size: mss,
        csum_start: l4 as u16,
        csum_offset: csum_offset as u16,
    };
    (p, hdr)
}

/// Parses `frame` (an IP packet at `l3`) with etherparse and asserts that its lengths and
/// checksums are right.
pub(crate) fn check(frame: &[u8], l3: usize) -> Seen {
    let sliced = if l3 == 0 {
        SlicedPacket::from_ip(frame)
    } else {
        SlicedPacket::from_ethernet(frame)
    }
    .unwrap_or_else(|e| panic!("etherparse: {e:?}"));
    let (src, dst, ip_id): (Vec<u8>, Vec<u8>, Option<u16>) = match sliced.net.as_ref().unwrap() {
        NetSlice::Ipv4(ip) => {
            let h = ip.header();
            assert_eq!(
                usize::from(h.total_len()),
                frame.len() - l3,
                "IPv4 total length"
            );
            assert_eq!(
                h.header_checksum(),
                h.to_header().calc_header_checksum(),
                "IPv4 header checksum"
            );
            (
                h.source().to_vec(),
                h.destination().to_vec(),
                Some(h.identification()),
            )
        }
        NetSlice::Ipv6(ip) => {
            let h = ip.header();
            assert_eq!(usize::from(h.payload_length()), frame.len() - l3 - 40);
            (h.source().to_vec(), h.destination().to_vec(), None)
        }
        other => panic!("not IP: {other:?}"),
    };
    match sliced.transport.as_ref().unwrap() {
        TransportSlice::Tcp(t) => {
            let want = match (src.len(), dst.len()) {
                (4, 4) => t.calc_checksum_ipv4(src.try_into().unwrap(), dst.try_into().unwrap()),
                _ => t.calc_checksum_ipv6(src.try_into().unwrap(), dst.try_into().unwrap()),
            }
            .unwrap();
            assert_eq!(t.checksum(), want, "TCP checksum");
            let flags = t.header_slice()[13];
            Seen {
                seq: t.sequence_number(),
                flags,
                ip_id,
                payload: t.payload().to_vec(),
            }
        }
        TransportSlice::Udp(u) => {
            assert_eq!(usize::from(u.length()), u.slice().len(), "UDP length");
            let h = u.to_header();
            let want = match (src.len(), dst.len()) {
                (4, 4) => h.calc_checksum_ipv4_raw(
                    src.try_into().unwrap(),
                    dst.try_into().unwrap(),
                    u.payload(),
                ),
                _ => h.calc_checksum_ipv6_raw(
                    src.try_into().unwrap(),
                    dst.try_into().unwrap(),
                    u.payload(),
                ),
            }
            .unwrap();
            assert_eq!(u.checksum(), want, "UDP checksum");
            Seen {
                seq: 0,
                flags: 0,
                ip_id,
                payload: u.payload().to_vec(),
            }
        }
        other => panic!("not TCP or UDP: {other:?}"),
    }
}
