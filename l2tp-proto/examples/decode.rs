//! Decodes the L2TP control messages of a pcap file and prints them, one message a line with
//! its AVPs. Usage: `decode FILE.pcap [SECRET]` (the secret unhides hidden AVPs).

use std::process::ExitCode;

use l2tp_proto::auth::Secret;
use l2tp_proto::wire::hidden::HidingKey;
use l2tp_proto::wire::{Avp, DecodeContext, Encapsulation, Message, Packet, Version};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: decode FILE.pcap [SECRET]");
        return ExitCode::FAILURE;
    };
    let secret = args.next().map(Secret::new);
    let datagrams = match l2tp_testkit::pcap::read_udp(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (n, d) in datagrams.iter().enumerate() {
        print!("{:>3} {} -> {} ", n + 1, d.src, d.dst);
        match Packet::parse(&d.payload, Encapsulation::Udp) {
            Err(e) => println!("malformed header: {e}"),
            Ok(Packet::V2Data { header, payload }) => {
                println!(
                    "v2 data tid={} sid={} {} octets",
                    header.tunnel_id,
                    header.session_id,
                    payload.len()
                )
            }
            Ok(Packet::V3Data { session_id, rest }) => {
                println!("v3 data sid={session_id} {} octets", rest.len())
            }
            Ok(Packet::Control { header, body, .. }) => {
                let v = header.version.number();
                let ids = format!(
                    "v{v} tid={} sid={} ns={} nr={}",
                    header.tunnel_id, header.session_id, header.ns, header.nr
                );
                if body.is_empty() {
                    println!("{ids} ZLB");
                    continue;
                }
                let key = secret.as_ref().and_then(|s| match header.version {
                    Version::V2 => HidingKey::v2(s).ok(),
                    Version::V3 => HidingKey::v3(s).ok(),
                });
                let ctx = DecodeContext {
                    version: Some(header.version),
                    hiding_key: key.as_ref(),
                };
                match Message::decode(body, ctx) {
                    Err(e) => println!("{ids} rejected: {e} -> {:?}", e.reaction()),
                    Ok(message) => {
                        println!("{ids} {}", message.message_type);
                        for entry in &message.avps {
                            let flags = format!(
                                "{}{}",
                                if entry.mandatory { "M" } else { "-" },
                                if entry.hidden { "H" } else { "-" }
                            );
                            let name = match entry.avp.avp_type() {
                                Some(t) => t.name().to_string(),
                                None => {
                                    format!("vendor {} type {}", entry.avp.id().0, entry.avp.id().1)
                                }
                            };
                            let value = match &entry.avp {
                                Avp::HostName(v) | Avp::VendorName(v) => {
                                    format!("{:?}", String::from_utf8_lossy(v))
                                }
                                other => format!("{other:?}"),
                            };
                            println!("      [{flags}] {name}: {value}");
                        }
                    }
                }
            }
        }
    }
    ExitCode::SUCCESS
}
