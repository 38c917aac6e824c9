//! The daemon's own PPP in the config: PPP profiles and their inheritance, address pools, local
//! users from `user` blocks and users files, warnings, and secrets kept out of `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use l2tp_config::{
    Config, Diagnostic, PppAuthMethod, Secret, Severity, UserOrigin, parse, parse_users_file,
    parse_with,
};

fn ok(source: &str) -> Config {
    match parse("test.conf", source) {
        Ok(c) => c,
        Err(diags) => panic!("{}", l2tp_config::render_all(&diags, source)),
    }
}

/// `parse_with` over an in-memory file system.
fn with_files(source: &str, files: &[(&str, &str)]) -> Result<Config, Vec<Diagnostic>> {
    let fs: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
        .collect();
    parse_with("test.conf", source, |p: &Path| {
        fs.get(p)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    })
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn full() -> String {
    include_str!("fixtures/ppp.conf").to_owned()
}

#[test]
fn ppp_profiles_inherit_from_the_default_one() {
    let c = ok(&full());
    let d = c.ppp_profile_settings("default").unwrap();
    assert_eq!(
        d.auth_methods(),
        [PppAuthMethod::MsChapV2, PppAuthMethod::Chap]
    );
    assert_eq!(d.dns(), [Some(ip("192.0.2.53")), None]);
    assert_eq!(
        (d.mru, d.lcp_echo_interval, d.lcp_echo_fail_count),
        (None, 10, 3),
        "no mru: the engine derives it from the tunnel"
    );
    assert_eq!((d.idle_timeout, d.max_connect_time), (0, 0));
    assert!(d.ipv6cp);
    assert_eq!((d.lcp_retransmit_interval, d.lcp_max_cfg_reqs), (3, 10));
    assert_eq!(d.local_name, "l2tpd");
    assert_eq!(d.credentials(), None);
    assert!(d.proxy_lcp && d.proxy_auth, "proxies taken by default");

    let lns = c.ppp_profile_settings("lns").unwrap();
    assert_eq!(
        lns.auth_methods(),
        [PppAuthMethod::MsChapV2, PppAuthMethod::Pap]
    );
    assert_eq!(lns.dns(), [Some(ip("192.0.2.53")), Some(ip("192.0.2.54"))]);
    assert_eq!(lns.wins(), [Some(ip("192.0.2.60")), None]);
    assert_eq!(lns.local_ip_addr, Some(ip("198.51.100.1")));
    assert_eq!(lns.ip_pool_name.as_deref(), Some("customers"));
    assert_eq!((lns.mru, lns.lcp_echo_interval), (Some(1400), 10));
    assert_eq!((lns.idle_timeout, lns.max_connect_time), (600, 86400));
    assert!(!lns.ipv6cp);
    assert!(lns.proxy_lcp && !lns.proxy_auth);
    assert_eq!(
        lns.users_file.as_deref(),
        Some(Path::new("/etc/l2tpd/chap-secrets"))
    );

    let site = c.ppp_profile_settings("site").unwrap();
    assert!(site.auth_methods().is_empty(), "auth_none wins");
    assert_eq!(
        site.credentials(),
        Some(("branch-7", &Secret::new("s3cr3t-pw")))
    );
    assert_eq!(site.peer_ip_addr, Some(ip("203.0.113.2")));
    assert_eq!(
        (
            site.lcp_echo_fail_count,
            site.lcp_retransmit_interval,
            site.lcp_max_cfg_reqs
        ),
        (5, 2, 20)
    );
    assert!(c.ppp_profile_settings("nope").is_none());
    let names: Vec<&str> = c.ppp_profiles().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default", "lns", "site"]);
    assert!(!c.ppp_profile("default").unwrap().builtin);
}

#[test]
fn an_empty_file_has_a_builtin_default_ppp_profile_and_no_pools_or_users() {
    let c = ok("");
    let d = c.ppp_profile("default").unwrap();
    assert!(d.builtin);
    assert!(c.ip_pools().is_empty());
    assert_eq!(c.users().iter().count(), 0);
    assert!(c.warnings().is_empty());
    let pw = c.pseudowire_profile_settings("default").unwrap();
    assert!(!pw.use_pppd, "native PPP is the default");
    assert_eq!(pw.ppp_profile_name, "default");
}

#[test]
fn pools_hold_their_ranges() {
    let c = ok(&full());
    let pool = c.ip_pool("customers").unwrap();
    assert_eq!(
        pool.ranges,
        [
            (ip("198.51.100.10"), ip("198.51.100.99")),
            (ip("198.51.100.200"), ip("198.51.100.250"))
        ]
    );
    assert_eq!(pool.size(), 90 + 51);
    assert!(pool.contains(ip("198.51.100.10")) && pool.contains(ip("198.51.100.250")));
    assert!(!pool.contains(ip("198.51.100.100")) && !pool.contains(ip("198.51.100.1")));
    let single = ok("ip pool \"one\" {\n    ranges 192.0.2.9\n}\n");
    assert_eq!(
        single.ip_pools()[0].ranges,
        [(ip("192.0.2.9"), ip("192.0.2.9"))]
    );
    assert_eq!(single.ip_pools()[0].size(), 1);
}

#[test]
fn sessions_see_the_ppp_of_their_pseudowire_profile() {
    let c = ok(&full());
    let native = c.resolve_session("s-native").unwrap();
    assert_eq!(native.pseudowire_profile, "native");
    assert_eq!(native.ppp, c.ppp_profile_settings("lns"));
    let pppd = c.resolve_session("s-pppd").unwrap();
    assert!(pppd.pseudowire.use_pppd);
    assert_eq!(pppd.ppp, None, "pppd does the PPP");
    let eth = c.resolve_session("s-eth").unwrap();
    assert_eq!(eth.ppp, None, "an Ethernet session has no PPP");
}

#[test]
fn user_blocks_and_the_users_file() {
    let file = "\
# client  server  secret            addresses
carol     *       \"carol pw\"        198.51.100.6
dave      hq      dave-hq-pw        -
dave      *       dave-any-pw       *
*         l2tpd   shared-pw
alice     *       alice-file-pw
";
    let c = with_files(&full(), &[("/etc/l2tpd/chap-secrets", file)]).unwrap();
    let lns = c.ppp_profile_settings("lns").unwrap();
    let site = c.ppp_profile_settings("site").unwrap();

    // A block applies to every profile, and wins over the file.
    let alice = c.ppp_user(&lns, "alice").unwrap();
    assert_eq!(alice.password, Secret::new("alice-pw"));
    assert_eq!(alice.ip_addr, Some(ip("198.51.100.5")));
    assert_eq!(alice.origin, UserOrigin::Block);
    assert!(c.ppp_user(&site, "alice").is_some());
    assert_eq!(
        c.ppp_user(&lns, "bob").unwrap().password,
        Secret::new("bob")
    );

    // The file applies to the profiles that name it.
    let carol = c.ppp_user(&lns, "carol").unwrap();
    assert_eq!(carol.password, Secret::new("carol pw"));
    assert_eq!(carol.ip_addr, Some(ip("198.51.100.6")));
    assert_eq!(
        carol.origin,
        UserOrigin::File {
            path: PathBuf::from("/etc/l2tpd/chap-secrets"),
            line: 2
        }
    );
    assert!(c.ppp_user(&site, "carol").is_none());

    // Server names: `lns` is `l2tpd`, so dave's `hq` line is not for it, his `*` line is.
    let dave = c.ppp_user(&lns, "dave").unwrap();
    assert_eq!(dave.password, Secret::new("dave-any-pw"));
    assert_eq!(dave.ip_addr, None);
    let users = c.users();
    let hq = users
        .lookup("dave", "hq", Some(Path::new("/etc/l2tpd/chap-secrets")))
        .unwrap();
    assert_eq!(hq.password, Secret::new("dave-hq-pw"));
    assert_eq!(hq.server.as_deref(), Some("hq"));

    // The client wildcard, for our name only.
    let anyone = c.ppp_user(&lns, "erin").unwrap();
    assert_eq!(
        (anyone.name.as_str(), anyone.password.as_bytes()),
        ("*", &b"shared-pw"[..])
    );
    assert!(
        users
            .lookup("erin", "hq", Some(Path::new("/etc/l2tpd/chap-secrets")))
            .is_none()
    );

    // alice is in both: the block wins, with a warning at the block.
    let w: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "test.conf:38:6: warning: user `alice` is also in users file /etc/l2tpd/chap-secrets \
          (line 6); this `user` block wins"
        ]
    );
    assert!(
        c.warnings()
            .iter()
            .all(|d| d.severity() == Severity::Warning)
    );

    // `parse` reads no file.
    let unread = ok(&full());
    assert!(
        unread
            .users()
            .file(Path::new("/etc/l2tpd/chap-secrets"))
            .is_none()
    );
    assert!(unread.ppp_user(&lns, "carol").is_none());
    assert!(unread.ppp_user(&lns, "alice").is_some());
}

