//! Session (call) state machines: L2TPv2 LAC and LNS for incoming and outgoing calls
//! (RFC 2661 §7.3, §7.4, §7.5) and L2TPv3 incoming and outgoing sessions (RFC 3931 §3.4, §7.3,
//! §7.4), with CDN from either side.
//!
//! Read RFC 2661 §7.3-§7.5 and RFC 3931 §3.4, §5.4.4 and §7.3-§7.4 before editing.
//!
//! As in [`crate::tunnel`], the handlers are methods of [`Endpoint`]. One state enum covers all
//! four roles; each role uses the subset of states its RFC table names. Decisions:
//!
//! - The recipient of an OCRQ (L2TPv2 LAC, L2TPv3 OCRQ recipient) has no call to place: it
//!   answers OCRP and OCCN at once, passing through wait-cs-answer.
//! - An L2TPv3 ICRQ/OCRQ must carry a Remote End ID (RFC 3931 §6.6); without one configured we
//!   send our session id (4 octets).
//! - Data sequencing: we require sequenced data from the peer when
//!   [`SessionConfig::data_sequencing`] says so; we send sequenced data when the peer's Data
//!   Sequencing AVP (L2TPv3) or Sequencing Required AVP (L2TPv2, both directions) asks for it.
//! - Session tie breakers (RFC 3931 §5.4.4): a call for a configured Remote End ID carries a
//!   Session Tie Breaker; of two calls for the same circuit crossing in one tunnel, the lower
//!   value (or the only one sent) wins and its side refuses the other with CDN result 13;
//!   with equal values, or none on either side, both calls are disconnected.
//! - Call parameters RFC 3931 §5.4.4 rules out (a pseudowire type we did not offer, data
//!   sequencing without an L2-Specific Sublayer) are refused with CDN 14 or 15 before the
//!   caller is asked (`refusals`).
//! - A session keeps only what the data plane and the later messages need (ids, cookies,
//!   flags, a shared `Arc` of its profile); per established idle session this is about
//!   100 octets plus the id map entries.

use std::fmt;
use std::sync::Arc;

use crate::endpoint::Endpoint;
use crate::event::{
    CommandError, DataplaneRequest, Decision, DecisionId, DownCause, DownReason, Event, Origin,
    Refusal, SessionHandle, SessionParams, SessionRequest,
};
use crate::time::Instant;
use crate::timer::Owner;
use crate::tunnel::TunnelState;
use crate::wire::avp::Avp;
use crate::wire::avp::types::{ResultCode, circuit_status, pw_type};
use crate::wire::header::{Cookie, L2SpecificSublayer, Version};
use crate::wire::message::{Message, MessageType};
use crate::wire::result::result_code::cdn;

mod config;
mod refusals;

pub use config::{CallType, DataSequencing, SessionConfig};

/// Session states, named as in RFC 2661 §7.3-§7.4 and RFC 3931 §7.3-§7.4.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum SessionState {
    /// No call yet; a recipient waits here for the caller's decision.
    Idle,
    /// The request waits for the tunnel (RFC 2661 wait-tunnel, RFC 3931 wait-control-conn).
    WaitTunnel,
    /// ICRQ/OCRQ sent, waiting for ICRP/OCRP.
    WaitReply,
    /// ICRP sent (waiting for ICCN), or OCRP received (waiting for OCCN).
    WaitConnect,
    /// OCRQ accepted, placing the call.
    WaitCsAnswer,
    /// The call is up.
    Established,
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::WaitTunnel => "wait-tunnel",
            Self::WaitReply => "wait-reply",
            Self::WaitConnect => "wait-connect",
            Self::WaitCsAnswer => "wait-cs-answer",
            Self::Established => "established",
        })
    }
}

