//! Which addresses a tunnel can use: a peer, a local address or a listen address that no
//! socket could reach or bind is refused when the file is read, naming the address and why.

use std::net::IpAddr;

/// What the address is used for.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Role {
    /// A tunnel's `peer`: one host to send to.
    Peer,
    /// A tunnel's `local` address.
    Local,
    /// A `listen` address (the unspecified address takes every one).
    Listen,
}

/// Why `ip` cannot serve as `role`, or `None` when it can.
pub(crate) fn unusable(ip: IpAddr, role: Role) -> Option<String> {
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        return Some(format!(
            "`{ip}` is an IPv4-mapped IPv6 address: write the IPv4 address `{v4}`"
        ));
    }
    if ip.is_unspecified() && role != Role::Listen {
        return Some(format!("`{ip}` is the unspecified address, not a host"));
    }
    if ip.is_multicast() || ip == IpAddr::from([255, 255, 255, 255]) {
        return Some(format!(
            "`{ip}` is a multicast or broadcast address: L2TP runs between two hosts"
        ));
    }
    if let IpAddr::V6(v6) = ip
        && v6.is_unicast_link_local()
    {
        return Some(format!(
            "`{ip}` is an IPv6 link-local address, which needs a scope (an interface) that \
             l2tpd does not take: use a global or unique local address"
        ));
    }
    None
}

/// Why an address written with a scope (`fe80::1%eth0`, `[fe80::1%eth0]:1701`) is refused, or
/// `None` when `text` has none.
pub(crate) fn scoped(text: &str) -> Option<String> {
    let (addr, rest) = text.trim_start_matches('[').split_once('%')?;
    let scope = rest.split(']').next().unwrap_or(rest);
    Some(match addr.parse::<std::net::Ipv6Addr>() {
        Ok(ip) if ip.is_unicast_link_local() => format!(
            "`{text}`: l2tpd does not take a scope (`%{scope}`), so IPv6 link-local addresses \
             cannot be used: use a global or unique local address"
        ),
        Ok(ip) => format!(
            "`{text}`: a scope (`%{scope}`) belongs to link-local addresses only; write `{ip}` \
             without it"
        ),
        Err(_) => format!("`{text}` is not an IP address: `%` has no place in one"),
    })
}

/// Whether `s` is a DNS name (letters, digits and hyphens in dot-separated labels).
pub(crate) fn is_dns_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
