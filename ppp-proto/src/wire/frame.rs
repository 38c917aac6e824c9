//! The PPP frame header as L2TP carries it, for the link and for a data path.
//!
//! A frame is `[FF 03] Protocol Information`. The Address (`FF`) and Control (`03`) fields
//! (RFC 1662 §3.1) may be left out once Address-and-Control-Field-Compression is negotiated
//! (RFC 1661 §6.6), and the two-octet Protocol field (RFC 1661 §2) may shrink to one octet once
//! Protocol-Field-Compression is (RFC 1661 §6.5). A receiver tells the forms apart without
//! knowing what was negotiated: a Protocol field never starts with `FF`, and the least
//! significant bit of its last octet is 1, that of any other octet 0. [`classify`] accepts every
//! form (RFC 1661 §6.5: "MUST accept ... either double-octet or single-octet Protocol fields");
//! [`Framing`] writes the header of outgoing data frames.
//!
//! Nothing here allocates.

use super::protocol;

/// What a received frame carries, as a data path needs to know it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum FrameKind {
    /// An IPv4 datagram starting at this offset of the frame.
    Ipv4 {
        /// Where the datagram starts.
        offset: usize,
    },
    /// An IPv6 datagram starting at this offset of the frame.
    Ipv6 {
        /// Where the datagram starts.
        offset: usize,
    },
    /// Anything else (LCP, authentication, NCPs, and protocols this crate does not carry):
    /// hand the whole frame to the link's `handle_frame`, which answers or rejects it.
    Link {
        /// The Protocol field.
        protocol: u16,
    },
    /// Too short, or the Address/Control or Protocol field is invalid: drop it (RFC 1662
    /// §3.1, RFC 1661 §2).
    Invalid,
}

/// Classifies a frame received over L2TP (with or without `FF 03`, one- or two-octet Protocol
/// field). IPv4 and IPv6 datagrams go to the data path, which should forward them only while
/// the matching network layer is up (RFC 1661 §3.5: packets of a network protocol whose NCP is
/// not Opened are discarded); everything else goes to the link.
pub fn classify(frame: &[u8]) -> FrameKind {
    match split_protocol(frame) {
        Some((protocol::IPV4, info)) => FrameKind::Ipv4 {
            offset: frame.len() - info.len(),
        },
        Some((protocol::IPV6, info)) => FrameKind::Ipv6 {
            offset: frame.len() - info.len(),
        },
        Some((protocol, _)) => FrameKind::Link { protocol },
        None => FrameKind::Invalid,
    }
}

/// Splits a frame into its Protocol field and its information, skipping `FF 03` if present.
/// `None` if the frame is too short or its header invalid.
pub fn split_protocol(frame: &[u8]) -> Option<(u16, &[u8])> {
    let rest = match frame {
        [0xff, 0x03, rest @ ..] => rest,
        // An Address field of FF needs Control 03 (RFC 1662 §3.1).
        [0xff, ..] => return None,
        rest => rest,
    };
    match rest {
        // 0x00ff is reserved ("compression inefficient", RFC 1661 §2), and in one octet it
        // would read as an Address field.
        [0xff, ..] => None,
        // One octet: a compressed Protocol field (RFC 1661 §6.5).
        [first, info @ ..] if first & 1 == 1 => Some((u16::from(*first), info)),
        [high, low, info @ ..] if low & 1 == 1 => Some((u16::from_be_bytes([*high, *low]), info)),
        _ => None,
    }
}

/// How this end writes data frames: whether it leaves out `FF 03` and shortens the Protocol
/// field. Either may be used only if the peer asked for it (RFC 1661 §6.5, §6.6); the link
/// reports that in its link-up event. Control protocols always go out uncompressed.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Framing {
    /// Leave out the Address and Control fields (ACFC).
    pub acfc: bool,
    /// Send protocols below 0x100 in one octet (PFC).
    pub pfc: bool,
}

