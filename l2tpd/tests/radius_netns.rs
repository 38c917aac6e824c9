//! The daemon's RADIUS on the host: l2tpd in a network namespace with FreeRADIUS
//! (`examples/radius`) on two of its addresses; first without PPP (data plane `none`), then
//! with `l2tp-loadgen`'s PPP clients on the userspace data plane (see
//! `native_clients_on_the_host_are_authenticated_and_accounted`), and a set-up storm against
//! a server that does not answer (`a_set_up_storm_queues_past_max_outstanding_on_two_sockets`)
//! and accounting past its queue (`accounting_past_its_queue_is_dropped_logged_and_counted`);
//! the remote-access recipe with RADIUS users (`vpn_server`); a dead server brought back by
//! Status-Server (`status_server`); re-challenges asked of the server (`rechallenge`); a
//! client renegotiating without end, closed at `max_renegotiations` (`renegotiation`).
//!
//! Accounting-On when the daemon starts and Accounting-Off when it stops, in the detail file;
//! `show radius` with the configured servers; Disconnect- and CoA-Requests from `radclient`
//! taken on `radius_dynauth_listen` and answered through the real socket (a NAK with the
//! Error-Cause that fits), a request with the wrong secret or a stale Event-Timestamp dropped
//! and counted; a reload that
//! changes the server list (named in its summary, shown by `show radius`); tshark judging the
//! capture with the secret.
//!
//! Needs root (network namespaces), FreeRADIUS (`freeradius`, `radclient`), tcpdump and
//! tshark; without them the test is skipped, or fails under `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/radius_lab.rs"]
mod lab;
#[path = "radius_netns/rechallenge.rs"]
mod rechallenge;
#[path = "radius_netns/renegotiation.rs"]
mod renegotiation;
#[path = "radius_netns/status_server.rs"]
mod status_server;
#[path = "radius_netns/vpn_server.rs"]
mod vpn_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lab::{Detail, Lab, SECRET};

fn skip() -> bool {
    l2tp_testkit::lab::skip(l2tp_testkit::lab::missing(
        &["ip", "freeradius", "radclient", "tcpdump", "tshark"],
        "scripts/deps.sh",
    ))
}

/// Runs `l2tpctl -S SOCKET ARGS`; its output.
fn ctl(socket: &Path, args: &[&str]) -> String {
    l2tp_testkit::daemon::l2tpctl_text(env!("CARGO_BIN_EXE_l2tpd"), socket, args)
}

/// Starts l2tpd in the lab with `l2tpd.conf` of its directory (with `flags`, e.g. `-d`),
/// its log in `l2tpd.log`; returns once its control socket `l2tpd.sock` answers.
fn start_l2tpd(lab: &mut Lab, flags: &[&str]) -> (lab::Proc, PathBuf) {
    let conf = lab.dir.join("l2tpd.conf");
    let log = lab.dir.join("l2tpd.log");
    let socket = lab.dir.join("l2tpd.sock");
    let mut argv = vec![env!("CARGO_BIN_EXE_l2tpd"), "-f"];
    argv.extend_from_slice(flags);
    argv.extend_from_slice(&["-c", conf.to_str().unwrap(), "-o", log.to_str().unwrap()]);
    let l2tpd = lab.spawn("l2tpd", &argv);
    wait(Duration::from_secs(10), "l2tpd answers", || {
        ctl(&socket, &["show", "system"]).contains("control socket")
    });
    (l2tpd, log)
}

