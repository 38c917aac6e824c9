//! A ppp profile's timers and counters, from the config text to the wire: `chap_restart`,
//! `chap_max_challenge` and `auth_timeout` against a LAC that never answers the Challenge, and
//! `chap_interval` re-challenges answered right (the session stays as it was) and wrong (it
//! ends as a failed login does).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use l2tp_ctl::EventKind;

use super::harness::{Net, PppWire, addr};
use super::logs::recorded;
use super::ppp_hostile::assert_one_wrong_login;

const CHAP: [u8; 2] = [0xc2, 0x23];

/// An LNS (node 1) whose `default` ppp profile takes CHAP-MD5 from user carol with `extra`
/// lines, and a LAC (node 0) with one PPP session of carol; not started.
fn carol(extra: &str) -> Net {
    let lns = format!(
        "ppp profile \"default\" {{\n    auth_mschapv2 false\n    local_ip_addr 198.51.100.1\n    \
         ip_pool_name \"customers\"\n    ipv6cp false\n    lcp_echo_interval 0\n{extra}}}\n\
         ip pool \"customers\" {{\n    ranges 198.51.100.10-198.51.100.11\n}}\n\
         user \"carol\" {{\n    password \"s3cret\"\n}}\n"
    );
    let lac = format!(
        "ppp profile \"default\" {{\n    user_name \"carol\"\n    user_password \"s3cret\"\n    \
         ipv6cp false\n    lcp_echo_interval 0\n}}\n\
         tunnel \"t\" {{\n    peer {}\n    version 2\n}}\n\
         session \"s\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n",
        addr(1).ip()
    );
    Net::unstarted(&[&lac, &lns], 7)
}

/// (protocol, code) of a PPP frame with its `FF 03`.
fn is_chap(f: &[u8], code: u8) -> bool {
    f.get(2..5) == Some(&[CHAP[0], CHAP[1], code][..])
}

/// Carol's LNS with `profile` lines, whose LAC's CHAP Responses never arrive: the session
/// ends as a failed login, counted as `auth_timeout`; how many Challenges the LNS sent, and
/// how long after the first one the session ended.
fn unanswered_challenges(profile: &str) -> (usize, Duration) {
    let mut net = carol(profile);
    // The LAC's Responses never arrive.
    let challenges = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&challenges);
    net.ppp_wire = Some(PppWire(Box::new(move |from, _, f: &mut Vec<u8>| {
        if from == 1 && is_chap(f, 1) {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        !(from == 0 && is_chap(f, 2))
    })));
    let mut net = net.start();
    let count = Arc::clone(&challenges);
    net.run_until(Duration::from_secs(10), "the first Challenge", move |_| {
        count.load(Ordering::SeqCst) >= 1
    });
    let first = net.elapsed();
    net.until_failed_login(Duration::from_secs(60));
    let took = net.elapsed() - first;
    let stats = net.nodes[1].engine.stats();
    assert_eq!(stats.ppp_down.get("auth_timeout"), Some(&1), "{stats:?}");
    (challenges.load(Ordering::SeqCst), took)
}

#[test]
fn chap_restart_and_chap_max_challenge_of_the_profile_are_honoured() {
    let (challenges, took) =
        unanswered_challenges("    chap_restart 2\n    chap_max_challenge 3\n");
    assert_eq!(challenges, 3);
    // Three Challenges 2 s apart and 2 s for the last: long before the 30 s authentication
    // timeout (and the 10 Challenges 3 s apart of the defaults).
    assert!(
        took >= Duration::from_secs(6) && took < Duration::from_secs(7),
        "{took:?}"
    );
}

#[test]
fn auth_timeout_of_the_profile_bounds_the_authentication() {
    let (challenges, took) = unanswered_challenges("    auth_timeout 5\n");
    // 5 s, not the 30 s of the default (nor the 10 Challenges 3 s apart).
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(challenges, 2);
}

#[test]
fn re_challenges_answered_right_change_nothing_and_a_wrong_answer_ends_the_session() {
    let ((), lines) = recorded(|| {
        let mut net = carol("    auth_chap true\n    chap_interval 20\n");
        let challenges = Arc::new(AtomicUsize::new(0));
        let wrong = Arc::new(AtomicBool::new(false));
        let (seen, spoil) = (Arc::clone(&challenges), Arc::clone(&wrong));
        net.ppp_wire = Some(PppWire(Box::new(move |from, _, f: &mut Vec<u8>| {
            if from == 1 && is_chap(f, 1) {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            if from == 0 && is_chap(f, 2) && spoil.load(Ordering::SeqCst) {
                // The MD5 Response: `FF 03`, the protocol, 4 header octets, Value-Size, then
                // the 16 octets.
                if let Some(b) = f.get_mut(2 + 2 + 4 + 1) {
                    *b ^= 0x5a;
                }
            }
            true
        })));
        let mut net = net.start();
        net.run_until(Duration::from_secs(10), "PPP up", |n| {
            n.nodes[1].saw(EventKind::PppUp) == 1
        });
        let marks = net.nodes[1].marks();
        net.run_for(Duration::from_secs(70));
        assert_eq!(
            challenges.load(Ordering::SeqCst),
            4,
            "the first and three more"
        );
        // Nothing else happened: no event, no data-plane request, the same address, up.
        assert_eq!(
            net.quiet_since(1, marks).ppp_ipv4,
            Some(std::net::Ipv4Addr::new(198, 51, 100, 10))
        );
        let stats = net.nodes[1].engine.stats();
        assert!(stats.ppp_auth_failures.is_empty(), "{stats:?}");

        // The next Response is wrong: the session ends as a failed login.
        wrong.store(true, Ordering::SeqCst);
        net.until_failed_login(Duration::from_secs(30));
        assert_one_wrong_login(&net);
        assert_eq!(net.nodes[1].saw(EventKind::PppDown), 1);
    });
    assert!(
        lines
            .iter()
            .any(|(_, m)| m.contains("re-authentication of user \"carol\"")
                && m.contains("wrong password or response")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|(_, m)| m.contains("s3cret")));
}
