//! The tunnel and session records: what the daemon knows of each tunnel and session beyond the
//! protocol's own state (names, profiles, creator, interface, last result), their phase, the
//! id indexes and the tallies that `show system` and the limits read.
//!
//! A record's phase and ids are private to this module: the [`Registry`] is the only code that
//! changes them, and it keeps the indexes and the tallies in step as it does, so that no view,
//! limit check or lookup needs a scan and no count can drift.
//!
//! The records are in `records`; this file holds the [`Registry`] with its indexes and tallies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Bound;
use std::time::Instant;

use l2tp_proto::DownCause;

use crate::metrics::snapshot::{Histogram, Teardowns};

mod records;
#[cfg(test)]
mod tests;

pub(super) use records::{
    CallFacts, Control, DataPath, Install, Origin, Phase, SessionIds, SessionProfiles, SessionRec,
    TunnelRec,
};

/// How many records exist, are live (not closing) and are up.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(super) struct Tally {
    pub(super) total: usize,
    pub(super) live: usize,
    pub(super) up: usize,
}

impl Tally {
    fn change(&mut self, before: Option<Phase>, after: Option<Phase>) {
        fn step(n: &mut usize, was: bool, is: bool) {
            match (was, is) {
                (false, true) => *n += 1,
                (true, false) => *n = n.saturating_sub(1),
                _ => {}
            }
        }
        step(&mut self.total, before.is_some(), after.is_some());
        step(
            &mut self.live,
            before.is_some_and(Phase::is_live),
            after.is_some_and(Phase::is_live),
        );
        step(
            &mut self.up,
            before.is_some_and(Phase::is_up),
            after.is_some_and(Phase::is_up),
        );
    }
}

/// Every tunnel and session record, by handle, with the indexes and tallies.
#[derive(Debug, Default)]
pub(super) struct Registry {
    next_handle: u64,
    tunnels: BTreeMap<u64, TunnelRec>,
    /// Boxed: a map node then holds pointers, not half-empty slots of whole records.
    sessions: BTreeMap<u64, Box<SessionRec>>,
    by_tid: HashMap<u32, u64>,
    /// Session handle by (tunnel id, session id).
    by_sid: HashMap<(u32, u32), u64>,
    /// Sessions (of any phase) per tunnel handle.
    per_tunnel: HashMap<u64, u32>,
    /// Static sessions not yet closed (few; found without a scan of every session).
    static_sessions: HashSet<u64>,
    /// Tunnels over UDP by their local address and their peer's address and port (several share
    /// one pair behind a NAT; tunnels from different local addresses to one peer do not).
    by_peer: HashMap<(SocketAddr, SocketAddr), Vec<u64>>,
    tunnel_tally: Tally,
    session_tally: Tally,
    /// Tunnels and sessions that closed without having come up.
    tunnel_setup_failures: u64,
    session_setup_failures: u64,
    /// How long tunnels and sessions with a control connection took to come up.
    tunnel_setup: Histogram,
    session_setup: Histogram,
    /// Tunnels and sessions that went down, by cause.
    tunnel_teardowns: Teardowns,
    session_teardowns: Teardowns,
}

impl Registry {
    /// A new handle for a tunnel or session.
    pub(super) fn next_handle(&mut self) -> u64 {
        self.next_handle += 1;
        self.next_handle
    }

    // ---------------------------------------------------------------- tunnels

    /// Records tunnel `rec` under `handle`.
    pub(super) fn insert_tunnel(&mut self, handle: u64, rec: TunnelRec) {
        self.tunnel_tally.change(None, Some(rec.phase));
        self.by_tid.insert(rec.tid, handle);
        if let Some(peer) = rec.udp_peer() {
            self.by_peer.entry(peer).or_default().push(handle);
        }
        self.tunnels.insert(handle, rec);
    }

    /// The local ids of the tunnels other than `handle` whose peer is `peer` (over UDP).
    pub(super) fn same_peer(&self, handle: u64, peer: (SocketAddr, SocketAddr)) -> Vec<u32> {
        self.by_peer.get(&peer).map_or_else(Vec::new, |handles| {
            handles
                .iter()
                .filter(|h| **h != handle)
                .filter_map(|h| self.tunnels.get(h).map(|t| t.tid))
                .collect()
        })
    }

