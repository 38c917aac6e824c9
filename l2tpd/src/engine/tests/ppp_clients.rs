//! Native PPP with the habits of the L2TP/IPsec clients built into the operating systems.
//!
//! Windows asks LCP for Multilink (an MRRU and an Endpoint Discriminator) and Callback, CCP for
//! MPPE, and IPCP for DNS and NBNS (WINS) servers, primary and secondary: the LNS rejects what
//! it does not do, protocol-rejects CCP (IPsec encrypts already), gives the servers it has and
//! rejects the rest, and the negotiation converges. Phones (Apple, Android) send LCP echoes and
//! L2TP HELLOs at their own pace, and often vanish without a StopCCN: the LNS answers every echo
//! and acknowledges every HELLO, notices the silence, and cleans up: PPP down (event and
//! counters), the address back in its pool, the session and then the tunnel gone.
//!
//! pppd, in `l2tpd/tests/ipsec_nat.rs`, shows the same against real clients where it can
//! (MRRU, Callback, CCP, DNS, echoes, vanishing); it cannot ask for NBNS, nor for MPPE without
//! ending its link when CCP is refused, which Windows does not do over IPsec: here the frames
//! are Windows'.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use l2tp_ctl::EventKind;
use ppp_proto::LinkConfig;

use super::super::ppp::PppPolicy;
use super::harness::{Net, PppWire, addr};
use super::ppp::{POOL, a, client, server, unstarted};

/// Frames as the engines send them: `FF 03`, Protocol, Code, Identifier, Length, data.
fn code(frame: &[u8]) -> Option<(u16, u8)> {
    let protocol = u16::from_be_bytes([*frame.get(2)?, *frame.get(3)?]);
    Some((protocol, *frame.get(4)?))
}

/// The options of a Configure-Request/Ack/Nak/Reject frame: (type, value).
fn options(frame: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = frame.get(8..).unwrap_or_default();
    while rest.len() >= 2 {
        let len = usize::from(rest[1]);
        if len < 2 || len > rest.len() {
            break;
        }
        out.push((rest[0], rest[2..len].to_vec()));
        rest = &rest[len..];
    }
    out
}

/// `frame` with `extra` options appended, its Length field fixed.
fn with_options(frame: &[u8], extra: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    f.extend_from_slice(extra);
    let len = u16::try_from(f.len() - 4).unwrap_or(u16::MAX);
    f[6..8].copy_from_slice(&len.to_be_bytes());
    f
}

const LCP: u16 = 0xc021;
const IPCP: u16 = 0x8021;
const CCP: u16 = 0x80fd;

/// Windows' extra LCP options: Callback (13) by CBCP (operation 6), MRRU (17) 1614, and an
/// Endpoint Discriminator (19) of class 1 (locally assigned).
const WINDOWS_LCP: [u8; 16] = [
    13, 3, 6, //
    17, 4, 0x06, 0x4e, //
    19, 9, 1, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
];

/// Windows' IPCP requests for NBNS servers, primary (130) and secondary (132), as 0.0.0.0
/// (the client asks for both DNS servers itself, as Windows does).
const WINDOWS_IPCP: [u8; 12] = [
    130, 6, 0, 0, 0, 0, //
    132, 6, 0, 0, 0, 0,
];

/// A CCP Configure-Request for MPPE (option 18: stateless, 128-bit keys).
const CCP_MPPE: [u8; 14] = [
    0xff, 0x03, 0x80, 0xfd, 1, 1, 0, 10, 18, 6, 0x01, 0x00, 0x00, 0x40,
];

/// The LNS's policy with a WINS server besides its DNS server.
fn server_with_wins() -> PppPolicy {
    let p = server(Some(POOL), Some(Duration::from_secs(1)));
    let mut config = (*p.server).clone();
    if let Some(ipv4) = config.ipv4.as_mut() {
        ipv4.defaults.nbns = [Some(a("192.0.2.54")), None];
    }
    let config = Arc::new(config);
    PppPolicy {
        server: Arc::clone(&config),
        client: config,
        ..p
    }
}

