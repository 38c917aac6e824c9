//! Encapsulation and decapsulation of the data messages of a PPP session: L2TPv2 (RFC 2661
//! §3.1) over UDP, and L2TPv3 PPP pseudowires (pseudowire type 7) over UDP or IP (RFC 3931
//! §4.1, with cookies and the Default L2-Specific Sublayer of §4.6). No I/O: the data path hands
//! in buffers, so everything here is unit-tested and fuzzed without privileges.
//!
//! What is sent: an IP packet behind the PPP header the peer allows ([`Framing`]: `FF 03` left
//! out with ACFC, a one-octet Protocol field with PFC), behind the session header; a control
//! frame from the PPP link as it is (it starts with `FF 03`). The L2TPv2 header has no Length
//! field, no offset and no priority, and Ns (Nr 0) only when the packet is numbered, as the
//! kernel's L2TP writes it. Whether a packet is numbered is the caller's (an L2TPv2 LAC
//! follows its LNS, RFC 2661 §5.4): each call takes the sequence number, or `None`. What is received: every header form a peer may send (L bit,
//! S bit, an offset pad, the P bit; a cookie and a sublayer as negotiated), then
//! [`judge`] decides what the PPP frame is and whether it may reach the TUN.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use l2tp_proto::wire::header::{
    Cookie, DataError, DefaultSublayer, Encapsulation, L2SpecificSublayer, Packet,
    SUBLAYER_SEQUENCE_MASK, V3DataHeader, Version,
};
use ppp_proto::wire::{FrameKind, Framing, classify, protocol};

use crate::codec::{RxDrop, RxSequence};
use crate::ppp::routes::link_local_id;

/// The longest header [`PppCodec::encap_ip`] writes in front of an IP packet: an L2TPv3 session
/// header over UDP with an 8-octet cookie and the sublayer (20), and a full PPP header (4).
pub const PPP_HEADROOM: usize = 24;

/// The L2TPv2 Ns and Nr fields are 16 bits wide (RFC 2661 §3.1).
pub const V2_SEQUENCE_MASK: u32 = 0xffff;

/// L2TPv2 header flags (RFC 2661 §3.1): S (Ns and Nr present) and Ver 2.
const V2_FLAG_S: u16 = 0x0800;
const V2_VERSION: u16 = 0x0002;

/// The L2TP side of a PPP session.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PppL2tp {
    /// An L2TPv2 session (over UDP only), named by the peer's tunnel and session ids.
    V2 {
        /// The peer's tunnel id, written into every packet we send.
        peer_tid: u16,
        /// The peer's session id.
        peer_sid: u16,
    },
    /// An L2TPv3 PPP pseudowire.
    V3 {
        /// The peer's session id (never 0).
        peer_sid: u32,
        /// The cookie we send.
        cookie: Cookie,
        /// The cookie we expect; packets with another are dropped (RFC 3931 §8.2).
        peer_cookie: Cookie,
        /// The L2-Specific Sublayer, both ways.
        l2spec: L2SpecificSublayer,
    },
}

/// Everything that shapes a PPP session's data messages.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct PppCodecSpec {
    /// UDP or IP (L2TPv3 only).
    pub encap: Encapsulation,
    /// The version and its ids.
    pub l2tp: PppL2tp,
    /// Number the packets we send, at first (the peer asked for sequencing): Ns in L2TPv2,
    /// the sublayer's sequence number in L2TPv3 (which needs the default sublayer).
    pub send_seq: bool,
    /// Require numbered packets on receipt; drop out-of-order and duplicate ones.
    pub recv_seq: bool,
}

impl PppCodecSpec {
    /// The spec of a PPP session of L2TP `version` over `encap`: the peer's tunnel and session
    /// ids, the cookies (the one we send, the one we expect), the L2-Specific Sublayer and
    /// sequencing (send, receive). Why not, when the ids do not fit L2TPv2's 16 bits, or
    /// L2TPv3 sequencing lacks the default sublayer that carries its numbers.
    pub fn session(
        (version, encap): (Version, Encapsulation),
        (peer_tid, peer_sid): (u32, u32),
        (cookie, peer_cookie): (Cookie, Cookie),
        l2spec: L2SpecificSublayer,
        (send_seq, recv_seq): (bool, bool),
    ) -> Result<Self, &'static str> {
        let l2tp = match version {
            Version::V2 => {
                let (Ok(peer_tid), Ok(peer_sid)) =
                    (u16::try_from(peer_tid), u16::try_from(peer_sid))
                else {
                    return Err("L2TPv2 tunnel and session ids are 16 bits");
                };
                PppL2tp::V2 { peer_tid, peer_sid }
            }
            Version::V3 => {
                if (send_seq || recv_seq) && l2spec != L2SpecificSublayer::Default {
                    return Err("sequencing needs the default L2-Specific Sublayer");
                }
                PppL2tp::V3 {
                    peer_sid,
                    cookie,
                    peer_cookie,
                    l2spec,
                }
            }
        };
        Ok(Self {
            encap,
            l2tp,
            send_seq,
            recv_seq,
        })
    }
}

