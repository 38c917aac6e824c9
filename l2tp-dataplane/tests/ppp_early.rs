//! Data packets for a session the data path does not have yet (a peer's first LCP
//! Configure-Request right behind its ICCN): a data-path thread hands them to the control sink
//! as `SinkEvent::EarlyData`, after the control messages read before them, within a budget;
//! given back with `handle_data`, one goes to its session if it now exists, and is counted
//! `rx_unknown_session` and dropped (never handed over again) if not.
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use l2tp_dataplane::{Encapsulation, PppSessionSpec, SinkEvent};

/// An L2TPv2 data message to tunnel 7, session `sid`: an LCP Configure-Request (`FF 03`
/// first) of identifier `id`.
fn configure_request(sid: u16, id: u8) -> Vec<u8> {
    let mut p = vec![0x00, 0x02, 0x00, 0x07];
    p.extend_from_slice(&sid.to_be_bytes());
    p.extend_from_slice(&[0xff, 0x03, 0xc0, 0x21, 1, id, 0x00, 0x04]);
    p
}

/// An L2TPv2 ZLB acknowledgement to tunnel 7 (RFC 2661 §5.8): a control message.
const ZLB: [u8; 12] = [
    0xc8, 0x02, 0x00, 0x0c, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
];

/// Waits up to 10 s for `done`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < end, "not within 10 s: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The next event of the sink, other than activity reports, within 5 s.
fn next(rx: &mpsc::Receiver<SinkEvent>) -> Option<SinkEvent> {
    loop {
        match rx.recv_timeout(Duration::from_secs(5)).ok()? {
            SinkEvent::PppActivity(_) => continue,
            e => return Some(e),
        }
    }
}

#[test]
fn early_data_goes_to_the_control_plane_behind_the_control_messages() {
    if !common::in_own_netns() {
        return;
    }
    let (mut dp, rx, peer, local) = common::ppp_v2_session();

    // A control message, then a data packet for session 2, not installed: in that order.
    peer.send_to(&ZLB, local).unwrap();
    let early = configure_request(2, 1);
    peer.send_to(&early, local).unwrap();
    assert!(matches!(next(&rx), Some(SinkEvent::Control(c)) if c.tid == 7 && c.packet == ZLB));
    let Some(SinkEvent::EarlyData(d)) = next(&rx) else {
        panic!("no early data");
    };
    assert_eq!((d.tid, &d.packet), (7, &early));
    assert_eq!(dp.totals().rx_unknown_session, 0);

    // Given back once the session exists: its frame reaches the control plane.
    dp.add_ppp_session(PppSessionSpec::new(7, 2, 8, 2)).unwrap();
    assert!(dp.handle_data(Encapsulation::Udp, &d.packet));
    let Some(SinkEvent::PppFrame(f)) = next(&rx) else {
        panic!("the frame given back did not come through");
    };
    assert_eq!((f.tid, f.sid, f.frame[5]), (7, 2, 1));

    // Given back while its session still does not exist: dropped and counted, not handed
    // over again.
    let early = configure_request(3, 2);
    peer.send_to(&early, local).unwrap();
    let Some(SinkEvent::EarlyData(d)) = next(&rx) else {
        panic!("no early data");
    };
    assert!(dp.handle_data(Encapsulation::Udp, &d.packet));
    wait_for("the drop counted", || dp.totals().rx_unknown_session == 1);
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn a_flood_of_unknown_sessions_is_handed_over_within_a_budget() {
    if !common::in_own_netns() {
        return;
    }
    let (dp, rx, peer, local) = common::ppp_v2_session();
    // In a few bursts that the socket's buffer holds.
    const SENT: u64 = 400;
    for i in 0..SENT {
        peer.send_to(&configure_request(100 + i as u16, 1), local)
            .unwrap();
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mut handed = 0;
    wait_for("every packet accounted for", || {
        while let Ok(e) = rx.try_recv() {
            if matches!(e, SinkEvent::EarlyData(_)) {
                handed += 1;
            }
        }
        handed + dp.totals().rx_unknown_session == SENT
    });
    assert_eq!(dp.tunnel_stats(7).map(|t| t.rx_packets), Some(SENT));
    // The burst (256), and what the rate refilled meanwhile; the rest counted as before.
    assert!((256..=320).contains(&handed), "{handed} handed over");
}
