//! Interface set-up over rtnetlink (`netlink-packet-route`): MTU, MAC address, bridge port,
//! addresses and link up, for the interfaces of kernel sessions.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
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
}
