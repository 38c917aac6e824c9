//! The L2TP sockets: UDP on every `listen` address, and IP protocol 115 sockets for L2TPv3
//! over IP (RFC 3931 §4.1.1.1) when the config uses `encap ip`: the kernel's L2TP/IP sockets
//! where it has them (then each IP tunnel gets one of its own, as UDP tunnels do), else raw
//! sockets.
//!
//! Sockets are opened before the daemon forks, so that a bind failure reaches the terminal and
//! the exit status; they become tokio sockets once the runtime exists.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use l2tp_proto::wire::header::Encapsulation;

/// The IP protocol number of L2TP (RFC 3931 §4.1.1.1).
pub const IPPROTO_L2TP: i32 = 115;

/// How the datagrams of an L2TP socket are framed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Framing {
    /// UDP: a datagram is an L2TP message.
    Udp,
    /// A raw IP protocol-115 socket: it sees every packet, data ones too; IPv4 ones come with
    /// their IP header. The L2TP part starts at the Session ID (RFC 3931 §4.1.1.1).
    RawIp,
    /// An L2TP/IP socket of the kernel (`l2tp_ip`, `l2tp_ip6`): control messages only, without
    /// the four zero octets of the Session ID, which the kernel removes and adds.
    L2tpIp,
}

/// The Session ID of a control message over IP (RFC 3931 §4.1.1.1).
const CONTROL_SESSION_ID: [u8; 4] = [0; 4];

impl Framing {
    /// The encapsulation of the datagrams of sockets of this framing.
    pub fn encap(self) -> Encapsulation {
        match self {
            Framing::Udp => Encapsulation::Udp,
            Framing::RawIp | Framing::L2tpIp => Encapsulation::Ip,
        }
    }

    /// The L2TP message in a datagram read on a socket of this framing bound to `local`, as the
    /// engine takes it (over IP, from the Session ID on). `None` if truncated.
    pub fn decode(self, local: SocketAddr, datagram: &[u8]) -> Option<Vec<u8>> {
        match self {
            Framing::Udp => Some(datagram.to_vec()),
            Framing::RawIp => strip_ip_header(local, datagram).map(<[u8]>::to_vec),
            Framing::L2tpIp => {
                let mut m = Vec::with_capacity(datagram.len() + 4);
                m.extend_from_slice(&CONTROL_SESSION_ID);
                m.extend_from_slice(datagram);
                Some(m)
            }
        }
    }

    /// What to write on a socket of this framing for the engine's message `payload`. `None`
    /// for a message that such a socket cannot carry (over L2TP/IP, anything but a control
    /// message).
    pub fn encode(self, payload: &[u8]) -> Option<&[u8]> {
        match self {
            Framing::Udp | Framing::RawIp => Some(payload),
            Framing::L2tpIp => payload
                .strip_prefix(&CONTROL_SESSION_ID[..])
                .filter(|rest| !rest.is_empty()),
        }
    }
}

/// A bound L2TP socket, not yet registered with the runtime.
#[derive(Debug)]
pub struct Bound {
    /// The socket. IP-encapsulation sockets are held as a `UdpSocket`, which offers the same
    /// datagram calls.
    pub socket: UdpSocket,
    /// The address it is bound to (the kernel's choice for port 0).
    pub local: SocketAddr,
    /// How its datagrams are framed.
    pub framing: Framing,
    /// Whether the kernel reports the netfilter mark of each datagram it receives
    /// (`SO_RCVMARK`), which is then read with [`l2tp_dataplane::marks::recv_from`].
    pub marks: bool,
}

