//! Control messages of L2TPv2 (RFC 2661 §3.2, §6) and L2TPv3 (RFC 3931 §3.1, §6) as typed
//! values, checked against the lists of AVPs each message must carry.
//!
//! A [`Message`] is its type and its AVPs in wire order; typed accessors (`host_name()`,
//! `assigned_tunnel_id()`, …) return the first AVP of each kind. Decoding unhides hidden AVPs
//! (RFC 2661 §4.3), keeps vendor and unknown AVPs raw, and applies RFC 3931 §5.2 and §7.1: an
//! unrecognised or malformed AVP with the M bit set fails the message with a [`MessageError`]
//! whose [`Reaction`] says whether the tunnel (StopCCN) or the session (CDN) must be shut down;
//! without the M bit the AVP is kept raw and reported in [`Message::ignored`].
//!
//! A ZLB acknowledgement (a control header with no AVPs) is not a [`Message`]: callers see its
//! empty body before decoding.

use std::fmt;

use thiserror::Error;

use crate::wire::avp::types::{RawValue, ValueError};
use crate::wire::avp::{self, Avp, AvpIter, AvpType, FramingError, RawAvp};
use crate::wire::header::{ControlHeader, Encapsulation, Version};
use crate::wire::result::{ErrorCode, result_code};
use crate::wire::{access_line, hidden, ranges};

/// Control message types (RFC 2661 §3.2, RFC 3931 §3.1).
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[repr(u16)]
pub enum MessageType {
    /// Start-Control-Connection-Request.
    Sccrq = 1,
    /// Start-Control-Connection-Reply.
    Sccrp = 2,
    /// Start-Control-Connection-Connected.
    Scccn = 3,
    /// Stop-Control-Connection-Notification.
    StopCcn = 4,
    /// Hello.
    Hello = 6,
    /// Outgoing-Call-Request.
    Ocrq = 7,
    /// Outgoing-Call-Reply.
    Ocrp = 8,
    /// Outgoing-Call-Connected.
    Occn = 9,
    /// Incoming-Call-Request.
    Icrq = 10,
    /// Incoming-Call-Reply.
    Icrp = 11,
    /// Incoming-Call-Connected.
    Iccn = 12,
    /// Call-Disconnect-Notify.
    Cdn = 14,
    /// WAN-Error-Notify.
    Wen = 15,
    /// Set-Link-Info.
    Sli = 16,
    /// Explicit Acknowledgement (L2TPv3 only, RFC 3931 §6.15).
    Ack = 20,
    /// Connect-Speed-Update-Notification (RFC 5515 §4.1): a LAC's new connect speeds.
    Csun = 28,
    /// Connect-Speed-Update-Request (RFC 5515 §4.2): an LNS asks for the current speeds.
    Csurq = 29,
}

impl MessageType {
    /// Every message type, in numeric order.
    pub const ALL: [MessageType; 17] = [
        Self::Sccrq,
        Self::Sccrp,
        Self::Scccn,
        Self::StopCcn,
        Self::Hello,
        Self::Ocrq,
        Self::Ocrp,
        Self::Occn,
        Self::Icrq,
        Self::Icrp,
        Self::Iccn,
        Self::Cdn,
        Self::Wen,
        Self::Sli,
        Self::Ack,
        Self::Csun,
        Self::Csurq,
    ];

