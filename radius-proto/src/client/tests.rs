//! Policy tests in virtual time: a [`Sim`] drives the client and plays the servers, which
//! answer with real, correctly signed packets (or stay silent).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use l2tp_proto::rng::DeterministicRng;

use super::*;
use crate::packet::{Packet, encode_response, verify_access_request, verify_request};

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, last), port))
}

fn server(last: u8, port: u16, priority: u8) -> ServerConfig {
    let mut s = ServerConfig::new(addr(last, port), Secret::from(format!("secret-{last}")));
    s.priority = priority;
    s.timeout = Duration::from_secs(1);
    s.retries = 2;
    s.dead_time = Duration::from_secs(10);
    s
}

/// A sent datagram.
#[derive(Clone, Debug)]
struct Sent {
    t: Transmit,
    bytes: Vec<u8>,
}

impl Sent {
    fn packet(&self) -> Packet {
        Packet::decode(&self.bytes).unwrap()
    }
}

struct Sim {
    client: Client,
    now: Instant,
}

impl Sim {
    fn new(config: ClientConfig) -> Self {
        Self {
            client: Client::new(config, Box::new(DeterministicRng::new(1))).unwrap(),
            now: Instant::from_secs(1000),
        }
    }

    fn access(&mut self, user: &str) -> RequestHandle {
        let mut a = Attributes::new();
        a.push_user_name(user).unwrap();
        a.push_user_password(b"password").unwrap();
        self.client.submit(self.now, Service::Access, a)
    }

    fn accounting(&mut self, status: u32, session: &str) -> RequestHandle {
        let mut a = Attributes::new();
        a.push_acct_status_type(status).unwrap();
        a.push_acct_session_id(session).unwrap();
        self.client.submit(self.now, Service::Accounting, a)
    }

    fn transmits(&mut self) -> Vec<Sent> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(t) = self.client.poll_transmit(&mut buf) {
            out.push(Sent {
                t,
                bytes: buf.clone(),
            });
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Hands the client `bytes` from the server `sent` went to, on the socket it left from.
    fn deliver(&mut self, sent: &Sent, bytes: &[u8]) {
        self.client
            .handle_datagram(self.now, sent.t.socket, sent.t.destination, bytes);
    }

    /// Answers `sent` as its server would, with `code` and `attrs`.
    fn answer_with(&mut self, sent: &Sent, code: Code, attrs: &Attributes, secret: &Secret) {
        let ma = code != Code::AccountingResponse;
        self.deliver(sent, &encode_answer(sent, code, attrs, secret, ma));
    }

    fn answer(&mut self, sent: &Sent, code: Code) {
        let secret = self.client.server_secret(sent.t.server).unwrap().clone();
        self.answer_with(sent, code, &Attributes::new(), &secret);
    }

    /// Moves the clock to `at` and runs the timers.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
    }

    fn server_info(&self, id: u16) -> ServerInfo {
        self.client.servers().nth(usize::from(id)).unwrap()
    }
}

/// An answer to `sent` with `code` and `attrs`, signed with `secret`; with a
/// Message-Authenticator if `message_authenticator`.
fn encode_answer(
    sent: &Sent,
    code: Code,
    attrs: &Attributes,
    secret: &Secret,
    message_authenticator: bool,
) -> Vec<u8> {
    let request = sent.packet();
    let mut out = Vec::new();
    encode_response(
        &mut out,
        code,
        request.identifier,
        &request.authenticator,
        attrs,
        secret,
        message_authenticator,
    )
    .unwrap();
    out
}

/// Sends `user`'s Access-Request to the preferred server (192.0.2.1, index `preferred`),
/// which stays silent until it is dead; the request fails over to the backup (192.0.2.2),
/// which answers.
fn fail_over(sim: &mut Sim, user: &str, preferred: u16) {
    let h = sim.access(user);
    assert_eq!(sim.transmits()[0].t.destination, addr(1, 1812));
    for _ in 0..2 {
        sim.advance(Duration::from_secs(1));
        assert_eq!(sim.transmits().len(), 1, "a retransmission");
    }
    sim.advance(Duration::from_secs(1));
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].t.destination, addr(2, 1812));
    assert!(matches!(
        sim.events()[..],
        [Event::ServerDead { server }] if server == ServerId(preferred)
    ));
    sim.answer(&sent[0], Code::AccessAccept);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccessAccept));
}

