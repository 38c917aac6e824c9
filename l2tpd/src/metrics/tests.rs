//! The encoding of snapshots in both formats, the request parser, and the endpoint against
//! clients that misbehave.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use l2tp_config::MetricsDetail;
use l2tp_proto::DownCause;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use super::encode::{self, Format};
use super::http::{self, MAX_CONNECTIONS, MAX_REQUEST, MAX_WAITING, Request};
use super::snapshot::{SessionRow, Snapshot, TunnelRow};
use crate::dataplane::DataStats;

fn sample() -> Snapshot {
    let mut s = Snapshot {
        dataplane: "userspace",
        uptime: Duration::from_secs(42),
        limits: (100, 0),
        data: Some(DataStats {
            rx_packets: 10,
            rx_bytes: 1000,
            tx_packets: 20,
            tx_bytes: 2000,
            ..DataStats::default()
        }),
        ..Snapshot::default()
    };
    let sys = &mut s.system;
    sys.tunnels_created = 7;
    sys.reloads = 2;
    sys.reload_failures = 1;
    sys.retransmits = 3;
    sys.messages_received.insert("SCCRQ".into(), 5);
    sys.tunnels_refused.insert("max_tunnels".into(), 4);
    sys.malformed.insert("header".into(), 6);
    sys.data_discards.insert("seq_errors".into(), 3);
    let f = &mut s.engine;
    f.tunnels.add(1, 3);
    f.tunnels.add(1, 3);
    f.tunnels.add(0, 2);
    f.sessions.add(1, 2);
    f.tunnel_setup.observe(Duration::from_millis(3));
    f.tunnel_setup.observe(Duration::from_millis(700));
    f.tunnel_teardowns.add(DownCause::Peer);
    f.tunnel_rows.push(TunnelRow {
        tid: 77,
        name: Some("t1".into()),
        peer: "192.0.2.2:1701".into(),
        version: 3,
        state: 1,
        sessions: 1,
        control_rx: 9,
        control_tx: 8,
        retransmits: 1,
    });
    f.session_rows.push(SessionRow {
        tid: 77,
        sid: 88,
        name: None,
        interface: Some("l2tpeth0".into()),
        state: 1,
        data: Some(DataStats {
            rx_bytes: 123,
            ..DataStats::default()
        }),
    });
    s.scripts.runs.insert(("tunnel-up", 0), 2);
    s.scripts.runs.insert(("tunnel-up", 1), 1);
    s
}

fn prometheus(s: Snapshot) -> String {
    encode::encode(Arc::new(s), Format::Prometheus)
}

fn has(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line `{line}` in:\n{text}"
    );
}

#[test]
fn prometheus_text_has_the_snapshots_values() {
    let t = prometheus(sample());
    has(
        &t,
        "l2tpd_info{version=\"0.1.0\",dataplane=\"userspace\"} 1",
    );
    has(&t, "l2tpd_uptime_seconds 42.0");
    has(&t, "l2tpd_tunnels{state=\"up\",version=\"3\"} 2");
    has(&t, "l2tpd_tunnels{state=\"connecting\",version=\"2\"} 1");
    has(&t, "l2tpd_tunnels{state=\"closing\",version=\"3\"} 0");
    has(&t, "l2tpd_sessions{state=\"up\",version=\"2\"} 1");
    has(&t, "# TYPE l2tpd_tunnels_created_total counter");
    has(&t, "l2tpd_tunnels_created_total 7");
    has(&t, "l2tpd_config_reloads_total{result=\"success\"} 2");
    has(&t, "l2tpd_config_reloads_total{result=\"failure\"} 1");
    has(&t, "l2tpd_control_retransmits_total 3");
    has(
        &t,
        "l2tpd_control_messages_received_total{type=\"SCCRQ\"} 5",
    );
    // Every message type, refusal reason and discard kind has its series from the start.
    has(&t, "l2tpd_control_messages_received_total{type=\"ICRQ\"} 0");
    has(&t, "l2tpd_control_messages_sent_total{type=\"StopCCN\"} 0");
    has(&t, "l2tpd_tunnels_refused_total{reason=\"max_tunnels\"} 4");
    has(
        &t,
        "l2tpd_tunnels_refused_total{reason=\"drain_tunnels\"} 0",
    );
    has(&t, "l2tpd_sessions_refused_total{reason=\"lac_lns\"} 0");
    has(&t, "l2tpd_discarded_messages_total{kind=\"header\"} 6");
    has(
        &t,
        "l2tpd_discarded_messages_total{kind=\"data_wrong_cookie\"} 0",
    );
    has(&t, "l2tpd_data_discards_total{reason=\"seq_errors\"} 3");
    has(&t, "l2tpd_data_discards_total{reason=\"rx_truncated\"} 0");
    has(&t, "l2tpd_tunnel_teardowns_total{cause=\"peer\"} 1");
    has(&t, "l2tpd_session_teardowns_total{cause=\"tunnel_down\"} 0");
    has(&t, "l2tpd_limit{limit=\"max_tunnels\"} 100");
    has(&t, "l2tpd_data_receive_bytes_total 1000");
    has(&t, "l2tpd_data_transmit_packets_total 20");
    has(
        &t,
        "l2tpd_script_runs_total{script=\"tunnel-up\",result=\"success\"} 2",
    );
    has(
        &t,
        "l2tpd_script_runs_total{script=\"tunnel-up\",result=\"failure\"} 1",
    );
    // The histogram's buckets are cumulative and end with +Inf.
    has(&t, "# TYPE l2tpd_tunnel_setup_duration_seconds histogram");
    has(
        &t,
        "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"0.001\"} 0",
    );
    has(
        &t,
        "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"0.005\"} 1",
    );
    has(
        &t,
        "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"0.5\"} 1",
    );
    has(&t, "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"1\"} 2");
    has(
        &t,
        "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"+Inf\"} 2",
    );
    has(&t, "l2tpd_tunnel_setup_duration_seconds_count 2");
    assert!(!t.contains("# EOF"), "Prometheus text has no EOF marker");
}

