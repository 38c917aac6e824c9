use l2tp_proto::wire::header::V2DataHeader;

use super::*;
use crate::ppp::routes::link_local;

const PEER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

/// A minimal IPv4 header (and 4 octets of payload) from `src` to 203.0.113.1.
fn ipv4(src: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 1, 0, 0];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&[203, 0, 113, 1]);
    p.extend_from_slice(&[8, 0, 0, 0]);
    p
}

const PEER_IFID: u64 = 0x0211_22ff_fe33_4455;

/// A minimal IPv6 header (and 8 octets of payload) from `src` to fe80::1.
fn ipv6(src: Ipv6Addr) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 8, 58, 64];
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&link_local(1).octets());
    p.extend_from_slice(&[128, 0, 0, 0, 0, 0, 0, 0]);
    p
}

fn v2(send_seq: bool, recv_seq: bool) -> PppCodec {
    PppCodec::new(PppCodecSpec {
        encap: Encapsulation::Udp,
        l2tp: PppL2tp::V2 {
            peer_tid: 0x1234,
            peer_sid: 0x5678,
        },
        send_seq,
        recv_seq,
    })
}

fn v3(encap: Encapsulation, cookie: &[u8], l2spec: L2SpecificSublayer, seq: bool) -> PppCodec {
    let cookie = Cookie::new(cookie).unwrap_or_default();
    PppCodec::new(PppCodecSpec {
        encap,
        l2tp: PppL2tp::V3 {
            peer_sid: 0x0a0b_0c0d,
            cookie,
            peer_cookie: cookie,
            l2spec,
        },
        send_seq: seq,
        recv_seq: seq,
    })
}

/// Encapsulates IP packet `p` as `c` does with `framing`, numbered `ns` if given.
fn send_ip(c: &PppCodec, ns: Option<u32>, framing: Framing, p: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; PPP_HEADROOM + p.len()];
    buf[PPP_HEADROOM..].copy_from_slice(p);
    let end = buf.len();
    let r = c.encap_ip(ns, framing, false, &mut buf, PPP_HEADROOM..end);
    assert_eq!(r.len(), c.overhead(framing, false, ns.is_some()) + p.len());
    buf[r].to_vec()
}

/// Parses `packet` as the peer's data message and decapsulates it with `c`.
fn receive<'a>(
    c: &PppCodec,
    rx: &mut RxSequence,
    encap: Encapsulation,
    packet: &'a [u8],
) -> Result<&'a [u8], RxDrop> {
    let parsed = Packet::parse(packet, encap).unwrap_or_else(|e| panic!("{e}: {packet:02x?}"));
    c.decap(rx, parsed)
}

#[test]
fn l2tpv2_without_sequencing_is_six_octets_of_header() {
    let c = v2(false, false);
    assert_eq!(c.header_len(false), 6);
    let ip = ipv4(PEER);
    let p = send_ip(&c, None, Framing::FULL, &ip);
    // T = 0, L = 0, S = 0, O = 0, P = 0, Ver 2; the peer's ids; FF 03 00 21.
    assert_eq!(
        &p[..10],
        &[0x00, 0x02, 0x12, 0x34, 0x56, 0x78, 0xff, 0x03, 0x00, 0x21]
    );
    assert_eq!(&p[10..], &ip[..]);
    match Packet::parse(&p, Encapsulation::Udp) {
        Ok(Packet::V2Data { header, .. }) => {
            assert_eq!((header.tunnel_id, header.session_id), (0x1234, 0x5678));
            assert_eq!(header.sequence, None);
        }
        other => panic!("{other:?}"),
    }
    let mut rx = c.rx_sequence();
    let frame = receive(&c, &mut rx, Encapsulation::Udp, &p).unwrap_or_default();
    let net = NetState {
        peer_ipv4: Some(PEER),
        peer_ifid: None,
        framing: Framing::FULL,
    };
    assert_eq!(judge(frame, net), Inbound::Ip(4..frame.len()));
    assert_eq!(&frame[4..], &ip[..]);
}

