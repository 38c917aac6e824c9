//! Successful answers: system information, tunnels, sessions, profiles and reload results.
//!
//! The field names of [`TunnelInfo`] and [`SessionInfo`] are the ones the interface fixes for
//! `l2tpctl --json show tunnels` and `show sessions`; `l2tpctl` prints these objects unchanged.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::ResultCode;
use crate::map::Settings;
use crate::request::ProfileKind;

mod radius;
mod system;

pub use radius::{RadiusInfo, RadiusServerInfo};
pub use system::{Counts, Limits, SystemInfo, SystemStats};

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
    /// ICMP port unreachables from the peer, reported on the tunnel's data socket (kept by the
    /// userspace data plane only; 0 on the others).
    #[serde(default)]
    pub peer_unreachable: u64,
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
    #[serde(default, skip_serializing_if = "CallInfo::is_boxed_empty")]
    pub call: Box<CallInfo>,
    /// The PPP that l2tpd terminates itself on this session (native PPP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppp: Option<crate::ppp::PppDetail>,
    /// What its data path uses, as set up with the peer; omitted until it is set up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_use: Option<SessionInUse>,
}

/// What a session's data path uses, as set up with the peer (its ICRQ, ICRP or ICCN), which
/// may differ from what the session's profiles say: the peer's pseudowire type and
/// L2-Specific Sublayer, random cookies, sequencing the peer asked for. Cookies are given by
/// their length only.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SessionInUse {
    /// The pseudowire type.
    pub pseudowire_type: PseudowireType,
    /// The L2-Specific Sublayer: `none` or `default` (L2TPv3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2spec_type: Option<String>,
    /// The length in octets of the cookie the peer puts on the packets it sends (checked on
    /// receipt; 0: none) (L2TPv3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_length_received: Option<u8>,
    /// The length in octets of the cookie this end puts on the packets it sends (0: none)
    /// (L2TPv3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_length_sent: Option<u8>,
    /// Whether data is sent with sequence numbers.
    pub sequencing_sent: bool,
    /// Whether data received must carry sequence numbers.
    pub sequencing_required: bool,
    /// The settings (as `settings` names them) whose value in use is not the one the
    /// profiles give: `pseudowire_type`, `l2spec_type`, `cookie_length`, `data_sequencing`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
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
    /// The Remote End ID AVP of an L2TPv3 session (RFC 3931 §5.4.4): the peer's, for a call
    /// it placed, else the configured `remote_end_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_end_id: Option<String>,
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

    /// Whether nothing is known of the call (a boxed one, as [`SessionDetail`] holds it: the
    /// largest part of the largest answer).
    #[allow(clippy::borrowed_box)] // serde's `skip_serializing_if` passes `&Box<CallInfo>`.
    pub fn is_boxed_empty(call: &Box<CallInfo>) -> bool {
        call.is_empty()
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
