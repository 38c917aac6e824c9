//! The control socket: a Unix stream socket speaking [`l2tp_ctl`]'s newline-delimited JSON.
//!
//! [`prepare`] creates it before the daemon forks: it removes a stale socket file, refuses to
//! start when another daemon answers on the path, and sets the mode to 0600 (root only) or 0660
//! with group `control_socket_group`. [`serve`] accepts clients once the runtime runs; each
//! request is handed to the main loop as a [`Call`] and answered in order on its connection.
//!
//! Clients are limited ([`MAX_CLIENTS`] in all, [`MAX_CLIENTS_PER_USER`] for each user other
//! than root, and [`ROOT_RESERVED`] slots that only root's clients take), so that no member of
//! `control_socket_group` can lock root, or the other members, out.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use l2tp_ctl::{CtlError, ErrorKind, MAX_LINE, Reply, Request, Response};

use crate::engine::ListCursor;
use crate::watchers::Watchers;
use nix::sys::stat::{Mode, umask};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

/// The most clients served at once; more are told the daemon is busy.
pub const MAX_CLIENTS: usize = 64;
/// The most clients one user other than root may have at once.
pub const MAX_CLIENTS_PER_USER: usize = 16;
/// Client slots that only root's clients take.
pub const ROOT_RESERVED: usize = 8;

/// The number of clients of each user other than root.
type PerUser = Arc<Mutex<HashMap<u32, usize>>>;

/// The client slots: all of them, those users other than root may take, and each user's count.
#[derive(Clone, Debug)]
struct Slots {
    all: Arc<Semaphore>,
    not_root: Arc<Semaphore>,
    per_user: PerUser,
}

/// A client's slot, given back when dropped.
#[derive(Debug)]
struct Slot {
    _all: tokio::sync::OwnedSemaphorePermit,
    _not_root: Option<tokio::sync::OwnedSemaphorePermit>,
    user: Option<(u32, PerUser)>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((uid, map)) = &self.user
            && let Ok(mut m) = map.lock()
            && let Some(n) = m.get_mut(uid)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(uid);
            }
        }
    }
}

