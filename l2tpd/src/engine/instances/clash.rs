//! What of a reload's diff is the file's to apply. Tunnels and sessions made with `l2tpctl`
//! are not part of the file and a reload does not touch them (`l2tpd.conf(5)`, RELOADING):
//! a block added or changed under the name of one that is still there (not deleted) is
//! refused, with an error line, and so is a session block whose tunnel is one of them; a
//! block removed under such a name removes nothing.

use l2tp_config::{Config, ConfigDiff};
use l2tp_ctl as ctl;

use super::{Instance, InstanceState, Instances};

/// Whether `inst` was made with `l2tpctl` (`live`: and not deleted since).
fn cli<R>(inst: Option<&Instance<R>>, live: bool) -> bool {
    inst.is_some_and(|i| {
        i.created_by != ctl::CreatedBy::Config && !(live && i.state == InstanceState::Stopped)
    })
}

impl Instances {
    /// `diff` less what would touch an instance made with `l2tpctl`; each block refused for
    /// it is logged.
    pub(super) fn file_diff(&self, config: &Config, diff: &ConfigDiff) -> ConfigDiff {
        let mut own = diff.clone();
        let refuse_tunnel = |name: &String| {
            let clash = cli(self.tunnels.get(name), true);
            if clash {
                tracing::error!(
                    "tunnel \"{name}\": a tunnel of that name was made with l2tpctl; the \
                     config's block is refused, the l2tpctl one stays"
                );
            }
            !clash
        };
        own.tunnels.added.retain(refuse_tunnel);
        own.tunnels.changed.retain(refuse_tunnel);
        own.tunnels
            .removed
            .retain(|n| !cli(self.tunnels.get(n), false));
        let refuse_session = |name: &String| {
            if cli(self.sessions.get(name), true) {
                tracing::error!(
                    "session \"{name}\": a session of that name was made with l2tpctl; the \
                     config's block is refused, the l2tpctl one stays"
                );
                return false;
            }
            let tunnel = config.resolve_session(name).map(|s| s.tunnel);
            match tunnel {
                Some(t) if cli(self.tunnels.get(&t), true) => {
                    tracing::error!(
                        "session \"{name}\": its tunnel \"{t}\" is one made with l2tpctl; the \
                         config's block is refused"
                    );
                    false
                }
                _ => true,
            }
        };
        own.sessions.added.retain(refuse_session);
        own.sessions.changed.retain(refuse_session);
        own.sessions
            .removed
            .retain(|n| !cli(self.sessions.get(n), false));
        own
    }
}
