//! What the run takes from the operating system: randomness, file descriptors, the UDP
//! sockets and the tasks that read them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::{Arc, Mutex};

use l2tp_proto::{DeterministicRng, Rng};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::cli::Plan;

/// File descriptors kept free for everything but the tunnel sockets.
const SPARE_FDS: u64 = 64;
/// The largest datagram read.
const MAX_DATAGRAM: usize = 65_535;
/// Buffers of received datagrams kept for reuse.
const POOLED: usize = 4096;
/// The receive buffer asked of each socket: a peer that ends every session of a tunnel at
/// once sends a burst of some thousand Terminate-Requests and CDNs, which the default buffer
/// (some 200 KiB) drops past a few hundred.
const RECEIVE_BUFFER: usize = 4 << 20;

/// Randomness from the operating system, with a seeded fallback should `getrandom` fail (a
/// load generator keeps running; ids only need to be distinct).
#[derive(Debug)]
pub(crate) struct OsRng(pub(crate) DeterministicRng);

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            self.0.fill(buf);
        }
    }
}

/// A datagram received on socket `socket`.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) socket: usize,
    pub(crate) from: SocketAddr,
    pub(crate) data: Vec<u8>,
}

/// Buffers of datagrams handled, for the receiving tasks to fill again: once the pool holds
/// enough, receiving allocates nothing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pool(Arc<Mutex<Vec<Vec<u8>>>>);

impl Pool {
    /// Gives a handled datagram's buffer back.
    pub(crate) fn put(&self, buf: Vec<u8>) {
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < POOLED
        {
            pool.push(buf);
        }
    }

    /// A copy of `data` in a pooled buffer if there is one.
    fn copy(&self, data: &[u8]) -> Vec<u8> {
        let mut buf = self
            .0
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(data);
        buf
    }
}

/// The socket set: local addresses (as the engine sees them) and the sockets.
#[derive(Debug)]
pub(crate) struct Sockets {
    pub(crate) list: Vec<Arc<UdpSocket>>,
    pub(crate) local: Vec<SocketAddr>,
}

/// Raises `RLIMIT_NOFILE` towards `want` descriptors; returns how many tunnel sockets fit.
pub(crate) fn raise_nofile(want: u64) -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let need = want + SPARE_FDS;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return want.min(1024 - SPARE_FDS);
    };
    let mut limit = soft;
    if soft < need {
        if hard >= need {
            if setrlimit(Resource::RLIMIT_NOFILE, need, hard).is_ok() {
                limit = need;
            }
        } else if setrlimit(Resource::RLIMIT_NOFILE, need, need).is_ok() {
            limit = need;
        } else if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            limit = hard;
        }
    }
    want.min(limit.saturating_sub(SPARE_FDS)).max(1)
}

/// The source address the kernel would use towards `peer`.
fn route_source(peer: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if peer.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = StdUdpSocket::bind(any).ok()?;
    probe.connect(peer).ok()?;
    probe.local_addr().ok().map(|a| a.ip())
}

/// Opens `count` UDP sockets on ephemeral ports, the first on `plan.local_port` if given.
pub(crate) fn open_sockets(plan: &Plan, count: usize) -> io::Result<Sockets> {
    let bind_ip = plan.local.unwrap_or(if plan.peer.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let shown_ip = if bind_ip.is_unspecified() {
        route_source(plan.peer).unwrap_or(bind_ip)
    } else {
        bind_ip
    };
    let mut list = Vec::with_capacity(count);
    let mut local = Vec::with_capacity(count);
    for i in 0..count {
        let port = plan.local_port.filter(|_| i == 0).unwrap_or(0);
        let s = StdUdpSocket::bind(SocketAddr::new(bind_ip, port))?;
        s.set_nonblocking(true)?;
        enlarge_receive_buffer(&s);
        let port = s.local_addr()?.port();
        list.push(Arc::new(UdpSocket::from_std(s)?));
        local.push(SocketAddr::new(shown_ip, port));
    }
    Ok(Sockets { list, local })
}

/// Asks for [`RECEIVE_BUFFER`]: past `net.core.rmem_max` when allowed (root), else up to it.
fn enlarge_receive_buffer(s: &StdUdpSocket) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(s, sockopt::RcvBufForce, &RECEIVE_BUFFER).is_err() {
        let _ = setsockopt(s, sockopt::RcvBuf, &RECEIVE_BUFFER);
    }
}

/// Reads socket `socket` until the driver goes away, each datagram in a pooled buffer.
pub(crate) async fn receive(
    socket: usize,
    s: Arc<UdpSocket>,
    pool: Pool,
    to: mpsc::UnboundedSender<Inbound>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match s.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let data = pool.copy(buf.get(..n).unwrap_or_default());
                if to.send(Inbound { socket, from, data }).is_err() {
                    return;
                }
            }
            // ICMP errors may surface here; keep reading.
            Err(_) => tokio::task::yield_now().await,
        }
    }
}
