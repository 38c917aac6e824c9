//! The metrics' documentation and dashboard against the code: `l2tpd(8)` METRICS lists every
//! family l2tpd exposes, with its type, and nothing else; every metric the Grafana dashboard in
//! `dist/` queries is one l2tpd exposes; the Debian package ships the dashboard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use l2tp_docs_check::{entries, read, section, sections, tag_word};
use serde_json::Value;

/// The families as a scrape in the Prometheus text format names them, with their types.
fn exposed() -> BTreeMap<String, String> {
    l2tpd::metrics::families().into_iter().collect()
}

/// Every series name a query may use: the families, and a histogram's `_bucket`, `_sum` and
/// `_count`.
fn series_names() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (name, kind) in exposed() {
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                out.insert(format!("{name}{suffix}"));
            }
        } else {
            out.insert(name);
        }
    }
    out
}

#[test]
fn the_man_page_lists_every_metric_with_its_type() {
    let page = read("man/l2tpd.8");
    let all = sections(&page);
    let documented: BTreeMap<String, String> = entries(section(&all, "METRICS"))
        .iter()
        .map(|e| {
            let name = tag_word(&e.tag).to_owned();
            let kind = e
                .tag
                .split_once('(')
                .and_then(|(_, rest)| rest.split([';', ')']).next())
                .unwrap_or_default()
                .trim()
                .to_owned();
            (name, kind)
        })
        .collect();
    assert_eq!(
        documented,
        exposed(),
        "man/l2tpd.8 METRICS (left) and the families l2tpd exposes (right) differ"
    );
}

/// The PromQL expressions of the dashboard: each panel target's and each query variable's.
fn dashboard_queries() -> Vec<String> {
    let text = read("dist/grafana-dashboard.json");
    let v: Value = serde_json::from_str(&text).expect("dist/grafana-dashboard.json is JSON");
    let mut out = Vec::new();
    for panel in v["panels"].as_array().expect("panels") {
        for t in panel["targets"].as_array().into_iter().flatten() {
            out.push(t["expr"].as_str().expect("a target has an expr").to_owned());
        }
    }
    for var in v["templating"]["list"].as_array().expect("templating") {
        if var["type"] == "query" {
            out.push(var["query"]["query"].as_str().expect("a query").to_owned());
        }
    }
    out
}

/// The `l2tpd_...` identifiers of a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("l2tpd_") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn the_dashboard_queries_only_metrics_that_exist() {
    let names = series_names();
    let queries = dashboard_queries();
    assert!(queries.len() > 20, "{queries:?}");
    let mut used = BTreeSet::new();
    for q in &queries {
        let found = metric_names(q);
        assert!(!found.is_empty(), "a query of no l2tpd metric: {q}");
        for n in found {
            assert!(
                names.contains(&n),
                "the dashboard queries `{n}`, which l2tpd does not expose: {q}"
            );
            used.insert(n);
        }
    }
    // The dashboard shows the figures the operator asked for.
    for needed in [
        "l2tpd_tunnels",
        "l2tpd_sessions",
        "l2tpd_tunnel_setup_duration_seconds_bucket",
        "l2tpd_tunnels_refused_total",
        "l2tpd_tunnel_teardowns_total",
        "l2tpd_control_messages_received_total",
        "l2tpd_control_retransmits_total",
        "l2tpd_discarded_messages_total",
        "l2tpd_data_receive_bytes_total",
        "l2tpd_script_runs_total",
    ] {
        assert!(
            used.contains(needed),
            "the dashboard does not show {needed}"
        );
    }
}

#[test]
fn metric_names_are_read_whole() {
    assert_eq!(
        metric_names("sum(rate(l2tpd_a_total{x=\"y\"}[1m])) / xl2tpd_b + l2tpd_c"),
        ["l2tpd_a_total", "l2tpd_c"]
    );
}

#[test]
fn the_debian_package_ships_the_dashboard() {
    let manifest = read("l2tpd/Cargo.toml");
    assert!(
        manifest
            .contains("[\"../dist/grafana-dashboard.json\", \"usr/share/doc/l2tpd/\", \"644\"]"),
        "l2tpd/Cargo.toml's deb assets lack the dashboard"
    );
    assert!(read("man/l2tpd.8").contains("/usr/share/doc/l2tpd/grafana\\-dashboard.json"));
}
