//! [`DataplaneHost`]: the core's side of the data plane. It owns the [`Dataplane`] in use and
//! each tunnel's own socket (UDP, or L2TP/IP where the kernel has it), so that a tunnel's
//! socket can be handed to the data plane when the tunnel is installed, and tells the shell
//! which sockets to read. It gives each tunnel's socket the netfilter mark learnt for the
//! tunnel ([`crate::marks`]): when it opens the socket, or at once when the mark comes later.
//! On kernels that cannot tell apart the data of tunnels whose peers share an address and
//! port, it carries the later ones apart ([`super::shared`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::Instant;

use l2tp_proto::wire::header::{Encapsulation, Version};
use tokio::sync::mpsc::UnboundedReceiver;

use super::api::{
    Dataplane, DataplaneError, DataplaneEvent, DataplaneOutcome, DataplaneRequest,
    SessionInstalled, SessionSpec, SocketChange, TunnelInstalled,
};
use super::shared::{Apart, Groups, Linger, Tuple, join_ids};
use crate::marks::{Marks, PeerTunnel};
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
        /// It reports the netfilter mark of each datagram (`SO_RCVMARK`): a peer behind the
        /// same NAT as this tunnel's sends its SCCRQ to this socket, not to a listen socket.
        marks: bool,
        /// The peer, for a socket that is not connected to it (a tunnel carried apart, whose
        /// socket is connected to the peer's address with port 0): send to it explicitly.
        peer: Option<SocketAddr>,
    },
    /// The data plane reads the tunnel's socket now: stop reading it, keep sending on it.
    StopReading(u32),
    /// The data plane no longer reads the tunnel's socket, which stays open while the tunnel
    /// waits out its StopCCN: read it again.
    ResumeReading(u32),
    /// The tunnel's socket is closed.
    Close(u32),
}

#[derive(Debug)]
struct TunnelSocket {
    local: SocketAddr,
    remote: SocketAddr,
    socket: Option<UdpSocket>,
    adopted: bool,
    /// The peer's address and tunnel id, for a tunnel the peer opened.
    peer: Option<PeerTunnel>,
    /// The netfilter mark its socket sends with.
    mark: Option<u32>,
    /// Its (local, remote) over UDP.
    tuple: Option<Tuple>,
    /// It is carried apart ([`super::shared`]): its socket is connected to the peer's address
    /// with port 0 only.
    apart: bool,
    /// Its L2TP version: whether the data plane tells it apart from the other tunnels of its
    /// address and port depends on it.
    version: Version,
    /// Its data-plane tunnel stays until its socket closes ([`Self::leave_group`]).
    linger: Linger,
    /// ICMP port unreachables reported on its socket while the shell read it
    /// ([`DataplaneHost::note_peer_unreachable`]).
    unreachable: u64,
}

