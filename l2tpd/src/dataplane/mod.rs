//! The data plane seam: what the daemon asks of whatever carries session data.
//!
//! The protocol engine decides *when* a tunnel or session needs data-plane state and emits a
//! [`DataplaneRequest`]; the daemon executes it on the [`Dataplane`] in use and reports the
//! outcome back to the engine. The implementations:
//!
//! - [`kernel`]: the Linux kernel's L2TP (generic netlink `l2tp`, PPPoL2TP and pppd,
//!   rtnetlink for the interfaces);
//! - [`userspace`]: L2TPv3 Ethernet pseudowires over TAP devices, carried by the
//!   `l2tp-dataplane` crate's data-path thread, which adopts each tunnel's UDP socket;
//! - [`none`]: the control plane only.
//!
//! Calls are synchronous and must not block for long: kernel requests are quick netlink round
//! trips, and the userspace data plane hands its work to its own thread. What happens later
//! (a control message read by the data path, pppd exiting) comes back as a
//! [`DataplaneEvent`] on the channel of [`Dataplane::take_events`].

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

use l2tp_config::{DataSequencing, Encap, L2specType, L2tpVersion, MacAddr, PseudowireType};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::engine::Transport;

mod host;
pub mod kernel;
mod names;
pub mod none;
pub mod userspace;

pub use host::{DataplaneHost, ShellSocket};
pub use names::InterfaceNames;
pub use none::NoneDataplane;

/// Everything a data plane needs to carry a tunnel's data packets.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelSpec {
    /// Local tunnel id.
    pub tid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// L2TP version.
    pub version: L2tpVersion,
    /// UDP or IP encapsulation.
    pub encap: Encap,
    /// Local address (and port for UDP).
    pub local: SocketAddr,
    /// The peer's address (and port for UDP).
    pub peer: SocketAddr,
    /// Send UDP checksums (IPv4 only; IPv6 always has them).
    pub udp_checksums: bool,
    /// Data-plane debugging.
    pub debug: bool,
}

/// Everything a data plane needs to carry a session's data packets.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionSpec {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// The peer's session id.
    pub peer_sid: u32,
    /// Pseudowire type.
    pub pseudowire_type: PseudowireType,
    /// Cookie we send (L2TPv3), empty for none.
    pub cookie: Vec<u8>,
    /// Cookie we expect from the peer, empty for none.
    pub peer_cookie: Vec<u8>,
    /// L2-Specific Sublayer.
    pub l2spec: L2specType,
    /// Which data packets carry sequence numbers.
    pub data_sequencing: DataSequencing,
    /// Reorder timeout, milliseconds, 0 for none.
    pub reorder_timeout_ms: u32,
    /// Interface name or `%d` template; `None` lets the data plane choose.
    pub interface_name: Option<String>,
    /// MTU, if configured.
    pub mtu: Option<u16>,
    /// MAC address of an Ethernet pseudowire, if configured.
    pub mac: Option<MacAddr>,
    /// VLAN id of an `eth_vlan` pseudowire.
    pub vlan_id: Option<u16>,
    /// Bridge to add the interface to.
    pub bridge: Option<String>,
    /// Address to give the interface (pseudowire profile `local_ip`).
    pub local_ip: Option<std::net::IpAddr>,
    /// The peer's address on the interface (`peer_ip`).
    pub peer_ip: Option<std::net::IpAddr>,
    /// Netmask of `local_ip` (`netmask`).
    pub netmask: Option<std::net::IpAddr>,
    /// Whether we are the LNS of an L2TPv2 session (pppd runs in LNS mode).
    pub lns: bool,
    /// Whether we send data with sequence numbers (the peer asked for them).
    pub send_seq: bool,
    /// Whether we require sequence numbers on received data (our `data_sequencing`).
    pub recv_seq: bool,
    /// How to run pppd for a PPP pseudowire (kernel data plane).
    pub ppp: Option<PppSpec>,
    /// Data-plane debugging.
    pub debug: bool,
}

/// How to start pppd on a PPP session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PppSpec {
    /// The pppd executable.
    pub pppd_path: PathBuf,
    /// Extra arguments.
    pub pppd_options: Vec<String>,
}

/// What the data plane did with a tunnel.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct TunnelInstalled {
    /// The data plane now reads the tunnel's socket itself: the shell must stop reading it
    /// (it may still send on it), and control messages arrive as [`DataplaneEvent::Control`].
    pub adopted_socket: bool,
}

/// Something the data plane reports on its own, later than the call that caused it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DataplaneEvent {
    /// A control message arrived on a socket the data plane adopted.
    Control {
        /// Local tunnel id of the socket.
        tid: u32,
        /// The L2TP message.
        packet: Vec<u8>,
    },
    /// A session dropped data packets with a wrong cookie (RFC 3931 §8.2); reported at most
    /// once a second per session.
    WrongCookie {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// Packets dropped since the last report.
        dropped: u64,
    },
    /// A session's data plane failed (pppd exited, its interface vanished): the session must
    /// be torn down.
    SessionDown {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// Why, for the log and the CDN's message.
        reason: String,
    },
    /// A tunnel's data plane is gone (its kernel tunnel was deleted outside the daemon): the
    /// tunnel must be closed, and made again if it persists.
    TunnelDown {
        /// Local tunnel id.
        tid: u32,
        /// Why, for the log and the StopCCN's message.
        reason: String,
    },
}

