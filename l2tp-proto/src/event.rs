//! What the engine hands back to its caller besides datagrams: [`Event`]s (tunnel and session
//! life cycle, data-plane requests, WEN/SLI notifications), [`Decision`]s the caller must answer,
//! the [`Command`]s it accepts, read-only views ([`TunnelInfo`], [`SessionInfo`]) and plain
//! [`Stats`].
//!
//! These types live apart from [`crate::endpoint`] so that the engine file stays about the
//! engine; the daemon's control socket and event bus map them one to one.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::session::{CallType, SessionConfig, SessionState};
pub use crate::speed::ConnectSpeed;
use crate::tunnel::{TunnelConfig, TunnelState};
use crate::wire::access_line::AccessLine;
use crate::wire::avp::types::ResultCode;
use crate::wire::header::{Cookie, Encapsulation, L2SpecificSublayer, Version};
use crate::wire::result::ErrorCode;
use crate::wire::{MessageType, avp::types::Accm, avp::types::CallErrors};

/// A caller-chosen opaque value attached to a tunnel, returned in every event about it.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct TunnelHandle(pub u64);

/// A caller-chosen opaque value attached to a session, returned in every event about it.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct SessionHandle(pub u64);

/// Identifies an outstanding [`Decision`]; pass it back to the `accept_*`/`reject_*` method.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct DecisionId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A request from the caller.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Command {
    /// Open a control connection to `remote` from `local` (RFC 2661 §7.2 "local open request").
    OpenTunnel {
        /// Returned in every event about the tunnel.
        handle: TunnelHandle,
        /// How to run it.
        config: Arc<TunnelConfig>,
        /// The local address to send from.
        local: SocketAddr,
        /// The peer.
        remote: SocketAddr,
    },
    /// Close a tunnel with StopCCN result 1 (general request to clear), or remove it silently
    /// if the peer's id is not known yet.
    CloseTunnel {
        /// The local tunnel (control connection) id.
        tunnel_id: u32,
    },
    /// Place a call in a tunnel: an incoming call (ICRQ sender; L2TPv2 LAC) or an outgoing
    /// call (OCRQ sender; L2TPv2 LNS). If the tunnel is not established yet, the session waits
    /// for it (RFC 3931 §7.3.1 wait-control-conn).
    OpenSession {
        /// The local tunnel id.
        tunnel_id: u32,
        /// Returned in every event about the session.
        handle: SessionHandle,
        /// Incoming or outgoing call.
        call: CallType,
        /// Its parameters.
        config: Arc<SessionConfig>,
    },
    /// Disconnect a session with CDN result 3 (administrative).
    CloseSession {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
    },
    /// Close a tunnel because this host is being shut down: StopCCN result 6 (requester is
    /// being shut down, RFC 2661 §4.4.2), or remove it silently if the peer's id is not known
    /// yet.
    ShutDownTunnel {
        /// The local tunnel id.
        tunnel_id: u32,
    },
    /// Close a tunnel whose data path is gone (its kernel tunnel was deleted) with StopCCN
    /// result 2 (general error). The StopCCN's message is [`DATA_PATH_LOST`]; `why` is only
    /// the local reason of the [`Event::TunnelDown`].
    LoseTunnel {
        /// The local tunnel id.
        tunnel_id: u32,
        /// Why, for the local reason only (never sent).
        why: String,
    },
    /// Remove a tunnel at once, sending no StopCCN and no CDN: the peer has forgotten it. It
    /// restarted and opened a new tunnel from the same address and port under the same
    /// Assigned Tunnel ID, so anything sent to that id, a StopCCN, a CDN or a HELLO, now
    /// reaches the new tunnel. The tunnel and its sessions go down as after any loss
    /// ([`Event::SessionDown`], [`Event::TunnelDown`] with [`DownCause::PeerRestarted`],
    /// [`Event::TunnelDeleted`]); a tunnel closing already stops retransmitting its StopCCN
    /// and is deleted.
    ForgetTunnel {
        /// The local tunnel id.
        tunnel_id: u32,
        /// Why, for the local reason only (never sent).
        why: String,
    },
    /// Check now that the peer still holds the tunnel: send a HELLO at once (RFC 2661 §6.5,
    /// RFC 3931 §5.4.1: a HELLO may be sent at any time), so that a dead peer is found within
    /// one retransmission cycle ([`crate::reliable::Config::retransmission_span`]) rather
    /// than after `hello_timeout` of silence plus that cycle. Nothing is sent when the tunnel
    /// already waits on an unacknowledged message (an earlier probe among them): that message
    /// finds the peer dead just as soon; nor when the tunnel's `hello_timeout` is zero (no
    /// HELLO at all, for a peer that mishandles them). Answered with
    /// [`CommandOutcome::Probed`]; refused with [`CommandError::TunnelClosing`] for a closing
    /// tunnel.
    ProbeTunnel {
        /// The local tunnel id.
        tunnel_id: u32,
    },
    /// Disconnect a session whose data path is gone (its pppd exited, its interface was
    /// deleted) with CDN result 1 (loss of carrier). The CDN's message is
    /// [`DATA_PATH_LOST`]; `why` is only the local reason of the [`Event::SessionDown`].
    LoseSession {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// Why, for the local reason only (never sent).
        why: String,
    },
    /// Send a Set-Link-Info with `accm` on an established session (RFC 2661 §6.14: the LNS
    /// tells the LAC the ACCM its PPP negotiated, for the LAC's asynchronous line). Refused with
    /// [`CommandError::NoSuchSession`] for a session not established.
    SetLinkInfo {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// The Send and Receive ACCM.
        accm: crate::wire::avp::types::Accm,
    },
    /// Send a CSURQ (RFC 5515 §4.2) asking the LAC for the current connect speeds of
    /// `session_id`, or of every established session of the tunnel whose ICRQ carried Connect
    /// Speed Update Enable. The answers come as CSUNs ([`Event::ConnectSpeedUpdate`]).
    /// Refused with [`CommandError::SpeedUpdatesNotEnabled`] for a session (or a tunnel) without
    /// such a session: §4.2 allows a CSURQ only for them.
    RequestConnectSpeeds {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id; `None` for all the tunnel's enabled sessions.
        session_id: Option<u32>,
    },
    /// New connect speeds for sessions of a tunnel that we placed as LAC (RFC 5515 §4): each
    /// tells them from now on, and one CSUN carries them for the established ones whose ICRQ
    /// carried Connect Speed Update Enable ([`crate::SessionConfig::connect_speed_updates`]),
    /// and for no other (§4.1). Answered with [`CommandOutcome::SpeedsUpdated`].
    UpdateConnectSpeeds {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The sessions and their new speeds.
        changes: Vec<crate::speed::SpeedChange>,
    },
    /// Disconnect a session with the CDN `refusal` gives (result, error, message sent to the
    /// peer): for a reason of the layer above, e.g. its PPP ended. `why` is only the local
    /// reason of the [`Event::SessionDown`].
    EndSession {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// The CDN's result and error codes and message.
        refusal: Refusal,
        /// Why, for the local reason only (never sent).
        why: String,
    },
}

