//! A hostile wire between a LAC and the LNS: every control datagram between them may be lost,
//! duplicated, replayed, truncated, padded, or changed anywhere (header, message type, AVP
//! values), and the LAC's PPP frames lost, truncated or changed, for a few minutes of virtual
//! time while the LAC deletes and places calls, with a seeded generator per run. Meanwhile a
//! second LAC's tunnels to the same LNS cross a clean wire. Each LAC has an L2TPv2 tunnel of
//! PPP sessions, an L2TPv3 one of Ethernet pseudowires over UDP and one over IP with a VLAN
//! pseudowire (cookie, data sequencing), all authenticated.
//!
//! Whatever arrives, nothing may panic, the second LAC's tunnels and sessions must not notice
//! (they stay up, their ids unchanged, no down event on either end), and once the wire is
//! clean again and the timers have run out, nothing may be left half-way: every tunnel and
//! session of the LAC and the LNS is up or gone (a LAC's own may wait to retry), each tunnel up
//! on one end is up on the other, and the LNS's counts agree with its lists.
//!
//! `L2TP_TAMPER_RUNS=N` runs more seeds than the default; `L2TP_TAMPER_SEED=S` runs seed S
//! alone (a failure names its seed).

use std::time::Duration;

use l2tp_ctl::{EventKind, Selector, SessionInfo, State, TunnelInfo};
use l2tp_proto::{DeterministicRng, Rng};

use super::super::Command;
use super::harness::{L2tpWire, Net, PppWire, addr};
use super::ppp::{POOL, a, client, server};

/// The LAC whose wire is hostile.
const HOSTILE: usize = 0;
/// The LNS.
const LNS: usize = 1;
/// The LAC whose wire is clean.
const CLEAN: usize = 2;

/// How long the wire misbehaves.
const HOSTILE_FOR: Duration = Duration::from_secs(180);
/// How long it is clean before the end is checked: every retransmission cycle, set-up timer
/// and HELLO has run out by then.
const QUIET_FOR: Duration = Duration::from_secs(900);

const AUTH: &str = "    secret \"tamper-secret\"\n    auth_mode challenge\n";

fn lac(name: &str) -> String {
    format!(
        "system {{\n    tunnel_persist_pend_timeout 4\n    session_persist_pend_timeout 4\n}}\n\
         tunnel \"{name}2\" {{\n    peer {lns}\n    version 2\n    hello_timeout 20\n{AUTH}}}\n\
         tunnel \"{name}3\" {{\n    peer {lns}\n    version 3\n    hello_timeout 20\n{AUTH}}}\n\
         session \"p0\" {{\n    tunnel \"{name}2\"\n    pseudowire_type ppp\n}}\n\
         session \"p1\" {{\n    tunnel \"{name}2\"\n    pseudowire_type ppp\n}}\n\
         session \"p2\" {{\n    tunnel \"{name}2\"\n    pseudowire_type ppp\n}}\n\
         session \"e0\" {{\n    tunnel \"{name}3\"\n    pseudowire_type eth\n}}\n\
         session \"e1\" {{\n    tunnel \"{name}3\"\n    pseudowire_type eth\n}}\n\
         tunnel \"{name}i\" {{\n    peer {lns}\n    version 3\n    encap ip\n    \
         hello_timeout 20\n{AUTH}}}\n\
         session \"v0\" {{\n    tunnel \"{name}i\"\n    pseudowire_type eth_vlan\n    \
         vlan_id 7\n    cookie_length 8\n    data_sequencing all\n}}\n",
        lns = addr(LNS).ip()
    )
}

/// Tunnels authenticated (RFC 2661 §5.1.1 challenges in v2, RFC 3931 §5.4.1 message digests
/// in v3), so that changed octets also meet those checks.
const LNS_CONF: &str = "tunnel profile \"auth\" {\n    secret \"tamper-secret\"\n    \
                        auth_mode challenge\n}\n\
                        peer profile \"lacs\" {\n    peer_ipaddr 192.0.2.0/24\n    \
                        tunnel_profile_name \"auth\"\n}\n";

fn below(rng: &mut DeterministicRng, n: usize) -> usize {
    let mut b = [0u8; 4];
    rng.fill(&mut b);
    u32::from_be_bytes(b) as usize % n.max(1)
}

fn byte(rng: &mut DeterministicRng) -> u8 {
    let mut b = [0u8; 1];
    rng.fill(&mut b);
    b[0]
}

