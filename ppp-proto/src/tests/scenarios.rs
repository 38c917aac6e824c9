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
        assert_eq!(
            p.links[i].phase(),
            Phase::Network,
            "node {i}: {:?}",
            p.events[i]
        );
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
    assert_eq!(
        a.local.0[0] & 0x02,
        0,
        "the u bit of a random identifier is clear"
    );
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
        assert_eq!(
            p.down(0),
            Some(DownReason::AuthFailed),
            "{m}: {:?}",
            p.events[0]
        );
        assert_eq!(
            p.down(1),
            Some(DownReason::AuthRejectedByPeer),
            "{m}: {:?}",
            p.events[1]
        );
        assert!(p.ipv4_up(0).is_none());
        assert!(
            p.links
                .iter()
                .all(|l| l.is_finished() && l.poll_timeout().is_none())
        );
    }
}

/// Rewrites every LCP Configure-Ack node 1 sends into a Configure-Nak of the Magic-Number: node
/// 0 never gets its request acknowledged.
fn nak_forever(from: usize, frame: &mut [u8]) -> bool {
    if from == 1 && frame.get(2..5) == Some(&[0xc0, 0x21, 2]) {
        frame[4] = 3;
    }
    true
}

#[test]
fn a_peer_that_naks_forever_ends_the_link_within_max_failure() {
    let mut p = Pair::lns_and_client(4, &[AuthMethod::Pap], PASSWORD);
    p.tamper = Some(Box::new(|from, f: &mut Vec<u8>| nak_forever(from, f)));
    p.open();
    p.run_for(Duration::from_secs(120));
    assert_eq!(
        p.down(0),
        Some(DownReason::NegotiationFailed),
        "{}",
        trace(&p.sent)
    );
    let naks = p
        .frames_of(1, crate::wire::protocol::LCP)
        .iter()
        .filter(|s| s.bytes[4] == 3)
        .count();
    let max = usize::from(crate::config::Retries::default().max_failure);
    assert_eq!(
        naks,
        max + 1,
        "given up after Max-Failure Naks: {}",
        trace(&p.sent)
    );
    // Node 0 gave up at once, not after its Restart timer ran out.
    let end = p.sent.iter().filter(|s| s.from == 0).map(|s| s.at).max();
    assert!(end.is_some_and(|t| t < p.now), "{}", trace(&p.sent));
    assert!(p.links[0].is_finished());
}

/// An LNS that answers wrong credentials by closing the session, with no Authenticate-Nak or
/// Failure (l2tpns): the client's link ends with the reason that says so.
#[test]
fn the_lower_layer_going_before_the_verdict_is_told_apart() {
    for m in AuthMethod::ALL {
        let mut p = Pair::lns_and_client(13, &[m], PASSWORD);
        p.hosts[0] = Host::Silent;
        p.open();
        p.run_for(Duration::from_secs(5));
        let now = p.now;
        p.links[1].lower_down(now);
        p.drain();
        assert_eq!(p.down(1), Some(DownReason::AuthNoVerdict), "{m}");
        // Before our credentials went out, it is the lower layer's going only.
        let mut p = Pair::lns_and_client(14, &[m], PASSWORD);
        p.open();
        let now = p.now;
        p.links[1].lower_down(now);
        p.drain();
        assert_eq!(p.down(1), Some(DownReason::LowerLayerDown), "{m}");
    }
}

#[test]
fn a_peer_that_never_authenticates_times_out() {
    for m in AuthMethod::ALL {
        let mut p = Pair::lns_and_client(5, &[m], PASSWORD);
        // The peer's PAP and CHAP frames are lost.
        p.tamper = Some(Box::new(|from, f: &mut Vec<u8>| {
            !(from == 1 && matches!(f.get(2..4), Some([0xc0, 0x23] | [0xc2, 0x23])))
        }));
        p.open();
        p.run_for(Duration::from_secs(120));
        assert_eq!(
            p.down(0),
            Some(DownReason::AuthTimeout),
            "{m}: {:?}",
            p.events[0]
        );
        let at = p.sent.iter().filter(|s| s.from == 0).map(|s| s.at).max();
        // Opened at about 1 s, 30 s to authenticate, two Terminate-Requests 3 s apart.
        let bound = l2tp_proto::time::Instant::from_secs(1 + 30 + 3 + 1);
        assert!(at.is_some_and(|t| t <= bound), "{m}: ended by {at:?}");
    }
}