/// A client that asks for DNS, with a link of its own MRU.
fn windows_client() -> PppPolicy {
    let p = client("alice", "wonderland");
    let c = Arc::new(LinkConfig {
        ..(*p.client).clone()
    });
    PppPolicy {
        client: Arc::clone(&c),
        server: c,
        ..p
    }
}

/// `options` (type, length, value...) without those whose type is in `rejected`.
fn without(options: &[u8], rejected: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = options;
    while rest.len() >= 2 {
        let len = usize::from(rest[1]).clamp(2, rest.len());
        if !rejected.contains(&rest[0]) {
            out.extend_from_slice(&rest[..len]);
        }
        rest = &rest[len..];
    }
    out
}

/// The frames the LNS (node 1) sent, recorded on the wire, which makes the LAC's ppp_proto
/// client a Windows one: its LCP and IPCP Configure-Requests get Windows' extra options on the
/// way (but for those the LNS has rejected, and with the values it Nak'ed, as a client that
/// follows RFC 1661 §5.3 and §5.4 does), and the LNS's answers lose them again on the way
/// back (an answer about them only is not delivered; the client asks again).
fn windows_wire(net: &mut Net) -> Arc<Mutex<Vec<Vec<u8>>>> {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    let mut rejected: Vec<(u16, u8)> = Vec::new();
    let mut naked: Vec<(u8, Vec<u8>)> = Vec::new();
    let windows = |protocol| {
        if protocol == LCP {
            &WINDOWS_LCP[..]
        } else {
            &WINDOWS_IPCP[..]
        }
    };
    net.ppp_wire = Some(PppWire(Box::new(move |node, _, frame| {
        let Some((protocol, code)) = code(frame).filter(|(p, _)| [LCP, IPCP].contains(p)) else {
            if node == 1 {
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(frame.clone());
            }
            return true;
        };
        let ours: Vec<u8> = options(&with_options(&frame[..8], windows(protocol)))
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        if node == 0 {
            if code == 1 {
                let gone: Vec<u8> = rejected
                    .iter()
                    .filter(|(p, _)| *p == protocol)
                    .map(|(_, t)| *t)
                    .collect();
                let mut extra = without(windows(protocol), &gone);
                if protocol == IPCP {
                    let mut with_naks = Vec::new();
                    for (t, v) in options(&with_options(&frame[..8], &extra)) {
                        let v = naked
                            .iter()
                            .find(|(n, _)| *n == t)
                            .map_or(v, |(_, v)| v.clone());
                        with_naks.push(t);
                        with_naks.push(u8::try_from(v.len() + 2).unwrap_or(2));
                        with_naks.extend_from_slice(&v);
                    }
                    extra = with_naks;
                }
                *frame = with_options(frame, &extra);
            }
            return true;
        }
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(frame.clone());
        if !(2..=4).contains(&code) {
            return true;
        }
        let answered = options(frame);
        for (t, v) in &answered {
            if ours.contains(t) {
                match code {
                    3 => naked.push((*t, v.clone())),
                    4 => rejected.push((protocol, *t)),
                    _ => {}
                }
            }
        }
        let theirs: Vec<u8> = answered
            .iter()
            .filter(|(t, _)| !ours.contains(t))
            .flat_map(|(t, v)| {
                let mut o = vec![*t, u8::try_from(v.len() + 2).unwrap_or(2)];
                o.extend_from_slice(v);
                o
            })
            .collect();
        if theirs.is_empty() && code != 2 {
            return false;
        }
        *frame = with_options(&frame[..8], &theirs);
        true
    })));
    sent
}

