//! What of a reload's diff is the file's to apply. Tunnels and sessions made with `l2tpctl`
//! are not part of the file and a reload does not touch them (`l2tpd.conf(5)`, RELOADING):
//! a block added or changed under the name of one that is still there (not deleted) is
//! refused, and so is a session block whose tunnel is one of them, and a block whose fixed
//! `tunnel_id` or `session_id` one of them holds; a block removed under such a name removes
//! nothing. The unchanged session blocks of a tunnel the reload makes again are made again
//! too, and checked as new ones. Each refusal is logged and returned (`BlockRefusal`), for
//! the reload's answer; a refused block is tried again at the next reload, whatever it
//! changes.

use l2tp_config::{self as cfg, Config, ConfigDiff};
use l2tp_ctl as ctl;

use super::super::registry::Registry;
use super::refusal::{Applied, BlockRefusal, RefusalReason};
use super::{Instance, InstanceKind, InstanceState, Instances};

/// Whether `inst` was made with `l2tpctl` (`live`: and not deleted since).
fn cli<R>(inst: Option<&Instance<R>>, live: bool) -> bool {
    inst.is_some_and(|i| {
        i.created_by != ctl::CreatedBy::Config && !(live && i.state == InstanceState::Stopped)
    })
}

/// Whether `inst` is the file's: made from a block of the running file, not with `l2tpctl`.
fn file_own<R>(inst: Option<&Instance<R>>) -> bool {
    inst.is_some_and(|i| i.created_by == ctl::CreatedBy::Config)
}

/// Logs refusal `r`.
fn log_refusal(r: &BlockRefusal) {
    match r.reason {
        RefusalReason::TunnelRefused(_) => tracing::error!("{r}"),
        _ => tracing::error!("{r}; the l2tpctl one stays"),
    }
}

/// What the reload did to the `kind` instances of `own` (its lists, after refusals), as its
/// answer reports it: in the order added, removed, changed. A changed block without an
/// instance of the file's (`file_own`: an earlier reload refused it) is added.
fn reported(
    kind: InstanceKind,
    own: &cfg::NameDiff,
    file_own: impl Fn(&str) -> bool,
) -> Vec<ctl::ConfigChange> {
    let change = |name: &String, change| ctl::ConfigChange {
        item: kind.item().to_owned(),
        name: Some(name.clone()),
        change,
    };
    let (changed, added): (Vec<&String>, Vec<&String>) =
        own.changed.iter().partition(|n| file_own(n));
    let mut v: Vec<ctl::ConfigChange> = own
        .added
        .iter()
        .chain(added)
        .map(|n| change(n, ctl::ChangeKind::Added))
        .collect();
    v.extend(
        own.removed
            .iter()
            .map(|n| change(n, ctl::ChangeKind::Removed)),
    );
    v.extend(
        changed
            .into_iter()
            .map(|n| change(n, ctl::ChangeKind::Changed)),
    );
    v
}

impl Instances {
    /// Whether session instance `name` was made with `l2tpctl` (`live`: and neither it nor its
    /// tunnel, if `l2tpctl` made that too, was deleted since).
    pub(super) fn cli_session(&self, name: &str, live: bool) -> bool {
        let Some(inst) = self.sessions.get(name) else {
            return false;
        };
        let tunnel_gone = self.tunnels.get(&inst.resolved.tunnel).is_none_or(|t| {
            t.created_by != ctl::CreatedBy::Config && t.state == InstanceState::Stopped
        });
        cli(Some(inst), live) && !(live && tunnel_gone)
    }

    /// `diff`, with the blocks refused at the last reload added back (as changed when the
    /// file's instance of that name is there, else as added), less what would touch an
    /// instance made with `l2tpctl`; each block refused for it is logged and returned.
    pub(super) fn file_diff(
        &mut self,
        registry: &Registry,
        config: &Config,
        diff: &ConfigDiff,
    ) -> (ConfigDiff, Applied) {
        let mut own = diff.clone();
        self.add_back_refused(config, &mut own);
        let mut refused = Vec::new();
        let mut refuse_tunnel = |name: &String| {
            let reason = if cli(self.tunnels.get(name), true) {
                Some(RefusalReason::NameTaken)
            } else {
                config
                    .resolve_tunnel(name)
                    .and_then(|t| t.tunnel_id)
                    .and_then(|id| self.tunnel_id_holder(registry, name, id))
            };
            let Some(reason) = reason else {
                return true;
            };
            refused.push(BlockRefusal {
                kind: InstanceKind::Tunnel,
                name: name.clone(),
                reason,
            });
            false
        };
        own.tunnels.added.retain(&mut refuse_tunnel);
        own.tunnels.changed.retain(&mut refuse_tunnel);
        let refused_tunnels: Vec<String> = refused.iter().map(|r| r.name.clone()).collect();
        // A block removed under the name of an instance made with l2tpctl, or one that never
        // ran (refused), removes nothing: it is not the file's instance.
        own.tunnels
            .removed
            .retain(|n| file_own(self.tunnels.get(n)));
        let mut refuse_session = |name: &String| {
            let Some(reason) = self.session_refusal(registry, config, name, &refused_tunnels)
            else {
                return true;
            };
            refused.push(BlockRefusal {
                kind: InstanceKind::Session,
                name: name.clone(),
                reason,
            });
            false
        };
        own.sessions.added.retain(&mut refuse_session);
        own.sessions.changed.retain(&mut refuse_session);
        own.sessions
            .removed
            .retain(|n| file_own(self.sessions.get(n)));
        for r in &refused {
            log_refusal(r);
        }
        self.refused = refused.iter().map(|r| (r.kind, r.name.clone())).collect();
        let mut changes = reported(InstanceKind::Tunnel, &own.tunnels, |n| {
            file_own(self.tunnels.get(n))
        });
        changes.extend(reported(InstanceKind::Session, &own.sessions, |n| {
            file_own(self.sessions.get(n))
        }));
        (own, Applied { refused, changes })
    }

