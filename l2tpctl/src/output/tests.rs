//! The shapes of `l2tpctl`'s text and JSON output, without a daemon.

use l2tp_ctl::{CreatedBy, Encap, ProfileKind, PseudowireType, SettingValue, State};

use super::*;

/// An unnamed PPP session, up for a minute, that l2tpd accepted.
fn session_info() -> SessionInfo {
    SessionInfo {
        tid: 4711,
        sid: 90001,
        peer_tid: 17,
        peer_sid: 33,
        name: None,
        state: State::Up,
        pseudowire_type: PseudowireType::Ppp,
        interface_name: None,
        tunnel_name: None,
        created_by: CreatedBy::Net,
        uptime_s: 61,
        profile: "default".into(),
        pseudowire_profile: "default".into(),
        ppp_user: None,
        ppp_ipv4: None,
    }
}

fn tunnel_info() -> TunnelInfo {
    TunnelInfo {
        same_peer: Vec::new(),
        tid: 4711,
        peer_tid: 17,
        name: Some("lns1".into()),
        state: State::Up,
        version: 3,
        encap: Encap::Udp,
        local: "192.0.2.1:1701".into(),
        peer: "[2001:db8::2]:1701".into(),
        created_by: CreatedBy::Config,
        sessions: 2,
        uptime_s: 3725,
        profile: "default".into(),
        peer_host_name: None,
    }
}

/// The first line of `show tunnel` and `show session` quotes the name as `l2tpwatch` does,
/// and gives none for a tunnel or session opened by a peer (not a name `-`).
#[test]
fn details_are_titled_with_the_name_if_any() {
    let detail = |info: TunnelInfo| TunnelDetail {
        info,
        protocol_state: "established".into(),
        debug: false,
        settings: Settings::new(),
        stats: Default::default(),
        last_result: None,
        socket_mark: None,
    };
    let first = |r: Response| text(&r).lines().next().unwrap_or("").to_owned();
    let mut t = tunnel_info();
    assert_eq!(
        first(Response::Tunnel(detail(t.clone()))),
        "tunnel 4711 \"lns1\" (C)"
    );
    t.name = Some("a \"b\"\\c\td".into());
    assert_eq!(
        first(Response::Tunnel(detail(t.clone()))),
        "tunnel 4711 \"a \\\"b\\\"\\\\c\\x09d\" (C)"
    );
    t.name = None;
    t.created_by = CreatedBy::Net;
    assert_eq!(first(Response::Tunnel(detail(t))), "tunnel 4711 (N)");
    let s = session_info();
    let session = |info: SessionInfo| SessionDetail {
        info,
        protocol_state: "established".into(),
        debug: false,
        settings: Settings::new(),
        stats: Default::default(),
        last_result: None,
        call: Default::default(),
        ppp: None,
        in_use: None,
    };
    assert_eq!(
        first(Response::Session(session(s.clone()))),
        "session 4711/90001 (N)"
    );
    let named = SessionInfo {
        name: Some("call-1".into()),
        created_by: CreatedBy::Config,
        ..s
    };
    assert_eq!(
        first(Response::Session(session(named))),
        "session 4711/90001 \"call-1\" (C)"
    );
}

/// A tunnel's peer_unreachable count is among its counters, in text and in JSON.
#[test]
fn a_tunnel_shows_its_peer_unreachable_count() {
    let t = TunnelDetail {
        info: tunnel_info(),
        protocol_state: "established".into(),
        debug: false,
        settings: Settings::new(),
        stats: l2tp_ctl::TunnelStats {
            data_tx_packets: 3,
            peer_unreachable: 4,
            ..Default::default()
        },
        last_result: None,
        socket_mark: None,
    };
    let shown = text(&Response::Tunnel(t.clone()));
    let counts: Vec<_> = shown
        .lines()
        .skip_while(|l| *l != "statistics:")
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| {
            w.first()
                .is_some_and(|k| k.starts_with("data_tx") || k.starts_with("peer_"))
        })
        .collect();
    assert_eq!(
        counts,
        [vec!["data_tx_packets", "3"], vec!["peer_unreachable", "4"]],
        "{shown}"
    );
    let json = serde_json::to_value(&t).unwrap_or(Value::Null);
    assert_eq!(json["stats"]["peer_unreachable"], 4, "{json}");
}

