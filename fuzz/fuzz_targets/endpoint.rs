//! Three `Endpoint`s (tunnel and session automata, reliable channels, tie breaking,
//! authentication) joined by a wire that the input controls: every datagram they send waits
//! in flight until an operation delivers, drops, duplicates, replays, redirects or changes it
//! (octets flipped, cut, padded, the message type or an AVP rewritten). Other operations move
//! virtual time, open and close tunnels (L2TPv2, L2TPv3 over UDP and IP, the fallback probe,
//! with and without a secret) and sessions, and change how each endpoint answers the peers'
//! requests (accept, refuse, or leave the decision waiting).
//!
//! The input is a list of operations: one octet naming the operation, then its operands (one
//! octet each; missing ones read as 0). Everything is bounded: operations, datagrams in
//! flight, deliveries and hostile virtual time.
//!
//! Then the wire is clean (every datagram delivered at once, in order) for long enough that
//! every retransmission, set-up, decision, idle, linger and HELLO timer has run out. Besides
//! "nothing panics", the end must hold what RFC 2661 and RFC 3931 promise:
//!
//! - every tunnel and session is established or gone: none is left waiting for a reply, a
//!   decision or a tunnel, nor closing (a half-open connection is torn down by its set-up
//!   timer; one whose peer forgot it, by its HELLO going unacknowledged, RFC 2661 §6.5);
//! - a tunnel established on one end is established on the other, with the ids swapped, the
//!   same version and each end's address as the other's peer (the HELLOs of any other
//!   pairing go unacknowledged). Sessions are not compared: a changed Assigned Session ID can
//!   legitimately leave a call established on one end only (nothing in either RFC checks it);
//! - the counts agree with the lists;
//! - timers are not busy: the clean period takes a bounded number of wake-ups, and afterwards
//!   no endpoint asks to be woken in the past.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;

use l2tp_proto::auth::Secret;
use l2tp_proto::time::Instant;
use l2tp_proto::wire::avp::AvpIter;
use l2tp_proto::wire::avp::types::pw_type;
use l2tp_proto::wire::header::L2SpecificSublayer;
use l2tp_proto::wire::{ControlHeader, Cookie, Encapsulation};
use l2tp_proto::{
    AuthMode, CallType, Command, DataSequencing, Decision, DeterministicRng, Endpoint,
    EndpointConfig, Refusal, SessionConfig, SessionHandle, SessionState, TunnelConfig,
    TunnelHandle, TunnelState, VersionMode,
};
use libfuzzer_sys::fuzz_target;

const NODES: usize = 3;
const MAX_OPS: usize = 400;
const MAX_FLIGHTS: usize = 48;
const MAX_HISTORY: usize = 32;
const MAX_DELIVERIES: usize = 3000;
const MAX_DEFERRED: usize = 8;
/// Most virtual time the hostile part of an input may take.
const MAX_HOSTILE: Duration = Duration::from_secs(600);
/// The clean period: longer than the longest chain of timers below (decision 10 s, set-up
/// 30 s, idle 15 s, HELLO 20 s, a retransmission span of 31 s, lingering as long).
const QUIET: Duration = Duration::from_secs(300);
/// Wake-ups and deliveries allowed in the clean period: a HELLO every 20 s per tunnel end and
/// its acknowledgement, with a wide margin; a busy timer or a ping-pong of messages exceeds it.
const QUIET_STEPS: usize = 20_000;
const SECRET: &str = "fuzz-secret";

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, i as u8 + 1), 1701))
}

fn node_of(a: SocketAddr) -> Option<usize> {
    (0..NODES).find(|&i| addr(i).ip() == a.ip())
}

/// The timers every profile shares, short so that the clean period can be short.
fn base_tunnel() -> TunnelConfig {
    TunnelConfig {
        hello_timeout: Duration::from_secs(20),
        establish_timeout: Duration::from_secs(30),
        retry_timeout: Duration::from_secs(1),
        max_retries: 5,
        ..TunnelConfig::default()
    }
}

