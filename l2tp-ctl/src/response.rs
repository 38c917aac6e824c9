//! Successful answers: system information, tunnels, sessions, profiles and reload results.
//!
//! The field names of [`TunnelInfo`] and [`SessionInfo`] are the ones the interface fixes for
//! `l2tpctl --json show tunnels` and `show sessions`; `l2tpctl` prints these objects unchanged.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::ResultCode;
use crate::map::Settings;
use crate::request::ProfileKind;

/// An empty text as JSON `null` (l2tpctl(1): a value that is not known is `null`).
fn empty_as_null<S: Serializer>(text: &str, ser: S) -> Result<S::Ok, S::Error> {
    if text.is_empty() {
        ser.serialize_none()
    } else {
        ser.serialize_str(text)
    }
}

/// JSON `null` as an empty text.
fn null_as_empty<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(de)?.unwrap_or_default())
}

/// A successful answer, tagged by its kind on the wire (`{"tunnels":[...]}`).
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Response {
    /// For `show system`.
    System(SystemInfo),
    /// For `show tunnels`.
    Tunnels(Vec<TunnelInfo>),
    /// For `show tunnel` and `create tunnel`.
    Tunnel(TunnelDetail),
    /// For `show sessions`.
    Sessions(Vec<SessionInfo>),
    /// For `show session` and `create session`.
    Session(SessionDetail),
    /// For `show KIND profiles`.
    Profiles(Vec<ProfileInfo>),
    /// For `show KIND profile NAME`.
    Profile(ProfileInfo),
    /// For `show ip pools`, in file order.
    IpPools(Vec<IpPoolInfo>),
    /// For `show ip pool NAME`.
    IpPool(IpPoolInfo),
    /// For `show radius`.
    Radius(RadiusInfo),
    /// For `reload`.
    Reloaded(ReloadSummary),
    /// For requests that only report success (`delete`, `debug`), with a message for people.
    Done(String),
    /// For `watch`: events follow.
    Watching,
}

/// The state of a tunnel or session, coarse enough for scripts; the protocol's own state names
/// are in the detail views.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not started, or waiting to retry.
    Idle,
    /// Being set up.
    Connecting,
    /// Established.
    Up,
    /// Being torn down.
    Closing,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Up => "up",
            Self::Closing => "closing",
        })
    }
}

/// How a tunnel's packets are carried.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encap {
    /// Over UDP.
    Udp,
    /// L2TPv3 directly over IP, protocol 115.
    Ip,
}

impl fmt::Display for Encap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Udp => "udp",
            Self::Ip => "ip",
        })
    }
}

/// Who asked for a tunnel or session.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatedBy {
    /// A `tunnel` or `session` block of the config file.
    Config,
    /// A peer's request.
    Net,
    /// An `l2tpctl create` command.
    Cli,
}

impl CreatedBy {
    /// One-letter flag for tables: `C`onfig, `N`et, `L`ocal command.
    pub fn flag(self) -> char {
        match self {
            Self::Config => 'C',
            Self::Net => 'N',
            Self::Cli => 'L',
        }
    }
}

/// A session's pseudowire type: `"ppp"`, `"eth"`, `"eth_vlan"` or, for any other IANA type,
/// its number.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum PseudowireType {
    /// PPP (type 7).
    Ppp,
    /// Ethernet (type 5).
    Eth,
    /// Ethernet VLAN (type 4).
    EthVlan,
    /// Any other type.
    Other(u16),
}

impl PseudowireType {
    /// The type for IANA number `n`, named when it is one of the three known ones.
    pub fn from_number(n: u16) -> Self {
        match n {
            7 => Self::Ppp,
            5 => Self::Eth,
            4 => Self::EthVlan,
            n => Self::Other(n),
        }
    }

    /// The name as used in the config file and in JSON, or `None` for numbered types.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Self::Ppp => Some("ppp"),
            Self::Eth => Some("eth"),
            Self::EthVlan => Some("eth_vlan"),
            Self::Other(_) => None,
        }
    }
}

