//! Scenarios of the daemon's logic: admission, reload, instance back-off, tie-break adoption
//! and static tunnels, each between engines on the virtual network of [`super::harness`].

use std::time::Duration;

use l2tp_ctl::{self as ctl, EventKind, Selector};
use l2tp_proto::wire::header::Packet;
use l2tp_proto::wire::message::MessageType;

use super::super::{Command, EngineEvent};
use super::harness::{Net, addr};
use crate::dataplane::DataplaneRequest;
use crate::dataplane::SocketChange;

const SERVER: &str = "";

fn client(tunnels: &str) -> String {
    let mut text = String::from("session profile \"default\" {\n    pseudowire_type eth\n}\n");
    text.push_str(tunnels);
    text
}

fn tunnel(name: &str, extra: &str) -> String {
    format!(
        "tunnel \"{name}\" {{\n    peer {}\n    version 3\n{extra}}}\n",
        addr(1).ip()
    )
}

fn session(name: &str, tunnel: &str, extra: &str) -> String {
    format!("session \"{name}\" {{\n    tunnel \"{tunnel}\"\n    pseudowire_type eth\n{extra}}}\n")
}

/// The times at which node `i` first sent each of its SCCRQs (one per attempt).
fn sccrq_times(net: &Net, i: usize) -> Vec<Duration> {
    super::failover::sccrqs(net, i)
        .into_iter()
        .map(|(at, _)| at)
        .collect()
}

#[test]
fn a_config_tunnel_opens_with_its_own_socket_and_shows_as_connecting() {
    use std::sync::Arc;
    let c = Arc::new(super::harness::parse(&format!(
        "{}{}",
        tunnel("t", ""),
        session("s", "t", "")
    )));
    let now = std::time::Instant::now();
    let facts = super::super::HostFacts {
        listen: vec![addr(0)],
        ip_listen: Vec::new(),
        ip_tunnel_sockets: false,
        control_socket: "/tmp/x.sock".into(),
        host_name: "sys-host".into(),
        router_id: 1,
        native_ppp: false,
    };
    let rng = Box::new(l2tp_proto::DeterministicRng::new(1));
    let mut e = super::super::Engine::with_rng(c.clone(), facts, now, rng);
    e.apply_config(now, c, None);
    let Some(EngineEvent::Socket(SocketChange::Open(sock))) = e.poll_event() else {
        panic!("no socket request");
    };
    assert_eq!(sock.local, addr(0));
    assert_eq!(sock.remote, addr(1));
    let Some(t) = e.poll_transmit() else {
        panic!("no SCCRQ");
    };
    assert_eq!(t.tunnel_id, sock.tid);
    let list = e.tunnels(now);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].state, ctl::State::Connecting);
    assert_eq!(list[0].created_by, ctl::CreatedBy::Config);
    assert_eq!(list[0].name.as_deref(), Some("t"));
    let sessions = e.sessions(now, None).unwrap_or_default();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].name.as_deref(), Some("s"));
    // A graceful stop of a tunnel that never heard from its peer has nothing to wait for.
    e.begin_shutdown(now);
    assert!(e.is_idle());
}

#[test]
fn a_client_and_a_server_bring_up_a_tunnel_and_a_session() {
    let c = client(&format!("{}{}", tunnel("t", ""), session("s", "t", "")));
    let mut net = Net::new(&[&c, SERVER], 1);
    net.run_until(Duration::from_secs(5), "both up", |n| {
        n.nodes[0].up() == (1, 1) && n.nodes[1].up() == (1, 1)
    });
    assert!(
        net.elapsed() < Duration::from_secs(1),
        "{:?}",
        net.elapsed()
    );
    // The data plane was asked for both, on both ends.
    for n in &net.nodes {
        assert!(
            n.requests
                .iter()
                .any(|r| matches!(r, DataplaneRequest::InstallTunnel(_)))
        );
        assert!(
            n.requests
                .iter()
                .any(|r| matches!(r, DataplaneRequest::InstallSession(_)))
        );
    }
    let server_tunnel = &net.nodes[1].engine.tunnels(net.now)[0];
    assert_eq!(server_tunnel.created_by, ctl::CreatedBy::Net);
    assert_eq!(server_tunnel.peer, addr(0).to_string());
}

