//! IPv4 address pools for PPP sessions: each pool is a set of ranges, handed out one address per
//! session; users may have fixed addresses of their own. Every address in use is held by exactly
//! one session, so no two sessions ever get the same address, whichever way they got it. A pool
//! that runs out says so; the caller refuses the session.
//!
//! A pool keeps one bit per address and a cursor, so that taking and giving back an address is
//! O(1) amortised, and 100 000 addresses cost 12.5 KiB.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::Ipv4Addr;

/// Why no address could be given.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(super) enum PoolError {
    /// The pool has no free address.
    Exhausted {
        /// The pool.
        pool: String,
        /// How many addresses it has.
        size: u64,
        /// How many of them are kept for users' fixed addresses while those are offline.
        kept: u64,
    },
    /// No pool of this name (a reload removed it).
    NoSuchPool(String),
    /// A fixed address that another session holds.
    InUse(Ipv4Addr),
    /// The address a peer chose is the one this end of the link has.
    Ours(Ipv4Addr),
    /// An address no peer may have (a RADIUS server's Framed-IP-Address), and why.
    Unusable(Ipv4Addr, &'static str),
}

impl PoolError {
    /// The label of the refusal counter.
    pub(super) fn label(&self) -> &'static str {
        match self {
            PoolError::Exhausted { .. } => "pool_exhausted",
            PoolError::NoSuchPool(_) => "no_pool",
            PoolError::InUse(_) | PoolError::Ours(_) => "address_in_use",
            PoolError::Unusable(..) => "address_unusable",
        }
    }
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Exhausted {
                pool,
                size,
                kept: 0,
            } => {
                write!(
                    f,
                    "ip pool \"{pool}\" is exhausted (all {size} addresses in use)"
                )
            }
            PoolError::Exhausted { pool, size, kept } => {
                write!(
                    f,
                    "ip pool \"{pool}\" is exhausted ({size} address{}: {} in use, {kept} \
                     kept as users' fixed addresses)",
                    if *size == 1 { "" } else { "es" },
                    size - kept
                )
            }
            PoolError::NoSuchPool(p) => write!(f, "no ip pool \"{p}\""),
            PoolError::InUse(a) => write!(f, "address {a} is in use by another session"),
            PoolError::Ours(a) => write!(f, "address {a} is this end's own on the link"),
            PoolError::Unusable(a, why) => write!(f, "address {a} is {why}"),
        }
    }
}

/// One pool.
#[derive(Debug)]
struct Pool {
    /// The ranges, first and last address as numbers.
    ranges: Vec<(u32, u32)>,
    /// One bit per address of the ranges, in order: set when in use.
    used: Vec<u64>,
    size: u64,
    /// Bits set: addresses held, and users' fixed addresses kept while no one holds them.
    in_use: u64,
    /// Users' fixed addresses of the pool that no session holds: their bits stay set.
    kept: u64,
    /// Where the search for a free address goes on from (an index into the bits).
    cursor: u64,
}

impl Pool {
    fn new(ranges: &[(Ipv4Addr, Ipv4Addr)]) -> Pool {
        let ranges: Vec<(u32, u32)> = ranges
            .iter()
            .map(|(a, b)| (u32::from(*a), u32::from(*b)))
            .filter(|(a, b)| a <= b)
            .collect();
        let size: u64 = ranges.iter().map(|(a, b)| u64::from(b - a) + 1).sum();
        let words = usize::try_from(size.div_ceil(64)).unwrap_or(0);
        Pool {
            ranges,
            used: vec![0; words],
            size,
            in_use: 0,
            kept: 0,
            cursor: 0,
        }
    }

    /// The bit index of `addr`, if the pool has it.
    fn index(&self, addr: Ipv4Addr) -> Option<u64> {
        let a = u32::from(addr);
        let mut base = 0u64;
        for (first, last) in &self.ranges {
            if (*first..=*last).contains(&a) {
                return Some(base + u64::from(a - first));
            }
            base += u64::from(last - first) + 1;
        }
        None
    }

    /// The address of bit index `i`.
    fn address(&self, mut i: u64) -> Option<Ipv4Addr> {
        for (first, last) in &self.ranges {
            let n = u64::from(last - first) + 1;
            if i < n {
                return Some(Ipv4Addr::from(first + u32::try_from(i).ok()?));
            }
            i -= n;
        }
        None
    }

    fn set(&mut self, i: u64, on: bool) {
        let (w, b) = (usize::try_from(i / 64).unwrap_or(usize::MAX), i % 64);
        if let Some(word) = self.used.get_mut(w) {
            let was = *word & (1 << b) != 0;
            if on {
                *word |= 1 << b;
            } else {
                *word &= !(1 << b);
            }
            match (was, on) {
                (false, true) => self.in_use += 1,
                (true, false) => self.in_use -= 1,
                _ => {}
            }
        }
    }