/// The hostile wire: what arrives instead of each datagram between the LAC and the LNS.
fn hostile_wire(seed: u64) -> L2tpWire {
    let mut rng = DeterministicRng::new(seed);
    let mut seen: Vec<Vec<u8>> = Vec::new();
    L2tpWire(Box::new(move |from, to, mut d| {
        let involved = |n: usize| n == HOSTILE;
        if !(involved(from) || involved(to)) {
            return vec![d];
        }
        if seen.len() < 256 {
            seen.push(d.clone());
        }
        match below(&mut rng, 100) {
            0..50 => vec![d],
            50..58 => Vec::new(),
            58..64 => vec![d.clone(), d],
            64..70 => {
                let old = seen[below(&mut rng, seen.len())].clone();
                vec![old, d]
            }
            70..78 => {
                for _ in 0..=below(&mut rng, 3) {
                    let at = below(&mut rng, d.len());
                    if let Some(b) = d.get_mut(at) {
                        *b ^= byte(&mut rng) | 1;
                    }
                }
                vec![d]
            }
            78..82 => {
                // The header: flags, version, length, ids, Ns and Nr.
                let at = below(&mut rng, d.len().min(12));
                if let Some(b) = d.get_mut(at) {
                    *b ^= byte(&mut rng) | 1;
                }
                vec![d]
            }
            82..87 => {
                // The Message Type AVP's value, the first AVP after a 12-octet header.
                if d.len() >= 20 {
                    d[18] = 0;
                    d[19] = u8::try_from(below(&mut rng, 24)).unwrap_or(0);
                }
                vec![d]
            }
            87..91 => {
                // An AVP value changed in place: two to four octets past the first AVP.
                if d.len() > 24 {
                    let at = 20 + below(&mut rng, d.len() - 20);
                    for i in at..(at + 2 + below(&mut rng, 3)).min(d.len()) {
                        d[i] = byte(&mut rng);
                    }
                }
                vec![d]
            }
            91..95 => {
                d.truncate(below(&mut rng, d.len() + 1));
                vec![d]
            }
            95..98 => {
                for _ in 0..=below(&mut rng, 40) {
                    d.push(byte(&mut rng));
                }
                vec![d]
            }
            _ => {
                // Another datagram seen earlier, sent in the other direction too.
                let old = seen[below(&mut rng, seen.len())].clone();
                vec![d, old.clone(), old]
            }
        }
    }))
}

/// The hostile LAC's PPP frames: lost, truncated or changed now and then.
fn hostile_ppp(seed: u64) -> PppWire {
    let mut rng = DeterministicRng::new(seed ^ 0x9090);
    PppWire(Box::new(move |from, _, frame| {
        if from != HOSTILE {
            return true;
        }
        match below(&mut rng, 100) {
            0..80 => true,
            80..86 => false,
            86..90 => {
                frame.truncate(below(&mut rng, frame.len() + 1));
                true
            }
            _ => {
                let at = below(&mut rng, frame.len());
                if let Some(b) = frame.get_mut(at) {
                    *b ^= byte(&mut rng) | 1;
                }
                true
            }
        }
    }))
}

fn tunnels(net: &Net, i: usize) -> Vec<TunnelInfo> {
    net.nodes[i].engine.tunnels(net.now)
}

fn sessions(net: &Net, i: usize) -> Vec<SessionInfo> {
    net.nodes[i]
        .engine
        .sessions(net.now, None)
        .unwrap_or_else(|e| panic!("sessions: {e:?}"))
}

/// The clean LAC's tunnels and sessions as the LNS and the LAC see them: (tid, peer tid) and
/// (tid, sid, peer sid), sorted.
#[allow(clippy::type_complexity)]
fn clean_view(net: &Net) -> (Vec<(u32, u32)>, Vec<(u32, u32, u32)>) {
    let lac_tids: Vec<u32> = tunnels(net, CLEAN).iter().map(|t| t.tid).collect();
    let mut t: Vec<(u32, u32)> = tunnels(net, LNS)
        .iter()
        .filter(|t| lac_tids.contains(&t.peer_tid))
        .map(|t| {
            assert_eq!(t.state, State::Up, "{t:?}");
            (t.tid, t.peer_tid)
        })
        .collect();
    t.sort_unstable();
    let lns_tids: Vec<u32> = t.iter().map(|x| x.0).collect();
    let mut s: Vec<(u32, u32, u32)> = sessions(net, LNS)
        .iter()
        .filter(|s| lns_tids.contains(&s.tid))
        .map(|s| {
            assert_eq!(s.state, State::Up, "{s:?}");
            (s.tid, s.sid, s.peer_sid)
        })
        .collect();
    s.sort_unstable();
    (t, s)
}