/// The profile of a tunnel we open: bits 0-1 the version and encapsulation, 2 a secret with
/// authentication, 3 hidden AVPs, 4 an idle timeout, 5 HMAC-SHA-1, 6 no tie breaker, 7 a
/// window of one.
fn open_config(b: u8) -> TunnelConfig {
    let mut c = base_tunnel();
    match b & 3 {
        0 => c.version = VersionMode::V2,
        1 => c.version = VersionMode::V3,
        2 => c.version = VersionMode::V3WithFallback,
        _ => {
            c.version = VersionMode::V3;
            c.encap = Encapsulation::Ip;
        }
    }
    if b & 4 != 0 {
        c.secret = Secret::from(SECRET);
        c.auth_mode = AuthMode::Challenge;
        c.hide_avps = b & 8 != 0;
        if b & 0x20 != 0 {
            c.digest_type = l2tp_proto::wire::digest::DigestType::HmacSha1;
        }
    }
    if b & 0x10 != 0 {
        c.idle_timeout = Duration::from_secs(15);
    }
    c.use_tiebreaker = b & 0x40 == 0;
    if b & 0x80 != 0 {
        c.rx_window = NonZeroU16::MIN;
        c.tx_window = NonZeroU16::MIN;
    }
    c
}

/// The profile of a session we place or accept: bits 0-1 the pseudowire type, 2-3 the
/// cookie length, 4 data sequencing, 5 a Remote End ID (session tie breaking), 6 no
/// L2-Specific Sublayer.
fn session_config(b: u8) -> SessionConfig {
    SessionConfig {
        pw_type: [pw_type::PPP, pw_type::ETH, pw_type::ETH_VLAN, pw_type::PPP][usize::from(b & 3)],
        cookie_length: [0, 4, 8, 0][usize::from((b >> 2) & 3)],
        // Length bits 3: a fixed cookie instead of a random one.
        cookie: if (b >> 2) & 3 == 3 {
            Cookie::new(&[1, 2, 3, 4])
        } else {
            None
        },
        data_sequencing: if b & 0x10 != 0 {
            DataSequencing::All
        } else {
            DataSequencing::None
        },
        remote_end_id: if b & 0x20 != 0 {
            b"circuit".to_vec()
        } else {
            Vec::new()
        },
        l2spec: if b & 0x40 != 0 {
            L2SpecificSublayer::None
        } else {
            L2SpecificSublayer::Default
        },
        establish_timeout: Duration::from_secs(30),
        ..SessionConfig::default()
    }
}

/// How an endpoint answers the peers' requests.
#[derive(Clone, Copy)]
struct Policy {
    /// 0 and 1: accept (1 with the secret, authentication required), 2: accept as L2TPv2
    /// only, 3: refuse, 4: leave waiting.
    tunnel: u8,
    /// 0 and 1: accept (with the profile of `session_profile`), 2: refuse, 3: leave waiting.
    session: u8,
    session_profile: u8,
}

impl Policy {
    fn from_byte(b: u8) -> Self {
        Self {
            tunnel: b % 5,
            session: (b >> 3) % 4,
            session_profile: b >> 5,
        }
    }
}

fn accept_config(policy: u8) -> TunnelConfig {
    let mut c = base_tunnel();
    match policy {
        1 => {
            c.secret = Secret::from(SECRET);
            c.auth_mode = AuthMode::Challenge;
            c.hide_avps = true;
        }
        2 => c.version = VersionMode::V2,
        _ => {
            // Without authentication required, a secret still answers a peer that asks.
            c.secret = Secret::from(SECRET);
        }
    }
    c
}

/// A datagram on the wire.
#[derive(Clone)]
struct Flight {
    to: usize,
    /// The source and destination addresses as the receiver will see them.
    src: SocketAddr,
    dst: SocketAddr,
    encap: Encapsulation,
    bytes: Vec<u8>,
}

struct Node {
    endpoint: Endpoint,
    policy: Policy,
    deferred: Vec<Decision>,
    next_handle: u64,
}

struct World {
    nodes: Vec<Node>,
    now: Instant,
    flights: Vec<Flight>,
    history: Vec<Flight>,
    sent: usize,
    deliveries: usize,
}

