//! Interface set-up over rtnetlink (`netlink-packet-route`): MTU, MAC address, bridge port,
//! addresses and link up, for the interfaces of kernel sessions; and the `ppp` interfaces of
//! native PPP sessions (a unit made from a `/dev/ppp` file, its point-to-point addresses).

use std::io;
use std::net::IpAddr;
use std::os::fd::RawFd;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteMetric, RouteProtocol,
    RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use super::netlink::Netlink;

/// How to set up one interface.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct LinkSetup {
    /// MTU.
    pub mtu: Option<u16>,
    /// MAC address.
    pub mac: Option<[u8; 6]>,
    /// Bridge to enslave the interface to.
    pub bridge: Option<String>,
    /// Local address.
    pub local_ip: Option<IpAddr>,
    /// The peer's address (point-to-point), if any.
    pub peer_ip: Option<IpAddr>,
    /// Prefix length of `local_ip` (from the netmask); the address's full length when `None`.
    pub prefix_len: Option<u8>,
}

/// The prefix length of a netmask such as 255.255.255.0, if it is one.
pub fn prefix_len(netmask: IpAddr) -> Option<u8> {
    let (bits, len) = match netmask {
        IpAddr::V4(m) => (u128::from(u32::from(m)) << 96, 32),
        IpAddr::V6(m) => (u128::from(m), 128),
    };
    let ones = bits.leading_ones();
    (bits.count_ones() == ones && ones <= len).then_some(ones as u8)
}

/// An address with its peer on a point-to-point interface: `IFA_LOCAL` and `IFA_ADDRESS`.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct PeerAddress {
    /// Our address.
    pub local: IpAddr,
    /// The peer's address (of the same family).
    pub peer: IpAddr,
    /// The prefix length: the kernel routes this prefix of `peer` through the interface.
    pub prefix_len: u8,
}

/// `IFLA_PPP_DEV_FD` (linux/if_link.h), the one attribute of a `ppp` link's `IFLA_INFO_DATA`.
const IFLA_PPP_DEV_FD: u16 = 1;

/// A connection to rtnetlink.
#[derive(Debug)]
pub struct Rtnl {
    nl: Netlink,
}

/// The `RTM_SETLINK` message for interface `index`.
pub fn set_link_message(index: u32, setup: &LinkSetup, master: Option<u32>) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    if let Some(mtu) = setup.mtu {
        m.attributes.push(LinkAttribute::Mtu(u32::from(mtu)));
    }
    if let Some(mac) = setup.mac {
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    if let Some(master) = master {
        m.attributes.push(LinkAttribute::Controller(master));
    }
    m
}

/// The `RTM_NEWADDR` message giving interface `index` its address, if `setup` has one.
pub fn address_message(index: u32, setup: &LinkSetup) -> Option<AddressMessage> {
    let local = setup.local_ip?;
    let mut m = AddressMessage::default();
    m.header.family = if local.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.prefix_len = setup
        .prefix_len
        .unwrap_or(if local.is_ipv4() { 32 } else { 128 });
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(local));
    m.attributes
        .push(AddressAttribute::Address(setup.peer_ip.unwrap_or(local)));
    Some(m)
}

/// The `RTM_NEWADDR` or `RTM_DELADDR` message of address `a` on interface `index`. An IPv6
/// address is added without duplicate address detection (`IFA_F_NODAD`): on these
/// point-to-point interfaces IPv6CP made the identifiers unique (RFC 5072 §4.1), and an
/// address still tentative could not be a route's source at once.
pub fn peer_address_message(index: u32, a: &PeerAddress) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = if a.local.is_ipv4() {
        AddressFamily::Inet
    } else {
        m.header.flags = AddressHeaderFlags::Nodad;
        AddressFamily::Inet6
    };
    m.header.prefix_len = a.prefix_len;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(a.local));
    m.attributes.push(AddressAttribute::Address(a.peer));
    m
}

