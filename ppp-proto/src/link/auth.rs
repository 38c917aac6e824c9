//! The authentication phase (RFC 1661 §3.5) in both directions.
//!
//! Authenticator: CHAP sends a Challenge (16 random octets, our name) and repeats it, with a new
//! Identifier, every `chap.restart`, `chap.max_challenges` times in all (RFC 1994 §4.1); PAP
//! waits for the peer's Authenticate-Request (RFC 1334 §2.2.1: the peer retransmits), at most
//! `pap.timeout` if set. The peer's values go to the host as an [`Event::Authenticate`]; its
//! verdict becomes Success / Authenticate-Ack, or Failure / Authenticate-Nak and the end of the
//! link (RFC 1994 §4.2: the authenticator SHOULD terminate the link). A repeated Response or
//! Request after the verdict gets the same answer again, with its own Identifier; so does
//! another one (other credentials; for CHAP, a Response to the same Challenge), as pppd
//! answers it: RFC 1334 §2.2.1 has every Authenticate-Request answered, and the link is never
//! authenticated again with the new credentials (counted in `auth_other_requests`). A PAP peer
//! retransmits with a new Identifier and takes only an Ack whose Identifier matches its latest
//! Request (RFC 1334 §2.2.2): a repetition of the same Peer-ID and Password while the verdict
//! is pending moves the Identifier the verdict will carry to the latest; another request then
//! gets the verdict's answer too when it comes, with its own Identifier, never judged. After a Nak or Failure, while the link closes, a repeated or another request
//! or Response gets the Nak or Failure again (RFC 1334 §2.2.1, RFC 1994 §4.2: its first answer
//! may have been lost). A CHAP Response with another Identifier than our Challenge's answers
//! no Challenge of ours and is discarded (RFC 1994 §4.1). CHAP needs no such care: a Response to a Challenge sent again has that
//! Challenge's Identifier, the only one answered, and no Challenge goes out while the verdict
//! is pending. With `chap.rechallenge`, CHAP challenges the peer again in the network phase
//! (RFC 1994 §2), each Response judged by the host as the first, or left unanswered by a host
//! that cannot judge it ([`Link::forgo_rechallenge`]).
//!
//! Peer: PAP sends the Authenticate-Request and repeats it every `pap.restart`,
//! `pap.max_requests` times in all; CHAP answers each Challenge (a repeated one, same
//! Identifier, with the same Response), with MS-CHAPv2 checking the authenticator response of
//! the Success (RFC 2759 §5). A Response to a re-challenge in the network phase that gets no
//! answer is sent `max_configure` times, then left: the link goes on.
//!
//! The whole phase is bounded by the configured `auth_timeout`.

use l2tp_proto::rng::Rng;
use l2tp_proto::time::Instant;

use super::{Link, Phase};
use crate::auth::wire::{ChapPacket, MsChapV2Response, PapPacket, chap_code, pap_code};
use crate::auth::{
    AuthId, AuthMethod, AuthRequest, AuthenticatorResponse, Password, PeerCredentials, ct_eq, maths,
};
use crate::event::{DownReason, Event};
use crate::timer::TimerKind;
use crate::wire::{ControlPacket, protocol};

mod proxied;
mod rechallenge;
mod verdict;

use verdict::{pap_ack_message, success_message};

/// Authentication in progress (boxed: only links that authenticate hold it, and only until a
/// network protocol is up).
#[derive(Debug, Default)]
pub(super) struct AuthState {
    /// We authenticate the peer.
    peer: Option<Authenticator>,
    /// The peer authenticates us.
    us: Option<Supplicant>,
}

impl AuthState {
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    /// Whether a re-challenge waits for the peer's Response or the host's verdict.
    fn rechallenging(&self) -> bool {
        self.peer
            .as_ref()
            .is_some_and(|a| matches!(a.status, Status::Waiting | Status::Pending(_)))
    }

