//! Addresses: IP addresses and prefixes, netmasks, host ranges, endpoints and socket
//! addresses, router ids and MAC addresses.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::base::{Res, Values, err, list, mismatch, number_item, parse_u64, single};
use crate::address::{self, Role};
use crate::span::Span;
use crate::syntax::Item;
use crate::value::{Endpoint, Host, IpPrefix, L2TP_PORT, MacAddr};

const IP_WHAT: &str = "an IP address";

/// An IPv4 or IPv6 literal without port.
pub(crate) fn ip(v: Values<'_>) -> Res<IpAddr> {
    let item = single(v, IP_WHAT)?;
    item.text.parse().or_else(|_| mismatch(item, IP_WHAT))
}

/// Why `addr` cannot be a host's address on a PPP link, if it cannot: the addresses of "this
/// network" (0.0.0.0/8), loopback (127.0.0.0/8), multicast (224.0.0.0/4), the reserved block
/// (240.0.0.0/4) and the limited broadcast address 255.255.255.255.
pub(crate) fn ipv4_unusable(addr: Ipv4Addr) -> Option<&'static str> {
    let [a, ..] = addr.octets();
    if addr.is_broadcast() {
        Some("the broadcast address")
    } else if a == 0 {
        Some("in 0.0.0.0/8 (\"this network\")")
    } else if addr.is_loopback() {
        Some("a loopback address")
    } else if addr.is_multicast() {
        Some("a multicast address")
    } else if a >= 240 {
        Some("in the reserved block 240.0.0.0/4")
    } else {
        None
    }
}

/// An IPv4 address a host can have on a PPP link (see [`ipv4_unusable`]).
pub(crate) fn ipv4_host(v: Values<'_>) -> Res<Ipv4Addr> {
    const WHAT: &str = "an IPv4 address";
    let item = single(v, WHAT)?;
    let addr: Ipv4Addr = item.text.parse().or_else(|_| mismatch(item, WHAT))?;
    match ipv4_unusable(addr) {
        Some(why) => err(
            item.span,
            format!("`{addr}` is {why}: expected the address of a host"),
        ),
        None => Ok(addr),
    }
}

/// A list of IPv4 ranges `first-last` (or single addresses) of host addresses.
pub(crate) fn ipv4_ranges(v: Values<'_>) -> Res<Vec<(Ipv4Addr, Ipv4Addr)>> {
    const WHAT: &str = "IPv4 address ranges such as `192.0.2.10-192.0.2.99`";
    let mut out = Vec::new();
    let items = list(v, WHAT)?;
    for (i, item) in items.iter().enumerate() {
        if item.text == "-" || item.text.starts_with('-') || item.text.ends_with('-') {
            // `192.0.2.10 - 192.0.2.99`: one range in three words.
            let joined = match (
                i.checked_sub(1).and_then(|p| items.get(p)),
                items.get(i + 1),
            ) {
                (Some(a), Some(b)) if item.text == "-" => format!("{}-{}", a.text, b.text),
                (_, Some(b)) if item.text.ends_with('-') => format!("{}{}", item.text, b.text),
                (Some(a), _) => format!("{}{}", a.text, item.text),
                _ => "192.0.2.10-192.0.2.99".to_owned(),
            };
            return err(
                item.span,
                format!("a range is written without spaces around its `-`: `{joined}`"),
            );
        }
        let (a, b) = item
            .text
            .split_once('-')
            .unwrap_or((&item.text, &item.text));
        let (Ok(first), Ok(last)) = (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) else {
            return mismatch(
                item,
                "an IPv4 address range such as `192.0.2.10-192.0.2.99`",
            );
        };
        if first > last {
            return err(
                item.span,
                format!(
                    "range `{}` is backwards: {first} comes after {last}",
                    item.text
                ),
            );
        }
        let bad = [first, last]
            .into_iter()
            .chain(
                // The first address of each unusable block the range may cross.
                [0x0000_0000, 0x7f00_0000, 0xe000_0000].map(Ipv4Addr::from_bits),
            )
            .filter(|a| (first..=last).contains(a))
            .find_map(|a| ipv4_unusable(a).map(|why| (a, why)));
        if let Some((a, why)) = bad {
            return err(
                item.span,
                format!(
                    "range `{}` holds {a}, which is {why}: a pool holds host addresses only",
                    item.text
                ),
            );
        }
        out.push((first, last));
    }
    Ok(out)
}