    /// The next free bit from the cursor on, wrapping once; whole used words are skipped.
    fn take_free(&mut self) -> Option<u64> {
        if self.in_use >= self.size {
            return None;
        }
        let words = self.used.len() as u64;
        let start = self.cursor / 64;
        for k in 0..=words {
            let w = (start + k) % words;
            let word = self.used[usize::try_from(w).ok()?];
            if word == u64::MAX {
                continue;
            }
            for b in 0..64 {
                let i = w * 64 + b;
                if i >= self.size {
                    break;
                }
                if word & (1 << b) == 0 {
                    self.set(i, true);
                    self.cursor = i + 1;
                    return Some(i);
                }
            }
        }
        None
    }
}

/// Every pool, and every address in use with the session (handle) that holds it.
#[derive(Debug, Default)]
pub(super) struct Pools {
    pools: HashMap<String, Pool>,
    /// Address → holder, for pool and fixed addresses alike (ordered: a route's prefix asks
    /// which of them it holds).
    holders: BTreeMap<Ipv4Addr, u64>,
    /// Holder → its address (one per session).
    leases: HashMap<u64, Ipv4Addr>,
    /// Fixed address → the user name its holder authenticated as, when reserved for one
    /// (only fixed addresses: a pool address is never asked for again by name).
    logins: HashMap<Ipv4Addr, Box<[u8]>>,
    /// The users' fixed addresses that lie in a pool: the pool never gives them to anyone
    /// else, held or not (`l2tpd.conf(5)`, Address pools).
    fixed: HashSet<Ipv4Addr>,
}

/// How full a pool is, for `show` and metrics.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(super) struct PoolUsage {
    pub(super) name: String,
    pub(super) size: u64,
    pub(super) in_use: u64,
}

