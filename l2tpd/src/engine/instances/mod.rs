//! The supervisor of persistent instances: the config's `tunnel` and `session` blocks and the
//! tunnels and sessions made with `l2tpctl create`. It brings them up, keeps them up (after a
//! failure each is tried again with exponential back-off, 1 s doubling up to
//! `tunnel_persist_pend_timeout` / `session_persist_pend_timeout`), re-opens a tunnel closed
//! for being idle when one of its sessions needs it, lets an instance take the tunnel or call
//! its peer opened for it (tie breaking), and applies reload diffs instance by instance.
//!
//! This file holds the supervisor's state, its lookups, config and commands, and what it does
//! when a tunnel or session goes down; `start` starts and removes instances, `adopt` breaks
//! ties with the peer, and `instance` is one instance's state and back-off.

mod adopt;
mod clash;
mod instance;
mod refusal;
mod speeds;
mod start;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use l2tp_config::{self as cfg, Config, ConfigDiff};
use l2tp_ctl as ctl;
use l2tp_proto as proto;

use super::ctx::Ctx;
use super::notify;
use super::registry::{CallFacts, Origin, Registry, SessionIds, SessionProfiles, SessionRec};
use crate::notice;

pub use instance::InstanceKind;
pub(super) use instance::{FIRST_RETRY, Instance, InstanceState};
pub use refusal::{Applied, BlockRefusal, RefusalReason};

use l2tp_proto::Rng;

/// What a config's application leaves to start ([`Instances::apply`], [`Instances::start`]).
#[derive(Debug)]
pub(super) struct Starts {
    /// Tunnel instances to start, with their sessions.
    tunnels: Vec<String>,
    /// Whether every idle or stopped session instance starts too (a reload).
    idle_sessions: bool,
}

/// Every persistent instance, and the retries pending.
#[derive(Debug)]
pub(super) struct Instances {
    /// Randomness for the back-off's jitter.
    jitter: proto::DeterministicRng,
    tunnels: BTreeMap<String, Instance<cfg::ResolvedTunnel>>,
    sessions: BTreeMap<String, Instance<cfg::ResolvedSession>>,
    /// Retry times, earliest first. An entry may be stale (its instance started, was removed
    /// or rescheduled since); it is checked when it falls due.
    retries: BTreeSet<(Instant, InstanceKind, String)>,
    /// The parameters of tunnels made with `l2tpctl`, to check their sessions against.
    cli_tunnels: BTreeMap<String, Vec<(String, String)>>,
    /// The blocks the last reload refused: the next one tries them again.
    refused: BTreeSet<(InstanceKind, String)>,
}

impl Instances {
    /// No instances; `seed` seeds the back-off's jitter.
    pub(super) fn new(seed: u64) -> Self {
        Self {
            jitter: proto::DeterministicRng::new(seed),
            tunnels: BTreeMap::new(),
            sessions: BTreeMap::new(),
            retries: BTreeSet::new(),
            cli_tunnels: BTreeMap::new(),
            refused: BTreeSet::new(),
        }
    }

    /// A random fraction in `[0, 1)` for the jitter of a back-off.
    fn jitter(&mut self) -> f64 {
        let mut b = [0u8; 4];
        self.jitter.fill(&mut b);
        f64::from(u32::from_be_bytes(b)) / (f64::from(u32::MAX) + 1.0)
    }

    fn retry(&mut self, at: Instant, kind: InstanceKind, name: &str) {
        self.retries.insert((at, kind, name.to_owned()));
    }

    // ---------------------------------------------------------------- lookups

    /// Tunnel instance `name`.
    pub(super) fn tunnel(&self, name: &str) -> Option<&Instance<cfg::ResolvedTunnel>> {
        self.tunnels.get(name)
    }

    /// Session instance `name`.
    pub(super) fn session(&self, name: &str) -> Option<&Instance<cfg::ResolvedSession>> {
        self.sessions.get(name)
    }

    /// Every tunnel instance, by name.
    pub(super) fn tunnels(
        &self,
    ) -> impl Iterator<Item = (&String, &Instance<cfg::ResolvedTunnel>)> {
        self.tunnels.iter()
    }

