//! Proxy LCP and proxy authentication at the LNS (RFC 2661 §4.4.5): an L2TPv2 LAC that
//! negotiated LCP with the caller, and perhaps authenticated it, says so in its ICCN; a
//! server link of a profile with `proxy_lcp` starts from that negotiation instead of its own
//! Configure-Request, and with `proxy_auth` judges the caller's answer to the LAC (local users
//! or RADIUS, as its own Challenge's answer) instead of challenging it again.
//!
//! The AVPs come from the network: lists that do not parse, options the profile would not
//! have agreed to, and incomplete authentication fall back to negotiating (or
//! authenticating) as without a proxy, each with a log line and a `ppp_proxy` counter.

use l2tp_proto::session::ProxyAvps;
use l2tp_proto::session::proxy::authen_type;
use ppp_proto::{Password, PeerCredentials, Proxied, ProxiedAuth, ProxiedLcp, ProxyRefusal};

use super::state::{PInstant, Ppp, PppLink};

/// Opens server link `st` from the LAC's proxy AVPs if its profile and the AVPs allow;
/// returns false when the caller must open it as usual.
pub(super) fn open(
    ppp: &mut Ppp,
    (tid, sid): (u32, u32),
    st: &mut PppLink,
    avps: &ProxyAvps,
    now: PInstant,
) -> bool {
    let (Some(sent), Some(received)) = (
        avps.last_sent_lcp_confreq.as_deref(),
        avps.last_received_lcp_confreq.as_deref(),
    ) else {
        if avps.last_sent_lcp_confreq.is_some() || avps.last_received_lcp_confreq.is_some() {
            count(ppp, "lcp_malformed");
            tracing::info!(
                "session {tid}/{sid}: the LAC sent only one of Last Sent and Last Received LCP \
                 CONFREQ: negotiating LCP again"
            );
        }
        return false;
    };
    let auth = if st.policy.proxy.auth {
        match authentication(avps) {
            Ok(auth) => auth,
            Err(why) => {
                count(ppp, "auth_ignored");
                tracing::info!(
                    "session {tid}/{sid}: proxy authentication not used ({why}): \
                     authenticating again"
                );
                None
            }
        }
    } else {
        None
    };
    let offered = auth.is_some();
    let lcp = ProxiedLcp {
        local: sent,
        peer: received,
    };
    match st.link.open_proxied(now, lcp, auth, ppp.rng.as_mut()) {
        Ok(taken) => {
            st.proxied = Some(taken);
            count(ppp, "lcp_taken");
            let what = match taken {
                Proxied::LcpAndAuth => {
                    count(ppp, "auth_taken");
                    "LCP and authentication"
                }
                Proxied::Lcp if offered => {
                    count(ppp, "auth_ignored");
                    "LCP (the proxied authentication does not fit it: authenticating again)"
                }
                Proxied::Lcp => "LCP",
            };
            tracing::info!("session {tid}/{sid}: PPP takes the LAC's proxied {what}");
            true
        }
        Err(e) => {
            count(
                ppp,
                if matches!(e, ProxyRefusal::Malformed(..)) {
                    "lcp_malformed"
                } else {
                    "lcp_refused"
                },
            );
            crate::notice!("session {tid}/{sid}: proxy LCP not taken ({e}): negotiating again");
            false
        }
    }
}

fn count(ppp: &mut Ppp, what: &'static str) {
    *ppp.counters.proxy.entry(what).or_default() += 1;
}

/// The caller's answer to the LAC, from the proxy authentication AVPs; `Ok(None)` when the
/// LAC did not authenticate it (type 4, or no Proxy Authen Type: RFC 2661 §4.4.5, "it is
/// assumed that this peer cannot perform proxy authentication").
fn authentication(avps: &ProxyAvps) -> Result<Option<ProxiedAuth>, &'static str> {
    let Some(kind) = avps.authen_type else {
        return Ok(None);
    };
    let identifier = || match avps.authen_id {
        // "the most significant octet MUST be 0" (RFC 2661 §4.4.5).
        Some(id) => u8::try_from(id).map_err(|_| "a Proxy Authen ID above 255"),
        None => Err("no Proxy Authen ID"),
    };
    let user = || {
        avps.authen_name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or("no Proxy Authen Name")
    };
    let response = || {
        avps.authen_response
            .as_deref()
            .ok_or("no Proxy Authen Response")
    };
    match kind {
        authen_type::NONE => Ok(None),
        authen_type::CHAP => {
            let identifier = identifier()?;
            let user = user()?;
            let challenge = avps
                .authen_challenge
                .as_deref()
                .ok_or("no Proxy Authen Challenge")?;
            let challenge =
                <[u8; 16]>::try_from(challenge).map_err(|_| "a CHAP challenge not of 16 octets")?;
            let response = <[u8; 16]>::try_from(response()?)
                .map_err(|_| "a CHAP-MD5 response not of 16 octets")?;
            Ok(Some(ProxiedAuth::Peer {
                identifier,
                user,
                credentials: PeerCredentials::ChapMd5 {
                    identifier,
                    challenge,
                    response,
                },
            }))
        }
        authen_type::PAP => Ok(Some(ProxiedAuth::Peer {
            identifier: identifier()?,
            user: user()?,
            credentials: PeerCredentials::Pap {
                password: Password::new(response()?),
            },
        })),
        authen_type::MSCHAP_V1 => Err("MS-CHAPv1 is not implemented"),
        authen_type::TEXTUAL => Err("a textual exchange is not PPP authentication"),
        _ => Err("an unknown Proxy Authen Type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chap() -> ProxyAvps {
        ProxyAvps {
            authen_type: Some(authen_type::CHAP),
            authen_name: Some(b"alice".to_vec()),
            authen_challenge: Some(vec![1; 16]),
            authen_id: Some(9),
            authen_response: Some(vec![2; 16]),
            ..ProxyAvps::default()
        }
    }

    #[test]
    fn proxy_authentication_values_are_checked() {
        let Ok(Some(ProxiedAuth::Peer { identifier, .. })) = authentication(&chap()) else {
            panic!("CHAP not read");
        };
        assert_eq!(identifier, 9);
        type Change = fn(&mut ProxyAvps);
        let bad: [(Change, &str); 6] = [
            (|a| a.authen_id = Some(0x109), "a Proxy Authen ID above 255"),
            (|a| a.authen_name = None, "no Proxy Authen Name"),
            (
                |a| a.authen_challenge = Some(vec![1; 8]),
                "a CHAP challenge not of 16 octets",
            ),
            (
                |a| a.authen_response = Some(vec![1; 17]),
                "a CHAP-MD5 response not of 16 octets",
            ),
            (
                |a| a.authen_type = Some(authen_type::MSCHAP_V1),
                "MS-CHAPv1 is not implemented",
            ),
            (|a| a.authen_type = Some(99), "an unknown Proxy Authen Type"),
        ];
        for (change, why) in bad {
            let mut a = chap();
            change(&mut a);
            assert_eq!(authentication(&a), Err(why));
        }
        let mut none = chap();
        none.authen_type = Some(authen_type::NONE);
        assert_eq!(authentication(&none), Ok(None));
        none.authen_type = None;
        assert_eq!(authentication(&none), Ok(None));
        let mut pap = chap();
        pap.authen_type = Some(authen_type::PAP);
        assert!(matches!(
            authentication(&pap),
            Ok(Some(ProxiedAuth::Peer {
                credentials: PeerCredentials::Pap { .. },
                ..
            }))
        ));
    }
}
