//! Packets: the header (RFC 2865 §3), decoding, and encoding with every authenticator RADIUS
//! defines.
//!
//! | packet | Authenticator field | Message-Authenticator |
//! | --- | --- | --- |
//! | Access-Request | random (RFC 2865 §3) | always sent, first attribute ([`encode_access_request`]) |
//! | Accounting-, Disconnect-, CoA-Request | `MD5(packet with zeros + secret)` (RFC 2866 §3, RFC 5176 §2.3) | optional, over the packet with a zero Authenticator (RFC 5176 §3.4) ([`encode_signed_request`]) |
//! | any response | `MD5(packet with the Request Authenticator + secret)` (RFC 2865 §3) | over the packet with the Request Authenticator (RFC 2869 §5.14) ([`encode_response`]) |
//!
//! Received packets are checked with [`verify_response`] (with the Request Authenticator of the
//! request they answer) and [`verify_request`]. Responses to Access-Requests must carry a valid
//! Message-Authenticator unless the caller says otherwise: without it an attacker who can
//! forge MD5 chosen-prefix collisions can turn a Reject into an Accept (the 2024 "Blast-RADIUS"
//! attack). All comparisons run in constant time.
//!
//! Octets after the Length field's end are padding and ignored; a packet shorter than its
//! Length field, or longer than 4096 octets, is refused (RFC 2865 §3).

use subtle::ConstantTimeEq;

use crate::Secret;
use crate::attr::{AttrError, Attributes, EncodeError};
use crate::code::Code;
use crate::crypt::{self, AUTHENTICATOR_LEN, CryptError};
use crate::dict::{AttrType, ms};

/// Length of the packet header: code, identifier, length, authenticator.
pub const HEADER_LEN: usize = 20;

/// The longest packet (RFC 2865 §3).
pub const MAX_PACKET_LEN: usize = 4096;

/// Offset of the Message-Authenticator's value when it is the first attribute.
const MA_OFFSET: usize = HEADER_LEN + 2;

/// A decoded packet.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Packet {
    /// The code.
    pub code: Code,
    /// The identifier that matches a response to its request.
    pub identifier: u8,
    /// The Request or Response Authenticator.
    pub authenticator: [u8; AUTHENTICATOR_LEN],
    /// The attributes.
    pub attributes: Attributes,
}

/// What is wrong with a received packet.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than a header, or than its Length field says.
    #[error("packet of {received} octets is shorter than {needed}")]
    TooShort {
        /// Octets received.
        received: usize,
        /// Octets needed.
        needed: usize,
    },
    /// A Length field below 20 or above 4096.
    #[error("invalid Length field {0}")]
    Length(usize),
    /// A code this crate does not know.
    #[error("unknown code {0}")]
    UnknownCode(u8),
    /// A malformed attribute.
    #[error(transparent)]
    Attribute(#[from] AttrError),
}

/// Why a received packet is not authentic.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The packet does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The Request or Response Authenticator is wrong (wrong secret, or a forgery).
    #[error("invalid authenticator")]
    Authenticator,
    /// The Message-Authenticator is wrong, or there are several.
    #[error("invalid Message-Authenticator")]
    MessageAuthenticator,
    /// No Message-Authenticator where one is required.
    #[error("Message-Authenticator missing")]
    MissingMessageAuthenticator,
}

impl Packet {
    /// A packet with no attributes and a zero authenticator.
    pub fn new(code: Code, identifier: u8) -> Self {
        Self {
            code,
            identifier,
            authenticator: [0; AUTHENTICATOR_LEN],
            attributes: Attributes::new(),
        }
    }

    /// Decodes a packet without checking any authenticator.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] for a short or over-long packet, an unknown code or a malformed
    /// attribute.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let bytes = framed(bytes)?;
        let code = Code::from_u8(bytes[0]).ok_or(DecodeError::UnknownCode(bytes[0]))?;
        let mut authenticator = [0; AUTHENTICATOR_LEN];
        authenticator.copy_from_slice(&bytes[4..HEADER_LEN]);
        Ok(Self {
            code,
            identifier: bytes[1],
            authenticator,
            attributes: Attributes::from_wire(&bytes[HEADER_LEN..])?,
        })
    }

    /// Encodes the packet as it is: its authenticator and attributes unchanged (User-Password
    /// included). For packets to send, use the `encode_*` functions, which compute the
    /// authenticators.
    ///
    /// # Errors
    ///
    /// [`EncodeError::PacketTooLong`].
    pub fn encode_raw(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.clear();
        header(out, self.code, self.identifier, &self.authenticator);
        out.extend_from_slice(self.attributes.as_bytes());
        set_length(out)
    }

    /// Reveals the User-Password of a received Access-Request (RFC 2865 §5.2).
    pub fn user_password(&self, secret: &Secret) -> Option<Result<Vec<u8>, CryptError>> {
        let hidden = self.attributes.get(AttrType::USER_PASSWORD)?;
        Some(crypt::reveal_user_password(
            hidden,
            secret,
            &self.authenticator,
        ))
    }
}