impl Slots {
    fn new() -> Self {
        Self {
            all: Arc::new(Semaphore::new(MAX_CLIENTS)),
            not_root: Arc::new(Semaphore::new(MAX_CLIENTS - ROOT_RESERVED)),
            per_user: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A slot for a client of user `uid` (`None`: unknown, counted as one user), or why not.
    fn take(&self, uid: Option<u32>) -> Result<Slot, &'static str> {
        if uid == Some(0) {
            let all = self.all.clone().try_acquire_owned();
            return all
                .map(|p| Slot {
                    _all: p,
                    _not_root: None,
                    user: None,
                })
                .map_err(|_| "too many control clients; try again");
        }
        let uid = uid.unwrap_or(u32::MAX);
        let mut users = self
            .per_user
            .lock()
            .map_err(|_| "too many control clients; try again")?;
        let n = users.entry(uid).or_insert(0);
        if *n >= MAX_CLIENTS_PER_USER {
            return Err("too many control clients of this user; try again");
        }
        let not_root = self.not_root.clone().try_acquire_owned();
        let all = self.all.clone().try_acquire_owned();
        let (Ok(not_root), Ok(all)) = (not_root, all) else {
            return Err("too many control clients; try again");
        };
        *n += 1;
        Ok(Slot {
            _all: all,
            _not_root: Some(not_root),
            user: Some((uid, self.per_user.clone())),
        })
    }
}

/// A request from a client, for the main loop, with where to send the answer.
#[derive(Debug)]
pub struct Call {
    /// The request (never [`Request::Watch`], which the connection handles).
    pub request: Request,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<Response, CtlError>>,
}

/// One page of `show tunnels` or `show sessions`, asked of the main loop: the connection task
/// asks page after page, so that a listing of 100 000 sessions never holds the loop for long,
/// and writes them out (one line per page when the client asked for a stream).
#[derive(Debug)]
pub struct PageCall {
    /// The listing.
    pub request: Request,
    /// Where the page starts (`None`: at the beginning).
    pub from: Option<ListCursor>,
    /// The page (a [`Response::Tunnels`] or [`Response::Sessions`]), and where the next one
    /// starts.
    pub reply: oneshot::Sender<Result<(Response, Option<ListCursor>), CtlError>>,
}

/// The bound control socket and the identity of its file, so that only our own file is
/// removed at exit.
#[derive(Debug)]
pub struct ControlSocket {
    /// The listening socket (non-blocking).
    pub listener: UnixListener,
    path: PathBuf,
    id: (u64, u64),
}

impl ControlSocket {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the socket file if it is still the one this daemon created.
    pub fn remove_file(&self) {
        remove_if_ours(&self.path, self.id);
    }
}

fn remove_if_ours(path: &Path, id: (u64, u64)) {
    if let Ok(m) = std::fs::symlink_metadata(path)
        && (m.dev(), m.ino()) == id
    {
        let _ = std::fs::remove_file(path);
    }
}

/// The id of `control_socket_group` `name`, or why it has none (`l2tpd -n` asks too).
pub fn group_id(name: &str) -> Result<nix::unistd::Gid, String> {
    nix::unistd::Group::from_name(name)
        .map_err(|e| format!("control_socket_group \"{name}\": {e}"))?
        .map(|g| g.gid)
        .ok_or_else(|| format!("control_socket_group \"{name}\": no such group"))
}

/// Why `config`'s `control_socket_group` cannot be used on this host, if it cannot: the
/// group is the host's, not the file's, so a file that names one the host lacks would not
/// start here (`l2tpd -n` and a reload refuse it).
pub fn group_problem(config: &l2tp_config::Config) -> Option<String> {
    group_id(config.system().control_socket_group.as_deref()?).err()
}

/// Creates the control socket at `path`, group-accessible by `group` if given.
pub fn prepare(path: &Path, group: Option<&str>) -> Result<ControlSocket, String> {
    let shown = path.display();
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "cannot create {} for the control socket: {e}",
                dir.display()
            )
        })?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => match UnixStream::connect(path) {
            Ok(_) => {
                return Err(format!(
                    "another l2tpd is running: something answers on the control socket \
                     {shown} (stop it, or set control_socket to another path)"
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                tracing::info!("removing stale control socket {shown}");
                std::fs::remove_file(path)
                    .map_err(|e| format!("cannot remove stale control socket {shown}: {e}"))?;
            }
            Err(e) => return Err(format!("cannot check control socket {shown}: {e}")),
        },
        Ok(_) => {
            return Err(format!(
                "{shown} exists and is not a socket: remove it or set control_socket"
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot check control socket {shown}: {e}")),
    }
    let gid = group.map(group_id).transpose()?;
    // Create the socket file without group or other access, so that there is no moment at
    // which anyone else could connect.
    let old = umask(Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    umask(old);
    let listener = bound.map_err(|e| format!("cannot create control socket {shown}: {e}"))?;
    let mode = if let Some(gid) = gid {
        nix::unistd::chown(path, None, Some(gid))
            .map_err(|e| format!("cannot give control socket {shown} to its group: {e}"))?;
        0o660
    } else {
        0o600
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of control socket {shown}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("control socket {shown}: {e}"))?;
    let m = std::fs::symlink_metadata(path).map_err(|e| format!("control socket {shown}: {e}"))?;
    Ok(ControlSocket {
        listener,
        path: path.to_owned(),
        id: (m.dev(), m.ino()),
    })
}

/// The main loop's side of the control socket: where requests and pages go.
#[derive(Clone, Debug)]
pub struct Lines {
    /// Requests.
    pub calls: mpsc::Sender<Call>,
    /// Pages of listings.
    pub pages: mpsc::Sender<PageCall>,
}

/// Accepts clients until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::UnixListener,
    calls: Lines,
    events: Watchers,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Slots::new();
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("control socket: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let uid = stream.peer_cred().ok().map(|c| c.uid());
        let permit = match slots.take(uid) {
            Ok(p) => p,
            Err(why) => {
                tracing::debug!("control client of uid {uid:?} refused: {why}");
                tokio::spawn(refuse(stream, why));
                continue;
            }
        };
        let (calls, events, shutdown) = (calls.clone(), events.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = connection(stream, calls, events, shutdown).await {
                tracing::debug!("control client: {e}");
            }
            drop(permit);
        });
    }
}

/// Tells a client it cannot be served. Its request is read (for a moment) and dropped rather
/// than left unread, so that the client's write does not fail before it reads why.
async fn refuse(mut stream: tokio::net::UnixStream, why: &'static str) {
    let busy = CtlError::new(ErrorKind::Busy, why);
    if stream
        .write_all(l2tp_ctl::encode_reply(&Reply::Error(busy)).as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 1024];
    let drain = async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(REFUSAL_DRAIN, drain).await;
}

/// How long a refused client's request is waited for.
const REFUSAL_DRAIN: std::time::Duration = std::time::Duration::from_millis(200);

async fn connection(
    stream: tokio::net::UnixStream,
    calls: Lines,
    events: Watchers,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut rd).take(MAX_LINE as u64 + 1);
        let n = tokio::select! {
            r = limited.read_until(b'\n', &mut line) => r?,
            _ = shutdown.changed() => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            let e = CtlError::new(ErrorKind::BadRequest, "request line too long");
            wr.write_all(l2tp_ctl::encode_reply(&Reply::Error(e)).as_bytes())
                .await?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let reply = match l2tp_ctl::decode_request(&text) {
            Err(e) => Reply::Error(e),
            Ok(Request::Watch) => {
                let rx = events.subscribe();
                wr.write_all(l2tp_ctl::encode_reply(&Reply::Ok(Response::Watching)).as_bytes())
                    .await?;
                return crate::watchers::stream(rd, wr, rx, shutdown).await;
            }
            Ok(request @ (Request::ShowTunnels { .. } | Request::ShowSessions { .. })) => {
                tracing::debug!("control request: {request:?}");
                list(&mut wr, &calls.pages, request).await?;
                continue;
            }
            Ok(request) => {
                tracing::debug!("control request: {request:?}");
                let (tx, rx) = oneshot::channel();
                let stopping = || CtlError::new(ErrorKind::Busy, "l2tpd is shutting down");
                if calls.calls.send(Call { request, reply: tx }).await.is_err() {
                    Reply::Error(stopping())
                } else {
                    Reply::from(rx.await.unwrap_or_else(|_| Err(stopping())))
                }
            }
        };
        wr.write_all(l2tp_ctl::encode_reply(&reply).as_bytes())
            .await?;
    }
}

/// Answers `show tunnels` or `show sessions` page by page: each page is one short turn of the
/// main loop. With `stream`, each page goes out as its own line (all but the last marked
/// `more`); without, the pages are gathered into one line, however long. `limit` stops the
/// listing once that many have been sent.
async fn list(
    wr: &mut tokio::net::unix::OwnedWriteHalf,
    pages: &mpsc::Sender<PageCall>,
    request: Request,
) -> io::Result<()> {
    let options = match &request {
        Request::ShowTunnels { list } | Request::ShowSessions { list, .. } => list.clone(),
        _ => Default::default(),
    };
    let mut left = options.limit.map_or(usize::MAX, |n| n as usize);
    let mut gathered: Option<Response> = None;
    let mut from = None;
    loop {
        let (tx, rx) = oneshot::channel();
        let call = PageCall {
            request: request.clone(),
            from: from.take(),
            reply: tx,
        };
        let stopping = || CtlError::new(ErrorKind::Busy, "l2tpd is shutting down");
        let answer = if pages.send(call).await.is_err() {
            Err(stopping())
        } else {
            rx.await.unwrap_or_else(|_| Err(stopping()))
        };
        let (mut page, next) = match answer {
            Ok(x) => x,
            Err(e) => {
                let line = l2tp_ctl::encode_reply(&Reply::Error(e));
                return wr.write_all(line.as_bytes()).await;
            }
        };
        left -= truncate(&mut page, left);
        let more = next.is_some() && left > 0;
        if options.stream {
            let line = l2tp_ctl::encode_page(&Reply::Ok(page), more);
            wr.write_all(line.as_bytes()).await?;
        } else {
            match (&mut gathered, page) {
                (Some(Response::Tunnels(all)), Response::Tunnels(t)) => all.extend(t),
                (Some(Response::Sessions(all)), Response::Sessions(s)) => all.extend(s),
                (g, page) => *g = Some(page),
            }
        }
        if !more {
            break;
        }
        from = next;
    }
    if let Some(all) = gathered {
        let line = l2tp_ctl::encode_reply(&Reply::Ok(all));
        wr.write_all(line.as_bytes()).await?;
    }
    Ok(())
}

/// Keeps at most `left` items of a page; returns how many it kept.
fn truncate(page: &mut Response, left: usize) -> usize {
    match page {
        Response::Tunnels(t) => {
            t.truncate(left);
            t.len()
        }
        Response::Sessions(s) => {
            s.truncate(left);
            s.len()
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_user_can_lock_out_root_or_the_others() {
        let slots = Slots::new();
        let mut held = Vec::new();
        // One user: up to its own cap.
        for _ in 0..MAX_CLIENTS_PER_USER {
            held.push(slots.take(Some(1000)).unwrap_or_else(|e| panic!("{e}")));
        }
        assert_eq!(
            slots.take(Some(1000)).err(),
            Some("too many control clients of this user; try again")
        );
        // Other users fill what is left to them, but not root's reserve.
        let mut uid = 1001;
        while let Ok(s) = slots.take(Some(uid)) {
            held.push(s);
            if held.len() % MAX_CLIENTS_PER_USER == 0 {
                uid += 1;
            }
        }
        assert_eq!(held.len(), MAX_CLIENTS - ROOT_RESERVED);
        for _ in 0..ROOT_RESERVED {
            held.push(slots.take(Some(0)).unwrap_or_else(|e| panic!("{e}")));
        }
        assert!(slots.take(Some(0)).is_err());
        // A client that leaves gives its slot back, to its user.
        held.remove(0);
        assert!(slots.take(Some(1000)).is_ok());
        let counts = slots.per_user.lock().map(|m| m.get(&1000).copied());
        assert_eq!(counts.ok().flatten(), Some(MAX_CLIENTS_PER_USER - 1));
    }
}
