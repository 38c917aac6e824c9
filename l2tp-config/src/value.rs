//! Typed parameter values: addresses, secrets, byte strings and the keyword enums.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The UDP port of L2TP (RFC 2661 §8.1, RFC 3931 §4.1.2.2).
pub const L2TP_PORT: u16 = 1701;

/// A host, as written: an IP literal or an unresolved DNS name (the daemon resolves names).
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name, not yet resolved.
    Name(String),
}

/// An `ip[:port]` value: `192.0.2.1`, `192.0.2.1:1701`, `2001:db8::1`, `[2001:db8::1]:1701`,
/// `lns.example.net` or `lns.example.net:1701`.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub struct Endpoint {
    /// The address or name.
    pub host: Host,
    /// The port, if one was written.
    pub port: Option<u16>,
}

impl Endpoint {
    /// The port, or the L2TP port 1701 when none was written.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(L2TP_PORT)
    }

    /// The socket address when the host is an IP literal (port defaulting to 1701).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match &self.host {
            Host::Ip(ip) => Some(SocketAddr::new(*ip, self.port_or_default())),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (Host::Ip(IpAddr::V6(ip)), Some(port)) => write!(f, "[{ip}]:{port}"),
            (Host::Ip(ip), Some(port)) => write!(f, "{ip}:{port}"),
            (Host::Ip(ip), None) => write!(f, "{ip}"),
            (Host::Name(name), Some(port)) => write!(f, "{name}:{port}"),
            (Host::Name(name), None) => f.write_str(name),
        }
    }
}

/// An `ip` or `ip/prefix` value, as `peer_ipaddr` takes.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct IpPrefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length, if written with `/len`.
    pub len: Option<u8>,
}

/// A MAC address, `11:22:ef:01:a3:b9`.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// A shared secret, given as a string or as `hex:` bytes. Its `Debug` output is redacted so
/// that it never reaches a log.
#[derive(Clone, Eq, PartialEq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret with the given bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The secret's bytes (the UTF-8 of a string secret).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A value that may be given as text or as `hex:` bytes (e.g. `remote_end_id`).
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub enum TextOrBytes {
    /// Written as a string.
    Text(String),
    /// Written as `hex:...`.
    Bytes(Vec<u8>),
}

impl TextOrBytes {
    /// The bytes of the value.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Bytes(b) => b,
        }
    }
}

/// A keyword-valued enum: its spellings in the config file.
pub(crate) trait Keyword: Sized + Copy + 'static {
    /// Every accepted spelling with its value.
    const KEYWORDS: &'static [(&'static str, Self)];

    /// The spelling of `self` in the config file.
    fn keyword(self) -> &'static str;
}

macro_rules! keyword_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $kw:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl Keyword for $name {
            const KEYWORDS: &'static [(&'static str, Self)] = &[$(($kw, Self::$variant),)*];

            fn keyword(self) -> &'static str {
                match self {
                    $(Self::$variant => $kw,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.keyword())
            }
        }
    };
}

keyword_enum! {
    /// `auth_source`: who checks the credentials of the peers of a ppp profile.
    AuthSource {
        /// `local`: the local users (`user` blocks, `users_file`).
        Local = "local",
        /// `radius`: the RADIUS servers; no answer from any of them refuses the peer.
        Radius = "radius",
        /// `radius_then_local`: the RADIUS servers, and the local users when none of them
        /// answers (a RADIUS rejection stands).
        RadiusThenLocal = "radius_then_local",
    }
}

keyword_enum! {
    /// `relogin`: what a ppp profile does when a user logs in again and needs the fixed
    /// address a session of the same user holds.
    Relogin {
        /// `replace`: the older session is disconnected and the address goes to the new one.
        Replace = "replace",
        /// `refuse`: the new session is refused while the older one holds the address.
        Refuse = "refuse",
    }
}

keyword_enum! {
    /// `log_level`.
    LogLevel {
        /// `critical`
        Critical = "critical",
        /// `error`
        Error = "error",
        /// `warning`
        Warning = "warning",
        /// `notice`
        Notice = "notice",
        /// `info`
        Info = "info",
        /// `debug`
        Debug = "debug",
    }
}

keyword_enum! {
    /// `dataplane`: how session data is carried.
    Dataplane {
        /// `auto`: the kernel when it has L2TP support, else userspace.
        Auto = "auto",
        /// `kernel`: the Linux L2TP drivers.
        Kernel = "kernel",
        /// `userspace`: TUN/TAP devices fed by the daemon.
        Userspace = "userspace",
        /// `none`: control plane only.
        None = "none",
    }
}

