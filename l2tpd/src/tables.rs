//! Counters and indexes kept in step with the protocol adapter's tunnel and session tables, so
//! that no view, limit check or lookup needs a scan of every tunnel or session.
//!
//! The adapter reports each change of a record's presence or flags as a pair of [`Flags`]
//! (before, after; `None` when the record does not exist); the tallies follow from those.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

/// A tunnel's or session's `up` and `down` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flags {
    pub(crate) up: bool,
    pub(crate) down: bool,
}

impl Flags {
    /// A record just created: neither up nor down.
    pub(crate) const NEW: Flags = Flags {
        up: false,
        down: false,
    };

    pub(crate) fn of(up: bool, down: bool) -> Flags {
        Flags { up, down }
    }

    fn live(self) -> bool {
        !self.down
    }

    fn up(self) -> bool {
        self.up && !self.down
    }
}

/// How many records are live (not down) and up, kept in step with changes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) total: usize,
    pub(crate) live: usize,
    pub(crate) up: usize,
}

impl Tally {
    fn change(&mut self, before: Option<Flags>, after: Option<Flags>) {
        fn add(n: &mut usize, was: bool, is: bool) {
            match (was, is) {
                (false, true) => *n += 1,
                (true, false) => *n = n.saturating_sub(1),
                _ => {}
            }
        }
        add(&mut self.total, before.is_some(), after.is_some());
        add(
            &mut self.live,
            before.is_some_and(Flags::live),
            after.is_some_and(Flags::live),
        );
        add(
            &mut self.up,
            before.is_some_and(Flags::up),
            after.is_some_and(Flags::up),
        );
    }
}

/// Which of the two kinds of persistent instance a retry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum InstanceKind {
    Tunnel,
    Session,
}

/// The adapter's counters and indexes.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) tunnels: Tally,
    pub(crate) sessions: Tally,
    /// Sessions (of any state) per tunnel handle.
    per_tunnel: HashMap<u64, u32>,
    /// Session handle by (tunnel id, session id).
    by_sid: HashMap<(u32, u32), u64>,
    /// Retry times of persistent instances, earliest first. An entry may be stale (its
    /// instance started or was removed since); the caller checks it when it falls due.
    retries: BTreeSet<(Instant, InstanceKind, String)>,
}

impl Tables {
    /// A tunnel record was added, removed, or its flags changed.
    pub(crate) fn tunnel(&mut self, before: Option<Flags>, after: Option<Flags>) {
        self.tunnels.change(before, after);
    }

