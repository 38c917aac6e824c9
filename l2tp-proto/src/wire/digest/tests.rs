//! Tests of the L2TPv3 message digest: HMAC-MD5 and HMAC-SHA-1 against the RFC 2202 vectors,
//! digest types and keys, known answers with nonces, tampering, bad ranges and duplicate
//! digest AVPs, and property tests of signing and verifying.

use proptest::prelude::*;

use super::*;
use crate::auth::tests::hex;

fn hmac(ty: DigestType, key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacAny::new(ty, key);
    mac.update(data);
    mac.finalize().as_bytes().to_vec()
}

fn ok<T>(r: Result<T, DigestError>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {e}"))
}

/// RFC 2202 §2 (HMAC-MD5) test cases 1, 2, 3, 4, 6 and 7.
#[test]
fn rfc2202_hmac_md5() {
    let long_key = [0xaa; 80];
    let cases: [(&[u8], &[u8], &str); 6] = [
        (&[0x0b; 16], b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "750c783e6ab0b503eaa86e310a5db738",
        ),
        (&[0xaa; 16], &[0xdd; 50], "56be34521d144c88dbb8c733f0e8b3f6"),
        (
            &hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
            &[0xcd; 50],
            "697eaf0aca3a3aea3a75164746ffaa79",
        ),
        (
            &long_key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
        ),
        (
            &long_key,
            b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
            "6f630fad67cda0ee1fb1f562db3aa53e",
        ),
    ];
    for (key, data, expected) in cases {
        assert_eq!(hmac(DigestType::HmacMd5, key, data), hex(expected));
    }
}

/// RFC 2202 §3 (HMAC-SHA-1) test cases 1, 2, 3, 4, 6 and 7.
#[test]
fn rfc2202_hmac_sha1() {
    let long_key = [0xaa; 80];
    let cases: [(&[u8], &[u8], &str); 6] = [
        (
            &[0x0b; 20],
            b"Hi There",
            "b617318655057264e28bc0b6fb378c8ef146be00",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
        ),
        (
            &[0xaa; 20],
            &[0xdd; 50],
            "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
        ),
        (
            &hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
            &[0xcd; 50],
            "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
        ),
        (
            &long_key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "aa4ae5e15272d00e95705637ce8a3b55ed402112",
        ),
        (
            &long_key,
            b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
            "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
        ),
    ];
    for (key, data, expected) in cases {
        assert_eq!(hmac(DigestType::HmacSha1, key, data), hex(expected));
    }
}

#[test]
fn digest_type_codes_and_lengths() {
    assert_eq!(DigestType::try_from(0), Ok(DigestType::HmacMd5));
    assert_eq!(DigestType::try_from(1), Ok(DigestType::HmacSha1));
    assert_eq!(DigestType::try_from(2), Err(DigestError::UnknownType(2)));
    assert_eq!(u8::from(DigestType::HmacSha1), 1);
    assert_eq!(DigestType::HmacMd5.digest_len(), 16);
    assert_eq!(DigestType::HmacSha1.digest_len(), 20);
    assert_eq!(DigestType::HmacMd5.avp_len(), 23);
    assert_eq!(DigestType::HmacSha1.avp_len(), 27);
    assert_eq!(field_range(20, DigestType::HmacMd5), 27..43);
    assert_eq!(field_range(20, DigestType::HmacSha1), 27..47);
    assert_eq!(DigestType::HmacSha1.to_string(), "HMAC-SHA-1");
}

#[test]
fn key_derivation_and_redaction() {
    let key = DigestKey::derive(&Secret::from("secret"));
    assert_eq!(key.0.to_vec(), hex(KEY_SECRET));
    assert_eq!(DigestKey::integrity_only().0.to_vec(), hex(KEY_EMPTY));
    assert_eq!(format!("{key:?}"), "DigestKey(<redacted>)");
}

