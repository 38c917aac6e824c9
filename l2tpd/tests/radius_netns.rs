//! The daemon's RADIUS plumbing on the host, without PPP: l2tpd (data plane `none`) in a
//! network namespace with FreeRADIUS (`examples/radius`) on two of its addresses.
//!
//! Accounting-On when the daemon starts and Accounting-Off when it stops, in the detail file;
//! `show radius` with the configured servers; Disconnect- and CoA-Requests from `radclient`
//! taken on `radius_dynauth_listen` and answered through the real socket (a NAK with the
//! Error-Cause that fits), a request with the wrong secret dropped and counted; a reload that
//! changes the server list (named in its summary, shown by `show radius`); tshark judging the
//! capture with the secret.
//!
//! Needs root (network namespaces), FreeRADIUS (`freeradius`, `radclient`), tcpdump and
//! tshark; without them the test is skipped, or fails under `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/radius_lab.rs"]
mod lab;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lab::{Detail, Lab, SECRET};

fn missing() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (network namespaces)".into());
    }
    ["ip", "freeradius", "radclient", "tcpdump", "tshark"]
        .into_iter()
        .find(|p| {
            !std::env::var_os("PATH").is_some_and(|path| {
                std::env::split_paths(&path).any(|d| d.join(p).is_file())
                    || Path::new("/usr/sbin").join(p).is_file()
            })
        })
        .map(|p| format!("`{p}` is not installed (scripts/deps.sh)"))
}

fn skip() -> bool {
    let Some(why) = missing() else {
        return false;
    };
    assert!(
        std::env::var_os("L2TP_REQUIRE_ALL").is_none_or(|v| v != "1"),
        "cannot run: {why} (L2TP_REQUIRE_ALL=1)"
    );
    eprintln!("skipped: {why}");
    true
}

/// Runs `l2tpctl -S SOCKET ARGS`; its output.
fn ctl(socket: &Path, args: &[&str]) -> String {
    let bin = l2tp_testkit::daemon::l2tpctl_beside(env!("CARGO_BIN_EXE_l2tpd"));
    let out = Command::new(bin)
        .arg("-S")
        .arg(socket)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn wait(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn config(dir: &Path, servers: &str) -> String {
    format!(
        "system {{\n    listen 192.0.2.3:1701\n    dataplane none\n    control_socket {d}/l2tpd.sock\n    \
         pid_file {d}/l2tpd.pid\n    radius_nas_identifier \"nas-netns\"\n    \
         radius_nas_ip_address 192.0.2.3\n    radius_dynauth_listen 192.0.2.3\n}}\n\
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
    lab.loopback(&["192.0.2.3/32", "192.0.2.10/32", "192.0.2.11/32"]);
    let _one = lab.start_freeradius("192.0.2.10");
    let _two = lab.start_freeradius("192.0.2.11");
    lab.capture("lo");
    let dir = lab.dir.clone();
    let conf = dir.join("l2tpd.conf");
    let socket = dir.join("l2tpd.sock");
    let servers = server("one", 10, "") + &server("two", 11, "    priority 2\n    acct_port 0\n");
    std::fs::write(&conf, config(&dir, &servers)).unwrap();
    let log = dir.join("l2tpd.log");
    let l2tpd = lab.spawn(
        "l2tpd",
        &[
            env!("CARGO_BIN_EXE_l2tpd"),
            "-f",
            "-d",
            "-d",
            "-c",
            conf.to_str().unwrap(),
            "-o",
            log.to_str().unwrap(),
        ],
    );
    wait(Duration::from_secs(10), "l2tpd answers", || {
        ctl(&socket, &["show", "system"]).contains("control socket")
    });
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
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(&socket, &["-j", "show", "radius"])).unwrap();
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

    // A reload: "two" removed, "three" added in front of "one".
    let servers =
        server("three", 11, "    priority 0\n    auth_port 1645\n") + &server("one", 10, "");
    std::fs::write(&conf, config(&dir, &servers)).unwrap();
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
        lab.wait_exit(&l2tpd, Duration::from_secs(10)),
        "l2tpd did not stop cleanly:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(
        status("Accounting-Off"),
        "no Accounting-Off:\n{}",
        Detail::read(&[&detail, &detail2])
    );
    let (packets, invalid) = lab.judge();
    assert!(packets >= 8, "{packets} RADIUS packets");
    assert_eq!(invalid, 0);
}
