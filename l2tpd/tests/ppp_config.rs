//! The real `l2tpd` with the configuration of its own PPP: PPP profiles, address pools, users
//! and a users file, checked by `l2tpd -n`, shown by the control socket, applied and refused
//! on reload. Secrets stay out of every output. Every wait is bounded (see `common::WAIT`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, l2tpd, redact};
use l2tp_ctl::{ErrorKind, ProfileKind, Request, Response, SettingValue};
use nix::sys::signal::Signal;

/// Every password below; none may appear in an output, a log or an answer.
const SECRETS: [&str; 4] = [
    "site-pw-4417",
    "alice-pw-9021",
    "carol-pw-5530",
    "dave-pw-7782",
];

/// A config with every part of the PPP configuration; `USERS` is its users file's path.
const CONFIG: &str = r#"
ppp profile "default" {
    dns_addr_1 192.0.2.53
    dns_addr_2 192.0.2.54
}

ppp profile "lns" {
    auth_pap true
    local_ip_addr 203.0.113.1
    ip_pool_name "customers"
    wins_addr_1 192.0.2.60
    mru 1460
    lcp_echo_interval 20
    lcp_echo_fail_count 4
    idle_timeout 1800
    max_connect_time 86400
    ipv6cp false
    lcp_retransmit_interval 2
    lcp_max_cfg_reqs 8
    chap_restart 5
    ipcp_max_cfg_naks 7
    users_file USERS
}

ppp profile "site" {
    auth_none true
    user_name "branch-7"
    user_password "site-pw-4417"
    local_name "branch-7"
    local_ip_addr 198.51.100.1
    peer_ip_addr 198.51.100.2
}

ip pool "customers" {
    ranges 203.0.113.10-203.0.113.99 203.0.113.200-203.0.113.250
}

ip pool "spare" {
    ranges 203.0.113.100
}

user "alice" {
    password "alice-pw-9021"
    ip_addr 203.0.113.5
}

pseudowire profile "native" {
    ppp_profile_name "lns"
}

pseudowire profile "site" {
    ppp_profile_name "site"
    pppd_options "noauth"
}

pseudowire profile "pppd" {
    use_pppd true
    pppd_options "require-mschap-v2"
}

tunnel profile "lns" {
    version 2
    pseudowire_profile_name "native"
}

peer profile "lacs" {
    peer_ipaddr 192.0.2.0/24
    tunnel_profile_name "lns"
}
"#;

/// A tunnel and a PPP session this host would open itself (a dry run only: a running daemon
/// would send to the peer).
const INSTANCES: &str = r#"
tunnel "to-hq" {
    peer 192.0.2.1
    version 2
}

session "to-hq-ppp" {
    tunnel "to-hq"
    pseudowire_profile_name "site"
}
"#;

const USERS_FILE: &str = "\
# client   server  secret           address
carol      *       \"carol-pw-5530\"  203.0.113.6
dave       l2tpd   dave-pw-7782     -
alice      *       other-pw         *
";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `env`'s config file with `CONFIG` (and `more`), and its users file with `users`.
fn write(env: &Env, more: &str, users: &str) {
    let users_path = env.dir.join("chap-secrets");
    std::fs::write(&users_path, users).unwrap();
    let rest = format!("{CONFIG}{more}").replace("USERS", &users_path.display().to_string());
    env.write_config("    dataplane none\n", &rest);
}

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s} in {what}:\n{text}");
    }
}

#[test]
fn a_dry_run_checks_the_ppp_config_and_its_users_file() {
    let env = Env::new(l2tpd(), "ppp-dry");
    write(&env, INSTANCES, USERS_FILE);
    let conf = env.conf();
    let o = env.run(&["-n", "-c", conf.to_str().unwrap()]);
    let (out, err) = (stdout(&o), redact(&stderr(&o), &env.dir));
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("config OK"), "{out}");
    // The warnings, with their locations: pppd_options where pppd does not run, and the line
    // of the users file that the `user` block shadows.
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(
        warnings[0].starts_with("l2tpd: [DIR]/l2tpd.conf:")
            && warnings[0].contains(
                "warning: user `alice` is also in users file [DIR]/chap-secrets (line 4)"
            ),
        "{err}"
    );
    assert!(
        warnings[1].contains("warning: `pppd_options` has no effect: pseudowire profile `site`"),
        "{err}"
    );
    assert_no_secret("the dry run's output", &format!("{out}{err}"));
    assert!(!err.contains("other-pw"), "{err}");
}

