//! RFC 5515 connect speeds: the speeds of a call as the LAC tells them ([`ConnectSpeed`], from
//! the ICCN and later from CSUNs), and the receipt of CSUN and CSURQ (RFC 5515 §4.1, §4.2).
//!
//! - A CSUN carries one Connect Speed Update AVP per session, naming the session by the id
//!   the receiver assigned. Each update for an established session of the same tunnel whose
//!   ICRQ carried Connect Speed Update Enable becomes an [`Event::ConnectSpeedUpdate`]; any
//!   other (unknown session, another tunnel's, not established, updates not enabled: all
//!   things §4.1 says the LAC MUST NOT send) is reported as a [`Discard::SpeedUpdateIgnored`]
//!   and counted. The tunnel is never torn down for it.
//! - A CSUN without any Connect Speed Update AVP (§4.1: at least one MUST be present) is
//!   acknowledged, counted as malformed and otherwise ignored.
//! - As LAC, a call's ICRQ carries Connect Speed Update Enable when its
//!   [`crate::SessionConfig::connect_speed_updates`] says so, and for those calls only
//!   [`crate::Command::UpdateConnectSpeeds`] sends one CSUN per tunnel with their new speeds
//!   and a CSURQ is answered with one CSUN. §4.2 forbids answering for any other session:
//!   those are left out and reported ([`Discard::SpeedRequestIgnored`]).
//! - As LNS, [`crate::Command::RequestConnectSpeeds`] sends a CSURQ for one session or every
//!   established session of a tunnel whose ICRQ enabled updates, and for no other (§4.2).

use std::collections::BTreeSet;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;

use crate::endpoint::Endpoint;
use crate::event::{CommandError, Event};
use crate::guard::{Discard, SpeedUpdateIgnored};
use crate::session::{CallType, Session, SessionState};
use crate::time::Instant;
use crate::tunnel::TunnelState;
use crate::wire::avp::types::ConnectSpeedUpdate;
use crate::wire::header::Version;
use crate::wire::{Avp, Message, MessageType};

/// Sessions named in one CSURQ or CSUN: 1000 AVPs of at most 26 octets stay well within a
/// message's 16-bit Length.
const SESSIONS_PER_MESSAGE: usize = 1000;

/// The speeds of a call's connection as the LAC tells them in its ICCN or OCCN: Tx Connect
/// Speed and Rx Connect Speed (RFC 2661 §4.4.5, 32 bits) or their BPS forms (RFC 3931
/// §5.4.5, 64 bits), in bits per second. A speed of 0 (unknown) is none.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct ConnectSpeed {
    /// Tx Connect Speed: the speed towards the user, or both ways when no Rx speed is given.
    pub tx: NonZeroU64,
    /// Rx Connect Speed: the speed from the user, when it differs.
    pub rx: Option<NonZeroU64>,
}

impl ConnectSpeed {
    /// The speeds of an ICCN or OCCN, if it gives a Tx speed that is not 0.
    pub fn of_message(msg: &crate::wire::Message) -> Option<Self> {
        let tx = msg
            .tx_connect_speed_bps()
            .copied()
            .or_else(|| msg.tx_connect_speed().map(|&s| u64::from(s)))?;
        let rx = msg
            .rx_connect_speed_bps()
            .copied()
            .or_else(|| msg.rx_connect_speed().map(|&s| u64::from(s)));
        Some(ConnectSpeed {
            tx: NonZeroU64::new(tx)?,
            rx: rx.and_then(NonZeroU64::new),
        })
    }
}

impl fmt::Display for ConnectSpeed {
    /// `TX` or `TX/RX`, in bits per second.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rx {
            Some(rx) => write!(f, "{}/{rx}", self.tx),
            None => write!(f, "{}", self.tx),
        }
    }
}

impl ConnectSpeed {
    /// The speeds of a Connect Speed Update AVP (RFC 5515 §6.1): none when Tx is 0.
    pub fn of_update(update: &ConnectSpeedUpdate) -> Option<Self> {
        Some(ConnectSpeed {
            tx: NonZeroU64::new(update.tx)?,
            rx: NonZeroU64::new(update.rx),
        })
    }
}

