//! RADIUS in the engine, with a scripted server: an L2TPv2 LAC (node 0) whose PPP
//! authenticates itself, and an LNS (node 1) whose ppp profile asks RADIUS. The scripted server
//! checks PAP, CHAP and MS-CHAPv2 credentials with the RFC maths (so that a wrong request
//! fails), and answers with what each test needs; the LAC's PPP checks the MS-CHAPv2
//! authenticator response that comes from the server.

use std::net::Ipv4Addr;
use std::time::Duration;

use l2tp_ctl::{EventKind, Selector};
use ppp_proto::auth::maths;
use ppp_proto::{AuthenticatorResponse, Password};
use radius_proto::client::{Failure, Service};
use radius_proto::dict::values::{acct_status_type, acct_terminate_cause, error_cause};
use radius_proto::dict::{AttrType, ms};
use radius_proto::dynauth::{Answer, DynAuthKind};
use radius_proto::{Attributes, Code, Ipv6Prefix};

use super::super::{Command, RadiusOutcome, RadiusRequest};
use super::harness::{Net, RadiusServer, addr};
use super::logs::recorded;
use super::ppp::ppp_ups;
use crate::dataplane::DataplaneRequest;

pub(super) const PASSWORD: &str = "wonderland";

fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The LNS: RADIUS server 192.0.2.10, the profile with `auth` (one method) and `extra` lines.
pub(super) fn lns(auth: &str, extra: &str) -> String {
    let methods: Vec<String> = ["auth_pap", "auth_chap", "auth_mschapv2"]
        .iter()
        .map(|m| format!("{m} {}", *m == auth))
        .collect();
    let methods = methods.join("\n ");
    format!(
        "system {{\n radius_nas_identifier \"lns-test\"\n}}\n\
         radius server \"r\" {{\n address 192.0.2.10\n secret \"s3cret\"\n}}\n\
         ip pool \"customers\" {{\n ranges 198.51.100.10-198.51.100.19\n}}\n\
         ip pool \"gold\" {{\n ranges 198.51.100.200-198.51.100.201\n}}\n\
         user \"alice\" {{\n password \"local-pw\"\n}}\n\
         ppp profile \"default\" {{\n {methods}\n \
         local_ip_addr 198.51.100.1\n ip_pool_name \"customers\"\n dns_addr_1 192.0.2.53\n \
         {extra}\n}}\n"
    )
}

/// The LAC: `n` sessions in one L2TPv2 tunnel to node 1, authenticating as alice with
/// `password`.
pub(super) fn lac(n: usize, password: &str) -> String {
    let mut text = format!(
        "ppp profile \"default\" {{\n user_name \"alice\"\n user_password \"{password}\"\n}}\n\
         tunnel \"t\" {{\n peer {}\n version 2\n}}\n",
        addr(1).ip()
    );
    for i in 0..n {
        text.push_str(&format!(
            "session \"s{i}\" {{\n tunnel \"t\"\n pseudowire_type ppp\n}}\n"
        ));
    }
    text
}

/// Whether the credentials of an Access-Request are alice's with [`PASSWORD`]; for
/// MS-CHAPv2, with the MS-CHAP2-Success value the server sends.
fn check(attrs: &Attributes) -> Option<Option<Vec<u8>>> {
    let user = attrs.get(AttrType::USER_NAME)?;
    if user != b"alice" {
        return None;
    }
    let secret = Password::new(PASSWORD);
    if let Some(pw) = attrs.get(AttrType::USER_PASSWORD) {
        return (pw == PASSWORD.as_bytes()).then_some(None);
    }
    if let Some(v) = attrs.chap_password() {
        let challenge = attrs.chap_challenge()?;
        return maths::chap_md5_matches(v[0], &secret, challenge, &v[1..]).then_some(None);
    }
    let r = attrs.ms_chap2_response()?;
    let auth: [u8; 16] = attrs.ms_chap_challenge()?.try_into().ok()?;
    let peer: [u8; 16] = r.get(2..18)?.try_into().ok()?;
    let nt: [u8; 24] = r.get(26..50)?.try_into().ok()?;
    let hash = maths::nt_password_hash(&secret);
    if maths::generate_nt_response(&auth, &peer, user, &hash) != nt {
        return None;
    }
    let s = maths::generate_authenticator_response(&hash, &nt, &peer, &auth, user);
    let mut success = vec![r[0]];
    success.extend_from_slice(AuthenticatorResponse(s).to_string().as_bytes());
    Some(Some(success))
}

