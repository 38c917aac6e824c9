//! PAP (RFC 1334 §2.2) and CHAP (RFC 1994 §4) packets, and the MS-CHAPv2 sub-formats of the
//! Response value and of the Success and Failure messages (RFC 2759 §4-§6).

use crate::wire::{ControlPacket, PacketError};

/// PAP codes (RFC 1334 §2.2).
pub mod pap_code {
    /// Authenticate-Request.
    pub const REQUEST: u8 = 1;
    /// Authenticate-Ack.
    pub const ACK: u8 = 2;
    /// Authenticate-Nak.
    pub const NAK: u8 = 3;
}

/// CHAP codes (RFC 1994 §4).
pub mod chap_code {
    /// Challenge.
    pub const CHALLENGE: u8 = 1;
    /// Response.
    pub const RESPONSE: u8 = 2;
    /// Success.
    pub const SUCCESS: u8 = 3;
    /// Failure.
    pub const FAILURE: u8 = 4;
}

/// A PAP packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PapPacket<'a> {
    /// Authenticate-Request: the peer's name and password.
    Request {
        /// Peer-ID.
        peer_id: &'a [u8],
        /// Password.
        password: &'a [u8],
    },
    /// Authenticate-Ack with its message.
    Ack(&'a [u8]),
    /// Authenticate-Nak with its message.
    Nak(&'a [u8]),
}

impl<'a> PapPacket<'a> {
    /// Reads a PAP packet; `Ok(None)` for an unknown code (silently discarded, RFC 1334 §2.2).
    ///
    /// # Errors
    ///
    /// [`PacketError::BadField`] if a length field runs past the packet.
    pub fn parse(p: &ControlPacket<'a>) -> Result<Option<Self>, PacketError> {
        Ok(Some(match p.code {
            pap_code::REQUEST => {
                let (peer_id, rest) = counted(p.data)?;
                let (password, _) = counted(rest)?;
                PapPacket::Request { peer_id, password }
            }
            pap_code::ACK => PapPacket::Ack(message(p.data)),
            pap_code::NAK => PapPacket::Nak(message(p.data)),
            _ => return Ok(None),
        }))
    }
}

/// A CHAP packet (also MS-CHAPv2, which keeps CHAP's format).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ChapPacket<'a> {
    /// Challenge: the value and the authenticator's name.
    Challenge {
        /// Challenge value.
        value: &'a [u8],
        /// Name.
        name: &'a [u8],
    },
    /// Response: the value and the peer's name.
    Response {
        /// Response value.
        value: &'a [u8],
        /// Name.
        name: &'a [u8],
    },
    /// Success with its message.
    Success(&'a [u8]),
    /// Failure with its message.
    Failure(&'a [u8]),
}

impl<'a> ChapPacket<'a> {
    /// Reads a CHAP packet; `Ok(None)` for an unknown code (silently discarded).
    ///
    /// # Errors
    ///
    /// [`PacketError::BadField`] if the Value-Size runs past the packet or is zero.
    pub fn parse(p: &ControlPacket<'a>) -> Result<Option<Self>, PacketError> {
        Ok(Some(match p.code {
            chap_code::CHALLENGE | chap_code::RESPONSE => {
                let (value, name) = counted(p.data)?;
                if value.is_empty() {
                    return Err(PacketError::BadField);
                }
                if p.code == chap_code::CHALLENGE {
                    ChapPacket::Challenge { value, name }
                } else {
                    ChapPacket::Response { value, name }
                }
            }
            chap_code::SUCCESS => ChapPacket::Success(p.data),
            chap_code::FAILURE => ChapPacket::Failure(p.data),
            _ => return Ok(None),
        }))
    }
}

/// The value of an MS-CHAPv2 Response (RFC 2759 §4): 49 octets.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct MsChapV2Response {
    /// Peer-Challenge.
    pub peer_challenge: [u8; 16],
    /// NT-Response.
    pub nt_response: [u8; 24],
    /// Flags (must be zero).
    pub flags: u8,
}

impl MsChapV2Response {
    /// The length of the value.
    pub const LEN: usize = 49;

    /// Reads the 49-octet value: Peer-Challenge, 8 reserved octets, NT-Response, Flags.
    /// The reserved octets are not checked (be liberal in what is accepted).
    pub fn parse(value: &[u8]) -> Option<Self> {
        if value.len() != Self::LEN {
            return None;
        }
        let mut peer_challenge = [0; 16];
        peer_challenge.copy_from_slice(&value[..16]);
        let mut nt_response = [0; 24];
        nt_response.copy_from_slice(&value[24..48]);
        Some(Self {
            peer_challenge,
            nt_response,
            flags: value[48],
        })
    }

    /// The 49-octet value.
    pub fn to_bytes(&self) -> [u8; 49] {
        let mut v = [0; 49];
        v[..16].copy_from_slice(&self.peer_challenge);
        v[24..48].copy_from_slice(&self.nt_response);
        v[48] = self.flags;
        v
    }
}

/// The fields of an MS-CHAPv2 Failure message (RFC 2759 §6):
/// `E=eeeeeeeeee R=r C=cccccccccccccccccccccccccccccccc V=vvvvvvvvvv M=<msg>`.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct MsChapV2Failure<'a> {
    /// E: the error code (691: authentication failure).
    pub error: Option<u32>,
    /// R: whether a retry is allowed.
    pub retry: bool,
    /// V: the password-change protocol version.
    pub version: Option<u32>,
    /// M: the text, to the end of the message.
    pub message: &'a [u8],
}

