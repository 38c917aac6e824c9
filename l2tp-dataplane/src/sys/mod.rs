//! The userspace data plane's `unsafe` code (the kernel data plane's is in `kernel::sys`): the
//! Linux calls that neither `nix` nor `socket2` wrap in the shape the data plane needs. Each function is a thin, safe wrapper with a `// SAFETY:` comment
//! at every `unsafe` block.
//!
//! - TAP and TUN creation: `open("/dev/net/tun")` + `TUNSETIFF` with `IFF_TAP` or `IFF_TUN`,
//!   and `IFF_NO_PI` (Documentation/networking/tuntap.rst).
//! - Interface settings through `SIOCSIFMTU`, `SIOCGIFFLAGS`/`SIOCSIFFLAGS`, `SIOCSIFHWADDR` and
//!   the bridge's `SIOCBRADDIF`, on a throw-away `AF_INET` datagram socket (netdevice(7)).
//! - Batched datagram I/O: `recvmmsg(2)` and `sendmmsg(2)` on connected sockets (or, to
//!   send, with one destination for every datagram).
//! - Integer socket options that socket2 lacks (`IP_MTU_DISCOVER`, `SO_NO_CHECK`,
//!   `SO_RCVMARK`), and `recvmsg(2)` with the datagram's mark ([`mark`]).
//! - Offloads ([`offload`]): the TAP's virtio-net header and `TUNSETOFFLOAD`, UDP GSO
//!   (`UDP_SEGMENT`) sends and UDP GRO receives.
//! - The daemon's inherited descriptors marked close-on-exec at start-up ([`fds`]).

use std::ffi::c_int;
use std::fs::OpenOptions;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::ptr;

use nix::libc;

mod fds;
mod mark;
mod offload;

pub use fds::mark_inherited_cloexec;

pub(crate) use mark::{recv_from_with_mark, set_receive_mark};
pub(crate) use offload::{
    GroBatch, probe_udp_segment, set_udp_gro, tap_set_offload, tap_set_vnet_header, udp_gro_recv,
    udp_gso_send,
};

/// Most datagrams one `recvmmsg`/`sendmmsg` call handles.
pub(crate) const MAX_BATCH: usize = 64;

/// `SIOCBRADDIF` (linux/sockios.h), missing from `libc`.
const SIOCBRADDIF: libc::c_ulong = 0x89a2;

/// `SO_NO_CHECK` (asm-generic/socket.h): no UDP checksums on transmit (IPv4 only).
const SO_NO_CHECK: c_int = 11;

/// An `ifreq` carrying `name`.
fn ifreq(name: &str) -> io::Result<libc::ifreq> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.bytes().any(|b| b == 0 || b == b'/')
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?}"),
        ));
    }
    // SAFETY: `ifreq` is plain old data (a char array and a union of integers, sockaddrs and a
    // pointer); the all-zero pattern is a valid value of every member.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

/// The name in an `ifreq`, as the kernel wrote it back.
fn ifreq_name(req: &libc::ifreq) -> String {
    let bytes: Vec<u8> = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs an `ifreq` ioctl on `fd`.
fn ioctl_ifreq(
    fd: BorrowedFd<'_>,
    request: libc::c_ulong,
    req: &mut libc::ifreq,
) -> io::Result<()> {
    // SAFETY: `fd` is an open descriptor for the duration of the call, `req` is a valid,
    // exclusively borrowed `ifreq`, and every request used here reads or writes at most one
    // `ifreq` (netdevice(7), tuntap.rst).
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, ptr::from_mut(req)) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A socket for interface ioctls.
fn control_socket() -> io::Result<OwnedFd> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    Ok(socket.into())
}

/// Creates a TAP or TUN device (`IFF_TAP` or `IFF_TUN` in `flags`, with `IFF_NO_PI`, and other
/// flags such as `IFF_VNET_HDR` and `IFF_MULTI_QUEUE`), named `name` or from a `%d` template,
/// and returns its non-blocking
/// descriptor and its real name. The device is not persistent: the kernel deletes it when its
/// last descriptor is closed. With `IFF_MULTI_QUEUE`, opening the same name again with the
/// same flags attaches one more queue.
pub(crate) fn tap_open(name: &str, flags: c_int) -> io::Result<(OwnedFd, String)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open("/dev/net/tun")?;
    let fd = OwnedFd::from(file);
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_flags = (libc::IFF_NO_PI | flags) as libc::c_short;
    // `TUNSETIFF` reads the name and flags and writes back the allocated name (a `%d` template
    // is expanded by the kernel's dev_alloc_name()).
    ioctl_ifreq(fd.as_fd(), libc::TUNSETIFF as libc::c_ulong, &mut req)?;
    Ok((fd, ifreq_name(&req)))
}

/// Sets the MTU of interface `name`.
pub(crate) fn set_mtu(name: &str, mtu: u32) -> io::Result<()> {
    let sock = control_socket()?;
    let mut req = ifreq(name)?;
    req.ifr_ifru.ifru_mtu = c_int::try_from(mtu)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "MTU out of range"))?;
    ioctl_ifreq(sock.as_fd(), libc::SIOCSIFMTU, &mut req)
}