/// A server that accepts alice with `accept` added to the Access-Accept, rejects anyone else,
/// and answers every Accounting-Request.
pub(super) fn server(accept: Attributes) -> RadiusServer {
    RadiusServer(Box::new(move |service, attrs| {
        let reply = |code, attributes| {
            Some(RadiusOutcome::Reply {
                code,
                attributes,
                server: "192.0.2.10:1812".parse().unwrap_or_else(|e| panic!("{e}")),
            })
        };
        if service == Service::Accounting {
            return reply(Code::AccountingResponse, Attributes::new());
        }
        match check(attrs) {
            Some(success) => {
                let mut a = accept.clone();
                if let Some(s) = success {
                    a.push_vendor(ms::CHAP2_SUCCESS, &s).ok()?;
                }
                reply(Code::AccessAccept, a)
            }
            None => {
                let mut a = Attributes::new();
                a.push_reply_message("Go away").ok()?;
                reply(Code::AccessReject, a)
            }
        }
    }))
}

/// The two nodes, the LNS answered by `server`, not started.
pub(super) fn net(lns_text: &str, lac_text: &str, server: Option<RadiusServer>) -> Net {
    let mut net = Net::unstarted(&[lac_text, lns_text], 31);
    net.nodes[1].radius_server = server;
    net.start()
}

/// The Submits node `i` sent, with their service and attributes.
/// A request: its service (or Acct-Status-Type), attributes and the session whose counters the
/// shell adds.
pub(super) type Sent<K> = (K, Attributes, Option<(u32, u32)>);

pub(super) fn submits(net: &Net, i: usize) -> Vec<Sent<Service>> {
    net.nodes[i]
        .radius
        .iter()
        .filter_map(|r| match r {
            RadiusRequest::Submit {
                service,
                attributes,
                counters,
                ..
            } => Some((*service, attributes.clone(), *counters)),
            RadiusRequest::Cancel { .. } => None,
        })
        .collect()
}

/// Node 1's Access-Requests and withdrawals, in order: `(true, key)` for a request,
/// `(false, key)` for its withdrawal.
pub(super) fn access_keys(net: &Net) -> Vec<(bool, u64)> {
    net.nodes[1]
        .radius
        .iter()
        .filter_map(|r| match r {
            RadiusRequest::Submit {
                key,
                service: Service::Access,
                ..
            } => Some((true, *key)),
            RadiusRequest::Cancel { key } => Some((false, *key)),
            RadiusRequest::Submit { .. } => None,
        })
        .collect()
}

/// The Accounting-Requests of node 1 with their Acct-Status-Type.
pub(super) fn accounting(net: &Net) -> Vec<Sent<u32>> {
    submits(net, 1)
        .into_iter()
        .filter(|(s, ..)| *s == Service::Accounting)
        .map(|(_, a, c)| (a.acct_status_type().unwrap_or(0), a, c))
        .collect()
}

fn gold() -> Attributes {
    let mut a = Attributes::new();
    a.push_framed_pool("gold").unwrap_or_else(|e| panic!("{e}"));
    a.push_framed_mtu(1400).unwrap_or_else(|e| panic!("{e}"));
    a.push_class(b"gold-class")
        .unwrap_or_else(|e| panic!("{e}"));
    a.push_acct_interim_interval(120)
        .unwrap_or_else(|e| panic!("{e}"));
    a.push_vendor(ms::PRIMARY_DNS_SERVER, &[203, 0, 113, 53])
        .unwrap_or_else(|e| panic!("{e}"));
    // Routed to the session.
    let prefix = |s: &str, len| Ipv6Prefix::new(s.parse().unwrap_or_else(|e| panic!("{e}")), len);
    a.push_framed_ipv6_prefix(prefix("2001:db8:10::", 64))
        .unwrap_or_else(|e| panic!("{e}"));
    a.push_delegated_ipv6_prefix(prefix("2001:db8:100::", 56))
        .unwrap_or_else(|e| panic!("{e}"));
    a.push_framed_ip_netmask(Ipv4Addr::new(255, 255, 255, 252))
        .unwrap_or_else(|e| panic!("{e}"));
    // Not used by l2tpd: logged at debug level, otherwise harmless.
    a.push_u32(AttrType::FRAMED_ROUTING, 0);
    a
}

