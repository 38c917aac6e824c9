//! Reloads: requests in flight and queued records across a new server list.

use super::*;

#[test]
fn a_reload_keeps_requests_in_flight_to_servers_that_stay_and_moves_the_others() {
    let mut sim = Sim::new(ClientConfig {
        access_servers: vec![server(1, 1812, 0), server(2, 1812, 0)],
        accounting_servers: vec![server(1, 1813, 0)],
        ..ClientConfig::default()
    });
    // Two Access-Requests, one to each server (equal priority shares the load), and a
    // Start to the accounting server.
    let a = sim.access("alice");
    let b = sim.access("bob");
    let start = sim.accounting(values::acct_status_type::START, "s-1");
    let sent = sim.transmits();
    assert_eq!(sent.len(), 3);
    let to = |last: u8, port: u16| sent.iter().find(|s| s.t.destination == addr(last, port));
    let (Some(to1), Some(to2), Some(acct)) = (to(1, 1812), to(2, 1812), to(1, 1813)) else {
        panic!("{sent:?}");
    };
    let (to1, to2, acct) = (to1.clone(), to2.clone(), acct.clone());
    // The reload keeps server 1 (now with a new priority and timeout) and the accounting
    // server, drops server 2 and adds server 3.
    let mut kept = server(1, 1812, 5);
    kept.timeout = Duration::from_secs(4);
    sim.client
        .reconfigure(
            sim.now,
            ClientConfig {
                access_servers: vec![server(3, 1812, 1), kept],
                accounting_servers: vec![server(1, 1813, 0)],
                ..ClientConfig::default()
            },
        )
        .unwrap();
    // The request to server 2 goes to server 3 at once; nothing else is sent again.
    let again = sim.transmits();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].t.destination, addr(3, 1812));
    // Server 1's answer to the request it had is taken, as is the accounting server's
    // (server ids are positions in the new list: answer with the secrets themselves).
    let secret1 = Secret::from("secret-1");
    sim.answer_with(&to1, Code::AccessAccept, &Attributes::new(), &secret1);
    sim.answer_with(
        &acct,
        Code::AccountingResponse,
        &Attributes::new(),
        &secret1,
    );
    // Server 2's late answer is not (it is no longer a server).
    let secret2 = Secret::from("secret-2");
    sim.answer_with(&to2, Code::AccessAccept, &Attributes::new(), &secret2);
    sim.answer(&again[0], Code::AccessReject);
    let events = sim.events();
    assert_eq!(reply_code(&events, a), Some(Code::AccessAccept));
    assert_eq!(reply_code(&events, b), Some(Code::AccessReject));
    assert_eq!(reply_code(&events, start), Some(Code::AccountingResponse));
    assert_eq!(sim.client.pending(), 0);
    // The kept server has its counters and its new settings; the new one its own.
    let infos: Vec<ServerInfo> = sim.client.servers().collect();
    assert_eq!(infos.len(), 3);
    assert_eq!((infos[0].address, infos[0].priority), (addr(3, 1812), 1));
    assert_eq!(infos[0].stats.requests, 1);
    assert_eq!((infos[1].address, infos[1].priority), (addr(1, 1812), 5));
    assert_eq!(infos[1].stats.requests, 1);
    assert_eq!(infos[1].stats.accepts, 1);
    assert_eq!(infos[2].stats.accounting_responses, 1);
    // The new server is preferred now (priority 1 before 5).
    let c = sim.access("carol");
    let sent = sim.transmits();
    assert_eq!(sent[0].t.destination, addr(3, 1812));
    sim.answer(&sent[0], Code::AccessAccept);
    assert_eq!(reply_code(&sim.events(), c), Some(Code::AccessAccept));
}

#[test]
fn a_reload_to_no_accounting_server_keeps_the_records_until_one_comes() {
    let mut sim = Sim::new(one_server());
    let stop = sim.accounting(values::acct_status_type::STOP, "s-1");
    assert_eq!(sim.transmits().len(), 1);
    sim.client
        .reconfigure(
            sim.now,
            ClientConfig {
                access_servers: vec![server(1, 1812, 0)],
                ..ClientConfig::default()
            },
        )
        .unwrap();
    assert!(sim.transmits().is_empty());
    sim.advance(Duration::from_secs(30));
    assert!(sim.transmits().is_empty());
    assert_eq!(sim.client.queued(Service::Accounting), 1);
    // A server with another secret is another server.
    let mut other = server(1, 1813, 0);
    other.secret = Secret::from("new-secret");
    sim.client
        .reconfigure(
            sim.now,
            ClientConfig {
                access_servers: vec![server(1, 1812, 0)],
                accounting_servers: vec![other],
                ..ClientConfig::default()
            },
        )
        .unwrap();
    let sent = sim.transmits();
    assert_eq!(sent.len(), 1);
    sim.answer(&sent[0], Code::AccountingResponse);
    assert_eq!(
        reply_code(&sim.events(), stop),
        Some(Code::AccountingResponse)
    );
    // A bad configuration changes nothing.
    let mut bad = server(1, 1812, 0);
    bad.max_outstanding = 0;
    let e = sim.client.reconfigure(
        sim.now,
        ClientConfig {
            access_servers: vec![bad],
            ..ClientConfig::default()
        },
    );
    assert_eq!(e, Err(ConfigError::Zero(addr(1, 1812))));
    assert_eq!(sim.client.servers().count(), 2);
}
