//! Decodes the PPP frames carried in the L2TPv2 data messages of a pcap file and prints them,
//! one frame a line: protocol, code, identifier and the options or values. Usage:
//! `decode FILE.pcap` (e.g. `testdata/pppd/mschapv2.pcap`). Passwords in PAP requests are not
//! printed.

use std::fmt::Write as _;
use std::process::ExitCode;

use l2tp_proto::wire::{Encapsulation, Packet};
use ppp_proto::auth::wire::{ChapPacket, PapPacket};
use ppp_proto::wire::{ControlPacket, FrameKind, classify, code, protocol, split_protocol};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: decode FILE.pcap");
        return ExitCode::FAILURE;
    };
    let datagrams = match l2tp_testkit::pcap::read_udp(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (n, d) in datagrams.iter().enumerate() {
        let Ok(Packet::V2Data { payload, .. }) = Packet::parse(&d.payload, Encapsulation::Udp)
        else {
            continue;
        };
        println!(
            "{:>3} {} -> {} {}",
            n + 1,
            d.src.ip(),
            d.dst.ip(),
            describe(payload)
        );
    }
    ExitCode::SUCCESS
}

fn describe(frame: &[u8]) -> String {
    match classify(frame) {
        FrameKind::Ipv4 { offset } => return format!("ipv4 datagram at {offset}"),
        FrameKind::Ipv6 { offset } => return format!("ipv6 datagram at {offset}"),
        FrameKind::Invalid => return format!("invalid frame {frame:02x?}"),
        FrameKind::Link { .. } => {}
    }
    let Some((proto, info)) = split_protocol(frame) else {
        return "invalid".into();
    };
    let p = match ControlPacket::parse(info) {
        Ok(p) => p,
        Err(e) => return format!("{} malformed: {e}", protocol::name(proto)),
    };
    let mut s = format!(
        "{} code {} id {}",
        protocol::name(proto),
        p.code,
        p.identifier
    );
    match proto {
        protocol::PAP => match PapPacket::parse(&p) {
            Ok(Some(PapPacket::Request { peer_id, .. })) => {
                let _ = write!(s, " request peer-id {:?}", String::from_utf8_lossy(peer_id));
            }
            Ok(Some(PapPacket::Ack(m) | PapPacket::Nak(m))) => {
                let _ = write!(s, " {:?}", String::from_utf8_lossy(m));
            }
            Ok(None) => s.push_str(" (unknown code)"),
            Err(e) => {
                let _ = write!(s, " malformed: {e}");
            }
        },
        protocol::CHAP => match ChapPacket::parse(&p) {
            Ok(Some(
                ChapPacket::Challenge { value, name } | ChapPacket::Response { value, name },
            )) => {
                let _ = write!(
                    s,
                    " value {} name {:?}",
                    hex(value),
                    String::from_utf8_lossy(name)
                );
            }
            Ok(Some(ChapPacket::Success(m) | ChapPacket::Failure(m))) => {
                let _ = write!(s, " {:?}", String::from_utf8_lossy(m));
            }
            Ok(None) => s.push_str(" (unknown code)"),
            Err(e) => {
                let _ = write!(s, " malformed: {e}");
            }
        },
        _ if p.code <= code::CONFIGURE_REJECT => {
            for o in p.options() {
                match o {
                    Ok(o) => {
                        let _ = write!(s, " [{} {}]", o.kind, hex(o.value));
                    }
                    Err(e) => {
                        let _ = write!(s, " malformed: {e}");
                    }
                }
            }
        }
        _ => {
            if !p.data.is_empty() {
                let _ = write!(s, " {}", hex(p.data));
            }
        }
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
