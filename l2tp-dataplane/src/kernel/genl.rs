//! The kernel's generic netlink family `l2tp` (include/uapi/linux/l2tp.h): tunnels and
//! sessions, built with `netlink-packet-l2tp`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;

use netlink_packet_core::NLM_F_CREATE;
use netlink_packet_generic::GenlMessage;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_l2tp::{
    L2tpAttribute, L2tpCmd, L2tpEncapType, L2tpMessage, L2tpPwType, L2tpStatsAttribute,
};
use netlink_sys::protocols::NETLINK_GENERIC;

use super::netlink::Netlink;

/// Encapsulation of a kernel tunnel.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Encap {
    /// UDP (RFC 2661, RFC 3931 §4.1.2).
    Udp,
    /// IP protocol 115 (RFC 3931 §4.1.1).
    Ip,
}

/// A kernel tunnel to create.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct KernelTunnel {
    /// Local tunnel id (the kernel's connection id).
    pub tid: u32,
    /// The peer's tunnel id.
    pub peer_tid: u32,
    /// 2 or 3.
    pub version: u8,
    /// UDP or IP.
    pub encap: Encap,
    /// The tunnel's socket, for a managed tunnel; `None` makes an unmanaged one, whose
    /// socket the kernel opens from `local` and `peer`.
    pub fd: Option<RawFd>,
    /// Local address (and UDP port).
    pub local: SocketAddr,
    /// The peer's address (and UDP port).
    pub peer: SocketAddr,
    /// UDP checksums on transmit (unmanaged IPv4 UDP tunnels; IPv6 always has them).
    pub udp_checksums: bool,
}

/// Pseudowire type of a kernel session.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PwType {
    /// Ethernet (l2tp_eth makes an `l2tpeth` interface).
    Eth,
    /// PPP (l2tp_ppp; the PPPoL2TP socket is connected to it).
    Ppp,
}

/// A kernel session to create.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct KernelSession {
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id.
    pub sid: u32,
    /// The peer's session id.
    pub peer_sid: u32,
    /// Pseudowire type (`None` counts as Ethernet).
    pub pw_type: Option<PwType>,
    /// Interface name (Ethernet).
    pub ifname: Option<String>,
    /// Cookie sent (0, 4 or 8 octets).
    pub cookie: Vec<u8>,
    /// Cookie expected from the peer.
    pub peer_cookie: Vec<u8>,
    /// Default L2-Specific Sublayer (RFC 3931 §4.6) rather than none.
    pub l2spec_default: bool,
    /// Send sequence numbers.
    pub send_seq: bool,
    /// Require sequence numbers on receipt.
    pub recv_seq: bool,
    /// LNS mode (L2TPv2).
    pub lns_mode: bool,
    /// Reorder timeout in milliseconds, 0 for none.
    pub reorder_timeout_ms: u32,
}

/// A session's kernel counters and interface.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct KernelSessionInfo {
    /// The session's interface, when the kernel reports one.
    pub ifname: Option<String>,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Received packets dropped by sequencing.
    pub rx_seq_discards: u64,
    /// Received out of sequence.
    pub rx_oos_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets with a wrong cookie.
    pub rx_cookie_discards: u64,
    /// Received malformed packets.
    pub rx_invalid: u64,
}

