//! Tunnel and session events, streamed to watchers (`l2tpwatch`).

use serde::{Deserialize, Serialize};

use crate::response::{Encap, PseudowireType};

/// One tunnel or session event. Fields that do not apply to the event's kind are absent.
///
/// The fields mirror the `l2tpwatch` line format of the interface: every event carries `tid`
/// (and session events `sid`); `*_created` events carry names and profiles; `*_up` and `*_down`
/// the peer's ids; `*_down` the result. The verbose fields (`version`, `encap`, `peer` for
/// tunnels; `pseudowire_type`, `interface_name` for sessions) are filled whenever known.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Event {
    /// What happened.
    pub event: EventKind,
    /// Milliseconds since the Unix epoch when the daemon saw it.
    pub time_ms: u64,
    /// Local tunnel id.
    pub tid: u32,
    /// The peer's tunnel id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_tid: Option<u32>,
    /// Local session id (session events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<u32>,
    /// The peer's session id, when known (session events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_sid: Option<u32>,
    /// The tunnel's or session's name (created events; empty when unnamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The tunnel or session profile (created events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The pseudowire profile (session created events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pw_profile: Option<String>,
    /// The peer's address and port (tunnel events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// L2TP version, 2 or 3 (tunnel events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// Encapsulation (tunnel events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encap: Option<Encap>,
    /// Pseudowire type (session events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudowire_type: Option<PseudowireType>,
    /// The session's network interface (session events, once known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<String>,
    /// Result and error code with message (down events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultCode>,
    /// The user and addresses of a native-PPP session (`ppp_up`, `ppp_down`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppp: Option<Box<crate::ppp::PppEventInfo>>,
}

impl Event {
    /// An event of `kind` about tunnel `tid`, seen at `time_ms`, with nothing else filled in.
    pub fn new(event: EventKind, time_ms: u64, tid: u32) -> Self {
        Event {
            event,
            time_ms,
            tid,
            peer_tid: None,
            sid: None,
            peer_sid: None,
            name: None,
            profile: None,
            pw_profile: None,
            peer: None,
            version: None,
            encap: None,
            pseudowire_type: None,
            interface_name: None,
            result: None,
            ppp: None,
        }
    }
}

/// The kind of an [`Event`].
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A tunnel instance was created.
    TunnelCreated,
    /// A tunnel came up.
    TunnelUp,
    /// A tunnel went down.
    TunnelDown,
    /// A tunnel instance was deleted.
    TunnelDeleted,
    /// A session instance was created.
    SessionCreated,
    /// A session came up.
    SessionUp,
    /// A session went down.
    SessionDown,
    /// A session instance was deleted.
    SessionDeleted,
    /// The PPP of a native-PPP session reached the network phase with an address: the user is
    /// online.
    PppUp,
    /// The PPP of a native-PPP session that was up went down.
    PppDown,
}

impl EventKind {
    /// The `l2tpwatch` label: `TUNNEL CREATED`, ..., `SESSION DELETED`.
    pub fn label(self) -> &'static str {
        match self {
            Self::TunnelCreated => "TUNNEL CREATED",
            Self::TunnelUp => "TUNNEL UP",
            Self::TunnelDown => "TUNNEL DOWN",
            Self::TunnelDeleted => "TUNNEL DELETED",
            Self::SessionCreated => "SESSION CREATED",
            Self::SessionUp => "SESSION UP",
            Self::SessionDown => "SESSION DOWN",
            Self::SessionDeleted => "SESSION DELETED",
            Self::PppUp => "PPP UP",
            Self::PppDown => "PPP DOWN",
        }
    }

    /// Whether this is a session event.
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Self::SessionCreated
                | Self::SessionUp
                | Self::SessionDown
                | Self::SessionDeleted
                | Self::PppUp
                | Self::PppDown
        )
    }
}

/// An L2TP Result Code: result, error and optional message (RFC 2661 §4.4.2, RFC 3931 §5.4.2),
/// as sent or received in a StopCCN or CDN.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct ResultCode {
    /// Result code.
    pub result: u16,
    /// Error code (0 when absent).
    pub error: u16,
    /// Error message, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
