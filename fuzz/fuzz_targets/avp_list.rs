//! The AVP iterator and the typed decoding of each AVP it yields.
#![no_main]

use l2tp_proto::wire::avp::AvpIter;
use l2tp_proto::wire::{Avp, AvpType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for avp in AvpIter::new(data).flatten() {
        if let Some(t) = AvpType::from_u16(avp.attr_type) {
            let _ = Avp::decode(t, avp.value);
        }
    }
});
