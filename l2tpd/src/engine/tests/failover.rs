//! A tunnel instance with several peers (`peer A B ...`, or a name with several addresses):
//! an attempt that fails before the tunnel comes up moves on to the next peer after the first
//! back-off step, the back-off grows only once every peer failed, and a tunnel that worked
//! goes back to the same peer first.

use std::net::IpAddr;
use std::time::Duration;

use l2tp_ctl::Selector;
use l2tp_proto::wire::header::Packet;
use l2tp_proto::wire::message::MessageType;

use super::super::Command;
use super::harness::{Net, addr};

/// A server that refuses every tunnel a peer asks for (StopCCN).
const REFUSER: &str = "system {\n    deny_remote_tunnel_creates true\n}\n";
/// An address no node has: what is sent there is never answered.
const SILENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 200));
/// A server that takes every tunnel.
const SERVER: &str = "";

fn lac(peers: &str) -> String {
    format!(
        "session profile \"default\" {{\n    pseudowire_type eth\n}}\n\
         tunnel \"t\" {{\n    peer {peers}\n    version 3\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n}}\n"
    )
}

/// Where node `i` sent each of its SCCRQs (one per attempt, retransmissions left out), and
/// when.
pub(super) fn sccrqs(net: &Net, i: usize) -> Vec<(Duration, IpAddr)> {
    let mut seen = std::collections::HashSet::new();
    net.nodes[i]
        .sent
        .iter()
        .filter(|(_, t)| {
            matches!(Packet::parse(&t.contents, t.encap),
                Ok(Packet::Control { body, .. })
                    if l2tp_proto::wire::avp::message_type(body) == Some(MessageType::Sccrq))
        })
        .filter(|(_, t)| seen.insert(t.tunnel_id))
        .map(|(at, t)| (*at, t.remote.ip()))
        .collect()
}

/// Node 1 closes the LAC's tunnel; the LAC's next attempt goes to node 1 again, which takes
/// it.
fn closed_by_node_1_and_back_to_it(net: &mut Net) {
    let tid = net.nodes[1].engine.tunnels(net.now)[0].tid;
    net.command(1, Command::DeleteTunnel(Selector::Id(tid)))
        .unwrap_or_else(|e| panic!("{e:?}"));
    net.run_until(Duration::from_secs(30), "up again", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    let to: Vec<IpAddr> = sccrqs(net, 0).iter().map(|&(_, ip)| ip).collect();
    assert_eq!(to, [addr(1).ip(), addr(1).ip()]);
}

fn peer_of_t(net: &Net) -> String {
    net.nodes[0]
        .engine
        .tunnel(net.now, &Selector::Name("t".into()))
        .unwrap_or_else(|e| panic!("{e:?}"))
        .info
        .peer
}

#[test]
fn a_refused_tunnel_fails_over_to_the_next_peer_at_once() {
    // Node 1 refuses, node 2 takes the tunnel.
    let c = lac(&format!("{} {}", addr(1).ip(), addr(2).ip()));
    let mut net = Net::new(&[&c, REFUSER, SERVER], 41);
    net.run_until(Duration::from_secs(10), "t and s up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let tries = sccrqs(&net, 0);
    let to: Vec<IpAddr> = tries.iter().map(|&(_, ip)| ip).collect();
    assert_eq!(to, [addr(1).ip(), addr(2).ip()], "{tries:?}");
    // The second peer was tried after the first back-off step, not after a grown one.
    let gap = tries[1].0 - tries[0].0;
    assert!(gap <= Duration::from_millis(1500), "{tries:?}");
    assert_eq!(peer_of_t(&net), addr(2).to_string());
    assert_eq!(net.nodes[2].up(), (1, 1));
    assert_eq!(net.nodes[1].up(), (0, 0));
}

#[test]
fn every_peer_failing_backs_off_per_round() {
    // Both refuse: the attempts alternate, the pauses between rounds grow (1 s, 2 s, 4 s
    // back-off) while the one within a round stays at the first step.
    let c = lac(&format!("{} {}", addr(1).ip(), addr(2).ip()));
    let mut net = Net::new(&[&c, REFUSER, REFUSER], 42);
    net.run_for(Duration::from_secs(12));
    let tries = sccrqs(&net, 0);
    let to: Vec<IpAddr> = tries.iter().map(|&(_, ip)| ip).collect();
    assert!(tries.len() >= 6, "{tries:?}");
    for (k, ip) in to.iter().enumerate() {
        assert_eq!(*ip, addr(1 + k % 2).ip(), "attempt {k}: {tries:?}");
    }
    let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1].0 - w[0].0).collect();
    // Within a round (first to second peer): the first step, 1 s.
    for g in gaps.iter().step_by(2) {
        assert!(*g <= Duration::from_millis(1500), "{gaps:?}");
    }
    // Between rounds: 1 s, then 2 s, then 4 s, less up to a quarter of jitter.
    let between: Vec<Duration> = gaps.iter().skip(1).step_by(2).copied().collect();
    assert!(between.len() >= 2, "{gaps:?}");
    assert!(between[1] >= Duration::from_millis(1400), "{gaps:?}");
    assert!(between[1] > between[0], "{gaps:?}");
}

