//! What a native-PPP session costs the userspace data plane in memory: a counting allocator
//! measures the heap held per session (the control side's tables, the session state the
//! data-path threads share, the receive state on the tunnel's home thread, and each thread's
//! route), installed, and then with its IPv4 routed through the shared TUN. The goal is
//! at most 4 KiB per PPP session for the whole daemon at 100 000 sessions, of which the engine
//! takes about 1 KiB; this test holds the data plane to 1 KiB and prints the figures.
//!
//! Runs as root in a network namespace of its own (the TUN, its addresses and 20 000 routes
//! stay there). Fails under `L2TP_REQUIRE_ALL=1` when it cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicIsize, Ordering};

use l2tp_dataplane::ppp::Framing;
use l2tp_dataplane::{DataplaneOptions, PppNet, PppSessionSpec};

/// Bytes allocated and not freed, by every thread.
static HELD: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is kept.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SESSIONS: u32 = 20_000;
/// The most heap one native-PPP session may hold in the data plane.
const BOUND: isize = 1024;

fn held() -> isize {
    HELD.load(Ordering::Relaxed)
}

/// The peer address of session `n` (10.64.0.0/10 and up: any addresses will do inside the
/// test's own namespace, where nothing leaves).
fn peer(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a40_0000 + n)
}

#[test]
fn a_native_ppp_session_costs_under_a_kilobyte() {
    if !common::in_own_netns() {
        return;
    }

    let options = DataplaneOptions {
        offloads: true,
        threads: 2,
    };
    let mut dp = common::v2_tunnel(None, options);
    let net = |n: u32| PppNet {
        ipv4: Some((Ipv4Addr::new(192, 0, 2, 1), peer(n))),
        ipv6: None,
        mtu: 1400,
        framing: Framing::default(),
    };
    // One session first, so that the TUN and the rtnetlink socket exist before measuring.
    dp.add_ppp_session(PppSessionSpec::new(7, 1, 8, 1)).unwrap();
    assert_eq!(
        dp.ppp_up(7, 1, &net(1)).unwrap().as_deref(),
        Some("l2tpppp0")
    );

    let base = held();
    for sid in 2..=SESSIONS {
        dp.add_ppp_session(PppSessionSpec::new(7, sid, 8, sid))
            .unwrap();
    }
    let installed = held();
    for sid in 2..=SESSIONS {
        dp.ppp_up(7, sid, &net(sid)).unwrap();
    }
    let routed = held();
    let n = (SESSIONS - 1) as isize;
    let per_installed = (installed - base) / n;
    let per_routed = (routed - base) / n;
    println!(
        "native PPP, {} data-path threads: {per_installed} bytes per session installed, \
         {per_routed} with its IPv4 routed (heap held by the data plane, {n} sessions)",
        options.threads
    );
    let (_, sessions) = dp.counts();
    assert_eq!(sessions, SESSIONS as usize);
    // Routes in the kernel too, one per session (its output freed before measuring again).
    let routes = {
        let out = std::process::Command::new("ip")
            .args(["-4", "route", "show", "dev", "l2tpppp0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(routes, SESSIONS as usize);
    assert!(
        per_routed <= BOUND,
        "{per_routed} bytes per native-PPP session (bound {BOUND})"
    );

    // Everything goes with the sessions: made again, they take what their tables kept room
    // for, no more.
    for sid in 1..=SESSIONS {
        dp.remove_ppp_session(7, sid).unwrap();
    }
    assert_eq!(dp.counts().1, 0);
    for sid in 1..=SESSIONS {
        dp.add_ppp_session(PppSessionSpec::new(7, sid, 8, sid))
            .unwrap();
    }
    for sid in 1..=SESSIONS {
        dp.ppp_up(7, sid, &net(sid)).unwrap();
    }
    let again = held() - routed;
    println!("removed and made again: {again} bytes more than the first time");
    assert!(
        again < n * 16,
        "{again} bytes more after removing and making every session again"
    );
}
