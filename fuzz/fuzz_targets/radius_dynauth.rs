//! Disconnect- and CoA-Requests as a listed client sends them: the input is signed with the
//! client's secret first (so that the fuzzer gets past the Request Authenticator), then
//! authenticated, parsed and answered.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};

use l2tp_proto::time::Instant;
use libfuzzer_sys::fuzz_target;
use radius_proto::crypt::md5_authenticator;
use radius_proto::dynauth::{Answer, DynAuthClient, DynAuthServer, Incoming};
use radius_proto::{Attributes, Secret};

fuzz_target!(|data: &[u8]| {
    let secret = Secret::from("fuzz");
    let from = SocketAddr::from((Ipv4Addr::new(192, 0, 2, 9), 3799));
    let mut das = DynAuthServer::new([DynAuthClient {
        address: from.ip(),
        secret: secret.clone(),
        require_message_authenticator: false,
    }]);
    let _ = das.handle_request(Instant::ZERO, from, data);
    // The same octets with a correct Request Authenticator over the Length field's extent.
    let mut signed = data.to_vec();
    if signed.len() < 20 {
        return;
    }
    let len = usize::from(u16::from_be_bytes([signed[2], signed[3]])).min(signed.len());
    if len < 20 {
        return;
    }
    signed[4..20].fill(0);
    let auth = md5_authenticator(&signed[..len], &secret);
    signed[4..20].copy_from_slice(&auth);
    for now in [Instant::ZERO, Instant::from_secs(1)] {
        if let Ok(Incoming::Request(r)) = das.handle_request(now, from, &signed) {
            let _ = format!("{:?}", r.packet.attributes);
            let mut out = Vec::new();
            let _ = das.respond(&r, Answer::Nak(Some(503)), &Attributes::new(), &mut out);
        }
    }
});