    /// Drops the state of our own authentication to the peer.
    pub(super) fn forget_supplicant(&mut self) {
        self.us = None;
    }

    fn done(&self) -> bool {
        self.peer
            .as_ref()
            .is_none_or(|a| a.status == Status::Accepted)
            && self.us.as_ref().is_none_or(|s| s.done)
    }
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Status {
    /// Waiting for the peer's Response (CHAP) or Authenticate-Request (PAP).
    Waiting,
    /// The host has the request.
    Pending(AuthId),
    Accepted,
    Rejected,
}

#[derive(Debug)]
struct Authenticator {
    method: AuthMethod,
    status: Status,
    /// The Challenge's Identifier (CHAP) or the last Authenticate-Request's (PAP).
    identifier: u8,
    challenge: [u8; 16],
    /// The MS-CHAPv2 authenticator response of an accepted request, to repeat the Success.
    success: Option<AuthenticatorResponse>,
    /// The message of the verdict, to repeat the Ack or Success (`None`: our greeting) or the
    /// Nak or Failure (as sent).
    message: Option<Box<str>>,
    /// Challenges left to send.
    retries: u8,
    /// When authentication started (the end of a `pap.timeout` restores `auth_timeout`).
    started: Instant,
    /// A digest of the request judged (PAP: Peer-ID and Password; CHAP: Name and Value), to
    /// tell a retransmission of that request from another one.
    request: RequestDigest,
    /// The Identifiers of other PAP requests that came while the verdict was pending, to
    /// answer with it.
    others: verdict::Identifiers,
}

/// [`maths::pap_request_digest`] of the request judged (redacted in `Debug`: it is derived
/// from the password).
#[derive(Default)]
struct RequestDigest([u8; 16]);

impl std::fmt::Debug for RequestDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestDigest(..)")
    }
}

#[derive(Debug)]
struct Supplicant {
    method: AuthMethod,
    done: bool,
    /// Identifier of the last Challenge answered or Authenticate-Request sent.
    identifier: u8,
    /// Whether a Challenge has been answered (so a repeated one gets the same answer).
    answered: bool,
    /// The last CHAP Response value (MD5: 16 octets; MS-CHAPv2: 49).
    response: [u8; 49],
    response_len: u8,
    /// The authenticator response MS-CHAPv2 expects in the Success.
    expected: [u8; 20],
    /// Authenticate-Requests left to send (PAP).
    retries: u8,
}

/// Where a proxied authentication (RFC 2661 §4.4.5) resumes; `open_proxied` checked that it
/// fits the negotiated methods.
#[derive(Debug)]
pub(super) enum ProxiedStart {
    /// The peer's answer to the LAC, for the host to judge.
    Peer {
        identifier: u8,
        user: Vec<u8>,
        credentials: PeerCredentials,
    },
    /// We answered the LAC's CHAP-MD5 Challenge.
    ChapAnswered { identifier: u8, challenge: Vec<u8> },
    /// Our PAP Authenticate-Request went to the LAC.
    PapSent { identifier: u8 },
}

