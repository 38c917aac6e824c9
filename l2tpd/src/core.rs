//! The daemon's core: owns the config, the protocol engine and the data plane, answers control
//! requests and applies reloads. It does no I/O of its own apart from re-reading the config
//! file; the shell ([`crate::shell`]) feeds it and carries out what it returns.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use l2tp_config::{Config, ConfigDiff, LoadError, NameDiff};
use l2tp_ctl::{
    ChangeKind, ConfigChange, CtlError, ErrorKind, Event, ProfileKind, ReloadSummary, Request,
    Response, SystemInfo, SystemStats,
};

use crate::dataplane::{Dataplane, DataplaneEvent, DataplaneHost, ShellSocket};
use crate::engine::{Command, Datagram, Engine, EngineEvent, Transmit, Transport};
use crate::logging::{Level, LogHandle};
use crate::notice;
use crate::scripts::ScriptEvent;
use crate::view;

/// Facts about the running daemon that `show system` reports and the config does not hold.
#[derive(Clone, Debug)]
pub struct HostFacts {
    /// The UDP addresses actually bound (ports filled in).
    pub listen: Vec<SocketAddr>,
    /// Whether IP-encapsulation (protocol 115) sockets are open.
    pub ip_encap: bool,
    /// Whether they are the kernel's L2TP/IP sockets, so that each tunnel over IP gets a
    /// socket of its own ([`crate::net::Framing::L2tpIp`]).
    pub ip_tunnel_sockets: bool,
    /// The control socket's path.
    pub control_socket: PathBuf,
    /// The system's host name, used when the config sets no `host_name`.
    pub host_name: String,
    /// The router id derived from a local IPv4 address, used when the config sets none.
    pub router_id: u32,
}

/// The config, the engine and the data plane, with the shell's counters.
#[derive(Debug)]
pub struct Core {
    config: Config,
    config_path: PathBuf,
    engine: Box<dyn Engine>,
    dataplane: DataplaneHost,
    log: Option<LogHandle>,
    debug_steps: u8,
    facts: HostFacts,
    started: Instant,
    stats: SystemStats,
    notifications: VecDeque<Event>,
    scripts: VecDeque<ScriptEvent>,
}

impl Core {
    /// A core for `config`, read from `config_path`. `debug_steps` is the number of `-d`
    /// options; `log`, when given, has its level kept in step with the config.
    pub fn new(
        config: Config,
        config_path: PathBuf,
        engine: Box<dyn Engine>,
        dataplane: Box<dyn Dataplane>,
        facts: HostFacts,
        debug_steps: u8,
        log: Option<LogHandle>,
    ) -> Self {
        Self {
            config,
            config_path,
            engine,
            dataplane: DataplaneHost::new(dataplane, facts.ip_tunnel_sockets),
            log,
            debug_steps,
            facts,
            started: Instant::now(),
            stats: SystemStats::default(),
            notifications: VecDeque::new(),
            scripts: VecDeque::new(),
        }
    }

    /// Starts the config's instances. Call once, inside the runtime.
    pub fn start(&mut self, now: Instant) {
        self.started = now;
        self.engine.apply_config(now, &self.config, None);
        self.drive(now);
    }

    /// Answers a control request. [`Request::Watch`] is the shell's business and is refused
    /// here.
    pub fn handle_request(&mut self, now: Instant, request: Request) -> Result<Response, CtlError> {
        self.stats.control_requests += 1;
        let r = match request {
            Request::ShowSystem => Ok(Response::System(self.system_info(now))),
            Request::ShowTunnels => Ok(Response::Tunnels(self.engine.tunnels(now))),
            Request::ShowTunnel { tunnel } => {
                self.engine.tunnel(now, &tunnel).map(Response::Tunnel)
            }
            Request::ShowSessions { tunnel } => self
                .engine
                .sessions(now, tunnel.as_ref())
                .map(Response::Sessions),
            Request::ShowSession { tunnel, session } => {
                self.engine.session(now, &tunnel, &session).map(|mut d| {
                    self.add_data_stats(&mut d);
                    Response::Session(d)
                })
            }
            Request::ShowProfiles { kind } => {
                Ok(Response::Profiles(view::profiles(&self.config, kind)))
            }
            Request::ShowProfile { kind, name } => view::profile(&self.config, kind, &name)
                .map(Response::Profile)
                .ok_or_else(|| no_profile(kind, &name)),
            Request::Reload => self.reload(now).map(Response::Reloaded),
            Request::CreateTunnel { name, params } => self
                .engine
                .handle_command(now, Command::CreateTunnel { name, params }),
            Request::DeleteTunnel { tunnel } => self
                .engine
                .handle_command(now, Command::DeleteTunnel(tunnel)),
            Request::CreateSession {
                tunnel,
                name,
                params,
            } => self.engine.handle_command(
                now,
                Command::CreateSession {
                    tunnel,
                    name,
                    params,
                },
            ),
            Request::DeleteSession { tunnel, session } => self
                .engine
                .handle_command(now, Command::DeleteSession(tunnel, session)),
            Request::Debug { target, enable } => self
                .engine
                .handle_command(now, Command::Debug(target, enable)),
            Request::Watch => Err(CtlError::new(
                ErrorKind::BadRequest,
                "watch is handled by the connection, not the core",
            )),
            _ => Err(CtlError::new(ErrorKind::NotSupported, "unknown request")),
        };
        self.drive(now);
        r
    }

