//! Odd and hostile values in Access-Accepts: a RADIUS server's mistake in one user's reply
//! breaks that login at most, never another session or the host. An address no peer may
//! have refuses the login (logged, counted); a route that would take other traffic, a
//! Framed-MTU below RFC 2865's range and a DNS server no host has are left out, with a
//! warning that names the user and the attribute.

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use l2tp_ctl::EventKind;
use radius_proto::dict::{AttrType, ms};
use radius_proto::{Attributes, Ipv6Prefix};

use super::harness::{Net, RadiusServer};
use super::logs::{Line, recorded};
use super::radius::{PASSWORD, lac, lns, net, server};
use crate::dataplane::DataplaneRequest;

type Route = (IpAddr, u8);

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn route(s: &str, len: u8) -> Route {
    (s.parse().unwrap_or_else(|e| panic!("{s}: {e}")), len)
}

fn prefix(s: &str, len: u8) -> Ipv6Prefix {
    Ipv6Prefix::new(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")), len)
}

/// An Access-Accept's attributes, built by `f`.
fn accept(f: impl FnOnce(&mut Attributes) -> Result<(), radius_proto::EncodeError>) -> Attributes {
    let mut a = Attributes::new();
    f(&mut a).unwrap_or_else(|e| panic!("{e}"));
    a
}

/// A server that accepts alice's n-th Access-Request with `accepts[n]` (the last for any
/// later one).
fn per_login(accepts: Vec<Attributes>) -> RadiusServer {
    let mut servers: Vec<RadiusServer> = accepts.into_iter().map(server).collect();
    let n = Rc::new(Cell::new(0usize));
    RadiusServer(Box::new(move |service, attrs| {
        let i = if service == radius_proto::client::Service::Access {
            n.replace(n.get() + 1)
        } else {
            0
        };
        let last = servers.len() - 1;
        (servers[i.min(last)].0)(service, attrs)
    }))
}

/// `sessions` sessions of alice at an LNS whose server answers with `accepts`, run until
/// every one is up or refused; with the log lines.
fn logins(sessions: usize, accepts: Vec<Attributes>) -> (Net, Vec<Line>) {
    recorded(|| {
        let mut net = net(
            &lns("auth_pap", "auth_source radius"),
            &lac(sessions, PASSWORD),
            Some(per_login(accepts)),
        );
        net.run_until(
            Duration::from_secs(30),
            "every session up or refused",
            |n| {
                n.nodes[1].saw(EventKind::PppUp) + n.nodes[0].saw(EventKind::SessionDown)
                    == sessions
            },
        );
        net.run_for(Duration::from_secs(2));
        net
    })
}

/// The routes node 1 gave its sessions, each session's last.
fn routes(net: &Net) -> Vec<Vec<Route>> {
    let mut by_session: Vec<((u32, u32), Vec<Route>)> = Vec::new();
    for r in &net.nodes[1].requests {
        if let DataplaneRequest::PppRoutes { tid, sid, routes } = r {
            by_session.retain(|(k, _)| *k != (*tid, *sid));
            by_session.push(((*tid, *sid), routes.clone()));
        }
    }
    by_session.into_iter().map(|(_, r)| r).collect()
}

/// One session of alice at an LNS of profile settings `extra` whose server accepts with
/// `one`, run until it is up.
fn alice_up(extra: &str, one: Attributes) -> Net {
    let mut net = net(
        &lns("auth_pap", extra),
        &lac(1, PASSWORD),
        Some(server(one)),
    );
    net.run_until(Duration::from_secs(20), "up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net
}

/// Node 1's `radius_values_ignored` counts, those above 0.
fn ignored(net: &Net) -> Vec<(String, u64)> {
    let stats = net.nodes[1].engine.stats();
    stats.radius_values_ignored.into_iter().collect()
}

/// `(kind, n)` pairs as [`ignored`] gives them (sorted by kind).
fn counted(kinds: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<_> = kinds.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    v.sort();
    v
}

/// The warnings that say each of `all`.
fn warnings<'a>(lines: &'a [Line], all: &[&str]) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|(level, l)| *level == tracing::Level::WARN && all.iter().all(|s| l.contains(s)))
        .map(|(_, l)| l.as_str())
        .collect()
}

