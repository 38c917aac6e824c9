//! The daemon's RADIUS client: a task that owns the client's UDP sockets and the dynamic
//! authorization sockets, and drives `radius_proto`'s sans-IO [`Client`] (servers,
//! retransmissions, fail-over, dead time, queues, identifiers per socket) and
//! [`DynAuthServer`] (RFC 5176).
//!
//! The main loop talks to it through a [`Radius`] handle: requests of the engine go in
//! ([`Radius::submit`], [`Radius::cancel`]), outcomes and authentic Disconnect- and
//! CoA-Requests come out as [`FromRadius`], answered with [`Radius::answer`]. A reload hands it
//! the new server list ([`Radius::configure`]): servers that stay keep their requests in
//! flight (`Client::reconfigure`). `show radius` reads the [`Radius::status`] the task keeps
//! up to date.
//!
//! The client's sockets ([`sockets`]) are dual-stack, bound to `radius_nas_ip_address` when
//! the config sets one (and bound again when a reload changes it); a new one is opened when
//! every socket has 256 requests in flight to a server. Each socket has a reader task that
//! hands its datagrams to the client's task.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as StdInstant};

use l2tp_config::Config;
use l2tp_ctl::{RadiusInfo, RadiusServerInfo};
use l2tp_proto::time::Instant;
use radius_proto::client::{
    Client, ClientConfig, Event, RequestHandle, ServerConfig, ServerState, Service, SocketId,
};
use radius_proto::dynauth::{
    Answer, DynAuthClient, DynAuthError, DynAuthKind, DynAuthRequest, DynAuthServer, Incoming,
};
use radius_proto::{Attributes, Secret};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

use crate::dataplane::DataStats;
use crate::engine::{OsRng, RadiusOutcome};
use crate::notice;

mod sockets;

use sockets::{ClientSockets, Datagram, MAX_PACKET, Socket, read, send_now, udp_socket};

/// What the RADIUS task tells the main loop.
#[derive(Debug)]
pub enum FromRadius {
    /// The outcome of the engine's request `key`.
    Outcome {
        /// The request.
        key: u64,
        /// Its outcome.
        outcome: RadiusOutcome,
    },
    /// An authentic Disconnect- or CoA-Request: answer it with [`Radius::answer`] and `id`.
    DynAuth {
        /// Names the request in the answer.
        id: u64,
        /// Disconnect or CoA.
        kind: DynAuthKind,
        /// Its attributes.
        attributes: Attributes,
        /// Where it came from.
        from: SocketAddr,
    },
}

enum ToRadius {
    Configure(Box<Setup>),
    Submit {
        key: u64,
        service: Service,
        attributes: Attributes,
    },
    Cancel {
        key: u64,
    },
    Answer {
        id: u64,
        answer: Answer,
    },
    /// Answered once no Accounting-Request is pending any more.
    Flush(oneshot::Sender<()>),
}

/// What the config says of RADIUS: the client's servers (with their names), the dynamic
/// authorization clients and addresses, the address to send from.
#[derive(Clone, Debug)]
pub struct Setup {
    client: ClientConfig,
    /// The `radius server` name of each server, in the client's order (access servers first).
    names: Vec<String>,
    dynauth: Vec<DynAuthClient>,
    listen: Vec<SocketAddr>,
    bind: Option<IpAddr>,
    /// What the setup was made from, to tell whether a reload changed it.
    source: (
        Vec<l2tp_config::RadiusServer>,
        Vec<l2tp_config::DynauthClient>,
        String,
    ),
}

