//! Userspace encapsulation and decapsulation of the data packets of an L2TPv3 Ethernet
//! pseudowire (RFC 3931 §4.1.1.1 over IP, §4.1.2.1 over UDP; RFC 4719 for pseudowire types 4
//! and 5), with cookies (§4.1, §8.2) and the Default L2-Specific Sublayer and its sequencing
//! (§4.6). No I/O: the worker hands in buffers, so everything here is unit-tested without
//! privileges.
//!
//! The session header itself is written and read by `l2tp_proto::wire::header`
//! ([`V3DataHeader`]); this module adds what is per-session state: the send sequence number,
//! the receive sequence window, and the VLAN tag of an Ethernet VLAN pseudowire.

use std::ops::Range;

use l2tp_proto::wire::header::{
    Cookie, DataError, DefaultSublayer, Encapsulation, L2SpecificSublayer, SUBLAYER_SEQUENCE_MASK,
    V3DataHeader,
};

/// Octets in front of an Ethernet frame read from a TAP: the longest L2TPv3 session header
/// (UDP: 8, cookie: 8, sublayer: 4 = 20), plus 4 for a VLAN tag pushed in place.
pub const HEADROOM: usize = 24;

/// The EtherType of an IEEE 802.1Q tag.
const ETHERTYPE_VLAN: u16 = 0x8100;

/// After this many consecutive frames "behind" the expected sequence number, the peer is taken
/// to have restarted its numbering and the receiver resynchronises (the kernel's data plane has
/// a similar escape, `nr_oos_count_max`).
const RESYNC_AFTER: u32 = 16;

/// The pseudowire type of an Ethernet session (RFC 4719, IANA L2TPv3 pseudowire types).
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum PseudowireType {
    /// Ethernet VLAN (type 4). With a VLAN id, frames leave the TAP untagged and cross the
    /// pseudowire tagged with it.
    EthVlan,
    /// Ethernet port (type 5): frames are carried unchanged.
    #[default]
    Eth,
}

impl PseudowireType {
    /// The IANA pseudowire type number.
    pub const fn number(self) -> u16 {
        match self {
            Self::EthVlan => 4,
            Self::Eth => 5,
        }
    }
}

/// Why a received data packet was dropped.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum RxDrop {
    /// Too short for the session's cookie and sublayer, or for an Ethernet header.
    Truncated,
    /// The cookie is not the one the session expects (RFC 3931 §8.2).
    CookieMismatch,
    /// Sequencing is required but the packet carries no sequence number.
    SequenceMissing,
    /// An out-of-order or duplicate packet (its sequence number is behind the expected one).
    OutOfOrder,
}

/// The receive side of data sequencing (RFC 3931 §4.6; RFC 2661 §5.8 for L2TPv2's 16-bit Ns):
/// which sequence number comes next.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct RxSequence {
    required: bool,
    /// The sequence numbers' width: 24 bits in the sublayer, 16 in an L2TPv2 header.
    mask: u32,
    expected: Option<u32>,
    behind_run: u32,
}

impl Default for RxSequence {
    fn default() -> Self {
        Self::new(false)
    }
}

impl RxSequence {
    /// A receive window of 24-bit sequence numbers; `required` drops packets without them.
    pub fn new(required: bool) -> Self {
        Self::with_mask(required, SUBLAYER_SEQUENCE_MASK)
    }

    /// A receive window of sequence numbers `mask` wide (a power of two less one, such as
    /// `0xffff`).
    pub fn with_mask(required: bool, mask: u32) -> Self {
        Self {
            required,
            mask,
            expected: None,
            behind_run: 0,
        }
    }

    /// Judges a packet's sublayer. A sequence number at or ahead of the expected one is taken
    /// (a gap is loss, and waiting for it would stall the pseudowire for nothing); one behind
    /// it is a duplicate or arrived out of order and is dropped. Sequence numbers are compared
    /// modulo their width (2^24 in the sublayer) over half the space.
    pub fn check(&mut self, sublayer: Option<DefaultSublayer>) -> Result<(), RxDrop> {
        if !self.required {
            return Ok(());
        }
        let seq = match sublayer {
            Some(s) if s.sequenced => s.sequence,
            _ => return Err(RxDrop::SequenceMissing),
        };
        if let Some(expected) = self.expected {
            let distance = seq.wrapping_sub(expected) & self.mask;
            let behind = distance > self.mask / 2;
            if behind {
                self.behind_run += 1;
                if self.behind_run < RESYNC_AFTER {
                    return Err(RxDrop::OutOfOrder);
                }
            }
        }
        self.behind_run = 0;
        self.expected = Some(seq.wrapping_add(1) & self.mask);
        Ok(())
    }

