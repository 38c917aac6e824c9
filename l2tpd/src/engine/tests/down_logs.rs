//! The log line of a tunnel or session that went down: its cause in words, as the teardown
//! metric names it (l2tpd(8)), and a warning when one end refused the other's authentication.

use std::time::Duration;

use l2tp_config::MetricsDetail;
use l2tp_ctl::{EventKind, Selector};
use tracing::Level;

use super::super::Command;
use super::harness::{Net, addr};
use super::logs::{Line, recorded};

/// A LAC (node 0) with one tunnel of L2TP `version` and a session of `pw` to node 1, and
/// secret `lac_secret`; the LNS takes the tunnels of 192.0.2.0/24 with secret `lns_secret`.
fn net(what: (u8, &str), lac_secret: &str, lns_secret: &str) -> Net {
    unstarted(what, lac_secret, lns_secret).start()
}

/// As [`net`], not started yet.
fn unstarted((version, pw): (u8, &str), lac_secret: &str, lns_secret: &str) -> Net {
    let lac = format!(
        "tunnel \"t\" {{\n    peer {}\n    version {version}\n    secret \"{lac_secret}\"\n    \
         auth_mode challenge\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type {pw}\n}}\n",
        addr(1).ip()
    );
    let lns = format!(
        "tunnel profile \"auth\" {{\n    secret \"{lns_secret}\"\n    auth_mode challenge\n}}\n\
         peer profile \"lacs\" {{\n    peer_ipaddr 192.0.2.0/24\n    \
         tunnel_profile_name \"auth\"\n}}\n"
    );
    Net::unstarted(&[&lac, &lns], 5)
}

/// The lines that say something went down.
fn downs(lines: &[Line]) -> Vec<&Line> {
    lines
        .iter()
        .filter(|(_, l)| l.contains(": down ("))
        .collect()
}

#[test]
fn a_wrong_secret_is_a_warning_at_both_ends() {
    let (_, lines) = recorded(|| {
        let mut net = net((2, "ppp"), "one secret", "another secret");
        net.run_until(Duration::from_secs(10), "the tunnel refused", |n| {
            n.nodes[0].saw(EventKind::TunnelDown) >= 1 && n.nodes[1].saw(EventKind::TunnelDown) >= 1
        });
    });
    let downs = downs(&lines);
    let refused: Vec<_> = downs
        .iter()
        .filter(|(_, l)| l.starts_with("tunnel ") && l.contains(", result 4 "))
        .collect();
    assert!(refused.len() >= 2, "{lines:#?}");
    for (level, line) in &refused {
        assert_eq!(*level, Level::WARN, "{line}");
        assert!(
            line.contains("down (local, result 4") || line.contains("down (peer, result 4"),
            "{line}"
        );
    }
}

#[test]
fn causes_read_as_words_and_ordinary_ends_are_notices() {
    let (_, lines) = recorded(|| {
        let mut net = net((3, "eth"), "same secret", "same secret");
        net.run_until(Duration::from_secs(10), "the session up", |n| {
            n.nodes[0].saw(EventKind::SessionUp) >= 1
        });
        let _ = net.command(0, Command::DeleteTunnel(Selector::Name("t".into())));
        net.run_for(Duration::from_secs(5));
    });
    let downs = downs(&lines);
    assert!(!downs.is_empty(), "{lines:#?}");
    for (level, line) in &downs {
        assert_eq!(*level, Level::INFO, "{line}");
        let cause = line
            .split_once(": down (")
            .and_then(|(_, r)| r.split_once(", result"))
            .map_or("", |(c, _)| c);
        assert!(
            !cause.is_empty() && cause.chars().all(|c| c.is_ascii_lowercase() || c == ' '),
            "not words: {line}"
        );
    }
    let said = |what: &str| downs.iter().any(|(_, l)| l.contains(what));
    assert!(
        said("tunnel ") && said("\"t\": down (local, result 1"),
        "{downs:#?}"
    );
    assert!(said(": down (tunnel down, result "), "{downs:#?}");
    assert!(said(": down (peer, result 1"), "{downs:#?}");
}

/// A session the data plane refuses was never up: one warning with the cause, no "up" line, no
/// "down" line, no session-up event or script, and a set-up failure counted.
#[test]
fn a_session_the_data_plane_refuses_is_one_warning() {
    let ((events, scripts, failures), lines) = recorded(|| {
        let mut net = unstarted((3, "eth"), "same secret", "same secret");
        net.nodes[0].refuse_sessions = Some("no bridge br-test".into());
        let mut net = net.start();
        net.run_until(Duration::from_secs(10), "the session refused", |n| {
            n.nodes[0].engine.stats().session_setup_failures >= 1
        });
        let lac = &net.nodes[0];
        (
            lac.saw(EventKind::SessionUp) + lac.saw(EventKind::SessionDown),
            lac.scripts
                .iter()
                .filter(|s| matches!(s.kind, EventKind::SessionUp | EventKind::SessionDown))
                .count(),
            lac.engine.stats().session_setup_failures,
        )
    });
    let ours: Vec<_> = lines.iter().filter(|(_, l)| l.contains("\"s\":")).collect();
    let refused: Vec<_> = ours
        .iter()
        .filter(|(_, l)| l.contains(": not set up: "))
        .collect();
    assert_eq!(refused.len(), 1, "{ours:#?}");
    assert_eq!(refused[0].0, Level::WARN, "{ours:#?}");
    assert!(
        refused[0]
            .1
            .contains("no bridge br-test; disconnecting the session"),
        "{ours:#?}"
    );
    assert!(
        !ours
            .iter()
            .any(|(_, l)| l.contains(": up (") || l.contains(": down (")),
        "{ours:#?}"
    );
    assert_eq!((events, scripts), (0, 0));
    assert_eq!(failures, 1);
}

/// A session the data plane refuses stays connecting until its answer: its set-up time is not
/// measured, and each attempt counts once as a set-up failure and once as a teardown.
#[test]
fn a_session_the_data_plane_refuses_is_never_counted_up() {
    let mut net = unstarted((3, "eth"), "same secret", "same secret");
    net.nodes[0].refuse_sessions = Some("no bridge br-test".into());
    let mut net = net.start();
    net.run_until(Duration::from_secs(10), "the session refused", |n| {
        n.nodes[0].engine.stats().session_setup_failures >= 1
    });
    // Its instance tries again after its back-off, and is refused again.
    net.run_for(Duration::from_secs(15));
    let lac = &net.nodes[0].engine;
    let f = lac.figures(MetricsDetail::None);
    let failures = lac.stats().session_setup_failures;
    assert!(failures >= 2, "{failures}");
    assert_eq!(f.session_setup.count(), 0, "its set-up time measured");
    let down: u64 = f.session_teardowns.by_cause().map(|(_, n)| n).sum();
    assert_eq!(down, failures, "{:?}", f.session_teardowns);
    assert_eq!(net.nodes[0].up(), (1, 0));
}

/// A session the data plane takes is logged up once, after its answer.
#[test]
fn a_session_is_logged_up_once() {
    let (_, lines) = recorded(|| {
        let mut net = net((3, "eth"), "same secret", "same secret");
        net.run_until(Duration::from_secs(10), "the session up", |n| {
            n.nodes[0].saw(EventKind::SessionUp) >= 1
        });
    });
    let ups = lines
        .iter()
        .filter(|(_, l)| l.contains("\"s\": up (peer "))
        .count();
    assert_eq!(ups, 1, "{lines:#?}");
}
