//! Reload against what `l2tpd.conf(5)` RELOADING promises: what a reload closes, what it makes
//! again, and what it leaves alone (tunnels opened by peers, instances made with `l2tpctl`),
//! also when a reload comes while the last one's StopCCN or CDN is still on its way.

use std::time::Duration;

use l2tp_ctl::{self as ctl, EventKind, Selector};

use l2tp_proto::wire::header::Packet;
use l2tp_proto::wire::message::MessageType;

use super::super::Command;
use super::harness::{Net, addr};
use super::logs::recorded;

pub(super) const SERVER: &str = "";

pub(super) fn tunnel(name: &str, extra: &str) -> String {
    format!(
        "tunnel \"{name}\" {{\n    peer {}\n    version 3\n{extra}}}\n",
        addr(1).ip()
    )
}

pub(super) fn session(name: &str, tunnel: &str) -> String {
    format!("session \"{name}\" {{\n    tunnel \"{tunnel}\"\n    pseudowire_type eth\n}}\n")
}

/// Tunnel "t" with `extra` in its block, and sessions "a" and "b" in it.
fn two_sessions(extra: &str) -> String {
    format!(
        "{}{}{}",
        tunnel("t", extra),
        session("a", "t"),
        session("b", "t")
    )
}

/// Node `i`'s tunnels that are up: (name, tid), by name. (Those closing linger a while.)
pub(super) fn tunnels(net: &Net, i: usize) -> Vec<(String, u32)> {
    let mut v: Vec<_> = net.nodes[i]
        .engine
        .tunnels(net.now)
        .into_iter()
        .filter(|t| t.state == ctl::State::Up)
        .map(|t| (t.name.unwrap_or_default(), t.tid))
        .collect();
    v.sort();
    v
}

/// Node `i`'s sessions that are up: (name, tunnel name, sid), by name.
pub(super) fn sessions(net: &Net, i: usize) -> Vec<(String, String, u32)> {
    let mut v: Vec<_> = net.nodes[i]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.state == ctl::State::Up)
        .map(|s| {
            (
                s.name.unwrap_or_default(),
                s.tunnel_name.unwrap_or_default(),
                s.sid,
            )
        })
        .collect();
    v.sort();
    v
}

/// How many messages of type `kind` node `i` sent from `from` on (retransmissions included).
fn sent(net: &Net, i: usize, from: usize, kind: MessageType) -> usize {
    net.nodes[i].sent[from..]
        .iter()
        .filter(|(_, t)| {
            matches!(Packet::parse(&t.contents, t.encap),
                Ok(Packet::Control { body, .. })
                    if l2tp_proto::wire::avp::message_type(body) == Some(kind))
        })
        .count()
}

pub(super) fn names(v: &[(String, String, u32)]) -> Vec<(&str, &str)> {
    v.iter().map(|(s, t, _)| (s.as_str(), t.as_str())).collect()
}

pub(super) fn tid_of(net: &Net, i: usize, name: &str) -> u32 {
    tunnels(net, i)
        .into_iter()
        .find(|t| t.0 == name)
        .map_or_else(|| panic!("no tunnel \"{name}\""), |t| t.1)
}

