//! What the daemon asks of a data plane and what comes back, in one vocabulary: the specs of
//! tunnels and sessions (from the protocol's types), the requests and their outcomes, the
//! events a data plane reports on its own, its counters, and the [`Dataplane`] trait that each
//! data plane implements.

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

use l2tp_config::{MacAddr, PseudowireType};
use l2tp_dataplane::DataplaneTotals;
use l2tp_proto::DataSequencing;
use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};
use tokio::sync::mpsc::UnboundedReceiver;

/// A tunnel's own socket, connected to the peer, so that the kernel hands the tunnel's
/// datagrams to it and a kernel data plane can take it over. Over UDP it is bound to the same
/// local address and port as the listen socket (with `SO_REUSEADDR`); over IP it is an L2TP/IP
/// socket bound with the local tunnel id, where the kernel has those.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct SocketRequest {
    /// Local tunnel id.
    pub tid: u32,
    /// UDP or IP.
    pub encap: Encapsulation,
    /// The local address (and port) to bind.
    pub local: SocketAddr,
    /// The peer to connect to.
    pub remote: SocketAddr,
    /// The tunnel id the peer assigned in its SCCRQ, for a tunnel the peer opened; 0 for one
    /// we open (the peer assigns its id later). With the peer's address it finds the netfilter
    /// mark learnt for the tunnel ([`crate::marks`]).
    pub peer_tid: u32,
    /// The tunnel's L2TP version.
    pub version: Version,
}

/// A change to the tunnels' own sockets.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SocketChange {
    /// Open a tunnel's socket. Failure is not fatal: the tunnel then uses a listen socket.
    Open(SocketRequest),
    /// Close the socket of tunnel `tid`, if it has one.
    Close(u32),
}

/// Everything a data plane needs to carry a tunnel's data packets.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelSpec {
    /// Local tunnel id.
    pub tid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// L2TP version.
    pub version: Version,
    /// UDP or IP encapsulation.
    pub encap: Encapsulation,
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
    pub l2spec: L2SpecificSublayer,
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
    /// Who terminates the PPP of a PPP pseudowire: pppd (kernel data plane), or the daemon
    /// itself ([`PppSpec::Native`]).
    pub ppp: Option<PppSpec>,
    /// Data-plane debugging.
    pub debug: bool,
}

/// Who terminates the PPP of a session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum PppSpec {
    /// A pppd per session (kernel data plane), as configured.
    Pppd(PppdSpec),
    /// The daemon's own PPP: the data plane carries the session's PPP control frames to and
    /// from the engine ([`DataplaneEvent::PppFrame`], [`DataplaneRequest::SendPpp`]) and its IP
    /// packets itself once the engine says the network layer is up
    /// ([`DataplaneRequest::PppUp`]).
    Native,
}

/// How to start pppd on a PPP session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PppdSpec {
    /// The pppd executable.
    pub pppd_path: PathBuf,
    /// Extra arguments.
    pub pppd_options: Vec<String>,
    /// The call's Calling Number, for pppd's `remotenumber` (printable ones only).
    pub remote_number: Option<String>,
    /// pppd's `ipparam`: the peer's address, as xl2tpd passes it (the sixth argument of the
    /// `ip-up` scripts).
    pub ipparam: Option<String>,
    /// pppd's `mru` and `mtu`: what fits the tunnel's underlay without fragmentation, given
    /// before `pppd_options` so that an `mru` or `mtu` there wins.
    pub sizes: Option<(u16, u16)>,
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
    /// A PPP control frame (LCP, authentication, IPCP, IPv6CP, or any protocol but IPv4 and
    /// IPv6) received on native-PPP session `sid` of tunnel `tid`, from its Protocol field on
    /// or with its `FF 03` address and control fields, as the peer sent it.
    PppFrame {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// The frame.
        frame: Vec<u8>,
    },
    /// PPP control frames of several native-PPP sessions, as (tid, sid, frame) in the order
    /// they arrived: [`DataplaneEvent::PppFrame`] for each, handed over at once (the userspace
    /// data plane gathers the LCP Echo-Replies of a moment so).
    PppFrames {
        /// The frames.
        frames: Vec<(u32, u32, Vec<u8>)>,
    },
    /// Native-PPP sessions that carried IP packets since the last such report, as (tid, sid,
    /// received, sent): their links are not idle, and traffic received counts as a sign of
    /// life for adaptive LCP echo. A data plane reports at most once every
    /// [`PPP_ACTIVITY_PERIOD`], and only sessions that had traffic.
    PppActivity {
        /// (local tunnel id, local session id, packets received, packets sent).
        sessions: Vec<(u32, u32, bool, bool)>,
    },
    /// A data packet for a session the data plane did not have yet when it read it on tunnel
    /// `tid`'s socket (the userspace data plane's): the shell gives it back to the data plane
    /// ([`Dataplane::handle_data`]) once it has handled the events before it, such as the ICCN
    /// that installs the session.
    EarlyData {
        /// Local tunnel id of the socket.
        tid: u32,
        /// The L2TP packet, from the header on (UDP).
        packet: Vec<u8>,
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

/// How often at most a data plane reports [`DataplaneEvent::PppActivity`]: idle timeouts are
/// exact to within this much.
pub const PPP_ACTIVITY_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// Data counters of one tunnel's data socket, besides those of its sessions.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct TunnelDataStats {
    /// ICMP port unreachables from the peer, reported on a receive or on a send whose
    /// datagram it kept from leaving.
    pub peer_unreachable: u64,
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
    /// Of those, frames longer than the session's interface takes (its MTU, the Ethernet
    /// header and a VLAN tag).
    pub rx_oversize: u64,
    /// Packets that arrived out of sequence and were put back in order (reorder timeout).
    pub rx_reordered: u64,
    /// Packets sent to the peer.
    pub tx_packets: u64,
    /// Their bytes.
    pub tx_bytes: u64,
    /// Packets that could not be sent.
    pub tx_errors: u64,
}

