//! The client: retransmission, fail-over and dead-server policy over several authentication and
//! accounting servers, sans-IO.
//!
//! The shape is [`l2tp_proto::Endpoint`]'s. Inputs take the current time:
//! [`Client::submit`], [`Client::cancel`], [`Client::handle_datagram`],
//! [`Client::handle_timeout`], [`Client::add_socket`], [`Client::reconfigure`] (a reload of the
//! server list that loses no request). Outputs are polled:
//! [`Client::poll_transmit`] (writes a datagram into the caller's buffer),
//! [`Client::poll_event`] and [`Client::poll_timeout`]. After any input, drain the first two
//! and re-arm a timer for the third.
//!
//! Policy:
//!
//! - A request goes to the alive server of best priority that it has not tried yet; among
//!   servers of equal priority, to the one with the fewest requests in flight. A server takes
//!   at most [`ServerConfig::max_outstanding`] requests at once; the rest wait in a FIFO queue
//!   per service (a set-up storm queues instead of flooding the server).
//! - Each transmission waits [`ServerConfig::timeout`]; after [`ServerConfig::retries`]
//!   retransmissions the server is declared dead for [`ServerConfig::dead_time`] and the
//!   request fails over to the next server. A retransmitted Access-Request keeps its
//!   Identifier and Request Authenticator (RFC 2865 §3, RFC 5080 §2.2.1). An Accounting-Request
//!   is retransmitted with Acct-Delay-Time updated, hence with a new Identifier and Request
//!   Authenticator (RFC 2866 §5.2); the earlier transmissions keep theirs reserved until the
//!   request completes (at most `retries` more identifiers, fewer when every identifier of the
//!   socket is taken), and an authentic answer to any of them is the answer: a server slower
//!   than the timeout still completes it.
//! - A request that completed (or was cancelled, or failed over) leaves the Request
//!   Authenticators of its identifiers behind until they are used again: a late authentic
//!   answer is counted as a duplicate ([`ServerStats::duplicates`]), not as malformed.
//! - An Access-Request that has no server left fails ([`Failure::TimedOut`], or
//!   [`Failure::NoServer`] if every server was dead before it was sent). An Accounting-Request
//!   never fails: it waits in its queue until a server is alive again. The queue is bounded;
//!   what falls out of it is reported ([`Event::AccountingDropped`] and
//!   [`ClientStats::accounting_dropped`]).
//! - Identifiers are managed per (socket, server): 256 requests in flight per pair. When
//!   every socket's identifiers to a server are taken, the client asks for one more socket
//!   ([`Event::SocketWanted`]), up to [`ClientConfig::max_sockets`].
//! - A server with [`ServerConfig::status_server`] is not given real requests when its dead
//!   time is over: it is probed with one Status-Server (RFC 5997) to its port, with an
//!   Identifier from the same pool, and no retransmission (RFC 5997: a new probe gets a
//!   new Identifier). A valid answer (Access-Accept, or Accounting-Response on an accounting
//!   port, authenticators checked) brings it back ([`AliveReason::AnsweredStatusServer`]);
//!   silence for its timeout leaves it dead for another dead time, then it is probed again.
//!   While no server of its service is alive, real requests still go to servers whose dead
//!   time is over (a server that ignores Status-Server then costs no more than without
//!   probing).
//! - Answers are matched by (socket, source address, Identifier) in `O(1)` and checked
//!   ([`crate::packet::verify_response`]): a forged or corrupt answer is counted and dropped,
//!   and the request keeps waiting for the real one.
//!
//! Costs: one slab slot and one attribute buffer per request; a timer heap with lazy
//! invalidation (`O(log n)` per transmission); queues are `VecDeque`s. Encoding happens in
//! [`Client::poll_transmit`], into the caller's buffer.

mod ids;
mod inflight;
mod probe;
mod queue;
mod servers;
mod types;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;

pub use types::{
    AliveReason, ClientConfig, ClientStats, ConfigError, Event, Failure, Reply, RequestHandle,
    ServerConfig, ServerId, ServerInfo, ServerState, ServerStats, Service, SocketId, Transmit,
};