    /// [`Self::same_peer`] without the tunnels that are closing: those that share the peer's
    /// address and port with `handle` now, as `show tunnels` and the log tell of.
    pub(super) fn live_same_peer(&self, handle: u64, peer: (SocketAddr, SocketAddr)) -> Vec<u32> {
        self.by_peer.get(&peer).map_or_else(Vec::new, |handles| {
            handles
                .iter()
                .filter(|h| **h != handle)
                .filter_map(|h| self.tunnels.get(h))
                .filter(|t| t.phase().is_live())
                .map(|t| t.tid)
                .collect()
        })
    }

    /// The tunnel with this handle.
    pub(super) fn tunnel(&self, handle: u64) -> Option<&TunnelRec> {
        self.tunnels.get(&handle)
    }

    /// The tunnel with this handle, to change what is not its phase or id.
    pub(super) fn tunnel_mut(&mut self, handle: u64) -> Option<&mut TunnelRec> {
        self.tunnels.get_mut(&handle)
    }

    /// The handle of the tunnel with local id `tid`.
    pub(super) fn tunnel_handle(&self, tid: u32) -> Option<u64> {
        self.by_tid.get(&tid).copied()
    }

    /// The tunnel with local id `tid`.
    pub(super) fn tunnel_by_tid(&self, tid: u32) -> Option<&TunnelRec> {
        self.tunnels.get(self.by_tid.get(&tid)?)
    }

    /// The tunnel with local id `tid`, to change what is not its phase or id.
    pub(super) fn tunnel_by_tid_mut(&mut self, tid: u32) -> Option<&mut TunnelRec> {
        self.tunnels.get_mut(self.by_tid.get(&tid)?)
    }

    /// Every tunnel, by handle.
    pub(super) fn tunnels(&self) -> impl Iterator<Item = (u64, &TunnelRec)> {
        self.tunnels.iter().map(|(h, t)| (*h, t))
    }

    /// The tunnels from handle `from` on (all of them for `None`), by handle.
    pub(super) fn tunnels_from(
        &self,
        from: Option<u64>,
    ) -> impl Iterator<Item = (u64, &TunnelRec)> {
        let from = from.map_or(Bound::Unbounded, Bound::Included);
        self.tunnels
            .range((from, Bound::Unbounded))
            .map(|(h, t)| (*h, t))
    }

    /// Tunnel `handle` came up at `now`, with the peer's tunnel id.
    pub(super) fn tunnel_up(
        &mut self,
        handle: u64,
        now: Instant,
        peer_tid: u32,
    ) -> Option<&mut TunnelRec> {
        let rec = self.tunnels.get_mut(&handle)?;
        let before = rec.phase;
        if before.is_live() {
            rec.phase = Phase::Up { since: now };
        }
        if let Phase::Connecting { since } = before
            && !rec.is_static()
        {
            self.tunnel_setup
                .observe(now.saturating_duration_since(since));
        }
        rec.peer_tid = peer_tid;
        self.tunnel_tally.change(Some(before), Some(rec.phase));
        Some(rec)
    }

    /// Tunnel `handle` began to close, for `cause`.
    pub(super) fn tunnel_closing(
        &mut self,
        handle: u64,
        cause: DownCause,
    ) -> Option<&mut TunnelRec> {
        let rec = self.tunnels.get_mut(&handle)?;
        let before = rec.phase;
        if before.is_live() {
            self.tunnel_teardowns.add(cause);
        }
        rec.phase = before.closing();
        if before.is_live() && !before.was_up() {
            self.tunnel_setup_failures += 1;
        }
        self.tunnel_tally.change(Some(before), Some(rec.phase));
        Some(rec)
    }

    /// Forgets tunnel `handle`.
    pub(super) fn remove_tunnel(&mut self, handle: u64) -> Option<TunnelRec> {
        let rec = self.tunnels.remove(&handle)?;
        self.tunnel_tally.change(Some(rec.phase), None);
        if let Some(peer) = rec.udp_peer()
            && let Some(handles) = self.by_peer.get_mut(&peer)
        {
            handles.retain(|h| *h != handle);
            if handles.is_empty() {
                self.by_peer.remove(&peer);
            }
        }
        if self.by_tid.get(&rec.tid) == Some(&handle) {
            self.by_tid.remove(&rec.tid);
        }
        Some(rec)
    }

