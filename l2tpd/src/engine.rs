//! The protocol-engine seam: what the daemon's shell needs from the sans-IO L2TP engine.
//!
//! The shell feeds the engine datagrams, time, config and commands, and drains what comes out
//! (datagrams to send, events, data-plane requests), in the quinn style of house-style §7.2.
//! The daemon runs [`crate::proto_engine::ProtoEngine`], the adapter over
//! `l2tp_proto::endpoint::Endpoint`. [`NoEngine`] is an engine-less stand-in for unit tests of
//! the shell: it has no tunnels or sessions, discards every datagram and refuses `create`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use l2tp_config::{Config, ConfigDiff};
use l2tp_ctl::{
    Counts, CtlError, DebugTarget, ErrorKind, Event, Params, Response, Selector, SessionDetail,
    SessionInfo, SystemStats, TunnelDetail, TunnelInfo,
};
use l2tp_proto::wire::header::Encapsulation;

use crate::dataplane::{DataplaneOutcome, DataplaneRequest};
use crate::scripts::ScriptEvent;

/// How a datagram travels.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Transport {
    /// UDP (L2TPv2, or L2TPv3 over UDP).
    Udp,
    /// L2TPv3 over IP, protocol 115 (RFC 3931 §4.1.1.1). The payload starts at the L2TP
    /// Session ID, whatever the socket delivers ([`crate::net::Framing`]).
    Ip,
}

impl From<Encapsulation> for Transport {
    fn from(e: Encapsulation) -> Self {
        match e {
            Encapsulation::Udp => Transport::Udp,
            Encapsulation::Ip => Transport::Ip,
        }
    }
}

impl From<Transport> for Encapsulation {
    fn from(t: Transport) -> Self {
        match t {
            Transport::Udp => Encapsulation::Udp,
            Transport::Ip => Encapsulation::Ip,
        }
    }
}

/// A datagram that arrived on one of the daemon's sockets.
#[derive(Clone, Copy, Debug)]
pub struct Datagram<'a> {
    /// UDP or IP.
    pub transport: Transport,
    /// The local address it arrived on (the socket's bound address).
    pub local: SocketAddr,
    /// Where it came from (port 0 for IP).
    pub remote: SocketAddr,
    /// The L2TP message.
    pub payload: &'a [u8],
}

/// A datagram the engine wants sent.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Transmit {
    /// UDP or IP.
    pub transport: Transport,
    /// The local address to send from, if it matters (a tunnel bound to `local`).
    pub local: Option<SocketAddr>,
    /// Where to.
    pub remote: SocketAddr,
    /// The local id of the tunnel it belongs to: the shell sends it on that tunnel's own
    /// socket ([`SocketChange::Open`]) when there is one, else on a listen socket.
    pub tunnel: Option<u32>,
    /// The L2TP message.
    pub payload: Vec<u8>,
}

/// A tunnel's own socket, connected to the peer, so that the kernel hands the tunnel's
/// datagrams to it and a kernel data plane can take it over. Over UDP it is bound to the same
/// local address and port as the listen socket (with `SO_REUSEADDR`); over IP it is an L2TP/IP
/// socket bound with the local tunnel id, where the kernel has those.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct TunnelSocket {
    /// Local tunnel id.
    pub tid: u32,
    /// UDP or IP.
    pub transport: Transport,
    /// The local address (and port) to bind.
    pub local: SocketAddr,
    /// The peer to connect to.
    pub remote: SocketAddr,
}

/// Something the engine reports to the shell.
#[derive(Clone, Debug)]
pub enum EngineEvent {
    /// A tunnel or session event for watchers and user scripts.
    Notify(Event),
    /// A request to the data plane; its outcome goes back through
    /// [`Engine::handle_dataplane_outcome`].
    Dataplane(DataplaneRequest),
    /// Open or close a tunnel's own socket; the core passes it on to the shell.
    Socket(SocketChange),
    /// A user script to run (it follows the [`EngineEvent::Notify`] of the same event).
    Script(ScriptEvent),
}