use crate::Secret;
use crate::attr::Attributes;
use crate::code::Code;
use crate::dict::{AttrType, values};
use crate::packet;
use ids::IdSpace;
use inflight::Earlier;
use l2tp_proto::slab::Slab;
use probe::{PROBE_OWNER, Probe};
use queue::Queue;
use servers::{build_servers, index_servers, validate};

/// The RADIUS client. See the [module documentation](self).
pub struct Client {
    config: ClientConfig,
    rng: Box<dyn Rng + Send>,
    servers: Vec<Server>,
    /// Servers by address (an address may serve both services).
    by_address: HashMap<SocketAddr, Vec<u16>>,
    /// Per service, server indices sorted by priority.
    order: [Vec<u16>; 2],
    requests: Slab<Request>,
    queues: [Queue; 2],
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    transmits: VecDeque<(u32, u32)>,
    events: VecDeque<Event>,
    sockets: u16,
    socket_wanted: bool,
    stats: ClientStats,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("servers", &self.servers.len())
            .field("requests", &self.requests.len())
            .field("sockets", &self.sockets)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Server {
    config: ServerConfig,
    service: Service,
    state: ServerState,
    outstanding: usize,
    /// One identifier space per socket.
    ids: Vec<IdSpace>,
    stats: ServerStats,
    /// The Status-Server probe in flight to it.
    probe: Option<Probe>,
}

#[derive(Debug)]
struct Request {
    service: Service,
    attributes: Attributes,
    submitted: Instant,
    interim: bool,
    /// Servers tried, by index within the service's list (bit i: server `order[i]`).
    tried: u64,
    sent: Option<Sent>,
    /// Earlier transmissions to the server of `sent` whose identifiers stay reserved (an
    /// Accounting-Request's, sent again with a new identifier).
    earlier: Vec<Earlier>,
}

#[derive(Clone, Copy, Debug)]
struct Sent {
    server: u16,
    socket: u16,
    id: u8,
    authenticator: [u8; 16],
    transmissions: u32,
    last_sent: Instant,
    deadline: Instant,
}

/// What [`Client::pick`] found for a request.
enum Pick {
    Server(u16),
    Busy,
    None,
}

impl Client {
    /// A client with socket 0. `rng` supplies Request Authenticators, which must be
    /// unpredictable (RFC 2865 §3): back it with a CSPRNG.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a configuration that cannot work.
    pub fn new(config: ClientConfig, rng: Box<dyn Rng + Send>) -> Result<Self, ConfigError> {
        validate(&config)?;
        let (servers, _) = build_servers(&config, Vec::new(), 1);
        let (by_address, order) = index_servers(&servers);
        Ok(Self {
            config,
            rng,
            servers,
            by_address,
            order,
            requests: Slab::new(),
            queues: [Queue::default(), Queue::default()],
            timers: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            sockets: 1,
            socket_wanted: false,
            stats: ClientStats::default(),
        })
    }

    /// Submits an Access-Request (`Service::Access`) or an Accounting-Request
    /// (`Service::Accounting`) with `attributes` (User-Password in clear: it is hidden per
    /// transmission). For accounting, the client adds Acct-Delay-Time itself (any given is
    /// replaced). The answer comes as an [`Event`] for the returned handle.
    pub fn submit(
        &mut self,
        now: Instant,
        service: Service,
        mut attributes: Attributes,
    ) -> RequestHandle {
        self.revive(now);
        let interim = service == Service::Accounting
            && attributes.acct_status_type() == Some(values::acct_status_type::INTERIM_UPDATE);
        if service == Service::Accounting {
            if attributes.contains(AttrType::ACCT_DELAY_TIME) {
                attributes.remove(AttrType::ACCT_DELAY_TIME);
            }
            attributes.push_u32(AttrType::ACCT_DELAY_TIME, 0);
        }
        let too_long = encoded_len(service, &attributes) > packet::MAX_PACKET_LEN;
        let (index, generation) = self.requests.insert(Request {
            service,
            attributes,
            submitted: now,
            interim,
            tried: 0,
            sent: None,
            earlier: Vec::new(),
        });
        let handle = RequestHandle { index, generation };
        if too_long {
            self.requests.remove_checked(index, generation);
            self.events.push_back(Event::Failed {
                handle,
                failure: Failure::TooLong,
            });
            return handle;
        }
        let queued = self.queues[service as usize].len;
        match service {
            Service::Access if queued >= self.config.max_queued_access => {
                self.requests.remove_checked(index, generation);
                self.stats.access_queue_full += 1;
                self.events.push_back(Event::Failed {
                    handle,
                    failure: Failure::QueueFull,
                });
                return handle;
            }
            Service::Accounting if queued >= self.config.max_queued_accounting => {
                self.drop_queued_accounting();
            }
            _ => {}
        }
        self.queues[service as usize].push_back(interim, index, generation);
        self.dispatch(now, service);
        handle
    }

