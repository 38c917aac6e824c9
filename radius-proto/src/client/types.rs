//! The client's configuration, handles, events and statistics.

use std::net::SocketAddr;
use std::time::Duration;

use l2tp_proto::time::Instant;

use crate::Secret;
use crate::code::Code;
use crate::crypt::AUTHENTICATOR_LEN;
use crate::packet::Packet;

/// One RADIUS server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Its address and port (usually 1812 for authentication, 1813 for accounting).
    pub address: SocketAddr,
    /// The secret shared with it. Never logged.
    pub secret: Secret,
    /// Lower is preferred. Servers of equal priority share the load (the one with fewer
    /// outstanding requests is chosen); a server of worse priority is used only while every
    /// better one is dead.
    pub priority: u8,
    /// How long to wait for a response to one transmission.
    pub timeout: Duration,
    /// Retransmissions to this server after the first transmission before it is declared dead
    /// and the request fails over.
    pub retries: u32,
    /// How long a dead server is left alone before it is tried again.
    pub dead_time: Duration,
    /// The most requests in flight to this server; more wait in the client's queue.
    pub max_outstanding: usize,
    /// Refuse Access-Accept, -Reject and -Challenge without a valid Message-Authenticator
    /// (the default, against Blast-RADIUS forgeries). Turn off only for old servers that
    /// cannot send one.
    pub require_message_authenticator: bool,
    /// Probe this server with Status-Server (RFC 5997) when its dead time is over, instead of
    /// giving it the next real request: it stays dead until it answers a probe (Access-Accept
    /// on an authentication port, Accounting-Response on an accounting port), and a probe that
    /// times out leaves it dead for another dead time. While no server of its service is alive,
    /// real requests still go to a server whose dead time is over, as without probing. Off by
    /// default: RFC 5997 forbids sending Status-Server to a server not known to support it.
    pub status_server: bool,
}

impl ServerConfig {
    /// A server with the defaults: priority 0, a 3 s timeout, 2 retries, 30 s dead time, 256
    /// outstanding requests, Message-Authenticator required, no Status-Server probes.
    pub fn new(address: SocketAddr, secret: Secret) -> Self {
        Self {
            address,
            secret,
            priority: 0,
            timeout: Duration::from_secs(3),
            retries: 2,
            dead_time: Duration::from_secs(30),
            max_outstanding: 256,
            require_message_authenticator: true,
            status_server: false,
        }
    }
}

/// The client's configuration.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Authentication servers.
    pub access_servers: Vec<ServerConfig>,
    /// Accounting servers.
    pub accounting_servers: Vec<ServerConfig>,
    /// The most Access-Requests waiting for a server; beyond, a request fails at once with
    /// [`Failure::QueueFull`].
    pub max_queued_access: usize,
    /// The most Accounting-Requests waiting for a server (none alive, or all busy); beyond,
    /// the oldest waiting Interim-Update is dropped (else the oldest waiting record) and
    /// reported with [`Event::AccountingDropped`].
    pub max_queued_accounting: usize,
    /// The most sockets the client asks for ([`Event::SocketWanted`]), each with 256
    /// identifiers per server.
    pub max_sockets: u16,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            access_servers: Vec::new(),
            accounting_servers: Vec::new(),
            max_queued_access: 10_000,
            max_queued_accounting: 10_000,
            max_sockets: 16,
        }
    }
}

/// A configuration the client cannot work with.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// More than 64 servers of one service.
    #[error("at most 64 servers of each service")]
    TooManyServers,
    /// A server with `max_outstanding` 0, or a zero timeout.
    #[error("server {0}: max_outstanding and timeout must not be zero")]
    Zero(SocketAddr),
    /// `max_sockets` is 0.
    #[error("max_sockets must not be zero")]
    NoSockets,
}

/// Authentication or accounting.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Service {
    /// Access-Request to an authentication server.
    Access,
    /// Accounting-Request to an accounting server.
    Accounting,
}

/// A request submitted to the client. Stale handles (of answered or cancelled requests) are
/// recognised and ignored.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct RequestHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A server, by its position in the client's list: access servers first, then accounting
/// servers, each in configuration order.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct ServerId(pub u16);

/// A socket of the host, by index: 0 exists from the start, more are asked for with
/// [`Event::SocketWanted`] and added with [`crate::client::Client::add_socket`]. A socket
/// must be able to reach every server (e.g. a dual-stack socket, or a pair of an IPv4 and an
/// IPv6 socket under one index).
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct SocketId(pub u16);

/// Where to send the datagram [`crate::client::Client::poll_transmit`] wrote.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Transmit {
    /// The socket to send from.
    pub socket: SocketId,
    /// The server's address.
    pub destination: SocketAddr,
    /// The server.
    pub server: ServerId,
}

