//! What `l2tpctl show`, `debug` and `create session` make of tunnels that are closing: counted
//! apart by `show system`, and never taken for the tunnel instance whose earlier attempt they
//! were; how the commands name sessions, and what goes with a deleted tunnel.

use std::time::Duration;

use l2tp_config::MetricsDetail;
use l2tp_ctl::{self as ctl, DebugTarget, ErrorKind, Selector};

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

fn create_session(net: &mut Net, tunnel: Selector, session: &str) -> Result<(), ctl::CtlError> {
    let params = [("pseudowire_type", "eth")]
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    let create = Command::CreateSession {
        tunnel,
        name: session.into(),
        params,
    };
    net.command(0, create).map(|_| ())
}

/// The local id of node 0's tunnel that is closing.
fn closing_tid(net: &Net) -> u32 {
    let rows = net.nodes[0].engine.tunnels(net.now);
    rows.iter()
        .find(|t| t.state == ctl::State::Closing)
        .map(|t| t.tid)
        .unwrap_or_else(|| panic!("no tunnel closing: {rows:?}"))
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

#[test]
fn a_name_waiting_to_retry_names_the_instance_not_its_closing_tunnel() {
    let mut net = Net::new(&[&client(), ""], 5);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    // The server closes the tunnel: the client's instance waits to retry, its tunnel closes.
    let server_tid = net.nodes[1].engine.tunnels(net.now)[0].tid;
    let r = net.command(1, Command::DeleteTunnel(Selector::Id(server_tid)));
    assert!(r.is_ok(), "{r:?}");
    let tid = closing_tid(&net);
    let now = net.now;
    let engine = &net.nodes[0].engine;
    let shown = engine.tunnel(now, &name("t")).map(|t| t.info.state);
    assert_eq!(shown, Ok(ctl::State::Idle));
    // Its sessions are its waiting session instances, as `show tunnel t` is the instance.
    let sessions = engine.sessions(now, Some(&name("t"))).unwrap_or_default();
    assert!(
        sessions
            .iter()
            .all(|s| s.state == ctl::State::Idle && s.tid == 0),
        "{sessions:?}"
    );
    let by_id = engine.sessions(now, Some(&Selector::Id(tid)));
    assert!(by_id.is_ok(), "the closing tunnel by its id: {by_id:?}");

    // `debug` by name is for the instance's next attempt, not for the closing tunnel.
    let on = Command::Debug(DebugTarget::Tunnel { tunnel: name("t") }, true);
    let r = net.command(0, on);
    let Ok(ctl::Response::Done(msg)) = &r else {
        panic!("{r:?}")
    };
    assert!(msg.contains("from its next attempt"), "{msg}");
    let closing = net.nodes[0].engine.tunnel(net.now, &Selector::Id(tid));
    assert_eq!(closing.map(|t| t.debug), Ok(false));

    // No session is created in the closing tunnel; the error says so, and names the way.
    let err = create_session(&mut net, Selector::Id(tid), "x").err();
    let err = err.unwrap_or_else(|| panic!("a session created in closing tunnel {tid}"));
    assert_eq!(err.kind, ErrorKind::Refused);
    assert!(err.message.contains("is closing"), "{}", err.message);
    assert!(err.message.contains("\"t\""), "{}", err.message);
    // By the instance's name it waits for the next attempt.
    let r = create_session(&mut net, name("t"), "x");
    assert!(r.is_ok(), "{r:?}");
    // Listed with the instance, not with its closing tunnel, which never has it.
    let now = net.now;
    let engine = &net.nodes[0].engine;
    let of = |sel: Selector| {
        let rows = engine.sessions(now, Some(&sel)).unwrap_or_default();
        rows.iter()
            .filter_map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        of(name("t")).contains(&"x".to_owned()),
        "{:?}",
        of(name("t"))
    );
    assert!(
        !of(Selector::Id(tid)).contains(&"x".to_owned()),
        "{:?}",
        of(Selector::Id(tid))
    );
    let x = engine.session(now, &Selector::Id(tid), &name("x"));
    assert!(x.is_err(), "in closing tunnel {tid}: {x:?}");
}

#[test]
fn create_session_in_a_closing_tunnel_of_a_removed_block_says_it_is_closing() {
    let mut net = Net::new(&[&client(), ""], 7);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    net.reload(0, CLIENT);
    closing_tid(&net);
    let err = create_session(&mut net, name("t"), "x").err();
    let err = err.unwrap_or_else(|| panic!("a session created in closing tunnel \"t\""));
    assert_eq!(err.kind, ErrorKind::Refused);
    assert!(
        err.message.contains("\"t\" is closing") || err.message.contains("t is closing"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("give it as"), "{}", err.message);
}

#[test]
fn deleting_a_closing_earlier_attempt_by_id_leaves_its_instance_retrying() {
    let server = "system {\n    deny_remote_tunnel_creates true\n}\n";
    let mut net = Net::new(&[&client(), server], 9);
    net.run_until(Duration::from_secs(5), "refused", |n| {
        n.nodes[0]
            .engine
            .tunnels(n.now)
            .iter()
            .any(|t| t.state == ctl::State::Closing)
    });
    let tid = closing_tid(&net);
    let r = net.command(0, Command::DeleteTunnel(Selector::Id(tid)));
    let Ok(ctl::Response::Done(msg)) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(msg, &format!("tunnel {tid} is closing already"));
    let t = net.nodes[0].engine.tunnel(net.now, &name("t"));
    let state = t.map(|t| t.protocol_state);
    assert_ne!(state.as_deref(), Ok("stopped"), "the instance was stopped");
    // It goes on trying: a later attempt is made.
    net.run_until(Duration::from_secs(60), "another attempt", |n| {
        n.nodes[0]
            .engine
            .tunnels(n.now)
            .iter()
            .any(|t| t.tid != tid && t.tid != 0 && t.state != ctl::State::Idle)
    });
}

#[test]
fn a_tunnel_closed_for_being_idle_is_not_shown_as_waiting_to_retry() {
    let c = format!(
        "{CLIENT}tunnel \"t\" {{\n    peer {}\n    version 3\n    idle_timeout 2\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::new(&[&c, ""], 11);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 0));
    let r = create_session(&mut net, name("t"), "x");
    assert!(r.is_ok(), "{r:?}");
    net.run_until(Duration::from_secs(5), "call up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let r = net.command(0, Command::DeleteSession(name("t"), name("x")));
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(120));
    let t = net.nodes[0].engine.tunnel(net.now, &name("t"));
    let t = t.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.info.state, ctl::State::Idle);
    assert_eq!(
        t.protocol_state,
        "closed for being idle: opened again for its next session"
    );
}

/// A tunnel over IP, which has no ports, is shown with its addresses alone, as a static one
/// is, and so are its watchers' events.
#[test]
fn a_tunnel_over_ip_is_shown_without_ports() {
    let file = format!(
        "{CLIENT}tunnel \"t\" {{\n    peer {}\n    version 3\n    encap ip\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::new(&[&file, ""], 41);
    net.run_until(Duration::from_secs(10), "up", |n| {
        n.nodes[0].up().0 == 1 && n.nodes[1].up().0 == 1
    });
    for (node, peer) in [(0, addr(1)), (1, addr(0))] {
        let t = &net.nodes[node].engine.tunnels(net.now)[0];
        assert_eq!(t.encap, ctl::Encap::Ip);
        assert_eq!(t.peer, peer.ip().to_string(), "node {node}");
        assert!(
            !t.local.contains(']') && !t.local.ends_with(":0"),
            "{}",
            t.local
        );
        let up = net.nodes[node]
            .events
            .iter()
            .find(|e| e.event == ctl::EventKind::TunnelUp);
        let up_peer = up.and_then(|e| e.peer.clone());
        assert_eq!(up_peer, Some(peer.ip().to_string()), "node {node}");
    }
    // And the event of its deletion.
    let delete = Command::DeleteTunnel(name("t"));
    net.command(0, delete).unwrap_or_else(|e| panic!("{e:?}"));
    net.run_for(Duration::from_secs(40));
    let deleted = net.nodes[0]
        .events
        .iter()
        .find(|e| e.event == ctl::EventKind::TunnelDeleted);
    let deleted_peer = deleted.and_then(|e| e.peer.clone());
    assert_eq!(deleted_peer, Some(addr(1).ip().to_string()));
}

/// `show session` gives what the data path uses as set up with the peer, and names the
/// settings where that is not what the session's profile says: the LNS assigns an 8-octet
/// cookie and requires sequence numbers, the LAC's profile has neither.
#[test]
fn show_session_gives_what_is_in_use() {
    let lns = "peer profile \"lacs\" {\n    peer_ipaddr 192.0.2.0/24\n    \
               session_profile_name \"seq\"\n}\n\
               session profile \"seq\" {\n    pseudowire_type eth\n    cookie_length 8\n    \
               data_sequencing all\n}\n";
    let mut net = Net::new(&[&client(), lns], 11);
    net.run_until(Duration::from_secs(10), "the session up", |n| {
        n.nodes[0].up().1 == 1 && n.nodes[1].up().1 == 1
    });
    let lac = net.first_session(0);
    let used = lac.in_use.clone().unwrap_or_else(|| panic!("{lac:#?}"));
    assert_eq!(used.pseudowire_type, ctl::PseudowireType::Eth);
    assert_eq!(used.l2spec_type.as_deref(), Some("default"));
    assert_eq!(
        (used.cookie_length_received, used.cookie_length_sent),
        (Some(0), Some(8))
    );
    assert_eq!(
        (used.sequencing_sent, used.sequencing_required),
        (true, false)
    );
    assert_eq!(used.differs, ["data_sequencing"]);
    let lns = net.first_session(1);
    let used = lns.in_use.clone().unwrap_or_else(|| panic!("{lns:#?}"));
    assert_eq!(
        (used.cookie_length_received, used.cookie_length_sent),
        (Some(8), Some(0))
    );
    assert!(used.sequencing_required, "{used:#?}");
    assert_eq!(used.differs, Vec::<String>::new());
}

/// An argument of digits names the tunnel or session with that id, else the one whose name is
/// spelled with them (l2tpctl(1), COMMANDS): a live session named `457` in tunnel `125` is
/// shown, debugged and deleted by that name, as its tunnel is.
#[test]
fn a_session_named_with_digits_is_found_by_its_name() {
    let mut net = Net::new(&[CLIENT, ""], 11);
    super::reload::cli_create(&mut net, "125", &["457"]);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    let (t, s) = (Selector::Id(125), Selector::Id(457));
    let shown = net.nodes[0].engine.session(net.now, &t, &s);
    let shown = shown.unwrap_or_else(|e| panic!("show session 125 457: {e:?}"));
    assert_eq!(shown.info.name.as_deref(), Some("457"));
    assert_eq!(shown.info.state, ctl::State::Up);
    let debug = DebugTarget::Session {
        tunnel: t.clone(),
        session: s.clone(),
    };
    let r = net.command(0, Command::Debug(debug, true));
    assert!(r.is_ok(), "debug session 125 457 on: {r:?}");
    let r = net.command(0, Command::DeleteSession(t, s));
    assert!(r.is_ok(), "delete session 125 457: {r:?}");
}

/// `delete tunnel` of a tunnel made with `l2tpctl` deletes it with all its sessions: those
/// made in it with `l2tpctl` are no longer listed (they could not be named: their tunnel is
/// gone), and a tunnel made again under that name starts with none, its session names free.
#[test]
fn deleting_a_tunnel_made_with_l2tpctl_takes_its_sessions_along() {
    let mut net = Net::new(&[CLIENT, ""], 13);
    super::reload::cli_create(&mut net, "x", &["y"]);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    let r = net.command(0, Command::DeleteTunnel(name("x")));
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(2));
    let rows = net.nodes[0].engine.sessions(net.now, None);
    let rows = rows.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        rows.iter().all(|s| s.name.as_deref() != Some("y")),
        "{rows:?}"
    );
    super::reload::cli_create(&mut net, "x", &[]);
    net.run_until(Duration::from_secs(5), "up again", |n| {
        n.nodes[0].up().0 == 1
    });
    net.run_for(Duration::from_secs(2));
    assert_eq!(
        net.nodes[0].up(),
        (1, 0),
        "a session of the deleted tunnel came back"
    );
    super::reload::cli_session(&mut net, "x", "y");
}