impl fmt::Display for PseudowireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self) {
            (Some(name), _) => f.write_str(name),
            (None, Self::Other(n)) => write!(f, "{n}"),
            (None, _) => Ok(()),
        }
    }
}

impl Serialize for PseudowireType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.name(), self) {
            (Some(name), _) => s.serialize_str(name),
            (None, Self::Other(n)) => s.serialize_u16(*n),
            (None, _) => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for PseudowireType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PwVisitor;

        impl Visitor<'_> for PwVisitor {
            type Value = PseudowireType;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#""ppp", "eth", "eth_vlan" or a pseudowire type number"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v {
                    "ppp" => Ok(PseudowireType::Ppp),
                    "eth" => Ok(PseudowireType::Eth),
                    "eth_vlan" => Ok(PseudowireType::EthVlan),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                u16::try_from(v)
                    .map(PseudowireType::from_number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }

        d.deserialize_any(PwVisitor)
    }
}

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
    /// Whether L2TPv3-over-IP (protocol 115) sockets are open.
    pub ip_encap: bool,
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
    /// Native PPP: control frames for no native-PPP session, discarded.
    #[serde(default)]
    pub ppp_frames_discarded: u64,
    /// Native PPP: control frames a link found malformed (bad lengths, options or fields),
    /// discarded.
    #[serde(default)]
    pub ppp_frames_malformed: u64,
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
    /// `tx_errors`, `spoofed`, `ppp_not_carried`, `ppp_invalid`; see `l2tpctl(1)`).
    #[serde(default)]
    pub data_discards: BTreeMap<String, u64>,
}

/// One row of `show tunnels`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct TunnelInfo {
    /// Local tunnel id.
    pub tid: u32,
    /// The peer's tunnel id; 0 until the peer has assigned one.
    pub peer_tid: u32,
    /// The administrative name; `null` for tunnels created by a peer.
    pub name: Option<String>,
    /// Coarse state.
    pub state: State,
    /// L2TP version: 2 or 3.
    pub version: u8,
    /// Encapsulation.
    pub encap: Encap,
    /// Local address and port (`192.0.2.1:1701`, `[2001:db8::1]:1701`; port 0 with IP encap);
    /// empty while not known (a tunnel instance waiting to try again), `null` in JSON.
    #[serde(serialize_with = "empty_as_null", deserialize_with = "null_as_empty")]
    pub local: String,
    /// The peer's address and port.
    pub peer: String,
    /// Who created the tunnel.
    pub created_by: CreatedBy,
    /// Number of sessions in the tunnel.
    pub sessions: u32,
    /// Seconds since the tunnel came up; 0 when it is not up.
    pub uptime_s: u64,
    /// The tunnel profile in use.
    pub profile: String,
    /// The peer's Host Name AVP, when received.
    pub peer_host_name: Option<String>,
    /// The local ids of the other tunnels whose peer has the same address and port (UDP):
    /// several clients behind one NAT, or one peer's several tunnels (a LAC's to this LNS, or
    /// this host's own tunnel blocks to one peer). The kernel's data plane tells such tunnels' data apart
    /// by address and port only on some kernels. Tunnels that are closing are left out (and
    /// have none). Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_peer: Vec<u32>,
}

/// `show tunnel ID|NAME`: the row of `show tunnels` plus settings and counters.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct TunnelDetail {
    /// The summary, flattened into the same object.
    #[serde(flatten)]
    pub info: TunnelInfo,
    /// The protocol's own state name (RFC 2661 §7.2 / RFC 3931 §3), e.g. `wait-ctl-reply`.
    pub protocol_state: String,
    /// Whether protocol debugging is on for this tunnel.
    pub debug: bool,
    /// The effective settings (profile chain resolved; secrets redacted).
    pub settings: Settings,
    /// Counters.
    pub stats: TunnelStats,
    /// The last result sent or received (StopCCN), if any.
    pub last_result: Option<ResultCode>,
    /// The netfilter mark the tunnel's socket sends with, learnt from the peer's SCCRQ or
    /// from l2tp-nfqd (L2TP/IPsec clients behind one NAT). Omitted when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_mark: Option<u32>,
}

