//! The proxy LCP and authentication AVPs of RFC 2661 §4.4.5: what a LAC that negotiated LCP
//! and authenticated the caller itself tells the LNS in its ICCN, so that the LNS's PPP can
//! carry on without negotiating again.
//!
//! The endpoint only carries the values: a LAC's [`SessionConfig`](super::SessionConfig)
//! puts them in its ICCN, an LNS hands those of the ICCN it receives to its host with the
//! session's parameters. Whether to use them is the PPP's business.

use std::fmt;

use crate::wire::avp::Avp;
use crate::wire::header::Version;
use crate::wire::message::Message;

/// The proxy AVPs of one ICCN. The three CONFREQ values are option lists: "the body of the
/// ... CONFREQ ..., starting at the first option" (RFC 2661 §4.4.5), not whole LCP packets.
///
/// `Debug` shows no `response` (a PAP password in the clear for type 3).
#[derive(Clone, Default, Eq, PartialEq)]
pub struct ProxyAvps {
    /// Initial Received LCP CONFREQ (26): the options of the caller's first request.
    pub initial_received_lcp_confreq: Option<Vec<u8>>,
    /// Last Sent LCP CONFREQ (27): the options of the LAC's last request to the caller.
    pub last_sent_lcp_confreq: Option<Vec<u8>>,
    /// Last Received LCP CONFREQ (28): the options of the caller's last request.
    pub last_received_lcp_confreq: Option<Vec<u8>>,
    /// Proxy Authen Type (29): 1 textual, 2 CHAP, 3 PAP, 4 none, 5 MS-CHAPv1.
    pub authen_type: Option<u16>,
    /// Proxy Authen Name (30).
    pub authen_name: Option<Vec<u8>>,
    /// Proxy Authen Challenge (31).
    pub authen_challenge: Option<Vec<u8>>,
    /// Proxy Authen ID (32): the CHAP Challenge's or PAP Authenticate-Request's Identifier
    /// (the AVP's most significant octet is reserved).
    pub authen_id: Option<u16>,
    /// Proxy Authen Response (33): the CHAP Response value, or the PAP password.
    pub authen_response: Option<Vec<u8>>,
}

/// The values of Proxy Authen Type (RFC 2661 §4.4.5, §10.5).
pub mod authen_type {
    /// Textual username/password exchange.
    pub const TEXTUAL: u16 = 1;
    /// PPP CHAP.
    pub const CHAP: u16 = 2;
    /// PPP PAP.
    pub const PAP: u16 = 3;
    /// No authentication.
    pub const NONE: u16 = 4;
    /// Microsoft CHAP version 1.
    pub const MSCHAP_V1: u16 = 5;
}

impl ProxyAvps {
    /// The proxy AVPs of `msg`, if it carries any.
    pub fn from_message(msg: &Message) -> Option<Self> {
        let p = Self {
            initial_received_lcp_confreq: msg.initial_received_lcp_confreq().cloned(),
            last_sent_lcp_confreq: msg.last_sent_lcp_confreq().cloned(),
            last_received_lcp_confreq: msg.last_received_lcp_confreq().cloned(),
            authen_type: msg.proxy_authen_type().copied(),
            authen_name: msg.proxy_authen_name().cloned(),
            authen_challenge: msg.proxy_authen_challenge().cloned(),
            authen_id: msg.proxy_authen_id().copied(),
            authen_response: msg.proxy_authen_response().cloned(),
        };
        (p != Self::default()).then_some(p)
    }

    /// Appends the AVPs that are set to `msg` (M bit clear, RFC 2661 §4.4.5).
    pub fn push(&self, msg: &mut Message, version: Version) {
        let v = |o: &Option<Vec<u8>>| o.clone();
        if let Some(x) = v(&self.initial_received_lcp_confreq) {
            msg.push(Avp::InitialReceivedLcpConfreq(x), version);
        }
        if let Some(x) = v(&self.last_sent_lcp_confreq) {
            msg.push(Avp::LastSentLcpConfreq(x), version);
        }
        if let Some(x) = v(&self.last_received_lcp_confreq) {
            msg.push(Avp::LastReceivedLcpConfreq(x), version);
        }
        if let Some(t) = self.authen_type {
            msg.push(Avp::ProxyAuthenType(t), version);
        }
        if let Some(x) = v(&self.authen_name) {
            msg.push(Avp::ProxyAuthenName(x), version);
        }
        if let Some(x) = v(&self.authen_challenge) {
            msg.push(Avp::ProxyAuthenChallenge(x), version);
        }
        if let Some(id) = self.authen_id {
            msg.push(Avp::ProxyAuthenId(id), version);
        }
        if let Some(x) = v(&self.authen_response) {
            msg.push(Avp::ProxyAuthenResponse(x), version);
        }
    }
}

impl fmt::Debug for ProxyAvps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyAvps")
            .field(
                "initial_received_lcp_confreq",
                &self.initial_received_lcp_confreq,
            )
            .field("last_sent_lcp_confreq", &self.last_sent_lcp_confreq)
            .field("last_received_lcp_confreq", &self.last_received_lcp_confreq)
            .field("authen_type", &self.authen_type)
            .field("authen_name", &self.authen_name)
            .field("authen_challenge", &self.authen_challenge)
            .field("authen_id", &self.authen_id)
            .field(
                "authen_response",
                &self.authen_response.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::MessageType;

    #[test]
    fn the_avps_go_out_and_come_back_and_debug_hides_the_response() {
        let p = ProxyAvps {
            last_sent_lcp_confreq: Some(vec![3, 5, 0xc2, 0x23, 5]),
            last_received_lcp_confreq: Some(vec![5, 6, 1, 2, 3, 4]),
            authen_type: Some(authen_type::PAP),
            authen_name: Some(b"alice".to_vec()),
            authen_id: Some(7),
            authen_response: Some(b"s3cret".to_vec()),
            ..ProxyAvps::default()
        };
        let mut msg = Message::new(MessageType::Iccn);
        p.push(&mut msg, Version::V2);
        assert_eq!(ProxyAvps::from_message(&msg), Some(p.clone()));
        assert!(msg.avps.iter().all(|a| !a.mandatory), "M bit clear");
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("115, 51"),
            "{shown}"
        );
        assert_eq!(
            ProxyAvps::from_message(&Message::new(MessageType::Iccn)),
            None
        );
    }
}
