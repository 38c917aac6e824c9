//! Whole sessions between two links: every authentication method both ways, IPCP with DNS and
//! IPv6CP, loss, wrong passwords, silent and stubborn peers, the timeouts.

use std::time::Duration;

use super::util::*;
use crate::auth::AuthMethod;
use crate::event::{DownReason, Event};
use crate::fsm::State;
use crate::link::Phase;

fn converge(seed: u64, methods: &[AuthMethod], loss: f64) -> Pair {
    let mut p = Pair::lns_and_client(seed, methods, PASSWORD);
    p.loss = loss;
    p.open();
    p.run_while(Duration::from_secs(600), |p| !p.both_up());
    p
}

fn assert_up(p: &Pair, method: Option<AuthMethod>) {
    for i in 0..2 {
        assert_eq!(p.links[i].phase(), Phase::Network, "node {i}: {:?}", p.events[i]);
        assert_eq!(p.links[i].ipcp_state(), State::Opened, "node {i}");
        assert_eq!(p.links[i].ipv6cp_state(), State::Opened, "node {i}");
        assert_eq!(p.down(i), None);
    }
    let Some(Event::LinkUp(info)) = p.events[0].iter().find(|e| matches!(e, Event::LinkUp(_)))
    else {
        panic!("no LinkUp: {:?}", p.events[0]);
    };
    assert_eq!(info.auth_peer, method);
    let lns = p.ipv4_up(0).unwrap_or_else(|| panic!("no Ipv4Up"));
    let client = p.ipv4_up(1).unwrap_or_else(|| panic!("no Ipv4Up"));
    assert_eq!((lns.local, lns.peer), (LNS_ADDR, PEER_ADDR));
    assert_eq!((client.local, client.peer), (PEER_ADDR, LNS_ADDR));
    assert_eq!(client.dns, [Some(DNS[0]), Some(DNS[1])]);
    let (a, b) = (p.ipv6_up(0), p.ipv6_up(1));
    let (Some(a), Some(b)) = (a, b) else {
        panic!("no Ipv6Up")
    };
    assert_eq!((a.local, a.peer), (b.peer, b.local));
    assert_ne!(a.local, a.peer);
    assert_ne!(a.local.to_u64(), 0);
    assert_eq!(a.local.0[0] & 0x02, 0, "the u bit of a random identifier is clear");
}

#[test]
fn every_method_converges_on_a_clean_wire() {
    for m in AuthMethod::ALL {
        let p = converge(1, &[m], 0.0);
        assert_up(&p, Some(m));
        assert!(p.links[0].heap_bytes() == 0, "no heap once up and drained");
    }
}

#[test]
fn no_authentication_converges() {
    let p = converge(2, &[], 0.0);
    assert_up(&p, None);
}

#[test]
fn every_method_converges_under_loss() {
    for seed in 0..20 {
        for m in AuthMethod::ALL {
            let p = converge(seed, &[m], 0.2);
            assert_up(&p, Some(m));
        }
    }
}

#[test]
fn wrong_password_fails_cleanly() {
    for m in AuthMethod::ALL {
        let mut p = Pair::lns_and_client(3, &[m], "wrong-password");
        p.open();
        p.run_for(Duration::from_secs(60));
        assert_eq!(p.down(0), Some(DownReason::AuthFailed), "{m}: {:?}", p.events[0]);
        assert_eq!(p.down(1), Some(DownReason::AuthRejectedByPeer), "{m}: {:?}", p.events[1]);
        assert!(p.ipv4_up(0).is_none());
        assert!(p.links.iter().all(|l| l.is_finished() && l.poll_timeout().is_none()));
    }
}