/// One session. Kept small: 100 000 of these must fit comfortably in memory.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) handle: SessionHandle,
    pub(crate) config: Arc<SessionConfig>,
    /// Slab index of the tunnel.
    pub(crate) tunnel: u32,
    /// Position in the tunnel's session list.
    pub(crate) position: u32,
    pub(crate) local_id: u32,
    pub(crate) peer_id: u32,
    pub(crate) serial: u32,
    pub(crate) deadline: Option<Instant>,
    pub(crate) scheduled: Option<Instant>,
    pub(crate) cookie: Cookie,
    pub(crate) peer_cookie: Cookie,
    /// The L2-Specific Sublayer in use: ours until the peer says which it requires
    /// (RFC 3931 §5.4.4), then the peer's.
    pub(crate) l2spec: L2SpecificSublayer,
    pub(crate) pw_type: u16,
    pub(crate) state: SessionState,
    pub(crate) call: CallType,
    /// We sent the ICRQ/OCRQ.
    pub(crate) initiator: bool,
    pub(crate) lns: bool,
    pub(crate) send_seq: bool,
    pub(crate) recv_seq: bool,
    pub(crate) installed: bool,
    pub(crate) announced: bool,
    /// Control messages of this session received and sent.
    pub(crate) rx_messages: u32,
    pub(crate) tx_messages: u32,
    /// The Session Tie Breaker we sent in our ICRQ/OCRQ (RFC 3931 §5.4.4).
    pub(crate) tie_breaker: Option<u64>,
}

impl Endpoint {
    /// [`Endpoint::send`] for a message of session `si`, counted for that session.
    fn send_session(&mut self, now: Instant, si: u32, ti: u32, msg: Message, v2_session: u16) {
        if let Some(s) = self.sessions.get_mut(si) {
            s.tx_messages = s.tx_messages.saturating_add(1);
        }
        self.send(now, ti, msg, v2_session);
    }