pub(super) fn up(net: &mut Net, what: &str) {
    net.run_until(Duration::from_secs(20), what, |n| {
        n.nodes[0].saw(EventKind::PppUp) == 1 && n.nodes[1].saw(EventKind::PppUp) == 1
    });
}

#[test]
fn pap_chap_and_mschapv2_are_asked_of_radius_and_the_accept_is_honoured() {
    for (auth, method) in [
        ("auth_pap", "pap"),
        ("auth_chap", "chap"),
        ("auth_mschapv2", "mschapv2"),
    ] {
        let profile = "auth_source radius\n radius_accounting true";
        let mut net = net(&lns(auth, profile), &lac(1, PASSWORD), Some(server(gold())));
        up(&mut net, method);
        // Framed-Pool gave the address, Framed-MTU capped the MTU, the DNS server came from
        // the Microsoft attribute (the LAC was given it).
        let lns_up = ppp_ups(&net, 1);
        let last = lns_up.last().copied().unwrap_or_default();
        assert_eq!(last.ipv4, Some((a("198.51.100.1"), a("198.51.100.200"))));
        assert_eq!(last.mtu, 1400, "{method}");
        let routes: Vec<_> = net.nodes[1]
            .requests
            .iter()
            .filter_map(|r| match r {
                DataplaneRequest::PppRoutes { routes, .. } => Some(routes.clone()),
                _ => None,
            })
            .collect();
        let want: Vec<(std::net::IpAddr, u8)> = vec![
            (
                "198.51.100.200".parse().unwrap_or_else(|e| panic!("{e}")),
                30,
            ),
            (
                "2001:db8:10::".parse().unwrap_or_else(|e| panic!("{e}")),
                64,
            ),
            (
                "2001:db8:100::".parse().unwrap_or_else(|e| panic!("{e}")),
                56,
            ),
        ];
        assert_eq!(routes.last(), Some(&want), "{method}");
        let d = net.first_session(0);
        assert_eq!(d.ppp.map(|p| p.dns), Some(vec![a("203.0.113.53")]));
        // The Access-Request names the NAS, the port, the stations and the tunnel.
        let reqs = submits(&net, 1);
        let (_, r, _) = reqs
            .iter()
            .find(|(s, ..)| *s == Service::Access)
            .unwrap_or_else(|| panic!("no Access-Request"));
        let rows = net.nodes[1]
            .engine
            .sessions(net.now, None)
            .unwrap_or_default();
        let (tid, sid) = (rows[0].tid, rows[0].sid);
        assert_eq!(r.nas_identifier(), Some("lns-test"));
        assert_eq!(r.nas_ip_address(), Some(a("192.0.2.2")));
        // Unique on the NAS: L2TPv2 session ids are unique in their tunnel only.
        assert_eq!(r.nas_port(), Some(tid << 16 | sid));
        assert_eq!(r.nas_port_id(), Some(format!("{tid}/{sid}").as_str()));
        assert_eq!(r.nas_port_type(), Some(5));
        assert_eq!((r.service_type(), r.framed_protocol()), (Some(2), Some(1)));
        assert_eq!(r.calling_station_id(), Some("192.0.2.1"));
        assert_eq!(r.called_station_id(), Some("192.0.2.2"));
        assert_eq!(
            r.tagged_u32(AttrType::TUNNEL_TYPE).collect::<Vec<_>>(),
            [(1, 3)]
        );
        let ends: Vec<(u8, &[u8])> = r
            .tagged_text(AttrType::TUNNEL_CLIENT_ENDPOINT)
            .chain(r.tagged_text(AttrType::TUNNEL_SERVER_ENDPOINT))
            .collect();
        assert_eq!(ends, [(1, &b"192.0.2.1"[..]), (1, &b"192.0.2.2"[..])]);
        let id = r.acct_session_id().unwrap_or_default().to_owned();
        assert_eq!(id.len(), 16, "{id}");
        // `show session` has the RADIUS side.
        let d = net.nodes[1]
            .engine
            .session(net.now, &Selector::Id(tid), &Selector::Id(sid))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let ppp = d.ppp.unwrap_or_else(|| panic!("ppp"));
        assert_eq!(ppp.auth.as_deref(), Some(method));
        assert_eq!(
            ppp.dns,
            [a("203.0.113.53")],
            "the servers given, not the profile's"
        );
        let radius = ppp.radius.unwrap_or_else(|| panic!("radius"));
        assert_eq!(radius.acct_session_id, id);
        assert_eq!(radius.authentic.as_deref(), Some("radius"));
        assert_eq!(radius.class, ["gold-class"]);
        assert_eq!(radius.accounting, "started");
        assert_eq!(radius.interim_interval_s, Some(120));
        assert_eq!(radius.framed_mtu, Some(1400));
        // No secret reaches an event, a script or the detail.
        let all = format!("{:?}{:?}", net.nodes[1].events, net.nodes[1].scripts);
        assert!(!all.contains(PASSWORD));
    }
}

