//! A whole link fed hostile frames: the first octet picks its role (an authenticator with each
//! method, or a client), then frames follow as (length, octets) with a time step between them.
//! Authentication requests are answered from a local user; bit 0x04 has the authenticator
//! challenge again every 5 s once up (`chap.rechallenge`), bit 0x08 wait 2 s at most for a PAP
//! request (`pap.timeout`). With bit 0x40 of the first octet,
//! the link starts from a proxied LCP negotiation (RFC 2661 §4.4.5) instead: two (length,
//! octets) option lists, ours then the peer's, and with bit 0x80 a proxied CHAP-MD5 answer
//! (identifier, then 16 octets of challenge and 16 of response); a refused proxy opens it as
//! usual. Nothing may panic, and the link's events must stay well formed.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ppp_proto::{
    AuthMethod, ChapTiming, Credentials, DeterministicRng, Event, Instant, Ipv4Config, Ipv6Config,
    Link, LinkConfig, PapTiming, Password, PeerCredentials, ProxiedAuth, ProxiedLcp,
};

/// The next (length, octets) chunk of `rest`.
fn chunk<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let Some((&len, tail)) = rest.split_first() else {
        return &[];
    };
    let (c, next) = tail.split_at(usize::from(len).min(tail.len()));
    *rest = next;
    c
}

fn config(role: u8) -> LinkConfig {
    let mut c = LinkConfig {
        ipv4: Some(Ipv4Config {
            request_dns: role & 0x10 != 0,
            ..Ipv4Config::default()
        }),
        ipv6: (role & 0x20 != 0).then(Ipv6Config::default),
        echo_interval: Some(Duration::from_secs(5)),
        chap: ChapTiming {
            rechallenge: (role & 0x04 != 0).then(|| Duration::from_secs(5)),
            ..ChapTiming::default()
        },
        pap: PapTiming {
            timeout: (role & 0x08 != 0).then(|| Duration::from_secs(2)),
            ..PapTiming::default()
        },
        ..LinkConfig::default()
    };
    match role & 3 {
        0 => c.authenticate_peer = vec![AuthMethod::MsChapV2],
        1 => c.authenticate_peer = vec![AuthMethod::ChapMd5, AuthMethod::Pap],
        2 => {
            c.credentials = Some(Credentials {
                user: b"alice".to_vec(),
                password: Password::from("alice-secret"),
            })
        }
        _ => {}
    }
    c
}

fuzz_target!(|data: &[u8]| {
    let Some((&role, mut rest)) = data.split_first() else {
        return;
    };
    let mut rng = DeterministicRng::new(u64::from(role));
    let mut link = Link::new(Arc::new(config(role)), &mut rng);
    let mut now = Instant::from_secs(1);
    if role & 0x40 == 0 {
        link.open(now);
    } else {
        let (local, peer) = (chunk(&mut rest), chunk(&mut rest));
        let auth = (role & 0x80 != 0).then(|| {
            let a = chunk(&mut rest);
            let mut v = [0u8; 33];
            v[..a.len().min(33)].copy_from_slice(&a[..a.len().min(33)]);
            ProxiedAuth::Peer {
                identifier: v[0],
                user: b"alice".to_vec(),
                credentials: PeerCredentials::ChapMd5 {
                    identifier: v[0],
                    challenge: v[1..17].try_into().unwrap_or_default(),
                    response: v[17..33].try_into().unwrap_or_default(),
                },
            }
        });
        if link
            .open_proxied(now, ProxiedLcp { local, peer }, auth, &mut rng)
            .is_err()
        {
            link.open(now);
        }
    }
    let mut downs = 0;
    let mut after_down = false;
    let password = Password::from("alice-secret");
    while let Some((&len, tail)) = rest.split_first() {
        let (frame, next) = tail.split_at(usize::from(len).min(tail.len()));
        rest = next;
        link.handle_frame(now, frame, &mut rng);
        let step = frame.first().copied().unwrap_or(0);
        now += Duration::from_millis(u64::from(step) * 40);
        link.handle_timeout(now);
        while link.poll_transmit().is_some() {}
        while let Some(e) = link.poll_event() {
            assert!(!after_down, "an event after Down: {e:?}");
            match e {
                Event::Authenticate(req) => {
                    let _ = link.auth_verdict(now, req.id, req.verify(&password));
                }
                Event::Down(_) => {
                    downs += 1;
                    after_down = true;
                }
                _ => {}
            }
        }
    }
    assert!(downs <= 1);
    if link.is_finished() {
        assert_eq!(link.poll_timeout(), None);
    }
});
