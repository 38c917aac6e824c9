//! A daemon whose tunnels would take every file descriptor it may open: tunnels beyond what the
//! limit leaves keep working on the listen socket, and the control socket keeps a reserve, so
//! that `l2tpctl` is still answered (RLIMIT_NOFILE lowered to 160 for the daemon alone).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod raw;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Env, l2tpd};
use l2tp_ctl::{Request, Response};
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use raw::RawPeer;

/// The daemon's descriptor limit: room for about 40 tunnel sockets of their own (two
/// descriptors each) below the 64 it keeps spare.
const NOFILE: u64 = 160;
/// More tunnels than that: without the reserve they would take every descriptor.
const TUNNELS: u16 = 80;

#[test]
fn tunnels_past_the_descriptor_limit_use_the_listen_socket_and_l2tpctl_still_answers() {
    let mut env = Env::new(l2tpd(), "fdlimit");
    env.write_config("    dataplane none\n", "");
    // The daemon inherits the limit (soft and hard: it raises its soft limit to the hard one);
    // this process takes its own back where it may (as root).
    let before = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, NOFILE, NOFILE).unwrap();
    env.start(&[]);
    let _ = setrlimit(Resource::RLIMIT_NOFILE, before.0, before.1);
    let daemon = SocketAddr::from(([127, 0, 0, 1], env.port));

    let peers: Vec<RawPeer> = (1..=TUNNELS)
        .map(|n| {
            let p = RawPeer::new(daemon);
            p.establish(n);
            p
        })
        .collect();
    let deadline = Instant::now() + common::WAIT;
    let up = loop {
        let answer = env.request(&Request::ShowSystem);
        let up = match &answer {
            Ok(Response::System(s)) => s.counts.tunnels_up,
            other => panic!(
                "show system with {TUNNELS} tunnels: {other:?}\n{}",
                env.log_text()
            ),
        };
        if up == u32::from(TUNNELS) || Instant::now() > deadline {
            break up;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(up, u32::from(TUNNELS), "{}", env.log_text());
    let fds = std::fs::read_dir(format!("/proc/{}/fd", env.pid()))
        .unwrap()
        .count();
    assert!(
        fds as u64 <= NOFILE - 32,
        "the daemon holds {fds} descriptors of {NOFILE}"
    );
    let log = env.log_text();
    assert!(
        log.contains("no file descriptor left for a socket of its own"),
        "{log}"
    );
    assert!(!log.contains("Too many open files"), "{log}");
    // Every tunnel still answers: a HELLO from the last one is acknowledged.
    let last = peers.last().unwrap();
    let mark = last.mark();
    let tid = last.state.lock().unwrap().daemon_tid;
    last.send(tid, 0, &raw::msg_type(raw::mt::HELLO));
    assert!(
        last.wait_for(mark, Duration::from_secs(5), |rx| rx.msg_type.is_none())
            .is_some(),
        "the last tunnel's HELLO was not acknowledged\n{log}"
    );
}