#[test]
fn secrets_stay_out_of_debug() {
    let file = "carol * file-secret-pw\n";
    let c = with_files(&full(), &[("/etc/l2tpd/chap-secrets", file)]).unwrap();
    let dump = format!("{c:?}");
    for secret in ["s3cr3t-pw", "alice-pw", "file-secret-pw", "626f62"] {
        assert!(!dump.contains(secret), "`{secret}` in {dump}");
    }
    assert!(dump.contains("<redacted>"));
    let site = format!("{:?}", c.ppp_profile_settings("site").unwrap());
    assert!(!site.contains("s3cr3t-pw") && site.contains("user_password: Some(<redacted>)"));
}

#[test]
fn users_file_problems_name_the_file_and_line_and_never_the_secret() {
    let file = "\
ok      *  fine-pw
short   *
bad     *  \"unterminated-pw
addr    *  addr-pw  192.0.2.0/24
two     *  two-pw   192.0.2.7 192.0.2.8
mcast   *  mcast-pw 224.0.0.1
at      *  @/etc/secret-file
ok      *  again-pw
empty   *  \"\"
spaced  *  half-of-pw other-half-of-pw
";
    let diags = with_files(&full(), &[("/etc/l2tpd/chap-secrets", file)]).unwrap_err();
    let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
    let f = "/etc/l2tpd/chap-secrets";
    assert_eq!(
        lines,
        [
            format!("{f}:2: error: expected `client server secret [address]`, found 2 words"),
            format!("{f}:3: error: unterminated quote `\"`"),
            format!(
                "{f}:4: error: user `addr`: the word after the secret is not an IPv4 address \
                 (only one address, `*` or `-` is supported; a secret with white space in it \
                 must be quoted)"
            ),
            format!(
                "{f}:5: error: user `two` has 2 words after the secret: only one address, `*` \
                 or `-` is supported (a secret with white space in it must be quoted)"
            ),
            format!(
                "{f}:6: error: user `mcast`: `224.0.0.1` is a multicast address: expected the \
                 address of a host"
            ),
            format!(
                "{f}:7: error: user `at`: a secret read from another file (`@file`) is not \
                 supported"
            ),
            format!("{f}:8: error: user `ok` for server `*` is already defined on line 1"),
            format!("{f}:9: error: user `empty` has an empty secret"),
            format!(
                "{f}:10: error: user `spaced`: the word after the secret is not an IPv4 \
                 address (only one address, `*` or `-` is supported; a secret with white space \
                 in it must be quoted)"
            ),
        ]
    );
    let rendered = l2tp_config::render_all(&diags, &full());
    for secret in [
        "fine-pw",
        "unterminated-pw",
        "addr-pw",
        "again-pw",
        "/etc/secret-file",
        "half-of-pw",
    ] {
        assert!(!rendered.contains(secret), "{rendered}");
    }
    assert!(diags.iter().all(|d| d.column() == 0));
}

