//! Scenarios of [`Sessions`] against LNS-side links of `ppp-proto` (authenticators that check
//! the password and assign addresses), over L2TPv3 data messages with cookies and the default
//! sublayer, or L2TPv2 ones: every frame the sessions send is parsed as the LNS would
//! (`l2tp_proto::wire`), and every frame of the LNS is framed for the session it belongs to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, SocketAddr};

use l2tp_proto::wire::avp::types::pw_type;
use l2tp_proto::wire::header::{
    Cookie, DefaultSublayer, Encapsulation, L2SpecificSublayer, V2DataHeader, V3DataHeader,
};
use l2tp_proto::{DeterministicRng, SessionHandle};
use ppp_proto::{
    AuthMethod, Event as LinkEvent, Ipv4Params, NetworkParams, PeerCredentials, ProxiedAuth,
    ProxiedLcp,
};

use super::*;

const LNS: &str = "192.0.2.1:1701";
const PASSWORD: &str = "secret-password";

/// The session `i` of the test: our ids and cookie, the LNS's.
fn params(i: u32) -> SessionParams {
    SessionParams {
        handle: SessionHandle(u64::from(i)),
        tunnel_id: 10,
        session_id: 100 + i,
        peer_tunnel_id: 20,
        peer_session_id: 200 + i,
        pw_type: pw_type::PPP,
        cookie: Cookie::new(&[1, 2, 3, i as u8]).unwrap(),
        peer_cookie: Cookie::new(&[9, 9, 9, 9, 9, 9, 9, i as u8]).unwrap(),
        l2spec: L2SpecificSublayer::Default,
        send_seq: false,
        recv_seq: false,
        lns: false,
        interface_name: None,
        proxy: None,
        connect_speed: None,
    }
}

/// The LNS's side of the sessions: a link per session, authenticating with `method` and giving
/// each session the address `address(i)`.
struct Lns {
    version: Version,
    links: Vec<Link>,
    rng: DeterministicRng,
    rejected: usize,
    /// The user name each session's link authenticated with, by session.
    users: Vec<Option<String>>,
    /// Sessions whose next frame is lost (an LNS that did not have the session yet).
    lose_next: Vec<bool>,
}

impl Lns {
    fn new(version: Version, n: u32, method: AuthMethod, address: impl Fn(u32) -> Ipv4Addr) -> Lns {
        let config = Arc::new(LinkConfig {
            authenticate_peer: vec![method],
            ..LinkConfig::default()
        });
        let mut rng = DeterministicRng::new(7);
        let links = (0..n)
            .map(|i| {
                let mut link = Link::new(config.clone(), &mut rng);
                link.set_network(NetworkParams {
                    ipv4: Ipv4Params {
                        local: Some(Ipv4Addr::new(198, 51, 100, 1)),
                        peer: Some(address(i)),
                        ..Ipv4Params::default()
                    },
                    ..NetworkParams::default()
                });
                link
            })
            .collect();
        Lns {
            version,
            links,
            rng,
            rejected: 0,
            users: vec![None; n as usize],
            lose_next: vec![false; n as usize],
        }
    }

    /// A datagram from the sessions: the LNS finds the session by the ids it carries and
    /// checks the cookie and sublayer it expects.
    fn receive(&mut self, now: Instant, datagram: &[u8]) {
        let frame = match Packet::parse(datagram, Encapsulation::Udp).unwrap() {
            Packet::V2Data { header, payload } => {
                assert_eq!(self.version, Version::V2);
                assert_eq!(header.tunnel_id, 20);
                let i = u32::from(header.session_id) - 200;
                Some((i, payload))
            }
            Packet::V3Data { session_id, rest } => {
                assert_eq!(self.version, Version::V3);
                let i = session_id - 200;
                let p = params(i);
                let (header, frame) =
                    V3DataHeader::parse(session_id, rest, p.peer_cookie, p.l2spec).unwrap();
                assert!(header.sublayer.is_some());
                Some((i, frame))
            }
            Packet::Control { .. } => None,
        };
        let (i, frame) = frame.expect("a data message");
        if std::mem::take(&mut self.lose_next[i as usize]) {
            return;
        }
        let link = &mut self.links[i as usize];
        link.handle_frame(now, frame, &mut self.rng);
    }

