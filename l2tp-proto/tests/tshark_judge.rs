//! tshark as an independent judge of what we put on the wire: every message kind of both
//! versions (hidden AVPs, L2TPv3 over IP and the L2TPv3 Message Digest included) and the data
//! headers are written to a pcap and decoded by tshark. No packet may be malformed or carry an
//! expert error, and tshark's message type, ids and AVPs must equal ours.
//!
//! tshark is required: `scripts/deps.sh` installs it.

use std::net::{Ipv4Addr, SocketAddr};

use l2tp_proto::auth::Secret;
use l2tp_proto::wire::avp::types::{ConnectSpeedUpdate, ProtocolVersion, ResultCode, pw_type};
use l2tp_proto::wire::digest::{self, DigestKey, DigestType, Nonces};
use l2tp_proto::wire::header::{DefaultSublayer, V2DataHeader, V3DataHeader};
use l2tp_proto::wire::hidden::HidingKey;
use l2tp_proto::wire::{
    Avp, AvpEntry, ControlHeader, Cookie, Encapsulation, Message, MessageType, Version,
};
use l2tp_testkit::pcap::{Datagram, Encap, IPPROTO_L2TP};
use l2tp_testkit::tshark::{self, L2tp};

const SECRET: &[u8] = b"judge-secret";

fn require_tshark() {
    assert!(
        tshark::tshark_available(),
        "tshark is required for this test (run scripts/deps.sh)"
    );
}

fn lac() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 1701))
}

fn lns() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, 2), 1701))
}