/// Data counters of one session.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct DataStats {
    /// Packets received from the peer and delivered.
    pub rx_packets: u64,
    /// Their bytes.
    pub rx_bytes: u64,
    /// Packets received and dropped (bad cookie, sequence, malformed).
    pub rx_errors: u64,
    /// Of those, packets with a wrong cookie (RFC 3931 §8.2).
    pub rx_cookie_mismatches: u64,
    /// Of those, packets dropped by sequencing (missing, duplicate, out of order).
    pub rx_seq_errors: u64,
    /// Packets that arrived out of sequence and were put back in order (reorder timeout).
    pub rx_reordered: u64,
    /// Packets sent to the peer.
    pub tx_packets: u64,
    /// Their bytes.
    pub tx_bytes: u64,
    /// Packets that could not be sent.
    pub tx_errors: u64,
}

/// What the data plane made for a session.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct SessionInstalled {
    /// The network interface carrying the session, once known.
    pub interface_name: Option<String>,
}

/// A request from the protocol engine to the data plane.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DataplaneRequest {
    /// Create the data-plane state of an established tunnel.
    InstallTunnel(TunnelSpec),
    /// Remove a tunnel's state (and that of its sessions).
    RemoveTunnel {
        /// Local tunnel id.
        tid: u32,
    },
    /// Create the data-plane state of an established session.
    InstallSession(Box<SessionSpec>),
    /// Remove a session's state.
    RemoveSession {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
    },
}

/// The outcome of a [`DataplaneRequest`], reported back to the engine.
#[derive(Debug)]
pub enum DataplaneOutcome {
    /// A tunnel was installed or failed to be.
    TunnelInstalled {
        /// Local tunnel id.
        tid: u32,
        /// The result.
        result: Result<(), DataplaneError>,
    },
    /// A session was installed or failed to be.
    SessionInstalled {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// The result.
        result: Result<SessionInstalled, DataplaneError>,
    },
    /// A removal finished (failures are logged; the state is gone from the engine anyway).
    Removed,
}

/// Why a data-plane operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataplaneError {
    /// The system lacks something (a kernel module, a device, pppd).
    #[error("data plane unavailable: {0}")]
    Unavailable(String),
    /// The tunnel or session is unknown to the data plane.
    #[error("no such tunnel or session in the data plane: tid {tid}, sid {sid:?}")]
    Unknown {
        /// Local tunnel id.
        tid: u32,
        /// Local session id, for sessions.
        sid: Option<u32>,
    },
    /// An OS call failed.
    #[error("data plane: {0}")]
    Io(#[from] std::io::Error),
}

/// A data plane: installs and removes the per-tunnel and per-session state that carries data.
pub trait Dataplane: fmt::Debug {
    /// `none`, `kernel` or `userspace`, as in the config's `dataplane`.
    fn name(&self) -> &'static str;

    /// Creates a tunnel's state. `socket` is the tunnel's own connected UDP socket, when it has
    /// one.
    fn install_tunnel(
        &mut self,
        spec: &TunnelSpec,
        socket: Option<BorrowedFd<'_>>,
    ) -> Result<TunnelInstalled, DataplaneError>;

    /// Removes a tunnel's state and that of its sessions.
    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError>;

    /// Creates a session's state (its tunnel is installed) and names its interface.
    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError>;

    /// Removes a session's state.
    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError>;

    /// Offers a packet that arrived on one of the shell's sockets, from the L2TP header on.
    /// Returns whether it was a data packet that the data plane took (or, for IP sockets,
    /// which see a copy of every packet, already has); control messages are never taken.
    fn handle_data(&mut self, _transport: Transport, _packet: &[u8]) -> bool {
        false
    }

    /// A session's data counters, when the data plane keeps them.
    fn session_stats(&self, _tid: u32, _sid: u32) -> Option<DataStats> {
        None
    }

    /// Data packets dropped for a wrong cookie, over all sessions (for `show system`).
    fn cookie_mismatches(&self) -> u64 {
        0
    }

    /// The channel of [`DataplaneEvent`]s; the first call takes it.
    fn take_events(&mut self) -> Option<UnboundedReceiver<DataplaneEvent>> {
        None
    }

    /// Numbers of installed tunnels and sessions.
    fn counts(&self) -> (usize, usize);

    /// Removes every tunnel and session (at shutdown).
    fn remove_all(&mut self);
}

/// A data plane, as chosen before it is opened.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Kind {
    /// The control plane only.
    None,
    /// The kernel's L2TP.
    Kernel,
    /// TAP devices fed by the daemon.
    Userspace,
}