/// The error message of the StopCCN or CDN that [`Command::LoseTunnel`] and
/// [`Command::LoseSession`] send: the peer learns that the data path is gone, not which
/// process, interface or kernel object of this host went.
pub const DATA_PATH_LOST: &str = "data path lost";

/// What a successful command created.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum CommandOutcome {
    /// A tunnel with this local id was created.
    Tunnel(u32),
    /// A session with this local id was created in the tunnel.
    Session {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
    },
    /// The command was carried out.
    Done,
    /// A CSURQ was sent for this many sessions.
    SpeedsRequested(usize),
    /// A CSUN was sent naming this many sessions (0: none was sent).
    SpeedsUpdated(usize),
    /// What [`Command::ProbeTunnel`] did.
    Probed(Probe),
}

/// What [`Command::ProbeTunnel`] did.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Probe {
    /// A HELLO was sent.
    HelloSent,
    /// Nothing: the tunnel already waits on an unacknowledged message, which finds a dead peer
    /// as soon as a HELLO would.
    AlreadyWaiting,
    /// Nothing: the control connection is not established yet, and its handshake has timers
    /// of its own.
    NotEstablished,
    /// Nothing: the tunnel's `hello_timeout` is zero, which turns its HELLOs off.
    HellosOff,
}

/// Why a command or decision answer was refused (local misuse, never a peer's fault).
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No tunnel with that id.
    #[error("no such tunnel")]
    NoSuchTunnel,
    /// No session with that id in the tunnel.
    #[error("no such session")]
    NoSuchSession,
    /// The decision was already answered, timed out, or never existed.
    #[error("no such pending decision")]
    NoSuchDecision,
    /// The tunnel is closing and takes no new sessions.
    #[error("the tunnel is shutting down")]
    TunnelClosing,
    /// No free id left (tunnels or sessions).
    #[error("no free identifier")]
    NoFreeId,
    /// The id the configuration fixes is held by another tunnel or session (or is out of
    /// range for the version).
    #[error("identifier {0} is in use")]
    IdInUse(u32),
    /// A limit (max tunnels, max sessions) is reached.
    #[error("limit reached")]
    LimitReached,
    /// The session's ICRQ (or no established session's of the tunnel) carried Connect Speed
    /// Update Enable, so no CSURQ may ask for its speeds (RFC 5515 §4.2).
    #[error("connect speed updates not enabled by the LAC (RFC 5515 §4.2)")]
    SpeedUpdatesNotEnabled,
    /// The configuration cannot work, e.g. L2TPv2 over IP, or hiding AVPs without a secret.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

