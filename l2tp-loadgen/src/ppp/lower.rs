//! PPP frames in L2TP data messages, both ways, for one session: the L2TPv2 data header with
//! the peer's tunnel and session ids (RFC 2661 §3.1), or the L2TPv3 session header of a PPP
//! pseudowire (RFC 3931 §4.1.2.1: session id, cookie, L2-Specific Sublayer as negotiated,
//! §4.6), and the key that takes a received data message to its session.
//!
//! Nothing here allocates once the caller's output buffer has grown to the largest message.

use l2tp_proto::SessionParams;
use l2tp_proto::wire::header::{
    Cookie, DefaultSublayer, Encapsulation, L2SpecificSublayer, Packet, SUBLAYER_SEQUENCE_MASK,
    V2DataHeader, V3DataHeader, Version,
};

/// How one session's frames travel, from the parameters the engine hands its data plane.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Lower {
    /// L2TPv2: the peer's ids; Ns of the next frame when the peer asked for sequencing.
    V2 {
        peer_tunnel_id: u16,
        peer_session_id: u16,
        ns: Option<u16>,
    },
    /// L2TPv3 over UDP: the peer's session id and cookie, ours (checked on receipt), whether
    /// the Default L2-Specific Sublayer is present, and its next sequence number when the peer
    /// asked for sequencing.
    V3 {
        peer_session_id: u32,
        cookie: Cookie,
        peer_cookie: Cookie,
        sublayer: bool,
        sequence: Option<u32>,
    },
}

/// Why a received data message was not taken.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Refused {
    /// Its cookie is not the session's, or it is too short for the cookie and sublayer
    /// (RFC 3931 §8.2: dropped).
    Header,
    /// It is of the other L2TP version.
    Version,
}

impl Lower {
    /// The framing of a session of `version` installed with `params`. L2TPv2 ids are 16 bits
    /// (RFC 2661 §3.1); the engine never assigns more.
    pub(crate) fn of(version: Version, params: &SessionParams) -> Lower {
        match version {
            Version::V2 => Lower::V2 {
                peer_tunnel_id: u16::try_from(params.peer_tunnel_id).unwrap_or(u16::MAX),
                peer_session_id: u16::try_from(params.peer_session_id).unwrap_or(u16::MAX),
                ns: params.send_seq.then_some(0),
            },
            Version::V3 => {
                let sublayer = params.l2spec == L2SpecificSublayer::Default;
                Lower::V3 {
                    peer_session_id: params.peer_session_id,
                    cookie: params.cookie,
                    peer_cookie: params.peer_cookie,
                    sublayer,
                    // Sequence numbers ride in the sublayer only (RFC 3931 §4.6).
                    sequence: (sublayer && params.send_seq).then_some(0),
                }
            }
        }
    }

    /// Writes the data message that carries `frame` to the peer into `out` (cleared first).
    pub(crate) fn encode(&mut self, frame: &[u8], out: &mut Vec<u8>) {
        out.clear();
        match self {
            Lower::V2 {
                peer_tunnel_id,
                peer_session_id,
                ns,
            } => {
                let sequence = ns.map(|n| (n, 0));
                if let Some(n) = ns {
                    *n = n.wrapping_add(1);
                }
                V2DataHeader {
                    with_length: false,
                    tunnel_id: *peer_tunnel_id,
                    session_id: *peer_session_id,
                    sequence,
                    offset: None,
                    priority: false,
                }
                .emit(frame.len(), out);
            }
            Lower::V3 {
                peer_session_id,
                peer_cookie,
                sublayer,
                sequence,
                ..
            } => {
                let sublayer = sublayer.then(|| DefaultSublayer {
                    sequenced: sequence.is_some(),
                    sequence: sequence.unwrap_or(0),
                });
                if let Some(n) = sequence {
                    *n = n.wrapping_add(1) & SUBLAYER_SEQUENCE_MASK;
                }
                V3DataHeader {
                    session_id: *peer_session_id,
                    cookie: *peer_cookie,
                    sublayer,
                }
                .emit(Encapsulation::Udp, out);
            }
        }
        out.extend_from_slice(frame);
    }

