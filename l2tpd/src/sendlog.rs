//! Log lines for datagrams the daemon could not send.
//!
//! A peer that cannot be reached (a firewall drops what is sent to it, its IPsec security
//! association is gone, no route) fails every retransmission of every message to it, so a
//! line per failure would fill the log for as long as the tunnel lasts. The first failure
//! towards a peer is logged; further ones are counted and summed up in one line once
//! [`SUMMARY_EVERY`] has passed, or as soon as a datagram to that peer leaves again. Every
//! failure is counted in `show system` (`tx_errors`) regardless.

use std::collections::HashMap;
use std::fmt::Display;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long further failures towards one peer are only counted.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);
/// Most peers remembered at once; beyond them failures are counted but not logged.
const MAX_PEERS: usize = 4096;

#[derive(Debug)]
struct Quiet {
    since: Instant,
    suppressed: u64,
}

/// What to log for a failure or a success.
#[derive(Debug, Eq, PartialEq)]
pub enum Line {
    /// The failure, with how many to this peer went unlogged before it, over how many seconds.
    Failure { unlogged: u64, over_s: u64 },
    /// Sending to a peer works again after `unlogged` failures that were not logged.
    Recovered { unlogged: u64 },
}

/// The peers whose failures are being summed up.
#[derive(Debug, Default)]
pub struct SendFailures {
    peers: HashMap<SocketAddr, Quiet>,
    /// Failures towards peers beyond [`MAX_PEERS`], reported with the next logged one.
    overflow: u64,
}

impl SendFailures {
    /// Records that sending to `remote` failed; the line to log, if any.
    pub fn failed(&mut self, now: Instant, remote: SocketAddr) -> Option<Line> {
        if let Some(q) = self.peers.get_mut(&remote) {
            let over = now.saturating_duration_since(q.since);
            if over < SUMMARY_EVERY {
                q.suppressed += 1;
                return None;
            }
            let unlogged = q.suppressed;
            *q = Quiet {
                since: now,
                suppressed: 0,
            };
            return Some(Line::Failure {
                unlogged,
                over_s: over.as_secs(),
            });
        }
        if self.peers.len() >= MAX_PEERS {
            self.peers
                .retain(|_, q| now.saturating_duration_since(q.since) < SUMMARY_EVERY);
            if self.peers.len() >= MAX_PEERS {
                self.overflow += 1;
                return None;
            }
        }
        self.peers.insert(
            remote,
            Quiet {
                since: now,
                suppressed: 0,
            },
        );
        let unlogged = std::mem::take(&mut self.overflow);
        Some(Line::Failure {
            unlogged,
            over_s: 0,
        })
    }

    /// Records that a datagram to `remote` left; the line to log, if failures to it went
    /// unlogged.
    pub fn sent(&mut self, remote: SocketAddr) -> Option<Line> {
        if self.peers.is_empty() {
            return None;
        }
        let q = self.peers.remove(&remote)?;
        (q.suppressed > 0).then_some(Line::Recovered {
            unlogged: q.suppressed,
        })
    }

    /// Records and logs a failure to send to `remote`.
    pub fn log_failure(&mut self, now: Instant, remote: SocketAddr, error: &dyn Display) {
        match self.failed(now, remote) {
            Some(Line::Failure { unlogged: 0, .. }) => {
                tracing::warn!("sending to {remote}: {error}");
            }
            Some(Line::Failure { unlogged, over_s }) => tracing::warn!(
                "sending to {remote}: {error} ({unlogged} more failure(s) in the last {}s not \
                 logged)",
                over_s.max(1)
            ),
            Some(Line::Recovered { .. }) | None => {}
        }
    }

    /// Records (and logs, if failures went unlogged) that a datagram to `remote` left.
    pub fn log_sent(&mut self, remote: SocketAddr) {
        if let Some(Line::Recovered { unlogged }) = self.sent(remote) {
            crate::notice!(
                "sending to {remote} works again ({unlogged} failure(s) since the last logged \
                 one)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(n: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 2], n))
    }

    #[test]
    fn one_line_per_peer_then_a_summary_a_minute() {
        let t0 = Instant::now();
        let mut f = SendFailures::default();
        assert_eq!(
            f.failed(t0, peer(1)),
            Some(Line::Failure {
                unlogged: 0,
                over_s: 0
            })
        );
        // Another peer has its own line.
        assert!(f.failed(t0, peer(2)).is_some());
        for s in 1..60 {
            assert_eq!(f.failed(t0 + Duration::from_secs(s), peer(1)), None);
        }
        assert_eq!(
            f.failed(t0 + Duration::from_secs(61), peer(1)),
            Some(Line::Failure {
                unlogged: 59,
                over_s: 61
            })
        );
        assert_eq!(f.failed(t0 + Duration::from_secs(62), peer(1)), None);
        assert_eq!(
            f.sent(peer(1)),
            Some(Line::Recovered { unlogged: 1 }),
            "a success sums up what went unlogged"
        );
        // Forgotten: the next failure is logged at once.
        assert!(f.failed(t0 + Duration::from_secs(63), peer(1)).is_some());
        assert_eq!(f.sent(peer(1)), None, "nothing unlogged");
        assert_eq!(f.sent(peer(3)), None);
    }

    #[test]
    fn peers_beyond_the_bound_are_counted_into_the_next_line() {
        let t0 = Instant::now();
        let mut f = SendFailures::default();
        for n in 0..MAX_PEERS {
            let port = u16::try_from(n).unwrap_or(u16::MAX);
            assert!(f.failed(t0, peer(port)).is_some());
        }
        let extra = SocketAddr::from(([198, 51, 100, 1], 1701));
        assert_eq!(f.failed(t0, extra), None);
        assert_eq!(f.failed(t0, extra), None);
        assert_eq!(f.peers.len(), MAX_PEERS);
        // Once the old entries have aged out, the next peer's line carries the count.
        assert_eq!(
            f.failed(t0 + SUMMARY_EVERY, extra),
            Some(Line::Failure {
                unlogged: 2,
                over_s: 0
            })
        );
        assert_eq!(f.peers.len(), 1);
    }
}