impl Pools {
    /// Sets the pools to `pools` (name, ranges) and the users' fixed addresses to `fixed`: a
    /// reload. Addresses in use stay with their sessions; those inside the new ranges are
    /// marked used there. Fixed addresses inside a pool are kept out of its hands.
    pub(super) fn configure<'a>(
        &mut self,
        pools: impl IntoIterator<Item = (&'a str, &'a [(Ipv4Addr, Ipv4Addr)])>,
        fixed: impl IntoIterator<Item = Ipv4Addr>,
    ) {
        self.pools = pools
            .into_iter()
            .map(|(name, ranges)| (name.to_owned(), Pool::new(ranges)))
            .collect();
        let held: Vec<Ipv4Addr> = self.holders.keys().copied().collect();
        for addr in held {
            for pool in self.pools.values_mut() {
                if let Some(i) = pool.index(addr) {
                    pool.set(i, true);
                }
            }
        }
        self.fixed.clear();
        for addr in fixed {
            let in_a_pool = self.pools.values().any(|p| p.index(addr).is_some());
            if !in_a_pool || !self.fixed.insert(addr) || self.holders.contains_key(&addr) {
                continue;
            }
            for pool in self.pools.values_mut() {
                if let Some(i) = pool.index(addr) {
                    pool.set(i, true);
                    pool.kept += 1;
                }
            }
        }
    }

    /// An address from pool `pool` for session `holder` (its lease, if it has one already).
    pub(super) fn allocate(&mut self, pool: &str, holder: u64) -> Result<Ipv4Addr, PoolError> {
        if let Some(a) = self.leases.get(&holder) {
            return Ok(*a);
        }
        let p = self
            .pools
            .get_mut(pool)
            .ok_or_else(|| PoolError::NoSuchPool(pool.to_owned()))?;
        // A bit may be free in the pool while its address is held as another user's fixed
        // address: skip those (they are marked as we meet them).
        loop {
            let Some(i) = p.take_free() else {
                return Err(PoolError::Exhausted {
                    pool: pool.to_owned(),
                    size: p.size,
                    kept: p.kept,
                });
            };
            let Some(addr) = p.address(i) else {
                continue;
            };
            if self.holders.contains_key(&addr) {
                continue;
            }
            self.holders.insert(addr, holder);
            self.leases.insert(holder, addr);
            return Ok(addr);
        }
    }

    /// Fixed address `addr` for session `holder` (a user's own address).
    #[cfg(test)]
    pub(super) fn reserve(&mut self, addr: Ipv4Addr, holder: u64) -> Result<Ipv4Addr, PoolError> {
        self.reserve_for(addr, holder, None).map(|(a, _)| a)
    }

    /// Fixed address `addr` for session `holder`, which authenticated as `login`: `replace`
    /// set, an address held by another session that authenticated as the very same name is
    /// taken from it, and that session is returned (the caller ends it: it has no address
    /// any more). Any other holder refuses, as [`Pools::reserve`] does.
    pub(super) fn reserve_for(
        &mut self,
        addr: Ipv4Addr,
        holder: u64,
        login: Option<(&[u8], bool)>,
    ) -> Result<(Ipv4Addr, Option<u64>), PoolError> {
        let mut replaced = None;
        match self.holders.get(&addr).copied() {
            Some(h) if h == holder => return Ok((addr, None)),
            Some(h) => match login {
                Some((name, true)) if self.logins.get(&addr).is_some_and(|n| **n == *name) => {
                    self.release(h);
                    replaced = Some(h);
                }
                _ => return Err(PoolError::InUse(addr)),
            },
            None => {}
        }
        if self.leases.contains_key(&holder) {
            self.release(holder);
        }
        let kept = self.fixed.contains(&addr);
        for pool in self.pools.values_mut() {
            if let Some(i) = pool.index(addr) {
                pool.set(i, true);
                if kept {
                    pool.kept = pool.kept.saturating_sub(1);
                }
            }
        }
        self.holders.insert(addr, holder);
        self.leases.insert(holder, addr);
        if let Some((name, _)) = login {
            self.logins.insert(addr, Box::from(name));
        }
        Ok((addr, replaced))
    }

    /// Address `addr` that the peer of session `holder` chose (no address was given it): held
    /// for it unless another session holds it or it is a user's fixed address.
    pub(super) fn claim(&mut self, addr: Ipv4Addr, holder: u64) -> Result<(), PoolError> {
        match self.holders.get(&addr) {
            Some(h) if *h == holder => return Ok(()),
            Some(_) => return Err(PoolError::InUse(addr)),
            None if self.fixed.contains(&addr) => return Err(PoolError::InUse(addr)),
            None => {}
        }
        self.reserve_for(addr, holder, None).map(|_| ())
    }

    /// Session `holder` gives its address back.
    pub(super) fn release(&mut self, holder: u64) {
        let Some(addr) = self.leases.remove(&holder) else {
            return;
        };
        self.holders.remove(&addr);
        self.logins.remove(&addr);
        // A user's fixed address goes back to being kept for its user, not to the pool.
        let kept = self.fixed.contains(&addr);
        for pool in self.pools.values_mut() {
            if let Some(i) = pool.index(addr) {
                if kept {
                    pool.kept += 1;
                } else {
                    pool.set(i, false);
                }
            }
        }
    }

    /// The session that holds `addr`.
    pub(super) fn holder(&self, addr: Ipv4Addr) -> Option<u64> {
        self.holders.get(&addr).copied()
    }

    /// An address from `first` to `last` that a session other than `holder` holds.
    pub(super) fn held_by_other(
        &self,
        first: Ipv4Addr,
        last: Ipv4Addr,
        holder: u64,
    ) -> Option<Ipv4Addr> {
        self.holders
            .range(first..=last)
            .find(|(_, h)| **h != holder)
            .map(|(a, _)| *a)
    }

    /// How full each pool is, by name.
    pub(super) fn usage(&self) -> Vec<PoolUsage> {
        let mut v: Vec<PoolUsage> = self
            .pools
            .iter()
            .map(|(name, p)| PoolUsage {
                name: name.clone(),
                size: p.size,
                in_use: p.in_use - p.kept,
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    #[test]
    fn a_pool_hands_out_each_address_once_then_says_it_is_exhausted() {
        let mut p = Pools::default();
        let ranges = [
            (a("198.51.100.10"), a("198.51.100.12")),
            (a("198.51.100.200"), a("198.51.100.200")),
        ];
        p.configure([("users", &ranges[..])], []);
        let got: Vec<Ipv4Addr> = (1..=4)
            .map(|h| p.allocate("users", h).unwrap_or(Ipv4Addr::UNSPECIFIED))
            .collect();
        assert_eq!(
            got,
            [
                a("198.51.100.10"),
                a("198.51.100.11"),
                a("198.51.100.12"),
                a("198.51.100.200")
            ]
        );
        assert_eq!(
            p.allocate("users", 5),
            Err(PoolError::Exhausted {
                pool: "users".into(),
                size: 4,
                kept: 0
            })
        );
        // A session asking again keeps its address.
        assert_eq!(p.allocate("users", 2), Ok(a("198.51.100.11")));
        p.release(2);
        assert_eq!(p.allocate("users", 5), Ok(a("198.51.100.11")));
        assert_eq!(p.holder(a("198.51.100.11")), Some(5));
        assert_eq!(p.usage()[0].in_use, 4);
        assert_eq!(
            p.allocate("none", 9),
            Err(PoolError::NoSuchPool("none".into()))
        );
    }

    #[test]
    fn fixed_addresses_and_pool_addresses_never_meet() {
        let mut p = Pools::default();
        let ranges = [(a("198.51.100.1"), a("198.51.100.3"))];
        p.configure([("p", &ranges[..])], []);
        // A user's fixed address inside the pool.
        assert_eq!(p.reserve(a("198.51.100.2"), 100), Ok(a("198.51.100.2")));
        assert_eq!(
            p.reserve(a("198.51.100.2"), 101),
            Err(PoolError::InUse(a("198.51.100.2")))
        );
        let x = p.allocate("p", 1).ok();
        let y = p.allocate("p", 2).ok();
        assert_eq!((x, y), (Some(a("198.51.100.1")), Some(a("198.51.100.3"))));
        assert!(p.allocate("p", 3).is_err());
        // A reload keeps the addresses in use out of the new pool's hands.
        let bigger = [(a("198.51.100.1"), a("198.51.100.4"))];
        p.configure([("p", &bigger[..])], []);
        assert_eq!(p.allocate("p", 3), Ok(a("198.51.100.4")));
        assert_eq!(p.usage()[0].in_use, 4);
    }

    #[test]
    fn a_fixed_address_goes_to_a_new_login_of_its_holders_user_only() {
        let mut p = Pools::default();
        let bob = a("198.51.100.200");
        assert_eq!(p.reserve_for(bob, 1, Some((b"bob", true))), Ok((bob, None)));
        // Another user, the same name without `replace`, no name at all: refused.
        for login in [Some((&b"eve"[..], true)), Some((b"bob", false)), None] {
            assert_eq!(p.reserve_for(bob, 2, login), Err(PoolError::InUse(bob)));
        }
        // A name is compared exactly.
        assert_eq!(
            p.reserve_for(bob, 2, Some((b"Bob", true))),
            Err(PoolError::InUse(bob))
        );
        assert_eq!(p.holder(bob), Some(1));
        // Bob again: the address is his new session's, and the old session is named.
        assert_eq!(
            p.reserve_for(bob, 2, Some((b"bob", true))),
            Ok((bob, Some(1)))
        );
        assert_eq!(p.holder(bob), Some(2));
        p.release(1);
        assert_eq!(p.holder(bob), Some(2));
        // Released, the address keeps no name: a pool lease of it is no one's login.
        p.release(2);
        assert_eq!(p.reserve(bob, 3), Ok(bob));
        assert_eq!(
            p.reserve_for(bob, 4, Some((b"bob", true))),
            Err(PoolError::InUse(bob))
        );
    }

    #[test]
    fn a_users_fixed_address_in_a_pool_is_kept_for_that_user_online_or_not() {
        let mut p = Pools::default();
        let ranges = [(a("198.51.100.1"), a("198.51.100.3"))];
        let own = a("198.51.100.2");
        p.configure([("p", &ranges[..])], [own, a("203.0.113.9")]);
        assert_eq!(p.usage()[0].in_use, 0);
        assert_eq!(p.allocate("p", 1), Ok(a("198.51.100.1")));
        assert_eq!(p.allocate("p", 2), Ok(a("198.51.100.3")));
        let full = p.allocate("p", 3);
        assert_eq!(
            full,
            Err(PoolError::Exhausted {
                pool: "p".into(),
                size: 3,
                kept: 1
            })
        );
        assert!(
            full.is_err_and(|e| e.to_string().contains("2 in use, 1 kept")),
            "the log line says why"
        );
        // The user comes and goes: the address is theirs, and kept again after.
        assert_eq!(p.reserve(own, 4), Ok(own));
        assert_eq!(p.usage()[0].in_use, 3);
        p.release(4);
        assert_eq!(p.usage()[0].in_use, 2);
        p.release(1);
        assert_eq!(p.allocate("p", 5), Ok(a("198.51.100.1")));
        assert!(p.allocate("p", 6).is_err());
        // A reload that drops the user's address gives it to the pool.
        p.configure([("p", &ranges[..])], []);
        assert_eq!(p.allocate("p", 6), Ok(own));
        // One that adds it back while a pool lease holds it: kept once the lease ends.
        p.configure([("p", &ranges[..])], [own]);
        p.release(6);
        assert!(p.allocate("p", 7).is_err());
        assert_eq!(p.usage()[0].in_use, 2);
    }

    #[test]
    fn a_hundred_thousand_addresses_go_out_and_back() {
        let mut p = Pools::default();
        let ranges = [(a("198.18.0.1"), a("198.19.134.160"))];
        p.configure([("big", &ranges[..])], []);
        assert_eq!(p.usage()[0].size, 100_000);
        for h in 0..100_000 {
            assert!(p.allocate("big", h).is_ok(), "{h}");
        }
        assert!(p.allocate("big", 100_000).is_err());
        for h in (0..100_000).step_by(2) {
            p.release(h);
        }
        for h in 100_000..150_000 {
            assert!(p.allocate("big", h).is_ok(), "{h}");
        }
        assert_eq!(p.usage()[0].in_use, 100_000);
    }
}
