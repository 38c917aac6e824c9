//! Events and user scripts with two real `l2tpd` processes on loopback (data plane `none`):
//! scripts that record their argv and environment, per-instance ordering, a hanging script that
//! stalls nothing else and one stopped after `script_timeout`, and `l2tpwatch` output (text,
//! verbose, CSV) for a whole lifecycle.
//!
//! `l2tpwatch` and `l2tpctl` are looked for beside `l2tpd` (the same target directory): build
//! them with `cargo test -p l2tpd -p l2tpctl` or `cargo test --workspace`. Every wait is
//! bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "events/l2tpwatch.rs"]
mod l2tpwatch;
#[path = "events/script_failures.rs"]
mod script_failures;
#[path = "events/script_timeout.rs"]
mod script_timeout;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use common::{Env, l2tpd, spawn_piped, wait_for, wait_output};
use l2tp_ctl::{Request, Response, Selector, SessionInfo, TunnelInfo};
use l2tpwatch::{settle, text, watch};
use nix::sys::signal::Signal;

const UP: Duration = Duration::from_secs(10);

const SCRIPTS: [&str; 8] = [
    "tunnel-created",
    "tunnel-up",
    "tunnel-down",
    "tunnel-deleted",
    "session-created",
    "session-up",
    "session-down",
    "session-deleted",
];

/// Variables a shell may add by itself; everything else in a record comes from l2tpd.
const SHELL_VARS: [&str; 3] = ["PWD", "SHLVL", "_"];

fn beside_l2tpd(name: &str) -> PathBuf {
    let p = PathBuf::from(l2tpd()).with_file_name(name);
    assert!(
        p.exists(),
        "{} not found: build it with cargo test -p l2tpd -p l2tpctl (or --workspace)",
        p.display()
    );
    p
}

fn tunnels(env: &Env) -> Vec<TunnelInfo> {
    match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t,
        other => panic!("{other:?}"),
    }
}

fn sessions(env: &Env) -> Vec<SessionInfo> {
    match env.request(&Request::show_sessions(None)) {
        Ok(Response::Sessions(s)) => s,
        other => panic!("{other:?}"),
    }
}

fn tunnel_up(env: &Env, name: &str) -> TunnelInfo {
    wait_for(UP, &format!("tunnel {name} up"), env, || {
        tunnels(env)
            .into_iter()
            .find(|t| t.name.as_deref() == Some(name) && t.state == l2tp_ctl::State::Up)
    })
}

fn session_up(env: &Env, name: &str) -> SessionInfo {
    wait_for(UP, &format!("session {name} up"), env, || {
        sessions(env)
            .into_iter()
            .find(|s| s.name.as_deref() == Some(name) && s.state == l2tp_ctl::State::Up)
    })
}

/// One run of a script: its name, arguments and environment.
#[derive(Clone, Debug)]
struct Record {
    script: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

impl Record {
    fn key(&self) -> (String, Option<String>) {
        (self.args[0].clone(), self.args.get(1).cloned())
    }

