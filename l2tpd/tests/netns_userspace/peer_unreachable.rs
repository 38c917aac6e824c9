//! The peer's l2tpd is killed under a running pseudowire: its host answers the frames A still
//! sends with ICMP port unreachable, which A's tunnel socket reports as ECONNREFUSED. Nothing
//! of A's failed: A counts them as `peer_unreachable` (`show system`, `show tunnel`, the
//! metrics, the periodic summary in words), not as `rx_errors` or `tx_errors`.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::netns::{self, DEADLINE, Side, poll};
use super::{OVERLAY_B, flushed_log, start_dp, summed_up};

/// A's metrics endpoint, on its loopback.
const METRICS_A: &str = "127.0.0.1:9701";

/// `l2tpd_data_discards_total{reason="REASON"}` of a scrape of A's endpoint.
fn scraped_discards(lab: &netns::Lab, reason: &str) -> Option<u64> {
    let script = "import sys, urllib.request\n\
                  sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())\n";
    let url = format!("http://{METRICS_A}/metrics");
    let out = lab.run(
        Side::A,
        &["python3", "-c", script, &url],
        Duration::from_secs(20),
    );
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let series = format!("l2tpd_data_discards_total{{reason=\"{reason}\"}} ");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(series.as_str()))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

#[test]
fn a_killed_peers_port_unreachable_is_counted_apart_from_errors() {
    let b_pw = format!("    local_ip {OVERLAY_B}\n    netmask 255.255.255.0\n");
    let dp = format!("    dataplane userspace\n    metrics_listen {METRICS_A}\n");
    let mut pw = start_dp("userspace-unreachable", "udp", &b_pw, &dp, |_| {});
    assert!(pw.ping(2), "no ping reply before\n{}", pw.context());
    assert_eq!(scraped_discards(&pw.lab, "peer_unreachable"), Some(0));
    // B's l2tpd is killed: no StopCCN, no CDN, its port closed. A's session stays up and its
    // frames (ARP requests for B's address) go on reaching B's host.
    pw.lab
        .stop(pw.b.proc, Signal::SIGKILL, Duration::from_secs(5));
    let system = poll(
        DEADLINE,
        "A counting ICMP port unreachables from B",
        || {
            pw.ping_to(OVERLAY_B, 1);
            let s = pw.lab.ctl(&pw.a, &["show", "system"]).unwrap();
            let n = s["statistics"]["data_discards"]["peer_unreachable"].as_u64();
            (n >= Some(2)).then_some(s)
        },
        || pw.context(),
    );
    let discards = &system["statistics"]["data_discards"];
    assert!(
        discards["rx_errors"].as_u64().unwrap_or(0) == 0
            && discards["tx_errors"].as_u64().unwrap_or(0) == 0,
        "a peer's port unreachable taken for an error of A's: {system}"
    );
    let counted = discards["peer_unreachable"].as_u64().unwrap();
    let scraped = scraped_discards(&pw.lab, "peer_unreachable").unwrap();
    assert!(
        scraped >= counted,
        "scraped {scraped}, show system {counted}"
    );
    assert_eq!(scraped_discards(&pw.lab, "rx_errors"), Some(0));
    assert_eq!(scraped_discards(&pw.lab, "tx_errors"), Some(0));
    // The tunnel's own count, in `show tunnel`: all of them are its.
    let tunnel = pw.lab.ctl(&pw.a, &["show", "tunnel", "t1"]).unwrap();
    let own = tunnel["stats"]["peer_unreachable"].as_u64().unwrap_or(0);
    assert!(
        own >= counted,
        "show tunnel {own}, show system {counted}: {tunnel}"
    );
    // The periodic summary says what happened, in words.
    let log = poll(
        DEADLINE,
        "the summary naming the peer's port unreachable",
        || {
            let log = flushed_log(&pw.lab, &pw.a);
            (summed_up(&log, "on an ICMP port unreachable from the peer") >= 2).then_some(log)
        },
        || pw.context(),
    );
    assert!(
        !log.contains("receive errors of a tunnel's socket"),
        "{log}"
    );
}
