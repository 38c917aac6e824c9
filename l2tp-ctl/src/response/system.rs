//! `show system`: the daemon's identity, counts, limits and statistics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `show system`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SystemInfo {
    /// The daemon's version, e.g. `0.1.0`.
    pub version: String,
    /// The process id of the daemon.
    pub pid: u32,
    /// Seconds since the daemon started.
    pub uptime_s: u64,
    /// The config file in use.
    pub config_file: String,
    /// The UDP addresses the daemon listens on, as bound (`0.0.0.0:1701`, `[::]:1701`).
    pub listen: Vec<String>,
    /// Whether L2TPv3-over-IP (protocol 115) sockets are open (kept for older clients:
    /// `ip_listen` says where).
    pub ip_encap: bool,
    /// The addresses where L2TPv3-over-IP (protocol 115) sockets are open, which have no port
    /// (`0.0.0.0`, `::`): those of `listen` that could be opened. Empty from a daemon that
    /// predates it.
    #[serde(default)]
    pub ip_listen: Vec<String>,
    /// The Host Name AVP the daemon sends.
    pub host_name: String,
    /// The L2TPv3 Router ID.
    pub router_id: u32,
    /// The log level in effect (the config's `log_level` raised by `-d`): `critical`, `error`,
    /// `warning`, `notice`, `info`, `debug` or `trace`.
    pub log_level: String,
    /// The data plane in use: `none`, `kernel` or `userspace`.
    pub dataplane: String,
    /// The control socket's path.
    pub control_socket: String,
    /// Current numbers of tunnels and sessions.
    pub counts: Counts,
    /// Configured limits.
    pub limits: Limits,
    /// Counters since start.
    pub statistics: SystemStats,
}

/// Current numbers of tunnels and sessions.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct Counts {
    /// Tunnels, in any state.
    pub tunnels: u32,
    /// Tunnels that are up.
    pub tunnels_up: u32,
    /// Tunnels that are closing: their StopCCN sent or received, kept a while for
    /// retransmissions (RFC 2661 section 5.7); counted in `tunnels`, not in the limits.
    #[serde(default)]
    pub tunnels_closing: u32,
    /// Sessions, in any state.
    pub sessions: u32,
    /// Sessions that are up.
    pub sessions_up: u32,
    /// Sessions that are closing; counted in `sessions`, not in the limits.
    #[serde(default)]
    pub sessions_closing: u32,
}

/// Configured limits, 0 meaning none.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct Limits {
    /// `max_tunnels`.
    pub max_tunnels: u32,
    /// `max_sessions`.
    pub max_sessions: u32,
    /// `max_setup_tunnels`: most tunnels in set-up at once.
    #[serde(default)]
    pub max_setup_tunnels: u32,
    /// `peer_setup_rate`: new tunnels per second from one peer address.
    #[serde(default)]
    pub peer_setup_rate: u32,
}

