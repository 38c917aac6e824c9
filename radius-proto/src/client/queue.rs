//! The queue of requests waiting for a server, per service: FIFO, with Interim-Updates kept
//! apart so that the oldest of them is the first to go when the accounting queue is full.

use std::collections::VecDeque;

/// Requests waiting for a server: entries of cancelled requests are skipped lazily.
#[derive(Debug, Default)]
pub(super) struct Queue {
    /// Interim-Updates (accounting only), which are dropped first when the queue is full.
    pub(super) interim: VecDeque<(u64, u32, u32)>,
    pub(super) other: VecDeque<(u64, u32, u32)>,
    pub(super) len: usize,
    pub(super) seq: u64,
}

impl Queue {
    pub(super) fn push_back(&mut self, interim: bool, index: u32, generation: u32) {
        self.seq += 1;
        let q = if interim {
            &mut self.interim
        } else {
            &mut self.other
        };
        q.push_back((self.seq, index, generation));
        self.len += 1;
    }

    /// Puts a request that failed over back at the head, before everything submitted later.
    pub(super) fn push_front(&mut self, interim: bool, index: u32, generation: u32) {
        let q = if interim {
            &mut self.interim
        } else {
            &mut self.other
        };
        let seq = q.front().map_or(0, |e| e.0.saturating_sub(1));
        q.push_front((seq, index, generation));
        self.len += 1;
    }

    /// The oldest entry of both lists.
    pub(super) fn front(&self) -> Option<(u32, u32)> {
        match (self.interim.front(), self.other.front()) {
            (Some(a), Some(b)) => Some(if a.0 < b.0 { (a.1, a.2) } else { (b.1, b.2) }),
            (Some(a), None) | (None, Some(a)) => Some((a.1, a.2)),
            (None, None) => None,
        }
    }

    pub(super) fn pop_front(&mut self) {
        let take_interim = match (self.interim.front(), self.other.front()) {
            (Some(a), Some(b)) => a.0 < b.0,
            (Some(_), None) => true,
            _ => false,
        };
        let popped = if take_interim {
            self.interim.pop_front()
        } else {
            self.other.pop_front()
        };
        if popped.is_some() {
            self.len -= 1;
        }
    }

    /// Removes the oldest Interim-Update, else the oldest entry.
    pub(super) fn pop_victim(&mut self) -> Option<(u32, u32)> {
        let e = self
            .interim
            .pop_front()
            .or_else(|| self.other.pop_front())?;
        self.len -= 1;
        Some((e.1, e.2))
    }
}
