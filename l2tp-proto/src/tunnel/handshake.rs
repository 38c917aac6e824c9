//! Control connection establishment: SCCRQ, SCCRP and SCCCN for the initiator and the
//! recipient (RFC 2661 §7.2.1, RFC 3931 §7.2), with admission, tie breaking, version choice
//! (RFC 3931 §4.7.3) and authentication (RFC 2661 §5.1.1, RFC 3931 §4.3).

use super::*;
use crate::event::SecretCheck;

impl Endpoint {
    /// Our id for a tunnel we open: `fixed` (the configuration's) if it is free and fits
    /// (`short`: 16 bits), else a random free one.
    fn own_tunnel_id(
        &mut self,
        short: bool,
        fixed: Option<u32>,
    ) -> Result<u32, crate::event::CommandError> {
        use crate::event::CommandError;
        match fixed {
            None => self.allocate_tunnel_id(short).ok_or(CommandError::NoFreeId),
            Some(id) if id == 0 || (short && id > 0xffff) || self.tunnel_ids.contains_key(&id) => {
                Err(CommandError::IdInUse(id))
            }
            Some(id) => Ok(id),
        }
    }

    /// Creates a tunnel on a local open request and sends the SCCRQ (RFC 3931 §7.2 idle, local
    /// open request → wait-ctl-reply).
    pub(crate) fn open_tunnel(
        &mut self,
        now: Instant,
        handle: TunnelHandle,
        config: Arc<TunnelConfig>,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<u32, crate::event::CommandError> {
        use crate::event::CommandError;
        config.check().map_err(CommandError::InvalidConfig)?;
        if self.tunnel_limit_reached() {
            return Err(CommandError::LimitReached);
        }
        let encap = config.encap;
        let probing = config.version == VersionMode::V3WithFallback && encap == Encapsulation::Udp;
        let short = config.version == VersionMode::V2 || probing;
        let local_id = self.own_tunnel_id(short, config.local_id)?;
        let mut t = Tunnel::new(handle, config, Origin::Local, local, remote, encap, now);
        t.local_id = local_id;
        t.set_version(if config_v2(&t.config) || probing {
            Version::V2
        } else {
            Version::V3
        });
        t.probing = probing;
        t.announced = true;
        if t.config.use_tiebreaker {
            t.tie_breaker = Some(self.rng.next_u64());
        }
        let cfg = Arc::clone(&t.config);
        let wants_auth = cfg.auth_mode == AuthMode::Challenge;
        let mut msg = Message::new(MessageType::Sccrq);
        let v2_avps = t.version == Version::V2;
        let v3_avps = t.version == Version::V3 || probing;
        if v2_avps {
            t.push(
                &mut msg,
                Avp::ProtocolVersion(ProtocolVersion {
                    version: 1,
                    revision: 0,
                }),
            );
        }
        t.push(&mut msg, Avp::HostName(cfg.host_name.clone()));
        if v2_avps {
            t.push(&mut msg, Avp::FramingCapabilities(cfg.framing_caps));
            t.push(&mut msg, Avp::BearerCapabilities(cfg.bearer_caps));
            t.push(&mut msg, Avp::AssignedTunnelId(local_id as u16));
        }
        t.push(&mut msg, Avp::ReceiveWindowSize(cfg.rx_window.get()));
        if let Some(tb) = t.tie_breaker {
            t.push(&mut msg, Avp::TieBreaker(tb));
        }
        if wants_auth && v2_avps {
            let challenge = self.random_bytes(16);
            t.push(&mut msg, Avp::Challenge(challenge.clone()));
            t.security.challenge = Some(challenge);
        }
        if v3_avps {
            let mut v3 = Vec::new();
            v3.push(Avp::RouterId(cfg.router_id));
            v3.push(Avp::AssignedConnectionId(local_id));
            v3.push(Avp::PseudowireCapabilities(cfg.pseudowire_caps.clone()));
            if wants_auth {
                t.security.nonce = self.random_bytes(16);
                t.security.digest_key = Some(DigestKey::derive(&cfg.secret));
                v3.push(Avp::ControlMessageAuthNonce(t.security.nonce.clone()));
            }
            for avp in v3 {
                let mut entry = AvpEntry::new(avp, Version::V3);
                // RFC 3931 §4.7.3: L2TPv3 AVPs in the probe go with M=0.
                entry.mandatory &= !probing;
                msg.avps.push(entry);
            }
        }
        t.timers
            .set(TimerKind::Establish, now + cfg.establish_timeout);
        t.state = TunnelState::WaitCtlReply;
        let (index, _) = self.tunnels.insert(t);
        self.tunnel_ids.insert(local_id, index);
        self.initiating.insert((remote.ip(), encap), index);
        self.stats.tunnels_created += 1;
        self.events.push_back(Event::TunnelCreated {
            handle,
            tunnel_id: local_id,
            remote,
            origin: Origin::Local,
        });
        self.send(now, index, msg, 0);
        Ok(local_id)
    }

    /// The tunnel that a StopCCN on tunnel id 0 closes: one that `remote` asked for with an
    /// SCCRQ, by the Assigned Tunnel (Control Connection) ID the StopCCN carries (RFC 2661
    /// §6.4 and RFC 3931 §6.4 require it). Some peers (xl2tpd among them) send their StopCCN
    /// with tunnel id 0 when they refuse our SCCRP; without this the tunnel would retransmit
    /// its SCCRP until its retries run out.
    pub(crate) fn refused_reply(&self, remote: SocketAddr, body: &[u8]) -> Option<u32> {
        let peer_key = raw_u32(body, AvpType::AssignedConnectionId)
            .or_else(|| raw_u32(body, AvpType::AssignedTunnelId))?;
        let index = *self.peer_requests.get(&(remote, peer_key))?;
        self.tunnels
            .get(index)
            .filter(|t| t.pending.is_none())
            .map(|_| index)
    }

    /// Deletes the oldest tunnel in set-up, if it has waited long enough
    /// ([`crate::guard::EVICTION_GRACE`]); no StopCCN goes to its (likely forged) peer.
    fn evict_oldest_in_setup(&mut self, now: Instant) -> bool {
        let Some(index) = self.admission.evictable(now) else {
            return false;
        };
        let reason = DownReason {
            cause: DownCause::EstablishTimeout,
            result: stop_ccn::GENERAL_ERROR,
            error: None,
            message: Some("set-up cap reached: the oldest tunnel in set-up made room".into()),
        };
        self.tunnel_down(now, index, reason);
        self.destroy_tunnel(index);
        self.stats.setup_evicted += 1;
        true
    }

    /// An SCCRQ on tunnel id 0 (RFC 2661 §7.2.1 idle, receive SCCRQ): deduplicate, admit,
    /// break ties, then ask the caller.
    pub(crate) fn new_sccrq(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        encap: Encapsulation,
        (header, message, body): (ControlHeader, &[u8], &[u8]),
    ) {
        // The peer's assigned id, or (if hidden) a fingerprint of the hidden value: either way
        // retransmissions of one SCCRQ map to the same key.
        let peer_key = raw_u32(body, AvpType::AssignedConnectionId)
            .or_else(|| raw_u32(body, AvpType::AssignedTunnelId))
            .or_else(|| {
                raw_avp(body, AvpType::AssignedTunnelId).map(|(_, v)| {
                    v.iter()
                        .fold(0x8000_0000u32, |h, b| h.rotate_left(5) ^ u32::from(*b))
                })
            })
            .unwrap_or(0);
        if let Some(&index) = self.peer_requests.get(&(remote, peer_key))
            && self
                .tunnels
                .get(index)
                .is_some_and(|t| t.channel.nr() == Seq::new(1))
        {
            // A retransmission: the reliable channel of that tunnel acknowledges it. Once the
            // peer has sent more than its SCCRQ (its SCCCN, Ns 1), it has had our SCCRP and
            // sends that SCCRQ no more: one now (Ns 0) with the same id is a new control
            // connection, from a client that connects again from the same address and port
            // while its old tunnel waits out its StopCCN (RFC 2661 §5.7), or that restarted.
            self.tunnel_datagram(now, index, remote, header, message, body);
            return;
        }
        // RFC 2661 §5.8, RFC 3931 §4.2: the SCCRQ is the first message of a control
        // connection: its Ns is 0 and it acknowledges nothing. Any other would never be
        // delivered on a new tunnel's channel, and the tunnel would wait for ever.
        if header.ns != 0 {
            self.discard(
                remote,
                0,
                crate::guard::Discard::OutsideWindow { ns: header.ns },
            );
            return;
        }
        if header.nr != 0 {
            self.discard(
                remote,
                0,
                crate::guard::Discard::InvalidNr { nr: header.nr },
            );
            return;
        }
        if let Err(problem) = self.admission.admit(remote.ip(), now) {
            // With the cap reached, the oldest tunnel still in set-up after the grace makes
            // room (its peer is likely a forged address that will never answer).
            let room = problem == crate::guard::Discard::MaxSetupTunnels
                && self.evict_oldest_in_setup(now);
            if !room {
                // Dropped without an answer: a StopCCN would need the very state the limit
                // protects, and would answer a flood.
                self.discard(remote, 0, problem);
                return;
            }
        }
        let offers_v3 = raw_avp(body, AvpType::AssignedConnectionId).is_some();
        let host_name = raw_avp(body, AvpType::HostName)
            .filter(|(hidden, _)| !hidden)
            .map(|(_, v)| v.to_vec())
            .unwrap_or_default();
        let mut refusal = None;
        // RFC 2661 §4.4.3 / RFC 3931 §5.4.3: simultaneous open from the same peer.
        if let Some(&mine) = self.initiating.get(&(remote.ip(), encap))
            && let Some(t) = self.tunnels.get(mine)
            && t.state == TunnelState::WaitCtlReply
        {
            let theirs = raw_avp(body, AvpType::TieBreaker)
                .filter(|(hidden, v)| !hidden && v.len() == 8)
                .map(|(_, v)| u64::from_be_bytes(v.try_into().unwrap_or([0; 8])));
            match (t.tie_breaker, theirs) {
                (Some(ours), Some(theirs)) if ours == theirs => {
                    // Both sides discard; the callers retry with new values.
                    self.discard_lost_tunnel(now, mine);
                    return;
                }
                (Some(ours), Some(theirs)) if ours < theirs => {
                    refusal = Some(Refusal {
                        result: stop_ccn::ALREADY_EXISTS,
                        error: None,
                        message: Some("lost tie breaker".into()),
                    });
                }
                (Some(_), None) => {
                    refusal = Some(Refusal {
                        result: stop_ccn::ALREADY_EXISTS,
                        error: None,
                        message: Some("lost tie breaker".into()),
                    });
                }
                (_, Some(_)) => self.discard_lost_tunnel(now, mine),
                (None, None) => {}
            }
        }
        if refusal.is_none() && self.tunnel_limit_reached() {
            refusal = Some(Refusal::limit_reached());
        }
        let config = Arc::clone(&self.config.default_tunnel);
        let mut t = Tunnel::new(
            TunnelHandle::default(),
            config,
            Origin::Peer,
            local,
            remote,
            encap,
            now,
        );
        let refused = refusal.is_some();
        t.pending = Some(Box::new(PendingSccrq {
            // The datagram as received (over IP, after the zero Session ID), read again when
            // the caller decides.
            datagram: match encap {
                Encapsulation::Udp => message.to_vec(),
                Encapsulation::Ip => [&[0u8; 4][..], message].concat(),
            },
            header_version: header.version,
            offers_v3,
            peer_key,
            refusal,
        }));
        t.peer_key = Some(peer_key);
        t.timers
            .set(TimerKind::Decision, now + self.config.decision_timeout);
        let (index, generation) = self.tunnels.insert(t);
        self.admission.started(index, now);
        self.peer_requests.insert((remote, peer_key), index);
        let id = crate::event::DecisionId { index, generation };
        if refused {
            self.answer_tunnel(now, id, None);
        } else {
            self.decisions.push_back(crate::event::Decision::Tunnel(
                crate::event::TunnelRequest {
                    id,
                    local,
                    remote,
                    encap,
                    header_version: header.version,
                    offers_v3,
                    host_name,
                    router_id: raw_u32(body, AvpType::RouterId),
                },
            ));
            self.reschedule_tunnel(index);
        }
    }

    /// Accepts (with a handle and config) or refuses (`None`, with the refusal stored or
    /// given) a pending SCCRQ: sets the tunnel up and feeds the SCCRQ through its channel.
    pub(crate) fn answer_tunnel(
        &mut self,
        now: Instant,
        id: crate::event::DecisionId,
        accept: Option<(TunnelHandle, Arc<TunnelConfig>)>,
    ) -> Option<u32> {
        let index = id.index;
        let t = self
            .tunnels
            .get(index)
            .filter(|_| self.tunnels.generation(index) == id.generation)?;
        t.pending.as_ref()?;
        let accepted = accept.is_some();
        if let Some((_, config)) = &accept
            && config.check().is_err()
        {
            return None;
        }
        let t = self.tunnels.get_mut(index)?;
        let mut pending = t.pending.take()?;
        t.timers.stop(TimerKind::Decision);
        if let Some((handle, config)) = accept {
            t.handle = handle;
            t.channel = ReliableChannel::new(config.reliable_config());
            t.config = config;
        }
        let mode = t.config.version;
        let ver = match (pending.header_version, pending.offers_v3, mode) {
            (Version::V3, _, VersionMode::V2) => None,
            (Version::V3, _, _) => Some(Version::V3),
            (Version::V2, true, VersionMode::V3 | VersionMode::V3WithFallback) => Some(Version::V3),
            (Version::V2, false, VersionMode::V3) => None,
            (Version::V2, _, _) => Some(Version::V2),
        };
        if ver.is_none() && pending.refusal.is_none() {
            pending.refusal = Some(version_refusal(pending.header_version));
        }
        let version = ver.unwrap_or(pending.header_version);
        let local_id = self
            .allocate_tunnel_id(version == Version::V2 || pending.header_version == Version::V2);
        let t = self.tunnels.get_mut(index)?;
        let Some(local_id) = local_id else {
            // No id left: forget the request; the peer gives up by itself.
            self.destroy_tunnel(index);
            return None;
        };
        t.local_id = local_id;
        t.set_version(version);
        let datagram = std::mem::take(&mut pending.datagram);
        let Ok(crate::wire::Packet::Control {
            header,
            message,
            body,
        }) = crate::wire::Packet::parse(&datagram, t.encap)
        else {
            self.destroy_tunnel(index);
            return None;
        };
        let peer_nonce = raw_avp(body, AvpType::ControlMessageAuthNonce)
            .map(|(_, v)| v.to_vec())
            .unwrap_or_default();
        if version == Version::V3 && pending.refusal.is_none() {
            let want = t.config.auth_mode == AuthMode::Challenge;
            if !peer_nonce.is_empty() || want {
                if peer_nonce.is_empty() || t.config.secret.is_empty() {
                    t.security.sccrq_failed = true;
                } else {
                    t.security.digest_key = Some(DigestKey::derive(&t.config.secret));
                    t.security.peer_nonce = peer_nonce;
                    if !t.verify_digest(message, true, &[]) {
                        t.security.sccrq_failed = true;
                        t.security.digest_key = None;
                    }
                }
            }
        }
        if t.security.sccrq_failed {
            self.stats.auth_failures += 1;
        }
        let ctx = DecodeContext {
            version: Some(version),
            hiding_key: t.security.hiding_key.as_ref(),
        };
        let decoded = Message::decode(body, ctx);
        t.peer_id = match &decoded {
            Ok(m) => match version {
                Version::V2 => m.assigned_tunnel_id().map(|v| u32::from(*v)),
                Version::V3 => m.assigned_connection_id().copied(),
            },
            Err(_) => None,
        }
        .unwrap_or(pending.peer_key);
        let refusal = pending.refusal.take();
        let handle = t.handle;
        let remote = t.remote;
        self.tunnel_ids.insert(local_id, index);
        self.stats.tunnels_created += 1;
        if accepted {
            if let Some(t) = self.tunnels.get_mut(index) {
                t.announced = true;
            }
            self.events.push_back(Event::TunnelCreated {
                handle,
                tunnel_id: local_id,
                remote,
                origin: Origin::Peer,
            });
        }
        if let Some(t) = self.tunnels.get_mut(index) {
            t.last_rx = now;
            let _ = t.channel.on_receive(
                Seq::new(header.ns),
                Seq::new(header.nr),
                Some(Inbound {
                    ns: Seq::new(header.ns),
                    session_id: header.session_id,
                    message: decoded,
                    peer_session: None,
                }),
                now,
            );
        }
        if let Some(refusal) = refusal {
            if let Some(t) = self.tunnels.get_mut(index) {
                while t.channel.poll_delivered().is_some() {}
                t.expected_ns = t.expected_ns.next();
            }
            self.close_tunnel(now, index, refusal, DownCause::Local);
        } else {
            self.deliver(now, index);
        }
        self.flush(now, index);
        self.reschedule_tunnel(index);
        Some(local_id)
    }

    pub(super) fn refuse(&mut self, now: Instant, index: u32, refusal: Refusal) {
        if refusal.result == stop_ccn::NOT_AUTHORIZED {
            self.stats.auth_failures += 1;
        }
        self.close_tunnel(now, index, refusal, DownCause::Local);
    }

    /// Recipient: SCCRQ accepted by the caller (RFC 2661 §7.2.1, RFC 3931 §7.2 idle →
    /// wait-ctl-conn).
    pub(super) fn on_sccrq(&mut self, now: Instant, index: u32, msg: &Message) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let cfg = Arc::clone(&t.config);
        if t.security.sccrq_failed {
            let refusal = Refusal::bad_secret(SecretCheck::Digest);
            self.close_tunnel(now, index, refusal, DownCause::Local);
            return;
        }
        if t.version == Version::V2
            && msg
                .protocol_version()
                .is_some_and(|p| p.version != 1 || p.revision != 0)
        {
            self.close_tunnel(now, index, Refusal::unsupported_version(), DownCause::Local);
            return;
        }
        if let Err(refusal) = check_peer_name(&cfg, msg) {
            self.refuse(now, index, refusal);
            return;
        }
        if t.version == Version::V2 {
            if let Some(challenge) = msg.challenge() {
                if cfg.secret.is_empty() {
                    self.refuse(now, index, Refusal::bad_secret(SecretCheck::NoSecretHere));
                    return;
                }
                t.security.peer_challenge = Some(challenge.clone());
            }
            if cfg.auth_mode == AuthMode::Challenge {
                let mut challenge = vec![0; 16];
                self.rng.fill(&mut challenge);
                if let Some(t) = self.tunnels.get_mut(index) {
                    t.security.challenge = Some(challenge);
                }
            }
        } else if t.security.digest_key.is_some() {
            let mut nonce = vec![0; 16];
            self.rng.fill(&mut nonce);
            if let Some(t) = self.tunnels.get_mut(index) {
                t.security.nonce = nonce;
            }
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        learn_peer(t, msg);
        let mut reply = Message::new(MessageType::Sccrp);
        push_identity(t, &mut reply, ResponseMessage::Sccrp);
        t.state = TunnelState::WaitCtlConn;
        t.timers
            .set(TimerKind::Establish, now + cfg.establish_timeout);
        self.send(now, index, reply, 0);
    }

    /// Initiator: SCCRP (RFC 3931 §7.2 wait-ctl-reply → established, sending SCCCN).
    pub(super) fn on_sccrp(&mut self, now: Instant, index: u32, msg: &Message) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        let cfg = Arc::clone(&t.config);
        t.peer_id = match t.version {
            Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
            Version::V3 => msg.assigned_connection_id().copied(),
        }
        .unwrap_or(0);
        self.initiating.remove(&(t.remote.ip(), t.encap));
        // RFC 2661 §7.2 wait-ctl-reply: a reply in a version we do not support is answered
        // with a StopCCN (result 5), as an SCCRQ in one is (`on_sccrq`).
        if t.version == Version::V2
            && msg
                .protocol_version()
                .is_some_and(|p| p.version != 1 || p.revision != 0)
        {
            self.close_tunnel(now, index, Refusal::unsupported_version(), DownCause::Local);
            return;
        }
        if let Err(refusal) = check_peer_name(&cfg, msg) {
            self.refuse(now, index, refusal);
            return;
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        match t.version {
            Version::V2 => {
                if let Some(challenge) = &t.security.challenge {
                    let check = match msg.challenge_response() {
                        None => Some(SecretCheck::NoResponse),
                        Some(r) => (!auth::verify_challenge_response(
                            ResponseMessage::Sccrp,
                            &cfg.secret,
                            challenge,
                            r,
                        ))
                        .then_some(SecretCheck::WrongResponse),
                    };
                    if let Some(check) = check {
                        self.refuse(now, index, Refusal::bad_secret(check));
                        return;
                    }
                }
                if let Some(challenge) = msg.challenge() {
                    if cfg.secret.is_empty() {
                        self.refuse(now, index, Refusal::bad_secret(SecretCheck::NoSecretHere));
                        return;
                    }
                    t.security.peer_challenge = Some(challenge.clone());
                }
            }
            Version::V3 => {
                let peer_nonce = msg.control_message_auth_nonce().cloned();
                match (&t.security.digest_key, peer_nonce) {
                    (Some(_), Some(nonce)) => t.security.peer_nonce = nonce,
                    (None, None) if cfg.auth_mode != AuthMode::Challenge => {}
                    _ => {
                        self.refuse(now, index, Refusal::bad_secret(SecretCheck::Digest));
                        return;
                    }
                }
            }
        }
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        learn_peer(t, msg);
        let mut reply = Message::new(MessageType::Scccn);
        if let Some(challenge) = t.security.peer_challenge.take() {
            let response =
                auth::challenge_response(ResponseMessage::Scccn, &cfg.secret, &challenge);
            t.push(&mut reply, Avp::ChallengeResponse(response));
        }
        self.send(now, index, reply, 0);
        self.tunnel_established(now, index);
    }

    /// Recipient: SCCCN (RFC 3931 §7.2 wait-ctl-conn → established).
    pub(super) fn on_scccn(&mut self, now: Instant, index: u32, msg: &Message) {
        let Some(t) = self.tunnels.get_mut(index) else {
            return;
        };
        if let Some(challenge) = &t.security.challenge {
            let check = match msg.challenge_response() {
                None => Some(SecretCheck::NoResponse),
                Some(r) => (!auth::verify_challenge_response(
                    ResponseMessage::Scccn,
                    &t.config.secret,
                    challenge,
                    r,
                ))
                .then_some(SecretCheck::WrongResponse),
            };
            if let Some(check) = check {
                self.refuse(now, index, Refusal::bad_secret(check));
                return;
            }
        }
        self.tunnel_established(now, index);
    }
}

fn config_v2(config: &TunnelConfig) -> bool {
    config.version == VersionMode::V2
}

/// [`AuthMode::Simple`]/[`AuthMode::Challenge`]: the peer's Host Name must match if configured.
fn check_peer_name(cfg: &TunnelConfig, msg: &Message) -> Result<(), Refusal> {
    if cfg.auth_mode == AuthMode::None {
        return Ok(());
    }
    match &cfg.peer_host_name {
        Some(name) if msg.host_name() != Some(name) => Err(Refusal::with(
            stop_ccn::NOT_AUTHORIZED,
            "Host Name not the one configured for the peer",
        )),
        _ => Ok(()),
    }
}

/// Records what the SCCRQ or SCCRP says about the peer.
fn learn_peer(t: &mut Tunnel, msg: &Message) {
    if let Some(name) = msg.host_name() {
        t.peer_host_name = name.clone();
    }
    if t.peer_id == 0 {
        t.peer_id = match t.version {
            Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
            Version::V3 => msg.assigned_connection_id().copied(),
        }
        .unwrap_or(0);
    }
    // RFC 2661 §5.8: a window of 4 when the AVP is absent; never more than we want in flight.
    let peer = msg.receive_window_size().copied().unwrap_or(4).max(1);
    let window = peer.min(t.config.tx_window.get());
    if let Some(window) = NonZeroU16::new(window) {
        t.channel.set_peer_receive_window(window);
    }
}

/// The identity AVPs of an SCCRP, and the answer to the peer's challenge.
fn push_identity(t: &mut Tunnel, msg: &mut Message, carrier: ResponseMessage) {
    let cfg = Arc::clone(&t.config);
    match t.version {
        Version::V2 => {
            t.push(
                msg,
                Avp::ProtocolVersion(ProtocolVersion {
                    version: 1,
                    revision: 0,
                }),
            );
            t.push(msg, Avp::HostName(cfg.host_name.clone()));
            t.push(msg, Avp::FramingCapabilities(cfg.framing_caps));
            t.push(msg, Avp::BearerCapabilities(cfg.bearer_caps));
            t.push(msg, Avp::AssignedTunnelId(t.local_id as u16));
            t.push(msg, Avp::ReceiveWindowSize(cfg.rx_window.get()));
            if let Some(challenge) = t.security.challenge.clone() {
                t.push(msg, Avp::Challenge(challenge));
            }
            if let Some(challenge) = t.security.peer_challenge.take() {
                let response = auth::challenge_response(carrier, &cfg.secret, &challenge);
                t.push(msg, Avp::ChallengeResponse(response));
            }
        }
        Version::V3 => {
            t.push(msg, Avp::HostName(cfg.host_name.clone()));
            t.push(msg, Avp::RouterId(cfg.router_id));
            t.push(msg, Avp::AssignedConnectionId(t.local_id));
            t.push(
                msg,
                Avp::PseudowireCapabilities(cfg.pseudowire_caps.clone()),
            );
            t.push(msg, Avp::ReceiveWindowSize(cfg.rx_window.get()));
            if t.security.digest_key.is_some() {
                t.push(msg, Avp::ControlMessageAuthNonce(t.security.nonce.clone()));
            }
        }
    }
}

/// The StopCCN for an SCCRQ in a version this tunnel's configuration does not run: result 5
/// (RFC 2661 §4.4.2, RFC 3931 §5.4.2), with a message that names the version it does run, so
/// that the peer's operator reads which side to change.
fn version_refusal(asked: Version) -> Refusal {
    let (asked, runs) = match asked {
        Version::V2 => ("L2TPv2", "L2TPv3"),
        Version::V3 => ("L2TPv3", "L2TPv2"),
    };
    Refusal::with(
        Refusal::unsupported_version().result,
        format!("{asked} refused: this end runs {runs} only"),
    )
}
