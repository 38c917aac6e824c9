//! What the engine and the shell say to each other: the facts the engine starts with, the
//! commands it takes, and the events it asks the shell to carry out.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use l2tp_ctl::{DebugTarget, Params, Selector};
use radius_proto::client::{Failure, Service};
use radius_proto::{Attributes, Code};

use crate::dataplane::{DataplaneRequest, SocketChange};
use crate::scripts::ScriptEvent;

/// Facts about the running daemon that the config does not hold.
#[derive(Clone, Debug)]
pub struct HostFacts {
    /// The UDP addresses actually bound (ports filled in).
    pub listen: Vec<SocketAddr>,
    /// The addresses where IP-encapsulation (protocol 115) sockets are open: those of
    /// `listen` that could be opened, when any tunnel may run over IP.
    pub ip_listen: Vec<IpAddr>,
    /// Whether they are the kernel's L2TP/IP sockets, so that each tunnel over IP gets a
    /// socket of its own ([`crate::net::Framing::L2tpIp`]).
    pub ip_tunnel_sockets: bool,
    /// The control socket's path.
    pub control_socket: PathBuf,
    /// The system's host name, used when the config sets no `host_name`.
    pub host_name: String,
    /// The router id derived from a local IPv4 address, used when the config sets none.
    pub router_id: u32,
    /// Whether the data plane carries native PPP's frames, so that l2tpd can terminate the PPP
    /// of sessions itself.
    pub native_ppp: bool,
}

impl HostFacts {
    /// Whether IP-encapsulation (protocol 115) sockets are open.
    pub fn ip_encap(&self) -> bool {
        !self.ip_listen.is_empty()
    }
}

/// Something the engine asks of the shell.
#[derive(Clone, Debug)]
pub enum EngineEvent {
    /// A tunnel or session event for watchers.
    Notify(l2tp_ctl::Event),
    /// A request to the data plane; its outcome goes back through
    /// [`Engine::handle_dataplane_outcome`].
    Dataplane(DataplaneRequest),
    /// Open or close a tunnel's own socket.
    Socket(SocketChange),
    /// A user script to run (it follows the [`EngineEvent::Notify`] of the same event).
    Script(ScriptEvent),
    /// Resolve a peer's name, off the event loop and within a bound; the answer goes back
    /// through [`super::Engine::handle_resolved`].
    Resolve {
        /// The name.
        host: String,
    },
    /// A request for the RADIUS client; its answer goes back through
    /// [`super::Engine::handle_radius`].
    Radius(RadiusRequest),
    /// Tunnel `tid`, which the peer opened, is up, and the peer has other tunnels from the same
    /// address and port with the same tunnel id (`stale`): it restarted and forgot them, unless
    /// they belong to another client behind the same NAT. The shell keeps those whose socket
    /// has the same netfilter mark as `tid`'s (none on both counts as the same) and hands them
    /// to [`super::Engine::forget_stale_tunnels`].
    StaleTunnels {
        /// The new tunnel.
        tid: u32,
        /// The peer's other tunnels with its address, port and tunnel id.
        stale: Vec<u32>,
    },
}

/// What the engine asks of the shell's RADIUS client.
#[derive(Clone, Debug)]
pub enum RadiusRequest {
    /// Send an Access-Request (`Service::Access`) or an Accounting-Request
    /// (`Service::Accounting`) with `attributes`; the outcome comes back with `key`.
    Submit {
        /// Names the request in its outcome.
        key: u64,
        /// Authentication or accounting.
        service: Service,
        /// The request's attributes (a User-Password in clear: the client hides it).
        attributes: Attributes,
        /// For accounting: the session (tunnel id, session id) whose data counters the shell
        /// adds (octets with gigawords, packets, both ways), read from the data plane when it
        /// sends the request.
        counters: Option<(u32, u32)>,
    },
    /// Forget request `key` (its session went away): no outcome comes for it.
    Cancel {
        /// The request.
        key: u64,
    },
}

/// How a RADIUS request ended.
#[derive(Clone, Debug)]
pub enum RadiusOutcome {
    /// A server answered (Access-Accept, -Reject or -Challenge, or Accounting-Response), its
    /// authenticators checked.
    Reply {
        /// The answer's code.
        code: Code,
        /// Its attributes.
        attributes: Attributes,
        /// The server that answered.
        server: SocketAddr,
    },
    /// No server answered: every one stayed silent or is dead, too many requests wait, or the
    /// request does not fit in a packet.
    Failed(Failure),
    /// An Accounting-Request dropped from the full queue: its record is lost.
    Dropped,
}

/// Requests from `l2tpctl`, and from the data plane, that act on tunnels and sessions.
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
    /// `disconnect user NAME|address ADDR`: end native-PPP sessions gracefully.
    Disconnect(l2tp_ctl::PppSelector),
    /// `request speeds TUNNEL [ID|NAME]`: send an RFC 5515 CSURQ.
    RequestSpeeds(Selector, Option<Selector>),
}