/// How to refuse a tunnel or session: the Result Code AVP of the StopCCN or CDN.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Refusal {
    /// The result code (RFC 2661 §4.4.2, RFC 3931 §5.4.2).
    pub result: u16,
    /// The error code, when `result` is a general error.
    pub error: Option<ErrorCode>,
    /// An optional text for the peer's logs.
    pub message: Option<String>,
}

impl Refusal {
    /// The Result Code AVP that carries this refusal to the peer.
    pub fn result_code(&self) -> ResultCode {
        ResultCode {
            result: self.result,
            error: self.error.map(|e| e.code()),
            message: self.message.clone().map(String::into_bytes),
        }
    }

    /// Result code `result`, with no error code or message.
    pub fn result(result: u16) -> Self {
        Self {
            result,
            error: None,
            message: None,
        }
    }

    /// Result code `result` with `message`.
    pub fn with(result: u16, message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::result(result)
        }
    }

    /// StopCCN result 4: the requester is not authorized (authentication, profile).
    pub fn not_authorized() -> Self {
        Self {
            result: 4,
            error: None,
            message: None,
        }
    }

    /// StopCCN result 4 for the shared secret (RFC 2661 §4.2 and §5.1.1, RFC 3931 §4.3),
    /// saying which check failed so that both ends log more than "not authorized".
    pub fn bad_secret(why: SecretCheck) -> Self {
        Self::with(4, why.text())
    }

    /// StopCCN result 5: the requester's protocol version is not supported.
    pub fn unsupported_version() -> Self {
        Self {
            result: 5,
            error: None,
            message: None,
        }
    }

    /// Result 2 with error 4: a limit is reached, insufficient resources.
    pub fn limit_reached() -> Self {
        Self {
            result: 2,
            error: Some(ErrorCode::InsufficientResources),
            message: None,
        }
    }

    /// Result 2 with error 6 and a text: no peer profile matches.
    pub fn no_profile() -> Self {
        Self {
            result: 2,
            error: Some(ErrorCode::VendorSpecific),
            message: Some("no matching peer profile".into()),
        }
    }
}

/// Which check of the shared secret refused a tunnel ([`Refusal::bad_secret`]).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SecretCheck {
    /// The peer answered our Challenge with no Challenge Response.
    NoResponse,
    /// The peer's Challenge Response is not the one our secret gives.
    WrongResponse,
    /// The peer sent a Challenge, and we have no secret to answer it with.
    NoSecretHere,
    /// The L2TPv3 Message Digest or nonce is missing or does not verify.
    Digest,
}

impl SecretCheck {
    /// The Result Code's message.
    pub fn text(self) -> &'static str {
        match self {
            Self::NoResponse => "no Challenge Response (the peer has no secret?)",
            Self::WrongResponse => "wrong Challenge Response (a different secret?)",
            Self::NoSecretHere => "challenged, but no secret is configured here",
            Self::Digest => "Message Digest missing or wrong (a different secret?)",
        }
    }
}

