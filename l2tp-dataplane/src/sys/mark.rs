//! Netfilter marks of received datagrams: `SO_RCVMARK` (Linux 5.19) makes the kernel attach
//! each datagram's mark as an `SO_MARK` control message, which `recvmsg(2)` returns.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr;

use nix::libc;
use socket2::SockAddr;

use super::set_int_option;

/// Asks the kernel to report the mark of each datagram received on `fd`.
pub(crate) fn set_receive_mark(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_int_option(fd, libc::SOL_SOCKET, libc::SO_RCVMARK, 1)
}

/// Receives one datagram into `buf` without blocking: its length (`usize::MAX` when it was
/// longer than `buf`), its source, its mark (0 when the kernel reported none) and the
/// address it was sent to, when the socket reports it (`IP_PKTINFO`, `IPV6_RECVPKTINFO`).
pub(crate) fn recv_from_with_mark(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, u32, Option<IpAddr>)> {
    // Room for an `SO_MARK` message, an `in6_pktinfo` one (and spare room), 8-byte aligned as
    // `cmsghdr` wants.
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is plain old data (integers and null pointers when zero).
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = ptr::from_mut(&mut iov);
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = mem::size_of_val(&control);
    // SAFETY: `try_init` hands a zeroed `sockaddr_storage` and its size, and trusts the length
    // the closure leaves; `recvmsg` writes at most `msg_namelen` octets of address there, at
    // most `iov_len` octets into `buf` (exclusively borrowed for the call) and at most
    // `msg_controllen` octets into `control`, all of which outlive the call.
    let (n, addr) = unsafe {
        SockAddr::try_init(|storage, len| {
            msg.msg_name = storage.cast();
            msg.msg_namelen = *len;
            let n = libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT);
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            *len = msg.msg_namelen;
            Ok(n as usize)
        })
    }?;
    let Some(source) = addr.as_socket() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a datagram from an address that is not IPv4 or IPv6",
        ));
    };
    let len = if msg.msg_flags & libc::MSG_TRUNC != 0 {
        usize::MAX
    } else {
        n
    };
    let mut mark = 0;
    let mut destination = None;
    // SAFETY: `msg` is the header `recvmsg` filled: its control pointer and length describe
    // the part of `control` the kernel wrote, which the CMSG macros walk without leaving it;
    // each data pointer is read only after checking that the message holds its payload.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            let data_len = (header.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
            if header.cmsg_level == libc::SOL_SOCKET
                && header.cmsg_type == libc::SO_MARK
                && data_len >= mem::size_of::<u32>()
            {
                mark = ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<u32>());
            } else if header.cmsg_level == libc::IPPROTO_IPV6
                && header.cmsg_type == libc::IPV6_PKTINFO
                && data_len >= mem::size_of::<libc::in6_pktinfo>()
            {
                let info = ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in6_pktinfo>());
                destination = Some(IpAddr::from(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
            } else if header.cmsg_level == libc::IPPROTO_IP
                && header.cmsg_type == libc::IP_PKTINFO
                && data_len >= mem::size_of::<libc::in_pktinfo>()
            {
                let info = ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>());
                destination = Some(IpAddr::from(Ipv4Addr::from(u32::from_be(
                    info.ipi_addr.s_addr,
                ))));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((len, source, mark, destination))
}