/// What the client tells its host.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A server answered request `handle`; the request is finished.
    Reply {
        /// The request.
        handle: RequestHandle,
        /// The answer.
        reply: Reply,
    },
    /// Request `handle` failed; it is finished.
    Failed {
        /// The request.
        handle: RequestHandle,
        /// Why.
        failure: Failure,
    },
    /// Accounting request `handle` was dropped from the full queue (see
    /// [`ClientConfig::max_queued_accounting`]): its record is lost and must be logged.
    AccountingDropped {
        /// The request.
        handle: RequestHandle,
    },
    /// A server stopped answering: it is left alone for its dead time.
    ServerDead {
        /// The server.
        server: ServerId,
    },
    /// A dead server answered, or its dead time is over: it is used again.
    ServerAlive {
        /// The server.
        server: ServerId,
        /// What brought it back.
        reason: AliveReason,
    },
    /// Every socket has 256 requests in flight to some server: open one more socket and call
    /// [`crate::client::Client::add_socket`]. Asked again only after that call.
    SocketWanted,
}

/// Why a dead server is used again.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum AliveReason {
    /// It answered a real request.
    Answered,
    /// Its dead time is over (a server not probed with Status-Server).
    DeadTimeOver,
    /// It answered a Status-Server probe (RFC 5997).
    AnsweredStatusServer,
}

impl std::fmt::Display for AliveReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Answered => "answered a request",
            Self::DeadTimeOver => "dead time over",
            Self::AnsweredStatusServer => "answered Status-Server",
        })
    }
}

/// A verified answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The server that answered.
    pub server: ServerId,
    /// The answer (Access-Accept, -Reject or -Challenge, or Accounting-Response), its
    /// Response Authenticator and Message-Authenticator checked.
    pub packet: Packet,
    /// The Request Authenticator of the request, to reveal Tunnel-Password or MPPE keys of
    /// the answer with the server's secret ([`crate::client::Client::server_secret`]).
    pub request_authenticator: [u8; AUTHENTICATOR_LEN],
    /// From the last transmission to the answer.
    pub rtt: Duration,
}

impl Reply {
    /// The answer's code.
    pub fn code(&self) -> Code {
        self.packet.code
    }
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Failure {
    /// Every server it was sent to stayed silent through all retransmissions.
    TimedOut,
    /// No server was alive to send it to (every one is in its dead time), or none is
    /// configured.
    NoServer,
    /// Too many Access-Requests already wait ([`ClientConfig::max_queued_access`]).
    QueueFull,
    /// The attributes do not fit in a packet of 4096 octets.
    TooLong,
}

/// A server's state (`Display`: `alive` or `dead`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum ServerState {
    /// In use.
    Alive,
    /// Not used until `until` (its dead time), unless it answers before.
    Dead {
        /// The end of its dead time.
        until: Instant,
    },
}

impl std::fmt::Display for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Alive => "alive",
            Self::Dead { .. } => "dead",
        })
    }
}

impl std::fmt::Display for Service {
    /// `authentication` or `accounting`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Access => "authentication",
            Self::Accounting => "accounting",
        })
    }
}

/// Counters of one server.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct ServerStats {
    /// Requests sent to it (first transmissions).
    pub requests: u64,
    /// Retransmissions to it.
    pub retransmissions: u64,
    /// Requests for which it stayed silent through all retransmissions.
    pub timeouts: u64,
    /// Access-Accepts from it.
    pub accepts: u64,
    /// Access-Rejects from it.
    pub rejects: u64,
    /// Access-Challenges from it.
    pub challenges: u64,
    /// Accounting-Responses from it.
    pub accounting_responses: u64,
    /// Datagrams from it that did not decode or did not match a request.
    pub malformed: u64,
    /// Authentic answers to a request that had been answered already (or cancelled, or given
    /// up): late answers to an earlier transmission, or repeated ones.
    pub duplicates: u64,
    /// Datagrams from it with an invalid or missing authenticator.
    pub bad_authenticators: u64,
    /// The round-trip time of the last answer to a request sent once (an answer to a
    /// retransmitted one is not a sample: Karn's algorithm).
    pub last_rtt: Duration,
    /// Smoothed round-trip time (7/8 old + 1/8 new), of the same samples.
    pub smoothed_rtt: Duration,
    /// Status-Server probes sent to it (RFC 5997).
    pub probes: u64,
    /// Probes it answered validly.
    pub probes_answered: u64,
    /// Probes it left unanswered for its timeout.
    pub probes_timed_out: u64,
}

/// What [`crate::client::Client::servers`] says of one server.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    /// Its id.
    pub id: ServerId,
    /// What it serves.
    pub service: Service,
    /// Its address.
    pub address: SocketAddr,
    /// Its priority.
    pub priority: u8,
    /// Alive or dead.
    pub state: ServerState,
    /// Requests in flight to it.
    pub outstanding: usize,
    /// Its counters.
    pub stats: ServerStats,
}

/// Counters of the client as a whole.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct ClientStats {
    /// Datagrams from addresses that are no configured server.
    pub unknown_source: u64,
    /// Accounting requests dropped from the full queue.
    pub accounting_dropped: u64,
    /// Requests failed with [`Failure::QueueFull`].
    pub access_queue_full: u64,
}