/// A question the caller must answer with `Endpoint::accept_*` or `Endpoint::reject_*`.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// A peer asks for a control connection (SCCRQ). Choose a profile and accept, or refuse.
    /// Retransmissions of the same SCCRQ do not raise the question again.
    Tunnel(TunnelRequest),
    /// A peer places a call (ICRQ or OCRQ) in an established tunnel.
    Session(SessionRequest),
}

/// An incoming SCCRQ, as much as can be read before a profile (and its secret) is chosen.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelRequest {
    /// Pass it back with the answer.
    pub id: DecisionId,
    /// The address it arrived on.
    pub local: SocketAddr,
    /// The peer.
    pub remote: SocketAddr,
    /// The encapsulation it arrived with.
    pub encap: Encapsulation,
    /// The Ver field of the SCCRQ's header.
    pub header_version: Version,
    /// Whether it carries the L2TPv3 AVPs (an L2TPv3 SCCRQ, or an RFC 3931 §4.7.3 probe).
    pub offers_v3: bool,
    /// The Host Name AVP.
    pub host_name: Vec<u8>,
    /// The Router ID AVP, if any.
    pub router_id: Option<u32>,
}

/// An incoming ICRQ or OCRQ.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionRequest {
    /// Pass it back with the answer.
    pub id: DecisionId,
    /// The tunnel it arrived in.
    pub tunnel: TunnelHandle,
    /// Its local id.
    pub tunnel_id: u32,
    /// The session id assigned locally (used if accepted).
    pub session_id: u32,
    /// The peer's session id.
    pub peer_session_id: u32,
    /// Incoming (ICRQ) or outgoing (OCRQ) call, as seen by the peer that sent it.
    pub call: CallType,
    /// The Pseudowire Type (L2TPv3), PPP for L2TPv2.
    pub pw_type: u16,
    /// The Remote End ID AVP (L2TPv3).
    pub remote_end_id: Option<Vec<u8>>,
    /// The Calling Number AVP.
    pub calling_number: Option<Vec<u8>>,
    /// The Called Number AVP.
    pub called_number: Option<Vec<u8>>,
    /// The Sub-Address AVP.
    pub sub_address: Option<Vec<u8>>,
    /// The Call Serial Number AVP.
    pub serial: Option<u32>,
    /// The Access Line Information AVPs of an ICRQ (RFC 5515 §5), if it had any.
    pub access_line: Option<Box<AccessLine>>,
    /// The ICRQ carried Connect Speed Update Enable (RFC 5515 §6.2): the LAC may send CSUNs
    /// with new connect speeds for the session ([`Event::ConnectSpeedUpdate`]).
    pub speed_updates: bool,
}

/// Who created a tunnel or session.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Origin {
    /// A local command.
    Local,
    /// A request from the peer.
    Peer,
}

/// Why a tunnel or session went down.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum DownCause {
    /// We sent StopCCN or CDN (command, protocol error, failed authentication, refusal).
    Local,
    /// The peer sent StopCCN or CDN.
    Peer,
    /// The peer stopped acknowledging control messages (RFC 2661 §5.8).
    RetriesExhausted,
    /// Setup did not complete in time.
    EstablishTimeout,
    /// The tunnel lost a simultaneous-open tie breaker (RFC 2661 §4.4.3).
    LostTieBreaker,
    /// The session's tunnel went down.
    TunnelDown,
    /// The tunnel had no session for its idle timeout (we sent StopCCN result 1).
    IdleTimeout,
    /// The peer restarted: it opened a new tunnel under the same tunnel id, and this one was
    /// removed without a StopCCN ([`Command::ForgetTunnel`]).
    PeerRestarted,
}

/// Why something went down: the cause and the result/error codes sent or received.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DownReason {
    /// What happened.
    pub cause: DownCause,
    /// The result code sent or received (or the closest code for local causes).
    pub result: u16,
    /// The error code, if any.
    pub error: Option<u16>,
    /// The peer's or our text, if any: the peer's as its octets, which need not be UTF-8
    /// (RFC 2661 §4.4.2 asks for text; a peer may send anything).
    pub message: Option<Vec<u8>>,
}

