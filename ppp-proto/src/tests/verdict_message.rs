//! The host's message in an acceptance (a RADIUS Reply-Message) reaches the peer: the PAP
//! Authenticate-Ack's Message (RFC 1334 §2.2.2), the CHAP-MD5 Success's Message (RFC 1994
//! §4.2), the `M=` part of MS-CHAPv2's Success (RFC 2759 §5); a repeated one carries it too.
//! And the other way: the message of a peer that refuses our credentials reaches our host.

use std::time::Duration;

use super::util::*;
use crate::auth::{AuthMethod, Password};
use crate::event::Event;
use crate::link::Phase;
use crate::wire::protocol;

const MESSAGE: &str = "Welcome, alice: 3 days of credit left";

/// Node 0's host accepts with `message`; returns what its Ack or Success carried.
fn accepted_with(method: AuthMethod, message: Option<&str>) -> Vec<u8> {
    let mut p = Pair::lns_and_client(51, &[method], PASSWORD);
    p.hosts[0] = Host::Silent;
    p.open();
    p.run_while(Duration::from_secs(10), |p| {
        !p.events[0]
            .iter()
            .any(|e| matches!(e, Event::Authenticate(_)))
    });
    let Some(Event::Authenticate(req)) = p.events[0]
        .iter()
        .find(|e| matches!(e, Event::Authenticate(_)))
        .cloned()
    else {
        panic!("{method}: no request for the host");
    };
    let verdict = req
        .verify(&Password::from(PASSWORD))
        .with_message(message.map(str::to_owned));
    assert!(verdict.is_accept(), "{method}");
    let now = p.now;
    p.links[0].set_network(lns_network());
    p.links[0]
        .auth_verdict(now, req.id, verdict)
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    p.run_for(Duration::from_secs(1));
    assert_eq!(p.links[1].phase(), Phase::Network, "{method}");
    let (proto, code) = if method == AuthMethod::Pap {
        (protocol::PAP, 2)
    } else {
        (protocol::CHAP, 3)
    };
    let frames = p.frames_of(0, proto);
    let Some(f) = frames.iter().find(|s| s.bytes[4] == code) else {
        panic!("{method}: no acceptance sent");
    };
    let data = &f.bytes[8..];
    if method == AuthMethod::Pap {
        // Msg-Length, then the Message.
        assert_eq!(usize::from(data[0]), data.len() - 1, "{method}");
        data[1..].to_vec()
    } else {
        data.to_vec()
    }
}

#[test]
fn the_hosts_message_goes_to_the_peer_in_the_acceptance() {
    assert_eq!(
        accepted_with(AuthMethod::Pap, Some(MESSAGE)),
        MESSAGE.as_bytes()
    );
    assert_eq!(accepted_with(AuthMethod::Pap, None), b"Login ok");
    assert_eq!(
        accepted_with(AuthMethod::ChapMd5, Some(MESSAGE)),
        MESSAGE.as_bytes()
    );
    assert_eq!(accepted_with(AuthMethod::ChapMd5, None), b"Access granted");
    let ms = String::from_utf8(accepted_with(AuthMethod::MsChapV2, Some(MESSAGE)))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ms.starts_with("S="), "{ms}");
    assert_eq!(&ms[42..], format!(" M={MESSAGE}"), "{ms}");
    let ms = String::from_utf8(accepted_with(AuthMethod::MsChapV2, None))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&ms[42..], " M=Access granted", "{ms}");
}

/// A client with a wrong password hears the authenticator's PAP Authenticate-Nak or CHAP
/// Failure, and its host gets that packet's message (MS-CHAPv2's `E=691 ...`) for its log.
#[test]
fn the_peers_message_of_a_refusal_reaches_our_host() {
    for method in [AuthMethod::Pap, AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        let mut p = Pair::lns_and_client(52, &[method], "not-the-password");
        p.open();
        p.run_for(Duration::from_secs(10));
        let (proto, code) = if method == AuthMethod::Pap {
            (protocol::PAP, 3)
        } else {
            (protocol::CHAP, 4)
        };
        let frames = p.frames_of(0, proto);
        let Some(f) = frames.iter().find(|s| s.bytes[4] == code) else {
            panic!("{method}: no refusal sent");
        };
        let skip = if method == AuthMethod::Pap { 9 } else { 8 };
        let sent = &f.bytes[skip..];
        assert!(!sent.is_empty(), "{method}");
        let heard: Vec<&[u8]> = p.events[1]
            .iter()
            .filter_map(|e| match e {
                Event::AuthRefused(m) => Some(&m[..]),
                _ => None,
            })
            .collect();
        assert_eq!(heard, [sent], "{method}");
        let last = p.events[1].last();
        assert_eq!(
            last,
            Some(&Event::Down(crate::event::DownReason::AuthRejectedByPeer)),
            "{method}"
        );
    }
}