    /// An SLI with `accm` on established session `si` (RFC 2661 §6.14; RFC 3931 §6.15 keeps it
    /// for PPP pseudowires).
    pub(crate) fn send_link_info(
        &mut self,
        now: Instant,
        si: u32,
        accm: crate::wire::avp::types::Accm,
    ) -> Result<(), CommandError> {
        let s = self.sessions.get(si).ok_or(CommandError::NoSuchSession)?;
        if s.state != SessionState::Established {
            return Err(CommandError::NoSuchSession);
        }
        let ti = s.tunnel;
        let version = self
            .tunnels
            .get(ti)
            .ok_or(CommandError::NoSuchTunnel)?
            .version;
        let mut msg = Message::new(MessageType::Sli);
        if version == Version::V3 {
            msg.push(Avp::LocalSessionId(s.local_id), version);
            msg.push(Avp::RemoteSessionId(s.peer_id), version);
        }
        msg.push(Avp::Accm(accm), version);
        let peer_sid = s.peer_id as u16;
        self.send_session(now, si, ti, msg, peer_sid);
        Ok(())
    }

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
            let Some(id) = self.allocate_session_id(new, tunnel_local) else {
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

    fn new_session(
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
        let local_id = self
            .allocate_session_id(version, tunnel_local)
            .ok_or(CommandError::NoFreeId)?;
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

    fn announce_session(&mut self, si: u32, origin: Origin) {
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
                    msg.push(Avp::MaximumBps(cfg.tx_connect_speed), version);
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
        let ti = s.tunnel;
        self.send_session(now, si, ti, msg, 0);
    }

    /// A session message delivered in order on an established tunnel.
    pub(crate) fn session_message(&mut self, now: Instant, ti: u32, v2_sid: u16, msg: Message) {
        let Some(t) = self.tunnels.get(ti) else {
            return;
        };
        if t.state != TunnelState::Established {
            let (remote, id) = (t.remote, t.local_id);
            self.discard(
                remote,
                id,
                crate::guard::Discard::WrongState(msg.message_type),
            );
            let refusal = Refusal {
                result: crate::wire::result::result_code::stop_ccn::FSM_ERROR,
                error: None,
                message: Some(format!("{} before the tunnel is up", msg.message_type)),
            };
            self.close_tunnel(now, ti, refusal, DownCause::Local);
            return;
        }
        let version = t.version;
        let tunnel_local = t.local_id;
        let ours = match version {
            Version::V2 => u32::from(v2_sid),
            Version::V3 => msg.remote_session_id().copied().unwrap_or(0),
        };
        let remote = t.remote;
        if ours == 0 {
            match msg.message_type {
                MessageType::Icrq | MessageType::Ocrq => self.on_request(now, ti, msg),
                _ => {
                    self.stats.malformed.unknown_session += 1;
                    let problem = crate::guard::Discard::UnknownSession(0);
                    self.discard(remote, tunnel_local, problem);
                }
            }
            return;
        }
        let si = match version {
            Version::V2 => self.v2_sessions.get(&v2_key(tunnel_local, ours)),
            Version::V3 => self.v3_sessions.get(&ours),
        }
        .copied()
        .filter(|si| self.sessions.get(*si).is_some_and(|s| s.tunnel == ti));
        let Some(si) = si else {
            self.stats.malformed.unknown_session += 1;
            let problem = crate::guard::Discard::UnknownSession(ours);
            self.discard(remote, tunnel_local, problem);
            return;
        };
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        s.rx_messages = s.rx_messages.saturating_add(1);
        let state = s.state;
        match (msg.message_type, state) {
            (MessageType::Cdn, _) => {
                let result = msg.result_code().cloned().unwrap_or_default();
                let reason = DownReason {
                    cause: DownCause::Peer,
                    result: result.result,
                    error: result.error,
                    message: result
                        .message
                        .map(|m| String::from_utf8_lossy(&m).into_owned()),
                };
                self.session_down(si, reason);
                self.destroy_session(now, si);
            }
            (MessageType::Icrp | MessageType::Ocrp, SessionState::WaitReply)
                if version == Version::V3
                    && let Some(refusal) = refusals::call_refusal(&msg, &[]) =>
            {
                self.refuse_parameters(now, ti, si, msg.message_type, refusal);
            }
            (MessageType::Icrp, SessionState::WaitReply) if s.call == CallType::Incoming => {
                learn_session(s, &msg, version);
                let mut reply = Message::new(MessageType::Iccn);
                push_connected(&mut reply, s, version);
                let sid = s.peer_id as u16;
                self.send_session(now, si, ti, reply, sid);
                self.session_established(si);
            }
            (MessageType::Ocrp, SessionState::WaitReply) if s.call == CallType::Outgoing => {
                learn_session(s, &msg, version);
                s.state = SessionState::WaitConnect;
            }
            (MessageType::Occn, SessionState::WaitConnect) if s.call == CallType::Outgoing => {
                learn_session(s, &msg, version);
                self.session_established(si);
            }
            (MessageType::Iccn, SessionState::WaitConnect) if s.call == CallType::Incoming => {
                learn_session(s, &msg, version);
                self.session_established(si);
            }
            (MessageType::Wen, _) => {
                let errors = msg.call_errors().copied().unwrap_or_default();
                self.events.push_back(Event::WanErrorNotify {
                    handle: s.handle,
                    session_id: s.local_id,
                    errors,
                });
            }
            (MessageType::Sli, _) => {
                self.events.push_back(Event::SetLinkInfo {
                    handle: s.handle,
                    session_id: s.local_id,
                    accm: msg.accm().copied(),
                });
            }
            _ => {
                // RFC 3931 §7.3-§7.4: any other message in this state: CDN and clean up.
                if let Some(t) = self.tunnels.get(ti) {
                    let (remote, id) = (t.remote, t.local_id);
                    self.discard(
                        remote,
                        id,
                        crate::guard::Discard::WrongState(msg.message_type),
                    );
                }
                let refusal = Refusal {
                    result: if version == Version::V3 {
                        cdn::FSM_ERROR
                    } else {
                        cdn::GENERAL_ERROR
                    },
                    error: None,
                    message: Some(format!("unexpected {}", msg.message_type)),
                };
                self.close_session(now, si, refusal);
            }
        }
    }

    /// ICRQ or OCRQ from the peer: create the session and ask the caller.
    fn on_request(&mut self, now: Instant, ti: u32, msg: Message) {
        let Some(t) = self.tunnels.get(ti) else {
            return;
        };
        let version = t.version;
        let call = if msg.message_type == MessageType::Icrq {
            CallType::Incoming
        } else {
            CallType::Outgoing
        };
        let limit = t.config.max_sessions;
        let pw_caps = t.config.pseudowire_caps.clone();
        let full =
            (limit != 0 && t.sessions.len() >= limit as usize) || self.session_limit_reached();
        let tunnel_handle = t.handle;
        let tunnel_id = t.local_id;
        let config = Arc::clone(&self.config.default_session);
        let Ok(si) = self.new_session(ti, SessionHandle::default(), config, call, false) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        // The ICRQ or OCRQ that made it.
        s.rx_messages = 1;
        learn_session(s, &msg, version);
        if version == Version::V3 {
            s.pw_type = msg.pseudowire_type().copied().unwrap_or(pw_type::PPP);
        }
        if full {
            self.close_session(now, si, Refusal::limit_reached());
            return;
        }
        if version == Version::V3
            && let Some(refusal) = refusals::call_refusal(&msg, &pw_caps)
        {
            self.refuse_parameters(now, ti, si, msg.message_type, refusal);
            return;
        }
        if version == Version::V3 && !self.break_session_tie(now, ti, si, &msg) {
            return;
        }
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        s.deadline = Some(now + self.config.decision_timeout);
        let (local_id, peer_id, pw) = (s.local_id, s.peer_id, s.pw_type);
        let generation = self.sessions.generation(si);
        let request = SessionRequest {
            id: DecisionId {
                index: si,
                generation,
            },
            tunnel: tunnel_handle,
            tunnel_id,
            session_id: local_id,
            peer_session_id: peer_id,
            call,
            pw_type: pw,
            remote_end_id: msg.remote_end_id().cloned(),
            calling_number: msg.calling_number().cloned(),
            called_number: msg.called_number().cloned(),
            sub_address: msg.sub_address().cloned(),
            serial: msg.call_serial_number().copied(),
        };
        self.decisions.push_back(Decision::Session(request));
        self.reschedule_session(si);
    }

    /// The caller's answer to a [`SessionRequest`].
    pub(crate) fn answer_session(
        &mut self,
        now: Instant,
        id: DecisionId,
        answer: Result<(SessionHandle, Arc<SessionConfig>), Refusal>,
    ) -> Result<(), CommandError> {
        let si = id.index;
        let s = self
            .sessions
            .get_checked(si, id.generation)
            .filter(|s| s.state == SessionState::Idle && !s.initiator)
            .ok_or(CommandError::NoSuchDecision)?;
        let ti = s.tunnel;
        let (handle, config) = match answer {
            Ok(answer) => answer,
            Err(refusal) => {
                self.close_session(now, si, refusal);
                self.flush(now, ti);
                self.reschedule_tunnel(ti);
                return Ok(());
            }
        };
        let version = self.tunnels.get(ti).map_or(Version::V3, |t| t.version);
        let cookie = match (version, config.cookie, config.cookie_length) {
            (Version::V2, _, _) => Cookie::NONE,
            (_, Some(cookie), _) => cookie,
            (_, None, len @ (4 | 8)) => {
                Cookie::new(&self.random_bytes(usize::from(len))).unwrap_or_default()
            }
            _ => Cookie::NONE,
        };
        let Some(s) = self.sessions.get_mut(si) else {
            return Err(CommandError::NoSuchDecision);
        };
        s.handle = handle;
        s.cookie = cookie;
        s.recv_seq |= config.data_sequencing != DataSequencing::None;
        if s.peer_cookie.is_empty() {
            s.peer_cookie = config.peer_cookie.unwrap_or_default();
        }
        s.deadline = Some(now + config.establish_timeout);
        s.config = config;
        self.announce_session(si, Origin::Peer);
        let Some(s) = self.sessions.get_mut(si) else {
            return Ok(());
        };
        let peer_sid = s.peer_id as u16;
        match s.call {
            CallType::Incoming => {
                s.state = SessionState::WaitConnect;
                let mut reply = Message::new(MessageType::Icrp);
                push_reply_ids(&mut reply, s, version);
                self.send_session(now, si, ti, reply, peer_sid);
            }
            CallType::Outgoing => {
                // No call to place: answer OCRP and report the call connected right away.
                s.state = SessionState::WaitCsAnswer;
                let mut reply = Message::new(MessageType::Ocrp);
                push_reply_ids(&mut reply, s, version);
                let mut connected = Message::new(MessageType::Occn);
                push_connected(&mut connected, s, version);
                self.send_session(now, si, ti, reply, peer_sid);
                self.send_session(now, si, ti, connected, peer_sid);
                self.session_established(si);
            }
        }
        self.flush(now, ti);
        self.reschedule_tunnel(ti);
        self.reschedule_session(si);
        Ok(())
    }

    fn session_established(&mut self, si: u32) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        s.state = SessionState::Established;
        s.deadline = None;
        s.installed = true;
        let Some(t) = self.tunnels.get(s.tunnel) else {
            return;
        };
        let params = SessionParams {
            handle: s.handle,
            tunnel_id: t.local_id,
            session_id: s.local_id,
            peer_tunnel_id: t.peer_id,
            peer_session_id: s.peer_id,
            pw_type: s.pw_type,
            cookie: s.cookie,
            peer_cookie: s.peer_cookie,
            l2spec: if t.version == Version::V2 {
                L2SpecificSublayer::None
            } else {
                s.l2spec
            },
            send_seq: s.send_seq,
            recv_seq: s.recv_seq,
            lns: s.lns,
            interface_name: s.config.interface_name.clone(),
        };
        self.events
            .push_back(Event::Dataplane(DataplaneRequest::InstallSession(params)));
        self.events.push_back(Event::SessionUp {
            handle: s.handle,
            tunnel_id: t.local_id,
            session_id: s.local_id,
            peer_tunnel_id: t.peer_id,
            peer_session_id: s.peer_id,
        });
    }

    /// Sends CDN with `refusal`'s result, reports the session down and deletes it.
    pub(crate) fn close_session(&mut self, now: Instant, si: u32, refusal: Refusal) {
        self.close_session_noting(now, si, refusal, None);
    }

    /// [`Self::close_session`], reporting `detail` (when given) as the local reason instead
    /// of the text the CDN carries: what the peer is told stays generic, the detail stays
    /// here.
    pub(crate) fn close_session_noting(
        &mut self,
        now: Instant,
        si: u32,
        refusal: Refusal,
        detail: Option<String>,
    ) {
        let Some(s) = self.sessions.get(si) else {
            return;
        };
        let Some(t) = self.tunnels.get(s.tunnel) else {
            return;
        };
        let version = t.version;
        let ti = s.tunnel;
        let mut msg = Message::new(MessageType::Cdn);
        msg.push(
            Avp::ResultCode(ResultCode {
                result: refusal.result,
                error: refusal.error.map(|e| e.code()),
                message: refusal.message.clone().map(String::into_bytes),
            }),
            version,
        );
        match version {
            Version::V2 => {
                msg.push(Avp::AssignedSessionId(s.local_id as u16), version);
            }
            Version::V3 => {
                msg.push(Avp::LocalSessionId(s.local_id), version);
                msg.push(Avp::RemoteSessionId(s.peer_id), version);
            }
        }
        let peer_sid = s.peer_id as u16;
        // A call still waiting for its tunnel has told the peer nothing: no CDN.
        if s.state != SessionState::WaitTunnel {
            self.send_session(now, si, ti, msg, peer_sid);
        }
        let reason = DownReason {
            cause: DownCause::Local,
            result: refusal.result,
            error: refusal.error.map(|e| e.code()),
            message: detail.or(refusal.message),
        };
        self.session_down(si, reason);
        self.destroy_session(now, si);
    }

    /// The tunnel went down: every session goes down without CDN (RFC 2661 §5.7).
    pub(crate) fn clear_sessions(&mut self, now: Instant, ti: u32, tunnel_reason: &DownReason) {
        let Some(t) = self.tunnels.get_mut(ti) else {
            return;
        };
        let sessions = std::mem::take(&mut t.sessions);
        let reason = DownReason {
            cause: DownCause::TunnelDown,
            result: cdn::LOST_CARRIER,
            error: None,
            message: tunnel_reason.message.clone(),
        };
        for si in sessions {
            self.session_down(si, reason.clone());
            self.destroy_session(now, si);
        }
    }

    fn session_down(&mut self, si: u32, reason: DownReason) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        let tunnel_id = self.tunnels.get(s.tunnel).map_or(0, |t| t.local_id);
        if std::mem::take(&mut s.installed) {
            self.events
                .push_back(Event::Dataplane(DataplaneRequest::RemoveSession {
                    tunnel_id,
                    session_id: s.local_id,
                }));
        }
        if s.announced {
            self.events.push_back(Event::SessionDown {
                handle: s.handle,
                tunnel_id,
                session_id: s.local_id,
                reason,
            });
        }
    }

