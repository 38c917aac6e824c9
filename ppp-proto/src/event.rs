//! What a link tells its host: [`Event`]s, the [`DownReason`] a link ended with, and its
//! [`Counters`].

use std::fmt;
use std::net::Ipv4Addr;

use crate::auth::{AuthMethod, AuthRequest};
use crate::config::InterfaceId;
use crate::wire::Framing;

/// Something the host must know or do.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Event {
    /// LCP is Opened (RFC 1661 §3.4) with these values.
    LinkUp(LinkInfo),
    /// The peer wants in: answer with `Link::auth_verdict` (the link waits, within the
    /// configured `auth_timeout`).
    Authenticate(AuthRequest),
    /// The peer refused our credentials (PAP Authenticate-Nak, CHAP Failure) with this
    /// message (RFC 1334 §2.2.2, RFC 1994 §4.2, RFC 2759 §6: MS-CHAPv2's `E=` error code
    /// and `M=` text), at most 255 octets as the peer sent them: for the host's log.
    /// [`Event::Down`] with [`DownReason::AuthRejectedByPeer`] follows.
    AuthRefused(Box<[u8]>),
    /// IPCP is Opened: IPv4 may flow.
    Ipv4Up(Ipv4Info),
    /// IPCP left Opened: stop forwarding IPv4.
    Ipv4Down,
    /// IPv6CP is Opened: IPv6 may flow.
    Ipv6Up(Ipv6Info),
    /// IPv6CP left Opened: stop forwarding IPv6.
    Ipv6Down,
    /// The link is finished (RFC 1661 §3.1, Link Dead): the last event of a link.
    Down(DownReason),
}

/// What LCP negotiated.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct LinkInfo {
    /// The largest packet the peer receives (its MRU; 1500 unless it asked otherwise).
    pub peer_mru: u16,
    /// The largest packet we receive (our MRU as acknowledged).
    pub local_mru: u16,
    /// Our Magic-Number, 0 if not negotiated.
    pub local_magic: u32,
    /// The peer's Magic-Number, 0 if it sent none.
    pub peer_magic: u32,
    /// The peer's ACCM if it sent one: for an LNS the Send ACCM of the SLI message that tells
    /// the LAC (RFC 2661 §6.14); the Receive ACCM is ours ([`LinkInfo::local_accm`]).
    pub peer_accm: Option<u32>,
    /// Our ACCM as acknowledged, if we asked for one.
    pub local_accm: Option<u32>,
    /// How data frames to the peer may be written: PFC and ACFC if it asked for them.
    pub framing: Framing,
    /// How we authenticate the peer, if we do.
    pub auth_peer: Option<AuthMethod>,
    /// How the peer authenticates us, if it does.
    pub auth_self: Option<AuthMethod>,
}

/// What IPCP negotiated.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Ipv4Info {
    /// Our address.
    pub local: Ipv4Addr,
    /// The peer's address.
    pub peer: Ipv4Addr,
    /// DNS servers the peer gave us (when we asked).
    pub dns: [Option<Ipv4Addr>; 2],
    /// NBNS servers the peer gave us (when we asked).
    pub nbns: [Option<Ipv4Addr>; 2],
}

/// What IPv6CP negotiated.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Ipv6Info {
    /// Our interface identifier (0 if it was rejected).
    pub local: InterfaceId,
    /// The peer's interface identifier (0 if it sent none).
    pub peer: InterfaceId,
}

/// Why the host closes a link (`Link::close`); it comes back in [`DownReason::Closed`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum CloseReason {
    /// An operator asked.
    Administrative,
    /// An operator deleted the link's lower layer (its L2TP session or tunnel).
    Deleted,
    /// The host's configuration no longer has the link's lower layer, or changed it.
    Reconfigured,
    /// The daemon is shutting down.
    Shutdown,
    /// A RADIUS Disconnect-Request (RFC 5176) or a similar external request.
    Disconnect,
    /// The host's own session limit or policy.
    Policy,
    /// A newer link of the same peer (the same user, logging in again) took its place.
    Replaced,
}