#[test]
fn a_reject_refuses_the_peer_with_the_servers_message_and_is_counted() {
    let (net, lines) = recorded(|| {
        let mut net = net(
            &lns("auth_pap", "auth_source radius"),
            &lac(1, "not-her-password"),
            Some(server(Attributes::new())),
        );
        net.run_until(Duration::from_secs(20), "refused", |n| {
            n.nodes[0].saw(EventKind::SessionDown) >= 1
        });
        net
    });
    // The log names the user and gives the server's Reply-Message, never the password.
    let refused: Vec<&String> = lines
        .iter()
        .filter(|(level, l)| *level == tracing::Level::WARN && l.contains("rejected by"))
        .map(|(_, l)| l)
        .collect();
    assert!(
        refused.len() == 1 && refused[0].contains("alice") && refused[0].contains("\"Go away\""),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|(_, l)| l.contains("not-her-password")),
        "{lines:?}"
    );
    let down = net.nodes[0].first_cdn();
    assert_eq!(down.result, 2, "{down:?}");
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_auth_failures.get("radius_reject"), Some(&1));
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0);
    // No accounting for a session that never came up.
    assert!(
        accounting(&net)
            .iter()
            .all(|(s, ..)| *s == acct_status_type::ACCOUNTING_ON)
    );
}

#[test]
fn no_answer_refuses_the_peer_unless_local_users_are_the_fallback() {
    let silent = || {
        RadiusServer(Box::new(|service, _: &Attributes| {
            (service == Service::Access).then_some(RadiusOutcome::Failed(Failure::TimedOut))
        }))
    };
    let mut net = net(
        &lns("auth_pap", "auth_source radius"),
        &lac(1, "local-pw"),
        Some(silent()),
    );
    net.run_until(Duration::from_secs(20), "refused", |n| {
        n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_auth_failures.get("radius_no_answer"), Some(&1));

    // radius_then_local: alice's local password lets her in.
    let mut net = net_with(
        &lns("auth_pap", "auth_source radius_then_local"),
        &lac(1, "local-pw"),
        silent(),
    );
    up(&mut net, "local fallback");
    let d = net.first_session(1);
    let radius = d
        .ppp
        .and_then(|p| p.radius)
        .unwrap_or_else(|| panic!("radius"));
    assert_eq!(radius.authentic.as_deref(), Some("local"));
    // A RADIUS rejection stands even with the fallback.
    let mut net = net_with(
        &lns("auth_pap", "auth_source radius_then_local"),
        &lac(1, "local-pw"),
        server(Attributes::new()),
    );
    net.run_until(Duration::from_secs(20), "refused", |n| {
        n.nodes[0].saw(EventKind::SessionDown) >= 1
    });
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 0);
}