pub(super) fn params(pairs: &[(&str, &str)]) -> ctl::Params {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

/// `l2tpctl create tunnel NAME` to node 1, and `create session TUNNEL NAME` for `sessions`.
pub(super) fn cli_create(net: &mut Net, tunnel: &str, sessions: &[&str]) {
    let peer = addr(1).ip().to_string();
    let r = net.command(
        0,
        Command::CreateTunnel {
            name: tunnel.into(),
            params: params(&[("peer", &peer), ("version", "3")]),
        },
    );
    assert!(r.is_ok(), "{r:?}");
    for s in sessions {
        cli_session(net, tunnel, s);
    }
}

pub(super) fn cli_session(net: &mut Net, tunnel: &str, name: &str) {
    let r = net.command(
        0,
        Command::CreateSession {
            tunnel: Selector::Name(tunnel.into()),
            name: (*name).into(),
            params: params(&[("pseudowire_type", "eth")]),
        },
    );
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn a_renamed_tunnel_is_closed_and_opened_under_its_new_name_with_its_session() {
    let mut net = Net::new(
        &[&format!("{}{}", tunnel("t", ""), session("s", "t")), SERVER],
        21,
    );
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    net.reload(0, &format!("{}{}", tunnel("u", ""), session("s", "u")));
    net.run_until(Duration::from_secs(10), "u up", |n| {
        n.nodes[0].up() == (1, 1) && tunnels(n, 0).len() == 1
    });
    assert_eq!(names(&sessions(&net, 0)), [("s", "u")]);
    assert_eq!(tunnels(&net, 0).len(), 1);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 1, "one StopCCN");
}

#[test]
fn a_session_moved_to_another_tunnel_leaves_both_tunnels_up() {
    let text = |s_in: &str| {
        format!(
            "{}{}{}{}",
            tunnel("t", ""),
            tunnel("u", ""),
            session("s", s_in),
            session("k", "u")
        )
    };
    let mut net = Net::new(&[&text("t"), SERVER], 22);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (2, 2));
    let (t, u) = (tid_of(&net, 0, "t"), tid_of(&net, 0, "u"));
    let k = sessions(&net, 0)[0].clone();
    net.reload(0, &text("u"));
    net.run_until(Duration::from_secs(10), "s in u", |n| {
        names(&sessions(n, 0)) == [("k", "u"), ("s", "u")]
    });
    assert_eq!((tid_of(&net, 0, "t"), tid_of(&net, 0, "u")), (t, u));
    assert_eq!(sessions(&net, 0)[0], k, "session k untouched");
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 1, "one CDN");
}

#[test]
fn a_removed_session_block_goes_and_its_tunnel_stays() {
    let both = format!(
        "{}{}{}",
        tunnel("t", ""),
        session("a", "t"),
        session("b", "t")
    );
    let mut net = Net::new(&[&both, SERVER], 23);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    let tid = tid_of(&net, 0, "t");
    net.reload(0, &format!("{}{}", tunnel("t", ""), session("a", "t")));
    net.run_for(Duration::from_secs(2));
    assert_eq!(names(&sessions(&net, 0)), [("a", "t")]);
    assert_eq!(net.nodes[0].engine.counts().sessions, 1);
    assert_eq!(tid_of(&net, 0, "t"), tid);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 1);
}

#[test]
fn a_changed_tunnel_comes_back_with_its_sessions() {
    let text = two_sessions;
    let mut net = Net::new(&[&text(""), SERVER], 24);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    let tid = tid_of(&net, 0, "t");
    net.reload(0, &text("    hello_timeout 30\n"));
    net.run_until(Duration::from_secs(10), "again", |n| {
        n.nodes[0].up() == (1, 2) && tunnels(n, 0).len() == 1
    });
    assert_ne!(tid_of(&net, 0, "t"), tid, "made again");
    assert_eq!(names(&sessions(&net, 0)), [("a", "t"), ("b", "t")]);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 1);
}

/// The StopCCN of a changed tunnel is not acknowledged yet (the peer is out of reach) when
/// the next reload changes it again: every old tunnel gives up in its own time, and the
/// instance ends up once, with the last settings and its sessions.
#[test]
fn reloads_while_the_old_tunnel_is_still_closing_end_with_one_tunnel() {
    let text = two_sessions;
    let mut net = Net::new(&[&text(""), SERVER], 25);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    let first = tid_of(&net, 0, "t");
    net.blackhole = true;
    net.reload(0, &text("    hello_timeout 30\n"));
    net.run_for(Duration::from_millis(300));
    net.reload(0, &text("    hello_timeout 40\n"));
    net.run_for(Duration::from_millis(300));
    // The session blocks change too, in the same reload as their tunnel.
    net.reload(
        0,
        &format!(
            "{}{}",
            tunnel("t", "    hello_timeout 50\n"),
            session("a", "t")
        ),
    );
    net.blackhole = false;
    net.run_until(Duration::from_secs(120), "one tunnel with a", |n| {
        n.nodes[0].engine.counts().tunnels == 1 && n.nodes[0].up() == (1, 1)
    });
    assert_ne!(tid_of(&net, 0, "t"), first);
    assert_eq!(names(&sessions(&net, 0)), [("a", "t")]);
    net.run_for(Duration::from_secs(60));
    let c = net.nodes[1].engine.counts();
    assert_eq!(
        (c.tunnels, c.sessions_up),
        (1, 1),
        "the server's old ones went"
    );
    assert_eq!(net.nodes[0].engine.counts().sessions, 1);
}

