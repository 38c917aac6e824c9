//! `show tunnels` and `show tunnel`.

use std::time::Instant;

use l2tp_ctl::{self as ctl, CtlError, Selector, TunnelDetail, TunnelInfo};
use l2tp_proto::{self as proto, TunnelState};

use super::super::instances::{Instance, InstanceState};
use super::super::notify::{self, ctl_encap};
use super::super::registry::{Control, Phase, TunnelRec};
use super::super::translate;
use super::page::{ListCursor, ListPage, page};
use super::{Views, instance_text, no_tunnel, shown, text};
use crate::view;

impl Views<'_> {
    /// `show tunnels`: every tunnel, then the instances waiting between attempts.
    pub(in crate::engine) fn tunnels(&self, now: Instant) -> Vec<TunnelInfo> {
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
    pub(in crate::engine) fn tunnels_page(
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

    /// `show tunnel SEL`.
    pub(in crate::engine) fn tunnel(
        &self,
        now: Instant,
        sel: &Selector,
    ) -> Result<TunnelDetail, CtlError> {
        let Some(h) = self.find_tunnel(sel) else {
            let n = instance_text(sel);
            if let Some(inst) = self.instances.tunnel(&n)
                && shown(inst)
            {
                return Ok(TunnelDetail {
                    info: idle_tunnel_info(&n, inst),
                    protocol_state: match inst.state {
                        _ if inst.state.is_stopped() => "stopped".into(),
                        InstanceState::Resolving => "resolving its peer's name".into(),
                        // Not retried (idle_timeout, l2tpd.conf(5)).
                        InstanceState::Idle => {
                            "closed for being idle: opened again for its next session".into()
                        }
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
                .last_down
                .as_deref()
                .map(notify::result_code)
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

    fn tunnel_info(&self, now: Instant, handle: u64, rec: &TunnelRec) -> TunnelInfo {
        let info = self.protocol.ep().tunnel(rec.tid());
        let live = !self.tunnel_going(rec);
        // Over IP there are no ports: the addresses alone.
        let over_ip =
            translate::encap(rec.settings.encap) == proto::wire::header::Encapsulation::Ip;
        let show = |a: std::net::SocketAddr| {
            if over_ip {
                a.ip().to_string()
            } else {
                a.to_string()
            }
        };
        // The address in use, not the one asked for: a client tunnel on a wildcard listen
        // address, or with none of the peer's family, learns it from the peer's datagrams.
        let in_use = |a: std::net::SocketAddr| {
            let vague = a.ip().is_unspecified() || (a.port() == 0 && !over_ip);
            rec.local_seen.filter(|_| vague).unwrap_or(a)
        };
        let (state, local, peer) = match (&info, rec.control) {
            (Some(i), _) => (
                tunnel_state(i.state, live),
                show(in_use(i.local)),
                show(i.remote),
            ),
            (None, Control::Static { local, remote }) => {
                let state = if rec.phase().is_up() {
                    ctl::State::Up
                } else {
                    ctl::State::Closing
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

fn tunnel_state(state: TunnelState, live: bool) -> ctl::State {
    match state {
        _ if !live => ctl::State::Closing,
        TunnelState::Idle => ctl::State::Idle,
        TunnelState::WaitCtlReply | TunnelState::WaitCtlConn => ctl::State::Connecting,
        TunnelState::Established => ctl::State::Up,
        TunnelState::Closing => ctl::State::Closing,
    }
}
