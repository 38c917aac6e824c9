//! A wire that duplicates and delays frames: a second copy of an answer already taken (a
//! Configure-Ack, -Nak or -Reject whose request was answered, RFC 1661 §5.2: "Invalid packets
//! are silently discarded") is not malformed. It is counted apart as `stale`, so that an
//! operator tells a lossy path from a broken peer, and changes nothing. And an MS-CHAPv2
//! login survives Challenges sent again and duplicated: the same Challenge value always gets
//! the same Response, so whichever the authenticator judged, its Success checks out. Nor does
//! a late PAP Ack of a round before an LCP renegotiation answer the new round's request.

use std::time::Duration;

use super::util::*;
use crate::auth::AuthMethod;
use crate::event::DownReason;
use crate::fsm::State;
use crate::wire::{ControlPacket, protocol, split_protocol};

/// The frames node `from` sent of `proto` with `code`.
fn sent(p: &Pair, from: usize, proto: u16, code: u8) -> Vec<Vec<u8>> {
    p.frames_of(from, proto)
        .iter()
        .filter(|s| {
            let (_, info) = split_protocol(&s.bytes).unwrap_or_else(|| panic!("a frame"));
            ControlPacket::parse(info).is_ok_and(|c| c.code == code)
        })
        .map(|s| s.bytes.clone())
        .collect()
}

#[test]
fn a_duplicated_answer_is_stale_not_malformed() {
    let mut p = Pair::lns_and_client(7, &[AuthMethod::ChapMd5], PASSWORD);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    assert!(p.both_up());
    const ACK: u8 = 2;
    let mut dups = [0u32; 2];
    for proto in [protocol::LCP, protocol::IPCP, protocol::IPV6CP] {
        for from in 0..2 {
            for f in sent(&p, from, proto, ACK) {
                p.inject(1 - from, &f);
                dups[1 - from] += 1;
            }
        }
    }
    p.run_for(Duration::from_secs(10));
    assert!(dups.iter().all(|&n| n >= 3), "{dups:?}");
    for (i, &n) in dups.iter().enumerate() {
        let c = p.links[i].counters();
        assert_eq!(c.malformed, 0, "node {i}: {c:?}");
        assert_eq!(c.stale, n, "node {i}: {c:?}");
        assert_eq!(p.links[i].ipcp_state(), State::Opened, "node {i}");
        assert_eq!(p.down(i), None);
    }
}

