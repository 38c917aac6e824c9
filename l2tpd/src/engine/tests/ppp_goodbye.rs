//! A native-PPP session ended on purpose says goodbye in PPP first (RFC 1661 §3.7: an LCP
//! Terminate-Request), then its CDN or its tunnel's StopCCN goes, once the peer's
//! Terminate-Ack is in or after `TERMINATE_WAIT` without one; RADIUS accounting says why
//! (RFC 2866 §5.10): Admin-Reset for an operator's deletion or a reload, Admin-Reboot for a
//! shutdown, User-Request at the other end.

use std::time::{Duration, Instant};

use l2tp_config::MetricsDetail;
use l2tp_ctl::{EventKind, Selector};
use radius_proto::dict::values::acct_terminate_cause as cause;

use super::super::Command;
use super::super::ppp::TERMINATE_WAIT;
use super::harness::{Net, PppWire, addr};
use super::ppp::assert_goodbyes;
use super::radius::{PASSWORD, accounting, lac, lns, net, server, up};

/// The LAC and the LNS (RADIUS accounting on), up.
fn accounted() -> Net {
    let mut net = net(
        &lns("auth_chap", "auth_source radius\n radius_accounting true"),
        &lac(1, PASSWORD),
        Some(server(radius_proto::Attributes::new())),
    );
    up(&mut net, "up");
    net
}

/// The Acct-Terminate-Cause of the LNS's first Stop (a LAC's session instance places its
/// call again after a CDN).
fn stop_cause(net: &Net) -> Option<u32> {
    let acct = accounting(net);
    let stop = radius_proto::dict::values::acct_status_type::STOP;
    let (_, stop, _) =
        (acct.iter().find(|(s, ..)| *s == stop)).unwrap_or_else(|| panic!("no Stop: {acct:?}"));
    stop.acct_terminate_cause()
}

/// Node `i`'s time of its first goodbye starting with `what`.
fn at(net: &Net, i: usize, what: &str) -> Duration {
    net.nodes[i]
        .goodbyes
        .iter()
        .find(|(_, g)| g.starts_with(what))
        .map(|(t, _)| *t)
        .unwrap_or_else(|| panic!("node {i}: no {what}: {:?}", net.nodes[i].goodbyes))
}

/// Node 1's (the LNS's) first session, by ids.
fn lns_session(net: &Net) -> (Selector, Selector) {
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    (Selector::Id(rows[0].tid), Selector::Id(rows[0].sid))
}

#[test]
fn the_lns_deleting_a_session_terminates_its_ppp_then_sends_the_cdn() {
    let mut net = accounted();
    let (t, s) = lns_session(&net);
    let r = net.command(1, Command::DeleteSession(t, s));
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    assert_goodbyes(&net, 1, &["lcp:terminate-request", "l2tp:CDN"]);
    assert_goodbyes(&net, 0, &["lcp:terminate-ack"]);
    // Acknowledged at once: the CDN did not wait.
    assert_eq!(
        at(&net, 1, "lcp:terminate-request"),
        at(&net, 1, "l2tp:CDN")
    );
    assert_eq!(stop_cause(&net), Some(cause::ADMIN_RESET));
    let ours = net.nodes[1].first_ppp(EventKind::PppDown);
    assert_eq!(ours.reason.as_deref(), Some("closed"));
    let theirs = net.nodes[0].first_ppp(EventKind::PppDown);
    assert_eq!(theirs.reason.as_deref(), Some("peer_terminated"));
    assert_eq!(net.nodes[0].first_cdn().result, 3);
}

/// Drops every LCP Terminate-Ack node `from` sends.
fn no_terminate_ack(from: usize) -> PppWire {
    PppWire(Box::new(move |i, _, frame| {
        let f = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
        !(i == from && f.starts_with(&[0xc0, 0x21, 6]))
    }))
}

