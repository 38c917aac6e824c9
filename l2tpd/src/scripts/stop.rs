//! Stopping a user script that ran past its time limit: its process group (the script and what
//! it started that stayed in the group) gets SIGTERM, and SIGKILL a little later if any of it
//! is still there.

use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::time::Instant;

/// How a script that ran past its time limit was stopped.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Stopped {
    /// Its process group was gone within the grace that followed SIGTERM.
    Terminated,
    /// Some of it was still there after the grace: SIGKILL.
    Killed,
}

/// How often a stopped script's process group is looked at.
const POLL: Duration = Duration::from_millis(50);

/// Stops `child`, the leader of its own process group: SIGTERM to the group, then SIGKILL
/// `kill_after` later to whatever of it is still there. Returns once the leader is reaped.
pub(super) async fn process_group(child: &mut Child, kill_after: Duration) -> Stopped {
    // `None`: the leader was reaped already, and its id may belong to another process now.
    let Some(pgid) = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw)
    else {
        return Stopped::Terminated;
    };
    let _ = killpg(pgid, Signal::SIGTERM);
    let deadline = Instant::now() + kill_after;
    let leader_gone = tokio::time::timeout_at(deadline, child.wait())
        .await
        .is_ok();
    if leader_gone {
        // The leader is reaped, but the group's id cannot go to another process while any
        // member of the group is left: until the group is empty, `pgid` is still it.
        loop {
            if killpg(pgid, None).is_err() {
                return Stopped::Terminated;
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    if !leader_gone {
        let _ = child.wait().await;
    }
    Stopped::Killed
}
