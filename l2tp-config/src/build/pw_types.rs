//! `pseudowire_types` where it has no effect: in a session profile that only L2TPv2 tunnels
//! use (L2TPv2 calls are always PPP, and are not checked against the list).

use super::Builder;
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::value::L2tpVersion;

impl Builder {
    pub(super) fn check_pseudowire_types(&mut self, config: &Config) {
        // The L2TP version of each tunnel the peers' calls may come in, with the session
        // profile those calls take: the peers' tunnels (by peer profile: its session profile
        // if it sets one, else its tunnel profile's), and this end's tunnel blocks. `None`:
        // either version.
        let mut users: Vec<(String, Option<L2tpVersion>)> = Vec::new();
        for peer in &config.peer_profiles {
            let settings = peer.params.resolve();
            let Some(tunnel) = config.tunnel_profile_settings(&settings.tunnel_profile_name) else {
                continue;
            };
            let session = if peer.params.is_set("session_profile_name") {
                settings.session_profile_name
            } else {
                tunnel.session_profile_name
            };
            users.push((session, tunnel.version));
        }
        for t in config.resolved_tunnels() {
            users.push((t.settings.session_profile_name, t.settings.version));
        }
        let located: Vec<_> = self
            .session_profiles
            .iter()
            .filter_map(|(p, info)| Some((p.name.clone(), info.value("pseudowire_types")?)))
            .collect();
        for (name, at) in located {
            let mut used = users.iter().filter(|(p, _)| *p == name).peekable();
            if used.peek().is_some() && used.all(|(_, v)| *v == Some(L2tpVersion::V2)) {
                self.diags.push(Diagnostic::warning(
                    at,
                    format!(
                        "`pseudowire_types` has no effect: session profile `{name}` is used by \
                         L2TPv2 tunnels only, whose calls are always PPP and are not checked"
                    ),
                ));
            }
        }
    }
}