#[test]
fn a_peer_that_never_acknowledges_gets_the_cdn_after_the_wait() {
    let mut net = accounted();
    net.ppp_wire = Some(no_terminate_ack(0));
    let (t, s) = lns_session(&net);
    let r = net.command(1, Command::DeleteSession(t, s));
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    assert_goodbyes(&net, 1, &["lcp:terminate-request", "l2tp:CDN"]);
    let waited = at(&net, 1, "l2tp:CDN") - at(&net, 1, "lcp:terminate-request");
    let slot = super::super::ppp::state::TIMER_SLOT;
    assert!(
        (TERMINATE_WAIT..=TERMINATE_WAIT + slot).contains(&waited),
        "{waited:?}"
    );
    assert_eq!(stop_cause(&net), Some(cause::ADMIN_RESET));
    let ours = net.nodes[1].first_ppp(EventKind::PppDown);
    assert_eq!(ours.reason.as_deref(), Some("closed"));
}

/// An LNS of `n` sessions' addresses, local users only; a LAC of `n` sessions in one tunnel.
fn many(n: usize) -> Net {
    let lns = "ip pool \"many\" {\n ranges 198.51.100.2-198.51.100.254 203.0.113.1-203.0.113.254\n}\n\
               user \"alice\" {\n password \"pw\"\n}\n\
               ppp profile \"default\" {\n auth_chap true\n local_ip_addr 198.51.100.1\n \
               ip_pool_name \"many\"\n}\n";
    let mut net = Net::new(&[&lac(n, "pw"), lns], 5);
    net.run_until(Duration::from_secs(120), "all up", |net| {
        net.nodes[1].saw(EventKind::PppUp) == n
    });
    net
}

