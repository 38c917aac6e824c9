//! The per-tunnel data sockets: UDP (RFC 3931 §4.1.2) or raw IP protocol 115 (§4.1.1), bound to
//! the local address and connected to the peer, non-blocking.
//!
//! A raw IPv4 socket receives the IP header in front of each datagram; `l2tp_payload` strips
//! it. Connecting a raw socket makes the kernel deliver only the peer's datagrams to it, so
//! several tunnels over IP can coexist, and demultiplexing by session id does the rest.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use l2tp_proto::wire::header::Encapsulation;
use socket2::{Domain, Protocol, Socket, Type};

use crate::sys;

/// The IANA protocol number of L2TP directly over IP (RFC 3931 §4.1.1).
pub const IPPROTO_L2TP: i32 = 115;

/// Socket buffer sizes asked for; the kernel caps them at `net.core.[rw]mem_max`.
const BUFFER_SIZE: usize = 4 << 20;

/// Opens a data socket for a tunnel.
pub(crate) fn open(
    encap: Encapsulation,
    local: SocketAddr,
    peer: SocketAddr,
    udp_checksums: bool,
) -> io::Result<OwnedFd> {
    if local.is_ipv4() != peer.is_ipv4() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "local and peer addresses of different families",
        ));
    }
    let domain = Domain::for_address(local);
    let (ty, protocol, local, peer) = match encap {
        Encapsulation::Udp => (Type::DGRAM, Protocol::UDP, local, peer),
        Encapsulation::Ip => {
            let strip = |mut a: SocketAddr| {
                a.set_port(0);
                a
            };
            (
                Type::RAW,
                Protocol::from(IPPROTO_L2TP),
                strip(local),
                strip(peer),
            )
        }
    };
    let socket = Socket::new(domain, ty.nonblocking().cloexec(), Some(protocol))?;
    // The control plane may hold a socket on the same address and port.
    socket.set_reuse_address(true)?;
    socket.bind(&local.into())?;
    socket.connect(&peer.into())?;
    let socket: OwnedFd = socket.into();
    configure(socket.as_fd(), encap, local.is_ipv6(), udp_checksums)?;
    Ok(socket)
}

/// Sets a data socket's options: large buffers, fragmentation allowed, and, when UDP
/// checksums are off, none sent (IPv4) or zero ones accepted (IPv6, RFC 6936, as the kernel's
/// L2TP does; the kernel drops them otherwise). Also applied to a socket the data plane adopts.
pub(crate) fn configure(
    socket: BorrowedFd<'_>,
    encap: Encapsulation,
    ipv6: bool,
    udp_checksums: bool,
) -> io::Result<()> {
    let s = socket2::SockRef::from(&socket);
    // Best effort: a smaller buffer only costs throughput.
    let _ = s.set_recv_buffer_size(BUFFER_SIZE);
    let _ = s.set_send_buffer_size(BUFFER_SIZE);
    sys::set_fragmentation_allowed(socket, ipv6)?;
    if encap == Encapsulation::Udp && !udp_checksums {
        if ipv6 {
            sys::set_udp6_accept_zero_checksum(socket)?;
        } else {
            sys::set_udp_no_checksum(socket)?;
        }
    }
    Ok(())
}

/// The L2TP part of a datagram received on a tunnel's data socket: everything for UDP and raw
/// IPv6, everything after the IPv4 header (IHL × 4 octets) for raw IPv4. `None` for a runt.
pub(crate) fn l2tp_payload(datagram: &[u8], encap: Encapsulation, ipv4: bool) -> Option<&[u8]> {
    if encap == Encapsulation::Ip && ipv4 {
        let ihl = usize::from(datagram.first()? & 0x0f) * 4;
        if ihl < 20 {
            return None;
        }
        return datagram.get(ihl..);
    }
    Some(datagram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ipv4_header_is_stripped_on_raw_sockets_only() {
        let mut d = vec![0x45u8; 20];
        d.extend_from_slice(&[0, 0, 0, 7]);
        assert_eq!(
            l2tp_payload(&d, Encapsulation::Ip, true),
            Some(&[0, 0, 0, 7][..])
        );
        assert_eq!(l2tp_payload(&d, Encapsulation::Ip, false), Some(&d[..]));
        assert_eq!(l2tp_payload(&d, Encapsulation::Udp, true), Some(&d[..]));
        d[0] = 0x46; // IHL 6: 24 octets of header, options included
        assert_eq!(l2tp_payload(&d, Encapsulation::Ip, true), Some(&[][..]));
        assert_eq!(l2tp_payload(&[0x41], Encapsulation::Ip, true), None);
        assert_eq!(l2tp_payload(&[], Encapsulation::Ip, true), None);
    }

    /// With UDP checksums off, a tunnel's IPv6 data socket takes a peer's datagrams with a zero
    /// checksum (`use_udp_checksums false` in l2tpd.conf(5)); with them on, the kernel drops
    /// them.
    #[test]
    fn zero_udp6_checksums_are_accepted_when_checksums_are_off() {
        use nix::libc;
        const UDP_NO_CHECK6_TX: libc::c_int = 101;
        let Ok(peer) = std::net::UdpSocket::bind("[::1]:0") else {
            return; // no IPv6 on this host
        };
        let Ok(()) = sys::set_int_option(peer.as_fd(), libc::IPPROTO_UDP, UDP_NO_CHECK6_TX, 1)
        else {
            return;
        };
        let from = peer.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let received = |checksums: bool| {
            let any = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0));
            let fd =
                open(Encapsulation::Udp, any, from, checksums).unwrap_or_else(|e| panic!("{e}"));
            let s = socket2::SockRef::from(&fd);
            let to = s.local_addr().ok().and_then(|a| a.as_socket());
            let to = to.unwrap_or_else(|| panic!("no local address"));
            peer.send_to(b"data", to).unwrap_or_else(|e| panic!("{e}"));
            let mut buf = [std::mem::MaybeUninit::new(0u8); 16];
            (0..40).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(5));
                s.recv(&mut buf).is_ok()
            })
        };
        assert!(
            received(false),
            "a zero checksum refused with checksums off"
        );
        assert!(
            !received(true),
            "a zero checksum accepted with checksums on"
        );
    }
}