/// A change to the tunnels' own sockets.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SocketChange {
    /// Open a tunnel's socket. Failure is not fatal: the tunnel then uses a listen socket.
    Open(TunnelSocket),
    /// Close the socket of tunnel `tid`, if it has one.
    Close(u32),
}

/// Requests from `l2tpctl` that act on tunnels and sessions.
#[derive(Clone, Debug)]
pub enum Command {
    /// `create tunnel NAME key=value ...`.
    CreateTunnel {
        /// Name.
        name: String,
        /// Parameters as written.
        params: Params,
    },
    /// `delete tunnel ID|NAME`.
    DeleteTunnel(Selector),
    /// `create session TUNNEL NAME key=value ...`.
    CreateSession {
        /// Parent tunnel.
        tunnel: Selector,
        /// Name.
        name: String,
        /// Parameters as written.
        params: Params,
    },
    /// `delete session TUNNEL ID|NAME`.
    DeleteSession(Selector, Selector),
    /// The data plane lost tunnel `tid` (its kernel tunnel was deleted outside the daemon):
    /// close it (StopCCN result 2). A tunnel instance opens it again, as after any failure.
    TunnelLost {
        /// Local tunnel id.
        tid: u32,
        /// Why.
        why: String,
    },
    /// The data plane lost session `sid` of tunnel `tid` (its pppd exited, its interface was
    /// deleted): disconnect it (CDN result 1). A session instance places its call again, as
    /// after any failure.
    SessionLost {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// Why.
        why: String,
    },
    /// `debug ... on|off`.
    Debug(DebugTarget, bool),
}

/// The protocol engine as the shell drives it.
///
/// Every input takes `now`; after any input the shell drains [`Engine::poll_transmit`] and
/// [`Engine::poll_event`] until both are empty, then sleeps until [`Engine::poll_timeout`].
pub trait Engine: fmt::Debug {
    /// Applies a config: the first call (`diff` is `None`) starts every `tunnel` and `session`
    /// instance; later calls apply a SIGHUP reload whose differences are `diff`. Profiles in
    /// `config` apply to instances created afterwards.
    fn apply_config(&mut self, now: Instant, config: &Config, diff: Option<&ConfigDiff>);

    /// A datagram arrived.
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>);

    /// The deadline from [`Engine::poll_timeout`] has passed.
    fn handle_timeout(&mut self, now: Instant);

    /// The data plane finished a request.
    fn handle_dataplane_outcome(&mut self, now: Instant, outcome: DataplaneOutcome);

    /// An `l2tpctl` command; the answer goes straight back to the client.
    fn handle_command(&mut self, now: Instant, command: Command) -> Result<Response, CtlError>;

    /// Begins a graceful stop: StopCCN to every peer, data-plane state removed.
    fn begin_shutdown(&mut self, now: Instant);

    /// The next datagram to send. Changes after any input.
    fn poll_transmit(&mut self) -> Option<Transmit>;

    /// The next event. Changes after any input.
    fn poll_event(&mut self) -> Option<EngineEvent>;

    /// When [`Engine::handle_timeout`] is next due; `None` when nothing is pending.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Whether nothing is left to do after [`Engine::begin_shutdown`] (every peer has
    /// acknowledged, or given up on).
    fn is_idle(&self) -> bool;

    /// The daemon is about to exit: report every remaining session and tunnel as deleted
    /// (events and scripts), since they end with the process.
    fn finish_shutdown(&mut self) {}

    /// `show tunnels`.
    fn tunnels(&self, now: Instant) -> Vec<TunnelInfo>;

    /// `show tunnel ID|NAME`.
    fn tunnel(&self, now: Instant, tunnel: &Selector) -> Result<TunnelDetail, CtlError>;

    /// `show sessions [TUNNEL]`.
    fn sessions(
        &self,
        now: Instant,
        tunnel: Option<&Selector>,
    ) -> Result<Vec<SessionInfo>, CtlError>;

    /// `show session TUNNEL ID|NAME`.
    fn session(
        &self,
        now: Instant,
        tunnel: &Selector,
        session: &Selector,
    ) -> Result<SessionDetail, CtlError>;

    /// Current numbers of tunnels and sessions.
    fn counts(&self) -> Counts;

    /// The engine's counters (the protocol fields of [`SystemStats`]; the shell adds its own).
    fn stats(&self) -> SystemStats;
}

