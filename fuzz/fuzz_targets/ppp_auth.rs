//! The authentication packets: PAP and CHAP, the MS-CHAPv2 Response value and Failure message,
//! the authenticator response of a Success message or a RADIUS MS-CHAP2-Success.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ppp_proto::auth::AuthenticatorResponse;
use ppp_proto::auth::wire::{ChapPacket, MsChapV2Failure, MsChapV2Response, PapPacket};
use ppp_proto::wire::ControlPacket;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = ControlPacket::parse(data) {
        if let Ok(Some(PapPacket::Request { peer_id, password })) = PapPacket::parse(&p) {
            assert!(peer_id.len() + password.len() + 2 <= p.data.len());
        }
        if let Ok(Some(ChapPacket::Challenge { value, .. } | ChapPacket::Response { value, .. })) =
            ChapPacket::parse(&p)
        {
            assert!(!value.is_empty());
            if let Some(r) = MsChapV2Response::parse(value) {
                assert_eq!(
                    MsChapV2Response::parse(&r.to_bytes()).map(|x| x.nt_response),
                    Some(r.nt_response)
                );
            }
        }
    }
    let _ = MsChapV2Failure::parse(data);
    if let Some(r) = AuthenticatorResponse::parse(data) {
        assert_eq!(
            AuthenticatorResponse::parse(r.to_string().as_bytes()),
            Some(r)
        );
    }
    let _ = AuthenticatorResponse::from_ms_chap2_success(data);
});
