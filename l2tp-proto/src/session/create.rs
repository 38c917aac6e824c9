//! Creating sessions: a call placed locally (its record, id and cookie, the ICRQ or OCRQ sent
//! once the tunnel is up: RFC 2661 §7.3-§7.4 wait-tunnel, RFC 3931 §7.3.1 and §7.4.1
//! wait-control-conn), the record of a call the peer requests, and the renumbering of waiting
//! calls when a fallback probe settles the tunnel's version.

use std::sync::Arc;

use crate::endpoint::Endpoint;
use crate::event::{CommandError, Event, Origin, SessionHandle};
use crate::time::Instant;
use crate::tunnel::TunnelState;
use crate::wire::avp::Avp;
use crate::wire::avp::types::{circuit_status, pw_type};
use crate::wire::header::{Cookie, Version};
use crate::wire::message::{Message, MessageType};

use super::avps::{push_numbers, push_v3_session_params};
use super::{CallType, DataSequencing, Session, SessionConfig, SessionState, v2_key};

impl Endpoint {
    /// A local request to place a call in a tunnel.
    pub(crate) fn open_session(
        &mut self,
        now: Instant,
        tunnel_id: u32,
        handle: SessionHandle,
        call: CallType,
        config: Arc<SessionConfig>,
    ) -> Result<u32, CommandError> {
        let ti = *self
            .tunnel_ids
            .get(&tunnel_id)
            .ok_or(CommandError::NoSuchTunnel)?;
        let t = self.tunnels.get(ti).ok_or(CommandError::NoSuchTunnel)?;
        if t.state == TunnelState::Closing || t.pending.is_some() {
            return Err(CommandError::TunnelClosing);
        }
        let limit = t.config.max_sessions;
        if (limit != 0 && t.sessions.len() >= limit as usize) || self.session_limit_reached() {
            return Err(CommandError::LimitReached);
        }
        let established = t.state == TunnelState::Established;
        let si = self.new_session(ti, handle, config, call, true)?;
        let local_id = self.sessions.get(si).map_or(0, |s| s.local_id);
        self.announce_session(si, Origin::Local);
        if let Some(s) = self.sessions.get_mut(si) {
            s.deadline = Some(now + s.config.establish_timeout);
        }
        if established {
            self.send_session_request(now, si);
            self.flush(now, ti);
            self.reschedule_tunnel(ti);
        }
        self.reschedule_session(si);
        Ok(local_id)
    }

    /// Sends ICRQ/OCRQ for every session that waited for the tunnel.
    pub(crate) fn start_waiting_sessions(&mut self, now: Instant, ti: u32) {
        let Some(t) = self.tunnels.get(ti) else {
            return;
        };
        let waiting: Vec<u32> = t
            .sessions
            .iter()
            .copied()
            .filter(|si| {
                self.sessions
                    .get(*si)
                    .is_some_and(|s| s.state == SessionState::WaitTunnel)
            })
            .collect();
        for si in waiting {
            self.send_session_request(now, si);
        }
    }

    /// Our cookie for a new session: none in L2TPv2, else the configured one or a random one
    /// of the configured length.
    fn session_cookie(&mut self, version: Version, config: &SessionConfig) -> Cookie {
        match (version, config.cookie, config.cookie_length) {
            (Version::V2, _, _) => Cookie::NONE,
            (_, Some(cookie), _) => cookie,
            (_, None, len @ (4 | 8)) => {
                let bytes = self.random_bytes(usize::from(len));
                Cookie::new(&bytes).unwrap_or_default()
            }
            _ => Cookie::NONE,
        }
    }

