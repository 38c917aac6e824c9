//! Views of the config for `l2tpctl show ... profile(s)` and `show ip pool(s)`: effective
//! settings as ordered `key: value` maps, spelled as in the config file. Secrets are never shown,
//! only whether one is set.

use std::fmt::Display;

use l2tp_config::{
    BearerCaps, Config, FramingCaps, IpPool, L2tpVersion, PeerSettings, PppSettings,
    PseudowireSettings, SessionSettings, TextOrBytes, TunnelSettings,
};
use l2tp_ctl::{IpPoolInfo, ProfileInfo, ProfileKind, SettingValue, Settings};

/// What a set secret reads as.
pub const REDACTED: &str = "<redacted>";

/// What an unset ppp profile `mru` reads as: the MRU asked for is then what the session's
/// tunnel carries (l2tpd.conf(5) `mru`, `engine::ppp::mtu`).
pub const MRU_AUTO: &str = "auto (from the tunnel's underlay)";

/// What an unset pseudowire profile `mtu` reads as: the data plane then works the interface's
/// MTU out from the path and the headers (l2tpd.conf(5) `mtu`).
pub const MTU_AUTO: &str = "auto (from the path and the headers)";

/// What an unset pseudowire profile `interface_name` reads as: the template a session then
/// takes, by its pseudowire type (l2tpd.conf(5) `interface_name`, `dataplane::names::template`).
pub const INTERFACE_AUTO: &str = "auto (l2tpeth%d for Ethernet, ppp%d for PPP)";

/// Every profile of `kind`, in file order (the `default` one included).
pub fn profiles(config: &Config, kind: ProfileKind) -> Vec<ProfileInfo> {
    let names: Vec<&str> = match kind {
        ProfileKind::Peer => config
            .peer_profiles()
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
        ProfileKind::Tunnel => config
            .tunnel_profiles()
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
        ProfileKind::Session => config
            .session_profiles()
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
        ProfileKind::Pseudowire => config
            .pseudowire_profiles()
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
        ProfileKind::Ppp => config
            .ppp_profiles()
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
    };
    names
        .into_iter()
        .filter_map(|n| profile(config, kind, n))
        .collect()
}

/// Profile `name` of `kind` with its effective settings.
pub fn profile(config: &Config, kind: ProfileKind, name: &str) -> Option<ProfileInfo> {
    let (builtin, settings) = match kind {
        ProfileKind::Peer => (
            config.peer_profile(name)?.builtin,
            peer_settings(&config.peer_profile_settings(name)?),
        ),
        ProfileKind::Tunnel => (
            config.tunnel_profile(name)?.builtin,
            tunnel_settings(&config.tunnel_profile_settings(name)?),
        ),
        ProfileKind::Session => (
            config.session_profile(name)?.builtin,
            session_settings(&config.session_profile_settings(name)?),
        ),
        ProfileKind::Pseudowire => (
            config.pseudowire_profile(name)?.builtin,
            pseudowire_settings(&config.pseudowire_profile_settings(name)?),
        ),
        ProfileKind::Ppp => (
            config.ppp_profile(name)?.builtin,
            ppp_settings(&config.ppp_profile_settings(name)?),
        ),
    };
    Some(ProfileInfo {
        kind,
        name: name.to_owned(),
        builtin,
        settings,
    })
}

/// Every address pool, in file order.
pub fn ip_pools(config: &Config) -> Vec<IpPoolInfo> {
    config.ip_pools().iter().map(pool_info).collect()
}

/// The address pool `name`.
pub fn ip_pool(config: &Config, name: &str) -> Option<IpPoolInfo> {
    config.ip_pool(name).map(pool_info)
}

fn pool_info(p: &IpPool) -> IpPoolInfo {
    IpPoolInfo {
        name: p.name.clone(),
        ranges: p.ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect(),
        size: p.size(),
        in_use: 0,
    }
}

fn text(v: impl Display) -> Option<SettingValue> {
    Some(SettingValue::Text(v.to_string()))
}