/// The end of server `id`'s dead time.
fn dead_until(sim: &Sim, id: u16) -> Instant {
    match sim.server_info(id).state {
        ServerState::Dead { until } => until,
        ServerState::Alive => panic!("server {id} is alive"),
    }
}

/// Runs the clock to the end of server `id`'s dead time, which a timer is set for.
fn end_dead_time(sim: &mut Sim, id: u16) {
    let until = dead_until(sim, id);
    assert!(sim.client.poll_timeout().unwrap() <= until);
    sim.advance(until.saturating_duration_since(sim.now));
}

fn reply_code(events: &[Event], handle: RequestHandle) -> Option<Code> {
    events.iter().find_map(|e| match e {
        Event::Reply { handle: h, reply } if *h == handle => Some(reply.code()),
        _ => None,
    })
}

fn failure(events: &[Event], handle: RequestHandle) -> Option<Failure> {
    events.iter().find_map(|e| match e {
        Event::Failed { handle: h, failure } if *h == handle => Some(*failure),
        _ => None,
    })
}

fn one_server() -> ClientConfig {
    ClientConfig {
        access_servers: vec![server(1, 1812, 0)],
        accounting_servers: vec![server(1, 1813, 0)],
        ..ClientConfig::default()
    }
}

#[test]
fn access_request_is_answered() {
    let mut sim = Sim::new(one_server());
    let h = sim.access("alice");
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].t.destination, addr(1, 1812));
    let secret = Secret::from("secret-1");
    // The request carries a valid Message-Authenticator and the password hidden.
    let p = verify_access_request(&sent[0].bytes, &secret, true).unwrap();
    assert_eq!(p.user_password(&secret).unwrap().unwrap(), b"password");
    assert_eq!(
        sim.client.poll_timeout(),
        Some(sim.now + Duration::from_secs(1))
    );
    sim.now += Duration::from_millis(20);
    let mut attrs = Attributes::new();
    attrs
        .push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 1))
        .unwrap();
    sim.answer_with(&sent[0], Code::AccessAccept, &attrs, &secret);
    let events = sim.events();
    let Some(Event::Reply { handle, reply }) = events.first() else {
        panic!("{events:?}");
    };
    assert_eq!(*handle, h);
    assert_eq!(reply.code(), Code::AccessAccept);
    assert_eq!(
        reply.packet.attributes.framed_ip_address(),
        Some(Ipv4Addr::new(198, 51, 100, 1))
    );
    assert_eq!(reply.rtt, Duration::from_millis(20));
    let info = sim.server_info(0);
    assert_eq!((info.stats.requests, info.stats.accepts), (1, 1));
    assert_eq!(info.outstanding, 0);
    assert_eq!(sim.client.pending(), 0);
    // A repeated answer is a duplicate.
    sim.answer_with(&sent[0], Code::AccessAccept, &attrs, &secret);
    assert!(sim.events().is_empty());
    let stats = sim.server_info(0).stats;
    assert_eq!((stats.duplicates, stats.malformed), (1, 0));
}

#[test]
fn an_answer_to_a_retransmitted_request_is_no_round_trip_sample() {
    let mut sim = Sim::new(one_server());
    sim.access("slow");
    let first = sim.transmits();
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.transmits().len(), 1);
    // Half a second after the retransmission, 1.5 s after the first: which one it answers
    // cannot be told.
    sim.advance(Duration::from_millis(500));
    sim.answer(&first[0], Code::AccessAccept);
    let stats = sim.server_info(0).stats;
    assert_eq!((stats.accepts, stats.smoothed_rtt), (1, Duration::ZERO));
    sim.access("quick");
    let sent = sim.transmits();
    sim.now += Duration::from_millis(30);
    sim.answer(&sent[0], Code::AccessAccept);
    let stats = sim.server_info(0).stats;
    assert_eq!(stats.smoothed_rtt, Duration::from_millis(30));
}