#[test]
fn lac_lns_refuses_the_calls_a_peer_may_not_place() {
    let c = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n{}",
        addr(1).ip(),
        "session \"s\" {\n    tunnel \"t\"\n    pseudowire_type ppp\n}\n"
    );
    // The server takes this peer for an LNS only: it may not place incoming calls as a LAC.
    let server = format!(
        "peer profile \"p\" {{\n    peer_ipaddr {}\n    lac_lns lns\n}}\n",
        addr(0).ip()
    );
    let mut net = Net::new(&[&c, &server], 3);
    net.run_for(Duration::from_secs(3));
    assert_eq!(net.nodes[0].up().0, 1, "the tunnel is accepted");
    let stats = net.nodes[1].engine.stats();
    assert!(
        stats.sessions_refused.get("lac_lns").copied().unwrap_or(0) >= 1,
        "{:?}",
        stats.sessions_refused
    );
    let cdn = net.nodes[0]
        .events
        .iter()
        .find(|e| e.event == EventKind::SessionDown)
        .and_then(|e| e.result.clone());
    let cdn = cdn.unwrap_or_else(|| panic!("no CDN: {:?}", net.nodes[0].events));
    // RFC 2661 §4.4.2: result 5, permanent lack of facilities.
    assert_eq!(cdn.result, 5);
    assert_eq!(
        cdn.message.as_deref(),
        Some("the peer may not act as a LAC (lac_lns)")
    );
}

#[test]
fn a_refused_instance_retries_with_doubling_back_off_up_to_the_cap() {
    let c = format!(
        "system {{\n    tunnel_persist_pend_timeout 8\n}}\n{}",
        tunnel("t", "")
    );
    let server = "system {\n    deny_remote_tunnel_creates true\n}\n";
    let mut net = Net::new(&[&c, server], 5);
    net.run_for(Duration::from_secs(40));
    let times = sccrq_times(&net, 0);
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 5, "{times:?}");
    // Each wait is the back-off less up to a quarter of it (jitter).
    for (gap, backoff) in gaps.iter().zip([1, 2, 4, 8, 8]) {
        let b = Duration::from_secs(backoff);
        assert!(*gap <= b && *gap >= b.mul_f64(0.75), "{gaps:?}");
    }
    assert_ne!(gaps[3], gaps[4], "jitter: {gaps:?}");
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats
            .tunnels_refused
            .get("deny_remote_tunnel_creates")
            .copied(),
        Some(times.len() as u64)
    );
    // While it waits, the instance shows as idle.
    let t = net.nodes[0].engine.tunnels(net.now);
    assert!(t.iter().any(|t| t.state == ctl::State::Idle), "{t:?}");
}

#[test]
fn a_reload_recreates_only_what_changed() {
    let t = tunnel("t", "");
    let before = client(&format!(
        "{t}{}{}",
        session("a", "t", ""),
        session("b", "t", "")
    ));
    let mut net = Net::new(&[&before, SERVER], 6);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    let sessions = |net: &Net| -> Vec<(String, u32)> {
        let mut v: Vec<(String, u32)> = net.nodes[0]
            .engine
            .sessions(net.now, None)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.state == ctl::State::Up)
            .map(|s| (s.name.unwrap_or_default(), s.sid))
            .collect();
        v.sort();
        v
    };
    let tid = net.nodes[0].engine.tunnels(net.now)[0].tid;
    let old = sessions(&net);
    // Session b changes; a and the tunnel do not.
    let after = client(&format!(
        "{t}{}{}",
        session("a", "t", ""),
        session("b", "t", "    remote_end_id \"far\"\n")
    ));
    net.reload(0, &after);
    net.run_until(Duration::from_secs(5), "b again", |n| {
        n.nodes[0].up() == (1, 2)
    });
    let new = sessions(&net);
    assert_eq!(new[0], old[0], "session a untouched");
    assert_ne!(new[1].1, old[1].1, "session b made again");
    assert_eq!(net.nodes[0].engine.tunnels(net.now)[0].tid, tid);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 1, "one CDN");
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    // The tunnel removed: one StopCCN, and its sessions go with it.
    net.reload(0, &client(""));
    net.run_for(Duration::from_secs(2));
    assert_eq!(net.nodes[1].engine.counts().tunnels_up, 0);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 1);
}

