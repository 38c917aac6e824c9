//! RADIUS in the config: `radius server` and `dynauth client` blocks, the `radius_*` parameters
//! of the `system` block, how ppp profiles use RADIUS, the checks of `l2tpd -n`, the reload
//! diff, and secrets kept out of `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use l2tp_config::{AuthSource, Config, Severity, diff, parse};

fn ok(source: &str) -> Config {
    match parse("test.conf", source) {
        Ok(c) => c,
        Err(diags) => panic!("{}", l2tp_config::render_all(&diags, source)),
    }
}

/// The messages of the errors of `source`, which must not parse.
fn errors(source: &str) -> Vec<String> {
    match parse("test.conf", source) {
        Ok(_) => panic!("accepted:\n{source}"),
        Err(d) => d
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .map(|d| d.message().to_owned())
            .collect(),
    }
}

const LNS: &str = r#"
system {
    radius_nas_identifier "lns-1"
    radius_nas_ip_address 192.0.2.3
    radius_dynauth_listen 192.0.2.3, [2001:db8::3]:4799
    radius_max_queued_accounting 500
}

radius server "primary" {
    address 192.0.2.10
    secret "s3cret-one"
    priority 1
}

radius server "backup" {
    address 2001:db8::10
    secret hex:0102030405
    priority 2
    timeout 5
    retries 1
    dead_time 60
    max_outstanding 64
    acct_port 0
    status_server true
}

radius server "acct-only" {
    address 192.0.2.11
    secret "s3cret-two"
    auth_port 0
    acct_port 1646
    require_message_authenticator false
}

dynauth client "coa" {
    address 192.0.2.10
    secret "dae-secret"
}

ppp profile "default" {
    auth_source radius_then_local
    radius_accounting true
    acct_interim_interval 300
}

ppp profile "local" {
    auth_source local
    radius_accounting false
}
"#;

