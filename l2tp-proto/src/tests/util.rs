//! The mesh harness: endpoints joined by simulated links with a virtual clock and seeded loss,
//! reordering (random extra delay), duplication and delay. The clock jumps to the next
//! delivery or timer deadline, so an hour of virtual time costs only the work done in it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::event::{
    Command, CommandOutcome, Decision, Event, Refusal, SessionHandle, TunnelHandle,
};
use crate::rng::{DeterministicRng, Rng};
use crate::session::{CallType, SessionConfig};
use crate::time::Instant;
use crate::tunnel::{TunnelConfig, VersionMode};
use crate::wire::header::{Encapsulation, Version};
use crate::wire::message::{DecodeContext, Message, MessageType};
use crate::wire::{ControlHeader, Packet};
use crate::{Endpoint, EndpointConfig};

/// Impairments of one direction of a link.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    pub(crate) delay: Duration,
    /// Up to this much extra delay, uniformly: reorders datagrams sent close together.
    pub(crate) jitter: Duration,
    pub(crate) loss: f64,
    pub(crate) duplicate: f64,
}

impl Link {
    pub(crate) const CLEAN: Self = Self {
        delay: Duration::from_millis(10),
        jitter: Duration::ZERO,
        loss: 0.0,
        duplicate: 0.0,
    };

    pub(crate) fn lossy(loss: f64) -> Self {
        Self {
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(30),
            loss,
            duplicate: 0.05,
        }
    }
}

/// How a node answers decisions.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) tunnel: Result<Arc<TunnelConfig>, Refusal>,
    pub(crate) session: Result<Arc<SessionConfig>, Refusal>,
}

/// A control message seen on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub(crate) at: Instant,
    pub(crate) from: usize,
    /// `None` for a ZLB.
    pub(crate) message_type: Option<MessageType>,
    pub(crate) result: Option<u16>,
    pub(crate) hidden_avps: usize,
    pub(crate) header: ControlHeader,
    /// The AVPs after the control header, as sent.
    pub(crate) body: Vec<u8>,
}

pub(crate) struct Node {
    pub(crate) endpoint: Endpoint,
    pub(crate) addr: SocketAddr,
    pub(crate) events: Vec<Event>,
    pub(crate) policy: Policy,
    next_handle: u64,
}

struct Flight {
    to: usize,
    from: SocketAddr,
    local: SocketAddr,
    encap: Encapsulation,
    bytes: Vec<u8>,
}

pub(crate) struct Mesh {
    pub(crate) nodes: Vec<Node>,
    pub(crate) now: Instant,
    pub(crate) link: Link,
    pub(crate) sent: Vec<Sent>,
    /// Stop delivering anything to these nodes (a silent peer).
    pub(crate) muted: Vec<bool>,
    /// Rewrites what a node sends before it goes on the wire (a peer that does things its own
    /// way): called with the sender's index and the datagram.
    pub(crate) tamper: Option<fn(usize, &mut Vec<u8>, Encapsulation)>,
    in_flight: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    flights: Vec<Option<Flight>>,
    order: u64,
    rng: DeterministicRng,
}

pub(crate) fn addr(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(192, 0, 2, i as u8 + 1), 1701))
}

impl Mesh {
    pub(crate) fn new(nodes: usize, seed: u64, link: Link, policy: Policy) -> Self {
        Self::with_config(nodes, seed, link, policy, EndpointConfig::default())
    }

    pub(crate) fn with_config(
        nodes: usize,
        seed: u64,
        link: Link,
        policy: Policy,
        config: EndpointConfig,
    ) -> Self {
        let nodes = (0..nodes)
            .map(|i| Node {
                endpoint: Endpoint::new(
                    config.clone(),
                    Box::new(DeterministicRng::new(
                        seed.wrapping_mul(31).wrapping_add(i as u64),
                    )),
                ),
                addr: addr(i),
                events: Vec::new(),
                policy: policy.clone(),
                next_handle: 1000,
            })
            .collect::<Vec<_>>();
        let muted = vec![false; nodes.len()];
        Self {
            nodes,
            now: Instant::from_secs(1),
            link,
            sent: Vec::new(),
            muted,
            tamper: None,
            in_flight: BinaryHeap::new(),
            flights: Vec::new(),
            order: 0,
            rng: DeterministicRng::new(seed ^ 0x5eed),
        }
    }

