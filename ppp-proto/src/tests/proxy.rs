//! Proxy LCP and proxy authentication (RFC 2661 §4.4.5): both links start from what a LAC
//! negotiated between them, as an LNS and its caller do when the LAC's ICCN carries the proxy
//! AVPs; options the LNS would not have agreed to, and hostile option lists, leave the link
//! as it was, to negotiate afresh.

use std::time::Duration;

use super::util::*;
use crate::auth::{AuthMethod, Password, PeerCredentials, maths};
use crate::event::{DownReason, Event};
use crate::fsm::State;
use crate::link::{Phase, Proxied, ProxiedAuth, ProxiedLcp, ProxiedSide, ProxyRefusal};
use crate::wire::{code, protocol};

const CHAP_MD5: [u8; 5] = [3, 5, 0xc2, 0x23, 5];
const PAP: [u8; 4] = [3, 4, 0xc0, 0x23];
const CHALLENGE: [u8; 16] = *b"0123456789abcdef";
const ID: u8 = 7;

/// The LAC's last request (its Magic-Number, an auth method) and the caller's (MRU 1400, its
/// Magic-Number, PFC and ACFC).
fn lac_request(auth: &[u8]) -> Vec<u8> {
    let mut v = auth.to_vec();
    v.extend_from_slice(&[5, 6, 0x11, 0x22, 0x33, 0x44]);
    v
}

fn client_request() -> Vec<u8> {
    vec![1, 4, 0x05, 0x78, 5, 6, 0xaa, 0xbb, 0xcc, 0xdd, 7, 2, 8, 2]
}

fn chap_credentials(password: &str) -> ProxiedAuth {
    let response = maths::chap_md5_response(ID, &Password::from(password), &CHALLENGE);
    ProxiedAuth::Peer {
        identifier: ID,
        user: USER.to_vec(),
        credentials: PeerCredentials::ChapMd5 {
            identifier: ID,
            challenge: CHALLENGE,
            response,
        },
    }
}

/// Both sides opened from the LAC's negotiation; returns the pair and what each took.
fn proxied_pair(
    methods: &[AuthMethod],
    auth_option: &[u8],
    lns_auth: Option<ProxiedAuth>,
    client_auth: Option<ProxiedAuth>,
) -> (Pair, [Proxied; 2]) {
    let mut p = Pair::lns_and_client(3, methods, PASSWORD);
    let (lac, client) = (lac_request(auth_option), client_request());
    let lns = p
        .open_proxied(
            0,
            ProxiedLcp {
                local: &lac,
                peer: &client,
            },
            lns_auth,
        )
        .unwrap_or_else(|e| panic!("the LNS refuses the proxied LCP: {e}"));
    let cl = p
        .open_proxied(
            1,
            ProxiedLcp {
                local: &client,
                peer: &lac,
            },
            client_auth,
        )
        .unwrap_or_else(|e| panic!("the client refuses the proxied LCP: {e}"));
    p.run_while(Duration::from_secs(60), |p| {
        !p.both_up() && p.down(0).is_none() && p.down(1).is_none()
    });
    (p, [lns, cl])
}

fn codes(p: &Pair, from: usize, proto: u16) -> Vec<u8> {
    p.frames_of(from, proto)
        .iter()
        .map(|s| s.bytes[4])
        .collect()
}

