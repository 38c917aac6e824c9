//! The kernel's per-session counters summed over the daemon's sessions: what it dropped, by
//! reason, for the drop summary, `show system` and the metrics ([`DataplaneTotals`]), as the
//! userspace data plane counts its own; and the data counters of the metrics ([`DataStats`]).
//!
//! The kernel counts per session only. A thread of its own ([`KernelCounters`]) reads the
//! counters of every session in one generic netlink sessions dump on a socket of its own (never
//! two at once, never on the daemon's loop, so that a metrics scrape costs the loop nothing
//! whatever the number of sessions), and adds what each of the daemon's sessions grew by since
//! the last look to totals that only grow. It dumps again after twenty times as long as the
//! last dump took, at least [`MIN_GAP`] and at most [`KERNEL_DROPS_PERIOD`] later: a second
//! with a few sessions, so that the totals are at most a second or two old; a twentieth of the
//! thread's time at most, however many sessions there are.
//!
//! Each session's counters in its last dump are also what a metrics scrape gives per session
//! (`metrics_detail sessions`, [`KernelCounters::sessions`]): the sums and those counters sit
//! under one lock, which the thread takes for each session as it reads a dump (never for the
//! whole dump) and the daemon's loop once per scrape, so that no scrape sends the kernel a
//! request per session.
//!
//! A session is known by its ids, and counted once the data plane has said it is the daemon's
//! ([`KernelCounters::open`]; others' sessions in the network namespace are left out). One
//! whose counters went down was made again with the same ids, and what it has is new. A
//! session that is removed gives its last counters first (the data plane reads them before it
//! deletes the session, [`KernelCounters::retire`]): the thread adds what grew since its last
//! look and forgets the session, so that its counts stay in the totals and no later dump can
//! count them twice. A session deleted outside the daemon takes what it counted since the last
//! dump with it.
//!
//! What Linux (6.1, `net/l2tp/l2tp_core.c`) counts where, and how it maps onto the reasons:
//!
//! - `rx_cookie_discards` (wrong cookie, RFC 3931 §8.2): `cookie_mismatches`.
//! - `rx_seq_discards` (sequence number missing when required, out of sequence without a
//!   reorder timeout, held past the reorder timeout): `seq_errors`.
//! - `rx_errors` counts each of those again, with the packets outside the sequence window, too
//!   short for their session's header, or left in the reorder queue when the session goes: what
//!   it has beyond the two is `rx_errors`.
//! - `rx_invalid` of a session (not counted by 6.1, kept for kernels that do): `rx_malformed`.
//! - `tx_errors`: `tx_errors`. The tunnel's `tx_errors` counts the same packets again, and is
//!   not read.
//! - `rx_oos_packets` counts packets put back in order, not dropped: no reason.
//!
//! The tunnel's own `rx_invalid` (short packets, a wrong version) and packets for no session
//! are not drops: the kernel passes them up to the tunnel's socket, which the daemon reads.
//! So one sessions dump is all it takes, and no tunnels dump.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use l2tp_dataplane::DataplaneTotals;
use l2tp_dataplane::kernel::{KernelSessionInfo, L2tpGenl};

use crate::dataplane::api::DataStats;

/// How often the kernel data plane's drop summary is made, and the longest time between two
/// reads of the kernel's counters. Longer than the userspace plane's: one dump of 100 000
/// sessions took 2 s in the emulated test guest, and its cost grows with the square of the
/// sessions of one tunnel (docs/benchmarks.md, "Kernel drop counters").
pub const KERNEL_DROPS_PERIOD: Duration = Duration::from_secs(30);

/// The shortest time between two dumps.
const MIN_GAP: Duration = Duration::from_secs(1);

/// The time between two dumps, in dumps' durations: the thread dumps at most a twentieth of
/// its time.
const GAP_PER_DUMP: u32 = 20;

/// When to dump again after a dump that took `took`.
fn gap_after(took: Duration) -> Duration {
    took.saturating_mul(GAP_PER_DUMP)
        .clamp(MIN_GAP, KERNEL_DROPS_PERIOD)
}

/// A kernel session's counters in the daemon's terms.
pub(super) fn data_stats(i: &KernelSessionInfo) -> DataStats {
    DataStats {
        rx_packets: i.rx_packets,
        rx_bytes: i.rx_bytes,
        // The kernel's rx_errors counts its cookie and sequence discards already.
        rx_errors: i.rx_errors + i.rx_invalid,
        rx_cookie_mismatches: i.rx_cookie_discards,
        // The kernel counts in rx_oos_packets the packets it put back in order (with a
        // reorder timeout), and in rx_seq_discards those it dropped.
        rx_seq_errors: i.rx_seq_discards,
        // The kernel's l2tp_eth counts the frames its interface refuses (longer than its MTU)
        // in the interface's rx_errors, not in the session's counters.
        rx_oversize: 0,
        rx_reordered: i.rx_oos_packets,
        tx_packets: i.tx_packets,
        tx_bytes: i.tx_bytes,
        tx_errors: i.tx_errors,
    }
}