#[test]
fn forged_and_unsigned_answers_are_dropped() {
    let mut sim = Sim::new(one_server());
    let h = sim.access("bob");
    let sent = sim.transmits();
    // Wrong secret: counted and dropped; the request keeps waiting.
    sim.answer_with(
        &sent[0],
        Code::AccessAccept,
        &Attributes::new(),
        &Secret::from("x"),
    );
    assert!(sim.events().is_empty());
    assert_eq!(sim.server_info(0).stats.bad_authenticators, 1);
    // A correct Response Authenticator but no Message-Authenticator: refused by default.
    let secret = Secret::from("secret-1");
    let out = encode_answer(
        &sent[0],
        Code::AccessAccept,
        &Attributes::new(),
        &secret,
        false,
    );
    sim.deliver(&sent[0], &out);
    assert!(sim.events().is_empty());
    assert_eq!(sim.server_info(0).stats.bad_authenticators, 2);
    // From an unknown address: counted apart.
    sim.client
        .handle_datagram(sim.now, sent[0].t.socket, addr(9, 1812), &out);
    assert_eq!(sim.client.stats().unknown_source, 1);
    sim.answer(&sent[0], Code::AccessReject);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccessReject));
}

#[test]
fn old_servers_may_be_allowed_to_omit_message_authenticator() {
    let mut config = one_server();
    config.access_servers[0].require_message_authenticator = false;
    let mut sim = Sim::new(config);
    let h = sim.access("carol");
    let sent = sim.transmits();
    let secret = Secret::from("secret-1");
    let out = encode_answer(
        &sent[0],
        Code::AccessAccept,
        &Attributes::new(),
        &secret,
        false,
    );
    sim.deliver(&sent[0], &out);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccessAccept));
}

#[test]
fn access_retransmissions_keep_identifier_and_authenticator() {
    let mut sim = Sim::new(one_server());
    let h = sim.access("dave");
    let first = sim.transmits();
    sim.advance(Duration::from_secs(1));
    let second = sim.transmits();
    assert_eq!(second.len(), 1);
    assert_eq!(first[0].bytes, second[0].bytes);
    assert_eq!(sim.server_info(0).stats.retransmissions, 1);
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.transmits().len(), 1);
    // Retries exhausted: the only server is dead and the request has timed out.
    sim.advance(Duration::from_secs(1));
    let events = sim.events();
    assert!(matches!(
        events[0],
        Event::ServerDead {
            server: ServerId(0)
        }
    ));
    assert_eq!(failure(&events, h), Some(Failure::TimedOut));
    assert_eq!(sim.server_info(0).stats.timeouts, 1);
    // While it is dead, a new request fails at once.
    let h2 = sim.access("erin");
    assert_eq!(failure(&sim.events(), h2), Some(Failure::NoServer));
    assert!(sim.transmits().is_empty());
    // After the dead time it is used again.
    sim.advance(Duration::from_secs(10));
    assert!(matches!(
        sim.events()[..],
        [Event::ServerAlive {
            server: ServerId(0),
            reason: AliveReason::DeadTimeOver,
        }]
    ));
    sim.access("frank");
    assert_eq!(sim.transmits().len(), 1);
}

#[test]
fn fail_over_to_the_next_server_and_back_after_dead_time() {
    let config = ClientConfig {
        access_servers: vec![server(2, 1812, 1), server(1, 1812, 0)],
        ..ClientConfig::default()
    };
    let mut sim = Sim::new(config);
    // Priority 0 first: the second in the list.
    fail_over(&mut sim, "gina", 1);
    // While the first is dead, requests go to the second at once.
    sim.access("hank");
    assert_eq!(sim.transmits()[0].t.destination, addr(2, 1812));
    // The dead time is over: back to the preferred server.
    end_dead_time(&mut sim, 1);
    // (Meanwhile the second server, never answering "hank", died too.)
    sim.transmits();
    assert!(sim.events().iter().any(|e| matches!(
        e,
        Event::ServerAlive {
            server: ServerId(1),
            ..
        }
    )));
    sim.access("iris");
    assert_eq!(sim.transmits()[0].t.destination, addr(1, 1812));
}

