//! A LAC that restarts without a StopCCN and opens a new tunnel from the same address and port
//! under the same tunnel id: the LNS removes the old tunnel and its sessions as soon as the new
//! one is up, sending nothing to the reused id, and the user's fixed address is free again.
//! Another port, or another tunnel id, is another tunnel of the peer's, and stays (another
//! tunnel id is probed with a HELLO: `restart_probe.rs`).

use std::net::Ipv4Addr;
use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::Net;
use super::logs::recorded;
use super::ppp::{self, POOL, a, client, server};
use l2tp_config::MetricsDetail;

/// The seed [`ppp::net`] gives its engines: a LAC rebooted with it picks its old tunnel id.
const SEED: u64 = 21;

/// RFC 2661 §6: the Message Types of StopCCN, HELLO and CDN.
const STOPCCN: u16 = 4;
const CDN: u16 = 14;

/// A LAC (node 0) whose user (`bob`: a fixed address; `alice`: one from the pool) has PPP up
/// through the LNS (node 1).
fn up(user: &str) -> Net {
    let password = if user == "bob" {
        "builder"
    } else {
        "wonderland"
    };
    let mut net = ppp::net(
        &[client(user, password)],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net
}

/// The LAC restarts with `seed` and the same user, and runs until its PPP is up again.
fn reboot(net: &mut Net, user: &str, seed: u64) {
    let password = if user == "bob" {
        "builder"
    } else {
        "wonderland"
    };
    net.reboot(0, seed, |e| {
        e.configure_ppp(vec![client(user, password)], &[]);
    });
    net.run_until(Duration::from_secs(20), "the LAC's PPP up again", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 2
    });
}

/// The LNS's tunnels: (local id, peer's id).
fn lns_tunnels(net: &Net) -> Vec<(u32, u32)> {
    let rows = net.nodes[1].engine.tunnels(net.now);
    rows.iter().map(|t| (t.tid, t.peer_tid)).collect()
}

/// The L2TPv2 Message Types of the control messages the LNS sent since its `from`th datagram.
fn lns_sent_types(net: &Net, from: usize) -> Vec<u16> {
    net.sent_v2_types(1, from)
}

fn teardowns(net: &Net, cause: &str) -> u64 {
    let f = net.nodes[1].engine.figures(MetricsDetail::None);
    let mut all = f.tunnel_teardowns.by_cause();
    all.find(|(k, _)| *k == cause).map_or(0, |(_, n)| n)
}

#[test]
fn a_restarted_lac_with_the_same_tunnel_id_replaces_its_old_tunnel() {
    let mut net = up("bob");
    let old = lns_tunnels(&net);
    assert_eq!(old.len(), 1, "{old:?}");
    let sent = net.nodes[1].sent.len();
    let ((), lines) = recorded(|| reboot(&mut net, "bob", SEED));
    let now = lns_tunnels(&net);
    assert_eq!(now.len(), 1, "the old tunnel is still there: {now:?}");
    assert_ne!(now[0].0, old[0].0, "the same tunnel");
    assert_eq!(now[0].1, old[0].1, "the LAC picked another tunnel id");
    // Bob's fixed address was free again for his new session.
    let ups = net.nodes[1]
        .events
        .iter()
        .filter(|e| e.event == EventKind::PppUp);
    let ips: Vec<Option<Ipv4Addr>> = ups
        .map(|e| e.ppp.as_ref().and_then(|p| p.peer_ipv4))
        .collect();
    assert_eq!(ips, vec![Some(a("198.51.100.200")); 2]);
    // The old session and tunnel went down as after any loss, and were counted.
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 1);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 1);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDeleted), 1);
    assert_eq!(net.nodes[1].engine.counts().sessions, 1);
    assert_eq!(teardowns(&net, "peer_restarted"), 1);
    // Nothing went to the peer's reused id: no StopCCN, no CDN.
    let types = lns_sent_types(&net, sent);
    assert!(
        !types.contains(&STOPCCN) && !types.contains(&CDN),
        "{types:?}"
    );
    let notice = format!(
        "tunnel {}: the peer 192.0.2.1:1701 restarted: it opened tunnel {} with the same tunnel id",
        old[0].0, now[0].0
    );
    assert!(
        lines.iter().any(|(_, l)| l.starts_with(&notice)),
        "no notice {notice:?} in {lines:#?}"
    );
    // The new tunnel lives on: nothing reaches it that was meant for the old one.
    net.run_for(Duration::from_secs(120));
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert_eq!(net.nodes[1].up(), (1, 1));
}

