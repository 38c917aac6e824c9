//! Tests of the registry: tallies, indexes, phases, and setup and teardown counts.

use std::sync::Arc;

use l2tp_config as cfg;

use super::*;

fn tunnel(tid: u32) -> TunnelRec {
    let settings = cfg::TunnelParams::default().resolve();
    TunnelRec::new(
        tid,
        Origin::net(),
        "default".into(),
        settings,
        Instant::now(),
    )
}

fn session(tunnel: u64, tid: u32, sid: u32) -> SessionRec {
    let ids = SessionIds {
        tid,
        sid,
        peer_tid: 0,
        peer_sid: 0,
    };
    let profiles = SessionProfiles {
        profile: "default".into(),
        pw_profile: "default".into(),
        settings: Arc::new(cfg::SessionParams::default().resolve()),
        pseudowire: Arc::new(cfg::PseudowireParams::default().resolve()),
    };
    SessionRec::new(
        tunnel,
        ids,
        Origin::net(),
        profiles,
        5,
        None,
        Instant::now(),
    )
}

fn tally(total: usize, live: usize, up: usize) -> Tally {
    Tally { total, live, up }
}

#[test]
fn tallies_follow_every_phase() {
    let now = Instant::now();
    let mut r = Registry::default();
    let (a, b) = (r.next_handle(), r.next_handle());
    r.insert_tunnel(a, tunnel(10));
    r.insert_tunnel(b, tunnel(11));
    r.tunnel_up(a, now, 99);
    assert_eq!(r.tunnel_tally(), tally(2, 2, 1));
    assert_eq!(r.tunnel_by_tid(10).map(|t| t.peer_tid), Some(99));
    r.tunnel_closing(a, DownCause::Peer);
    r.tunnel_closing(b, DownCause::EstablishTimeout);
    assert_eq!(r.tunnel_tally(), tally(2, 0, 0));
    // Only b never came up.
    assert_eq!(r.setup_failures(), (1, 0));
    // A late "up" of a closing tunnel does not make it live again.
    r.tunnel_up(b, now, 1);
    assert_eq!(r.tunnel_tally(), tally(2, 0, 0));
    r.remove_tunnel(a);
    r.remove_tunnel(b);
    assert_eq!(r.tunnel_tally(), Tally::default());
    assert_eq!(r.tunnel_handle(10), None);
}

#[test]
fn setup_latency_and_teardowns_are_counted_once_per_record() {
    let mut r = Registry::default();
    let (a, b) = (r.next_handle(), r.next_handle());
    let t = tunnel(10);
    let Phase::Connecting { since } = t.phase() else {
        panic!("a new tunnel is connecting");
    };
    r.insert_tunnel(a, t);
    r.insert_tunnel(b, tunnel(11));
    r.tunnel_up(a, since + std::time::Duration::from_millis(240), 99);
    // Up again (a duplicate event): no second observation.
    r.tunnel_up(a, since + std::time::Duration::from_secs(9), 99);
    let (tunnels, sessions) = r.setup_latency();
    assert_eq!((tunnels.count(), sessions.count()), (1, 0));
    let le_250ms = tunnels
        .buckets()
        .iter()
        .find(|(le, _)| *le == 0.25)
        .map(|b| b.1);
    assert_eq!(le_250ms, Some(1));
    r.tunnel_closing(a, DownCause::Peer);
    r.tunnel_closing(a, DownCause::Local);
    r.tunnel_closing(b, DownCause::RetriesExhausted);
    let (down, _) = r.teardowns();
    let down: BTreeMap<_, _> = down.by_cause().collect();
    assert_eq!(
        (down["peer"], down["local"], down["retries_exhausted"]),
        (1, 0, 1)
    );
    // A static session comes up at once: no set-up to measure.
    let mut st = session(a, 10, 5);
    st.is_static = true;
    let s = r.next_handle();
    r.insert_session(s, st);
    r.session_up(s, since + std::time::Duration::from_secs(1));
    assert_eq!(r.setup_latency().1.count(), 0);
}

#[test]
fn sessions_are_counted_per_tunnel_and_found_by_number() {
    let now = Instant::now();
    let mut r = Registry::default();
    let (t1, t2) = (r.next_handle(), r.next_handle());
    let (s1, s2, s3) = (r.next_handle(), r.next_handle(), r.next_handle());
    r.insert_session(s1, session(t1, 100, 5));
    r.insert_session(s2, session(t1, 100, 6));
    r.insert_session(s3, session(t2, 200, 5));
    r.session_up(s1, now);
    assert_eq!((r.sessions_of(t1), r.sessions_of(t2)), (2, 1));
    assert_eq!(r.session_tally(), tally(3, 3, 1));
    assert_eq!(r.session_handle(100, 6), Some(s2));
    r.renumber_session(s2, 7);
    assert_eq!(r.session_handle(100, 6), None);
    assert_eq!(r.session_handle(100, 7), Some(s2));
    r.session_closing(s2, DownCause::Local);
    assert_eq!(r.setup_failures(), (0, 1));
    r.remove_session(s2);
    assert_eq!(r.sessions_of(t1), 1);
    assert_eq!(r.session_handle(100, 7), None);
    assert_eq!(r.session_tally(), tally(2, 2, 1));
    let (sessions, tunnels) = r.drain();
    assert_eq!((sessions.len(), tunnels.len()), (2, 0));
    assert_eq!(r.session_tally(), Tally::default());
    assert_eq!(r.sessions_of(t1), 0);
}

/// Tunnels share a peer when their local address and their peer's address and port are the
/// same (clients behind one NAT, as a server sees them); two tunnels from different local
/// addresses to one server do not.
#[test]
fn tunnels_share_a_peer_only_between_the_same_two_addresses() {
    let addr = |s: &str| -> SocketAddr { s.parse().unwrap_or_else(|e| panic!("{s}: {e}")) };
    let server = addr("192.0.2.2:1701");
    let mut r = Registry::default();
    for (h, local) in [
        (1, "192.0.2.1:1701"),
        (2, "192.0.2.1:1701"),
        (3, "192.0.2.11:1701"),
    ] {
        let mut t = tunnel(u32::try_from(h).unwrap_or(0) + 100);
        t.socket = Some((addr(local), server));
        r.insert_tunnel(h, t);
    }
    assert_eq!(r.same_peer(1, (addr("192.0.2.1:1701"), server)), vec![102]);
    assert_eq!(
        r.same_peer(3, (addr("192.0.2.11:1701"), server)),
        Vec::<u32>::new()
    );
    r.remove_tunnel(2);
    assert_eq!(
        r.same_peer(1, (addr("192.0.2.1:1701"), server)),
        Vec::<u32>::new()
    );
}