#[test]
fn without_detail_no_label_names_a_tunnel_or_session() {
    let t = prometheus(sample());
    assert!(!t.contains("tunnel_id"), "{t}");
    assert!(!t.contains("session_id"), "{t}");
    let mut s = sample();
    s.detail = MetricsDetail::Tunnels;
    let t = prometheus(s);
    has(
        &t,
        "l2tpd_tunnel_info{tunnel_id=\"77\",name=\"t1\",peer=\"192.0.2.2:1701\",version=\"3\",\
         state=\"up\"} 1",
    );
    has(
        &t,
        "l2tpd_tunnel_control_messages_received_total{tunnel_id=\"77\"} 9",
    );
    has(&t, "l2tpd_tunnel_sessions{tunnel_id=\"77\"} 1");
    assert!(!t.contains("session_id"), "{t}");
    let mut s = sample();
    s.detail = MetricsDetail::Sessions;
    let t = prometheus(s);
    has(
        &t,
        "l2tpd_session_info{tunnel_id=\"77\",session_id=\"88\",name=\"\",interface=\"l2tpeth0\",\
         state=\"up\"} 1",
    );
    has(
        &t,
        "l2tpd_session_data_receive_bytes_total{tunnel_id=\"77\",session_id=\"88\"} 123",
    );
}

#[test]
fn openmetrics_text_has_types_units_and_the_eof_marker() {
    let t = encode::encode(Arc::new(sample()), Format::OpenMetrics);
    assert!(t.ends_with("# EOF\n"), "{t}");
    has(&t, "# TYPE l2tpd_tunnels_created counter");
    has(&t, "l2tpd_tunnels_created_total 7");
    has(&t, "# TYPE l2tpd info");
    has(
        &t,
        "l2tpd_tunnel_setup_duration_seconds_bucket{le=\"1.0\"} 2",
    );
    has(&t, "# TYPE l2tpd_tunnel_setup_duration_seconds histogram");
    has(&t, "# UNIT l2tpd_tunnel_setup_duration_seconds seconds");
    has(&t, "# UNIT l2tpd_data_receive_bytes bytes");
    has(&t, "l2tpd_data_receive_bytes_total 1000");
}

#[test]
fn every_family_is_named_helped_and_typed_by_the_conventions() {
    let mut s = sample();
    s.detail = MetricsDetail::Sessions;
    let t = prometheus(s);
    let helped: BTreeSet<&str> = t
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let families = encode::families();
    assert!(families.len() > 30, "{families:?}");
    for (name, kind) in &families {
        assert!(name.starts_with("l2tpd_"), "{name}");
        assert!(helped.contains(name.as_str()), "{name} has no HELP");
        match kind.as_str() {
            "counter" => assert!(name.ends_with("_total"), "{name}"),
            "gauge" | "histogram" => assert!(!name.ends_with("_total"), "{name}"),
            other => panic!("{name}: type {other}"),
        }
        assert!(
            !name.contains("_bytes") || name.ends_with("_bytes_total"),
            "{name}: bytes are the unit, last before _total"
        );
    }
    // Every family the sample (with every detail) writes is one of them, and each once.
    let names: BTreeSet<&str> = families.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), families.len(), "a family is written twice");
    for needed in [
        "l2tpd_tunnels",
        "l2tpd_sessions",
        "l2tpd_tunnel_setup_duration_seconds",
        "l2tpd_session_setup_duration_seconds",
        "l2tpd_control_retransmits_total",
        "l2tpd_data_receive_bytes_total",
        "l2tpd_script_runs_total",
        "l2tpd_tunnel_info",
        "l2tpd_session_data_transmit_bytes_total",
    ] {
        assert!(names.contains(needed), "{needed} missing from {names:?}");
    }
}

