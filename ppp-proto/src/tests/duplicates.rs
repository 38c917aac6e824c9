//! A wire that duplicates and delays frames: a second copy of an answer already taken (a
//! Configure-Ack, -Nak or -Reject whose request was answered, RFC 1661 §5.2: "Invalid packets
//! are silently discarded") is not malformed. It is counted apart as `stale`, so that an
//! operator tells a lossy path from a broken peer, and changes nothing.

use std::time::Duration;

use super::util::*;
use crate::auth::AuthMethod;
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
    for i in 0..2 {
        let c = p.links[i].counters();
        assert_eq!(c.malformed, 0, "node {i}: {c:?}");
        assert_eq!(c.stale, dups[i], "node {i}: {c:?}");
        assert_eq!(p.links[i].ipcp_state(), State::Opened, "node {i}");
        assert_eq!(p.down(i), None);
    }
}