impl DownReason {
    /// The reason of an end that sent `sent` (in a StopCCN or CDN) because of `cause`, with
    /// `detail` (when given) as its own account instead of the message the peer read. Its
    /// codes are those the wire carried, as the peer reads them: a message goes after an error
    /// code, so a Result Code with a message and no error code carries error code 0 (RFC 2661
    /// §4.4.2, RFC 3931 §5.4.2).
    pub(crate) fn sent(cause: DownCause, sent: ResultCode, detail: Option<String>) -> Self {
        let error = sent.error.or_else(|| sent.message.as_ref().map(|_| 0));
        Self {
            cause,
            result: sent.result,
            error,
            message: detail.map(String::into_bytes).or(sent.message),
        }
    }
}

/// Something that happened, for the caller to act on or report.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A tunnel record exists (after a command, or after accepting an SCCRQ).
    TunnelCreated {
        /// The caller's handle.
        handle: TunnelHandle,
        /// The local id.
        tunnel_id: u32,
        /// The peer.
        remote: SocketAddr,
        /// Who asked for it.
        origin: Origin,
    },
    /// The control connection is established.
    TunnelUp {
        /// The caller's handle.
        handle: TunnelHandle,
        /// The local id.
        tunnel_id: u32,
        /// The peer's id.
        peer_tunnel_id: u32,
        /// The version negotiated.
        version: Version,
    },
    /// The tunnel is down; its sessions went down before this event.
    TunnelDown {
        /// The caller's handle.
        handle: TunnelHandle,
        /// The local id.
        tunnel_id: u32,
        /// The peer's id (0 if never learned).
        peer_tunnel_id: u32,
        /// Why.
        reason: DownReason,
    },
    /// The tunnel record is gone (after the StopCCN linger).
    TunnelDeleted {
        /// The caller's handle.
        handle: TunnelHandle,
        /// The local id.
        tunnel_id: u32,
    },
    /// A session record exists.
    SessionCreated {
        /// The tunnel's handle.
        tunnel: TunnelHandle,
        /// The session's handle.
        handle: SessionHandle,
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// Who asked for it.
        origin: Origin,
    },
    /// The session is established.
    SessionUp {
        /// The session's handle.
        handle: SessionHandle,
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// The peer's tunnel id.
        peer_tunnel_id: u32,
        /// The peer's session id.
        peer_session_id: u32,
    },
    /// The session is down.
    SessionDown {
        /// The session's handle.
        handle: SessionHandle,
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// Why.
        reason: DownReason,
    },
    /// A peer's call refused by the endpoint itself, before any [`Decision`]: its tunnel has
    /// its `max_sessions` already. The CDN is sent; no session record remains.
    CallRefused {
        /// The tunnel's handle.
        tunnel: TunnelHandle,
        /// The local tunnel id.
        tunnel_id: u32,
        /// The CDN's Result Code.
        refusal: Refusal,
    },
    /// The session record is gone.
    SessionDeleted {
        /// The session's handle.
        handle: SessionHandle,
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
    },
    /// The peer sent a WAN-Error-Notify (RFC 2661 §6.14, RFC 3931 §6.14).
    WanErrorNotify {
        /// The session's handle.
        handle: SessionHandle,
        /// The local session id.
        session_id: u32,
        /// The counters.
        errors: CallErrors,
    },
    /// The peer sent a Set-Link-Info (RFC 2661 §6.15, RFC 3931 §6.15).
    SetLinkInfo {
        /// The session's handle.
        handle: SessionHandle,
        /// The local session id.
        session_id: u32,
        /// The ACCM AVP, if present.
        accm: Option<Accm>,
    },
    /// The peer's CSUN gave new connect speeds for an established session whose ICRQ enabled
    /// updates (RFC 5515 §4.1). Updates the engine cannot apply are [`Event::Discarded`].
    ConnectSpeedUpdate {
        /// The session's handle.
        handle: SessionHandle,
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
        /// The new speeds; `None` when the update's Tx speed is 0 (unknown).
        speed: Option<ConnectSpeed>,
    },
    /// Install or remove data-plane state.
    Dataplane(DataplaneRequest),
    /// Input from `remote` was discarded or refused as malformed, unexpected or unwanted;
    /// `problem` says why and what the engine did (it is also counted in [`Stats`]).
    Discarded {
        /// Who sent it.
        remote: SocketAddr,
        /// The local tunnel id it was for (0: none or unknown).
        tunnel_id: u32,
        /// What was wrong.
        problem: crate::guard::Discard,
    },
}

