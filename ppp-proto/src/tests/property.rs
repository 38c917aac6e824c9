//! Property tests: two links with arbitrary option sets over a lossy wire either converge or
//! fail cleanly, within the bounds of their counters and timeouts, and then fall silent; any
//! sequence of arbitrary frames in any phase leaves a link consistent.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::frames::One;
use super::util::{PASSWORD, Pair, client_config, lns_config};
use crate::auth::AuthMethod;
use crate::config::{Ipv4Config, Ipv6Config, LinkConfig};
use crate::event::Event;
use crate::link::{Link, Phase};
use crate::wire::protocol;

#[derive(Clone, Debug)]
struct Side {
    methods: Vec<AuthMethod>,
    credentials: bool,
    accept: Vec<AuthMethod>,
    mru: u16,
    accm: Option<u32>,
    magic: bool,
    compression: bool,
    ipv4: bool,
    ipv6: bool,
}

fn methods() -> impl Strategy<Value = Vec<AuthMethod>> {
    proptest::sample::subsequence(AuthMethod::ALL.to_vec(), 0..=3).prop_shuffle()
}

fn side() -> impl Strategy<Value = Side> {
    (
        methods(),
        any::<bool>(),
        methods(),
        prop_oneof![Just(1500u16), Just(1400), Just(1280), 576u16..2000],
        proptest::option::of(any::<u32>()),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(methods, credentials, accept, mru, accm, magic, compression, ipv4, ipv6)| Side {
                methods,
                credentials,
                accept,
                mru,
                accm,
                magic,
                compression,
                ipv4,
                ipv6,
            },
        )
}

fn config(s: &Side, lns: bool) -> LinkConfig {
    let mut c = if lns {
        lns_config(&s.methods)
    } else {
        client_config(PASSWORD)
    };
    if !lns {
        c.authenticate_peer = Vec::new();
    }
    if !s.credentials {
        c.credentials = None;
    }
    c.accept_auth = s.accept.clone();
    c.lcp.mru = s.mru;
    c.lcp.accm = s.accm;
    c.lcp.magic = s.magic;
    c.lcp.accept_compression = s.compression;
    c.ipv4 = s.ipv4.then(|| Ipv4Config {
        request_dns: !lns,
        ..Ipv4Config::default()
    });
    c.ipv6 = s.ipv6.then(Ipv6Config::default);
    // No echo: once everything is settled, nothing is left to do.
    c.echo_interval = None;
    c
}

/// Whether the two configurations can agree (on a clean wire they must).
fn compatible(lns: &Side, client: &Side) -> bool {
    let auth = lns.methods.is_empty()
        || (client.credentials && lns.methods.iter().any(|m| client.accept.contains(m)));
    auth && ((lns.ipv4 && client.ipv4) || (lns.ipv6 && client.ipv6))
}

