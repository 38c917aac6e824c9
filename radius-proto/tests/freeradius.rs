//! The client and the dynamic authorization server against a real FreeRADIUS (and its
//! `radclient`) in a network namespace, with `examples/radius` as its configuration.
//!
//! - PAP, CHAP-MD5 and MS-CHAPv2 (the RFC 2759 §9.2 example), each accepted and rejected; the
//!   Accept's attributes decoded (addresses, pool, prefixes, timeouts, tagged tunnel
//!   attributes, Tunnel-Password revealed, Microsoft DNS servers, MS-CHAP2-Success checked
//!   against the RFC's authenticator response).
//! - Accounting Start, Interim-Update and Stop, found in FreeRADIUS's detail file with their
//!   counters.
//! - PAP and accounting over IPv6 (NAS-IPv6-Address).
//! - Two servers, the preferred one down: fail-over, then back to it after its dead time once
//!   it runs.
//! - The same with the preferred server probed with Status-Server (RFC 5997): its probes go
//!   unanswered while it is down, and once it runs a probe brings it back, with no login sent
//!   to it meanwhile.
//! - `radclient` sends Disconnect- and CoA-Requests to the test's socket: the crate
//!   authenticates them and answers ACK or NAK, which radclient accepts; a request with the
//!   wrong secret is dropped.
//!
//! Every test captures its traffic and has tshark (given the shared secret) decode and check
//! every packet. See `lab/mod.rs` for what the tests need.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lab;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use lab::{Driver, LIMIT, Lab, SECRET};
use md5::{Digest, Md5};
use radius_proto::client::{
    AliveReason, ClientConfig, Event, ServerConfig, ServerId, ServerState, Service,
};
use radius_proto::dict::values::{acct_status_type, acct_terminate_cause, error_cause};
use radius_proto::dict::{AttrType, values};
use radius_proto::dynauth::{Answer, DynAuthClient, DynAuthServer, Incoming};
use radius_proto::packet::Packet;
use radius_proto::{Attributes, Code, Ipv6Prefix, Secret};

fn server(last: u8, port: u16) -> ServerConfig {
    let mut s = ServerConfig::new(
        SocketAddr::from((Ipv4Addr::new(192, 0, 2, last), port)),
        Secret::from(SECRET),
    );
    // Generous: the machine may be loaded.
    s.timeout = Duration::from_secs(2);
    s
}

/// What the daemon sends in every Access-Request of a PPP session over L2TP.
fn nas_attributes(user: &str) -> Attributes {
    let mut a = Attributes::new();
    a.push_user_name(user).unwrap();
    a.push_nas_identifier("l2tpd-test").unwrap();
    a.push_nas_ip_address(Ipv4Addr::new(192, 0, 2, 3)).unwrap();
    a.push_nas_port(7).unwrap();
    a.push_nas_port_id("tunnel-1/session-7").unwrap();
    a.push_nas_port_type(values::nas_port_type::VIRTUAL)
        .unwrap();
    a.push_service_type(values::service_type::FRAMED).unwrap();
    a.push_framed_protocol(values::framed_protocol::PPP)
        .unwrap();
    a.push_calling_station_id("192.0.2.200").unwrap();
    a.push_called_station_id("192.0.2.3").unwrap();
    a.push_tunnel_type(1, values::tunnel_type::L2TP).unwrap();
    a.push_tunnel_medium_type(1, values::tunnel_medium_type::IPV4)
        .unwrap();
    a.push_tunnel_client_endpoint(1, "192.0.2.200").unwrap();
    a.push_tunnel_server_endpoint(1, "192.0.2.3").unwrap();
    a
}

fn reply(event: &Event) -> (Code, &Packet, [u8; 16]) {
    match event {
        Event::Reply { reply, .. } => (reply.code(), &reply.packet, reply.request_authenticator),
        other => panic!("no reply: {other:?}"),
    }
}

