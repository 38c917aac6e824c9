//! Authentication: PAP (RFC 1334), CHAP with MD5 (RFC 1994) and MS-CHAPv2 (RFC 2759), in both
//! roles.
//!
//! As authenticator the link decides nothing by itself: it hands the host an [`AuthRequest`]
//! with what the peer sent (the PAP user name and password, or the CHAP identifier, challenge
//! and response, or the MS-CHAPv2 challenges and NT-Response) and waits for a [`Verdict`]. The
//! host checks local users with [`AuthRequest::verify`] (the maths of [`maths`]) or asks a
//! RADIUS server; for MS-CHAPv2 an accepting verdict carries the [`AuthenticatorResponse`] the
//! peer checks, computed locally or taken from the server's MS-CHAP2-Success.
//!
//! As peer the link answers with the configured user name and [`Password`], and, for
//! MS-CHAPv2, checks the authenticator response (RFC 2759 §5: the peer MUST end the session if
//! it is missing or wrong).
//!
//! EAP is not implemented: a peer asking for it is Nak'ed toward an allowed method.

use std::fmt;

pub mod maths;
mod secret;
pub mod wire;

pub use secret::{NtHash, Password, ct_eq};

use crate::wire::protocol;

/// An authentication protocol this crate implements.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub enum AuthMethod {
    /// PAP (RFC 1334): the password in the clear.
    Pap,
    /// CHAP with MD5 (RFC 1994, algorithm 5).
    ChapMd5,
    /// MS-CHAPv2 (RFC 2759, CHAP algorithm 0x81).
    MsChapV2,
}

impl AuthMethod {
    /// Every method, strongest first.
    pub const ALL: [AuthMethod; 3] = [AuthMethod::MsChapV2, AuthMethod::ChapMd5, AuthMethod::Pap];