impl Link {
    /// LCP is up and some direction authenticates: start it, or resume it from `proxied`.
    pub(super) fn start_auth(
        &mut self,
        now: Instant,
        rng: &mut dyn Rng,
        proxied: Option<ProxiedStart>,
    ) {
        let deadline = now + self.shared.config.auth_timeout;
        self.shared.timers.set(TimerKind::AuthDeadline, deadline);
        let config = &self.shared.config;
        let mut state = Box::<AuthState>::default();
        if let Some(method) = self.lcp_opts.auth_peer() {
            let mut a = Authenticator {
                method,
                status: Status::Waiting,
                identifier: 0,
                challenge: [0; 16],
                success: None,
                message: None,
                retries: config.chap.max_challenges.saturating_sub(1),
                started: now,
                request: RequestDigest::default(),
                others: verdict::Identifiers::default(),
            };
            if method == AuthMethod::Pap {
                // RFC 1334 §2.2.1: the peer sends; we only wait, here at most `pap.timeout`.
                if let Some(t) = config.pap.timeout.filter(|t| *t < config.auth_timeout) {
                    self.shared.timers.set(TimerKind::AuthDeadline, now + t);
                }
            } else {
                let mut id = [0u8; 1];
                rng.fill(&mut id);
                a.identifier = id[0];
                rng.fill(&mut a.challenge);
                if config.chap.rechallenge.is_some() {
                    let mut next = Box::new([0u8; 17]);
                    rng.fill(&mut next[..]);
                    self.next_challenge = Some(next);
                }
            }
            state.peer = Some(a);
        }
        if let Some(method) = self.lcp_opts.auth_self {
            let retries = if method == AuthMethod::Pap {
                config.pap.max_requests
            } else {
                config.retries.max_configure
            };
            state.us = Some(Supplicant {
                method,
                done: false,
                // PAP numbers its requests on from the last round's (see `pap_id`).
                identifier: self.pap_id,
                answered: false,
                response: [0; 49],
                response_len: 0,
                expected: [0; 20],
                retries: retries.saturating_sub(1),
            });
        }
        self.auth = Some(state);
        if let Some(proxied) = proxied {
            self.resume_proxied(now, proxied);
        }
        self.send_challenge(now);
        self.send_pap_request_unless_proxied(now);
    }

    /// (Re)sends our CHAP Challenge if one is due.
    fn send_challenge(&mut self, now: Instant) {
        let Some(a) = self.auth.as_ref().and_then(|s| s.peer.as_ref()) else {
            return;
        };
        if a.method == AuthMethod::Pap || a.status != Status::Waiting {
            return;
        }
        let restart = self.shared.config.chap.restart;
        let (id, challenge) = (a.identifier, a.challenge);
        let name = &self.shared.config.name;
        let limit = usize::from(self.lcp_opts.peer_mru);
        if !self
            .shared
            .out
            .packet(protocol::CHAP, chap_code::CHALLENGE, id, limit, |w| {
                w.u8(16);
                w.bytes(&challenge);
                w.bytes(name);
            })
        {
            self.shared.counters.queue_full += 1;
        }
        self.shared
            .timers
            .set(TimerKind::ChallengeRestart, now + restart);
    }

    /// (Re)sends our PAP Authenticate-Request if one is due.
    fn send_pap_request(&mut self, now: Instant) {
        let Some(s) = self.auth.as_mut().and_then(|s| s.us.as_mut()) else {
            return;
        };
        if s.method != AuthMethod::Pap || s.done {
            return;
        }
        let Some(creds) = self.shared.config.credentials.as_ref() else {
            return;
        };
        s.identifier = s.identifier.wrapping_add(1);
        let id = s.identifier;
        self.pap_id = id;
        let limit = usize::from(self.lcp_opts.peer_mru);
        let ok = self
            .shared
            .out
            .packet(protocol::PAP, pap_code::REQUEST, id, limit, |w| {
                w.u8(creds.user.len().min(255) as u8);
                w.bytes(&creds.user[..creds.user.len().min(255)]);
                let pw = creds.password.as_bytes();
                w.u8(pw.len().min(255) as u8);
                w.bytes(&pw[..pw.len().min(255)]);
            });
        if !ok {
            self.shared.counters.queue_full += 1;
        }
        self.arm_auth_restart(now);
    }

    /// Arms the repetition of our PAP Authenticate-Request (`pap.restart`) or CHAP Response
    /// (LCP's Restart timer).
    fn arm_auth_restart(&mut self, now: Instant) {
        let config = &self.shared.config;
        let pap = self
            .auth
            .as_ref()
            .and_then(|s| s.us.as_ref())
            .is_some_and(|s| s.method == AuthMethod::Pap);
        let restart = if pap {
            config.pap.restart
        } else {
            config.retries.restart
        };
        self.shared
            .timers
            .set(TimerKind::AuthRestart, now + restart);
    }

