//! A peer that restarts without a StopCCN and opens a new tunnel from the same address and port
//! under another tunnel id: its older tunnels are each sent a HELLO at once (RFC 2661 §6.5,
//! RFC 3931 §5.4.1), so that a dead one is closed after one retransmission cycle (31 s), not
//! after `hello_timeout` (60 s) of silence and that cycle; a live one just acknowledges it.

use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, addr};
use super::logs::recorded;

const SEED: u64 = 33;

/// Node 0's config: an L2TPv3 tunnel to node 1 with an Ethernet pseudowire per name.
fn lcce(tunnels: &[&str]) -> String {
    tunnels
        .iter()
        .map(|t| {
            format!(
                "tunnel \"{t}\" {{\n    peer {}\n    version 3\n}}\n\
                 session \"{t}\" {{\n    tunnel \"{t}\"\n    pseudowire_type eth\n}}\n",
                addr(1).ip()
            )
        })
        .collect()
}

/// Node 1's tunnels: (local id, peer's id).
fn tunnels(net: &Net) -> Vec<(u32, u32)> {
    let rows = net.nodes[1].engine.tunnels(net.now);
    rows.iter().map(|t| (t.tid, t.peer_tid)).collect()
}

fn notice(old: u32, new: u32) -> String {
    format!(
        "tunnel {old}: the peer {} opened a new tunnel {new}; checking its older tunnel {old}",
        addr(0)
    )
}

#[test]
fn a_restarted_peer_with_another_tunnel_id_has_its_old_tunnel_closed_within_one_cycle() {
    let mut net = Net::new(&[&lcce(&["t"]), ""], SEED);
    net.run_until(Duration::from_secs(10), "up", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    let old = tunnels(&net);
    let ((), lines) = recorded(|| {
        net.reboot(0, SEED + 100, |_| {});
        net.run_until(Duration::from_secs(10), "up again", |n| {
            n.nodes[0].up() == (1, 1) && n.nodes[1].saw(EventKind::TunnelUp) == 2
        });
    });
    let both = tunnels(&net);
    assert_eq!(both.len(), 2, "{both:?}");
    let new = both.iter().find(|t| t.0 != old[0].0).copied();
    let new = new.unwrap_or_else(|| panic!("no new tunnel: {both:?}"));
    assert_ne!(new.1, old[0].1, "the peer picked its old tunnel id");
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.starts_with(&notice(old[0].0, new.0))),
        "no notice {:?} in {lines:#?}",
        notice(old[0].0, new.0)
    );
    // Well within hello_timeout: the probe's HELLO went unanswered through its retries.
    let up_again = net.now;
    net.run_until(Duration::from_secs(35), "the old tunnel closed", |n| {
        n.nodes[1].saw(EventKind::TunnelDeleted) == 1
    });
    assert!(net.now.saturating_duration_since(up_again) >= Duration::from_secs(25));
    assert_eq!(tunnels(&net), vec![new]);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 1);
    // The new tunnel and its pseudowire live on.
    net.run_for(Duration::from_secs(120));
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert_eq!(net.nodes[1].up(), (1, 1));
}

/// A peer with two tunnels from one port is legal: the older one is probed when the second
/// comes up, acknowledges the HELLO, and nothing else happens.
#[test]
fn a_live_older_tunnel_of_the_same_peer_acknowledges_and_stays() {
    let mut net = Net::new(&[&lcce(&["a"]), ""], SEED);
    net.run_until(Duration::from_secs(10), "up", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    net.run_for(Duration::from_secs(5));
    let old = tunnels(&net);
    let ((), lines) = recorded(|| {
        let _ = net.reload(0, &lcce(&["a", "b"]));
        net.run_until(Duration::from_secs(10), "both up", |n| {
            n.nodes[0].up() == (2, 2) && n.nodes[1].up() == (2, 2)
        });
    });
    let both = tunnels(&net);
    let new = both.iter().find(|t| t.0 != old[0].0).copied();
    let new = new.unwrap_or_else(|| panic!("no new tunnel: {both:?}"));
    let probes: Vec<_> = lines
        .iter()
        .filter(|(_, l)| l.contains("checking its older tunnel"))
        .collect();
    assert_eq!(probes.len(), 1, "{probes:#?}");
    assert!(
        probes[0].1.starts_with(&notice(old[0].0, new.0)),
        "{probes:#?}"
    );
    net.run_for(Duration::from_secs(120));
    assert_eq!(net.nodes[0].up(), (2, 2));
    assert_eq!(net.nodes[1].up(), (2, 2));
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[0].saw(EventKind::TunnelDown), 0);
}

/// A LAC that opens tunnels from one port one after the other: each tunnel coming up probes
/// the others, which acknowledge and would be probed again by the next; a tunnel is probed at
/// most once per `PROBE_SPACING`, so the burst costs each tunnel one HELLO at most.
#[test]
fn a_burst_of_tunnels_from_one_port_probes_each_at_most_once() {
    let names: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut net = Net::new(&[&lcce(&names[..1]), ""], SEED);
    net.run_until(Duration::from_secs(10), "up", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    net.run_for(Duration::from_secs(5));
    let start = net.now;
    let ((), lines) = recorded(|| {
        for n in 2..=names.len() {
            let _ = net.reload(0, &lcce(&names[..n]));
            let n = n as u32;
            net.run_until(Duration::from_secs(5), "the next up", |net| {
                net.nodes[0].up() == (n, n) && net.nodes[1].up() == (n, n)
            });
            // Its probes acknowledged before the next tunnel comes.
            net.run_for(Duration::from_millis(500));
        }
    });
    assert!(net.now.saturating_duration_since(start) < Duration::from_secs(10));
    let mut probed: Vec<&str> = lines
        .iter()
        .filter(|(_, l)| l.contains("checking its older tunnel"))
        .filter_map(|(_, l)| l.split(':').next())
        .collect();
    let all = probed.len();
    assert!(all >= 1, "no probe at all: {lines:#?}");
    probed.sort_unstable();
    probed.dedup();
    assert_eq!(
        all,
        probed.len(),
        "a tunnel probed twice in the burst: {lines:#?}"
    );
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.nodes[1].up(), (6, 6));
}
