//! `show sessions` and `show session`.

use std::time::Instant;

use l2tp_ctl::{self as ctl, CtlError, Selector, SessionDetail, SessionInfo};
use l2tp_proto::SessionState;
use l2tp_proto::wire::header::L2SpecificSublayer;

use super::super::instances::{Instance, InstanceState};
use super::super::notify;
use super::super::registry::{DataPath, SessionRec, TunnelRec};
use super::super::translate;
use super::page::{ListCursor, ListPage, page};
use super::{Views, instance_text, no_session, no_tunnel, text};
use crate::view;

impl Views<'_> {
    /// Which sessions `show sessions [TUNNEL]` lists: every one (`None`), those of a tunnel
    /// (`Some(Some(handle))`), or none but the waiting ones of an instance that `show tunnels`
    /// lists without a tunnel now (`Some(None)`).
    fn only_tunnel(&self, tunnel: Option<&Selector>) -> Result<Option<Option<u64>>, CtlError> {
        Ok(match tunnel {
            Some(sel) => match self.find_tunnel(sel) {
                Some(h) => Some(Some(h)),
                None if self.shown_instance(sel) => Some(None),
                None => return Err(no_tunnel(sel)),
            },
            None => None,
        })
    }

    /// A page of `show sessions [TUNNEL]`: at most `budget` sessions looked at, from `from`,
    /// those of `tunnel` (every tunnel for `None`) in `state` kept.
    pub(in crate::engine) fn sessions_page(
        &self,
        now: Instant,
        (tunnel, state): (Option<&Selector>, Option<ctl::State>),
        from: Option<&ListCursor>,
        budget: usize,
    ) -> Result<ListPage<SessionInfo>, CtlError> {
        let only = self.only_tunnel(tunnel)?;
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
    /// `show sessions [TUNNEL]`.
    pub(in crate::engine) fn sessions(
        &self,
        now: Instant,
        tunnel: Option<&Selector>,
    ) -> Result<Vec<SessionInfo>, CtlError> {
        let only = self.only_tunnel(tunnel)?;
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
            call: Box::default(),
            ppp: None,
            in_use: None,
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
    pub(in crate::engine) fn session(
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
            last_result: rec.last_down.as_deref().map(notify::result_code),
            call: Box::new(ctl::CallInfo {
                calling_number: rec.calling_number().map(text),
                called_number: rec.called_number().map(text),
                sub_address: rec.sub_address().map(text),
                remote_end_id: rec.remote_end_id().map(text),
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
            }),
            ppp: rec.ppp.as_ref().map(|p| p.detail(now)),
            in_use: rec.data_path.map(|d| in_use(rec, d)),
        })
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
                Some(i) => session_state(i.state, !super::session_going(rec)),
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

/// What session `rec`'s data path uses (`d`), and where that is not what its profiles say.
fn in_use(rec: &SessionRec, d: DataPath) -> ctl::SessionInUse {
    let s = &rec.settings;
    let l2spec = match d.l2spec {
        L2SpecificSublayer::None => "none",
        L2SpecificSublayer::Default => "default",
    };
    let mut differs = Vec::new();
    if rec.pw_type != s.pseudowire_type.number() {
        differs.push("pseudowire_type");
    }
    // The sublayer and cookies are L2TPv3's; an L2TPv2 session has neither, whatever the
    // profile says.
    if d.v3 && d.l2spec != translate::l2spec(s.l2spec_type) {
        differs.push("l2spec_type");
    }
    if d.v3 && d.cookie_rx != s.cookie_length {
        differs.push("cookie_length");
    }
    // The profile asks for sequence numbers on receipt; the peer may ask for them as well,
    // which puts sequencing in force where the profile has none.
    let asked = s.data_sequencing != l2tp_config::DataSequencing::None;
    if asked != (d.recv_seq || d.send_seq) {
        differs.push("data_sequencing");
    }
    ctl::SessionInUse {
        pseudowire_type: ctl::PseudowireType::from_number(rec.pw_type),
        l2spec_type: d.v3.then(|| l2spec.to_owned()),
        cookie_length_received: d.v3.then_some(d.cookie_rx),
        cookie_length_sent: d.v3.then_some(d.cookie_tx),
        sequencing_sent: d.send_seq,
        sequencing_required: d.recv_seq,
        differs: differs.into_iter().map(str::to_owned).collect(),
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
