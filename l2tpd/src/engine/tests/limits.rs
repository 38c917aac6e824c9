//! Many calls or tunnels from one peer: a call beyond a limit is refused with a CDN that says
//! which, a tunnel beyond `max_tunnels` with a StopCCN that does, both counted by reason; many tunnels from one address and port are logged in
//! lines that do not grow with their number.

use std::time::Duration;

use l2tp_ctl::Selector;

use super::harness::{Net, addr};
use super::logs::recorded;

/// An L2TPv3 LAC with two Ethernet sessions in one tunnel to node 1.
fn lac() -> String {
    format!(
        "session profile \"default\" {{\n    pseudowire_type eth\n}}\n\
         tunnel \"t\" {{\n    peer {}\n    version 3\n}}\n\
         session \"a\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n}}\n\
         session \"b\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n}}\n",
        addr(1).ip()
    )
}

/// The `max_sessions` of the tunnel profile refuses a peer's call beyond it as the system-wide
/// one does: counted under its own reason (`tunnel_max_sessions`) and with a CDN that says
/// why, not silently.
#[test]
fn a_call_beyond_the_tunnels_max_sessions_is_counted_and_named() {
    let c = lac();
    let server = "session profile \"default\" {\n    pseudowire_type eth\n}\n\
                  tunnel profile \"default\" {\n    max_sessions 1\n}\n";
    let mut net = Net::new(&[&c, server], 8);
    net.run_for(Duration::from_secs(3));
    assert_eq!(net.nodes[1].up(), (1, 1), "{:?}", net.nodes[0].events);
    let stats = net.nodes[1].engine.stats();
    assert!(
        stats
            .sessions_refused
            .get("tunnel_max_sessions")
            .is_some_and(|n| *n >= 1),
        "{:?}",
        stats.sessions_refused
    );
    let cdn = net.nodes[0]
        .events
        .iter()
        .find(|e| e.event == l2tp_ctl::EventKind::SessionDown)
        .and_then(|e| e.result.clone())
        .unwrap_or_else(|| panic!("no CDN: {:?}", net.nodes[0].events));
    assert_eq!((cdn.result, cdn.error), (2, 4));
    assert_eq!(
        cdn.message.as_deref(),
        Some("the tunnel's max_sessions reached")
    );
    // The refused session instance waits to retry, and says why its last call ended.
    let b = net.nodes[0]
        .engine
        .session(
            net.now,
            &Selector::Name("t".into()),
            &Selector::Name("b".into()),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(b.protocol_state, "waiting to retry");
    let last = b
        .last_result
        .clone()
        .unwrap_or_else(|| panic!("no last result: {b:?}"));
    assert_eq!((last.result, last.error), (2, 4));
}

/// Many tunnels from one peer address and port (a NAT of many clients): the line each new one
/// logs names a few of the others and how many more, not all of them, so that it does not
/// grow with every client.
#[test]
fn the_tunnels_sharing_a_peer_are_logged_in_short() {
    let mut c = String::new();
    for i in 0..20 {
        c.push_str(&format!(
            "tunnel \"t{i}\" {{\n    peer {}\n    version 3\n    persist false\n}}\n",
            addr(1).ip()
        ));
    }
    let ((), lines) = recorded(|| {
        let mut net = Net::new(&[&c, ""], 9);
        net.run_until(Duration::from_secs(10), "all up", |n| {
            n.nodes[1].up().0 == 20
        });
    });
    let shared: Vec<&String> = lines
        .iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains("from the same address and port"))
        .collect();
    assert!(shared.len() >= 19, "{lines:?}");
    assert!(shared.iter().all(|l| l.len() < 300), "{shared:?}");
    assert!(shared.iter().any(|l| l.contains(" more ")), "{shared:?}");
    // The client's own tunnels to one server are no NAT's doing, and not said to be.
    let own: Vec<&String> = lines
        .iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains(&format!("the peer {} has", addr(1))))
        .collect();
    assert!(own.len() >= 19, "{lines:?}");
    assert!(own.iter().all(|l| !l.contains("NAT")), "{own:?}");
}

#[test]
fn max_tunnels_refuses_the_second_tunnel_and_counts_the_reason() {
    // Two tunnels to node 1, from two addresses.
    let c = format!(
        "tunnel \"t1\" {{\n    peer {peer}\n    version 3\n}}\n\
         tunnel \"t2\" {{\n    peer {peer}\n    version 3\n    local 192.0.2.1\n}}\n",
        peer = addr(1).ip()
    );
    let server = "system {\n    max_tunnels 1\n}\n";
    let mut net = Net::new(&[&c, server], 2);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.nodes[1].engine.counts().tunnels_up, 1);
    assert_eq!(net.nodes[0].engine.counts().tunnels_up, 1);
    let stats = net.nodes[1].engine.stats();
    let refused = stats
        .tunnels_refused
        .get("max_tunnels")
        .copied()
        .unwrap_or(0);
    assert!(refused >= 1, "{:?}", stats.tunnels_refused);
    assert_eq!(
        stats.tunnels_refused.len(),
        1,
        "{:?}",
        stats.tunnels_refused
    );
    // The refused client saw StopCCN result 2 error 4 (RFC 2661 §4.4.2), and why.
    assert_eq!(
        net.nodes[0]
            .first_tunnel_down()
            .map(|r| (r.result, r.error, r.message)),
        Some((2, 4, Some("max_tunnels reached".to_owned())))
    );
}
