//! The typed parameters of every block type, as written (`*Params`, every field optional) and
//! resolved against the built-in defaults (`*Settings`).
//!
//! Inheritance works on the `*Params` form: [`TunnelParams::overlay`] fills the unset parameters
//! of an instance from its profile, and [`TunnelParams::resolve`] turns the result into
//! settings with every default applied.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::convert as p;
use crate::params::params;
use crate::value::{
    AuthMode, Bearer, BearerCaps, DataSequencing, Dataplane, DigestType, Encap, Endpoint, Framing,
    FramingCaps, IpPrefix, L2specType, L2tpVersion, LacLns, LogLevel, MacAddr, MetricsDetail,
    PseudowireType, Secret, SessionType, TextOrBytes,
};

fn default_name() -> String {
    "default".to_owned()
}

params! {
    /// The `system` block as written.
    pub struct SystemParams;
    /// Global settings (`system` block) with defaults applied.
    pub struct System;
    (_p) {
        /// `listen`: addresses to accept L2TP on; the port defaults to 1701
        /// \[`0.0.0.0:1701` and `[::]:1701`\].
        listen: Vec<SocketAddr> => Vec<SocketAddr> = vec![
            SocketAddr::from(([0, 0, 0, 0], 1701)),
            SocketAddr::from(([0u16; 8], 1701)),
        ], p::socket_addrs;
        /// `listen_encap_ip`: accept L2TPv3 over IP (protocol 115) on the `listen` addresses
        /// even when no tunnel profile or instance sets `encap ip` \[false: only when one
        /// does\].
        listen_encap_ip: bool => bool = false, p::boolean;
        /// `host_name`: Host Name AVP \[`None`: the system host name\].
        host_name: String => Option<String> = None, p::name;
        /// `router_id`: L2TPv3 Router ID, a number or an IPv4 address read as a big-endian u32
        /// \[`None`: derived from a local IPv4 address\].
        router_id: u32 => Option<u32> = None, p::router_id;
        /// `log_level` \[`notice`\].
        log_level: LogLevel => LogLevel = LogLevel::Notice, p::keyword;
        /// `max_tunnels`, 0 = no limit \[0\].
        max_tunnels: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `max_sessions`, 0 = no limit \[0\].
        max_sessions: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `max_setup_tunnels`: most tunnels requested by peers and not yet established; a
        /// further SCCRQ is dropped unanswered until one finishes, 0 = no cap \[1000\].
        max_setup_tunnels: u32 => u32 = 1000, p::number(0, u32::MAX.into());
        /// `peer_setup_rate`: new tunnels accepted per second from one peer address, with a
        /// burst of as many; further SCCRQs are dropped unanswered (the peer retransmits),
        /// 0 = no limit \[100\].
        peer_setup_rate: u32 => u32 = 100, p::number(0, 1_000_000);
        /// `deny_local_tunnel_creates`: refuse tunnels requested through `l2tpctl` \[false\].
        deny_local_tunnel_creates: bool => bool = false, p::boolean;
        /// `deny_remote_tunnel_creates`: refuse tunnels requested by peers \[false\].
        deny_remote_tunnel_creates: bool => bool = false, p::boolean;
        /// `drain_tunnels`: accept no new tunnels, keep the existing ones \[false\].
        drain_tunnels: bool => bool = false, p::boolean;
        /// `tunnel_establish_timeout`, seconds \[120\].
        tunnel_establish_timeout: u32 => u32 = 120, p::number(1, u32::MAX.into());
        /// `session_establish_timeout`, seconds \[120\].
        session_establish_timeout: u32 => u32 = 120, p::number(1, u32::MAX.into());
        /// `tunnel_persist_pend_timeout`: longest wait between retries of a persistent tunnel,
        /// seconds \[60\].
        tunnel_persist_pend_timeout: u32 => u32 = 60, p::number(1, u32::MAX.into());
        /// `session_persist_pend_timeout`: longest wait between retries of a persistent
        /// session, seconds \[60\].
        session_persist_pend_timeout: u32 => u32 = 60, p::number(1, u32::MAX.into());
        /// `autoname_interfaces`: the daemon names interfaces itself instead of relying on
        /// kernel `%d` templates \[true\].
        autoname_interfaces: bool => bool = true, p::boolean;
        /// `dataplane` \[`auto`\].
        dataplane: Dataplane => Dataplane = Dataplane::Auto, p::keyword;
        /// `dataplane_offloads`: the userspace data plane uses the kernel's offloads (TAP
        /// super-frames segmented and coalesced in the data path, UDP GSO and GRO) \[true\].
        dataplane_offloads: bool => bool = true, p::boolean;
        /// `dataplane_threads`: data-path threads of the userspace data plane, 0 = one per
        /// core \[0\].
        dataplane_threads: u32 => u32 = 0, p::number(0, 256);
        /// `ppp_interface`: the TUN device that carries the IP of every native-PPP session on
        /// the userspace data plane \[`l2tpppp0`\].
        ppp_interface: String => String = "l2tpppp0".to_owned(), p::fixed_interface_name;
        /// `control_socket` \[`/run/l2tpd/l2tpd.sock`\].
        control_socket: PathBuf => PathBuf = PathBuf::from("/run/l2tpd/l2tpd.sock"), p::path;
        /// `control_socket_group`: group allowed to use the control socket \[`None`: root only\].
        control_socket_group: String => Option<String> = None, p::name;
        /// `script_dir`: where user scripts live \[`/etc/l2tpd`\].
        script_dir: PathBuf => PathBuf = PathBuf::from("/etc/l2tpd"), p::path;
        /// `max_scripts`: the most user scripts running at once \[16\].
        max_scripts: u32 => u32 = 16, p::number(1, 4096);
        /// `script_timeout`: seconds a user script may run before its process group is
        /// stopped (SIGTERM, then SIGKILL), 0 = no limit \[60\].
        script_timeout: u32 => u32 = 60, p::number(0, 86_400);
        /// `metrics_listen`: addresses and ports to serve Prometheus metrics on over HTTP
        /// (`GET /metrics`) \[none: no metrics endpoint\].
        metrics_listen: Vec<SocketAddr> => Vec<SocketAddr> = Vec::new(), p::metrics_addrs;
        /// `metrics_detail`: series per tunnel or per session besides the totals \[`none`\].
        metrics_detail: MetricsDetail => MetricsDetail = MetricsDetail::None, p::keyword;
        /// `radius_nas_identifier`: the NAS-Identifier of RADIUS requests \[`None`: the host
        /// name\].
        radius_nas_identifier: String => Option<String> = None, p::name;
        /// `radius_nas_ip_address`: the NAS-IP-Address (or NAS-IPv6-Address) of RADIUS
        /// requests \[`None`: the session's tunnel's local address\].
        radius_nas_ip_address: IpAddr => Option<IpAddr> = None, p::ip;
        /// `radius_dynauth_listen`: addresses (port 3799 by default) where Disconnect- and
        /// CoA-Requests from the `dynauth client`s are taken \[none\].
        radius_dynauth_listen: Vec<SocketAddr> => Vec<SocketAddr> = Vec::new(),
            p::dynauth_addrs;
        /// `radius_dynauth_require_event_timestamp`: a Disconnect- or CoA-Request without
        /// Event-Timestamp is NAKed with Error-Cause 402 (RFC 5176 §3.3, §6: replay
        /// protection a NAS may require) \[false\].
        radius_dynauth_require_event_timestamp: bool => bool = false, p::boolean;
        /// `radius_max_queued_access`: Access-Requests waiting for a server beyond which a
        /// new one fails at once \[10000\].
        radius_max_queued_access: u32 => u32 = 10_000, p::number(1, 10_000_000);
        /// `radius_max_queued_accounting`: Accounting-Requests kept while no server takes
        /// them; beyond, the oldest Interim-Update (else the oldest record) is dropped, logged
        /// and counted \[10000\].
        radius_max_queued_accounting: u32 => u32 = 10_000, p::number(1, 10_000_000);
        /// `radius_accounting_on_off`: send Accounting-On when the daemon starts and
        /// Accounting-Off when it stops \[true\].
        radius_accounting_on_off: bool => bool = true, p::boolean;
        /// `pid_file` \[`/run/l2tpd/l2tpd.pid`\].
        pid_file: PathBuf => PathBuf = PathBuf::from("/run/l2tpd/l2tpd.pid"), p::path;
        /// `learn_sccrq_mark`: a tunnel that a peer opens sends with the netfilter mark its
        /// SCCRQ arrived with (`SO_RCVMARK`, Linux 5.19 or later), so that L2TP/IPsec clients
        /// behind one NAT each get their replies through their own security association
        /// \[true\].
        learn_sccrq_mark: bool => bool = true, p::boolean;
        /// `nfq_socket`: a unix datagram socket l2tpd creates to receive l2tp-nfqd's messages
        /// (the netfilter mark of each SCCRQ, by peer address and peer tunnel id) \[none\].
        nfq_socket: PathBuf => Option<PathBuf> = None, p::path;
    }
}