    /// Everything the LNS's links send, framed for the sessions, after answering their
    /// authentication requests.
    fn transmit(&mut self, now: Instant) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for (i, link) in self.links.iter_mut().enumerate() {
            let i = i as u32;
            while let Some(e) = link.poll_event() {
                if let LinkEvent::Authenticate(req) = e {
                    self.users[i as usize] = Some(String::from_utf8_lossy(&req.user).into_owned());
                    let verdict = req.verify(&Password::from(PASSWORD));
                    if !verdict.is_accept() {
                        self.rejected += 1;
                    }
                    link.auth_verdict(now, req.id, verdict).unwrap();
                }
            }
            while let Some(frame) = link.poll_transmit() {
                let mut d = Vec::new();
                match self.version {
                    Version::V2 => V2DataHeader {
                        tunnel_id: 10,
                        session_id: 100 + i as u16,
                        ..V2DataHeader::default()
                    }
                    .emit(frame.len(), &mut d),
                    Version::V3 => V3DataHeader {
                        session_id: 100 + i,
                        cookie: params(i).cookie,
                        sublayer: Some(DefaultSublayer::default()),
                    }
                    .emit(Encapsulation::Udp, &mut d),
                }
                d.extend_from_slice(frame);
                out.push(d);
            }
        }
        out
    }
}

fn plan(auth: AuthMethod, password: &str) -> PppPlan {
    PppPlan {
        user: "user".into(),
        password: Password::from(password),
        auth,
        echo_interval: None,
        ask_servers: false,
        proxy: false,
        eager: false,
        echo_flood: 0,
    }
}

/// Runs `n` sessions of one tunnel against `lns` until nothing moves (virtual time, jumping to
/// the next timer); returns the sessions.
fn run(version: Version, n: u32, plan: &PppPlan, lns: &mut Lns) -> Sessions {
    let mut s = Sessions::new(
        plan,
        Duration::from_secs(10),
        version,
        1,
        n as usize,
        OsRng(DeterministicRng::new(3)),
    );
    let remote: SocketAddr = LNS.parse().unwrap();
    s.route(0, 0, remote);
    let mut now = Instant::from_secs(1);
    let avps = s.proxy_avps();
    for i in 0..n {
        s.install(i as usize, &params(i));
        s.start(now, i as usize);
        let link = &mut lns.links[i as usize];
        match &avps {
            // An LNS that takes the proxy AVPs, as l2tpd's engine reads them.
            Some(a) => {
                let user = a.authen_name.clone().unwrap();
                let identifier = a.authen_id.unwrap() as u8;
                let response = a.authen_response.clone().unwrap();
                let credentials = match &a.authen_challenge {
                    Some(c) => PeerCredentials::ChapMd5 {
                        identifier,
                        challenge: c.as_slice().try_into().unwrap(),
                        response: response.as_slice().try_into().unwrap(),
                    },
                    None => PeerCredentials::Pap {
                        password: Password::new(response.as_slice()),
                    },
                };
                let lcp = ProxiedLcp {
                    local: a.last_sent_lcp_confreq.as_deref().unwrap(),
                    peer: a.last_received_lcp_confreq.as_deref().unwrap(),
                };
                let auth = ProxiedAuth::Peer {
                    identifier,
                    user,
                    credentials,
                };
                let taken = link.open_proxied(now, lcp, Some(auth), &mut lns.rng);
                assert_eq!(taken, Ok(ppp_proto::Proxied::LcpAndAuth));
            }
            None => link.open(now),
        }
    }
    let mut wire: Vec<Vec<u8>> = Vec::new();
    for _ in 0..200 {
        let mut sent = Vec::new();
        {
            let mut send = |socket: usize, to: SocketAddr, data: &[u8]| {
                assert_eq!((socket, to), (0, remote));
                sent.push(data.to_vec());
            };
            for d in wire.drain(..) {
                s.handle_data(
                    now,
                    Packet::parse(&d, Encapsulation::Udp).unwrap(),
                    &mut send,
                );
            }
            s.handle_timeout(now, &mut send);
        }
        for d in &sent {
            lns.receive(now, d);
        }
        wire = lns.transmit(now);
        if wire.is_empty() && sent.is_empty() {
            let next = [
                s.poll_timeout(),
                lns.links.iter().filter_map(Link::poll_timeout).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t > now && t < Instant::from_secs(60) => now = t,
                _ => break,
            }
            for l in &mut lns.links {
                l.handle_timeout(now);
            }
            wire = lns.transmit(now);
        }
    }
    s
}