    /// RFC 3931 §5.4.4: an ICRQ or OCRQ (new session `si`) for the circuit that our own call
    /// in the same tunnel, still waiting for its reply, is for. The lower Session Tie Breaker
    /// wins (or the only one sent); the winner refuses the loser's call with CDN result 13.
    /// Equal values, or none on either side: both calls go. Returns whether `si` goes on.
    fn break_session_tie(&mut self, now: Instant, ti: u32, si: u32, msg: &Message) -> bool {
        let Some(end_id) = msg.remote_end_id().filter(|e| !e.is_empty()) else {
            return true;
        };
        let key = (ti, end_id.clone());
        let Some(&mine) = self.calling_circuits.get(&key) else {
            return true;
        };
        let Some(ours) = self
            .sessions
            .get(mine)
            .filter(|s| s.tunnel == ti && s.initiator && s.state == SessionState::WaitReply)
            .map(|s| s.tie_breaker)
        else {
            return true;
        };
        let lost = |what: &str| Refusal {
            result: crate::wire::result::result_code::cdn::LOST_TIE_BREAKER,
            error: None,
            message: Some(format!("lost tie breaker ({what})")),
        };
        match (ours, msg.tie_breaker().copied()) {
            (Some(o), Some(t)) if o < t => {
                self.close_session(now, si, lost("the peer's was higher"));
                false
            }
            (Some(_), None) => {
                self.close_session(now, si, lost("the peer sent none"));
                false
            }
            // The peer wins: its call goes on; it refuses ours with CDN result 13.
            (Some(o), Some(t)) if o > t => true,
            (None, Some(_)) => true,
            _ => {
                // Equal, or neither side sent one: both calls go, and are made again.
                self.close_session(now, mine, lost("a tie with no winner"));
                self.close_session(now, si, lost("a tie with no winner"));
                false
            }
        }
    }

