//! The `radius` crate (an independent implementation) as an oracle: it decodes what this crate
//! encodes, and this crate decodes and verifies what it encodes, for every packet kind the
//! daemon sends or receives.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use radius::core::code::Code as OCode;
use radius::core::packet::Packet as OPacket;
use radius::core::tag::Tag;
use radius::core::{rfc2865, rfc2866, rfc2868, rfc2869, rfc3162, rfc3576};
use radius_proto::dict::values::{acct_status_type, error_cause, tunnel_type};
use radius_proto::dynauth::{Answer, DynAuthClient, DynAuthServer, Incoming};
use radius_proto::packet::{
    encode_access_request, encode_response, encode_signed_request, verify_request, verify_response,
};
use radius_proto::{AttrType, Attributes, Code, Ipv6Prefix, Secret};

const SECRET: &str = "oracle-secret";

fn secret() -> Secret {
    Secret::from(SECRET)
}

fn request_attributes(password: &[u8]) -> Attributes {
    let mut a = Attributes::new();
    a.push_user_name("alice@example.net").unwrap();
    a.push_user_password(password).unwrap();
    a.push_nas_identifier("lns-1").unwrap();
    a.push_nas_ip_address(Ipv4Addr::new(192, 0, 2, 1)).unwrap();
    a.push_nas_port(42).unwrap();
    a.push_nas_port_type(5).unwrap();
    a.push_service_type(2).unwrap();
    a.push_framed_protocol(1).unwrap();
    a.push_calling_station_id("198.51.100.7").unwrap();
    a.push_tunnel_type(1, tunnel_type::L2TP).unwrap();
    a.push_tunnel_server_endpoint(1, "192.0.2.1").unwrap();
    a
}

#[test]
fn our_access_requests_decode_in_the_oracle() {
    for len in [0usize, 1, 15, 16, 17, 63, 128] {
        let password: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let mut out = Vec::new();
        encode_access_request(
            &mut out,
            9,
            &[0x5a; 16],
            &request_attributes(&password),
            &secret(),
        )
        .unwrap();
        let p = OPacket::decode(&out, SECRET.as_bytes()).unwrap();
        assert_eq!(p.get_code(), OCode::AccessRequest);
        assert_eq!(p.get_identifier(), 9);
        assert_eq!(
            rfc2865::lookup_user_name(&p).unwrap().unwrap(),
            "alice@example.net"
        );
        assert_eq!(
            rfc2865::lookup_user_password(&p).unwrap().unwrap(),
            password
        );
        assert_eq!(rfc2865::lookup_nas_port(&p).unwrap().unwrap(), 42);
        // The oracle reads tagged integers as a tag and four octets; RFC 2868 §3.1 (and
        // FreeRADIUS) have a tag and three. Compare the octets.
        assert_eq!(
            p.lookup(rfc2868::TUNNEL_TYPE_TYPE).unwrap().encode_bytes(),
            [1, 0, 0, tunnel_type::L2TP as u8]
        );
        let (endpoint, tag) = rfc2868::lookup_tunnel_server_endpoint(&p).unwrap().unwrap();
        assert_eq!(
            (endpoint.as_str(), tag.map(|t| t.get_value())),
            ("192.0.2.1", Some(1))
        );
        assert_eq!(
            rfc2869::lookup_message_authenticator(&p).map(|v| v.len()),
            Some(16)
        );
    }
}

#[test]
fn our_accounting_requests_are_authentic_for_the_oracle() {
    let mut a = Attributes::new();
    a.push_acct_status_type(acct_status_type::STOP).unwrap();
    a.push_acct_session_id("0000002a").unwrap();
    a.push_acct_input_octets(123_456).unwrap();
    a.push_acct_output_octets(654_321).unwrap();
    a.push_acct_input_gigawords(1).unwrap();
    a.push_acct_session_time(3600).unwrap();
    a.push_acct_terminate_cause(1).unwrap();
    a.push_framed_ipv6_prefix(Ipv6Prefix::new("2001:db8:7::".parse().unwrap(), 64))
        .unwrap();
    let mut out = Vec::new();
    encode_signed_request(&mut out, Code::AccountingRequest, 3, &a, &secret(), false).unwrap();
    assert!(OPacket::is_authentic_request(&out, SECRET.as_bytes()));
    assert!(!OPacket::is_authentic_request(&out, b"other"));
    let p = OPacket::decode(&out, SECRET.as_bytes()).unwrap();
    assert_eq!(rfc2866::lookup_acct_status_type(&p).unwrap().unwrap(), 2);
    assert_eq!(
        rfc2866::lookup_acct_session_id(&p).unwrap().unwrap(),
        "0000002a"
    );
    assert_eq!(
        rfc2866::lookup_acct_input_octets(&p).unwrap().unwrap(),
        123_456
    );
    assert_eq!(
        rfc2869::lookup_acct_input_gigawords(&p).unwrap().unwrap(),
        1
    );
    assert_eq!(
        rfc3162::lookup_framed_ipv6_prefix(&p).unwrap().unwrap(),
        [0x20, 0x01, 0x0d, 0xb8, 0, 7, 0, 0]
    );
}

