//! The control connection (tunnel) state machine of L2TPv2 (RFC 2661 §7.2.1) and L2TPv3
//! (RFC 3931 §3.3, §7.2), for the initiator and the recipient, on top of
//! [`crate::reliable::ReliableChannel`].
//!
//! Read RFC 2661 §5, §7.2 and Appendix B, and RFC 3931 §3.3, §4.3, §4.4, §4.7.3, §5.4 and §7.2
//! before editing this module.
//!
//! The handlers are methods of [`Endpoint`] (in an `impl` block here) rather than of
//! [`Tunnel`]: a tunnel's transitions create and destroy sessions, emit events and arm the
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
//!   L2TPv3 uses the Message Digest with nonces (RFC 3931 §4.3). A digest failure on the SCCRQ or
//!   on the SCCRP is a refusal with StopCCN result 4 (the RFC's "not acceptable"), since dropping
//!   the very first message would only make the peer retransmit until it gives up; later
//!   messages failing the digest are dropped (RFC 3931 §5.4.1). [`AuthMode::Simple`] checks the
//!   peer's Host Name against [`TunnelConfig::peer_host_name`].
//! - **Tie breaker.** An SCCRQ from an address to which we have an SCCRQ outstanding is compared
//!   by Tie Breaker (lower wins, RFC 2661 §4.4.3, RFC 3931 §5.4.3). The loser discards its own
//!   tunnel silently; the winner refuses the losing SCCRQ with StopCCN result 3 (RFC 3931: "A
//!   StopCCN SHOULD be sent by the winner"), which also keeps a record so that late
//!   retransmissions of it do not open a second tunnel. "Same peer" means the same IP address.
//! - **Hidden AVPs** are never used in an SCCRQ sent as a v3→v2 probe (the hiding key depends on
//!   the version, which the reply decides).
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

/// Which protocol versions a tunnel speaks.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum VersionMode {
    /// L2TPv2 only (RFC 2661).
    V2,
    /// L2TPv3 only (RFC 3931).
    V3,
    /// L2TPv3, falling back to L2TPv2 when the peer does not speak it (RFC 3931 §4.7.3). Over IP
    /// this is plain L2TPv3, since L2TPv2 cannot run over IP.
    #[default]
    V3WithFallback,
}

/// How the peer is authenticated.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum AuthMode {
    /// No authentication (unless the peer asks for it and a secret is configured).
    #[default]
    None,
    /// Check the peer's Host Name against [`TunnelConfig::peer_host_name`].
    Simple,
    /// Challenge/Response (L2TPv2) or Message Digest (L2TPv3) with the shared secret, required.
    Challenge,
}

/// The parameters of one tunnel: a tunnel profile as the daemon resolves it.
#[derive(Clone, Debug)]
pub struct TunnelConfig {
    /// Protocol version(s). Default: L2TPv3 with fallback.
    pub version: VersionMode,
    /// UDP or IP. Default UDP.
    pub encap: Encapsulation,
    /// Our Host Name AVP (must not be empty).
    pub host_name: Vec<u8>,
    /// Our Router ID AVP (L2TPv3).
    pub router_id: u32,
    /// The shared secret for authentication and hiding. `Debug` redacts it.
    pub secret: Secret,
    /// How the peer is authenticated.
    pub auth_mode: AuthMode,
    /// The Host Name the peer must present under [`AuthMode::Simple`] or
    /// [`AuthMode::Challenge`], if set.
    pub peer_host_name: Option<Vec<u8>>,
    /// Hide sensitive AVPs (RFC 2661 §4.3, RFC 3931 §5.3); needs `secret`.
    pub hide_avps: bool,
    /// Send HELLO after this much silence; zero disables. Default 60 s.
    pub hello_timeout: Duration,
    /// First retransmission interval. Default 1 s.
    pub retry_timeout: Duration,
    /// Retransmissions before the peer is declared unreachable. Default 5.
    pub max_retries: u16,
    /// Receive window we advertise. Default 10.
    pub rx_window: NonZeroU16,
    /// Most messages we keep outstanding (clipped to the peer's window). Default 10.
    pub tx_window: NonZeroU16,
    /// Framing Capabilities AVP (L2TPv2). Default sync and async.
    pub framing_caps: u32,
    /// Bearer Capabilities AVP (L2TPv2). Default digital and analog.
    pub bearer_caps: u32,
    /// Pseudowire Capabilities List AVP (L2TPv3). Default Ethernet, Ethernet VLAN, PPP.
    pub pseudowire_caps: Vec<u16>,
    /// Send a Tie Breaker AVP in our SCCRQ. Default true.
    pub use_tiebreaker: bool,
    /// Most sessions in the tunnel; 0: no limit.
    pub max_sessions: u32,
    /// The control connection must be established within this time. Default 120 s.
    pub establish_timeout: Duration,
    /// UDP checksums on data packets (passed to the data plane). Default true.
    pub udp_checksums: bool,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        Self {
            version: VersionMode::default(),
            encap: Encapsulation::Udp,
            host_name: b"l2tpd".to_vec(),
            router_id: 0,
            secret: Secret::default(),
            auth_mode: AuthMode::None,
            peer_host_name: None,
            hide_avps: false,
            hello_timeout: Duration::from_secs(60),
            retry_timeout: Duration::from_secs(1),
            max_retries: 5,
            rx_window: NonZeroU16::new(10).unwrap_or(NonZeroU16::MIN),
            tx_window: NonZeroU16::new(10).unwrap_or(NonZeroU16::MIN),
            framing_caps: framing::SYNC | framing::ASYNC,
            bearer_caps: bearer::DIGITAL | bearer::ANALOG,
            pseudowire_caps: vec![pw_type::ETH, pw_type::ETH_VLAN, pw_type::PPP],
            use_tiebreaker: true,
            max_sessions: 0,
            establish_timeout: Duration::from_secs(120),
            udp_checksums: true,
        }
    }
}

