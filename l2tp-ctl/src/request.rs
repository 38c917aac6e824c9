//! Requests a client sends: one per `l2tpctl` command, plus the event subscription.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::map::Params;

/// One request, tagged by `command` on the wire (`{"command":"show_tunnels"}`).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Request {
    /// `show system`: answered with [`Response::System`](crate::Response::System).
    ShowSystem,
    /// `show tunnels`: answered with [`Response::Tunnels`](crate::Response::Tunnels) (in pages
    /// when [`ListOptions::stream`] is set).
    ShowTunnels {
        /// Filters, and how to answer.
        #[serde(flatten)]
        list: ListOptions,
    },
    /// `show tunnel ID|NAME`: answered with [`Response::Tunnel`](crate::Response::Tunnel).
    ShowTunnel {
        /// The tunnel.
        tunnel: Selector,
    },
    /// `show sessions [TUNNEL]`: answered with [`Response::Sessions`](crate::Response::Sessions)
    /// (in pages when [`ListOptions::stream`] is set).
    ShowSessions {
        /// Only the sessions of this tunnel; every session when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tunnel: Option<Selector>,
        /// Filters, and how to answer.
        #[serde(flatten)]
        list: ListOptions,
    },
    /// `show session TUNNEL ID|NAME`: answered with
    /// [`Response::Session`](crate::Response::Session).
    ShowSession {
        /// The parent tunnel.
        tunnel: Selector,
        /// The session within it.
        session: Selector,
    },
    /// `show KIND profiles`: answered with [`Response::Profiles`](crate::Response::Profiles).
    ShowProfiles {
        /// Which kind of profile.
        kind: ProfileKind,
    },
    /// `show KIND profile NAME`: answered with [`Response::Profile`](crate::Response::Profile).
    ShowProfile {
        /// Which kind of profile.
        kind: ProfileKind,
        /// The profile's name.
        name: String,
    },
    /// `show ip pools`: answered with [`Response::IpPools`](crate::Response::IpPools).
    ShowIpPools,
    /// `show ip pool NAME`: answered with [`Response::IpPool`](crate::Response::IpPool).
    ShowIpPool {
        /// The pool's name.
        name: String,
    },
    /// `show radius`: answered with [`Response::Radius`](crate::Response::Radius).
    ShowRadius,
    /// `create tunnel NAME key=value ...`: answered with
    /// [`Response::Tunnel`](crate::Response::Tunnel).
    CreateTunnel {
        /// The new tunnel's name.
        name: String,
        /// Tunnel parameters, as in a `tunnel` block of the config file.
        #[serde(default)]
        params: Params,
    },
    /// `delete tunnel ID|NAME`: answered with [`Response::Done`](crate::Response::Done).
    DeleteTunnel {
        /// The tunnel.
        tunnel: Selector,
    },
    /// `create session TUNNEL NAME key=value ...`: answered with
    /// [`Response::Session`](crate::Response::Session).
    CreateSession {
        /// The parent tunnel.
        tunnel: Selector,
        /// The new session's name.
        name: String,
        /// Session parameters, as in a `session` block of the config file.
        #[serde(default)]
        params: Params,
    },
    /// `delete session TUNNEL ID|NAME`: answered with [`Response::Done`](crate::Response::Done).
    DeleteSession {
        /// The parent tunnel.
        tunnel: Selector,
        /// The session within it.
        session: Selector,
    },
    /// `reload`: re-read the config file as on SIGHUP. Answered with
    /// [`Response::Reloaded`](crate::Response::Reloaded), or an
    /// [`InvalidConfig`](crate::ErrorKind::InvalidConfig) error listing every problem.
    Reload,
    /// `debug tunnel|session ... on|off`: answered with [`Response::Done`](crate::Response::Done).
    Debug {
        /// What to debug.
        target: DebugTarget,
        /// On or off.
        enable: bool,
    },
    /// Subscribe to tunnel and session events: answered with
    /// [`Response::Watching`](crate::Response::Watching), then one event line per event.
    Watch,
    /// `disconnect user NAME` or `disconnect address ADDR`: ends the native-PPP sessions of a
    /// user, or the one that holds an address (LCP Terminate-Request, then a CDN). Answered with
    /// [`Response::Done`](crate::Response::Done).
    Disconnect {
        /// Whose sessions.
        who: PppSelector,
    },
    /// `request speeds TUNNEL [ID|NAME]`: as LNS, ask the LAC for the current connect speeds
    /// of a session, or of every session of the tunnel whose ICRQ enabled connect speed
    /// updates (an RFC 5515 CSURQ). Answered with [`Response::Done`](crate::Response::Done);
    /// the speeds arrive later, in the LAC's CSUN.
    RequestSpeeds {
        /// The tunnel.
        tunnel: Selector,
        /// The session; all the enabled ones when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<Selector>,
    },
}

