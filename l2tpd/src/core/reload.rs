//! A reload in two steps. [`ReloadJob::run`] reads the config file and every users file it
//! names, checks them, compares the result with the running config and builds the engine's
//! ppp policies from it: work in proportion to the users files (half a second of CPU for
//! 100 000 users), and as long as a read takes (a slow filesystem, a FIFO), so the shell runs
//! it on a thread of its own. [`Core::finish_reload`] then applies the result on the main
//! loop, and hands back what it replaced, to be freed off the loop as well.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use l2tp_config::{Config, ConfigDiff, Diagnostic, LoadError, Place};
use l2tp_ctl::{CtlError, ErrorKind, ReloadSummary};

use super::Core;
use super::summary::{self, summarize};
use crate::engine::{Prepared as EnginePrepared, Retired};
use crate::notice;

/// What a reload reads and what it compares with: the config file, and a snapshot of the
/// running config. Runs on any thread ([`ReloadJob::run`]).
#[derive(Clone, Debug)]
pub struct ReloadJob {
    path: PathBuf,
    base: Arc<Config>,
    /// The config the daemon started with, whose settings that only a restart applies are
    /// still in force.
    first: Arc<Config>,
    ip_encap: bool,
}

/// A reload read, checked and compared, for [`Core::finish_reload`].
#[derive(Debug)]
pub struct Prepared {
    /// The running config it was compared with.
    base: Arc<Config>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// A valid file: the new config with its ppp policies, and how it differs.
    Valid {
        next: Box<EnginePrepared>,
        diff: Box<ConfigDiff>,
        summary: ReloadSummary,
    },
    /// A file with problems, and its text to show them in.
    Invalid {
        text: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// A file that could not be read (or a reload that could not run), and why.
    Unreadable(String),
}

/// What [`Core::finish_reload`] did.
#[derive(Debug)]
pub enum Finished {
    /// The reload's answer (logged already), and what it replaced, to drop off the main loop.
    Done(Result<ReloadSummary, CtlError>, Leftovers),
    /// The running config changed after the job was made: this job, made again, compares
    /// with the config now running.
    Stale(ReloadJob),
}

/// The configs and policies a reload replaced or compared with: freeing those of a users file
/// of 100 000 users takes tens of milliseconds, better spent off the main loop.
#[derive(Debug)]
pub struct Leftovers {
    _base: Arc<Config>,
    _retired: Option<Retired>,
}

impl ReloadJob {
    /// Reads, checks and compares; blocks for as long as reading the files takes.
    pub fn run(self) -> Prepared {
        let outcome = match l2tp_config::load(&self.path) {
            Ok(new) => match crate::control::group_problem(&new) {
                // The file is valid, but the next start would fail on it, as `l2tpd -n` says.
                Some(e) => self.host_problem(&new, e),
                None => {
                    let diff = l2tp_config::diff(&self.base, &new);
                    let summary = summarize(&diff, &self.first, &new, self.ip_encap);
                    Outcome::Valid {
                        next: Box::new(EnginePrepared::new(Arc::new(new))),
                        diff: Box::new(diff),
                        summary,
                    }
                }
            },
            Err(LoadError::Invalid { text, diagnostics }) => Outcome::Invalid { text, diagnostics },
            Err(e) => Outcome::Unreadable(e.to_string()),
        };
        Prepared {
            base: self.base,
            outcome,
        }
    }

    /// A valid file that asks this host for what it lacks (`problem`, at the file's
    /// `control_socket_group`): refused as an invalid one is, at the line that asks.
    fn host_problem(&self, new: &Config, problem: String) -> Outcome {
        let place = Place::System("control_socket_group".into());
        match (
            new.host_error(&place, problem.as_str()),
            std::fs::read_to_string(&self.path),
        ) {
            (Some(d), Ok(text)) => Outcome::Invalid {
                text,
                diagnostics: vec![d],
            },
            _ => Outcome::Unreadable(problem),
        }
    }

