//! Process limits raised at start-up.
//!
//! Each tunnel has its own connected UDP socket (two descriptors: the data plane's and the
//! shell's), so a daemon holding T tunnels needs about 2 T + 64 file descriptors. Tunnel
//! sockets are kept below the last [`SPARE_FDS`] descriptors ([`tunnel_fd_ceiling`]): a tunnel
//! that would take one of those uses the listen socket instead, so that the control socket
//! still accepts `l2tpctl` when the tunnels have taken everything else. The soft `RLIMIT_NOFILE` (often 1024) is raised to the hard limit;
//! if even the hard limit is below what the config asks for, that is logged. An operator who
//! expects more tunnels raises the hard limit (`LimitNOFILE=` in the systemd unit, or
//! `ulimit -Hn` before starting).

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors kept for everything but tunnel sockets: listen, control and log sockets,
/// control-socket clients, scripts' pipes.
pub const SPARE_FDS: u64 = 64;

/// Tunnels the descriptor limit leaves room for when the config sets no `max_tunnels`; below
/// this a warning is logged.
pub const WANT_TUNNELS: u64 = 60_000;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit in force.
/// `max_tunnels` (0: no limit) says how many tunnel sockets are wanted; a limit that leaves
/// room for fewer is logged as a warning.
pub fn raise_nofile(max_tunnels: u32) -> Option<u64> {
    let want = match max_tunnels {
        0 => WANT_TUNNELS,
        n => u64::from(n),
    } * 2
        + SPARE_FDS;
    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("cannot read RLIMIT_NOFILE: {e}");
            return None;
        }
    };
    let mut limit = soft;
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => limit = hard,
            Err(e) => tracing::warn!("cannot raise RLIMIT_NOFILE from {soft} to {hard}: {e}"),
        }
    }
    if limit < want {
        tracing::warn!(
            "RLIMIT_NOFILE is {limit}: room for about {} tunnels with sockets of their own (two \
             descriptors each; the others use the listen socket); raise the hard limit for more",
            limit.saturating_sub(SPARE_FDS) / 2
        );
    } else {
        tracing::debug!("RLIMIT_NOFILE: {limit}");
    }
    Some(limit)
}

/// The lowest descriptor number a tunnel's socket may not have: the soft `RLIMIT_NOFILE` less
/// [`SPARE_FDS`]. The kernel gives the lowest free number, so tunnel sockets kept below it
/// leave the last `SPARE_FDS` descriptors to the control socket's clients, scripts and logs.
pub fn tunnel_fd_ceiling() -> Option<i32> {
    let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    i32::try_from(soft.saturating_sub(SPARE_FDS)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((0, 0));
        assert_eq!(raise_nofile(0), Some(hard));
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((0, 0));
        assert_eq!(soft, hard);
    }
}