/// The message that creates tunnel `t`.
pub fn tunnel_create(t: &KernelTunnel) -> L2tpMessage {
    let mut a = vec![
        L2tpAttribute::ConnId(t.tid),
        L2tpAttribute::PeerConnId(t.peer_tid),
        L2tpAttribute::ProtoVersion(t.version),
        L2tpAttribute::EncapType(match t.encap {
            Encap::Udp => L2tpEncapType::Udp,
            Encap::Ip => L2tpEncapType::Ip,
        }),
    ];
    match t.fd {
        Some(fd) => a.push(L2tpAttribute::Fd(fd)),
        None => {
            match (t.local.ip(), t.peer.ip()) {
                (IpAddr::V4(l), IpAddr::V4(p)) => {
                    a.push(L2tpAttribute::IpSaddr(l));
                    a.push(L2tpAttribute::IpDaddr(p));
                }
                (l, p) => {
                    a.push(L2tpAttribute::Ip6Saddr(v6(l)));
                    a.push(L2tpAttribute::Ip6Daddr(v6(p)));
                }
            }
            if t.encap == Encap::Udp {
                a.push(L2tpAttribute::UdpSport(t.local.port()));
                a.push(L2tpAttribute::UdpDport(t.peer.port()));
                if t.local.is_ipv4() {
                    a.push(L2tpAttribute::UdpCsum(u8::from(t.udp_checksums)));
                }
            }
        }
    }
    L2tpMessage {
        cmd: L2tpCmd::TunnelCreate,
        attributes: a,
    }
}

