//! The main loop's sockets: the listen sockets and each tunnel's own, what the core asks to
//! send (on the tunnel's own socket, else a listen socket; failures summed up per peer by
//! [`SendFailures`]), and the tasks that read the sockets and l2tp-nfqd's.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Instant;

use l2tp_proto::Transmit;
use l2tp_proto::wire::header::Encapsulation;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use crate::core::Core;
use crate::dataplane::DataplaneHost;
use crate::marks::nfq::{self, NfqMessage};
use crate::net::{Bound, Framing};
use crate::sendlog::SendFailures;

/// The L2TP sockets, registered with the runtime: the listen sockets, and each tunnel's own
/// connected socket with the task reading it.
#[derive(Debug)]
pub struct Sockets {
    /// The listen sockets, each with whether it reports the netfilter marks of datagrams.
    pub(super) list: Vec<(Framing, SocketAddr, Arc<UdpSocket>, bool)>,
    tunnels: HashMap<u32, TunnelSocket>,
    /// Tunnel sockets that a data plane reads: kept for sending control messages, but not
    /// registered with the runtime, which would otherwise wake for every data packet.
    adopted: HashMap<u32, Adopted>,
    /// The metrics endpoint's listening sockets (`metrics_listen`), until it starts.
    pub(super) metrics: Vec<std::net::TcpListener>,
    /// The socket that receives l2tp-nfqd's messages (`nfq_socket`), until the loop starts.
    pub(super) nfq: Option<std::os::unix::net::UnixDatagram>,
    /// Failures to send, summed up per peer in the log.
    send_failures: SendFailures,
}

impl Sockets {
    /// Registers bound UDP and IP sockets. Needs the runtime.
    pub fn register(udp: Vec<Bound>, ip: Vec<Bound>) -> io::Result<Sockets> {
        let mut list = Vec::new();
        for bound in udp.into_iter().chain(ip) {
            let s = UdpSocket::from_std(bound.socket)?;
            list.push((bound.framing, bound.local, Arc::new(s), bound.marks));
        }
        Ok(Sockets {
            list,
            tunnels: HashMap::new(),
            adopted: HashMap::new(),
            metrics: Vec::new(),
            nfq: None,
            send_failures: SendFailures::default(),
        })
    }

    /// Adds the socket of l2tp-nfqd's messages (non-blocking), read once the loop runs.
    pub fn with_nfq(mut self, nfq: Option<std::os::unix::net::UnixDatagram>) -> Sockets {
        self.nfq = nfq;
        self
    }

    /// Adds the metrics endpoint's listening sockets (non-blocking), served once the loop runs.
    pub fn with_metrics(mut self, listeners: Vec<std::net::TcpListener>) -> Sockets {
        self.metrics = listeners;
        self
    }

