//! The offload path's work per super-frame: a 64 KiB TCP/IPv4 super-frame from a TAP cut into
//! segments of 1 394 octets, each with its headers written and its TCP checksum computed over
//! its payload (most of the cost: one pass over every octet). Run with
//! `cargo bench -p l2tp-dataplane --bench offload`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use l2tp_dataplane::offload::{GsoType, Segmenter, VnetHdr};

/// Ethernet, IPv4 and TCP headers (no options) before `payload` octets.
fn super_frame(payload: usize) -> (Vec<u8>, VnetHdr) {
    let mut p = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00];
    let total = (20 + 20 + payload) as u16;
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[
        0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2,
    ]);
    // Ports, sequence and acknowledgement numbers, data offset 5, ACK, window, checksum.
    p.extend_from_slice(&[
        0x9c, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff,
    ]);
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend((0..payload).map(|i| (i * 131 + 7) as u8));
    let hdr = VnetHdr {
        gso_type: GsoType::TcpV4,
        ecn: false,
        needs_csum: true,
        hdr_len: 54,
        gso_size: 1394,
        csum_start: 34,
        csum_offset: 16,
    };
    (p, hdr)
}

fn bench(c: &mut Criterion) {
    let payload = 65_536 - 54;
    let (frame, hdr) = super_frame(payload);
    let mut g = c.benchmark_group("offload");
    g.throughput(Throughput::Bytes(payload as u64));
    g.bench_function("segment a 64 KiB TCP/IPv4 super-frame", |b| {
        let mut headers = [0u8; 128];
        b.iter(|| {
            let mut s = Segmenter::new(black_box(&frame), 14, &hdr).unwrap_or_else(|e| {
                panic!("{e:?}");
            });
            let mut n = 0;
            while let Some((len, range)) = s.next_headers(&mut headers) {
                n += len + range.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
