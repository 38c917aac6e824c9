//! User scripts: the ten programs of `script_dir` run on tunnel, session and PPP events
//! (`l2tpd(8)`, USER SCRIPTS).
//!
//! The engine describes each event as a [`ScriptEvent`] (arguments and environment, built
//! from what the config says, see [`session_env`]); the shell hands it to the [`ScriptRunner`],
//! which never blocks:
//!
//! - every tunnel and every session has its own queue with one worker task, so the scripts of
//!   one instance run one at a time and in event order;
//! - a global semaphore bounds how many scripts run at once (`max_scripts`);
//! - a script is executed directly (no shell), with the arguments and environment of the event
//!   only, standard streams on `/dev/null`, as root when the daemon is root, in a process group
//!   of its own, and its exit status is only logged;
//! - a script still running after `script_timeout` has its process group stopped ([`stop`]:
//!   SIGTERM, then SIGKILL), logged and counted, and its queue and permit move on.
//!
//! A script that hangs holds its own instance's queue and one of the permits until then; the
//! protocol, other instances and other scripts go on.
//!
//! An event whose script is absent costs nothing: no queue or task is made for it (whether a
//! script exists is looked up at most once a second per file, so a script added to
//! `script_dir` runs from the next event a second later).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use l2tp_ctl::EventKind;
use l2tp_proto::wire::access_line::AccessLine;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::metrics::snapshot::ScriptFigures;

mod stop;

use stop::Stopped;

/// The `PATH` a script gets.
pub const SCRIPT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One event, as a script sees it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ScriptEvent {
    /// What happened.
    pub kind: EventKind,
    /// Local tunnel id.
    pub tid: u32,
    /// Local session id (session events).
    pub sid: Option<u32>,
    /// `P1`, `P2`, `P3`.
    pub args: Vec<String>,
    /// The environment, besides `PATH`: byte strings, as a peer's user name may not be UTF-8.
    pub env: Vec<(&'static str, OsString)>,
}

impl ScriptEvent {
    /// The script's file name in `script_dir`.
    pub fn file_name(&self) -> &'static str {
        script_name(self.kind)
    }

    /// The value of environment variable `name`, if set (and UTF-8).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.var_os(name).and_then(OsStr::to_str)
    }

    /// The value of environment variable `name`, if set, byte for byte.
    pub fn var_os(&self, name: &str) -> Option<&OsStr> {
        self.env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// `RESULT_CODE`, `ERROR_CODE` (when there is one) and `RESULT_MESSAGE` of a tunnel-down,
    /// tunnel-deleted, session-down or session-deleted event: the Result Code of the StopCCN
    /// or CDN that ended it, the peer's or ours. The message byte for byte, as the peer sent it
    /// (RFC 2661 §4.4.2 asks for text, a peer may send anything); one with a NUL byte in
    /// hexadecimal in `RESULT_MESSAGE_BIN`.
    pub fn put_result(&mut self, result: u16, error: Option<u16>, message: Option<&[u8]>) {
        self.env.push(("RESULT_CODE", result.to_string().into()));
        if let Some(e) = error {
            self.env.push(("ERROR_CODE", e.to_string().into()));
        }
        if let Some(m) = message {
            put_raw(&mut self.env, ("RESULT_MESSAGE", "RESULT_MESSAGE_BIN"), m);
        }
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn set_var(&mut self, name: &'static str, value: String) {
        self.env.retain(|(k, _)| *k != name);
        self.env.push((name, value.into()));
    }
}

/// The script run on events of `kind`: `tunnel-created`, ..., `session-deleted`.
pub fn script_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::TunnelCreated => "tunnel-created",
        EventKind::TunnelUp => "tunnel-up",
        EventKind::TunnelDown => "tunnel-down",
        EventKind::TunnelDeleted => "tunnel-deleted",
        EventKind::SessionCreated => "session-created",
        EventKind::SessionUp => "session-up",
        EventKind::SessionDown => "session-down",
        EventKind::SessionDeleted => "session-deleted",
        EventKind::PppUp => "ppp-up",
        EventKind::PppDown => "ppp-down",
    }
}

