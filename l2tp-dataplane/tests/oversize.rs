//! A received Ethernet frame longer than its session's TAP takes (its MTU, plus the Ethernet
//! header and a VLAN tag, as the kernel's `l2tp_eth` judges it) is dropped and counted under
//! `rx_oversize`, with or without offloads, and the TAP never sees it; frames within the limit
//! still pass, and an MTU an operator raises is followed.
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use l2tp_dataplane::{Cookie, SessionSpec, SessionStats, UserspaceDataplane};

const COOKIE: [u8; 4] = [0xc0, 0x0c, 0x1e, 0x55];

/// An L2TPv3-over-UDP data packet to session `sid` with the session's cookie, then `frame`
/// (no L2-Specific Sublayer).
fn data(sid: u32, frame: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x03, 0x00, 0x00];
    p.extend_from_slice(&sid.to_be_bytes());
    p.extend_from_slice(&COOKIE);
    p.extend_from_slice(frame);
    p
}

/// A broadcast Ethernet frame of an unknown EtherType, `len` octets.
fn frame(len: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    f.resize(len, 0);
    f
}

/// The frames and octets the kernel counts as received on interface `name`: what the data
/// path wrote to the TAP.
fn tap_received(name: &str) -> (u64, u64) {
    // `ip` rather than /sys: sysfs shows the namespace it was mounted in.
    let out = std::process::Command::new("ip")
        .args(["-j", "-s", "link", "show", "dev", name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rx = &v[0]["stats64"]["rx"];
    (
        rx["packets"].as_u64().unwrap(),
        rx["bytes"].as_u64().unwrap(),
    )
}

/// Waits (bounded) until `done` holds of the session's counters; returns the last ones.
fn stats_when(dp: &UserspaceDataplane, done: impl Fn(&SessionStats) -> bool) -> SessionStats {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let s = dp.stats(100).unwrap();
        if done(&s) || Instant::now() > end {
            return s;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn run(offloads: bool) {
    let local = common::LOOPBACK_LOCAL;
    let (mut dp, peer) = common::loopback_tunnel(offloads);
    let mut s = SessionSpec::eth(7, 100, 200);
    s.peer_cookie = Cookie::new(&COOKIE).unwrap();
    s.interface_name = Some("frovz%d".into());
    s.mtu = Some(1400);
    let name = dp.add_session(s).unwrap();
    let send = |f: &[u8]| {
        peer.send_to(&data(100, f), local).unwrap();
    };
    // The longest frame: 1400 + 14 + 4 octets. One more, and one of 65 000, are dropped.
    send(&frame(60));
    send(&frame(1418));
    send(&frame(1419));
    send(&frame(65_000));
    let st = stats_when(&dp, |s| s.rx_packets + s.oversize >= 4);
    assert_eq!(
        (st.rx_packets, st.rx_bytes, st.oversize, st.rx_errors),
        (2, 60 + 1418, 2, 2),
        "{st:?}"
    );
    assert_eq!(dp.totals().rx_oversize, 2, "{:?}", dp.totals());
    assert_eq!(tap_received(&name), (2, 60 + 1418));

    // An operator raises the MTU: a jumbo frame passes (once the MTU may be read again).
    common::run(&["ip", "link", "set", &name, "mtu", "9000"]);
    std::thread::sleep(Duration::from_millis(1100));
    send(&frame(9018));
    send(&frame(9019));
    let st = stats_when(&dp, |s| s.rx_packets + s.oversize >= 6);
    assert_eq!((st.rx_packets, st.oversize), (3, 3), "{st:?}");
    assert_eq!(tap_received(&name), (3, 60 + 1418 + 9018));
    let t = dp.totals();
    let named: Vec<_> = t.reasons().into_iter().filter(|r| r.1 > 0).collect();
    assert_eq!(named, [("rx_oversize", 3)]);
    dp.remove_tunnel(7).unwrap();
}

#[test]
fn frames_over_the_taps_mtu_are_dropped_and_counted() {
    if !common::in_own_netns() {
        return;
    }
    run(false);
    run(true);
}
