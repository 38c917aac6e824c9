//! What the control side is asked to install ([`TunnelSpec`], [`SessionSpec`]) and why it
//! may refuse ([`Error`]).

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use l2tp_proto::wire::header::{Cookie, Encapsulation, L2SpecificSublayer, Version};

use crate::codec::PseudowireType;

/// What the data plane needs to carry a tunnel's data packets.
#[derive(Debug)]
pub struct TunnelSpec {
    /// Local tunnel (control connection) id.
    pub tid: u32,
    /// The peer's tunnel id (informational: L2TPv3 data packets carry only session ids).
    pub peer_tid: u32,
    /// UDP or IP (protocol 115) encapsulation.
    pub encap: Encapsulation,
    /// Local address; for UDP with its port.
    pub local: SocketAddr,
    /// The peer's address; for UDP with its port.
    pub peer: SocketAddr,
    /// Send UDP checksums (IPv4 only; IPv6 always has them).
    pub udp_checksums: bool,
    /// An already bound and connected socket to adopt instead of opening one (the daemon's
    /// per-tunnel socket). Control messages arriving on it go to the control sink. A socket
    /// that is not connected to `peer` (the daemon's, for a tunnel whose peer's address and
    /// port are another tunnel's) is sent on with `peer` as the destination of every datagram.
    pub socket: Option<OwnedFd>,
    /// L2TP version: L2TPv2 tunnels (over UDP) carry native-PPP sessions only.
    pub version: Version,
}

impl TunnelSpec {
    /// A tunnel with UDP checksums and a socket of the data plane's own.
    pub fn new(
        tid: u32,
        peer_tid: u32,
        encap: Encapsulation,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Self {
        Self {
            tid,
            peer_tid,
            encap,
            local,
            peer,
            udp_checksums: true,
            socket: None,
            version: Version::V3,
        }
    }
}

/// What the data plane needs to carry an Ethernet pseudowire session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionSpec {
    /// Local tunnel id (the tunnel must be installed).
    pub tid: u32,
    /// Local session id, the key of the session table (unique in the data plane, never 0).
    pub sid: u32,
    /// The peer's session id (never 0).
    pub peer_sid: u32,
    /// Ethernet (5) or Ethernet VLAN (4).
    pub pseudowire_type: PseudowireType,
    /// The cookie we send.
    pub cookie: Cookie,
    /// The cookie we expect; packets with another are dropped and counted.
    pub peer_cookie: Cookie,
    /// L2-Specific Sublayer.
    pub l2spec: L2SpecificSublayer,
    /// Put sequence numbers in the packets we send (the peer asked for them). Needs the
    /// default sublayer.
    pub send_seq: bool,
    /// Require sequence numbers on receipt; drop (and count) out-of-order and duplicate
    /// packets. Needs the default sublayer.
    pub recv_seq: bool,
    /// Reorder timeout in milliseconds, with `recv_seq`: packets that arrive ahead of a gap are
    /// held that long for the missing ones ([`crate::reorder`]). 0: a gap is loss at once.
    pub reorder_timeout_ms: u32,
    /// Interface name, or a `%d` template; `None` for [`DEFAULT_INTERFACE_TEMPLATE`](super::DEFAULT_INTERFACE_TEMPLATE).
    pub interface_name: Option<String>,
    /// MTU; `None` for [`default_mtu`](super::default_mtu).
    pub mtu: Option<u16>,
    /// Ethernet address of the TAP; `None` lets the kernel pick a random one.
    pub mac: Option<[u8; 6]>,
    /// VLAN id of an Ethernet VLAN pseudowire.
    pub vlan_id: Option<u16>,
    /// Bridge the TAP joins.
    pub bridge: Option<String>,
    /// IPv4 address and netmask of the TAP.
    pub ipv4: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
}

impl SessionSpec {
    /// An Ethernet session with no cookie, no sublayer and no sequencing, and default
    /// interface settings.
    pub fn eth(tid: u32, sid: u32, peer_sid: u32) -> Self {
        Self {
            tid,
            sid,
            peer_sid,
            pseudowire_type: PseudowireType::Eth,
            cookie: Cookie::NONE,
            peer_cookie: Cookie::NONE,
            l2spec: L2SpecificSublayer::None,
            send_seq: false,
            recv_seq: false,
            reorder_timeout_ms: 0,
            interface_name: None,
            mtu: None,
            mac: None,
            vlan_id: None,
            bridge: None,
            ipv4: None,
        }
    }
}

/// Why a data-plane operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tunnel id is already installed.
    #[error("tunnel {0} already exists in the data plane")]
    TunnelExists(u32),
    /// The session id is already installed.
    #[error("session {0} already exists in the data plane")]
    SessionExists(u32),
    /// No such tunnel.
    #[error("no tunnel {0} in the data plane")]
    UnknownTunnel(u32),
    /// No such session.
    #[error("no session {0} in the data plane")]
    UnknownSession(u32),
    /// The spec asks for something this data plane cannot do.
    #[error("invalid spec: {0}")]
    Invalid(String),
    /// The data-path thread is gone or did not answer.
    #[error("the data-path thread is not responding")]
    WorkerGone,
    /// An OS call failed.
    #[error("data plane: {0}")]
    Io(#[from] io::Error),
}

/// The step of setting up a session's TAP that failed, named in the error so that the log says
/// which setting of the pseudowire profile the system refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SetupStep<'a> {
    /// Creating (or attaching to) the TAP.
    Create,
    /// Setting `mac`.
    Mac([u8; 6]),
    /// Setting the MTU, `mtu` or the one worked out.
    Mtu(u32),
    /// Adding the TAP to `bridge`.
    Bridge(&'a str),
    /// Setting the IPv4 `local_ip`.
    Ipv4(std::net::Ipv4Addr),
    /// Bringing the interface up.
    Up,
}

/// An [`Error::Io`] that names the interface, the step and its setting, with a hint where the
/// OS's words alone would leave the cause open; the kind is kept.
pub(crate) fn setup_error(name: &str, step: SetupStep<'_>, e: &io::Error) -> Error {
    let errno = e.raw_os_error();
    let what = match step {
        SetupStep::Create => {
            let hint = match errno {
                Some(nix::libc::EBUSY) => " (an interface of that name exists already)",
                _ => "",
            };
            format!("creating TAP {name}{hint}")
        }
        SetupStep::Mac(m) => format!(
            "setting MAC address {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} on {name}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        ),
        SetupStep::Mtu(mtu) => format!("setting MTU {mtu} on {name}"),
        SetupStep::Bridge(bridge) => {
            let hint = match errno {
                Some(nix::libc::ENODEV) => " (no such interface)",
                Some(nix::libc::EOPNOTSUPP) => " (not a bridge)",
                _ => "",
            };
            format!("adding {name} to bridge {bridge}{hint}")
        }
        SetupStep::Ipv4(ip) => format!("setting address {ip} on {name}"),
        SetupStep::Up => format!("bringing {name} up"),
    };
    Error::Io(io::Error::new(e.kind(), format!("{what}: {e}")))
}
