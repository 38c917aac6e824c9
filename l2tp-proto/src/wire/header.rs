//! L2TP headers: the L2TPv2 header (RFC 2661 §3.1), the L2TPv3 control message header (RFC 3931
//! §3.2.1) over UDP and over IP (§4.1.1.2), the L2TPv3 session headers over UDP (§4.1.2.1) and
//! over IP (§4.1.1.1), and the Default L2-Specific Sublayer (§4.6).
//!
//! [`Packet::parse`] tells L2TPv2 from L2TPv3 and control from data, and checks every header rule
//! the RFCs make a MUST on receipt. The L2TPv3 data header cannot be fully parsed without the
//! session's cookie length and sublayer, so [`Packet::V3Data`] hands back the session id and the
//! rest, for [`V3DataHeader::parse`] once the session is known.

use thiserror::Error;

/// Flag bits of the first 16 bits of an L2TP header (RFC 2661 §3.1, RFC 3931 §3.2.1).
mod flag {
    pub(super) const T: u16 = 0x8000;
    pub(super) const L: u16 = 0x4000;
    pub(super) const S: u16 = 0x0800;
    pub(super) const O: u16 = 0x0200;
    pub(super) const P: u16 = 0x0100;
    pub(super) const VER: u16 = 0x000f;
}

/// Length of an L2TP control message header over UDP (and after the zero session id over IP).
pub const CONTROL_HEADER_LEN: usize = 12;

/// The 4-octet session id of zero that precedes control messages over IP (RFC 3931 §4.1.1.2).
pub const IP_CONTROL_PREFIX_LEN: usize = 4;

/// Largest datagram length the 16-bit Length field can describe.
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;

/// The L2TP protocol version carried in the Ver field.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Version {
    /// L2TPv2, RFC 2661 (Ver = 2).
    V2,
    /// L2TPv3, RFC 3931 (Ver = 3).
    V3,
}

impl Version {
    /// The value of the Ver field.
    pub const fn number(self) -> u8 {
        match self {
            Self::V2 => 2,
            Self::V3 => 3,
        }
    }
}

/// How L2TP is carried by the packet-switched network (RFC 3931 §4.1).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Encapsulation {
    /// Over UDP (port 1701 by default), L2TPv2 or L2TPv3.
    Udp,
    /// Directly over IP, protocol 115 (L2TPv3 only).
    Ip,
}

/// A header that breaks a rule of RFC 2661 §3.1 or RFC 3931 §3.2 / §4.1. Such packets MUST be
/// discarded (RFC 3931 §7.1: "A control message with a malformed header MUST be discarded").
#[derive(Clone, Debug, Eq, Error, PartialEq)]
#[non_exhaustive]
pub enum HeaderError {
    /// Fewer octets than the header needs.
    #[error("truncated header: need {needed} octets, have {have}")]
    Truncated {
        /// Octets the header needs.
        needed: usize,
        /// Octets available.
        have: usize,
    },
    /// The Ver field is neither 2 nor 3 (1 is L2F, RFC 2341).
    #[error("unsupported version {0}{l2f}", l2f = if *.0 == 1 { " (L2F)" } else { "" })]
    UnsupportedVersion(u8),
    /// The Length field disagrees with the datagram's length.
    #[error("length field says {field} octets but the packet has {actual}")]
    LengthMismatch {
        /// The value of the Length field.
        field: usize,
        /// The real length of the message.
        actual: usize,
    },
    /// A control message without the L bit (RFC 2661 §3.1: MUST be 1).
    #[error("control message without the L (length) bit")]
    ControlWithoutLength,
    /// A control message without the S bit (RFC 2661 §3.1: MUST be 1).
    #[error("control message without the S (sequence) bit")]
    ControlWithoutSequence,
    /// An L2TPv2 control message with the O bit (RFC 2661 §3.1: MUST be 0).
    #[error("control message with the O (offset) bit set")]
    ControlWithOffset,
    /// An L2TPv2 control message with the P bit (RFC 2661 §3.1: MUST be 0).
    #[error("control message with the P (priority) bit set")]
    ControlWithPriority,
    /// The Offset Size points past the end of the packet.
    #[error("offset size {offset} runs past the end of the packet")]
    OffsetOverrun {
        /// The Offset Size field.
        offset: usize,
    },
    /// An L2TPv3 data message over UDP with the T bit but no control header semantics, or an
    /// L2TPv2 packet over IP encapsulation, which does not exist.
    #[error("L2TPv2 cannot be carried directly over IP")]
    V2OverIp,
    /// An L2TPv3 data packet carrying session id 0, which is reserved (RFC 3931 §4.1).
    #[error("data packet with the reserved session id 0")]
    ZeroSessionId,
}

