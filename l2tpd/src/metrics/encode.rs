//! A [`Snapshot`] as OpenMetrics text or Prometheus text (format 0.0.4), through
//! `prometheus-client`'s encoders: a [`Collector`] writes every family from the snapshot's
//! figures, so nothing is kept between scrapes and no metric is registered twice.
//!
//! Names follow the Prometheus conventions: the `l2tpd_` prefix, base units (seconds, bytes) in
//! the name, `_total` on counters (added by the encoder). Labels have bounded values (states,
//! versions, message types, reasons, causes, script names); tunnel and session ids appear only
//! in the series per tunnel and per session that `metrics_detail` asks for.

use std::fmt;
use std::sync::Arc;

use l2tp_config::MetricsDetail;
use l2tp_proto::wire::message::MessageType;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, MetricEncoder, NoLabelSet, prometheus_text, text,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::snapshot::{
    ByState, DATA_DISCARD_REASONS, Histogram, PPP_ADDRESS_REFUSALS, PPP_AUTH_FAILURES,
    PPP_DOWN_REASONS, PPP_PROXY, PPP_TUN_DISCARDS, RADIUS_VALUES_IGNORED, SCRIPT_RESULTS, STATES,
    Snapshot, Teardowns, VERSIONS,
};
use super::write::{
    counter, counter_unit, gauge, info_family, labelled, labelled_gauges, with_zeros,
};
use crate::dataplane::DataStats;

/// The `Content-Type` of OpenMetrics text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of Prometheus text.
pub const PROMETHEUS_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The exposition formats.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Format {
    /// OpenMetrics 1.0 text, for clients that ask for it (Prometheus does).
    OpenMetrics,
    /// Prometheus text format 0.0.4, for everyone else.
    Prometheus,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names it, else Prometheus
    /// text.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a)
                if a.to_ascii_lowercase()
                    .contains("application/openmetrics-text") =>
            {
                Format::OpenMetrics
            }
            _ => Format::Prometheus,
        }
    }

    /// The `Content-Type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Prometheus => PROMETHEUS_CONTENT_TYPE,
        }
    }
}

/// The snapshot in `format`.
pub fn encode(snapshot: Arc<Snapshot>, format: Format) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(snapshot)));
    let mut out = String::with_capacity(16 * 1024);
    // Writing to a String does not fail, and the collector reports no error of its own.
    let r = match format {
        Format::OpenMetrics => text::encode(&mut out, &registry),
        Format::Prometheus => prometheus_text::encode(&mut out, &registry),
    };
    if r.is_err() {
        tracing::warn!("metrics: encoding failed");
    }
    out
}

/// The metric families l2tpd exposes, as (name, type), the name as a Prometheus text scrape
/// spells it (counters with `_total`; a histogram's series add `_bucket`, `_sum` and `_count`).
/// Read from an encoding, so that it cannot differ from what a scrape gives.
pub fn families() -> Vec<(String, String)> {
    let mut s = Snapshot {
        detail: MetricsDetail::Sessions,
        data: Some(DataStats::default()),
        ..Snapshot::default()
    };
    s.engine.tunnel_rows.push(Default::default());
    s.radius.servers.push(Default::default());
    s.engine.session_rows.push(super::snapshot::SessionRow {
        data: Some(DataStats::default()),
        ..Default::default()
    });
    let text = encode(Arc::new(s), Format::Prometheus);
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect()
}

#[derive(Debug)]
struct Scrape(Arc<Snapshot>);

impl Collector for Scrape {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let s = &*self.0;
        process(&mut e, s)?;
        tunnels_and_sessions(&mut e, s)?;
        control(&mut e, s)?;
        discards(&mut e, s)?;
        if let Some(d) = &s.data {
            data(&mut e, d)?;
        }
        scripts(&mut e, s)?;
        ppp(&mut e, s)?;
        super::radius::radius(&mut e, &s.radius)?;
        if s.detail != MetricsDetail::None {
            per_tunnel(&mut e, s)?;
        }
        if s.detail == MetricsDetail::Sessions {
            per_session(&mut e, s)?;
        }
        Ok(())
    }
}