/// Asserts that tshark found valid the authenticator of every packet whose code `checked`
/// picks.
fn assert_valid(packets: &[(u8, Option<bool>)], checked: impl Fn(u8) -> bool) {
    assert!(
        packets
            .iter()
            .filter(|p| checked(p.0))
            .all(|p| p.1 == Some(true)),
        "{packets:?}"
    );
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn chap_password(id: u8, password: &[u8], challenge: &[u8]) -> Vec<u8> {
    let mut md5 = Md5::new();
    md5.update([id]);
    md5.update(password);
    md5.update(challenge);
    let mut out = vec![id];
    out.extend_from_slice(&md5.finalize());
    out
}

/// RFC 2759 §9.2: user "User", password "clientPass".
const AUTHENTICATOR_CHALLENGE: &str = "5B5D7C7D7B3F2F3E3C2C602132262628";
const PEER_CHALLENGE: &str = "21402324255E262A28295F2B3A337C7E";
const NT_RESPONSE: &str = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
const AUTHENTICATOR_RESPONSE: &str = "S=407A5589115FD0D6209F510FE9C04566932CDA56";

/// MS-CHAP2-Response (RFC 2548 §2.3.2): ident, flags, peer challenge, 8 reserved octets,
/// NT-Response.
fn ms_chap2_response(ident: u8, nt_response: &[u8]) -> Vec<u8> {
    let mut v = vec![ident, 0];
    v.extend_from_slice(&hex(PEER_CHALLENGE));
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(nt_response);
    v
}

#[test]
fn pap_chap_and_mschapv2_accepted_and_rejected() {
    let Some(mut lab) = Lab::new("auth") else {
        return;
    };
    lab.start_freeradius(1);
    lab.capture();
    let config = ClientConfig {
        access_servers: vec![server(1, 1812)],
        ..ClientConfig::default()
    };
    let mut d = Driver::new(config, lab.socket("192.0.2.3:0"));
    let secret = d.secret();

    // PAP.
    let mut a = nas_attributes("pap-user");
    a.push_user_password(b"pap-password").unwrap();
    let h = d.submit(Service::Access, a);
    let (code, p, request_authenticator) = reply(d.wait(h));
    assert_eq!(code, Code::AccessAccept, "{p:?}");
    let r = &p.attributes;
    // Required by the client, so present and valid.
    assert!(r.contains(AttrType::MESSAGE_AUTHENTICATOR));
    assert_eq!(r.framed_ip_address(), Some(Ipv4Addr::new(198, 51, 100, 10)));
    assert_eq!(
        r.framed_ip_netmask(),
        Some(Ipv4Addr::new(255, 255, 255, 255))
    );
    assert_eq!(r.framed_pool(), Some("pool-pap"));
    assert_eq!(
        r.framed_ipv6_prefix(),
        Some(Ipv6Prefix::new("2001:db8:10::".parse().unwrap(), 64))
    );
    assert_eq!(
        r.delegated_ipv6_prefix(),
        Some(Ipv6Prefix::new("2001:db8:100::".parse().unwrap(), 56))
    );
    assert_eq!(r.framed_mtu(), Some(1400));
    assert_eq!(r.session_timeout(), Some(7200));
    assert_eq!(r.idle_timeout(), Some(600));
    assert_eq!(r.acct_interim_interval(), Some(300));
    assert_eq!(r.classes().collect::<Vec<_>>(), [b"class-pap"]);
    assert_eq!(r.reply_message(), Some("welcome pap-user"));
    assert_eq!(r.service_type(), Some(values::service_type::FRAMED));
    assert_eq!(
        r.tagged_u32(AttrType::TUNNEL_TYPE).collect::<Vec<_>>(),
        [(1, values::tunnel_type::L2TP)]
    );
    assert_eq!(
        r.tagged_u32(AttrType::TUNNEL_MEDIUM_TYPE)
            .collect::<Vec<_>>(),
        [(1, values::tunnel_medium_type::IPV4)]
    );
    let (tag, tunnel_password) = r.tunnel_password(&secret, &request_authenticator).unwrap();
    assert_eq!(
        (tag, tunnel_password.unwrap()),
        (1, b"tunnel-secret-pap".to_vec())
    );
    assert_eq!(
        r.ms_primary_dns_server(),
        Some(Ipv4Addr::new(198, 51, 100, 53))
    );
    assert_eq!(
        r.ms_secondary_dns_server(),
        Some(Ipv4Addr::new(198, 51, 100, 54))
    );
    // Every attribute has a name to be logged by, and no secret shows.
    let shown = format!("{r:?}");
    assert!(
        !shown.contains("Attr-") && !shown.contains("tunnel-secret-pap"),
        "{shown}"
    );

    let mut a = nas_attributes("pap-user");
    a.push_user_password(b"wrong-password").unwrap();
    let h = d.submit(Service::Access, a);
    assert_eq!(reply(d.wait(h)).0, Code::AccessReject);

    // CHAP-MD5 (RFC 1994) with the challenge in CHAP-Challenge.
    let challenge = [0x42u8; 16];
    let mut a = nas_attributes("chap-user");
    a.push_chap_challenge(&challenge).unwrap();
    a.push_chap_password(&chap_password(9, b"chap-password", &challenge))
        .unwrap();
    let h = d.submit(Service::Access, a);
    let (code, p, _) = reply(d.wait(h));
    assert_eq!(code, Code::AccessAccept);
    assert_eq!(
        p.attributes.framed_ip_address(),
        Some(Ipv4Addr::new(198, 51, 100, 11))
    );
    assert_eq!(p.attributes.framed_pool(), Some("pool-chap"));
    let mut a = nas_attributes("chap-user");
    a.push_chap_challenge(&challenge).unwrap();
    a.push_chap_password(&chap_password(9, b"not-the-password", &challenge))
        .unwrap();
    let h = d.submit(Service::Access, a);
    assert_eq!(reply(d.wait(h)).0, Code::AccessReject);

    // MS-CHAPv2 with the example of RFC 2759 §9.2.
    let mut a = nas_attributes("User");
    a.push_ms_chap_challenge(&hex(AUTHENTICATOR_CHALLENGE))
        .unwrap();
    a.push_ms_chap2_response(&ms_chap2_response(5, &hex(NT_RESPONSE)))
        .unwrap();
    let h = d.submit(Service::Access, a);
    let (code, p, _) = reply(d.wait(h));
    assert_eq!(code, Code::AccessAccept, "{p:?}");
    let success = p.attributes.ms_chap2_success().unwrap();
    assert_eq!(success[0], 5);
    assert_eq!(&success[1..], AUTHENTICATOR_RESPONSE.as_bytes());
    assert_eq!(
        p.attributes.framed_ip_address(),
        Some(Ipv4Addr::new(198, 51, 100, 12))
    );
    assert_eq!(p.attributes.framed_pool(), Some("pool-mschap"));
    let mut wrong = hex(NT_RESPONSE);
    wrong[0] ^= 0xff;
    let mut a = nas_attributes("User");
    a.push_ms_chap_challenge(&hex(AUTHENTICATOR_CHALLENGE))
        .unwrap();
    a.push_ms_chap2_response(&ms_chap2_response(6, &wrong))
        .unwrap();
    let h = d.submit(Service::Access, a);
    let (code, p, _) = reply(d.wait(h));
    assert_eq!(code, Code::AccessReject);
    let error = p.attributes.ms_chap_error().unwrap();
    assert!(
        error[1..].starts_with(b"E=691"),
        "{:?}",
        String::from_utf8_lossy(error)
    );

    let stats = d.client.servers().next().unwrap().stats;
    assert_eq!((stats.accepts, stats.rejects, stats.timeouts), (3, 3, 0));
    assert_eq!(stats.bad_authenticators, 0);

    let packets = lab.judge();
    let count = |code| packets.iter().filter(|p| p.0 == code).count();
    assert_eq!((count(1), count(2), count(3)), (6, 3, 3), "{packets:?}");
    // tshark checks the Response Authenticators with the secret: all valid.
    assert_valid(&packets, |code| code != 1);
}

#[test]
fn pap_and_accounting_over_ipv6() {
    let Some(mut lab) = Lab::new("ipv6") else {
        return;
    };
    lab.start_freeradius_on("2001:db8::1", "freeradius-v6");
    lab.capture();
    let server = |port| {
        ServerConfig::new(
            SocketAddr::new("2001:db8::1".parse().unwrap(), port),
            Secret::from(SECRET),
        )
    };
    let config = ClientConfig {
        access_servers: vec![server(1812)],
        accounting_servers: vec![server(1813)],
        ..ClientConfig::default()
    };
    let mut d = Driver::new(config, lab.socket("[2001:db8::3]:0"));
    let mut a = nas_attributes("pap-user");
    a.push_nas_ipv6_address("2001:db8::3".parse().unwrap())
        .unwrap();
    a.push_user_password(b"pap-password").unwrap();
    let h = d.submit(Service::Access, a);
    let (code, p, _) = reply(d.wait(h));
    assert_eq!(code, Code::AccessAccept);
    assert_eq!(p.attributes.framed_pool(), Some("pool-pap"));
    let mut a = nas_attributes("pap-user");
    a.push_nas_ipv6_address("2001:db8::3".parse().unwrap())
        .unwrap();
    a.push_acct_status_type(acct_status_type::START).unwrap();
    a.push_acct_session_id("0000v6").unwrap();
    let h = d.submit(Service::Accounting, a);
    assert_eq!(reply(d.wait(h)).0, Code::AccountingResponse);
    let packets = lab.judge();
    assert_eq!(packets.len(), 4, "{packets:?}");
    assert_valid(&packets, |code| code == 2 || code == 5);
}

/// The records FreeRADIUS wrote to its detail file: one map of attribute to value each.
fn detail_records(conf: &std::path::Path) -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(conf.join("radacct/detail")).unwrap_or_default();
    text.split("\n\n")
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            r.lines()
                .skip(1)
                .filter_map(|l| {
                    let (k, v) = l.trim().split_once(" = ")?;
                    Some((k.to_string(), v.trim_matches('"').to_string()))
                })
                .collect()
        })
        .collect()
}