/// Binds a UDP socket on each of `listen`. IPv6 sockets are IPv6-only, so `0.0.0.0:1701` and
/// `[::]:1701` coexist. An IPv6 address on a host without IPv6 is skipped with a warning; any
/// other failure is an error naming the address. With `receive_marks` (`learn_sccrq_mark`),
/// the sockets report each datagram's netfilter mark where the kernel can (Linux 5.19).
pub fn bind_udp(listen: &[SocketAddr], receive_marks: bool) -> Result<Vec<Bound>, String> {
    let mut out = Vec::new();
    for addr in listen {
        match udp(*addr) {
            Ok(mut b) => {
                if receive_marks {
                    b.marks = report_marks(&b);
                }
                out.push(b);
            }
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

/// Asks the kernel to report the mark of each datagram `b` receives; false (logged) where it
/// cannot.
fn report_marks(b: &Bound) -> bool {
    use std::os::fd::AsFd;
    match l2tp_dataplane::marks::set_receive_mark(b.socket.as_fd()) {
        Ok(()) => true,
        Err(e) => {
            tracing::info!(
                "UDP {}: the kernel does not report the netfilter marks of received datagrams                  ({e}; SO_RCVMARK needs Linux 5.19): tunnels get marks only from l2tp-nfqd                  (nfq_socket)",
                b.local
            );
            false
        }
    }
}

fn udp(addr: SocketAddr) -> io::Result<Bound> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    if addr.ip().is_unspecified() {
        report_destination(&s, addr.is_ipv6())?;
    }
    s.bind(&addr.into())?;
    // Set only after binding: the bind itself stays exclusive (another daemon, or anything
    // else holding the port, is still an error), while the tunnels' own sockets
    // ([`tunnel_udp`]) may then share the address and port.
    s.set_reuse_address(true)?;
    let socket = UdpSocket::from(s);
    let local = socket.local_addr()?;
    Ok(Bound {
        socket,
        local,
        framing: Framing::Udp,
        marks: false,
    })
}

/// Has the kernel give, with each datagram `socket` (bound to the unspecified address)
/// receives, the address it was sent to (`IP_PKTINFO`, `IPV6_RECVPKTINFO`), so that the
/// tunnel it opens answers from that address (`l2tp_dataplane::marks::recv_from_to`): a peer that dialled
/// one of the host's addresses hears from that address, not from whichever one routing would
/// choose (a peer's socket connected to the address it dialled would not hear the answer).
fn report_destination<F: std::os::fd::AsFd>(socket: &F, v6: bool) -> io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    if v6 {
        setsockopt(socket, sockopt::Ipv6RecvPacketInfo, &true)?;
    } else {
        setsockopt(socket, sockopt::Ipv4PacketInfo, &true)?;
    }
    Ok(())
}

/// Sends `datagram` to `to` on `socket`, bound to an unspecified address, from the local
/// address `from` (`IP_PKTINFO`, `IPV6_PKTINFO`): the control messages of a tunnel over IP
/// that has no socket of its own leave from the address its peer dialled.
pub fn send_from(
    socket: std::os::fd::BorrowedFd<'_>,
    datagram: &[u8],
    from: IpAddr,
    to: SocketAddr,
) -> io::Result<usize> {
    use std::os::fd::AsRawFd;

    use nix::libc;
    use nix::sys::socket::{ControlMessage, MsgFlags, SockaddrStorage, sendmsg};
    let iov = [io::IoSlice::new(datagram)];
    let addr = SockaddrStorage::from(to);
    let fd = socket.as_raw_fd();
    let sent = match from {
        IpAddr::V4(v4) => {
            let info = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from(v4).to_be(),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let cmsg = [ControlMessage::Ipv4PacketInfo(&info)];
            sendmsg(fd, &iov, &cmsg, MsgFlags::empty(), Some(&addr))
        }
        IpAddr::V6(v6) => {
            let info = libc::in6_pktinfo {
                ipi6_addr: libc::in6_addr {
                    s6_addr: v6.octets(),
                },
                ipi6_ifindex: 0,
            };
            let cmsg = [ControlMessage::Ipv6PacketInfo(&info)];
            sendmsg(fd, &iov, &cmsg, MsgFlags::empty(), Some(&addr))
        }
    };
    sent.map_err(io::Error::from)
}

/// A tunnel's own UDP socket: bound to `local` (the listen socket's address and port, which
/// it shares through `SO_REUSEADDR`) and connected to `remote`, so that the kernel delivers
/// the peer's datagrams to it rather than to the listen socket, and a kernel data plane can
/// take it over (one socket per tunnel). With `mark`, everything it sends carries that
/// netfilter mark, set before it is connected so that its route is chosen with it.
pub fn tunnel_udp(
    local: SocketAddr,
    remote: SocketAddr,
    mark: Option<u32>,
) -> io::Result<UdpSocket> {
    let s = bound_tunnel_udp(local, mark)?;
    s.connect(&remote.into())?;
    Ok(UdpSocket::from(s))
}

/// The own UDP socket of a tunnel carried apart (its peer's address and port are another
/// tunnel's too, on a kernel that cannot tell their data apart: see
/// `dataplane::shared`): bound to `local` like [`tunnel_udp`], with `mark`, but connected to
/// `remote`'s address with port 0, not to `remote`: the kernel's UDP prefers the socket
/// connected to the address and port, so the datagrams of that address and port keep going
/// to the first tunnel's socket, and this one gets no datagram of any other address either
/// (a socket bound only would take other clients' SCCRQs from the listen socket). It sends
/// with an explicit destination.
pub fn tunnel_udp_apart(
    local: SocketAddr,
    remote: SocketAddr,
    mark: Option<u32>,
) -> io::Result<UdpSocket> {
    let s = bound_tunnel_udp(local, mark)?;
    s.connect(&SocketAddr::new(remote.ip(), 0).into())?;
    Ok(UdpSocket::from(s))
}

/// A non-blocking UDP socket bound to `local` beside the listen socket (`SO_REUSEADDR`),
/// with `mark` set before it is connected.
fn bound_tunnel_udp(local: SocketAddr, mark: Option<u32>) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(local), Type::DGRAM, Some(Protocol::UDP))?;
    if local.is_ipv6() {
        s.set_only_v6(true)?;
    }
    if let Some(mark) = mark {
        s.set_mark(mark)?;
    }
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    s.bind(&local.into())?;
    Ok(s)
}