    /// The type with this Message Type value, if defined.
    pub fn from_u16(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u16 == value)
    }

    /// The RFCs' abbreviation, e.g. `SCCRQ`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sccrq => "SCCRQ",
            Self::Sccrp => "SCCRP",
            Self::Scccn => "SCCCN",
            Self::StopCcn => "StopCCN",
            Self::Hello => "HELLO",
            Self::Ocrq => "OCRQ",
            Self::Ocrp => "OCRP",
            Self::Occn => "OCCN",
            Self::Icrq => "ICRQ",
            Self::Icrp => "ICRP",
            Self::Iccn => "ICCN",
            Self::Cdn => "CDN",
            Self::Wen => "WEN",
            Self::Sli => "SLI",
            Self::Ack => "ACK",
            Self::Csun => "CSUN",
            Self::Csurq => "CSURQ",
        }
    }

    /// Whether the message belongs to a session (call management, error and link messages)
    /// rather than to the control connection. Decides between CDN and StopCCN (RFC 3931 §5.2).
    pub fn is_session_message(self) -> bool {
        matches!(
            self,
            Self::Ocrq
                | Self::Ocrp
                | Self::Occn
                | Self::Icrq
                | Self::Icrp
                | Self::Iccn
                | Self::Cdn
                | Self::Wen
                | Self::Sli
        )
    }

    /// The AVPs besides Message Type that the message MUST carry in this version
    /// (RFC 2661 §6.1-§6.14, RFC 3931 §6.1-§6.15).
    pub fn required_avps(self, version: Version) -> &'static [AvpType] {
        use AvpType::*;
        match (version, self) {
            (Version::V2, Self::Sccrq | Self::Sccrp) => &[
                ProtocolVersion,
                HostName,
                FramingCapabilities,
                AssignedTunnelId,
            ],
            (Version::V2, Self::StopCcn) => &[AssignedTunnelId, ResultCode],
            (Version::V2, Self::Icrq) => &[AssignedSessionId, CallSerialNumber],
            (Version::V2, Self::Icrp | Self::Ocrp) => &[AssignedSessionId],
            (Version::V2, Self::Iccn | Self::Occn) => &[TxConnectSpeed, FramingType],
            (Version::V2, Self::Ocrq) => &[
                AssignedSessionId,
                CallSerialNumber,
                MinimumBps,
                MaximumBps,
                BearerType,
                FramingType,
                CalledNumber,
            ],
            (Version::V2, Self::Cdn) => &[ResultCode, AssignedSessionId],
            (Version::V2, Self::Wen) => &[CallErrors],
            (Version::V2, Self::Sli) => &[Accm],
            (Version::V3, Self::Sccrq | Self::Sccrp) => &[
                HostName,
                RouterId,
                AssignedConnectionId,
                PseudowireCapabilities,
            ],
            (Version::V3, Self::StopCcn) => &[ResultCode],
            (Version::V3, Self::Icrq | Self::Ocrq) => &[
                LocalSessionId,
                RemoteSessionId,
                CallSerialNumber,
                PseudowireType,
                RemoteEndId,
                CircuitStatus,
            ],
            (Version::V3, Self::Icrp | Self::Ocrp) => {
                &[LocalSessionId, RemoteSessionId, CircuitStatus]
            }
            (Version::V3, Self::Iccn | Self::Occn | Self::Sli) => {
                &[LocalSessionId, RemoteSessionId]
            }
            (Version::V3, Self::Cdn) => &[ResultCode, LocalSessionId, RemoteSessionId],
            (Version::V3, Self::Wen) => &[LocalSessionId, RemoteSessionId, CallErrors],
            _ => &[],
        }
    }
}

/// The name of a message type that RFCs other than RFC 2661 and RFC 3931 define and this
/// implementation does not implement (IANA's L2TP Message Type registry), for logs. Sent with
/// the M bit clear, as those RFCs ask, such a message is acknowledged and ignored (RFC 2661
/// §4.4.1, RFC 3931 §5.4.1); with the M bit set it clears the control connection like any
/// message type we do not know.
pub fn unsupported_message_name(value: u16) -> Option<&'static str> {
    Some(match value {
        17 => "Modem-Status",
        18 => "Service-Relay-Request",
        19 => "Service-Relay-Reply",
        21 => "FSQ (Failover-Session-Query, RFC 4951)",
        22 => "FSR (Failover-Session-Response, RFC 4951)",
        23 => "MSRQ (Multicast-Session-Request, RFC 4045)",
        24 => "MSRP (Multicast-Session-Response, RFC 4045)",
        25 => "MSE (Multicast-Session-Establishment, RFC 4045)",
        26 => "MSI (Multicast-Session-Information, RFC 4045)",
        27 => "MSEN (Multicast-Session-End-Notify, RFC 4045)",
        _ => return None,
    })
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One AVP of a message with its header bits.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub struct AvpEntry {
    /// The M bit.
    pub mandatory: bool,
    /// The H bit: the value is (to be) hidden with the secret and the Random Vector before it.
    pub hidden: bool,
    /// The value.
    pub avp: Avp,
    /// For a hidden AVP, the random padding after the value inside the hidden subformat
    /// (RFC 2661 §4.3). The caller fills it from its RNG when encoding; decoding keeps it, so a
    /// decoded message re-encodes byte for byte.
    pub padding: Vec<u8>,
}

