//! The RADIUS parts of the text output: `show radius`, and the RADIUS side of `show session`.

use std::fmt::Write as _;

use super::{esc, or_dash};

/// The RADIUS rows of a native-PPP session in `show session`.
pub(super) fn session(r: &l2tp_ctl::PppRadius) -> String {
    let secs = |s: Option<u32>| s.map_or("-".to_owned(), |s| format!("{s}s"));
    let class = if r.class.is_empty() {
        "-".to_owned()
    } else {
        esc(&r.class.join(" "))
    };
    let rows = [
        ("acct session id", esc(&r.acct_session_id)),
        ("authenticated by", or_dash(&r.authentic)),
        ("class", class),
        ("accounting", esc(&r.accounting)),
        (
            "interim interval",
            r.interim_interval_s
                .map_or("-".to_owned(), |s| format!("{s}s")),
        ),
        ("session timeout", secs(r.session_timeout_s)),
        ("idle timeout", secs(r.idle_timeout_s)),
        (
            "framed mtu",
            r.framed_mtu.map_or("-".into(), |m| m.to_string()),
        ),
    ];
    let mut out = String::from("  radius:\n");
    for (k, v) in rows {
        let _ = writeln!(out, "    {:<18}{v}", format!("{k}:"));
    }
    out
}

/// `show radius`: one line per server, then the requests and dynamic authorization.
pub(super) fn show(r: &l2tp_ctl::RadiusInfo) -> String {
    let mut out = String::new();
    if r.servers.is_empty() {
        out.push_str(&super::nothing("RADIUS server"));
    } else {
        let _ = writeln!(
            out,
            "{:<16} {:<14} {:<26} {:>3} {:<9} {:>5} {:>8} {:>7} {:>8} {:>8} {:>7} {:>9} {:>11}",
            "SERVER",
            "SERVICE",
            "ADDRESS",
            "PRI",
            "STATE",
            "OUT",
            "REQUESTS",
            "RETRIES",
            "TIMEOUTS",
            "ACCEPTS",
            "REJECTS",
            "RTT(ms)",
            "PROBES"
        );
        for s in &r.servers {
            let state = match s.dead_for_s {
                Some(d) => format!("dead({d}s)"),
                None => s.state.clone(),
            };
            let answers = if s.service == "accounting" {
                (s.accounting_responses.to_string(), "-".to_owned())
            } else {
                (s.accepts.to_string(), s.rejects.to_string())
            };
            // Status-Server probes: sent/answered/timed out.
            let probes = if s.probes == 0 {
                "-".to_owned()
            } else {
                format!("{}/{}/{}", s.probes, s.probes_answered, s.probes_timed_out)
            };
            let _ = writeln!(
                out,
                "{:<16} {:<14} {:<26} {:>3} {:<9} {:>5} {:>8} {:>7} {:>8} {:>8} {:>7} {:>9.1} {:>11}",
                esc(&s.name),
                s.service,
                esc(&s.address),
                s.priority,
                state,
                s.outstanding,
                s.requests,
                s.retransmissions,
                s.timeouts,
                answers.0,
                answers.1,
                s.smoothed_rtt_us as f64 / 1000.0,
                probes
            );
        }
    }
    let kv = |m: &std::collections::BTreeMap<String, u64>| {
        if m.is_empty() {
            "none".to_owned()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let _ = writeln!(
        out,
        "authentication: {} requests, {} accepted, {} rejected, {} unanswered ({} checked \
         locally), {} refused (queue full)",
        r.access_requests,
        r.accepts,
        r.rejects,
        r.no_answer,
        r.local_fallbacks,
        r.access_queue_full
    );
    let _ = writeln!(
        out,
        "of which re-authentication: {} requests, {} accepted, {} rejected, {} unanswered",
        r.reauth_requests, r.reauth_accepts, r.reauth_rejects, r.reauth_no_answer
    );
    let _ = writeln!(
        out,
        "accounting: {}; {} answered, {} lost",
        kv(&r.accounting_requests),
        r.accounting_responses,
        r.accounting_lost
    );
    let _ = writeln!(
        out,
        "queued: {} authentication, {} accounting; {} pending, {} socket(s)",
        r.queued_access, r.queued_accounting, r.pending, r.sockets
    );
    if !r.dynauth_listen.is_empty() {
        let _ = writeln!(
            out,
            "dynamic authorization on {}: {}; dropped: {}",
            r.dynauth_listen.join(" "),
            kv(&r.dynauth),
            kv(&r.dynauth_dropped)
        );
    }
    out
}
