//! What a reload reports: the changes of a config diff as the control protocol names them, and
//! the settings that only a restart applies.

use l2tp_config::{Config, ConfigDiff, NameDiff};
use l2tp_ctl::{ChangeKind, ConfigChange, RefusedBlock, ReloadSummary};

use crate::engine::{Applied, InstanceKind};

/// Whether `config` has the daemon listen on IP protocol 115: `listen_encap_ip`, or any
/// tunnel profile or instance using IP encapsulation (l2tpd.conf(5), `listen_encap_ip`).
pub fn uses_ip_encap(config: &Config) -> bool {
    config.system().listen_encap_ip
        || config
            .tunnel_profiles()
            .iter()
            .filter_map(|p| config.tunnel_profile_settings(&p.name))
            .any(|s| s.encap == l2tp_config::Encap::Ip)
        || config
            .resolved_tunnels()
            .iter()
            .any(|t| t.settings.encap == l2tp_config::Encap::Ip)
}

/// The changes of a reload as the control protocol reports them, and the settings that only a
/// restart applies: those whose value in `new` is not the one the daemon runs with, from the
/// config it started with (`first`), whatever reloads came between.
pub fn summarize(diff: &ConfigDiff, first: &Config, new: &Config, ip_open: bool) -> ReloadSummary {
    let mut changes = Vec::new();
    if diff.system_changed {
        changes.push(ConfigChange {
            item: "system".into(),
            name: None,
            change: ChangeKind::Changed,
        });
    }
    let lists: [(&str, &NameDiff); 11] = [
        ("peer_profile", &diff.peer_profiles),
        ("tunnel_profile", &diff.tunnel_profiles),
        ("session_profile", &diff.session_profiles),
        ("pseudowire_profile", &diff.pseudowire_profiles),
        ("ppp_profile", &diff.ppp_profiles),
        ("ip_pool", &diff.ip_pools),
        ("user", &diff.users),
        ("radius_server", &diff.radius_servers),
        ("dynauth_client", &diff.dynauth_clients),
        ("tunnel", &diff.tunnels),
        ("session", &diff.sessions),
    ];
    for (item, d) in lists {
        for (names, change) in [
            (&d.added, ChangeKind::Added),
            (&d.removed, ChangeKind::Removed),
            (&d.changed, ChangeKind::Changed),
        ] {
            changes.extend(names.iter().map(|n| ConfigChange {
                item: item.into(),
                name: Some(n.clone()),
                change,
            }));
        }
    }
    let (o, n) = (first.system(), new.system());
    let mut restart_needed = Vec::new();
    let mut needs = |what: &str, changed: bool| {
        if changed {
            restart_needed.push(format!(
                "{what} changed: restart l2tpd to apply it (the running value is kept)"
            ));
        }
    };
    needs("listen", o.listen != n.listen);
    needs("control_socket", o.control_socket != n.control_socket);
    needs(
        "control_socket_group",
        o.control_socket_group != n.control_socket_group,
    );
    needs("pid_file", o.pid_file != n.pid_file);
    needs("metrics_listen", o.metrics_listen != n.metrics_listen);
    needs("dataplane", o.dataplane != n.dataplane);
    needs(
        "dataplane_offloads",
        o.dataplane_offloads != n.dataplane_offloads,
    );
    needs(
        "dataplane_threads",
        o.dataplane_threads != n.dataplane_threads,
    );
    needs("ppp_interface", o.ppp_interface != n.ppp_interface);
    needs("learn_sccrq_mark", o.learn_sccrq_mark != n.learn_sccrq_mark);
    needs("nfq_socket", o.nfq_socket != n.nfq_socket);
    needs("max_scripts", o.max_scripts != n.max_scripts);
    if !ip_open && uses_ip_encap(new) {
        restart_needed.push(
            "encap ip or listen_encap_ip is now in use: restart l2tpd to open the IP \
             (protocol 115) sockets"
                .into(),
        );
    }
    if ip_open && !uses_ip_encap(new) {
        restart_needed.push(
            "encap ip and listen_encap_ip are no longer in use: the IP (protocol 115) sockets \
             stay open, and peers may still open tunnels over IP, until l2tpd restarts"
                .into(),
        );
    }
    ReloadSummary {
        changes,
        restart_needed,
        refused: Vec::new(),
    }
}

/// Adds what the engine did to the file's `tunnel` and `session` blocks to `summary`: its
/// account of them replaces the diff's (a block refused, or removed without having run, did
/// nothing; one refused earlier and applied now was added or changed), and the blocks it
/// refused are listed apart.
pub(super) fn add_applied(summary: &mut ReloadSummary, applied: Applied) {
    let Applied { refused, changes } = applied;
    summary.changes.retain(|c| {
        ![InstanceKind::Tunnel, InstanceKind::Session]
            .map(InstanceKind::item)
            .contains(&c.item.as_str())
    });
    summary.changes.extend(changes);
    summary.refused = refused
        .iter()
        .map(|r| RefusedBlock {
            item: r.kind.item().to_owned(),
            name: r.name.clone(),
            reason: r.reason_text(),
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::summarize;

    fn parse(text: &str) -> l2tp_config::Config {
        l2tp_config::parse("t.conf", text).unwrap_or_else(|d| panic!("{d:?}"))
    }

    /// `max_scripts` sizes the scripts' semaphore once, at start-up (l2tpd.conf(5)).
    #[test]
    fn a_reload_that_changes_max_scripts_says_it_needs_a_restart() {
        let old = parse("");
        let new = parse("system {\n max_scripts 4\n}\n");
        let s = summarize(&l2tp_config::diff(&old, &new), &old, &new, false);
        assert_eq!(
            s.restart_needed,
            ["max_scripts changed: restart l2tpd to apply it (the running value is kept)"]
        );
    }

    /// The protocol 115 sockets are opened at start-up only, and closed only by a stop.
    #[test]
    fn a_reload_that_stops_using_ip_encapsulation_says_its_sockets_stay_open() {
        let old = parse("system {\n listen_encap_ip true\n}\n");
        let new = parse("");
        let s = summarize(&l2tp_config::diff(&old, &new), &old, &new, true);
        assert_eq!(
            s.restart_needed,
            [
                "encap ip and listen_encap_ip are no longer in use: the IP (protocol 115) \
                 sockets stay open, and peers may still open tunnels over IP, until l2tpd \
                 restarts"
            ]
        );
        // Said at each reload while the file is so (the sockets are still open), and no more
        // once the file uses IP again.
        let again = summarize(&l2tp_config::diff(&new, &new), &old, &new, true);
        assert_eq!(again.restart_needed, s.restart_needed);
        let back = summarize(&l2tp_config::diff(&new, &old), &old, &old, true);
        assert!(back.restart_needed.is_empty(), "{:?}", back.restart_needed);
    }
}
