//! The host's verdict on the peer's credentials: Authenticate-Ack or -Nak (PAP, RFC 1334
//! §2.2.2), Success or Failure (CHAP, RFC 1994 §4.2; MS-CHAPv2's message forms, RFC 2759
//! §5 and §6), with the host's message when it gives one.

use l2tp_proto::time::Instant;

use super::Status;
use crate::auth::wire::{chap_code, pap_code};
use crate::auth::{AuthId, AuthMethod, AuthenticatorResponse, Verdict};
use crate::event::DownReason;
use crate::link::{Link, Phase, VerdictError};
use crate::wire::protocol;

impl Link {
    /// A request with other credentials than the one judged, after the verdict or while it is
    /// pending, is answered with that verdict, not judged (as pppd does): counted for the host
    /// to log.
    pub(in crate::link) fn note_other_request(&mut self, other: bool) {
        if other {
            let c = &mut self.shared.counters;
            c.auth_other_requests = c.auth_other_requests.wrapping_add(1);
        }
    }

    /// The host's verdict on a request.
    pub(in crate::link) fn verdict(
        &mut self,
        now: Instant,
        id: AuthId,
        verdict: Verdict,
    ) -> Result<(), VerdictError> {
        let Some(a) = self
            .auth
            .as_mut()
            .and_then(|s| s.peer.as_mut())
            .filter(|a| a.status == Status::Pending(id))
        else {
            return Err(VerdictError::NoSuchRequest);
        };
        let (method, identifier) = (a.method, a.identifier);
        // Other requests that came while the verdict was pending get its answer too.
        let others = std::mem::take(&mut a.others);
        let others = others.iter().filter(|id| *id != identifier);
        match verdict {
            Verdict::Accept {
                authenticator_response,
                message,
            } => {
                if method == AuthMethod::MsChapV2 && authenticator_response.is_none() {
                    return Err(VerdictError::MissingAuthenticatorResponse);
                }
                a.status = Status::Accepted;
                a.success = authenticator_response;
                a.message = message.map(String::into_boxed_str);
                if method == AuthMethod::Pap {
                    let message = pap_ack_message(a.message.as_deref()).to_owned();
                    self.send_auth(protocol::PAP, pap_code::ACK, identifier, message.as_bytes());
                    for id in others {
                        self.send_auth(protocol::PAP, pap_code::ACK, id, message.as_bytes());
                    }
                } else {
                    let message =
                        success_message(method, authenticator_response, a.message.as_deref());
                    self.send_auth(
                        protocol::CHAP,
                        chap_code::SUCCESS,
                        identifier,
                        message.as_bytes(),
                    );
                }
                if self.phase == Phase::Network {
                    // A re-challenge answered right: the link goes on as it was.
                    self.arm_rechallenge(now);
                }
                self.maybe_network(now);
            }
            Verdict::Reject { message } => {
                // The answer is kept: a request repeated while the link closes gets it again.
                a.status = Status::Rejected;
                if method == AuthMethod::Pap {
                    a.message = Some(message.clone().into_boxed_str());
                    self.send_auth(protocol::PAP, pap_code::NAK, identifier, message.as_bytes());
                    for id in others {
                        self.send_auth(protocol::PAP, pap_code::NAK, id, message.as_bytes());
                    }
                } else {
                    let text = if method == AuthMethod::MsChapV2 && !message.starts_with("E=") {
                        let challenge: String =
                            a.challenge.iter().map(|b| format!("{b:02X}")).collect();
                        format!("E=691 R=0 C={challenge} V=3 M={message}")
                    } else {
                        message
                    };
                    a.message = Some(text.clone().into_boxed_str());
                    self.send_auth(
                        protocol::CHAP,
                        chap_code::FAILURE,
                        identifier,
                        text.as_bytes(),
                    );
                }
                self.close_with(now, DownReason::AuthFailed);
            }
        }
        Ok(())
    }
}

/// The message of a CHAP Success: MS-CHAPv2's "S=... M=..." (RFC 2759 §5), else the
/// host's `message` (RFC 1994 §4.2) or a greeting.
pub(super) fn success_message(
    method: AuthMethod,
    response: Option<AuthenticatorResponse>,
    message: Option<&str>,
) -> String {
    let text = message.unwrap_or("Access granted");
    match (method, response) {
        (AuthMethod::MsChapV2, Some(r)) => format!("{r} M={text}"),
        _ => text.to_string(),
    }
}

/// The message of a PAP Authenticate-Ack: the host's, else a greeting.
pub(super) fn pap_ack_message(message: Option<&str>) -> &str {
    message.unwrap_or("Login ok")
}

/// A set of PAP Identifiers (256 bits).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Identifiers([u64; 4]);

impl Identifiers {
    pub(super) fn insert(&mut self, id: u8) {
        self.0[usize::from(id >> 6)] |= 1 << (id & 63);
    }

    /// The Identifiers in the set, in ascending order.
    pub(super) fn iter(self) -> impl Iterator<Item = u8> {
        (0..=u8::MAX).filter(move |id| self.0[usize::from(id >> 6)] & (1 << (id & 63)) != 0)
    }
}
