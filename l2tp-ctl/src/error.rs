//! Errors a request can end in, as sent on the wire.

use serde::{Deserialize, Serialize};

/// A failed request: what kind of failure, and a message for people.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CtlError {
    /// The category, for programs.
    pub kind: ErrorKind,
    /// What went wrong, for people. May span several lines (config diagnostics).
    pub message: String,
}

impl CtlError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// The category of a [`CtlError`].
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request line is not valid JSON or not a known request.
    BadRequest,
    /// The daemon is busy (too many clients) or shutting down.
    Busy,
    /// The daemon failed internally.
    Internal,
    /// A config file or parameter is invalid; the message holds every problem.
    InvalidConfig,
    /// The tunnel, session or profile asked for does not exist.
    NotFound,
    /// The daemon does not support this request (yet).
    NotSupported,
    /// The other side sent something this side cannot understand.
    Protocol,
    /// The request is valid but refused (a limit, a policy such as
    /// `deny_local_tunnel_creates`).
    Refused,
    /// The two sides speak different protocol versions.
    Version,
    /// A kind this side does not know, from a newer peer: its message still says what went
    /// wrong.
    #[serde(other)]
    Other,
}
