//! The routing table of the shared TUN: which native-PPP session a packet read from the TUN
//! goes to, by its destination: an IPv4 packet by the peer's address (which the session's /32
//! route points into the TUN), an IPv6 packet by the interface identifier of the peer's
//! link-local address `fe80::<id>` (its /128 route; IPv6CP gives a PPP link interface
//! identifiers only, RFC 5072 §5). The data-path threads share one table, which the control
//! side changes (a thread takes its read lock once per batch of packets); one entry per
//! session and network protocol that is up.
//!
//! An address belongs to one session at a time: a route is removed only by the session that
//! owns it, so that a session going down cannot take away the route of another that was given
//! the same address meanwhile.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A hasher for the data path's integer keys (addresses, session ids): one multiply and a
/// shift. The keys are not chosen by whoever sends packets (the tables hold only what the
/// control plane put there; a lookup of any other key just misses), so a keyed hash buys
/// nothing here.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Fold the high half in: hashbrown takes the table index from the low bits and a tag
        // from the top seven.
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)) ^ (self.0 >> 56);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 ^= u64::from(n);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

/// A `HashMap` keyed by integers with [`IdHasher`].
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// What a route of the shared TUN leads to: a peer's IPv4 address, or a peer's IPv6
/// link-local address `fe80::<id>`, named by its interface identifier.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum PeerDest {
    /// The peer's IPv4 address.
    V4(Ipv4Addr),
    /// The peer's interface identifier.
    LinkLocal(u64),
}

impl PeerDest {
    /// The address routed: the IPv4 address, or `fe80::<id>`.
    pub fn addr(self) -> IpAddr {
        match self {
            Self::V4(a) => a.into(),
            Self::LinkLocal(id) => link_local(id).into(),
        }
    }
}

/// The link-local address `fe80::/64` with interface identifier `id` (RFC 5072 §5).
pub fn link_local(id: u64) -> Ipv6Addr {
    Ipv6Addr::from((0xfe80_u128 << 112) | u128::from(id))
}

/// The interface identifier of `addr` (in network order, as in the IPv6 header) if it is a
/// link-local unicast address of `fe80::/64`.
pub fn link_local_id(addr: &[u8; 16]) -> Option<u64> {
    let (prefix, id) = addr.split_at(8);
    if prefix != [0xfe, 0x80, 0, 0, 0, 0, 0, 0] {
        return None;
    }
    id.try_into().ok().map(u64::from_be_bytes)
}

/// Peer addresses to sessions: `T` is the session (its shared state in the data path), `u64`
/// the key of the session that owns the route.
#[derive(Debug)]
pub struct Routes<T> {
    map: IdMap<u32, (u64, T)>,
    /// IPv6: peer interface identifiers.
    v6: IdMap<u64, (u64, T)>,
}

impl<T> Default for Routes<T> {
    fn default() -> Self {
        Self {
            map: IdMap::default(),
            v6: IdMap::default(),
        }
    }
}

impl<T> Routes<T> {
    /// Routes `dest` to session `key`, replacing whatever it routed to; returns the key of
    /// the session that had it.
    pub fn insert(&mut self, dest: PeerDest, key: u64, session: T) -> Option<u64> {
        match dest {
            PeerDest::V4(a) => self.map.insert(u32::from(a), (key, session)),
            PeerDest::LinkLocal(id) => self.v6.insert(id, (key, session)),
        }
        .map(|(k, _)| k)
    }

    /// Removes the route of `dest` if session `key` owns it; returns whether it did.
    pub fn remove(&mut self, dest: PeerDest, key: u64) -> bool {
        match dest {
            PeerDest::V4(a) => remove_owned(&mut self.map, u32::from(a), key),
            PeerDest::LinkLocal(id) => remove_owned(&mut self.v6, id, key),
        }
    }

    /// The session that packets to `dst` (an address in network order, as in the IPv4
    /// header) go to.
    pub fn get(&self, dst: [u8; 4]) -> Option<&T> {
        self.map.get(&u32::from_be_bytes(dst)).map(|(_, s)| s)
    }

    /// The session that IPv6 packets to `dst` (in network order, as in the IPv6 header) go
    /// to: only a link-local address `fe80::<id>` has one.
    pub fn get_v6(&self, dst: &[u8; 16]) -> Option<&T> {
        self.v6.get(&link_local_id(dst)?).map(|(_, s)| s)
    }

