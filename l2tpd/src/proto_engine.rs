//! The protocol engine: [`ProtoEngine`] implements [`Engine`] over
//! [`l2tp_proto::Endpoint`], the sans-IO L2TP state machines.
//!
//! What the adapter adds to the endpoint:
//!
//! - **time and randomness**: `std::time::Instant` is mapped onto the engine's microsecond
//!   [`l2tp_proto::time::Instant`] (epoch: the adapter's creation); ids, challenges, nonces and
//!   cookies come from the operating system ([`OsRng`], `getrandom`);
//! - **config**: tunnel and session settings of `l2tp_config` become
//!   [`TunnelConfig`]/[`SessionConfig`] ([`tunnel_config`], [`session_config`]);
//! - **server role**: an incoming SCCRQ picks its peer profile with
//!   [`l2tp_config::Config::match_peer`] (Host Name AVP, else longest prefix, else `default`)
//!   and that profile's tunnel profile; `deny_remote_tunnel_creates`, `drain_tunnels`,
//!   `max_tunnels` and `max_sessions` refuse with the RFC result codes, and the peer profile's
//!   `lac_lns` limits which L2TPv2 calls the peer may place;
//! - **client role**: `tunnel` and `session` instances are brought up at start and kept up:
//!   after a failure they are retried with exponential back-off (1 s, doubling) capped at
//!   `tunnel_persist_pend_timeout` / `session_persist_pend_timeout`;
//! - **reload**: [`l2tp_config::diff`] decides which instances are created, torn down (StopCCN
//!   or CDN) or re-created; untouched ones are not touched at all;
//! - **sockets**: every UDP tunnel asks the shell for its own connected socket
//!   ([`SocketChange`]), and its datagrams are routed to it;
//! - **views**: engine tunnel and session records plus the adapter's bookkeeping (names,
//!   profiles, creator, uptime) become the `show` answers and the watchers' events.
//!
//! Secrets are copied into the engine's own redacting type and never logged.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use l2tp_config::{self as cfg, Config, ConfigDiff};
use l2tp_ctl::{
    self as ctl, Counts, CtlError, DebugTarget, ErrorKind, EventKind, Response, Selector,
    SessionDetail, SessionInfo, SystemStats, TunnelDetail, TunnelInfo,
};
use l2tp_proto::wire::header::{Cookie, Encapsulation, L2SpecificSublayer, Version};
use l2tp_proto::wire::message::MessageType;
use l2tp_proto::wire::result::result_code::{cdn, stop_ccn};
use l2tp_proto::{
    self as proto, CallType, Command as PCommand, CommandOutcome, Decision, Endpoint,
    EndpointConfig, Event as PEvent, Refusal, SessionConfig, SessionHandle, SessionState,
    TunnelConfig, TunnelHandle, TunnelState,
};

use crate::core::HostFacts;
use crate::dataplane::{DataplaneOutcome, DataplaneRequest, PppSpec, SessionSpec, TunnelSpec};
use crate::engine::{
    Command, Datagram, Engine, EngineEvent, SocketChange, Transmit, Transport, TunnelSocket,
};
use crate::notice;
use crate::scripts::{self, ScriptEvent, SessionFacts};
use crate::tables::{Flags, InstanceKind, Tables};
use crate::view;

mod statics;

/// The first wait before retrying a persistent instance; it doubles up to the configured cap.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Randomness from the operating system (`getrandom(2)`).
#[derive(Debug, Default)]
pub struct OsRng;

impl proto::Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if let Err(e) = getrandom::fill(buf) {
            // Predictable ids, challenges and nonces would be a security hole: stop instead.
            crate::critical!("the operating system's random number generator failed: {e}");
            std::process::abort();
        }
    }
}

/// Who made a tunnel or session, and under which name.
#[derive(Clone, Debug)]
struct Origin {
    created_by: ctl::CreatedBy,
    name: Option<String>,
}

impl Origin {
    /// An instance's: it has a name.
    fn instance(created_by: ctl::CreatedBy, name: &str) -> Self {
        Origin {
            created_by,
            name: Some(name.to_owned()),
        }
    }
}

#[derive(Debug)]
struct TunnelRec {
    tid: u32,
    peer_tid: u32,
    origin: Origin,
    profile: String,
    session_profile: String,
    pw_profile: String,
    lac_lns: cfg::LacLns,
    settings: cfg::TunnelSettings,
    debug: bool,
    created: Instant,
    up: bool,
    down: bool,
    socket: Option<(SocketAddr, SocketAddr)>,
    last_result: Option<ctl::ResultCode>,
    rx: u64,
    tx: u64,
}

impl TunnelRec {
    /// A tunnel's record: profiles as its tunnel profile names them, the peer not limited to
    /// one role.
    fn new(
        tid: u32,
        peer_tid: u32,
        origin: Origin,
        profile: String,
        settings: cfg::TunnelSettings,
        now: Instant,
    ) -> Self {
        TunnelRec {
            tid,
            peer_tid,
            origin,
            profile,
            session_profile: settings.session_profile_name.clone(),
            pw_profile: settings.pseudowire_profile_name.clone(),
            lac_lns: cfg::LacLns::Both,
            debug: settings.debug,
            settings,
            created: now,
            up: false,
            down: false,
            socket: None,
            last_result: None,
            rx: 0,
            tx: 0,
        }
    }

    /// The record of tunnel instance `name` (a `tunnel` block or `l2tpctl create tunnel`).
    fn for_instance(
        tid: u32,
        peer_tid: u32,
        name: &str,
        created_by: ctl::CreatedBy,
        resolved: &cfg::ResolvedTunnel,
        now: Instant,
    ) -> Self {
        let origin = Origin::instance(created_by, name);
        let s = resolved.settings.clone();
        Self::new(tid, peer_tid, origin, resolved.profile.clone(), s, now)
    }
}

#[derive(Debug)]
struct SessionRec {
    tunnel: u64,
    tid: u32,
    sid: u32,
    peer_tid: u32,
    peer_sid: u32,
    origin: Origin,
    profile: String,
    pw_profile: String,
    /// Shared by the sessions resolved from the same profiles (see `ProfileCache`).
    settings: Arc<cfg::SessionSettings>,
    pseudowire: Arc<cfg::PseudowireSettings>,
    pw_type: u16,
    debug: bool,
    created: Instant,
    up: bool,
    down: bool,
    interface_name: Option<String>,
    last_result: Option<ctl::ResultCode>,
    /// The parent tunnel's name, for scripts.
    tunnel_name: Option<String>,
}

/// The ids of a session: ours and the peer's.
#[derive(Clone, Copy, Debug)]
struct SessionIds {
    tid: u32,
    sid: u32,
    peer_tid: u32,
    peer_sid: u32,
}

/// The profiles a session was made from, and their settings.
#[derive(Debug)]
struct SessionProfiles {
    profile: String,
    pw_profile: String,
    settings: Arc<cfg::SessionSettings>,
    pseudowire: Arc<cfg::PseudowireSettings>,
}

impl SessionRec {
    /// A session's record, in tunnel `tunnel`.
    fn new(
        tunnel: u64,
        ids: SessionIds,
        origin: Origin,
        profiles: SessionProfiles,
        pw_type: u16,
        now: Instant,
        tunnel_name: Option<String>,
    ) -> Self {
        SessionRec {
            tunnel,
            tid: ids.tid,
            sid: ids.sid,
            peer_tid: ids.peer_tid,
            peer_sid: ids.peer_sid,
            origin,
            profile: profiles.profile,
            pw_profile: profiles.pw_profile,
            debug: profiles.settings.debug,
            settings: profiles.settings,
            pseudowire: profiles.pseudowire,
            pw_type,
            created: now,
            up: false,
            down: false,
            interface_name: None,
            last_result: None,
            tunnel_name,
        }
    }

    /// The record of session instance `name` (a `session` block or `l2tpctl create session`)
    /// in tunnel `tunnel`.
    fn for_instance(
        tunnel: u64,
        ids: SessionIds,
        origin: Origin,
        resolved: &cfg::ResolvedSession,
        pw_type: u16,
        now: Instant,
        tunnel_name: Option<String>,
    ) -> Self {
        let profiles = SessionProfiles {
            profile: resolved.profile.clone(),
            pw_profile: resolved.pseudowire_profile.clone(),
            settings: Arc::new(resolved.settings.clone()),
            pseudowire: Arc::new(resolved.pseudowire.clone()),
        };
        Self::new(tunnel, ids, origin, profiles, pw_type, now, tunnel_name)
    }
}

/// A persistent instance (`tunnel` or `session` block, or `l2tpctl create`).
#[derive(Debug)]
struct Instance<R> {
    resolved: R,
    created_by: ctl::CreatedBy,
    /// The live tunnel or session, by handle.
    handle: Option<u64>,
    backoff: Duration,
    retry_at: Option<Instant>,
    /// No more retries (deleted through `l2tpctl`, or `persist false` after a failure).
    stopped: bool,
    /// Why its last attempt went down, shown while it waits.
    last_result: Option<ctl::ResultCode>,
}

impl<R> Instance<R> {
    fn new(resolved: R, created_by: ctl::CreatedBy) -> Self {
        Self {
            resolved,
            created_by,
            handle: None,
            backoff: FIRST_RETRY,
            retry_at: None,
            stopped: false,
            last_result: None,
        }
    }

    fn schedule_retry(&mut self, now: Instant, cap: Duration) -> Duration {
        let wait = self.backoff.min(cap);
        self.retry_at = Some(now + wait);
        self.backoff = (self.backoff * 2).min(cap);
        wait
    }
}

/// The real protocol engine. See the [module documentation](self).
#[derive(Debug)]
pub struct ProtoEngine {
    ep: Endpoint,
    epoch: Instant,
    config: Config,
    facts: HostFacts,
    next_handle: u64,
    tunnels: BTreeMap<u64, TunnelRec>,
    /// Boxed: a map node then holds pointers, not half-empty slots of whole records.
    sessions: BTreeMap<u64, Box<SessionRec>>,
    by_tid: HashMap<u32, u64>,
    tunnel_instances: BTreeMap<String, Instance<cfg::ResolvedTunnel>>,
    session_instances: BTreeMap<String, Instance<cfg::ResolvedSession>>,
    events: VecDeque<EngineEvent>,
    transmits: VecDeque<Transmit>,
    shutting_down: bool,
    tunnel_setup_failures: u64,
    session_setup_failures: u64,
    refused_tunnels: u64,
    tunnels_refused: BTreeMap<String, u64>,
    sessions_refused: BTreeMap<String, u64>,
    /// The parameters of tunnels created with `l2tpctl`, to check their sessions against.
    cli_tunnels: BTreeMap<String, Vec<(String, String)>>,
    /// Static tunnels (no control connection), by handle.
    statics: HashMap<u64, statics::StaticTunnel>,
    /// Static sessions, by handle.
    static_sessions: std::collections::HashSet<u64>,
    /// Log lines for discarded input, within a budget.
    discard_log: crate::discards::DiscardLog,
    /// Counts, the session index and the retry queue, kept in step with the tables above.
    tables: Tables,
    /// Profiles resolved for sessions accepted from the network; emptied by a reload.
    profile_cache: ProfileCache,
}

/// What a session accepted from the network gets from its profiles, by (session profile,
/// the tunnel's pseudowire profile, pseudowire type): resolved once and shared, so that a
/// session costs a few pointers rather than copies of its settings.
type ProfileCache = HashMap<(String, String, u16), ResolvedProfiles>;

#[derive(Debug, Clone)]
struct ResolvedProfiles {
    settings: Arc<cfg::SessionSettings>,
    pw_profile: String,
    pseudowire: Arc<cfg::PseudowireSettings>,
    config: Arc<SessionConfig>,
}

fn ctl_err(kind: ErrorKind, msg: impl Into<String>) -> CtlError {
    CtlError::new(kind, msg)
}

/// The parser's problems with `l2tpctl create` parameters, one per line.
fn invalid_params(what: &str, name: &str, problems: &[String]) -> CtlError {
    let mut msg = format!("cannot create {what} \"{name}\":");
    for p in problems {
        msg.push_str("\n  ");
        msg.push_str(p);
    }
    ctl_err(ErrorKind::InvalidConfig, msg)
}

