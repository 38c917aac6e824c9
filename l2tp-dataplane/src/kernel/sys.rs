//! The kernel data plane's only `unsafe` code: the PPPoL2TP socket (`AF_PPPOX`,
//! `PX_PROTO_OL2TP`, linux/if_pppox.h and linux/if_pppol2tp.h) and its session options, the
//! `/dev/ppp` ioctls of `ppp_generic` (linux/ppp-ioctl.h) behind [`super::ppp`], and the
//! binding and connecting of L2TP/IP sockets (`sockaddr_l2tpip`, `sockaddr_l2tpip6`,
//! linux/l2tp.h), which neither `nix` nor `socket2` can do. Each block has a `// SAFETY:`
//! comment.

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

// ---- /dev/ppp (ppp_generic, linux/ppp-ioctl.h) and the options of a PPPoL2TP session
// (linux/if_pppol2tp.h). libc has neither the request numbers nor `struct npioctl`.

/// The `ppp_generic` ioctl requests used here, encoded for this architecture by nix as
/// `_IOR`, `_IOW` and `_IO` encode them.
pub(super) mod request {
    use nix::libc;
    use nix::sys::ioctl::ioctl_num_type;

    const INT: usize = size_of::<libc::c_int>();

    /// `PPPIOCGCHAN`, `_IOR('t', 55, int)`: a PPPoX socket's channel number (it marks the
    /// socket bound: its frames go to the channel from then on).
    pub(in super::super) const PPPIOCGCHAN: ioctl_num_type = nix::request_code_read!(b't', 55, INT);
    /// `PPPIOCATTCHAN`, `_IOW('t', 56, int)`: attaches a `/dev/ppp` file to a channel.
    pub(in super::super) const PPPIOCATTCHAN: ioctl_num_type =
        nix::request_code_write!(b't', 56, INT);
    /// `PPPIOCDISCONN`, `_IO('t', 57)`: disconnects a channel from its unit.
    pub(in super::super) const PPPIOCDISCONN: ioctl_num_type = nix::request_code_none!(b't', 57);
    /// `PPPIOCCONNECT`, `_IOW('t', 58, int)`: connects a channel to unit N.
    pub(in super::super) const PPPIOCCONNECT: ioctl_num_type =
        nix::request_code_write!(b't', 58, INT);
    /// `PPPIOCSNPMODE`, `_IOW('t', 75, struct npioctl)`: what a unit does with a network
    /// protocol's packets.
    pub(in super::super) const PPPIOCSNPMODE: ioctl_num_type =
        nix::request_code_write!(b't', 75, size_of::<super::NpIoctl>());
    /// `PPPIOCSMRU`, `_IOW('t', 82, int)`: a unit's MRU.
    pub(in super::super) const PPPIOCSMRU: ioctl_num_type = nix::request_code_write!(b't', 82, INT);
    /// `PPPIOCGUNIT`, `_IOR('t', 86, int)`: a unit's number.
    pub(in super::super) const PPPIOCGUNIT: ioctl_num_type = nix::request_code_read!(b't', 86, INT);
}

/// `struct npioctl`: a PPP network protocol (`PPP_IP`, `PPP_IPV6`, ...) and its `enum NPmode`.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[repr(C)]
pub(super) struct NpIoctl {
    pub(super) protocol: libc::c_int,
    pub(super) mode: libc::c_int,
}

/// Runs a `/dev/ppp` or PPPoX ioctl whose argument is one `int`, read or written by the kernel.
pub(super) fn ppp_ioctl_int(
    fd: BorrowedFd<'_>,
    request: nix::sys::ioctl::ioctl_num_type,
    value: &mut libc::c_int,
) -> io::Result<()> {
    // SAFETY: `fd` is open for the borrow's lifetime; `value` is a valid, exclusively borrowed
    // int, and each request passed here (PPPIOCGCHAN, PPPIOCATTCHAN, PPPIOCCONNECT,
    // PPPIOCSMRU, PPPIOCGUNIT) reads or writes exactly one int through the pointer.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, std::ptr::from_mut(value)) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `PPPIOCSNPMODE` on unit file `fd`.
pub(super) fn ppp_set_npmode(fd: BorrowedFd<'_>, np: NpIoctl) -> io::Result<()> {
    // SAFETY: `fd` is open; `np` is a live `struct npioctl` (repr(C), two ints), which the
    // kernel copies in and does not keep.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            request::PPPIOCSNPMODE,
            std::ptr::from_ref(&np),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `PPPIOCDISCONN` on channel file `fd`.
pub(super) fn ppp_disconnect(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is open; the request takes no argument.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request::PPPIOCDISCONN, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `SOL_PPPOL2TP` (linux/socket.h).
const SOL_PPPOL2TP: libc::c_int = 273;

/// The options of a PPPoL2TP session socket (`PPPOL2TP_SO_*`, linux/if_pppol2tp.h).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum PppoL2tpOption {
    /// `PPPOL2TP_SO_RECVSEQ`: require sequence numbers on received data.
    RecvSeq = 2,
    /// `PPPOL2TP_SO_SENDSEQ`: send sequence numbers.
    SendSeq = 3,
    /// `PPPOL2TP_SO_LNSMODE`: the LNS's side (it decides about sequencing, RFC 2661 §5.4).
    LnsMode = 4,
    /// `PPPOL2TP_SO_REORDERTO`: reorder timeout, milliseconds.
    ReorderTimeout = 5,
}

/// Sets option `option` of PPPoL2TP socket `fd` to `value`.
pub(super) fn pppol2tp_set(
    fd: BorrowedFd<'_>,
    option: PppoL2tpOption,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` lives across the call and the length passed is its size; the kernel
    // only reads it. `fd` is open.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            SOL_PPPOL2TP,
            option as libc::c_int,
            std::ptr::from_ref(&value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
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

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn ppp_requests_match_linux_ppp_ioctl_h() {
        // The values of the C macros on x86_64 (generic _IOC encoding).
        assert_eq!(request::PPPIOCGCHAN, 0x8004_7437);
        assert_eq!(request::PPPIOCATTCHAN, 0x4004_7438);
        assert_eq!(request::PPPIOCDISCONN, 0x0000_7439);
        assert_eq!(request::PPPIOCCONNECT, 0x4004_743a);
        assert_eq!(request::PPPIOCSNPMODE, 0x4008_744b);
        assert_eq!(request::PPPIOCSMRU, 0x4004_7452);
        assert_eq!(request::PPPIOCGUNIT, 0x8004_7456);
        assert_eq!(size_of::<NpIoctl>(), 8);
    }
}
