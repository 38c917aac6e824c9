//! Round trips of every message and snapshots of their JSON.

use super::*;

fn tunnel() -> TunnelInfo {
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
        peer_host_name: Some("lac.example.net".into()),
    }
}

fn session() -> SessionInfo {
    SessionInfo {
        tid: 4711,
        sid: 90001,
        peer_tid: 17,
        peer_sid: 33,
        name: None,
        state: State::Connecting,
        pseudowire_type: PseudowireType::EthVlan,
        interface_name: Some("l2tpeth0".into()),
        tunnel_name: Some("lns1".into()),
        created_by: CreatedBy::Net,
        uptime_s: 0,
        profile: "default".into(),
        pseudowire_profile: "default".into(),
        ppp_user: Some("alice".into()),
        ppp_ipv4: Some(std::net::Ipv4Addr::new(198, 51, 100, 10)),
    }
}

fn system() -> SystemInfo {
    SystemInfo {
        version: "0.1.0".into(),
        pid: 1234,
        uptime_s: 61,
        config_file: "/etc/l2tpd/l2tpd.conf".into(),
        listen: vec!["0.0.0.0:1701".into(), "[::]:1701".into()],
        ip_encap: true,
        ip_listen: vec!["0.0.0.0".into(), "::".into()],
        host_name: "lns.example.net".into(),
        router_id: 0xc000_0201,
        log_level: "notice".into(),
        dataplane: "none".into(),
        control_socket: DEFAULT_SOCKET.into(),
        counts: Counts::default(),
        limits: Limits::default(),
        statistics: SystemStats {
            control_requests: 3,
            ..SystemStats::default()
        },
    }
}

fn settings() -> Settings {
    let mut s = Settings::new();
    s.push("encap", Some("udp".into()));
    s.push("secret", Some("<redacted>".into()));
    s.push("hello_timeout", Some(60u32.into()));
    s.push("hide_avps", Some(false.into()));
    s.push(
        "framing_caps",
        Some(vec!["sync".into(), "async".into()].into()),
    );
    s.push("host_name", None);
    s
}

fn every_request() -> Vec<Request> {
    let t = Selector::Name("lns1".into());
    vec![
        Request::ShowSystem,
        Request::show_tunnels(),
        Request::ShowTunnel { tunnel: t.clone() },
        Request::show_sessions(None),
        Request::show_sessions(Some(Selector::Id(4711))),
        Request::ShowSession {
            tunnel: t.clone(),
            session: Selector::Id(7),
        },
        Request::ShowProfiles {
            kind: ProfileKind::Pseudowire,
        },
        Request::ShowProfile {
            kind: ProfileKind::Peer,
            name: "default".into(),
        },
        Request::CreateTunnel {
            name: "t1".into(),
            params: [("peer", "192.0.2.2"), ("secret", "s3cr3t")]
                .into_iter()
                .map(|(k, v)| (k, v.to_owned()))
                .collect(),
        },
        Request::DeleteTunnel {
            tunnel: Selector::Id(1),
        },
        Request::CreateSession {
            tunnel: t.clone(),
            name: "s1".into(),
            params: [("pseudowire_type", "eth".to_owned())]
                .into_iter()
                .collect(),
        },
        Request::Disconnect {
            who: crate::PppSelector::User("alice".into()),
        },
        Request::Disconnect {
            who: crate::PppSelector::Address(std::net::Ipv4Addr::new(198, 51, 100, 10)),
        },
        Request::DeleteSession {
            tunnel: t.clone(),
            session: Selector::Name("s1".into()),
        },
        Request::Reload,
        Request::Debug {
            target: DebugTarget::Tunnel { tunnel: t.clone() },
            enable: true,
        },
        Request::Debug {
            target: DebugTarget::Session {
                tunnel: t,
                session: Selector::Id(9),
            },
            enable: false,
        },
        Request::Watch,
        Request::ShowProfiles {
            kind: ProfileKind::Ppp,
        },
        Request::ShowIpPools,
        Request::ShowIpPool {
            name: "customers".into(),
        },
    ]
}