    /// Deletes the session record, its id and its place in the tunnel's list.
    fn destroy_session(&mut self, now: Instant, si: u32) {
        let Some(s) = self.sessions.remove(si) else {
            return;
        };
        if s.initiator && !s.config.remote_end_id.is_empty() {
            let key = (s.tunnel, s.config.remote_end_id.clone());
            if self.calling_circuits.get(&key) == Some(&si) {
                self.calling_circuits.remove(&key);
            }
        }
        let mut tunnel_id = 0;
        if let Some(t) = self.tunnels.get_mut(s.tunnel) {
            tunnel_id = t.local_id;
            let position = s.position as usize;
            if t.sessions.get(position) == Some(&si) {
                t.sessions.swap_remove(position);
                if let Some(&moved) = t.sessions.get(position)
                    && let Some(m) = self.sessions.get_mut(moved)
                {
                    m.position = s.position;
                }
            }
            match t.version {
                Version::V2 => self.v2_sessions.remove(&v2_key(t.local_id, s.local_id)),
                Version::V3 => self.v3_sessions.remove(&s.local_id),
            };
            // `idle_timeout`: the tunnel's last session closed.
            let idle = t.config.idle_timeout;
            if t.sessions.is_empty() && t.state == TunnelState::Established && !idle.is_zero() {
                t.timers.set(crate::timer::TimerKind::Idle, now + idle);
                let ti = s.tunnel;
                self.reschedule_tunnel(ti);
            }
        } else {
            self.v3_sessions.remove(&s.local_id);
        }
        if s.announced {
            self.events.push_back(Event::SessionDeleted {
                handle: s.handle,
                tunnel_id,
                session_id: s.local_id,
            });
        }
    }

