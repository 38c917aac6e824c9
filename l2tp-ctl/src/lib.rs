//! The protocol spoken on `l2tpd`'s control socket by `l2tpctl`, `l2tpwatch` and scripts.
//!
//! # Framing
//!
//! The socket is a Unix stream socket carrying newline-delimited JSON: every message is one JSON
//! object on one line (at most [`MAX_LINE`] bytes), and every message carries the protocol
//! [`version`](PROTOCOL_VERSION). A client writes one [`RequestFrame`] per line and reads one
//! [`ReplyFrame`] per line in answer, in order, on the same connection:
//!
//! ```text
//! > {"version":1,"request":{"command":"show_tunnel","tunnel":"lns1"}}
//! < {"version":1,"ok":{"tunnel":{"tid":4711,"peer_tid":17,"name":"lns1",...}}}
//! > {"version":1,"request":{"command":"create_tunnel","name":"t","params":{"peer":"192.0.2.1"}}}
//! < {"version":1,"error":{"kind":"not_supported","message":"..."}}
//! ```
//!
//! A listing (`show_tunnels`, `show_sessions`) asked for with `"stream": true`
//! ([`ListOptions`]) is answered in pages, one line each; every line but the last carries
//! `"more": true`, and the client concatenates their lists:
//!
//! ```text
//! > {"version":1,"request":{"command":"show_sessions","state":"up","stream":true}}
//! < {"version":1,"ok":{"sessions":[{...},...]},"more":true}
//! < {"version":1,"ok":{"sessions":[{...},...]}}
//! ```
//!
//! After a [`Request::Watch`] is answered with [`Response::Watching`], the daemon sends one
//! [`Reply::Event`] line per tunnel or session event until the client disconnects or the daemon
//! stops. A watcher that reads too slowly for the daemon's queue misses events; the daemon then
//! sends, where they were missed, one [`Reply::EventsLost`] line with how many:
//!
//! ```text
//! < {"version":1,"events_lost":1843}
//! ```
//!
//! A daemon answers a request with another `version` with an error of kind
//! [`ErrorKind::Version`], so old and new clients fail clearly rather than misreading fields.
//! Within one version, fields may be added to responses; readers ignore unknown fields.
//!
//! This crate has no I/O and no async: [`encode_request`], [`decode_request`], [`encode_reply`]
//! and [`decode_reply`] turn messages into lines and back.
//!
//! # Secrets
//!
//! Responses never carry secrets: a `secret` setting is reported as `"<redacted>"` when set. The
//! `Debug` output of [`OrderedMap`] (request parameters, settings) redacts every key that
//! contains `secret`, so requests can be logged.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod event;
mod map;
mod ppp;
mod request;
mod response;
pub mod text;

use serde::{Deserialize, Serialize};

pub use error::{CtlError, ErrorKind};
pub use event::{Event, EventKind, ResultCode};
pub use map::{OrderedMap, Params, SettingValue, Settings};
pub use ppp::{PppDetail, PppEventInfo, PppRadius, format_ifid, radius_text};
pub use request::{DebugTarget, ListOptions, PppSelector, ProfileKind, Request, Selector};
pub use response::{
    CallInfo, ChangeKind, ConfigChange, Counts, CreatedBy, Encap, IpPoolInfo, Limits, ProfileInfo,
    PseudowireType, RadiusInfo, RadiusServerInfo, RefusedBlock, ReloadSummary, Response,
    SessionDetail, SessionInUse, SessionInfo, SessionStats, State, SystemInfo, SystemStats,
    TunnelDetail, TunnelInfo, TunnelStats,
};

/// The version of this protocol. Every frame carries it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest line, in bytes, that either side accepts.
pub const MAX_LINE: usize = 1 << 20;

/// The default path of the control socket.
pub const DEFAULT_SOCKET: &str = "/run/l2tpd/l2tpd.sock";

/// One request line.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RequestFrame {
    /// The protocol version the client speaks.
    pub version: u32,
    /// What the client asks for.
    pub request: Request,
}

/// One line from the daemon: the answer to a request, or an event after a watch.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ReplyFrame {
    /// The protocol version the daemon speaks.
    pub version: u32,
    /// The answer or event.
    #[serde(flatten)]
    pub reply: Reply,
    /// A page of a streamed list ([`ListOptions::stream`]) that more pages follow.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