#[test]
fn requests_are_parsed_strictly() {
    let om = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    assert_eq!(
        http::parse(format!("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: {om}").as_bytes()),
        Request::Metrics {
            format: Format::OpenMetrics,
            head: false
        }
    );
    assert_eq!(
        http::parse(b"GET /metrics?x=1 HTTP/1.0\r\naccept: text/plain"),
        Request::Metrics {
            format: Format::Prometheus,
            head: false
        }
    );
    assert_eq!(
        http::parse(b"HEAD /metrics HTTP/1.1"),
        Request::Metrics {
            format: Format::Prometheus,
            head: true
        }
    );
    assert_eq!(
        http::parse(b"POST /metrics HTTP/1.1"),
        Request::MethodNotAllowed
    );
    assert_eq!(http::parse(b"GET / HTTP/1.1"), Request::NotFound);
    assert_eq!(http::parse(b"GET /metrics/x HTTP/1.1"), Request::NotFound);
    // Another path is 404 whatever the method (l2tpd(8), METRICS).
    assert_eq!(http::parse(b"OPTIONS * HTTP/1.1"), Request::NotFound);
    assert_eq!(http::parse(b"POST /x HTTP/1.1"), Request::NotFound);
    for bad in [
        &b""[..],
        b"GET /metrics",
        b"GET  /metrics HTTP/1.1",
        b"GET /metrics SPDY/3",
        b"\xff\xfe /metrics HTTP/1.1",
        b"GET /metrics HTTP/1.1 extra",
    ] {
        assert_eq!(http::parse(bad), Request::Bad, "{bad:?}");
    }
}

#[test]
fn responses_close_the_connection_and_head_has_no_body() {
    let r = http::response("200 OK", "text/plain", "abc", false);
    assert_eq!(
        String::from_utf8_lossy(&r),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: \
         close\r\n\r\nabc"
    );
    let r = http::response("200 OK", "text/plain", "abc", true);
    assert!(
        String::from_utf8_lossy(&r).ends_with("Content-Length: 3\r\nConnection: close\r\n\r\n")
    );
}

/// An endpoint on a loopback port, its snapshots answered by a stand-in for the main loop.
async fn endpoint() -> (std::net::SocketAddr, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (stop_tx, stop) = watch::channel(false);
    let (tx, mut rx) = mpsc::channel::<http::Scrape>(4);
    tokio::spawn(http::serve(vec![listener], tx, stop));
    tokio::spawn(async move {
        while let Some(s) = rx.recv().await {
            let _ = s.reply.send(sample());
        }
    });
    (addr, stop_tx)
}

