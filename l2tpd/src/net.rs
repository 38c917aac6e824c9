//! The L2TP sockets: UDP on every `listen` address, and raw IP protocol 115 sockets for
//! L2TPv3 over IP (RFC 3931 §4.1.1.1) when the config uses `encap ip`.
//!
//! Sockets are opened before the daemon forks, so that a bind failure reaches the terminal and
//! the exit status; they become tokio sockets once the runtime exists.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

/// The IP protocol number of L2TP (RFC 3931 §4.1.1.1).
pub const IPPROTO_L2TP: i32 = 115;

/// A bound L2TP socket, not yet registered with the runtime.
#[derive(Debug)]
pub struct Bound {
    /// The socket. IP-encapsulation sockets are raw sockets held as a `UdpSocket`, which
    /// offers the same datagram calls.
    pub socket: UdpSocket,
    /// The address it is bound to (the kernel's choice for port 0).
    pub local: SocketAddr,
}

/// Binds a UDP socket on each of `listen`. IPv6 sockets are IPv6-only, so `0.0.0.0:1701` and
/// `[::]:1701` coexist. An IPv6 address on a host without IPv6 is skipped with a warning; any
/// other failure is an error naming the address.
pub fn bind_udp(listen: &[SocketAddr]) -> Result<Vec<Bound>, String> {
    let mut out = Vec::new();
    for addr in listen {
        match udp(*addr) {
            Ok(b) => out.push(b),
            Err(e) if addr.is_ipv6() && e.raw_os_error() == Some(nix::libc::EAFNOSUPPORT) => {
                tracing::warn!("not listening on UDP {addr}: this host has no IPv6 ({e})");
            }
            Err(e) => return Err(format!("cannot listen on UDP {addr}: {e}")),
        }
    }
    if out.is_empty() && !listen.is_empty() {
        return Err("no listen address could be bound".into());
    }
    Ok(out)
}

fn udp(addr: SocketAddr) -> io::Result<Bound> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    s.bind(&addr.into())?;
    // Set only after binding: the bind itself stays exclusive (another daemon, or anything
    // else holding the port, is still an error), while the tunnels' own sockets
    // ([`tunnel_udp`]) may then share the address and port.
    s.set_reuse_address(true)?;
    let socket = UdpSocket::from(s);
    let local = socket.local_addr()?;
    Ok(Bound { socket, local })
}

/// A tunnel's own UDP socket: bound to `local` (the listen socket's address and port, which
/// it shares through `SO_REUSEADDR`) and connected to `remote`, so that the kernel delivers
/// the peer's datagrams to it rather than to the listen socket, and a kernel data plane can
/// take it over (one socket per tunnel).
pub fn tunnel_udp(local: SocketAddr, remote: SocketAddr) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(local), Type::DGRAM, Some(Protocol::UDP))?;
    if local.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    s.bind(&local.into())?;
    s.connect(&remote.into())?;
    Ok(UdpSocket::from(s))
}

/// Opens a raw IP protocol 115 socket on each distinct address of `listen`. Failures are
/// logged with their reason and skipped: the daemon still runs UDP tunnels.
pub fn open_ip(listen: &[SocketAddr]) -> Vec<Bound> {
    let ips: BTreeSet<IpAddr> = listen.iter().map(SocketAddr::ip).collect();
    let mut out = Vec::new();
    for ip in ips {
        match raw(ip) {
            Ok(b) => {
                tracing::info!("listening for L2TPv3 over IP (protocol 115) on {ip}");
                out.push(b);
            }
            Err(e) => tracing::error!(
                "cannot open an L2TPv3-over-IP socket (IP protocol {IPPROTO_L2TP}) on {ip}: \
                 {e}{}; tunnels with `encap ip` will not work",
                hint(&e)
            ),
        }
    }
    out
}

fn raw(ip: IpAddr) -> io::Result<Bound> {
    let addr = SocketAddr::new(ip, 0);
    let s = Socket::new(
        Domain::for_address(addr),
        Type::RAW,
        Some(Protocol::from(IPPROTO_L2TP)),
    )?;
    // No IPV6_V6ONLY here: Linux refuses it on raw sockets (EINVAL), and a raw IPv6 socket
    // only ever sees IPv6 anyway.
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    s.bind(&addr.into())?;
    Ok(Bound {
        socket: UdpSocket::from(s),
        local: addr,
    })
}

