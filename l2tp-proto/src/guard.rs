//! Hostile-input bookkeeping: what the engine discards and why ([`Discard`], reported as
//! [`crate::event::Event::Discarded`] so that the caller can log the peer and the problem), and
//! admission of new tunnels under load ([`Admission`]: a cap on tunnels in set-up and a
//! per-peer rate of SCCRQs).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::time::Instant;
use crate::wire::header::HeaderError;
use crate::wire::message::{MessageError, MessageType, Reaction};

/// Why a received datagram or message was not acted on as the peer meant it.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Discard {
    /// The header is malformed, or its version is not 2 or 3 (1 is L2F): discarded
    /// (RFC 2661 §3.1, RFC 3931 §7.1).
    Header(HeaderError),
    /// A data packet reached the control engine.
    Data,
    /// Tunnel id 0 on a message that is not an SCCRQ.
    NotSccrq,
    /// No tunnel has this id.
    UnknownTunnel(u32),
    /// The header's version is not the tunnel's.
    VersionMismatch,
    /// The AVPs are malformed; the reaction is what the RFCs require (RFC 2661 §4.1, §7.1;
    /// RFC 3931 §5.2).
    Body(MessageError),
    /// A session message for a session the tunnel does not have.
    UnknownSession(u32),
    /// A CDN for a session the tunnel does not have: most often one we disconnected while the
    /// peer did too, the two CDNs crossing. The session is gone either way; the CDN is
    /// acknowledged (with the tunnel's other messages) and ignored.
    LateCdn(u32),
    /// Ns beyond the receive window (RFC 2661 §5.8): discarded, not acknowledged.
    OutsideWindow {
        /// The message's Ns.
        ns: u16,
    },
    /// Nr acknowledges a message never sent (RFC 2661 §5.8): discarded.
    InvalidNr {
        /// The message's Nr.
        nr: u16,
    },
    /// A message the tunnel or session state does not expect (RFC 2661 §7.1, RFC 3931 §7.2).
    WrongState(MessageType),
    /// A call request (or its reply) whose parameters the RFC says to refuse with a CDN of
    /// its own result code (RFC 3931 §5.4.4: 14, a pseudowire type we did not offer; 15, data
    /// sequencing without an L2-Specific Sublayer).
    CallRefused {
        /// The ICRQ, OCRQ, ICRP or OCRP.
        message_type: MessageType,
        /// The CDN's result code.
        result: u16,
        /// Why, as the CDN says.
        why: String,
    },
    /// A message of a type we do not implement, its Message Type AVP's M bit clear: well
    /// formed as far as we can tell, acknowledged and ignored (RFC 2661 §4.4.1, RFC 3931
    /// §5.4.1), e.g. an RFC 5515 CSURQ.
    UnsupportedMessage {
        /// The Message Type AVP's Vendor ID (0 for IETF message types).
        vendor_id: u16,
        /// The Message Type.
        message_type: u16,
    },
    /// A Connect Speed Update AVP of a CSUN that is not applied: RFC 5515 §4.1 says the LAC
    /// MUST NOT send it. Counted; the tunnel is kept.
    SpeedUpdateIgnored {
        /// The session id the AVP names (ours, "relative to the sender").
        session_id: u32,
        /// Why it is not applied.
        why: SpeedUpdateIgnored,
    },
    /// A CSUN without a Connect Speed Update AVP (RFC 5515 §4.1 requires one): acknowledged,
    /// counted as malformed, ignored.
    SpeedUpdateEmpty,
    /// Sessions a CSURQ asked for that are not answered: unknown, not established, or not
    /// placed by us with Connect Speed Update Enable, for which RFC 5515 §4.2 says the LAC MUST
    /// NOT answer. The CSURQ is acknowledged; the other sessions it names are answered.
    SpeedRequestIgnored {
        /// The Connect Speed Update AVPs (sessions asked for) left unanswered.
        sessions: usize,
    },
    /// A control message for a running tunnel from another address or port than the tunnel's
    /// peer, which RFC 2661 §8.1 and RFC 3931 §4.1.2.2 say stay the same once the reply was
    /// received: discarded.
    WrongPeer {
        /// The tunnel's peer.
        peer: SocketAddr,
    },
    /// The message digest or challenge response did not verify.
    Authentication,
    /// An SCCRQ dropped because this peer sends them faster than `peer_setup_rate`.
    PeerSetupRate,
    /// An SCCRQ dropped because `max_setup_tunnels` tunnels are being set up.
    MaxSetupTunnels,
}