#[test]
fn a_profile_change_recreates_the_instances_that_inherit_it_only() {
    let text = |hello: u32| {
        format!(
            "tunnel profile \"p\" {{\n    hello_timeout {hello}\n}}\n{}{}{}{}",
            tunnel("t", "    profile \"p\"\n"),
            tunnel("u", ""),
            session("a", "t"),
            session("b", "u")
        )
    };
    let mut net = Net::new(&[&text(60), SERVER], 26);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (2, 2));
    let (t, u) = (tid_of(&net, 0, "t"), tid_of(&net, 0, "u"));
    let b = sessions(&net, 0)[1].clone();
    net.reload(0, &text(30));
    net.run_until(Duration::from_secs(10), "t again", |n| {
        n.nodes[0].up() == (2, 2) && tunnels(n, 0).len() == 2
    });
    assert_ne!(tid_of(&net, 0, "t"), t);
    assert_eq!(tid_of(&net, 0, "u"), u);
    assert_eq!(sessions(&net, 0)[1], b, "session b untouched");
    // The server's tunnels were opened by the peer: a change of the profile they came from
    // leaves them as they are.
    let server_tids: Vec<u32> = tunnels(&net, 1).iter().map(|t| t.1).collect();
    let downs = net.nodes[0].saw(EventKind::TunnelDown);
    net.reload(1, "tunnel profile \"default\" {\n    hello_timeout 20\n}\n");
    net.run_for(Duration::from_secs(5));
    let after: Vec<u32> = tunnels(&net, 1).iter().map(|t| t.1).collect();
    assert_eq!(after, server_tids);
    assert_eq!(net.nodes[0].saw(EventKind::TunnelDown), downs);
    assert_eq!(net.nodes[1].up(), (2, 2));
}

#[test]
fn tunnels_and_sessions_made_with_l2tpctl_outlive_reloads() {
    let file = format!("{}{}", tunnel("t", ""), session("a", "t"));
    let mut net = Net::new(&[&file, SERVER], 27);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    cli_create(&mut net, "c", &["cs"]);
    net.run_until(Duration::from_secs(5), "cli up", |n| {
        n.nodes[0].up() == (2, 2)
    });
    let c = tid_of(&net, 0, "c");
    // Everything of the file changes, then goes.
    net.reload(
        0,
        &format!(
            "{}{}",
            tunnel("t", "    hello_timeout 30\n"),
            session("a", "t")
        ),
    );
    net.run_for(Duration::from_secs(3));
    net.reload(0, "");
    net.run_for(Duration::from_secs(3));
    assert_eq!(tunnels(&net, 0), [("c".to_owned(), c)]);
    assert_eq!(names(&sessions(&net, 0)), [("cs", "c")]);
}

/// `l2tpctl create session` with a fixed `session_id` that a session of the live tunnel holds
/// is refused at once, with the reason, instead of answering "created" and retrying.
#[test]
fn l2tpctl_refuses_a_fixed_session_id_in_use() {
    let both = format!("{}{}", tunnel("t", ""), tunnel("u", ""));
    let mut net = Net::new(&[&both, SERVER], 28);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up().0 == 2);
    let create = |net: &mut Net, tunnel: &str, name: &str| {
        net.command(
            0,
            Command::CreateSession {
                tunnel: Selector::Name(tunnel.into()),
                name: name.into(),
                params: params(&[("pseudowire_type", "eth"), ("session_id", "77")]),
            },
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    };
    assert_eq!(create(&mut net, "t", "first"), Ok(()));
    net.run_until(Duration::from_secs(5), "first up", |n| {
        n.nodes[0].up() == (2, 1)
    });
    // In its tunnel, and (L2TPv3 ids naming one session of the host) in any other.
    for t in ["t", "u"] {
        let err = create(&mut net, t, "second").err().unwrap_or_default();
        assert!(err.contains("session_id 77 is in use"), "{t}: {err}");
    }
    net.run_for(Duration::from_secs(3));
    assert_eq!(names(&sessions(&net, 0)), [("first", "t")]);
}

