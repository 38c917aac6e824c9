//! Every watcher's queue, and one watcher's end of it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use l2tp_ctl::Event;
use tokio::sync::Notify;

/// The most events waiting for one watcher: about 260 bytes each (the shared event, 208 bytes
/// and its strings, and the watcher's slot), some 65 MiB for a watcher that reads nothing.
pub const WATCHER_QUEUE: usize = 1 << 18;

/// What a watcher reads next.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// An event.
    Event(Arc<Event>),
    /// This many events, here, did not fit in the watcher's queue.
    Lost(u64),
}

/// Every watcher's queue.
#[derive(Clone, Debug, Default)]
pub struct Watchers {
    queues: Arc<Mutex<Vec<Arc<Queue>>>>,
}

#[derive(Debug, Default)]
struct Queue {
    items: Mutex<Pending>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    items: VecDeque<Item>,
    /// Events queued, without the [`Item::Lost`] marks.
    events: usize,
}

impl Watchers {
    /// No watchers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `event` for every watcher; never waits.
    pub fn send(&self, event: Event) {
        self.send_bounded(event, WATCHER_QUEUE);
    }

    fn send_bounded(&self, event: Event, bound: usize) {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if queues.is_empty() {
            return;
        }
        let event = Arc::new(event);
        for q in queues.iter() {
            let mut p = q.items.lock().unwrap_or_else(PoisonError::into_inner);
            if p.events < bound {
                p.events += 1;
                p.items.push_back(Item::Event(event.clone()));
            } else if let Some(Item::Lost(n)) = p.items.back_mut() {
                *n += 1;
            } else {
                p.items.push_back(Item::Lost(1));
            }
            drop(p);
            q.ready.notify_one();
        }
    }

    /// A new watcher, which sees the events sent from now on until it is dropped.
    pub fn subscribe(&self) -> Watcher {
        let queue = Arc::new(Queue::default());
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(queue.clone());
        Watcher {
            queue,
            all: self.clone(),
        }
    }

    /// Whether no watcher is connected: each leaves when its connection ends, which at a
    /// stop is once it has read its last events or [`super::FLUSH`] has passed.
    pub fn is_empty(&self) -> bool {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Whether every watcher has taken everything queued for it.
    #[cfg(test)]
    fn drained(&self) -> bool {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        queues.iter().all(|q| {
            q.items
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .items
                .is_empty()
        })
    }
}

/// One watcher's end of its queue; dropping it ends the watch.
#[derive(Debug)]
pub struct Watcher {
    queue: Arc<Queue>,
    all: Watchers,
}

impl Watcher {
    /// The next item, when there is one.
    pub fn try_next(&mut self) -> Option<Item> {
        let mut p = self
            .queue
            .items
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let item = p.items.pop_front()?;
        if matches!(item, Item::Event(_)) {
            p.events -= 1;
        }
        Some(item)
    }

    /// The next item, waiting for one.
    pub async fn next(&mut self) -> Item {
        loop {
            if let Some(item) = self.try_next() {
                return item;
            }
            // A send between the check and here leaves a permit: no wake-up is missed.
            self.queue.ready.notified().await;
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.all
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|q| !Arc::ptr_eq(q, &self.queue));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2tp_ctl::EventKind;

    fn event(tid: u32) -> Event {
        Event::new(EventKind::TunnelUp, 0, tid)
    }

    fn tids(w: &mut Watcher) -> Vec<Result<u32, u64>> {
        std::iter::from_fn(|| w.try_next())
            .map(|i| match i {
                Item::Event(e) => Ok(e.tid),
                Item::Lost(n) => Err(n),
            })
            .collect()
    }

    /// A burst longer than a watcher takes between two passes of the main loop reaches it
    /// whole: the 2 002 events of a tunnel of 1 000 sessions deleted, and the 200 000 of
    /// 100 000 sessions going down at once.
    #[test]
    fn a_burst_of_100_000_sessions_going_down_reaches_a_watcher_whole() {
        let all = Watchers::new();
        let mut w = all.subscribe();
        for tid in 0..200_200 {
            all.send(event(tid));
        }
        let got = tids(&mut w);
        assert_eq!(got.len(), 200_200);
        assert!(got.iter().enumerate().all(|(i, t)| *t == Ok(i as u32)));
    }

    /// A watcher that does not read holds at most the bound; what it missed is told to it
    /// where it was missed, and it then gets the events that fit again.
    #[test]
    fn a_watcher_that_does_not_read_is_told_what_it_missed() {
        let all = Watchers::new();
        let mut slow = all.subscribe();
        let mut fast = all.subscribe();
        for tid in 0..10 {
            all.send_bounded(event(tid), 4);
            if tid < 5 {
                assert_eq!(tids(&mut fast), vec![Ok(tid)]);
            }
        }
        assert_eq!(tids(&mut fast).len(), 5);
        assert_eq!(
            tids(&mut slow),
            vec![Ok(0), Ok(1), Ok(2), Ok(3), Err(6)],
            "the first four, then the six that did not fit"
        );
        all.send_bounded(event(10), 4);
        assert_eq!(tids(&mut slow), vec![Ok(10)]);
        assert!(!all.drained());
        assert_eq!(tids(&mut fast), vec![Ok(10)]);
        assert!(all.drained());
    }

    /// A watcher that leaves takes its queue with it; events then cost nothing.
    #[test]
    fn a_watcher_that_leaves_is_forgotten() {
        let all = Watchers::new();
        let w = all.subscribe();
        all.send(event(1));
        assert!(!all.drained());
        drop(w);
        assert!(all.drained());
        all.send(event(2));
        assert!(all.queues.lock().map(|q| q.is_empty()).unwrap_or(false));
    }
}