#[test]
fn proxied_chap_goes_straight_to_the_network_phase() {
    let (p, taken) = proxied_pair(
        &[AuthMethod::ChapMd5],
        &CHAP_MD5,
        Some(chap_credentials(PASSWORD)),
        Some(ProxiedAuth::ChapAnswered {
            identifier: ID,
            challenge: CHALLENGE.to_vec(),
        }),
    );
    assert_eq!(taken, [Proxied::LcpAndAuth; 2]);
    assert!(p.both_up(), "{}", trace(&p.sent));
    // No LCP negotiation and no Challenge of the LNS: only its Success, with the LAC's id.
    assert!(codes(&p, 0, protocol::LCP).is_empty(), "{}", trace(&p.sent));
    assert!(codes(&p, 1, protocol::LCP).is_empty(), "{}", trace(&p.sent));
    let chap = p.frames_of(0, protocol::CHAP);
    assert_eq!(chap.len(), 1, "{}", trace(&p.sent));
    assert_eq!(
        (chap[0].bytes[4], chap[0].bytes[5]),
        (3, ID),
        "Success, id 7"
    );
    // The negotiated values are the proxied ones.
    let Some(Event::LinkUp(info)) = p.events[0].iter().find(|e| matches!(e, Event::LinkUp(_)))
    else {
        panic!("no LinkUp");
    };
    assert_eq!(info.peer_mru, 1400);
    assert_eq!(info.local_magic, 0x1122_3344);
    assert_eq!(info.peer_magic, 0xaabb_ccdd);
    assert!(info.framing.pfc && info.framing.acfc);
    assert_eq!(info.auth_peer, Some(AuthMethod::ChapMd5));
    assert!(p.links[0].framing().pfc && p.links[0].framing().acfc);
    let req = p.events[0].iter().find_map(|e| match e {
        Event::Authenticate(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(req.map(|r| r.user), Some(USER.to_vec()));
}

#[test]
fn a_wrong_proxied_chap_response_fails_the_link() {
    let (p, taken) = proxied_pair(
        &[AuthMethod::ChapMd5],
        &CHAP_MD5,
        Some(chap_credentials("wrong")),
        Some(ProxiedAuth::ChapAnswered {
            identifier: ID,
            challenge: CHALLENGE.to_vec(),
        }),
    );
    assert_eq!(taken, [Proxied::LcpAndAuth; 2]);
    assert_eq!(p.down(0), Some(DownReason::AuthFailed));
    assert_eq!(p.down(1), Some(DownReason::AuthRejectedByPeer));
    assert_eq!(
        codes(&p, 0, protocol::CHAP),
        [4],
        "one Failure, no Challenge"
    );
    assert!(p.ipv4_up(0).is_none());
}

#[test]
fn proxied_pap_is_judged_and_acknowledged() {
    let (p, taken) = proxied_pair(
        &[AuthMethod::Pap],
        &PAP,
        Some(ProxiedAuth::Peer {
            identifier: ID,
            user: USER.to_vec(),
            credentials: PeerCredentials::Pap {
                password: Password::from(PASSWORD),
            },
        }),
        Some(ProxiedAuth::PapSent { identifier: ID }),
    );
    assert_eq!(taken, [Proxied::LcpAndAuth; 2]);
    assert!(p.both_up(), "{}", trace(&p.sent));
    let ack = p.frames_of(0, protocol::PAP);
    assert_eq!((ack[0].bytes[4], ack[0].bytes[5]), (2, ID), "Ack, id 7");
    assert!(codes(&p, 0, protocol::LCP).is_empty());
    assert!(codes(&p, 1, protocol::LCP).is_empty());
}

#[test]
fn proxied_lcp_without_usable_auth_authenticates_again() {
    // No proxied answer; then an MS-CHAPv2 one, which is never proxied; then PAP credentials
    // for a CHAP link: the LNS sends its own Challenge, over the proxied LCP.
    let mschap = ProxiedAuth::Peer {
        identifier: ID,
        user: USER.to_vec(),
        credentials: PeerCredentials::MsChapV2 {
            identifier: ID,
            authenticator_challenge: CHALLENGE,
            peer_challenge: CHALLENGE,
            nt_response: [0; 24],
        },
    };
    let pap = ProxiedAuth::Peer {
        identifier: ID,
        user: USER.to_vec(),
        credentials: PeerCredentials::Pap {
            password: Password::from(PASSWORD),
        },
    };
    for auth in [None, Some(mschap), Some(pap)] {
        let (p, taken) = proxied_pair(&[AuthMethod::ChapMd5], &CHAP_MD5, auth, None);
        assert_eq!(taken, [Proxied::Lcp; 2]);
        assert!(p.both_up(), "{}", trace(&p.sent));
        assert!(codes(&p, 0, protocol::LCP).is_empty());
        assert_eq!(codes(&p, 0, protocol::CHAP), [1, 3], "Challenge, Success");
    }
}

#[test]
fn no_authentication_goes_to_the_network_phase() {
    let (p, taken) = proxied_pair(&[], &[], None, None);
    assert_eq!(taken, [Proxied::Lcp; 2]);
    assert!(p.both_up(), "{}", trace(&p.sent));
    assert!(p.frames_of(0, protocol::CHAP).is_empty());
    assert!(p.frames_of(0, protocol::LCP).is_empty());
}

#[test]
fn options_the_lns_would_not_agree_to_are_refused_and_it_negotiates_afresh() {
    let lac = lac_request(&CHAP_MD5);
    let client = client_request();
    let with = |extra: &[u8]| {
        let mut v = client.clone();
        v.extend_from_slice(extra);
        v
    };
    type Case = (&'static [AuthMethod], Vec<u8>, Vec<u8>, ProxyRefusal);
    let cases: Vec<Case> = vec![
        // Callback, which LCP rejects.
        (
            &[AuthMethod::ChapMd5],
            lac.clone(),
            with(&[13, 3, 6]),
            ProxyRefusal::Unacceptable(ProxiedSide::Peer, 13, 1),
        ),
        // An MRU below the minimum the LNS accepts.
        (
            &[AuthMethod::ChapMd5],
            lac.clone(),
            vec![1, 4, 0, 60],
            ProxyRefusal::Unacceptable(ProxiedSide::Peer, 1, 2),
        ),
        // The caller's Magic-Number is the LAC's: a loop.
        (
            &[AuthMethod::ChapMd5],
            lac.clone(),
            vec![5, 6, 0x11, 0x22, 0x33, 0x44],
            ProxyRefusal::Unacceptable(ProxiedSide::Peer, 5, 4),
        ),
        // A truncated option; an option whose Length runs past the end; a Length of 1.
        (
            &[AuthMethod::ChapMd5],
            lac.clone(),
            with(&[1]),
            ProxyRefusal::Malformed(
                ProxiedSide::Peer,
                crate::wire::PacketError::BadOption { offset: 14 },
            ),
        ),
        (
            &[AuthMethod::ChapMd5],
            vec![1, 9, 5, 0],
            client.clone(),
            ProxyRefusal::Malformed(
                ProxiedSide::Local,
                crate::wire::PacketError::BadOption { offset: 0 },
            ),
        ),
        (
            &[AuthMethod::ChapMd5],
            lac.clone(),
            vec![5, 1],
            ProxyRefusal::Malformed(
                ProxiedSide::Peer,
                crate::wire::PacketError::BadOption { offset: 0 },
            ),
        ),
        // The LAC asked for PAP; the profile wants CHAP. Or for nothing.
        (
            &[AuthMethod::ChapMd5],
            lac_request(&PAP),
            client.clone(),
            ProxyRefusal::AuthMismatch,
        ),
        (
            &[AuthMethod::ChapMd5],
            lac_request(&[]),
            client.clone(),
            ProxyRefusal::AuthMismatch,
        ),
        // The LAC's own request with an option we would not request (Multilink MRRU), and
        // with a Magic-Number of zero.
        (
            &[AuthMethod::ChapMd5],
            [lac.as_slice(), &[17, 4, 5, 220]].concat(),
            client.clone(),
            ProxyRefusal::Unacceptable(ProxiedSide::Local, 17, 2),
        ),
        (
            &[AuthMethod::ChapMd5],
            [CHAP_MD5.as_slice(), &[5, 6, 0, 0, 0, 0]].concat(),
            client.clone(),
            ProxyRefusal::Unacceptable(ProxiedSide::Local, 5, 4),
        ),
    ];
    for (methods, local, peer, want) in cases {
        let mut p = Pair::lns_and_client(5, methods, PASSWORD);
        let got = p.open_proxied(
            0,
            ProxiedLcp {
                local: &local,
                peer: &peer,
            },
            Some(chap_credentials(PASSWORD)),
        );
        assert_eq!(got, Err(want), "{local:?} / {peer:?}");
        // Unchanged: nothing sent, no event, and an ordinary negotiation follows.
        assert_eq!(p.links[0].lcp_state(), State::Initial);
        assert_eq!(p.links[0].phase(), Phase::Dead);
        assert!(p.sent.is_empty() && p.events[0].is_empty());
        p.open();
        p.run_while(Duration::from_secs(60), |p| !p.both_up());
        assert!(p.both_up(), "{}", trace(&p.sent));
        assert_eq!(codes(&p, 0, protocol::LCP)[0], code::CONFIGURE_REQUEST);
    }
}

#[test]
fn a_proxied_link_is_opened_once_renegotiates_and_closes_as_any_other() {
    let (mut p, _) = proxied_pair(
        &[AuthMethod::ChapMd5],
        &CHAP_MD5,
        Some(chap_credentials(PASSWORD)),
        Some(ProxiedAuth::ChapAnswered {
            identifier: ID,
            challenge: CHALLENGE.to_vec(),
        }),
    );
    assert!(p.both_up());
    // A link opened twice is refused.
    let mut rng = l2tp_proto::rng::DeterministicRng::new(9);
    let again = p.links[0].open_proxied(
        p.now,
        ProxiedLcp {
            local: &[],
            peer: &[],
        },
        None,
        &mut rng,
    );
    assert_eq!(again, Err(ProxyRefusal::AlreadyOpened));
    // The client asks for LCP again (a Configure-Request in Opened), its first requests lost:
    // the LNS's own requests are repeated until both are Opened again.
    assert!(p.links[0].lcp_state() == State::Opened);
    let lost = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = lost.clone();
    p.tamper = Some(Box::new(move |from, bytes: &mut Vec<u8>| {
        // The LNS's first three Configure-Requests are lost.
        let request = from == 0 && bytes.get(2..5) == Some(&[0xc0, 0x21, 1][..]);
        if request && counter.get() < 3 {
            counter.set(counter.get() + 1);
            return false;
        }
        true
    }));
    let now = p.now;
    let renegotiate = [0xff, 0x03, 0xc0, 0x21, 1, 0x42, 0, 10, 5, 6, 9, 8, 7, 6];
    p.links[0].handle_frame(now, &renegotiate, &mut rng);
    p.run_for(Duration::from_secs(20));
    assert_eq!(lost.get(), 3);
    assert!(
        p.frames_of(0, protocol::LCP).len() >= 4,
        "{}",
        trace(&p.sent)
    );
    assert_eq!(p.down(0), None, "{}", trace(&p.sent));
    p.tamper = None;
    // The client closes: Terminate-Request, Terminate-Ack, as on a negotiated link.
    let now = p.now;
    p.links[1].close(now, crate::event::CloseReason::Administrative);
    p.run_for(Duration::from_secs(30));
    assert_eq!(p.down(0), Some(DownReason::PeerTerminated));
}

mod property {
    use proptest::prelude::*;

    use super::*;

    /// Option lists built from plausible options, or arbitrary octets.
    fn list() -> impl Strategy<Value = Vec<u8>> {
        let option = prop_oneof![
            Just(vec![1, 4, 5, 0x78]),
            (0u8..=255, 0u8..=255).prop_map(|(a, b)| vec![1, 4, a, b]),
            Just(CHAP_MD5.to_vec()),
            Just(PAP.to_vec()),
            Just(vec![3, 5, 0xc2, 0x23, 0x81]),
            any::<u32>().prop_map(|m| [&[5u8, 6][..], &m.to_be_bytes()].concat()),
            Just(vec![7, 2]),
            Just(vec![8, 2]),
            Just(vec![2, 6, 0, 0, 0, 0]),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        proptest::collection::vec(option, 0..6).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever the lists, the link either takes them (LCP Opened, no Configure-Request,
        /// and later at most one end), or refuses them and is left as it was.
        #[test]
        fn arbitrary_proxied_lists_are_taken_or_refused_cleanly(
            local in list(),
            peer in list(),
            methods in proptest::sample::subsequence(AuthMethod::ALL.to_vec(), 0..=3),
        ) {
            let mut p = Pair::lns_and_client(11, &methods, PASSWORD);
            let lcp = ProxiedLcp { local: &local, peer: &peer };
            match p.open_proxied(0, lcp, Some(chap_credentials(PASSWORD))) {
                Ok(_) => {
                    prop_assert_eq!(p.links[0].lcp_state(), State::Opened);
                    prop_assert!(p.events[0].iter().any(|e| matches!(e, Event::LinkUp(_))));
                    prop_assert!(codes(&p, 0, protocol::LCP).is_empty());
                }
                Err(_) => {
                    prop_assert_eq!(p.links[0].lcp_state(), State::Initial);
                    prop_assert!(p.sent.is_empty() && p.events[0].is_empty());
                }
            }
            p.run_for(Duration::from_secs(120));
            let downs = p.events[0].iter().filter(|e| matches!(e, Event::Down(_))).count();
            prop_assert!(downs <= 1);
        }
    }
}
