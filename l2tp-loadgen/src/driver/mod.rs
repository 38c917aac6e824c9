//! The run: one [`Endpoint`] driven from a tokio current-thread loop, one UDP socket per
//! tunnel (or a pool when file descriptors are short), set-up at bounded concurrency, hold,
//! teardown with StopCCN. With `--ppp`, every session that comes up runs PPP ([`crate::ppp`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, Instant};

use l2tp_proto::time::Instant as ProtoInstant;
use l2tp_proto::wire::avp::types::pw_type;
use l2tp_proto::wire::header::{Encapsulation, Packet, Version};
use l2tp_proto::{
    AuthMode, CallType, Command, CommandOutcome, DeterministicRng, Endpoint, EndpointConfig,
    SessionConfig, SessionHandle, TunnelConfig, TunnelHandle, VersionMode,
};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::cli::Plan;
use crate::ppp;
use crate::report::Report;
use crate::sys::{Inbound, OsRng, Pool, Sockets, open_sockets, raise_nofile, receive};

mod events;
mod summary;

use summary::ReportInput;

/// Datagrams handled before the loop looks at timers and transmits again.
const BATCH: usize = 256;
/// How much later than `--timeout` the engine's own set-up timers fire.
const SLACK: Duration = Duration::from_secs(5);
/// Our receive window (the peer's clips what we send).
const WINDOW: u16 = 32;

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
    /// Our session id, once up.
    sid: u32,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Phase {
    Setup,
    Hold,
    Teardown,
}

/// How a phase ended.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum End {
    Done,
    Deadline,
    Interrupted,
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
    /// With `--ppp`: the PPP side of every session.
    ppp: Option<ppp::Sessions>,
    /// Buffers of handled datagrams go back here.
    pool: Pool,
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
    let pool = Pool::default();
    for (i, s) in sockets.list.iter().enumerate() {
        tokio::spawn(receive(i, s.clone(), pool.clone(), tx.clone()));
    }
    drop(tx);
    let mut d = Driver::new(plan, sockets, pool);
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
    // With PPP, a session whose PPP failed is closed: count the L2TP sessions that came up.
    let sessions_up = if d.ppp.is_some() {
        d.latencies.len()
    } else {
        d.count_s(|s| s == SState::Up)
    };
    let ppp_elapsed = d
        .ppp
        .as_ref()
        .and_then(ppp::Sessions::last_settled)
        .map_or(elapsed, |t| d.std_time(t).saturating_duration_since(start));

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
    let stop = d.t(t0);
    if let Some(ppp) = &mut d.ppp {
        ppp.stop_flood(stop);
    }
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
        ppp_elapsed,
        setup_retransmissions,
        held,
        teardown,
        teardown_complete: end == End::Done,
        closed_tunnels,
        closed_sessions,
    }))
}

/// Sends a PPP data message; one that the socket cannot take now is counted and dropped
/// (PPP retransmits what matters).
fn sender<'a>(
    sockets: &'a Sockets,
    errors: &'a mut u64,
) -> impl FnMut(usize, SocketAddr, &[u8]) + 'a {
    move |socket, to, data| {
        let sent = sockets.list.get(socket).map(|s| s.try_send_to(data, to));
        if !matches!(sent, Some(Ok(_))) {
            *errors += 1;
        }
    }
}

