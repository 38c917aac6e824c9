//! Runs one codec operation N times, for instruction counting under callgrind
//! (bench/codec-callgrind.sh). Usage: `codec_ops OP N` with OP one of
//! `encode-sccrq-v2`, `decode-sccrq-v2`, `encode-icrq-v2`, `decode-icrq-v2` and the `-v3` forms.

use std::hint::black_box;
use std::process::ExitCode;

use l2tp_proto::wire::{ControlHeader, DecodeContext, Encapsulation, Message, Packet, Version};

#[path = "../benches/support/messages.rs"]
mod messages;

fn message(kind: &str, v: Version) -> Message {
    if kind == "sccrq" {
        messages::sccrq(v)
    } else {
        messages::icrq(v)
    }
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