#[test]
fn a_silent_peer_is_given_up_and_the_next_one_taken() {
    // Node 1 exists nowhere on the wire: its SCCRQ goes unanswered until the control
    // connection gives up; then the name's second address, node 2, is tried.
    let c = lac("lns.test");
    let mut net = Net::unstarted(&[&c, SERVER, SERVER], 43);
    net.dns
        .insert("lns.test".into(), Some(vec![SILENT, addr(2).ip()]));
    let mut net = net.start();
    net.run_until(Duration::from_secs(300), "t and s up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let to: Vec<IpAddr> = sccrqs(&net, 0).iter().map(|&(_, ip)| ip).collect();
    assert_eq!(to, [SILENT, addr(2).ip()]);
    assert_eq!(net.nodes[2].up(), (1, 1));
}

#[test]
fn a_tunnel_that_worked_goes_back_to_its_peer_first() {
    let c = lac(&format!("{} {}", addr(1).ip(), addr(2).ip()));
    let mut net = Net::new(&[&c, SERVER, SERVER], 44);
    net.run_until(Duration::from_secs(10), "up", |n| n.nodes[0].up() == (1, 1));
    assert_eq!(peer_of_t(&net), addr(1).to_string());
    // The server closes the tunnel; the next attempt goes to the same peer, which takes it.
    closed_by_node_1_and_back_to_it(&mut net);
    assert_eq!(net.nodes[2].up(), (0, 0));
}

#[test]
fn adding_a_backup_peer_by_reload_keeps_the_tunnel_and_its_session() {
    let mut net = Net::new(&[&lac(&addr(1).ip().to_string()), SERVER, SERVER], 45);
    net.run_until(Duration::from_secs(10), "up", |n| n.nodes[0].up() == (1, 1));
    let before = net.nodes[0].engine.tunnels(net.now)[0].tid;
    // A backup in front and behind: the tunnel to node 1 stays as it is.
    net.reload(0, &lac(&format!("{} {}", addr(2).ip(), addr(1).ip())));
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert_eq!(net.nodes[0].engine.tunnels(net.now)[0].tid, before);
    assert_eq!(sccrqs(&net, 0).len(), 1, "no new attempt");
    assert_eq!(net.nodes[2].up(), (0, 0));
    // It fails: the next attempt goes to the peer it had (node 1), first.
    closed_by_node_1_and_back_to_it(&mut net);
    // Taking its peer out of the list moves it to the one left.
    net.reload(0, &lac(&addr(2).ip().to_string()));
    net.run_until(Duration::from_secs(30), "moved", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[2].up() == (1, 1)
    });
    assert_eq!(peer_of_t(&net), addr(2).to_string());
}

/// While a refused instance waits to try again, `show tunnel NAME` gives the instance (waiting
/// to retry, and why its last attempt ended), not the refused tunnel still closing under its
/// name.
#[test]
fn show_tunnel_gives_the_waiting_instance_not_its_closing_attempt() {
    let mut net = Net::new(&[&lac(&addr(1).ip().to_string()), REFUSER], 7);
    net.run_for(Duration::from_millis(500));
    let closing = net.nodes[0].engine.tunnels(net.now);
    assert!(
        closing.iter().any(|t| t.state == l2tp_ctl::State::Closing),
        "{closing:?}"
    );
    let t = net.nodes[0]
        .engine
        .tunnel(net.now, &Selector::Name("t".into()))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.protocol_state, "waiting to retry");
    assert_eq!(t.info.state, l2tp_ctl::State::Idle);
    assert_eq!(t.last_result.map(|r| r.result), Some(4));
    // Deleting it deletes the instance, by name, not the closing tunnel; once more, and it
    // is stopped already.
    let r = net.command(0, Command::DeleteTunnel(Selector::Name("t".into())));
    assert!(
        matches!(&r, Ok(l2tp_ctl::Response::Done(text)) if text == "tunnel \"t\" deleted"),
        "{r:?}"
    );
    let r = net.command(0, Command::DeleteTunnel(Selector::Name("t".into())));
    assert!(
        matches!(&r, Err(e) if e.message.contains("is stopped")),
        "{r:?}"
    );
}

/// A tunnel instance whose peer does not answer: while its next attempt is connecting,
/// `show tunnel NAME` gives why the last one ended, not nothing (each attempt is a new tunnel
/// with no result of its own yet).
#[test]
fn a_connecting_attempt_shows_why_the_last_one_ended() {
    let c = format!("tunnel \"t\" {{\n    peer {SILENT}\n    version 3\n    max_retries 1\n}}\n");
    let mut net = Net::new(&[&c, SERVER], 9);
    net.run_until(Duration::from_secs(30), "a second attempt", |n| {
        sccrqs(n, 0).len() >= 2
    });
    let t = net.nodes[0]
        .engine
        .tunnel(net.now, &Selector::Name("t".into()))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.info.state, l2tp_ctl::State::Connecting);
    assert_eq!(t.last_result.map(|r| r.result), Some(7));
}
