//! An Access-Accept's Reply-Message reaches the subscriber: the LNS's PAP Authenticate-Ack,
//! CHAP Success or MS-CHAPv2 Success (its `M=` part) carries it, printable and bounded; its
//! User-Name names the session for `l2tpctl disconnect user`.

use std::cell::RefCell;
use std::rc::Rc;

use radius_proto::Attributes;

use radius_proto::Code;

use super::harness::{Net, PppWire, RadiusServer};
use super::radius::{PASSWORD, lac, lns, server, up};
use crate::engine::RadiusOutcome;

/// PAP and CHAP in a PPP frame (with or without address and control).
const PAP: [u8; 2] = [0xc0, 0x23];
const CHAP: [u8; 2] = [0xc2, 0x23];

/// The Message of the Authenticate-Ack or Success the LNS (node 1) sent when the server's
/// Access-Accept had `messages` as Reply-Messages.
fn acceptance(auth: &str, messages: &[&[u8]]) -> Vec<u8> {
    let mut accept = Attributes::new();
    for m in messages {
        accept
            .push(radius_proto::dict::AttrType::REPLY_MESSAGE, m)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    answer(auth, server(accept), true)
}

/// The Message of the Authenticate-Nak or Failure the LNS sent when every Access-Request was
/// rejected with `messages` as Reply-Messages.
fn refusal(auth: &str, messages: &[&'static [u8]]) -> Vec<u8> {
    let messages = messages.to_vec();
    let rejecting = RadiusServer(Box::new(move |_, _| {
        let mut a = Attributes::new();
        for m in &messages {
            a.push(radius_proto::dict::AttrType::REPLY_MESSAGE, m)
                .ok()?;
        }
        Some(RadiusOutcome::Reply {
            code: Code::AccessReject,
            attributes: a,
            server: "192.0.2.10:1812".parse().unwrap_or_else(|e| panic!("{e}")),
        })
    }));
    answer(auth, rejecting, false)
}

/// The Message of the LNS's first Authenticate-Ack or Success (`accepted`), or
/// Authenticate-Nak or Failure, with `server` answering its Access-Requests.
fn answer(auth: &str, server: RadiusServer, accepted: bool) -> Vec<u8> {
    let (pap_code, chap_code) = if accepted { (2, 3) } else { (3, 4) };
    let lns = lns(auth, "auth_source radius");
    let mut net = Net::unstarted(&[&lac(1, PASSWORD), &lns], 31);
    net.nodes[1].radius_server = Some(server);
    let seen: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let record = Rc::clone(&seen);
    net.ppp_wire = Some(PppWire(Box::new(move |from, _, frame| {
        let body = match frame.get(..2) {
            Some([0xff, 0x03]) => &frame[2..],
            _ => &frame[..],
        };
        let ack = match body.get(..3) {
            Some([a, b, c]) if [*a, *b] == PAP => *c == pap_code,
            Some([a, b, c]) if [*a, *b] == CHAP => *c == chap_code,
            _ => false,
        };
        if from == 1 && ack {
            record.borrow_mut().push(body.to_vec());
        }
        true
    })));
    let mut net = net.start();
    if accepted {
        up(&mut net, auth);
    } else {
        net.run_for(std::time::Duration::from_secs(10));
    }
    let frames = seen.borrow();
    let Some(f) = frames.first() else {
        panic!("{auth}: no acceptance seen");
    };
    // Protocol, code, identifier, length, then (PAP) Msg-Length and the Message.
    if f[..2] == PAP {
        assert_eq!(usize::from(f[6]), f.len() - 7, "{auth}");
        f[7..].to_vec()
    } else {
        f[6..].to_vec()
    }
}

#[test]
fn the_reply_message_of_an_access_accept_reaches_the_peer() {
    let welcome: &[&[u8]] = &[b"Welcome,\x07 alice.", b" 3 days left"];
    let want = b"Welcome, alice. 3 days left";
    assert_eq!(acceptance("auth_pap", welcome), want);
    assert_eq!(acceptance("auth_chap", welcome), want);
    let ms =
        String::from_utf8(acceptance("auth_mschapv2", welcome)).unwrap_or_else(|e| panic!("{e}"));
    assert!(ms.starts_with("S="), "{ms}");
    assert_eq!(&ms[42..], " M=Welcome, alice. 3 days left", "{ms}");
    // Without one, a greeting; a long one is cut.
    assert_eq!(acceptance("auth_pap", &[]), b"Login ok");
    let long = vec![b'x'; 150];
    assert_eq!(acceptance("auth_chap", &[&long, &long]), vec![b'x'; 200]);
}

/// An Access-Reject's Reply-Messages reach the peer all, one after the other (RFC 2865
/// §5.18), as an Access-Accept's do.
#[test]
fn every_reply_message_of_an_access_reject_reaches_the_peer() {
    let go: &[&'static [u8]] = &[b"Account expired.", b" Call us."];
    assert_eq!(refusal("auth_pap", go), b"Account expired. Call us.");
    assert_eq!(refusal("auth_chap", go), b"Account expired. Call us.");
}

/// An Access-Accept that gives another User-Name (a realm added): `l2tpctl disconnect user`
/// finds the session by it, as by the name the peer logged in with, and so does a
/// Disconnect-Request's User-Name; another name finds nothing.
#[test]
fn disconnect_user_matches_the_access_accepts_user_name_too() {
    for (name, dynauth) in [
        ("alice@example.net", false),
        ("alice", false),
        ("alice@example.net", true),
        ("alice", true),
    ] {
        let mut accept = Attributes::new();
        accept
            .push(
                radius_proto::dict::AttrType::USER_NAME,
                b"alice@example.net",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let mut net = super::radius::net(
            &lns("auth_chap", "auth_source radius"),
            &lac(1, PASSWORD),
            Some(server(accept)),
        );
        up(&mut net, "PPP up");
        if dynauth {
            use radius_proto::dynauth::{Answer, DynAuthKind};
            let ask = |net: &mut super::harness::Net, user: &str| {
                let mut attrs = Attributes::new();
                attrs.push_user_name(user).unwrap_or_else(|e| panic!("{e}"));
                super::radius::dynauth(net, DynAuthKind::Disconnect, &attrs)
            };
            let nak = ask(&mut net, "alice@example.org");
            assert!(matches!(nak, Answer::Nak(_)), "another name: {nak:?}");
            assert_eq!(ask(&mut net, name), Answer::Ack(None), "{name}");
        } else {
            let r = net.command(
                1,
                crate::engine::Command::Disconnect(l2tp_ctl::PppSelector::User(name.into())),
            );
            assert!(
                matches!(&r, Ok(l2tp_ctl::Response::Done(t)) if t.starts_with("1 session(s)")),
                "{name}: {r:?}"
            );
        }
        net.run_until(
            std::time::Duration::from_secs(20),
            "the session ends",
            |n| n.nodes[0].saw(l2tp_ctl::EventKind::SessionDown) == 1,
        );
        assert_eq!(net.nodes[0].first_cdn().result, 3, "{name}");
    }
}
