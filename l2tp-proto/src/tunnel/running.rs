//! The running control connection: receipt through the reliable channel, in-order dispatch,
//! timers (retransmission, HELLO, setup, linger) and teardown with StopCCN (RFC 2661 §5.7,
//! §5.8, §6.5; RFC 3931 §4.2, §4.4).

use super::*;
use crate::event::{CommandError, Probe};
use crate::guard::Discard;
use crate::reliable::ReceiveOutcome;

impl Endpoint {
    /// A control message for an existing tunnel: authenticate, decode, hand to the channel,
    /// then run the state machine on whatever it delivers in order.
    pub(crate) fn tunnel_datagram(
        &mut self,
        now: Instant,
        index: u32,
        remote: SocketAddr,
        header: ControlHeader,
        message: &[u8],
        body: &[u8],
    ) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.pending.is_some() {
            // A retransmitted SCCRQ while the caller decides: nothing to acknowledge yet.
            return;
        }
        if !t.hears_from(remote) {
            // RFC 2661 §8.1, RFC 3931 §4.1.2.2: once the reply fixed them, the addresses and
            // ports MUST stay the same for the life of the tunnel. A message from elsewhere
            // (a third host that knows the tunnel id, or the peer behind a NAT that rebound
            // its port) is not the peer's: discarded, never acted on.
            let (id, peer) = (t.local_id, t.remote);
            self.discard(remote, id, Discard::WrongPeer { peer });
            return;
        }
        let mut settled = None;
        if t.probing && t.state == TunnelState::WaitCtlReply {
            // RFC 3931 §4.7.3: the Ver of the reply decides.
            t.probing = false;
            let probed = t.version;
            t.set_version(header.version);
            if header.version == Version::V2 {
                t.security.nonce.clear();
            } else {
                t.security.challenge = None;
            }
            settled = Some(probed);
        }
        if let Some(probed) = settled {
            self.settle_session_version(index, probed);
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if header.version != t.version {
            self.stats.malformed.header += 1;
            let id = t.local_id;
            self.discard(remote, id, Discard::VersionMismatch);
            return;
        }
        if t.state == TunnelState::WaitCtlReply {
            // RFC 2661 §8.1: the recipient may answer from another port; use it from now on.
            t.remote = remote;
        }
        if body.is_empty() {
            self.explicit_ack(now, index, header);
            return;
        }
        let msg_type = raw_avp(body, AvpType::MessageType)
            .filter(|(_, v)| v.len() == 2)
            .and_then(|(_, v)| MessageType::from_u16(u16::from_be_bytes([v[0], v[1]])));
        if t.security.digest_key.is_some() {
            let peer_nonce = if t.security.peer_nonce.is_empty() {
                raw_avp(body, AvpType::ControlMessageAuthNonce)
                    .map(|(_, v)| v.to_vec())
                    .unwrap_or_default()
            } else {
                t.security.peer_nonce.clone()
            };
            if !t.verify_digest(message, msg_type == Some(MessageType::Sccrq), &peer_nonce) {
                self.stats.auth_failures += 1;
                let id = t.local_id;
                self.discard(remote, id, Discard::Authentication);
                let Some(t) = self.tunnels.get_mut(index) else {
                    return;
                };
                let sccrp = msg_type == Some(MessageType::Sccrp);
                if sccrp && t.state == TunnelState::WaitCtlReply {
                    // The reply to our SCCRQ is not authentic: refuse it (result 4).
                    if let Some(id) = raw_u32(body, AvpType::AssignedConnectionId) {
                        t.peer_id = id;
                    }
                    let _ =
                        t.channel
                            .on_receive(Seq::new(header.ns), Seq::new(header.nr), None, now);
                    t.security.digest_key = None;
                    self.close_tunnel(now, index, Refusal::not_authorized(), DownCause::Local);
                    self.flush(now, index);
                    self.reschedule_tunnel(index);
                }
                return;
            }
        }
        let ctx = DecodeContext {
            version: Some(t.version),
            hiding_key: t.security.hiding_key.as_ref(),
        };
        // A decoding error is counted (in `malformed.body`, or `malformed.unsupported_message`
        // for an optional message type we do not implement) and reported when the message is
        // delivered in order, as it is then acted on.
        let decoded = Message::decode(body, ctx);
        let peer_session = match (&decoded, msg_type) {
            (Err(_), Some(MessageType::Icrq | MessageType::Ocrq)) => Some(
                match t.version {
                    Version::V2 => raw_u32(body, AvpType::AssignedSessionId),
                    Version::V3 => raw_u32(body, AvpType::LocalSessionId),
                }
                .unwrap_or(0),
            ),
            _ => None,
        };
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if let Ok(m) = &decoded
            && m.message_type == MessageType::Ack
        {
            self.explicit_ack(now, index, header);
            return;
        }
        t.last_rx = now;
        let ns = Seq::new(header.ns);
        let outcome = t.channel.on_receive(
            ns,
            Seq::new(header.nr),
            Some(Inbound {
                ns,
                session_id: header.session_id,
                message: decoded,
                peer_session,
            }),
            now,
        );
        let id = t.local_id;
        match outcome {
            ReceiveOutcome::OutsideWindow => {
                self.discard(remote, id, Discard::OutsideWindow { ns: header.ns });
            }
            ReceiveOutcome::InvalidNr => {
                self.discard(remote, id, Discard::InvalidNr { nr: header.nr });
            }
            _ => {}
        }
        self.deliver(now, index);
        self.flush(now, index);
        self.reschedule_tunnel(index);
    }