impl Discard {
    /// A short name for counters: `header`, `l2f`, `body`, `unknown_tunnel`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Header(HeaderError::UnsupportedVersion(1)) => "l2f",
            Self::Header(_) | Self::VersionMismatch => "header",
            Self::Data => "data",
            Self::NotSccrq | Self::UnknownTunnel(_) => "unknown_tunnel",
            Self::Body(_) => "body",
            Self::UnknownSession(_) => "unknown_session",
            Self::LateCdn(_) => "late_cdn",
            Self::OutsideWindow { .. } => "outside_window",
            Self::InvalidNr { .. } => "invalid_nr",
            Self::WrongState(_) => "wrong_state",
            Self::UnsupportedMessage { .. } => "unsupported_message",
            Self::CallRefused { .. } => "call_parameters",
            Self::SpeedUpdateIgnored { .. } => "speed_update_ignored",
            Self::SpeedUpdateEmpty => "body",
            Self::SpeedRequestIgnored { .. } => "speed_update_request",
            Self::WrongPeer { .. } => "wrong_peer",
            Self::Authentication => "authentication",
            Self::PeerSetupRate => "peer_setup_rate",
            Self::MaxSetupTunnels => "max_setup_tunnels",
        }
    }
}

impl fmt::Display for Discard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(e) => write!(f, "malformed header ({e}): discarded"),
            Self::Data => f.write_str("data packet on the control path: discarded"),
            Self::NotSccrq => {
                f.write_str("tunnel id 0 on a message that is not an SCCRQ: discarded")
            }
            Self::UnknownTunnel(id) => write!(f, "unknown tunnel id {id}: discarded"),
            Self::VersionMismatch => {
                f.write_str("header version differs from the tunnel's: discarded")
            }
            Self::Body(e) => {
                let reaction = match e.reaction() {
                    Reaction::Ignore => "ignored".to_owned(),
                    Reaction::StopCcn { result, error } => {
                        format!("StopCCN result {result} error {}", error.code())
                    }
                    Reaction::Cdn { result, error } => {
                        format!("CDN result {result} error {}", error.code())
                    }
                };
                write!(f, "malformed message ({e}): {reaction}")
            }
            Self::UnknownSession(id) => write!(f, "message for unknown session id {id}: discarded"),
            Self::LateCdn(id) => write!(
                f,
                "CDN for session id {id}, which is not (or no longer) here: ignored"
            ),
            Self::OutsideWindow { ns } => {
                write!(f, "Ns {ns} outside the receive window: discarded")
            }
            Self::InvalidNr { nr } => write!(f, "Nr {nr} acknowledges nothing sent: discarded"),
            Self::WrongState(t) => write!(f, "unexpected {} in this state: FSM error", t.name()),
            Self::CallRefused {
                message_type,
                result,
                why,
            } => write!(f, "{message_type} refused: {why}: CDN result {result}"),
            Self::UnsupportedMessage {
                vendor_id: 0,
                message_type,
            } => match crate::wire::message::unsupported_message_name(*message_type) {
                Some(name) => write!(
                    f,
                    "unsupported optional message {name}, type {message_type}: acknowledged, \
                     ignored"
                ),
                None => write!(
                    f,
                    "unknown optional message type {message_type} (M bit clear): acknowledged, \
                     ignored"
                ),
            },
            Self::UnsupportedMessage {
                vendor_id,
                message_type,
            } => write!(
                f,
                "vendor {vendor_id} message type {message_type} (M bit clear): acknowledged, \
                 ignored"
            ),
            Self::SpeedUpdateIgnored { session_id, why } => write!(
                f,
                "CSUN: Connect Speed Update for session {session_id} ignored: {why} (RFC 5515 \
                 §4.1)"
            ),
            Self::SpeedUpdateEmpty => f.write_str(
                "malformed CSUN without a Connect Speed Update AVP (RFC 5515 §4.1): \
                 acknowledged, ignored",
            ),
            Self::SpeedRequestIgnored { sessions } => write!(
                f,
                "CSURQ for {sessions} session(s) acknowledged, not answered: unknown, or \
                 no Connect Speed Update Enable sent for them (RFC 5515 §4.2)"
            ),
            Self::WrongPeer { peer } => write!(
                f,
                "not from the tunnel's peer {peer} (RFC 2661 §8.1: its address and port stay \
                 the same): discarded"
            ),
            Self::Authentication => f.write_str("message failed authentication: discarded"),
            Self::PeerSetupRate => f.write_str("SCCRQ over peer_setup_rate: dropped"),
            Self::MaxSetupTunnels => f.write_str("SCCRQ over max_setup_tunnels: dropped"),
        }
    }
}

