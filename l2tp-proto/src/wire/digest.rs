//! L2TPv3 Control Message Authentication: the Message Digest AVP (RFC 3931 §4.3, §5.4.1).
//!
//! Every control message of a control connection with authentication enabled carries a Message
//! Digest AVP (Attribute Type 59) right after the Message Type AVP (RFC 3931 §5.4.1). Its value
//! is one Digest Type octet ([`DigestType`]) followed by
//!
//! ```text
//! HMAC_Hash(shared_key, sender_nonce + receiver_nonce + control_message)   all but SCCRQ
//! HMAC_Hash(shared_key, control_message)                                    SCCRQ
//! shared_key = HMAC_MD5(shared_secret, 0x02)
//! ```
//!
//! # What to pass
//!
//! - **`message`**: exactly the L2TP control message, from the first octet of the control header
//!   (the one holding the T and L bits) to the end of the last AVP, i.e. the `Length` octets the
//!   header announces. Over IP this *excludes* the 4-octet all-zero Session ID that precedes the
//!   header; over UDP it starts right after the UDP header (RFC 3931 §5.4.1 "control_message",
//!   §4.1.1.2, §4.1.2.1). The Message Digest AVP is present in it with its Digest Type octet set;
//!   the digest octets are ignored, as they are treated as zeros (RFC 3931 §5.4.1).
//! - **Digest field**: the byte range, inside `message`, of the digest octets only (not the AVP
//!   header, not the Digest Type octet). With the 12-octet L2TPv3 control header and the 8-octet
//!   Message Type AVP, the first Message Digest AVP starts at offset 20, so its digest field is
//!   [`field_range`]`(20, ty)` = `27..43` (HMAC-MD5) or `27..47` (HMAC-SHA-1).
//! - **[`Nonces`]**: the values of the two Control Message Authentication Nonce AVPs (Attribute
//!   Type 73) exchanged in the SCCRQ and SCCRP, ordered from the point of view of the LCCE that
//!   *sends the digested message*: `sender` is the nonce that LCCE advertised, `receiver` the one
//!   its peer advertised. The RFC calls them `local_nonce + remote_nonce` when signing and
//!   says they are "reversed" when verifying; with `sender`/`receiver` the same call works in both
//!   directions. The SCCRQ uses [`Nonces::Sccrq`]: only one nonce exists yet and it is inside
//!   the message. The receiver of an SCCRP has to read the SCCRP's nonce before verifying it.
//! - **[`DigestKey`]**: [`DigestKey::derive`] from the shared secret, once per control
//!   connection. If authentication is disabled but digests are used as an integrity check
//!   (RFC 3931 §4.3), use [`DigestKey::integrity_only`] and empty nonces.
//!
//! Verification MUST happen before any information in the message is used, and a message that
//! fails it MUST be dropped (RFC 3931 §5.4.1).
//!
//! # Two Message Digest AVPs
//!
//! During a change of secret or algorithm a message may carry a second Message Digest AVP
//! directly after the first, and two secrets may be configured (RFC 3931 §5.4.1). Both digest
//! fields are then zeroed for every computation: call [`compute`] with both ranges in `zeroed`,
//! once per (digest type, key) pair, write each result into its field to sign, or compare it
//! with [`MessageDigest::verify`] against each received field and accept the message if any
//! comparison succeeds. [`sign`] and [`verify`] cover the usual single-AVP case.

use std::fmt;
use std::ops::Range;

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::auth::Secret;

/// Length of the longest digest ([`DigestType::HmacSha1`]).
const MAX_DIGEST_LEN: usize = 20;

/// Length of the AVP header (flags/length, Vendor ID, Attribute Type) before the Digest Type.
const AVP_HEADER_LEN: usize = 6;

