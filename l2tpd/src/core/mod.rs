//! The daemon's core: it routes between the shell and the engine. It hands the engine what
//! the shell received (control messages, commands, data-plane outcomes and reports, time),
//! hands the shell what the engine asks for ([`Core::poll_event`], [`Core::poll_transmit`]),
//! answers control requests, and re-reads the config on a reload. It owns no socket and no data
//! plane: the shell does ([`crate::shell`]), and lends the data plane for the answers that
//! need its counters.
//!
//! This file routes inputs and outputs; `answers` answers control requests and metrics
//! scrapes, `reload` re-reads the config in two steps (the reading off the main loop), and
//! `summary` says what a reload changed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use l2tp_config::Config;
use l2tp_ctl::SystemStats;
use l2tp_proto::Transmit;
use l2tp_proto::wire::header::{Encapsulation, HeaderError, Packet};

use crate::dataplane::{DataplaneEvent, DataplaneHost, DataplaneOutcome};
pub use crate::engine::HostFacts;
use crate::engine::{Command, Engine, EngineEvent};

/// The most tunnels or sessions one page of a listing looks at: the main loop's work for one
/// page stays bounded (a few milliseconds), and it serves its tunnels between pages.
pub const PAGE_BUDGET: usize = 1024;
use crate::logging::{Level, LogHandle};
use crate::notice;

mod answers;
pub mod reload;
mod summary;

pub use summary::{summarize, uses_ip_encap};

/// The engine, the config file it came from, and the core's counters.
#[derive(Debug)]
pub struct Core {
    engine: Engine,
    config_path: PathBuf,
    log: Option<LogHandle>,
    debug_steps: u8,
    started: Instant,
    /// The config the daemon started with: what the settings only a restart applies are.
    first: Arc<Config>,
    stats: SystemStats,
}

impl Core {
    /// A core for `config`, read from `config_path`. `debug_steps` is the number of `-d`
    /// options; `log`, when given, has its level kept in step with the config.
    pub fn new(
        config: Config,
        config_path: PathBuf,
        facts: HostFacts,
        debug_steps: u8,
        log: Option<LogHandle>,
        now: Instant,
    ) -> Self {
        Self::with_engine(
            Engine::new(Arc::new(config), facts, now),
            config_path,
            debug_steps,
            log,
            now,
        )
    }

    /// A core around `engine` (tests give it a seeded one).
    pub fn with_engine(
        engine: Engine,
        config_path: PathBuf,
        debug_steps: u8,
        log: Option<LogHandle>,
        now: Instant,
    ) -> Self {
        Self {
            first: Arc::clone(engine.config()),
            engine,
            config_path,
            log,
            debug_steps,
            started: now,
            stats: SystemStats::default(),
        }
    }

    /// Starts the config's instances. Call once, inside the runtime.
    pub fn start(&mut self, now: Instant) {
        self.started = now;
        let config = Arc::clone(self.engine.config());
        self.engine.apply_config(now, config, None);
    }