    /// The peer's reply to a fallback probe settled the tunnel's version (RFC 3931 §4.7.3).
    /// Sessions opened while it was probing were numbered for the probe's version and are still
    /// waiting for the tunnel (nothing about them has been sent), so they get the id, cookie
    /// and role of the settled version, and are filed where its messages will look for them.
    pub(crate) fn settle_session_version(&mut self, ti: u32, old: Version) {
        let Some(t) = self.tunnels.get(ti) else {
            return;
        };
        let (new, tunnel_local, list) = (t.version, t.local_id, t.sessions.clone());
        if new == old {
            return;
        }
        for si in list {
            let Some(s) = self.sessions.get(si) else {
                continue;
            };
            let (old_id, config, call, initiator) =
                (s.local_id, s.config.clone(), s.call, s.initiator);
            match old {
                Version::V2 => self.v2_sessions.remove(&v2_key(tunnel_local, old_id)),
                Version::V3 => self.v3_sessions.remove(&old_id),
            };
            let Ok(id) = self.own_session_id(new, tunnel_local, config.local_id) else {
                continue;
            };
            let cookie = self.session_cookie(new, &config);
            if let Some(s) = self.sessions.get_mut(si) {
                s.local_id = id;
                s.cookie = cookie;
                s.lns = new == Version::V2 && (call == CallType::Incoming) != initiator;
                // L2TPv2 carries only PPP (RFC 2661); L2TPv3 the configured type.
                s.pw_type = if new == Version::V2 {
                    pw_type::PPP
                } else {
                    config.pw_type
                };
            }
            match new {
                Version::V2 => self.v2_sessions.insert(v2_key(tunnel_local, id), si),
                Version::V3 => self.v3_sessions.insert(id, si),
            };
        }
    }

    /// Our id for a session in tunnel `tunnel_id`: `fixed` (the configuration's) if it is
    /// free (as [`Self::allocate_session_id`] sees it) and fits, else a random free one.
    pub(crate) fn own_session_id(
        &mut self,
        version: Version,
        tunnel_id: u32,
        fixed: Option<u32>,
    ) -> Result<u32, crate::event::CommandError> {
        use crate::event::CommandError;
        let Some(id) = fixed else {
            return self
                .allocate_session_id(version, tunnel_id)
                .ok_or(CommandError::NoFreeId);
        };
        if !self.session_id_fits_and_is_free(version, tunnel_id, id) {
            return Err(CommandError::IdInUse(id));
        }
        Ok(id)
    }

    /// Whether `id` can be our id of a session in tunnel `tunnel_id` of `version`: not 0,
    /// within L2TPv2's 16 bits, and held by no session (of that tunnel in L2TPv2; of the host
    /// in L2TPv3, whose data packets name a session by its id alone, RFC 3931 §4.1).
    fn session_id_fits_and_is_free(&self, version: Version, tunnel_id: u32, id: u32) -> bool {
        let taken = match version {
            Version::V2 => id > 0xffff || self.v2_sessions.contains_key(&v2_key(tunnel_id, id)),
            Version::V3 => self.v3_sessions.contains_key(&id),
        };
        id != 0 && !taken
    }

    /// Whether a session of ours in tunnel `tunnel_id` could take `id` now (see
    /// [`crate::SessionConfig`]'s fixed id); `None`: no such tunnel.
    pub fn session_id_free(&self, tunnel_id: u32, id: u32) -> Option<bool> {
        let t = self.tunnels.get(*self.tunnel_ids.get(&tunnel_id)?)?;
        Some(self.session_id_fits_and_is_free(t.version, tunnel_id, id))
    }

    pub(super) fn new_session(
        &mut self,
        ti: u32,
        handle: SessionHandle,
        config: Arc<SessionConfig>,
        call: CallType,
        initiator: bool,
    ) -> Result<u32, CommandError> {
        let t = self.tunnels.get(ti).ok_or(CommandError::NoSuchTunnel)?;
        let version = t.version;
        let tunnel_local = t.local_id;
        let local_id = self.own_session_id(version, tunnel_local, config.local_id)?;
        let cookie = self.session_cookie(version, &config);
        self.next_serial = self.next_serial.wrapping_add(1);
        let lns = version == Version::V2 && (call == CallType::Incoming) != initiator;
        let session = Session {
            handle,
            tunnel: ti,
            position: 0,
            local_id,
            peer_id: 0,
            serial: self.next_serial,
            deadline: None,
            scheduled: None,
            cookie,
            peer_cookie: config.peer_cookie.unwrap_or_default(),
            l2spec: config.l2spec,
            pw_type: if version == Version::V2 {
                pw_type::PPP
            } else {
                config.pw_type
            },
            state: if initiator {
                SessionState::WaitTunnel
            } else {
                SessionState::Idle
            },
            call,
            initiator,
            lns,
            send_seq: false,
            recv_seq: config.data_sequencing != DataSequencing::None,
            installed: false,
            announced: false,
            rx_messages: 0,
            tx_messages: 0,
            tie_breaker: None,
            speed_updates: false,
            config,
        };
        let (si, _) = self.sessions.insert(session);
        let Some(t) = self.tunnels.get_mut(ti) else {
            return Err(CommandError::NoSuchTunnel);
        };
        let position = t.sessions.len() as u32;
        t.timers.stop(crate::timer::TimerKind::Idle);
        t.sessions.push(si);
        if let Some(s) = self.sessions.get_mut(si) {
            s.position = position;
        }
        match version {
            Version::V2 => self.v2_sessions.insert(v2_key(tunnel_local, local_id), si),
            Version::V3 => self.v3_sessions.insert(local_id, si),
        };
        self.stats.sessions_created += 1;
        Ok(si)
    }