fn every_reply() -> Vec<Reply> {
    vec![
        Reply::Ok(Response::System(system())),
        Reply::Ok(Response::Tunnels(vec![tunnel()])),
        Reply::Ok(Response::Tunnels(vec![])),
        Reply::Ok(Response::Tunnel(TunnelDetail {
            info: tunnel(),
            protocol_state: "established".into(),
            debug: false,
            settings: settings(),
            stats: TunnelStats::default(),
            last_result: Some(ResultCode {
                result: 1,
                error: 0,
                message: Some("bye".into()),
            }),
            socket_mark: Some(3),
        })),
        Reply::Ok(Response::Sessions(vec![session()])),
        Reply::Ok(Response::Session(SessionDetail {
            call: Default::default(),
            ppp: Some(crate::PppDetail {
                profile: "default".into(),
                role: "server".into(),
                phase: "network".into(),
                user: Some("alice".into()),
                auth: Some("mschapv2".into()),
                peer_ipv4: Some(std::net::Ipv4Addr::new(198, 51, 100, 10)),
                local_ipv6_ifid: Some(crate::format_ifid(2)),
                ..Default::default()
            }),
            info: session(),
            protocol_state: "wait-reply".into(),
            debug: true,
            settings: Settings::new(),
            stats: SessionStats::default(),
            last_result: None,
            in_use: Some(crate::SessionInUse {
                pseudowire_type: PseudowireType::EthVlan,
                l2spec_type: Some("none".into()),
                cookie_length_received: Some(8),
                cookie_length_sent: Some(4),
                sequencing_sent: true,
                sequencing_required: false,
                differs: vec!["pseudowire_type".into(), "l2spec_type".into()],
            }),
        })),
        Reply::Ok(Response::Profiles(vec![ProfileInfo {
            kind: ProfileKind::Tunnel,
            name: "default".into(),
            builtin: true,
            settings: settings(),
        }])),
        Reply::Ok(Response::IpPools(vec![IpPoolInfo {
            name: "customers".into(),
            ranges: vec!["198.51.100.10-198.51.100.99".into()],
            size: 90,
            in_use: 4,
        }])),
        Reply::Ok(Response::IpPool(IpPoolInfo {
            name: "spare".into(),
            ranges: vec!["203.0.113.7-203.0.113.7".into()],
            size: 1,
            in_use: 0,
        })),
        Reply::Ok(Response::Reloaded(ReloadSummary {
            changes: vec![ConfigChange {
                item: "tunnel_profile".into(),
                name: Some("x".into()),
                change: ChangeKind::Added,
            }],
            restart_needed: vec![],
            refused: vec![],
        })),
        Reply::Ok(Response::Reloaded(ReloadSummary {
            changes: vec![],
            restart_needed: vec![],
            refused: vec![RefusedBlock {
                item: "tunnel".into(),
                name: "c".into(),
                reason: "a tunnel of that name was made with l2tpctl".into(),
            }],
        })),
        Reply::Ok(Response::Done("ok".into())),
        Reply::Ok(Response::Watching),
        Reply::Error(CtlError::new(ErrorKind::NotFound, "no tunnel \"x\"")),
        Reply::Event(Event {
            peer_tid: Some(2),
            sid: Some(3),
            peer_sid: Some(4),
            pseudowire_type: Some(PseudowireType::Other(0x11)),
            result: Some(ResultCode {
                result: 3,
                error: 0,
                message: None,
            }),
            ppp: Some(Box::new(crate::PppEventInfo {
                user: Some("alice".into()),
                reason: Some("echo_timeout".into()),
                ..Default::default()
            })),
            ..Event::new(EventKind::SessionDown, 1_700_000_000_000, 1)
        }),
        Reply::EventsLost(1843),
    ]
}

