//! Ending sessions: CDN sent on a local decision or a setup timeout, sessions cleared with
//! their tunnel, and the record, ids and events of a session that goes.

use crate::endpoint::Endpoint;
use crate::event::{DataplaneRequest, DownCause, DownReason, Event, Refusal};
use crate::time::Instant;
use crate::tunnel::TunnelState;
use crate::wire::avp::Avp;
use crate::wire::header::Version;
use crate::wire::message::{Message, MessageType};
use crate::wire::result::result_code::cdn;

use super::{SessionState, v2_key};

impl Endpoint {
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
        let sent = refusal.result_code();
        msg.push(Avp::ResultCode(sent.clone()), version);
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
        let reason = DownReason::sent(DownCause::Local, sent, detail);
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

    pub(super) fn session_down(&mut self, si: u32, reason: DownReason) {
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

    /// Deletes the session record, its id and its place in the tunnel's list.
    pub(super) fn destroy_session(&mut self, now: Instant, si: u32) {
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
}
