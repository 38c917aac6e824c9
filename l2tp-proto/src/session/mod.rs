//! Session (call) state machines: L2TPv2 LAC and LNS for incoming and outgoing calls
//! (RFC 2661 §7.3, §7.4, §7.5) and L2TPv3 incoming and outgoing sessions (RFC 3931 §3.4, §7.3,
//! §7.4), with CDN from either side.
//!
//! Read RFC 2661 §7.3-§7.5 and RFC 3931 §3.4, §5.4.4 and §7.3-§7.4 before editing.
//!
//! As in [`crate::tunnel`], the handlers are methods of [`Endpoint`]. One state enum covers all
//! four roles; each role uses the subset of states its RFC table names. Decisions:
//!
//! - The recipient of an OCRQ (L2TPv2 LAC, L2TPv3 OCRQ recipient) has no call to place: it
//!   answers OCRP and OCCN at once, passing through wait-cs-answer.
//! - An L2TPv3 ICRQ/OCRQ must carry a Remote End ID (RFC 3931 §6.6); without one configured we
//!   send our session id (4 octets).
//! - Data sequencing: we require sequenced data from the peer when
//!   [`SessionConfig::data_sequencing`] says so; we send sequenced data when the peer's Data
//!   Sequencing AVP (L2TPv3) or Sequencing Required AVP (L2TPv2, both directions) asks for it.
//! - Session tie breakers (RFC 3931 §5.4.4): a call for a configured Remote End ID carries a
//!   Session Tie Breaker; of two calls for the same circuit crossing in one tunnel, the lower
//!   value (or the only one sent) wins and its side refuses the other with CDN result 13;
//!   with equal values, or none on either side, both calls are disconnected.
//! - Call parameters RFC 3931 §5.4.4 rules out (a pseudowire type we did not offer, data
//!   sequencing without an L2-Specific Sublayer) are refused with CDN 14 or 15 before the
//!   caller is asked (`refusals`).
//! - A session keeps only what the data plane and the later messages need (ids, cookies,
//!   flags, a shared `Arc` of its profile); per established idle session this is about
//!   100 octets plus the id map entries.
//!
//! This file holds the states and the session record; `create` makes sessions and places
//! local calls, `receive` runs the peer's messages and the caller's answers, `teardown` ends
//! sessions, and `avps` reads and writes the AVPs of session messages.

use std::fmt;
use std::sync::Arc;

use crate::endpoint::Endpoint;
use crate::event::{CommandError, SessionHandle};
use crate::time::Instant;
use crate::timer::Owner;
use crate::wire::avp::Avp;
use crate::wire::header::{Cookie, L2SpecificSublayer, Version};
use crate::wire::message::{Message, MessageType};

mod avps;
mod config;
mod create;
pub mod proxy;
mod receive;
mod refusals;
mod teardown;

pub use config::{CallType, DEFAULT_TX_CONNECT_SPEED, DataSequencing, SessionConfig};
pub use proxy::ProxyAvps;

/// Session states, named as in RFC 2661 §7.3-§7.4 and RFC 3931 §7.3-§7.4.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum SessionState {
    /// No call yet; a recipient waits here for the caller's decision.
    Idle,
    /// The request waits for the tunnel (RFC 2661 wait-tunnel, RFC 3931 wait-control-conn).
    WaitTunnel,
    /// ICRQ/OCRQ sent, waiting for ICRP/OCRP.
    WaitReply,
    /// ICRP sent (waiting for ICCN), or OCRP received (waiting for OCCN).
    WaitConnect,
    /// OCRQ accepted, placing the call.
    WaitCsAnswer,
    /// The call is up.
    Established,
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::WaitTunnel => "wait-tunnel",
            Self::WaitReply => "wait-reply",
            Self::WaitConnect => "wait-connect",
            Self::WaitCsAnswer => "wait-cs-answer",
            Self::Established => "established",
        })
    }
}

/// One session. Kept small: 100 000 of these must fit comfortably in memory.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) handle: SessionHandle,
    pub(crate) config: Arc<SessionConfig>,
    /// Slab index of the tunnel.
    pub(crate) tunnel: u32,
    /// Position in the tunnel's session list.
    pub(crate) position: u32,
    pub(crate) local_id: u32,
    pub(crate) peer_id: u32,
    pub(crate) serial: u32,
    pub(crate) deadline: Option<Instant>,
    pub(crate) scheduled: Option<Instant>,
    pub(crate) cookie: Cookie,
    pub(crate) peer_cookie: Cookie,
    /// The L2-Specific Sublayer in use: ours until the peer says which it requires
    /// (RFC 3931 §5.4.4), then the peer's.
    pub(crate) l2spec: L2SpecificSublayer,
    pub(crate) pw_type: u16,
    pub(crate) state: SessionState,
    pub(crate) call: CallType,
    /// We sent the ICRQ/OCRQ.
    pub(crate) initiator: bool,
    pub(crate) lns: bool,
    pub(crate) send_seq: bool,
    pub(crate) recv_seq: bool,
    pub(crate) installed: bool,
    pub(crate) announced: bool,
    /// Control messages of this session received and sent.
    pub(crate) rx_messages: u32,
    pub(crate) tx_messages: u32,
    /// The Session Tie Breaker we sent in our ICRQ/OCRQ (RFC 3931 §5.4.4).
    pub(crate) tie_breaker: Option<u64>,
    /// The call's ICRQ carried Connect Speed Update Enable (RFC 5515 §6.2): the peer's (it may
    /// send CSUNs for the session) or, for a call we placed, ours (we send them and answer
    /// CSURQs).
    pub(crate) speed_updates: bool,
}

impl Endpoint {
    /// [`Endpoint::send`] for a message of session `si`, counted for that session.
    pub(super) fn send_session(
        &mut self,
        now: Instant,
        si: u32,
        ti: u32,
        msg: Message,
        v2_session: u16,
    ) {
        if let Some(s) = self.sessions.get_mut(si) {
            s.tx_messages = s.tx_messages.saturating_add(1);
        }
        self.send(now, ti, msg, v2_session);
    }

    /// An SLI with `accm` on established session `si` (RFC 2661 §6.14; RFC 3931 §6.15 keeps it
    /// for PPP pseudowires).
    pub(crate) fn send_link_info(
        &mut self,
        now: Instant,
        si: u32,
        accm: crate::wire::avp::types::Accm,
    ) -> Result<(), CommandError> {
        let s = self.sessions.get(si).ok_or(CommandError::NoSuchSession)?;
        if s.state != SessionState::Established {
            return Err(CommandError::NoSuchSession);
        }
        let ti = s.tunnel;
        let version = self
            .tunnels
            .get(ti)
            .ok_or(CommandError::NoSuchTunnel)?
            .version;
        let mut msg = Message::new(MessageType::Sli);
        if version == Version::V3 {
            msg.push(Avp::LocalSessionId(s.local_id), version);
            msg.push(Avp::RemoteSessionId(s.peer_id), version);
        }
        msg.push(Avp::Accm(accm), version);
        let peer_sid = s.peer_id as u16;
        self.send_session(now, si, ti, msg, peer_sid);
        Ok(())
    }

    pub(crate) fn reschedule_session(&mut self, si: u32) {
        let generation = self.sessions.generation(si);
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        self.timers
            .reschedule(Owner::Session(si), generation, s.deadline, &mut s.scheduled);
    }
}

/// The key of an L2TPv2 session in the endpoint's map: both 16-bit ids.
pub(crate) fn v2_key(tunnel_id: u32, session_id: u32) -> u32 {
    ((tunnel_id & 0xffff) << 16) | (session_id & 0xffff)
}
