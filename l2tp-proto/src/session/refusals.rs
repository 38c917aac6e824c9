//! L2TPv3 call parameters the RFC says to refuse with a CDN of its own result code, before the
//! caller is asked about the call (RFC 3931 §5.4.4).

use crate::endpoint::Endpoint;
use crate::event::Refusal;
use crate::time::Instant;
use crate::wire::message::{Message, MessageType};
use crate::wire::result::result_code::cdn;

/// The refusal an L2TPv3 ICRQ, OCRQ, ICRP or OCRP earns, if any:
///
/// - a Pseudowire Type that our SCCRQ or SCCRP did not list in its Pseudowire Capabilities
///   List (`pw_caps`): "MUST result in the call being rejected via a CDN with the Result Code
///   set to 14";
/// - a Data Sequencing level other than 0 without an L2-Specific Sublayer that can carry the
///   sequence numbers (no L2-Specific Sublayer AVP, or type 0): "the session MUST be
///   disconnected with a Result Code of 15".
pub(super) fn call_refusal(msg: &Message, pw_caps: &[u16]) -> Option<Refusal> {
    let request = matches!(msg.message_type, MessageType::Icrq | MessageType::Ocrq);
    if request
        && let Some(ty) = msg.pseudowire_type()
        && !pw_caps.contains(ty)
    {
        return Some(Refusal::with(
            cdn::UNSUPPORTED_PW_TYPE,
            format!("pseudowire type {ty} was not in our capabilities list"),
        ));
    }
    let sequenced = msg.data_sequencing().is_some_and(|level| *level != 0);
    let sublayer = msg.l2_specific_sublayer().is_some_and(|ty| *ty != 0);
    if sequenced && !sublayer {
        return Some(Refusal::with(
            cdn::SEQUENCING_WITHOUT_SUBLAYER,
            "data sequencing without an L2-Specific Sublayer",
        ));
    }
    None
}

impl Endpoint {
    /// Reports (and counts) a call whose parameters the RFC rules out, and disconnects it.
    pub(super) fn refuse_parameters(
        &mut self,
        now: Instant,
        ti: u32,
        si: u32,
        message_type: MessageType,
        refusal: Refusal,
    ) {
        if let Some(t) = self.tunnels.get(ti) {
            let (remote, id) = (t.remote, t.local_id);
            let problem = crate::guard::Discard::CallRefused {
                message_type,
                result: refusal.result,
                why: refusal.message.clone().unwrap_or_default(),
            };
            self.discard(remote, id, problem);
        }
        self.close_session(now, si, refusal);
    }
}
