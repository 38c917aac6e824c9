//! `dist/l2tpd.service`: its key settings (`Type=notify`, the watchdog, reload and stop, the
//! one configuration file of the start and the reload's check) agree
//! with `l2tpd(8)` and the config parser's defaults, and `systemd-analyze verify` accepts it where systemd-analyze is installed
//! (`L2TP_REQUIRE_SYSTEMD_ANALYZE=1` makes its absence a failure).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use l2tp_config::System;
use l2tp_docs_check::{UnitSetting, parse_unit, read, repo_root};

const UNIT: &str = "dist/l2tpd.service";
const DAEMON: &str = "/usr/sbin/l2tpd";
/// The configuration file l2tpd reads without `-c` (l2tpd(8)).
const DEFAULT_CONFIG: &str = "/etc/l2tpd/l2tpd.conf";

/// The options of `l2tpd` (interface.md): those that take a value, and those that do not.
const OPTIONS_WITH_VALUE: &[&str] = &["-c", "--config-file", "-o", "--log-file"];
const OPTIONS: &[&str] = &[
    "-h",
    "--help",
    "-v",
    "--version",
    "-f",
    "--foreground",
    "-n",
    "--dry-run",
    "-d",
    "--debug",
];

fn unit() -> Vec<UnitSetting> {
    parse_unit(&read(UNIT))
}

fn values<'a>(unit: &'a [UnitSetting], section: &str, key: &str) -> Vec<&'a str> {
    unit.iter()
        .filter(|s| s.section == section && s.key == key)
        .map(|s| s.value.as_str())
        .collect()
}

fn one<'a>(unit: &'a [UnitSetting], section: &str, key: &str) -> &'a str {
    match values(unit, section, key).as_slice() {
        [v] => v,
        other => panic!("{UNIT}: expected one {key}= in [{section}], found {other:?}"),
    }
}

/// The variables the unit's `Environment=` lines set, in order (a later one wins).
fn environment(unit: &[UnitSetting]) -> Vec<(String, String)> {
    values(unit, "Service", "Environment")
        .iter()
        .flat_map(|v| v.split_whitespace())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `command` with each `${NAME}` replaced by its value in `env`, as systemd does.
fn expand(command: &str, env: &[(String, String)]) -> String {
    env.iter().rev().fold(command.to_owned(), |c, (k, v)| {
        c.replace(&format!("${{{k}}}"), v)
    })
}

/// The file an `l2tpd` command line reads: its `-c` (or `--config-file`), else the default.
fn config_file(command: &str) -> &str {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "-c" || w[0] == "--config-file")
        .map_or(DEFAULT_CONFIG, |w| w[1])
}

/// The options of an `l2tpd` command line, checked against the contract.
fn daemon_options(command: &str) -> Vec<&str> {
    let mut words = command.split_whitespace();
    assert_eq!(
        words.next(),
        Some(DAEMON),
        "{UNIT}: `{command}` runs {DAEMON}"
    );
    let mut options = Vec::new();
    while let Some(w) = words.next() {
        if OPTIONS_WITH_VALUE.contains(&w) {
            let value = words.next().expect("an option value");
            assert!(
                value.starts_with('/') || value.starts_with("${"),
                "{UNIT}: `{w} {value}` needs an absolute path"
            );
        } else {
            assert!(
                OPTIONS.contains(&w),
                "{UNIT}: `{w}` is not an option of l2tpd(8)"
            );
        }
        options.push(w);
    }
    options
}

