//! The PPP wire format as L2TP carries it: the frame header, the classifier a data path uses,
//! and the packet format shared by LCP, the NCPs, PAP and CHAP.
//!
//! - [`frame`]: the Address and Control fields (RFC 1662 §3.1) and the Protocol field
//!   (RFC 1661 §2), compressed or not; [`classify`] and [`Framing::write_header`] for a data path.
//! - [`packet`]: the Code/Identifier/Length packet (RFC 1661 §5) and its Configuration Options
//!   (RFC 1661 §6), read without copying.
//!
//! Over L2TP a PPP frame has no flag sequence, no transparency octets and no FCS (RFC 2661
//! §5.3): what remains is the Address and Control fields (often kept, `FF 03`), the Protocol
//! field and the information.

pub mod frame;
pub mod packet;

pub use frame::{FrameKind, Framing, classify, split_protocol};
pub use packet::{ControlPacket, OptionIter, PacketError, PppOption};

/// PPP Protocol field values used by this crate (RFC 1661 §2 and the RFCs of each protocol).
pub mod protocol {
    /// Internet Protocol version 4 (RFC 1332 §2).
    pub const IPV4: u16 = 0x0021;
    /// Internet Protocol version 6 (RFC 5072 §2).
    pub const IPV6: u16 = 0x0057;
    /// Van Jacobson compressed TCP/IP (RFC 1332 §4); never negotiated here.
    pub const VJ_COMPRESSED: u16 = 0x002d;
    /// Van Jacobson uncompressed TCP/IP (RFC 1332 §4); never negotiated here.
    pub const VJ_UNCOMPRESSED: u16 = 0x002f;
    /// Internet Protocol Control Protocol (RFC 1332).
    pub const IPCP: u16 = 0x8021;
    /// IPv6 Control Protocol (RFC 5072).
    pub const IPV6CP: u16 = 0x8057;
    /// Compression Control Protocol (RFC 1962); rejected here.
    pub const CCP: u16 = 0x80fd;
    /// Link Control Protocol (RFC 1661).
    pub const LCP: u16 = 0xc021;
    /// Password Authentication Protocol (RFC 1334).
    pub const PAP: u16 = 0xc023;
    /// Link Quality Report (RFC 1989); rejected here.
    pub const LQR: u16 = 0xc025;
    /// Challenge Handshake Authentication Protocol (RFC 1994), also MS-CHAPv2 (RFC 2759).
    pub const CHAP: u16 = 0xc223;
    /// Extensible Authentication Protocol (RFC 3748); refused here.
    pub const EAP: u16 = 0xc227;

    /// A short name for logs: `lcp`, `ipcp`, `chap`, ..., or `0x80fd` for one without a name.
    pub fn name(protocol: u16) -> &'static str {
        match protocol {
            IPV4 => "ipv4",
            IPV6 => "ipv6",
            VJ_COMPRESSED | VJ_UNCOMPRESSED => "vj",
            IPCP => "ipcp",
            IPV6CP => "ipv6cp",
            CCP => "ccp",
            LCP => "lcp",
            PAP => "pap",
            LQR => "lqr",
            CHAP => "chap",
            EAP => "eap",
            _ => "other",
        }
    }
}

/// Packet codes (RFC 1661 §5; RFC 1570 for 12 and 13).
pub mod code {
    /// Configure-Request (RFC 1661 §5.1).
    pub const CONFIGURE_REQUEST: u8 = 1;
    /// Configure-Ack (RFC 1661 §5.2).
    pub const CONFIGURE_ACK: u8 = 2;
    /// Configure-Nak (RFC 1661 §5.3).
    pub const CONFIGURE_NAK: u8 = 3;
    /// Configure-Reject (RFC 1661 §5.4).
    pub const CONFIGURE_REJECT: u8 = 4;
    /// Terminate-Request (RFC 1661 §5.5).
    pub const TERMINATE_REQUEST: u8 = 5;
    /// Terminate-Ack (RFC 1661 §5.5).
    pub const TERMINATE_ACK: u8 = 6;
    /// Code-Reject (RFC 1661 §5.6).
    pub const CODE_REJECT: u8 = 7;
    /// Protocol-Reject (RFC 1661 §5.7), LCP only.
    pub const PROTOCOL_REJECT: u8 = 8;
    /// Echo-Request (RFC 1661 §5.8), LCP only.
    pub const ECHO_REQUEST: u8 = 9;
    /// Echo-Reply (RFC 1661 §5.8), LCP only.
    pub const ECHO_REPLY: u8 = 10;
    /// Discard-Request (RFC 1661 §5.9), LCP only.
    pub const DISCARD_REQUEST: u8 = 11;
    /// Identification (RFC 1570 §2.1), LCP only.
    pub const IDENTIFICATION: u8 = 12;
    /// Time-Remaining (RFC 1570 §2.2), LCP only.
    pub const TIME_REMAINING: u8 = 13;
}