impl World {
    fn new(seed: u8) -> Self {
        let config = EndpointConfig {
            max_tunnels: 6,
            max_sessions: 12,
            decision_timeout: Duration::from_secs(10),
            default_tunnel: Arc::new(base_tunnel()),
            default_session: Arc::new(SessionConfig::default()),
        };
        let nodes = (0..NODES)
            .map(|i| {
                let mut endpoint = Endpoint::new(
                    config.clone(),
                    Box::new(DeterministicRng::new(u64::from(seed) << 8 | i as u64)),
                );
                endpoint.set_setup_limits(4, 20);
                Node {
                    endpoint,
                    policy: Policy::from_byte(0),
                    deferred: Vec::new(),
                    next_handle: 1,
                }
            })
            .collect();
        Self {
            nodes,
            now: Instant::from_secs(1),
            flights: Vec::new(),
            history: Vec::new(),
            sent: 0,
            deliveries: 0,
        }
    }

    /// Answers decisions, drops events, puts what the endpoints send on the wire.
    fn drain(&mut self) {
        let now = self.now;
        for i in 0..NODES {
            let n = &mut self.nodes[i];
            while let Some(decision) = n.endpoint.poll_decision() {
                let wait = match &decision {
                    Decision::Tunnel(_) => n.policy.tunnel == 4,
                    Decision::Session(_) => n.policy.session == 3,
                    _ => false,
                };
                if wait && n.deferred.len() < MAX_DEFERRED {
                    n.deferred.push(decision);
                } else {
                    answer(n, now, decision, !wait);
                }
            }
            while n.endpoint.poll_event().is_some() {}
            while let Some(tx) = n.endpoint.poll_transmit() {
                let Some(to) = node_of(tx.remote) else {
                    continue;
                };
                let flight = Flight {
                    to,
                    src: tx.local,
                    dst: tx.remote,
                    encap: tx.encap,
                    bytes: tx.contents,
                };
                if self.history.len() < MAX_HISTORY {
                    self.history.push(flight.clone());
                } else {
                    self.history[self.sent % MAX_HISTORY] = flight.clone();
                }
                self.sent += 1;
                if self.flights.len() >= MAX_FLIGHTS {
                    self.flights.remove(0);
                }
                self.flights.push(flight);
            }
        }
    }

    fn deliver(&mut self, f: &Flight) {
        self.deliveries += 1;
        self.nodes[f.to]
            .endpoint
            .handle_datagram(self.now, f.dst, f.src, f.encap, &f.bytes);
        self.drain();
    }

    /// Runs the timers due until `until`, then sets the clock to it. Returns the wake-ups.
    fn advance(&mut self, until: Instant) -> usize {
        let mut wakes = 0;
        while let Some(next) = self
            .nodes
            .iter()
            .filter_map(|n| n.endpoint.poll_timeout())
            .min()
        {
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            for n in &mut self.nodes {
                if n.endpoint.poll_timeout().is_some_and(|t| t <= self.now) {
                    n.endpoint.handle_timeout(self.now);
                }
            }
            self.drain();
            wakes += 1;
            if wakes > QUIET_STEPS {
                break;
            }
        }
        self.now = self.now.max(until);
        wakes
    }

    fn tunnel_ids(&self, node: usize) -> Vec<u32> {
        self.nodes[node]
            .endpoint
            .tunnels()
            .map(|t| t.tunnel_id)
            .collect()
    }

    fn pick_tunnel(&self, node: usize, k: u8) -> Option<u32> {
        let ids = self.tunnel_ids(node);
        ids.get(usize::from(k) % ids.len().max(1)).copied()
    }

    fn pick_session(&self, node: usize, tid: u32, k: u8) -> Option<u32> {
        let ids: Vec<u32> = self.nodes[node]
            .endpoint
            .sessions(tid)
            .map(|s| s.session_id)
            .collect();
        ids.get(usize::from(k) % ids.len().max(1)).copied()
    }

    fn command(&mut self, node: usize, command: Command) {
        let now = self.now;
        // Refusals (no such tunnel, limits, a closing tunnel) are part of the game.
        let _ = self.nodes[node].endpoint.handle_command(now, command);
        self.drain();
    }
}

