//! What a link negotiates and how patiently: [`LinkConfig`], shared by every link of a profile
//! through an `Arc`, and the per-link [`NetworkParams`] the host sets (the address it picked
//! from a pool or got from RADIUS).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::auth::{AuthMethod, Password};

/// The settings of a link. One value serves every link of a profile (`Arc<LinkConfig>`).
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Restart timer and counters of LCP (RFC 1661 §4.6).
    pub retries: Retries,
    /// Restart timer and counters of the NCPs, IPCP and IPv6CP (each runs the automaton of
    /// RFC 1661 §4 with its own counters, RFC 1332 §2, RFC 5072 §3).
    pub ncp_retries: Retries,
    /// Retransmission and re-challenge of our CHAP Challenges (CHAP-MD5 and MS-CHAPv2 as
    /// authenticator).
    pub chap: ChapTiming,
    /// Retransmission of our PAP Authenticate-Requests (as peer) and the wait for the peer's
    /// (as authenticator).
    pub pap: PapTiming,
    /// LCP options.
    pub lcp: LcpConfig,
    /// Methods to authenticate the peer with, in order of preference; empty: the peer is not
    /// authenticated. The first is requested; a peer's Nak toward another is followed if it is
    /// in the list (RFC 1661 §6.2).
    pub authenticate_peer: Vec<AuthMethod>,
    /// Our name in CHAP Challenges (RFC 1994 §4.1).
    pub name: Vec<u8>,
    /// The user name and password to authenticate ourselves with when the peer asks; without
    /// them, a request to authenticate is rejected.
    pub credentials: Option<Credentials>,
    /// The methods we accept to authenticate ourselves with, in order of preference.
    pub accept_auth: Vec<AuthMethod>,
    /// Time allowed from LCP Opened until authentication is done in both directions (the
    /// host's verdict included).
    pub auth_timeout: Duration,
    /// IPCP (RFC 1332); `None`: IPv4 is not negotiated and IPCP is Protocol-Rejected.
    pub ipv4: Option<Ipv4Config>,
    /// IPv6CP (RFC 5072); `None`: IPv6 is not negotiated and IPv6CP is Protocol-Rejected.
    pub ipv6: Option<Ipv6Config>,
    /// Interval of LCP Echo-Requests once LCP is Opened; `None`: none are sent.
    pub echo_interval: Option<Duration>,
    /// Echo-Requests left unanswered in a row before the link is closed.
    pub echo_failures: u8,
    /// Skip an Echo-Request when data came from the peer during the interval
    /// (see `Link::note_activity`).
    pub echo_adaptive: bool,
    /// Close the link after this long without data either way (see `Link::note_activity`).
    pub idle_timeout: Option<Duration>,
    /// Close the link this long after the network layer first came up.
    pub session_timeout: Option<Duration>,
    /// Renegotiations the peer may start in [`RENEGOTIATION_WINDOW`] (LCP, IPCP and IPv6CP
    /// leaving Opened on its Configure-Request, -Ack, -Nak or Terminate-Request); one more
    /// closes the link with `DownReason::Renegotiations`. 0: no limit.
    pub max_renegotiations: u16,
}

/// The period [`LinkConfig::max_renegotiations`] counts over.
pub const RENEGOTIATION_WINDOW: Duration = Duration::from_secs(60);

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            retries: Retries::default(),
            ncp_retries: Retries::default(),
            chap: ChapTiming::default(),
            pap: PapTiming::default(),
            lcp: LcpConfig::default(),
            authenticate_peer: Vec::new(),
            name: b"l2tpd".to_vec(),
            credentials: None,
            accept_auth: AuthMethod::ALL.to_vec(),
            auth_timeout: Duration::from_secs(30),
            ipv4: Some(Ipv4Config::default()),
            ipv6: None,
            echo_interval: Some(Duration::from_secs(30)),
            echo_failures: 3,
            echo_adaptive: false,
            idle_timeout: None,
            session_timeout: None,
            max_renegotiations: 10,
        }
    }
}

/// The Restart timer and counters of RFC 1661 §4.6.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Retries {
    /// The Restart timer: how long to wait for an answer to a Configure-Request or a
    /// Terminate-Request (LCP's also times the repetition of our CHAP Response as peer).
    /// Default 3 s.
    pub restart: Duration,
    /// Configure-Requests sent without an answer before giving up. Default 10.
    pub max_configure: u8,
    /// Terminate-Requests sent without an answer before giving up. Default 2.
    pub max_terminate: u8,
    /// Configure-Naks sent without an Ack before Naks turn into Rejects, and Naks received
    /// without convergence before giving up. Default 5.
    pub max_failure: u8,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            restart: Duration::from_secs(3),
            max_configure: 10,
            max_terminate: 2,
            max_failure: 5,
        }
    }
}

/// CHAP as authenticator (RFC 1994 §4.1, RFC 2759).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ChapTiming {
    /// How long to wait for the Response before the Challenge is sent again (with a new
    /// Identifier). Default 3 s.
    pub restart: Duration,
    /// Challenges sent without a Response before the link is closed
    /// ([`crate::DownReason::AuthTimeout`]). Default 10.
    pub max_challenges: u8,
    /// Once the network phase is reached, challenge the peer again this often (RFC 1994 §2:
    /// "at random intervals"; here a fixed one). The host judges each Response as the first
    /// ([`crate::Event::Authenticate`] during [`crate::Phase::Network`]); a rejected one
    /// closes the link with [`crate::DownReason::AuthFailed`]. `None` (the default): never.
    pub rechallenge: Option<Duration>,
}