params! {
    /// A `peer profile` block as written.
    pub struct PeerParams;
    /// A peer profile's settings with defaults applied.
    pub struct PeerSettings;
    (_p) {
        /// `peer_ipaddr`: address, or `address/prefix`, of the peers this profile applies to.
        peer_ipaddr: IpPrefix => Option<IpPrefix> = None, p::ip_prefix;
        /// `netmask`: applied to `peer_ipaddr` when it has no `/prefix` \[a host address\].
        netmask: IpAddr => Option<IpAddr> = None, p::netmask;
        /// `peer_host_name`: matched against the Host Name AVP of an incoming SCCRQ.
        peer_host_name: String => Option<String> = None, p::name;
        /// `lac_lns`: the roles the peer may take \[`both`\].
        lac_lns: LacLns => LacLns = LacLns::Both, p::keyword;
        /// `tunnel_profile_name` \[`default`\].
        tunnel_profile_name: String => String = default_name(), p::name;
        /// `session_profile_name` \[`default`\].
        session_profile_name: String => String = default_name(), p::name;
        /// `pseudowire_profile_name` \[`default`\].
        pseudowire_profile_name: String => String = default_name(), p::name;
    }
}

impl PeerSettings {
    /// The address prefix this profile matches: `peer_ipaddr` with its `/prefix`, else its
    /// `netmask`, else the full address length.
    pub fn prefix(&self) -> Option<(IpAddr, u8)> {
        let ip = self.peer_ipaddr?;
        let full = if ip.addr.is_ipv4() { 32 } else { 128 };
        let len = ip
            .len
            .or_else(|| self.netmask.and_then(p::mask_len))
            .unwrap_or(full);
        Some((ip.addr, len))
    }
}