    /// The PPP frame of a received data message whose [`key`] named this session.
    pub(crate) fn frame<'a>(&self, packet: Packet<'a>) -> Result<&'a [u8], Refused> {
        match (self, packet) {
            (Lower::V2 { .. }, Packet::V2Data { payload, .. }) => Ok(payload),
            (
                Lower::V3 {
                    cookie, sublayer, ..
                },
                Packet::V3Data { session_id, rest },
            ) => {
                let l2spec = if *sublayer {
                    L2SpecificSublayer::Default
                } else {
                    L2SpecificSublayer::None
                };
                V3DataHeader::parse(session_id, rest, *cookie, l2spec)
                    .map(|(_, frame)| frame)
                    .map_err(|_| Refused::Header)
            }
            _ => Err(Refused::Version),
        }
    }
}

/// The demultiplexing key of our session `session_id` in tunnel `tunnel_id`: L2TPv2 data
/// messages name both (RFC 2661 §3.1), L2TPv3 ones the session only, whose id is unique
/// across the control connections of an LCCE (RFC 3931 §4.1).
pub(crate) fn session_key(version: Version, tunnel_id: u32, session_id: u32) -> u64 {
    match version {
        Version::V2 => (u64::from(tunnel_id) << 32) | u64::from(session_id) | V2_KEY,
        Version::V3 => u64::from(session_id),
    }
}

/// The key of the session a data message is for; `None` for a control message.
pub(crate) fn packet_key(packet: &Packet<'_>) -> Option<u64> {
    match packet {
        Packet::V2Data { header, .. } => Some(session_key(
            Version::V2,
            u32::from(header.tunnel_id),
            u32::from(header.session_id),
        )),
        Packet::V3Data { session_id, .. } => Some(session_key(Version::V3, 0, *session_id)),
        Packet::Control { .. } => None,
    }
}

