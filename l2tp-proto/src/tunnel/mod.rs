//! The control connection (tunnel) state machine of L2TPv2 (RFC 2661 §7.2.1) and L2TPv3
//! (RFC 3931 §3.3, §7.2), for the initiator and the recipient, on top of
//! [`crate::reliable::ReliableChannel`].
//!
//! Read RFC 2661 §5, §7.2 and Appendix B, and RFC 3931 §3.3, §4.3, §4.4, §4.7.3, §5.4 and §7.2
//! before editing this module.
//!
//! The module is split by concern: `config` (the profile), `handshake` (SCCRQ/SCCRP/SCCCN,
//! admission, tie breaking, version choice, authentication) and `running` (receipt, in-order
//! dispatch, timers, teardown). The handlers are methods of [`Endpoint`] rather than of
//! the tunnel record: a tunnel's transitions create and destroy sessions, emit events and arm the
//! endpoint's timer heap, and keeping them on the endpoint avoids threading a context of
//! half a dozen borrowed queues through every call.
//!
//! Decisions taken where the RFCs leave room:
//!
//! - **Version.** [`VersionMode::V3WithFallback`] over UDP sends the RFC 3931 §4.7.3 probe: an
//!   SCCRQ with Ver=2, all L2TPv2 AVPs, and the L2TPv3 AVPs with M=0; the local id fits 16 bits
//!   so that Assigned Tunnel ID and Assigned Control Connection ID agree. The Ver of the first
//!   reply decides. A recipient answers a probe in L2TPv3 unless its profile says version 2.
//! - **Authentication.** L2TPv2 uses Challenge/Response in both directions (RFC 2661 §5.1.1);
//!   L2TPv3 uses the Message Digest with nonces (RFC 3931 §4.3), signed with the hash the
//!   profile chooses ([`TunnelConfig::digest_type`]) and checked with the one each received
//!   digest names. A digest failure on the SCCRQ or on the SCCRP is a refusal with StopCCN
//!   result 4 (the RFC's "not acceptable"), since dropping the very first message would only
//!   make the peer retransmit until it gives up; later messages failing the digest are dropped
//!   (RFC 3931 §5.4.1). [`AuthMode::Simple`] checks the
//!   peer's Host Name against [`TunnelConfig::peer_host_name`].
//! - **Tie breaker.** An SCCRQ from an address to which we have an SCCRQ outstanding is compared
//!   by Tie Breaker (lower wins, RFC 2661 §4.4.3, RFC 3931 §5.4.3). The loser discards its own
//!   tunnel silently; the winner refuses the losing SCCRQ with StopCCN result 3 (RFC 3931: "A
//!   StopCCN SHOULD be sent by the winner"), which also keeps a record so that late
//!   retransmissions of it do not open a second tunnel. "Same peer" means the same IP address
//!   and the same encapsulation: a tunnel over UDP and one over IP are no tie.
//! - **Hidden AVPs** are never used in SCCRQ and SCCRP: a recipient can only pick the secret
//!   once it has read the whole SCCRQ, and the hiding key of a v3→v2 probe depends on the
//!   version, which the reply decides. Hidden values are padded with random octets to at least
//!   16 octets plus up to 15 more (RFC 2661 §4.3), so that their length tells nothing.
//! - **Closing.** After StopCCN, sent or received, the tunnel stays in the `closing` state for
//!   the full retransmission span ([`crate::reliable::Config::retransmission_span`]) so that
//!   the peer's retransmissions are acknowledged, then it is deleted. Its sessions and
//!   data-plane state are removed at once.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{self, ResponseMessage, Secret};
use crate::endpoint::Endpoint;
use crate::event::{
    DataplaneRequest, DownCause, DownReason, Event, Origin, Refusal, TunnelHandle, TunnelParams,
};
use crate::reliable::{self, ReliableChannel};
use crate::rng::Rng;
use crate::seq::Seq;
use crate::time::Instant;
use crate::timer::{Owner, TimerKind, TimerTable};
use crate::wire::avp::types::{ProtocolVersion, ResultCode, bearer, framing, pw_type};
use crate::wire::avp::{Avp, AvpIter, AvpType};
use crate::wire::digest::{self, DigestKey, DigestType, Nonces};
use crate::wire::header::{ControlHeader, Encapsulation, Version};
use crate::wire::hidden::HidingKey;
use crate::wire::message::{AvpEntry, DecodeContext, Message, MessageError, MessageType};
use crate::wire::result::result_code::stop_ccn;

mod config;
mod handshake;
mod running;

pub use config::{AuthMode, TunnelConfig, VersionMode};