params! {
    /// A `tunnel profile` block, or the profile parameters of a `tunnel` block, as written.
    pub struct TunnelParams;
    /// A tunnel's settings with defaults applied.
    pub struct TunnelSettings;
    (p) {
        /// `version` \[`None`: L2TPv3, falling back to L2TPv2 when the peer does not speak
        /// it\]. An explicit version disables the fallback.
        version: L2tpVersion => Option<L2tpVersion> = None, p::version;
        /// `encap` \[`udp`\].
        encap: Encap => Encap = Encap::Udp, p::keyword;
        /// `local`: local address and port to bind \[`None`: chosen by routing, port 1701\].
        local: Endpoint => Option<Endpoint> = None, p::ip_endpoint;
        /// `host_name`: Host Name AVP \[`None`: the system's\].
        host_name: String => Option<String> = None, p::name;
        /// `secret`: shared secret, a string or `hex:` bytes \[`None`\].
        secret: Secret => Option<Secret> = None, p::secret;
        /// `auth_mode` \[`challenge` when `secret` is set, else `none`\].
        auth_mode: AuthMode => AuthMode =
            if p.secret.is_some() { AuthMode::Challenge } else { AuthMode::None },
            p::keyword;
        /// `hide_avps`: hide sensitive AVPs with the secret \[false\].
        hide_avps: bool => bool = false, p::boolean;
        /// `digest_type`: the hash of the L2TPv3 Message Digest we send \[`hmac_md5`\]. A
        /// received digest is checked with the hash it names, whichever this is.
        digest_type: DigestType => DigestType = DigestType::HmacMd5, p::keyword;
        /// `hello_timeout`: seconds of silence before a HELLO, 0 = off \[60\].
        hello_timeout: u32 => u32 = 60, p::number(0, u32::MAX.into());
        /// `retry_timeout`: initial retransmission timeout, seconds \[1\].
        retry_timeout: u32 => u32 = 1, p::number(1, 3600);
        /// `max_retries`: retransmissions before the peer is declared dead \[5\].
        max_retries: u32 => u32 = 5, p::number(0, 1000);
        /// `rx_window_size` \[10\].
        rx_window_size: u16 => u16 = 10, p::number(1, u16::MAX.into());
        /// `tx_window_size`, clipped to the peer's receive window \[10\].
        tx_window_size: u16 => u16 = 10, p::number(1, u16::MAX.into());
        /// `idle_timeout`: seconds after the last session closes before the tunnel is
        /// deleted, 0 = never \[0\].
        idle_timeout: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `max_sessions`, 0 = the system limit \[0\].
        max_sessions: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `framing_caps`: list of `sync`, `async` \[both\].
        framing_caps: FramingCaps => FramingCaps =
            FramingCaps { sync: true, async_: true }, p::framing_caps;
        /// `bearer_caps`: list of `digital`, `analog` \[both\].
        bearer_caps: BearerCaps => BearerCaps =
            BearerCaps { digital: true, analog: true }, p::bearer_caps;
        /// `use_tiebreaker`: send a Tie Breaker AVP \[true\].
        use_tiebreaker: bool => bool = true, p::boolean;
        /// `use_udp_checksums` \[true\].
        use_udp_checksums: bool => bool = true, p::boolean;
        /// `session_profile_name`: profile of sessions in this tunnel \[`default`\].
        session_profile_name: String => String = default_name(), p::name;
        /// `pseudowire_profile_name`: pseudowire profile of sessions in this tunnel
        /// \[`default`\].
        pseudowire_profile_name: String => String = default_name(), p::name;
        /// `debug` \[false\].
        debug: bool => bool = false, p::boolean;
    }
}

