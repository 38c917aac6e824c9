//! Netfilter marks for the tunnels of an L2TP/IPsec server whose clients share one NAT.
//!
//! Behind a NAT every client comes from the NAT's address and UDP port 1701, and transport-mode
//! IPsec policies for that address and port are the same for all of them. With a mark of its
//! own per client (strongSwan: `mark_in = %unique`, `mark_out = %unique`, `set_mark_in =
//! %same`), each client's policies and security associations are told apart by the mark: what
//! a client sends arrives with its mark, and what is sent with its mark goes through its SA.
//! So a tunnel's own socket must send with the mark of its client, which l2tpd learns in one
//! of two ways:
//!
//! - from the SCCRQ itself: the listen sockets report each datagram's mark (`SO_RCVMARK`,
//!   Linux 5.19), and [`sccrq_peer_tunnel`] finds the peer's tunnel id in a marked SCCRQ;
//! - from l2tp-nfqd ([`nfq`]), a helper that reads SCCRQs from a netfilter queue and sends
//!   their peer address, peer tunnel id and mark over a unix datagram socket.
//!
//! Either way a mark is known by (peer address, peer tunnel id). [`Marks`] keeps the marks
//! that no tunnel has taken yet, for [`PENDING_TTL`]; the data-plane host gives a tunnel's
//! socket its mark when it opens it, or at once for a tunnel that exists already.

pub mod nfq;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use l2tp_proto::wire::MessageType;
use l2tp_proto::wire::avp::AvpIter;
use l2tp_proto::wire::header::{Packet, Version};

/// How long a learnt mark waits for its tunnel: l2tp-nfqd's message normally comes just
/// before the SCCRQ it describes, or a moment after.
pub const PENDING_TTL: Duration = Duration::from_secs(10);

/// The most marks kept waiting at once; past it the oldest goes.
pub const MAX_PENDING: usize = 4096;

/// Where a mark was learnt.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum MarkSource {
    /// The SCCRQ arrived with it.
    Sccrq,
    /// l2tp-nfqd said so; the peer's host name from its message.
    Nfq {
        /// The Host Name of the SCCRQ, as l2tp-nfqd read it: quoted, escaped for a log line.
        host_name: String,
    },
}

impl fmt::Display for MarkSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkSource::Sccrq => f.write_str("the mark of its SCCRQ"),
            MarkSource::Nfq { host_name } => {
                write!(f, "from l2tp-nfqd, host name {host_name}")
            }
        }
    }
}

/// A mark learnt for a peer address and peer tunnel id.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Learnt {
    /// The mark.
    pub mark: u32,
    /// Where it came from.
    pub source: MarkSource,
}

/// The tunnel a mark is for: the peer's address and the tunnel id it assigned.
pub type PeerTunnel = (IpAddr, u32);

/// Marks learnt and not yet taken by a tunnel, each kept [`PENDING_TTL`].
#[derive(Debug, Default)]
pub struct Marks {
    pending: HashMap<PeerTunnel, (Learnt, Instant)>,
    /// Keys in the order they were learnt, with their expiry; stale entries (a key learnt
    /// again, or taken) are skipped when they reach the front.
    order: VecDeque<(PeerTunnel, Instant)>,
}

impl Marks {
    /// Remembers `learnt` for `key` until `now` + [`PENDING_TTL`], replacing what was there.
    pub fn learn(&mut self, now: Instant, key: PeerTunnel, learnt: Learnt) {
        let expires = now + PENDING_TTL;
        self.pending.insert(key, (learnt, expires));
        self.order.push_back((key, expires));
        while self.pending.len() > MAX_PENDING {
            let Some((old, at)) = self.order.pop_front() else {
                break;
            };
            if self.pending.get(&old).is_some_and(|(_, e)| *e == at) {
                self.pending.remove(&old);
            }
        }
    }

    /// The mark learnt for `key`, if one is waiting, which is then forgotten.
    pub fn take(&mut self, now: Instant, key: PeerTunnel) -> Option<Learnt> {
        let (learnt, expires) = self.pending.remove(&key)?;
        (now < expires).then_some(learnt)
    }