/// Control connection states, named as in RFC 2661 §7.2.1 and RFC 3931 §7.2, plus `closing`.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum TunnelState {
    /// No control connection yet; a recipient waits here for the caller's decision.
    Idle,
    /// The initiator sent SCCRQ and waits for SCCRP.
    WaitCtlReply,
    /// The recipient sent SCCRP and waits for SCCCN.
    WaitCtlConn,
    /// The control connection is up.
    Established,
    /// StopCCN was sent or received; kept for the retransmission span, then deleted.
    Closing,
}

impl fmt::Display for TunnelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::WaitCtlReply => "wait-ctl-reply",
            Self::WaitCtlConn => "wait-ctl-conn",
            Self::Established => "established",
            Self::Closing => "closing",
        })
    }
}

/// A message queued on the reliable channel: encoded with Ns/Nr zero, patched (and re-signed)
/// at each transmission.
#[derive(Debug)]
pub(crate) struct OutMsg {
    pub(crate) bytes: Vec<u8>,
    /// Carries a Message Digest AVP to (re)compute.
    pub(crate) signed: bool,
    pub(crate) message_type: MessageType,
}

/// A message accepted by the reliable channel, delivered in order.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) ns: Seq,
    /// The Session ID field of an L2TPv2 header (0 in L2TPv3).
    pub(crate) session_id: u16,
    pub(crate) message: Result<Message, MessageError>,
    /// For an undecodable ICRQ or OCRQ: the session id the peer assigned, read from the raw
    /// AVPs (0 when it has none, or assigned 0), so that the call can be refused with a CDN
    /// (RFC 2661 §4.1); else `None`.
    pub(crate) peer_session: Option<u32>,
}

/// Keys and values of tunnel authentication.
#[derive(Debug, Default)]
pub(crate) struct Security {
    /// The Challenge we sent (L2TPv2).
    pub(crate) challenge: Option<Vec<u8>>,
    /// A Challenge the peer sent that we must answer in our next SCCRP/SCCCN.
    pub(crate) peer_challenge: Option<Vec<u8>>,
    /// Our Control Message Authentication Nonce (L2TPv3).
    pub(crate) nonce: Vec<u8>,
    /// The peer's nonce.
    pub(crate) peer_nonce: Vec<u8>,
    /// Set when Message Digests are in use.
    pub(crate) digest_key: Option<DigestKey>,
    /// The key for hidden AVPs of the version in use.
    pub(crate) hiding_key: Option<HidingKey>,
    /// The SCCRQ being answered failed authentication.
    pub(crate) sccrq_failed: bool,
}

/// An SCCRQ waiting for the caller's decision.
#[derive(Debug)]
pub(crate) struct PendingSccrq {
    pub(crate) datagram: Vec<u8>,
    pub(crate) header_version: Version,
    pub(crate) offers_v3: bool,
    pub(crate) peer_key: u32,
    pub(crate) refusal: Option<Refusal>,
}

/// One control connection.
#[derive(Debug)]
pub(crate) struct Tunnel {
    pub(crate) handle: TunnelHandle,
    pub(crate) config: Arc<TunnelConfig>,
    pub(crate) state: TunnelState,
    pub(crate) version: Version,
    /// We sent an RFC 3931 §4.7.3 probe; the reply's Ver decides the version.
    pub(crate) probing: bool,
    pub(crate) origin: Origin,
    pub(crate) local_id: u32,
    pub(crate) peer_id: u32,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) encap: Encapsulation,
    pub(crate) channel: ReliableChannel<OutMsg, Inbound>,
    pub(crate) security: Security,
    pub(crate) tie_breaker: Option<u64>,
    pub(crate) peer_host_name: Vec<u8>,
    pub(crate) sessions: Vec<u32>,
    pub(crate) timers: TimerTable,
    pub(crate) last_rx: Instant,
    pub(crate) scheduled: Option<Instant>,
    pub(crate) pending: Option<Box<PendingSccrq>>,
    /// The (remote, peer's assigned id) key under which an SCCRQ from the peer is known.
    pub(crate) peer_key: Option<u32>,
    pub(crate) installed: bool,
    pub(crate) announced: bool,
    pub(crate) expected_ns: Seq,
}

impl Tunnel {
    fn new(
        handle: TunnelHandle,
        config: Arc<TunnelConfig>,
        origin: Origin,
        local: SocketAddr,
        remote: SocketAddr,
        encap: Encapsulation,
        now: Instant,
    ) -> Self {
        Self {
            handle,
            channel: ReliableChannel::new(config.reliable_config()),
            config,
            state: TunnelState::Idle,
            version: Version::V3,
            probing: false,
            origin,
            local_id: 0,
            peer_id: 0,
            local,
            remote,
            encap,
            security: Security::default(),
            tie_breaker: None,
            peer_host_name: Vec::new(),
            sessions: Vec::new(),
            timers: TimerTable::default(),
            last_rx: now,
            scheduled: None,
            pending: None,
            peer_key: None,
            installed: false,
            announced: false,
            expected_ns: Seq::ZERO,
        }
    }