/// The events whose script may run, so that the engine builds no [`ScriptEvent`] for the
/// others (an event whose script does not exist costs nothing). A deletion is always wanted:
/// it also ends its tunnel's or session's queue.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ScriptKinds(u16);

impl ScriptKinds {
    /// Every event (until the script directory has been looked at).
    pub const ALL: Self = Self(u16::MAX);

    /// Whether an event of `kind` may run a script.
    pub fn wants(self, kind: EventKind) -> bool {
        matches!(kind, EventKind::TunnelDeleted | EventKind::SessionDeleted)
            || self.0 & Self::bit(kind) != 0
    }

    fn bit(kind: EventKind) -> u16 {
        1 << KINDS.iter().position(|k| *k == kind).unwrap_or(15)
    }
}

impl Default for ScriptKinds {
    fn default() -> Self {
        Self::ALL
    }
}

/// Every event that has a script.
const KINDS: [EventKind; 10] = [
    EventKind::TunnelCreated,
    EventKind::TunnelUp,
    EventKind::TunnelDown,
    EventKind::TunnelDeleted,
    EventKind::SessionCreated,
    EventKind::SessionUp,
    EventKind::SessionDown,
    EventKind::SessionDeleted,
    EventKind::PppUp,
    EventKind::PppDown,
];

/// `P3`: `PPP`, `ETH`, `ETH_VLAN` or the pseudowire type's number.
pub fn session_type(pw_type: u16) -> String {
    match pw_type {
        7 => "PPP".to_owned(),
        5 => "ETH".to_owned(),
        4 => "ETH_VLAN".to_owned(),
        n => n.to_string(),
    }
}

/// A tunnel event: `P1`, and `TUNNEL_NAME` for a named tunnel, `PEER_HOST_NAME` when the peer
/// sent one.
pub fn tunnel_event(
    kind: EventKind,
    tid: u32,
    name: Option<&str>,
    peer_host_name: Option<&[u8]>,
) -> ScriptEvent {
    let mut env = Vec::new();
    if let Some(n) = name {
        env.push(("TUNNEL_NAME", n.into()));
    }
    put_bytes(
        &mut env,
        ("PEER_HOST_NAME", "PEER_HOST_NAME_BIN"),
        peer_host_name,
    );
    ScriptEvent {
        kind,
        tid,
        sid: None,
        args: vec![tid.to_string()],
        env,
    }
}

/// What a session event's environment is made of.
#[derive(Clone, Debug, Default)]
pub struct SessionFacts<'a> {
    /// The tunnel's name.
    pub tunnel_name: Option<&'a str>,
    /// The session's name.
    pub session_name: Option<&'a str>,
    /// The session profile.
    pub profile: Option<&'a str>,
    /// The pseudowire profile.
    pub pw_profile: Option<&'a str>,
    /// The IANA pseudowire type.
    pub pw_type: u16,
    /// `user_data`.
    pub user_data: Option<&'a str>,
    /// `remote_end_id`, as bytes.
    pub remote_end_id: Option<&'a [u8]>,
    /// `bridge`.
    pub bridge: Option<&'a str>,
    /// The interface name, when known.
    pub interface_name: Option<&'a str>,
    /// `mtu`.
    pub mtu: Option<u16>,
    /// `local_ip`.
    pub local_ip: Option<std::net::IpAddr>,
    /// `peer_ip`.
    pub peer_ip: Option<std::net::IpAddr>,
    /// `netmask`.
    pub netmask: Option<std::net::IpAddr>,
    /// The call's Calling Number (the peer's, or the configured one for a call placed here).
    pub calling_number: Option<&'a [u8]>,
    /// The call's Called Number.
    pub called_number: Option<&'a [u8]>,
    /// The call's Sub-Address.
    pub sub_address: Option<&'a [u8]>,
    /// The Host Name the peer of the session's tunnel sent.
    pub peer_host_name: Option<&'a [u8]>,
    /// The Access Line Information of the LAC's ICRQ (RFC 5515).
    pub access_line: Option<&'a AccessLine>,
    /// The native PPP's user and addresses, once known.
    pub ppp: Option<&'a l2tp_ctl::PppEventInfo>,
    /// The PPP user name as the peer sent it (`ppp.user` is its text, for watchers), when
    /// `ppp` names a user.
    pub ppp_user: Option<&'a [u8]>,
}