#[test]
fn a_users_file_that_cannot_be_read_is_an_error_at_its_parameter() {
    let diags = with_files(&full(), &[]).unwrap_err();
    let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "test.conf:18:16: error: cannot read users file /etc/l2tpd/chap-secrets: No such file \
          or directory"
        ]
    );
}

#[test]
fn the_users_file_reader_is_pure() {
    let users = parse_users_file(
        Path::new("/x"),
        "a b c\n\n# only a comment\n\"d e\" * 'f g' 192.0.2.1\r\n",
    )
    .unwrap();
    type Line<'a> = (&'a str, Option<&'a str>, &'a [u8], Option<Ipv4Addr>);
    let got: Vec<Line<'_>> = users
        .iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.server.as_deref(),
                u.password.as_bytes(),
                u.ip_addr,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a", Some("b"), &b"c"[..], None),
            ("d e", None, &b"f g"[..], Some(ip("192.0.2.1")))
        ]
    );
    assert_eq!(
        users[1].origin,
        UserOrigin::File {
            path: PathBuf::from("/x"),
            line: 4
        }
    );
    assert_eq!(parse_users_file(Path::new("/x"), "").unwrap(), []);
}

#[test]
fn pppd_and_native_parameters_where_they_have_no_effect_are_warned_about() {
    let source = "\
pseudowire profile \"default\" {
    pppd_options \"debug\"
}
pseudowire profile \"a\" {
    pppd_path /usr/local/sbin/pppd
}
pseudowire profile \"b\" {
    use_pppd true
    ppp_profile_name \"default\"
}
";
    let c = ok(source);
    let w: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "test.conf:5:15: warning: `pppd_path` has no effect: pseudowire profile `a` runs the \
             daemon's own PPP (`use_pppd` is false); set `use_pppd true` to start pppd"
                .to_owned(),
            "test.conf:9:22: warning: `ppp_profile_name` has no effect: pseudowire profile `b` \
             starts pppd (`use_pppd true`), which takes its settings from `pppd_options`"
                .to_owned(),
        ]
    );
    // The default profile's pppd_options reach `b`, which starts pppd: no warning for them;
    // without `use_pppd` in `b` they reach no profile that does.
    let c = ok(&source.replace("    use_pppd true\n", ""));
    let w: Vec<String> = c.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        w[0],
        "test.conf:2:18: warning: `pppd_options` has no effect: pseudowire profile `default` \
         runs the daemon's own PPP (`use_pppd` is false); set `use_pppd true` to start pppd"
    );
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn a_hundred_thousand_users_read_and_look_up_quickly() {
    let mut file = String::new();
    for i in 0..100_000u32 {
        let [_, _, c, d] = (0x0a00_0000 + i).to_be_bytes();
        // Fixed addresses 10.x.c.d, none of them alike.
        let x = 1 + i / 65_536;
        file.push_str(&format!("user{i} * \"pw-{i}\" 10.{x}.{c}.{d}\n"));
    }
    let source = "ppp profile \"default\" {\n    users_file /big\n}\n";
    let start = std::time::Instant::now();
    let c = with_files(source, &[("/big", &file)]).unwrap();
    let s = c.ppp_profile_settings("default").unwrap();
    for i in (0..100_000).step_by(97) {
        let u = c.ppp_user(&s, &format!("user{i}")).unwrap();
        assert_eq!(u.password.as_bytes(), format!("pw-{i}").as_bytes());
    }
    assert!(c.ppp_user(&s, "user100000").is_none());
    let d = l2tp_config::diff(&c, &c);
    assert!(d.is_empty() && d.users.unchanged.len() == 100_000);
    // Linear work: well under a minute even in a debug build on a loaded machine (a
    // quadratic check of duplicates would take hours).
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn relogin_replaces_by_default_is_inherited_and_checked() {
    use l2tp_config::Relogin;
    let c = ok("");
    let d = c.ppp_profile_settings("default").unwrap();
    assert_eq!(d.relogin, Relogin::Replace);
    let text = "ppp profile \"default\" {\n relogin refuse\n}\n\
                ppp profile \"lns\" {\n ip_pool_name \"p\"\n}\n\
                ppp profile \"vpn\" {\n relogin replace\n}\n\
                ip pool \"p\" {\n ranges 198.51.100.10-198.51.100.19\n}\n";
    let c = ok(text);
    let relogin = |p: &str| c.ppp_profile_settings(p).unwrap().relogin;
    assert_eq!(relogin("default"), Relogin::Refuse);
    assert_eq!(relogin("lns"), Relogin::Refuse, "inherited from default");
    assert_eq!(relogin("vpn"), Relogin::Replace);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    // A reload that changes it changes the profile (new sessions follow it).
    let new = ok(&text.replace("relogin refuse", "relogin replace"));
    let d = l2tp_config::diff(&c, &new);
    assert_eq!(d.ppp_profiles.changed, ["default", "lns"]);
    // Anything else is refused, naming the two keywords (`l2tpd -n`).
    let source = "ppp profile \"p\" {\n relogin kick\n}\n";
    let Err(diags) = parse("test.conf", source) else {
        panic!("accepted: {source}");
    };
    let msgs: Vec<&str> = diags.iter().map(Diagnostic::message).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("`replace` or `refuse`") && m.contains("kick")),
        "{msgs:?}"
    );
}