/// The state line gives the protocol's state in brackets when it says more than the state.
#[test]
fn the_state_line_says_the_protocol_state_once() {
    let shown = |state: l2tp_ctl::State, protocol: &str| {
        let t = TunnelDetail {
            info: TunnelInfo {
                state,
                ..tunnel_info()
            },
            protocol_state: protocol.into(),
            debug: false,
            settings: Settings::new(),
            stats: Default::default(),
            last_result: None,
            socket_mark: None,
        };
        text(&Response::Tunnel(t))
            .lines()
            .find_map(|l| l.trim().strip_prefix("state:").map(|v| v.trim().to_owned()))
    };
    assert_eq!(
        shown(l2tp_ctl::State::Closing, "closing").as_deref(),
        Some("closing")
    );
    assert_eq!(
        shown(l2tp_ctl::State::Up, "established").as_deref(),
        Some("up (established)")
    );
    assert_eq!(
        shown(l2tp_ctl::State::Idle, "waiting to retry").as_deref(),
        Some("idle (waiting to retry)")
    );
}

/// A tunnel's and a session's last Result Code read alike, the message after a colon.
#[test]
fn last_results_read_alike() {
    let code = |message: Option<&str>| l2tp_ctl::ResultCode {
        result: 2,
        error: 6,
        message: message.map(str::to_owned),
    };
    let line = |shown: String| {
        shown
            .lines()
            .find(|l| l.contains("last result:"))
            .map(|l| l.split_once(':').map_or("", |(_, v)| v.trim()).to_owned())
    };
    let tunnel = TunnelDetail {
        info: tunnel_info(),
        protocol_state: "idle".into(),
        debug: false,
        settings: Settings::new(),
        stats: Default::default(),
        last_result: Some(code(Some("stop requested"))),
        socket_mark: None,
    };
    assert_eq!(
        line(text(&Response::Tunnel(tunnel.clone()))).as_deref(),
        Some("result 2 error 6: stop requested")
    );
    let bare = TunnelDetail {
        last_result: Some(code(None)),
        ..tunnel
    };
    assert_eq!(
        line(text(&Response::Tunnel(bare))).as_deref(),
        Some("result 2 error 6")
    );
    assert_eq!(last_result(None), "-");
}

/// What a peer or another client chose (a Result Code message, a host name, a PPP user, a
/// name) cannot forge a line of the output or send escape sequences to the terminal: text and
/// JSON hold it escaped, and the JSON still means the same value.
#[test]
fn hostile_values_are_escaped_in_text_and_json() {
    let evil = "evil\nl2tpd: tunnel up\x1b[31m\u{9b}\u{7f}";
    let shown = r"evil\x0al2tpd: tunnel up\x1b[31m\x9b\x7f";
    let tunnel = TunnelDetail {
        info: TunnelInfo {
            name: Some(evil.into()),
            peer_host_name: Some(evil.into()),
            ..tunnel_info()
        },
        protocol_state: "idle".into(),
        debug: false,
        settings: Settings::new(),
        stats: Default::default(),
        last_result: Some(l2tp_ctl::ResultCode {
            result: 2,
            error: 6,
            message: Some(evil.into()),
        }),
        socket_mark: None,
    };
    let session = SessionInfo {
        name: Some(evil.into()),
        ppp_user: Some(evil.into()),
        ..session_info()
    };
    let answers = [
        Response::Tunnel(tunnel.clone()),
        Response::Tunnels(vec![tunnel.info.clone()]),
        Response::Sessions(vec![session]),
        Response::Done(evil.into()),
    ];
    for r in &answers {
        for out in [text(r), json(r)] {
            assert!(
                !out.contains(|c: char| c.is_control() && c != '\n'),
                "{out:?}"
            );
            assert!(!out.contains("\nl2tpd: tunnel up"), "{out}");
        }
    }
    let shown_tunnel = text(&answers[0]);
    assert!(
        shown_tunnel.starts_with(&format!("tunnel 4711 \"{shown}\" (C)\n")),
        "{shown_tunnel}"
    );
    assert!(
        shown_tunnel.contains(&format!("peer host name:   {shown}\n")),
        "{shown_tunnel}"
    );
    assert!(
        shown_tunnel.contains(&format!("result 2 error 6: {shown}\n")),
        "{shown_tunnel}"
    );
    assert!(text(&answers[2]).contains(&format!("  {shown}  ")));
    let back: Value = serde_json::from_str(&json(&answers[0])).unwrap_or_default();
    assert_eq!(back["peer_host_name"], Value::String(evil.into()), "{back}");
}