/// Which native-PPP sessions `disconnect` ends.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PppSelector {
    /// Every session of the user of this name: the name the peer logged in with, or the
    /// User-Name of its RADIUS Access-Accept.
    User(String),
    /// The session whose peer holds this IPv4 address.
    Address(std::net::Ipv4Addr),
}

impl std::fmt::Display for PppSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PppSelector::User(u) => write!(f, "user {u:?}"),
            PppSelector::Address(a) => write!(f, "address {a}"),
        }
    }
}

impl Request {
    /// `show tunnels`, every tunnel, in one answer.
    pub fn show_tunnels() -> Self {
        Self::ShowTunnels {
            list: ListOptions::default(),
        }
    }

    /// `show sessions [TUNNEL]`, every session (of `tunnel`), in one answer.
    pub fn show_sessions(tunnel: Option<Selector>) -> Self {
        Self::ShowSessions {
            tunnel,
            list: ListOptions::default(),
        }
    }
}

/// Filters of `show tunnels` and `show sessions`, and how the answer comes.
///
/// Without `stream` the answer is one line, however long. With it, the answer comes in pages:
/// one reply line each, every one but the last marked `"more": true`
/// ([`ReplyFrame::more`](crate::ReplyFrame::more)); a client concatenates their lists. Each line
/// stays short, and the daemon serves its tunnels between two pages.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct ListOptions {
    /// Only those in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<crate::State>,
    /// At most this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Answer in pages.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stream: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A tunnel or session named by its local id or by its name. On the wire a number is an id and
/// a string is a name (`"tunnel": 4711` or `"tunnel": "lns1"`).
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Selector {
    /// The local tunnel or session id.
    Id(u32),
    /// The administrative name.
    Name(String),
}

impl Selector {
    /// Reads a command-line word: all decimal digits (fitting in 32 bits) is an id, anything
    /// else a name.
    pub fn parse(word: &str) -> Self {
        if !word.is_empty()
            && word.bytes().all(|b| b.is_ascii_digit())
            && let Ok(id) = word.parse()
        {
            return Self::Id(id);
        }
        Self::Name(word.to_owned())
    }

    /// Whether this selects the instance with local id `id` and name `name`. An id also
    /// matches a name spelled with the same digits, so an all-digit name stays reachable.
    pub fn matches(&self, id: u32, name: Option<&str>) -> bool {
        match self {
            Self::Id(n) => *n == id || name == Some(n.to_string().as_str()),
            Self::Name(n) => name == Some(n.as_str()),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(n) => write!(f, "{n}"),
            Self::Name(n) => write!(f, "\"{n}\""),
        }
    }
}

/// The profile kinds of the config file.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    /// `peer profile`.
    Peer,
    /// `tunnel profile`.
    Tunnel,
    /// `session profile`.
    Session,
    /// `pseudowire profile`.
    Pseudowire,
    /// `ppp profile`: the daemon's own PPP.
    Ppp,
}

impl ProfileKind {
    /// Every kind, in config-file order.
    pub const ALL: [ProfileKind; 5] = [
        Self::Peer,
        Self::Tunnel,
        Self::Session,
        Self::Pseudowire,
        Self::Ppp,
    ];

    /// The word used in commands and in the config file: `peer`, `tunnel`, `session`,
    /// `pseudowire`, `ppp`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Peer => "peer",
            Self::Tunnel => "tunnel",
            Self::Session => "session",
            Self::Pseudowire => "pseudowire",
            Self::Ppp => "ppp",
        }
    }

    /// The kind whose [`word`](ProfileKind::word) is `word`.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.word() == word)
    }
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// What a [`Request::Debug`] turns debugging on or off for.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DebugTarget {
    /// A tunnel.
    Tunnel {
        /// The tunnel.
        tunnel: Selector,
    },
    /// A session.
    Session {
        /// The parent tunnel.
        tunnel: Selector,
        /// The session within it.
        session: Selector,
    },
}
