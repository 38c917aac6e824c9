//! The engine: what the daemon decides. [`Engine`] drives `l2tp_proto`'s sans-IO endpoint with
//! the config: it brings up the config's tunnels and sessions and keeps them up, answers peers'
//! requests from the profiles, applies reloads and `l2tpctl` commands, and reports what the
//! shell must do (datagrams to send, sockets to open, data-plane requests, events for watchers
//! and scripts). It does no I/O and reads no clock: every input carries `now`.
//!
//! Each part owns one concern and its own types:
//!
//! | module | owns |
//! | --- | --- |
//! | `registry` | the tunnel and session records, their phase (`Connecting`, `Up`, `Closing`), the id indexes and tallies: the only code that changes a record's phase |
//! | `instances` | the supervisor of the config's and `l2tpctl`'s instances (`Idle`, `Running`, `Stopping`, `Waiting`, `Stopped`), back-off, idle re-open, tie-break adoption, reload diffs |
//! | `admission` | the verdict on a peer's SCCRQ or call: accept, adopt, or refuse with a typed reason |
//! | `lifecycle` | the records following the protocol's events |
//! | `commands` | `l2tpctl create`, `delete`, `debug`, and the data plane's lost tunnels and sessions |
//! | `restart` | the tunnels of a peer that restarted and reuses their tunnel id, removed when its new tunnel is up |
//! | `statics` | static tunnels and sessions, which have no control connection |
//! | `translate` | config → protocol → data-plane specs |
//! | `notify`, `views` | pure functions from records to events, scripts and `show` answers |
//! | `protocol`, `clock` | the endpoint with its clock, and the events standing in for it for static tunnels |
//! | `ctx` | the parts one input borrows together |
//!
//! Secrets are copied into the protocol's own redacting type and never logged.

mod admission;
mod api;
mod clock;
mod commands;
mod ctx;
mod instances;
mod lifecycle;
mod lines;
mod names;
mod notify;
mod pools;
mod ppp;
mod prepared;
mod protocol;
mod registry;
mod restart;
mod statics;
mod translate;
mod views;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use l2tp_config::{Config, ConfigDiff};
use l2tp_ctl::{
    Counts, CtlError, EventKind, Response, Selector, SessionDetail, SessionInfo, SystemStats,
    TunnelDetail, TunnelInfo, text,
};
use l2tp_proto::wire::header::{Encapsulation, HeaderError, Packet};
use l2tp_proto::{self as proto, Decision};

pub use api::{Command, EngineEvent, HostFacts, RadiusOutcome, RadiusRequest};
pub use clock::OsRng;
pub use instances::{Applied, BlockRefusal, InstanceKind, RefusalReason};
pub use prepared::{Prepared, Retired};
pub use translate::{session_config, tunnel_config};
pub use views::{ListCursor, ListPage};

use admission::Admission;
use commands::Answer;
use ctx::Ctx;
use instances::Instances;
use names::Names;
use protocol::Protocol;
use registry::{Install, Registry};
use views::Views;

use crate::dataplane::DataplaneOutcome;
use crate::discards::DiscardLog;
use crate::notice;

/// The engine. See the [module documentation](self).
///
/// Every input takes `now`; after any input the caller drains [`Engine::poll_transmit`] and
/// [`Engine::poll_event`] until both are empty, then calls [`Engine::handle_timeout`] at
/// [`Engine::poll_timeout`].
#[derive(Debug)]
pub struct Engine {
    protocol: Protocol,
    config: Arc<Config>,
    facts: HostFacts,
    registry: Registry,
    names: Names,
    instances: Instances,
    admission: Admission,
    out: notify::Outbox,
    ppp: ppp::state::Ppp,
    discards: DiscardLog,
    /// The log-line budgets of the tunnels' sessions.
    lines: lines::SessionLines,
    /// Control messages for static tunnels, discarded.
    static_discards: u64,
    shutting_down: bool,
}

