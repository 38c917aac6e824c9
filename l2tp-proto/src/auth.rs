//! Shared secrets, L2TPv2 tunnel authentication and constant-time comparison.
//!
//! This module implements the CHAP-like tunnel authentication of RFC 2661 §5.1.1, whose
//! Challenge and Challenge Response AVPs are defined in RFC 2661 §4.4.3, and the [`Secret`] type
//! that every keyed computation of this crate (tunnel authentication, AVP hiding in
//! [`crate::wire::hidden`], the L2TPv3 Message Digest in [`crate::wire::digest`]) takes.
//!
//! The response is computed as in CHAP (RFC 1994 §4.1): `MD5(ID + secret + challenge)`, where
//! the one-octet ID is the Message Type of the control message that carries the Challenge
//! Response AVP (RFC 2661 §4.4.3): 2 in an SCCRP, 3 in an SCCCN. L2TPv3 has no Challenge AVP; it
//! authenticates every control message with the Message Digest AVP instead (RFC 3931 §4.3).
//!
//! Comparisons of secrets and authenticators go through [`ct_eq`], which does not exit early on
//! the first differing octet.

use std::fmt;

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

/// Length in octets of the value of a Challenge Response AVP (RFC 2661 §4.4.3): one MD5 output.
pub const RESPONSE_LEN: usize = 16;

/// A shared secret (password) between two L2TP peers.
///
/// The same secret serves tunnel authentication and AVP hiding (RFC 2661 §4.3, §5.1.1) and, in
/// L2TPv3, is the input from which the hiding and Message Digest keys are derived (RFC 3931
/// §5.3, §5.4.1).
///
/// `Debug` never shows the octets, and `==` runs in time independent of where the secrets first
/// differ (it does reveal whether their lengths differ). The octets are not wiped on drop: that
/// cannot be guaranteed without `unsafe` or an extra dependency.
#[derive(Clone, Default)]
pub struct Secret(Box<[u8]>);

impl Secret {
    /// Creates a secret from its octets.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into().into_boxed_slice())
    }

    /// Returns the octets of the secret, to feed a hash. Never log them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Returns `true` if the secret has no octets, i.e. no shared secret is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Eq for Secret {}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl From<&[u8]> for Secret {
    fn from(bytes: &[u8]) -> Self {
        Self::new(bytes)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s.as_bytes())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s.into_bytes())
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

/// The control message that carries a Challenge Response AVP.
///
/// Its Message Type is the one-octet CHAP identifier hashed into the response (RFC 2661 §4.4.3).
/// A Challenge in an SCCRQ is answered in the SCCRP, a Challenge in an SCCRP is answered in the
/// SCCCN (RFC 2661 §5.1.1); no other message carries a Challenge Response.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[repr(u8)]
pub enum ResponseMessage {
    /// Start-Control-Connection-Reply, Message Type 2.
    Sccrp = 0x02,
    /// Start-Control-Connection-Connected, Message Type 3.
    Scccn = 0x03,
}

impl ResponseMessage {
    /// Returns the CHAP identifier: the Message Type of this message.
    pub const fn chap_id(self) -> u8 {
        self as u8
    }
}

/// Computes the Challenge Response AVP value answering `challenge` (RFC 2661 §4.4.3, §5.1.1).
///
/// The result is `MD5(id + secret + challenge)` (CHAP, RFC 1994 §4.1), where `id` is the single
/// octet [`ResponseMessage::chap_id`] of the message the response is sent in, and `challenge` is
/// the value of the received Challenge AVP (after unhiding, if it was hidden).
///
/// An empty secret or challenge is hashed like any other; a sender only answers when a secret is
/// configured, and [`verify_challenge_response`] refuses both.
pub fn challenge_response(
    carrier: ResponseMessage,
    secret: &Secret,
    challenge: &[u8],
) -> [u8; RESPONSE_LEN] {
    let mut md5 = Md5::new();
    md5.update([carrier.chap_id()]);
    md5.update(secret.as_bytes());
    md5.update(challenge);
    md5.finalize().into()
}

/// Checks a received Challenge Response AVP value against the challenge this side sent.
///
/// `carrier` is the message the response arrived in (an SCCRP answers the SCCRQ's challenge, an
/// SCCCN the SCCRP's), `challenge` the value of the Challenge AVP this side sent, and `response`
/// the received value (after unhiding). The octets are compared in constant time.
///
/// Returns `false` if the response does not match, is not [`RESPONSE_LEN`] octets long, if
/// `secret` is empty (a shared secret MUST exist for tunnel authentication, RFC 2661 §5.1.1), or
/// if `challenge` is empty (a Challenge is one or more octets, RFC 2661 §4.4.3). On `false` the
/// tunnel MUST NOT be established (RFC 2661 §5.1.1).
#[must_use]
pub fn verify_challenge_response(
    carrier: ResponseMessage,
    secret: &Secret,
    challenge: &[u8],
    response: &[u8],
) -> bool {
    if secret.is_empty() || challenge.is_empty() {
        return false;
    }
    let expected = challenge_response(carrier, secret, challenge);
    ct_eq(&expected, response)
}

