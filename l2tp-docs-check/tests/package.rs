//! The files the Debian package installs besides the programs and pages: the configuration
//! file `dist/l2tpd.conf` (as `/etc/l2tpd/l2tpd.conf`) and the logrotate snippet
//! `dist/l2tpd.logrotate`. `scripts/package-test.sh` builds and installs the package itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use l2tp_config::System;
use l2tp_docs_check::{read, repo_root};

#[test]
fn the_installed_config_is_valid_and_starts_nothing() {
    let path = repo_root().join("dist/l2tpd.conf");
    let config = l2tp_config::load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
    assert!(
        config.tunnels().is_empty() && config.sessions().is_empty(),
        "the installed config must open no tunnel and no session"
    );
    assert!(
        config.system().deny_remote_tunnel_creates,
        "the installed config must refuse the tunnels peers ask for"
    );
    // The paths are the defaults, which the unit, l2tpd(8) and the logrotate snippet name.
    let defaults = System::default();
    assert_eq!(config.system().pid_file, defaults.pid_file);
    assert_eq!(config.system().control_socket, defaults.control_socket);
}

/// The config with its commented-out settings and blocks switched on: `#word` and `#    word`
/// lines lose their `#`, prose comments (`# word`) stay.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if !rest.is_empty() && !rest.starts_with(' ') => rest,
            Some(rest) if rest.starts_with("    ") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_commented_examples_of_the_installed_config_are_valid() {
    let text = read("dist/l2tpd.conf");
    let on = uncommented(&text).replace("deny_remote_tunnel_creates true", "");
    assert_ne!(on, text);
    let config = l2tp_config::parse("l2tpd.conf", &on).unwrap_or_else(|d| {
        panic!(
            "the commented examples do not parse:\n{}",
            l2tp_config::render_all(&d, &on)
        )
    });
    assert_eq!(config.tunnels().len(), 1, "the example tunnel");
    assert_eq!(config.sessions().len(), 1, "the example session");
    assert!(!config.system().deny_remote_tunnel_creates);
}

#[test]
fn logrotate_signals_the_daemon_named_by_its_default_pid_file() {
    let text = read("dist/l2tpd.logrotate");
    let pid_file = System::default().pid_file.display().to_string();
    assert!(
        text.contains(&format!("kill -USR1 \"$(cat {pid_file})\"")),
        "{text}"
    );
    for directive in ["missingok", "notifempty", "postrotate", "endscript"] {
        assert!(
            text.lines().any(|l| l.trim() == directive),
            "dist/l2tpd.logrotate lacks {directive}"
        );
    }
    // SIGUSR1 is what l2tpd(8) says re-opens the log file.
    let page = read("man/l2tpd.8");
    let signals = page.split(".SH SIGNALS").nth(1).unwrap();
    let usr1 = signals.split(".B SIGUSR1").nth(1).unwrap();
    assert!(
        usr1.split(".TP")
            .next()
            .unwrap()
            .contains("open the log file again")
    );
}