fn answer(n: &mut Node, now: Instant, decision: Decision, accept: bool) {
    n.next_handle += 1;
    let handle = n.next_handle;
    let refuse = |what: u8, refuse_at: u8| !accept || what == refuse_at;
    // Errors: the decision may have timed out meanwhile.
    let _ = match decision {
        Decision::Tunnel(req) if refuse(n.policy.tunnel, 3) => {
            n.endpoint
                .reject_tunnel(now, req.id, Refusal::not_authorized())
        }
        Decision::Tunnel(req) => n
            .endpoint
            .accept_tunnel(
                now,
                req.id,
                TunnelHandle(handle),
                Arc::new(accept_config(n.policy.tunnel)),
            )
            .map(|_| ()),
        Decision::Session(req) if refuse(n.policy.session, 2) => {
            n.endpoint
                .reject_session(now, req.id, Refusal::limit_reached())
        }
        Decision::Session(req) => n.endpoint.accept_session(
            now,
            req.id,
            SessionHandle(handle),
            Arc::new(session_config(n.policy.session_profile)),
        ),
        _ => Ok(()),
    };
}

/// The input, read one octet at a time; past its end, zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
}

/// Where the AVPs of a control message start, for the encapsulation it was sent with.
fn body_start(encap: Encapsulation) -> usize {
    ControlHeader::wire_len(encap)
}

/// Rewrites the `k`-th AVP of `f`: its value zeroed, filled with `v`, its first or last octet
/// changed, or its M or H bit flipped.
fn rewrite_avp(f: &mut Flight, k: u8, v: u8) {
    let start = body_start(f.encap);
    let Some(body) = f.bytes.get(start..) else {
        return;
    };
    let Some((offset, len)) = AvpIter::new(body)
        .map_while(Result::ok)
        .nth(usize::from(k & 0x0f))
        .map(|a| (a.offset, a.value.len()))
    else {
        return;
    };
    let header = start + offset;
    let value = header + 6..header + 6 + len;
    let Some(bytes) = f.bytes.get_mut(value) else {
        return;
    };
    match k >> 4 {
        0 => bytes.fill(0),
        1 => bytes.fill(v),
        2 => {
            if let Some(b) = bytes.last_mut() {
                *b ^= v | 1;
            }
        }
        3 => {
            if let Some(b) = bytes.first_mut() {
                *b ^= v | 1;
            }
        }
        4 => f.bytes[header] ^= 0x80,
        5 => f.bytes[header] ^= 0x40,
        _ => {
            // A 16- or 32-bit value set to a small number (an id, a window, a type).
            let n = bytes.len();
            if n >= 2 {
                bytes.fill(0);
                bytes[n - 1] = v;
            }
        }
    }
}

