//! Telling systemd what the daemon is doing (`sd_notify(3)`): `READY=1` once it serves,
//! `RELOADING=1` and `READY=1` around a reload, `STOPPING=1` when it stops, `STATUS=` with its
//! tunnel and session counts, and `WATCHDOG=1` from the main loop.
//!
//! systemd sets `NOTIFY_SOCKET` for a service of `Type=notify` (and `WATCHDOG_USEC` when the
//! unit has `WatchdogSec=`). Without it, [`Notifier`] sends nothing and the daemon behaves as
//! before. The watchdog pings come from the main loop itself ([`crate::shell`]), so a loop that
//! hangs stops them and systemd restarts the daemon.
//!
//! systemd 253 added `Type=notify-reload`, which wants `MONOTONIC_USEC=` beside `RELOADING=1`;
//! the daemon always sends it, and older versions (Debian 12 has 252) ignore it.

use std::time::Duration;

use l2tp_ctl::Counts;
use sd_notify::NotifyState;

/// The connection to the service manager, if there is one.
#[derive(Debug)]
pub struct Notifier {
    enabled: bool,
    /// `MAINPID=` for `READY=1`: set when the daemon forked, so that the manager follows the
    /// child rather than the parent that exits.
    main_pid: Option<u32>,
    watchdog: Option<Duration>,
    /// The last `STATUS=` sent, so that an unchanged status is not sent again.
    status: String,
    /// Whether the last reload failed (said in the status until one succeeds).
    reload_failed: bool,
    /// Whether a failure to send has been logged (it is logged once).
    warned: bool,
}

impl Notifier {
    /// A notifier for this process's environment: enabled when `NOTIFY_SOCKET` is set, with
    /// the watchdog when `WATCHDOG_USEC` is set (and `WATCHDOG_PID`, if set, is this process).
    /// `forked`: the daemon went into the background, so `READY=1` names its pid.
    pub fn from_env(forked: bool) -> Notifier {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty());
        Notifier {
            enabled,
            main_pid: forked.then(std::process::id),
            watchdog: sd_notify::watchdog_enabled().filter(|d| enabled && !d.is_zero()),
            status: String::new(),
            reload_failed: false,
            warned: false,
        }
    }

    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier {
            enabled: false,
            main_pid: None,
            watchdog: None,
            status: String::new(),
            reload_failed: false,
            warned: false,
        }
    }

    /// Whether there is a service manager to tell.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// How often to send `WATCHDOG=1`: half the manager's watchdog timeout, as `sd_notify(3)`
    /// recommends; `None` without a watchdog.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|d| (d / 2).max(Duration::from_millis(1)))
    }

    /// The daemon serves: its sockets are open and its main loop runs.
    pub fn ready(&mut self, counts: Counts) {
        self.status = status_text(counts, self.reload_failed);
        let status = self.status.clone();
        let mut states = vec![NotifyState::Ready, NotifyState::Status(&status)];
        if let Some(pid) = self.main_pid {
            states.push(NotifyState::MainPid(pid));
        }
        self.send(&states);
    }

    /// A reload begins (`RELOADING=1` with the monotonic clock, as `Type=notify-reload` wants).
    pub fn reloading(&mut self) {
        if !self.enabled {
            return;
        }
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    /// A reload ended, successfully or not (the daemon serves on, with the old config if not).
    pub fn reloaded(&mut self, ok: bool, counts: Counts) {
        self.reload_failed = !ok;
        self.ready(counts);
    }

    /// The daemon is stopping.
    pub fn stopping(&mut self) {
        self.status = "stopping: closing tunnels".to_owned();
        let status = self.status.clone();
        self.send(&[NotifyState::Stopping, NotifyState::Status(&status)]);
    }

    /// Sends `STATUS=` if the counts changed since the last one.
    pub fn update_status(&mut self, counts: Counts) {
        if !self.enabled {
            return;
        }
        let status = status_text(counts, self.reload_failed);
        if status != self.status {
            self.status = status;
            let status = self.status.clone();
            self.send(&[NotifyState::Status(&status)]);
        }
    }

    /// `WATCHDOG=1`: the main loop is alive.
    pub fn watchdog(&mut self) {
        if self.watchdog.is_some() {
            self.send(&[NotifyState::Watchdog]);
        }
    }

    fn send(&mut self, states: &[NotifyState<'_>]) {
        if !self.enabled {
            return;
        }
        if let Err(e) = sd_notify::notify(states) {
            if self.warned {
                tracing::debug!("cannot notify the service manager: {e}");
            } else {
                self.warned = true;
                tracing::warn!("cannot notify the service manager (NOTIFY_SOCKET): {e}");
            }
        }
    }
}

/// The `STATUS=` text: the counts, and whether the last reload failed.
pub fn status_text(counts: Counts, reload_failed: bool) -> String {
    // As `l2tpctl show system` counts them: the closing ones said apart, when there are any.
    let count = |n: u32, up: u32, closing: u32, what: &str| {
        let plural = if n == 1 { "" } else { "s" };
        if closing == 0 {
            format!("{n} {what}{plural} ({up} up)")
        } else {
            format!("{n} {what}{plural} ({up} up, {closing} closing)")
        }
    };
    let mut s = format!(
        "{}, {}",
        count(
            counts.tunnels,
            counts.tunnels_up,
            counts.tunnels_closing,
            "tunnel"
        ),
        count(
            counts.sessions,
            counts.sessions_up,
            counts.sessions_closing,
            "session"
        )
    );
    if reload_failed {
        s.push_str("; the last reload failed, running the previous config");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_gives_the_counts_and_a_failed_reload() {
        let counts = Counts {
            tunnels: 3,
            tunnels_up: 2,
            sessions: 7,
            sessions_up: 5,
            ..Counts::default()
        };
        assert_eq!(
            status_text(counts, false),
            "3 tunnels (2 up), 7 sessions (5 up)"
        );
        let one = Counts {
            tunnels: 1,
            tunnels_up: 1,
            sessions: 1,
            sessions_up: 0,
            ..Counts::default()
        };
        assert_eq!(status_text(one, false), "1 tunnel (1 up), 1 session (0 up)");
        let closing = Counts {
            tunnels: 4,
            tunnels_up: 2,
            tunnels_closing: 1,
            sessions: 3,
            sessions_up: 1,
            sessions_closing: 2,
        };
        assert_eq!(
            status_text(closing, false),
            "4 tunnels (2 up, 1 closing), 3 sessions (1 up, 2 closing)"
        );
        assert!(
            status_text(counts, true)
                .ends_with("the last reload failed, running the previous config")
        );
    }

    #[test]
    fn a_disabled_notifier_has_no_watchdog() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        assert_eq!(n.watchdog_interval(), None);
    }
}
