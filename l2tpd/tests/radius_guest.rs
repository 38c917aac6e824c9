//! RADIUS against FreeRADIUS, with pppd as the PPP client: l2tpd as an LNS on the kernel data
//! plane in the qemu test guest (`tests/vm/`), with `examples/lns-radius.conf` as shipped,
//! terminates the PPP itself (native PPP), and asks
//! two FreeRADIUS servers that run on the host, in a network namespace linked to the guest's
//! eth0 (`radius_guest/lab.rs`: a TAP in the namespace relays the Ethernet frames of the
//! guest's UDP link). The LAC is l2tpd in a namespace of the guest, handing each call to pppd
//! (`radius_guest/guest.sh`). FreeRADIUS runs `examples/radius` as shipped (its `users`).
//!
//! Checked, in one guest run:
//!
//! - PAP, CHAP and MS-CHAPv2 (the RFC 2759 example user) accepted with the address the server
//!   gives (Framed-IP-Address), and rejected; Framed-Pool takes the address from l2tpd's pool
//!   of that name.
//! - Accounting: Accounting-On, Start, an Interim-Update after pings (the server's
//!   Acct-Interim-Interval), Stop, Accounting-Off, in FreeRADIUS's detail files, with the
//!   session's octets and packets, its Class, its Acct-Session-Id and a terminate cause.
//! - Session-Timeout from the server ends the session on time, and its Stop says so.
//! - `radclient` sends a Disconnect-Request for one of two sessions: that one ends (its Stop
//!   says Admin-Reset), the other stays.
//! - The first server stopped: the second authenticates; the first started again is used
//!   once its dead time is over.
//! - Both servers stopped while a session ends: its Stop is queued and delivered once they
//!   run again; every Start has its Stop.
//! - tshark decodes the whole capture of the RADIUS link with no malformed packet, every
//!   authenticator checked with the secret.
//!
//! Needs root, qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`),
//! FreeRADIUS (`freeradius`, `radclient`), tcpdump and tshark; without them the test is
//! skipped, or fails under `L2TP_REQUIRE_ALL=1` (as CI runs it).

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/radius_lab.rs"]
mod radius_guest_lab;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use l2tp_testkit::guest::{self, Share};
use radius_guest_lab::{Detail, Lab, Record};

const GUEST_TIMEOUT_S: u64 = 600;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // `cargo test FILTER` passes the filter on: run only if it names this test.
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "radius_guest".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    host();
    println!("test radius_guest ... ok");
    ExitCode::SUCCESS
}

