//! The Linux kernel's L2TP data plane, as a library: the generic netlink family `l2tp`
//! ([`genl`]), rtnetlink for the sessions' interfaces ([`rtnl`]) and for news of their going
//! ([`links`]), PPPoL2TP sockets for pppd ([`pppol2tp_connect`]), and PPP channels and units
//! of `/dev/ppp` for PPP without pppd ([`ppp`]). Calls are synchronous netlink round trips,
//! each bounded by a receive timeout; the link monitor's socket is read without blocking.

pub mod genl;
mod l2tpip;
pub mod links;
mod netlink;
pub mod ppp;
pub mod rtnl;
#[allow(unsafe_code)]
mod sys;

pub use genl::{
    Encap, KernelSession, KernelSessionInfo, KernelTunnel, L2tpGenl, PwType, session_create,
    tunnel_create,
};
pub use l2tpip::l2tpip_socket;
pub use links::{LinkEvents, LinkGone, LinkMonitor, LinkNew};
pub use ppp::{Channel, NetworkProtocol, NpMode, SessionOptions, Unit};
pub use rtnl::{LinkSetup, PeerAddress, Rtnl};
pub use sys::{PppoL2tpAddr, pppol2tp_connect, sockaddr as pppol2tp_sockaddr};

/// The kernel modules of the L2TP data plane, in load order.
pub const MODULES: &[&str] = &[
    "l2tp_core",
    "l2tp_netlink",
    "l2tp_eth",
    "l2tp_ip",
    "l2tp_ip6",
    "l2tp_ppp",
];

/// Turns UDP checksums off on a (managed) tunnel's UDP socket: on IPv4, datagrams go out with a
/// zero checksum; on IPv6, where senders must checksum, datagrams with a zero checksum are
/// accepted (RFC 6936).
pub fn disable_udp_checksums(fd: std::os::fd::BorrowedFd<'_>, ipv6: bool) -> std::io::Result<()> {
    if ipv6 {
        crate::sys::set_udp6_accept_zero_checksum(fd)
    } else {
        crate::sys::set_udp_no_checksum(fd)
    }
}
