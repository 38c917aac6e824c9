//! The verification maths, as pure functions a host uses for local users:
//!
//! - PAP (RFC 1334 §2.2.1): the password itself, compared in constant time ([`pap_matches`]);
//! - CHAP with MD5 (RFC 1994 §4.1): `MD5(Identifier ‖ secret ‖ Challenge)`
//!   ([`chap_md5_response`]);
//! - MS-CHAPv2 (RFC 2759 §8): the NT password hash, the challenge hash, the 24-octet
//!   NT-Response and the 20-octet authenticator response the peer checks
//!   ([`nt_password_hash`], [`challenge_hash`], [`generate_nt_response`],
//!   [`generate_authenticator_response`]).

use des::Des;
use des::cipher::{BlockCipherEncrypt, KeyInit};
use md4::Md4;
use md5::Md5;
use sha1::{Digest, Sha1};

use super::secret::{NtHash, Password, ct_eq};

/// Whether a PAP password equals the expected one, in constant time.
pub fn pap_matches(received: &Password, expected: &Password) -> bool {
    received == expected
}

/// A digest of a PAP Authenticate-Request's Peer-ID and Password (each with its length), to
/// tell a retransmission of a request from another one without keeping the password.
pub fn pap_request_digest(peer_id: &[u8], password: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    for part in [peer_id, password] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The Peer-Challenge of our MS-CHAPv2 Response (RFC 2759 §4: 16 random octets) to
/// `challenge`: MD5 over a random `salt` of the link and the Challenge value, so that the same
/// Challenge gets the same Response and others cannot foretell it.
pub fn ms_chap_v2_peer_challenge(salt: &[u8; 8], challenge: &[u8; 16]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(salt);
    h.update(challenge);
    h.finalize().into()
}

/// The CHAP-MD5 Response value (RFC 1994 §4.1): MD5 over the Identifier, the secret and the
/// Challenge value.
pub fn chap_md5_response(identifier: u8, secret: &Password, challenge: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update([identifier]);
    h.update(secret.as_bytes());
    h.update(challenge);
    h.finalize().into()
}

/// Whether a CHAP-MD5 Response value is right for `secret`, in constant time.
pub fn chap_md5_matches(identifier: u8, secret: &Password, challenge: &[u8], value: &[u8]) -> bool {
    ct_eq(&chap_md5_response(identifier, secret, challenge), value)
}

/// NtPasswordHash (RFC 2759 §8.3): MD4 over the password in UTF-16 little-endian. The password
/// is read as UTF-8 (invalid sequences become U+FFFD).
pub fn nt_password_hash(password: &Password) -> NtHash {
    let mut h = Md4::new();
    for unit in String::from_utf8_lossy(password.as_bytes()).encode_utf16() {
        h.update(unit.to_le_bytes());
    }
    NtHash(h.finalize().into())
}

/// The user name as MS-CHAPv2 hashes it: without a Windows domain ("DOMAIN\user" → "user";
/// RFC 2759 §4, §8.2).
pub fn strip_domain(user: &[u8]) -> &[u8] {
    match user.iter().rposition(|&b| b == b'\\') {
        Some(i) => &user[i + 1..],
        None => user,
    }
}

/// ChallengeHash (RFC 2759 §8.2): the first 8 octets of SHA-1 over the peer's challenge, the
/// authenticator's challenge and the user name (without domain).
pub fn challenge_hash(
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user: &[u8],
) -> [u8; 8] {
    let mut h = Sha1::new();
    h.update(peer_challenge);
    h.update(authenticator_challenge);
    h.update(strip_domain(user));
    let digest: [u8; 20] = h.finalize().into();
    let mut out = [0; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// ChallengeResponse (RFC 2759 §8.5): the challenge encrypted with DES under three keys cut
/// from the password hash padded to 21 octets.
pub fn challenge_response(challenge: &[u8; 8], hash: &NtHash) -> [u8; 24] {
    let mut z = [0u8; 21];
    z[..16].copy_from_slice(&hash.0);
    let mut out = [0; 24];
    for (i, key) in z.chunks_exact(7).enumerate() {
        let mut raw = [0u8; 7];
        raw.copy_from_slice(key);
        out[i * 8..i * 8 + 8].copy_from_slice(&des_encrypt(challenge, &raw));
    }
    out
}

/// GenerateNTResponse (RFC 2759 §8.1), from the password hash.
pub fn generate_nt_response(
    authenticator_challenge: &[u8; 16],
    peer_challenge: &[u8; 16],
    user: &[u8],
    hash: &NtHash,
) -> [u8; 24] {
    challenge_response(
        &challenge_hash(peer_challenge, authenticator_challenge, user),
        hash,
    )
}

/// GenerateAuthenticatorResponse (RFC 2759 §8.7) as 20 octets (the peer sees them as
/// `S=` and 40 hexadecimal digits), from the password hash.
pub fn generate_authenticator_response(
    hash: &NtHash,
    nt_response: &[u8; 24],
    peer_challenge: &[u8; 16],
    authenticator_challenge: &[u8; 16],
    user: &[u8],
) -> [u8; 20] {
    const MAGIC1: &[u8; 39] = b"Magic server to client signing constant";
    const MAGIC2: &[u8; 41] = b"Pad to make it do more than one iteration";
    let hash_hash: [u8; 16] = Md4::digest(hash.0).into();
    let mut h = Sha1::new();
    h.update(hash_hash);
    h.update(nt_response);
    h.update(MAGIC1);
    let digest: [u8; 20] = h.finalize().into();
    let mut h = Sha1::new();
    h.update(digest);
    h.update(challenge_hash(
        peer_challenge,
        authenticator_challenge,
        user,
    ));
    h.update(MAGIC2);
    h.finalize().into()
}

/// DesEncrypt (RFC 2759 §8.6): one block under a 7-octet key spread over 8 octets with odd
/// parity (RFC 2759 §9.3).
fn des_encrypt(clear: &[u8; 8], key7: &[u8; 7]) -> [u8; 8] {
    let k = u64::from_be_bytes([
        0, key7[0], key7[1], key7[2], key7[3], key7[4], key7[5], key7[6],
    ]);
    let mut key = [0u8; 8];
    for (i, out) in key.iter_mut().enumerate() {
        let seven = ((k >> (49 - 7 * i)) & 0x7f) as u8;
        let byte = seven << 1;
        *out = byte | u8::from(byte.count_ones().is_multiple_of(2));
    }
    let cipher = Des::new(&key.into());
    let mut block = (*clear).into();
    cipher.encrypt_block(&mut block);
    block.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("{b}")))
            .collect()
    }

    fn arr<const N: usize>(s: &str) -> [u8; N] {
        hex(s).try_into().unwrap_or_else(|v| panic!("{v:?}"))
    }

    /// RFC 2759 §9.2.
    #[test]
    fn rfc_2759_hash_example() {
        let password = Password::from("clientPass");
        let user = b"User";
        let auth: [u8; 16] = arr("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28");
        let peer: [u8; 16] = arr("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E");
        assert_eq!(
            challenge_hash(&peer, &auth, user),
            arr::<8>("D0 2E 43 86 BC E9 12 26")
        );
        let hash = nt_password_hash(&password);
        assert_eq!(
            hash.0,
            arr::<16>("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE")
        );
        let nt = generate_nt_response(&auth, &peer, user, &hash);
        assert_eq!(
            nt,
            arr::<24>("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF")
        );
        let hash_hash: [u8; 16] = Md4::digest(hash.0).into();
        assert_eq!(
            hash_hash,
            arr::<16>("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F")
        );
        let response = generate_authenticator_response(&hash, &nt, &peer, &auth, user);
        assert_eq!(
            super::super::AuthenticatorResponse(response).to_string(),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
        // A domain before the user name does not change the hashes (RFC 2759 §4).
        assert_eq!(
            generate_nt_response(&auth, &peer, b"BIGCO\\User", &hash),
            nt
        );
    }

    /// RFC 2759 §9.3: the DES keys of the password "MyPw".
    #[test]
    fn rfc_2759_des_key_example() {
        let hash = nt_password_hash(&Password::from("MyPw"));
        assert_eq!(
            hash.0,
            arr::<16>("FC 15 6A F7 ED CD 6C 0E DD E3 33 7D 42 7F 4E AC")
        );
        // The parity-corrected keys of the RFC encrypt like our expansion of the raw keys.
        for (raw, corrected) in [
            ("FC 15 6A F7 ED CD 6C", "FD 0B 5B 5E 7F 6E 34 D9"),
            ("0E DD E3 33 7D 42 7F", "0E 6E 79 67 37 EA 08 FE"),
        ] {
            let clear = [1, 2, 3, 4, 5, 6, 7, 8];
            let cipher = Des::new(&arr::<8>(corrected).into());
            let mut block = clear.into();
            cipher.encrypt_block(&mut block);
            let want: [u8; 8] = block.into();
            assert_eq!(des_encrypt(&clear, &arr::<7>(raw)), want);
        }
    }

    /// RFC 1994 has no vectors; this one is the CHAP exchange of testdata/pppd/chap.pcap
    /// (identifier 40, password "alice-secret"), computed independently by pppd.
    #[test]
    fn chap_md5_matches_pppd() {
        let challenge = hex("6a f8 fd c0 4f f7 b5 7e 02 45 85 90 f1 f0 63 7f ac 10 e9");
        let response = hex("f6 b5 03 4e 30 0d 0b 32 7f 0c 52 a6 c4 71 b8 02");
        let secret = Password::from("alice-secret");
        assert_eq!(
            chap_md5_response(40, &secret, &challenge).to_vec(),
            response
        );
        assert!(chap_md5_matches(40, &secret, &challenge, &response));
        assert!(!chap_md5_matches(41, &secret, &challenge, &response));
        assert!(!chap_md5_matches(
            40,
            &Password::from("x"),
            &challenge,
            &response
        ));
    }

    /// The MS-CHAPv2 exchange of testdata/pppd/mschapv2.pcap, computed by pppd.
    #[test]
    fn mschapv2_matches_pppd() {
        let auth: [u8; 16] = arr("b4 d3 d3 d9 cc 52 61 49 6a 2a 23 b8 12 2d e4 22");
        let value = hex(
            "32 00 a7 cf ca 2d 30 f9 21 88 a2 f2 4c 69 ef 8e 00 00 00 00 00 00 00 00 \
             6a 09 43 87 75 04 1f cf b4 f3 93 91 eb e2 29 67 50 b0 77 1b 30 a9 24 57 00",
        );
        let peer: [u8; 16] = value[..16].try_into().unwrap_or_default();
        let nt: [u8; 24] = value[24..48].try_into().unwrap_or_default();
        let hash = nt_password_hash(&Password::from("alice-secret"));
        assert_eq!(generate_nt_response(&auth, &peer, b"alice", &hash), nt);
        let response = generate_authenticator_response(&hash, &nt, &peer, &auth, b"alice");
        assert_eq!(
            super::super::AuthenticatorResponse(response).to_string(),
            "S=82A45AC109BE9F1CF67F375F19AC60FEB2B6DF7A"
        );
    }

    #[test]
    fn pap_compare() {
        assert!(pap_matches(&Password::from("a"), &Password::from("a")));
        assert!(!pap_matches(&Password::from("a"), &Password::from("b")));
    }
}