async fn ask(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut c = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    // The server may close before reading all of an oversized request.
    let _ = c.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), c.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_endpoint_answers_scrapes_and_refuses_the_rest() {
    let (addr, _stop) = endpoint().await;
    let r = ask(
        addr,
        b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains(&format!(
        "Content-Type: {}\r\n",
        encode::OPENMETRICS_CONTENT_TYPE
    )));
    assert!(
        r.contains("l2tpd_tunnels_created_total 7\n") && r.ends_with("# EOF\n"),
        "{r}"
    );
    let r = ask(addr, b"GET /metrics HTTP/1.0\r\n\r\n").await;
    assert!(r.contains("Content-Type: text/plain; version=0.0.4"), "{r}");
    let r = ask(addr, b"GET /debug HTTP/1.1\r\n\r\n").await;
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    let r = ask(addr, b"DELETE /metrics HTTP/1.1\r\n\r\n").await;
    assert!(
        r.starts_with("HTTP/1.1 405 ") && r.contains("Allow: GET, HEAD"),
        "{r}"
    );
    let r = ask(
        addr,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    // A head that never ends is cut off at MAX_REQUEST.
    let long = vec![b'a'; MAX_REQUEST * 2];
    assert!(ask(addr, &long).await.starts_with("HTTP/1.1 400 "));
    // So is one that ends a little past it.
    let mut long = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    long.resize(MAX_REQUEST + 100, b'a');
    long.extend_from_slice(b"\r\n\r\n");
    let r = ask(addr, &long).await;
    assert!(
        r.starts_with("HTTP/1.1 400 "),
        "{}",
        r.lines().next().unwrap_or("")
    );
}

/// Lines that end in a bare LF, as `printf 'GET /metrics HTTP/1.0\n\n' | nc` sends them, are
/// lines too (RFC 9112 section 2.2): answered at once, not after the 10 s for a request.
#[tokio::test]
async fn a_request_with_bare_line_feeds_is_answered() {
    let (addr, _stop) = endpoint().await;
    let start = std::time::Instant::now();
    let r = ask(
        addr,
        b"GET /metrics HTTP/1.0\nAccept: application/openmetrics-text\n\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.ends_with("# EOF\n"), "the Accept header was not read");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        http::parse(b"HEAD /metrics HTTP/1.1\r\nHost: x\nAccept: text/plain"),
        Request::Metrics {
            format: Format::Prometheus,
            head: true
        }
    );
}

#[tokio::test]
async fn idle_clients_cannot_keep_a_scraper_out() {
    let (addr, _stop) = endpoint().await;
    // More idle clients than may wait, and more than are answered at once.
    let mut idle = Vec::new();
    for _ in 0..MAX_WAITING + MAX_CONNECTIONS {
        let c = tokio::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        idle.push(c);
    }
    // Let the server take them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A scrape is answered at once, not after the idle clients' timeout.
    let scrape = tokio::time::timeout(
        Duration::from_secs(2),
        ask(addr, b"GET /metrics HTTP/1.1\r\n\r\n"),
    )
    .await
    .unwrap_or_else(|_| panic!("the scrape waited behind idle clients"));
    assert!(scrape.starts_with("HTTP/1.1 200 OK"), "{scrape}");
    // The clients that waited longest were closed to make room; the newest still wait.
    let mut closed = 0;
    for c in &mut idle {
        let mut buf = [0u8; 16];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(20), c.read(&mut buf)).await {
            closed += 1;
        }
    }
    assert!(
        (MAX_CONNECTIONS..=MAX_CONNECTIONS + 1).contains(&closed),
        "{closed} of {} idle clients closed",
        idle.len()
    );
    // A waiting client that sends its request now is still answered.
    let last = idle.last_mut().unwrap_or_else(|| panic!("no client"));
    last.write_all(b"GET /metrics HTTP/1.1\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(2), last.read_to_string(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("no answer"))
        .unwrap_or_else(|e| panic!("read: {e}"));
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

#[test]
fn native_ppp_counters_and_pools_are_exposed() {
    let mut s = sample();
    s.system.ppp_up = 12;
    s.system.ppp_down.insert("echo_timeout".into(), 2);
    s.system
        .ppp_auth_failures
        .insert("wrong_credentials".into(), 3);
    s.system
        .ppp_address_refusals
        .insert("pool_exhausted".into(), 1);
    s.system
        .radius_values_ignored
        .insert("route_taken".into(), 2);
    s.engine.pools = vec![("customers".into(), 254, 11)];
    let text = prometheus(s);
    has(&text, "l2tpd_ppp_links_up_total 12");
    has(
        &text,
        "l2tpd_ppp_links_down_total{reason=\"echo_timeout\"} 2",
    );
    has(
        &text,
        "l2tpd_ppp_links_down_total{reason=\"auth_failed\"} 0",
    );
    has(
        &text,
        "l2tpd_ppp_auth_failures_total{reason=\"wrong_credentials\"} 3",
    );
    // Every reason l2tpd(8) names is there before the first, RADIUS's too: an alert on
    // radius_reject must not wait for a series to appear.
    for reason in [
        "unknown_user",
        "radius_reject",
        "radius_challenge",
        "radius_no_answer",
        "radius_unusable",
    ] {
        has(
            &text,
            &format!("l2tpd_ppp_auth_failures_total{{reason=\"{reason}\"}} 0"),
        );
    }
    has(
        &text,
        "l2tpd_ppp_address_refusals_total{reason=\"pool_exhausted\"} 1",
    );
    has(
        &text,
        "l2tpd_ppp_address_refusals_total{reason=\"address_unusable\"} 0",
    );
    has(
        &text,
        "l2tpd_radius_values_ignored_total{reason=\"route_taken\"} 2",
    );
    has(&text, "l2tpd_radius_values_ignored_total{reason=\"mtu\"} 0");
    has(&text, "l2tpd_ip_pool_addresses{pool=\"customers\"} 254");
    has(
        &text,
        "l2tpd_ip_pool_addresses_in_use{pool=\"customers\"} 11",
    );
}

#[test]
fn radius_figures_and_servers_are_exposed() {
    let mut s = sample();
    let r = &mut s.radius;
    r.access_requests = 9;
    r.accepts = 7;
    r.no_answer = 1;
    r.reauth_requests = 3;
    r.reauth_no_answer = 1;
    r.queued_accounting = 4;
    r.accounting_requests.insert("start".into(), 6);
    r.dynauth.insert("disconnect_ack".into(), 2);
    r.servers.push(l2tp_ctl::RadiusServerInfo {
        name: "radius-1".into(),
        service: "authentication".into(),
        state: "dead".into(),
        requests: 5,
        timeouts: 3,
        smoothed_rtt_us: 1500,
        probes: 4,
        probes_answered: 1,
        probes_timed_out: 2,
        duplicates: 6,
        ..Default::default()
    });
    let text = prometheus(s);
    has(&text, "l2tpd_radius_access_requests_total 9");
    has(&text, "l2tpd_radius_access_accepts_total 7");
    has(&text, "l2tpd_radius_access_no_answer_total 1");
    has(&text, "l2tpd_radius_reauth_requests_total 3");
    has(&text, "l2tpd_radius_reauth_accepts_total 0");
    has(&text, "l2tpd_radius_reauth_no_answer_total 1");
    has(
        &text,
        "l2tpd_radius_accounting_requests_total{type=\"start\"} 6",
    );
    has(
        &text,
        "l2tpd_radius_accounting_requests_total{type=\"stop\"} 0",
    );
    has(
        &text,
        "l2tpd_radius_dynauth_requests_total{answer=\"disconnect_ack\"} 2",
    );
    has(
        &text,
        "l2tpd_radius_queued_requests{service=\"accounting\"} 4",
    );
    let server = "server=\"radius-1\",service=\"authentication\"";
    has(
        &text,
        &format!("l2tpd_radius_server_requests_total{{{server}}} 5"),
    );
    has(
        &text,
        &format!("l2tpd_radius_server_timeouts_total{{{server}}} 3"),
    );
    has(&text, &format!("l2tpd_radius_server_up{{{server}}} 0"));
    has(
        &text,
        &format!("l2tpd_radius_server_duplicates_total{{{server}}} 6"),
    );
    for (name, n) in [("probes", 4), ("answered", 1), ("timeouts", 2)] {
        has(
            &text,
            &format!("l2tpd_radius_server_status_server_{name}_total{{{server}}} {n}"),
        );
    }
    has(
        &text,
        &format!("l2tpd_radius_server_rtt_seconds{{{server}}} 0.0015"),
    );
}

/// Every kind of `show system`'s counters by reason, which it and the metrics give at 0
/// before the first, is named in l2tpctl(1) or l2tpd(8), where operators and their scripts
/// look them up.
#[test]
fn every_kind_given_at_zero_is_in_the_manuals() {
    use super::snapshot::{
        DATA_DISCARD_REASONS, PPP_ADDRESS_REFUSALS, PPP_AUTH_FAILURES, PPP_DOWN_REASONS, PPP_PROXY,
        PPP_TUN_DISCARDS, RADIUS_VALUES_IGNORED,
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../man/");
    let pages: String = ["l2tpctl.1", "l2tpd.8"]
        .iter()
        .map(|p| {
            std::fs::read_to_string(format!("{root}{p}")).unwrap_or_else(|e| panic!("{p}: {e}"))
        })
        .collect();
    // Named as a word of its own in bold: `.B kind` or `.BR kind ,`.
    let named: BTreeSet<&str> = pages
        .lines()
        .filter_map(|l| l.strip_prefix(".B ").or_else(|| l.strip_prefix(".BR ")))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let lists: [&[&str]; 8] = [
        &encode::DISCARD_KINDS,
        &DATA_DISCARD_REASONS,
        &PPP_DOWN_REASONS,
        &PPP_AUTH_FAILURES,
        &PPP_ADDRESS_REFUSALS,
        &PPP_TUN_DISCARDS,
        &PPP_PROXY,
        &RADIUS_VALUES_IGNORED,
    ];
    let missing: Vec<&str> = lists
        .iter()
        .flat_map(|l| l.iter().copied())
        .filter(|k| !named.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "not in l2tpctl(1) nor l2tpd(8): {missing:?}"
    );
}