/// Another tunnel id: not removed as a stale one at once (a peer may keep several tunnels
/// on one port); probed instead, and closed only once the probe goes unanswered
/// (`restart_probe.rs`).
#[test]
fn a_restarted_lac_with_another_tunnel_id_keeps_the_old_tunnel_until_probed() {
    let mut net = up("alice");
    reboot(&mut net, "alice", SEED + 100);
    let now = lns_tunnels(&net);
    assert_eq!(now.len(), 2, "{now:?}");
    assert_ne!(now[0].1, now[1].1, "the same tunnel id");
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(teardowns(&net, "peer_restarted"), 0);
}

#[test]
fn a_restarted_lac_on_another_port_leaves_the_old_tunnel() {
    let mut net = up("alice");
    net.source_ports.insert(0, 1702);
    reboot(&mut net, "alice", SEED);
    let now = lns_tunnels(&net);
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now[0].1, now[1].1, "another tunnel id");
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(teardowns(&net, "peer_restarted"), 0);
}

/// The LNS closed the tunnel while the LAC was restarting: its StopCCN, unacknowledged, is
/// retransmitted (RFC 2661 §5.7) to the tunnel id the LAC now uses again. Once the new tunnel
/// is up the old one is deleted, and no StopCCN reaches the new tunnel to close it.
#[test]
fn a_closing_tunnels_stopccn_stops_when_the_lac_restarts_with_its_id() {
    let mut net = up("alice");
    let old = lns_tunnels(&net);
    net.blackhole = true;
    let delete = super::super::Command::DeleteTunnel(l2tp_ctl::Selector::Id(old[0].0));
    let r = net.command(1, delete);
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_millis(1500));
    net.reboot(0, SEED, |e| {
        e.configure_ppp(vec![client("alice", "wonderland")], &[]);
    });
    net.blackhole = false;
    net.run_until(Duration::from_secs(20), "the LAC's PPP up again", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 2
    });
    let up_at = net.nodes[1].sent.len();
    let now = lns_tunnels(&net);
    assert_eq!(now.len(), 1, "the old tunnel still closes: {now:?}");
    assert_eq!(now[0].1, old[0].1, "the LAC picked another tunnel id");
    net.run_for(Duration::from_secs(60));
    let types = lns_sent_types(&net, up_at);
    assert!(!types.contains(&STOPCCN), "{types:?}");
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert_eq!(net.nodes[1].up(), (1, 1));
}

/// The same over IP (L2TPv3, RFC 3931 §4.1.1.2): an LCCE that restarts and opens a control
/// connection with its old Assigned Control Connection ID replaces its old tunnel, and its
/// pseudowire comes up again in the new one.
#[test]
fn a_restarted_lcce_over_ip_with_the_same_id_replaces_its_old_tunnel() {
    use super::harness::addr;
    let file = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 3\n    encap ip\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::new(&[&file, ""], SEED);
    net.run_until(Duration::from_secs(10), "up", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    let old = lns_tunnels(&net);
    let ((), lines) = recorded(|| {
        net.reboot(0, SEED, |_| {});
        net.run_until(Duration::from_secs(20), "up again", |n| {
            n.nodes[0].up() == (1, 1) && n.nodes[1].saw(EventKind::TunnelUp) == 2
        });
    });
    let now = lns_tunnels(&net);
    assert_eq!(now.len(), 1, "the old tunnel is still there: {now:?}");
    assert_ne!(now[0].0, old[0].0, "the same tunnel");
    assert_eq!(now[0].1, old[0].1, "the LCCE picked another id");
    assert_eq!(teardowns(&net, "peer_restarted"), 1);
    let notice = format!(
        "tunnel {}: the peer {} restarted: it opened tunnel {}",
        old[0].0,
        addr(0).ip(),
        now[0].0
    );
    assert!(
        lines.iter().any(|(_, l)| l.starts_with(&notice)),
        "no notice {notice:?} in {lines:#?}"
    );
    net.run_until(Duration::from_secs(10), "the pseudowire up", |n| {
        n.nodes[1].up() == (1, 1)
    });
}
