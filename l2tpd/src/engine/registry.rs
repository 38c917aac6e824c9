//! The tunnel and session records: what the daemon knows of each tunnel and session beyond the
//! protocol's own state (names, profiles, creator, interface, last result), their phase, the
//! id indexes and the tallies that `show system` and the limits read.
//!
//! A record's phase and ids are private to this module: the [`Registry`] is the only code that
//! changes them, and it keeps the indexes and the tallies in step as it does, so that no view,
//! limit check or lookup needs a scan and no count can drift.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use l2tp_config as cfg;
use l2tp_ctl as ctl;
use l2tp_proto::DownCause;

use crate::metrics::snapshot::{Histogram, Teardowns};

/// Where a tunnel or session is in its life, as the daemon sees it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Phase {
    /// Being set up.
    Connecting {
        /// Since when.
        since: Instant,
    },
    /// Established.
    Up {
        /// When it came up.
        since: Instant,
    },
    /// Going down (a StopCCN or CDN sent or received); the record goes when the protocol
    /// deletes it.
    Closing {
        /// When it had come up, if it ever did.
        up_since: Option<Instant>,
    },
}

impl Phase {
    /// Not closing.
    pub(super) fn is_live(self) -> bool {
        !matches!(self, Phase::Closing { .. })
    }

    /// Up and not closing.
    pub(super) fn is_up(self) -> bool {
        matches!(self, Phase::Up { .. })
    }

    /// Up now, or up before it began to close.
    pub(super) fn was_up(self) -> bool {
        self.up_since().is_some()
    }

    /// How long it has been up at `now`: 0 when it is not up (connecting or closing).
    pub(super) fn uptime(self, now: Instant) -> std::time::Duration {
        match self {
            Phase::Up { since } => now.saturating_duration_since(since),
            _ => std::time::Duration::ZERO,
        }
    }

    /// When it came up, if it did.
    pub(super) fn up_since(self) -> Option<Instant> {
        match self {
            Phase::Connecting { .. } => None,
            Phase::Up { since } => Some(since),
            Phase::Closing { up_since } => up_since,
        }
    }

    fn closing(self) -> Phase {
        Phase::Closing {
            up_since: self.up_since(),
        }
    }
}

/// Who made a tunnel or session, and under which name.
#[derive(Clone, Debug)]
pub(super) struct Origin {
    pub(super) created_by: ctl::CreatedBy,
    pub(super) name: Option<String>,
}

impl Origin {
    /// A peer's: no name.
    pub(super) fn net() -> Self {
        Origin {
            created_by: ctl::CreatedBy::Net,
            name: None,
        }
    }

    /// An instance's: it has a name.
    pub(super) fn instance(created_by: ctl::CreatedBy, name: &str) -> Self {
        Origin {
            created_by,
            name: Some(name.to_owned()),
        }
    }
}

/// How a tunnel is carried.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Control {
    /// By a control connection of the protocol engine.
    Managed,
    /// Static (`peer_tunnel_id`): no control connection, between these addresses.
    Static {
        local: SocketAddr,
        remote: SocketAddr,
    },
}

/// A tunnel.
#[derive(Debug)]
pub(super) struct TunnelRec {
    tid: u32,
    phase: Phase,
    pub(super) peer_tid: u32,
    pub(super) control: Control,
    pub(super) origin: Origin,
    pub(super) profile: String,
    pub(super) session_profile: String,
    pub(super) pw_profile: String,
    pub(super) lac_lns: cfg::LacLns,
    pub(super) settings: cfg::TunnelSettings,
    pub(super) debug: bool,
    /// Its own socket's (local, remote) addresses, once asked for.
    pub(super) socket: Option<(SocketAddr, SocketAddr)>,
    pub(super) last_result: Option<ctl::ResultCode>,
    /// The Host Name the peer sent (its SCCRQ, or its SCCRP once up), when it sent one.
    pub(super) peer_host_name: Option<Box<[u8]>>,
    pub(super) rx: u64,
    pub(super) tx: u64,
}