/// The drop counters of one session, as the kernel last gave them.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
struct Seen {
    cookie: u64,
    seq: u64,
    rx_errors: u64,
    invalid: u64,
    tx_errors: u64,
    /// `rx_errors` beyond the cookie and sequence drops, the highest seen (the kernel's
    /// counters are read one after the other, not at one instant: the difference may run
    /// ahead for a moment).
    other: u64,
    /// The dump it was last seen in (of two that follow each other).
    round: bool,
    /// Its data counters.
    data: DataStats,
}

impl Seen {
    fn of(i: &KernelSessionInfo) -> Self {
        Self {
            cookie: i.rx_cookie_discards,
            seq: i.rx_seq_discards,
            rx_errors: i.rx_errors,
            invalid: i.rx_invalid,
            tx_errors: i.tx_errors,
            other: i
                .rx_errors
                .saturating_sub(i.rx_cookie_discards.saturating_add(i.rx_seq_discards)),
            round: false,
            data: data_stats(i),
        }
    }

    /// Whether `self` can follow `last` for the same session (no counter went down).
    fn follows(&self, last: &Self) -> bool {
        self.cookie >= last.cookie
            && self.seq >= last.seq
            && self.rx_errors >= last.rx_errors
            && self.invalid >= last.invalid
            && self.tx_errors >= last.tx_errors
            && self.data.rx_packets >= last.data.rx_packets
            && self.data.rx_bytes >= last.data.rx_bytes
            && self.data.rx_reordered >= last.data.rx_reordered
            && self.data.tx_packets >= last.data.tx_packets
            && self.data.tx_bytes >= last.data.tx_bytes
    }
}

/// What `now` grew by since `last`, of a session whose counters follow on.
fn grown(now: &DataStats, last: &DataStats) -> DataStats {
    DataStats {
        rx_packets: now.rx_packets.saturating_sub(last.rx_packets),
        rx_bytes: now.rx_bytes.saturating_sub(last.rx_bytes),
        rx_errors: now.rx_errors.saturating_sub(last.rx_errors),
        rx_cookie_mismatches: now
            .rx_cookie_mismatches
            .saturating_sub(last.rx_cookie_mismatches),
        rx_seq_errors: now.rx_seq_errors.saturating_sub(last.rx_seq_errors),
        rx_oversize: now.rx_oversize.saturating_sub(last.rx_oversize),
        rx_reordered: now.rx_reordered.saturating_sub(last.rx_reordered),
        tx_packets: now.tx_packets.saturating_sub(last.tx_packets),
        tx_bytes: now.tx_bytes.saturating_sub(last.tx_bytes),
        tx_errors: now.tx_errors.saturating_sub(last.tx_errors),
    }
}

/// The totals and the sessions' last counters, which the thread updates one session at a
/// time as it reads a dump, and the daemon's loop reads under the same lock.
#[derive(Debug, Default)]
struct Sum {
    /// The daemon's sessions.
    ours: HashSet<(u32, u32)>,
    /// The daemon's sessions seen in a dump, with their last counters; a session that was
    /// retired, or not seen in the last complete dump, is not here.
    seen: HashMap<(u32, u32), Seen>,
    totals: DataplaneTotals,
    data: DataStats,
    /// Flips at each dump: a session not seen in the last one is gone.
    round: bool,
}

impl Sum {
    /// Adds what session `ids` grew by since its last counters `now`, read in dump `round`.
    fn add(&mut self, ids: (u32, u32), now: Seen, round: bool) {
        if !self.ours.contains(&ids) {
            return;
        }
        let last = self
            .seen
            .get(&ids)
            .copied()
            .filter(|l| now.follows(l))
            .unwrap_or_default();
        let t = &mut self.totals;
        t.cookie_mismatches += now.cookie - last.cookie;
        t.seq_errors += now.seq - last.seq;
        t.rx_malformed += now.invalid - last.invalid;
        t.tx_errors += now.tx_errors - last.tx_errors;
        t.rx_errors += now.other.saturating_sub(last.other);
        self.data.add(&grown(&now.data, &last.data));
        self.seen.insert(
            ids,
            Seen {
                other: now.other.max(last.other),
                round,
                ..now
            },
        );
    }

