//! Status-Server probes of dead servers (RFC 5997), in virtual time.

use super::*;
use crate::crypt::hmac_md5;

/// A preferred server (192.0.2.1, priority 0) probed with Status-Server and a backup
/// (192.0.2.2, priority 1).
fn pair(port: u16, accounting: bool) -> ClientConfig {
    let mut first = server(1, port, 0);
    first.status_server = true;
    let list = vec![first, server(2, port, 1)];
    if accounting {
        ClientConfig {
            accounting_servers: list,
            ..ClientConfig::default()
        }
    } else {
        ClientConfig {
            access_servers: list,
            ..ClientConfig::default()
        }
    }
}

/// Checks that `sent` is a Status-Server with a valid Message-Authenticator and nothing else.
fn assert_probe(sent: &Sent, secret: &Secret) {
    let p = sent.packet();
    assert_eq!(p.code, Code::StatusServer);
    let attrs: Vec<_> = p.attributes.iter().map(|a| a.attr_type).collect();
    assert_eq!(attrs, [AttrType::MESSAGE_AUTHENTICATOR]);
    let mut zeroed = sent.bytes.clone();
    zeroed[22..38].fill(0);
    assert_eq!(hmac_md5(secret, &zeroed)[..], sent.bytes[22..38]);
}

/// Runs the clock to the end of server 0's dead time and returns its probe.
fn probe_after_dead_time(sim: &mut Sim) -> Sent {
    end_dead_time(sim, 0);
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1, "one probe: {sent:?}");
    assert_eq!(sent[0].t.destination, addr(1, 1812));
    sent.into_iter().next().unwrap()
}

#[test]
fn a_dead_server_is_probed_and_comes_back_when_it_answers() {
    let mut sim = Sim::new(pair(1812, false));
    fail_over(&mut sim, "alice", 0);
    let probe = probe_after_dead_time(&mut sim);
    assert_probe(&probe, &Secret::from("secret-1"));
    // Still dead: no event, and real requests keep going to the backup.
    assert!(sim.events().is_empty());
    assert!(matches!(sim.server_info(0).state, ServerState::Dead { .. }));
    let h = sim.access("bob");
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].t.destination, addr(2, 1812));
    assert_eq!(sim.server_info(0).stats.requests, 1);
    // The probe's answer brings the preferred server back; the next request goes to it.
    sim.answer(&probe, Code::AccessAccept);
    assert!(matches!(
        sim.events()[..],
        [Event::ServerAlive {
            server: ServerId(0),
            reason: AliveReason::AnsweredStatusServer,
        }]
    ));
    let stats = sim.server_info(0).stats;
    assert_eq!(
        (stats.probes, stats.probes_answered, stats.probes_timed_out),
        (1, 1, 0)
    );
    assert_eq!(
        stats.accepts, 0,
        "a probe's answer is no user's Access-Accept"
    );
    sim.answer(&sent[0], Code::AccessReject);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccessReject));
    sim.access("carol");
    assert_eq!(sim.transmits()[0].t.destination, addr(1, 1812));
}

#[test]
fn an_unanswered_probe_leaves_the_server_dead_for_another_dead_time() {
    let mut sim = Sim::new(pair(1812, false));
    fail_over(&mut sim, "dave", 0);
    let probe = probe_after_dead_time(&mut sim);
    // No retransmission: after one timeout the probe is over and the server dead again.
    sim.advance(Duration::from_millis(999));
    assert!(sim.transmits().is_empty());
    sim.advance(Duration::from_millis(1));
    assert!(sim.transmits().is_empty());
    assert!(sim.events().is_empty());
    assert_eq!(dead_until(&sim, 0), sim.now + Duration::from_secs(10));
    assert_eq!(sim.server_info(0).stats.probes_timed_out, 1);
    // A late answer to it is not taken, and counted as a duplicate, not as malformed.
    sim.answer(&probe, Code::AccessAccept);
    assert!(sim.events().is_empty());
    assert!(matches!(sim.server_info(0).state, ServerState::Dead { .. }));
    let stats = sim.server_info(0).stats;
    assert_eq!((stats.duplicates, stats.malformed), (1, 0));
    // Then a new probe, with a new Identifier.
    let again = probe_after_dead_time(&mut sim);
    assert_probe(&again, &Secret::from("secret-1"));
    assert_ne!(again.packet().identifier, probe.packet().identifier);
    assert_eq!(sim.server_info(0).stats.probes, 2);
}

#[test]
fn forged_or_wrong_answers_to_a_probe_are_ignored() {
    let mut sim = Sim::new(pair(1812, false));
    fail_over(&mut sim, "erin", 0);
    let probe = probe_after_dead_time(&mut sim);
    // Signed with another secret.
    sim.answer_with(
        &probe,
        Code::AccessAccept,
        &Attributes::new(),
        &Secret::from("guess"),
    );
    assert_eq!(sim.server_info(0).stats.bad_authenticators, 1);
    // Without Message-Authenticator (required by default).
    let secret = Secret::from("secret-1");
    let out = encode_answer(
        &probe,
        Code::AccessAccept,
        &Attributes::new(),
        &secret,
        false,
    );
    sim.deliver(&probe, &out);
    assert_eq!(sim.server_info(0).stats.bad_authenticators, 2);
    // A valid Access-Reject is not the answer RFC 5997 names.
    sim.answer(&probe, Code::AccessReject);
    assert_eq!(sim.server_info(0).stats.malformed, 1);
    assert!(sim.events().is_empty());
    assert!(matches!(sim.server_info(0).state, ServerState::Dead { .. }));
    assert_eq!(sim.server_info(0).stats.probes_answered, 0);
    // The real answer still counts.
    sim.answer(&probe, Code::AccessAccept);
    assert_eq!(sim.server_info(0).state, ServerState::Alive);
}