fn net_with(lns_text: &str, lac_text: &str, server: RadiusServer) -> Net {
    net(lns_text, lac_text, Some(server))
}

#[test]
fn accounting_starts_updates_and_stops_with_the_counters_and_the_cause() {
    let mut net = net(
        &lns("auth_chap", "auth_source radius\n radius_accounting true"),
        &lac(1, PASSWORD),
        Some(server(gold())),
    );
    up(&mut net, "up");
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    let (tid, sid) = (rows[0].tid, rows[0].sid);
    // Accounting-On when the daemon started, then the Start, without counters.
    let acct = accounting(&net);
    assert_eq!(acct[0].0, acct_status_type::ACCOUNTING_ON);
    assert_eq!(acct[0].1.nas_identifier(), Some("lns-test"));
    let (status, start, counters) = &acct[1];
    assert_eq!(*status, acct_status_type::START);
    assert_eq!(*counters, None);
    assert_eq!(start.framed_ip_address(), Some(a("198.51.100.200")));
    assert_eq!(start.classes().collect::<Vec<_>>(), [b"gold-class"]);
    assert_eq!(start.acct_authentic(), Some(1));
    // Interim-Updates every 120 s (the Accept's interval), with the session's counters.
    net.run_for(Duration::from_secs(250));
    let acct = accounting(&net);
    let interims: Vec<_> = acct
        .iter()
        .filter(|(s, ..)| *s == acct_status_type::INTERIM_UPDATE)
        .collect();
    assert_eq!(interims.len(), 2, "{acct:?}");
    assert_eq!(interims[0].2, Some((tid, sid)));
    let t = interims[1].1.acct_session_time().unwrap_or(0);
    assert!((239..=241).contains(&t), "{t}");
    // The LAC deletes its session: its PPP says goodbye first (a Terminate-Request, then the
    // CDN), so the Stop says User-Request (the peer ended the link), and it comes before the
    // data plane's removal of the session.
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("s0".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    let acct = accounting(&net);
    let (status, stop, counters) = acct.last().cloned().unwrap_or_else(|| panic!("stop"));
    assert_eq!(status, acct_status_type::STOP);
    assert_eq!(counters, Some((tid, sid)));
    assert_eq!(
        stop.acct_terminate_cause(),
        Some(acct_terminate_cause::USER_REQUEST)
    );
    super::ppp::assert_goodbyes(&net, 0, &["lcp:terminate-request", "l2tp:CDN"]);
    assert_eq!(
        stop.acct_session_id(),
        start.acct_session_id(),
        "one Acct-Session-Id"
    );
    let order = &net.nodes[1].order;
    let stop_at = order.iter().position(|o| o == "radius:stop");
    let removed_at = order
        .iter()
        .position(|o| *o == format!("dataplane:remove_session {tid}/{sid}"));
    assert!(
        stop_at.is_some() && removed_at.is_some() && stop_at < removed_at,
        "{order:?}"
    );
}

/// A PAP session whose Access-Accept carries `accept` goes down within `took` of coming up
/// (`what` names the wait), with the PPP reason `reason` and the Acct-Terminate-Cause `cause`
/// in the first Stop (the LAC's session instance places its call again afterwards).
fn a_timeout_in_the_accept_ends_the_session(
    accept: Attributes,
    what: &str,
    took: std::ops::RangeInclusive<Duration>,
    reason: &str,
    cause: u32,
) {
    let mut net = net(
        &lns("auth_pap", "auth_source radius\n radius_accounting true"),
        &lac(1, PASSWORD),
        Some(server(accept)),
    );
    up(&mut net, "up");
    let at = net.elapsed();
    net.run_until(Duration::from_secs(40), what, |n| {
        n.nodes[1].saw(EventKind::PppDown) == 1
    });
    let elapsed = net.elapsed() - at;
    assert!(took.contains(&elapsed), "{elapsed:?}");
    net.run_for(Duration::from_secs(5));
    let down = net.nodes[1]
        .events
        .iter()
        .find(|e| e.event == EventKind::PppDown)
        .and_then(|e| e.ppp.clone())
        .and_then(|p| p.reason);
    assert_eq!(down.as_deref(), Some(reason));
    let acct = accounting(&net);
    let (_, stop, _) = acct
        .iter()
        .find(|(s, ..)| *s == acct_status_type::STOP)
        .cloned()
        .unwrap_or_else(|| panic!("no Stop: {:?}", net.nodes[1].order));
    assert_eq!(stop.acct_terminate_cause(), Some(cause));
}

#[test]
fn session_timeout_ends_the_session_on_time() {
    let mut accept = Attributes::new();
    accept
        .push_session_timeout(30)
        .unwrap_or_else(|e| panic!("{e}"));
    a_timeout_in_the_accept_ends_the_session(
        accept,
        "session timeout",
        Duration::from_secs(29)..=Duration::from_secs(31),
        "session_timeout",
        acct_terminate_cause::SESSION_TIMEOUT,
    );
}

#[test]
fn idle_timeout_from_the_accept_ends_an_idle_session() {
    let mut accept = Attributes::new();
    accept
        .push_idle_timeout(20)
        .unwrap_or_else(|e| panic!("{e}"));
    // No data crosses the simulated link: it is idle from the start (activity is reported
    // every PPP_ACTIVITY_PERIOD at most, so the timeout is exact to within that).
    a_timeout_in_the_accept_ends_the_session(
        accept,
        "idle timeout",
        Duration::from_secs(19)..=Duration::from_secs(26),
        "idle_timeout",
        acct_terminate_cause::IDLE_TIMEOUT,
    );
}

/// The Framed-Interface-Id the server of [`framed_interface_id_net`] gives every session.
const FRAMED_IFID: [u8; 8] = [0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x01];

/// An LNS authenticating by RADIUS, whose server gives every session [`FRAMED_IFID`], and a
/// LAC of `sessions` sessions.
fn framed_interface_id_net(sessions: usize) -> Net {
    let mut accept = Attributes::new();
    accept
        .push_framed_interface_id(FRAMED_IFID)
        .unwrap_or_else(|e| panic!("{e}"));
    net(
        &lns("auth_pap", "auth_source radius"),
        &lac(sessions, PASSWORD),
        Some(server(accept)),
    )
}

#[test]
fn framed_interface_id_is_the_peers_ipv6_interface_identifier() {
    let id = FRAMED_IFID;
    let mut net = framed_interface_id_net(1);
    up(&mut net, "up");
    let want = l2tp_ctl::format_ifid(u64::from_be_bytes(id));
    net.run_until(Duration::from_secs(10), "IPv6CP opened", |n| {
        ifids(n, 1).1.is_some()
    });
    assert_eq!(
        ifids(&net, 1).1.as_deref(),
        Some(want.as_str()),
        "the LNS's view"
    );
    assert_eq!(
        ifids(&net, 0).0.as_deref(),
        Some(want.as_str()),
        "the LAC's own"
    );
}

/// The server gives two sessions one Framed-Interface-Id: one peer gets it, the other one of
/// its own (the peers of a shared TUN need link-local addresses apart), and both come up.
#[test]
fn a_framed_interface_id_another_sessions_peer_holds_is_left_out() {
    let id = FRAMED_IFID;
    let mut net = framed_interface_id_net(2);
    let peers = |n: &Net| -> Vec<Option<String>> {
        let e = &n.nodes[1].engine;
        e.sessions(n.now, None)
            .unwrap_or_default()
            .iter()
            .map(|row| {
                e.session(n.now, &Selector::Id(row.tid), &Selector::Id(row.sid))
                    .ok()
                    .and_then(|d| d.ppp)
                    .and_then(|p| p.peer_ipv6_ifid)
            })
            .collect()
    };
    net.run_until(Duration::from_secs(30), "both IPv6CPs opened", |n| {
        let p = peers(n);
        p.len() == 2 && p.iter().all(Option::is_some)
    });
    let p: Vec<String> = peers(&net).into_iter().flatten().collect();
    let want = l2tp_ctl::format_ifid(u64::from_be_bytes(id));
    assert_ne!(p[0], p[1], "{p:?}");
    assert!(p.contains(&want), "{p:?}");
    assert_eq!(net.nodes[1].saw(EventKind::PppUp), 2);
    assert_eq!(net.nodes[1].saw(EventKind::SessionDown), 0);
}

/// The (local, peer) IPv6 interface identifiers of node `i`'s first session.
fn ifids(net: &Net, i: usize) -> (Option<String>, Option<String>) {
    let e = &net.nodes[i].engine;
    let rows = e.sessions(net.now, None).unwrap_or_default();
    let Some(row) = rows.first() else {
        return (None, None);
    };
    e.session(net.now, &Selector::Id(row.tid), &Selector::Id(row.sid))
        .ok()
        .and_then(|d| d.ppp)
        .map_or((None, None), |p| (p.local_ipv6_ifid, p.peer_ipv6_ifid))
}

#[test]
fn an_ipv6_nas_address_goes_as_nas_ipv6_address() {
    let text = lns("auth_pap", "auth_source radius").replacen(
        "radius_nas_identifier \"lns-test\"",
        "radius_nas_identifier \"lns-test\"\n radius_nas_ip_address 2001:db8::2",
        1,
    );
    let mut net = net(&text, &lac(1, PASSWORD), Some(server(Attributes::new())));
    up(&mut net, "up");
    let reqs = submits(&net, 1);
    let (_, r, _) = reqs
        .iter()
        .find(|(s, ..)| *s == Service::Access)
        .unwrap_or_else(|| panic!("no Access-Request"));
    let want: std::net::Ipv6Addr = "2001:db8::2".parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.nas_ipv6_address(), Some(want));
    assert_eq!(r.nas_ip_address(), None);
}