/// The body of a [`ReplyFrame`]: `{"ok": ...}`, `{"error": ...}`, `{"event": ...}` or
/// `{"events_lost": N}`.
// One reply is built and serialized per request or event, never stored in bulk: the size of
// the `show system` answer does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The request succeeded.
    Ok(Response),
    /// The request failed.
    Error(CtlError),
    /// A tunnel or session event, sent to watchers.
    Event(Event),
    /// This many events were not sent to this watcher, here in the stream of its events,
    /// because it read them too slowly.
    EventsLost(u64),
}

impl Reply {
    /// The response, or the error, of a request; an event is an [`ErrorKind::Protocol`] error
    /// here because a client that did not watch should never receive one.
    pub fn into_result(self) -> Result<Response, CtlError> {
        match self {
            Reply::Ok(r) => Ok(r),
            Reply::Error(e) => Err(e),
            Reply::Event(_) | Reply::EventsLost(_) => Err(CtlError::new(
                ErrorKind::Protocol,
                "unexpected event in answer to a request",
            )),
        }
    }
}

impl From<Result<Response, CtlError>> for Reply {
    fn from(r: Result<Response, CtlError>) -> Self {
        match r {
            Ok(r) => Reply::Ok(r),
            Err(e) => Reply::Error(e),
        }
    }
}

/// The line (with its trailing newline) that carries `request` at [`PROTOCOL_VERSION`].
pub fn encode_request(request: &Request) -> String {
    encode_line(&RequestFrame {
        version: PROTOCOL_VERSION,
        request: request.clone(),
    })
}

/// Parses one request line (with or without its newline).
///
/// The version is checked before the request, so a request from a newer client that this
/// daemon does not know is reported as a version mismatch, not as a malformed request.
pub fn decode_request(line: &str) -> Result<Request, CtlError> {
    #[derive(Deserialize)]
    struct VersionOnly {
        version: u32,
    }
    let v: VersionOnly = serde_json::from_str(line).map_err(|e| {
        CtlError::new(
            ErrorKind::BadRequest,
            format!("not a request frame ({e}); expected {{\"version\":N,\"request\":{{...}}}}"),
        )
    })?;
    if v.version != PROTOCOL_VERSION {
        return Err(version_mismatch(v.version));
    }
    let frame: RequestFrame = serde_json::from_str(line)
        .map_err(|e| CtlError::new(ErrorKind::BadRequest, format!("bad request: {e}")))?;
    Ok(frame.request)
}

/// The line (with its trailing newline) that carries `reply` at [`PROTOCOL_VERSION`].
pub fn encode_reply(reply: &Reply) -> String {
    encode_page(reply, false)
}

/// The line that carries `reply`, one page of a streamed list; `more` when pages follow.
pub fn encode_page(reply: &Reply, more: bool) -> String {
    encode_line(&ReplyFrame {
        version: PROTOCOL_VERSION,
        reply: reply.clone(),
        more,
    })
}

/// Parses one line from the daemon (with or without its newline).
///
/// A line of another protocol version is an [`ErrorKind::Version`] error, except that an error
/// reply is passed through whatever its version, so that the daemon's own explanation of a
/// mismatch reaches the user.
pub fn decode_reply(line: &str) -> Result<Reply, CtlError> {
    decode_page(line).map(|(reply, _)| reply)
}

/// As [`decode_reply`], with whether more pages of a streamed list follow.
pub fn decode_page(line: &str) -> Result<(Reply, bool), CtlError> {
    let frame: ReplyFrame = serde_json::from_str(line).map_err(|e| {
        CtlError::new(
            ErrorKind::Protocol,
            format!("the answer is not l2tpd's (is this its control socket?): {e}"),
        )
    })?;
    if frame.version != PROTOCOL_VERSION && !matches!(frame.reply, Reply::Error(_)) {
        return Err(version_mismatch(frame.version));
    }
    Ok((frame.reply, frame.more))
}

fn version_mismatch(theirs: u32) -> CtlError {
    CtlError::new(
        ErrorKind::Version,
        format!(
            "control protocol version {theirs} is not supported; this side speaks version \
             {PROTOCOL_VERSION} (are l2tpd and l2tpctl from the same release?)"
        ),
    )
}

fn encode_line<T: Serialize>(value: &T) -> String {
    // Serializing these types cannot fail: every map key is a string and no type has a
    // fallible Serialize impl.
    let mut line = serde_json::to_string(value).unwrap_or_else(|e| {
        format!(
            r#"{{"version":{PROTOCOL_VERSION},"error":{{"kind":"internal","message":"{}"}}}}"#,
            e.to_string().replace(['"', '\\'], "'")
        )
    });
    line.push('\n');
    line
}

#[cfg(test)]
mod tests;