/// Per-tunnel counters.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct TunnelStats {
    /// Control messages received.
    pub control_rx_packets: u64,
    /// Control messages sent.
    pub control_tx_packets: u64,
    /// Control messages retransmitted.
    pub retransmits: u64,
    /// Duplicate control messages discarded.
    pub duplicates: u64,
    /// Explicit acknowledgements (ZLB or ACK) sent.
    #[serde(default)]
    pub acks_sent: u64,
    /// Explicit acknowledgements received.
    #[serde(default)]
    pub acks_received: u64,
    /// Control messages that arrived ahead of a gap and were held.
    #[serde(default)]
    pub out_of_order: u64,
    /// Control messages discarded because they were outside the receive window.
    #[serde(default)]
    pub outside_window: u64,
    /// Data packets received.
    pub data_rx_packets: u64,
    /// Data packets sent.
    pub data_tx_packets: u64,
}

/// One row of `show sessions`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SessionInfo {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// The peer's session id; 0 until assigned.
    pub peer_sid: u32,
    /// The administrative name; `null` for sessions created by a peer.
    pub name: Option<String>,
    /// Coarse state.
    pub state: State,
    /// Pseudowire type.
    pub pseudowire_type: PseudowireType,
    /// The session's network interface, once the data plane has made one.
    pub interface_name: Option<String>,
    /// The parent tunnel's name, if it has one.
    pub tunnel_name: Option<String>,
    /// Who created the session.
    pub created_by: CreatedBy,
    /// Seconds since the session came up; 0 when it is not up.
    pub uptime_s: u64,
    /// The session profile in use.
    pub profile: String,
    /// The pseudowire profile in use.
    pub pseudowire_profile: String,
    /// For a native-PPP session: the user the peer authenticated as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppp_user: Option<String>,
    /// For a native-PPP session: the peer's IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppp_ipv4: Option<std::net::Ipv4Addr>,
}

/// `show session TUNNEL ID|NAME`: the row of `show sessions` plus settings and counters.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SessionDetail {
    /// The summary, flattened into the same object.
    #[serde(flatten)]
    pub info: SessionInfo,
    /// The protocol's own state name.
    pub protocol_state: String,
    /// Whether protocol debugging is on for this session.
    pub debug: bool,
    /// The effective settings, session and pseudowire.
    pub settings: Settings,
    /// Counters.
    pub stats: SessionStats,
    /// The last result sent or received (CDN), if any.
    pub last_result: Option<ResultCode>,
    /// What is known of the call: the Calling Number, Called Number and Sub-Address the peer
    /// sent (or, for a call placed here, those of the config), and the peer's Host Name.
    /// Omitted when nothing is known.
    #[serde(default, skip_serializing_if = "CallInfo::is_empty")]
    pub call: CallInfo,
    /// The PPP that l2tpd terminates itself on this session (native PPP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppp: Option<crate::ppp::PppDetail>,
}

/// What is known of a call. A value that is not printable text is given in hexadecimal,
/// prefixed with `hex:`. Absent members are omitted.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct CallInfo {
    /// The Calling Number AVP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_number: Option<String>,
    /// The Called Number AVP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_number: Option<String>,
    /// The Sub-Address AVP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_address: Option<String>,
    /// The Host Name AVP of the peer of the session's tunnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_host_name: Option<String>,
    /// The Tx Connect Speed of the peer's ICCN or OCCN, bits per second, or of its latest
    /// RFC 5515 CSUN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_connect_speed: Option<std::num::NonZeroU64>,
    /// The Rx Connect Speed of the peer's ICCN or OCCN (or latest CSUN), when it gave one; for
    /// a call placed here as LAC, the one told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rx_connect_speed: Option<std::num::NonZeroU64>,
    /// The Access Line Information of the LAC's ICRQ (RFC 5515), by name:
    /// `agent_circuit_id`, `agent_remote_id`, the data rates in bit/s (e.g.
    /// `actual_data_rate_upstream`), the interleaving delays in ms, ...
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub access_line: std::collections::BTreeMap<String, String>,
    /// The LAC's ICRQ carried Connect Speed Update Enable (RFC 5515 §6.2): it may send CSUNs
    /// that update the connect speeds. The LAC is the peer, or this host for a call placed
    /// here with `connect_speed_updates`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub connect_speed_updates: bool,
}

