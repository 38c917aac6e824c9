//! CHAP's Challenge as authenticator on its timer: sent again while unanswered (RFC 1994
//! §4.1), and, with `chap.rechallenge`, sent anew in the network phase (RFC 1994 §2).

use l2tp_proto::time::Instant;

use super::{Authenticator, Status};
use crate::auth::{AuthId, AuthMethod};
use crate::event::DownReason;
use crate::link::{Link, Phase, VerdictError};
use crate::timer::TimerKind;

impl Link {
    /// The retransmission timer of our CHAP Challenge: sent again with a new Identifier, or,
    /// after `chap.max_challenges` unanswered, the link closes. In the network phase with no
    /// Challenge out, the time of the next re-challenge.
    pub(in crate::link) fn challenge_retransmit(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Authenticate | Phase::Network) {
            return;
        }
        let Some(a) = self
            .auth
            .as_mut()
            .and_then(|s| s.peer.as_mut())
            .filter(|a| a.method != AuthMethod::Pap && a.status == Status::Waiting)
        else {
            if self.phase == Phase::Network {
                self.rechallenge(now);
            }
            return;
        };
        if a.retries == 0 {
            self.close_with(now, DownReason::AuthTimeout);
            return;
        }
        a.retries -= 1;
        // "The Identifier field MUST be changed each time a Challenge is sent" (RFC 1994
        // §4.1); the value stays, as the new Identifier changes the expected Response.
        a.identifier = a.identifier.wrapping_add(1);
        self.send_challenge(now);
    }

    /// The re-challenge timer (RFC 1994 §2: the authenticator may challenge again at any time
    /// in the network phase): a new Challenge, answered as the first.
    fn rechallenge(&mut self, now: Instant) {
        let Some(method) = self.lcp_opts.auth_peer() else {
            return;
        };
        let Some(&[id, value @ ..]) = self.next_challenge.as_deref() else {
            return;
        };
        if method == AuthMethod::Pap {
            return;
        }
        let state = self.auth.get_or_insert_with(Box::default);
        state.peer = Some(Authenticator {
            method,
            status: Status::Waiting,
            identifier: id,
            challenge: value,
            success: None,
            message: None,
            retries: self.shared.config.chap.max_challenges.saturating_sub(1),
            started: now,
            request: Default::default(),
            others: Default::default(),
        });
        self.send_challenge(now);
    }

    /// The host has no verdict on re-challenge `id` (its RADIUS server did not answer): the
    /// peer, authenticated already, gets no answer and the link goes on; the next re-challenge
    /// comes after the interval.
    pub(in crate::link) fn forgo(&mut self, now: Instant, id: AuthId) -> Result<(), VerdictError> {
        let pending = self.phase == Phase::Network
            && self
                .auth
                .as_ref()
                .and_then(|s| s.peer.as_ref())
                .is_some_and(|a| a.status == Status::Pending(id));
        if !pending {
            return Err(VerdictError::NoSuchRequest);
        }
        if let Some(state) = self.auth.as_mut() {
            state.peer = None;
            if state.us.is_none() {
                self.auth = None;
            }
        }
        self.arm_rechallenge(now);
        Ok(())
    }

    /// Arms the next re-challenge, if the peer was authenticated with CHAP and the profile
    /// asks for them.
    pub(in crate::link) fn arm_rechallenge(&mut self, now: Instant) {
        if let Some(d) = self.shared.config.chap.rechallenge
            && self
                .lcp_opts
                .auth_peer()
                .is_some_and(|m| m != AuthMethod::Pap)
        {
            self.shared.timers.set(TimerKind::ChallengeRestart, now + d);
        }
    }

    /// Whether a re-challenge waits for the peer's Response or the host's verdict (its state
    /// is kept when a network protocol comes up).
    pub(in crate::link) fn rechallenging(&self) -> bool {
        self.phase == Phase::Network && self.auth.as_ref().is_some_and(|s| s.rechallenging())
    }
}