    /// The environment without `PATH` and the shell's own variables.
    fn vars(&self) -> BTreeMap<&str, &str> {
        self.env
            .iter()
            .filter(|(k, _)| *k != "PATH" && !SHELL_VARS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Writes the eight scripts into `dir/scripts`; each records itself into `dir/records` (one
/// file per run, numbered per instance so the order of one instance's runs is kept) and, with
/// `slow_tunnel`, the tunnel-created script of that tunnel name then sleeps for 60 s.
fn write_scripts(dir: &Path, slow_tunnel: Option<&str>) -> PathBuf {
    let slow = "echo $$ > \"$records/slow.pid\"\n        exec sleep 60";
    write_scripts_hanging(dir, slow_tunnel.map(|t| (t, slow)))
}

/// [`write_scripts`], where the tunnel-created script of the tunnels whose name matches the
/// shell pattern `hang.0` then runs the shell commands `hang.1` (`$records`: the records
/// directory).
fn write_scripts_hanging(dir: &Path, hang: Option<(&str, &str)>) -> PathBuf {
    let scripts = dir.join("scripts");
    let records = dir.join("records");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::create_dir_all(&records).unwrap();
    let hang = hang.map_or(String::new(), |(pattern, body)| {
        format!(
            "if [ \"$name\" = tunnel-created ]; then\n    case \"$TUNNEL_NAME\" in\n    \
             {pattern})\n        {body}\n        ;;\n    esac\nfi\n"
        )
    });
    for name in SCRIPTS {
        let body = format!(
            "#!/bin/sh\n\
             records=\"{r}\"\n\
             name=$(basename \"$0\")\n\
             key=\"$1-$2\"\n\
             n=$(ls \"$records\" | grep -c \"^$key-\")\n\
             f=\"$records/$key-$(printf %03d $n)-$name\"\n\
             {{ for a in \"$@\"; do printf 'arg %s\\n' \"$a\"; done; env | sed 's/^/env /'; }} \
             > \"$f.tmp\"\n\
             mv \"$f.tmp\" \"$f\"\n\
             {hang}",
            r = records.display()
        );
        let path = scripts.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    scripts
}

/// The finished records in `dir/records`, in order per instance.
fn records(dir: &Path) -> Vec<Record> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("records"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".tmp") && !n.ends_with(".pid"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join("records").join(&n)).unwrap();
            let script = SCRIPTS
                .iter()
                .find(|s| n.ends_with(*s))
                .unwrap()
                .to_string();
            let mut args = Vec::new();
            let mut env = BTreeMap::new();
            for line in text.lines() {
                if let Some(a) = line.strip_prefix("arg ") {
                    args.push(a.to_owned());
                } else if let Some(kv) = line.strip_prefix("env ") {
                    let (k, v) = kv.split_once('=').unwrap();
                    env.insert(k.to_owned(), v.to_owned());
                }
            }
            Record { script, args, env }
        })
        .collect()
}

fn wait_records(env: &Env, what: &str, f: impl Fn(&[Record]) -> bool) -> Vec<Record> {
    wait_for(UP, what, env, || {
        let r = records(&env.dir);
        f(&r).then_some(r)
    })
}

fn of_instance(records: &[Record], tid: u32, sid: Option<u32>) -> Vec<&Record> {
    let key = (tid.to_string(), sid.map(|s| s.to_string()));
    records.iter().filter(|r| r.key() == key).collect()
}

fn vars(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn assert_vars(r: &Record, expected: &BTreeMap<&'static str, String>) {
    let got: BTreeMap<&str, String> = r
        .vars()
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
    let want: BTreeMap<&str, String> = expected.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(got, want, "environment of {} {:?}", r.script, r.args);
    assert!(r.env.contains_key("PATH"), "{r:?}");
}

/// The scripts of a tunnel's life, in order.
const TUNNEL_LIFE: [&str; 4] = [
    "tunnel-created",
    "tunnel-up",
    "tunnel-down",
    "tunnel-deleted",
];
/// The scripts of a session's life, in order.
const SESSION_LIFE: [&str; 4] = [
    "session-created",
    "session-up",
    "session-down",
    "session-deleted",
];

/// The scripts that ran for tunnel `tid` (`sid` `None`) or its session `sid`, in order.
fn order(records: &[Record], tid: u32, sid: Option<u32>) -> Vec<&str> {
    of_instance(records, tid, sid)
        .iter()
        .map(|r| r.script.as_str())
        .collect()
}

/// Whether a tunnel-deleted and a session-deleted script have run.
fn tunnel_and_session_deleted(r: &[Record]) -> bool {
    r.iter().any(|x| x.script == "tunnel-deleted")
        && r.iter().any(|x| x.script == "session-deleted")
}

/// A variable and its value.
type Var<'a> = (&'static str, &'a str);

/// Checks the arguments and environment of the script runs `runs` of session `sid` of tunnel
/// `tid`: `TID SID` for session-created, `TID SID PW` for the others; the variables `every`,
/// `up_down` for session-up and session-down, and `down` (its Result Code) for session-down
/// and session-deleted.
fn assert_session_runs(
    runs: &[&Record],
    (tid, sid, pw): (&str, &str, &str),
    every: &[(&'static str, &str)],
    (up_down, down): (&[Var<'_>], &[Var<'_>]),
) {
    for r in runs {
        match r.script.as_str() {
            "session-created" => {
                // A call placed before its tunnel is up knows no Host Name of the peer yet.
                let before_up: Vec<(&'static str, &str)> = every
                    .iter()
                    .copied()
                    .filter(|(k, _)| *k != "PEER_HOST_NAME")
                    .collect();
                assert_eq!(r.args, [tid, sid]);
                assert_vars(r, &vars(&before_up));
            }
            "session-up" => {
                assert_eq!(r.args, [tid, sid, pw]);
                assert_vars(r, &vars(up_down));
            }
            "session-down" => {
                assert_eq!(r.args, [tid, sid, pw]);
                assert_vars(r, &vars(&[up_down, down].concat()));
            }
            "session-deleted" => {
                assert_eq!(r.args, [tid, sid, pw]);
                assert_vars(r, &vars(&[every, down].concat()));
            }
            _ => {
                assert_eq!(r.args, [tid, sid, pw]);
                assert_vars(r, &vars(every));
            }
        }
    }
}

fn server(scripts: Option<&Path>) -> Env {
    let mut s = Env::new(l2tpd(), "server");
    let extra = scripts.map_or(String::new(), |d| {
        format!("    script_dir {}\n", d.display())
    });
    s.write_config(&format!("    dataplane none\n{extra}"), "");
    s.start(&["-d"]);
    s
}

fn client_config(env: &Env, server_port: u16, scripts: &Path, body: &str) {
    env.write_config(
        &format!("    dataplane none\n    script_dir {}\n", scripts.display()),
        &body.replace("PORT", &server_port.to_string()),
    );
}

/// A client that records its scripts, with the config `body` (`PORT`: `server`'s port),
/// started.
fn client(server: &Env, body: &str) -> Env {
    let mut c = Env::new(l2tpd(), "client");
    let scripts = write_scripts(&c.dir, None);
    client_config(&c, server.port, &scripts, body);
    c.start(&["-d"]);
    c
}

const V3_ETH: &str = "\
session profile \"sp\" {
    pseudowire_type eth
    user_data \"customer 42, rack 7\"
}
pseudowire profile \"pw\" {
    bridge \"br-test\"
    mtu 1400
    local_ip 10.1.0.1
    peer_ip 10.1.0.2
    netmask 255.255.255.0
}
tunnel \"t3\" {
    peer 127.0.0.1:PORT
    version 3
    max_retries 1
}
session \"eth1\" {
    tunnel \"t3\"
    profile \"sp\"
    pseudowire_profile_name \"pw\"
    remote_end_id \"pw-1 printable\"
}
session \"eth2\" {
    tunnel \"t3\"
    profile \"sp\"
    pseudowire_profile_name \"pw\"
    remote_end_id hex:01ff20
    interface_name \"pwbin\"
}
";

#[test]
fn all_eight_scripts_fire_with_their_values_for_l2tpv3_ethernet() {
    let s = server(None);
    let c = client(&s, V3_ETH);
    let t = tunnel_up(&c, "t3");
    let e1 = session_up(&c, "eth1");
    let e2 = session_up(&c, "eth2");
    assert_eq!(e1.interface_name.as_deref(), Some("l2tpeth0"));
    wait_records(&c, "the up scripts", |r| {
        r.iter().filter(|x| x.script == "session-up").count() == 2
    });
    // Down and deleted: the tunnel is deleted through the control socket.
    c.request(&Request::DeleteTunnel {
        tunnel: Selector::Name("t3".into()),
    })
    .unwrap();
    let all = wait_records(&c, "all eight scripts", |r| {
        r.iter().any(|x| x.script == "tunnel-deleted")
            && r.iter().filter(|x| x.script == "session-deleted").count() == 2
    });

    let tid = t.tid.to_string();
    // The peer's Host Name is known once it has answered: from tunnel-up on.
    let host = t.peer_host_name.clone().unwrap();
    assert_eq!(order(&all, t.tid, None), TUNNEL_LIFE);
    for r in &of_instance(&all, t.tid, None) {
        assert_eq!(r.args, [tid.as_str()]);
        let mut want = vec![("TUNNEL_NAME", "t3"), ("PEER_HOST_NAME", &host)];
        match r.script.as_str() {
            "tunnel-created" => want.truncate(1),
            // Deleted here: the StopCCN's result 1 (general request to clear).
            "tunnel-down" | "tunnel-deleted" => want.push(("RESULT_CODE", "1")),
            _ => {}
        }
        assert_vars(r, &vars(&want));
    }

    for (sess, iface, id) in [
        (&e1, "l2tpeth0", ("REMOTE_END_ID", "pw-1 printable")),
        (&e2, "pwbin", ("REMOTE_END_ID_BIN", "01ff20")),
    ] {
        assert_eq!(order(&all, t.tid, Some(sess.sid)), SESSION_LIFE, "{sess:?}");
        let name = sess.name.clone().unwrap();
        let every = [
            ("TUNNEL_NAME", "t3"),
            ("SESSION_NAME", name.as_str()),
            ("SESSION_PROFILE_NAME", "sp"),
            ("PSEUDOWIRE_PROFILE_NAME", "pw"),
            ("USER_DATA", "customer 42, rack 7"),
            ("BRIDGE", "br-test"),
            ("PEER_HOST_NAME", host.as_str()),
            id,
        ];
        let mut up_down = every.to_vec();
        up_down.extend([
            ("INTERFACE_NAME", iface),
            ("MTU", "1400"),
            ("LOCAL_IP", "10.1.0.1"),
            ("PEER_IP", "10.1.0.2"),
            ("NETMASK", "255.255.255.0"),
        ]);
        assert_session_runs(
            &of_instance(&all, t.tid, Some(sess.sid)),
            (&tid, &sess.sid.to_string(), "ETH"),
            &every,
            (&up_down, &[("RESULT_CODE", "1")]),
        );
    }
}

/// What the LNS's session scripts get of the access line the LAC's session tells of: text as
/// it is, other bytes in hexadecimal.
const LINE: [(&str, &str); 3] = [
    ("AGENT_CIRCUIT_ID", "dslam-7 eth 1/4:100"),
    ("AGENT_REMOTE_ID_BIN", "0102206e6f742074657874"),
    ("ACTUAL_DATA_RATE_DOWNSTREAM", "8000000"),
];

#[test]
fn l2tpv2_ppp_scripts_on_both_sides() {
    let mut s = Env::new(l2tpd(), "server");
    let server_scripts = write_scripts(&s.dir, None);
    s.write_config(
        &format!(
            "    dataplane none\n    script_dir {}\n",
            server_scripts.display()
        ),
        // Short StopCCN linger (3 s), so that tunnel-deleted comes soon.
        "tunnel profile \"default\" {\n    max_retries 1\n}\n",
    );
    s.start(&["-d"]);
    let c = client(
        &s,
        "tunnel \"t2\" {\n    peer 127.0.0.1:PORT\n    version 2\n    max_retries 1\n}\n\
         session \"ppp1\" {\n    tunnel \"t2\"\n    agent_circuit_id \"dslam-7 eth 1/4:100\"\n    \
         agent_remote_id \"\\x01\\x02 not text\"\n    actual_data_rate_downstream 8000000\n}\n",
    );
    let t = tunnel_up(&c, "t2");
    let sess = session_up(&c, "ppp1");
    wait_records(&s, "the server's session-up", |r| {
        r.iter().any(|x| x.script == "session-up")
    });
    c.request(&Request::DeleteTunnel {
        tunnel: Selector::Name("t2".into()),
    })
    .unwrap();
    let all = wait_records(
        &c,
        "the client's deleted scripts",
        tunnel_and_session_deleted,
    );
    assert_eq!(order(&all, t.tid, Some(sess.sid)), SESSION_LIFE);
    let host = t.peer_host_name.clone().unwrap();
    let every = [
        ("TUNNEL_NAME", "t2"),
        ("SESSION_NAME", "ppp1"),
        ("SESSION_PROFILE_NAME", "default"),
        ("PSEUDOWIRE_PROFILE_NAME", "default"),
        ("PEER_HOST_NAME", host.as_str()),
    ];
    let mut up_down = every.to_vec();
    up_down.push(("INTERFACE_NAME", "ppp0"));
    assert_session_runs(
        &of_instance(&all, t.tid, Some(sess.sid)),
        (&t.tid.to_string(), &sess.sid.to_string(), "PPP"),
        &every,
        (&up_down, &[("RESULT_CODE", "1")]),
    );
    assert_eq!(order(&all, t.tid, None), TUNNEL_LIFE);

    // The server's tunnel and session were made by the network: no names. The client's Host
    // Name came with its SCCRQ.
    let client_host = s
        .request(&Request::show_tunnels())
        .ok()
        .and_then(|r| match r {
            l2tp_ctl::Response::Tunnels(t) => t.first().and_then(|t| t.peer_host_name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| host.clone());
    let all = wait_records(
        &s,
        "the server's deleted scripts",
        tunnel_and_session_deleted,
    );
    for r in &all {
        assert!(r.args[0] == t.peer_tid.to_string(), "{r:?}");
        // What ended them here: the client's StopCCN, result 1 (general request to clear).
        let result = ("RESULT_CODE", "1");
        match r.script.as_str() {
            "tunnel-down" | "tunnel-deleted" => {
                assert_vars(r, &vars(&[("PEER_HOST_NAME", &client_host), result]));
            }
            s if s.starts_with("tunnel-") => {
                assert_vars(r, &vars(&[("PEER_HOST_NAME", &client_host)]));
            }
            s @ ("session-up" | "session-down") => {
                assert_eq!(r.args[2], "PPP");
                let mut want = vec![
                    ("SESSION_PROFILE_NAME", "default"),
                    ("PSEUDOWIRE_PROFILE_NAME", "default"),
                    ("INTERFACE_NAME", "ppp0"),
                    ("PEER_HOST_NAME", &client_host),
                    LINE[0],
                    LINE[1],
                    LINE[2],
                ];
                if s == "session-down" {
                    want.push(result);
                }
                assert_vars(r, &vars(&want));
            }
            s => {
                let mut want = vec![
                    ("SESSION_PROFILE_NAME", "default"),
                    ("PSEUDOWIRE_PROFILE_NAME", "default"),
                    ("PEER_HOST_NAME", &client_host),
                    LINE[0],
                    LINE[1],
                    LINE[2],
                ];
                if s == "session-deleted" {
                    want.push(result);
                }
                assert_vars(r, &vars(&want));
            }
        }
    }
}

#[test]
fn a_script_sleeping_60s_does_not_delay_another_tunnel() {
    let s = server(None);
    let mut c = Env::new(l2tpd(), "client");
    // The tunnel-created script of tunnel "slow" sleeps for 60 s.
    let scripts = write_scripts(&c.dir, Some("slow"));
    client_config(
        &c,
        s.port,
        &scripts,
        "tunnel \"slow\" {\n    peer 127.0.0.1:PORT\n    version 3\n}\n\
         tunnel \"fast\" {\n    peer 127.0.0.1:PORT\n    version 3\n}\n\
         session \"fs\" {\n    tunnel \"fast\"\n    pseudowire_type eth\n}\n",
    );
    let start = Instant::now();
    c.start(&["-d"]);
    let slow = tunnel_up(&c, "slow");
    let fast = tunnel_up(&c, "fast");
    let fs = session_up(&c, "fs");
    // Tunnel and session scripts run in separate per-instance queues: wait for both.
    let all = wait_records(&c, "the fast tunnel's scripts", |r| {
        let fast_tid = fast.tid.to_string();
        ["tunnel-up", "session-up"]
            .iter()
            .all(|s| r.iter().any(|x| x.script == *s && x.args[0] == fast_tid))
    });
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // The slow script was started (it may still be starting on a loaded machine).
    let pid_file = c.dir.join("records/slow.pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pid_file.exists() {
        assert!(Instant::now() < deadline, "the slow script never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(order(&all, fast.tid, None), ["tunnel-created", "tunnel-up"]);
    assert_eq!(of_instance(&all, fast.tid, Some(fs.sid)).len(), 2);
    // The slow tunnel is up, but its tunnel-up script waits for the sleeping one.
    assert_eq!(order(&all, slow.tid, None), ["tunnel-created"]);
    let pid: i32 = std::fs::read_to_string(c.dir.join("records/slow.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
}

// ------------------------------------------------------------------------------- l2tpwatch

fn system_stats(env: &Env) -> l2tp_ctl::SystemStats {
    match env.request(&Request::ShowSystem) {
        Ok(Response::System(s)) => s.statistics,
        other => panic!("{other:?}"),
    }
}

#[test]
fn statistics_count_messages_refusals_retransmissions_and_malformed_packets() {
    let mut s = Env::new(l2tpd(), "server");
    s.write_config(
        "    dataplane none\n    max_tunnels 1\n    max_sessions 1\n",
        "",
    );
    s.start(&["-d"]);
    let silent = common::free_port();
    let mut c = Env::new(l2tpd(), "client");
    let scripts = write_scripts(&c.dir, None);
    // Tunnel "a" with the sessions `sessions` (eth), and a tunnel to a silent port.
    let config = |sessions: &[&str]| {
        let sessions: String = sessions
            .iter()
            .map(|s| format!("session \"{s}\" {{\n    tunnel \"a\"\n    pseudowire_type eth\n}}\n"))
            .collect();
        format!(
            "tunnel \"a\" {{\n    peer 127.0.0.1:PORT\n    version 3\n}}\n{sessions}\
             tunnel \"silent\" {{\n    peer 127.0.0.1:{silent}\n    version 3\n}}\n"
        )
    };
    client_config(&c, s.port, &scripts, &config(&["s1"]));
    c.start(&["-d"]);
    let a = tunnel_up(&c, "a");
    session_up(&c, "s1");
    // A second session and a second tunnel, both over the server's limits.
    c.request(&Request::ShowSystem).unwrap();
    let mut b = Env::new(l2tpd(), "client2");
    client_config(
        &b,
        s.port,
        &scripts,
        "tunnel \"b\" {\n    peer 127.0.0.1:PORT\n    version 3\n}\n",
    );
    b.start(&["-d"]);
    client_config(&c, s.port, &scripts, &config(&["s1", "s2"]));
    c.signal(Signal::SIGHUP);
    // Malformed: a datagram too short for any L2TP header.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.send_to(&[0xc8, 0x02, 0x00], ("127.0.0.1", s.port))
        .unwrap();

    let st = wait_for(UP, "the server's counters", &s, || {
        let st = system_stats(&s);
        (st.tunnels_refused.get("max_tunnels") == Some(&1)
            && st.sessions_refused.get("max_sessions") == Some(&1)
            && st.malformed.get("header").is_some_and(|n| *n >= 1))
        .then_some(st)
    });
    let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    // The refused SCCRQ is answered with a StopCCN but never reaches a tunnel.
    assert!(get(&st.messages_received, "SCCRQ") >= 1, "{st:?}");
    assert!(get(&st.messages_sent, "SCCRP") >= 1, "{st:?}");
    assert!(get(&st.messages_received, "SCCCN") >= 1, "{st:?}");
    assert!(get(&st.messages_sent, "StopCCN") >= 1, "{st:?}");
    assert!(get(&st.messages_received, "ICRQ") >= 2, "{st:?}");
    assert!(get(&st.messages_sent, "CDN") >= 1, "{st:?}");

    // The client retransmits its SCCRQ to the silent peer.
    let cs = wait_for(UP, "a retransmission", &c, || {
        let st = system_stats(&c);
        (st.retransmits > 0).then_some(st)
    });
    assert!(get(&cs.messages_sent, "SCCRQ") >= 2, "{cs:?}");

    // Each tunnel its own counters.
    let detail = match c.request(&Request::ShowTunnel {
        tunnel: Selector::Name("a".into()),
    }) {
        Ok(Response::Tunnel(d)) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(detail.info.tid, a.tid);
    assert!(detail.stats.control_tx_packets >= 3, "{:?}", detail.stats);
    assert!(detail.stats.control_rx_packets >= 2, "{:?}", detail.stats);
    let silent_detail = match c.request(&Request::ShowTunnel {
        tunnel: Selector::Name("silent".into()),
    }) {
        Ok(Response::Tunnel(d)) => d,
        other => panic!("{other:?}"),
    };
    assert!(
        silent_detail.stats.retransmits >= 1,
        "{:?}",
        silent_detail.stats
    );
    assert_eq!(silent_detail.stats.control_rx_packets, 0);

    // Each session its own: the client sent ICRQ and ICCN and received ICRP; the server the
    // other way round.
    let session = |env: &Env, tid: u32, sid: u32| match env.request(&Request::ShowSession {
        tunnel: Selector::Id(tid),
        session: Selector::Id(sid),
    }) {
        Ok(Response::Session(d)) => d.stats,
        other => panic!("{other:?}"),
    };
    let s1 = sessions(&c)
        .into_iter()
        .find(|x| x.name.as_deref() == Some("s1"))
        .unwrap();
    let mine = session(&c, s1.tid, s1.sid);
    assert_eq!(
        (mine.control_tx_packets, mine.control_rx_packets),
        (2, 1),
        "{mine:?}"
    );
    let theirs = session(&s, s1.peer_tid, s1.peer_sid);
    assert_eq!(
        (theirs.control_tx_packets, theirs.control_rx_packets),
        (1, 2),
        "{theirs:?}"
    );
}

#[test]
fn a_stopping_daemon_reports_its_tunnels_and_sessions_deleted() {
    let s = server(None);
    let mut c = client(
        &s,
        "tunnel \"t\" {\n    peer 127.0.0.1:PORT\n    version 3\n}\n\
         session \"s\" {\n    tunnel \"t\"\n    pseudowire_type eth\n}\n",
    );
    let t = tunnel_up(&c, "t");
    let sess = session_up(&c, "s");
    let w = watch(&c, &[]);
    settle(&c);
    c.signal(Signal::SIGTERM);
    assert!(c.wait_exit().success());
    let all = records(&c.dir);
    assert_eq!(order(&all, t.tid, None), TUNNEL_LIFE);
    assert_eq!(order(&all, t.tid, Some(sess.sid)), SESSION_LIFE);
    let out = text(&wait_output(w));
    let kinds: Vec<&str> = out.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "SESSION DOWN",
            "SESSION DELETED",
            "TUNNEL DOWN",
            "TUNNEL DELETED"
        ],
        "{out}"
    );
}