#[test]
fn mschapv2_over_l2tpv3_with_cookies_and_sublayer() {
    let mut lns = Lns::new(Version::V3, 3, AuthMethod::MsChapV2, |i| {
        Ipv4Addr::new(198, 51, 100, 10 + i as u8)
    });
    let mut s = run(
        Version::V3,
        3,
        &plan(AuthMethod::MsChapV2, PASSWORD),
        &mut lns,
    );
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::from_secs(1), &mut reasons);
    assert_eq!(r.sessions_up, 3, "{r:?} {reasons:?}");
    assert_eq!(r.addresses, 3);
    assert_eq!(r.duplicate_addresses, 0);
    assert_eq!(r.auth, "mschapv2");
    assert_eq!(s.negotiating(), 0);
    assert_eq!(s.up_now(), 3);
    assert!(reasons.is_empty(), "{reasons:?}");
    assert_eq!(r.data_discarded, 0);
}

#[test]
fn proxied_sessions_start_opened_and_wait_for_the_verdict() {
    for (method, password, up) in [
        (AuthMethod::ChapMd5, PASSWORD, 2),
        (AuthMethod::Pap, PASSWORD, 2),
        (AuthMethod::ChapMd5, "wrong", 0),
    ] {
        let mut lns = Lns::new(Version::V2, 2, method, |i| {
            Ipv4Addr::new(198, 51, 100, 30 + i as u8)
        });
        let plan = PppPlan {
            proxy: true,
            ..plan(method, password)
        };
        let mut s = run(Version::V2, 2, &plan, &mut lns);
        let mut reasons = BTreeMap::new();
        let r = s.report(Duration::from_secs(1), &mut reasons);
        assert_eq!(r.sessions_up, up, "{method}: {r:?} {reasons:?}");
        assert!(r.proxy);
        // Neither side negotiated LCP, and the LNS sent no Challenge.
        assert_eq!((r.lcp_configure_requests_in, r.chap_challenges_in), (0, 0));
        if up == 0 {
            assert_eq!(r.sessions_failed, 2, "{reasons:?}");
            assert_eq!(lns.rejected, 2);
        }
    }
}

#[test]
fn chap_over_l2tpv2() {
    let mut lns = Lns::new(Version::V2, 2, AuthMethod::ChapMd5, |i| {
        Ipv4Addr::new(198, 51, 100, 20 + i as u8)
    });
    let mut s = run(
        Version::V2,
        2,
        &plan(AuthMethod::ChapMd5, PASSWORD),
        &mut lns,
    );
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::from_secs(1), &mut reasons);
    assert_eq!((r.sessions_up, r.addresses), (2, 2), "{r:?} {reasons:?}");
}

#[test]
fn servers_are_asked_for_only_with_ask_servers_and_reported() {
    let servers = |ask: bool| {
        let mut lns = Lns::new(Version::V2, 1, AuthMethod::ChapMd5, |_| {
            Ipv4Addr::new(198, 51, 100, 20)
        });
        for link in &mut lns.links {
            link.set_network(NetworkParams {
                ipv4: Ipv4Params {
                    local: Some(Ipv4Addr::new(198, 51, 100, 1)),
                    peer: Some(Ipv4Addr::new(198, 51, 100, 20)),
                    dns: [Some(Ipv4Addr::new(198, 51, 100, 53)), None],
                    nbns: [Some(Ipv4Addr::new(198, 51, 100, 54)), None],
                },
                ..NetworkParams::default()
            });
        }
        let plan = PppPlan {
            ask_servers: ask,
            ..plan(AuthMethod::ChapMd5, PASSWORD)
        };
        let mut s = run(Version::V2, 1, &plan, &mut lns);
        let r = s.report(Duration::from_secs(1), &mut BTreeMap::new());
        assert_eq!(r.sessions_up, 1, "{r:?}");
        r.servers
    };
    let given = servers(true);
    assert_eq!(
        given.dns.into_iter().collect::<Vec<_>>(),
        [Ipv4Addr::new(198, 51, 100, 53)]
    );
    assert_eq!(
        given.nbns.into_iter().collect::<Vec<_>>(),
        [Ipv4Addr::new(198, 51, 100, 54)]
    );
    assert_eq!(servers(false), Servers::default());
}