/// The code, identifier and Length field of a datagram, without decoding the rest.
pub fn peek(bytes: &[u8]) -> Option<(u8, u8, usize)> {
    let len = usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]));
    Some((bytes[0], bytes[1], len))
}

/// The packet within a datagram: the octets its Length field covers.
fn framed(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    let Some((_, _, len)) = peek(bytes).filter(|_| bytes.len() >= HEADER_LEN) else {
        return Err(DecodeError::TooShort {
            received: bytes.len(),
            needed: HEADER_LEN,
        });
    };
    if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) {
        return Err(DecodeError::Length(len));
    }
    bytes.get(..len).ok_or(DecodeError::TooShort {
        received: bytes.len(),
        needed: len,
    })
}

fn header(out: &mut Vec<u8>, code: Code, identifier: u8, authenticator: &[u8; 16]) {
    out.extend_from_slice(&[code.as_u8(), identifier, 0, 0]);
    out.extend_from_slice(authenticator);
}

fn set_length(out: &mut [u8]) -> Result<(), EncodeError> {
    let len = out.len();
    if len > MAX_PACKET_LEN {
        return Err(EncodeError::PacketTooLong(len));
    }
    out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    Ok(())
}

/// Appends `attributes` less any Message-Authenticator; with `hide` set, User-Password is
/// hidden with `secret` and `hide`, the Request Authenticator.
fn append_attributes(
    out: &mut Vec<u8>,
    attributes: &Attributes,
    secret: &Secret,
    hide: Option<&[u8; 16]>,
) -> Result<(), EncodeError> {
    for a in attributes.iter() {
        match a.attr_type {
            AttrType::MESSAGE_AUTHENTICATOR => {}
            AttrType::USER_PASSWORD if let Some(ra) = hide => {
                let start = out.len();
                out.extend_from_slice(&[a.attr_type.0, 0]);
                crypt::hide_user_password(a.value, secret, ra, out)?;
                out[start + 1] = (out.len() - start) as u8;
            }
            _ => {
                out.push(a.attr_type.0);
                out.push((a.value.len() + 2) as u8);
                out.extend_from_slice(a.value);
            }
        }
    }
    Ok(())
}

/// Appends a Message-Authenticator of zeros, the first attribute (at [`MA_OFFSET`]), to be
/// filled in by [`sign_message_authenticator`] once the packet is complete.
fn push_message_authenticator_placeholder(out: &mut Vec<u8>) {
    out.extend_from_slice(&[AttrType::MESSAGE_AUTHENTICATOR.0, 18]);
    out.extend_from_slice(&[0; 16]);
}

/// Fills the Message-Authenticator at [`MA_OFFSET`] with HMAC-MD5 of the whole packet as it
/// stands (RFC 2869 §5.14).
fn sign_message_authenticator(out: &mut [u8], secret: &Secret) {
    let mac = crypt::hmac_md5(secret, out);
    out[MA_OFFSET..MA_OFFSET + 16].copy_from_slice(&mac);
}

/// Encodes an Access-Request into `out` (cleared first): Message-Authenticator first (RFC 2869
/// §5.14; RFC 3579 §3.2 and the Blast-RADIUS advice), then `attributes` with User-Password
/// hidden (RFC 2865 §5.2). `authenticator` must be unpredictable (RFC 2865 §3).
///
/// # Errors
///
/// [`EncodeError`] if the packet is too long or the password cannot be hidden.
pub fn encode_access_request(
    out: &mut Vec<u8>,
    identifier: u8,
    authenticator: &[u8; AUTHENTICATOR_LEN],
    attributes: &Attributes,
    secret: &Secret,
) -> Result<(), EncodeError> {
    out.clear();
    header(out, Code::AccessRequest, identifier, authenticator);
    push_message_authenticator_placeholder(out);
    append_attributes(out, attributes, secret, Some(authenticator))?;
    set_length(out)?;
    sign_message_authenticator(out, secret);
    Ok(())
}