/// Every message type with its required AVPs and a few optional ones.
fn message(t: MessageType, v: Version) -> Message {
    let mut m = Message::new(t);
    let v3 = v == Version::V3;
    let result = |result| {
        Avp::ResultCode(ResultCode {
            result,
            error: Some(0),
            message: Some(b"bye".to_vec()),
        })
    };
    match t {
        MessageType::Sccrq | MessageType::Sccrp => {
            if !v3 {
                m.push(
                    Avp::ProtocolVersion(ProtocolVersion {
                        version: 1,
                        revision: 0,
                    }),
                    v,
                )
                .push(Avp::FramingCapabilities(3), v)
                .push(Avp::BearerCapabilities(3), v)
                .push(Avp::AssignedTunnelId(0x1234), v)
                .push(Avp::FirmwareRevision(0x0100), v);
            }
            m.push(Avp::HostName(b"judge".to_vec()), v)
                .push(Avp::VendorName(b"l2tp-rs".to_vec()), v)
                .push(Avp::ReceiveWindowSize(10), v);
            if v3 {
                m.push(Avp::RouterId(0xc000_0201), v)
                    .push(Avp::AssignedConnectionId(0x0102_0304), v)
                    .push(
                        Avp::PseudowireCapabilities(vec![
                            pw_type::PPP,
                            pw_type::ETH,
                            pw_type::ETH_VLAN,
                        ]),
                        v,
                    );
            }
            if t == MessageType::Sccrq {
                m.push(Avp::TieBreaker(0x0102_0304_0506_0708), v);
            }
        }
        MessageType::StopCcn => {
            if v3 {
                m.push(Avp::AssignedConnectionId(0x0102_0304), v);
            } else {
                m.push(Avp::AssignedTunnelId(0x1234), v);
            }
            m.push(result(1), v);
        }
        MessageType::Icrq | MessageType::Ocrq => {
            if v3 {
                m.push(Avp::LocalSessionId(0x1111_2222), v)
                    .push(Avp::RemoteSessionId(0), v)
                    .push(Avp::CallSerialNumber(7), v)
                    .push(Avp::PseudowireType(pw_type::ETH), v)
                    .push(Avp::RemoteEndId(b"circuit-7".to_vec()), v)
                    .push(Avp::CircuitStatus(3), v)
                    .push(
                        Avp::AssignedCookie(Cookie::new(&[1, 2, 3, 4]).unwrap_or_default()),
                        v,
                    )
                    .push(Avp::L2SpecificSublayer(1), v)
                    .push(Avp::DataSequencing(2), v)
                    .push(Avp::TxConnectSpeedBps(1_000_000_000), v);
            } else {
                m.push(Avp::AssignedSessionId(0x4321), v)
                    .push(Avp::CallSerialNumber(7), v);
                if t == MessageType::Ocrq {
                    m.push(Avp::MinimumBps(1000), v)
                        .push(Avp::MaximumBps(100_000), v)
                        .push(Avp::BearerType(2), v)
                        .push(Avp::FramingType(1), v)
                        .push(Avp::CalledNumber(b"5551234".to_vec()), v);
                } else {
                    m.push(Avp::BearerType(2), v)
                        .push(Avp::CallingNumber(b"5550000".to_vec()), v);
                }
            }
            // RFC 5515 §6.2: a LAC that sends CSUNs says so in its ICRQ (M bit clear).
            if t == MessageType::Icrq {
                m.push(Avp::ConnectSpeedUpdateEnable(()), v);
            }
        }
        MessageType::Icrp | MessageType::Ocrp => {
            if v3 {
                m.push(Avp::LocalSessionId(0x3333_4444), v)
                    .push(Avp::RemoteSessionId(0x1111_2222), v)
                    .push(Avp::CircuitStatus(3), v);
            } else {
                m.push(Avp::AssignedSessionId(0x8765), v);
            }
        }
        MessageType::Iccn | MessageType::Occn => {
            if v3 {
                m.push(Avp::LocalSessionId(0x1111_2222), v)
                    .push(Avp::RemoteSessionId(0x3333_4444), v);
            } else {
                m.push(Avp::TxConnectSpeed(100_000_000), v)
                    .push(Avp::FramingType(1), v)
                    .push(Avp::RxConnectSpeed(100_000_000), v)
                    .push(Avp::SequencingRequired(()), v);
            }
        }
        MessageType::Cdn => {
            m.push(result(3), v);
            if v3 {
                m.push(Avp::LocalSessionId(0x1111_2222), v)
                    .push(Avp::RemoteSessionId(0x3333_4444), v);
            } else {
                m.push(Avp::AssignedSessionId(0x4321), v);
            }
        }
        MessageType::Wen => {
            if v3 {
                m.push(Avp::LocalSessionId(0x1111_2222), v)
                    .push(Avp::RemoteSessionId(0x3333_4444), v);
            }
            m.push(Avp::CallErrors(Default::default()), v);
        }
        MessageType::Sli => {
            if v3 {
                m.push(Avp::LocalSessionId(0x1111_2222), v)
                    .push(Avp::RemoteSessionId(0x3333_4444), v)
                    .push(Avp::CircuitStatus(1), v);
            } else {
                m.push(Avp::Accm(Default::default()), v);
            }
        }
        MessageType::Csun => {
            // RFC 5515 §6.1: one update per session, in the tunnel version's form.
            m.push(
                Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, 0x4321, 20_000_000, 5_000_000)),
                v,
            )
            .push(
                Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, 0x1234, 1_000_000, 0)),
                v,
            );
        }
        MessageType::Csurq => {
            // RFC 5515 §4.2: the speeds are 0 in a request.
            m.push(
                Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(v, 0x4321, 0, 0)),
                v,
            );
        }
        MessageType::Scccn | MessageType::Hello | MessageType::Ack => {}
    }
    m
}

fn all_types(v: Version) -> impl Iterator<Item = MessageType> {
    MessageType::ALL
        .into_iter()
        .filter(move |t| v == Version::V3 || *t != MessageType::Ack)
}