/// A lab with FreeRADIUS on 192.0.2.10 and l2tpd (started with `flags`) on 192.0.2.3, on the
/// userspace data plane, whose default ppp profile asks RADIUS about CHAP and PAP logins and
/// gives addresses from pool `customers`, with `pools` (more `ip pool` blocks) and `profile`
/// (more lines of the profile). Returns the lab, FreeRADIUS, l2tpd and l2tpd's log.
fn native_radius_lab(
    tag: &str,
    nas: &str,
    (pools, profile): (&str, &str),
    flags: &[&str],
) -> (Lab, lab::Proc, lab::Proc, PathBuf) {
    let mut lab = Lab::new(tag);
    lab.loopback(&["192.0.2.3/32", "192.0.2.10/32"]);
    let radius = lab.start_freeradius("192.0.2.10");
    let text = format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane userspace\n    \
         control_socket {d}/l2tpd.sock\n    pid_file {d}/l2tpd.pid\n    \
         radius_nas_identifier \"{nas}\"\n    radius_nas_ip_address 192.0.2.3\n}}\n\
         radius server \"r\" {{\n    address 192.0.2.10\n    secret \"{SECRET}\"\n}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.100-198.51.100.150\n}}\n{pools}\
         ppp profile \"default\" {{\n    auth_mschapv2 false\n    auth_source radius\n    \
         local_ip_addr 198.51.100.1\n    ip_pool_name \"customers\"\n    \
         ipv6cp false\n{profile}}}\n",
        d = lab.dir.display()
    );
    std::fs::write(lab.dir.join("l2tpd.conf"), text).unwrap();
    let (l2tpd, log) = start_l2tpd(&mut lab, flags);
    (lab, radius, l2tpd, log)
}

fn wait(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// GET `url` in the lab's namespace; the body.
fn scrape(lab: &Lab, url: &str) -> String {
    let script = "import sys, urllib.request\n\
                  sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())";
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.ns, "python3", "-c", script, url])
        .output()
        .expect("ip netns exec python3");
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn config(dir: &Path, servers: &str) -> String {
    config_from(dir, servers, "192.0.2.3")
}

/// [`config`] with `radius_nas_ip_address` `nas`.
fn config_from(dir: &Path, servers: &str, nas: &str) -> String {
    format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane none\n    control_socket {d}/l2tpd.sock\n    \
         pid_file {d}/l2tpd.pid\n    radius_nas_identifier \"nas-netns\"\n    \
         radius_nas_ip_address {nas}\n    radius_dynauth_listen 192.0.2.3\n}}\n\
         dynauth client \"radclient\" {{\n    address 192.0.2.3\n    secret \"{SECRET}\"\n}}\n\
         {servers}",
        d = dir.display()
    )
}

fn server(name: &str, last: u8, extra: &str) -> String {
    format!(
        "radius server \"{name}\" {{\n    address 192.0.2.{last}\n    secret \"{SECRET}\"\n    \
         timeout 1\n{extra}}}\n"
    )
}