#[test]
fn accounting_retransmissions_update_delay_identifier_and_authenticator() {
    let mut sim = Sim::new(one_server());
    let h = sim.accounting(values::acct_status_type::START, "s1");
    let first = sim.transmits();
    let secret = Secret::from("secret-1");
    let p1 = verify_request(&first[0].bytes, &secret, false).unwrap();
    assert_eq!(p1.attributes.acct_delay_time(), Some(0));
    sim.advance(Duration::from_secs(1));
    sim.now += Duration::from_secs(1);
    sim.client.handle_timeout(sim.now);
    let later = sim.transmits();
    assert_eq!(later.len(), 2);
    let p3 = verify_request(&later[1].bytes, &secret, false).unwrap();
    assert_eq!(p3.attributes.acct_delay_time(), Some(2));
    assert_ne!(p1.identifier, p3.identifier);
    assert_ne!(p1.authenticator, p3.authenticator);
    // The latest transmission is answered; a late answer to the first is a duplicate.
    sim.answer(&later[1], Code::AccountingResponse);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccountingResponse));
    sim.answer(&first[0], Code::AccountingResponse);
    assert!(sim.events().is_empty());
    let stats = sim.server_info(1).stats;
    assert_eq!((stats.duplicates, stats.malformed), (1, 0));
}

#[test]
fn outstanding_cap_queues_a_storm() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 2;
    let mut sim = Sim::new(config);
    let handles: Vec<_> = (0..5).map(|i| sim.access(&format!("u{i}"))).collect();
    let sent = sim.transmits();
    assert_eq!(sent.len(), 2);
    assert_eq!(sim.client.queued(Service::Access), 3);
    assert_eq!(sim.server_info(0).outstanding, 2);
    sim.answer(&sent[0], Code::AccessAccept);
    let next = sim.transmits();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].packet().attributes.user_name(), Some("u2"));
    // A cancelled queued request is skipped.
    assert!(sim.client.cancel(sim.now, handles[3]));
    assert!(!sim.client.cancel(sim.now, handles[3]));
    sim.answer(&sent[1], Code::AccessAccept);
    sim.answer(&next[0], Code::AccessAccept);
    let last = sim.transmits();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].packet().attributes.user_name(), Some("u4"));
    assert_eq!(sim.client.queued(Service::Access), 0);
}

#[test]
fn access_queue_is_bounded() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 1;
    config.max_queued_access = 2;
    let mut sim = Sim::new(config);
    for i in 0..3 {
        sim.access(&format!("u{i}"));
    }
    let h = sim.access("u3");
    assert_eq!(failure(&sim.events(), h), Some(Failure::QueueFull));
    assert_eq!(sim.client.stats().access_queue_full, 1);
}

#[test]
fn identifiers_past_256_take_more_sockets() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 600;
    let mut sim = Sim::new(config);
    for i in 0..600 {
        sim.access(&format!("u{i}"));
    }
    let mut sent = sim.transmits();
    assert_eq!(sent.len(), 256);
    assert!(matches!(sim.events()[..], [Event::SocketWanted]));
    assert_eq!(sim.client.add_socket(sim.now), SocketId(1));
    sent.extend(sim.transmits());
    assert_eq!(sent.len(), 512);
    assert!(matches!(sim.events()[..], [Event::SocketWanted]));
    sim.client.add_socket(sim.now);
    sent.extend(sim.transmits());
    assert_eq!(sent.len(), 600);
    let pairs: HashSet<(SocketId, u8)> = sent
        .iter()
        .map(|s| (s.t.socket, s.packet().identifier))
        .collect();
    assert_eq!(pairs.len(), 600);
    // Answers are matched by socket and identifier.
    for s in sent.iter().rev() {
        sim.answer(s, Code::AccessAccept);
    }
    let events = sim.events();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Reply { .. }))
            .count(),
        600
    );
    assert_eq!(sim.client.pending(), 0);
}

#[test]
fn no_more_sockets_than_allowed() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 1000;
    config.max_sockets = 1;
    let mut sim = Sim::new(config);
    for i in 0..300 {
        sim.access(&format!("u{i}"));
    }
    assert_eq!(sim.transmits().len(), 256);
    assert!(sim.events().is_empty());
    assert_eq!(sim.client.queued(Service::Access), 44);
}

