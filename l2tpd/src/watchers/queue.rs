//! Every watcher's queue, and one watcher's end of it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use l2tp_ctl::{Event, PppEventInfo, ResultCode};
use tokio::sync::Notify;

/// The least memory the events waiting for one watcher may take, as [`cost`] counts it: 64 MiB,
/// some 230 000 events of sessions going down (about 290 bytes each), while a watcher that
/// reads nothing costs no more than this however long the events' texts are (a peer's result
/// message, a user name). Stated in l2tpwatch(1), Lost events.
pub const WATCHER_QUEUE_BYTES: usize = 64 << 20;

/// What a watcher's queue may hold for each session the daemon has, when that is more than
/// [`WATCHER_QUEUE_BYTES`]: room for the events of every session going down at once (the
/// largest burst one pass of the main loop makes: a stop, a deleted profile, a data plane
/// lost), which for a session whose PPP the daemon terminates are three (PPP DOWN, SESSION
/// DOWN, SESSION DELETED, some 1 200 bytes as [`cost`] counts them). Stated in l2tpwatch(1).
pub const WATCHER_QUEUE_BYTES_PER_SESSION: usize = 1536;

/// A queue emptied by its watcher keeps at most this many slots of what a burst grew it to.
const KEPT_SLOTS: usize = 1024;
/// What a watcher reads next.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// An event.
    Event(Arc<Event>),
    /// This many events, here, did not fit in the watcher's queue.
    Lost(u64),
}

/// Every watcher's queue.
#[derive(Clone, Debug)]
pub struct Watchers {
    queues: Arc<Mutex<Vec<Arc<Queue>>>>,
    /// The bound of each queue in bytes, as [`cost`] counts them.
    bound: Arc<AtomicUsize>,
}

impl Default for Watchers {
    fn default() -> Self {
        Self {
            queues: Arc::default(),
            bound: Arc::new(AtomicUsize::new(WATCHER_QUEUE_BYTES)),
        }
    }
}

#[derive(Debug, Default)]
struct Queue {
    items: Mutex<Pending>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    items: VecDeque<Item>,
    /// What the queued events take, as [`cost`] counts it.
    bytes: usize,
}

/// What a heap allocation of `n` bytes takes (glibc's malloc: an 8-byte header, 16-byte
/// alignment, 32 bytes at least).
fn alloc(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).next_multiple_of(16).max(32)
    }
}

fn text(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, |s| alloc(s.capacity()))
}

/// What queuing `event` costs a watcher that is the only one to hold it: its slot in the
/// queue, the shared event with the reference counts of its `Arc`, and each of its texts.
/// Every field is named, so that a new one is not forgotten here.
pub(super) fn cost(event: &Event) -> usize {
    let Event {
        event: _,
        time_ms: _,
        tid: _,
        peer_tid: _,
        sid: _,
        peer_sid: _,
        name,
        profile,
        pw_profile,
        peer,
        version: _,
        encap: _,
        pseudowire_type: _,
        interface_name,
        result,
        ppp,
    } = event;
    let result = result.as_ref().map_or(0, |r| {
        let ResultCode {
            result: _,
            error: _,
            message,
        } = r;
        text(message)
    });
    let ppp = ppp.as_deref().map_or(0, |p| {
        let PppEventInfo {
            user,
            auth,
            peer_ipv4: _,
            local_ipv4: _,
            peer_ipv6_ifid,
            reason,
        } = p;
        alloc(std::mem::size_of::<PppEventInfo>())
            + text(user)
            + text(auth)
            + text(peer_ipv6_ifid)
            + text(reason)
    });
    std::mem::size_of::<Item>()
        + alloc(2 * std::mem::size_of::<usize>() + std::mem::size_of::<Event>())
        + text(name)
        + text(profile)
        + text(pw_profile)
        + text(peer)
        + text(interface_name)
        + result
        + ppp
}

impl Watchers {
    /// No watchers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `event` for every watcher; never waits.
    pub fn send(&self, event: Event) {
        self.send_bounded(event, self.bound.load(Relaxed));
    }

    /// Sizes the queues for `sessions` sessions: [`WATCHER_QUEUE_BYTES_PER_SESSION`] each, at
    /// least [`WATCHER_QUEUE_BYTES`].
    pub fn set_sessions(&self, sessions: usize) {
        let bound = sessions
            .saturating_mul(WATCHER_QUEUE_BYTES_PER_SESSION)
            .max(WATCHER_QUEUE_BYTES);
        self.bound.store(bound, Relaxed);
    }

