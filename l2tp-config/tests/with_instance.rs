//! `with_instance`: an instance from `key=value` words, checked as a block of the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use l2tp_config::{InstanceKind, with_instance};

fn base() -> l2tp_config::Config {
    l2tp_config::parse(
        "t.conf",
        "tunnel profile \"v3\" {\n version 3\n}\ntunnel \"old\" {\n peer 192.0.2.9\n}\n",
    )
    .unwrap()
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_tunnel_and_a_session_are_added_and_resolved() {
    let c = with_instance(
        &base(),
        InstanceKind::Tunnel,
        "new",
        &kv(&[
            ("peer", "192.0.2.1:1702"),
            ("profile", "v3"),
            ("secret", "two words"),
            ("framing_caps", "sync,async"),
        ]),
    )
    .unwrap();
    let t = c.resolve_tunnel("new").unwrap();
    assert_eq!(
        t.settings.secret.as_ref().map(|s| s.as_bytes().to_vec()),
        Some(b"two words".to_vec())
    );
    assert!(c.resolve_tunnel("old").is_some());
    let c = with_instance(
        &c,
        InstanceKind::Session,
        "s",
        &kv(&[
            ("tunnel", "new"),
            ("pseudowire_type", "eth"),
            ("remote_end_id", "hex:01ff"),
        ]),
    )
    .unwrap();
    let s = c.resolve_session("s").unwrap();
    assert_eq!(s.tunnel, "new");
}

#[test]
fn problems_are_reported_like_the_parser_without_a_file_position() {
    let e = with_instance(
        &base(),
        InstanceKind::Tunnel,
        "x",
        &kv(&[("peer", "192.0.2.1"), ("colour", "red")]),
    )
    .unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("unknown parameter `colour`"), "{e:?}");
    assert!(e[0].starts_with("colour=red: "), "{e:?}");
    assert!(!e[0].contains("t.conf"), "{e:?}");
    let e = with_instance(
        &base(),
        InstanceKind::Tunnel,
        "old",
        &kv(&[("peer", "192.0.2.1")]),
    )
    .unwrap_err();
    assert!(
        e.iter().any(|m| m.contains("duplicate tunnel `old`")),
        "{e:?}"
    );
    let e = with_instance(
        &base(),
        InstanceKind::Tunnel,
        "y",
        &kv(&[("peer", "192.0.2.1"), ("profile", "nope")]),
    )
    .unwrap_err();
    assert!(e.iter().any(|m| m.contains("nope")), "{e:?}");
    let e = with_instance(
        &base(),
        InstanceKind::Tunnel,
        "z",
        &kv(&[("peer", "192.0.2.1"), ("hello_timeout", "soon")]),
    )
    .unwrap_err();
    assert!(e.iter().any(|m| m.contains("soon")), "{e:?}");
    let e = with_instance(
        &base(),
        InstanceKind::Session,
        "s",
        &kv(&[("tunnel", "missing")]),
    )
    .unwrap_err();
    assert!(e.iter().any(|m| m.contains("missing")), "{e:?}");
}

/// A name from the control socket is logged and listed: it cannot carry a line break or an
/// escape sequence (nor DEL or a C1 control) into either.
#[test]
fn names_with_control_characters_are_refused() {
    for name in [
        "a\nb",
        "a\rb",
        "evil\x1b[31m",
        "tab\tbed",
        "del\x7f",
        "csi\u{9b}",
    ] {
        for kind in [InstanceKind::Tunnel, InstanceKind::Session] {
            let e = with_instance(&base(), kind, name, &kv(&[("peer", "192.0.2.1")])).unwrap_err();
            assert!(
                e.iter()
                    .any(|m| m.contains("cannot hold a control character")),
                "{name:?}: {e:?}"
            );
        }
    }
    assert!(
        with_instance(
            &base(),
            InstanceKind::Tunnel,
            "naïve name",
            &kv(&[("peer", "192.0.2.1")])
        )
        .is_ok()
    );
}

#[test]
fn the_ppp_configuration_of_the_base_is_kept() {
    let source = "ppp profile \"site\" {\n user_name me\n user_password pw\n \
                  users_file /etc/l2tpd/users\n}\n\
                  ip pool \"p\" {\n ranges 192.0.2.10-192.0.2.20\n}\n\
                  user \"u\" {\n password x\n}\n\
                  pseudowire profile \"native\" {\n ppp_profile_name \"site\"\n \
                  pppd_options x\n}\n\
                  tunnel \"t\" {\n peer 192.0.2.9\n}\n";
    let base = l2tp_config::parse_with("t.conf", source, |_| Ok("f * fpw\n".to_owned())).unwrap();
    assert_eq!(base.warnings().len(), 1);
    let c = with_instance(
        &base,
        InstanceKind::Session,
        "s",
        &kv(&[("tunnel", "t"), ("pseudowire_profile_name", "native")]),
    )
    .unwrap();
    let s = c.resolve_session("s").unwrap();
    assert_eq!(s.ppp, c.ppp_profile_settings("site"));
    assert!(s.ppp.is_some());
    assert_eq!(c.ip_pools(), base.ip_pools());
    assert_eq!(c.users(), base.users());
    assert!(c.ppp_user(s.ppp.as_ref().unwrap(), "f").is_some());
    assert_eq!(c.warnings(), base.warnings());
    assert!(l2tp_config::diff(&base, &c).ppp_profiles.is_empty());
    // A session naming a PPP block kind's parameters is checked like a file's.
    let e = with_instance(
        &base,
        InstanceKind::Session,
        "s2",
        &kv(&[("tunnel", "t"), ("ip_pool_name", "p")]),
    )
    .unwrap_err();
    assert!(e[0].contains("belongs in a `ppp profile` block"), "{e:?}");
}