#[test]
fn accounting_start_interim_and_stop_reach_the_detail_file() {
    let Some(mut lab) = Lab::new("acct") else {
        return;
    };
    let (_, conf) = lab.start_freeradius(1);
    lab.capture();
    let config = ClientConfig {
        accounting_servers: vec![server(1, 1813)],
        ..ClientConfig::default()
    };
    let mut d = Driver::new(config, lab.socket("192.0.2.3:0"));
    let record = |status: u32, time: u32, octets: u32, cause: Option<u32>| {
        let mut a = nas_attributes("pap-user");
        a.push_acct_status_type(status).unwrap();
        a.push_acct_session_id("0000beef").unwrap();
        a.push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 10))
            .unwrap();
        a.push_class(b"class-pap").unwrap();
        a.push_event_timestamp(1_800_000_000 + time).unwrap();
        if status != acct_status_type::START {
            a.push_acct_session_time(time).unwrap();
            a.push_acct_input_octets(octets).unwrap();
            a.push_acct_output_octets(octets * 2).unwrap();
            a.push_acct_input_packets(octets / 100).unwrap();
            a.push_acct_output_packets(octets / 50).unwrap();
            a.push_acct_input_gigawords(1).unwrap();
            a.push_acct_output_gigawords(2).unwrap();
        }
        if let Some(cause) = cause {
            a.push_acct_terminate_cause(cause).unwrap();
        }
        a
    };
    for (status, time, octets, cause) in [
        (acct_status_type::START, 0, 0, None),
        (acct_status_type::INTERIM_UPDATE, 300, 10_000, None),
        (
            acct_status_type::STOP,
            450,
            25_000,
            Some(acct_terminate_cause::USER_REQUEST),
        ),
    ] {
        let h = d.submit(Service::Accounting, record(status, time, octets, cause));
        assert_eq!(reply(d.wait(h)).0, Code::AccountingResponse);
    }
    let records = detail_records(&conf);
    assert_eq!(records.len(), 3, "{records:?}");
    let get = |r: &Vec<(String, String)>, k: &str| {
        r.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {r:?}"))
    };
    let statuses: Vec<String> = records.iter().map(|r| get(r, "Acct-Status-Type")).collect();
    assert_eq!(statuses, ["Start", "Interim-Update", "Stop"]);
    for r in &records {
        assert_eq!(get(r, "Acct-Session-Id"), "0000beef");
        assert_eq!(get(r, "User-Name"), "pap-user");
        assert_eq!(get(r, "NAS-Port-Type"), "Virtual");
        assert_eq!(get(r, "Acct-Delay-Time"), "0");
        assert_eq!(get(r, "Framed-IP-Address"), "198.51.100.10");
    }
    let stop = &records[2];
    assert_eq!(get(stop, "Acct-Session-Time"), "450");
    assert_eq!(get(stop, "Acct-Input-Octets"), "25000");
    assert_eq!(get(stop, "Acct-Output-Octets"), "50000");
    assert_eq!(get(stop, "Acct-Input-Packets"), "250");
    assert_eq!(get(stop, "Acct-Output-Packets"), "500");
    assert_eq!(get(stop, "Acct-Input-Gigawords"), "1");
    assert_eq!(get(stop, "Acct-Output-Gigawords"), "2");
    assert_eq!(get(stop, "Acct-Terminate-Cause"), "User-Request");
    assert_eq!(get(&records[1], "Acct-Input-Octets"), "10000");

    let packets = lab.judge();
    assert_eq!(packets.len(), 6, "{packets:?}");
    // tshark checks the Response Authenticators with the secret.
    assert_valid(&packets, |code| code == 5);
}

