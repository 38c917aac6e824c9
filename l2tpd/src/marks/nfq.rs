//! The messages of l2tp-nfqd (<https://github.com/katalix/l2tp-nfqd>): a helper that reads the
//! L2TPv2 SCCRQs an L2TP/IPsec server receives from a netfilter queue and tells the daemon, over
//! a unix datagram socket, the netfilter mark each one arrived with.
//!
//! One datagram per SCCRQ, a flat structure in the sender's byte order except for the address:
//!
//! | octets | field |
//! | --- | --- |
//! | 0–1 | 1 (reserved for later versions) |
//! | 2–3 | the message's length, the host name included |
//! | 4–7 | the peer's IPv4 address, in network byte order |
//! | 8–11 | the peer's tunnel id (its Assigned Tunnel ID AVP) |
//! | 12–15 | the mark |
//! | 16– | the peer's host name (Host Name AVP), without a terminating NUL |
//!
//! The helper runs on the same host, so "the sender's byte order" is ours. A sender that adds
//! a NUL after the name is understood too.

use std::net::Ipv4Addr;

/// The fixed part of a message.
pub const HEADER_LEN: usize = 16;

/// The largest message l2tp-nfqd sends: the fixed part and a host name of up to 1024 octets.
pub const MAX_LEN: usize = HEADER_LEN + 1024;

/// The value of the first field in the messages this parser understands.
const VERSION: u16 = 1;

/// One l2tp-nfqd message: the peer of an SCCRQ, the tunnel id it assigned, and the mark the
/// SCCRQ arrived with.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct NfqMessage {
    /// The peer's address.
    pub peer: Ipv4Addr,
    /// The peer's tunnel id, from its SCCRQ.
    pub peer_tid: u32,
    /// The netfilter mark of the SCCRQ.
    pub mark: u32,
    /// The peer's host name, as the SCCRQ gave it (empty when none).
    pub host_name: Vec<u8>,
}

/// Why a datagram is not an l2tp-nfqd message.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NfqError {
    /// Shorter than the fixed part.
    #[error("{0} octets, shorter than the {HEADER_LEN} of the fixed part")]
    Short(usize),
    /// The first field is not 1.
    #[error("first field {0}, not 1 (another version of the message?)")]
    Version(u16),
    /// The length field disagrees with the datagram.
    #[error("length field {said}, but {got} octets received")]
    Length {
        /// The length field.
        said: u16,
        /// The datagram's length.
        got: usize,
    },
}

impl NfqMessage {
    /// Parses one datagram. Octets past the length field are ignored.
    ///
    /// # Errors
    ///
    /// [`NfqError`] for a datagram too short, of another version, or whose length field
    /// says less than the fixed part or more than was received.
    pub fn parse(datagram: &[u8]) -> Result<NfqMessage, NfqError> {
        let field = |at: usize, n: usize| datagram.get(at..at + n);
        let (Some(version), Some(len), Some(ip), Some(tid), Some(mark)) = (
            field(0, 2),
            field(2, 2),
            field(4, 4),
            field(8, 4),
            field(12, 4),
        ) else {
            return Err(NfqError::Short(datagram.len()));
        };
        let u16_at = |b: &[u8]| u16::from_ne_bytes([b[0], b[1]]);
        let u32_at = |b: &[u8]| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        let version = u16_at(version);
        if version != VERSION {
            return Err(NfqError::Version(version));
        }
        let said = u16_at(len);
        let end = usize::from(said);
        if end < HEADER_LEN || end > datagram.len() {
            return Err(NfqError::Length {
                said,
                got: datagram.len(),
            });
        }
        let name = &datagram[HEADER_LEN..end];
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        Ok(NfqMessage {
            peer: Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]),
            peer_tid: u32_at(tid),
            mark: u32_at(mark),
            host_name: name.to_vec(),
        })
    }

    /// The message as l2tp-nfqd writes it (for tests and test senders).
    pub fn encode(&self) -> Vec<u8> {
        let name = &self.host_name[..self.host_name.len().min(MAX_LEN - HEADER_LEN)];
        let len = u16::try_from(HEADER_LEN + name.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(usize::from(len));
        out.extend_from_slice(&VERSION.to_ne_bytes());
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&self.peer.octets());
        out.extend_from_slice(&self.peer_tid.to_ne_bytes());
        out.extend_from_slice(&self.mark.to_ne_bytes());
        out.extend_from_slice(name);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> NfqMessage {
        NfqMessage {
            peer: Ipv4Addr::new(203, 0, 113, 2),
            peer_tid: 4711,
            mark: 3,
            host_name: b"client-1".to_vec(),
        }
    }

    #[test]
    fn the_layout_of_l2tp_nfqd() {
        let bytes = message().encode();
        // As the C structure lays it out on this host: two u16, the address as it is on the
        // wire, two u32, the name without its NUL.
        let mut expected = Vec::new();
        expected.extend_from_slice(&1u16.to_ne_bytes());
        expected.extend_from_slice(&24u16.to_ne_bytes());
        expected.extend_from_slice(&[203, 0, 113, 2]);
        expected.extend_from_slice(&4711u32.to_ne_bytes());
        expected.extend_from_slice(&3u32.to_ne_bytes());
        expected.extend_from_slice(b"client-1");
        assert_eq!(bytes, expected);
        assert_eq!(NfqMessage::parse(&bytes), Ok(message()));
    }

    #[test]
    fn a_trailing_nul_and_octets_past_the_length_are_left_out() {
        let mut bytes = message().encode();
        bytes[2..4].copy_from_slice(&25u16.to_ne_bytes());
        bytes.push(0);
        bytes.extend_from_slice(b"junk");
        assert_eq!(NfqMessage::parse(&bytes), Ok(message()));
        let mut nameless = message();
        nameless.host_name.clear();
        assert_eq!(NfqMessage::parse(&nameless.encode()), Ok(nameless));
    }

    #[test]
    fn what_is_not_a_message_is_refused() {
        let bytes = message().encode();
        assert_eq!(NfqMessage::parse(&bytes[..15]), Err(NfqError::Short(15)));
        let mut other = bytes.clone();
        other[0..2].copy_from_slice(&2u16.to_ne_bytes());
        assert_eq!(NfqMessage::parse(&other), Err(NfqError::Version(2)));
        let mut long = bytes.clone();
        long[2..4].copy_from_slice(&100u16.to_ne_bytes());
        assert_eq!(
            NfqMessage::parse(&long),
            Err(NfqError::Length { said: 100, got: 24 })
        );
        let mut short = bytes;
        short[2..4].copy_from_slice(&8u16.to_ne_bytes());
        assert!(matches!(
            NfqMessage::parse(&short),
            Err(NfqError::Length { said: 8, .. })
        ));
    }
}
