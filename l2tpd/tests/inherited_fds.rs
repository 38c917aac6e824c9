//! Descriptors l2tpd inherits from the process that starts it (a shell's redirection, a
//! supervisor's pipe) do not reach the programs it starts: a user script sees only its
//! standard input, output and error (l2tpd(8), START-UP AND SHUTDOWN).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::{Env, l2tpd, start_with_tunnel_created_script};

/// The descriptors a script's `ls -l /proc/self/fd` lists, without the one `ls` reads the
/// listing through.
fn script_fds(listing: &str) -> Vec<(u32, String)> {
    listing
        .lines()
        .filter_map(|l| {
            let (left, target) = l.split_once(" -> ")?;
            let fd = left.rsplit(' ').next()?.parse().ok()?;
            let own = target.starts_with("/proc/") && target.ends_with("/fd");
            (!own).then(|| (fd, target.to_owned()))
        })
        .collect()
}

#[test]
fn a_script_inherits_only_its_standard_streams() {
    // Left open without close-on-exec, as a parent's stray descriptors are; the daemon
    // inherits them.
    let (rd, wr) = nix::unistd::pipe().unwrap();
    let mut env = Env::new(l2tpd(), "inherited-fds");
    let out = env.dir.join("fds");
    // A peer that never answers: the tunnel is created all the same.
    start_with_tunnel_created_script(
        &mut env,
        &format!(
            "ls -l /proc/self/fd > \"{o}.tmp\"\nmv \"{o}.tmp\" \"{o}\"\n",
            o = out.display()
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let listing = loop {
        if let Ok(text) = std::fs::read_to_string(&out) {
            break text;
        }
        assert!(Instant::now() < deadline, "tunnel-created did not run");
        std::thread::sleep(Duration::from_millis(20));
    };
    let fds = script_fds(&listing);
    let mut numbers: Vec<u32> = fds.iter().map(|(fd, _)| *fd).collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        vec![0, 1, 2],
        "the script holds more than its standard streams (the test's pipe is {} and {}):\n{listing}",
        rd.as_raw_fd(),
        wr.as_raw_fd()
    );
}