    // ---------------------------------------------------------------- sessions

    /// Records session `rec` under `handle`.
    pub(super) fn insert_session(&mut self, handle: u64, rec: SessionRec) {
        self.session_tally.change(None, Some(rec.phase));
        *self.per_tunnel.entry(rec.tunnel).or_default() += 1;
        self.by_sid.insert((rec.tid, rec.sid), handle);
        if rec.is_static {
            self.static_sessions.insert(handle);
        }
        self.sessions.insert(handle, Box::new(rec));
    }

    /// The static sessions of tunnel handle `tunnel` not yet closed, with their (tunnel id,
    /// session id).
    pub(super) fn static_sessions_of(&self, tunnel: u64) -> Vec<(u64, (u32, u32))> {
        self.static_sessions
            .iter()
            .filter_map(|h| {
                let s = self.sessions.get(h)?;
                (s.tunnel == tunnel).then_some((*h, (s.tid, s.sid)))
            })
            .collect()
    }

    /// Whether a static session not yet closed has session id `sid`.
    pub(super) fn static_sid_taken(&self, sid: u32) -> bool {
        self.static_sessions
            .iter()
            .any(|h| self.sessions.get(h).is_some_and(|s| s.sid == sid))
    }

    /// Static session `handle` is being closed: it is no longer one to close with its tunnel.
    pub(super) fn forget_static_session(&mut self, handle: u64) {
        self.static_sessions.remove(&handle);
    }

    /// The session with this handle.
    pub(super) fn session(&self, handle: u64) -> Option<&SessionRec> {
        self.sessions.get(&handle).map(|b| &**b)
    }

    /// The session with this handle, to change what is not its phase or ids.
    pub(super) fn session_mut(&mut self, handle: u64) -> Option<&mut SessionRec> {
        self.sessions.get_mut(&handle).map(|b| &mut **b)
    }

    /// The native-PPP link of the session with this handle, to change, with the session's
    /// (tunnel id, session id).
    pub(super) fn ppp_link_mut(
        &mut self,
        handle: u64,
    ) -> Option<((u32, u32), &mut crate::engine::ppp::state::PppLink)> {
        let rec = self.session_mut(handle)?;
        let ids = (rec.tid(), rec.sid());
        Some((ids, rec.ppp.as_deref_mut()?))
    }

    /// The session with this handle, to change, and its tunnel, to read: one look-up of the
    /// session where two would walk the (large) map of sessions twice.
    pub(super) fn session_and_tunnel_mut(
        &mut self,
        handle: u64,
    ) -> Option<(&mut SessionRec, Option<&TunnelRec>)> {
        let rec = self.sessions.get_mut(&handle)?;
        let tunnel = self.tunnels.get(&rec.tunnel);
        Some((&mut **rec, tunnel))
    }

    /// The handle of the session numbered (tunnel id, session id).
    pub(super) fn session_handle(&self, tid: u32, sid: u32) -> Option<u64> {
        self.by_sid.get(&(tid, sid)).copied()
    }

    /// Every session, by handle.
    pub(super) fn sessions(&self) -> impl Iterator<Item = (u64, &SessionRec)> {
        self.sessions.iter().map(|(h, s)| (*h, &**s))
    }

    /// The sessions from handle `from` on (all of them for `None`), by handle.
    pub(super) fn sessions_from(
        &self,
        from: Option<u64>,
    ) -> impl Iterator<Item = (u64, &SessionRec)> {
        let from = from.map_or(Bound::Unbounded, Bound::Included);
        self.sessions
            .range((from, Bound::Unbounded))
            .map(|(h, s)| (*h, &**s))
    }

    /// Sessions of tunnel handle `tunnel`.
    pub(super) fn sessions_of(&self, tunnel: u64) -> u32 {
        self.per_tunnel.get(&tunnel).copied().unwrap_or(0)
    }

