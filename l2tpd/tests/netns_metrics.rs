//! The metrics endpoint of two l2tpd in network namespaces, carrying an L2TPv3 Ethernet
//! pseudowire on the userspace data plane: its values against `l2tpctl show system` and
//! `show session`, `promtool check metrics` on a scrape, and a real Prometheus server (Debian's
//! `prometheus`) scraping l2tpd and answering queries over its HTTP API. Needs root, promtool
//! and prometheus (`scripts/deps.sh`); fails without them. See `netns/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns;

use std::collections::BTreeMap;
use std::time::Duration;

use netns::{DEADLINE, L2tpd, Lab, SHORT, Side, poll};
use serde_json::Value;

const OVERLAY_A: &str = "198.51.100.1";
const OVERLAY_B: &str = "198.51.100.2";
/// B's endpoint, on its veth address; A's is on its loopback.
const METRICS_B: &str = "192.0.2.2:9701";
const METRICS_A: &str = "127.0.0.1:9701";
/// The Prometheus server's own web address, in B's namespace.
const PROMETHEUS: &str = "127.0.0.1:9090";

/// Fetches `url` from inside `side`'s namespace with `accept`; (Content-Type, body).
fn fetch(lab: &Lab, side: Side, url: &str, accept: &str) -> Result<(String, String), String> {
    let script = "import sys, urllib.request\n\
                  r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], \
                  headers={'Accept': sys.argv[2]}), timeout=10)\n\
                  sys.stdout.write(r.headers['Content-Type'] + '\\n')\n\
                  sys.stdout.write(r.read().decode())\n";
    let out = lab.run(
        side,
        &["python3", "-c", script, url, accept],
        Duration::from_secs(20),
    );
    if !out.status.success() {
        return Err(format!(
            "GET {url} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (ct, body) = text.split_once('\n').unwrap_or((&text, ""));
    Ok((ct.to_owned(), body.to_owned()))
}

/// A scrape in the Prometheus text format: each sample line's series (name and labels) and
/// value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, v)| (series.to_owned(), v.parse().unwrap()))
        .collect()
}

fn value(s: &BTreeMap<String, f64>, series: &str) -> u64 {
    *s.get(series)
        .unwrap_or_else(|| panic!("no series {series} in the scrape: {s:#?}")) as u64
}

/// `show system`'s statistics field `path` (e.g. `messages_received.SCCRQ`), 0 when absent.
fn stat(system: &Value, path: &str) -> u64 {
    let mut v = &system["statistics"];
    for p in path.split('.') {
        v = &v[p];
    }
    v.as_u64().unwrap_or(0)
}

/// Checks that the scraped `series` lies between `show system`'s `field` just before and just
/// after the scrape (the daemon keeps running between them).
fn between(before: &Value, s: &BTreeMap<String, f64>, after: &Value, series: &str, field: &str) {
    let (lo, v, hi) = (stat(before, field), value(s, series), stat(after, field));
    assert!(
        lo <= v && v <= hi,
        "{series} = {v}, but show system said {field} = {lo} before and {hi} after"
    );
}

struct Pair {
    lab: Lab,
    a: L2tpd,
    b: L2tpd,
}

impl Pair {
    fn context(&self) -> String {
        self.lab.pair_context(&self.a, &self.b)
    }

    fn system(&self, d: &L2tpd) -> Value {
        self.lab.ctl(d, &["show", "system"]).unwrap()
    }

    /// B's scrape between two `show system`, in the Prometheus text format.
    fn scrape_b(&self) -> (Value, BTreeMap<String, f64>, String, Value) {
        let before = self.system(&self.b);
        let url = format!("http://{METRICS_B}/metrics");
        let (ct, body) = fetch(&self.lab, Side::B, &url, "text/plain")
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()));
        let after = self.system(&self.b);
        assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
        (before, samples(&body), body, after)
    }
}

/// A client on A and a server on B, both on the userspace data plane with a metrics endpoint;
/// B allows one tunnel only and gives series per tunnel and session.
fn start() -> Pair {
    let mut lab = Lab::new("metrics", &["python3", "ping", "promtool", "prometheus"]);
    let session = "    pseudowire_type eth\n";
    let server = format!(
        "session profile \"default\" {{\n{session}}}\n\n\
         pseudowire profile \"default\" {{\n    interface_name pwb%d\n    local_ip {OVERLAY_B}\n    \
         netmask 255.255.255.0\n}}\n"
    );
    let client = format!(
        "tunnel \"t1\" {{\n    version 3\n    peer 192.0.2.2\n}}\n\n\
         session \"s1\" {{\n    tunnel \"t1\"\n{session}    pseudowire_profile_name \"cli\"\n}}\n\n\
         pseudowire profile \"cli\" {{\n    interface_name pwa%d\n    local_ip {OVERLAY_A}\n    \
         netmask 255.255.255.0\n}}\n"
    );
    let b = lab.start_l2tpd(
        Side::B,
        "192.0.2.2:1701",
        &format!(
            "    dataplane userspace\n    metrics_listen {METRICS_B}\n    metrics_detail sessions\n    \
             max_tunnels 1\n"
        ),
        &server,
    );
    let a = lab.start_l2tpd(
        Side::A,
        "192.0.2.1:1701",
        &format!("    dataplane userspace\n    metrics_listen {METRICS_A}\n"),
        &client,
    );
    lab.wait_one_up(&a, || lab.pair_context(&a, &b));
    lab.wait_one_up(&b, || lab.pair_context(&a, &b));
    Pair { lab, a, b }
}

