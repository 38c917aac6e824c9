//! Two links joined by a simulated wire with a virtual clock and seeded loss: node 0 is the
//! authenticator (an LNS: assigns addresses, checks a user table), node 1 the peer (a client
//! with credentials). The clock jumps to the next delivery or deadline, so minutes of virtual
//! time cost only the work done in them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use l2tp_proto::rng::{DeterministicRng, Rng};
use l2tp_proto::time::Instant;

use crate::auth::{AuthMethod, Password};
use crate::config::{
    Credentials, InterfaceId, Ipv4Config, Ipv4Params, Ipv6Config, LinkConfig, NetworkParams,
};
use crate::event::{DownReason, Event};
use crate::link::Link;

/// What a node's host does with authentication requests.
#[derive(Clone, Debug)]
pub(crate) enum Host {
    /// Verify against this user table (name, password).
    Users(Vec<(Vec<u8>, Password)>),
    /// Never answer.
    Silent,
}

/// A frame seen on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) at: Instant,
    pub(crate) from: usize,
    pub(crate) bytes: Vec<u8>,
    pub(crate) dropped: bool,
}

/// Rewrites what node `usize` sends; `false` drops it.
pub(crate) type Tamper = Box<dyn FnMut(usize, &mut Vec<u8>) -> bool>;

pub(crate) struct Pair {
    pub(crate) links: [Link; 2],
    pub(crate) now: Instant,
    pub(crate) events: [Vec<Event>; 2],
    pub(crate) sent: Vec<Sent>,
    pub(crate) loss: f64,
    /// The fraction of frames the wire delivers twice, the copy up to a second later.
    pub(crate) dup: f64,
    pub(crate) delay: Duration,
    pub(crate) hosts: [Host; 2],
    pub(crate) network: [NetworkParams; 2],
    /// Rewrites (or drops, returning false) what a node sends.
    pub(crate) tamper: Option<Tamper>,
    /// Node 0's frames come back to node 0 (a looped-back line); node 1 hears nothing.
    pub(crate) loopback: bool,
    rngs: [DeterministicRng; 2],
    net: DeterministicRng,
    in_flight: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    flights: Vec<Option<(usize, Vec<u8>)>>,
    order: u64,
}

pub(crate) const USER: &[u8] = b"alice";
pub(crate) const PASSWORD: &str = "alice-secret";
pub(crate) const LNS_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub(crate) const PEER_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
pub(crate) const DNS: [Ipv4Addr; 2] = [
    Ipv4Addr::new(203, 0, 113, 53),
    Ipv4Addr::new(203, 0, 113, 54),
];

/// An LNS profile: authenticates with `methods`, IPv4 and IPv6.
pub(crate) fn lns_config(methods: &[AuthMethod]) -> LinkConfig {
    LinkConfig {
        authenticate_peer: methods.to_vec(),
        name: b"lns".to_vec(),
        ipv4: Some(Ipv4Config::default()),
        ipv6: Some(Ipv6Config::default()),
        ..LinkConfig::default()
    }
}

/// A client profile: answers with alice's credentials, asks for DNS.
pub(crate) fn client_config(password: &str) -> LinkConfig {
    LinkConfig {
        credentials: Some(Credentials {
            user: USER.to_vec(),
            password: Password::from(password),
        }),
        ipv4: Some(Ipv4Config {
            request_dns: true,
            ..Ipv4Config::default()
        }),
        ipv6: Some(Ipv6Config::default()),
        ..LinkConfig::default()
    }
}

/// The addresses the LNS's host assigns.
pub(crate) fn lns_network() -> NetworkParams {
    NetworkParams {
        ipv4: Ipv4Params {
            local: Some(LNS_ADDR),
            peer: Some(PEER_ADDR),
            dns: [Some(DNS[0]), Some(DNS[1])],
            nbns: [None, None],
        },
        ipv6: Default::default(),
    }
}

