//! The authenticator's answer to a request the peer sends again after the verdict: the same
//! answer, with the repetition's Identifier, whether it was an Ack or Success (RFC 1334
//! §2.2.2, RFC 1994 §4.2) or a Nak or Failure while the link closes (RFC 1334 §2.2.1: every
//! Authenticate-Request is answered; RFC 1994 §4.2). Another request (other credentials) gets
//! that answer too and is never judged, as pppd answers it; a CHAP Response to no Challenge of
//! ours gets nothing, nor does anything once the link is down. Another PAP request while the
//! verdict is pending gets the verdict's answer when it comes, with its own Identifier.

use std::time::Duration;

use super::frames::frame;
use super::util::*;
use crate::auth::wire::{chap_code, pap_code};
use crate::auth::{AuthMethod, Password, Verdict};
use crate::event::{DownReason, Event};
use crate::link::Phase;
use crate::wire::{ControlPacket, protocol, split_protocol};

/// What the peer sends after the verdict.
#[derive(Clone, Copy, Debug)]
enum Again {
    /// Its request again: PAP with a new Identifier, CHAP the same Response.
    Same,
    /// Another request: PAP another user's, CHAP another Response to the same Challenge.
    Other,
    /// CHAP: a Response with another Identifier (to no Challenge of ours).
    OtherId,
}

/// The code, Identifier and data of an authentication frame.
fn decode(bytes: &[u8]) -> (u8, u8, Vec<u8>) {
    let (_, info) = split_protocol(bytes).unwrap_or_else(|| panic!("a frame"));
    let p = ControlPacket::parse(info).unwrap_or_else(|_| panic!("a packet"));
    (p.code, p.identifier, p.data.to_vec())
}

fn proto_of(m: AuthMethod) -> u16 {
    if m == AuthMethod::Pap {
        protocol::PAP
    } else {
        protocol::CHAP
    }
}

