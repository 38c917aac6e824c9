//! The values of an Access-Accept that could hurt other sessions or the host, checked before
//! they are taken: a RADIUS server is run by people and scripts that make mistakes, and one
//! user's reply must break nothing but that user's login.
//!
//! - Framed-IP-Address (RFC 2865 §5.8) is the peer's address, routed to its session: one that
//!   no host may have (0.0.0.0/8, loopback, multicast, class E), or the address of this end
//!   of the link or a DNS or NBNS server the peer is given, or one in a prefix routed to
//!   another session, would take that address's traffic from the host or that session. The
//!   login is refused.
//! - Framed-IP-Netmask (§5.9), Framed-IPv6-Prefix (RFC 3162 §2.3) and Delegated-IPv6-Prefix
//!   (RFC 4818) become routes to the session, which replace a route to the same prefix: a /0
//!   would take the host's default route, a prefix another session is routed already would
//!   take its traffic. A route that is no prefix (a non-contiguous mask), routes everything,
//!   holds this end's address or another session's address or routed prefix, or (IPv6) is
//!   link-local, multicast or loopback, is left out with a warning; the login goes on.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::super::pools::Pools;

/// Labels of `radius_values_ignored` (`show system`, l2tpctl(1)): the values of an
/// Access-Accept or CoA-Request left out (or, for the interim interval, raised), by kind.
pub(in crate::engine) mod label {
    pub(in crate::engine) const ROUTE_DEFAULT: &str = "route_default";
    pub(in crate::engine) const ROUTE_TAKEN: &str = "route_taken";
    pub(in crate::engine) const ROUTE_INVALID: &str = "route_invalid";
    pub(in crate::engine) const PREFIX_MALFORMED: &str = "prefix_malformed";
    pub(in crate::engine) const MTU: &str = "mtu";
    pub(in crate::engine) const DNS_SERVER: &str = "dns_server";
    pub(in crate::engine) const NBNS_SERVER: &str = "nbns_server";
    pub(in crate::engine) const INTERFACE_ID: &str = "interface_id";
    pub(in crate::engine) const INTERIM_RAISED: &str = "interim_raised";
    pub(in crate::engine) const CLASS_NO_ROOM: &str = "class_no_room";
}

/// A prefix: its (masked) address and length.
pub(super) type Prefix = (IpAddr, u8);

/// The prefixes RADIUS routed to the sessions, and to which: no two sessions' overlap.
#[derive(Debug, Default)]
pub(in crate::engine) struct Routed {
    by_prefix: BTreeMap<Prefix, u64>,
    by_holder: HashMap<u64, Vec<Prefix>>,
}

impl Routed {
    /// Session `handle` is routed `routes` (and no longer what it was before).
    pub(super) fn hold(&mut self, handle: u64, routes: &[Prefix]) {
        self.release(handle);
        for p in routes {
            self.by_prefix.insert(masked(*p), handle);
        }
        if !routes.is_empty() {
            self.by_holder
                .insert(handle, routes.iter().copied().map(masked).collect());
        }
    }

    /// Session `handle` is routed nothing now.
    pub(super) fn release(&mut self, handle: u64) {
        for p in self.by_holder.remove(&handle).unwrap_or_default() {
            if self.by_prefix.get(&p) == Some(&handle) {
                self.by_prefix.remove(&p);
            }
        }
    }

    /// A prefix of a session other than `handle` that overlaps `p` (holds it, or lies in it).
    pub(super) fn clash(&self, handle: u64, p: Prefix) -> Option<Prefix> {
        let (addr, len) = masked(p);
        let wider = (0..=len)
            .map(|l| masked((addr, l)))
            .find(|q| self.by_prefix.get(q).is_some_and(|h| *h != handle));
        let (first, last) = bounds(addr, len);
        wider.or_else(|| {
            self.by_prefix
                .range((first, 0)..=(last, u8::MAX))
                .find(|(_, h)| **h != handle)
                .map(|(q, _)| *q)
        })
    }
}

/// `p` with its host bits cleared (length held to the family's).
fn masked((addr, len): Prefix) -> Prefix {
    match addr {
        IpAddr::V4(a) => {
            let len = len.min(32);
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)), len)
        }
        IpAddr::V6(a) => {
            let len = len.min(128);
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask)), len)
        }
    }
}

/// The first and last address of prefix `addr`/`len` (`addr` masked).
fn bounds(addr: IpAddr, len: u8) -> (IpAddr, IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            (addr, IpAddr::V4(Ipv4Addr::from(u32::from(a) | host)))
        }
        IpAddr::V6(a) => {
            let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            (addr, IpAddr::V6(Ipv6Addr::from(u128::from(a) | host)))
        }
    }
}