#[test]
fn what_windows_asks_for_is_refused_or_given_and_negotiation_converges() {
    let mut net = unstarted(
        &[windows_client()],
        server_with_wins(),
        ("198.51.100.10", "198.51.100.19"),
    );
    let sent = windows_wire(&mut net);
    let mut net = net.start();
    net.run_until(Duration::from_secs(20), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1 && n.nodes[0].saw(EventKind::PppUp) == 1
    });
    let frames = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
    // LCP: Callback, MRRU and the Endpoint Discriminator rejected together, nothing else.
    let lcp_rejects: Vec<Vec<u8>> = frames
        .iter()
        .filter(|f| code(f) == Some((LCP, 4)))
        .map(|f| options(f).into_iter().map(|(t, _)| t).collect())
        .collect();
    assert_eq!(lcp_rejects, vec![vec![13, 17, 19]], "{frames:02x?}");
    // IPCP: the NBNS server given (Nak with it), the secondary ones it has not rejected.
    let naks: Vec<(u8, Vec<u8>)> = frames
        .iter()
        .filter(|f| code(f) == Some((IPCP, 3)))
        .flat_map(|f| options(f))
        .collect();
    assert!(
        naks.contains(&(130, vec![192, 0, 2, 54])),
        "no NBNS server given: {naks:02x?}"
    );
    let ipcp_rejects: Vec<u8> = frames
        .iter()
        .filter(|f| code(f) == Some((IPCP, 4)))
        .flat_map(|f| options(f).into_iter().map(|(t, _)| t))
        .collect();
    assert_eq!(ipcp_rejects, vec![131, 132], "{frames:02x?}");
    // The client got its address and the primary DNS server.
    let ups = super::ppp::ppp_ups(&net, 1);
    assert_eq!(
        ups.last().and_then(|n| n.ipv4).map(|(_, peer)| peer),
        Some(a("198.51.100.10"))
    );
    let lac_acks: Vec<(u8, Vec<u8>)> = frames
        .iter()
        .filter(|f| code(f) == Some((IPCP, 2)))
        .flat_map(|f| options(f))
        .collect();
    assert!(
        lac_acks.contains(&(129, vec![192, 0, 2, 53]))
            && lac_acks.contains(&(130, vec![192, 0, 2, 54])),
        "{lac_acks:02x?}"
    );

    // CCP for MPPE: Protocol-Rejected (RFC 1661 §5.7), and the link stays up.
    let (tid, sid) = lns_session(&net);
    let now = net.now;
    net.nodes[1]
        .engine
        .handle_ppp_frame(now, (tid, sid), &CCP_MPPE);
    net.run_for(Duration::from_millis(10));
    let frames = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let rejected: Vec<&Vec<u8>> = frames
        .iter()
        .filter(|f| code(f) == Some((LCP, 8)))
        .collect();
    assert_eq!(rejected.len(), 1, "{frames:02x?}");
    assert_eq!(&rejected[0][8..10], &CCP.to_be_bytes(), "{rejected:02x?}");
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 0);
    assert_eq!(net.nodes[1].engine.pool_in_use(POOL), 1);
}

/// The LNS's session (tunnel id, session id).
fn lns_session(net: &Net) -> (u32, u32) {
    let rows = net.nodes[1]
        .engine
        .sessions(net.now, None)
        .unwrap_or_default();
    let row = rows.first().unwrap_or_else(|| panic!("no session"));
    (row.tid, row.sid)
}

/// A phone (node 0) that sends an L2TP HELLO after each second of silence on its control
/// connection, and an LNS (node 1) with `server` and the pool.
fn phone_net(server: PppPolicy) -> Net {
    let lac = format!(
        "tunnel \"t\" {{\n    peer {}\n    version 2\n    hello_timeout 1\n}}\n\
         session \"s0\" {{\n    tunnel \"t\"\n    pseudowire_type ppp\n}}\n",
        addr(1).ip()
    );
    let mut net = Net::unstarted(&[&lac, ""], 21);
    let ranges = [(a("198.51.100.10"), a("198.51.100.19"))];
    net.nodes[1]
        .engine
        .configure_ppp(vec![server], &[(POOL, &ranges[..])]);
    net.nodes[0]
        .engine
        .configure_ppp(vec![client("alice", "wonderland")], &[]);
    net
}

