//! Frames a native-PPP session drops on the data path are counted and reported: IPv4 while
//! IPCP is not Opened, IPv6 while IPv6CP is not (RFC 1661 §3.5), and frames whose PPP header is
//! invalid come out as `SinkEvent::PppDropped` with their reason, at most one report a second
//! per session and reason, carrying the drops since the last; the session's `rx_errors`
//! counts every one, and the data plane's totals each under its reason. A peer's datagrams over real UDP sockets, read by a data-path thread.
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use l2tp_dataplane::ppp::IpVersion;
use l2tp_dataplane::{PppDrop, PppDropReport, SinkEvent};

/// An L2TPv2 data message to tunnel 7, session 1, carrying `ppp`.
fn data(ppp: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x02, 0x00, 0x07, 0x00, 0x01];
    p.extend_from_slice(ppp);
    p
}

/// A PPP frame with an IPv4 header from 198.51.100.10 (20 octets, no payload).
fn ipv4() -> Vec<u8> {
    let mut f = vec![
        0xff, 0x03, 0x00, 0x21, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
    ];
    f.extend_from_slice(&[198, 51, 100, 10, 198, 51, 100, 1]);
    f
}

/// A PPP frame with an IPv6 header from fe80::1 (40 octets, no payload).
fn ipv6() -> Vec<u8> {
    let mut f = vec![0xff, 0x03, 0x00, 0x57, 0x60, 0, 0, 0, 0, 0, 17, 64];
    f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    f
}

/// The drop reports the sink gave until `want` came or 10 s passed.
fn reports(rx: &mpsc::Receiver<SinkEvent>, want: usize) -> Vec<PppDropReport> {
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(10);
    while got.len() < want {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(e) = rx.recv_timeout(left) else { break };
        if let SinkEvent::PppDropped(r) = e {
            assert_eq!((r.tid, r.sid), (7, 1), "{r:?}");
            got.push(r);
        }
    }
    got
}

#[test]
fn dropped_frames_are_reported_with_their_reason_once_a_second() {
    if !common::in_own_netns() {
        return;
    }
    let (dp, rx, peer, local) = common::ppp_v2_session();

    // No NCP is up: IPv4 and IPv6 are not carried. Five of each, and five invalid frames
    // (an Address field without its Control field; an even Protocol field).
    for _ in 0..5 {
        peer.send_to(&data(&ipv4()), local).unwrap();
        peer.send_to(&data(&ipv6()), local).unwrap();
        peer.send_to(&data(&[0xff, 0x05, 0x00, 0x21]), local)
            .unwrap();
        peer.send_to(&data(&[0x00, 0x20, 0x45]), local).unwrap();
    }
    // The first of each reason is reported at once; the others wait for the next report.
    let mut got: Vec<(PppDrop, u64)> = reports(&rx, 3)
        .into_iter()
        .map(|r| (r.why, r.dropped))
        .collect();
    got.sort_by_key(|g| format!("{g:?}"));
    assert_eq!(
        got,
        [
            (PppDrop::Invalid, 1),
            (PppDrop::NotCarried(IpVersion::V4), 1),
            (PppDrop::NotCarried(IpVersion::V6), 1),
        ]
    );
    // Every one is counted.
    let end = Instant::now() + Duration::from_secs(10);
    while dp.ppp_stats(7, 1).unwrap().rx_errors < 20 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stats = dp.ppp_stats(7, 1).unwrap();
    assert_eq!(stats.rx_errors, 20, "{stats:?}");
    assert_eq!(stats.rx_packets, 0, "{stats:?}");

    // A second later, one more IPv4 packet: its report carries the four held back besides
    // (had they been reported on their own, their reports would come first).
    std::thread::sleep(Duration::from_millis(1100));
    peer.send_to(&data(&ipv4()), local).unwrap();
    let got = reports(&rx, 1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].why, got[0].dropped),
        (PppDrop::NotCarried(IpVersion::V4), 5)
    );
    assert_eq!(dp.ppp_stats(7, 1).unwrap().rx_errors, 21);
    // The data plane's totals count each under its reason, and nothing else.
    let t = dp.totals();
    let want = l2tp_dataplane::DataplaneTotals {
        ppp_not_carried: 11,
        ppp_invalid: 10,
        ..Default::default()
    };
    assert_eq!(t, want, "{t:?}");
}