#[test]
fn metrics_agree_with_show_system_pass_promtool_and_reach_prometheus() {
    let p = start();
    // Data across the pseudowire.
    let out = p.lab.run(
        Side::A,
        &[
            "ping", "-c", "5", "-i", "0.2", "-W", "2", "-w", "15", OVERLAY_B,
        ],
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "no ping across\n{}", p.context());
    // A second tunnel, which B refuses (max_tunnels 1).
    p.lab
        .ctl(&p.a, &["create", "tunnel", "t2", "peer=192.0.2.2"])
        .unwrap_or_else(|e| panic!("{e}\n{}", p.context()));
    poll(
        DEADLINE,
        "B refuses a second tunnel",
        || (stat(&p.system(&p.b), "tunnels_refused.max_tunnels") > 0).then_some(()),
        || p.context(),
    );

    let (before, s, text, after) = p.scrape_b();
    for (series, field) in [
        ("l2tpd_tunnels_created_total", "tunnels_created"),
        ("l2tpd_sessions_created_total", "sessions_created"),
        ("l2tpd_tunnel_setup_failures_total", "tunnel_setup_failures"),
        (
            "l2tpd_control_messages_received_total{type=\"SCCRQ\"}",
            "messages_received.SCCRQ",
        ),
        (
            "l2tpd_control_messages_sent_total{type=\"SCCRP\"}",
            "messages_sent.SCCRP",
        ),
        (
            "l2tpd_control_messages_received_total{type=\"ICRQ\"}",
            "messages_received.ICRQ",
        ),
        (
            "l2tpd_tunnels_refused_total{reason=\"max_tunnels\"}",
            "tunnels_refused.max_tunnels",
        ),
        ("l2tpd_control_retransmits_total", "retransmits"),
        ("l2tpd_socket_receive_packets_total", "rx_packets"),
        ("l2tpd_socket_receive_bytes_total", "rx_bytes"),
        ("l2tpd_socket_transmit_packets_total", "tx_packets"),
        ("l2tpd_control_acks_sent_total", "acks_sent"),
        (
            "l2tpd_discarded_messages_total{kind=\"header\"}",
            "malformed.header",
        ),
    ] {
        between(&before, &s, &after, series, field);
    }
    assert!(value(&s, "l2tpd_tunnels_refused_total{reason=\"max_tunnels\"}") >= 1);
    // Gauges: what show system counts.
    let counts = &after["counts"];
    assert_eq!(
        value(&s, "l2tpd_tunnels{state=\"up\",version=\"3\"}"),
        counts["tunnels_up"].as_u64().unwrap()
    );
    assert_eq!(value(&s, "l2tpd_tunnels{state=\"up\",version=\"3\"}"), 1);
    assert_eq!(value(&s, "l2tpd_sessions{state=\"up\",version=\"3\"}"), 1);
    assert_eq!(value(&s, "l2tpd_limit{limit=\"max_tunnels\"}"), 1);
    assert_eq!(
        value(&s, "l2tpd_info{version=\"0.1.0\",dataplane=\"userspace\"}"),
        1
    );
    // Set-up latency: the one tunnel and the one session that came up.
    assert_eq!(value(&s, "l2tpd_tunnel_setup_duration_seconds_count"), 1);
    assert_eq!(value(&s, "l2tpd_session_setup_duration_seconds_count"), 1);
    assert_eq!(
        value(
            &s,
            "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        1
    );
    assert!(value(&s, "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"60\"}") == 1);
    // Data: the pings B answered, as its session counts them.
    let sessions = p.lab.list(&p.b, "sessions");
    let (tid, sid) = (
        netns::num(&sessions[0], "tid").to_string(),
        netns::num(&sessions[0], "sid").to_string(),
    );
    let detail = p.lab.ctl(&p.b, &["show", "session", &tid, &sid]).unwrap();
    let rx = value(&s, "l2tpd_data_receive_packets_total");
    let shown = detail["stats"]["rx_packets"].as_u64().unwrap();
    assert!(rx >= 5 && rx <= shown, "data rx {rx}, show session {shown}");
    assert!(value(&s, "l2tpd_data_transmit_bytes_total") > 5 * 84);
    // Series per session on B (metrics_detail sessions)...
    let per = format!(
        "l2tpd_session_data_receive_packets_total{{tunnel_id=\"{tid}\",session_id=\"{sid}\"}}"
    );
    assert!(value(&s, &per) >= 5);
    assert!(
        text.contains(&format!(
            "l2tpd_session_info{{tunnel_id=\"{tid}\",session_id=\"{sid}\",name=\"\",interface=\"pwb0\",state=\"up\"}} 1"
        )),
        "{text}"
    );
    // ... and none on A, which did not ask for them.
    let (ct, a_text) = fetch(
        &p.lab,
        Side::A,
        &format!("http://{METRICS_A}/metrics"),
        "application/openmetrics-text; version=1.0.0",
    )
    .unwrap();
    assert_eq!(
        ct,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(a_text.ends_with("# EOF\n"), "{a_text}");
    assert!(!a_text.contains("tunnel_id"), "{a_text}");
    // A's refused tunnel went down by the peer's StopCCN.
    assert!(
        a_text.contains("l2tpd_tunnel_teardowns_total{cause=\"peer\"} "),
        "{a_text}"
    );
    assert!(
        !a_text.contains("l2tpd_tunnel_teardowns_total{cause=\"peer\"} 0\n"),
        "{a_text}"
    );

    // promtool lints the Prometheus text format.
    let file = p.lab.write("scrape-b.prom", &text);
    let out = netns::run_bounded(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("promtool check metrics < {}", file.display())),
        SHORT,
    );
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    prometheus_scrapes_b(p, &after);
}

/// A Prometheus server in B's namespace scrapes B every second; its query API gives B's
/// values.
fn prometheus_scrapes_b(mut p: Pair, system: &Value) {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n  - job_name: l2tpd\n    static_configs:\n      - targets: ['{METRICS_B}']\n"
    );
    let conf = p.lab.write("prometheus.yml", &config);
    let data = p.lab.path("prometheus-data");
    let server = p.lab.spawn(
        Side::B,
        "prometheus",
        &[
            "prometheus",
            &format!("--config.file={}", conf.display()),
            &format!("--storage.tsdb.path={}", data.display()),
            &format!("--web.listen-address={PROMETHEUS}"),
        ],
    );
    let query = |q: &str| -> Option<Vec<Value>> {
        let url = format!(
            "http://{PROMETHEUS}/api/v1/query?query={}",
            q.replace('{', "%7B")
                .replace('}', "%7D")
                .replace('"', "%22")
                .replace('=', "%3D")
                .replace(' ', "%20")
                .replace('+', "%2B")
                .replace('$', "%24")
                .replace('[', "%5B")
                .replace(']', "%5D")
                .replace('~', "%7E")
        );
        let (_, body) = fetch(&p.lab, Side::B, &url, "application/json").ok()?;
        let v: Value = serde_json::from_str(&body).ok()?;
        (v["status"] == "success").then(|| v["data"]["result"].as_array().cloned())?
    };
    let scalar = |r: &[Value]| -> Option<f64> { r.first()?["value"][1].as_str()?.parse().ok() };
    // Prometheus starts, scrapes, and finds the target up.
    poll(
        Duration::from_secs(90),
        "Prometheus has scraped l2tpd (up == 1)",
        || {
            query("up{job=\"l2tpd\"}")
                .and_then(|r| scalar(&r))
                .filter(|v| *v == 1.0)
        },
        || p.lab.logs_summary(),
    );
    // A scrape a second old at most: between show system before it and now.
    let lo = stat(system, "tunnels_created") as f64;
    let got = query("l2tpd_tunnels_created_total").and_then(|r| scalar(&r));
    let hi = stat(&p.system(&p.b), "tunnels_created") as f64;
    assert!(
        got.is_some_and(|v| lo <= v && v <= hi),
        "{got:?} not within {lo}..={hi}\n{}",
        p.lab.logs_summary()
    );
    let up = query("sum(l2tpd_sessions{state=\"up\"})").and_then(|r| scalar(&r));
    assert_eq!(up, Some(1.0));
    // The histogram is usable as one: a quantile of the set-up latency.
    let q = query("histogram_quantile(0.5, l2tpd_tunnel_setup_duration_seconds_bucket)")
        .and_then(|r| scalar(&r));
    assert!(q.is_some_and(|q| q > 0.0 && q <= 60.0), "{q:?}");
    // Every query of the dashboard in dist/ is one Prometheus evaluates, and those of figures
    // that exist here have a value.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dist/grafana-dashboard.json"
    ))
    .unwrap();
    let dashboard: Value = serde_json::from_str(&text).unwrap();
    let mut with_values = 0;
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    for expr in &exprs {
        let q = expr
            .replace("$instance", ".*")
            .replace("$__rate_interval", "1m");
        let r = query(&q).unwrap_or_else(|| panic!("Prometheus cannot evaluate {q}"));
        with_values += usize::from(!r.is_empty());
    }
    assert!(
        with_values * 2 > exprs.len(),
        "only {with_values} of the dashboard's {} queries have a value",
        exprs.len()
    );
    // Prometheus asked for OpenMetrics and got it.
    let log = p.lab.l2tpd_logs(&p.b);
    assert!(
        std::fs::read_to_string(&p.b.log)
            .unwrap_or_default()
            .contains("Metrics { format: OpenMetrics, head: false }"),
        "B's log shows no OpenMetrics scrape\n{log}"
    );
    p.lab.stop(server, nix::sys::signal::Signal::SIGTERM, SHORT);
}
