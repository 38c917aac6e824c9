//! The answers of `l2tpctl show`: pure functions of the records, the instances and the
//! protocol's own state. Nothing here changes the engine.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use l2tp_config::MetricsDetail;
use l2tp_ctl::{
    self as ctl, Counts, CtlError, ErrorKind, Selector, SessionDetail, SessionInfo, SystemStats,
    TunnelDetail, TunnelInfo,
};
use l2tp_proto::wire::message::MessageType;
use l2tp_proto::{self as proto, SessionState, TunnelState};

use super::admission::Admission;
use super::instances::{Instance, InstanceState, Instances};
use super::notify::ctl_encap;
use super::protocol::Protocol;
use super::registry::{Control, Phase, Registry, SessionRec, TunnelRec};
use super::translate;
use crate::metrics::snapshot::{EngineFigures, SessionRow, TunnelRow};
use crate::{scripts, view};

/// `no tunnel SEL`.
pub(super) fn no_tunnel(t: &Selector) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no tunnel {t}"))
}

/// The instance name `sel` may stand for: a name, or an id's digits (l2tpctl(1): an argument
/// made only of digits selects the one with that id, or one whose name is spelled with them),
/// for the instances that have no tunnel or session, and so no id, now.
pub(super) fn instance_text(sel: &Selector) -> String {
    match sel {
        Selector::Name(n) => n.clone(),
        Selector::Id(id) => id.to_string(),
    }
}

/// `no session SEL in tunnel SEL`.
pub(super) fn no_session(t: &Selector, s: &Selector) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no session {s} in tunnel {t}"))
}

/// Where the next page of `show tunnels` or `show sessions` starts: at this tunnel or session
/// record, or (for tunnels, once the records are done) at this idle instance. Opaque to the
/// clients of the engine.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum ListCursor {
    /// At the record with this handle.
    Record(u64),
    /// At the tunnel instance of this name.
    Instance(String),
}

/// One page of a listing, and where the next one starts (`None`: this is the last).
#[derive(Clone, Debug)]
pub struct ListPage<T> {
    /// The items of this page that pass the filters.
    pub items: Vec<T>,
    /// Where the next page starts.
    pub next: Option<ListCursor>,
}

/// What the views read.
#[derive(Clone, Copy, Debug)]
pub(super) struct Views<'a> {
    pub(super) registry: &'a Registry,
    pub(super) instances: &'a Instances,
    pub(super) protocol: &'a Protocol,
}