impl AvpEntry {
    /// An unhidden AVP with the M bit the RFC asks for in `version`.
    pub fn new(avp: Avp, version: Version) -> Self {
        let mandatory = match avp.avp_type() {
            Some(t) => t.default_mandatory(version),
            None => false,
        };
        Self {
            mandatory,
            hidden: false,
            avp,
            padding: Vec::new(),
        }
    }
}

/// A control message other than a ZLB.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Message {
    /// The message type.
    pub message_type: MessageType,
    /// Every AVP after the Message Type AVP, in wire order.
    pub avps: Vec<AvpEntry>,
    /// AVPs without the M bit that could not be decoded and were kept raw instead (RFC 3931
    /// §7.1). Not part of the encoding; reported so that the caller can log them.
    pub ignored: Vec<MessageError>,
}

/// What the RFCs require of a receiver faced with a bad message.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Reaction {
    /// Acknowledge the message but otherwise ignore it (an unknown message type without the M
    /// bit, RFC 3931 §5.4.1).
    Ignore,
    /// Shut the control connection down with a StopCCN carrying this result and error code.
    StopCcn {
        /// Result code (RFC 2661 §4.4.2).
        result: u16,
        /// General error code.
        error: ErrorCode,
    },
    /// Shut the session down with a CDN carrying this result and error code.
    Cdn {
        /// Result code (RFC 2661 §4.4.2).
        result: u16,
        /// General error code.
        error: ErrorCode,
    },
}

/// What is wrong with a control message body.
#[derive(Clone, Debug, Eq, Error, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// The AVP list's framing is broken.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// The first AVP is not a Message Type AVP (RFC 2661 §4.4.1: it MUST be first).
    #[error("the first AVP is not Message Type")]
    NoMessageType,
    /// The Message Type AVP is hidden (RFC 2661 §4.4.1: it MUST NOT be).
    #[error("the Message Type AVP is hidden")]
    MessageTypeHidden,
    /// The message type is not defined, or is a vendor message type.
    #[error("unknown message type {value} (vendor {vendor_id})")]
    UnknownMessageType {
        /// The Vendor ID of the Message Type AVP.
        vendor_id: u16,
        /// The Message Type value.
        value: u16,
    },
    /// An AVP with the M bit set that this implementation does not recognise.
    #[error("unrecognised AVP with the M bit set")]
    UnknownMandatoryAvp,
    /// An L2TPv2 AVP with a reserved bit of its header set, which RFC 2661 §4.1 says to treat
    /// as an unrecognized AVP (L2TPv3 ignores the bits, RFC 3931 §5.1).
    #[error("reserved bit set in the AVP header: treated as unrecognised")]
    ReservedBits,
    /// A value of the wrong format.
    #[error(transparent)]
    BadValue(#[from] ValueError),
    /// A hidden AVP with no Random Vector AVP before it.
    #[error("hidden AVP without a preceding Random Vector")]
    HiddenWithoutRandomVector,
    /// A hidden AVP, but no shared secret is configured.
    #[error("hidden AVP but no shared secret is configured")]
    HiddenWithoutSecret,
    /// The hidden value could not be recovered.
    #[error("cannot unhide: {0}")]
    Unhide(#[from] hidden::HiddenError),
    /// A required AVP is absent.
    #[error("missing required AVP")]
    MissingAvp,
}

/// A control message that cannot be accepted, with where the problem is and what to do.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct MessageError {
    /// The message type, when it could be read.
    pub message_type: Option<MessageType>,
    /// The offending AVP as (Vendor ID, Attribute Type), when there is one.
    pub avp: Option<(u16, u16)>,
    /// The offending AVP's M bit.
    pub mandatory: bool,
    /// Offset of the offending AVP from the start of the AVP list.
    pub offset: usize,
    /// What is wrong.
    pub fault: Fault,
}

