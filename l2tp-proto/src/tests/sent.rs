//! What the engine puts on the wire beyond the message flow: the hash of the L2TPv3 Message
//! Digest it signs with.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{AuthMode, TunnelConfig, VersionMode};
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
