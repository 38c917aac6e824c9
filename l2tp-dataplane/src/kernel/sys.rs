//! The kernel data plane's only `unsafe` code: the PPPoL2TP socket (`AF_PPPOX`,
//! `PX_PROTO_OL2TP`, linux/if_pppox.h and linux/if_pppol2tp.h), and the binding and
//! connecting of L2TP/IP sockets (`sockaddr_l2tpip`, `sockaddr_l2tpip6`, linux/l2tp.h), which
//! neither `nix` nor `socket2` can do. Each block has a `// SAFETY:` comment.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::libc;

/// `AF_PPPOX` (linux/socket.h).
const AF_PPPOX: libc::c_int = 24;
/// `PX_PROTO_OL2TP` (linux/if_pppox.h).
const PX_PROTO_OL2TP: u32 = 1;

/// The ids and addresses of a PPPoL2TP socket's session.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PppoL2tpAddr {
    /// The tunnel's UDP (or L2TP/IP) socket.
    pub tunnel_fd: RawFd,
    /// The peer's address.
    pub peer: SocketAddr,
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// The peer's session id.
    pub peer_sid: u32,
    /// L2TPv3 (32-bit ids) rather than L2TPv2 (16-bit ids).
    pub v3: bool,
}

fn sockaddr_in(out: &mut Vec<u8>, a: SocketAddr) {
    match a {
        SocketAddr::V4(a) => {
            out.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            out.extend_from_slice(&a.port().to_be_bytes());
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&[0; 8]);
        }
        SocketAddr::V6(a) => {
            out.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            out.extend_from_slice(&a.port().to_be_bytes());
            out.extend_from_slice(&a.flowinfo().to_be_bytes());
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.scope_id().to_ne_bytes());
        }
    }
}

/// The packed `sockaddr_pppol2tp`, `sockaddr_pppol2tpin6`, `sockaddr_pppol2tpv3` or
/// `sockaddr_pppol2tpv3in6` for `a`; the kernel tells them apart by their length.
pub fn sockaddr(a: &PppoL2tpAddr) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&(AF_PPPOX as u16).to_ne_bytes());
    out.extend_from_slice(&PX_PROTO_OL2TP.to_ne_bytes());
    out.extend_from_slice(&0i32.to_ne_bytes()); // pid: 0 is the caller
    out.extend_from_slice(&a.tunnel_fd.to_ne_bytes());
    let ids: Vec<u8> = if a.v3 {
        [a.tid, a.sid, a.peer_tid, a.peer_sid]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect()
    } else {
        let mut v = Vec::new();
        for id in [a.tid, a.sid, a.peer_tid, a.peer_sid] {
            let id = u16::try_from(id).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "L2TPv2 ids are 16 bits")
            })?;
            v.extend_from_slice(&id.to_ne_bytes());
        }
        v
    };
    match a.peer {
        // The IPv4 variants put the address before the ids, the IPv6 ones after.
        SocketAddr::V4(_) => {
            sockaddr_in(&mut out, a.peer);
            out.extend_from_slice(&ids);
        }
        SocketAddr::V6(_) => {
            out.extend_from_slice(&ids);
            sockaddr_in(&mut out, a.peer);
        }
    }
    Ok(out)
}