/// A tunnel block added to the file under the name of a tunnel made with `l2tpctl` is refused
/// with an error; the `l2tpctl` tunnel and its session go on, through that reload and the
/// next ones, as does a session made with `l2tpctl` whose name a new session block takes.
#[test]
fn a_new_block_named_like_an_l2tpctl_instance_is_refused() {
    let file = format!("{}{}", tunnel("t", ""), session("a", "t"));
    let mut net = Net::new(&[&file, SERVER], 28);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    cli_create(&mut net, "c", &["cs"]);
    cli_session(&mut net, "t", "ts");
    net.run_until(Duration::from_secs(5), "cli up", |n| {
        n.nodes[0].up() == (2, 3)
    });
    let before = sessions(&net, 0);
    let c = tid_of(&net, 0, "c");
    let clash = format!(
        "{file}{}{}{}",
        tunnel("c", "    hello_timeout 30\n"),
        session("cs", "c"),
        session("ts", "t")
    );
    let ((), lines) = recorded(|| {
        net.reload(0, &clash);
        net.run_for(Duration::from_secs(3));
    });
    let errors: Vec<&String> = lines
        .iter()
        .filter(|(l, _)| *l == tracing::Level::ERROR)
        .map(|(_, m)| m)
        .collect();
    for what in ["tunnel \"c\"", "session \"cs\"", "session \"ts\""] {
        assert!(
            errors
                .iter()
                .any(|m| m.contains(what) && m.contains("l2tpctl")),
            "{what}: {errors:?}"
        );
    }
    assert_eq!(tid_of(&net, 0, "c"), c);
    assert_eq!(sessions(&net, 0), before);
    assert_eq!(net.nodes[0].engine.counts().tunnels, 2);
    // The blocks change, then go: still nothing of the l2tpctl ones is touched.
    net.reload(0, &clash.replace("hello_timeout 30", "hello_timeout 40"));
    net.run_for(Duration::from_secs(3));
    net.reload(0, &file);
    net.run_for(Duration::from_secs(3));
    assert_eq!(tid_of(&net, 0, "c"), c);
    assert_eq!(sessions(&net, 0), before);
    assert_eq!(net.nodes[1].saw(EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 0);
}

/// A session made with `l2tpctl` in a tunnel of the file is placed again in the tunnel a
/// reload makes again, and goes when a reload removes its tunnel.
#[test]
fn an_l2tpctl_session_follows_its_file_tunnel() {
    let file = |extra: &str| format!("{}{}", tunnel("t", extra), session("a", "t"));
    let mut net = Net::new(&[&file(""), SERVER], 29);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    cli_session(&mut net, "t", "x");
    net.run_until(Duration::from_secs(5), "x up", |n| {
        n.nodes[0].up() == (1, 2)
    });
    net.reload(0, &file("    hello_timeout 30\n"));
    net.run_until(Duration::from_secs(10), "both again", |n| {
        n.nodes[0].up() == (1, 2) && tunnels(n, 0).len() == 1
    });
    assert_eq!(names(&sessions(&net, 0)), [("a", "t"), ("x", "t")]);
    net.reload(0, "");
    net.run_for(Duration::from_secs(60));
    let c = net.nodes[0].engine.counts();
    assert_eq!((c.tunnels, c.sessions), (0, 0), "nothing comes back");
}

/// A change to the PPP profile of sessions whose PPP `l2tpd` terminates makes those sessions
/// again, and only those; on the LNS, whose sessions the peer opened, a changed PPP profile,
/// pool and user leave the sessions up as they are.
#[test]
fn a_ppp_profile_change_makes_its_sessions_again_and_spares_peer_opened_ones() {
    let lns = "ppp profile \"default\" {\n    auth_pap true\n    local_ip_addr 198.51.100.1\n    \
               ip_pool_name \"customers\"\n}\n\
               ip pool \"customers\" {\n    ranges 198.51.100.10-198.51.100.19\n}\n\
               user \"carol\" {\n    password \"s3cret\"\n}\n";
    let lac = |mru_b: u16| {
        let mut text = String::new();
        for (p, mru) in [("a", 1500), ("b", mru_b)] {
            text.push_str(&format!(
                "ppp profile \"{p}\" {{\n    user_name \"carol\"\n    user_password \"s3cret\"\n    \
                 mru {mru}\n}}\n\
                 pseudowire profile \"p{p}\" {{\n    ppp_profile_name \"{p}\"\n}}\n\
                 session \"s{p}\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n    \
                 pseudowire_profile_name \"p{p}\"\n}}\n"
            ));
        }
        format!(
            "tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n{text}",
            addr(1).ip()
        )
    };
    let mut net = Net::new(&[&lac(1500), lns], 30);
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    let before = sessions(&net, 0);
    net.reload(0, &lac(1400));
    net.run_until(Duration::from_secs(10), "sb again", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 3 && n.nodes[0].up() == (1, 2)
    });
    let after = sessions(&net, 0);
    assert_eq!(after[0], before[0], "sa untouched");
    assert_ne!(after[1].2, before[1].2, "sb made again");
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    // The LNS: its sessions were opened by the LAC.
    let lns_sessions = sessions(&net, 1);
    net.reload(
        1,
        &lns.replace("198.51.100.10-198.51.100.19", "198.51.100.12-198.51.100.13")
            .replace("s3cret", "other")
            .replace("auth_pap true", "auth_pap false"),
    );
    net.run_for(Duration::from_secs(30));
    assert_eq!(sessions(&net, 1), lns_sessions);
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    assert_eq!(net.nodes[0].up(), (1, 2));
}