/// The Digest Type octet of a Message Digest AVP (RFC 3931 §5.4.1).
///
/// HMAC-MD5 MUST be supported and HMAC-SHA-1 SHOULD be (RFC 3931 §5.4.1); both are.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[repr(u8)]
pub enum DigestType {
    /// HMAC-MD5 (RFC 2104), a 16-octet digest.
    HmacMd5 = 0x00,
    /// HMAC-SHA-1 (RFC 2104), a 20-octet digest.
    HmacSha1 = 0x01,
}

impl DigestType {
    /// Returns the length of the digest in octets: 16 for HMAC-MD5 and 20 for HMAC-SHA-1, as
    /// RFC 3931 §5.4.1 requires.
    pub const fn digest_len(self) -> usize {
        match self {
            Self::HmacMd5 => 16,
            Self::HmacSha1 => 20,
        }
    }

    /// Returns the Length of a Message Digest AVP of this type: 6 (header) + 1 (Digest Type) +
    /// the digest, i.e. 23 or 27.
    ///
    /// RFC 3931 §5.4.1 states 23 for "Digest Type 1 (HMAC-MD5)" and 27 for "Digest Type 2
    /// (HMAC-SHA-1)"; the type numbers there are off by one (the Digest Types are 0 and 1), the
    /// lengths are right.
    pub const fn avp_len(self) -> usize {
        AVP_HEADER_LEN + 1 + self.digest_len()
    }
}

impl fmt::Display for DigestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HmacMd5 => "HMAC-MD5",
            Self::HmacSha1 => "HMAC-SHA-1",
        })
    }
}

impl From<DigestType> for u8 {
    fn from(ty: DigestType) -> Self {
        ty as u8
    }
}

impl TryFrom<u8> for DigestType {
    type Error = DigestError;

    /// Decodes a Digest Type octet; other values are [`DigestError::UnknownType`].
    fn try_from(octet: u8) -> Result<Self, DigestError> {
        match octet {
            0x00 => Ok(Self::HmacMd5),
            0x01 => Ok(Self::HmacSha1),
            other => Err(DigestError::UnknownType(other)),
        }
    }
}

/// Why a Message Digest could not be computed or did not verify.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The Digest Type octet is neither 0 (HMAC-MD5) nor 1 (HMAC-SHA-1).
    #[error("unknown Message Digest type {0}")]
    UnknownType(u8),
    /// A digest field range does not lie inside the message (or ends before it starts).
    #[error("digest field {start}..{end} is outside the {len}-octet message")]
    FieldOutOfBounds {
        /// Start of the offending range.
        start: usize,
        /// End of the offending range.
        end: usize,
        /// Length of the message.
        len: usize,
    },
    /// The ranges to zero overlap or are not in ascending order.
    #[error("digest fields overlap or are not in ascending order")]
    FieldsUnordered,
    /// The digest field or received digest has the wrong length for its Digest Type.
    #[error("digest of {found} octets, {expected} expected")]
    WrongLength {
        /// Length required by the Digest Type.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The digest does not match: the message MUST be dropped (RFC 3931 §5.4.1).
    #[error("Message Digest mismatch")]
    Mismatch,
}

/// The shared key for Control Message Authentication, `HMAC_MD5(shared_secret, 0x02)` (RFC 3931
/// §5.4.1).
///
/// Derive it once per control connection. `Debug` never shows it.
#[derive(Clone)]
pub struct DigestKey([u8; 16]);

impl DigestKey {
    /// Derives the key from the shared secret (RFC 3931 §5.4.1).
    pub fn derive(secret: &Secret) -> Self {
        Self(hmac_md5(secret.as_bytes(), &[0x02]))
    }

    /// The key for the integrity-check-only mode of RFC 3931 §4.3, used when Control Message
    /// Authentication is disabled but Message Digest AVPs are still sent or checked: the key is
    /// derived, as in [`DigestKey::derive`], from an empty shared secret. Pair it with empty
    /// nonces.
    pub fn integrity_only() -> Self {
        Self::derive(&Secret::default())
    }
}

impl fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DigestKey(<redacted>)")
    }
}