impl MessageError {
    /// The reaction RFC 3931 §5.2 and §7.1 (and RFC 2661 §4.2) require.
    ///
    /// - an unknown message type: ignored without the M bit, else the control connection is
    ///   cleared (RFC 3931 §5.4.1);
    /// - an unrecognised AVP with the M bit: StopCCN or CDN, result 2, error 8 (§5.2);
    /// - a malformed AVP with the M bit: StopCCN or CDN, result 2, error 2 (wrong length) or
    ///   3 (value out of range, such as an id of 0, or an AVP hidden that MUST NOT be), since
    ///   §7.1 treats it as unrecognised; an L2TPv2 AVP with a reserved header bit set is
    ///   unrecognised (RFC 2661 §4.1: error 8);
    /// - a missing required AVP or broken framing: StopCCN or CDN, result 2, error 6 with the
    ///   message naming the fault (§7.1: the connection is cleared to recover).
    pub fn reaction(&self) -> Reaction {
        let error = match &self.fault {
            Fault::UnknownMessageType { .. } if !self.mandatory => return Reaction::Ignore,
            Fault::UnknownMessageType { .. } | Fault::NoMessageType | Fault::MessageTypeHidden => {
                return Reaction::StopCcn {
                    result: result_code::stop_ccn::GENERAL_ERROR,
                    error: ErrorCode::VendorSpecific,
                };
            }
            Fault::UnknownMandatoryAvp | Fault::ReservedBits => ErrorCode::UnknownMandatoryAvp,
            Fault::BadValue(ValueError::BadLength { .. }) | Fault::Framing(_) => {
                ErrorCode::BadLength
            }
            Fault::BadValue(_) => ErrorCode::BadValue,
            Fault::HiddenWithoutRandomVector | Fault::HiddenWithoutSecret | Fault::Unhide(_) => {
                ErrorCode::BadValue
            }
            Fault::MissingAvp => ErrorCode::VendorSpecific,
        };
        match self.message_type {
            Some(t) if t.is_session_message() => Reaction::Cdn {
                result: result_code::cdn::GENERAL_ERROR,
                error,
            },
            _ => Reaction::StopCcn {
                result: result_code::stop_ccn::GENERAL_ERROR,
                error,
            },
        }
    }

    /// For a message whose type we do not implement and whose Message Type AVP has the M bit
    /// clear (which the RFCs let us acknowledge and ignore, not a malformed message): its
    /// Vendor ID and Message Type.
    pub fn ignorable_message_type(&self) -> Option<(u16, u16)> {
        match self.fault {
            Fault::UnknownMessageType { vendor_id, value } if !self.mandatory => {
                Some((vendor_id, value))
            }
            _ => None,
        }
    }

    /// The offending AVP's name, e.g. `Host Name (7)` or `vendor 9 attribute 77`.
    pub fn avp_name(&self) -> Option<String> {
        let (vendor, attr) = self.avp?;
        Some(match AvpType::from_u16(attr) {
            Some(t) if vendor == 0 => t.to_string(),
            _ => format!("vendor {vendor} attribute {attr}"),
        })
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message_type {
            Some(t) => write!(f, "{t}")?,
            None => f.write_str("control message")?,
        }
        if let Some(name) = self.avp_name() {
            write!(f, ": AVP {name}")?;
            if self.mandatory {
                f.write_str(" [M]")?;
            }
        }
        write!(f, " at offset {}: {}", self.offset, self.fault)
    }
}

impl std::error::Error for MessageError {}

/// What decoding needs beyond the bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeContext<'a> {
    /// The header's version, which selects the required-AVP lists.
    pub version: Option<Version>,
    /// The key derived from the tunnel's shared secret, to unhide hidden AVPs.
    pub hiding_key: Option<&'a hidden::HidingKey>,
}