#[test]
fn accounting_waits_for_a_server_and_the_queue_drops_interim_first() {
    let mut config = one_server();
    config.accounting_servers[0].max_outstanding = 1;
    config.max_queued_accounting = 3;
    let mut sim = Sim::new(config);
    use values::acct_status_type::{INTERIM_UPDATE, START, STOP};
    let start = sim.accounting(START, "a");
    let interim1 = sim.accounting(INTERIM_UPDATE, "a");
    let interim2 = sim.accounting(INTERIM_UPDATE, "a");
    let stop = sim.accounting(STOP, "a");
    assert!(sim.events().is_empty());
    // The queue holds 3; one more drops the oldest queued Interim-Update.
    let start_b = sim.accounting(START, "b");
    let events = sim.events();
    assert!(
        matches!(events[..], [Event::AccountingDropped { handle }] if handle == interim1),
        "{events:?}"
    );
    assert_eq!(sim.client.stats().accounting_dropped, 1);
    // The server never answers: dead; the Start goes back to the queue instead of failing,
    // and the bound holds: the other Interim-Update makes room.
    for _ in 0..3 {
        sim.advance(Duration::from_secs(1));
    }
    let events = sim.events();
    assert!(
        matches!(
            events[..],
            [Event::ServerDead { .. }, Event::AccountingDropped { handle }] if handle == interim2
        ),
        "{events:?}"
    );
    assert_eq!(sim.client.queued(Service::Accounting), 3);
    assert_eq!(sim.client.pending(), 3);
    sim.transmits();
    // Back after the dead time: everything is delivered, in order, with its delay.
    sim.advance(Duration::from_secs(10));
    let mut delivered = Vec::new();
    for _ in 0..10 {
        for s in sim.transmits() {
            let p = s.packet();
            delivered.push((
                p.attributes.acct_status_type().unwrap(),
                p.attributes.acct_session_id().unwrap().to_string(),
                p.attributes.acct_delay_time().unwrap(),
            ));
            sim.answer(&s, Code::AccountingResponse);
        }
    }
    assert_eq!(
        delivered,
        [
            (START, "a".to_string(), 13),
            (STOP, "a".to_string(), 13),
            (START, "b".to_string(), 13),
        ]
    );
    let events = sim.events();
    for h in [start, stop, start_b] {
        assert_eq!(
            reply_code(&events, h),
            Some(Code::AccountingResponse),
            "{h:?}"
        );
    }
    assert_eq!(sim.client.stats().accounting_dropped, 2);
    assert_eq!(sim.client.pending(), 0);
}

#[test]
fn accounting_fails_over_and_every_record_is_accounted_for() {
    let config = ClientConfig {
        accounting_servers: vec![server(1, 1813, 0), server(2, 1813, 0)],
        max_queued_accounting: 5,
        ..ClientConfig::default()
    };
    let mut sim = Sim::new(config);
    let handles: Vec<_> = (0..20)
        .map(|i| sim.accounting(values::acct_status_type::INTERIM_UPDATE, &format!("s{i}")))
        .collect();
    // Equal priority: the load is shared.
    let sent = sim.transmits();
    assert_eq!(sent.len(), 20);
    let to_first = sent
        .iter()
        .filter(|s| s.t.destination == addr(1, 1813))
        .count();
    assert_eq!(to_first, 10);
    // Nobody answers for a long time; then the second server answers everything.
    let mut events = Vec::new();
    for _ in 0..200 {
        if sim.client.pending() == 0 {
            break;
        }
        sim.advance(Duration::from_secs(1));
        events.extend(sim.events());
        for s in sim.transmits() {
            if s.t.destination == addr(2, 1813) && sim.now > Instant::from_secs(1030) {
                sim.answer(&s, Code::AccountingResponse);
            }
        }
    }
    events.extend(sim.events());
    // Failed over into a queue of 5, most records were dropped, Interim-Updates all.
    assert_eq!(sim.client.stats().accounting_dropped, 15);
    // Each record was either answered or reported dropped: nothing is lost silently.
    for h in handles {
        let answered = reply_code(&events, h).is_some();
        let dropped = events
            .iter()
            .any(|e| matches!(e, Event::AccountingDropped { handle } if *handle == h));
        assert!(
            answered ^ dropped,
            "{h:?} answered={answered} dropped={dropped}"
        );
    }
    assert_eq!(sim.client.pending(), 0);
}

