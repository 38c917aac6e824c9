#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use super::*;
use crate::dict::values;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn secret() -> Secret {
    Secret::from("xyzzy5461")
}

/// RFC 2865 §7.1: Access-Request for "nemo" / "arctangent".
const RFC_7_1_REQUEST: &str = "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
    98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06
    c0 a8 01 10 05 06 00 00 00 03";
/// RFC 2865 §7.1: its Access-Accept.
const RFC_7_1_ACCEPT: &str = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
    9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03";
/// RFC 2865 §7.2: CHAP Access-Request for "flopsy".
const RFC_7_2_REQUEST: &str = "01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
    0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72
    75 04 06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01";
/// RFC 2865 §7.2: its Access-Accept.
const RFC_7_2_ACCEPT: &str = "02 01 00 38 15 ef bc 7d ab 26 cf a3 dc 34 d9 c0
    3c 86 01 a4 06 06 00 00 00 02 07 06 00 00 00 01 08 06 ff ff ff fe 0a 06 00 00 00 02 0d 06
    00 00 00 01 0c 06 00 00 05 dc";

#[test]
fn rfc2865_7_1_pap_exchange() {
    let request = hex(RFC_7_1_REQUEST);
    let p = verify_access_request(&request, &secret(), false).unwrap();
    assert_eq!((p.code, p.identifier), (Code::AccessRequest, 0));
    assert_eq!(p.attributes.user_name(), Some("nemo"));
    assert_eq!(p.user_password(&secret()).unwrap().unwrap(), b"arctangent");
    assert_eq!(
        p.attributes.nas_ip_address(),
        Some(Ipv4Addr::new(192, 168, 1, 16))
    );
    assert_eq!(p.attributes.nas_port(), Some(3));
    // Re-encoding the example with its own authenticator and password gives the same octets
    // (after the Message-Authenticator this crate always puts first).
    let mut attrs = Attributes::new();
    attrs.push_user_name("nemo").unwrap();
    attrs.push_user_password(b"arctangent").unwrap();
    attrs
        .push_nas_ip_address(Ipv4Addr::new(192, 168, 1, 16))
        .unwrap();
    attrs.push_nas_port(3).unwrap();
    let mut out = Vec::new();
    encode_access_request(&mut out, 0, &p.authenticator, &attrs, &secret()).unwrap();
    assert_eq!(out[HEADER_LEN + 18..], request[HEADER_LEN..]);
    assert_eq!(out.len(), request.len() + 18);
    verify_access_request(&out, &secret(), true).unwrap();

    let accept = hex(RFC_7_1_ACCEPT);
    let a = verify_response(&accept, &p.authenticator, &secret(), false).unwrap();
    assert_eq!(a.code, Code::AccessAccept);
    assert_eq!(
        a.attributes.service_type(),
        Some(values::service_type::LOGIN)
    );
    assert_eq!(
        a.attributes.ipv4(AttrType::LOGIN_IP_HOST),
        Some(Ipv4Addr::new(192, 168, 1, 3))
    );
    // The example predates Message-Authenticator: refused when it is required.
    assert_eq!(
        verify_response(&accept, &p.authenticator, &secret(), true),
        Err(VerifyError::MissingMessageAuthenticator)
    );
    assert_eq!(
        verify_response(&accept, &p.authenticator, &Secret::from("xyzzy5462"), false),
        Err(VerifyError::Authenticator)
    );
}

#[test]
fn rfc2865_7_2_chap_exchange() {
    let request = hex(RFC_7_2_REQUEST);
    let p = Packet::decode(&request).unwrap();
    assert_eq!(p.attributes.user_name(), Some("flopsy"));
    let chap = p.attributes.chap_password().unwrap();
    assert_eq!((chap.len(), chap[0]), (17, 22));
    assert_eq!(
        p.attributes.service_type(),
        Some(values::service_type::FRAMED)
    );
    assert_eq!(
        p.attributes.framed_protocol(),
        Some(values::framed_protocol::PPP)
    );
    let accept = hex(RFC_7_2_ACCEPT);
    let a = verify_response(&accept, &p.authenticator, &secret(), false).unwrap();
    assert_eq!(
        a.attributes.framed_ip_address(),
        Some(Ipv4Addr::new(255, 255, 255, 254))
    );
    assert_eq!(a.attributes.framed_mtu(), Some(1500));
    // Byte for byte: the decoded packet re-encodes to the same octets.
    let mut out = Vec::new();
    a.encode_raw(&mut out).unwrap();
    assert_eq!(out, accept);
}

fn reply_attributes() -> Attributes {
    let mut a = Attributes::new();
    a.push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 9))
        .unwrap();
    a.push_framed_pool("pool-a").unwrap();
    a
}