/// The `RTM_NEWROUTE` message of a route to `dst`/`len` through interface `index`: the main
/// table, protocol static, link scope for IPv4 (universe for IPv6, as `ip -6 route` makes
/// them). `dst` is taken with its host bits cleared.
pub fn route_message(index: u32, dst: IpAddr, len: u8) -> RouteMessage {
    let (family, scope, dst, len) = match dst {
        IpAddr::V4(a) => {
            let len = len.min(32);
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (
                AddressFamily::Inet,
                RouteScope::Link,
                IpAddr::V4((u32::from(a) & mask).into()),
                len,
            )
        }
        IpAddr::V6(a) => {
            let len = len.min(128);
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (
                AddressFamily::Inet6,
                RouteScope::Universe,
                IpAddr::V6((u128::from(a) & mask).into()),
                len,
            )
        }
    };
    let mut m = RouteMessage::default();
    m.header.address_family = family;
    m.header.destination_prefix_length = len;
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Static;
    m.header.scope = scope;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(dst)));
    m.attributes.push(RouteAttribute::Oif(index));
    m
}

/// The `RTM_NEWLINK` message making PPP interface `name` of the unit that `/dev/ppp` file
/// `ppp_fd` (a descriptor of the sending process, still unattached) becomes (kind `ppp`,
/// `IFLA_PPP_DEV_FD`). The kernel names the interface `name` at once: no rename, no clash
/// with the `pppN` names of other units.
pub fn ppp_message(name: &str, ppp_fd: RawFd) -> LinkMessage {
    let mut data = Vec::with_capacity(8);
    data.extend_from_slice(&8u16.to_ne_bytes());
    data.extend_from_slice(&IFLA_PPP_DEV_FD.to_ne_bytes());
    data.extend_from_slice(&ppp_fd.to_ne_bytes());
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_owned()));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Other("ppp".into())),
        LinkInfo::Data(InfoData::Other(data)),
    ]));
    m
}

/// The `RTM_NEWLINK` message making VLAN interface `name` with id `vid` on interface `parent`
/// (802.1Q: frames sent through it are tagged on the parent, tagged frames received on the
/// parent are untagged into it).
pub fn vlan_message(name: &str, parent: u32, vid: u16) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_owned()));
    m.attributes.push(LinkAttribute::Link(parent));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Vlan),
        LinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(vid)])),
    ]));
    m
}

/// The `RTM_NEWROUTE` or `RTM_DELROUTE` message of a host route (/32, or /128 for IPv6) to
/// `dst` through interface `index`, in the main table; with `src` as the preferred source and
/// `mtu` as its MTU when adding.
pub fn host_route_message(
    index: u32,
    dst: IpAddr,
    src: Option<IpAddr>,
    mtu: Option<u16>,
) -> RouteMessage {
    let mut m = RouteMessage::default();
    let (family, len, scope) = match dst {
        IpAddr::V4(_) => (AddressFamily::Inet, 32, RouteScope::Link),
        IpAddr::V6(_) => (AddressFamily::Inet6, 128, RouteScope::Universe),
    };
    m.header.address_family = family;
    m.header.destination_prefix_length = len;
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Static;
    m.header.scope = scope;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Destination(RouteAddress::from(dst)));
    m.attributes.push(RouteAttribute::Oif(index));
    if let Some(src) = src {
        m.attributes
            .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
    }
    if let Some(mtu) = mtu {
        m.attributes
            .push(RouteAttribute::Metrics(vec![RouteMetric::Mtu(u32::from(
                mtu,
            ))]));
    }
    m
}

impl Rtnl {
    /// Opens a rtnetlink socket.
    pub fn open() -> io::Result<Self> {
        Ok(Self {
            nl: Netlink::open(NETLINK_ROUTE)?,
        })
    }

