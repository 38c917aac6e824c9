//! How long a graceful stop waits: until the engine has sent every StopCCN (its tunnels wait
//! half a second at most for their native-PPP links, then it sends them as fast as it can),
//! then [`SHUTDOWN_GRACE`] from the signal, and at least [`ACK_WAIT`] after
//! the last StopCCN, since the main loop may have been busy closing sessions for longer than
//! the grace itself. With 100 000 native-PPP sessions their goodbyes (Terminate-Requests, the
//! Terminate-Acks, then every session's teardown) held the loop some 6 s on a loaded machine:
//! the StopCCNs went out when the grace was over, and the daemon stopped before any peer could
//! acknowledge one (and would not have sent one again); a loop busier still would have
//! stopped before sending them.

use std::time::{Duration, Instant};

/// The longest a graceful stop waits for peers once every StopCCN is out, from the signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The least time the peers get to acknowledge the StopCCNs once the last is out: one
/// retransmission of a lost one (the first comes after 1 s, RFC 2661 §5.8) and its answer.
pub(super) const ACK_WAIT: Duration = Duration::from_secs(2);

/// A graceful stop under way.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stopping {
    /// When the signal came.
    since: Instant,
    /// The stop goes ahead, whatever is still unacknowledged, once this is past.
    deadline: Instant,
    /// Whether the engine's last StopCCN has gone out.
    goodbyes_out: bool,
}

impl Stopping {
    /// A stop that began at `now`.
    pub(super) fn new(now: Instant) -> Self {
        Stopping {
            since: now,
            deadline: now + SHUTDOWN_GRACE,
            goodbyes_out: false,
        }
    }

    /// The engine's StopCCNs were all sent by `now` (it waits for nothing but their
    /// acknowledgements): the peers get at least [`ACK_WAIT`] from the first such `now`.
    pub(super) fn goodbyes_out(&mut self, now: Instant) {
        if !self.goodbyes_out {
            self.goodbyes_out = true;
            self.deadline = self.deadline.max(now + ACK_WAIT);
        }
    }

    /// When the stop goes ahead anyway, once every StopCCN is out.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.goodbyes_out.then_some(self.deadline)
    }

    /// Whether the wait is over at `now` (never before every StopCCN is out); if so, how long
    /// it lasted.
    pub(super) fn over(&self, now: Instant) -> Option<Duration> {
        (self.goodbyes_out && now >= self.deadline).then(|| now - self.since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopccns_sent_late_still_get_their_wait() {
        let t0 = Instant::now();
        let mut s = Stopping::new(t0);
        // The loop was busy for 6 s, past the grace, before the StopCCNs went out.
        let out = t0 + Duration::from_secs(6);
        s.goodbyes_out(out);
        assert_eq!(s.over(out + Duration::from_millis(100)), None);
        assert_eq!(s.over(out + ACK_WAIT - Duration::from_millis(1)), None);
        assert_eq!(
            s.over(out + ACK_WAIT),
            Some(Duration::from_secs(6) + ACK_WAIT)
        );
        // Only the first time counts: the wait does not move on.
        s.goodbyes_out(out + Duration::from_secs(1));
        assert_eq!(s.deadline(), Some(out + ACK_WAIT));
    }

    #[test]
    fn the_grace_does_not_cut_off_stopccns_still_to_be_sent() {
        let t0 = Instant::now();
        let mut s = Stopping::new(t0);
        assert_eq!(s.over(t0 + SHUTDOWN_GRACE + Duration::from_secs(1)), None);
        let out = t0 + SHUTDOWN_GRACE + Duration::from_secs(2);
        s.goodbyes_out(out);
        assert_eq!(s.over(out), None);
        assert!(s.over(out + ACK_WAIT).is_some());
    }

    #[test]
    fn stopccns_sent_early_wait_for_the_whole_grace() {
        let t0 = Instant::now();
        let mut s = Stopping::new(t0);
        s.goodbyes_out(t0 + Duration::from_millis(500));
        assert_eq!(s.deadline(), Some(t0 + SHUTDOWN_GRACE));
        assert_eq!(s.over(t0 + SHUTDOWN_GRACE - Duration::from_millis(1)), None);
        assert!(s.over(t0 + SHUTDOWN_GRACE).is_some());
    }
}
