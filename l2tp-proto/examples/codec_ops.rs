//! Runs one codec operation N times, for instruction counting under callgrind
//! (bench/codec-callgrind.sh). Usage: `codec_ops OP N` with OP one of
//! `encode-sccrq-v2`, `decode-sccrq-v2`, `encode-icrq-v2`, `decode-icrq-v2` and the `-v3` forms.

use std::hint::black_box;
use std::process::ExitCode;

use l2tp_proto::wire::avp::types::{ProtocolVersion, pw_type};
use l2tp_proto::wire::{
    Avp, ControlHeader, DecodeContext, Encapsulation, Message, MessageType, Packet, Version,
};

fn message(kind: &str, v: Version) -> Message {
    let mut m;
    if kind == "sccrq" {
        m = Message::new(MessageType::Sccrq);
        m.push(
            Avp::ProtocolVersion(ProtocolVersion {
                version: 1,
                revision: 0,
            }),
            v,
        )
        .push(Avp::HostName(b"lac.example.net".to_vec()), v)
        .push(Avp::FramingCapabilities(3), v)
        .push(Avp::BearerCapabilities(3), v)
        .push(Avp::ReceiveWindowSize(10), v)
        .push(Avp::TieBreaker(0x0102_0304_0506_0708), v)
        .push(Avp::VendorName(b"l2tp".to_vec()), v)
        .push(Avp::AssignedTunnelId(0x1234), v);
        if v == Version::V3 {
            m.push(Avp::RouterId(0xc000_0201), v)
                .push(Avp::AssignedConnectionId(0x1234_5678), v)
                .push(
                    Avp::PseudowireCapabilities(vec![
                        pw_type::PPP,
                        pw_type::ETH,
                        pw_type::ETH_VLAN,
                    ]),
                    v,
                );
        }
    } else {
        m = Message::new(MessageType::Icrq);
        if v == Version::V2 {
            m.push(Avp::AssignedSessionId(0x4321), v)
                .push(Avp::CallSerialNumber(1), v)
                .push(Avp::BearerType(2), v);
        } else {
            m.push(Avp::LocalSessionId(0x8765_4321), v)
                .push(Avp::RemoteSessionId(0), v)
                .push(Avp::CallSerialNumber(1), v)
                .push(Avp::PseudowireType(pw_type::ETH), v)
                .push(Avp::RemoteEndId(b"circuit-1".to_vec()), v)
                .push(Avp::CircuitStatus(3), v)
                .push(Avp::L2SpecificSublayer(1), v)
                .push(Avp::DataSequencing(0), v);
        }
    }
    m
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(op), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok())) else {
        eprintln!("usage: codec_ops OP N");
        return ExitCode::FAILURE;
    };
    let parts: Vec<&str> = op.split('-').collect();
    let [action, kind, version] = parts[..] else {
        eprintln!("bad op {op}");
        return ExitCode::FAILURE;
    };
    let v = if version == "v3" {
        Version::V3
    } else {
        Version::V2
    };
    let m = message(kind, v);
    let header = ControlHeader {
        version: v,
        tunnel_id: 0x1234,
        session_id: 0,
        ns: 0,
        nr: 0,
    };
    let bytes = m
        .encode(&header, Encapsulation::Udp, None)
        .unwrap_or_default();
    let mut sink = 0usize;
    for _ in 0..n {
        if action == "encode" {
            sink += black_box(&m)
                .encode(&header, Encapsulation::Udp, None)
                .map_or(0, |b| b.len());
        } else if let Ok(Packet::Control { body, .. }) =
            Packet::parse(black_box(&bytes), Encapsulation::Udp)
        {
            let ctx = DecodeContext {
                version: Some(v),
                hiding_key: None,
            };
            sink += Message::decode(body, ctx).map_or(0, |m| m.avps.len());
        }
    }
    black_box(sink);
    ExitCode::SUCCESS
}