/// The Control Message Authentication Nonces that precede the message in the hash.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Nonces<'a> {
    /// The message is an SCCRQ: no nonce is hashed, the sender's nonce being inside the message
    /// itself (RFC 3931 §5.4.1).
    Sccrq,
    /// Any other message: `sender + receiver` is hashed before the message.
    Exchanged {
        /// The nonce advertised by the LCCE that sends this message (when signing: the local
        /// nonce; when verifying: the peer's nonce).
        sender: &'a [u8],
        /// The nonce advertised by the LCCE that receives this message (when signing: the peer's
        /// nonce; when verifying: the local nonce).
        receiver: &'a [u8],
    },
}

/// A computed Message Digest, compared in constant time.
#[derive(Clone, Copy)]
pub struct MessageDigest {
    ty: DigestType,
    bytes: [u8; MAX_DIGEST_LEN],
}

impl MessageDigest {
    /// Returns the Digest Type this digest was computed with.
    pub fn digest_type(&self) -> DigestType {
        self.ty
    }

    /// Returns the digest octets, [`DigestType::digest_len`] of them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.ty.digest_len()]
    }

    /// Compares `received` with this digest in constant time.
    ///
    /// Fails with [`DigestError::WrongLength`] if `received` is not [`DigestType::digest_len`]
    /// octets long and with [`DigestError::Mismatch`] if the octets differ.
    pub fn verify(&self, received: &[u8]) -> Result<(), DigestError> {
        let expected = self.as_bytes();
        if received.len() != expected.len() {
            return Err(DigestError::WrongLength {
                expected: expected.len(),
                found: received.len(),
            });
        }
        if bool::from(expected.ct_eq(received)) {
            Ok(())
        } else {
            Err(DigestError::Mismatch)
        }
    }
}

impl fmt::Debug for MessageDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageDigest({}, ", self.ty)?;
        for octet in self.as_bytes() {
            write!(f, "{octet:02x}")?;
        }
        f.write_str(")")
    }
}

impl Eq for MessageDigest {}

impl PartialEq for MessageDigest {
    fn eq(&self, other: &Self) -> bool {
        self.ty == other.ty && bool::from(self.as_bytes().ct_eq(other.as_bytes()))
    }
}

/// Returns the range of the digest octets of a Message Digest AVP of type `ty` that starts at
/// `avp_offset` in the message: the AVP header (6 octets) and Digest Type (1 octet) are skipped.
pub const fn field_range(avp_offset: usize, ty: DigestType) -> Range<usize> {
    let start = avp_offset + AVP_HEADER_LEN + 1;
    start..start + ty.digest_len()
}

/// Computes the Message Digest of `message` (RFC 3931 §5.4.1), treating every range in `zeroed`
/// as zeros.
///
/// See the [module documentation](self) for exactly which octets `message` holds and how to
/// choose `nonces`. `zeroed` lists the digest fields of all Message Digest AVPs in the message
/// (normally one), in ascending order and not overlapping; the octets in them are not read.
///
/// Fails with [`DigestError::FieldOutOfBounds`] or [`DigestError::FieldsUnordered`] if
/// `zeroed` is not as described. Never panics.
pub fn compute(
    ty: DigestType,
    key: &DigestKey,
    nonces: Nonces<'_>,
    message: &[u8],
    zeroed: &[Range<usize>],
) -> Result<MessageDigest, DigestError> {
    check_ranges(message.len(), zeroed)?;
    let mut mac = HmacAny::new(ty, &key.0);
    if let Nonces::Exchanged { sender, receiver } = nonces {
        mac.update(sender);
        mac.update(receiver);
    }
    let mut pos = 0;
    for range in zeroed {
        mac.update(&message[pos..range.start]);
        let mut left = range.len();
        while left > 0 {
            let n = left.min(ZEROS.len());
            mac.update(&ZEROS[..n]);
            left -= n;
        }
        pos = range.end;
    }
    mac.update(&message[pos..]);
    Ok(mac.finalize())
}