/// A request to the data plane, carrying everything the kernel needs.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum DataplaneRequest {
    /// Create a kernel tunnel (after the control connection is established).
    InstallTunnel(TunnelParams),
    /// Delete it (before the sessions' records are deleted, after their removal requests).
    RemoveTunnel {
        /// The local tunnel id.
        tunnel_id: u32,
    },
    /// Create a kernel session.
    InstallSession(SessionParams),
    /// Delete it.
    RemoveSession {
        /// The local tunnel id.
        tunnel_id: u32,
        /// The local session id.
        session_id: u32,
    },
}

/// Data-plane parameters of a tunnel.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct TunnelParams {
    /// The caller's handle.
    pub handle: TunnelHandle,
    /// Our tunnel / control connection id.
    pub tunnel_id: u32,
    /// The peer's.
    pub peer_tunnel_id: u32,
    /// L2TPv2 or L2TPv3.
    pub version: Version,
    /// UDP or IP.
    pub encap: Encapsulation,
    /// Our address.
    pub local: SocketAddr,
    /// The peer's address.
    pub remote: SocketAddr,
    /// Whether to send UDP checksums on data packets.
    pub udp_checksums: bool,
}

/// Data-plane parameters of a session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionParams {
    /// The session's handle.
    pub handle: SessionHandle,
    /// Our tunnel id.
    pub tunnel_id: u32,
    /// Our session id.
    pub session_id: u32,
    /// The peer's tunnel id.
    pub peer_tunnel_id: u32,
    /// The peer's session id.
    pub peer_session_id: u32,
    /// The pseudowire type (PPP for L2TPv2).
    pub pw_type: u16,
    /// The cookie the peer puts on packets to us (checked on receipt).
    pub cookie: Cookie,
    /// The cookie we put on packets to the peer.
    pub peer_cookie: Cookie,
    /// The L2-Specific Sublayer.
    pub l2spec: L2SpecificSublayer,
    /// Whether we send data with sequence numbers (the peer asked for them).
    pub send_seq: bool,
    /// Whether we require sequence numbers on received data.
    pub recv_seq: bool,
    /// L2TPv2: whether we are the LNS of this call (PPP role); `false` for the LAC or L2TPv3.
    pub lns: bool,
    /// A name for the interface, from the session config.
    pub interface_name: Option<String>,
    /// L2TPv2 LNS: the proxy LCP and authentication AVPs of the LAC's ICCN (RFC 2661
    /// §4.4.5), if it sent any.
    pub proxy: Option<Box<crate::session::ProxyAvps>>,
    /// The connect speeds the peer's ICCN or OCCN gave for a call it placed or answered.
    pub connect_speed: Option<ConnectSpeed>,
}

/// A read-only view of a tunnel.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelInfo {
    /// The caller's handle.
    pub handle: TunnelHandle,
    /// The local id.
    pub tunnel_id: u32,
    /// The peer's id (0 until known).
    pub peer_tunnel_id: u32,
    /// The state.
    pub state: TunnelState,
    /// The version in use.
    pub version: Version,
    /// UDP or IP.
    pub encap: Encapsulation,
    /// Our address.
    pub local: SocketAddr,
    /// The peer's address.
    pub remote: SocketAddr,
    /// The peer's Host Name AVP.
    pub peer_host_name: Vec<u8>,
    /// Sessions in the tunnel.
    pub sessions: usize,
    /// Who created it.
    pub origin: Origin,
}

/// A read-only view of a session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionInfo {
    /// The caller's handle.
    pub handle: SessionHandle,
    /// The local tunnel id.
    pub tunnel_id: u32,
    /// The local session id.
    pub session_id: u32,
    /// The peer's session id (0 until known).
    pub peer_session_id: u32,
    /// The state.
    pub state: SessionState,
    /// The pseudowire type.
    pub pw_type: u16,
    /// Control messages of this session received (ICRQ, ICRP, ICCN, CDN ...).
    pub control_rx: u32,
    /// Control messages of this session sent (first transmissions).
    pub control_tx: u32,
}

