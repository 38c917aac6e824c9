//! Typed values of every AVP of RFC 2661 §4.4 and RFC 3931 §5.4, with per-AVP length checks.
//!
//! Vendor AVPs and AVPs this crate does not know are kept raw in [`Avp::Raw`], so that their M
//! bit can be honoured (RFC 2661 §4.2, RFC 3931 §5.2) and the message re-encoded unchanged.

use thiserror::Error;

use crate::wire::header::Cookie;

mod speed_update;

pub use speed_update::ConnectSpeedUpdate;

/// An Attribute Value that breaks its AVP's format.
#[derive(Clone, Copy, Debug, Eq, Error, PartialEq)]
#[non_exhaustive]
pub enum ValueError {
    /// The value's length is not one the AVP allows.
    #[error("value of {found} octets, expected {expected}")]
    BadLength {
        /// What the AVP allows, in words.
        expected: &'static str,
        /// The length received.
        found: usize,
    },
    /// A value the AVP (or the AVP in this message) does not allow, such as an Assigned
    /// Tunnel ID of 0 (RFC 2661 §4.4.3) or a Data Sequencing level above 2 (RFC 3931 §5.4.4).
    #[error("value {found} out of range, expected {expected}")]
    OutOfRange {
        /// What the AVP allows, in words.
        expected: &'static str,
        /// The value received.
        found: u64,
    },
    /// The H bit on an AVP that MUST NOT be hidden (RFC 2661 §4.4, RFC 3931 §5.4).
    #[error("hidden, but this AVP MUST NOT be hidden")]
    MustNotBeHidden,
}

/// The lengths an Attribute Value may have.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ValueLen {
    /// Exactly this many octets.
    Exactly(usize),
    /// At least this many octets.
    AtLeast(usize),
    /// One of these lengths.
    OneOf(&'static [usize]),
    /// An even number of octets, at least this many.
    EvenAtLeast(usize),
    /// The Result Code AVP: 2 octets, or at least 4 (RFC 2661 §4.4.2).
    ResultCode,
}

impl ValueLen {
    /// Whether `len` is allowed.
    pub fn allows(self, len: usize) -> bool {
        match self {
            Self::Exactly(n) => len == n,
            Self::AtLeast(n) => len >= n,
            Self::OneOf(lens) => lens.contains(&len),
            Self::EvenAtLeast(n) => len >= n && len.is_multiple_of(2),
            Self::ResultCode => len == 2 || len >= 4,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Exactly(0) => "0",
            Self::Exactly(2) => "2",
            Self::Exactly(4) => "4",
            Self::Exactly(8) => "8",
            Self::Exactly(10) => "10",
            Self::Exactly(16) => "16",
            Self::Exactly(26) => "26",
            Self::Exactly(_) => "a fixed length",
            Self::AtLeast(1) => "at least 1",
            Self::AtLeast(3) => "at least 3",
            Self::AtLeast(6) => "at least 6",
            Self::AtLeast(_) => "more",
            Self::OneOf(&[4, 8]) => "4 or 8",
            Self::OneOf(&[0, 4, 8]) => "0, 4 or 8",
            Self::OneOf(&[17, 21]) => "17 or 21",
            Self::OneOf(&[18, 26]) => "26 (or 18)",
            Self::OneOf(&[12, 20]) => "12 (L2TPv2) or 20 (L2TPv3)",
            Self::OneOf(_) => "one of a fixed set",
            Self::EvenAtLeast(_) => "a non-zero even number",
            Self::ResultCode => "2, or at least 4",
        }
    }
}

/// Encoding and decoding of one Attribute Value, after its length has been checked.
trait Value: Sized {
    fn decode(value: &[u8]) -> Self;
    fn encode(&self, out: &mut Vec<u8>);
}

impl Value for () {
    fn decode(_: &[u8]) -> Self {}
    fn encode(&self, _: &mut Vec<u8>) {}
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn decode(value: &[u8]) -> Self {
                let mut bytes = [0; size_of::<$t>()];
                bytes.copy_from_slice(&value[..size_of::<$t>()]);
                <$t>::from_be_bytes(bytes)
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }
    )*};
}
int_value!(u16, u32, u64);

