//! Encode and decode of SCCRQ and ICRQ, L2TPv2 and L2TPv3: the messages on the set-up path.
//! Run with `cargo bench -p l2tp-proto --bench codec`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use l2tp_proto::wire::avp::types::{ProtocolVersion, pw_type};
use l2tp_proto::wire::{
    Avp, ControlHeader, DecodeContext, Encapsulation, Message, MessageType, Packet, Version,
};

fn sccrq(version: Version) -> Message {
    let mut m = Message::new(MessageType::Sccrq);
    m.push(
        Avp::ProtocolVersion(ProtocolVersion {
            version: 1,
            revision: 0,
        }),
        version,
    )
    .push(Avp::HostName(b"lac.example.net".to_vec()), version)
    .push(Avp::FramingCapabilities(3), version)
    .push(Avp::BearerCapabilities(3), version)
    .push(Avp::ReceiveWindowSize(10), version)
    .push(Avp::TieBreaker(0x0102_0304_0506_0708), version)
    .push(Avp::VendorName(b"l2tp".to_vec()), version)
    .push(Avp::AssignedTunnelId(0x1234), version);
    if version == Version::V3 {
        m.push(Avp::RouterId(0xc000_0201), version)
            .push(Avp::AssignedConnectionId(0x1234_5678), version)
            .push(
                Avp::PseudowireCapabilities(vec![pw_type::PPP, pw_type::ETH, pw_type::ETH_VLAN]),
                version,
            );
    }
    m
}

fn icrq(version: Version) -> Message {
    let mut m = Message::new(MessageType::Icrq);
    match version {
        Version::V2 => {
            m.push(Avp::AssignedSessionId(0x4321), version)
                .push(Avp::CallSerialNumber(1), version)
                .push(Avp::BearerType(2), version);
        }
        Version::V3 => {
            m.push(Avp::LocalSessionId(0x8765_4321), version)
                .push(Avp::RemoteSessionId(0), version)
                .push(Avp::CallSerialNumber(1), version)
                .push(Avp::PseudowireType(pw_type::ETH), version)
                .push(Avp::RemoteEndId(b"circuit-1".to_vec()), version)
                .push(Avp::CircuitStatus(3), version)
                .push(Avp::L2SpecificSublayer(1), version)
                .push(Avp::DataSequencing(0), version);
        }
    }
    m
}

fn bench(c: &mut Criterion) {
    for version in [Version::V2, Version::V3] {
        let header = ControlHeader {
            version,
            tunnel_id: 0x1234,
            session_id: 0,
            ns: 0,
            nr: 0,
        };
        for (name, message) in [("sccrq", sccrq(version)), ("icrq", icrq(version))] {
            let v = version.number();
            c.bench_function(&format!("encode {name} v{v}"), |b| {
                b.iter(|| black_box(&message).encode(&header, Encapsulation::Udp, None))
            });
            let bytes = message
                .encode(&header, Encapsulation::Udp, None)
                .unwrap_or_default();
            c.bench_function(&format!("decode {name} v{v}"), |b| {
                b.iter(|| {
                    let Ok(Packet::Control { body, .. }) =
                        Packet::parse(black_box(&bytes), Encapsulation::Udp)
                    else {
                        return None;
                    };
                    Message::decode(
                        body,
                        DecodeContext {
                            version: Some(version),
                            hiding_key: None,
                        },
                    )
                    .ok()
                })
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
