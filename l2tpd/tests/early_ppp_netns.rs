//! A client's first LCP Configure-Request, sent right behind its ICCN (Windows' and Apple's
//! clients do), is not lost on the userspace data plane: the data thread reads it before the
//! session is installed, hands it to the control plane behind the ICCN, and gets it back once
//! the ICCN has installed the session.
//!
//! `l2tp-loadgen --ppp --ppp-eager` against l2tpd in a network namespace, many tunnels of one
//! session each (as such clients make them): every session comes up, none had to send its
//! Configure-Request again (the restart timer is three seconds), every set-up took well under
//! a second, and l2tpd dropped no data packet for an unknown session.
//!
//! Needs root (network namespaces); without it the test is skipped, or fails under
//! `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lns_lab;

use l2tp_testkit::lab::NsLab;
use lns_lab::{lab_with_lns, loadgen, skip, system};

const USER: &str = "alice";
const PASSWORD: &str = "alice-pw-7730";
/// Tunnels, one session each.
const SESSIONS: u32 = 50;

/// `l2tp-loadgen --ppp --ppp-eager` of L2TP `version` in the lab, from `local`; its report.
fn eager_loadgen(lab: &NsLab, version: &str, local: &str) -> serde_json::Value {
    let tunnels = SESSIONS.to_string();
    loadgen(
        lab,
        &format!(
            "--local {local} --version {version} --tunnels {tunnels} --sessions 1 --ppp \
             --ppp-eager --auth pap --user {USER} --password {PASSWORD} --timeout 30"
        ),
    )
}

#[test]
fn a_configure_request_right_behind_the_iccn_is_not_lost() {
    if skip() {
        return;
    }
    // A source address per run, so that each run's tunnels come from a peer of their own.
    let clients = ["192.0.2.12", "192.0.2.13"];
    let (lab, log, socket) = lab_with_lns("erly", "early", &clients, (USER, PASSWORD));
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    for (version, local) in [("2", "192.0.2.12"), ("3", "192.0.2.13")] {
        let r = eager_loadgen(&lab, version, local);
        let p = &r["ppp"];
        let sys = system(&socket);
        let what = format!("L2TPv{version}: {r}\n{sys}");
        assert_eq!(p["sessions_up"], SESSIONS, "{what}\n{}", context());
        assert_eq!(p["lcp_configure_requests_resent"], 0, "{what}");
        let slowest = p["setup_ms"]["max"].as_f64().unwrap();
        assert!(slowest < 1000.0, "{what}");
        let unknown = &sys["data_discards"]["rx_unknown_session"];
        assert!(unknown.as_u64().unwrap_or(0) == 0, "{what}");
    }
}