/// The warnings that name alice and `attr`.
fn warned<'a>(lines: &'a [Line], attr: &str) -> Vec<&'a str> {
    warnings(lines, &["\"alice\"", attr])
}

/// A Framed-IP-Netmask of 0.0.0.0 would route every destination to one session (and, as a
/// route replaces one to the same prefix, take the host's default route); a prefix another
/// session is routed, or one that holds it, would take that session's traffic. They are
/// left out, each with a warning; both sessions come up with what is theirs.
#[test]
fn routes_that_would_take_other_traffic_are_left_out() {
    let first = accept(|a| {
        a.push_framed_ipv6_prefix(prefix("2001:db8:10::", 64))?;
        a.push_delegated_ipv6_prefix(prefix("2001:db8:100::", 56))
            .map(drop)
    });
    let second = accept(|a| {
        a.push_framed_ip_netmask(Ipv4Addr::UNSPECIFIED)?;
        a.push_framed_ipv6_prefix(prefix("2001:db8:10::", 64))?;
        a.push_delegated_ipv6_prefix(prefix("2001:db8::", 32))
            .map(drop)
    });
    let (net, lines) = logins(2, vec![first, second]);
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 2);
    assert_eq!(
        routes(&net),
        [vec![
            route("2001:db8:10::", 64),
            route("2001:db8:100::", 56)
        ]],
        "only the first session's routes"
    );
    for attr in [
        "Framed-IP-Netmask",
        "Framed-IPv6-Prefix",
        "Delegated-IPv6-Prefix",
    ] {
        assert_eq!(warned(&lines, attr).len(), 1, "{attr}: {lines:?}");
    }
    assert!(!lines.iter().any(|(_, l)| l.contains("s3cret")));
    assert_eq!(
        ignored(&net),
        counted(&[("route_default", 1), ("route_taken", 2)])
    );
}

/// Prefixes no host may be routed (everything, link-local, multicast, loopback), a mask that
/// is no prefix, and a subnet that holds this end's address or another session's are left
/// out with a warning; the login goes on.
#[test]
fn routes_no_session_may_have_are_left_out() {
    let cases = [
        (
            [("route_default", 1), ("route_invalid", 2)],
            prefix("::", 0),
            prefix("fe80::", 64),
            v4("255.0.255.0"),
            None,
        ),
        (
            [("route_invalid", 2), ("route_taken", 1)],
            prefix("ff02::", 16),
            prefix("::1", 128),
            v4("255.255.255.252"),
            Some(v4("198.51.100.2")),
        ),
    ];
    for (kinds, framed, delegated, mask, address) in cases {
        let one = accept(|a| {
            a.push_framed_ipv6_prefix(framed)?;
            a.push_delegated_ipv6_prefix(delegated)?;
            a.push_framed_ip_netmask(mask)?;
            if let Some(ip) = address {
                a.push_framed_ip_address(ip)?;
            }
            Ok(())
        });
        let (net, lines) = logins(1, vec![one]);
        assert_eq!(net.nodes[1].saw(EventKind::PppUp), 1, "{framed:?}");
        assert_eq!(routes(&net), Vec::<Vec<Route>>::new(), "{framed:?}");
        for attr in [
            "Framed-IP-Netmask",
            "Framed-IPv6-Prefix",
            "Delegated-IPv6-Prefix",
        ] {
            assert_eq!(warned(&lines, attr).len(), 1, "{attr}: {lines:?}");
        }
        assert_eq!(ignored(&net), counted(&kinds), "{framed:?}");
    }
    // A prefix longer than 128 bits, or than the octets given, is malformed.
    let malformed = accept(|a| {
        a.push(AttrType::FRAMED_IPV6_PREFIX, &[0, 129, 0x20, 1, 0xd, 0xb8])?;
        a.push(AttrType::DELEGATED_IPV6_PREFIX, &[0, 64, 0x20, 1])
            .map(drop)
    });
    let (net, lines) = logins(1, vec![malformed]);
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 1);
    for attr in ["Framed-IPv6-Prefix", "Delegated-IPv6-Prefix"] {
        let w = warned(&lines, attr);
        assert!(
            w.len() == 1 && w[0].contains("malformed"),
            "{attr}: {lines:?}"
        );
    }
    assert_eq!(ignored(&net), counted(&[("prefix_malformed", 2)]));
    // The second session's /29 holds the first one's pool address.
    let second = accept(|a| {
        a.push_framed_ip_address(v4("198.51.100.14"))?;
        a.push_framed_ip_netmask(v4("255.255.255.248")).map(drop)
    });
    let (net, lines) = logins(2, vec![Attributes::new(), second]);
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 2);
    assert_eq!(routes(&net), Vec::<Vec<Route>>::new());
    let w = warned(&lines, "Framed-IP-Netmask");
    assert!(w.len() == 1 && w[0].contains("198.51.100.10"), "{lines:?}");
    assert_eq!(ignored(&net), counted(&[("route_taken", 1)]));
}