/// The header of a control message, L2TPv2 or L2TPv3.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct ControlHeader {
    /// Ver of the header.
    pub version: Version,
    /// L2TPv2 Tunnel ID (16 bits) or L2TPv3 Control Connection ID (32 bits) of the recipient.
    pub tunnel_id: u32,
    /// L2TPv2 Session ID of the recipient; always 0 for L2TPv3, which has no such field.
    pub session_id: u16,
    /// Ns: the sequence number of this message.
    pub ns: u16,
    /// Nr: the next sequence number expected from the peer.
    pub nr: u16,
}

impl ControlHeader {
    /// Length of the header on the wire for the given encapsulation.
    pub const fn wire_len(encap: Encapsulation) -> usize {
        match encap {
            Encapsulation::Udp => CONTROL_HEADER_LEN,
            Encapsulation::Ip => IP_CONTROL_PREFIX_LEN + CONTROL_HEADER_LEN,
        }
    }

    /// Writes the header for a message whose AVPs take `body_len` octets.
    ///
    /// The Length field counts from the T bit and, over IP, excludes the zero session id
    /// (RFC 3931 §4.1.1.2). Reserved bits are written as 0 (RFC 2661 §3.1). A v2 tunnel id is
    /// truncated to its 16 bits; callers keep v2 ids within range.
    pub fn emit(&self, encap: Encapsulation, body_len: usize, out: &mut Vec<u8>) {
        if encap == Encapsulation::Ip {
            out.extend_from_slice(&[0; IP_CONTROL_PREFIX_LEN]);
        }
        let length = (CONTROL_HEADER_LEN + body_len).min(MAX_MESSAGE_LEN) as u16;
        let flags = flag::T | flag::L | flag::S | u16::from(self.version.number());
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&length.to_be_bytes());
        match self.version {
            Version::V2 => {
                out.extend_from_slice(&(self.tunnel_id as u16).to_be_bytes());
                out.extend_from_slice(&self.session_id.to_be_bytes());
            }
            Version::V3 => out.extend_from_slice(&self.tunnel_id.to_be_bytes()),
        }
        out.extend_from_slice(&self.ns.to_be_bytes());
        out.extend_from_slice(&self.nr.to_be_bytes());
    }

    /// Rewrites Ns and Nr in an already encoded control message (for retransmissions, which
    /// carry the current Nr).
    pub fn patch_sequence(message: &mut [u8], encap: Encapsulation, ns: u16, nr: u16) {
        let at = match encap {
            Encapsulation::Udp => 8,
            Encapsulation::Ip => IP_CONTROL_PREFIX_LEN + 8,
        };
        if let Some(field) = message.get_mut(at..at + 4) {
            field[..2].copy_from_slice(&ns.to_be_bytes());
            field[2..].copy_from_slice(&nr.to_be_bytes());
        }
    }
}

/// The header of an L2TPv2 data message (RFC 2661 §3.1).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct V2DataHeader {
    /// Whether the Length field is present (L bit).
    pub with_length: bool,
    /// Tunnel ID of the recipient.
    pub tunnel_id: u16,
    /// Session ID of the recipient.
    pub session_id: u16,
    /// Ns and Nr, when the S bit is set. Nr is reserved in data messages and ignored on receipt.
    pub sequence: Option<(u16, u16)>,
    /// The Offset Size, when the O bit is set; the offset pad that follows is that many octets.
    pub offset: Option<u16>,
    /// The P (priority) bit.
    pub priority: bool,
}

impl V2DataHeader {
    /// Length of this header on the wire, offset pad included.
    pub fn wire_len(&self) -> usize {
        let mut len = 6;
        if self.with_length {
            len += 2;
        }
        if self.sequence.is_some() {
            len += 4;
        }
        if let Some(offset) = self.offset {
            len += 2 + usize::from(offset);
        }
        len
    }

