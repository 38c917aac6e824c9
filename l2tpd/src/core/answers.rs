//! The core's answers: control requests (`show`, `reload`, and the commands it hands the
//! engine), `show tunnels` and `show sessions` in pages, and what a metrics scrape reads, with
//! the data plane's counters lent by the shell.

use std::time::Instant;

use l2tp_ctl::{CtlError, ErrorKind, ProfileKind, Request, Response, Selector, SystemInfo};

use crate::dataplane::DataplaneHost;
use crate::engine::{Command, ListCursor};
use crate::logging::LogHandle;
use crate::metrics::Snapshot;
use crate::view;

use super::{Core, PAGE_BUDGET};

impl Core {
    /// Counts a control request the shell answers itself ([`Request::Reload`]).
    pub fn count_control_request(&mut self) {
        self.stats.control_requests += 1;
    }

    /// Answers a control request; `plane` lends its counters. [`Request::Watch`] and
    /// [`Request::Reload`] are the shell's business and are refused here.
    pub fn handle_request(
        &mut self,
        now: Instant,
        request: Request,
        plane: &DataplaneHost,
    ) -> Result<Response, CtlError> {
        self.stats.control_requests += 1;
        let command = match request {
            Request::ShowSystem => return Ok(Response::System(self.system_info(now, plane))),
            list @ (Request::ShowTunnels { .. } | Request::ShowSessions { .. }) => {
                return self.whole_list(now, &list);
            }
            Request::ShowTunnel { tunnel } => {
                return self.engine.tunnel(now, &tunnel).map(|mut d| {
                    d.socket_mark = plane.tunnel_mark(d.info.tid);
                    self.add_tunnel_data_stats(now, plane, &mut d);
                    Response::Tunnel(d)
                });
            }
            Request::ShowSession { tunnel, session } => {
                return self.engine.session(now, &tunnel, &session).map(|mut d| {
                    add_data_stats(plane, &mut d);
                    Response::Session(d)
                });
            }
            Request::ShowProfiles { kind } => {
                return Ok(Response::Profiles(view::profiles(self.config(), kind)));
            }
            Request::ShowProfile { kind, name } => {
                return view::profile(self.config(), kind, &name)
                    .map(Response::Profile)
                    .ok_or_else(|| no_profile(kind, &name));
            }
            Request::ShowIpPools => {
                let mut pools = view::ip_pools(self.config());
                for p in &mut pools {
                    p.in_use = self.engine.pool_in_use(&p.name);
                }
                return Ok(Response::IpPools(pools));
            }
            // The engine's counters; the shell adds its RADIUS client's servers and queues.
            Request::ShowRadius => return Ok(Response::Radius(self.engine.radius_figures())),
            Request::ShowIpPool { name } => {
                return view::ip_pool(self.config(), &name)
                    .map(|mut p| {
                        p.in_use = self.engine.pool_in_use(&p.name);
                        Response::IpPool(p)
                    })
                    .ok_or_else(|| {
                        CtlError::new(ErrorKind::NotFound, format!("no ip pool \"{name}\""))
                    });
            }
            Request::Reload => {
                return Err(CtlError::new(
                    ErrorKind::BadRequest,
                    "reload is handled by the shell, off the main loop",
                ));
            }
            Request::CreateTunnel { name, params } => Command::CreateTunnel { name, params },
            Request::DeleteTunnel { tunnel } => Command::DeleteTunnel(tunnel),
            Request::CreateSession {
                tunnel,
                name,
                params,
            } => Command::CreateSession {
                tunnel,
                name,
                params,
            },
            Request::DeleteSession { tunnel, session } => Command::DeleteSession(tunnel, session),
            Request::Debug { target, enable } => Command::Debug(target, enable),
            Request::Disconnect { who } => Command::Disconnect(who),
            Request::RequestSpeeds { tunnel, session } => Command::RequestSpeeds(tunnel, session),
            Request::Watch => {
                return Err(CtlError::new(
                    ErrorKind::BadRequest,
                    "watch is handled by the connection, not the core",
                ));
            }
            _ => return Err(CtlError::new(ErrorKind::NotSupported, "unknown request")),
        };
        self.engine.handle_command(now, command)
    }

    /// A page of `show tunnels` or `show sessions` (`request`), from `from` (the beginning for
    /// `None`): at most [`PAGE_BUDGET`] tunnels or sessions looked at, those that pass its
    /// filters answered (its `limit` is the caller's business). The second value is where the
    /// next page starts, `None` after the last.
    pub fn handle_page(
        &mut self,
        now: Instant,
        request: &Request,
        from: Option<&ListCursor>,
    ) -> Result<(Response, Option<ListCursor>), CtlError> {
        if from.is_none() {
            self.stats.control_requests += 1;
        }
        self.page(now, request, from)
    }