    /// Registers a tunnel's own socket (opened by the core) and starts reading it.
    pub(super) fn open_tunnel(
        &mut self,
        tid: u32,
        (socket, peer): (std::net::UdpSocket, Option<SocketAddr>),
        mut listen: Listen,
        to_core: &mpsc::Sender<FromSocket>,
        stop: &watch::Receiver<bool>,
    ) {
        self.close_tunnel(tid);
        // Bound to the unspecified address or port 0 and connected to the peer, the socket
        // has the address in use (getsockname): its datagrams are reported as arriving there.
        // L2TP/IP has no ports (its address structure has none where UDP's has the port).
        let udp = listen.framing == Framing::Udp;
        if listen.local.ip().is_unspecified() || (udp && listen.local.port() == 0) {
            match socket.local_addr() {
                Ok(a) if !a.ip().is_unspecified() => {
                    let port = if udp { a.port() } else { listen.local.port() };
                    listen.local = SocketAddr::new(a.ip(), port);
                }
                _ => {}
            }
        }
        let socket = match UdpSocket::from_std(socket) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!("tunnel {tid}: cannot register its own socket: {e}");
                return;
            }
        };
        let task = tokio::spawn(receive(
            (listen, Some(tid)),
            socket.clone(),
            to_core.clone(),
            stop.clone(),
        ));
        self.tunnels.insert(
            tid,
            TunnelSocket {
                socket,
                listen,
                peer,
                task,
            },
        );
    }

    /// Reads a tunnel's socket again, which a data plane read until now: the data plane no
    /// longer carries the tunnel, but the socket stays while the tunnel waits out its StopCCN,
    /// and what reaches it (the acknowledgement of the StopCCN, or the SCCRQ of the same peer's
    /// next tunnel from the same address and port) must not go unread.
    pub(super) fn resume_reading(
        &mut self,
        tid: u32,
        to_core: &mpsc::Sender<FromSocket>,
        stop: &watch::Receiver<bool>,
    ) {
        if let Some(a) = self.adopted.remove(&tid) {
            self.open_tunnel(tid, (a.socket, a.peer), a.listen, to_core, stop);
        }
    }

    /// Stops reading a tunnel's socket (the data plane reads it now); sending goes on, on a
    /// duplicate that the runtime does not watch. The registered one is deregistered and closed
    /// when the aborted reader lets go of it.
    pub(super) fn stop_reading(&mut self, tid: u32) {
        let Some(TunnelSocket {
            socket,
            listen,
            peer,
            task,
        }) = self.tunnels.remove(&tid)
        else {
            return;
        };
        task.abort();
        match socket2::SockRef::from(&*socket).try_clone() {
            Ok(dup) => {
                let socket = std::net::UdpSocket::from(dup);
                self.adopted.insert(
                    tid,
                    Adopted {
                        socket,
                        peer,
                        listen,
                    },
                );
            }
            Err(e) => {
                tracing::warn!("tunnel {tid}: cannot keep its socket for sending: {e}");
            }
        }
    }

    pub(super) fn close_tunnel(&mut self, tid: u32) {
        if let Some(t) = self.tunnels.remove(&tid) {
            t.task.abort();
        }
        self.adopted.remove(&tid);
    }

    /// The socket to send `t` from: the one bound to its local address, else the first of its
    /// transport and address family; with the address it is bound to.
    pub(super) fn for_transmit(&self, t: &Transmit) -> Option<(Framing, SocketAddr, &UdpSocket)> {
        let same = |(framing, local, _, _): &&(Framing, SocketAddr, Arc<UdpSocket>, bool)| {
            framing.encap() == t.encap && local.is_ipv4() == t.remote.is_ipv4()
        };
        self.list
            .iter()
            .filter(same)
            .find(|(_, local, _, _)| *local == t.local)
            .or_else(|| self.list.iter().find(same))
            .map(|(framing, local, s, _)| (*framing, *local, &**s))
    }
}

/// A tunnel's own socket, registered with the runtime, and the task reading it.
#[derive(Debug)]
struct TunnelSocket {
    socket: Arc<UdpSocket>,
    /// How its datagrams are framed, its local address, whether it reports marks.
    listen: Listen,
    /// The peer, when the socket is not connected to it (a tunnel carried apart).
    peer: Option<SocketAddr>,
    task: tokio::task::JoinHandle<()>,
}

/// A tunnel's socket that a data plane reads: a duplicate to send on, with the peer to send to
/// when the socket is not connected to it, and how to read it again ([`Sockets::resume_reading`]).
#[derive(Debug)]
struct Adopted {
    socket: std::net::UdpSocket,
    peer: Option<SocketAddr>,
    listen: Listen,
}

/// What a socket's reading task tells the main loop.
pub(super) enum FromSocket {
    /// A datagram.
    Datagram(Inbound),
    /// The tunnel's socket reported an ICMP port unreachable (ECONNREFUSED): the peer refused
    /// a datagram sent on it, data (the kernel data plane's) or control.
    PeerUnreachable(u32),
}

pub(super) struct Inbound {
    pub(super) encap: Encapsulation,
    pub(super) local: SocketAddr,
    pub(super) remote: SocketAddr,
    pub(super) data: Vec<u8>,
    /// The datagram's netfilter mark, where its socket reports marks; else 0.
    pub(super) mark: u32,
}

/// What a reading task knows of its socket.
#[derive(Clone, Copy, Debug)]
pub(super) struct Listen {
    pub(super) framing: Framing,
    pub(super) local: SocketAddr,
    /// The socket reports each datagram's netfilter mark (`SO_RCVMARK`).
    pub(super) marks: bool,
}

/// The largest datagram read.
const MAX_DATAGRAM: usize = 65_535;

thread_local! {
    /// The receive buffer shared by the socket tasks of the (single-threaded) runtime.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; MAX_DATAGRAM]);
}