/// A lab for fail-over: FreeRADIUS runs on 192.0.2.2 only, the capture is on, and the client
/// prefers 192.0.2.1 (quick to time out, one retry, `dead_time`, probed with Status-Server if
/// `status_server`) to 192.0.2.2. `None`: skipped.
fn two_servers(tag: &str, dead_time: Duration, status_server: bool) -> Option<(Lab, Driver)> {
    let mut lab = Lab::new(tag)?;
    lab.start_freeradius(2);
    lab.capture();
    let mut first = server(1, 1812);
    first.priority = 0;
    first.timeout = Duration::from_millis(300);
    first.retries = 1;
    first.dead_time = dead_time;
    first.status_server = status_server;
    let mut second = server(2, 1812);
    second.priority = 1;
    let config = ClientConfig {
        access_servers: vec![first, second],
        ..ClientConfig::default()
    };
    let d = Driver::new(config, lab.socket("192.0.2.3:0"));
    Some((lab, d))
}

/// Logs "pap-user" in with PAP and `password`; returns the answer's code and the server that
/// gave it.
fn login(d: &mut Driver, password: &[u8]) -> (Code, ServerId) {
    let mut a = nas_attributes("pap-user");
    a.push_user_password(password).unwrap();
    let h = d.submit(Service::Access, a);
    match d.wait(h) {
        Event::Reply { reply, .. } => (reply.code(), reply.server),
        other => panic!("no reply: {other:?}"),
    }
}