/// A PPP session's encapsulation: immutable, shared by every data-path thread (the sequence
/// numbers it writes are the caller's, the receive window the receiver's).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct PppCodec {
    spec: PppCodecSpec,
    /// The session header's length, unnumbered.
    header_len: u8,
}

impl PppCodec {
    /// The codec of `spec`.
    pub fn new(spec: PppCodecSpec) -> Self {
        let header_len = match spec.l2tp {
            PppL2tp::V2 { .. } => 6,
            PppL2tp::V3 { cookie, l2spec, .. } => {
                let prefix = if spec.encap == Encapsulation::Udp {
                    8
                } else {
                    4
                };
                let sublayer = if l2spec == L2SpecificSublayer::Default {
                    4
                } else {
                    0
                };
                prefix + cookie.len() + sublayer
            }
        };
        Self {
            spec,
            header_len: header_len as u8,
        }
    }

    /// What it was made from.
    pub fn spec(&self) -> &PppCodecSpec {
        &self.spec
    }

    /// Octets of the L2TP session header it writes (over UDP, without the UDP header), for a
    /// packet that is `numbered` or not (Ns and Nr take 4 octets in L2TPv2; the L2TPv3 sublayer
    /// is there either way).
    pub fn header_len(&self, numbered: bool) -> usize {
        let ns_nr = match self.spec.l2tp {
            PppL2tp::V2 { .. } if numbered => 4,
            _ => 0,
        };
        usize::from(self.header_len) + ns_nr
    }

    /// The mask of the sequence numbers it can write: 16 bits for L2TPv2, 24 for the L2TPv3
    /// sublayer; `None` for an L2TPv3 session without one. A sender takes the next number from
    /// a counter and masks it.
    pub fn sequence_mask(&self) -> Option<u32> {
        match self.spec.l2tp {
            PppL2tp::V2 { .. } => Some(V2_SEQUENCE_MASK),
            PppL2tp::V3 {
                l2spec: L2SpecificSublayer::Default,
                ..
            } => Some(SUBLAYER_SEQUENCE_MASK),
            PppL2tp::V3 { .. } => None,
        }
    }

    /// A receive window for this session's packets.
    pub fn rx_sequence(&self) -> RxSequence {
        match self.spec.l2tp {
            PppL2tp::V2 { .. } => RxSequence::with_mask(self.spec.recv_seq, V2_SEQUENCE_MASK),
            PppL2tp::V3 { .. } => RxSequence::new(self.spec.recv_seq),
        }
    }

    /// Octets [`PppCodec::encap_ip`] puts in front of an IP packet.
    pub fn overhead(&self, framing: Framing, v6: bool, numbered: bool) -> usize {
        let proto = if v6 { protocol::IPV6 } else { protocol::IPV4 };
        self.header_len(numbered) + framing.header_len(proto)
    }

    /// Writes the session header so that it ends at `end` of `buf` (there must be
    /// [`PppCodec::header_len`] octets before it), numbered `ns` if given. Returns where it
    /// starts.
    pub fn write_header(&self, ns: Option<u32>, buf: &mut [u8], end: usize) -> usize {
        let begin = end - self.header_len(ns.is_some());
        let h = &mut buf[begin..end];
        match self.spec.l2tp {
            PppL2tp::V2 { peer_tid, peer_sid } => {
                // RFC 2661 §3.1: T = 0 (data), no Length, no offset, P = 0; Ns when numbered,
                // and Nr, reserved in data messages, 0.
                let flags = V2_VERSION | if ns.is_some() { V2_FLAG_S } else { 0 };
                h[0..2].copy_from_slice(&flags.to_be_bytes());
                h[2..4].copy_from_slice(&peer_tid.to_be_bytes());
                h[4..6].copy_from_slice(&peer_sid.to_be_bytes());
                if let Some(ns) = ns {
                    h[6..8].copy_from_slice(&((ns & V2_SEQUENCE_MASK) as u16).to_be_bytes());
                    h[8..10].copy_from_slice(&[0, 0]);
                }
            }
            PppL2tp::V3 {
                peer_sid,
                cookie,
                l2spec,
                ..
            } => {
                let mut at = 0;
                if self.spec.encap == Encapsulation::Udp {
                    // RFC 3931 §4.1.2.1: T = 0, Ver = 3, reserved bits 0.
                    h[0..4].copy_from_slice(&[0, 3, 0, 0]);
                    at = 4;
                }
                h[at..at + 4].copy_from_slice(&peer_sid.to_be_bytes());
                at += 4;
                h[at..at + cookie.len()].copy_from_slice(cookie.as_bytes());
                at += cookie.len();
                if l2spec == L2SpecificSublayer::Default {
                    let sublayer = DefaultSublayer {
                        sequenced: ns.is_some(),
                        sequence: ns.unwrap_or(0) & SUBLAYER_SEQUENCE_MASK,
                    };
                    h[at..at + 4].copy_from_slice(&sublayer.to_bytes());
                }
            }
        }
        begin
    }

