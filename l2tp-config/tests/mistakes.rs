//! Mistakes an operator makes when writing a config by hand, and the message each gets: it
//! names the place (line and column) and what would be right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use l2tp_config::{Diagnostic, parse};

/// Every problem of `source` as `LINE:COL: message`.
fn problems(source: &str) -> Vec<String> {
    match parse("l2tpd.conf", source) {
        Ok(_) => panic!("config unexpectedly valid:\n{source}"),
        Err(diags) => diags.iter().map(located).collect(),
    }
}

fn located(d: &Diagnostic) -> String {
    format!("{}:{}: {}", d.line(), d.column(), d.message())
}

#[test]
fn a_number_too_long_for_any_parameter_gets_its_range() {
    assert_eq!(
        problems("system {\n    max_scripts 99999999999999999999999\n}\n"),
        ["2:17: value `99999999999999999999999` is out of range: expected a number from 1 to 4096"]
    );
    assert_eq!(
        problems("tunnel profile \"t\" {\n    hello_timeout 0x1ffffffffffffffff\n}\n"),
        [
            "2:19: value `0x1ffffffffffffffff` is out of range: expected a number from 0 to \
             4294967295"
        ]
    );
    // Not a number at all: said so.
    assert_eq!(
        problems("system {\n    max_scripts 0x\n}\n"),
        ["2:17: expected a number, found `0x`"]
    );
}

#[test]
fn a_block_left_open_before_a_radius_block_is_reported_as_open() {
    // The `radius server` block is read as the next block, not as one nested in the first:
    // its own problems are reported too.
    assert_eq!(
        problems(
            "tunnel profile \"a\" {\n    secret x\n\nradius server \"r\" {\n    adress 192.0.2.1\n    \
             secret s\n}\ndynauth client \"d\" {\n    address 192.0.2.1\n    secret s\n"
        ),
        [
            "1:1: unterminated block `tunnel profile \"a\"`: expected `}` before the next block \
             starts",
            "4:15: radius server `r` has no `address`, which it needs",
            "5:5: unknown parameter `adress` in a `radius server` block; did you mean `address`?",
            "8:1: unterminated block `dynauth client \"d\"`: expected `}` before the end of the file",
        ]
    );
}

#[test]
fn a_brace_on_the_line_after_the_header_is_one_error_and_the_block_is_read() {
    assert_eq!(
        problems("tunnel profile \"a\"\n{\n    hello_timout 5\n}\n"),
        [
            "2:1: the `{` must end the line of its block header: write `tunnel profile \"a\" {`",
            "3:5: unknown parameter `hello_timout` in a `tunnel profile` block; did you mean \
             `hello_timeout`?",
        ]
    );
    // A header without any brace still says what it lacks, with its name in quotes.
    assert_eq!(
        problems("tunnel profile \"a\"\n    hello_timeout 5\n"),
        [
            "1:1: expected `{` after block header `tunnel profile \"a\"`",
            "2:5: `hello_timeout` is outside any block: parameters belong inside a block such as \
             `system { ... }`",
        ]
    );
}