#[test]
fn tunnel_table() {
    let mut other = tunnel_info();
    other.tid = 9;
    other.name = None;
    other.created_by = CreatedBy::Net;
    other.state = State::Connecting;
    other.uptime_s = 0;
    insta::assert_snapshot!(text(&Response::Tunnels(vec![tunnel_info(), other])));
}

#[test]
fn tunnels_sharing_a_peer_address_are_marked() {
    let pair = |created_by: CreatedBy| {
        let mut a = tunnel_info();
        let mut b = tunnel_info();
        b.tid = 4712;
        a.same_peer = vec![4712];
        b.same_peer = vec![4711];
        a.created_by = created_by;
        b.created_by = created_by;
        vec![a, b]
    };
    let legend = |list: Vec<TunnelInfo>| {
        let n = list.len();
        let shown = text(&Response::Tunnels(list));
        assert_eq!(shown.matches("]:1701 *").count(), n, "{shown}");
        shown.lines().last().unwrap_or_default().to_owned()
    };
    // Opened by peers: clients behind one NAT, or a LAC's several tunnels to this LNS; and
    // the section of l2tpd(8) by its name.
    assert_eq!(
        legend(pair(CreatedBy::Net)),
        "* another tunnel has the same peer address and port (clients behind one NAT, or one \
         peer's several tunnels); see L2TP/IPSEC in l2tpd(8)"
    );
    // Opened here, as a LAC's two tunnel blocks to one LNS: no NAT about it.
    assert_eq!(
        legend(pair(CreatedBy::Config)),
        "* another tunnel has the same peer address and port (tunnels this host opened to \
         one peer)"
    );
    assert_eq!(
        legend(pair(CreatedBy::Cli)),
        legend(pair(CreatedBy::Config))
    );
    // Both kinds listed: each reading by the flag of the first column.
    let mut both = pair(CreatedBy::Net);
    both.extend(pair(CreatedBy::Cli));
    let both = legend(both);
    assert!(
        both.contains("(N: clients behind one NAT, or one peer's several tunnels; C, L: tunnels"),
        "{both}"
    );
    assert!(both.ends_with("; see L2TP/IPSEC in l2tpd(8)"), "{both}");
    let alone = text(&Response::Tunnels(vec![tunnel_info()]));
    assert!(!alone.contains('*'), "{alone}");
}

#[test]
fn session_table() {
    let s = SessionInfo {
        pseudowire_type: PseudowireType::Other(17),
        interface_name: Some("l2tpeth0".into()),
        tunnel_name: Some("lns1".into()),
        uptime_s: 90_061,
        ..session_info()
    };
    insta::assert_snapshot!(text(&Response::Sessions(vec![s])));
}

#[test]
fn native_ppp_sessions_show_who_is_online() {
    let s = SessionInfo {
        ppp_user: Some("alice".into()),
        ppp_ipv4: Some([198, 51, 100, 10].into()),
        ..session_info()
    };
    insta::assert_snapshot!(text(&Response::Sessions(vec![s.clone()])));
    let d = SessionDetail {
        info: s,
        protocol_state: "established".into(),
        debug: false,
        settings: Settings::new(),
        stats: Default::default(),
        last_result: None,
        call: Box::new(l2tp_ctl::CallInfo {
            calling_number: Some("5551234".into()),
            tx_connect_speed: std::num::NonZeroU64::new(80_000_000),
            rx_connect_speed: std::num::NonZeroU64::new(20_000_000),
            connect_speed_updates: true,
            access_line: [
                ("agent_circuit_id".into(), "dslam-7 eth 1/4:100".into()),
                ("actual_data_rate_downstream".into(), "80000000".into()),
            ]
            .into(),
            ..Default::default()
        }),
        ppp: Some(l2tp_ctl::PppDetail {
            profile: "default".into(),
            role: "server".into(),
            phase: "network".into(),
            user: Some("alice".into()),
            auth: Some("mschapv2".into()),
            proxied: Some("lcp".into()),
            local_ipv4: Some([198, 51, 100, 1].into()),
            peer_ipv4: Some([198, 51, 100, 10].into()),
            dns: vec![[192, 0, 2, 53].into()],
            peer_ipv6_ifid: Some(l2tp_ctl::format_ifid(0x0200_5eff_fe00_5301)),
            mru: Some(1456),
            peer_mru: Some(1400),
            mtu: Some(1400),
            uptime_s: 59,
            echo_sent: 2,
            frames_in: 12,
            frames_out: 13,
            ..Default::default()
        }),
        in_use: None,
    };
    insta::assert_snapshot!(text(&Response::Session(d)));
}