impl Value for Vec<u8> {
    fn decode(value: &[u8]) -> Self {
        value.to_vec()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl Value for [u8; 16] {
    fn decode(value: &[u8]) -> Self {
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&value[..16]);
        bytes
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl Value for Vec<u16> {
    fn decode(value: &[u8]) -> Self {
        value
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for v in self {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

impl Value for Cookie {
    fn decode(value: &[u8]) -> Self {
        Cookie::new(value).unwrap_or_default()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

/// The Result Code AVP (RFC 2661 §4.4.2, RFC 3931 §5.4.2): result code, optional error code and
/// optional error message.
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct ResultCode {
    /// The result code; its meaning depends on the message (StopCCN or CDN).
    pub result: u16,
    /// The general error code, if present.
    pub error: Option<u16>,
    /// The human-readable error message, if present (only with an error code).
    pub message: Option<Vec<u8>>,
}

impl Value for ResultCode {
    fn decode(value: &[u8]) -> Self {
        let result = u16::decode(value);
        let error = (value.len() >= 4).then(|| u16::decode(&value[2..]));
        let message = (value.len() > 4).then(|| value[4..].to_vec());
        Self {
            result,
            error,
            message,
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.result.encode(out);
        if self.error.is_some() || self.message.is_some() {
            self.error.unwrap_or(0).encode(out);
            if let Some(message) = &self.message {
                out.extend_from_slice(message);
            }
        }
    }
}

/// The Protocol Version AVP (RFC 2661 §4.4.3): version 1, revision 0 for RFC 2661.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct ProtocolVersion {
    /// The Ver octet.
    pub version: u8,
    /// The Rev octet.
    pub revision: u8,
}

impl Value for ProtocolVersion {
    fn decode(value: &[u8]) -> Self {
        Self {
            version: value[0],
            revision: value[1],
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.version, self.revision]);
    }
}

/// The Q.931 Cause Code AVP (RFC 2661 §4.4.5).
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct Q931Cause {
    /// The Q.931 cause code.
    pub cause: u16,
    /// The Q.931 message code.
    pub message: u8,
    /// Optional advisory text.
    pub advisory: Vec<u8>,
}

impl Value for Q931Cause {
    fn decode(value: &[u8]) -> Self {
        Self {
            cause: u16::decode(value),
            message: value[2],
            advisory: value[3..].to_vec(),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.cause.encode(out);
        out.push(self.message);
        out.extend_from_slice(&self.advisory);
    }
}

/// The Call Errors AVP (RFC 2661 §4.4.6), named Circuit Errors in RFC 3931 §5.4.5. RFC 3931
/// draws only the last four counters but gives the same length (32) as RFC 2661, so all six are
/// sent; an 18-octet value carrying only the four is accepted too.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct CallErrors {
    /// CRC errors.
    pub crc_errors: u32,
    /// Framing errors.
    pub framing_errors: u32,
    /// Hardware overruns.
    pub hardware_overruns: u32,
    /// Buffer overruns.
    pub buffer_overruns: u32,
    /// Time-out errors.
    pub timeout_errors: u32,
    /// Alignment errors.
    pub alignment_errors: u32,
}

impl Value for CallErrors {
    fn decode(value: &[u8]) -> Self {
        let words: Vec<u32> = value[2..].chunks_exact(4).map(u32::decode).collect();
        let [crc_errors, framing_errors, rest @ ..] = words.as_slice() else {
            return Self::default();
        };
        let (crc_errors, framing_errors, rest) = if words.len() == 6 {
            (*crc_errors, *framing_errors, rest)
        } else {
            (0, 0, words.as_slice())
        };
        let at = |i: usize| rest.get(i).copied().unwrap_or(0);
        Self {
            crc_errors,
            framing_errors,
            hardware_overruns: at(0),
            buffer_overruns: at(1),
            timeout_errors: at(2),
            alignment_errors: at(3),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0]);
        for v in [
            self.crc_errors,
            self.framing_errors,
            self.hardware_overruns,
            self.buffer_overruns,
            self.timeout_errors,
            self.alignment_errors,
        ] {
            v.encode(out);
        }
    }
}

/// The ACCM AVP (RFC 2661 §4.4.6): the send and receive async control character maps.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub struct Accm {
    /// Send ACCM.
    pub send: u32,
    /// Receive ACCM.
    pub receive: u32,
}

impl Value for Accm {
    fn decode(value: &[u8]) -> Self {
        Self {
            send: u32::decode(&value[2..]),
            receive: u32::decode(&value[6..]),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0]);
        self.send.encode(out);
        self.receive.encode(out);
    }
}

/// The Message Digest AVP (RFC 3931 §5.4.1).
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct MessageDigest {
    /// Digest Type: 0 HMAC-MD5, 1 HMAC-SHA-1.
    pub digest_type: u8,
    /// The 16 or 20 octets of digest.
    pub digest: Vec<u8>,
}

impl Value for MessageDigest {
    fn decode(value: &[u8]) -> Self {
        Self {
            digest_type: value[0],
            digest: value[1..].to_vec(),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.digest_type);
        out.extend_from_slice(&self.digest);
    }
}

/// The Extended Vendor ID AVP (RFC 3931 §5.1): a vendor AVP with a 32-bit Vendor ID.
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct ExtendedVendor {
    /// The 32-bit Vendor ID.
    pub vendor_id: u32,
    /// The vendor's Attribute Type.
    pub attr_type: u16,
    /// The vendor's Attribute Value.
    pub value: Vec<u8>,
}

impl Value for ExtendedVendor {
    fn decode(value: &[u8]) -> Self {
        Self {
            vendor_id: u32::decode(value),
            attr_type: u16::decode(&value[4..]),
            value: value[6..].to_vec(),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.vendor_id.encode(out);
        self.attr_type.encode(out);
        out.extend_from_slice(&self.value);
    }
}

/// An AVP kept as it arrived: a vendor AVP, or an IETF AVP this crate does not know.
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct RawValue {
    /// The Vendor ID.
    pub vendor_id: u16,
    /// The Attribute Type.
    pub attr_type: u16,
    /// The Attribute Value (unhidden when it was hidden and could be unhidden).
    pub value: Vec<u8>,
}

macro_rules! avps {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $num:literal, $ty:ty, $len:expr, $name:literal, $accessor:ident;
    )*) => {
        /// The Attribute Type of every IETF AVP this crate knows (Vendor ID 0).
        #[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
        #[repr(u16)]
        pub enum AvpType {
            $( $(#[doc = $doc])* $variant = $num, )*
        }

        impl AvpType {
            /// Every known AVP type, in numeric order.
            pub const ALL: &'static [AvpType] = &[$(AvpType::$variant,)*];

            /// The type with this Attribute Type number, if known.
            pub fn from_u16(n: u16) -> Option<Self> {
                match n {
                    $( $num => Some(Self::$variant), )*
                    _ => None,
                }
            }

            /// The AVP's name as the RFCs spell it.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                }
            }

            /// The lengths the AVP's value may have.
            pub fn value_len(self) -> ValueLen {
                match self {
                    $( Self::$variant => $len, )*
                }
            }
        }

        /// A decoded AVP value.
        #[derive(Clone, Debug, Eq, Hash, PartialEq)]
        #[non_exhaustive]
        pub enum Avp {
            $( $(#[doc = $doc])* $variant($ty), )*
            /// A vendor AVP or an unknown IETF AVP, kept raw.
            Raw(RawValue),
        }

        impl Avp {
            /// Decodes the value of an AVP with Vendor ID 0 and a known type, checking its
            /// length.
            pub fn decode(attr_type: AvpType, value: &[u8]) -> Result<Self, ValueError> {
                let len = attr_type.value_len();
                if !len.allows(value.len()) {
                    return Err(ValueError::BadLength { expected: len.describe(), found: value.len() });
                }
                Ok(match attr_type {
                    $( AvpType::$variant => Self::$variant(<$ty as Value>::decode(value)), )*
                })
            }

            /// The Attribute Type, or `None` for a raw AVP.
            pub fn avp_type(&self) -> Option<AvpType> {
                match self {
                    $( Self::$variant(_) => Some(AvpType::$variant), )*
                    Self::Raw(_) => None,
                }
            }

            /// The Vendor ID and Attribute Type numbers.
            pub fn id(&self) -> (u16, u16) {
                match self {
                    Self::Raw(raw) => (raw.vendor_id, raw.attr_type),
                    other => (0, other.avp_type().map_or(0, |t| t as u16)),
                }
            }

            /// Appends the Attribute Value (not hidden).
            pub fn encode_value(&self, out: &mut Vec<u8>) {
                match self {
                    $( Self::$variant(v) => v.encode(out), )*
                    Self::Raw(raw) => out.extend_from_slice(&raw.value),
                }
            }
        }

        impl crate::wire::message::Message {
            $(
                $(#[doc = $doc])*
                ///
                /// The first such AVP in the message, if any.
                pub fn $accessor(&self) -> Option<&$ty> {
                    self.avps.iter().find_map(|e| match &e.avp {
                        Avp::$variant(v) => Some(v),
                        _ => None,
                    })
                }
            )*
        }
    };
}

avps! {
    /// Message Type (RFC 2661 §4.4.1, RFC 3931 §5.4.1).
    MessageType = 0, u16, ValueLen::Exactly(2), "Message Type", message_type_value;
    /// Result Code (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
    ResultCode = 1, ResultCode, ValueLen::ResultCode, "Result Code", result_code;
    /// Protocol Version (RFC 2661 §4.4.3).
    ProtocolVersion = 2, ProtocolVersion, ValueLen::Exactly(2), "Protocol Version", protocol_version;
    /// Framing Capabilities (RFC 2661 §4.4.3): bit 0x1 synchronous, 0x2 asynchronous.
    FramingCapabilities = 3, u32, ValueLen::Exactly(4), "Framing Capabilities", framing_capabilities;
    /// Bearer Capabilities (RFC 2661 §4.4.3): bit 0x1 digital, 0x2 analog.
    BearerCapabilities = 4, u32, ValueLen::Exactly(4), "Bearer Capabilities", bearer_capabilities;
    /// Tie Breaker (RFC 2661 §4.4.3); Control Connection and Session Tie Breaker in RFC 3931.
    TieBreaker = 5, u64, ValueLen::Exactly(8), "Tie Breaker", tie_breaker;
    /// Firmware Revision (RFC 2661 §4.4.3).
    FirmwareRevision = 6, u16, ValueLen::Exactly(2), "Firmware Revision", firmware_revision;
    /// Host Name (RFC 2661 §4.4.3, RFC 3931 §5.4.3).
    HostName = 7, Vec<u8>, ValueLen::AtLeast(1), "Host Name", host_name;
    /// Vendor Name (RFC 2661 §4.4.3).
    VendorName = 8, Vec<u8>, ValueLen::AtLeast(0), "Vendor Name", vendor_name;
    /// Assigned Tunnel ID (RFC 2661 §4.4.3).
    AssignedTunnelId = 9, u16, ValueLen::Exactly(2), "Assigned Tunnel ID", assigned_tunnel_id;
    /// Receive Window Size (RFC 2661 §4.4.3).
    ReceiveWindowSize = 10, u16, ValueLen::Exactly(2), "Receive Window Size", receive_window_size;
    /// Challenge (RFC 2661 §4.4.3).
    Challenge = 11, Vec<u8>, ValueLen::AtLeast(1), "Challenge", challenge;
    /// Q.931 Cause Code (RFC 2661 §4.4.5).
    Q931CauseCode = 12, Q931Cause, ValueLen::AtLeast(3), "Q.931 Cause Code", q931_cause_code;
    /// Challenge Response (RFC 2661 §4.4.3).
    ChallengeResponse = 13, [u8; 16], ValueLen::Exactly(16), "Challenge Response", challenge_response;
    /// Assigned Session ID (RFC 2661 §4.4.4).
    AssignedSessionId = 14, u16, ValueLen::Exactly(2), "Assigned Session ID", assigned_session_id;
    /// Call Serial Number (RFC 2661 §4.4.4), Serial Number in RFC 3931.
    CallSerialNumber = 15, u32, ValueLen::Exactly(4), "Call Serial Number", call_serial_number;
    /// Minimum BPS (RFC 2661 §4.4.4).
    MinimumBps = 16, u32, ValueLen::Exactly(4), "Minimum BPS", minimum_bps;
    /// Maximum BPS (RFC 2661 §4.4.4).
    MaximumBps = 17, u32, ValueLen::Exactly(4), "Maximum BPS", maximum_bps;
    /// Bearer Type (RFC 2661 §4.4.4).
    BearerType = 18, u32, ValueLen::Exactly(4), "Bearer Type", bearer_type;
    /// Framing Type (RFC 2661 §4.4.4).
    FramingType = 19, u32, ValueLen::Exactly(4), "Framing Type", framing_type;
    /// Called Number (RFC 2661 §4.4.4).
    CalledNumber = 21, Vec<u8>, ValueLen::AtLeast(0), "Called Number", called_number;
    /// Calling Number (RFC 2661 §4.4.4).
    CallingNumber = 22, Vec<u8>, ValueLen::AtLeast(0), "Calling Number", calling_number;
    /// Sub-Address (RFC 2661 §4.4.4).
    SubAddress = 23, Vec<u8>, ValueLen::AtLeast(0), "Sub-Address", sub_address;
    /// (Tx) Connect Speed (RFC 2661 §4.4.4), 32 bits.
    TxConnectSpeed = 24, u32, ValueLen::Exactly(4), "Tx Connect Speed", tx_connect_speed;
    /// Physical Channel ID (RFC 2661 §4.4.4, RFC 3931 §5.4.4).
    PhysicalChannelId = 25, u32, ValueLen::Exactly(4), "Physical Channel ID", physical_channel_id;
    /// Initial Received LCP CONFREQ (RFC 2661 §4.4.5).
    InitialReceivedLcpConfreq = 26, Vec<u8>, ValueLen::AtLeast(0), "Initial Received LCP CONFREQ", initial_received_lcp_confreq;
    /// Last Sent LCP CONFREQ (RFC 2661 §4.4.5).
    LastSentLcpConfreq = 27, Vec<u8>, ValueLen::AtLeast(0), "Last Sent LCP CONFREQ", last_sent_lcp_confreq;
    /// Last Received LCP CONFREQ (RFC 2661 §4.4.5).
    LastReceivedLcpConfreq = 28, Vec<u8>, ValueLen::AtLeast(0), "Last Received LCP CONFREQ", last_received_lcp_confreq;
    /// Proxy Authen Type (RFC 2661 §4.4.5).
    ProxyAuthenType = 29, u16, ValueLen::Exactly(2), "Proxy Authen Type", proxy_authen_type;
    /// Proxy Authen Name (RFC 2661 §4.4.5).
    ProxyAuthenName = 30, Vec<u8>, ValueLen::AtLeast(0), "Proxy Authen Name", proxy_authen_name;
    /// Proxy Authen Challenge (RFC 2661 §4.4.5).
    ProxyAuthenChallenge = 31, Vec<u8>, ValueLen::AtLeast(0), "Proxy Authen Challenge", proxy_authen_challenge;
    /// Proxy Authen ID (RFC 2661 §4.4.5): a reserved octet and the ID.
    ProxyAuthenId = 32, u16, ValueLen::Exactly(2), "Proxy Authen ID", proxy_authen_id;
    /// Proxy Authen Response (RFC 2661 §4.4.5).
    ProxyAuthenResponse = 33, Vec<u8>, ValueLen::AtLeast(0), "Proxy Authen Response", proxy_authen_response;
    /// Call Errors (RFC 2661 §4.4.6), Circuit Errors in RFC 3931 §5.4.5.
    CallErrors = 34, CallErrors, ValueLen::OneOf(&[18, 26]), "Call Errors", call_errors;
    /// ACCM (RFC 2661 §4.4.6).
    Accm = 35, Accm, ValueLen::Exactly(10), "ACCM", accm;
    /// Random Vector (RFC 2661 §4.4.3, RFC 3931 §5.4.1).
    RandomVector = 36, Vec<u8>, ValueLen::AtLeast(1), "Random Vector", random_vector;
    /// Private Group ID (RFC 2661 §4.4.5).
    PrivateGroupId = 37, Vec<u8>, ValueLen::AtLeast(0), "Private Group ID", private_group_id;
    /// Rx Connect Speed (RFC 2661 §4.4.4), 32 bits.
    RxConnectSpeed = 38, u32, ValueLen::Exactly(4), "Rx Connect Speed", rx_connect_speed;
    /// Sequencing Required (RFC 2661 §4.4.4): no value.
    SequencingRequired = 39, (), ValueLen::Exactly(0), "Sequencing Required", sequencing_required;
    /// Extended Vendor ID (RFC 3931 §5.1).
    ExtendedVendorId = 58, ExtendedVendor, ValueLen::AtLeast(6), "Extended Vendor ID", extended_vendor_id;
    /// Message Digest (RFC 3931 §5.4.1).
    MessageDigest = 59, MessageDigest, ValueLen::OneOf(&[17, 21]), "Message Digest", message_digest;
    /// Router ID (RFC 3931 §5.4.3).
    RouterId = 60, u32, ValueLen::Exactly(4), "Router ID", router_id;
    /// Assigned Control Connection ID (RFC 3931 §5.4.3).
    AssignedConnectionId = 61, u32, ValueLen::Exactly(4), "Assigned Control Connection ID", assigned_connection_id;
    /// Pseudowire Capabilities List (RFC 3931 §5.4.3).
    PseudowireCapabilities = 62, Vec<u16>, ValueLen::EvenAtLeast(2), "Pseudowire Capabilities List", pseudowire_capabilities;
    /// Local Session ID (RFC 3931 §5.4.4).
    LocalSessionId = 63, u32, ValueLen::Exactly(4), "Local Session ID", local_session_id;
    /// Remote Session ID (RFC 3931 §5.4.4).
    RemoteSessionId = 64, u32, ValueLen::Exactly(4), "Remote Session ID", remote_session_id;
    /// Assigned Cookie (RFC 3931 §5.4.4): 4 or 8 octets, or none (no cookie).
    AssignedCookie = 65, Cookie, ValueLen::OneOf(&[0, 4, 8]), "Assigned Cookie", assigned_cookie;
    /// Remote End ID (RFC 3931 §5.4.4).
    RemoteEndId = 66, Vec<u8>, ValueLen::AtLeast(1), "Remote End ID", remote_end_id;
    /// Pseudowire Type (RFC 3931 §5.4.4).
    PseudowireType = 68, u16, ValueLen::Exactly(2), "Pseudowire Type", pseudowire_type;
    /// L2-Specific Sublayer (RFC 3931 §5.4.4): 0 none, 1 default.
    L2SpecificSublayer = 69, u16, ValueLen::Exactly(2), "L2-Specific Sublayer", l2_specific_sublayer;
    /// Data Sequencing (RFC 3931 §5.4.4): 0 none, 1 non-IP, 2 all.
    DataSequencing = 70, u16, ValueLen::Exactly(2), "Data Sequencing", data_sequencing;
    /// Circuit Status (RFC 3931 §5.4.5): bit 0x1 Active, 0x2 New.
    CircuitStatus = 71, u16, ValueLen::Exactly(2), "Circuit Status", circuit_status;
    /// Preferred Language (RFC 3931 §5.4.3).
    PreferredLanguage = 72, Vec<u8>, ValueLen::AtLeast(1), "Preferred Language", preferred_language;
    /// Control Message Authentication Nonce (RFC 3931 §5.4.1).
    ControlMessageAuthNonce = 73, Vec<u8>, ValueLen::AtLeast(1), "Control Message Authentication Nonce", control_message_auth_nonce;
    /// Tx Connect Speed BPS (RFC 3931 §5.4.4), 64 bits.
    TxConnectSpeedBps = 74, u64, ValueLen::Exactly(8), "Tx Connect Speed BPS", tx_connect_speed_bps;
    /// Rx Connect Speed BPS (RFC 3931 §5.4.4), 64 bits.
    RxConnectSpeedBps = 75, u64, ValueLen::Exactly(8), "Rx Connect Speed BPS", rx_connect_speed_bps;
    /// Connect Speed Update (RFC 5515 §6.1): a session's current speeds, in CSUN and CSURQ.
    ConnectSpeedUpdate = 97, ConnectSpeedUpdate, ValueLen::OneOf(&[12, 20]), "Connect Speed Update", connect_speed_update;
    /// Connect Speed Update Enable (RFC 5515 §6.2): in an ICRQ, the LAC may send CSUNs for the
    /// session. No value.
    ConnectSpeedUpdateEnable = 98, (), ValueLen::Exactly(0), "Connect Speed Update Enable", connect_speed_update_enable;
}

impl AvpType {
    /// Whether the RFCs say the H bit of this AVP MUST be 0 (RFC 2661 §4.4, RFC 3931 §5.4):
    /// on receipt such an AVP with the H bit set is malformed.
    pub fn never_hidden(self) -> bool {
        self.must_not_be_hidden()
            || matches!(
                self,
                Self::ProtocolVersion
                    | Self::TieBreaker
                    | Self::HostName
                    | Self::ReceiveWindowSize
                    | Self::Q931CauseCode
                    | Self::SequencingRequired
                    | Self::RouterId
            )
    }

    /// Whether the AVP is defined only by RFC 3931. When falling back to L2TPv2 these are sent
    /// with the M bit clear (RFC 3931 §4.7.3).
    pub fn is_v3_only(self) -> bool {
        (58..=75).contains(&(self as u16))
    }

    /// Whether RFC 5515 §6 defines the AVP (Connect Speed Update and its Enable), for both
    /// versions, with the M bit that SHOULD be clear.
    pub fn is_rfc5515(self) -> bool {
        matches!(
            self,
            Self::ConnectSpeedUpdate | Self::ConnectSpeedUpdateEnable
        )
    }

    /// Whether the RFCs forbid hiding this AVP (Message Type, Result Code, Random Vector, Message
    /// Digest, Control Message Authentication Nonce).
    pub fn must_not_be_hidden(self) -> bool {
        matches!(
            self,
            Self::MessageType
                | Self::ResultCode
                | Self::RandomVector
                | Self::MessageDigest
                | Self::ControlMessageAuthNonce
        )
    }
}

impl std::fmt::Display for AvpType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), *self as u16)
    }
}

/// Bits of the Framing Capabilities and Framing Type AVPs (RFC 2661 §4.4.3).
pub mod framing {
    /// Synchronous framing.
    pub const SYNC: u32 = 0x1;
    /// Asynchronous framing.
    pub const ASYNC: u32 = 0x2;
}

/// Bits of the Bearer Capabilities and Bearer Type AVPs (RFC 2661 §4.4.3).
pub mod bearer {
    /// Digital access.
    pub const DIGITAL: u32 = 0x1;
    /// Analog access.
    pub const ANALOG: u32 = 0x2;
}

/// Bits of the Circuit Status AVP (RFC 3931 §5.4.5).
pub mod circuit_status {
    /// The circuit is up.
    pub const ACTIVE: u16 = 0x1;
    /// The status is for a new circuit.
    pub const NEW: u16 = 0x2;
}

/// Pseudowire types (RFC 3931 §10.6, RFC 4719; the Linux kernel's L2TP_PWTYPE_*).
pub mod pw_type {
    /// Ethernet VLAN (RFC 4719).
    pub const ETH_VLAN: u16 = 0x0004;
    /// Ethernet port (RFC 4719).
    pub const ETH: u16 = 0x0005;
    /// PPP (RFC 4591).
    pub const PPP: u16 = 0x0007;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample_len(len: ValueLen, extra: usize) -> usize {
        match len {
            ValueLen::Exactly(n) => n,
            ValueLen::AtLeast(n) => n + extra,
            ValueLen::OneOf(lens) => lens[extra % lens.len()],
            ValueLen::EvenAtLeast(n) => n + 2 * (extra / 2),
            ValueLen::ResultCode => [2, 4, 4 + extra][extra % 3],
        }
    }

    proptest! {
        /// Every known AVP: a value of an allowed length decodes, and re-encoding the decoded
        /// value gives a value that decodes to the same thing.
        #[test]
        fn every_avp_round_trips(index in 0usize..AvpType::ALL.len(), extra in 0usize..40, seed in any::<u64>()) {
            let t = AvpType::ALL[index];
            let len = sample_len(t.value_len(), extra);
            let mut state = seed;
            let bytes: Vec<u8> = (0..len).map(|_| { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (state >> 56) as u8 }).collect();
            let avp = Avp::decode(t, &bytes);
            prop_assert!(avp.is_ok(), "{t}: {len} octets refused");
            let avp = avp.unwrap_or(Avp::Raw(RawValue::default()));
            prop_assert_eq!(avp.avp_type(), Some(t));
            let mut out = Vec::new();
            avp.encode_value(&mut out);
            prop_assert!(t.value_len().allows(out.len()));
            prop_assert_eq!(Avp::decode(t, &out), Ok(avp));
        }

        /// Decoding arbitrary bytes as any AVP never panics.
        #[test]
        fn decode_never_panics(index in 0usize..AvpType::ALL.len(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Avp::decode(AvpType::ALL[index], &bytes);
        }
    }

    #[test]
    fn length_checks_name_the_expectation() {
        assert_eq!(
            Avp::decode(AvpType::AssignedTunnelId, &[1]),
            Err(ValueError::BadLength {
                expected: "2",
                found: 1
            })
        );
        assert_eq!(
            Avp::decode(AvpType::ResultCode, &[0, 1, 2]),
            Err(ValueError::BadLength {
                expected: "2, or at least 4",
                found: 3
            })
        );
        assert!(Avp::decode(AvpType::HostName, &[]).is_err());
        assert!(Avp::decode(AvpType::AssignedCookie, &[1, 2]).is_err());
        // RFC 3931 §5.4.4: an Assigned Cookie of zero length means no cookie.
        assert_eq!(
            Avp::decode(AvpType::AssignedCookie, &[]),
            Ok(Avp::AssignedCookie(Cookie::default()))
        );
        assert!(Avp::decode(AvpType::PseudowireCapabilities, &[0, 5, 0]).is_err());
        assert!(Avp::decode(AvpType::MessageDigest, &[0; 16]).is_err());
    }

    #[test]
    fn result_code_forms_are_exact() {
        for bytes in [&[0u8, 1][..], &[0, 2, 0, 6], &[0, 2, 0, 6, b'h', b'i']] {
            let avp =
                Avp::decode(AvpType::ResultCode, bytes).unwrap_or(Avp::Raw(RawValue::default()));
            let mut out = Vec::new();
            avp.encode_value(&mut out);
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn call_errors_short_v3_form() {
        let mut bytes = vec![0, 0];
        for v in [1u32, 2, 3, 4] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        let Ok(Avp::CallErrors(e)) = Avp::decode(AvpType::CallErrors, &bytes) else {
            panic!()
        };
        assert_eq!(
            (e.crc_errors, e.hardware_overruns, e.alignment_errors),
            (0, 1, 4)
        );
    }

    #[test]
    fn type_numbers_match_the_rfcs() {
        assert_eq!(AvpType::SequencingRequired as u16, 39);
        assert_eq!(AvpType::MessageDigest as u16, 59);
        assert_eq!(AvpType::ControlMessageAuthNonce as u16, 73);
        assert_eq!(AvpType::from_u16(20), None);
        assert_eq!(AvpType::from_u16(75), Some(AvpType::RxConnectSpeedBps));
        assert_eq!(AvpType::from_u16(97), Some(AvpType::ConnectSpeedUpdate));
        assert_eq!(
            AvpType::from_u16(98),
            Some(AvpType::ConnectSpeedUpdateEnable)
        );
        assert!(!AvpType::ConnectSpeedUpdate.is_v3_only());
        assert_eq!(AvpType::ALL.len(), 58);
    }
}
