//! Snapshots of rendered diagnostics: one file with every class of problem, and one small
//! config per class.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use l2tp_config::{Diagnostic, parse, render_all};

fn rendered(source: &str) -> String {
    match parse("l2tpd.conf", source) {
        Ok(_) => panic!("config unexpectedly valid:\n{source}"),
        Err(diags) => render_all(&diags, source),
    }
}

#[test]
fn bad_file() {
    let source = include_str!("fixtures/bad.conf");
    insta::assert_snapshot!(rendered(source));
}

#[test]
fn display_is_one_line_per_location() {
    let source = "tunnel profile \"a\" {\n    hello_timeout 1\n    hello_timeout 2\n}\n";
    let diags = parse("x.conf", source).unwrap_err();
    let lines: Vec<String> = diags.iter().map(Diagnostic::to_string).collect();
    assert_eq!(
        lines,
        [
            "x.conf:3:5: error: duplicate parameter `hello_timeout` in this `tunnel profile` \
          block\n\
          x.conf:2:5: note: first set here"
        ]
    );
    assert_eq!((diags[0].line(), diags[0].column()), (3, 5));
}

macro_rules! case {
    ($name:ident, $source:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(rendered($source));
        }
    };
}

case!(unknown_block_type, "tunel profile \"x\" {\n}\n");
case!(
    unknown_parameter,
    "tunnel profile \"x\" {\n    hello_timout 30\n}\n"
);
case!(
    unknown_parameter_of_an_ip_pool,
    "ip pool \"p\" {\n    ranges 192.0.2.10-192.0.2.20\n    range 192.0.2.30-192.0.2.40\n}\n"
);
case!(
    parameter_of_other_block,
    "tunnel profile \"x\" {\n    peer_ipaddr 192.0.2.1\n}\n"
);
case!(
    instance_only_parameter,
    "session profile \"x\" {\n    tunnel \"t\"\n}\n"
);
case!(
    wrong_boolean,
    "tunnel profile \"x\" {\n    hide_avps yes\n}\n"
);
case!(wrong_number, "system {\n    max_tunnels many\n}\n");
case!(
    wrong_keyword,
    "tunnel profile \"x\" {\n    encap tcp\n    auth_mode chalenge\n}\n"
);
case!(
    wrong_ip,
    "tunnel \"t\" {\n    peer 2001:db8::1:1701x\n    local lns.example.net\n}\n"
);
case!(
    metrics_listen_without_port,
    "system {\n    metrics_listen 127.0.0.1 ::1 metrics.example.net:9701\n    metrics_detail all\n}\n"
);
case!(bad_ipv4, "tunnel \"t\" {\n    peer 192.0.2.300\n}\n");
case!(
    wrong_mac,
    "pseudowire profile \"p\" {\n    mac 11:22:33\n}\n"
);
case!(
    wrong_hex,
    "session profile \"s\" {\n    cookie hex:abc\n    peer_cookie abcd\n}\n"
);
case!(
    too_many_values,
    "tunnel profile \"x\" {\n    hello_timeout 30 60\n}\n"
);
case!(
    missing_value,
    "tunnel profile \"x\" {\n    hello_timeout\n}\n"
);
case!(
    duplicate_parameter,
    "tunnel profile \"x\" {\n    hello_timeout 30\n    hello_timeout 60\n}\n"
);
case!(
    duplicate_block_name,
    "session profile \"s\" {\n}\nsession profile \"s\" {\n}\n"
);
case!(second_system_block, "system {\n}\n\nsystem {\n}\n");
case!(tunnel_without_peer, "tunnel \"t\" {\n    persist true\n}\n");
case!(
    session_without_tunnel,
    "session \"s\" {\n    session_id 5\n}\n"
);
case!(
    cookie_length_range,
    "session profile \"s\" {\n    cookie_length 6\n}\n"
);
case!(port_range, "tunnel \"t\" {\n    peer 192.0.2.1:70000\n}\n");
case!(version_range, "tunnel profile \"x\" {\n    version 4\n}\n");
case!(
    window_range,
    "tunnel profile \"x\" {\n    rx_window_size 0\n}\n"
);
case!(
    unterminated_string,
    "tunnel \"t\" {\n    peer \"192.0.2.1\n}\n"
);
case!(unterminated_block, "tunnel \"t\" {\n    peer 192.0.2.1\n");
case!(
    unterminated_block_before_next,
    "tunnel profile \"a\" {\n    version 3\n\ntunnel profile \"b\" {\n    version 2\n}\n"
);
case!(stray_close_brace, "system {\n}\n}\n");
case!(parameter_outside_block, "log_level debug\n");
case!(
    unquoted_block_name,
    "tunnel to-hq {\n    peer 192.0.2.1\n}\n"
);
case!(missing_block_name, "tunnel profile {\n}\n");
case!(
    nested_block,
    "tunnel profile \"x\" {\n    radius {\n    }\n}\n"
);
case!(
    unknown_profile_references,
    "peer profile \"p\" {\n    tunnel_profile_name \"lsn\"\n    session_profile_name \"nope\"\n}\n\
     tunnel profile \"lns\" {\n    pseudowire_profile_name \"x\"\n}\n\
     tunnel \"t\" {\n    profile \"lsn\"\n    peer 192.0.2.1\n}\n\
     session \"s\" {\n    tunnel \"tt\"\n    profile \"x\"\n}\n"
);
case!(
    cookie_length_conflict,
    "session profile \"s\" {\n    cookie_length 4\n    cookie hex:0011223344556677\n}\n"
);
case!(
    cookie_conflict_across_profiles,
    "session profile \"s\" {\n    cookie_length 8\n}\n\
     session \"x\" {\n    tunnel \"t\"\n    profile \"s\"\n    cookie hex:00112233\n}\n\
     tunnel \"t\" {\n    peer 192.0.2.1\n}\n"
);
case!(
    encap_ip_with_v2,
    "tunnel profile \"x\" {\n    version 2\n    encap ip\n}\n"
);
case!(
    conflict_reported_once,
    "tunnel profile \"x\" {\n    version 2\n    encap ip\n}\n\
     tunnel \"a\" {\n    profile \"x\"\n    peer 192.0.2.1\n}\n"
);
case!(
    hide_avps_without_secret,
    "tunnel profile \"x\" {\n    hide_avps true\n    auth_mode challenge\n}\n"
);
case!(
    digest_type_conflicts,
    "tunnel profile \"x\" {\n    version 2\n    secret \"s\"\n    digest_type hmac_sha1\n}\n\
     tunnel profile \"y\" {\n    digest_type hmac_md5\n}\n"
);
case!(
    vlan_id_without_eth_vlan,
    "session profile \"s\" {\n    pseudowire_type eth\n    vlan_id 10\n}\n"
);
case!(
    // A session block of type eth_vlan needs a vlan_id; a session profile, which peers' sessions
    // may take, need not have one (l2tpd.conf(5), vlan_id).
    eth_vlan_session_without_vlan_id,
    "session profile \"p\" {\n    pseudowire_type eth_vlan\n}\n\
     tunnel \"t\" {\n    peer 192.0.2.1\n    version 3\n}\n\
     session \"s\" {\n    tunnel \"t\"\n    profile \"p\"\n}\n"
);
case!(
    // An invalid pseudowire type is reported alone, not also as a conflict of `vlan_id` with
    // the default type that stood in for it.
    invalid_pseudowire_type_with_vlan_id,
    "session profile \"s\" {\n    pseudowire_type vlan\n    vlan_id 10\n}\n"
);
case!(
    static_tunnel_conflicts,
    "tunnel \"a\" {\n    peer 192.0.2.1\n    version 2\n    peer_tunnel_id 7\n}\n\
     tunnel \"b\" {\n    peer 192.0.2.2\n    tunnel_id 9\n    peer_tunnel_id 9\n}\n\
     session \"s\" {\n    tunnel \"b\"\n}\n"
);
case!(
    duplicate_ids,
    "tunnel \"a\" {\n    peer 192.0.2.1\n    tunnel_id 9\n}\n\
     tunnel \"b\" {\n    peer 192.0.2.2\n    tunnel_id 9\n}\n\
     session \"s1\" {\n    tunnel \"a\"\n    session_id 3\n}\n\
     session \"s2\" {\n    tunnel \"a\"\n    session_id 3\n}\n"
);
case!(
    v3_session_ids_across_tunnels,
    "tunnel \"a\" {\n    peer 192.0.2.1\n    tunnel_id 9\n    peer_tunnel_id 1\n}\n\
     tunnel \"b\" {\n    peer 192.0.2.2\n    tunnel_id 8\n    peer_tunnel_id 1\n}\n\
     session \"s1\" {\n    tunnel \"a\"\n    session_id 3\n    peer_session_id 4\n}\n\
     session \"s2\" {\n    tunnel \"b\"\n    session_id 3\n    peer_session_id 4\n}\n\
     tunnel \"c\" {\n    peer 192.0.2.3\n    version 2\n}\n\
     tunnel \"d\" {\n    peer 192.0.2.4\n    version 2\n}\n\
     session \"s3\" {\n    tunnel \"c\"\n    session_id 5\n}\n\
     session \"s4\" {\n    tunnel \"d\"\n    session_id 5\n}\n\
     session \"s5\" {\n    tunnel \"d\"\n    session_id 5\n}\n"
);
case!(
    v2_tunnel_with_eth_session,
    "tunnel \"a\" {\n    peer 192.0.2.1\n    version 2\n}\n\
     session \"s\" {\n    tunnel \"a\"\n    pseudowire_type eth\n    session_id 70000\n}\n"
);
case!(
    address_family_mismatch,
    "tunnel \"a\" {\n    peer [2001:db8::1]:1701\n    local 192.0.2.1\n}\n"
);
case!(
    encap_ip_with_port,
    "tunnel \"a\" {\n    peer 192.0.2.1:1701\n    encap ip\n}\n"
);
case!(
    peer_profile_netmask_conflicts,
    "peer profile \"a\" {\n    peer_ipaddr 198.51.100.0/24\n    netmask 255.255.255.0\n}\n\
     peer profile \"b\" {\n    netmask 255.0.255.0\n}\n\
     peer profile \"c\" {\n    netmask 255.255.0.0\n}\n"
);
case!(
    tabs_and_unicode,
    "system {\n\thost_name \"né\" \"x\"\n\tlog_level  débug\n}\n"
);
case!(
    bad_interface_name,
    "pseudowire profile \"p\" {\n    interface_name \"much-too-long-name\"\n}\n"
);
case!(
    interface_name_of_the_ppp_tun,
    "system {\n    ppp_interface users7\n}\n\
     pseudowire profile \"p\" {\n    interface_name \"users7\"\n}\n\
     session profile \"s\" {\n    interface_name \"users%d\"\n}\n\
     session profile \"t\" {\n    interface_name \"user%d\"\n}\n"
);
case!(bad_escape, "system {\n    host_name \"a\\qb\"\n}\n");
case!(relative_path, "system {\n    pid_file run/l2tpd.pid\n}\n");
case!(
    pool_bad_ranges,
    "ip pool \"p\" {\n    ranges 192.0.2.20-192.0.2.10\n}\n\
     ip pool \"q\" {\n    ranges 223.255.255.250-224.0.0.10\n}\n\
     ip pool \"r\" {\n    ranges 0.0.0.0-0.0.0.9\n}\n\
     ip pool \"s\" {\n    ranges 255.255.255.255\n}\n\
     ip pool \"t\" {\n    ranges 126.255.255.0-128.0.0.0\n}\n\
     ip pool \"u\" {\n    ranges 192.0.2.1..192.0.2.9\n}\n"
);
case!(
    pool_overlaps,
    "ip pool \"a\" {\n    ranges 192.0.2.10-192.0.2.20 192.0.2.15-192.0.2.16\n}\n\
     ip pool \"b\" {\n    ranges 192.0.2.30-192.0.2.40\n}\n\
     ip pool \"c\" {\n    ranges 192.0.2.1-192.0.2.30\n}\n"
);
case!(pool_without_ranges, "ip pool \"empty\" {\n}\n");
case!(
    ppp_unknown_references,
    "ppp profile \"p\" {\n    ip_pool_name \"custmers\"\n}\n\
     ip pool \"customers\" {\n    ranges 192.0.2.10-192.0.2.20\n}\n\
     pseudowire profile \"w\" {\n    ppp_profile_name \"q\"\n}\n"
);
case!(
    ppp_no_auth_method,
    "ppp profile \"default\" {\n    auth_chap false\n}\n\
     ppp profile \"p\" {\n    auth_mschapv2 false\n}\n\
     ppp profile \"q\" {\n    auth_none false\n    auth_pap false\n}\n\
     ppp profile \"ok\" {\n    auth_mschapv2 false\n    auth_none true\n}\n"
);
case!(
    ppp_addresses,
    "ip pool \"pool\" {\n    ranges 198.51.100.10-198.51.100.99\n}\n\
     ppp profile \"a\" {\n    local_ip_addr 198.51.100.10\n    peer_ip_addr 198.51.100.99\n}\n\
     ppp profile \"b\" {\n    local_ip_addr 203.0.113.1\n    peer_ip_addr 203.0.113.1\n}\n\
     ppp profile \"c\" {\n    dns_addr_1 224.0.0.251\n    wins_addr_2 127.0.0.1\n}\n"
);
case!(
    ppp_half_credentials,
    "ppp profile \"default\" {\n    user_name \"me\"\n}\n\
     ppp profile \"p\" {\n    user_password \"pw\"\n    user_name \"\"\n}\n"
);
case!(
    ppp_value_ranges,
    "ppp profile \"p\" {\n    mru 100\n    lcp_echo_fail_count 0\n    lcp_retransmit_interval 0\n\
     \x20   users_file etc/chap-secrets\n    auth_pap yes\n}\n"
);
case!(
    user_problems,
    "ppp profile \"p\" {\n    local_ip_addr 203.0.113.1\n}\n\
     user \"*\" {\n    password \"x\"\n}\n\
     user \"nopw\" {\n    ip_addr 198.51.100.7\n}\n\
     user \"a\" {\n    password \"a\"\n    ip_addr 198.51.100.7\n}\n\
     user \"b\" {\n    password \"b\"\n    ip_addr 203.0.113.1\n}\n\
     user \"a\" {\n    password \"\"\n    passwd \"x\"\n}\n\
     user \"c\" {\n    password \"c\"\n    ip_addr 198.51.100.7\n}\n"
);
case!(
    ppp_block_unterminated,
    "ppp profile \"p\" {\n    mru 1400\nuser \"u\" {\n    password \"x\"\n}\n"
);

