//! Property tests: the parser never panics, and every diagnostic renders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

/// Fragments that steer random input towards the grammar, so that deep paths are reached.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("system".to_owned()),
        Just("tunnel".to_owned()),
        Just("session".to_owned()),
        Just("profile".to_owned()),
        Just("peer".to_owned()),
        Just("pseudowire".to_owned()),
        Just("\"x\"".to_owned()),
        Just("\"default\"".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\n".to_owned()),
        Just("#".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("hex:0a".to_owned()),
        Just("[::1]:1701".to_owned()),
        Just("192.0.2.1".to_owned()),
        Just("version 2".to_owned()),
        Just("encap ip".to_owned()),
        Just("cookie_length 8".to_owned()),
        Just("peer_cookie hex:00112233".to_owned()),
        Just("pseudowire_type eth_vlan".to_owned()),
        Just("peer_tunnel_id 3".to_owned()),
        Just("tunnel_profile_name \"x\"".to_owned()),
        Just("ppp".to_owned()),
        Just("ip pool".to_owned()),
        Just("user".to_owned()),
        Just("ranges 192.0.2.1-192.0.2.9".to_owned()),
        Just("ranges 192.0.2.5".to_owned()),
        Just("ip_pool_name \"x\"".to_owned()),
        Just("ppp_profile_name \"x\"".to_owned()),
        Just("use_pppd true".to_owned()),
        Just("pppd_options a".to_owned()),
        Just("auth_mschapv2 false".to_owned()),
        Just("auth_chap false".to_owned()),
        Just("local_ip_addr 192.0.2.5".to_owned()),
        Just("ip_addr 192.0.2.5".to_owned()),
        Just("password pw".to_owned()),
        Just("users_file /u".to_owned()),
        "[a-z_]{1,12}",
        "[0-9:./x\\[\\]]{1,10}",
        any::<String>(),
    ]
}

/// Fragments of users files: words, quotes, escapes, comments and line ends.
fn users_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_owned()),
        Just("\n".to_owned()),
        Just("\\\n".to_owned()),
        Just("*".to_owned()),
        Just("-".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("#".to_owned()),
        Just("\\".to_owned()),
        Just("\\x4".to_owned()),
        Just("\\777".to_owned()),
        Just("\\^".to_owned()),
        Just("@".to_owned()),
        Just("192.0.2.5".to_owned()),
        Just("224.0.0.1".to_owned()),
        "[a-z]{1,6}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(source in any::<String>()) {
        if let Err(diags) = l2tp_config::parse("fuzz.conf", &source) {
            prop_assert!(!diags.is_empty());
            let _ = l2tp_config::render_all(&diags, &source);
        }
    }

    #[test]
    fn the_users_file_reader_never_panics(text in any::<String>()) {
        let path = std::path::Path::new("/u");
        if let Err(diags) = l2tp_config::parse_users_file(path, &text) {
            prop_assert!(!diags.is_empty());
        }
    }

    #[test]
    fn the_users_file_reader_never_panics_on_users_like_text(
        parts in prop::collection::vec(users_fragment(), 0..40),
    ) {
        let text = parts.concat();
        match l2tp_config::parse_users_file(std::path::Path::new("/u"), &text) {
            Ok(users) => prop_assert!(users.iter().all(|u| !u.password.as_bytes().is_empty())),
            Err(diags) => {
                for d in &diags {
                    prop_assert!(d.to_string().starts_with("/u:"));
                }
            }
        }
    }

    #[test]
    fn parse_never_panics_on_config_like_text(parts in prop::collection::vec(fragment(), 0..60)) {
        let source = parts.join(" ");
        // Every users file reads as `users`, a valid file.
        let users = "a * pw 192.0.2.5\n* * any\n";
        match l2tp_config::parse_with("fuzz.conf", &source, |_| Ok(users.to_owned())) {
            Ok(config) => {
                let _ = config.resolved_tunnels();
                let _ = config.resolved_sessions();
                prop_assert!(l2tp_config::diff(&config, &config).is_empty());
            }
            Err(diags) => {
                for d in &diags {
                    let text = d.render(&source);
                    prop_assert!(text.contains(": error: "));
                }
            }
        }
    }
}
