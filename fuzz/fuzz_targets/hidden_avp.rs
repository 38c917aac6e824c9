//! Unhiding arbitrary hidden values with v2 and v3 keys: the first two octets choose the
//! attribute type, the next the random vector length.
#![no_main]

use l2tp_proto::auth::Secret;
use l2tp_proto::wire::hidden::{HidingKey, unhide};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, rv_len, rest @ ..] = data else {
        return;
    };
    let attr_type = u16::from_be_bytes([*a, *b]);
    let split = usize::from(*rv_len).min(rest.len());
    let (rv, hidden) = rest.split_at(split);
    let secret = Secret::new(b"fuzz".to_vec());
    for key in [HidingKey::v2(&secret), HidingKey::v3(&secret)]
        .into_iter()
        .flatten()
    {
        let _ = unhide(attr_type, hidden, &key, rv);
    }
});