fn host() {
    let programs = ["freeradius", "radclient", "tcpdump", "tshark", "ip"];
    if guest::cannot_run("radius_guest", &programs, true) {
        return;
    }
    let share = Share::new("radius-guest");
    let l2tpd = PathBuf::from(env!("CARGO_BIN_EXE_l2tpd"));
    let l2tpctl = l2tp_testkit::daemon::l2tpctl_beside(env!("CARGO_BIN_EXE_l2tpd"));
    share.add_binary(&l2tpd, "l2tpd");
    share.add_binary(&l2tpctl, "l2tpctl");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    share.add_file(&here.join("tests/radius_guest/guest.sh"), "guest.sh");
    share.add_file(
        &here.join("../examples/lns-radius.conf"),
        "examples/lns-radius.conf",
    );

    let mut lab = Lab::new("guest");
    let (guest_port, host_port) = lab.link();
    let first = lab.start_freeradius("192.0.2.10");
    let second = lab.start_freeradius("192.0.2.11");
    lab.capture("radt0");
    let started = Instant::now();
    let link = format!("{guest_port}:{host_port}:192.0.2.1/24");
    let mut child = guest::start(
        &share,
        "radius-guest",
        GUEST_TIMEOUT_S,
        &["-m", "384", "-l", &link],
    );
    let console = std::thread::spawn({
        let mut out = child.stdout.take().expect("the console");
        move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        }
    });
    // The guest asks, the host acts.
    let out = share.path().join("out");
    let mut done: Vec<String> = Vec::new();
    let mut radclient = String::new();
    let (mut first, mut second) = (Some(first), Some(second));
    while child.try_wait().expect("the guest").is_none() {
        for want in [
            "disconnect",
            "stop-first",
            "start-first",
            "stop-all",
            "start-all",
        ] {
            let file = out.join(format!("want-{want}"));
            if done.iter().any(|d| d == want) || !file.exists() {
                continue;
            }
            let arg = std::fs::read_to_string(&file).unwrap_or_default();
            match want {
                "disconnect" => {
                    radclient = lab.radclient_disconnect("192.0.2.1:3799", arg.trim());
                }
                "stop-first" => lab.stop(first.take().expect("first runs")),
                "start-first" => first = Some(lab.start_freeradius("192.0.2.10")),
                "stop-all" => {
                    lab.stop(first.take().expect("first runs"));
                    lab.stop(second.take().expect("second runs"));
                }
                _ => {
                    first = Some(lab.start_freeradius("192.0.2.10"));
                    second = Some(lab.start_freeradius("192.0.2.11"));
                }
            }
            std::fs::write(out.join(format!("done-{want}")), "").unwrap();
            done.push(want.to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = child.wait().expect("run-guest.sh ends");
    let console = console.join().unwrap_or_default();
    let took = started.elapsed();
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    let results = read("results");
    let ctx = || {
        format!(
            "{console}\n--- results\n{results}\n--- lns.log (tail)\n{}\n{}",
            tail(&read("lns.log"), 80),
            lab.logs()
        )
    };
    assert!(
        status.success() && console.contains("GUEST DONE"),
        "the guest failed ({status}):\n{}",
        ctx()
    );
    assert!(!results.contains("FAIL"), "{}", ctx());
    for want in [
        "PASS accepted pap-ok at 198.51.100.10",
        "PASS prefixes routed",
        "PASS rejected pap-bad",
        "PASS accepted chap-ok at 198.51.100.11",
        "PASS rejected chap-bad",
        "PASS accepted ms-ok at 198.51.100.12",
        "PASS rejected ms-bad",
        "PASS accepted pool at 198.51.100.200",
        "PASS pings over PPP",
        "PASS session timeout logged",
        "PASS disconnected chap-user",
        "PASS the other session stays",
        "PASS authenticated by the second server",
        "PASS authenticated after the dead time",
        "PASS the queued Stop was answered",
        "lns exit 0",
    ] {
        assert!(results.contains(want), "no {want:?}:\n{}", ctx());
    }
    // Session-Timeout 8 s: ended between 7 and 12 s after the address came (the guest's
    // clock under emulation, and pppd's own delay in reporting).
    let ended: f64 = results
        .split("session-timeout ended after ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    assert!(
        (6.0..=13.0).contains(&ended),
        "Session-Timeout: {ended} s\n{}",
        ctx()
    );
    // radclient's Disconnect-Request was ACKed.
    assert!(
        radclient.contains("Received Disconnect-ACK"),
        "radclient:\n{radclient}\n{}",
        ctx()
    );
    // show radius: the first server was dead while stopped, and answered again afterwards.
    let radius = |name: &str| -> serde_json::Value {
        serde_json::from_str(&read(&format!("radius-{name}.json")))
            .unwrap_or_else(|e| panic!("radius-{name}.json: {e}\n{}", ctx()))
    };
    let server = |v: &serde_json::Value, name: &str, service: &str| -> serde_json::Value {
        v["servers"]
            .as_array()
            .and_then(|s| {
                s.iter()
                    .find(|s| s["name"] == name && s["service"] == service)
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no {name} {service} in {v}"))
    };
    let (failover, back) = (radius("failover"), radius("back"));
    let first = server(&failover, "radius-1", "authentication");
    assert_eq!(first["state"], "dead", "{failover}");
    assert!(first["timeouts"].as_u64() >= Some(1), "{failover}");
    let second = server(&failover, "radius-2", "authentication");
    assert_eq!(second["accepts"], 1, "{failover}");
    assert_eq!(
        server(&back, "radius-1", "authentication")["state"],
        "alive"
    );
    assert_eq!(
        server(&back, "radius-1", "authentication")["accepts"].as_u64(),
        first["accepts"].as_u64().map(|n| n + 1),
        "the first server was not used again:\n{failover}\n{back}"
    );
    assert_eq!(server(&back, "radius-2", "authentication")["accepts"], 1);
    // The Stop of the outage waited in the queue, and none was lost.
    let outage = radius("outage");
    assert!(outage["pending"].as_u64() >= Some(1), "{outage}");
    let after = radius("after");
    assert_eq!(after["accounting_lost"], 0, "{after}");
    assert_eq!(after["no_answer"], 0, "{after}");
    assert_eq!(after["dynauth"]["disconnect_ack"], 1, "{after}");

    // The detail files of both servers, every record.
    let detail = Detail::read(&[&lab.detail("192.0.2.10"), &lab.detail("192.0.2.11")]);
    let records = &detail.records;
    let of = |status: &str| -> Vec<&Record> {
        records
            .iter()
            .filter(|r| r.get("Acct-Status-Type") == Some(status))
            .collect()
    };
    assert!(
        !of("Accounting-On").is_empty(),
        "no Accounting-On:\n{detail}"
    );
    assert!(
        !of("Accounting-Off").is_empty(),
        "no Accounting-Off:\n{detail}"
    );
    for r in records {
        assert_eq!(r.get("NAS-Identifier"), Some("\"lns-1\""), "{r}");
        assert_eq!(r.get("NAS-IP-Address"), Some("192.0.2.1"), "{r}");
    }
    // Every Start has its Stop, with the same user, and the Stop has the session's counters.
    let starts = of("Start");
    let stops = of("Stop");
    assert!(starts.len() >= 9, "{} Starts:\n{detail}", starts.len());
    for s in &starts {
        let id = s.get("Acct-Session-Id").expect("an Acct-Session-Id");
        let stop = stops
            .iter()
            .find(|r| r.get("Acct-Session-Id") == Some(id))
            .unwrap_or_else(|| panic!("no Stop for {s}\n{detail}"));
        assert_eq!(stop.get("User-Name"), s.get("User-Name"), "{stop}");
        for attr in [
            "Acct-Session-Time",
            "Acct-Input-Octets",
            "Acct-Output-Octets",
            "Acct-Input-Gigawords",
            "Acct-Output-Gigawords",
            "Acct-Input-Packets",
            "Acct-Output-Packets",
            "Acct-Terminate-Cause",
            "Calling-Station-Id",
            "Called-Station-Id",
            "Framed-IP-Address",
            "NAS-Port",
            "NAS-Port-Id",
            "Tunnel-Client-Endpoint:1",
            "Event-Timestamp",
        ] {
            assert!(stop.get(attr).is_some(), "no {attr} in {stop}");
        }
    }
    // The accounting session: Class echoed, an Interim-Update with the pings' traffic, the
    // Stop with at least as much.
    let acct_stops: Vec<&&Record> = stops
        .iter()
        .filter(|r| r.get("User-Name") == Some("\"acct-user\""))
        .collect();
    assert_eq!(acct_stops.len(), 2, "{detail}");
    let first_acct = acct_stops[0];
    let id = first_acct.get("Acct-Session-Id").unwrap();
    assert_eq!(
        first_acct.get("Class"),
        Some("0x636c6173732d61636374"),
        "{first_acct}"
    );
    let interim = of("Interim-Update")
        .into_iter()
        .find(|r| r.get("Acct-Session-Id") == Some(id))
        .unwrap_or_else(|| panic!("no Interim-Update for {id}\n{detail}"));
    let n = |r: &Record, a: &str| r.get(a).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    assert!(n(interim, "Acct-Input-Packets") >= 20, "{interim}");
    assert!(n(interim, "Acct-Input-Octets") >= 20 * 84, "{interim}");
    assert!(n(interim, "Acct-Output-Packets") >= 20, "{interim}");
    assert!(n(first_acct, "Acct-Input-Packets") >= n(interim, "Acct-Input-Packets"));
    assert!(n(first_acct, "Acct-Session-Time") >= 12, "{first_acct}");
    assert!(
        matches!(
            first_acct.get("Acct-Terminate-Cause"),
            Some("User-Request" | "Lost-Carrier")
        ),
        "{first_acct}"
    );
    // The session of the outage: its Stop came after the servers were started again.
    let outage = acct_stops[1];
    assert!(n(outage, "Acct-Delay-Time") >= 2, "{outage}");
    // Session-Timeout and Disconnect-Request.
    let stop_of = |user: &str, cause: &str| {
        stops.iter().any(|r| {
            r.get("User-Name") == Some(&format!("\"{user}\""))
                && r.get("Acct-Terminate-Cause") == Some(cause)
        })
    };
    assert!(stop_of("timeout-user", "Session-Timeout"), "{detail}");
    assert!(stop_of("chap-user", "Admin-Reset"), "{detail}");
    // Framed-Pool: the pool user's Start has the gold pool's address.
    assert!(
        starts
            .iter()
            .any(|r| r.get("User-Name") == Some("\"pool-user\"")
                && r.get("Framed-IP-Address") == Some("198.51.100.200")),
        "{detail}"
    );

    // tshark: every packet of the capture is RADIUS (and ARP/ICMP of the link), none
    // malformed, every authenticator it can check valid.
    let (packets, invalid) = lab.judge();
    assert!(packets > 50, "only {packets} RADIUS packets captured");
    assert_eq!(
        invalid, 0,
        "{invalid} packets with an invalid authenticator"
    );
    print!("{results}");
    if std::env::var_os("RADIUS_GUEST_VERBOSE").is_some() {
        println!("{detail}\n{}", read("radius-after.txt"));
    }
    println!(
        "radius_guest: {} RADIUS packets judged, {} accounting records, {:.0} s",
        packets,
        records.len(),
        took.as_secs_f64()
    );
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