/// A Framed-IP-Address no peer may have, this end's own (the link's or the tunnel's), or a
/// DNS server the peer is given, would take that address's traffic from the host and every
/// other session: the login is refused (CDN result 4, as for an address in use), logged and
/// counted as `address_unusable`.
#[test]
fn a_framed_ip_address_no_peer_may_have_refuses_the_login() {
    let addresses = [
        "0.0.0.0",
        "127.0.0.1",
        "224.0.0.5",
        "240.0.0.1",
        "198.51.100.1",
        "192.0.2.2",
        "192.0.2.53",
        "203.0.113.53",
    ];
    for s in addresses {
        let ip = v4(s);
        let one = accept(|a| {
            a.push_framed_ip_address(ip)?;
            a.push_vendor(ms::PRIMARY_DNS_SERVER, &[203, 0, 113, 53])
                .map(drop)
        });
        let (net, lines) = logins(1, vec![one]);
        assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0, "{s}");
        assert_eq!(net.nodes[0].first_cdn().result, 4, "{s}");
        // Each login (the LAC calls again) is refused, logged and counted.
        let refused = warnings(&lines, &["\"alice\" refused", s]).len();
        let stats = net.nodes[1].engine.stats();
        let counted = stats.ppp_address_refusals.get("address_unusable").copied();
        assert!(
            refused >= 1 && counted == Some(refused as u64),
            "{s}: {counted:?} {lines:?}"
        );
    }
}