fn opt_text<T: Display>(v: &Option<T>) -> Option<SettingValue> {
    v.as_ref().and_then(text)
}

fn num<T: Into<SettingValue> + Copy>(v: &Option<T>) -> Option<SettingValue> {
    v.map(Into::into)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("hex:");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn framing(c: FramingCaps) -> Option<SettingValue> {
    let mut v = Vec::new();
    if c.sync {
        v.push("sync".to_owned());
    }
    if c.async_ {
        v.push("async".to_owned());
    }
    Some(SettingValue::List(v))
}

fn bearer(c: BearerCaps) -> Option<SettingValue> {
    let mut v = Vec::new();
    if c.digital {
        v.push("digital".to_owned());
    }
    if c.analog {
        v.push("analog".to_owned());
    }
    Some(SettingValue::List(v))
}

/// A peer profile's settings.
pub fn peer_settings(s: &PeerSettings) -> Settings {
    let mut m = Settings::new();
    m.push(
        "peer_ipaddr",
        s.peer_ipaddr.and_then(|p| match p.len {
            Some(len) => text(format_args!("{}/{len}", p.addr)),
            None => text(p.addr),
        }),
    );
    m.push("netmask", opt_text(&s.netmask));
    m.push("peer_host_name", opt_text(&s.peer_host_name));
    m.push("lac_lns", text(s.lac_lns));
    m.push("tunnel_profile_name", text(&s.tunnel_profile_name));
    m.push("session_profile_name", text(&s.session_profile_name));
    m.push("pseudowire_profile_name", text(&s.pseudowire_profile_name));
    m
}

/// A tunnel's settings (profile or instance).
pub fn tunnel_settings(s: &TunnelSettings) -> Settings {
    let mut m = Settings::new();
    m.push(
        "version",
        s.version.map(|v| {
            SettingValue::Number(match v {
                L2tpVersion::V2 => 2,
                L2tpVersion::V3 => 3,
            })
        }),
    );
    m.push("encap", text(s.encap));
    m.push("local", opt_text(&s.local));
    m.push("host_name", opt_text(&s.host_name));
    m.push("secret", s.secret.as_ref().and_then(|_| text(REDACTED)));
    m.push("auth_mode", text(s.auth_mode));
    m.push("hide_avps", Some(s.hide_avps.into()));
    m.push("digest_type", text(s.digest_type));
    m.push("hello_timeout", Some(s.hello_timeout.into()));
    m.push("retry_timeout", Some(s.retry_timeout.into()));
    m.push("max_retries", Some(s.max_retries.into()));
    m.push("rx_window_size", Some(s.rx_window_size.into()));
    m.push("tx_window_size", Some(s.tx_window_size.into()));
    m.push("idle_timeout", Some(s.idle_timeout.into()));
    m.push("max_sessions", Some(s.max_sessions.into()));
    m.push("framing_caps", framing(s.framing_caps));
    m.push("bearer_caps", bearer(s.bearer_caps));
    m.push("use_tiebreaker", Some(s.use_tiebreaker.into()));
    m.push("use_udp_checksums", Some(s.use_udp_checksums.into()));
    m.push("session_profile_name", text(&s.session_profile_name));
    m.push("pseudowire_profile_name", text(&s.pseudowire_profile_name));
    m.push("debug", Some(s.debug.into()));
    m
}

/// A session's settings (profile or instance).
pub fn session_settings(s: &SessionSettings) -> Settings {
    let mut m = Settings::new();
    m.push("pseudowire_type", text(s.pseudowire_type));
    m.push(
        "pseudowire_types",
        (!s.pseudowire_types.is_empty()).then(|| {
            SettingValue::List(s.pseudowire_types.iter().map(ToString::to_string).collect())
        }),
    );
    m.push("l2spec_type", text(s.l2spec_type));
    m.push("cookie_length", Some(s.cookie_length.into()));
    m.push("cookie", s.cookie.as_deref().and_then(|c| text(hex(c))));
    m.push(
        "peer_cookie",
        s.peer_cookie.as_deref().and_then(|c| text(hex(c))),
    );
    m.push("data_sequencing", text(s.data_sequencing));
    m.push("reorder_timeout", Some(s.reorder_timeout.into()));
    m.push("vlan_id", num(&s.vlan_id));
    m.push("session_type", opt_text(&s.session_type));
    m.push("calling_number", opt_text(&s.calling_number));
    m.push("called_number", opt_text(&s.called_number));
    m.push("sub_address", opt_text(&s.sub_address));
    m.push("agent_circuit_id", opt_text(&s.agent_circuit_id));
    m.push("agent_remote_id", opt_text(&s.agent_remote_id));
    m.push(
        "actual_data_rate_upstream",
        num(&s.actual_data_rate_upstream),
    );
    m.push(
        "actual_data_rate_downstream",
        num(&s.actual_data_rate_downstream),
    );
    m.push("tx_connect_speed", num(&s.tx_connect_speed));
    m.push("rx_connect_speed", num(&s.rx_connect_speed));
    m.push(
        "connect_speed_updates",
        Some(s.connect_speed_updates.into()),
    );
    m.push("framing_type", text(s.framing_type));
    m.push("bearer_type", text(s.bearer_type));
    m.push("priv_group_id", opt_text(&s.priv_group_id));
    m.push("user_data", opt_text(&s.user_data));
    m.push(
        "remote_end_id",
        s.remote_end_id.as_ref().and_then(|r| match r {
            TextOrBytes::Text(t) => text(t),
            TextOrBytes::Bytes(b) => text(hex(b)),
        }),
    );
    m.push("interface_name", opt_text(&s.interface_name));
    m.push(
        "pseudowire_profile_name",
        opt_text(&s.pseudowire_profile_name),
    );
    m.push("debug", Some(s.debug.into()));
    m
}

/// A pseudowire profile's settings.
pub fn pseudowire_settings(s: &PseudowireSettings) -> Settings {
    let mut m = Settings::new();
    m.push(
        "interface_name",
        opt_text(&s.interface_name).or_else(|| text(INTERFACE_AUTO)),
    );
    m.push("mtu", num(&s.mtu).or_else(|| text(MTU_AUTO)));
    m.push("mac", opt_text(&s.mac));
    m.push("local_ip", opt_text(&s.local_ip));
    m.push("peer_ip", opt_text(&s.peer_ip));
    m.push("netmask", opt_text(&s.netmask));
    m.push("bridge", opt_text(&s.bridge));
    m.push("use_pppd", Some(s.use_pppd.into()));
    m.push("ppp_profile_name", text(&s.ppp_profile_name));
    m.push("pppd_path", text(s.pppd_path.display()));
    m.push(
        "pppd_options",
        Some(SettingValue::List(s.pppd_options.clone())),
    );
    m
}

/// A PPP profile's settings.
pub fn ppp_settings(s: &PppSettings) -> Settings {
    let mut m = Settings::new();
    m.push("auth_pap", Some(s.auth_pap.into()));
    m.push("auth_chap", Some(s.auth_chap.into()));
    m.push("auth_mschapv2", Some(s.auth_mschapv2.into()));
    m.push("auth_none", Some(s.auth_none.into()));
    m.push("local_name", text(&s.local_name));
    m.push("user_name", opt_text(&s.user_name));
    m.push(
        "user_password",
        s.user_password.as_ref().and_then(|_| text(REDACTED)),
    );
    m.push("local_ip_addr", opt_text(&s.local_ip_addr));
    m.push("peer_ip_addr", opt_text(&s.peer_ip_addr));
    m.push("ip_pool_name", opt_text(&s.ip_pool_name));
    m.push("dns_addr_1", opt_text(&s.dns_addr_1));
    m.push("dns_addr_2", opt_text(&s.dns_addr_2));
    m.push("wins_addr_1", opt_text(&s.wins_addr_1));
    m.push("wins_addr_2", opt_text(&s.wins_addr_2));
    m.push("mru", num(&s.mru).or_else(|| text(MRU_AUTO)));
    m.push("lcp_echo_interval", Some(s.lcp_echo_interval.into()));
    m.push("lcp_echo_fail_count", Some(s.lcp_echo_fail_count.into()));
    m.push("idle_timeout", Some(s.idle_timeout.into()));
    m.push("max_connect_time", Some(s.max_connect_time.into()));
    m.push("ipv6cp", Some(s.ipv6cp.into()));
    m.push(
        "lcp_retransmit_interval",
        Some(s.lcp_retransmit_interval.into()),
    );
    m.push("lcp_max_cfg_reqs", Some(s.lcp_max_cfg_reqs.into()));
    m.push("lcp_max_cfg_naks", Some(s.lcp_max_cfg_naks.into()));
    m.push("lcp_max_term_reqs", Some(s.lcp_max_term_reqs.into()));
    m.push("max_renegotiations", Some(s.max_renegotiations.into()));
    m.push(
        "ipcp_retransmit_interval",
        Some(s.ipcp_retransmit_interval.into()),
    );
    m.push("ipcp_max_cfg_reqs", Some(s.ipcp_max_cfg_reqs.into()));
    m.push("ipcp_max_cfg_naks", Some(s.ipcp_max_cfg_naks.into()));
    m.push("ipcp_max_term_reqs", Some(s.ipcp_max_term_reqs.into()));
    m.push("auth_timeout", Some(s.auth_timeout.into()));
    m.push("chap_restart", Some(s.chap_restart.into()));
    m.push("chap_max_challenge", Some(s.chap_max_challenge.into()));
    m.push("chap_interval", Some(s.chap_interval.into()));
    m.push("pap_restart_interval", Some(s.pap_restart_interval.into()));
    m.push("pap_max_auth_reqs", Some(s.pap_max_auth_reqs.into()));
    m.push("pap_timeout", Some(s.pap_timeout.into()));
    m.push("auth_mschapv1", Some(s.auth_mschapv1.into()));
    m.push("auth_eap", Some(s.auth_eap.into()));
    m.push("multilink", Some(s.multilink.into()));
    m.push("proxy_lcp", Some(s.proxy_lcp.into()));
    m.push("proxy_auth", Some(s.proxy_auth.into()));
    m.push("relogin", text(s.relogin));
    m.push(
        "users_file",
        s.users_file.as_ref().and_then(|p| text(p.display())),
    );
    m.push("auth_source", text(s.auth_source));
    m.push("radius_accounting", Some(s.radius_accounting.into()));
    m.push(
        "acct_interim_interval",
        Some(s.acct_interim_interval.into()),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_profiles_listed_in_order() {
        let config = l2tp_config::parse(
            "t.conf",
            "tunnel profile \"b\" {\n secret \"hunter2\"\n hello_timeout 5\n}\n\
             tunnel profile \"a\" {\n version 2\n}\n",
        );
        let Ok(config) = config else {
            panic!("test config is invalid");
        };
        let all = profiles(&config, ProfileKind::Tunnel);
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "default"]);
        let b = &all[0];
        assert!(!b.builtin);
        let json = serde_json::to_string(b).unwrap_or_default();
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(
            b.settings.get("secret"),
            Some(&Some(SettingValue::Text(REDACTED.into())))
        );
        assert_eq!(
            b.settings.get("hello_timeout"),
            Some(&Some(SettingValue::Number(5)))
        );
        assert_eq!(
            all[1].settings.get("version"),
            Some(&Some(SettingValue::Number(2)))
        );
        assert!(profile(&config, ProfileKind::Tunnel, "nope").is_none());
        for kind in ProfileKind::ALL {
            assert!(profile(&config, kind, "default").is_some_and(|p| p.builtin));
        }
    }

    #[test]
    fn ppp_profiles_show_every_parameter_and_hide_the_password() {
        let config = l2tp_config::parse(
            "t.conf",
            "ppp profile \"site\" {\n user_name \"me\"\n user_password \"hunter2\"\n \
             mru 1400\n users_file /etc/l2tpd/users\n chap_interval 600\n}\n",
        );
        let Ok(config) = config else {
            panic!("test config is invalid");
        };
        let Some(p) = profile(&config, ProfileKind::Ppp, "site") else {
            panic!("no ppp profile site");
        };
        let keys: Vec<&str> = p.settings.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, l2tp_config::PppParams::KEYS);
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(
            p.settings.get("user_password"),
            Some(&Some(SettingValue::Text(REDACTED.into())))
        );
        assert_eq!(
            p.settings.get("mru"),
            Some(&Some(SettingValue::Number(1400)))
        );
        assert_eq!(
            p.settings.get("users_file"),
            Some(&Some(SettingValue::Text("/etc/l2tpd/users".into())))
        );
        assert_eq!(
            p.settings.get("chap_interval"),
            Some(&Some(SettingValue::Number(600)))
        );
        assert_eq!(
            p.settings.get("ipcp_max_cfg_naks"),
            Some(&Some(SettingValue::Number(5)))
        );
        assert_eq!(p.settings.get("dns_addr_1"), Some(&None));
        // Unset, the MRU is not absent: it comes from the underlay.
        let Some(d) = profile(&config, ProfileKind::Ppp, "default") else {
            panic!("no ppp profile default");
        };
        assert_eq!(
            d.settings.get("mru"),
            Some(&Some(SettingValue::Text(MRU_AUTO.into())))
        );
        let json = serde_json::to_value(&d.settings).unwrap_or_default();
        assert_eq!(json["mru"], "auto (from the tunnel's underlay)", "{json}");
        let names: Vec<String> = profiles(&config, ProfileKind::Ppp)
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["site", "default"]);
        let Some(pw) = profile(&config, ProfileKind::Pseudowire, "default") else {
            panic!("no pseudowire profile default");
        };
        let keys: Vec<&str> = pw.settings.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, l2tp_config::PseudowireParams::KEYS);
        // Unset, the MTU is not absent: the data plane works it out.
        assert_eq!(
            pw.settings.get("mtu"),
            Some(&Some(SettingValue::Text(MTU_AUTO.into())))
        );
        let json = serde_json::to_value(&pw.settings).unwrap_or_default();
        assert_eq!(
            json["mtu"], "auto (from the path and the headers)",
            "{json}"
        );
        // Unset, the interface name is the template the session's type takes.
        assert_eq!(json["interface_name"], INTERFACE_AUTO, "{json}");
        let (eth, ppp) = (
            crate::dataplane::names::template(None, false),
            crate::dataplane::names::template(None, true),
        );
        assert!(
            INTERFACE_AUTO.contains(&format!("{eth} for Ethernet"))
                && INTERFACE_AUTO.contains(&format!("{ppp} for PPP")),
            "{INTERFACE_AUTO} against {eth} and {ppp}"
        );
    }

    #[test]
    fn pools_show_their_ranges_and_size() {
        let config = l2tp_config::parse(
            "t.conf",
            "ip pool \"a\" {\n ranges 192.0.2.10-192.0.2.19 192.0.2.30\n}\n\
             ip pool \"b\" {\n ranges 198.51.100.0-198.51.100.255\n}\n",
        );
        let Ok(config) = config else {
            panic!("test config is invalid");
        };
        let all = ip_pools(&config);
        assert_eq!(
            all,
            [
                IpPoolInfo {
                    name: "a".into(),
                    ranges: vec![
                        "192.0.2.10-192.0.2.19".into(),
                        "192.0.2.30-192.0.2.30".into()
                    ],
                    size: 11,
                    in_use: 0,
                },
                IpPoolInfo {
                    name: "b".into(),
                    ranges: vec!["198.51.100.0-198.51.100.255".into()],
                    size: 256,
                    in_use: 0,
                }
            ]
        );
        assert_eq!(ip_pool(&config, "b").as_ref(), all.get(1));
        assert!(ip_pool(&config, "c").is_none());
    }
}
