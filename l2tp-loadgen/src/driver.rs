//! The run: one [`Endpoint`] driven from a tokio current-thread loop, one UDP socket per
//! tunnel (or a pool when file descriptors are short), set-up at bounded concurrency, hold,
//! teardown with StopCCN.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, Instant};

use l2tp_proto::auth::Secret;
use l2tp_proto::time::Instant as ProtoInstant;
use l2tp_proto::wire::header::{Encapsulation, Version};
use l2tp_proto::{
    AuthMode, CallType, Command, CommandOutcome, Decision, DeterministicRng, DownCause, DownReason,
    Endpoint, EndpointConfig, Event, Refusal, Rng, SessionConfig, SessionHandle, TunnelConfig,
    TunnelHandle, VersionMode,
};
use tokio::net::UdpSocket;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::cli::Plan;
use crate::report::{Latency, Report};

/// File descriptors kept free for everything but the tunnel sockets.
const SPARE_FDS: u64 = 64;
/// The largest datagram read.
const MAX_DATAGRAM: usize = 65_535;
/// Datagrams handled before the loop looks at timers and transmits again.
const BATCH: usize = 256;
/// How much later than `--timeout` the engine's own set-up timers fire.
const SLACK: Duration = Duration::from_secs(5);
/// Our receive window (the peer's clips what we send).
const WINDOW: u16 = 32;

/// Randomness from the operating system, with a seeded fallback should `getrandom` fail (a
/// load generator keeps running; ids only need to be distinct).
#[derive(Debug)]
struct OsRng(DeterministicRng);

impl Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if getrandom::fill(buf).is_err() {
            self.0.fill(buf);
        }
    }
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum TState {
    Waiting,
    Opening,
    Up,
    Failed,
    Lost,
    Closing,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum SState {
    Waiting,
    Opening,
    Up,
    Failed,
    Lost,
    Closed,
}

#[derive(Debug)]
struct TunnelSlot {
    tid: u32,
    socket: usize,
    state: TState,
    opened: Instant,
    /// Sessions of this tunnel opened so far.
    next_session: usize,
}

#[derive(Debug)]
struct SessionSlot {
    state: SState,
    opened: Instant,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Phase {
    Setup,
    Hold,
    Teardown,
}

#[derive(Debug)]
struct Inbound {
    socket: usize,
    from: SocketAddr,
    data: Vec<u8>,
}

/// How a phase ended.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum End {
    Done,
    Deadline,
    Interrupted,
}

/// The socket set: local addresses (as the engine sees them) and the sockets.
#[derive(Debug)]
struct Sockets {
    list: Vec<Arc<UdpSocket>>,
    local: Vec<SocketAddr>,
}

#[derive(Debug)]
struct Driver {
    plan: Plan,
    ep: Endpoint,
    epoch: Instant,
    tunnel_config: Arc<TunnelConfig>,
    session_config: Arc<SessionConfig>,
    sockets: Sockets,
    tunnels: Vec<TunnelSlot>,
    sessions: Vec<SessionSlot>,
    by_tid: HashMap<u32, usize>,
    phase: Phase,
    next_tunnel: usize,
    ready: VecDeque<usize>,
    inflight: usize,
    reasons: BTreeMap<String, u64>,
    latencies: Vec<u64>,
    send_errors: u64,
    /// When the last tunnel came up or failed during set-up.
    tunnels_settled: Option<Instant>,
    progress: bool,
    next_progress: Instant,
}

/// Raises `RLIMIT_NOFILE` towards `want` descriptors; returns how many tunnel sockets fit.
fn raise_nofile(want: u64) -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let need = want + SPARE_FDS;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return want.min(1024 - SPARE_FDS);
    };
    let mut limit = soft;
    if soft < need {
        if hard >= need {
            if setrlimit(Resource::RLIMIT_NOFILE, need, hard).is_ok() {
                limit = need;
            }
        } else if setrlimit(Resource::RLIMIT_NOFILE, need, need).is_ok() {
            limit = need;
        } else if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            limit = hard;
        }
    }
    want.min(limit.saturating_sub(SPARE_FDS)).max(1)
}

/// The source address the kernel would use towards `peer`.
fn route_source(peer: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if peer.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = StdUdpSocket::bind(any).ok()?;
    probe.connect(peer).ok()?;
    probe.local_addr().ok().map(|a| a.ip())
}

