//! The keyed computations of RADIUS: authenticators, Message-Authenticator, and the hiding of
//! User-Password and of salted attributes.
//!
//! - Request and Response Authenticators (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3): MD5 over
//!   the packet followed by the shared secret ([`md5_authenticator`]).
//! - Message-Authenticator (RFC 2869 §5.14): HMAC-MD5 keyed with the shared secret
//!   ([`hmac_md5`]).
//! - User-Password (RFC 2865 §5.2): the password, padded with NULs to a multiple of 16 octets
//!   (at most 128), XORed block by block with `MD5(secret + previous block)`, the first
//!   "previous block" being the Request Authenticator ([`hide_user_password`],
//!   [`reveal_user_password`]).
//! - Salted values: Tunnel-Password (RFC 2868 §3.5) and MS-MPPE-Send/Recv-Key (RFC 2548
//!   §2.4.2): a length octet, the value and NUL padding, hidden like User-Password but with the
//!   two-octet salt appended to the Request Authenticator for the first block
//!   ([`salt_encrypt`], [`salt_decrypt`]).
//!
//! The secret is a [`Secret`], whose `Debug` output is redacted; nothing here logs.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};

use crate::Secret;

/// Length of an authenticator and of an MD5 or HMAC-MD5 output.
pub const AUTHENTICATOR_LEN: usize = 16;

/// The longest User-Password before hiding (RFC 2865 §5.2).
pub const MAX_PASSWORD_LEN: usize = 128;

/// What can go wrong hiding or revealing a value.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// The value is longer than the attribute can hold.
    #[error("value of {0} octets is too long to hide")]
    TooLong(usize),
    /// The hidden value does not have a valid length (a multiple of 16 after the salt).
    #[error("hidden value has an invalid length of {0} octets")]
    BadLength(usize),
    /// A salt without its most significant bit set (RFC 2868 §3.5).
    #[error("salt without its most significant bit set")]
    BadSalt,
    /// The revealed length octet says more than the hidden data holds: the secret or the
    /// Request Authenticator is wrong, or the value was forged.
    #[error("revealed length does not fit the hidden data")]
    BadPlaintext,
}

/// `MD5(bytes + secret)`: the Response Authenticator of a response whose Authenticator field
/// holds the Request Authenticator (RFC 2865 §3), and the Request Authenticator of an
/// Accounting-, Disconnect- or CoA-Request whose Authenticator field holds zeros (RFC 2866 §3,
/// RFC 5176 §2.3).
pub fn md5_authenticator(bytes: &[u8], secret: &Secret) -> [u8; AUTHENTICATOR_LEN] {
    let mut md5 = Md5::new();
    md5.update(bytes);
    md5.update(secret.as_bytes());
    md5.finalize().into()
}

/// HMAC-MD5 of `bytes` keyed with `secret` (RFC 2869 §5.14, RFC 2104).
pub fn hmac_md5(secret: &Secret, bytes: &[u8]) -> [u8; AUTHENTICATOR_LEN] {
    // HMAC takes keys of any length.
    let Ok(mut mac) = <Hmac<Md5> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return [0; AUTHENTICATOR_LEN];
    };
    mac.update(bytes);
    mac.finalize().into_bytes().into()
}

/// Appends the hidden form of `password` to `out` (RFC 2865 §5.2).
///
/// An empty password is hidden as one block of NULs.
///
/// # Errors
///
/// [`CryptError::TooLong`] for a password of more than [`MAX_PASSWORD_LEN`] octets.
pub fn hide_user_password(
    password: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    out: &mut Vec<u8>,
) -> Result<(), CryptError> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(CryptError::TooLong(password.len()));
    }
    let blocks = password.len().div_ceil(16).max(1);
    hide_blocks(password, blocks, secret, request_authenticator, &[], out);
    Ok(())
}

/// Reveals a hidden User-Password (RFC 2865 §5.2); trailing NUL padding is removed.
///
/// # Errors
///
/// [`CryptError::BadLength`] unless `hidden` is 16 to 128 octets, a multiple of 16.
pub fn reveal_user_password(
    hidden: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
) -> Result<Vec<u8>, CryptError> {
    if hidden.is_empty() || !hidden.len().is_multiple_of(16) || hidden.len() > MAX_PASSWORD_LEN {
        return Err(CryptError::BadLength(hidden.len()));
    }
    let mut plain = reveal_blocks(hidden, secret, request_authenticator, &[]);
    while plain.last() == Some(&0) {
        plain.pop();
    }
    Ok(plain)
}

/// Appends a salted value to `out`: the salt, then `value` prefixed by its length and hidden
/// (RFC 2868 §3.5, RFC 2548 §2.4.2). The caller writes a tag before it where the attribute has
/// one. `salt` must have its most significant bit set and should be unique per value.
///
/// # Errors
///
/// [`CryptError::TooLong`] if the result would not fit an attribute; [`CryptError::BadSalt`].
pub fn salt_encrypt(
    value: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    salt: [u8; 2],
    out: &mut Vec<u8>,
) -> Result<(), CryptError> {
    if salt[0] & 0x80 == 0 {
        return Err(CryptError::BadSalt);
    }
    // Tag + salt + blocks must fit in 253 octets: at most 15 blocks, i.e. 239 octets of value.
    if value.len() > 239 {
        return Err(CryptError::TooLong(value.len()));
    }
    let mut plain = Vec::with_capacity(value.len() + 1);
    plain.push(value.len() as u8);
    plain.extend_from_slice(value);
    out.extend_from_slice(&salt);
    let blocks = plain.len().div_ceil(16);
    hide_blocks(&plain, blocks, secret, request_authenticator, &salt, out);
    Ok(())
}

