//! Re-challenges (`chap_interval`) with a profile that asks RADIUS: each Response is a new
//! Access-Request with the login's attributes and the last Access-Accept's State; an Accept
//! keeps the session as it is, no answer keeps it up with a warning, a Reject ends it as a
//! failed login.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use l2tp_ctl::EventKind;
use radius_proto::client::{Failure, Service};
use radius_proto::dict::AttrType;
use radius_proto::{Attributes, Code};

use super::super::RadiusOutcome;
use super::harness::{Net, RadiusServer};
use super::logs::recorded;
use super::radius::{PASSWORD, lac, lns, net, server, submits};

/// How the scripted server answers the next Access-Request.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Mode {
    /// Accept, with State `state-N` (N counting the Access-Requests) and another address.
    Accept,
    /// No server answers.
    Silent,
    /// Access-Reject.
    Reject,
}

/// [`server`] whose Access-Accepts carry a State of their own and an address the session must
/// not take at a re-challenge, and which answers as `mode` says.
fn scripted(mode: Arc<Mutex<Mode>>) -> RadiusServer {
    let mut inner = server(Attributes::new());
    let mut asked = 0u32;
    RadiusServer(Box::new(move |service, attrs| {
        if service == Service::Access {
            asked += 1;
            match mode.lock().map(|m| *m).unwrap_or(Mode::Accept) {
                Mode::Silent => return Some(RadiusOutcome::Failed(Failure::NoServer)),
                Mode::Reject => {
                    let mut a = Attributes::new();
                    a.push_reply_message("Account closed").ok()?;
                    return Some(RadiusOutcome::Reply {
                        code: Code::AccessReject,
                        attributes: a,
                        server: "192.0.2.10:1812".parse().ok()?,
                    });
                }
                Mode::Accept => {}
            }
        }
        let mut out = (inner.0)(service, attrs)?;
        if let RadiusOutcome::Reply {
            code: Code::AccessAccept,
            attributes,
            ..
        } = &mut out
        {
            attributes
                .push(AttrType::STATE, format!("state-{asked}").as_bytes())
                .ok()?;
            if asked > 1 {
                attributes
                    .push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 99))
                    .ok()?;
            }
        }
        Some(out)
    }))
}

/// The LNS asks RADIUS ([`scripted`] as `mode` says) for `method`, re-challenging every 20
/// s; the LAC's PPP is up.
fn up(method: &str, mode: &Arc<Mutex<Mode>>) -> Net {
    up_with(method, ("radius", PASSWORD), mode)
}