impl Driver {
    fn new(plan: Plan, sockets: Sockets, pool: Pool) -> Driver {
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
            secret: plan.secret.clone().unwrap_or_default(),
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
        let ppp = plan.ppp.as_ref().map(|p| {
            ppp::Sessions::new(
                p,
                plan.timeout,
                plan.version,
                plan.tunnels,
                plan.sessions,
                OsRng(DeterministicRng::new(seed.rotate_left(17))),
            )
        });
        let session_config = Arc::new(SessionConfig {
            pw_type: if ppp.is_some() {
                pw_type::PPP
            } else {
                plan.pw_type
            },
            establish_timeout: plan.timeout + SLACK,
            proxy: ppp
                .as_ref()
                .and_then(ppp::Sessions::proxy_avps)
                .map(Box::new),
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
                sid: 0,
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
            ppp,
            pool,
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

    /// Tunnels and sessions in set-up: opening at the L2TP level, or negotiating PPP.
    fn in_setup(&self) -> usize {
        self.inflight + self.ppp.as_ref().map_or(0, ppp::Sessions::negotiating)
    }

    /// Whether [`Driver::fill`] would start something now.
    fn can_fill(&self) -> bool {
        self.in_setup() < self.plan.concurrency
            && (self.next_tunnel < self.tunnels.len() || !self.ready.is_empty())
    }

    fn setup_done(&self) -> bool {
        self.next_tunnel == self.tunnels.len() && self.ready.is_empty() && self.in_setup() == 0
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
            // What `pump` handles (a tunnel up, a session that failed) can make room for more
            // set-ups: start them now, not at the next datagram or timer, which may be the
            // peer's delayed acknowledgement.
            loop {
                if self.phase == Phase::Setup {
                    self.fill(now);
                }
                self.pump(now).await;
                if !(self.phase == Phase::Setup && self.can_fill()) {
                    break;
                }
            }
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
            if let Some(t) = self.ppp.as_ref().and_then(ppp::Sessions::poll_timeout) {
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
                    self.timers(now);
                }
                () = tokio::time::sleep_until(wake.into()) => self.timers(Instant::now()),
                Some(()) = signals.recv() => return End::Interrupted,
            }
        }
    }

    /// Runs the engine's and the PPP links' timers.
    fn timers(&mut self, now: Instant) {
        let t = self.t(now);
        self.ep.handle_timeout(t);
        if let Some(ppp) = &mut self.ppp {
            ppp.handle_timeout(t, &mut sender(&self.sockets, &mut self.send_errors));
        }
    }

    fn print_progress(&self) {
        let ppp = self
            .ppp
            .as_ref()
            .map(|p| format!(", PPP {}/{} up", p.up_now(), self.sessions.len()))
            .unwrap_or_default();
        eprintln!(
            "l2tp-loadgen: {:?}: tunnels {}/{} up, sessions {}/{} up{ppp}, {} failed, {} \
             retransmissions",
            self.phase,
            self.count_t(|s| s == TState::Up),
            self.tunnels.len(),
            self.count_s(|s| s == SState::Up),
            self.sessions.len(),
            self.reasons.values().sum::<u64>()
                + self.ppp.as_ref().map_or(0, |p| p.failures() as u64),
            self.ep.stats().retransmissions
        );
    }

    /// A datagram: data messages go to the PPP links, everything else to the engine.
    fn input(&mut self, now: Instant, d: Inbound) {
        let t = self.t(now);
        if let Some(&local) = self.sockets.local.get(d.socket) {
            let packet = Packet::parse(&d.data, Encapsulation::Udp);
            match (&mut self.ppp, packet) {
                (Some(ppp), Ok(p @ (Packet::V2Data { .. } | Packet::V3Data { .. }))) => {
                    ppp.handle_data(t, p, &mut sender(&self.sockets, &mut self.send_errors));
                }
                (_, packet) => self
                    .ep
                    .handle_packet(t, local, d.from, Encapsulation::Udp, packet),
            }
        }
        self.pool.put(d.data);
    }

    /// Opens tunnels, then sessions (round robin over the tunnels that are up), while fewer
    /// than `--concurrency` are being set up.
    fn fill(&mut self, now: Instant) {
        while self.in_setup() < self.plan.concurrency {
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
        let t = self.t(Instant::now());
        if let Some(ppp) = &mut self.ppp {
            ppp.expire(t, why);
        }
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
            while let Some(si) = self.ppp.as_mut().and_then(ppp::Sessions::pop_close) {
                progress = true;
                self.close_session(now, si);
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

    /// The PPP of session `si` ended on our side: its L2TP session goes too (CDN).
    fn close_session(&mut self, now: Instant, si: usize) {
        let per = self.plan.sessions.max(1);
        let Some(tid) = self.tunnels.get(si / per).map(|t| t.tid) else {
            return;
        };
        let Some(sid) = self.sessions.get(si).map(|s| s.sid) else {
            return;
        };
        let cmd = Command::CloseSession {
            tunnel_id: tid,
            session_id: sid,
        };
        let _ = self.ep.handle_command(self.t(now), cmd);
    }
}