    /// Forgets request `handle` (its session went away): no event will come for it, and a
    /// request waiting in the queue may take its place. Returns whether it was still pending.
    pub fn cancel(&mut self, now: Instant, handle: RequestHandle) -> bool {
        let Some(request) = self
            .requests
            .remove_checked(handle.index, handle.generation)
        else {
            return false;
        };
        match request.sent {
            Some(sent) => {
                self.release(sent, &request.earlier);
                self.dispatch(now, request.service);
            }
            // Its queue entry is skipped when it reaches the head.
            None => self.queues[request.service as usize].len -= 1,
        }
        true
    }

    /// Processes a datagram received on `socket` from `from`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        socket: SocketId,
        from: SocketAddr,
        bytes: &[u8],
    ) {
        self.revive(now);
        let Some(candidates) = self.by_address.get(&canonical(from)) else {
            self.stats.unknown_source += 1;
            return;
        };
        let Some((code, id, _)) = packet::peek(bytes) else {
            if let Some(&s) = candidates.first() {
                self.servers[usize::from(s)].stats.malformed += 1;
            }
            return;
        };
        let expected = match Code::from_u8(code) {
            Some(Code::AccessAccept | Code::AccessReject | Code::AccessChallenge) => {
                Service::Access
            }
            Some(Code::AccountingResponse) => Service::Accounting,
            _ => {
                if let Some(&s) = candidates.first() {
                    self.servers[usize::from(s)].stats.malformed += 1;
                }
                return;
            }
        };
        let found = candidates.iter().copied().find_map(|s| {
            let server = &self.servers[usize::from(s)];
            if server.service != expected {
                return None;
            }
            let owner = server.ids.get(usize::from(socket.0))?.owner(id)?;
            Some((s, owner))
        });
        let Some((s, owner)) = found else {
            let duplicate = self.duplicate_of(candidates, expected, socket.0, id, bytes);
            match duplicate.or_else(|| candidates.first().copied()) {
                Some(s) if duplicate.is_some() => {
                    self.servers[usize::from(s)].stats.duplicates += 1
                }
                Some(s) => self.servers[usize::from(s)].stats.malformed += 1,
                None => {}
            }
            return;
        };
        if owner == PROBE_OWNER {
            self.probe_answer(now, s, socket.0, id, bytes);
            return;
        }
        let Some((generation, sent, authenticator)) = self.find_sent(owner, s, socket.0, id) else {
            self.servers[usize::from(s)].stats.malformed += 1;
            return;
        };
        let server = &mut self.servers[usize::from(s)];
        let require = expected == Service::Access && server.config.require_message_authenticator;
        let Some(packet) = server.verify_answer(bytes, &authenticator, require) else {
            return;
        };
        let rtt = now.saturating_duration_since(sent.last_sent);
        let stats = &mut server.stats;
        match packet.code {
            Code::AccessAccept => stats.accepts += 1,
            Code::AccessReject => stats.rejects += 1,
            Code::AccessChallenge => stats.challenges += 1,
            _ => stats.accounting_responses += 1,
        }
        // Karn's algorithm: the answer to a request sent more than once may be to any of its
        // transmissions, so it says nothing sure of the round trip.
        if sent.transmissions == 1 {
            stats.last_rtt = rtt;
            stats.smoothed_rtt = if stats.smoothed_rtt.is_zero() {
                rtt
            } else {
                stats.smoothed_rtt * 7 / 8 + rtt / 8
            };
        }
        if matches!(server.state, ServerState::Dead { .. }) {
            server.state = ServerState::Alive;
            self.events.push_back(Event::ServerAlive {
                server: ServerId(s),
                reason: AliveReason::Answered,
            });
        }
        let earlier = self
            .requests
            .remove_checked(owner, generation)
            .map(|r| r.earlier)
            .unwrap_or_default();
        self.release(sent, &earlier);
        self.events.push_back(Event::Reply {
            handle: RequestHandle {
                index: owner,
                generation,
            },
            reply: Reply {
                server: ServerId(s),
                packet,
                request_authenticator: authenticator,
                rtt,
            },
        });
        self.dispatch(now, expected);
    }

