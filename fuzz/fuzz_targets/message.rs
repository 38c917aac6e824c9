//! Whole control messages: header, AVPs (hidden ones included) and the required-AVP checks of
//! both versions; anything that decodes must re-encode, and its Access Line AVPs (RFC 5515)
//! must read and write back to the same facts.
#![no_main]

use l2tp_proto::auth::Secret;
use l2tp_proto::wire::access_line::AccessLine;
use l2tp_proto::wire::hidden::HidingKey;
use l2tp_proto::wire::{DecodeContext, Encapsulation, Message, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let secret = Secret::new(b"fuzz".to_vec());
    let Ok(key) = HidingKey::v2(&secret) else {
        return;
    };
    for encap in [Encapsulation::Udp, Encapsulation::Ip] {
        if let Ok(Packet::Control { header, body, .. }) = Packet::parse(data, encap) {
            if body.is_empty() {
                continue;
            }
            let ctx = DecodeContext {
                version: Some(header.version),
                hiding_key: Some(&key),
            };
            if let Ok(message) = Message::decode(body, ctx) {
                let _ = message.encode(&header, encap, Some(&key));
                if let Some(line) = AccessLine::of_message(&message) {
                    let _ = line.to_string();
                    let mut again = Message::new(message.message_type);
                    line.push_to(&mut again);
                    assert_eq!(AccessLine::of_message(&again).as_deref(), Some(&*line));
                }
            }
        }
    }
});