fn process(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    e.encode_descriptor(
        "l2tpd",
        "The running l2tpd: its version and data plane.",
        None,
        MetricType::Info,
    )?
    .encode_info(&[("version", s.version), ("dataplane", s.dataplane)])?;
    gauge(
        e,
        "l2tpd_uptime",
        "Time since l2tpd started.",
        Some(&Unit::Seconds),
        s.uptime.as_secs_f64(),
    )?;
    let sys = &s.system;
    counter(
        e,
        "l2tpd_control_requests",
        "Requests served on the control socket.",
        sys.control_requests,
    )?;
    let mut m = e.encode_descriptor(
        "l2tpd_config_reloads",
        "Config reloads (SIGHUP, l2tpctl reload), by result: a failed one keeps the running config.",
        None,
        MetricType::Counter,
    )?;
    labelled(
        &mut m,
        [
            ([("result", "success")], sys.reloads),
            ([("result", "failure")], sys.reload_failures),
        ],
    )?;
    let mut m = e.encode_descriptor(
        "l2tpd_limit",
        "Configured limits (max_tunnels, max_sessions); 0 means none.",
        None,
        MetricType::Gauge,
    )?;
    labelled_gauges(
        &mut m,
        [
            ([("limit", "max_tunnels")], u64::from(s.limits.0)),
            ([("limit", "max_sessions")], u64::from(s.limits.1)),
        ],
    )
}

fn by_state(m: &mut MetricEncoder, b: &ByState) -> fmt::Result {
    for (i, state) in STATES.iter().enumerate() {
        for v in VERSIONS {
            let version = v.to_string();
            let labels = [("state", *state), ("version", version.as_str())];
            m.encode_family(&labels)?.encode_gauge(&b.get(i, v))?;
        }
    }
    Ok(())
}

fn teardowns(m: &mut MetricEncoder, t: &Teardowns) -> fmt::Result {
    labelled(m, t.by_cause().map(|(cause, n)| ([("cause", cause)], n)))
}

fn histogram(m: &mut MetricEncoder, h: &Histogram) -> fmt::Result {
    m.encode_histogram::<NoLabelSet>(h.sum(), h.count(), &h.buckets(), None)
}

/// The refusal reasons of `show system` (engine/admission.rs labels and the set-up limits).
const TUNNEL_REFUSALS: [&str; 8] = [
    "shutting_down",
    "deny_remote_tunnel_creates",
    "drain_tunnels",
    "max_tunnels",
    "no_tunnel_profile",
    "peer_setup_rate",
    "max_setup_tunnels",
    "setup_evicted",
];
const SESSION_REFUSALS: [&str; 7] = [
    "unknown_tunnel",
    "shutting_down",
    "max_sessions",
    "tunnel_max_sessions",
    "no_session_profile",
    "lac_lns",
    "pseudowire_type",
];

