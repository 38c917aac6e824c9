//! The packet format of LCP, IPCP, IPv6CP, PAP and CHAP (RFC 1661 §5): Code, Identifier, a
//! two-octet Length and data, and the Configuration Options (RFC 1661 §6) that Configure
//! packets carry as Type, Length and value. Both are read in place; a malformed packet is an
//! error, never a panic.

use std::fmt;

/// A control packet: the information of a frame of LCP, an NCP, PAP or CHAP.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ControlPacket<'a> {
    /// The Code field.
    pub code: u8,
    /// The Identifier field.
    pub identifier: u8,
    /// The data after the four-octet header, up to the Length field.
    pub data: &'a [u8],
    /// The whole packet up to the Length field (what a Code-Reject returns).
    pub bytes: &'a [u8],
}

impl<'a> ControlPacket<'a> {
    /// Parses the information field of a frame. Octets beyond the Length field are padding and
    /// are ignored (RFC 1661 §5).
    ///
    /// # Errors
    ///
    /// [`PacketError`] if fewer than four octets are there, or the Length field is below 4 or
    /// beyond the octets received: such a packet is silently discarded (RFC 1661 §5).
    pub fn parse(info: &'a [u8]) -> Result<Self, PacketError> {
        let [code, identifier, high, low, ..] = *info else {
            return Err(PacketError::Truncated);
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        if length < 4 || length > info.len() {
            return Err(PacketError::BadLength {
                length,
                available: info.len(),
            });
        }
        Ok(Self {
            code,
            identifier,
            data: &info[4..length],
            bytes: &info[..length],
        })
    }

    /// The Configuration Options of a Configure packet's data.
    pub fn options(&self) -> OptionIter<'a> {
        OptionIter::new(self.data)
    }
}

/// Why a packet or an option list could not be read.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum PacketError {
    /// Fewer than four octets: no header.
    Truncated,
    /// The Length field is below 4 or beyond the octets received.
    BadLength {
        /// The Length field.
        length: usize,
        /// The octets received.
        available: usize,
    },
    /// A Configuration Option has a Length below 2, or runs past the end of the packet.
    BadOption {
        /// The option's offset in the packet's data.
        offset: usize,
    },
    /// A field inside the data (an option of the wrong size, a PAP or CHAP length field that
    /// runs past the packet) is malformed.
    BadField,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("packet shorter than its 4-octet header"),
            Self::BadLength { length, available } => {
                write!(f, "length field {length} with {available} octets received")
            }
            Self::BadOption { offset } => write!(f, "malformed option at offset {offset}"),
            Self::BadField => f.write_str("malformed field"),
        }
    }
}

impl std::error::Error for PacketError {}

/// One Configuration Option: its Type and the value after the Type and Length octets.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PppOption<'a> {
    /// The Type field.
    pub kind: u8,
    /// The value (Length - 2 octets).
    pub value: &'a [u8],
}

impl PppOption<'_> {
    /// The option as it was on the wire: Type, Length, value.
    pub fn encoded_len(&self) -> usize {
        self.value.len() + 2
    }

    /// The value as a big-endian `u16`, if it is two octets long.
    pub fn u16(&self) -> Option<u16> {
        Some(u16::from_be_bytes(self.value.try_into().ok()?))
    }

    /// The value as a big-endian `u32`, if it is four octets long.
    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_be_bytes(self.value.try_into().ok()?))
    }
}

/// An iterator over Configuration Options; after the first error it yields nothing more.
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> OptionIter<'a> {
    /// Iterates over the options in `data` (a Configure packet's data).
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            rest: data,
            offset: 0,
        }
    }

    /// Checks that every option is well formed.
    ///
    /// # Errors
    ///
    /// The first [`PacketError::BadOption`].
    pub fn validate(data: &[u8]) -> Result<(), PacketError> {
        OptionIter::new(data).try_for_each(|o| o.map(|_| ()))
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<PppOption<'a>, PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        let [kind, len, ..] = *self.rest else {
            if self.rest.is_empty() {
                return None;
            }
            self.rest = &[];
            return Some(Err(PacketError::BadOption {
                offset: self.offset,
            }));
        };
        let len = usize::from(len);
        if len < 2 || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(PacketError::BadOption {
                offset: self.offset,
            }));
        }
        let value = &self.rest[2..len];
        self.rest = &self.rest[len..];
        self.offset += len;
        Some(Ok(PppOption { kind, value }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_and_ignores_padding() {
        let p = ControlPacket::parse(&[1, 7, 0, 8, 1, 4, 5, 0xdc, 0xee, 0xee]);
        let p = p.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.code, p.identifier), (1, 7));
        assert_eq!(p.data, &[1, 4, 5, 0xdc]);
        assert_eq!(p.bytes.len(), 8);
        let opts: Vec<_> = p.options().collect();
        assert_eq!(
            opts,
            vec![Ok(PppOption {
                kind: 1,
                value: &[5, 0xdc]
            })]
        );
        assert_eq!(opts[0].map(|o| o.u16()), Ok(Some(1500)));
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            ControlPacket::parse(&[1, 1, 0]),
            Err(PacketError::Truncated)
        );
        assert!(matches!(
            ControlPacket::parse(&[1, 1, 0, 3]),
            Err(PacketError::BadLength { length: 3, .. })
        ));
        assert!(matches!(
            ControlPacket::parse(&[1, 1, 0, 9, 0, 0, 0, 0]),
            Err(PacketError::BadLength { length: 9, .. })
        ));
    }

    #[test]
    fn bad_options_end_the_iteration() {
        for data in [
            &[1][..],
            &[1, 1],
            &[1, 0, 0],
            &[5, 6, 0, 0, 0],
            &[7, 2, 1, 9],
        ] {
            let items: Vec<_> = OptionIter::new(data).collect();
            let last = items.last().copied();
            assert!(
                matches!(last, Some(Err(PacketError::BadOption { .. }))),
                "{data:?}: {items:?}"
            );
            assert!(OptionIter::validate(data).is_err());
        }
        assert!(OptionIter::validate(&[7, 2, 8, 2]).is_ok());
        assert_eq!(OptionIter::new(&[]).count(), 0);
    }
}
