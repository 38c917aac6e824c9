//! Link events over rtnetlink: a socket subscribed to the multicast group `RTNLGRP_LINK` that
//! reports the interfaces leaving this network namespace
//! (`RTM_DELLINK`): deleted (by `ip link del`, or with their kernel session by
//! `ip l2tp del session`), or moved to another namespace, and those that appear or change
//! (`RTM_NEWLINK`). The kernel data plane watches its sessions' interfaces with it, and both
//! data planes the bridges their sessions' interfaces are ports of.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

/// The receive buffer asked for: link messages come in bursts when many sessions are set up
/// at once (the kernel caps it at `net.core.rmem_max`; an overrun is reported, see
/// [`is_overrun`]).
const RECV_BUFFER: usize = 1 << 20;

/// An interface that left this network namespace.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LinkGone {
    /// Its index.
    pub index: u32,
    /// Its name, when the message had one.
    pub name: Option<String>,
    /// Moved to another network namespace (it still exists there), not deleted.
    pub moved: bool,
}

/// An interface that was made, or changed (`RTM_NEWLINK` of family `AF_UNSPEC`).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LinkNew {
    /// Its index.
    pub index: u32,
    /// Its name.
    pub name: String,
}

/// What a datagram of link notifications says: interfaces gone, and interfaces made or
/// changed, each in the order of the messages.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct LinkEvents {
    /// Interfaces that left this namespace.
    pub gone: Vec<LinkGone>,
    /// Interfaces made or changed.
    pub new: Vec<LinkNew>,
}

/// A socket that receives the kernel's link notifications.
#[derive(Debug)]
pub struct LinkMonitor {
    socket: Socket,
}

impl LinkMonitor {
    /// Opens a rtnetlink socket in the group `RTNLGRP_LINK`. Its reads block: give it a
    /// thread.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind(&SocketAddr::new(0, 0))?;
        socket.add_membership(nix::libc::RTNLGRP_LINK)?;
        // Best effort: the kernel caps it.
        let _ = socket.set_rx_buf_sz(RECV_BUFFER);
        Ok(Self { socket })
    }

    /// Waits for a datagram of notifications and returns the interfaces it says are gone
    /// (often none). See [`is_overrun`] for lost notifications.
    pub fn read(&self) -> io::Result<Vec<LinkGone>> {
        let (buf, _) = self.socket.recv_from_full()?;
        Ok(parse(&buf))
    }

    /// As [`LinkMonitor::read`], with the interfaces made or changed too.
    pub fn read_events(&self) -> io::Result<LinkEvents> {
        let (buf, _) = self.socket.recv_from_full()?;
        Ok(parse_events(&buf))
    }
}

/// Whether a [`LinkMonitor::read`] error means notifications were lost (the socket's buffer
/// overflowed): the caller must check the interfaces it watches some other way.
pub fn is_overrun(e: &io::Error) -> bool {
    e.raw_os_error() == Some(nix::libc::ENOBUFS)
}

impl AsRawFd for LinkMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for LinkMonitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// The interfaces that a datagram of rtnetlink notifications says left this namespace: its
/// `RTM_DELLINK` messages of family `AF_UNSPEC` (a bridge port leaving its bridge gets an
/// `RTM_DELLINK` of family `AF_BRIDGE`, and the interface stays). Other messages are skipped
/// without being decoded.
pub fn parse(buf: &[u8]) -> Vec<LinkGone> {
    walk(buf, false).gone
}

/// The interfaces that a datagram of rtnetlink notifications says left this namespace (as
/// [`parse`]) and those it says were made or changed (`RTM_NEWLINK` of family `AF_UNSPEC`
/// with a name).
pub fn parse_events(buf: &[u8]) -> LinkEvents {
    walk(buf, true)
}

