//! A client that restarts without a StopCCN (it crashed, lost power, or its user pulled the
//! plug) and connects again from the same address and UDP port 1701 under the same tunnel id,
//! as xl2tpd and Windows' client do: l2tpd removes the old tunnel as soon as the new one is up,
//! says so in its log, and sends the reused id neither a StopCCN nor a CDN, which would close
//! the new tunnel.
//!
//! A hand-written L2TPv2 peer (`raw`) on 192.0.2.15:1701 in a network namespace against l2tpd on
//! the userspace data plane: tunnel and session up, the peer forgets everything, and a new peer
//! on the same address and port opens a tunnel with the same id.
//!
//! Needs root (network namespaces); without it the test is skipped, or fails under
//! `L2TP_REQUIRE_ALL=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lns_lab;
mod raw;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use l2tp_ctl::State;
use lns_lab::{LNS, ctl, lab_with_lns, skip, wait};
use raw::{RawPeer, mt};

const CLIENT: &str = "192.0.2.15:1701";
/// The tunnel id the client assigns, before and after its restart.
const CLIENT_TID: u16 = 77;

/// The daemon's tunnels: (local id, peer's id, state).
fn tunnels(socket: &Path) -> Vec<(u32, u32, State)> {
    let text = ctl(socket, &["-j", "show", "tunnels"]);
    let rows: Vec<l2tp_ctl::TunnelInfo> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("show tunnels: {e}\n{text}"));
    rows.iter().map(|t| (t.tid, t.peer_tid, t.state)).collect()
}

/// A peer on [`CLIENT`] in the lab's namespace.
fn client(lab: &l2tp_testkit::lab::NsLab) -> RawPeer {
    let sock = lab.in_netns(|| UdpSocket::bind(CLIENT).unwrap());
    let daemon: SocketAddr = format!("{LNS}:1701").parse().unwrap();
    RawPeer::on(sock, daemon)
}

#[test]
fn a_client_restarting_with_the_same_tunnel_id_replaces_its_old_tunnel() {
    if skip() {
        return;
    }
    let (lab, log, socket) = lab_with_lns("rstr", "restart", &["192.0.2.15"], ("u", "pw-1"));
    let context = || std::fs::read_to_string(&log).unwrap_or_default();
    let first = client(&lab);
    let old = first.establish(CLIENT_TID);
    first.open_session(old, 5);
    wait(Duration::from_secs(5), "the first tunnel up", || {
        tunnels(&socket) == vec![(u32::from(old), u32::from(CLIENT_TID), State::Up)]
    });

    // The client restarts: it forgets its tunnel and says nothing.
    drop(first);
    let second = client(&lab);
    let restarted = Instant::now();
    let new = second.establish(CLIENT_TID);
    second.open_session(new, 5);
    let only_new = vec![(u32::from(new), u32::from(CLIENT_TID), State::Up)];
    let limit = Duration::from_secs(2);
    let deadline = restarted + limit;
    while tunnels(&socket) != only_new {
        assert!(
            Instant::now() < deadline,
            "not within {limit:?}: only the new tunnel {new}: {:?}\n{}",
            tunnels(&socket),
            context()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "the old tunnel went {:?} after the restart",
        restarted.elapsed()
    );
    let notice = format!(
        "tunnel {old}: the peer {CLIENT} restarted: it opened tunnel {new} with the same \
         tunnel id"
    );
    wait(Duration::from_secs(2), "the notice in the log", || {
        context().contains(&notice)
    });

    // Nothing reached the new tunnel that was meant for the old one, and it stays up.
    std::thread::sleep(Duration::from_secs(2));
    let rx = second.since(0);
    let closing: Vec<_> = rx
        .iter()
        .filter(|r| [Some(mt::STOPCCN), Some(mt::CDN)].contains(&r.msg_type))
        .collect();
    assert!(closing.is_empty(), "{closing:#?}\n{}", context());
    assert_eq!(tunnels(&socket), only_new, "{}", context());
}