    /// Writes the header in front of a payload of `payload_len` octets; the offset pad is zeros.
    pub fn emit(&self, payload_len: usize, out: &mut Vec<u8>) {
        let mut flags = u16::from(Version::V2.number());
        if self.with_length {
            flags |= flag::L;
        }
        if self.sequence.is_some() {
            flags |= flag::S;
        }
        if self.offset.is_some() {
            flags |= flag::O;
        }
        if self.priority {
            flags |= flag::P;
        }
        out.extend_from_slice(&flags.to_be_bytes());
        if self.with_length {
            let length = (self.wire_len() + payload_len).min(MAX_MESSAGE_LEN) as u16;
            out.extend_from_slice(&length.to_be_bytes());
        }
        out.extend_from_slice(&self.tunnel_id.to_be_bytes());
        out.extend_from_slice(&self.session_id.to_be_bytes());
        if let Some((ns, nr)) = self.sequence {
            out.extend_from_slice(&ns.to_be_bytes());
            out.extend_from_slice(&nr.to_be_bytes());
        }
        if let Some(offset) = self.offset {
            out.extend_from_slice(&offset.to_be_bytes());
            out.resize(out.len() + usize::from(offset), 0);
        }
    }
}

/// The L2-Specific Sublayer a session uses (RFC 3931 §5.4.4, L2-Specific Sublayer AVP).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum L2SpecificSublayer {
    /// No sublayer (type 0).
    #[default]
    None,
    /// The Default L2-Specific Sublayer of RFC 3931 §4.6 (type 1).
    Default,
}

/// The Default L2-Specific Sublayer (RFC 3931 §4.6): the S bit and a 24-bit sequence number.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct DefaultSublayer {
    /// The S bit: the sequence number is valid.
    pub sequenced: bool,
    /// The 24-bit sequence number (upper 8 bits always 0).
    pub sequence: u32,
}

/// The Sequence Number field of the Default L2-Specific Sublayer is 24 bits wide.
pub const SUBLAYER_SEQUENCE_MASK: u32 = 0x00ff_ffff;
const SUBLAYER_S_BIT: u32 = 0x4000_0000;

impl DefaultSublayer {
    /// Decodes the 4 octets of the sublayer; reserved bits are ignored (RFC 3931 §4.6).
    pub fn from_bytes(bytes: [u8; 4]) -> Self {
        let word = u32::from_be_bytes(bytes);
        Self {
            sequenced: word & SUBLAYER_S_BIT != 0,
            sequence: word & SUBLAYER_SEQUENCE_MASK,
        }
    }

    /// Encodes the sublayer, reserved bits 0.
    pub fn to_bytes(self) -> [u8; 4] {
        let mut word = self.sequence & SUBLAYER_SEQUENCE_MASK;
        if self.sequenced {
            word |= SUBLAYER_S_BIT;
        }
        word.to_be_bytes()
    }
}

/// A cookie of 0, 4 or 8 octets (RFC 3931 §4.1, Assigned Cookie AVP §5.4.4).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Cookie {
    len: u8,
    bytes: [u8; 8],
}

impl Cookie {
    /// The empty cookie.
    pub const NONE: Self = Self {
        len: 0,
        bytes: [0; 8],
    };

    /// A cookie from 0, 4 or 8 octets; `None` for any other length.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        if !matches!(bytes.len(), 0 | 4 | 8) {
            return None;
        }
        let mut cookie = Self {
            len: bytes.len() as u8,
            bytes: [0; 8],
        };
        cookie.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(cookie)
    }

    /// The cookie's octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The cookie's length: 0, 4 or 8.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether this is the empty cookie.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The session header of an L2TPv3 data message and its L2-Specific Sublayer.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct V3DataHeader {
    /// Session ID of the recipient (never 0).
    pub session_id: u32,
    /// The cookie the recipient expects.
    pub cookie: Cookie,
    /// The Default L2-Specific Sublayer, when the session uses it.
    pub sublayer: Option<DefaultSublayer>,
}

/// Why an L2TPv3 data packet does not belong to the session it names.
#[derive(Clone, Copy, Debug, Eq, Error, PartialEq)]
#[non_exhaustive]
pub enum DataError {
    /// Too short for the cookie and sublayer the session uses.
    #[error("data packet too short for its cookie and sublayer")]
    Truncated,
    /// The cookie differs from the one the session expects (RFC 3931 §8.2).
    #[error("cookie mismatch")]
    CookieMismatch,
}

impl V3DataHeader {
    /// Length on the wire, including the 4 octets of flags and reserved field over UDP.
    pub fn wire_len(&self, encap: Encapsulation) -> usize {
        let prefix = match encap {
            Encapsulation::Udp => 8,
            Encapsulation::Ip => 4,
        };
        prefix + self.cookie.len() + if self.sublayer.is_some() { 4 } else { 0 }
    }