/// Writes the Message Digest of `message` into its digest field (RFC 3931 §5.4.1).
///
/// Call this last, once the encoded message is complete, with `field` the digest octets of its
/// single Message Digest AVP (see [`field_range`]); the Digest Type octet must already hold
/// `ty`. Whatever `field` holds on entry is ignored. On error `message` is left unchanged.
pub fn sign(
    ty: DigestType,
    key: &DigestKey,
    nonces: Nonces<'_>,
    message: &mut [u8],
    field: Range<usize>,
) -> Result<(), DigestError> {
    check_field_len(ty, &field)?;
    let digest = compute(ty, key, nonces, message, std::slice::from_ref(&field))?;
    message[field].copy_from_slice(digest.as_bytes());
    Ok(())
}

/// Verifies the Message Digest of a received `message` that carries a single Message Digest AVP
/// (RFC 3931 §5.4.1), comparing in constant time.
///
/// `ty` is the Digest Type read from the AVP and `field` the range of its digest octets;
/// `nonces` are ordered sender first, i.e. the peer's nonce first. On any error the message MUST
/// be dropped without using its contents (RFC 3931 §5.4.1).
pub fn verify(
    ty: DigestType,
    key: &DigestKey,
    nonces: Nonces<'_>,
    message: &[u8],
    field: Range<usize>,
) -> Result<(), DigestError> {
    check_field_len(ty, &field)?;
    let digest = compute(ty, key, nonces, message, std::slice::from_ref(&field))?;
    digest.verify(&message[field])
}

/// Source of zero octets fed to the HMAC in place of digest fields.
const ZEROS: [u8; 32] = [0; 32];

fn check_ranges(len: usize, ranges: &[Range<usize>]) -> Result<(), DigestError> {
    let mut previous_end = 0;
    for range in ranges {
        if range.start > range.end || range.end > len {
            return Err(DigestError::FieldOutOfBounds {
                start: range.start,
                end: range.end,
                len,
            });
        }
        if range.start < previous_end {
            return Err(DigestError::FieldsUnordered);
        }
        previous_end = range.end;
    }
    Ok(())
}

fn check_field_len(ty: DigestType, field: &Range<usize>) -> Result<(), DigestError> {
    let found = field.end.saturating_sub(field.start);
    if found != ty.digest_len() {
        return Err(DigestError::WrongLength {
            expected: ty.digest_len(),
            found,
        });
    }
    Ok(())
}

/// An HMAC in progress with the hash chosen at run time.
enum HmacAny {
    Md5(Hmac<Md5>),
    Sha1(Hmac<Sha1>),
}

impl HmacAny {
    fn new(ty: DigestType, key: &[u8]) -> Self {
        match ty {
            DigestType::HmacMd5 => Self::Md5(new_hmac(key)),
            DigestType::HmacSha1 => Self::Sha1(new_hmac(key)),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Md5(mac) => mac.update(data),
            Self::Sha1(mac) => mac.update(data),
        }
    }

    fn finalize(self) -> MessageDigest {
        let mut bytes = [0; MAX_DIGEST_LEN];
        let ty = match self {
            Self::Md5(mac) => {
                bytes[..16].copy_from_slice(&mac.finalize().into_bytes());
                DigestType::HmacMd5
            }
            Self::Sha1(mac) => {
                bytes.copy_from_slice(&mac.finalize().into_bytes());
                DigestType::HmacSha1
            }
        };
        MessageDigest { ty, bytes }
    }
}

#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length (RFC 2104 §2); new_from_slice never fails"
)]
fn new_hmac<M: KeyInit + Mac>(key: &[u8]) -> M {
    <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// HMAC-MD5 (RFC 2104) with a key of any length; also derives the L2TPv3 hiding key.
pub(crate) fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut mac = HmacAny::new(DigestType::HmacMd5, key);
    mac.update(data);
    let mut out = [0; 16];
    out.copy_from_slice(mac.finalize().as_bytes());
    out
}

#[cfg(test)]
mod tests;