    pub(super) fn announce_session(&mut self, si: u32, origin: Origin) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        s.announced = true;
        let Some(t) = self.tunnels.get(s.tunnel) else {
            return;
        };
        self.events.push_back(Event::SessionCreated {
            tunnel: t.handle,
            handle: s.handle,
            tunnel_id: t.local_id,
            session_id: s.local_id,
            origin,
        });
    }

    /// ICRQ or OCRQ (RFC 3931 §7.3.1, §7.4.1 wait-control-conn → wait-reply).
    fn send_session_request(&mut self, now: Instant, si: u32) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        let Some(t) = self.tunnels.get(s.tunnel) else {
            return;
        };
        let version = t.version;
        s.state = SessionState::WaitReply;
        let cfg = Arc::clone(&s.config);
        // RFC 3931 §5.4.4: a session for a named circuit (an End ID of the configuration)
        // carries a Session Tie Breaker, so that a peer calling for the same circuit at the
        // same time can tell which call stays.
        let tie_breaker =
            (version == Version::V3 && !cfg.remote_end_id.is_empty() && t.config.use_tiebreaker)
                .then(|| self.rng.next_u64());
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        s.tie_breaker = tie_breaker;
        if version == Version::V3 && !cfg.remote_end_id.is_empty() {
            self.calling_circuits
                .insert((s.tunnel, cfg.remote_end_id.clone()), si);
        }
        let kind = match s.call {
            CallType::Incoming => MessageType::Icrq,
            CallType::Outgoing => MessageType::Ocrq,
        };
        let mut msg = Message::new(kind);
        match version {
            Version::V2 => {
                msg.push(Avp::AssignedSessionId(s.local_id as u16), version);
                msg.push(Avp::CallSerialNumber(s.serial), version);
                if kind == MessageType::Ocrq {
                    msg.push(Avp::MinimumBps(0), version);
                    msg.push(Avp::MaximumBps(cfg.tx_speed()), version);
                    msg.push(Avp::BearerType(cfg.bearer_type), version);
                    msg.push(Avp::FramingType(cfg.framing_type), version);
                    msg.push(Avp::CalledNumber(cfg.called_number.clone()), version);
                } else {
                    msg.push(Avp::BearerType(cfg.bearer_type), version);
                    push_numbers(&mut msg, &cfg, version);
                }
            }
            Version::V3 => {
                msg.push(Avp::LocalSessionId(s.local_id), version);
                msg.push(Avp::RemoteSessionId(0), version);
                msg.push(Avp::CallSerialNumber(s.serial), version);
                msg.push(Avp::PseudowireType(s.pw_type), version);
                let end_id = if cfg.remote_end_id.is_empty() {
                    s.local_id.to_be_bytes().to_vec()
                } else {
                    cfg.remote_end_id.clone()
                };
                msg.push(Avp::RemoteEndId(end_id), version);
                if let Some(tb) = s.tie_breaker {
                    msg.push(Avp::TieBreaker(tb), version);
                }
                msg.push(
                    Avp::CircuitStatus(circuit_status::ACTIVE | circuit_status::NEW),
                    version,
                );
                push_v3_session_params(&mut msg, s);
                push_numbers(&mut msg, &cfg, version);
            }
        }
        // RFC 5515 §5: the Access Line Information of an incoming call, in its ICRQ.
        if let (MessageType::Icrq, Some(line)) = (kind, &cfg.access_line) {
            line.push_to(&mut msg);
        }
        // RFC 5515 §6.2: the LAC announces that it may send CSUNs for the call (M bit clear,
        // as for every RFC 5515 AVP).
        if kind == MessageType::Icrq && cfg.connect_speed_updates {
            msg.push(Avp::ConnectSpeedUpdateEnable(()), version);
            s.speed_updates = true;
        }
        let ti = s.tunnel;
        self.send_session(now, si, ti, msg, 0);
    }
}