impl Views<'_> {
    /// The tunnel `sel` names: the current tunnel by id, or the tunnel instance's own (an
    /// earlier tunnel of the same name may still be closing), else any tunnel it matches.
    pub(super) fn find_tunnel(&self, sel: &Selector) -> Option<u64> {
        let current = match sel {
            Selector::Id(tid) => self.registry.tunnel_handle(*tid),
            Selector::Name(n) => self.instances.tunnel(n).and_then(|i| i.state.handle()),
        };
        current
            .filter(|h| self.registry.tunnel(*h).is_some())
            .or_else(|| {
                self.registry
                    .tunnels()
                    .find(|(_, t)| sel.matches(t.tid(), t.origin.name.as_deref()))
                    .map(|(h, _)| h)
            })
    }

    /// Whether `sel` names a tunnel instance that has no tunnel now (it waits between
    /// attempts, or was stopped): that instance, not an earlier attempt of it still closing
    /// under its name, is what `show tunnel` and `delete tunnel` act on.
    pub(super) fn waiting(&self, sel: &Selector) -> bool {
        matches!(sel, Selector::Name(n) if self
            .instances
            .tunnel(n)
            .is_some_and(|i| i.state.handle().is_none() && shown(i)))
    }

    /// The session `sel` names in tunnel `tunnel`.
    pub(super) fn find_session(&self, tunnel: u64, sel: &Selector) -> Option<u64> {
        if let Selector::Id(sid) = sel {
            let tid = self.registry.tunnel(tunnel)?.tid();
            return self.registry.session_handle(tid, *sid).filter(|h| {
                self.registry
                    .session(*h)
                    .is_some_and(|s| s.tunnel == tunnel)
            });
        }
        self.registry
            .sessions()
            .find(|(_, s)| s.tunnel == tunnel && sel.matches(s.sid(), s.origin.name.as_deref()))
            .map(|(h, _)| h)
    }

    /// `show tunnels`: every tunnel, then the instances waiting between attempts.
    pub(super) fn tunnels(&self, now: Instant) -> Vec<TunnelInfo> {
        let mut out: Vec<TunnelInfo> = self
            .registry
            .tunnels()
            .map(|(h, t)| self.tunnel_info(now, h, t))
            .collect();
        for (name, inst) in self.instances.tunnels() {
            if inst.state.handle().is_none() && shown(inst) {
                out.push(idle_tunnel_info(name, inst));
            }
        }
        out
    }

    /// A page of `show tunnels`: at most `budget` tunnels looked at, from `from`, those in
    /// `state` (every one for `None`) kept. Records come first, then the instances waiting
    /// between attempts.
    pub(super) fn tunnels_page(
        &self,
        now: Instant,
        state: Option<ctl::State>,
        from: Option<&ListCursor>,
        budget: usize,
    ) -> ListPage<TunnelInfo> {
        page(
            from,
            budget,
            |at| {
                let rows = self.registry.tunnels_from(at);
                Box::new(rows.map(move |(h, t)| (h, Some(self.tunnel_info(now, h, t)))))
            },
            |name| {
                let idle = self.instances.tunnels_from(name);
                let idle = idle.filter(|(_, i)| i.state.handle().is_none() && shown(i));
                Box::new(idle.map(|(n, i)| (n, idle_tunnel_info(n, i))))
            },
            |t: &TunnelInfo| state.is_none_or(|want| want == t.state),
        )
    }

    /// A page of `show sessions [TUNNEL]`: at most `budget` sessions looked at, from `from`,
    /// those of `tunnel` (every tunnel for `None`) in `state` kept.
    pub(super) fn sessions_page(
        &self,
        now: Instant,
        (tunnel, state): (Option<&Selector>, Option<ctl::State>),
        from: Option<&ListCursor>,
        budget: usize,
    ) -> Result<ListPage<SessionInfo>, CtlError> {
        let only = match tunnel {
            Some(sel) => match self.find_tunnel(sel) {
                Some(h) => Some(Some(h)),
                // Listed by `show tunnels`, without a tunnel now: its waiting sessions only.
                None if self.shown_instance(sel) => Some(None),
                None => return Err(no_tunnel(sel)),
            },
            None => None,
        };
        let of = tunnel.map(|sel| self.instance_name(sel));
        Ok(page(
            from,
            budget,
            |at| {
                let rows = self.registry.sessions_from(at).map(move |(h, s)| {
                    let mine = only.is_none_or(|t| t == Some(s.tunnel));
                    (h, mine.then(|| self.session_info(now, h, s)))
                });
                Box::new(rows)
            },
            // Then the session instances that have no session now.
            |name| Box::new(self.waiting_sessions(name, of.as_ref().map(Option::as_deref))),
            |s: &SessionInfo| state.is_none_or(|want| want == s.state),
        ))
    }

    /// The error for session `session` of tunnel `tunnel`, which is not found: that there is
    /// no such session when `show tunnels` lists the tunnel (connected or not), else that
    /// there is no such tunnel.
    pub(super) fn no_such_session(&self, tunnel: &Selector, session: &Selector) -> CtlError {
        if self.find_tunnel(tunnel).is_some() || self.shown_instance(tunnel) {
            no_session(tunnel, session)
        } else {
            no_tunnel(tunnel)
        }
    }

    /// Whether `sel` names a tunnel instance that `show tunnels` lists without a tunnel.
    pub(super) fn shown_instance(&self, sel: &Selector) -> bool {
        self.instances
            .tunnel(&instance_text(sel))
            .is_some_and(|i| i.state.handle().is_none() && shown(i))
    }

    /// `show tunnel SEL`.
    pub(super) fn tunnel(&self, now: Instant, sel: &Selector) -> Result<TunnelDetail, CtlError> {
        let Some(h) = self.find_tunnel(sel).filter(|_| !self.waiting(sel)) else {
            let n = instance_text(sel);
            if let Some(inst) = self.instances.tunnel(&n)
                && shown(inst)
            {
                return Ok(TunnelDetail {
                    info: idle_tunnel_info(&n, inst),
                    protocol_state: match inst.state {
                        _ if inst.state.is_stopped() => "stopped".into(),
                        InstanceState::Resolving => "resolving its peer's name".into(),
                        _ => "waiting to retry".into(),
                    },
                    debug: inst.resolved.settings.debug,
                    settings: view::tunnel_settings(&inst.resolved.settings),
                    stats: ctl::TunnelStats::default(),
                    last_result: inst.last_result.clone(),
                    socket_mark: None,
                });
            }
            return Err(no_tunnel(sel));
        };
        let rec = self.registry.tunnel(h).ok_or_else(|| no_tunnel(sel))?;
        let ep = self.protocol.ep();
        // A static tunnel has no control connection for the protocol to know.
        let state = match ep.tunnel(rec.tid()) {
            Some(i) => i.state.to_string(),
            None if rec.is_static() => "static".to_owned(),
            None => "deleted".to_owned(),
        };
        let c = ep.tunnel_channel_stats(rec.tid()).unwrap_or_default();
        Ok(TunnelDetail {
            info: self.tunnel_info(now, h, rec),
            protocol_state: state,
            debug: rec.debug,
            settings: view::tunnel_settings(&rec.settings),
            stats: ctl::TunnelStats {
                control_rx_packets: rec.rx,
                control_tx_packets: rec.tx,
                retransmits: c.retransmitted,
                duplicates: c.duplicates,
                acks_sent: c.acks_sent,
                acks_received: c.acks_received,
                out_of_order: c.out_of_order,
                outside_window: c.outside_window,
                ..ctl::TunnelStats::default()
            },
            last_result: rec
                .last_result
                .clone()
                .or_else(|| self.last_attempt(h, rec)),
            socket_mark: None,
        })
    }

    /// For the attempt `rec` (`h`) of a tunnel instance that is still connecting: why the
    /// instance's attempt before it ended, which it has no result of its own to replace yet.
    fn last_attempt(&self, h: u64, rec: &TunnelRec) -> Option<ctl::ResultCode> {
        let inst = self.instances.tunnel(rec.origin.name.as_deref()?)?;
        let connecting = matches!(rec.phase(), Phase::Connecting { .. });
        (connecting && inst.state.handle() == Some(h))
            .then(|| inst.last_result.clone())
            .flatten()
    }

    /// `show sessions [TUNNEL]`.
    pub(super) fn sessions(
        &self,
        now: Instant,
        tunnel: Option<&Selector>,
    ) -> Result<Vec<SessionInfo>, CtlError> {
        let only = match tunnel {
            Some(sel) => match self.find_tunnel(sel) {
                Some(h) => Some(Some(h)),
                // Listed by `show tunnels`, without a tunnel now: its waiting sessions only.
                None if self.shown_instance(sel) => Some(None),
                None => return Err(no_tunnel(sel)),
            },
            None => None,
        };
        let mut out: Vec<SessionInfo> = self
            .registry
            .sessions()
            .filter(|(_, s)| only.is_none_or(|h| h == Some(s.tunnel)))
            .map(|(h, s)| self.session_info(now, h, s))
            .collect();
        let of = tunnel.map(|sel| self.instance_name(sel));
        out.extend(
            self.waiting_sessions(None, of.as_ref().map(Option::as_deref))
                .map(|(_, info)| info),
        );
        Ok(out)
    }

    /// The name of the tunnel instance `sel` names (`None`: a tunnel no instance made).
    pub(super) fn instance_name(&self, sel: &Selector) -> Option<String> {
        match (self.find_tunnel(sel), sel) {
            (Some(h), _) => self.registry.tunnel(h)?.origin.name.clone(),
            (None, Selector::Name(n)) => Some(n.clone()),
            // An instance named with the digits, waiting for its tunnel.
            (None, Selector::Id(id)) => {
                let n = id.to_string();
                self.instances.tunnel(&n).is_some().then_some(n)
            }
        }
    }

    /// The session instances, by name from `from`, that have no session now (their tunnel is
    /// not up, or they wait to try again) and are not deleted or given up, with their rows; `of`: only those of
    /// tunnel instance `Some(name)` (`Some(None)`: none).
    fn waiting_sessions<'a>(
        &'a self,
        from: Option<&'a str>,
        of: Option<Option<&'a str>>,
    ) -> impl Iterator<Item = (&'a String, SessionInfo)> + 'a {
        self.instances
            .sessions_from(from)
            .filter(move |(_, i)| {
                i.state.handle().is_none()
                    && !i.state.is_stopped()
                    && of.is_none_or(|t| t == Some(i.resolved.tunnel.as_str()))
            })
            .map(|(name, inst)| (name, self.idle_session_info(name, inst)))
    }

    /// `show session TUNNEL NAME` of a session instance that has no session now (as
    /// [`Self::waiting_sessions`] lists it), or the error that there is no such session.
    fn waiting_session(
        &self,
        tunnel: &Selector,
        session: &Selector,
    ) -> Result<SessionDetail, CtlError> {
        if self.find_tunnel(tunnel).is_none() && !self.shown_instance(tunnel) {
            return Err(no_tunnel(tunnel));
        }
        let of = self.instance_name(tunnel);
        let name = &instance_text(session);
        let Some((_, info)) = self
            .waiting_sessions(Some(name), Some(of.as_deref()))
            .next()
            .filter(|(n, _)| *n == name)
        else {
            return Err(no_session(tunnel, session));
        };
        let inst = self
            .instances
            .session(name)
            .ok_or_else(|| no_session(tunnel, session))?;
        Ok(SessionDetail {
            protocol_state: match inst.state {
                InstanceState::Waiting { .. } => "waiting to retry".into(),
                _ => "waiting for its tunnel".into(),
            },
            debug: inst.resolved.settings.debug,
            settings: view::session_settings(&inst.resolved.settings),
            stats: ctl::SessionStats::default(),
            last_result: inst.last_result.clone(),
            call: ctl::CallInfo::default(),
            ppp: None,
            info,
        })
    }

    /// The row of session instance `name` without a session.
    fn idle_session_info(
        &self,
        name: &str,
        inst: &Instance<l2tp_config::ResolvedSession>,
    ) -> SessionInfo {
        let r = &inst.resolved;
        let tunnel = self
            .instances
            .tunnel(&r.tunnel)
            .and_then(|t| t.state.handle())
            .and_then(|h| self.registry.tunnel(h));
        SessionInfo {
            tid: tunnel.map_or(0, TunnelRec::tid),
            sid: 0,
            peer_tid: tunnel.map_or(0, |t| t.peer_tid),
            peer_sid: 0,
            name: Some(name.to_owned()),
            state: ctl::State::Idle,
            pseudowire_type: ctl::PseudowireType::from_number(r.settings.pseudowire_type.number()),
            interface_name: None,
            tunnel_name: Some(r.tunnel.clone()),
            created_by: inst.created_by,
            uptime_s: 0,
            profile: r.profile.clone(),
            pseudowire_profile: r.pseudowire_profile.clone(),
            ppp_user: None,
            ppp_ipv4: None,
        }
    }

    /// `show session TUNNEL SEL`.
    pub(super) fn session(
        &self,
        now: Instant,
        tunnel: &Selector,
        session: &Selector,
    ) -> Result<SessionDetail, CtlError> {
        let found = self
            .find_tunnel(tunnel)
            .and_then(|th| self.find_session(th, session));
        let Some(sh) = found else {
            return self.waiting_session(tunnel, session);
        };
        let rec = self.registry.session(sh).ok_or_else(|| no_tunnel(tunnel))?;
        let engine = self.protocol.session_info(sh, rec.tid(), rec.sid());
        let state = match &engine {
            Some(s) => s.state.to_string(),
            None if rec.is_static => "static".to_owned(),
            None => "deleted".to_owned(),
        };
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
            call: ctl::CallInfo {
                calling_number: rec.calling_number().map(text),
                called_number: rec.called_number().map(text),
                sub_address: rec.sub_address().map(text),
                peer_host_name: self
                    .protocol
                    .ep()
                    .tunnel(rec.tid())
                    .map(|t| t.peer_host_name)
                    .filter(|h| !h.is_empty())
                    .map(|h| text(&h)),
                tx_connect_speed: rec.connect_speed.map(|c| c.tx),
                rx_connect_speed: rec.connect_speed.and_then(|c| c.rx),
                connect_speed_updates: rec.speed_updates(),
                access_line: rec.access_line().map_or_else(Default::default, |l| {
                    l.pairs()
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect()
                }),
            },
            ppp: rec.ppp.as_ref().map(|p| p.detail(now)),
        })
    }

    /// The numbers of tunnels and sessions.
    pub(super) fn counts(&self) -> Counts {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        let (t, s) = (self.registry.tunnel_tally(), self.registry.session_tally());
        Counts {
            tunnels: n(t.total),
            tunnels_up: n(t.up),
            sessions: n(s.total),
            sessions_up: n(s.up),
        }
    }

    /// What a scrape reads: tunnels and sessions by state and version, set-up latency,
    /// teardowns, and a row per tunnel (and per session) when `detail` asks for them. One pass
    /// over the tunnels and one over the sessions.
    pub(super) fn figures(&self, detail: MetricsDetail) -> EngineFigures {
        let ep = self.protocol.ep();
        let mut f = EngineFigures::default();
        let mut versions = HashMap::with_capacity(self.registry.tunnel_tally().total);
        for (h, t) in self.registry.tunnels() {
            let info = ep.tunnel(t.tid());
            let version = info.as_ref().map_or_else(
                || translate::version(t.settings.version).number(),
                |i| i.version.number(),
            );
            versions.insert(h, version);
            f.tunnels.add(phase_index(t.phase()), version);
            if detail != MetricsDetail::None {
                f.tunnel_rows.push(TunnelRow {
                    tid: t.tid(),
                    name: t.origin.name.clone(),
                    peer: info.map_or_else(
                        || t.udp_peer().map(|p| p.1.to_string()).unwrap_or_default(),
                        |i| i.remote.to_string(),
                    ),
                    version,
                    state: phase_index(t.phase()),
                    sessions: self.registry.sessions_of(h),
                    control_rx: t.rx,
                    control_tx: t.tx,
                    retransmits: ep
                        .tunnel_channel_stats(t.tid())
                        .map_or(0, |c| c.retransmitted),
                });
            }
        }
        for (_, s) in self.registry.sessions() {
            let version = versions.get(&s.tunnel).copied().unwrap_or(3);
            f.sessions.add(phase_index(s.phase()), version);
            if detail == MetricsDetail::Sessions {
                f.session_rows.push(SessionRow {
                    tid: s.tid(),
                    sid: s.sid(),
                    name: s.origin.name.clone(),
                    interface: s.interface(),
                    state: phase_index(s.phase()),
                    data: None,
                });
            }
        }
        let (tunnel_setup, session_setup) = self.registry.setup_latency();
        f.tunnel_setup = tunnel_setup.clone();
        f.session_setup = session_setup.clone();
        (f.tunnel_teardowns, f.session_teardowns) = self.registry.teardowns();
        f
    }

    fn tunnel_info(&self, now: Instant, handle: u64, rec: &TunnelRec) -> TunnelInfo {
        let info = self.protocol.ep().tunnel(rec.tid());
        let live = rec.phase().is_live();
        let (state, local, peer) = match (&info, rec.control) {
            (Some(i), _) => (
                tunnel_state(i.state, live),
                i.local.to_string(),
                i.remote.to_string(),
            ),
            (None, Control::Static { local, remote }) => {
                let state = if rec.phase().is_up() {
                    ctl::State::Up
                } else {
                    ctl::State::Closing
                };
                let over_ip =
                    translate::encap(rec.settings.encap) == proto::wire::header::Encapsulation::Ip;
                let show = |a: std::net::SocketAddr| {
                    if over_ip {
                        a.ip().to_string()
                    } else {
                        a.to_string()
                    }
                };
                (state, show(local), show(remote))
            }
            (None, Control::Managed) => (ctl::State::Closing, String::new(), String::new()),
        };
        TunnelInfo {
            tid: rec.tid(),
            peer_tid: info.as_ref().map_or(rec.peer_tid, |i| i.peer_tunnel_id),
            name: rec.origin.name.clone(),
            state,
            version: info.as_ref().map_or_else(
                || translate::version(rec.settings.version).number(),
                |i| i.version.number(),
            ),
            encap: ctl_encap(translate::encap(rec.settings.encap)),
            local,
            peer,
            created_by: rec.origin.created_by,
            sessions: self.registry.sessions_of(handle),
            uptime_s: rec.phase().uptime(now).as_secs(),
            profile: rec.profile.clone(),
            peer_host_name: info
                .as_ref()
                .filter(|i| !i.peer_host_name.is_empty())
                .map(|i| text(&i.peer_host_name)),
            same_peer: rec
                .udp_peer()
                .filter(|_| rec.phase().is_live())
                .map_or_else(Vec::new, |p| self.registry.live_same_peer(handle, p)),
        }
    }

    fn session_info(&self, now: Instant, handle: u64, rec: &SessionRec) -> SessionInfo {
        let info = self.protocol.session_info(handle, rec.tid(), rec.sid());
        let tunnel = self.registry.tunnel(rec.tunnel);
        let peer_tid = if rec.peer_tid != 0 {
            rec.peer_tid
        } else {
            tunnel.map_or(0, |t| t.peer_tid)
        };
        SessionInfo {
            tid: rec.tid(),
            sid: rec.sid(),
            peer_tid,
            peer_sid: info.as_ref().map_or(rec.peer_sid, |i| i.peer_session_id),
            name: rec.origin.name.clone(),
            state: match &info {
                Some(i) => session_state(i.state, rec.phase().is_live()),
                None if rec.is_static && rec.phase().is_up() => ctl::State::Up,
                None => ctl::State::Closing,
            },
            pseudowire_type: ctl::PseudowireType::from_number(rec.pw_type),
            interface_name: rec
                .interface_name
                .clone()
                .or_else(|| rec.configured_interface()),
            tunnel_name: tunnel.and_then(|t| t.origin.name.clone()),
            created_by: rec.origin.created_by,
            uptime_s: rec.phase().uptime(now).as_secs(),
            profile: rec.profile.clone(),
            pseudowire_profile: rec.pw_profile.clone(),
            ppp_user: rec.ppp.as_ref().and_then(|p| p.user()),
            ppp_ipv4: rec.ppp.as_ref().and_then(|p| p.peer_ipv4()),
        }
    }
}