/// Every event stream ends with at most one Down, which is the last event.
fn well_formed(events: &[Event]) -> bool {
    let downs = events
        .iter()
        .filter(|e| matches!(e, Event::Down(_)))
        .count();
    downs == 0 || (downs == 1 && matches!(events.last(), Some(Event::Down(_))))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn two_links_converge_or_fail_cleanly(
        lns in side(),
        client in side(),
        seed in any::<u64>(),
        loss in prop_oneof![Just(0.0), 0.0..0.2f64],
    ) {
        let mut p = Pair::new(seed, [config(&lns, true), config(&client, false)]);
        p.loss = loss;
        p.open();
        // The Max-* counters bound every negotiation; 30 minutes covers renegotiations under
        // loss many times over.
        p.run_for(Duration::from_secs(1800));
        let quiet = p.links.iter().all(|l| l.poll_timeout().is_none());
        prop_assert!(quiet, "still busy after 30 minutes:\n{}", super::util::trace(&p.sent));
        prop_assert!(p.sent.len() < 5000, "{} frames", p.sent.len());
        for i in 0..2 {
            let l = &p.links[i];
            prop_assert!(well_formed(&p.events[i]), "node {i}: {:?}", p.events[i]);
            prop_assert!(l.is_finished() || l.phase() == Phase::Network, "node {i}: {:?}", l.phase());
            prop_assert_eq!(l.heap_bytes(), 0);
        }
        if loss == 0.0 && compatible(&lns, &client) {
            for i in 0..2 {
                prop_assert_eq!(p.down(i), None, "node {}: {}", i, super::util::trace(&p.sent));
                let v4 = p.ipv4_up(i).is_some();
                let v6 = p.ipv6_up(i).is_some();
                prop_assert_eq!(v4, lns.ipv4 && client.ipv4);
                prop_assert_eq!(v6, lns.ipv6 && client.ipv6);
            }
        }
        if loss == 0.0 && !compatible(&lns, &client) {
            prop_assert!(p.down(0).is_some() && p.down(1).is_some());
        }
    }

    #[test]
    fn arbitrary_frames_never_break_a_link(
        which in 0usize..4,
        frames in proptest::collection::vec(
            (
                prop_oneof![
                    Just(protocol::LCP),
                    Just(protocol::PAP),
                    Just(protocol::CHAP),
                    Just(protocol::IPCP),
                    Just(protocol::IPV6CP),
                    Just(protocol::CCP),
                    any::<u16>(),
                ],
                proptest::collection::vec(any::<u8>(), 0..64),
                any::<bool>(),
            ),
            0..80,
        ),
    ) {
        let config = match which {
            0 => lns_config(&[AuthMethod::MsChapV2]),
            1 => lns_config(&[AuthMethod::Pap, AuthMethod::ChapMd5]),
            2 => lns_config(&[]),
            _ => client_config(PASSWORD),
        };
        let (mut one, _) = One::opened(config, &[5, 6, 1, 2, 3, 4]);
        for (proto, body, raw) in frames {
            let mut f = Vec::new();
            if !raw {
                f.extend_from_slice(&[0xff, 0x03]);
                f.extend_from_slice(&proto.to_be_bytes());
                // A plausible length field more often than not.
                let len = (body.len() as u16).saturating_add(2);
                f.extend_from_slice(&body[..body.len().min(2)]);
                f.extend_from_slice(&len.to_be_bytes());
                f.extend_from_slice(body.get(2..).unwrap_or_default());
            } else {
                f = body;
            }
            let _ = one.send(&f);
            one.advance(Duration::from_millis(700));
        }
        // Whatever happened, the link is consistent and ends within its bounds.
        let _ = one.advance(Duration::from_secs(120));
        let _ = one.advance(Duration::from_secs(120));
        prop_assert!(well_formed(&one.events));
        let link: &Link = &one.link;
        if link.is_finished() {
            prop_assert_eq!(link.poll_timeout(), None);
        }
    }
}

/// The bound documented in the crate docs: a `Link` stays under 512 octets, and a link in
/// LCP, IPCP and IPv6CP Opened, idle but for its echoes, holds no heap memory. Links move
/// between threads.
#[test]
fn a_link_is_small_and_holds_no_heap_when_opened_and_idle() {
    fn send<T: Send>() {}
    send::<Link>();
    let bound = 512;
    let size = std::mem::size_of::<Link>();
    assert!(size <= bound, "Link is {size} octets");
    let mut p = Pair::lns_and_client(3, &[AuthMethod::MsChapV2], PASSWORD);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    // A few echo rounds: the echo traffic never spills to the heap.
    p.run_for(Duration::from_secs(300));
    for l in &p.links {
        assert_eq!(l.heap_bytes(), 0);
    }
    let config = Arc::new(lns_config(&[]));
    assert!(Arc::strong_count(&config) == 1);
    println!("size_of::<Link>() = {size} octets, heap while Opened and idle: 0");
}