#[test]
fn accounting_on_and_off_show_radius_dynamic_authorization_and_reload() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("netns");
    lab.loopback(&[
        "192.0.2.3/32",
        "192.0.2.4/32",
        "192.0.2.10/32",
        "192.0.2.11/32",
    ]);
    let _one = lab.start_freeradius("192.0.2.10");
    let _two = lab.start_freeradius("192.0.2.11");
    lab.capture("lo");
    let dir = lab.dir.clone();
    let conf = dir.join("l2tpd.conf");
    let socket = dir.join("l2tpd.sock");
    let servers = server("one", 10, "") + &server("two", 11, "    priority 2\n    acct_port 0\n");
    std::fs::write(&conf, config(&dir, &servers)).unwrap();
    let (l2tpd, log) = start_l2tpd(&mut lab, &["-d", "-d"]);
    // Accounting-On, from the configured NAS.
    let detail = lab.detail("192.0.2.10");
    let detail2 = lab.detail("192.0.2.11");
    let status = |s: &str| {
        Detail::read(&[&detail, &detail2])
            .records
            .iter()
            .any(|r| r.get("Acct-Status-Type") == Some(s))
    };
    wait(Duration::from_secs(10), "Accounting-On", || {
        status("Accounting-On")
    });
    let on = Detail::read(&[&detail]).records[0].clone();
    assert_eq!(on.get("NAS-Identifier"), Some("\"nas-netns\""), "{on}");
    assert_eq!(on.get("NAS-IP-Address"), Some("192.0.2.3"), "{on}");
    assert!(on.get("Acct-Session-Id").is_some() && on.get("Event-Timestamp").is_some());

    // show radius: every server, each service on its own line.
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    let rows: Vec<(String, String, String, String)> = shown["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            (f("name"), f("service"), f("address"), f("state"))
        })
        .collect();
    let row = |n: &str, s: &str, a: &str| (n.into(), s.into(), a.into(), "alive".into());
    assert_eq!(
        rows,
        [
            row("one", "authentication", "192.0.2.10:1812"),
            row("two", "authentication", "192.0.2.11:1812"),
            row("one", "accounting", "192.0.2.10:1813"),
        ],
        "{shown}"
    );
    assert_eq!(shown["servers"][2]["accounting_responses"], 1, "{shown}");
    assert_eq!(shown["dynauth_listen"][0], "192.0.2.3:3799", "{shown}");

    // Dynamic authorization: no such session, an attribute l2tpd cannot change, the wrong
    // secret.
    let out = lab.radclient(
        "192.0.2.3:3799",
        "disconnect",
        SECRET,
        "Acct-Session-Id = \"0000000000000000\"\nNAS-Identifier = \"nas-netns\"\n",
    );
    assert!(
        out.contains("Received Disconnect-NAK")
            && out.contains("Error-Cause = Session-Context-Not-Found"),
        "{out}"
    );
    let out = lab.radclient(
        "192.0.2.3:3799",
        "coa",
        SECRET,
        "User-Name = \"nobody\"\nFilter-Id = \"gold\"\n",
    );
    assert!(
        out.contains("Received CoA-NAK") && out.contains("Error-Cause = Unsupported-Attribute"),
        "{out}"
    );
    let out = lab.radclient(
        "192.0.2.3:3799",
        "disconnect",
        "not-the-secret",
        "User-Name = \"nobody\"\n",
    );
    assert!(!out.contains("Received"), "{out}");
    // An Event-Timestamp years old: a replay, silently discarded (RFC 5176 §6.3).
    let out = lab.radclient(
        "192.0.2.3:3799",
        "disconnect",
        SECRET,
        "User-Name = \"nobody\"\nEvent-Timestamp = 1577836800\n",
    );
    assert!(!out.contains("Received"), "{out}");
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(shown["dynauth_dropped"]["stale"], 1, "{shown}");
    assert_eq!(shown["dynauth"]["disconnect_nak"], 1, "{shown}");
    assert_eq!(shown["dynauth"]["coa_nak"], 1, "{shown}");
    assert!(
        shown["dynauth_dropped"]["bad_authenticator"].as_u64() >= Some(1),
        "{shown}"
    );
    let text = ctl(&socket, &["show", "radius"]);
    assert!(
        text.contains("dynamic authorization on 192.0.2.3:3799"),
        "{text}"
    );

    // A reload: "two" removed, "three" added in front of "one", and requests to leave from
    // another address (the sockets bound to the first one are replaced).
    let servers =
        server("three", 11, "    priority 0\n    auth_port 1645\n") + &server("one", 10, "");
    std::fs::write(&conf, config_from(&dir, &servers, "192.0.2.4")).unwrap();
    let reloaded = ctl(&socket, &["reload"]);
    for want in [
        "radius server \"two\" removed",
        "radius server \"three\" added",
    ] {
        assert!(reloaded.contains(want), "{want:?} not in:\n{reloaded}");
    }
    wait(Duration::from_secs(5), "the new server list", || {
        let v: serde_json::Value =
            serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap_or_default();
        let names: Vec<String> = v["servers"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|s| format!("{} {}", s["name"], s["address"]))
                    .collect()
            })
            .unwrap_or_default();
        names
            == [
                "\"three\" \"192.0.2.11:1645\"",
                "\"one\" \"192.0.2.10:1812\"",
                "\"three\" \"192.0.2.11:1813\"",
                "\"one\" \"192.0.2.10:1813\"",
            ]
    });
    // The kept server kept its counters.
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(shown["servers"][3]["accounting_responses"], 1, "{shown}");

    // SIGTERM: Accounting-Off goes out before the daemon exits (to "three", preferred now).
    let pid: i32 = std::fs::read_to_string(dir.join("l2tpd.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(
        lab.wait_exit(l2tpd, Duration::from_secs(10))
            .is_some_and(|s| s.success()),
        "l2tpd did not stop cleanly:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let all = Detail::read(&[&detail, &detail2]);
    let off = all
        .records
        .iter()
        .find(|r| r.get("Acct-Status-Type") == Some("Accounting-Off"))
        .unwrap_or_else(|| panic!("no Accounting-Off:\n{all}"));
    // The address the reload gave, in the attribute and (below) as the packet's source.
    assert_eq!(off.get("NAS-IP-Address"), Some("192.0.2.4"), "{off}");
    let (packets, invalid) = lab.judge();
    assert!(packets >= 8, "{packets} RADIUS packets");
    assert_eq!(invalid, 0);
    // Accounting-On left from the first address, Accounting-Off from the reloaded one.
    let sources = |status: &str| {
        let out = Command::new("tshark")
            .args(l2tp_testkit::freeradius::TSHARK_PREFS)
            .arg("-r")
            .arg(dir.join("radius.pcap"))
            .args(["-n", "-Y"])
            .arg(format!(
                "radius.code == 4 && radius.Acct_Status_Type == {status}"
            ))
            .args(["-T", "fields", "-e", "ip.src"])
            .output()
            .unwrap();
        let mut s: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        s.dedup();
        s
    };
    assert_eq!(sources("7"), ["192.0.2.3"], "Accounting-On");
    assert_eq!(sources("8"), ["192.0.2.4"], "Accounting-Off");
}

/// Runs `l2tp-loadgen` in the lab's namespace: one L2TPv2 tunnel with `sessions` PPP
/// sessions to 192.0.2.3, authenticating as `user` with `password` by `auth`; its JSON report.
fn loadgen(
    lab: &Lab,
    sessions: u32,
    (auth, user, password): (&str, &str, &str),
) -> serde_json::Value {
    report(&mut loadgen_command(
        lab,
        "192.0.2.3",
        sessions,
        (auth, user, password),
        1,
    ))
}

/// Runs the `l2tp-loadgen` command `c` to its end; its JSON report.
fn report(c: &mut Command) -> serde_json::Value {
    let out = c.output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "l2tp-loadgen: {e}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The command of `l2tp-loadgen` for [`loadgen`], to `peer`, holding the sessions `hold`
/// seconds.
fn loadgen_command(
    lab: &Lab,
    peer: &str,
    sessions: u32,
    (auth, user, password): (&str, &str, &str),
    hold: u32,
) -> Command {
    let bin = l2tp_testkit::daemon::loadgen_beside(env!("CARGO_BIN_EXE_l2tpd"));
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &lab.ns])
        .arg(bin)
        .args(["--peer", peer, "--tunnels", "1", "--version", "2"])
        .args(["--sessions", &sessions.to_string()])
        .args([
            "--ppp",
            "--auth",
            auth,
            "--user",
            user,
            "--password",
            password,
        ])
        .args(["--hold", &hold.to_string(), "--timeout", "40", "--json"]);
    c
}