/// A static tunnel block added with the tunnel id of a static tunnel made with `l2tpctl` is
/// not started, with an error line; the `l2tpctl` one goes on.
#[test]
fn a_new_static_block_with_the_id_of_an_l2tpctl_tunnel_is_not_started() {
    let mut net = Net::new(&[""], 31);
    let peer = addr(1).ip().to_string();
    let r = net.command(
        0,
        Command::CreateTunnel {
            name: "c".into(),
            params: params(&[
                ("peer", &peer),
                ("version", "3"),
                ("tunnel_id", "100"),
                ("peer_tunnel_id", "200"),
            ]),
        },
    );
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(tunnels(&net, 0), [("c".to_owned(), 100)]);
    let before = net.nodes[0].requests.len();
    let file = format!(
        "tunnel \"st\" {{\n    version 3\n    peer {peer}\n    tunnel_id 100\n    \
         peer_tunnel_id 300\n}}\n"
    );
    let (applied, lines) = recorded(|| net.reload(0, &file));
    let refused = applied.refused;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        lines.iter().any(|(l, m)| *l == tracing::Level::ERROR
            && m.contains("\"st\"")
            && m.contains("in use")),
        "{lines:?}"
    );
    assert_eq!(tunnels(&net, 0), [("c".to_owned(), 100)]);
    assert!(
        net.nodes[0].requests[before..].is_empty(),
        "{:?}",
        &net.nodes[0].requests[before..]
    );
}

/// A tunnel removed or changed with its session blocks is closed with one StopCCN: its
/// sessions go with it, without a CDN each.
#[test]
fn a_tunnel_removed_or_changed_with_its_sessions_sends_one_stopccn_and_no_cdn() {
    let text = |extra: &str, s: &str| {
        format!(
            "{}{}{}",
            tunnel("t", extra),
            session("a", "t"),
            session("b", "t").replace("eth\n", &format!("eth\n{s}"))
        )
    };
    let mut net = Net::new(&[&text("", ""), SERVER], 32);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    let from = net.nodes[0].sent.len();
    net.reload(
        0,
        &text("    hello_timeout 30\n", "    remote_end_id \"x\"\n"),
    );
    net.run_until(Duration::from_secs(10), "again", |n| {
        n.nodes[0].up() == (1, 2) && tunnels(n, 0).len() == 1
    });
    assert_eq!(sent(&net, 0, from, MessageType::Cdn), 0);
    assert_eq!(sent(&net, 0, from, MessageType::StopCcn), 1);
    let from = net.nodes[0].sent.len();
    net.reload(0, "");
    net.run_for(Duration::from_secs(5));
    assert_eq!(sent(&net, 0, from, MessageType::Cdn), 0);
    assert_eq!(sent(&net, 0, from, MessageType::StopCcn), 1);
    assert_eq!(net.nodes[1].engine.counts().tunnels_up, 0);
}