/// Daemon-wide counters since start.
///
/// The maps are keyed by name: message types by their RFC abbreviation (`SCCRQ`, `StopCCN`,
/// `ACK` ...), refusals by reason (`max_tunnels`, `deny_remote_tunnel_creates`,
/// `peer_setup_rate`, `max_setup_tunnels`, ...), malformed or unusable input by kind (`header`,
/// `l2f` (also in `header`), `body`, `unknown_tunnel`, `unknown_session`, `late_cdn`: a CDN for
/// a session already gone, such as one whose CDNs crossed, ignored; `data`,
/// `outside_window`, `invalid_nr`, `wrong_state`, `unsupported_message`: optional messages of
/// types not implemented, acknowledged and ignored; `call_parameters`: calls refused with CDN
/// result 14 or 15; `wrong_peer`: control messages for a running tunnel from another address or
/// port than its peer's). A name that never counted may be absent.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct SystemStats {
    /// Datagrams received on the L2TP sockets.
    pub rx_packets: u64,
    /// Bytes received on the L2TP sockets.
    pub rx_bytes: u64,
    /// Datagrams sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Received datagrams discarded (malformed, unknown tunnel, no engine).
    pub rx_discards: u64,
    /// Datagrams the daemon could not send (the kernel refused them, e.g. a firewall or IPsec
    /// policy, or no socket could carry them); a control message is sent again by its
    /// retransmission timer.
    #[serde(default)]
    pub tx_errors: u64,
    /// Control messages retransmitted.
    pub retransmits: u64,
    /// Tunnels that failed authentication.
    pub auth_failures: u64,
    /// Tunnels created (all origins).
    pub tunnels_created: u64,
    /// Tunnels that failed to come up.
    pub tunnel_setup_failures: u64,
    /// Sessions created (all origins).
    pub sessions_created: u64,
    /// Sessions that failed to come up.
    pub session_setup_failures: u64,
    /// Control-socket requests served.
    pub control_requests: u64,
    /// Successful config reloads.
    pub reloads: u64,
    /// Config reloads rejected because the file was invalid.
    pub reload_failures: u64,
    /// Explicit acknowledgements (ZLB or ACK) sent.
    #[serde(default)]
    pub acks_sent: u64,
    /// Explicit acknowledgements received.
    #[serde(default)]
    pub acks_received: u64,
    /// Control messages sent (first transmissions), by message type.
    #[serde(default)]
    pub messages_sent: BTreeMap<String, u64>,
    /// Control messages received and accepted, by message type.
    #[serde(default)]
    pub messages_received: BTreeMap<String, u64>,
    /// Tunnels asked for by peers and refused, by reason.
    #[serde(default)]
    pub tunnels_refused: BTreeMap<String, u64>,
    /// Sessions asked for by peers and refused, by reason.
    #[serde(default)]
    pub sessions_refused: BTreeMap<String, u64>,
    /// Malformed or unusable datagrams discarded, by kind.
    #[serde(default)]
    pub malformed: BTreeMap<String, u64>,
    /// Native PPP: links whose network came up (users online, counted once per session).
    #[serde(default)]
    pub ppp_up: u64,
    /// Native PPP: links ended, by reason (`auth_failed`, `echo_timeout`, `lower_down`, ...).
    #[serde(default)]
    pub ppp_down: BTreeMap<String, u64>,
    /// Native PPP: peers refused at authentication, by reason (`unknown_user`,
    /// `wrong_credentials`).
    #[serde(default)]
    pub ppp_auth_failures: BTreeMap<String, u64>,
    /// Native PPP: authenticated peers refused for want of an address (`pool_exhausted`,
    /// `address_in_use`, `no_pool`).
    #[serde(default)]
    pub ppp_address_refusals: BTreeMap<String, u64>,
    /// Native PPP: values of RADIUS Access-Accepts and CoA-Requests l2tpd left out and went
    /// on without (or, `interim_raised`, raised to its least), by kind (`route_default`,
    /// `route_taken`, `route_invalid`, `prefix_malformed`, `mtu`, `dns_server`,
    /// `nbns_server`, `interface_id`, `interim_raised`, `class_no_room`; see `l2tpctl(1)`).
    #[serde(default)]
    pub radius_values_ignored: BTreeMap<String, u64>,
    /// Native PPP: control frames for no native-PPP session, discarded.
    #[serde(default)]
    pub ppp_frames_discarded: u64,
    /// Native PPP: control frames a link found malformed (bad lengths, options or fields),
    /// discarded.
    #[serde(default)]
    pub ppp_frames_malformed: u64,
    /// Native PPP: well-formed control frames a link had no use for (a duplicate or late
    /// answer, RFC 1661 §5.2), discarded.
    #[serde(default)]
    pub ppp_frames_stale: u64,
    /// Native PPP: renegotiations peers started (LCP, IPCP or IPv6CP leaving Opened on their
    /// Configure-Request, -Ack or -Nak, or an NCP's Terminate-Request; RFC 1661 §4.3), bounded
    /// per link by the ppp profile's `max_renegotiations`.
    #[serde(default)]
    pub ppp_renegotiations: u64,
    /// Native PPP as LNS: what became of the proxy AVPs of LACs' ICCNs (RFC 2661 §4.4.5), by
    /// outcome (`lcp_taken`, `lcp_refused`, `lcp_malformed`, `auth_taken`, `auth_ignored`).
    #[serde(default)]
    pub ppp_proxy: BTreeMap<String, u64>,
    /// Native PPP on the userspace data plane: packets of the shared TUN dropped, by reason
    /// (`unrouted`: to an address no session holds, IPv4 or an IPv6 link-local one;
    /// `multicast`: IPv6 multicast the host sends into the TUN; `io_error`: a read or
    /// write of the TUN failed).
    #[serde(default)]
    pub ppp_tun_discards: BTreeMap<String, u64>,
    /// The userspace data plane: data packets and frames dropped, by reason, besides those of
    /// `malformed` (`data_wrong_cookie`) and `ppp_tun_discards` (`rx_errors`, `rx_malformed`,
    /// `rx_unknown_session`, `rx_truncated`, `rx_oversize`, `seq_errors`, `tap_errors`,
    /// `tx_errors`, `peer_unreachable`, `spoofed`, `ppp_not_carried`, `ppp_invalid`; see `l2tpctl(1)`).
    #[serde(default)]
    pub data_discards: BTreeMap<String, u64>,
    /// Ethernet sessions' interfaces that stopped being ports of their `bridge` because
    /// someone deleted it (each added back when a bridge of that name is made again).
    #[serde(default)]
    pub bridge_ports_lost: u64,
    /// Sessions disconnected because their data plane failed under them: their interface
    /// (TAP, or the kernel's) deleted by someone else, their pppd exited.
    #[serde(default)]
    pub data_path_lost: u64,
}