fn open_sockets(plan: &Plan, count: usize) -> io::Result<Sockets> {
    let bind_ip = plan.local.unwrap_or(if plan.peer.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let shown_ip = if bind_ip.is_unspecified() {
        route_source(plan.peer).unwrap_or(bind_ip)
    } else {
        bind_ip
    };
    let mut list = Vec::with_capacity(count);
    let mut local = Vec::with_capacity(count);
    for _ in 0..count {
        let s = StdUdpSocket::bind(SocketAddr::new(bind_ip, 0))?;
        s.set_nonblocking(true)?;
        let port = s.local_addr()?.port();
        list.push(Arc::new(UdpSocket::from_std(s)?));
        local.push(SocketAddr::new(shown_ip, port));
    }
    Ok(Sockets { list, local })
}

fn router_id(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) if !v4.is_unspecified() => u32::from(v4),
        _ => 1,
    }
}

/// Runs the whole plan and returns its report.
pub(crate) async fn run(plan: Plan) -> Result<Report, String> {
    let want = plan.tunnels.min(plan.max_sockets.unwrap_or(usize::MAX));
    let want = u64::try_from(want).unwrap_or(u64::MAX);
    let count = usize::try_from(raise_nofile(want)).unwrap_or(1);
    let sockets =
        open_sockets(&plan, count).map_err(|e| format!("cannot open the UDP sockets: {e}"))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    for (i, s) in sockets.list.iter().enumerate() {
        tokio::spawn(receive(i, s.clone(), tx.clone()));
    }
    drop(tx);
    let mut d = Driver::new(plan, sockets);
    let (sig_tx, mut signals) = mpsc::unbounded_channel();
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = sigint.recv() => (),
                _ = sigterm.recv() => (),
            }
            if sig_tx.send(()).is_err() {
                return;
            }
        }
    });

    // Set-up.
    let start = Instant::now();
    let deadline = start + d.plan.timeout;
    let end = d
        .run_phase(&mut rx, deadline, &mut signals, |d| d.setup_done())
        .await;
    let elapsed = start.elapsed();
    let tunnels_elapsed = d
        .tunnels_settled
        .map_or(elapsed, |t| t.saturating_duration_since(start));
    if end != End::Done {
        d.expire_setup(if end == End::Interrupted {
            "interrupted"
        } else {
            "not up within --timeout"
        });
    }
    let setup_retransmissions = d.ep.stats().retransmissions;
    let tunnels_up = d.count_t(|s| s == TState::Up);
    let sessions_up = d.count_s(|s| s == SState::Up);

    // Hold.
    let mut interrupted = end == End::Interrupted;
    let hold_start = Instant::now();
    if !interrupted && !d.plan.hold.is_zero() {
        d.phase = Phase::Hold;
        let end = d
            .run_phase(&mut rx, hold_start + d.plan.hold, &mut signals, |_| false)
            .await;
        interrupted = end == End::Interrupted;
    }
    let held = hold_start.elapsed();

    // Teardown.
    d.phase = Phase::Teardown;
    let t0 = Instant::now();
    let (closed_tunnels, closed_sessions) = d.close_all();
    let end = if closed_tunnels == 0 {
        End::Done
    } else {
        d.run_phase(&mut rx, t0 + d.plan.teardown_timeout, &mut signals, |d| {
            d.ep.all_acked()
        })
        .await
    };
    let teardown = t0.elapsed();
    if end != End::Done {
        let why = if end == End::Interrupted {
            "teardown: interrupted"
        } else {
            "teardown: StopCCN not acknowledged within --teardown-timeout"
        };
        *d.reasons.entry(why.into()).or_default() += 1;
    }
    let _ = interrupted;
    Ok(d.report(ReportInput {
        elapsed,
        tunnels_elapsed,
        tunnels_up,
        sessions_up,
        setup_retransmissions,
        held,
        teardown,
        teardown_complete: end == End::Done,
        closed_tunnels,
        closed_sessions,
    }))
}

#[derive(Debug)]
struct ReportInput {
    elapsed: Duration,
    tunnels_elapsed: Duration,
    tunnels_up: usize,
    sessions_up: usize,
    setup_retransmissions: u64,
    held: Duration,
    teardown: Duration,
    teardown_complete: bool,
    closed_tunnels: usize,
    closed_sessions: usize,
}

