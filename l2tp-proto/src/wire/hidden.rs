//! Hiding of AVP attribute values: RFC 2661 §4.3 (L2TPv2) and RFC 3931 §5.3 (L2TPv3).
//!
//! A hidden AVP carries, instead of its value, the *Hidden AVP Subformat* — a 2-octet length of
//! the original value, the value, and optional random padding — XORed with an MD5 chain:
//!
//! ```text
//! b_1 = MD5(A + S + RV)     c_1 = p_1 xor b_1
//! b_i = MD5(S + c_(i-1))    c_i = p_i xor b_i
//! ```
//!
//! where `A` is the 2-octet Attribute Type of the AVP (network order; the Vendor ID is not
//! hashed), `RV` the value of the Random Vector AVP most closely preceding the hidden AVP in the
//! message, `p_i` the 16-octet chunks of the subformat (the last may be shorter: only the octets
//! present are XORed) and `S` the [`HidingKey`]:
//!
//! - L2TPv2: the shared secret itself (RFC 2661 §4.3);
//! - L2TPv3: `HMAC_MD5(shared_secret, 0x01)` (RFC 3931 §5.3).
//!
//! This module only transforms attribute values. Setting the H bit, placing a Random Vector AVP
//! before the first hidden AVP, drawing the random vector and the padding from the injected RNG,
//! and refusing to hide AVPs that MUST NOT be hidden are the caller's job.

use std::fmt;

use md5::{Digest, Md5};

use crate::auth::Secret;
use crate::wire::digest::hmac_md5;

/// Largest Hidden AVP Subformat (and so largest hidden Attribute Value), in octets.
///
/// The AVP Length field has 10 bits and counts the 6-octet AVP header (RFC 2661 §4.1, RFC 3931
/// §5.1), so an Attribute Value is at most 1023 - 6 octets.
pub const MAX_SUBFORMAT_LEN: usize = 1023 - 6;

/// Length of the "Length of Original Value" field that starts the subformat.
const ORIGINAL_LEN_FIELD: usize = 2;

/// MD5 output length, which is also the chunk size of the hiding chain.
const CHUNK: usize = 16;

/// Why a value could not be hidden or unhidden.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HiddenError {
    /// No shared secret is configured. The H bit MUST only be set if a shared secret exists
    /// (RFC 2661 §4.3, RFC 3931 §5.3), so an empty secret can neither hide nor unhide.
    #[error("AVP hiding needs a non-empty shared secret")]
    EmptySecret,
    /// The value plus padding does not fit in one AVP: the subformat would be `len` octets, more
    /// than [`MAX_SUBFORMAT_LEN`].
    #[error("hidden AVP subformat of {len} octets exceeds the maximum of {MAX_SUBFORMAT_LEN}")]
    TooLong {
        /// Length the subformat would have had, in octets.
        len: usize,
    },
    /// The hidden value is shorter than the 2-octet "Length of Original Value" field.
    #[error("hidden AVP value of {len} octets is too short to hold the original length")]
    TooShort {
        /// Length of the hidden value received, in octets.
        len: usize,
    },
    /// The decrypted "Length of Original Value" claims more octets than follow it. Usually the
    /// sign of a wrong secret or random vector.
    #[error("hidden AVP claims an original value of {original} octets but only {available} follow")]
    BadOriginalLength {
        /// The decrypted "Length of Original Value".
        original: u16,
        /// Octets present after the length field (value plus padding).
        available: usize,
    },
}

/// The key `S` of the hiding chain, derived once per control connection from the shared secret.
///
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct HidingKey(KeyBytes);

#[derive(Clone)]
enum KeyBytes {
    V2(Secret),
    V3([u8; CHUNK]),
}

impl HidingKey {
    /// The L2TPv2 key: the shared secret itself (RFC 2661 §4.3).
    ///
    /// Fails with [`HiddenError::EmptySecret`] if `secret` is empty.
    pub fn v2(secret: &Secret) -> Result<Self, HiddenError> {
        if secret.is_empty() {
            return Err(HiddenError::EmptySecret);
        }
        Ok(Self(KeyBytes::V2(secret.clone())))
    }

