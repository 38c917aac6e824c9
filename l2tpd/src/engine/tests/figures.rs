//! What a metrics scrape reads of the engine: tunnels and sessions by state and version, set-up
//! latency, teardowns by cause, and rows per tunnel and session only when asked for.

use std::time::Duration;

use l2tp_config::MetricsDetail;

use super::harness::{Net, addr};

fn config(tunnels: &[(&str, u8)], with_session: bool) -> String {
    let mut text = String::from("session profile \"default\" {\n    pseudowire_type eth\n}\n");
    for (name, version) in tunnels {
        text.push_str(&format!(
            "tunnel \"{name}\" {{\n    peer {}\n    version {version}\n}}\n",
            addr(1).ip()
        ));
    }
    if with_session {
        text.push_str("session \"s\" {\n    tunnel \"t3\"\n    pseudowire_type eth\n}\n");
    }
    text
}

#[test]
fn figures_follow_tunnels_and_sessions_through_set_up_and_teardown() {
    let both = config(&[("t3", 3), ("t2", 2)], true);
    let mut net = Net::new(&[&both, ""], 7);
    net.run_until(Duration::from_secs(5), "both up", |n| {
        n.nodes[0].up() == (2, 1) && n.nodes[1].up() == (2, 1)
    });
    for (i, n) in net.nodes.iter().enumerate() {
        let f = n.engine.figures(MetricsDetail::None);
        // Up: one tunnel of each version, the session in the L2TPv3 one.
        assert_eq!(
            (f.tunnels.get(1, 3), f.tunnels.get(1, 2)),
            (1, 1),
            "node {i}"
        );
        assert_eq!(
            (f.sessions.get(1, 3), f.sessions.get(1, 2)),
            (1, 0),
            "node {i}"
        );
        assert_eq!(f.tunnels.total(), 2);
        assert_eq!(f.tunnel_setup.count(), 2, "node {i}");
        assert_eq!(f.session_setup.count(), 1, "node {i}");
        // Within the virtual time it took (the virtual network delivers at once).
        assert!(f.tunnel_setup.sum() <= 2.0 * net.elapsed().as_secs_f64());
        assert!(f.tunnel_rows.is_empty() && f.session_rows.is_empty());
    }
    let rows = net.nodes[0].engine.figures(MetricsDetail::Tunnels);
    assert_eq!(rows.tunnel_rows.len(), 2);
    assert!(rows.session_rows.is_empty());
    let t3 = rows
        .tunnel_rows
        .iter()
        .find(|r| r.name.as_deref() == Some("t3"))
        .unwrap_or_else(|| panic!("{:?}", rows.tunnel_rows));
    assert_eq!((t3.version, t3.state, t3.sessions), (3, 1, 1));
    assert_eq!(t3.peer, addr(1).to_string());
    assert!(t3.control_rx > 0 && t3.control_tx > 0);
    let rows = net.nodes[1].engine.figures(MetricsDetail::Sessions);
    assert_eq!(rows.session_rows.len(), 1);
    assert_eq!(rows.session_rows[0].state, 1);

    // The client drops the L2TPv2 tunnel: its StopCCN is a local teardown there and a peer's
    // one on the server.
    net.reload(0, &config(&[("t3", 3)], true));
    net.run_until(Duration::from_secs(30), "t2 down", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    let cause = |i: usize, c: &str| {
        let f = net.nodes[i].engine.figures(MetricsDetail::None);
        f.tunnel_teardowns
            .by_cause()
            .find(|(k, _)| *k == c)
            .map_or(0, |(_, n)| n)
    };
    assert_eq!((cause(0, "local"), cause(0, "peer")), (1, 0));
    assert_eq!((cause(1, "local"), cause(1, "peer")), (0, 1));
    let f = net.nodes[1].engine.figures(MetricsDetail::None);
    assert_eq!((f.tunnels.get(1, 2), f.tunnels.get(1, 3)), (0, 1));
    assert_eq!(f.tunnels.get(0, 2), 0, "not connecting");
    // Nothing went down before it was up; the histograms keep what they saw.
    assert_eq!(f.tunnel_setup.count(), 2);
}
