//! An SCCRQ flood against a live l2tpd on loopback, bounded in count (50 000 datagrams) and
//! time (a few seconds): 500 source ports on 100 loopback addresses (127.0.0.2-101).
//!
//! While it lasts, an established tunnel with a session keeps exchanging HELLOs, the control
//! socket keeps answering (its latency is measured), and the daemon's tunnels stay within
//! `max_setup_tunnels`, with SCCRQs beyond `peer_setup_rate` dropped and counted. Afterwards the
//! half-open tunnels expire and the daemon's memory is back within bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod raw;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Env, l2tpd};
use l2tp_ctl::{Request, Response, State, SystemInfo};
use raw::{RawPeer, mt};

const SCCRQS: usize = 50_000;
const ADDRESSES: u8 = 100;
const PORTS_PER_ADDRESS: usize = 5;
const MAX_SETUP: u32 = 300;
const PEER_RATE: u32 = 20;
/// The flood must be sent within this time.
const FLOOD_TIME: Duration = Duration::from_secs(10);

fn system(env: &Env) -> SystemInfo {
    match env.request(&Request::ShowSystem) {
        Ok(Response::System(s)) => s,
        other => panic!("show system: {other:?}"),
    }
}

fn rss_kib(env: &Env) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", env.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[test]
fn an_sccrq_flood_is_bounded_and_harms_no_established_tunnel() {
    let mut env = Env::new(l2tpd(), "flood");
    env.write_config(
        &format!(
            "    dataplane none\n    max_setup_tunnels {MAX_SETUP}\n    peer_setup_rate \
             {PEER_RATE}\n    tunnel_establish_timeout 3\n"
        ),
        "tunnel profile \"default\" {\n    hello_timeout 1\n    retry_timeout 1\n    \
         max_retries 2\n}\n",
    );
    env.start(&[]);
    let daemon = SocketAddr::from(([127, 0, 0, 1], env.port));

    let good = RawPeer::new(daemon);
    let good_tid = good.establish(100);
    good.open_session(good_tid, 200);
    let deadline = Instant::now() + common::WAIT;
    while system(&env).counts.sessions_up != 1 {
        assert!(
            Instant::now() < deadline,
            "the bystander's session is not up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let rss_before = rss_kib(&env);
    let good_start = good.mark();

    // The control socket is asked every 50 ms throughout; every answer is timed.
    let stop = Arc::new(AtomicBool::new(false));
    let sock = env.sock();
    let prober = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut max_tunnels = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let line = l2tp_ctl::encode_request(&Request::ShowSystem);
                let reply = {
                    use std::io::{BufRead, BufReader, Write};
                    let s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
                    s.set_read_timeout(Some(common::WAIT)).unwrap();
                    (&s).write_all(line.as_bytes()).unwrap();
                    let mut r = String::new();
                    BufReader::new(&s).read_line(&mut r).unwrap();
                    r
                };
                latencies.push(t0.elapsed());
                match l2tp_ctl::decode_reply(&reply).and_then(l2tp_ctl::Reply::into_result) {
                    Ok(Response::System(s)) => max_tunnels = max_tunnels.max(s.counts.tunnels),
                    other => panic!("show system during the flood: {other:?}"),
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            (latencies, max_tunnels)
        })
    };

    let sockets: Vec<UdpSocket> = (0..ADDRESSES)
        .flat_map(|a| {
            (0..PORTS_PER_ADDRESS)
                .map(move |_| UdpSocket::bind(SocketAddr::from(([127, 0, 0, 2 + a], 0))).unwrap())
        })
        .collect();
    let t0 = Instant::now();
    for i in 0..SCCRQS {
        let s = &sockets[i % sockets.len()];
        // A new Assigned Tunnel ID each time: each datagram asks for a new tunnel.
        let assigned = u16::try_from(i % 65_535 + 1).unwrap();
        let m = raw::control(0, 0, 0, 0, &raw::sccrq_body(assigned));
        // A full socket buffer drops the datagram, as a flood would lose it on the wire.
        let _ = s.send_to(&m, daemon);
    }
    let flood_time = t0.elapsed();
    assert!(flood_time < FLOOD_TIME, "the flood took {flood_time:?}");
    // Let the daemon work through its queues while the prober keeps asking.
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let (latencies, max_tunnels) = prober.join().unwrap();
    let during = system(&env);
    let rss_after = rss_kib(&env);

    let max_latency = latencies.iter().max().copied().unwrap_or_default();
    let mut sorted = latencies.clone();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let refused = |k: &str| {
        during
            .statistics
            .tunnels_refused
            .get(k)
            .copied()
            .unwrap_or(0)
    };
    eprintln!(
        "flood: {SCCRQS} SCCRQs in {flood_time:?}; daemon received {} datagrams; tunnels \
         created {}, most at once {max_tunnels}; dropped by peer_setup_rate {}, by \
         max_setup_tunnels {}; set-up tunnels evicted {}; l2tpctl answered {} times, median {median:?}, max \
         {max_latency:?}; RSS {rss_before} KiB -> {rss_after} KiB",
        during.statistics.rx_packets,
        during.statistics.tunnels_created,
        refused("peer_setup_rate"),
        refused("max_setup_tunnels"),
        refused("setup_evicted"),
        latencies.len(),
    );
    assert!(
        latencies.len() >= 10,
        "the control socket answered throughout"
    );
    assert!(
        max_latency < Duration::from_secs(2),
        "l2tpctl waited {max_latency:?}"
    );
    // The bystander plus at most the cap (a tunnel going down counts until deleted).
    assert!(
        max_tunnels <= MAX_SETUP + 1 + 50,
        "tunnels in set-up exceeded the cap: {max_tunnels}"
    );
    assert!(refused("peer_setup_rate") > 0, "the per-peer rate limited");
    assert!(refused("max_setup_tunnels") > 0, "the set-up cap limited");
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory grew from {rss_before} KiB to {rss_after} KiB"
    );

    // The bystander kept exchanging HELLOs during the flood and is still up.
    let hellos = good
        .since(good_start)
        .iter()
        .filter(|r| r.msg_type == Some(mt::HELLO))
        .count();
    assert!(
        hellos >= 2,
        "the bystander got {hellos} HELLOs during the flood"
    );
    let m = good.mark();
    good.send(good_tid, 0, &raw::msg_type(mt::HELLO));
    good.wait_for(m, Duration::from_secs(3), |r| r.msg_type.is_none())
        .expect("the daemon still acknowledges the bystander");

    // Half-open tunnels expire: only the bystander is left.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = system(&env);
        if s.counts.tunnels == 1 {
            assert_eq!((s.counts.tunnels_up, s.counts.sessions_up), (1, 1));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "half-open tunnels did not expire: {:?}",
            s.counts
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let tunnels = match env.request(&Request::show_tunnels()) {
        Ok(Response::Tunnels(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(tunnels.len(), 1);
    assert_eq!(tunnels[0].tid, u32::from(good_tid));
    assert_eq!(tunnels[0].state, State::Up);
    eprintln!(
        "flood: RSS once the half-open tunnels expired: {} KiB",
        rss_kib(&env)
    );
    // The log names the flooding peers, within its budget of lines per second and kind, and
    // sums up the rest.
    let log = env.wait_log("more `peer_setup_rate` problem(s)");
    let lines = log
        .lines()
        .filter(|l| l.contains("SCCRQ over peer_setup_rate"))
        .count();
    let seconds = t0.elapsed().as_secs() + 1;
    assert!(
        lines > 0 && lines as u64 <= 10 * seconds,
        "{lines} log lines for dropped SCCRQs in {seconds} s"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("from 127.0.0.") && l.contains("SCCRQ over peer_setup_rate")),
        "the log names the peer"
    );
    common::judge_capture("flood_bystander", env.port, &good.capture());
}
