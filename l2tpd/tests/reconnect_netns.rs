//! A client that always sends from the same address and port (Windows' built-in client and
//! xl2tpd send from port 1701) disconnects and at once connects again: its new SCCRQ reaches
//! the socket of its old tunnel, which waits out its StopCCN (RFC 2661 §5.7) connected to
//! that address and port. On the userspace data plane nobody read that socket any more once
//! the data plane let the old tunnel go, and the client's new tunnel was never answered.
//!
//! `l2tp-loadgen --ppp` against l2tpd in a network namespace, three runs one after the other
//! from port 1701 of one address, each with PPP sessions in one tunnel: every run brings all
//! its sessions up (LCP, PAP and IPCP cross the data plane of the new tunnel), and l2tpd has
//! one tunnel up after each.
//!
//! Needs root (network namespaces); without it the test is skipped, or fails under
//! `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lns_lab;

use lns_lab::{ctl, lab_with_lns, loadgen, skip, system};

const USER: &str = "bob";
const PASSWORD: &str = "bob-pw-4410";
const SESSIONS: u32 = 3;

#[test]
fn a_client_connecting_again_from_the_same_port_gets_its_new_tunnel() {
    if skip() {
        return;
    }
    let (lab, log, socket) = lab_with_lns("recn", "reconnect", &["192.0.2.14"], (USER, PASSWORD));
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    let sessions = SESSIONS.to_string();
    for run in 1..=3 {
        let r = loadgen(
            &lab,
            &format!(
                "--local 192.0.2.14 --local-port 1701 --max-sockets 1 --tunnels 1 --sessions \
                 {sessions} --version 2 --ppp --auth pap --user {USER} --password {PASSWORD} \
                 --hold 0.5 --timeout 10"
            ),
        );
        let what = format!("run {run}: {r}\n{}", system(&socket));
        assert_eq!(r["tunnels_up"], 1, "{what}\n{}", context());
        assert_eq!(r["ppp"]["sessions_up"], SESSIONS, "{what}\n{}", context());
        // The tunnels of the runs before wait out their StopCCN beside it.
        let tunnels = ctl(&socket, &["show", "tunnels"]);
        let up = tunnels.lines().filter(|l| l.contains(" up ")).count();
        assert_eq!(up, 0, "{what}\nafter the run's StopCCN:\n{tunnels}");
    }
}