impl Setup {
    /// The RADIUS setup of `config`.
    pub fn of(config: &Config) -> Setup {
        let sys = config.system();
        let server = |r: &l2tp_config::RadiusServer, address: SocketAddr| {
            let s = &r.settings;
            let secret = s.secret.as_ref().map_or(&[][..], |x| x.as_bytes());
            let mut c = ServerConfig::new(address, Secret::new(secret));
            c.priority = s.priority;
            c.timeout = r.timeout();
            c.retries = s.retries;
            c.dead_time = r.dead_time();
            c.max_outstanding = usize::try_from(s.max_outstanding).unwrap_or(usize::MAX);
            c.require_message_authenticator = s.require_message_authenticator;
            c.status_server = s.status_server;
            c
        };
        let mut names = Vec::new();
        let mut access = Vec::new();
        let mut accounting = Vec::new();
        for r in config.radius_servers() {
            if let Some(a) = r.auth_address() {
                access.push(server(r, a));
                names.push(r.name.clone());
            }
        }
        for r in config.radius_servers() {
            if let Some(a) = r.acct_address() {
                accounting.push(server(r, a));
                names.push(r.name.clone());
            }
        }
        let dynauth = config
            .dynauth_clients()
            .iter()
            .filter_map(|c| {
                let s = &c.settings;
                Some(DynAuthClient {
                    address: s.address?,
                    secret: Secret::new(s.secret.as_ref()?.as_bytes()),
                    require_message_authenticator: s.require_message_authenticator,
                })
            })
            .collect();
        let unbounded = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        Setup {
            client: ClientConfig {
                access_servers: access,
                accounting_servers: accounting,
                max_queued_access: unbounded(sys.radius_max_queued_access),
                max_queued_accounting: unbounded(sys.radius_max_queued_accounting),
                ..ClientConfig::default()
            },
            names,
            dynauth,
            listen: sys.radius_dynauth_listen.clone(),
            bind: sys.radius_nas_ip_address,
            source: (
                config.radius_servers().to_vec(),
                config.dynauth_clients().to_vec(),
                format!(
                    "{:?}",
                    (
                        &sys.radius_dynauth_listen,
                        sys.radius_nas_ip_address,
                        sys.radius_max_queued_access,
                        sys.radius_max_queued_accounting
                    )
                ),
            ),
        }
    }

    /// Whether there is anything for the task to do.
    fn is_empty(&self) -> bool {
        self.names.is_empty() && self.listen.is_empty()
    }
}

/// The main loop's handle on the RADIUS task.
#[derive(Debug)]
pub struct Radius {
    tx: mpsc::UnboundedSender<ToRadius>,
    status: Arc<Mutex<RadiusInfo>>,
}

impl Radius {
    /// Starts the task with `setup`; its outcomes and requests go to `to_core`. It stops when
    /// `stop` turns true or the handle is dropped.
    pub fn start(
        setup: Setup,
        to_core: mpsc::Sender<FromRadius>,
        stop: watch::Receiver<bool>,
    ) -> Radius {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = Arc::new(Mutex::new(RadiusInfo::default()));
        let task = Task::new(to_core, Arc::clone(&status));
        tokio::spawn(task.run(setup, rx, stop));
        Radius { tx, status }
    }

    /// A new configuration (a reload); what did not change is left alone.
    pub fn configure(&self, setup: Setup) {
        let _ = self.tx.send(ToRadius::Configure(Box::new(setup)));
    }

    /// Sends the engine's request `key`.
    pub fn submit(&self, key: u64, service: Service, attributes: Attributes) {
        let _ = self.tx.send(ToRadius::Submit {
            key,
            service,
            attributes,
        });
    }

    /// Forgets request `key`.
    pub fn cancel(&self, key: u64) {
        let _ = self.tx.send(ToRadius::Cancel { key });
    }

    /// Answers Disconnect- or CoA-Request `id`.
    pub fn answer(&self, id: u64, answer: Answer) {
        let _ = self.tx.send(ToRadius::Answer { id, answer });
    }

    /// Waits, at most `limit`, until no Accounting-Request is pending (the daemon stops);
    /// returns whether none is.
    pub async fn flush(&self, limit: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(ToRadius::Flush(tx)).is_err() {
            return true;
        }
        matches!(tokio::time::timeout(limit, rx).await, Ok(Ok(())))
    }

    /// Adds the servers, queues and counters of the client to `info`, the engine's answer to
    /// `show radius`.
    pub fn add_status(&self, info: &mut RadiusInfo) {
        let Ok(st) = self.status.lock() else {
            return;
        };
        info.servers = st.servers.clone();
        info.queued_access = st.queued_access;
        info.queued_accounting = st.queued_accounting;
        info.pending = st.pending;
        info.sockets = st.sockets;
        info.access_queue_full = st.access_queue_full;
        info.unknown_source = st.unknown_source;
        info.dynauth_listen = st.dynauth_listen.clone();
        info.dynauth_dropped = st.dynauth_dropped.clone();
    }