fn v6(a: IpAddr) -> std::net::Ipv6Addr {
    match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

/// The message that creates session `s`.
pub fn session_create(s: &KernelSession) -> io::Result<L2tpMessage> {
    let invalid = |e: netlink_packet_core::DecodeError| {
        io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
    };
    let mut a = vec![
        L2tpAttribute::ConnId(s.tid),
        L2tpAttribute::SessionId(s.sid),
        L2tpAttribute::PeerSessionId(s.peer_sid),
        L2tpAttribute::PwType(match s.pw_type {
            Some(PwType::Ppp) => L2tpPwType::Ppp,
            _ => L2tpPwType::Eth,
        }),
        L2tpAttribute::L2SpecType(u8::from(s.l2spec_default)),
        L2tpAttribute::SendSeq(u8::from(s.send_seq)),
        L2tpAttribute::RecvSeq(u8::from(s.recv_seq)),
        L2tpAttribute::LnsMode(u8::from(s.lns_mode)),
    ];
    if !s.cookie.is_empty() {
        a.push(L2tpAttribute::cookie(s.cookie.clone()).map_err(invalid)?);
    }
    if !s.peer_cookie.is_empty() {
        a.push(L2tpAttribute::peer_cookie(s.peer_cookie.clone()).map_err(invalid)?);
    }
    if s.reorder_timeout_ms > 0 {
        a.push(L2tpAttribute::RecvTimeout(u64::from(s.reorder_timeout_ms)));
    }
    if let Some(name) = &s.ifname {
        a.push(L2tpAttribute::if_name(name).map_err(invalid)?);
    }
    Ok(L2tpMessage {
        cmd: L2tpCmd::SessionCreate,
        attributes: a,
    })
}

/// A connection to the kernel's `l2tp` family.
#[derive(Debug)]
pub struct L2tpGenl {
    nl: Netlink,
    family: u16,
}

impl L2tpGenl {
    /// Opens a generic netlink socket and resolves the `l2tp` family. Without it (the
    /// `l2tp_netlink` module is not loaded), the error is `NotFound`.
    pub fn open() -> io::Result<Self> {
        let nl = Netlink::open(NETLINK_GENERIC)?;
        let req = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName("l2tp".to_owned())],
        });
        let replies = nl.request(req, 0).map_err(|e| {
            if e.raw_os_error() == Some(nix::libc::ENOENT) {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "the kernel has no generic netlink family l2tp",
                )
            } else {
                e
            }
        })?;
        let family = replies
            .iter()
            .flat_map(|m| m.payload.nlas.iter())
            .find_map(|a| match a {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no l2tp family id"))?;
        Ok(Self { nl, family })
    }

    fn send(&self, m: L2tpMessage, flags: u16) -> io::Result<Vec<L2tpMessage>> {
        let mut g = GenlMessage::from_payload(m);
        g.set_resolved_family_id(self.family);
        Ok(self
            .nl
            .request(g, flags)?
            .into_iter()
            .map(|m| m.payload)
            .collect())
    }

    /// Creates tunnel `t`.
    pub fn create_tunnel(&self, t: &KernelTunnel) -> io::Result<()> {
        self.send(tunnel_create(t), NLM_F_CREATE).map(drop)
    }

    /// Deletes tunnel `tid` and its sessions.
    pub fn delete_tunnel(&self, tid: u32) -> io::Result<()> {
        self.send(
            L2tpMessage {
                cmd: L2tpCmd::TunnelDelete,
                attributes: vec![L2tpAttribute::ConnId(tid)],
            },
            0,
        )
        .map(drop)
    }

    /// Creates session `s`.
    pub fn create_session(&self, s: &KernelSession) -> io::Result<()> {
        self.send(session_create(s)?, NLM_F_CREATE).map(drop)
    }

    /// Deletes session `sid` of tunnel `tid`.
    pub fn delete_session(&self, tid: u32, sid: u32) -> io::Result<()> {
        self.send(
            L2tpMessage {
                cmd: L2tpCmd::SessionDelete,
                attributes: vec![L2tpAttribute::ConnId(tid), L2tpAttribute::SessionId(sid)],
            },
            0,
        )
        .map(drop)
    }

    /// A session's counters and interface name.
    pub fn session_info(&self, tid: u32, sid: u32) -> io::Result<KernelSessionInfo> {
        let replies = self.send(
            L2tpMessage {
                cmd: L2tpCmd::SessionGet,
                attributes: vec![L2tpAttribute::ConnId(tid), L2tpAttribute::SessionId(sid)],
            },
            0,
        )?;
        let m = replies.into_iter().next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("no session {tid}/{sid}"))
        })?;
        Ok(session_info(&m))
    }

    /// The counters of every session in the kernel (in this network namespace), by (tunnel id,
    /// session id): one dump, whatever the number of sessions.
    pub fn session_infos(&self) -> io::Result<Vec<((u32, u32), KernelSessionInfo)>> {
        let mut out = Vec::new();
        self.each_session_info(|ids, info| out.push((ids, info)))?;
        Ok(out)
    }

    /// [`L2tpGenl::session_infos`] one session at a time, as the dump is read: memory for one
    /// batch of the dump, not for every session.
    pub fn each_session_info(
        &self,
        mut each: impl FnMut((u32, u32), KernelSessionInfo),
    ) -> io::Result<()> {
        let mut g = GenlMessage::from_payload(L2tpMessage::new(L2tpCmd::SessionGet));
        g.set_resolved_family_id(self.family);
        self.nl.dump_each(g, |m| {
            let a = &m.payload.attributes;
            let tid = a.iter().find_map(|a| match a {
                L2tpAttribute::ConnId(id) => Some(*id),
                _ => None,
            });
            let sid = a.iter().find_map(|a| match a {
                L2tpAttribute::SessionId(id) => Some(*id),
                _ => None,
            });
            if let (Some(tid), Some(sid)) = (tid, sid) {
                each((tid, sid), session_info(&m.payload));
            }
        })
    }

    /// The connection ids of every tunnel in the kernel (in this network namespace).
    pub fn tunnel_ids(&self) -> io::Result<Vec<u32>> {
        let mut g = GenlMessage::from_payload(L2tpMessage::new(L2tpCmd::TunnelGet));
        g.set_resolved_family_id(self.family);
        Ok(self
            .nl
            .dump(g)?
            .iter()
            .filter_map(|m| {
                m.payload.attributes.iter().find_map(|a| match a {
                    L2tpAttribute::ConnId(id) => Some(*id),
                    _ => None,
                })
            })
            .collect())
    }
}

