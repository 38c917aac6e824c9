//! A daemon that stops closes its tunnels with StopCCN result 6, "requester is being shut
//! down" (RFC 2661 §4.4.2, RFC 3931 §5.4.2), so that the peer's log and `last_result` say why
//! rather than "general request to clear".

use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, addr};

#[test]
fn a_stopping_daemon_tells_its_peers_it_is_shutting_down() {
    for version in [2, 3] {
        let lac = format!(
            "tunnel \"t\" {{\n    peer {}\n    version {version}\n}}\n",
            addr(1).ip()
        );
        let server = "";
        let mut net = Net::new(&[&lac, server], 3);
        net.run_until(Duration::from_secs(5), "both up", |n| {
            n.nodes[0].up() == (1, 0) && n.nodes[1].up() == (1, 0)
        });
        let now = net.now;
        net.nodes[1].engine.begin_shutdown(now);
        net.run_until(Duration::from_secs(5), "the LAC's tunnel down", |n| {
            n.nodes[0].saw(EventKind::TunnelDown) == 1
        });
        let down = net.nodes[0].first_tunnel_down();
        assert_eq!(down.map(|r| r.result), Some(6), "version {version}");
    }
}
