//! PPP frames of native sessions that reach the daemon instead of the kernel.
//!
//! A peer that starts PPP at once sends its first LCP Configure-Request right behind the ICCN
//! (Windows' and Apple's clients do). When that data packet reaches the tunnel's socket before
//! the kernel has the session, the kernel passes it up to the socket like a control message;
//! the daemon reads it after the ICCN, whose handling made the session. Such a packet for one
//! of the daemon's native-PPP sessions is decapsulated here with the session's parameters (the
//! data plane's [`PppCodec`]: L2TPv2 header; L2TPv3 cookie checked and L2-Specific Sublayer
//! skipped), its `FF 03` taken off, and handed to the engine as the PPP frame it is, as the
//! reading thread would have ([`DataplaneEvent::PppFrame`]); without this the peer would wait
//! for its restart timer (RFC 1661 §4.6), seconds, before PPP could go on.
//!
//! Anything else (no such native session, a wrong cookie, a truncated packet) is left to the
//! engine, which discards data messages, logged and counted, as before. A pppd session's
//! early packets are left so too: its pppd has not opened its channel yet, and would not know
//! what to do with a frame from the daemon.

use std::collections::HashMap;

use l2tp_dataplane::ppp::{PppCodec, PppCodecSpec};
use l2tp_proto::wire::header::{Cookie, Encapsulation, Packet, Version};

use super::super::api::{DataplaneEvent, SessionSpec, TunnelSpec};

/// The key of a native session in [`EarlyFrames`]: an L2TPv3 session id as it is (unique to
/// the daemon), an L2TPv2 one with its tunnel id.
fn key(version: Version, tid: u32, sid: u32) -> u64 {
    match version {
        Version::V2 => 1 << 32 | u64::from(tid & 0xffff) << 16 | u64::from(sid & 0xffff),
        Version::V3 => u64::from(sid),
    }
}

/// A native session as far as its early frames go.
#[derive(Debug)]
struct Entry {
    tid: u32,
    sid: u32,
    codec: PppCodec,
}

/// The native sessions whose early frames are taken, and how many were.
#[derive(Debug, Default)]
pub(super) struct EarlyFrames {
    by_key: HashMap<u64, Entry>,
    /// Frames handed to the engine so.
    taken: u64,
}

impl EarlyFrames {
    /// Takes the early frames of native session `spec` of `tunnel` from now on; returns its
    /// key (for [`EarlyFrames::remove`]), or `None` for a cookie the codec cannot hold.
    pub(super) fn add(&mut self, tunnel: &TunnelSpec, spec: &SessionSpec) -> Option<u64> {
        let codec = PppCodec::new(
            PppCodecSpec::session(
                (tunnel.version, tunnel.encap),
                (spec.peer_tid, spec.peer_sid),
                (Cookie::new(&spec.cookie)?, Cookie::new(&spec.peer_cookie)?),
                spec.l2spec,
                (spec.send_seq, spec.recv_seq),
            )
            .ok()?,
        );
        let k = key(tunnel.version, spec.tid, spec.sid);
        let entry = Entry {
            tid: spec.tid,
            sid: spec.sid,
            codec,
        };
        self.by_key.insert(k, entry);
        Some(k)
    }

    /// Forgets the session of key `k`.
    pub(super) fn remove(&mut self, k: u64) {
        self.by_key.remove(&k);
    }