    /// The L2TPv3 key: `HMAC_MD5(shared_secret, 0x01)` (RFC 3931 §5.3).
    ///
    /// Fails with [`HiddenError::EmptySecret`] if `secret` is empty. RFC 3931 §5.3 also requires
    /// Control Message Authentication to be enabled before any AVP is hidden; the caller checks
    /// that.
    pub fn v3(secret: &Secret) -> Result<Self, HiddenError> {
        if secret.is_empty() {
            return Err(HiddenError::EmptySecret);
        }
        Ok(Self(KeyBytes::V3(hmac_md5(secret.as_bytes(), &[0x01]))))
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyBytes::V2(secret) => secret.as_bytes(),
            KeyBytes::V3(key) => key,
        }
    }
}

impl fmt::Debug for HidingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = match self.0 {
            KeyBytes::V2(_) => "v2",
            KeyBytes::V3(_) => "v3",
        };
        write!(f, "HidingKey({version}, <redacted>)")
    }
}

/// Hides `value`, returning the Attribute Value of the hidden AVP.
///
/// Builds the Hidden AVP Subformat (`value.len()` as 2 octets, `value`, `padding`) and encrypts
/// it with the MD5 chain of RFC 2661 §4.3 / RFC 3931 §5.3. The result is
/// `2 + value.len() + padding.len()` octets long.
///
/// - `attr_type` is the Attribute Type of the AVP being hidden.
/// - `random_vector` is the value of the Random Vector AVP that the caller places in the message
///   before this AVP (RFC 2661 §4.3: it MUST precede the first hidden AVP). It should come from a
///   cryptographically strong RNG and be at least 16 octets (RFC 3931 §5.4.1). In L2TPv3 the same
///   vector may not hide two AVPs of the same type with different values (RFC 3931 §5.3).
/// - `padding` is appended after the value to mask its length; it should be random. It may be
///   empty.
///
/// Fails with [`HiddenError::TooLong`] if the subformat would exceed [`MAX_SUBFORMAT_LEN`].
pub fn hide(
    attr_type: u16,
    value: &[u8],
    key: &HidingKey,
    random_vector: &[u8],
    padding: &[u8],
) -> Result<Vec<u8>, HiddenError> {
    let len = ORIGINAL_LEN_FIELD + value.len() + padding.len();
    if len > MAX_SUBFORMAT_LEN {
        return Err(HiddenError::TooLong { len });
    }
    let original_len = u16::try_from(value.len()).map_err(|_| HiddenError::TooLong { len })?;

    let mut subformat = Vec::with_capacity(len);
    subformat.extend_from_slice(&original_len.to_be_bytes());
    subformat.extend_from_slice(value);
    subformat.extend_from_slice(padding);

    let mut hash = first_block(attr_type, key, random_vector);
    let mut chunks = subformat.chunks_mut(CHUNK).peekable();
    while let Some(chunk) = chunks.next() {
        xor_into(chunk, &hash);
        if chunks.peek().is_some() {
            // The chain continues from the ciphertext just produced.
            hash = next_block(key, chunk);
        }
    }
    Ok(subformat)
}

/// Unhides the Attribute Value of a hidden AVP, returning the original value without padding.
///
/// `hidden` is the Attribute Value of the AVP with the H bit set, `attr_type` its Attribute Type,
/// and `random_vector` the value of the last Random Vector AVP before it in the same message
/// (RFC 2661 §4.3, RFC 3931 §5.3; the caller tracks it while walking the AVPs).
///
/// Never panics. Fails with [`HiddenError::TooShort`] if `hidden` cannot hold the length field
/// and with [`HiddenError::BadOriginalLength`] if the decrypted length exceeds what follows. A
/// wrong key or random vector is only detected through the latter; otherwise it yields garbage,
/// which the AVP decoder then rejects.
pub fn unhide(
    attr_type: u16,
    hidden: &[u8],
    key: &HidingKey,
    random_vector: &[u8],
) -> Result<Vec<u8>, HiddenError> {
    unhide_with_padding(attr_type, hidden, key, random_vector).map(|(value, _padding)| value)
}