/// Starts `l2tp-loadgen --peer 192.0.2.3 --version 2 ARGS --json` in the lab, its output
/// ignored.
fn loadgen_in_background(lab: &Lab, args: &[&str]) -> std::process::Child {
    let bin = l2tp_testkit::daemon::loadgen_beside(env!("CARGO_BIN_EXE_l2tpd"));
    Command::new("ip")
        .args(["netns", "exec", &lab.ns])
        .arg(bin)
        .args(["--peer", "192.0.2.3", "--version", "2"])
        .args(args)
        .arg("--json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Polls `show radius` (at most 40 s) until `done` holds for it; returns it. On timeout,
/// names `what` and shows l2tpd's `log`.
fn wait_radius(
    socket: &Path,
    log: &Path,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let shown = || -> serde_json::Value {
        serde_json::from_str(&ctl(socket, &["-j", "show", "radius"])).unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = shown();
    while !done(&last) {
        assert!(
            Instant::now() < deadline,
            "not {what}: {last}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
        last = shown();
    }
    last
}

/// The sessions `show sessions` lists with a PPP user: (tid, sid) of each.
fn ppp_sessions(socket: &Path) -> Vec<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&ctl(socket, &["-j", "show", "sessions"])).unwrap_or_default();
    let list = v
        .as_array()
        .or_else(|| v["sessions"].as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter(|s| s["ppp_user"].is_string())
        .map(|s| (s["tid"].to_string(), s["sid"].to_string()))
        .collect()
}

/// Dynamic authorization (RFC 5176) of live sessions, from `radclient` through l2tpd's
/// dynauth socket: two sessions of the pool user held open by `l2tp-loadgen`; `show session`
/// gives their RADIUS side (Class, accounting started); CoA-Requests set one's
/// Session-Timeout and Idle-Timeout (shown), then a Session-Timeout that ends it; a
/// Disconnect-Request names the other by its Framed-IP-Address and ends exactly it.
fn dynamic_authorization_of_live_sessions(lab: &Lab, socket: &Path, log: &Path) {
    let context = || std::fs::read_to_string(log).unwrap_or_default();
    let mut held = loadgen_command(
        lab,
        "192.0.2.3",
        2,
        ("chap", "pool-user", "pool-password"),
        60,
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    wait(Duration::from_secs(30), "two held PPP sessions", || {
        ppp_sessions(socket).len() == 2
            && ppp_sessions(socket)
                .iter()
                .all(|(t, s)| ctl(socket, &["-j", "show", "session", t, s]).contains("\"started\""))
    });
    let detail = |t: &str, s: &str| -> serde_json::Value {
        serde_json::from_str(&ctl(socket, &["-j", "show", "session", t, s])).unwrap()
    };
    let sessions = ppp_sessions(socket);
    let (a, b) = (&sessions[0], &sessions[1]);
    let (da, db) = (detail(&a.0, &a.1), detail(&b.0, &b.1));
    for d in [&da, &db] {
        let r = &d["ppp"]["radius"];
        assert_eq!(r["class"][0], "class-pool", "{d}");
        assert_eq!(r["accounting"], "started", "{d}");
        assert_eq!(r["authentic"], "radius", "{d}");
    }
    let text = ctl(socket, &["show", "session", &a.0, &a.1]);
    assert!(text.contains("class-pool"), "{text}");
    let id_a = da["ppp"]["radius"]["acct_session_id"].as_str().unwrap();
    let id_b = db["ppp"]["radius"]["acct_session_id"].as_str().unwrap();
    let ip_b = db["ppp"]["peer_ipv4"].as_str().unwrap();

    // CoA-Requests: the first session's timeouts, shown; then a Session-Timeout it has
    // already passed (counted from its authentication) ends it.
    let coa = |attrs: &str| {
        let out = lab.radclient(
            "192.0.2.3:3799",
            "coa",
            SECRET,
            &format!("Acct-Session-Id = \"{id_a}\"\nNAS-Identifier = \"nas-native\"\n{attrs}"),
        );
        assert!(out.contains("Received CoA-ACK"), "{out}");
    };
    coa("Session-Timeout = 3600\nIdle-Timeout = 300\n");
    let now = detail(&a.0, &a.1);
    assert_eq!(now["ppp"]["radius"]["session_timeout_s"], 3600, "{now}");
    assert_eq!(now["ppp"]["radius"]["idle_timeout_s"], 300, "{now}");
    let gone = |t: &String, s: &String| {
        !ppp_sessions(socket)
            .iter()
            .any(|(tid, sid)| tid == t && sid == s)
    };
    coa("Session-Timeout = 1\n");
    wait(Duration::from_secs(10), "the CoA's Session-Timeout", || {
        gone(&a.0, &a.1)
    });
    assert!(
        !gone(&b.0, &b.1),
        "the other session went too\n{}",
        context()
    );

    // Disconnect-Request by Framed-IP-Address: exactly the second session goes.
    let out = lab.radclient(
        "192.0.2.3:3799",
        "disconnect",
        SECRET,
        &format!("Framed-IP-Address = {ip_b}\n"),
    );
    assert!(out.contains("Received Disconnect-ACK"), "{out}");
    wait(
        Duration::from_secs(10),
        "the disconnected session gone",
        || gone(&b.0, &b.1),
    );
    let _ = held.kill();
    let _ = held.wait();

    // Their Stops: Session-Timeout and Admin-Reset, each with its Class.
    let file = lab.detail("192.0.2.10");
    let stop = |id: &str| {
        Detail::read(&[&file]).records.into_iter().find(|r| {
            r.get("Acct-Status-Type") == Some("Stop")
                && r.get("Acct-Session-Id") == Some(&format!("\"{id}\""))
        })
    };
    wait(Duration::from_secs(10), "the two Stops", || {
        stop(id_a).is_some() && stop(id_b).is_some()
    });
    let (sa, sb) = (stop(id_a).unwrap(), stop(id_b).unwrap());
    assert_eq!(
        sa.get("Acct-Terminate-Cause"),
        Some("Session-Timeout"),
        "{sa}"
    );
    assert_eq!(sb.get("Acct-Terminate-Cause"), Some("Admin-Reset"), "{sb}");
    for st in [&sa, &sb] {
        assert_eq!(st.get("Class"), Some("0x636c6173732d706f6f6c"), "{st}");
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(shown["dynauth"]["coa_ack"], 2, "{shown}");
    assert_eq!(shown["dynauth"]["disconnect_ack"], 1, "{shown}");
}

/// The PPP client of `l2tp-loadgen` (`ppp-proto`'s, as l2tpd's own client role uses) on the
/// host, against l2tpd on the userspace data plane: PAP, CHAP and MS-CHAPv2 accepted by
/// FreeRADIUS with the address it gives, and rejected; Framed-Pool's addresses from l2tpd's
/// pool; the Access-Accept's attributes l2tpd does not use named in its debug log; a Start and
/// a Stop in the detail file for every session that came up.
#[test]
fn native_clients_on_the_host_are_authenticated_and_accounted() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("native");
    lab.loopback(&["192.0.2.3/32", "192.0.2.10/32"]);
    let _radius = lab.start_freeradius("192.0.2.10");
    lab.capture("lo");
    let dir = lab.dir.clone();
    let conf = dir.join("l2tpd.conf");
    let socket = dir.join("l2tpd.sock");
    let text = format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane userspace\n    control_socket {d}/l2tpd.sock\n    \
         pid_file {d}/l2tpd.pid\n    radius_nas_identifier \"nas-native\"\n    \
         radius_nas_ip_address 192.0.2.3\n    radius_dynauth_listen 192.0.2.3\n    \
         metrics_listen 192.0.2.3:9750\n}}\n\
         dynauth client \"radclient\" {{\n    address 192.0.2.3\n    secret \"{SECRET}\"\n}}\n\
         radius server \"r\" {{\n    address 192.0.2.10\n    secret \"{SECRET}\"\n}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.100-198.51.100.150\n}}\n\
         ip pool \"gold\" {{\n    ranges 198.51.100.200-198.51.100.209\n}}\n\
         ppp profile \"default\" {{\n    auth_pap true\n    auth_source radius\n    \
         radius_accounting true\n    local_ip_addr 198.51.100.1\n    ip_pool_name \"customers\"\n    \
         ipv6cp false\n}}\n",
        d = dir.display()
    );
    std::fs::write(&conf, text).unwrap();
    let (l2tpd, log) = start_l2tpd(&mut lab, &["-d", "-d"]);
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    for (auth, user, password, address) in [
        ("pap", "pap-user", "pap-password", "198.51.100.10"),
        ("chap", "chap-user", "chap-password", "198.51.100.11"),
        ("mschapv2", "User", "clientPass", "198.51.100.12"),
    ] {
        let r = loadgen(&lab, 1, (auth, user, password));
        assert_eq!(r["ppp"]["sessions_up"], 1, "{auth}: {r}\n{}", context());
        assert_eq!(r["ppp"]["addresses"], 1, "{auth}: {r}");
        assert!(
            context().contains(&format!("PPP up: user \"{user}\", peer {address}")),
            "{auth}: {}",
            context()
        );
        if user == "pap-user" {
            // Its Access-Accept has tunnel attributes l2tpd does not use: named at debug level,
            // the secret of Tunnel-Password never shown.
            let log = context();
            let line = log
                .lines()
                .find(|l| l.contains("Access-Accept attributes not used: "))
                .unwrap_or_else(|| panic!("the unused attributes are not logged:\n{log}"));
            for name in ["Tunnel-Type", "Tunnel-Medium-Type", "Tunnel-Password"] {
                assert!(line.contains(name), "{name} not named: {line}");
            }
            // Its Reply-Message went to the peer in the Authenticate-Ack.
            assert!(!line.contains("Reply-Message"), "named as unused: {line}");
            assert!(!log.contains("tunnel-secret-pap"), "a secret in the log");
        }
        let r = loadgen(&lab, 1, (auth, user, "wrong-password"));
        assert_eq!(r["ppp"]["sessions_up"], 0, "{auth}: {r}");
        assert_eq!(r["ppp"]["sessions_failed"], 1, "{auth}: {r}");
    }
    // Three sessions of the pool user: three addresses of l2tpd's pool "gold".
    let r = loadgen(&lab, 3, ("chap", "pool-user", "pool-password"));
    assert_eq!(r["ppp"]["sessions_up"], 3, "{r}\n{}", context());
    assert_eq!(r["ppp"]["addresses"], 3, "{r}");
    assert_eq!(r["ppp"]["duplicate_addresses"], 0, "{r}");
    for a in ["198.51.100.200", "198.51.100.201", "198.51.100.202"] {
        assert!(context().contains(&format!("peer {a}")), "{}", context());
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
    assert_eq!(shown["accepts"], 6, "{shown}");
    assert_eq!(shown["rejects"], 3, "{shown}");
    // The metrics say the same, per server too.
    let metrics = scrape(&lab, "http://192.0.2.3:9750/metrics");
    for line in [
        "l2tpd_radius_access_accepts_total 6",
        "l2tpd_radius_access_rejects_total 3",
        "l2tpd_radius_server_rejects_total{server=\"r\",service=\"authentication\"} 3",
        "l2tpd_radius_server_up{server=\"r\",service=\"authentication\"} 1",
        "l2tpd_radius_server_up{server=\"r\",service=\"accounting\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    let requests = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "l2tpd_radius_server_requests_total{server=\"r\",service=\"authentication\"} ",
            )
        })
        .and_then(|v| v.parse::<u64>().ok());
    assert!(requests >= Some(9), "{metrics}");
    // Every session that came up has its Start and its Stop, with its counters.
    let detail = lab.detail("192.0.2.10");
    wait(Duration::from_secs(10), "six Stops", || {
        Detail::read(&[&detail])
            .records
            .iter()
            .filter(|r| r.get("Acct-Status-Type") == Some("Stop"))
            .count()
            == 6
    });
    let records = Detail::read(&[&detail]).records;
    let starts: Vec<_> = records
        .iter()
        .filter(|r| r.get("Acct-Status-Type") == Some("Start"))
        .collect();
    assert_eq!(starts.len(), 6);
    for s in &starts {
        let id = s.get("Acct-Session-Id");
        let stop = records
            .iter()
            .find(|r| r.get("Acct-Status-Type") == Some("Stop") && r.get("Acct-Session-Id") == id)
            .unwrap_or_else(|| panic!("no Stop for {s}"));
        assert!(stop.get("Acct-Input-Packets").is_some(), "{stop}");
        assert_eq!(stop.get("NAS-Identifier"), Some("\"nas-native\""), "{stop}");
    }
    dynamic_authorization_of_live_sessions(&lab, &socket, &log);
    let (packets, invalid) = lab.judge();
    assert!(packets >= 9 * 2, "{packets} RADIUS packets");
    assert_eq!(invalid, 0);
    lab.stop(l2tpd);
}

/// A lab `name` with l2tpd started on the userspace data plane with a RADIUS server on
/// 192.0.2.11, where nothing answers (`max_outstanding` requests in flight to it, none
/// retried), the pool "customers", more `system` lines and then `rest`: the lab, l2tpd, its
/// log and its control socket.
fn start_with_silent_server(
    name: &str,
    system: &str,
    max_outstanding: u32,
    rest: &str,
) -> (Lab, lab::Proc, PathBuf, PathBuf) {
    let mut lab = Lab::new(name);
    lab.loopback(&["192.0.2.3/32", "192.0.2.11/32"]);
    let dir = lab.dir.clone();
    let text = format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane userspace\n    control_socket {d}/l2tpd.sock\n    \
         pid_file {d}/l2tpd.pid\n    radius_nas_ip_address 192.0.2.3\n    \
         radius_accounting_on_off false\n{system}}}\n\
         radius server \"silent\" {{\n    address 192.0.2.11\n    secret \"{SECRET}\"\n    \
         timeout 30\n    retries 0\n    max_outstanding {max_outstanding}\n}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.100-198.51.100.150\n}}\n{rest}",
        d = dir.display()
    );
    std::fs::write(dir.join("l2tpd.conf"), text).unwrap();
    let (l2tpd, log) = start_l2tpd(&mut lab, &[]);
    (lab, l2tpd, log, dir.join("l2tpd.sock"))
}