/// Encodes a Status-Server probe into `out` (cleared first): like an Access-Request, an
/// unpredictable Request Authenticator (RFC 5997 §3) and a Message-Authenticator, which every
/// Status-Server MUST carry (RFC 5997 §3), computed over the packet with that authenticator;
/// no other attribute. The same packet serves the authentication and the accounting port.
pub fn encode_status_server(
    out: &mut Vec<u8>,
    identifier: u8,
    authenticator: &[u8; AUTHENTICATOR_LEN],
    secret: &Secret,
) {
    out.clear();
    header(out, Code::StatusServer, identifier, authenticator);
    push_message_authenticator_placeholder(out);
    // 38 octets: within any length limit.
    let _ = set_length(out);
    sign_message_authenticator(out, secret);
}

/// Encodes an Accounting-Request, Disconnect-Request or CoA-Request into `out`: the Request
/// Authenticator is `MD5(packet with a zero authenticator + secret)` (RFC 2866 §3, RFC 5176
/// §2.3); with `message_authenticator`, a Message-Authenticator is put first, computed over the
/// packet with a zero authenticator (RFC 5176 §3.4).
///
/// # Errors
///
/// [`EncodeError::PacketTooLong`].
pub fn encode_signed_request(
    out: &mut Vec<u8>,
    code: Code,
    identifier: u8,
    attributes: &Attributes,
    secret: &Secret,
    message_authenticator: bool,
) -> Result<(), EncodeError> {
    // The same computation as a response's, over a zero authenticator.
    let zero = [0; AUTHENTICATOR_LEN];
    encode_response(
        out,
        code,
        identifier,
        &zero,
        attributes,
        secret,
        message_authenticator,
    )
}

/// Encodes a response to a request whose Request Authenticator was `request_authenticator`:
/// Message-Authenticator first if asked (RFC 2869 §5.14, RFC 5176 §3.4), then the Response
/// Authenticator (RFC 2865 §3).
///
/// # Errors
///
/// [`EncodeError::PacketTooLong`].
pub fn encode_response(
    out: &mut Vec<u8>,
    code: Code,
    identifier: u8,
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    attributes: &Attributes,
    secret: &Secret,
    message_authenticator: bool,
) -> Result<(), EncodeError> {
    out.clear();
    header(out, code, identifier, request_authenticator);
    if message_authenticator {
        push_message_authenticator_placeholder(out);
    }
    append_attributes(out, attributes, secret, None)?;
    set_length(out)?;
    if message_authenticator {
        sign_message_authenticator(out, secret);
    }
    let auth = crypt::md5_authenticator(out, secret);
    out[4..HEADER_LEN].copy_from_slice(&auth);
    Ok(())
}

/// Checks a response against the Request Authenticator of the request it answers: the
/// Response Authenticator (RFC 2865 §3) and the Message-Authenticator (RFC 2869 §5.14), which
/// must be present when `require_message_authenticator` is set.
///
/// # Errors
///
/// [`VerifyError`].
pub fn verify_response(
    bytes: &[u8],
    request_authenticator: &[u8; AUTHENTICATOR_LEN],
    secret: &Secret,
    require_message_authenticator: bool,
) -> Result<Packet, VerifyError> {
    let packet = Packet::decode(bytes)?;
    let bytes = framed(bytes)?;
    let mut copy = Scratch::new(bytes);
    copy.bytes_mut()[4..HEADER_LEN].copy_from_slice(request_authenticator);
    let expected = crypt::md5_authenticator(copy.bytes(), secret);
    if !bool::from(expected.ct_eq(&packet.authenticator)) {
        return Err(VerifyError::Authenticator);
    }
    check_message_authenticator(&packet, &mut copy, secret, require_message_authenticator)?;
    Ok(packet)
}

/// Checks an Accounting-, Disconnect- or CoA-Request: its Request Authenticator (RFC 2866 §3,
/// RFC 5176 §2.3) and its Message-Authenticator if present (RFC 5176 §3.4: a wrong one means
/// the packet is silently discarded) or required.
///
/// # Errors
///
/// [`VerifyError`].
pub fn verify_request(
    bytes: &[u8],
    secret: &Secret,
    require_message_authenticator: bool,
) -> Result<Packet, VerifyError> {
    // The same computation as a response's, over a zero authenticator.
    let zero = [0; AUTHENTICATOR_LEN];
    verify_response(bytes, &zero, secret, require_message_authenticator)
}

