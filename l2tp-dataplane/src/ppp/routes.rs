//! The routing table of the shared TUN: which native-PPP session an IPv4 packet read from the
//! TUN goes to, by its destination (the peer's address, which the session's /32 route points
//! into the TUN). The data-path threads share one table, which the control side
//! changes (a thread takes its read lock once per batch of packets); one entry per session
//! whose IPv4 is up.
//!
//! An address belongs to one session at a time: a route is removed only by the session that
//! owns it, so that a session going down cannot take away the route of another that was given
//! the same address meanwhile.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

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

/// Peer addresses to sessions: `T` is the session (its shared state in the data path), `u64`
/// the key of the session that owns the route.
#[derive(Debug)]
pub struct Routes<T> {
    map: IdMap<u32, (u64, T)>,
}

impl<T> Default for Routes<T> {
    fn default() -> Self {
        Self {
            map: IdMap::default(),
        }
    }
}

impl<T> Routes<T> {
    /// Routes `addr` to session `key`, replacing whatever it routed to; returns the key of
    /// the session that had it.
    pub fn insert(&mut self, addr: Ipv4Addr, key: u64, session: T) -> Option<u64> {
        self.map
            .insert(u32::from(addr), (key, session))
            .map(|(k, _)| k)
    }

    /// Removes the route of `addr` if session `key` owns it; returns whether it did.
    pub fn remove(&mut self, addr: Ipv4Addr, key: u64) -> bool {
        let a = u32::from(addr);
        if self.map.get(&a).is_some_and(|(k, _)| *k == key) {
            self.map.remove(&a);
            return true;
        }
        false
    }

    /// The session that packets to `dst` (an address in network order, as in the IPv4
    /// header) go to.
    pub fn get(&self, dst: [u8; 4]) -> Option<&T> {
        self.map.get(&u32::from_be_bytes(dst)).map(|(_, s)| s)
    }

    /// The sessions routed to (one per route).
    pub fn sessions(&self) -> impl Iterator<Item = &T> {
        self.map.values().map(|(_, s)| s)
    }

    /// Routes in the table.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
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
        assert_eq!(r.insert(A, 1, "one"), None);
        assert_eq!(r.insert(B, 2, "two"), None);
        assert_eq!(r.get(A.octets()), Some(&"one"));
        assert_eq!(r.get(B.octets()), Some(&"two"));
        assert_eq!(r.get([203, 0, 113, 12]), None);
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn only_the_owner_removes_a_route() {
        let mut r = Routes::default();
        r.insert(A, 1, "one");
        // The address goes to session 2 meanwhile: session 1's removal leaves it.
        assert_eq!(r.insert(A, 2, "two"), Some(1));
        assert!(!r.remove(A, 1));
        assert_eq!(r.get(A.octets()), Some(&"two"));
        assert!(r.remove(A, 2));
        assert_eq!(r.get(A.octets()), None);
        assert!(!r.remove(A, 2));
    }

    #[test]
    fn many_addresses_hash_apart() {
        let mut r = Routes::default();
        for i in 0..100_000u32 {
            r.insert(Ipv4Addr::from(0x0a00_0000 + i), u64::from(i), i);
        }
        for i in (0..100_000u32).step_by(997) {
            assert_eq!(r.get((0x0a00_0000 + i).to_be_bytes()), Some(&i));
        }
        assert_eq!(r.len(), 100_000);
    }
}
