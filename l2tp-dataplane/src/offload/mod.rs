//! Offloads of the userspace data path: the work the kernel would otherwise do per packet,
//! done once per super-frame.
//!
//! - [`vnet`]: the virtio-net header of a TAP or TUN device opened with `IFF_VNET_HDR`.
//! - [`segment`]: splitting a super-frame read from the device (TCP or UDP, IPv4 or IPv6) into
//!   packets of at most the segment size, with their IP lengths, IPv4 ids, TCP sequence numbers
//!   and flags, and checksums completed ([`Segmenter`]); and completing the partial checksum of
//!   a single packet ([`complete_checksum`]).
//! - [`coalesce`]: the reverse on receipt: consecutive segments of one TCP flow (or, when the
//!   device takes UDP super-frames, datagrams of one UDP flow) are joined into one super-frame
//!   to write with a virtio-net header ([`Coalescer`]).
//!
//! Everything works on IP packets behind an L2 header whose length the caller gives: 14 or 18
//! (and 22) octets for Ethernet frames from a TAP ([`ethernet_l3`]), 0 for IP packets from a
//! TUN. No I/O and no `unsafe`: unit-tested without privileges.

pub mod coalesce;
pub(crate) mod csum;
pub mod segment;
pub mod vnet;

use std::net::{Ipv4Addr, Ipv6Addr};

pub use coalesce::{Coalescer, FrameRef, Write};
pub use segment::{Segmenter, complete_checksum};
pub use vnet::{GsoType, VNET_HDR_LEN, VnetHdr};

/// IP protocol number of TCP.
pub(crate) const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub(crate) const IPPROTO_UDP: u8 = 17;

/// The addresses of an IP header, for the pseudo-header.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Addrs {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

impl Addrs {
    /// Reads the addresses of the IP header at `l3`.
    pub(crate) fn read(packet: &[u8], l3: usize, v6: bool) -> Option<Self> {
        if v6 {
            let a: [u8; 16] = packet.get(l3 + 8..l3 + 24)?.try_into().ok()?;
            let b: [u8; 16] = packet.get(l3 + 24..l3 + 40)?.try_into().ok()?;
            Some(Self::V6(a.into(), b.into()))
        } else {
            let a: [u8; 4] = packet.get(l3 + 12..l3 + 16)?.try_into().ok()?;
            let b: [u8; 4] = packet.get(l3 + 16..l3 + 20)?.try_into().ok()?;
            Some(Self::V4(a.into(), b.into()))
        }
    }

    pub(crate) fn pseudo(self, proto: u8, len: usize) -> u64 {
        match self {
            Self::V4(s, d) => csum::pseudo_v4(s, d, proto, len),
            Self::V6(s, d) => csum::pseudo_v6(s, d, proto, len),
        }
    }
}

/// Why a packet could not be segmented or checksummed.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OffloadError {
    /// Shorter than its headers say.
    #[error("packet truncated")]
    Truncated,
    /// A super-frame type this data path does not segment.
    #[error("unsupported GSO type {0}")]
    UnsupportedGso(u8),
    /// Headers that do not fit the super-frame type (IP version, protocol, offsets).
    #[error("headers do not match the offload request")]
    Malformed,
}

/// Where the IP header of an Ethernet frame starts, past up to two VLAN tags (802.1Q, 802.1ad),
/// and its EtherType; `None` for a runt.
pub fn ethernet_l3(frame: &[u8]) -> Option<(usize, u16)> {
    let mut at = 12;
    loop {
        let ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
        match ethertype {
            0x8100 | 0x88a8 if at < 20 => at += 4,
            _ => return Some((at + 2, ethertype)),
        }
    }
}

#[cfg(test)]
pub(crate) mod testpkt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ip_header_is_found_behind_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(ethernet_l3(&f), Some((14, 0x0800)));
        let mut tagged = vec![0u8; 12];
        tagged.extend_from_slice(&[0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd]);
        assert_eq!(ethernet_l3(&tagged), Some((22, 0x86dd)));
        assert_eq!(ethernet_l3(&tagged[..15]), None);
    }
}
