//! The data activity of native PPP sessions, for the engine's idle timeout and adaptive LCP
//! echo ([`DataplaneEvent::PppActivity`]).
//!
//! While there are native sessions, the thread that reads their frames ([`super::native`])
//! reads the kernel's counters of every session once a [`PPP_ACTIVITY_PERIOD`] (one generic
//! netlink dump, whatever the number of sessions) and reports the sessions whose packets moved
//! since the last report, each way. Without native sessions it reads nothing.
//!
//! The kernel counts every packet of a session, its PPP control frames with its data. The
//! control frames pass through the daemon (read on the channel and the unit, written on the
//! channel), which counts them ([`ControlCount`]) and leaves them out: an LCP echo is no sign
//! that a user is active. What is left is data. Each way keeps the highest data count seen, so
//! that a control frame the kernel counted before the daemon read it (a count that goes back
//! down once it is read) is reported at most once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use l2tp_dataplane::kernel::{KernelSessionInfo, L2tpGenl};
use tokio::sync::mpsc::UnboundedSender;

use super::super::api::{DataplaneEvent, PPP_ACTIVITY_PERIOD};

/// The PPP control frames of one session, as the daemon read and wrote them.
#[derive(Debug, Default)]
pub(super) struct ControlCount {
    received: AtomicU64,
    sent: AtomicU64,
}

impl ControlCount {
    /// A control frame was read.
    pub(super) fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    /// A control frame is about to be written; [`ControlCount::unsent`] if that fails. Counted
    /// before the kernel can count it, so that it never looks like data.
    pub(super) fn sending(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// The frame of the last [`ControlCount::sending`] was not written.
    pub(super) fn unsent(&self) {
        self.sent.fetch_sub(1, Ordering::Relaxed);
    }

    fn load(&self) -> (u64, u64) {
        (
            self.received.load(Ordering::Relaxed),
            self.sent.load(Ordering::Relaxed),
        )
    }
}

/// Data counts of a session (the kernel's packets less the control frames), the highest seen.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
struct Seen {
    rx: u64,
    tx: u64,
}

/// The activity reports of the reading thread.
#[derive(Debug)]
pub(super) struct Activity {
    /// Its own connection to the kernel (the data plane's is the daemon's thread's); `None`
    /// when it could not be opened, and then nothing is reported.
    genl: Option<L2tpGenl>,
    /// When the next report is due; `None` while there is no native session.
    next: Option<Instant>,
    /// By session key (a session made again with the same ids starts anew).
    seen: HashMap<u64, Seen>,
}

impl Activity {
    /// Opens the thread's own generic netlink connection.
    pub(super) fn new() -> Self {
        let genl = L2tpGenl::open()
            .map_err(|e| {
                tracing::warn!(
                    "kernel data plane: cannot read the PPP sessions' counters ({e}): idle \
                     timeouts and adaptive LCP echo see no data"
                );
            })
            .ok();
        Self {
            genl,
            next: None,
            seen: HashMap::new(),
        }
    }

    /// How long the thread may wait for frames: until the next report while there are native
    /// sessions (`any`), else for ever (`None`).
    pub(super) fn wait(&mut self, now: Instant, any: bool) -> Option<Duration> {
        if !any || self.genl.is_none() {
            self.next = None;
            self.seen.clear();
            return None;
        }
        let next = *self.next.get_or_insert(now + PPP_ACTIVITY_PERIOD);
        Some(next.saturating_duration_since(now))
    }

    /// Whether a report is due.
    pub(super) fn due(&self, now: Instant) -> bool {
        self.next.is_some_and(|t| t <= now)
    }

    /// Reads the counters of every session (one dump) and reports those of `sessions` (ids,
    /// key and control frames) whose data moved since the last report.
    pub(super) fn report<'a>(
        &mut self,
        now: Instant,
        sessions: impl IntoIterator<Item = ((u32, u32), u64, &'a ControlCount)>,
        events: &UnboundedSender<DataplaneEvent>,
    ) {
        self.next = Some(now + PPP_ACTIVITY_PERIOD);
        let Some(genl) = &self.genl else { return };
        let infos = match genl.session_infos() {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!("kernel data plane: PPP session counters: {e}");
                return;
            }
        };
        let control: HashMap<(u32, u32), Control> = sessions
            .into_iter()
            .map(|(ids, key, c)| {
                let (rx, tx) = c.load();
                (ids, Control { key, rx, tx })
            })
            .collect();
        let moved = moved(&mut self.seen, &infos, &control);
        if !moved.is_empty() {
            let _ = events.send(DataplaneEvent::PppActivity { sessions: moved });
        }
    }
}