/// Why a message cannot be encoded.
#[derive(Clone, Copy, Debug, Eq, Error, PartialEq)]
#[non_exhaustive]
pub enum EncodeError {
    /// An AVP is to be hidden but no Random Vector AVP comes before it.
    #[error("{0}: hidden AVP without a preceding Random Vector")]
    HiddenWithoutRandomVector(&'static str),
    /// An AVP is to be hidden but no secret was given.
    #[error("{0}: hidden AVP but no secret")]
    HiddenWithoutSecret(&'static str),
    /// The message would exceed the 16-bit Length field.
    #[error("message of {0} octets is too long")]
    TooLong(usize),
    /// An AVP value does not fit the 10-bit AVP Length field.
    #[error("AVP value of {0} octets is too long")]
    AvpTooLong(usize),
}

impl Message {
    /// An empty message of the given type.
    pub fn new(message_type: MessageType) -> Self {
        Self {
            message_type,
            avps: Vec::new(),
            ignored: Vec::new(),
        }
    }

    /// Appends an AVP with the M bit the RFC asks for in `version`.
    pub fn push(&mut self, avp: Avp, version: Version) -> &mut Self {
        self.avps.push(AvpEntry::new(avp, version));
        self
    }

    /// Decodes the AVPs of a control message (the body after the header, non-empty).
    pub fn decode(body: &[u8], ctx: DecodeContext<'_>) -> Result<Self, MessageError> {
        let mut iter = AvpIter::new(body);
        let no_type = |fault| MessageError {
            message_type: None,
            avp: None,
            mandatory: true,
            offset: 0,
            fault,
        };
        let first = match iter.next() {
            Some(Ok(first)) => first,
            Some(Err(framing)) => return Err(no_type(Fault::Framing(framing.error))),
            None => return Err(no_type(Fault::NoMessageType)),
        };
        let message_type = message_type_of(&first)?;
        let mut message = Self::new(message_type);
        let mut random_vector: Option<&[u8]> = None;
        for raw in iter {
            let raw = raw.map_err(|framing| {
                let (mandatory, vendor, attr) = framing.header.unwrap_or((true, 0, 0));
                MessageError {
                    message_type: Some(message_type),
                    avp: framing.header.map(|_| (vendor, attr)),
                    mandatory,
                    offset: framing.offset,
                    fault: Fault::Framing(framing.error),
                }
            })?;
            let fail = |fault| MessageError {
                message_type: Some(message_type),
                avp: Some((raw.vendor_id, raw.attr_type)),
                mandatory: raw.mandatory,
                offset: raw.offset,
                fault,
            };
            match message.decode_avp(&raw, random_vector, ctx) {
                Ok(entry) => {
                    if let Avp::RandomVector(_) = entry.avp {
                        // RFC 2661 §4.3: hidden AVPs use the last Random Vector before them.
                        random_vector = Some(raw.value);
                    }
                    message.avps.push(entry);
                }
                // RFC 3931 §5.2 / §7.1: without the M bit an AVP we cannot use is ignored.
                Err(fault) if !raw.mandatory && !matches!(fault, Fault::UnknownMandatoryAvp) => {
                    message.ignored.push(fail(fault));
                    message.avps.push(raw_entry(&raw));
                }
                Err(fault) => return Err(fail(fault)),
            }
        }
        if let Some(version) = ctx.version {
            message.check_values(version, body)?;
            message.check_required(version)?;
        }
        Ok(message)
    }

    /// Applies [`ranges::check_message`]: an identifier that must be non-zero and is 0 fails
    /// the message when its AVP has the M bit, and is ignored (kept raw, so that a required
    /// AVP is then missing) when it has not (RFC 2661 §7.1, RFC 3931 §7.1).
    fn check_values(&mut self, version: Version, body: &[u8]) -> Result<(), MessageError> {
        while let Some((i, fault)) = ranges::check_message(self, version) {
            let entry = &self.avps[i];
            let error = MessageError {
                message_type: Some(self.message_type),
                avp: Some(entry.avp.id()),
                mandatory: entry.mandatory,
                // `avps[i]` is the AVP after the Message Type and `i` others: found again only
                // on this (rare) path, so that decoding allocates nothing for it.
                offset: AvpIter::new(body)
                    .nth(i + 1)
                    .and_then(Result::ok)
                    .map_or(0, |raw| raw.offset),
                fault: Fault::BadValue(fault),
            };
            if entry.mandatory {
                return Err(error);
            }
            let (vendor_id, attr_type) = entry.avp.id();
            let mut value = Vec::new();
            entry.avp.encode_value(&mut value);
            self.avps[i].avp = Avp::Raw(RawValue {
                vendor_id,
                attr_type,
                value,
            });
            self.ignored.push(error);
        }
        Ok(())
    }

    /// Checks that every AVP `version` requires for this message type is present.
    pub fn check_required(&self, version: Version) -> Result<(), MessageError> {
        for required in self.message_type.required_avps(version) {
            let present = self
                .avps
                .iter()
                .any(|e| e.avp.avp_type() == Some(*required));
            if !present {
                return Err(MessageError {
                    message_type: Some(self.message_type),
                    avp: Some((0, *required as u16)),
                    mandatory: true,
                    offset: 0,
                    fault: Fault::MissingAvp,
                });
            }
        }
        Ok(())
    }

    fn decode_avp(
        &self,
        raw: &RawAvp<'_>,
        random_vector: Option<&[u8]>,
        ctx: DecodeContext<'_>,
    ) -> Result<AvpEntry, Fault> {
        let known = AvpType::from_u16(raw.attr_type).filter(|_| raw.vendor_id == 0);
        if raw.reserved && ctx.version == Some(Version::V2) {
            return Err(Fault::ReservedBits);
        }
        let mut padding = Vec::new();
        let unhidden;
        let value = if raw.hidden {
            // The message's own structure first: with no Random Vector before it, a hidden AVP
            // is malformed whatever the configuration (RFC 2661 §4.3).
            let rv = random_vector.ok_or(Fault::HiddenWithoutRandomVector)?;
            if known.is_some_and(AvpType::never_hidden) {
                return Err(Fault::BadValue(ValueError::MustNotBeHidden));
            }
            let key = ctx.hiding_key.ok_or(Fault::HiddenWithoutSecret)?;
            let (value, pad) = hidden::unhide_with_padding(raw.attr_type, raw.value, key, rv)?;
            padding = pad;
            unhidden = value;
            &unhidden[..]
        } else {
            raw.value
        };
        let avp = match known {
            Some(t) => {
                let avp = Avp::decode(t, value)?;
                ranges::check_avp(&avp)?;
                avp
            }
            // RFC 5515 §5: a LAC may set the M bit of the Access Line AVPs, which we know.
            None if raw.mandatory && !access_line::is_known(raw.vendor_id, raw.attr_type) => {
                return Err(Fault::UnknownMandatoryAvp);
            }
            None => Avp::Raw(RawValue {
                vendor_id: raw.vendor_id,
                attr_type: raw.attr_type,
                value: value.to_vec(),
            }),
        };
        Ok(AvpEntry {
            mandatory: raw.mandatory,
            hidden: raw.hidden,
            avp,
            padding,
        })
    }

    /// Appends the encoded AVP list (Message Type first) to `out`. Entries marked hidden are
    /// hidden with `key` and the last Random Vector AVP before them.
    pub fn encode_body(
        &self,
        key: Option<&hidden::HidingKey>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        avp::emit_raw(
            out,
            true,
            false,
            0,
            AvpType::MessageType as u16,
            &(self.message_type as u16).to_be_bytes(),
        );
        let mut random_vector: Option<&[u8]> = None;
        let mut value = Vec::new();
        for entry in &self.avps {
            value.clear();
            entry.avp.encode_value(&mut value);
            let (vendor_id, attr_type) = entry.avp.id();
            let name = entry.avp.avp_type().map_or("vendor AVP", AvpType::name);
            if let Avp::RandomVector(rv) = &entry.avp {
                random_vector = Some(rv);
            }
            if entry.hidden {
                let rv = random_vector.ok_or(EncodeError::HiddenWithoutRandomVector(name))?;
                let key = key.ok_or(EncodeError::HiddenWithoutSecret(name))?;
                value = hidden::hide(attr_type, &value, key, rv, &entry.padding)
                    .map_err(|_| EncodeError::AvpTooLong(value.len() + entry.padding.len()))?;
            }
            if value.len() > avp::MAX_AVP_VALUE_LEN {
                return Err(EncodeError::AvpTooLong(value.len()));
            }
            avp::emit_raw(
                out,
                entry.mandatory,
                entry.hidden,
                vendor_id,
                attr_type,
                &value,
            );
        }
        Ok(())
    }

    /// Encodes the whole control message with its header. Over IP the zero session id comes
    /// first (RFC 3931 §4.1.1.2).
    pub fn encode(
        &self,
        header: &ControlHeader,
        encap: Encapsulation,
        key: Option<&hidden::HidingKey>,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut body = Vec::with_capacity(128);
        self.encode_body(key, &mut body)?;
        let total = ControlHeader::wire_len(encap) + body.len();
        if total > crate::wire::header::MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong(total));
        }
        let mut out = Vec::with_capacity(total);
        header.emit(encap, body.len(), &mut out);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Every AVP of a kind, in order (for AVPs that may repeat, such as Random Vector).
    pub fn all(&self, avp_type: AvpType) -> impl Iterator<Item = &Avp> {
        self.avps
            .iter()
            .map(|e| &e.avp)
            .filter(move |a| a.avp_type() == Some(avp_type))
    }
}

fn message_type_of(first: &RawAvp<'_>) -> Result<MessageType, MessageError> {
    let fail = |fault| MessageError {
        message_type: None,
        avp: Some((first.vendor_id, first.attr_type)),
        mandatory: first.mandatory,
        offset: 0,
        fault,
    };
    if first.attr_type != AvpType::MessageType as u16 || first.value.len() != 2 {
        return Err(fail(Fault::NoMessageType));
    }
    if first.hidden {
        return Err(fail(Fault::MessageTypeHidden));
    }
    let value = u16::from_be_bytes([first.value[0], first.value[1]]);
    match MessageType::from_u16(value) {
        Some(t) if first.vendor_id == 0 => Ok(t),
        _ => Err(fail(Fault::UnknownMessageType {
            vendor_id: first.vendor_id,
            value,
        })),
    }
}

fn raw_entry(raw: &RawAvp<'_>) -> AvpEntry {
    AvpEntry {
        mandatory: raw.mandatory,
        hidden: raw.hidden,
        avp: Avp::Raw(RawValue {
            vendor_id: raw.vendor_id,
            attr_type: raw.attr_type,
            value: raw.value.to_vec(),
        }),
        padding: Vec::new(),
    }
}

impl AvpType {
    /// The M bit RFC 2661 §4.4 or RFC 3931 §5.4 asks a sender to set on this AVP.
    pub fn default_mandatory(self, version: Version) -> bool {
        use AvpType::*;
        match version {
            Version::V2 => {
                !matches!(
                    self,
                    TieBreaker
                        | FirmwareRevision
                        | VendorName
                        | PhysicalChannelId
                        | InitialReceivedLcpConfreq
                        | LastSentLcpConfreq
                        | LastReceivedLcpConfreq
                        | ProxyAuthenType
                        | ProxyAuthenName
                        | ProxyAuthenChallenge
                        | ProxyAuthenId
                        | ProxyAuthenResponse
                        | PrivateGroupId
                        | RxConnectSpeed
                        | ExtendedVendorId
                ) && !self.is_v3_only()
                    && !self.is_rfc5515()
            }
            Version::V3 => !matches!(
                self,
                VendorName
                    | CallSerialNumber
                    | PreferredLanguage
                    | TxConnectSpeedBps
                    | RxConnectSpeedBps
                    | PhysicalChannelId
                    | CallErrors
                    | ExtendedVendorId
                    | FirmwareRevision
                    | ConnectSpeedUpdate
                    | ConnectSpeedUpdateEnable
            ),
        }
    }
}