impl Endpoint {
    /// A CSUN in tunnel `ti` (RFC 5515 §4.1): applies each Connect Speed Update AVP that the
    /// LAC was allowed to send, reports the others.
    pub(crate) fn on_csun(&mut self, ti: u32, msg: &Message) {
        let Some(t) = self.tunnels.get(ti) else {
            return;
        };
        let (remote, tunnel_id) = (t.remote, t.local_id);
        let updates: Vec<ConnectSpeedUpdate> = msg
            .avps
            .iter()
            .filter_map(|e| match &e.avp {
                Avp::ConnectSpeedUpdate(u) => Some(*u),
                _ => None,
            })
            .collect();
        if updates.is_empty() {
            self.discard(remote, tunnel_id, Discard::SpeedUpdateEmpty);
            return;
        }
        for update in updates {
            let found = self
                .find_session(ti, update.session_id)
                .and_then(|si| Some((si, self.sessions.get(si)?)));
            let why = match found {
                None => Some(SpeedUpdateIgnored::UnknownSession),
                // Only the peer's ICRQ lets it send CSUNs: not ours, as LAC, for a call we placed.
                Some((_, s)) if !s.speed_updates || s.initiator => {
                    Some(SpeedUpdateIgnored::NotEnabled)
                }
                Some((_, s)) if s.state != SessionState::Established => {
                    Some(SpeedUpdateIgnored::NotEstablished)
                }
                Some(_) => None,
            };
            match (why, found) {
                (None, Some((_, s))) => self.events.push_back(Event::ConnectSpeedUpdate {
                    handle: s.handle,
                    tunnel_id,
                    session_id: s.local_id,
                    speed: ConnectSpeed::of_update(&update),
                }),
                (why, _) => {
                    let why = why.unwrap_or(SpeedUpdateIgnored::UnknownSession);
                    let session_id = update.session_id;
                    self.discard(
                        remote,
                        tunnel_id,
                        Discard::SpeedUpdateIgnored { session_id, why },
                    );
                }
            }
        }
    }

    /// Sends CSURQs in tunnel `ti` for `session_id`, or for all its established sessions
    /// whose ICRQ enabled updates; returns how many sessions were asked for.
    pub(crate) fn request_speeds(
        &mut self,
        now: Instant,
        ti: u32,
        session_id: Option<u32>,
    ) -> Result<usize, CommandError> {
        let t = self.tunnels.get(ti).ok_or(CommandError::NoSuchTunnel)?;
        if t.state != TunnelState::Established {
            return Err(CommandError::NoSuchTunnel);
        }
        let version = t.version;
        let enabled = |s: &crate::session::Session| {
            s.state == SessionState::Established && s.speed_updates && !s.initiator
        };
        let ids: Vec<u32> = match session_id {
            Some(id) => {
                let si = self
                    .find_session(ti, id)
                    .ok_or(CommandError::NoSuchSession)?;
                let s = self.sessions.get(si).ok_or(CommandError::NoSuchSession)?;
                if !enabled(s) {
                    return Err(CommandError::SpeedUpdatesNotEnabled);
                }
                vec![s.peer_id]
            }
            None => t
                .sessions
                .iter()
                .filter_map(|&si| self.sessions.get(si))
                .filter(|s| enabled(s))
                .map(|s| s.peer_id)
                .collect(),
        };
        if ids.is_empty() {
            return Err(CommandError::SpeedUpdatesNotEnabled);
        }
        // §6.1: the session id "relative to the sender" is the LAC's; the speeds are 0 (§4.2).
        // Several messages when one would pass the 16-bit Length.
        for chunk in ids.chunks(SESSIONS_PER_MESSAGE) {
            let mut msg = Message::new(MessageType::Csurq);
            for &id in chunk {
                let update = ConnectSpeedUpdate::new(version, id, 0, 0);
                msg.push(Avp::ConnectSpeedUpdate(update), version);
            }
            self.send(now, ti, msg, 0);
        }
        Ok(ids.len())
    }

    /// A CSURQ in tunnel `ti` (RFC 5515 §4.2). Each Connect Speed Update AVP names a session
    /// by the id "relative to the sender" the LNS's `request_speeds` puts there: ours. One
    /// CSUN answers with the current speeds of those we placed as LAC with Connect Speed
    /// Update Enable; the others are left out (MUST NOT) and reported. Without any left, the
    /// CSURQ is only acknowledged.
    pub(crate) fn on_csurq(&mut self, now: Instant, ti: u32, msg: &Message) {
        let Some(t) = self.tunnels.get(ti) else {
            return;
        };
        let (remote, tunnel_id, version) = (t.remote, t.local_id, t.version);
        let mut seen = BTreeSet::new();
        let mut answer = Vec::new();
        let mut left_out = 0;
        for e in &msg.avps {
            let Avp::ConnectSpeedUpdate(asked) = &e.avp else {
                continue;
            };
            let found = self
                .find_session(ti, asked.session_id)
                .and_then(|si| self.sessions.get(si))
                .filter(|s| lac_enabled(s));
            match found {
                Some(s) => {
                    if seen.insert(s.local_id) {
                        answer.push(lac_update(s, version));
                    }
                }
                None => left_out += 1,
            }
        }
        if left_out > 0 {
            let sessions = left_out;
            self.discard(remote, tunnel_id, Discard::SpeedRequestIgnored { sessions });
        }
        self.send_csuns(now, ti, version, &answer);
    }