/// [`up`] with `auth_source` `source` and the LAC's password `password`.
fn up_with(method: &str, (source, password): (&str, &str), mode: &Arc<Mutex<Mode>>) -> Net {
    let mut net = net(
        &lns(method, &format!("auth_source {source}\n chap_interval 20")),
        &lac(1, password),
        Some(scripted(Arc::clone(mode))),
    );
    net.run_until(Duration::from_secs(10), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    net
}

/// The server answers the next Access-Requests as `to` says.
fn set(mode: &Mutex<Mode>, to: Mode) {
    if let Ok(mut m) = mode.lock() {
        *m = to;
    }
}

/// The Access-Requests node 1 sent.
fn access_requests(net: &Net) -> Vec<Attributes> {
    submits(net, 1)
        .into_iter()
        .filter(|(s, ..)| *s == Service::Access)
        .map(|(_, a, _)| a)
        .collect()
}

/// The attribute types of `a` but State, CHAP-Password and CHAP-Challenge, in order.
fn kinds(a: &Attributes) -> Vec<AttrType> {
    a.iter()
        .map(|x| x.attr_type)
        .filter(|t| {
            ![
                AttrType::STATE,
                AttrType::CHAP_PASSWORD,
                AttrType::CHAP_CHALLENGE,
            ]
            .contains(t)
        })
        .collect()
}

#[test]
fn re_challenges_are_asked_of_radius_accepted_kept_up_unanswered_and_ended_rejected() {
    let ((), lines) = recorded(|| {
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let mut net = up("auth_chap", &mode);
        let address = net.nodes[1].first_ppp(EventKind::PppUp).peer_ipv4;
        let marks = net.nodes[1].marks();

        // A re-challenge accepted: a new Access-Request, the login's attributes and its State.
        net.run_for(Duration::from_secs(25));
        let asked = access_requests(&net);
        assert_eq!(asked.len(), 2, "the login and one re-challenge");
        assert_eq!(kinds(&asked[1]), kinds(&asked[0]));
        assert_eq!(asked[0].get(AttrType::STATE), None);
        assert_eq!(asked[1].get(AttrType::STATE), Some(&b"state-1"[..]));
        assert!(asked[1].chap_password().is_some());
        // Nothing else happened: no event, no data-plane request, the same address.
        assert_eq!(net.quiet_since(1, marks).ppp_ipv4, address);

        // No server answers the next: the session stays up.
        set(&mode, Mode::Silent);
        net.run_for(Duration::from_secs(20));
        let asked = access_requests(&net);
        assert_eq!(asked.len(), 3);
        assert_eq!(asked[2].get(AttrType::STATE), Some(&b"state-2"[..]));
        net.run_for(Duration::from_secs(15));
        net.only_session_up(1);
        assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
        let stats = net.nodes[1].engine.stats();
        assert!(stats.ppp_auth_failures.is_empty(), "{stats:?}");

        // The next is rejected: the session ends as a failed login.
        set(&mode, Mode::Reject);
        net.until_failed_login(Duration::from_secs(30));
        let stats = net.nodes[1].engine.stats();
        assert_eq!(
            stats.ppp_auth_failures.get("radius_reject"),
            Some(&1),
            "{stats:?}"
        );
        assert_eq!(stats.ppp_down.get("auth_failed"), Some(&1), "{stats:?}");
        // `show radius` tells the re-authentications from the login: every request but the
        // first, one accept, the unanswered ones and the reject.
        let r = net.nodes[1].engine.radius_figures();
        assert_eq!(
            (r.access_requests, r.accepts, r.rejects),
            (access_requests(&net).len() as u64, 2, 1),
            "{r:?}"
        );
        assert_eq!(
            (
                r.reauth_requests,
                r.reauth_accepts,
                r.reauth_rejects,
                r.reauth_no_answer
            ),
            (r.access_requests - 1, 1, 1, r.no_answer),
            "{r:?}"
        );
        assert!(r.no_answer >= 1, "{r:?}");
    });
    assert!(
        lines.iter().any(
            |(_, m)| m.contains("no RADIUS server answered the re-authentication")
                && m.contains("stays up")
        ),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(
            |(_, m)| m.contains("PPP re-authentication of user \"alice\"")
                && m.contains("Account closed")
        ),
        "{lines:#?}"
    );
}

#[test]
fn an_ms_chapv2_re_challenge_no_server_answers_leaves_the_session_up() {
    let mode = Arc::new(Mutex::new(Mode::Accept));
    let mut net = up("auth_mschapv2", &mode);
    set(&mode, Mode::Silent);
    // Two re-challenges unanswered, and the LAC's Responses to them given up on.
    net.run_for(Duration::from_secs(90));
    assert!(access_requests(&net).len() >= 4);
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
    assert_eq!(net.nodes[0].saw(EventKind::PppDown), 0);
    // The server back: the next re-challenge is answered, and the LAC takes it.
    set(&mode, Mode::Accept);
    net.run_for(Duration::from_secs(30));
    net.only_session_up(1);
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
    assert!(net.nodes[1].engine.stats().ppp_auth_failures.is_empty());
}

/// With `radius_then_local`, a re-challenge no server answers is checked against the local
/// users, as the login is: a password only RADIUS knows ends the session as a failed login.
#[test]
fn radius_then_local_re_challenges_no_server_answers_ask_the_local_users() {
    let ((), lines) = recorded(|| {
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let mut net = up_with("auth_chap", ("radius_then_local", PASSWORD), &mode);
        set(&mode, Mode::Silent);
        net.until_failed_login(Duration::from_secs(40));
        let stats = net.nodes[1].engine.stats();
        assert_eq!(stats.ppp_down.get("auth_failed"), Some(&1), "{stats:?}");
        let r = net.nodes[1].engine.radius_figures();
        assert_eq!((r.reauth_no_answer, r.local_fallbacks), (1, 1), "{r:?}");
    });
    assert!(
        lines
            .iter()
            .any(|(_, m)| m.contains("PPP re-authentication of user \"alice\" (chap) failed")),
        "{lines:#?}"
    );

    // The local password: the login and each re-challenge pass by the local users.
    let mode = Arc::new(Mutex::new(Mode::Silent));
    let mut net = up_with("auth_chap", ("radius_then_local", "local-pw"), &mode);
    net.run_for(Duration::from_secs(45));
    net.only_session_up(1);
    assert_eq!(net.nodes[0].saw(EventKind::SessionDown), 0);
    let r = net.nodes[1].engine.radius_figures();
    assert!(r.reauth_no_answer >= 2, "{r:?}");
    assert_eq!(r.local_fallbacks, r.no_answer, "{r:?}");
    assert!(net.nodes[1].engine.stats().ppp_auth_failures.is_empty());
}
