//! Two real `l2tpd` processes on 127.0.0.1 (different ports) talking L2TP to each other, with
//! data plane `none`, checked through `l2tpctl --json show ...` (or, when `l2tpctl` has not
//! been built beside `l2tpd`, the same JSON objects straight from the control socket).
//!
//! Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Env, ctl, l2tpd, wait_for};
use l2tp_ctl::{Request, Selector};
use nix::sys::signal::Signal;
use serde_json::Value;

/// The longest a tunnel or session takes to come up on loopback.
const UP: Duration = Duration::from_secs(10);

fn tunnels(env: &Env) -> Vec<Value> {
    ctl(env, &["show", "tunnels"]).as_array().unwrap().clone()
}

fn sessions(env: &Env) -> Vec<Value> {
    ctl(env, &["show", "sessions"]).as_array().unwrap().clone()
}

fn by_name(list: &[Value], name: &str) -> Option<Value> {
    list.iter().find(|t| t["name"] == name).cloned()
}

/// The entry named `name` that satisfies `f` (an instance may have an old record closing
/// beside its new one).
fn find(list: &[Value], name: &str, f: impl Fn(&Value) -> bool) -> Option<Value> {
    list.iter().find(|t| t["name"] == name && f(t)).cloned()
}

fn up(env: &Env, name: &str) -> Value {
    wait_for(UP, &format!("tunnel {name} up"), env, || {
        find(&tunnels(env), name, |t| t["state"] == "up")
    })
}

fn session_up(env: &Env, name: &str) -> Value {
    wait_for(UP, &format!("session {name} up"), env, || {
        find(&sessions(env), name, |s| s["state"] == "up")
    })
}

fn server(extra: &str, rest: &str) -> Env {
    let mut s = Env::new(l2tpd(), "server");
    s.write_config(&format!("    dataplane none\n{extra}"), rest);
    s.start(&["-d"]);
    s
}

fn client(server: &Env, extra: &str, tunnels: &[(&str, &str)], sessions: &[(&str, &str)]) -> Env {
    let mut c = Env::new(l2tpd(), "client");
    let mut rest = String::new();
    for (name, body) in tunnels {
        rest.push_str(&format!(
            "tunnel \"{name}\" {{\n    peer 127.0.0.1:{}\n{body}}}\n",
            server.port
        ));
    }
    for (name, body) in sessions {
        rest.push_str(&format!("session \"{name}\" {{\n{body}}}\n"));
    }
    c.write_config(&format!("    dataplane none\n{extra}"), &rest);
    c.start(&["-d"]);
    c
}