#[test]
fn two_ends_configured_alike_meet_on_one_tunnel_and_one_session() {
    let end = |peer: usize| {
        format!(
            "tunnel \"t\" {{\n    peer {}\n    version 3\n}}\n\
             session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type eth\n    \
             remote_end_id \"circuit-1\"\n}}\n",
            addr(peer).ip()
        )
    };
    let (a, b) = (end(1), end(0));
    let mut net = Net::new(&[&a, &b], 7);
    net.run_until(
        Duration::from_secs(20),
        "one tunnel and one session up",
        |n| n.nodes.iter().all(|n| n.up() == (1, 1)),
    );
    // Whatever lost the ties has gone after its StopCCN and CDN lingered.
    net.run_for(Duration::from_secs(60));
    for n in &net.nodes {
        let c = n.engine.counts();
        assert_eq!(
            (c.tunnels, c.tunnels_up, c.sessions, c.sessions_up),
            (1, 1, 1, 1)
        );
    }
    // Both ends' instances own what is up.
    for n in &net.nodes {
        let t = &n.engine.tunnels(net.now)[0];
        assert_eq!(t.name.as_deref(), Some("t"));
        let s = &n.engine.sessions(net.now, None).unwrap_or_default()[0];
        assert_eq!(s.name.as_deref(), Some("s"));
    }
}

/// A static tunnel with one static Ethernet session whose block ends with `extra`.
fn static_pair(extra: &str) -> String {
    format!(
        "tunnel \"st\" {{\n    version 3\n    peer {}\n    tunnel_id 100\n    \
         peer_tunnel_id 200\n}}\n\
         session \"ss\" {{\n    tunnel \"st\"\n    session_id 1000\n    \
         peer_session_id 2000\n    pseudowire_type eth\n{extra}}}\n",
        addr(1).ip()
    )
}

/// The static pair up, then reloaded with `new`: the data-plane requests of the reload, one
/// second on, with the pair up again.
fn static_reload(new: &str) -> Vec<DataplaneRequest> {
    let mut net = Net::new(&[&static_pair("")], 8);
    assert_eq!(net.nodes[0].up(), (1, 1));
    let before = net.nodes[0].requests.len();
    net.reload(0, new);
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert!(net.nodes[0].sent.is_empty(), "no control connection");
    net.nodes[0].requests.split_off(before)
}

