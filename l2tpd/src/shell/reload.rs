//! Reloads off the main loop. A reload (SIGHUP, `l2tpctl reload`) is read, checked and
//! compared on a thread of its own ([`ReloadJob::run`]); the loop serves tunnels, commands and
//! scrapes meanwhile, and applies the result when it comes ([`Core::finish_reload`]).
//!
//! One reload runs at a time. Those asked for while one is being read are queued, as one: a
//! single reload after it, whose answer every one of them gets (the file may have changed
//! after the first read it). Under systemd each reload that runs is framed by `RELOADING=1`
//! and `READY=1`. A stopping daemon drops the reload under way and does no more; their
//! clients are told that it is shutting down.

use std::time::Instant;

use l2tp_ctl::{CtlError, ErrorKind, Response};
use tokio::sync::oneshot;

use crate::core::Core;
use crate::core::reload::{Finished, Prepared, ReloadJob};
use crate::notice;
use crate::notify::Notifier;
use crate::radius::{Radius, Setup};

/// Where the answer to an `l2tpctl reload` goes.
pub(super) type Reply = oneshot::Sender<Result<Response, CtlError>>;

/// A reload being read on its thread, and who waits for its answer.
#[derive(Debug)]
struct Run {
    job: ReloadJob,
    prepared: oneshot::Receiver<Prepared>,
    replies: Vec<Reply>,
}

#[derive(Debug)]
enum State {
    Idle,
    Preparing(Run),
    /// More reloads were asked for while `run` was read: one more runs after it, for all.
    PreparingThenAgain {
        run: Run,
        again: Vec<Reply>,
    },
    /// The daemon is stopping: no more reloads.
    Stopped,
}

/// The reloads of the main loop.
#[derive(Debug)]
pub(super) struct Reloads {
    state: State,
}

impl Reloads {
    pub(super) fn new() -> Self {
        Self { state: State::Idle }
    }

    /// A reload is asked for, by SIGHUP (`reply` is `None`) or on the control socket. It
    /// starts now if none is under way, else after the one that is.
    pub(super) fn request(&mut self, core: &Core, notifier: &mut Notifier, reply: Option<Reply>) {
        let replies = Vec::from_iter(reply);
        self.state = match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => {
                notifier.reloading();
                State::Preparing(start(core.reload_job(), replies))
            }
            State::Preparing(run) => State::PreparingThenAgain {
                run,
                again: replies,
            },
            State::PreparingThenAgain { run, mut again } => {
                again.extend(replies);
                State::PreparingThenAgain { run, again }
            }
            State::Stopped => {
                notice!("l2tpd is stopping: no reload");
                for r in replies {
                    // The client may have gone; nothing to do then.
                    let _ = r.send(Err(shutting_down()));
                }
                State::Stopped
            }
        };
    }

    /// The reload under way, once read (`None` if its thread ended without an answer);
    /// pending for ever when there is none.
    pub(super) async fn prepared(&mut self) -> Option<Prepared> {
        match &mut self.state {
            State::Preparing(run) | State::PreparingThenAgain { run, .. } => {
                (&mut run.prepared).await.ok()
            }
            State::Idle | State::Stopped => std::future::pending().await,
        }
    }

    /// Applies the reload [`Reloads::prepared`] gave, answers its clients, reconfigures the
    /// RADIUS client when it succeeded, and starts the queued one, if any.
    pub(super) fn finish(
        &mut self,
        core: &mut Core,
        prepared: Option<Prepared>,
        notifier: &mut Notifier,
        radius: &Radius,
    ) {
        let (run, again) = match std::mem::replace(&mut self.state, State::Idle) {
            State::Preparing(run) => (run, None),
            State::PreparingThenAgain { run, again } => (run, Some(again)),
            other => {
                self.state = other;
                return;
            }
        };
        let Run { job, replies, .. } = run;
        let prepared = prepared.unwrap_or_else(|| job.lost());
        let (result, leftovers) = match core.finish_reload(Instant::now(), prepared) {
            Finished::Done(result, leftovers) => (result, leftovers),
            Finished::Stale(job) => {
                let run = start(job, replies);
                self.state = match again {
                    None => State::Preparing(run),
                    Some(again) => State::PreparingThenAgain { run, again },
                };
                return;
            }
        };
        let ok = result.is_ok();
        if ok {
            radius.configure(Setup::of(core.config()));
        }
        notifier.reloaded(ok, core.counts());
        for r in replies {
            // The client may have gone; nothing to do then.
            let _ = r.send(result.clone().map(Response::Reloaded));
        }
        // Freed on a thread: the old config and ppp policies of a large users file take a
        // while. If no thread can start, here.
        let _ = std::thread::Builder::new()
            .name("l2tpd-reload".into())
            .spawn(move || drop(leftovers));
        if let Some(again) = again {
            notifier.reloading();
            self.state = State::Preparing(start(core.reload_job(), again));
        }
    }

    /// The daemon begins to stop: the reload under way, if any, is dropped (its clients are
    /// told the daemon is shutting down), and no other starts.
    pub(super) fn stop(&mut self) {
        let old = std::mem::replace(&mut self.state, State::Stopped);
        let replies = match old {
            State::Preparing(run) => run.replies,
            State::PreparingThenAgain { run, again } => {
                run.replies.into_iter().chain(again).collect()
            }
            State::Idle | State::Stopped => Vec::new(),
        };
        for r in replies {
            // The client may have gone; nothing to do then.
            let _ = r.send(Err(shutting_down()));
        }
    }
}

fn shutting_down() -> CtlError {
    CtlError::new(ErrorKind::Busy, "l2tpd is shutting down")
}

/// Runs `job` on a thread of its own. A thread that cannot start, or ends without an answer,
/// closes the channel: the reload then fails ([`ReloadJob::lost`]).
fn start(job: ReloadJob, replies: Vec<Reply>) -> Run {
    let (tx, prepared) = oneshot::channel();
    let worker = job.clone();
    let spawned = std::thread::Builder::new()
        .name("l2tpd-reload".into())
        .spawn(move || {
            // The loop may be gone (the daemon stopped); nothing to do then.
            let _ = tx.send(worker.run());
        });
    if let Err(e) = spawned {
        tracing::error!("config reload: cannot start its thread: {e}");
    }
    Run {
        job,
        prepared,
        replies,
    }
}