/// The MTU of the TUN or TAP device `fd` is a queue of, under its current name (`TUNGETIFF`:
/// the device may have been renamed since it was made).
pub(crate) fn tap_mtu(fd: BorrowedFd<'_>) -> io::Result<u32> {
    // SAFETY: `ifreq` is plain old data; the all-zero pattern is a valid value of every member.
    let mut req: libc::ifreq = unsafe { mem::zeroed() };
    // `TUNGETIFF` writes the device's name and flags into `req`.
    ioctl_ifreq(fd, libc::TUNGETIFF as libc::c_ulong, &mut req)?;
    let mut req = ifreq(&ifreq_name(&req))?;
    let sock = control_socket()?;
    ioctl_ifreq(sock.as_fd(), libc::SIOCGIFMTU, &mut req)?;
    // SAFETY: SIOCGIFMTU just filled in `ifru_mtu`, so reading that member is reading the
    // initialised one.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "negative MTU"))
}

/// Sets interface `name` administratively up.
pub(crate) fn set_up(name: &str) -> io::Result<()> {
    let sock = control_socket()?;
    let mut req = ifreq(name)?;
    ioctl_ifreq(sock.as_fd(), libc::SIOCGIFFLAGS, &mut req)?;
    // SAFETY: SIOCGIFFLAGS just filled in `ifru_flags`, so reading that member is reading the
    // initialised one.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ioctl_ifreq(sock.as_fd(), libc::SIOCSIFFLAGS, &mut req)
}

/// Sets the Ethernet address of interface `name`.
pub(crate) fn set_mac(name: &str, mac: [u8; 6]) -> io::Result<()> {
    let sock = control_socket()?;
    let mut req = ifreq(name)?;
    // SAFETY: `sockaddr` is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr = unsafe { mem::zeroed() };
    addr.sa_family = libc::ARPHRD_ETHER;
    for (dst, src) in addr.sa_data.iter_mut().zip(mac) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_hwaddr = addr;
    ioctl_ifreq(sock.as_fd(), libc::SIOCSIFHWADDR, &mut req)
}

/// Sets an IPv4 address (`SIOCSIFADDR`) or netmask (`SIOCSIFNETMASK`) of interface `name`.
pub(crate) fn set_ipv4(
    name: &str,
    request: libc::c_ulong,
    ip: std::net::Ipv4Addr,
) -> io::Result<()> {
    let sock = control_socket()?;
    let mut req = ifreq(name)?;
    // SAFETY: `sockaddr_in` is plain old data; all-zero is a valid value.
    let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_addr.s_addr = u32::from(ip).to_be();
    // SAFETY: `sockaddr_in` and `sockaddr` have the same size (16 octets) and the kernel reads
    // the member as the `sockaddr_in` its family says it is (netdevice(7)).
    req.ifr_ifru.ifru_addr = unsafe { mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) };
    ioctl_ifreq(sock.as_fd(), request, &mut req)
}

/// Adds the interface with index `ifindex` to bridge `bridge`.
pub(crate) fn bridge_add(bridge: &str, ifindex: u32) -> io::Result<()> {
    let sock = control_socket()?;
    let mut req = ifreq(bridge)?;
    req.ifr_ifru.ifru_ifindex = c_int::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ifindex out of range"))?;
    ioctl_ifreq(sock.as_fd(), SIOCBRADDIF, &mut req)
}