    /// The session blocks of `tunnels`, which the reload closes and makes again, that it
    /// makes again though `own` does not list them (unchanged, they come back with their
    /// tunnel), less those that clash with an instance made with `l2tpctl` as a new block
    /// would: each of those is logged, returned and not made again (a later reload tries it).
    pub(super) fn refuse_recreated_sessions(
        &mut self,
        registry: &Registry,
        config: &Config,
        tunnels: &[&String],
        own: &ConfigDiff,
    ) -> Vec<BlockRefusal> {
        let mut refused = Vec::new();
        for s in config.resolved_sessions() {
            let listed = own.sessions.added.contains(&s.name)
                || own.sessions.changed.contains(&s.name)
                || self
                    .refused
                    .contains(&(InstanceKind::Session, s.name.clone()));
            if listed || !tunnels.contains(&&s.tunnel) {
                continue;
            }
            if let Some(reason) = self.session_refusal(registry, config, &s.name, &[]) {
                let r = BlockRefusal {
                    kind: InstanceKind::Session,
                    name: s.name.clone(),
                    reason,
                };
                log_refusal(&r);
                self.refused.insert((r.kind, r.name.clone()));
                refused.push(r);
            }
        }
        refused
    }

    /// Whether the reload refused session block `name` ([`Self::file_diff`],
    /// [`Self::refuse_recreated_sessions`]): it is not made.
    pub(super) fn refused_session(&self, name: &str) -> bool {
        self.refused
            .contains(&(InstanceKind::Session, name.to_owned()))
    }

    /// The reason to refuse session block `name`, if it clashes with an instance made with
    /// `l2tpctl`, or its tunnel block is one of `refused_tunnels`.
    fn session_refusal(
        &self,
        registry: &Registry,
        config: &Config,
        name: &str,
        refused_tunnels: &[String],
    ) -> Option<RefusalReason> {
        if self.cli_session(name, true) {
            return Some(RefusalReason::NameTaken);
        }
        match config.resolve_session(name) {
            Some(s) if cli(self.tunnels.get(&s.tunnel), true) => {
                Some(RefusalReason::CliTunnel(s.tunnel.clone()))
            }
            // Its tunnel block is not applied: the session would wait for nothing.
            Some(s) if refused_tunnels.contains(&s.tunnel) => {
                Some(RefusalReason::TunnelRefused(s.tunnel.clone()))
            }
            Some(s) => self.session_id_holder(registry, config, &s),
            None => None,
        }
    }

    /// Adds the blocks refused at the last reload that the file still has to `diff`: the
    /// reload tries them again.
    fn add_back_refused(&mut self, config: &Config, diff: &mut ConfigDiff) {
        for (kind, name) in std::mem::take(&mut self.refused) {
            let (lists, in_file, file_own) = match kind {
                InstanceKind::Tunnel => (
                    &mut diff.tunnels,
                    config.resolve_tunnel(&name).is_some(),
                    file_own(self.tunnels.get(&name)),
                ),
                InstanceKind::Session => (
                    &mut diff.sessions,
                    config.resolve_session(&name).is_some(),
                    file_own(self.sessions.get(&name)),
                ),
            };
            let listed = [&lists.added, &lists.changed, &lists.removed]
                .iter()
                .any(|l| l.contains(&name));
            if !in_file || listed {
                continue;
            }
            if file_own {
                lists.changed.push(name);
            } else {
                lists.added.push(name);
            }
        }
    }

    /// The reason to refuse tunnel block `name` with fixed id `id`: the live `l2tpctl` tunnel
    /// that holds it, if one does.
    fn tunnel_id_holder(&self, registry: &Registry, name: &str, id: u32) -> Option<RefusalReason> {
        let holder = registry.tunnel_by_tid(id)?.origin.name.as_deref()?;
        (holder != name && cli(self.tunnels.get(holder), true)).then(|| RefusalReason::IdHeld {
            id,
            holder: holder.to_owned(),
        })
    }

    /// The reason to refuse session block `s` with a fixed id: the live `l2tpctl` session that
    /// holds it, if one does, in the block's tunnel or, both being L2TPv3 (whose session ids
    /// name one session of the host, RFC 3931 §4.1), in any tunnel.
    fn session_id_holder(
        &self,
        registry: &Registry,
        config: &Config,
        s: &cfg::ResolvedSession,
    ) -> Option<RefusalReason> {
        let id = s.session_id?;
        let v3 =
            |v: Option<cfg::L2tpVersion>| v.unwrap_or(cfg::L2tpVersion::V3) == cfg::L2tpVersion::V3;
        let block_v3 = config
            .resolve_tunnel(&s.tunnel)
            .is_none_or(|t| v3(t.settings.version));
        registry.sessions().find_map(|(_, rec)| {
            let holder = rec.origin.name.as_deref()?;
            let same_tunnel = rec.tunnel_name.as_deref() == Some(s.tunnel.as_str());
            let holder_v3 = registry
                .tunnel(rec.tunnel)
                .is_some_and(|t| v3(t.settings.version));
            let clash = rec.sid() == id
                && holder != s.name
                && (same_tunnel || (block_v3 && holder_v3))
                && self.cli_session(holder, true);
            clash.then(|| RefusalReason::IdHeld {
                id,
                holder: holder.to_owned(),
            })
        })
    }
}