#[test]
fn l2tpv2_sequencing_numbers_sixteen_bits_and_drops_late_packets() {
    let c = v2(true, true);
    assert_eq!(c.header_len(true), 10);
    assert_eq!(c.sequence_mask(), Some(0xffff));
    let ip = ipv4(PEER);
    let mut rx = c.rx_sequence();
    let mut sent = Vec::new();
    for ns in [0xfffe_u32, 0xffff, 0x1_0000, 0x1_0001] {
        let p = send_ip(&c, Some(ns), Framing::FULL, &ip);
        // S bit; Ns masked to 16 bits; Nr 0.
        assert_eq!(&p[..2], &[0x08, 0x02]);
        assert_eq!(&p[6..8], &((ns & 0xffff) as u16).to_be_bytes());
        assert_eq!(&p[8..10], &[0, 0]);
        assert!(
            receive(&c, &mut rx, Encapsulation::Udp, &p).is_ok(),
            "{ns:x}"
        );
        sent.push(p);
    }
    assert_eq!(rx.expected(), Some(2));
    // A duplicate and a packet from before the wrap are late.
    assert_eq!(
        receive(&c, &mut rx, Encapsulation::Udp, &sent[3]),
        Err(RxDrop::OutOfOrder)
    );
    assert_eq!(
        receive(&c, &mut rx, Encapsulation::Udp, &sent[0]),
        Err(RxDrop::OutOfOrder)
    );
    // A packet without Ns is refused when sequencing is required.
    let plain = send_ip(&v2(false, false), None, Framing::FULL, &ip);
    assert_eq!(
        receive(&c, &mut rx, Encapsulation::Udp, &plain),
        Err(RxDrop::SequenceMissing)
    );
    // A receiver that does not require it takes both.
    let lax = v2(false, false);
    let mut rx = lax.rx_sequence();
    assert!(receive(&lax, &mut rx, Encapsulation::Udp, &sent[1]).is_ok());
    assert!(receive(&lax, &mut rx, Encapsulation::Udp, &plain).is_ok());
}

#[test]
fn l2tpv2_received_with_length_offset_and_priority() {
    let c = v2(false, false);
    let mut rx = c.rx_sequence();
    let mut frame = vec![0xff, 0x03, 0x00, 0x21];
    frame.extend_from_slice(&ipv4(PEER));
    for (with_length, offset, priority, sequence) in [
        (true, None, false, None),
        (false, Some(0), false, None),
        (true, Some(3), true, Some((9, 4))),
        (false, Some(8), false, Some((1, 0))),
    ] {
        let h = V2DataHeader {
            with_length,
            tunnel_id: 1,
            session_id: 2,
            sequence,
            offset,
            priority,
        };
        let mut p = Vec::new();
        h.emit(frame.len(), &mut p);
        p.extend_from_slice(&frame);
        assert_eq!(
            receive(&c, &mut rx, Encapsulation::Udp, &p),
            Ok(&frame[..]),
            "{h:?}"
        );
    }
    // A Length field that disagrees with the datagram is refused by the parser.
    let h = V2DataHeader {
        with_length: true,
        ..V2DataHeader::default()
    };
    let mut p = Vec::new();
    h.emit(frame.len() + 1, &mut p);
    p.extend_from_slice(&frame);
    assert!(Packet::parse(&p, Encapsulation::Udp).is_err());
}

