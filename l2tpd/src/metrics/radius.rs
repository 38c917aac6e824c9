//! The RADIUS client's families: what became of the PPP sessions' Access- and
//! Accounting-Requests, the requests waiting, dynamic authorization (RFC 5176), and each
//! configured server's requests, timeouts, state and round-trip time. The `server` label takes
//! the `radius server` blocks' names: as many series as the config has servers.

use std::fmt;

use l2tp_ctl::{RadiusInfo, RadiusServerInfo};
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use super::write::{counter, labelled, labelled_gauges, with_zeros};

const ACCOUNTING_TYPES: [&str; 5] = ["start", "interim", "stop", "on", "off"];
const DYNAUTH_ANSWERS: [&str; 4] = ["disconnect_ack", "disconnect_nak", "coa_ack", "coa_nak"];
const DYNAUTH_DROPS: [&str; 5] = [
    "unknown_client",
    "malformed",
    "bad_authenticator",
    "stale",
    "duplicate",
];

pub(super) fn radius(e: &mut DescriptorEncoder, r: &RadiusInfo) -> fmt::Result {
    for (name, help, v) in [
        (
            "l2tpd_radius_access_requests",
            "Access-Requests asked for native-PPP peers.",
            r.access_requests,
        ),
        (
            "l2tpd_radius_access_accepts",
            "Access-Requests accepted.",
            r.accepts,
        ),
        (
            "l2tpd_radius_access_rejects",
            "Access-Requests rejected (or challenged, which l2tpd cannot answer).",
            r.rejects,
        ),
        (
            "l2tpd_radius_access_no_answer",
            "Access-Requests no server answered.",
            r.no_answer,
        ),
        (
            "l2tpd_radius_reauth_requests",
            "Of the Access-Requests, those of re-authentications (chap_interval).",
            r.reauth_requests,
        ),
        (
            "l2tpd_radius_reauth_accepts",
            "Of the re-authentications, accepted.",
            r.reauth_accepts,
        ),
        (
            "l2tpd_radius_reauth_rejects",
            "Of the re-authentications, rejected (or challenged).",
            r.reauth_rejects,
        ),
        (
            "l2tpd_radius_reauth_no_answer",
            "Of the re-authentications, answered by no server.",
            r.reauth_no_answer,
        ),
        (
            "l2tpd_radius_local_fallbacks",
            "Peers checked against the local users because no server answered.",
            r.local_fallbacks,
        ),
        (
            "l2tpd_radius_access_queue_full",
            "Access-Requests refused at once because too many waited.",
            r.access_queue_full,
        ),
        (
            "l2tpd_radius_accounting_responses",
            "Accounting-Responses received.",
            r.accounting_responses,
        ),
        (
            "l2tpd_radius_accounting_lost",
            "Accounting records dropped from the full queue (each logged) or too long to send.",
            r.accounting_lost,
        ),
        (
            "l2tpd_radius_unknown_source",
            "Datagrams on the RADIUS client's sockets from addresses that are no server.",
            r.unknown_source,
        ),
    ] {
        counter(e, name, help, v)?;
    }
    for (name, help, by, known, label) in [
        (
            "l2tpd_radius_accounting_requests",
            "Accounting-Requests sent, by Acct-Status-Type.",
            &r.accounting_requests,
            &ACCOUNTING_TYPES[..],
            "type",
        ),
        (
            "l2tpd_radius_dynauth_requests",
            "Disconnect- and CoA-Requests answered, by answer.",
            &r.dynauth,
            &DYNAUTH_ANSWERS[..],
            "answer",
        ),
        (
            "l2tpd_radius_dynauth_dropped",
            "Datagrams on the dynamic authorization sockets dropped, by reason.",
            &r.dynauth_dropped,
            &DYNAUTH_DROPS[..],
            "reason",
        ),
    ] {
        let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
        let all = with_zeros(by, known.iter().copied());
        labelled(&mut m, all.into_iter().map(|(k, n)| ([(label, k)], n)))?;
    }
    let mut m = e.encode_descriptor(
        "l2tpd_radius_queued_requests",
        "Requests waiting for a server (every one busy or dead), by service.",
        None,
        MetricType::Gauge,
    )?;
    labelled_gauges(
        &mut m,
        [
            ([("service", "authentication")], r.queued_access),
            ([("service", "accounting")], r.queued_accounting),
        ],
    )?;
    servers(e, &r.servers)
}

/// The labels of one server's series.
fn labels(s: &RadiusServerInfo) -> [(&'static str, &str); 2] {
    [("server", s.name.as_str()), ("service", s.service.as_str())]
}

fn servers(e: &mut DescriptorEncoder, servers: &[RadiusServerInfo]) -> fmt::Result {
    type Field = fn(&RadiusServerInfo) -> u64;
    let counters: [(&str, &str, Field); 10] = [
        (
            "l2tpd_radius_server_requests",
            "Requests sent to the server (first transmissions).",
            |s| s.requests,
        ),
        (
            "l2tpd_radius_server_retransmissions",
            "Requests sent to the server again.",
            |s| s.retransmissions,
        ),
        (
            "l2tpd_radius_server_timeouts",
            "Requests the server left unanswered through every retransmission.",
            |s| s.timeouts,
        ),
        (
            "l2tpd_radius_server_rejects",
            "Access-Rejects from the server.",
            |s| s.rejects,
        ),
        (
            "l2tpd_radius_server_malformed",
            "Answers from the server that did not decode or matched no request.",
            |s| s.malformed,
        ),
        (
            "l2tpd_radius_server_duplicates",
            "Answers from the server to a request already answered or given up (late answers).",
            |s| s.duplicates,
        ),
        (
            "l2tpd_radius_server_bad_authenticators",
            "Answers from the server with a wrong or missing authenticator.",
            |s| s.bad_authenticators,
        ),
        (
            "l2tpd_radius_server_status_server_probes",
            "Status-Server probes sent to the server while dead (RFC 5997).",
            |s| s.probes,
        ),
        (
            "l2tpd_radius_server_status_server_answered",
            "Status-Server probes the server answered.",
            |s| s.probes_answered,
        ),
        (
            "l2tpd_radius_server_status_server_timeouts",
            "Status-Server probes the server left unanswered.",
            |s| s.probes_timed_out,
        ),
    ];
    for (name, help, field) in counters {
        let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
        labelled(&mut m, servers.iter().map(|s| (labels(s), field(s))))?;
    }
    let gauges: [(&str, &str, Field); 2] = [
        (
            "l2tpd_radius_server_up",
            "1 while the server is taken as alive, 0 during its dead time.",
            |s| u64::from(s.state == "alive"),
        ),
        (
            "l2tpd_radius_server_outstanding_requests",
            "Requests in flight to the server.",
            |s| s.outstanding,
        ),
    ];
    for (name, help, field) in gauges {
        let mut m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
        labelled_gauges(&mut m, servers.iter().map(|s| (labels(s), field(s))))?;
    }
    let mut m = e.encode_descriptor(
        "l2tpd_radius_server_rtt",
        "The server's smoothed round-trip time.",
        Some(&Unit::Seconds),
        MetricType::Gauge,
    )?;
    for s in servers {
        // Microseconds in, seconds out; exact enough for any RTT a server has.
        #[allow(clippy::cast_precision_loss)]
        let rtt = s.smoothed_rtt_us as f64 / 1e6;
        m.encode_family(&labels(s))?.encode_gauge(&rtt)?;
    }
    Ok(())
}