#[test]
fn a_session_that_goes_away_drops_its_access_request() {
    // The server never answers.
    let mut net = net(
        &lns("auth_pap", "auth_source radius"),
        &lac(1, PASSWORD),
        Some(RadiusServer(Box::new(|_, _: &Attributes| None))),
    );
    net.run_until(Duration::from_secs(20), "asked", |n| {
        n.nodes[1].radius.iter().any(|r| {
            matches!(
                r,
                RadiusRequest::Submit {
                    service: Service::Access,
                    ..
                }
            )
        })
    });
    let r = net.command(
        0,
        Command::DeleteSession(Selector::Name("t".into()), Selector::Name("s0".into())),
    );
    assert!(r.is_ok(), "{r:?}");
    net.run_for(Duration::from_secs(5));
    let keys = access_keys(&net);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!((keys[1].0, keys[1].1), (false, keys[0].1));
    // A late answer for it changes nothing.
    let now = net.now;
    net.nodes[1]
        .engine
        .handle_radius(now, keys[0].1, RadiusOutcome::Failed(Failure::TimedOut));
    assert_eq!(net.nodes[1].engine.stats().ppp_auth_failures.len(), 0);
}

/// Two PAP sessions up at an LNS (node 1) that authenticates and accounts by RADIUS.
pub(super) fn two_accounted_sessions() -> Net {
    let mut net = net(
        &lns("auth_pap", "auth_source radius\n radius_accounting true"),
        &lac(2, PASSWORD),
        Some(server(Attributes::new())),
    );
    net.run_until(Duration::from_secs(20), "both up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 2
    });
    net
}