    /// The earliest deadline of the tunnel and its channel.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match (self.timers.next(), self.channel.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sets the keys for the version in use.
    fn set_version(&mut self, version: Version) {
        self.version = version;
        let secret = &self.config.secret;
        self.security.hiding_key = match version {
            Version::V2 => HidingKey::v2(secret).ok(),
            Version::V3 => HidingKey::v3(secret).ok(),
        };
        if version == Version::V2 {
            self.security.digest_key = None;
        }
    }

    fn push(&self, msg: &mut Message, avp: Avp) {
        msg.push(avp, self.version);
    }

    /// Encodes `msg` for this tunnel: hides what should be hidden (with `hiding`: the Random
    /// Vector and the source of each hidden value's padding), adds the Message Digest
    /// placeholder, and lays out the header with Ns/Nr zero.
    pub(crate) fn encode(
        &self,
        mut msg: Message,
        v2_session: u16,
        hiding: Option<(Vec<u8>, &mut dyn Rng)>,
    ) -> OutMsg {
        // Nothing is hidden in SCCRQ and SCCRP: a responder can only pick the secret (by peer
        // address or Host Name) once it has read the whole SCCRQ, and implementations such as
        // xl2tpd unhide before they know it. Nor in the SCCCN, whose Challenge Response is the
        // proof of the secret (a digest, RFC 2661 §5.1.1): hidden under a different secret it
        // could not even be read, and the peer could not tell a wrong secret from a malformed
        // message. Nor in a StopCCN that ends the tunnel before it is up: it may refuse the
        // peer for not sharing the secret, and the peer must still read its result code.
        // RFC 2661 §4.3 makes hiding optional per AVP.
        let refusing =
            msg.message_type == MessageType::StopCcn && self.state != TunnelState::Established;
        let hide_here = !matches!(
            msg.message_type,
            MessageType::Sccrq | MessageType::Sccrp | MessageType::Scccn
        ) && !refusing;
        if let (Some((rv, rng)), true) = (hiding, self.hides() && hide_here) {
            let mut any = false;
            for entry in &mut msg.avps {
                if entry
                    .avp
                    .avp_type()
                    .is_some_and(|t| hideable(t, self.version))
                {
                    entry.hidden = true;
                    let mut value = Vec::new();
                    entry.avp.encode_value(&mut value);
                    entry.padding = vec![0; hidden_padding_len(value.len(), rng)];
                    rng.fill(&mut entry.padding);
                    any = true;
                }
            }
            if any {
                msg.avps
                    .insert(0, AvpEntry::new(Avp::RandomVector(rv), self.version));
            }
        }
        let signed =
            self.security.digest_key.is_some() && (self.version == Version::V3 || self.probing);
        if signed {
            let mut entry = AvpEntry::new(
                Avp::MessageDigest(crate::wire::avp::types::MessageDigest {
                    digest_type: self.config.digest_type as u8,
                    digest: vec![0; self.config.digest_type.digest_len()],
                }),
                Version::V3,
            );
            entry.mandatory = !self.probing;
            msg.avps.insert(0, entry);
        }
        let header = ControlHeader {
            version: self.version,
            tunnel_id: self.peer_id,
            session_id: v2_session,
            ns: 0,
            nr: 0,
        };
        let message_type = msg.message_type;
        let bytes = msg
            .encode(&header, self.encap, self.security.hiding_key.as_ref())
            .unwrap_or_default();
        OutMsg {
            bytes,
            signed,
            message_type,
        }
    }

    /// Whether AVPs are hidden in messages we send now.
    fn hides(&self) -> bool {
        self.config.hide_avps
            && self.security.hiding_key.is_some()
            && !self.probing
            && (self.version == Version::V2 || self.security.digest_key.is_some())
    }

