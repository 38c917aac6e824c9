//! Tunnel parameters: a tunnel profile as the daemon resolves it.

use super::*;

/// Which protocol versions a tunnel speaks.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum VersionMode {
    /// L2TPv2 only (RFC 2661).
    V2,
    /// L2TPv3 only (RFC 3931).
    V3,
    /// L2TPv3, falling back to L2TPv2 when the peer does not speak it (RFC 3931 §4.7.3). Over IP
    /// this is plain L2TPv3, since L2TPv2 cannot run over IP.
    #[default]
    V3WithFallback,
}

/// How the peer is authenticated.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum AuthMode {
    /// No authentication (unless the peer asks for it and a secret is configured).
    #[default]
    None,
    /// Check the peer's Host Name against [`TunnelConfig::peer_host_name`].
    Simple,
    /// Challenge/Response (L2TPv2) or Message Digest (L2TPv3) with the shared secret, required.
    Challenge,
}

/// The parameters of one tunnel: a tunnel profile as the daemon resolves it.
#[derive(Clone, Debug)]
pub struct TunnelConfig {
    /// Protocol version(s). Default: L2TPv3 with fallback.
    pub version: VersionMode,
    /// UDP or IP. Default UDP.
    pub encap: Encapsulation,
    /// Our Host Name AVP (must not be empty).
    pub host_name: Vec<u8>,
    /// Our Router ID AVP (L2TPv3).
    pub router_id: u32,
    /// The shared secret for authentication and hiding. `Debug` redacts it.
    pub secret: Secret,
    /// How the peer is authenticated.
    pub auth_mode: AuthMode,
    /// The Host Name the peer must present under [`AuthMode::Simple`] or
    /// [`AuthMode::Challenge`], if set.
    pub peer_host_name: Option<Vec<u8>>,
    /// Hide sensitive AVPs (RFC 2661 §4.3, RFC 3931 §5.3); needs `secret`.
    pub hide_avps: bool,
    /// The hash of the Message Digest AVPs we send (L2TPv3 with a secret, RFC 3931 §5.4.1).
    /// Received digests are checked with the hash their Digest Type names. Default HMAC-MD5,
    /// which every implementation must support.
    pub digest_type: DigestType,
    /// Send HELLO after this much silence; zero disables. Default 60 s.
    pub hello_timeout: Duration,
    /// Close the tunnel (StopCCN result 1) when it has had no session for this long after
    /// its last session closed; zero keeps it. Default zero.
    pub idle_timeout: Duration,
    /// First retransmission interval. Default 1 s.
    pub retry_timeout: Duration,
    /// Retransmissions before the peer is declared unreachable. Default 5.
    pub max_retries: u16,
    /// Receive window we advertise. Default 10.
    pub rx_window: NonZeroU16,
    /// Most messages we keep outstanding (clipped to the peer's window). Default 10.
    pub tx_window: NonZeroU16,
    /// Framing Capabilities AVP (L2TPv2). Default sync and async.
    pub framing_caps: u32,
    /// Bearer Capabilities AVP (L2TPv2). Default digital and analog.
    pub bearer_caps: u32,
    /// Pseudowire Capabilities List AVP (L2TPv3). Default Ethernet, Ethernet VLAN, PPP.
    pub pseudowire_caps: Vec<u16>,
    /// Send a Tie Breaker AVP in our SCCRQ. Default true.
    pub use_tiebreaker: bool,
    /// Most sessions in the tunnel; 0: no limit.
    pub max_sessions: u32,
    /// The control connection must be established within this time. Default 120 s.
    pub establish_timeout: Duration,
    /// UDP checksums on data packets (passed to the data plane). Default true.
    pub udp_checksums: bool,
    /// Our tunnel id, when the configuration fixes it (a tunnel that opens while another
    /// holds it is refused). Default: a random free one.
    pub local_id: Option<u32>,
}

impl Default for TunnelConfig {
    fn default() -> Self {
        Self {
            version: VersionMode::default(),
            encap: Encapsulation::Udp,
            host_name: b"l2tpd".to_vec(),
            router_id: 0,
            secret: Secret::default(),
            auth_mode: AuthMode::None,
            peer_host_name: None,
            hide_avps: false,
            digest_type: DigestType::HmacMd5,
            hello_timeout: Duration::from_secs(60),
            idle_timeout: Duration::ZERO,
            retry_timeout: Duration::from_secs(1),
            max_retries: 5,
            rx_window: NonZeroU16::new(10).unwrap_or(NonZeroU16::MIN),
            tx_window: NonZeroU16::new(10).unwrap_or(NonZeroU16::MIN),
            framing_caps: framing::SYNC | framing::ASYNC,
            bearer_caps: bearer::DIGITAL | bearer::ANALOG,
            pseudowire_caps: vec![pw_type::ETH, pw_type::ETH_VLAN, pw_type::PPP],
            use_tiebreaker: true,
            max_sessions: 0,
            establish_timeout: Duration::from_secs(120),
            udp_checksums: true,
            local_id: None,
        }
    }
}

impl TunnelConfig {
    /// The reliable-delivery parameters this config implies.
    pub fn reliable_config(&self) -> reliable::Config {
        reliable::Config {
            receive_window: self.rx_window,
            retransmit_timeout: self.retry_timeout,
            max_retransmit_timeout: Duration::from_secs(8).max(self.retry_timeout),
            max_retries: self.max_retries,
            ..reliable::Config::default()
        }
    }

    pub(crate) fn check(&self) -> Result<(), &'static str> {
        if self.host_name.is_empty() {
            return Err("host name is empty");
        }
        if self.version == VersionMode::V2 && self.encap == Encapsulation::Ip {
            return Err("L2TPv2 cannot run over IP");
        }
        if self.hide_avps && self.secret.is_empty() {
            return Err("hiding AVPs needs a secret");
        }
        if self.auth_mode == AuthMode::Challenge && self.secret.is_empty() {
            return Err("challenge authentication needs a secret");
        }
        Ok(())
    }
}
