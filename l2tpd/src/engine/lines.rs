//! The log-line budget of each tunnel's sessions: a peer that opens and closes sessions as
//! fast as it can (ICRQ, ICCN, CDN in a loop), or whose every login fails and is tried again,
//! would otherwise have each session's up, PPP, authentication and down lines written, some
//! thousands a second from one tunnel. Each tunnel gets [`LINES_PER_WINDOW`] of those lines per
//! window of a second (`crate::discards::WINDOW`); the rest are counted and summed up in one
//! line per tunnel once the window has passed (at the engine's next input or timer,
//! [`SessionLines::tick`]). Watchers, scripts, RADIUS accounting and the counters of
//! `show system` still hear of every session.

use std::collections::HashMap;
use std::time::Instant;

use crate::discards::Budget;

/// The session lines one tunnel may log per window.
pub(super) const LINES_PER_WINDOW: u32 = 20;

/// The budgets, by local tunnel id; a tunnel's goes once its window passed.
#[derive(Debug, Default)]
pub(super) struct SessionLines {
    budgets: HashMap<u32, Budget>,
}

impl SessionLines {
    /// Whether a line about a session of tunnel `tid` may be logged at `now`; if not, it is
    /// counted for the tunnel's summary.
    pub(super) fn admit(&mut self, now: Instant, tid: u32) -> bool {
        let b = self.budgets.entry(tid).or_insert_with(|| Budget::new(now));
        if b.passed(now) {
            summary(tid, b.restart(now));
        }
        b.admit(LINES_PER_WINDOW)
    }

    /// Sums up, one line per tunnel, the lines not logged in windows that have passed, and
    /// forgets those budgets.
    pub(super) fn tick(&mut self, now: Instant) {
        self.budgets.retain(|tid, b| {
            if !b.passed(now) {
                return true;
            }
            summary(*tid, b.restart(now));
            false
        });
    }
}

/// The line for the `left_out` lines of tunnel `tid` not logged in a window of `age` seconds.
fn summary(tid: u32, left_out: Option<(u64, u64)>) {
    if let Some((n, age)) = left_out {
        tracing::warn!(
            "tunnel {tid}: {n} more session line(s) in the last {age}s not logged (sessions \
             set up, refused or ended faster than {LINES_PER_WINDOW} lines a second; see \
             l2tpctl show system)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discards::WINDOW;

    #[test]
    fn a_tunnel_past_its_budget_is_summed_up_and_others_are_not_touched() {
        let t0 = Instant::now();
        let mut l = SessionLines::default();
        let admitted = (0..100).filter(|_| l.admit(t0, 7)).count();
        assert_eq!(admitted, LINES_PER_WINDOW as usize);
        // Another tunnel has its own budget.
        assert!(l.admit(t0, 8));
        // Within the window, nothing is summed up and the budget stays spent.
        l.tick(t0 + WINDOW / 2);
        assert!(!l.admit(t0 + WINDOW / 2, 7));
        // Once the window passed: summed up (81 lines left out) and forgotten.
        assert_eq!(
            l.budgets.get_mut(&7).and_then(|b| b.restart(t0 + WINDOW)),
            Some((81, 1))
        );
        l.tick(t0 + 2 * WINDOW);
        assert!(l.budgets.is_empty());
        assert!(l.admit(t0 + 2 * WINDOW, 7));
    }
}