fn refused(source: &str) -> Vec<String> {
    match parse("test.conf", source) {
        Ok(_) => panic!("accepted: {source}"),
        Err(diags) => diags.iter().map(|d| d.message().to_owned()).collect(),
    }
}

#[test]
fn lcp_ipcp_chap_and_pap_timers_parse_inherit_and_keep_their_defaults() {
    let d = ok("");
    let d = d.ppp_profile_settings("default").unwrap();
    assert_eq!(
        (d.lcp_max_cfg_naks, d.lcp_max_term_reqs),
        (5, 2),
        "RFC 1661's Max-Failure and Max-Terminate"
    );
    assert_eq!(
        (
            d.ipcp_retransmit_interval,
            d.ipcp_max_cfg_reqs,
            d.ipcp_max_cfg_naks,
            d.ipcp_max_term_reqs
        ),
        (3, 10, 5, 2)
    );
    assert_eq!(
        (d.chap_restart, d.chap_max_challenge, d.chap_interval),
        (3, 10, 0)
    );
    assert_eq!(
        (d.pap_restart_interval, d.pap_max_auth_reqs, d.pap_timeout),
        (3, 10, 0)
    );
    assert_eq!(d.auth_timeout, 30);
    assert!(!d.auth_mschapv1 && !d.auth_eap && !d.multilink);

    let text = "ppp profile \"default\" {\n lcp_max_cfg_naks 7\n chap_interval 600\n}\n\
                ppp profile \"lns\" {\n lcp_max_term_reqs 4\n ipcp_retransmit_interval 5\n \
                ipcp_max_cfg_reqs 20\n ipcp_max_cfg_naks 6\n ipcp_max_term_reqs 3\n \
                chap_restart 2\n chap_max_challenge 4\n pap_restart_interval 4\n \
                pap_max_auth_reqs 5\n pap_timeout 10\n auth_mschapv1 false\n auth_eap false\n \
                multilink false\n}\n";
    let c = ok(text);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let lns = c.ppp_profile_settings("lns").unwrap();
    assert_eq!(
        (lns.lcp_max_cfg_naks, lns.chap_interval),
        (7, 600),
        "inherited"
    );
    assert_eq!(
        (
            lns.lcp_max_term_reqs,
            lns.ipcp_retransmit_interval,
            lns.ipcp_max_cfg_reqs,
            lns.ipcp_max_cfg_naks,
            lns.ipcp_max_term_reqs
        ),
        (4, 5, 20, 6, 3)
    );
    assert_eq!((lns.chap_restart, lns.chap_max_challenge), (2, 4));
    assert_eq!(
        (
            lns.pap_restart_interval,
            lns.pap_max_auth_reqs,
            lns.pap_timeout
        ),
        (4, 5, 10)
    );
    // A reload that changes one changes the profile (new sessions follow it).
    let new = ok(&text.replace("chap_restart 2", "chap_restart 9"));
    assert_eq!(l2tp_config::diff(&c, &new).ppp_profiles.changed, ["lns"]);
}