/// Checks tshark's view of one control message against ours.
fn judge(packet: &tshark::Packet, ours: &Message, header: &ControlHeader, what: &str) {
    assert!(
        packet.is_clean(),
        "{what}: tshark flags it: malformed={} {:?}",
        packet.malformed,
        packet.expert
    );
    let l2tp: &L2tp = packet
        .first_l2tp()
        .unwrap_or_else(|| panic!("{what}: no L2TP layer"));
    assert_eq!(
        l2tp.version,
        Some(header.version.number()),
        "{what}: version"
    );
    assert_eq!(l2tp.control, Some(true), "{what}: T bit");
    assert_eq!(
        l2tp.message_type,
        Some(ours.message_type as u16),
        "{what}: message type"
    );
    assert_eq!(l2tp.tunnel_id, Some(header.tunnel_id), "{what}: tunnel id");
    if header.version == Version::V2 {
        assert_eq!(
            l2tp.session_id,
            Some(u32::from(header.session_id)),
            "{what}: session id"
        );
    }
    assert_eq!(
        (l2tp.ns, l2tp.nr),
        (Some(header.ns), Some(header.nr)),
        "{what}: Ns/Nr"
    );
    // tshark lists the Message Type AVP too.
    assert_eq!(l2tp.avps.len(), ours.avps.len() + 1, "{what}: AVP count");
    for (theirs, entry) in l2tp.avps[1..].iter().zip(&ours.avps) {
        let (vendor, attr) = entry.avp.id();
        let name = entry.avp.avp_type().map_or("raw", |t| t.name());
        assert_eq!(
            (theirs.vendor_id, theirs.attr_type),
            (vendor, attr),
            "{what}: {name}"
        );
        assert_eq!(
            (theirs.mandatory, theirs.hidden),
            (entry.mandatory, entry.hidden),
            "{what}: {name} M/H"
        );
        if entry.hidden {
            continue;
        }
        let mut value = Vec::new();
        entry.avp.encode_value(&mut value);
        assert_eq!(
            usize::from(theirs.length),
            value.len() + 6,
            "{what}: {name} length"
        );
        assert_eq!(
            theirs.value(),
            Some(&value[..]),
            "{what}: {name} value octets"
        );
        // tshark's own interpretation of typed values.
        let expect: Option<(&str, String)> = match &entry.avp {
            Avp::HostName(h) => Some((
                "l2tp.avp.host_name",
                String::from_utf8_lossy(h).into_owned(),
            )),
            Avp::VendorName(h) => Some((
                "l2tp.avp.vendor_name",
                String::from_utf8_lossy(h).into_owned(),
            )),
            Avp::AssignedTunnelId(id) => Some(("l2tp.avp.assigned_tunnel_id", id.to_string())),
            Avp::AssignedSessionId(id) => Some(("l2tp.avp.assigned_session_id", id.to_string())),
            Avp::ReceiveWindowSize(n) => Some(("l2tp.avp.receive_window_size", n.to_string())),
            Avp::CallSerialNumber(n) => Some(("l2tp.avp.call_serial_number", n.to_string())),
            Avp::AssignedConnectionId(id) => {
                Some(("l2tp.avp.assigned_control_conn_id", id.to_string()))
            }
            Avp::LocalSessionId(id) => Some(("l2tp.avp.local_session_id", id.to_string())),
            Avp::RemoteSessionId(id) => Some(("l2tp.avp.remote_session_id", id.to_string())),
            Avp::RouterId(id) => Some(("l2tp.avp.router_id", id.to_string())),
            Avp::CalledNumber(s) => Some((
                "l2tp.avp.called_number",
                String::from_utf8_lossy(s).into_owned(),
            )),
            Avp::CallingNumber(s) => Some((
                "l2tp.avp.calling_number",
                String::from_utf8_lossy(s).into_owned(),
            )),
            Avp::MinimumBps(n) => Some(("l2tp.avp.minimum_bps", n.to_string())),
            Avp::MaximumBps(n) => Some(("l2tp.avp.maximum_bps", n.to_string())),
            Avp::ProtocolVersion(p) => Some(("l2tp.avp.protocol_version", p.version.to_string())),
            _ => None,
        };
        if let Some((field, value)) = expect {
            assert_eq!(
                theirs.field(field),
                Some(value.as_str()),
                "{what}: {name} as tshark reads it ({field})"
            );
        }
    }
}

fn header(v: Version, t: MessageType, ns: u16) -> ControlHeader {
    let session_id = if t.is_session_message() { 0x4321 } else { 0 };
    let tunnel_id = if v == Version::V3 {
        0x0a0b_0c0d
    } else {
        0x1234
    };
    ControlHeader {
        version: v,
        tunnel_id,
        session_id,
        ns,
        nr: ns.wrapping_add(1),
    }
}