    /// Sends request `req` of the engine; an accounting request gets its Event-Timestamp and
    /// the counters `stats` of its session (octets with gigawords, packets, RFC 2866 §5.3,
    /// RFC 2869 §5.1).
    pub fn send(&self, req: crate::engine::RadiusRequest, stats: Option<&DataStats>) {
        match req {
            crate::engine::RadiusRequest::Submit {
                key,
                service,
                mut attributes,
                counters,
            } => {
                if service == Service::Accounting {
                    if let (Some(s), Some(_)) = (stats, counters) {
                        add_counters(&mut attributes, s);
                    }
                    if let Ok(t) =
                        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)
                    {
                        attributes.push_u32(
                            radius_proto::dict::AttrType::EVENT_TIMESTAMP,
                            u32::try_from(t.as_secs()).unwrap_or(u32::MAX),
                        );
                    }
                }
                self.submit(key, service, attributes);
            }
            crate::engine::RadiusRequest::Cancel { key } => self.cancel(key),
        }
    }
}

struct Task {
    to_core: mpsc::Sender<FromRadius>,
    status: Arc<Mutex<RadiusInfo>>,
    start: StdInstant,
    client: Option<Client>,
    setup: Option<Setup>,
    sockets: ClientSockets,
    dynauth: DynAuthServer,
    dynauth_sockets: Vec<(Arc<UdpSocket>, tokio::task::JoinHandle<()>)>,
    datagrams: (mpsc::Sender<Datagram>, mpsc::Receiver<Datagram>),
    by_handle: HashMap<RequestHandle, (u64, Service)>,
    by_key: HashMap<u64, RequestHandle>,
    requests: HashMap<u64, (DynAuthRequest, usize)>,
    next_id: u64,
    flushes: Vec<oneshot::Sender<()>>,
    buf: Vec<u8>,
}

impl Task {
    fn new(to_core: mpsc::Sender<FromRadius>, status: Arc<Mutex<RadiusInfo>>) -> Task {
        let datagrams = mpsc::channel(1024);
        Task {
            to_core,
            status,
            start: StdInstant::now(),
            client: None,
            setup: None,
            sockets: ClientSockets::new(datagrams.0.clone()),
            dynauth: DynAuthServer::new([]),
            dynauth_sockets: Vec::new(),
            datagrams,
            by_handle: HashMap::new(),
            by_key: HashMap::new(),
            requests: HashMap::new(),
            next_id: 0,
            flushes: Vec::new(),
            buf: Vec::with_capacity(MAX_PACKET),
        }
    }

    fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    async fn run(
        mut self,
        setup: Setup,
        mut rx: mpsc::UnboundedReceiver<ToRadius>,
        mut stop: watch::Receiver<bool>,
    ) {
        self.configure(setup);
        self.publish();
        loop {
            let wake = self.client.as_ref().and_then(Client::poll_timeout);
            let sleep = match wake {
                Some(at) => {
                    let left = at.saturating_duration_since(self.now());
                    tokio::time::Instant::now() + left
                }
                None => tokio::time::Instant::now() + Duration::from_secs(3600),
            };
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(m) => self.message(m),
                    None => break,
                },
                Some(d) = self.datagrams.1.recv() => self.datagram(d).await,
                _ = tokio::time::sleep_until(sleep) => {
                    let now = self.now();
                    if let Some(c) = self.client.as_mut() {
                        c.handle_timeout(now);
                    }
                }
                _ = stop.changed() => if *stop.borrow() { break },
            }
            self.drain().await;
            self.publish();
        }
        self.sockets.close();
        for (_, r) in self.dynauth_sockets.drain(..) {
            r.abort();
        }
    }

    fn message(&mut self, m: ToRadius) {
        let now = self.now();
        match m {
            ToRadius::Configure(setup) => self.configure(*setup),
            ToRadius::Submit {
                key,
                service,
                attributes,
            } => {
                let Some(client) = self.client.as_mut() else {
                    let outcome = RadiusOutcome::Failed(radius_proto::client::Failure::NoServer);
                    let _ = self.to_core.try_send(FromRadius::Outcome { key, outcome });
                    return;
                };
                let h = client.submit(now, service, attributes);
                self.by_handle.insert(h, (key, service));
                self.by_key.insert(key, h);
            }
            ToRadius::Cancel { key } => {
                if let Some(h) = self.by_key.remove(&key) {
                    self.by_handle.remove(&h);
                    if let Some(c) = self.client.as_mut() {
                        c.cancel(now, h);
                    }
                }
            }
            ToRadius::Answer { id, answer } => self.answer(id, answer),
            ToRadius::Flush(tx) => self.flushes.push(tx),
        }
    }

    /// Takes a new setup: the client reconfigured (or made), the dynamic authorization
    /// clients replaced, its sockets bound again if their addresses changed.
    fn configure(&mut self, setup: Setup) {
        if self
            .setup
            .as_ref()
            .is_some_and(|s| s.source == setup.source)
        {
            return;
        }
        let now = self.now();
        let old = self.setup.take();
        match self.client.as_mut() {
            Some(c) => {
                if let Err(e) = c.reconfigure(now, setup.client.clone()) {
                    tracing::error!("RADIUS: the new server list cannot be used: {e}");
                }
            }
            None if !setup.is_empty() => match Client::new(setup.client.clone(), Box::new(OsRng)) {
                Ok(c) => self.client = Some(c),
                Err(e) => tracing::error!("RADIUS: the server list cannot be used: {e}"),
            },
            None => {}
        }
        if self.client.is_some() && self.sockets.is_empty() {
            self.sockets.open(setup.bind);
        } else if old.as_ref().is_some_and(|o| o.bind != setup.bind) {
            self.sockets.rebind(setup.bind);
        }
        self.dynauth = DynAuthServer::new(setup.dynauth.iter().cloned());
        if old.as_ref().map(|o| &o.listen) != Some(&setup.listen) {
            self.bind_dynauth(&setup.listen);
        }
        self.setup = Some(setup);
    }

    fn bind_dynauth(&mut self, listen: &[SocketAddr]) {
        for (_, r) in self.dynauth_sockets.drain(..) {
            r.abort();
        }
        for (i, a) in listen.iter().enumerate() {
            match udp_socket(*a) {
                Ok(s) => {
                    let s = Arc::new(s);
                    let r = tokio::spawn(read(
                        Arc::clone(&s),
                        Socket::DynAuth(i),
                        self.datagrams.0.clone(),
                    ));
                    notice!("RADIUS: taking Disconnect- and CoA-Requests on {a}");
                    self.dynauth_sockets.push((s, r));
                }
                Err(e) => {
                    tracing::error!("RADIUS: cannot listen for dynamic authorization on {a}: {e}")
                }
            }
        }
    }

    async fn datagram(&mut self, d: Datagram) {
        let now = self.now();
        match d.on {
            Socket::Client(i) => {
                if let Some(c) = self.client.as_mut() {
                    c.handle_datagram(now, SocketId(i), d.from, &d.bytes);
                }
            }
            Socket::DynAuth(i) => match self.dynauth.handle_request(now, d.from, &d.bytes) {
                Ok(Incoming::Request(req)) => {
                    let unix = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |t| t.as_secs());
                    if self.dynauth.is_stale(&req, unix) {
                        // RFC 5176 §6.3: a replay, or a clock far off; silently discarded.
                        tracing::warn!(
                            "RADIUS dynamic authorization from {}: its Event-Timestamp is \
                             more than {} s off: dropped",
                            d.from,
                            radius_proto::dynauth::EVENT_TIMESTAMP_WINDOW.as_secs()
                        );
                        return;
                    }
                    self.next_id += 1;
                    let id = self.next_id;
                    let msg = FromRadius::DynAuth {
                        id,
                        kind: req.kind,
                        attributes: req.packet.attributes.clone(),
                        from: req.from,
                    };
                    self.requests.insert(id, (req, i));
                    let _ = self.to_core.send(msg).await;
                }
                Ok(Incoming::Duplicate(answer)) => {
                    if let Some((s, _)) = self.dynauth_sockets.get(i) {
                        let _ = send_now(s, &answer, d.from);
                    }
                }
                Ok(_) => {}
                Err(e @ DynAuthError::UnknownClient(_)) => {
                    tracing::warn!("RADIUS dynamic authorization: {e}: dropped");
                }
                Err(e) => {
                    tracing::warn!("RADIUS dynamic authorization from {}: {e}: dropped", d.from)
                }
            },
        }
    }

    fn answer(&mut self, id: u64, answer: Answer) {
        let Some((req, i)) = self.requests.remove(&id) else {
            return;
        };
        let mut out = Vec::new();
        match self
            .dynauth
            .respond(&req, answer, &Attributes::new(), &mut out)
        {
            Ok(()) => {
                if let Some((s, _)) = self.dynauth_sockets.get(i)
                    && let Err(e) = send_now(s, &out, req.from)
                {
                    tracing::warn!("RADIUS: cannot answer {}: {e}", req.from);
                }
            }
            Err(e) => tracing::warn!("RADIUS: cannot answer {}: {e}", req.from),
        }
    }

    /// Sends what the client wants sent and hands its events on.
    async fn drain(&mut self) {
        while let Some(client) = self.client.as_mut() {
            let mut progress = false;
            while let Some(t) = client.poll_transmit(&mut self.buf) {
                progress = true;
                let Some(s) = self.sockets.get(t.socket.0) else {
                    continue;
                };
                // A full send buffer drops the datagram; the client sends it again.
                if let Err(e) = send_now(s, &self.buf, t.destination) {
                    tracing::debug!("RADIUS: sending to {}: {e}", t.destination);
                }
            }
            let mut events = Vec::new();
            while let Some(e) = client.poll_event() {
                events.push(e);
            }
            if events.is_empty() && !progress {
                break;
            }
            for e in events {
                self.event(e).await;
            }
        }
        let accounting_pending = self
            .by_handle
            .values()
            .any(|(_, s)| *s == Service::Accounting);
        if !accounting_pending {
            for f in self.flushes.drain(..) {
                let _ = f.send(());
            }
        }
    }

    async fn event(&mut self, e: Event) {
        let name = |t: &Task, id: radius_proto::client::ServerId| {
            let n = t
                .setup
                .as_ref()
                .and_then(|s| s.names.get(usize::from(id.0)))
                .cloned()
                .unwrap_or_default();
            let addr = t
                .client
                .as_ref()
                .and_then(|c| c.servers().nth(usize::from(id.0)))
                .map(|i| i.address.to_string())
                .unwrap_or_default();
            format!("\"{n}\" ({addr})")
        };
        let (handle, outcome) = match e {
            Event::Reply { handle, reply } => {
                let server = self
                    .client
                    .as_ref()
                    .and_then(|c| c.servers().nth(usize::from(reply.server.0)))
                    .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |i| i.address);
                let outcome = RadiusOutcome::Reply {
                    code: reply.code(),
                    attributes: reply.packet.attributes,
                    server,
                };
                (handle, outcome)
            }
            Event::Failed { handle, failure } => (handle, RadiusOutcome::Failed(failure)),
            Event::AccountingDropped { handle } => {
                tracing::warn!(
                    "RADIUS: an accounting record was dropped: the queue is full \
                     (radius_max_queued_accounting)"
                );
                (handle, RadiusOutcome::Dropped)
            }
            Event::ServerDead { server } => {
                tracing::warn!(
                    "RADIUS server {} does not answer: dead for its dead time",
                    name(self, server)
                );
                return;
            }
            Event::ServerAlive { server, reason } => {
                notice!(
                    "RADIUS server {} is used again ({reason})",
                    name(self, server)
                );
                return;
            }
            Event::SocketWanted => {
                let bind = self.setup.as_ref().and_then(|s| s.bind);
                if self.sockets.open(bind) {
                    let now = self.now();
                    if let Some(c) = self.client.as_mut() {
                        c.add_socket(now);
                    }
                }
                return;
            }
            _ => return,
        };
        let Some((key, _)) = self.by_handle.remove(&handle) else {
            return;
        };
        self.by_key.remove(&key);
        let _ = self
            .to_core
            .send(FromRadius::Outcome { key, outcome })
            .await;
    }

    /// Updates what `show radius` reads.
    fn publish(&self) {
        let Ok(mut st) = self.status.lock() else {
            return;
        };
        let now = self.now();
        st.servers.clear();
        st.dynauth_listen = self
            .dynauth_sockets
            .iter()
            .filter_map(|(s, _)| s.local_addr().ok())
            .map(|a| a.to_string())
            .collect();
        let d = self.dynauth.stats();
        st.dynauth_dropped = [
            ("unknown_client", d.unknown_clients),
            ("malformed", d.malformed),
            ("bad_authenticator", d.bad_authenticators),
            ("stale", d.stale),
            ("duplicate", d.duplicates),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
        let Some(c) = self.client.as_ref() else {
            return;
        };
        let names = self.setup.as_ref().map(|s| &s.names);
        for info in c.servers() {
            let s = info.stats;
            let (state, dead_for_s) = match info.state {
                ServerState::Alive => ("alive", None),
                ServerState::Dead { until } => {
                    ("dead", Some(until.saturating_duration_since(now).as_secs()))
                }
            };
            st.servers.push(RadiusServerInfo {
                name: names
                    .and_then(|n| n.get(usize::from(info.id.0)))
                    .cloned()
                    .unwrap_or_default(),
                service: info.service.to_string(),
                address: info.address.to_string(),
                priority: info.priority,
                state: state.to_owned(),
                dead_for_s,
                outstanding: info.outstanding as u64,
                requests: s.requests,
                retransmissions: s.retransmissions,
                timeouts: s.timeouts,
                accepts: s.accepts,
                rejects: s.rejects,
                challenges: s.challenges,
                accounting_responses: s.accounting_responses,
                malformed: s.malformed,
                bad_authenticators: s.bad_authenticators,
                duplicates: s.duplicates,
                last_rtt_us: u64::try_from(s.last_rtt.as_micros()).unwrap_or(u64::MAX),
                smoothed_rtt_us: u64::try_from(s.smoothed_rtt.as_micros()).unwrap_or(u64::MAX),
                probes: s.probes,
                probes_answered: s.probes_answered,
                probes_timed_out: s.probes_timed_out,
            });
        }
        st.queued_access = c.queued(Service::Access) as u64;
        st.queued_accounting = c.queued(Service::Accounting) as u64;
        st.pending = c.pending() as u64;
        st.sockets = u64::from(c.sockets());
        let cs = c.stats();
        st.access_queue_full = cs.access_queue_full;
        st.unknown_source = cs.unknown_source;
    }
}

/// Adds a session's data counters to an Accounting-Request: from the user (received from the
/// peer) is input, to the user output; octets above 2^32 in the Gigawords (RFC 2869 §5.1).
pub fn add_counters(a: &mut Attributes, s: &DataStats) {
    use radius_proto::dict::AttrType as T;
    let low = |n: u64| u32::try_from(n & 0xffff_ffff).unwrap_or(u32::MAX);
    let high = |n: u64| u32::try_from(n >> 32).unwrap_or(u32::MAX);
    a.push_u32(T::ACCT_INPUT_OCTETS, low(s.rx_bytes));
    a.push_u32(T::ACCT_OUTPUT_OCTETS, low(s.tx_bytes));
    a.push_u32(T::ACCT_INPUT_GIGAWORDS, high(s.rx_bytes));
    a.push_u32(T::ACCT_OUTPUT_GIGAWORDS, high(s.tx_bytes));
    a.push_u32(T::ACCT_INPUT_PACKETS, low(s.rx_packets));
    a.push_u32(T::ACCT_OUTPUT_PACKETS, low(s.tx_packets));
}

#[cfg(test)]
mod tests;