    /// Runs every timer due at `now`: retransmissions, fail-over, the end of dead times.
    /// Harmless to call early.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.revive(now);
        self.probe_timeouts(now);
        while let Some(&Reverse((at, index, generation))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(request) = self.requests.get_checked(index, generation) else {
                continue;
            };
            let Some(sent) = request.sent.filter(|s| s.deadline == at) else {
                continue;
            };
            let service = request.service;
            let server = &self.servers[usize::from(sent.server)];
            if sent.transmissions <= server.config.retries {
                self.retransmit(now, index, generation, sent);
            } else {
                self.fail_over(now, index, generation, sent);
                self.dispatch(now, service);
            }
        }
        self.dispatch(now, Service::Access);
        self.dispatch(now, Service::Accounting);
    }

    /// Adds a socket the host opened after [`Event::SocketWanted`]; returns its id.
    pub fn add_socket(&mut self, now: Instant) -> SocketId {
        let id = SocketId(self.sockets);
        self.sockets += 1;
        self.socket_wanted = false;
        for s in &mut self.servers {
            s.ids.push(IdSpace::new());
        }
        self.dispatch(now, Service::Access);
        self.dispatch(now, Service::Accounting);
        id
    }

    /// Writes the next datagram to send into `buf` (cleared first) and says where it goes.
    ///
    /// Its answer changes after every `submit`, `cancel`, `handle_*` and `add_socket` call.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> Option<Transmit> {
        while let Some((index, generation)) = self.transmits.pop_front() {
            if index == PROBE_OWNER {
                match self.probe_transmit(buf, generation) {
                    Some(t) => return Some(t),
                    None => continue,
                }
            }
            let Some(request) = self.requests.get_mut_checked(index, generation) else {
                continue;
            };
            let Some(sent) = request.sent.as_mut() else {
                continue;
            };
            let server = &self.servers[usize::from(sent.server)];
            let secret = &server.config.secret;
            let outcome = match request.service {
                Service::Access => packet::encode_access_request(
                    buf,
                    sent.id,
                    &sent.authenticator,
                    &request.attributes,
                    secret,
                ),
                Service::Accounting => packet::encode_signed_request(
                    buf,
                    Code::AccountingRequest,
                    sent.id,
                    &request.attributes,
                    secret,
                    false,
                ),
            };
            if outcome.is_err() {
                // Not reached: `submit` refuses requests too long to encode.
                let sent = *sent;
                let handle = RequestHandle { index, generation };
                let earlier = self
                    .requests
                    .remove_checked(index, generation)
                    .map(|r| r.earlier)
                    .unwrap_or_default();
                self.release(sent, &earlier);
                self.events.push_back(Event::Failed {
                    handle,
                    failure: Failure::TooLong,
                });
                continue;
            }
            if request.service == Service::Accounting {
                sent.authenticator.copy_from_slice(&buf[4..20]);
            }
            return Some(Transmit {
                socket: SocketId(sent.socket),
                destination: server.config.address,
                server: ServerId(sent.server),
            });
        }
        None
    }

    /// The next event, in the order they happened.
    ///
    /// Its answer changes after every `submit`, `handle_*` and `add_socket` call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`Client::handle_timeout`] next; it may be early (harmless). Its answer
    /// changes after every input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timer = self.timers.peek().map(|Reverse((at, _, _))| *at);
        let revival = self
            .servers
            .iter()
            .filter_map(|s| match (s.probe, s.state) {
                (Some(p), _) => Some(p.deadline),
                (None, ServerState::Dead { until }) => Some(until),
                (None, ServerState::Alive) => None,
            })
            .min();
        timer.into_iter().chain(revival).min()
    }

    /// Every server with its state and counters (for `l2tpctl show radius`).
    pub fn servers(&self) -> impl Iterator<Item = ServerInfo> + '_ {
        self.servers.iter().enumerate().map(|(i, s)| ServerInfo {
            id: ServerId(i as u16),
            service: s.service,
            address: s.config.address,
            priority: s.config.priority,
            state: s.state,
            outstanding: s.outstanding,
            stats: s.stats,
        })
    }

    /// The secret shared with `server`, to reveal hidden attributes of its answers.
    pub fn server_secret(&self, server: ServerId) -> Option<&Secret> {
        self.servers
            .get(usize::from(server.0))
            .map(|s| &s.config.secret)
    }

    /// The client's own counters.
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// Requests waiting for a server, per service.
    pub fn queued(&self, service: Service) -> usize {
        self.queues[service as usize].len
    }

    /// Requests not yet answered (queued or in flight).
    pub fn pending(&self) -> usize {
        self.requests.len()
    }

    /// Sockets in use (socket ids are `0..sockets()`).
    pub fn sockets(&self) -> u16 {
        self.sockets
    }

    /// Sends queued requests of `service` while servers have room.
    fn dispatch(&mut self, now: Instant, service: Service) {
        loop {
            let queue = &self.queues[service as usize];
            let Some((index, generation)) = queue.front() else {
                return;
            };
            let Some(request) = self.requests.get_checked(index, generation) else {
                // Cancelled: its count was taken off already.
                let q = &mut self.queues[service as usize];
                q.len += 1;
                q.pop_front();
                continue;
            };
            let tried = request.tried;
            match self.pick(now, service, tried) {
                Pick::Server(s) => {
                    let Some((socket, id)) = self.alloc_id(s, index) else {
                        self.want_socket();
                        return;
                    };
                    self.queues[service as usize].pop_front();
                    let authenticator = match service {
                        Service::Access => {
                            let mut a = [0; 16];
                            self.rng.fill(&mut a);
                            a
                        }
                        // Computed when encoded.
                        Service::Accounting => [0; 16],
                    };
                    let sent = Sent {
                        server: s,
                        socket,
                        id,
                        authenticator,
                        transmissions: 0,
                        last_sent: now,
                        deadline: now,
                    };
                    let server = &mut self.servers[usize::from(s)];
                    server.outstanding += 1;
                    server.stats.requests += 1;
                    self.transmit(now, index, generation, sent);
                }
                Pick::Busy => return,
                Pick::None if service == Service::Accounting => {
                    // Every usable server was tried: start over with them; with none usable,
                    // wait for one to come back.
                    let fallback = self.fallback(service);
                    let any_usable = self.order[1].iter().any(|&s| self.usable(now, s, fallback));
                    if !any_usable || tried == 0 {
                        return;
                    }
                    if let Some(r) = self.requests.get_mut_checked(index, generation) {
                        r.tried = 0;
                    }
                }
                Pick::None => {
                    self.queues[service as usize].pop_front();
                    self.requests.remove_checked(index, generation);
                    let failure = if tried == 0 {
                        Failure::NoServer
                    } else {
                        Failure::TimedOut
                    };
                    self.events.push_back(Event::Failed {
                        handle: RequestHandle { index, generation },
                        failure,
                    });
                }
            }
        }
    }

    /// The server for a request that has tried `tried` (see [`Pick`]): among the usable
    /// servers it has not tried, those of the best priority; among them, the one with room and
    /// the fewest requests in flight.
    fn pick(&self, now: Instant, service: Service, tried: u64) -> Pick {
        let order = &self.order[service as usize];
        let servers = &self.servers;
        let fallback = self.fallback(service);
        let eligible =
            |&(bit, &s): &(usize, &u16)| tried & (1 << bit) == 0 && self.usable(now, s, fallback);
        let Some(priority) = order
            .iter()
            .enumerate()
            .find(eligible)
            .map(|(_, &s)| servers[usize::from(s)].config.priority)
        else {
            return Pick::None;
        };
        order
            .iter()
            .enumerate()
            .filter(eligible)
            .map(|(_, &s)| (s, &servers[usize::from(s)]))
            .filter(|(_, server)| {
                server.config.priority == priority
                    && server.outstanding < server.config.max_outstanding
            })
            .min_by_key(|&(s, server)| (server.outstanding, s))
            .map_or(Pick::Busy, |(s, _)| Pick::Server(s))
    }

    /// A free (socket, identifier) towards server `s` for request `index`.
    fn alloc_id(&mut self, s: u16, index: u32) -> Option<(u16, u8)> {
        let server = &mut self.servers[usize::from(s)];
        server
            .ids
            .iter_mut()
            .enumerate()
            .find_map(|(socket, ids)| Some((socket as u16, ids.alloc(index)?)))
    }

    fn want_socket(&mut self) {
        if !self.socket_wanted && self.sockets < self.config.max_sockets {
            self.socket_wanted = true;
            self.events.push_back(Event::SocketWanted);
        }
    }

    /// Records a transmission of `sent` and queues it.
    fn transmit(&mut self, now: Instant, index: u32, generation: u32, mut sent: Sent) {
        let timeout = self.servers[usize::from(sent.server)].config.timeout;
        sent.transmissions += 1;
        sent.last_sent = now;
        sent.deadline = now + timeout;
        let Some(request) = self.requests.get_mut_checked(index, generation) else {
            return;
        };
        if request.service == Service::Accounting {
            // RFC 2866 §5.2: how long the record has waited, in seconds.
            let delay = now.saturating_duration_since(request.submitted).as_secs();
            set_last_u32(
                &mut request.attributes,
                AttrType::ACCT_DELAY_TIME,
                u32::try_from(delay).unwrap_or(u32::MAX),
            );
        }
        request.sent = Some(sent);
        self.timers
            .push(Reverse((sent.deadline, index, generation)));
        self.transmits.push_back((index, generation));
    }

    /// Drops the oldest queued Interim-Update (else the oldest queued record) to make room.
    fn drop_queued_accounting(&mut self) {
        while let Some((index, generation)) = self.queues[Service::Accounting as usize].pop_victim()
        {
            if self.requests.remove_checked(index, generation).is_some() {
                self.stats.accounting_dropped += 1;
                self.events.push_back(Event::AccountingDropped {
                    handle: RequestHandle { index, generation },
                });
                return;
            }
            // A cancelled entry: it was not counted.
            self.queues[Service::Accounting as usize].len += 1;
        }
    }
}

/// Overwrites the value of `attr` if it is the last attribute (as the client placed
/// Acct-Delay-Time), else appends it.
fn set_last_u32(attributes: &mut Attributes, attr: AttrType, value: u32) {
    if !attributes.set_last_u32(attr, value) {
        attributes.push_u32(attr, value);
    }
}

/// The length of the packet `attributes` make: header, Message-Authenticator of an
/// Access-Request, User-Password padded to 16-octet blocks.
fn encoded_len(service: Service, attributes: &Attributes) -> usize {
    let fixed = match service {
        Service::Access => packet::HEADER_LEN + 18,
        Service::Accounting => packet::HEADER_LEN,
    };
    fixed
        + attributes
            .iter()
            .map(|a| match a.attr_type {
                AttrType::MESSAGE_AUTHENTICATOR => 0,
                AttrType::USER_PASSWORD => 2 + a.value.len().div_ceil(16).max(1) * 16,
                _ => 2 + a.value.len(),
            })
            .sum::<usize>()
}

/// The address with an IPv4-mapped IPv6 address turned into IPv4 (a dual-stack socket reports
/// IPv4 peers so).
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests;