/// Why `a` cannot be the address of session `handle`'s peer, when it cannot: `ours` are this
/// end's addresses and the DNS and NBNS servers the peer is given; one in a prefix routed to
/// another session would take that session's traffic.
pub(super) fn unusable_address(
    routed: &Routed,
    handle: u64,
    a: Ipv4Addr,
    ours: &[Ipv4Addr],
) -> Option<&'static str> {
    unusable_peer(a, ours).or_else(|| {
        routed
            .clash(handle, (IpAddr::V4(a), 32))
            .map(|_| "in a prefix routed to another session")
    })
}

/// Why `a` cannot be a peer's address, when it cannot: `ours` are this end's addresses and
/// the DNS and NBNS servers the peer is given.
pub(super) fn unusable_peer(a: Ipv4Addr, ours: &[Ipv4Addr]) -> Option<&'static str> {
    let first = a.octets()[0];
    Some(if first == 0 {
        "in 0.0.0.0/8, \"this network\" (RFC 1122 3.2.1.3)"
    } else if a.is_loopback() {
        "a loopback address"
    } else if a.is_multicast() {
        "a multicast address"
    } else if first >= 240 {
        "in the reserved 240.0.0.0/4"
    } else if ours.contains(&a) {
        "this end's own or a server the peer is given"
    } else {
        return None;
    })
}

/// Why route `p` cannot go to session `handle`, when it cannot, with the label it is counted
/// by (`radius_values_ignored`): `ours` are this end's addresses.
pub(super) fn unusable_route(
    routed: &Routed,
    pools: &Pools,
    handle: u64,
    p: Prefix,
    ours: &[Ipv4Addr],
) -> Option<(&'static str, String)> {
    let (addr, len) = masked(p);
    let taken = |why: String| Some((label::ROUTE_TAKEN, why));
    let invalid = |why: &str| Some((label::ROUTE_INVALID, why.to_owned()));
    if len == 0 {
        return Some((
            label::ROUTE_DEFAULT,
            "a default route, which would take every other destination".to_owned(),
        ));
    }
    let (first, last) = bounds(addr, len);
    match (first, last) {
        (IpAddr::V4(f), IpAddr::V4(l)) => {
            if let Some(a) = ours.iter().find(|a| (f..=l).contains(*a)) {
                return taken(format!("holds this end's address {a}"));
            }
            if let Some(a) = pools.held_by_other(f, l, handle) {
                return taken(format!("holds {a}, another session's address"));
            }
        }
        (IpAddr::V6(f), _) => {
            if f.is_unicast_link_local() {
                return invalid("link-local");
            }
            if f.is_multicast() {
                return invalid("multicast");
            }
            if f.is_loopback() || f.is_unspecified() {
                return invalid("no prefix a host may be routed");
            }
        }
        _ => {}
    }
    routed
        .clash(handle, (addr, len))
        .and_then(|(q, l)| taken(format!("overlaps {q}/{l}, routed to another session")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, len: u8) -> Prefix {
        (s.parse().unwrap_or_else(|e| panic!("{s}: {e}")), len)
    }

    #[test]
    fn overlapping_prefixes_of_another_session_clash() {
        let mut r = Routed::default();
        r.hold(1, &[p("2001:db8:10::", 48), p("198.51.100.64", 26)]);
        assert_eq!(
            r.clash(2, p("2001:db8:10:5::", 64)),
            Some(p("2001:db8:10::", 48))
        );
        assert_eq!(
            r.clash(2, p("2001:db8::", 32)),
            Some(p("2001:db8:10::", 48))
        );
        assert_eq!(r.clash(2, p("2001:db8:11::", 48)), None);
        assert_eq!(r.clash(1, p("2001:db8:10::", 48)), None, "its own");
        assert_eq!(
            r.clash(2, p("198.51.100.100", 30)),
            Some(p("198.51.100.64", 26))
        );
        assert_eq!(r.clash(2, p("198.51.100.128", 25)), None);
        r.release(1);
        assert_eq!(r.clash(2, p("2001:db8:10::", 48)), None);
    }

    #[test]
    fn addresses_no_peer_may_have() {
        let ours = [Ipv4Addr::new(198, 51, 100, 1)];
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "198.51.100.1",
        ] {
            let a: Ipv4Addr = a.parse().unwrap_or_else(|e| panic!("{e}"));
            assert!(unusable_peer(a, &ours).is_some(), "{a}");
        }
        assert_eq!(unusable_peer(Ipv4Addr::new(198, 51, 100, 7), &ours), None);
    }
}
