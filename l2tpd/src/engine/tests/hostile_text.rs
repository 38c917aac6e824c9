//! Text a peer controls reaches the log and `show` on one line, escaped: a LAC whose Host Name
//! and PPP user try to forge a log line of their own and colour the operator's terminal.

use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, addr};
use super::logs::recorded;
use super::ppp::{POOL, a, client, server};

/// What the hostile LAC sends, as Host Name and as PPP user.
const EVIL: &str = "evil\nl2tpd: tunnel up\x1b[31m";
/// How it must appear in a log line.
const SHOWN: &str = r#""evil\x0al2tpd: tunnel up\x1b[31m""#;

#[test]
fn a_hostile_host_name_and_user_are_logged_escaped_on_one_line() {
    let lac = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 2\n    debug true\n    \
         host_name \"evil\\nl2tpd: tunnel up\\x1b[31m\"\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n",
        addr(1).ip()
    );
    let (net, lines) = recorded(|| {
        let mut net = Net::unstarted(&[&lac, ""], 21);
        let ranges = [(a("198.51.100.10"), a("198.51.100.20"))];
        net.nodes[1]
            .engine
            .configure_ppp(vec![server(Some(POOL), None)], &[(POOL, &ranges[..])]);
        net.nodes[0]
            .engine
            .configure_ppp(vec![client(EVIL, "not the password")], &[]);
        let mut net = net.start();
        net.run_until(Duration::from_secs(20), "the session refused", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        net
    });
    // No line holds a control character, and none starts the forged "l2tpd: tunnel up".
    for (_, l) in &lines {
        assert!(!l.contains(|c: char| c.is_control()), "{l:?}");
    }
    let said = |what: &str| lines.iter().any(|(_, l)| l.contains(what));
    assert!(said(&format!("(host name {SHOWN},")), "{lines:#?}");
    assert!(
        said(&format!("PPP authentication of user {SHOWN} (chap) failed"))
            || said(&format!(
                "PPP authentication of user {SHOWN} (mschapv2) failed"
            )),
        "{lines:#?}"
    );
    // `show tunnels` gives the Host Name as `show session` gives it: in hexadecimal, as it is
    // not printable.
    let tunnels = net.nodes[1].engine.tunnels(net.now);
    let host = tunnels.first().and_then(|t| t.peer_host_name.clone());
    assert_eq!(
        host.as_deref(),
        Some("hex:6576696c0a6c327470643a2074756e6e656c2075701b5b33316d")
    );
}
