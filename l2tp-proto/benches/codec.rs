//! Encode and decode of SCCRQ and ICRQ, L2TPv2 and L2TPv3: the messages on the set-up path.
//! Run with `cargo bench -p l2tp-proto --bench codec`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use l2tp_proto::wire::{ControlHeader, DecodeContext, Encapsulation, Message, Packet, Version};

#[path = "support/messages.rs"]
mod messages;

use messages::{icrq, sccrq};

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
