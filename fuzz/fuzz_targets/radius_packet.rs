//! RADIUS packets as the client receives them: decoding, the authenticator checks, the typed
//! accessors, the revealing of hidden values and the redacting `Display`; anything that
//! decodes must re-encode to the same octets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use radius_proto::packet::{self, Packet};
use radius_proto::{AttrType, Secret};

fuzz_target!(|data: &[u8]| {
    let secret = Secret::from("fuzz");
    let ra = [0x5a; 16];
    let _ = packet::verify_response(data, &ra, &secret, true);
    let _ = packet::verify_request(data, &secret, false);
    let _ = packet::verify_access_request(data, &secret, false);
    let Ok(p) = Packet::decode(data) else { return };
    let a = &p.attributes;
    let _ = format!("{a:?}");
    let _ = (
        a.framed_ip_address(),
        a.framed_ipv6_prefix(),
        a.delegated_ipv6_prefix(),
    );
    let _ = (
        a.session_timeout(),
        a.framed_pool(),
        a.ms_chap2_success(),
        a.ms_primary_dns_server(),
    );
    let _ = a.tagged_u32(AttrType::TUNNEL_TYPE).count();
    let _ = a.tagged_text(AttrType::TUNNEL_SERVER_ENDPOINT).count();
    let _ = a.tunnel_password(&secret, &ra);
    let _ = a.ms_mppe_send_key(&secret, &ra);
    let _ = p.user_password(&secret);
    let mut out = Vec::new();
    p.encode_raw(&mut out).expect("a decoded packet fits");
    assert_eq!(out[..], data[..out.len()]);
});