    /// The tunnel instances from name `from` on (all of them for `None`), by name.
    pub(super) fn tunnels_from<'a>(
        &'a self,
        from: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a String, &'a Instance<cfg::ResolvedTunnel>)> {
        from_name(&self.tunnels, from)
    }

    /// The session instances from name `from` on (all of them for `None`), by name.
    pub(super) fn sessions_from<'a>(
        &'a self,
        from: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a String, &'a Instance<cfg::ResolvedSession>)> {
        from_name(&self.sessions, from)
    }

    /// The parameters of tunnel `name` if `l2tpctl` made it.
    pub(super) fn cli_tunnel(&self, name: &str) -> Option<&[(String, String)]> {
        self.cli_tunnels.get(name).map(Vec::as_slice)
    }

    /// The session instances of tunnel instance `tunnel`.
    fn sessions_of(&self, tunnel: &str) -> Vec<String> {
        self.sessions
            .iter()
            .filter(|(_, s)| s.resolved.tunnel == tunnel)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The live tunnel of tunnel instance `name`, if it can take sessions: (handle, tid).
    fn live_tunnel(&self, registry: &Registry, name: &str) -> Option<(u64, u32)> {
        let h = self.tunnels.get(name)?.state.handle()?;
        let rec = registry.tunnel(h).filter(|r| r.phase().is_live())?;
        Some((h, rec.tid()))
    }

    /// When the next retry is due.
    pub(super) fn next_retry(&self) -> Option<Instant> {
        self.retries.first().map(|(at, _, _)| *at)
    }

    // ---------------------------------------------------------------- config and commands

    /// Applies a config: the first call (`diff` is `None`) starts every instance; a reload
    /// removes, re-creates and adds what `diff` names and leaves the rest alone. What is to
    /// start is returned, to be started ([`Self::start`]) once the engine has run the events
    /// of what was removed: a static tunnel or session made again with the same ids finds
    /// them free only then. The blocks a reload refuses are returned with it.
    #[must_use]
    pub(super) fn apply(
        &mut self,
        ctx: &mut Ctx<'_>,
        config: &Config,
        diff: Option<&ConfigDiff>,
    ) -> (Starts, Applied) {
        let Some(diff) = diff else {
            for t in config.resolved_tunnels() {
                let name = t.name.clone();
                self.tunnels
                    .insert(name, Instance::new(t, ctl::CreatedBy::Config));
            }
            for s in config.resolved_sessions() {
                let name = s.name.clone();
                self.sessions
                    .insert(name, Instance::new(s, ctl::CreatedBy::Config));
            }
            let starts = Starts {
                tunnels: self.tunnels.keys().cloned().collect(),
                idle_sessions: false,
            };
            return (starts, Applied::default());
        };
        let (own, mut applied) = self.file_diff(ctx.registry, config, diff);
        let diff = &own;
        let in_place = self.take_new_peers(ctx, config, &diff.tunnels.changed);
        let changed: Vec<&String> = diff
            .tunnels
            .changed
            .iter()
            .filter(|n| !in_place.contains(n))
            .collect();
        // Sessions first: a removed or changed session of an untouched tunnel gets its CDN,
        // except one whose only change is its connect speeds.
        let recreated: Vec<&String> = diff.tunnels.removed.iter().chain(changed.clone()).collect();
        // Their session blocks come back with them, checked as new ones are.
        let held = self.refuse_recreated_sessions(ctx.registry, config, &recreated, diff);
        applied.refused.extend(held);
        let in_kept_tunnels: Vec<String> = diff
            .sessions
            .changed
            .iter()
            .filter(|n| {
                self.sessions
                    .get(*n)
                    .is_some_and(|i| !recreated.contains(&&i.resolved.tunnel))
            })
            .cloned()
            .collect();
        let speeds_only = self.take_new_speeds(ctx, config, &in_kept_tunnels);
        let sessions_changed: Vec<String> = diff
            .sessions
            .changed
            .iter()
            .filter(|n| !speeds_only.contains(n))
            .cloned()
            .collect();
        // Those of a removed or re-created tunnel go with its StopCCN, without a CDN each.
        let disconnect: Vec<String> = diff
            .sessions
            .removed
            .iter()
            .chain(&sessions_changed)
            .filter(|n| {
                self.sessions
                    .get(*n)
                    .is_none_or(|i| !recreated.contains(&&i.resolved.tunnel))
            })
            .cloned()
            .collect();
        for name in &disconnect {
            let why = if diff.sessions.removed.contains(name) {
                Removal::Removed
            } else {
                Removal::ChangedIn(config)
            };
            self.remove_session(ctx, name, why);
        }
        for name in &recreated {
            // Its sessions go down with it (the engine sends one StopCCN). Those made with
            // l2tpctl are placed again in the tunnel made again, and go with a removed one.
            let removed = diff.tunnels.removed.contains(name);
            let keep_cli = !removed
                && self
                    .tunnels
                    .get(*name)
                    .is_some_and(|t| t.created_by == ctl::CreatedBy::Config);
            for s in self.sessions_of(name) {
                match self.sessions.get_mut(&s) {
                    Some(i) if i.created_by != ctl::CreatedBy::Config && keep_cli => {
                        i.state = i.state.released();
                        i.backoff = FIRST_RETRY;
                    }
                    Some(i) => {
                        if i.created_by != ctl::CreatedBy::Config {
                            notice!("session \"{s}\": its tunnel \"{name}\" was removed");
                        }
                        self.sessions.remove(&s);
                    }
                    None => {}
                }
            }
            let why = if removed {
                Removal::Removed
            } else {
                Removal::ChangedIn(config)
            };
            self.remove_tunnel(ctx, name, why);
        }
        // (Re-)create what is new or changed, and the sessions of re-created tunnels.
        for name in diff.tunnels.added.iter().chain(changed.clone()) {
            let Some(t) = config.resolve_tunnel(name) else {
                continue;
            };
            let old = self
                .tunnels
                .insert(name.clone(), Instance::new(t, ctl::CreatedBy::Config));
            if old.is_some_and(|o| o.created_by != ctl::CreatedBy::Config) {
                // The name of a tunnel deleted with l2tpctl: its sessions are not the file's.
                self.cli_tunnels.remove(name);
                for s in self.sessions_of(name) {
                    if self
                        .sessions
                        .get(&s)
                        .is_some_and(|i| i.created_by != ctl::CreatedBy::Config)
                    {
                        self.sessions.remove(&s);
                    }
                }
            }
        }
        for s in config.resolved_sessions() {
            // A session made with l2tpctl and deleted, or whose tunnel was, gives its name up.
            let free = self.sessions.get(&s.name).is_none_or(|i| {
                i.created_by != ctl::CreatedBy::Config && !self.cli_session(&s.name, true)
            });
            if free
                && !self.refused_session(&s.name)
                && (diff.sessions.added.contains(&s.name)
                    || sessions_changed.contains(&s.name)
                    || recreated.contains(&&s.tunnel))
            {
                let name = s.name.clone();
                self.sessions
                    .insert(name, Instance::new(s, ctl::CreatedBy::Config));
            }
        }
        let starts = Starts {
            tunnels: diff.tunnels.added.iter().chain(changed).cloned().collect(),
            idle_sessions: true,
        };
        (starts, applied)
    }

    /// Starts what [`Self::apply`] returned: its tunnels (with their sessions), then, after a
    /// reload, every session instance that is idle or stopped.
    pub(super) fn start(&mut self, ctx: &mut Ctx<'_>, starts: Starts) {
        for name in &starts.tunnels {
            self.start_tunnel(ctx, name);
        }
        if !starts.idle_sessions {
            return;
        }
        let idle: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| matches!(s.state, InstanceState::Idle | InstanceState::Stopped))
            .map(|(n, _)| n.clone())
            .collect();
        for s in idle {
            self.start_session(ctx, &s);
        }
    }

    /// The tunnels of `changed` whose only change is their `peer` list and whose tunnel is
    /// open to an address the new list still has: they take the new list in place, and
    /// nothing of theirs is closed (adding a backup LNS drops no call). Returns their names.
    fn take_new_peers(
        &mut self,
        ctx: &Ctx<'_>,
        config: &Config,
        changed: &[String],
    ) -> Vec<String> {
        let mut kept = Vec::new();
        for name in changed {
            let (Some(new), Some(inst)) = (config.resolve_tunnel(name), self.tunnels.get_mut(name))
            else {
                continue;
            };
            let old_but_peers = cfg::ResolvedTunnel {
                peers: new.peers.clone(),
                ..inst.resolved.clone()
            };
            if old_but_peers != new || new.is_static() {
                continue;
            }
            let Some((_, remote)) = inst
                .state
                .handle()
                .and_then(|h| ctx.registry.tunnel(h))
                .and_then(|t| t.socket)
            else {
                continue;
            };
            let over_ip = new.settings.encap == cfg::Encap::Ip;
            let Some(at) = new.peers.iter().position(|p| {
                matches!(p.host, cfg::Host::Ip(ip) if ip == remote.ip())
                    && (over_ip || p.port_or_default() == remote.port())
            }) else {
                continue;
            };
            // Its next attempt goes to this peer first, as to any peer that worked (exactly
            // when no name before it stands for several addresses).
            let plain = new.peers[..at]
                .iter()
                .all(|p| matches!(p.host, cfg::Host::Ip(_)));
            inst.attempt = if plain { at } else { 0 };
            inst.candidates = new.peers.len();
            // Only its peers changed: the line gives the old and the new list.
            let changes = cfg::describe_changes(&cfg::tunnel_changes(&inst.resolved, &new));
            inst.resolved = new;
            notice!("tunnel \"{name}\": {changes}; it stays open to {remote}");
            kept.push(name.clone());
        }
        kept
    }

    /// Adds tunnel instance `name` made with `l2tpctl` (with the parameters it was given) and
    /// starts it.
    pub(super) fn add_cli_tunnel(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        resolved: cfg::ResolvedTunnel,
        params: Vec<(String, String)>,
    ) {
        self.cli_tunnels.insert(name.to_owned(), params);
        self.tunnels.insert(
            name.to_owned(),
            Instance::new(resolved, ctl::CreatedBy::Cli),
        );
        self.start_tunnel(ctx, name);
    }

    /// Adds session instance `name` made with `l2tpctl` and starts it.
    pub(super) fn add_cli_session(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        resolved: cfg::ResolvedSession,
    ) {
        self.sessions.insert(
            name.to_owned(),
            Instance::new(resolved, ctl::CreatedBy::Cli),
        );
        self.start_session(ctx, name);
    }

    /// `l2tpctl delete` of the tunnel or session `name` made: its instance is not tried again
    /// until a reload changes it. A tunnel made with `l2tpctl` is gone then, and so are the
    /// sessions made in it with `l2tpctl` (l2tpctl(1), delete tunnel).
    pub(super) fn stop(&mut self, kind: InstanceKind, name: &str) {
        let by_cli = |c: ctl::CreatedBy| c != ctl::CreatedBy::Config;
        if kind == InstanceKind::Tunnel
            && self.tunnels.get(name).is_some_and(|i| by_cli(i.created_by))
        {
            for s in self.sessions_of(name) {
                if self.sessions.get(&s).is_some_and(|i| by_cli(i.created_by)) {
                    self.stop(InstanceKind::Session, &s);
                }
            }
        }
        let state = match kind {
            InstanceKind::Tunnel => self.tunnels.get_mut(name).map(|i| &mut i.state),
            InstanceKind::Session => self.sessions.get_mut(name).map(|i| &mut i.state),
        };
        if let Some(state) = state {
            *state = match *state {
                InstanceState::Running { handle } | InstanceState::Stopping { handle } => {
                    InstanceState::Stopping { handle }
                }
                _ => InstanceState::Stopped,
            };
        }
    }

    /// `l2tpctl debug` of the tunnel or session instance `name` while it has no tunnel or
    /// session (it waits for its tunnel, to try again, or for its peer's name): its next one
    /// starts with protocol debugging `on`. Whether there was such an instance.
    /// A session instance must be one of tunnel instance `of`.
    pub(super) fn set_debug(
        &mut self,
        kind: InstanceKind,
        (name, of): (&str, Option<&str>),
        on: bool,
    ) -> bool {
        let waiting = |s: InstanceState| s.handle().is_none() && !s.is_stopped();
        let debug = match kind {
            InstanceKind::Tunnel => self
                .tunnels
                .get_mut(name)
                .filter(|i| waiting(i.state))
                .map(|i| &mut i.resolved.settings.debug),
            InstanceKind::Session => self
                .sessions
                .get_mut(name)
                .filter(|i| waiting(i.state) && of == Some(i.resolved.tunnel.as_str()))
                .map(|i| &mut i.resolved.settings.debug),
        };
        debug.map(|d| *d = on).is_some()
    }

    /// The daemon is stopping: nothing is tried again.
    pub(super) fn cancel_retries(&mut self) {
        self.retries.clear();
        let states = self
            .tunnels
            .values_mut()
            .map(|i| &mut i.state)
            .chain(self.sessions.values_mut().map(|i| &mut i.state));
        for state in states {
            if let InstanceState::Waiting { .. } | InstanceState::Resolving = state {
                *state = InstanceState::Idle;
            }
        }
    }

    /// The answer for peer name `name` came: the tunnel instances waiting for it start.
    pub(super) fn resolved(&mut self, ctx: &mut Ctx<'_>, name: &str) {
        let waiting: Vec<String> = self
            .tunnels
            .iter()
            .filter(|(_, i)| {
                i.state == InstanceState::Resolving
                    && i.resolved
                        .peers
                        .iter()
                        .any(|p| matches!(&p.host, cfg::Host::Name(n) if n == name))
            })
            .map(|(n, _)| n.clone())
            .collect();
        for n in waiting {
            self.start_tunnel(ctx, &n);
        }
    }

    /// Starts the instances whose retry is due at `ctx.now`: tunnels first, then sessions (a
    /// session retries into its tunnel).
    pub(super) fn run_due(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let mut due = Vec::new();
        while self.retries.first().is_some_and(|(at, _, _)| *at <= now) {
            if let Some(e) = self.retries.pop_first() {
                due.push(e);
            }
        }
        due.sort_by_key(|(_, kind, _)| *kind);
        let pending =
            |s: InstanceState| matches!(s, InstanceState::Waiting { until } if until <= now);
        for (_, kind, n) in due {
            // A retry for a fixed id found in use was logged with the first attempt.
            match kind {
                InstanceKind::Tunnel if self.tunnels.get(&n).is_some_and(|i| pending(i.state)) => {
                    if self.tunnels.get(&n).is_some_and(|i| i.id_in_use.is_none()) {
                        notice!("tunnel \"{n}\": retrying");
                    }
                    self.start_tunnel(ctx, &n);
                }
                InstanceKind::Session
                    if self.sessions.get(&n).is_some_and(|i| pending(i.state)) =>
                {
                    if self.sessions.get(&n).is_some_and(|i| i.id_in_use.is_none()) {
                        notice!("session \"{n}\": retrying");
                    }
                    self.start_session(ctx, &n);
                }
                // Stale: started, removed or rescheduled since.
                _ => {}
            }
        }
    }

    // ---------------------------------------------------------------- what happened

    /// Tunnel `handle` of instance `name` went down after being up for `up_for` (`None`:
    /// it never came up): its sessions wait for the next one; the instance tries again after
    /// its back-off (`persist`), waits for a session to need it (closed for being idle), or
    /// stops.
    pub(super) fn tunnel_down(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        (handle, up_for): (u64, Option<Duration>),
        reason: &proto::DownReason,
    ) {
        let Some(inst) = self.tunnels.get_mut(name) else {
            return;
        };
        if inst.state.handle() != Some(handle) {
            return;
        }
        let stopped = inst.state.is_stopped();
        inst.state = inst.state.released();
        inst.last_result = Some(notify::result_code(reason));
        let dropped = inst.went_down(up_for);
        for s in self.sessions.values_mut() {
            if s.resolved.tunnel == name {
                s.state = s.state.released();
                s.backoff = FIRST_RETRY;
            }
        }
        if ctx.shutting_down || stopped {
            return;
        }
        if reason.cause == proto::DownCause::IdleTimeout {
            // Closed for having no session: made again when one of its sessions starts.
            notice!("tunnel \"{name}\": idle; opened again for its next session");
            return;
        }
        let wait = match self.retry_tunnel(ctx, name, up_for.is_none()) {
            Some(Retry::FailOver(wait)) => {
                notice!(
                    "tunnel \"{name}\": did not come up; trying its next peer in {}",
                    secs(wait)
                );
                return;
            }
            Some(Retry::BackOff(wait)) => wait,
            None => return,
        };
        if dropped {
            notice!(
                "tunnel \"{name}\": closed {} after it came up; backing off: retrying in {}",
                secs(up_for.unwrap_or_default()),
                secs(wait)
            );
        } else {
            notice!("tunnel \"{name}\": retrying in {}", secs(wait));
        }
    }

    /// Schedules the next attempt of tunnel instance `name` after one that went down or
    /// failed (`failed`: before the tunnel came up): its next peer after the first back-off
    /// step while one is left untried in this round, else the same or first one after its
    /// back-off (`persist`); `None` when it is not tried again.
    fn retry_tunnel(&mut self, ctx: &Ctx<'_>, name: &str, failed: bool) -> Option<Retry> {
        let cap = tunnel_cap(ctx.config);
        let jitter = self.jitter();
        let inst = self.tunnels.get_mut(name)?;
        let retry = if failed && inst.next_peer() {
            Retry::FailOver(inst.fail_over(ctx.now))
        } else if inst.resolved.persist {
            Retry::BackOff(inst.schedule_retry(ctx.now, cap, jitter))
        } else {
            inst.state = InstanceState::Stopped;
            return None;
        };
        let (Retry::FailOver(wait) | Retry::BackOff(wait)) = retry;
        self.retry(ctx.now + wait, InstanceKind::Tunnel, name);
        Some(retry)
    }

    /// Session `handle` of instance `name` went down after being up for `up_for`: it places
    /// its call again after its back-off, unless it was deleted, the daemon stops, or its
    /// tunnel went down too (then it starts with the tunnel's next attempt).
    pub(super) fn session_down(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        (handle, up_for): (u64, Option<Duration>),
        reason: &proto::DownReason,
    ) {
        let jitter = self.jitter();
        let Some(inst) = self.sessions.get_mut(name) else {
            return;
        };
        if inst.state.handle() != Some(handle) {
            return;
        }
        let stopped = inst.state.is_stopped();
        inst.state = inst.state.released();
        inst.last_result = Some(notify::result_code(reason));
        let dropped = inst.went_down(up_for);
        if ctx.shutting_down || stopped || reason.cause == proto::DownCause::TunnelDown {
            return;
        }
        let wait = inst.schedule_retry(ctx.now, session_cap(ctx.config), jitter);
        self.retry(ctx.now + wait, InstanceKind::Session, name);
        if dropped {
            notice!(
                "session \"{name}\": closed {} after it came up; backing off: retrying in {}",
                secs(up_for.unwrap_or_default()),
                secs(wait)
            );
        } else {
            notice!("session \"{name}\": retrying in {}", secs(wait));
        }
    }
}