    /// A datagram from one of the shell's sockets, classified once by [`Packet::parse`], that
    /// the data plane did not take: a control message, or something to count and discard.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        addrs: (SocketAddr, SocketAddr),
        encap: Encapsulation,
        packet: Result<Packet<'_>, HeaderError>,
        len: usize,
    ) {
        self.stats.rx_packets += 1;
        self.stats.rx_bytes += len as u64;
        self.engine.handle_packet(now, addrs, encap, packet);
    }

    /// Something the data plane reported: a control message read on a socket it adopted, or a
    /// tunnel or session whose data plane failed.
    pub fn handle_dataplane_event(
        &mut self,
        now: Instant,
        event: DataplaneEvent,
        plane: &DataplaneHost,
    ) {
        match event {
            // The shell gives early data back to the data plane (`shell::dataplane_event`); one
            // that comes here anyway is a data message, which the engine discards and counts.
            DataplaneEvent::Control { tid, packet } | DataplaneEvent::EarlyData { tid, packet } => {
                // Without an adopted socket this is a copy the shell has seen already.
                if let Some(addrs) = plane.control_source(tid) {
                    let parsed = Packet::parse(&packet, Encapsulation::Udp);
                    self.handle_packet(now, addrs, Encapsulation::Udp, parsed, packet.len());
                }
            }
            DataplaneEvent::PppFrame { tid, sid, frame } => {
                self.engine.handle_ppp_frame(now, (tid, sid), &frame);
            }
            DataplaneEvent::PppFrames { frames } => {
                for (tid, sid, frame) in frames {
                    self.engine.handle_ppp_frame(now, (tid, sid), &frame);
                }
            }
            DataplaneEvent::PppActivity { sessions } => {
                self.engine.handle_ppp_activity(now, &sessions);
            }
            DataplaneEvent::WrongCookie { tid, sid, dropped } => {
                let peer = plane
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
                match r {
                    Ok(_) => self.stats.data_path_lost += 1,
                    Err(e) => tracing::debug!("session {tid}/{sid}: {}", e.message),
                }
            }
        }
    }

    /// The answer for a peer's name the engine asked to resolve.
    pub fn handle_resolved(
        &mut self,
        now: Instant,
        host: &str,
        result: Result<Vec<std::net::IpAddr>, String>,
    ) {
        self.engine.handle_resolved(now, host, result);
    }

    /// The outcome of the engine's RADIUS request `key`.
    pub fn handle_radius(&mut self, now: Instant, key: u64, outcome: crate::engine::RadiusOutcome) {
        self.engine.handle_radius(now, key, outcome);
    }

    /// An authentic Disconnect- or CoA-Request: the answer, after what it asks is done.
    pub fn handle_dynauth(
        &mut self,
        now: Instant,
        kind: radius_proto::dynauth::DynAuthKind,
        attributes: &radius_proto::Attributes,
    ) -> radius_proto::dynauth::Answer {
        self.engine.handle_dynauth(now, kind, attributes)
    }

    /// The answer to [`EngineEvent::StaleTunnels`]: of the peer's stale tunnels, those of the
    /// same client as tunnel `tid` ([`crate::marks::same_client`]), to forget.
    pub fn forget_stale_tunnels(&mut self, now: Instant, tid: u32, stale: &[u32]) {
        self.engine.forget_stale_tunnels(now, tid, stale);
    }

    /// The data plane carried out one of the engine's requests.
    pub fn handle_dataplane_outcome(&mut self, now: Instant, outcome: DataplaneOutcome) {
        self.engine.handle_dataplane_outcome(now, outcome);
    }

    /// The deadline of [`Core::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.engine.handle_timeout(now);
    }

    /// Begins a graceful stop.
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.engine.begin_shutdown(now);
    }

    /// Reports every remaining tunnel and session deleted. Call last; the shell then removes
    /// what is left in the data plane.
    pub fn finish_shutdown(&mut self) {
        self.engine.finish_shutdown();
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.engine.poll_transmit()?;
        self.stats.tx_packets += 1;
        self.stats.tx_bytes += t.contents.len() as u64;
        Some(t)
    }

    /// Counts a datagram from [`Core::poll_transmit`] that no socket would send.
    pub fn note_send_failure(&mut self, len: usize) {
        self.stats.tx_packets = self.stats.tx_packets.saturating_sub(1);
        self.stats.tx_bytes = self.stats.tx_bytes.saturating_sub(len as u64);
        self.stats.tx_errors += 1;
    }

    /// The events whose user script may run ([`Engine::set_script_kinds`]).
    pub fn set_script_kinds(&mut self, kinds: crate::scripts::ScriptKinds) {
        self.engine.set_script_kinds(kinds);
    }

    /// The next thing the engine asks of the shell.
    pub fn poll_event(&mut self) -> Option<EngineEvent> {
        self.engine.poll_event()
    }

    /// When [`Core::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.engine.poll_timeout()
    }

    /// Whether a graceful stop has nothing left to wait for.
    pub fn is_idle(&self) -> bool {
        self.engine.is_idle()
    }

    /// Whether a graceful stop has sent every StopCCN (no tunnel waits for its native-PPP
    /// links' Terminate-Acks any longer).
    pub fn stopccns_sent(&self) -> bool {
        self.engine.stopccns_sent()
    }

    /// The running config.
    pub fn config(&self) -> &Config {
        self.engine.config()
    }

    /// The current numbers of tunnels and sessions.
    pub fn counts(&self) -> l2tp_ctl::Counts {
        self.engine.counts()
    }

    /// The log level the config and `-d` ask for.
    pub fn log_level(&self) -> Level {
        Level::from(self.config().system().log_level).raised(self.debug_steps)
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
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use l2tp_ctl::{ErrorKind, ProfileKind, Request, Response};

    use super::*;
    use crate::dataplane::NoneDataplane;

    fn parse(text: &str) -> Config {
        match l2tp_config::parse("t.conf", text) {
            Ok(c) => c,
            Err(d) => panic!("{}", l2tp_config::render_all(&d, text)),
        }
    }

    /// A host that listens on 127.0.0.1:1701 over UDP only.
    pub(super) fn facts() -> HostFacts {
        HostFacts {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 1701))],
            ip_listen: Vec::new(),
            ip_tunnel_sockets: false,
            control_socket: PathBuf::from("/tmp/x.sock"),
            host_name: "host".into(),
            router_id: 7,
            native_ppp: false,
        }
    }

    fn core(text: &str) -> Core {
        Core::new(
            parse(text),
            PathBuf::from("/nonexistent/l2tpd.conf"),
            facts(),
            1,
            None,
            Instant::now(),
        )
    }

    fn plane() -> DataplaneHost {
        DataplaneHost::new(Box::new(NoneDataplane::default()), false)
    }

    /// `show system` lists the protocol 115 addresses open, not those of `listen` that could
    /// not be opened.
    #[test]
    fn show_system_lists_the_ip_encapsulation_addresses_open() {
        let mut f = facts();
        f.listen.push(SocketAddr::from(([192, 0, 2, 1], 1701)));
        f.ip_listen = vec![IpAddr::from([127, 0, 0, 1])];
        let mut c = Core::new(
            parse("tunnel profile \"ip\" {\n encap ip\n version 3\n}\n"),
            PathBuf::from("/nonexistent/l2tpd.conf"),
            f,
            1,
            None,
            Instant::now(),
        );
        let now = Instant::now();
        c.start(now);
        let Ok(Response::System(s)) = c.handle_request(now, Request::ShowSystem, &plane()) else {
            panic!("no system info");
        };
        assert!(s.ip_encap);
        assert_eq!(s.ip_listen, ["127.0.0.1"]);
    }

    #[test]
    fn show_requests_answer_from_config_and_empty_tables() {
        let mut c = core(
            "system {\n router_id 9\n log_level warning\n deny_local_tunnel_creates true\n}\n",
        );
        let p = plane();
        let now = Instant::now();
        c.start(now);
        let Ok(Response::System(s)) = c.handle_request(now, Request::ShowSystem, &p) else {
            panic!("no system info");
        };
        assert_eq!((s.router_id, s.host_name.as_str()), (9, "host"));
        assert_eq!(s.log_level, "notice");
        assert_eq!(s.listen, ["127.0.0.1:1701"]);
        assert!(!s.ip_encap && s.ip_listen.is_empty(), "UDP only");
        assert!(matches!(
            c.handle_request(now, Request::show_tunnels(), &p),
            Ok(Response::Tunnels(t)) if t.is_empty()
        ));
        assert!(matches!(
            c.handle_request(now, Request::show_sessions(None), &p),
            Ok(Response::Sessions(s)) if s.is_empty()
        ));
        let e = c.handle_request(
            now,
            Request::CreateTunnel {
                name: "t".into(),
                params: Default::default(),
            },
            &p,
        );
        assert_eq!(e.map_err(|e| e.kind).err(), Some(ErrorKind::Refused));
        let e = c.handle_request(
            now,
            Request::ShowProfile {
                kind: ProfileKind::Session,
                name: "x".into(),
            },
            &p,
        );
        assert_eq!(e.map_err(|e| e.kind).err(), Some(ErrorKind::NotFound));
        let Ok(Response::System(s)) = c.handle_request(now, Request::ShowSystem, &p) else {
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
            "system {\n listen 127.0.0.1:1\n metrics_listen 127.0.0.1:2\n}\n\
             tunnel profile \"b\" {\n hello_timeout 3\n}\n\
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
        assert_eq!(s.restart_needed.len(), 3, "{:?}", s.restart_needed);
        assert!(
            s.restart_needed
                .iter()
                .any(|r| r.starts_with("metrics_listen changed"))
        );
        assert!(uses_ip_encap(&new) && !uses_ip_encap(&old));
    }

    /// The engine's account of the `tunnel` and `session` blocks replaces the diff's (here
    /// "tunnel c" is refused, and "tunnel r" removed nothing), and the refused blocks are
    /// listed apart.
    #[test]
    fn refused_blocks_are_listed_apart_from_the_changes() {
        use crate::engine::{BlockRefusal, InstanceKind, RefusalReason};
        let old = parse("tunnel \"r\" {\n peer 192.0.2.1\n}\n");
        let new = parse(
            "tunnel profile \"p\" {\n}\n\
             tunnel \"c\" {\n peer 192.0.2.1\n}\ntunnel \"d\" {\n peer 192.0.2.1\n}\n\
             session \"c\" {\n tunnel \"d\"\n}\n",
        );
        let mut s = summarize(&l2tp_config::diff(&old, &new), &old, &new, false);
        let refused = [BlockRefusal {
            kind: InstanceKind::Tunnel,
            name: "c".into(),
            reason: RefusalReason::NameTaken,
        }];
        let change = |item: &str, name: &str| l2tp_ctl::ConfigChange {
            item: item.into(),
            name: Some(name.into()),
            change: l2tp_ctl::ChangeKind::Added,
        };
        let changes = vec![
            change("tunnel", "d"),
            change("session", "c"),
            change("session", "e"),
        ];
        summary::add_applied(
            &mut s,
            crate::engine::Applied {
                refused: refused.to_vec(),
                changes,
            },
        );
        let shown: Vec<String> = s.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            shown,
            [
                "tunnel profile \"p\" added",
                "tunnel \"d\" added",
                "session \"c\" added",
                "session \"e\" added"
            ]
        );
        let refused: Vec<String> = s.refused.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            refused,
            ["tunnel \"c\" refused: a tunnel of that name was made with l2tpctl"]
        );
    }

    /// Every system setting that l2tpd.conf(5) RELOADING says takes effect at the next start
    /// is named so by a reload that changes it.
    #[test]
    fn every_setting_a_reload_cannot_apply_is_named() {
        let old = parse("");
        let new = parse(
            "system {\n listen 127.0.0.1:1\n dataplane none\n dataplane_offloads false\n \
             dataplane_threads 2\n ppp_interface ppp9\n control_socket /run/x.sock\n \
             control_socket_group wheel\n metrics_listen 127.0.0.1:2\n pid_file /run/x.pid\n}\n",
        );
        let s = summarize(&l2tp_config::diff(&old, &new), &old, &new, false);
        let named: Vec<&str> = s
            .restart_needed
            .iter()
            .filter_map(|r| r.split(' ').next())
            .collect();
        for what in [
            "listen",
            "dataplane",
            "dataplane_offloads",
            "dataplane_threads",
            "ppp_interface",
            "control_socket",
            "control_socket_group",
            "metrics_listen",
            "pid_file",
        ] {
            assert!(named.contains(&what), "{what}: {:?}", s.restart_needed);
        }
    }

    #[test]
    fn summaries_list_ppp_profiles_pools_and_users() {
        let old = parse(
            "ppp profile \"p\" {\n mru 1400\n}\nip pool \"a\" {\n ranges 192.0.2.10\n}\n\
             user \"u\" {\n password x\n}\n",
        );
        let new = parse(
            "ppp profile \"p\" {\n mru 1300\n}\nip pool \"b\" {\n ranges 192.0.2.10\n}\n\
             user \"u\" {\n password y\n}\nuser \"v\" {\n password z\n}\n",
        );
        let s = summarize(&l2tp_config::diff(&old, &new), &old, &new, false);
        let shown: Vec<String> = s.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            shown,
            [
                "ppp profile \"p\" changed",
                "ip pool \"b\" added",
                "ip pool \"a\" removed",
                "user \"v\" added",
                "user \"u\" changed",
            ]
        );
        assert!(s.restart_needed.is_empty());
    }

    #[test]
    fn show_ppp_profiles_and_pools() {
        let mut c = core(
            "ppp profile \"lns\" {\n ip_pool_name \"a\"\n}\n\
             ip pool \"a\" {\n ranges 192.0.2.10-192.0.2.12\n}\n",
        );
        let (p, now) = (plane(), Instant::now());
        let Ok(Response::Profiles(list)) = c.handle_request(
            now,
            Request::ShowProfiles {
                kind: ProfileKind::Ppp,
            },
            &p,
        ) else {
            panic!("no ppp profiles");
        };
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["lns", "default"]);
        // `relogin`, a keyword, shown as written in the file (its default here).
        assert_eq!(
            list[0].settings.get("relogin"),
            Some(&Some(l2tp_ctl::SettingValue::Text("replace".into())))
        );
        let Ok(Response::IpPools(pools)) = c.handle_request(now, Request::ShowIpPools, &p) else {
            panic!("no pools");
        };
        assert_eq!((pools.len(), pools[0].size), (1, 3));
        let one = c.handle_request(now, Request::ShowIpPool { name: "a".into() }, &p);
        assert!(matches!(one, Ok(Response::IpPool(i)) if i.name == "a"));
        let none = c.handle_request(now, Request::ShowIpPool { name: "b".into() }, &p);
        assert_eq!(none.map_err(|e| e.kind).err(), Some(ErrorKind::NotFound));
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

    /// A data plane that keeps a tunnel's own counters: tunnel `tid` had 1000 + `tid` ICMP
    /// port unreachables from its peer.
    #[derive(Debug)]
    struct Unreachables;

    impl crate::dataplane::Dataplane for Unreachables {
        fn name(&self) -> &'static str {
            "unreachables"
        }
        fn install_tunnel(
            &mut self,
            _spec: &crate::dataplane::TunnelSpec,
            _socket: Option<std::os::fd::BorrowedFd<'_>>,
        ) -> Result<crate::dataplane::TunnelInstalled, crate::dataplane::DataplaneError> {
            Ok(Default::default())
        }
        fn remove_tunnel(&mut self, _tid: u32) -> Result<(), crate::dataplane::DataplaneError> {
            Ok(())
        }
        fn install_session(
            &mut self,
            _spec: &crate::dataplane::SessionSpec,
        ) -> Result<crate::dataplane::SessionInstalled, crate::dataplane::DataplaneError> {
            Ok(Default::default())
        }
        fn remove_session(
            &mut self,
            _tid: u32,
            _sid: u32,
        ) -> Result<(), crate::dataplane::DataplaneError> {
            Ok(())
        }
        fn tunnel_stats(&self, tid: u32) -> Option<crate::dataplane::TunnelDataStats> {
            Some(crate::dataplane::TunnelDataStats {
                peer_unreachable: 1000 + u64::from(tid),
            })
        }
        fn counts(&self) -> (usize, usize) {
            (0, 0)
        }
        fn remove_all(&mut self) {}
    }

    /// `show tunnel` gives the data plane's count of the tunnel's ICMP port unreachables.
    #[test]
    fn show_tunnel_has_the_data_planes_peer_unreachable_count() {
        let mut c = core("tunnel \"t\" {\n peer 192.0.2.1\n}\n");
        let p = DataplaneHost::new(Box::new(Unreachables), false);
        let now = Instant::now();
        c.start(now);
        let show = Request::ShowTunnel {
            tunnel: l2tp_ctl::Selector::Name("t".into()),
        };
        let Ok(Response::Tunnel(t)) = c.handle_request(now, show, &p) else {
            panic!("no tunnel");
        };
        assert_ne!(t.info.tid, 0);
        assert_eq!(
            t.stats.peer_unreachable,
            1000 + u64::from(t.info.tid),
            "{t:?}"
        );
    }
}