    /// Session `handle` of tunnel handle `tunnel`, numbered `ids` (tunnel id, session id), was
    /// added, removed, or its flags changed.
    pub(crate) fn session(
        &mut self,
        tunnel: u64,
        handle: u64,
        ids: (u32, u32),
        before: Option<Flags>,
        after: Option<Flags>,
    ) {
        self.sessions.change(before, after);
        match (before.is_some(), after.is_some()) {
            (false, true) => {
                *self.per_tunnel.entry(tunnel).or_default() += 1;
                self.by_sid.insert(ids, handle);
            }
            (true, false) => {
                if let Some(n) = self.per_tunnel.get_mut(&tunnel) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.per_tunnel.remove(&tunnel);
                    }
                }
                if self.by_sid.get(&ids) == Some(&handle) {
                    self.by_sid.remove(&ids);
                }
            }
            _ => {}
        }
    }

    /// Session `handle` was renumbered from `old` to `new` (tunnel id, session id).
    pub(crate) fn renumber(&mut self, handle: u64, old: (u32, u32), new: (u32, u32)) {
        if old == new {
            return;
        }
        if self.by_sid.get(&old) == Some(&handle) {
            self.by_sid.remove(&old);
        }
        self.by_sid.insert(new, handle);
    }

    /// The handle of the session numbered (tunnel id, session id), if any.
    pub(crate) fn session_handle(&self, tid: u32, sid: u32) -> Option<u64> {
        self.by_sid.get(&(tid, sid)).copied()
    }

    /// Sessions of tunnel handle `tunnel`.
    pub(crate) fn sessions_of(&self, tunnel: u64) -> u32 {
        self.per_tunnel.get(&tunnel).copied().unwrap_or(0)
    }

    /// Every tunnel and session is gone (shutdown); pending retries stay.
    pub(crate) fn clear_records(&mut self) {
        self.tunnels = Tally::default();
        self.sessions = Tally::default();
        self.per_tunnel.clear();
        self.by_sid.clear();
    }

    /// Instance `name` is to be retried at `at`.
    pub(crate) fn retry_at(&mut self, at: Instant, kind: InstanceKind, name: &str) {
        self.retries.insert((at, kind, name.to_owned()));
    }

    /// The earliest pending retry.
    pub(crate) fn next_retry(&self) -> Option<Instant> {
        self.retries.first().map(|(at, _, _)| *at)
    }

    /// Takes the retries due at `now`, earliest first.
    pub(crate) fn due_retries(&mut self, now: Instant) -> Vec<(Instant, InstanceKind, String)> {
        let mut due = Vec::new();
        while self.retries.first().is_some_and(|(at, _, _)| *at <= now) {
            if let Some(e) = self.retries.pop_first() {
                due.push(e);
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const UP: Flags = Flags {
        up: true,
        down: false,
    };
    const UP_DOWN: Flags = Flags {
        up: true,
        down: true,
    };
    const DOWN: Flags = Flags {
        up: false,
        down: true,
    };

    #[test]
    fn tallies_follow_every_change() {
        let mut t = Tables::default();
        t.tunnel(None, Some(Flags::NEW));
        t.tunnel(None, Some(Flags::NEW));
        t.tunnel(Some(Flags::NEW), Some(UP));
        assert_eq!(
            t.tunnels,
            Tally {
                total: 2,
                live: 2,
                up: 1
            }
        );
        t.tunnel(Some(UP), Some(UP_DOWN));
        t.tunnel(Some(Flags::NEW), Some(DOWN));
        assert_eq!(
            t.tunnels,
            Tally {
                total: 2,
                live: 0,
                up: 0
            }
        );
        t.tunnel(Some(UP_DOWN), None);
        t.tunnel(Some(DOWN), None);
        assert_eq!(t.tunnels, Tally::default());
    }

    #[test]
    fn sessions_are_counted_per_tunnel_and_found_by_number() {
        let mut t = Tables::default();
        t.session(1, 10, (100, 5), None, Some(Flags::NEW));
        t.session(1, 11, (100, 6), None, Some(Flags::NEW));
        t.session(2, 12, (200, 5), None, Some(Flags::NEW));
        t.session(1, 10, (100, 5), Some(Flags::NEW), Some(UP));
        assert_eq!(t.sessions_of(1), 2);
        assert_eq!(t.sessions_of(2), 1);
        assert_eq!(t.sessions_of(3), 0);
        assert_eq!(t.sessions.up, 1);
        assert_eq!(t.session_handle(100, 6), Some(11));
        assert_eq!(t.session_handle(200, 5), Some(12));
        t.renumber(11, (100, 6), (100, 7));
        assert_eq!(t.session_handle(100, 6), None);
        assert_eq!(t.session_handle(100, 7), Some(11));
        t.session(1, 11, (100, 7), Some(Flags::NEW), None);
        assert_eq!(t.sessions_of(1), 1);
        assert_eq!(t.session_handle(100, 7), None);
        assert_eq!(
            t.sessions,
            Tally {
                total: 2,
                live: 2,
                up: 1
            }
        );
        t.clear_records();
        assert_eq!(t.sessions, Tally::default());
        assert_eq!(t.sessions_of(1), 0);
    }

    #[test]
    fn retries_come_due_in_order() {
        let mut t = Tables::default();
        let now = Instant::now();
        t.retry_at(now + Duration::from_secs(5), InstanceKind::Session, "s");
        t.retry_at(now + Duration::from_secs(1), InstanceKind::Tunnel, "t");
        assert_eq!(t.next_retry(), Some(now + Duration::from_secs(1)));
        assert!(t.due_retries(now).is_empty());
        let due = t.due_retries(now + Duration::from_secs(2));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].2, "t");
        assert_eq!(t.next_retry(), Some(now + Duration::from_secs(5)));
    }
}