#[test]
fn every_message_kind_passes_tshark() {
    require_tshark();
    for v in [Version::V2, Version::V3] {
        let encaps: &[Encapsulation] = if v == Version::V3 {
            &[Encapsulation::Udp, Encapsulation::Ip]
        } else {
            &[Encapsulation::Udp]
        };
        for encap in encaps {
            let mut ours = Vec::new();
            let mut datagrams = Vec::new();
            for (ns, t) in all_types(v).enumerate() {
                let m = message(t, v);
                let h = header(v, t, ns as u16);
                let bytes = m
                    .encode(&h, *encap, None)
                    .unwrap_or_else(|e| panic!("{t}: {e}"));
                datagrams.push(Datagram::new(lac(), lns(), bytes));
                ours.push((m, h));
            }
            let pcap_encap = match encap {
                Encapsulation::Udp => Encap::Udp,
                Encapsulation::Ip => Encap::Ip(IPPROTO_L2TP),
            };
            let packets = tshark::decode_datagrams(pcap_encap, &datagrams, &[])
                .unwrap_or_else(|e| panic!("tshark: {e}"));
            assert_eq!(packets.len(), ours.len());
            for (packet, (m, h)) in packets.iter().zip(&ours) {
                judge(
                    packet,
                    m,
                    h,
                    &format!("v{} {encap:?} {}", v.number(), m.message_type),
                );
            }
        }
    }
}