/// The data plane and the tunnels' sockets.
#[derive(Debug)]
pub struct DataplaneHost {
    dataplane: Box<dyn Dataplane>,
    tunnels: HashMap<u32, TunnelSocket>,
    /// The peer of each installed tunnel, for log lines about its data.
    peers: HashMap<u32, SocketAddr>,
    /// The peers' addresses of the installed tunnels over IP, with how many tunnels each: the
    /// data sockets connected to them get their data packets ([`Self::is_ip_peer`]).
    ip_peers: HashMap<IpAddr, u32>,
    changes: std::collections::VecDeque<ShellSocket>,
    /// Whether tunnels over IP get L2TP/IP sockets of their own (else they share the raw
    /// listen sockets).
    ip_tunnel_sockets: bool,
    /// Marks learnt for tunnels that have no socket yet.
    marks: Marks,
    /// The tunnel of each (peer address, peer tunnel id), for marks learnt late.
    by_peer: HashMap<PeerTunnel, u32>,
    /// Whether the tunnels' sockets report marks (`learn_sccrq_mark`).
    sccrq_marks: bool,
    /// The UDP tunnels by their addresses and ports.
    groups: Groups,
    /// The tunnels carried apart, and their sessions.
    apart: Apart,
    /// What carries them: the userspace data plane, where it can carry PPP.
    fallback: Option<Box<dyn Dataplane>>,
    /// Tunnel sockets must have descriptor numbers below this ([`crate::limits`]).
    fd_ceiling: Option<i32>,
    /// Tunnels put on the listen socket for want of descriptors, and when that was last logged.
    fd_refusals: (u64, Option<Instant>),
    /// Data packets no data plane took, dropped here: counted with the data planes' own
    /// `rx_unknown_session` ([`DataplaneHost::drops`]).
    unclaimed: u64,
    /// ICMP port unreachables reported on the tunnels' sockets the shell reads, removed
    /// tunnels' included: counted with the data planes' own `peer_unreachable`.
    unreachable: u64,
    /// Sessions whose installation failed: the engine still asks to remove them, and the data
    /// plane, which has nothing of them, need not be asked.
    failed: std::collections::HashSet<(u32, u32)>,
    /// PPP frames of the daemon's own that a data plane which does not count them failed to
    /// send ([`DataplaneHost::note_ppp_unsent`]): by session, and in all.
    ppp_unsent: (HashMap<(u32, u32), u64>, u64),
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
            ip_peers: HashMap::new(),
            changes: Default::default(),
            ip_tunnel_sockets,
            marks: Marks::default(),
            by_peer: HashMap::new(),
            sccrq_marks: false,
            groups: Groups::default(),
            apart: Apart::default(),
            fallback: None,
            fd_ceiling: None,
            fd_refusals: (0, None),
            unclaimed: 0,
            unreachable: 0,
            failed: Default::default(),
            ppp_unsent: Default::default(),
        }
    }

    /// Gives the tunnels carried apart a data plane of their own (see [`super::shared`]);
    /// without one, their sessions are refused.
    pub fn with_fallback(mut self, fallback: Option<Box<dyn Dataplane>>) -> Self {
        self.fallback = fallback;
        self
    }

    /// Has the tunnels' own UDP sockets report the netfilter mark of each datagram
    /// (`learn_sccrq_mark`), as the listen sockets do: once a tunnel's socket is connected to
    /// a NAT's address and port, the SCCRQs of the other clients behind that NAT arrive on it.
    pub fn with_sccrq_marks(mut self, on: bool) -> Self {
        self.sccrq_marks = on;
        self
    }

    /// Keeps tunnel sockets below descriptor number `ceiling` (`None`: no ceiling); a tunnel
    /// whose socket would be above it uses the listen socket, which is logged.
    pub fn with_fd_ceiling(mut self, ceiling: Option<i32>) -> Self {
        self.fd_ceiling = ceiling;
        self
    }

    /// Whether `fd` is below the descriptor ceiling; a tunnel socket above it is refused and
    /// logged (at most once a minute, with the number refused).
    fn within_fd_ceiling(
        &mut self,
        now: Instant,
        tid: u32,
        fd: std::os::fd::BorrowedFd<'_>,
    ) -> bool {
        use std::os::fd::AsRawFd;
        let Some(ceiling) = self.fd_ceiling else {
            return true;
        };
        if fd.as_raw_fd() < ceiling {
            return true;
        }
        let (refused, last) = &mut self.fd_refusals;
        *refused += 1;
        if last.is_none_or(|t| now.duration_since(t) >= std::time::Duration::from_secs(60)) {
            *last = Some(now);
            tracing::warn!(
                "tunnel {tid}: no file descriptor left for a socket of its own below \
                 RLIMIT_NOFILE less {} kept for the control socket and scripts; it uses the \
                 listen socket ({refused} tunnels so far); raise the limit (LimitNOFILE=)",
                crate::limits::SPARE_FDS
            );
        }
        false
    }

    /// The data plane in use.
    pub fn dataplane(&self) -> &dyn Dataplane {
        &*self.dataplane
    }

    /// Carries out the engine's socket change: opens a tunnel's socket (a failure is logged;
    /// the tunnel then uses a listen socket), with the mark learnt for the tunnel if any, or
    /// closes it.
    pub fn socket_change(&mut self, now: Instant, change: SocketChange) {
        match change {
            SocketChange::Open(spec) => {
                self.close(spec.tid);
                let peer = (spec.peer_tid != 0).then_some((spec.remote.ip(), spec.peer_tid));
                let learnt = peer.and_then(|key| self.marks.take(now, key));
                let mark = learnt.as_ref().map(|l| l.mark);
                let tuple = (spec.encap == Encapsulation::Udp).then_some((spec.local, spec.remote));
                let others = tuple.map_or_else(Vec::new, |t| self.groups.join(spec.tid, t));
                let apart =
                    !others.is_empty() && !self.dataplane.separates_shared_peers(spec.version);
                if apart {
                    self.log_apart(spec.tid, spec.remote, &others);
                } else if !others.is_empty() {
                    tracing::info!(
                        "tunnel {}: its peer {} has tunnel(s) {} on the same address and port \
                         (clients behind one NAT); the {} data plane tells their data apart by \
                         tunnel and session ids, and carries it too",
                        spec.tid,
                        spec.remote,
                        join_ids(&others),
                        self.dataplane.name()
                    );
                }
                let opened = match spec.encap {
                    Encapsulation::Udp if apart => Some((
                        net::tunnel_udp_apart(spec.local, spec.remote, mark),
                        Framing::Udp,
                    )),
                    Encapsulation::Udp => {
                        Some((net::tunnel_udp(spec.local, spec.remote, mark), Framing::Udp))
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
                // The shell's copy, both below the ceiling, or neither: the listen socket.
                let dup = socket.as_ref().and_then(|s| s.try_clone().ok());
                let fits = |h: &mut Self, s: &Option<UdpSocket>| {
                    s.as_ref()
                        .is_none_or(|s| h.within_fd_ceiling(now, spec.tid, s.as_fd()))
                };
                let (socket, dup) = if fits(self, &socket) && fits(self, &dup) {
                    (socket, dup)
                } else {
                    (None, None)
                };
                let marks = framing == Framing::Udp
                    && self.sccrq_marks
                    && socket.as_ref().is_some_and(|s| {
                        l2tp_dataplane::marks::set_receive_mark(s.as_fd()).is_ok()
                    });
                if let Some(dup) = dup {
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
                        marks,
                        peer: apart.then_some(spec.remote),
                    });
                }
                if let Some(key) = peer {
                    self.by_peer.insert(key, spec.tid);
                }
                self.tunnels.insert(
                    spec.tid,
                    TunnelSocket {
                        local: spec.local,
                        remote: spec.remote,
                        socket,
                        adopted: false,
                        peer,
                        mark: None,
                        tuple,
                        apart,
                        version: spec.version,
                        linger: Linger::No,
                        unreachable: 0,
                    },
                );
                if let Some(learnt) = learnt {
                    self.apply_mark(spec.tid, &learnt);
                }
            }
            SocketChange::Close(tid) => self.close(tid),
        }
    }

    fn close(&mut self, tid: u32) {
        // The socket that takes over from this one first, so that it gets the datagrams
        // before this one is gone (the kernel prefers the newer of two equal sockets).
        self.leave_group(tid);
        if let Some(t) = self.tunnels.remove(&tid) {
            // Its data-plane tunnel goes just before its socket does; but first its socket is
            // connected to the peer's address with port 0, so that the group's datagrams go to
            // another tunnel's socket from now on, not to one that has no tunnel any more.
            if t.linger == Linger::Removing {
                if let Some(s) = &t.socket {
                    let anyport = SocketAddr::new(t.remote.ip(), 0);
                    if let Err(e) = socket2::SockRef::from(s).connect(&anyport.into()) {
                        tracing::debug!("tunnel {tid}: connecting its socket to {anyport}: {e}");
                    }
                }
                if let Err(e) = self.dataplane.remove_tunnel(tid) {
                    tracing::warn!("removing tunnel {tid}: {e}");
                }
            }
            if let Some(key) = t.peer
                && self.by_peer.get(&key) == Some(&tid)
            {
                self.by_peer.remove(&key);
            }
            if t.socket.is_some() {
                self.changes.push_back(ShellSocket::Close(tid));
            }
        }
    }

    /// Tunnel `tid` went down (it may never have come up, and its socket stays while it waits
    /// out its StopCCN): see [`Self::leave_group`].
    pub fn tunnel_down(&mut self, tid: u32) {
        self.leave_group(tid);
    }

    /// Tunnel `tid` carries no more data (its data-plane tunnel is removed, or its socket
    /// closed): it leaves the group of its peer's address and port, so that the next tunnel
    /// from there (the same peer's new tunnel while this one waits out its StopCCN, or another
    /// client behind its NAT) is not carried apart on its account; if its socket took the
    /// group's datagrams, the oldest tunnel carried apart takes over.
    ///
    /// On a data plane that tells the group's tunnels apart, none is carried apart, and the
    /// socket that gets the group's datagrams may be this one's still (the kernel gives them
    /// to one of the equal sockets, and the others' data packets reach their tunnels through
    /// it): its data-plane tunnel then stays until its socket closes, so that the others' data
    /// is not passed up to the shell, and lost, while it waits out its StopCCN.
    fn leave_group(&mut self, tid: u32) {
        let Some(t) = self.tunnels.get(&tid) else {
            return;
        };
        let (apart, version) = (t.apart, t.version);
        let Some(tuple) = t.tuple else {
            return;
        };
        self.groups.leave(tid, tuple);
        let linger = !apart
            && self.dataplane.separates_shared_peers(version)
            && self.groups.others(tid, tuple).next().is_some();
        if let Some(t) = self.tunnels.get_mut(&tid) {
            t.tuple = None;
            if linger {
                t.linger = Linger::Yes;
            }
        }
        if !apart && !linger {
            self.take_over(tid, tuple);
        }
    }

    /// The socket of tunnel `gone`, which received the datagrams of `tuple`'s address and port
    /// for the tunnels carried apart, is closed: the oldest of those tunnels gets a socket
    /// connected to that address and port, which the shell reads (their data then reaches
    /// their data plane through [`Self::handle_data`], as before), and which reports marks
    /// (the SCCRQs of later clients behind that NAT arrive on it).
    fn take_over(&mut self, gone: u32, tuple: Tuple) {
        let Some(tid) = self
            .groups
            .others(gone, tuple)
            .find(|t| self.tunnels.get(t).is_some_and(|t| t.apart))
        else {
            return;
        };
        let (local, remote) = tuple;
        let mark = self.tunnels.get(&tid).and_then(|t| t.mark);
        let socket = match net::tunnel_udp(local, remote, mark) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(
                    "tunnel {tid}: cannot open a socket {local} -> {remote} in place of tunnel \
                     {gone}'s: {e}; the data of the tunnels carried apart from {remote} is lost"
                );
                return;
            }
        };
        let marks =
            self.sccrq_marks && l2tp_dataplane::marks::set_receive_mark(socket.as_fd()).is_ok();
        let Ok(dup) = socket.try_clone() else {
            return;
        };
        crate::notice!(
            "tunnel {tid}: its socket is connected to {remote} now, in place of tunnel {gone}'s, \
             which is gone; the datagrams of the tunnels carried apart from {remote} arrive on it"
        );
        self.changes.push_back(ShellSocket::Open {
            tid,
            socket: dup,
            local,
            framing: Framing::Udp,
            marks,
            peer: Some(remote),
        });
        if let Some(t) = self.tunnels.get_mut(&tid) {
            t.socket = Some(socket);
        }
    }

    /// Says that tunnel `tid` is carried apart, and where.
    fn log_apart(&self, tid: u32, remote: SocketAddr, others: &[u32]) {
        let others = join_ids(others);
        let (name, rest) = match &self.fallback {
            Some(fb) => (fb.name(), "carries it"),
            None => (
                "none",
                "the userspace data plane cannot carry PPP here, so its sessions are refused",
            ),
        };
        crate::notice!(
            "tunnel {tid}: its peer {remote} has tunnel(s) {others} on the same address and \
             port (clients behind one NAT), and this kernel's L2TP gives all their data to one \
             tunnel's socket; tunnel {tid} is carried apart (fallback data plane: {name}; its \
             socket is not connected to the peer's port): {rest}"
        );
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
                let apart = self.tunnels.get(&spec.tid).is_some_and(|t| t.apart);
                let result = if apart {
                    self.apart.add_tunnel(spec.tid, spec.version);
                    match &mut self.fallback {
                        Some(fb) => fb.install_tunnel(spec, fd),
                        // Its control messages still flow; its sessions are refused.
                        None => Ok(TunnelInstalled::default()),
                    }
                } else {
                    self.dataplane.install_tunnel(spec, fd)
                };
                if result.is_ok() {
                    if let Some(old) = self.peers.insert(spec.tid, spec.peer) {
                        self.forget_ip_peer(old);
                    }
                    if spec.encap == Encapsulation::Ip {
                        *self
                            .ip_peers
                            .entry(spec.peer.ip().to_canonical())
                            .or_default() += 1;
                    }
                } else {
                    self.apart.remove_tunnel(spec.tid);
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
                        peer: None,
                        mark: None,
                        tuple: None,
                        apart: false,
                        version: spec.version,
                        linger: Linger::No,
                        unreachable: 0,
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
                self.failed.retain(|(t, _)| t != tid);
                self.ppp_unsent.0.retain(|(t, _), _| t != tid);
                if let Some(peer) = self.peers.remove(tid) {
                    self.forget_ip_peer(peer);
                }
                self.leave_group(*tid);
                // A data plane that adopted the socket of a tunnel that lingers still reads it
                // (its StopCCN's acknowledgement among what comes).
                if let Some(t) = self.tunnels.get_mut(tid)
                    && t.linger == Linger::No
                    && std::mem::take(&mut t.adopted)
                    && t.socket.is_some()
                {
                    self.changes.push_back(ShellSocket::ResumeReading(*tid));
                }
                let linger = self.tunnels.get_mut(tid).filter(|t| t.linger != Linger::No);
                let r = if self.apart.has_tunnel(*tid) {
                    self.apart.remove_tunnel(*tid);
                    self.fallback
                        .as_mut()
                        .map_or(Ok(()), |fb| fb.remove_tunnel(*tid))
                } else if let Some(t) = linger {
                    tracing::debug!(
                        "tunnel {tid}: its data-plane tunnel stays until its socket closes, for \
                         the data of the other tunnels from {} that reaches that socket",
                        t.remote
                    );
                    t.linger = Linger::Removing;
                    Ok(())
                } else {
                    self.dataplane.remove_tunnel(*tid)
                };
                if let Err(e) = r {
                    tracing::warn!("removing tunnel {tid}: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::InstallSession(spec) => {
                let result = self.install_session(spec);
                if result.is_err() {
                    self.failed.insert((spec.tid, spec.sid));
                }
                DataplaneOutcome::SessionInstalled {
                    tid: spec.tid,
                    sid: spec.sid,
                    result,
                }
            }
            DataplaneRequest::RemoveSession { tid, sid } if self.failed.remove(&(*tid, *sid)) => {
                DataplaneOutcome::Removed
            }
            DataplaneRequest::RemoveSession { tid, sid } => {
                self.ppp_unsent.0.remove(&(*tid, *sid));
                if self.apart.has_tunnel(*tid) {
                    self.apart.remove_session(*tid, *sid);
                }
                if let Some(plane) = self.plane_mut(*tid)
                    && let Err(e) = plane.remove_session(*tid, *sid)
                {
                    tracing::warn!("removing session {tid}/{sid}: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::SendPpp { tid, sid, frame } => {
                let r = self
                    .plane_mut(*tid)
                    .map(|p| (p.send_ppp(*tid, *sid, frame), p.counts_ppp_send_errors()));
                if let Some((Err(e), counted)) = r {
                    tracing::debug!("session {tid}/{sid}: sending a PPP frame: {e}");
                    if !counted {
                        self.note_ppp_unsent(*tid, *sid);
                    }
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::PppUp { tid, sid, net } => DataplaneOutcome::SessionInstalled {
                tid: *tid,
                sid: *sid,
                result: match self.plane_mut(*tid) {
                    Some(plane) => plane.ppp_up(*tid, *sid, net),
                    None => Err(DataplaneError::Unknown {
                        tid: *tid,
                        sid: Some(*sid),
                    }),
                },
            },
            DataplaneRequest::PppDown { tid, sid } => {
                if let Some(plane) = self.plane_mut(*tid)
                    && let Err(e) = plane.ppp_down(*tid, *sid)
                {
                    tracing::warn!("session {tid}/{sid}: stopping its IP: {e}");
                }
                DataplaneOutcome::Removed
            }
            DataplaneRequest::PppRoutes { tid, sid, routes } => {
                if let Err(e) = self.dataplane.ppp_routes(*tid, *sid, routes) {
                    tracing::warn!("session {tid}/{sid}: its routes: {e}");
                }
                DataplaneOutcome::Removed
            }
        }
    }

    /// The data plane that carries tunnel `tid`: the fallback for a tunnel carried apart
    /// (`None` when there is none), else the one in use.
    fn plane_mut(&mut self, tid: u32) -> Option<&mut (dyn Dataplane + 'static)> {
        if self.apart.has_tunnel(tid) {
            self.fallback.as_deref_mut()
        } else {
            Some(&mut *self.dataplane)
        }
    }

    /// Installs a session, on the fallback data plane if its tunnel is carried apart. A
    /// session whose id is that of a session of another tunnel of the same peer address and
    /// port, one carried by the kernel and the other apart, is refused: the kernel would give
    /// the one's data to the other.
    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        let (tid, sid) = (spec.tid, spec.sid);
        let here = self.apart.has_tunnel(tid);
        if let Some(tuple) = self.tunnels.get(&tid).and_then(|t| t.tuple) {
            let clash = self.groups.others(tid, tuple).find(|&other| {
                if here {
                    !self.apart.has_tunnel(other)
                        && self.dataplane.session_stats(other, sid).is_some()
                } else {
                    self.apart.has_session(other, sid)
                }
            });
            if let Some(other) = clash {
                return Err(DataplaneError::Unavailable(format!(
                    "session id {sid} is in use in tunnel {other}, whose peer has the same \
                     address and port: this kernel would give one session's data to the other"
                )));
            }
        }
        if !here {
            return self.dataplane.install_session(spec);
        }
        let Some(fb) = &mut self.fallback else {
            let others =
                self.tunnels
                    .get(&tid)
                    .and_then(|t| t.tuple)
                    .map_or_else(String::new, |tuple| {
                        self.groups
                            .others(tid, tuple)
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    });
            return Err(DataplaneError::Unavailable(format!(
                "tunnel {tid} shares its peer's address and port with tunnel(s) {others}, and \
                 this kernel's L2TP cannot tell their data apart; its sessions need the \
                 userspace data plane, which cannot carry them here"
            )));
        };
        let installed = fb.install_session(spec)?;
        self.apart.add_session(tid, sid);
        Ok(installed)
    }

    /// Offers a packet from one of the shell's sockets to the data plane; see
    /// [`Dataplane::handle_data`]. A data packet for a tunnel carried apart goes to the
    /// fallback data plane (and is dropped without one, counted as for no session).
    pub fn handle_data(&mut self, encap: Encapsulation, packet: &[u8]) -> bool {
        if !self.apart.is_empty()
            && let Some(tid) = self.apart.tunnel_of(encap, packet)
        {
            return match &mut self.fallback {
                Some(fb) => fb.handle_data(encap, packet),
                None => {
                    tracing::trace!("tunnel {tid}: a data packet with no data plane to carry it");
                    self.unclaimed += 1;
                    true
                }
            };
        }
        self.dataplane.handle_data(encap, packet)
    }

    /// Gives back a data packet of tunnel `tid` that a data plane handed over because it came
    /// before its session ([`super::DataplaneEvent::EarlyData`]), now that the events before
    /// it are handled. One that no data plane takes now (its tunnel or session is gone, or
    /// the data plane that has the tunnel takes no such packet: the kernel's, but for a native
    /// PPP session's) is dropped and counted as `rx_unknown_session`, as the data planes count
    /// a data packet for no session.
    pub fn give_back_early(&mut self, tid: u32, packet: &[u8]) {
        if !self.handle_data(Encapsulation::Udp, packet) {
            tracing::debug!("tunnel {tid}: an early data packet no data plane took, dropped");
            self.unclaimed += 1;
        }
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

    /// Whether `ip` is the peer of an installed tunnel over IP. The raw listen sockets see a
    /// copy of every data packet over IP; those from such a peer reach the data plane through
    /// the tunnel's own socket, the others no data socket gets (the shell has the engine count
    /// and log them).
    pub fn is_ip_peer(&self, ip: IpAddr) -> bool {
        self.ip_peers.contains_key(&ip.to_canonical())
    }

    /// Forgets `peer` as one tunnel's peer over IP, if it was one (a peer over UDP has a port).
    fn forget_ip_peer(&mut self, peer: SocketAddr) {
        let ip = peer.ip().to_canonical();
        if peer.port() == 0
            && let Some(n) = self.ip_peers.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                self.ip_peers.remove(&ip);
            }
        }
    }

    /// The peer of installed tunnel `tid`.
    pub fn peer(&self, tid: u32) -> Option<SocketAddr> {
        self.peers.get(&tid).copied()
    }

    /// The data plane's event channel (the first call takes it).
    pub fn take_events(&mut self) -> Option<UnboundedReceiver<DataplaneEvent>> {
        self.dataplane.take_events()
    }

    /// The fallback data plane's event channel, if there is one (the first call takes it).
    pub fn take_fallback_events(&mut self) -> Option<UnboundedReceiver<DataplaneEvent>> {
        self.fallback.as_mut()?.take_events()
    }

    /// The next change to the tunnels' sockets for the shell.
    pub fn poll_change(&mut self) -> Option<ShellSocket> {
        self.changes.pop_front()
    }

    /// Removes every tunnel and session from the data plane.
    pub fn remove_all(&mut self) {
        self.dataplane.remove_all();
        if let Some(fb) = &mut self.fallback {
            fb.remove_all();
        }
    }
}

mod marks;
mod stats;
#[cfg(test)]
mod tests;