impl DataStats {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &DataStats) {
        self.rx_packets += other.rx_packets;
        self.rx_bytes += other.rx_bytes;
        self.rx_errors += other.rx_errors;
        self.rx_cookie_mismatches += other.rx_cookie_mismatches;
        self.rx_seq_errors += other.rx_seq_errors;
        self.rx_oversize += other.rx_oversize;
        self.rx_reordered += other.rx_reordered;
        self.tx_packets += other.tx_packets;
        self.tx_bytes += other.tx_bytes;
        self.tx_errors += other.tx_errors;
    }
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
    /// Send a PPP control frame on native-PPP session `sid` of tunnel `tid`.
    SendPpp {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// The frame, as `ppp_proto::Link::poll_transmit` gives it (`FF 03`, Protocol, ...).
        frame: Vec<u8>,
    },
    /// The network layer of native-PPP session `sid` of tunnel `tid` is up, or changed: carry
    /// its IP packets as `net` says.
    PppUp {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// Addresses, MTU and framing.
        net: PppNetwork,
    },
    /// Route these prefixes (address, length) to native-PPP session `sid` of tunnel `tid`,
    /// whose network layer is up: the networks behind the peer that RADIUS gave
    /// (Framed-IPv6-Prefix, Delegated-IPv6-Prefix, Framed-IP-Netmask). They go with the
    /// session.
    PppRoutes {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
        /// The prefixes.
        routes: Vec<(std::net::IpAddr, u8)>,
    },
    /// The network layer of native-PPP session `sid` of tunnel `tid` is down: carry no more
    /// IP packets for it (its control frames still flow).
    PppDown {
        /// Local tunnel id.
        tid: u32,
        /// Local session id.
        sid: u32,
    },
}