    /// Re-reads the config file (SIGHUP, `l2tpctl reload`).
    ///
    /// An unreadable or invalid file is rejected whole: every problem is logged and the running
    /// config kept. A valid one is compared with the running config, the differences are
    /// logged and handed to the engine, and it becomes the running config.
    pub fn reload(&mut self, now: Instant) -> Result<ReloadSummary, CtlError> {
        let path = self.config_path.display().to_string();
        let new = match l2tp_config::load(&self.config_path) {
            Ok(c) => c,
            Err(LoadError::Invalid { text, diagnostics }) => {
                self.stats.reload_failures += 1;
                for d in &diagnostics {
                    for line in d.to_string().lines() {
                        tracing::error!("{line}");
                    }
                }
                let summary = format!(
                    "config reload failed: {} problem(s) in {path}; keeping the running config",
                    diagnostics.len()
                );
                tracing::error!("{summary}");
                let rendered = l2tp_config::render_all(&diagnostics, &text);
                return Err(CtlError::new(
                    ErrorKind::InvalidConfig,
                    format!("{rendered}{summary}"),
                ));
            }
            Err(e) => {
                self.stats.reload_failures += 1;
                let msg = format!("config reload failed: {e}; keeping the running config");
                tracing::error!("{msg}");
                return Err(CtlError::new(ErrorKind::InvalidConfig, msg));
            }
        };
        let diff = l2tp_config::diff(&self.config, &new);
        let summary = summarize(&diff, &self.config, &new, self.facts.ip_encap);
        if summary.changes.is_empty() {
            notice!("config reloaded from {path}: no changes");
        } else {
            let changes: Vec<String> = summary.changes.iter().map(|c| c.to_string()).collect();
            notice!("config reloaded from {path}: {}", changes.join(", "));
        }
        for r in &summary.restart_needed {
            tracing::warn!("{r}");
        }
        self.stats.reloads += 1;
        self.config = new;
        self.apply_log_level();
        self.engine.apply_config(now, &self.config, Some(&diff));
        self.drive(now);
        Ok(summary)
    }