params! {
    /// The instance-only parameters of a `tunnel` block as written.
    pub struct TunnelInstanceParams;
    /// The instance-only settings of a `tunnel` block with defaults applied.
    pub struct TunnelInstanceSettings;
    (_p) {
        /// `profile`: the tunnel profile to inherit from \[`default`\].
        profile: String => String = default_name(), p::name;
        /// `peer`: where to connect, one or more peers tried in turn (required).
        peer: Vec<Endpoint> => Vec<Endpoint> = Vec::new(), p::endpoints;
        /// `persist`: re-establish after failure \[true\].
        persist: bool => bool = true, p::boolean;
        /// `tunnel_id`: local tunnel id \[`None`: random\].
        tunnel_id: u32 => Option<u32> = None, p::number(1, u32::MAX.into());
        /// `peer_tunnel_id`: the peer's tunnel id; makes a static L2TPv3 tunnel with no
        /// control channel \[`None`\].
        peer_tunnel_id: u32 => Option<u32> = None, p::number(1, u32::MAX.into());
        /// `config_id`: tells apart several tunnels between the same two hosts \[`None`\].
        config_id: u32 => Option<u32> = None, p::number(1, u32::MAX.into());
    }
}

params! {
    /// A `session profile` block, or the profile parameters of a `session` block, as written.
    pub struct SessionParams;
    /// A session's settings with defaults applied.
    pub struct SessionSettings;
    (p) {
        /// `pseudowire_type` \[`ppp`\].
        pseudowire_type: PseudowireType => PseudowireType =
            PseudowireType::Ppp, p::pseudowire_type;
        /// `pseudowire_types`: the types an L2TPv3 peer may open a session of (RFC 3931
        /// §5.4.3 result 14 for others) \[empty: every type\].
        pseudowire_types: Vec<PseudowireType> => Vec<PseudowireType> = Vec::new(),
            p::pseudowire_types;
        /// `l2spec_type` \[`default`\].
        l2spec_type: L2specType => L2specType = L2specType::Default, p::keyword;
        /// `cookie_length`: 0, 4 or 8 \[the length of `cookie` if set, else 0\].
        cookie_length: u8 => u8 =
            p.cookie.as_ref().map_or(0, |c| u8::try_from(c.len()).unwrap_or(0)),
            p::cookie_length;
        /// `cookie`: static local cookie, 4 or 8 bytes \[`None`: random when needed\].
        cookie: Vec<u8> => Option<Vec<u8>> = None, p::cookie;
        /// `peer_cookie`: static cookie expected from the peer \[`None`\].
        peer_cookie: Vec<u8> => Option<Vec<u8>> = None, p::cookie;
        /// `data_sequencing` \[`none`\].
        data_sequencing: DataSequencing => DataSequencing = DataSequencing::None, p::keyword;
        /// `reorder_timeout`, milliseconds, 0 = no reordering \[0\].
        reorder_timeout: u32 => u32 = 0, p::number(0, u32::MAX.into());
        /// `vlan_id`, for `eth_vlan` pseudowires \[`None`\].
        vlan_id: u16 => Option<u16> = None, p::number(1, 4094);
        /// `session_type` (L2TPv2) \[`None`: derived from the tunnel's role\].
        session_type: SessionType => Option<SessionType> = None, p::keyword;
        /// `calling_number` \[`None`\].
        calling_number: String => Option<String> = None, p::text;
        /// `called_number` \[`None`\].
        called_number: String => Option<String> = None, p::text;
        /// `sub_address` \[`None`\].
        sub_address: String => Option<String> = None, p::text;
        /// `tx_connect_speed`, bits per second \[`None`\].
        tx_connect_speed: u32 => Option<u32> = None, p::number(0, u32::MAX.into());
        /// `rx_connect_speed`, bits per second \[`None`\].
        rx_connect_speed: u32 => Option<u32> = None, p::number(0, u32::MAX.into());
        /// `connect_speed_updates`: a call placed as LAC carries Connect Speed Update Enable in
        /// its ICRQ, tells speed changes in CSUNs and answers CSURQs (RFC 5515 §4, §6.2)
        /// \[false\].
        connect_speed_updates: bool => bool = false, p::boolean;
        /// `agent_circuit_id`: Access Line Agent-Circuit-Id sent in an ICRQ (RFC 5515 §5.1)
        /// \[`None`\].
        agent_circuit_id: String => Option<String> = None, p::access_line_id;
        /// `agent_remote_id`: Access Line Agent-Remote-Id sent in an ICRQ (RFC 5515 §5.2)
        /// \[`None`\].
        agent_remote_id: String => Option<String> = None, p::access_line_id;
        /// `actual_data_rate_upstream`, bits per second, sent in an ICRQ (RFC 5515 §5.3)
        /// \[`None`\].
        actual_data_rate_upstream: u64 => Option<u64> = None, p::number(0, u64::MAX);
        /// `actual_data_rate_downstream`, bits per second, sent in an ICRQ (RFC 5515 §5.4)
        /// \[`None`\].
        actual_data_rate_downstream: u64 => Option<u64> = None, p::number(0, u64::MAX);
        /// `framing_type` \[`any`\].
        framing_type: Framing => Framing = Framing::Any, p::keyword;
        /// `bearer_type` \[`any`\].
        bearer_type: Bearer => Bearer = Bearer::Any, p::keyword;
        /// `priv_group_id`: Private Group ID AVP \[`None`\].
        priv_group_id: String => Option<String> = None, p::text;
        /// `user_data`: passed to user scripts as `USER_DATA` \[`None`\].
        user_data: String => Option<String> = None, p::text;
        /// `remote_end_id`: a string or `hex:` bytes \[`None`\].
        remote_end_id: TextOrBytes => Option<TextOrBytes> = None, p::text_or_bytes;
        /// `interface_name`: the session's interface, a name or `%d` template \[`None`: from
        /// the pseudowire profile\].
        interface_name: String => Option<String> = None, p::interface_name;
        /// `pseudowire_profile_name` \[`None`: the tunnel's\].
        pseudowire_profile_name: String => Option<String> = None, p::name;
        /// `debug` \[false\].
        debug: bool => bool = false, p::boolean;
    }
}

