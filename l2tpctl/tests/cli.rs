//! `l2tpctl` against a real `l2tpd`, both as built binaries.
//!
//! `l2tpd` is `$L2TPD_BIN`, else the one beside `l2tpctl` in the same target directory, built
//! first with `cargo build -p l2tpd` (see `l2tp_testkit::daemon::l2tpd_beside`). Every wait is
//! bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use l2tp_testkit::daemon::{Env, l2tpd_beside, spawn_piped, wait_output};

fn l2tpctl() -> &'static str {
    env!("CARGO_BIN_EXE_l2tpctl")
}

const PROFILES: &str = "\
tunnel profile \"v3\" {
    version 3
    secret \"hunter2\"
    hello_timeout 30
}
";

/// A running `l2tpd -f` with its files in a temporary directory (killed and cleaned on drop),
/// named `test-host` with router id 192.0.2.9, and `rest` after the system block.
fn start(name: &str, rest: &str) -> Env {
    Env::started(
        l2tpd_beside(l2tpctl()),
        name,
        "    host_name test-host\n    router_id 192.0.2.9\n",
        rest,
    )
}

trait Ctl {
    /// Runs `l2tpctl -S SOCK ARGS` against this daemon.
    fn ctl(&self, args: &[&str]) -> Output;
}

impl Ctl for Env {
    fn ctl(&self, args: &[&str]) -> Output {
        let sock = self.sock();
        let mut all = vec!["-S", sock.to_str().unwrap()];
        all.extend_from_slice(args);
        run_ctl(&all)
    }
}