/// The stand-in engine: no tunnels, no sessions, every datagram discarded.
#[derive(Debug, Default)]
pub struct NoEngine {
    discarded: u64,
}

impl NoEngine {
    /// A new stand-in engine.
    pub fn new() -> Self {
        Self::default()
    }
}

fn not_supported(what: &str) -> CtlError {
    CtlError::new(
        ErrorKind::NotSupported,
        format!(
            "{what} is not yet supported: this l2tpd has no L2TP protocol engine yet (control \
             socket, config and reload only)"
        ),
    )
}

fn no_tunnel(t: &Selector) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no tunnel {t}"))
}

impl Engine for NoEngine {
    fn apply_config(&mut self, _now: Instant, config: &Config, _diff: Option<&ConfigDiff>) {
        let n = config.tunnels().len();
        if n > 0 {
            tracing::warn!(
                "{n} tunnel instance(s) in the config will not be started: no protocol engine yet"
            );
        }
    }

    fn handle_datagram(&mut self, _now: Instant, datagram: Datagram<'_>) {
        self.discarded += 1;
        tracing::debug!(
            "discarding {} byte {:?} datagram from {}: no protocol engine yet",
            datagram.payload.len(),
            datagram.transport,
            datagram.remote
        );
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn handle_dataplane_outcome(&mut self, _now: Instant, _outcome: DataplaneOutcome) {}

    fn handle_command(&mut self, _now: Instant, command: Command) -> Result<Response, CtlError> {
        match command {
            Command::CreateTunnel { .. } => Err(not_supported("creating tunnels")),
            Command::CreateSession { .. } => Err(not_supported("creating sessions")),
            Command::DeleteTunnel(t) => Err(no_tunnel(&t)),
            Command::DeleteSession(t, _) => Err(no_tunnel(&t)),
            Command::SessionLost { tid, .. } | Command::TunnelLost { tid, .. } => {
                Err(no_tunnel(&Selector::Id(tid)))
            }
            Command::Debug(DebugTarget::Tunnel { tunnel }, _) => Err(no_tunnel(&tunnel)),
            Command::Debug(DebugTarget::Session { tunnel, .. }, _) => Err(no_tunnel(&tunnel)),
        }
    }

    fn begin_shutdown(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self) -> Option<Transmit> {
        None
    }

    fn poll_event(&mut self) -> Option<EngineEvent> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_idle(&self) -> bool {
        true
    }

    fn tunnels(&self, _now: Instant) -> Vec<TunnelInfo> {
        Vec::new()
    }

    fn tunnel(&self, _now: Instant, tunnel: &Selector) -> Result<TunnelDetail, CtlError> {
        Err(no_tunnel(tunnel))
    }

    fn sessions(
        &self,
        _now: Instant,
        tunnel: Option<&Selector>,
    ) -> Result<Vec<SessionInfo>, CtlError> {
        match tunnel {
            Some(t) => Err(no_tunnel(t)),
            None => Ok(Vec::new()),
        }
    }

    fn session(
        &self,
        _now: Instant,
        tunnel: &Selector,
        _session: &Selector,
    ) -> Result<SessionDetail, CtlError> {
        Err(no_tunnel(tunnel))
    }

    fn counts(&self) -> Counts {
        Counts::default()
    }

    fn stats(&self) -> SystemStats {
        SystemStats {
            rx_discards: self.discarded,
            ..SystemStats::default()
        }
    }
}
