//! Someone deletes the bridge a running session's TAP is a port of (`bridge`): the daemon
//! says so once, naming the session, the TAP and the bridge, and counts it
//! (`bridge_ports_lost`); a bridge of that name made again gets the TAP back as a port, with
//! an info line, and traffic flows again. The TAP itself deleted takes its session down with
//! a CDN, logged and counted (`data_path_lost`), and is no bridge port lost.

use super::netns::{self, DEADLINE, Side, num, poll};
use super::{Pw, flushed_log, make_bridge, start};

/// The names of br-pw's ports in B's namespace (`ip -j link show master br-pw`).
fn ports(pw: &Pw) -> Vec<String> {
    let out = pw.lab.run(
        Side::B,
        &["ip", "-j", "link", "show", "master", "br-pw"],
        netns::SHORT,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["ifname"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn bridge_ports_lost(pw: &Pw) -> u64 {
    let s = pw.lab.ctl(&pw.b, &["show", "system"]).unwrap();
    s["statistics"]["bridge_ports_lost"].as_u64().unwrap_or(0)
}

#[test]
fn a_deleted_bridge_is_reported_and_its_port_added_back_when_it_returns() {
    let pw = start(
        "userspace-bridge-gone",
        "udp",
        "    bridge br-pw\n",
        |lab| {
            make_bridge(lab.ns(Side::B));
        },
    );
    assert_eq!(ports(&pw), ["pwb0"], "{}", pw.context());
    assert!(pw.ping(2), "no ping reply before\n{}", pw.context());
    let sid_b = num(&pw.sessions[1], "sid");
    let tid_b = num(&pw.sessions[1], "tid");
    let ns_b = pw.lab.ns(Side::B).to_owned();
    // Someone deletes the bridge: one warning, one count; the session stays up.
    netns::ip(&["-n", &ns_b, "link", "del", "br-pw"]);
    let warning = format!(
        "session {tid_b}/{sid_b}: bridge br-pw was deleted; interface pwb0 is no longer a port \
         of it"
    );
    let log = poll(
        DEADLINE,
        "B warning that br-pw was deleted",
        || {
            let log = flushed_log(&pw.lab, &pw.b);
            log.contains(&warning).then_some(log)
        },
        || pw.context(),
    );
    assert_eq!(log.matches(&warning).count(), 1, "{log}");
    assert_eq!(bridge_ports_lost(&pw), 1);
    assert!(!pw.ping(1), "a ping reply with no bridge\n{}", pw.context());
    // The bridge is made again: pwb0 is its port again, said at level info, and pings cross.
    make_bridge(&ns_b);
    poll(
        DEADLINE,
        "pwb0 a port of the new br-pw",
        || (ports(&pw) == ["pwb0"]).then_some(()),
        || pw.context(),
    );
    let back = format!(
        "session {tid_b}/{sid_b}: bridge br-pw is back; interface pwb0 is a port of it again"
    );
    poll(
        DEADLINE,
        "B saying pwb0 is back in br-pw",
        || flushed_log(&pw.lab, &pw.b).contains(&back).then_some(()),
        || pw.context(),
    );
    assert!(pw.ping(3), "no ping reply after\n{}", pw.context());
    assert_eq!(bridge_ports_lost(&pw), 1);
    // Someone deletes the TAP itself: the session goes down with a CDN, said in the log; that
    // is no bridge port lost.
    let cdns = |pw: &Pw| {
        let s = pw.lab.ctl(&pw.b, &["show", "system"]).unwrap();
        s["statistics"]["messages_sent"]["CDN"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(cdns(&pw), 0);
    netns::ip(&["-n", &ns_b, "link", "del", "pwb0"]);
    poll(
        DEADLINE,
        "B disconnecting the session of its deleted TAP",
        || {
            let log = flushed_log(&pw.lab, &pw.b);
            (log.contains(&format!("{sid_b}: its TAP interface pwb0 was deleted"))
                && cdns(&pw) == 1)
                .then_some(())
        },
        || pw.context(),
    );
    assert_eq!(bridge_ports_lost(&pw), 1);
    let s = pw.lab.ctl(&pw.b, &["show", "system"]).unwrap();
    assert_eq!(s["statistics"]["data_path_lost"], 1, "{s}");
    let log = flushed_log(&pw.lab, &pw.b);
    assert_eq!(log.matches("was deleted; interface").count(), 1, "{log}");
}
