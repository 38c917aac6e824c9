//! Log lines for input the engine discarded or refused: each names the peer and the problem.
//!
//! A flood of bad packets must not become a flood of log lines, so each kind of problem
//! gets at most [`LINES_PER_WINDOW`] lines per [`WINDOW`]; the rest are counted and summed up in
//! one line once the window has passed (at the next input or timer, see [`DiscardLog::tick`]).
//! Every discard is counted in `show system` regardless.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use l2tp_proto::Discard;

/// The log-line budget of one kind of problem.
pub const LINES_PER_WINDOW: u32 = 10;
/// The length of a budget window.
pub const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Budget {
    start: Instant,
    lines: u32,
    suppressed: u64,
}

/// The log-line budgets, by kind of problem.
#[derive(Debug, Default)]
pub struct DiscardLog {
    budgets: BTreeMap<&'static str, Budget>,
}

impl DiscardLog {
    /// Sums up the problems not logged in windows that have passed.
    pub fn tick(&mut self, now: Instant) {
        for (kind, b) in &mut self.budgets {
            let age = now.saturating_duration_since(b.start);
            if b.suppressed > 0 && age >= WINDOW {
                tracing::warn!(
                    "{} more `{kind}` problem(s) in the last {}s not logged",
                    b.suppressed,
                    age.as_secs().max(1)
                );
                *b = Budget {
                    start: now,
                    lines: 0,
                    suppressed: 0,
                };
            }
        }
    }

    /// Logs (within budget) that input from `remote` for local tunnel `tunnel_id` had
    /// `problem`.
    pub fn record(&mut self, now: Instant, remote: SocketAddr, tunnel_id: u32, problem: &Discard) {
        let kind = problem.kind();
        let b = self.budgets.entry(kind).or_insert(Budget {
            start: now,
            lines: 0,
            suppressed: 0,
        });
        if now.saturating_duration_since(b.start) >= WINDOW {
            if b.suppressed > 0 {
                tracing::warn!(
                    "{} more `{kind}` problem(s) in the last {}s not logged",
                    b.suppressed,
                    now.saturating_duration_since(b.start).as_secs().max(1)
                );
            }
            *b = Budget {
                start: now,
                lines: 0,
                suppressed: 0,
            };
        }
        if b.lines >= LINES_PER_WINDOW {
            b.suppressed += 1;
            return;
        }
        b.lines += 1;
        let tunnel = if tunnel_id == 0 {
            String::new()
        } else {
            format!(" (tunnel {tunnel_id})")
        };
        match problem {
            // Expected under load and limited on purpose: a notice, not a warning.
            Discard::PeerSetupRate | Discard::MaxSetupTunnels => {
                crate::notice!("from {remote}{tunnel}: {problem}");
            }
            _ => tracing::warn!("from {remote}{tunnel}: {problem}"),
        }
    }
}