impl TunnelRec {
    /// A tunnel's record: profiles as its tunnel profile names them, the peer not limited to
    /// one role.
    pub(super) fn new(
        tid: u32,
        origin: Origin,
        profile: String,
        settings: cfg::TunnelSettings,
        now: Instant,
    ) -> Self {
        TunnelRec {
            tid,
            phase: Phase::Connecting { since: now },
            peer_tid: 0,
            control: Control::Managed,
            origin,
            profile,
            session_profile: settings.session_profile_name.clone(),
            pw_profile: settings.pseudowire_profile_name.clone(),
            lac_lns: cfg::LacLns::Both,
            debug: settings.debug,
            settings,
            socket: None,
            last_result: None,
            peer_host_name: None,
            rx: 0,
            tx: 0,
        }
    }

    /// The record of tunnel instance `name` (a `tunnel` block or `l2tpctl create tunnel`).
    pub(super) fn for_instance(
        tid: u32,
        name: &str,
        created_by: ctl::CreatedBy,
        resolved: &cfg::ResolvedTunnel,
        now: Instant,
    ) -> Self {
        let origin = Origin::instance(created_by, name);
        let s = resolved.settings.clone();
        Self::new(tid, origin, resolved.profile.clone(), s, now)
    }

    /// Local tunnel id.
    pub(super) fn tid(&self) -> u32 {
        self.tid
    }

    /// Where it is in its life.
    pub(super) fn phase(&self) -> Phase {
        self.phase
    }

    /// The Host Name the peer sent, if it did.
    pub(super) fn peer_host(&self) -> Option<&[u8]> {
        self.peer_host_name.as_deref()
    }

    /// Keeps the Host Name the peer sent (nothing for an empty one).
    pub(super) fn set_peer_host(&mut self, name: &[u8]) {
        if !name.is_empty() {
            self.peer_host_name = Some(name.into());
        }
    }

    /// The peer's address and port, for a tunnel over UDP (over IP the port is 0) with its
    /// own socket.
    pub(super) fn udp_peer(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.socket.filter(|(_, remote)| remote.port() != 0)
    }

    /// Whether it has no control connection.
    pub(super) fn is_static(&self) -> bool {
        matches!(self.control, Control::Static { .. })
    }
}

/// The ids of a session: ours and the peer's.
#[derive(Clone, Copy, Debug)]
pub(super) struct SessionIds {
    pub(super) tid: u32,
    pub(super) sid: u32,
    pub(super) peer_tid: u32,
    pub(super) peer_sid: u32,
}

/// The profiles a session was made from, and their settings.
#[derive(Debug)]
pub(super) struct SessionProfiles {
    pub(super) profile: String,
    pub(super) pw_profile: String,
    pub(super) settings: Arc<cfg::SessionSettings>,
    pub(super) pseudowire: Arc<cfg::PseudowireSettings>,
}

impl SessionProfiles {
    /// The profiles of session instance `resolved`.
    pub(super) fn of_instance(resolved: &cfg::ResolvedSession) -> Self {
        SessionProfiles {
            profile: resolved.profile.clone(),
            pw_profile: resolved.pseudowire_profile.clone(),
            settings: Arc::new(resolved.settings.clone()),
            pseudowire: Arc::new(resolved.pseudowire.clone()),
        }
    }
}

/// What a peer told of a call it placed (ICRQ, OCRQ).
#[derive(Clone, Debug, Default)]
pub(super) struct CallFacts {
    pub(super) calling_number: Option<Vec<u8>>,
    pub(super) called_number: Option<Vec<u8>>,
    pub(super) sub_address: Option<Vec<u8>>,
}

