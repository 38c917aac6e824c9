//! Link events over rtnetlink: a socket subscribed to the multicast group `RTNLGRP_LINK` that
//! reports the interfaces leaving this network namespace
//! (`RTM_DELLINK`): deleted (by `ip link del`, or with their kernel session by
//! `ip l2tp del session`), or moved to another namespace. The kernel data plane watches its
//! sessions' interfaces with it.

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
    let mut out = Vec::new();
    let mut offset = 0;
    while let Some(head) = buf.get(offset..offset + 6) {
        let len = u32::from_ne_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = u16::from_ne_bytes([head[4], head[5]]);
        if len < 16 || offset + len > buf.len() {
            break;
        }
        if kind == nix::libc::RTM_DELLINK
            && let Ok(m) =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[offset..offset + len])
            && let NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) = m.payload
            && let Some(gone) = gone(&l)
        {
            out.push(gone);
        }
        offset += (len + 3) & !3;
    }
    out
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
    fn overruns_are_recognised() {
        assert!(is_overrun(&io::Error::from_raw_os_error(
            nix::libc::ENOBUFS
        )));
        assert!(!is_overrun(&io::Error::from(io::ErrorKind::WouldBlock)));
    }
}
