//! Data packets that arrive before their session.
//!
//! A peer that starts PPP at once sends its first LCP Configure-Request right behind the ICCN
//! (Windows' and Apple's clients do), and the worker often reads both in one batch. The ICCN
//! goes to the control plane, which installs the session; the Configure-Request, read a moment
//! earlier than its session exists, would be dropped, and the peer's PPP held up for its
//! restart timer (RFC 1661 §4.6: seconds). So a data packet for a session the worker does not
//! know, on one of its tunnels, is handed to the control plane behind the ICCN
//! ([`crate::SinkEvent::EarlyData`]), on the same queue: the control plane handles the ICCN
//! first, then gives the packet back ([`crate::UserspaceDataplane::handle_data`]), and it is
//! delivered as if it had just arrived. A packet given back that still finds no session is
//! counted `rx_unknown_session` and dropped, never handed over again.
//!
//! A peer could send data packets for session ids that do not exist to keep the control plane
//! busy; each worker hands over at most [`BURST`] at once and [`RATE`] a second (a token
//! bucket), and counts the rest `rx_unknown_session` as before.

use std::time::Instant;

/// The most early packets a worker hands over at once.
pub(super) const BURST: u32 = 256;
/// Early packets a worker may hand over a second, on average.
pub(super) const RATE: u32 = 256;

/// A worker's token bucket for early packets.
#[derive(Debug)]
pub(super) struct EarlyBudget {
    /// Tokens left, in millitokens (a token is one packet).
    milli: u64,
    last: Option<Instant>,
}

impl Default for EarlyBudget {
    fn default() -> Self {
        Self {
            milli: u64::from(BURST) * 1000,
            last: None,
        }
    }
}

impl EarlyBudget {
    /// Whether one more early packet may be handed over at `now` (taking its token).
    pub(super) fn take(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let ms = now.saturating_duration_since(last).as_millis();
            let refill = u64::try_from(ms).unwrap_or(u64::MAX);
            self.milli = self
                .milli
                .saturating_add(refill.saturating_mul(u64::from(RATE)))
                .min(u64::from(BURST) * 1000);
        }
        self.last = Some(now);
        if self.milli < 1000 {
            return false;
        }
        self.milli -= 1000;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate() {
        let mut b = EarlyBudget::default();
        let t0 = Instant::now();
        let taken = (0..BURST + 10).filter(|_| b.take(t0)).count();
        assert_eq!(taken, BURST as usize);
        assert!(!b.take(t0));
        // A tenth of a second later: a tenth of the rate.
        let t1 = t0 + Duration::from_millis(100);
        let taken = (0..RATE).filter(|_| b.take(t1)).count();
        assert_eq!(taken, (RATE / 10) as usize);
        // Long idle: full again, never more.
        let t2 = t1 + Duration::from_secs(3600);
        let taken = (0..BURST * 2).filter(|_| b.take(t2)).count();
        assert_eq!(taken, BURST as usize);
    }
}