fn tunnels_and_sessions(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let (sys, f) = (&s.system, &s.engine);
    let mut m = e.encode_descriptor(
        "l2tpd_tunnels",
        "Tunnels by state (connecting, up, closing) and L2TP version.",
        None,
        MetricType::Gauge,
    )?;
    by_state(&mut m, &f.tunnels)?;
    let mut m = e.encode_descriptor(
        "l2tpd_sessions",
        "Sessions by state (connecting, up, closing) and their tunnel's L2TP version.",
        None,
        MetricType::Gauge,
    )?;
    by_state(&mut m, &f.sessions)?;
    counter(
        e,
        "l2tpd_tunnels_created",
        "Tunnels created, by any origin (config, l2tpctl, peers).",
        sys.tunnels_created,
    )?;
    counter(
        e,
        "l2tpd_sessions_created",
        "Sessions created, by any origin.",
        sys.sessions_created,
    )?;
    counter(
        e,
        "l2tpd_tunnel_setup_failures",
        "Tunnels that went down before they were up, refused ones included.",
        sys.tunnel_setup_failures,
    )?;
    counter(
        e,
        "l2tpd_session_setup_failures",
        "Sessions that went down before they were up, or whose data path could not be set up.",
        sys.session_setup_failures,
    )?;
    let mut m = e.encode_descriptor(
        "l2tpd_tunnels_refused",
        "Tunnels asked for by peers and refused, by reason.",
        None,
        MetricType::Counter,
    )?;
    let refused = with_zeros(&sys.tunnels_refused, TUNNEL_REFUSALS);
    labelled(
        &mut m,
        refused.into_iter().map(|(r, n)| ([("reason", r)], n)),
    )?;
    let mut m = e.encode_descriptor(
        "l2tpd_sessions_refused",
        "Calls (sessions) asked for by peers and refused, by reason.",
        None,
        MetricType::Counter,
    )?;
    let refused = with_zeros(&sys.sessions_refused, SESSION_REFUSALS);
    labelled(
        &mut m,
        refused.into_iter().map(|(r, n)| ([("reason", r)], n)),
    )?;
    let mut m = e.encode_descriptor(
        "l2tpd_tunnel_teardowns",
        "Tunnels that went down, by cause (a StopCCN sent or received, retries exhausted, \
         set-up timeout, ...).",
        None,
        MetricType::Counter,
    )?;
    teardowns(&mut m, &f.tunnel_teardowns)?;
    let mut m = e.encode_descriptor(
        "l2tpd_session_teardowns",
        "Sessions that went down, by cause (a CDN sent or received, their tunnel down, ...).",
        None,
        MetricType::Counter,
    )?;
    teardowns(&mut m, &f.session_teardowns)?;
    let mut m = e.encode_descriptor(
        "l2tpd_tunnel_setup_duration",
        "Time from the first control message of a tunnel to its being up (tunnels with a \
         control connection).",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    histogram(&mut m, &f.tunnel_setup)?;
    let mut m = e.encode_descriptor(
        "l2tpd_session_setup_duration",
        "Time from the first control message of a session (ICRQ, OCRQ) to its being up.",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    histogram(&mut m, &f.session_setup)
}

fn control(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let sys = &s.system;
    for (name, help, by) in [
        (
            "l2tpd_control_messages_received",
            "Control messages received and accepted, by message type.",
            &sys.messages_received,
        ),
        (
            "l2tpd_control_messages_sent",
            "Control messages sent (first transmissions), by message type.",
            &sys.messages_sent,
        ),
    ] {
        let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
        let all = with_zeros(by, MessageType::ALL.iter().map(|t| t.name()));
        labelled(&mut m, all.into_iter().map(|(t, n)| ([("type", t)], n)))?;
    }
    counter(
        e,
        "l2tpd_control_retransmits",
        "Control messages sent again after a retransmission timeout.",
        sys.retransmits,
    )?;
    counter(
        e,
        "l2tpd_control_acks_sent",
        "Explicit acknowledgements (ZLB) sent.",
        sys.acks_sent,
    )?;
    counter(
        e,
        "l2tpd_control_acks_received",
        "Explicit acknowledgements (ZLB) received.",
        sys.acks_received,
    )?;
    counter(
        e,
        "l2tpd_auth_failures",
        "Tunnels whose peer failed authentication (challenge response or message digest).",
        sys.auth_failures,
    )?;
    counter(
        e,
        "l2tpd_socket_receive_packets",
        "Datagrams received on the L2TP sockets of the control plane.",
        sys.rx_packets,
    )?;
    counter_unit(
        e,
        "l2tpd_socket_receive",
        "Octets received on the L2TP sockets of the control plane.",
        Some(&Unit::Bytes),
        sys.rx_bytes,
    )?;
    counter(
        e,
        "l2tpd_socket_transmit_packets",
        "Datagrams sent on the L2TP sockets of the control plane.",
        sys.tx_packets,
    )?;
    counter_unit(
        e,
        "l2tpd_socket_transmit",
        "Octets sent on the L2TP sockets of the control plane.",
        Some(&Unit::Bytes),
        sys.tx_bytes,
    )?;
    counter(
        e,
        "l2tpd_socket_transmit_errors",
        "Datagrams of the control plane that no socket would send.",
        sys.tx_errors,
    )
}

/// The kinds of `show system`'s malformed counts (engine/views.rs, engine/mod.rs, core/answers.rs).
pub(super) const DISCARD_KINDS: [&str; 13] = [
    "header",
    "body",
    "unknown_tunnel",
    "unknown_session",
    "late_cdn",
    "data",
    "l2f",
    "outside_window",
    "invalid_nr",
    "wrong_state",
    "wrong_peer",
    "static_tunnel",
    "data_wrong_cookie",
];

fn discards(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let mut m = e.encode_descriptor(
        "l2tpd_discarded_messages",
        "Malformed or unusable datagrams discarded, by kind.",
        None,
        MetricType::Counter,
    )?;
    let all = with_zeros(&s.system.malformed, DISCARD_KINDS);
    labelled(&mut m, all.into_iter().map(|(k, n)| ([("kind", k)], n)))?;
    let mut m = e.encode_descriptor(
        "l2tpd_data_discards",
        "Data packets and frames the data plane dropped, by reason (besides wrong cookies and \
         the shared TUN's discards); on the kernel data plane, the kernel's session counters \
         read every 30 s.",
        None,
        MetricType::Counter,
    )?;
    let all = with_zeros(&s.system.data_discards, DATA_DISCARD_REASONS);
    labelled(&mut m, all.into_iter().map(|(k, n)| ([("reason", k)], n)))?;
    counter(
        e,
        "l2tpd_bridge_ports_lost",
        "Ethernet sessions' interfaces that stopped being ports of their bridge because it was \
         deleted.",
        s.system.bridge_ports_lost,
    )?;
    counter(
        e,
        "l2tpd_sessions_data_path_lost",
        "Sessions disconnected because their data plane failed under them (an interface \
         deleted by someone else, pppd exited).",
        s.system.data_path_lost,
    )
}

fn ppp(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let sys = &s.system;
    counter(
        e,
        "l2tpd_ppp_links_up",
        "Native-PPP links whose network came up (users online), once per session.",
        sys.ppp_up,
    )?;
    for (name, help, by, known) in [
        (
            "l2tpd_ppp_links_down",
            "Native-PPP links ended, by reason.",
            &sys.ppp_down,
            &PPP_DOWN_REASONS[..],
        ),
        (
            "l2tpd_ppp_auth_failures",
            "Native-PPP peers refused at authentication, by reason.",
            &sys.ppp_auth_failures,
            &PPP_AUTH_FAILURES[..],
        ),
        (
            "l2tpd_ppp_address_refusals",
            "Authenticated native-PPP peers refused for want of an address, by reason.",
            &sys.ppp_address_refusals,
            &PPP_ADDRESS_REFUSALS[..],
        ),
        (
            "l2tpd_radius_values_ignored",
            "Values of RADIUS Access-Accepts and CoA-Requests left out (or raised to l2tpd's \
             least), by kind.",
            &sys.radius_values_ignored,
            &RADIUS_VALUES_IGNORED[..],
        ),
        (
            "l2tpd_ppp_tun_discards",
            "Packets of the shared TUN of native PPP (userspace data plane) dropped, by reason.",
            &sys.ppp_tun_discards,
            &PPP_TUN_DISCARDS[..],
        ),
        (
            "l2tpd_ppp_proxy",
            "Proxy LCP and authentication AVPs of LACs' ICCNs (RFC 2661 4.4.5), by outcome.",
            &sys.ppp_proxy,
            &PPP_PROXY[..],
        ),
    ] {
        let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
        let all = with_zeros(by, known.iter().copied());
        labelled(&mut m, all.into_iter().map(|(k, n)| ([("reason", k)], n)))?;
    }
    counter(
        e,
        "l2tpd_ppp_frames_discarded",
        "PPP control frames for no native-PPP session, discarded.",
        sys.ppp_frames_discarded,
    )?;
    counter(
        e,
        "l2tpd_ppp_frames_malformed",
        "PPP control frames a native-PPP link found malformed, discarded.",
        sys.ppp_frames_malformed,
    )?;
    counter(
        e,
        "l2tpd_ppp_frames_stale",
        "PPP control frames a native-PPP link had no use for (duplicate or late answers), discarded.",
        sys.ppp_frames_stale,
    )?;
    counter(
        e,
        "l2tpd_ppp_renegotiations",
        "Renegotiations native-PPP peers started (LCP, IPCP or IPv6CP leaving Opened).",
        sys.ppp_renegotiations,
    )?;
    let pools = &s.engine.pools;
    let mut m = e.encode_descriptor(
        "l2tpd_ip_pool_addresses",
        "The addresses of each ip pool.",
        None,
        MetricType::Gauge,
    )?;
    labelled_gauges(
        &mut m,
        pools
            .iter()
            .map(|(p, size, _)| ([("pool", p.as_str())], *size)),
    )?;
    let mut m = e.encode_descriptor(
        "l2tpd_ip_pool_addresses_in_use",
        "The addresses of each ip pool held by sessions now.",
        None,
        MetricType::Gauge,
    )?;
    labelled_gauges(
        &mut m,
        pools
            .iter()
            .map(|(p, _, used)| ([("pool", p.as_str())], *used)),
    )
}

fn data(e: &mut DescriptorEncoder, d: &DataStats) -> fmt::Result {
    counter(
        e,
        "l2tpd_data_receive_packets",
        "Data packets received from peers and delivered, over every session.",
        d.rx_packets,
    )?;
    counter_unit(
        e,
        "l2tpd_data_receive",
        "Octets of the data packets received and delivered, over every session.",
        Some(&Unit::Bytes),
        d.rx_bytes,
    )?;
    counter(
        e,
        "l2tpd_data_receive_errors",
        "Data packets received and dropped (wrong cookie, sequencing, malformed).",
        d.rx_errors,
    )?;
    counter(
        e,
        "l2tpd_data_transmit_packets",
        "Data packets sent to peers, over every session.",
        d.tx_packets,
    )?;
    counter_unit(
        e,
        "l2tpd_data_transmit",
        "Octets of the data packets sent, over every session.",
        Some(&Unit::Bytes),
        d.tx_bytes,
    )?;
    counter(
        e,
        "l2tpd_data_transmit_errors",
        "Data packets that could not be sent.",
        d.tx_errors,
    )
}

fn scripts(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let mut m = e.encode_descriptor(
        "l2tpd_script_runs",
        "User scripts run, by script and result: success (exit status 0), failure (another \
         status or a signal), error (it could not be run), timeout (stopped after \
         script_timeout).",
        None,
        MetricType::Counter,
    )?;
    labelled(
        &mut m,
        s.scripts.runs.iter().map(|((script, result), n)| {
            let result = SCRIPT_RESULTS.get(*result).copied().unwrap_or("error");
            ([("script", *script), ("result", result)], *n)
        }),
    )?;
    gauge(
        e,
        "l2tpd_scripts_running",
        "User scripts running now.",
        None,
        s.scripts.running as f64,
    )
}

fn per_tunnel(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let rows = &s.engine.tunnel_rows;
    info_family(
        e,
        "l2tpd_tunnel",
        "One series per tunnel (metrics_detail), with its name, peer, version and state.",
        rows.iter().map(|r| {
            [
                ("tunnel_id", r.tid.to_string()),
                ("name", r.name.clone().unwrap_or_default()),
                ("peer", r.peer.clone()),
                ("version", r.version.to_string()),
                ("state", state_name(r.state).to_owned()),
            ]
        }),
    )?;
    for (name, help, kind, value) in [
        (
            "l2tpd_tunnel_sessions",
            "Sessions of each tunnel (metrics_detail).",
            MetricType::Gauge,
            (|r: &super::snapshot::TunnelRow| u64::from(r.sessions)) as fn(&_) -> u64,
        ),
        (
            "l2tpd_tunnel_control_messages_received",
            "Control messages received on each tunnel (metrics_detail).",
            MetricType::Counter,
            |r| r.control_rx,
        ),
        (
            "l2tpd_tunnel_control_messages_sent",
            "Control messages sent on each tunnel (metrics_detail).",
            MetricType::Counter,
            |r| r.control_tx,
        ),
        (
            "l2tpd_tunnel_control_retransmits",
            "Control messages sent again on each tunnel (metrics_detail).",
            MetricType::Counter,
            |r| r.retransmits,
        ),
    ] {
        let mut m = e.encode_descriptor(name, help, None, kind)?;
        let series = rows
            .iter()
            .map(|r| ([("tunnel_id", r.tid.to_string())], value(r)));
        if kind == MetricType::Gauge {
            labelled_gauges(&mut m, series)?;
        } else {
            labelled(&mut m, series)?;
        }
    }
    Ok(())
}

fn per_session(e: &mut DescriptorEncoder, s: &Snapshot) -> fmt::Result {
    let rows = &s.engine.session_rows;
    info_family(
        e,
        "l2tpd_session",
        "One series per session (metrics_detail sessions), with its name, interface and state.",
        rows.iter().map(|r| {
            let [tid, sid] = session_ids(r);
            [
                tid,
                sid,
                ("name", r.name.clone().unwrap_or_default()),
                ("interface", r.interface.clone().unwrap_or_default()),
                ("state", state_name(r.state).to_owned()),
            ]
        }),
    )?;
    for (name, help, unit, value) in [
        (
            "l2tpd_session_data_receive_packets",
            "Data packets received on each session (metrics_detail sessions).",
            None,
            (|d: &DataStats| d.rx_packets) as fn(&DataStats) -> u64,
        ),
        (
            "l2tpd_session_data_receive",
            "Octets of the data packets received on each session (metrics_detail sessions).",
            Some(Unit::Bytes),
            |d| d.rx_bytes,
        ),
        (
            "l2tpd_session_data_transmit_packets",
            "Data packets sent on each session (metrics_detail sessions).",
            None,
            |d| d.tx_packets,
        ),
        (
            "l2tpd_session_data_transmit",
            "Octets of the data packets sent on each session (metrics_detail sessions).",
            Some(Unit::Bytes),
            |d| d.tx_bytes,
        ),
    ] {
        let mut m = e.encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
        labelled(
            &mut m,
            rows.iter()
                .filter_map(|r| Some((session_ids(r), value(r.data.as_ref()?)))),
        )?;
    }
    Ok(())
}

/// The labels that name a session's series: its tunnel id and session id.
fn session_ids(r: &super::snapshot::SessionRow) -> [(&'static str, String); 2] {
    [
        ("tunnel_id", r.tid.to_string()),
        ("session_id", r.sid.to_string()),
    ]
}

/// The name of state `state`, an index of [`STATES`].
fn state_name(state: usize) -> &'static str {
    STATES.get(state).copied().unwrap_or("closing")
}