/// A native session's key and control frames received and sent, at a report.
#[derive(Clone, Copy, Debug)]
struct Control {
    key: u64,
    rx: u64,
    tx: u64,
}

/// The sessions of `control` whose data counts (`infos`, the kernel's counters, less the
/// control frames) rose above those in `seen`, as (tid, sid, received, sent); `seen` is
/// updated, and forgets the sessions no longer there.
fn moved(
    seen: &mut HashMap<u64, Seen>,
    infos: &[((u32, u32), KernelSessionInfo)],
    control: &HashMap<(u32, u32), Control>,
) -> Vec<(u32, u32, bool, bool)> {
    seen.retain(|key, _| control.values().any(|c| c.key == *key));
    let mut out = Vec::new();
    for (ids, info) in infos {
        let Some(c) = control.get(ids) else {
            continue;
        };
        let now = Seen {
            rx: info.rx_packets.saturating_sub(c.rx),
            tx: info.tx_packets.saturating_sub(c.tx),
        };
        let last = seen.entry(c.key).or_default();
        let (rx, tx) = (now.rx > last.rx, now.tx > last.tx);
        last.rx = last.rx.max(now.rx);
        last.tx = last.tx.max(now.tx);
        if rx || tx {
            out.push((ids.0, ids.1, rx, tx));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control frames of sessions 1/10 (key 0), 1/11 (key 1), as (rx, tx) each.
    fn ctl(a: (u64, u64), b: Option<(u64, u64)>) -> HashMap<(u32, u32), Control> {
        let mut m = HashMap::from([(
            (1, 10),
            Control {
                key: 0,
                rx: a.0,
                tx: a.1,
            },
        )]);
        if let Some((rx, tx)) = b {
            m.insert((1, 11), Control { key: 1, rx, tx });
        }
        m
    }

    fn info(rx: u64, tx: u64) -> KernelSessionInfo {
        KernelSessionInfo {
            rx_packets: rx,
            tx_packets: tx,
            ..KernelSessionInfo::default()
        }
    }

    #[test]
    fn only_data_counts_and_only_once() {
        let mut seen = HashMap::new();
        let control = ctl((4, 5), Some((2, 2)));
        // Session 1/10: 4 frames in and 5 out, all control; 1/11: one data packet each way;
        // 2/20 is not a native session of ours.
        let infos = [
            ((1, 10), info(4, 5)),
            ((1, 11), info(3, 3)),
            ((2, 20), info(100, 100)),
        ];
        assert_eq!(
            moved(&mut seen, &infos, &control),
            vec![(1, 11, true, true)]
        );
        // Nothing new: nothing reported.
        assert_eq!(moved(&mut seen, &infos, &control), vec![]);
        // Echoes both ways on 1/10 (the daemon counted them): still nothing; one packet sent
        // on 1/11.
        let control = ctl((6, 7), Some((2, 2)));
        let infos = [((1, 10), info(6, 7)), ((1, 11), info(3, 4))];
        assert_eq!(
            moved(&mut seen, &infos, &control),
            vec![(1, 11, false, true)]
        );
    }

    #[test]
    fn a_control_frame_counted_before_it_is_read_is_reported_at_most_once() {
        let mut seen = HashMap::new();
        // The kernel counted a frame the daemon has not read yet: it looks like data.
        let infos = [((1, 10), info(5, 0))];
        let control = ctl((4, 0), None);
        assert_eq!(
            moved(&mut seen, &infos, &control),
            vec![(1, 10, true, false)]
        );
        // Read now: the data count goes back to 0; nothing is reported.
        let control = ctl((5, 0), None);
        assert_eq!(moved(&mut seen, &infos, &control), vec![]);
        // A frame counted as sent before the kernel sent it: no data, no wrap-around.
        let control = ctl((5, 1), None);
        assert_eq!(moved(&mut seen, &infos, &control), vec![]);
    }

    #[test]
    fn a_session_made_again_with_the_same_ids_starts_anew() {
        let mut seen = HashMap::new();
        let infos = [((1, 10), info(30, 30))];
        let _ = moved(&mut seen, &infos, &ctl((0, 0), None));
        assert!(seen.contains_key(&0));
        // Gone, and made again (key 7) with fresh counters, all within one period.
        let again = HashMap::from([(
            (1, 10),
            Control {
                key: 7,
                rx: 0,
                tx: 0,
            },
        )]);
        assert_eq!(
            moved(&mut seen, &[((1, 10), info(1, 0))], &again),
            vec![(1, 10, true, false)]
        );
        assert!(!seen.contains_key(&0));
        let _ = moved(&mut seen, &[], &HashMap::new());
        assert!(seen.is_empty());
    }
}