    pub(crate) fn open_tunnel(&mut self, from: usize, to: usize, config: Arc<TunnelConfig>) -> u32 {
        let now = self.now;
        let (local, remote) = (addr(from), addr(to));
        let outcome = self.nodes[from]
            .endpoint
            .handle_command(
                now,
                Command::OpenTunnel {
                    handle: TunnelHandle(to as u64),
                    config,
                    local,
                    remote,
                },
            )
            .expect("open tunnel");
        let CommandOutcome::Tunnel(id) = outcome else {
            panic!("{outcome:?}")
        };
        id
    }

    pub(crate) fn open_session(
        &mut self,
        node: usize,
        tunnel_id: u32,
        call: CallType,
        config: Arc<SessionConfig>,
    ) -> u32 {
        let now = self.now;
        let n = &mut self.nodes[node];
        n.next_handle += 1;
        let outcome = n
            .endpoint
            .handle_command(
                now,
                Command::OpenSession {
                    tunnel_id,
                    handle: SessionHandle(n.next_handle),
                    call,
                    config,
                },
            )
            .expect("open session");
        let CommandOutcome::Session { session_id, .. } = outcome else {
            panic!("{outcome:?}")
        };
        session_id
    }

    pub(crate) fn command(&mut self, node: usize, command: Command) {
        let now = self.now;
        self.nodes[node]
            .endpoint
            .handle_command(now, command)
            .expect("command");
    }