/// `show session` gives what the data path uses, and where the profile said otherwise, what
/// it said; `--json` lists those settings in `differs`.
#[test]
fn a_session_shows_what_it_uses_beside_its_profile() {
    let mut settings = Settings::new();
    settings.push("pseudowire_type", Some(SettingValue::Text("eth".into())));
    settings.push("l2spec_type", Some(SettingValue::Text("default".into())));
    settings.push("cookie_length", Some(SettingValue::Number(0)));
    settings.push("data_sequencing", Some(SettingValue::Text("none".into())));
    let d = SessionDetail {
        info: session_info(),
        protocol_state: "established".into(),
        debug: false,
        settings,
        stats: Default::default(),
        last_result: None,
        call: Default::default(),
        ppp: None,
        in_use: Some(l2tp_ctl::SessionInUse {
            pseudowire_type: l2tp_ctl::PseudowireType::EthVlan,
            l2spec_type: Some("none".into()),
            cookie_length_received: Some(0),
            cookie_length_sent: Some(8),
            sequencing_sent: true,
            sequencing_required: false,
            differs: vec![
                "pseudowire_type".into(),
                "l2spec_type".into(),
                "data_sequencing".into(),
            ],
        }),
    };
    let shown = text(&Response::Session(d.clone()));
    let part: Vec<&str> = shown
        .lines()
        .skip_while(|l| *l != "in use:")
        .take(5)
        .collect();
    assert_eq!(
        part,
        [
            "in use:",
            "  pseudowire:         eth_vlan (profile: eth)",
            "  l2spec type:        none (profile: default)",
            "  cookie length:      0 received, 8 sent",
            "  data sequencing:    sent (profile: none)",
        ],
        "{shown}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&json(&Response::Session(d))).unwrap_or_default();
    assert_eq!(v["in_use"]["pseudowire_type"], "eth_vlan");
    assert_eq!(v["in_use"]["cookie_length_sent"], 8);
    assert_eq!(v["in_use"]["differs"][0], "pseudowire_type");
}

#[test]
fn profiles_as_names_and_as_objects() {
    let mut settings = Settings::new();
    settings.push("secret", Some(SettingValue::Text("<redacted>".into())));
    settings.push("hello_timeout", Some(SettingValue::Number(60)));
    settings.push("host_name", None);
    let p = ProfileInfo {
        kind: ProfileKind::Tunnel,
        name: "v3".into(),
        builtin: false,
        settings,
    };
    let list = Response::Profiles(vec![p.clone()]);
    assert_eq!(json(&list), "[\n  \"v3\"\n]\n");
    assert_eq!(text(&list), "v3\n");
    insta::assert_snapshot!(json(&Response::Profile(p.clone())));
    insta::assert_snapshot!(text(&Response::Profile(p)));
}

#[test]
fn pools_as_lines_and_as_objects() {
    let pools = vec![
        l2tp_ctl::IpPoolInfo {
            name: "customers".into(),
            ranges: vec![
                "198.51.100.10-198.51.100.99".into(),
                "198.51.100.200-198.51.100.250".into(),
            ],
            size: 141,
            in_use: 2,
        },
        l2tp_ctl::IpPoolInfo {
            name: "one".into(),
            ranges: vec!["192.0.2.7-192.0.2.7".into()],
            size: 1,
            in_use: 0,
        },
    ];
    assert_eq!(
        text(&Response::IpPools(pools.clone())),
        "customers: 141 addresses (2 in use), 198.51.100.10-198.51.100.99 \
         198.51.100.200-198.51.100.250\none: 1 address (0 in use), 192.0.2.7-192.0.2.7\n"
    );
    let v: Value =
        serde_json::from_str(&json(&Response::IpPool(pools[1].clone()))).unwrap_or(Value::Null);
    assert_eq!(
        v,
        serde_json::json!({
            "name": "one", "ranges": ["192.0.2.7-192.0.2.7"], "size": 1, "in_use": 0
        })
    );
    let v: Value = serde_json::from_str(&json(&Response::IpPools(pools))).unwrap_or(Value::Null);
    assert_eq!(v[0]["size"], 141);
}

#[test]
fn every_command_prints_one_json_value() {
    let done: Value =
        serde_json::from_str(&json(&Response::Done("deleted".into()))).unwrap_or(Value::Null);
    assert_eq!(done, serde_json::json!({"ok": true, "message": "deleted"}));
    // Members in the manual's order, as every other object keeps its own.
    assert_eq!(
        json(&Response::Done("deleted".into())),
        "{\n  \"ok\": true,\n  \"message\": \"deleted\"\n}\n"
    );
    assert_eq!(text(&Response::Done("deleted".into())), "deleted\n");
    let reloaded: Value =
        serde_json::from_str(&json(&Response::Reloaded(Default::default()))).unwrap_or(Value::Null);
    assert_eq!(
        reloaded,
        serde_json::json!({"changes": [], "restart_needed": []})
    );
    assert_eq!(
        text(&Response::Reloaded(Default::default())),
        "config reloaded: no changes\n"
    );
    // Refused blocks: the JSON is checked against a daemon (tests/cli.rs).
    let (item, name, reason) = ("tunnel".into(), "x".into(), "its reason".into());
    let refused = vec![l2tp_ctl::RefusedBlock { item, name, reason }];
    let partly = l2tp_ctl::ReloadSummary {
        refused,
        ..Default::default()
    };
    let shown = "config reloaded: no changes\ntunnel \"x\" refused: its reason\n";
    assert_eq!(text(&Response::Reloaded(partly)), shown);
}

#[test]
fn radius_servers_and_counters_as_text_and_json() {
    let mut info = l2tp_ctl::RadiusInfo {
        servers: vec![
            l2tp_ctl::RadiusServerInfo {
                name: "primary".into(),
                service: "authentication".into(),
                address: "192.0.2.10:1812".into(),
                priority: 1,
                state: "dead".into(),
                dead_for_s: Some(12),
                requests: 40,
                timeouts: 3,
                accepts: 30,
                rejects: 7,
                smoothed_rtt_us: 1500,
                probes: 3,
                probes_answered: 1,
                probes_timed_out: 2,
                ..Default::default()
            },
            l2tp_ctl::RadiusServerInfo {
                name: "primary".into(),
                service: "accounting".into(),
                address: "192.0.2.10:1813".into(),
                priority: 1,
                state: "alive".into(),
                requests: 90,
                accounting_responses: 88,
                ..Default::default()
            },
        ],
        access_requests: 40,
        accepts: 30,
        rejects: 7,
        no_answer: 3,
        reauth_requests: 6,
        reauth_accepts: 4,
        reauth_rejects: 1,
        reauth_no_answer: 1,
        accounting_lost: 1,
        ..Default::default()
    };
    info.accounting_requests.insert("start".into(), 30);
    info.dynauth_listen = vec!["192.0.2.3:3799".into()];
    info.dynauth.insert("disconnect_ack".into(), 2);
    let shown = text(&Response::Radius(info.clone()));
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].starts_with("SERVER"), "{shown}");
    assert!(
        lines[1].contains("dead(12s)") && lines[1].contains("1.5") && lines[1].ends_with(" 3/1/2"),
        "{shown}"
    );
    assert!(
        lines[2].contains("accounting") && lines[2].contains(" 88 ") && lines[2].ends_with(" -"),
        "{shown}"
    );
    assert!(shown.contains("40 requests, 30 accepted, 7 rejected, 3 unanswered"));
    assert!(
        shown.contains("re-authentication: 6 requests, 4 accepted, 1 rejected, 1 unanswered"),
        "{shown}"
    );
    assert!(
        shown.contains("accounting: start 30; 0 answered, 1 lost"),
        "{shown}"
    );
    assert!(
        shown.contains("on 192.0.2.3:3799: disconnect_ack 2"),
        "{shown}"
    );
    let v: Value = serde_json::from_str(&json(&Response::Radius(info))).unwrap_or(Value::Null);
    assert_eq!(v["servers"][0]["dead_for_s"], 12);
    assert_eq!(v["accounting_requests"]["start"], 30);
    assert_eq!(v["reauth_requests"], 6);
    assert_eq!(v["reauth_no_answer"], 1);
}

