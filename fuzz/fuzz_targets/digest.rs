//! Verifying the L2TPv3 Message Digest of an arbitrary control message: the digest AVP is
//! looked for where the engine expects it and anywhere the AVP walk finds one.
#![no_main]

use l2tp_proto::auth::Secret;
use l2tp_proto::wire::avp::AvpIter;
use l2tp_proto::wire::digest::{self, DigestKey, DigestType, Nonces};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = DigestKey::derive(&Secret::new(b"fuzz".to_vec()));
    let nonces = [
        Nonces::Sccrq,
        Nonces::Exchanged {
            sender: b"a",
            receiver: b"b",
        },
    ];
    let body = data.get(12..).unwrap_or_default();
    for avp in AvpIter::new(body).flatten() {
        if avp.vendor_id != 0 || avp.attr_type != 59 {
            continue;
        }
        for ty in [DigestType::HmacMd5, DigestType::HmacSha1] {
            let field = digest::field_range(12 + avp.offset, ty);
            for n in nonces {
                let _ = digest::verify(ty, &key, n, data, field.clone());
            }
        }
    }
    // Arbitrary (possibly absurd) ranges must be refused, not panic.
    if let [a, b, rest @ ..] = data {
        let field = usize::from(*a)..usize::from(*b);
        let _ = digest::verify(DigestType::HmacMd5, &key, Nonces::Sccrq, rest, field);
    }
});