/// Sets `names.0` to `value` when every byte is printable, else `names.1` to its hexadecimal.
fn put_bytes(
    env: &mut Vec<(&'static str, OsString)>,
    names: (&'static str, &'static str),
    value: Option<&[u8]>,
) {
    match value {
        Some(v) if is_printable(v) => env.push((names.0, OsString::from_vec(v.to_vec()))),
        Some(v) => env.push((names.1, hex(v).into())),
        None => {}
    }
}

/// A session event: `P1`, `P2`, `P3` (not for `session-created`) and the environment that
/// `l2tpd(8)` gives for `kind`.
pub fn session_event(kind: EventKind, tid: u32, sid: u32, f: &SessionFacts<'_>) -> ScriptEvent {
    let mut args = vec![tid.to_string(), sid.to_string()];
    if kind != EventKind::SessionCreated {
        args.push(session_type(f.pw_type));
    }
    let mut env = Vec::new();
    let mut put = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            env.push((k, v.into()));
        }
    };
    let own = |s: Option<&str>| s.map(str::to_owned);
    put("TUNNEL_NAME", own(f.tunnel_name));
    put("SESSION_NAME", own(f.session_name));
    put("SESSION_PROFILE_NAME", own(f.profile));
    put("PSEUDOWIRE_PROFILE_NAME", own(f.pw_profile));
    put("USER_DATA", own(f.user_data));
    put("BRIDGE", own(f.bridge));
    if let Some(p) = f.ppp {
        put("PPP_AUTH_METHOD", p.auth.clone());
        put("PPP_IPADDR", p.peer_ipv4.map(|a| a.to_string()));
        put("PPP_LOCAL_IPADDR", p.local_ipv4.map(|a| a.to_string()));
        put("PPP_IPV6_IFID", p.peer_ipv6_ifid.clone());
        put("PPP_DOWN_REASON", p.reason.clone());
    }
    if matches!(
        kind,
        EventKind::SessionUp | EventKind::SessionDown | EventKind::PppUp | EventKind::PppDown
    ) {
        put("INTERFACE_NAME", own(f.interface_name));
        put("MTU", f.mtu.map(|m| m.to_string()));
        put("LOCAL_IP", f.local_ip.map(|a| a.to_string()));
        put("PEER_IP", f.peer_ip.map(|a| a.to_string()));
        put("NETMASK", f.netmask.map(|a| a.to_string()));
    }
    if let Some(user) = f.ppp.and_then(|p| p.user.as_deref()) {
        put_raw(
            &mut env,
            ("PPP_USER", "PPP_USER_BIN"),
            f.ppp_user.unwrap_or(user.as_bytes()),
        );
    }
    put_bytes(
        &mut env,
        ("REMOTE_END_ID", "REMOTE_END_ID_BIN"),
        f.remote_end_id,
    );
    put_bytes(
        &mut env,
        ("CALLING_NUMBER", "CALLING_NUMBER_BIN"),
        f.calling_number,
    );
    put_bytes(
        &mut env,
        ("CALLED_NUMBER", "CALLED_NUMBER_BIN"),
        f.called_number,
    );
    put_bytes(&mut env, ("SUB_ADDRESS", "SUB_ADDRESS_BIN"), f.sub_address);
    put_bytes(
        &mut env,
        ("PEER_HOST_NAME", "PEER_HOST_NAME_BIN"),
        f.peer_host_name,
    );
    if let Some(line) = f.access_line {
        put_bytes(
            &mut env,
            ("AGENT_CIRCUIT_ID", "AGENT_CIRCUIT_ID_BIN"),
            line.agent_circuit_id.as_deref(),
        );
        put_bytes(
            &mut env,
            ("AGENT_REMOTE_ID", "AGENT_REMOTE_ID_BIN"),
            line.agent_remote_id.as_deref(),
        );
        let [up, down, ..] = line.rates;
        env.extend(up.map(|r| ("ACTUAL_DATA_RATE_UPSTREAM", r.to_string().into())));
        env.extend(down.map(|r| ("ACTUAL_DATA_RATE_DOWNSTREAM", r.to_string().into())));
    }
    ScriptEvent {
        kind,
        tid,
        sid: Some(sid),
        args,
        env,
    }
}

