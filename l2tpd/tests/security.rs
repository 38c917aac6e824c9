//! The control socket's permissions are enforced: `l2tpctl` run as a user who is not root is
//! refused, unless the user is in `control_socket_group` (as primary or supplementary group).
//! The test switches user with `setpriv`, so it must run as root (CI does); it fails otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Command, Output};

use common::{Env, l2tpd, spawn_piped, wait_output};

/// `nobody` and `nogroup` on Debian; the ids need no passwd entry.
const NOBODY: u32 = 65_534;
const GROUP: &str = "nogroup";
const GROUP_ID: u32 = 65_534;
/// A group id that nothing gives access to.
const OTHER_GID: u32 = 54_321;

fn l2tpctl() -> PathBuf {
    let p = PathBuf::from(l2tpd()).with_file_name("l2tpctl");
    assert!(
        p.exists(),
        "{} not found: build it with cargo test -p l2tpd -p l2tpctl (or --workspace)",
        p.display()
    );
    p
}

fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test switches to an unprivileged user and must run as root (CI runs it as root)"
    );
    assert!(
        std::path::Path::new("/usr/bin/setpriv").exists(),
        "setpriv (util-linux) is not installed"
    );
}

/// Runs `l2tpctl -S SOCK show system` as uid `uid`, gid `gid`, supplementary `groups`.
fn l2tpctl_as(env: &Env, uid: u32, gid: u32, groups: &[u32]) -> Output {
    let mut cmd = Command::new("/usr/bin/setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"));
    if groups.is_empty() {
        cmd.arg("--clear-groups");
    } else {
        let list: Vec<String> = groups.iter().map(u32::to_string).collect();
        cmd.arg(format!("--groups={}", list.join(",")));
    }
    wait_output(spawn_piped(
        cmd.arg(l2tpctl())
            .arg("-S")
            .arg(env.sock())
            .args(["show", "system"]),
    ))
}

fn refused(out: &Output, who: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{who}: {out:?}");
    assert!(stderr.contains("ermission denied"), "{who}: {stderr}");
}

fn accepted(out: &Output, who: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{who}: {out:?}");
    assert!(stdout.contains("statistics:"), "{who}: {stdout}");
}

#[test]
fn without_a_group_only_root_may_use_the_control_socket() {
    require_root();
    let mut env = Env::new(l2tpd(), "perm-root");
    env.write_config("    dataplane none\n", "");
    env.start(&[]);
    let m = std::fs::metadata(env.sock()).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o600);
    accepted(&l2tpctl_as(&env, 0, 0, &[]), "root");
    refused(&l2tpctl_as(&env, NOBODY, NOBODY, &[]), "nobody");
    refused(
        &l2tpctl_as(&env, NOBODY, GROUP_ID, &[GROUP_ID]),
        "nobody in nogroup (no control_socket_group)",
    );
}

#[test]
fn control_socket_group_members_may_use_it_and_others_may_not() {
    require_root();
    let mut env = Env::new(l2tpd(), "perm-group");
    env.write_config(
        &format!("    dataplane none\n    control_socket_group {GROUP}\n"),
        "",
    );
    env.start(&[]);
    let m = std::fs::metadata(env.sock()).unwrap();
    assert_eq!(m.permissions().mode() & 0o777, 0o660);
    assert_eq!(m.gid(), GROUP_ID);
    accepted(&l2tpctl_as(&env, 0, 0, &[]), "root");
    accepted(
        &l2tpctl_as(&env, NOBODY, GROUP_ID, &[]),
        "nobody with the group as its primary group",
    );
    accepted(
        &l2tpctl_as(&env, NOBODY, OTHER_GID, &[GROUP_ID]),
        "nobody with the group as a supplementary group",
    );
    refused(
        &l2tpctl_as(&env, NOBODY, OTHER_GID, &[]),
        "nobody outside the group",
    );
}

/// A member of `control_socket_group` holding [`MAX_PER_USER`] connections (watchers) gets no
/// more, while root still does.
#[test]
fn one_user_cannot_take_every_control_slot() {
    const MAX_PER_USER: usize = 16;
    require_root();
    let mut env = Env::new(l2tpd(), "perm-slots");
    env.write_config(
        &format!("    dataplane none\n    control_socket_group {GROUP}\n"),
        "",
    );
    env.start(&[]);
    let watch = PathBuf::from(l2tpd()).with_file_name("l2tpwatch");
    let spawn_watcher = || {
        Command::new("/usr/bin/setpriv")
            .arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={GROUP_ID}"))
            .arg("--clear-groups")
            .arg(&watch)
            .arg("-S")
            .arg(env.sock())
            .args(["-T", "60"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut watchers: Vec<std::process::Child> =
        (0..MAX_PER_USER).map(|_| spawn_watcher()).collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let refusal = loop {
        // A watcher that came while a probe below held a slot was refused: it has exited.
        for w in &mut watchers {
            if w.try_wait().ok().flatten().is_some() {
                *w = spawn_watcher();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = l2tpctl_as(&env, NOBODY, GROUP_ID, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            break stderr;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nobody still gets slots with {MAX_PER_USER} watchers"
        );
    };
    assert!(
        refusal.contains("too many control clients of this user"),
        "{refusal}"
    );
    accepted(
        &l2tpctl_as(&env, 0, 0, &[]),
        "root, while nobody holds its share",
    );
    for w in &mut watchers {
        let _ = w.kill();
        let _ = w.wait();
    }
    // The slots come back when the watchers go.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !l2tpctl_as(&env, NOBODY, GROUP_ID, &[]).status.success() {
        assert!(
            std::time::Instant::now() < deadline,
            "nobody's slots never came back"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
