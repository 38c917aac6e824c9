//! Native PPP between engines: an L2TPv2 LAC whose PPP authenticates itself and an LNS that
//! authenticates it and hands it an address from a pool, over the virtual network (PPP frames
//! pass between the engines as the data plane would carry them).

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use l2tp_ctl::{EventKind, Selector};
use ppp_proto::{AuthMethod, Credentials, Ipv4Config, LinkConfig, Password};

use super::super::Command;
use super::super::ppp::{LocalUser, PppPolicy, Users};
use super::harness::{Net, PppWire, addr};
use super::logs::recorded;
use crate::dataplane::{DataplaneRequest, PppNetwork};

pub(super) const POOL: &str = "customers";

pub(super) fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The LNS's policy: CHAP and MS-CHAPv2, users alice (a pool address) and bob (his own).
pub(super) fn server(pool: Option<&str>, echo: Option<Duration>) -> PppPolicy {
    let users = Users::new([
        (
            b"alice".to_vec(),
            LocalUser {
                password: Password::new("wonderland"),
                ip: None,
            },
        ),
        (
            b"bob".to_vec(),
            LocalUser {
                password: Password::new("builder"),
                ip: Some(a("198.51.100.200")),
            },
        ),
    ]);
    let mut ipv4 = Ipv4Config::default();
    ipv4.defaults.dns = [Some(a("192.0.2.53")), None];
    let config = LinkConfig {
        authenticate_peer: vec![AuthMethod::MsChapV2, AuthMethod::ChapMd5],
        ipv4: Some(ipv4),
        echo_interval: echo,
        ..LinkConfig::default()
    };
    PppPolicy {
        profile: "default".into(),
        server: Arc::new(config.clone()),
        client: Arc::new(config),
        mru: None,
        local_ip: Some(a("198.51.100.1")),
        peer_ip: None,
        pool: pool.map(str::to_owned),
        users: Arc::new(users),
        radius: Default::default(),
        proxy: Default::default(),
        relogin: l2tp_config::Relogin::Replace,
    }
}

/// The LAC's policy: authenticates as `user` with `password`.
pub(super) fn client(user: &str, password: &str) -> PppPolicy {
    let config = LinkConfig {
        credentials: Some(Credentials {
            user: user.as_bytes().to_vec(),
            password: Password::new(password),
        }),
        ipv4: Some(Ipv4Config {
            request_dns: true,
            ..Ipv4Config::default()
        }),
        ..LinkConfig::default()
    };
    PppPolicy {
        profile: "default".into(),
        server: Arc::new(config.clone()),
        client: Arc::new(config),
        mru: None,
        local_ip: None,
        peer_ip: None,
        pool: None,
        users: Arc::new(Users::default()),
        radius: Default::default(),
        proxy: Default::default(),
        relogin: l2tp_config::Relogin::Replace,
    }
}

/// A LAC config with `n` PPP sessions in one L2TPv2 tunnel to node 1.
fn lac(n: usize) -> String {
    let mut text = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n",
        addr(1).ip()
    );
    for i in 0..n {
        text.push_str(&format!(
            "session \"s{i}\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n"
        ));
    }
    text
}

/// A LAC (node 0) with `clients` (one per session) and an LNS (node 1) with `server` and a
/// pool of `pool` (first, last).
pub(super) fn net(clients: &[PppPolicy], server: PppPolicy, pool: (&str, &str)) -> Net {
    unstarted(clients, server, pool).start()
}