impl TunnelConfig {
    /// The reliable-delivery parameters this config implies.
    pub fn reliable_config(&self) -> reliable::Config {
        reliable::Config {
            receive_window: self.rx_window,
            retransmit_timeout: self.retry_timeout,
            max_retransmit_timeout: Duration::from_secs(8).max(self.retry_timeout),
            max_retries: self.max_retries,
            ..reliable::Config::default()
        }
    }

    fn check(&self) -> Result<(), &'static str> {
        if self.host_name.is_empty() {
            return Err("host name is empty");
        }
        if self.version == VersionMode::V2 && self.encap == Encapsulation::Ip {
            return Err("L2TPv2 cannot run over IP");
        }
        if self.hide_avps && self.secret.is_empty() {
            return Err("hiding AVPs needs a secret");
        }
        if self.auth_mode == AuthMode::Challenge && self.secret.is_empty() {
            return Err("challenge authentication needs a secret");
        }
        Ok(())
    }
}

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

    /// Encodes `msg` for this tunnel: hides what should be hidden, adds the Message Digest
    /// placeholder, and lays out the header with Ns/Nr zero.
    pub(crate) fn encode(
        &self,
        mut msg: Message,
        v2_session: u16,
        random_vector: Option<Vec<u8>>,
    ) -> OutMsg {
        if let (Some(rv), true) = (random_vector, self.hides()) {
            let mut any = false;
            for entry in &mut msg.avps {
                if entry
                    .avp
                    .avp_type()
                    .is_some_and(|t| hideable(t, self.version))
                {
                    entry.hidden = true;
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
                    digest_type: DigestType::HmacMd5 as u8,
                    digest: vec![0; DigestType::HmacMd5.digest_len()],
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
        let field = digest::field_range(DIGEST_AVP_OFFSET, DigestType::HmacMd5);
        if let Some(message) = bytes.get_mut(start..) {
            // Cannot fail: the placeholder was laid out by `encode` at this offset.
            let _ = digest::sign(DigestType::HmacMd5, key, nonces, message, field);
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

impl Endpoint {
    /// Creates a tunnel on a local open request and sends the SCCRQ (RFC 3931 §7.2 idle, local
    /// open request → wait-ctl-reply).
    pub(crate) fn open_tunnel(
        &mut self,
        now: Instant,
        handle: TunnelHandle,
        config: Arc<TunnelConfig>,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<u32, crate::event::CommandError> {
        use crate::event::CommandError;
        config.check().map_err(CommandError::InvalidConfig)?;
        if self.tunnel_limit_reached() {
            return Err(CommandError::LimitReached);
        }
        let encap = config.encap;
        let probing = config.version == VersionMode::V3WithFallback && encap == Encapsulation::Udp;
        let short = config.version == VersionMode::V2 || probing;
        let local_id = self
            .allocate_tunnel_id(short)
            .ok_or(CommandError::NoFreeId)?;
        let mut t = Tunnel::new(handle, config, Origin::Local, local, remote, encap, now);
        t.local_id = local_id;
        t.set_version(if config_v2(&t.config) || probing {
            Version::V2
        } else {
            Version::V3
        });
        t.probing = probing;
        t.announced = true;
        if t.config.use_tiebreaker {
            t.tie_breaker = Some(self.rng.next_u64());
        }
        let cfg = Arc::clone(&t.config);
        let wants_auth = cfg.auth_mode == AuthMode::Challenge;
        let mut msg = Message::new(MessageType::Sccrq);
        let v2_avps = t.version == Version::V2;
        let v3_avps = t.version == Version::V3 || probing;
        if v2_avps {
            t.push(
                &mut msg,
                Avp::ProtocolVersion(ProtocolVersion {
                    version: 1,
                    revision: 0,
                }),
            );
        }
        t.push(&mut msg, Avp::HostName(cfg.host_name.clone()));
        if v2_avps {
            t.push(&mut msg, Avp::FramingCapabilities(cfg.framing_caps));
            t.push(&mut msg, Avp::BearerCapabilities(cfg.bearer_caps));
            t.push(&mut msg, Avp::AssignedTunnelId(local_id as u16));
        }
        t.push(&mut msg, Avp::ReceiveWindowSize(cfg.rx_window.get()));
        if let Some(tb) = t.tie_breaker {
            t.push(&mut msg, Avp::TieBreaker(tb));
        }
        if wants_auth && v2_avps {
            let challenge = self.random_bytes(16);
            t.push(&mut msg, Avp::Challenge(challenge.clone()));
            t.security.challenge = Some(challenge);
        }
        if v3_avps {
            let mut v3 = Vec::new();
            v3.push(Avp::RouterId(cfg.router_id));
            v3.push(Avp::AssignedConnectionId(local_id));
            v3.push(Avp::PseudowireCapabilities(cfg.pseudowire_caps.clone()));
            if wants_auth {
                t.security.nonce = self.random_bytes(16);
                t.security.digest_key = Some(DigestKey::derive(&cfg.secret));
                v3.push(Avp::ControlMessageAuthNonce(t.security.nonce.clone()));
            }
            for avp in v3 {
                let mut entry = AvpEntry::new(avp, Version::V3);
                // RFC 3931 §4.7.3: L2TPv3 AVPs in the probe go with M=0.
                entry.mandatory &= !probing;
                msg.avps.push(entry);
            }
        }
        t.timers
            .set(TimerKind::Establish, now + cfg.establish_timeout);
        t.state = TunnelState::WaitCtlReply;
        let (index, _) = self.tunnels.insert(t);
        self.tunnel_ids.insert(local_id, index);
        self.initiating.insert(remote.ip(), index);
        self.stats.tunnels_created += 1;
        self.events.push_back(Event::TunnelCreated {
            handle,
            tunnel_id: local_id,
            remote,
            origin: Origin::Local,
        });
        self.send(now, index, msg, 0);
        Ok(local_id)
    }

    /// An SCCRQ on tunnel id 0 (RFC 2661 §7.2.1 idle, receive SCCRQ): deduplicate, admit,
    /// break ties, then ask the caller.
    pub(crate) fn new_sccrq(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        encap: Encapsulation,
        datagram: &[u8],
    ) {
        let Ok(crate::wire::Packet::Control {
            header,
            message,
            body,
        }) = crate::wire::Packet::parse(datagram, encap)
        else {
            return;
        };
        // The peer's assigned id, or (if hidden) a fingerprint of the hidden value: either way
        // retransmissions of one SCCRQ map to the same key.
        let peer_key = raw_u32(body, AvpType::AssignedConnectionId)
            .or_else(|| raw_u32(body, AvpType::AssignedTunnelId))
            .or_else(|| {
                raw_avp(body, AvpType::AssignedTunnelId).map(|(_, v)| {
                    v.iter()
                        .fold(0x8000_0000u32, |h, b| h.rotate_left(5) ^ u32::from(*b))
                })
            })
            .unwrap_or(0);
        if let Some(&index) = self.peer_requests.get(&(remote, peer_key)) {
            // A retransmission: the reliable channel of that tunnel acknowledges it.
            self.tunnel_datagram(now, index, remote, header, message, body);
            return;
        }
        let offers_v3 = raw_avp(body, AvpType::AssignedConnectionId).is_some();
        let host_name = raw_avp(body, AvpType::HostName)
            .filter(|(hidden, _)| !hidden)
            .map(|(_, v)| v.to_vec())
            .unwrap_or_default();
        let mut refusal = None;
        // RFC 2661 §4.4.3 / RFC 3931 §5.4.3: simultaneous open from the same peer.
        if let Some(&mine) = self.initiating.get(&remote.ip())
            && let Some(t) = self.tunnels.get(mine)
            && t.state == TunnelState::WaitCtlReply
        {
            let theirs = raw_avp(body, AvpType::TieBreaker)
                .filter(|(hidden, v)| !hidden && v.len() == 8)
                .map(|(_, v)| u64::from_be_bytes(v.try_into().unwrap_or([0; 8])));
            match (t.tie_breaker, theirs) {
                (Some(ours), Some(theirs)) if ours == theirs => {
                    // Both sides discard; the callers retry with new values.
                    self.discard_lost_tunnel(now, mine);
                    return;
                }
                (Some(ours), Some(theirs)) if ours < theirs => {
                    refusal = Some(Refusal {
                        result: stop_ccn::ALREADY_EXISTS,
                        error: None,
                        message: Some("lost tie breaker".into()),
                    });
                }
                (Some(_), None) => {
                    refusal = Some(Refusal {
                        result: stop_ccn::ALREADY_EXISTS,
                        error: None,
                        message: Some("lost tie breaker".into()),
                    });
                }
                (_, Some(_)) => self.discard_lost_tunnel(now, mine),
                (None, None) => {}
            }
        }
        if refusal.is_none() && self.tunnel_limit_reached() {
            refusal = Some(Refusal::limit_reached());
        }
        let config = Arc::clone(&self.config.default_tunnel);
        let mut t = Tunnel::new(
            TunnelHandle::default(),
            config,
            Origin::Peer,
            local,
            remote,
            encap,
            now,
        );
        let refused = refusal.is_some();
        t.pending = Some(Box::new(PendingSccrq {
            datagram: datagram.to_vec(),
            header_version: header.version,
            offers_v3,
            peer_key,
            refusal,
        }));
        t.peer_key = Some(peer_key);
        t.timers
            .set(TimerKind::Decision, now + self.config.decision_timeout);
        let (index, generation) = self.tunnels.insert(t);
        self.peer_requests.insert((remote, peer_key), index);
        let id = crate::event::DecisionId { index, generation };
        if refused {
            self.answer_tunnel(now, id, None);
        } else {
            self.decisions.push_back(crate::event::Decision::Tunnel(
                crate::event::TunnelRequest {
                    id,
                    local,
                    remote,
                    encap,
                    header_version: header.version,
                    offers_v3,
                    host_name,
                    router_id: raw_u32(body, AvpType::RouterId),
                },
            ));
            self.reschedule_tunnel(index);
        }
    }

    /// Accepts (with a handle and config) or refuses (`None`, with the refusal stored or
    /// given) a pending SCCRQ: sets the tunnel up and feeds the SCCRQ through its channel.
    pub(crate) fn answer_tunnel(
        &mut self,
        now: Instant,
        id: crate::event::DecisionId,
        accept: Option<(TunnelHandle, Arc<TunnelConfig>)>,
    ) -> Option<u32> {
        let index = id.index;
        let t = self
            .tunnels
            .get(index)
            .filter(|_| self.tunnels.generation(index) == id.generation)?;
        t.pending.as_ref()?;
        let accepted = accept.is_some();
        if let Some((_, config)) = &accept
            && config.check().is_err()
        {
            return None;
        }
        let t = self.tunnels.get_mut(index)?;
        let mut pending = t.pending.take()?;
        t.timers.stop(TimerKind::Decision);
        if let Some((handle, config)) = accept {
            t.handle = handle;
            t.channel = ReliableChannel::new(config.reliable_config());
            t.config = config;
        }
        let mode = t.config.version;
        let ver = match (pending.header_version, pending.offers_v3, mode) {
            (Version::V3, _, VersionMode::V2) => None,
            (Version::V3, _, _) => Some(Version::V3),
            (Version::V2, true, VersionMode::V3 | VersionMode::V3WithFallback) => Some(Version::V3),
            (Version::V2, false, VersionMode::V3) => None,
            (Version::V2, _, _) => Some(Version::V2),
        };
        if ver.is_none() && pending.refusal.is_none() {
            pending.refusal = Some(Refusal::unsupported_version());
        }
        let version = ver.unwrap_or(pending.header_version);
        let local_id = self
            .allocate_tunnel_id(version == Version::V2 || pending.header_version == Version::V2);
        let t = self.tunnels.get_mut(index)?;
        let Some(local_id) = local_id else {
            // No id left: forget the request; the peer gives up by itself.
            self.destroy_tunnel(index);
            return None;
        };
        t.local_id = local_id;
        t.set_version(version);
        let datagram = std::mem::take(&mut pending.datagram);
        let Ok(crate::wire::Packet::Control {
            header,
            message,
            body,
        }) = crate::wire::Packet::parse(&datagram, t.encap)
        else {
            self.destroy_tunnel(index);
            return None;
        };
        let peer_nonce = raw_avp(body, AvpType::ControlMessageAuthNonce)
            .map(|(_, v)| v.to_vec())
            .unwrap_or_default();
        if version == Version::V3 && pending.refusal.is_none() {
            let want = t.config.auth_mode == AuthMode::Challenge;
            if !peer_nonce.is_empty() || want {
                if peer_nonce.is_empty() || t.config.secret.is_empty() {
                    t.security.sccrq_failed = true;
                } else {
                    t.security.digest_key = Some(DigestKey::derive(&t.config.secret));
                    t.security.peer_nonce = peer_nonce;
                    if !t.verify_digest(message, true, &[]) {
                        t.security.sccrq_failed = true;
                        t.security.digest_key = None;
                    }
                }
            }
        }
        if t.security.sccrq_failed {
            self.stats.auth_failures += 1;
        }
        let ctx = DecodeContext {
            version: Some(version),
            hiding_key: t.security.hiding_key.as_ref(),
        };
        let decoded = Message::decode(body, ctx);
        t.peer_id = match &decoded {
            Ok(m) => match version {
                Version::V2 => m.assigned_tunnel_id().map(|v| u32::from(*v)),
                Version::V3 => m.assigned_connection_id().copied(),
            },
            Err(_) => None,
        }
        .unwrap_or(pending.peer_key);
        let refusal = pending.refusal.take();
        let handle = t.handle;
        let remote = t.remote;
        self.tunnel_ids.insert(local_id, index);
        self.stats.tunnels_created += 1;
        if accepted {
            if let Some(t) = self.tunnels.get_mut(index) {
                t.announced = true;
            }
            self.events.push_back(Event::TunnelCreated {
                handle,
                tunnel_id: local_id,
                remote,
                origin: Origin::Peer,
            });
        }
        if let Some(t) = self.tunnels.get_mut(index) {
            t.last_rx = now;
            let _ = t.channel.on_receive(
                Seq::new(header.ns),
                Seq::new(header.nr),
                Some(Inbound {
                    ns: Seq::new(header.ns),
                    session_id: header.session_id,
                    message: decoded,
                }),
                now,
            );
        }
        if let Some(refusal) = refusal {
            if let Some(t) = self.tunnels.get_mut(index) {
                while t.channel.poll_delivered().is_some() {}
                t.expected_ns = t.expected_ns.next();
            }
            self.close_tunnel(now, index, refusal, DownCause::Local);
        } else {
            self.deliver(now, index);
        }
        self.flush(now, index);
        self.reschedule_tunnel(index);
        Some(local_id)
    }

    /// A control message for an existing tunnel: authenticate, decode, hand to the channel,
    /// then run the state machine on whatever it delivers in order.
    pub(crate) fn tunnel_datagram(
        &mut self,
        now: Instant,
        index: u32,
        remote: SocketAddr,
        header: ControlHeader,
        message: &[u8],
        body: &[u8],
    ) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.pending.is_some() {
            // A retransmitted SCCRQ while the caller decides: nothing to acknowledge yet.
            return;
        }
        if t.probing && t.state == TunnelState::WaitCtlReply {
            // RFC 3931 §4.7.3: the Ver of the reply decides.
            t.probing = false;
            t.set_version(header.version);
            if header.version == Version::V2 {
                t.security.nonce.clear();
            } else {
                t.security.challenge = None;
            }
        }
        if header.version != t.version {
            self.stats.malformed.header += 1;
            return;
        }
        if t.state == TunnelState::WaitCtlReply {
            // RFC 2661 §8.1: the recipient may answer from another port; use it from now on.
            t.remote = remote;
        }
        if body.is_empty() {
            self.explicit_ack(now, index, header);
            return;
        }
        let msg_type = raw_avp(body, AvpType::MessageType)
            .filter(|(_, v)| v.len() == 2)
            .and_then(|(_, v)| MessageType::from_u16(u16::from_be_bytes([v[0], v[1]])));
        if t.security.digest_key.is_some() {
            let peer_nonce = if t.security.peer_nonce.is_empty() {
                raw_avp(body, AvpType::ControlMessageAuthNonce)
                    .map(|(_, v)| v.to_vec())
                    .unwrap_or_default()
            } else {
                t.security.peer_nonce.clone()
            };
            if !t.verify_digest(message, msg_type == Some(MessageType::Sccrq), &peer_nonce) {
                self.stats.auth_failures += 1;
                let sccrp = msg_type == Some(MessageType::Sccrp);
                if sccrp && t.state == TunnelState::WaitCtlReply {
                    // The reply to our SCCRQ is not authentic: refuse it (result 4).
                    if let Some(id) = raw_u32(body, AvpType::AssignedConnectionId) {
                        t.peer_id = id;
                    }
                    let _ =
                        t.channel
                            .on_receive(Seq::new(header.ns), Seq::new(header.nr), None, now);
                    t.security.digest_key = None;
                    self.close_tunnel(now, index, Refusal::not_authorized(), DownCause::Local);
                    self.flush(now, index);
                    self.reschedule_tunnel(index);
                }
                return;
            }
        }
        let ctx = DecodeContext {
            version: Some(t.version),
            hiding_key: t.security.hiding_key.as_ref(),
        };
        let decoded = Message::decode(body, ctx);
        if decoded.is_err() {
            self.stats.malformed.body += 1;
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if let Ok(m) = &decoded
            && m.message_type == MessageType::Ack
        {
            self.explicit_ack(now, index, header);
            return;
        }
        t.last_rx = now;
        let ns = Seq::new(header.ns);
        let _ = t.channel.on_receive(
            ns,
            Seq::new(header.nr),
            Some(Inbound {
                ns,
                session_id: header.session_id,
                message: decoded,
            }),
            now,
        );
        self.deliver(now, index);
        self.flush(now, index);
        self.reschedule_tunnel(index);
    }

    fn explicit_ack(&mut self, now: Instant, index: u32, header: ControlHeader) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        t.last_rx = now;
        let _ = t
            .channel
            .on_receive(Seq::new(header.ns), Seq::new(header.nr), None, now);
        self.stats.acks_received += 1;
        self.flush(now, index);
        self.reschedule_tunnel(index);
    }

    /// Runs the state machine on every message the channel delivers, in order.
    fn deliver(&mut self, now: Instant, index: u32) {
        loop {
            let Some(t) = self.tunnels.get_mut(index) else {
                return;
            };
            let Some(inbound) = t.channel.poll_delivered() else {
                return;
            };
            if inbound.ns != t.expected_ns {
                self.stats.order_violations += 1;
            }
            t.expected_ns = inbound.ns.next();
            let state = t.state;
            let msg = match inbound.message {
                Ok(msg) => msg,
                Err(error) => {
                    self.malformed_message(now, index, &error);
                    continue;
                }
            };
            self.stats.received.add(msg.message_type);
            if state == TunnelState::Closing {
                continue;
            }
            if msg.message_type.is_session_message() {
                self.session_message(now, index, inbound.session_id, msg);
                continue;
            }
            match (state, msg.message_type) {
                (_, MessageType::StopCcn) => self.on_stopccn(now, index, &msg),
                (TunnelState::Idle, MessageType::Sccrq) => self.on_sccrq(now, index, &msg),
                (TunnelState::WaitCtlReply, MessageType::Sccrp) => self.on_sccrp(now, index, &msg),
                (TunnelState::WaitCtlConn, MessageType::Scccn) => self.on_scccn(now, index, &msg),
                (_, MessageType::Hello) => {}
                _ => {
                    // RFC 3931 §7.2: an unexpected SCCRQ/SCCRP/SCCCN tears the connection down.
                    let refusal = self.fsm_error();
                    self.close_tunnel(now, index, refusal, DownCause::Local);
                }
            }
        }
    }

    fn fsm_error(&self) -> Refusal {
        Refusal {
            result: stop_ccn::FSM_ERROR,
            error: None,
            message: None,
        }
    }

    fn malformed_message(&mut self, now: Instant, index: u32, error: &MessageError) {
        match error.reaction() {
            crate::wire::Reaction::Ignore => {}
            crate::wire::Reaction::StopCcn {
                result,
                error: code,
            } => {
                let refusal = Refusal {
                    result,
                    error: Some(code),
                    message: Some(error.to_string()),
                };
                self.close_tunnel(now, index, refusal, DownCause::Local);
            }
            // Without a decodable message the session cannot be found reliably; the peer's
            // retransmission timer or the session setup timer cleans up.
            crate::wire::Reaction::Cdn { .. } => {}
        }
    }

    fn refuse(&mut self, now: Instant, index: u32, refusal: Refusal) {
        if refusal.result == stop_ccn::NOT_AUTHORIZED {
            self.stats.auth_failures += 1;
        }
        self.close_tunnel(now, index, refusal, DownCause::Local);
    }

    /// Recipient: SCCRQ accepted by the caller (RFC 2661 §7.2.1, RFC 3931 §7.2 idle →
    /// wait-ctl-conn).
    fn on_sccrq(&mut self, now: Instant, index: u32, msg: &Message) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let cfg = Arc::clone(&t.config);
        if t.security.sccrq_failed {
            self.close_tunnel(now, index, Refusal::not_authorized(), DownCause::Local);
            return;
        }
        if t.version == Version::V2
            && msg
                .protocol_version()
                .is_some_and(|p| p.version != 1 || p.revision != 0)
        {
            self.close_tunnel(now, index, Refusal::unsupported_version(), DownCause::Local);
            return;
        }
        if let Err(refusal) = check_peer_name(&cfg, msg) {
            self.refuse(now, index, refusal);
            return;
        }
        if t.version == Version::V2 {
            if let Some(challenge) = msg.challenge() {
                if cfg.secret.is_empty() {
                    self.refuse(now, index, Refusal::not_authorized());
                    return;
                }
                t.security.peer_challenge = Some(challenge.clone());
            }
            if cfg.auth_mode == AuthMode::Challenge {
                let mut challenge = vec![0; 16];
                self.rng.fill(&mut challenge);
                if let Some(t) = self.tunnels.get_mut(index) {
                    t.security.challenge = Some(challenge);
                }
            }
        } else if t.security.digest_key.is_some() {
            let mut nonce = vec![0; 16];
            self.rng.fill(&mut nonce);
            if let Some(t) = self.tunnels.get_mut(index) {
                t.security.nonce = nonce;
            }
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        learn_peer(t, msg);
        let mut reply = Message::new(MessageType::Sccrp);
        push_identity(t, &mut reply, ResponseMessage::Sccrp);
        t.state = TunnelState::WaitCtlConn;
        t.timers
            .set(TimerKind::Establish, now + cfg.establish_timeout);
        self.send(now, index, reply, 0);
    }

    /// Initiator: SCCRP (RFC 3931 §7.2 wait-ctl-reply → established, sending SCCCN).
    fn on_sccrp(&mut self, now: Instant, index: u32, msg: &Message) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let cfg = Arc::clone(&t.config);
        t.peer_id = match t.version {
            Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
            Version::V3 => msg.assigned_connection_id().copied(),
        }
        .unwrap_or(0);
        self.initiating.remove(&t.remote.ip());
        if let Err(refusal) = check_peer_name(&cfg, msg) {
            self.refuse(now, index, refusal);
            return;
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        match t.version {
            Version::V2 => {
                if let Some(challenge) = &t.security.challenge {
                    let ok = msg.challenge_response().is_some_and(|r| {
                        auth::verify_challenge_response(
                            ResponseMessage::Sccrp,
                            &cfg.secret,
                            challenge,
                            r,
                        )
                    });
                    if !ok {
                        self.refuse(now, index, Refusal::not_authorized());
                        return;
                    }
                }
                if let Some(challenge) = msg.challenge() {
                    if cfg.secret.is_empty() {
                        self.refuse(now, index, Refusal::not_authorized());
                        return;
                    }
                    t.security.peer_challenge = Some(challenge.clone());
                }
            }
            Version::V3 => {
                let peer_nonce = msg.control_message_auth_nonce().cloned();
                match (&t.security.digest_key, peer_nonce) {
                    (Some(_), Some(nonce)) => t.security.peer_nonce = nonce,
                    (None, None) if cfg.auth_mode != AuthMode::Challenge => {}
                    _ => {
                        self.refuse(now, index, Refusal::not_authorized());
                        return;
                    }
                }
            }
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        learn_peer(t, msg);
        let mut reply = Message::new(MessageType::Scccn);
        if let Some(challenge) = t.security.peer_challenge.take() {
            let response =
                auth::challenge_response(ResponseMessage::Scccn, &cfg.secret, &challenge);
            t.push(&mut reply, Avp::ChallengeResponse(response));
        }
        self.send(now, index, reply, 0);
        self.tunnel_established(now, index);
    }

    /// Recipient: SCCCN (RFC 3931 §7.2 wait-ctl-conn → established).
    fn on_scccn(&mut self, now: Instant, index: u32, msg: &Message) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if let Some(challenge) = &t.security.challenge {
            let ok = msg.challenge_response().is_some_and(|r| {
                auth::verify_challenge_response(
                    ResponseMessage::Scccn,
                    &t.config.secret,
                    challenge,
                    r,
                )
            });
            if !ok {
                self.refuse(now, index, Refusal::not_authorized());
                return;
            }
        }
        self.tunnel_established(now, index);
    }

    fn on_stopccn(&mut self, now: Instant, index: u32, msg: &Message) {
        if let Some(t) = self.tunnels.get_mut(index)
            && t.peer_id == 0
        {
            // A refusal of our SCCRQ: its Assigned Tunnel / Control Connection ID tells us
            // where to send the acknowledgement (RFC 2661 §6.4).
            t.peer_id = match t.version {
                Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
                Version::V3 => msg.assigned_connection_id().copied(),
            }
            .unwrap_or(0);
        }
        let result = msg.result_code().cloned().unwrap_or_default();
        let reason = DownReason {
            cause: DownCause::Peer,
            result: result.result,
            error: result.error,
            message: result
                .message
                .map(|m| String::from_utf8_lossy(&m).into_owned()),
        };
        self.tunnel_down(now, index, reason);
        self.start_linger(now, index);
    }

    fn tunnel_established(&mut self, now: Instant, index: u32) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        t.state = TunnelState::Established;
        t.timers.stop(TimerKind::Establish);
        t.security.challenge = None;
        if !t.config.hello_timeout.is_zero() {
            t.timers.set(TimerKind::Hello, now + t.config.hello_timeout);
        }
        t.installed = true;
        let params = TunnelParams {
            handle: t.handle,
            tunnel_id: t.local_id,
            peer_tunnel_id: t.peer_id,
            version: t.version,
            encap: t.encap,
            local: t.local,
            remote: t.remote,
            udp_checksums: t.config.udp_checksums,
        };
        self.events
            .push_back(Event::Dataplane(DataplaneRequest::InstallTunnel(params)));
        self.events.push_back(Event::TunnelUp {
            handle: params.handle,
            tunnel_id: params.tunnel_id,
            peer_tunnel_id: params.peer_tunnel_id,
            version: params.version,
        });
        self.start_waiting_sessions(now, index);
    }

    /// Sends StopCCN (when the peer's id is known), takes the tunnel down and lingers.
    pub(crate) fn close_tunnel(
        &mut self,
        now: Instant,
        index: u32,
        refusal: Refusal,
        cause: DownCause,
    ) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.state == TunnelState::Closing {
            return;
        }
        let has_peer = t.peer_id != 0;
        if has_peer {
            let mut msg = Message::new(MessageType::StopCcn);
            match t.version {
                Version::V2 => t.push(&mut msg, Avp::AssignedTunnelId(t.local_id as u16)),
                Version::V3 => t.push(&mut msg, Avp::AssignedConnectionId(t.local_id)),
            }
            t.push(
                &mut msg,
                Avp::ResultCode(ResultCode {
                    result: refusal.result,
                    error: refusal.error.map(|e| e.code()),
                    message: refusal.message.clone().map(String::into_bytes),
                }),
            );
            self.send(now, index, msg, 0);
        }
        let reason = DownReason {
            cause,
            result: refusal.result,
            error: refusal.error.map(|e| e.code()),
            message: refusal.message,
        };
        self.tunnel_down(now, index, reason);
        if has_peer {
            self.start_linger(now, index);
        } else {
            self.destroy_tunnel(index);
        }
    }

    /// Removes the sessions and the data-plane state and reports the tunnel down.
    fn tunnel_down(&mut self, now: Instant, index: u32, reason: DownReason) {
        self.clear_sessions(now, index, &reason);
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        t.state = TunnelState::Closing;
        t.timers.stop(TimerKind::Hello);
        t.timers.stop(TimerKind::Establish);
        if self.initiating.get(&t.remote.ip()) == Some(&index) {
            self.initiating.remove(&t.remote.ip());
        }
        if std::mem::take(&mut t.installed) {
            self.events
                .push_back(Event::Dataplane(DataplaneRequest::RemoveTunnel {
                    tunnel_id: t.local_id,
                }));
        }
        if t.announced {
            self.events.push_back(Event::TunnelDown {
                handle: t.handle,
                tunnel_id: t.local_id,
                peer_tunnel_id: t.peer_id,
                reason,
            });
        }
    }

    fn start_linger(&mut self, now: Instant, index: u32) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let span = t.channel.config().retransmission_span();
        t.timers.set(TimerKind::Linger, now + span);
    }

    /// The loser of a tie breaker discards its tunnel silently (RFC 2661 §4.4.3).
    fn discard_lost_tunnel(&mut self, now: Instant, index: u32) {
        let reason = DownReason {
            cause: DownCause::LostTieBreaker,
            result: stop_ccn::ALREADY_EXISTS,
            error: None,
            message: None,
        };
        self.tunnel_down(now, index, reason);
        self.destroy_tunnel(index);
    }

    /// Deletes the tunnel record and its ids.
    pub(crate) fn destroy_tunnel(&mut self, index: u32) {
        let Some(t) = self.tunnels.remove(index) else {
            return;
        };
        if self.tunnel_ids.get(&t.local_id) == Some(&index) {
            self.tunnel_ids.remove(&t.local_id);
        }
        if let Some(key) = t.peer_key
            && self.peer_requests.get(&(t.remote, key)) == Some(&index)
        {
            self.peer_requests.remove(&(t.remote, key));
        }
        if self.initiating.get(&t.remote.ip()) == Some(&index) {
            self.initiating.remove(&t.remote.ip());
        }
        if t.announced {
            self.events.push_back(Event::TunnelDeleted {
                handle: t.handle,
                tunnel_id: t.local_id,
            });
        }
    }

    /// Runs the tunnel's timers due at `now`.
    pub(crate) fn tunnel_timeout(&mut self, now: Instant, index: u32) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.timers.take_expired(TimerKind::Decision, now) {
            self.destroy_tunnel(index);
            return;
        }
        if t.timers.take_expired(TimerKind::Linger, now) {
            self.destroy_tunnel(index);
            return;
        }
        if t.channel.handle_timeout(now).is_err() {
            let closing = t.state == TunnelState::Closing;
            if !closing {
                let reason = DownReason {
                    cause: DownCause::RetriesExhausted,
                    result: stop_ccn::FSM_ERROR,
                    error: None,
                    message: Some("peer stopped acknowledging".into()),
                };
                self.tunnel_down(now, index, reason);
            }
            self.destroy_tunnel(index);
            return;
        }
        if t.timers.take_expired(TimerKind::Establish, now) {
            let refusal = Refusal {
                result: stop_ccn::FSM_ERROR,
                error: None,
                message: Some("establishment timed out".into()),
            };
            self.close_tunnel(now, index, refusal, DownCause::EstablishTimeout);
        } else if t.timers.take_expired(TimerKind::Hello, now) {
            let hello = t.config.hello_timeout;
            let silent_until = t.last_rx + hello;
            if silent_until <= now {
                // RFC 2661 §6.5: keepalive after a period of inactivity.
                t.timers.set(TimerKind::Hello, now + hello);
                self.send(now, index, Message::new(MessageType::Hello), 0);
            } else {
                t.timers.set(TimerKind::Hello, silent_until);
            }
        }
        self.flush(now, index);
        self.reschedule_tunnel(index);
    }

    pub(crate) fn reschedule_tunnel(&mut self, index: u32) {
        let generation = self.tunnels.generation(index);
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let next = t.next_deadline();
        self.timers
            .reschedule(Owner::Tunnel(index), generation, next, &mut t.scheduled);
    }
}

fn config_v2(config: &TunnelConfig) -> bool {
    config.version == VersionMode::V2
}

/// [`AuthMode::Simple`]/[`AuthMode::Challenge`]: the peer's Host Name must match if configured.
fn check_peer_name(cfg: &TunnelConfig, msg: &Message) -> Result<(), Refusal> {
    if cfg.auth_mode == AuthMode::None {
        return Ok(());
    }
    match &cfg.peer_host_name {
        Some(name) if msg.host_name() != Some(name) => Err(Refusal::not_authorized()),
        _ => Ok(()),
    }
}

/// Records what the SCCRQ or SCCRP says about the peer.
fn learn_peer(t: &mut Tunnel, msg: &Message) {
    if let Some(name) = msg.host_name() {
        t.peer_host_name = name.clone();
    }
    if t.peer_id == 0 {
        t.peer_id = match t.version {
            Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
            Version::V3 => msg.assigned_connection_id().copied(),
        }
        .unwrap_or(0);
    }
    // RFC 2661 §5.8: a window of 4 when the AVP is absent; never more than we want in flight.
    let peer = msg.receive_window_size().copied().unwrap_or(4).max(1);
    let window = peer.min(t.config.tx_window.get());
    if let Some(window) = NonZeroU16::new(window) {
        t.channel.set_peer_receive_window(window);
    }
}

/// The identity AVPs of an SCCRP, and the answer to the peer's challenge.
fn push_identity(t: &mut Tunnel, msg: &mut Message, carrier: ResponseMessage) {
    let cfg = Arc::clone(&t.config);
    match t.version {
        Version::V2 => {
            t.push(
                msg,
                Avp::ProtocolVersion(ProtocolVersion {
                    version: 1,
                    revision: 0,
                }),
            );
            t.push(msg, Avp::HostName(cfg.host_name.clone()));
            t.push(msg, Avp::FramingCapabilities(cfg.framing_caps));
            t.push(msg, Avp::BearerCapabilities(cfg.bearer_caps));
            t.push(msg, Avp::AssignedTunnelId(t.local_id as u16));
            t.push(msg, Avp::ReceiveWindowSize(cfg.rx_window.get()));
            if let Some(challenge) = t.security.challenge.clone() {
                t.push(msg, Avp::Challenge(challenge));
            }
            if let Some(challenge) = t.security.peer_challenge.take() {
                let response = auth::challenge_response(carrier, &cfg.secret, &challenge);
                t.push(msg, Avp::ChallengeResponse(response));
            }
        }
        Version::V3 => {
            t.push(msg, Avp::HostName(cfg.host_name.clone()));
            t.push(msg, Avp::RouterId(cfg.router_id));
            t.push(msg, Avp::AssignedConnectionId(t.local_id));
            t.push(
                msg,
                Avp::PseudowireCapabilities(cfg.pseudowire_caps.clone()),
            );
            t.push(msg, Avp::ReceiveWindowSize(cfg.rx_window.get()));
            if t.security.digest_key.is_some() {
                t.push(msg, Avp::ControlMessageAuthNonce(t.security.nonce.clone()));
            }
        }
    }
}
