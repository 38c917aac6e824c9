//! RFC 5515 connect speed updates against a live daemon, end to end (the CSUN and CSURQ cases
//! of hostile or unusable input are among the cases of `bad_input`).

use std::time::Duration;

use l2tp_ctl::{Request, Response, State};

use super::common::{self, Env};
use super::raw::{self, RawPeer, avp, msg_type, mt};
use super::{count, speed_update, stats, tunnel_state, wait_until};

/// RFC 5515 end to end: a LAC's ICRQ with Connect Speed Update Enable (M bit set, as §6 lets a
/// LAC require support), then a CSUN (M bits set) with an update for that session and one for
/// a session the tunnel does not have. The daemon applies the first (`show session` shows the
/// new speeds, an info line names both), ignores the second (counted), keeps the tunnel, and
/// tshark decodes what the LAC sent without complaint.
pub(crate) fn csun_updates_an_enabled_session(env: &Env, daemon: std::net::SocketAddr) {
    let lac = RawPeer::new(daemon);
    let tid = lac.establish(600);
    let m = lac.mark();
    let icrq = lac.send_kept(tid, 0, &[raw::icrq_body(601), avp(true, 98, &[])].concat());
    let icrp = lac
        .wait_type(m, mt::ICRP, Duration::from_secs(5))
        .expect("ICRP: the call is accepted despite the M bit of Connect Speed Update Enable");
    let v = icrp.avp(14).expect("Assigned Session ID in the ICRP");
    let sid = u16::from_be_bytes([v[0], v[1]]);
    lac.send(tid, sid, &raw::iccn_body());
    wait_until("the LAC's session is up", || {
        tunnel_state(env, tid) == (Some(State::Up), vec![State::Up])
    });
    let call = |env: &Env| match env.request(&Request::ShowSession {
        tunnel: l2tp_ctl::Selector::Id(u32::from(tid)),
        session: l2tp_ctl::Selector::Id(u32::from(sid)),
    }) {
        Ok(Response::Session(d)) => *d.call,
        other => panic!("show session: {other:?}"),
    };
    let before = call(env);
    assert!(before.connect_speed_updates, "show session: {before:?}");
    assert_eq!(before.tx_connect_speed.map(|s| s.get()), Some(10_000_000));

    let stats_before = stats(env);
    let m = lac.mark();
    let csun = lac.send_kept(
        tid,
        0,
        &[
            msg_type(28),
            avp(true, 97, &speed_update(sid, 20_000_000, 5_000_000)),
            avp(false, 97, &speed_update(sid ^ 0x5a5a, 1, 1)),
        ]
        .concat(),
    );
    lac.wait_for(m, Duration::from_secs(5), |r| r.msg_type.is_none())
        .expect("the CSUN is acknowledged");
    let line = env.wait_log("connect speed updated by the LAC's CSUN");
    let line = line
        .lines()
        .find(|l| l.contains("connect speed updated"))
        .unwrap_or_default();
    assert!(
        line.contains(&format!("tunnel {tid} session {sid}"))
            && line.contains("10000000 bit/s -> 20000000/5000000 bit/s"),
        "{line}"
    );
    let after = call(env);
    assert_eq!(
        (
            after.tx_connect_speed.map(|s| s.get()),
            after.rx_connect_speed.map(|s| s.get())
        ),
        (Some(20_000_000), Some(5_000_000)),
        "show session after the CSUN"
    );
    let stats_after = stats(env);
    assert_eq!(
        count(&stats_after.malformed, "speed_update_ignored"),
        count(&stats_before.malformed, "speed_update_ignored") + 1,
        "the update for a session the tunnel does not have is counted"
    );
    assert_eq!(
        count(&stats_after.messages_received, "CSUN"),
        count(&stats_before.messages_received, "CSUN") + 1
    );
    assert_eq!(tunnel_state(env, tid), (Some(State::Up), vec![State::Up]));

    // tshark judges the LAC's side too: the ICRQ with the Enable AVP and the CSUN.
    let to = lac.daemon_addr();
    let sent: Vec<l2tp_testkit::pcap::Datagram> = [icrq, csun]
        .into_iter()
        .map(|b| l2tp_testkit::pcap::Datagram::new(lac.addr(), to, b))
        .collect();
    common::judge_capture("bad_input_csun", env.port, &sent);
}