    /// The session's setup (or decision) deadline passed: CDN result 10 / 16.
    pub(crate) fn session_timeout(&mut self, now: Instant, si: u32) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        match s.deadline {
            Some(at) if at <= now => s.deadline = None,
            _ => {
                self.reschedule_session(si);
                return;
            }
        }
        let ti = s.tunnel;
        let v3 = self
            .tunnels
            .get(ti)
            .is_some_and(|t| t.version == Version::V3);
        let refusal = Refusal {
            result: if v3 { cdn::FSM_ERROR } else { cdn::TIMEOUT },
            error: None,
            message: Some("session setup timed out".into()),
        };
        self.close_session(now, si, refusal);
        self.flush(now, ti);
        self.reschedule_tunnel(ti);
    }

    pub(crate) fn reschedule_session(&mut self, si: u32) {
        let generation = self.sessions.generation(si);
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        self.timers
            .reschedule(Owner::Session(si), generation, s.deadline, &mut s.scheduled);
    }
}

/// The key of an L2TPv2 session in the endpoint's map: both 16-bit ids.
pub(crate) fn v2_key(tunnel_id: u32, session_id: u32) -> u32 {
    ((tunnel_id & 0xffff) << 16) | (session_id & 0xffff)
}

/// Records the peer's ids and data-plane parameters from ICRQ/ICRP/OCRQ/OCRP/ICCN/OCCN.
fn learn_session(s: &mut Session, msg: &Message, version: Version) {
    match version {
        Version::V2 => {
            if let Some(id) = msg.assigned_session_id() {
                s.peer_id = u32::from(*id);
            }
            if msg.sequencing_required().is_some() {
                s.send_seq = true;
                s.recv_seq = true;
            }
        }
        Version::V3 => {
            if let Some(id) = msg.local_session_id() {
                s.peer_id = *id;
            }
            if let Some(cookie) = msg.assigned_cookie() {
                s.peer_cookie = *cookie;
            }
            if let Some(seq) = msg.data_sequencing() {
                s.send_seq = *seq != 0;
            }
            // RFC 3931 §5.4.4: the sublayer the peer requires on what it receives MUST be
            // included in what we send; without the AVP there is none. The data planes use one
            // sublayer both ways, so the session takes the peer's (and a recipient's reply
            // then announces the same). Types other than 0 and 1 are not known here; the
            // session keeps its own. The first message of each side carries the AVP; later
            // ones (ICCN, OCCN) change it only if they carry it.
            let first = matches!(
                msg.message_type,
                MessageType::Icrq | MessageType::Icrp | MessageType::Ocrq | MessageType::Ocrp
            );
            match msg.l2_specific_sublayer().copied() {
                Some(0) => s.l2spec = L2SpecificSublayer::None,
                Some(1) => s.l2spec = L2SpecificSublayer::Default,
                None if first => s.l2spec = L2SpecificSublayer::None,
                _ => {}
            }
        }
    }
}

