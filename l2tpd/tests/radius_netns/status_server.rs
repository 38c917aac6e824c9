//! `status_server` on a `radius server` block: the preferred accounting server is down when
//! the daemon starts, so Accounting-On fails over to the backup and the preferred server is
//! dead; its Status-Server probes (RFC 5997) to its accounting port go unanswered, and once
//! FreeRADIUS runs there a probe brings it back: logged with its reason, counted by
//! `show radius`, seen on the wire by tshark, and no accounting request was sent to it
//! meanwhile.

use std::time::Duration;

use super::lab::{Detail, Lab};
use super::{config, ctl, server, skip, start_l2tpd, wait};

/// `show radius -j`'s row of the preferred server's accounting.
fn preferred(socket: &std::path::Path) -> serde_json::Value {
    let shown: serde_json::Value =
        serde_json::from_str(&ctl(socket, &["-j", "show", "radius"])).unwrap_or_default();
    shown["servers"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "one").cloned())
        .unwrap_or_default()
}

#[test]
fn a_dead_accounting_server_comes_back_through_status_server() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("status");
    lab.loopback(&["192.0.2.3/32", "192.0.2.10/32", "192.0.2.11/32"]);
    let _two = lab.start_freeradius("192.0.2.11");
    lab.capture("lo");
    let dir = lab.dir.clone();
    let socket = dir.join("l2tpd.sock");
    // Accounting only: no PPP profile authenticates with RADIUS.
    let servers = server(
        "one",
        10,
        "    auth_port 0\n    retries 0\n    dead_time 1\n    status_server true\n",
    ) + &server("two", 11, "    auth_port 0\n    priority 2\n");
    std::fs::write(dir.join("l2tpd.conf"), config(&dir, &servers)).unwrap();
    let (_l2tpd, log) = start_l2tpd(&mut lab, &["-d"]);
    let backup = lab.detail("192.0.2.11");
    wait(
        Duration::from_secs(15),
        "Accounting-On on the backup",
        || {
            Detail::read(&[&backup])
                .records
                .iter()
                .any(|r| r.get("Acct-Status-Type") == Some("Accounting-On"))
        },
    );
    // Down: a probe goes unanswered and leaves it dead.
    wait(Duration::from_secs(15), "an unanswered probe", || {
        preferred(&socket)["probes_timed_out"].as_u64() >= Some(1)
    });
    assert_eq!(preferred(&socket)["state"], "dead");
    let _one = lab.start_freeradius("192.0.2.10");
    wait(Duration::from_secs(15), "a probe brings it back", || {
        preferred(&socket)["state"] == "alive"
    });
    let row = preferred(&socket);
    assert_eq!(row["probes_answered"], 1, "{row}");
    // Only Accounting-On was ever sent to it, and it timed out.
    assert_eq!(
        (&row["requests"], &row["timeouts"]),
        (&1.into(), &1.into()),
        "{row}"
    );
    let text = ctl(&socket, &["show", "radius"]);
    assert!(
        text.lines().next().unwrap_or("").ends_with("PROBES"),
        "{text}"
    );
    let line = text.lines().find(|l| l.starts_with("one ")).unwrap_or("");
    let probes = format!(
        "{}/1/{}",
        row["probes"].as_u64().unwrap_or(0),
        row["probes_timed_out"].as_u64().unwrap_or(0)
    );
    assert!(line.ends_with(&probes), "{probes} in {text}");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains(
            "RADIUS server \"one\" (192.0.2.10:1813) is used again (answered Status-Server)"
        ),
        "{logged}"
    );

    // tshark: Status-Server to the accounting port, answered by an Accounting-Response.
    lab.judge();
    let rows = l2tp_testkit::freeradius::fields(
        &dir.join("radius.pcap"),
        &["ip.src", "ip.dst", "udp.dstport", "radius.code"],
    );
    let probes = rows
        .iter()
        .filter(|r| r[..] == ["192.0.2.3", "192.0.2.10", "1813", "12"])
        .count();
    assert!(probes >= 2, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r[0] == "192.0.2.10" && r.get(3).map(String::as_str) == Some("5")),
        "{rows:?}"
    );
}