    /// A dump begins: the round its sessions are seen in.
    fn next_round(&mut self) -> bool {
        self.round = !self.round;
        self.round
    }

    /// The dump of `round` was read whole: forgets the sessions no longer there. (A dump
    /// that fails leaves the totals with what it read, and forgets nothing.)
    fn dumped(&mut self, round: bool) {
        self.seen.retain(|_, s| s.round == round);
    }

    /// Session `ids` is going, with its last counters if the kernel still had them.
    fn retire(&mut self, ids: (u32, u32), last: Option<&KernelSessionInfo>) {
        if let Some(i) = last {
            self.add(ids, Seen::of(i), self.round);
        }
        self.seen.remove(&ids);
        self.ours.remove(&ids);
    }

    /// The data counters of each of `keys`, as the last dump that had it gave them; `None`
    /// for a session no dump has had yet, or retired.
    fn sessions(&self, keys: &[(u32, u32)]) -> Vec<Option<DataStats>> {
        keys.iter()
            .map(|k| self.seen.get(k).map(|s| s.data))
            .collect()
    }
}

/// What the data plane tells the thread.
#[derive(Debug)]
enum News {
    /// A session of the daemon's was made.
    Opened((u32, u32)),
    /// A session is about to be deleted, with its last counters if the kernel still had
    /// them (a PPP session whose pppd exited is gone already, with its counts).
    Retired {
        ids: (u32, u32),
        info: Option<KernelSessionInfo>,
    },
}

/// The thread that sums up the kernel's counters; it ends when this is dropped.
#[derive(Debug)]
pub(super) struct KernelCounters {
    sum: Arc<Mutex<Sum>>,
    news: Option<Sender<News>>,
}

impl KernelCounters {
    /// Starts the thread, with a generic netlink socket of its own. Without one (or a thread),
    /// the totals stay zero, and that is said once.
    pub(super) fn start() -> Self {
        let sum = Arc::new(Mutex::new(Sum::default()));
        let (tx, rx) = channel();
        let shared = Arc::clone(&sum);
        let started = L2tpGenl::open().and_then(|genl| {
            std::thread::Builder::new()
                .name("kernel-counters".into())
                .spawn(move || run(&genl, &rx, &shared))
        });
        match started {
            Ok(_) => Self {
                sum,
                news: Some(tx),
            },
            Err(e) => {
                tracing::warn!(
                    "kernel data plane: cannot read the sessions' counters ({e}): its drops \
                     are neither summed up nor logged, and the metrics' data counters stay \
                     zero or absent"
                );
                Self { sum, news: None }
            }
        }
    }

    /// The drops at the thread's last look.
    pub(super) fn drops(&self) -> DataplaneTotals {
        lock(&self.sum).totals
    }

    /// The data counters of every session of the daemon's, removed ones included, at the
    /// thread's last look.
    pub(super) fn data(&self) -> DataStats {
        lock(&self.sum).data
    }

    /// The data counters of each session of `keys` at the thread's last look (one lock, no
    /// netlink): `None` for one that no dump has had yet.
    pub(super) fn sessions(&self, keys: &[(u32, u32)]) -> Vec<Option<DataStats>> {
        lock(&self.sum).sessions(keys)
    }

    /// Session `tid`/`sid` is the daemon's, made just now.
    pub(super) fn open(&self, tid: u32, sid: u32) {
        self.tell(News::Opened((tid, sid)));
    }

    /// Session `tid`/`sid` is about to be deleted; `info` is its last counters, if the
    /// kernel still had them.
    pub(super) fn retire(&self, tid: u32, sid: u32, info: Option<KernelSessionInfo>) {
        self.tell(News::Retired {
            ids: (tid, sid),
            info,
        });
    }

    fn tell(&self, news: News) {
        if let Some(tx) = &self.news {
            let _ = tx.send(news);
        }
    }
}

/// The sum, even if a thread panicked holding it (each update leaves it whole).
fn lock(sum: &Mutex<Sum>) -> MutexGuard<'_, Sum> {
    sum.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The thread: dumps, the data plane's news in between. It takes the lock for each session