#[test]
fn oracle_answers_verify_here() {
    // The oracle plays a server answering one of our requests.
    let mut out = Vec::new();
    let ra = [0x11u8; 16];
    encode_access_request(&mut out, 77, &ra, &request_attributes(b"pw"), &secret()).unwrap();
    let request = OPacket::decode(&out, SECRET.as_bytes()).unwrap();
    let mut accept = request.make_response_packet(OCode::AccessAccept);
    rfc2865::add_framed_ip_address(&mut accept, &Ipv4Addr::new(198, 51, 100, 20));
    rfc2869::add_framed_pool(&mut accept, "pool-a");
    rfc2865::add_session_timeout(&mut accept, 7200);
    rfc2865::add_class(&mut accept, b"class-1");
    rfc2865::add_framed_mtu(&mut accept, 1400);
    rfc3162::add_framed_ipv6_prefix(&mut accept, &[0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0]).unwrap();
    // The oracle leaves out the Data-Length octet of RFC 2868 §3.5: hand it the RFC's
    // plaintext (length, then password) so that what it hides is what a server sends.
    let mut plain = vec![11u8];
    plain.extend_from_slice(b"tunnel-pass");
    rfc2868::add_tunnel_password(&mut accept, Some(&Tag::new(2)), &plain).unwrap();
    let bytes = accept.encode().unwrap();
    let p = verify_response(&bytes, &ra, &secret(), false).unwrap();
    assert_eq!(p.code, Code::AccessAccept);
    let a = &p.attributes;
    assert_eq!(a.framed_ip_address(), Some(Ipv4Addr::new(198, 51, 100, 20)));
    assert_eq!(a.framed_pool(), Some("pool-a"));
    assert_eq!(a.session_timeout(), Some(7200));
    assert_eq!(a.classes().collect::<Vec<_>>(), [b"class-1"]);
    assert_eq!(a.framed_mtu(), Some(1400));
    assert_eq!(
        a.framed_ipv6_prefix(),
        Some(Ipv6Prefix::new(
            "2001:db8:9::".parse::<Ipv6Addr>().unwrap(),
            64
        ))
    );
    let (tag, password) = a.tunnel_password(&secret(), &ra).unwrap();
    assert_eq!((tag, password.unwrap()), (2, b"tunnel-pass".to_vec()));
    // Without a Message-Authenticator (the oracle sends none) it is refused by default.
    assert!(verify_response(&bytes, &ra, &secret(), true).is_err());
}

#[test]
fn our_answers_are_authentic_for_the_oracle() {
    let mut out = Vec::new();
    let ra = [0x22u8; 16];
    encode_access_request(&mut out, 5, &ra, &request_attributes(b"pw"), &secret()).unwrap();
    let request = out.clone();
    let mut a = Attributes::new();
    a.push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 21))
        .unwrap();
    a.push_tunnel_password(1, b"hidden", &secret(), &ra, [0x80, 0x42])
        .unwrap();
    encode_response(&mut out, Code::AccessAccept, 5, &ra, &a, &secret(), true).unwrap();
    assert!(OPacket::is_authentic_response(
        &out,
        &request,
        SECRET.as_bytes()
    ));
    let p = OPacket::decode(&out, SECRET.as_bytes()).unwrap();
    // The oracle reveals Tunnel-Password with the packet's authenticator: hand it the value in
    // a copy of the request, which holds the Request Authenticator.
    let mut response_as_request = OPacket::decode(&request, SECRET.as_bytes()).unwrap();
    response_as_request.add(p.lookup(rfc2868::TUNNEL_PASSWORD_TYPE).unwrap().clone());
    let (password, tag) = rfc2868::lookup_tunnel_password(&response_as_request)
        .unwrap()
        .unwrap();
    // The oracle omits the Data-Length octet of RFC 2868 §3.5, so it shows it as part of the
    // password: the RFC's plaintext is the length, then the password.
    assert_eq!(
        (password.as_slice(), tag.get_value()),
        (&b"\x06hidden"[..], 1)
    );
    assert_eq!(
        rfc2865::lookup_framed_ip_address(&p).unwrap().unwrap(),
        Ipv4Addr::new(198, 51, 100, 21)
    );
}

#[test]
fn oracle_disconnect_requests_are_accepted_and_our_ack_is_authentic() {
    let mut dr = OPacket::new(OCode::DisconnectRequest, SECRET.as_bytes());
    dr.set_identifier(12);
    rfc2865::add_user_name(&mut dr, "alice");
    rfc2866::add_acct_session_id(&mut dr, "0000002a");
    let bytes = dr.encode().unwrap();
    let from = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 50), 31000));
    let mut das = DynAuthServer::new([DynAuthClient {
        address: from.ip(),
        secret: secret(),
        require_message_authenticator: false,
    }]);
    let Ok(Incoming::Request(r)) =
        das.handle_request(l2tp_proto::time::Instant::ZERO, from, &bytes)
    else {
        panic!("refused");
    };
    assert_eq!(r.packet.attributes.acct_session_id(), Some("0000002a"));
    let mut out = Vec::new();
    das.respond(
        &r,
        Answer::Nak(Some(error_cause::SESSION_CONTEXT_NOT_FOUND)),
        &Attributes::new(),
        &mut out,
    )
    .unwrap();
    assert!(OPacket::is_authentic_response(
        &out,
        &bytes,
        SECRET.as_bytes()
    ));
    let nak = OPacket::decode(&out, SECRET.as_bytes()).unwrap();
    assert_eq!(nak.get_code(), OCode::DisconnectNAK);
    assert_eq!(rfc3576::lookup_error_cause(&nak).unwrap().unwrap(), 503);
    // And the oracle's Accounting-Requests verify here.
    let mut acct = OPacket::new(OCode::AccountingRequest, SECRET.as_bytes());
    rfc2866::add_acct_status_type(&mut acct, 1);
    let bytes = acct.encode().unwrap();
    let p = verify_request(&bytes, &secret(), false).unwrap();
    assert_eq!(p.attributes.acct_status_type(), Some(1));
    assert!(p.attributes.get(AttrType::ACCT_SESSION_ID).is_none());
}
