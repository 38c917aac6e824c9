//! The log-line budget of each tunnel's sessions: a peer that opens and closes sessions as
//! fast as it can (ICRQ, ICCN, CDN in a loop), or whose every login fails and is tried again,
//! would otherwise have each session's up, PPP, authentication and down lines written, some
//! thousands a second from one tunnel. Each tunnel gets [`LINES_PER_WINDOW`] of those lines per
//! [`WINDOW`]; the rest are counted and summed up in one line per tunnel once the window has
//! passed (at the engine's next input or timer, [`SessionLines::tick`]). Watchers, scripts,
//! RADIUS accounting and the counters of `show system` still hear of every session.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The session lines one tunnel may log per [`WINDOW`].
pub(super) const LINES_PER_WINDOW: u32 = 20;
/// The length of a budget window.
pub(super) const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Budget {
    start: Instant,
    lines: u32,
    suppressed: u64,
}

/// The budgets, by local tunnel id; a tunnel's goes once its window passed with nothing
/// suppressed.
#[derive(Debug, Default)]
pub(super) struct SessionLines {
    budgets: HashMap<u32, Budget>,
}

impl SessionLines {
    /// Whether a line about a session of tunnel `tid` may be logged at `now`; if not, it is
    /// counted for the tunnel's summary.
    pub(super) fn admit(&mut self, now: Instant, tid: u32) -> bool {
        let b = self.budgets.entry(tid).or_insert(Budget {
            start: now,
            lines: 0,
            suppressed: 0,
        });
        if now.saturating_duration_since(b.start) >= WINDOW && b.suppressed == 0 {
            *b = Budget {
                start: now,
                lines: 0,
                suppressed: 0,
            };
        }
        if b.lines < LINES_PER_WINDOW {
            b.lines += 1;
            true
        } else {
            b.suppressed += 1;
            false
        }
    }

    /// Sums up, one line per tunnel, the lines not logged in windows that have passed, and
    /// forgets the budgets of tunnels quiet for a window.
    pub(super) fn tick(&mut self, now: Instant) {
        self.budgets.retain(|tid, b| {
            let age = now.saturating_duration_since(b.start);
            if age < WINDOW {
                return true;
            }
            if b.suppressed > 0 {
                tracing::warn!(
                    "tunnel {tid}: {} more session line(s) in the last {}s not logged (sessions \
                     set up, refused or ended faster than {LINES_PER_WINDOW} lines a second; \
                     see l2tpctl show system)",
                    b.suppressed,
                    age.as_secs().max(1)
                );
            }
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(l.budgets[&7].suppressed, 81);
        // Once the window passed: summed up and forgotten; a new window starts.
        l.tick(t0 + WINDOW);
        assert!(l.budgets.is_empty());
        assert!(l.admit(t0 + WINDOW, 7));
    }
}