/// Like [`unhide`], but also returns the decrypted padding that followed the value.
///
/// Returns `(value, padding)`; passing both back to [`hide`] with the same key, Attribute Type
/// and random vector reproduces `hidden` exactly, which lets a decoded message be re-encoded
/// byte for byte. Same errors as [`unhide`].
pub fn unhide_with_padding(
    attr_type: u16,
    hidden: &[u8],
    key: &HidingKey,
    random_vector: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), HiddenError> {
    if hidden.len() < ORIGINAL_LEN_FIELD {
        return Err(HiddenError::TooShort { len: hidden.len() });
    }

    let mut plain = hidden.to_vec();
    let mut hash = first_block(attr_type, key, random_vector);
    let mut pairs = plain.chunks_mut(CHUNK).zip(hidden.chunks(CHUNK)).peekable();
    while let Some((chunk, cipher)) = pairs.next() {
        xor_into(chunk, &hash);
        if pairs.peek().is_some() {
            // The chain continues from the received ciphertext.
            hash = next_block(key, cipher);
        }
    }

    let original = u16::from_be_bytes([plain[0], plain[1]]);
    let available = plain.len() - ORIGINAL_LEN_FIELD;
    if usize::from(original) > available {
        return Err(HiddenError::BadOriginalLength {
            original,
            available,
        });
    }
    let padding = plain.split_off(ORIGINAL_LEN_FIELD + usize::from(original));
    plain.drain(..ORIGINAL_LEN_FIELD);
    Ok((plain, padding))
}

/// `b_1 = MD5(A + S + RV)`.
fn first_block(attr_type: u16, key: &HidingKey, random_vector: &[u8]) -> [u8; CHUNK] {
    let mut md5 = Md5::new();
    md5.update(attr_type.to_be_bytes());
    md5.update(key.as_bytes());
    md5.update(random_vector);
    md5.finalize().into()
}

/// `b_i = MD5(S + c_(i-1))`.
fn next_block(key: &HidingKey, previous_cipher: &[u8]) -> [u8; CHUNK] {
    let mut md5 = Md5::new();
    md5.update(key.as_bytes());
    md5.update(previous_cipher);
    md5.finalize().into()
}