impl Engine {
    /// An engine with no tunnels; [`Engine::apply_config`] starts the config's instances.
    pub fn new(config: Arc<Config>, facts: HostFacts, now: Instant) -> Self {
        Self::build(config, facts, now, Box::new(OsRng), false)
    }

    /// As [`Engine::new`] with another source of randomness (tests): every random choice,
    /// PPP's included, follows from `rng`.
    pub fn with_rng(
        config: Arc<Config>,
        facts: HostFacts,
        now: Instant,
        rng: Box<dyn proto::Rng + Send>,
    ) -> Self {
        Self::build(config, facts, now, rng, true)
    }

    fn build(
        config: Arc<Config>,
        facts: HostFacts,
        now: Instant,
        mut rng: Box<dyn proto::Rng + Send>,
        deterministic: bool,
    ) -> Self {
        let mut seed = [0u8; 8];
        rng.fill(&mut seed);
        let mut ppp_seed = [0u8; 8];
        rng.fill(&mut ppp_seed);
        let protocol = Protocol::new(now, rng);
        // Magic numbers, challenges and interface identifiers: the operating system's in a
        // deployment, a generator seeded from `rng` in tests.
        let ppp_rng: Box<dyn proto::Rng + Send> = if deterministic {
            Box::new(proto::rng::DeterministicRng::new(u64::from_be_bytes(
                ppp_seed,
            )))
        } else {
            Box::new(OsRng)
        };
        Self {
            instances: Instances::new(u64::from_be_bytes(seed)),
            ppp: ppp::state::Ppp::new(protocol.clock(), ppp_rng),
            protocol,
            config,
            facts,
            registry: Registry::default(),
            names: Names::default(),
            admission: Admission::default(),
            out: notify::Outbox::default(),
            discards: DiscardLog::default(),
            lines: lines::SessionLines::default(),
            static_discards: 0,
            shutting_down: false,
        }
    }

    /// The running config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The facts the engine was started with.
    pub fn facts(&self) -> &HostFacts {
        &self.facts
    }

    fn parts(
        &mut self,
        now: Instant,
    ) -> (Ctx<'_>, &mut Instances, &mut Admission, &mut DiscardLog) {
        (
            Ctx {
                now,
                protocol: &mut self.protocol,
                registry: &mut self.registry,
                names: &mut self.names,
                out: &mut self.out,
                ppp: &mut self.ppp,
                lines: &mut self.lines,
                config: &self.config,
                facts: &self.facts,
                shutting_down: self.shutting_down,
            },
            &mut self.instances,
            &mut self.admission,
            &mut self.discards,
        )
    }

