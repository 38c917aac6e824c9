//! Every PPP frame of the pppd captures in `testdata/pppd/` (made by `tools/capture-pppd.sh`:
//! xl2tpd and pppd at both ends, see its README) decoded with this crate: the header
//! classifier, the control packets and options of LCP, IPCP and IPv6CP, PAP and CHAP. The
//! values pppd computed are checked with this crate's maths: the CHAP-MD5 and MS-CHAPv2
//! responses of "alice" with password "alice-secret", and the MS-CHAPv2 authenticator
//! response pppd sent.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use l2tp_proto::wire::{Encapsulation, Packet};
use l2tp_testkit::pcap;
use l2tp_testkit::vectors::testdata_dir;
use ppp_proto::auth::wire::{ChapPacket, MsChapV2Failure, MsChapV2Response, PapPacket};
use ppp_proto::auth::{
    AuthId, AuthRequest, AuthenticatorResponse, Password, PeerCredentials, maths,
};
use ppp_proto::wire::{ControlPacket, FrameKind, OptionIter, classify, code, protocol};
use ppp_proto::{Verdict, ipcp, ipv6cp, lcp};

const LAC: [u8; 4] = [192, 0, 2, 1];

/// One PPP frame of a capture.
struct Frame {
    from_lac: bool,
    bytes: Vec<u8>,
}

