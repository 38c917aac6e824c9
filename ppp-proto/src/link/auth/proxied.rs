//! A proxied authentication (RFC 2661 §4.4.5) resumed where the LAC left it: the peer's
//! answer judged by the host, our CHAP Response to the LAC's Challenge waiting for its
//! Success, or our PAP Authenticate-Request to the LAC waiting for its Ack.

use l2tp_proto::time::Instant;

use super::{ProxiedStart, RequestDigest, Status};
use crate::auth::wire::MsChapV2Response;
use crate::auth::{AuthId, AuthRequest, PeerCredentials, maths};
use crate::event::Event;
use crate::link::Link;

impl Link {
    /// Resumes the authentication phase from `proxied`.
    pub(super) fn resume_proxied(&mut self, now: Instant, proxied: ProxiedStart) {
        match proxied {
            ProxiedStart::Peer {
                identifier,
                user,
                credentials,
            } => self.resume_peer(identifier, user, credentials),
            ProxiedStart::ChapAnswered {
                identifier,
                challenge,
            } => self.resume_chap_answered(now, identifier, &challenge),
            ProxiedStart::PapSent { identifier } => {
                if let Some(s) = self.auth.as_mut().and_then(|s| s.us.as_mut()) {
                    // (`answered` marks the request as sent: PAP has no other use for it.)
                    s.identifier = identifier;
                    s.answered = true;
                }
                self.arm_auth_restart(now);
            }
        }
    }

    /// Proxy authentication as authenticator: the peer answered the LAC; the host judges.
    fn resume_peer(&mut self, identifier: u8, user: Vec<u8>, credentials: PeerCredentials) {
        let Some(a) = self.auth.as_mut().and_then(|s| s.peer.as_mut()) else {
            return;
        };
        a.identifier = identifier;
        let digest = match &credentials {
            PeerCredentials::ChapMd5 {
                challenge,
                response,
                ..
            } => {
                a.challenge = *challenge;
                maths::pap_request_digest(&user, response)
            }
            PeerCredentials::Pap { password } => {
                maths::pap_request_digest(&user, password.as_bytes())
            }
            PeerCredentials::MsChapV2 {
                peer_challenge,
                nt_response,
                ..
            } => {
                let r = MsChapV2Response {
                    peer_challenge: *peer_challenge,
                    nt_response: *nt_response,
                    flags: 0,
                };
                maths::pap_request_digest(&user, &r.to_bytes())
            }
        };
        a.request = RequestDigest(digest);
        self.auth_serial = self.auth_serial.wrapping_add(1);
        let request_id = AuthId(self.auth_serial);
        a.status = Status::Pending(request_id);
        self.push(Event::Authenticate(AuthRequest {
            id: request_id,
            user,
            credentials,
        }));
    }

    /// Proxy authentication as the one authenticated: our Response to the LAC's Challenge is
    /// out; the Success is to come (the Response is repeated on the Restart timer, as usual).
    fn resume_chap_answered(&mut self, now: Instant, identifier: u8, challenge: &[u8]) {
        let Some(creds) = self.shared.config.credentials.as_ref() else {
            return;
        };
        let Some(s) = self.auth.as_mut().and_then(|s| s.us.as_mut()) else {
            return;
        };
        let r = maths::chap_md5_response(identifier, &creds.password, challenge);
        s.response[..16].copy_from_slice(&r);
        s.response_len = 16;
        s.identifier = identifier;
        s.answered = true;
        self.arm_auth_restart(now);
    }

    /// Our first PAP Authenticate-Request, unless a proxied one went out already.
    pub(super) fn send_pap_request_unless_proxied(&mut self, now: Instant) {
        if self
            .auth
            .as_ref()
            .and_then(|s| s.us.as_ref())
            .is_some_and(|s| s.answered)
        {
            return;
        }
        self.send_pap_request(now);
    }
}
