//! The reorder queue of a sequenced session with a reorder timeout (RFC 3931 §4.6: a receiver
//! "MAY" reorder; the Linux kernel's `reorder_timeout`). A packet ahead of the one expected is
//! held, up to the timeout, for the packets missing in front of it; held packets are released
//! in sequence order as soon as the gap closes, or when the first of them times out (the gap is
//! then taken as loss). Without a timeout a gap is loss at once.
//!
//! No I/O and no clock: the worker passes `now`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use l2tp_proto::wire::header::SUBLAYER_SEQUENCE_MASK;

use crate::codec::RxSequence;

/// The most packets held per session; when full, the oldest is released at once.
pub const MAX_HELD: usize = 128;

#[derive(Debug)]
struct Held {
    seq: u32,
    deadline: Instant,
    frame: Vec<u8>,
}

/// Packets held for reordering, in sequence order.
#[derive(Debug)]
pub struct ReorderQueue {
    timeout: Duration,
    held: VecDeque<Held>,
}

/// How far `seq` is ahead of `from`, modulo 2^24.
fn ahead(from: u32, seq: u32) -> u32 {
    seq.wrapping_sub(from) & SUBLAYER_SEQUENCE_MASK
}

impl ReorderQueue {
    /// A queue that holds packets at most `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            held: VecDeque::new(),
        }
    }

    /// Holds `frame`, numbered `seq` (ahead of `rx`'s expected number). Returns false for a
    /// duplicate of a held packet, which the caller drops.
    pub fn hold(&mut self, rx: &RxSequence, seq: u32, frame: &[u8], now: Instant) -> bool {
        let base = rx.expected().unwrap_or(seq);
        let at = self
            .held
            .partition_point(|h| ahead(base, h.seq) < ahead(base, seq));
        if self.held.get(at).is_some_and(|h| h.seq == seq) {
            return false;
        }
        self.held.insert(
            at,
            Held {
                seq,
                deadline: now + self.timeout,
                frame: frame.to_vec(),
            },
        );
        true
    }

    /// Releases what can go now, in order, to `deliver`: held packets that are next in
    /// sequence, and those whose time is up (skipping the gap before them), and the oldest when
    /// more than [`MAX_HELD`] are held. Returns the number of held packets dropped as
    /// duplicates of ones delivered meanwhile.
    pub fn release(
        &mut self,
        rx: &mut RxSequence,
        now: Instant,
        mut deliver: impl FnMut(&[u8]),
    ) -> u64 {
        let mut dropped = 0;
        while let Some(front) = self.held.front() {
            let expected = rx.expected().unwrap_or(front.seq);
            let distance = ahead(expected, front.seq);
            if distance > SUBLAYER_SEQUENCE_MASK / 2 {
                // Behind: the same number was delivered while this one waited.
                self.held.pop_front();
                dropped += 1;
                continue;
            }
            let go = distance == 0 || front.deadline <= now || self.held.len() > MAX_HELD;
            if !go {
                break;
            }
            if let Some(h) = self.held.pop_front() {
                rx.accept(h.seq);
                deliver(&h.frame);
            }
        }
        dropped
    }

    /// When the first held packet times out.
    pub fn deadline(&self) -> Option<Instant> {
        self.held.front().map(|h| h.deadline)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::RxSequence;

    fn rx_at(expected: u32) -> RxSequence {
        let mut rx = RxSequence::new(true);
        rx.accept(expected.wrapping_sub(1) & SUBLAYER_SEQUENCE_MASK);
        rx
    }

    fn run(q: &mut ReorderQueue, rx: &mut RxSequence, now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        q.release(rx, now, |f| out.push(f[0]));
        out
    }

    #[test]
    fn a_gap_that_closes_in_time_is_delivered_in_order() {
        let t0 = Instant::now();
        let mut q = ReorderQueue::new(Duration::from_millis(100));
        let mut rx = rx_at(10);
        assert!(q.hold(&rx, 12, &[12], t0));
        assert!(q.hold(&rx, 11, &[11], t0));
        assert!(!q.hold(&rx, 12, &[12], t0), "duplicate held twice");
        assert!(
            run(&mut q, &mut rx, t0).is_empty(),
            "released before 10 came"
        );
        // 10 arrives and is delivered by the caller; then 11 and 12 follow at once.
        rx.accept(10);
        assert_eq!(run(&mut q, &mut rx, t0), [11, 12]);
        assert!(q.is_empty());
        assert_eq!(rx.expected(), Some(13));
    }

    #[test]
    fn a_gap_that_stays_open_is_skipped_at_the_timeout() {
        let t0 = Instant::now();
        let mut q = ReorderQueue::new(Duration::from_millis(100));
        let mut rx = rx_at(5);
        q.hold(&rx, 7, &[7], t0);
        q.hold(&rx, 8, &[8], t0 + Duration::from_millis(50));
        assert_eq!(q.deadline(), Some(t0 + Duration::from_millis(100)));
        assert!(run(&mut q, &mut rx, t0 + Duration::from_millis(99)).is_empty());
        // 5 and 6 never come: 7 goes at its deadline, and 8 right after it (now in order).
        assert_eq!(
            run(&mut q, &mut rx, t0 + Duration::from_millis(100)),
            [7, 8]
        );
        assert_eq!(rx.expected(), Some(9));
    }

    #[test]
    fn numbers_wrap_at_24_bits_and_duplicates_are_dropped() {
        let t0 = Instant::now();
        let mut q = ReorderQueue::new(Duration::from_millis(100));
        let max = SUBLAYER_SEQUENCE_MASK;
        let mut rx = rx_at(max - 1);
        q.hold(&rx, 1, &[1], t0);
        q.hold(&rx, 0, &[0], t0);
        q.hold(&rx, max, &[9], t0);
        rx.accept(max - 1);
        assert_eq!(run(&mut q, &mut rx, t0), [9, 0, 1]);
        // A held packet overtaken by its own duplicate is dropped, not delivered twice.
        let mut rx = rx_at(20);
        q.hold(&rx, 21, &[21], t0);
        rx.accept(20);
        rx.accept(21);
        let mut out = Vec::new();
        assert_eq!(q.release(&mut rx, t0, |f| out.push(f[0])), 1);
        assert!(out.is_empty());
    }

    #[test]
    fn a_full_queue_releases_its_oldest() {
        let t0 = Instant::now();
        let mut q = ReorderQueue::new(Duration::from_secs(10));
        let mut rx = rx_at(0);
        for n in 0..=MAX_HELD as u32 {
            q.hold(&rx, n + 2, &[n as u8], t0);
        }
        // Past the limit the oldest goes at once, gap or not; the rest then follow in order.
        let out = run(&mut q, &mut rx, t0);
        assert_eq!(out.len(), MAX_HELD + 1);
        assert_eq!(out[..3], [0, 1, 2]);
        assert_eq!(rx.expected(), Some(MAX_HELD as u32 + 3));
    }
}