    /// The PPP frame of `packet` (from the L2TP header on, as read on a tunnel's socket) when
    /// it is a data packet of a native session; `None` leaves it to the engine.
    pub(super) fn take(&mut self, encap: Encapsulation, packet: &[u8]) -> Option<DataplaneEvent> {
        if self.by_key.is_empty() {
            return None;
        }
        let parsed = Packet::parse(packet, encap).ok()?;
        let k = match parsed {
            Packet::V2Data { header, .. } => key(
                Version::V2,
                u32::from(header.tunnel_id),
                u32::from(header.session_id),
            ),
            Packet::V3Data { session_id, .. } => key(Version::V3, 0, session_id),
            Packet::Control { .. } => return None,
        };
        let e = self.by_key.get(&k)?;
        // One packet on its own: the sequence window starts from it (the kernel's starts from
        // the next one).
        let frame = e.codec.decap(&mut e.codec.rx_sequence(), parsed).ok()?;
        // RFC 1661 §6.6: the address and control fields may be there or not.
        let frame = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
        if frame.is_empty() {
            return None;
        }
        self.taken += 1;
        tracing::debug!(
            "session {}/{}: a PPP frame that arrived before the kernel had the session, handed \
             to the engine ({} so far)",
            e.tid,
            e.sid,
            self.taken
        );
        Some(DataplaneEvent::PppFrame {
            tid: e.tid,
            sid: e.sid,
            frame: frame.to_vec(),
        })
    }

    /// Frames handed to the engine so far.
    #[cfg(test)]
    fn taken(&self) -> u64 {
        self.taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2tp_proto::wire::header::L2SpecificSublayer;

    fn tunnel(version: Version) -> TunnelSpec {
        TunnelSpec {
            version,
            ..crate::dataplane::fixtures::tunnel(7)
        }
    }

    fn session(sid: u32, cookie: &[u8], l2spec: L2SpecificSublayer) -> SessionSpec {
        SessionSpec {
            peer_cookie: cookie.to_vec(),
            l2spec,
            ..crate::dataplane::fixtures::session(7, sid)
        }
    }

    const LCP_CR: [u8; 10] = [0xc0, 0x21, 1, 1, 0, 8, 5, 6, 0, 0];

    #[test]
    fn an_l2tpv2_frame_of_a_native_session_goes_to_the_engine() {
        let mut early = EarlyFrames::default();
        let spec = session(3, &[], L2SpecificSublayer::None);
        let Some(k) = early.add(&tunnel(Version::V2), &spec) else {
            panic!("not added");
        };
        // Flags and version 2, tunnel 7, session 3, FF 03, the frame.
        let mut packet = vec![0x00, 0x02, 0, 7, 0, 3, 0xff, 0x03];
        packet.extend_from_slice(&LCP_CR);
        let Some(DataplaneEvent::PppFrame { tid, sid, frame }) =
            early.take(Encapsulation::Udp, &packet)
        else {
            panic!("not taken");
        };
        assert_eq!((tid, sid, frame.as_slice()), (7, 3, &LCP_CR[..]));
        assert_eq!(early.taken(), 1);
        // Another session of the tunnel, or another tunnel: left to the engine.
        packet[5] = 4;
        assert!(early.take(Encapsulation::Udp, &packet).is_none());
        packet[5] = 3;
        packet[3] = 8;
        assert!(early.take(Encapsulation::Udp, &packet).is_none());
        packet[3] = 7;
        early.remove(k);
        assert!(early.take(Encapsulation::Udp, &packet).is_none());
    }

    #[test]
    fn an_l2tpv3_frame_needs_its_cookie_and_loses_its_sublayer() {
        let mut early = EarlyFrames::default();
        let spec = session(0x1234, &[1, 2, 3, 4], L2SpecificSublayer::Default);
        assert!(early.add(&tunnel(Version::V3), &spec).is_some());
        // Data over UDP: flags 0 and version 3, reserved; session id, cookie, sublayer.
        let mut packet = vec![0x00, 0x03, 0, 0, 0, 0, 0x12, 0x34, 1, 2, 3, 4, 0, 0, 0, 0];
        packet.extend_from_slice(&LCP_CR);
        let Some(DataplaneEvent::PppFrame { sid, frame, .. }) =
            early.take(Encapsulation::Udp, &packet)
        else {
            panic!("not taken");
        };
        assert_eq!((sid, frame.as_slice()), (0x1234, &LCP_CR[..]));
        // A wrong cookie: left to the engine (which discards and counts it).
        packet[11] = 5;
        assert!(early.take(Encapsulation::Udp, &packet).is_none());
    }
}