fn run(seed: u64) {
    let lac_a = lac("a");
    let lac_b = lac("b");
    let mut net = Net::unstarted(&[&lac_a, LNS_CONF, &lac_b], seed);
    // The PPP sessions authenticate as alice and take addresses from the LNS's pool.
    let ranges = [(a("198.51.100.10"), a("198.51.100.99"))];
    net.nodes[LNS]
        .engine
        .configure_ppp(vec![server(Some(POOL), None)], &[(POOL, &ranges[..])]);
    for lac in [HOSTILE, CLEAN] {
        net.nodes[lac]
            .engine
            .configure_ppp(vec![client("alice", "wonderland")], &[]);
    }
    let mut net = net.start();
    net.run_until(Duration::from_secs(30), "both LACs up", |n| {
        n.nodes[HOSTILE].up() == (3, 6) && n.nodes[CLEAN].up() == (3, 6)
    });
    let before = clean_view(&net);
    assert_eq!((before.0.len(), before.1.len()), (3, 6), "{before:?}");
    let clean_events = net.nodes[CLEAN].events.len();

    // Sessions deleted and placed again while the wire misbehaves (the tunnels and sessions
    // that fail come back by themselves: they persist).
    net.l2tp_wire = Some(hostile_wire(seed));
    net.ppp_wire = Some(hostile_ppp(seed));
    let mut extra = 0;
    for round in 0..18 {
        net.run_for(HOSTILE_FOR / 18);
        let (tunnel, session) = [("a2", "p1"), ("a3", "e1"), ("a2", "p2"), ("ai", "v0")][round % 4];
        let _ = net.command(
            HOSTILE,
            Command::DeleteSession(
                Selector::Name(tunnel.into()),
                Selector::Name(session.into()),
            ),
        );
        extra += 1;
        let _ = net.command(
            HOSTILE,
            Command::CreateSession {
                tunnel: Selector::Name(tunnel.into()),
                name: format!("x{extra}"),
                params: l2tp_ctl::Params::default(),
            },
        );
    }
    net.l2tp_wire = None;
    net.ppp_wire = None;
    net.run_for(QUIET_FOR);

    let context = || {
        format!(
            "seed {seed}\nLAC tunnels: {:#?}\nLAC sessions: {:#?}\nLNS tunnels: {:#?}\nLNS \
             sessions: {:#?}",
            tunnels(&net, HOSTILE),
            sessions(&net, HOSTILE),
            tunnels(&net, LNS),
            sessions(&net, LNS)
        )
    };
    // The clean LAC noticed nothing.
    assert_eq!(clean_view(&net), before, "{}", context());
    let downs: Vec<_> = net.nodes[CLEAN].events[clean_events..]
        .iter()
        .filter(|e| matches!(e.event, EventKind::TunnelDown | EventKind::SessionDown))
        .collect();
    assert!(downs.is_empty(), "seed {seed}: {downs:#?}");

    // Nothing half-way on the LNS or the hostile LAC.
    for t in tunnels(&net, LNS) {
        assert_eq!(t.state, State::Up, "{t:?}\n{}", context());
    }
    for s in sessions(&net, LNS) {
        assert_eq!(s.state, State::Up, "{s:?}\n{}", context());
    }
    for t in tunnels(&net, HOSTILE) {
        assert!(
            matches!(t.state, State::Up | State::Idle),
            "{t:?}\n{}",
            context()
        );
        // Up on one end, up on the other.
        if t.state == State::Up {
            assert!(
                tunnels(&net, LNS)
                    .iter()
                    .any(|l| l.tid == t.peer_tid && l.peer_tid == t.tid),
                "{t:?}\n{}",
                context()
            );
        }
    }
    for s in sessions(&net, HOSTILE) {
        assert!(
            matches!(s.state, State::Up | State::Idle),
            "{s:?}\n{}",
            context()
        );
    }
    let lac_tids: Vec<u32> = tunnels(&net, HOSTILE).iter().map(|t| t.tid).collect();
    for t in tunnels(&net, LNS) {
        let clean = tunnels(&net, CLEAN).iter().any(|c| c.tid == t.peer_tid);
        assert!(
            clean || lac_tids.contains(&t.peer_tid),
            "the LNS keeps a tunnel no LAC has: {t:?}\n{}",
            context()
        );
    }
    let c = net.nodes[LNS].engine.counts();
    assert_eq!(
        (c.tunnels, c.sessions),
        (
            u32::try_from(tunnels(&net, LNS).len()).unwrap_or(0),
            u32::try_from(sessions(&net, LNS).len()).unwrap_or(0)
        ),
        "{}",
        context()
    );
}

#[test]
fn a_hostile_wire_leaves_nothing_half_way_and_other_peers_untouched() {
    let runs: u64 = std::env::var("L2TP_TAMPER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    if let Some(seed) = std::env::var("L2TP_TAMPER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return run(seed);
    }
    for seed in 0..runs {
        run(0x7a3e_0000 + seed);
    }
}