/// The (Ns, Message Type) of an L2TPv2 control message as the engines send it (length and
/// sequence fields, no offset; the Message Type AVP first, RFC 2661 §4.4.1); `None` for a ZLB
/// or a data packet.
fn control_message(contents: &[u8]) -> Option<(u16, u16)> {
    let field = |i: usize| {
        Some(u16::from_be_bytes([
            *contents.get(i)?,
            *contents.get(i + 1)?,
        ]))
    };
    if contents.first()? & 0x80 == 0 || field(16)? != 0 {
        return None;
    }
    Some((field(8)?, field(18)?))
}

/// RFC 2661 §6.5: the Message Type of a HELLO.
const HELLO: u16 = 6;

#[test]
fn a_phone_that_echoes_at_its_own_pace_and_vanishes_is_cleaned_up() {
    // The LNS echoes every second; the phone every 300 ms, on its own, and it sends L2TP
    // HELLOs every second as well.
    let mut net = phone_net(server(Some(POOL), Some(Duration::from_secs(1))));
    let gone = Arc::new(Mutex::new(false));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let (g, log) = (Arc::clone(&gone), Arc::clone(&sent));
    net.ppp_wire = Some(PppWire(Box::new(move |node, _, frame| {
        if node == 1 {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(frame.clone());
        }
        !*g.lock().unwrap_or_else(|e| e.into_inner())
    })));
    let mut net = net.start();
    net.run_until(Duration::from_secs(20), "PPP up", |n| {
        n.nodes[1].saw(EventKind::PppUp) == 1
    });
    assert_eq!(net.nodes[1].engine.pool_in_use(POOL), 1);
    let (tid, sid) = lns_session(&net);
    for i in 0..20u8 {
        let echo = [0xff, 0x03, 0xc0, 0x21, 9, i, 0, 8, 0, 0, 0, 0];
        let now = net.now;
        net.nodes[1].engine.handle_ppp_frame(now, (tid, sid), &echo);
        net.run_for(Duration::from_millis(300));
    }
    let replies = sent
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|f| code(f) == Some((LCP, 10)))
        .count();
    assert!(replies >= 20, "{replies} Echo-Replies to 20 Echo-Requests");
    assert_eq!(net.nodes[1].saw(EventKind::PppDown), 0);
    // The phone's HELLOs were acknowledged in time: none was sent again (RFC 2661 §5.8).
    let hellos: Vec<u16> = net.nodes[0]
        .sent
        .iter()
        .filter_map(|(_, t)| control_message(&t.contents))
        .filter(|&(_, kind)| kind == HELLO)
        .map(|(ns, _)| ns)
        .collect();
    let mut distinct = hellos.clone();
    distinct.dedup();
    assert!(
        hellos.len() >= 3,
        "only {} HELLOs from the phone",
        hellos.len()
    );
    assert_eq!(hellos, distinct, "a HELLO was sent again: {hellos:?}");

    // The phone vanishes: no StopCCN, no CDN, no more frames or datagrams.
    *gone.lock().unwrap_or_else(|e| e.into_inner()) = true;
    net.blackhole = true;
    net.run_until(Duration::from_secs(120), "the tunnel gone", |n| {
        n.nodes[1].engine.counts().tunnels == 0
    });
    let down = net.nodes[1].first_ppp(EventKind::PppDown);
    assert_eq!(down.user.as_deref(), Some("alice"));
    assert_eq!(down.peer_ipv4, Some(a("198.51.100.10")));
    assert_eq!(
        net.nodes[1].engine.pool_in_use(POOL),
        0,
        "the address is not back"
    );
    assert_eq!(net.nodes[1].engine.counts().sessions, 0);
    assert!(net.nodes[1].saw(EventKind::TunnelDeleted) >= 1);
}
