//! What of a reload's diff is the file's to apply. Tunnels and sessions made with `l2tpctl`
//! are not part of the file and a reload does not touch them (`l2tpd.conf(5)`, RELOADING):
//! a block added or changed under the name of one that is still there (not deleted) is
//! refused, and so is a session block whose tunnel is one of them, and a block whose fixed
//! `tunnel_id` or `session_id` one of them holds; a block removed under such a name removes
//! nothing. Each refusal is logged and returned (`BlockRefusal`), for the reload's answer; a
//! refused block is tried again at the next reload, whatever it changes.

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

impl Instances {
    /// Whether session instance `name` was made with `l2tpctl` (`live`: and neither it nor its
    /// tunnel, if `l2tpctl` made that too, was deleted since).
    fn cli_session(&self, name: &str, live: bool) -> bool {
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
        let mut retried = self.add_back_refused(config, &mut own);
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
        own.tunnels
            .removed
            .retain(|n| !cli(self.tunnels.get(n), false));
        let mut refuse_session = |name: &String| {
            let resolved = config.resolve_session(name);
            let reason = if self.cli_session(name, true) {
                Some(RefusalReason::NameTaken)
            } else {
                match &resolved {
                    Some(s) if cli(self.tunnels.get(&s.tunnel), true) => {
                        Some(RefusalReason::CliTunnel(s.tunnel.clone()))
                    }
                    // Its tunnel block is not applied: the session would wait for nothing.
                    Some(s) if refused_tunnels.contains(&s.tunnel) => {
                        Some(RefusalReason::TunnelRefused(s.tunnel.clone()))
                    }
                    Some(s) => self.session_id_holder(registry, config, s),
                    None => None,
                }
            };
            let Some(reason) = reason else {
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
        own.sessions.removed.retain(|n| !self.cli_session(n, false));
        for r in &refused {
            match r.reason {
                RefusalReason::TunnelRefused(_) => tracing::error!("{r}"),
                _ => tracing::error!("{r}; the l2tpctl one stays"),
            }
        }
        self.refused = refused.iter().map(|r| (r.kind, r.name.clone())).collect();
        retried.retain(|c| {
            !refused
                .iter()
                .any(|r| r.kind.item() == c.item && c.name.as_ref() == Some(&r.name))
        });
        (own, Applied { refused, retried })
    }

    /// Adds the blocks refused at the last reload that the file still has to `diff`: the
    /// reload tries them again. Returns those added back, as the reload's answer shows them.
    fn add_back_refused(
        &mut self,
        config: &Config,
        diff: &mut ConfigDiff,
    ) -> Vec<ctl::ConfigChange> {
        let mut back = Vec::new();
        for (kind, name) in std::mem::take(&mut self.refused) {
            let (lists, in_file, file_own) = match kind {
                InstanceKind::Tunnel => (
                    &mut diff.tunnels,
                    config.resolve_tunnel(&name).is_some(),
                    self.tunnels
                        .get(&name)
                        .is_some_and(|i| i.created_by == ctl::CreatedBy::Config),
                ),
                InstanceKind::Session => (
                    &mut diff.sessions,
                    config.resolve_session(&name).is_some(),
                    self.sessions
                        .get(&name)
                        .is_some_and(|i| i.created_by == ctl::CreatedBy::Config),
                ),
            };
            let listed = [&lists.added, &lists.changed, &lists.removed]
                .iter()
                .any(|l| l.contains(&name));
            if !in_file || listed {
                continue;
            }
            let (list, change) = if file_own {
                (&mut lists.changed, ctl::ChangeKind::Changed)
            } else {
                (&mut lists.added, ctl::ChangeKind::Added)
            };
            list.push(name.clone());
            back.push(ctl::ConfigChange {
                item: kind.item().to_owned(),
                name: Some(name),
                change,
            });
        }
        back
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
