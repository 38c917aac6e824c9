//! A native-PPP peer flooding control frames (LCP Echo-Requests): a session hands the control
//! plane at most `CONTROL_BURST` of them at once and `CONTROL_RATE` a second; the rest are
//! dropped and counted (`ppp_control_rate` of the totals, the session's `rx_errors`), so that
//! one peer's flood is the control plane's work at that rate at most.
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use l2tp_dataplane::SinkEvent;
use l2tp_dataplane::ppp::{CONTROL_BURST, CONTROL_RATE};

/// An L2TPv2 data message to tunnel 7, session 1: an LCP Echo-Request of identifier `id`.
fn echo_request(id: u8) -> Vec<u8> {
    let mut p = vec![0x00, 0x02, 0x00, 0x07, 0x00, 0x01];
    p.extend_from_slice(&[0xff, 0x03, 0xc0, 0x21, 9, id, 0x00, 0x08, 1, 2, 3, 4]);
    p
}

#[test]
fn a_flood_of_control_frames_reaches_the_control_plane_at_the_session_s_rate() {
    if !common::in_own_netns() {
        return;
    }
    let (dp, rx, peer, local) = common::ppp_v2_session();
    const SENT: u32 = 2000;
    let start = Instant::now();
    for i in 0..SENT {
        peer.send_to(&echo_request(i as u8), local).unwrap();
        if i % 200 == 199 {
            // Not faster than the socket's buffer takes them.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // Everything read: the frames handed over and those dropped make up what was sent.
    let mut handed = 0u64;
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        while let Ok(e) = rx.try_recv() {
            if matches!(e, SinkEvent::PppFrame(_)) {
                handed += 1;
            }
        }
        if handed + dp.totals().ppp_control_rate >= u64::from(SENT) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let dropped = dp.totals().ppp_control_rate;
    assert_eq!(
        handed + dropped,
        u64::from(SENT),
        "{handed} handed, {dropped} dropped"
    );
    let most = f64::from(CONTROL_BURST) + f64::from(CONTROL_RATE) * elapsed + 1.0;
    assert!(
        (handed as f64) <= most,
        "{handed} handed in {elapsed:.2} s: more than {most}"
    );
    assert!(handed >= u64::from(CONTROL_BURST), "{handed}");
    eprintln!("{handed} handed, {dropped} dropped in {elapsed:.3} s");
    assert_eq!(dp.ppp_stats(7, 1).unwrap().rx_errors, dropped);
}