/// Another server on the socket is named as the likely cause (l2tpctl(1), exit status 3).
#[test]
fn a_foreign_answer_asks_whether_the_socket_is_l2tpd_s() {
    let Err(e) = decode_reply("HTTP/1.0 200 OK") else {
        panic!("an HTTP answer was taken for l2tpd's");
    };
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(
        e.message
            .starts_with("the answer is not l2tpd's (is this its control socket?): "),
        "{e}"
    );
}

#[test]
fn every_request_round_trips() {
    for r in every_request() {
        let line = encode_request(&r);
        assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
        assert_eq!(decode_request(&line), Ok(r));
    }
}

#[test]
fn every_reply_round_trips() {
    for r in every_reply() {
        let line = encode_reply(&r);
        assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
        assert_eq!(decode_reply(&line), Ok(r));
    }
}

#[test]
fn request_lines() {
    let lines: String = every_request().iter().map(encode_request).collect();
    insta::assert_snapshot!(lines);
}

#[test]
fn reply_lines() {
    let lines: String = every_reply().iter().map(encode_reply).collect();
    insta::assert_snapshot!(lines);
}

#[test]
fn show_tunnels_json() {
    let json = serde_json::to_string_pretty(&vec![tunnel()]).unwrap_or_default();
    insta::assert_snapshot!(json);
}

#[test]
fn show_sessions_json() {
    let json = serde_json::to_string_pretty(&vec![session()]).unwrap_or_default();
    insta::assert_snapshot!(json);
}

#[test]
fn show_system_json() {
    let json = serde_json::to_string_pretty(&system()).unwrap_or_default();
    insta::assert_snapshot!(json);
}

/// A daemon that predates `ip_listen` sends none: read as no address.
#[test]
fn show_system_without_ip_listen_is_read() {
    let mut v = serde_json::to_value(system()).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut v {
        m.remove("ip_listen");
    }
    let s: SystemInfo = serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.ip_encap && s.ip_listen.is_empty());
}

