//! A PPP frame as L2TP carries it: the header classifier, the header writer agreeing with it,
//! the control packet and its Configuration Options.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppp_proto::wire::{ControlPacket, FrameKind, Framing, OptionIter, classify, split_protocol};

fuzz_target!(|data: &[u8]| {
    let kind = classify(data);
    match (kind, split_protocol(data)) {
        (FrameKind::Invalid, None) => {}
        (FrameKind::Ipv4 { offset } | FrameKind::Ipv6 { offset }, Some((_, info))) => {
            assert_eq!(offset + info.len(), data.len());
        }
        (FrameKind::Link { protocol }, Some((p, info))) => {
            assert_eq!(protocol, p);
            if let Ok(packet) = ControlPacket::parse(info) {
                assert!(packet.bytes.len() <= info.len());
                assert_eq!(packet.data.len() + 4, packet.bytes.len());
                let mut total = 0;
                for o in packet.options() {
                    match o {
                        Ok(o) => total += o.encoded_len(),
                        Err(_) => break,
                    }
                }
                assert!(total <= packet.data.len());
                let _ = OptionIter::validate(packet.data);
            }
            // The header we would write for this protocol reads back the same.
            for acfc in [false, true] {
                for pfc in [false, true] {
                    let mut buf = [0u8; 5];
                    let framing = Framing { acfc, pfc };
                    if let Some(n) = framing.write_header(p, &mut buf) {
                        buf[n] = 0x45;
                        assert_eq!(split_protocol(&buf[..=n]).map(|(q, _)| q), Some(p));
                    }
                }
            }
        }
        (k, s) => panic!("classify and split_protocol disagree: {k:?} {s:?}"),
    }
});
