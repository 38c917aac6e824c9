//! A pseudowire profile whose settings the system refuses when the session's TAP is set up (a
//! `bridge` that does not exist or is not a bridge, an `interface_name` another interface has):
//! the session is disconnected and the log names the interface, the setting and the cause;
//! its scripts hear of no session-up nor session-down (the interface they would set up is not
//! the session's).

use std::os::unix::fs::PermissionsExt;

use super::flushed_log;
use super::netns::{DEADLINE, L2tpd, Lab, Side, poll};

/// Starts a server on B and a client on A whose pseudowire profile has `pw` (after `setup` in
/// A's namespace), and waits for A's log to have a line with every one of `want`; returns it.
fn refused(tag: &str, pw: &str, setup: impl FnOnce(&Lab), want: &[&str]) -> String {
    let mut lab = Lab::new(tag, &[]);
    setup(&lab);
    let server_conf = "peer profile \"clients\" {\n    peer_ipaddr 192.0.2.0/24\n    \
                       session_profile_name \"eth\"\n}\n\n\
                       session profile \"eth\" {\n    pseudowire_type eth\n}\n";
    let client_conf = format!(
        "tunnel \"t1\" {{\n    version 3\n    peer 192.0.2.2\n    persist false\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n    pseudowire_type eth\n    \
         pseudowire_profile_name \"pw\"\n}}\n\n\
         pseudowire profile \"pw\" {{\n{pw}}}\n"
    );
    let dp = "    dataplane userspace\n";
    // A's scripts note each session event they run for.
    let ran = lab.path("scripts.log");
    let scripts = lab.path("scripts");
    std::fs::create_dir(&scripts).unwrap();
    for event in [
        "session-created",
        "session-up",
        "session-down",
        "session-deleted",
    ] {
        let script = scripts.join(event);
        let text = format!(
            "#!/bin/sh\necho {event} \"$INTERFACE_NAME\" >> {}\n",
            ran.display()
        );
        std::fs::write(&script, text).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let a_dp = format!("{dp}    script_dir {}\n", scripts.display());
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, server_conf);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", &a_dp, &client_conf);
    let log = |d: &L2tpd| flushed_log(&lab, d);
    let line = poll(
        DEADLINE,
        &format!("a log line with {want:?}"),
        || {
            log(&a)
                .lines()
                .find(|l| want.iter().all(|w| l.contains(w)))
                .map(str::to_owned)
        },
        || lab.pair_context(&a, &b),
    );
    // The CDN tells the peer, which logs it, that the data path could not be set up (result 4,
    // lack of facilities); A's warning is its only line of the session, never up nor down.
    let cdn = "result 4 error 0: data path set-up failed";
    poll(
        DEADLINE,
        "B logging A's CDN",
        || {
            let down = |d: &L2tpd, what: &str| log(d).lines().any(|l| l.contains(what));
            down(&b, &format!("down (peer, {cdn})")).then_some(())
        },
        || lab.pair_context(&a, &b),
    );
    assert!(line.contains(": not set up: data plane: "), "{line}");
    let a_log = log(&a);
    assert!(
        !a_log
            .lines()
            .any(|l| l.contains("\"s1\": up (") || l.contains("\"s1\": down (")),
        "{a_log}"
    );
    // The session was created and deleted, but never up as far as its scripts go.
    let events = poll(
        DEADLINE,
        "the session-deleted script",
        || {
            let text = std::fs::read_to_string(&ran).unwrap_or_default();
            text.contains("session-deleted").then_some(text)
        },
        || lab.pair_context(&a, &b),
    );
    assert!(events.contains("session-created"), "{events}");
    assert!(
        !events.contains("session-up") && !events.contains("session-down"),
        "{events}"
    );
    // Counted as a session that failed to come up.
    let system = lab
        .ctl(&a, &["show", "system"])
        .unwrap_or_else(|e| panic!("{e}"));
    let failures = &system["statistics"]["session_setup_failures"];
    assert!(failures.as_u64() >= Some(1), "{system}");
    line
}

/// Adds a veth pair `epwveth0`/`epwveth1` in A's namespace: an interface that is not a bridge
/// nor a TAP.
fn add_veth_on_a(lab: &Lab) {
    let ns = lab.ns(Side::A);
    super::netns::ip(&[
        "-n", ns, "link", "add", "epwveth0", "type", "veth", "peer", "name", "epwveth1",
    ]);
}

/// A `bridge` that does not exist is named as such.
#[test]
fn a_missing_bridge_is_named_in_the_log() {
    let line = refused(
        "userspace-no-bridge",
        "    interface_name epwtap0\n    bridge epwnobr\n",
        |_| {},
        &["adding epwtap0 to bridge epwnobr (no such interface)"],
    );
    assert!(line.contains("disconnecting the session"), "{line}");
    assert!(!line.contains("data plane: data plane:"), "{line}");
}

/// A `bridge` that names an interface that is not a bridge is named as such.
#[test]
fn a_bridge_that_is_not_a_bridge_is_named_in_the_log() {
    let line = refused(
        "userspace-not-bridge",
        "    interface_name epwtap0\n    bridge epwveth0\n",
        add_veth_on_a,
        &["adding epwtap0 to bridge epwveth0 (not a bridge)"],
    );
    assert!(line.contains("disconnecting the session"), "{line}");
}

/// An `interface_name` that an interface other than a TAP has already is named as such.
#[test]
fn an_interface_name_taken_by_another_interface_is_named_in_the_log() {
    refused(
        "userspace-name-taken",
        "    interface_name epwveth0\n",
        add_veth_on_a,
        &["creating TAP epwveth0 (an interface of that name exists already)"],
    );
}

/// Two sessions whose profile gives the same fixed `interface_name`: the second is refused
/// rather than attached to the first one's multi-queue TAP as more queues of it (the two
/// sessions' frames would then be mixed on one interface).
#[test]
fn a_second_session_does_not_take_over_the_first_ones_tap() {
    let mut lab = Lab::new("userspace-same-name", &[]);
    let server_conf = "peer profile \"clients\" {\n    peer_ipaddr 192.0.2.0/24\n    \
                       session_profile_name \"eth\"\n    pseudowire_profile_name \"one\"\n}\n\n\
                       session profile \"eth\" {\n    pseudowire_type eth\n}\n\n\
                       pseudowire profile \"one\" {\n    interface_name epwone\n}\n";
    let client_conf = "tunnel \"t1\" {\n    version 3\n    peer 192.0.2.2\n    persist false\n}\n\n\
                       session \"s1\" {\n    tunnel \"t1\"\n    pseudowire_type eth\n}\n\n\
                       session \"s2\" {\n    tunnel \"t1\"\n    pseudowire_type eth\n}\n";
    // Two data-path threads, so that each session's TAP has two queues.
    let dp = "    dataplane userspace\n    dataplane_threads 2\n";
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, server_conf);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, client_conf);
    let want = "creating TAP epwone (an interface of that name exists already)";
    poll(
        DEADLINE,
        &format!("B refusing the second session with {want:?}"),
        || {
            let up = lab.list(&b, "sessions").iter().any(|s| s["state"] == "up");
            (up && flushed_log(&lab, &b).contains(want)).then_some(())
        },
        || lab.pair_context(&a, &b),
    );
    let up: Vec<_> = lab
        .list(&b, "sessions")
        .into_iter()
        .filter(|s| s["state"] == "up")
        .collect();
    assert_eq!(up.len(), 1, "{up:?}\n{}", lab.pair_context(&a, &b));
    assert_eq!(
        up[0]["interface_name"],
        "epwone",
        "{}",
        lab.pair_context(&a, &b)
    );
}
