//! A token bucket: at most `BURST` at once, `RATE` a second on average. The data-path threads
//! budget the early packets and each native-PPP session's control frames with it
//! ([`crate::ppp::ControlBudget`]), and so does l2tpd's kernel data plane for the control frames
//! it reads from a native session's PPP channel.

use std::time::Instant;

/// A token bucket of `BURST` tokens refilled at `RATE` a second, full to start with.
#[derive(Debug)]
pub struct TokenBucket<const BURST: u32, const RATE: u32> {
    /// Tokens left, in millitokens.
    milli: u64,
    last: Option<Instant>,
}

impl<const BURST: u32, const RATE: u32> Default for TokenBucket<BURST, RATE> {
    fn default() -> Self {
        Self {
            milli: u64::from(BURST) * 1000,
            last: None,
        }
    }
}

impl<const BURST: u32, const RATE: u32> TokenBucket<BURST, RATE> {
    /// Whether a token is left at `now` (taking it).
    pub fn take(&mut self, now: Instant) -> bool {
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
        const BURST: u32 = 256;
        const RATE: u32 = 100;
        let mut b = TokenBucket::<BURST, RATE>::default();
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
