//! The RADIUS task's sockets: the client's, each with a reader task, bound again when
//! `radius_nas_ip_address` changes; and the helpers that open, read and write them.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::notice;

/// The largest RADIUS packet (RFC 2865 §3).
pub(super) const MAX_PACKET: usize = 4096;

/// How long a socket replaced by a new `radius_nas_ip_address` is still read: answers to
/// requests sent from it before the change arrive there (a request is given up well before:
/// `timeout` times `retries` of its server).
const RETIRED_READ: Duration = Duration::from_secs(60);

/// A datagram read by one of the task's socket readers.
pub(super) struct Datagram {
    /// The client's socket, or a dynamic authorization socket.
    pub(super) on: Socket,
    pub(super) from: SocketAddr,
    pub(super) bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Socket {
    Client(u16),
    DynAuth(usize),
}

/// The client's sockets, in the order of the client's `SocketId`s, and their readers.
pub(super) struct ClientSockets {
    sockets: Vec<Arc<UdpSocket>>,
    readers: Vec<JoinHandle<()>>,
    to: mpsc::Sender<Datagram>,
}

impl ClientSockets {
    pub(super) fn new(to: mpsc::Sender<Datagram>) -> ClientSockets {
        ClientSockets {
            sockets: Vec::new(),
            readers: Vec::new(),
            to,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// The client's socket `index`.
    pub(super) fn get(&self, index: u16) -> Option<&Arc<UdpSocket>> {
        self.sockets.get(usize::from(index))
    }

    /// Opens one more socket for the client (dual-stack, or bound to `bind`); false (logged)
    /// when it cannot.
    pub(super) fn open(&mut self, bind: Option<IpAddr>) -> bool {
        let Some(socket) = client_socket(bind) else {
            return false;
        };
        let index = u16::try_from(self.sockets.len()).unwrap_or(u16::MAX);
        self.readers.push(self.reader(&socket, index));
        self.sockets.push(socket);
        true
    }

    /// Binds every socket again to `bind` (a reload changed `radius_nas_ip_address`): each
    /// index gets a new socket, so that every request sent from now on, retransmissions too,
    /// leaves from the new address; the old socket is still read for [`RETIRED_READ`], for the
    /// answers already on their way to it. A socket that cannot be opened keeps the old one.
    pub(super) fn rebind(&mut self, bind: Option<IpAddr>) {
        let mut moved = 0;
        for index in 0..self.sockets.len() {
            let Some(socket) = client_socket(bind) else {
                continue;
            };
            let i = u16::try_from(index).unwrap_or(u16::MAX);
            let reader = self.reader(&socket, i);
            self.sockets[index] = socket;
            let old = std::mem::replace(&mut self.readers[index], reader).abort_handle();
            tokio::spawn(async move {
                tokio::time::sleep(RETIRED_READ).await;
                old.abort();
            });
            moved += 1;
        }
        if moved > 0 {
            let from = bind.map_or_else(|| "any address".to_owned(), |a| a.to_string());
            notice!("RADIUS: requests now leave from {from} ({moved} socket(s) bound again)");
        }
    }

    /// Stops every reader.
    pub(super) fn close(&mut self) {
        for r in self.readers.drain(..) {
            r.abort();
        }
        self.sockets.clear();
    }

    fn reader(&self, socket: &Arc<UdpSocket>, index: u16) -> JoinHandle<()> {
        tokio::spawn(read(
            Arc::clone(socket),
            Socket::Client(index),
            self.to.clone(),
        ))
    }
}

/// A socket for the client: bound to `bind`, else dual-stack (IPv4 only where the host has no
/// IPv6); `None`, logged, when it cannot be opened.
fn client_socket(bind: Option<IpAddr>) -> Option<Arc<UdpSocket>> {
    let local = bind.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let socket = match udp_socket(SocketAddr::new(local, 0)) {
        Ok(s) => s,
        Err(e) if bind.is_none() => match udp_socket(SocketAddr::from(([0, 0, 0, 0], 0))) {
            Ok(s) => s,
            Err(e2) => {
                tracing::error!("RADIUS: cannot open a socket: {e}; {e2}");
                return None;
            }
        },
        Err(e) => {
            tracing::error!("RADIUS: cannot open a socket on {local}: {e}");
            return None;
        }
    };
    Some(Arc::new(socket))
}

/// Sends `buf` to `to` at once, without waiting (a full send buffer drops it). Not through
/// tokio: its `try_send_to` refuses until it has seen the socket writable, which a new socket
/// has not.
pub(super) fn send_now(s: &UdpSocket, buf: &[u8], to: SocketAddr) -> std::io::Result<usize> {
    socket2::SockRef::from(s).send_to(buf, &to.into())
}

/// A non-blocking UDP socket bound to `local` (an IPv6 one also takes IPv4).
pub(super) fn udp_socket(local: SocketAddr) -> std::io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(local);
    let s = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    if local.is_ipv6() {
        s.set_only_v6(false)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&local.into())?;
    UdpSocket::from_std(s.into())
}

/// Reads `socket` and hands every datagram to the task.
pub(super) async fn read(socket: Arc<UdpSocket>, on: Socket, to: mpsc::Sender<Datagram>) {
    let mut buf = vec![0u8; MAX_PACKET];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let d = Datagram {
                    on,
                    from: SocketAddr::new(from.ip().to_canonical(), from.port()),
                    bytes: buf[..n].to_vec(),
                };
                if to.send(d).await.is_err() {
                    return;
                }
            }
            // ICMP errors (a server's port closed) surface here; keep reading.
            Err(e) => tracing::debug!("RADIUS: receiving: {e}"),
        }
    }
}
