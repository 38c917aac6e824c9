//! Header classification over UDP and IP, then the L2TPv3 data header with every cookie and
//! sublayer combination.
#![no_main]

use l2tp_proto::wire::header::{Cookie, L2SpecificSublayer, V3DataHeader};
use l2tp_proto::wire::{Encapsulation, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for encap in [Encapsulation::Udp, Encapsulation::Ip] {
        if let Ok(Packet::V3Data { session_id, rest }) = Packet::parse(data, encap) {
            for cookie in [&[][..], &[1, 2, 3, 4], &[1, 2, 3, 4, 5, 6, 7, 8]] {
                let cookie = Cookie::new(cookie).unwrap_or_default();
                for sublayer in [L2SpecificSublayer::None, L2SpecificSublayer::Default] {
                    let _ = V3DataHeader::parse(session_id, rest, cookie, sublayer);
                }
            }
        }
    }
});
