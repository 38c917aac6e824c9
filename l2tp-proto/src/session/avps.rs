//! The AVPs of session messages: what a session learns from the peer's ICRQ, ICRP, OCRQ,
//! OCRP, ICCN and OCCN, and the AVPs it puts in its own.

use crate::wire::avp::Avp;
use crate::wire::avp::types::circuit_status;
use crate::wire::header::{L2SpecificSublayer, Version};
use crate::wire::message::{Message, MessageType};

use super::{Session, SessionConfig};

/// Records the peer's ids and data-plane parameters from ICRQ/ICRP/OCRQ/OCRP/ICCN/OCCN.
pub(super) fn learn_session(s: &mut Session, msg: &Message, version: Version) {
    match version {
        Version::V2 => {
            if let Some(id) = msg.assigned_session_id() {
                s.peer_id = u32::from(*id);
            }
            if msg.sequencing_required().is_some() {
                s.send_seq = true;
                s.recv_seq = true;
            }
        }
        Version::V3 => {
            if let Some(id) = msg.local_session_id() {
                s.peer_id = *id;
            }
            if let Some(cookie) = msg.assigned_cookie() {
                s.peer_cookie = *cookie;
            }
            if let Some(seq) = msg.data_sequencing() {
                s.send_seq = *seq != 0;
            }
            // RFC 3931 §5.4.4: the sublayer the peer requires on what it receives MUST be
            // included in what we send; without the AVP there is none. The data planes use one
            // sublayer both ways, so the session takes the peer's (and a recipient's reply
            // then announces the same). Types other than 0 and 1 are not known here; the
            // session keeps its own. The first message of each side carries the AVP; later
            // ones (ICCN, OCCN) change it only if they carry it.
            let first = matches!(
                msg.message_type,
                MessageType::Icrq | MessageType::Icrp | MessageType::Ocrq | MessageType::Ocrp
            );
            match msg.l2_specific_sublayer().copied() {
                Some(0) => s.l2spec = L2SpecificSublayer::None,
                Some(1) => s.l2spec = L2SpecificSublayer::Default,
                None if first => s.l2spec = L2SpecificSublayer::None,
                _ => {}
            }
        }
    }
}

pub(super) fn push_numbers(msg: &mut Message, cfg: &SessionConfig, version: Version) {
    if !cfg.calling_number.is_empty() {
        msg.push(Avp::CallingNumber(cfg.calling_number.clone()), version);
    }
    if !cfg.called_number.is_empty() {
        msg.push(Avp::CalledNumber(cfg.called_number.clone()), version);
    }
    if !cfg.sub_address.is_empty() {
        msg.push(Avp::SubAddress(cfg.sub_address.clone()), version);
    }
}

/// Cookie, sublayer and sequencing AVPs of an L2TPv3 ICRQ/ICRP/OCRQ/OCRP.
pub(super) fn push_v3_session_params(msg: &mut Message, s: &Session) {
    let version = Version::V3;
    if !s.cookie.is_empty() {
        msg.push(Avp::AssignedCookie(s.cookie), version);
    }
    let l2spec = match s.l2spec {
        L2SpecificSublayer::None => 0,
        L2SpecificSublayer::Default => 1,
    };
    msg.push(Avp::L2SpecificSublayer(l2spec), version);
    msg.push(
        Avp::DataSequencing(s.config.data_sequencing.value()),
        version,
    );
}

/// The ids of an ICRP or OCRP.
pub(super) fn push_reply_ids(msg: &mut Message, s: &Session, version: Version) {
    match version {
        Version::V2 => {
            msg.push(Avp::AssignedSessionId(s.local_id as u16), version);
        }
        Version::V3 => {
            msg.push(Avp::LocalSessionId(s.local_id), version);
            msg.push(Avp::RemoteSessionId(s.peer_id), version);
            msg.push(
                Avp::CircuitStatus(circuit_status::ACTIVE | circuit_status::NEW),
                version,
            );
            push_v3_session_params(msg, s);
        }
    }
}

/// ICCN or OCCN.
pub(super) fn push_connected(msg: &mut Message, s: &Session, version: Version) {
    let cfg = &s.config;
    match version {
        Version::V2 => {
            msg.push(Avp::TxConnectSpeed(cfg.tx_speed()), version);
            msg.push(Avp::FramingType(cfg.framing_type), version);
            if cfg.rx_connect_speed != 0 {
                msg.push(Avp::RxConnectSpeed(cfg.rx_connect_speed), version);
            }
            if s.recv_seq {
                msg.push(Avp::SequencingRequired(()), version);
            }
            if !cfg.private_group_id.is_empty() && s.initiator && !s.lns {
                msg.push(Avp::PrivateGroupId(cfg.private_group_id.clone()), version);
            }
            if let Some(proxy) = cfg.proxy.as_deref().filter(|_| s.initiator && !s.lns) {
                proxy.push(msg, version);
            }
        }
        Version::V3 => {
            msg.push(Avp::LocalSessionId(s.local_id), version);
            msg.push(Avp::RemoteSessionId(s.peer_id), version);
            if cfg.tx_connect_speed.is_some() || cfg.rx_connect_speed != 0 {
                msg.push(Avp::TxConnectSpeedBps(cfg.tx_speed().into()), version);
                if cfg.rx_connect_speed != 0 {
                    msg.push(Avp::RxConnectSpeedBps(cfg.rx_connect_speed.into()), version);
                }
            }
        }
    }
}