/// A changed managed tunnel and session with fixed ids come back with those ids, also while
/// the old ones are still closing (the peer is out of reach for a while).
#[test]
fn a_changed_tunnel_with_fixed_ids_comes_back_with_them() {
    let text = |extra: &str| {
        format!(
            "{}{}",
            tunnel("t", &format!("    tunnel_id 500\n{extra}")),
            session("a", "t").replace("eth\n", "eth\n    session_id 600\n")
        )
    };
    for blackhole in [false, true] {
        let mut net = Net::new(&[&text(""), SERVER], 33);
        net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
        assert_eq!(tid_of(&net, 0, "t"), 500);
        net.blackhole = blackhole;
        // The old tunnel holds the id until its StopCCN is done: the new one waits for it.
        net.reload(0, &text("    hello_timeout 30\n"));
        net.run_for(Duration::from_secs(5));
        net.blackhole = false;
        net.run_until(Duration::from_secs(120), "again", |n| {
            n.nodes[0].up() == (1, 1) && tunnels(n, 0).len() == 1
        });
        assert_eq!(tid_of(&net, 0, "t"), 500, "blackhole {blackhole}");
        assert_eq!(sessions(&net, 0)[0].2, 600);
        // A changed session alone, the same.
        net.blackhole = blackhole;
        net.reload(
            0,
            &text("    hello_timeout 30\n").replace("eth\n", "eth\n    remote_end_id \"r\"\n"),
        );
        net.run_for(Duration::from_secs(5));
        net.blackhole = false;
        net.run_until(Duration::from_secs(120), "session again", |n| {
            n.nodes[0].up() == (1, 1) && n.nodes[0].saw(EventKind::SessionUp) >= 3
        });
        assert_eq!(sessions(&net, 0)[0].2, 600, "blackhole {blackhole}");
    }
}

/// A session of the file deleted with `l2tpctl` stays deleted through a reload that leaves
/// its block as it is (and its tunnel's), and comes back with one that changes it.
#[test]
fn a_deleted_session_stays_deleted_until_a_reload_changes_it() {
    let file = |extra: &str| {
        format!(
            "{}{}{}",
            tunnel("t", ""),
            session("a", "t"),
            session("b", "t").replace("eth\n", &format!("eth\n{extra}"))
        )
    };
    let mut net = Net::new(&[&file(""), SERVER], 34);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("b".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    assert_eq!(names(&sessions(&net, 0)), [("a", "t")]);
    // Another session block is added: b stays deleted.
    net.reload(0, &format!("{}{}", file(""), session("c", "t")));
    net.run_for(Duration::from_secs(5));
    assert_eq!(names(&sessions(&net, 0)), [("a", "t"), ("c", "t")]);
    net.reload(
        0,
        &format!("{}{}", file("    remote_end_id \"r\"\n"), session("c", "t")),
    );
    net.run_until(Duration::from_secs(5), "b back", |n| {
        n.nodes[0].up() == (1, 3)
    });
}

/// Once the `l2tpctl` tunnel is deleted, a block of its name is the file's to bring up, with
/// the file's sessions only.
#[test]
fn a_block_takes_the_name_of_a_deleted_l2tpctl_tunnel() {
    let mut net = Net::new(&["", SERVER], 35);
    cli_create(&mut net, "c", &["cs"]);
    net.run_until(Duration::from_secs(5), "cli up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let r = net.command(0, Command::DeleteTunnel(Selector::Name("c".into())));
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    net.reload(0, &format!("{}{}", tunnel("c", ""), session("f", "c")));
    net.run_until(Duration::from_secs(10), "file's c up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    assert_eq!(names(&sessions(&net, 0)), [("f", "c")]);
    let t = &net.nodes[0].engine.tunnels(net.now);
    let c = t.iter().find(|t| t.state == ctl::State::Up);
    assert_eq!(
        c.map(|t| t.created_by),
        Some(ctl::CreatedBy::Config),
        "{t:?}"
    );
}
