//! l2tpd and l2tpctl under test: their binaries, and an `l2tpd -f` started in one side of a
//! [`Lab`], asked with l2tpctl and waited for.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use super::{DEADLINE, Lab, ProcId, SHORT, Side, poll, read_lossy, run_bounded, tail};

/// The `l2tpd` binary under test.
pub fn l2tpd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_l2tpd")
}

/// The `l2tpctl` binary: `$L2TPCTL_BIN`, else beside `l2tpd` in the same target directory
/// (`cargo test --workspace` builds both). When it is not there (`cargo test -p l2tpd` alone),
/// it is built once with `cargo build -p l2tpctl` into that target directory (cargo holds no
/// lock while tests run), bounded by two minutes.
pub fn l2tpctl_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("L2TPCTL_BIN") {
            return p.into();
        }
        let beside = PathBuf::from(l2tpd_bin()).with_file_name("l2tpctl");
        if !beside.exists() {
            build_l2tpctl(&beside);
        }
        assert!(
            beside.exists(),
            "{} not found: build it first (`cargo build -p l2tpctl` with the same target \
             directory, or `cargo test --workspace`), or set L2TPCTL_BIN",
            beside.display()
        );
        beside
    })
    .clone()
}

/// `cargo build -p l2tpctl` for the profile and target directory `bin` lives in
/// (`TARGET/PROFILE/l2tpctl`).
fn build_l2tpctl(bin: &Path) {
    let (Some(profile_dir), Some(cargo)) = (
        bin.parent(),
        std::env::var_os("CARGO").or_else(|| option_env!("CARGO").map(Into::into)),
    ) else {
        return;
    };
    let Some(target) = profile_dir.parent() else {
        return;
    };
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => return,
    };
    let out = run_bounded(
        Command::new(cargo)
            .args(["build", "--quiet", "-p", "l2tpctl", "--profile", profile])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR")),
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "cargo build -p l2tpctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `l2tpd -f` in one side of a lab.
#[derive(Debug)]
pub struct L2tpd {
    pub proc: ProcId,
    pub side: Side,
    pub sock: PathBuf,
    pub log: PathBuf,
    pub conf: PathBuf,
}

impl Lab {
    /// Writes `l2tpd-X.conf` (a `system` block listening on `listen`, with the control socket,
    /// pid file and log in the work directory, `dataplane none`, `log_level debug` and
    /// `system_extra`, then `rest`) and starts `l2tpd -f` in `side`'s namespace; waits until
    /// it answers `l2tpctl show system`.
    pub fn start_l2tpd(
        &mut self,
        side: Side,
        listen: &str,
        system_extra: &str,
        rest: &str,
    ) -> L2tpd {
        let x = side.letter();
        let sock = self.path(&format!("l2tpd-{x}.sock"));
        let log = self.path(&format!("l2tpd-{x}.log"));
        // `dataplane none` unless the test chooses one.
        let dataplane = if system_extra.contains("dataplane") {
            ""
        } else {
            "    dataplane none\n"
        };
        let text = format!(
            "system {{\n    listen {listen}\n    host_name \"l2tpd-{x}\"\n    control_socket {}\n    \
             pid_file {}\n{dataplane}    log_level debug\n{system_extra}}}\n\n{rest}",
            sock.display(),
            self.path(&format!("l2tpd-{x}.pid")).display(),
        );
        let conf = self.write(&format!("l2tpd-{x}.conf"), &text);
        let proc = self.spawn(
            side,
            &format!("l2tpd-{x}.stderr"),
            &[
                l2tpd_bin(),
                "-f",
                "-c",
                conf.to_str().unwrap(),
                "-o",
                log.to_str().unwrap(),
            ],
        );
        let d = L2tpd {
            proc,
            side,
            sock,
            log,
            conf,
        };
        let deadline = Instant::now() + SHORT;
        while self.ctl(&d, &["show", "system"]).is_err() {
            if let Some(status) = self.exited(proc) {
                panic!(
                    "l2tpd-{x} exited during start-up ({status}); config:\n{text}\n{}",
                    self.l2tpd_logs(&d)
                );
            }
            assert!(
                Instant::now() < deadline,
                "l2tpd-{x} did not answer on its control socket within {SHORT:?}\n{}",
                self.l2tpd_logs(&d)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    /// `l2tpctl -S SOCK --json ARGS`, parsed; `Err` with its stderr if it fails.
    pub fn ctl(&self, d: &L2tpd, args: &[&str]) -> Result<Value, String> {
        let out = run_bounded(
            Command::new(l2tpctl_bin())
                .arg("-S")
                .arg(&d.sock)
                .arg("--json")
                .args(args),
            SHORT,
        );
        if !out.status.success() {
            return Err(format!(
                "l2tpctl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "l2tpctl {} printed no JSON ({e}): {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `show tunnels` or `show sessions` as an array (empty on any error).
    pub fn list(&self, d: &L2tpd, what: &str) -> Vec<Value> {
        match self.ctl(d, &["show", what]) {
            Ok(Value::Array(a)) => a,
            _ => Vec::new(),
        }
    }

    /// The daemon's log (flushed with SIGUSR1 first) and stderr, for failure messages.
    pub fn l2tpd_logs(&self, d: &L2tpd) -> String {
        self.signal(d.proc, Signal::SIGUSR1);
        std::thread::sleep(Duration::from_millis(100));
        format!(
            "--- {} (stderr)\n{}\n--- {}\n{}",
            d.side.letter(),
            tail(&self.log_text(d.proc), 20),
            d.log.display(),
            tail(&without_polling(&read_lossy(&d.log)), 80)
        )
    }

    /// Both daemons' state and logs, for failure messages.
    pub fn pair_context(&self, a: &L2tpd, b: &L2tpd) -> String {
        let mut s = String::new();
        for d in [a, b] {
            let _ = writeln!(
                s,
                "=== side {}: tunnels {:?}\n    sessions {:?}",
                d.side.letter(),
                self.ctl(d, &["show", "tunnels"]),
                self.ctl(d, &["show", "sessions"]),
            );
        }
        for d in [a, b] {
            s.push_str(&self.l2tpd_logs(d));
            s.push('\n');
        }
        s
    }

    /// Waits until `d` shows exactly one tunnel and one session, both in state "up"; returns
    /// them.
    pub fn wait_one_up(&self, d: &L2tpd, context: impl FnOnce() -> String) -> (Value, Value) {
        poll(
            DEADLINE,
            &format!(
                "side {}: one tunnel and one session in state \"up\"",
                d.side.letter()
            ),
            || {
                let t = self.list(d, "tunnels");
                let s = self.list(d, "sessions");
                match (t.as_slice(), s.as_slice()) {
                    ([t], [s]) if t["state"] == "up" && s["state"] == "up" => {
                        Some((t.clone(), s.clone()))
                    }
                    _ => None,
                }
            },
            context,
        )
    }

    /// Waits until `d` shows no tunnel in state "up" (a tunnel the peer closed may linger in
    /// state "closing" for a retransmission cycle, RFC 2661 §5.7, RFC 3931 §4.2); returns the
    /// tunnels left.
    pub fn wait_tunnels_down(&self, d: &L2tpd, context: impl FnOnce() -> String) -> Vec<Value> {
        poll(
            DEADLINE,
            &format!("side {}: no tunnel in state \"up\"", d.side.letter()),
            || {
                let t = self.list(d, "tunnels");
                t.iter().all(|t| t["state"] != "up").then_some(t)
            },
            || {
                format!(
                    "tunnels: {:?}\n{}",
                    self.ctl(d, &["show", "tunnels"]),
                    context()
                )
            },
        )
    }

    /// Stops the daemon with SIGTERM (StopCCN to its peers) and waits for a clean exit.
    pub fn stop_l2tpd(&mut self, d: &L2tpd) {
        let status = self.stop(d.proc, Signal::SIGTERM, SHORT);
        assert!(
            status.is_some_and(|s| s.success()),
            "l2tpd-{} did not exit cleanly on SIGTERM within {SHORT:?}: {status:?}\n{}",
            d.side.letter(),
            self.l2tpd_logs(d)
        );
    }
}

/// The log without the lines of the tests' own polling (`control request: Show...`).
fn without_polling(log: &str) -> String {
    log.lines()
        .filter(|l| !l.contains("control request: Show"))
        .collect::<Vec<_>>()
        .join("\n")
}