keyword_enum! {
    /// `metrics_detail`: which series the metrics endpoint gives per tunnel and per session.
    MetricsDetail {
        /// `none`: totals only; no label names a tunnel or a session.
        None = "none",
        /// `tunnels`: a few series per tunnel too.
        Tunnels = "tunnels",
        /// `sessions`: a few series per tunnel and per session too.
        Sessions = "sessions",
    }
}

keyword_enum! {
    /// `lac_lns`: which L2TPv2 roles a peer may take with us.
    LacLns {
        /// `lac`
        Lac = "lac",
        /// `lns`
        Lns = "lns",
        /// `both`
        Both = "both",
    }
}

keyword_enum! {
    /// `version`: the L2TP version of a tunnel.
    L2tpVersion {
        /// L2TPv2, RFC 2661.
        V2 = "2",
        /// L2TPv3, RFC 3931.
        V3 = "3",
    }
}

keyword_enum! {
    /// `encap`: the transport of a tunnel.
    Encap {
        /// UDP (port 1701 by default).
        Udp = "udp",
        /// L2TPv3 directly over IP (protocol 115).
        Ip = "ip",
    }
}

keyword_enum! {
    /// `auth_mode`: how a tunnel's peer is authenticated.
    AuthMode {
        /// No authentication.
        None = "none",
        /// Check the peer's host name only.
        Simple = "simple",
        /// Challenge/response (L2TPv2) or message digest (L2TPv3) with the shared secret.
        Challenge = "challenge",
    }
}

keyword_enum! {
    /// `digest_type`: the hash of the L2TPv3 Message Digest AVP we send (RFC 3931 §5.4.1).
    DigestType {
        /// HMAC-MD5 (Digest Type 0), which every L2TPv3 implementation supports.
        HmacMd5 = "hmac_md5",
        /// HMAC-SHA-1 (Digest Type 1).
        HmacSha1 = "hmac_sha1",
    }
}

keyword_enum! {
    /// One entry of `framing_caps` or a session's `framing_type`.
    Framing {
        /// `sync`
        Sync = "sync",
        /// `async`
        Async = "async",
        /// `any` (both)
        Any = "any",
    }
}

keyword_enum! {
    /// One entry of `bearer_caps` or a session's `bearer_type`.
    Bearer {
        /// `digital`
        Digital = "digital",
        /// `analog`
        Analog = "analog",
        /// `any` (both)
        Any = "any",
    }
}

keyword_enum! {
    /// `l2spec_type`: the L2-Specific Sublayer (RFC 3931 §4.6).
    L2specType {
        /// No sublayer.
        None = "none",
        /// The Default L2-Specific Sublayer.
        Default = "default",
    }
}

keyword_enum! {
    /// `data_sequencing`: which data packets carry sequence numbers.
    DataSequencing {
        /// None.
        None = "none",
        /// Non-IP packets only.
        NonIp = "non_ip",
        /// All packets.
        All = "all",
    }
}

keyword_enum! {
    /// `session_type` (L2TPv2): LAC/LNS × incoming/outgoing call.
    SessionType {
        /// LAC, incoming call.
        Laic = "laic",
        /// LAC, outgoing call.
        Laoc = "laoc",
        /// LNS, incoming call.
        Lnic = "lnic",
        /// LNS, outgoing call.
        Lnoc = "lnoc",
    }
}

/// `pseudowire_type`: the pseudowire a session carries (IANA L2TPv3 pseudowire types).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum PseudowireType {
    /// `ppp` (type 7).
    Ppp,
    /// `eth`, Ethernet port (type 5).
    Eth,
    /// `eth_vlan`, Ethernet VLAN (type 4).
    EthVlan,
    /// Any other type, given as a number.
    Other(u16),
}

impl PseudowireType {
    /// The IANA pseudowire type number.
    pub fn number(self) -> u16 {
        match self {
            Self::Ppp => 0x0007,
            Self::Eth => 0x0005,
            Self::EthVlan => 0x0004,
            Self::Other(n) => n,
        }
    }

    /// The type with number `n`, named when this crate knows it.
    pub fn from_number(n: u16) -> Self {
        match n {
            0x0007 => Self::Ppp,
            0x0005 => Self::Eth,
            0x0004 => Self::EthVlan,
            n => Self::Other(n),
        }
    }
}

impl fmt::Display for PseudowireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ppp => f.write_str("ppp"),
            Self::Eth => f.write_str("eth"),
            Self::EthVlan => f.write_str("eth_vlan"),
            Self::Other(n) => write!(f, "{n}"),
        }
    }
}

/// A set of framing capabilities (`framing_caps`).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct FramingCaps {
    /// Synchronous framing.
    pub sync: bool,
    /// Asynchronous framing.
    pub async_: bool,
}

/// A set of bearer capabilities (`bearer_caps`).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct BearerCaps {
    /// Digital access.
    pub digital: bool,
    /// Analog access.
    pub analog: bool,
}