    /// The sessions routed to (one per route: a session with both protocols up comes twice).
    pub fn sessions(&self) -> impl Iterator<Item = &T> {
        self.map.values().chain(self.v6.values()).map(|(_, s)| s)
    }

    /// Routes in the table.
    pub fn len(&self) -> usize {
        self.map.len() + self.v6.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty() && self.v6.is_empty()
    }
}

fn remove_owned<K: Eq + std::hash::Hash, T>(map: &mut IdMap<K, (u64, T)>, k: K, key: u64) -> bool {
    if map.get(&k).is_some_and(|(owner, _)| *owner == key) {
        map.remove(&k);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
    const B: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 11);

    #[test]
    fn packets_go_to_the_session_of_their_destination() {
        let mut r = Routes::default();
        assert!(r.is_empty());
        assert_eq!(r.insert(PeerDest::V4(A), 1, "one"), None);
        assert_eq!(r.insert(PeerDest::V4(B), 2, "two"), None);
        assert_eq!(r.get(A.octets()), Some(&"one"));
        assert_eq!(r.get(B.octets()), Some(&"two"));
        assert_eq!(r.get([203, 0, 113, 12]), None);
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn only_the_owner_removes_a_route() {
        let mut r = Routes::default();
        r.insert(PeerDest::V4(A), 1, "one");
        // The address goes to session 2 meanwhile: session 1's removal leaves it.
        assert_eq!(r.insert(PeerDest::V4(A), 2, "two"), Some(1));
        assert!(!r.remove(PeerDest::V4(A), 1));
        assert_eq!(r.get(A.octets()), Some(&"two"));
        assert!(r.remove(PeerDest::V4(A), 2));
        assert_eq!(r.get(A.octets()), None);
        assert!(!r.remove(PeerDest::V4(A), 2));
    }

    #[test]
    fn many_addresses_hash_apart() {
        let mut r = Routes::default();
        for i in 0..100_000u32 {
            r.insert(
                PeerDest::V4(Ipv4Addr::from(0x0a00_0000 + i)),
                u64::from(i),
                i,
            );
        }
        for i in (0..100_000u32).step_by(997) {
            assert_eq!(r.get((0x0a00_0000 + i).to_be_bytes()), Some(&i));
        }
        assert_eq!(r.len(), 100_000);
    }

    #[test]
    fn ipv6_goes_to_the_session_of_the_link_local_interface_id() {
        let mut r = Routes::default();
        assert_eq!(r.insert(PeerDest::LinkLocal(0x1111), 1, "one"), None);
        assert_eq!(r.insert(PeerDest::LinkLocal(0x2222), 2, "two"), None);
        assert_eq!(r.insert(PeerDest::V4(A), 1, "one"), None);
        assert_eq!(r.get_v6(&link_local(0x1111).octets()), Some(&"one"));
        assert_eq!(r.get_v6(&link_local(0x2222).octets()), Some(&"two"));
        assert_eq!(r.get_v6(&link_local(0x3333).octets()), None);
        // The same identifier under another prefix is not the peer's link-local address.
        let global: Ipv6Addr = "2001:db8::1111".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(r.get_v6(&global.octets()), None);
        let multicast: Ipv6Addr = "ff02::1111".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(r.get_v6(&multicast.octets()), None);
        // IPv4 and IPv6 routes are apart: an IPv4 address is no interface identifier.
        assert_eq!(
            r.get_v6(&link_local(u64::from(u32::from(A))).octets()),
            None
        );
        assert_eq!(r.len(), 3);
        // Only the owner removes it; then it misses.
        assert!(!r.remove(PeerDest::LinkLocal(0x1111), 2));
        assert!(r.remove(PeerDest::LinkLocal(0x1111), 1));
        assert_eq!(r.get_v6(&link_local(0x1111).octets()), None);
        assert_eq!(r.get(A.octets()), Some(&"one"));
        let sessions: Vec<_> = r.sessions().collect();
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn link_local_ids_are_read_from_fe80_64_only() {
        assert_eq!(link_local_id(&link_local(7).octets()), Some(7));
        let other: Ipv6Addr = "fe80:0:0:1::7".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(link_local_id(&other.octets()), None);
        assert_eq!(PeerDest::LinkLocal(7).addr().to_string(), "fe80::7");
        assert_eq!(PeerDest::V4(A).addr().to_string(), "203.0.113.10");
    }
}