/// Opens a PPPoL2TP socket and connects it to session `a`; for L2TPv2, connecting creates
/// the kernel session when it does not exist yet.
pub fn pppol2tp_connect(a: &PppoL2tpAddr) -> io::Result<OwnedFd> {
    let addr = sockaddr(a)?;
    // SAFETY: socket(2) takes integers only; the result is checked before use.
    let fd = unsafe { libc::socket(AF_PPPOX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 1) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let len = libc::socklen_t::try_from(addr.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "sockaddr too long"))?;
    // SAFETY: `addr` is a live buffer of `len` bytes holding a packed sockaddr_pppol2tp*
    // (the kernel copies `len` bytes and reads it unaligned); `fd` is open.
    let rc = unsafe { libc::connect(fd, addr.as_ptr().cast::<libc::sockaddr>(), len) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(owned)
}

/// The packed `sockaddr_l2tpip` (16 octets, the size of `struct sockaddr`) or
/// `sockaddr_l2tpip6` (32 octets) for `ip` and connection (tunnel) id `conn_id`. Their first
/// fields are those of `sockaddr_in` and `sockaddr_in6`; the connection id is in host order.
pub(super) fn sockaddr_l2tpip(ip: IpAddr, conn_id: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    match ip {
        IpAddr::V4(ip) => {
            out.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            out.extend_from_slice(&[0; 2]); // l2tp_unused (the port)
            out.extend_from_slice(&ip.octets());
            out.extend_from_slice(&conn_id.to_ne_bytes());
            out.extend_from_slice(&[0; 4]); // pad to sizeof(struct sockaddr)
        }
        IpAddr::V6(ip) => {
            out.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            out.extend_from_slice(&[0; 2]); // l2tp_unused
            out.extend_from_slice(&[0; 4]); // l2tp_flowinfo
            out.extend_from_slice(&ip.octets());
            out.extend_from_slice(&0u32.to_ne_bytes()); // l2tp_scope_id
            out.extend_from_slice(&conn_id.to_ne_bytes());
        }
    }
    out
}

/// Which of bind(2) and connect(2) to call with a `sockaddr_l2tpip*`.
#[derive(Clone, Copy, Debug)]
pub(super) enum L2tpIpCall {
    /// bind(2): the local address and our tunnel id.
    Bind,
    /// connect(2): the peer's address and its tunnel id.
    Connect,
}

/// Binds or connects L2TP/IP socket `fd` with address `ip` and connection id `conn_id`.
pub(super) fn l2tpip_address(
    fd: BorrowedFd<'_>,
    call: L2tpIpCall,
    ip: IpAddr,
    conn_id: u32,
) -> io::Result<()> {
    let addr = sockaddr_l2tpip(ip, conn_id);
    let len = libc::socklen_t::try_from(addr.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "sockaddr too long"))?;
    let ptr = addr.as_ptr().cast::<libc::sockaddr>();
    // SAFETY: `addr` is a live buffer of `len` bytes holding a packed sockaddr_l2tpip(6),
    // which the kernel copies before reading it; `fd` is open for the borrow's lifetime.
    let rc = unsafe {
        match call {
            L2tpIpCall::Bind => libc::bind(fd.as_raw_fd(), ptr, len),
            L2tpIpCall::Connect => libc::connect(fd.as_raw_fd(), ptr, len),
        }
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sockaddr_lengths_match_the_kernel_structs() {
        let mut a = PppoL2tpAddr {
            tunnel_fd: 7,
            peer: "192.0.2.2:1701".parse().unwrap(),
            tid: 1,
            sid: 2,
            peer_tid: 3,
            peer_sid: 4,
            v3: false,
        };
        // sizeof(struct sockaddr_pppol2tp) etc., all __packed.
        assert_eq!(sockaddr(&a).unwrap().len(), 38);
        a.v3 = true;
        assert_eq!(sockaddr(&a).unwrap().len(), 46);
        a.peer = "[2001:db8::2]:1701".parse().unwrap();
        assert_eq!(sockaddr(&a).unwrap().len(), 58);
        a.v3 = false;
        assert_eq!(sockaddr(&a).unwrap().len(), 50);
        let b = sockaddr(&a).unwrap();
        assert_eq!(&b[0..2], &24u16.to_ne_bytes());
        assert_eq!(&b[2..6], &1u32.to_ne_bytes());
        assert_eq!(&b[10..14], &7i32.to_ne_bytes());
        assert_eq!(&b[14..16], &1u16.to_ne_bytes());
        a.tid = 70_000;
        assert!(sockaddr(&a).is_err());
    }

    #[test]
    fn l2tpip_sockaddrs_match_the_kernel_structs() {
        let v4 = sockaddr_l2tpip("192.0.2.1".parse().unwrap(), 0x0102_0304);
        // sizeof(struct sockaddr_l2tpip) == sizeof(struct sockaddr)
        assert_eq!(v4.len(), 16);
        assert_eq!(&v4[0..2], &(libc::AF_INET as u16).to_ne_bytes());
        assert_eq!(&v4[4..8], &[192, 0, 2, 1]);
        assert_eq!(&v4[8..12], &0x0102_0304u32.to_ne_bytes());
        let v6 = sockaddr_l2tpip("2001:db8::1".parse().unwrap(), 9);
        // sizeof(struct sockaddr_l2tpip6)
        assert_eq!(v6.len(), 32);
        assert_eq!(&v6[0..2], &(libc::AF_INET6 as u16).to_ne_bytes());
        assert_eq!(
            v6[8..24],
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
        );
        assert_eq!(&v6[28..32], &9u32.to_ne_bytes());
    }
}