#[test]
fn servers_clients_and_profiles_are_read() {
    let c = ok(LNS);
    let sys = c.system();
    assert_eq!(sys.radius_nas_identifier.as_deref(), Some("lns-1"));
    assert_eq!(
        sys.radius_nas_ip_address,
        Some("192.0.2.3".parse::<IpAddr>().unwrap())
    );
    let listen: Vec<SocketAddr> = vec![
        "192.0.2.3:3799".parse().unwrap(),
        "[2001:db8::3]:4799".parse().unwrap(),
    ];
    assert_eq!(sys.radius_dynauth_listen, listen);
    assert_eq!(sys.radius_max_queued_accounting, 500);
    assert_eq!(sys.radius_max_queued_access, 10_000);
    assert!(sys.radius_accounting_on_off);

    let names: Vec<&str> = c.radius_servers().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["primary", "backup", "acct-only"]);
    let p = c.radius_server("primary").unwrap();
    assert_eq!(p.auth_address(), Some("192.0.2.10:1812".parse().unwrap()));
    assert_eq!(p.acct_address(), Some("192.0.2.10:1813".parse().unwrap()));
    assert_eq!(
        (p.settings.priority, p.timeout(), p.settings.retries),
        (1, Duration::from_secs(3), 2)
    );
    assert_eq!(
        (p.dead_time(), p.settings.max_outstanding),
        (Duration::from_secs(30), 256)
    );
    assert!(p.settings.require_message_authenticator);
    assert!(!p.settings.status_server, "off unless asked for");
    let b = c.radius_server("backup").unwrap();
    assert_eq!(
        b.auth_address(),
        Some("[2001:db8::10]:1812".parse().unwrap())
    );
    assert_eq!(b.acct_address(), None);
    assert!(b.settings.status_server);
    assert_eq!(
        b.settings.secret.as_ref().unwrap().as_bytes(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        (b.timeout(), b.settings.retries),
        (Duration::from_secs(5), 1)
    );
    let a = c.radius_server("acct-only").unwrap();
    assert_eq!(a.auth_address(), None);
    assert_eq!(a.acct_address(), Some("192.0.2.11:1646".parse().unwrap()));
    assert!(!a.settings.require_message_authenticator);

    let coa = c.dynauth_client("coa").unwrap();
    assert_eq!(coa.settings.address, Some("192.0.2.10".parse().unwrap()));
    assert!(!coa.settings.require_message_authenticator);

    let d = c.ppp_profile_settings("default").unwrap();
    assert_eq!(d.auth_source, AuthSource::RadiusThenLocal);
    assert!(d.auth_source.uses_radius());
    assert!(d.radius_accounting);
    assert_eq!(d.acct_interim_interval, 300);
    let l = c.ppp_profile_settings("local").unwrap();
    assert_eq!(l.auth_source, AuthSource::Local);
    assert!(!l.radius_accounting);
    // Inherited from the default profile.
    assert_eq!(l.acct_interim_interval, 300);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn an_empty_file_uses_local_users_and_no_radius() {
    let c = ok("");
    assert!(c.radius_servers().is_empty() && c.dynauth_clients().is_empty());
    let d = c.ppp_profile_settings("default").unwrap();
    assert_eq!(d.auth_source, AuthSource::Local);
    assert!(!d.radius_accounting);
    assert!(c.system().radius_dynauth_listen.is_empty());
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let c = ok(LNS);
    let text = format!("{c:?}");
    for secret in ["s3cret-one", "s3cret-two", "dae-secret"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn missing_and_conflicting_settings_are_errors() {
    let e = errors("radius server \"r\" {\n priority 1\n}\n");
    assert!(e.iter().any(|m| m.contains("has no `address`")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("has no `secret`")), "{e:?}");

    let e = errors(
        "radius server \"r\" {\n address 192.0.2.1\n secret x\n auth_port 0\n acct_port 0\n}\n",
    );
    assert!(e.iter().any(|m| m.contains("serves nothing")), "{e:?}");

    let e = errors(
        "radius server \"a\" {\n address 192.0.2.1\n secret x\n}\n\
         radius server \"b\" {\n address 192.0.2.1\n secret y\n acct_port 1646\n}\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("authentication address 192.0.2.1:1812 of radius server `a`"),
        "{e:?}"
    );

    let e = errors(
        "dynauth client \"a\" {\n address 192.0.2.1\n secret x\n}\n\
         dynauth client \"b\" {\n address 192.0.2.1\n}\n\
         system {\n radius_dynauth_listen 192.0.2.3\n}\n",
    );
    assert!(
        e.iter().any(|m| m.contains("address 192.0.2.1 of `a`")),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.contains("has no `secret`")), "{e:?}");

    let e = errors("ppp profile \"default\" {\n auth_source radius\n}\n");
    assert!(
        e.iter()
            .any(|m| m.contains("no `radius server` authenticates")),
        "{e:?}"
    );
    let e = errors(
        "radius server \"r\" {\n address 192.0.2.1\n secret x\n acct_port 0\n}\n\
         ppp profile \"p\" {\n radius_accounting true\n}\n",
    );
    assert!(
        e.iter().any(|m| m.contains("no `radius server` takes it")),
        "{e:?}"
    );
    let e = errors("ppp profile \"p\" {\n acct_interim_interval 5\n}\n");
    assert!(e.iter().any(|m| m.contains("too short")), "{e:?}");
    let e =
        errors("radius server \"r\" {\n address 192.0.2.1\n secret x\n status_server maybe\n}\n");
    assert!(
        e.iter().any(|m| m.contains("found `maybe`")),
        "a non-boolean status_server is refused: {e:?}"
    );
    let e = errors("ppp profile \"p\" {\n auth_source ldap\n}\n");
    assert!(
        e.iter()
            .any(|m| m.contains("`local`, `radius` or `radius_then_local`")),
        "{e:?}"
    );
}

#[test]
fn an_interim_interval_under_a_minute_is_a_warning() {
    let c = ok("ppp profile \"p\" {\n acct_interim_interval 30\n}\n");
    assert!(
        c.warnings()[0].message().contains("RFC 2869"),
        "{:?}",
        c.warnings()
    );
}

#[test]
fn dynamic_authorization_without_its_other_half_is_a_warning() {
    let c = ok("system {\n radius_dynauth_listen 192.0.2.3\n}\n");
    assert!(
        c.warnings()[0].message().contains("no `dynauth client`"),
        "{:?}",
        c.warnings()
    );
    let c = ok("dynauth client \"d\" {\n address 192.0.2.1\n secret x\n}\n");
    assert!(
        c.warnings()[0]
            .message()
            .contains("sets no `radius_dynauth_listen`"),
        "{:?}",
        c.warnings()
    );
}

#[test]
fn a_reload_names_the_servers_and_clients_that_changed() {
    let old = ok(LNS);
    let new_text = LNS
        .replace("priority 2\n", "priority 3\n")
        .replace("radius server \"acct-only\"", "radius server \"acct-2\"");
    let new = ok(&new_text);
    let d = diff(&old, &new);
    assert_eq!(d.radius_servers.changed, ["backup"]);
    assert_eq!(d.radius_servers.added, ["acct-2"]);
    assert_eq!(d.radius_servers.removed, ["acct-only"]);
    assert_eq!(d.radius_servers.unchanged, ["primary"]);
    assert!(d.dynauth_clients.is_empty());
    assert!(!d.is_empty());
    assert!(diff(&old, &old).is_empty());
    // Turning Status-Server probes on is a change of the server like any other.
    let probed = ok(&LNS.replace(
        "secret \"s3cret-one\"\n",
        "secret \"s3cret-one\"\n    status_server true\n",
    ));
    assert_eq!(diff(&old, &probed).radius_servers.changed, ["primary"]);
}

/// `radius_dynauth_require_event_timestamp`: off unless set, a boolean.
#[test]
fn dynauth_may_require_event_timestamp() {
    assert!(!ok(LNS).system().radius_dynauth_require_event_timestamp);
    let on = LNS.replace(
        "    radius_max_queued_accounting 500\n",
        "    radius_max_queued_accounting 500\n    radius_dynauth_require_event_timestamp true\n",
    );
    assert!(ok(&on).system().radius_dynauth_require_event_timestamp);
    let bad = LNS.replace(
        "    radius_max_queued_accounting 500\n",
        "    radius_max_queued_accounting 500\n    radius_dynauth_require_event_timestamp maybe\n",
    );
    assert_eq!(
        errors(&bad),
        ["expected a boolean (true or false), found `maybe`"]
    );
}

/// `radius_dynauth_require_event_timestamp` without `radius_dynauth_listen` has no requests to
/// check: a warning, as for the other dynamic authorization settings alone.
#[test]
fn requiring_event_timestamp_without_dynauth_listen_is_a_warning() {
    let c = ok("system {\n radius_dynauth_require_event_timestamp true\n}\n");
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
    assert!(
        c.warnings()[0]
            .message()
            .contains("`radius_dynauth_require_event_timestamp` is set but"),
        "{:?}",
        c.warnings()
    );
    let with_listen = "system {\n radius_dynauth_listen 192.0.2.3\n \
                       radius_dynauth_require_event_timestamp true\n}\n\
                       dynauth client \"d\" {\n address 192.0.2.1\n secret x\n}\n";
    assert!(
        ok(with_listen).warnings().is_empty(),
        "{:?}",
        ok(with_listen).warnings()
    );
    let off = "system {\n radius_dynauth_require_event_timestamp false\n}\n";
    assert!(ok(off).warnings().is_empty(), "{:?}", ok(off).warnings());
}
