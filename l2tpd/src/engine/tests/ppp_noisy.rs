//! A native-PPP peer that renegotiates without end (RFC 1661 §4.3: a Configure-Request in
//! Opened starts LCP over, and with it authentication): with `auth_source radius`, each round
//! would be a new Access-Request, so the profile's `max_renegotiations` ends the link past its
//! bound, with a notice, a `ppp_down` reason and the `ppp_renegotiations` count. Two sessions
//! of alice in one L2TPv2 tunnel; the LNS (node 1) asks a scripted RADIUS server; frames of
//! the noisy session are handed to the LNS's engine as if its peer sent them. The other
//! session keeps its address and is never asked about again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use l2tp_ctl::{EventKind, SessionInfo};
use radius_proto::Attributes;
use radius_proto::client::Service;
use radius_proto::dict::values::{acct_status_type, acct_terminate_cause};

use super::harness::{Net, RadiusServer};
use super::logs::recorded;
use super::ppp_hostile::{assert_untouched, two_up};
use super::radius::{PASSWORD, access_keys, lac, lns, net, server, submits};

/// An LCP Configure-Request (Identifier `id`, an MRU of 1500): in Opened, a renegotiation.
fn lcp_configure_request(id: u8) -> Vec<u8> {
    vec![0xff, 0x03, 0xc0, 0x21, 1, id, 0, 8, 1, 4, 0x05, 0xdc]
}

/// The requests of `service` the LNS made for session `s`.
fn asked(net: &Net, s: &SessionInfo, service: Service) -> Vec<Attributes> {
    let port = format!("{}/{}", s.tid, s.sid);
    submits(net, 1)
        .into_iter()
        .filter(|(sv, a, _)| *sv == service && a.nas_port_id() == Some(port.as_str()))
        .map(|(_, a, _)| a)
        .collect()
}

/// The noisy session's peer renegotiates (`round`), and is given the time a real one takes to
/// come back: a second.
fn renegotiate(net: &mut Net, s: &SessionInfo, round: u8) {
    let now = net.now;
    net.nodes[1]
        .engine
        .handle_ppp_frame(now, (s.tid, s.sid), &lcp_configure_request(round));
    net.run_for(Duration::from_secs(1));
}

#[test]
fn a_peer_renegotiating_without_end_is_closed_and_radius_asked_a_bounded_number_of_times() {
    let profile = "auth_source radius\n radius_accounting true\n max_renegotiations 3";
    let mut net = net(
        &lns("auth_pap", profile),
        &lac(2, PASSWORD),
        Some(server(Attributes::new())),
    );
    let [noisy, other] = two_up(&mut net);
    assert_eq!(asked(&net, &noisy, Service::Access).len(), 1);
    let before = net.nodes[1].requests.len();
    let ((), lines) = recorded(|| {
        // 30 rounds in 30 s: the bound is 3 a minute.
        for round in 0..30 {
            renegotiate(&mut net, &noisy, 100 + round);
        }
        net.run_for(Duration::from_secs(10));
    });
    // The login and three rounds were asked of RADIUS; the fourth ended the link.
    assert_eq!(asked(&net, &noisy, Service::Access).len(), 4);
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_down.get("renegotiations"), Some(&1), "{stats:?}");
    assert_eq!(stats.ppp_renegotiations, 4, "{stats:?}");
    assert!(
        lines.iter().any(|(_, m)| m.contains("PPP down")
            && m.contains("user \"alice\"")
            && m.contains("the peer renegotiated too often")),
        "{lines:#?}"
    );
    // One Start and one Stop: a renegotiation is no new accounting session; the Stop says
    // the NAS ended it.
    let acct: Vec<(u32, Option<u32>)> = asked(&net, &noisy, Service::Accounting)
        .iter()
        .map(|a| (a.acct_status_type().unwrap_or(0), a.acct_terminate_cause()))
        .collect();
    assert_eq!(
        acct,
        [
            (acct_status_type::START, None),
            (
                acct_status_type::STOP,
                Some(acct_terminate_cause::NAS_REQUEST)
            )
        ]
    );
    // Its session ended with a CDN saying why.
    let cdn = net.nodes[0].first_cdn();
    assert_eq!(cdn.result, 2, "{cdn:?}");
    assert_eq!(cdn.message.as_deref(), Some("PPP: too many renegotiations"));
    // The other session: still up with its address, its data plane asked for nothing, asked
    // about once.
    assert_untouched(&net, &other, before);
    assert_eq!(asked(&net, &other, Service::Access).len(), 1);
}