#[test]
fn timers_out_of_range_are_refused_with_their_range() {
    for (line, range) in [
        ("lcp_max_cfg_naks 0", "1 to 255"),
        ("lcp_max_term_reqs 256", "1 to 255"),
        ("ipcp_retransmit_interval 0", "1 to 60"),
        ("ipcp_retransmit_interval 61", "1 to 60"),
        ("ipcp_max_cfg_reqs 0", "1 to 255"),
        ("ipcp_max_cfg_naks 0", "1 to 255"),
        ("ipcp_max_term_reqs 0", "1 to 255"),
        ("chap_restart 0", "1 to 60"),
        ("chap_max_challenge 0", "1 to 255"),
        ("chap_interval 86401", "0 to 86400"),
        ("pap_restart_interval 61", "1 to 60"),
        ("pap_max_auth_reqs 0", "1 to 255"),
        ("pap_timeout 601", "0 to 600"),
        ("auth_timeout 4", "5 to 600"),
        ("auth_timeout 601", "5 to 600"),
    ] {
        let msgs = refused(&format!("ppp profile \"p\" {{\n {line}\n}}\n"));
        assert!(msgs.iter().any(|m| m.contains(range)), "{line}: {msgs:?}");
    }
}

#[test]
fn mschapv1_eap_and_multilink_are_refused_when_turned_on() {
    for (key, what) in [
        ("auth_mschapv1", "MS-CHAPv1"),
        ("auth_eap", "EAP"),
        ("multilink", "Multilink"),
    ] {
        let msgs = refused(&format!("ppp profile \"p\" {{\n {key} true\n}}\n"));
        assert!(
            msgs.iter()
                .any(|m| m.contains(&format!("`{key} true` is not supported"))
                    && m.contains(what)
                    && m.contains("not implemented")),
            "{key}: {msgs:?}"
        );
    }
    let msgs = refused("ppp profile \"p\" {\n auth_mschapv1 true\n}\n");
    assert!(
        msgs.iter().any(|m| m.contains("`auth_mschapv2`")),
        "{msgs:?}"
    );
}