#[test]
fn a_host_that_never_answers_times_out() {
    let mut p = Pair::lns_and_client(6, &[AuthMethod::MsChapV2], PASSWORD);
    p.hosts[0] = Host::Silent;
    p.open();
    p.run_for(Duration::from_secs(120));
    assert_eq!(p.down(0), Some(DownReason::AuthTimeout));
    assert!(matches!(
        p.events[0]
            .iter()
            .find(|e| matches!(e, Event::Authenticate(_))),
        Some(Event::Authenticate(_))
    ));
}

#[test]
fn a_silent_peer_ends_lcp_after_max_configure() {
    let mut p = Pair::lns_and_client(7, &[AuthMethod::Pap], PASSWORD);
    p.tamper = Some(Box::new(|from, _: &mut Vec<u8>| from == 0));
    p.open();
    p.run_for(Duration::from_secs(120));
    assert_eq!(p.down(0), Some(DownReason::NegotiationFailed));
    let requests = p.frames_of(0, crate::wire::protocol::LCP).len();
    assert_eq!(requests, 10, "Max-Configure requests, then give up");
}

#[test]
fn method_negotiation_follows_the_peers_nak() {
    // The LNS prefers MS-CHAPv2 but allows PAP; the client can only do PAP.
    let mut client = client_config(PASSWORD);
    client.accept_auth = vec![AuthMethod::Pap];
    let mut p = Pair::new(
        8,
        [lns_config(&[AuthMethod::MsChapV2, AuthMethod::Pap]), client],
    );
    p.open();
    p.run_for(Duration::from_secs(30));
    assert!(p.both_up(), "{}", trace(&p.sent));
    let Some(Event::LinkUp(info)) = p.events[0].iter().find(|e| matches!(e, Event::LinkUp(_)))
    else {
        panic!()
    };
    assert_eq!(info.auth_peer, Some(AuthMethod::Pap));

    // Nothing in common: the LNS gives up.
    let mut client = client_config(PASSWORD);
    client.accept_auth = vec![AuthMethod::ChapMd5];
    let mut p = Pair::new(9, [lns_config(&[AuthMethod::Pap]), client]);
    p.open();
    p.run_for(Duration::from_secs(60));
    assert_eq!(
        p.down(0),
        Some(DownReason::AuthNotNegotiated),
        "{}",
        trace(&p.sent)
    );
    assert!(p.down(1).is_some());

    // A client without credentials rejects the option: the LNS gives up.
    let mut client = client_config(PASSWORD);
    client.credentials = None;
    let mut p = Pair::new(10, [lns_config(&[AuthMethod::Pap]), client]);
    p.open();
    p.run_for(Duration::from_secs(60));
    assert_eq!(p.down(0), Some(DownReason::AuthNotNegotiated));
}

#[test]
fn closing_terminates_both_ends() {
    let mut p = converge(11, &[AuthMethod::ChapMd5], 0.0);
    let now = p.now;
    p.links[0].close(now, crate::event::CloseReason::Administrative);
    p.run_for(Duration::from_secs(30));
    assert_eq!(
        p.down(0),
        Some(DownReason::Closed(
            crate::event::CloseReason::Administrative
        ))
    );
    assert_eq!(p.down(1), Some(DownReason::PeerTerminated));
    for i in 0..2 {
        let ev = &p.events[i];
        let up = ev.iter().position(|e| matches!(e, Event::Ipv4Up(_)));
        let down = ev.iter().position(|e| matches!(e, Event::Ipv4Down));
        assert!(up < down, "node {i}: Ipv4Down after Ipv4Up: {ev:?}");
        assert!(matches!(ev.last(), Some(Event::Down(_))));
        assert!(p.links[i].is_finished());
        assert_eq!(p.links[i].poll_timeout(), None);
    }
}

