//! Time and randomness for the protocol engine: `std::time::Instant` mapped onto
//! `l2tp_proto`'s microsecond [`proto::time::Instant`] (epoch: the clock's creation), and ids,
//! challenges, nonces and cookies from the operating system ([`OsRng`], `getrandom(2)`).

use std::time::{Duration, Instant};

use l2tp_proto as proto;

/// Randomness from the operating system (`getrandom(2)`).
#[derive(Debug, Default)]
pub struct OsRng;

impl proto::Rng for OsRng {
    fn fill(&mut self, buf: &mut [u8]) {
        if let Err(e) = getrandom::fill(buf) {
            // Predictable ids, challenges and nonces would be a security hole: stop instead.
            crate::critical!("the operating system's random number generator failed: {e}");
            std::process::abort();
        }
    }
}

/// Converts between the daemon's and the protocol library's instants.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock whose epoch is `now`.
    pub(super) fn new(now: Instant) -> Self {
        Self { epoch: now }
    }

    /// `now` as the protocol library counts it.
    pub(super) fn to_proto(self, now: Instant) -> proto::time::Instant {
        let micros = now.saturating_duration_since(self.epoch).as_micros();
        proto::time::Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// A protocol-library instant as the daemon counts it.
    pub(super) fn to_std(self, t: proto::time::Instant) -> Instant {
        self.epoch + Duration::from_micros(t.as_micros())
    }
}