#[test]
fn chap_interval_needs_a_chap_method_and_takes_any_auth_source() {
    for source in ["local", "radius", "radius_then_local"] {
        let c = ok(&format!(
            "radius server \"r\" {{\n address 192.0.2.10\n secret \"s\"\n}}\n\
             ppp profile \"p\" {{\n chap_interval 60\n auth_source {source}\n}}\n"
        ));
        assert!(c.warnings().is_empty(), "{source}: {:?}", c.warnings());
    }
    let c = ok(
        "ppp profile \"p\" {\n chap_interval 60\n auth_mschapv2 false\n \
                auth_chap false\n auth_pap true\n}\n",
    );
    let w: Vec<&str> = c.warnings().iter().map(|d| d.message()).collect();
    assert!(
        w.iter()
            .any(|m| m.contains("`chap_interval` has no effect")),
        "{w:?}"
    );
}

#[test]
fn auth_timeout_is_taken_inherited_and_changed_by_a_reload() {
    let text = "ppp profile \"default\" {\n auth_timeout 90\n}\n\
                ppp profile \"lns\" {\n pap_timeout 60\n}\n\
                ppp profile \"quick\" {\n auth_timeout 5\n}\n";
    let c = ok(text);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let lns = c.ppp_profile_settings("lns").unwrap();
    assert_eq!((lns.auth_timeout, lns.pap_timeout), (90, 60), "inherited");
    assert_eq!(c.ppp_profile_settings("quick").unwrap().auth_timeout, 5);
    let new = ok(&text.replace("auth_timeout 5", "auth_timeout 10"));
    assert_eq!(l2tp_config::diff(&c, &new).ppp_profiles.changed, ["quick"]);
}

#[test]
fn a_pap_timeout_not_shorter_than_auth_timeout_is_warned_of() {
    for text in [
        "ppp profile \"p\" {\n pap_timeout 30\n}\n",
        "ppp profile \"p\" {\n pap_timeout 20\n auth_timeout 10\n}\n",
    ] {
        let c = ok(text);
        let w: Vec<&str> = c.warnings().iter().map(|d| d.message()).collect();
        assert!(
            w.iter()
                .any(|m| m.contains("`pap_timeout` has no effect") && m.contains("`auth_timeout`")),
            "{text}: {w:?}"
        );
    }
    let c = ok("ppp profile \"p\" {\n pap_timeout 20\n auth_timeout 60\n}\n");
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}