    pub(super) fn explicit_ack(&mut self, now: Instant, index: u32, header: ControlHeader) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        t.last_rx = now;
        let outcome = t
            .channel
            .on_receive(Seq::new(header.ns), Seq::new(header.nr), None, now);
        if outcome == ReceiveOutcome::InvalidNr {
            let (remote, id) = (t.remote, t.local_id);
            self.discard(remote, id, Discard::InvalidNr { nr: header.nr });
        }
        self.stats.acks_received += 1;
        self.flush(now, index);
        self.reschedule_tunnel(index);
    }

    /// Runs the state machine on every message the channel delivers, in order.
    pub(super) fn deliver(&mut self, now: Instant, index: u32) {
        loop {
            let Some(t) = self.tunnels.get_mut(index) else {
                return;
            };
            let Some(inbound) = t.channel.poll_delivered() else {
                return;
            };
            if inbound.ns != t.expected_ns {
                self.stats.order_violations += 1;
            }
            t.expected_ns = inbound.ns.next();
            let state = t.state;
            let msg = match inbound.message {
                Ok(msg) => msg,
                Err(error) => {
                    let (remote, id) = (t.remote, t.local_id);
                    let problem = match error.ignorable_message_type() {
                        Some((vendor_id, message_type)) => Discard::UnsupportedMessage {
                            vendor_id,
                            message_type,
                        },
                        None => Discard::Body(error.clone()),
                    };
                    self.discard(remote, id, problem);
                    let (v2_session, peer_session) = (inbound.session_id, inbound.peer_session);
                    self.malformed_message(now, index, (v2_session, peer_session), &error);
                    continue;
                }
            };
            self.stats.received.add(msg.message_type);
            if state == TunnelState::Closing {
                continue;
            }
            if msg.message_type.is_session_message() {
                self.session_message(now, index, inbound.session_id, msg);
                continue;
            }
            if matches!(
                msg.message_type,
                MessageType::Scccn | MessageType::Hello | MessageType::StopCcn
            ) && let Some(t) = self.tunnels.get_mut(index)
            {
                // No message of ours answers these: acknowledge at once (RFC 2661 Appendix B),
                // so that a peer waiting for the acknowledgement of its SCCCN before it opens
                // sessions, or for that of its StopCCN before it lets the tunnel go, does not
                // wait for the delayed acknowledgement.
                t.channel.acknowledge_now(now);
            }
            match (state, msg.message_type) {
                (_, MessageType::StopCcn) => self.on_stopccn(now, index, &msg),
                (TunnelState::Idle, MessageType::Sccrq) => self.on_sccrq(now, index, &msg),
                (TunnelState::WaitCtlReply, MessageType::Sccrp) => self.on_sccrp(now, index, &msg),
                (TunnelState::WaitCtlConn, MessageType::Scccn) => self.on_scccn(now, index, &msg),
                (_, MessageType::Hello) => {}
                // RFC 5515 §4: any time in the tunnel's life; no session, no harm.
                (_, MessageType::Csun) => self.on_csun(index, &msg),
                (_, MessageType::Csurq) => self.on_csurq(now, index, &msg),
                _ => {
                    // RFC 3931 §7.2: an unexpected SCCRQ/SCCRP/SCCCN tears the connection down.
                    if let Some(t) = self.tunnels.get(index) {
                        let (remote, id) = (t.remote, t.local_id);
                        self.discard(remote, id, Discard::WrongState(msg.message_type));
                    }
                    let refusal = self.fsm_error();
                    self.close_tunnel(now, index, refusal, DownCause::Local);
                }
            }
        }
    }

    pub(super) fn fsm_error(&self) -> Refusal {
        Refusal {
            result: stop_ccn::FSM_ERROR,
            error: None,
            message: None,
        }
    }

    pub(super) fn malformed_message(
        &mut self,
        now: Instant,
        index: u32,
        (v2_session, peer_session): (u16, Option<u32>),
        error: &MessageError,
    ) {
        match error.reaction() {
            crate::wire::Reaction::Ignore => {}
            crate::wire::Reaction::StopCcn {
                result,
                error: code,
            } => {
                let refusal = Refusal {
                    result,
                    error: Some(code),
                    message: Some(error.to_string()),
                };
                self.close_tunnel(now, index, refusal, DownCause::Local);
            }
            crate::wire::Reaction::Cdn {
                result,
                error: code,
            } => {
                // L2TPv2 names the session in the header; an undecodable L2TPv3 message does
                // not say which session it is for, so the session's setup timer cleans up.
                let Some(si) = self.find_session(index, u32::from(v2_session)) else {
                    if let Some(peer_session) = peer_session {
                        // A call request: refuse the call it asks for (even one whose id is
                        // the forbidden 0: the refusal is what the RFCs ask for).
                        self.refuse_call(now, index, peer_session, result, code, error);
                    }
                    return;
                };
                let refusal = Refusal {
                    result,
                    error: Some(code),
                    message: Some(error.to_string()),
                };
                self.close_session(now, si, refusal);
            }
        }
    }

    /// Sends a CDN for a call the peer asked for (peer session id `peer_session`) but that
    /// was never created because its request was malformed (RFC 2661 §4.1: the session MUST
    /// be terminated).
    fn refuse_call(
        &mut self,
        now: Instant,
        index: u32,
        peer_session: u32,
        result: u16,
        code: crate::wire::result::ErrorCode,
        error: &MessageError,
    ) {
        let Some(t) = self.tunnels.get(index) else {
            return;
        };
        let (version, tunnel_id) = (t.version, t.local_id);
        // The call never had a session here, but 0 MUST NOT be assigned (RFC 2661 §5.3, RFC
        // 3931 §5.4.4): the CDN carries an id that is free now, which nothing will use.
        let own = self.allocate_session_id(version, tunnel_id).unwrap_or(1);
        let mut msg = Message::new(MessageType::Cdn);
        msg.push(
            Avp::ResultCode(ResultCode {
                result,
                error: Some(code.code()),
                message: Some(error.to_string().into_bytes()),
            }),
            version,
        );
        match version {
            Version::V2 => msg.push(Avp::AssignedSessionId(own as u16), version),
            Version::V3 => {
                msg.push(Avp::LocalSessionId(own), version);
                msg.push(Avp::RemoteSessionId(peer_session), version)
            }
        };
        // L2TPv2 addresses the peer's session in the header (its id fits in 16 bits).
        let header_session = match version {
            Version::V2 => u16::try_from(peer_session).unwrap_or(0),
            Version::V3 => 0,
        };
        self.send(now, index, msg, header_session);
    }

    pub(super) fn on_stopccn(&mut self, now: Instant, index: u32, msg: &Message) {
        if let Some(t) = self.tunnels.get_mut(index)
            && t.peer_id == 0
        {
            // A refusal of our SCCRQ: its Assigned Tunnel / Control Connection ID tells us
            // where to send the acknowledgement (RFC 2661 §6.4).
            t.peer_id = match t.version {
                Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
                Version::V3 => msg.assigned_connection_id().copied(),
            }
            .unwrap_or(0);
        }
        let result = msg.result_code().cloned().unwrap_or_default();
        let reason = DownReason {
            cause: DownCause::Peer,
            result: result.result,
            error: result.error,
            message: result.message,
        };
        self.tunnel_down(now, index, reason);
        self.start_linger(now, index);
    }

    pub(super) fn tunnel_established(&mut self, now: Instant, index: u32) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        t.state = TunnelState::Established;
        self.admission.finished(index);
        t.timers.stop(TimerKind::Establish);
        t.security.challenge = None;
        if !t.config.hello_timeout.is_zero() {
            t.timers.set(TimerKind::Hello, now + t.config.hello_timeout);
        }
        t.installed = true;
        let params = TunnelParams {
            handle: t.handle,
            tunnel_id: t.local_id,
            peer_tunnel_id: t.peer_id,
            version: t.version,
            encap: t.encap,
            local: t.local,
            remote: t.remote,
            udp_checksums: t.config.udp_checksums,
        };
        self.events
            .push_back(Event::Dataplane(DataplaneRequest::InstallTunnel(params)));
        self.events.push_back(Event::TunnelUp {
            handle: params.handle,
            tunnel_id: params.tunnel_id,
            peer_tunnel_id: params.peer_tunnel_id,
            version: params.version,
        });
        self.start_waiting_sessions(now, index);
    }

    /// Sends StopCCN (when the peer's id is known), takes the tunnel down and lingers.
    pub(crate) fn close_tunnel(
        &mut self,
        now: Instant,
        index: u32,
        refusal: Refusal,
        cause: DownCause,
    ) {
        self.close_tunnel_noting(now, index, refusal, cause, None);
    }

    /// [`Self::close_tunnel`], reporting `detail` (when given) as the local reason instead of
    /// the text the StopCCN carries.
    pub(crate) fn close_tunnel_noting(
        &mut self,
        now: Instant,
        index: u32,
        refusal: Refusal,
        cause: DownCause,
        detail: Option<String>,
    ) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.state == TunnelState::Closing {
            return;
        }
        let has_peer = t.peer_id != 0;
        // A peer whose SCCRQ assigned no usable id (0) still gets its StopCCN, on tunnel id 0
        // with our Assigned Tunnel ID (RFC 2661 §4.4.3); nothing can acknowledge it there, so
        // the tunnel does not linger.
        let unnamed_requester = !has_peer && t.origin == Origin::Peer;
        if has_peer || unnamed_requester {
            let mut msg = Message::new(MessageType::StopCcn);
            match t.version {
                Version::V2 => t.push(&mut msg, Avp::AssignedTunnelId(t.local_id as u16)),
                Version::V3 => t.push(&mut msg, Avp::AssignedConnectionId(t.local_id)),
            }
            t.push(&mut msg, Avp::ResultCode(refusal.result_code()));
            self.send(now, index, msg, 0);
        }
        let reason = DownReason::sent(cause, refusal.result_code(), detail);
        self.tunnel_down(now, index, reason);
        if has_peer {
            self.start_linger(now, index);
        } else {
            self.destroy_tunnel(index);
        }
    }

    /// Removes the sessions and the data-plane state and reports the tunnel down.
    pub(super) fn tunnel_down(&mut self, now: Instant, index: u32, reason: DownReason) {
        self.clear_sessions(now, index, &reason);
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        t.state = TunnelState::Closing;
        t.timers.stop(TimerKind::Hello);
        t.timers.stop(TimerKind::Establish);
        if self.initiating.get(&(t.remote.ip(), t.encap)) == Some(&index) {
            self.initiating.remove(&(t.remote.ip(), t.encap));
        }
        if std::mem::take(&mut t.installed) {
            self.events
                .push_back(Event::Dataplane(DataplaneRequest::RemoveTunnel {
                    tunnel_id: t.local_id,
                }));
        }
        if t.announced {
            self.events.push_back(Event::TunnelDown {
                handle: t.handle,
                tunnel_id: t.local_id,
                peer_tunnel_id: t.peer_id,
                reason,
            });
        }
    }

    pub(super) fn start_linger(&mut self, now: Instant, index: u32) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let span = t.channel.config().retransmission_span();
        t.timers.set(TimerKind::Linger, now + span);
    }

    /// The loser of a tie breaker discards its tunnel silently (RFC 2661 §4.4.3).
    pub(super) fn discard_lost_tunnel(&mut self, now: Instant, index: u32) {
        let reason = DownReason {
            cause: DownCause::LostTieBreaker,
            result: stop_ccn::ALREADY_EXISTS,
            error: None,
            message: None,
        };
        self.tunnel_down(now, index, reason);
        self.destroy_tunnel(index);
    }

    /// Removes a tunnel the peer has forgotten ([`crate::Command::ForgetTunnel`]): no StopCCN,
    /// no CDN, no linger. One closing already is deleted too: its StopCCN, retransmitted to
    /// the peer's id, would close the peer's new tunnel of that id.
    pub(crate) fn forget_tunnel(&mut self, now: Instant, index: u32, why: String) {
        let Some(t) = self.tunnels.get(index) else {
            return;
        };
        if t.state != TunnelState::Closing {
            let reason = DownReason {
                cause: DownCause::PeerRestarted,
                result: stop_ccn::CLEAR,
                error: None,
                message: Some(why.into_bytes()),
            };
            self.tunnel_down(now, index, reason);
        }
        self.destroy_tunnel(index);
    }

    /// Deletes the tunnel record and its ids.
    pub(crate) fn destroy_tunnel(&mut self, index: u32) {
        let Some(t) = self.tunnels.remove(index) else {
            return;
        };
        self.admission.finished(index);
        if self.tunnel_ids.get(&t.local_id) == Some(&index) {
            self.tunnel_ids.remove(&t.local_id);
        }
        if let Some(key) = t.peer_key
            && self.peer_requests.get(&(t.remote, key)) == Some(&index)
        {
            self.peer_requests.remove(&(t.remote, key));
        }
        if self.initiating.get(&(t.remote.ip(), t.encap)) == Some(&index) {
            self.initiating.remove(&(t.remote.ip(), t.encap));
        }
        if t.announced {
            self.events.push_back(Event::TunnelDeleted {
                handle: t.handle,
                tunnel_id: t.local_id,
            });
        }
    }

    /// Runs the tunnel's timers due at `now`.
    pub(crate) fn tunnel_timeout(&mut self, now: Instant, index: u32) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.timers.take_expired(TimerKind::Decision, now) {
            self.destroy_tunnel(index);
            return;
        }
        if t.timers.take_expired(TimerKind::Linger, now) {
            self.destroy_tunnel(index);
            return;
        }
        if t.channel.handle_timeout(now).is_err() {
            let closing = t.state == TunnelState::Closing;
            if !closing {
                let reason = DownReason {
                    cause: DownCause::RetriesExhausted,
                    result: stop_ccn::FSM_ERROR,
                    error: None,
                    message: Some("peer stopped acknowledging".into()),
                };
                self.tunnel_down(now, index, reason);
            }
            self.destroy_tunnel(index);
            return;
        }
        if t.timers.take_expired(TimerKind::Idle, now)
            && t.sessions.is_empty()
            && t.state == TunnelState::Established
        {
            let refusal = Refusal {
                result: stop_ccn::CLEAR,
                error: None,
                message: Some("idle_timeout: no session".into()),
            };
            self.close_tunnel(now, index, refusal, DownCause::IdleTimeout);
            self.flush(now, index);
            self.reschedule_tunnel(index);
            return;
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if t.timers.take_expired(TimerKind::Establish, now) {
            let refusal = Refusal {
                result: stop_ccn::FSM_ERROR,
                error: None,
                message: Some("establishment timed out".into()),
            };
            self.close_tunnel(now, index, refusal, DownCause::EstablishTimeout);
        } else if t.timers.take_expired(TimerKind::Hello, now) {
            let hello = t.config.hello_timeout;
            let silent_until = t.last_rx + hello;
            if silent_until <= now {
                // RFC 2661 §6.5: keepalive after a period of inactivity.
                t.timers.set(TimerKind::Hello, now + hello);
                self.send(now, index, Message::new(MessageType::Hello), 0);
            } else {
                t.timers.set(TimerKind::Hello, silent_until);
            }
        }
        self.flush(now, index);
        self.reschedule_tunnel(index);
    }

    /// [`crate::Command::ProbeTunnel`]: a HELLO now, unless the tunnel already waits on an
    /// acknowledgement (RFC 2661 §6.5, RFC 3931 §5.4.1 allow a HELLO at any time; one
    /// unacknowledged message is probe enough, so probes never pile up).
    pub(crate) fn probe_tunnel(&mut self, now: Instant, index: u32) -> Result<Probe, CommandError> {
        let t = self.tunnels.get(index).ok_or(CommandError::NoSuchTunnel)?;
        match t.state {
            TunnelState::Closing => Err(CommandError::TunnelClosing),
            _ if t.config.hello_timeout.is_zero() => Ok(Probe::HellosOff),
            TunnelState::Established if t.channel.all_acked() => {
                self.send(now, index, Message::new(MessageType::Hello), 0);
                Ok(Probe::HelloSent)
            }
            TunnelState::Established => Ok(Probe::AlreadyWaiting),
            TunnelState::Idle | TunnelState::WaitCtlReply | TunnelState::WaitCtlConn => {
                Ok(Probe::NotEstablished)
            }
        }
    }

    pub(crate) fn reschedule_tunnel(&mut self, index: u32) {
        let generation = self.tunnels.generation(index);
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let next = t.next_deadline();
        self.timers
            .reschedule(Owner::Tunnel(index), generation, next, &mut t.scheduled);
    }
}

impl Tunnel {
    /// Whether a control message from `remote` is this tunnel's peer's: any address while it
    /// waits for the reply that fixes them, then only the peer's address and port.
    pub(crate) fn hears_from(&self, remote: SocketAddr) -> bool {
        self.state == TunnelState::WaitCtlReply || same_peer(self.remote, remote)
    }
}

/// Whether `a` and `b` are the same address and port: an IPv4 address and its IPv4-mapped IPv6
/// form are one, and an IPv6 scope id or flow label is not part of it.
fn same_peer(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip().to_canonical() == b.ip().to_canonical() && a.port() == b.port()
}