    /// Patches Ns/Nr into an encoded message and signs it if needed.
    pub(crate) fn finish(&self, bytes: &mut [u8], signed: bool, ns: Seq, nr: Seq, sccrq: bool) {
        ControlHeader::patch_sequence(bytes, self.encap, ns.value(), nr.value());
        let Some(key) = self.security.digest_key.as_ref().filter(|_| signed) else {
            return;
        };
        let start =
            ControlHeader::wire_len(self.encap) - ControlHeader::wire_len(Encapsulation::Udp);
        let nonces = if sccrq {
            Nonces::Sccrq
        } else {
            Nonces::Exchanged {
                sender: &self.security.nonce,
                receiver: &self.security.peer_nonce,
            }
        };
        let ty = self.config.digest_type;
        let field = digest::field_range(DIGEST_AVP_OFFSET, ty);
        if let Some(message) = bytes.get_mut(start..) {
            // Cannot fail: the placeholder was laid out by `encode` at this offset.
            let _ = digest::sign(ty, key, nonces, message, field);
        }
    }

    /// Checks the Message Digest of a received control message (`message` from the control
    /// header on). `sccrq` selects the SCCRQ form of the hash.
    fn verify_digest(&self, message: &[u8], sccrq: bool, peer_nonce: &[u8]) -> bool {
        let Some(key) = &self.security.digest_key else {
            return true;
        };
        let Some(body) = message.get(crate::wire::header::CONTROL_HEADER_LEN..) else {
            return false;
        };
        let Some(raw) = AvpIter::new(body)
            .map_while(Result::ok)
            .find(|a| a.vendor_id == 0 && a.attr_type == AvpType::MessageDigest as u16)
        else {
            return false;
        };
        let Some(Ok(ty)) = raw.value.first().map(|t| DigestType::try_from(*t)) else {
            return false;
        };
        let nonces = if sccrq {
            Nonces::Sccrq
        } else {
            Nonces::Exchanged {
                sender: peer_nonce,
                receiver: &self.security.nonce,
            }
        };
        let at = crate::wire::header::CONTROL_HEADER_LEN + raw.offset;
        digest::verify(ty, key, nonces, message, digest::field_range(at, ty)).is_ok()
    }
}

/// The hidden values we send are at least this long (the 2-octet original length, the value
/// and random padding): one MD5 block of the hiding chain, so that a short value such as a
/// session id does not show its length, and implementations that refuse hidden values shorter
/// than 8 octets (l2tpns) take ours.
const MIN_HIDDEN_LEN: usize = 16;

/// At most this many random octets are added beyond [`MIN_HIDDEN_LEN`] (RFC 2661 §4.3 lets
/// the sender pad a hidden value to hide its length).
const HIDDEN_EXTRA_PADDING: usize = 15;

/// The random padding for a hidden value of `value_len` octets: up to [`MIN_HIDDEN_LEN`], plus
/// 0 to [`HIDDEN_EXTRA_PADDING`] octets drawn from `rng`, within the largest hidden subformat.
fn hidden_padding_len(value_len: usize, rng: &mut dyn Rng) -> usize {
    let subformat = 2 + value_len;
    let extra = (rng.next_u32() as usize) % (HIDDEN_EXTRA_PADDING + 1);
    let wanted = MIN_HIDDEN_LEN.saturating_sub(subformat) + extra;
    wanted.min(crate::wire::hidden::MAX_SUBFORMAT_LEN.saturating_sub(subformat))
}

/// Offset of the Message Digest AVP in a control message we send: after the 12-octet header
/// and the 8-octet Message Type AVP (RFC 3931 §5.4.1 places it right after Message Type).
const DIGEST_AVP_OFFSET: usize = 20;

/// The AVPs we hide when hiding is on: identifiers and the authentication exchange
/// (RFC 2661 §4.4 and RFC 3931 §5.4 allow hiding each of them).
fn hideable(t: AvpType, version: Version) -> bool {
    use AvpType::*;
    match version {
        Version::V2 => matches!(
            t,
            AssignedTunnelId
                | Challenge
                | ChallengeResponse
                | AssignedSessionId
                | CallSerialNumber
                | CalledNumber
                | CallingNumber
                | SubAddress
        ),
        Version::V3 => matches!(
            t,
            AssignedCookie | RemoteEndId | CalledNumber | CallingNumber | SubAddress
        ),
    }
}

/// Reads an unhidden AVP of type `t` from a raw body.
fn raw_avp(body: &[u8], t: AvpType) -> Option<(bool, &[u8])> {
    AvpIter::new(body)
        .map_while(Result::ok)
        .find(|a| a.vendor_id == 0 && a.attr_type == t as u16)
        .map(|a| (a.hidden, a.value))
}

fn raw_u32(body: &[u8], t: AvpType) -> Option<u32> {
    let (hidden, v) = raw_avp(body, t)?;
    if hidden {
        return None;
    }
    match v.len() {
        2 => Some(u32::from(u16::from_be_bytes([v[0], v[1]]))),
        4 => Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]])),
        _ => None,
    }
}