/// As [`net`], the configs not applied yet.
pub(super) fn unstarted(clients: &[PppPolicy], server: PppPolicy, pool: (&str, &str)) -> Net {
    let lac_text = lac(clients.len());
    let mut net = Net::unstarted(&[&lac_text, ""], 21);
    let ranges = [(a(pool.0), a(pool.1))];
    net.nodes[1]
        .engine
        .configure_ppp(vec![server], &[(POOL, &ranges[..])]);
    // Every session of the LAC follows the one "default" policy: the first client's.
    let mut it = clients.iter();
    if let Some(c) = it.next() {
        let c = PppPolicy {
            profile: c.profile.clone(),
            server: Arc::clone(&c.server),
            client: Arc::clone(&c.client),
            mru: c.mru,
            local_ip: c.local_ip,
            peer_ip: c.peer_ip,
            pool: c.pool.clone(),
            users: Arc::clone(&c.users),
            radius: c.radius,
            proxy: c.proxy,
            relogin: c.relogin,
        };
        net.nodes[0].engine.configure_ppp(vec![c], &[]);
    }
    net
}

/// The `PppUp` networks node `i` asked its data plane for.
pub(super) fn ppp_ups(net: &Net, i: usize) -> Vec<PppNetwork> {
    net.nodes[i]
        .requests
        .iter()
        .filter_map(|r| match r {
            DataplaneRequest::PppUp { net, .. } => Some(*net),
            _ => None,
        })
        .collect()
}

/// The IPv4 addresses node `i` gave its peers, sorted.
fn peer_addresses_given(net: &Net, i: usize) -> Vec<Ipv4Addr> {
    let mut given: Vec<Ipv4Addr> = ppp_ups(net, i)
        .iter()
        .filter_map(|n| n.ipv4.map(|(_, peer)| peer))
        .collect();
    given.sort();
    given
}