#[test]
fn a_users_file_problem_is_rendered_without_its_line() {
    let source = "ppp profile \"p\" {\n    users_file /etc/l2tpd/users\n}\n\
                  user \"a\" {\n    password \"a\"\n    ip_addr 192.0.2.7\n}\n";
    let secrets = "b * \"secret-of-b\" 192.0.2.7\nc * \"secret of c\" 192.0.2.8 #\nc * x\n";
    let diags = l2tp_config::parse_with("l2tpd.conf", source, |_| Ok(secrets.to_owned()))
        .expect_err("problems");
    let mut text = render_all(&diags, source);
    // A file that reads well, but gives user `a`'s address to `b` too.
    let diags =
        l2tp_config::parse_with("l2tpd.conf", source, |_| Ok(secrets.replace("c * x\n", "")))
            .expect_err("problems");
    text.push_str(&render_all(&diags, source));
    assert!(!text.contains("of-b") && !text.contains("of c"), "{text}");
    insta::assert_snapshot!(text);
}
case!(
    static_tunnel_with_two_peers,
    "tunnel \"s\" {\n    version 3\n    peer 192.0.2.1 192.0.2.2\n    tunnel_id 1\n    peer_tunnel_id 2\n}\n"
);
case!(
    one_bad_peer_of_several,
    "tunnel \"t\" {\n    peer 192.0.2.1 192.0.2.300 lns.example.net\n}\n"
);
case!(
    several_peers_of_another_ip_version,
    "tunnel \"t\" {\n    local 192.0.2.9\n    peer 192.0.2.1 2001:db8::1\n}\n"
);