    /// The sequence number expected next, once one has been seen.
    pub fn expected(&self) -> Option<u32> {
        self.expected
    }

    /// Takes `seq` as delivered: the next one expected is `seq + 1`.
    pub fn accept(&mut self, seq: u32) {
        self.behind_run = 0;
        self.expected = Some(seq.wrapping_add(1) & self.mask);
    }

    /// Whether `seq` is ahead of the expected number (a gap before it).
    fn is_ahead(&self, seq: u32) -> bool {
        self.expected.is_some_and(|e| {
            let d = seq.wrapping_sub(e) & self.mask;
            d != 0 && d <= self.mask / 2
        })
    }
}

/// Everything that shapes a session's data packets.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CodecSpec {
    /// UDP or IP encapsulation.
    pub encap: Encapsulation,
    /// The peer's session id, written into every packet we send.
    pub peer_sid: u32,
    /// The cookie we send.
    pub cookie: Cookie,
    /// The cookie we expect.
    pub peer_cookie: Cookie,
    /// The L2-Specific Sublayer, both ways.
    pub l2spec: L2SpecificSublayer,
    /// Number the packets we send (the peer asked for sequencing).
    pub send_seq: bool,
    /// Require sequence numbers on receipt and drop out-of-order and duplicate packets.
    pub recv_seq: bool,
    /// Pseudowire type.
    pub pseudowire_type: PseudowireType,
    /// VLAN id pushed on transmit and popped on receipt (Ethernet VLAN pseudowires).
    pub vlan_id: Option<u16>,
    /// Hold packets that arrive ahead of a gap for reordering ([`Received::Hold`]) rather than
    /// taking the gap as loss at once. Needs `recv_seq`.
    pub reorder: bool,
}

/// What to do with a received frame.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Received {
    /// Deliver the frame at this range now.
    Deliver(Range<usize>),
    /// The frame is ahead of a gap: hold it for reordering.
    Hold {
        /// Its sequence number.
        seq: u32,
        /// The frame.
        frame: Range<usize>,
    },
}

/// The per-session encapsulation state.
#[derive(Debug)]
pub struct SessionCodec {
    spec: CodecSpec,
    header_len: usize,
    ns: u32,
    rx: RxSequence,
    scratch: Vec<u8>,
}

impl SessionCodec {
    /// A codec in its initial state (next sequence number to send: 0).
    pub fn new(spec: CodecSpec) -> Self {
        let header_len = Self::header_for(&spec, 0).wire_len(spec.encap);
        let rx = RxSequence::new(spec.recv_seq);
        Self {
            spec,
            header_len,
            ns: 0,
            rx,
            scratch: Vec::with_capacity(HEADROOM),
        }
    }

    /// Encapsulates the Ethernet frame in `buf[frame]`, writing the session header in front of
    /// it (`frame.start` must be at least [`HEADROOM`]). Returns the range of the L2TP packet.
    pub fn encap(&mut self, buf: &mut [u8], frame: Range<usize>) -> Range<usize> {
        let mut start = frame.start;
        if let Some(vid) = self.vlan_to_push(&buf[frame.clone()]) {
            // Move the two MAC addresses 4 octets forward and put the 802.1Q tag after them.
            buf.copy_within(start..start + 12, start - 4);
            start -= 4;
            buf[start + 12..start + 14].copy_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            buf[start + 14..start + 16].copy_from_slice(&(vid & 0x0fff).to_be_bytes());
        }
        let header = Self::header_for(&self.spec, self.ns);
        if self.spec.send_seq && self.spec.l2spec == L2SpecificSublayer::Default {
            self.ns = self.ns.wrapping_add(1) & SUBLAYER_SEQUENCE_MASK;
        }
        self.scratch.clear();
        header.emit(self.spec.encap, &mut self.scratch);
        let begin = start - self.scratch.len();
        buf[begin..start].copy_from_slice(&self.scratch);
        begin..frame.end
    }

