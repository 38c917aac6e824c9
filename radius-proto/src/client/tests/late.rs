//! A server slower than its timeout: its answer to an earlier transmission arrives after the
//! request was sent again (RFC 2866 §5.2 gives a retransmitted Accounting-Request a new
//! Identifier), or after the request completed.

use super::*;

#[test]
fn accounting_completes_against_a_server_slower_than_its_timeout() {
    let mut sim = Sim::new(one_server());
    let mut handles = Vec::new();
    // Every record is answered only after it was sent again, its first transmission's answer
    // arriving then: the server is slow, not dead.
    for round in 0..5 {
        let h = sim.accounting(values::acct_status_type::START, &format!("s{round}"));
        handles.push(h);
        let first = sim.transmits();
        assert_eq!(first.len(), 1);
        sim.advance(Duration::from_secs(1));
        let second = sim.transmits();
        assert_eq!(second.len(), 1, "sent again after the timeout");
        assert_ne!(first[0].packet().identifier, second[0].packet().identifier);
        sim.advance(Duration::from_millis(500));
        sim.answer(&first[0], Code::AccountingResponse);
        let events = sim.events();
        let Some(Event::Reply { handle, reply }) = events.first() else {
            panic!("round {round}: {events:?}");
        };
        assert_eq!(*handle, h);
        assert_eq!(
            reply.request_authenticator,
            first[0].packet().authenticator,
            "checked against the transmission it answers"
        );
        // The answer to the second transmission follows: a duplicate.
        sim.answer(&second[0], Code::AccountingResponse);
        assert!(sim.events().is_empty());
        sim.advance(Duration::from_secs(3));
        assert!(
            sim.transmits().is_empty(),
            "round {round}: nothing sent again"
        );
    }
    let info = sim.server_info(1);
    assert_eq!(info.state, ServerState::Alive);
    let s = info.stats;
    assert_eq!(
        (
            s.accounting_responses,
            s.duplicates,
            s.malformed,
            s.timeouts
        ),
        (5, 5, 0, 0)
    );
    assert_eq!((info.outstanding, sim.client.pending()), (0, 0));
}

#[test]
fn a_late_answer_to_a_retransmitted_access_request_is_a_duplicate() {
    let mut sim = Sim::new(one_server());
    let h = sim.access("slow");
    let first = sim.transmits();
    sim.advance(Duration::from_secs(1));
    let again = sim.transmits();
    assert_eq!(again.len(), 1);
    sim.advance(Duration::from_millis(200));
    sim.answer(&first[0], Code::AccessAccept);
    assert_eq!(reply_code(&sim.events(), h), Some(Code::AccessAccept));
    sim.answer(&again[0], Code::AccessAccept);
    assert!(sim.events().is_empty());
    let s = sim.server_info(0).stats;
    assert_eq!((s.accepts, s.duplicates, s.malformed), (1, 1, 0));
    // A forged one with that identifier is no duplicate.
    let forged = encode_answer(
        &again[0],
        Code::AccessAccept,
        &Attributes::new(),
        &Secret::from("wrong"),
        true,
    );
    sim.deliver(&again[0], &forged);
    let s = sim.server_info(0).stats;
    assert_eq!((s.duplicates, s.malformed), (1, 1));
}

#[test]
fn retransmissions_with_every_identifier_taken_give_up_the_oldest() {
    let mut config = one_server();
    config.accounting_servers[0].max_outstanding = 300;
    config.max_sockets = 1;
    let mut sim = Sim::new(config);
    for i in 0..200 {
        sim.accounting(values::acct_status_type::START, &format!("s{i}"));
    }
    let first = sim.transmits();
    assert_eq!(first.len(), 200);
    sim.advance(Duration::from_secs(1));
    let second = sim.transmits();
    assert_eq!(second.len(), 200);
    sim.advance(Duration::from_secs(1));
    let third = sim.transmits();
    assert_eq!(third.len(), 200);
    // Each transmission has an identifier no other request's in flight shares.
    let latest: HashSet<u8> = third.iter().map(|s| s.packet().identifier).collect();
    assert_eq!(latest.len(), 200);
    // The answers to the latest transmissions complete every record.
    for s in &third {
        sim.answer(s, Code::AccountingResponse);
    }
    let replies = sim
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Reply { .. }))
        .count();
    assert_eq!(replies, 200);
    let s = sim.server_info(1).stats;
    assert_eq!((s.accounting_responses, s.malformed), (200, 0));
    assert_eq!(sim.client.pending(), 0);
}