/// Whether server 0 came back (for `reason`, if given).
fn first_alive(events: &[Event], reason: Option<AliveReason>) -> bool {
    events.iter().any(|e| {
        matches!(e, Event::ServerAlive { server: ServerId(0), reason: r }
            if reason.is_none_or(|reason| reason == *r))
    })
}

#[test]
fn fail_over_to_the_second_server_and_back_after_dead_time() {
    let Some((mut lab, mut d)) = two_servers("failover", Duration::from_secs(3), false) else {
        return;
    };
    assert_eq!(
        login(&mut d, b"pap-password"),
        (Code::AccessAccept, ServerId(1))
    );
    assert!(d.events.iter().any(|e| matches!(
        e,
        Event::ServerDead {
            server: ServerId(0)
        }
    )));
    let servers: Vec<_> = d.client.servers().collect();
    assert!(matches!(servers[0].state, ServerState::Dead { .. }));
    assert_eq!(
        (
            servers[0].stats.requests,
            servers[0].stats.retransmissions,
            servers[0].stats.timeouts
        ),
        (1, 1, 1)
    );
    // While the first is dead, requests go straight to the second.
    assert_eq!(login(&mut d, b"wrong"), (Code::AccessReject, ServerId(1)));
    assert_eq!(d.client.servers().next().unwrap().stats.requests, 1);
    // The first server comes up; after its dead time it is preferred again.
    lab.start_freeradius(1);
    d.run_until(LIMIT, |events| first_alive(events, None));
    assert_eq!(
        login(&mut d, b"pap-password"),
        (Code::AccessAccept, ServerId(0))
    );
    let packets = lab.judge();
    assert_valid(&packets, |code| code != 1);
}