/// Sets `names.0` to `value` byte for byte, whatever bytes the peer chose (`PPP_USER`,
/// `RESULT_MESSAGE`); one with a NUL byte, which no environment variable can hold (and which
/// would keep the script from running), is set in hexadecimal in `names.1` instead.
fn put_raw(
    env: &mut Vec<(&'static str, OsString)>,
    names: (&'static str, &'static str),
    value: &[u8],
) {
    if value.contains(&0) {
        env.push((names.1, hex(value).into()));
    } else {
        env.push((names.0, OsString::from_vec(value.to_vec())));
    }
}

/// Whether every byte is a printable ASCII character (space to `~`).
pub fn is_printable(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| (0x20..=0x7e).contains(b))
}

/// Lower-case hexadecimal, two digits per byte, nothing between.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One script to run: its path, its event, and how long it may run (`None`: no limit).
type Job = (PathBuf, ScriptEvent, Option<Duration>);

/// How long a script may run with `script_timeout` `secs` (0: no limit).
pub fn script_timeout(secs: u32) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs.into()))
}

/// How long a stopped script's process group has between SIGTERM and SIGKILL.
pub const KILL_AFTER: Duration = Duration::from_secs(5);

/// How the scripts' runs ended, for the metrics: shared by the workers.
#[derive(Debug, Default)]
struct Tally {
    /// By (script name, an index of `metrics::snapshot::SCRIPT_RESULTS`).
    runs: Mutex<std::collections::BTreeMap<(&'static str, usize), u64>>,
    running: AtomicU64,
}

impl Tally {
    fn count(&self, script: &'static str, result: usize) {
        if let Ok(mut runs) = self.runs.lock() {
            *runs.entry((script, result)).or_default() += 1;
        }
    }
}

/// The `result` index of a run that exited with `status`.
const SUCCESS: usize = 0;
const FAILURE: usize = 1;
const ERROR: usize = 2;
const TIMEOUT: usize = 3;

/// Runs scripts: one queue per tunnel or session, a bound on how many run at once.
#[derive(Debug)]
pub struct ScriptRunner {
    limit: Arc<Semaphore>,
    queues: HashMap<(u32, Option<u32>), mpsc::UnboundedSender<Job>>,
    workers: JoinSet<()>,
    /// Whether each script file existed, and when that was looked up.
    present: HashMap<PathBuf, (Instant, bool)>,
    tally: Arc<Tally>,
    /// Between SIGTERM and SIGKILL to a script stopped for its time limit.
    kill_after: Duration,
}

/// How long a lookup of whether a script exists is trusted.
const PRESENCE_TTL: Duration = Duration::from_secs(1);

impl ScriptRunner {
    /// A runner that lets at most `max_running` scripts run at once (at least one).
    pub fn new(max_running: usize) -> Self {
        Self {
            limit: Arc::new(Semaphore::new(max_running.max(1))),
            queues: HashMap::new(),
            workers: JoinSet::new(),
            present: HashMap::new(),
            tally: Arc::default(),
            kill_after: KILL_AFTER,
        }
    }