/// What a data plane needs to carry the IP packets of a native-PPP session.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct PppNetwork {
    /// IPv4: our address and the peer's, when IPCP is Opened.
    pub ipv4: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    /// IPv6: our interface identifier and the peer's, when IPv6CP is Opened.
    pub ipv6: Option<(u64, u64)>,
    /// The largest packet to send: the peer's MRU, capped by what the underlay carries.
    pub mtu: u16,
    /// Whether data frames to the peer may omit the `FF 03` address and control fields
    /// (ACFC) and shorten the Protocol field to one octet (PFC).
    pub acfc: bool,
    /// See `acfc`.
    pub pfc: bool,
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
    #[error(
        "no such tunnel or session in the data plane: tunnel {tid}{}",
        sid.map_or_else(String::new, |s| format!(", session {s}"))
    )]
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

    /// Whether tunnels of `version` whose peers share an address and UDP port (clients behind
    /// one NAT), each with its own socket connected to that address and port, each get their
    /// own data packets. The kernel's L2TP does from Linux 6.10 (L2TPv2) or 6.11 (L2TPv3) on;
    /// older kernels give them all to the tunnel of the one socket the datagrams reach.
    fn separates_shared_peers(&self, _version: Version) -> bool {
        true
    }

    /// Creates a session's state (its tunnel is installed) and names its interface.
    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError>;

    /// Removes a session's state.
    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError>;

    /// Offers a packet that arrived on one of the shell's sockets, from the L2TP header on.
    /// Returns whether it was a data packet that the data plane took (or, for IP sockets,
    /// which see a copy of every packet, already has); control messages are never taken.
    fn handle_data(&mut self, _encap: Encapsulation, _packet: &[u8]) -> bool {
        false
    }

    /// Sends a PPP control frame on native-PPP session `sid` of tunnel `tid`.
    fn send_ppp(&mut self, tid: u32, _sid: u32, _frame: &[u8]) -> Result<(), DataplaneError> {
        Err(DataplaneError::Unavailable(format!(
            "{} carries no native PPP (tunnel {tid})",
            self.name()
        )))
    }

    /// Starts (or changes) carrying the IP packets of native-PPP session `sid` of tunnel
    /// `tid`; answers with the session's interface, when it has one of its own.
    fn ppp_up(
        &mut self,
        tid: u32,
        _sid: u32,
        _net: &PppNetwork,
    ) -> Result<SessionInstalled, DataplaneError> {
        Err(DataplaneError::Unavailable(format!(
            "{} carries no native PPP (tunnel {tid})",
            self.name()
        )))
    }

    /// Stops carrying the IP packets of native-PPP session `sid` of tunnel `tid`.
    fn ppp_down(&mut self, _tid: u32, _sid: u32) -> Result<(), DataplaneError> {
        Ok(())
    }

    /// Routes `routes` (prefix, length) to native-PPP session `sid` of tunnel `tid`, whose
    /// network layer is up ([`DataplaneRequest::PppRoutes`]).
    fn ppp_routes(
        &mut self,
        tid: u32,
        _sid: u32,
        _routes: &[(std::net::IpAddr, u8)],
    ) -> Result<(), DataplaneError> {
        Err(DataplaneError::Unavailable(format!(
            "{} routes nothing to native-PPP sessions (tunnel {tid})",
            self.name()
        )))
    }

    /// Whether a frame [`Dataplane::send_ppp`] fails to send is in its own `tx_errors` (the
    /// session's and the totals'), as the userspace data plane counts a refused send; else
    /// the host counts it there.
    fn counts_ppp_send_errors(&self) -> bool {
        false
    }

    /// A session's data counters, when the data plane keeps them.
    fn session_stats(&self, _tid: u32, _sid: u32) -> Option<DataStats> {
        None
    }

    /// A tunnel's own data counters (those of its data socket), when the data plane keeps
    /// them.
    fn tunnel_stats(&self, _tid: u32) -> Option<TunnelDataStats> {
        None
    }

    /// The data counters of each session of `keys` (tunnel id, session id), for a metrics
    /// scrape: one answer for many sessions. By default [`Dataplane::session_stats`] for each;
    /// a data plane whose counters cost a request per session answers from what it read in
    /// bulk instead, and may be a little older than [`Dataplane::session_stats`].
    fn sessions_stats(&self, keys: &[(u32, u32)]) -> Vec<Option<DataStats>> {
        keys.iter()
            .map(|&(tid, sid)| self.session_stats(tid, sid))
            .collect()
    }

    /// Data counters over every session it carried, removed ones included (for the metrics);
    /// `None` when it carries no data.
    fn data_totals(&self) -> Option<DataStats> {
        None
    }

    /// Data packets dropped, by reason, over the data plane's life, removed sessions included
    /// (for `show system`, the metrics and the drop summary).
    fn drops(&self) -> DataplaneTotals {
        DataplaneTotals::default()
    }

    /// Sessions' interfaces that stopped being ports of their `bridge` because someone
    /// deleted it (`show system`'s `bridge_ports_lost`).
    fn bridge_ports_lost(&self) -> u64 {
        0
    }

    /// How often its drops are summed up in the log ([`super::drops::DropSummary`]): as often
    /// as [`Dataplane::drops`] may change.
    fn drops_period(&self) -> std::time::Duration {
        super::drops::SUMMARY_PERIOD
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

    /// Whether this data plane carries the frames of native PPP ([`PppSpec::Native`]): without
    /// it, l2tpd runs no PPP of its own on a session (`none` carries nothing at all).
    pub fn carries_native_ppp(self) -> bool {
        match self {
            Kind::Kernel | Kind::Userspace => true,
            Kind::None => false,
        }
    }

    /// Why this data plane cannot carry sessions of `pseudowire_type` in tunnels of `version`
    /// (PPP with pppd when `use_pppd`, else terminated by l2tpd itself), or `None` when it can.
    /// `l2tpd -n` and the daemon refuse such sessions with this text.
    pub fn refusal(
        self,
        version: Version,
        pseudowire_type: PseudowireType,
        use_pppd: bool,
    ) -> Option<String> {
        if self != Kind::Userspace {
            return None;
        }
        let ppp = version == Version::V2 || pseudowire_type == PseudowireType::Ppp;
        match pseudowire_type {
            _ if ppp && use_pppd => Some(
                "the userspace data plane runs no pppd: l2tpd terminates PPP itself there \
                 (use_pppd false), or use dataplane kernel for pppd"
                    .into(),
            ),
            _ if ppp => None,
            PseudowireType::Eth | PseudowireType::EthVlan => None,
            _ => Some(
                "the userspace data plane carries only Ethernet (eth, eth_vlan) and PPP \
                 pseudowires; use dataplane kernel for the others"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DataplaneError;

    /// An unknown session is named in words, without Rust's `Some(..)` around its id.
    #[test]
    fn an_unknown_tunnel_or_session_reads_as_words() {
        let session = DataplaneError::Unknown {
            tid: 7,
            sid: Some(9),
        };
        let tunnel = DataplaneError::Unknown { tid: 7, sid: None };
        let text = "no such tunnel or session in the data plane: tunnel 7";
        assert_eq!(session.to_string(), format!("{text}, session 9"));
        assert_eq!(tunnel.to_string(), text);
    }
}