    /// A datagram arrived on one of the daemon's sockets. Data packets go to the data plane.
    pub fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        if self
            .dataplane
            .handle_data(datagram.transport, datagram.payload)
        {
            return;
        }
        self.stats.rx_packets += 1;
        self.stats.rx_bytes += datagram.payload.len() as u64;
        self.engine.handle_datagram(now, datagram);
        self.drive(now);
    }

    /// Something the data plane reported: a control message read on a socket it adopted, or a
    /// session whose data plane failed.
    pub fn handle_dataplane_event(&mut self, now: Instant, event: DataplaneEvent) {
        match event {
            DataplaneEvent::Control { tid, packet } => {
                // Without an adopted socket this is a copy the shell has seen already.
                if let Some((local, remote)) = self.dataplane.control_source(tid) {
                    self.stats.rx_packets += 1;
                    self.stats.rx_bytes += packet.len() as u64;
                    self.engine.handle_datagram(
                        now,
                        Datagram {
                            transport: Transport::Udp,
                            local,
                            remote,
                            payload: &packet,
                        },
                    );
                }
            }
            DataplaneEvent::WrongCookie { tid, sid, dropped } => {
                let peer = self
                    .dataplane
                    .peer(tid)
                    .map_or_else(|| "unknown".to_owned(), |p| p.to_string());
                tracing::warn!(
                    "peer {peer}: {dropped} data packet(s) for session {tid}/{sid} dropped: wrong \
                     cookie (RFC 3931 §8.2)"
                );
            }
            DataplaneEvent::TunnelDown { tid, reason } => {
                notice!("tunnel {tid}: {reason}; closing it");
                let r = self
                    .engine
                    .handle_command(now, Command::TunnelLost { tid, why: reason });
                if let Err(e) = r {
                    tracing::debug!("tunnel {tid}: {}", e.message);
                }
            }
            DataplaneEvent::SessionDown { tid, sid, reason } => {
                notice!("session {tid}/{sid}: {reason}; disconnecting it");
                let r = self.engine.handle_command(
                    now,
                    Command::SessionLost {
                        tid,
                        sid,
                        why: reason,
                    },
                );
                if let Err(e) = r {
                    tracing::debug!("session {tid}/{sid}: {}", e.message);
                }
            }
        }
        self.drive(now);
    }

    /// The data plane's event channel, for the shell (the first call takes it).
    pub fn take_dataplane_events(
        &mut self,
    ) -> Option<tokio::sync::mpsc::UnboundedReceiver<DataplaneEvent>> {
        self.dataplane.take_events()
    }

    fn add_data_stats(&self, detail: &mut l2tp_ctl::SessionDetail) {
        let (tid, sid) = (detail.info.tid, detail.info.sid);
        if let Some(d) = self.dataplane.session_stats(tid, sid) {
            let s = &mut detail.stats;
            s.rx_packets = d.rx_packets;
            s.rx_bytes = d.rx_bytes;
            s.rx_errors = d.rx_errors;
            s.rx_cookie_mismatches = d.rx_cookie_mismatches;
            s.rx_seq_errors = d.rx_seq_errors;
            s.rx_reordered = d.rx_reordered;
            s.tx_packets = d.tx_packets;
            s.tx_bytes = d.tx_bytes;
            s.tx_errors = d.tx_errors;
        }
    }

    /// The deadline of [`Core::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.engine.handle_timeout(now);
        self.drive(now);
    }

    /// Begins a graceful stop.
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.engine.begin_shutdown(now);
        self.drive(now);
    }

    /// Removes whatever data-plane state is left. Call last.
    pub fn finish_shutdown(&mut self) {
        self.engine.finish_shutdown();
        self.drive(Instant::now());
        let (t, s) = self.dataplane.counts();
        if t + s > 0 {
            tracing::info!("removing {t} tunnel(s) and {s} session(s) from the data plane");
        }
        self.dataplane.remove_all();
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.engine.poll_transmit()?;
        self.stats.tx_packets += 1;
        self.stats.tx_bytes += t.payload.len() as u64;
        Some(t)
    }

    /// The next event for watchers.
    pub fn poll_notification(&mut self) -> Option<Event> {
        self.notifications.pop_front()
    }

    /// The next user script to run.
    pub fn poll_script(&mut self) -> Option<ScriptEvent> {
        self.scripts.pop_front()
    }

    /// The next change to the tunnels' own sockets, for the shell to carry out.
    pub fn poll_socket_change(&mut self) -> Option<ShellSocket> {
        self.dataplane.poll_change()
    }

    /// When [`Core::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    /// Whether a graceful stop has nothing left to wait for.
    pub fn is_idle(&self) -> bool {
        self.engine.is_idle()
    }

    /// The running config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The log level the config and `-d` ask for.
    pub fn log_level(&self) -> Level {
        Level::from(self.config.system().log_level).raised(self.debug_steps)
    }

    fn apply_log_level(&self) {
        if let Some(log) = &self.log {
            let level = self.log_level();
            if log.level() != level {
                notice!("log level now {level}");
                log.set_level(level);
            }
        }
    }

    /// Executes the engine's data-plane requests and queues its notifications.
    fn drive(&mut self, now: Instant) {
        while let Some(ev) = self.engine.poll_event() {
            match ev {
                EngineEvent::Notify(e) => self.notifications.push_back(e),
                EngineEvent::Socket(c) => self.dataplane.socket_change(c),
                EngineEvent::Script(s) => self.scripts.push_back(s),
                EngineEvent::Dataplane(req) => {
                    let outcome = self.dataplane.execute(&req);
                    self.engine.handle_dataplane_outcome(now, outcome);
                }
            }
        }
    }

    fn system_info(&self, now: Instant) -> SystemInfo {
        let sys = self.config.system();
        let engine = self.engine.stats();
        let mut statistics = self.stats.clone();
        statistics.acks_sent += engine.acks_sent;
        statistics.acks_received += engine.acks_received;
        statistics.messages_sent = engine.messages_sent;
        statistics.messages_received = engine.messages_received;
        statistics.tunnels_refused = engine.tunnels_refused;
        statistics.sessions_refused = engine.sessions_refused;
        statistics.malformed = engine.malformed;
        let wrong_cookie = self.dataplane.cookie_mismatches();
        if wrong_cookie > 0 {
            statistics
                .malformed
                .insert("data_wrong_cookie".to_owned(), wrong_cookie);
        }
        statistics.rx_discards += engine.rx_discards;
        statistics.retransmits += engine.retransmits;
        statistics.auth_failures += engine.auth_failures;
        statistics.tunnels_created += engine.tunnels_created;
        statistics.tunnel_setup_failures += engine.tunnel_setup_failures;
        statistics.sessions_created += engine.sessions_created;
        statistics.session_setup_failures += engine.session_setup_failures;
        SystemInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            uptime_s: now.saturating_duration_since(self.started).as_secs(),
            config_file: self.config_path.display().to_string(),
            listen: self.facts.listen.iter().map(|a| a.to_string()).collect(),
            ip_encap: self.facts.ip_encap,
            host_name: sys
                .host_name
                .clone()
                .unwrap_or_else(|| self.facts.host_name.clone()),
            router_id: sys.router_id.unwrap_or(self.facts.router_id),
            log_level: self
                .log
                .as_ref()
                .map_or(self.log_level(), LogHandle::level)
                .to_string(),
            dataplane: self.dataplane.dataplane().name().to_owned(),
            control_socket: self.facts.control_socket.display().to_string(),
            counts: self.engine.counts(),
            limits: l2tp_ctl::Limits {
                max_tunnels: sys.max_tunnels,
                max_sessions: sys.max_sessions,
                max_setup_tunnels: sys.max_setup_tunnels,
                peer_setup_rate: sys.peer_setup_rate,
            },
            statistics,
        }
    }
}