fn hint(e: &io::Error) -> &'static str {
    use nix::libc;
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => " (raw sockets need root or CAP_NET_RAW)",
        Some(libc::EPROTONOSUPPORT | libc::ESOCKTNOSUPPORT) => {
            " (the kernel does not offer raw sockets for this protocol)"
        }
        Some(libc::EAFNOSUPPORT) => " (no such address family on this host)",
        Some(libc::EADDRNOTAVAIL) => " (no local interface has this address)",
        _ => "",
    }
}

/// The payload of a datagram read from an IP-encapsulation socket: IPv4 raw sockets deliver
/// the IP header too (IPv6 ones do not), which is skipped here. `None` if truncated.
pub fn strip_ip_header(local: SocketAddr, packet: &[u8]) -> Option<&[u8]> {
    if local.is_ipv6() {
        return Some(packet);
    }
    let ihl = usize::from(*packet.first()? & 0x0f) * 4;
    packet.get(ihl..).filter(|_| ihl >= 20)
}

/// The system's host name.
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// A router id derived from a local IPv4 address: the first specific IPv4 `listen` address,
/// else the first non-loopback IPv4 interface address, else 127.0.0.1's.
pub fn derive_router_id(listen: &[SocketAddr]) -> u32 {
    let specific = listen.iter().find_map(|a| match a.ip() {
        IpAddr::V4(ip) if !ip.is_unspecified() => Some(ip),
        _ => None,
    });
    let from_interfaces = || {
        nix::ifaddrs::getifaddrs().ok().and_then(|addrs| {
            addrs
                .filter_map(|a| a.address?.as_sockaddr_in().map(|s| s.ip()))
                .find(|ip| !ip.is_loopback() && !ip.is_unspecified())
        })
    };
    specific
        .or_else(from_interfaces)
        .unwrap_or(Ipv4Addr::LOCALHOST)
        .to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_and_v6_wildcards_share_a_port() {
        let Ok(first) = bind_udp(&["[::]:0".parse().unwrap_or(SocketAddr::from(([0; 4], 0)))])
        else {
            return; // no IPv6 here
        };
        let port = first[0].local.port();
        drop(first);
        let both = [
            SocketAddr::from(([0, 0, 0, 0], port)),
            SocketAddr::from(([0u16; 8], port)),
        ];
        let bound = bind_udp(&both);
        assert!(bound.is_ok_and(|b| b.len() == 2));
    }

    #[test]
    fn a_port_in_use_is_an_error_naming_the_address() {
        let Ok(first) = bind_udp(&[SocketAddr::from(([127, 0, 0, 1], 0))]) else {
            panic!("cannot bind loopback");
        };
        let e = bind_udp(&[first[0].local]);
        assert!(
            e.as_ref()
                .is_err_and(|m| m.contains(&first[0].local.to_string())),
            "{e:?}"
        );
    }

    #[test]
    fn tunnel_sockets_share_the_listen_port_and_take_their_peer_s_datagrams() {
        let Ok(listen) = bind_udp(&[SocketAddr::from(([127, 0, 0, 1], 0))]) else {
            panic!("cannot bind loopback");
        };
        let local = listen[0].local;
        let Ok(peer) = UdpSocket::bind("127.0.0.1:0") else {
            panic!("cannot bind loopback");
        };
        let Ok(peer_addr) = peer.local_addr() else {
            panic!("no address");
        };
        let tunnel = tunnel_udp(local, peer_addr);
        assert!(tunnel.is_ok(), "{tunnel:?}");
        let Ok(tunnel) = tunnel else { return };
        assert!(peer.send_to(b"hello", local).is_ok());
        let mut buf = [0u8; 16];
        let mut got = None;
        for _ in 0..100 {
            if let Ok(n) = tunnel.recv(&mut buf) {
                got = Some(n);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(got, Some(5));
        // Still exclusive towards anyone else.
        assert!(bind_udp(&[local]).is_err());
    }

    #[test]
    fn ip_headers_are_stripped_for_ipv4_only() {
        let v4 = SocketAddr::from(([0, 0, 0, 0], 0));
        let mut p = vec![0x45u8; 20];
        p.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(strip_ip_header(v4, &p), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(strip_ip_header(v4, &[0x4f]), None);
        let v6 = SocketAddr::from(([0u16; 8], 0));
        assert_eq!(strip_ip_header(v6, &[9]), Some(&[9u8][..]));
    }
}
