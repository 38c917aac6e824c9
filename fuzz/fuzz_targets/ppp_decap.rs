//! The userspace data path's native PPP on arbitrary input: a datagram from the network parsed
//! as L2TP (over UDP or IP), decapsulated by a PPP session of either version (cookie, sublayer,
//! sequencing as the input says) and judged for the shared TUN (IPv4 from the peer's address,
//! IPv6 from its link-local address); and a packet framed and
//! encapsulated as the data path sends it, which must come back whole.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use l2tp_dataplane::codec::RxSequence;
use l2tp_dataplane::ppp::codec::{Inbound, InboundDrop, NetState, PppCodec, PppCodecSpec, PppL2tp};
use l2tp_dataplane::ppp::routes::link_local;
use l2tp_dataplane::ppp::{Framing, judge};
use l2tp_dataplane::{Cookie, Encapsulation, L2SpecificSublayer};
use l2tp_proto::wire::header::Packet;
use libfuzzer_sys::fuzz_target;

fn codec(mode: u8, cookie: &[u8]) -> PppCodec {
    let encap = if mode & 1 == 0 {
        Encapsulation::Udp
    } else {
        Encapsulation::Ip
    };
    let seq = mode & 2 != 0;
    let l2tp = if mode & 4 == 0 && encap == Encapsulation::Udp {
        PppL2tp::V2 {
            peer_tid: 0x1234,
            peer_sid: 0x5678,
        }
    } else {
        let cookie = match mode >> 6 {
            0 => Cookie::NONE,
            1 => Cookie::new(&cookie[..4]).unwrap_or_default(),
            _ => Cookie::new(cookie).unwrap_or_default(),
        };
        PppL2tp::V3 {
            peer_sid: 0x0a0b_0c0d,
            cookie,
            peer_cookie: cookie,
            l2spec: if mode & 8 != 0 || seq {
                L2SpecificSublayer::Default
            } else {
                L2SpecificSublayer::None
            },
        }
    };
    PppCodec::new(PppCodecSpec {
        encap,
        l2tp,
        send_seq: seq,
        recv_seq: seq,
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&[mode, net_bits], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Some((cookie, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let c = codec(mode, cookie);
    let net = NetState {
        peer_ipv4: (net_bits & 1 != 0).then(|| Ipv4Addr::new(203, 0, 113, 10)),
        peer_ifid: (net_bits & 8 != 0).then_some(0x0211_22ff_fe33_4455),
        framing: Framing {
            acfc: net_bits & 2 != 0,
            pfc: net_bits & 4 != 0,
        },
    };
    // Received from the network.
    let mut rx = c.rx_sequence();
    if let Ok(p @ (Packet::V2Data { .. } | Packet::V3Data { .. })) =
        Packet::parse(rest, c.spec().encap)
        && let Ok(frame) = c.decap(&mut rx, p)
    {
        match judge(frame, net) {
            Inbound::Ip(r) => {
                let ip = &frame[r];
                if ip[0] >> 4 == 4 {
                    assert_eq!(
                        Some(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15])),
                        net.peer_ipv4
                    );
                } else {
                    assert_eq!(ip[0] >> 4, 6);
                    let src: [u8; 16] = ip[8..24].try_into().expect("an IPv6 header");
                    let id = net.peer_ifid.expect("IPv6 carried");
                    assert_eq!(src, link_local(id).octets());
                }
            }
            Inbound::Drop(InboundDrop::Spoofed(IpAddr::V4(src))) => {
                assert_ne!(Some(src), net.peer_ipv4)
            }
            Inbound::Drop(InboundDrop::Spoofed(IpAddr::V6(src))) => {
                assert_ne!(net.peer_ifid.map(link_local), Some(src))
            }
            Inbound::Control | Inbound::Drop(_) => {}
        }
    }
    // Sent: the rest as an IP packet, framed and encapsulated, then received again.
    let numbered = mode & 16 != 0 && c.sequence_mask().is_some();
    let head = c.overhead(net.framing, false, numbered);
    let mut buf = vec![0u8; head + rest.len()];
    buf[head..].copy_from_slice(rest);
    let end = buf.len();
    let ns = u32::from_le_bytes(*cookie.first_chunk::<4>().unwrap_or(&[0; 4]));
    let ns = numbered.then_some(ns);
    let r = c.encap_ip(ns, net.framing, false, &mut buf, head..end);
    let packet = &buf[r];
    let mut rx = RxSequence::new(false);
    let back = c.spec().l2tp;
    let receiver = PppCodec::new(PppCodecSpec {
        recv_seq: false,
        ..*c.spec()
    });
    let parsed = Packet::parse(packet, c.spec().encap).expect("our own packet parses");
    let frame = receiver
        .decap(&mut rx, parsed)
        .expect("our own packet decapsulates");
    let hdr = net.framing.header_len(0x0021);
    assert_eq!(&frame[hdr..], rest, "{back:?}");
    assert_eq!(
        ppp_proto::wire::classify(frame),
        ppp_proto::wire::FrameKind::Ipv4 { offset: hdr }
    );
});