#[test]
fn durations() {
    assert_eq!(duration(0), "00:00:00");
    assert_eq!(duration(3725), "01:02:05");
    assert_eq!(duration(90_061), "1d 01:01:01");
}

/// The value of `show system`'s line `key` (`tunnels:`).
fn line(s: &SystemInfo, key: &str) -> String {
    text(&Response::System(s.clone()))
        .lines()
        .find(|l| l.trim_start().starts_with(key))
        .map(|l| l.split_once(':').map_or("", |(_, v)| v).trim().to_owned())
        .unwrap_or_default()
}

/// A daemon with nothing going on, over UDP only.
fn bare_system() -> SystemInfo {
    SystemInfo {
        version: "0.1.0".into(),
        pid: 1,
        uptime_s: 0,
        config_file: String::new(),
        listen: Vec::new(),
        ip_encap: false,
        ip_listen: Vec::new(),
        host_name: String::new(),
        router_id: 0,
        log_level: "notice".into(),
        dataplane: "none".into(),
        control_socket: String::new(),
        counts: l2tp_ctl::Counts::default(),
        limits: l2tp_ctl::Limits::default(),
        statistics: l2tp_ctl::SystemStats::default(),
    }
}

/// `show system` lists the protocol 115 addresses open; a daemon that does not list them
/// (older) still says whether any is.
#[test]
fn system_lists_the_ip_encapsulation_addresses() {
    let mut s = bare_system();
    assert_eq!(line(&s, "ip encapsulation:"), "no");
    s.ip_encap = true;
    assert_eq!(line(&s, "ip encapsulation:"), "yes");
    s.ip_listen = vec!["0.0.0.0".into(), "::".into()];
    assert_eq!(line(&s, "ip encapsulation:"), "0.0.0.0 ::");
}