    /// Runs until `until` (virtual time).
    pub(crate) fn run_until(&mut self, until: Instant) {
        loop {
            self.drain();
            let next_flight = self.in_flight.peek().map(|Reverse((at, _, _))| *at);
            let next_timer = self
                .nodes
                .iter()
                .filter_map(|n| n.endpoint.poll_timeout())
                .min();
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
                let Some(f) = self.flights.get_mut(slot).and_then(Option::take) else {
                    continue;
                };
                if self.muted[f.to] {
                    continue;
                }
                self.nodes[f.to]
                    .endpoint
                    .handle_datagram(now, f.local, f.from, f.encap, &f.bytes);
                self.drain();
            }
            for n in &mut self.nodes {
                if n.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                    n.endpoint.handle_timeout(now);
                }
            }
        }
        self.now = self.now.max(until);
    }

    pub(crate) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Answers decisions, routes transmits through the link model, collects events.
    fn drain(&mut self) {
        let now = self.now;
        for i in 0..self.nodes.len() {
            let n = &mut self.nodes[i];
            while let Some(decision) = n.endpoint.poll_decision() {
                n.next_handle += 1;
                let handle = n.next_handle;
                let result = match (&decision, &n.policy) {
                    (
                        Decision::Tunnel(req),
                        Policy {
                            tunnel: Ok(cfg), ..
                        },
                    ) => n
                        .endpoint
                        .accept_tunnel(now, req.id, TunnelHandle(handle), Arc::clone(cfg))
                        .map(|_| ()),
                    (Decision::Tunnel(req), Policy { tunnel: Err(r), .. }) => {
                        n.endpoint.reject_tunnel(now, req.id, r.clone())
                    }
                    (
                        Decision::Session(req),
                        Policy {
                            session: Ok(cfg), ..
                        },
                    ) => n.endpoint.accept_session(
                        now,
                        req.id,
                        SessionHandle(handle),
                        Arc::clone(cfg),
                    ),
                    (
                        Decision::Session(req),
                        Policy {
                            session: Err(r), ..
                        },
                    ) => n.endpoint.reject_session(now, req.id, r.clone()),
                };
                result.expect("decision answer");
            }
            while let Some(event) = n.endpoint.poll_event() {
                n.events.push(event);
            }
            let mut out = Vec::new();
            while let Some(tx) = n.endpoint.poll_transmit() {
                out.push(tx);
            }
            for mut tx in out {
                if let Some(tamper) = self.tamper {
                    tamper(i, &mut tx.contents, tx.encap);
                }
                let Some(to) = self
                    .nodes
                    .iter()
                    .position(|n| n.addr.ip() == tx.remote.ip())
                else {
                    continue;
                };
                self.record(i, &tx.contents, tx.encap);
                let copies = 1 + usize::from(self.chance(self.link.duplicate));
                for _ in 0..copies {
                    if self.chance(self.link.loss) {
                        continue;
                    }
                    let jitter = self.link.jitter.as_micros() as u64;
                    let extra = if jitter == 0 {
                        0
                    } else {
                        self.rng.next_u64() % jitter
                    };
                    let at = now + self.link.delay + Duration::from_micros(extra);
                    self.flights.push(Some(Flight {
                        to,
                        from: tx.local,
                        local: tx.remote,
                        encap: tx.encap,
                        bytes: tx.contents.clone(),
                    }));
                    self.order += 1;
                    self.in_flight
                        .push(Reverse((at, self.order, self.flights.len() - 1)));
                }
            }
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.next_u64() as f64 / u64::MAX as f64) < p
    }

    fn record(&mut self, from: usize, bytes: &[u8], encap: Encapsulation) {
        let Ok(Packet::Control { header, body, .. }) = Packet::parse(bytes, encap) else {
            return;
        };
        let (message_type, result, hidden_avps) = if body.is_empty() {
            (None, None, 0)
        } else {
            let hidden = crate::wire::avp::AvpIter::new(body)
                .filter_map(Result::ok)
                .filter(|a| a.hidden)
                .count();
            let first = crate::wire::avp::AvpIter::new(body)
                .next()
                .and_then(Result::ok);
            let t = first.and_then(|a| {
                MessageType::from_u16(u16::from_be_bytes([*a.value.first()?, *a.value.get(1)?]))
            });
            let result = Message::decode(body, DecodeContext::default())
                .ok()
                .and_then(|m| m.result_code().map(|r| r.result));
            (t, result, hidden)
        };
        self.sent.push(Sent {
            at: self.now,
            from,
            message_type,
            result,
            hidden_avps,
            header,
            body: body.to_vec(),
        });
    }

    /// Messages of `t` sent by `from`.
    pub(crate) fn sent_by(&self, from: usize, t: MessageType) -> Vec<&Sent> {
        self.sent
            .iter()
            .filter(|s| s.from == from && s.message_type == Some(t))
            .collect()
    }

    /// Messages of `t` sent by `from`, decoded as version `v` (no hidden AVPs).
    pub(crate) fn decoded_by(&self, from: usize, t: MessageType, v: Version) -> Vec<Message> {
        let ctx = DecodeContext {
            version: Some(v),
            hiding_key: None,
        };
        self.sent_by(from, t)
            .iter()
            .map(|sent| Message::decode(&sent.body, ctx).expect("decodes"))
            .collect()
    }

    /// The id of the first tunnel of `node`.
    pub(crate) fn first_tunnel(&self, node: usize) -> u32 {
        self.nodes[node]
            .endpoint
            .tunnels()
            .next()
            .map(|t| t.tunnel_id)
            .expect("tunnel")
    }

    /// The connect speeds `node` applied from CSUNs (RFC 5515), by its session id.
    pub(crate) fn speeds_applied(&self, node: usize) -> Vec<(u32, Option<String>)> {
        self.events(node)
            .iter()
            .filter_map(|e| match e {
                Event::ConnectSpeedUpdate {
                    session_id, speed, ..
                } => Some((*session_id, speed.map(|s| s.to_string()))),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn events(&self, node: usize) -> &[Event] {
        &self.nodes[node].events
    }

    pub(crate) fn established_tunnels(&self, node: usize) -> usize {
        self.nodes[node]
            .endpoint
            .tunnels()
            .filter(crate::event::TunnelInfo::is_established)
            .count()
    }

    pub(crate) fn established_sessions(&self, node: usize) -> usize {
        let ep = &self.nodes[node].endpoint;
        ep.tunnels()
            .map(|t| {
                ep.sessions(t.tunnel_id)
                    .filter(|s| s.state == crate::session::SessionState::Established)
                    .count()
            })
            .sum()
    }
}

/// Two nodes with seed `seed`, node 1 accepting everything, and a tunnel of `mode` from node
/// 0 to node 1 established; returns the mesh and the tunnel id at node 0.
pub(crate) fn two_nodes_with_tunnel(mode: VersionMode, seed: u64) -> (Mesh, u32) {
    let cfg = TunnelConfig {
        version: mode,
        ..TunnelConfig::default()
    };
    let mut mesh = Mesh::new(2, seed, Link::CLEAN, accept_all(cfg.clone()));
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg));
    mesh.run_for(Duration::from_secs(2));
    (mesh, tid)
}

/// The version a tunnel of `mode` speaks (L2TPv3 for anything but `V2`).
pub(crate) fn version_of(mode: VersionMode) -> Version {
    if mode == VersionMode::V2 {
        Version::V2
    } else {
        Version::V3
    }
}

pub(crate) fn accept_all(tunnel: TunnelConfig) -> Policy {
    Policy {
        tunnel: Ok(Arc::new(tunnel)),
        session: Ok(Arc::new(SessionConfig::default())),
    }
}

/// Counts events matching `f`.
pub(crate) fn count(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}