#[test]
fn lower_layer_down_ends_the_link_at_once() {
    let mut p = converge(12, &[AuthMethod::Pap], 0.0);
    let now = p.now;
    p.links[1].lower_down(now);
    p.drain();
    assert_eq!(p.down(1), Some(DownReason::LowerLayerDown));
    let ev = &p.events[1];
    assert!(matches!(
        ev[ev.len() - 3..],
        [Event::Ipv4Down, Event::Ipv6Down, Event::Down(_)]
    ));
}

#[test]
fn a_silent_peer_after_opening_is_found_by_echo() {
    let mut p = converge(13, &[AuthMethod::Pap], 0.0);
    let up_at = p.now;
    p.tamper = Some(Box::new(|from, _: &mut Vec<u8>| from == 0));
    p.run_for(Duration::from_secs(300));
    assert_eq!(p.down(0), Some(DownReason::EchoTimeout));
    let c = p.links[0].counters();
    assert_eq!((c.echo_sent, c.echo_missed), (3, 2));
    // Three unanswered echoes 30 s apart, the fourth tick closes, two Terminate-Requests.
    let last = p.sent.iter().filter(|s| s.from == 0).map(|s| s.at).max();
    assert!(last.is_some_and(|t| t - up_at <= Duration::from_secs(4 * 30 + 3)));
}