    fn views(&self) -> Views<'_> {
        Views {
            registry: &self.registry,
            instances: &self.instances,
            protocol: &self.protocol,
            closing: &self.ppp.closing,
        }
    }

    // ---------------------------------------------------------------- inputs

    /// Applies a config: the first call (`diff` is `None`) starts every `tunnel` and `session`
    /// instance; later calls apply a reload whose differences are `diff`. Profiles in `config`
    /// apply to tunnels and sessions made afterwards. Returns the `tunnel` and `session` blocks
    /// a reload refused (each logged; the rest of it is applied), and those an earlier reload
    /// refused that this one applied.
    pub fn apply_config(
        &mut self,
        now: Instant,
        config: Arc<Config>,
        diff: Option<&ConfigDiff>,
    ) -> Applied {
        self.apply_prepared(now, Prepared::new(config), diff).0
    }

    /// [`Engine::apply_config`] with the config's ppp policies built beforehand (off the main
    /// loop, on a reload); also returns what the config replaced, to drop off the main loop.
    pub fn apply_prepared(
        &mut self,
        now: Instant,
        next: Prepared,
        diff: Option<&ConfigDiff>,
    ) -> (Applied, Retired) {
        let Prepared { config, ppp } = next;
        let sys = config.system();
        self.protocol
            .set_setup_limits(sys.max_setup_tunnels, sys.peer_setup_rate);
        let old_policies = self.ppp.apply(&config, ppp);
        let old_config = std::mem::replace(&mut self.config, config);
        let retired = Retired {
            _config: old_config,
            _policies: old_policies,
        };
        self.admission.clear_cache();
        let config = Arc::clone(&self.config);
        let (mut ctx, instances, _, _) = self.parts(now);
        if diff.is_none() {
            ppp::accounting_on(&mut ctx);
        }
        let (starts, applied) = instances.apply(&mut ctx, &config, diff);
        // What was removed goes first, so that what is made again finds its ids free.
        self.pump(now);
        let (mut ctx, instances, _, _) = self.parts(now);
        instances.start(&mut ctx, starts);
        self.pump(now);
        (applied, retired)
    }

    /// A datagram arrived on one of the daemon's sockets, from `remote` to `local`, classified
    /// once by [`Packet::parse`]: control messages, and anything the data plane did not take.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        addrs: (SocketAddr, SocketAddr),
        encap: Encapsulation,
        packet: Result<Packet<'_>, HeaderError>,
    ) {
        if let Ok(Packet::Control { header, body, .. }) = &packet
            && let Some(rec) = self.registry.tunnel_by_tid_mut(header.tunnel_id)
        {
            if rec.is_static() {
                // The protocol does not know static tunnels: it would call the id unknown.
                self.static_discards += 1;
                self.discards.record_other(
                    now,
                    (addrs.1, header.tunnel_id),
                    "static_tunnel",
                    format_args!(
                        "a control message for a static tunnel, which has no control \
                         connection: discarded"
                    ),
                );
                return;
            }
            // Messages from anyone but the peer are the protocol's to discard and count
            // (`wrong_peer`), not the tunnel's.
            if self.protocol.ep().is_from_peer(header.tunnel_id, addrs.1) {
                rec.rx += 1;
                if !addrs.0.ip().is_unspecified() {
                    rec.local_seen = Some(addrs.0);
                }
            }
            if rec.debug {
                notice!(
                    "tunnel {}: received {} from {}",
                    header.tunnel_id,
                    describe(header, body),
                    addrs.1
                );
            }
        }
        self.protocol.handle_packet(now, addrs, encap, packet);
        self.pump(now);
        self.discards.tick(now);
        self.lines.tick(now);
    }

    /// The deadline from [`Engine::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.discards.tick(now);
        self.lines.tick(now);
        self.protocol.handle_timeout(now);
        self.pump(now);
        let (mut ctx, instances, _, _) = self.parts(now);
        instances.run_due(&mut ctx);
        ppp::run_due(&mut ctx);
        self.pump(now);
    }

    /// Sets the native-PPP policies and pools directly (tests of the engine alone).
    #[cfg(test)]
    pub(in crate::engine) fn configure_ppp(
        &mut self,
        policies: Vec<ppp::PppPolicy>,
        pools: &[(&str, &[(std::net::Ipv4Addr, std::net::Ipv4Addr)])],
    ) {
        self.ppp
            .configure(policies, pools.iter().map(|(n, r)| (*n, *r)));
        self.ppp.pinned = true;
    }

    /// Native-PPP sessions that carried data ([`crate::dataplane::DataplaneEvent::PppActivity`]).
    pub fn handle_ppp_activity(&mut self, now: Instant, sessions: &[(u32, u32, bool, bool)]) {
        let (mut ctx, _, _, _) = self.parts(now);
        ppp::activity(&mut ctx, sessions);
    }

    /// A PPP control frame from the peer of native-PPP session `tid`/`sid`
    /// ([`crate::dataplane::DataplaneEvent::PppFrame`]).
    /// Malformed ones are counted and logged within the discard log's budget.
    pub fn handle_ppp_frame(&mut self, now: Instant, (tid, sid): (u32, u32), frame: &[u8]) {
        let (mut ctx, _, _, discards) = self.parts(now);
        if let Some(peer) = ppp::frame(&mut ctx, (tid, sid), frame) {
            discards.record_other(
                now,
                (peer, tid),
                "ppp_malformed",
                format_args!(
                    "session {tid}/{sid}: a malformed PPP frame ({}, {} octets) discarded",
                    ppp::protocol_name(frame),
                    frame.len()
                ),
            );
        }
        self.pump(now);
    }

    /// The shell's answer to [`EngineEvent::Resolve`] for `host`: its addresses, or why it has
    /// none (the shell bounds the wait).
    pub fn handle_resolved(
        &mut self,
        now: Instant,
        host: &str,
        result: Result<Vec<std::net::IpAddr>, String>,
    ) {
        self.names.answer(host, now, result);
        let (mut ctx, instances, _, _) = self.parts(now);
        instances.resolved(&mut ctx, host);
        self.pump(now);
    }

    /// The outcome of RADIUS request `key` ([`EngineEvent::Radius`]).
    pub fn handle_radius(&mut self, now: Instant, key: u64, outcome: RadiusOutcome) {
        let (mut ctx, _, _, _) = self.parts(now);
        ppp::radius_outcome(&mut ctx, key, outcome);
        self.pump(now);
    }

    /// An authenticated Disconnect- or CoA-Request (RFC 5176) with `attributes`: the answer to
    /// send, after what it asks is done.
    pub fn handle_dynauth(
        &mut self,
        now: Instant,
        kind: radius_proto::dynauth::DynAuthKind,
        attributes: &radius_proto::Attributes,
    ) -> radius_proto::dynauth::Answer {
        let (mut ctx, _, _, _) = self.parts(now);
        let answer = ppp::dynauth(&mut ctx, kind, attributes);
        self.pump(now);
        answer
    }

    /// The data plane finished a request.
    pub fn handle_dataplane_outcome(&mut self, now: Instant, outcome: DataplaneOutcome) {
        let (mut ctx, _, _, _) = self.parts(now);
        match outcome {
            DataplaneOutcome::TunnelInstalled { tid, result } => {
                if let Err(e) = result {
                    tracing::error!("tunnel {tid}: {e}; closing the tunnel");
                    if let Some(h) = ctx.registry.tunnel_handle(tid) {
                        ctx.close_tunnel(h);
                    }
                }
            }
            DataplaneOutcome::SessionInstalled { tid, sid, result } => {
                let handle = ctx.registry.session_handle(tid, sid);
                match (result, handle) {
                    (Ok(installed), Some(h)) => {
                        let Some(rec) = ctx.registry.session_mut(h) else {
                            return self.pump(now);
                        };
                        if installed.interface_name.is_some() {
                            rec.interface_name = installed.interface_name;
                        }
                        let waited = rec.install == Install::UpWaiting;
                        if rec.install != Install::Refused {
                            rec.install = Install::Settled;
                        }
                        if waited {
                            ctx.registry.session_up(h, now);
                            lifecycle::tell_session_up(&mut ctx, h);
                        }
                    }
                    (Err(e), Some(h)) => {
                        let refused = ctx.registry.session_mut(h).and_then(|rec| {
                            matches!(rec.install, Install::Pending | Install::UpWaiting).then(
                                || {
                                    rec.install = Install::Refused;
                                    rec.origin.name.clone()
                                },
                            )
                        });
                        match refused {
                            // Its only line: it was never up (its up is told once the data
                            // plane has it), and its down is not told.
                            Some(name) => tracing::warn!(
                                "session {tid}/{sid}{}: not set up: {e}; disconnecting the \
                                 session",
                                name.map_or(String::new(), |n| format!(" {}", text::quoted(&n)))
                            ),
                            None => tracing::error!(
                                "session {tid}/{sid}: {e}; disconnecting the session"
                            ),
                        }
                        ctx.fail_session(h, e.to_string());
                    }
                    _ => {}
                }
            }
            DataplaneOutcome::Removed => {}
        }
        self.pump(now);
    }

    /// The shell's answer to [`EngineEvent::StaleTunnels`] for tunnel `tid`: of the stale
    /// tunnels it named, those whose socket has the same netfilter mark as `tid`'s (the same
    /// client), which are removed without a StopCCN.
    pub fn forget_stale_tunnels(&mut self, now: Instant, tid: u32, stale: &[u32]) {
        let (mut ctx, _, _, _) = self.parts(now);
        restart::forget(&mut ctx, tid, stale);
        self.pump(now);
    }

    /// An `l2tpctl` command (or a data plane's report); the answer goes back to the client.
    pub fn handle_command(&mut self, now: Instant, command: Command) -> Result<Response, CtlError> {
        let (mut ctx, instances, _, _) = self.parts(now);
        let answer = commands::execute(&mut ctx, instances, command);
        self.pump(now);
        match answer? {
            Answer::Done(text) => Ok(Response::Done(text)),
            Answer::Tunnel(sel) => self.tunnel(now, &sel).map(Response::Tunnel),
            Answer::Session { name, tunnel } => {
                let placed = self
                    .instances
                    .session(&name)
                    .and_then(|i| i.state.handle())
                    .and_then(|h| self.registry.session(h))
                    .map(|s| (s.tid(), s.sid()));
                let Some((tid, sid)) = placed else {
                    return Ok(Response::Done(format!(
                        "session \"{name}\" created; its call is placed when tunnel {tunnel} is up"
                    )));
                };
                self.session(now, &Selector::Id(tid), &Selector::Id(sid))
                    .map(Response::Session)
            }
        }
    }

    /// Begins a graceful stop: StopCCN to every peer, data-plane state removed.
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        self.instances.cancel_retries();
        let live: Vec<u64> = self
            .registry
            .tunnels()
            .filter(|(_, t)| t.phase().is_live())
            .map(|(h, _)| h)
            .collect();
        if !live.is_empty() {
            notice!("closing {} tunnel(s)", live.len());
        }
        let (mut ctx, _, _, _) = self.parts(now);
        for h in live {
            ppp::end_tunnel(&mut ctx, h, ppp_proto::CloseReason::Shutdown);
        }
        self.pump(now);
    }

    /// The daemon is about to exit: every remaining session and tunnel is reported deleted
    /// (events and scripts), since they end with the process.
    pub fn finish_shutdown(&mut self) {
        let (mut ctx, _, _, _) = self.parts(Instant::now());
        ppp::finish(&mut ctx);
        lifecycle::finish(&mut ctx);
    }

    /// Answers the protocol's decisions and handles its events until nothing is left.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            while let Some(d) = self.protocol.poll_decision() {
                progress = true;
                let (mut ctx, instances, admission, _) = self.parts(now);
                match d {
                    Decision::Tunnel(req) => admission.on_tunnel_request(&mut ctx, instances, req),
                    Decision::Session(req) => {
                        admission.on_session_request(&mut ctx, instances, req)
                    }
                    _ => {}
                }
            }
            while let Some(e) = self.protocol.poll_event() {
                progress = true;
                let (mut ctx, instances, _, discards) = self.parts(now);
                lifecycle::on_event(&mut ctx, instances, discards, e);
            }
            if !progress {
                break;
            }
        }
    }

    // ---------------------------------------------------------------- outputs

    /// The next datagram to send: on its tunnel's own socket when the shell has one for
    /// `tunnel_id`, else on a listen socket. Changes after any input.
    pub fn poll_transmit(&mut self) -> Option<proto::Transmit> {
        let t = self.protocol.poll_transmit()?;
        if let Some(rec) = self.registry.tunnel_by_tid_mut(t.tunnel_id) {
            rec.tx += 1;
            if rec.debug {
                let what = Packet::parse(&t.contents, t.encap).map_or_else(
                    |_| "malformed datagram".to_owned(),
                    |p| match p {
                        Packet::Control { header, body, .. } => describe(&header, body),
                        _ => "data packet".to_owned(),
                    },
                );
                notice!("tunnel {}: sending {what} to {}", t.tunnel_id, t.remote);
            }
        }
        Some(t)
    }

    /// The events whose user script may run (the shell looks at the script directory): the
    /// engine emits [`EngineEvent::Script`] for those only. Every event until told.
    pub fn set_script_kinds(&mut self, kinds: crate::scripts::ScriptKinds) {
        self.out.scripts = kinds;
    }

    /// The next event. Changes after any input.
    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        if let Some(host) = self.names.poll_request() {
            return Some(EngineEvent::Resolve { host });
        }
        let mut e = self.out.pop()?;
        // A session's data plane is set up just before its up event, and its answer (the
        // interface's name) arrives after the event was queued: fill the name in now.
        let iface = |this: &Self, tid: u32, sid: Option<u32>| {
            let h = this.registry.session_handle(tid, sid?)?;
            this.registry.session(h).and_then(|r| r.interface())
        };
        match &mut e {
            EngineEvent::Notify(ev)
                if ev.event == EventKind::SessionUp && ev.interface_name.is_none() =>
            {
                ev.interface_name = iface(self, ev.tid, ev.sid);
            }
            EngineEvent::Script(s)
                if s.kind == EventKind::SessionUp && s.var("INTERFACE_NAME").is_none() =>
            {
                if let Some(n) = iface(self, s.tid, s.sid) {
                    s.set_var("INTERFACE_NAME", n);
                }
            }
            _ => {}
        }
        Some(e)
    }

    /// When [`Engine::handle_timeout`] is next due; `None` when nothing is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.protocol.poll_timeout(),
            self.instances.next_retry(),
            self.ppp.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether nothing is left to do after [`Engine::begin_shutdown`] (no StopCCN waits for
    /// Terminate-Acks, and every peer has acknowledged, or been given up on).
    pub fn is_idle(&self) -> bool {
        self.ppp.closing.is_empty() && self.protocol.ep().all_acked()
    }

    /// Whether no tunnel waits for its native-PPP links' Terminate-Acks before its StopCCN:
    /// after [`Engine::begin_shutdown`], every StopCCN is queued.
    pub fn stopccns_sent(&self) -> bool {
        self.ppp.closing.is_empty()
    }

    // ---------------------------------------------------------------- views

    /// `show tunnels`.
    pub fn tunnels(&self, now: Instant) -> Vec<TunnelInfo> {
        self.views().tunnels(now)
    }

    /// A page of `show tunnels`: at most `budget` tunnels looked at, from `from` (the
    /// beginning for `None`), those in `state` kept; bounded work, so that the event loop
    /// serves its tunnels between two pages of a long listing.
    pub fn tunnels_page(
        &self,
        now: Instant,
        state: Option<l2tp_ctl::State>,
        from: Option<&ListCursor>,
        budget: usize,
    ) -> ListPage<TunnelInfo> {
        self.views().tunnels_page(now, state, from, budget)
    }

    /// A page of `show sessions [TUNNEL]`, as [`Engine::tunnels_page`].
    pub fn sessions_page(
        &self,
        now: Instant,
        filter: (Option<&Selector>, Option<l2tp_ctl::State>),
        from: Option<&ListCursor>,
        budget: usize,
    ) -> Result<ListPage<SessionInfo>, CtlError> {
        self.views().sessions_page(now, filter, from, budget)
    }

    /// `show tunnel ID|NAME`.
    pub fn tunnel(&self, now: Instant, tunnel: &Selector) -> Result<TunnelDetail, CtlError> {
        self.views().tunnel(now, tunnel)
    }

    /// `show sessions [TUNNEL]`.
    pub fn sessions(
        &self,
        now: Instant,
        tunnel: Option<&Selector>,
    ) -> Result<Vec<SessionInfo>, CtlError> {
        self.views().sessions(now, tunnel)
    }

    /// `show session TUNNEL ID|NAME`.
    pub fn session(
        &self,
        now: Instant,
        tunnel: &Selector,
        session: &Selector,
    ) -> Result<SessionDetail, CtlError> {
        self.views().session(now, tunnel, session)
    }

    /// The numbers of tunnels and sessions.
    pub fn counts(&self) -> Counts {
        self.views().counts()
    }

    /// How many addresses of pool `name` native-PPP sessions hold (0 for an unknown pool).
    pub fn pool_in_use(&self, name: &str) -> u64 {
        self.ppp
            .pools
            .usage()
            .into_iter()
            .find(|u| u.name == name)
            .map_or(0, |u| u.in_use)
    }

    /// What a metrics scrape reads of the engine; rows per tunnel and session as `detail` asks.
    pub fn figures(
        &self,
        detail: l2tp_config::MetricsDetail,
    ) -> crate::metrics::snapshot::EngineFigures {
        let mut f = self.views().figures(detail);
        f.pools = self
            .ppp
            .pools
            .usage()
            .into_iter()
            .map(|u| (u.name, u.size, u.in_use))
            .collect();
        f
    }

    /// What `show radius` says of the PPP sessions' RADIUS requests and of dynamic
    /// authorization (the core adds the client's servers and counters).
    pub fn radius_figures(&self) -> l2tp_ctl::RadiusInfo {
        let c = &self.ppp.aaa.counters;
        let owned = |m: &std::collections::BTreeMap<&'static str, u64>| {
            m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        l2tp_ctl::RadiusInfo {
            access_requests: c.access_requests,
            accepts: c.accepts,
            rejects: c.rejects,
            no_answer: c.no_answer,
            local_fallbacks: c.local_fallbacks,
            reauth_requests: c.reauth.requests,
            reauth_accepts: c.reauth.accepts,
            reauth_rejects: c.reauth.rejects,
            reauth_no_answer: c.reauth.no_answer,
            accounting_requests: owned(&c.accounting),
            accounting_responses: c.accounting_responses,
            accounting_lost: c.accounting_lost,
            dynauth: owned(&c.dynauth),
            pending: ppp::radius_pending(&self.ppp) as u64,
            ..l2tp_ctl::RadiusInfo::default()
        }
    }

    /// The engine's counters (the protocol fields of [`SystemStats`]; the core adds its own).
    pub fn stats(&self) -> SystemStats {
        let mut s = views::stats(&self.protocol, &self.registry, &self.admission);
        let owned = |m: &std::collections::BTreeMap<&'static str, u64>| {
            m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        let c = &self.ppp.counters;
        s.ppp_up = c.up;
        s.ppp_down = owned(&c.down);
        s.ppp_auth_failures = owned(&c.auth_failures);
        s.ppp_address_refusals = owned(&c.address_refusals);
        s.radius_values_ignored = owned(&c.values_ignored);
        s.ppp_frames_discarded = c.frames_discarded;
        s.ppp_frames_malformed = c.frames_malformed;
        s.ppp_frames_stale = c.frames_stale;
        s.ppp_renegotiations = c.renegotiations;
        s.ppp_proxy = owned(&c.proxy);
        // Present when 0 too, as every other kind (l2tpctl(1), show system).
        s.malformed
            .insert("static_tunnel".to_owned(), self.static_discards);
        s.rx_discards += self.static_discards;
        s
    }
}

/// A control message for debug logs: message type, Ns and Nr. Never any AVP value.
fn describe(header: &proto::wire::header::ControlHeader, body: &[u8]) -> String {
    let kind = proto::wire::avp::message_type(body).map_or_else(
        || {
            if body.is_empty() {
                "ZLB".to_owned()
            } else {
                "control message".to_owned()
            }
        },
        |m| m.name().to_owned(),
    );
    format!(
        "{kind} (tid {}, ns {}, nr {})",
        header.tunnel_id, header.ns, header.nr
    )
}