impl CallInfo {
    /// Whether nothing is known of the call.
    pub fn is_empty(&self) -> bool {
        *self == CallInfo::default()
    }
}

/// Per-session data counters.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct SessionStats {
    /// Control messages of this session received.
    #[serde(default)]
    pub control_rx_packets: u64,
    /// Control messages of this session sent.
    #[serde(default)]
    pub control_tx_packets: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Of those, packets with a wrong cookie.
    #[serde(default)]
    pub rx_cookie_mismatches: u64,
    /// Of those, packets dropped by data sequencing.
    #[serde(default)]
    pub rx_seq_errors: u64,
    /// Of those, frames longer than the session's interface takes (its MTU, plus the
    /// Ethernet header and a VLAN tag): the userspace data plane drops them as the kernel's
    /// `l2tp_eth` does.
    #[serde(default)]
    pub rx_oversize: u64,
    /// Packets that arrived out of sequence and were put back in order by the session's
    /// reorder queue (`reorder_timeout`): delivered, not errors.
    #[serde(default)]
    pub rx_reordered: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Send errors.
    pub tx_errors: u64,
}

/// One profile: `show KIND profiles` lists them, `show KIND profile NAME` shows one.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ProfileInfo {
    /// The profile kind.
    pub kind: ProfileKind,
    /// The profile's name.
    pub name: String,
    /// Whether it is the built-in `default` (not defined in the file).
    pub builtin: bool,
    /// The effective settings, in config-file order (for tunnel, session and pseudowire
    /// profiles: over the `default` profile of the kind). Secrets read `"<redacted>"`.
    pub settings: Settings,
}

/// One address pool (`ip pool` in the config file).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct IpPoolInfo {
    /// The pool's name.
    pub name: String,
    /// Its ranges, `first-last`, in file order.
    pub ranges: Vec<String>,
    /// How many addresses the ranges hold.
    pub size: u64,
    /// How many of them native-PPP sessions hold now.
    #[serde(default)]
    pub in_use: u64,
}

/// `show radius`: the RADIUS servers with their state and counters, the requests waiting, and
/// what became of the requests of the PPP sessions and of dynamic authorization.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct RadiusInfo {
    /// Every server, authentication servers first, each in configuration order.
    pub servers: Vec<RadiusServerInfo>,
    /// Access-Requests waiting for a server (every one busy or dead).
    pub queued_access: u64,
    /// Accounting-Requests waiting for a server.
    pub queued_accounting: u64,
    /// Requests not answered yet (queued or in flight).
    pub pending: u64,
    /// The client's UDP sockets (256 identifiers per socket and server).
    pub sockets: u64,
    /// Access-Requests sent for PPP sessions.
    pub access_requests: u64,
    /// Of those, accepted.
    pub accepts: u64,
    /// Rejected (or challenged, which l2tpd cannot answer).
    pub rejects: u64,
    /// Not answered by any server.
    pub no_answer: u64,
    /// Of those, peers checked against the local users instead (`radius_then_local`).
    pub local_fallbacks: u64,
    /// Access-Requests refused at once because too many waited.
    pub access_queue_full: u64,
    /// Accounting-Requests sent, by Acct-Status-Type: `start`, `interim`, `stop`, `on`, `off`.
    pub accounting_requests: BTreeMap<String, u64>,
    /// Accounting-Responses received.
    pub accounting_responses: u64,
    /// Accounting records lost: dropped from the full queue (logged) or too long to send.
    pub accounting_lost: u64,
    /// Answers from addresses that are no server.
    pub unknown_source: u64,
    /// Where Disconnect- and CoA-Requests are taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dynauth_listen: Vec<String>,
    /// Disconnect- and CoA-Requests by answer: `disconnect_ack`, `disconnect_nak`, `coa_ack`,
    /// `coa_nak`.
    pub dynauth: BTreeMap<String, u64>,
    /// Datagrams on the dynamic authorization sockets dropped, by why: `unknown_client`,
    /// `malformed`, `bad_authenticator`, and retransmissions answered again (`duplicate`).
    pub dynauth_dropped: BTreeMap<String, u64>,
}

