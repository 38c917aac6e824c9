//! What the engine puts on the wire beyond the message flow: the hash of the L2TPv3 Message
//! Digest it signs with, and the padding of hidden AVPs.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{AuthMode, TunnelConfig, VersionMode};
use crate::wire::MessageType;
use crate::wire::avp::{AvpIter, AvpType};
use crate::wire::digest::DigestType;

fn v3_secret(digest_type: DigestType) -> TunnelConfig {
    TunnelConfig {
        version: VersionMode::V3,
        secret: "digest-secret".into(),
        auth_mode: AuthMode::Challenge,
        digest_type,
        ..TunnelConfig::default()
    }
}

/// The Message Digest AVP values (Digest Type octet and digest) of a message body.
fn digests(body: &[u8]) -> Vec<Vec<u8>> {
    AvpIter::new(body)
        .filter_map(Result::ok)
        .filter(|a| a.vendor_id == 0 && a.attr_type == AvpType::MessageDigest as u16)
        .map(|a| a.value.to_vec())
        .collect()
}

/// RFC 3931 §5.4.1: each end signs with the hash it is configured with (HMAC-SHA-1 here on
/// one side, HMAC-MD5 on the other) and checks what it receives with the hash the received
/// AVP names; the tunnel and a session come up either way round.
#[test]
fn each_end_signs_with_its_own_digest_type() {
    for (a, b) in [
        (DigestType::HmacMd5, DigestType::HmacMd5),
        (DigestType::HmacSha1, DigestType::HmacSha1),
        (DigestType::HmacSha1, DigestType::HmacMd5),
        (DigestType::HmacMd5, DigestType::HmacSha1),
    ] {
        let mut mesh = Mesh::new(2, 7, Link::CLEAN, accept_all(v3_secret(b)));
        let tid = mesh.open_tunnel(0, 1, Arc::new(v3_secret(a)));
        mesh.open_session(
            0,
            tid,
            CallType::Incoming,
            Arc::new(SessionConfig::default()),
        );
        mesh.run_for(Duration::from_secs(20));
        assert_eq!(mesh.established_sessions(0), 1, "{a} / {b}");
        assert_eq!(mesh.established_sessions(1), 1, "{a} / {b}");
        for node in 0..2 {
            assert_eq!(
                mesh.nodes[node].endpoint.stats().auth_failures,
                0,
                "{a} / {b} node {node}"
            );
        }
        for s in &mesh.sent {
            let ty = if s.from == 0 { a } else { b };
            let found = digests(&s.body);
            assert_eq!(found.len(), 1, "{:?} from {}", s.message_type, s.from);
            assert_eq!(
                found[0][0], ty as u8,
                "{:?} from {}",
                s.message_type, s.from
            );
            assert_eq!(found[0].len(), 1 + ty.digest_len());
        }
    }
}

/// RFC 2661 §4.3: a hidden value may be padded to hide its length. Ours are padded to at least
/// 16 octets (a 2-octet session id would otherwise give a 4-octet hidden value, which l2tpns
/// refuses below 8) plus a random 0 to 15: the lengths vary from message to message, and the
/// peer recovers every value (the calls come up with the hidden ids).
#[test]
fn hidden_values_are_padded_to_a_random_length() {
    for mode in [VersionMode::V2, VersionMode::V3] {
        let config = TunnelConfig {
            version: mode,
            secret: "hide-me".into(),
            auth_mode: AuthMode::Challenge,
            hide_avps: true,
            ..TunnelConfig::default()
        };
        let mut mesh = Mesh::new(2, 5, Link::CLEAN, accept_all(config.clone()));
        let tid = mesh.open_tunnel(0, 1, Arc::new(config));
        for _ in 0..8 {
            mesh.open_session(
                0,
                tid,
                CallType::Incoming,
                Arc::new(SessionConfig {
                    calling_number: b"5551234".to_vec(),
                    ..SessionConfig::default()
                }),
            );
        }
        mesh.run_for(Duration::from_secs(20));
        assert_eq!(mesh.established_sessions(0), 8, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 8, "{mode:?}");
        let hidden: Vec<(u16, usize)> = mesh
            .sent
            .iter()
            .flat_map(|s| AvpIter::new(&s.body).filter_map(Result::ok))
            .filter(|a| a.hidden)
            .map(|a| (a.attr_type, a.value.len()))
            .collect();
        assert!(!hidden.is_empty(), "{mode:?}: nothing hidden");
        assert!(
            hidden
                .iter()
                .all(|&(_, len)| (16..=16 + 15 + 9).contains(&len)),
            "{mode:?}: hidden value lengths {hidden:?}"
        );
        // The ICRQs' hidden Calling Numbers, 7 octets each, come in several lengths.
        let id = AvpType::CallingNumber as u16;
        let mut lengths: Vec<usize> = mesh
            .sent_by(0, MessageType::Icrq)
            .iter()
            .flat_map(|s| AvpIter::new(&s.body).filter_map(Result::ok))
            .filter(|a| a.hidden && a.attr_type == id)
            .map(|a| a.value.len())
            .collect();
        assert_eq!(lengths.len(), 8, "{mode:?}");
        lengths.sort_unstable();
        lengths.dedup();
        assert!(lengths.len() > 1, "{mode:?}: always {lengths:?} octets");
    }
}
