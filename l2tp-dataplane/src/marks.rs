//! Netfilter marks on L2TP sockets, for L2TP/IPsec servers with several clients behind one
//! NAT: the IPsec implementation gives each client's security associations a mark of their
//! own (strongSwan's `mark_in`/`mark_out = %unique`, with `set_mark_in = %same` marking the
//! decrypted packets), so that a datagram's mark says which client it came from, and a socket
//! whose `SO_MARK` is that mark sends through that client's SA.
//!
//! [`set_receive_mark`] asks the kernel to report the mark of each datagram received on a
//! socket (`SO_RCVMARK`, Linux 5.19 and later), [`recv_from`] reads a datagram with it ([`recv_from_to`] with its destination too), and
//! [`set_mark`] marks what a socket sends (`SO_MARK`, which needs `CAP_NET_ADMIN`).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::BorrowedFd;

use crate::sys;

/// Asks the kernel to report each received datagram's netfilter mark on `socket`.
///
/// # Errors
///
/// `ENOPROTOOPT` on kernels older than 5.19, which cannot.
pub fn set_receive_mark(socket: BorrowedFd<'_>) -> io::Result<()> {
    sys::set_receive_mark(socket)
}

/// Receives one datagram into `buf` without blocking. Returns its length (`usize::MAX` when it
/// did not fit in `buf`), its source and its netfilter mark: 0 for an unmarked datagram, or
/// when the socket does not report marks ([`set_receive_mark`]).
///
/// # Errors
///
/// What `recvmsg(2)` returns (`WouldBlock` when nothing is queued).
pub fn recv_from(socket: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, u32)> {
    sys::recv_from_with_mark(socket, buf).map(|(n, source, mark, _)| (n, source, mark))
}

/// As [`recv_from`], and also the address the datagram was sent to, on a socket that reports
/// it (`IP_PKTINFO`, `IPV6_RECVPKTINFO`; a socket bound to the unspecified address, whose
/// answers should leave from the address the peer dialled); else `None`.
///
/// # Errors
///
/// What `recvmsg(2)` returns (`WouldBlock` when nothing is queued).
pub fn recv_from_to(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, u32, Option<IpAddr>)> {
    sys::recv_from_with_mark(socket, buf)
}

/// Sets the netfilter mark of everything `socket` sends (`SO_MARK`; 0 for none). The kernel
/// drops the socket's cached route, so that the next datagram is routed, and matched to IPsec
/// policies, with the new mark.
///
/// # Errors
///
/// `EPERM` without `CAP_NET_ADMIN`.
pub fn set_mark(socket: BorrowedFd<'_>, mark: u32) -> io::Result<()> {
    socket2::SockRef::from(&socket).set_mark(mark)
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn datagrams_come_with_their_source_and_no_mark_unless_marked() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let to = rx.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let from = tx.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let reports = set_receive_mark(rx.as_fd()).is_ok();
        let mut buf = [0u8; 16];
        // Nothing queued yet.
        let e = recv_from(rx.as_fd(), &mut buf).err();
        assert_eq!(e.map(|e| e.kind()), Some(io::ErrorKind::WouldBlock));
        let marking = set_mark(tx.as_fd(), 0x2a).is_ok();
        tx.send_to(b"hello", to).unwrap_or_else(|e| panic!("{e}"));
        let got = (0..200).find_map(|_| match recv_from(rx.as_fd(), &mut buf) {
            Ok(r) => Some(r),
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
                None
            }
        });
        let Some((n, source, mark)) = got else {
            panic!("nothing received");
        };
        assert_eq!((n, source, &buf[..5]), (5, from, &b"hello"[..]));
        // The mark comes through loopback only when both ends could (root, Linux 5.19).
        let expected = if reports && marking { 0x2a } else { 0 };
        assert_eq!(mark, expected, "reports {reports}, marking {marking}");
        // A datagram longer than the buffer.
        tx.send_to(&[7u8; 40], to).unwrap_or_else(|e| panic!("{e}"));
        let got = (0..200).find_map(|_| match recv_from(rx.as_fd(), &mut buf) {
            Ok(r) => Some(r.0),
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
                None
            }
        });
        assert_eq!(got, Some(usize::MAX));
    }
}
