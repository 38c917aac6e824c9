//! l2tpns (Debian package `l2tpns`), an LNS with its own userspace PPP, as a real peer: it
//! authenticates every session with RADIUS (FreeRADIUS on 127.0.0.1 of its namespace, with
//! the modules and policy of `examples/radius`, l2tpns as its client and one user of the
//! test's) and gives addresses from its pool.
//!
//! This writes the configurations and gives the commands; the test runs them in its
//! namespace, FreeRADIUS first, and waits for [`crate::freeradius::READY`] in FreeRADIUS's
//! output and [`MASTER`] in l2tpns's own log.

use std::path::{Path, PathBuf};

/// What l2tpns logs once it is the master of its cluster (and so takes calls).
pub const MASTER: &str = "I am declaring myself the master";

/// The TUN device l2tpns needs.
pub const TUN: &str = "/dev/net/tun";

/// Makes `conf` the FreeRADIUS configuration for l2tpns: `examples/radius` listening on
/// 127.0.0.1, the client l2tpns with `secret` (it sends no Message-Authenticator) and one
/// user, `user` with `password`, without an address of its own, so that l2tpns gives one
/// from its pool.
pub fn configure_freeradius(conf: &Path, secret: &str, user: &str, password: &str) {
    crate::freeradius::configure(conf, "127.0.0.1");
    let clients = format!(
        "client l2tpns {{\n\tipaddr = 127.0.0.1\n\tsecret = \"{secret}\"\n\t\
         require_message_authenticator = no\n\tnas_type = other\n}}\n"
    );
    let users = format!(
        "{user}\tCleartext-Password := \"{password}\"\n\t\tService-Type = Framed-User,\n\
         \t\tFramed-Protocol = PPP\n"
    );
    for (name, text) in [("clients.conf", clients), ("users", users)] {
        std::fs::write(conf.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// How an l2tpns is set up.
#[derive(Clone, Debug)]
pub struct Config<'a> {
    /// The address it takes L2TP on.
    pub bind_address: &'a str,
    /// The RADIUS secret it shares with FreeRADIUS on 127.0.0.1.
    pub radius_secret: &'a str,
    /// `chap`, `pap` or both, in the order it asks for them.
    pub authtypes: &'a str,
    /// Its address pool, e.g. `198.51.100.0/24`.
    pub pool: &'a str,
    /// More `set NAME VALUE` lines of its `startup-config`.
    pub extra: &'a str,
}

/// An l2tpns ready to start: its command and its own log (`log_file`).
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The command, to run in the namespace.
    pub argv: Vec<String>,
    /// Its own log.
    pub log: PathBuf,
}

/// Writes l2tpns's configuration under `dir` (`l2tpns/`, its log `l2tpns-own.log` and pid
/// file beside it): debug logs, RADIUS on 127.0.0.1 without accounting, its CLI on
/// 127.0.0.1, a quick cluster election on the loopback, the TUN `tun0`. Its command, run
/// with `ip netns exec` (which gives it a mount namespace of its own), bind-mounts that
/// directory over `/etc/l2tpns` (it reads `ip_pool` from there) and runs l2tpns in a process
/// group of its own (it signals its whole group when it stops).
pub fn prepare(dir: &Path, c: &Config<'_>) -> Prepared {
    let etc = dir.join("l2tpns");
    std::fs::create_dir_all(&etc).unwrap_or_else(|e| panic!("{}: {e}", etc.display()));
    let log = dir.join("l2tpns-own.log");
    let config = format!(
        "set debug 3\n\
         set log_file \"{}\"\n\
         set pid_file \"{}\"\n\
         set bind_address {}\n\
         set primary_dns 198.51.100.53\n\
         set primary_radius 127.0.0.1\n\
         set radius_secret \"{}\"\n\
         set radius_accounting no\n\
         set radius_authtypes \"{}\"\n\
         set cli_bind_address 127.0.0.1\n\
         set cluster_interface lo\n\
         set cluster_hb_interval 2\n\
         set cluster_hb_timeout 10\n\
         set tundevicename tun0\n\
         {}",
        log.display(),
        dir.join("l2tpns.pid").display(),
        c.bind_address,
        c.radius_secret,
        c.authtypes,
        c.extra,
    );
    for (name, text) in [
        ("startup-config", config),
        ("ip_pool", format!("{}\n", c.pool)),
        ("users", String::new()),
    ] {
        std::fs::write(etc.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let script = format!(
        "mkdir -p /etc/l2tpns && mount --bind {} /etc/l2tpns && \
         exec l2tpns -c /etc/l2tpns/startup-config",
        etc.display()
    );
    Prepared {
        argv: ["setsid", "sh", "-c", &script]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        log,
    }
}

/// The addresses l2tpns's log `text` says it gave `user`, one per login (`Login by USER at
/// ADDR from ...`).
pub fn logins(text: &str, user: &str) -> Vec<String> {
    let needle = format!("Login by {user} at ");
    text.lines()
        .filter_map(|l| l.split_once(&needle))
        .filter_map(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
        .collect()
}
