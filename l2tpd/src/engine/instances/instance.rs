//! One persistent instance: where it is ([`InstanceState`]) and how long it waits before its
//! next attempt: exponential back-off, 1 s doubling up to a cap, less a random part of up to a
//! quarter (jitter, so that many instances failing together do not retry together). A tunnel
//! or session that goes down less than [`STABLE`] after it came up (a peer that accepts and
//! drops at once) counts as a failure: its back-off goes on growing.

use std::time::{Duration, Instant};

use l2tp_ctl as ctl;

/// The first wait before retrying a persistent instance; it doubles up to the configured cap.
pub(in crate::engine) const FIRST_RETRY: Duration = Duration::from_secs(1);

/// How long a tunnel or session must have been up for its going down to start the back-off
/// over.
pub(in crate::engine) const STABLE: Duration = Duration::from_secs(60);

/// Which of the two kinds of instance a retry belongs to (tunnels sort first: a session
/// retries into its tunnel).
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub enum InstanceKind {
    Tunnel,
    Session,
}

impl InstanceKind {
    /// The config's word for the block.
    pub fn item(self) -> &'static str {
        match self {
            InstanceKind::Tunnel => "tunnel",
            InstanceKind::Session => "session",
        }
    }
}

/// Where a persistent instance is.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(in crate::engine) enum InstanceState {
    /// Neither running nor waiting: started when it is needed (a session when its tunnel is
    /// up; a tunnel closed for being idle when one of its sessions starts).
    Idle,
    /// Its tunnel or session, by handle.
    Running { handle: u64 },
    /// Deleted with `l2tpctl` while its tunnel or session goes down.
    Stopping { handle: u64 },
    /// Waiting to try again.
    Waiting { until: Instant },
    /// Waiting for the name of its peer to resolve.
    Resolving,
    /// Not tried again (deleted with `l2tpctl`, or `persist false` after a failure) until a
    /// reload changes it.
    Stopped,
}

impl InstanceState {
    /// Its tunnel or session, while there is one.
    pub(in crate::engine) fn handle(self) -> Option<u64> {
        match self {
            InstanceState::Running { handle } | InstanceState::Stopping { handle } => Some(handle),
            _ => None,
        }
    }

    /// Deleted or given up.
    pub(in crate::engine) fn is_stopped(self) -> bool {
        matches!(
            self,
            InstanceState::Stopping { .. } | InstanceState::Stopped
        )
    }

    /// Its tunnel or session went (or is no longer its own): idle, or stopped if it was
    /// being deleted.
    pub(super) fn released(self) -> Self {
        if self.is_stopped() {
            InstanceState::Stopped
        } else {
            InstanceState::Idle
        }
    }
}

/// A persistent instance (`tunnel` or `session` block, or `l2tpctl create`).
#[derive(Debug)]
pub(in crate::engine) struct Instance<R> {
    pub(in crate::engine) resolved: R,
    pub(in crate::engine) created_by: ctl::CreatedBy,
    pub(in crate::engine) state: InstanceState,
    pub(super) backoff: Duration,
    /// Why its last attempt went down, shown while it waits.
    pub(in crate::engine) last_result: Option<ctl::ResultCode>,
    /// A tunnel's peer address for its next attempt, as an index into the addresses of its
    /// peers (see `translate::peer_addr`): it moves on when an attempt fails before the
    /// tunnel came up, and stays while the tunnel works.
    pub(super) attempt: usize,
    /// How many peer addresses the tunnel had at its last attempt.
    pub(super) candidates: usize,
    /// The fixed id (`tunnel_id` or `session_id`) its attempts find in use, once one did: the
    /// first is logged, the retries that find it still in use are not.
    pub(super) id_in_use: Option<u32>,
}

impl<R> Instance<R> {
    pub(super) fn new(resolved: R, created_by: ctl::CreatedBy) -> Self {
        Self {
            resolved,
            created_by,
            state: InstanceState::Idle,
            backoff: FIRST_RETRY,
            last_result: None,
            attempt: 0,
            candidates: 1,
            id_in_use: None,
        }
    }

    /// An attempt failed before the tunnel came up: the next goes to the next peer address.
    /// Returns whether one of them is left untried in this round (then the instance fails
    /// over to it after [`FIRST_RETRY`], [`Self::fail_over`]); once every one failed, the
    /// back-off grows as with one peer ([`Self::schedule_retry`]).
    pub(super) fn next_peer(&mut self) -> bool {
        self.attempt = self.attempt.wrapping_add(1);
        self.candidates > 1 && !self.attempt.is_multiple_of(self.candidates)
    }

    /// Waits [`FIRST_RETRY`] before trying the next peer address; the back-off is left as it
    /// is.
    pub(super) fn fail_over(&mut self, now: Instant) -> Duration {
        self.state = InstanceState::Waiting {
            until: now + FIRST_RETRY,
        };
        FIRST_RETRY
    }