/// XORs `hash` into `chunk`; a short last chunk uses only the leading octets of `hash`.
fn xor_into(chunk: &mut [u8], hash: &[u8; CHUNK]) {
    for (octet, mask) in chunk.iter_mut().zip(hash) {
        *octet ^= mask;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::auth::tests::hex;

    // Known-answer vectors computed independently with python3's hashlib/hmac on the build
    // machine, by this straightforward transcription of RFC 2661 §4.3 / RFC 3931 §5.3:
    //
    //   import hashlib, hmac
    //   def hide(a, s, rv, sub):
    //       out, b = b"", hashlib.md5(a.to_bytes(2, "big") + s + rv).digest()
    //       for i in range(0, len(sub), 16):
    //           c = bytes(x ^ y for x, y in zip(sub[i:i+16], b))
    //           out += c
    //           b = hashlib.md5(s + c).digest()
    //       return out.hex()
    //   rv = bytes(range(0xa0, 0xb0))
    //   # V2_SHORT: Attribute Type 13, value 01 02 03 04, 12 octets of padding 0xee
    //   hide(13, b"secret", rv, (4).to_bytes(2, "big") + bytes([1, 2, 3, 4]) + b"\xee" * 12)
    //   # V2_TINY: Attribute Type 11, value 0x42, no padding (3-octet subformat)
    //   hide(11, b"secret", rv, (1).to_bytes(2, "big") + b"\x42")
    //   # V2_LONG: Attribute Type 31, value bytes(range(40)), no padding (3 chunks)
    //   hide(31, b"secret", rv, (40).to_bytes(2, "big") + bytes(range(40)))
    //   # V3_KEY and V3_LONG: same as V2_LONG with S = HMAC_MD5(b"secret", b"\x01")
    //   k = hmac.new(b"secret", b"\x01", hashlib.md5).digest()
    //   hide(31, k, rv, (40).to_bytes(2, "big") + bytes(range(40)))
    const SECRET: &str = "secret";
    const V2_SHORT: &str = "f820733fe3f1570ce6107ab1d783b21abae1";
    const V2_TINY: &str = "77e79b";
    const V2_LONG: &str = concat!(
        "7e1b39e1d47be4db5a5860f462d78139ceff34e884",
        "e7137fb737fef354f98ff0d206b31aeec63573deec",
    );
    const V3_KEY: &str = "6f9f790a8110719177da100287dae7b8";
    const V3_LONG: &str = concat!(
        "d5f0378a723adb47a463f0630483f417de4459882e",
        "b4bbfa8399d287f42304d60f53ad138e80c5470e1e",
    );

    fn rv() -> Vec<u8> {
        (0xa0..0xb0).collect()
    }

    fn v2() -> HidingKey {
        HidingKey::v2(&Secret::from(SECRET)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn v3() -> HidingKey {
        HidingKey::v3(&Secret::from(SECRET)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn ok<T>(r: Result<T, HiddenError>) -> T {
        r.unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    #[test]
    fn v2_known_answers() {
        let short = ok(hide(13, &[1, 2, 3, 4], &v2(), &rv(), &[0xee; 12]));
        assert_eq!(short, hex(V2_SHORT));
        assert_eq!(
            short.len(),
            18,
            "RFC 2661 §4.3 example: 6 + 4 + 2 + 12 = 24 octet AVP"
        );
        assert_eq!(ok(unhide(13, &short, &v2(), &rv())), [1, 2, 3, 4]);
        let (value, padding) = ok(unhide_with_padding(13, &short, &v2(), &rv()));
        assert_eq!((value, padding), (vec![1, 2, 3, 4], vec![0xee; 12]));

        let tiny = ok(hide(11, &[0x42], &v2(), &rv(), &[]));
        assert_eq!(tiny, hex(V2_TINY));
        assert_eq!(ok(unhide(11, &tiny, &v2(), &rv())), [0x42]);

        let value: Vec<u8> = (0..40).collect();
        let long = ok(hide(31, &value, &v2(), &rv(), &[]));
        assert_eq!(long, hex(V2_LONG));
        assert_eq!(ok(unhide(31, &long, &v2(), &rv())), value);
    }

    #[test]
    fn v3_key_derivation_and_known_answer() {
        assert_eq!(v3().as_bytes(), hex(V3_KEY));
        let value: Vec<u8> = (0..40).collect();
        let long = ok(hide(31, &value, &v3(), &rv(), &[]));
        assert_eq!(long, hex(V3_LONG));
        assert_eq!(ok(unhide(31, &long, &v3(), &rv())), value);
        assert_ne!(long, hex(V2_LONG));
    }

    #[test]
    fn empty_secret_is_refused() {
        assert_eq!(
            HidingKey::v2(&Secret::default()).err(),
            Some(HiddenError::EmptySecret)
        );
        assert_eq!(
            HidingKey::v3(&Secret::default()).err(),
            Some(HiddenError::EmptySecret)
        );
    }

    #[test]
    fn key_debug_is_redacted() {
        let shown = format!("{:?} {:?}", v2(), v3());
        assert_eq!(shown, "HidingKey(v2, <redacted>) HidingKey(v3, <redacted>)");
    }

    #[test]
    fn empty_value_round_trips() {
        let hidden = ok(hide(7, &[], &v2(), &rv(), &[]));
        assert_eq!(hidden.len(), 2);
        assert_eq!(ok(unhide(7, &hidden, &v2(), &rv())), Vec::<u8>::new());
    }

    #[test]
    fn size_limits() {
        let max_value = vec![0x55; MAX_SUBFORMAT_LEN - 2];
        let hidden = ok(hide(1, &max_value, &v2(), &rv(), &[]));
        assert_eq!(hidden.len(), MAX_SUBFORMAT_LEN);
        assert_eq!(ok(unhide(1, &hidden, &v2(), &rv())), max_value);

        assert_eq!(
            hide(1, &max_value, &v2(), &rv(), &[0]),
            Err(HiddenError::TooLong {
                len: MAX_SUBFORMAT_LEN + 1
            })
        );
        assert_eq!(
            hide(1, &vec![0; 70_000], &v2(), &rv(), &[]),
            Err(HiddenError::TooLong { len: 70_002 })
        );
    }

    #[test]
    fn malformed_hidden_values_are_errors() {
        assert_eq!(
            unhide(1, &[], &v2(), &rv()),
            Err(HiddenError::TooShort { len: 0 })
        );
        assert_eq!(
            unhide(1, &[0x12], &v2(), &rv()),
            Err(HiddenError::TooShort { len: 1 })
        );

        // A subformat claiming 5 octets with only 3 present.
        let mut hidden = ok(hide(1, &[1, 2, 3], &v2(), &rv(), &[]));
        let claim = 3u16 ^ 5;
        hidden[0] ^= (claim >> 8) as u8;
        hidden[1] ^= (claim & 0xff) as u8;
        assert_eq!(
            unhide(1, &hidden, &v2(), &rv()),
            Err(HiddenError::BadOriginalLength {
                original: 5,
                available: 3
            })
        );
    }

    #[test]
    fn wrong_inputs_do_not_recover_the_value() {
        let value = b"a password of some length".to_vec();
        let hidden = ok(hide(26, &value, &v2(), &rv(), &[9; 7]));
        let other_key = ok(HidingKey::v2(&Secret::from("Secret")));
        let mut other_rv = rv();
        other_rv[0] ^= 1;
        for (attr, key, rv) in [
            (26, &other_key, rv()),
            (27, &v2(), rv()),
            (26, &v2(), other_rv),
        ] {
            assert_ne!(unhide(attr, &hidden, key, &rv).ok(), Some(value.clone()));
        }
        assert_ne!(unhide(26, &hidden, &v3(), &rv()).ok(), Some(value));
    }

    proptest! {
        #[test]
        fn round_trip(attr in any::<u16>(),
                      value in prop::collection::vec(any::<u8>(), 0..=MAX_SUBFORMAT_LEN),
                      padding in prop::collection::vec(any::<u8>(), 0..=64),
                      secret in prop::collection::vec(any::<u8>(), 1..40),
                      rv in prop::collection::vec(any::<u8>(), 0..40),
                      v3 in any::<bool>()) {
            let secret = Secret::new(secret);
            let key = if v3 { HidingKey::v3(&secret) } else { HidingKey::v2(&secret) };
            let key = key.unwrap_or_else(|e| panic!("{e}"));
            let len = 2 + value.len() + padding.len();
            match hide(attr, &value, &key, &rv, &padding) {
                Ok(hidden) => {
                    prop_assert!(len <= MAX_SUBFORMAT_LEN);
                    prop_assert_eq!(hidden.len(), len);
                    prop_assert_eq!(unhide(attr, &hidden, &key, &rv), Ok(value.clone()));
                    let split = unhide_with_padding(attr, &hidden, &key, &rv);
                    prop_assert_eq!(split, Ok((value, padding)));
                }
                Err(e) => {
                    prop_assert!(len > MAX_SUBFORMAT_LEN);
                    prop_assert_eq!(e, HiddenError::TooLong { len });
                }
            }
        }

        #[test]
        fn unhide_never_panics(attr in any::<u16>(),
                               hidden in prop::collection::vec(any::<u8>(), 0..1100),
                               rv in prop::collection::vec(any::<u8>(), 0..40),
                               v3 in any::<bool>()) {
            let secret = Secret::from(SECRET);
            let key = if v3 { HidingKey::v3(&secret) } else { HidingKey::v2(&secret) };
            let key = key.unwrap_or_else(|e| panic!("{e}"));
            if let Ok(value) = unhide(attr, &hidden, &key, &rv) {
                prop_assert!(value.len() + 2 <= hidden.len());
            }
            // Whatever it decodes to re-hides to the same octets.
            if let Ok((value, padding)) = unhide_with_padding(attr, &hidden, &key, &rv) {
                prop_assert_eq!(value.len() + padding.len() + 2, hidden.len());
                if hidden.len() <= MAX_SUBFORMAT_LEN {
                    prop_assert_eq!(hide(attr, &value, &key, &rv, &padding), Ok(hidden));
                }
            }
        }
    }
}