    /// Forgets the marks whose time is up; returns them, for the log.
    pub fn expire(&mut self, now: Instant) -> Vec<(PeerTunnel, Learnt)> {
        let mut gone = Vec::new();
        while let Some(&(key, at)) = self.order.front() {
            if at > now {
                break;
            }
            self.order.pop_front();
            if self.pending.get(&key).is_some_and(|(_, e)| *e == at)
                && let Some((learnt, _)) = self.pending.remove(&key)
            {
                gone.push((key, learnt));
            }
        }
        if self.pending.is_empty() {
            self.order.clear();
        }
        gone
    }

    /// How many marks are waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Splits `others` (a tunnel's local id and its socket's mark) into the tunnels of the same
/// client as a tunnel whose socket has `mark`, and those of other clients. The same mark, or
/// none on both, is the same client: without marks, clients behind one NAT cannot be told
/// apart (nor both work); with them, a different mark is another client's SA.
pub fn same_client(
    mark: Option<u32>,
    others: impl IntoIterator<Item = (u32, Option<u32>)>,
) -> (Vec<u32>, Vec<u32>) {
    let (same, other): (Vec<_>, Vec<_>) = others.into_iter().partition(|(_, m)| *m == mark);
    let ids = |v: Vec<(u32, Option<u32>)>| v.into_iter().map(|(t, _)| t).collect();
    (ids(same), ids(other))
}

/// The tunnel id the peer assigned in `packet` if it is an SCCRQ (a control message to tunnel
/// 0 whose first AVP says SCCRQ): the Assigned Tunnel ID AVP of L2TPv2 (RFC 2661 §4.4.3), or
/// the Assigned Control Connection ID of L2TPv3 (RFC 3931 §5.4.3). A hidden one is not read.
pub fn sccrq_peer_tunnel(packet: &Packet<'_>) -> Option<u32> {
    const ASSIGNED_TUNNEL_ID: u16 = 9;
    const ASSIGNED_CONNECTION_ID: u16 = 61;
    let Packet::Control { header, body, .. } = packet else {
        return None;
    };
    if header.tunnel_id != 0 || l2tp_proto::wire::avp::message_type(body)? != MessageType::Sccrq {
        return None;
    }
    let (attr, len) = match header.version {
        Version::V2 => (ASSIGNED_TUNNEL_ID, 2),
        Version::V3 => (ASSIGNED_CONNECTION_ID, 4),
    };
    // An L2TPv3 peer that can fall back to L2TPv2 sends both AVPs in an L2TPv2 header
    // (RFC 3931 §4.7.3); the header's version says which one it is.
    AvpIter::new(body)
        .map_while(Result::ok)
        .find(|a| a.vendor_id == 0 && a.attr_type == attr && !a.hidden)
        .filter(|a| a.value.len() == len)
        .map(|a| a.value.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)))
        .filter(|id| *id != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use l2tp_proto::wire::header::Encapsulation;

    fn at(s: u64) -> Instant {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(Instant::now) + Duration::from_secs(s)
    }

    fn learnt(mark: u32) -> Learnt {
        Learnt {
            mark,
            source: MarkSource::Sccrq,
        }
    }

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 2));

    #[test]
    fn a_mark_waits_for_its_tunnel_for_a_while() {
        let mut marks = Marks::default();
        marks.learn(at(0), (PEER, 7), learnt(3));
        marks.learn(at(1), (PEER, 8), learnt(4));
        assert_eq!(marks.take(at(2), (PEER, 9)), None);
        assert_eq!(marks.take(at(2), (PEER, 7)), Some(learnt(3)));
        // Taken once only.
        assert_eq!(marks.take(at(2), (PEER, 7)), None);
        // The other one's time runs out.
        assert!(marks.expire(at(10)).is_empty());
        assert_eq!(marks.expire(at(11)), vec![((PEER, 8), learnt(4))]);
        assert!(marks.is_empty());
        assert_eq!(marks.take(at(12), (PEER, 8)), None);
    }

    #[test]
    fn a_mark_learnt_again_replaces_the_first_and_lives_on() {
        let mut marks = Marks::default();
        marks.learn(at(0), (PEER, 7), learnt(3));
        marks.learn(at(5), (PEER, 7), learnt(5));
        assert!(marks.expire(at(12)).is_empty());
        assert_eq!(marks.len(), 1);
        assert_eq!(marks.take(at(13), (PEER, 7)), Some(learnt(5)));
        // A late take of an expired entry finds nothing.
        marks.learn(at(20), (PEER, 1), learnt(1));
        assert_eq!(marks.take(at(31), (PEER, 1)), None);
    }

    #[test]
    fn the_table_is_bounded() {
        let mut marks = Marks::default();
        for i in 0..MAX_PENDING as u32 + 10 {
            marks.learn(at(0), (PEER, i + 1), learnt(i));
        }
        assert_eq!(marks.len(), MAX_PENDING);
        assert_eq!(marks.take(at(0), (PEER, 1)), None);
        assert_eq!(marks.take(at(0), (PEER, 11)), Some(learnt(10)));
    }

    /// A peer's stale tunnels are its client's when their marks match the new tunnel's (or
    /// none has one), another client's when they differ.
    #[test]
    fn only_tunnels_with_the_same_mark_are_the_same_clients() {
        let others = [(1, Some(7)), (2, Some(8)), (3, None), (4, Some(7))];
        assert_eq!(same_client(Some(7), others), (vec![1, 4], vec![2, 3]));
        assert_eq!(same_client(None, others), (vec![3], vec![1, 2, 4]));
        assert_eq!(same_client(None, [(5, None)]), (vec![5], vec![]));
        assert_eq!(same_client(Some(9), others), (vec![], vec![1, 2, 3, 4]));
    }

    /// An L2TPv2 SCCRQ from xl2tpd (Message Type, Protocol Version, Host Name "c1", Framing
    /// Capabilities, Assigned Tunnel ID 0x1234).
    fn sccrq_v2(tunnel_id: u16, hidden: bool) -> Vec<u8> {
        let mut body = Vec::new();
        let mut avp = |m: bool, h: bool, attr: u16, value: &[u8]| {
            let len = 6 + value.len() as u16;
            let flags = u16::from(m) << 15 | u16::from(h) << 14;
            body.extend_from_slice(&(flags | len).to_be_bytes());
            body.extend_from_slice(&0u16.to_be_bytes());
            body.extend_from_slice(&attr.to_be_bytes());
            body.extend_from_slice(value);
        };
        avp(true, false, 0, &1u16.to_be_bytes());
        avp(true, false, 2, &[1, 0]);
        avp(true, false, 7, b"c1");
        avp(true, false, 3, &[0, 0, 0, 3]);
        avp(true, hidden, 9, &0x1234u16.to_be_bytes());
        let mut m = vec![0xc8, 0x02];
        m.extend_from_slice(&(12 + body.len() as u16).to_be_bytes());
        m.extend_from_slice(&tunnel_id.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn the_peer_tunnel_of_an_sccrq() {
        let parse = |d: &[u8]| {
            let p = Packet::parse(d, Encapsulation::Udp);
            p.ok().and_then(|p| sccrq_peer_tunnel(&p))
        };
        assert_eq!(parse(&sccrq_v2(0, false)), Some(0x1234));
        // Not to tunnel 0: not an SCCRQ; a hidden AVP is not read.
        assert_eq!(parse(&sccrq_v2(5, false)), None);
        assert_eq!(parse(&sccrq_v2(0, true)), None);
        // Another message type.
        let mut scccn = sccrq_v2(0, false);
        scccn[12 + 7] = 3;
        assert_eq!(parse(&scccn), None);
        // A data packet.
        assert_eq!(parse(&[0x40, 0x02, 0, 8, 0, 1, 0, 1]), None);
    }
}