#[test]
fn echoes_keep_a_live_link_up_and_adaptive_echo_skips_them() {
    let mut p = converge(14, &[AuthMethod::Pap], 0.0);
    p.run_for(Duration::from_secs(600));
    assert!(p.both_up());
    let sent = p.links[0].counters().echo_sent;
    assert!((19..=21).contains(&sent), "{sent}");
    assert_eq!(p.links[0].counters().echo_missed, 0);

    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.echo_adaptive = true;
    let mut p = Pair::new(15, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    let before = p.links[0].counters().echo_sent;
    for _ in 0..20 {
        let now = p.now;
        p.links[0].note_activity(now, crate::link::Activity::Received);
        p.run_for(Duration::from_secs(30));
    }
    assert_eq!(
        p.links[0].counters().echo_sent,
        before,
        "data received: no echo needed"
    );
}

#[test]
fn idle_and_session_timeouts() {
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.idle_timeout = Some(Duration::from_secs(100));
    let mut p = Pair::new(16, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    // Activity every 50 s keeps it up for 500 s.
    for _ in 0..10 {
        let now = p.now;
        p.links[0].note_activity(now, crate::link::Activity::Sent);
        p.run_for(Duration::from_secs(50));
    }
    assert_eq!(p.down(0), None);
    p.run_for(Duration::from_secs(200));
    assert_eq!(p.down(0), Some(DownReason::IdleTimeout));

    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.session_timeout = Some(Duration::from_secs(3600));
    let mut p = Pair::new(17, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    let up = p.now;
    p.run_for(Duration::from_secs(3500));
    assert_eq!(p.down(0), None);
    p.run_for(Duration::from_secs(200));
    assert_eq!(p.down(0), Some(DownReason::SessionTimeout));
    let first_term = p
        .frames_of(0, crate::wire::protocol::LCP)
        .iter()
        .find(|s| s.bytes[4] == 5)
        .map(|s| s.at);
    assert!(first_term.is_some_and(|t| t - up <= Duration::from_secs(3601)));

    // The host's own session timeout replaces the configured one.
    let mut p = Pair::new(
        18,
        [lns_config(&[AuthMethod::Pap]), client_config(PASSWORD)],
    );
    p.open();
    let now = p.now;
    p.links[0].set_session_timeout(now, Some(Duration::from_secs(90)));
    p.run_for(Duration::from_secs(120));
    assert_eq!(p.down(0), Some(DownReason::SessionTimeout));
}

#[test]
fn a_looped_back_link_is_detected() {
    let mut p = Pair::new(19, [lns_config(&[]), client_config(PASSWORD)]);
    // Node 0 hears only itself.
    p.tamper = Some(Box::new(|_, _: &mut Vec<u8>| true));
    p.loopback = true;
    p.open();
    p.run_for(Duration::from_secs(120));
    assert_eq!(p.down(0), Some(DownReason::Loopback), "{}", trace(&p.sent));
}

#[test]
fn interface_identifier_collision_is_resolved() {
    let same = iid(0x1122_3344_5566_7788);
    let mut p = Pair::lns_and_client(20, &[AuthMethod::Pap], PASSWORD);
    p.network[0].ipv6.local = Some(same);
    p.network[1].ipv6.local = Some(same);
    p.open();
    p.run_for(Duration::from_secs(30));
    assert!(p.both_up(), "{}", trace(&p.sent));
    let (a, b) = (p.ipv6_up(0), p.ipv6_up(1));
    let (Some(a), Some(b)) = (a, b) else { panic!() };
    assert_ne!(a.local, a.peer);
    assert_eq!((a.local, a.peer), (b.peer, b.local));

    // The host assigns the peer's identifier (e.g. RADIUS Framed-Interface-Id).
    let mut p = Pair::lns_and_client(21, &[AuthMethod::Pap], PASSWORD);
    p.network[0].ipv6.peer = Some(iid(0x0011_2233_4455_6677));
    p.open();
    p.run_for(Duration::from_secs(30));
    assert_eq!(
        p.ipv6_up(1).map(|i| i.local),
        Some(iid(0x0011_2233_4455_6677))
    );
}

#[test]
fn only_one_network_protocol() {
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.ipv6 = None;
    let mut p = Pair::new(22, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_for(Duration::from_secs(60));
    // The client's IPv6CP is Protocol-Rejected; IPv4 is up on both.
    assert!(p.ipv4_up(0).is_some() && p.ipv4_up(1).is_some());
    assert_eq!(p.links[1].ipv6cp_state(), State::Stopped);
    assert_eq!(p.links[0].counters().protocol_rejects, 1);
    assert_eq!(p.down(1), None);

    // No network protocol at all: the link closes.
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.ipv6 = None;
    lns.ipv4 = None;
    let mut p = Pair::new(23, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_for(Duration::from_secs(60));
    assert_eq!(p.down(0), Some(DownReason::NoNetworkProtocol));
}

#[test]
fn timers_survive_an_lcp_renegotiation() {
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.idle_timeout = Some(Duration::from_secs(100));
    let mut p = Pair::new(24, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    // The peer starts LCP over (a new Configure-Request in Opened): both renegotiate.
    let now = p.now;
    let mut rng = l2tp_proto::rng::DeterministicRng::new(5);
    p.links[0].handle_frame(
        now,
        &super::frames::frame(crate::wire::protocol::LCP, 1, 200, &[5, 6, 9, 9, 9, 9]),
        &mut rng,
    );
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    assert!(p.both_up(), "{}", trace(&p.sent));
    let up_again = p.now;
    assert_eq!(
        p.events[0]
            .iter()
            .filter(|e| matches!(e, Event::LinkUp(_)))
            .count(),
        2
    );
    p.run_for(Duration::from_secs(150));
    assert_eq!(p.down(0), Some(DownReason::IdleTimeout));
    let term = p
        .frames_of(0, crate::wire::protocol::LCP)
        .iter()
        .find(|s| s.bytes[4] == 5)
        .map(|s| s.at);
    assert!(term.is_some_and(|t| t - up_again <= Duration::from_secs(101)));
}