/// Per-message-type counters, indexed by [`MessageType`].
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct MessageCounts([u64; 30]);

impl MessageCounts {
    /// The count for `message_type`.
    pub fn get(&self, message_type: MessageType) -> u64 {
        self.0.get(message_type as usize).copied().unwrap_or(0)
    }

    /// The sum over all types.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    pub(crate) fn add(&mut self, message_type: MessageType) {
        if let Some(n) = self.0.get_mut(message_type as usize) {
            *n += 1;
        }
    }
}

/// Counters of malformed or unusable input, by kind.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct MalformedCounts {
    /// The header could not be parsed (RFC 3931 §7.1: discarded).
    pub header: u64,
    /// The AVPs or their values were malformed, or a required AVP was missing.
    pub body: u64,
    /// For an unknown tunnel id, or not an SCCRQ on tunnel id 0.
    pub unknown_tunnel: u64,
    /// A session message for an unknown session.
    pub unknown_session: u64,
    /// A CDN for a session the tunnel does not have, most often one that both ends
    /// disconnected at once, their CDNs crossing: acknowledged and ignored, not malformed.
    pub late_cdn: u64,
    /// Data packets, which the control engine does not handle.
    pub data: u64,
    /// Version 1 (L2F) headers (RFC 2661 §3.1); also counted in `header`.
    pub l2f: u64,
    /// Messages with Ns beyond the receive window (RFC 2661 §5.8).
    pub outside_window: u64,
    /// Messages whose Nr acknowledges nothing sent.
    pub invalid_nr: u64,
    /// Messages unexpected in the tunnel's or session's state (FSM errors).
    pub wrong_state: u64,
    /// Calls refused for parameters the RFC rules out (RFC 3931 §5.4.4: CDN result 14 or 15).
    pub call_parameters: u64,
    /// Messages of a type we do not implement sent with the M bit clear (such as an RFC 5515
    /// CSURQ): acknowledged and ignored, not malformed.
    pub unsupported_message: u64,
    /// Connect Speed Update AVPs of CSUNs not applied: for a session the tunnel does not have,
    /// not established, or whose ICRQ did not enable updates (RFC 5515 §4.1).
    pub speed_update_ignored: u64,
    /// Control messages for a running tunnel from another address or port than its peer's
    /// (RFC 2661 §8.1).
    pub wrong_peer: u64,
    /// SCCRQs dropped by the per-peer set-up rate.
    pub peer_setup_rate: u64,
    /// SCCRQs dropped by the cap on tunnels in set-up.
    pub max_setup_tunnels: u64,
}

/// Endpoint-wide counters the daemon shows.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Stats {
    /// Control messages queued for sending, by type (first transmissions).
    pub sent: MessageCounts,
    /// Control messages delivered to the state machines, by type.
    pub received: MessageCounts,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Explicit acknowledgements sent (ZLB or ACK).
    pub acks_sent: u64,
    /// Explicit acknowledgements received.
    pub acks_received: u64,
    /// Failed tunnel authentications (challenge response or message digest).
    pub auth_failures: u64,
    /// Malformed input.
    pub malformed: MalformedCounts,
    /// Delivered messages whose Ns was not the one expected (must stay 0).
    pub order_violations: u64,
    /// Tunnels ever created.
    pub tunnels_created: u64,
    /// Sessions ever created.
    pub sessions_created: u64,
    /// Tunnels in set-up deleted to make room for a new SCCRQ under the set-up cap.
    pub setup_evicted: u64,
    /// Peers' calls refused because their tunnel had its `max_sessions` already.
    pub tunnel_max_sessions: u64,
}

/// One datagram to send.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Transmit {
    /// Our id of the tunnel that sends it. Several tunnels may share one pair of addresses, so
    /// the caller routes by this id, not by address.
    pub tunnel_id: u32,
    /// The local address to send from.
    pub local: SocketAddr,
    /// The destination.
    pub remote: SocketAddr,
    /// UDP or IP (protocol 115).
    pub encap: Encapsulation,
    /// The datagram: the L2TP header onwards (over IP, the 4-octet zero session id first).
    pub contents: Vec<u8>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "local",
            Self::Peer => "net",
        })
    }
}