#[test]
fn a_byte_order_mark_at_the_start_of_the_file_is_not_text() {
    let config = parse("l2tpd.conf", "\u{feff}system {\n    log_level info\n}\n").unwrap();
    assert_eq!(config.system().log_level, l2tp_config::LogLevel::Info);
    // Columns of the first line still count from its first character.
    assert_eq!(
        problems("\u{feff}systme {\n}\n"),
        ["1:2: unknown block type `systme`; did you mean `system`?"]
    );
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_users_file_is_not_part_of_the_first_name() {
    let users = l2tp_config::parse_users_file(
        std::path::Path::new("chap-secrets"),
        "\u{feff}alice * pw\nbob * pw2\n",
    )
    .unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
}

#[test]
fn an_address_listed_twice_or_beside_its_wildcard_cannot_be_bound() {
    assert_eq!(
        problems("system {\n    listen 192.0.2.1:1701 [::1] 192.0.2.1\n}\n"),
        ["2:12: `listen` has 192.0.2.1:1701 twice"]
    );
    assert_eq!(
        problems(
            "system {\n    listen 0.0.0.0 192.0.2.1\n    metrics_listen 127.0.0.1:9701 \
             [::]:9701 [::1]:9701\n    radius_dynauth_listen 192.0.2.1 192.0.2.1:3799\n}\n"
        ),
        [
            "2:12: `listen` has both 0.0.0.0:1701 and 192.0.2.1:1701: 0.0.0.0:1701 is every \
             address of its IP version on port 1701, 192.0.2.1:1701 included, so \
             192.0.2.1:1701 cannot be bound beside it",
            "3:20: `metrics_listen` has both [::]:9701 and [::1]:9701: [::]:9701 is every \
             address of its IP version on port 9701, [::1]:9701 included, so [::1]:9701 \
             cannot be bound beside it",
            "4:27: `radius_dynauth_listen` has 192.0.2.1:3799 twice",
        ]
    );
    // The dynamic authorization sockets and the L2TP ones are both UDP; the former are
    // dual-stack, the latter IPv6-only.
    let clash = |d: &str, l: &str| {
        format!(
            "3:27: `radius_dynauth_listen` {d} and `listen` {l} are on one UDP port: l2tpd \
             cannot bind both; give them different ports"
        )
    };
    assert_eq!(
        problems(
            "system {\n    listen 0.0.0.0:3799 [2001:db8::1]:1701\n    \
             radius_dynauth_listen 192.0.2.1 [2001:db8::1]:1701 [2001:db8::2]:1701\n}\n"
        ),
        [
            clash("192.0.2.1:3799", "0.0.0.0:3799"),
            clash("[2001:db8::1]:1701", "[2001:db8::1]:1701"),
        ]
    );
    assert_eq!(
        problems("system {\n    listen 192.0.2.1:1701\n    radius_dynauth_listen [::]:1701\n}\n"),
        [clash("[::]:1701", "192.0.2.1:1701")]
    );
    let v6_only = "system {\n    listen [::]:1701\n    radius_dynauth_listen 192.0.2.1:1701\n}\n";
    assert!(parse("l2tpd.conf", v6_only).is_ok());
    // Its dynamic authorization sockets are dual-stack: `[::]` is every IPv4 address too.
    assert_eq!(
        problems("system {\n    radius_dynauth_listen [::] 192.0.2.1\n}\n"),
        [
            "2:27: `radius_dynauth_listen` has both [::]:3799 and 192.0.2.1:3799: [::]:3799 is \
             every IPv6 and IPv4 address on port 3799, 192.0.2.1:3799 included, so \
             192.0.2.1:3799 cannot be bound beside it"
        ]
    );
    // Other ports, or the other IP version's wildcard, are no clash.
    parse(
        "l2tpd.conf",
        "system {\n    listen 0.0.0.0:1701 [::]:1701 192.0.2.1:1702\n    metrics_listen \
         0.0.0.0:9701 [::1]:9701\n}\n",
    )
    .unwrap();
}

#[test]
fn a_file_that_is_not_utf8_is_refused_where_it_is_not() {
    let dir = std::env::temp_dir().join(format!("l2tp-config-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l2tpd.conf");
    std::fs::write(
        &path,
        b"system {\n    host_name \"caf\xe9\"\n}\nuser \"\xff\xfe\" {\n    password pw\n}\n",
    )
    .unwrap();
    let Err(l2tp_config::LoadError::Invalid { diagnostics, .. }) = l2tp_config::load(&path) else {
        panic!("a file that is not UTF-8 loaded");
    };
    let got: Vec<String> = diagnostics.iter().map(located).collect();
    let message = "not UTF-8 text: the file must be UTF-8 (convert it with `iconv -t UTF-8`)";
    assert_eq!(got, [format!("2:19: {message}"), format!("4:7: {message}")]);
    assert!(
        diagnostics[0]
            .to_string()
            .starts_with(&format!("{}:2:19: error: ", path.display()))
    );

    // A users file that is not: the line is named, and the secret on it is not shown.
    let users = dir.join("chap-secrets");
    std::fs::write(&users, b"alice * pw\nbob * caf\xe9\n").unwrap();
    std::fs::write(
        &path,
        format!(
            "ppp profile \"default\" {{\n    users_file {}\n}}\n",
            users.display()
        ),
    )
    .unwrap();
    let err = l2tp_config::load(&path).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "cannot read users file {}: line 2 is not UTF-8 text (the file must be UTF-8)",
            users.display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_parameter_name_cut_short_or_written_out_gets_a_suggestion() {
    assert_eq!(
        problems(
            "ppp profile \"p\" {\n    ip_pool \"a\"\n    dns 192.0.2.53\n    local_ip 192.0.2.1\n}\n\
             session \"s\" {\n    tunnel_name \"t\"\n}\n"
        ),
        [
            "2:5: unknown parameter `ip_pool` in a `ppp profile` block; did you mean \
             `ip_pool_name`?",
            "3:5: unknown parameter `dns` in a `ppp profile` block; did you mean `dns_addr_1`?",
            "4:5: `local_ip` is not a parameter of a `ppp profile` block; it belongs in a \
             `pseudowire profile` block; or did you mean `local_ip_addr`?",
            "6:9: session `s` has no `tunnel`: name the tunnel it belongs to with `tunnel \
             \"name\"`",
            "7:5: unknown parameter `tunnel_name` in a `session` block; did you mean `tunnel`?",
        ]
    );
}

#[test]
fn values_written_almost_right_are_told_how_to_write_them() {
    assert_eq!(
        problems(
            "session profile \"s\" {\n    cookie \"hex:01020304\"\n}\n\
             tunnel profile \"t\" {\n    framing_caps sync bogus\n}\n\
             ip pool \"p\" {\n    ranges 192.0.2.10 - 192.0.2.99\n}\n\
             ip pool \"q\" {\n    ranges 198.51.100.10- 198.51.100.99\n}\n"
        ),
        [
            "2:12: `\"hex:01020304\"` is quoted, so it is text: write the hex value without \
             quotes (`hex:01020304`)",
            "5:23: expected one or more of `sync`, `async` or `any`, found `bogus`",
            "8:23: a range is written without spaces around its `-`: `192.0.2.10-192.0.2.99`",
            "11:12: a range is written without spaces around its `-`: \
             `198.51.100.10-198.51.100.99`",
        ]
    );
}

#[test]
fn a_bridge_is_one_existing_device_not_a_template() {
    assert_eq!(
        problems("pseudowire profile \"w\" {\n    bridge br%d\n}\n"),
        ["2:12: invalid interface name `br%d`: one device, so no `%d` template"]
    );
}

#[test]
fn two_ethernet_sessions_cannot_have_one_fixed_interface_name() {
    let tunnel = "tunnel \"a\" {\n    peer 192.0.2.1\n}\n";
    // Set in the sessions, or inherited from their pseudowire profile.
    assert_eq!(
        problems(&format!(
            "{tunnel}session \"s1\" {{\n    tunnel \"a\"\n    pseudowire_type eth\n    \
             interface_name pw0\n}}\nsession \"s2\" {{\n    tunnel \"a\"\n    pseudowire_type \
             eth\n    interface_name pw0\n}}\n"
        )),
        [
            "12:20: sessions `s1` and `s2` both have the interface `pw0`: a fixed name serves \
             one session; give each its own, or a template with `%d`"
        ]
    );
    assert_eq!(
        problems(&format!(
            "{tunnel}pseudowire profile \"lan\" {{\n    interface_name pw0\n}}\nsession \"s1\" \
             {{\n    tunnel \"a\"\n    pseudowire_type eth\n    pseudowire_profile_name \
             \"lan\"\n}}\nsession \"s2\" {{\n    tunnel \"a\"\n    pseudowire_type eth_vlan\n    \
             vlan_id 7\n    pseudowire_profile_name \"lan\"\n}}\n"
        )),
        [
            "12:9: sessions `s1` and `s2` both have the interface `pw0`: a fixed name serves \
             one session; give each its own, or a template with `%d`"
        ]
    );
    // A template serves many.
    parse(
        "l2tpd.conf",
        &format!(
            "{tunnel}session \"s1\" {{\n    tunnel \"a\"\n    pseudowire_type eth\n    \
             interface_name pw%d\n}}\nsession \"s2\" {{\n    tunnel \"a\"\n    pseudowire_type \
             eth\n    interface_name pw%d\n}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_quoted_block_type_is_told_to_lose_its_quotes() {
    assert_eq!(
        problems("\"tunnel\" \"x\" {\n    peer 192.0.2.1\n}\n"),
        ["1:1: the block type is written without quotes: `tunnel \"x\" {`"]
    );
}

#[test]
fn a_hash_glued_to_a_value_is_a_comment_and_a_warning_says_so() {
    let config = parse(
        "l2tpd.conf",
        "tunnel profile \"t\" {\n    secret abc#def\n    hello_timeout 30 # seconds\n}\n",
    )
    .unwrap();
    let warnings: Vec<String> = config.warnings().iter().map(located).collect();
    assert_eq!(
        warnings,
        [
            "2:15: this `#` right after a value starts a comment, so the value ends before it: \
             put the value in quotes if the `#` is part of it, or a space before a comment"
        ]
    );
    assert_eq!(
        config.tunnel_profile_settings("t").unwrap().secret,
        Some(l2tp_config::Secret::new(b"abc".to_vec()))
    );
}

#[test]
fn a_hex_prefix_in_upper_case_is_refused_rather_than_taken_as_text() {
    assert_eq!(
        problems("tunnel profile \"t\" {\n    secret HEX:a1b2c3\n}\n"),
        [
            "2:12: `HEX:` is not `hex:`: write `hex:` in lower case for bytes, or put the value in \
             quotes for text"
        ]
    );
    // Quoted, it is text.
    parse(
        "l2tpd.conf",
        "tunnel profile \"t\" {\n    secret \"HEX:a1b2c3\"\n}\n",
    )
    .unwrap();
}

#[test]
fn matching_on_the_default_peer_profile_gets_a_warning_that_it_keeps_no_one_out() {
    let config = parse(
        "l2tpd.conf",
        "peer profile \"default\" {\n    peer_ipaddr 198.51.100.0/24\n}\n\
         peer profile \"lacs\" {\n    peer_ipaddr 203.0.113.0/24\n}\n",
    )
    .unwrap();
    let warnings: Vec<String> = config.warnings().iter().map(located).collect();
    assert_eq!(
        warnings,
        [
            "2:17: the `default` peer profile takes every peer that no other profile matches, \
             whatever its `peer_ipaddr` or `peer_host_name`: this does not keep other peers out \
             (set `deny_remote_tunnel_creates`, or give the default tunnel profile a `secret`)"
        ]
    );
    // As the warning says.
    let outsider = "192.0.2.77".parse().unwrap();
    assert_eq!(config.match_peer(outsider, None).name, "default");
}

/// A block's name goes into log lines, `l2tpctl` listings and scripts' arguments: written
/// with an escape (`\n`, `\t`, `\x1b`) it could split a log line or drive the operator's
/// terminal, so it is refused where it is written, as a name given by `l2tpctl create` is.
#[test]
fn a_block_name_with_a_control_character_is_refused() {
    for (name, col) in [
        ("a\\nb", 8),
        ("tab\\tbed", 8),
        ("evil\\x1b[31m", 8),
        ("del\\x7f", 8),
    ] {
        let source = format!("tunnel \"{name}\" {{\n    peer 192.0.2.1\n}}\n");
        assert_eq!(
            problems(&source),
            [format!(
                "1:{col}: a block name cannot hold a control character (a line break, a tab, \
                 an escape)"
            )],
            "{source}"
        );
    }
    // Other characters are names like any other.
    assert!(
        parse(
            "l2tpd.conf",
            "tunnel \"naïve – name\" {\n    peer 192.0.2.1\n}\n"
        )
        .is_ok()
    );
}

#[test]
fn pseudowire_types_in_a_profile_of_l2tpv2_tunnels_only_gets_a_warning() {
    let file = |version: &str| {
        format!(
            "tunnel profile \"v2\" {{\n{version}    session_profile_name \"ppp\"\n}}\n\
             peer profile \"lacs\" {{\n    peer_ipaddr 203.0.113.0/24\n    \
             tunnel_profile_name \"v2\"\n}}\n\
             session profile \"ppp\" {{\n    pseudowire_types ppp\n}}\n"
        )
    };
    let config = parse("l2tpd.conf", &file("    version 2\n")).unwrap();
    let warnings: Vec<String> = config.warnings().iter().map(located).collect();
    assert_eq!(
        warnings,
        [
            "10:22: `pseudowire_types` has no effect: session profile `ppp` is used by L2TPv2 \
             tunnels only, whose calls are always PPP and are not checked"
        ]
    );
    // An L2TPv3 tunnel, or one of either version, may take calls of any type.
    for version in ["    version 3\n", ""] {
        let config = parse("l2tpd.conf", &file(version)).unwrap();
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    }
    // A profile nothing uses (yet) is not warned about.
    let unused = "session profile \"ppp\" {\n    pseudowire_types ppp\n}\n";
    assert!(parse("l2tpd.conf", unused).unwrap().warnings().is_empty());
}

#[test]
fn a_pseudowire_type_the_caller_cannot_carry_is_warned_about_at_its_list() {
    let config = parse(
        "l2tpd.conf",
        "session profile \"l2\" {\n    pseudowire_types eth ppp 0x0011\n}\n",
    )
    .unwrap();
    let refusal = |ty: l2tp_config::PseudowireType, _| {
        (ty != l2tp_config::PseudowireType::Eth).then(|| "not here".to_owned())
    };
    let warnings: Vec<String> = config
        .pseudowire_types_warnings(refusal)
        .iter()
        .map(located)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings.iter().all(|w| w
            .starts_with("2:22: session profile `l2`: `pseudowire_types` lists ")
            && w.ends_with(", which peers cannot open here: not here")),
        "{warnings:?}"
    );
    assert!(config.pseudowire_types_warnings(|_, _| None).is_empty());
}

#[test]
fn an_address_no_socket_can_use_is_refused_with_the_reason() {
    let tunnel = |line: &str| problems(&format!("tunnel \"t\" {{\n    {line}\n}}\n"));
    assert_eq!(
        tunnel("peer [2001:db8::1%eth0]:1701"),
        [
            "2:10: `[2001:db8::1%eth0]:1701`: a scope (`%eth0`) belongs to link-local addresses \
             only; write `2001:db8::1` without it"
        ]
    );
    assert_eq!(
        tunnel("peer fe80::1%veth0"),
        [
            "2:10: `fe80::1%veth0`: l2tpd does not take a scope (`%veth0`), so IPv6 link-local \
             addresses cannot be used: use a global or unique local address"
        ]
    );
    assert_eq!(
        tunnel("peer 2001:db8::2 fe80::1"),
        [
            "2:22: `fe80::1` is an IPv6 link-local address, which needs a scope (an interface) \
             that l2tpd does not take: use a global or unique local address"
        ]
    );
    assert_eq!(
        tunnel("peer ::ffff:192.0.2.1"),
        [
            "2:10: `::ffff:192.0.2.1` is an IPv4-mapped IPv6 address: write the IPv4 address \
          `192.0.2.1`"
        ]
    );
    assert_eq!(
        tunnel("peer ::"),
        ["2:10: `::` is the unspecified address, not a host"]
    );
    assert_eq!(
        tunnel("peer 0.0.0.0:1701"),
        ["2:10: `0.0.0.0` is the unspecified address, not a host"]
    );
    assert_eq!(
        tunnel("peer ff02::1"),
        ["2:10: `ff02::1` is a multicast or broadcast address: L2TP runs between two hosts"]
    );
    assert_eq!(
        problems("tunnel \"t\" {\n    peer 192.0.2.1\n    local [::ffff:192.0.2.2]:1701\n}\n"),
        [
            "3:11: `::ffff:192.0.2.2` is an IPv4-mapped IPv6 address: write the IPv4 address \
          `192.0.2.2`"
        ]
    );
    assert_eq!(
        problems("system {\n    listen [::]:1701 [fe80::1]:1701\n}\n"),
        [
            "2:22: `fe80::1` is an IPv6 link-local address, which needs a scope (an interface) \
             that l2tpd does not take: use a global or unique local address"
        ]
    );
    // The unspecified address is every address to listen on.
    assert!(
        parse(
            "l2tpd.conf",
            "system {\n    listen [::]:1701 0.0.0.0:1701\n}\n"
        )
        .is_ok()
    );
}

/// A tunnel with no `version` opens over UDP with the L2TPv2 SCCRQ that offers L2TPv3 (RFC
/// 3931 §4.7.3), which carries a 16-bit tunnel id: a larger `tunnel_id` is refused where it is
/// written, not found out when the tunnel cannot open. With `version 3`, over IP, or in a
/// static tunnel, which never sends that SCCRQ, it is taken.
#[test]
fn a_tunnel_id_over_16_bits_needs_version_3_over_udp() {
    let tunnel = |lines: &str| format!("tunnel \"t\" {{\n    peer 192.0.2.9\n{lines}}}\n");
    assert_eq!(
        problems(&tunnel("    tunnel_id 70000\n")),
        [
            "3:15: value `70000` is out of range: with no `version`, the tunnel opens with the \
             L2TPv2 SCCRQ that offers L2TPv3, whose tunnel ids are from 1 to 65535 (set \
             `version 3` for more)"
        ]
    );
    for ok in [
        "    tunnel_id 65535\n",
        "    tunnel_id 70000\n    version 3\n",
        "    tunnel_id 70000\n    encap ip\n",
        "    tunnel_id 70000\n    peer_tunnel_id 70001\n",
    ] {
        assert!(parse("l2tpd.conf", &tunnel(ok)).is_ok(), "{ok}");
    }
}

/// A session of a tunnel with no `version` is numbered as an L2TPv2 one while the tunnel opens
/// over UDP with the L2TPv2 SCCRQ that offers L2TPv3 (RFC 3931 §4.7.3): a `session_id` over 16
/// bits is refused at its line, as in an L2TPv2 tunnel. With `version 3`, over IP, or in a
/// static tunnel it is taken.
#[test]
fn a_session_id_over_16_bits_needs_version_3_over_udp() {
    let config = |tunnel: &str| {
        format!(
            "tunnel \"t\" {{\n    peer 192.0.2.9\n{tunnel}}}\n\
             session \"s\" {{\n    tunnel \"t\"\n    session_id 70000\n{}}}\n",
            if tunnel.contains("peer_tunnel_id") {
                "    peer_session_id 70001\n    pseudowire_type eth\n"
            } else {
                ""
            }
        )
    };
    assert_eq!(
        problems(&config("")),
        [
            "6:16: value `70000` is out of range: tunnel `t` has no `version`, so it opens with \
             the L2TPv2 SCCRQ that offers L2TPv3, and L2TPv2 session ids are from 1 to 65535 \
             (set `version 3` in the tunnel for more)"
        ]
    );
    assert_eq!(
        problems(&config("    version 2\n")),
        ["7:16: value `70000` is out of range: L2TPv2 session ids are from 1 to 65535"]
    );
    for ok in [
        "    version 3\n",
        "    encap ip\n",
        "    tunnel_id 7\n    peer_tunnel_id 8\n",
    ] {
        let c = config(ok);
        assert!(parse("l2tpd.conf", &c).is_ok(), "{c}: {:?}", problems(&c));
    }
}