    /// Decapsulates the part of a data packet after its session id (`rest` of
    /// `Packet::V3Data`), checking the cookie and the sequence number. Returns the range of the
    /// Ethernet frame within `rest` (which may be rewritten in place to pop a VLAN tag).
    pub fn decap(&mut self, session_id: u32, rest: &mut [u8]) -> Result<Received, RxDrop> {
        let (header, frame) =
            V3DataHeader::parse(session_id, rest, self.spec.peer_cookie, self.spec.l2spec)
                .map_err(|e| match e {
                    DataError::CookieMismatch => RxDrop::CookieMismatch,
                    _ => RxDrop::Truncated,
                })?;
        let mut start = rest.len() - frame.len();
        if frame.len() < 14 {
            return Err(RxDrop::Truncated);
        }
        let hold = match header.sublayer {
            Some(s) if self.spec.reorder && s.sequenced && self.rx.is_ahead(s.sequence) => {
                Some(s.sequence)
            }
            _ => {
                self.rx.check(header.sublayer)?;
                None
            }
        };
        let pop = self
            .spec
            .vlan_id
            .filter(|_| self.spec.pseudowire_type == PseudowireType::EthVlan);
        if let Some(vid) = pop {
            let f = &rest[start..];
            let tagged = f.len() >= 18
                && u16::from_be_bytes([f[12], f[13]]) == ETHERTYPE_VLAN
                && u16::from_be_bytes([f[14], f[15]]) & 0x0fff == vid & 0x0fff;
            if tagged {
                rest.copy_within(start..start + 12, start + 4);
                start += 4;
            }
        }
        let frame = start..rest.len();
        Ok(match hold {
            Some(seq) => Received::Hold { seq, frame },
            None => Received::Deliver(frame),
        })
    }

    /// The receive sequence state, for the reorder queue.
    pub fn rx_sequence_mut(&mut self) -> &mut RxSequence {
        &mut self.rx
    }

    /// Length of the session header this codec writes (over UDP, without the UDP header).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// How many octets [`SessionCodec::encap`] puts in front of `frame`: the session header,
    /// and a VLAN tag when it pushes one.
    pub fn overhead(&self, frame: &[u8]) -> usize {
        self.header_len
            + if self.vlan_to_push(frame).is_some() {
                4
            } else {
                0
            }
    }

    /// A codec with the same spec in its initial state, for another queue of the session's
    /// device (only for sessions that send no sequence numbers, whose send side has no state).
    pub fn fresh(&self) -> Self {
        Self::new(self.spec.clone())
    }

    /// Whether the session numbers the packets it sends.
    pub fn sends_sequence(&self) -> bool {
        self.spec.send_seq && self.spec.l2spec == L2SpecificSublayer::Default
    }

    /// The receive sequence state.
    pub fn rx_sequence(&self) -> &RxSequence {
        &self.rx
    }

    fn header_for(spec: &CodecSpec, ns: u32) -> V3DataHeader {
        V3DataHeader {
            session_id: spec.peer_sid,
            cookie: spec.cookie,
            sublayer: match spec.l2spec {
                L2SpecificSublayer::None => None,
                L2SpecificSublayer::Default => Some(DefaultSublayer {
                    sequenced: spec.send_seq,
                    sequence: if spec.send_seq { ns } else { 0 },
                }),
            },
        }
    }

    fn vlan_to_push(&self, frame: &[u8]) -> Option<u16> {
        let vid = self.spec.vlan_id?;
        if self.spec.pseudowire_type != PseudowireType::EthVlan || frame.len() < 14 {
            return None;
        }
        let already = u16::from_be_bytes([frame[12], frame[13]]) == ETHERTYPE_VLAN;
        (!already).then_some(vid)
    }
}

#[cfg(test)]
mod tests {
    use l2tp_proto::wire::header::Packet;

    use super::*;

    fn spec(encap: Encapsulation) -> CodecSpec {
        CodecSpec {
            encap,
            peer_sid: 0x0102_0304,
            cookie: Cookie::NONE,
            peer_cookie: Cookie::NONE,
            l2spec: L2SpecificSublayer::None,
            send_seq: false,
            recv_seq: false,
            pseudowire_type: PseudowireType::Eth,
            vlan_id: None,
            reorder: false,
        }
    }