/// Compares two octet strings in time that does not depend on their contents.
///
/// Only the lengths may leak: strings of different lengths compare unequal immediately. Use this
/// for secrets, digests and authenticators instead of `==` on slices.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::ResponseMessage::{Scccn, Sccrp};
    use super::*;

    // Known-answer vectors computed independently with python3's hashlib on the build machine:
    //
    //   import hashlib
    //   ch = bytes(range(16))
    //   hashlib.md5(bytes([2]) + b"shhh-its-a-secret" + ch).hexdigest()
    //   hashlib.md5(bytes([3]) + b"shhh-its-a-secret" + ch).hexdigest()
    //   hashlib.md5(bytes([2]) + b"x" + b"\xa5").hexdigest()
    const KAT_SECRET: &[u8] = b"shhh-its-a-secret";
    const KAT_SCCRP: &str = "602030687ffa55bdbf733b8daee31c05";
    const KAT_SCCCN: &str = "59ae822ebc7a53e3f5e182bed2f28cd4";
    const KAT_SHORT: &str = "a52f1f258d712e97341b9f28d838cd4f";

    /// Decodes a hex string for test vectors; shared by the hidden-AVP and digest tests.
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2), "odd-length hex");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex")))
            .collect()
    }

    fn kat_challenge() -> Vec<u8> {
        (0u8..16).collect()
    }

    #[test]
    fn chap_ids_are_the_message_types() {
        assert_eq!(Sccrp.chap_id(), 2);
        assert_eq!(Scccn.chap_id(), 3);
    }

    #[test]
    fn response_known_answers() {
        let secret = Secret::new(KAT_SECRET);
        let ch = kat_challenge();
        assert_eq!(
            challenge_response(Sccrp, &secret, &ch).to_vec(),
            hex(KAT_SCCRP)
        );
        assert_eq!(
            challenge_response(Scccn, &secret, &ch).to_vec(),
            hex(KAT_SCCCN)
        );
        assert_eq!(
            challenge_response(Sccrp, &Secret::from("x"), &[0xa5]).to_vec(),
            hex(KAT_SHORT)
        );
    }

    #[test]
    fn verify_accepts_the_right_response() {
        let secret = Secret::new(KAT_SECRET);
        let ch = kat_challenge();
        assert!(verify_challenge_response(
            Sccrp,
            &secret,
            &ch,
            &hex(KAT_SCCRP)
        ));
        assert!(verify_challenge_response(
            Scccn,
            &secret,
            &ch,
            &hex(KAT_SCCCN)
        ));
    }

    #[test]
    fn verify_rejects_wrong_inputs() {
        let secret = Secret::new(KAT_SECRET);
        let ch = kat_challenge();
        let good = hex(KAT_SCCRP);
        // Wrong secret.
        assert!(!verify_challenge_response(
            Sccrp,
            &Secret::from("shhh-its-a-secreT"),
            &ch,
            &good
        ));
        // Wrong ID: the SCCRP response presented in an SCCCN.
        assert!(!verify_challenge_response(Scccn, &secret, &ch, &good));
        // Wrong challenge.
        let mut other = ch.clone();
        other[15] ^= 1;
        assert!(!verify_challenge_response(Sccrp, &secret, &other, &good));
        // Truncated, extended, flipped.
        assert!(!verify_challenge_response(Sccrp, &secret, &ch, &good[..15]));
        let mut longer = good.clone();
        longer.push(0);
        assert!(!verify_challenge_response(Sccrp, &secret, &ch, &longer));
        let mut flipped = good.clone();
        flipped[0] ^= 0x80;
        assert!(!verify_challenge_response(Sccrp, &secret, &ch, &flipped));
        assert!(!verify_challenge_response(Sccrp, &secret, &ch, &[]));
    }

    #[test]
    fn verify_refuses_empty_secret_and_empty_challenge() {
        let empty = Secret::default();
        let ch = kat_challenge();
        let r = challenge_response(Sccrp, &empty, &ch);
        assert!(!verify_challenge_response(Sccrp, &empty, &ch, &r));

        let secret = Secret::new(KAT_SECRET);
        let r = challenge_response(Sccrp, &secret, &[]);
        assert!(!verify_challenge_response(Sccrp, &secret, &[], &r));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::from("hunter2");
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("104")); // 'h' as a decimal byte
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn secret_equality_and_conversions() {
        let a = Secret::from("abc");
        assert_eq!(a, Secret::from(b"abc".as_slice()));
        assert_eq!(a, Secret::from(String::from("abc")));
        assert_eq!(a, Secret::from(vec![b'a', b'b', b'c']));
        assert_ne!(a, Secret::from("abd"));
        assert_ne!(a, Secret::from("ab"));
        assert_eq!(a.as_bytes(), b"abc");
        assert!(!a.is_empty());
        assert!(Secret::default().is_empty());
        assert_eq!(Secret::default(), Secret::new(Vec::new()));
    }

    #[test]
    fn ct_eq_matches_slice_equality_on_examples() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"", b"a"));
    }

    proptest! {
        #[test]
        fn ct_eq_agrees_with_eq(a in prop::collection::vec(any::<u8>(), 0..40),
                                b in prop::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(ct_eq(&a, &b), a == b);
            prop_assert!(ct_eq(&a, &a.clone()));
        }

        #[test]
        fn response_round_trips(secret in prop::collection::vec(any::<u8>(), 1..64),
                                challenge in prop::collection::vec(any::<u8>(), 1..64),
                                sccrp in any::<bool>()) {
            let carrier = if sccrp { Sccrp } else { Scccn };
            let secret = Secret::new(secret);
            let r = challenge_response(carrier, &secret, &challenge);
            prop_assert!(verify_challenge_response(carrier, &secret, &challenge, &r));
            let mut wrong = secret.as_bytes().to_vec();
            wrong[0] ^= 0x01;
            prop_assert!(!verify_challenge_response(carrier, &Secret::new(wrong), &challenge, &r));
        }
    }
}