fn push_numbers(msg: &mut Message, cfg: &SessionConfig, version: Version) {
    if !cfg.calling_number.is_empty() {
        msg.push(Avp::CallingNumber(cfg.calling_number.clone()), version);
    }
    if !cfg.called_number.is_empty() {
        msg.push(Avp::CalledNumber(cfg.called_number.clone()), version);
    }
    if !cfg.sub_address.is_empty() {
        msg.push(Avp::SubAddress(cfg.sub_address.clone()), version);
    }
}

/// Cookie, sublayer and sequencing AVPs of an L2TPv3 ICRQ/ICRP/OCRQ/OCRP.
fn push_v3_session_params(msg: &mut Message, s: &Session) {
    let version = Version::V3;
    if !s.cookie.is_empty() {
        msg.push(Avp::AssignedCookie(s.cookie), version);
    }
    let l2spec = match s.l2spec {
        L2SpecificSublayer::None => 0,
        L2SpecificSublayer::Default => 1,
    };
    msg.push(Avp::L2SpecificSublayer(l2spec), version);
    msg.push(
        Avp::DataSequencing(s.config.data_sequencing.value()),
        version,
    );
}

/// The ids of an ICRP or OCRP.
fn push_reply_ids(msg: &mut Message, s: &Session, version: Version) {
    match version {
        Version::V2 => {
            msg.push(Avp::AssignedSessionId(s.local_id as u16), version);
        }
        Version::V3 => {
            msg.push(Avp::LocalSessionId(s.local_id), version);
            msg.push(Avp::RemoteSessionId(s.peer_id), version);
            msg.push(
                Avp::CircuitStatus(circuit_status::ACTIVE | circuit_status::NEW),
                version,
            );
            push_v3_session_params(msg, s);
        }
    }
}

/// ICCN or OCCN.
fn push_connected(msg: &mut Message, s: &Session, version: Version) {
    let cfg = &s.config;
    match version {
        Version::V2 => {
            msg.push(Avp::TxConnectSpeed(cfg.tx_connect_speed), version);
            msg.push(Avp::FramingType(cfg.framing_type), version);
            if cfg.rx_connect_speed != 0 {
                msg.push(Avp::RxConnectSpeed(cfg.rx_connect_speed), version);
            }
            if s.recv_seq {
                msg.push(Avp::SequencingRequired(()), version);
            }
            if !cfg.private_group_id.is_empty() && s.initiator && !s.lns {
                msg.push(Avp::PrivateGroupId(cfg.private_group_id.clone()), version);
            }
        }
        Version::V3 => {
            msg.push(Avp::LocalSessionId(s.local_id), version);
            msg.push(Avp::RemoteSessionId(s.peer_id), version);
        }
    }
}