fn run(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let mut input = Input(rest);
    let mut world = World::new(seed);
    let hostile_end = world.now + MAX_HOSTILE;
    for _ in 0..MAX_OPS {
        if input.0.is_empty() || world.deliveries > MAX_DELIVERIES {
            break;
        }
        let op = input.byte();
        let len = world.flights.len();
        let pick = |b: u8| usize::from(b) % len.max(1);
        match op % 18 {
            // Deliver, drop, duplicate one datagram in flight.
            0..=2 => {
                let i = pick(input.byte());
                if len == 0 {
                    continue;
                }
                let f = if op % 18 == 2 {
                    world.flights[i].clone()
                } else {
                    world.flights.remove(i)
                };
                if op % 18 != 1 {
                    world.deliver(&f);
                }
            }
            // Replay a datagram seen earlier, to its receiver or to another node, optionally
            // from a forged source.
            3 => {
                let (h, how) = (input.byte(), input.byte());
                let Some(mut f) = world
                    .history
                    .get(usize::from(h) % world.history.len().max(1))
                    .cloned()
                else {
                    continue;
                };
                redirect(&mut f, how);
                world.deliver(&f);
            }
            // Change a datagram in flight.
            4..=8 if len == 0 => {}
            4 => {
                let (i, at, v) = (pick(input.byte()), input.byte(), input.byte());
                let f = &mut world.flights[i];
                let n = f.bytes.len();
                if n > 0 {
                    f.bytes[usize::from(at) % n] ^= v.max(1);
                }
            }
            5 => {
                let (i, cut) = (pick(input.byte()), input.byte());
                let f = &mut world.flights[i];
                let n = f.bytes.len();
                f.bytes
                    .truncate(n.saturating_sub(usize::from(cut) % 32 + 1));
            }
            6 => {
                let (i, n, v) = (pick(input.byte()), input.byte(), input.byte());
                world.flights[i]
                    .bytes
                    .extend(std::iter::repeat_n(v, usize::from(n % 24) + 1));
            }
            7 => {
                // The Message Type AVP's value (RFC 2661 §3.2: the first AVP).
                let (i, t) = (pick(input.byte()), input.byte());
                let f = &mut world.flights[i];
                let at = body_start(f.encap) + 6;
                if let Some(v) = f.bytes.get_mut(at..at + 2) {
                    v.copy_from_slice(&u16::from(t % 40).to_be_bytes());
                }
            }
            8 => {
                let (i, k, v) = (pick(input.byte()), input.byte(), input.byte());
                rewrite_avp(&mut world.flights[i], k, v);
            }
            // Time passes.
            9 => {
                let b = input.byte();
                let until = (world.now + Duration::from_micros(1 << (b % 26))).min(hostile_end);
                world.advance(until);
            }
            10 => {
                let (a, b, cfg) = (input.byte(), input.byte(), input.byte());
                let from = usize::from(a) % NODES;
                let to = (from + 1 + usize::from(b) % (NODES - 1)) % NODES;
                let handle = TunnelHandle(u64::from(a) << 8 | u64::from(b));
                world.command(
                    from,
                    Command::OpenTunnel {
                        handle,
                        config: Arc::new(open_config(cfg)),
                        local: addr(from),
                        remote: addr(to),
                    },
                );
            }
            11 => {
                let (a, k, cfg) = (input.byte(), input.byte(), input.byte());
                let node = usize::from(a) % NODES;
                let Some(tunnel_id) = world.pick_tunnel(node, k) else {
                    continue;
                };
                world.nodes[node].next_handle += 1;
                let handle = SessionHandle(world.nodes[node].next_handle);
                let call = if cfg & 0x80 != 0 {
                    CallType::Outgoing
                } else {
                    CallType::Incoming
                };
                world.command(
                    node,
                    Command::OpenSession {
                        tunnel_id,
                        handle,
                        call,
                        config: Arc::new(session_config(cfg)),
                    },
                );
            }
            12 => {
                let (a, k, s, how) = (input.byte(), input.byte(), input.byte(), input.byte());
                let node = usize::from(a) % NODES;
                let Some(tunnel_id) = world.pick_tunnel(node, k) else {
                    continue;
                };
                let Some(session_id) = world.pick_session(node, tunnel_id, s) else {
                    continue;
                };
                let command = match how % 4 {
                    0 => Command::CloseSession {
                        tunnel_id,
                        session_id,
                    },
                    1 => Command::LoseSession {
                        tunnel_id,
                        session_id,
                        why: "gone".into(),
                    },
                    2 => Command::SetLinkInfo {
                        tunnel_id,
                        session_id,
                        accm: l2tp_proto::wire::avp::types::Accm {
                            send: u32::from(how),
                            receive: !u32::from(how),
                        },
                    },
                    _ => Command::EndSession {
                        tunnel_id,
                        session_id,
                        refusal: Refusal::result(2),
                        why: "ended".into(),
                    },
                };
                world.command(node, command);
            }
            13 => {
                let (a, k, how) = (input.byte(), input.byte(), input.byte());
                let node = usize::from(a) % NODES;
                let Some(tunnel_id) = world.pick_tunnel(node, k) else {
                    continue;
                };
                let command = if how & 1 == 0 {
                    Command::CloseTunnel { tunnel_id }
                } else {
                    Command::LoseTunnel {
                        tunnel_id,
                        why: "gone".into(),
                    }
                };
                world.command(node, command);
            }
            14 => {
                let (a, p) = (input.byte(), input.byte());
                world.nodes[usize::from(a) % NODES].policy = Policy::from_byte(p);
            }
            15 => {
                // A decision left waiting is answered (perhaps after it timed out).
                let (a, how) = (input.byte(), input.byte());
                let node = usize::from(a) % NODES;
                let now = world.now;
                let n = &mut world.nodes[node];
                if !n.deferred.is_empty() {
                    let d = n.deferred.remove(usize::from(how >> 1) % n.deferred.len());
                    answer(n, now, d, how & 1 == 0);
                    world.drain();
                }
            }
            // Everything in flight delivered, and what that sends, for a while.
            16 => {
                for _ in 0..64 {
                    if world.flights.is_empty() {
                        break;
                    }
                    let f = world.flights.remove(0);
                    world.deliver(&f);
                }
            }
            _ => {
                let (i, how) = (pick(input.byte()), input.byte());
                if len == 0 {
                    continue;
                }
                let mut f = world.flights.remove(i);
                redirect(&mut f, how);
                world.deliver(&f);
            }
        }
        if world.deliveries > MAX_DELIVERIES {
            break;
        }
    }
    quiet(&mut world);
    check(&world);
}