    /// Waits before the next try: the back-off less up to a quarter of it (`jitter`, a random
    /// fraction in `[0, 1)`), the back-off doubled for the try after (up to `cap`).
    pub(super) fn schedule_retry(&mut self, now: Instant, cap: Duration, jitter: f64) -> Duration {
        let base = self.backoff.min(cap);
        let wait = base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0));
        self.state = InstanceState::Waiting { until: now + wait };
        self.backoff = (self.backoff * 2).min(cap);
        wait
    }

    /// Its tunnel or session went down after being up for `up_for` (`None`: it never came
    /// up). Long enough up, the back-off starts over; returns whether it was up, but not for
    /// long (a peer that accepts and drops at once).
    pub(super) fn went_down(&mut self, up_for: Option<Duration>) -> bool {
        match up_for {
            Some(d) if d >= STABLE => {
                self.backoff = FIRST_RETRY;
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// Its tunnel or session is this one now: running, the back-off started over.
    pub(super) fn runs(&mut self, handle: u64) {
        self.state = InstanceState::Running { handle };
        self.backoff = FIRST_RETRY;
        self.id_in_use = None;
    }

    /// An attempt failed with `error`: whether to log it. An id in use is logged the first
    /// time only, while the same id stays in use (its holder, a peer's tunnel or session or
    /// an old one still closing, goes in its own time).
    pub(super) fn note_failure(&mut self, error: Option<&l2tp_proto::CommandError>) -> bool {
        let now_in_use = match error {
            Some(l2tp_proto::CommandError::IdInUse(id)) => Some(*id),
            _ => None,
        };
        let first = now_in_use.is_none() || self.id_in_use != now_in_use;
        self.id_in_use = now_in_use;
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persist_back_off_doubles_up_to_the_cap() {
        let mut i = Instance::new((), ctl::CreatedBy::Config);
        let now = Instant::now();
        let cap = Duration::from_secs(5);
        let waits: Vec<u64> = (0..5)
            .map(|_| i.schedule_retry(now, cap, 0.0).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert_eq!(
            i.state,
            InstanceState::Waiting {
                until: now + Duration::from_secs(5)
            }
        );
        i.runs(7);
        assert_eq!(i.schedule_retry(now, cap, 0.0), FIRST_RETRY);
        // Jitter takes up to a quarter off, never adds.
        let w = i.schedule_retry(now, cap, 0.999);
        assert!(
            w > Duration::from_millis(1500) && w <= Duration::from_secs(2),
            "{w:?}"
        );
    }

    #[test]
    fn a_quick_drop_keeps_the_back_off_growing() {
        let mut i = Instance::new((), ctl::CreatedBy::Config);
        let now = Instant::now();
        let cap = Duration::from_secs(60);
        i.schedule_retry(now, cap, 0.0);
        i.schedule_retry(now, cap, 0.0);
        assert!(i.went_down(Some(Duration::from_secs(2))));
        assert_eq!(i.schedule_retry(now, cap, 0.0), Duration::from_secs(4));
        assert!(!i.went_down(None));
        assert_eq!(i.schedule_retry(now, cap, 0.0), Duration::from_secs(8));
        assert!(!i.went_down(Some(STABLE)));
        assert_eq!(i.schedule_retry(now, cap, 0.0), FIRST_RETRY);
    }

    #[test]
    fn failing_peers_are_tried_in_turn_and_the_back_off_grows_per_round() {
        let mut i = Instance::new((), ctl::CreatedBy::Config);
        i.candidates = 3;
        let now = Instant::now();
        let cap = Duration::from_secs(60);
        // The first and second fail: on to the next at once (after the first step).
        assert!(i.next_peer());
        assert_eq!(i.fail_over(now), FIRST_RETRY);
        assert!(i.next_peer());
        // The third fails too: a round is over, back to the first with the back-off.
        assert!(!i.next_peer());
        assert!(i.attempt.is_multiple_of(i.candidates));
        assert_eq!(i.schedule_retry(now, cap, 0.0), FIRST_RETRY);
        assert!(i.next_peer());
        assert!(i.next_peer());
        assert!(!i.next_peer());
        assert_eq!(i.schedule_retry(now, cap, 0.0), Duration::from_secs(2));
        // One peer: every failure is a round.
        let mut one = Instance::new((), ctl::CreatedBy::Config);
        assert!(!one.next_peer());
    }

    #[test]
    fn an_id_in_use_is_logged_at_its_first_failure_only() {
        use l2tp_proto::CommandError;
        let mut i = Instance::new((), ctl::CreatedBy::Config);
        let in_use = |id| Some(CommandError::IdInUse(id));
        assert!(i.note_failure(in_use(5).as_ref()));
        assert!(!i.note_failure(in_use(5).as_ref()));
        // Another id, or another failure, is news; so is the id after the instance ran.
        assert!(i.note_failure(in_use(6).as_ref()));
        assert!(i.note_failure(Some(&CommandError::LimitReached)));
        assert!(i.note_failure(Some(&CommandError::LimitReached)));
        assert!(i.note_failure(in_use(6).as_ref()));
        i.runs(3);
        assert!(i.note_failure(in_use(6).as_ref()));
    }

    #[test]
    fn a_deleted_instance_stays_stopped_when_its_tunnel_goes() {
        let running = InstanceState::Running { handle: 3 };
        assert_eq!(running.released(), InstanceState::Idle);
        let stopping = InstanceState::Stopping { handle: 3 };
        assert!(stopping.is_stopped());
        assert_eq!(stopping.handle(), Some(3));
        assert_eq!(stopping.released(), InstanceState::Stopped);
    }
}
