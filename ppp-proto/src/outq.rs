//! The queue of frames a link has to send, drained by `Link::poll_transmit`.
//!
//! Frames are encoded when they are queued, back to back, each behind a two-octet length. The
//! first 30 octets live inside the queue itself, so that the steady-state traffic of an idle
//! link (one LCP Echo-Request or Echo-Reply, 14 octets with its length) never allocates; more
//! spills to the heap, and the heap buffer is released once the queue has been drained. A
//! queue never holds more than [`MAX_QUEUED`] octets: a frame that does not fit is dropped and
//! counted by the caller (a peer cannot make a link buffer without bound between two polls).

/// Octets kept inside the queue before it spills to the heap.
const INLINE: usize = 30;

/// The most octets a queue holds.
pub(crate) const MAX_QUEUED: usize = 16 * 1024;

#[derive(Clone, Debug)]
enum Buf {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl Buf {
    const EMPTY: Self = Self::Inline {
        len: 0,
        bytes: [0; INLINE],
    };

    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Self::Inline { len, bytes } => &mut bytes[..usize::from(*len)],
            Self::Heap(v) => v,
        }
    }

    fn extend(&mut self, more: &[u8]) {
        match self {
            Self::Inline { len, bytes } => {
                let at = usize::from(*len);
                if let Some(dst) = bytes.get_mut(at..at + more.len()) {
                    dst.copy_from_slice(more);
                    *len += more.len() as u8;
                } else {
                    let mut v = Vec::with_capacity((at + more.len()).max(128));
                    v.extend_from_slice(&bytes[..at]);
                    v.extend_from_slice(more);
                    *self = Self::Heap(v);
                }
            }
            Self::Heap(v) => v.extend_from_slice(more),
        }
    }

    fn truncate(&mut self, to: usize) {
        match self {
            Self::Inline { len, .. } => *len = (*len).min(to as u8),
            Self::Heap(v) => v.truncate(to),
        }
    }
}

/// Encoded frames waiting for `poll_transmit`.
#[derive(Clone, Debug)]
pub(crate) struct OutQueue {
    buf: Buf,
    /// Where the next frame to hand out starts.
    head: usize,
}

impl Default for OutQueue {
    fn default() -> Self {
        Self {
            buf: Buf::EMPTY,
            head: 0,
        }
    }
}

impl OutQueue {
    /// Queues a control packet of `protocol` (with `FF 03` and a two-octet Protocol field, as
    /// every control packet is sent) whose data `body` writes; the packet is cut at `limit`
    /// octets. Returns `false` if the queue was full and the frame was dropped.
    pub(crate) fn packet(
        &mut self,
        protocol: u16,
        code: u8,
        identifier: u8,
        limit: usize,
        body: impl FnOnce(&mut PacketWriter<'_>),
    ) -> bool {
        self.compact();
        let start = self.buf.as_slice().len();
        let [p0, p1] = protocol.to_be_bytes();
        self.buf
            .extend(&[0, 0, 0xff, 0x03, p0, p1, code, identifier, 0, 0]);
        let mut w = PacketWriter {
            q: self,
            room: limit.clamp(4, usize::from(u16::MAX)) - 4,
        };
        body(&mut w);
        let end = self.buf.as_slice().len();
        if end > MAX_QUEUED {
            self.buf.truncate(start);
            return false;
        }
        let frame_len = (end - start - 2) as u16;
        let packet_len = (end - start - 6) as u16;
        let bytes = self.buf.as_mut_slice();
        bytes[start..start + 2].copy_from_slice(&frame_len.to_be_bytes());
        bytes[start + 8..start + 10].copy_from_slice(&packet_len.to_be_bytes());
        true
    }

    /// The next frame, oldest first. Once everything has been handed out the heap buffer, if
    /// any, is released.
    pub(crate) fn pop(&mut self) -> Option<&[u8]> {
        let bytes = self.buf.as_slice();
        let Some(&[high, low]) = bytes.get(self.head..self.head + 2) else {
            self.reset();
            return None;
        };
        let start = self.head + 2;
        let end = (start + usize::from(u16::from_be_bytes([high, low]))).min(bytes.len());
        self.head = end;
        Some(&self.buf.as_slice()[start..end])
    }

    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.head >= self.buf.as_slice().len()
    }

