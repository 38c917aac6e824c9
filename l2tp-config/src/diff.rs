//! What changed between two configs, for applying a re-read config on SIGHUP.

use std::collections::BTreeMap;

use crate::config::Config;

/// Names of the items of one kind that were added, removed, changed or left alone.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct NameDiff {
    /// In the new config only.
    pub added: Vec<String>,
    /// In the old config only.
    pub removed: Vec<String>,
    /// In both, with different effective settings.
    pub changed: Vec<String>,
    /// In both, with the same effective settings.
    pub unchanged: Vec<String>,
}

impl NameDiff {
    /// Whether anything was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    fn of<T: PartialEq>(old: BTreeMap<String, T>, new: BTreeMap<String, T>) -> Self {
        let mut d = NameDiff::default();
        for (name, o) in &old {
            match new.get(name) {
                None => d.removed.push(name.clone()),
                Some(n) if n == o => d.unchanged.push(name.clone()),
                Some(_) => d.changed.push(name.clone()),
            }
        }
        d.added = new.into_keys().filter(|n| !old.contains_key(n)).collect();
        d
    }
}

/// The difference between an old and a new config. Names in each list are sorted.
///
/// Instances are compared by their *effective* settings, so an instance whose profile changed
/// counts as changed even if its own block did not. A session's effective settings include its
/// pseudowire profile (and, for native PPP, its PPP profile), but not its tunnel's settings: when a tunnel is changed or removed, the
/// caller re-creates or removes its sessions as well.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct ConfigDiff {
    /// Whether the `system` settings differ.
    pub system_changed: bool,
    /// Peer profiles, compared by their settings.
    pub peer_profiles: NameDiff,
    /// Tunnel profiles, compared by their effective settings (over the `default` profile).
    pub tunnel_profiles: NameDiff,
    /// Session profiles, as tunnel profiles.
    pub session_profiles: NameDiff,
    /// Pseudowire profiles, as tunnel profiles.
    pub pseudowire_profiles: NameDiff,
    /// PPP profiles, as tunnel profiles.
    pub ppp_profiles: NameDiff,
    /// Address pools, compared by their ranges.
    pub ip_pools: NameDiff,
    /// Local users by name (`*`: a users file's wildcard lines), compared by what their
    /// `user` blocks and users-file lines say (server, password, fixed address, which file);
    /// a line that only moved is unchanged.
    pub users: NameDiff,
    /// RADIUS servers, compared by their settings.
    pub radius_servers: NameDiff,
    /// Dynamic authorization clients, compared by their settings.
    pub dynauth_clients: NameDiff,
    /// Tunnel instances, compared by their effective settings.
    pub tunnels: NameDiff,
    /// Session instances, compared by their effective settings.
    pub sessions: NameDiff,
}

impl ConfigDiff {
    /// Whether the two configs are equivalent.
    pub fn is_empty(&self) -> bool {
        !self.system_changed
            && self.peer_profiles.is_empty()
            && self.tunnel_profiles.is_empty()
            && self.session_profiles.is_empty()
            && self.pseudowire_profiles.is_empty()
            && self.ppp_profiles.is_empty()
            && self.ip_pools.is_empty()
            && self.users.is_empty()
            && self.radius_servers.is_empty()
            && self.dynauth_clients.is_empty()
            && self.tunnels.is_empty()
            && self.sessions.is_empty()
    }

    /// Whether the settings of any profile differ (new, removed or changed).
    pub fn profiles_changed(&self) -> bool {
        !(self.peer_profiles.is_empty()
            && self.tunnel_profiles.is_empty()
            && self.session_profiles.is_empty()
            && self.pseudowire_profiles.is_empty()
            && self.ppp_profiles.is_empty())
    }
}

/// Compares `old` with `new`, as when applying a config re-read on SIGHUP.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    fn by_name<T>(
        c: &Config,
        names: Vec<String>,
        f: impl Fn(&Config, &str) -> Option<T>,
    ) -> BTreeMap<String, T> {
        names
            .into_iter()
            .filter_map(|n| f(c, &n).map(|t| (n, t)))
            .collect()
    }
    macro_rules! compare {
        ($list:ident, $resolve:ident) => {
            NameDiff::of(
                by_name(
                    old,
                    old.$list().iter().map(|p| p.name.clone()).collect(),
                    Config::$resolve,
                ),
                by_name(
                    new,
                    new.$list().iter().map(|p| p.name.clone()).collect(),
                    Config::$resolve,
                ),
            )
        };
    }
    ConfigDiff {
        system_changed: old.system() != new.system(),
        peer_profiles: compare!(peer_profiles, peer_profile_settings),
        tunnel_profiles: compare!(tunnel_profiles, tunnel_profile_settings),
        session_profiles: compare!(session_profiles, session_profile_settings),
        pseudowire_profiles: compare!(pseudowire_profiles, pseudowire_profile_settings),
        ppp_profiles: compare!(ppp_profiles, ppp_profile_settings),
        ip_pools: compare!(ip_pools, ip_pool_ranges),
        users: NameDiff::of(old.users().by_name(), new.users().by_name()),
        radius_servers: NameDiff::of(
            old.radius_servers()
                .iter()
                .map(|r| (r.name.clone(), r.settings.clone()))
                .collect(),
            new.radius_servers()
                .iter()
                .map(|r| (r.name.clone(), r.settings.clone()))
                .collect(),
        ),
        dynauth_clients: NameDiff::of(
            old.dynauth_clients()
                .iter()
                .map(|c| (c.name.clone(), c.settings.clone()))
                .collect(),
            new.dynauth_clients()
                .iter()
                .map(|c| (c.name.clone(), c.settings.clone()))
                .collect(),
        ),
        tunnels: compare!(tunnels, resolve_tunnel),
        sessions: compare!(sessions, resolve_session),
    }
}