    /// Encapsulates the IP packet at `buf[packet]` (IPv6 when `v6`): its PPP header as
    /// `framing` allows, then the session header numbered `ns` if given, written in front of it
    /// (`packet.start` must be at least [`PppCodec::overhead`]). Returns the L2TP packet's range.
    pub fn encap_ip(
        &self,
        ns: Option<u32>,
        framing: Framing,
        v6: bool,
        buf: &mut [u8],
        packet: Range<usize>,
    ) -> Range<usize> {
        let proto = if v6 { protocol::IPV6 } else { protocol::IPV4 };
        let ppp = packet.start - framing.header_len(proto);
        // The slice is exactly as long as the header.
        let _ = framing.write_header(proto, &mut buf[ppp..packet.start]);
        self.write_header(ns, buf, ppp)..packet.end
    }

    /// Encapsulates a PPP frame from the link (`FF 03`, Protocol, information) at
    /// `buf[frame]`, numbered `ns` if given. Returns the L2TP packet's range.
    pub fn encap_frame(
        &self,
        ns: Option<u32>,
        buf: &mut [u8],
        frame: Range<usize>,
    ) -> Range<usize> {
        self.write_header(ns, buf, frame.start)..frame.end
    }

    /// Checks a data packet of this session, as [`Packet::parse`] classified it (an
    /// [`Packet::V2Data`] or [`Packet::V3Data`] whose ids named this session): the cookie, the
    /// sublayer and the sequence number against `rx`. Returns the PPP frame, a suffix of the
    /// datagram.
    pub fn decap<'a>(&self, rx: &mut RxSequence, packet: Packet<'a>) -> Result<&'a [u8], RxDrop> {
        match (packet, self.spec.l2tp) {
            (Packet::V2Data { header, payload }, PppL2tp::V2 { .. }) => {
                // RFC 2661 §5.8: with sequencing, Ns orders the data messages; Nr is
                // reserved and ignored.
                let sublayer = header.sequence.map(|(ns, _)| DefaultSublayer {
                    sequenced: true,
                    sequence: u32::from(ns),
                });
                rx.check(sublayer)?;
                Ok(payload)
            }
            (
                Packet::V3Data { session_id, rest },
                PppL2tp::V3 {
                    peer_cookie,
                    l2spec,
                    ..
                },
            ) => {
                let (header, frame) = V3DataHeader::parse(session_id, rest, peer_cookie, l2spec)
                    .map_err(|e| match e {
                        DataError::CookieMismatch => RxDrop::CookieMismatch,
                        _ => RxDrop::Truncated,
                    })?;
                rx.check(header.sublayer)?;
                Ok(frame)
            }
            _ => Err(RxDrop::Truncated),
        }
    }
}

/// What a native-PPP session carries now, as the data path reads it on every packet: the
/// peer's IPv4 address once IPCP is up, the peer's interface identifier once IPv6CP is up
/// (packets to its address, or to its link-local address `fe80::<id>`, are routed into the
/// session; packets from the session must come from it), and the framing the peer allows.
/// Packed into two `u64`s ([`NetState::pack`]) so that the data-path threads read it with
/// relaxed loads.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct NetState {
    /// The peer's IPv4 address, while IPv4 is carried.
    pub peer_ipv4: Option<Ipv4Addr>,
    /// The peer's interface identifier, while IPv6 is carried.
    pub peer_ifid: Option<u64>,
    /// Leave out `FF 03` and shorten the Protocol field on IP packets to the peer.
    pub framing: Framing,
}

const NET_IPV4: u64 = 1 << 32;
const NET_ACFC: u64 = 1 << 33;
const NET_PFC: u64 = 1 << 34;
const NET_IPV6: u64 = 1 << 35;