#[test]
fn a_numbered_user_name_gives_each_session_its_own() {
    let mut lns = Lns::new(Version::V2, 3, AuthMethod::ChapMd5, |i| {
        Ipv4Addr::new(198, 51, 100, 30 + i as u8)
    });
    let numbered = PppPlan {
        user: "bench%d@example.net".into(),
        ..plan(AuthMethod::ChapMd5, PASSWORD)
    };
    let mut s = run(Version::V2, 3, &numbered, &mut lns);
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::from_secs(1), &mut reasons);
    assert_eq!(r.sessions_up, 3, "{r:?} {reasons:?}");
    let users: Vec<&str> = lns.users.iter().map(|u| u.as_deref().unwrap()).collect();
    assert_eq!(
        users,
        [
            "bench1@example.net",
            "bench2@example.net",
            "bench3@example.net"
        ]
    );
    // Without %d every session has the one name.
    let mut lns = Lns::new(Version::V2, 2, AuthMethod::ChapMd5, |i| {
        Ipv4Addr::new(198, 51, 100, 40 + i as u8)
    });
    run(
        Version::V2,
        2,
        &plan(AuthMethod::ChapMd5, PASSWORD),
        &mut lns,
    );
    assert!(lns.users.iter().all(|u| u.as_deref() == Some("user")));
}

/// Three L2TPv3 CHAP sessions against an LNS that gives the third the first one's address.
fn run_with_a_clash() -> Sessions {
    let mut lns = Lns::new(Version::V3, 3, AuthMethod::ChapMd5, |i| {
        Ipv4Addr::new(198, 51, 100, if i == 2 { 10 } else { 10 + i as u8 })
    });
    run(
        Version::V3,
        3,
        &plan(AuthMethod::ChapMd5, PASSWORD),
        &mut lns,
    )
}

#[test]
fn an_address_given_twice_is_reported_as_the_lnss_fault() {
    let mut s = run_with_a_clash();
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::from_secs(1), &mut reasons);
    assert_eq!(r.sessions_up, 3, "{r:?}");
    assert_eq!(r.addresses, 2);
    assert_eq!(r.duplicate_addresses, 1);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons.keys().all(|k| k.contains("address already given")),
        "{reasons:?}"
    );
}

/// IPCP renegotiated (a path that duplicates frames makes the peers do it) with the address
/// the session had: not another clash, however often it happens.
#[test]
fn an_address_given_twice_is_counted_once_through_renegotiations() {
    let mut s = run_with_a_clash();
    let holders: Vec<usize> = (0..3)
        .filter(|&si| s.slots[si].address == Some(Ipv4Addr::new(198, 51, 100, 10)))
        .collect();
    assert_eq!(holders.len(), 2, "{holders:?}");
    for _ in 0..3 {
        for &si in &holders {
            s.address(Instant::from_secs(20), si, Ipv4Addr::new(198, 51, 100, 10));
        }
    }
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::from_secs(1), &mut reasons);
    assert_eq!(r.duplicate_addresses, 1, "{r:?}");
    assert_eq!(reasons.values().sum::<u64>(), 1, "{reasons:?}");
}

#[test]
fn a_rejected_password_fails_with_the_peers_verdict() {
    let mut lns = Lns::new(Version::V3, 2, AuthMethod::MsChapV2, |i| {
        Ipv4Addr::new(198, 51, 100, 10 + i as u8)
    });
    let mut s = run(
        Version::V3,
        2,
        &plan(AuthMethod::MsChapV2, "wrong"),
        &mut lns,
    );
    assert_eq!(lns.rejected, 2);
    let closing: Vec<usize> = std::iter::from_fn(|| s.pop_close()).collect();
    assert_eq!(closing.len(), 2, "both L2TP sessions are to be closed");
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::from_secs(1), &mut reasons);
    assert_eq!((r.sessions_up, r.sessions_failed), (0, 2), "{r:?}");
    assert_eq!(
        reasons.get("ppp: the peer rejected our credentials (auth_rejected_by_peer)"),
        Some(&2),
        "{reasons:?}"
    );
}

#[test]
fn data_for_no_session_or_with_a_wrong_cookie_is_dropped() {
    let mut s = Sessions::new(
        &plan(AuthMethod::ChapMd5, PASSWORD),
        Duration::from_secs(10),
        Version::V3,
        1,
        1,
        OsRng(DeterministicRng::new(3)),
    );
    s.route(0, 0, LNS.parse().unwrap());
    s.install(0, &params(0));
    s.start(Instant::from_secs(1), 0);
    let mut send = |_: usize, _: SocketAddr, _: &[u8]| panic!("nothing to send");
    for (session_id, cookie) in [(100, [1, 2, 3, 1]), (101, [1, 2, 3, 0])] {
        let mut d = Vec::new();
        V3DataHeader {
            session_id,
            cookie: Cookie::new(&cookie).unwrap(),
            sublayer: Some(DefaultSublayer::default()),
        }
        .emit(Encapsulation::Udp, &mut d);
        d.extend_from_slice(&[0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0]);
        let p = Packet::parse(&d, Encapsulation::Udp).unwrap();
        s.handle_data(Instant::from_secs(1), p, &mut send);
    }
    let mut reasons = BTreeMap::new();
    let r = s.report(Duration::ZERO, &mut reasons);
    assert_eq!((r.data_discarded, r.frames_in), (2, 0), "{r:?}");
}