fn no_tunnel(t: &Selector) -> CtlError {
    ctl_err(ErrorKind::NotFound, format!("no tunnel {t}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn event(kind: EventKind, tid: u32) -> ctl::Event {
    ctl::Event {
        event: kind,
        time_ms: now_ms(),
        tid,
        peer_tid: None,
        sid: None,
        peer_sid: None,
        name: None,
        profile: None,
        pw_profile: None,
        peer: None,
        version: None,
        encap: None,
        pseudowire_type: None,
        interface_name: None,
        result: None,
    }
}

fn result_code(reason: &proto::DownReason) -> ctl::ResultCode {
    ctl::ResultCode {
        result: reason.result,
        error: reason.error.unwrap_or(0),
        message: reason.message.clone(),
    }
}

/// The session's interface: the data plane's name, else a configured name that is not a
/// template.
fn session_interface(rec: &SessionRec) -> Option<String> {
    rec.interface_name.clone().or_else(|| {
        rec.settings
            .interface_name
            .clone()
            .or_else(|| rec.pseudowire.interface_name.clone())
            .filter(|n| !n.contains('%'))
    })
}

/// The script of session event `kind` of `rec`.
fn session_script(kind: EventKind, rec: &SessionRec) -> ScriptEvent {
    let interface_name = session_interface(rec);
    let facts = SessionFacts {
        tunnel_name: rec.tunnel_name.as_deref(),
        session_name: rec.origin.name.as_deref(),
        profile: Some(&rec.profile),
        pw_profile: Some(&rec.pw_profile),
        pw_type: rec.pw_type,
        user_data: rec.settings.user_data.as_deref(),
        remote_end_id: rec.settings.remote_end_id.as_ref().map(|r| r.as_bytes()),
        bridge: rec.pseudowire.bridge.as_deref(),
        interface_name: interface_name.as_deref(),
        mtu: rec.pseudowire.mtu,
        local_ip: rec.pseudowire.local_ip,
        peer_ip: rec.pseudowire.peer_ip,
        netmask: rec.pseudowire.netmask,
    };
    scripts::session_event(kind, rec.tid, rec.sid, &facts)
}

fn tunnel_state(state: TunnelState, down: bool) -> ctl::State {
    match state {
        _ if down => ctl::State::Closing,
        TunnelState::Idle => ctl::State::Idle,
        TunnelState::WaitCtlReply | TunnelState::WaitCtlConn => ctl::State::Connecting,
        TunnelState::Established => ctl::State::Up,
        TunnelState::Closing => ctl::State::Closing,
    }
}

fn session_state(state: SessionState, down: bool) -> ctl::State {
    match state {
        _ if down => ctl::State::Closing,
        SessionState::Idle => ctl::State::Idle,
        SessionState::Established => ctl::State::Up,
        _ => ctl::State::Connecting,
    }
}

fn encap_of(e: cfg::Encap) -> Encapsulation {
    match e {
        cfg::Encap::Udp => Encapsulation::Udp,
        cfg::Encap::Ip => Encapsulation::Ip,
    }
}

fn transport_of(e: cfg::Encap) -> Transport {
    encap_of(e).into()
}

fn ctl_encap(e: Encapsulation) -> ctl::Encap {
    match e {
        Encapsulation::Udp => ctl::Encap::Udp,
        Encapsulation::Ip => ctl::Encap::Ip,
    }
}

fn cookie(bytes: Option<&[u8]>) -> Option<Cookie> {
    bytes.and_then(Cookie::new)
}

fn window(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

/// The engine's parameters for a tunnel with `settings`. `host_name` and `router_id` are the
/// system's, used when `settings` sets none.
pub fn tunnel_config(
    settings: &cfg::TunnelSettings,
    system: &cfg::System,
    facts: &HostFacts,
) -> TunnelConfig {
    use l2tp_proto::wire::avp::types::{bearer, framing};
    let host_name = settings
        .host_name
        .clone()
        .or_else(|| system.host_name.clone())
        .unwrap_or_else(|| facts.host_name.clone());
    let secret = settings
        .secret
        .as_ref()
        .map(|s| proto::auth::Secret::new(s.as_bytes()))
        .unwrap_or_default();
    let mut framing_caps = 0;
    if settings.framing_caps.sync {
        framing_caps |= framing::SYNC;
    }
    if settings.framing_caps.async_ {
        framing_caps |= framing::ASYNC;
    }
    let mut bearer_caps = 0;
    if settings.bearer_caps.digital {
        bearer_caps |= bearer::DIGITAL;
    }
    if settings.bearer_caps.analog {
        bearer_caps |= bearer::ANALOG;
    }
    TunnelConfig {
        version: match settings.version {
            Some(cfg::L2tpVersion::V2) => proto::VersionMode::V2,
            Some(cfg::L2tpVersion::V3) => proto::VersionMode::V3,
            None => proto::VersionMode::V3WithFallback,
        },
        encap: encap_of(settings.encap),
        host_name: host_name.into_bytes(),
        router_id: system.router_id.unwrap_or(facts.router_id),
        secret,
        auth_mode: match settings.auth_mode {
            cfg::AuthMode::None => proto::AuthMode::None,
            cfg::AuthMode::Simple => proto::AuthMode::Simple,
            cfg::AuthMode::Challenge => proto::AuthMode::Challenge,
        },
        peer_host_name: None,
        hide_avps: settings.hide_avps,
        digest_type: match settings.digest_type {
            cfg::DigestType::HmacMd5 => proto::wire::digest::DigestType::HmacMd5,
            cfg::DigestType::HmacSha1 => proto::wire::digest::DigestType::HmacSha1,
        },
        hello_timeout: Duration::from_secs(settings.hello_timeout.into()),
        idle_timeout: Duration::from_secs(settings.idle_timeout.into()),
        retry_timeout: Duration::from_secs(settings.retry_timeout.into()),
        max_retries: u16::try_from(settings.max_retries).unwrap_or(u16::MAX),
        rx_window: window(settings.rx_window_size),
        tx_window: window(settings.tx_window_size),
        framing_caps,
        bearer_caps,
        use_tiebreaker: settings.use_tiebreaker,
        max_sessions: settings.max_sessions,
        establish_timeout: Duration::from_secs(system.tunnel_establish_timeout.into()),
        udp_checksums: settings.use_udp_checksums,
        ..TunnelConfig::default()
    }
}

/// The engine's parameters for a session with `settings` and pseudowire profile `pw`.
pub fn session_config(
    settings: &cfg::SessionSettings,
    pw: &cfg::PseudowireSettings,
    system: &cfg::System,
) -> SessionConfig {
    let text = |s: &Option<String>| s.as_deref().unwrap_or_default().as_bytes().to_vec();
    let defaults = SessionConfig::default();
    SessionConfig {
        pw_type: settings.pseudowire_type.number(),
        l2spec: match settings.l2spec_type {
            cfg::L2specType::None => L2SpecificSublayer::None,
            cfg::L2specType::Default => L2SpecificSublayer::Default,
        },
        cookie_length: settings.cookie_length,
        cookie: cookie(settings.cookie.as_deref()),
        peer_cookie: cookie(settings.peer_cookie.as_deref()),
        data_sequencing: match settings.data_sequencing {
            cfg::DataSequencing::None => proto::DataSequencing::None,
            cfg::DataSequencing::NonIp => proto::DataSequencing::NonIp,
            cfg::DataSequencing::All => proto::DataSequencing::All,
        },
        remote_end_id: settings
            .remote_end_id
            .as_ref()
            .map(|r| r.as_bytes().to_vec())
            .unwrap_or_default(),
        calling_number: text(&settings.calling_number),
        called_number: text(&settings.called_number),
        sub_address: text(&settings.sub_address),
        private_group_id: text(&settings.priv_group_id),
        tx_connect_speed: settings
            .tx_connect_speed
            .unwrap_or(defaults.tx_connect_speed),
        rx_connect_speed: settings.rx_connect_speed.unwrap_or(0),
        framing_type: match settings.framing_type {
            cfg::Framing::Sync => 1,
            cfg::Framing::Async => 2,
            cfg::Framing::Any => 3,
        },
        bearer_type: match settings.bearer_type {
            cfg::Bearer::Digital => 1,
            cfg::Bearer::Analog => 2,
            cfg::Bearer::Any => 0,
        },
        interface_name: settings
            .interface_name
            .clone()
            .or_else(|| pw.interface_name.clone()),
        establish_timeout: Duration::from_secs(system.session_establish_timeout.into()),
    }
}

impl ProtoEngine {
    /// An engine with no tunnels; [`Engine::apply_config`] starts the config's instances.
    pub fn new(config: &Config, facts: HostFacts) -> Self {
        Self::with_rng(config, facts, Box::new(OsRng))
    }

    /// As [`ProtoEngine::new`] with another source of randomness (tests).
    pub fn with_rng(config: &Config, facts: HostFacts, rng: Box<dyn proto::Rng + Send>) -> Self {
        let ep_config = EndpointConfig {
            // The adapter applies the limits itself, so that a reload can change them.
            max_tunnels: 0,
            max_sessions: 0,
            ..EndpointConfig::default()
        };
        Self {
            ep: Endpoint::new(ep_config, rng),
            epoch: Instant::now(),
            config: config.clone(),
            facts,
            next_handle: 1,
            tunnels: BTreeMap::new(),
            sessions: BTreeMap::new(),
            by_tid: HashMap::new(),
            tunnel_instances: BTreeMap::new(),
            session_instances: BTreeMap::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            shutting_down: false,
            tunnel_setup_failures: 0,
            session_setup_failures: 0,
            refused_tunnels: 0,
            tunnels_refused: BTreeMap::new(),
            sessions_refused: BTreeMap::new(),
            cli_tunnels: BTreeMap::new(),
            statics: HashMap::new(),
            static_sessions: std::collections::HashSet::new(),
            discard_log: crate::discards::DiscardLog::default(),
            tables: Tables::default(),
            profile_cache: HashMap::new(),
        }
    }

    fn t(&self, now: Instant) -> proto::time::Instant {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        proto::time::Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    fn std_time(&self, t: proto::time::Instant) -> Instant {
        self.epoch + Duration::from_micros(t.as_micros())
    }

    fn handle(&mut self) -> u64 {
        let h = self.next_handle;
        self.next_handle += 1;
        h
    }

    fn notify(&mut self, e: ctl::Event) {
        self.events.push_back(EngineEvent::Notify(e));
    }

    fn script(&mut self, e: ScriptEvent) {
        self.events.push_back(EngineEvent::Script(e));
    }

    /// A tunnel event for watchers, with the verbose facts (version, encapsulation, peer), and
    /// its script.
    fn notify_tunnel(&mut self, mut ev: ctl::Event, name: Option<&str>) {
        if let Some(info) = self.ep.tunnel(ev.tid) {
            ev.peer.get_or_insert_with(|| info.remote.to_string());
            ev.version.get_or_insert(info.version.number());
            ev.encap.get_or_insert(ctl_encap(info.encap));
        }
        let script = scripts::tunnel_event(ev.event, ev.tid, name);
        self.notify(ev);
        self.script(script);
    }

    /// A session event for watchers, with the verbose facts (pseudowire type, interface), and
    /// its script.
    fn notify_session(&mut self, mut ev: ctl::Event, rec: &SessionRec) {
        ev.pseudowire_type = Some(ctl::PseudowireType::from_number(rec.pw_type));
        if ev.interface_name.is_none() {
            ev.interface_name = session_interface(rec);
        }
        let script = session_script(ev.event, rec);
        self.notify(ev);
        self.script(script);
    }

    fn tunnel_cap(&self) -> Duration {
        Duration::from_secs(self.config.system().tunnel_persist_pend_timeout.into())
    }

    fn session_cap(&self) -> Duration {
        Duration::from_secs(self.config.system().session_persist_pend_timeout.into())
    }

    /// Logs at notice level when `debug` is set for the tunnel or session, else at debug.
    fn trace(debug: bool, msg: std::fmt::Arguments<'_>) {
        if debug {
            notice!("{msg}");
        } else {
            tracing::debug!("{msg}");
        }
    }

    fn tunnel_debug(&self, tid: u32) -> bool {
        self.by_tid
            .get(&tid)
            .and_then(|h| self.tunnels.get(h))
            .is_some_and(|t| t.debug)
    }

    // ---------------------------------------------------------------- client role

    /// The local address of a tunnel to `peer`: its `local` setting (port: the listen
    /// port of that family), else the first listen address of the peer's family.
    fn local_for(&self, settings: &cfg::TunnelSettings, peer: SocketAddr) -> SocketAddr {
        let listen_port = |v4: bool| {
            self.facts
                .listen
                .iter()
                .find(|a| a.is_ipv4() == v4)
                .map_or(cfg::L2TP_PORT, SocketAddr::port)
        };
        if settings.encap == cfg::Encap::Ip {
            let ip = match &settings.local {
                Some(cfg::Endpoint {
                    host: cfg::Host::Ip(ip),
                    ..
                }) => *ip,
                _ if peer.is_ipv4() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                _ => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            return SocketAddr::new(ip, 0);
        }
        if let Some(cfg::Endpoint {
            host: cfg::Host::Ip(ip),
            port,
        }) = &settings.local
        {
            return SocketAddr::new(*ip, port.unwrap_or_else(|| listen_port(ip.is_ipv4())));
        }
        self.facts
            .listen
            .iter()
            .find(|a| a.is_ipv4() == peer.is_ipv4())
            .copied()
            .unwrap_or_else(|| {
                let ip = if peer.is_ipv4() {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                } else {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                };
                SocketAddr::new(ip, 0)
            })
    }

    fn peer_addr(t: &cfg::ResolvedTunnel) -> Result<SocketAddr, String> {
        let port = if t.settings.encap == cfg::Encap::Ip {
            0
        } else {
            t.peer.port_or_default()
        };
        match &t.peer.host {
            cfg::Host::Ip(ip) => Ok(SocketAddr::new(*ip, port)),
            cfg::Host::Name(name) => (name.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve {name}: {e}"))?
                .next()
                .ok_or_else(|| format!("{name} has no address")),
        }
    }

    /// Brings up tunnel instance `name` (and its session instances).
    fn start_tunnel_instance(&mut self, now: Instant, name: &str) {
        let Some(inst) = self.tunnel_instances.get_mut(name) else {
            return;
        };
        inst.retry_at = None;
        if inst.handle.is_some() || inst.stopped || self.shutting_down {
            return;
        }
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        if resolved.is_static() {
            self.start_static_tunnel(now, name);
            return;
        }
        let outcome = Self::peer_addr(&resolved).and_then(|remote| {
            let local = self.local_for(&resolved.settings, remote);
            let config = tunnel_config(&resolved.settings, self.config.system(), &self.facts);
            let handle = self.handle();
            let r = self
                .ep
                .handle_command(
                    self.t(now),
                    PCommand::OpenTunnel {
                        handle: TunnelHandle(handle),
                        config: Arc::new(config),
                        local,
                        remote,
                    },
                )
                .map_err(|e| format!("cannot open: {e}"))?;
            match r {
                CommandOutcome::Tunnel(tid) => Ok((handle, tid, local, remote)),
                _ => Err("cannot open: no tunnel id".to_owned()),
            }
        });
        let (handle, tid, local, remote) = match outcome {
            Ok(x) => x,
            Err(e) => {
                let cap = self.tunnel_cap();
                let persist = resolved.persist;
                if let Some(inst) = self.tunnel_instances.get_mut(name) {
                    if persist {
                        let wait = inst.schedule_retry(now, cap);
                        self.tables.retry_at(now + wait, InstanceKind::Tunnel, name);
                        tracing::warn!("tunnel \"{name}\": {e}; retrying in {}s", wait.as_secs());
                    } else {
                        inst.stopped = true;
                        tracing::warn!("tunnel \"{name}\": {e}");
                    }
                }
                return;
            }
        };
        let s = &resolved.settings;
        Self::trace(
            s.debug,
            format_args!(
                "tunnel \"{name}\" (tid {tid}): connecting to {remote} from {local} (profile \
                 \"{}\")",
                resolved.profile
            ),
        );
        let rec = TunnelRec::for_instance(tid, 0, name, created_by, &resolved, now);
        self.add_tunnel(handle, rec, transport_of(s.encap), local, remote);
        if let Some(inst) = self.tunnel_instances.get_mut(name) {
            inst.handle = Some(handle);
        }
        let sessions: Vec<String> = self
            .session_instances
            .iter()
            .filter(|(_, i)| i.resolved.tunnel == name)
            .map(|(n, _)| n.clone())
            .collect();
        for s in sessions {
            self.start_session_instance(now, &s);
        }
    }

    /// Asks the shell for the tunnel's own socket (over UDP always; over IP the shell opens one
    /// where the kernel has L2TP/IP sockets).
    fn open_socket(
        &mut self,
        handle: u64,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        let Some(rec) = self.tunnels.get_mut(&handle) else {
            return;
        };
        rec.socket = Some((local, remote));
        self.events
            .push_back(EngineEvent::Socket(SocketChange::Open(TunnelSocket {
                tid: rec.tid,
                transport,
                local,
                remote,
            })));
    }

    /// The live tunnel of tunnel instance `name`, if it can take sessions.
    fn live_tunnel(&self, name: &str) -> Option<(u64, u32)> {
        let h = self.tunnel_instances.get(name)?.handle?;
        let rec = self.tunnels.get(&h).filter(|r| !r.down)?;
        Some((h, rec.tid))
    }

    /// Places the call of session instance `name` in its tunnel, if that tunnel is live.
    fn start_session_instance(&mut self, now: Instant, name: &str) {
        let Some(inst) = self.session_instances.get_mut(name) else {
            return;
        };
        inst.retry_at = None;
        if inst.handle.is_some() || inst.stopped || self.shutting_down {
            return;
        }
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let Some((th, tid)) = self.live_tunnel(&resolved.tunnel) else {
            // Started when its tunnel is; a tunnel instance closed for being idle (no live
            // tunnel, no retry pending) is opened again for it.
            let idle = self
                .tunnel_instances
                .get(&resolved.tunnel)
                .is_some_and(|t| t.handle.is_none() && t.retry_at.is_none() && !t.stopped);
            if idle {
                self.start_tunnel_instance(now, &resolved.tunnel);
            }
            return;
        };
        if self.statics.contains_key(&th) {
            self.start_static_session(now, name, th, tid);
            return;
        }
        let version = self
            .tunnels
            .get(&th)
            .and_then(|t| t.settings.version)
            .unwrap_or(cfg::L2tpVersion::V3);
        let s = &resolved.settings;
        let call = match s.session_type {
            None | Some(cfg::SessionType::Laic) => CallType::Incoming,
            Some(cfg::SessionType::Lnoc) => CallType::Outgoing,
            Some(t @ (cfg::SessionType::Laoc | cfg::SessionType::Lnic)) => {
                if version == cfg::L2tpVersion::V2 {
                    tracing::info!(
                        "session \"{name}\": session_type {t}: the peer places this call; \
                         waiting for it"
                    );
                    return;
                }
                CallType::Incoming
            }
        };
        let config = session_config(s, &resolved.pseudowire, self.config.system());
        let pw_type = config.pw_type;
        let handle = self.handle();
        let r = self.ep.handle_command(
            self.t(now),
            PCommand::OpenSession {
                tunnel_id: tid,
                handle: SessionHandle(handle),
                call,
                config: Arc::new(config),
            },
        );
        let sid = match r {
            Ok(CommandOutcome::Session { session_id, .. }) => session_id,
            other => {
                let cap = self.session_cap();
                if let Some(inst) = self.session_instances.get_mut(name) {
                    let wait = inst.schedule_retry(now, cap);
                    self.tables
                        .retry_at(now + wait, InstanceKind::Session, name);
                    tracing::warn!(
                        "session \"{name}\": cannot place the call ({other:?}); retrying in {}s",
                        wait.as_secs()
                    );
                }
                return;
            }
        };
        Self::trace(
            s.debug || self.tunnel_debug(tid),
            format_args!(
                "session \"{name}\" (tid {tid} sid {sid}): placing {call:?} call (profile \
                 \"{}\", pseudowire profile \"{}\")",
                resolved.profile, resolved.pseudowire_profile
            ),
        );
        let ids = SessionIds {
            tid,
            sid,
            peer_tid: 0,
            peer_sid: 0,
        };
        let origin = (created_by, name);
        self.add_instance_session(now, handle, (th, ids), origin, &resolved, pw_type);
        if let Some(inst) = self.session_instances.get_mut(name) {
            inst.handle = Some(handle);
        }
    }

    fn close_tunnel_handle(&mut self, now: Instant, handle: u64) {
        if self.is_static(handle) {
            self.close_static_tunnel(now, handle);
            return;
        }
        if let Some(rec) = self.tunnels.get(&handle) {
            let tid = rec.tid;
            let _ = self
                .ep
                .handle_command(self.t(now), PCommand::CloseTunnel { tunnel_id: tid });
        }
    }

    fn close_session_handle(&mut self, now: Instant, handle: u64) {
        if self.is_static(handle) {
            self.close_static_session(now, handle, proto::DownCause::Local);
            return;
        }
        if let Some(rec) = self.sessions.get(&handle) {
            let (tid, sid) = (rec.tid, rec.sid);
            let _ = self.ep.handle_command(
                self.t(now),
                PCommand::CloseSession {
                    tunnel_id: tid,
                    session_id: sid,
                },
            );
        }
    }

    fn remove_tunnel_instance(&mut self, now: Instant, name: &str) {
        if let Some(inst) = self.tunnel_instances.remove(name)
            && let Some(h) = inst.handle
        {
            notice!("tunnel \"{name}\": removed; closing it");
            self.close_tunnel_handle(now, h);
        }
    }

    fn remove_session_instance(&mut self, now: Instant, name: &str) {
        if let Some(inst) = self.session_instances.remove(name)
            && let Some(h) = inst.handle
        {
            notice!("session \"{name}\": removed; disconnecting it");
            self.close_session_handle(now, h);
        }
    }

    // ---------------------------------------------------------------- server role

    fn decide(&mut self, now: Instant, d: Decision) {
        match d {
            Decision::Tunnel(req) => self.decide_tunnel(now, req),
            Decision::Session(req) => self.decide_session(now, req),
            _ => {}
        }
    }

    fn create_tunnel(
        &mut self,
        now: Instant,
        name: &str,
        pairs: Vec<(String, String)>,
    ) -> Result<(), CtlError> {
        if self.config.system().deny_local_tunnel_creates {
            return Err(ctl_err(
                ErrorKind::Refused,
                "creating tunnels is switched off (deny_local_tunnel_creates)",
            ));
        }
        if self.shutting_down {
            return Err(ctl_err(ErrorKind::Refused, "l2tpd is shutting down"));
        }
        if let Some(inst) = self.tunnel_instances.get(name)
            && !(inst.created_by == ctl::CreatedBy::Cli && inst.stopped && inst.handle.is_none())
        {
            let from = match inst.created_by {
                ctl::CreatedBy::Config => "the config file",
                _ => "l2tpctl",
            };
            return Err(ctl_err(
                ErrorKind::Refused,
                format!("tunnel \"{name}\" already exists (created by {from})"),
            ));
        }
        let config = cfg::with_instance(&self.config, cfg::InstanceKind::Tunnel, name, &pairs)
            .map_err(|problems| invalid_params("tunnel", name, &problems))?;
        let resolved = config
            .resolve_tunnel(name)
            .ok_or_else(|| ctl_err(ErrorKind::Internal, "the new tunnel did not resolve"))?;
        notice!("l2tpctl: creating tunnel \"{name}\"");
        self.cli_tunnels.insert(name.to_owned(), pairs);
        self.tunnel_instances.insert(
            name.to_owned(),
            Instance::new(resolved, ctl::CreatedBy::Cli),
        );
        self.start_tunnel_instance(now, name);
        Ok(())
    }

    fn create_session(
        &mut self,
        now: Instant,
        tunnel: &Selector,
        name: &str,
        mut pairs: Vec<(String, String)>,
    ) -> Result<(), CtlError> {
        if self.shutting_down {
            return Err(ctl_err(ErrorKind::Refused, "l2tpd is shutting down"));
        }
        // The tunnel: a named instance, by name or by the id of its live tunnel.
        let tunnel_name = match tunnel {
            Selector::Name(n) if self.tunnel_instances.contains_key(n) => n.clone(),
            sel => {
                let h = self.find_tunnel(sel).ok_or_else(|| no_tunnel(sel))?;
                self.tunnels
                    .get(&h)
                    .and_then(|t| t.origin.name.clone())
                    .filter(|n| self.tunnel_instances.contains_key(n))
                    .ok_or_else(|| {
                        ctl_err(
                            ErrorKind::Refused,
                            format!(
                                "tunnel {sel} was created by a peer; sessions can be created \
                                 only in tunnels of the config file or of l2tpctl"
                            ),
                        )
                    })?
            }
        };
        if self
            .tunnel_instances
            .get(&tunnel_name)
            .is_some_and(|i| i.stopped)
        {
            return Err(ctl_err(
                ErrorKind::Refused,
                format!("tunnel \"{tunnel_name}\" was deleted"),
            ));
        }
        if let Some(inst) = self.session_instances.get(name)
            && !(inst.created_by == ctl::CreatedBy::Cli && inst.stopped && inst.handle.is_none())
        {
            return Err(ctl_err(
                ErrorKind::Refused,
                format!("session \"{name}\" already exists"),
            ));
        }
        // A tunnel created with l2tpctl is not in the config: check against both.
        let mut base = self.config.clone();
        if let Some(tp) = self.cli_tunnels.get(&tunnel_name) {
            base = cfg::with_instance(&base, cfg::InstanceKind::Tunnel, &tunnel_name, tp)
                .map_err(|problems| invalid_params("tunnel", &tunnel_name, &problems))?;
        }
        pairs.retain(|(k, _)| k != "tunnel");
        pairs.insert(0, ("tunnel".to_owned(), tunnel_name.clone()));
        let config = cfg::with_instance(&base, cfg::InstanceKind::Session, name, &pairs)
            .map_err(|problems| invalid_params("session", name, &problems))?;
        let resolved = config
            .resolve_session(name)
            .ok_or_else(|| ctl_err(ErrorKind::Internal, "the new session did not resolve"))?;
        notice!("l2tpctl: creating session \"{name}\" in tunnel \"{tunnel_name}\"");
        self.session_instances.insert(
            name.to_owned(),
            Instance::new(resolved, ctl::CreatedBy::Cli),
        );
        self.start_session_instance(now, name);
        Ok(())
    }

    fn refuse_tunnel(&mut self, now: Instant, req: &proto::TunnelRequest, r: Refusal, why: &str) {
        self.refused_tunnels += 1;
        let reason = match why {
            "the peer profile's tunnel profile does not exist" => "no_tunnel_profile",
            "shutting down" => "shutting_down",
            other => other,
        };
        *self.tunnels_refused.entry(reason.to_owned()).or_default() += 1;
        notice!(
            "refusing a tunnel from {} ({why}): StopCCN result {}{}",
            req.remote,
            r.result,
            r.error
                .map_or(String::new(), |e| format!(" error {}", e.code()))
        );
        let _ = self.ep.reject_tunnel(self.t(now), req.id, r);
    }

    fn decide_tunnel(&mut self, now: Instant, req: proto::TunnelRequest) {
        let sys = self.config.system().clone();
        if self.shutting_down {
            let r = Refusal {
                result: stop_ccn::SHUTTING_DOWN,
                error: None,
                message: None,
            };
            return self.refuse_tunnel(now, &req, r, "shutting down");
        }
        if sys.deny_remote_tunnel_creates || sys.drain_tunnels {
            let why = if sys.drain_tunnels {
                "drain_tunnels"
            } else {
                "deny_remote_tunnel_creates"
            };
            return self.refuse_tunnel(now, &req, Refusal::not_authorized(), why);
        }
        if sys.max_tunnels != 0 && self.tables.tunnels.live >= sys.max_tunnels as usize {
            return self.refuse_tunnel(now, &req, Refusal::limit_reached(), "max_tunnels");
        }
        if let Some(name) = self.peer_instance(&req) {
            return self.adopt_tunnel(now, &name, &req);
        }
        let host = String::from_utf8_lossy(&req.host_name).into_owned();
        let peer = self.config.match_peer(req.remote.ip(), Some(&host)).clone();
        let peer_settings = peer.params.resolve();
        let Some(settings) = self
            .config
            .tunnel_profile_settings(&peer_settings.tunnel_profile_name)
        else {
            return self.refuse_tunnel(
                now,
                &req,
                Refusal::no_profile(),
                "the peer profile's tunnel profile does not exist",
            );
        };
        let mut config = tunnel_config(&settings, &sys, &self.facts);
        config.peer_host_name = peer_settings
            .peer_host_name
            .as_ref()
            .map(|h| h.as_bytes().to_vec());
        let what = format!(
            "with tunnel profile \"{}\"",
            peer_settings.tunnel_profile_name
        );
        let Some((handle, tid)) = self.accept_peer_tunnel(now, &req, config, &what) else {
            return;
        };
        // The peer profile names the session and pseudowire profiles when it sets them,
        // else its tunnel profile does.
        let session_profile = if peer.params.is_set("session_profile_name") {
            peer_settings.session_profile_name.clone()
        } else {
            settings.session_profile_name.clone()
        };
        let pw_profile = if peer.params.is_set("pseudowire_profile_name") {
            peer_settings.pseudowire_profile_name.clone()
        } else {
            settings.pseudowire_profile_name.clone()
        };
        Self::trace(
            settings.debug,
            format_args!(
                "tunnel {tid}: accepted from {} (host name \"{host}\", peer profile \"{}\", \
                 tunnel profile \"{}\")",
                req.remote, peer.name, peer_settings.tunnel_profile_name
            ),
        );
        let origin = Origin {
            created_by: ctl::CreatedBy::Net,
            name: None,
        };
        let profile = peer_settings.tunnel_profile_name.clone();
        let mut rec = TunnelRec::new(tid, 0, origin, profile, settings, now);
        // The transport is the one the peer chose (over IP with a UDP profile, for instance
        // under `listen_encap_ip`), as the engine runs it.
        rec.settings.encap = match req.encap {
            Encapsulation::Ip => cfg::Encap::Ip,
            Encapsulation::Udp => cfg::Encap::Udp,
        };
        rec.session_profile = session_profile;
        rec.pw_profile = pw_profile;
        rec.lac_lns = peer_settings.lac_lns;
        self.add_tunnel(handle, rec, req.encap.into(), req.local, req.remote);
    }

    /// The settings a session accepted from the network gets from session profile `profile`
    /// and pseudowire profile `tunnel_pw` (or the default ones).
    fn resolve_profiles(
        &self,
        profile: &str,
        tunnel_pw: &str,
        pw_type: u16,
    ) -> Option<ResolvedProfiles> {
        let settings = self.config.session_profile_settings(profile).or_else(|| {
            self.config
                .session_profile_settings(l2tp_config::DEFAULT_PROFILE)
        })?;
        let pw_profile = settings
            .pseudowire_profile_name
            .clone()
            .unwrap_or_else(|| tunnel_pw.to_owned());
        let pseudowire = self
            .config
            .pseudowire_profile_settings(&pw_profile)
            .or_else(|| {
                self.config
                    .pseudowire_profile_settings(l2tp_config::DEFAULT_PROFILE)
            })
            .unwrap_or_else(|| cfg::PseudowireParams::default().resolve());
        let mut config = session_config(&settings, &pseudowire, self.config.system());
        config.pw_type = pw_type;
        Some(ResolvedProfiles {
            settings: Arc::new(settings),
            pw_profile,
            pseudowire: Arc::new(pseudowire),
            config: Arc::new(config),
        })
    }

    fn decide_session(&mut self, now: Instant, req: proto::SessionRequest) {
        let refuse = |this: &mut Self, result: u16, error, message: &str| {
            let reason = match message {
                "unknown tunnel" => "unknown_tunnel",
                "shutting down" => "shutting_down",
                "max_sessions reached" => "max_sessions",
                "no session profile" => "no_session_profile",
                _ => "lac_lns",
            };
            *this.sessions_refused.entry(reason.to_owned()).or_default() += 1;
            notice!(
                "tunnel {}: refusing a session from the peer: {message}",
                req.tunnel_id
            );
            let r = Refusal {
                result,
                error,
                message: Some(message.to_owned()),
            };
            let _ = this.ep.reject_session(this.t(now), req.id, r);
        };
        let Some(th) = self.by_tid.get(&req.tunnel_id).copied() else {
            return refuse(self, cdn::GENERAL_ERROR, None, "unknown tunnel");
        };
        if self.shutting_down {
            return refuse(self, cdn::ADMINISTRATIVE, None, "shutting down");
        }
        let max = self.config.system().max_sessions;
        if max != 0 && self.tables.sessions.live >= max as usize {
            let r = Refusal::limit_reached();
            return refuse(self, r.result, r.error, "max_sessions reached");
        }
        let Some(t) = self.tunnels.get(&th) else {
            return;
        };
        let v2 = self.ep.tunnel(req.tunnel_id).map(|i| i.version) == Some(Version::V2);
        let allowed = match (req.call, t.lac_lns) {
            _ if !v2 => true,
            (_, cfg::LacLns::Both) => true,
            (CallType::Incoming, l) => l == cfg::LacLns::Lac,
            (CallType::Outgoing, l) => l == cfg::LacLns::Lns,
        };
        if !allowed {
            let msg = match req.call {
                CallType::Incoming => "the peer may not act as a LAC (lac_lns)",
                CallType::Outgoing => "the peer may not act as an LNS (lac_lns)",
            };
            return refuse(self, cdn::NO_FACILITIES_PERMANENT, None, msg);
        }
        if let Some(name) = self.circuit_instance(th, &req) {
            return self.adopt_call(now, th, &name, &req);
        }
        let Some(t) = self.tunnels.get(&th) else {
            return;
        };
        let key = (t.session_profile.clone(), t.pw_profile.clone(), req.pw_type);
        let tdebug = t.debug;
        let resolved = match self.profile_cache.get(&key) {
            Some(r) => r.clone(),
            None => {
                let Some(r) = self.resolve_profiles(&key.0, &key.1, req.pw_type) else {
                    return refuse(self, cdn::GENERAL_ERROR, None, "no session profile");
                };
                self.profile_cache.insert(key.clone(), r.clone());
                r
            }
        };
        let profile = key.0;
        let ResolvedProfiles {
            settings,
            pw_profile,
            pseudowire,
            config,
        } = resolved;
        let handle = self.handle();
        if let Err(e) = self
            .ep
            .accept_session(self.t(now), req.id, SessionHandle(handle), config)
        {
            tracing::warn!("tunnel {}: cannot accept a session: {e}", req.tunnel_id);
            return;
        }
        Self::trace(
            settings.debug || tdebug,
            format_args!(
                "tunnel {} sid {}: accepted {:?} call from the peer (session profile \
                 \"{profile}\", pseudowire profile \"{pw_profile}\")",
                req.tunnel_id, req.session_id, req.call
            ),
        );
        let tunnel_name = self.tunnels.get(&th).and_then(|t| t.origin.name.clone());
        self.sessions.insert(
            handle,
            Box::new(SessionRec::new(
                th,
                SessionIds {
                    tid: req.tunnel_id,
                    sid: req.session_id,
                    peer_tid: 0,
                    peer_sid: req.peer_session_id,
                },
                Origin {
                    created_by: ctl::CreatedBy::Net,
                    name: None,
                },
                SessionProfiles {
                    profile,
                    pw_profile,
                    settings,
                    pseudowire,
                },
                req.pw_type,
                now,
                tunnel_name,
            )),
        );
        let ids = (req.tunnel_id, req.session_id);
        self.tables.session(th, handle, ids, None, Some(Flags::NEW));
    }

    /// Accepts the peer's SCCRQ `req` with `config` (over IP, as L2TPv3); on failure, logs
    /// why (`what`: how it was to be accepted) and refuses it. Returns the tunnel's handle and
    /// id.
    fn accept_peer_tunnel(
        &mut self,
        now: Instant,
        req: &proto::TunnelRequest,
        mut config: TunnelConfig,
        what: &str,
    ) -> Option<(u64, u32)> {
        config.encap = req.encap;
        if req.encap == Encapsulation::Ip {
            config.version = proto::VersionMode::V3;
        }
        let handle = self.handle();
        let t = self.t(now);
        match self
            .ep
            .accept_tunnel(t, req.id, TunnelHandle(handle), Arc::new(config))
        {
            Ok(tid) => Some((handle, tid)),
            Err(e) => {
                tracing::warn!("tunnel from {}: cannot accept {what}: {e}", req.remote);
                let _ = self.ep.reject_tunnel(t, req.id, Refusal::not_authorized());
                None
            }
        }
    }

    /// Records tunnel `rec` under `handle` and asks for its own socket.
    fn add_tunnel(
        &mut self,
        handle: u64,
        rec: TunnelRec,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        let tid = rec.tid;
        self.tunnels.insert(handle, rec);
        self.tables.tunnel(None, Some(Flags::NEW));
        self.by_tid.insert(tid, handle);
        self.open_socket(handle, transport, local, remote);
    }

    /// Records session `handle` (with `ids`) of session instance `name` in tunnel `th`.
    fn add_instance_session(
        &mut self,
        now: Instant,
        handle: u64,
        (th, ids): (u64, SessionIds),
        (created_by, name): (ctl::CreatedBy, &str),
        resolved: &cfg::ResolvedSession,
        pw_type: u16,
    ) {
        let tunnel_name = self.tunnels.get(&th).and_then(|t| t.origin.name.clone());
        self.sessions.insert(
            handle,
            Box::new(SessionRec::for_instance(
                th,
                ids,
                Origin::instance(created_by, name),
                resolved,
                pw_type,
                now,
                tunnel_name,
            )),
        );
        self.tables
            .session(th, handle, (ids.tid, ids.sid), None, Some(Flags::NEW));
    }

    /// The tunnel instance that the peer's SCCRQ `req` can serve: one for that peer address
    /// and encapsulation without a tunnel up (its own attempt lost the tie breaker to this
    /// SCCRQ, RFC 3931 §5.4.3 and RFC 2661 §4.4.3, or waits to try again), so that the two
    /// ends share one control connection and their sessions meet on it.
    fn peer_instance(&self, req: &proto::TunnelRequest) -> Option<String> {
        self.tunnel_instances
            .iter()
            .find(|(_, inst)| {
                let t = &inst.resolved;
                !inst.stopped
                    && !t.is_static()
                    && matches!(t.peer.host, cfg::Host::Ip(ip) if ip == req.remote.ip())
                    && encap_of(t.settings.encap) == req.encap
                    && inst
                        .handle
                        .is_none_or(|h| self.tunnels.get(&h).is_none_or(|r| !r.up))
            })
            .map(|(name, _)| name.clone())
    }

    /// Accepts the peer's SCCRQ `req` as tunnel instance `name`'s tunnel, with the instance's
    /// settings, and places the instance's calls in it.
    fn adopt_tunnel(&mut self, now: Instant, name: &str, req: &proto::TunnelRequest) {
        let Some(inst) = self.tunnel_instances.get(name) else {
            return;
        };
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let config = tunnel_config(&resolved.settings, self.config.system(), &self.facts);
        let what = format!("as tunnel \"{name}\"");
        let Some((handle, tid)) = self.accept_peer_tunnel(now, req, config, &what) else {
            return;
        };
        notice!(
            "tunnel \"{name}\": the tunnel {} opened (tid {tid}) is this tunnel now",
            req.remote
        );
        let rec = TunnelRec::for_instance(tid, 0, name, created_by, &resolved, now);
        self.add_tunnel(handle, rec, req.encap.into(), req.local, req.remote);
        if let Some(inst) = self.tunnel_instances.get_mut(name) {
            inst.handle = Some(handle);
            inst.retry_at = None;
            inst.backoff = FIRST_RETRY;
        }
        // The instance's calls move here; those in its lost tunnel go down with it.
        let sessions: Vec<String> = self
            .session_instances
            .iter_mut()
            .filter(|(_, s)| s.resolved.tunnel == name)
            .map(|(n, s)| {
                s.handle = None;
                s.retry_at = None;
                s.backoff = FIRST_RETRY;
                n.clone()
            })
            .collect();
        for s in sessions {
            self.start_session_instance(now, &s);
        }
    }

    /// The session instance of tunnel `th`'s instance that the peer's call `req` is for: one
    /// with the same `remote_end_id` (RFC 3931 §5.4.4: the End ID names the circuit) and the
    /// same pseudowire type, whose own call is not up (it lost a tie breaker to this call, or
    /// waits to try again).
    fn circuit_instance(&self, th: u64, req: &proto::SessionRequest) -> Option<String> {
        let end_id = req.remote_end_id.as_deref().filter(|e| !e.is_empty())?;
        let tunnel = self.tunnels.get(&th)?.origin.name.as_deref()?;
        self.session_instances
            .iter()
            .find(|(_, inst)| {
                let s = &inst.resolved.settings;
                inst.resolved.tunnel == tunnel
                    && !inst.stopped
                    && s.remote_end_id.as_ref().map(|r| r.as_bytes()) == Some(end_id)
                    && s.pseudowire_type.number() == req.pw_type
                    && inst
                        .handle
                        .is_none_or(|h| self.sessions.get(&h).is_none_or(|r| !r.up))
            })
            .map(|(name, _)| name.clone())
    }

    /// Accepts the peer's call `req` as session instance `name`'s session, with the instance's
    /// settings; the instance's own call, if any, is left to go (the peer refuses it).
    fn adopt_call(&mut self, now: Instant, th: u64, name: &str, req: &proto::SessionRequest) {
        let Some(inst) = self.session_instances.get(name) else {
            return;
        };
        let resolved = inst.resolved.clone();
        let created_by = inst.created_by;
        let config = session_config(
            &resolved.settings,
            &resolved.pseudowire,
            self.config.system(),
        );
        let handle = self.handle();
        if let Err(e) =
            self.ep
                .accept_session(self.t(now), req.id, SessionHandle(handle), Arc::new(config))
        {
            tracing::warn!("tunnel {}: cannot accept a session: {e}", req.tunnel_id);
            return;
        }
        notice!(
            "session \"{name}\": the peer's call for the same circuit (tid {} sid {}) is this \
             session now",
            req.tunnel_id,
            req.session_id
        );
        let ids = SessionIds {
            tid: req.tunnel_id,
            sid: req.session_id,
            peer_tid: 0,
            peer_sid: req.peer_session_id,
        };
        let origin = (created_by, name);
        self.add_instance_session(now, handle, (th, ids), origin, &resolved, req.pw_type);
        let Some(inst) = self.session_instances.get_mut(name) else {
            return;
        };
        let own = inst.handle.replace(handle);
        inst.retry_at = None;
        inst.backoff = FIRST_RETRY;
        // The instance's own call: one that lost the tie breaker is refused by the peer; one
        // still waiting for its tunnel is withdrawn before it is placed.
        if let Some(rec) = own.and_then(|h| self.sessions.get(&h))
            && self
                .ep
                .session(rec.tid, rec.sid)
                .is_some_and(|i| i.state == proto::SessionState::WaitTunnel)
        {
            let (tunnel_id, session_id) = (rec.tid, rec.sid);
            let _ = self.ep.handle_command(
                self.t(now),
                PCommand::CloseSession {
                    tunnel_id,
                    session_id,
                },
            );
        }
    }

    // ---------------------------------------------------------------- engine output

    /// Answers the engine's decisions, turns its events into the shell's, and moves its
    /// datagrams out, until nothing is left.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            while let Some(d) = self.ep.poll_decision() {
                progress = true;
                self.decide(now, d);
            }
            while let Some(e) = self.ep.poll_event() {
                progress = true;
                self.on_event(now, e);
            }
            while let Some(t) = self.ep.poll_transmit() {
                progress = true;
                self.on_transmit(t);
            }
            if !progress {
                break;
            }
        }
    }

    fn on_transmit(&mut self, t: proto::Transmit) {
        let tid = t.tunnel_id;
        let mut tunnel = None;
        if let Some(rec) = self.by_tid.get(&tid).and_then(|h| self.tunnels.get_mut(h)) {
            // Only a tunnel with a socket of its own is routed to it; others use the listener.
            tunnel = rec.socket.map(|_| tid);
            rec.tx += 1;
            if rec.debug {
                notice!(
                    "tunnel {tid}: sending {} to {}",
                    describe(&t.contents, t.encap),
                    t.remote
                );
            }
        }
        self.transmits.push_back(Transmit {
            transport: t.encap.into(),
            local: Some(t.local),
            remote: t.remote,
            tunnel,
            payload: t.contents,
        });
    }

    fn on_event(&mut self, now: Instant, e: PEvent) {
        match e {
            PEvent::TunnelCreated {
                handle, tunnel_id, ..
            } => {
                let Some(rec) = self.tunnels.get_mut(&handle.0) else {
                    return;
                };
                rec.tid = tunnel_id;
                let mut ev = event(EventKind::TunnelCreated, tunnel_id);
                ev.name = rec.origin.name.clone();
                ev.profile = Some(rec.profile.clone());
                let name = rec.origin.name.clone();
                self.notify_tunnel(ev, name.as_deref());
            }
            PEvent::TunnelUp {
                handle,
                tunnel_id,
                peer_tunnel_id,
                version,
            } => {
                let Some(rec) = self.tunnels.get_mut(&handle.0) else {
                    return;
                };
                let before = Flags::of(rec.up, rec.down);
                rec.up = true;
                self.tables
                    .tunnel(Some(before), Some(Flags::of(rec.up, rec.down)));
                rec.peer_tid = peer_tunnel_id;
                let name = rec.origin.name.clone();
                notice!(
                    "tunnel {tunnel_id}{}: up (peer tid {peer_tunnel_id}, L2TPv{})",
                    name.as_ref().map_or(String::new(), |n| format!(" \"{n}\"")),
                    version.number()
                );
                if let Some(n) = &name
                    && let Some(inst) = self.tunnel_instances.get_mut(n)
                    && inst.handle == Some(handle.0)
                {
                    inst.backoff = FIRST_RETRY;
                }
                let mut ev = event(EventKind::TunnelUp, tunnel_id);
                ev.peer_tid = Some(peer_tunnel_id);
                self.notify_tunnel(ev, name.as_deref());
            }
            PEvent::TunnelDown {
                handle,
                tunnel_id,
                peer_tunnel_id,
                reason,
            } => self.on_tunnel_down(now, handle.0, tunnel_id, peer_tunnel_id, &reason),
            PEvent::TunnelDeleted { handle, tunnel_id } => {
                let mut ev = event(EventKind::TunnelDeleted, tunnel_id);
                let mut name = None;
                if let Some(rec) = self.tunnels.get(&handle.0) {
                    ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
                    ev.result = rec.last_result.clone();
                    ev.version = rec.settings.version.map(|v| match v {
                        cfg::L2tpVersion::V2 => 2,
                        cfg::L2tpVersion::V3 => 3,
                    });
                    ev.encap = Some(ctl_encap(encap_of(rec.settings.encap)));
                    ev.peer = rec.socket.map(|(_, remote)| remote.to_string());
                    name = rec.origin.name.clone();
                }
                self.notify_tunnel(ev, name.as_deref());
                if let Some(rec) = self.tunnels.remove(&handle.0) {
                    self.tables.tunnel(Some(Flags::of(rec.up, rec.down)), None);
                    if self.by_tid.get(&tunnel_id) == Some(&handle.0) {
                        self.by_tid.remove(&tunnel_id);
                    }
                    if rec.socket.is_some() {
                        self.events
                            .push_back(EngineEvent::Socket(SocketChange::Close(tunnel_id)));
                    }
                    Self::trace(rec.debug, format_args!("tunnel {tunnel_id}: deleted"));
                }
            }
            PEvent::SessionCreated {
                handle,
                tunnel_id,
                session_id,
                ..
            } => {
                let Some(rec) = self.sessions.get_mut(&handle.0) else {
                    return;
                };
                let old = (rec.tid, rec.sid);
                rec.sid = session_id;
                self.tables.renumber(handle.0, old, (rec.tid, rec.sid));
                let mut ev = event(EventKind::SessionCreated, tunnel_id);
                ev.sid = Some(session_id);
                ev.name = rec.origin.name.clone();
                ev.profile = Some(rec.profile.clone());
                ev.pw_profile = Some(rec.pw_profile.clone());
                if let Some(rec) = self.sessions.remove(&handle.0) {
                    self.notify_session(ev, &rec);
                    self.sessions.insert(handle.0, rec);
                }
            }
            PEvent::SessionUp {
                handle,
                tunnel_id,
                session_id,
                peer_tunnel_id,
                peer_session_id,
            } => {
                let Some(rec) = self.sessions.get_mut(&handle.0) else {
                    return;
                };
                let before = Flags::of(rec.up, rec.down);
                rec.up = true;
                let after = Flags::of(rec.up, rec.down);
                let ids = (rec.tid, rec.sid);
                self.tables
                    .session(rec.tunnel, handle.0, ids, Some(before), Some(after));
                rec.peer_tid = peer_tunnel_id;
                rec.peer_sid = peer_session_id;
                let name = rec.origin.name.clone();
                let interface_name = rec.interface_name.clone();
                notice!(
                    "session {tunnel_id}/{session_id}{}: up (peer {peer_tunnel_id}/\
                     {peer_session_id})",
                    name.as_ref().map_or(String::new(), |n| format!(" \"{n}\""))
                );
                if let Some(n) = name
                    && let Some(inst) = self.session_instances.get_mut(&n)
                    && inst.handle == Some(handle.0)
                {
                    inst.backoff = FIRST_RETRY;
                }
                let mut ev = event(EventKind::SessionUp, tunnel_id);
                ev.sid = Some(session_id);
                ev.peer_tid = Some(peer_tunnel_id);
                ev.peer_sid = Some(peer_session_id);
                ev.interface_name = interface_name;
                if let Some(rec) = self.sessions.remove(&handle.0) {
                    self.notify_session(ev, &rec);
                    self.sessions.insert(handle.0, rec);
                }
            }
            PEvent::SessionDown {
                handle,
                tunnel_id,
                session_id,
                reason,
            } => self.on_session_down(now, handle.0, tunnel_id, session_id, &reason),
            PEvent::SessionDeleted {
                handle,
                tunnel_id,
                session_id,
            } => {
                let mut ev = event(EventKind::SessionDeleted, tunnel_id);
                ev.sid = Some(session_id);
                if let Some(rec) = self.sessions.remove(&handle.0) {
                    let ids = (rec.tid, rec.sid);
                    let before = Some(Flags::of(rec.up, rec.down));
                    self.tables.session(rec.tunnel, handle.0, ids, before, None);
                    ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
                    ev.peer_sid = (rec.peer_sid != 0).then_some(rec.peer_sid);
                    ev.result = rec.last_result.clone();
                    self.notify_session(ev, &rec);
                } else {
                    self.notify(ev);
                }
            }
            PEvent::WanErrorNotify {
                session_id, errors, ..
            } => {
                tracing::info!("session {session_id}: WAN-Error-Notify from the peer: {errors:?}");
            }
            PEvent::SetLinkInfo {
                session_id, accm, ..
            } => {
                tracing::info!("session {session_id}: Set-Link-Info from the peer: {accm:?}");
            }
            PEvent::Dataplane(req) => self.on_dataplane(req),
            PEvent::Discarded {
                remote,
                tunnel_id,
                problem,
            } => self.discard_log.record(now, remote, tunnel_id, &problem),
            _ => {}
        }
    }

    fn on_tunnel_down(
        &mut self,
        now: Instant,
        handle: u64,
        tid: u32,
        peer_tid: u32,
        reason: &proto::DownReason,
    ) {
        let cap = self.tunnel_cap();
        let Some(rec) = self.tunnels.get_mut(&handle) else {
            return;
        };
        let before = Flags::of(rec.up, rec.down);
        rec.down = true;
        self.tables
            .tunnel(Some(before), Some(Flags::of(rec.up, rec.down)));
        rec.last_result = Some(result_code(reason));
        if !rec.up {
            self.tunnel_setup_failures += 1;
        }
        let name = rec.origin.name.clone();
        notice!(
            "tunnel {tid}{}: down ({:?}, result {} error {}{})",
            name.as_ref().map_or(String::new(), |n| format!(" \"{n}\"")),
            reason.cause,
            reason.result,
            reason.error.unwrap_or(0),
            reason
                .message
                .as_ref()
                .map_or(String::new(), |m| format!(": {m}"))
        );
        let mut ev = event(EventKind::TunnelDown, tid);
        ev.peer_tid = Some(peer_tid);
        ev.result = Some(result_code(reason));
        self.notify_tunnel(ev, name.as_deref());
        let Some(n) = name else { return };
        let shutting_down = self.shutting_down;
        let Some(inst) = self.tunnel_instances.get_mut(&n) else {
            return;
        };
        if inst.handle != Some(handle) {
            return;
        }
        inst.handle = None;
        inst.last_result = Some(result_code(reason));
        for s in self.session_instances.values_mut() {
            if s.resolved.tunnel == n {
                s.handle = None;
                s.retry_at = None;
                s.backoff = FIRST_RETRY;
            }
        }
        let Some(inst) = self.tunnel_instances.get_mut(&n) else {
            return;
        };
        if shutting_down || inst.stopped {
            return;
        }
        if reason.cause == proto::DownCause::IdleTimeout {
            // Closed for having no session: made again when one of its sessions starts.
            notice!("tunnel \"{n}\": idle; opened again for its next session");
            return;
        }
        if inst.resolved.persist {
            let wait = inst.schedule_retry(now, cap);
            self.tables.retry_at(now + wait, InstanceKind::Tunnel, &n);
            notice!("tunnel \"{n}\": retrying in {}s", wait.as_secs());
        } else {
            inst.stopped = true;
        }
    }

    fn on_session_down(
        &mut self,
        now: Instant,
        handle: u64,
        tid: u32,
        sid: u32,
        reason: &proto::DownReason,
    ) {
        let cap = self.session_cap();
        let Some(rec) = self.sessions.get_mut(&handle) else {
            return;
        };
        let before = Flags::of(rec.up, rec.down);
        rec.down = true;
        let after = Flags::of(rec.up, rec.down);
        let ids = (rec.tid, rec.sid);
        self.tables
            .session(rec.tunnel, handle, ids, Some(before), Some(after));
        rec.last_result = Some(result_code(reason));
        if !rec.up {
            self.session_setup_failures += 1;
        }
        let (peer_tid, peer_sid) = (rec.peer_tid, rec.peer_sid);
        let name = rec.origin.name.clone();
        notice!(
            "session {tid}/{sid}{}: down ({:?}, result {} error {}{})",
            name.as_ref().map_or(String::new(), |n| format!(" \"{n}\"")),
            reason.cause,
            reason.result,
            reason.error.unwrap_or(0),
            reason
                .message
                .as_ref()
                .map_or(String::new(), |m| format!(": {m}"))
        );
        let mut ev = event(EventKind::SessionDown, tid);
        ev.sid = Some(sid);
        ev.peer_tid = Some(peer_tid);
        ev.peer_sid = Some(peer_sid);
        ev.result = Some(result_code(reason));
        if let Some(rec) = self.sessions.remove(&handle) {
            self.notify_session(ev, &rec);
            self.sessions.insert(handle, rec);
        }
        let Some(n) = name else { return };
        let shutting_down = self.shutting_down;
        let tunnel_alive = reason.cause != proto::DownCause::TunnelDown;
        let Some(inst) = self.session_instances.get_mut(&n) else {
            return;
        };
        if inst.handle != Some(handle) {
            return;
        }
        inst.handle = None;
        if shutting_down || inst.stopped || !tunnel_alive {
            return;
        }
        let wait = inst.schedule_retry(now, cap);
        self.tables.retry_at(now + wait, InstanceKind::Session, &n);
        notice!("session \"{n}\": retrying in {}s", wait.as_secs());
    }

    fn on_dataplane(&mut self, req: proto::DataplaneRequest) {
        let out = match req {
            proto::DataplaneRequest::InstallTunnel(p) => {
                let debug = self.tunnel_debug(p.tunnel_id);
                DataplaneRequest::InstallTunnel(TunnelSpec {
                    tid: p.tunnel_id,
                    peer_tid: p.peer_tunnel_id,
                    version: match p.version {
                        Version::V2 => cfg::L2tpVersion::V2,
                        Version::V3 => cfg::L2tpVersion::V3,
                    },
                    encap: match p.encap {
                        Encapsulation::Udp => cfg::Encap::Udp,
                        Encapsulation::Ip => cfg::Encap::Ip,
                    },
                    local: p.local,
                    peer: p.remote,
                    udp_checksums: p.udp_checksums,
                    debug,
                })
            }
            proto::DataplaneRequest::RemoveTunnel { tunnel_id } => {
                DataplaneRequest::RemoveTunnel { tid: tunnel_id }
            }
            proto::DataplaneRequest::InstallSession(p) => {
                let Some(rec) = self.sessions.get(&p.handle.0) else {
                    return;
                };
                let pw = cfg::PseudowireType::from_number(p.pw_type);
                DataplaneRequest::InstallSession(Box::new(SessionSpec {
                    tid: p.tunnel_id,
                    sid: p.session_id,
                    peer_tid: p.peer_tunnel_id,
                    peer_sid: p.peer_session_id,
                    pseudowire_type: pw,
                    cookie: p.peer_cookie.as_bytes().to_vec(),
                    peer_cookie: p.cookie.as_bytes().to_vec(),
                    l2spec: match p.l2spec {
                        L2SpecificSublayer::None => cfg::L2specType::None,
                        L2SpecificSublayer::Default => cfg::L2specType::Default,
                    },
                    data_sequencing: rec.settings.data_sequencing,
                    reorder_timeout_ms: rec.settings.reorder_timeout,
                    interface_name: p.interface_name.clone(),
                    mtu: rec.pseudowire.mtu,
                    mac: rec.pseudowire.mac,
                    vlan_id: rec.settings.vlan_id,
                    bridge: rec.pseudowire.bridge.clone(),
                    local_ip: rec.pseudowire.local_ip,
                    peer_ip: rec.pseudowire.peer_ip,
                    netmask: rec.pseudowire.netmask,
                    lns: p.lns,
                    send_seq: p.send_seq,
                    recv_seq: p.recv_seq,
                    ppp: (pw == cfg::PseudowireType::Ppp).then(|| PppSpec {
                        pppd_path: rec.pseudowire.pppd_path.clone(),
                        pppd_options: rec.pseudowire.pppd_options.clone(),
                    }),
                    debug: rec.debug,
                }))
            }
            proto::DataplaneRequest::RemoveSession {
                tunnel_id,
                session_id,
            } => DataplaneRequest::RemoveSession {
                tid: tunnel_id,
                sid: session_id,
            },
            _ => return,
        };
        self.events.push_back(EngineEvent::Dataplane(out));
    }

    // ---------------------------------------------------------------- views

    fn find_tunnel(&self, sel: &Selector) -> Option<u64> {
        // The current tunnel first: by id, or the tunnel instance's own (an earlier tunnel of
        // the same name may still be closing).
        let current = match sel {
            Selector::Id(tid) => self.by_tid.get(tid).copied(),
            Selector::Name(n) => self.tunnel_instances.get(n).and_then(|i| i.handle),
        };
        current
            .filter(|h| self.tunnels.contains_key(h))
            .or_else(|| {
                self.tunnels
                    .iter()
                    .find(|(_, t)| sel.matches(t.tid, t.origin.name.as_deref()))
                    .map(|(h, _)| *h)
            })
    }

    fn find_session(&self, tunnel: u64, sel: &Selector) -> Option<u64> {
        self.sessions
            .iter()
            .find(|(_, s)| s.tunnel == tunnel && sel.matches(s.sid, s.origin.name.as_deref()))
            .map(|(h, _)| *h)
    }

    fn tunnel_info(&self, now: Instant, rec: &TunnelRec) -> TunnelInfo {
        let info = self.ep.tunnel(rec.tid);
        let statik = self.static_view(rec);
        let sessions = self
            .by_tid
            .get(&rec.tid)
            .map_or(0, |h| self.tables.sessions_of(*h));
        debug_assert_eq!(
            sessions as usize,
            self.sessions.values().filter(|s| s.tid == rec.tid).count(),
            "tunnel {}: session count out of step",
            rec.tid
        );
        TunnelInfo {
            tid: rec.tid,
            peer_tid: info.as_ref().map_or(rec.peer_tid, |i| i.peer_tunnel_id),
            name: rec.origin.name.clone(),
            state: match (&info, &statik) {
                (Some(i), _) => tunnel_state(i.state, rec.down),
                (None, Some((state, _, _))) => *state,
                (None, None) => ctl::State::Closing,
            },
            version: info.as_ref().map_or_else(
                || match rec.settings.version {
                    Some(cfg::L2tpVersion::V2) => 2,
                    _ => 3,
                },
                |i| i.version.number(),
            ),
            encap: ctl_encap(encap_of(rec.settings.encap)),
            local: info.as_ref().map_or_else(
                || statik.as_ref().map_or_else(String::new, |s| s.1.clone()),
                |i| i.local.to_string(),
            ),
            peer: info.as_ref().map_or_else(
                || statik.as_ref().map_or_else(String::new, |s| s.2.clone()),
                |i| i.remote.to_string(),
            ),
            created_by: rec.origin.created_by,
            sessions,
            uptime_s: now.saturating_duration_since(rec.created).as_secs(),
            profile: rec.profile.clone(),
            peer_host_name: info
                .as_ref()
                .filter(|i| !i.peer_host_name.is_empty())
                .map(|i| String::from_utf8_lossy(&i.peer_host_name).into_owned()),
        }
    }

    /// A persistent instance between attempts.
    fn idle_tunnel_info(&self, name: &str, inst: &Instance<cfg::ResolvedTunnel>) -> TunnelInfo {
        TunnelInfo {
            tid: 0,
            peer_tid: 0,
            name: Some(name.to_owned()),
            state: ctl::State::Idle,
            version: match inst.resolved.settings.version {
                Some(cfg::L2tpVersion::V2) => 2,
                _ => 3,
            },
            encap: ctl_encap(encap_of(inst.resolved.settings.encap)),
            local: String::new(),
            peer: inst.resolved.peer.to_string(),
            created_by: inst.created_by,
            sessions: 0,
            uptime_s: 0,
            profile: inst.resolved.profile.clone(),
            peer_host_name: None,
        }
    }

    fn session_info(&self, now: Instant, handle: u64, rec: &SessionRec) -> SessionInfo {
        let info = self
            .ep
            .session(rec.tid, rec.sid)
            .filter(|s| s.handle == SessionHandle(handle))
            // A session renumbered without an event is still found, by a scan of its tunnel.
            .or_else(|| {
                self.ep
                    .sessions(rec.tid)
                    .find(|s| s.handle == SessionHandle(handle))
            });
        let tunnel_name = self
            .tunnels
            .get(&rec.tunnel)
            .and_then(|t| t.origin.name.clone());
        let peer_tid = if rec.peer_tid != 0 {
            rec.peer_tid
        } else {
            self.tunnels.get(&rec.tunnel).map_or(0, |t| t.peer_tid)
        };
        SessionInfo {
            tid: rec.tid,
            sid: rec.sid,
            peer_tid,
            peer_sid: info.as_ref().map_or(rec.peer_sid, |i| i.peer_session_id),
            name: rec.origin.name.clone(),
            state: match &info {
                Some(i) => session_state(i.state, rec.down),
                None if self.static_sessions.contains(&handle) && rec.up && !rec.down => {
                    ctl::State::Up
                }
                None => ctl::State::Closing,
            },
            pseudowire_type: ctl::PseudowireType::from_number(rec.pw_type),
            interface_name: rec.interface_name.clone().or_else(|| {
                rec.settings
                    .interface_name
                    .clone()
                    .or_else(|| rec.pseudowire.interface_name.clone())
            }),
            tunnel_name,
            created_by: rec.origin.created_by,
            uptime_s: now.saturating_duration_since(rec.created).as_secs(),
            profile: rec.profile.clone(),
            pseudowire_profile: rec.pw_profile.clone(),
        }
    }
}

/// A short description of a control datagram for debug logs: message type, Ns and Nr. Never
/// any AVP value.
fn describe(datagram: &[u8], encap: Encapsulation) -> String {
    match proto::wire::Packet::parse(datagram, encap) {
        Ok(proto::wire::Packet::Control { header, body, .. }) => {
            let kind = proto::wire::avp::AvpIter::new(body)
                .next()
                .and_then(Result::ok)
                .filter(|a| a.attr_type == 0 && a.value.len() == 2)
                .and_then(|a| {
                    proto::wire::MessageType::from_u16(u16::from_be_bytes([a.value[0], a.value[1]]))
                })
                .map_or_else(
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
        Ok(_) => "data packet".to_owned(),
        Err(_) => "malformed datagram".to_owned(),
    }
}

impl Engine for ProtoEngine {
    fn apply_config(&mut self, now: Instant, config: &Config, diff: Option<&ConfigDiff>) {
        self.config = config.clone();
        let sys = config.system();
        self.ep.set_setup_limits(
            usize::try_from(sys.max_setup_tunnels).unwrap_or(usize::MAX),
            sys.peer_setup_rate,
        );
        self.profile_cache.clear();
        let Some(diff) = diff else {
            for t in config.resolved_tunnels() {
                self.tunnel_instances
                    .insert(t.name.clone(), Instance::new(t, ctl::CreatedBy::Config));
            }
            for s in config.resolved_sessions() {
                self.session_instances
                    .insert(s.name.clone(), Instance::new(s, ctl::CreatedBy::Config));
            }
            let names: Vec<String> = self.tunnel_instances.keys().cloned().collect();
            for n in names {
                self.start_tunnel_instance(now, &n);
            }
            self.pump(now);
            return;
        };
        // Sessions first: a removed or changed session of an untouched tunnel gets its CDN.
        let recreated_tunnels: Vec<&String> = diff
            .tunnels
            .removed
            .iter()
            .chain(&diff.tunnels.changed)
            .collect();
        for name in diff.sessions.removed.iter().chain(&diff.sessions.changed) {
            self.remove_session_instance(now, name);
        }
        for name in &recreated_tunnels {
            // Its sessions go down with it (the engine sends one StopCCN).
            let sessions: Vec<String> = self
                .session_instances
                .iter()
                .filter(|(_, s)| &&s.resolved.tunnel == name)
                .map(|(n, _)| n.clone())
                .collect();
            for s in sessions {
                self.session_instances.remove(&s);
            }
            self.remove_tunnel_instance(now, name);
        }
        // (Re-)create what is new or changed, and the sessions of re-created tunnels.
        for name in diff.tunnels.added.iter().chain(&diff.tunnels.changed) {
            if let Some(t) = config.resolve_tunnel(name) {
                self.tunnel_instances
                    .insert(name.clone(), Instance::new(t, ctl::CreatedBy::Config));
            }
        }
        for s in config.resolved_sessions() {
            if !self.session_instances.contains_key(&s.name)
                && (diff.sessions.added.contains(&s.name)
                    || diff.sessions.changed.contains(&s.name)
                    || recreated_tunnels.contains(&&s.tunnel))
            {
                self.session_instances
                    .insert(s.name.clone(), Instance::new(s, ctl::CreatedBy::Config));
            }
        }
        for name in diff.tunnels.added.iter().chain(&diff.tunnels.changed) {
            self.start_tunnel_instance(now, name);
        }
        let sessions: Vec<String> = self
            .session_instances
            .iter()
            .filter(|(_, s)| s.handle.is_none() && s.retry_at.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        for s in sessions {
            self.start_session_instance(now, &s);
        }
        self.pump(now);
    }

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        let encap: Encapsulation = datagram.transport.into();
        if let Ok(proto::wire::Packet::Control { header, .. }) =
            proto::wire::Packet::parse(datagram.payload, encap)
            && let Some(rec) = self
                .by_tid
                .get(&header.tunnel_id)
                .and_then(|h| self.tunnels.get_mut(h))
        {
            rec.rx += 1;
            if rec.debug {
                notice!(
                    "tunnel {}: received {} from {}",
                    header.tunnel_id,
                    describe(datagram.payload, encap),
                    datagram.remote
                );
            }
        }
        let t = self.t(now);
        self.ep
            .handle_datagram(t, datagram.local, datagram.remote, encap, datagram.payload);
        self.pump(now);
        self.discard_log.tick(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.discard_log.tick(now);
        let t = self.t(now);
        self.ep.handle_timeout(t);
        self.pump(now);
        // Tunnels first, then sessions (a session retries into its tunnel). An entry whose
        // instance has started, gone or been rescheduled since is stale: skipped.
        let mut due = self.tables.due_retries(now);
        due.sort_by_key(|(_, kind, _)| *kind);
        for (_, kind, n) in due {
            let pending = |r: Option<Instant>| r.is_some_and(|at| at <= now);
            match kind {
                InstanceKind::Tunnel => {
                    if self
                        .tunnel_instances
                        .get(&n)
                        .is_some_and(|i| pending(i.retry_at))
                    {
                        notice!("tunnel \"{n}\": retrying");
                        self.start_tunnel_instance(now, &n);
                    }
                }
                InstanceKind::Session => {
                    if self
                        .session_instances
                        .get(&n)
                        .is_some_and(|i| pending(i.retry_at))
                    {
                        notice!("session \"{n}\": retrying");
                        self.start_session_instance(now, &n);
                    }
                }
            }
        }
        self.pump(now);
    }

    fn handle_dataplane_outcome(&mut self, now: Instant, outcome: DataplaneOutcome) {
        match outcome {
            DataplaneOutcome::TunnelInstalled { tid, result } => {
                if let Err(e) = result {
                    tracing::error!("tunnel {tid}: data plane: {e}; closing the tunnel");
                    if let Some(h) = self.by_tid.get(&tid).copied() {
                        self.close_tunnel_handle(now, h);
                    }
                }
            }
            DataplaneOutcome::SessionInstalled { tid, sid, result } => {
                let handle = self.tables.session_handle(tid, sid);
                match (result, handle) {
                    (Ok(installed), Some(h)) => {
                        if let Some(rec) = self.sessions.get_mut(&h)
                            && installed.interface_name.is_some()
                        {
                            rec.interface_name = installed.interface_name;
                        }
                    }
                    (Err(e), Some(h)) => {
                        tracing::error!(
                            "session {tid}/{sid}: data plane: {e}; disconnecting the session"
                        );
                        self.close_session_handle(now, h);
                    }
                    _ => {}
                }
            }
            DataplaneOutcome::Removed => {}
        }
        self.pump(now);
    }

    fn handle_command(&mut self, now: Instant, command: Command) -> Result<Response, CtlError> {
        let r = match command {
            Command::CreateTunnel { name, params } => {
                let pairs: Vec<(String, String)> = params.0;
                self.create_tunnel(now, &name, pairs)?;
                self.pump(now);
                return self
                    .tunnel(now, &Selector::Name(name))
                    .map(Response::Tunnel);
            }
            Command::CreateSession {
                tunnel,
                name,
                params,
            } => {
                self.create_session(now, &tunnel, &name, params.0)?;
                self.pump(now);
                let placed = self
                    .session_instances
                    .get(&name)
                    .and_then(|i| i.handle)
                    .and_then(|h| self.sessions.get(&h))
                    .map(|s| (s.tid, s.sid));
                let Some((tid, sid)) = placed else {
                    return Ok(Response::Done(format!(
                        "session \"{name}\" created; its call is placed when tunnel {tunnel} is up"
                    )));
                };
                return self
                    .session(now, &Selector::Id(tid), &Selector::Id(sid))
                    .map(Response::Session);
            }
            Command::DeleteTunnel(sel) => {
                let h = self.find_tunnel(&sel).ok_or_else(|| no_tunnel(&sel))?;
                let (tid, name) = self
                    .tunnels
                    .get(&h)
                    .map(|t| (t.tid, t.origin.name.clone()))
                    .unwrap_or_default();
                if let Some(n) = &name
                    && let Some(inst) = self.tunnel_instances.get_mut(n)
                {
                    // Not retried until the config is reloaded with it changed.
                    inst.stopped = true;
                    inst.retry_at = None;
                }
                notice!("l2tpctl: deleting tunnel {tid}");
                self.close_tunnel_handle(now, h);
                Ok(Response::Done(format!("tunnel {tid} deleted")))
            }
            Command::DeleteSession(tsel, ssel) => {
                let th = self.find_tunnel(&tsel).ok_or_else(|| no_tunnel(&tsel))?;
                let sh = self.find_session(th, &ssel).ok_or_else(|| {
                    ctl_err(
                        ErrorKind::NotFound,
                        format!("no session {ssel} in tunnel {tsel}"),
                    )
                })?;
                let (sid, name) = self
                    .sessions
                    .get(&sh)
                    .map(|s| (s.sid, s.origin.name.clone()))
                    .unwrap_or_default();
                if let Some(n) = &name
                    && let Some(inst) = self.session_instances.get_mut(n)
                {
                    inst.stopped = true;
                    inst.retry_at = None;
                }
                notice!("l2tpctl: deleting session {sid}");
                self.close_session_handle(now, sh);
                Ok(Response::Done(format!("session {sid} deleted")))
            }
            Command::TunnelLost { tid, why } => {
                let Some(h) = self.by_tid.get(&tid).copied() else {
                    return Err(no_tunnel(&Selector::Id(tid)));
                };
                if self.statics.contains_key(&h) {
                    self.close_tunnel_handle(now, h);
                } else {
                    let _ = self.ep.handle_command(
                        self.t(now),
                        PCommand::LoseTunnel {
                            tunnel_id: tid,
                            why,
                        },
                    );
                }
                Ok(Response::Done(format!("tunnel {tid} closed")))
            }
            Command::SessionLost { tid, sid, why } => {
                let th = self.by_tid.get(&tid).copied();
                let sh = th.and_then(|th| self.find_session(th, &Selector::Id(sid)));
                let Some(sh) = sh else {
                    return Err(ctl_err(
                        ErrorKind::NotFound,
                        format!("no session {sid} in tunnel {tid}"),
                    ));
                };
                if self.is_static(sh) {
                    self.close_static_session(now, sh, proto::DownCause::Local);
                } else {
                    let _ = self.ep.handle_command(
                        self.t(now),
                        PCommand::LoseSession {
                            tunnel_id: tid,
                            session_id: sid,
                            why,
                        },
                    );
                }
                Ok(Response::Done(format!("session {sid} disconnected")))
            }
            Command::Debug(DebugTarget::Tunnel { tunnel }, on) => {
                let h = self
                    .find_tunnel(&tunnel)
                    .ok_or_else(|| no_tunnel(&tunnel))?;
                let rec = self.tunnels.get_mut(&h).ok_or_else(|| no_tunnel(&tunnel))?;
                rec.debug = on;
                let state = if on { "on" } else { "off" };
                notice!("tunnel {}: debug {state}", rec.tid);
                Ok(Response::Done(format!("tunnel {} debug {state}", rec.tid)))
            }
            Command::Debug(DebugTarget::Session { tunnel, session }, on) => {
                let th = self
                    .find_tunnel(&tunnel)
                    .ok_or_else(|| no_tunnel(&tunnel))?;
                let sh = self.find_session(th, &session).ok_or_else(|| {
                    ctl_err(
                        ErrorKind::NotFound,
                        format!("no session {session} in tunnel {tunnel}"),
                    )
                })?;
                let rec = self
                    .sessions
                    .get_mut(&sh)
                    .ok_or_else(|| no_tunnel(&tunnel))?;
                rec.debug = on;
                let state = if on { "on" } else { "off" };
                notice!("session {}/{}: debug {state}", rec.tid, rec.sid);
                Ok(Response::Done(format!("session {} debug {state}", rec.sid)))
            }
        };
        self.pump(now);
        r
    }

    fn begin_shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        for inst in self.tunnel_instances.values_mut() {
            inst.retry_at = None;
        }
        for inst in self.session_instances.values_mut() {
            inst.retry_at = None;
        }
        let handles: Vec<u64> = self
            .tunnels
            .iter()
            .filter(|(_, t)| !t.down)
            .map(|(h, _)| *h)
            .collect();
        if !handles.is_empty() {
            notice!("closing {} tunnel(s)", handles.len());
        }
        for h in handles {
            self.close_tunnel_handle(now, h);
        }
        self.pump(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<EngineEvent> {
        let mut e = self.events.pop_front()?;
        // A session's data plane is set up just before its up event, and its answer (the
        // interface's name) arrives after the event was queued: fill the name in now.
        let iface = |this: &Self, tid: u32, sid: Option<u32>| {
            let h = this.tables.session_handle(tid, sid?)?;
            this.sessions.get(&h).and_then(|r| session_interface(r))
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

    fn poll_timeout(&self) -> Option<Instant> {
        let engine = self.ep.poll_timeout().map(|t| self.std_time(t));
        let retries = self.tables.next_retry();
        match (engine, retries) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn is_idle(&self) -> bool {
        self.ep.all_acked()
    }

    fn finish_shutdown(&mut self) {
        self.tables.clear_records();
        for (_, rec) in std::mem::take(&mut self.sessions) {
            let mut ev = event(EventKind::SessionDeleted, rec.tid);
            ev.sid = Some(rec.sid);
            ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
            ev.peer_sid = (rec.peer_sid != 0).then_some(rec.peer_sid);
            ev.result = rec.last_result.clone();
            self.notify_session(ev, &rec);
        }
        for (_, rec) in std::mem::take(&mut self.tunnels) {
            let mut ev = event(EventKind::TunnelDeleted, rec.tid);
            ev.peer_tid = (rec.peer_tid != 0).then_some(rec.peer_tid);
            ev.result = rec.last_result.clone();
            ev.encap = Some(ctl_encap(encap_of(rec.settings.encap)));
            ev.peer = rec.socket.map(|(_, remote)| remote.to_string());
            self.notify_tunnel(ev, rec.origin.name.as_deref());
        }
    }

    fn tunnels(&self, now: Instant) -> Vec<TunnelInfo> {
        let mut out: Vec<TunnelInfo> = self
            .tunnels
            .values()
            .map(|t| self.tunnel_info(now, t))
            .collect();
        for (name, inst) in &self.tunnel_instances {
            if inst.handle.is_none() {
                out.push(self.idle_tunnel_info(name, inst));
            }
        }
        out
    }

    fn tunnel(&self, now: Instant, tunnel: &Selector) -> Result<TunnelDetail, CtlError> {
        let Some(h) = self.find_tunnel(tunnel) else {
            if let Selector::Name(n) = tunnel
                && let Some(inst) = self.tunnel_instances.get(n)
            {
                return Ok(TunnelDetail {
                    info: self.idle_tunnel_info(n, inst),
                    protocol_state: if inst.stopped {
                        "stopped".into()
                    } else {
                        "waiting to retry".into()
                    },
                    debug: inst.resolved.settings.debug,
                    settings: view::tunnel_settings(&inst.resolved.settings),
                    stats: ctl::TunnelStats::default(),
                    last_result: inst.last_result.clone(),
                });
            }
            return Err(no_tunnel(tunnel));
        };
        let rec = self.tunnels.get(&h).ok_or_else(|| no_tunnel(tunnel))?;
        let state = self
            .ep
            .tunnel(rec.tid)
            .map_or_else(|| "deleted".to_owned(), |i| i.state.to_string());
        Ok(TunnelDetail {
            info: self.tunnel_info(now, rec),
            protocol_state: state,
            debug: rec.debug,
            settings: view::tunnel_settings(&rec.settings),
            stats: {
                let c = self.ep.tunnel_channel_stats(rec.tid).unwrap_or_default();
                ctl::TunnelStats {
                    control_rx_packets: rec.rx,
                    control_tx_packets: rec.tx,
                    retransmits: c.retransmitted,
                    duplicates: c.duplicates,
                    acks_sent: c.acks_sent,
                    acks_received: c.acks_received,
                    out_of_order: c.out_of_order,
                    outside_window: c.outside_window,
                    ..ctl::TunnelStats::default()
                }
            },
            last_result: rec.last_result.clone(),
        })
    }

    fn sessions(
        &self,
        now: Instant,
        tunnel: Option<&Selector>,
    ) -> Result<Vec<SessionInfo>, CtlError> {
        let only = match tunnel {
            Some(sel) => Some(self.find_tunnel(sel).ok_or_else(|| no_tunnel(sel))?),
            None => None,
        };
        Ok(self
            .sessions
            .iter()
            .filter(|(_, s)| only.is_none_or(|h| s.tunnel == h))
            .map(|(h, s)| self.session_info(now, *h, s))
            .collect())
    }

    fn session(
        &self,
        now: Instant,
        tunnel: &Selector,
        session: &Selector,
    ) -> Result<SessionDetail, CtlError> {
        let th = self.find_tunnel(tunnel).ok_or_else(|| no_tunnel(tunnel))?;
        let sh = self.find_session(th, session).ok_or_else(|| {
            ctl_err(
                ErrorKind::NotFound,
                format!("no session {session} in tunnel {tunnel}"),
            )
        })?;
        let rec = self.sessions.get(&sh).ok_or_else(|| no_tunnel(tunnel))?;
        let engine = self
            .ep
            .session(rec.tid, rec.sid)
            .filter(|s| s.handle == SessionHandle(sh))
            // A session renumbered without an event is still found, by a scan of its tunnel.
            .or_else(|| {
                self.ep
                    .sessions(rec.tid)
                    .find(|s| s.handle == SessionHandle(sh))
            });
        let state = engine
            .as_ref()
            .map_or_else(|| "deleted".to_owned(), |s| s.state.to_string());
        Ok(SessionDetail {
            info: self.session_info(now, sh, rec),
            protocol_state: state,
            debug: rec.debug,
            settings: view::session_settings(&rec.settings),
            stats: ctl::SessionStats {
                control_rx_packets: engine.as_ref().map_or(0, |s| s.control_rx.into()),
                control_tx_packets: engine.as_ref().map_or(0, |s| s.control_tx.into()),
                ..ctl::SessionStats::default()
            },
            last_result: rec.last_result.clone(),
        })
    }

    fn counts(&self) -> Counts {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        // Debug builds (every test) check the kept counts against a scan.
        debug_assert_eq!(
            (self.tables.tunnels.up, self.tables.sessions.up),
            (
                self.tunnels.values().filter(|t| t.up && !t.down).count(),
                self.sessions.values().filter(|s| s.up && !s.down).count()
            ),
            "tunnel and session counts out of step"
        );
        Counts {
            tunnels: n(self.tables.tunnels.total),
            tunnels_up: n(self.tables.tunnels.up),
            sessions: n(self.tables.sessions.total),
            sessions_up: n(self.tables.sessions.up),
        }
    }

    fn stats(&self) -> SystemStats {
        let s = self.ep.stats();
        let m = &s.malformed;
        let by_type = |c: &proto::event::MessageCounts| -> BTreeMap<String, u64> {
            MessageType::ALL
                .into_iter()
                .filter(|t| c.get(*t) > 0)
                .map(|t| (t.name().to_owned(), c.get(t)))
                .collect()
        };
        let malformed = [
            ("header", m.header),
            ("body", m.body),
            ("unknown_tunnel", m.unknown_tunnel),
            ("unknown_session", m.unknown_session),
            ("data", m.data),
            ("l2f", m.l2f),
            ("outside_window", m.outside_window),
            ("invalid_nr", m.invalid_nr),
            ("wrong_state", m.wrong_state),
            ("unsupported_message", m.unsupported_message),
            ("call_parameters", m.call_parameters),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
        SystemStats {
            acks_sent: s.acks_sent,
            acks_received: s.acks_received,
            messages_sent: by_type(&s.sent),
            messages_received: by_type(&s.received),
            tunnels_refused: {
                let mut refused = self.tunnels_refused.clone();
                for (reason, n) in [
                    ("peer_setup_rate", m.peer_setup_rate),
                    ("max_setup_tunnels", m.max_setup_tunnels),
                    ("setup_evicted", s.setup_evicted),
                ] {
                    if n > 0 {
                        *refused.entry(reason.to_owned()).or_default() += n;
                    }
                }
                refused
            },
            sessions_refused: self.sessions_refused.clone(),
            malformed,
            rx_discards: m.header
                + m.body
                + m.unknown_tunnel
                + m.unknown_session
                + m.data
                + m.outside_window
                + m.invalid_nr
                + m.peer_setup_rate
                + m.max_setup_tunnels,
            retransmits: s.retransmissions,
            auth_failures: s.auth_failures,
            tunnels_created: s.tunnels_created,
            tunnel_setup_failures: self.tunnel_setup_failures + self.refused_tunnels,
            sessions_created: s.sessions_created,
            session_setup_failures: self.session_setup_failures,
            ..SystemStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        match l2tp_config::parse("t.conf", text) {
            Ok(c) => c,
            Err(d) => panic!("{}", l2tp_config::render_all(&d, text)),
        }
    }

    fn facts() -> HostFacts {
        HostFacts {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 1701))],
            ip_encap: false,
            ip_tunnel_sockets: false,
            control_socket: "/tmp/x.sock".into(),
            host_name: "sys-host".into(),
            router_id: 0x0a00_0001,
        }
    }

    #[test]
    fn tunnel_settings_become_the_engine_s_config() {
        let c = parse(
            "tunnel profile \"p\" {\n version 2\n secret \"s3cret\"\n hello_timeout 0\n \
             retry_timeout 2\n max_retries 7\n rx_window_size 4\n tx_window_size 8\n \
             framing_caps sync\n bearer_caps analog\n use_tiebreaker false\n max_sessions 3\n}\n",
        );
        let Some(s) = c.tunnel_profile_settings("p") else {
            panic!("no profile");
        };
        let t = tunnel_config(&s, c.system(), &facts());
        assert_eq!(t.version, proto::VersionMode::V2);
        assert_eq!(t.auth_mode, proto::AuthMode::Challenge);
        assert_eq!(t.secret.as_bytes(), b"s3cret");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(t.host_name, b"sys-host");
        assert_eq!(t.router_id, 0x0a00_0001);
        assert_eq!(t.hello_timeout, Duration::ZERO);
        assert_eq!(t.retry_timeout, Duration::from_secs(2));
        assert_eq!(
            (t.max_retries, t.rx_window.get(), t.tx_window.get()),
            (7, 4, 8)
        );
        assert_eq!((t.framing_caps, t.bearer_caps), (1, 2));
        assert!(!t.use_tiebreaker);
        assert_eq!(t.max_sessions, 3);
        let d = c.tunnel_profile_settings("default");
        let d = tunnel_config(&d.unwrap_or_else(|| panic!()), c.system(), &facts());
        assert_eq!(d.version, proto::VersionMode::V3WithFallback);
        assert_eq!(d.auth_mode, proto::AuthMode::None);
    }

    #[test]
    fn session_settings_become_the_engine_s_config() {
        let c = parse(
            "session profile \"s\" {\n pseudowire_type eth\n l2spec_type none\n \
             cookie hex:01020304\n data_sequencing all\n remote_end_id \"far\"\n \
             calling_number \"123\"\n tx_connect_speed 1000\n interface_name \"l2tpeth%d\"\n}\n",
        );
        let (Some(s), Some(pw)) = (
            c.session_profile_settings("s"),
            c.pseudowire_profile_settings("default"),
        ) else {
            panic!("no profile");
        };
        let sc = session_config(&s, &pw, c.system());
        assert_eq!(sc.pw_type, 5);
        assert_eq!(sc.l2spec, L2SpecificSublayer::None);
        assert_eq!(sc.cookie_length, 4);
        assert_eq!(
            sc.cookie.map(|k| k.as_bytes().to_vec()),
            Some(vec![1, 2, 3, 4])
        );
        assert_eq!(sc.data_sequencing, proto::DataSequencing::All);
        assert_eq!(sc.remote_end_id, b"far");
        assert_eq!(sc.calling_number, b"123");
        assert_eq!(sc.tx_connect_speed, 1000);
        assert_eq!(sc.interface_name.as_deref(), Some("l2tpeth%d"));
        assert_eq!(sc.establish_timeout, Duration::from_secs(120));
    }

    #[test]
    fn persist_back_off_doubles_up_to_the_cap() {
        let mut i = Instance::new((), ctl::CreatedBy::Config);
        let now = Instant::now();
        let cap = Duration::from_secs(5);
        let waits: Vec<u64> = (0..5)
            .map(|_| i.schedule_retry(now, cap).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn a_config_tunnel_opens_with_its_own_socket_and_shows_as_connecting() {
        let c = parse(
            "tunnel \"t\" {\n peer 192.0.2.1\n version 3\n}\n\
             session \"s\" {\n tunnel \"t\"\n}\n",
        );
        let mut e = ProtoEngine::with_rng(&c, facts(), Box::new(proto::DeterministicRng::new(1)));
        let now = Instant::now();
        e.apply_config(now, &c, None);
        let Some(EngineEvent::Socket(SocketChange::Open(sock))) = e.poll_event() else {
            panic!("no socket request");
        };
        assert_eq!(sock.local, SocketAddr::from(([127, 0, 0, 1], 1701)));
        assert_eq!(sock.remote, SocketAddr::from(([192, 0, 2, 1], 1701)));
        let Some(t) = e.poll_transmit() else {
            panic!("no SCCRQ");
        };
        assert_eq!(t.tunnel, Some(sock.tid));
        let list = e.tunnels(now);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].state, ctl::State::Connecting);
        assert_eq!(list[0].created_by, ctl::CreatedBy::Config);
        assert_eq!(list[0].name.as_deref(), Some("t"));
        let sessions = e.sessions(now, None).unwrap_or_default();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].name.as_deref(), Some("s"));
        // A graceful stop of a tunnel that never heard from its peer has nothing to wait for.
        e.begin_shutdown(now);
        assert!(e.is_idle());
    }
}