#[test]
fn l2tpctl_refuses_a_static_session_whose_id_is_in_use_and_shows_static_state() {
    let mut net = Net::new(&[&static_pair("")], 8);
    let now = net.now;
    let engine = &net.nodes[0].engine;
    let t = engine.tunnel(now, &Selector::Name("st".into()));
    assert_eq!(t.map(|t| t.protocol_state).ok().as_deref(), Some("static"));
    let s = engine.session(now, &Selector::Id(100), &Selector::Id(1000));
    assert_eq!(s.map(|s| s.protocol_state).ok().as_deref(), Some("static"));
    let peer = addr(1).ip().to_string();
    let created = net.command(
        0,
        Command::CreateTunnel {
            name: "c".into(),
            params: [
                ("peer", peer.as_str()),
                ("tunnel_id", "101"),
                ("peer_tunnel_id", "201"),
            ]
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect(),
        },
    );
    assert!(created.is_ok(), "{created:?}");
    let create = |net: &mut Net, tunnel: &str, name: &str, sid: &str| {
        net.command(
            0,
            Command::CreateSession {
                tunnel: Selector::Name(tunnel.into()),
                name: name.into(),
                params: [
                    ("session_id", sid),
                    ("peer_session_id", "3000"),
                    ("pseudowire_type", "eth"),
                ]
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .collect(),
            },
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    // Session id 1000 is the config's static session "ss"'s (the config check says so);
    // 2000 one made with l2tpctl in tunnel "c". L2TPv3 ids name one session of the host, so
    // neither may be used again, in any tunnel; the answer says so, and no session is made.
    let err = create(&mut net, "c", "c-1", "1000")
        .err()
        .unwrap_or_default();
    assert!(err.contains("session id 1000 is used by two"), "{err}");
    assert_eq!(create(&mut net, "c", "c-2", "2000"), Ok(()));
    for tunnel in ["st", "c"] {
        let err = create(&mut net, tunnel, "again", "2000")
            .err()
            .unwrap_or_default();
        assert!(err.contains("session_id 2000 is in use"), "{tunnel}: {err}");
    }
    assert_eq!(net.nodes[0].up(), (2, 2));
}

#[test]
fn a_reload_that_changes_a_static_session_makes_it_again() {
    let after = &static_reload(&static_pair("    cookie hex:0a0b0c0d\n"))[..];
    let [
        DataplaneRequest::RemoveSession {
            tid: 100,
            sid: 1000,
        },
        DataplaneRequest::InstallSession(s),
    ] = after
    else {
        panic!("{after:?}");
    };
    assert_eq!(s.peer_cookie.as_slice(), &[0x0a, 0x0b, 0x0c, 0x0d][..]);
}

#[test]
fn a_speed_only_reload_keeps_a_static_session() {
    let after = static_reload(&static_pair("    tx_connect_speed 30000000\n"));
    // The data plane was not touched: the session was neither removed nor installed again.
    assert!(after.is_empty(), "{after:?}");
}

#[test]
fn static_tunnels_come_up_at_once_and_go_with_a_reload() {
    let text = format!(
        "tunnel \"st\" {{\n    version 3\n    peer {}\n    tunnel_id 100\n    \
         peer_tunnel_id 200\n}}\n\
         session \"ss\" {{\n    tunnel \"st\"\n    session_id 1000\n    peer_session_id 2000\n    \
         pseudowire_type eth\n    cookie hex:0a0b0c0d\n    peer_cookie hex:1a1b1c1d\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::new(&[&text], 8);
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert!(net.nodes[0].sent.is_empty(), "no control connection");
    let installed: Vec<&DataplaneRequest> = net.nodes[0].requests.iter().collect();
    let [
        DataplaneRequest::InstallTunnel(t),
        DataplaneRequest::InstallSession(s),
    ] = &installed[..]
    else {
        panic!("{installed:?}");
    };
    assert_eq!((t.tid, t.peer_tid), (100, 200));
    assert_eq!((s.sid, s.peer_sid), (1000, 2000));
    // We send the peer's cookie and expect ours.
    assert_eq!(
        (s.cookie.as_slice(), s.peer_cookie.as_slice()),
        (&[0x1a, 0x1b, 0x1c, 0x1d][..], &[0x0a, 0x0b, 0x0c, 0x0d][..])
    );
    let info = &net.nodes[0].engine.tunnels(net.now)[0];
    assert_eq!(info.state, ctl::State::Up);
    assert_eq!(info.peer, addr(1).to_string());
    // A control message for the static tunnel's id is discarded as such, not as one for an
    // unknown tunnel.
    let hello = l2tp_proto::wire::Message::new(MessageType::Hello);
    let header = l2tp_proto::wire::header::ControlHeader {
        version: l2tp_proto::wire::header::Version::V3,
        tunnel_id: 100,
        session_id: 0,
        ns: 0,
        nr: 0,
    };
    let udp = l2tp_proto::wire::header::Encapsulation::Udp;
    let bytes = hello.encode(&header, udp, None).unwrap_or_default();
    let now = net.now;
    net.nodes[0]
        .engine
        .handle_packet(now, (addr(0), addr(1)), udp, Packet::parse(&bytes, udp));
    let stats = net.nodes[0].engine.stats();
    assert_eq!(stats.malformed.get("static_tunnel"), Some(&1));
    assert_eq!(stats.malformed.get("unknown_tunnel"), Some(&0));
    // l2tpctl deletes the session at once.
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("st".into()), Selector::Id(1000)),
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(net.nodes[0].up(), (1, 0));
    assert!(matches!(
        net.nodes[0].requests.last(),
        Some(DataplaneRequest::RemoveSession {
            tid: 100,
            sid: 1000
        })
    ));
    // A reload without the tunnel removes it.
    net.reload(0, "");
    assert_eq!(net.nodes[0].engine.counts().tunnels, 0);
    assert!(matches!(
        net.nodes[0].requests.last(),
        Some(DataplaneRequest::RemoveTunnel { tid: 100 })
    ));
    assert_eq!(net.nodes[0].saw(EventKind::TunnelDeleted), 1);
    assert_eq!(net.nodes[0].saw(EventKind::SessionDeleted), 1);
}

#[test]
fn sessions_survive_loss_and_counts_stay_in_step() {
    let c = client(&format!(
        "{}{}{}",
        tunnel("t", ""),
        session("a", "t", ""),
        session("b", "t", "")
    ));
    let mut net = Net::new(&[&c, SERVER], 9).with_loss(200_000);
    net.run_until(Duration::from_secs(120), "up under 20 % loss", |n| {
        n.nodes[0].up() == (1, 2) && n.nodes[1].up() == (1, 2)
    });
    // The counts the registry keeps agree with the records.
    for n in &net.nodes {
        let c = n.engine.counts();
        let up = n
            .engine
            .sessions(net.now, None)
            .unwrap_or_default()
            .iter()
            .filter(|s| s.state == ctl::State::Up)
            .count();
        assert_eq!(c.sessions_up as usize, up);
    }
}

#[test]
fn uptime_counts_from_when_a_tunnel_and_session_came_up() {
    let c = client(&format!("{}{}", tunnel("t", ""), session("s", "t", "")));
    let mut net = Net::unstarted(&[&c, SERVER], 10);
    // The peer is unreachable for a while: the tunnel and its session wait, connecting.
    net.blackhole = true;
    let mut net = net.start();
    net.run_for(Duration::from_secs(5));
    let t = &net.nodes[0].engine.tunnels(net.now)[0];
    assert_eq!((t.state, t.uptime_s), (ctl::State::Connecting, 0));
    net.blackhole = false;
    net.run_until(Duration::from_secs(30), "up", |n| n.nodes[0].up() == (1, 1));
    let came_up = net.elapsed();
    net.run_for(Duration::from_secs(4));
    let expected = (net.elapsed() - came_up).as_secs();
    let t = &net.nodes[0].engine.tunnels(net.now)[0];
    assert_eq!(
        t.uptime_s,
        expected,
        "not from its creation, {:?} ago",
        net.elapsed()
    );
    let s = &net.nodes[0]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default()[0];
    assert_eq!(s.uptime_s, expected);
    // Closing: still counted from when it came up, not shown as 00:00:00.
    let r = net.command(0, Command::DeleteTunnel(Selector::Name("t".into())));
    assert!(r.is_ok(), "{r:?}");
    let t = &net.nodes[0].engine.tunnels(net.now)[0];
    assert_eq!((t.state, t.uptime_s), (ctl::State::Closing, expected));
}

#[test]
fn a_client_on_the_unspecified_address_shows_the_address_in_use() {
    let c = client(&tunnel("t", ""));
    let mut net = Net::unstarted(&[&c, SERVER], 16)
        .listening_on_any(0, 16)
        .start();
    net.run_until(Duration::from_secs(30), "up", |n| n.nodes[0].up().0 == 1);
    let t = &net.nodes[0].engine.tunnels(net.now)[0];
    // Not the configured 0.0.0.0:1701: the address the server's answers arrive on.
    assert_eq!(t.local, addr(0).to_string());
}

#[test]
fn a_peer_that_accepts_and_drops_at_once_meets_a_growing_back_off() {
    // The server refuses the client's call and closes the tunnel, empty, one second later.
    let c = format!(
        "system {{\n    tunnel_persist_pend_timeout 16\n}}\n\
         tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n",
        addr(1).ip()
    );
    let server = format!(
        "peer profile \"p\" {{\n    peer_ipaddr {}\n    lac_lns lns\n    \
         tunnel_profile_name \"idle\"\n}}\ntunnel profile \"idle\" {{\n    idle_timeout 1\n}}\n",
        addr(0).ip()
    );
    let mut net = Net::new(&[&c, &server], 11);
    net.run_for(Duration::from_secs(60));
    let times = sccrq_times(&net, 0);
    // Each attempt lives a second or two; the waits between attempts grow towards the cap
    // (16 s less jitter), where without back-off an attempt would follow every 2 s or so.
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    assert!(gaps.len() >= 4, "{times:?}");
    assert!(
        gaps.windows(2).take(3).all(|w| w[1] > w[0] * 1.3),
        "{gaps:?}"
    );
    assert!(gaps.last().is_some_and(|g| *g >= 12.0), "{gaps:?}");
    assert!(times.len() <= 8, "{times:?}");
}

#[test]
fn tunnels_from_one_peer_address_and_port_are_shown_as_sharing_it() {
    // Two tunnels from 192.0.2.1:1701, as two clients behind one NAT look to a server.
    let once = "    persist false\n";
    let c = client(&format!("{}{}", tunnel("t1", once), tunnel("t2", once)));
    let mut net = Net::new(&[&c, SERVER], 12);
    net.run_until(Duration::from_secs(5), "both up", |n| {
        n.nodes[1].up().0 == 2
    });
    let tunnels = net.nodes[1].engine.tunnels(net.now);
    let (a, b) = (&tunnels[0], &tunnels[1]);
    assert_eq!(a.peer, b.peer);
    assert_eq!(
        (a.same_peer.as_slice(), b.same_peer.as_slice()),
        (&[b.tid][..], &[a.tid][..])
    );
    // On the wire of the control protocol.
    let json = serde_json::to_value(a).unwrap_or_default();
    assert_eq!(json["same_peer"], serde_json::json!([b.tid]));
    // One goes: the other no longer shares, from the moment it is closing (it lingers for
    // its StopCCN's retransmissions, but has no traffic of its own any more).
    let r = net.command(1, Command::DeleteTunnel(Selector::Id(a.tid)));
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(1));
    let tunnels = net.nodes[1].engine.tunnels(net.now);
    assert_eq!(tunnels.len(), 2, "{tunnels:?}");
    assert!(
        tunnels.iter().all(|t| t.same_peer.is_empty()),
        "{tunnels:?}"
    );
    net.run_for(Duration::from_secs(40));
    let tunnels = net.nodes[1].engine.tunnels(net.now);
    assert_eq!(tunnels.len(), 1, "{tunnels:?}");
    assert!(tunnels[0].same_peer.is_empty(), "{tunnels:?}");
}

#[test]
fn what_a_peer_tells_of_a_call_reaches_show_scripts_and_pppd() {
    let c = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 2\n    host_name \"lac-7\"\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n    \
         calling_number \"5551234\"\n    called_number \"100\"\n    sub_address \"7\"\n}}\n",
        addr(1).ip()
    );
    // pppd runs the PPP (use_pppd): it gets the call's facts.
    let server_config = "pseudowire profile \"default\" {\n    use_pppd true\n}\n";
    let mut net = Net::new(&[&c, server_config], 13);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[1].up() == (1, 1));
    let server = &net.nodes[1];
    let s = &server.engine.sessions(net.now, None).unwrap_or_default()[0];
    let d = server
        .engine
        .session(net.now, &Selector::Id(s.tid), &Selector::Id(s.sid))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(d.call.calling_number.as_deref(), Some("5551234"));
    assert_eq!(d.call.called_number.as_deref(), Some("100"));
    assert_eq!(d.call.sub_address.as_deref(), Some("7"));
    assert_eq!(d.call.peer_host_name.as_deref(), Some("lac-7"));
    // The session-up script's environment.
    let up = server
        .scripts
        .iter()
        .find(|e| e.kind == EventKind::SessionUp)
        .unwrap_or_else(|| panic!("no session-up script"));
    for (k, v) in [
        ("CALLING_NUMBER", "5551234"),
        ("CALLED_NUMBER", "100"),
        ("SUB_ADDRESS", "7"),
        ("PEER_HOST_NAME", "lac-7"),
    ] {
        assert_eq!(up.var(k), Some(v), "{k}: {:?}", up.env);
    }
    let tunnel_up = server
        .scripts
        .iter()
        .find(|e| e.kind == EventKind::TunnelUp)
        .unwrap_or_else(|| panic!("no tunnel-up script"));
    assert_eq!(tunnel_up.var("PEER_HOST_NAME"), Some("lac-7"));
    // pppd gets the Calling Number and the peer's address.
    let ppp = server.requests.iter().find_map(|r| match r {
        DataplaneRequest::InstallSession(s) => s.ppp.clone(),
        _ => None,
    });
    let Some(crate::dataplane::PppSpec::Pppd(ppp)) = ppp else {
        panic!("no pppd session installed");
    };
    assert_eq!(ppp.remote_number.as_deref(), Some("5551234"));
    assert_eq!(ppp.ipparam, Some(addr(0).ip().to_string()));
    // And the MRU and MTU that fit L2TPv2 over UDP and IPv4 (1500 - 20 - 8 - 12 - 4).
    assert_eq!(ppp.sizes, Some((1456, 1456)));
}