pub(super) async fn send_all(core: &mut Core, sockets: &mut Sockets, plane: &mut DataplaneHost) {
    while let Some(t) = core.poll_transmit() {
        if send_one(sockets, &t, &mut |tid| plane.note_peer_unreachable(tid)).await {
            sockets.send_failures.log_sent(t.remote);
        } else {
            core.note_send_failure(t.contents.len());
        }
    }
}

/// Sends `t` on the tunnel's own socket, else on a listen socket; false (logged) when none
/// would take it. When the tunnel's own socket failed and no listen socket is of its family
/// (a tunnel to an IPv4 peer of a daemon listening on IPv6 only), the log gives that socket's
/// error (the peer refusing, no route), not merely that no listen socket would do.
/// An ICMP port unreachable that the tunnel's socket reports on the send (ECONNREFUSED, the
/// error the kernel kept for the socket) is given to `refused`.
async fn send_one(sockets: &mut Sockets, t: &Transmit, refused: &mut impl FnMut(u32)) -> bool {
    let mut own_error = None;
    if let Some(Adopted { socket, peer, .. }) = sockets.adopted.get(&t.tunnel_id) {
        // Non-blocking: a full send buffer drops the message, which the reliable channel
        // sends again.
        let sent = match peer {
            Some(peer) => socket.send_to(&t.contents, peer),
            None => socket.send(&t.contents),
        };
        match sent {
            Ok(_) => return true,
            Err(e) => {
                tracing::debug!("sending to {} on the tunnel's socket: {e}", t.remote);
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    refused(t.tunnel_id);
                }
                own_error = Some(e);
            }
        }
    }
    if let Some(ts) = sockets.tunnels.get(&t.tunnel_id)
        && let Some(datagram) = encode(ts.listen.framing, t)
    {
        let sent = match ts.peer {
            Some(peer) => ts.socket.send_to(datagram, peer).await,
            None => ts.socket.send(datagram).await,
        };
        match sent {
            Ok(_) => return true,
            // e.g. ECONNREFUSED after an ICMP error: try the listen socket.
            Err(e) => {
                tracing::debug!("sending to {} on the tunnel's socket: {e}", t.remote);
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    refused(t.tunnel_id);
                }
                own_error = Some(e);
            }
        }
    }
    let Some((framing, local, socket)) = sockets.for_transmit(t) else {
        let why = match own_error {
            Some(e) => format!("{e}, on the tunnel's own socket (no listen socket of its family)"),
            None => format!("no {:?} socket to send on", t.encap),
        };
        sockets
            .send_failures
            .log_failure(Instant::now(), t.remote, &why);
        return false;
    };
    let Some(datagram) = encode(framing, t) else {
        return false;
    };
    // A tunnel over IP has no socket of its own (raw sockets): on a listen socket of the
    // unspecified address, its messages leave from its local address, the one dialled.
    let sent = if framing == Framing::RawIp
        && local.ip().is_unspecified()
        && !t.local.ip().is_unspecified()
    {
        socket
            .async_io(tokio::io::Interest::WRITABLE, || {
                crate::net::send_from(socket.as_fd(), datagram, t.local.ip(), t.remote)
            })
            .await
    } else {
        socket.send_to(datagram, t.remote).await
    };
    match sent {
        Ok(_) => true,
        Err(e) => {
            sockets
                .send_failures
                .log_failure(Instant::now(), t.remote, &e);
            false
        }
    }
}

/// The datagram to write for `t` on a socket of `framing`; `None` (logged) when such a socket
/// cannot carry it.
fn encode(framing: Framing, t: &Transmit) -> Option<&[u8]> {
    let d = framing.encode(&t.contents);
    if d.is_none() {
        tracing::debug!(
            "not sending a non-control message to {} on an L2TP/IP socket",
            t.remote
        );
    }
    d
}