#[test]
fn the_unit_starts_reloads_and_stops_l2tpd_as_documented() {
    let unit = unit();
    let system = System::default();

    // Type=notify: l2tpd stays in the foreground (the process systemd started is the one that
    // notifies) and says READY=1 itself. Not notify-reload: Debian 12's systemd (252) lacks it.
    assert_eq!(one(&unit, "Service", "Type"), "notify");
    let start = daemon_options(one(&unit, "Service", "ExecStart"));
    assert!(
        start.contains(&"-f") || start.contains(&"--foreground"),
        "{UNIT}: with Type=notify l2tpd must not fork, so -f"
    );
    assert!(!start.contains(&"-n") && !start.contains(&"--dry-run"));
    // The main process notifies; nothing else (pppd, scripts) may.
    assert!(
        values(&unit, "Service", "NotifyAccess")
            .iter()
            .all(|v| *v == "main"),
        "{UNIT}: NotifyAccess= other than main"
    );
    assert!(
        values(&unit, "Service", "PIDFile").is_empty(),
        "{UNIT}: no PIDFile= for a service that does not fork"
    );

    // The watchdog: l2tpd pings from its main loop every half of WatchdogSec=, which must leave
    // room for the loop's longest synchronous step (a netlink round trip, at most 3 s).
    let watchdog = one(&unit, "Service", "WatchdogSec");
    let secs: u64 = watchdog
        .strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{UNIT}: WatchdogSec={watchdog} is not in seconds (`30s`)"));
    assert!((10..=300).contains(&secs), "{UNIT}: WatchdogSec={watchdog}");
    assert_eq!(
        one(&unit, "Service", "Restart"),
        "on-failure",
        "a watchdog timeout counts as a failure, which restarts l2tpd"
    );

    // /run/l2tpd is the runtime directory, and holds the pid file and the control socket.
    let runtime = Path::new("/run").join(one(&unit, "Service", "RuntimeDirectory"));
    assert_eq!(runtime, Path::new("/run/l2tpd"));
    assert_eq!(system.pid_file.parent(), Some(runtime.as_path()));
    assert_eq!(system.control_socket.parent(), Some(runtime.as_path()));
    // It outlives a killed l2tpd, whose kernel state file (l2tpd(8), FILES) the next one
    // started by Restart= reads: by default systemd removes it whenever the service stops,
    // failed or not.
    assert_eq!(
        one(&unit, "Service", "RuntimeDirectoryPreserve"),
        "yes",
        "{UNIT}: /run/l2tpd/kernel-NETNS.state must survive a killed l2tpd"
    );
    assert!(read("man/l2tpd.8").contains("RuntimeDirectoryPreserve=yes"));

    // Reload: check the file, then SIGHUP.
    let reload = values(&unit, "Service", "ExecReload");
    let [check, hup] = reload.as_slice() else {
        panic!("{UNIT}: expected two ExecReload= lines, found {reload:?}")
    };
    let check_options = daemon_options(check);
    assert!(check_options.contains(&"-n") || check_options.contains(&"--dry-run"));
    let hup: Vec<&str> = hup.split_whitespace().collect();
    assert!(
        hup.first().is_some_and(|k| k.ends_with("/kill"))
            && hup.contains(&"-HUP")
            && hup.last() == Some(&"$MAINPID"),
        "{UNIT}: ExecReload= sends SIGHUP to the main process: {hup:?}"
    );

    // The check reads the file the daemon runs with: both lines name it by one variable,
    // which the unit sets to the default and a drop-in may change.
    let env = environment(&unit);
    let start_line = one(&unit, "Service", "ExecStart");
    assert_eq!(
        config_file(start_line),
        config_file(check),
        "{UNIT}: ExecStart= and the ExecReload= check read different files"
    );
    assert_eq!(
        config_file(start_line),
        "${L2TPD_CONFIG}",
        "{UNIT}: ExecStart= names its file by L2TPD_CONFIG, which a drop-in can change"
    );
    assert_eq!(
        config_file(&expand(start_line, &env)),
        DEFAULT_CONFIG,
        "{UNIT}: L2TPD_CONFIG is the default file"
    );
    assert!(read("man/l2tpd.8").contains("L2TPD_CONFIG"));
    let mut dropin = env.clone();
    dropin.push(("L2TPD_CONFIG".into(), "/etc/l2tpd/other.conf".into()));
    for line in [start_line, *check] {
        assert_eq!(
            config_file(&expand(line, &dropin)),
            "/etc/l2tpd/other.conf",
            "{UNIT}: a drop-in's L2TPD_CONFIG reaches `{line}`"
        );
    }

    // SIGTERM to l2tpd first, so that it closes its tunnels itself.
    assert_eq!(one(&unit, "Service", "KillMode"), "mixed");
}

#[test]
fn hardening_leaves_what_l2tpd_needs() {
    let unit = unit();
    let caps: Vec<&str> = one(&unit, "Service", "CapabilityBoundingSet")
        .split_whitespace()
        .collect();
    for cap in ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_MODULE"] {
        assert!(
            caps.contains(&cap),
            "{UNIT}: CapabilityBoundingSet= lacks {cap}"
        );
    }
    let families: Vec<&str> = one(&unit, "Service", "RestrictAddressFamilies")
        .split_whitespace()
        .collect();
    for family in ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PPPOX"] {
        assert!(
            families.contains(&family),
            "{UNIT}: RestrictAddressFamilies= lacks {family}"
        );
    }
    // Settings that would break the data plane, pppd or module loading.
    for (key, why) in [
        ("PrivateDevices", "/dev/ppp and /dev/net/tun"),
        ("ProtectKernelModules", "loading the L2TP modules"),
        ("PrivateNetwork", "the host's network"),
        ("DevicePolicy", "/dev/ppp and /dev/net/tun"),
        (
            "ProtectClock",
            "device access (it implies a device allow-list)",
        ),
        ("User", "root, for pppd and the user scripts"),
    ] {
        assert!(
            values(&unit, "Service", key).is_empty(),
            "{UNIT}: {key}= would take away {why}"
        );
    }
    let docs = one(&unit, "Unit", "Documentation");
    for page in ["man:l2tpd(8)", "man:l2tpd.conf(5)", "man:l2tpctl(1)"] {
        assert!(docs.contains(page), "{UNIT}: Documentation= lacks {page}");
    }
}

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "l2tp-docs-check-unit-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let available = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("L2TP_REQUIRE_SYSTEMD_ANALYZE").is_none(),
            "systemd-analyze is not installed (Debian package systemd)"
        );
        eprintln!("systemd-analyze is not installed; {UNIT} checked by parsing only");
        return;
    }

    // l2tpd is not installed here: point the unit at a stand-in, which verify requires to be
    // executable, and let `man` find our pages for the Documentation= check.
    let dir = scratch_dir();
    let stub = dir.join("l2tpd");
    std::fs::write(&stub, "#!/bin/sh\nexit 0\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let text = read(UNIT).replace(DAEMON, &stub.display().to_string());
    let unit_path = dir.join("l2tpd.service");
    std::fs::write(&unit_path, text).unwrap();
    let man = dir.join("man");
    for (section, page) in [
        ("man8", "l2tpd.8"),
        ("man5", "l2tpd.conf.5"),
        ("man1", "l2tpctl.1"),
    ] {
        std::fs::create_dir_all(man.join(section)).unwrap();
        std::fs::copy(
            repo_root().join("man").join(page),
            man.join(section).join(page),
        )
        .unwrap();
    }

    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit_path)
        .env("MANPATH", &man)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Verify loads the host's units too; what it says about another unit file installed on
    // this machine (`/lib/systemd/system/x.service:23: ...`) is not about ours.
    let ours = unit_path.display().to_string();
    let about_ours: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            let other_unit =
                l.starts_with('/') && l.split_once(':').is_some_and(|(path, _)| path != ours);
            !other_unit
        })
        .collect();
    assert!(
        out.status.success() && about_ours.is_empty(),
        "`systemd-analyze verify {UNIT}` reports:\n{stderr}{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
