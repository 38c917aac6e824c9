//! Attribute Value Pairs: the checked raw view and iterator (RFC 2661 §4.1, RFC 3931 §5.1), and
//! the typed values of every AVP both RFCs define ([`types`]).

pub mod types;

use thiserror::Error;

pub use types::{Avp, AvpType};

/// Length of the AVP header: flags and Length, Vendor ID, Attribute Type.
pub const AVP_HEADER_LEN: usize = 6;
/// The 10-bit Length field caps an AVP at 1023 octets, header included.
pub const MAX_AVP_LEN: usize = 0x3ff;
/// The largest Attribute Value an AVP can carry.
pub const MAX_AVP_VALUE_LEN: usize = MAX_AVP_LEN - AVP_HEADER_LEN;

const M_BIT: u16 = 0x8000;
const H_BIT: u16 = 0x4000;
const RESERVED_BITS: u16 = 0x3c00;
const LENGTH_MASK: u16 = 0x03ff;

/// One AVP as it sits on the wire, not yet interpreted.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RawAvp<'a> {
    /// The M (mandatory) bit.
    pub mandatory: bool,
    /// The H (hidden) bit: `value` is hidden (RFC 2661 §4.3).
    pub hidden: bool,
    /// One of the four reserved bits is set: L2TPv2 treats such an AVP as unrecognized
    /// (RFC 2661 §4.1), L2TPv3 ignores the bits (RFC 3931 §5.1).
    pub reserved: bool,
    /// The Vendor ID; 0 for IETF AVPs.
    pub vendor_id: u16,
    /// The Attribute Type.
    pub attr_type: u16,
    /// The Attribute Value, still hidden if `hidden` is set.
    pub value: &'a [u8],
    /// Offset of the AVP header from the start of the AVP list.
    pub offset: usize,
}

/// An AVP list whose framing is broken. Nothing after it can be read.
#[derive(Clone, Copy, Debug, Eq, Error, PartialEq)]
#[non_exhaustive]
pub enum FramingError {
    /// Fewer than 6 octets remain, too few for an AVP header.
    #[error("{remaining} octets left, too few for an AVP header")]
    TruncatedHeader {
        /// Octets left in the message.
        remaining: usize,
    },
    /// The Length field is below the minimum of 6 (RFC 3931 §5.1).
    #[error("AVP length {length} is below the minimum of 6")]
    LengthTooShort {
        /// The Length field.
        length: usize,
    },
    /// The Length field runs past the end of the message.
    #[error("AVP length {length} overruns the {remaining} octets left in the message")]
    Overrun {
        /// The Length field.
        length: usize,
        /// Octets left in the message.
        remaining: usize,
    },
}

/// Iterates over the AVPs of a control message body. After the first framing error it yields
/// that error and then stops, so a malformed list never panics or loops.
#[derive(Clone, Debug)]
pub struct AvpIter<'a> {
    body: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> AvpIter<'a> {
    /// Iterates over `body`, the octets after the control message header.
    pub fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            offset: 0,
            failed: false,
        }
    }
}

/// The message type of a control message body, read from its first AVP (RFC 2661 §4.4.1,
/// RFC 3931 §5.4.1: the Message Type AVP comes first); `None` for a ZLB or when the first AVP
/// is not a readable Message Type. Cheaper than decoding the message.
pub fn message_type(body: &[u8]) -> Option<crate::wire::MessageType> {
    AvpIter::new(body)
        .next()
        .and_then(Result::ok)
        .filter(|a| a.vendor_id == 0 && a.attr_type == 0)
        .and_then(|a| Some(u16::from_be_bytes(a.value.try_into().ok()?)))
        .and_then(crate::wire::MessageType::from_u16)
}

/// A framing error together with where it occurred and what could still be read of the AVP.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct FramingFault {
    /// What is wrong.
    pub error: FramingError,
    /// Offset of the broken AVP from the start of the AVP list.
    pub offset: usize,
    /// The M bit, Vendor ID and Attribute Type, when the 6-octet header could be read.
    pub header: Option<(bool, u16, u16)>,
}

