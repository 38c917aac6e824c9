//! Reload diffs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use l2tp_config::{Config, NameDiff, diff, parse};

fn ok(source: &str) -> Config {
    match parse("test.conf", source) {
        Ok(c) => c,
        Err(diags) => panic!("{}", l2tp_config::render_all(&diags, source)),
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const BASE: &str = r#"
system {
    log_level notice
}
tunnel profile "p" {
    hello_timeout 30
}
session profile "sp" {
    pseudowire_type ppp
}
tunnel "a" {
    profile "p"
    peer 192.0.2.1
}
tunnel "b" {
    peer 192.0.2.2
}
session "a1" {
    tunnel "a"
    profile "sp"
}
session "b1" {
    tunnel "b"
}
"#;

#[test]
fn identical_configs() {
    let d = diff(&ok(BASE), &ok(BASE));
    assert!(d.is_empty());
    assert_eq!(d.tunnels.unchanged, names(&["a", "b"]));
    assert_eq!(d.sessions.unchanged, names(&["a1", "b1"]));
}

#[test]
fn comments_and_layout_do_not_matter() {
    let reformatted = BASE.replace(
        "    peer 192.0.2.2",
        "    # the LNS\n    peer    192.0.2.2:1701",
    );
    assert!(
        diff(&ok(BASE), &ok(&reformatted)).is_empty(),
        "1701 is the default port"
    );
    let moved = BASE.replace("    peer 192.0.2.2", "    peer 192.0.2.2:1702");
    assert_eq!(diff(&ok(BASE), &ok(&moved)).tunnels.changed, names(&["b"]));
    let commented = BASE.replace("system {", "# header\nsystem {   # global");
    assert!(diff(&ok(BASE), &ok(&commented)).is_empty());
}

#[test]
fn added_removed_changed() {
    let new = BASE
        .replace(
            "tunnel \"b\" {\n    peer 192.0.2.2\n}\n",
            "tunnel \"c\" {\n    peer 192.0.2.3\n}\n",
        )
        .replace("session \"b1\" {\n    tunnel \"b\"\n}\n", "")
        .replace(
            "    profile \"sp\"\n",
            "    profile \"sp\"\n    user_data \"x\"\n",
        );
    let d = diff(&ok(BASE), &ok(&new));
    assert_eq!(
        d.tunnels,
        NameDiff {
            added: names(&["c"]),
            removed: names(&["b"]),
            changed: vec![],
            unchanged: names(&["a"]),
        }
    );
    assert_eq!(d.sessions.removed, names(&["b1"]));
    assert_eq!(d.sessions.changed, names(&["a1"]));
    assert!(!d.system_changed);
    assert!(!d.profiles_changed());
}

#[test]
fn profile_change_changes_its_instances() {
    let new = BASE.replace("hello_timeout 30", "hello_timeout 45");
    let d = diff(&ok(BASE), &ok(&new));
    assert_eq!(d.tunnel_profiles.changed, names(&["p"]));
    assert_eq!(d.tunnels.changed, names(&["a"]));
    assert_eq!(d.tunnels.unchanged, names(&["b"]));
    assert!(
        d.sessions.is_empty(),
        "sessions do not include their tunnel's settings"
    );
    assert!(d.profiles_changed());
}

#[test]
fn default_profile_change_reaches_every_instance() {
    let new = format!("{BASE}\ntunnel profile \"default\" {{\n    max_retries 7\n}}\n");
    let d = diff(&ok(BASE), &ok(&new));
    assert_eq!(d.tunnel_profiles.changed, names(&["default", "p"]));
    assert_eq!(d.tunnels.changed, names(&["a", "b"]));
}

#[test]
fn pseudowire_profile_change_reaches_sessions() {
    let old = format!("{BASE}\npseudowire profile \"default\" {{\n    mtu 1400\n}}\n");
    let new = old.replace("mtu 1400", "mtu 1300");
    let d = diff(&ok(&old), &ok(&new));
    assert_eq!(d.pseudowire_profiles.changed, names(&["default"]));
    assert_eq!(d.sessions.changed, names(&["a1", "b1"]));
    assert!(d.tunnels.is_empty());
}

#[test]
fn system_and_profile_only_changes() {
    let new = BASE.replace("log_level notice", "log_level debug");
    let d = diff(&ok(BASE), &ok(&new));
    assert!(d.system_changed);
    assert!(d.tunnels.is_empty() && d.sessions.is_empty());

    let new = format!("{BASE}\npeer profile \"lacs\" {{\n    peer_ipaddr 10.0.0.0/8\n}}\n");
    let d = diff(&ok(BASE), &ok(&new));
    assert_eq!(d.peer_profiles.added, names(&["lacs"]));
    assert!(!d.system_changed && d.profiles_changed());
}

#[test]
fn secret_change_is_a_change() {
    let old = BASE.replace("hello_timeout 30", "hello_timeout 30\n    secret \"one\"");
    let new = BASE.replace("hello_timeout 30", "hello_timeout 30\n    secret \"two\"");
    let d = diff(&ok(&old), &ok(&new));
    assert_eq!(d.tunnels.changed, names(&["a"]));
}

const PPP: &str = r#"
ppp profile "lns" {
    ip_pool_name "customers"
    users_file /etc/l2tpd/users
}
ppp profile "site" {
    user_name "me"
    user_password "pw"
}
ip pool "customers" {
    ranges 198.51.100.10-198.51.100.99
}
ip pool "spare" {
    ranges 198.51.100.100-198.51.100.199
}
user "alice" {
    password "a"
}
pseudowire profile "native" {
    ppp_profile_name "site"
}
session profile "eth" {
    pseudowire_type eth
    pseudowire_profile_name "native"
}
tunnel "t" {
    peer 192.0.2.1
}
session "ppp" {
    tunnel "t"
    pseudowire_profile_name "native"
}
session "eth" {
    tunnel "t"
    profile "eth"
}
"#;

const USERS: &str = "bob * b-pw 198.51.100.200\ncarol * c-pw\n";

/// `source` with `users` as the text of every users file.
fn with_users(source: &str, users: &str) -> Config {
    match l2tp_config::parse_with("test.conf", source, |_| Ok(users.to_owned())) {
        Ok(c) => c,
        Err(diags) => panic!("{}", l2tp_config::render_all(&diags, source)),
    }
}

#[test]
fn identical_ppp_configs() {
    let d = diff(&with_users(PPP, USERS), &with_users(PPP, USERS));
    assert!(d.is_empty());
    assert_eq!(d.ppp_profiles.unchanged, names(&["default", "lns", "site"]));
    assert_eq!(d.ip_pools.unchanged, names(&["customers", "spare"]));
    assert_eq!(d.users.unchanged, names(&["alice", "bob", "carol"]));
}

#[test]
fn ppp_profile_changes_reach_native_ppp_sessions_only() {
    let new = PPP.replace("user_password \"pw\"", "user_password \"new-pw\"");
    let d = diff(&with_users(PPP, USERS), &with_users(&new, USERS));
    assert_eq!(d.ppp_profiles.changed, names(&["site"]));
    assert_eq!(d.sessions.changed, names(&["ppp"]));
    assert_eq!(d.sessions.unchanged, names(&["eth"]));
    assert!(d.profiles_changed());

    // With pppd, the PPP profile does not matter to the session.
    let pppd = PPP.replace(
        "    ppp_profile_name \"site\"\n",
        "    ppp_profile_name \"site\"\n    use_pppd true\n",
    );
    let d = diff(
        &with_users(&pppd, USERS),
        &with_users(&pppd.replace("\"pw\"", "\"new-pw\""), USERS),
    );
    assert_eq!(d.ppp_profiles.changed, names(&["site"]));
    assert!(d.sessions.is_empty());

    let new = format!("{PPP}\nppp profile \"default\" {{\n    mru 1400\n}}\n");
    let d = diff(&with_users(PPP, USERS), &with_users(&new, USERS));
    assert_eq!(d.ppp_profiles.changed, names(&["default", "lns", "site"]));
}

#[test]
fn pool_changes() {
    let new = PPP
        .replace("198.51.100.10-198.51.100.99", "198.51.100.10-198.51.100.98")
        .replace(
            "ip pool \"spare\" {\n    ranges 198.51.100.100-198.51.100.199\n}\n",
            "ip pool \"more\" {\n    ranges 203.0.113.10-203.0.113.20\n}\n",
        );
    let d = diff(&with_users(PPP, USERS), &with_users(&new, USERS));
    assert_eq!(
        d.ip_pools,
        NameDiff {
            added: names(&["more"]),
            removed: names(&["spare"]),
            changed: names(&["customers"]),
            unchanged: vec![],
        }
    );
    assert!(d.sessions.is_empty() && d.ppp_profiles.is_empty());
    assert!(!d.is_empty());
}

#[test]
fn user_changes_from_blocks_and_files() {
    let old = with_users(PPP, USERS);
    // Lines that only move, and comments, change nothing.
    let moved = with_users(
        PPP,
        "# users\ncarol * c-pw\n\nbob  *  \"b-pw\"  198.51.100.200\n",
    );
    assert!(diff(&old, &moved).is_empty());

    let new = with_users(
        &PPP.replace("password \"a\"", "password \"a2\""),
        "bob * b-pw 198.51.100.201\ndave * d-pw\n",
    );
    let d = diff(&old, &new);
    assert_eq!(
        d.users,
        NameDiff {
            added: names(&["dave"]),
            removed: names(&["carol"]),
            changed: names(&["alice", "bob"]),
            unchanged: vec![],
        }
    );
    assert!(d.sessions.is_empty() && d.ppp_profiles.is_empty() && !d.profiles_changed());

    // A user moved from the file to a block is a change (it now applies to every profile).
    let block = with_users(
        &format!("{PPP}\nuser \"carol\" {{\n    password c-pw\n}}\n"),
        "bob * b-pw 198.51.100.200\n",
    );
    assert_eq!(diff(&old, &block).users.changed, names(&["carol"]));
}