/// A Framed-MTU below 68 (RFC 2865's 64 included: IPv4 needs 68, RFC 791), a DNS or NBNS
/// server of 0.0.0.0 or 255.255.255.255 and a Framed-Interface-Id of zero are left out with
/// a warning and counted: the interface keeps the MTU it had, the peer gets the profile's DNS
/// server and an interface identifier of IPv6CP's choosing.
#[test]
fn a_framed_mtu_or_dns_server_out_of_range_is_left_out() {
    for (mtu, dns) in [(1, [0u8, 0, 0, 0]), (67, [255, 255, 255, 255])] {
        let one = accept(|a| {
            a.push_framed_mtu(mtu)?;
            a.push_framed_interface_id([0; 8])?;
            a.push_vendor(ms::PRIMARY_NBNS_SERVER, &dns)?;
            a.push_vendor(ms::PRIMARY_DNS_SERVER, &dns).map(drop)
        });
        let (net, lines) = logins(1, vec![one]);
        assert_eq!(net.nodes[1].saw(EventKind::PppUp), 1);
        let d = net.first_session(1);
        let ppp = d.ppp.unwrap_or_else(|| panic!("ppp"));
        assert_eq!(ppp.dns, [v4("192.0.2.53")], "the profile's");
        let radius = ppp.radius.unwrap_or_else(|| panic!("radius"));
        assert_eq!(radius.framed_mtu, None, "{mtu}");
        let ups = super::ppp::ppp_ups(&net, 1);
        assert!(ups.iter().all(|u| u.mtu >= 68), "{ups:?}");
        for attr in [
            "Framed-MTU",
            "Framed-Interface-Id",
            "MS-Primary-NBNS-Server",
            "MS-Primary-DNS-Server",
        ] {
            assert_eq!(warned(&lines, attr).len(), 1, "{attr}: {lines:?}");
        }
        let kinds = [
            ("dns_server", 1),
            ("interface_id", 1),
            ("mtu", 1),
            ("nbns_server", 1),
        ];
        assert_eq!(ignored(&net), counted(&kinds), "{mtu}");
    }
    // 68 is taken.
    let (net, _) = logins(1, vec![accept(|a| a.push_framed_mtu(68).map(drop))]);
    let d = net.first_session(1);
    let radius = d.ppp.and_then(|p| p.radius).map(|r| r.framed_mtu);
    assert_eq!(radius, Some(Some(68)));
    assert_eq!(ignored(&net), counted(&[]));
}