/// A contiguous netmask, IPv4 or IPv6.
pub(crate) fn netmask(v: Values<'_>) -> Res<IpAddr> {
    let item = single(v, "a netmask")?;
    let mask: IpAddr = item
        .text
        .parse()
        .or_else(|_| mismatch(item, "a netmask such as `255.255.255.0`"))?;
    if mask_len(mask).is_none() {
        return err(
            item.span,
            format!("netmask `{mask}` is not contiguous (ones, then zeros)"),
        );
    }
    Ok(mask)
}

/// The prefix length of a contiguous netmask.
pub(crate) fn mask_len(mask: IpAddr) -> Option<u8> {
    let (bits, width) = match mask {
        IpAddr::V4(m) => (u128::from(m.to_bits()) << 96, 32),
        IpAddr::V6(m) => (m.to_bits(), 128),
    };
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then(|| ones.min(width) as u8)
}

/// `ip` or `ip/len`.
pub(crate) fn ip_prefix(v: Values<'_>) -> Res<IpPrefix> {
    const WHAT: &str = "an IP address or prefix (`198.51.100.0/24`)";
    let item = single(v, WHAT)?;
    let (addr, len) = match item.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (item.text.as_str(), None),
    };
    let addr: IpAddr = addr.parse().or_else(|_| mismatch(item, WHAT))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => None,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                return err(
                    item.span,
                    format!(
                        "prefix length `{l}` is out of range: expected a number from 0 to {max}"
                    ),
                );
            }
        },
    };
    Ok(IpPrefix { addr, len })
}

fn endpoint_item(item: &Item, what: &str) -> Res<Endpoint> {
    let t = item.text.as_str();
    let port_err = |offset: usize, port: &str| {
        err(
            Span::new(item.span.start + offset, item.span.end),
            format!("port `{port}` is out of range: expected a number from 1 to 65535"),
        )
    };
    let parse_port = |offset: usize, port: &str| -> Res<u16> {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return mismatch(item, what);
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => Ok(p),
            _ => port_err(offset, port),
        }
    };
    if let Some(why) = address::scoped(t) {
        return err(item.span, why);
    }
    // `quoted` items keep their text offsets one byte in, past the opening quote.
    let q = usize::from(item.quoted);
    if let Some(rest) = t.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return mismatch(item, what);
        };
        let ip: std::net::Ipv6Addr = inner.parse().or_else(|_| mismatch(item, what))?;
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(parse_port(q + inner.len() + 3, p)?),
                None => return mismatch(item, what),
            },
        };
        return Ok(Endpoint {
            host: Host::Ip(IpAddr::V6(ip)),
            port,
        });
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(Endpoint {
            host: Host::Ip(ip),
            port: None,
        });
    }
    let (host, port) = match t.split_once(':') {
        Some((h, p)) if !p.contains(':') => (h, Some(parse_port(q + h.len() + 1, p)?)),
        Some(_) => {
            return err(
                item.span,
                format!(
                    "expected {what}, found `{t}` (write an IPv6 address with a port as \
                     `[address]:port`)"
                ),
            );
        }
        None => (t, None),
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(Endpoint {
            host: Host::Ip(IpAddr::V4(ip)),
            port,
        });
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return err(item.span, format!("`{host}` is not a valid IPv4 address"));
    }
    if !address::is_dns_name(host) {
        return mismatch(item, what);
    }
    Ok(Endpoint {
        host: Host::Name(host.to_owned()),
        port,
    })
}

/// One or more of `ip[:port]` or a DNS name with optional port.
pub(crate) fn endpoints(v: Values<'_>) -> Res<Vec<Endpoint>> {
    const WHAT: &str = "one or more IP addresses or host names, each optionally with a port \
                        (`192.0.2.1:1701`, `[2001:db8::1]:1701`)";
    list(v, WHAT)?
        .iter()
        .map(|item| usable(item, endpoint_item(item, WHAT)?, Role::Peer))
        .collect()
}

/// `ep`, or an error naming why no socket can use its address as `role`.
fn usable(item: &Item, ep: Endpoint, role: Role) -> Res<Endpoint> {
    match ep.host {
        Host::Ip(ip) => address::unusable(ip, role).map_or(Ok(ep), |why| err(item.span, why)),
        Host::Name(_) => Ok(ep),
    }
}