/// The rows of a listing's records, by handle from a handle on (`None` for a record not
/// listed, which counts as looked at all the same).
type Records<'a, T> = Box<dyn Iterator<Item = (u64, Option<T>)> + 'a>;

/// The rows of a listing's instances without a record, by name from a name on.
type Idle<'a, T> = Box<dyn Iterator<Item = (&'a String, T)> + 'a>;

/// One page of a listing: its records, then its instances without a record; at most `budget`
/// looked at from `from`, the rows `keep` takes returned.
fn page<'a, T>(
    from: Option<&'a ListCursor>,
    budget: usize,
    records: impl FnOnce(Option<u64>) -> Records<'a, T>,
    idle: impl FnOnce(Option<&'a str>) -> Idle<'a, T>,
    keep: impl Fn(&T) -> bool,
) -> ListPage<T> {
    let mut items = Vec::new();
    let mut looked = 0;
    let idle_from = match from {
        Some(ListCursor::Instance(name)) => Some(name.as_str()),
        records_from => {
            let at = match records_from {
                Some(ListCursor::Record(h)) => Some(*h),
                _ => None,
            };
            for (h, row) in records(at) {
                if looked == budget {
                    let next = Some(ListCursor::Record(h));
                    return ListPage { items, next };
                }
                looked += 1;
                items.extend(row.filter(|r| keep(r)));
            }
            None
        }
    };
    for (name, row) in idle(idle_from) {
        if looked == budget {
            let next = Some(ListCursor::Instance(name.clone()));
            return ListPage { items, next };
        }
        looked += 1;
        if keep(&row) {
            items.push(row);
        }
    }
    ListPage { items, next: None }
}