#[test]
fn a_dry_run_rejects_bad_users_files_and_bad_ppp_settings() {
    let env = Env::new(l2tpd(), "ppp-dry-bad");
    let conf = env.conf();
    let conf = conf.to_str().unwrap();

    // A problem in the users file: its file and line, never the line itself.
    write(
        &env,
        "",
        "carol * \"carol-pw-5530\" 203.0.113.6 203.0.113.7\n",
    );
    let o = env.run(&["-n", "-c", conf]);
    let err = redact(&stderr(&o), &env.dir);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "[DIR]/chap-secrets:1: error: user `carol` has 2 words after the secret: only one \
             address, `*` or `-` is supported"
        ),
        "{err}"
    );
    assert_no_secret("the dry run's output", &err);

    // A users file that is not there.
    write(&env, "", USERS_FILE);
    std::fs::remove_file(env.dir.join("chap-secrets")).unwrap();
    let o = env.run(&["-n", "-c", conf]);
    let err = redact(&stderr(&o), &env.dir);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: cannot read users file [DIR]/chap-secrets"),
        "{err}"
    );

    // The checks of the config: an unknown pool, no way to authenticate, a pool overlapping
    // another, an address in a pool, two users with one address.
    let more = "ppp profile \"bad\" {\n    ip_pool_name \"nope\"\n    auth_mschapv2 false\n    \
                auth_chap false\n    local_ip_addr 203.0.113.50\n    multilink true\n    \
                chap_max_challenge 0\n}\n\
                ip pool \"overlap\" {\n    ranges 203.0.113.90-203.0.113.110\n}\n\
                user \"erin\" {\n    password x\n    ip_addr 203.0.113.6\n}\n";
    write(&env, more, USERS_FILE);
    let o = env.run(&["-n", "-c", conf]);
    let err = redact(&stderr(&o), &env.dir);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for needle in [
        "unknown ip pool `nope`",
        "ppp profile `bad` allows no way to authenticate the peer",
        "ppp profile `bad`: `multilink true` is not supported: Multilink PPP (RFC 1990) is not \
         implemented",
        "value `0` is out of range: expected a number from 1 to 255",
        "of ip pool `overlap` overlaps",
        "`local_ip_addr` 203.0.113.50 is in ip pool `customers`",
        "[DIR]/chap-secrets:2: error: 203.0.113.6 is the fixed address of both user `erin` and \
         user `carol`",
    ] {
        assert!(err.contains(needle), "`{needle}` not in:\n{err}");
    }
    assert!(err.contains("problem(s) found"), "{err}");
}

#[test]
fn the_daemon_shows_applies_and_keeps_its_ppp_config() {
    let mut env = Env::new(l2tpd(), "ppp-run");
    write(&env, "", USERS_FILE);
    env.start(&["-d", "-d", "-d"]);

    // The settings, after inheritance, with the password redacted.
    let answer = env
        .raw_line(&l2tp_ctl::encode_request(&Request::ShowProfile {
            kind: ProfileKind::Ppp,
            name: "site".into(),
        }))
        .unwrap();
    assert!(answer.contains("<redacted>"), "{answer}");
    assert_no_secret("an answer", &answer);
    let Ok(Response::Profile(lns)) = env.request(&Request::ShowProfile {
        kind: ProfileKind::Ppp,
        name: "lns".into(),
    }) else {
        panic!("no ppp profile lns");
    };
    let get = |k: &str| lns.settings.get(k).cloned().flatten();
    assert_eq!(
        get("dns_addr_2"),
        Some(SettingValue::Text("192.0.2.54".into()))
    );
    assert_eq!(get("mru"), Some(SettingValue::Number(1460)));
    assert_eq!(get("chap_restart"), Some(SettingValue::Number(5)));
    assert_eq!(get("ipcp_max_cfg_naks"), Some(SettingValue::Number(7)));
    assert_eq!(get("chap_interval"), Some(SettingValue::Number(0)));
    assert_eq!(
        get("ip_pool_name"),
        Some(SettingValue::Text("customers".into()))
    );
    let Ok(Response::Profiles(all)) = env.request(&Request::ShowProfiles {
        kind: ProfileKind::Ppp,
    }) else {
        panic!("no ppp profiles");
    };
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["default", "lns", "site"]);
    let Ok(Response::IpPools(pools)) = env.request(&Request::ShowIpPools) else {
        panic!("no pools");
    };
    let sizes: Vec<(&str, u64)> = pools.iter().map(|p| (p.name.as_str(), p.size)).collect();
    assert_eq!(sizes, [("customers", 90 + 51), ("spare", 1)]);
    let e = env.request(&Request::ShowIpPool { name: "x".into() });
    assert_eq!(e.map_err(|e| e.kind).err(), Some(ErrorKind::NotFound));

    // A reload that changes a PPP profile, a pool and the users file.
    let changed = USERS_FILE.replace("dave-pw-7782", "dave-pw-new");
    write(&env, "", &changed);
    let new = std::fs::read_to_string(env.conf())
        .unwrap()
        .replace("mru 1460", "mru 1400")
        .replace(
            "ranges 203.0.113.100\n",
            "ranges 203.0.113.100-203.0.113.101\n",
        );
    std::fs::write(env.conf(), new).unwrap();
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("config reloaded");
    for needle in [
        "ppp profile \"lns\" changed",
        "ip pool \"spare\" changed",
        "user \"dave\" changed",
    ] {
        assert!(log.contains(needle), "`{needle}` not in:\n{log}");
    }
    assert!(!log.contains("user \"carol\""), "{log}");
    let Ok(Response::IpPool(spare)) = env.request(&Request::ShowIpPool {
        name: "spare".into(),
    }) else {
        panic!("no pool spare");
    };
    assert_eq!(spare.size, 2);

    // A users file gone bad: the reload is refused, naming its line, and the config kept.
    std::fs::write(env.dir.join("chap-secrets"), "carol * \"carol-pw-5530\n").unwrap();
    env.signal(Signal::SIGHUP);
    let log = env.wait_log("keeping the running config");
    assert!(
        log.contains("chap-secrets:1: error: unterminated quote"),
        "{log}"
    );
    let e = env.request(&Request::Reload).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidConfig);
    assert!(e.message.contains("chap-secrets:1: error"), "{}", e.message);
    assert_no_secret("the reload's answer", &e.message);
    let Ok(Response::IpPool(spare)) = env.request(&Request::ShowIpPool {
        name: "spare".into(),
    }) else {
        panic!("no pool spare");
    };
    assert_eq!(spare.size, 2, "the running config is kept");

    let log = env.log_text();
    assert!(
        log.contains("warning") && log.contains("`pppd_options` has no effect"),
        "{log}"
    );
    assert_no_secret("the log", &log);
    assert!(!log.contains("dave-pw-new"), "{log}");
}