fn no_profile(kind: ProfileKind, name: &str) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no {kind} profile \"{name}\""))
}

/// Whether `config` has the daemon listen on IP protocol 115: `listen_encap_ip`, or any
/// tunnel profile or instance using IP encapsulation (l2tpd.conf(5), `listen_encap_ip`).
pub fn uses_ip_encap(config: &Config) -> bool {
    config.system().listen_encap_ip
        || config
            .tunnel_profiles()
            .iter()
            .filter_map(|p| config.tunnel_profile_settings(&p.name))
            .any(|s| s.encap == l2tp_config::Encap::Ip)
        || config
            .resolved_tunnels()
            .iter()
            .any(|t| t.settings.encap == l2tp_config::Encap::Ip)
}

/// The changes of a reload as the control protocol reports them, and the settings that only a
/// restart applies.
pub fn summarize(diff: &ConfigDiff, old: &Config, new: &Config, ip_open: bool) -> ReloadSummary {
    let mut changes = Vec::new();
    if diff.system_changed {
        changes.push(ConfigChange {
            item: "system".into(),
            name: None,
            change: ChangeKind::Changed,
        });
    }
    let lists: [(&str, &NameDiff); 6] = [
        ("peer_profile", &diff.peer_profiles),
        ("tunnel_profile", &diff.tunnel_profiles),
        ("session_profile", &diff.session_profiles),
        ("pseudowire_profile", &diff.pseudowire_profiles),
        ("tunnel", &diff.tunnels),
        ("session", &diff.sessions),
    ];
    for (item, d) in lists {
        for (names, change) in [
            (&d.added, ChangeKind::Added),
            (&d.removed, ChangeKind::Removed),
            (&d.changed, ChangeKind::Changed),
        ] {
            changes.extend(names.iter().map(|n| ConfigChange {
                item: item.into(),
                name: Some(n.clone()),
                change,
            }));
        }
    }
    let (o, n) = (old.system(), new.system());
    let mut restart_needed = Vec::new();
    let mut needs = |what: &str, changed: bool| {
        if changed {
            restart_needed.push(format!(
                "{what} changed: restart l2tpd to apply it (the running value is kept)"
            ));
        }
    };
    needs("listen", o.listen != n.listen);
    needs("control_socket", o.control_socket != n.control_socket);
    needs(
        "control_socket_group",
        o.control_socket_group != n.control_socket_group,
    );
    needs("pid_file", o.pid_file != n.pid_file);
    needs("dataplane", o.dataplane != n.dataplane);
    if !ip_open && uses_ip_encap(new) {
        restart_needed.push(
            "encap ip or listen_encap_ip is now in use: restart l2tpd to open the IP \
             (protocol 115) sockets"
                .into(),
        );
    }
    ReloadSummary {
        changes,
        restart_needed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::NoneDataplane;
    use crate::engine::NoEngine;

    fn parse(text: &str) -> Config {
        match l2tp_config::parse("t.conf", text) {
            Ok(c) => c,
            Err(d) => panic!("{}", l2tp_config::render_all(&d, text)),
        }
    }

    fn core(text: &str) -> Core {
        Core::new(
            parse(text),
            PathBuf::from("/nonexistent/l2tpd.conf"),
            Box::new(NoEngine::new()),
            Box::new(NoneDataplane::default()),
            HostFacts {
                listen: vec![SocketAddr::from(([127, 0, 0, 1], 1701))],
                ip_encap: false,
                ip_tunnel_sockets: false,
                control_socket: PathBuf::from("/tmp/x.sock"),
                host_name: "host".into(),
                router_id: 7,
            },
            1,
            None,
        )
    }

    #[test]
    fn show_requests_answer_from_config_and_empty_tables() {
        let mut c = core("system {\n router_id 9\n log_level warning\n}\n");
        let now = Instant::now();
        c.start(now);
        let Ok(Response::System(s)) = c.handle_request(now, Request::ShowSystem) else {
            panic!("no system info");
        };
        assert_eq!((s.router_id, s.host_name.as_str()), (9, "host"));
        assert_eq!(s.log_level, "notice");
        assert_eq!(s.listen, ["127.0.0.1:1701"]);
        assert!(matches!(
            c.handle_request(now, Request::ShowTunnels),
            Ok(Response::Tunnels(t)) if t.is_empty()
        ));
        assert!(matches!(
            c.handle_request(now, Request::ShowSessions { tunnel: None }),
            Ok(Response::Sessions(s)) if s.is_empty()
        ));
        let e = c.handle_request(
            now,
            Request::CreateTunnel {
                name: "t".into(),
                params: Default::default(),
            },
        );
        assert_eq!(e.map_err(|e| e.kind).err(), Some(ErrorKind::NotSupported));
        let e = c.handle_request(
            now,
            Request::ShowProfile {
                kind: ProfileKind::Session,
                name: "x".into(),
            },
        );
        assert_eq!(e.map_err(|e| e.kind).err(), Some(ErrorKind::NotFound));
        let Ok(Response::System(s)) = c.handle_request(now, Request::ShowSystem) else {
            panic!("no system info");
        };
        assert_eq!(s.statistics.control_requests, 6);
    }

    #[test]
    fn reload_of_a_missing_file_keeps_the_config() {
        let mut c = core("tunnel profile \"p\" {\n}\n");
        let e = c.reload(Instant::now());
        assert_eq!(e.map_err(|e| e.kind).err(), Some(ErrorKind::InvalidConfig));
        assert!(c.config().tunnel_profile("p").is_some());
    }

    #[test]
    fn summaries_list_changes_and_restart_needs() {
        let old = parse("tunnel profile \"a\" {\n}\ntunnel profile \"b\" {\n}\n");
        let new = parse(
            "system {\n listen 127.0.0.1:1\n}\ntunnel profile \"b\" {\n hello_timeout 3\n}\n\
             tunnel profile \"c\" {\n encap ip\n}\n",
        );
        let s = summarize(&l2tp_config::diff(&old, &new), &old, &new, false);
        let shown: Vec<String> = s.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            shown,
            [
                "system changed",
                "tunnel profile \"c\" added",
                "tunnel profile \"a\" removed",
                "tunnel profile \"b\" changed",
            ]
        );
        assert_eq!(s.restart_needed.len(), 2, "{:?}", s.restart_needed);
        assert!(uses_ip_encap(&new) && !uses_ip_encap(&old));
    }

    #[test]
    fn listen_encap_ip_opens_protocol_115_without_an_ip_profile() {
        let peers_only = "peer profile \"c\" {\n peer_ipaddr 192.0.2.0/24\n}\n";
        let old = parse(peers_only);
        let new = parse(&format!(
            "system {{\n listen_encap_ip true\n}}\n{peers_only}"
        ));
        assert!(!uses_ip_encap(&old) && uses_ip_encap(&new));
        let s = summarize(&l2tp_config::diff(&old, &new), &old, &new, false);
        assert!(
            s.restart_needed
                .iter()
                .any(|r| r.contains("listen_encap_ip")),
            "{:?}",
            s.restart_needed
        );
    }
}
