//! LCP Echo-Replies of native-PPP sessions reach the control plane in batches: a peer's
//! datagrams over real UDP sockets, read by a data-path thread; the replies come out as
//! `SinkEvent::PppEchoReplies` (many in one event), no later than a moment after they
//! arrived, and any other control frame as `SinkEvent::PppFrame`, after the replies that came
//! before it.
//!
//! Runs as root in a network namespace of its own. Fails under `L2TP_REQUIRE_ALL=1` when it
//! cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use l2tp_dataplane::SinkEvent;

/// An L2TPv2 data message to tunnel 7, session `sid`, carrying an LCP packet (`FF 03` first).
fn lcp(sid: u16, code: u8, id: u8) -> Vec<u8> {
    let mut p = vec![0x00, 0x02, 0x00, 0x07];
    p.extend_from_slice(&sid.to_be_bytes());
    p.extend_from_slice(&[0xff, 0x03, 0xc0, 0x21, code, id, 0x00, 0x08]);
    p.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    p
}

/// The (event kind, LCP code, identifier) of every frame the sink gave, in order, until
/// `want` frames came or 10 s passed; and how many events carried them.
fn collect(rx: &mpsc::Receiver<SinkEvent>, want: usize) -> (Vec<(&'static str, u8, u8)>, usize) {
    let mut got = Vec::new();
    let mut events = 0;
    let end = Instant::now() + Duration::from_secs(10);
    while got.len() < want {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(e) = rx.recv_timeout(left) else { break };
        let (kind, frames) = match e {
            SinkEvent::PppEchoReplies(f) => ("replies", f),
            SinkEvent::PppFrame(f) => ("frame", vec![f]),
            _ => continue,
        };
        events += 1;
        for f in frames {
            assert_eq!((f.tid, f.sid), (7, 1));
            got.push((kind, f.frame[4], f.frame[5]));
        }
    }
    (got, events)
}

#[test]
fn echo_replies_are_handed_over_together_and_in_order() {
    if !common::in_own_netns() {
        return;
    }
    let (_dp, rx, peer, local) = common::ppp_v2_session();

    // Many replies at once: far fewer events than replies, each a batch of replies.
    let started = Instant::now();
    for id in 0..64 {
        peer.send_to(&lcp(1, 10, id), local).unwrap();
    }
    let (got, events) = collect(&rx, 64);
    let ids: Vec<u8> = got.iter().map(|g| g.2).collect();
    assert_eq!(ids, (0..64).collect::<Vec<u8>>(), "{got:?}");
    assert!(got.iter().all(|g| g.0 == "replies" && g.1 == 10), "{got:?}");
    assert!(events <= 8, "64 replies came in {events} events");
    // Held for a moment only (20 ms; generous for a loaded machine).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Another control frame after two replies: the replies first, then the frame, at once.
    peer.send_to(&lcp(1, 10, 100), local).unwrap();
    peer.send_to(&lcp(1, 10, 101), local).unwrap();
    peer.send_to(&lcp(1, 1, 102), local).unwrap();
    let (got, _) = collect(&rx, 3);
    assert_eq!(
        got,
        [
            ("replies", 10, 100),
            ("replies", 10, 101),
            ("frame", 1, 102)
        ]
    );
    // An Echo-Request is not held either.
    peer.send_to(&lcp(1, 9, 103), local).unwrap();
    let (got, _) = collect(&rx, 1);
    assert_eq!(got, [("frame", 9, 103)]);
}
