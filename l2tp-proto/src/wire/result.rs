//! Result and error codes of the Result Code AVP (RFC 2661 §4.4.2, RFC 3931 §5.4.2), with their
//! RFC meanings.
//!
//! Result codes mean different things in StopCCN and in CDN, so they are plain numbers with named
//! constants per message, and [`describe_result`] gives the RFC's wording. General error codes
//! are shared and form the [`ErrorCode`] enum.

use std::fmt;

use crate::wire::message::MessageType;

/// Named result codes.
pub mod result_code {
    /// StopCCN result codes (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
    pub mod stop_ccn {
        /// General request to clear control connection.
        pub const CLEAR: u16 = 1;
        /// General error; the error code says which.
        pub const GENERAL_ERROR: u16 = 2;
        /// Control channel already exists.
        pub const ALREADY_EXISTS: u16 = 3;
        /// Requester is not authorized to establish a control channel.
        pub const NOT_AUTHORIZED: u16 = 4;
        /// The protocol version of the requester is not supported; the error code holds the
        /// highest version supported.
        pub const UNSUPPORTED_VERSION: u16 = 5;
        /// Requester is being shut down.
        pub const SHUTTING_DOWN: u16 = 6;
        /// Finite state machine error (or timeout, RFC 3931).
        pub const FSM_ERROR: u16 = 7;
    }

    /// CDN result codes (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
    pub mod cdn {
        /// Call disconnected due to loss of carrier.
        pub const LOST_CARRIER: u16 = 1;
        /// Call disconnected for the reason in the error code.
        pub const GENERAL_ERROR: u16 = 2;
        /// Call disconnected for administrative reasons.
        pub const ADMINISTRATIVE: u16 = 3;
        /// Lack of appropriate facilities (temporary).
        pub const NO_FACILITIES_TEMPORARY: u16 = 4;
        /// Lack of appropriate facilities (permanent).
        pub const NO_FACILITIES_PERMANENT: u16 = 5;
        /// Invalid destination.
        pub const INVALID_DESTINATION: u16 = 6;
        /// No carrier detected.
        pub const NO_CARRIER: u16 = 7;
        /// Busy signal.
        pub const BUSY: u16 = 8;
        /// No dial tone.
        pub const NO_DIAL_TONE: u16 = 9;
        /// Not established within the time allotted by the LAC.
        pub const TIMEOUT: u16 = 10;
        /// Connected but no appropriate framing detected.
        pub const NO_FRAMING: u16 = 11;
        /// Session not established due to losing the tie breaker (RFC 3931).
        pub const LOST_TIE_BREAKER: u16 = 13;
        /// Unsupported pseudowire type (RFC 3931).
        pub const UNSUPPORTED_PW_TYPE: u16 = 14;
        /// Sequencing required without a valid L2-Specific Sublayer (RFC 3931).
        pub const SEQUENCING_WITHOUT_SUBLAYER: u16 = 15;
        /// Finite state machine error or timeout (RFC 3931).
        pub const FSM_ERROR: u16 = 16;
    }
}

macro_rules! result_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident = $code:literal, $text:literal;)* }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
        pub enum $name {
            $($(#[doc = $vdoc])* $variant,)*
            /// Any other value.
            Other(u16),
        }

        impl $name {
            /// The result code's number.
            pub fn code(self) -> u16 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Other(n) => n,
                }
            }

            /// The result code with this number.
            pub fn from_code(code: u16) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    n => Self::Other(n),
                }
            }

            /// The RFC's meaning.
            pub fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(_) => "unknown result code",
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} ({})", self.description(), self.code())
            }
        }
    };
}

result_enum! {
    /// Result codes of the StopCCN message (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
    StopCcnResult {
        /// 1: general request to clear control connection.
        Clear = 1, "general request to clear control connection";
        /// 2: general error; the error code says which.
        GeneralError = 2, "general error";
        /// 3: control channel already exists.
        AlreadyExists = 3, "control channel already exists";
        /// 4: requester is not authorized to establish a control channel.
        NotAuthorized = 4, "requester is not authorized to establish a control channel";
        /// 5: the protocol version of the requester is not supported.
        UnsupportedVersion = 5, "the protocol version of the requester is not supported";
        /// 6: requester is being shut down.
        ShuttingDown = 6, "requester is being shut down";
        /// 7: finite state machine error (or timeout).
        FsmError = 7, "finite state machine error or timeout";
    }
}

result_enum! {
    /// Result codes of the CDN message (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
    CdnResult {
        /// 1: call disconnected due to loss of carrier.
        LostCarrier = 1, "call disconnected due to loss of carrier";
        /// 2: call disconnected for the reason indicated in the error code.
        GeneralError = 2, "call disconnected for the reason indicated in error code";
        /// 3: call disconnected for administrative reasons.
        Administrative = 3, "call disconnected for administrative reasons";
        /// 4: lack of appropriate facilities (temporary condition).
        NoFacilitiesTemporary = 4, "lack of appropriate facilities (temporary condition)";
        /// 5: lack of appropriate facilities (permanent condition).
        NoFacilitiesPermanent = 5, "lack of appropriate facilities (permanent condition)";
        /// 6: invalid destination.
        InvalidDestination = 6, "invalid destination";
        /// 7: call failed due to no carrier detected.
        NoCarrier = 7, "call failed due to no carrier detected";
        /// 8: call failed due to detection of a busy signal.
        Busy = 8, "call failed due to detection of a busy signal";
        /// 9: call failed due to lack of a dial tone.
        NoDialTone = 9, "call failed due to lack of a dial tone";
        /// 10: call was not established within time allotted.
        Timeout = 10, "call was not established within time allotted";
        /// 11: call was connected but no appropriate framing was detected.
        NoFraming = 11, "call was connected but no appropriate framing was detected";
        /// 13: session not established due to losing tie breaker (RFC 3931).
        LostTieBreaker = 13, "session not established due to losing tie breaker";
        /// 14: session not established due to unsupported PW type (RFC 3931).
        UnsupportedPwType = 14, "session not established due to unsupported PW type";
        /// 15: sequencing required without valid L2-Specific Sublayer (RFC 3931).
        SequencingWithoutSublayer = 15, "sequencing required without valid L2-Specific Sublayer";
        /// 16: finite state machine error or timeout (RFC 3931).
        FsmError = 16, "finite state machine error or timeout";
    }
}