/// Runs until the server (node 1) has one link up and the client (node 0) a session refused.
fn run_until_one_up_one_refused(net: &mut Net) {
    net.run_until(Duration::from_secs(20), "one up, one refused", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1 && n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
}

/// A LAC whose client `alice` got an address from the LNS's pool, PPP up at both ends.
fn alice_up() -> Net {
    let mut net = net(
        &[client("alice", "wonderland")],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net
}

#[test]
fn a_lac_authenticates_and_gets_an_address_from_the_lnss_pool() {
    let net = alice_up();
    // The LNS gave the first pool address and its own; the LAC took them.
    let lns = ppp_ups(&net, 1);
    assert_eq!(lns[0].ipv4, Some((a("198.51.100.1"), a("198.51.100.10"))));
    let lac = ppp_ups(&net, 0);
    assert_eq!(lac[0].ipv4, Some((a("198.51.100.10"), a("198.51.100.1"))));
    // Who is online, as show and the watchers see it.
    let server = &net.nodes[1];
    let rows = server
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("sessions: {e:?}"));
    assert_eq!(rows[0].ppp_user.as_deref(), Some("alice"));
    assert_eq!(rows[0].ppp_ipv4, Some(a("198.51.100.10")));
    let d = net.first_session(1);
    let ppp = d.ppp.unwrap_or_else(|| panic!("ppp detail"));
    assert_eq!(
        (ppp.role.as_str(), ppp.phase.as_str(), ppp.auth.as_deref()),
        ("server", "network", Some("mschapv2"))
    );
    assert_eq!(ppp.dns, vec![a("192.0.2.53")]);
    let up = server.first_ppp(EventKind::PppUp);
    assert_eq!(up.user.as_deref(), Some("alice"));
    assert_eq!(up.peer_ipv4, Some(a("198.51.100.10")));
    // The script of the event gets the user and the address.
    let script = server
        .scripts
        .iter()
        .find(|s| s.kind == EventKind::PppUp)
        .unwrap_or_else(|| panic!("ppp-up script"));
    assert_eq!(script.file_name(), "ppp-up");
    assert_eq!(script.var("PPP_USER"), Some("alice"));
    assert_eq!(script.var("PPP_IPADDR"), Some("198.51.100.10"));
    assert_eq!(script.var("PPP_AUTH_METHOD"), Some("mschapv2"));
    let stats = server.engine.stats();
    assert_eq!(stats.ppp_up, 1);
    // The LAC's view: the client role, the DNS server it was given.
    let d = net.first_session(0);
    let ppp = d.ppp.unwrap_or_else(|| panic!("ppp detail"));
    assert_eq!(ppp.role, "client");
    assert_eq!(ppp.dns, vec![a("192.0.2.53")]);
}

#[test]
fn a_wrong_password_ends_the_session_with_cdn_2_and_is_counted() {
    let mut net = net(
        &[client("alice", "looking-glass")],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "session down", |n| {
        n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
    let down = net.nodes[0].first_cdn();
    assert_eq!(down.result, 2, "{down:?}");
    assert_eq!(down.message.as_deref(), Some("PPP authentication failed"));
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_auth_failures.get("wrong_credentials"), Some(&1));
    assert_eq!(stats.ppp_up, 0);
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0);
    // The password never reaches an event, a script or a log-bound detail.
    let all = format!("{:?}{:?}", net.nodes[1].events, net.nodes[1].scripts);
    assert!(!all.contains("looking-glass") && !all.contains("wonderland"));
}

#[test]
fn an_exhausted_pool_refuses_the_next_user_and_never_gives_an_address_twice() {
    let (net, lines) = recorded(|| {
        let mut net = net(
            &[
                client("alice", "wonderland"),
                client("alice", "wonderland"),
                client("alice", "wonderland"),
            ],
            server(Some(POOL), None),
            ("198.51.100.10", "198.51.100.11"),
        );
        net.run_until(Duration::from_secs(20), "two up, one refused", |n| {
            n.nodes[1].saw(EventKind::PppUp) == 2 && n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        net
    });
    // The log says why the session ended as its CDN does: for want of an address, not for a
    // failed authentication.
    let said = |what: &str| lines.iter().any(|(_, l)| l.contains(what));
    assert!(
        said("PPP down (user \"alice\"): no address available")
            && said("result 4 error 0: PPP: no address available")
            && !said("failed authentication"),
        "{lines:?}"
    );
    assert_eq!(
        peer_addresses_given(&net, 1),
        vec![a("198.51.100.10"), a("198.51.100.11")]
    );
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_address_refusals.get("pool_exhausted"), Some(&1));
    let refused = net.nodes[0].first_cdn();
    assert_eq!(refused.result, 4, "{refused:?}");
}

#[test]
fn a_pool_never_gives_an_offline_users_fixed_address_to_another_peer() {
    // Bob's own address, 198.51.100.200, lies in the pool; bob is not online.
    let mut net = net(
        &[client("alice", "wonderland"), client("alice", "wonderland")],
        server(Some(POOL), None),
        ("198.51.100.199", "198.51.100.200"),
    );
    run_until_one_up_one_refused(&mut net);
    assert_eq!(peer_addresses_given(&net, 1), vec![a("198.51.100.199")]);
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_address_refusals.get("pool_exhausted"), Some(&1));
    // `show ip pools` counts the address in use, not the one kept for bob.
    assert_eq!(net.nodes[1].engine.pool_in_use(POOL), 1);
}

#[test]
fn an_address_a_peer_chose_is_held_so_that_no_other_peer_gets_it() {
    // No pool: each peer keeps the address it asks for; both ask for the same.
    let mut asks = client("alice", "wonderland");
    let mut c = (*asks.client).clone();
    if let Some(v4) = c.ipv4.as_mut() {
        v4.defaults.local = Some(a("198.51.100.77"));
    }
    asks.client = Arc::new(c);
    let mut net = net(
        &[asks, client("alice", "wonderland")],
        server(None, None),
        ("198.51.100.10", "198.51.100.19"),
    );
    run_until_one_up_one_refused(&mut net);
    assert_eq!(peer_addresses_given(&net, 1), vec![a("198.51.100.77")]);
    let refused = net.nodes[0].first_cdn();
    assert_eq!(refused.result, 4, "{refused:?}");
    assert_eq!(refused.message.as_deref(), Some("no address available"));
    let stats = net.nodes[1].engine.stats();
    assert!(
        stats.ppp_address_refusals.get("address_in_use") >= Some(&1),
        "{:?}",
        stats.ppp_address_refusals
    );
    // `l2tpctl disconnect address` finds the session that holds it.
    let who = l2tp_ctl::PppSelector::Address(a("198.51.100.77"));
    let r = net.command(1, Command::Disconnect(who));
    assert!(r.is_ok(), "{r:?}");
}

/// A peer that asks for the server's own address on the link (no pool to give another) is
/// refused as for an address in use, never given it.
#[test]
fn a_peer_asking_for_the_servers_own_address_is_refused() {
    let mut asks = client("alice", "wonderland");
    let mut c = (*asks.client).clone();
    if let Some(v4) = c.ipv4.as_mut() {
        v4.defaults.local = Some(a("198.51.100.1"));
    }
    asks.client = Arc::new(c);
    let mut net = net(
        &[asks],
        server(None, None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(20), "refused", |n| {
        n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0);
    let refused = net.nodes[0].first_cdn();
    assert_eq!(refused.result, 4, "{refused:?}");
    let stats = net.nodes[1].engine.stats();
    assert_eq!(
        stats.ppp_address_refusals.get("address_in_use"),
        Some(&1),
        "{:?}",
        stats.ppp_address_refusals
    );
}

#[test]
fn a_user_with_an_address_of_their_own_gets_it() {
    let mut net = net(
        &[client("bob", "builder")],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    assert_eq!(
        ppp_ups(&net, 1)[0].ipv4,
        Some((a("198.51.100.1"), a("198.51.100.200")))
    );
}

#[test]
fn a_peer_that_stops_answering_echoes_is_cut_off_alone() {
    let mut net = net(
        &[client("alice", "wonderland"), client("alice", "wonderland")],
        server(Some(POOL), Some(Duration::from_secs(10))),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    // From now on the LAC's first session sends nothing: its peer's echoes go unanswered.
    let rows = net.nodes[0]
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("rows: {e:?}"));
    let (tid, sid) = (rows[0].tid, rows[0].sid);
    let other = rows[1].sid;
    net.ppp_wire = Some(PppWire(Box::new(move |from, ids, _frame: &mut Vec<u8>| {
        !(from == 0 && ids == (tid, sid))
    })));
    net.run_until(Duration::from_secs(120), "one session cut off", |n| {
        n.nodes[1].saw(EventKind::PppDown) >= 1
    });
    // Only that one: the other session stays up all along (the LAC places the first call
    // again, and that one comes up anew).
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    let rows = net.nodes[0]
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("rows: {e:?}"));
    assert!(
        rows.iter()
            .any(|r| r.sid == other && r.state == l2tp_ctl::State::Up)
    );
    assert_eq!(net.nodes[0].saw(EventKind::PppDown), 1);
    let stats = net.nodes[1].engine.stats();
    assert!(stats.ppp_down.contains_key("echo_timeout"), "{stats:?}");
    // The LAC heard why: CDN result 1.
    let down = net.nodes[0].first_cdn();
    assert_eq!(down.result, 1, "{down:?} {:#?}", net.nodes[0].events);
}

#[test]
fn deleting_a_session_ends_its_ppp_and_gives_its_address_back() {
    let mut net = net(
        &[client("alice", "wonderland")],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.10"),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("s0".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_until(Duration::from_secs(30), "down and up again", |n| {
        n.nodes[1].saw(EventKind::PppDown) == 1
    });
    // The LAC's PPP says goodbye first (RFC 1661 §3.7), its CDN follows the LNS's
    // Terminate-Ack at once; the LNS sees its peer end the link.
    assert_goodbyes(&net, 0, &["lcp:terminate-request", "l2tp:CDN"]);
    assert_goodbyes(&net, 1, &["lcp:terminate-ack"]);
    let at = |i: usize, what: &str| {
        net.nodes[i]
            .goodbyes
            .iter()
            .find(|(_, g)| g.starts_with(what))
            .map(|(t, _)| *t)
    };
    assert_eq!(at(0, "lcp:terminate-request"), at(0, "l2tp:CDN"));
    let down = net.nodes[1].first_ppp(EventKind::PppDown);
    assert_eq!(down.reason.as_deref(), Some("peer_terminated"));
    assert_eq!(down.user.as_deref(), Some("alice"));
    let ours = net.nodes[0].first_ppp(EventKind::PppDown);
    assert_eq!(ours.reason.as_deref(), Some("closed"));
    assert_eq!(net.nodes[0].first_cdn().result, 3);
    // The one address is free again: a new session gets it.
    let r = net.command(
        0,
        Command::CreateSession {
            tunnel: Selector::Name("t".into()),
            name: "again".into(),
            params: l2tp_ctl::Params::default(),
        },
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_until(Duration::from_secs(10), "PPP up again", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    assert_eq!(
        ppp_ups(&net, 1).last().and_then(|n| n.ipv4),
        Some((a("198.51.100.1"), a("198.51.100.10")))
    );
}

#[test]
fn l2tpctl_disconnects_by_user_and_by_address() {
    let mut net = net(
        &[client("alice", "wonderland"), client("alice", "wonderland")],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    // By address: only the session holding it.
    let who = l2tp_ctl::PppSelector::Address(a("198.51.100.11"));
    let r = net.command(1, Command::Disconnect(who));
    assert!(r.is_ok(), "{r:?}");
    net.run_until(Duration::from_secs(30), "one down", |n| {
        n.nodes[0].saw(EventKind::SessionDown) == 1
    });
    let down = net.nodes[0].first_cdn();
    assert_eq!(down.result, 3, "{down:?}");
    let gone = net.nodes[1].first_ppp(EventKind::PppDown);
    assert_eq!(gone.peer_ipv4, Some(a("198.51.100.11")));
    assert_eq!(gone.reason.as_deref(), Some("closed"));
    // By user: every session of alice (the LAC has placed the first call again meanwhile).
    net.run_until(Duration::from_secs(30), "up again", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 3
    });
    let r = net.command(
        1,
        Command::Disconnect(l2tp_ctl::PppSelector::User("alice".into())),
    );
    assert!(
        matches!(&r, Ok(l2tp_ctl::Response::Done(t)) if t.starts_with("2 session(s)")),
        "{r:?}"
    );
    // Nobody of that name, no such address: a clear error.
    let r = net.command(
        1,
        Command::Disconnect(l2tp_ctl::PppSelector::User("mallory".into())),
    );
    assert!(
        matches!(&r, Err(e) if e.kind == l2tp_ctl::ErrorKind::NotFound),
        "{r:?}"
    );
    let r = net.command(
        1,
        Command::Disconnect(l2tp_ctl::PppSelector::Address(a("203.0.113.9"))),
    );
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn a_client_lets_the_server_speak_first() {
    use std::sync::Mutex;
    let mut net = unstarted(
        &[client("alice", "wonderland")],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    let order: Arc<Mutex<Vec<usize>>> = Arc::default();
    let log = Arc::clone(&order);
    net.ppp_wire = Some(PppWire(Box::new(move |from, _, _: &mut Vec<u8>| {
        log.lock().map(|mut v| v.push(from)).is_ok()
    })));
    let mut net = net.start();
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1
    });
    let order = order.lock().map(|v| v.clone()).unwrap_or_default();
    // The LAC's session is up before the LNS's (its ICCN is on the way): it waits for the
    // LNS's Configure-Request rather than send one the LNS would drop.
    assert_eq!(order.first(), Some(&1), "{order:?}");
}

/// The config's blocks, as a user writes them: the LNS's ppp profile, pool and users; the
/// LAC's credentials; a reload that changes the pool applies to the next user only.
#[test]
fn ppp_profiles_pools_and_users_come_from_the_config() {
    let lns = "ppp profile \"default\" {\n    auth_pap true\n    local_ip_addr 198.51.100.1\n    \
               ip_pool_name \"customers\"\n    dns_addr_1 192.0.2.53\n}\n\
               ip pool \"customers\" {\n    ranges 198.51.100.10-198.51.100.11\n}\n\
               user \"carol\" {\n    password \"s3cret\"\n}\n";
    let lac = format!(
        "ppp profile \"default\" {{\n    user_name \"carol\"\n    user_password \"s3cret\"\n}}\n{}",
        lac(1)
    );
    let mut net = Net::new(&[&lac, lns], 5);
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    // IPCP and IPv6CP (on by default) both open.
    let up = ppp_ups(&net, 1);
    let last = up.last().copied().unwrap_or_default();
    assert_eq!(last.ipv4, Some((a("198.51.100.1"), a("198.51.100.10"))));
    assert!(last.ipv6.is_some(), "{last:?}");
    let lac_up = ppp_ups(&net, 0).last().copied().unwrap_or_default();
    assert_eq!(lac_up.ipv4, Some((a("198.51.100.10"), a("198.51.100.1"))));
    // A reload moves the pool: the user online keeps the address; the next one gets the new.
    let moved = lns.replace("198.51.100.10-198.51.100.11", "203.0.113.20-203.0.113.29");
    net.reload(1, &moved);
    let r = net.command(
        0,
        Command::CreateSession {
            tunnel: Selector::Name("t".into()),
            name: "second".into(),
            params: l2tp_ctl::Params::default(),
        },
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_until(Duration::from_secs(10), "second up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    let mut peers: Vec<Ipv4Addr> = ppp_ups(&net, 1)
        .iter()
        .filter_map(|n| n.ipv4.map(|v| v.1))
        .collect();
    peers.dedup();
    assert_eq!(peers, vec![a("198.51.100.10"), a("203.0.113.20")]);
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    assert_eq!(
        rows.iter()
            .filter(|r| r.ppp_user.as_deref() == Some("carol"))
            .count(),
        2
    );
}

/// RFC 2661 §6.14: when the peer's LCP asks for an ACCM, the LNS tells the LAC in a
/// Set-Link-Info, which the LAC keeps and shows.
#[test]
fn an_lns_sends_the_negotiated_accm_in_a_set_link_info() {
    let c = client("alice", "wonderland");
    let mut cfg = (*c.client).clone();
    cfg.lcp.accm = Some(0x000a_0000);
    let c = PppPolicy {
        client: Arc::new(cfg),
        ..c
    };
    let mut net = net(
        &[c],
        server(Some(POOL), None),
        ("198.51.100.10", "198.51.100.19"),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1
    });
    let d = net.first_session(0);
    let accm = d.ppp.and_then(|p| p.sli_accm);
    assert_eq!(accm.as_deref(), Some("send 0x000a0000 receive 0xffffffff"));
}

#[test]
fn ipcp_is_carried_before_the_configure_ack_that_opens_it_leaves() {
    let net = alice_up();
    // One end opens IPCP when its Configure-Ack answers the last Configure-Request (RFC 1661
    // §4.1, event RCR+ in state Ack-Rcvd): the peer may send IPv4 as soon as that Ack arrives,
    // so the data plane must carry IPv4 before the Ack leaves. The other end opens when the
    // peer's Ack arrives, after its own went out.
    let opened_by_sending = (0..2).filter(|&i| {
        let order = &net.nodes[i].order;
        let up = order
            .iter()
            .position(|o| o.starts_with("dataplane:ppp_up ipv4"));
        let last_ack = order.iter().rposition(|o| o.starts_with("ppp:ipcp-ack"));
        assert!(up.is_some() && last_ack.is_some(), "{order:?}");
        up < last_ack
    });
    assert_eq!(
        opened_by_sending.count(),
        1,
        "{:?}",
        [&net.nodes[0].order, &net.nodes[1].order]
    );
}

/// Node `i`'s goodbyes (`Node::goodbyes`), without their ids and times, are `expected`.
pub(super) fn assert_goodbyes(net: &Net, i: usize, expected: &[&str]) {
    let got: Vec<&str> = net.nodes[i]
        .goodbyes
        .iter()
        .map(|(_, g)| g.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(got, expected, "{:?}", net.nodes[i].goodbyes);
}
