//! L2TP/IP sockets: the kernel's own sockets for L2TPv3 over IP (`l2tp_ip`, `l2tp_ip6`;
//! RFC 3931 §4.1.1.1), `SOCK_DGRAM` with protocol 115.
//!
//! Unlike a raw socket, which sees a copy of every protocol-115 packet, an L2TP/IP socket
//! bound with a connection id gets only the *control* messages whose Control Connection ID is
//! that id (and, when connected, that come from the peer's address); data packets go to the
//! kernel's sessions. Connection id 0 takes the messages that open a control connection
//! (SCCRQ). The kernel adds and removes the four zero octets of the Session ID that precede a
//! control message over IP: datagrams read start at the control header, and datagrams
//! written must too. Such a socket can be handed to the kernel's data plane as a managed
//! tunnel's socket.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};

use socket2::{Domain, Protocol, Socket, Type};

use super::sys::{L2tpIpCall, l2tpip_address};

/// The IANA protocol number of L2TP directly over IP (RFC 3931 §4.1.1).
const IPPROTO_L2TP: i32 = 115;

/// Opens a non-blocking L2TP/IP socket bound to `local` with connection id `conn_id`, and
/// connected to `peer` when given. Fails with `EPROTONOSUPPORT` where the kernel has no
/// L2TP/IP, and with `EADDRINUSE` when `conn_id` is taken on `local`.
pub fn l2tpip_socket(local: IpAddr, conn_id: u32, peer: Option<IpAddr>) -> io::Result<OwnedFd> {
    let domain = match local {
        IpAddr::V4(_) => Domain::IPV4,
        IpAddr::V6(_) => Domain::IPV6,
    };
    let socket = Socket::new(
        domain,
        Type::DGRAM.nonblocking().cloexec(),
        Some(Protocol::from(IPPROTO_L2TP)),
    )?;
    let fd: OwnedFd = socket.into();
    l2tpip_address(fd.as_fd(), L2tpIpCall::Bind, local, conn_id)?;
    if let Some(peer) = peer {
        // The peer's connection id is not known yet (nor needed: the control header carries
        // it); the kernel takes the one given to it when the tunnel is made.
        l2tpip_address(fd.as_fd(), L2tpIpCall::Connect, peer, 0)?;
    }
    Ok(fd)
}