/// An AVP's octets as text: as they are when printable, else `hex:` and their hexadecimal.
fn text(bytes: &[u8]) -> String {
    if scripts::is_printable(bytes) {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        format!("hex:{}", scripts::hex(bytes))
    }
}

/// Whether a tunnel instance without a tunnel is shown: not one made by `l2tpctl create
/// tunnel` and deleted since, which is gone (l2tpctl(1), `delete tunnel`); a deleted one of the
/// config file is shown as stopped until a reload or restart.
pub(super) fn shown(inst: &Instance<l2tp_config::ResolvedTunnel>) -> bool {
    !(inst.created_by == ctl::CreatedBy::Cli && inst.state == InstanceState::Stopped)
}

fn idle_tunnel_info(name: &str, inst: &Instance<l2tp_config::ResolvedTunnel>) -> TunnelInfo {
    let s = &inst.resolved.settings;
    TunnelInfo {
        tid: 0,
        peer_tid: 0,
        name: Some(name.to_owned()),
        state: ctl::State::Idle,
        version: translate::version(s.version).number(),
        encap: ctl_encap(translate::encap(s.encap)),
        local: String::new(),
        peer: peers_text(&inst.resolved.peers),
        created_by: inst.created_by,
        sessions: 0,
        uptime_s: 0,
        profile: inst.resolved.profile.clone(),
        peer_host_name: None,
        same_peer: Vec::new(),
    }
}

