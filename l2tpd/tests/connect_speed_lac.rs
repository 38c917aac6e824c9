//! RFC 5515 connect speed updates between two real `l2tpd` processes on 127.0.0.1 (data plane
//! `none`): a LAC session block with `connect_speed_updates true`; a reload that changes its
//! speeds reaches the LNS's `show session` in a CSUN without the call being placed again; the
//! LNS's `l2tpctl request speeds` is answered. Checked through `l2tpctl --json` (or, when
//! `l2tpctl` has not been built beside `l2tpd`, the same requests on the control socket).
//!
//! Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Env, ctl, l2tpd, wait_for};
use nix::sys::signal::Signal;
use serde_json::Value;

/// The longest a call or an update takes on loopback (generous: the machine may be loaded).
const UP: Duration = Duration::from_secs(20);

/// The only session of `env` once it is up.
fn the_session(env: &Env) -> Value {
    wait_for(UP, "the session up", env, || {
        let list = ctl(env, &["show", "sessions"]);
        let list = list.as_array()?;
        (list.len() == 1 && list[0]["state"] == "up").then(|| list[0].clone())
    })
}

/// `show session` of `s` (a row of `show sessions`) on `env`.
fn detail(env: &Env, s: &Value) -> Value {
    let (tid, sid) = (s["tid"].to_string(), s["sid"].to_string());
    ctl(env, &["show", "session", &tid, &sid])
}

fn speeds(d: &Value) -> (Value, Value) {
    (
        d["call"]["tx_connect_speed"].clone(),
        d["call"]["rx_connect_speed"].clone(),
    )
}

fn sessions_created(env: &Env) -> Value {
    ctl(env, &["show", "system"])["statistics"]["sessions_created"].clone()
}

fn lac_config(lns: &Env, speeds: &str) -> String {
    format!(
        "tunnel \"t\" {{\n    peer 127.0.0.1:{}\n    version 2\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n{speeds}    connect_speed_updates true\n}}\n",
        lns.port
    )
}

#[test]
fn a_reloaded_speed_reaches_the_lns_in_a_csun_and_a_csurq_is_answered() {
    let mut lns = Env::new(l2tpd(), "csun-lns");
    lns.write_config("    dataplane none\n", "");
    lns.start(&["-d"]);
    let mut lac = Env::new(l2tpd(), "csun-lac");
    let first = "    tx_connect_speed 80000000\n    rx_connect_speed 20000000\n";
    lac.write_config("    dataplane none\n", &lac_config(&lns, first));
    lac.start(&["-d"]);

    let lac_row = the_session(&lac);
    let lns_row = the_session(&lns);
    let on_lns = detail(&lns, &lns_row);
    assert_eq!(on_lns["call"]["connect_speed_updates"], true, "{on_lns}");
    assert_eq!(speeds(&on_lns), (80_000_000.into(), 20_000_000.into()));
    assert_eq!(
        detail(&lac, &lac_row)["call"]["connect_speed_updates"],
        true
    );
    assert_eq!(sessions_created(&lns), 1);

    // New speeds in the LAC's file; SIGHUP.
    let second = "    tx_connect_speed 30000000\n    rx_connect_speed 7000000\n";
    lac.write_config("    dataplane none\n", &lac_config(&lns, second));
    lac.signal(Signal::SIGHUP);
    lac.wait_log("config reloaded");
    let log = lac.wait_log("CSUN sent with the connect speeds of 1 session(s)");
    assert!(!log.contains("disconnecting it"), "{log}");
    let on_lns = wait_for(UP, "the new speeds on the LNS", &lns, || {
        let d = detail(&lns, &lns_row);
        (speeds(&d) == (30_000_000.into(), 7_000_000.into())).then_some(d)
    });
    lns.wait_log("connect speed updated by the LAC's CSUN: 80000000/20000000 bit/s -> 30000000/7000000 bit/s");
    // The same call: same ids at both ends, no session made since.
    assert_eq!(on_lns["sid"], lns_row["sid"]);
    assert_eq!(on_lns["peer_sid"], lac_row["sid"]);
    assert_eq!(the_session(&lac)["sid"], lac_row["sid"]);
    assert_eq!(sessions_created(&lns), 1);
    assert_eq!(sessions_created(&lac), 1);
    assert_eq!(
        speeds(&detail(&lac, &lac_row)),
        (30_000_000.into(), 7_000_000.into())
    );

    // The LNS asks; the LAC's CSUN answers (a second update line on the LNS).
    ctl(&lns, &["request", "speeds", &lns_row["tid"].to_string()]);
    wait_for(UP, "the CSUN answering the CSURQ", &lns, || {
        let log = lns.wait_log("CSURQ sent");
        (log.matches("connect speed updated by the LAC's CSUN")
            .count()
            == 2)
            .then_some(())
    });
}