/// Sets an integer socket option.
pub(crate) fn set_int_option(
    fd: BorrowedFd<'_>,
    level: c_int,
    name: c_int,
    value: c_int,
) -> io::Result<()> {
    // SAFETY: `value` lives across the call and the length passed is its size; the kernel only
    // reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            ptr::from_ref(&value).cast(),
            mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Lets the kernel fragment datagrams larger than the path MTU instead of refusing them (the
/// DF bit stays clear), as the kernel's own L2TP data plane does.
pub(crate) fn set_fragmentation_allowed(fd: BorrowedFd<'_>, ipv6: bool) -> io::Result<()> {
    if ipv6 {
        set_int_option(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DONT,
        )
    } else {
        set_int_option(
            fd,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_DONT,
        )
    }
}

/// Turns UDP transmit checksums off (IPv4; RFC 768 allows a zero checksum).
pub(crate) fn set_udp_no_checksum(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_int_option(fd, libc::SOL_SOCKET, SO_NO_CHECK, 1)
}

/// `UDP_NO_CHECK6_RX` (linux/udp.h): accept IPv6 UDP datagrams with a zero checksum
/// (RFC 6936), as tunnels that send them need.
pub(crate) fn set_udp6_accept_zero_checksum(fd: BorrowedFd<'_>) -> io::Result<()> {
    const UDP_NO_CHECK6_RX: c_int = 102;
    set_int_option(fd, libc::IPPROTO_UDP, UDP_NO_CHECK6_RX, 1)
}

/// Receives up to `bufs.len()` (at most [`MAX_BATCH`]) datagrams without blocking, storing each
/// one's length in `lens`. Returns how many arrived; `WouldBlock` when none had.
/// A datagram longer than its buffer is reported with the length `usize::MAX`.
pub(crate) fn recvmmsg(
    fd: BorrowedFd<'_>,
    bufs: &mut [Vec<u8>],
    lens: &mut [usize],
) -> io::Result<usize> {
    let n = bufs.len().min(lens.len()).min(MAX_BATCH);
    // SAFETY: `iovec` and `mmsghdr` are plain old data (integers and null pointers when zero).
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        iov[i].iov_base = bufs[i].as_mut_ptr().cast();
        iov[i].iov_len = bufs[i].len();
        hdrs[i].msg_hdr.msg_iov = ptr::from_mut(&mut iov[i]);
        hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the first `n` headers each point at one iovec, which points at a live,
    // exclusively borrowed buffer of the length given; no names or control buffers are passed
    // (null, length 0). `iov` and `bufs` outlive the call, and the kernel writes only within
    // those bounds and into `msg_len`/`msg_flags`.
    let rc = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            ptr::null_mut(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let got = rc as usize;
    for i in 0..got {
        lens[i] = if hdrs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            usize::MAX
        } else {
            hdrs[i].msg_len as usize
        };
    }
    Ok(got)
}

/// Sends `msgs` (at most [`MAX_BATCH`] are looked at) without blocking, on a connected socket
/// (`dest` `None`) or to `dest`. Returns how many were sent; an error only when the first one
/// could not be.
pub(crate) fn sendmmsg(
    fd: BorrowedFd<'_>,
    dest: Option<&socket2::SockAddr>,
    msgs: &[&[u8]],
) -> io::Result<usize> {
    let n = msgs.len().min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: plain old data, see `recvmmsg`.
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        // The kernel only reads through `iov_base` on send; the cast to `*mut` is what the C
        // type demands.
        iov[i].iov_base = msgs[i].as_ptr().cast_mut().cast();
        iov[i].iov_len = msgs[i].len();
        hdrs[i].msg_hdr.msg_iov = ptr::from_mut(&mut iov[i]);
        hdrs[i].msg_hdr.msg_iovlen = 1;
        if let Some(d) = dest {
            // The kernel only reads the name on send.
            hdrs[i].msg_hdr.msg_name = d.as_ptr().cast_mut().cast();
            hdrs[i].msg_hdr.msg_namelen = d.len();
        }
    }
    // SAFETY: the first `n` headers each point at one iovec describing a live buffer of the
    // given length, and at `dest` (a live socket address of the given length) or at no name
    // on a connected socket. The kernel reads those and writes only `msg_len`.
    let rc = unsafe {
        libc::sendmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_are_checked() {
        assert!(ifreq("").is_err());
        assert!(ifreq("a/b").is_err());
        assert!(ifreq("0123456789abcdef").is_err());
        let req = ifreq("l2tp%d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ifreq_name(&req), "l2tp%d");
    }

    #[test]
    fn batched_io_over_a_socket_pair() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let (aa, ba) = (
            a.local_addr().unwrap_or_else(|e| panic!("{e}")),
            b.local_addr().unwrap_or_else(|e| panic!("{e}")),
        );
        a.connect(ba).unwrap_or_else(|e| panic!("{e}"));
        b.connect(aa).unwrap_or_else(|e| panic!("{e}"));
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; usize::from(i) + 1]).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        assert_eq!(
            sendmmsg(a.as_fd(), None, &refs).unwrap_or_else(|e| panic!("{e}")),
            5
        );
        let mut bufs = vec![vec![0u8; 3]; 8];
        let mut lens = [0usize; 8];
        let n = recvmmsg(b.as_fd(), &mut bufs, &mut lens).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 5);
        assert_eq!(&lens[..5], &[1, 2, 3, usize::MAX, usize::MAX]);
        assert_eq!(&bufs[2][..3], &[2, 2, 2]);
        let err = recvmmsg(b.as_fd(), &mut bufs, &mut lens).err();
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::WouldBlock));
    }

    /// A socket that is not connected to its peer sends to it by name.
    #[test]
    fn batched_sends_to_a_destination() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        b.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
        let ba = b.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let refs: [&[u8]; 2] = [b"one", b"two"];
        assert!(
            sendmmsg(a.as_fd(), None, &refs).is_err(),
            "sent with no destination"
        );
        let dest = socket2::SockAddr::from(ba);
        assert_eq!(
            sendmmsg(a.as_fd(), Some(&dest), &refs).unwrap_or_else(|e| panic!("{e}")),
            2
        );
        let mut bufs = vec![vec![0u8; 8]; 4];
        let mut lens = [0usize; 4];
        let n = recvmmsg(b.as_fd(), &mut bufs, &mut lens).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (n, &lens[..2], &bufs[1][..3]),
            (2, &[3, 3][..], &b"two"[..])
        );
    }
}