/// The LNS's (node 1's) answer to a Disconnect- or CoA-Request of `kind` with `attrs`.
pub(super) fn dynauth(net: &mut Net, kind: DynAuthKind, attrs: &Attributes) -> Answer {
    let now = net.now;
    let answer = net.nodes[1].engine.handle_dynauth(now, kind, attrs);
    net.settle();
    answer
}

#[test]
fn disconnect_and_coa_requests_find_their_session() {
    let mut net = two_accounted_sessions();
    let ids: Vec<String> = accounting(&net)
        .iter()
        .filter(|(s, ..)| *s == acct_status_type::START)
        .filter_map(|(_, a, _)| a.acct_session_id().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2);
    let attrs = |build: &dyn Fn(&mut Attributes)| {
        let mut a = Attributes::new();
        build(&mut a);
        a
    };
    // Not for this NAS, no session named, no such session, an attribute it cannot change.
    let other = attrs(&|a| {
        let _ = a.push_nas_identifier("other-nas");
        let _ = a.push_acct_session_id("whatever");
    });
    assert_eq!(
        dynauth(&mut net, DynAuthKind::Disconnect, &other),
        Answer::Nak(Some(error_cause::NAS_IDENTIFICATION_MISMATCH))
    );
    let none = attrs(&|a| {
        let _ = a.push_nas_identifier("lns-test");
    });
    assert_eq!(
        dynauth(&mut net, DynAuthKind::Disconnect, &none),
        Answer::Nak(Some(error_cause::MISSING_ATTRIBUTE))
    );
    let unknown = attrs(&|a| {
        let _ = a.push_acct_session_id("0000000000000000");
    });
    assert_eq!(
        dynauth(&mut net, DynAuthKind::Disconnect, &unknown),
        Answer::Nak(Some(error_cause::SESSION_CONTEXT_NOT_FOUND))
    );
    let filter = attrs(&|a| {
        let _ = a.push_acct_session_id(&ids[0]);
        a.push_u32(AttrType::FILTER_ID, 1);
    });
    assert_eq!(
        dynauth(&mut net, DynAuthKind::Coa, &filter),
        Answer::Nak(Some(error_cause::UNSUPPORTED_ATTRIBUTE))
    );
    // A CoA-Request gives the second session a Session-Timeout of 60 s.
    let coa = attrs(&|a| {
        let _ = a.push_acct_session_id(&ids[1]);
        let _ = a.push_session_timeout(60);
    });
    assert_eq!(dynauth(&mut net, DynAuthKind::Coa, &coa), Answer::Ack(None));
    // A Disconnect-Request ends exactly the first session, with Admin-Reset.
    let disconnect = attrs(&|a| {
        let _ = a.push_nas_identifier("lns-test");
        let _ = a.push_acct_session_id(&ids[0]);
        let _ = a.push_user_name("alice");
    });
    assert_eq!(
        dynauth(&mut net, DynAuthKind::Disconnect, &disconnect),
        Answer::Ack(None)
    );
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    let stops: Vec<(String, Option<u32>)> = accounting(&net)
        .iter()
        .filter(|(s, ..)| *s == acct_status_type::STOP)
        .map(|(_, a, _)| {
            (
                a.acct_session_id().unwrap_or_default().to_owned(),
                a.acct_terminate_cause(),
            )
        })
        .collect();
    assert_eq!(
        stops,
        [(ids[0].clone(), Some(acct_terminate_cause::ADMIN_RESET))]
    );
    // The second one ends at its new Session-Timeout.
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 2);
    let stats = net.nodes[1].engine.radius_figures();
    assert_eq!(stats.dynauth.get("disconnect_ack"), Some(&1));
    assert_eq!(stats.dynauth.get("disconnect_nak"), Some(&3));
    assert_eq!(stats.dynauth.get("coa_ack"), Some(&1));
    assert_eq!(stats.dynauth.get("coa_nak"), Some(&1));
}

#[test]
fn stopping_sends_the_open_stops_then_accounting_off() {
    let mut net = net(
        &lns("auth_pap", "auth_source radius\n radius_accounting true"),
        &lac(1, PASSWORD),
        Some(server(Attributes::new())),
    );
    up(&mut net, "up");
    net.nodes[1].engine.finish_shutdown();
    net.settle();
    let acct = accounting(&net);
    let tail: Vec<u32> = acct.iter().rev().take(2).map(|(s, ..)| *s).collect();
    assert_eq!(
        tail,
        [acct_status_type::ACCOUNTING_OFF, acct_status_type::STOP]
    );
    let stop = &acct[acct.len() - 2].1;
    assert_eq!(
        stop.acct_terminate_cause(),
        Some(acct_terminate_cause::ADMIN_REBOOT)
    );
}