impl CloseReason {
    /// The text sent in the Terminate-Request.
    pub(crate) fn message(self) -> &'static str {
        match self {
            CloseReason::Administrative => "Administrative close",
            CloseReason::Deleted => "Administratively deleted",
            CloseReason::Reconfigured => "Configuration changed",
            CloseReason::Shutdown => "Shutting down",
            CloseReason::Disconnect => "Disconnect request",
            CloseReason::Policy => "Closed by policy",
            CloseReason::Replaced => "Replaced by a new login",
        }
    }
}

/// Why a link ended.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum DownReason {
    /// The host closed it.
    Closed(CloseReason),
    /// The peer sent a Terminate-Request.
    PeerTerminated,
    /// The lower layer (the L2TP session) went away (`Link::lower_down`).
    LowerLayerDown,
    /// LCP did not converge: Max-Configure requests went unanswered, or the peer kept
    /// Nak'ing past Max-Failure (RFC 1661 §4.6).
    NegotiationFailed,
    /// The peer rejected LCP itself, or a Code-Reject made LCP unusable (RFC 1661 §4.3 RXJ-).
    Rejected,
    /// The peer refused every authentication method we allow, or asked for one we cannot do
    /// and we require authentication.
    AuthNotNegotiated,
    /// The host rejected the peer's credentials.
    AuthFailed,
    /// The peer rejected our credentials (PAP Authenticate-Nak, CHAP Failure).
    AuthRejectedByPeer,
    /// The lower layer went down while the peer had our credentials (PAP Authenticate-Request
    /// or CHAP Response sent) and had not answered them: how some LNSes refuse a login, with
    /// a CDN and no Authenticate-Nak or Failure (l2tpns does).
    AuthNoVerdict,
    /// The peer's MS-CHAPv2 authenticator response was missing or wrong (RFC 2759 §5).
    AuthenticatorInvalid,
    /// Authentication did not finish within `auth_timeout`.
    AuthTimeout,
    /// No network protocol could be opened.
    NoNetworkProtocol,
    /// `echo_failures` Echo-Requests in a row went unanswered.
    EchoTimeout,
    /// No data for `idle_timeout`.
    IdleTimeout,
    /// `session_timeout` elapsed.
    SessionTimeout,
    /// The link is looped back: our own Magic-Number came back (RFC 1661 §6.4).
    Loopback,
    /// The peer started more renegotiations than `LinkConfig::max_renegotiations` allows in
    /// a minute: each takes the network layer down and authenticates again.
    Renegotiations,
}

