//! Parsing of valid configs: the reference example, defaults, value forms, inheritance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use l2tp_config::{
    AuthMode, Config, DataSequencing, Encap, Endpoint, Host, L2specType, L2tpVersion, LogLevel,
    MacAddr, MetricsDetail, PseudowireType, Secret, TextOrBytes, parse,
};

fn ok(source: &str) -> Config {
    match parse("test.conf", source) {
        Ok(c) => c,
        Err(diags) => panic!("{}", l2tp_config::render_all(&diags, source)),
    }
}

#[test]
fn reference_example_parses() {
    let config = ok(include_str!("fixtures/example.conf"));
    assert_eq!(
        config.system().router_id,
        Some(u32::from(Ipv4Addr::new(192, 0, 2, 10)))
    );
    assert_eq!(config.system().max_tunnels, 1000);
    assert_eq!(config.system().log_level, LogLevel::Notice);

    let lacs = config.peer_profile_settings("lacs").unwrap();
    assert_eq!(lacs.prefix(), Some((IpAddr::from([198, 51, 100, 0]), 24)));
    assert_eq!(lacs.tunnel_profile_name, "v2-lns");

    let v2 = config.tunnel_profile_settings("v2-lns").unwrap();
    assert_eq!(v2.version, Some(L2tpVersion::V2));
    assert_eq!(v2.secret, Some(Secret::new("s3cret")));
    assert_eq!(v2.auth_mode, AuthMode::Challenge);
    assert!(v2.hide_avps);

    let v3 = config.tunnel_profile_settings("v3-eth").unwrap();
    assert_eq!(
        v3.secret,
        Some(Secret::new([
            0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18
        ]))
    );
    assert_eq!(v3.encap, Encap::Ip);

    let eth = config.session_profile_settings("eth-sessions").unwrap();
    assert_eq!(eth.pseudowire_type, PseudowireType::Eth);
    assert_eq!(eth.l2spec_type, L2specType::None);
    assert_eq!(eth.cookie_length, 8);
    assert_eq!(eth.data_sequencing, DataSequencing::None);

    let pppd = config.pseudowire_profile_settings("ppp-via-pppd").unwrap();
    assert_eq!(
        pppd.pppd_options,
        [
            "require-mschap-v2",
            "ms-dns 192.0.2.53",
            "lcp-echo-interval",
            "10"
        ]
    );

    let hq = config.resolve_tunnel("to-hq").unwrap();
    assert_eq!(hq.profile, "v3-eth");
    assert_eq!(hq.peer().to_string(), "[2001:db8::1]:1701");
    assert_eq!(
        hq.settings.encap,
        Encap::Udp,
        "the instance overrides the profile"
    );
    assert_eq!(
        hq.settings.version,
        Some(L2tpVersion::V3),
        "inherited from the profile"
    );
    assert!(hq.persist);

    let s = config.resolve_session("to-hq-eth0").unwrap();
    assert_eq!(s.tunnel, "to-hq");
    assert_eq!(s.settings.interface_name.as_deref(), Some("hq0"));
    assert_eq!(s.settings.cookie_length, 8);
    assert_eq!(s.pseudowire_profile, "default");
}