/// of a dump, not for the dump (seconds with 100 000 sessions), so that the daemon's loop
/// never waits for more than one session's update.
fn run(genl: &L2tpGenl, rx: &Receiver<News>, sum: &Mutex<Sum>) {
    let mut next = Instant::now() + MIN_GAP;
    loop {
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(News::Opened(ids)) => {
                lock(sum).ours.insert(ids);
            }
            Ok(News::Retired { ids, info }) => lock(sum).retire(ids, info.as_ref()),
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let started = Instant::now();
                let round = lock(sum).next_round();
                let read = genl.each_session_info(|ids, i| {
                    let seen = Seen::of(&i);
                    lock(sum).add(ids, seen, round);
                });
                match read {
                    Ok(()) => lock(sum).dumped(round),
                    Err(e) => tracing::debug!("kernel data plane: session counters: {e}"),
                }
                next = Instant::now() + gap_after(started.elapsed());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(cookie: u64, seq: u64, rx_errors: u64, tx_errors: u64) -> KernelSessionInfo {
        KernelSessionInfo {
            rx_cookie_discards: cookie,
            rx_seq_discards: seq,
            rx_errors,
            tx_errors,
            rx_packets: 1000,
            rx_oos_packets: 7,
            ..KernelSessionInfo::default()
        }
    }

    impl Sum {
        /// A sum of the daemon's sessions 1/10 and 1/11.
        fn ours() -> Self {
            Self {
                ours: [(1, 10), (1, 11)].into_iter().collect(),
                ..Self::default()
            }
        }

        /// Takes one dump as the thread does, `read` giving each session in it to its
        /// argument.
        fn dump<E>(
            &mut self,
            read: impl FnOnce(&mut dyn FnMut((u32, u32), KernelSessionInfo)) -> Result<(), E>,
        ) -> Result<(), E> {
            let round = self.next_round();
            read(&mut |ids, i| self.add(ids, Seen::of(&i), round))?;
            self.dumped(round);
            Ok(())
        }

        fn take(&mut self, infos: &[((u32, u32), KernelSessionInfo)]) {
            let r: Result<(), ()> = self.dump(|each| {
                for (ids, i) in infos {
                    each(*ids, i.clone());
                }
                Ok(())
            });
            assert!(r.is_ok());
        }
    }

    #[test]
    fn each_drop_is_counted_once_under_its_reason() {
        let mut s = Sum::ours();
        // 2 wrong cookies and 3 sequence drops, each also in rx_errors, and 1 more rx error.
        s.take(&[((1, 10), info(2, 3, 6, 4))]);
        assert_eq!(
            s.totals,
            DataplaneTotals {
                cookie_mismatches: 2,
                seq_errors: 3,
                rx_errors: 1,
                tx_errors: 4,
                ..Default::default()
            }
        );
        // The same counters again: nothing new.
        s.take(&[((1, 10), info(2, 3, 6, 4))]);
        assert_eq!(s.totals.reasons().iter().map(|r| r.1).sum::<u64>(), 10);
    }

    #[test]
    fn totals_only_grow_when_sessions_go() {
        let mut s = Sum::ours();
        s.take(&[((1, 10), info(5, 0, 5, 0)), ((1, 11), info(0, 2, 2, 0))]);
        // 1/10 is removed, with one more wrong cookie since: counted, then forgotten.
        s.retire((1, 10), Some(&info(6, 0, 6, 0)));
        assert_eq!(s.totals.cookie_mismatches, 6);
        assert!(!s.seen.contains_key(&(1, 10)));
        // The thread takes the last counters between dumps only: the next dump is later
        // than the removal and has the session no more.
        s.take(&[((1, 11), info(0, 4, 4, 0))]);
        assert_eq!(s.totals.cookie_mismatches, 6);
        assert_eq!(s.totals.seq_errors, 4);
        // 1/11 goes outside the daemon: what it had stays.
        s.take(&[]);
        assert_eq!((s.totals.cookie_mismatches, s.totals.seq_errors), (6, 4));
        assert!(s.seen.is_empty());
    }

    #[test]
    fn a_session_made_again_with_the_same_ids_counts_from_zero() {
        let mut s = Sum::ours();
        s.take(&[((1, 10), info(0, 9, 9, 0))]);
        s.take(&[((1, 10), info(0, 1, 1, 0))]);
        assert_eq!(s.totals.seq_errors, 10);
        assert_eq!(s.totals.rx_errors, 0);
    }

    #[test]
    fn counters_read_one_after_the_other_count_nothing_twice() {
        let mut s = Sum::ours();
        // A sequence drop came between reading rx_seq_discards and rx_errors: it looks like
        // another rx error for a moment.
        s.take(&[((1, 10), info(0, 3, 4, 0))]);
        s.take(&[((1, 10), info(0, 4, 4, 0))]);
        assert_eq!((s.totals.seq_errors, s.totals.rx_errors), (4, 1));
        // And the difference catches up before it counts again.
        s.take(&[((1, 10), info(0, 4, 6, 0))]);
        assert_eq!(s.totals.rx_errors, 2);
    }

    #[test]
    fn a_dump_that_fails_forgets_no_session() {
        let mut s = Sum::ours();
        s.take(&[((1, 10), info(1, 0, 1, 0)), ((1, 11), info(0, 0, 0, 0))]);
        // The dump breaks off after 1/11, which dropped one by then.
        let r = s.dump(|each| {
            each((1, 11), info(0, 1, 1, 0));
            Err("timeout")
        });
        assert_eq!(r, Err("timeout"));
        assert_eq!((s.totals.cookie_mismatches, s.totals.seq_errors), (1, 1));
        assert!(s.seen.contains_key(&(1, 10)));
        // The next one has both, with nothing new: nothing is counted twice.
        s.take(&[((1, 10), info(1, 0, 1, 0)), ((1, 11), info(0, 1, 1, 0))]);
        assert_eq!((s.totals.cookie_mismatches, s.totals.seq_errors), (1, 1));
    }

    #[test]
    fn others_sessions_are_left_out() {
        let mut s = Sum::ours();
        // 2/20 is someone else's (`ip l2tp`, another daemon in the namespace).
        s.take(&[((1, 10), info(1, 0, 1, 0)), ((2, 20), info(5, 5, 10, 5))]);
        assert_eq!(s.totals.reasons().iter().map(|r| r.1).sum::<u64>(), 1);
        assert_eq!(s.data.rx_packets, 1000);
        assert!(!s.seen.contains_key(&(2, 20)));
    }

    #[test]
    fn data_counts_stay_when_sessions_go() {
        let mut s = Sum::ours();
        s.take(&[((1, 10), info(0, 0, 0, 0)), ((1, 11), info(0, 0, 0, 0))]);
        assert_eq!((s.data.rx_packets, s.data.rx_reordered), (2000, 14));
        let mut last = info(0, 0, 0, 0);
        last.rx_packets = 1500;
        last.tx_bytes = 64;
        s.retire((1, 10), Some(&last));
        assert_eq!((s.data.rx_packets, s.data.tx_bytes), (2500, 64));
        // A session the kernel lost first is forgotten with what it had at the last dump.
        s.retire((1, 11), None);
        assert!(s.ours.is_empty() && s.seen.is_empty());
        s.take(&[((1, 11), info(0, 0, 0, 0))]);
        assert_eq!(s.data.rx_packets, 2500);
    }

    #[test]
    fn dumps_take_a_twentieth_of_the_time_within_bounds() {
        assert_eq!(gap_after(Duration::from_millis(1)), MIN_GAP);
        assert_eq!(
            gap_after(Duration::from_millis(200)),
            Duration::from_secs(4)
        );
        assert_eq!(gap_after(Duration::from_secs(9)), KERNEL_DROPS_PERIOD);
    }

    #[test]
    fn each_session_reads_as_its_last_dump_gave_it() {
        let mut s = Sum::ours();
        let mut a = info(0, 0, 0, 0);
        (a.rx_packets, a.rx_bytes, a.tx_packets, a.tx_bytes) = (5, 500, 6, 600);
        s.take(&[((1, 10), a.clone()), ((2, 20), info(0, 0, 0, 0))]);
        let keys = [(1, 10), (1, 11), (2, 20)];
        // 1/11 is the daemon's but in no dump yet; 2/20 is someone else's.
        assert_eq!(s.sessions(&keys), vec![Some(data_stats(&a)), None, None]);
        // The next dump's figures replace the last, as they are (not what they grew by).
        let mut b = a.clone();
        b.rx_packets = 9;
        let c = info(1, 0, 1, 0);
        s.take(&[((1, 10), b.clone()), ((1, 11), c.clone())]);
        assert_eq!(
            s.sessions(&keys),
            vec![Some(data_stats(&b)), Some(data_stats(&c)), None]
        );
        assert_eq!(s.sessions(&keys)[0].map(|d| d.rx_packets), Some(9));
        // A retired session is gone at once, before any dump; so is one the kernel lost.
        s.retire((1, 10), Some(&b));
        assert_eq!(s.sessions(&keys), vec![None, Some(data_stats(&c)), None]);
        s.take(&[]);
        assert_eq!(s.sessions(&keys), vec![None; 3]);
        // Made again with the same ids, it has no figures until a dump has it.
        s.ours.insert((1, 10));
        assert_eq!(s.sessions(&keys)[0], None);
        s.take(&[((1, 10), info(0, 0, 0, 0))]);
        assert_eq!(s.sessions(&keys)[0], Some(data_stats(&info(0, 0, 0, 0))));
    }
}