/// On a wire that loses and duplicates 30 % of the frames each way, the authenticator
/// challenges again and judges whichever Response comes first: no login that succeeded ends
/// as a forged authenticator response or a refusal.
#[test]
fn authentication_survives_a_wire_that_loses_and_duplicates() {
    let mut bad = Vec::new();
    for seed in 0..40 {
        for m in AuthMethod::ALL {
            let mut p = Pair::lns_and_client(seed, &[m], PASSWORD);
            p.loss = 0.3;
            p.dup = 0.3;
            p.open();
            p.run_while(Duration::from_secs(600), |p| {
                !p.both_up() && p.down(0).is_none() && p.down(1).is_none()
            });
            let downs = [p.down(0), p.down(1)];
            if downs.iter().flatten().any(|r| {
                matches!(
                    r,
                    DownReason::AuthenticatorInvalid
                        | DownReason::AuthRejectedByPeer
                        | DownReason::AuthFailed
                )
            }) {
                bad.push((seed, m, downs));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
}

/// The authenticator sends its Challenge again (the same value, a new Identifier, RFC 1994
/// §4.1) while our Response to the first is under way. It judges the first Response and
/// answers the second with the same Success (RFC 1994 §4.2), whose MS-CHAPv2 authenticator
/// response (RFC 2759 §5) is that of the first: the second Response must be the first again,
/// with the new Identifier, or the peer takes the authenticator for a forgery and ends a
/// login that succeeded.
#[test]
fn a_repeated_challenge_gets_the_same_ms_chap_v2_response() {
    use crate::auth::wire::chap_code;
    let mut p = Pair::lns_and_client(3, &[AuthMethod::MsChapV2], PASSWORD);
    // The first Response is lost: the authenticator challenges again, and our own restart
    // timer sends the first Response again meanwhile.
    let mut dropped = false;
    p.tamper = Some(Box::new(move |from, f: &mut Vec<u8>| {
        let response = from == 1
            && split_protocol(f).is_some_and(|(proto, info)| {
                proto == protocol::CHAP && info.first() == Some(&chap_code::RESPONSE)
            });
        if response && !dropped {
            dropped = true;
            return false;
        }
        true
    }));
    p.open();
    p.run_while(Duration::from_secs(60), |p| {
        !p.both_up() && p.down(1).is_none()
    });
    let responses = sent(&p, 1, protocol::CHAP, chap_code::RESPONSE);
    assert!(responses.len() >= 2, "{}", trace(&p.sent));
    assert_eq!(p.down(1), None, "{}", trace(&p.sent));
    assert!(p.both_up(), "{}", trace(&p.sent));
    // After the Identifier, every Response is the first.
    assert!(
        responses.iter().all(|r| r[6..] == responses[0][6..]),
        "{}",
        trace(&p.sent)
    );
}
/// LCP renegotiates after a PAP login (the peer's new Configure-Request in Opened, RFC 1661
/// RCR in Opened): our new Authenticate-Request does not take the Identifier of the last
/// round's, so a late copy of the last round's Ack is not taken for the new round's answer
/// (which would leave us in the network phase and the authenticator waiting for a request).
#[test]
fn a_late_pap_ack_of_the_last_round_is_not_this_rounds() {
    use crate::auth::wire::pap_code;
    use crate::link::Phase;
    let mut p = Pair::lns_and_client(5, &[AuthMethod::Pap], PASSWORD);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    assert!(p.both_up());
    let old_ack = sent(&p, 0, protocol::PAP, pap_code::ACK)
        .pop()
        .unwrap_or_else(|| panic!("an Ack"));
    let lcp_request = renewed(
        sent(&p, 0, protocol::LCP, 1)
            .pop()
            .unwrap_or_else(|| panic!("a Configure-Request")),
    );
    // From now on our requests are lost.
    p.tamper = Some(Box::new(|from, f: &mut Vec<u8>| {
        from != 1 || split_protocol(f).is_none_or(|(proto, _)| proto != protocol::PAP)
    }));
    p.inject(1, &lcp_request);
    let end = p.now + Duration::from_secs(10);
    while p.links[1].phase() != Phase::Authenticate && p.now < end {
        let step = p.now + Duration::from_millis(1);
        p.run_until(step);
    }
    assert_eq!(
        p.links[1].phase(),
        Phase::Authenticate,
        "{}",
        trace(&p.sent)
    );
    let stale = p.links[1].counters().stale + p.links[1].counters().discarded;
    p.inject(1, &old_ack);
    assert_eq!(
        p.links[1].phase(),
        Phase::Authenticate,
        "{}",
        trace(&p.sent)
    );
    assert!(
        p.links[1].counters().stale + p.links[1].counters().discarded > stale,
        "{:?}",
        p.links[1].counters()
    );
}

/// `frame`, a Configure-Request, with the next Identifier: the same options asked again in a
/// new request (RFC 1661 §5.1), not a copy of the old one.
fn renewed(mut frame: Vec<u8>) -> Vec<u8> {
    let (_, info) = split_protocol(&frame).unwrap_or_else(|| panic!("a frame"));
    let at = frame.len() - info.len() + 1;
    frame[at] = frame[at].wrapping_add(1);
    frame
}

/// A copy of the Configure-Request that opened LCP or IPCP, arriving in Opened (the network
/// duplicated or delayed it, or the peer sent it again before our Ack reached it): acknowledged
/// again as it stands, with no renegotiation, so the link keeps its authentication and its
/// addresses. The same options under a new Identifier are a renegotiation.
#[test]
fn a_copy_of_the_request_that_opened_is_acknowledged_again() {
    const ACK: u8 = 2;
    for proto in [protocol::LCP, protocol::IPCP] {
        let mut p = Pair::lns_and_client(9, &[AuthMethod::ChapMd5], PASSWORD);
        p.open();
        p.run_while(Duration::from_secs(60), |p| !p.both_up());
        assert!(p.both_up());
        let request = sent(&p, 1, proto, 1)
            .pop()
            .unwrap_or_else(|| panic!("a Configure-Request"));
        let acks = sent(&p, 0, proto, ACK).len();
        let requests = sent(&p, 0, proto, 1).len();
        let ups = p.events[0].len();
        p.inject(0, &request);
        p.run_for(Duration::from_secs(5));
        assert_eq!(
            sent(&p, 0, proto, ACK).len(),
            acks + 1,
            "{}",
            trace(&p.sent)
        );
        assert_eq!(
            sent(&p, 0, proto, 1).len(),
            requests,
            "{proto:#x}: no renegotiation"
        );
        assert_eq!(p.links[0].ipcp_state(), State::Opened);
        assert_eq!(
            p.events[0].len(),
            ups,
            "{proto:#x}: {:?}",
            &p.events[0][ups..]
        );
        assert_eq!(p.down(0), None);

        p.inject(0, &renewed(request));
        p.run_while(Duration::from_secs(60), |p| !p.both_up());
        assert!(p.events[0].len() > ups, "{proto:#x}: a renegotiation");
        assert!(p.both_up(), "{}", trace(&p.sent));
    }
}