#[test]
fn empty_file_gives_defaults() {
    let config = ok("# nothing here\n\n");
    assert_eq!(config, Config::default());
    let sys = config.system();
    assert_eq!(
        sys.listen,
        [
            SocketAddr::from(([0, 0, 0, 0], 1701)),
            "[::]:1701".parse().unwrap()
        ]
    );
    assert_eq!(sys.host_name, None);
    assert_eq!(sys.log_level, LogLevel::Notice);
    assert_eq!((sys.max_tunnels, sys.max_sessions), (0, 0));
    assert!(!sys.deny_remote_tunnel_creates);
    assert_eq!(
        (sys.tunnel_establish_timeout, sys.session_establish_timeout),
        (120, 120)
    );
    assert_eq!(
        (
            sys.tunnel_persist_pend_timeout,
            sys.session_persist_pend_timeout
        ),
        (60, 60)
    );
    assert_eq!(sys.control_socket.to_str(), Some("/run/l2tpd/l2tpd.sock"));
    assert_eq!(sys.script_dir.to_str(), Some("/etc/l2tpd"));
    assert_eq!(sys.pid_file.to_str(), Some("/run/l2tpd/l2tpd.pid"));
    assert!(
        sys.metrics_listen.is_empty(),
        "no metrics endpoint unless asked for"
    );
    assert_eq!(sys.metrics_detail, MetricsDetail::None);

    for kind in [
        config.tunnel_profiles().len(),
        config.session_profiles().len(),
    ] {
        assert_eq!(kind, 1);
    }
    let t = config.tunnel_profile_settings("default").unwrap();
    assert_eq!(t.version, None);
    assert_eq!(t.encap, Encap::Udp);
    assert_eq!(t.auth_mode, AuthMode::None);
    assert_eq!(
        (t.hello_timeout, t.retry_timeout, t.max_retries),
        (60, 1, 5)
    );
    assert_eq!((t.rx_window_size, t.tx_window_size), (10, 10));
    assert!(t.use_tiebreaker && t.use_udp_checksums && !t.hide_avps);
    assert_eq!(t.session_profile_name, "default");

    let s = config.session_profile_settings("default").unwrap();
    assert_eq!(s.pseudowire_type, PseudowireType::Ppp);
    assert_eq!(s.l2spec_type, L2specType::Default);
    assert_eq!(s.cookie_length, 0);

    let p = config.peer_profile_settings("default").unwrap();
    assert_eq!(p.tunnel_profile_name, "default");
    assert_eq!(p.lac_lns, l2tp_config::LacLns::Both);

    let pw = config.pseudowire_profile_settings("default").unwrap();
    assert_eq!(pw.pppd_path.to_str(), Some("/usr/sbin/pppd"));
}