impl Pair {
    pub(crate) fn new(seed: u64, configs: [LinkConfig; 2]) -> Self {
        let mut rngs = [
            DeterministicRng::new(seed.wrapping_mul(31).wrapping_add(1)),
            DeterministicRng::new(seed.wrapping_mul(31).wrapping_add(2)),
        ];
        let [c0, c1] = configs;
        let links = [
            Link::new(Arc::new(c0), &mut rngs[0]),
            Link::new(Arc::new(c1), &mut rngs[1]),
        ];
        Self {
            links,
            now: Instant::from_secs(1),
            events: [Vec::new(), Vec::new()],
            sent: Vec::new(),
            loss: 0.0,
            dup: 0.0,
            delay: Duration::from_millis(10),
            hosts: [
                Host::Users(vec![(USER.to_vec(), Password::from(PASSWORD))]),
                Host::Users(Vec::new()),
            ],
            network: [lns_network(), NetworkParams::default()],
            tamper: None,
            loopback: false,
            rngs,
            net: DeterministicRng::new(seed ^ 0x5eed),
            in_flight: BinaryHeap::new(),
            flights: Vec::new(),
            order: 0,
        }
    }

    /// The usual pair: an LNS with `methods` and a client with `password`.
    pub(crate) fn lns_and_client(seed: u64, methods: &[AuthMethod], password: &str) -> Self {
        Self::new(seed, [lns_config(methods), client_config(password)])
    }

    /// Opens node `i` from a proxied negotiation (RFC 2661 §4.4.5), with its network set.
    pub(crate) fn open_proxied(
        &mut self,
        i: usize,
        lcp: crate::link::ProxiedLcp<'_>,
        auth: Option<crate::link::ProxiedAuth>,
    ) -> Result<crate::link::Proxied, crate::link::ProxyRefusal> {
        let now = self.now;
        self.links[i].set_network(self.network[i]);
        let r = self.links[i].open_proxied(now, lcp, auth, &mut self.rngs[i]);
        self.drain();
        r
    }

    pub(crate) fn open(&mut self) {
        let now = self.now;
        for i in 0..2 {
            self.links[i].set_network(self.network[i]);
            self.links[i].open(now);
        }
        self.drain();
    }

