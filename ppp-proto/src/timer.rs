//! The named deadlines of one link: one `u64` per [`TimerKind`] (quinn's timer table), 8 octets
//! each, `u64::MAX` meaning unset. The link's next deadline is the minimum.

use l2tp_proto::time::Instant;

/// The deadlines of a link.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[repr(usize)]
pub(crate) enum TimerKind {
    /// The restart timer of LCP (RFC 1661 §4.6).
    LcpRestart,
    /// The restart timer of IPCP.
    IpcpRestart,
    /// The restart timer of IPv6CP.
    Ipv6cpRestart,
    /// Retransmission of our CHAP Challenge (RFC 1994 §4.1); in the network phase with no
    /// Challenge out, the next re-challenge (RFC 1994 §2).
    ChallengeRestart,
    /// Retransmission of our PAP Authenticate-Request or CHAP Response (RFC 1334 §2.2.1,
    /// RFC 1994 §4.1).
    AuthRestart,
    /// The end of the time allowed for authentication.
    AuthDeadline,
    /// The next LCP Echo-Request.
    Echo,
    /// The idle timeout, checked against the last data activity.
    Idle,
    /// The session timeout.
    Session,
}

const KINDS: usize = 9;
const UNSET: u64 = u64::MAX;

/// One deadline per [`TimerKind`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerTable([u64; KINDS]);

impl Default for TimerTable {
    fn default() -> Self {
        Self([UNSET; KINDS])
    }
}

impl TimerTable {
    pub(crate) fn set(&mut self, kind: TimerKind, at: Instant) {
        // An instant of u64::MAX microseconds (half a million years) reads as unset.
        self.0[kind as usize] = at.as_micros().min(UNSET - 1);
    }

    pub(crate) fn stop(&mut self, kind: TimerKind) {
        self.0[kind as usize] = UNSET;
    }

    pub(crate) fn get(&self, kind: TimerKind) -> Option<Instant> {
        let at = self.0[kind as usize];
        (at != UNSET).then(|| Instant::from_micros(at))
    }

    /// Whether `kind` is set and due at `now`; a due timer is cleared.
    pub(crate) fn take_expired(&mut self, kind: TimerKind, now: Instant) -> bool {
        let at = self.0[kind as usize];
        if at != UNSET && at <= now.as_micros() {
            self.0[kind as usize] = UNSET;
            true
        } else {
            false
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        let at = *self.0.iter().min()?;
        (at != UNSET).then(|| Instant::from_micros(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_and_expiry() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(TimerKind::Echo, Instant::from_secs(30));
        t.set(TimerKind::LcpRestart, Instant::from_secs(3));
        assert_eq!(t.next(), Some(Instant::from_secs(3)));
        assert!(!t.take_expired(TimerKind::LcpRestart, Instant::from_secs(2)));
        assert!(t.take_expired(TimerKind::LcpRestart, Instant::from_secs(3)));
        assert_eq!(t.get(TimerKind::LcpRestart), None);
        assert_eq!(t.next(), Some(Instant::from_secs(30)));
        t.stop(TimerKind::Echo);
        assert_eq!(t.next(), None);
        t.set(TimerKind::Session, Instant::from_micros(u64::MAX));
        assert!(t.next().is_some());
    }
}