/// Checks the Message-Authenticator of an Access-Request (RFC 2869 §5.14), computed over the
/// packet as sent. Used by tests and servers; a client never receives Access-Requests.
///
/// # Errors
///
/// [`VerifyError`].
pub fn verify_access_request(
    bytes: &[u8],
    secret: &Secret,
    require_message_authenticator: bool,
) -> Result<Packet, VerifyError> {
    let packet = Packet::decode(bytes)?;
    let mut copy = Scratch::new(framed(bytes)?);
    check_message_authenticator(&packet, &mut copy, secret, require_message_authenticator)?;
    Ok(packet)
}

/// Checks the one Message-Authenticator of `packet` against an HMAC over `copy` (the packet
/// with its Authenticator field already set as the computation requires).
fn check_message_authenticator(
    packet: &Packet,
    copy: &mut Scratch,
    secret: &Secret,
    required: bool,
) -> Result<(), VerifyError> {
    let mut found = None;
    let mut offset = HEADER_LEN;
    for a in packet.attributes.iter() {
        if a.attr_type == AttrType::MESSAGE_AUTHENTICATOR {
            if found.is_some() {
                return Err(VerifyError::MessageAuthenticator);
            }
            found = Some((offset + 2, a.value));
        }
        offset += a.value.len() + 2;
    }
    let Some((at, received)) = found else {
        return if required {
            Err(VerifyError::MissingMessageAuthenticator)
        } else {
            Ok(())
        };
    };
    copy.bytes_mut()[at..at + 16].fill(0);
    let expected = crypt::hmac_md5(secret, copy.bytes());
    if bool::from(expected.ct_eq(received)) {
        Ok(())
    } else {
        Err(VerifyError::MessageAuthenticator)
    }
}

/// A stack copy of a packet, for computing authenticators over modified fields.
struct Scratch {
    buf: [u8; MAX_PACKET_LEN],
    len: usize,
}

impl Scratch {
    fn new(bytes: &[u8]) -> Self {
        let mut buf = [0; MAX_PACKET_LEN];
        let len = bytes.len().min(MAX_PACKET_LEN);
        buf[..len].copy_from_slice(&bytes[..len]);
        Self { buf, len }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }
}

impl Attributes {
    /// The first Tunnel-Password (RFC 2868 §3.5) of a response, revealed: `(tag, password)`.
    /// `request_authenticator` is that of the request the response answers.
    pub fn tunnel_password(
        &self,
        secret: &Secret,
        request_authenticator: &[u8; AUTHENTICATOR_LEN],
    ) -> Option<(u8, Result<Vec<u8>, CryptError>)> {
        let v = self.get(AttrType::TUNNEL_PASSWORD)?;
        let (&tag, rest) = v.split_first()?;
        Some((
            tag,
            crypt::salt_decrypt(rest, secret, request_authenticator),
        ))
    }

    /// Appends a Tunnel-Password (RFC 2868 §3.5) hidden for a response to the request with
    /// `request_authenticator`. `salt` must have its top bit set and be unique per value.
    ///
    /// # Errors
    ///
    /// [`EncodeError::BadTag`], [`EncodeError::Crypt`].
    pub fn push_tunnel_password(
        &mut self,
        tag: u8,
        password: &[u8],
        secret: &Secret,
        request_authenticator: &[u8; AUTHENTICATOR_LEN],
        salt: [u8; 2],
    ) -> Result<&mut Self, EncodeError> {
        if tag > 0x1f {
            return Err(EncodeError::BadTag {
                attr: AttrType::TUNNEL_PASSWORD,
                tag,
            });
        }
        let mut value = vec![tag];
        crypt::salt_encrypt(password, secret, request_authenticator, salt, &mut value)?;
        self.push(AttrType::TUNNEL_PASSWORD, &value)
    }

    /// MS-MPPE-Send-Key (RFC 2548 §2.4.2) of a response, revealed (the key length octet
    /// removed).
    pub fn ms_mppe_send_key(
        &self,
        secret: &Secret,
        request_authenticator: &[u8; AUTHENTICATOR_LEN],
    ) -> Option<Result<Vec<u8>, CryptError>> {
        let v = self.vendor(ms::MPPE_SEND_KEY)?;
        Some(crypt::salt_decrypt(v, secret, request_authenticator))
    }

    /// MS-MPPE-Recv-Key (RFC 2548 §2.4.3) of a response, revealed.
    pub fn ms_mppe_recv_key(
        &self,
        secret: &Secret,
        request_authenticator: &[u8; AUTHENTICATOR_LEN],
    ) -> Option<Result<Vec<u8>, CryptError>> {
        let v = self.vendor(ms::MPPE_RECV_KEY)?;
        Some(crypt::salt_decrypt(v, secret, request_authenticator))
    }
}

#[cfg(test)]
mod tests;