impl<'a> MsChapV2Failure<'a> {
    /// Reads the fields it finds; unknown or malformed ones are skipped.
    pub fn parse(text: &'a [u8]) -> Self {
        let mut out = Self::default();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(m) = rest.strip_prefix(b"M=") {
                out.message = m;
                break;
            }
            let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
            let (field, tail) = rest.split_at(end);
            rest = tail.strip_prefix(b" ").unwrap_or(tail);
            let number = |v: &[u8]| std::str::from_utf8(v).ok()?.parse().ok();
            match field {
                [b'E', b'=', v @ ..] => out.error = number(v),
                [b'R', b'=', v @ ..] => out.retry = v == b"1",
                [b'V', b'=', v @ ..] => out.version = number(v),
                _ => {}
            }
        }
        out
    }
}

/// A one-octet length and that many octets; the rest.
fn counted(data: &[u8]) -> Result<(&[u8], &[u8]), PacketError> {
    let (&n, rest) = data.split_first().ok_or(PacketError::BadField)?;
    let n = usize::from(n);
    if n > rest.len() {
        return Err(PacketError::BadField);
    }
    Ok(rest.split_at(n))
}

/// The message of a PAP Ack or Nak: Msg-Length and the message, cut to what is there.
fn message(data: &[u8]) -> &[u8] {
    match data.split_first() {
        Some((&n, rest)) => &rest[..usize::from(n).min(rest.len())],
        None => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(bytes: &[u8]) -> ControlPacket<'_> {
        ControlPacket::parse(bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pap_packets() {
        let req = [
            1, 1, 0, 16, 5, b'a', b'l', b'i', b'c', b'e', 5, b's', b'e', b'c', b'r', b't',
        ];
        assert_eq!(
            PapPacket::parse(&packet(&req)),
            Ok(Some(PapPacket::Request {
                peer_id: b"alice",
                password: b"secrt"
            }))
        );
        let ack = [2, 1, 0, 7, 2, b'o', b'k'];
        assert_eq!(
            PapPacket::parse(&packet(&ack)),
            Ok(Some(PapPacket::Ack(b"ok")))
        );
        assert_eq!(
            PapPacket::parse(&packet(&[3, 1, 0, 4])),
            Ok(Some(PapPacket::Nak(b"")))
        );
        assert_eq!(
            PapPacket::parse(&packet(&[1, 1, 0, 6, 5, b'a'])),
            Err(PacketError::BadField)
        );
        assert_eq!(PapPacket::parse(&packet(&[9, 1, 0, 4])), Ok(None));
    }

    #[test]
    fn chap_packets() {
        let ch = [1, 7, 0, 10, 2, 0xaa, 0xbb, b'l', b'n', b's'];
        assert_eq!(
            ChapPacket::parse(&packet(&ch)),
            Ok(Some(ChapPacket::Challenge {
                value: &[0xaa, 0xbb],
                name: b"lns"
            }))
        );
        assert_eq!(
            ChapPacket::parse(&packet(&[2, 7, 0, 5, 0])),
            Err(PacketError::BadField)
        );
        assert_eq!(
            ChapPacket::parse(&packet(&[3, 7, 0, 6, b'o', b'k'])),
            Ok(Some(ChapPacket::Success(b"ok")))
        );
    }

    #[test]
    fn mschapv2_formats() {
        let mut v = [0u8; 49];
        v[..16].copy_from_slice(&[1; 16]);
        v[24..48].copy_from_slice(&[2; 24]);
        let r = MsChapV2Response::parse(&v);
        assert_eq!(r.map(|r| r.to_bytes()), Some(v));
        assert_eq!(MsChapV2Response::parse(&v[..48]), None);
        let f = MsChapV2Failure::parse(
            b"E=691 R=1 C=719f1d73b9a6ed10472a341fcac49586 V=0 M=Access denied",
        );
        assert_eq!(f.error, Some(691));
        assert!(f.retry);
        assert_eq!(f.version, Some(0));
        assert_eq!(f.message, b"Access denied");
        assert_eq!(
            MsChapV2Failure::parse(b"garbage"),
            MsChapV2Failure::default()
        );
    }
}
