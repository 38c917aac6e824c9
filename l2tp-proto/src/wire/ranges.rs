//! Values the RFCs rule out beyond an AVP's length: identifiers that must be non-zero, levels
//! and types outside the defined ones. What each violation leads to is the usual rule for a
//! malformed AVP (RFC 2661 §7.1, RFC 3931 §7.1): with the M bit set the message fails (StopCCN
//! or CDN, result 2, error 3: "one of the field values was out of range"), without it the AVP
//! is ignored. `docs/robustness.md` lists every field audited, with what the RFC says and
//! what is done.

use crate::wire::avp::Avp;
use crate::wire::avp::types::ValueError;
use crate::wire::header::Version;
use crate::wire::message::{Message, MessageType};

/// Checks a value that no message may carry, whatever its type.
pub(crate) fn check_avp(avp: &Avp) -> Result<(), ValueError> {
    let out = |found: u16, expected| {
        Err(ValueError::OutOfRange {
            expected,
            found: u64::from(found),
        })
    };
    match avp {
        // RFC 3931 §5.4.4: levels 0 (none), 1 (non-IP) and 2 (all) are defined.
        Avp::DataSequencing(level) if *level > 2 => out(*level, "a level of 0, 1 or 2"),
        // RFC 3931 §5.4.4: the sender requires this sublayer on what it receives, and the
        // receiver MUST include it; 0 (none) and 1 (default) are the ones defined there, and
        // the only ones this implementation can include.
        Avp::L2SpecificSublayer(ty) if *ty > 1 => out(*ty, "sublayer type 0 or 1"),
        _ => Ok(()),
    }
}

/// Checks the identifiers that message type of `msg` must carry non-zero in `version`. Returns
/// the index (in `msg.avps`) of the first offending AVP and the fault.
///
/// - Assigned Tunnel ID (RFC 2661 §4.4.3) and Assigned Control Connection ID (RFC 3931
///   §5.4.3) in SCCRQ and SCCRP: 0 means "not assigned yet" and MUST NOT be assigned. In an
///   L2TPv2-formatted SCCRQ answered as L2TPv3 (RFC 3931 §4.7.3) the L2TPv2 AVPs are ignored,
///   so only the version's own id is checked.
/// - Receive Window Size in SCCRQ and SCCRP: a window of 0 would let the peer send nothing
///   (RFC 3931 §4.2: the window advertised is non-zero).
/// - Assigned Session ID (RFC 2661 §4.4.4, §5.3: 0 "MUST NOT be used") and Local Session ID
///   (RFC 3931 §5.4.4) in ICRQ, ICRP, OCRQ and OCRP.
/// - Remote Session ID (RFC 3931 §5.4.4) in ICRP, OCRP, ICCN and OCCN, which answer a message
///   that carried the peer's Local Session ID; it is 0 in ICRQ and OCRQ, and may be 0 in
///   CDN, WEN and SLI sent before the id is known.
///
/// - Connect Speed Update (RFC 5515 §6.1) in any message: its form (length 18 for L2TPv2, 26
///   for L2TPv3) must be the tunnel's version's; the other form is a wrong length.
///
/// StopCCN and CDN are not checked: they end the tunnel or session anyway, and a peer refusing
/// a call before it made a session has no id of its own to give.
pub(crate) fn check_message(msg: &Message, version: Version) -> Option<(usize, ValueError)> {
    use MessageType as M;
    let t = msg.message_type;
    let tunnel_setup = matches!(t, M::Sccrq | M::Sccrp);
    let call_setup = matches!(t, M::Icrq | M::Icrp | M::Ocrq | M::Ocrp);
    let answer = matches!(t, M::Icrp | M::Ocrp | M::Iccn | M::Occn);
    msg.avps.iter().enumerate().find_map(|(i, e)| {
        if let Avp::ConnectSpeedUpdate(update) = &e.avp
            && update.version != version
        {
            let expected = match version {
                Version::V2 => "12 in an L2TPv2 tunnel (RFC 5515 §6.1)",
                Version::V3 => "20 in an L2TPv3 tunnel (RFC 5515 §6.1)",
            };
            let found = update.value_len();
            return Some((i, ValueError::BadLength { expected, found }));
        }
        let expected = match (&e.avp, version) {
            (Avp::AssignedTunnelId(0), Version::V2) if tunnel_setup => {
                "a non-zero Assigned Tunnel ID (RFC 2661 §4.4.3)"
            }
            (Avp::AssignedConnectionId(0), Version::V3) if tunnel_setup => {
                "a non-zero Assigned Control Connection ID (RFC 3931 §5.4.3)"
            }
            (Avp::ReceiveWindowSize(0), _) if tunnel_setup => {
                "a non-zero Receive Window Size (RFC 3931 §4.2)"
            }
            (Avp::AssignedSessionId(0), Version::V2) if call_setup => {
                "a non-zero Assigned Session ID (RFC 2661 §4.4.4)"
            }
            (Avp::LocalSessionId(0), Version::V3) if call_setup => {
                "a non-zero Local Session ID (RFC 3931 §5.4.4)"
            }
            (Avp::RemoteSessionId(0), Version::V3) if answer => {
                "a non-zero Remote Session ID once the peer's is known (RFC 3931 §5.4.4)"
            }
            _ => return None,
        };
        Some((i, ValueError::OutOfRange { expected, found: 0 }))
    })
}
