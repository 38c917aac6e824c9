//! Tunnels whose peers share an address and UDP port: clients behind one NAT.
//!
//! Each UDP tunnel has its own socket, bound to the listen address and port and connected to
//! the peer. When several tunnels have the same peer address and port, their sockets have the
//! same four addresses and ports, and the kernel gives every datagram of that peer to one of
//! them (the newest). On kernels whose L2TP looks a data packet's session up among that
//! socket's tunnel's sessions only ([`super::Dataplane::separates_shared_peers`] false: older
//! than Linux 6.10 for L2TPv2), the other tunnels' data would be lost, or worse, given to a
//! session of the same id in the wrong tunnel.
//!
//! So on such a kernel only the first tunnel of a peer address and port is carried by the
//! kernel; the later ones are carried *apart*: their sockets are connected to the peer's address
//! with port 0, not to its port (so that the first one's socket, which matches the datagrams
//! better, keeps receiving everything, and the kernel passes the datagrams that are not its own
//! on to the daemon, which routes them by tunnel id; and so that they get no other peer's
//! datagrams, as a socket bound only would), they send to the peer explicitly, and their
//! sessions go to the
//! fallback data plane, the userspace one, where it can carry them. When the first tunnel goes,
//! the oldest one carried apart gets a socket connected to the address and port in its place
//! (read by the shell, as the first one's was), so that the others' data keeps arriving. [`Groups`] keeps the
//! tunnels by peer address and port; [`Apart`] the tunnels and sessions carried apart.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use l2tp_proto::wire::header::{Encapsulation, Packet, Version};

/// A UDP tunnel's (local, remote) addresses and ports.
pub(super) type Tuple = (SocketAddr, SocketAddr);

/// The UDP tunnels by their (local, remote) addresses and ports.
#[derive(Debug, Default)]
pub(super) struct Groups {
    by_tuple: HashMap<Tuple, Vec<u32>>,
}

impl Groups {
    /// Adds tunnel `tid`; returns the other tunnels of its tuple, oldest first.
    pub(super) fn join(&mut self, tid: u32, tuple: Tuple) -> Vec<u32> {
        let members = self.by_tuple.entry(tuple).or_default();
        let others = members.iter().copied().filter(|t| *t != tid).collect();
        if !members.contains(&tid) {
            members.push(tid);
        }
        others
    }

    /// Removes tunnel `tid`.
    pub(super) fn leave(&mut self, tid: u32, tuple: Tuple) {
        if let Some(members) = self.by_tuple.get_mut(&tuple) {
            members.retain(|t| *t != tid);
            if members.is_empty() {
                self.by_tuple.remove(&tuple);
            }
        }
    }

    /// The other tunnels of `tid`'s tuple.
    pub(super) fn others(&self, tid: u32, tuple: Tuple) -> impl Iterator<Item = u32> + '_ {
        self.by_tuple
            .get(&tuple)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |t| *t != tid)
    }
}

/// The tunnels carried apart from the data plane in use, and their sessions.
#[derive(Debug, Default)]
pub(super) struct Apart {
    /// Each tunnel, with whether it is an L2TPv3 one.
    tunnels: HashMap<u32, bool>,
    sessions: HashSet<(u32, u32)>,
    /// The tunnel of each L2TPv3 session carried apart: an L2TPv3 data packet has no tunnel
    /// id.
    v3: HashMap<u32, u32>,
}

impl Apart {
    /// Whether nothing is carried apart (the common case, checked first on the data path).
    pub(super) fn is_empty(&self) -> bool {
        self.tunnels.is_empty()
    }

    pub(super) fn add_tunnel(&mut self, tid: u32, version: Version) {
        self.tunnels.insert(tid, version == Version::V3);
    }

    /// Forgets tunnel `tid` and its sessions.
    pub(super) fn remove_tunnel(&mut self, tid: u32) {
        if self.tunnels.remove(&tid).is_some() {
            self.sessions.retain(|(t, _)| *t != tid);
            self.v3.retain(|_, t| *t != tid);
        }
    }

    pub(super) fn has_tunnel(&self, tid: u32) -> bool {
        self.tunnels.contains_key(&tid)
    }

    pub(super) fn add_session(&mut self, tid: u32, sid: u32) {
        self.sessions.insert((tid, sid));
        if self.tunnels.get(&tid) == Some(&true) {
            self.v3.insert(sid, tid);
        }
    }