    /// Whether the script at `path` exists (looked up at most once per [`PRESENCE_TTL`]).
    fn present(&mut self, path: &Path) -> bool {
        let now = Instant::now();
        if let Some((at, yes)) = self.present.get(path)
            && now.duration_since(*at) < PRESENCE_TTL
        {
            return *yes;
        }
        // Anything but "not found" goes to the worker, which logs it.
        let yes =
            !matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        self.present.insert(path.to_owned(), (now, yes));
        yes
    }

    /// The events whose script exists in `dir`, looked up now (the shell asks once a
    /// second); an event of another kind is dropped by [`ScriptRunner::submit`] anyway, or,
    /// when its tunnel or session has a queue, runs nothing there.
    pub fn kinds(&mut self, dir: &Path) -> ScriptKinds {
        let mut kinds = ScriptKinds(0);
        for kind in KINDS {
            let path = dir.join(script_name(kind));
            self.present.remove(&path);
            if self.present(&path) {
                kinds.0 |= ScriptKinds::bit(kind);
            }
        }
        kinds
    }

    /// Queues the script for `event` from `dir`, to be stopped if it runs longer than
    /// `timeout`. Never blocks; needs the runtime.
    pub fn submit(&mut self, dir: &Path, timeout: Option<Duration>, event: ScriptEvent) {
        let key = (event.tid, event.sid);
        let last = matches!(
            event.kind,
            EventKind::TunnelDeleted | EventKind::SessionDeleted
        );
        let path = dir.join(event.file_name());
        if !self.queues.contains_key(&key) && !self.present(&path) {
            // Nothing to run and nothing queued before it: no queue, no task.
            return;
        }
        let job = (path, event, timeout);
        let job = match self.queues.get(&key) {
            Some(tx) => match tx.send(job) {
                Ok(()) => None,
                Err(mpsc::error::SendError(job)) => Some(job),
            },
            None => Some(job),
        };
        if let Some(job) = job {
            let (tx, rx) = mpsc::unbounded_channel();
            // A fresh channel with its receiver alive accepts the job.
            let _ = tx.send(job);
            while self.workers.try_join_next().is_some() {}
            self.workers.spawn(worker(
                rx,
                self.limit.clone(),
                self.tally.clone(),
                self.kill_after,
            ));
            self.queues.insert(key, tx);
        }
        if last {
            // The worker finishes what is queued, then ends with its channel.
            self.queues.remove(&key);
        }
    }

    /// Waits, at most `grace`, for the queued scripts to finish (at shutdown, so that the
    /// scripts of the last events still run).
    pub async fn drain(mut self, grace: std::time::Duration) {
        self.queues.clear();
        let all = async { while self.workers.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "user scripts still running after {}s; not waiting for them",
                grace.as_secs()
            );
        }
    }

    /// The runs so far, by script and result, and how many run now.
    pub fn figures(&self) -> ScriptFigures {
        ScriptFigures {
            runs: self
                .tally
                .runs
                .lock()
                .map(|r| r.clone())
                .unwrap_or_default(),
            running: self.tally.running.load(Ordering::Relaxed),
        }
    }

    /// How many tunnels and sessions have a queue.
    pub fn queues(&self) -> usize {
        self.queues.len()
    }
}

async fn worker(
    mut rx: mpsc::UnboundedReceiver<Job>,
    limit: Arc<Semaphore>,
    tally: Arc<Tally>,
    kill_after: Duration,
) {
    while let Some((path, event, timeout)) = rx.recv().await {
        let limits = (timeout, kill_after);
        if let Some(result) = run(&path, &event, &limit, &tally, limits).await {
            tally.count(event.file_name(), result);
        }
    }
}