/// Reads `socket` until the daemon stops: a listen socket's, or tunnel `tunnel`'s own.
pub(super) async fn receive(
    (listen, tunnel): (Listen, Option<u32>),
    socket: Arc<UdpSocket>,
    to_core: mpsc::Sender<FromSocket>,
    mut stop: watch::Receiver<bool>,
) {
    let Listen {
        framing,
        local,
        marks,
    } = listen;
    loop {
        tokio::select! {
            r = socket.readable() => if let Err(e) = r {
                tracing::debug!("waiting on {local}: {e}");
                continue;
            },
            // An error the kernel keeps for the socket (EPOLLERR), with no datagram to read:
            // the peer's ICMP port unreachable on a tunnel's connected socket.
            _ = socket.ready(tokio::io::Interest::ERROR), if tunnel.is_some() => {
                if let Some(tid) = tunnel
                    && take_refusal(&socket)
                    && to_core.send(FromSocket::PeerUnreachable(tid)).await.is_err()
                {
                    return;
                }
                continue;
            },
            _ = stop.changed() => return,
        };
        // The datagram is read into the thread's scratch buffer and copied out before the next
        // await: a task waiting on an idle tunnel's socket holds no 64 KiB buffer of its own
        // (that was 19 MB for 300 half-open tunnels of an SCCRQ flood).
        // On a socket bound to the unspecified address, the datagram's own destination is
        // its local address (`net::report_destination`): the tunnel answers from it.
        let mut to = local;
        let read = SCRATCH.with_borrow_mut(|buf| {
            let got = if marks || local.ip().is_unspecified() {
                socket.try_io(tokio::io::Interest::READABLE, || {
                    let (n, remote, mark, dest) =
                        l2tp_dataplane::marks::recv_from_to(socket.as_fd(), buf)?;
                    if let Some(ip) = dest.filter(|_| local.ip().is_unspecified()) {
                        to = SocketAddr::new(ip, local.port());
                    }
                    Ok((n, remote, mark))
                })
            } else {
                socket.try_recv_from(buf).map(|(n, remote)| (n, remote, 0))
            };
            match got {
                // Longer than any datagram: cannot be.
                Ok((usize::MAX, ..)) => Ok(None),
                Ok((n, remote, mark)) => {
                    Ok(framing.decode(local, &buf[..n]).map(|p| (p, remote, mark)))
                }
                Err(e) => Err(e),
            }
        });
        let (data, remote, mark) = match read {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && tunnel.is_some() => {
                // The kernel reports the peer's ICMP port unreachables on the tunnel's
                // connected socket (on L2TP's UDP encapsulation since Linux 6.0, for the
                // kernel data plane's data packets too).
                let Some(tid) = tunnel else { continue };
                if to_core
                    .send(FromSocket::PeerUnreachable(tid))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            Err(e) => {
                // ICMP errors on a listen socket; keep reading.
                tracing::debug!("receiving on {local}: {e}");
                continue;
            }
        };
        let inbound = Inbound {
            encap: framing.encap(),
            local: to,
            remote,
            data,
            mark,
        };
        if to_core.send(FromSocket::Datagram(inbound)).await.is_err() {
            return;
        }
    }
}

/// Takes the error the kernel keeps for `socket` (`SO_ERROR`), after clearing the runtime's
/// note of it (so that the next one wakes the reader again): whether it was the peer's ICMP
/// port unreachable. Others are logged.
fn take_refusal(socket: &UdpSocket) -> bool {
    let _ = socket.try_io(tokio::io::Interest::ERROR, || {
        Err::<(), _>(io::ErrorKind::WouldBlock.into())
    });
    match socket.take_error() {
        Ok(Some(e)) if e.kind() == io::ErrorKind::ConnectionRefused => true,
        Ok(Some(e)) => {
            tracing::debug!("a tunnel's socket: {e}");
            false
        }
        Ok(None) => false,
        Err(e) => {
            tracing::debug!("reading a tunnel's socket's error: {e}");
            false
        }
    }
}

/// Reads l2tp-nfqd's messages until the daemon stops; what does not parse is logged and
/// dropped.
pub(super) async fn receive_nfq(
    socket: tokio::net::UnixDatagram,
    to_core: mpsc::Sender<NfqMessage>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = [0u8; nfq::MAX_LEN + 1];
    loop {
        let n = tokio::select! {
            r = socket.recv(&mut buf) => match r {
                Ok(n) => n,
                Err(e) => {
                    tracing::debug!("nfq_socket: {e}");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        match NfqMessage::parse(&buf[..n]) {
            Ok(m) => {
                if to_core.send(m).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!("nfq_socket: a message that is not l2tp-nfqd's: {e}"),
        }
    }
}
