//! The virtio-net header (`struct virtio_net_hdr`, virtio 1.x §5.1.6) that a TAP or TUN device
//! opened with `IFF_VNET_HDR` puts in front of every packet read from it and expects in front of
//! every packet written to it. It says whether the packet is a super-frame for segmentation
//! (GSO: TCP over IPv4 or IPv6, or UDP) and with what segment size, and whether its transport
//! checksum is left partial (`NEEDS_CSUM`: the checksum field holds the pseudo-header sum and
//! the rest is to be summed from `csum_start`).
//!
//! The data plane sets the device's header to little-endian (`TUNSETVNETLE`) and to the
//! 10-octet legacy size, so the layout here is fixed.

use super::OffloadError;

/// Octets of the header.
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `csum_start + csum_offset` is partial.
const F_NEEDS_CSUM: u8 = 1;

/// `VIRTIO_NET_HDR_GSO_ECN`: the super-frame has CWR set (only on its first segment).
const GSO_ECN: u8 = 0x80;

/// What kind of super-frame a packet is.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum GsoType {
    /// Not a super-frame (`VIRTIO_NET_HDR_GSO_NONE`).
    #[default]
    None,
    /// TCP over IPv4 (`VIRTIO_NET_HDR_GSO_TCPV4`).
    TcpV4,
    /// TCP over IPv6 (`VIRTIO_NET_HDR_GSO_TCPV6`).
    TcpV6,
    /// UDP, split into datagrams of `gso_size` (`VIRTIO_NET_HDR_GSO_UDP_L4`, Linux 6.2).
    UdpL4,
}

impl GsoType {
    fn number(self) -> u8 {
        match self {
            Self::None => 0,
            Self::TcpV4 => 1,
            Self::TcpV6 => 4,
            Self::UdpL4 => 5,
        }
    }
}

/// A parsed virtio-net header.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct VnetHdr {
    /// The super-frame type.
    pub gso_type: GsoType,
    /// With a TCP super-frame: CWR was set on it (segmentation keeps it on the first segment).
    pub ecn: bool,
    /// The transport checksum is partial: see [`VnetHdr::csum_start`].
    pub needs_csum: bool,
    /// Length of the headers (informational; the kernel writes the linear length here).
    pub hdr_len: u16,
    /// Payload octets per segment of a super-frame.
    pub gso_size: u16,
    /// Where the transport header (and the checksummed part) starts, from the frame's start.
    pub csum_start: u16,
    /// Where the checksum field is, from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Parses a header (little-endian, as the data plane configures its devices).
    pub fn parse(b: &[u8]) -> Result<Self, OffloadError> {
        let b: &[u8; VNET_HDR_LEN] = b
            .get(..VNET_HDR_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(OffloadError::Truncated)?;
        let le = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let gso_type = match b[1] & !GSO_ECN {
            0 => GsoType::None,
            1 => GsoType::TcpV4,
            4 => GsoType::TcpV6,
            5 => GsoType::UdpL4,
            other => return Err(OffloadError::UnsupportedGso(other)),
        };
        Ok(Self {
            gso_type,
            ecn: b[1] & GSO_ECN != 0,
            needs_csum: b[0] & F_NEEDS_CSUM != 0,
            hdr_len: le(2),
            gso_size: le(4),
            csum_start: le(6),
            csum_offset: le(8),
        })
    }

    /// Writes the header into `out`.
    pub fn emit(&self, out: &mut [u8; VNET_HDR_LEN]) {
        out[0] = if self.needs_csum { F_NEEDS_CSUM } else { 0 };
        out[1] = self.gso_type.number() | if self.ecn { GSO_ECN } else { 0 };
        out[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        out[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        out[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        out[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
    }

    /// The header as bytes.
    pub fn to_bytes(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0; VNET_HDR_LEN];
        self.emit(&mut b);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tcp_super_frame_header_round_trips() {
        // As the kernel hands a TSO frame of IPv4/TCP behind an Ethernet header: NEEDS_CSUM,
        // GSO_TCPV4 with ECN, linear length 66, MSS 1394, checksum at 34 + 16.
        let raw = [0x01, 0x81, 66, 0, 0x72, 0x05, 34, 0, 16, 0];
        let h = VnetHdr::parse(&raw).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.gso_type, GsoType::TcpV4);
        assert!(h.ecn && h.needs_csum);
        assert_eq!((h.hdr_len, h.gso_size), (66, 1394));
        assert_eq!((h.csum_start, h.csum_offset), (34, 16));
        assert_eq!(h.to_bytes(), raw);
    }

    #[test]
    fn unknown_types_and_short_headers_are_refused() {
        assert_eq!(
            VnetHdr::parse(&[0, 3, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(OffloadError::UnsupportedGso(3))
        );
        assert_eq!(VnetHdr::parse(&[0; 9]), Err(OffloadError::Truncated));
        assert_eq!(VnetHdr::parse(&[0; 10]), Ok(VnetHdr::default()));
        let uso = VnetHdr::parse(&[1, 5, 0, 0, 200, 0, 34, 0, 6, 0]);
        assert_eq!(
            uso.map(|h| (h.gso_type, h.gso_size)),
            Ok((GsoType::UdpL4, 200))
        );
    }
}