fn walk(buf: &[u8], with_new: bool) -> LinkEvents {
    let mut out = LinkEvents::default();
    let mut offset = 0;
    while let Some(head) = buf.get(offset..offset + 6) {
        let len = u32::from_ne_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = u16::from_ne_bytes([head[4], head[5]]);
        if len < 16 || offset + len > buf.len() {
            break;
        }
        let wanted = kind == nix::libc::RTM_DELLINK || (with_new && kind == nix::libc::RTM_NEWLINK);
        if wanted
            && let Ok(m) =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[offset..offset + len])
        {
            match m.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                    out.gone.extend(gone(&l));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                    out.new.extend(made(&l));
                }
                _ => {}
            }
        }
        offset += (len + 3) & !3;
    }
    out
}

fn made(l: &LinkMessage) -> Option<LinkNew> {
    if l.header.interface_family != AddressFamily::Unspec {
        return None;
    }
    l.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(LinkNew {
            index: l.header.index,
            name: n.clone(),
        }),
        _ => None,
    })
}

fn gone(l: &LinkMessage) -> Option<LinkGone> {
    if l.header.interface_family != AddressFamily::Unspec {
        return None;
    }
    let mut g = LinkGone {
        index: l.header.index,
        name: None,
        moved: false,
    };
    for a in &l.attributes {
        match a {
            LinkAttribute::IfName(n) => g.name = Some(n.clone()),
            LinkAttribute::NewNetnsId(_) => g.moved = true,
            _ => {}
        }
    }
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::netlink::encode;

    fn del_link(index: u32, family: AddressFamily, attrs: Vec<LinkAttribute>) -> Vec<u8> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.interface_family = family;
        m.attributes = attrs;
        encode(RouteNetlinkMessage::DelLink(m), 0, 0)
    }

    #[test]
    fn deleted_and_moved_interfaces_are_told_apart() {
        let mut new = LinkMessage::default();
        new.header.index = 3;
        new.attributes
            .push(LinkAttribute::IfName("l2tpeth0".into()));
        let mut buf = encode(RouteNetlinkMessage::NewLink(new), 0, 0);
        buf.extend(del_link(
            4,
            AddressFamily::Unspec,
            vec![LinkAttribute::IfName("l2tpeth1".into())],
        ));
        // A bridge port leaving its bridge: not gone.
        buf.extend(del_link(
            5,
            AddressFamily::Bridge,
            vec![LinkAttribute::IfName("l2tpeth2".into())],
        ));
        buf.extend(del_link(
            6,
            AddressFamily::Unspec,
            vec![
                LinkAttribute::IfName("l2tpeth3".into()),
                LinkAttribute::NewNetnsId(0),
            ],
        ));
        assert_eq!(
            parse(&buf),
            [
                LinkGone {
                    index: 4,
                    name: Some("l2tpeth1".into()),
                    moved: false
                },
                LinkGone {
                    index: 6,
                    name: Some("l2tpeth3".into()),
                    moved: true
                },
            ]
        );
        // A truncated datagram yields what is whole.
        let cut = del_link(7, AddressFamily::Unspec, vec![]);
        assert!(parse(&cut[..cut.len() - 1]).is_empty());
        assert_eq!(parse(&cut).len(), 1);
    }

    #[test]
    fn made_interfaces_are_reported_with_the_gone_ones() {
        let mut new = LinkMessage::default();
        new.header.index = 3;
        new.attributes.push(LinkAttribute::IfName("br0".into()));
        let mut buf = encode(RouteNetlinkMessage::NewLink(new.clone()), 0, 0);
        buf.extend(del_link(
            4,
            AddressFamily::Unspec,
            vec![LinkAttribute::IfName("br1".into())],
        ));
        // A bridge port's own message (family AF_BRIDGE): not an interface made.
        new.header.interface_family = AddressFamily::Bridge;
        buf.extend(encode(RouteNetlinkMessage::NewLink(new), 0, 0));
        let e = parse_events(&buf);
        assert_eq!(
            e.new,
            [LinkNew {
                index: 3,
                name: "br0".into()
            }]
        );
        assert_eq!(e.gone.len(), 1);
        assert_eq!(parse(&buf), e.gone);
    }

    #[test]
    fn overruns_are_recognised() {
        assert!(is_overrun(&io::Error::from_raw_os_error(
            nix::libc::ENOBUFS
        )));
        assert!(!is_overrun(&io::Error::from(io::ErrorKind::WouldBlock)));
    }
}
