//! A peer that renegotiates without end (RFC 1661 §4.3: a Configure-Request, -Ack or -Nak in
//! Opened starts the automaton over): each LCP round takes the network layer down and has the
//! peer authenticated again (a request to the host, and from there to its RADIUS server), each
//! NCP round takes that protocol down. The link counts the rounds the peer starts and closes
//! once they pass `max_renegotiations` within a minute.

use std::time::Duration;

use super::frames::frame;
use super::util::{Pair, client_config, lns_config};
use crate::auth::AuthMethod;
use crate::event::{DownReason, Event};
use crate::wire::protocol;

/// An LNS with PAP and `max` renegotiations a minute, its client (which sees each round as
/// the LNS's, and has no limit), both up.
fn up_pair(seed: u64, max: u16) -> Pair {
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.max_renegotiations = max;
    let mut client = client_config(super::util::PASSWORD);
    client.max_renegotiations = 0;
    let mut p = Pair::new(seed, [lns, client]);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    assert!(p.both_up());
    p
}

/// The peer starts LCP over (a Configure-Request in Opened, with an MRU option), and the pair
/// is given up to 10 s to come back up.
fn lcp_round(p: &mut Pair, id: u8) {
    p.inject(0, &frame(protocol::LCP, 1, id, &[1, 4, 5, 0xdc]));
    p.run_while(Duration::from_secs(10), |p| {
        !p.both_up() && p.down(0).is_none()
    });
}

fn logins(p: &Pair) -> usize {
    p.events[0]
        .iter()
        .filter(|e| matches!(e, Event::Authenticate(_)))
        .count()
}

#[test]
fn lcp_renegotiations_past_the_limit_close_the_link() {
    let mut p = up_pair(40, 5);
    assert_eq!(logins(&p), 1);
    for i in 0..5 {
        lcp_round(&mut p, 100 + i);
        assert!(p.both_up(), "round {i}");
        assert_eq!(p.down(0), None);
    }
    // Each round was a login again, and is counted.
    assert_eq!(logins(&p), 6);
    assert_eq!(p.links[0].counters().renegotiations, 5);
    // The sixth within the minute ends the link: no login for it.
    lcp_round(&mut p, 110);
    p.run_for(Duration::from_secs(30));
    assert_eq!(p.down(0), Some(DownReason::Renegotiations));
    assert_eq!(logins(&p), 6);
    assert_eq!(p.links[0].counters().renegotiations, 6);
    // The peer was told why (Terminate-Request, RFC 1661 §5.5).
    let term = p
        .frames_of(0, protocol::LCP)
        .into_iter()
        .rev()
        .find(|s| s.bytes[4] == 5)
        .map(|s| s.bytes[8..].to_vec());
    assert_eq!(term.as_deref(), Some(&b"Too many renegotiations"[..]));
}

#[test]
fn renegotiations_spread_out_are_allowed() {
    let mut p = up_pair(41, 5);
    // One every 15 s, 20 of them: never more than 4 in a minute.
    for i in 0..20 {
        lcp_round(&mut p, i);
        assert!(p.both_up(), "round {i}");
        p.run_for(Duration::from_secs(14));
    }
    assert_eq!(p.down(0), None);
    assert_eq!(p.links[0].counters().renegotiations, 20);
    assert_eq!(logins(&p), 21);
}

#[test]
fn ncp_renegotiations_count_too() {
    let mut p = up_pair(42, 5);
    // The peer's IPCP Configure-Request in Opened, asking for the address it has.
    let ipcp = frame(protocol::IPCP, 1, 77, &[3, 6, 198, 51, 100, 10]);
    for i in 0..5 {
        p.inject(0, &ipcp);
        p.run_while(Duration::from_secs(10), |p| !p.both_up());
        assert!(p.both_up(), "round {i}");
    }
    assert_eq!(p.links[0].counters().renegotiations, 5);
    assert_eq!(logins(&p), 1, "an NCP round is no login");
    p.inject(0, &ipcp);
    p.run_for(Duration::from_secs(30));
    assert_eq!(p.down(0), Some(DownReason::Renegotiations));
}

#[test]
fn no_limit_when_zero() {
    let mut p = up_pair(43, 0);
    for i in 0..30 {
        lcp_round(&mut p, i);
        assert!(p.both_up(), "round {i}");
    }
    assert_eq!(p.down(0), None);
    assert_eq!(p.links[0].counters().renegotiations, 30);
}