#[test]
fn a_peer_name_that_does_not_resolve_stalls_nothing_else() {
    let c = format!(
        "{}tunnel \"slow\" {{\n    peer lns.test\n    version 3\n}}\n",
        tunnel("fast", "")
    );
    let mut net = Net::unstarted(&[&c, SERVER], 14);
    // The resolver does not answer for lns.test (yet).
    net.dns.insert("lns.test".into(), None);
    let mut net = net.start();
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.nodes[0].up().0, 1, "the tunnel with an address is up");
    let slow = net.nodes[0]
        .engine
        .tunnel(net.now, &Selector::Name("slow".into()))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(slow.protocol_state, "resolving its peer's name");
    assert_eq!(slow.info.state, ctl::State::Idle);
    // The answer comes: the tunnel opens to that address.
    net.dns.insert("lns.test".into(), Some(vec![addr(1).ip()]));
    net.run_until(Duration::from_secs(5), "slow up", |n| {
        n.nodes[0].up().0 == 2
    });
}

#[test]
fn a_peer_name_that_fails_to_resolve_is_tried_again_with_back_off() {
    let c = "tunnel \"t\" {\n    peer nowhere.test\n    version 3\n}\n";
    let mut net = Net::new(&[c, SERVER], 15);
    net.run_for(Duration::from_secs(10));
    // Asked for at 0, then after about 1, 2 and 4 s of back-off.
    let asked = net.nodes[0].resolves;
    assert!((3..=5).contains(&asked), "{asked}");
    let t = net.nodes[0]
        .engine
        .tunnel(net.now, &Selector::Name("t".into()))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.protocol_state, "waiting to retry");
}