#[test]
fn a_dead_server_is_probed_with_status_server_and_no_login_waits_on_it() {
    let Some((mut lab, mut d)) = two_servers("status", Duration::from_secs(1), true) else {
        return;
    };
    assert_eq!(login(&mut d, b"pap-password").1, ServerId(1));
    let first_stats = |d: &Driver| d.client.servers().next().unwrap().stats;
    // Still down: its probes go unanswered and it stays dead.
    let deadline = std::time::Instant::now() + LIMIT;
    while first_stats(&d).probes_timed_out == 0 {
        assert!(std::time::Instant::now() < deadline, "no probe");
        d.run_for(Duration::from_millis(50));
    }
    assert!(matches!(
        d.client.servers().next().unwrap().state,
        ServerState::Dead { .. }
    ));
    d.events.clear();
    lab.start_freeradius(1);
    // Logins keep going to the backup, at once, until a probe brings the first back.
    let mut logins = 0;
    while !first_alive(&d.events, Some(AliveReason::AnsweredStatusServer)) {
        assert!(logins < 100, "no probe answered: {:#?}", d.events);
        // Sent while the first was dead.
        let (_, server) = login(&mut d, b"pap-password");
        assert_eq!(server, ServerId(1), "a login went to the dead server");
        logins += 1;
        d.run_for(Duration::from_millis(100));
    }
    // No user's request was sent to it since it died.
    let s = first_stats(&d);
    assert_eq!((s.requests, s.timeouts), (1, 1), "{s:?}");
    assert!(
        s.probes >= 2 && s.probes_answered == 1 && s.probes_timed_out >= 1,
        "{s:?}"
    );
    assert_eq!(
        login(&mut d, b"pap-password"),
        (Code::AccessAccept, ServerId(0))
    );
    let packets = lab.judge();
    let status_servers = packets.iter().filter(|p| p.0 == 12).count();
    assert!(status_servers >= 2, "{packets:?}");
    // tshark pairs the Access-Accept that answers a Status-Server with an Access-Request of
    // the same Identifier to the other server, and so finds its authenticator wrong (the
    // client checked it); every other answer must check.
    let unchecked = packets
        .iter()
        .filter(|p| p.0 != 1 && p.0 != 12 && p.1 != Some(true))
        .count();
    assert!(unchecked <= 1, "{packets:?}");
}

