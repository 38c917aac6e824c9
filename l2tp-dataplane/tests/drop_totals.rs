//! Every packet the userspace data path drops is counted in the data plane's totals under its
//! reason, once: a peer sends crafted L2TPv3 datagrams over real UDP sockets to an Ethernet
//! session that requires sequence numbers (RFC 3931 §4.6), read by a data-path thread, and
//! the totals grow by exactly what was sent, as do the session's and the tunnel's counters.
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use l2tp_dataplane::{DataplaneTotals, L2SpecificSublayer, SessionSpec, UserspaceDataplane};

/// An L2TPv3-over-UDP data packet to session `sid`: the default L2-Specific Sublayer with
/// sequence number `seq` (without the S bit for `None`), then `frame`.
fn data(sid: u32, seq: Option<u32>, frame: &[u8]) -> Vec<u8> {
    let mut p = vec![0x00, 0x03, 0x00, 0x00];
    p.extend_from_slice(&sid.to_be_bytes());
    let sublayer = match seq {
        Some(s) => 0x4000_0000 | (s & 0x00ff_ffff),
        None => 0,
    };
    p.extend_from_slice(&sublayer.to_be_bytes());
    p.extend_from_slice(frame);
    p
}

/// A broadcast Ethernet frame of an unknown EtherType, 60 octets.
fn frame() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    f.resize(60, 0);
    f
}

/// Waits (bounded) until `done` holds of the totals; returns the last ones.
fn totals_when(
    dp: &UserspaceDataplane,
    done: impl Fn(&DataplaneTotals) -> bool,
) -> DataplaneTotals {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let t = dp.totals();
        if done(&t) || Instant::now() > end {
            return t;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn every_drop_is_counted_in_the_totals_by_reason() {
    if !common::in_own_netns() {
        return;
    }
    let local = common::LOOPBACK_LOCAL;
    let (mut dp, peer) = common::loopback_tunnel(false);
    let mut s = SessionSpec::eth(7, 100, 200);
    s.l2spec = L2SpecificSublayer::Default;
    s.recv_seq = true;
    s.interface_name = Some("dropt%d".into());
    dp.add_session(s).unwrap();
    assert_eq!(dp.totals(), DataplaneTotals::default());

    let f = frame();
    let send = |p: &[u8]| {
        peer.send_to(p, local).unwrap();
    };
    // Delivered: sequence 5, then 6.
    send(&data(100, Some(5), &f));
    send(&data(100, Some(6), &f));
    // Out of sequence: behind, a duplicate; and one without a sequence number.
    send(&data(100, Some(3), &f));
    send(&data(100, Some(6), &f));
    send(&data(100, None, &f));
    // Truncated: no room for the sublayer; an Ethernet frame shorter than its header.
    send(&data(100, Some(7), &[])[..10]);
    send(&data(100, Some(7), &f[..10]));
    // Malformed: a header cut short, a version that is not L2TP's.
    send(&[0x00, 0x03, 0x00]);
    send(&[0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64]);
    // For no session: an L2TPv3 session id not installed, an L2TPv2 data message.
    send(&data(999, Some(1), &f));
    send(&[0x00, 0x02, 0x00, 0x07, 0x00, 0x01, 0xff, 0x03, 0x00, 0x21]);

    let t = totals_when(&dp, |t| {
        t.seq_errors + t.rx_truncated + t.rx_malformed + t.rx_unknown_session >= 9
    });
    let want = DataplaneTotals {
        seq_errors: 3,
        rx_truncated: 2,
        rx_malformed: 2,
        rx_unknown_session: 2,
        ..DataplaneTotals::default()
    };
    // Nothing else was dropped meanwhile (the TAP's own traffic went out to the peer).
    assert_eq!(t, want, "{t:?}");
    let named: Vec<_> = t.reasons().into_iter().filter(|r| r.1 > 0).collect();
    assert_eq!(
        named,
        [
            ("rx_malformed", 2),
            ("rx_unknown_session", 2),
            ("rx_truncated", 2),
            ("seq_errors", 3)
        ]
    );
    // The session's and the tunnel's own counters agree.
    let s = dp.stats(100).unwrap();
    assert_eq!(
        (s.rx_packets, s.seq_errors, s.rx_errors),
        (2, 3, 5),
        "{s:?}"
    );
    let tun = dp.tunnel_stats(7).unwrap();
    assert_eq!(tun.rx_packets, 11, "{tun:?}");
    assert_eq!(
        (tun.rx_malformed, tun.rx_unknown_session),
        (2, 2),
        "{tun:?}"
    );

    // The totals outlive the session and the tunnel.
    dp.remove_tunnel(7).unwrap();
    assert_eq!(dp.totals(), want);
}
