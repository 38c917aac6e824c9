//! The SCCRQ and ICRQ measured by the codec benchmarks (`benches/codec.rs`) and counted by
//! `examples/codec_ops.rs`: the messages on the set-up path, with the usual optional AVPs.

use l2tp_proto::wire::avp::types::{ProtocolVersion, pw_type};
use l2tp_proto::wire::{Avp, Message, MessageType, Version};

/// An SCCRQ; in v3 it also carries the L2TPv2 AVPs, as a falling-back LCCE sends it.
pub(crate) fn sccrq(version: Version) -> Message {
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

/// An ICRQ: a PPP call in v2, an Ethernet pseudowire in v3.
pub(crate) fn icrq(version: Version) -> Message {
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