/// Node 0 judges node 1's first request (`accept`: right, else "Wrong password"), and node 1
/// hears nothing more (its answer is lost). Returns the pair and node 1's request.
fn judged(seed: u64, m: AuthMethod, accept: bool) -> (Pair, Vec<u8>) {
    let mut p = Pair::lns_and_client(seed, &[m], PASSWORD);
    p.hosts[0] = Host::Silent;
    let proto = proto_of(m);
    let request_code = if m == AuthMethod::Pap {
        pap_code::REQUEST
    } else {
        chap_code::RESPONSE
    };
    p.open();
    p.run_while(Duration::from_secs(30), |p| {
        !p.frames_of(1, proto)
            .iter()
            .any(|s| decode(&s.bytes).0 == request_code)
    });
    let request = p
        .frames_of(1, proto)
        .iter()
        .find(|s| decode(&s.bytes).0 == request_code)
        .map(|s| s.bytes.clone())
        .unwrap_or_else(|| panic!("{m}: the peer sent its request"));
    let req = p.events[0]
        .iter()
        .find_map(|e| match e {
            Event::Authenticate(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{m}: the request went to the host"));
    let verdict = if accept {
        req.verify(&Password::from(PASSWORD))
    } else {
        Verdict::reject("Wrong password")
    };
    assert_eq!(verdict.is_accept(), accept, "{m}");
    // The answer and what follows it are lost.
    p.tamper = Some(Box::new(|from, _| from == 1));
    let now = p.now;
    p.links[0].set_network(lns_network());
    p.links[0]
        .auth_verdict(now, req.id, verdict)
        .unwrap_or_else(|e| panic!("{m}: {e}"));
    p.drain();
    (p, request)
}

/// The peer's repetition of `request` as `again` asks.
fn repetition(m: AuthMethod, request: &[u8], again: Again) -> Vec<u8> {
    let (code, id, data) = decode(request);
    match (m, again) {
        (AuthMethod::Pap, Again::Same) => frame(protocol::PAP, code, id.wrapping_add(1), &data),
        (AuthMethod::Pap, Again::Other) => {
            let other = [&[3u8][..], b"bob", &[3], b"pw!"].concat();
            frame(protocol::PAP, code, id.wrapping_add(1), &other)
        }
        (AuthMethod::Pap, Again::OtherId) => unreachable!("PAP has no Challenge"),
        (_, Again::Same) => request.to_vec(),
        (_, Again::Other) => {
            // Another value (its first octet changed) and another Name.
            let mut other = data.clone();
            other[1] ^= 0xff;
            other.extend_from_slice(b"-other");
            frame(protocol::CHAP, code, id, &other)
        }
        (_, Again::OtherId) => frame(protocol::CHAP, code, id.wrapping_add(1), &data),
    }
}

/// Node 0's authentication frames after the first `skip`.
fn answers(p: &Pair, m: AuthMethod, skip: usize) -> Vec<(u8, u8, Vec<u8>)> {
    p.frames_of(0, proto_of(m))
        .iter()
        .filter(|s| {
            let c = decode(&s.bytes).0;
            !(m != AuthMethod::Pap && c == chap_code::CHALLENGE)
        })
        .skip(skip)
        .map(|s| decode(&s.bytes))
        .collect()
}

#[test]
fn a_request_repeated_after_the_verdict_gets_the_same_answer() {
    use AuthMethod::{ChapMd5, MsChapV2, Pap};
    // method, accepted, what comes again, the answer's code (`None`: none), the phase then.
    // Another request gets the verdict given, never judged (as pppd answers it).
    let table = [
        (Pap, true, Again::Same, Some(pap_code::ACK), Phase::Network),
        (Pap, true, Again::Other, Some(pap_code::ACK), Phase::Network),
        (
            Pap,
            false,
            Again::Same,
            Some(pap_code::NAK),
            Phase::Terminate,
        ),
        (
            Pap,
            false,
            Again::Other,
            Some(pap_code::NAK),
            Phase::Terminate,
        ),
        (
            ChapMd5,
            true,
            Again::Same,
            Some(chap_code::SUCCESS),
            Phase::Network,
        ),
        (
            ChapMd5,
            true,
            Again::Other,
            Some(chap_code::SUCCESS),
            Phase::Network,
        ),
        (ChapMd5, true, Again::OtherId, None, Phase::Network),
        (
            ChapMd5,
            false,
            Again::Same,
            Some(chap_code::FAILURE),
            Phase::Terminate,
        ),
        (
            ChapMd5,
            false,
            Again::Other,
            Some(chap_code::FAILURE),
            Phase::Terminate,
        ),
        (ChapMd5, false, Again::OtherId, None, Phase::Terminate),
        (
            MsChapV2,
            true,
            Again::Same,
            Some(chap_code::SUCCESS),
            Phase::Network,
        ),
        (
            MsChapV2,
            true,
            Again::Other,
            Some(chap_code::SUCCESS),
            Phase::Network,
        ),
        (
            MsChapV2,
            false,
            Again::Same,
            Some(chap_code::FAILURE),
            Phase::Terminate,
        ),
        (
            MsChapV2,
            false,
            Again::Other,
            Some(chap_code::FAILURE),
            Phase::Terminate,
        ),
        (MsChapV2, false, Again::OtherId, None, Phase::Terminate),
    ];
    for (seed, (m, accept, again, code, phase)) in (60..).zip(table) {
        let case = format!("{m}, accepted {accept}, {again:?}");
        let (mut p, request) = judged(seed, m, accept);
        let first = answers(&p, m, 0);
        assert_eq!(first.len(), 1, "{case}: one verdict\n{}", trace(&p.sent));
        let repeated = repetition(m, &request, again);
        let events = p.events[0].len();
        p.inject(0, &repeated);
        let later = answers(&p, m, 1);
        assert!(
            !p.events[0][events..]
                .iter()
                .any(|e| matches!(e, Event::Authenticate(_))),
            "{case}: never judged again"
        );
        let other = u32::from(matches!(again, Again::Other) && code.is_some());
        assert_eq!(
            p.links[0].counters().auth_other_requests,
            other,
            "{case}: counted as another request"
        );
        match code {
            Some(code) => {
                let (_, id, _) = decode(&repeated);
                assert_eq!(
                    later,
                    [(code, id, first[0].2.clone())],
                    "{case}: the same answer, the repetition's Identifier\n{}",
                    trace(&p.sent)
                );
                assert_eq!(first[0].0, code, "{case}");
            }
            None => assert!(later.is_empty(), "{case}: not answered: {later:?}"),
        }
        assert_eq!(p.links[0].phase(), phase, "{case}");
        assert_eq!(p.down(0), None, "{case}: the link is still there");
    }
}

#[test]
fn a_refused_request_repeated_after_the_link_is_down_is_not_answered() {
    for m in [AuthMethod::Pap, AuthMethod::ChapMd5] {
        let (mut p, request) = judged(80, m, false);
        // The peer hears the Terminate-Request and acknowledges it.
        p.tamper = None;
        p.links[0].handle_timeout(p.now + Duration::from_secs(3));
        p.run_for(Duration::from_secs(10));
        assert_eq!(p.down(0), Some(DownReason::AuthFailed), "{m}");
        let before = answers(&p, m, 0).len();
        p.inject(0, &repetition(m, &request, Again::Same));
        assert_eq!(answers(&p, m, 0).len(), before, "{m}: the link is gone");
    }
}

/// Node 0's host keeps node 1's first PAP request. Returns the pair, the request and its id.
fn pending_pap(seed: u64) -> (Pair, Vec<u8>, crate::auth::AuthId) {
    let mut p = Pair::lns_and_client(seed, &[AuthMethod::Pap], PASSWORD);
    p.hosts[0] = Host::Silent;
    p.open();
    p.run_while(Duration::from_secs(30), |p| {
        p.frames_of(1, protocol::PAP).is_empty()
    });
    let request = p.frames_of(1, protocol::PAP)[0].bytes.clone();
    let id = p.events[0]
        .iter()
        .find_map(|e| match e {
            Event::Authenticate(r) => Some(r.id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the request went to the host"));
    // Node 1 hears nothing more: only node 0's answers are looked at.
    p.tamper = Some(Box::new(|from, _| from == 1));
    (p, request, id)
}

#[test]
fn another_pap_request_while_the_verdict_is_pending_gets_the_verdict() {
    use Again::{Other, Same};
    use Phase::{Network, Terminate};
    // accepted; what comes while the verdict is pending (the Identifier, as an offset from the
    // first request's, and the credentials); the Identifiers answered (offsets), the judged
    // request's first; other requests counted; the phase then.
    type Case = (bool, &'static [(u8, Again)], &'static [u8], u32, Phase);
    let table: [Case; 8] = [
        // The same request again: the verdict answers the latest only (RFC 1334 §2.2.2).
        (true, &[(1, Same)], &[1], 0, Network),
        (false, &[(1, Same)], &[1], 0, Terminate),
        // Another one: answered too (RFC 1334 §2.2.1), never judged.
        (true, &[(100, Other)], &[0, 100], 1, Network),
        (false, &[(100, Other)], &[0, 100], 1, Terminate),
        (true, &[(100, Other), (1, Same)], &[1, 100], 1, Network),
        (
            true,
            &[(100, Other), (101, Other)],
            &[0, 100, 101],
            2,
            Network,
        ),
        // An Identifier is answered once.
        (
            false,
            &[(100, Other), (100, Other)],
            &[0, 100],
            2,
            Terminate,
        ),
        (true, &[(0, Other)], &[0], 1, Network),
    ];
    for (seed, (accept, meanwhile, answered, others, phase)) in (90..).zip(table) {
        let case = format!("accepted {accept}, {meanwhile:?}");
        let (mut p, request, id) = pending_pap(seed);
        let (code, first, data) = decode(&request);
        for (offset, again) in meanwhile {
            let data = match again {
                Same => data.clone(),
                _ => [&[3u8][..], b"bob", &[3], b"pw!"].concat(),
            };
            p.inject(
                0,
                &frame(protocol::PAP, code, first.wrapping_add(*offset), &data),
            );
        }
        assert!(
            answers(&p, AuthMethod::Pap, 0).is_empty(),
            "{case}: nothing yet"
        );
        let asked = p.events[0]
            .iter()
            .filter(|e| matches!(e, Event::Authenticate(_)))
            .count();
        assert_eq!(asked, 1, "{case}: judged once");
        let verdict = if accept {
            Verdict::accept()
        } else {
            Verdict::reject("Wrong password")
        };
        let now = p.now;
        p.links[0].set_network(lns_network());
        p.links[0]
            .auth_verdict(now, id, verdict)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        p.drain();
        let got = answers(&p, AuthMethod::Pap, 0);
        let want = if accept { pap_code::ACK } else { pap_code::NAK };
        assert!(
            got.iter().all(|(c, _, d)| *c == want && *d == got[0].2),
            "{case}: the same answer to each: {got:?}"
        );
        let ids: Vec<u8> = got
            .iter()
            .map(|(_, id, _)| id.wrapping_sub(first))
            .collect();
        assert_eq!(ids, answered, "{case}: the Identifiers answered");
        assert_eq!(
            p.links[0].counters().auth_other_requests,
            others,
            "{case}: counted as other requests"
        );
        assert_eq!(p.links[0].phase(), phase, "{case}");
    }
}
