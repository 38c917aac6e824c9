//! A verdict that takes longer than the peer's restart interval: the peer has retransmitted
//! meanwhile, and the answer must carry the Identifier of its latest request (RFC 1334 §2.2.2,
//! RFC 1994 §4.2) for it to be taken at once.

use std::time::Duration;

use super::frames::frame;
use super::util::*;
use crate::auth::{AuthId, AuthMethod, Password, Verdict};
use crate::event::Event;
use crate::link::Phase;
use crate::wire::protocol;

/// The code and Identifier of a frame (`FF 03`, protocol, code, identifier).
fn code_id(s: &Sent) -> (u8, u8) {
    (s.bytes[4], s.bytes[5])
}

/// The Identifiers of node `node`'s frames of `proto` with code `code`, in order.
fn ids(p: &Pair, node: usize, proto: u16, code: u8) -> Vec<u8> {
    p.frames_of(node, proto)
        .iter()
        .map(|s| code_id(s))
        .filter(|(c, _)| *c == code)
        .map(|(_, id)| id)
        .collect()
}

/// Node 0's host gives `verdict` on request `id`, with the LNS's addresses.
fn decide(p: &mut Pair, id: AuthId, verdict: Verdict) {
    let now = p.now;
    p.links[0].set_network(lns_network());
    p.links[0]
        .auth_verdict(now, id, verdict)
        .unwrap_or_else(|e| panic!("pending: {e}"));
}

/// Node 0's host keeps the request; the pair runs until node 1 has sent `requests` PAP
/// Authenticate-Requests (or CHAP Responses). Returns the request to judge.
fn pending_after(p: &mut Pair, proto: u16, code: u8, requests: usize) -> AuthId {
    p.hosts[0] = Host::Silent;
    p.open();
    p.run_while(Duration::from_secs(30), |p| {
        p.frames_of(1, proto)
            .iter()
            .filter(|s| code_id(s).0 == code)
            .count()
            < requests
    });
    p.run_for(Duration::from_millis(100));
    p.events[0]
        .iter()
        .find_map(|e| match e {
            Event::Authenticate(r) => Some(r.id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the request went to the host"))
}

#[test]
fn a_slow_pap_verdict_is_taken_by_the_peer_at_once() {
    let mut p = Pair::lns_and_client(41, &[AuthMethod::Pap], PASSWORD);
    let id = pending_after(&mut p, protocol::PAP, 1, 3);
    let requests: Vec<u8> = p
        .frames_of(1, protocol::PAP)
        .iter()
        .map(|s| code_id(s).1)
        .collect();
    assert_eq!(requests.len(), 3, "two retransmissions: {requests:?}");
    let asked = p.events[0]
        .iter()
        .filter(|e| matches!(e, Event::Authenticate(_)))
        .count();
    assert_eq!(asked, 1, "the retransmissions go to the host once");
    decide(&mut p, id, Verdict::accept());
    p.run_for(Duration::from_millis(100));
    let acks = ids(&p, 0, protocol::PAP, 2);
    assert_eq!(acks, [requests[2]], "the Ack answers the latest request");
    assert_eq!(p.links[1].phase(), Phase::Network, "the peer took the Ack");
    assert_eq!(p.frames_of(1, protocol::PAP).len(), 3, "and sent no more");
}

#[test]
fn a_pap_request_repeated_after_the_verdict_is_acknowledged_with_its_identifier() {
    let mut p = Pair::lns_and_client(44, &[AuthMethod::Pap], PASSWORD);
    let id = pending_after(&mut p, protocol::PAP, 1, 1);
    decide(&mut p, id, Verdict::accept());
    let mut pap = vec![USER.len() as u8];
    pap.extend_from_slice(USER);
    pap.push(PASSWORD.len() as u8);
    pap.extend_from_slice(PASSWORD.as_bytes());
    let again = frame(protocol::PAP, 1, 200, &pap);
    p.inject(0, &again);
    let last = p.frames_of(0, protocol::PAP).last().map(|s| code_id(s));
    assert_eq!(last, Some((2, 200)));
}

#[test]
fn a_slow_chap_verdict_answers_the_latest_response() {
    for m in [AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        let mut p = Pair::lns_and_client(43, &[m], PASSWORD);
        // The peer repeats its Response on its restart timer while the verdict is pending.
        let id = pending_after(&mut p, protocol::CHAP, 2, 3);
        let responses = ids(&p, 1, protocol::CHAP, 2);
        assert_eq!(responses.len(), 3, "{m}");
        let users = [(USER.to_vec(), Password::from(PASSWORD))];
        let verdict = match p.events[0].iter().find_map(|e| match e {
            Event::Authenticate(r) => Some(r),
            _ => None,
        }) {
            Some(r) => r.verify(&users[0].1),
            None => unreachable!(),
        };
        assert!(verdict.is_accept(), "{m}");
        decide(&mut p, id, verdict);
        p.run_for(Duration::from_millis(100));
        let successes = ids(&p, 0, protocol::CHAP, 3);
        assert_eq!(successes, [responses[2]], "{m}");
        assert_eq!(p.links[1].phase(), Phase::Network, "{m}");
    }
}
