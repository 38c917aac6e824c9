//! Control-socket request lines as a client may send them: decoded or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = l2tp_ctl::decode_request(line);
        let _ = l2tp_ctl::decode_reply(line);
    }
});