params! {
    /// The instance-only parameters of a `session` block as written.
    pub struct SessionInstanceParams;
    /// The instance-only settings of a `session` block with defaults applied.
    pub struct SessionInstanceSettings;
    (_p) {
        /// `tunnel`: name of the parent `tunnel` instance (required).
        tunnel: String => Option<String> = None, p::name;
        /// `profile`: the session profile to inherit from \[the tunnel's
        /// `session_profile_name`\].
        profile: String => Option<String> = None, p::name;
        /// `session_id`: local session id \[`None`: random\].
        session_id: u32 => Option<u32> = None, p::number(1, u32::MAX.into());
        /// `peer_session_id`: the peer's session id, for static sessions \[`None`\].
        peer_session_id: u32 => Option<u32> = None, p::number(1, u32::MAX.into());
    }
}

params! {
    /// A `pseudowire profile` block as written.
    pub struct PseudowireParams;
    /// A pseudowire profile's settings with defaults applied.
    pub struct PseudowireSettings;
    (_p) {
        /// `interface_name`: a name or `%d` template \[`None`: the kernel's template\].
        interface_name: String => Option<String> = None, p::interface_name;
        /// `mtu` \[`None`: the interface's default\].
        mtu: u16 => Option<u16> = None, p::number(68, u16::MAX.into());
        /// `mac` (Ethernet pseudowires) \[`None`: random\].
        mac: MacAddr => Option<MacAddr> = None, p::mac;
        /// `local_ip` \[`None`\].
        local_ip: IpAddr => Option<IpAddr> = None, p::ip;
        /// `peer_ip` \[`None`\].
        peer_ip: IpAddr => Option<IpAddr> = None, p::ip;
        /// `netmask` \[`None`\].
        netmask: IpAddr => Option<IpAddr> = None, p::netmask;
        /// `bridge`: bridge to attach an Ethernet pseudowire to \[`None`\].
        bridge: String => Option<String> = None, p::fixed_interface_name;
        /// `use_pppd`: PPP sessions run pppd (`pppd_path`, `pppd_options`) instead of the
        /// daemon's own PPP (`ppp_profile_name`) \[false\].
        use_pppd: bool => bool = false, p::boolean;
        /// `ppp_profile_name`: the `ppp profile` of the native PPP of PPP sessions
        /// \[`default`\].
        ppp_profile_name: String => String = default_name(), p::name;
        /// `pppd_path`, with `use_pppd` \[`/usr/sbin/pppd`\].
        pppd_path: PathBuf => PathBuf = PathBuf::from("/usr/sbin/pppd"), p::path;
        /// `pppd_options`: extra arguments for pppd, with `use_pppd` \[none\].
        pppd_options: Vec<String> => Vec<String> = Vec::new(), p::strings;
    }
}

