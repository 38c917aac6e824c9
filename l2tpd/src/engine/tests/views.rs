//! What `l2tpctl show` makes of tunnels that are closing: counted apart by `show system`.

use std::time::Duration;

use l2tp_config::MetricsDetail;
use l2tp_ctl::{self as ctl, Selector};

use super::super::Command;
use super::harness::{Net, addr};

const CLIENT: &str = "session profile \"default\" {\n    pseudowire_type eth\n}\n";

fn client() -> String {
    format!(
        "{CLIENT}tunnel \"t\" {{\n    peer {}\n    version 3\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n}}\n",
        addr(1).ip()
    )
}

fn name(n: &str) -> Selector {
    Selector::Name(n.into())
}

#[test]
fn show_system_counts_the_closing_tunnels_and_sessions_apart_as_the_metrics_do() {
    let mut net = Net::new(&[&client(), ""], 3);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    let r = net.command(0, Command::DeleteTunnel(name("t")));
    assert!(r.is_ok(), "{r:?}");
    let engine = &net.nodes[0].engine;
    let c = engine.counts();
    assert_eq!((c.tunnels, c.tunnels_up, c.tunnels_closing), (1, 0, 1));
    let f = engine.figures(MetricsDetail::None);
    // STATES: connecting, up, closing.
    assert_eq!(u64::from(c.tunnels_closing), f.tunnels.get(2, 3));
    assert_eq!(u64::from(c.tunnels), f.tunnels.total());
    assert_eq!(u64::from(c.sessions_closing), f.sessions.get(2, 3));
    assert_eq!(u64::from(c.sessions), f.sessions.total());
    let listed = engine.tunnels(net.now);
    let closing = listed.iter().filter(|t| t.state == ctl::State::Closing);
    assert_eq!(closing.count(), c.tunnels_closing as usize, "{listed:?}");
    // Once its hold time is over, it is gone from every count.
    net.run_for(Duration::from_secs(120));
    let c = net.nodes[0].engine.counts();
    assert_eq!(
        (c.tunnels, c.tunnels_closing, c.sessions_closing),
        (0, 0, 0)
    );
}
