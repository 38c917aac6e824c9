//! Going into the background, and the pid file.
//!
//! [`fork_to_background`] is called after the config is read and the sockets are bound, and
//! before the tokio runtime exists (a runtime's threads do not survive `fork`). The parent
//! waits on a pipe until the child reports that it is ready or why it failed, so start-up errors
//! after the fork still reach the terminal, and the parent's exit status (0 or 1) says whether
//! the daemon is running. The child starts a new session and, once ready, puts its standard
//! streams on `/dev/null`.
//!
//! This is the only module of the crate with `unsafe` code: the one call to `fork`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Which side of the fork this is.
#[derive(Debug)]
pub enum Forked {
    /// The original process: exit with this status (the daemon reported ready, or failed).
    Parent(ExitCode),
    /// The daemon: report through this when start-up has finished.
    Child(Readiness),
}

/// Forks. Must be called while the process has a single thread.
pub fn fork_to_background() -> io::Result<Forked> {
    // Close-on-exec: the daemon's scripts and pppd must not hold the parent's pipe open.
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    match fork()? {
        nix::unistd::ForkResult::Parent { .. } => {
            drop(wr);
            let mut report = String::new();
            // An error here reads as an empty report: the child died without saying why.
            let _ = File::from(rd).read_to_string(&mut report);
            Ok(Forked::Parent(match report.strip_prefix("ok\n") {
                Some(_) => ExitCode::SUCCESS,
                None if report.is_empty() => {
                    eprintln!("l2tpd: the daemon exited during start-up (see its log)");
                    ExitCode::from(1)
                }
                None => {
                    eprint!("{report}");
                    ExitCode::from(1)
                }
            }))
        }
        nix::unistd::ForkResult::Child => {
            drop(rd);
            nix::unistd::setsid()?;
            Ok(Forked::Child(Readiness {
                pipe: File::from(wr),
            }))
        }
    }
}

#[allow(unsafe_code)]
fn fork() -> io::Result<nix::unistd::ForkResult> {
    // SAFETY: `fork` is unsafe because only async-signal-safe functions may be called in the
    // child of a multi-threaded process. The daemon forks before it builds the tokio runtime
    // and before anything else starts a thread (start-up is single-threaded: config, logging,
    // sockets), so the child is a full copy of a single-threaded process and may do anything.
    Ok(unsafe { nix::unistd::fork() }?)
}

/// The daemon's end of the start-up pipe.
#[derive(Debug)]
pub struct Readiness {
    pipe: File,
}

impl Readiness {
    /// Start-up has finished: detach from the terminal and let the parent exit 0.
    pub fn ready(mut self) -> io::Result<()> {
        std::env::set_current_dir("/")?;
        let null = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")?;
        nix::unistd::dup2_stdin(&null)?;
        nix::unistd::dup2_stdout(&null)?;
        nix::unistd::dup2_stderr(&null)?;
        self.pipe.write_all(b"ok\n")
    }

    /// Start-up failed: the parent prints `message` and exits 1.
    pub fn fail(mut self, message: &str) {
        let _ = writeln!(self.pipe, "l2tpd: {message}");
    }
}

/// The pid file, removed by [`PidFile::remove`] if it still names this process.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

impl PidFile {
    /// Writes this process's id to `path`, creating its directory if needed.
    pub fn create(path: &Path) -> Result<PidFile, String> {
        let shown = path.display();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {} for the pid file: {e}", dir.display()))?;
        }
        let pid = std::process::id();
        if let Some(other) = running_l2tpd(path).filter(|p| *p != pid) {
            return Err(format!(
                "another l2tpd is running: pid file {shown} names process {other} (stop it, or \
                 set pid_file to another path)"
            ));
        }
        std::fs::write(path, format!("{pid}\n"))
            .map_err(|e| format!("cannot write pid file {shown}: {e}"))?;
        Ok(PidFile {
            path: path.to_owned(),
            pid,
        })
    }

    /// Removes the file if it still holds this process's id.
    pub fn remove(&self) {
        if let Ok(text) = std::fs::read_to_string(&self.path)
            && text.trim() == self.pid.to_string()
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The process the pid file at `path` names, if it is an l2tpd that still runs (a file left by
/// one that is gone, or whose pid another program now has, is stale).
fn running_l2tpd(path: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(path).ok()?.trim().parse().ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (comm.trim_end() == "l2tpd").then_some(pid)
}