/// A named profile of one kind, as written in the file (or built in).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Profile<P> {
    /// The profile's name.
    pub name: String,
    /// The parameters written in its block (empty for the built-in `default`).
    pub params: P,
    /// Whether this is the built-in `default` profile (the file did not define one).
    pub builtin: bool,
}

/// A `peer profile`.
pub type PeerProfile = Profile<PeerParams>;
/// A `tunnel profile`.
pub type TunnelProfile = Profile<TunnelParams>;
/// A `session profile`.
pub type SessionProfile = Profile<SessionParams>;
/// A `pseudowire profile`.
pub type PseudowireProfile = Profile<PseudowireParams>;
/// A `ppp profile`.
pub type PppProfile = Profile<crate::ppp::PppParams>;

/// A `tunnel "name"` block: a tunnel the daemon brings up itself.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TunnelInstance {
    /// The tunnel's name.
    pub name: String,
    /// Instance-only parameters (`profile`, `peer`, ids, `persist`).
    pub instance: TunnelInstanceParams,
    /// Tunnel-profile parameters set in the block; they override the profile's.
    pub params: TunnelParams,
}

/// A `session "name"` block: a session the daemon brings up itself in a configured tunnel.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionInstance {
    /// The session's name.
    pub name: String,
    /// Instance-only parameters (`tunnel`, `profile`, ids).
    pub instance: SessionInstanceParams,
    /// Session-profile parameters set in the block; they override the profile's.
    pub params: SessionParams,
}

