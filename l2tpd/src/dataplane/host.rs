//! [`DataplaneHost`]: the core's side of the data plane. It owns the [`Dataplane`] in use and
//! each tunnel's own socket (UDP, or L2TP/IP where the kernel has it), so that a tunnel's
//! socket can be handed to the data plane when the tunnel is installed, and tells the shell
//! which sockets to read.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;

use l2tp_proto::wire::header::Encapsulation;
use tokio::sync::mpsc::UnboundedReceiver;

use super::api::{
    DataStats, Dataplane, DataplaneEvent, DataplaneOutcome, DataplaneRequest, SocketChange,
    TunnelInstalled,
};
use crate::net::{self, Framing};

/// A change to the tunnels' own sockets, for the shell.
#[derive(Debug)]
pub enum ShellSocket {
    /// A tunnel's socket was opened: send on it, and read it.
    Open {
        /// Local tunnel id.
        tid: u32,
        /// A duplicate of the socket.
        socket: UdpSocket,
        /// Its local address, as the engine asked for it.
        local: SocketAddr,
        /// How its datagrams are framed.
        framing: Framing,
    },
    /// The data plane reads the tunnel's socket now: stop reading it, keep sending on it.
    StopReading(u32),
    /// The tunnel's socket is closed.
    Close(u32),
}

#[derive(Debug)]
struct TunnelSocket {
    local: SocketAddr,
    remote: SocketAddr,
    socket: Option<UdpSocket>,
    adopted: bool,
}

/// The data plane and the tunnels' sockets.
#[derive(Debug)]
pub struct DataplaneHost {
    dataplane: Box<dyn Dataplane>,
    tunnels: HashMap<u32, TunnelSocket>,
    /// The peer of each installed tunnel, for log lines about its data.
    peers: HashMap<u32, SocketAddr>,
    changes: std::collections::VecDeque<ShellSocket>,
    /// Whether tunnels over IP get L2TP/IP sockets of their own (else they share the raw
    /// listen sockets).
    ip_tunnel_sockets: bool,
}

impl DataplaneHost {
    /// Hosts `dataplane`; `ip_tunnel_sockets` when the IP listen sockets are L2TP/IP ones
    /// ([`Framing::L2tpIp`]), so that each tunnel over IP needs a socket of its own to get its
    /// control messages.
    pub fn new(dataplane: Box<dyn Dataplane>, ip_tunnel_sockets: bool) -> Self {
        Self {
            dataplane,
            tunnels: HashMap::new(),
            peers: HashMap::new(),
            changes: Default::default(),
            ip_tunnel_sockets,
        }
    }

    /// The data plane in use.
    pub fn dataplane(&self) -> &dyn Dataplane {
        &*self.dataplane
    }

    /// Carries out the engine's socket change: opens a tunnel's socket (a failure is logged;
    /// the tunnel then uses a listen socket) or closes it.
    pub fn socket_change(&mut self, change: SocketChange) {
        match change {
            SocketChange::Open(spec) => {
                self.close(spec.tid);
                let opened = match spec.encap {
                    Encapsulation::Udp => {
                        Some((net::tunnel_udp(spec.local, spec.remote), Framing::Udp))
                    }
                    Encapsulation::Ip if self.ip_tunnel_sockets => Some((
                        net::tunnel_ip(spec.local, spec.tid, spec.remote),
                        Framing::L2tpIp,
                    )),
                    // The raw listen sockets see every packet.
                    Encapsulation::Ip => None,
                };
                let (socket, framing) = match opened {
                    Some((Ok(s), framing)) => (Some(s), framing),
                    Some((Err(e), framing)) => {
                        tracing::warn!(
                            "tunnel {}: cannot open its own socket {} -> {}: {e}; using the \
                             listen socket{}",
                            spec.tid,
                            spec.local,
                            spec.remote,
                            if framing == Framing::L2tpIp {
                                ", which does not get this tunnel's control messages"
                            } else {
                                ""
                            }
                        );
                        (None, framing)
                    }
                    None => (None, Framing::RawIp),
                };
                if let Some(dup) = socket.as_ref().and_then(|s| s.try_clone().ok()) {
                    tracing::debug!(
                        "tunnel {}: own socket {} -> {}",
                        spec.tid,
                        spec.local,
                        spec.remote
                    );
                    self.changes.push_back(ShellSocket::Open {
                        tid: spec.tid,
                        socket: dup,
                        local: spec.local,
                        framing,
                    });
                }
                self.tunnels.insert(
                    spec.tid,
                    TunnelSocket {
                        local: spec.local,
                        remote: spec.remote,
                        socket,
                        adopted: false,
                    },
                );
            }
            SocketChange::Close(tid) => self.close(tid),
        }
    }