/// Why a Connect Speed Update AVP of a CSUN is not applied (RFC 5515 §4.1).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum SpeedUpdateIgnored {
    /// The tunnel has no session with that id (it may be another tunnel's).
    UnknownSession,
    /// The session's ICRQ did not carry Connect Speed Update Enable.
    NotEnabled,
    /// The session is not established yet: its initial speeds come with the ICCN.
    NotEstablished,
}

impl fmt::Display for SpeedUpdateIgnored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownSession => "no such session in this tunnel",
            Self::NotEnabled => "its ICRQ did not carry Connect Speed Update Enable",
            Self::NotEstablished => "the session is not established",
        })
    }
}

/// Peers remembered by the rate limiter at most; beyond it, idle peers are forgotten.
const MAX_PEERS: usize = 4096;

/// How long a tunnel in set-up is safe from eviction (`Admission::evictable`): long enough
/// for a peer's SCCCN to come back over any sane path.
pub const EVICTION_GRACE: Duration = Duration::from_secs(2);

/// Admission of new tunnels requested by peers.
#[derive(Debug, Default)]
pub struct Admission {
    /// Most tunnels in set-up at once (created by an SCCRQ, not yet established); 0: no cap.
    pub max_setup_tunnels: usize,
    /// SCCRQs accepted per second from one peer address (with a burst of as many); 0: no limit.
    pub peer_setup_rate: u32,
    /// Tunnels in set-up, by slab index, with when they started.
    setting_up: HashMap<u32, Instant>,
    /// The same, oldest first; entries of tunnels that have finished are skipped lazily.
    order: VecDeque<(Instant, u32)>,
    buckets: HashMap<IpAddr, Bucket>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Admission {
    /// Whether a new SCCRQ from `peer` may create a tunnel now; `Err` says why not.
    /// A peer over its own rate is refused first, so that one peer's flood is counted as such
    /// and cannot by itself hold the cap.
    pub(crate) fn admit(&mut self, peer: IpAddr, now: Instant) -> Result<(), Discard> {
        self.rate(peer, now)?;
        if self.max_setup_tunnels != 0 && self.setting_up.len() >= self.max_setup_tunnels {
            return Err(Discard::MaxSetupTunnels);
        }
        Ok(())
    }

    fn rate(&mut self, peer: IpAddr, now: Instant) -> Result<(), Discard> {
        if self.peer_setup_rate == 0 {
            return Ok(());
        }
        let rate = f64::from(self.peer_setup_rate);
        if self.buckets.len() >= MAX_PEERS && !self.buckets.contains_key(&peer) {
            // Forget the peers whose buckets have refilled: they are as good as new.
            self.buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < rate
            });
            if self.buckets.len() >= MAX_PEERS {
                self.buckets.clear();
            }
        }
        let b = self.buckets.entry(peer).or_insert(Bucket {
            tokens: rate,
            at: now,
        });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(rate);
        b.at = now;
        if b.tokens < 1.0 {
            return Err(Discard::PeerSetupRate);
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// The tunnel at slab `index` is in set-up since `now`.
    pub(crate) fn started(&mut self, index: u32, now: Instant) {
        self.setting_up.insert(index, now);
        self.order.push_back((now, index));
    }

    /// The tunnel at slab `index` is established or gone.
    pub(crate) fn finished(&mut self, index: u32) {
        if self.setting_up.remove(&index).is_some()
            && self.order.len() > 2 * self.setting_up.len() + 64
        {
            let live = &self.setting_up;
            self.order.retain(|(t, i)| live.get(i) == Some(t));
        }
    }

    /// With the set-up cap reached, the tunnel in set-up that may make room for a new SCCRQ:
    /// the oldest, if it has waited [`EVICTION_GRACE`] or more. A flood of SCCRQs from
    /// addresses that never answer then delays a real peer by the grace, not by the whole
    /// set-up timeout.
    pub(crate) fn evictable(&mut self, now: Instant) -> Option<u32> {
        while let Some(&(t, i)) = self.order.front() {
            if self.setting_up.get(&i) != Some(&t) {
                self.order.pop_front();
                continue;
            }
            return (now.saturating_duration_since(t) >= EVICTION_GRACE).then_some(i);
        }
        None
    }

    /// Tunnels in set-up now.
    pub fn setting_up(&self) -> usize {
        self.setting_up.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::wire::header::Encapsulation;

    #[test]
    fn the_rate_limit_refills_over_time() {
        let mut a = Admission {
            peer_setup_rate: 2,
            ..Admission::default()
        };
        let peer = IpAddr::from([192, 0, 2, 1]);
        let other = IpAddr::from([192, 0, 2, 2]);
        let t0 = Instant::from_micros(1_000_000);
        assert_eq!(a.admit(peer, t0), Ok(()));
        assert_eq!(a.admit(peer, t0), Ok(()));
        assert_eq!(a.admit(peer, t0), Err(Discard::PeerSetupRate));
        assert_eq!(
            a.admit(other, t0),
            Ok(()),
            "another peer has its own budget"
        );
        assert_eq!(a.admit(peer, t0 + Duration::from_millis(500)), Ok(()));
        assert_eq!(
            a.admit(peer, t0 + Duration::from_millis(500)),
            Err(Discard::PeerSetupRate)
        );
    }

    #[test]
    fn the_setup_cap_counts_tunnels_until_they_finish() {
        let mut a = Admission {
            max_setup_tunnels: 2,
            ..Admission::default()
        };
        let peer = IpAddr::from([192, 0, 2, 1]);
        let t0 = Instant::from_micros(0);
        a.started(1, t0);
        a.started(2, t0);
        assert_eq!(a.admit(peer, t0), Err(Discard::MaxSetupTunnels));
        a.finished(1);
        assert_eq!(a.admit(peer, t0), Ok(()));
        assert_eq!(a.setting_up(), 1);
    }

    #[test]
    fn the_oldest_tunnel_in_set_up_is_evictable_after_the_grace() {
        let mut a = Admission::default();
        let t0 = Instant::from_micros(1_000_000);
        let later = t0 + Duration::from_millis(500);
        a.started(1, t0);
        a.started(2, later);
        assert_eq!(a.evictable(t0 + Duration::from_secs(1)), None);
        assert_eq!(a.evictable(t0 + EVICTION_GRACE), Some(1));
        a.finished(1);
        assert_eq!(a.evictable(t0 + EVICTION_GRACE), None);
        assert_eq!(a.evictable(later + EVICTION_GRACE), Some(2));
        // A slab index used again by a newer tunnel is not the old entry.
        a.finished(2);
        a.started(2, later + EVICTION_GRACE);
        assert_eq!(a.evictable(later + EVICTION_GRACE), None);
        // Finished entries do not pile up.
        for i in 0..10_000u32 {
            a.started(100 + i, later);
            a.finished(100 + i);
        }
        assert!(a.order.len() < 200, "{}", a.order.len());
    }

    /// A plain L2TPv2 SCCRQ assigning tunnel id `assigned`.
    fn sccrq(assigned: u16) -> Vec<u8> {
        let avp = |attr: u16, value: &[u8]| {
            let mut v = (0x8000u16 | (6 + value.len() as u16))
                .to_be_bytes()
                .to_vec();
            v.extend_from_slice(&[0, 0]);
            v.extend_from_slice(&attr.to_be_bytes());
            v.extend_from_slice(value);
            v
        };
        let body = [
            avp(0, &1u16.to_be_bytes()),
            avp(2, &[1, 0]),
            avp(7, b"lac"),
            avp(3, &3u32.to_be_bytes()),
            avp(9, &assigned.to_be_bytes()),
        ]
        .concat();
        let mut m = vec![0xC8, 0x02];
        m.extend_from_slice(&(12 + body.len() as u16).to_be_bytes());
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&body);
        m
    }

    /// Feeds SCCRQs from `peers` (one each, in order); returns how many became decisions and
    /// the problems reported.
    fn feed(ep: &mut crate::Endpoint, peers: &[u8]) -> (usize, Vec<Discard>) {
        let local = std::net::SocketAddr::from(([192, 0, 2, 1], 1701));
        let now = Instant::from_secs(1);
        for (i, p) in peers.iter().enumerate() {
            let remote = std::net::SocketAddr::from(([198, 51, 100, *p], 1701));
            let id = u16::try_from(i + 1).unwrap_or(1);
            ep.handle_datagram(now, local, remote, Encapsulation::Udp, &sccrq(id));
        }
        let decisions = std::iter::from_fn(|| ep.poll_decision()).count();
        let problems = std::iter::from_fn(|| ep.poll_event())
            .filter_map(|e| match e {
                crate::Event::Discarded { problem, .. } => Some(problem),
                _ => None,
            })
            .collect();
        (decisions, problems)
    }

    fn endpoint() -> crate::Endpoint {
        crate::Endpoint::new(
            crate::EndpointConfig::default(),
            Box::new(crate::DeterministicRng::new(7)),
        )
    }

    #[test]
    fn the_endpoint_drops_sccrqs_over_the_setup_cap_and_reports_them() {
        let mut ep = endpoint();
        ep.set_setup_limits(2, 0);
        let (decisions, problems) = feed(&mut ep, &[1, 2, 3, 4]);
        assert_eq!(decisions, 2);
        assert_eq!(problems, vec![Discard::MaxSetupTunnels; 2]);
        assert_eq!(ep.setup_tunnels(), 2);
        assert_eq!(ep.stats().malformed.max_setup_tunnels, 2);
    }

    #[test]
    fn the_endpoint_drops_sccrqs_over_a_peers_rate_and_reports_them() {
        let mut ep = endpoint();
        ep.set_setup_limits(0, 2);
        let (decisions, problems) = feed(&mut ep, &[1, 1, 1, 2]);
        assert_eq!(decisions, 3, "two from the first peer, one from the second");
        assert_eq!(problems, vec![Discard::PeerSetupRate]);
        assert_eq!(ep.stats().malformed.peer_setup_rate, 1);
    }

    #[test]
    fn the_rate_limiter_remembers_a_bounded_number_of_peers() {
        let mut a = Admission {
            peer_setup_rate: 1,
            ..Admission::default()
        };
        let t0 = Instant::from_micros(0);
        for i in 0..(MAX_PEERS as u32 * 3) {
            let _ = a.admit(IpAddr::from(i.to_be_bytes()), t0);
        }
        assert!(a.buckets.len() <= MAX_PEERS);
    }
}