/// A tunnel's own L2TP/IP socket, for [`Framing::L2tpIp`]: bound to `local`'s address with
/// our tunnel id `tid` as its connection id, and connected to `remote`'s address, so that the
/// kernel hands it the tunnel's control messages and a kernel data plane can take it as a
/// managed tunnel's socket.
pub fn tunnel_ip(local: SocketAddr, tid: u32, remote: SocketAddr) -> io::Result<UdpSocket> {
    let fd = l2tp_dataplane::kernel::l2tpip_socket(local.ip(), tid, Some(remote.ip()))?;
    Ok(UdpSocket::from(fd))
}

/// Opens an IP protocol 115 socket on each distinct address of `listen`: an L2TP/IP socket
/// with connection id 0 where the kernel has L2TP/IP, else a raw socket. Failures are logged
/// with their reason and skipped: the daemon still runs UDP tunnels.
pub fn open_ip(listen: &[SocketAddr]) -> Vec<Bound> {
    let ips: BTreeSet<IpAddr> = listen.iter().map(SocketAddr::ip).collect();
    let mut out = Vec::new();
    for ip in ips {
        let opened = l2tpip_listener(ip).or_else(|e| {
            if !no_l2tpip(&e) {
                tracing::warn!(
                    "cannot open an L2TP/IP socket on {ip}: {e}; using a raw socket, so \
                     tunnels over IP are not given to the kernel with a socket of their own"
                );
            }
            raw(ip)
        });
        // On the unspecified address, each SCCRQ comes with the address it was sent to, which
        // its tunnel answers from (as over UDP).
        if let Ok(b) = &opened
            && ip.is_unspecified()
            && let Err(e) = report_destination(&b.socket, ip.is_ipv6())
        {
            tracing::warn!(
                "L2TPv3 over IP on {ip}: cannot learn the address each SCCRQ was sent to: {e}; \
                 tunnels answer from the address routing chooses"
            );
        }
        match opened {
            Ok(b) => {
                tracing::debug!(
                    "listening for L2TPv3 over IP (protocol 115) on {ip} ({:?})",
                    b.framing
                );
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

/// Whether `e` says that this kernel has no L2TP/IP sockets.
fn no_l2tpip(e: &io::Error) -> bool {
    use nix::libc;
    matches!(
        e.raw_os_error(),
        Some(libc::EPROTONOSUPPORT | libc::ESOCKTNOSUPPORT | libc::EAFNOSUPPORT)
    )
}

fn l2tpip_listener(ip: IpAddr) -> io::Result<Bound> {
    let fd = l2tp_dataplane::kernel::l2tpip_socket(ip, 0, None)?;
    Ok(Bound {
        socket: UdpSocket::from(fd),
        local: SocketAddr::new(ip, 0),
        framing: Framing::L2tpIp,
        marks: false,
    })
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
        framing: Framing::RawIp,
        marks: false,
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

/// The payload of a datagram read from a raw IP-encapsulation socket: IPv4 raw sockets deliver
/// the IP header too (IPv6 ones do not), which is skipped here. `None` if truncated.
fn strip_ip_header(local: SocketAddr, packet: &[u8]) -> Option<&[u8]> {
    if local.is_ipv6() {
        return Some(packet);
    }
    let ihl = usize::from(*packet.first()? & 0x0f) * 4;
    packet.get(ihl..).filter(|_| ihl >= 20)
}

/// Creates the unix datagram socket at `path` on which l2tp-nfqd sends its messages
/// (`nfq_socket`): its directory if missing, mode 0600 (l2tp-nfqd runs as root), a socket file
/// left there by an earlier daemon replaced. Non-blocking.
pub fn bind_nfq(path: &std::path::Path) -> Result<std::os::unix::net::UnixDatagram, String> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let shown = path.display();
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("nfq_socket: cannot create {}: {e}", dir.display()))?;
    }
    match std::fs::symlink_metadata(path) {
        // The control socket has told already whether another daemon runs.
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| format!("nfq_socket: cannot remove the old socket {shown}: {e}"))?,
        Ok(_) => {
            return Err(format!(
                "nfq_socket: {shown} exists and is not a socket: remove it or set another path"
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("nfq_socket: cannot check {shown}: {e}")),
    }
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = std::os::unix::net::UnixDatagram::bind(path);
    nix::sys::stat::umask(old);
    let socket = bound.map_err(|e| format!("nfq_socket: cannot create {shown}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("nfq_socket: cannot set the mode of {shown}: {e}"))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| format!("nfq_socket {shown}: {e}"))?;
    Ok(socket)
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
        let any6 = "[::]:0".parse().unwrap_or(SocketAddr::from(([0; 4], 0)));
        let Ok(first) = bind_udp(&[any6], false) else {
            return; // no IPv6 here
        };
        let port = first[0].local.port();
        drop(first);
        let both = [
            SocketAddr::from(([0, 0, 0, 0], port)),
            SocketAddr::from(([0u16; 8], port)),
        ];
        let bound = bind_udp(&both, false);
        assert!(bound.is_ok_and(|b| b.len() == 2));
    }

    #[test]
    fn a_port_in_use_is_an_error_naming_the_address() {
        let Ok(first) = bind_udp(&[SocketAddr::from(([127, 0, 0, 1], 0))], false) else {
            panic!("cannot bind loopback");
        };
        let e = bind_udp(&[first[0].local], false);
        assert!(
            e.as_ref()
                .is_err_and(|m| m.contains(&first[0].local.to_string())),
            "{e:?}"
        );
    }

    #[test]
    fn tunnel_sockets_share_the_listen_port_and_take_their_peer_s_datagrams() {
        let Ok(listen) = bind_udp(&[SocketAddr::from(([127, 0, 0, 1], 0))], false) else {
            panic!("cannot bind loopback");
        };
        let local = listen[0].local;
        let Ok(peer) = UdpSocket::bind("127.0.0.1:0") else {
            panic!("cannot bind loopback");
        };
        let Ok(peer_addr) = peer.local_addr() else {
            panic!("no address");
        };
        let tunnel = tunnel_udp(local, peer_addr, None);
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
        assert!(bind_udp(&[local], false).is_err());
    }

    /// Reads what `s` has now (it is non-blocking).
    fn drain(s: &UdpSocket) -> usize {
        let mut buf = [0u8; 16];
        std::iter::from_fn(|| s.recv(&mut buf).ok()).count()
    }

    /// A tunnel carried apart (its peer's address and port are the first tunnel's) gets none
    /// of the datagrams of that address and port, which go to the first tunnel's socket, nor
    /// those of other peers, which go to the listen socket; it sends to its peer by name.
    #[test]
    fn a_socket_carried_apart_leaves_the_datagrams_to_the_others() {
        let Ok(listen) = bind_udp(&[SocketAddr::from(([127, 0, 0, 1], 0))], false) else {
            panic!("cannot bind loopback");
        };
        let local = listen[0].local;
        let bind = |a: &str| UdpSocket::bind(a).unwrap_or_else(|e| panic!("{a}: {e}"));
        let (peer, other) = (bind("127.0.0.2:0"), bind("127.0.0.3:0"));
        let peer_addr = peer.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let first = tunnel_udp(local, peer_addr, None).unwrap_or_else(|e| panic!("{e}"));
        let apart = tunnel_udp_apart(local, peer_addr, None).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..10 {
            assert!(peer.send_to(b"peer", local).is_ok());
            assert!(other.send_to(b"other", local).is_ok());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let listen = &listen[0].socket;
        assert!(listen.set_nonblocking(true).is_ok());
        assert_eq!((drain(&first), drain(&apart), drain(listen)), (10, 0, 10));
        assert!(apart.send_to(b"out", peer_addr).is_ok());
        let mut buf = [0u8; 16];
        assert_eq!(peer.recv_from(&mut buf).ok(), Some((3, local)));
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
        assert_eq!(Framing::RawIp.decode(v4, &p), Some(vec![1u8, 2, 3, 4]));
    }

    #[test]
    fn l2tp_ip_sockets_carry_control_messages_without_the_session_id() {
        let any = SocketAddr::from(([0, 0, 0, 0], 0));
        let control = [0xc8u8, 0x03, 0, 12, 0, 0, 0, 7, 0, 0, 0, 0];
        let mut engine = vec![0u8; 4];
        engine.extend_from_slice(&control);
        assert_eq!(Framing::L2tpIp.decode(any, &control), Some(engine.clone()));
        assert_eq!(Framing::L2tpIp.encode(&engine), Some(&control[..]));
        // A data packet (Session ID not 0) cannot go out on such a socket.
        assert_eq!(Framing::L2tpIp.encode(&[0, 0, 0, 1, 9]), None);
        assert_eq!(Framing::L2tpIp.encode(&[0, 0, 0, 0]), None);
        assert_eq!(Framing::RawIp.encode(&engine), Some(&engine[..]));
        assert_eq!(Framing::Udp.encode(&control), Some(&control[..]));
        assert_eq!(Framing::Udp.encap(), Encapsulation::Udp);
        assert_eq!(Framing::L2tpIp.encap(), Encapsulation::Ip);
    }
}