/// A prefix is another session's only while that session lasts: once it ends, the next login
/// the server gives it is routed it.
#[test]
fn a_prefix_is_free_again_when_its_session_ends() {
    let p = accept(|a| {
        a.push_framed_ipv6_prefix(prefix("2001:db8:10::", 64))
            .map(drop)
    });
    let mut net = alice_up("auth_source radius", p);
    let r = net.command(
        1,
        crate::engine::Command::Disconnect(l2tp_ctl::PppSelector::User("alice".into())),
    );
    assert!(matches!(r, Ok(l2tp_ctl::Response::Done(_))), "{r:?}");
    net.run_until(Duration::from_secs(300), "up again", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    let p = vec![route("2001:db8:10::", 64)];
    assert_eq!(
        routes(&net),
        [p.clone(), p],
        "both sessions, one after the other"
    );
}

/// A CoA-Request's Acct-Interim-Interval of 0 gives the session the profile's interval
/// back, as 0 in an Access-Accept does (`show session` says so too): its Interim-Updates go
/// on at that interval rather than stop. The other session keeps the Access-Accept's.
#[test]
fn a_coa_interim_interval_of_zero_is_the_profiles() {
    use radius_proto::dict::values::acct_status_type::INTERIM_UPDATE;
    use radius_proto::dynauth::{Answer, DynAuthKind};

    use super::radius::{accounting, dynauth};

    let mut net = net(
        &lns(
            "auth_pap",
            "auth_source radius\n radius_accounting true\n acct_interim_interval 60",
        ),
        &lac(2, PASSWORD),
        Some(server(accept(|a| {
            a.push_acct_interim_interval(30).map(drop)
        }))),
    );
    net.run_until(Duration::from_secs(20), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    let ids: Vec<String> = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default()
        .iter()
        .filter_map(|row| {
            let sel = |id| l2tp_ctl::Selector::Id(id);
            let d = net.nodes[1]
                .engine
                .session(net.now, &sel(row.tid), &sel(row.sid))
                .ok()?;
            Some(d.ppp?.radius?.acct_session_id)
        })
        .collect();
    assert_eq!(ids.len(), 2);
    let coa = accept(|a| {
        a.push_acct_session_id(&ids[0])?;
        a.push_acct_interim_interval(0).map(drop)
    });
    assert_eq!(dynauth(&mut net, DynAuthKind::Coa, &coa), Answer::Ack(None));
    let interims = |net: &Net, id: &str| {
        accounting(net)
            .iter()
            .filter(|(s, a, _)| *s == INTERIM_UPDATE && a.acct_session_id() == Some(id))
            .count()
    };
    let before = [interims(&net, &ids[0]), interims(&net, &ids[1])];
    net.run_for(Duration::from_secs(185));
    let after = [interims(&net, &ids[0]), interims(&net, &ids[1])];
    assert_eq!(after[0] - before[0], 3, "every 60 s: {before:?} {after:?}");
    assert!(
        after[1] - before[1] >= 6,
        "every 30 s: {before:?} {after:?}"
    );
    let d = net.first_session(1);
    let r = d.ppp.and_then(|p| p.radius).map(|r| r.interim_interval_s);
    assert!(matches!(r, Some(Some(30 | 60))), "{r:?}");
}

/// Class attributes, as many as an Access-Accept holds (15 of 253 octets), are more than an
/// Accounting-Request can carry with the session's attributes: those that fit go, in order,
/// and the record is sent (rather than lost whole at the 4096-octet limit), with a warning.
#[test]
fn class_attributes_that_do_not_fit_in_accounting_are_left_out_not_the_record() {
    use radius_proto::dict::values::acct_status_type::START;

    use super::radius::accounting;

    let classes: Vec<Vec<u8>> = (0..15u8).map(|i| vec![b'a' + i; 253]).collect();
    let given = classes.clone();
    let one = accept(move |a| {
        for c in &given {
            a.push_class(c)?;
        }
        Ok(())
    });
    let (net, lines) = recorded(|| alice_up("auth_source radius\n radius_accounting true", one));
    let acct = accounting(&net);
    let (_, start, _) = acct
        .iter()
        .find(|(s, ..)| *s == START)
        .unwrap_or_else(|| panic!("no Start: {acct:?}"));
    let octets: usize = 20 + start.iter().map(|a| 2 + a.value.len()).sum::<usize>();
    // The shell adds some 60 octets of counters and timestamps.
    assert!(octets + 64 <= 4096, "{octets} octets");
    let sent: Vec<&[u8]> = start.classes().collect();
    assert!(
        !sent.is_empty() && sent.len() < classes.len(),
        "{}",
        sent.len()
    );
    assert!(sent.iter().zip(&classes).all(|(s, c)| *s == c.as_slice()));
    let w = warned(&lines, "Class");
    assert_eq!(w.len(), 1, "{lines:?}");
    let left_out = (classes.len() - sent.len()) as u64;
    assert_eq!(ignored(&net), counted(&[("class_no_room", left_out)]));
}

/// Framed-IP-Address 255.255.255.255 lets the peer pick its address (RFC 2865 §5.8), but not
/// the DNS server it is given (nor one no host may have): the peer is refused as for a
/// Framed-IP-Address of that kind (CDN result 4, `address_unusable`). An ordinary one is
/// taken.
#[test]
fn a_peer_that_picks_its_address_may_not_pick_one_no_peer_may_have() {
    // (The LAC's config takes no address no host may have.)
    for (asks, refused) in [("192.0.2.53", true), ("203.0.113.9", false)] {
        let lac_text = lac(1, PASSWORD).replacen(
            "user_name \"alice\"",
            &format!("user_name \"alice\"\n local_ip_addr {asks}"),
            1,
        );
        let picks = accept(|a| a.push_framed_ip_address(Ipv4Addr::BROADCAST).map(drop));
        let mut net = net(
            &lns("auth_pap", "auth_source radius"),
            &lac_text,
            Some(server(picks)),
        );
        net.run_until(Duration::from_secs(20), "up or refused", |n| {
            n.nodes[1].saw(EventKind::PppUp) + n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        let stats = net.nodes[1].engine.stats();
        let counted = stats.ppp_address_refusals.get("address_unusable").copied();
        if refused {
            assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0, "{asks}");
            assert_eq!(net.nodes[0].first_cdn().result, 4, "{asks}");
            assert_eq!(counted, Some(1), "{asks}");
        } else {
            let ups = super::ppp::ppp_ups(&net, 1);
            assert_eq!(ups.last().and_then(|u| u.ipv4).map(|v| v.1), Some(v4(asks)));
            assert_eq!(counted, None, "{asks}");
        }
    }
}

/// An Acct-Interim-Interval below l2tpd's least (10 s; RFC 2869 §5.16 advises 60 at least),
/// in an Access-Accept or a CoA-Request, is raised to it with a warning, not silently.
#[test]
fn an_interim_interval_below_the_least_is_raised_with_a_warning() {
    use radius_proto::dynauth::{Answer, DynAuthKind};

    use super::radius::dynauth;

    let (net, lines) = recorded(|| {
        let mut net = alice_up(
            "auth_source radius\n radius_accounting true",
            accept(|a| a.push_acct_interim_interval(1).map(drop)),
        );
        let coa = accept(|a| {
            a.push_user_name("alice")?;
            a.push_acct_interim_interval(5).map(drop)
        });
        assert_eq!(dynauth(&mut net, DynAuthKind::Coa, &coa), Answer::Ack(None));
        net
    });
    let d = net.first_session(1);
    let r = d.ppp.and_then(|p| p.radius).map(|r| r.interim_interval_s);
    assert_eq!(r, Some(Some(10)));
    let raised = warnings(&lines, &["Acct-Interim-Interval"]);
    assert!(
        raised.len() == 2 && raised[0].contains("\"alice\"") && raised[1].contains("CoA"),
        "{lines:?}"
    );
    assert_eq!(ignored(&net), counted(&[("interim_raised", 2)]));
}

/// A Framed-IP-Address in a prefix routed to another session (its Framed-IP-Netmask subnet)
/// would take that address's traffic from it: the login is refused (`address_unusable`), and
/// the first session keeps its route.
#[test]
fn a_framed_ip_address_in_another_sessions_subnet_refuses_the_login() {
    let first = accept(|a| {
        a.push_framed_ip_address(v4("198.51.100.40"))?;
        a.push_framed_ip_netmask(v4("255.255.255.248")).map(drop)
    });
    let second = accept(|a| a.push_framed_ip_address(v4("198.51.100.44")).map(drop));
    let (net, lines) = logins(2, vec![first, second]);
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 1);
    assert_eq!(routes(&net), [vec![route("198.51.100.40", 29)]]);
    let stats = net.nodes[1].engine.stats();
    let counted = stats.ppp_address_refusals.get("address_unusable").copied();
    assert!(counted.is_some_and(|n| n >= 1), "{counted:?}");
    assert!(
        lines
            .iter()
            .any(|(_, l)| l.contains("198.51.100.44") && l.contains("routed to another")),
        "{lines:?}"
    );
}

/// An Idle-Timeout beyond 2^32 milliseconds (49.7 days) is held whole, as `show session`
/// gives it: the idle session outlives those 49.7 days and ends at the server's value.
#[test]
fn an_idle_timeout_beyond_fifty_days_is_held_whole() {
    const T: u32 = 4_300_000;
    let one = accept(|a| a.push_idle_timeout(T).map(drop));
    let mut net = alice_up("auth_source radius", one);
    let at = net.elapsed();
    let d = net.first_session(1);
    let shown = d.ppp.and_then(|p| p.radius).and_then(|r| r.idle_timeout_s);
    assert_eq!(shown, Some(T));
    // Past 2^32 ms, still up.
    net.run_for(Duration::from_secs(u64::from(T) - 60) - (net.elapsed() - at));
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 0, "before {T} s");
    net.run_until(Duration::from_secs(120), "idle timeout", |n| {
        n.nodes[1].saw(EventKind::PppDown) == 1
    });
    let idle = (net.elapsed() - at).as_secs();
    assert!(
        (u64::from(T)..u64::from(T) + 10).contains(&idle),
        "{idle} s"
    );
}