#[test]
fn a_session_costs_about_half_a_kib() {
    // The link (about 500 octets) and its framing, state and timer; no heap while idle.
    let size = std::mem::size_of::<Slot>();
    eprintln!("{size} octets per session");
    assert!(size <= 576, "{size} octets per session");
}

/// `--ppp-eager`: each link sends its Configure-Request at once; an LNS that takes it needs
/// nothing sent again, one that loses it shows in `lcp_configure_requests_resent`.
#[test]
fn eager_links_open_at_once_and_count_what_was_sent_again() {
    let eager = PppPlan {
        eager: true,
        ..plan(AuthMethod::ChapMd5, PASSWORD)
    };
    for lose_first in [false, true] {
        let mut lns = Lns::new(Version::V2, 3, AuthMethod::ChapMd5, |i| {
            Ipv4Addr::new(198, 51, 100, 40 + i as u8)
        });
        lns.lose_next = vec![lose_first; 3];
        let mut s = run(Version::V2, 3, &eager, &mut lns);
        let r = s.report(Duration::from_secs(1), &mut BTreeMap::new());
        assert_eq!(r.sessions_up, 3, "{r:?}");
        let resent = if lose_first { 3 } else { 0 };
        assert_eq!(r.lcp_configure_requests_resent, resent, "{r:?}");
        // Without loss, no wait: neither for the LNS's Configure-Request nor a restart.
        if !lose_first {
            assert!(r.setup_ms.max < 100.0, "{r:?}");
        } else {
            assert!(r.setup_ms.max >= 3000.0, "{r:?}");
        }
    }
    // Passive links, which open on the LNS's Configure-Request: nothing sent again either.
    let mut lns = Lns::new(Version::V2, 3, AuthMethod::ChapMd5, |i| {
        Ipv4Addr::new(198, 51, 100, 40 + i as u8)
    });
    let mut s = run(
        Version::V2,
        3,
        &plan(AuthMethod::ChapMd5, PASSWORD),
        &mut lns,
    );
    let r = s.report(Duration::from_secs(1), &mut BTreeMap::new());
    assert_eq!(
        (r.sessions_up, r.lcp_configure_requests_resent),
        (3, 0),
        "{r:?}"
    );
}

/// `--ppp-echo-flood`: each session, once up, sends its rate of LCP Echo-Requests with its
/// Magic-Number (the LNS answers every one: none looks like a loop), until the teardown.
#[test]
fn flooding_sessions_send_their_rate_of_echo_requests_until_the_teardown() {
    const RATE: u32 = 1000;
    let flood = PppPlan {
        echo_flood: RATE,
        ..plan(AuthMethod::ChapMd5, PASSWORD)
    };
    let mut lns = Lns::new(Version::V2, 2, AuthMethod::ChapMd5, |i| {
        Ipv4Addr::new(198, 51, 100, 50 + i as u8)
    });
    let mut s = run(Version::V2, 2, &flood, &mut lns);
    // The run stops at its step bound, with the next batch due.
    let end = s.poll_timeout().unwrap();
    s.stop_flood(end);
    let r = s.report(Duration::from_secs(1), &mut BTreeMap::new());
    assert_eq!(r.sessions_up, 2, "{r:?}");
    let f = r.echo_flood.unwrap();
    assert!(f.seconds > 0.1, "{f:?}");
    let owed = 2.0 * f64::from(RATE) * f.seconds;
    let sent = f.echo_requests_sent as f64;
    assert!(
        sent <= owed + 2.0 && sent >= owed - 2.0 * 10.0 - 2.0,
        "{f:?}"
    );
    // Every one answered but the last batch, whose replies were not read.
    assert!(
        f.echo_replies_in + 2 * 10 + 2 >= f.echo_requests_sent,
        "{f:?}"
    );
    assert!(f.echo_replies_in > 0, "{f:?}");
    // The teardown: nothing more is due, nothing more is sent.
    assert_eq!(s.poll_timeout().filter(|t| *t <= end), None);
    let mut sent = 0;
    s.handle_timeout(end + Duration::from_secs(1), &mut |_, _, _| sent += 1);
    assert_eq!(sent, 0);
}