/// Runs one script within `(timeout, kill_after)`; how it ended (an index of
/// `SCRIPT_RESULTS`), or `None` when there was none to run.
async fn run(
    path: &Path,
    event: &ScriptEvent,
    limit: &Semaphore,
    tally: &Tally,
    (timeout, kill_after): (Option<Duration>, Duration),
) -> Option<usize> {
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            tracing::warn!(
                "script {} ({}): not a file; skipped",
                path.display(),
                what(event)
            );
            return Some(ERROR);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("script {} ({}): {e}; skipped", path.display(), what(event));
            return Some(ERROR);
        }
    }
    let Ok(_permit) = limit.acquire().await else {
        return None;
    };
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(&event.args)
        .env_clear()
        .env("PATH", SCRIPT_PATH)
        .envs(event.env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so that stopping it stops what it started too.
        .process_group(0);
    if nix::unistd::geteuid().is_root() {
        // Real and effective user and group id 0, whatever the daemon was started with.
        cmd.uid(0).gid(0);
    }
    tracing::debug!("script {} {}", path.display(), event.args.join(" "));
    match cmd.spawn() {
        Err(e) => {
            tracing::warn!(
                "script {} ({}): cannot run it: {e}",
                path.display(),
                what(event)
            );
            Some(ERROR)
        }
        Ok(mut child) => {
            tally.running.fetch_add(1, Ordering::Relaxed);
            let status = match timeout {
                None => Ok(child.wait().await),
                Some(t) => match tokio::time::timeout(t, child.wait()).await {
                    Ok(status) => Ok(status),
                    Err(_) => Err(timed_out(&mut child, path, event, t, kill_after).await),
                },
            };
            tally.running.fetch_sub(1, Ordering::Relaxed);
            match status {
                // Logged by `timed_out`.
                Err(_) => Some(TIMEOUT),
                Ok(Ok(status)) if status.success() => {
                    tracing::debug!("script {}: {status}", path.display());
                    Some(SUCCESS)
                }
                Ok(Ok(status)) => {
                    use std::os::unix::process::ExitStatusExt;
                    let how = match (status.code(), status.signal()) {
                        (Some(code), _) => format!("exited with status {code}"),
                        (None, Some(sig)) => format!("ended by signal {sig}"),
                        (None, None) => status.to_string(),
                    };
                    tracing::warn!("script {} ({}): {how}", path.display(), what(event));
                    Some(FAILURE)
                }
                Ok(Err(e)) => {
                    tracing::warn!("script {} ({}): {e}", path.display(), what(event));
                    Some(ERROR)
                }
            }
        }
    }
}

/// The event a script runs for, as its log lines name it: `session-up event of session 2 of
/// tunnel 1`.
fn what(event: &ScriptEvent) -> String {
    match event.sid {
        Some(sid) => format!(
            "{} event of session {sid} of tunnel {}",
            event.file_name(),
            event.tid
        ),
        None => format!("{} event of tunnel {}", event.file_name(), event.tid),
    }
}

/// Stops `child`, the script at `path` for `event`, which is still running after `timeout`:
/// logged, then its process group is sent SIGTERM, and SIGKILL `kill_after` later if it is
/// still there.
async fn timed_out(
    child: &mut tokio::process::Child,
    path: &Path,
    event: &ScriptEvent,
    timeout: Duration,
    kill_after: Duration,
) -> Stopped {
    let pid = child.id().unwrap_or_default();
    tracing::warn!(
        "script {} ({}, pid {pid}): still running after {timeout:?} (script_timeout); \
         stopping its process group",
        path.display(),
        what(event),
    );
    let stopped = stop::process_group(child, kill_after).await;
    if stopped == Stopped::Killed {
        tracing::warn!(
            "script {} (pid {pid}): its process group was still there {kill_after:?} after \
             SIGTERM; sent SIGKILL",
            path.display()
        );
    }
    stopped
}

#[cfg(test)]
mod tests;
