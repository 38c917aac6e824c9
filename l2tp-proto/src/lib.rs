//! Sans-IO L2TP: the wire format of L2TPv2 (RFC 2661) and L2TPv3 (RFC 3931) and, on top of it,
//! the control protocol engine.
//!
//! This crate performs no I/O and reads no clock: callers hand it datagrams, commands and the
//! current time, and take back datagrams, events and the next deadline. Randomness is injected.
//!
//! Logs and `Debug` output of this crate never contain shared secrets.
//!
//! # The engine
//!
//! [`Endpoint`] holds every tunnel and session. Feed it datagrams
//! ([`Endpoint::handle_datagram`]), commands ([`Endpoint::handle_command`]), answers to its
//! [`Decision`]s and timeouts ([`Endpoint::handle_timeout`]); drain
//! [`Endpoint::poll_transmit`], [`Endpoint::poll_event`] and [`Endpoint::poll_decision`], and
//! call again at [`Endpoint::poll_timeout`]. Randomness comes from an injected [`Rng`].
//!
//! Implemented:
//!
//! - reliable delivery ([`reliable`]) with ZLB (L2TPv2) or ACK (L2TPv3) acknowledgements,
//!   teardown after exhausted retransmissions, HELLO after silence or on request
//!   ([`Command::ProbeTunnel`]), StopCCN lingering;
//! - control connection setup as initiator and recipient, L2TPv2 and L2TPv3 over UDP, L2TPv3
//!   over IP, the RFC 3931 §4.7.3 v3→v2 fallback probe, tie breaking of simultaneous opens,
//!   Challenge/Response (L2TPv2) and Message Digest (L2TPv3, HMAC-MD5 or HMAC-SHA-1 as
//!   configured) authentication, hidden AVPs with random padding, refusals with result codes;
//! - incoming and outgoing calls for L2TPv2 (LAC and LNS) and L2TPv3, session tie breakers
//!   for calls of the same circuit (RFC 3931 §5.4.4), CDN from either side, WEN and SLI
//!   passed up, data-plane install/remove requests with every kernel parameter, and the
//!   closing of tunnels and sessions whose data path the caller reports lost;
//! - RFC 5515 connect speed updates ([`speed`]): Connect Speed Update Enable recorded from an
//!   ICRQ or sent in ours, CSUN updates reported as events or sent on command, CSURQ sent on
//!   command or answered for the calls that enabled updates;
//! - hostile input ([`guard`]): every discarded or refused input reported and counted, values
//!   the RFCs forbid refused as they say (`wire::ranges`), optional message types we do not
//!   implement acknowledged and ignored, and admission of new tunnels under load (a cap on
//!   tunnels in set-up, a per-peer SCCRQ rate).
//!
//! Not here: static (control-channel-less) L2TPv3 tunnels, which have no control connection
//! (the daemon keeps them); sending WEN or SLI on command; proxy LCP and proxy
//! authentication AVPs (decoded, never produced); a second Message Digest during a change of
//! secret (received messages are checked against the first); and moving the sessions of a
//! tunnel that lost a tie breaker to the winning one (they go down with it; the daemon's
//! instances place their calls again).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod endpoint;
pub mod event;
pub mod guard;
pub mod reliable;
pub mod rng;
pub mod seq;
pub mod session;
pub mod slab;
pub mod speed;
pub mod time;
mod timer;
pub mod tunnel;
pub mod wire;

#[cfg(test)]
mod tests;

pub use endpoint::{Endpoint, EndpointConfig};
pub use event::{
    Command, CommandError, CommandOutcome, ConnectSpeed, DataplaneRequest, Decision, DecisionId,
    DownCause, DownReason, Event, Origin, Probe, Refusal, SecretCheck, SessionHandle, SessionInfo,
    SessionParams, SessionRequest, Stats, Transmit, TunnelHandle, TunnelInfo, TunnelParams,
    TunnelRequest,
};
pub use guard::{Admission, Discard, SpeedUpdateIgnored};
pub use rng::{DeterministicRng, Rng};
pub use session::{
    CallType, DEFAULT_TX_CONNECT_SPEED, DataSequencing, SessionConfig, SessionState,
};
pub use speed::SpeedChange;
pub use tunnel::{AuthMode, TunnelConfig, TunnelState, VersionMode};