#[test]
fn listings_come_in_bounded_pages_that_add_up_to_the_whole() {
    let mut sessions = String::new();
    for i in 0..7 {
        sessions.push_str(&session(&format!("s{i}"), "t", ""));
    }
    let c = client(&format!("{}{}{sessions}", tunnel("t", ""), tunnel("u", "")));
    let mut net = Net::new(&[&c, SERVER], 16);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[1].up() == (2, 7));
    let server = &net.nodes[1].engine;
    // Sessions, three looked at per page.
    let mut from = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = server
            .sessions_page(net.now, (None, None), from.as_ref(), 3)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(page.items.len() <= 3);
        pages += 1;
        seen.extend(page.items.iter().map(|s| s.sid));
        match page.next {
            Some(n) => from = Some(n),
            None => break,
        }
    }
    let mut all: Vec<u32> = server
        .sessions(net.now, None)
        .unwrap_or_default()
        .iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7, "each session exactly once");
    seen.sort_unstable();
    all.sort_unstable();
    assert_eq!(seen, all);
    // Filters: a state nothing is in.
    let none = server
        .sessions_page(net.now, (None, Some(ctl::State::Closing)), None, 100)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(none.items.is_empty() && none.next.is_none());
    // Tunnels of the client, records then idle instances: one page each of one.
    let never = "tunnel \"v\" {\n    peer never.test\n    version 3\n}\n";
    let waits = session("w", "v", "");
    net.reload(
        0,
        &client(&format!(
            "{}{}{sessions}{never}{waits}",
            tunnel("t", ""),
            tunnel("u", "")
        )),
    );
    let client_engine = &net.nodes[0].engine;
    let mut from = None;
    let mut names = Vec::new();
    loop {
        let page = client_engine.tunnels_page(net.now, None, from.as_ref(), 1);
        names.extend(
            page.items
                .iter()
                .map(|t| t.name.clone().unwrap_or_default()),
        );
        match page.next {
            Some(n) => from = Some(n),
            None => break,
        }
    }
    names.sort();
    assert_eq!(names, ["t", "u", "v"]);
    let idle = client_engine.tunnels_page(net.now, Some(ctl::State::Idle), None, 100);
    assert_eq!(idle.items.len(), 1);
    // Sessions of the client, records then the instance that waits for its tunnel ("w"), two
    // looked at per page; and those of the tunnel that is not up: "w" alone, idle.
    let mut from = None;
    let mut names = Vec::new();
    loop {
        let page = client_engine
            .sessions_page(net.now, (None, None), from.as_ref(), 2)
            .unwrap_or_else(|e| panic!("{e:?}"));
        names.extend(
            page.items
                .iter()
                .map(|s| s.name.clone().unwrap_or_default()),
        );
        match page.next {
            Some(n) => from = Some(n),
            None => break,
        }
    }
    names.sort();
    assert_eq!(names, ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "w"]);
    let v = ctl::Selector::Name("v".into());
    let of_v = client_engine
        .sessions_page(net.now, (Some(&v), None), None, 100)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let rows: Vec<_> = of_v
        .items
        .iter()
        .map(|s| (s.name.clone(), s.state, s.sid))
        .collect();
    assert_eq!(rows, [(Some("w".to_owned()), ctl::State::Idle, 0)]);
}

#[test]
fn a_reload_that_changes_a_static_tunnel_makes_it_again_with_its_session() {
    let new = static_pair("").replace("peer_tunnel_id 200", "peer_tunnel_id 300");
    let after = &static_reload(&new)[..];
    let [
        DataplaneRequest::RemoveSession {
            tid: 100,
            sid: 1000,
        },
        DataplaneRequest::RemoveTunnel { tid: 100 },
        DataplaneRequest::InstallTunnel(t),
        DataplaneRequest::InstallSession(s),
    ] = after
    else {
        panic!("{after:?}");
    };
    assert_eq!((t.tid, t.peer_tid, s.sid), (100, 300, 1000));
}