    /// The value of the LCP Authentication-Protocol option (RFC 1661 §6.2) naming this method.
    pub fn option_value(self) -> &'static [u8] {
        match self {
            AuthMethod::Pap => &[0xc0, 0x23],
            AuthMethod::ChapMd5 => &[0xc2, 0x23, 0x05],
            AuthMethod::MsChapV2 => &[0xc2, 0x23, 0x81],
        }
    }

    /// The method an Authentication-Protocol option's value names, if implemented here.
    pub fn from_option_value(value: &[u8]) -> Option<Self> {
        match value {
            [0xc0, 0x23] => Some(AuthMethod::Pap),
            [0xc2, 0x23, 0x05] => Some(AuthMethod::ChapMd5),
            [0xc2, 0x23, 0x81] => Some(AuthMethod::MsChapV2),
            _ => None,
        }
    }

    /// The PPP protocol that carries the method.
    pub fn protocol(self) -> u16 {
        match self {
            AuthMethod::Pap => protocol::PAP,
            AuthMethod::ChapMd5 | AuthMethod::MsChapV2 => protocol::CHAP,
        }
    }

    /// A short name: `pap`, `chap-md5`, `mschapv2`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Pap => "pap",
            AuthMethod::ChapMd5 => "chap-md5",
            AuthMethod::MsChapV2 => "mschapv2",
        }
    }

    pub(crate) fn bit(self) -> u8 {
        match self {
            AuthMethod::Pap => 1,
            AuthMethod::ChapMd5 => 2,
            AuthMethod::MsChapV2 => 4,
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Names one authentication request of one link, for its [`Verdict`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct AuthId(pub(crate) u32);

impl AuthId {
    /// An id from a number (for requests a host builds itself, e.g. from captures).
    pub fn from_raw(n: u32) -> Self {
        Self(n)
    }
}

/// What the peer sent to authenticate itself: the host answers with `Link::auth_verdict`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AuthRequest {
    /// Names this request in the verdict.
    pub id: AuthId,
    /// The peer's name: the PAP Peer-ID or the CHAP Name (for MS-CHAPv2 possibly with a
    /// `DOMAIN\` prefix).
    pub user: Vec<u8>,
    /// The method and its values.
    pub credentials: PeerCredentials,
}

/// The values of one authentication exchange.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum PeerCredentials {
    /// PAP: the password the peer sent (RFC 1334 §2.2.1).
    Pap {
        /// The password.
        password: Password,
    },
    /// CHAP-MD5 (RFC 1994 §4.1): the response should be `MD5(identifier ‖ secret ‖ challenge)`.
    ChapMd5 {
        /// The Identifier of the Challenge and Response.
        identifier: u8,
        /// The Challenge value this link sent.
        challenge: [u8; 16],
        /// The peer's Response value.
        response: [u8; 16],
    },
    /// MS-CHAPv2 (RFC 2759 §4).
    MsChapV2 {
        /// The Identifier of the Challenge and Response (the Ident of RADIUS's
        /// MS-CHAP2-Response, RFC 2548 §2.3.2).
        identifier: u8,
        /// The 16-octet challenge this link sent.
        authenticator_challenge: [u8; 16],
        /// The peer's 16-octet challenge.
        peer_challenge: [u8; 16],
        /// The peer's 24-octet NT-Response.
        nt_response: [u8; 24],
    },
}

impl AuthRequest {
    /// The method used.
    pub fn method(&self) -> AuthMethod {
        match self.credentials {
            PeerCredentials::Pap { .. } => AuthMethod::Pap,
            PeerCredentials::ChapMd5 { .. } => AuthMethod::ChapMd5,
            PeerCredentials::MsChapV2 { .. } => AuthMethod::MsChapV2,
        }
    }

    /// Checks the request against a local user's password (constant-time comparisons): an
    /// accepting verdict (with the authenticator response for MS-CHAPv2), or a rejection.
    pub fn verify(&self, password: &Password) -> Verdict {
        match &self.credentials {
            PeerCredentials::Pap { password: got } => {
                Verdict::from_bool(maths::pap_matches(got, password), None)
            }
            PeerCredentials::ChapMd5 {
                identifier,
                challenge,
                response,
            } => Verdict::from_bool(
                maths::chap_md5_matches(*identifier, password, challenge, response),
                None,
            ),
            PeerCredentials::MsChapV2 { .. } => {
                self.verify_nt_hash(&maths::nt_password_hash(password))
            }
        }
    }

    /// Checks an MS-CHAPv2 request against a stored NT password hash; any other method is
    /// rejected (they need the password).
    pub fn verify_nt_hash(&self, hash: &NtHash) -> Verdict {
        let PeerCredentials::MsChapV2 {
            authenticator_challenge,
            peer_challenge,
            nt_response,
            ..
        } = &self.credentials
        else {
            return Verdict::reject("Authentication failed");
        };
        let expected =
            maths::generate_nt_response(authenticator_challenge, peer_challenge, &self.user, hash);
        if !ct_eq(&expected, nt_response) {
            return Verdict::reject("Authentication failed");
        }
        let response = maths::generate_authenticator_response(
            hash,
            nt_response,
            peer_challenge,
            authenticator_challenge,
            &self.user,
        );
        Verdict::Accept {
            authenticator_response: Some(AuthenticatorResponse(response)),
            message: None,
        }
    }
}

/// The host's answer to an [`AuthRequest`].
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Verdict {
    /// Let the peer in: PAP Authenticate-Ack or CHAP Success. MS-CHAPv2 needs the
    /// authenticator response (RFC 2759 §5), which goes into the Success message.
    Accept {
        /// Required for MS-CHAPv2, ignored otherwise.
        authenticator_response: Option<AuthenticatorResponse>,
        /// Text for the peer (a RADIUS Reply-Message): the Message of the PAP
        /// Authenticate-Ack (RFC 1334 §2.2.2, at most 255 octets), of the CHAP-MD5 Success
        /// (RFC 1994 §4.2), or the `M=` part of MS-CHAPv2's `S=... M=message` (RFC 2759 §5).
        /// `None`: a greeting of our own.
        message: Option<String>,
    },
    /// Refuse: PAP Authenticate-Nak or CHAP Failure carrying `message`, then the link is
    /// closed. For MS-CHAPv2 the message goes into the `E=691 R=0 C=... V=3 M=message` form of
    /// RFC 2759 §6, unless it already has that form (it starts with `E=`, as the String of a
    /// RADIUS MS-CHAP-Error does, RFC 2548 §2.1.5): then it is sent as it is.
    Reject {
        /// Human-readable text for the peer.
        message: String,
    },
}

impl Verdict {
    /// Acceptance without an authenticator response (PAP, CHAP-MD5).
    pub fn accept() -> Self {
        Verdict::Accept {
            authenticator_response: None,
            message: None,
        }
    }

    /// This verdict with `message` for the peer, if it accepts (a rejection has its own).
    #[must_use]
    pub fn with_message(mut self, text: Option<String>) -> Self {
        if let Verdict::Accept { message, .. } = &mut self {
            *message = text;
        }
        self
    }

    /// A rejection with a message for the peer.
    pub fn reject(message: impl Into<String>) -> Self {
        Verdict::Reject {
            message: message.into(),
        }
    }

    /// Whether this accepts.
    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept { .. })
    }

    fn from_bool(ok: bool, authenticator_response: Option<AuthenticatorResponse>) -> Self {
        if ok {
            Verdict::Accept {
                authenticator_response,
                message: None,
            }
        } else {
            Verdict::reject("Authentication failed")
        }
    }
}