async fn receive(socket: usize, s: Arc<UdpSocket>, to: mpsc::UnboundedSender<Inbound>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match s.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if to.send(Inbound { socket, from, data }).is_err() {
                    return;
                }
            }
            // ICMP errors may surface here; keep reading.
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

fn describe(what: &str, r: &DownReason) -> String {
    let cause = match r.cause {
        DownCause::Local => "closed locally",
        DownCause::Peer => "closed by the peer",
        DownCause::RetriesExhausted => "peer stopped acknowledging",
        DownCause::EstablishTimeout => "set-up timed out",
        DownCause::LostTieBreaker => "lost a tie breaker",
        DownCause::TunnelDown => "its tunnel went down",
        DownCause::IdleTimeout => "closed for having no session (idle_timeout)",
    };
    let mut s = format!("{what}: {cause}");
    if r.cause != DownCause::TunnelDown {
        s.push_str(&format!(", result {}", r.result));
        if let Some(e) = r.error {
            s.push_str(&format!(" error {e}"));
        }
        if let Some(m) = &r.message {
            s.push_str(&format!(" ({m})"));
        }
    }
    s
}

impl Driver {
    fn new(plan: Plan, sockets: Sockets) -> Driver {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        let ep = Endpoint::new(
            EndpointConfig::default(),
            Box::new(OsRng(DeterministicRng::new(seed))),
        );
        let local_ip = sockets
            .local
            .first()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let window = NonZeroU16::new(WINDOW).unwrap_or(NonZeroU16::MIN);
        let tunnel_config = Arc::new(TunnelConfig {
            version: match plan.version {
                Version::V2 => VersionMode::V2,
                Version::V3 => VersionMode::V3,
            },
            encap: Encapsulation::Udp,
            host_name: plan.host_name.clone().into_bytes(),
            router_id: router_id(local_ip),
            secret: plan
                .secret
                .as_deref()
                .map(|s| Secret::new(s.as_bytes()))
                .unwrap_or_default(),
            auth_mode: if plan.secret.is_some() {
                AuthMode::Challenge
            } else {
                AuthMode::None
            },
            rx_window: window,
            tx_window: window,
            // Many tunnels to one peer are intended, not a collision to break.
            use_tiebreaker: false,
            // The set-up deadline ends the phase first and names --timeout.
            establish_timeout: plan.timeout + SLACK,
            ..TunnelConfig::default()
        });
        let session_config = Arc::new(SessionConfig {
            pw_type: plan.pw_type,
            establish_timeout: plan.timeout + SLACK,
            ..SessionConfig::default()
        });
        let now = Instant::now();
        let n = sockets.list.len().max(1);
        let tunnels = (0..plan.tunnels)
            .map(|i| TunnelSlot {
                tid: 0,
                socket: i % n,
                state: TState::Waiting,
                opened: now,
                next_session: 0,
            })
            .collect();
        let sessions = (0..plan.tunnels * plan.sessions)
            .map(|_| SessionSlot {
                state: SState::Waiting,
                opened: now,
            })
            .collect();
        Driver {
            ep,
            epoch: now,
            tunnel_config,
            session_config,
            sockets,
            tunnels,
            sessions,
            by_tid: HashMap::new(),
            phase: Phase::Setup,
            next_tunnel: 0,
            ready: VecDeque::new(),
            inflight: 0,
            reasons: BTreeMap::new(),
            latencies: Vec::new(),
            send_errors: 0,
            tunnels_settled: None,
            progress: !plan.json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            next_progress: now + Duration::from_secs(1),
            plan,
        }
    }