impl CallFacts {
    /// The facts of the peer's call `req`, if it told any.
    pub(super) fn of_request(req: &l2tp_proto::SessionRequest) -> Option<Box<CallFacts>> {
        let facts = CallFacts {
            calling_number: req.calling_number.clone().filter(|v| !v.is_empty()),
            called_number: req.called_number.clone().filter(|v| !v.is_empty()),
            sub_address: req.sub_address.clone().filter(|v| !v.is_empty()),
        };
        let any = facts.calling_number.is_some()
            || facts.called_number.is_some()
            || facts.sub_address.is_some();
        any.then(|| Box::new(facts))
    }
}

/// A session.
#[derive(Debug)]
pub(super) struct SessionRec {
    tid: u32,
    sid: u32,
    phase: Phase,
    /// Its tunnel's handle.
    pub(super) tunnel: u64,
    pub(super) peer_tid: u32,
    pub(super) peer_sid: u32,
    /// Static (`peer_session_id`): no control messages.
    pub(super) is_static: bool,
    pub(super) origin: Origin,
    pub(super) profile: String,
    pub(super) pw_profile: String,
    /// Shared by the sessions resolved from the same profiles.
    pub(super) settings: Arc<cfg::SessionSettings>,
    pub(super) pseudowire: Arc<cfg::PseudowireSettings>,
    pub(super) pw_type: u16,
    pub(super) debug: bool,
    pub(super) interface_name: Option<String>,
    pub(super) last_result: Option<ctl::ResultCode>,
    /// The parent tunnel's name, for scripts.
    pub(super) tunnel_name: Option<String>,
    /// What the peer told of its call (boxed: most calls placed here carry none).
    pub(super) call: Option<Box<CallFacts>>,
    /// The PPP l2tpd terminates on this session itself (native PPP), from when its data plane
    /// is installed.
    pub(super) ppp: Option<Box<super::ppp::state::PppLink>>,
}

impl SessionRec {
    /// A session's record, in tunnel `tunnel`.
    pub(super) fn new(
        tunnel: u64,
        ids: SessionIds,
        origin: Origin,
        profiles: SessionProfiles,
        pw_type: u16,
        tunnel_name: Option<String>,
        now: Instant,
    ) -> Self {
        SessionRec {
            tid: ids.tid,
            sid: ids.sid,
            phase: Phase::Connecting { since: now },
            tunnel,
            peer_tid: ids.peer_tid,
            peer_sid: ids.peer_sid,
            is_static: false,
            origin,
            profile: profiles.profile,
            pw_profile: profiles.pw_profile,
            debug: profiles.settings.debug,
            settings: profiles.settings,
            pseudowire: profiles.pseudowire,
            pw_type,
            interface_name: None,
            last_result: None,
            tunnel_name,
            call: None,
            ppp: None,
        }
    }

    /// Local tunnel id.
    pub(super) fn tid(&self) -> u32 {
        self.tid
    }

    /// Local session id.
    pub(super) fn sid(&self) -> u32 {
        self.sid
    }

    /// Where it is in its life.
    pub(super) fn phase(&self) -> Phase {
        self.phase
    }

    /// The session's interface: the data plane's name, else a configured name that is not a
    /// template.
    pub(super) fn interface(&self) -> Option<String> {
        self.interface_name
            .clone()
            .or_else(|| self.configured_interface().filter(|n| !n.contains('%')))
    }

    /// The Calling Number: the peer's, for a call it placed, else the configured one.
    pub(super) fn calling_number(&self) -> Option<&[u8]> {
        let own = self.settings.calling_number.as_deref().map(str::as_bytes);
        self.call
            .as_ref()
            .and_then(|c| c.calling_number.as_deref())
            .or(own.filter(|v| !v.is_empty()))
    }

    /// The Called Number: the peer's, for a call it placed, else the configured one.
    pub(super) fn called_number(&self) -> Option<&[u8]> {
        let own = self.settings.called_number.as_deref().map(str::as_bytes);
        self.call
            .as_ref()
            .and_then(|c| c.called_number.as_deref())
            .or(own.filter(|v| !v.is_empty()))
    }