/// One RADIUS server in `show radius`.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct RadiusServerInfo {
    /// The `radius server` block's name.
    pub name: String,
    /// `authentication` or `accounting`.
    pub service: String,
    /// Its address and port.
    pub address: String,
    /// Its priority (lower is preferred).
    pub priority: u8,
    /// `alive` or `dead`.
    pub state: String,
    /// Seconds until a dead server is tried again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_for_s: Option<u64>,
    /// Requests in flight to it.
    pub outstanding: u64,
    /// Requests sent to it (first transmissions).
    pub requests: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Requests it left unanswered through every retransmission.
    pub timeouts: u64,
    /// Access-Accepts.
    pub accepts: u64,
    /// Access-Rejects.
    pub rejects: u64,
    /// Access-Challenges.
    pub challenges: u64,
    /// Accounting-Responses.
    pub accounting_responses: u64,
    /// Answers that did not decode or matched no request.
    pub malformed: u64,
    /// Answers with a wrong or missing authenticator.
    pub bad_authenticators: u64,
    /// The round-trip time of its last answer, microseconds.
    pub last_rtt_us: u64,
    /// Its smoothed round-trip time, microseconds.
    pub smoothed_rtt_us: u64,
    /// Status-Server probes sent to it while dead (RFC 5997).
    #[serde(default)]
    pub probes: u64,
    /// Probes it answered.
    #[serde(default)]
    pub probes_answered: u64,
    /// Probes it left unanswered.
    #[serde(default)]
    pub probes_timed_out: u64,
}

/// What a reload changed.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct ReloadSummary {
    /// Every change, in the order: system, peer, tunnel, session, pseudowire and PPP profiles,
    /// address pools, users, RADIUS servers, dynamic authorization clients, tunnels,
    /// sessions; empty when the new file is equivalent.
    pub changes: Vec<ConfigChange>,
    /// Changes the daemon cannot apply without a restart (e.g. `listen`), as messages.
    pub restart_needed: Vec<String>,
    /// The `tunnel` and `session` blocks the daemon refused to apply, which `changes` does not
    /// list; the rest of the reload is applied. Absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedBlock>,
}

/// A `tunnel` or `session` block a reload did not apply, and why: it clashes with a tunnel or
/// session made with `l2tpctl` (its name, its tunnel, or a fixed id one of them holds).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RefusedBlock {
    /// `tunnel` or `session`.
    pub item: String,
    /// The block's name.
    pub name: String,
    /// Why it was refused, as a sentence without a final stop.
    pub reason: String,
}

impl fmt::Display for RefusedBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} \"{}\" refused: {}",
            self.item, self.name, self.reason
        )
    }
}

/// One item a reload added, removed or changed.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ConfigChange {
    /// `system`, `peer_profile`, `tunnel_profile`, `session_profile`, `pseudowire_profile`,
    /// `ppp_profile`, `ip_pool`, `user`, `radius_server`, `dynauth_client`, `tunnel` or
    /// `session`.
    pub item: String,
    /// The item's name (absent for `system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What happened to it.
    pub change: ChangeKind,
}

impl fmt::Display for ConfigChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let item = self.item.replace('_', " ");
        match &self.name {
            Some(name) => write!(f, "{item} \"{name}\" {}", self.change),
            None => write!(f, "{item} {}", self.change),
        }
    }
}

/// How an item changed in a reload.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// New in the file.
    Added,
    /// Gone from the file.
    Removed,
    /// Its effective settings differ.
    Changed,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
        })
    }
}