/// Keeps L2TPv2 keys apart from L2TPv3 ones even for a tunnel id of 0.
const V2_KEY: u64 = 1 << 63;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use l2tp_proto::SessionHandle;
    use l2tp_proto::wire::avp::types::pw_type;

    const LCP: &[u8] = &[0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04];

    fn params(send_seq: bool, l2spec: L2SpecificSublayer) -> SessionParams {
        SessionParams {
            handle: SessionHandle(7),
            tunnel_id: 0x1234,
            session_id: 0x5678,
            peer_tunnel_id: 0x0abc,
            peer_session_id: 0x0def,
            pw_type: pw_type::PPP,
            cookie: Cookie::new(&[1, 2, 3, 4]).unwrap(),
            peer_cookie: Cookie::new(&[9, 8, 7, 6, 5, 4, 3, 2]).unwrap(),
            l2spec,
            send_seq,
            recv_seq: false,
            lns: false,
            interface_name: None,
            proxy: None,
            connect_speed: None,
        }
    }

    #[test]
    fn v2_frames_carry_the_peers_ids_and_parse_back() {
        let mut lower = Lower::of(Version::V2, &params(false, L2SpecificSublayer::None));
        let mut out = Vec::new();
        lower.encode(LCP, &mut out);
        // Ver 2, no L, S, O or P bit; the peer's tunnel and session ids; the frame.
        assert_eq!(&out[..6], &[0x00, 0x02, 0x0a, 0xbc, 0x0d, 0xef]);
        assert_eq!(&out[6..], LCP);
        let Ok(Packet::V2Data { header, payload }) = Packet::parse(&out, Encapsulation::Udp) else {
            panic!("not an L2TPv2 data message: {out:02x?}");
        };
        assert_eq!((header.tunnel_id, header.session_id), (0x0abc, 0x0def));
        assert_eq!(header.sequence, None);
        assert_eq!(payload, LCP);
    }

    #[test]
    fn v2_sequencing_numbers_each_frame() {
        let mut lower = Lower::of(Version::V2, &params(true, L2SpecificSublayer::None));
        let mut out = Vec::new();
        for ns in 0..3u16 {
            lower.encode(LCP, &mut out);
            let Ok(Packet::V2Data { header, payload }) = Packet::parse(&out, Encapsulation::Udp)
            else {
                panic!("not data");
            };
            assert_eq!(header.sequence, Some((ns, 0)));
            assert_eq!(payload, LCP);
        }
    }

    #[test]
    fn v3_frames_carry_session_cookie_and_sublayer() {
        let mut lower = Lower::of(Version::V3, &params(true, L2SpecificSublayer::Default));
        let mut out = Vec::new();
        lower.encode(LCP, &mut out);
        // Ver 3 with the reserved field, the peer's session id, its 8-octet cookie, the
        // sublayer with the S bit and sequence 0, the frame.
        assert_eq!(&out[..4], &[0x00, 0x03, 0x00, 0x00]);
        assert_eq!(&out[4..8], &0x0defu32.to_be_bytes());
        assert_eq!(&out[8..16], &[9, 8, 7, 6, 5, 4, 3, 2]);
        assert_eq!(&out[16..20], &[0x40, 0, 0, 0]);
        assert_eq!(&out[20..], LCP);
        lower.encode(LCP, &mut out);
        assert_eq!(&out[16..20], &[0x40, 0, 0, 1]);
        // What the peer sends us: our session id and our 4-octet cookie.
        let mut ours = Vec::new();
        V3DataHeader {
            session_id: 0x5678,
            cookie: Cookie::new(&[1, 2, 3, 4]).unwrap(),
            sublayer: Some(DefaultSublayer::default()),
        }
        .emit(Encapsulation::Udp, &mut ours);
        ours.extend_from_slice(LCP);
        let packet = Packet::parse(&ours, Encapsulation::Udp).unwrap();
        assert_eq!(
            packet_key(&packet),
            Some(session_key(Version::V3, 0x1234, 0x5678))
        );
        assert_eq!(lower.frame(packet), Ok(LCP));
    }

    #[test]
    fn v3_without_sublayer_or_cookie() {
        let mut p = params(true, L2SpecificSublayer::None);
        p.peer_cookie = Cookie::NONE;
        let mut lower = Lower::of(Version::V3, &p);
        let mut out = Vec::new();
        lower.encode(LCP, &mut out);
        assert_eq!(out.len(), 8 + LCP.len());
        assert_eq!(&out[8..], LCP);
    }

    #[test]
    fn a_wrong_cookie_or_version_is_refused() {
        let lower = Lower::of(Version::V3, &params(false, L2SpecificSublayer::Default));
        let mut bad = Vec::new();
        V3DataHeader {
            session_id: 0x5678,
            cookie: Cookie::new(&[1, 2, 3, 5]).unwrap(),
            sublayer: Some(DefaultSublayer::default()),
        }
        .emit(Encapsulation::Udp, &mut bad);
        bad.extend_from_slice(LCP);
        let packet = Packet::parse(&bad, Encapsulation::Udp).unwrap();
        assert_eq!(lower.frame(packet), Err(Refused::Header));
        let truncated = Packet::parse(&bad[..10], Encapsulation::Udp).unwrap();
        assert_eq!(lower.frame(truncated), Err(Refused::Header));
        let mut v2 = Vec::new();
        V2DataHeader {
            tunnel_id: 1,
            session_id: 2,
            ..V2DataHeader::default()
        }
        .emit(LCP.len(), &mut v2);
        v2.extend_from_slice(LCP);
        let packet = Packet::parse(&v2, Encapsulation::Udp).unwrap();
        assert_eq!(lower.frame(packet), Err(Refused::Version));
    }

    #[test]
    fn keys_tell_sessions_and_versions_apart() {
        let a = session_key(Version::V2, 1, 2);
        assert_ne!(a, session_key(Version::V2, 2, 1));
        assert_ne!(a, session_key(Version::V3, 1, 2));
        assert_ne!(
            session_key(Version::V2, 0, 5),
            session_key(Version::V3, 0, 5)
        );
        // L2TPv3 keys ignore the tunnel: data messages do not name it.
        assert_eq!(
            session_key(Version::V3, 1, 9),
            session_key(Version::V3, 2, 9)
        );
        let mut v2 = Vec::new();
        V2DataHeader {
            with_length: true,
            tunnel_id: 1,
            session_id: 2,
            sequence: Some((4, 0)),
            offset: Some(3),
            priority: false,
        }
        .emit(LCP.len(), &mut v2);
        v2.extend_from_slice(LCP);
        let packet = Packet::parse(&v2, Encapsulation::Udp).unwrap();
        assert_eq!(packet_key(&packet), Some(a));
        let lower = Lower::of(Version::V2, &params(false, L2SpecificSublayer::None));
        assert_eq!(
            lower.frame(packet),
            Ok(LCP),
            "length, Ns and offset pad skipped"
        );
    }
}
