//! A user with a fixed address who logs in again while an older session of theirs still
//! holds it (`relogin`): a second LAC (node 2, another address and tunnel) logs in as the user
//! of a session of the first LAC (node 0) through the LNS (node 1). The older session is
//! disconnected (its LAC gets a CDN) and the new one gets the address at once, unless the
//! holder is another user or the profile says `relogin refuse`: then the new login is refused
//! as before.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use l2tp_config::Relogin;
use l2tp_ctl::EventKind;
use ppp_proto::Password;
use radius_proto::Attributes;
use radius_proto::dict::values::{acct_status_type, acct_terminate_cause};

use super::super::ppp::{LocalUser, PppPolicy, Users};
use super::harness::{Net, addr};
use super::logs::recorded;
use super::ppp::{POOL, a, client, server};
use crate::dataplane::DataplaneRequest;

/// Bob's fixed address, as [`server`] gives it.
const BOB_IP: &str = "198.51.100.200";

/// A LAC with one PPP session in an L2TPv2 tunnel to node 1.
fn lac() -> String {
    format!(
        "tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n",
        addr(1).ip()
    )
}

/// The LNS's policy of [`server`], with `relogin`, and a user robert with bob's address.
fn lns_policy(relogin: Relogin) -> PppPolicy {
    let p = server(Some(POOL), None);
    let user = |password, ip: Option<&str>| LocalUser {
        password: Password::new(password),
        ip: ip.map(a),
    };
    let users = Users::new([
        (b"alice".to_vec(), user("wonderland", None)),
        (b"bob".to_vec(), user("builder", Some(BOB_IP))),
        (b"robert".to_vec(), user("roberts", Some(BOB_IP))),
    ]);
    PppPolicy {
        users: Arc::new(users),
        relogin,
        ..p
    }
}

/// Node 0 logs in as bob and is up; node 2 then logs in as `user`; runs for `limit` or until
/// node 2 is up or refused.
fn second_login(relogin: Relogin, user: &str, password: &str) -> Net {
    let mut net = Net::unstarted(&[&lac(), "", ""], 21);
    let ranges = [(a("198.51.100.10"), a("198.51.100.19"))];
    net.nodes[1]
        .engine
        .configure_ppp(vec![lns_policy(relogin)], &[(POOL, &ranges[..])]);
    net.nodes[0]
        .engine
        .configure_ppp(vec![client("bob", "builder")], &[]);
    net.nodes[2]
        .engine
        .configure_ppp(vec![client(user, password)], &[]);
    let mut net = net.start();
    net.run_until(Duration::from_secs(10), "bob up at node 0", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net.reload(2, &lac());
    net
}

/// The peer addresses of node 1's PPP up events, in order.
fn lns_ups(net: &Net) -> Vec<Option<Ipv4Addr>> {
    let ups = net.nodes[1]
        .events
        .iter()
        .filter(|e| e.event == EventKind::PppUp);
    ups.map(|e| e.ppp.as_ref().and_then(|p| p.peer_ipv4))
        .collect()
}

#[test]
fn a_new_login_of_the_same_user_takes_the_address_from_the_old_session() {
    let ((mut net, started), lines) = recorded(|| {
        let mut net = second_login(Relogin::Replace, "bob", "builder");
        let started = net.elapsed();
        // Bob's new session waits for no echo or HELLO of the old one to fail.
        net.run_until(Duration::from_secs(5), "bob up at node 2", |n| {
            n.nodes[2].saw(EventKind::PppUp) == 1
        });
        (net, started)
    });
    assert!(net.elapsed() - started < Duration::from_secs(5));
    assert_eq!(lns_ups(&net), [Some(a(BOB_IP)); 2]);
    assert_eq!(
        net.nodes[2].first_ppp(EventKind::PppUp).peer_ipv4,
        Some(a("198.51.100.1"))
    );
    // The old session was cleared with a CDN, result 3 (administrative), seen by its LAC.
    let cdn = net.nodes[0].first_cdn();
    assert_eq!(cdn.result, 3, "{cdn:?}");
    assert_eq!(net.nodes[0].saw(EventKind::PppDown), 1);
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    let down = net.nodes[1].first_ppp(EventKind::PppDown);
    assert_eq!(down.reason.as_deref(), Some("replaced_by_new_login"));
    assert_eq!(down.user.as_deref(), Some("bob"));
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats.ppp_down.get("replaced_by_new_login"),
        Some(&1),
        "{stats:?}"
    );
    assert!(stats.ppp_address_refusals.is_empty(), "{stats:?}");
    // The old session's network went down before the new one's came up with the address.
    let reqs = &net.nodes[1].requests;
    let old_down = reqs
        .iter()
        .position(|r| matches!(r, DataplaneRequest::PppDown { .. }));
    let ups: Vec<usize> = reqs
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, DataplaneRequest::PppUp { .. }))
        .map(|(i, _)| i)
        .collect();
    assert!(
        old_down.is_some_and(|d| ups.len() >= 2 && ups[0] < d && d < ups[ups.len() - 1]),
        "{old_down:?} {ups:?}"
    );
    // One notice names the user, the address and both sessions.
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let newer = format!("{}/{}", rows[0].tid, rows[0].sid);
    let notice = lines.iter().find(|(_, l)| l.contains("logged in again"));
    let Some((_, notice)) = notice else {
        panic!("no notice in {lines:#?}");
    };
    assert!(
        notice.contains("user \"bob\"")
            && notice.contains(BOB_IP)
            && notice.contains(&format!("in session {newer}"))
            && notice.starts_with("session "),
        "{notice}"
    );
    // The two LACs' tunnels are both still there; only bob's new session lives.
    net.run_for(Duration::from_secs(30));
    assert_eq!(net.nodes[1].engine.counts().sessions, 1);
    assert_eq!(net.nodes[2].up(), (1, 1));
}