    /// Parses what follows the session id (as returned in [`Packet::V3Data`]) for a session that
    /// expects `cookie` and `sublayer`. Returns the header and the tunnelled frame. The cookie is
    /// compared with the expected one (RFC 3931 §8.2: packets with the wrong cookie are dropped).
    pub fn parse(
        session_id: u32,
        rest: &[u8],
        cookie: Cookie,
        sublayer: L2SpecificSublayer,
    ) -> Result<(Self, &[u8]), DataError> {
        let cookie_len = cookie.len();
        let got = rest.get(..cookie_len).ok_or(DataError::Truncated)?;
        if got != cookie.as_bytes() {
            return Err(DataError::CookieMismatch);
        }
        let mut rest = &rest[cookie_len..];
        let sublayer = match sublayer {
            L2SpecificSublayer::None => None,
            L2SpecificSublayer::Default => {
                let (word, tail) = rest.split_first_chunk::<4>().ok_or(DataError::Truncated)?;
                rest = tail;
                Some(DefaultSublayer::from_bytes(*word))
            }
        };
        Ok((
            Self {
                session_id,
                cookie,
                sublayer,
            },
            rest,
        ))
    }

    /// Writes the session header, cookie and sublayer.
    pub fn emit(&self, encap: Encapsulation, out: &mut Vec<u8>) {
        if encap == Encapsulation::Udp {
            // RFC 3931 §4.1.2.1: T = 0, Ver = 3, reserved bits 0.
            out.extend_from_slice(&u16::from(Version::V3.number()).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        out.extend_from_slice(&self.session_id.to_be_bytes());
        out.extend_from_slice(self.cookie.as_bytes());
        if let Some(sublayer) = self.sublayer {
            out.extend_from_slice(&sublayer.to_bytes());
        }
    }
}

/// A classified L2TP packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Packet<'a> {
    /// A control message, L2TPv2 or L2TPv3.
    Control {
        /// Its header.
        header: ControlHeader,
        /// The whole message from the T bit to the end, without the zero session id over IP.
        /// This is what the L2TPv3 Message Digest covers.
        message: &'a [u8],
        /// The AVPs after the header (empty for a ZLB acknowledgement).
        body: &'a [u8],
    },
    /// An L2TPv2 data message.
    V2Data {
        /// Its header.
        header: V2DataHeader,
        /// The PPP frame after the header and offset pad.
        payload: &'a [u8],
    },
    /// An L2TPv3 data message; parse `rest` with [`V3DataHeader::parse`] once the session is
    /// known.
    V3Data {
        /// The recipient's session id (never 0).
        session_id: u32,
        /// Cookie, sublayer and frame.
        rest: &'a [u8],
    },
}

impl<'a> Packet<'a> {
    /// Classifies and checks a datagram received with the given encapsulation.
    ///
    /// Over UDP the Ver field is read first (RFC 3931 §4.1.2.1) to tell L2TPv2 from L2TPv3, and
    /// the T bit tells control from data. Over IP a session id of 0 marks a control message
    /// (RFC 3931 §4.1.1.2).
    pub fn parse(datagram: &'a [u8], encap: Encapsulation) -> Result<Self, HeaderError> {
        match encap {
            Encapsulation::Udp => Self::parse_udp(datagram),
            Encapsulation::Ip => {
                let (id, rest) = split_u32(datagram)?;
                if id != 0 {
                    return Ok(Self::V3Data {
                        session_id: id,
                        rest,
                    });
                }
                match Self::parse_udp(rest)? {
                    control @ Self::Control { header, .. } if header.version == Version::V3 => {
                        Ok(control)
                    }
                    Self::Control { .. } => Err(HeaderError::V2OverIp),
                    // The T bit is clear after a zero session id: not a valid control message.
                    _ => Err(HeaderError::ZeroSessionId),
                }
            }
        }
    }