/// Why a reload removes an instance: its block is gone, or changed in the new config (the
/// log line names the settings that changed, never a secret's value).
#[derive(Clone, Copy, Debug)]
enum Removal<'a> {
    /// Its block is gone.
    Removed,
    /// Its block is in this config, with other effective settings.
    ChangedIn(&'a Config),
}

/// When a tunnel instance is tried again, and how long it waits.
#[derive(Clone, Copy, Debug)]
enum Retry {
    /// With the next of its peers, after the first back-off step.
    FailOver(Duration),
    /// After its back-off.
    BackOff(Duration),
}

/// A wait as the log shows it: `1.5s`.
fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Records session `handle` (with `ids`) of session instance `name` in tunnel `th`.
fn add_session(
    ctx: &mut Ctx<'_>,
    handle: u64,
    (th, ids): (u64, SessionIds),
    (created_by, name): (ctl::CreatedBy, &str),
    resolved: &cfg::ResolvedSession,
    pw_type: u16,
    call: Option<Box<CallFacts>>,
) {
    let tunnel_name = ctx.registry.tunnel(th).and_then(|t| t.origin.name.clone());
    let mut rec = SessionRec::new(
        th,
        ids,
        Origin::instance(created_by, name),
        SessionProfiles::of_instance(resolved),
        pw_type,
        tunnel_name,
        ctx.now,
    );
    rec.call = call;
    ctx.registry.insert_session(handle, rec);
}

fn tunnel_cap(config: &Config) -> Duration {
    Duration::from_secs(config.system().tunnel_persist_pend_timeout.into())
}

fn session_cap(config: &Config) -> Duration {
    Duration::from_secs(config.system().session_persist_pend_timeout.into())
}

/// The instances of `map` from name `from` on (all of them for `None`), by name.
fn from_name<'a, R>(
    map: &'a BTreeMap<String, Instance<R>>,
    from: Option<&'a str>,
) -> std::collections::btree_map::Range<'a, String, Instance<R>> {
    use std::ops::Bound;
    let from = from.map_or(Bound::Unbounded, Bound::Included);
    map.range::<str, _>((from, Bound::Unbounded))
}
