//! The configurable timers and counters: LCP's Max-Failure and Max-Terminate, the NCPs' own
//! Restart timer and counters, CHAP's Challenge retransmissions and re-challenges, PAP's
//! request retransmissions and the authenticator's wait for a PAP request.

use std::time::Duration;

use super::util::*;
use crate::auth::{AuthMethod, Password};
use crate::config::Retries;
use crate::event::{CloseReason, DownReason, Event};
use crate::link::Phase;
use crate::wire::protocol;

/// The code and identifier of a frame on the wire (`FF 03`, protocol, code, identifier).
fn code(s: &Sent) -> u8 {
    s.bytes[4]
}

/// Drops what node `who` sends of `proto`.
fn drop_from(who: usize, proto: u16) -> Tamper {
    let p = proto.to_be_bytes();
    Box::new(move |from, f: &mut Vec<u8>| !(from == who && f.get(2..4) == Some(&p[..])))
}

/// The instants of the frames of `proto` and `code` node `from` sent.
fn times(p: &Pair, from: usize, proto: u16, c: u8) -> Vec<Duration> {
    p.frames_of(from, proto)
        .iter()
        .filter(|s| code(s) == c)
        .map(|s| Duration::from_micros(s.at.as_micros()))
        .collect()
}

fn gaps(t: &[Duration]) -> Vec<Duration> {
    t.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn a_peer_that_naks_for_ever_ends_after_the_configured_max_failure() {
    for max_failure in [1u8, 2, 7] {
        let mut lns = lns_config(&[AuthMethod::Pap]);
        lns.retries.max_failure = max_failure;
        let mut p = Pair::new(4, [lns, client_config(PASSWORD)]);
        // Node 1 turns every Configure-Ack into a Configure-Nak.
        p.tamper = Some(Box::new(|from, f: &mut Vec<u8>| {
            if from == 1 && f.get(2..5) == Some(&[0xc0, 0x21, 2]) {
                f[4] = 3;
            }
            true
        }));
        p.open();
        p.run_for(Duration::from_secs(120));
        assert_eq!(p.down(0), Some(DownReason::NegotiationFailed));
        let naks = p
            .frames_of(1, protocol::LCP)
            .iter()
            .filter(|s| code(s) == 3)
            .count();
        assert_eq!(naks, usize::from(max_failure) + 1, "{}", trace(&p.sent));
    }
}

#[test]
fn terminate_requests_stop_after_the_configured_max_terminate() {
    for max_terminate in [1u8, 4] {
        let mut lns = lns_config(&[AuthMethod::ChapMd5]);
        lns.retries.max_terminate = max_terminate;
        lns.retries.restart = Duration::from_secs(2);
        let mut p = Pair::new(5, [lns, client_config(PASSWORD)]);
        p.open();
        p.run_while(Duration::from_secs(60), |p| !p.both_up());
        p.tamper = Some(drop_from(1, protocol::LCP));
        let now = p.now;
        p.links[0].close(now, CloseReason::Administrative);
        p.drain();
        p.run_for(Duration::from_secs(60));
        let terms = times(&p, 0, protocol::LCP, 5);
        assert_eq!(
            terms.len(),
            usize::from(max_terminate),
            "{}",
            trace(&p.sent)
        );
        assert!(gaps(&terms).iter().all(|g| *g == Duration::from_secs(2)));
        assert!(p.links[0].is_finished());
    }
}

#[test]
fn the_ncps_run_on_their_own_restart_timer_and_counters() {
    let mut lns = lns_config(&[AuthMethod::ChapMd5]);
    lns.ncp_retries = Retries {
        restart: Duration::from_secs(7),
        max_configure: 3,
        ..Retries::default()
    };
    lns.ipv6 = None;
    let mut client = client_config(PASSWORD);
    client.ipv6 = None;
    let mut p = Pair::new(6, [lns, client]);
    // The client never answers IPCP; LCP and CHAP go through.
    p.tamper = Some(drop_from(1, protocol::IPCP));
    p.open();
    p.run_for(Duration::from_secs(120));
    let requests = times(&p, 0, protocol::IPCP, 1);
    assert_eq!(requests.len(), 3, "{}", trace(&p.sent));
    assert!(
        gaps(&requests).iter().all(|g| *g == Duration::from_secs(7)),
        "{requests:?}"
    );
    assert_eq!(p.down(0), Some(DownReason::NoNetworkProtocol));
    // LCP kept its own: one Configure-Request, answered.
    assert_eq!(times(&p, 0, protocol::LCP, 1).len(), 1);
}

#[test]
fn an_unanswered_challenge_is_sent_max_challenges_times() {
    for m in [AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        let mut lns = lns_config(&[m]);
        lns.chap.restart = Duration::from_secs(2);
        lns.chap.max_challenges = 4;
        let mut p = Pair::new(7, [lns, client_config(PASSWORD)]);
        p.tamper = Some(drop_from(1, protocol::CHAP));
        p.open();
        p.run_for(Duration::from_secs(60));
        let challenges = times(&p, 0, protocol::CHAP, 1);
        assert_eq!(challenges.len(), 4, "{m}: {}", trace(&p.sent));
        assert!(
            gaps(&challenges)
                .iter()
                .all(|g| *g == Duration::from_secs(2))
        );
        let ids: std::collections::BTreeSet<u8> = p
            .frames_of(0, protocol::CHAP)
            .iter()
            .map(|s| s.bytes[5])
            .collect();
        assert_eq!(ids.len(), 4, "a new Identifier each time (RFC 1994 §4.1)");
        assert_eq!(p.down(0), Some(DownReason::AuthTimeout), "{m}");
        // Closed at the timer after the last Challenge, long before auth_timeout.
        let last = challenges.last().copied().unwrap_or_default();
        let term = times(&p, 0, protocol::LCP, 5);
        assert_eq!(term.first().copied(), Some(last + Duration::from_secs(2)));
    }
}

#[test]
fn pap_requests_are_repeated_on_their_own_timer_and_count() {
    let mut client = client_config(PASSWORD);
    client.pap.restart = Duration::from_secs(5);
    client.pap.max_requests = 3;
    let mut p = Pair::new(8, [lns_config(&[AuthMethod::Pap]), client]);
    p.hosts[0] = Host::Silent;
    p.open();
    p.run_for(Duration::from_secs(60));
    let requests = times(&p, 1, protocol::PAP, 1);
    assert_eq!(requests.len(), 3, "{}", trace(&p.sent));
    assert!(gaps(&requests).iter().all(|g| *g == Duration::from_secs(5)));
    assert_eq!(p.down(1), Some(DownReason::AuthTimeout));
    let term = times(&p, 1, protocol::LCP, 5);
    assert_eq!(
        term.first().copied(),
        requests.last().map(|t| *t + Duration::from_secs(5))
    );
}

#[test]
fn pap_timeout_bounds_the_wait_for_the_peers_request_only() {
    // No request comes: the link ends after pap.timeout, not auth_timeout.
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.pap.timeout = Some(Duration::from_secs(5));
    let mut p = Pair::new(9, [lns.clone(), client_config(PASSWORD)]);
    p.tamper = Some(drop_from(1, protocol::PAP));
    p.open();
    p.run_for(Duration::from_secs(60));
    assert_eq!(p.down(0), Some(DownReason::AuthTimeout));
    let up = lcp_up_at(&p);
    let term = times(&p, 0, protocol::LCP, 5);
    assert_eq!(term.first().copied(), Some(up + Duration::from_secs(5)));

    // A request came in time: the verdict has the rest of auth_timeout (30 s).
    let mut p = Pair::new(9, [lns, client_config(PASSWORD)]);
    p.hosts[0] = Host::Silent;
    p.open();
    p.run_for(Duration::from_secs(60));
    assert_eq!(p.down(0), Some(DownReason::AuthTimeout));
    let up = lcp_up_at(&p);
    let term = times(&p, 0, protocol::LCP, 5);
    assert_eq!(term.first().copied(), Some(up + Duration::from_secs(30)));
}

/// A CHAP login whose verdict is slow (a RADIUS server that does not answer): the
/// authenticator sends no Challenge again once a Response came, and waits `auth_timeout`
/// alone (`chap.restart` and `chap.max_challenges` bound only the wait for a Response); the
/// peer repeats its Response on LCP's Restart timer, `max_configure` times in all, then gives
/// up, whichever comes first.
#[test]
fn a_slow_chap_verdict_is_bounded_by_auth_timeout_and_the_peers_lcp_counters() {
    for m in [AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        // The peer gives up first: four Responses, 2 s apart, then its link closes.
        let mut client = client_config(PASSWORD);
        client.retries.restart = Duration::from_secs(2);
        client.retries.max_configure = 4;
        let mut p = Pair::new(12, [lns_config(&[m]), client]);
        p.hosts[0] = Host::Silent;
        p.open();
        p.run_for(Duration::from_secs(60));
        let responses = times(&p, 1, protocol::CHAP, 2);
        assert_eq!(responses.len(), 4, "{m}: {}", trace(&p.sent));
        assert!(
            gaps(&responses)
                .iter()
                .all(|g| *g == Duration::from_secs(2))
        );
        assert_eq!(p.down(1), Some(DownReason::AuthTimeout), "{m}");
        let term = times(&p, 1, protocol::LCP, 5);
        assert_eq!(
            term.first().copied(),
            responses.last().map(|t| *t + Duration::from_secs(2)),
            "{m}"
        );
        assert_eq!(
            times(&p, 0, protocol::CHAP, 1).len(),
            1,
            "{m}: one Challenge"
        );

        // The authenticator gives up first: auth_timeout after LCP came up, whatever
        // chap.restart and chap.max_challenges say.
        let mut lns = lns_config(&[m]);
        lns.auth_timeout = Duration::from_secs(12);
        lns.chap.restart = Duration::from_secs(1);
        lns.chap.max_challenges = 2;
        let mut client = client_config(PASSWORD);
        client.retries.max_configure = 50;
        let mut p = Pair::new(12, [lns, client]);
        p.hosts[0] = Host::Silent;
        p.open();
        p.run_for(Duration::from_secs(60));
        assert_eq!(p.down(0), Some(DownReason::AuthTimeout), "{m}");
        assert_eq!(
            times(&p, 0, protocol::CHAP, 1).len(),
            1,
            "{m}: one Challenge"
        );
        let term = times(&p, 0, protocol::LCP, 5);
        assert_eq!(
            term.first().copied(),
            Some(lcp_up_at(&p) + Duration::from_secs(12)),
            "{m}: {}",
            trace(&p.sent)
        );
    }
}

/// When node 0's LCP came up: the time of the Configure-Ack that opened it (the last LCP
/// Configure-Ack either way before authentication).
fn lcp_up_at(p: &Pair) -> Duration {
    p.sent
        .iter()
        .filter(|s| s.bytes.get(2..5) == Some(&[0xc0, 0x21, 2]))
        .map(|s| Duration::from_micros(s.at.as_micros()))
        .max()
        .unwrap_or_default()
        // The Ack reaches its node after the wire's delay.
        + Duration::from_millis(10)
}

fn rechallenging(m: AuthMethod) -> Pair {
    let mut lns = lns_config(&[m]);
    lns.chap.rechallenge = Some(Duration::from_secs(60));
    lns.echo_interval = None;
    let mut client = client_config(PASSWORD);
    client.echo_interval = None;
    let mut p = Pair::new(10, [lns, client]);
    p.open();
    p.run_while(Duration::from_secs(60), |p| !p.both_up());
    assert!(p.both_up());
    p
}

#[test]
fn a_peer_that_answers_re_challenges_right_stays_up() {
    for m in [AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        let mut p = rechallenging(m);
        let before = p.events[0].len();
        p.run_for(Duration::from_secs(200));
        let challenges = p
            .frames_of(0, protocol::CHAP)
            .into_iter()
            .filter(|s| code(s) == 1)
            .collect::<Vec<_>>();
        assert_eq!(challenges.len(), 4, "{m}: {}", trace(&p.sent));
        let values: std::collections::BTreeSet<&[u8]> =
            challenges.iter().map(|s| &s.bytes[9..25]).collect();
        assert_eq!(values.len(), 4, "{m}: a new value each time");
        let ids: std::collections::BTreeSet<u8> = challenges.iter().map(|s| s.bytes[5]).collect();
        assert_eq!(ids.len(), 4, "{m}: a new Identifier each time");
        assert_eq!(
            times(&p, 0, protocol::CHAP, 3).len(),
            4,
            "{m}: a Success each"
        );
        // The host judged each Response; nothing else happened.
        let later = &p.events[0][before..];
        assert_eq!(later.len(), 3, "{m}: {later:?}");
        assert!(later.iter().all(|e| matches!(e, Event::Authenticate(_))));
        for i in 0..2 {
            assert_eq!(p.links[i].phase(), Phase::Network, "{m}");
            assert_eq!(p.down(i), None, "{m}");
        }
        assert!(p.links[0].heap_bytes() < 256, "{m}");
    }
}

#[test]
fn a_peer_that_answers_a_re_challenge_wrong_is_disconnected() {
    for m in [AuthMethod::ChapMd5, AuthMethod::MsChapV2] {
        let mut p = rechallenging(m);
        // The password changed since: the next Response is wrong.
        p.hosts[0] = Host::Users(vec![(USER.to_vec(), Password::from("changed"))]);
        p.run_for(Duration::from_secs(120));
        assert_eq!(p.down(0), Some(DownReason::AuthFailed), "{m}");
        assert_eq!(p.down(1), Some(DownReason::AuthRejectedByPeer), "{m}");
        assert_eq!(times(&p, 0, protocol::CHAP, 4).len(), 1, "{m}: a Failure");
        let failure_at = times(&p, 0, protocol::CHAP, 4)[0];
        assert!(failure_at >= Duration::from_secs(60), "{m}");
    }
}

#[test]
fn a_peer_that_ignores_a_re_challenge_is_disconnected() {
    let mut p = rechallenging(AuthMethod::ChapMd5);
    p.tamper = Some(drop_from(1, protocol::CHAP));
    p.run_for(Duration::from_secs(200));
    assert_eq!(p.down(0), Some(DownReason::AuthTimeout));
    // The first Challenge and the re-challenge sent max_challenges (10) times.
    assert_eq!(times(&p, 0, protocol::CHAP, 1).len(), 11);
}

#[test]
fn no_re_challenge_without_the_setting_or_with_pap() {
    let mut p = Pair::lns_and_client(11, &[AuthMethod::ChapMd5], PASSWORD);
    p.open();
    p.run_for(Duration::from_secs(300));
    assert_eq!(times(&p, 0, protocol::CHAP, 1).len(), 1);
    let mut lns = lns_config(&[AuthMethod::Pap]);
    lns.chap.rechallenge = Some(Duration::from_secs(10));
    let mut p = Pair::new(11, [lns, client_config(PASSWORD)]);
    p.open();
    p.run_for(Duration::from_secs(300));
    assert!(p.both_up());
    assert_eq!(times(&p, 1, protocol::PAP, 1).len(), 1);
}

#[test]
fn a_re_challenge_forgone_is_not_answered_and_the_next_one_comes() {
    let mut p = rechallenging(AuthMethod::MsChapV2);
    p.hosts[0] = Host::Silent;
    p.run_for(Duration::from_secs(61));
    let Some(Event::Authenticate(req)) = p.events[0].last().cloned() else {
        panic!(
            "the re-challenge's request went to the host: {:?}",
            p.events[0]
        );
    };
    let now = p.now;
    // A login's request cannot be forgone; a re-challenge's can, once.
    p.links[0]
        .forgo_rechallenge(now, req.id)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(p.links[0].forgo_rechallenge(now, req.id).is_err());
    p.hosts[0] = Host::Users(vec![(USER.to_vec(), Password::from(PASSWORD))]);
    p.run_for(Duration::from_secs(2));
    assert!(
        times(&p, 0, protocol::CHAP, 3).len() == 1,
        "no Success for it"
    );
    assert!(times(&p, 0, protocol::CHAP, 4).is_empty(), "nor a Failure");
    p.run_for(Duration::from_secs(60));
    assert_eq!(
        times(&p, 0, protocol::CHAP, 1).len(),
        3,
        "the next re-challenge"
    );
    assert_eq!(times(&p, 0, protocol::CHAP, 3).len(), 2, "answered");
    assert!(p.both_up());
}