    fn parse_udp(datagram: &'a [u8]) -> Result<Self, HeaderError> {
        let flags = u16::from_be_bytes(*first_chunk::<2>(datagram)?);
        let version = match (flags & flag::VER) as u8 {
            2 => Version::V2,
            3 => Version::V3,
            // RFC 2661 §3.1: packets with an unknown Ver field MUST be discarded.
            other => return Err(HeaderError::UnsupportedVersion(other)),
        };
        if flags & flag::T != 0 {
            return Self::parse_control(datagram, flags, version);
        }
        match version {
            Version::V2 => Self::parse_v2_data(datagram, flags),
            Version::V3 => {
                // RFC 3931 §4.1.2.1: flags, Ver, 16 reserved bits, then the session id.
                let rest = datagram.get(4..).ok_or(HeaderError::Truncated {
                    needed: 8,
                    have: datagram.len(),
                })?;
                let (session_id, rest) = split_u32(rest)?;
                if session_id == 0 {
                    return Err(HeaderError::ZeroSessionId);
                }
                Ok(Self::V3Data { session_id, rest })
            }
        }
    }

    fn parse_control(
        datagram: &'a [u8],
        flags: u16,
        version: Version,
    ) -> Result<Self, HeaderError> {
        // RFC 2661 §3.1 and RFC 3931 §3.2.1: L and S MUST be 1 on control messages.
        if flags & flag::L == 0 {
            return Err(HeaderError::ControlWithoutLength);
        }
        if flags & flag::S == 0 {
            return Err(HeaderError::ControlWithoutSequence);
        }
        if version == Version::V2 {
            // RFC 2661 §3.1: O and P MUST be 0 on control messages. (In L2TPv3 these bits are
            // reserved and ignored on receipt.)
            if flags & flag::O != 0 {
                return Err(HeaderError::ControlWithOffset);
            }
            if flags & flag::P != 0 {
                return Err(HeaderError::ControlWithPriority);
            }
        }
        let fixed = first_chunk::<CONTROL_HEADER_LEN>(datagram)?;
        let length = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
        if length != datagram.len() || length < CONTROL_HEADER_LEN {
            return Err(HeaderError::LengthMismatch {
                field: length,
                actual: datagram.len(),
            });
        }
        let (tunnel_id, session_id) = match version {
            Version::V2 => (
                u32::from(u16::from_be_bytes([fixed[4], fixed[5]])),
                u16::from_be_bytes([fixed[6], fixed[7]]),
            ),
            Version::V3 => (
                u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
                0,
            ),
        };
        let header = ControlHeader {
            version,
            tunnel_id,
            session_id,
            ns: u16::from_be_bytes([fixed[8], fixed[9]]),
            nr: u16::from_be_bytes([fixed[10], fixed[11]]),
        };
        Ok(Self::Control {
            header,
            message: datagram,
            body: &datagram[CONTROL_HEADER_LEN..],
        })
    }

    fn parse_v2_data(datagram: &'a [u8], flags: u16) -> Result<Self, HeaderError> {
        let mut header = V2DataHeader {
            with_length: flags & flag::L != 0,
            priority: flags & flag::P != 0,
            ..V2DataHeader::default()
        };
        let mut at = 2;
        let field = |at: &mut usize| -> Result<u16, HeaderError> {
            let bytes = datagram.get(*at..*at + 2).ok_or(HeaderError::Truncated {
                needed: *at + 2,
                have: datagram.len(),
            })?;
            *at += 2;
            Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
        };
        if header.with_length {
            let length = usize::from(field(&mut at)?);
            if length != datagram.len() {
                return Err(HeaderError::LengthMismatch {
                    field: length,
                    actual: datagram.len(),
                });
            }
        }
        header.tunnel_id = field(&mut at)?;
        header.session_id = field(&mut at)?;
        if flags & flag::S != 0 {
            header.sequence = Some((field(&mut at)?, field(&mut at)?));
        }
        if flags & flag::O != 0 {
            let offset = field(&mut at)?;
            header.offset = Some(offset);
            at += usize::from(offset);
            if at > datagram.len() {
                return Err(HeaderError::OffsetOverrun {
                    offset: usize::from(offset),
                });
            }
        }
        Ok(Self::V2Data {
            header,
            payload: &datagram[at..],
        })
    }
}

fn first_chunk<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], HeaderError> {
    bytes.first_chunk::<N>().ok_or(HeaderError::Truncated {
        needed: N,
        have: bytes.len(),
    })
}

fn split_u32(bytes: &[u8]) -> Result<(u32, &[u8]), HeaderError> {
    let (id, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or(HeaderError::Truncated {
            needed: 4,
            have: bytes.len(),
        })?;
    Ok((u32::from_be_bytes(*id), rest))
}

#[cfg(test)]
mod tests;