    fn t(&self, now: Instant) -> ProtoInstant {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        ProtoInstant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    fn std_time(&self, t: ProtoInstant) -> Instant {
        self.epoch + Duration::from_micros(t.as_micros())
    }

    fn count_t(&self, f: impl Fn(TState) -> bool) -> usize {
        self.tunnels.iter().filter(|t| f(t.state)).count()
    }

    fn count_s(&self, f: impl Fn(SState) -> bool) -> usize {
        self.sessions.iter().filter(|s| f(s.state)).count()
    }

    fn fail(&mut self, reason: String) {
        *self.reasons.entry(reason).or_default() += 1;
    }

    fn setup_done(&self) -> bool {
        self.next_tunnel == self.tunnels.len() && self.ready.is_empty() && self.inflight == 0
    }

    /// Loops over input, timers and transmits until `done`, the deadline or a signal.
    async fn run_phase(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Inbound>,
        deadline: Instant,
        signals: &mut mpsc::UnboundedReceiver<()>,
        done: impl Fn(&Driver) -> bool,
    ) -> End {
        loop {
            let now = Instant::now();
            if self.phase == Phase::Setup {
                self.fill(now);
            }
            self.pump(now).await;
            if done(self) {
                return End::Done;
            }
            let now = Instant::now();
            if now >= deadline {
                return End::Deadline;
            }
            if self.progress && now >= self.next_progress {
                self.next_progress = now + Duration::from_secs(1);
                self.print_progress();
            }
            let mut wake = deadline;
            if let Some(t) = self.ep.poll_timeout() {
                wake = wake.min(self.std_time(t));
            }
            if self.progress {
                wake = wake.min(self.next_progress);
            }
            tokio::select! {
                got = rx.recv() => {
                    let Some(first) = got else { return End::Deadline };
                    let now = Instant::now();
                    self.input(now, first);
                    for _ in 1..BATCH {
                        match rx.try_recv() {
                            Ok(d) => self.input(now, d),
                            Err(_) => break,
                        }
                    }
                    self.ep.handle_timeout(self.t(now));
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    self.ep.handle_timeout(self.t(Instant::now()));
                }
                Some(()) = signals.recv() => return End::Interrupted,
            }
        }
    }

    fn print_progress(&self) {
        eprintln!(
            "l2tp-loadgen: {:?}: tunnels {}/{} up, sessions {}/{} up, {} failed, {} \
             retransmissions",
            self.phase,
            self.count_t(|s| s == TState::Up),
            self.tunnels.len(),
            self.count_s(|s| s == SState::Up),
            self.sessions.len(),
            self.reasons.values().sum::<u64>(),
            self.ep.stats().retransmissions
        );
    }

    fn input(&mut self, now: Instant, d: Inbound) {
        let Some(&local) = self.sockets.local.get(d.socket) else {
            return;
        };
        self.ep
            .handle_datagram(self.t(now), local, d.from, Encapsulation::Udp, &d.data);
    }

    /// Opens tunnels, then sessions (round robin over the tunnels that are up), while fewer
    /// than `--concurrency` are being set up.
    fn fill(&mut self, now: Instant) {
        while self.inflight < self.plan.concurrency {
            if self.next_tunnel < self.tunnels.len() {
                let i = self.next_tunnel;
                self.next_tunnel += 1;
                self.open_tunnel(now, i);
                continue;
            }
            let Some(ti) = self.ready.pop_front() else {
                return;
            };
            self.open_session(now, ti);
        }
    }

    fn open_tunnel(&mut self, now: Instant, i: usize) {
        let Some(slot) = self.tunnels.get(i) else {
            return;
        };
        let Some(&local) = self.sockets.local.get(slot.socket) else {
            return;
        };
        let cmd = Command::OpenTunnel {
            handle: TunnelHandle(i as u64),
            config: self.tunnel_config.clone(),
            local,
            remote: self.plan.peer,
        };
        match self.ep.handle_command(self.t(now), cmd) {
            Ok(CommandOutcome::Tunnel(tid)) => {
                self.by_tid.insert(tid, i);
                if let Some(slot) = self.tunnels.get_mut(i) {
                    slot.tid = tid;
                    slot.state = TState::Opening;
                    slot.opened = now;
                }
                self.inflight += 1;
            }
            other => {
                let why = match other {
                    Err(e) => format!("tunnel: cannot open: {e}"),
                    Ok(_) => "tunnel: cannot open".into(),
                };
                self.tunnel_failed(i, TState::Failed, why);
            }
        }
    }

    fn open_session(&mut self, now: Instant, ti: usize) {
        let per = self.plan.sessions;
        let Some(t) = self.tunnels.get_mut(ti) else {
            return;
        };
        if t.state != TState::Up || t.next_session >= per {
            return;
        }
        let k = t.next_session;
        t.next_session += 1;
        let tid = t.tid;
        if t.next_session < per {
            self.ready.push_back(ti);
        }
        let si = ti * per + k;
        let cmd = Command::OpenSession {
            tunnel_id: tid,
            handle: SessionHandle(si as u64),
            call: CallType::Incoming,
            config: self.session_config.clone(),
        };
        match self.ep.handle_command(self.t(now), cmd) {
            Ok(_) => {
                if let Some(s) = self.sessions.get_mut(si) {
                    s.state = SState::Opening;
                    s.opened = now;
                }
                self.inflight += 1;
            }
            Err(e) => {
                if let Some(s) = self.sessions.get_mut(si) {
                    s.state = SState::Failed;
                }
                self.fail(format!("session: cannot open: {e}"));
            }
        }
    }

    /// A tunnel failed or was lost: its sessions that were never opened fail with it.
    fn tunnel_failed(&mut self, ti: usize, state: TState, why: String) {
        let per = self.plan.sessions;
        let Some(t) = self.tunnels.get_mut(ti) else {
            return;
        };
        t.state = state;
        let from = t.next_session;
        t.next_session = per;
        self.fail(why);
        let mut never = 0;
        for s in self
            .sessions
            .iter_mut()
            .skip(ti * per + from)
            .take(per - from)
        {
            if s.state == SState::Waiting {
                s.state = SState::Failed;
                never += 1;
            }
        }
        if never > 0 {
            *self
                .reasons
                .entry("session: never opened (its tunnel failed)".into())
                .or_default() += never;
        }
    }

    /// The set-up deadline passed (or a signal came): whatever is not up has failed.
    fn expire_setup(&mut self, why: &str) {
        for ti in 0..self.tunnels.len() {
            let state = self.tunnels.get(ti).map(|t| t.state);
            if matches!(state, Some(TState::Waiting | TState::Opening)) {
                self.tunnel_failed(ti, TState::Failed, format!("tunnel: {why}"));
            }
        }
        let mut n = 0;
        for s in &mut self.sessions {
            if matches!(s.state, SState::Waiting | SState::Opening) {
                s.state = SState::Failed;
                n += 1;
            }
        }
        if n > 0 {
            *self.reasons.entry(format!("session: {why}")).or_default() += n;
        }
        self.ready.clear();
        self.next_tunnel = self.tunnels.len();
        self.inflight = 0;
    }

    /// StopCCN on every tunnel that has an id; returns the tunnels and sessions closed.
    fn close_all(&mut self) -> (usize, usize) {
        let now = Instant::now();
        let sessions = self.count_s(|s| s == SState::Up);
        let mut n = 0;
        for i in 0..self.tunnels.len() {
            let Some(t) = self.tunnels.get_mut(i) else {
                continue;
            };
            let up = t.state == TState::Up;
            if t.tid == 0 || !matches!(t.state, TState::Up | TState::Failed) {
                continue;
            }
            let tid = t.tid;
            if up {
                t.state = TState::Closing;
            }
            let closed = self
                .ep
                .handle_command(self.t(now), Command::CloseTunnel { tunnel_id: tid })
                .is_ok();
            if up && closed {
                n += 1;
            }
        }
        (n, sessions)
    }

    /// Answers decisions (a LAC expects none), handles events, sends datagrams.
    async fn pump(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            while let Some(d) = self.ep.poll_decision() {
                progress = true;
                self.refuse(now, d);
            }
            while let Some(e) = self.ep.poll_event() {
                progress = true;
                self.on_event(now, e);
            }
            while let Some(t) = self.ep.poll_transmit() {
                progress = true;
                let socket = self
                    .by_tid
                    .get(&t.tunnel_id)
                    .and_then(|i| self.tunnels.get(*i))
                    .map_or(0, |s| s.socket);
                let Some(s) = self.sockets.list.get(socket) else {
                    continue;
                };
                let sent = match s.try_send_to(&t.contents, t.remote) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        s.send_to(&t.contents, t.remote).await
                    }
                    r => r,
                };
                if sent.is_err() {
                    self.send_errors += 1;
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn refuse(&mut self, now: Instant, d: Decision) {
        let t = self.t(now);
        let _ = match d {
            Decision::Tunnel(r) => self.ep.reject_tunnel(t, r.id, Refusal::not_authorized()),
            Decision::Session(r) => self.ep.reject_session(
                t,
                r.id,
                Refusal {
                    result: l2tp_proto::wire::result::result_code::cdn::NO_FACILITIES_PERMANENT,
                    error: None,
                    message: Some("a load generator takes no calls".into()),
                },
            ),
            _ => Ok(()),
        };
    }

    fn on_event(&mut self, now: Instant, e: Event) {
        match e {
            Event::TunnelUp { handle, .. } => {
                let i = handle.0 as usize;
                if let Some(t) = self.tunnels.get_mut(i)
                    && t.state == TState::Opening
                {
                    t.state = TState::Up;
                    self.inflight = self.inflight.saturating_sub(1);
                    self.tunnels_settled = Some(now);
                    if self.plan.sessions > 0 && self.phase == Phase::Setup {
                        self.ready.push_back(i);
                    }
                }
            }
            Event::TunnelDown { handle, reason, .. } => {
                let i = handle.0 as usize;
                let Some(state) = self.tunnels.get(i).map(|t| t.state) else {
                    return;
                };
                match state {
                    TState::Opening => {
                        self.inflight = self.inflight.saturating_sub(1);
                        self.tunnels_settled = Some(now);
                        self.tunnel_failed(i, TState::Failed, describe("tunnel", &reason));
                    }
                    TState::Up => {
                        let why = format!("{} after it was up", describe("tunnel", &reason));
                        self.tunnel_failed(i, TState::Lost, why);
                    }
                    _ => {}
                }
            }
            Event::SessionUp { handle, .. } => {
                let i = handle.0 as usize;
                if let Some(s) = self.sessions.get_mut(i)
                    && s.state == SState::Opening
                {
                    s.state = SState::Up;
                    self.inflight = self.inflight.saturating_sub(1);
                    let micros = now.saturating_duration_since(s.opened).as_micros();
                    self.latencies
                        .push(u64::try_from(micros).unwrap_or(u64::MAX));
                }
            }
            Event::SessionDown { handle, reason, .. } => {
                let i = handle.0 as usize;
                let teardown = self.phase == Phase::Teardown;
                let Some(s) = self.sessions.get_mut(i) else {
                    return;
                };
                match s.state {
                    SState::Opening => {
                        s.state = SState::Failed;
                        self.inflight = self.inflight.saturating_sub(1);
                        self.fail(describe("session", &reason));
                    }
                    SState::Up if teardown => s.state = SState::Closed,
                    SState::Up => {
                        s.state = SState::Lost;
                        self.fail(format!("{} after it was up", describe("session", &reason)));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn report(&mut self, r: ReportInput) -> Report {
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        let rate = |n: usize, d: Duration| {
            if d.is_zero() || n == 0 {
                0.0
            } else {
                (n as f64 / d.as_secs_f64() * 10.0).round() / 10.0
            }
        };
        let stats = *self.ep.stats();
        let tunnels_failed = self.count_t(|s| s == TState::Failed);
        let sessions_failed = self.count_s(|s| s == SState::Failed);
        let tunnels_lost = self.count_t(|s| s == TState::Lost);
        let sessions_lost = self.count_s(|s| s == SState::Lost);
        self.latencies.sort_unstable();
        Report {
            peer: self.plan.peer.to_string(),
            version: if self.plan.version == Version::V2 {
                2
            } else {
                3
            },
            tunnels: self.tunnels.len(),
            sessions_per_tunnel: self.plan.sessions,
            concurrency: self.plan.concurrency,
            sockets: self.sockets.list.len(),
            tunnels_up: r.tunnels_up,
            sessions_up: r.sessions_up,
            tunnels_failed,
            sessions_failed,
            tunnels_lost,
            sessions_lost,
            failed: tunnels_failed + sessions_failed + tunnels_lost + sessions_lost,
            elapsed_s: secs(r.elapsed),
            tunnels_elapsed_s: secs(r.tunnels_elapsed),
            tunnels_per_s: rate(r.tunnels_up, r.tunnels_elapsed),
            sessions_per_s: rate(r.sessions_up, r.elapsed),
            session_setup_ms: Latency::of(&self.latencies),
            hold_s: secs(r.held),
            teardown_tunnels: r.closed_tunnels,
            teardown_sessions: r.closed_sessions,
            teardown_s: secs(r.teardown),
            teardown_tunnels_per_s: rate(r.closed_tunnels, r.teardown),
            teardown_sessions_per_s: rate(r.closed_sessions, r.teardown),
            teardown_complete: r.teardown_complete,
            retransmissions: stats.retransmissions,
            setup_retransmissions: r.setup_retransmissions,
            auth_failures: stats.auth_failures,
            send_errors: self.send_errors,
            failure_reasons: std::mem::take(&mut self.reasons),
        }
    }
}