/// An instance's peers as `show tunnel` gives them: space-separated.
fn peers_text(peers: &[l2tp_config::Endpoint]) -> String {
    let text: Vec<String> = peers.iter().map(ToString::to_string).collect();
    text.join(" ")
}

/// The index in `metrics::snapshot::STATES` of a phase.
fn phase_index(phase: Phase) -> usize {
    match phase {
        Phase::Connecting { .. } => 0,
        Phase::Up { .. } => 1,
        Phase::Closing { .. } => 2,
    }
}

fn tunnel_state(state: TunnelState, live: bool) -> ctl::State {
    match state {
        _ if !live => ctl::State::Closing,
        TunnelState::Idle => ctl::State::Idle,
        TunnelState::WaitCtlReply | TunnelState::WaitCtlConn => ctl::State::Connecting,
        TunnelState::Established => ctl::State::Up,
        TunnelState::Closing => ctl::State::Closing,
    }
}

fn session_state(state: SessionState, live: bool) -> ctl::State {
    match state {
        _ if !live => ctl::State::Closing,
        SessionState::Idle => ctl::State::Idle,
        SessionState::Established => ctl::State::Up,
        _ => ctl::State::Connecting,
    }
}

/// The engine's counters: the protocol fields of [`SystemStats`] (the shell adds its own).
pub(super) fn stats(
    protocol: &Protocol,
    registry: &Registry,
    admission: &Admission,
) -> SystemStats {
    let s = protocol.ep().stats();
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
        ("late_cdn", m.late_cdn),
        ("data", m.data),
        ("l2f", m.l2f),
        ("outside_window", m.outside_window),
        ("invalid_nr", m.invalid_nr),
        ("wrong_state", m.wrong_state),
        ("unsupported_message", m.unsupported_message),
        ("speed_update_ignored", m.speed_update_ignored),
        ("call_parameters", m.call_parameters),
        ("wrong_peer", m.wrong_peer),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    let refused: u64 = admission.tunnels_refused().values().sum();
    let mut tunnels_refused: BTreeMap<String, u64> = admission
        .tunnels_refused()
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect();
    for (reason, n) in [
        ("peer_setup_rate", m.peer_setup_rate),
        ("max_setup_tunnels", m.max_setup_tunnels),
        ("setup_evicted", s.setup_evicted),
    ] {
        if n > 0 {
            *tunnels_refused.entry(reason.to_owned()).or_default() += n;
        }
    }
    let mut sessions_refused: BTreeMap<String, u64> = admission
        .sessions_refused()
        .iter()
        .map(|(k, n)| ((*k).to_owned(), *n))
        .collect();
    if s.tunnel_max_sessions > 0 {
        sessions_refused.insert("tunnel_max_sessions".into(), s.tunnel_max_sessions);
    }
    let (tunnel_failures, session_failures) = registry.setup_failures();
    SystemStats {
        acks_sent: s.acks_sent,
        acks_received: s.acks_received,
        messages_sent: by_type(&s.sent),
        messages_received: by_type(&s.received),
        tunnels_refused,
        sessions_refused,
        malformed,
        rx_discards: m.header
            + m.body
            + m.unknown_tunnel
            + m.unknown_session
            + m.data
            + m.outside_window
            + m.invalid_nr
            + m.wrong_peer
            + m.peer_setup_rate
            + m.max_setup_tunnels,
        retransmits: s.retransmissions,
        auth_failures: s.auth_failures,
        tunnels_created: s.tunnels_created,
        tunnel_setup_failures: tunnel_failures + refused,
        sessions_created: s.sessions_created,
        session_setup_failures: session_failures,
        ..SystemStats::default()
    }
}
