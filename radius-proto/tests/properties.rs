//! Property tests: what is encoded decodes to the same values, and no input makes the decoders
//! panic.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use l2tp_proto::time::Instant;
use proptest::prelude::*;
use radius_proto::dict::ms;
use radius_proto::dynauth::{DynAuthClient, DynAuthServer};
use radius_proto::packet::{
    Packet, encode_access_request, encode_response, encode_signed_request, verify_access_request,
    verify_request, verify_response,
};
use radius_proto::{AttrType, Attributes, Code, Ipv6Prefix, Secret};

/// One typed attribute as the daemon would add it.
#[derive(Clone, Debug)]
enum Typed {
    UserName(String),
    NasPort(u32),
    FramedIp(Ipv4Addr),
    NasIpv6(Ipv6Addr),
    Prefix(Ipv6Addr, u8),
    InterfaceId([u8; 8]),
    Class(Vec<u8>),
    TunnelType(u8, u32),
    TunnelEndpoint(u8, String),
    MsDns(Ipv4Addr),
    Unknown(u8, Vec<u8>),
}

fn typed() -> impl Strategy<Value = Typed> {
    prop_oneof![
        "[a-z0-9@.]{1,60}".prop_map(Typed::UserName),
        any::<u32>().prop_map(Typed::NasPort),
        any::<[u8; 4]>().prop_map(|a| Typed::FramedIp(a.into())),
        any::<[u8; 16]>().prop_map(|a| Typed::NasIpv6(a.into())),
        (any::<[u8; 16]>(), 0u8..=128).prop_map(|(a, l)| Typed::Prefix(a.into(), l)),
        any::<[u8; 8]>().prop_map(Typed::InterfaceId),
        proptest::collection::vec(any::<u8>(), 1..=253).prop_map(Typed::Class),
        (1u8..=0x1f, 0u32..0x0100_0000).prop_map(|(t, v)| Typed::TunnelType(t, v)),
        (1u8..=0x1f, "[0-9.]{1,40}").prop_map(|(t, s)| Typed::TunnelEndpoint(t, s)),
        any::<[u8; 4]>().prop_map(|a| Typed::MsDns(a.into())),
        (192u8..=255, proptest::collection::vec(any::<u8>(), 0..=40))
            .prop_map(|(t, v)| Typed::Unknown(t, v)),
    ]
}

fn build(list: &[Typed]) -> Attributes {
    let mut a = Attributes::new();
    for t in list {
        match t {
            Typed::UserName(s) => a.push_user_name(s).map(|_| ()),
            Typed::NasPort(v) => a.push_nas_port(*v).map(|_| ()),
            Typed::FramedIp(ip) => a.push_framed_ip_address(*ip).map(|_| ()),
            Typed::NasIpv6(ip) => a.push_nas_ipv6_address(*ip).map(|_| ()),
            Typed::Prefix(ip, l) => a
                .push_delegated_ipv6_prefix(Ipv6Prefix::new(*ip, *l))
                .map(|_| ()),
            Typed::InterfaceId(id) => a.push_framed_interface_id(*id).map(|_| ()),
            Typed::Class(v) => a.push_class(v).map(|_| ()),
            Typed::TunnelType(tag, v) => a.push_tunnel_type(*tag, *v).map(|_| ()),
            Typed::TunnelEndpoint(tag, s) => a.push_tunnel_client_endpoint(*tag, s).map(|_| ()),
            Typed::MsDns(ip) => a
                .push_vendor(ms::PRIMARY_DNS_SERVER, &ip.octets())
                .map(|_| ()),
            Typed::Unknown(t, v) => a.push(AttrType(*t), v).map(|_| ()),
        }
        .unwrap();
    }
    a
}