#[test]
fn cancel_in_flight_frees_the_slot() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 1;
    let mut sim = Sim::new(config);
    let a = sim.access("a");
    sim.access("b");
    assert_eq!(sim.transmits().len(), 1);
    assert!(sim.client.cancel(sim.now, a));
    // The slot goes to the queued request at once.
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].packet().attributes.user_name(), Some("b"));
}

#[test]
fn requests_too_long_for_a_packet_fail_at_once() {
    let mut sim = Sim::new(one_server());
    let mut a = Attributes::new();
    for _ in 0..15 {
        a.push(AttrType::CLASS, &[7; 253]).unwrap();
    }
    a.push(AttrType::CLASS, &[7; 233]).unwrap();
    // 20 + 18 + 15 * 255 + 235 = 4098 octets.
    let h = sim.client.submit(sim.now, Service::Access, a.clone());
    assert_eq!(failure(&sim.events(), h), Some(Failure::TooLong));
    // Without the Message-Authenticator of an Access-Request it fits.
    sim.client.submit(sim.now, Service::Accounting, a);
    let sent = sim.transmits();
    assert_eq!(sent[0].bytes.len(), 20 + 15 * 255 + 235 + 6);
    assert_eq!(ServerState::Alive.to_string(), "alive");
    assert_eq!(Service::Accounting.to_string(), "accounting");
}

#[test]
fn answers_to_a_dual_stack_socket_are_matched() {
    let mut sim = Sim::new(one_server());
    let h = sim.access("v6");
    let sent = sim.transmits();
    let mut mapped = sent[0].clone();
    // A dual-stack socket reports an IPv4 peer as an IPv4-mapped IPv6 address.
    mapped.t.destination = "[::ffff:192.0.2.1]:1812".parse().unwrap();
    let secret = Secret::from("secret-1");
    sim.answer_with(&mapped, Code::AccessAccept, &Attributes::new(), &secret);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccessAccept));
}

#[test]
fn a_storm_of_twenty_thousand_requests_is_served_in_order() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 100;
    config.max_queued_access = 20_000;
    let mut sim = Sim::new(config);
    let handles: Vec<_> = (0..20_000).map(|i| sim.access(&format!("u{i}"))).collect();
    assert_eq!(sim.client.queued(Service::Access), 19_900);
    let mut order = Vec::new();
    loop {
        let sent = sim.transmits();
        if sent.is_empty() {
            break;
        }
        assert!(sim.server_info(0).outstanding <= 100);
        for s in sent {
            order.push(s.packet().attributes.user_name().unwrap().to_string());
            sim.answer(&s, Code::AccessAccept);
        }
    }
    let expected: Vec<String> = (0..20_000).map(|i| format!("u{i}")).collect();
    assert_eq!(order, expected);
    let events = sim.events();
    assert_eq!(events.len(), 20_000);
    let answered: HashSet<RequestHandle> = events
        .iter()
        .filter_map(|e| match e {
            Event::Reply { handle, .. } => Some(*handle),
            _ => None,
        })
        .collect();
    assert_eq!(answered, handles.into_iter().collect());
    assert_eq!(sim.client.pending(), 0);
}

#[test]
fn config_errors() {
    let mut config = one_server();
    config.access_servers[0].max_outstanding = 0;
    assert!(matches!(
        Client::new(config, Box::new(DeterministicRng::new(0))),
        Err(ConfigError::Zero(_))
    ));
    let config = ClientConfig {
        access_servers: (0..65).map(|i| server(i, 1812, 0)).collect(),
        ..ClientConfig::default()
    };
    assert!(matches!(
        Client::new(config, Box::new(DeterministicRng::new(0))),
        Err(ConfigError::TooManyServers)
    ));
}

#[test]
fn secrets_are_not_in_debug_output() {
    let sim = Sim::new(one_server());
    let shown = format!("{:?} {:?}", sim.client, one_server());
    assert!(!shown.contains("secret-1"), "{shown}");
}

mod late;
mod reload;
mod status;