/// A set-up storm against a server that does not answer (an address with no listener): no
/// more than `max_outstanding` Access-Requests in flight to it, the rest queued; past 256 in
/// flight a second socket (RADIUS identifiers are per socket). The peers' sessions wait, and
/// nothing is answered while they do.
#[test]
fn a_set_up_storm_queues_past_max_outstanding_on_two_sockets() {
    if skip() {
        return;
    }
    let (mut lab, l2tpd, log, socket) = start_with_silent_server(
        "storm",
        "",
        300,
        "ppp profile \"default\" {\n    auth_chap true\n    auth_source radius\n    \
         local_ip_addr 198.51.100.1\n    ip_pool_name \"customers\"\n    ipv6cp false\n}\n",
    );
    // 400 sessions in set-up at once (4 tunnels of 100).
    let mut storm = loadgen_in_background(
        &lab,
        &[
            "--tunnels",
            "4",
            "--sessions",
            "100",
            "--concurrency",
            "400",
            "--ppp",
            "--auth",
            "chap",
            "--user",
            "u",
            "--password",
            "p",
            "--timeout",
            "60",
        ],
    );
    let last = wait_radius(&socket, &log, "300 in flight and 100 queued", |last| {
        last["servers"][0]["outstanding"] == 300 && last["queued_access"] == 100
    });
    assert_eq!(last["sockets"], 2, "{last}");
    assert_eq!(last["servers"][0]["requests"], 300, "{last}");
    assert_eq!(last["accepts"], 0, "{last}");
    let _ = storm.kill();
    let _ = storm.wait();
    lab.stop(l2tpd);
}