    /// Runs until `until` or until nothing is left to do (both links finished or idle with no
    /// timer).
    pub(crate) fn run_until(&mut self, until: Instant) {
        loop {
            self.drain();
            let next_flight = self.in_flight.peek().map(|Reverse((at, _, _))| *at);
            let next_timer = self.links.iter().filter_map(Link::poll_timeout).min();
            let next = match (next_flight, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            let now = self.now;
            while let Some(Reverse((at, _, slot))) = self.in_flight.peek().copied() {
                if at > now {
                    break;
                }
                self.in_flight.pop();
                let Some((to, bytes)) = self.flights.get_mut(slot).and_then(Option::take) else {
                    continue;
                };
                self.links[to].handle_frame(now, &bytes, &mut self.rngs[to]);
                self.drain();
            }
            for i in 0..2 {
                if self.links[i].poll_timeout().is_some_and(|t| t <= now) {
                    self.links[i].handle_timeout(now);
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs in one-second steps while `cond` holds, at most `limit`.
    pub(crate) fn run_while(&mut self, limit: Duration, cond: impl Fn(&Self) -> bool) {
        let end = self.now + limit;
        while self.now < end && cond(self) {
            let step = self.now + Duration::from_secs(1);
            self.run_until(step.min(end));
        }
    }

    /// Whether both links have every enabled NCP Opened.
    pub(crate) fn both_up(&self) -> bool {
        self.links.iter().all(|l| {
            l.phase() == crate::link::Phase::Network
                && l.ipcp_state() == crate::fsm::State::Opened
                && l.ipv6cp_state() == crate::fsm::State::Opened
        })
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Moves frames onto the wire and events to the hosts, answering authentication.
    pub(crate) fn drain(&mut self) {
        let now = self.now;
        for i in 0..2 {
            let mut frames = Vec::new();
            while let Some(f) = self.links[i].poll_transmit() {
                frames.push(f.to_vec());
            }
            for mut bytes in frames {
                let mut keep = match self.tamper.as_mut() {
                    Some(t) => t(i, &mut bytes),
                    None => true,
                };
                if keep && self.loss > 0.0 {
                    let draw = (self.net.next_u32() as f64) / (u32::MAX as f64);
                    keep = draw >= self.loss;
                }
                self.sent.push(Sent {
                    at: now,
                    from: i,
                    bytes: bytes.clone(),
                    dropped: !keep,
                });
                if keep && self.loopback && i == 1 {
                    keep = false;
                }
                if keep {
                    let to = if self.loopback { 0 } else { 1 - i };
                    if self.dup > 0.0 {
                        let draw = (self.net.next_u32() as f64) / (u32::MAX as f64);
                        if draw < self.dup {
                            let later =
                                Duration::from_millis(u64::from(self.net.next_u32() % 1000));
                            let slot = self.flights.len();
                            self.flights.push(Some((to, bytes.clone())));
                            self.order += 1;
                            self.in_flight.push(Reverse((
                                now + self.delay + later,
                                self.order,
                                slot,
                            )));
                        }
                    }
                    let slot = self.flights.len();
                    self.flights.push(Some((to, bytes)));
                    self.order += 1;
                    self.in_flight
                        .push(Reverse((now + self.delay, self.order, slot)));
                }
            }
            while let Some(e) = self.links[i].poll_event() {
                if let Event::Authenticate(req) = &e
                    && let Host::Users(users) = &self.hosts[i]
                {
                    let verdict = match users.iter().find(|(u, _)| *u == req.user) {
                        Some((_, password)) => req.verify(password),
                        None => crate::auth::Verdict::reject("No such user"),
                    };
                    self.links[i].set_network(self.network[i]);
                    self.links[i]
                        .auth_verdict(now, req.id, verdict)
                        .unwrap_or_else(|e| panic!("verdict: {e}"));
                }
                self.events[i].push(e);
            }
        }
    }

    /// Hands node `i` a frame as if it came off the wire now, then drains.
    pub(crate) fn inject(&mut self, i: usize, bytes: &[u8]) {
        let now = self.now;
        self.links[i].handle_frame(now, bytes, &mut self.rngs[i]);
        self.drain();
    }

    /// The reason node `i` went down, if it did.
    pub(crate) fn down(&self, i: usize) -> Option<DownReason> {
        self.events[i].iter().find_map(|e| match e {
            Event::Down(r) => Some(*r),
            _ => None,
        })
    }

    pub(crate) fn ipv4_up(&self, i: usize) -> Option<crate::event::Ipv4Info> {
        self.events[i].iter().rev().find_map(|e| match e {
            Event::Ipv4Up(info) => Some(*info),
            _ => None,
        })
    }

    pub(crate) fn ipv6_up(&self, i: usize) -> Option<crate::event::Ipv6Info> {
        self.events[i].iter().rev().find_map(|e| match e {
            Event::Ipv6Up(info) => Some(*info),
            _ => None,
        })
    }

    /// Frames node `from` put on the wire (dropped or not) of `protocol`.
    pub(crate) fn frames_of(&self, from: usize, protocol: u16) -> Vec<&Sent> {
        self.sent
            .iter()
            .filter(|s| {
                s.from == from
                    && crate::wire::split_protocol(&s.bytes).map(|(p, _)| p) == Some(protocol)
            })
            .collect()
    }
}

/// An interface identifier from a number (tests).
#[allow(dead_code)]
pub(crate) fn iid(v: u64) -> InterfaceId {
    InterfaceId::from_u64(v)
}

/// One line per frame, for failure messages: time, direction, protocol, code, id, data.
pub(crate) fn trace(sent: &[Sent]) -> String {
    sent.iter()
        .map(|s| {
            let (proto, info) = crate::wire::split_protocol(&s.bytes).unwrap_or((0, &[]));
            let body = match crate::wire::ControlPacket::parse(info) {
                Ok(p) => format!("code {} id {} {:02x?}", p.code, p.identifier, p.data),
                Err(_) => format!("{info:02x?}"),
            };
            format!(
                "{:>8.3} {} {:<6} {}{}\n",
                s.at.as_micros() as f64 / 1e6,
                if s.from == 0 { "A->B" } else { "B->A" },
                crate::wire::protocol::name(proto),
                body,
                if s.dropped { "  (lost)" } else { "" }
            )
        })
        .collect()
}
