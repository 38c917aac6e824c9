//! Sans-IO L2TP: the wire format of L2TPv2 (RFC 2661) and L2TPv3 (RFC 3931) and, on top of it,
//! the control protocol engine.
//!
//! This crate performs no I/O and reads no clock: callers hand it datagrams, commands and the
//! current time, and take back datagrams, events and the next deadline. Randomness is injected.
//!
//! Logs and `Debug` output of this crate never contain shared secrets.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod endpoint;
pub mod event;
pub mod reliable;
pub mod rng;
pub mod seq;
pub mod session;
mod slab;
pub mod time;
mod timer;
pub mod tunnel;
pub mod wire;

#[cfg(test)]
mod tests;

pub use endpoint::{Endpoint, EndpointConfig};
pub use event::{
    Command, CommandError, CommandOutcome, DataplaneRequest, Decision, DecisionId, DownCause,
    DownReason, Event, Origin, Refusal, SessionHandle, SessionInfo, SessionParams, SessionRequest,
    Stats, Transmit, TunnelHandle, TunnelInfo, TunnelParams, TunnelRequest,
};
pub use rng::{DeterministicRng, Rng};
pub use session::{CallType, DataSequencing, SessionConfig, SessionState};
pub use tunnel::{AuthMode, TunnelConfig, TunnelState, VersionMode};