impl Default for ChapTiming {
    fn default() -> Self {
        Self {
            restart: Duration::from_secs(3),
            max_challenges: 10,
            rechallenge: None,
        }
    }
}

/// PAP (RFC 1334 §2).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PapTiming {
    /// As peer: how long to wait for the Authenticate-Ack or -Nak before the
    /// Authenticate-Request is sent again (RFC 1334 §2.2.1). Default 3 s.
    pub restart: Duration,
    /// As peer: Authenticate-Requests sent without an answer before the link is closed
    /// ([`crate::DownReason::AuthTimeout`]). Default 10.
    pub max_requests: u8,
    /// As authenticator: how long to wait for the peer's first Authenticate-Request; `None`
    /// (the default): only [`LinkConfig::auth_timeout`] bounds it.
    pub timeout: Option<Duration>,
}

impl Default for PapTiming {
    fn default() -> Self {
        Self {
            restart: Duration::from_secs(3),
            max_requests: 10,
            timeout: None,
        }
    }
}

/// LCP options (RFC 1661 §6, RFC 1662 §7.1).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct LcpConfig {
    /// The MRU to request; 1500 (the default) is not requested (RFC 1661 §6.1).
    pub mru: u16,
    /// The smallest MRU the peer may ask for; below it the peer is Nak'ed with this value.
    pub min_peer_mru: u16,
    /// An ACCM to request (RFC 1662 §7.1); `None`: not requested. Over L2TP there is no
    /// async framing here: the value matters to the LAC's async link only (RFC 2661 §6.14).
    pub accm: Option<u32>,
    /// Acknowledge the peer's Protocol-Field-Compression and Address-and-Control-Field-
    /// Compression (RFC 1661 §6.5, §6.6): received frames are read in every form anyway.
    pub accept_compression: bool,
    /// Request a Magic-Number (RFC 1661 §6.4) for loop-back detection.
    pub magic: bool,
}

impl Default for LcpConfig {
    fn default() -> Self {
        Self {
            mru: 1500,
            min_peer_mru: 128,
            accm: None,
            accept_compression: true,
            magic: true,
        }
    }
}

/// Who we are when the peer authenticates us.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Credentials {
    /// The user name (PAP Peer-ID, CHAP Name).
    pub user: Vec<u8>,
    /// The password (redacted in `Debug`).
    pub password: Password,
}

/// IPCP settings (RFC 1332, RFC 1877).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Ipv4Config {
    /// Ask the peer for DNS servers (RFC 1877 §1.1, §1.3): primary and secondary.
    pub request_dns: bool,
    /// Ask the peer for NBNS servers (RFC 1877 §1.2, §1.4).
    pub request_nbns: bool,
    /// The addresses until the host sets others with `Link::set_network`.
    pub defaults: Ipv4Params,
}

/// IPv6CP settings (RFC 5072).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Ipv6Config {
    /// Interface identifiers until the host sets others with `Link::set_network`.
    pub defaults: Ipv6Params,
}

/// IPv4 addresses of one link.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Ipv4Params {
    /// Our address; `None`: ask the peer for one (request 0.0.0.0 and take its Nak).
    pub local: Option<Ipv4Addr>,
    /// The peer's address; a peer asking for another (or for 0.0.0.0) is Nak'ed with it.
    /// `None`: the peer keeps the non-zero address it asks for.
    pub peer: Option<Ipv4Addr>,
    /// DNS servers given to a peer that asks (RFC 1877): primary, secondary. A peer asking
    /// for one we do not have is rejected.
    pub dns: [Option<Ipv4Addr>; 2],
    /// NBNS servers given to a peer that asks (RFC 1877).
    pub nbns: [Option<Ipv4Addr>; 2],
}

/// IPv6 interface identifiers of one link (RFC 5072 §4.1).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Ipv6Params {
    /// Our interface identifier; `None`: a random one (with the "u" bit clear).
    pub local: Option<InterfaceId>,
    /// The identifier to give the peer (e.g. RADIUS Framed-Interface-Id); a peer asking for
    /// another is Nak'ed with it. `None`: the peer keeps its own unless it collides with ours.
    pub peer: Option<InterfaceId>,
}

/// The network parameters of one link, set by the host (`Link::set_network`), e.g. after
/// authentication, from an address pool or RADIUS.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct NetworkParams {
    /// IPv4 addresses (used if IPCP is enabled).
    pub ipv4: Ipv4Params,
    /// IPv6 interface identifiers (used if IPv6CP is enabled).
    pub ipv6: Ipv6Params,
}

/// A 64-bit IPv6 interface identifier (RFC 5072 §4.1).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct InterfaceId(pub [u8; 8]);

impl InterfaceId {
    /// The identifier as a number.
    pub fn to_u64(self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The identifier of a number.
    pub fn from_u64(v: u64) -> Self {
        Self(v.to_be_bytes())
    }

    /// The link-local address `fe80::/64` with this identifier (RFC 5072 §5).
    pub fn link_local(self) -> Ipv6Addr {
        let mut octets = [0u8; 16];
        octets[0] = 0xfe;
        octets[1] = 0x80;
        octets[8..].copy_from_slice(&self.0);
        Ipv6Addr::from(octets)
    }
}