    pub(super) fn remove_session(&mut self, tid: u32, sid: u32) {
        self.sessions.remove(&(tid, sid));
        if self.v3.get(&sid) == Some(&tid) {
            self.v3.remove(&sid);
        }
    }

    pub(super) fn has_session(&self, tid: u32, sid: u32) -> bool {
        self.sessions.contains(&(tid, sid))
    }

    /// The tunnel carried apart that a data packet is for, if it is for one.
    pub(super) fn tunnel_of(&self, encap: Encapsulation, packet: &[u8]) -> Option<u32> {
        let tid = match Packet::parse(packet, encap).ok()? {
            Packet::V2Data { header, .. } => u32::from(header.tunnel_id),
            Packet::V3Data { session_id, .. } => *self.v3.get(&session_id)?,
            Packet::Control { .. } => return None,
        };
        self.tunnels.contains_key(&tid).then_some(tid)
    }
}

/// Whether a tunnel that left its group keeps its data-plane tunnel until its socket closes
/// (on a data plane that tells the group's tunnels apart; `DataplaneHost::leave_group`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) enum Linger {
    #[default]
    No,
    /// It will, when it is removed.
    Yes,
    /// Its removal waits for its socket to close.
    Removing,
}

/// Tunnel ids as a list for the log: "10, 30".
pub(super) fn join_ids(ids: &[u32]) -> String {
    crate::logging::id_list(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(port: u16) -> Tuple {
        (
            SocketAddr::from(([203, 0, 113, 1], 1701)),
            SocketAddr::from(([203, 0, 113, 2], port)),
        )
    }

    #[test]
    fn tunnels_are_grouped_by_their_addresses_and_ports() {
        let mut g = Groups::default();
        assert!(g.join(10, tuple(1701)).is_empty());
        assert!(g.join(20, tuple(1702)).is_empty());
        assert_eq!(g.join(30, tuple(1701)), vec![10]);
        assert_eq!(g.join(40, tuple(1701)), vec![10, 30]);
        // Joining again changes nothing.
        assert_eq!(g.join(40, tuple(1701)), vec![10, 30]);
        g.leave(10, tuple(1701));
        assert_eq!(g.others(30, tuple(1701)).collect::<Vec<_>>(), vec![40]);
        g.leave(30, tuple(1701));
        g.leave(40, tuple(1701));
        assert_eq!(g.others(99, tuple(1701)).count(), 0);
        assert!(g.by_tuple.len() == 1);
    }

    #[test]
    fn data_packets_find_their_tunnel_carried_apart() {
        let mut a = Apart::default();
        assert!(a.is_empty());
        a.add_tunnel(30, Version::V2);
        a.add_session(30, 7);
        a.add_tunnel(40, Version::V3);
        a.add_session(40, 0x0102_0304);
        // L2TPv2 data (T=0, L=1) to tunnel 30, session 7; to tunnel 10 (not apart).
        let v2 = |tid: u16| {
            let mut p = vec![0x40, 0x02, 0, 10];
            p.extend_from_slice(&tid.to_be_bytes());
            p.extend_from_slice(&[0, 7, 0xff, 0x03]);
            p
        };
        assert_eq!(a.tunnel_of(Encapsulation::Udp, &v2(30)), Some(30));
        assert_eq!(a.tunnel_of(Encapsulation::Udp, &v2(10)), None);
        // L2TPv3 over UDP: by session id.
        let mut v3 = vec![0x00, 0x03, 0, 0, 1, 2, 3, 4];
        v3.extend_from_slice(&[0; 8]);
        assert_eq!(a.tunnel_of(Encapsulation::Udp, &v3), Some(40));
        // A control message is never data.
        let control = [0xc8, 0x02, 0, 12, 0, 30, 0, 0, 0, 0, 0, 0];
        assert_eq!(a.tunnel_of(Encapsulation::Udp, &control), None);
        assert!(a.has_session(30, 7));
        a.remove_session(40, 0x0102_0304);
        assert_eq!(a.tunnel_of(Encapsulation::Udp, &v3), None);
        a.remove_tunnel(30);
        assert!(!a.has_session(30, 7) && !a.has_tunnel(30));
        assert_eq!(a.tunnel_of(Encapsulation::Udp, &v2(30)), None);
    }
}
