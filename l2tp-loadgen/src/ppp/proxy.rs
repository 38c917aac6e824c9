//! `--proxy`: the load generator plays a LAC that answered the call, negotiated LCP with the
//! caller and authenticated it before placing the call to the LNS (RFC 2661 §4.4.5). Its
//! ICCN then carries what that negotiation agreed on and what the caller answered: Initial
//! Received, Last Sent and Last Received LCP CONFREQ, and Proxy Authen Type, Name, Challenge
//! (CHAP), ID and Response. Each session's PPP client starts from the same point: LCP
//! Opened on those options, its CHAP Response or PAP Authenticate-Request given, waiting for
//! the LNS's Success (or Ack) and IPCP.
//!
//! One negotiation serves every session (the user name is the same for all, `--proxy` refuses
//! `%d`): its Magic-Numbers, CHAP Identifier and Challenge are drawn once per run.

use l2tp_proto::Rng;
use l2tp_proto::session::ProxyAvps;
use l2tp_proto::session::proxy::authen_type;
use l2tp_proto::time::Instant;
use ppp_proto::auth::maths::chap_md5_response;
use ppp_proto::lcp::option;
use ppp_proto::{AuthMethod, Link, ProxiedAuth, ProxiedLcp, ProxyRefusal};

use super::PppPlan;

/// What the LAC and the caller agreed on, and the caller's answer.
#[derive(Clone, Debug)]
pub(crate) struct LacNegotiation {
    /// The options of the LAC's last Configure-Request: the method, its Magic-Number.
    lac: Vec<u8>,
    /// The options of the caller's: its Magic-Number.
    caller: Vec<u8>,
    method: AuthMethod,
    identifier: u8,
    challenge: [u8; 16],
    user: Vec<u8>,
    /// The CHAP Response value, or the PAP password (the Proxy Authen Response AVP).
    response: Vec<u8>,
}

/// A non-zero Magic-Number other than `not`.
fn magic(rng: &mut dyn Rng, not: u32) -> u32 {
    (0..8)
        .map(|_| rng.next_u32())
        .find(|m| *m != 0 && *m != not)
        .unwrap_or(not ^ 0x5a5a_5a5b)
}

impl LacNegotiation {
    /// A negotiation for `plan` (its `--auth`, CHAP or PAP; its user and password).
    pub(crate) fn new(plan: &PppPlan, rng: &mut dyn Rng) -> Self {
        let lac_magic = magic(rng, 0);
        let caller_magic = magic(rng, lac_magic);
        let method = plan.auth;
        let mut lac = vec![option::AUTH, 2 + method.option_value().len() as u8];
        lac.extend_from_slice(method.option_value());
        lac.extend_from_slice(&[option::MAGIC, 6]);
        lac.extend_from_slice(&lac_magic.to_be_bytes());
        let mut caller = vec![option::MAGIC, 6];
        caller.extend_from_slice(&caller_magic.to_be_bytes());
        let mut id = [0u8; 1];
        rng.fill(&mut id);
        let mut challenge = [0u8; 16];
        rng.fill(&mut challenge);
        let response = match method {
            AuthMethod::Pap => plan.password.as_bytes().to_vec(),
            _ => chap_md5_response(id[0], &plan.password, &challenge).to_vec(),
        };
        LacNegotiation {
            lac,
            caller,
            method,
            identifier: id[0],
            challenge,
            user: plan.user.as_bytes().to_vec(),
            response,
        }
    }

    /// The ICCN's proxy AVPs.
    pub(crate) fn avps(&self) -> ProxyAvps {
        let chap = self.method != AuthMethod::Pap;
        ProxyAvps {
            initial_received_lcp_confreq: Some(self.caller.clone()),
            last_sent_lcp_confreq: Some(self.lac.clone()),
            last_received_lcp_confreq: Some(self.caller.clone()),
            authen_type: Some(if chap {
                authen_type::CHAP
            } else {
                authen_type::PAP
            }),
            authen_name: Some(self.user.clone()),
            authen_challenge: chap.then(|| self.challenge.to_vec()),
            authen_id: Some(u16::from(self.identifier)),
            authen_response: Some(self.response.clone()),
        }
    }

    /// Starts a session's client link where the LAC left the caller.
    pub(crate) fn open(
        &self,
        link: &mut Link,
        now: Instant,
        rng: &mut dyn Rng,
    ) -> Result<(), ProxyRefusal> {
        let auth = match self.method {
            AuthMethod::Pap => ProxiedAuth::PapSent {
                identifier: self.identifier,
            },
            _ => ProxiedAuth::ChapAnswered {
                identifier: self.identifier,
                challenge: self.challenge.to_vec(),
            },
        };
        let lcp = ProxiedLcp {
            local: &self.caller,
            peer: &self.lac,
        };
        link.open_proxied(now, lcp, Some(auth), rng).map(|_| ())
    }
}