    /// The retransmission timer of our PAP Authenticate-Request or CHAP Response.
    pub(super) fn auth_retransmit(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Authenticate | Phase::Network) {
            return;
        }
        let Some(state) = self.auth.as_mut() else {
            return;
        };
        let mut exhausted = false;
        let mut request = false;
        if let Some(s) = state.us.as_mut().filter(|s| !s.done) {
            // PAP repeats its request; CHAP repeats a Response whose Success or Failure has
            // not come (RFC 1994 §4.1: the authenticator answers a repeated Response again).
            if s.method == AuthMethod::Pap || s.answered {
                exhausted |= s.retries == 0;
                s.retries = s.retries.saturating_sub(1);
                request = true;
            }
        }
        if exhausted && self.phase == Phase::Network {
            // A re-challenge's Response: the peer authenticated us already and may leave this
            // one unanswered (its RADIUS server silent); the link goes on, and a later
            // Challenge is answered as usual.
            return;
        }
        if exhausted {
            self.close_with(now, DownReason::AuthTimeout);
            return;
        }
        if request {
            self.send_pap_request(now);
            self.send_chap_response(now);
        }
    }

    /// A PAP or CHAP frame.
    pub(super) fn auth_frame(&mut self, now: Instant, proto: u16, info: &[u8], rng: &mut dyn Rng) {
        let refusing = self.phase == Phase::Terminate && self.refused_peer();
        if !refusing && !matches!(self.phase, Phase::Authenticate | Phase::Network) {
            self.discard();
            return;
        }
        let Ok(p) = ControlPacket::parse(info) else {
            self.malformed();
            return;
        };
        let handled = if refusing {
            // The link closes after our Nak or Failure: only the peer's request is answered,
            // again with it, until LCP is down.
            match (proto, p.code) {
                (protocol::PAP, pap_code::REQUEST) => {
                    matches!(PapPacket::parse(&p), Ok(Some(pap)) if self.pap(now, p.identifier, pap))
                }
                (protocol::CHAP, chap_code::RESPONSE) => {
                    matches!(ChapPacket::parse(&p), Ok(Some(chap)) if self.chap(now, p.identifier, chap, rng))
                }
                _ => false,
            }
        } else if proto == protocol::PAP {
            match PapPacket::parse(&p) {
                Ok(Some(pap)) => self.pap(now, p.identifier, pap),
                Ok(None) => false,
                Err(_) => {
                    self.malformed();
                    return;
                }
            }
        } else {
            match ChapPacket::parse(&p) {
                Ok(Some(chap)) => self.chap(now, p.identifier, chap, rng),
                Ok(None) => false,
                Err(_) => {
                    self.malformed();
                    return;
                }
            }
        };
        if !handled {
            self.discard();
        }
        self.maybe_network(now);
    }

    fn pap(&mut self, now: Instant, id: u8, pap: PapPacket<'_>) -> bool {
        let Some(state) = self.auth.as_mut() else {
            return false;
        };
        match pap {
            PapPacket::Request { peer_id, password } => {
                let Some(a) = state.peer.as_mut().filter(|a| a.method == AuthMethod::Pap) else {
                    return false;
                };
                let digest = maths::pap_request_digest(peer_id, password);
                let same = ct_eq(&digest, &a.request.0);
                match a.status {
                    Status::Waiting => {
                        a.identifier = id;
                        a.request = RequestDigest(digest);
                        // The request came within `pap.timeout`: the verdict has the rest of
                        // `auth_timeout`.
                        let deadline = a.started + self.shared.config.auth_timeout;
                        self.shared.timers.set(TimerKind::AuthDeadline, deadline);
                        self.auth_serial = self.auth_serial.wrapping_add(1);
                        let request_id = AuthId(self.auth_serial);
                        a.status = Status::Pending(request_id);
                        self.push(Event::Authenticate(AuthRequest {
                            id: request_id,
                            user: peer_id.to_vec(),
                            credentials: PeerCredentials::Pap {
                                password: Password::new(password),
                            },
                        }));
                    }
                    // A retransmission while the host decides: the peer takes only an Ack
                    // with the Identifier of its latest request (RFC 1334 §2.2.2).
                    Status::Pending(_) if same => a.identifier = id,
                    // Another request while the host decides: it gets the verdict's answer
                    // too, with its own Identifier, never judged (RFC 1334 §2.2.1: every
                    // Authenticate-Request is answered), as one after the verdict does.
                    Status::Pending(_) => {
                        a.others.insert(id);
                        self.note_other_request(true);
                    }
                    // The Ack was lost: acknowledge the retransmission (RFC 1334 §2.2.2).
                    // Another request gets the Ack too (RFC 1334 §2.2.1: every
                    // Authenticate-Request is answered), the link authenticated as it was.
                    Status::Accepted => {
                        let message = pap_ack_message(a.message.as_deref()).to_owned();
                        self.send_auth(protocol::PAP, pap_code::ACK, id, message.as_bytes());
                        self.note_other_request(!same);
                    }
                    // The Nak was lost: refuse the retransmission, or another request, again
                    // while the link closes (RFC 1334 §2.2.1).
                    Status::Rejected => {
                        let message = a.message.clone().unwrap_or_default();
                        self.send_auth(protocol::PAP, pap_code::NAK, id, message.as_bytes());
                        self.note_other_request(!same);
                    }
                }
                true
            }
            PapPacket::Ack(_) | PapPacket::Nak(_) => {
                let Some(s) = state
                    .us
                    .as_mut()
                    .filter(|s| s.method == AuthMethod::Pap && !s.done && s.identifier == id)
                else {
                    return false;
                };
                match pap {
                    PapPacket::Nak(message) => {
                        self.refused(message);
                        self.close_with(now, DownReason::AuthRejectedByPeer);
                    }
                    _ => {
                        s.done = true;
                        self.shared.timers.stop(TimerKind::AuthRestart);
                    }
                }
                true
            }
        }
    }

    fn chap(&mut self, now: Instant, id: u8, chap: ChapPacket<'_>, rng: &mut dyn Rng) -> bool {
        match chap {
            ChapPacket::Challenge { value, .. } => self.chap_challenge(now, id, value, rng),
            ChapPacket::Response { value, name } => {
                let handled = self.chap_response(id, value, name);
                if handled
                    && self.rechallenging()
                    && let Some(next) = self.next_challenge.as_deref_mut()
                {
                    // The value of the next re-challenge, drawn while randomness is at hand.
                    rng.fill(&mut next[..]);
                }
                handled
            }
            ChapPacket::Success(message) | ChapPacket::Failure(message) => {
                let success = matches!(chap, ChapPacket::Success(_));
                self.chap_result(now, id, success, message)
            }
        }
    }

    /// The peer's Response to our Challenge.
    fn chap_response(&mut self, id: u8, value: &[u8], name: &[u8]) -> bool {
        let Some(a) = self
            .auth
            .as_mut()
            .and_then(|s| s.peer.as_mut())
            .filter(|a| a.method != AuthMethod::Pap && a.identifier == id)
        else {
            return false;
        };
        let digest = maths::pap_request_digest(name, value);
        let same = ct_eq(&digest, &a.request.0);
        match a.status {
            Status::Waiting => {}
            // The Success was lost: send it again (RFC 1994 §4.2). Another Response to the
            // same Challenge gets it too, the link authenticated as it was.
            Status::Accepted => {
                let message = success_message(a.method, a.success, a.message.as_deref());
                self.send_auth(protocol::CHAP, chap_code::SUCCESS, id, message.as_bytes());
                self.note_other_request(!same);
                return true;
            }
            // The Failure was lost: send it again while the link closes (RFC 1994 §4.2), to
            // another Response as well.
            Status::Rejected => {
                let message = a.message.clone().unwrap_or_default();
                self.send_auth(protocol::CHAP, chap_code::FAILURE, id, message.as_bytes());
                self.note_other_request(!same);
                return true;
            }
            Status::Pending(_) => return true,
        }
        let credentials = match a.method {
            AuthMethod::ChapMd5 => match <[u8; 16]>::try_from(value) {
                Ok(response) => PeerCredentials::ChapMd5 {
                    identifier: id,
                    challenge: a.challenge,
                    response,
                },
                Err(_) => return false,
            },
            _ => match MsChapV2Response::parse(value) {
                Some(r) => PeerCredentials::MsChapV2 {
                    identifier: id,
                    authenticator_challenge: a.challenge,
                    peer_challenge: r.peer_challenge,
                    nt_response: r.nt_response,
                },
                None => return false,
            },
        };
        a.request = RequestDigest(digest);
        self.auth_serial = self.auth_serial.wrapping_add(1);
        let request_id = AuthId(self.auth_serial);
        a.status = Status::Pending(request_id);
        self.shared.timers.stop(TimerKind::ChallengeRestart);
        self.push(Event::Authenticate(AuthRequest {
            id: request_id,
            user: name.to_vec(),
            credentials,
        }));
        true
    }

    /// A Challenge from the peer: answer with our credentials.
    fn chap_challenge(&mut self, now: Instant, id: u8, value: &[u8], rng: &mut dyn Rng) -> bool {
        let Some(method) = self.lcp_opts.auth_self.filter(|m| *m != AuthMethod::Pap) else {
            return false;
        };
        let Some(creds) = self.shared.config.credentials.as_ref() else {
            return false;
        };
        if method == AuthMethod::MsChapV2 && self.peer_challenge_salt == [0; 8] {
            rng.fill(&mut self.peer_challenge_salt);
        }
        let salt = self.peer_challenge_salt;
        // A Challenge in the network phase (a re-authentication) needs the state again.
        let state = self.auth.get_or_insert_with(Box::default);
        let s = state.us.get_or_insert(Supplicant {
            method,
            done: false,
            identifier: 0,
            answered: false,
            response: [0; 49],
            response_len: 0,
            expected: [0; 20],
            retries: 0,
        });
        if !(s.answered && s.identifier == id) {
            match method {
                AuthMethod::MsChapV2 => {
                    let Ok(challenge) = <[u8; 16]>::try_from(value) else {
                        return false;
                    };
                    // The same Challenge value gets the same Response, whatever its
                    // Identifier. The authenticator sends a Challenge again with a new
                    // Identifier and the same value (RFC 1994 §4.1) when our Response is
                    // late, and a path may duplicate and delay both; it judges one Response
                    // and answers the others with the same Success (RFC 1994 §4.2), whose
                    // authenticator response (RFC 2759 §5) holds only for that Response's
                    // Peer-Challenge. (CHAP-MD5's Success carries nothing to check.)
                    let peer_challenge = maths::ms_chap_v2_peer_challenge(&salt, &challenge);
                    let hash = maths::nt_password_hash(&creds.password);
                    let nt_response = maths::generate_nt_response(
                        &challenge,
                        &peer_challenge,
                        &creds.user,
                        &hash,
                    );
                    s.expected = maths::generate_authenticator_response(
                        &hash,
                        &nt_response,
                        &peer_challenge,
                        &challenge,
                        &creds.user,
                    );
                    let r = MsChapV2Response {
                        peer_challenge,
                        nt_response,
                        flags: 0,
                    };
                    s.response = r.to_bytes();
                    s.response_len = MsChapV2Response::LEN as u8;
                }
                _ => {
                    let r = maths::chap_md5_response(id, &creds.password, value);
                    s.response[..16].copy_from_slice(&r);
                    s.response_len = 16;
                }
            }
            s.identifier = id;
            s.answered = true;
            s.done = false;
            s.retries = self.shared.config.retries.max_configure.saturating_sub(1);
        }
        self.send_chap_response(now);
        true
    }

    /// (Re)sends our last CHAP Response while its Success or Failure has not come.
    fn send_chap_response(&mut self, now: Instant) {
        let Some(s) = self.auth.as_ref().and_then(|s| s.us.as_ref()) else {
            return;
        };
        let Some(creds) = self.shared.config.credentials.as_ref() else {
            return;
        };
        if s.method == AuthMethod::Pap || !s.answered || s.done {
            return;
        }
        let (id, response) = (s.identifier, &s.response[..usize::from(s.response_len)]);
        let limit = usize::from(self.lcp_opts.peer_mru);
        let user = &creds.user[..creds.user.len().min(255)];
        if !self
            .shared
            .out
            .packet(protocol::CHAP, chap_code::RESPONSE, id, limit, |w| {
                w.u8(response.len() as u8);
                w.bytes(response);
                w.bytes(user);
            })
        {
            self.shared.counters.queue_full += 1;
        }
        self.arm_auth_restart(now);
    }

    /// Tells the host the message of the peer that refused our credentials.
    fn refused(&mut self, message: &[u8]) {
        let message = &message[..message.len().min(255)];
        self.push(Event::AuthRefused(message.into()));
    }

    /// The peer's Success or Failure after our Response.
    fn chap_result(&mut self, now: Instant, id: u8, success: bool, message: &[u8]) -> bool {
        let Some(s) = self
            .auth
            .as_mut()
            .and_then(|s| s.us.as_mut())
            .filter(|s| s.method != AuthMethod::Pap && s.answered && s.identifier == id)
        else {
            return false;
        };
        if s.done {
            return true;
        }
        if !success {
            self.refused(message);
            self.close_with(now, DownReason::AuthRejectedByPeer);
            return true;
        }
        if s.method == AuthMethod::MsChapV2 {
            // "S=<40 hex digits>" then, optionally, " M=<message>" (RFC 2759 §5).
            let ok = message
                .get(..42)
                .and_then(AuthenticatorResponse::parse)
                .is_some_and(|r| ct_eq(&r.0, &s.expected));
            if !ok {
                self.close_with(now, DownReason::AuthenticatorInvalid);
                return true;
            }
        }
        s.done = true;
        self.shared.timers.stop(TimerKind::AuthRestart);
        true
    }

    /// Whether we refused the peer's credentials (the link then closes).
    pub(super) fn refused_peer(&self) -> bool {
        self.auth
            .as_ref()
            .and_then(|s| s.peer.as_ref())
            .is_some_and(|a| a.status == Status::Rejected)
    }

    /// Whether the peer has our credentials and has not answered them yet: a PAP
    /// Authenticate-Request or a CHAP Response went out, and no Ack/Nak or Success/Failure came.
    pub(super) fn awaiting_verdict(&self) -> bool {
        self.phase == Phase::Authenticate
            && self.shared.config.credentials.is_some()
            && self
                .auth
                .as_ref()
                .and_then(|a| a.us.as_ref())
                .is_some_and(|s| !s.done && (s.method == AuthMethod::Pap || s.answered))
    }

    /// Enters the network phase once every direction is authenticated.
    pub(super) fn maybe_network(&mut self, now: Instant) {
        if self.phase == Phase::Authenticate && self.auth.as_ref().is_some_and(|s| s.done()) {
            self.start_network(now);
        }
    }

    pub(super) fn send_auth(&mut self, proto: u16, code: u8, id: u8, message: &[u8]) {
        let limit = usize::from(self.lcp_opts.peer_mru);
        let pap = proto == protocol::PAP;
        let ok = self.shared.out.packet(proto, code, id, limit, |w| {
            if pap {
                // PAP's Ack and Nak carry a Msg-Length (RFC 1334 §2.2.2).
                w.u8(message.len().min(255) as u8);
                w.bytes(&message[..message.len().min(255)]);
            } else {
                w.bytes(message);
            }
        });
        if !ok {
            self.shared.counters.queue_full += 1;
        }
    }
}