/// Accounting that no server takes: local users, accounted to a server that does not answer,
/// with one request in flight and `radius_max_queued_accounting 5`. Of 20 Starts, one is in
/// flight, five wait, and the other fourteen are dropped, each logged and counted in
/// `show radius` (nothing lost silently).
#[test]
fn accounting_past_its_queue_is_dropped_logged_and_counted() {
    if skip() {
        return;
    }
    let (mut lab, l2tpd, log, socket) = start_with_silent_server(
        "acctq",
        "    radius_max_queued_accounting 5\n",
        1,
        "user \"u\" {\n    password \"p\"\n}\n\
         ppp profile \"default\" {\n    auth_chap true\n    auth_source local\n    \
         radius_accounting true\n    local_ip_addr 198.51.100.1\n    ip_pool_name \"customers\"\n    \
         ipv6cp false\n}\n",
    );
    let mut sessions = loadgen_in_background(
        &lab,
        &[
            "--tunnels",
            "1",
            "--sessions",
            "20",
            "--ppp",
            "--auth",
            "chap",
            "--user",
            "u",
            "--password",
            "p",
            "--hold",
            "60",
        ],
    );
    let last = wait_radius(&socket, &log, "14 records lost", |last| {
        last["accounting_lost"] == 14
    });
    assert_eq!(last["accounting_requests"]["start"], 20, "{last}");
    // The server's accounting line comes after its authentication line.
    assert_eq!(last["servers"][1]["service"], "accounting", "{last}");
    assert_eq!(last["servers"][1]["outstanding"], 1, "{last}");
    assert_eq!(last["queued_accounting"], 5, "{last}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let logged = text
        .lines()
        .filter(|l| l.contains("an accounting record was dropped"))
        .count();
    assert_eq!(logged, 14, "{text}");
    let _ = sessions.kill();
    let _ = sessions.wait();
    lab.stop(l2tpd);
}