/// `ip[:port]` where the host must be an IP literal (a local address).
pub(crate) fn ip_endpoint(v: Values<'_>) -> Res<Endpoint> {
    const WHAT: &str = "an IP address, optionally with a port (`192.0.2.1:1701`, `[::1]:1701`)";
    let item = single(v, WHAT)?;
    let ep = endpoint_item(item, WHAT)?;
    match ep.host {
        Host::Ip(_) => usable(item, ep, Role::Local),
        Host::Name(_) => mismatch(item, WHAT),
    }
}

/// A list of `ip[:port]` socket addresses; the port defaults to 1701.
pub(crate) fn socket_addrs(v: Values<'_>) -> Res<Vec<SocketAddr>> {
    const WHAT: &str =
        "one or more IP addresses, optionally with ports (`0.0.0.0:1701`, `[::]:1701`)";
    let mut out = Vec::new();
    for item in list(v, WHAT)? {
        let ep = usable(item, endpoint_item(item, WHAT)?, Role::Listen)?;
        match ep.host {
            Host::Ip(ip) => out.push(SocketAddr::new(ip, ep.port.unwrap_or(L2TP_PORT))),
            Host::Name(_) => return mismatch(item, WHAT),
        }
    }
    Ok(out)
}

/// A list of `ip[:port]` socket addresses where dynamic authorization requests are taken;
/// the port defaults to 3799 (RFC 5176 §3).
pub(crate) fn dynauth_addrs(v: Values<'_>) -> Res<Vec<SocketAddr>> {
    const WHAT: &str =
        "one or more IP addresses, optionally with ports (`192.0.2.1:3799`, `[2001:db8::1]:3799`)";
    let mut out = Vec::new();
    for item in list(v, WHAT)? {
        let ep = endpoint_item(item, WHAT)?;
        match ep.host {
            Host::Ip(ip) => out.push(SocketAddr::new(
                ip,
                ep.port.unwrap_or(crate::radius::DYNAUTH_PORT),
            )),
            Host::Name(_) => return mismatch(item, WHAT),
        }
    }
    Ok(out)
}

/// A list of `ip:port` socket addresses, the port required (no port is the metrics' own).
pub(crate) fn metrics_addrs(v: Values<'_>) -> Res<Vec<SocketAddr>> {
    const WHAT: &str = "one or more IP addresses with ports (`127.0.0.1:9701`, `[::1]:9701`)";
    let mut out = Vec::new();
    for item in list(v, WHAT)? {
        let ep = endpoint_item(item, WHAT)?;
        match (ep.host, ep.port) {
            (Host::Ip(ip), Some(port)) if port != 0 => out.push(SocketAddr::new(ip, port)),
            (Host::Ip(ip), _) => {
                let example = SocketAddr::new(ip, 9701);
                return err(
                    item.span,
                    format!("`{}` needs a port (e.g. `{example}`)", item.text),
                );
            }
            (Host::Name(_), _) => return mismatch(item, WHAT),
        }
    }
    Ok(out)
}

/// A 32-bit router id, as a number or in dotted IPv4 form.
pub(crate) fn router_id(v: Values<'_>) -> Res<u32> {
    const WHAT: &str = "a router id (a 32-bit number or an IPv4 address)";
    let item = single(v, WHAT)?;
    if let Ok(ip) = item.text.parse::<Ipv4Addr>() {
        return Ok(ip.to_bits());
    }
    if parse_u64(&item.text).is_some() {
        return number_item(item, 0, u64::from(u32::MAX)).map(|n| n as u32);
    }
    mismatch(item, WHAT)
}

pub(crate) fn mac(v: Values<'_>) -> Res<MacAddr> {
    const WHAT: &str = "a MAC address (`11:22:ef:01:a3:b9`)";
    let item = single(v, WHAT)?;
    let parts: Vec<&str> = item.text.split(':').collect();
    let mut out = [0u8; 6];
    if parts.len() != 6 {
        return mismatch(item, WHAT);
    }
    for (o, p) in out.iter_mut().zip(&parts) {
        if p.len() != 2 {
            return mismatch(item, WHAT);
        }
        *o = u8::from_str_radix(p, 16).or_else(|_| mismatch(item, WHAT))?;
    }
    // Linux gives no interface a multicast or the all-zero address (`is_valid_ether_addr`).
    let why = match out {
        [first, ..] if first & 1 != 0 => "a multicast address",
        [0, 0, 0, 0, 0, 0] => "the all-zero address",
        _ => return Ok(MacAddr(out)),
    };
    err(
        item.span,
        format!("`{}` is {why}: expected a unicast MAC address", item.text),
    )
}