/// Sends `f` to another node (bit 0), or from another node's address (bit 1).
fn redirect(f: &mut Flight, how: u8) {
    let other = |i: usize| (i + 1 + usize::from(how >> 2) % (NODES - 1)) % NODES;
    if how & 1 != 0 {
        f.to = other(f.to);
        f.dst = addr(f.to);
    }
    if how & 2 != 0 {
        let from = node_of(f.src).unwrap_or(0);
        f.src = addr(other(from));
    }
}

/// The clean period: every datagram delivered at once, in order, timers run.
fn quiet(world: &mut World) {
    let end = world.now + QUIET;
    let mut steps = 0;
    loop {
        while !world.flights.is_empty() {
            let f = world.flights.remove(0);
            world.deliver(&f);
            steps += 1;
            assert!(
                steps <= QUIET_STEPS,
                "messages bounce for ever on a clean wire"
            );
        }
        let Some(next) = world
            .nodes
            .iter()
            .filter_map(|n| n.endpoint.poll_timeout())
            .min()
        else {
            break;
        };
        if next > end {
            break;
        }
        steps += world.advance(next);
        assert!(
            steps <= QUIET_STEPS,
            "busy timers: {steps} wake-ups in {QUIET:?}"
        );
    }
    world.now = world.now.max(end);
}

fn check(world: &World) {
    let now = world.now;
    for (i, n) in world.nodes.iter().enumerate() {
        let ep = &n.endpoint;
        if let Some(t) = ep.poll_timeout() {
            assert!(t > now, "node {i}: a timer in the past once quiet");
        }
        let mut sessions = 0;
        let tunnels: Vec<_> = ep.tunnels().collect();
        for t in &tunnels {
            assert_eq!(
                t.state,
                TunnelState::Established,
                "node {i}: left half-way: {t:?}"
            );
            let listed: Vec<_> = ep.sessions(t.tunnel_id).collect();
            assert_eq!(listed.len(), t.sessions, "node {i}: {t:?}");
            for s in &listed {
                assert_eq!(
                    s.state,
                    SessionState::Established,
                    "node {i}: left half-way: {s:?}"
                );
            }
            sessions += listed.len();
            // The other end: established, the ids swapped, the same version, each the other's
            // peer.
            let j = node_of(t.remote).expect("a peer of the mesh");
            let peer = world.nodes[j].endpoint.tunnel(t.peer_tunnel_id);
            assert!(
                peer.as_ref()
                    .is_some_and(|p| p.state == TunnelState::Established
                        && p.peer_tunnel_id == t.tunnel_id
                        && p.version == t.version
                        && p.remote.ip() == addr(i).ip()
                        && t.remote.ip() == addr(j).ip()),
                "node {i}: {t:?} is established, its peer on node {j} has {peer:?}"
            );
        }
        assert_eq!(ep.tunnel_count(), tunnels.len(), "node {i}: tunnel count");
        assert_eq!(ep.session_count(), sessions, "node {i}: session count");
    }
}

fuzz_target!(|data: &[u8]| run(data));