/// General error codes (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum ErrorCode {
    /// 0: no general error.
    NoError,
    /// 1: no control connection exists yet for this pair of peers.
    NoControlConnection,
    /// 2: length is wrong.
    BadLength,
    /// 3: a field value was out of range or a reserved field was non-zero.
    BadValue,
    /// 4: insufficient resources to handle this operation now.
    InsufficientResources,
    /// 5: invalid session id.
    InvalidSessionId,
    /// 6: a generic vendor-specific error occurred.
    VendorSpecific,
    /// 7: try another peer.
    TryAnother,
    /// 8: shut down on receipt of an unknown AVP with the M bit set.
    UnknownMandatoryAvp,
    /// 9: try another, directed (RFC 3931): the message lists addresses.
    TryAnotherDirected,
    /// Any other value.
    Other(u16),
}

impl ErrorCode {
    /// The error code's number.
    pub fn code(self) -> u16 {
        match self {
            Self::NoError => 0,
            Self::NoControlConnection => 1,
            Self::BadLength => 2,
            Self::BadValue => 3,
            Self::InsufficientResources => 4,
            Self::InvalidSessionId => 5,
            Self::VendorSpecific => 6,
            Self::TryAnother => 7,
            Self::UnknownMandatoryAvp => 8,
            Self::TryAnotherDirected => 9,
            Self::Other(n) => n,
        }
    }

    /// The error code with this number.
    pub fn from_code(code: u16) -> Self {
        match code {
            0 => Self::NoError,
            1 => Self::NoControlConnection,
            2 => Self::BadLength,
            3 => Self::BadValue,
            4 => Self::InsufficientResources,
            5 => Self::InvalidSessionId,
            6 => Self::VendorSpecific,
            7 => Self::TryAnother,
            8 => Self::UnknownMandatoryAvp,
            9 => Self::TryAnotherDirected,
            n => Self::Other(n),
        }
    }

    /// The RFC's meaning.
    pub fn description(self) -> &'static str {
        match self {
            Self::NoError => "no general error",
            Self::NoControlConnection => "no control connection exists yet for this pair of peers",
            Self::BadLength => "length is wrong",
            Self::BadValue => "a field value was out of range or a reserved field was non-zero",
            Self::InsufficientResources => "insufficient resources to handle this operation now",
            Self::InvalidSessionId => "the session id is invalid in this context",
            Self::VendorSpecific => "a generic vendor-specific error occurred",
            Self::TryAnother => "try another peer",
            Self::UnknownMandatoryAvp => "unknown AVP with the M bit set",
            Self::TryAnotherDirected => "try another peer, directed",
            Self::Other(_) => "unknown error code",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description(), self.code())
    }
}

/// The RFC's wording of a result code carried by `message` (StopCCN or CDN).
pub fn describe_result(message: MessageType, result: u16) -> &'static str {
    match (message, result) {
        (_, 0) => "reserved",
        (MessageType::StopCcn, n) => StopCcnResult::from_code(n).description(),
        (MessageType::Cdn, n) => CdnResult::from_code(n).description(),
        _ => "unknown result code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip() {
        for code in 0..12 {
            assert_eq!(ErrorCode::from_code(code).code(), code);
        }
        assert_eq!(ErrorCode::UnknownMandatoryAvp.code(), 8);
        assert_eq!(ErrorCode::BadLength.to_string(), "length is wrong (2)");
    }

    #[test]
    fn result_codes_round_trip() {
        for code in 0..20 {
            assert_eq!(StopCcnResult::from_code(code).code(), code);
            assert_eq!(CdnResult::from_code(code).code(), code);
        }
        assert_eq!(StopCcnResult::from_code(4), StopCcnResult::NotAuthorized);
        assert_eq!(CdnResult::from_code(12), CdnResult::Other(12));
        assert_eq!(CdnResult::LostTieBreaker.code(), 13);
        assert_eq!(
            StopCcnResult::UnsupportedVersion.to_string(),
            "the protocol version of the requester is not supported (5)"
        );
    }

    #[test]
    fn result_wording_depends_on_message() {
        assert_eq!(
            describe_result(MessageType::StopCcn, 4),
            "requester is not authorized to establish a control channel"
        );
        assert_eq!(
            describe_result(MessageType::Cdn, 4),
            "lack of appropriate facilities (temporary condition)"
        );
        assert_eq!(describe_result(MessageType::Cdn, 99), "unknown result code");
    }
}