    /// The outcome of a job whose thread ended without one (it could not start, or panicked).
    pub fn lost(self) -> Prepared {
        Prepared {
            base: self.base,
            outcome: Outcome::Unreadable("the thread reading it stopped".into()),
        }
    }
}

impl Core {
    /// A reload of the config file against the running config, to [`ReloadJob::run`] off the
    /// main loop (SIGHUP, `l2tpctl reload`).
    pub fn reload_job(&self) -> ReloadJob {
        ReloadJob {
            path: self.config_path.clone(),
            base: Arc::clone(self.engine.config()),
            first: Arc::clone(&self.first),
            ip_encap: self.engine.facts().ip_encap(),
        }
    }

    /// Applies a reload [`ReloadJob::run`] prepared.
    ///
    /// An unreadable or invalid file is rejected whole: every problem is logged and the running
    /// config kept. A valid one is compared with the running config, the differences are
    /// logged and handed to the engine, and it becomes the running config. If the running
    /// config is no longer the one the job compared with, nothing is applied: the job is made
    /// again ([`Finished::Stale`]).
    pub fn finish_reload(&mut self, now: Instant, prepared: Prepared) -> Finished {
        let Prepared { base, outcome } = prepared;
        if !Arc::ptr_eq(&base, self.engine.config()) {
            tracing::info!("the config changed while a reload was read; reading it again");
            return Finished::Stale(self.reload_job());
        }
        let path = self.config_path.display().to_string();
        let (result, retired) = match outcome {
            Outcome::Invalid { text, diagnostics } => {
                (Err(self.reload_invalid(&path, &text, &diagnostics)), None)
            }
            Outcome::Unreadable(e) => {
                self.stats.reload_failures += 1;
                let msg = format!("config reload failed: {e}; keeping the running config");
                tracing::error!("{msg}");
                (Err(CtlError::new(ErrorKind::InvalidConfig, msg)), None)
            }
            Outcome::Valid {
                next,
                diff,
                mut summary,
            } => {
                for w in next.config().warnings() {
                    tracing::warn!("{w}");
                }
                self.stats.reloads += 1;
                // The engine logs each block it refuses; the summary lists them apart.
                let (applied, retired) = self.engine.apply_prepared(now, *next, Some(&diff));
                summary::add_applied(&mut summary, applied);
                if summary.changes.is_empty() {
                    notice!("config reloaded from {path}: no changes");
                } else {
                    let changes: Vec<String> =
                        summary.changes.iter().map(|c| c.to_string()).collect();
                    notice!("config reloaded from {path}: {}", changes.join(", "));
                }
                for r in &summary.restart_needed {
                    tracing::warn!("{r}");
                }
                self.apply_log_level();
                (Ok(summary), Some(retired))
            }
        };
        let leftovers = Leftovers {
            _base: base,
            _retired: retired,
        };
        Finished::Done(result, leftovers)
    }

    /// Logs an invalid file's problems, and the answer that shows them.
    fn reload_invalid(&mut self, path: &str, text: &str, diagnostics: &[Diagnostic]) -> CtlError {
        self.stats.reload_failures += 1;
        for d in diagnostics {
            for line in d.to_string().lines() {
                tracing::error!("{line}");
            }
        }
        let summary = format!(
            "config reload failed: {} problem(s) in {path}; keeping the running config",
            diagnostics.len()
        );
        tracing::error!("{summary}");
        let rendered = l2tp_config::render_all(diagnostics, text);
        CtlError::new(ErrorKind::InvalidConfig, format!("{rendered}{summary}"))
    }