fn run_ctl(args: &[&str]) -> Output {
    wait_output(spawn_piped(Command::new(l2tpctl()).args(args)))
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", err(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

#[test]
fn show_system_as_text_and_json() {
    let d = start("system", "");
    let o = d.ctl(&["show", "system"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    for want in [
        "l2tpd 0.1.0",
        "host name:",
        "test-host",
        "router id:",
        "3221225993 (192.0.2.9)",
        "listening on:",
        "127.0.0.1:",
        "log level:",
        "notice",
        "tunnels:",
        "statistics:",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    let v = json(&d.ctl(&["--json", "show", "system"]));
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["host_name"], "test-host");
    assert_eq!(v["router_id"], 0xc000_0209u32);
    assert_eq!(v["log_level"], "notice");
    assert_eq!(v["listen"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["counts"]["tunnels"], 0);
    assert_eq!(v["counts"]["sessions"], 0);
    assert!(v["statistics"].is_object());
    // Every kind the page lists is there, 0 before the first, as scripts read them.
    let malformed = &v["statistics"]["malformed"];
    for kind in [
        "header",
        "unknown_tunnel",
        "unknown_session",
        "late_cdn",
        "static_tunnel",
        "data_wrong_cookie",
    ] {
        assert_eq!(malformed[kind], 0, "{kind}: {malformed}");
    }
    assert!(v["statistics"]["ppp_proxy"].is_object(), "{v}");
    // So are the kinds it names of the other counters by reason (some of each; the metrics'
    // tests hold l2tpd's lists to l2tpctl(1) whole).
    for (counter, kinds) in [
        (
            "data_discards",
            &[
                "rx_errors",
                "rx_oversize",
                "seq_errors",
                "spoofed",
                "ppp_invalid",
            ][..],
        ),
        ("ppp_auth_failures", &["unknown_user", "wrong_credentials"]),
        (
            "ppp_address_refusals",
            &[
                "pool_exhausted",
                "address_in_use",
                "no_pool",
                "address_unusable",
            ],
        ),
        ("ppp_tun_discards", &["unrouted", "multicast", "io_error"]),
        (
            "radius_values_ignored",
            &["route_default", "route_taken", "mtu", "class_no_room"],
        ),
        (
            "ppp_down",
            &[
                "peer_terminated",
                "echo_timeout",
                "idle_timeout",
                "session_timeout",
            ],
        ),
        (
            "ppp_proxy",
            &[
                "lcp_taken",
                "lcp_refused",
                "lcp_malformed",
                "auth_taken",
                "auth_ignored",
            ],
        ),
    ] {
        for kind in kinds {
            assert_eq!(v["statistics"][counter][kind], 0, "{counter} {kind}: {v}");
        }
    }
    assert!(
        text.contains("  data_discards:\n    peer_unreachable"),
        "{text}"
    );
}

/// An empty table is its header line alone (a script that drops the first line counts no
/// row); a listing that is no table says in one line that it is empty, as `show radius` does
/// of its servers. The JSON is an empty array (`show radius`: no servers).
#[test]
fn empty_listings_say_so() {
    let d = start("tables", "");
    for (cmd, header) in [
        (&["show", "tunnels"][..], ["TID", "PEER"]),
        (&["show", "sessions"], ["TID", "SID"]),
    ] {
        let o = d.ctl(cmd);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}: {}", err(&o));
        assert_eq!(out(&o).lines().count(), 1, "{cmd:?}: {}", out(&o));
        assert!(header.iter().all(|h| out(&o).contains(h)), "{}", out(&o));
    }
    let o = d.ctl(&["show", "ip", "pools"]);
    assert_eq!(out(&o), "no IP pool\n");
    // Its counters follow.
    let o = d.ctl(&["show", "radius"]);
    assert!(out(&o).starts_with("no RADIUS server\n"), "{}", out(&o));
    for cmd in [
        &["show", "tunnels"][..],
        &["show", "sessions"],
        &["show", "ip", "pools"],
    ] {
        let j = [&["-j"][..], cmd].concat();
        assert_eq!(json(&d.ctl(&j)), serde_json::json!([]), "{cmd:?}");
    }
    assert_eq!(
        json(&d.ctl(&["-j", "show", "radius"]))["servers"],
        serde_json::json!([])
    );
    let o = d.ctl(&["show", "tunnel", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no tunnel 5"), "{}", err(&o));
    let o = d.ctl(&["-j", "show", "session", "lns", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).is_empty() && err(&o).contains("no tunnel \"lns\""));
}

#[test]
fn profiles_as_text_and_json() {
    let d = start("profiles", PROFILES);
    let o = d.ctl(&["show", "tunnel", "profiles"]);
    assert_eq!(out(&o), "v3\ndefault (built-in)\n");
    assert_eq!(
        json(&d.ctl(&["--json", "show", "tunnel", "profiles"])),
        serde_json::json!(["v3", "default"])
    );
    for kind in ["peer", "session", "pseudowire"] {
        assert_eq!(
            json(&d.ctl(&["-j", "show", kind, "profiles"])),
            serde_json::json!(["default"])
        );
    }
    let o = d.ctl(&["-j", "show", "tunnel", "profile", "v3"]);
    assert!(!out(&o).contains("hunter2"));
    let v = json(&o);
    assert_eq!(v["name"], "v3");
    assert_eq!(v["version"], 3);
    assert_eq!(v["hello_timeout"], 30);
    assert_eq!(v["secret"], "<redacted>");
    assert_eq!(v["auth_mode"], "challenge");
    let o = d.ctl(&["show", "session", "profile", "default"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    insta::assert_snapshot!(out(&o));
    let o = d.ctl(&["show", "pseudowire", "profile", "missing"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no pseudowire profile \"missing\""));
}

#[test]
fn reload_create_delete_and_debug() {
    let d = start("commands", "");
    let o = d.ctl(&["reload"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "config reloaded: no changes\n");
    let o = d.ctl(&["-j", "reload"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        json(&o),
        serde_json::json!({"changes": [], "restart_needed": []})
    );
    for args in [
        &["delete", "tunnel", "t1"][..],
        &["delete", "session", "t1", "2"],
        &["debug", "tunnel", "t1", "on"],
        &["debug", "session", "t1", "2", "off"],
    ] {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            err(&o).contains("no tunnel \"t1\""),
            "{args:?}: {}",
            err(&o)
        );
    }

    // Create: a tunnel (to a silent peer, so it stays connecting) and a session in it.
    let o = d.ctl(&[
        "-j",
        "create",
        "tunnel",
        "t1",
        "peer=192.0.2.1",
        "version=3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let t = json(&o);
    assert_eq!(t["name"], "t1");
    assert_eq!(t["created_by"], "cli");
    assert_eq!(t["version"], 3);
    let o = d.ctl(&[
        "create",
        "session",
        "t1",
        "s1",
        "pseudowire_type=eth",
        "user_data=a b",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = d.ctl(&["-j", "show", "sessions", "t1"]);
    let list = json(&o);
    assert_eq!(list[0]["name"], "s1", "{list}");
    assert_eq!(list[0]["created_by"], "cli", "{list}");
    // Refusals, each with its reason.
    let refused = |args: &[&str], needle: &str| {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", out(&o));
        assert!(err(&o).contains(needle), "{args:?}: {}", err(&o));
    };
    refused(
        &["create", "tunnel", "t1", "peer=192.0.2.2"],
        "already exists",
    );
    refused(
        &[
            "create",
            "tunnel",
            "t2",
            "peer=192.0.2.2",
            "hello_timeout=soon",
        ],
        "soon",
    );
    refused(
        &["create", "tunnel", "t2", "peer=192.0.2.2", "profile=nope"],
        "nope",
    );
    refused(
        &["create", "session", "t9", "s2", "pseudowire_type=eth"],
        "no tunnel \"t9\"",
    );
    refused(&["create", "session", "t1", "s1"], "already exists");
    refused(
        &["create", "session", "t1", "s3", "cookie_length=5"],
        "cookie_length",
    );
    // Usage errors never reach the daemon.
    let o = d.ctl(&["create", "tunnel", "t3", "version=3"]);
    assert_eq!(o.status.code(), Some(2));
    // Delete: the session, then the tunnel; both are gone afterwards.
    let o = d.ctl(&["delete", "session", "t1", "s1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = d.ctl(&["delete", "tunnel", "t1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    refused(&["delete", "tunnel", "t7"], "no tunnel \"t7\"");
    // A deleted l2tpctl tunnel may be created again.
    let o = d.ctl(&["create", "tunnel", "t1", "peer=192.0.2.3"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// A reload whose file has a block named like a tunnel made with `l2tpctl` applies the rest,
/// prints the refused block with its reason, and exits 4; once the `l2tpctl` tunnel is
/// deleted, reloading the same file applies the block and exits 0.
#[test]
fn reload_prints_refused_blocks_and_exits_4() {
    let d = start("reload-refused", "");
    // To silent peers: the tunnels stay connecting.
    let o = d.ctl(&["create", "tunnel", "c", "peer=192.0.2.1", "version=3"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let conf = d.dir.join("l2tpd.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("tunnel \"c\" {\n    peer 192.0.2.2\n}\ntunnel \"d\" {\n    peer 192.0.2.3\n}\n");
    std::fs::write(&conf, &text).unwrap();
    let refused = "tunnel \"c\" refused: a tunnel of that name was made with l2tpctl";
    let o = d.ctl(&["reload"]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    assert_eq!(
        out(&o),
        format!("config reloaded:\n  tunnel \"d\" added\n{refused}\n")
    );
    // Still there at the next reload, as JSON.
    let o = d.ctl(&["-j", "reload"]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap(),
        serde_json::json!({
            "changes": [],
            "restart_needed": [],
            "refused": [{
                "item": "tunnel",
                "name": "c",
                "reason": "a tunnel of that name was made with l2tpctl"
            }]
        })
    );
    let o = d.ctl(&["delete", "tunnel", "c"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = d.ctl(&["reload"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "config reloaded:\n  tunnel \"c\" added\n");
    let o = d.ctl(&["-j", "show", "tunnel", "c"]);
    assert_eq!(json(&o)["created_by"], "config", "{}", out(&o));
}

/// A block refused for its `l2tpctl` namesake, then taken out of the file, removed nothing:
/// the next reload does not list it as removed, and the `l2tpctl` tunnel stays as it was.
#[test]
fn reload_without_a_refused_block_lists_no_removal() {
    let d = start("reload-unrefused", "");
    let o = d.ctl(&["create", "tunnel", "c", "peer=192.0.2.1", "version=3"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let conf = d.dir.join("l2tpd.conf");
    let plain = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!("{plain}tunnel \"c\" {{\n    peer 192.0.2.2\n}}\n"),
    )
    .unwrap();
    let o = d.ctl(&["reload"]);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    let shown = |d: &Env| {
        let t = json(&d.ctl(&["-j", "show", "tunnel", "c"]));
        (t["tid"].clone(), t["created_by"].clone())
    };
    let before = shown(&d);
    assert_eq!(before.1, "cli");
    std::fs::write(&conf, &plain).unwrap();
    let o = d.ctl(&["reload"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "config reloaded: no changes\n");
    assert_eq!(shown(&d), before);
}

/// A tunnel instance with no tunnel at the moment (here: its peer's name does not resolve, so it
/// waits to try again) is deleted by name like a connected one, and is gone.
#[test]
fn delete_tunnel_stops_a_tunnel_that_is_not_connected() {
    let d = start("delete-idle", "");
    let o = d.ctl(&["create", "tunnel", "far", "peer=no-such-peer.invalid"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // Its local address is not known: null, as l2tpctl(1) has unknown values.
    let list = json(&d.ctl(&["--json", "show", "tunnels"]));
    assert_eq!(list[0]["name"], "far", "{list}");
    assert_eq!(list[0]["local"], serde_json::Value::Null, "{list}");
    let text = out(&d.ctl(&["show", "tunnel", "far"]));
    assert!(text.contains("local:            -\n"), "{text}");
    // Listed, so its sessions may be listed: none.
    let sessions = json(&d.ctl(&["--json", "show", "sessions", "far"]));
    assert_eq!(sessions, serde_json::json!([]));
    // A session of it waits for it to come up, listed as idle, and is deleted by name as well.
    let o = d.ctl(&["create", "session", "far", "call", "pseudowire_type=eth"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    for args in [
        &["--json", "show", "sessions"][..],
        &["--json", "show", "sessions", "far"],
    ] {
        let list = json(&d.ctl(args));
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{args:?}: {list}");
        assert_eq!(list[0]["name"], "call", "{list}");
        assert_eq!(list[0]["tunnel_name"], "far", "{list}");
        assert_eq!(list[0]["state"], "idle", "{list}");
        assert_eq!(list[0]["pseudowire_type"], "eth", "{list}");
    }
    // Debugging of either starts with its next attempt.
    for args in [
        &["debug", "tunnel", "far", "on"][..],
        &["debug", "session", "far", "call", "on"],
    ] {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
        assert!(out(&o).contains("from its next attempt"), "{}", out(&o));
    }
    let o = d.ctl(&["debug", "session", "other", "call", "on"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let one = json(&d.ctl(&["--json", "show", "tunnel", "far"]));
    assert_eq!(one["debug"], true, "{one}");
    let one = json(&d.ctl(&["--json", "show", "session", "far", "call"]));
    assert_eq!(one["debug"], true, "{one}");
    assert_eq!(one["state"], "idle", "{one}");
    assert_eq!(one["protocol_state"], "waiting for its tunnel", "{one}");
    let text = out(&d.ctl(&["show", "sessions", "state", "idle"]));
    assert!(
        text.lines()
            .any(|l| l.contains("call") && l.contains("idle")),
        "{text}"
    );
    let text = out(&d.ctl(&["show", "sessions", "state", "up"]));
    assert!(!text.contains("call"), "{text}");
    let o = d.ctl(&["delete", "session", "far", "call"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("session \"call\" deleted"), "{}", out(&o));
    let o = d.ctl(&["delete", "session", "far", "call"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let list = json(&d.ctl(&["--json", "show", "sessions"]));
    assert_eq!(list, serde_json::json!([]));
    let o = d.ctl(&["delete", "tunnel", "far"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).contains("tunnel \"far\" deleted"), "{}", out(&o));
    // Gone, as a deleted tunnel of l2tpctl is: not shown, listed or deleted again.
    for args in [&["show", "tunnel", "far"][..], &["delete", "tunnel", "far"]] {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", out(&o));
        assert!(err(&o).contains("no tunnel \"far\""), "{}", err(&o));
    }
    assert_eq!(
        json(&d.ctl(&["--json", "show", "tunnels"])),
        serde_json::json!([])
    );
}

#[test]
fn reload_of_a_broken_file_fails_and_prints_the_problems() {
    let d = start("reload-bad", "");
    std::fs::write(d.dir.join("l2tpd.conf"), "system {\n    bogus 1\n}\n").unwrap();
    let o = d.ctl(&["reload"]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("l2tpd.conf:2:5: error"), "{e}");
    assert!(e.contains("keeping the running config"), "{e}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["show"],
        &["debug", "tunnel", "1", "maybe"],
        &["create", "tunnel", "t"],
        &["create", "tunnel", "t", "peer=1.2.3.4", "colour=red"],
        &["--no-such-option"],
    ] {
        let o = run_ctl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(!err(&o).is_empty());
    }
    let o = run_ctl(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("show tunnels"));
}

#[test]
fn a_missing_daemon_is_named_as_the_cause() {
    let sock = std::env::temp_dir().join(format!("l2tpctl-absent-{}.sock", std::process::id()));
    for json in [false, true] {
        let mut args = vec!["-S", sock.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        args.extend(["show", "tunnels"]);
        let o = run_ctl(&args);
        assert_eq!(o.status.code(), Some(3));
        assert!(out(&o).is_empty());
        assert_eq!(
            err(&o),
            format!(
                "l2tpctl: l2tpd is not running (no socket at {})\n",
                sock.display()
            )
        );
    }
    // A socket file nobody listens on.
    let dead = std::env::temp_dir().join(format!("l2tpctl-dead-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&dead);
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let o = run_ctl(&["-S", dead.to_str().unwrap(), "show", "system"]);
    let _ = std::fs::remove_file(&dead);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        err(&o).contains("does not seem to be running"),
        "{}",
        err(&o)
    );
}

/// A control socket at a fresh path that answers one connection with `answer` (after reading
/// the request line) and then closes it: a daemon that stops while it answers, or one of
/// another release.
fn one_answer(name: &str, answer: String) -> (std::path::PathBuf, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, Write};
    let path = std::env::temp_dir().join(format!("l2tpctl-{name}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let served = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut request = String::new();
        let _ = std::io::BufReader::new(&stream).read_line(&mut request);
        let _ = (&stream).write_all(answer.as_bytes());
    });
    (path, served)
}

/// A listing whose daemon stops between two pages, or in the middle of a line, is not printed
/// as if it were the whole list: exit 3, nothing on standard output, and the message says the
/// answer was cut short, not that it never came or is not l2tpd's.
#[test]
fn an_answer_cut_short_is_no_answer() {
    use l2tp_ctl::{Reply, Response};
    let page = l2tp_ctl::encode_page(&Reply::Ok(Response::Sessions(Vec::new())), true);
    let half = page[..page.len() / 2].to_owned();
    for (name, answer) in [("between-pages", page), ("mid-line", half)] {
        for json in [false, true] {
            let (sock, served) = one_answer(name, answer.clone());
            let mut args = vec!["-S", sock.to_str().unwrap()];
            if json {
                args.push("--json");
            }
            args.extend(["show", "sessions"]);
            let o = run_ctl(&args);
            served.join().unwrap();
            let _ = std::fs::remove_file(&sock);
            assert_eq!(o.status.code(), Some(3), "{name}: {}", err(&o));
            assert!(out(&o).is_empty(), "{name}: {}", out(&o));
            assert_eq!(
                err(&o),
                format!(
                    "l2tpctl: l2tpd closed the connection on {} in the middle of its answer\n",
                    sock.display()
                ),
                "{name}"
            );
        }
    }
}

/// An answer of another kind than the request's (here the one to `l2tpwatch`, or an event) is
/// an error of the exchange with the daemon (exit 3), not an empty success (with `--json` the
/// output would not be one JSON value) nor a refusal of the command (exit 1).
#[test]
fn an_answer_of_another_kind_is_an_error() {
    use l2tp_ctl::{Reply, Response};
    let watching = l2tp_ctl::encode_reply(&Reply::Ok(Response::Watching));
    let lost = l2tp_ctl::encode_reply(&Reply::EventsLost(3));
    for (args, answer) in [
        (&["show", "sessions"][..], &watching),
        (&["--json", "show", "system"], &watching),
        (&["reload"], &lost),
    ] {
        let (sock, served) = one_answer("other-kind", answer.clone());
        let mut all = vec!["-S", sock.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = run_ctl(&all);
        served.join().unwrap();
        let _ = std::fs::remove_file(&sock);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", out(&o));
        assert!(out(&o).is_empty(), "{args:?}: {}", out(&o));
        assert!(
            err(&o).contains("answered with something else than was asked for"),
            "{args:?}: {}",
            err(&o)
        );
    }
}

/// `-S` naming a file or a directory: the message says what it is rather than that nothing
/// answers there, and still that l2tpd does not seem to be running (exit 3, l2tpctl(1)).
#[test]
fn a_path_that_is_not_a_socket_is_named_as_the_cause() {
    let dir = std::env::temp_dir().join(format!("l2tpctl-not-a-socket-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("l2tpd.conf");
    std::fs::write(&file, "system {\n}\n").unwrap();
    for (path, what) in [(&dir, "a directory"), (&file, "a regular file")] {
        let o = run_ctl(&["-S", path.to_str().unwrap(), "show", "system"]);
        assert_eq!(o.status.code(), Some(3), "{}", err(&o));
        assert!(out(&o).is_empty());
        assert_eq!(
            err(&o),
            format!(
                "l2tpctl: {} is {what}, not a socket; l2tpd does not seem to be running\n",
                path.display()
            )
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tunnel instance that `show tunnels` lists but that has no tunnel now (its peer's name
/// does not resolve) exists for every command: a session missing from it is named as the
/// session missing, not as the tunnel missing, as `show session` names it; `request speeds`
/// says that it is not connected.
#[test]
fn a_session_missing_from_an_unconnected_tunnel_is_named_as_the_session() {
    let d = start("unconnected", "");
    let o = d.ctl(&["create", "tunnel", "far", "peer=no-such-peer.invalid"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = d.ctl(&["create", "session", "far", "call", "pseudowire_type=eth"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    for (args, want) in [
        (
            &["show", "session", "far", "nosuch"][..],
            "no session \"nosuch\" in tunnel \"far\"",
        ),
        (
            &["delete", "session", "far", "nosuch"],
            "no session \"nosuch\" in tunnel \"far\"",
        ),
        (
            &["delete", "session", "far", "7"],
            "no session 7 in tunnel \"far\"",
        ),
        (
            &["debug", "session", "far", "nosuch", "on"],
            "no session \"nosuch\" in tunnel \"far\"",
        ),
        (
            &["debug", "session", "far", "0", "on"],
            "no session 0 in tunnel \"far\"",
        ),
        (
            &["request", "speeds", "far"],
            "tunnel \"far\" is not connected: there is no LAC to ask for connect speeds",
        ),
        (
            &["request", "speeds", "far", "call"],
            "tunnel \"far\" is not connected: there is no LAC to ask for connect speeds",
        ),
        // A tunnel that is not listed is still the one missing.
        (&["delete", "session", "near", "call"], "no tunnel \"near\""),
        (
            &["debug", "session", "near", "call", "on"],
            "no tunnel \"near\"",
        ),
        (&["request", "speeds", "near"], "no tunnel \"near\""),
    ] {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", out(&o));
        assert_eq!(err(&o), format!("l2tpctl: {want}\n"), "{args:?}");
    }
    // The session that is there is still deleted by name.
    let o = d.ctl(&["delete", "session", "far", "call"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
}

/// A `create` whose NAME was forgotten, so that its first `key=value` stands where the name
/// goes, is a usage error (exit 2) that says so, before any daemon is asked: not a session
/// named `pseudowire_type=eth` with the default pseudowire, nor a complaint that `peer` is
/// missing.
#[test]
fn create_without_a_name_says_so() {
    let sock = std::env::temp_dir().join(format!("l2tpctl-unused-{}.sock", std::process::id()));
    for (args, word, syntax) in [
        (
            &["create", "session", "lns", "pseudowire_type=eth"][..],
            "pseudowire_type=eth",
            "create session TUNNEL NAME [key=value ...]",
        ),
        (
            &["create", "tunnel", "peer=192.0.2.1", "version=3"],
            "peer=192.0.2.1",
            "create tunnel NAME [key=value ...]",
        ),
    ] {
        let mut all = vec!["-S", sock.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = run_ctl(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(
            err(&o).starts_with(&format!(
                "l2tpctl: `{word}` is a parameter, not the name of the new {}: expected \
                 `{syntax}`\n",
                args[1]
            )),
            "{args:?}: {}",
            err(&o)
        );
    }
    // A name with `=` that is no parameter is a name.
    let o = run_ctl(&[
        "-S",
        sock.to_str().unwrap(),
        "create",
        "tunnel",
        "a=b",
        "peer=192.0.2.1",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
}

/// An answer that cannot be written out (standard output on a full device) is an error
/// (exit 1, with the reason), not a success with the output lost.
#[test]
fn an_answer_that_cannot_be_written_is_an_error() {
    use l2tp_ctl::{Reply, Response};
    let answer = l2tp_ctl::encode_reply(&Reply::Ok(Response::Done("tunnel 1 debug on".into())));
    let (sock, served) = one_answer("full", answer);
    let child = Command::new(l2tpctl())
        .args(["-S", sock.to_str().unwrap(), "debug", "tunnel", "1", "on"])
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = wait_output(child);
    served.join().unwrap();
    let _ = std::fs::remove_file(&sock);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(
        err(&o),
        "l2tpctl: writing the output: No space left on device (os error 28)\n"
    );
}

/// Tunnels and sessions named with digits only are reached by those digits also while they
/// have no tunnel or session, and so no id, now (l2tpctl(1): digits select the one with that
/// id, or one whose name is spelled with them): every command finds them.
#[test]
fn names_of_digits_reach_instances_that_are_not_connected() {
    let d = start("digit-names", "");
    let o = d.ctl(&["create", "tunnel", "4242", "peer=no-such-peer.invalid"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let ok = |args: &[&str]| {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
        out(&o)
    };
    let t = json(&d.ctl(&["-j", "show", "tunnel", "4242"]));
    assert_eq!(
        (t["tid"].clone(), t["name"].clone()),
        (0.into(), "4242".into())
    );
    assert_eq!(
        json(&d.ctl(&["-j", "show", "sessions", "4242"])),
        serde_json::json!([])
    );
    assert!(ok(&["debug", "tunnel", "4242", "on"]).contains("from its next attempt"));
    ok(&["create", "session", "4242", "77", "pseudowire_type=eth"]);
    let s = json(&d.ctl(&["-j", "show", "session", "4242", "77"]));
    assert_eq!(s["name"], "77", "{s}");
    assert_eq!(s["tunnel_name"], "4242", "{s}");
    let list = json(&d.ctl(&["-j", "show", "sessions", "4242"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert!(ok(&["debug", "session", "4242", "77", "on"]).contains("from its next attempt"));
    let o = d.ctl(&["request", "speeds", "4242"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("is not connected"), "{}", err(&o));
    assert!(ok(&["delete", "session", "4242", "77"]).contains("deleted"));
    assert!(ok(&["delete", "tunnel", "4242"]).contains("deleted"));
    let o = d.ctl(&["show", "tunnel", "4242"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(err(&o), "l2tpctl: no tunnel 4242\n");
}

/// A tunnel of the config file deleted with `l2tpctl` stays, stopped (l2tpctl(1), `delete
/// tunnel`): `show tunnel` gives it, and `debug tunnel` and `delete tunnel` say that it is
/// stopped rather than that there is no such tunnel.
#[test]
fn a_deleted_config_tunnel_is_named_as_stopped() {
    let d = start(
        "stopped",
        "tunnel \"cfg\" {\n    peer no-such-peer.invalid\n}\n",
    );
    let o = d.ctl(&["delete", "tunnel", "cfg"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let t = json(&d.ctl(&["-j", "show", "tunnel", "cfg"]));
    assert_eq!(t["protocol_state"], "stopped", "{t}");
    for args in [
        &["debug", "tunnel", "cfg", "on"][..],
        &["delete", "tunnel", "cfg"],
    ] {
        let o = d.ctl(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", out(&o));
        assert_eq!(
            err(&o),
            "l2tpctl: tunnel \"cfg\" is stopped: it was deleted, or given up\n",
            "{args:?}"
        );
    }
}