fn frames(name: &str) -> Vec<Frame> {
    let path = testdata_dir().join("pppd").join(format!("{name}.pcap"));
    let datagrams = pcap::read_udp(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for d in datagrams {
        if let Ok(Packet::V2Data { payload, .. }) = Packet::parse(&d.payload, Encapsulation::Udp) {
            out.push(Frame {
                from_lac: d.src.ip() == Ipv4Addr::from(LAC),
                bytes: payload.to_vec(),
            });
        }
    }
    assert!(!out.is_empty(), "{name}: no PPP frame");
    out
}

/// A control frame, checked: its options when it is a Configure packet.
fn control(f: &Frame) -> (u16, ControlPacket<'_>) {
    let FrameKind::Link { protocol } = classify(&f.bytes) else {
        panic!("not a control frame: {:02x?}", f.bytes)
    };
    let info = &f.bytes[4..];
    assert_eq!(&f.bytes[..2], &[0xff, 0x03], "pppd over L2TP sends FF 03");
    let p = ControlPacket::parse(info).unwrap_or_else(|e| panic!("{protocol:04x}: {e}"));
    if matches!(protocol, protocol::LCP | protocol::IPCP | protocol::IPV6CP) && p.code <= 4 {
        OptionIter::validate(p.data).unwrap_or_else(|e| panic!("{protocol:04x} options: {e}"));
    }
    (protocol, p)
}

/// Decodes every frame; returns (protocol name, code) → count.
fn census(name: &str) -> BTreeMap<(&'static str, u8), usize> {
    let mut counts = BTreeMap::new();
    for f in frames(name) {
        match classify(&f.bytes) {
            FrameKind::Ipv4 { offset } => {
                assert_eq!(f.bytes[offset] >> 4, 4, "{name}: IPv4 at {offset}");
                *counts.entry(("ipv4", 0)).or_default() += 1;
            }
            FrameKind::Ipv6 { offset } => {
                assert_eq!(f.bytes[offset] >> 4, 6, "{name}: IPv6 at {offset}");
                *counts.entry(("ipv6", 0)).or_default() += 1;
            }
            FrameKind::Link { .. } => {
                let (proto, p) = control(&f);
                match proto {
                    protocol::PAP => {
                        PapPacket::parse(&p).unwrap().expect("a PAP code");
                    }
                    protocol::CHAP => {
                        ChapPacket::parse(&p).unwrap().expect("a CHAP code");
                    }
                    _ => {}
                }
                *counts.entry((protocol::name(proto), p.code)).or_default() += 1;
            }
            FrameKind::Invalid => panic!("{name}: invalid frame {:02x?}", f.bytes),
        }
    }
    counts
}

#[test]
fn every_frame_of_every_capture_decodes() {
    for name in ["pap", "chap", "mschapv2", "mschapv2-fail"] {
        let c = census(name);
        let n = |p: &'static str, code: u8| c.get(&(p, code)).copied().unwrap_or(0);
        assert!(n("lcp", code::CONFIGURE_REQUEST) >= 2, "{name}: {c:?}");
        assert!(n("lcp", code::CONFIGURE_ACK) >= 2, "{name}");
        assert!(n("lcp", code::ECHO_REQUEST) >= 2, "{name}");
        assert!(n("lcp", code::ECHO_REPLY) >= 2, "{name}");
        assert!(n("lcp", code::TERMINATE_REQUEST) >= 1, "{name}");
        if name != "mschapv2-fail" {
            assert!(n("ipcp", code::CONFIGURE_NAK) >= 1, "{name}");
            assert!(n("ipcp", code::CONFIGURE_ACK) >= 2, "{name}");
            assert!(n("ipv6cp", code::CONFIGURE_ACK) >= 2, "{name}");
            assert!(n("ipv4", 0) >= 2, "{name}: the pings");
        }
    }
}

/// pppd's LCP requests over L2TP: an ACCM of 0, the Authentication-Protocol from the
/// authenticator, a Magic-Number; no PFC or ACFC.
#[test]
fn lcp_requests_of_pppd() {
    for (name, auth) in [
        ("pap", &[0xc0, 0x23][..]),
        ("chap", &[0xc2, 0x23, 0x05]),
        ("mschapv2", &[0xc2, 0x23, 0x81]),
    ] {
        for f in frames(name) {
            let FrameKind::Link {
                protocol: protocol::LCP,
            } = classify(&f.bytes)
            else {
                continue;
            };
            let (_, p) = control(&f);
            if p.code != code::CONFIGURE_REQUEST {
                continue;
            }
            let kinds: Vec<(u8, Vec<u8>)> = p
                .options()
                .map(|o| o.unwrap())
                .map(|o| (o.kind, o.value.to_vec()))
                .collect();
            assert!(
                kinds.contains(&(lcp::option::ACCM, vec![0, 0, 0, 0])),
                "{name}: {kinds:?}"
            );
            assert!(
                kinds
                    .iter()
                    .any(|(k, v)| *k == lcp::option::MAGIC && v.len() == 4)
            );
            assert!(
                !kinds
                    .iter()
                    .any(|(k, _)| *k == lcp::option::PFC || *k == lcp::option::ACFC)
            );
            let asks_auth = kinds
                .iter()
                .any(|(k, v)| *k == lcp::option::AUTH && v == auth);
            assert_eq!(
                asks_auth, !f.from_lac,
                "{name}: only the LNS asks for authentication"
            );
        }
    }
}

#[test]
fn pap_exchange() {
    let mut seen = 0;
    for f in frames("pap") {
        let FrameKind::Link {
            protocol: protocol::PAP,
        } = classify(&f.bytes)
        else {
            continue;
        };
        let (_, p) = control(&f);
        match PapPacket::parse(&p).unwrap().unwrap() {
            PapPacket::Request { peer_id, password } => {
                assert!(f.from_lac);
                let req = AuthRequest {
                    id: AuthId::from_raw(1),
                    user: peer_id.to_vec(),
                    credentials: PeerCredentials::Pap {
                        password: Password::new(password),
                    },
                };
                assert_eq!(peer_id, b"alice");
                assert!(req.verify(&Password::from("alice-secret")).is_accept());
                assert!(!req.verify(&Password::from("alice-secreT")).is_accept());
                seen |= 1;
            }
            PapPacket::Ack(msg) => {
                assert_eq!(msg, b"Login ok");
                seen |= 2;
            }
            PapPacket::Nak(_) => panic!("no Nak in this capture"),
        }
    }
    assert_eq!(seen, 3);
}

/// The Challenge, the peer's Response and the result of a CHAP capture.
struct ChapExchange {
    identifier: u8,
    challenge: Vec<u8>,
    user: Vec<u8>,
    response: Vec<u8>,
    message: Vec<u8>,
    success: bool,
}

fn chap_exchange(name: &str) -> ChapExchange {
    let mut challenge = None;
    let mut response = None;
    let mut result = None;
    for f in frames(name) {
        let FrameKind::Link {
            protocol: protocol::CHAP,
        } = classify(&f.bytes)
        else {
            continue;
        };
        let (_, p) = control(&f);
        match ChapPacket::parse(&p).unwrap().unwrap() {
            ChapPacket::Challenge { value, name: n } => {
                assert!(!f.from_lac);
                assert_eq!(n, b"lns");
                challenge = Some((p.identifier, value.to_vec()));
            }
            ChapPacket::Response { value, name: n } => {
                assert!(f.from_lac);
                response = Some((p.identifier, value.to_vec(), n.to_vec()));
            }
            ChapPacket::Success(m) => result = Some((m.to_vec(), true)),
            ChapPacket::Failure(m) => result = Some((m.to_vec(), false)),
        }
    }
    let (identifier, challenge) = challenge.expect("a Challenge");
    let (id, response, user) = response.expect("a Response");
    assert_eq!(id, identifier);
    let (message, success) = result.expect("a Success or Failure");
    ChapExchange {
        identifier,
        challenge,
        user,
        response,
        message,
        success,
    }
}

/// The MS-CHAPv2 request the authenticator hands its host for a captured exchange.
fn mschapv2_request(x: &ChapExchange) -> AuthRequest {
    let r = MsChapV2Response::parse(&x.response).expect("49 octets");
    AuthRequest {
        id: AuthId::from_raw(1),
        user: x.user.clone(),
        credentials: PeerCredentials::MsChapV2 {
            identifier: x.identifier,
            authenticator_challenge: x.challenge.clone().try_into().expect("16 octets"),
            peer_challenge: r.peer_challenge,
            nt_response: r.nt_response,
        },
    }
}

#[test]
fn chap_md5_exchange() {
    let x = chap_exchange("chap");
    assert!(x.success);
    assert_eq!(x.message, b"Access granted");
    assert_eq!(x.user, b"alice");
    let good = Password::from("alice-secret");
    assert!(maths::chap_md5_matches(
        x.identifier,
        &good,
        &x.challenge,
        &x.response
    ));
    assert!(!maths::chap_md5_matches(
        x.identifier,
        &Password::from("x"),
        &x.challenge,
        &x.response
    ));
}

#[test]
fn mschapv2_exchange() {
    let x = chap_exchange("mschapv2");
    assert!(x.success);
    let req = mschapv2_request(&x);
    let Verdict::Accept {
        authenticator_response: Some(ours),
        ..
    } = req.verify(&Password::from("alice-secret"))
    else {
        panic!("pppd's NT-Response verifies")
    };
    // Our authenticator response is the one pppd sent: "S=<40 hex> M=Access granted".
    assert_eq!(AuthenticatorResponse::parse(&x.message[..42]), Some(ours));
    assert_eq!(&x.message[42..], b" M=Access granted");
    // The same with the NT hash a user database would keep.
    let hash = maths::nt_password_hash(&Password::from("alice-secret"));
    assert!(req.verify_nt_hash(&hash).is_accept());
}

#[test]
fn mschapv2_failure() {
    let x = chap_exchange("mschapv2-fail");
    assert!(!x.success);
    let f = MsChapV2Failure::parse(&x.message);
    assert_eq!(f.error, Some(691));
    assert_eq!(f.message, b"Access denied");
    // The peer used "wrong-password".
    let req = mschapv2_request(&x);
    assert!(!req.verify(&Password::from("alice-secret")).is_accept());
    assert!(req.verify(&Password::from("wrong-password")).is_accept());
}

/// IPCP: the LAC asks for 0.0.0.0 and two DNS servers; the LNS Naks with 198.51.100.10 and
/// 203.0.113.53/54 (RFC 1877). IPv6CP: each side's identifier is acknowledged unchanged.
#[test]
fn ipcp_and_ipv6cp_exchanges() {
    for name in ["pap", "chap", "mschapv2"] {
        let mut nak = None;
        let mut v6 = Vec::new();
        for f in frames(name) {
            let FrameKind::Link {
                protocol: proto @ (protocol::IPCP | protocol::IPV6CP),
            } = classify(&f.bytes)
            else {
                continue;
            };
            let (_, p) = control(&f);
            let opts: Vec<(u8, Vec<u8>)> = p
                .options()
                .map(|o| o.unwrap())
                .map(|o| (o.kind, o.value.to_vec()))
                .collect();
            if proto == protocol::IPCP && p.code == code::CONFIGURE_NAK {
                nak = Some(opts);
            } else if proto == protocol::IPV6CP {
                assert_eq!(opts.len(), 1);
                assert_eq!(opts[0].0, ipv6cp::option::INTERFACE_ID);
                v6.push((p.code, f.from_lac, opts[0].1.clone()));
            }
        }
        assert_eq!(
            nak,
            Some(vec![
                (ipcp::option::IP_ADDRESS, vec![198, 51, 100, 10]),
                (ipcp::option::PRIMARY_DNS, vec![203, 0, 113, 53]),
                (ipcp::option::SECONDARY_DNS, vec![203, 0, 113, 54]),
            ]),
            "{name}"
        );
        let acks = v6
            .iter()
            .filter(|(c, _, _)| *c == code::CONFIGURE_ACK)
            .count();
        assert_eq!(acks, 2, "{name}");
        for (c, from_lac, id) in &v6 {
            if *c == code::CONFIGURE_ACK {
                assert!(v6.contains(&(code::CONFIGURE_REQUEST, !from_lac, id.clone())));
            }
        }
    }
}
