//! What the kernel dropped, summed up by reason for the drop summary, `show system` and the
//! metrics ([`DataplaneTotals`]), as the userspace data plane counts its own.
//!
//! The kernel counts its drops per session only. A thread of its own ([`KernelDrops`]) reads
//! the counters of every session once a [`KERNEL_DROPS_PERIOD`], in one generic netlink
//! sessions dump on a socket of its own (never two at once, never on the daemon's loop), and
//! adds what each session's counters grew by since the last look to totals that only grow.
//! A session is known by its ids; one whose counters went down was made again with the same
//! ids, and what it has is new. A session that is removed gives its last counters first (the
//! data plane reads them before it deletes the session, [`KernelDrops::retire`]): the thread
//! adds what grew since its last look and forgets the session, so that its counts stay in the
//! totals and no later dump can count them twice. A session deleted outside the daemon takes
//! at most one period of drops with it.
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

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use l2tp_dataplane::DataplaneTotals;
use l2tp_dataplane::kernel::{KernelSessionInfo, L2tpGenl};

/// How often the kernel's counters are read and the kernel data plane's drop summary is
/// made. Longer than the userspace plane's: one dump of 100 000 sessions took 2 s in the
/// emulated test guest, and its cost grows with the square of the sessions of one tunnel
/// (docs/benchmarks.md, "Kernel drop counters").
pub const KERNEL_DROPS_PERIOD: Duration = Duration::from_secs(30);

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
        }
    }

    /// Whether `self` can follow `last` for the same session (no counter went down).
    fn follows(&self, last: &Self) -> bool {
        self.cookie >= last.cookie
            && self.seq >= last.seq
            && self.rx_errors >= last.rx_errors
            && self.invalid >= last.invalid
            && self.tx_errors >= last.tx_errors
    }
}

/// The totals and the sessions' last counters.
#[derive(Debug, Default)]
struct Sum {
    seen: HashMap<(u32, u32), Seen>,
    totals: DataplaneTotals,
    /// Flips at each dump: a session not seen in the last one is gone.
    round: bool,
}

impl Sum {
    /// Adds what session `ids` grew by since its last counters `now`, read in dump `round`.
    fn add(&mut self, ids: (u32, u32), now: Seen, round: bool) {
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
        self.seen.insert(
            ids,
            Seen {
                other: now.other.max(last.other),
                round,
                ..now
            },
        );
    }

    /// Takes one dump, `read` giving each session in it to its argument as the dump is
    /// read, and forgets the sessions no longer there. A dump that fails leaves the totals
    /// with what it read, and forgets nothing.
    fn dump<E>(
        &mut self,
        read: impl FnOnce(&mut dyn FnMut((u32, u32), KernelSessionInfo)) -> Result<(), E>,
    ) -> Result<(), E> {
        self.round = !self.round;
        let round = self.round;
        read(&mut |ids, i| self.add(ids, Seen::of(&i), round))?;
        self.seen.retain(|_, s| s.round == round);
        Ok(())
    }

    /// Session `ids` is going, with its last counters.
    fn retire(&mut self, ids: (u32, u32), i: &KernelSessionInfo) {
        self.add(ids, Seen::of(i), self.round);
        self.seen.remove(&ids);
    }
}

/// A session's last counters, for the thread.
#[derive(Debug)]
struct Retired {
    ids: (u32, u32),
    info: KernelSessionInfo,
}

/// The thread that sums up the kernel's drops; it ends when this is dropped.
#[derive(Debug)]
pub(super) struct KernelDrops {
    totals: Arc<Mutex<DataplaneTotals>>,
    retired: Option<Sender<Retired>>,
}

impl KernelDrops {
    /// Starts the thread, with a generic netlink socket of its own. Without one (or a thread),
    /// the totals stay zero, and that is said once.
    pub(super) fn start(period: Duration) -> Self {
        let totals = Arc::new(Mutex::new(DataplaneTotals::default()));
        let (tx, rx) = channel();
        let shared = Arc::clone(&totals);
        let started = L2tpGenl::open().and_then(|genl| {
            std::thread::Builder::new()
                .name("kernel-drops".into())
                .spawn(move || run(&genl, period, &rx, &shared))
        });
        match started {
            Ok(_) => Self {
                totals,
                retired: Some(tx),
            },
            Err(e) => {
                tracing::warn!(
                    "kernel data plane: cannot read the sessions' drop counters ({e}): its drops \
                     are neither summed up nor logged"
                );
                Self {
                    totals,
                    retired: None,
                }
            }
        }
    }

    /// The totals at the thread's last look.
    pub(super) fn totals(&self) -> DataplaneTotals {
        self.totals.lock().map(|t| *t).unwrap_or_default()
    }

    /// Session `tid`/`sid` is about to be deleted; `info` is its last counters.
    pub(super) fn retire(&self, tid: u32, sid: u32, info: KernelSessionInfo) {
        if let Some(tx) = &self.retired {
            let _ = tx.send(Retired {
                ids: (tid, sid),
                info,
            });
        }
    }
}

/// The thread: a dump every `period`, the removed sessions' last counters in between.
fn run(genl: &L2tpGenl, period: Duration, rx: &Receiver<Retired>, out: &Mutex<DataplaneTotals>) {
    let mut sum = Sum::default();
    let mut next = Instant::now() + period;
    loop {
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(r) => sum.retire(r.ids, &r.info),
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = sum.dump(|each| genl.each_session_info(each)) {
                    tracing::debug!("kernel data plane: drop counters: {e}");
                }
                // A full period between two dumps, however long one takes.
                next = Instant::now() + period;
            }
        }
        if let Ok(mut t) = out.lock() {
            *t = sum.totals;
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
        let mut s = Sum::default();
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
        let mut s = Sum::default();
        s.take(&[((1, 10), info(5, 0, 5, 0)), ((1, 11), info(0, 2, 2, 0))]);
        // 1/10 is removed, with one more wrong cookie since: counted, then forgotten.
        s.retire((1, 10), &info(6, 0, 6, 0));
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
        let mut s = Sum::default();
        s.take(&[((1, 10), info(0, 9, 9, 0))]);
        s.take(&[((1, 10), info(0, 1, 1, 0))]);
        assert_eq!(s.totals.seq_errors, 10);
        assert_eq!(s.totals.rx_errors, 0);
    }

    #[test]
    fn counters_read_one_after_the_other_count_nothing_twice() {
        let mut s = Sum::default();
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
        let mut s = Sum::default();
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
}
