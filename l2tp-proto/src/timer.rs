//! Timers of the engine: a per-tunnel table of named deadlines, and one endpoint-wide heap that
//! finds the next tunnel or session due without looking at the idle ones.
//!
//! Each tunnel keeps a [`TimerTable`] indexed by [`TimerKind`] (quinn's timer-table pattern);
//! the reliable channel keeps its own retransmission and acknowledgement deadlines. The
//! endpoint's [`TimerHeap`] holds at most a few `(deadline, owner, generation)` entries per
//! owner and is invalidated lazily: an entry is pushed only when an owner's next deadline moves
//! earlier than the one it already has in the heap; entries for deleted owners (the generation no
//! longer matches) or superseded deadlines are discarded, or handled harmlessly, when popped.
//! The cost of a timer is therefore `O(log n)` in the number of owners with deadlines, and an
//! idle tunnel costs one heap entry per Hello interval, never a scan.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::Instant;

/// The named deadlines of one tunnel (RFC 2661 §5.5, §6.5, §5.8; RFC 3931 §4.2, §4.4).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[repr(usize)]
pub(crate) enum TimerKind {
    /// The tunnel has been silent for the hello interval: send a HELLO (RFC 2661 §6.5).
    Hello,
    /// The control connection must be established by now (setup timeout).
    Establish,
    /// After StopCCN: the state is kept until then so that retransmissions are acknowledged
    /// (RFC 2661 §5.7, RFC 3931 §4.2), then deleted.
    Linger,
    /// The caller has not answered a decision about an incoming SCCRQ by then: drop it.
    Decision,
    /// The tunnel has had no session since its last one closed, for its idle timeout: close it.
    Idle,
}

const KINDS: usize = 5;

/// Deadlines of one tunnel, one optional [`Instant`] per [`TimerKind`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimerTable([Option<Instant>; KINDS]);

impl TimerTable {
    pub(crate) fn set(&mut self, kind: TimerKind, at: Instant) {
        self.0[kind as usize] = Some(at);
    }

    pub(crate) fn stop(&mut self, kind: TimerKind) {
        self.0[kind as usize] = None;
    }

    /// Whether `kind` is set and due at `now`; a due timer is cleared.
    pub(crate) fn take_expired(&mut self, kind: TimerKind, now: Instant) -> bool {
        match self.0[kind as usize] {
            Some(at) if at <= now => {
                self.0[kind as usize] = None;
                true
            }
            _ => false,
        }
    }

    /// The earliest deadline in the table.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
}

/// Who a heap entry belongs to.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub(crate) enum Owner {
    /// A tunnel, by slab index.
    Tunnel(u32),
    /// A session, by slab index.
    Session(u32),
}

/// One entry: when, whose, and the owner's slab generation when it was pushed.
type Entry = Reverse<(Instant, Owner, u32)>;

/// A min-heap of deadlines with lazy invalidation (see the [module documentation](self)).
#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    heap: BinaryHeap<Entry>,
}

impl TimerHeap {
    /// Makes sure `owner` is woken at `next` if that is earlier than what `scheduled` (the
    /// owner's own record of its earliest heap entry) says; updates `scheduled`.
    pub(crate) fn reschedule(
        &mut self,
        owner: Owner,
        generation: u32,
        next: Option<Instant>,
        scheduled: &mut Option<Instant>,
    ) {
        let Some(next) = next else { return };
        if scheduled.is_none_or(|at| next < at) {
            self.heap.push(Reverse((next, owner, generation)));
            *scheduled = Some(next);
        }
    }

    /// Pops the earliest entry if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Owner, u32)> {
        let Reverse((at, _, _)) = self.heap.peek()?;
        if *at > now {
            return None;
        }
        self.heap.pop().map(|Reverse(entry)| entry)
    }

    /// The earliest deadline, possibly of a stale entry (waking early is harmless).
    pub(crate) fn peek(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Entries in the heap, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reports_minimum_and_expiry() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(TimerKind::Hello, Instant::from_secs(60));
        t.set(TimerKind::Establish, Instant::from_secs(10));
        assert_eq!(t.next(), Some(Instant::from_secs(10)));
        assert!(!t.take_expired(TimerKind::Establish, Instant::from_secs(9)));
        assert!(t.take_expired(TimerKind::Establish, Instant::from_secs(10)));
        assert!(!t.take_expired(TimerKind::Establish, Instant::from_secs(99)));
        t.stop(TimerKind::Hello);
        assert_eq!(t.next(), None);
    }

    #[test]
    fn heap_pushes_only_earlier_deadlines() {
        let mut heap = TimerHeap::default();
        let mut scheduled = None;
        let owner = Owner::Tunnel(3);
        heap.reschedule(owner, 0, Some(Instant::from_secs(5)), &mut scheduled);
        heap.reschedule(owner, 0, Some(Instant::from_secs(9)), &mut scheduled);
        assert_eq!(heap.len(), 1);
        heap.reschedule(owner, 0, Some(Instant::from_secs(2)), &mut scheduled);
        assert_eq!(heap.len(), 2);
        assert_eq!(heap.peek(), Some(Instant::from_secs(2)));
        assert_eq!(heap.pop_due(Instant::from_secs(1)), None);
        assert_eq!(
            heap.pop_due(Instant::from_secs(3)),
            Some((Instant::from_secs(2), owner, 0))
        );
    }
}