/// The MS-CHAPv2 authenticator response (RFC 2759 §5, §8.7): 20 octets, written
/// `S=` and 40 upper-case hexadecimal digits.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct AuthenticatorResponse(pub [u8; 20]);

impl AuthenticatorResponse {
    /// Parses `S=` and 40 hexadecimal digits (either case), as in a Success message.
    pub fn parse(text: &[u8]) -> Option<Self> {
        let hex = text.strip_prefix(b"S=")?;
        if hex.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *o = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Self(out))
    }

    /// Parses the value of a RADIUS MS-CHAP2-Success attribute (RFC 2548 §2.3.3): the
    /// Ident octet, then `S=` and 40 hexadecimal digits.
    pub fn from_ms_chap2_success(value: &[u8]) -> Option<Self> {
        Self::parse(value.get(1..)?)
    }
}

impl fmt::Display for AuthenticatorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("S=")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_round_trip() {
        for m in AuthMethod::ALL {
            assert_eq!(AuthMethod::from_option_value(m.option_value()), Some(m));
        }
        assert_eq!(AuthMethod::from_option_value(&[0xc2, 0x27]), None);
        assert_eq!(AuthMethod::from_option_value(&[0xc2, 0x23, 0x80]), None);
    }

    #[test]
    fn authenticator_responses_parse_and_print() {
        let text = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
        let r = AuthenticatorResponse::parse(text.as_bytes());
        assert_eq!(r.map(|r| r.to_string()), Some(text.to_string()));
        let lower = text.to_lowercase().replace("s=", "S=");
        assert_eq!(AuthenticatorResponse::parse(lower.as_bytes()), r);
        let mut radius = vec![7u8];
        radius.extend_from_slice(text.as_bytes());
        assert_eq!(AuthenticatorResponse::from_ms_chap2_success(&radius), r);
        assert_eq!(AuthenticatorResponse::parse(b"S=12"), None);
        let bad = format!("S={}", "g".repeat(40));
        assert_eq!(AuthenticatorResponse::parse(bad.as_bytes()), None);
    }

    #[test]
    fn local_verification_of_each_method() {
        let good = Password::from("clientPass");
        let bad = Password::from("clientpass");
        let pap = AuthRequest {
            id: AuthId(1),
            user: b"User".to_vec(),
            credentials: PeerCredentials::Pap {
                password: good.clone(),
            },
        };
        assert!(pap.verify(&good).is_accept());
        assert!(!pap.verify(&bad).is_accept());
        let challenge = [9u8; 16];
        let chap = AuthRequest {
            id: AuthId(2),
            user: b"User".to_vec(),
            credentials: PeerCredentials::ChapMd5 {
                identifier: 4,
                challenge,
                response: maths::chap_md5_response(4, &good, &challenge),
            },
        };
        assert!(chap.verify(&good).is_accept());
        assert!(!chap.verify(&bad).is_accept());
        let (auth, peer) = ([1u8; 16], [2u8; 16]);
        let hash = maths::nt_password_hash(&good);
        let nt = maths::generate_nt_response(&auth, &peer, b"User", &hash);
        let ms = AuthRequest {
            id: AuthId(3),
            user: b"DOM\\User".to_vec(),
            credentials: PeerCredentials::MsChapV2 {
                identifier: 9,
                authenticator_challenge: auth,
                peer_challenge: peer,
                nt_response: nt,
            },
        };
        let Verdict::Accept {
            authenticator_response: Some(r),
            ..
        } = ms.verify(&good)
        else {
            panic!("MS-CHAPv2 with the right password is accepted with a response")
        };
        assert_eq!(
            r.0,
            maths::generate_authenticator_response(&hash, &nt, &peer, &auth, b"User")
        );
        assert_eq!(ms.verify_nt_hash(&hash), ms.verify(&good));
        assert!(!ms.verify(&bad).is_accept());
        assert!(!pap.verify_nt_hash(&hash).is_accept());
    }
}