/// Node 2's login was refused for want of an address, and node 0's session kept its own.
fn refused(net: &Net) {
    assert_eq!(net.nodes[2].saw(EventKind::PppUp), 0);
    assert_eq!(net.nodes[0].saw(EventKind::PppDown), 0);
    assert_eq!(net.nodes[0].up(), (1, 1));
    assert_eq!(lns_ups(net), [Some(a(BOB_IP))]);
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats.ppp_address_refusals.get("address_in_use"),
        Some(&1),
        "{stats:?}"
    );
    assert!(
        !stats.ppp_down.contains_key("replaced_by_new_login"),
        "{stats:?}"
    );
}

#[test]
fn another_user_with_the_same_fixed_address_is_refused_as_before() {
    let mut net = second_login(Relogin::Replace, "robert", "roberts");
    net.run_until(Duration::from_secs(10), "robert refused", |n| {
        n.nodes[2].saw(EventKind::SessionDown) == 1
    });
    refused(&net);
}

#[test]
fn relogin_refuse_refuses_the_new_login_as_before() {
    let mut net = second_login(Relogin::Refuse, "bob", "builder");
    net.run_until(Duration::from_secs(10), "bob refused at node 2", |n| {
        n.nodes[2].saw(EventKind::SessionDown) == 1
    });
    refused(&net);
}

/// With RADIUS: the Access-Accept's Framed-IP-Address is alice's fixed address; her older
/// session's Accounting-Stop says Port-Preempted.
#[test]
fn a_radius_framed_address_goes_to_the_new_login_and_the_old_stop_says_port_preempted() {
    use super::radius::{PASSWORD, accounting, lac as radius_lac, lns, server as radius_server};
    let mut framed = Attributes::new();
    framed
        .push_framed_ip_address(a(BOB_IP))
        .unwrap_or_else(|e| panic!("{e}"));
    let profile = "auth_source radius\n radius_accounting true";
    let lac_text = radius_lac(1, PASSWORD);
    let mut net = Net::unstarted(&[&lac_text, &lns("auth_chap", profile), ""], 31);
    net.nodes[1].radius_server = Some(radius_server(framed));
    let mut net = net.start();
    net.run_until(Duration::from_secs(10), "alice up at node 0", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
    let first = accounting(&net)
        .iter()
        .find(|(s, ..)| *s == acct_status_type::START)
        .map(|(_, a, _)| a.acct_session_id().unwrap_or_default().to_owned());
    net.reload(2, &lac_text);
    net.run_until(Duration::from_secs(5), "alice up at node 2", |n| {
        n.nodes[2].saw(EventKind::PppUp) == 1
    });
    assert_eq!(lns_ups(&net), [Some(a(BOB_IP)); 2]);
    assert_eq!(net.nodes[0].first_cdn().result, 3);
    let stops: Vec<(Option<String>, Option<u32>)> = accounting(&net)
        .iter()
        .filter(|(s, ..)| *s == acct_status_type::STOP)
        .map(|(_, a, _)| {
            (
                a.acct_session_id().map(str::to_owned),
                a.acct_terminate_cause(),
            )
        })
        .collect();
    assert_eq!(stops, [(first, Some(acct_terminate_cause::PORT_PREEMPTED))]);
}

/// From the config file: `relogin refuse` refuses bob's second login; reloaded without it
/// (the default, `replace`), his next attempt takes his address.
#[test]
fn relogin_comes_from_the_config_and_a_reload_applies_it() {
    let lns = |relogin: &str| {
        format!(
            "ip pool \"customers\" {{\n ranges 198.51.100.10-198.51.100.19\n}}\n\
             user \"bob\" {{\n password \"builder\"\n ip_addr {BOB_IP}\n}}\n\
             ppp profile \"default\" {{\n local_ip_addr 198.51.100.1\n \
             ip_pool_name \"customers\"\n {relogin}\n}}\n"
        )
    };
    let lac_text = format!(
        "ppp profile \"default\" {{\n user_name \"bob\"\n user_password \"builder\"\n}}\n{}",
        lac()
    );
    let mut net = Net::new(&[&lac_text, &lns("relogin refuse"), ""], 21);
    net.run_until(Duration::from_secs(10), "bob up at node 0", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net.reload(2, &lac_text);
    net.run_until(Duration::from_secs(10), "bob refused at node 2", |n| {
        n.nodes[2].saw(EventKind::SessionDown) == 1
    });
    refused(&net);
    net.reload(1, &lns(""));
    net.run_until(Duration::from_secs(120), "bob up at node 2", |n| {
        n.nodes[2].saw(EventKind::PppUp) == 1
    });
    assert_eq!(lns_ups(&net), [Some(a(BOB_IP)); 2]);
    assert_eq!(net.nodes[0].first_cdn().result, 3);
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats.ppp_down.get("replaced_by_new_login"),
        Some(&1),
        "{stats:?}"
    );
}