fn keys(v: serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[test]
fn interface_fields_are_present() {
    let t = keys(serde_json::to_value(tunnel()).unwrap_or_default());
    for k in [
        "tid",
        "peer_tid",
        "name",
        "state",
        "version",
        "encap",
        "local",
        "peer",
        "created_by",
        "sessions",
        "uptime_s",
    ] {
        assert!(t.iter().any(|x| x == k), "tunnel field {k} missing");
    }
    let s = keys(serde_json::to_value(session()).unwrap_or_default());
    for k in [
        "tid",
        "sid",
        "peer_tid",
        "peer_sid",
        "name",
        "state",
        "pseudowire_type",
        "interface_name",
    ] {
        assert!(s.iter().any(|x| x == k), "session field {k} missing");
    }
    // `name` is null, not absent, for an unnamed instance.
    let v = serde_json::to_value(session()).unwrap_or_default();
    assert_eq!(v.get("name"), Some(&serde_json::Value::Null));
}

#[test]
fn pseudowire_type_is_a_name_or_a_number() {
    for (pw, json) in [
        (PseudowireType::Ppp, r#""ppp""#),
        (PseudowireType::Eth, r#""eth""#),
        (PseudowireType::EthVlan, r#""eth_vlan""#),
        (PseudowireType::Other(17), "17"),
    ] {
        assert_eq!(serde_json::to_string(&pw).ok().as_deref(), Some(json));
        assert_eq!(serde_json::from_str::<PseudowireType>(json).ok(), Some(pw));
    }
    assert_eq!(
        serde_json::from_str::<PseudowireType>("5").ok(),
        Some(PseudowireType::Eth)
    );
    assert!(serde_json::from_str::<PseudowireType>(r#""atm""#).is_err());
}

#[test]
fn selectors() {
    assert_eq!(Selector::parse("42"), Selector::Id(42));
    assert_eq!(Selector::parse("lns1"), Selector::Name("lns1".into()));
    assert_eq!(
        Selector::parse("99999999999"),
        Selector::Name("99999999999".into())
    );
    assert!(Selector::Id(7).matches(7, None));
    assert!(Selector::Id(7).matches(1, Some("7")));
    assert!(Selector::Name("a".into()).matches(1, Some("a")));
    assert!(!Selector::Name("a".into()).matches(1, None));
}

#[test]
fn version_mismatch_is_reported_before_parsing_the_request() {
    let e = decode_request(r#"{"version":2,"request":{"command":"frobnicate"}}"#);
    assert_eq!(e.map_err(|e| e.kind), Err(ErrorKind::Version));
    let e = decode_request(r#"{"version":1,"request":{"command":"frobnicate"}}"#);
    assert_eq!(e.map_err(|e| e.kind), Err(ErrorKind::BadRequest));
    let e = decode_request("not json");
    assert_eq!(e.map_err(|e| e.kind), Err(ErrorKind::BadRequest));
    // A daemon's error passes whatever its version, so its explanation reaches the user.
    let r = decode_reply(r#"{"version":9,"error":{"kind":"version","message":"m"}}"#);
    assert!(matches!(r, Ok(Reply::Error(_))));
    // So does one of a kind that a newer daemon has and this side does not know.
    let r = decode_reply(r#"{"version":2,"error":{"kind":"rate_limited","message":"slow"}}"#);
    assert_eq!(r, Ok(Reply::Error(CtlError::new(ErrorKind::Other, "slow"))));
    let r = decode_reply(r#"{"version":9,"ok":"watching"}"#);
    assert_eq!(r.map_err(|e| e.kind), Err(ErrorKind::Version));
}

#[test]
fn unknown_response_fields_are_ignored() {
    let line = r#"{"version":1,"ok":{"done":"x"},"extra":true}"#;
    assert_eq!(
        decode_reply(line),
        Ok(Reply::Ok(Response::Done("x".into())))
    );
}

#[test]
fn debug_output_redacts_secrets() {
    let r = &every_request()[8];
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("s3cr3t"), "{dbg}");
    assert!(dbg.contains("<redacted>"), "{dbg}");
}

#[test]
fn setting_values_print_as_config_text() {
    let s = settings();
    let shown: Vec<String> = s
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k} {v}"),
            None => format!("{k} -"),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "encap udp",
            "secret <redacted>",
            "hello_timeout 60",
            "hide_avps false",
            "framing_caps sync async",
            "host_name -",
        ]
    );
    assert_eq!(SettingValue::from("a b").to_string(), "\"a b\"");
}

#[test]
fn pages_of_a_listing_say_whether_more_follow() {
    let page = Reply::Ok(Response::Sessions(Vec::new()));
    let line = crate::encode_page(&page, true);
    assert!(line.contains("\"more\":true"), "{line}");
    assert_eq!(crate::decode_page(&line).ok(), Some((page.clone(), true)));
    // The last page, and every other reply, has no `more`.
    let last = crate::encode_page(&page, false);
    assert!(!last.contains("more"), "{last}");
    assert_eq!(crate::decode_page(&last).ok(), Some((page, false)));
    // A listing request's filters, and a plain one as clients always sent it.
    let r = Request::ShowSessions {
        tunnel: None,
        list: ListOptions {
            state: Some(State::Up),
            limit: Some(5),
            stream: true,
        },
    };
    let line = crate::encode_request(&r);
    assert!(
        line.contains("\"state\":\"up\",\"limit\":5,\"stream\":true"),
        "{line}"
    );
    assert_eq!(crate::decode_request(&line).ok(), Some(r));
    assert_eq!(
        crate::decode_request(r#"{"version":1,"request":{"command":"show_tunnels"}}"#).ok(),
        Some(Request::show_tunnels())
    );
}