/// A round that starts while the last round's Access-Request waits (the server is slow):
/// that request is withdrawn, so that the RADIUS client neither retransmits it nor holds a
/// place for it.
#[test]
fn a_renegotiation_withdraws_the_access_request_of_the_round_before() {
    let silent = Arc::new(AtomicBool::new(false));
    let mut answer = server(Attributes::new());
    let quiet = silent.clone();
    let slow = RadiusServer(Box::new(move |service, attrs| {
        if service == Service::Access && quiet.load(Ordering::Relaxed) {
            return None;
        }
        (answer.0)(service, attrs)
    }));
    let profile = "auth_source radius\n max_renegotiations 0";
    let mut net = net(&lns("auth_pap", profile), &lac(2, PASSWORD), Some(slow));
    let [noisy, _] = two_up(&mut net);
    silent.store(true, Ordering::Relaxed);
    let keys = |net: &Net, asked: bool| -> Vec<u64> {
        let all = access_keys(net).into_iter();
        all.filter(|(a, _)| *a == asked).map(|(_, k)| k).collect()
    };
    let before = keys(&net, true).len();
    for round in 0..5 {
        renegotiate(&mut net, &noisy, round);
    }
    let new: Vec<u64> = keys(&net, true)[before..].to_vec();
    assert_eq!(new.len(), 5, "one Access-Request a round");
    // Every one but the last was withdrawn when the next round asked.
    assert_eq!(keys(&net, false), new[..4]);
    assert_eq!(net.nodes[1].engine.radius_figures().pending, 1);
}

/// Forty sessions of one tunnel set up at once (a LAC placing calls as fast as it can, or a
/// peer opening and closing sessions in a loop): each would log its up, its PPP up and more;
/// past [`LINES_PER_WINDOW`] a second per tunnel the lines are summed up instead, while
/// watchers hear of every session.
#[test]
fn a_tunnel_s_session_lines_past_the_budget_are_summed_up() {
    use super::super::lines::LINES_PER_WINDOW;
    let lns = "ip pool \"customers\" {\n ranges 198.51.100.10-198.51.100.99\n}\n\
               user \"alice\" {\n password \"local-pw\"\n}\n\
               ppp profile \"default\" {\n auth_pap true\n auth_chap false\n \
               auth_mschapv2 false\n local_ip_addr 198.51.100.1\n \
               ip_pool_name \"customers\"\n}\n";
    let ((), lines) = recorded(|| {
        let mut net = net(lns, &lac(40, "local-pw"), None);
        net.run_until(Duration::from_secs(20), "all up", |n| {
            n.nodes[1].saw(EventKind::PppUp) == 40
        });
        assert_eq!(net.nodes[1].saw(EventKind::SessionUp), 40);
        net.run_for(Duration::from_secs(5));
    });
    let count = |what: &str| lines.iter().filter(|(_, m)| m.contains(what)).count();
    // Two tunnels (the LAC's and the LNS's), each within its budget.
    let budget = 2 * LINES_PER_WINDOW as usize;
    // (Debug lines aside: the daemon logs none of them by default.)
    let session_lines = lines
        .iter()
        .filter(|(level, m)| *level <= tracing::Level::INFO && m.starts_with("session "))
        .count();
    assert!(session_lines <= budget, "{session_lines}: {lines:#?}");
    assert!(count(": up (peer") >= 1, "{lines:#?}");
    assert!(count("more session line(s) in the last") >= 2, "{lines:#?}");
}