impl Framing {
    /// Address, Control and a two-octet Protocol field: always valid.
    pub const FULL: Self = Self {
        acfc: false,
        pfc: false,
    };

    /// Octets of the header of a frame of `protocol`: 1 to 4.
    pub fn header_len(self, protocol: u16) -> usize {
        let address = if self.acfc { 0 } else { 2 };
        let proto = if self.pfc && protocol < 0xff { 1 } else { 2 };
        address + proto
    }

    /// Writes the header of a frame of `protocol` (e.g. [`protocol::IPV4`]) at the start of
    /// `buf` and returns its length, or `None` if `buf` is shorter than
    /// [`Framing::header_len`]. The information follows at that offset.
    pub fn write_header(self, protocol: u16, buf: &mut [u8]) -> Option<usize> {
        let len = self.header_len(protocol);
        let header = buf.get_mut(..len)?;
        let proto = protocol.to_be_bytes();
        match (self.acfc, len) {
            (false, 4) => header.copy_from_slice(&[0xff, 0x03, proto[0], proto[1]]),
            (false, _) => header.copy_from_slice(&[0xff, 0x03, proto[1]]),
            (true, 2) => header.copy_from_slice(&proto),
            (true, _) => header.copy_from_slice(&proto[1..]),
        }
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_form_is_classified() {
        let v4 = [0x45, 0, 0, 20];
        for (frame, offset) in [
            (&[0xff, 0x03, 0x00, 0x21][..], 4),
            (&[0xff, 0x03, 0x21][..], 3),
            (&[0x00, 0x21][..], 2),
            (&[0x21][..], 1),
        ] {
            let mut f = frame.to_vec();
            f.extend_from_slice(&v4);
            assert_eq!(classify(&f), FrameKind::Ipv4 { offset }, "{frame:02x?}");
        }
        assert_eq!(
            classify(&[0xff, 0x03, 0x00, 0x57, 0x60]),
            FrameKind::Ipv6 { offset: 4 }
        );
        assert_eq!(classify(&[0x57, 0x60]), FrameKind::Ipv6 { offset: 1 });
        assert_eq!(
            classify(&[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]),
            FrameKind::Link {
                protocol: protocol::LCP
            }
        );
        assert_eq!(
            classify(&[0x80, 0xfd, 1]),
            FrameKind::Link {
                protocol: protocol::CCP
            }
        );
    }

    #[test]
    fn invalid_headers_are_invalid() {
        for frame in [
            &[][..],
            &[0xff][..],
            &[0xff, 0x03][..],
            &[0xff, 0x05, 0x00, 0x21][..],
            &[0x00][..],
            &[0x00, 0x20][..],
            &[0xc0][..],
            &[0xff, 0x03, 0x00, 0x00, 0x21][..],
            &[0xff, 0x03, 0xff, 0x45][..],
        ] {
            assert_eq!(classify(frame), FrameKind::Invalid, "{frame:02x?}");
        }
    }

    #[test]
    fn written_headers_classify_back() {
        for acfc in [false, true] {
            for pfc in [false, true] {
                let framing = Framing { acfc, pfc };
                for (proto, v6) in [(protocol::IPV4, false), (protocol::IPV6, true)] {
                    let mut buf = [0u8; 8];
                    let n = framing.write_header(proto, &mut buf).unwrap_or(0);
                    assert_eq!(n, framing.header_len(proto));
                    let want = if v6 {
                        FrameKind::Ipv6 { offset: n }
                    } else {
                        FrameKind::Ipv4 { offset: n }
                    };
                    assert_eq!(classify(&buf[..n + 1]), want, "{framing:?}");
                }
                let mut lcp = [0u8; 4];
                let n = framing.write_header(protocol::LCP, &mut lcp).unwrap_or(0);
                assert_eq!(split_protocol(&lcp[..n]), Some((protocol::LCP, &[][..])));
            }
        }
        assert_eq!(
            Framing::FULL.write_header(protocol::IPV4, &mut [0; 3]),
            None
        );
    }
}
