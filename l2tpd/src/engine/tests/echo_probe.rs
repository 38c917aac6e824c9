//! A LAC whose PPP peer leaves an LCP echo unanswered probes its tunnel with a HELLO at once
//! (RFC 2661 §6.5): an LNS that restarted (it knows the tunnel no more and answers nothing in
//! it) is found dead one retransmission cycle after the first missed echo, and the session is
//! placed again in a new tunnel, instead of one cycle after the PPP gave up, with the new call
//! waiting meanwhile in the dead tunnel. A live tunnel acknowledges the HELLO and stays.

use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, PppWire};
use super::logs::recorded;
use super::ppp::{self, POOL, a, client, server};

/// RFC 2661 §6: the Message Type of HELLO.
const HELLO: u16 = 6;

/// A LAC (node 0) sending LCP echoes every 10 s (three missed end the link) and an LNS
/// (node 1), PPP up and quiet for 5 s.
fn up() -> Net {
    let mut c = client("alice", "wonderland");
    let mut cfg = (*c.client).clone();
    cfg.echo_interval = Some(Duration::from_secs(10));
    cfg.echo_failures = 3;
    c.client = std::sync::Arc::new(cfg.clone());
    c.server = std::sync::Arc::new(cfg);
    let mut net = ppp::net(
        &[c],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1
    });
    net.run_for(Duration::from_secs(5));
    net
}

/// The L2TPv2 Message Types of the control messages the LAC sent since its `from`th datagram.
fn lac_sent_types(net: &Net, from: usize) -> Vec<u16> {
    net.sent_v2_types(0, from)
}

#[test]
fn a_restarted_lns_is_found_one_cycle_after_the_first_missed_echo() {
    let mut net = up();
    let sent = net.nodes[0].sent.len();
    let restarted = net.now;
    let ((), lines) = recorded(|| {
        net.reboot(1, 77, |e| {
            let ranges = [(a("198.51.100.10"), a("198.51.100.19"))];
            e.configure_ppp(vec![server(Some(POOL), None)], &[(POOL, &ranges[..])]);
        });
        net.run_until(Duration::from_secs(120), "PPP up again", |n| {
            n.nodes[0].saw(EventKind::PppUp) == 2
        });
    });
    let took = net.now.saturating_duration_since(restarted);
    // The first echo after the restart goes out within 10 s and is missed 10 s later; the
    // HELLO sent then goes unacknowledged for 31 s. Without it: the PPP gives up after three
    // missed echoes (about 40 s) and its CDN, unacknowledged, after 31 s more.
    assert!(
        took < Duration::from_secs(55),
        "PPP up again after {took:?}"
    );
    assert_eq!(net.nodes[0].saw(EventKind::TunnelDown), 1);
    let down = net.nodes[0].first_tunnel_down();
    assert_eq!(down.as_ref().map(|d| d.result), Some(7), "{down:?}");
    let tunnels = net.nodes[0].engine.tunnels(net.now);
    assert_eq!(tunnels.len(), 1, "{tunnels:?}");
    // One HELLO, retransmitted: no second probe piled on it (5 retransmissions by default).
    let hellos = lac_sent_types(&net, sent)
        .iter()
        .filter(|t| **t == HELLO)
        .count();
    assert_eq!(hellos, 6, "{:?}", lac_sent_types(&net, sent));
    let probes = lines
        .iter()
        .filter(|(_, l)| l.contains("left an LCP echo unanswered; checking the tunnel"))
        .count();
    assert_eq!(probes, 1, "{lines:#?}");
}

#[test]
fn a_live_tunnel_acknowledges_the_probe_and_the_session_is_placed_again_in_it() {
    let mut net = up();
    let tunnels = net.nodes[0].engine.tunnels(net.now);
    let sent = net.nodes[0].sent.len();
    // The LNS's PPP goes silent; its L2TP does not.
    net.ppp_wire = Some(PppWire(Box::new(|from, _, _: &mut Vec<u8>| from != 1)));
    net.run_until(Duration::from_secs(60), "the LAC's PPP down", |n| {
        n.nodes[0].saw(EventKind::PppDown) == 1
    });
    net.ppp_wire = None;
    net.run_until(Duration::from_secs(20), "PPP up again", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 2
    });
    assert!(lac_sent_types(&net, sent).contains(&HELLO));
    assert_eq!(net.nodes[0].saw(EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[0].engine.tunnels(net.now).len(), 1);
    assert_eq!(net.nodes[0].engine.tunnels(net.now)[0].tid, tunnels[0].tid);
}