    fn page(
        &self,
        now: Instant,
        request: &Request,
        from: Option<&ListCursor>,
    ) -> Result<(Response, Option<ListCursor>), CtlError> {
        match request {
            Request::ShowTunnels { list } => {
                let page = self.engine.tunnels_page(now, list.state, from, PAGE_BUDGET);
                Ok((Response::Tunnels(page.items), page.next))
            }
            Request::ShowSessions { tunnel, list } => {
                let filter = (tunnel.as_ref(), list.state);
                let page = self.engine.sessions_page(now, filter, from, PAGE_BUDGET)?;
                Ok((Response::Sessions(page.items), page.next))
            }
            _ => Err(CtlError::new(
                ErrorKind::BadRequest,
                "only show tunnels and show sessions come in pages",
            )),
        }
    }

    /// The whole answer to `show tunnels` or `show sessions`, in one turn (tests, and clients
    /// that are lent the core directly; the control socket pages).
    fn whole_list(&mut self, now: Instant, request: &Request) -> Result<Response, CtlError> {
        let (limit, mut tunnels, mut sessions) = match request {
            Request::ShowTunnels { list } | Request::ShowSessions { list, .. } => {
                (list.limit, Vec::new(), Vec::new())
            }
            _ => (None, Vec::new(), Vec::new()),
        };
        let mut from = None;
        loop {
            let (page, next) = self.page(now, request, from.as_ref())?;
            match page {
                Response::Tunnels(t) => tunnels.extend(t),
                Response::Sessions(s) => sessions.extend(s),
                _ => {}
            }
            if next.is_none() {
                break;
            }
            from = next;
        }
        let limit = limit.map_or(usize::MAX, |n| n as usize);
        tunnels.truncate(limit);
        sessions.truncate(limit);
        Ok(match request {
            Request::ShowTunnels { .. } => Response::Tunnels(tunnels),
            _ => Response::Sessions(sessions),
        })
    }

    /// What a metrics scrape reads: the counters of `show system` and the engine's and data
    /// plane's figures (the shell adds the scripts' and its RADIUS client's).
    pub fn metrics(&self, now: Instant, plane: &DataplaneHost) -> Snapshot {
        let sys = self.config().system();
        let mut engine = self.engine.figures(sys.metrics_detail);
        // One call for every session: the kernel plane answers from its last dump, not with
        // a request per session on this loop.
        let keys: Vec<(u32, u32)> = engine.session_rows.iter().map(|r| (r.tid, r.sid)).collect();
        for (row, data) in engine
            .session_rows
            .iter_mut()
            .zip(plane.sessions_stats(&keys))
        {
            row.data = data;
        }
        Snapshot {
            version: env!("CARGO_PKG_VERSION"),
            dataplane: plane.dataplane().name(),
            uptime: now.saturating_duration_since(self.started),
            system: self.system_info(now, plane).statistics,
            limits: (sys.max_tunnels, sys.max_sessions),
            engine,
            data: plane.data_totals(),
            scripts: Default::default(),
            detail: sys.metrics_detail,
            radius: self.engine.radius_figures(),
        }
    }

