//! The peer's session messages and the caller's answers: the transitions of an existing call
//! (RFC 2661 §7.3-§7.4, RFC 3931 §7.3-§7.4), a call the peer requests (ICRQ or OCRQ) handed to
//! the caller for a decision, and session tie breaking (RFC 3931 §5.4.4).

use std::sync::Arc;

use crate::endpoint::Endpoint;
use crate::event::{
    CommandError, ConnectSpeed, DataplaneRequest, Decision, DecisionId, DownCause, DownReason,
    Event, Origin, Refusal, SessionHandle, SessionParams, SessionRequest,
};
use crate::time::Instant;
use crate::tunnel::TunnelState;
use crate::wire::access_line::AccessLine;
use crate::wire::avp::types::pw_type;
use crate::wire::header::{Cookie, L2SpecificSublayer, Version};
use crate::wire::message::{Message, MessageType};
use crate::wire::result::result_code::cdn;

use super::avps::{learn_session, push_connected, push_reply_ids};
use super::{CallType, DataSequencing, ProxyAvps, SessionConfig, SessionState, refusals, v2_key};

impl Endpoint {
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
            if msg.message_type == MessageType::Cdn {
                // Both ends disconnected the session at once: ours is gone already.
                self.discard(remote, tunnel_local, crate::guard::Discard::LateCdn(ours));
                return;
            }
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
                    message: result.message,
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
                // The speeds we told the LNS are the call's, as the LNS's are those it heard.
                let speed = ConnectSpeed::of_message(&reply);
                self.send_session(now, si, ti, reply, sid);
                self.session_established_with(si, None, speed);
            }
            (MessageType::Ocrp, SessionState::WaitReply) if s.call == CallType::Outgoing => {
                learn_session(s, &msg, version);
                s.state = SessionState::WaitConnect;
            }
            (MessageType::Occn, SessionState::WaitConnect) if s.call == CallType::Outgoing => {
                learn_session(s, &msg, version);
                self.session_established_with(si, None, ConnectSpeed::of_message(&msg));
            }
            (MessageType::Iccn, SessionState::WaitConnect) if s.call == CallType::Incoming => {
                learn_session(s, &msg, version);
                let proxy = if version == Version::V2 && s.lns {
                    ProxyAvps::from_message(&msg).map(Box::new)
                } else {
                    None
                };
                self.session_established_with(si, proxy, ConnectSpeed::of_message(&msg));
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
        let tunnel_full = limit != 0 && t.sessions.len() >= limit as usize;
        let full = tunnel_full || self.session_limit_reached();
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
        // RFC 5515 §6.2: only an ICRQ enables speed updates.
        s.speed_updates =
            msg.message_type == MessageType::Icrq && msg.connect_speed_update_enable().is_some();
        if version == Version::V3 {
            s.pw_type = msg.pseudowire_type().copied().unwrap_or(pw_type::PPP);
        }
        if tunnel_full {
            let refusal = Refusal {
                message: Some("the tunnel's max_sessions reached".into()),
                ..Refusal::limit_reached()
            };
            self.close_session(now, si, refusal.clone());
            self.stats.tunnel_max_sessions += 1;
            self.events.push_back(Event::CallRefused {
                tunnel: tunnel_handle,
                tunnel_id,
                refusal,
            });
            return;
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
        let speed_updates = s.speed_updates;
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
            access_line: AccessLine::of_message(&msg),
            speed_updates,
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
        self.session_established_with(si, None, None);
    }

    /// The session is up; `proxy`: the proxy AVPs of the LAC's ICCN, for the LNS's PPP.
    fn session_established_with(
        &mut self,
        si: u32,
        proxy: Option<Box<ProxyAvps>>,
        connect_speed: Option<ConnectSpeed>,
    ) {
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
            proxy,
            connect_speed,
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
}