    /// New connect speeds for sessions of tunnel `ti` that we placed as LAC: each tells them
    /// from now on (in its ICCN if not sent yet, in answers to CSURQs), and one CSUN carries
    /// them for those established whose ICRQ enabled updates (RFC 5515 §4: bulked; §4.1: for
    /// no other). Unknown ids are skipped. Returns the sessions the CSUN named.
    pub(crate) fn update_speeds(
        &mut self,
        now: Instant,
        ti: u32,
        changes: &[SpeedChange],
    ) -> Result<usize, CommandError> {
        let t = self.tunnels.get(ti).ok_or(CommandError::NoSuchTunnel)?;
        let (version, open) = (t.version, t.state == TunnelState::Established);
        let mut updates = Vec::new();
        for change in changes {
            let Some(si) = self.find_session(ti, change.session_id) else {
                continue;
            };
            let Some(s) = self.sessions.get_mut(si) else {
                continue;
            };
            if !(s.initiator && s.call == CallType::Incoming) {
                continue;
            }
            let cfg = Arc::make_mut(&mut s.config);
            cfg.tx_connect_speed = Some(change.tx);
            cfg.rx_connect_speed = change.rx;
            if open && lac_enabled(s) {
                updates.push(lac_update(s, version));
            }
        }
        self.send_csuns(now, ti, version, &updates);
        Ok(updates.len())
    }

    /// CSUNs in tunnel `ti` carrying `updates`, as few as the 16-bit Length allows.
    fn send_csuns(
        &mut self,
        now: Instant,
        ti: u32,
        version: Version,
        updates: &[ConnectSpeedUpdate],
    ) {
        for chunk in updates.chunks(SESSIONS_PER_MESSAGE) {
            let mut msg = Message::new(MessageType::Csun);
            for update in chunk {
                msg.push(Avp::ConnectSpeedUpdate(*update), version);
            }
            self.send(now, ti, msg, 0);
        }
    }
}

/// New connect speeds for a session placed as LAC ([`crate::Command::UpdateConnectSpeeds`]).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct SpeedChange {
    /// The local session id.
    pub session_id: u32,
    /// Tx Connect Speed, bits per second.
    pub tx: u32,
    /// Rx Connect Speed, bits per second (0: none).
    pub rx: u32,
}

/// An established call we placed as LAC whose ICRQ carried Connect Speed Update Enable: the
/// only sessions a CSUN of ours may name (RFC 5515 §4.1, §4.2).
fn lac_enabled(s: &Session) -> bool {
    s.initiator
        && s.call == CallType::Incoming
        && s.speed_updates
        && s.state == SessionState::Established
}

/// The Connect Speed Update AVP telling the current speeds of LAC session `s`, naming it by
/// the LNS's id ("relative to the sender" of a CSUN, §6.1: the receiver's own).
fn lac_update(s: &Session, version: Version) -> ConnectSpeedUpdate {
    let (tx, rx) = (s.config.tx_speed(), s.config.rx_connect_speed);
    ConnectSpeedUpdate::new(version, s.peer_id, tx.into(), rx.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Avp, Message};

    fn iccn(avps: &[Avp], version: Version) -> Message {
        let mut msg = Message::new(MessageType::Iccn);
        for a in avps {
            msg.push(a.clone(), version);
        }
        msg
    }

    #[test]
    fn connect_speeds_of_both_versions_and_zero_as_unknown() {
        let v2 = iccn(
            &[
                Avp::TxConnectSpeed(80_000_000),
                Avp::RxConnectSpeed(20_000_000),
            ],
            Version::V2,
        );
        let speed = ConnectSpeed::of_message(&v2);
        assert_eq!(
            speed.map(|s| s.to_string()).as_deref(),
            Some("80000000/20000000")
        );
        // L2TPv3's 64-bit speeds, beyond what 32 bits hold.
        let v3 = iccn(&[Avp::TxConnectSpeedBps(40_000_000_000)], Version::V3);
        assert_eq!(
            ConnectSpeed::of_message(&v3)
                .map(|s| s.to_string())
                .as_deref(),
            Some("40000000000")
        );
        // 0 is unknown: no Tx speed is none at all, an Rx of 0 is left out.
        let zero = iccn(&[Avp::TxConnectSpeed(0)], Version::V2);
        assert_eq!(ConnectSpeed::of_message(&zero), None);
        let rx0 = iccn(
            &[Avp::TxConnectSpeed(1_000), Avp::RxConnectSpeed(0)],
            Version::V2,
        );
        assert_eq!(
            ConnectSpeed::of_message(&rx0)
                .map(|s| s.to_string())
                .as_deref(),
            Some("1000")
        );
        assert_eq!(ConnectSpeed::of_message(&iccn(&[], Version::V2)), None);
    }
}