// Known-answer vectors computed independently with python3's hashlib/hmac on the build
// machine:
//
//   import hashlib, hmac
//   K = hmac.new(b"secret", b"\x02", hashlib.md5).digest()           # KEY_SECRET
//   K0 = hmac.new(b"", b"\x02", hashlib.md5).digest()                # KEY_EMPTY
//   def msg(dt, dl):  # an SCCRP-like L2TPv3 control message, digest field zeroed
//       avps = (bytes.fromhex("80080000 00000002".replace(" ", ""))
//               + bytes([0x80, 7 + dl, 0, 0, 0, 59, dt]) + bytes(dl)
//               + bytes.fromhex("800a 0000 0007 6c6e7331".replace(" ", "")))
//       return bytes.fromhex("c803") + (12 + len(avps)).to_bytes(2, "big") \
//           + bytes.fromhex("0000 0001 0000 0001".replace(" ", "")) + avps
//   SN, RN = bytes(range(0x10, 0x20)), bytes(range(0x30, 0x48))      # sender, receiver
//   hmac.new(K, SN + RN + msg(0, 16), hashlib.md5).hexdigest()       # MD5_PAIR
//   hmac.new(K, SN + RN + msg(1, 20), hashlib.sha1).hexdigest()      # SHA1_PAIR
//   hmac.new(K, msg(0, 16), hashlib.md5).hexdigest()                 # MD5_SCCRQ
//   hmac.new(K0, msg(1, 20), hashlib.sha1).hexdigest()               # SHA1_INTEGRITY
const KEY_SECRET: &str = "21dc457145ad58f4b1497ae27d2a87b4";
const KEY_EMPTY: &str = "7b6085fbf45933670abcb07a27fcea5e";
const MD5_PAIR: &str = "479762dd0b695b508e7b5d7af586c29d";
const SHA1_PAIR: &str = "00b179fdeb22a43744173a25db6fa48237f2c093";
const MD5_SCCRQ: &str = "06e08e68e7f8e3ede04da067d9a565be";
const SHA1_INTEGRITY: &str = "eed582c049e0fb2e1a655f623b7bb658b59247d2";

/// The message of the vectors above with `fill` in the digest field.
fn message(ty: DigestType, fill: u8) -> Vec<u8> {
    let dl = ty.digest_len();
    let mut avps = hex("8008000000000002");
    avps.extend_from_slice(&[0x80, (7 + dl) as u8, 0, 0, 0, 59, u8::from(ty)]);
    avps.extend(std::iter::repeat_n(fill, dl));
    avps.extend_from_slice(&hex("800a000000076c6e7331"));
    let mut m = hex("c803");
    m.extend_from_slice(&(12 + avps.len() as u16).to_be_bytes());
    m.extend_from_slice(&hex("0000000100000001"));
    m.extend_from_slice(&avps);
    m
}

fn key() -> DigestKey {
    DigestKey::derive(&Secret::from("secret"))
}

fn sender() -> Vec<u8> {
    (0x10..0x20).collect()
}

fn receiver() -> Vec<u8> {
    (0x30..0x48).collect()
}

fn pair<'a>(sender: &'a [u8], receiver: &'a [u8]) -> Nonces<'a> {
    Nonces::Exchanged { sender, receiver }
}

#[test]
fn known_answers() {
    let (s, r) = (sender(), receiver());
    let cases = [
        (DigestType::HmacMd5, key(), pair(&s, &r), MD5_PAIR),
        (DigestType::HmacSha1, key(), pair(&s, &r), SHA1_PAIR),
        (DigestType::HmacMd5, key(), Nonces::Sccrq, MD5_SCCRQ),
        (
            DigestType::HmacSha1,
            DigestKey::integrity_only(),
            pair(&[], &[]),
            SHA1_INTEGRITY,
        ),
    ];
    for (ty, key, nonces, expected) in cases {
        let field = field_range(20, ty);
        // The field's prior contents must not matter.
        for fill in [0x00, 0xff] {
            let mut m = message(ty, fill);
            let digest = ok(compute(ty, &key, nonces, &m, std::slice::from_ref(&field)));
            assert_eq!(digest.as_bytes(), hex(expected), "{ty}");
            assert_eq!(digest.digest_type(), ty);

            ok(sign(ty, &key, nonces, &mut m, field.clone()));
            assert_eq!(m[field.clone()], hex(expected));
            assert_eq!(m[..field.start], message(ty, fill)[..field.start]);
            assert_eq!(m[field.end..], message(ty, fill)[field.end..]);
            ok(verify(ty, &key, nonces, &m, field.clone()));
        }
    }
}

