//! Reload and the blocks it refuses (`l2tpd.conf(5)`, RELOADING): a block that clashes with a
//! tunnel or session made with `l2tpctl` (its name, its tunnel, or a fixed id one of them
//! holds) is refused once, returned for the reload's answer and not tried until a later
//! reload, which applies it once the `l2tpctl` one is gone. A fixed id held by a tunnel or
//! session the peer opened is waited for, and logged once.

use std::time::Duration;

use l2tp_ctl::{self as ctl, Selector};

use super::super::{Applied, BlockRefusal, Command, InstanceKind, RefusalReason};
use super::harness::{Net, addr};
use super::logs::recorded;
use super::reload::{
    SERVER, cli_create, cli_session, names, params, session, sessions, tid_of, tunnel, tunnels,
};

/// The refusals as `l2tpctl reload` prints them, sorted.
fn shown(refused: &[BlockRefusal]) -> Vec<String> {
    let mut v: Vec<String> = refused.iter().map(ToString::to_string).collect();
    v.sort();
    v
}

/// What a reload did to the file's instances, as `l2tpctl reload` prints it.
fn changes(applied: &Applied) -> Vec<String> {
    applied.changes.iter().map(ToString::to_string).collect()
}

/// How many recorded lines mention `what`.
fn mentions(lines: &[super::logs::Line], what: &str) -> usize {
    lines.iter().filter(|(_, m)| m.contains(what)).count()
}

fn delete_tunnel(net: &mut Net, name: &str) {
    let r = net.command(0, Command::DeleteTunnel(Selector::Name(name.into())));
    assert!(r.is_ok(), "{r:?}");
}

/// Blocks named like `l2tpctl` instances, or in an `l2tpctl` tunnel, are returned as refused
/// and not listed as applied; once the `l2tpctl` ones are deleted, a reload of the same file
/// (no change to its blocks) applies them.
#[test]
fn refused_blocks_are_returned_and_applied_by_a_later_reload() {
    let file = format!("{}{}", tunnel("t", ""), session("a", "t"));
    let mut net = Net::new(&[&file, SERVER], 40);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    cli_create(&mut net, "c", &["cs"]);
    cli_session(&mut net, "t", "ts");
    net.run_until(Duration::from_secs(5), "cli up", |n| {
        n.nodes[0].up() == (2, 3)
    });
    let clash = format!(
        "{file}{}{}{}{}",
        tunnel("c", "    hello_timeout 30\n"),
        session("cs", "c"),
        session("n", "c"),
        session("ts", "t")
    );
    let refused = net.reload(0, &clash).refused;
    assert_eq!(
        shown(&refused),
        [
            "session \"cs\" refused: a session of that name was made with l2tpctl",
            "session \"n\" refused: its tunnel \"c\" was made with l2tpctl",
            "session \"ts\" refused: a session of that name was made with l2tpctl",
            "tunnel \"c\" refused: a tunnel of that name was made with l2tpctl",
        ]
    );
    assert!(refused.iter().any(
        |r| r.kind == InstanceKind::Session && r.reason == RefusalReason::CliTunnel("c".into())
    ));
    // Nothing changes in the file: the same blocks are refused again.
    net.run_for(Duration::from_secs(3));
    assert_eq!(shown(&net.reload(0, &clash).refused), shown(&refused));
    // The l2tpctl ones go: the same file, reloaded, is applied.
    delete_tunnel(&mut net, "c");
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("ts".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.nodes[0].up(), (1, 1));
    let applied = net.reload(0, &clash);
    assert!(applied.refused.is_empty(), "{applied:?}");
    assert_eq!(
        changes(&applied),
        [
            "tunnel \"c\" added",
            "session \"cs\" added",
            "session \"n\" added",
            "session \"ts\" added"
        ]
    );
    net.run_until(Duration::from_secs(10), "the file's blocks up", |n| {
        n.nodes[0].up() == (2, 4)
    });
    assert_eq!(
        names(&sessions(&net, 0)),
        [("a", "t"), ("cs", "c"), ("n", "c"), ("ts", "t")]
    );
    // (The deleted one lingers, closing, a while.)
    let t = net.nodes[0].engine.tunnels(net.now);
    assert!(
        t.iter()
            .filter(|t| t.state == ctl::State::Up)
            .all(|t| t.created_by == ctl::CreatedBy::Config),
        "{t:?}"
    );
}