/// `show system` counts the closing tunnels and sessions among those that exist, says how many
/// they are, and that the limits leave them out (they count the tunnels in service).
#[test]
fn system_counts_say_how_many_are_closing() {
    let mut s = bare_system();
    s.counts.tunnels = 5;
    s.counts.tunnels_up = 3;
    s.counts.sessions = 2;
    s.counts.sessions_up = 2;
    s.limits.max_tunnels = 8;
    assert_eq!(line(&s, "tunnels:"), "5 (3 up), at most 8");
    assert_eq!(line(&s, "sessions:"), "2 (2 up), no limit");
    s.counts.tunnels_closing = 1;
    s.counts.sessions = 3;
    s.counts.sessions_closing = 1;
    assert_eq!(
        line(&s, "tunnels:"),
        "5 (3 up, 1 closing), at most 8 besides those closing"
    );
    assert_eq!(line(&s, "sessions:"), "3 (2 up, 1 closing), no limit");
}

/// A counter's name longer than the column of counts is still apart from its count.
#[test]
fn long_counter_names_keep_a_space_before_their_count() {
    let mut stats = l2tp_ctl::SystemStats::default();
    stats
        .tunnels_refused
        .insert("deny_remote_tunnel_creates".into(), 22);
    stats.tunnels_refused.insert("max_tunnels".into(), 3);
    let shown = counters(&serde_json::to_value(&stats).unwrap_or(Value::Null));
    assert!(
        shown.contains("\n    deny_remote_tunnel_creates  22\n"),
        "{shown}"
    );
    // The others of the group line up with it.
    assert!(
        shown.contains("\n    max_tunnels                 3\n"),
        "{shown}"
    );
}
