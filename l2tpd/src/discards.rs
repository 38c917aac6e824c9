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

/// One window of a log-line budget: the lines logged in it and those not.
#[derive(Debug)]
pub(crate) struct Budget {
    start: Instant,
    lines: u32,
    suppressed: u64,
}

impl Budget {
    /// A window starting at `now`.
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            start: now,
            lines: 0,
            suppressed: 0,
        }
    }

    /// Whether the window has passed at `now`.
    pub(crate) fn passed(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.start) >= WINDOW
    }

    /// Starts a new window at `now`; the lines the last one did not log and its length in
    /// whole seconds (at least 1), if it left any out.
    pub(crate) fn restart(&mut self, now: Instant) -> Option<(u64, u64)> {
        let age = now.saturating_duration_since(self.start).as_secs().max(1);
        let left_out = std::mem::replace(self, Self::new(now)).suppressed;
        (left_out > 0).then_some((left_out, age))
    }

    /// Whether one more line fits in the window's `limit`; if not, it is counted as left out.
    pub(crate) fn admit(&mut self, limit: u32) -> bool {
        if self.lines >= limit {
            self.suppressed += 1;
            return false;
        }
        self.lines += 1;
        true
    }
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
            if b.passed(now)
                && let Some((n, age)) = b.restart(now)
            {
                tracing::warn!("{n} more `{kind}` problem(s) in the last {age}s not logged");
            }
        }
    }

    /// Logs (within budget) that input from `remote` for local tunnel `tunnel_id` had
    /// `problem`.
    pub fn record(&mut self, now: Instant, remote: SocketAddr, tunnel_id: u32, problem: &Discard) {
        if !self.admit(now, problem.kind()) {
            return;
        }
        let tunnel = tunnel_suffix(tunnel_id);
        match problem {
            // Expected under load and limited on purpose, or an optional message the peer may
            // send (an unknown type with the M bit clear, an RFC 5515 CSURQ we never answer, a
            // speed update for a session we cannot apply it to): a notice, not a warning.
            Discard::PeerSetupRate
            | Discard::MaxSetupTunnels
            | Discard::UnsupportedMessage { .. }
            | Discard::SpeedRequestIgnored { .. }
            | Discard::SpeedUpdateIgnored { .. } => {
                crate::notice!("from {remote}{tunnel}: {problem}");
            }
            // The peer's data for a session that was just deleted keeps coming for a moment
            // (or its data plane sends on a tunnel whose sessions we do not carry): counted,
            // and only worth a debug line.
            // So does a CDN that crossed ours (both ends disconnected the session at once).
            Discard::Data | Discard::LateCdn(_) => {
                tracing::debug!("from {remote}{tunnel}: {problem}");
            }
            _ => tracing::warn!("from {remote}{tunnel}: {problem}"),
        }
    }

    /// Logs (within the budget of `kind`) a warning that input from `remote` for local tunnel
    /// `tunnel_id` was discarded, for a reason of the daemon's own (not the protocol's).
    pub fn record_other(
        &mut self,
        now: Instant,
        (remote, tunnel_id): (SocketAddr, u32),
        kind: &'static str,
        what: std::fmt::Arguments<'_>,
    ) {
        if self.admit(now, kind) {
            tracing::warn!("from {remote}{}: {what}", tunnel_suffix(tunnel_id));
        }
    }

    /// Whether a line of `kind` is within its budget; the window restarts (with a summary of
    /// what it did not log) when it has passed.
    fn admit(&mut self, now: Instant, kind: &'static str) -> bool {
        let b = self.budgets.entry(kind).or_insert_with(|| Budget::new(now));
        if b.passed(now)
            && let Some((n, age)) = b.restart(now)
        {
            tracing::warn!("{n} more `{kind}` problem(s) in the last {age}s not logged");
        }
        b.admit(LINES_PER_WINDOW)
    }
}

fn tunnel_suffix(tunnel_id: u32) -> String {
    if tunnel_id == 0 {
        String::new()
    } else {
        format!(" (tunnel {tunnel_id})")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::{Context, Layer};
    use tracing_subscriber::prelude::*;

    use super::*;

    /// Keeps the level and message of every event.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<(tracing::Level, String)>>>);

    struct Message<'a>(&'a mut String);

    impl tracing::field::Visit for Message<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                *self.0 = format!("{value:?}");
            }
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Recorder {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut text = String::new();
            event.record(&mut Message(&mut text));
            if let Ok(mut v) = self.0.lock() {
                v.push((*event.metadata().level(), text));
            }
        }
    }

    #[test]
    fn late_data_packets_are_not_warnings() {
        let recorder = Recorder::default();
        let subscriber = tracing_subscriber::registry().with(recorder.clone());
        let remote = SocketAddr::from(([192, 0, 2, 2], 1701));
        let now = Instant::now();
        tracing::subscriber::with_default(subscriber, || {
            let mut log = DiscardLog::default();
            log.record(now, remote, 7, &Discard::Data);
            log.record(now, remote, 7, &Discard::UnknownSession(9));
            log.record_other(
                now,
                (remote, 100),
                "static_tunnel",
                format_args!("a control message for a static tunnel"),
            );
        });
        let events = recorder.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(events.len(), 3, "{events:?}");
        assert_eq!(events[0].0, tracing::Level::DEBUG, "{events:?}");
        assert!(events[0].1.contains("data packet"), "{events:?}");
        assert_eq!(events[1].0, tracing::Level::WARN, "{events:?}");
        assert!(events[1].1.contains("(tunnel 7)"), "{events:?}");
        assert_eq!(events[2].0, tracing::Level::WARN, "{events:?}");
        assert!(
            events[2].1.contains("(tunnel 100): a control message"),
            "{events:?}"
        );
    }
}