    fn close(&mut self, tid: u32) {
        if let Some(t) = self.tunnels.remove(&tid)
            && t.socket.is_some()
        {
            self.changes.push_back(ShellSocket::Close(tid));
        }
    }

    /// Executes a data-plane request of the engine; the outcome goes back to the engine.
    pub fn execute(&mut self, request: &DataplaneRequest) -> DataplaneOutcome {
        match request {
            DataplaneRequest::InstallTunnel(spec) => {
                let fd = self
                    .tunnels
                    .get(&spec.tid)
                    .and_then(|t| t.socket.as_ref())
                    .map(AsFd::as_fd);
                let result = self.dataplane.install_tunnel(spec, fd);
                if result.is_ok() {
                    self.peers.insert(spec.tid, spec.peer);
                }
                if let Ok(TunnelInstalled {
                    adopted_socket: true,
                }) = result
                {
                    let t = self.tunnels.entry(spec.tid).or_insert(TunnelSocket {
                        local: spec.local,
                        remote: spec.peer,
                        socket: None,
                        adopted: false,
                    });
                    t.adopted = true;
                    if t.socket.is_some() {
                        self.changes.push_back(ShellSocket::StopReading(spec.tid));
                    }
                }
                DataplaneOutcome::TunnelInstalled {
                    tid: spec.tid,
                    result: result.map(|_| ()),
                }
            }
            DataplaneRequest::RemoveTunnel { tid } => {
                self.peers.remove(tid);
                if let Some(t) = self.tunnels.get_mut(tid) {
                    t.adopted = false;
                }
                if let Err(e) = self.dataplane.remove_tunnel(*tid) {
                    tracing::warn!("removing tunnel {tid}: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::InstallSession(spec) => DataplaneOutcome::SessionInstalled {
                tid: spec.tid,
                sid: spec.sid,
                result: self.dataplane.install_session(spec),
            },
            DataplaneRequest::RemoveSession { tid, sid } => {
                if let Err(e) = self.dataplane.remove_session(*tid, *sid) {
                    tracing::warn!("removing session {tid}/{sid}: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::SendPpp { tid, sid, frame } => {
                if let Err(e) = self.dataplane.send_ppp(*tid, *sid, frame) {
                    tracing::debug!("session {tid}/{sid}: sending a PPP frame: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::PppUp { tid, sid, net } => DataplaneOutcome::SessionInstalled {
                tid: *tid,
                sid: *sid,
                result: self.dataplane.ppp_up(*tid, *sid, net),
            },
            DataplaneRequest::PppDown { tid, sid } => {
                if let Err(e) = self.dataplane.ppp_down(*tid, *sid) {
                    tracing::warn!("session {tid}/{sid}: stopping its IP: {e}");
                }
                DataplaneOutcome::Removed
            }
        }
    }

    /// Offers a packet from one of the shell's sockets to the data plane; see
    /// [`Dataplane::handle_data`].
    pub fn handle_data(&mut self, encap: Encapsulation, packet: &[u8]) -> bool {
        self.dataplane.handle_data(encap, packet)
    }

    /// The addresses (local, remote) a control message that the data plane read on tunnel
    /// `tid`'s adopted socket came through; `None` when the data plane does not own that
    /// tunnel's socket (then the message is a copy the shell has already seen).
    pub fn control_source(&self, tid: u32) -> Option<(SocketAddr, SocketAddr)> {
        self.tunnels
            .get(&tid)
            .filter(|t| t.adopted)
            .map(|t| (t.local, t.remote))
    }

    /// The peer of installed tunnel `tid`.
    pub fn peer(&self, tid: u32) -> Option<SocketAddr> {
        self.peers.get(&tid).copied()
    }

    /// Data packets dropped outside any one session's counters.
    pub fn drops(&self) -> l2tp_dataplane::DataplaneTotals {
        self.dataplane.drops()
    }

    /// Data counters over every session, removed ones included; `None` without data.
    pub fn data_totals(&self) -> Option<DataStats> {
        self.dataplane.data_totals()
    }

    /// A session's data counters.
    pub fn session_stats(&self, tid: u32, sid: u32) -> Option<DataStats> {
        self.dataplane.session_stats(tid, sid)
    }

    /// The data plane's event channel (the first call takes it).
    pub fn take_events(&mut self) -> Option<UnboundedReceiver<DataplaneEvent>> {
        self.dataplane.take_events()
    }

    /// The next change to the tunnels' sockets for the shell.
    pub fn poll_change(&mut self) -> Option<ShellSocket> {
        self.changes.pop_front()
    }

    /// Numbers of installed tunnels and sessions.
    pub fn counts(&self) -> (usize, usize) {
        self.dataplane.counts()
    }

    /// Removes every tunnel and session from the data plane.
    pub fn remove_all(&mut self) {
        self.dataplane.remove_all();
    }
}