    /// Queues `event` for every watcher that has room for it: `bound` bytes, as [`cost`]
    /// counts them.
    fn send_bounded(&self, event: Event, bound: usize) {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if queues.is_empty() {
            return;
        }
        let size = cost(&event);
        let event = Arc::new(event);
        for q in queues.iter() {
            let mut p = q.items.lock().unwrap_or_else(PoisonError::into_inner);
            if p.bytes + size <= bound {
                p.bytes += size;
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
        if let Item::Event(e) = &item {
            p.bytes -= cost(e);
        }
        if p.items.is_empty() && p.items.capacity() > KEPT_SLOTS {
            p.items.shrink_to(KEPT_SLOTS);
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

    /// A session's going down (or, `kind`, its deletion) as the daemon tells it: its ids, its
    /// interface and the result of its CDN, with `message` if any.
    fn session_event(kind: EventKind, tid: u32, message: Option<&str>) -> Event {
        let mut e = Event::new(kind, 1_733_000_000_000, tid);
        e.peer_tid = Some(tid + 1);
        e.sid = Some(tid);
        e.peer_sid = Some(tid + 2);
        e.pseudowire_type = Some(l2tp_ctl::PseudowireType::Eth);
        e.interface_name = Some(format!("l2tpeth{tid}"));
        e.result = Some(ResultCode {
            result: 3,
            error: 0,
            message: message.map(str::to_owned),
        });
        e
    }

    fn session_down(tid: u32, message: &str) -> Event {
        session_event(EventKind::SessionDown, tid, Some(message))
    }

    /// What the events waiting for `w` take, counted afresh.
    fn queued_bytes(w: &Watcher) -> usize {
        let p = w.queue.items.lock().unwrap_or_else(PoisonError::into_inner);
        p.items
            .iter()
            .map(|i| match i {
                Item::Event(e) => cost(e),
                Item::Lost(_) => 0,
            })
            .sum()
    }

    /// A burst longer than a watcher takes between two passes of the main loop reaches it
    /// whole: the 2 002 events of a tunnel of 1 000 sessions deleted, and the 200 000 of
    /// 100 000 sessions going down at once, each with its interface and result message.
    #[test]
    fn a_burst_of_100_000_sessions_going_down_reaches_a_watcher_whole() {
        let all = Watchers::new();
        let mut w = all.subscribe();
        for tid in 0..200_200 {
            let kind = [EventKind::SessionDown, EventKind::SessionDeleted][tid as usize % 2];
            all.send(session_event(kind, tid, None));
        }
        let got = tids(&mut w);
        assert_eq!(got.len(), 200_200);
        assert!(got.iter().enumerate().all(|(i, t)| *t == Ok(i as u32)));
    }

    /// A native-PPP session's going down as the daemon tells it: PPP DOWN with the user, the
    /// method, the addresses and the reason, then SESSION DOWN and SESSION DELETED with the
    /// result of its CDN.
    fn ppp_session_down(tid: u32) -> [Event; 3] {
        let mut ppp = session_event(EventKind::PppDown, tid, None);
        ppp.result = None;
        ppp.interface_name = None;
        ppp.ppp = Some(Box::new(PppEventInfo {
            user: Some(format!("subscriber-{tid:06}@isp.example.net")),
            auth: Some("mschapv2".into()),
            peer_ipv4: Some([198, 51, 100, 2].into()),
            local_ipv4: Some([198, 51, 100, 1].into()),
            peer_ipv6_ifid: Some("0211:22ff:fe33:4455".into()),
            reason: Some("administrative".into()),
        }));
        let message = Some("Administrative shutdown");
        [
            ppp,
            session_event(EventKind::SessionDown, tid, message),
            session_event(EventKind::SessionDeleted, tid, message),
        ]
    }

    /// Sized for 100 000 native-PPP sessions, a queue takes the 300 000 events of them all going
    /// down at once whole, which the least bound alone would not.
    #[test]
    fn a_queue_sized_for_the_sessions_takes_all_their_events_at_once() {
        let sessions = 100_000;
        let per_session: usize = ppp_session_down(999_999).iter().map(cost).sum();
        assert!(
            per_session <= WATCHER_QUEUE_BYTES_PER_SESSION,
            "a PPP session's events cost {per_session} bytes"
        );
        assert!(
            per_session * sessions as usize > WATCHER_QUEUE_BYTES,
            "the least bound would take them all: the test shows nothing"
        );
        let all = Watchers::new();
        let mut w = all.subscribe();
        all.set_sessions(sessions as usize);
        for tid in 0..sessions {
            for e in ppp_session_down(tid) {
                all.send(e);
            }
        }
        let got = tids(&mut w);
        assert_eq!(got.len(), 3 * sessions as usize, "{:?}", got.last());
        assert!(got.iter().all(Result::is_ok));
        // With few sessions, the least bound stays.
        all.set_sessions(10);
        assert_eq!(all.bound.load(Relaxed), WATCHER_QUEUE_BYTES);
    }

    /// A watcher that does not read holds at most the bound; what it missed is told to it
    /// where it was missed, and it then gets the events that fit again.
    #[test]
    fn a_watcher_that_does_not_read_is_told_what_it_missed() {
        let all = Watchers::new();
        let mut slow = all.subscribe();
        let mut fast = all.subscribe();
        let bound = 4 * cost(&event(0));
        for tid in 0..10 {
            all.send_bounded(event(tid), bound);
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
        all.send_bounded(event(10), bound);
        assert_eq!(tids(&mut slow), vec![Ok(10)]);
        assert!(!all.drained());
        assert_eq!(tids(&mut fast), vec![Ok(10)]);
        assert!(all.drained());
    }

    /// Events with long texts (a peer may put some 1 000 bytes in a result message) fill a
    /// watcher that does not read up to the bound in bytes, not to a number of events: it
    /// then holds at most 64 MiB, is told how many it missed, and a watcher that reads gets
    /// every one.
    #[test]
    fn a_watcher_that_does_not_read_holds_at_most_64_mib_of_long_events() {
        let all = Watchers::new();
        let mut idle = all.subscribe();
        let mut reader = all.subscribe();
        let long = "x".repeat(1000);
        let sent = 100_000;
        let mut read = 0;
        for tid in 0..sent {
            all.send(session_down(tid, &long));
            if tid % 1000 == 999 {
                let got = tids(&mut reader);
                assert!(got.iter().all(Result::is_ok), "the reader lost some");
                read += got.len();
            }
        }
        assert_eq!(read, sent as usize);
        let held = queued_bytes(&idle);
        assert!(
            held <= WATCHER_QUEUE_BYTES,
            "a watcher that reads nothing holds {held} bytes of events"
        );
        assert!(held > WATCHER_QUEUE_BYTES - cost(&session_down(0, &long)));
        let got = tids(&mut idle);
        let kept = got.iter().filter(|t| t.is_ok()).count() as u64;
        assert_eq!(
            got.last(),
            Some(&Err(sent as u64 - kept)),
            "told what it missed"
        );
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