/// The counters and interface name in a `SESSION_GET` reply.
pub fn session_info(m: &L2tpMessage) -> KernelSessionInfo {
    let mut info = KernelSessionInfo::default();
    for a in &m.attributes {
        match a {
            L2tpAttribute::IfName(n) => info.ifname = Some(n.to_string_lossy().into_owned()),
            L2tpAttribute::Stats(stats) => {
                for s in stats {
                    match s {
                        L2tpStatsAttribute::TxPackets(v) => info.tx_packets = *v,
                        L2tpStatsAttribute::TxBytes(v) => info.tx_bytes = *v,
                        L2tpStatsAttribute::TxErrors(v) => info.tx_errors = *v,
                        L2tpStatsAttribute::RxPackets(v) => info.rx_packets = *v,
                        L2tpStatsAttribute::RxBytes(v) => info.rx_bytes = *v,
                        L2tpStatsAttribute::RxSeqDiscards(v) => info.rx_seq_discards = *v,
                        L2tpStatsAttribute::RxOosPackets(v) => info.rx_oos_packets = *v,
                        L2tpStatsAttribute::RxErrors(v) => info.rx_errors = *v,
                        L2tpStatsAttribute::RxCookieDiscards(v) => info.rx_cookie_discards = *v,
                        L2tpStatsAttribute::RxInvalid(v) => info.rx_invalid = *v,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    info
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload};

    use super::*;
    use crate::kernel::netlink::encode;

    /// (type, payload) of each top-level attribute after the genl header.
    fn attrs(buf: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        let mut p = 16 + 4;
        while p + 4 <= buf.len() {
            let len = u16::from_ne_bytes([buf[p], buf[p + 1]]) as usize;
            let ty = u16::from_ne_bytes([buf[p + 2], buf[p + 3]]) & 0x3fff;
            out.push((ty, buf[p + 4..p + len].to_vec()));
            p += (len + 3) & !3;
        }
        out
    }

    fn wire(m: L2tpMessage, family: u16) -> Vec<u8> {
        let mut g = GenlMessage::from_payload(m);
        g.set_resolved_family_id(family);
        encode(g, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 9)
    }

    fn tunnel() -> KernelTunnel {
        KernelTunnel {
            tid: 0x0102_0304,
            peer_tid: 77,
            version: 3,
            encap: Encap::Udp,
            fd: Some(5),
            local: "192.0.2.1:1701".parse().unwrap(),
            peer: "192.0.2.2:1702".parse().unwrap(),
            udp_checksums: false,
        }
    }

    #[test]
    fn managed_tunnel_create_on_the_wire() {
        let b = wire(tunnel_create(&tunnel()), 0x1d);
        // nlmsghdr: type = the resolved family id, the flags, seq; genlmsghdr: cmd 1, version 1.
        assert_eq!(
            u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize,
            b.len()
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), 0x1d);
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), 0x405);
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 9);
        assert_eq!((b[16], b[17]), (1, 1));
        // L2TP_ATTR_CONN_ID 9, PEER_CONN_ID 10, PROTO_VERSION 7, ENCAP_TYPE 2, FD 23; a managed
        // tunnel carries no addresses.
        assert_eq!(
            attrs(&b),
            vec![
                (9, 0x0102_0304u32.to_ne_bytes().to_vec()),
                (10, 77u32.to_ne_bytes().to_vec()),
                (7, vec![3]),
                (2, 0u16.to_ne_bytes().to_vec()),
                (23, 5u32.to_ne_bytes().to_vec()),
            ]
        );
    }

    #[test]
    fn unmanaged_tunnels_carry_addresses() {
        let mut t = tunnel();
        t.fd = None;
        let a = attrs(&wire(tunnel_create(&t), 0x1d));
        // IP_SADDR 24, IP_DADDR 25 (network order), UDP_SPORT 26, UDP_DPORT 27, UDP_CSUM 13.
        assert!(a.contains(&(24, vec![192, 0, 2, 1])));
        assert!(a.contains(&(25, vec![192, 0, 2, 2])));
        assert!(a.contains(&(26, 1701u16.to_ne_bytes().to_vec())));
        assert!(a.contains(&(27, 1702u16.to_ne_bytes().to_vec())));
        assert!(a.contains(&(13, vec![0])));
        assert!(!a.iter().any(|(ty, _)| *ty == 23));
        // IP encapsulation over IPv6: IP6_SADDR 31, IP6_DADDR 32, no ports.
        t.encap = Encap::Ip;
        t.local = "[2001:db8::1]:0".parse().unwrap();
        t.peer = "[2001:db8::2]:0".parse().unwrap();
        let a = attrs(&wire(tunnel_create(&t), 0x1d));
        assert!(a.contains(&(2, 1u16.to_ne_bytes().to_vec())));
        let v6: std::net::Ipv6Addr = "2001:db8::2".parse().unwrap();
        assert!(a.contains(&(32, v6.octets().to_vec())));
        assert!(!a.iter().any(|(ty, _)| *ty == 26 || *ty == 13));
    }

    #[test]
    fn session_create_on_the_wire() {
        let s = KernelSession {
            tid: 1,
            sid: 2,
            peer_sid: 3,
            pw_type: Some(PwType::Eth),
            ifname: Some("l2tpeth40003".into()),
            cookie: vec![1, 2, 3, 4],
            peer_cookie: vec![5, 6, 7, 8, 9, 10, 11, 12],
            l2spec_default: true,
            send_seq: true,
            recv_seq: false,
            lns_mode: false,
            reorder_timeout_ms: 250,
        };
        let b = wire(session_create(&s).unwrap(), 0x1d);
        assert_eq!(b[16], 5, "L2TP_CMD_SESSION_CREATE");
        let a = attrs(&b);
        // SESSION_ID 11, PEER_SESSION_ID 12, PW_TYPE 1 (ETH = 5), L2SPEC_TYPE 5, SEND_SEQ 19,
        // RECV_SEQ 18, COOKIE 15, PEER_COOKIE 16, RECV_TIMEOUT 22 (ms, u64), IFNAME 8.
        assert!(a.contains(&(11, 2u32.to_ne_bytes().to_vec())));
        assert!(a.contains(&(12, 3u32.to_ne_bytes().to_vec())));
        assert!(a.contains(&(1, 5u16.to_ne_bytes().to_vec())));
        assert!(a.contains(&(5, vec![1])));
        assert!(a.contains(&(19, vec![1])));
        assert!(a.contains(&(18, vec![0])));
        assert!(a.contains(&(15, vec![1, 2, 3, 4])));
        assert!(a.contains(&(16, vec![5, 6, 7, 8, 9, 10, 11, 12])));
        assert!(a.contains(&(22, 250u64.to_ne_bytes().to_vec())));
        let name = a.iter().find(|(ty, _)| *ty == 8).unwrap();
        assert!(name.1.starts_with(b"l2tpeth40003\0"));
        // PPP is type 7; a bad cookie length is refused before anything is sent.
        let ppp = KernelSession {
            pw_type: Some(PwType::Ppp),
            ..s.clone()
        };
        let a = attrs(&wire(session_create(&ppp).unwrap(), 0x1d));
        assert!(a.contains(&(1, 7u16.to_ne_bytes().to_vec())));
        let bad = KernelSession {
            cookie: vec![1, 2, 3],
            ..s
        };
        assert!(session_create(&bad).is_err());
    }

    #[test]
    fn session_get_replies_give_counters() {
        let reply = L2tpMessage {
            cmd: L2tpCmd::SessionGet,
            attributes: vec![
                L2tpAttribute::if_name("pw0").unwrap(),
                L2tpAttribute::Stats(vec![
                    L2tpStatsAttribute::RxPackets(10),
                    L2tpStatsAttribute::RxBytes(1012),
                    L2tpStatsAttribute::TxPackets(7),
                    L2tpStatsAttribute::RxCookieDiscards(2),
                ]),
            ],
        };
        // Through the wire and back, as the kernel's reply would arrive.
        let b = wire(reply, 0x1d);
        let m = NetlinkMessage::<GenlMessage<L2tpMessage>>::deserialize(&b).unwrap();
        let NetlinkPayload::InnerMessage(g) = m.payload else {
            panic!("not a message")
        };
        let i = session_info(&g.payload);
        assert_eq!(i.ifname.as_deref(), Some("pw0"));
        assert_eq!((i.rx_packets, i.rx_bytes, i.tx_packets), (10, 1012, 7));
        assert_eq!(i.rx_cookie_discards, 2);
    }
}