#[test]
fn responses_round_trip_and_tampering_is_caught() {
    let ra = [7u8; 16];
    let mut out = Vec::new();
    encode_response(
        &mut out,
        Code::AccessAccept,
        9,
        &ra,
        &reply_attributes(),
        &secret(),
        true,
    )
    .unwrap();
    let p = verify_response(&out, &ra, &secret(), true).unwrap();
    assert_eq!(p.attributes.framed_pool(), Some("pool-a"));
    assert_eq!(
        p.attributes
            .get(AttrType::MESSAGE_AUTHENTICATOR)
            .unwrap()
            .len(),
        16
    );
    for i in 0..out.len() {
        let mut bad = out.clone();
        bad[i] ^= 0x10;
        assert!(
            verify_response(&bad, &ra, &secret(), true).is_err(),
            "flipped octet {i} accepted"
        );
    }
    assert_eq!(
        verify_response(&out, &[8; 16], &secret(), true),
        Err(VerifyError::Authenticator)
    );
}

#[test]
fn forged_message_authenticator_is_refused_even_with_a_valid_authenticator() {
    // What a Blast-RADIUS forgery amounts to: a Response Authenticator that checks out over a
    // packet whose Message-Authenticator does not.
    let ra = [3u8; 16];
    let mut attrs = reply_attributes();
    attrs
        .push(AttrType::MESSAGE_AUTHENTICATOR, &[0x55; 16])
        .unwrap();
    let mut out = Vec::new();
    // encode_response drops a caller's Message-Authenticator; build the packet by hand.
    header(&mut out, Code::AccessAccept, 1, &ra);
    out.extend_from_slice(attrs.as_bytes());
    set_length(&mut out).unwrap();
    let auth = crypt::md5_authenticator(&out, &secret());
    out[4..20].copy_from_slice(&auth);
    assert_eq!(
        verify_response(&out, &ra, &secret(), false),
        Err(VerifyError::MessageAuthenticator)
    );
}

#[test]
fn signed_requests_round_trip() {
    for code in [
        Code::AccountingRequest,
        Code::DisconnectRequest,
        Code::CoaRequest,
    ] {
        for ma in [false, true] {
            let mut a = Attributes::new();
            a.push_acct_session_id("0001").unwrap();
            a.push_acct_status_type(values::acct_status_type::START)
                .unwrap();
            let mut out = Vec::new();
            encode_signed_request(&mut out, code, 4, &a, &secret(), ma).unwrap();
            let p = verify_request(&out, &secret(), ma).unwrap();
            assert_eq!((p.code, p.identifier), (code, 4));
            assert_eq!(p.attributes.contains(AttrType::MESSAGE_AUTHENTICATOR), ma);
            assert_eq!(
                verify_request(&out, &Secret::from("other"), false),
                Err(VerifyError::Authenticator)
            );
            if !ma {
                assert_eq!(
                    verify_request(&out, &secret(), true),
                    Err(VerifyError::MissingMessageAuthenticator)
                );
            }
        }
    }
}

#[test]
fn framing_rules() {
    let mut out = Vec::new();
    encode_signed_request(
        &mut out,
        Code::AccountingRequest,
        1,
        &Attributes::new(),
        &secret(),
        false,
    )
    .unwrap();
    // Padding after the Length field is ignored.
    let mut padded = out.clone();
    padded.extend_from_slice(&[0xff; 7]);
    verify_request(&padded, &secret(), false).unwrap();
    // Short of the Length field: refused.
    assert!(matches!(
        Packet::decode(&out[..19]),
        Err(DecodeError::TooShort { .. })
    ));
    let mut long = out.clone();
    long[2..4].copy_from_slice(&4097u16.to_be_bytes());
    assert_eq!(Packet::decode(&long), Err(DecodeError::Length(4097)));
    let mut unknown = out.clone();
    unknown[0] = 99;
    assert_eq!(Packet::decode(&unknown), Err(DecodeError::UnknownCode(99)));
}

#[test]
fn tunnel_password_round_trip() {
    let ra = [0x42u8; 16];
    let mut a = Attributes::new();
    a.push_tunnel_password(1, b"l2tp-tunnel-secret", &secret(), &ra, [0x80, 0x01])
        .unwrap();
    let mut out = Vec::new();
    encode_response(&mut out, Code::AccessAccept, 2, &ra, &a, &secret(), true).unwrap();
    let p = verify_response(&out, &ra, &secret(), true).unwrap();
    let (tag, password) = p.attributes.tunnel_password(&secret(), &ra).unwrap();
    assert_eq!(
        (tag, password.unwrap()),
        (1, b"l2tp-tunnel-secret".to_vec())
    );
    assert!(!format!("{p:?}").contains("l2tp-tunnel-secret"));
}

#[test]
fn too_long_packets_are_refused() {
    let mut a = Attributes::new();
    for _ in 0..17 {
        a.push(AttrType::CLASS, &[0; 253]).unwrap();
    }
    let mut out = Vec::new();
    assert!(matches!(
        encode_signed_request(&mut out, Code::AccountingRequest, 0, &a, &secret(), false),
        Err(EncodeError::PacketTooLong(_))
    ));
}