/// A tunnel block whose fixed `tunnel_id` a tunnel made with `l2tpctl` holds is refused at
/// the reload, with the id and the holder, and so is its session block; neither is tried
/// meanwhile (no retry, no log line); a reload after the `l2tpctl` tunnel is deleted brings it up with that id, and its session.
#[test]
fn a_block_with_the_tunnel_id_of_an_l2tpctl_tunnel_is_refused_not_retried() {
    let mut net = Net::new(&["", SERVER], 41);
    cli_tunnel_with_id(&mut net, "c", "100");
    net.run_until(Duration::from_secs(5), "c up", |n| {
        n.nodes[0].up() == (1, 0)
    });
    let file = format!(
        "{}{}",
        tunnel("t", "    tunnel_id 100\n"),
        session("a", "t")
    );
    let (refused, lines) = recorded(|| {
        let r = net.reload(0, &file).refused;
        net.run_for(Duration::from_secs(60));
        r
    });
    // Its session block goes with it: it would wait for a tunnel that is not there.
    assert_eq!(
        refused,
        [
            BlockRefusal {
                kind: InstanceKind::Tunnel,
                name: "t".into(),
                reason: RefusalReason::IdHeld {
                    id: 100,
                    holder: "c".into()
                },
            },
            BlockRefusal {
                kind: InstanceKind::Session,
                name: "a".into(),
                reason: RefusalReason::TunnelRefused("t".into()),
            }
        ]
    );
    assert_eq!(
        shown(&refused),
        [
            "session \"a\" refused: its tunnel \"t\" was refused",
            "tunnel \"t\" refused: tunnel_id 100 is in use by tunnel \"c\", made with l2tpctl"
        ]
    );
    assert_eq!(mentions(&lines, "tunnel \"t\" refused"), 1, "{lines:?}");
    assert_eq!(mentions(&lines, "session \"a\""), 1, "{lines:?}");
    assert_eq!(tunnels(&net, 0), [("c".to_owned(), 100)]);
    delete_tunnel(&mut net, "c");
    net.run_for(Duration::from_secs(5));
    assert!(net.reload(0, &file).refused.is_empty());
    // The deleted tunnel keeps its id a while after its StopCCN (RFC 2661 §5.7).
    net.run_until(Duration::from_secs(90), "t up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    assert_eq!(tid_of(&net, 0, "t"), 100);
}

/// The same for a session block whose fixed `session_id` a session made with `l2tpctl` (in a
/// tunnel of the file) holds.
#[test]
fn a_block_with_the_session_id_of_an_l2tpctl_session_is_refused_not_retried() {
    let mut net = Net::new(&[&tunnel("t", ""), SERVER], 42);
    net.run_until(Duration::from_secs(5), "t up", |n| {
        n.nodes[0].up() == (1, 0)
    });
    let r = net.command(
        0,
        Command::CreateSession {
            tunnel: Selector::Name("t".into()),
            name: "x".into(),
            params: params(&[("pseudowire_type", "eth"), ("session_id", "77")]),
        },
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_until(Duration::from_secs(5), "x up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let file = format!(
        "{}{}",
        tunnel("t", ""),
        session("a", "t").replace("eth\n", "eth\n    session_id 77\n")
    );
    let (refused, lines) = recorded(|| {
        let r = net.reload(0, &file).refused;
        net.run_for(Duration::from_secs(60));
        r
    });
    assert_eq!(
        shown(&refused),
        ["session \"a\" refused: session_id 77 is in use by session \"x\", made with l2tpctl"]
    );
    assert_eq!(mentions(&lines, "session \"a\""), 1, "{lines:?}");
    assert_eq!(names(&sessions(&net, 0)), [("x", "t")]);
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("x".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    assert!(net.reload(0, &file).refused.is_empty());
    net.run_until(Duration::from_secs(10), "a up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    assert_eq!(sessions(&net, 0)[0].2, 77);
}

/// A fixed id held by a tunnel or session the peer opened is not refused: the block waits
/// for it, retrying with back-off as before, but says so once, not at every retry; it takes
/// the id once the peer's tunnel is gone.
#[test]
fn an_id_held_by_a_peer_is_waited_for_and_logged_once() {
    let peer_of_0 = format!(
        "tunnel \"p\" {{\n    peer {}\n    version 3\n}}\n{}",
        addr(0).ip(),
        session("ps", "p")
    );
    let mut net = Net::new(&[SERVER, SERVER, &peer_of_0], 43);
    net.run_until(Duration::from_secs(5), "the peer's up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let tid = tunnels(&net, 0)[0].1;
    let sid = sessions(&net, 0)[0].2;
    let file = format!(
        "{}{}{}",
        tunnel("t", &format!("    tunnel_id {tid}\n")),
        tunnel("u", ""),
        session("b", "u").replace("eth\n", &format!("eth\n    session_id {sid}\n"))
    );
    let (refused, lines) = recorded(|| {
        let r = net.reload(0, &file).refused;
        net.run_for(Duration::from_secs(120));
        r
    });
    assert!(refused.is_empty(), "{refused:?}");
    for what in ["tunnel \"t\"", "session \"b\""] {
        assert_eq!(mentions(&lines, what), 1, "{what}: {lines:?}");
        assert!(
            lines
                .iter()
                .any(|(_, m)| m.contains(what) && m.contains("in use")),
            "{what}: {lines:?}"
        );
    }
    // The peer closes its tunnel: both take their ids.
    net.reload(2, "");
    net.run_until(Duration::from_secs(120), "t and b up", |n| {
        n.nodes[0].up() == (2, 1)
    });
    assert_eq!(tid_of(&net, 0, "t"), tid);
    assert_eq!(sessions(&net, 0)[0].2, sid);
}

/// Blocks an earlier reload refused, then removed from the file, remove nothing and are not
/// reported: none ran, and those named like `l2tpctl` instances leave them as they are.
#[test]
fn refused_blocks_removed_from_the_file_remove_nothing() {
    let mut net = Net::new(&["", SERVER], 44);
    cli_tunnel_with_id(&mut net, "c", "100");
    cli_session(&mut net, "c", "cs");
    net.run_until(Duration::from_secs(5), "cli up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    let kept = tunnel("t", "");
    let clash = format!(
        "{kept}{}{}{}{}",
        tunnel("c", ""),
        session("cs", "c"),
        tunnel("u", "    tunnel_id 100\n"),
        session("us", "u")
    );
    let applied = net.reload(0, &clash);
    assert_eq!(applied.refused.len(), 4, "{applied:?}");
    assert_eq!(changes(&applied), ["tunnel \"t\" added"]);
    net.run_until(Duration::from_secs(5), "t up", |n| {
        n.nodes[0].up() == (2, 1)
    });
    let before = (tunnels(&net, 0), sessions(&net, 0));
    let applied = net.reload(0, &kept);
    assert_eq!(applied, Applied::default());
    net.run_for(Duration::from_secs(10));
    assert_eq!((tunnels(&net, 0), sessions(&net, 0)), before);
    assert_eq!(net.nodes[1].saw(ctl::EventKind::TunnelDown), 0);
    assert_eq!(net.nodes[1].saw(ctl::EventKind::SessionDown), 0);
    let c = net.nodes[0].engine.tunnels(net.now);
    assert!(
        c.iter()
            .any(|t| t.name.as_deref() == Some("c") && t.created_by == ctl::CreatedBy::Cli),
        "{c:?}"
    );
}

/// A block refused for its `l2tpctl` namesake and changed once that one is deleted is added,
/// not changed: the file had no instance of that name.
#[test]
fn a_refused_block_changed_once_its_l2tpctl_namesake_is_gone_is_added() {
    let mut net = Net::new(&["", SERVER], 45);
    cli_create(&mut net, "c", &[]);
    net.run_until(Duration::from_secs(5), "c up", |n| {
        n.nodes[0].up() == (1, 0)
    });
    assert_eq!(net.reload(0, &tunnel("c", "")).refused.len(), 1);
    delete_tunnel(&mut net, "c");
    net.run_for(Duration::from_secs(5));
    let applied = net.reload(0, &tunnel("c", "    hello_timeout 30\n"));
    assert!(applied.refused.is_empty(), "{applied:?}");
    assert_eq!(changes(&applied), ["tunnel \"c\" added"]);
    net.run_until(Duration::from_secs(10), "the file's c up", |n| {
        n.nodes[0].up() == (1, 0)
    });
}

/// A session block named like a session made with `l2tpctl` in a tunnel since deleted takes
/// that name, as the reload reports: the `l2tpctl` session went with its tunnel.
#[test]
fn a_block_takes_the_name_of_a_session_whose_l2tpctl_tunnel_was_deleted() {
    let mut net = Net::new(&["", SERVER], 48);
    cli_create(&mut net, "c", &["cs"]);
    net.run_until(Duration::from_secs(5), "cli up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    delete_tunnel(&mut net, "c");
    net.run_for(Duration::from_secs(5));
    let applied = net.reload(0, &format!("{}{}", tunnel("t", ""), session("cs", "t")));
    assert!(applied.refused.is_empty(), "{applied:?}");
    assert_eq!(
        changes(&applied),
        ["tunnel \"t\" added", "session \"cs\" added"]
    );
    net.run_until(Duration::from_secs(10), "the file's cs up", |n| {
        n.nodes[0].up() == (1, 1)
    });
    assert_eq!(names(&sessions(&net, 0)), [("cs", "t")]);
}

fn delete_session(net: &mut Net, tunnel: &str, name: &str) {
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name(tunnel.into()), Selector::Name(name.into())),
    );
    assert!(r.is_ok(), "{r:?}");
}

/// `l2tpctl create tunnel NAME peer=NODE-1 version=3 tunnel_id=ID` on node 0.
fn cli_tunnel_with_id(net: &mut Net, name: &str, id: &str) {
    let peer = addr(1).ip().to_string();
    let r = net.command(
        0,
        Command::CreateTunnel {
            name: name.into(),
            params: params(&[("peer", &peer), ("version", "3"), ("tunnel_id", id)]),
        },
    );
    assert!(r.is_ok(), "{r:?}");
}

/// `l2tpctl create session TUNNEL NAME session_id=ID`.
fn cli_session_with_id(net: &mut Net, tunnel: &str, name: &str, id: &str) {
    let r = net.command(
        0,
        Command::CreateSession {
            tunnel: Selector::Name(tunnel.into()),
            name: name.into(),
            params: params(&[("pseudowire_type", "eth"), ("session_id", id)]),
        },
    );
    assert!(r.is_ok(), "{r:?}");
}

/// A changed tunnel block makes its unchanged session blocks again: one whose fixed
/// `session_id` a session made with `l2tpctl` holds (here: the tunnel goes from L2TPv2, whose
/// session ids name a session of their tunnel, to L2TPv3, whose ids name one of the host) is
/// refused like a new block (logged once, not retried), the `l2tpctl` session keeps the id,
/// and a reload after it is deleted adds the block.
#[test]
fn a_session_block_made_again_with_its_tunnel_is_refused_for_an_l2tpctl_session_id() {
    let file = |version: &str| {
        format!(
            "{}{}{}",
            tunnel("t", "").replace("version 3", version),
            session("a", "t").replace("eth\n", "ppp\n    session_id 77\n"),
            session("b", "t").replace("eth\n", "ppp\n")
        )
    };
    // The LNS terminates the PPP of the L2TPv2 sessions without authenticating them.
    let lns = "ppp profile \"default\" {\n    auth_none true\n}\n";
    let mut net = Net::new(&[&file("version 2"), lns], 46);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 2));
    net.run_for(Duration::from_secs(30));
    assert_eq!(net.nodes[0].up(), (1, 2));
    cli_create(&mut net, "c", &[]);
    net.run_until(Duration::from_secs(5), "c up", |n| {
        n.nodes[0].up() == (2, 2)
    });
    cli_session_with_id(&mut net, "c", "x", "77");
    net.run_until(Duration::from_secs(5), "x up", |n| {
        n.nodes[0].up() == (2, 3)
    });
    let changed = file("version 3");
    let (applied, lines) = recorded(|| {
        let r = net.reload(0, &changed);
        net.run_for(Duration::from_secs(60));
        r
    });
    assert_eq!(
        shown(&applied.refused),
        ["session \"a\" refused: session_id 77 is in use by session \"x\", made with l2tpctl"]
    );
    assert_eq!(changes(&applied), ["tunnel \"t\" changed"]);
    assert_eq!(mentions(&lines, "session \"a\""), 1, "{lines:?}");
    let up = sessions(&net, 0);
    assert_eq!(names(&up), [("b", "t"), ("x", "c")]);
    assert_eq!(up[1].2, 77);
    // Nothing clashes any more: the next reload of the same file adds it.
    delete_session(&mut net, "c", "x");
    net.run_for(Duration::from_secs(5));
    let applied = net.reload(0, &changed);
    assert!(applied.refused.is_empty(), "{applied:?}");
    assert_eq!(changes(&applied), ["session \"a\" added"]);
    net.run_until(Duration::from_secs(10), "a up", |n| {
        n.nodes[0].up() == (2, 2)
    });
    assert_eq!(sessions(&net, 0)[0].2, 77);
}

/// A changed session block of a changed tunnel, refused for the fixed `session_id` a session
/// made with `l2tpctl` holds, is not made again with the tunnel: the `l2tpctl` session keeps
/// its id.
#[test]
fn a_refused_session_block_of_a_changed_tunnel_is_not_made_again() {
    let file = |extra: &str, a: &str| {
        format!(
            "{}{}",
            tunnel("t", extra),
            session("a", "t").replace("eth\n", &format!("eth\n{a}"))
        )
    };
    let mut net = Net::new(&[&file("", ""), SERVER], 47);
    net.run_until(Duration::from_secs(5), "up", |n| n.nodes[0].up() == (1, 1));
    cli_session_with_id(&mut net, "t", "x", "77");
    net.run_until(Duration::from_secs(5), "x up", |n| {
        n.nodes[0].up() == (1, 2)
    });
    let applied = net.reload(0, &file("    hello_timeout 30\n", "    session_id 77\n"));
    net.run_for(Duration::from_secs(60));
    assert_eq!(
        shown(&applied.refused),
        ["session \"a\" refused: session_id 77 is in use by session \"x\", made with l2tpctl"]
    );
    assert_eq!(changes(&applied), ["tunnel \"t\" changed"]);
    let up = sessions(&net, 0);
    assert_eq!(up, [("x".to_owned(), "t".to_owned(), 77)]);
}