#[test]
fn empty_nonces_equal_sccrq_form() {
    let m = message(DigestType::HmacMd5, 0);
    let f = [field_range(20, DigestType::HmacMd5)];
    let a = ok(compute(DigestType::HmacMd5, &key(), Nonces::Sccrq, &m, &f));
    let b = ok(compute(DigestType::HmacMd5, &key(), pair(&[], &[]), &m, &f));
    assert_eq!(a, b);
}

#[test]
fn tampering_fails_verification() {
    let ty = DigestType::HmacSha1;
    let field = field_range(20, ty);
    let (s, r) = (sender(), receiver());
    let mut m = message(ty, 0);
    ok(sign(ty, &key(), pair(&s, &r), &mut m, field.clone()));

    // Every single-bit flip outside the digest field, and inside it, is caught. (The Digest
    // Type octet is covered by the hash too.)
    for i in 0..m.len() {
        let mut bad = m.clone();
        bad[i] ^= 0x01;
        assert_eq!(
            verify(ty, &key(), pair(&s, &r), &bad, field.clone()),
            Err(DigestError::Mismatch),
            "flip at {i}"
        );
    }
    // Nonces swapped (the receiver's view used by mistake), wrong key, wrong type.
    assert_eq!(
        verify(ty, &key(), pair(&r, &s), &m, field.clone()),
        Err(DigestError::Mismatch)
    );
    let other = DigestKey::derive(&Secret::from("secreT"));
    assert_eq!(
        verify(ty, &other, pair(&s, &r), &m, field.clone()),
        Err(DigestError::Mismatch)
    );
    assert_eq!(
        verify(ty, &key(), Nonces::Sccrq, &m, field.clone()),
        Err(DigestError::Mismatch)
    );
    assert_eq!(
        verify(
            DigestType::HmacMd5,
            &key(),
            pair(&s, &r),
            &m,
            field_range(20, DigestType::HmacMd5)
        ),
        Err(DigestError::Mismatch)
    );
}

#[test]
fn bad_ranges_are_errors() {
    let ty = DigestType::HmacMd5;
    let m = message(ty, 0);
    let len = m.len();
    assert_eq!(
        verify(ty, &key(), Nonces::Sccrq, &m, len - 15..len + 1),
        Err(DigestError::FieldOutOfBounds {
            start: len - 15,
            end: len + 1,
            len
        })
    );
    assert_eq!(
        verify(ty, &key(), Nonces::Sccrq, &m, 27..47),
        Err(DigestError::WrongLength {
            expected: 16,
            found: 20
        })
    );
    #[expect(clippy::reversed_empty_ranges, reason = "testing a reversed range")]
    let reversed = 43..27;
    assert_eq!(
        verify(ty, &key(), Nonces::Sccrq, &m, reversed.clone()),
        Err(DigestError::WrongLength {
            expected: 16,
            found: 0
        })
    );
    assert_eq!(
        compute(ty, &key(), Nonces::Sccrq, &m, &[reversed]),
        Err(DigestError::FieldOutOfBounds {
            start: 43,
            end: 27,
            len
        })
    );
    assert_eq!(
        compute(ty, &key(), Nonces::Sccrq, &m, &[30..40, 35..45]),
        Err(DigestError::FieldsUnordered)
    );
    assert_eq!(
        compute(ty, &key(), Nonces::Sccrq, &m, &[30..40, 10..20]),
        Err(DigestError::FieldsUnordered)
    );
    let mut short = m.clone();
    assert_eq!(
        sign(ty, &key(), Nonces::Sccrq, &mut short[..30], 27..43),
        Err(DigestError::FieldOutOfBounds {
            start: 27,
            end: 43,
            len: 30
        })
    );
    assert_eq!(short, m, "a failed sign leaves the message unchanged");
}