#[test]
fn radclient_disconnect_and_coa_are_authenticated_and_answered() {
    let Some(mut lab) = Lab::new("dynauth") else {
        return;
    };
    lab.capture();
    let socket = lab.socket("192.0.2.3:3799");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut das = DynAuthServer::new([DynAuthClient {
        // radclient in the namespace reaches 192.0.2.3 over the loopback from that address.
        address: Ipv4Addr::new(192, 0, 2, 3).into(),
        secret: Secret::from(SECRET),
        require_message_authenticator: false,
    }]);
    let dictionary = Lab::radclient_dictionary();
    // Serves one request (or none, for `None`), answering `answer`, while radclient runs.
    let exchange = |lab: &Lab,
                    das: &mut DynAuthServer,
                    kind: &str,
                    secret: &str,
                    input: &str,
                    answer: Option<Answer>|
     -> (String, Vec<Incoming>) {
        let socket = socket.try_clone().unwrap();
        let argv: Vec<String> = [
            "radclient",
            "-x",
            "-t",
            "2",
            "-r",
            "1",
            "-d",
            &dictionary,
            "192.0.2.3:3799",
            kind,
            secret,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ns = lab.ns.clone();
        let input = input.to_string();
        let runner = std::thread::spawn(move || {
            std::process::Command::new("ip")
                .args(["netns", "exec", &ns])
                .args(&argv)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    use std::io::Write;
                    c.stdin.take().unwrap().write_all(input.as_bytes())?;
                    c.wait_with_output()
                })
                .unwrap()
        });
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = std::time::Instant::now() + LIMIT;
        while !runner.is_finished() {
            assert!(std::time::Instant::now() < deadline, "radclient hangs");
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let now = l2tp_proto::time::Instant::from_secs(1);
            match das.handle_request(now, from, &buf[..n]) {
                Ok(Incoming::Request(r)) => {
                    if let Some(answer) = answer {
                        let mut out = Vec::new();
                        das.respond(&r, answer, &Attributes::new(), &mut out)
                            .unwrap();
                        socket.send_to(&out, from).unwrap();
                    }
                    seen.push(Incoming::Request(r));
                }
                Ok(other) => seen.push(other),
                Err(e) => eprintln!("dropped: {e}"),
            }
        }
        let out = runner.join().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (text, seen)
    };

    let (text, seen) = exchange(
        &lab,
        &mut das,
        "disconnect",
        SECRET,
        "User-Name = \"pap-user\", Acct-Session-Id = \"0000beef\", \
         Message-Authenticator = 0x00\n",
        Some(Answer::Ack(None)),
    );
    assert!(text.contains("Received Disconnect-ACK"), "{text}");
    let Some(Incoming::Request(r)) = seen.first() else {
        panic!("no request: {text}");
    };
    assert_eq!(r.packet.code, Code::DisconnectRequest);
    assert_eq!(r.packet.attributes.acct_session_id(), Some("0000beef"));
    assert!(
        r.packet
            .attributes
            .contains(AttrType::MESSAGE_AUTHENTICATOR)
    );

    let (text, _) = exchange(
        &lab,
        &mut das,
        "coa",
        SECRET,
        "User-Name = \"pap-user\", Acct-Session-Id = \"0000dead\", Session-Timeout = 60\n",
        Some(Answer::Nak(Some(error_cause::SESSION_CONTEXT_NOT_FOUND))),
    );
    assert!(text.contains("Received CoA-NAK"), "{text}");
    assert!(
        text.contains("Error-Cause = Session-Context-Not-Found"),
        "{text}"
    );

    // The wrong secret: dropped, radclient hears nothing.
    let (text, seen) = exchange(
        &lab,
        &mut das,
        "disconnect",
        "not-the-secret",
        "User-Name = \"pap-user\"\n",
        Some(Answer::Ack(None)),
    );
    assert!(seen.is_empty(), "{seen:?}");
    assert!(!text.contains("Received"), "{text}");
    let stats = das.stats();
    assert_eq!((stats.acks, stats.naks), (1, 1));
    assert!(stats.bad_authenticators >= 1);

    let packets = lab.judge();
    let count = |code| packets.iter().filter(|p| p.0 == code).count();
    assert_eq!((count(41), count(45)), (1, 1), "{packets:?}");
    // tshark checks the answers' Response Authenticators: valid.
    assert_valid(&packets, |code| code == 41 || code == 45);
}