#[test]
fn l2tpv3_ppp_with_a_cookie_over_udp_and_ip() {
    for encap in [Encapsulation::Udp, Encapsulation::Ip] {
        for l2spec in [L2SpecificSublayer::None, L2SpecificSublayer::Default] {
            let c = v3(encap, &[1, 2, 3, 4, 5, 6, 7, 8], l2spec, false);
            let ip = ipv4(PEER);
            let p = send_ip(&c, None, Framing::FULL, &ip);
            // The same header as the L2TPv3 Ethernet path writes.
            let mut want = Vec::new();
            V3DataHeader {
                session_id: 0x0a0b_0c0d,
                cookie: Cookie::new(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap_or_default(),
                sublayer: (l2spec == L2SpecificSublayer::Default)
                    .then_some(DefaultSublayer::default()),
            }
            .emit(encap, &mut want);
            assert_eq!(c.header_len(false), want.len());
            assert_eq!(c.header_len(true), want.len());
            assert_eq!(&p[..want.len()], &want[..], "{encap:?} {l2spec:?}");
            assert_eq!(&p[want.len()..want.len() + 4], &[0xff, 0x03, 0x00, 0x21]);
            let mut rx = c.rx_sequence();
            let frame = receive(&c, &mut rx, encap, &p).unwrap_or_default();
            assert_eq!(&frame[4..], &ip[..]);
            // Another cookie: dropped (RFC 3931 §8.2).
            let other = v3(encap, &[9, 9, 9, 9, 9, 9, 9, 9], l2spec, false);
            let bad = send_ip(&other, None, Framing::FULL, &ip);
            assert_eq!(
                receive(&c, &mut rx, encap, &bad),
                Err(RxDrop::CookieMismatch)
            );
            // Too short for the cookie.
            assert_eq!(
                receive(&c, &mut rx, encap, &p[..want.len() - 6]),
                Err(RxDrop::Truncated)
            );
        }
    }
}

#[test]
fn l2tpv3_sequencing_uses_the_sublayer() {
    let c = v3(
        Encapsulation::Udp,
        &[5, 5, 5, 5],
        L2SpecificSublayer::Default,
        true,
    );
    assert_eq!(c.sequence_mask(), Some(SUBLAYER_SEQUENCE_MASK));
    let mut rx = c.rx_sequence();
    let ip = ipv4(PEER);
    let a = send_ip(&c, Some(0x1ff_ffff), Framing::FULL, &ip);
    // S bit and the number masked to 24 bits, after 8 octets of header and the cookie.
    assert_eq!(&a[12..16], &[0x40, 0xff, 0xff, 0xff]);
    let b = send_ip(&c, Some(0x200_0000), Framing::FULL, &ip);
    assert_eq!(&b[12..16], &[0x40, 0, 0, 0]);
    assert!(receive(&c, &mut rx, Encapsulation::Udp, &a).is_ok());
    assert!(receive(&c, &mut rx, Encapsulation::Udp, &b).is_ok());
    assert_eq!(
        receive(&c, &mut rx, Encapsulation::Udp, &a),
        Err(RxDrop::OutOfOrder)
    );
    // Unnumbered: the sublayer is there, its S bit clear, and a receiver that requires
    // sequencing drops it.
    let u = send_ip(&c, None, Framing::FULL, &ip);
    assert_eq!(&u[12..16], &[0, 0, 0, 0]);
    assert_eq!(
        receive(&c, &mut rx, Encapsulation::Udp, &u),
        Err(RxDrop::SequenceMissing)
    );
    // Without the sublayer there is nothing to number.
    let none = v3(Encapsulation::Ip, &[], L2SpecificSublayer::None, true);
    assert_eq!(none.sequence_mask(), None);
}

#[test]
fn acfc_and_pfc_both_ways() {
    let c = v2(false, false);
    let ip = ipv4(PEER);
    let net = |framing| NetState {
        peer_ipv4: Some(PEER),
        peer_ifid: None,
        framing,
    };
    for (framing, header) in [
        (Framing::FULL, &[0xff, 0x03, 0x00, 0x21][..]),
        (
            Framing {
                acfc: true,
                pfc: false,
            },
            &[0x00, 0x21][..],
        ),
        (
            Framing {
                acfc: false,
                pfc: true,
            },
            &[0xff, 0x03, 0x21][..],
        ),
        (
            Framing {
                acfc: true,
                pfc: true,
            },
            &[0x21][..],
        ),
    ] {
        let p = send_ip(&c, None, framing, &ip);
        assert_eq!(&p[6..6 + header.len()], header, "{framing:?}");
        let mut rx = c.rx_sequence();
        let frame = receive(&c, &mut rx, Encapsulation::Udp, &p).unwrap_or_default();
        // Every form is accepted on receipt, whatever we send ourselves (RFC 1661 §6.5).
        for ours in [Framing::FULL, framing] {
            assert_eq!(
                judge(frame, net(ours)),
                Inbound::Ip(header.len()..frame.len())
            );
        }
    }
    // An IPv6 packet goes out with its own Protocol field.
    let mut buf = vec![0u8; PPP_HEADROOM + 40];
    buf[PPP_HEADROOM] = 0x60;
    let end = buf.len();
    let r = c.encap_ip(
        None,
        Framing {
            acfc: true,
            pfc: true,
        },
        true,
        &mut buf,
        PPP_HEADROOM..end,
    );
    assert_eq!(&buf[r.start + 6..r.start + 7], &[0x57]);
}

#[test]
fn control_frames_go_out_as_the_link_wrote_them() {
    let c = v3(Encapsulation::Ip, &[], L2SpecificSublayer::None, false);
    let lcp = [0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4];
    let mut buf = vec![0u8; PPP_HEADROOM + lcp.len()];
    buf[PPP_HEADROOM..].copy_from_slice(&lcp);
    let end = buf.len();
    let r = c.encap_frame(None, &mut buf, PPP_HEADROOM..end);
    let p = &buf[r];
    assert_eq!(&p[..4], &0x0a0b_0c0d_u32.to_be_bytes());
    assert_eq!(&p[4..], &lcp);
    let mut rx = c.rx_sequence();
    let frame = receive(&c, &mut rx, Encapsulation::Ip, p).unwrap_or_default();
    assert_eq!(judge(frame, NetState::default()), Inbound::Control);
}

#[test]
fn only_the_peers_address_reaches_the_tun() {
    let framed = |ip: &[u8]| [&[0xff, 0x03, 0x00, 0x21][..], ip].concat();
    let up = NetState {
        peer_ipv4: Some(PEER),
        peer_ifid: None,
        framing: Framing::FULL,
    };
    let spoof = Ipv4Addr::new(203, 0, 113, 99);
    assert_eq!(
        judge(&framed(&ipv4(spoof)), up),
        Inbound::Drop(InboundDrop::Spoofed(spoof.into()))
    );
    // IPCP not Opened: nothing is carried, whatever the source (RFC 1661 §3.5).
    assert_eq!(
        judge(&framed(&ipv4(PEER)), NetState::default()),
        Inbound::Drop(InboundDrop::NotCarried(IpVersion::V4))
    );
    // IPv6 while IPv6CP is not Opened is not carried.
    let framed6 = |src: Ipv6Addr| [&[0xff, 0x03, 0x00, 0x57][..], &ipv6(src)].concat();
    assert_eq!(
        judge(&framed6(link_local(PEER_IFID)), up),
        Inbound::Drop(InboundDrop::NotCarried(IpVersion::V6))
    );
    // Runts, and a version or header length that is not IPv4's.
    assert_eq!(
        judge(&framed(&ipv4(PEER)[..15]), up),
        Inbound::Drop(InboundDrop::Invalid)
    );
    let mut bad = ipv4(PEER);
    bad[0] = 0x65;
    assert_eq!(
        judge(&framed(&bad), up),
        Inbound::Drop(InboundDrop::Invalid)
    );
    bad[0] = 0x44;
    assert_eq!(
        judge(&framed(&bad), up),
        Inbound::Drop(InboundDrop::Invalid)
    );
    assert_eq!(
        judge(&[0xff, 0x05, 0x00, 0x21], up),
        Inbound::Drop(InboundDrop::Invalid)
    );
    // Any other protocol is the link's to answer (or reject).
    assert_eq!(judge(&[0x80, 0xfd, 1, 1, 0, 4], up), Inbound::Control);
}

#[test]
fn the_net_state_packs_into_two_words() {
    for s in [
        NetState::default(),
        NetState {
            peer_ipv4: Some(Ipv4Addr::new(255, 255, 255, 255)),
            peer_ifid: None,
            framing: Framing {
                acfc: true,
                pfc: false,
            },
        },
        NetState {
            peer_ipv4: Some(Ipv4Addr::UNSPECIFIED),
            peer_ifid: Some(0),
            framing: Framing {
                acfc: false,
                pfc: true,
            },
        },
    ] {
        let (w, id) = s.pack();
        assert_eq!(NetState::unpack(w, id), s);
    }
    let v6 = NetState {
        peer_ipv4: None,
        peer_ifid: Some(u64::MAX),
        framing: Framing::FULL,
    };
    let (w, id) = v6.pack();
    assert_eq!(NetState::unpack(w, id), v6);
    assert_eq!(NetState::default().pack(), (0, 0));
}

#[test]
fn a_packet_of_the_other_version_is_refused() {
    let c = v3(Encapsulation::Udp, &[], L2SpecificSublayer::None, false);
    let p = send_ip(&v2(false, false), None, Framing::FULL, &ipv4(PEER));
    let mut rx = c.rx_sequence();
    assert_eq!(
        receive(&c, &mut rx, Encapsulation::Udp, &p),
        Err(RxDrop::Truncated)
    );
}

#[test]
fn only_the_peers_link_local_address_reaches_the_tun() {
    let framed = |src: Ipv6Addr| [&[0xff, 0x03, 0x00, 0x57][..], &ipv6(src)].concat();
    let up = NetState {
        peer_ipv4: None,
        peer_ifid: Some(PEER_IFID),
        framing: Framing::FULL,
    };
    let ok = framed(link_local(PEER_IFID));
    assert_eq!(judge(&ok, up), Inbound::Ip(4..ok.len()));
    // Another session's identifier, the same identifier under another prefix, the
    // unspecified address: spoofed.
    for src in [
        link_local(PEER_IFID + 1),
        Ipv6Addr::from((0x2001_0db8_u128 << 96) | u128::from(PEER_IFID)),
        Ipv6Addr::UNSPECIFIED,
    ] {
        assert_eq!(
            judge(&framed(src), up),
            Inbound::Drop(InboundDrop::Spoofed(src.into()))
        );
    }
    // IPv4 is not carried while only IPv6CP is up.
    assert_eq!(
        judge(&[&[0xff, 0x03, 0x00, 0x21][..], &ipv4(PEER)].concat(), up),
        Inbound::Drop(InboundDrop::NotCarried(IpVersion::V4))
    );
    // A runt, and a version that is not IPv6's.
    assert_eq!(
        judge(&ok[..4 + 39], up),
        Inbound::Drop(InboundDrop::Invalid)
    );
    let mut bad = ok.clone();
    bad[4] = 0x40;
    assert_eq!(judge(&bad, up), Inbound::Drop(InboundDrop::Invalid));
}