    /// Session `handle` got its session id `sid` from the protocol.
    pub(super) fn renumber_session(&mut self, handle: u64, sid: u32) -> Option<&mut SessionRec> {
        let rec = self.sessions.get_mut(&handle)?;
        let old = (rec.tid, rec.sid);
        rec.sid = sid;
        let new = (rec.tid, rec.sid);
        if old != new {
            if self.by_sid.get(&old) == Some(&handle) {
                self.by_sid.remove(&old);
            }
            self.by_sid.insert(new, handle);
        }
        Some(rec)
    }

    /// Session `handle` came up at `now`: the protocol has it up and its data path exists.
    pub(super) fn session_up(&mut self, handle: u64, now: Instant) {
        let Some(rec) = self.sessions.get_mut(&handle) else {
            return;
        };
        let before = rec.phase;
        if before.is_live() {
            rec.phase = Phase::Up { since: now };
        }
        if let Phase::Connecting { since } = before
            && !rec.is_static
        {
            self.session_setup
                .observe(now.saturating_duration_since(since));
        }
        self.session_tally.change(Some(before), Some(rec.phase));
    }

    /// Session `handle` began to close, for `cause`.
    pub(super) fn session_closing(
        &mut self,
        handle: u64,
        cause: DownCause,
    ) -> Option<&mut SessionRec> {
        let rec = self.sessions.get_mut(&handle)?;
        let before = rec.phase;
        if before.is_live() {
            self.session_teardowns.add(cause);
        }
        rec.phase = before.closing();
        if before.is_live() && !before.was_up() {
            self.session_setup_failures += 1;
        }
        self.session_tally.change(Some(before), Some(rec.phase));
        Some(rec)
    }

    /// The data path of session `handle`, which is up, could not be set up: it counts with the
    /// sessions that failed to come up (one still connecting counts when it closes).
    pub(super) fn session_data_path_failed(&mut self, handle: u64) {
        if self.sessions.get(&handle).is_some_and(|r| r.phase.is_up()) {
            self.session_setup_failures += 1;
        }
    }

    /// Forgets session `handle`.
    pub(super) fn remove_session(&mut self, handle: u64) -> Option<Box<SessionRec>> {
        let rec = self.sessions.remove(&handle)?;
        self.session_tally.change(Some(rec.phase), None);
        if let Some(n) = self.per_tunnel.get_mut(&rec.tunnel) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_tunnel.remove(&rec.tunnel);
            }
        }
        let ids = (rec.tid, rec.sid);
        if self.by_sid.get(&ids) == Some(&handle) {
            self.by_sid.remove(&ids);
        }
        self.static_sessions.remove(&handle);
        Some(rec)
    }

    // ---------------------------------------------------------------- tallies

    /// Tunnels that exist, are live and are up.
    pub(super) fn tunnel_tally(&self) -> Tally {
        self.tunnel_tally
    }

    /// Sessions that exist, are live and are up.
    pub(super) fn session_tally(&self) -> Tally {
        self.session_tally
    }

    /// Tunnels and sessions that closed without having come up.
    pub(super) fn setup_failures(&self) -> (u64, u64) {
        (self.tunnel_setup_failures, self.session_setup_failures)
    }

    /// How long tunnels and sessions with a control connection took to come up.
    pub(super) fn setup_latency(&self) -> (&Histogram, &Histogram) {
        (&self.tunnel_setup, &self.session_setup)
    }

    /// Tunnels and sessions that went down, by cause.
    pub(super) fn teardowns(&self) -> (Teardowns, Teardowns) {
        (self.tunnel_teardowns, self.session_teardowns)
    }

    /// Takes every record out (the daemon is stopping): sessions, then tunnels.
    pub(super) fn drain(&mut self) -> (Vec<SessionRec>, Vec<TunnelRec>) {
        self.by_tid.clear();
        self.by_sid.clear();
        self.per_tunnel.clear();
        self.static_sessions.clear();
        self.by_peer.clear();
        self.tunnel_tally = Tally::default();
        self.session_tally = Tally::default();
        (
            std::mem::take(&mut self.sessions)
                .into_values()
                .map(|b| *b)
                .collect(),
            std::mem::take(&mut self.tunnels).into_values().collect(),
        )
    }
}