    fn system_info(&self, now: Instant, plane: &DataplaneHost) -> SystemInfo {
        let sys = self.config().system();
        let facts = self.engine.facts();
        let engine = self.engine.stats();
        let mut statistics = self.stats.clone();
        statistics.acks_sent += engine.acks_sent;
        statistics.acks_received += engine.acks_received;
        statistics.messages_sent = engine.messages_sent;
        statistics.messages_received = engine.messages_received;
        statistics.tunnels_refused = engine.tunnels_refused;
        statistics.sessions_refused = engine.sessions_refused;
        statistics.malformed = engine.malformed;
        let drops = plane.drops();
        // Present when 0 too, as every other kind (l2tpctl(1), show system).
        statistics
            .malformed
            .insert("data_wrong_cookie".to_owned(), drops.cookie_mismatches);
        for (reason, n) in [
            ("unrouted", drops.tun_unrouted),
            ("multicast", drops.tun_multicast),
            ("io_error", drops.tun_errors),
        ] {
            if n > 0 {
                statistics.ppp_tun_discards.insert(reason.to_owned(), n);
            }
        }
        // The other reasons, named as the data plane's totals name them.
        for (reason, n) in drops.reasons() {
            let shown_above = reason == "cookie_mismatches" || reason.starts_with("tun_");
            if n > 0 && !shown_above {
                statistics.data_discards.insert(reason.to_owned(), n);
            }
        }
        statistics.bridge_ports_lost = plane.bridge_ports_lost();
        statistics.rx_discards += engine.rx_discards;
        statistics.retransmits += engine.retransmits;
        statistics.auth_failures += engine.auth_failures;
        statistics.tunnels_created += engine.tunnels_created;
        statistics.tunnel_setup_failures += engine.tunnel_setup_failures;
        statistics.sessions_created += engine.sessions_created;
        statistics.session_setup_failures += engine.session_setup_failures;
        statistics.ppp_up = engine.ppp_up;
        statistics.ppp_down = engine.ppp_down;
        statistics.ppp_auth_failures = engine.ppp_auth_failures;
        statistics.ppp_address_refusals = engine.ppp_address_refusals;
        statistics.radius_values_ignored = engine.radius_values_ignored;
        statistics.ppp_frames_discarded = engine.ppp_frames_discarded;
        statistics.ppp_frames_malformed = engine.ppp_frames_malformed;
        statistics.ppp_frames_stale = engine.ppp_frames_stale;
        statistics.ppp_renegotiations = engine.ppp_renegotiations;
        statistics.ppp_proxy = engine.ppp_proxy;
        // Every kind l2tpctl(1) names, 0 before the first, as the metrics give them, so that a
        // script reads 0 rather than nothing.
        use crate::metrics::snapshot as known;
        for (by, kinds) in [
            (
                &mut statistics.data_discards,
                &known::DATA_DISCARD_REASONS[..],
            ),
            (
                &mut statistics.ppp_auth_failures,
                &known::PPP_AUTH_FAILURES[..],
            ),
            (
                &mut statistics.ppp_address_refusals,
                &known::PPP_ADDRESS_REFUSALS[..],
            ),
            (
                &mut statistics.radius_values_ignored,
                &known::RADIUS_VALUES_IGNORED[..],
            ),
            (
                &mut statistics.ppp_tun_discards,
                &known::PPP_TUN_DISCARDS[..],
            ),
            (&mut statistics.ppp_proxy, &known::PPP_PROXY[..]),
            (&mut statistics.ppp_down, &known::PPP_DOWN_REASONS[..]),
        ] {
            for kind in kinds {
                by.entry((*kind).to_owned()).or_insert(0);
            }
        }
        SystemInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            uptime_s: now.saturating_duration_since(self.started).as_secs(),
            config_file: self.config_path.display().to_string(),
            listen: facts.listen.iter().map(|a| a.to_string()).collect(),
            ip_encap: facts.ip_encap(),
            ip_listen: facts.ip_listen.iter().map(|a| a.to_string()).collect(),
            host_name: sys
                .host_name
                .clone()
                .unwrap_or_else(|| facts.host_name.clone()),
            router_id: sys.router_id.unwrap_or(facts.router_id),
            log_level: self
                .log
                .as_ref()
                .map_or(self.log_level(), LogHandle::level)
                .to_string(),
            dataplane: plane.dataplane().name().to_owned(),
            control_socket: facts.control_socket.display().to_string(),
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

impl Core {
    /// Adds the data packets of the tunnel's sessions to its detail (the data plane counts
    /// them by session only), and the tunnel's own data counters.
    fn add_tunnel_data_stats(
        &self,
        now: Instant,
        plane: &DataplaneHost,
        detail: &mut l2tp_ctl::TunnelDetail,
    ) {
        let tid = detail.info.tid;
        if tid == 0 {
            return;
        }
        if let Some(t) = plane.tunnel_stats(tid) {
            detail.stats.peer_unreachable = t.peer_unreachable;
        }
        let Ok(sessions) = self.engine.sessions(now, Some(&Selector::Id(tid))) else {
            return;
        };
        for s in sessions {
            if let Some(d) = plane.session_stats(s.tid, s.sid) {
                detail.stats.data_rx_packets += d.rx_packets;
                detail.stats.data_tx_packets += d.tx_packets;
            }
        }
    }
}

/// Adds the data plane's counters of the session to its detail.
fn add_data_stats(plane: &DataplaneHost, detail: &mut l2tp_ctl::SessionDetail) {
    let (tid, sid) = (detail.info.tid, detail.info.sid);
    if let Some(d) = plane.session_stats(tid, sid) {
        let s = &mut detail.stats;
        s.rx_packets = d.rx_packets;
        s.rx_bytes = d.rx_bytes;
        s.rx_errors = d.rx_errors;
        s.rx_cookie_mismatches = d.rx_cookie_mismatches;
        s.rx_seq_errors = d.rx_seq_errors;
        s.rx_oversize = d.rx_oversize;
        s.rx_reordered = d.rx_reordered;
        s.tx_packets = d.tx_packets;
        s.tx_bytes = d.tx_bytes;
        s.tx_errors = d.tx_errors;
    }
}

fn no_profile(kind: ProfileKind, name: &str) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no {kind} profile \"{name}\""))
}