/// Checks that `a` holds the values of `list` in order, through the typed accessors.
fn check(list: &[Typed], a: &Attributes) {
    let mut iter = a.iter();
    for t in list {
        let attr = iter.next().unwrap();
        let single = {
            let mut one = Attributes::new();
            one.push(attr.attr_type, attr.value).unwrap();
            one
        };
        match t {
            Typed::UserName(s) => assert_eq!(single.user_name(), Some(s.as_str())),
            Typed::NasPort(v) => assert_eq!(single.nas_port(), Some(*v)),
            Typed::FramedIp(ip) => assert_eq!(single.framed_ip_address(), Some(*ip)),
            Typed::NasIpv6(ip) => assert_eq!(single.nas_ipv6_address(), Some(*ip)),
            Typed::Prefix(ip, l) => assert_eq!(
                single.delegated_ipv6_prefix(),
                Some(Ipv6Prefix::new(*ip, *l))
            ),
            Typed::InterfaceId(id) => assert_eq!(single.framed_interface_id(), Some(*id)),
            Typed::Class(v) => assert_eq!(single.classes().next(), Some(v.as_slice())),
            Typed::TunnelType(tag, v) => assert_eq!(
                single.tagged_u32(AttrType::TUNNEL_TYPE).next(),
                Some((*tag, *v))
            ),
            Typed::TunnelEndpoint(tag, s) => assert_eq!(
                single.tagged_text(AttrType::TUNNEL_CLIENT_ENDPOINT).next(),
                Some((*tag, s.as_bytes()))
            ),
            Typed::MsDns(ip) => assert_eq!(single.ms_primary_dns_server(), Some(*ip)),
            Typed::Unknown(t, v) => {
                assert_eq!((attr.attr_type, attr.value), (AttrType(*t), v.as_slice()));
            }
        }
    }
    assert!(iter.next().is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn responses_round_trip(
        list in proptest::collection::vec(typed(), 0..12),
        id in any::<u8>(),
        ra in any::<[u8; 16]>(),
        ma in any::<bool>(),
        code in prop::sample::select(vec![
            Code::AccessAccept, Code::AccessReject, Code::AccessChallenge,
            Code::AccountingResponse, Code::CoaAck, Code::DisconnectNak,
        ]),
    ) {
        let attrs = build(&list);
        let secret = Secret::from("prop-secret");
        let mut out = Vec::new();
        encode_response(&mut out, code, id, &ra, &attrs, &secret, ma).unwrap();
        let p = verify_response(&out, &ra, &secret, ma).unwrap();
        prop_assert_eq!((p.code, p.identifier), (code, id));
        let mut rest = p.attributes.clone();
        rest.remove(AttrType::MESSAGE_AUTHENTICATOR);
        prop_assert_eq!(&rest, &attrs);
        check(&list, &rest);
        // The decoded packet re-encodes byte for byte.
        let mut again = Vec::new();
        p.encode_raw(&mut again).unwrap();
        prop_assert_eq!(again, out);
    }

    #[test]
    fn requests_round_trip(
        list in proptest::collection::vec(typed(), 0..12),
        id in any::<u8>(),
        ma in any::<bool>(),
        code in prop::sample::select(vec![
            Code::AccountingRequest, Code::DisconnectRequest, Code::CoaRequest,
        ]),
    ) {
        let attrs = build(&list);
        let secret = Secret::from("prop-secret");
        let mut out = Vec::new();
        encode_signed_request(&mut out, code, id, &attrs, &secret, ma).unwrap();
        let p = verify_request(&out, &secret, ma).unwrap();
        let mut rest = p.attributes.clone();
        rest.remove(AttrType::MESSAGE_AUTHENTICATOR);
        check(&list, &rest);
    }

    #[test]
    fn access_requests_round_trip(
        list in proptest::collection::vec(typed(), 0..8),
        password in proptest::collection::vec(any::<u8>(), 0..=128),
        ra in any::<[u8; 16]>(),
        secret in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let mut attrs = build(&list);
        attrs.push_user_password(&password).unwrap();
        let secret = Secret::new(secret);
        let mut out = Vec::new();
        encode_access_request(&mut out, 1, &ra, &attrs, &secret).unwrap();
        let p = verify_access_request(&out, &secret, true).unwrap();
        let mut revealed = p.user_password(&secret).unwrap().unwrap();
        // NULs at the end cannot be told from padding (RFC 2865 §5.2).
        let mut expected = password.clone();
        while expected.last() == Some(&0) {
            expected.pop();
        }
        revealed.truncate(expected.len());
        prop_assert_eq!(revealed, expected);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let secret = Secret::from("s");
        if let Ok(p) = Packet::decode(&bytes) {
            // Every attribute of a decoded packet formats, and re-encodes as it came.
            let _ = format!("{:?}", p);
            let mut again = Vec::new();
            p.encode_raw(&mut again).unwrap();
            prop_assert_eq!(&again[..], &bytes[..again.len()]);
        }
        let _ = verify_response(&bytes, &[0; 16], &secret, true);
        let _ = verify_request(&bytes, &secret, false);
        let _ = verify_access_request(&bytes, &secret, false);
        let _ = Attributes::from_wire(&bytes);
        let from = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 3799));
        let mut das = DynAuthServer::new([DynAuthClient {
            address: from.ip(),
            secret,
            require_message_authenticator: false,
        }]);
        let _ = das.handle_request(Instant::ZERO, from, &bytes);
    }

    #[test]
    fn decoders_never_panic_on_plausible_packets(
        code in prop::sample::select(vec![2u8, 3, 4, 5, 11, 40, 43]),
        attrs in proptest::collection::vec(
            (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..30)), 0..10),
        cut in any::<bool>(),
    ) {
        // Well-framed attributes of random types and lengths reach the typed checks.
        let mut bytes = vec![code, 1, 0, 0];
        bytes.extend_from_slice(&[0; 16]);
        for (t, v) in &attrs {
            bytes.push(*t);
            bytes.push((v.len() + 2) as u8);
            bytes.extend_from_slice(v);
        }
        let len = bytes.len() as u16;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        if cut && bytes.len() > 21 {
            bytes.pop();
        }
        if let Ok(p) = Packet::decode(&bytes) {
            let _ = format!("{:?}", p);
        }
    }
}