impl<'a> Iterator for AvpIter<'a> {
    type Item = Result<RawAvp<'a>, FramingFault>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.body.len() {
            return None;
        }
        let rest = &self.body[self.offset..];
        let offset = self.offset;
        let fail = |error, header| FramingFault {
            error,
            offset,
            header,
        };
        let Some(head) = rest.first_chunk::<AVP_HEADER_LEN>() else {
            self.failed = true;
            return Some(Err(fail(
                FramingError::TruncatedHeader {
                    remaining: rest.len(),
                },
                None,
            )));
        };
        let bits = u16::from_be_bytes([head[0], head[1]]);
        let vendor_id = u16::from_be_bytes([head[2], head[3]]);
        let attr_type = u16::from_be_bytes([head[4], head[5]]);
        let mandatory = bits & M_BIT != 0;
        let length = usize::from(bits & LENGTH_MASK);
        let header = Some((mandatory, vendor_id, attr_type));
        if length < AVP_HEADER_LEN {
            self.failed = true;
            return Some(Err(fail(FramingError::LengthTooShort { length }, header)));
        }
        if length > rest.len() {
            self.failed = true;
            return Some(Err(fail(
                FramingError::Overrun {
                    length,
                    remaining: rest.len(),
                },
                header,
            )));
        }
        self.offset += length;
        Some(Ok(RawAvp {
            mandatory,
            hidden: bits & H_BIT != 0,
            reserved: bits & RESERVED_BITS != 0,
            vendor_id,
            attr_type,
            value: &rest[AVP_HEADER_LEN..length],
            offset,
        }))
    }
}

/// Appends one AVP. Values longer than [`MAX_AVP_VALUE_LEN`] are truncated to fit the 10-bit
/// Length field; the typed layer never produces such values.
pub fn emit_raw(
    out: &mut Vec<u8>,
    mandatory: bool,
    hidden: bool,
    vendor_id: u16,
    attr_type: u16,
    value: &[u8],
) {
    let value = &value[..value.len().min(MAX_AVP_VALUE_LEN)];
    let mut bits = (AVP_HEADER_LEN + value.len()) as u16;
    if mandatory {
        bits |= M_BIT;
    }
    if hidden {
        bits |= H_BIT;
    }
    out.extend_from_slice(&bits.to_be_bytes());
    out.extend_from_slice(&vendor_id.to_be_bytes());
    out.extend_from_slice(&attr_type.to_be_bytes());
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterates_and_round_trips() {
        let mut body = Vec::new();
        emit_raw(&mut body, true, false, 0, 0, &[0, 1]);
        emit_raw(&mut body, false, true, 9, 77, b"xyz");
        emit_raw(&mut body, false, false, 0, 39, &[]);
        let avps: Vec<_> = AvpIter::new(&body)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(avps.len(), 3);
        assert_eq!(
            avps[1],
            RawAvp {
                mandatory: false,
                hidden: true,
                reserved: false,
                vendor_id: 9,
                attr_type: 77,
                value: b"xyz",
                offset: 8
            }
        );
        assert_eq!(&body[..2], &[0x80, 8]);
        assert!(avps[2].value.is_empty());
    }

    #[test]
    fn framing_errors_stop_iteration() {
        let zero_len = [0x80, 0x00, 0, 0, 0, 7, 1, 2];
        let mut it = AvpIter::new(&zero_len);
        let err = it.next().and_then(Result::err).map(|f| f.error);
        assert_eq!(err, Some(FramingError::LengthTooShort { length: 0 }));
        assert_eq!(it.next(), None);

        let overrun = [0x80, 0x20, 0, 0, 0, 7, 1, 2];
        let fault = AvpIter::new(&overrun).next().and_then(Result::err);
        assert_eq!(
            fault,
            Some(FramingFault {
                error: FramingError::Overrun {
                    length: 32,
                    remaining: 8
                },
                offset: 0,
                header: Some((true, 0, 7))
            })
        );
        let short = [0x80, 0x08, 0];
        let fault = AvpIter::new(&short).next().and_then(Result::err);
        assert_eq!(
            fault.map(|f| f.error),
            Some(FramingError::TruncatedHeader { remaining: 3 })
        );
    }

    #[test]
    fn reserved_bits_are_reported_apart() {
        let body = [0x80 | 0x3c, 0x08, 0, 0, 0, 0, 0, 1];
        let avp = AvpIter::new(&body).next().and_then(Result::ok);
        assert_eq!(
            avp.map(|a| (a.mandatory, a.hidden, a.reserved, a.value)),
            Some((true, false, true, &[0u8, 1][..]))
        );
    }
}