    /// Reads and applies the config file at once, on the calling thread (tests).
    #[cfg(test)]
    pub fn reload(&mut self, now: Instant) -> Result<ReloadSummary, CtlError> {
        match self.finish_reload(now, self.reload_job().run()) {
            Finished::Done(result, _) => result,
            Finished::Stale(_) => unreachable!("nothing ran between reading and applying"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(path: PathBuf) -> Core {
        let config = l2tp_config::load(&path).unwrap_or_else(|e| panic!("{e}"));
        Core::new(
            config,
            path,
            crate::core::tests::facts(),
            0,
            None,
            Instant::now(),
        )
    }

    /// A directory of its own for test `name`, and the path of its config file.
    fn test_file(name: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("l2tpd-reload-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("l2tpd.conf");
        (dir, path)
    }

    /// Writes `text` to `path`.
    fn write(path: &std::path::Path, text: &str) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    /// A core started at `now` on the config file at `path`, which holds `text`.
    fn started(path: &std::path::Path, text: &str, now: Instant) -> Core {
        write(path, text);
        let mut c = core(path.to_path_buf());
        c.start(now);
        c
    }

    fn changes(r: &Result<ReloadSummary, CtlError>) -> Vec<String> {
        match r {
            Ok(s) => s.changes.iter().map(|c| c.to_string()).collect(),
            Err(e) => panic!("{}", e.message),
        }
    }

    /// A reload read against a config that another reload replaced meanwhile is not applied:
    /// it is read again, against the config now running, and then says what it changes.
    #[test]
    fn a_reload_read_against_a_replaced_config_is_read_again() {
        let (dir, path) = test_file("stale");
        let write = |text: &str| write(&path, text);
        let now = Instant::now();
        let mut c = started(&path, "", now);
        let first = c.reload_job();
        write("tunnel profile \"a\" {\n}\n");
        let late = first.clone().run();
        assert_eq!(changes(&c.reload(now)), ["tunnel profile \"a\" added"]);
        write("tunnel profile \"a\" {\n}\ntunnel profile \"b\" {\n}\n");
        let Finished::Stale(again) = c.finish_reload(now, late) else {
            panic!("a reload read against a replaced config was applied");
        };
        let Finished::Done(r, _) = c.finish_reload(now, again.run()) else {
            panic!("stale again");
        };
        assert_eq!(changes(&r), ["tunnel profile \"b\" added"]);
        let stats = &c.stats;
        assert_eq!((stats.reloads, stats.reload_failures), (2, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Settings that only a restart applies are judged against the values the daemon runs with:
    /// a reload that puts the started value back needs no restart, and one that changes
    /// something else still says the file's value is not in force.
    #[test]
    fn restart_needs_are_judged_against_the_values_in_force() {
        let (dir, path) = test_file("first");
        let write = |text: &str| write(&path, text);
        let needs = |r: Result<ReloadSummary, CtlError>| match r {
            Ok(s) => s.restart_needed,
            Err(e) => panic!("{}", e.message),
        };
        let now = Instant::now();
        let mut c = started(&path, "system {\n metrics_listen 127.0.0.1:9701\n}\n", now);
        write("system {\n metrics_listen 127.0.0.1:9702\n}\n");
        let first = needs(c.reload(now));
        assert!(
            first.len() == 1 && first[0].starts_with("metrics_listen changed"),
            "{first:?}"
        );
        write("system {\n metrics_listen 127.0.0.1:9702\n}\ntunnel profile \"a\" {\n}\n");
        assert_eq!(
            needs(c.reload(now)),
            first,
            "the file's value is still not in force"
        );
        write("system {\n metrics_listen 127.0.0.1:9701\n}\n");
        assert_eq!(needs(c.reload(now)), Vec::<String>::new());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A `control_socket_group` the host lacks would make the next start fail: a reload
    /// refuses it at its line, as `l2tpd -n` does, and the running config stays.
    #[test]
    fn a_reload_refuses_a_control_socket_group_the_host_lacks() {
        let (dir, path) = test_file("group");
        let write = |text: &str| write(&path, text);
        let now = Instant::now();
        let mut c = started(&path, "", now);
        write("system {\n    control_socket_group \"no-such-group-l2tpd\"\n}\n");
        let Err(e) = c.reload(now) else {
            panic!("a reload took a group this host lacks");
        };
        let at = format!("{}:2:26: error: ", path.display());
        assert!(
            e.message.contains(&format!(
                "{at}control_socket_group \"no-such-group-l2tpd\": no such group"
            )) && e.message.contains("keeping the running config"),
            "{}",
            e.message
        );
        assert_eq!(c.engine.config().system().control_socket_group, None);
        assert_eq!((c.stats.reloads, c.stats.reload_failures), (0, 1));
        // A group of the host is taken (to apply at the next start).
        write("system {\n    control_socket_group \"root\"\n}\n");
        assert!(c.reload(now).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
