//! Sans-IO PPP for L2TP.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod event;
pub mod fsm;
pub mod ipcp;
pub mod ipv6cp;
pub mod lcp;
pub mod link;
mod outq;
mod timer;
pub mod wire;

#[cfg(test)]
mod tests;

pub use auth::{AuthId, AuthMethod, AuthRequest, AuthenticatorResponse, NtHash, Password, PeerCredentials, Verdict};
pub use config::{Credentials, InterfaceId, Ipv4Config, Ipv4Params, Ipv6Config, Ipv6Params, LcpConfig, LinkConfig, NetworkParams, Retries};
pub use event::{CloseReason, Counters, DownReason, Event, Ipv4Info, Ipv6Info, LinkInfo};
pub use link::{Activity, Link, Phase, VerdictError};
pub use l2tp_proto::rng::{DeterministicRng, Rng};
pub use l2tp_proto::time::Instant;