    /// The Sub-Address: the peer's, for a call it placed, else the configured one.
    pub(super) fn sub_address(&self) -> Option<&[u8]> {
        let own = self.settings.sub_address.as_deref().map(str::as_bytes);
        self.call
            .as_ref()
            .and_then(|c| c.sub_address.as_deref())
            .or(own.filter(|v| !v.is_empty()))
    }

    /// The configured interface name or template.
    pub(super) fn configured_interface(&self) -> Option<String> {
        self.settings
            .interface_name
            .clone()
            .or_else(|| self.pseudowire.interface_name.clone())
    }
}

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

    /// Session `handle` came up at `now`, with the peer's ids.
    pub(super) fn session_up(
        &mut self,
        handle: u64,
        now: Instant,
        peer: (u32, u32),
    ) -> Option<&mut SessionRec> {
        let rec = self.sessions.get_mut(&handle)?;
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
        (rec.peer_tid, rec.peer_sid) = peer;
        self.session_tally.change(Some(before), Some(rec.phase));
        Some(rec)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(tid: u32) -> TunnelRec {
        let settings = cfg::TunnelParams::default().resolve();
        TunnelRec::new(
            tid,
            Origin::net(),
            "default".into(),
            settings,
            Instant::now(),
        )
    }

    fn session(tunnel: u64, tid: u32, sid: u32) -> SessionRec {
        let ids = SessionIds {
            tid,
            sid,
            peer_tid: 0,
            peer_sid: 0,
        };
        let profiles = SessionProfiles {
            profile: "default".into(),
            pw_profile: "default".into(),
            settings: Arc::new(cfg::SessionParams::default().resolve()),
            pseudowire: Arc::new(cfg::PseudowireParams::default().resolve()),
        };
        SessionRec::new(
            tunnel,
            ids,
            Origin::net(),
            profiles,
            5,
            None,
            Instant::now(),
        )
    }

    fn tally(total: usize, live: usize, up: usize) -> Tally {
        Tally { total, live, up }
    }

    #[test]
    fn tallies_follow_every_phase() {
        let now = Instant::now();
        let mut r = Registry::default();
        let (a, b) = (r.next_handle(), r.next_handle());
        r.insert_tunnel(a, tunnel(10));
        r.insert_tunnel(b, tunnel(11));
        r.tunnel_up(a, now, 99);
        assert_eq!(r.tunnel_tally(), tally(2, 2, 1));
        assert_eq!(r.tunnel_by_tid(10).map(|t| t.peer_tid), Some(99));
        r.tunnel_closing(a, DownCause::Peer);
        r.tunnel_closing(b, DownCause::EstablishTimeout);
        assert_eq!(r.tunnel_tally(), tally(2, 0, 0));
        // Only b never came up.
        assert_eq!(r.setup_failures(), (1, 0));
        // A late "up" of a closing tunnel does not make it live again.
        r.tunnel_up(b, now, 1);
        assert_eq!(r.tunnel_tally(), tally(2, 0, 0));
        r.remove_tunnel(a);
        r.remove_tunnel(b);
        assert_eq!(r.tunnel_tally(), Tally::default());
        assert_eq!(r.tunnel_handle(10), None);
    }

    #[test]
    fn setup_latency_and_teardowns_are_counted_once_per_record() {
        let mut r = Registry::default();
        let (a, b) = (r.next_handle(), r.next_handle());
        let t = tunnel(10);
        let Phase::Connecting { since } = t.phase() else {
            panic!("a new tunnel is connecting");
        };
        r.insert_tunnel(a, t);
        r.insert_tunnel(b, tunnel(11));
        r.tunnel_up(a, since + std::time::Duration::from_millis(240), 99);
        // Up again (a duplicate event): no second observation.
        r.tunnel_up(a, since + std::time::Duration::from_secs(9), 99);
        let (tunnels, sessions) = r.setup_latency();
        assert_eq!((tunnels.count(), sessions.count()), (1, 0));
        let le_250ms = tunnels
            .buckets()
            .iter()
            .find(|(le, _)| *le == 0.25)
            .map(|b| b.1);
        assert_eq!(le_250ms, Some(1));
        r.tunnel_closing(a, DownCause::Peer);
        r.tunnel_closing(a, DownCause::Local);
        r.tunnel_closing(b, DownCause::RetriesExhausted);
        let (down, _) = r.teardowns();
        let down: BTreeMap<_, _> = down.by_cause().collect();
        assert_eq!(
            (down["peer"], down["local"], down["retries_exhausted"]),
            (1, 0, 1)
        );
        // A static session comes up at once: no set-up to measure.
        let mut st = session(a, 10, 5);
        st.is_static = true;
        let s = r.next_handle();
        r.insert_session(s, st);
        r.session_up(s, since + std::time::Duration::from_secs(1), (1, 2));
        assert_eq!(r.setup_latency().1.count(), 0);
    }

    #[test]
    fn sessions_are_counted_per_tunnel_and_found_by_number() {
        let now = Instant::now();
        let mut r = Registry::default();
        let (t1, t2) = (r.next_handle(), r.next_handle());
        let (s1, s2, s3) = (r.next_handle(), r.next_handle(), r.next_handle());
        r.insert_session(s1, session(t1, 100, 5));
        r.insert_session(s2, session(t1, 100, 6));
        r.insert_session(s3, session(t2, 200, 5));
        r.session_up(s1, now, (7, 8));
        assert_eq!((r.sessions_of(t1), r.sessions_of(t2)), (2, 1));
        assert_eq!(r.session_tally(), tally(3, 3, 1));
        assert_eq!(r.session_handle(100, 6), Some(s2));
        r.renumber_session(s2, 7);
        assert_eq!(r.session_handle(100, 6), None);
        assert_eq!(r.session_handle(100, 7), Some(s2));
        r.session_closing(s2, DownCause::Local);
        assert_eq!(r.setup_failures(), (0, 1));
        r.remove_session(s2);
        assert_eq!(r.sessions_of(t1), 1);
        assert_eq!(r.session_handle(100, 7), None);
        assert_eq!(r.session_tally(), tally(2, 2, 1));
        let (sessions, tunnels) = r.drain();
        assert_eq!((sessions.len(), tunnels.len()), (2, 0));
        assert_eq!(r.session_tally(), Tally::default());
        assert_eq!(r.sessions_of(t1), 0);
    }

    /// Tunnels share a peer when their local address and their peer's address and port are the
    /// same (clients behind one NAT, as a server sees them); two tunnels from different local
    /// addresses to one server do not.
    #[test]
    fn tunnels_share_a_peer_only_between_the_same_two_addresses() {
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap_or_else(|e| panic!("{s}: {e}")) };
        let server = addr("192.0.2.2:1701");
        let mut r = Registry::default();
        for (h, local) in [
            (1, "192.0.2.1:1701"),
            (2, "192.0.2.1:1701"),
            (3, "192.0.2.11:1701"),
        ] {
            let mut t = tunnel(u32::try_from(h).unwrap_or(0) + 100);
            t.socket = Some((addr(local), server));
            r.insert_tunnel(h, t);
        }
        assert_eq!(r.same_peer(1, (addr("192.0.2.1:1701"), server)), vec![102]);
        assert_eq!(
            r.same_peer(3, (addr("192.0.2.11:1701"), server)),
            Vec::<u32>::new()
        );
        r.remove_tunnel(2);
        assert_eq!(
            r.same_peer(1, (addr("192.0.2.1:1701"), server)),
            Vec::<u32>::new()
        );
    }
}