    fn frame(tag: u8) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, tag]);
        f.extend_from_slice(&0x0800u16.to_be_bytes());
        f.extend_from_slice(&[tag; 20]);
        f
    }

    /// Encapsulates `f` with `tx` and returns the L2TP packet.
    fn send(tx: &mut SessionCodec, f: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; HEADROOM + f.len()];
        buf[HEADROOM..].copy_from_slice(f);
        let end = buf.len();
        let r = tx.encap(&mut buf, HEADROOM..end);
        buf[r].to_vec()
    }

    /// Parses `packet` as the peer and decapsulates it with `rx`.
    fn receive(
        rx: &mut SessionCodec,
        encap: Encapsulation,
        packet: &[u8],
    ) -> Result<Vec<u8>, RxDrop> {
        let mut packet = packet.to_vec();
        let (sid, offset) = match Packet::parse(&packet, encap) {
            Ok(Packet::V3Data { session_id, rest }) => (session_id, packet.len() - rest.len()),
            other => panic!("not a data packet: {other:?}"),
        };
        let rest = &mut packet[offset..];
        match rx.decap(sid, rest)? {
            Received::Deliver(r) | Received::Hold { frame: r, .. } => Ok(rest[r].to_vec()),
        }
    }

    #[test]
    fn udp_without_cookie_or_sublayer_is_eight_octets_of_header() {
        let mut tx = SessionCodec::new(spec(Encapsulation::Udp));
        let f = frame(1);
        let p = send(&mut tx, &f);
        assert_eq!(tx.header_len(), 8);
        assert_eq!(&p[..8], &[0x00, 0x03, 0, 0, 1, 2, 3, 4]);
        assert_eq!(&p[8..], &f[..]);
        let mut rx = SessionCodec::new(spec(Encapsulation::Udp));
        assert_eq!(receive(&mut rx, Encapsulation::Udp, &p), Ok(f));
    }

    #[test]
    fn ip_with_eight_octet_cookie_and_sequenced_sublayer() {
        let cookie = Cookie::new(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap_or_default();
        let mut s = spec(Encapsulation::Ip);
        s.cookie = cookie;
        s.peer_cookie = cookie;
        s.l2spec = L2SpecificSublayer::Default;
        s.send_seq = true;
        s.recv_seq = true;
        let mut tx = SessionCodec::new(s.clone());
        let mut rx = SessionCodec::new(s);
        assert_eq!(tx.header_len(), 4 + 8 + 4);
        for n in 0..3u8 {
            let f = frame(n);
            let p = send(&mut tx, &f);
            assert_eq!(&p[..4], &[1, 2, 3, 4]);
            assert_eq!(&p[4..12], cookie.as_bytes());
            // S bit and the 24-bit sequence number (RFC 3931 §4.6).
            assert_eq!(&p[12..16], &[0x40, 0, 0, n]);
            assert_eq!(receive(&mut rx, Encapsulation::Ip, &p), Ok(f));
        }
        assert_eq!(rx.rx_sequence().expected(), Some(3));
    }

    #[test]
    fn cookie_mismatch_and_truncation_are_reported() {
        let mut s = spec(Encapsulation::Udp);
        s.cookie = Cookie::new(&[9, 9, 9, 9]).unwrap_or_default();
        let mut tx = SessionCodec::new(s.clone());
        s.peer_cookie = Cookie::new(&[1, 1, 1, 1]).unwrap_or_default();
        let mut rx = SessionCodec::new(s);
        let p = send(&mut tx, &frame(0));
        assert_eq!(
            receive(&mut rx, Encapsulation::Udp, &p),
            Err(RxDrop::CookieMismatch)
        );
        assert_eq!(
            receive(&mut rx, Encapsulation::Udp, &p[..10]),
            Err(RxDrop::Truncated)
        );
    }

    #[test]
    fn unsequenced_sublayer_has_the_s_bit_clear() {
        let mut s = spec(Encapsulation::Udp);
        s.l2spec = L2SpecificSublayer::Default;
        let mut tx = SessionCodec::new(s.clone());
        let p = send(&mut tx, &frame(0));
        let p2 = send(&mut tx, &frame(0));
        assert_eq!(&p[8..12], &[0, 0, 0, 0]);
        assert_eq!(p, p2);
        // A receiver that requires sequencing drops it.
        s.recv_seq = true;
        let mut rx = SessionCodec::new(s);
        assert_eq!(
            receive(&mut rx, Encapsulation::Udp, &p),
            Err(RxDrop::SequenceMissing)
        );
    }

    fn seq(n: u32) -> Option<DefaultSublayer> {
        Some(DefaultSublayer {
            sequenced: true,
            sequence: n & SUBLAYER_SEQUENCE_MASK,
        })
    }

    #[test]
    fn sequencing_drops_duplicates_and_late_packets_but_takes_gaps() {
        let mut rx = RxSequence::new(true);
        assert_eq!(rx.check(seq(10)), Ok(()));
        assert_eq!(rx.check(seq(10)), Err(RxDrop::OutOfOrder));
        assert_eq!(rx.check(seq(11)), Ok(()));
        assert_eq!(rx.check(seq(14)), Ok(()));
        assert_eq!(rx.check(seq(13)), Err(RxDrop::OutOfOrder));
        assert_eq!(rx.check(seq(12)), Err(RxDrop::OutOfOrder));
        assert_eq!(rx.check(seq(15)), Ok(()));
        assert_eq!(rx.check(None), Err(RxDrop::SequenceMissing));
        let mut off = RxSequence::new(false);
        assert_eq!(off.check(None), Ok(()));
        assert_eq!(off.check(seq(3)), Ok(()));
        assert_eq!(off.check(seq(3)), Ok(()));
    }

    #[test]
    fn sequence_numbers_wrap_at_24_bits() {
        let mut rx = RxSequence::new(true);
        assert_eq!(rx.check(seq(0xff_fffe)), Ok(()));
        assert_eq!(rx.check(seq(0xff_ffff)), Ok(()));
        assert_eq!(rx.check(seq(0)), Ok(()));
        assert_eq!(rx.check(seq(0xff_ffff)), Err(RxDrop::OutOfOrder));
        assert_eq!(rx.expected(), Some(1));

        let mut s = spec(Encapsulation::Udp);
        s.l2spec = L2SpecificSublayer::Default;
        s.send_seq = true;
        let mut tx = SessionCodec::new(s);
        tx.ns = 0xff_ffff;
        let p = send(&mut tx, &frame(0));
        assert_eq!(&p[8..12], &[0x40, 0xff, 0xff, 0xff]);
        let p = send(&mut tx, &frame(0));
        assert_eq!(&p[8..12], &[0x40, 0, 0, 0]);
    }

    #[test]
    fn a_restarted_peer_is_followed_after_a_run_of_late_packets() {
        let mut rx = RxSequence::new(true);
        assert_eq!(rx.check(seq(5000)), Ok(()));
        for n in 0..RESYNC_AFTER - 1 {
            assert_eq!(rx.check(seq(n)), Err(RxDrop::OutOfOrder));
        }
        assert_eq!(rx.check(seq(RESYNC_AFTER)), Ok(()));
        assert_eq!(rx.check(seq(RESYNC_AFTER + 1)), Ok(()));
    }

    #[test]
    fn eth_vlan_pushes_and_pops_the_tag() {
        let mut s = spec(Encapsulation::Udp);
        s.pseudowire_type = PseudowireType::EthVlan;
        s.vlan_id = Some(100);
        let mut tx = SessionCodec::new(s.clone());
        let f = frame(7);
        let p = send(&mut tx, &f);
        let inner = &p[8..];
        assert_eq!(&inner[..12], &f[..12]);
        assert_eq!(&inner[12..16], &[0x81, 0x00, 0x00, 100]);
        assert_eq!(&inner[16..], &f[12..]);
        let mut rx = SessionCodec::new(s);
        assert_eq!(receive(&mut rx, Encapsulation::Udp, &p), Ok(f.clone()));
        // A frame that is already tagged goes through as it is.
        let mut tagged = f[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 200]);
        tagged.extend_from_slice(&f[12..]);
        let p = send(&mut tx, &tagged);
        assert_eq!(&p[8..], &tagged[..]);
        assert_eq!(receive(&mut rx, Encapsulation::Udp, &p), Ok(tagged));
    }

    #[test]
    fn eth_pseudowire_carries_frames_unchanged() {
        let mut s = spec(Encapsulation::Ip);
        s.vlan_id = Some(100);
        let mut tx = SessionCodec::new(s);
        let f = frame(3);
        assert_eq!(&send(&mut tx, &f)[4..], &f[..]);
        assert_eq!(PseudowireType::Eth.number(), 5);
        assert_eq!(PseudowireType::EthVlan.number(), 4);
    }
}