#[test]
fn hidden_avps_pass_tshark() {
    require_tshark();
    let secret = Secret::new(SECRET);
    for v in [Version::V2, Version::V3] {
        let key = match v {
            Version::V2 => HidingKey::v2(&secret),
            Version::V3 => HidingKey::v3(&secret),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        let mut datagrams = Vec::new();
        let mut ours = Vec::new();
        for (ns, t) in [MessageType::Sccrq, MessageType::Icrq, MessageType::Iccn]
            .into_iter()
            .enumerate()
        {
            let mut m = message(t, v);
            m.avps
                .insert(0, AvpEntry::new(Avp::RandomVector((0u8..16).collect()), v));
            for (i, entry) in m.avps.iter_mut().enumerate().skip(1) {
                if !entry.avp.avp_type().is_some_and(|t| t.must_not_be_hidden()) && i % 2 == 1 {
                    entry.hidden = true;
                    entry.padding = vec![0x5a; i % 7];
                }
            }
            assert!(m.avps.iter().any(|e| e.hidden));
            let h = header(v, t, ns as u16);
            datagrams.push(Datagram::new(
                lac(),
                lns(),
                m.encode(&h, Encapsulation::Udp, Some(&key))
                    .unwrap_or_default(),
            ));
            ours.push((m, h));
        }
        let packets = tshark::decode_datagrams(Encap::Udp, &datagrams, &[])
            .unwrap_or_else(|e| panic!("tshark: {e}"));
        for (packet, (m, h)) in packets.iter().zip(&ours) {
            judge(
                packet,
                m,
                h,
                &format!("v{} hidden {}", v.number(), m.message_type),
            );
        }
    }
}

/// The L2TPv3 Message Digest we compute is the one tshark computes from the shared secret; a
/// corrupted digest is reported by tshark, which shows that tshark really checks it.
#[test]
fn message_digest_verified_by_tshark() {
    require_tshark();
    let key = DigestKey::derive(&Secret::new(SECRET));
    let secret_pref = format!(
        "l2tp.shared_secret:{}",
        std::str::from_utf8(SECRET).unwrap_or_default()
    );
    for ty in [DigestType::HmacMd5, DigestType::HmacSha1] {
        let v = Version::V3;
        let mut m = message(MessageType::Sccrq, v);
        let placeholder = Avp::MessageDigest(l2tp_proto::wire::avp::types::MessageDigest {
            digest_type: u8::from(ty),
            digest: vec![0; ty.digest_len()],
        });
        m.avps.insert(0, AvpEntry::new(placeholder, v));
        m.avps.insert(
            1,
            AvpEntry::new(Avp::ControlMessageAuthNonce((1u8..=16).collect()), v),
        );
        let h = header(v, MessageType::Sccrq, 0);
        let mut bytes = m.encode(&h, Encapsulation::Udp, None).unwrap_or_default();
        // The digest AVP follows the 8-octet Message Type AVP after the 12-octet header.
        let field = digest::field_range(12 + 8, ty);
        digest::sign(ty, &key, Nonces::Sccrq, &mut bytes, field.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut corrupted = bytes.clone();
        corrupted[field.start] ^= 1;
        let datagrams = [
            Datagram::new(lac(), lns(), bytes),
            Datagram::new(lac(), lns(), corrupted),
        ];
        let packets = tshark::decode_datagrams(Encap::Udp, &datagrams, &["-o", &secret_pref])
            .unwrap_or_else(|e| panic!("tshark: {e}"));
        assert!(
            packets[0].is_clean(),
            "{ty}: tshark rejects our digest: {:?}",
            packets[0].expert
        );
        assert!(
            !packets[1].expert.is_empty(),
            "{ty}: tshark did not notice a corrupted digest"
        );
    }
}

#[test]
fn data_headers_pass_tshark() {
    require_tshark();
    // L2TPv2 data with length, sequence and offset, carrying a PPP LCP frame.
    let v2 = V2DataHeader {
        with_length: true,
        tunnel_id: 7,
        session_id: 9,
        sequence: Some((1, 0)),
        offset: Some(2),
        priority: false,
    };
    let ppp = [0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04];
    let mut bytes = Vec::new();
    v2.emit(ppp.len(), &mut bytes);
    bytes.extend_from_slice(&ppp);
    let packets = tshark::decode_datagrams(Encap::Udp, &[Datagram::new(lac(), lns(), bytes)], &[])
        .unwrap_or_else(|e| panic!("tshark: {e}"));
    assert!(packets[0].is_clean(), "{:?}", packets[0]);
    let l2tp = packets[0].first_l2tp().unwrap_or_else(|| panic!("no l2tp"));
    assert_eq!(
        (l2tp.tunnel_id, l2tp.session_id, l2tp.control),
        (Some(7), Some(9), Some(false))
    );
    assert!(
        packets[0].protocols.contains("ppp"),
        "{}",
        packets[0].protocols
    );

    // L2TPv3 Ethernet over IP and UDP, 4-octet cookie, default sublayer with sequencing.
    let v3 = V3DataHeader {
        session_id: 0x1111_2222,
        cookie: Cookie::new(&[0xde, 0xad, 0xbe, 0xef]).unwrap_or_default(),
        sublayer: Some(DefaultSublayer {
            sequenced: true,
            sequence: 42,
        }),
    };
    let frame: Vec<u8> = [[0x02, 0, 0, 0, 0, 1], [0x02, 0, 0, 0, 0, 2]]
        .concat()
        .into_iter()
        .chain([0x08, 0x06])
        .chain([0u8; 28])
        .collect();
    let args = [
        "-o",
        "l2tp.cookie_size:4 Byte Cookie",
        "-o",
        "l2tp.l2_specific:Default L2-Specific",
        "-d",
        "l2tp.pw_type==0,eth",
    ];
    for (encap, pcap_encap) in [
        (Encapsulation::Ip, Encap::Ip(IPPROTO_L2TP)),
        (Encapsulation::Udp, Encap::Udp),
    ] {
        let mut bytes = Vec::new();
        v3.emit(encap, &mut bytes);
        bytes.extend_from_slice(&frame);
        let packets =
            tshark::decode_datagrams(pcap_encap, &[Datagram::new(lac(), lns(), bytes)], &args)
                .unwrap_or_else(|e| panic!("tshark: {e}"));
        assert!(packets[0].is_clean(), "{encap:?}: {:?}", packets[0]);
        let l2tp = packets[0].first_l2tp().unwrap_or_else(|| panic!("no l2tp"));
        assert_eq!(l2tp.session_id, Some(0x1111_2222), "{encap:?}");
        assert_eq!(
            l2tp.field("l2tp.cookie"),
            Some("de:ad:be:ef"),
            "{encap:?}: {:?}",
            l2tp.fields
        );
        assert!(
            packets[0].protocols.ends_with("l2tp:ethertype:arp"),
            "{encap:?}: {}",
            packets[0].protocols
        );
    }
}