#[test]
fn with_no_server_alive_real_requests_still_try_a_probed_server() {
    let mut config = one_server();
    config.access_servers[0].status_server = true;
    let mut sim = Sim::new(config);
    let h = sim.access("frank");
    sim.transmits();
    for _ in 0..3 {
        sim.advance(Duration::from_secs(1));
    }
    assert_eq!(failure(&sim.events(), h), Some(Failure::TimedOut));
    let probe = probe_after_dead_time(&mut sim);
    assert_eq!(probe.packet().code, Code::StatusServer);
    // The only server is under probe: a login is not refused for it.
    let h = sim.access("gina");
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].packet().code, Code::AccessRequest);
    sim.answer(&sent[0], Code::AccessAccept);
    let events = sim.events();
    assert_eq!(reply_code(&events, h), Some(Code::AccessAccept));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::ServerAlive {
            server: ServerId(0),
            reason: AliveReason::Answered,
        }
    )));
    // The probe ends on its own; an alive server stays alive.
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.server_info(0).state, ServerState::Alive);
    assert_eq!(sim.server_info(0).stats.probes_timed_out, 1);
    assert_eq!(sim.client.poll_timeout(), None);
}

#[test]
fn when_the_backup_dies_during_a_probe_requests_fall_back_on_the_probed_server() {
    let mut sim = Sim::new(pair(1812, false));
    fail_over(&mut sim, "hank", 0);
    let _probe = probe_after_dead_time(&mut sim);
    // The backup goes silent too.
    let h = sim.access("iris");
    assert_eq!(sim.transmits()[0].t.destination, addr(2, 1812));
    sim.advance(Duration::from_millis(500));
    // (The probe is over, unanswered: server 0 is dead for another dead time.)
    sim.advance(Duration::from_millis(500));
    sim.advance(Duration::from_secs(1));
    sim.advance(Duration::from_secs(1));
    let events = sim.events();
    assert_eq!(failure(&events, h), Some(Failure::TimedOut));
    // Both dead: the next request is refused until a dead time is over, then it may go to
    // the server whose dead time ends first while its probe is in flight.
    end_dead_time(&mut sim, 0);
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].packet().code, Code::StatusServer);
    sim.access("jack");
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].packet().code, Code::AccessRequest);
    assert_eq!(sent[0].t.destination, addr(1, 1812));
}

#[test]
fn an_accounting_server_is_probed_on_its_port_and_answers_with_accounting_response() {
    let mut sim = Sim::new(pair(1813, true));
    let h = sim.accounting(values::acct_status_type::START, "s1");
    assert_eq!(sim.transmits()[0].t.destination, addr(1, 1813));
    for _ in 0..3 {
        sim.advance(Duration::from_secs(1));
    }
    let sent = sim.transmits();
    assert_eq!(sent[0].t.destination, addr(2, 1813));
    sim.answer(&sent[0], Code::AccountingResponse);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccountingResponse));
    end_dead_time(&mut sim, 0);
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].t.destination, addr(1, 1813));
    assert_probe(&sent[0], &Secret::from("secret-1"));
    // An Access-Accept is not the answer of an accounting port.
    sim.answer(&sent[0], Code::AccessAccept);
    assert!(sim.events().is_empty());
    sim.answer(&sent[0], Code::AccountingResponse);
    assert!(matches!(
        sim.events()[..],
        [Event::ServerAlive {
            server: ServerId(0),
            reason: AliveReason::AnsweredStatusServer,
        }]
    ));
}

#[test]
fn without_status_server_the_dead_time_alone_brings_a_server_back() {
    let mut config = pair(1812, false);
    config.access_servers[0].status_server = false;
    let mut sim = Sim::new(config);
    fail_over(&mut sim, "kate", 0);
    end_dead_time(&mut sim, 0);
    assert!(sim.transmits().is_empty(), "no probe");
    assert!(matches!(
        sim.events()[..],
        [Event::ServerAlive {
            server: ServerId(0),
            reason: AliveReason::DeadTimeOver,
        }]
    ));
    sim.access("liam");
    assert_eq!(sim.transmits()[0].t.destination, addr(1, 1812));
    assert_eq!(sim.server_info(0).stats.probes, 0);
}

#[test]
fn a_reload_keeps_a_probe_not_yet_sent() {
    let mut sim = Sim::new(pair(1812, false));
    fail_over(&mut sim, "mia", 0);
    end_dead_time(&mut sim, 0);
    // Reload before the probe is handed out, with the backup now listed first.
    let mut config = pair(1812, false);
    config.access_servers.reverse();
    sim.client.reconfigure(sim.now, config).unwrap();
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].t.destination, addr(1, 1812));
    assert_eq!(sent[0].t.server, ServerId(1));
    sim.answer(&sent[0], Code::AccessAccept);
    assert_eq!(sim.server_info(1).state, ServerState::Alive);
}

#[test]
fn a_reload_that_turns_probing_off_brings_the_server_back_as_before() {
    let mut sim = Sim::new(pair(1812, false));
    fail_over(&mut sim, "noah", 0);
    let _probe = probe_after_dead_time(&mut sim);
    let mut config = pair(1812, false);
    config.access_servers[0].status_server = false;
    sim.client.reconfigure(sim.now, config).unwrap();
    sim.advance(Duration::from_millis(1));
    assert!(matches!(
        sim.events()[..],
        [Event::ServerAlive {
            server: ServerId(0),
            reason: AliveReason::DeadTimeOver,
        }]
    ));
    sim.access("olga");
    assert_eq!(sim.transmits()[0].t.destination, addr(1, 1812));
}
