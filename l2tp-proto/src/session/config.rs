//! Session parameters: a session profile as the daemon resolves it, and the call type.

use super::proxy::ProxyAvps;
use std::time::Duration;

use crate::wire::access_line::AccessLine;
use crate::wire::avp::types::pw_type;
use crate::wire::header::{Cookie, L2SpecificSublayer};

/// Whether a call is incoming (ICRQ) or outgoing (OCRQ), from the point of view of the LCCE
/// that sends the request.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum CallType {
    /// ICRQ/ICRP/ICCN. In L2TPv2 the LAC places it ("laic"), the LNS answers ("lnic").
    Incoming,
    /// OCRQ/OCRP/OCCN. In L2TPv2 the LNS places it ("lnoc"), the LAC answers ("laoc").
    Outgoing,
}

/// The Tx Connect Speed an L2TPv2 call tells when none is configured, in bits per second.
pub const DEFAULT_TX_CONNECT_SPEED: u32 = 100_000_000;

/// Data sequencing we require from the peer (RFC 3931 §5.4.4 Data Sequencing AVP).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum DataSequencing {
    /// No sequencing.
    #[default]
    None,
    /// Sequence non-IP data packets.
    NonIp,
    /// Sequence all data packets.
    All,
}

impl DataSequencing {
    pub(super) fn value(self) -> u16 {
        match self {
            Self::None => 0,
            Self::NonIp => 1,
            Self::All => 2,
        }
    }
}

/// The parameters of a session: a session profile as the daemon resolves it.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Pseudowire type (L2TPv3). Default PPP. L2TPv2 sessions are always PPP.
    pub pw_type: u16,
    /// L2-Specific Sublayer (L2TPv3). Default: the default sublayer.
    pub l2spec: L2SpecificSublayer,
    /// Length of the cookie we assign, 0, 4 or 8 (L2TPv3). Default 0.
    pub cookie_length: u8,
    /// A fixed cookie to assign instead of a random one.
    pub cookie: Option<Cookie>,
    /// The peer's cookie, for sessions whose peer does not send an Assigned Cookie AVP.
    pub peer_cookie: Option<Cookie>,
    /// Sequencing we require on received data.
    pub data_sequencing: DataSequencing,
    /// Remote End ID AVP (L2TPv3).
    pub remote_end_id: Vec<u8>,
    /// Calling Number AVP.
    pub calling_number: Vec<u8>,
    /// Called Number AVP.
    pub called_number: Vec<u8>,
    /// Sub-Address AVP.
    pub sub_address: Vec<u8>,
    /// Private Group ID AVP (RFC 2661 §4.4.5), sent in the ICCN of a call we place as LAC;
    /// empty: not sent.
    pub private_group_id: Vec<u8>,
    /// Access Line Information sent in the ICRQ of a call we place as LAC (RFC 5515 §5);
    /// `None`: none sent.
    pub access_line: Option<Box<AccessLine>>,
    /// Proxy LCP and authentication AVPs (RFC 2661 §4.4.5) sent in the ICCN of an L2TPv2
    /// call we place as LAC; `None`: not sent.
    pub proxy: Option<Box<ProxyAvps>>,
    /// Tx Connect Speed, in bits per second; `None`: not configured. An L2TPv2 ICCN or OCRQ
    /// must tell one (RFC 2661 §6.7, §6.10) and then tells [`DEFAULT_TX_CONNECT_SPEED`]; an
    /// L2TPv3 ICCN tells the speeds (Tx and Rx Connect Speed BPS, RFC 3931 §5.4.4, §6.8 "MAY be
    /// present") only when one of them is configured, since a made-up speed would be wrong
    /// for a pseudowire that is no point-to-point link.
    pub tx_connect_speed: Option<u32>,
    /// Rx Connect Speed, in bits per second (0: not sent).
    pub rx_connect_speed: u32,
    /// Connect Speed Update Enable (RFC 5515 §6.2) in the ICRQ of a call we place as LAC: we
    /// tell the LNS of speed changes with CSUNs and answer its CSURQs for the call.
    pub connect_speed_updates: bool,
    /// Framing Type AVP (L2TPv2). Default sync | async.
    pub framing_type: u32,
    /// Bearer Type AVP (L2TPv2). Default 0 (none given).
    pub bearer_type: u32,
    /// Interface name hint for the data plane.
    pub interface_name: Option<String>,
    /// The session must be established within this time. Default 120 s.
    pub establish_timeout: Duration,
    /// Our session id, when the configuration fixes it (a session placed while another
    /// holds it is refused). Default: a random free one.
    pub local_id: Option<u32>,
}

impl SessionConfig {
    /// The Tx Connect Speed a call tells where one must be told: the configured one, else
    /// [`DEFAULT_TX_CONNECT_SPEED`].
    pub fn tx_speed(&self) -> u32 {
        self.tx_connect_speed.unwrap_or(DEFAULT_TX_CONNECT_SPEED)
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            pw_type: pw_type::PPP,
            l2spec: L2SpecificSublayer::Default,
            cookie_length: 0,
            cookie: None,
            peer_cookie: None,
            data_sequencing: DataSequencing::None,
            remote_end_id: Vec::new(),
            calling_number: Vec::new(),
            called_number: Vec::new(),
            sub_address: Vec::new(),
            private_group_id: Vec::new(),
            access_line: None,
            proxy: None,
            tx_connect_speed: None,
            rx_connect_speed: 0,
            connect_speed_updates: false,
            framing_type: 0x3,
            bearer_type: 0,
            interface_name: None,
            establish_timeout: Duration::from_secs(120),
            local_id: None,
        }
    }
}