impl Kind {
    /// As in the config's `dataplane`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::Kernel => "kernel",
            Kind::Userspace => "userspace",
        }
    }

    /// Why this data plane cannot carry sessions of `pseudowire_type` in tunnels of `version`,
    /// or `None` when it can. `l2tpd -n` and the daemon refuse such sessions with this text.
    pub fn refusal(self, version: L2tpVersion, pseudowire_type: PseudowireType) -> Option<String> {
        if self != Kind::Userspace {
            return None;
        }
        if version == L2tpVersion::V2 {
            return Some(
                "the userspace data plane carries only L2TPv3 pseudowires; use dataplane kernel \
                 for L2TPv2"
                    .into(),
            );
        }
        match pseudowire_type {
            PseudowireType::Eth | PseudowireType::EthVlan => None,
            _ => Some(
                "the userspace data plane carries only Ethernet pseudowires (eth, eth_vlan); use \
                 dataplane kernel for ppp"
                    .into(),
            ),
        }
    }
}

/// The data plane for a config's `dataplane`, with a note to log about the choice.
///
/// `auto` takes the kernel when its generic netlink family `l2tp` is there (after trying to
/// load the L2TP modules), else the userspace data plane, else (no TAP either) none. An
/// explicit choice that this host cannot provide is an error naming why.
pub fn choose(wanted: l2tp_config::Dataplane) -> Result<(Kind, Option<String>), String> {
    use l2tp_config::Dataplane as D;
    match wanted {
        D::None => Ok((Kind::None, None)),
        D::Kernel => kernel::probe()
            .map(|()| (Kind::Kernel, None))
            .map_err(|e| format!("dataplane kernel: {e}")),
        D::Userspace => userspace::probe()
            .map(|()| (Kind::Userspace, None))
            .map_err(|e| format!("dataplane userspace: {e}")),
        D::Auto => match kernel::probe() {
            Ok(()) => Ok((
                Kind::Kernel,
                Some("dataplane auto: using the kernel's L2TP".to_owned()),
            )),
            Err(why) => match userspace::probe() {
                Ok(()) => Ok((
                    Kind::Userspace,
                    Some(format!(
                        "dataplane auto: no kernel L2TP ({why}); using the userspace data plane \
                         (L2TPv3 Ethernet pseudowires only)"
                    )),
                )),
                Err(e) => Ok((
                    Kind::None,
                    Some(format!(
                        "dataplane auto: no kernel L2TP ({why}), and {e}; running the control \
                         plane only (dataplane none)"
                    )),
                )),
            },
        },
    }
}

/// Opens the data plane `kind`, with the `system` block's settings for it. Data planes start
/// threads, so call this after the fork.
pub fn open(kind: Kind, system: &l2tp_config::System) -> Result<Box<dyn Dataplane>, String> {
    Ok(match kind {
        Kind::None => Box::new(NoneDataplane::default()),
        Kind::Kernel => Box::new(kernel::KernelDataplane::open()?),
        Kind::Userspace => Box::new(userspace::UserspaceAdapter::open(
            l2tp_dataplane::DataplaneOptions {
                offloads: system.dataplane_offloads,
                threads: system.dataplane_threads as usize,
            },
        )?),
    })
}

/// The sessions of `config` that data plane `kind` cannot carry: one line each, naming the
/// session, its tunnel, its pseudowire type and why.
pub fn refusals(config: &l2tp_config::Config, kind: Kind) -> Vec<String> {
    let mut out = Vec::new();
    let versions: std::collections::HashMap<String, L2tpVersion> = config
        .resolved_tunnels()
        .into_iter()
        .map(|t| (t.name, t.settings.version.unwrap_or(L2tpVersion::V3)))
        .collect();
    for s in config.resolved_sessions() {
        let version = versions.get(&s.tunnel).copied().unwrap_or(L2tpVersion::V3);
        if let Some(why) = kind.refusal(version, s.settings.pseudowire_type) {
            out.push(format!(
                "session \"{}\" (tunnel \"{}\"): pseudowire_type {}: {why}",
                s.name, s.tunnel, s.settings.pseudowire_type
            ));
        }
    }
    out
}

/// Specs for the data planes' unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::net::Ipv4Addr;

    use super::*;

    pub(crate) fn tunnel(tid: u32) -> TunnelSpec {
        TunnelSpec {
            tid,
            peer_tid: 7,
            version: L2tpVersion::V3,
            encap: Encap::Udp,
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 1701)),
            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 1702)),
            udp_checksums: true,
            debug: false,
        }
    }

    pub(crate) fn session(tid: u32, sid: u32) -> SessionSpec {
        SessionSpec {
            tid,
            sid,
            peer_tid: 7,
            peer_sid: 8,
            pseudowire_type: PseudowireType::Eth,
            cookie: vec![],
            peer_cookie: vec![],
            l2spec: L2specType::Default,
            data_sequencing: DataSequencing::None,
            reorder_timeout_ms: 0,
            interface_name: None,
            mtu: None,
            mac: None,
            vlan_id: None,
            bridge: None,
            local_ip: None,
            peer_ip: None,
            netmask: None,
            lns: false,
            send_seq: false,
            recv_seq: false,
            ppp: None,
            debug: false,
        }
    }
}
