//! `pseudowire_types`: the pseudowire types an L2TPv3 peer may open a session of. A call of
//! another type is refused with CDN result 14 (RFC 3931 §5.4.3), logged and counted; without
//! the parameter, every type is taken as before.

use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, addr};
use super::logs::recorded;

/// A LAC with an `eth` session "e" and an `eth_vlan` session "v" to node 1.
fn lac() -> String {
    format!(
        "tunnel \"t\" {{\n    peer {}\n    version 3\n}}\n\
         session \"e\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n}}\n\
         session \"v\" {{\n    tunnel \"t\"\n    pseudowire_type eth_vlan\n    vlan_id 7\n}}\n",
        addr(1).ip()
    )
}

/// An LNS whose session profile has `extra`.
fn lns(extra: &str) -> String {
    format!("session profile \"default\" {{\n    pseudowire_type eth\n{extra}}}\n")
}

#[test]
fn a_type_not_listed_is_refused_with_result_14() {
    let (net, lines) = recorded(|| {
        let mut net = Net::new(&[&lac(), &lns("    pseudowire_types eth\n")], 21);
        net.run_until(Duration::from_secs(10), "one up, one refused", |n| {
            n.nodes[1].up().1 == 1 && n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        net
    });
    let cdn = net.nodes[0].first_cdn();
    assert_eq!(cdn.result, 14, "{cdn:?}");
    assert_eq!(
        cdn.message.as_deref(),
        Some("pseudowire type eth_vlan not allowed (pseudowire_types)")
    );
    let refused = net.nodes[1].engine.stats().sessions_refused;
    assert!(
        refused.get("pseudowire_type").is_some_and(|n| *n >= 1),
        "{refused:?}"
    );
    assert!(
        lines.iter().any(|(_, l)| l
            .contains("refusing a session from the peer: pseudowire type eth_vlan not allowed")),
        "{lines:#?}"
    );
    // The eth session is the one up.
    let up = net.first_session(1);
    assert_eq!(up.info.pseudowire_type, l2tp_ctl::PseudowireType::Eth);
}

#[test]
fn without_the_list_every_type_is_taken() {
    let mut net = Net::new(&[&lac(), &lns("")], 21);
    net.run_until(Duration::from_secs(10), "both up", |n| {
        n.nodes[1].up().1 == 2
    });
    assert!(
        !net.nodes[1]
            .engine
            .stats()
            .sessions_refused
            .contains_key("pseudowire_type")
    );
}