/// A file may hold anything, and its lines are shown to whoever runs `l2tpd -n` or `l2tpctl
/// reload`: an escape sequence, a C1 control or a bidirectional override in it is shown as a
/// picture of itself, never sent to the terminal, and the carets still mark the text.
#[test]
fn control_characters_of_the_file_are_shown_not_sent_to_the_terminal() {
    let source = "tunnel \"a\x1b[31mred\u{202e}\" {\n    peer 192.0.2.1\n}\n\
                  session \"s\" {\n    tunnel \"a\x1b[31mred\u{202e}\"\n    bog\u{9b}us 1\n}\n";
    let diags = parse("x.conf", source).unwrap_err();
    let out = render_all(&diags, source);
    let display: String = diags.iter().map(|d| format!("{d}\n")).collect();
    for text in [&out, &display] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| {
                (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c)
            })
            .collect();
        assert!(bad.is_empty(), "{bad:?} in:\n{text}");
    }
    assert!(out.contains("a\u{241b}[31mred\u{fffd}"), "{out}");
    // Each caret line starts under the first character its location names.
    let lines: Vec<&str> = out.lines().collect();
    for pair in lines.windows(3) {
        let [header, shown, carets] = pair else {
            continue;
        };
        let Some(column) = header
            .strip_prefix("x.conf:")
            .and_then(|h| h.split(':').nth(1))
            .and_then(|c| c.parse::<usize>().ok())
        else {
            continue;
        };
        assert!(carets.trim_start().starts_with('^'), "{out}");
        let indent = carets.chars().take_while(|&c| c == ' ').count();
        assert_eq!(indent, 4 + column - 1, "{header}\n{shown}\n{carets}");
        assert!(shown.chars().count() >= indent);
    }
}