#[test]
fn deleting_a_tunnel_terminates_every_ppp_then_sends_one_stopccn() {
    const N: usize = 400;
    for acked in [true, false] {
        let mut net = many(N);
        if !acked {
            net.ppp_wire = Some(no_terminate_ack(0));
        }
        let tid = net.nodes[1].engine.tunnels(net.now)[0].tid;
        let timers = net.nodes[1].engine.ppp.timers.len();
        let began = Instant::now();
        let r = net.command(1, Command::DeleteTunnel(Selector::Id(tid)));
        let took = began.elapsed();
        assert!(r.is_ok(), "{r:?}");
        // One wait for the tunnel, no timer more per session.
        assert!(net.nodes[1].engine.ppp.timers.len() <= timers.max(N));
        net.run_until(Duration::from_secs(5), "the LAC's tunnel down", |n| {
            n.nodes[0].saw(EventKind::TunnelDown) == 1
        });
        let goodbyes = &net.nodes[1].goodbyes;
        let requests = goodbyes
            .iter()
            .filter(|(_, g)| g.starts_with("lcp:terminate-request"))
            .count();
        assert_eq!(requests, N, "acked {acked}");
        let last = goodbyes.last().map(|(_, g)| g.as_str());
        assert_eq!(last, Some("l2tp:StopCCN"), "acked {acked}");
        assert!(!goodbyes.iter().any(|(_, g)| g == "l2tp:CDN"));
        let waited = at(&net, 1, "l2tp:StopCCN") - at(&net, 1, "lcp:terminate-request");
        if acked {
            assert_eq!(waited, Duration::ZERO);
        } else {
            let slot = super::super::ppp::state::TIMER_SLOT;
            assert!(
                (TERMINATE_WAIT..=TERMINATE_WAIT + slot).contains(&waited),
                "{waited:?}"
            );
        }
        let peer_ended = net.nodes[0]
            .events
            .iter()
            .filter(|e| {
                e.event == EventKind::PppDown
                    && e.ppp.as_ref().and_then(|p| p.reason.as_deref()) == Some("peer_terminated")
            })
            .count();
        assert_eq!(peer_ended, N, "acked {acked}");
        assert!(net.nodes[1].engine.ppp.closing.is_empty());
        eprintln!("delete tunnel of {N} sessions (acked {acked}): {took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}

#[test]
fn a_stopping_daemon_terminates_its_ppp_before_the_stopccn() {
    let mut net = accounted();
    net.ppp_wire = Some(no_terminate_ack(0));
    let now = net.now;
    net.nodes[1].engine.begin_shutdown(now);
    // Not idle while the StopCCN waits for the Terminate-Acks.
    assert!(!net.nodes[1].engine.is_idle());
    net.run_until(Duration::from_secs(5), "the LAC's tunnel down", |n| {
        n.nodes[0].saw(EventKind::TunnelDown) == 1
    });
    assert_goodbyes(&net, 1, &["lcp:terminate-request", "l2tp:StopCCN"]);
    assert_eq!(net.nodes[0].first_tunnel_down().map(|r| r.result), Some(6));
    assert_eq!(stop_cause(&net), Some(cause::ADMIN_REBOOT));
}

#[test]
fn a_reload_that_removes_a_session_terminates_its_ppp_first() {
    let lac_text = lac(1, PASSWORD);
    let mut net = net(
        &lns("auth_chap", "auth_source radius\n radius_accounting true"),
        &lac_text,
        Some(server(radius_proto::Attributes::new())),
    );
    up(&mut net, "up");
    let without = format!(
        "ppp profile \"default\" {{\n user_name \"alice\"\n user_password \"{PASSWORD}\"\n}}\n\
         tunnel \"t\" {{\n peer {}\n version 2\n}}\n",
        addr(1).ip()
    );
    net.reload(0, &without);
    net.run_for(Duration::from_secs(5));
    assert_goodbyes(&net, 0, &["lcp:terminate-request", "l2tp:CDN"]);
    // The LNS heard its peer end the link.
    assert_eq!(stop_cause(&net), Some(cause::USER_REQUEST));
}

#[test]
fn a_session_whose_ppp_has_not_opened_ends_with_its_cdn_alone() {
    let mut net = Net::unstarted(&[&lac(1, PASSWORD), &lns("auth_chap", "")], 31);
    // The LNS's frames never arrive: the client's link waits to open.
    net.ppp_wire = Some(PppWire(Box::new(|i, _, _| i != 1)));
    let mut net = net.start();
    net.run_until(Duration::from_secs(5), "the LAC's session up", |n| {
        n.nodes[0].saw(EventKind::SessionUp) == 1
    });
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("s0".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(2));
    assert_goodbyes(&net, 0, &["l2tp:CDN"]);
    // No link went down: none had come up.
    let down = &net.nodes[0].engine.ppp.counters.down;
    assert!(down.is_empty(), "{down:?}");
}

/// The text of the answer `r`, a line of text.
fn done(r: &Result<l2tp_ctl::Response, l2tp_ctl::CtlError>) -> &str {
    match r {
        Ok(l2tp_ctl::Response::Done(msg)) => msg,
        _ => panic!("{r:?}"),
    }
}

#[test]
fn a_session_waiting_for_its_terminate_ack_is_shown_closing_and_deleted_once() {
    let mut net = accounted();
    net.ppp_wire = Some(no_terminate_ack(0));
    let (t, s) = lns_session(&net);
    let r = net.command(1, Command::DeleteSession(t.clone(), s.clone()));
    let sid = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default()[0]
        .sid;
    assert_eq!(done(&r), format!("session {sid} deleted"));
    net.run_for(TERMINATE_WAIT / 2);
    assert_goodbyes(&net, 1, &["lcp:terminate-request"]);
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    assert_eq!(rows[0].state, l2tp_ctl::State::Closing);
    let c = net.nodes[1].engine.counts();
    assert_eq!((c.sessions, c.sessions_up, c.sessions_closing), (1, 0, 1));
    let f = net.nodes[1].engine.figures(MetricsDetail::Sessions);
    assert_eq!(f.sessions.get(2, 2) + f.sessions.get(2, 3), 1);
    assert_eq!(f.session_rows[0].state, 2);
    let r = net.command(1, Command::DeleteSession(t, s));
    assert_eq!(done(&r), format!("session {sid} is closing already"));
    net.run_for(Duration::from_secs(5));
    // One CDN, at the end of the first wait.
    assert_goodbyes(&net, 1, &["lcp:terminate-request", "l2tp:CDN"]);
    assert_eq!(net.nodes[1].engine.counts().sessions_closing, 0);
    assert_eq!(net.nodes[1].engine.ppp.closing.links(), 0);
}

#[test]
fn a_tunnel_waiting_for_terminate_acks_is_shown_closing_and_deleted_once() {
    let mut net = many(3);
    net.ppp_wire = Some(no_terminate_ack(0));
    let tid = net.nodes[1].engine.tunnels(net.now)[0].tid;
    let r = net.command(1, Command::DeleteTunnel(Selector::Id(tid)));
    assert_eq!(done(&r), format!("tunnel {tid} deleted"));
    net.run_for(TERMINATE_WAIT / 2);
    assert!(
        !net.nodes[1]
            .goodbyes
            .iter()
            .any(|(_, g)| g == "l2tp:StopCCN")
    );
    let tunnels = net.nodes[1].engine.tunnels(net.now);
    assert_eq!(tunnels[0].state, l2tp_ctl::State::Closing);
    let c = net.nodes[1].engine.counts();
    assert_eq!((c.tunnels, c.tunnels_up, c.tunnels_closing), (1, 0, 1));
    assert_eq!((c.sessions, c.sessions_up, c.sessions_closing), (3, 0, 3));
    let f = net.nodes[1].engine.figures(MetricsDetail::Tunnels);
    assert_eq!(f.tunnels.get(2, 2) + f.tunnels.get(2, 3), 1);
    assert_eq!(f.sessions.get(2, 2) + f.sessions.get(2, 3), 3);
    assert_eq!(f.tunnel_rows[0].state, 2);
    let sessions = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    assert_eq!(sessions.len(), 3);
    assert!(sessions.iter().all(|s| s.state == l2tp_ctl::State::Closing));
    let r = net.command(1, Command::DeleteTunnel(Selector::Id(tid)));
    assert_eq!(done(&r), format!("tunnel {tid} is closing already"));
    let (t, s) = (Selector::Id(tid), Selector::Id(sessions[0].sid));
    let r = net.command(1, Command::DeleteSession(t, s));
    assert_eq!(
        done(&r),
        format!("session {} is closing already", sessions[0].sid)
    );
    net.run_until(Duration::from_secs(5), "the LAC's tunnel down", |n| {
        n.nodes[0].saw(EventKind::TunnelDown) == 1
    });
    let stops = net.nodes[1]
        .goodbyes
        .iter()
        .filter(|(_, g)| g == "l2tp:StopCCN");
    assert_eq!(stops.count(), 1);
    assert!(!net.nodes[1].goodbyes.iter().any(|(_, g)| g == "l2tp:CDN"));
    assert_eq!(net.nodes[1].engine.ppp.closing.links(), 0);
}

#[test]
fn disconnecting_a_session_waiting_for_its_terminate_ack_says_it_is_closing_already() {
    let mut net = accounted();
    net.ppp_wire = Some(no_terminate_ack(0));
    let alice = || Command::Disconnect(l2tp_ctl::PppSelector::User("alice".into()));
    let r = net.command(1, alice());
    assert_eq!(done(&r), "1 session(s) of user \"alice\" disconnected");
    net.run_for(TERMINATE_WAIT / 2);
    let r = net.command(1, alice());
    assert_eq!(done(&r), "1 session(s) of user \"alice\" closing already");
    net.run_for(Duration::from_secs(5));
    // One CDN, at the end of the first wait, for the first reason (administrative).
    assert_goodbyes(&net, 1, &["lcp:terminate-request", "l2tp:CDN"]);
    assert_eq!(net.nodes[0].first_cdn().result, 3);
}
