//! Packet codes (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3, RFC 5997 for Status-Server).

use std::fmt;

/// The Code octet of a RADIUS packet.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Code {
    /// Access-Request (1), RFC 2865 §4.1.
    AccessRequest,
    /// Access-Accept (2), RFC 2865 §4.2.
    AccessAccept,
    /// Access-Reject (3), RFC 2865 §4.3.
    AccessReject,
    /// Accounting-Request (4), RFC 2866 §4.1.
    AccountingRequest,
    /// Accounting-Response (5), RFC 2866 §4.2.
    AccountingResponse,
    /// Access-Challenge (11), RFC 2865 §4.4.
    AccessChallenge,
    /// Status-Server (12), RFC 5997.
    StatusServer,
    /// Disconnect-Request (40), RFC 5176 §2.1.
    DisconnectRequest,
    /// Disconnect-ACK (41), RFC 5176 §2.1.
    DisconnectAck,
    /// Disconnect-NAK (42), RFC 5176 §2.1.
    DisconnectNak,
    /// CoA-Request (43), RFC 5176 §2.2.
    CoaRequest,
    /// CoA-ACK (44), RFC 5176 §2.2.
    CoaAck,
    /// CoA-NAK (45), RFC 5176 §2.2.
    CoaNak,
}

impl Code {
    /// The code of octet `n`, if this crate knows it.
    pub const fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            1 => Self::AccessRequest,
            2 => Self::AccessAccept,
            3 => Self::AccessReject,
            4 => Self::AccountingRequest,
            5 => Self::AccountingResponse,
            11 => Self::AccessChallenge,
            12 => Self::StatusServer,
            40 => Self::DisconnectRequest,
            41 => Self::DisconnectAck,
            42 => Self::DisconnectNak,
            43 => Self::CoaRequest,
            44 => Self::CoaAck,
            45 => Self::CoaNak,
            _ => return None,
        })
    }

    /// The octet on the wire.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::AccessRequest => 1,
            Self::AccessAccept => 2,
            Self::AccessReject => 3,
            Self::AccountingRequest => 4,
            Self::AccountingResponse => 5,
            Self::AccessChallenge => 11,
            Self::StatusServer => 12,
            Self::DisconnectRequest => 40,
            Self::DisconnectAck => 41,
            Self::DisconnectNak => 42,
            Self::CoaRequest => 43,
            Self::CoaAck => 44,
            Self::CoaNak => 45,
        }
    }

    /// Whether a packet with this code is a request (its Authenticator is a Request
    /// Authenticator).
    pub const fn is_request(self) -> bool {
        matches!(
            self,
            Self::AccessRequest
                | Self::AccountingRequest
                | Self::StatusServer
                | Self::DisconnectRequest
                | Self::CoaRequest
        )
    }

    /// The RFC name, e.g. `"Access-Accept"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AccessRequest => "Access-Request",
            Self::AccessAccept => "Access-Accept",
            Self::AccessReject => "Access-Reject",
            Self::AccountingRequest => "Accounting-Request",
            Self::AccountingResponse => "Accounting-Response",
            Self::AccessChallenge => "Access-Challenge",
            Self::StatusServer => "Status-Server",
            Self::DisconnectRequest => "Disconnect-Request",
            Self::DisconnectAck => "Disconnect-ACK",
            Self::DisconnectNak => "Disconnect-NAK",
            Self::CoaRequest => "CoA-Request",
            Self::CoaAck => "CoA-ACK",
            Self::CoaNak => "CoA-NAK",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in 0..=255u8 {
            if let Some(c) = Code::from_u8(n) {
                assert_eq!(c.as_u8(), n);
            }
        }
        assert_eq!(Code::from_u8(43), Some(Code::CoaRequest));
        assert_eq!(Code::from_u8(6), None);
        assert!(Code::DisconnectRequest.is_request());
        assert!(!Code::AccessAccept.is_request());
    }
}