#[test]
fn a_v2_ppp_and_a_v3_eth_session_come_up_and_sigterm_stops_with_stopccn() {
    let s = server("", "");
    let mut c = client(
        &s,
        "",
        &[("t2", "    version 2\n"), ("t3", "    version 3\n")],
        &[
            ("s2", "    tunnel \"t2\"\n"),
            ("s3", "    tunnel \"t3\"\n    pseudowire_type eth\n"),
        ],
    );
    let t2 = up(&c, "t2");
    let t3 = up(&c, "t3");
    assert_eq!(t2["version"], 2);
    assert_eq!(t3["version"], 3);
    for t in [&t2, &t3] {
        assert_eq!(t["encap"], "udp");
        assert_eq!(t["created_by"], "config");
        assert_eq!(t["peer"], format!("127.0.0.1:{}", s.port));
        assert_eq!(t["local"], format!("127.0.0.1:{}", c.port));
        assert_ne!(t["tid"], 0);
        assert_ne!(t["peer_tid"], 0);
        assert!(t["uptime_s"].is_u64());
    }
    let s2 = session_up(&c, "s2");
    let s3 = session_up(&c, "s3");
    assert_eq!(s2["pseudowire_type"], "ppp");
    assert_eq!(s3["pseudowire_type"], "eth");
    assert_eq!(s2["tid"], t2["tid"]);
    assert_eq!(s3["tid"], t3["tid"]);
    assert!(s2.get("interface_name").is_some());

    // The server's view: two tunnels made by the network, one session each, ids mirrored.
    let on_server = wait_for(UP, "server sessions up", &s, || {
        let list = sessions(&s);
        (list.len() == 2 && list.iter().all(|x| x["state"] == "up")).then_some(list)
    });
    let st = tunnels(&s);
    assert_eq!(st.len(), 2, "{st:?}");
    for t in &st {
        assert_eq!(t["created_by"], "net");
        assert_eq!(t["state"], "up");
        assert_eq!(t["sessions"], 1);
        assert_eq!(t["name"], Value::Null);
        let mine = if t["version"] == 2 { &t2 } else { &t3 };
        assert_eq!(t["tid"], mine["peer_tid"]);
        assert_eq!(t["peer_tid"], mine["tid"]);
    }
    for x in &on_server {
        let mine = if x["pseudowire_type"] == "ppp" {
            &s2
        } else {
            &s3
        };
        assert_eq!(x["sid"], mine["peer_sid"]);
        assert_eq!(x["peer_sid"], mine["sid"]);
    }
    let tunnel_json = ctl(&c, &["show", "tunnel", "t3"]);
    assert_eq!(tunnel_json["protocol_state"], "established");

    // SIGTERM: StopCCN to every peer, a quick exit 0, and the peer sees the tunnels go.
    let start = Instant::now();
    c.signal(Signal::SIGTERM);
    let status = c.wait_exit();
    assert!(status.success(), "{status}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    let log = c.log_text();
    assert!(log.contains("closing 2 tunnel(s)"), "{log}");
    assert!(!log.contains("longer than"), "{log}");
    wait_for(UP, "server tunnels gone", &s, || {
        tunnels(&s)
            .iter()
            .all(|t| t["state"] == "closing")
            .then_some(())
    });
}

#[test]
fn a_wrong_secret_keeps_the_tunnel_down_and_is_counted() {
    let s = server(
        "",
        "tunnel profile \"default\" {\n    secret \"right-secret\"\n}\n",
    );
    let c = client(
        &s,
        "",
        &[(
            "t",
            "    version 3\n    secret \"wrong-secret\"\n    persist false\n",
        )],
        &[],
    );
    let failures = |e: &Env| {
        let sys = ctl(e, &["show", "system"]);
        sys["statistics"]["auth_failures"].as_u64().unwrap_or(0)
    };
    wait_for(UP, "an authentication failure", &c, || {
        (failures(&s) + failures(&c) > 0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        tunnels(&c).iter().all(|t| t["state"] != "up"),
        "{:?}",
        tunnels(&c)
    );
    assert!(tunnels(&s).iter().all(|t| t["state"] != "up"));
    for e in [&s, &c] {
        let log = e.log_text();
        assert!(!log.contains("right-secret") && !log.contains("wrong-secret"));
    }
}

#[test]
fn deny_remote_tunnel_creates_refuses_with_result_4() {
    let s = server("    deny_remote_tunnel_creates true\n", "");
    let c = client(&s, "", &[("t", "    version 3\n    persist false\n")], &[]);
    let detail = wait_for(UP, "the refusal", &c, || {
        let d = ctl(&c, &["show", "tunnel", "t"]);
        d["last_result"].is_object().then_some(d)
    });
    assert_eq!(detail["last_result"]["result"], 4, "{detail}");
    assert_ne!(detail["state"], "up");
    let sys = ctl(&s, &["show", "system"]);
    assert_eq!(sys["counts"]["tunnels"], 0, "{sys}");
    assert!(sys["statistics"]["tunnel_setup_failures"].as_u64() >= Some(1));
    s.wait_log("deny_remote_tunnel_creates");
}

#[test]
fn max_tunnels_refuses_the_second_tunnel_with_result_2_error_4() {
    let s = server("    max_tunnels 1\n", "");
    let c = client(
        &s,
        "",
        &[
            ("a", "    version 3\n    persist false\n"),
            ("b", "    version 3\n    persist false\n"),
        ],
        &[],
    );
    let refused = wait_for(UP, "one tunnel up and one refused", &c, || {
        let list = tunnels(&c);
        let ups = list.iter().filter(|t| t["state"] == "up").count();
        let other = list.iter().find(|t| t["state"] != "up")?;
        let d = ctl(&c, &["show", "tunnel", other["name"].as_str()?]);
        (ups == 1 && d["last_result"].is_object()).then_some(d)
    });
    assert_eq!(refused["last_result"]["result"], 2, "{refused}");
    assert_eq!(refused["last_result"]["error"], 4, "{refused}");
    assert_eq!(tunnels(&s).iter().filter(|t| t["state"] == "up").count(), 1);
}

#[test]
fn max_sessions_refuses_the_second_session_with_result_2_error_4() {
    let s = server("    max_sessions 1\n", "");
    let c = client(
        &s,
        "",
        &[("t", "    version 3\n")],
        &[
            ("s1", "    tunnel \"t\"\n    pseudowire_type eth\n"),
            ("s2", "    tunnel \"t\"\n    pseudowire_type eth\n"),
        ],
    );
    up(&c, "t");
    // The refused session's record is deleted with the CDN; the client's log names the
    // peer's result and error code, and it keeps retrying (persist).
    let ups = |e: &Env| sessions(e).iter().filter(|x| x["state"] == "up").count();
    wait_for(UP, "one session up", &c, || (ups(&c) == 1).then_some(()));
    c.wait_log("result 2 error 4: max_sessions reached");
    assert_eq!(ups(&c), 1);
    assert_eq!(ups(&s), 1);
    s.wait_log("max_sessions reached");
}

#[test]
fn persist_brings_the_tunnel_back_after_the_server_restarts() {
    let mut s = server("", "");
    let c = client(
        &s,
        "    tunnel_persist_pend_timeout 2\n",
        &[("t", "    version 2\n    retry_timeout 1\n")],
        &[("s", "    tunnel \"t\"\n")],
    );
    let first = up(&c, "t");
    session_up(&c, "s");
    s.signal(Signal::SIGTERM);
    assert!(s.wait_exit().success());
    wait_for(UP, "the tunnel to go down", &c, || {
        by_name(&tunnels(&c), "t")
            .filter(|t| t["state"] != "up")
            .map(|_| ())
    });
    std::thread::sleep(Duration::from_millis(1500));
    s.start(&["-d"]);
    let again = wait_for(Duration::from_secs(20), "the tunnel back up", &c, || {
        find(&tunnels(&c), "t", |t| {
            t["state"] == "up" && t["tid"] != first["tid"]
        })
    });
    assert_eq!(again["created_by"], "config");
    session_up(&c, "s");
    c.wait_log("tunnel \"t\": retrying");
}

#[test]
fn sighup_adds_removes_and_changes_sessions_and_leaves_the_rest_alone() {
    let s = server("", "");
    let tunnels_conf = [("keep", "    version 3\n"), ("edit", "    version 3\n")];
    let c = client(
        &s,
        "",
        &tunnels_conf,
        &[
            ("k1", "    tunnel \"keep\"\n    pseudowire_type eth\n"),
            ("gone", "    tunnel \"edit\"\n    pseudowire_type eth\n"),
            ("changed", "    tunnel \"edit\"\n    pseudowire_type eth\n"),
        ],
    );
    let keep = up(&c, "keep");
    let edit = up(&c, "edit");
    let k1 = session_up(&c, "k1");
    session_up(&c, "gone");
    let changed = session_up(&c, "changed");
    std::thread::sleep(Duration::from_millis(1100));

    // Rewrite the config: "gone" removed, "changed" changed, "new" added.
    let mut rest = String::new();
    for (name, body) in tunnels_conf {
        rest.push_str(&format!(
            "tunnel \"{name}\" {{\n    peer 127.0.0.1:{}\n{body}}}\n",
            s.port
        ));
    }
    rest.push_str(
        "session \"k1\" {\n    tunnel \"keep\"\n    pseudowire_type eth\n}\n\
         session \"changed\" {\n    tunnel \"edit\"\n    pseudowire_type ppp\n}\n\
         session \"new\" {\n    tunnel \"edit\"\n    pseudowire_type eth\n}\n",
    );
    c.write_config("    dataplane none\n", &rest);
    c.signal(Signal::SIGHUP);

    let new = session_up(&c, "new");
    let changed2 = wait_for(UP, "the changed session re-created", &c, || {
        find(&sessions(&c), "changed", |x| {
            x["state"] == "up" && x["sid"] != changed["sid"]
        })
    });
    assert_eq!(changed2["pseudowire_type"], "ppp");
    assert_eq!(new["tid"], edit["tid"]);
    wait_for(UP, "the removed session gone", &c, || {
        by_name(&sessions(&c), "gone").is_none().then_some(())
    });
    // Untouched: same ids, uptime still counting.
    let keep2 = by_name(&tunnels(&c), "keep").unwrap();
    assert_eq!(keep2["tid"], keep["tid"]);
    assert_eq!(keep2["peer_tid"], keep["peer_tid"]);
    assert_eq!(keep2["state"], "up");
    assert!(keep2["uptime_s"].as_u64() >= Some(1), "{keep2}");
    assert!(keep2["uptime_s"].as_u64() >= keep["uptime_s"].as_u64());
    let edit2 = by_name(&tunnels(&c), "edit").unwrap();
    assert_eq!(
        edit2["tid"], edit["tid"],
        "a tunnel with only session changes stays"
    );
    let k1b = by_name(&sessions(&c), "k1").unwrap();
    assert_eq!((&k1b["sid"], &k1b["state"]), (&k1["sid"], &k1["state"]));
    // The server saw the CDN: three sessions in all (k1, changed, new).
    wait_for(UP, "the server's sessions", &s, || {
        let list = sessions(&s);
        (list.len() == 3 && list.iter().all(|x| x["state"] == "up")).then_some(())
    });
}

#[test]
fn sighup_removing_a_tunnel_sends_stopccn_and_adding_one_brings_it_up() {
    let s = server("", "");
    let c = client(
        &s,
        "",
        &[("a", "    version 3\n"), ("b", "    version 2\n")],
        &[],
    );
    let a = up(&c, "a");
    up(&c, "b");
    let rest = format!(
        "tunnel \"a\" {{\n    peer 127.0.0.1:{p}\n    version 3\n}}\n\
         tunnel \"c\" {{\n    peer 127.0.0.1:{p}\n    version 2\n}}\n",
        p = s.port
    );
    c.write_config("    dataplane none\n", &rest);
    c.signal(Signal::SIGHUP);
    up(&c, "c");
    wait_for(UP, "tunnel b gone", &c, || {
        by_name(&tunnels(&c), "b")
            .is_none_or(|t| t["state"] == "closing")
            .then_some(())
    });
    assert_eq!(by_name(&tunnels(&c), "a").unwrap()["tid"], a["tid"]);
    wait_for(UP, "the server to see b's StopCCN", &s, || {
        let list = tunnels(&s);
        (list.iter().filter(|t| t["state"] == "up").count() == 2).then_some(())
    });
}

#[test]
fn incoming_tunnels_pick_their_peer_profile_and_lac_lns_limits_calls() {
    let s = server(
        "",
        "tunnel profile \"tp-name\" {\n    hello_timeout 30\n}\n\
         tunnel profile \"tp-net\" {\n    hello_timeout 40\n}\n\
         tunnel profile \"tp-lns\" {\n    hello_timeout 50\n}\n\
         peer profile \"by-net\" {\n    peer_ipaddr 127.0.0.0/8\n    \
         tunnel_profile_name \"tp-net\"\n}\n\
         peer profile \"by-name\" {\n    peer_host_name \"client-a\"\n    \
         tunnel_profile_name \"tp-name\"\n}\n\
         peer profile \"lns-only\" {\n    peer_host_name \"lns-peer\"\n    \
         tunnel_profile_name \"tp-lns\"\n    lac_lns lns\n}\n",
    );
    let c = client(
        &s,
        "",
        &[
            ("named", "    version 2\n    host_name \"client-a\"\n"),
            ("other", "    version 2\n    host_name \"someone\"\n"),
            ("lns", "    version 2\n    host_name \"lns-peer\"\n"),
        ],
        // An incoming call (ICRQ) places the peer in the LAC role, which "lns-only" forbids.
        &[("call", "    tunnel \"lns\"\n    session_type laic\n")],
    );
    let named = up(&c, "named");
    let other = up(&c, "other");
    let lns = up(&c, "lns");
    let server_tunnels = tunnels(&s);
    let profile_of = |t: &Value| {
        server_tunnels
            .iter()
            .find(|x| x["tid"] == t["peer_tid"])
            .map(|x| x["profile"].clone())
    };
    assert_eq!(profile_of(&named), Some("tp-name".into()));
    assert_eq!(profile_of(&other), Some("tp-net".into()));
    assert_eq!(profile_of(&lns), Some("tp-lns".into()));
    s.wait_log("the peer may not act as a LAC");
    assert!(
        find(&sessions(&c), "call", |x| x["state"] == "up").is_none(),
        "{:?}",
        sessions(&c)
    );
    assert!(sessions(&s).is_empty(), "{:?}", sessions(&s));
}

#[test]
fn per_tunnel_debug_logs_only_that_tunnels_messages_and_can_be_switched_on() {
    let s = server("", "");
    let c = client(
        &s,
        "",
        &[
            ("loud", "    version 3\n    debug true\n"),
            ("quiet", "    version 3\n    hello_timeout 1\n"),
        ],
        &[],
    );
    let loud = up(&c, "loud")["tid"].as_u64().unwrap_or_default();
    let quiet = up(&c, "quiet")["tid"].as_u64().unwrap_or_default();
    c.wait_log(&format!("tunnel {loud}: received SCCRP"));
    // `-d` runs the client at info level: the quiet tunnel's messages are not logged...
    std::thread::sleep(Duration::from_millis(1500));
    let log = c.wait_log(&format!("tunnel {loud}: sending SCCCN"));
    assert!(!log.contains(&format!("tunnel {quiet}: sending")), "{log}");
    assert!(!log.contains(&format!("tunnel {quiet}: received")), "{log}");
    // ...until debugging is switched on for it at run time: its HELLOs then show.
    let on = Request::Debug {
        target: l2tp_ctl::DebugTarget::Tunnel {
            tunnel: Selector::parse("quiet"),
        },
        enable: true,
    };
    c.request(&on).unwrap_or_else(|e| panic!("debug on: {e:?}"));
    c.wait_log(&format!("tunnel {quiet}: sending HELLO"));
}

#[test]
fn sessions_come_up_in_two_tunnels_that_negotiate_their_version() {
    // No `version`: L2TPv3 first, falling back to L2TPv2 (RFC 3931 §4.7.3); both peers speak v3.
    let s = server("", "");
    let c = client(
        &s,
        "",
        &[("a", ""), ("b", "")],
        &[
            ("sa", "    tunnel \"a\"\n    pseudowire_type eth\n"),
            ("sb", "    tunnel \"b\"\n    pseudowire_type eth\n"),
        ],
    );
    for t in ["a", "b"] {
        assert_eq!(up(&c, t)["version"], 3);
    }
    session_up(&c, "sa");
    session_up(&c, "sb");
}

#[test]
fn a_peer_given_by_dns_name_is_resolved() {
    let s = server("", "");
    let mut c = Env::new(l2tpd(), "client");
    c.write_config(
        "    dataplane none\n",
        &format!(
            "tunnel \"byname\" {{\n    peer localhost:{}\n    version 3\n}}\n",
            s.port
        ),
    );
    c.start(&["-d"]);
    let t = up(&c, "byname");
    let peer = t["peer"].as_str().unwrap_or_default();
    assert!(
        peer == format!("127.0.0.1:{}", s.port) || peer == format!("[::1]:{}", s.port),
        "{t}"
    );
}

#[test]
fn a_lac_fails_over_to_its_second_lns_when_the_first_refuses() {
    let refuser = server("    deny_remote_tunnel_creates true\n", "");
    let s = server("", "");
    let mut c = Env::new(l2tpd(), "client");
    c.write_config(
        "    dataplane none\n",
        &format!(
            "tunnel \"t\" {{\n    peer 127.0.0.1:{} 127.0.0.1:{}\n    version 3\n    \
             persist false\n}}\n",
            refuser.port, s.port
        ),
    );
    c.start(&["-d"]);
    let t = up(&c, "t");
    assert_eq!(t["peer"], format!("127.0.0.1:{}", s.port), "{t}");
    c.wait_log("trying its next peer");
    refuser.wait_log("deny_remote_tunnel_creates");
    let sys = ctl(&s, &["show", "system"]);
    assert_eq!(sys["counts"]["tunnels"], 1, "{sys}");
}