impl DownReason {
    /// A short name for counters and metrics labels: `closed`, `peer_terminated`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Closed(CloseReason::Replaced) => "replaced_by_new_login",
            Self::Closed(_) => "closed",
            Self::PeerTerminated => "peer_terminated",
            Self::LowerLayerDown => "lower_down",
            Self::NegotiationFailed => "negotiation_failed",
            Self::Rejected => "rejected",
            Self::AuthNotNegotiated => "auth_not_negotiated",
            Self::AuthFailed => "auth_failed",
            Self::AuthRejectedByPeer => "auth_rejected_by_peer",
            Self::AuthNoVerdict => "auth_no_verdict",
            Self::AuthenticatorInvalid => "authenticator_invalid",
            Self::AuthTimeout => "auth_timeout",
            Self::NoNetworkProtocol => "no_network_protocol",
            Self::EchoTimeout => "echo_timeout",
            Self::IdleTimeout => "idle_timeout",
            Self::SessionTimeout => "session_timeout",
            Self::Loopback => "loopback",
            Self::Renegotiations => "renegotiations",
        }
    }

    /// The text sent in our Terminate-Request for this reason.
    pub(crate) fn message(&self) -> &'static str {
        match self {
            Self::Closed(r) => r.message(),
            Self::PeerTerminated | Self::LowerLayerDown | Self::AuthNoVerdict => "",
            Self::NegotiationFailed => "Negotiation failed",
            Self::Rejected => "LCP rejected",
            Self::AuthNotNegotiated => "No authentication protocol agreed",
            Self::AuthFailed => "Authentication failed",
            Self::AuthRejectedByPeer => "Failed to authenticate ourselves to peer",
            Self::AuthenticatorInvalid => "Authenticator response invalid",
            Self::AuthTimeout => "Authentication timed out",
            Self::NoNetworkProtocol => "No network protocols running",
            Self::EchoTimeout => "Peer not responding",
            Self::IdleTimeout => "Idle timeout",
            Self::SessionTimeout => "Session timeout",
            Self::Loopback => "Loopback detected",
            Self::Renegotiations => "Too many renegotiations",
        }
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed(r) => write!(f, "closed by the host ({})", r.message()),
            Self::PeerTerminated => f.write_str("the peer terminated the link"),
            Self::LowerLayerDown => f.write_str("the lower layer went down"),
            Self::NegotiationFailed => f.write_str("LCP negotiation did not converge"),
            Self::Rejected => f.write_str("the peer rejected LCP"),
            Self::AuthNotNegotiated => f.write_str("no authentication method agreed"),
            Self::AuthFailed => f.write_str("the peer failed authentication"),
            Self::AuthRejectedByPeer => f.write_str("the peer rejected our credentials"),
            Self::AuthNoVerdict => f.write_str(
                "the lower layer went down before the peer's verdict on our credentials",
            ),
            Self::AuthenticatorInvalid => {
                f.write_str("the peer's MS-CHAPv2 authenticator response is wrong")
            }
            Self::AuthTimeout => f.write_str("authentication timed out"),
            Self::NoNetworkProtocol => f.write_str("no network protocol could be opened"),
            Self::EchoTimeout => f.write_str("the peer stopped answering LCP echoes"),
            Self::IdleTimeout => f.write_str("idle timeout"),
            Self::SessionTimeout => f.write_str("session timeout"),
            Self::Loopback => f.write_str("the link is looped back"),
            Self::Renegotiations => f.write_str("the peer renegotiated too often"),
        }
    }
}

/// Counters of one link (control traffic only: the data path keeps its own).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Counters {
    /// Frames handed to `handle_frame`.
    pub frames_in: u32,
    /// Frames handed out by `poll_transmit`.
    pub frames_out: u32,
    /// Echo-Requests sent.
    pub echo_sent: u32,
    /// Echo-Requests that got no reply before the next was due.
    pub echo_missed: u32,
    /// Protocol-Rejects sent (frames of protocols we do not run).
    pub protocol_rejects: u32,
    /// Frames discarded as malformed (bad header, length or options).
    pub malformed: u32,
    /// Well-formed frames discarded as stale (RFC 1661 §5.2, "silently discarded"): an answer
    /// to a request already answered or never sent, or a packet the automaton's state has no
    /// use for; what a path that duplicates or delays frames brings.
    pub stale: u32,
    /// Frames silently discarded because their protocol may not run in the current phase.
    pub discarded: u32,
    /// Frames dropped because the transmit queue was full.
    pub queue_full: u32,
    /// PAP Authenticate-Requests or CHAP Responses with other credentials than those judged,
    /// that came after the verdict (or, PAP, while it was pending): answered with it, never
    /// judged (the link keeps the verdict it has).
    pub auth_other_requests: u32,
    /// Renegotiations the peer started: LCP, IPCP or IPv6CP left Opened on its packet
    /// (RFC 1661 §4.3, a Configure-Request, -Ack or -Nak, or a Terminate-Request of an NCP,
    /// in Opened).
    pub renegotiations: u32,
}