/// Reveals a salted value: `data` is the salt followed by the hidden blocks (the tag, where the
/// attribute has one, already removed).
///
/// # Errors
///
/// [`CryptError::BadLength`], [`CryptError::BadSalt`] or [`CryptError::BadPlaintext`] (the
/// length octet does not fit: wrong secret or authenticator, or a forged value).
pub fn salt_decrypt(
    data: &[u8],
    secret: &Secret,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
) -> Result<Vec<u8>, CryptError> {
    let (salt, hidden) = data
        .split_at_checked(2)
        .ok_or(CryptError::BadLength(data.len()))?;
    if hidden.is_empty() || !hidden.len().is_multiple_of(16) {
        return Err(CryptError::BadLength(data.len()));
    }
    if salt[0] & 0x80 == 0 {
        return Err(CryptError::BadSalt);
    }
    let plain = reveal_blocks(hidden, secret, request_authenticator, salt);
    let len = usize::from(plain[0]);
    plain
        .get(1..1 + len)
        .map(<[u8]>::to_vec)
        .ok_or(CryptError::BadPlaintext)
}

/// `b(1) = MD5(secret + authenticator + salt)`, `b(i) = MD5(secret + c(i-1))`.
fn pad_block(secret: &Secret, previous: &[u8], salt: &[u8]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(secret.as_bytes());
    md5.update(previous);
    md5.update(salt);
    md5.finalize().into()
}

fn hide_blocks(
    plain: &[u8],
    blocks: usize,
    secret: &Secret,
    authenticator: &[u8; 16],
    salt: &[u8],
    out: &mut Vec<u8>,
) {
    let mut previous = *authenticator;
    let mut first = true;
    for i in 0..blocks {
        let pad = pad_block(secret, &previous, if first { salt } else { &[] });
        first = false;
        let mut block = [0u8; 16];
        for (j, b) in block.iter_mut().enumerate() {
            *b = plain.get(i * 16 + j).copied().unwrap_or(0) ^ pad[j];
        }
        out.extend_from_slice(&block);
        previous = block;
    }
}

fn reveal_blocks(hidden: &[u8], secret: &Secret, authenticator: &[u8; 16], salt: &[u8]) -> Vec<u8> {
    let mut plain = Vec::with_capacity(hidden.len());
    let mut previous: &[u8] = authenticator;
    let mut first = true;
    for chunk in hidden.chunks(16) {
        let pad = pad_block(secret, previous, if first { salt } else { &[] });
        first = false;
        plain.extend(chunk.iter().zip(pad).map(|(c, p)| c ^ p));
        previous = chunk;
    }
    plain
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const RA: [u8; 16] = [
        0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22,
        0x7a,
    ];

    #[test]
    fn rfc2865_section_7_1_password() {
        // RFC 2865 §7.1: "arctangent" with secret "xyzzy5461".
        let secret = Secret::from("xyzzy5461");
        let mut out = Vec::new();
        hide_user_password(b"arctangent", &secret, &RA, &mut out).unwrap();
        assert_eq!(
            out,
            [
                0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce, 0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a,
                0x0a, 0xee
            ]
        );
        assert_eq!(
            reveal_user_password(&out, &secret, &RA).unwrap(),
            b"arctangent"
        );
    }

    #[test]
    fn passwords_of_every_length() {
        let secret = Secret::from("s");
        for len in 0..=MAX_PASSWORD_LEN {
            let password: Vec<u8> = (0..len).map(|i| (i as u8) | 1).collect();
            let mut out = Vec::new();
            hide_user_password(&password, &secret, &RA, &mut out).unwrap();
            assert_eq!(out.len(), len.div_ceil(16).max(1) * 16);
            assert_eq!(reveal_user_password(&out, &secret, &RA).unwrap(), password);
        }
        let mut out = Vec::new();
        assert_eq!(
            hide_user_password(&[1; 129], &secret, &RA, &mut out),
            Err(CryptError::TooLong(129))
        );
        assert!(reveal_user_password(&[0; 15], &secret, &RA).is_err());
    }

    #[test]
    fn salted_round_trip_and_wrong_secret() {
        let secret = Secret::from("tunnel-secret");
        for len in [0usize, 1, 15, 16, 31, 100, 239] {
            let value: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = Vec::new();
            salt_encrypt(&value, &secret, &RA, [0x81, 0x23], &mut out).unwrap();
            assert_eq!(out.len(), 2 + (len + 1).div_ceil(16) * 16);
            assert_eq!(salt_decrypt(&out, &secret, &RA).unwrap(), value);
        }
        let mut out = Vec::new();
        assert_eq!(
            salt_encrypt(b"x", &secret, &RA, [0x01, 0], &mut out),
            Err(CryptError::BadSalt)
        );
        salt_encrypt(b"short", &secret, &RA, [0x80, 1], &mut out).unwrap();
        // With the wrong secret the length octet is garbage; mostly it does not fit.
        let wrong: Vec<_> = (0..64)
            .map(|i| salt_decrypt(&out, &Secret::new(vec![i]), &RA))
            .collect();
        assert!(wrong.iter().any(Result::is_err));
        assert!(wrong.iter().all(|r| r.as_deref() != Ok(&b"short"[..])));
    }

    #[test]
    fn hmac_md5_rfc2202_case_2() {
        // RFC 2202 §2, test case 2.
        let mac = hmac_md5(&Secret::from("Jefe"), b"what do ya want for nothing?");
        assert_eq!(
            mac,
            [
                0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d,
                0xb7, 0x38
            ]
        );
    }
}