#[test]
fn value_forms() {
    // `0x7f000001` is a number, not an address.
    assert!(parse("x", "system {\n listen 0x7f000001\n}\n").is_err());

    let config = ok(r#"
system {
    listen 192.0.2.1, [2001:db8::1]:1702 ::1
    router_id 0x0a000001
    host_name "lns # one"
}
tunnel "a" {
    peer lns.example.net:1702
    local 192.0.2.1
    tunnel_id 0x10
}
tunnel "b" {
    peer 2001:db8::2
}
session "s" {
    tunnel "a"
    remote_end_id hex:0102
}
"#);
    let sys = config.system();
    assert_eq!(
        sys.listen,
        [
            "192.0.2.1:1701".parse::<SocketAddr>().unwrap(),
            "[2001:db8::1]:1702".parse().unwrap(),
            "[::1]:1701".parse().unwrap()
        ]
    );
    assert_eq!(sys.router_id, Some(0x0a00_0001));
    assert_eq!(sys.host_name.as_deref(), Some("lns # one"));
    let a = config.resolve_tunnel("a").unwrap();
    assert_eq!(
        *a.peer(),
        Endpoint {
            host: Host::Name("lns.example.net".into()),
            port: Some(1702)
        }
    );
    assert_eq!(a.tunnel_id, Some(16));
    let b = config.resolve_tunnel("b").unwrap();
    assert_eq!(
        b.peer().socket_addr(),
        Some("[2001:db8::2]:1701".parse().unwrap())
    );
    let s = config.resolve_session("s").unwrap();
    assert_eq!(
        s.settings.remote_end_id,
        Some(TextOrBytes::Bytes(vec![1, 2]))
    );

    let m = ok(
        "system {\n metrics_listen 127.0.0.1:9701 [2001:db8::1]:9702\n metrics_detail \
                sessions\n}\n",
    );
    assert_eq!(
        m.system().metrics_listen,
        [
            "127.0.0.1:9701".parse::<SocketAddr>().unwrap(),
            "[2001:db8::1]:9702".parse().unwrap()
        ]
    );
    assert_eq!(m.system().metrics_detail, MetricsDetail::Sessions);

    let pw = ok("pseudowire profile \"e\" {\n mac 02:00:5E:10:00:01\n mtu 1400\n}\n");
    assert_eq!(
        pw.pseudowire_profile_settings("e").unwrap().mac,
        Some(MacAddr([2, 0, 0x5e, 0x10, 0, 1]))
    );
}

/// The all-zero MAC address is no interface's address: Linux refuses it (EADDRNOTAVAIL) when the
/// session's interface is set up, so `l2tpd -n` refuses it first.
#[test]
fn the_all_zero_mac_is_refused() {
    let source = "pseudowire profile \"e\" {\n mac 00:00:00:00:00:00\n}\n";
    let text = l2tp_config::render_all(&parse("test.conf", source).unwrap_err(), source);
    assert!(
        text.contains(
            "`00:00:00:00:00:00` is the all-zero address: expected a unicast MAC address"
        ),
        "{text}"
    );
}

#[test]
fn secrets_are_redacted() {
    let config = ok("tunnel profile \"x\" {\n secret \"hunter2\"\n}\n");
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn inheritance_layers() {
    let config = ok(r#"
tunnel profile "default" {
    hello_timeout 30
    retry_timeout 2
}
tunnel profile "fast" {
    retry_timeout 3
    max_retries 9
    session_profile_name "eth"
}
session profile "eth" {
    pseudowire_type eth
    pseudowire_profile_name "br"
}
pseudowire profile "br" {
    bridge br0
}
tunnel "t" {
    profile "fast"
    peer 192.0.2.1
    max_retries 4
    secret hex:00ff
}
tunnel "plain" {
    peer 192.0.2.2
}
session "s" {
    tunnel "t"
}
session "p" {
    tunnel "plain"
    session_id 8
}
"#);
    let t = config.resolve_tunnel("t").unwrap();
    assert_eq!(
        t.settings.hello_timeout, 30,
        "from the file's default profile"
    );
    assert_eq!(t.settings.retry_timeout, 3, "from the named profile");
    assert_eq!(t.settings.max_retries, 4, "from the instance");
    assert_eq!(t.settings.rx_window_size, 10, "built in");
    assert_eq!(
        t.settings.auth_mode,
        AuthMode::Challenge,
        "implied by the secret"
    );

    let plain = config.resolve_tunnel("plain").unwrap();
    assert_eq!(plain.profile, "default");
    assert_eq!(
        (plain.settings.hello_timeout, plain.settings.retry_timeout),
        (30, 2)
    );

    let s = config.resolve_session("s").unwrap();
    assert_eq!(s.profile, "eth", "the tunnel's session_profile_name");
    assert_eq!(s.settings.pseudowire_type, PseudowireType::Eth);
    assert_eq!(s.pseudowire_profile, "br");
    assert_eq!(s.pseudowire.bridge.as_deref(), Some("br0"));

    let p = config.resolve_session("p").unwrap();
    assert_eq!(p.profile, "default");
    assert_eq!(p.settings.pseudowire_type, PseudowireType::Ppp);
    assert_eq!(p.session_id, Some(8));
}

#[test]
fn peer_matching() {
    let config = ok(r#"
peer profile "wide" {
    peer_ipaddr 10.0.0.0/8
}
peer profile "narrow" {
    peer_ipaddr 10.1.0.0
    netmask 255.255.0.0
}
peer profile "host" {
    peer_ipaddr 10.1.2.3
}
peer profile "named" {
    peer_host_name "lac-1"
}
peer profile "v6" {
    peer_ipaddr 2001:db8::/32
}
"#);
    let m = |ip: &str, host| config.match_peer(ip.parse().unwrap(), host).name.clone();
    assert_eq!(m("10.9.9.9", None), "wide");
    assert_eq!(m("10.1.9.9", None), "narrow");
    assert_eq!(m("10.1.2.3", None), "host");
    assert_eq!(m("10.1.2.3", Some("lac-1")), "named");
    assert_eq!(m("192.0.2.1", Some("other")), "default");
    assert_eq!(m("2001:db8:1::1", None), "v6");
}

#[test]
fn redefined_default_profile_is_not_duplicated() {
    let config = ok("session profile \"default\" {\n pseudowire_type eth\n}\n");
    assert_eq!(config.session_profiles().len(), 1);
    assert!(!config.session_profiles()[0].builtin);
    assert_eq!(
        config
            .session_profile_settings("default")
            .unwrap()
            .pseudowire_type,
        PseudowireType::Eth
    );
}

#[test]
fn static_tunnel_and_session() {
    let config = ok(r#"
tunnel "st" {
    peer 192.0.2.1
    encap ip
    tunnel_id 100
    peer_tunnel_id 200
}
session "ss" {
    tunnel "st"
    pseudowire_type eth_vlan
    vlan_id 42
    session_id 1
    peer_session_id 2
    cookie hex:01020304
    peer_cookie hex:05060708090a0b0c
}
"#);
    assert!(config.resolve_tunnel("st").unwrap().is_static());
    let s = config.resolve_session("ss").unwrap();
    assert_eq!(s.settings.cookie_length, 4, "implied by the cookie");
    // RFC 3931 §4.1: each end chooses its own cookie, of its own length.
    assert_eq!(s.settings.peer_cookie.as_ref().map(Vec::len), Some(8));
    assert_eq!(s.settings.vlan_id, Some(42));
}

#[test]
fn load_reads_a_file() {
    let dir = std::env::temp_dir().join(format!("l2tp-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l2tpd.conf");
    std::fs::write(&path, "system {\n    log_level debug\n}\n").unwrap();
    assert_eq!(
        l2tp_config::load(&path).unwrap().system().log_level,
        LogLevel::Debug
    );
    std::fs::write(&path, "system {\n    log_level loud\n}\n").unwrap();
    let err = l2tp_config::load(&path).unwrap_err().to_string();
    assert!(err.contains("l2tpd.conf:2:15: error:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(
        l2tp_config::load(&path),
        Err(l2tp_config::LoadError::Io { .. })
    ));
}

#[test]
fn the_shared_tun_of_native_ppp_is_one_named_device() {
    assert_eq!(ok("").system().ppp_interface, "l2tpppp0");
    let c = ok("system {\n    ppp_interface ppp-users\n}\n");
    assert_eq!(c.system().ppp_interface, "ppp-users");
    for bad in ["ppp%d", "a/b", "sixteen-chars-xx"] {
        let source = format!("system {{\n    ppp_interface {bad}\n}}\n");
        let Err(diags) = parse("test.conf", &source) else {
            panic!("ppp_interface {bad} accepted");
        };
        let text = l2tp_config::render_all(&diags, &source);
        assert!(text.contains("invalid interface name"), "{text}");
    }
    let source = "system {\n    ppp_interface ppp%d\n}\n";
    let text = l2tp_config::render_all(&parse("test.conf", source).unwrap_err(), source);
    assert!(text.contains("no `%d` template"), "{text}");
}

#[test]
fn a_tunnel_may_have_several_peers_tried_in_turn() {
    let config = ok(r#"
tunnel "lns" {
    peer 192.0.2.1 lns-b.example.net:1702 [2001:db8::3]
}
"#);
    let t = config.resolve_tunnel("lns").unwrap();
    let peers: Vec<String> = t.peers.iter().map(ToString::to_string).collect();
    assert_eq!(
        peers,
        [
            "192.0.2.1:1701",
            "lns-b.example.net:1702",
            "[2001:db8::3]:1701"
        ]
    );
    assert_eq!(t.peer().to_string(), "192.0.2.1:1701");
}

/// L2TPv3 carries sequence numbers in the Default L2-Specific Sublayer only (RFC 3931 §4.6):
/// an L2TPv3 session with `data_sequencing` and `l2spec_type none` would be refused by its peer
/// at every attempt, so the configuration is refused; a PPP session that may run over L2TPv2
/// (whose header numbers the packets) is not.
#[test]
fn sequencing_without_a_sublayer_is_refused_for_l2tpv3() {
    let session = |tunnel: &str, session: &str| {
        format!(
            "tunnel \"t\" {{\n peer 192.0.2.1\n{tunnel}}}\n\
             session \"s\" {{\n tunnel \"t\"\n l2spec_type none\n data_sequencing all\n{session}}}\n"
        )
    };
    for source in [
        session("", " pseudowire_type eth\n"),
        session(" version 3\n", ""),
    ] {
        let text = l2tp_config::render_all(&parse("test.conf", &source).unwrap_err(), &source);
        assert!(
            text.contains(
                "session `s` has `data_sequencing` but `l2spec_type none`: L2TPv3 carries \
                 sequence numbers in the Default L2-Specific Sublayer only"
            ),
            "{text}"
        );
    }
    ok(&session(" version 2\n", ""));
    ok(&session("", ""));
}