    /// The index of interface `name`.
    pub fn index(&self, name: &str) -> io::Result<u32> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_owned()));
        self.nl
            .request(RouteNetlinkMessage::GetLink(m), 0)?
            .into_iter()
            .find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}")))
    }

    /// Whether interface `index` exists in this network namespace.
    pub fn exists(&self, index: u32) -> io::Result<bool> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        match self.nl.request(RouteNetlinkMessage::GetLink(m), 0) {
            Ok(r) => Ok(r
                .iter()
                .any(|r| matches!(r, RouteNetlinkMessage::NewLink(l) if l.header.index == index))),
            Err(e) if e.raw_os_error() == Some(nix::libc::ENODEV) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets up interface `name` as `setup` says, and brings it up.
    pub fn setup(&self, name: &str, setup: &LinkSetup) -> io::Result<()> {
        let index = self.index(name)?;
        let master = match &setup.bridge {
            Some(b) => Some(self.index(b)?),
            None => None,
        };
        self.nl.request(
            RouteNetlinkMessage::SetLink(set_link_message(index, setup, master)),
            0,
        )?;
        if let Some(a) = address_message(index, setup) {
            self.nl.request(
                RouteNetlinkMessage::NewAddress(a),
                NLM_F_CREATE | NLM_F_EXCL,
            )?;
        }
        Ok(())
    }

    /// Makes interface `index` a port of bridge `bridge` (the index of a bridge), and up.
    pub fn set_master(&self, index: u32, bridge: u32) -> io::Result<()> {
        let m = set_link_message(index, &LinkSetup::default(), Some(bridge));
        self.nl.request(RouteNetlinkMessage::SetLink(m), 0)?;
        Ok(())
    }

    /// Makes VLAN interface `name` with id `vid` on interface `parent`.
    pub fn add_vlan(&self, parent: &str, name: &str, vid: u16) -> io::Result<()> {
        let parent = self.index(parent)?;
        self.nl
            .request(
                RouteNetlinkMessage::NewLink(vlan_message(name, parent, vid)),
                NLM_F_CREATE | NLM_F_EXCL,
            )
            .map(drop)
    }

    /// Makes PPP interface `name` for the `/dev/ppp` file `ppp_fd` ([`ppp_message`]), down.
    /// The kernel refuses with `EBUSY` while another process holds the PPP lock: callers
    /// retry.
    pub fn add_ppp(&self, name: &str, ppp_fd: RawFd) -> io::Result<()> {
        self.nl
            .request(
                RouteNetlinkMessage::NewLink(ppp_message(name, ppp_fd)),
                NLM_F_CREATE | NLM_F_EXCL,
            )
            .map(drop)
    }

    /// Sets interface `index` up or down, and its MTU when given.
    pub fn set_state(&self, index: u32, up: bool, mtu: Option<u16>) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = if up {
            LinkFlags::Up
        } else {
            LinkFlags::empty()
        };
        m.header.change_mask = LinkFlags::Up;
        if let Some(mtu) = mtu {
            m.attributes.push(LinkAttribute::Mtu(u32::from(mtu)));
        }
        self.nl
            .request(RouteNetlinkMessage::SetLink(m), 0)
            .map(drop)
    }

    /// Gives interface `index` address `a` (replacing one with the same local address).
    pub fn add_address(&self, index: u32, a: &PeerAddress) -> io::Result<()> {
        self.nl
            .request(
                RouteNetlinkMessage::NewAddress(peer_address_message(index, a)),
                NLM_F_CREATE | NLM_F_REPLACE,
            )
            .map(drop)
    }

    /// Routes `dst`/`len` through interface `index` (replacing a route to the same prefix).
    pub fn add_route(&self, index: u32, dst: IpAddr, len: u8) -> io::Result<()> {
        self.nl
            .request(
                RouteNetlinkMessage::NewRoute(route_message(index, dst, len)),
                NLM_F_CREATE | NLM_F_REPLACE,
            )
            .map(drop)
    }

    /// Takes address `a` off interface `index`.
    pub fn delete_address(&self, index: u32, a: &PeerAddress) -> io::Result<()> {
        self.nl
            .request(
                RouteNetlinkMessage::DelAddress(peer_address_message(index, a)),
                0,
            )
            .map(drop)
    }

    /// Routes `dst` (/32 or /128) through interface `index`, `src` its preferred source and
    /// `mtu` its MTU, replacing a route to `dst` there was.
    pub fn replace_route(&self, index: u32, dst: IpAddr, src: IpAddr, mtu: u16) -> io::Result<()> {
        self.nl
            .request(
                RouteNetlinkMessage::NewRoute(host_route_message(index, dst, Some(src), Some(mtu))),
                NLM_F_CREATE | NLM_F_REPLACE,
            )
            .map(drop)
    }

    /// Deletes the route to `dst` (/32 or /128) through interface `index`.
    pub fn delete_route(&self, index: u32, dst: IpAddr) -> io::Result<()> {
        self.nl
            .request(
                RouteNetlinkMessage::DelRoute(host_route_message(index, dst, None, None)),
                0,
            )
            .map(drop)
    }

    /// Deletes interface `index`.
    pub fn delete_index(&self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        self.nl
            .request(RouteNetlinkMessage::DelLink(m), 0)
            .map(drop)
    }

    /// Deletes interface `name`.
    pub fn delete(&self, name: &str) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = self.index(name)?;
        self.nl
            .request(RouteNetlinkMessage::DelLink(m), 0)
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};

    use super::*;
    use crate::kernel::netlink::encode;

    #[test]
    fn netmasks_give_prefix_lengths() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), Some(24));
        assert_eq!(prefix_len("255.255.255.255".parse().unwrap()), Some(32));
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), Some(0));
        assert_eq!(prefix_len("255.0.255.0".parse().unwrap()), None);
        assert_eq!(prefix_len("ffff:ffff::".parse().unwrap()), Some(32));
    }

    #[test]
    fn set_link_and_new_address_on_the_wire() {
        let setup = LinkSetup {
            mtu: Some(1400),
            mac: Some([2, 0, 0, 0, 0, 2]),
            bridge: Some("br0".into()),
            local_ip: Some("198.51.100.1".parse().unwrap()),
            peer_ip: None,
            prefix_len: Some(24),
        };
        let b = encode(
            RouteNetlinkMessage::SetLink(set_link_message(7, &setup, Some(3))),
            NLM_F_REQUEST | NLM_F_ACK,
            1,
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 19, "RTM_SETLINK");
        // ifinfomsg: index 7, flags IFF_UP, change IFF_UP.
        assert_eq!(u32::from_ne_bytes(b[20..24].try_into().unwrap()), 7);
        assert_eq!(u32::from_ne_bytes(b[24..28].try_into().unwrap()), 1);
        assert_eq!(u32::from_ne_bytes(b[28..32].try_into().unwrap()), 1);
        let rest = &b[32..];
        // IFLA_MTU 4, IFLA_ADDRESS 1, IFLA_MASTER 10.
        let find = |ty: u16| {
            let mut p = 0;
            while p + 4 <= rest.len() {
                let len = u16::from_ne_bytes([rest[p], rest[p + 1]]) as usize;
                if u16::from_ne_bytes([rest[p + 2], rest[p + 3]]) == ty {
                    return Some(rest[p + 4..p + len].to_vec());
                }
                p += (len + 3) & !3;
            }
            None
        };
        assert_eq!(find(4), Some(1400u32.to_ne_bytes().to_vec()));
        assert_eq!(find(1), Some(vec![2, 0, 0, 0, 0, 2]));
        assert_eq!(find(10), Some(3u32.to_ne_bytes().to_vec()));

        let a = address_message(7, &setup).unwrap();
        let b = encode(
            RouteNetlinkMessage::NewAddress(a),
            NLM_F_REQUEST | NLM_F_ACK,
            2,
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 20, "RTM_NEWADDR");
        // ifaddrmsg: family AF_INET, prefix 24, index 7; IFA_LOCAL 2 and IFA_ADDRESS 1.
        assert_eq!((b[16], b[17]), (2, 24));
        assert_eq!(u32::from_ne_bytes(b[20..24].try_into().unwrap()), 7);
        assert!(b.windows(4).any(|w| w == [198, 51, 100, 1]));
        assert!(address_message(7, &LinkSetup::default()).is_none());
    }

    #[test]
    fn vlan_on_the_wire() {
        let b = encode(
            RouteNetlinkMessage::NewLink(vlan_message("l2tpeth0.100", 4, 100)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            3,
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 16, "RTM_NEWLINK");
        // IFLA_IFNAME 3, IFLA_LINK 5, IFLA_LINKINFO 18 { IFLA_INFO_KIND 1 "vlan",
        // IFLA_INFO_DATA 2 { IFLA_VLAN_ID 1: 100 } }.
        assert!(b.windows(13).any(|w| w == b"l2tpeth0.100\0"));
        assert!(
            b.windows(8)
                .any(|w| w[..4] == [8, 0, 5, 0] && w[4..] == 4u32.to_ne_bytes())
        );
        assert!(b.windows(5).any(|w| w == b"vlan\0"));
        assert!(
            b.windows(6)
                .any(|w| w[..4] == [6, 0, 1, 0] && w[4..] == 100u16.to_ne_bytes())
        );
    }

    #[test]
    fn routes_on_the_wire() {
        let b = encode(
            RouteNetlinkMessage::NewRoute(route_message(7, "2001:db8:100::9".parse().unwrap(), 56)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            6,
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 24, "RTM_NEWROUTE");
        // rtmsg: AF_INET6, dst_len 56, src_len 0, tos 0, table main, protocol static (4),
        // scope universe (0), type unicast (1).
        assert_eq!(&b[16..24], &[10, 56, 0, 0, 254, 4, 0, 1]);
        // RTA_DST (1) with the host bits cleared, RTA_OIF (4) 7.
        let dst: std::net::Ipv6Addr = "2001:db8:100::".parse().unwrap();
        let rta_dst = [&20u16.to_ne_bytes()[..], &1u16.to_ne_bytes(), &dst.octets()].concat();
        assert!(b.windows(20).any(|w| w == rta_dst), "{b:?}");
        let oif = [
            &8u16.to_ne_bytes()[..],
            &4u16.to_ne_bytes(),
            &7u32.to_ne_bytes(),
        ]
        .concat();
        assert!(b.windows(8).any(|w| w == oif), "{b:?}");
        let b = encode(
            RouteNetlinkMessage::NewRoute(route_message(7, "198.51.100.77".parse().unwrap(), 29)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            7,
        );
        // AF_INET, /29, link scope (253); 198.51.100.72.
        assert_eq!((b[16], b[17], b[22]), (2, 29, 253));
        let rta_dst = [
            &8u16.to_ne_bytes()[..],
            &1u16.to_ne_bytes(),
            &[198, 51, 100, 72],
        ]
        .concat();
        assert!(b.windows(8).any(|w| w == rta_dst), "{b:?}");
    }

    #[test]
    fn ppp_link_and_peer_addresses_on_the_wire() {
        let b = encode(
            RouteNetlinkMessage::NewLink(ppp_message("ppp7", 9)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            4,
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 16, "RTM_NEWLINK");
        assert!(b.windows(5).any(|w| w == b"ppp7\0"));
        // IFLA_LINKINFO { IFLA_INFO_KIND "ppp", IFLA_INFO_DATA { IFLA_PPP_DEV_FD: 9 } }.
        assert!(
            b.windows(8)
                .any(|w| w[..4] == [8, 0, 1, 0] && w[4..] == b"ppp\0"[..])
        );
        let data = [
            &12u16.to_ne_bytes()[..],
            &2u16.to_ne_bytes(),
            &8u16.to_ne_bytes(),
            &1u16.to_ne_bytes(),
            &9i32.to_ne_bytes(),
        ]
        .concat();
        assert!(b.windows(12).any(|w| w == data), "{b:?}");

        let a = PeerAddress {
            local: "fe80::1".parse().unwrap(),
            peer: "fe80::2".parse().unwrap(),
            prefix_len: 64,
        };
        let b = encode(
            RouteNetlinkMessage::DelAddress(peer_address_message(3, &a)),
            NLM_F_REQUEST | NLM_F_ACK,
            5,
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 21, "RTM_DELADDR");
        // ifaddrmsg: AF_INET6, prefix 64, index 3; IFA_LOCAL (2) fe80::1, IFA_ADDRESS (1)
        // fe80::2.
        assert_eq!((b[16], b[17]), (10, 64));
        assert_eq!(u32::from_ne_bytes(b[20..24].try_into().unwrap()), 3);
        let attr = |ty: u16, ip: &str| {
            let ip: std::net::Ipv6Addr = ip.parse().unwrap();
            [&20u16.to_ne_bytes()[..], &ty.to_ne_bytes(), &ip.octets()].concat()
        };
        assert!(b.windows(20).any(|w| w == attr(2, "fe80::1")));
        assert!(b.windows(20).any(|w| w == attr(1, "fe80::2")));
    }
}