#[test]
fn message_digest_verify_checks_length() {
    let m = message(DigestType::HmacMd5, 0);
    let f = field_range(20, DigestType::HmacMd5);
    let d = ok(compute(
        DigestType::HmacMd5,
        &key(),
        Nonces::Sccrq,
        &m,
        std::slice::from_ref(&f),
    ));
    assert_eq!(
        d.verify(&[0; 20]),
        Err(DigestError::WrongLength {
            expected: 16,
            found: 20
        })
    );
    assert_eq!(d.verify(&[0; 16]), Err(DigestError::Mismatch));
    ok(d.verify(&hex(MD5_SCCRQ)));
    assert!(format!("{d:?}").starts_with("MessageDigest(HMAC-MD5, "));
}

/// Two Message Digest AVPs (RFC 3931 §5.4.1): both fields are zeroed for each computation,
/// and either one verifying is enough.
#[test]
fn two_digest_avps() {
    let (s, r) = (sender(), receiver());
    // Message Type AVP, then an HMAC-MD5 digest AVP at 20, then an HMAC-SHA-1 one at 43.
    let mut m = message(DigestType::HmacMd5, 0);
    let second = [0x80, 27, 0, 0, 0, 59, 0x01];
    let at = 20 + DigestType::HmacMd5.avp_len();
    m.splice(at..at, second.iter().copied().chain([0; 20]));
    let total = m.len() as u16;
    m[2..4].copy_from_slice(&total.to_be_bytes());
    let f1 = field_range(20, DigestType::HmacMd5);
    let f2 = field_range(at, DigestType::HmacSha1);
    let both = [f1.clone(), f2.clone()];

    let old = DigestKey::derive(&Secret::from("old"));
    let new = key();
    let d1 = ok(compute(DigestType::HmacMd5, &old, pair(&s, &r), &m, &both));
    let d2 = ok(compute(DigestType::HmacSha1, &new, pair(&s, &r), &m, &both));
    m[f1.clone()].copy_from_slice(d1.as_bytes());
    m[f2.clone()].copy_from_slice(d2.as_bytes());

    // The receiver, whatever the field contents, recomputes the same digests.
    let v1 = ok(compute(DigestType::HmacMd5, &old, pair(&s, &r), &m, &both));
    let v2 = ok(compute(DigestType::HmacSha1, &new, pair(&s, &r), &m, &both));
    ok(v1.verify(&m[f1.clone()]));
    ok(v2.verify(&m[f2.clone()]));
    // A receiver that only knows the new secret accepts through the second AVP alone.
    let only_new = ok(compute(DigestType::HmacMd5, &new, pair(&s, &r), &m, &both));
    assert_eq!(only_new.verify(&m[f1]), Err(DigestError::Mismatch));
}

proptest! {
    #[test]
    fn sign_then_verify(body in prop::collection::vec(any::<u8>(), 0..200),
                        secret in prop::collection::vec(any::<u8>(), 0..100),
                        s in prop::collection::vec(any::<u8>(), 0..32),
                        r in prop::collection::vec(any::<u8>(), 0..32),
                        sha1 in any::<bool>(),
                        flip in any::<usize>()) {
        let ty = if sha1 { DigestType::HmacSha1 } else { DigestType::HmacMd5 };
        let mut m = message(ty, 0x5a);
        m.extend_from_slice(&body);
        let field = field_range(20, ty);
        let key = DigestKey::derive(&Secret::new(secret));
        prop_assert_eq!(sign(ty, &key, pair(&s, &r), &mut m, field.clone()), Ok(()));
        prop_assert_eq!(verify(ty, &key, pair(&s, &r), &m, field.clone()), Ok(()));
        let i = flip % m.len();
        m[i] ^= 0x80;
        prop_assert_eq!(
            verify(ty, &key, pair(&s, &r), &m, field),
            Err(DigestError::Mismatch)
        );
    }

    #[test]
    fn compute_never_panics(m in prop::collection::vec(any::<u8>(), 0..80),
                            ranges in prop::collection::vec((0usize..100, 0usize..100), 0..3)) {
        let ranges: Vec<Range<usize>> = ranges.into_iter().map(|(a, b)| a..b).collect();
        let _ = compute(DigestType::HmacSha1, &key(), Nonces::Sccrq, &m, &ranges);
        if let Some(r) = ranges.first() {
            let _ = verify(DigestType::HmacMd5, &key(), Nonces::Sccrq, &m, r.clone());
        }
    }
}