/// The effective settings of a tunnel instance: its block over its profile over the file's
/// `default` tunnel profile over the built-in defaults.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ResolvedTunnel {
    /// The tunnel's name.
    pub name: String,
    /// The tunnel profile it inherits from.
    pub profile: String,
    /// Where to connect, never empty: the peers an attempt to open the tunnel may go to, in
    /// the order they are tried (see [`ResolvedTunnel::peer`]); with `encap udp` each port
    /// is filled in (1701 by default).
    pub peers: Vec<Endpoint>,
    /// Re-establish after failure.
    pub persist: bool,
    /// Local tunnel id, if fixed.
    pub tunnel_id: Option<u32>,
    /// Peer tunnel id of a static tunnel.
    pub peer_tunnel_id: Option<u32>,
    /// `config_id`, if set.
    pub config_id: Option<u32>,
    /// The tunnel settings.
    pub settings: TunnelSettings,
}

impl ResolvedTunnel {
    /// The first peer: the one tried first, and a static tunnel's only one.
    pub fn peer(&self) -> &Endpoint {
        &self.peers[0]
    }

    /// Whether this is a static L2TPv3 tunnel (no control channel).
    pub fn is_static(&self) -> bool {
        self.peer_tunnel_id.is_some()
    }
}

/// The effective settings of a session instance: its block over its profile over the file's
/// `default` session profile over the built-in defaults, plus its pseudowire profile.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ResolvedSession {
    /// The session's name.
    pub name: String,
    /// The parent tunnel instance.
    pub tunnel: String,
    /// The session profile it inherits from.
    pub profile: String,
    /// Local session id, if fixed.
    pub session_id: Option<u32>,
    /// Peer session id of a static session.
    pub peer_session_id: Option<u32>,
    /// The session settings.
    pub settings: SessionSettings,
    /// The pseudowire profile in effect: the session's `pseudowire_profile_name`, else its
    /// tunnel's.
    pub pseudowire_profile: String,
    /// That pseudowire profile's settings.
    pub pseudowire: PseudowireSettings,
    /// The settings of the native PPP of a PPP session (the PPP profile its pseudowire profile
    /// names); `None` for other pseudowires and with `use_pppd`.
    pub ppp: Option<crate::ppp::PppSettings>,
}