impl NetState {
    /// The state in two words: the flags with the IPv4 address, and the interface identifier.
    pub fn pack(self) -> (u64, u64) {
        let mut w = 0;
        if let Some(a) = self.peer_ipv4 {
            w |= u64::from(u32::from(a)) | NET_IPV4;
        }
        if self.peer_ifid.is_some() {
            w |= NET_IPV6;
        }
        if self.framing.acfc {
            w |= NET_ACFC;
        }
        if self.framing.pfc {
            w |= NET_PFC;
        }
        (w, self.peer_ifid.unwrap_or(0))
    }

    /// The state [`NetState::pack`] packed.
    pub fn unpack(w: u64, ifid: u64) -> Self {
        Self {
            peer_ipv4: (w & NET_IPV4 != 0).then(|| Ipv4Addr::from(w as u32)),
            peer_ifid: (w & NET_IPV6 != 0).then_some(ifid),
            framing: Framing {
                acfc: w & NET_ACFC != 0,
                pfc: w & NET_PFC != 0,
            },
        }
    }
}

/// What to do with a PPP frame received on a native-PPP session.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Inbound {
    /// An IP packet (IPv4 from the peer's address, or IPv6 from the peer's link-local
    /// address), at this range of the frame: to the TUN.
    Ip(Range<usize>),
    /// A control frame (LCP, authentication, IPCP, IPv6CP, any other protocol): to the
    /// control plane, which answers it or rejects its protocol.
    Control,
    /// Dropped, and why.
    Drop(InboundDrop),
}

/// Why a received PPP frame is dropped.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum InboundDrop {
    /// An IP packet whose source is not the peer's address: for IPv4 the address the peer was
    /// given, for IPv6 its link-local address `fe80::<id>` (anti-spoofing).
    Spoofed(IpAddr),
    /// IPv4 while IPCP is not Opened, IPv6 while IPv6CP is not (RFC 1661 §3.5).
    NotCarried(IpVersion),
    /// A frame whose PPP header is invalid (RFC 1661 §2, RFC 1662 §3.1), or an IP packet too
    /// short for its header.
    Invalid,
}

/// Which IP a frame carries.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum IpVersion {
    /// IPv4, carried once IPCP is Opened.
    V4,
    /// IPv6, carried once IPv6CP is Opened.
    V6,
}

/// Judges a received PPP frame against what the session carries now.
pub fn judge(frame: &[u8], net: NetState) -> Inbound {
    match classify(frame) {
        FrameKind::Ipv4 { offset } => {
            let Some(peer) = net.peer_ipv4 else {
                // RFC 1661 §3.5: packets of a network protocol whose NCP is not Opened MUST be
                // silently discarded.
                return Inbound::Drop(InboundDrop::NotCarried(IpVersion::V4));
            };
            let ip = &frame[offset..];
            let Some(src) = ip.get(12..16) else {
                return Inbound::Drop(InboundDrop::Invalid);
            };
            if ip[0] >> 4 != 4 || usize::from(ip[0] & 0x0f) < 5 {
                return Inbound::Drop(InboundDrop::Invalid);
            }
            let src = Ipv4Addr::new(src[0], src[1], src[2], src[3]);
            if src != peer {
                return Inbound::Drop(InboundDrop::Spoofed(src.into()));
            }
            Inbound::Ip(offset..frame.len())
        }
        FrameKind::Ipv6 { offset } => {
            let Some(peer) = net.peer_ifid else {
                // RFC 1661 §3.5, as for IPv4.
                return Inbound::Drop(InboundDrop::NotCarried(IpVersion::V6));
            };
            let ip = &frame[offset..];
            let Some(src) = ip.get(8..24).and_then(|s| <[u8; 16]>::try_from(s).ok()) else {
                return Inbound::Drop(InboundDrop::Invalid);
            };
            if ip.len() < IPV6_HEADER_LEN || ip[0] >> 4 != 6 {
                return Inbound::Drop(InboundDrop::Invalid);
            }
            if link_local_id(&src) != Some(peer) {
                return Inbound::Drop(InboundDrop::Spoofed(Ipv6Addr::from(src).into()));
            }
            Inbound::Ip(offset..frame.len())
        }
        FrameKind::Link { .. } => Inbound::Control,
        FrameKind::Invalid => Inbound::Drop(InboundDrop::Invalid),
    }
}

/// The fixed IPv6 header (RFC 8200 §3).
const IPV6_HEADER_LEN: usize = 40;

#[cfg(test)]
mod tests;
