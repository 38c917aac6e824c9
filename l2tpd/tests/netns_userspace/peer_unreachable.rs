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

/// Without a data plane reading the tunnel's socket (`dataplane none` here; the kernel data
/// plane's tunnels are read the same way), the daemon's own reader gets the ECONNREFUSED of
/// its HELLOs to a killed peer: counted as `peer_unreachable` too, for the tunnel and in the
/// totals, not lost in a debug line.
#[test]
fn a_killed_peers_port_unreachable_is_counted_without_a_data_plane() {
    let mut lab = netns::Lab::new("none-unreachable", &["python3"]);
    let dp = "    dataplane none\n";
    let session = "    pseudowire_type eth\n";
    let server_conf = format!(
        "peer profile \"clients\" {{\n    peer_ipaddr 192.0.2.0/24\n    tunnel_profile_name \"srv\"\n    \
         session_profile_name \"srv\"\n}}\n\n\
         tunnel profile \"srv\" {{\n    version 3\n    encap udp\n}}\n\n\
         session profile \"srv\" {{\n{session}}}\n"
    );
    let client_conf = format!(
        "tunnel \"t1\" {{\n    version 3\n    encap udp\n    peer 192.0.2.2\n    persist false\n    \
         hello_timeout 1\n    max_retries 10\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n{session}}}\n"
    );
    let b = lab.start_l2tpd(Side::B, "192.0.2.2:1701", dp, &server_conf);
    let a = lab.start_l2tpd(Side::A, "192.0.2.1:1701", dp, &client_conf);
    lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    let unreachable = |lab: &netns::Lab| {
        let system = lab.ctl(&a, &["show", "system"]).unwrap();
        let tunnel = lab.ctl(&a, &["show", "tunnel", "t1"]).unwrap();
        let total = system["statistics"]["data_discards"]["peer_unreachable"].as_u64();
        let own = tunnel["stats"]["peer_unreachable"].as_u64();
        (total.unwrap_or(0), own.unwrap_or(0))
    };
    // HELLOs every second, answered: nothing refused.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(unreachable(&lab), (0, 0), "{}", lab.pair_context(&a, &b));
    lab.stop(b.proc, Signal::SIGKILL, Duration::from_secs(5));
    let (total, own) = poll(
        DEADLINE,
        "A counting the ICMP port unreachables of its HELLOs",
        || {
            let (total, own) = unreachable(&lab);
            (total >= 1 && own >= 1).then_some((total, own))
        },
        || lab.pair_context(&a, &b),
    );
    assert!(own <= total, "show tunnel {own}, show system {total}");
    let system = lab.ctl(&a, &["show", "system"]).unwrap();
    let discards = &system["statistics"]["data_discards"];
    assert_eq!(
        discards["tx_errors"].as_u64().unwrap_or(0),
        0,
        "a peer's port unreachable taken for an error of A's: {system}"
    );
}