    /// Heap octets held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.buf {
            Buf::Inline { .. } => 0,
            Buf::Heap(v) => v.capacity(),
        }
    }

    /// Forgets what was handed out if everything was.
    fn compact(&mut self) {
        if self.is_empty() && self.head > 0 {
            self.reset();
        }
    }

    fn reset(&mut self) {
        self.buf = Buf::EMPTY;
        self.head = 0;
    }
}

/// Writes the data of one packet; writes past the packet's limit are cut off.
#[derive(Debug)]
pub(crate) struct PacketWriter<'a> {
    q: &'a mut OutQueue,
    room: usize,
}

impl PacketWriter<'_> {
    /// Appends octets (as many as fit).
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.room);
        self.q.buf.extend(&bytes[..n]);
        self.room -= n;
    }

    /// Appends one octet.
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    /// Appends a big-endian `u16`.
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// Appends a Configuration Option: Type, Length, value.
    pub(crate) fn option(&mut self, kind: u8, value: &[u8]) {
        self.u8(kind);
        self.u8((value.len() + 2) as u8);
        self.bytes(value);
    }
}

/// The protocol a queued frame carries (for tests and counters).
#[cfg(test)]
pub(crate) fn frame_protocol(frame: &[u8]) -> Option<u16> {
    crate::wire::split_protocol(frame).map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::protocol;

    #[test]
    fn small_frames_stay_inline_and_come_out_in_order() {
        let mut q = OutQueue::default();
        assert!(q.packet(protocol::LCP, 9, 1, 1500, |w| w.u32(0xdead_beef)));
        assert!(q.packet(protocol::LCP, 10, 2, 1500, |w| w.u32(7)));
        assert_eq!(q.heap_bytes(), 0, "two echo frames fit inline");
        assert_eq!(
            q.pop(),
            Some(&[0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 0xde, 0xad, 0xbe, 0xef][..])
        );
        assert_eq!(frame_protocol(q.pop().unwrap_or_default()), Some(0xc021));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn large_frames_spill_and_the_heap_is_released_when_drained() {
        let mut q = OutQueue::default();
        assert!(q.packet(protocol::LCP, 1, 1, 1500, |w| w.bytes(&[7; 100])));
        assert!(q.heap_bytes() >= 100);
        let frame = q.pop().map(<[u8]>::to_vec).unwrap_or_default();
        assert_eq!(frame.len(), 108);
        assert_eq!(&frame[6..8], &104u16.to_be_bytes());
        assert_eq!(q.pop(), None);
        assert_eq!(q.heap_bytes(), 0);
    }

    #[test]
    fn limits_cut_packets_and_cap_the_queue() {
        let mut q = OutQueue::default();
        assert!(q.packet(protocol::LCP, 7, 1, 10, |w| w.bytes(&[1; 50])));
        let frame = q.pop().map(<[u8]>::to_vec).unwrap_or_default();
        assert_eq!(frame.len(), 14, "a 10-octet packet behind FF 03 C0 21");
        assert_eq!(&frame[6..8], &10u16.to_be_bytes());
        let mut queued = 0;
        while q.packet(protocol::LCP, 9, 1, 1500, |w| w.bytes(&[0; 1000])) {
            queued += 1;
        }
        assert!((15..17).contains(&queued), "{queued}");
        assert!(q.heap_bytes() <= 2 * MAX_QUEUED);
        while q.pop().is_some() {}
        assert_eq!(q.heap_bytes(), 0);
    }
}
