//! The metrics endpoint: a minimal HTTP/1.x responder on tokio for `GET /metrics`.
//!
//! One request per connection (the answer says `Connection: close`), so there is no
//! keep-alive, pipelining or request body to handle. Clients are hostile until their request
//! is read: the request head is bounded ([`MAX_REQUEST`]), reading and writing have a deadline
//! ([`IO_TIMEOUT`]), at most [`MAX_WAITING`] connections wait for their request (a new one
//! closes the one that has waited longest, so idle clients cannot keep a scraper out), and at
//! most [`MAX_CONNECTIONS`] requests are answered at once (the others wait their turn). Only
//! `GET` and `HEAD` of `/metrics` are answered with metrics; any other path is 404 whatever the
//! method, another method of `/metrics` 405.
//!
//! The task never touches the daemon's state: it asks the main loop for a [`Snapshot`] through
//! a channel (as control requests do) and encodes it on tokio's blocking pool, so the loop only
//! copies counters.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use super::encode::{self, Format};
use super::snapshot::Snapshot;

/// The longest request head read (request line and headers).
pub const MAX_REQUEST: usize = 8 * 1024;

/// The longest wait for a client's request, for the snapshot, and for writing the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The most requests answered at once (snapshot, encoding, writing).
pub const MAX_CONNECTIONS: usize = 16;

/// The most connections kept waiting for their request; a new one beyond closes the one that
/// has waited longest.
pub const MAX_WAITING: usize = 64;

/// A scrape's request for a snapshot, for the main loop.
#[derive(Debug)]
pub struct Scrape {
    /// Where the snapshot goes.
    pub reply: oneshot::Sender<Snapshot>,
}

/// Binds the listening sockets of `metrics_listen` (before the fork, so that a failure is seen).
pub fn bind(addrs: &[std::net::SocketAddr]) -> Result<Vec<std::net::TcpListener>, String> {
    addrs
        .iter()
        .map(|a| {
            let l = std::net::TcpListener::bind(a)
                .map_err(|e| format!("cannot listen for metrics on {a}: {e}"))?;
            l.set_nonblocking(true)
                .map_err(|e| format!("metrics socket {a}: {e}"))?;
            Ok(l)
        })
        .collect()
}

/// Serves the metrics on every listener until `shutdown` turns true.
pub async fn serve(
    listeners: Vec<TcpListener>,
    scrapes: mpsc::Sender<Scrape>,
    shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let waiting = Arc::new(Waiting::default());
    let mut tasks = tokio::task::JoinSet::new();
    for listener in listeners {
        tasks.spawn(accept(
            listener,
            scrapes.clone(),
            slots.clone(),
            waiting.clone(),
            shutdown.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
}

/// The connections that have not sent their request yet, oldest first, each with the sender
/// whose drop closes it.
#[derive(Debug, Default)]
struct Waiting {
    queue: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
    next: AtomicU64,
}

impl Waiting {
    /// Registers a new connection; returns its id and what tells it to close. The oldest one
    /// is told so when [`MAX_WAITING`] already wait.
    fn admit(&self) -> (u64, oneshot::Receiver<()>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() >= MAX_WAITING && queue.pop_front().is_some() {
            tracing::debug!("metrics: {MAX_WAITING} clients without a request; the oldest closed");
        }
        queue.push_back((id, tx));
        (id, rx)
    }

    /// Connection `id` has its request, or is gone.
    fn leave(&self, id: u64) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.retain(|(i, _)| *i != id);
    }
}

async fn accept(
    listener: TcpListener,
    scrapes: mpsc::Sender<Scrape>,
    slots: Arc<Semaphore>,
    waiting: Arc<Waiting>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!("metrics: accept: {e}");
                    // e.g. EMFILE: do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let (id, evicted) = waiting.admit();
        let scrapes = scrapes.clone();
        let slots = slots.clone();
        let waiting = waiting.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, id, evicted, &waiting, &slots, &scrapes).await {
                tracing::debug!("metrics: client: {e}");
            }
            waiting.leave(id);
        });
    }
}

/// What a request asks for.
#[derive(Debug, Eq, PartialEq)]
pub(crate) enum Request {
    /// `GET /metrics` (`head`: `HEAD`, no body), in this format.
    Metrics { format: Format, head: bool },
    /// Another path.
    NotFound,
    /// Another method on `/metrics`.
    MethodNotAllowed,
    /// Not an HTTP request.
    Bad,
}

/// Reads a request head: the request line and headers up to the empty line. A line ends in
/// CRLF, or in a bare LF (RFC 9112 section 2.2 lets a recipient take it as one).
pub(crate) fn parse(head: &[u8]) -> Request {
    let Ok(text) = std::str::from_utf8(head) else {
        return Request::Bad;
    };
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let Some(line) = lines.next() else {
        return Request::Bad;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Request::Bad;
    };
    if !version.starts_with("HTTP/1.") {
        return Request::Bad;
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if path != "/metrics" {
        return Request::NotFound;
    }
    let head = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Request::MethodNotAllowed,
    };
    let accept = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("accept"))
        .map(|(_, value)| value.trim());
    Request::Metrics {
        format: Format::from_accept(accept),
        head,
    }
}

async fn connection(
    mut stream: TcpStream,
    id: u64,
    evicted: oneshot::Receiver<()>,
    waiting: &Waiting,
    slots: &Semaphore,
    scrapes: &mpsc::Sender<Scrape>,
) -> io::Result<()> {
    let head = tokio::select! {
        r = tokio::time::timeout(IO_TIMEOUT, read_head(&mut stream)) => match r {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        },
        // Closed to make room for a newer client.
        _ = evicted => return Ok(()),
    };
    waiting.leave(id);
    let Ok(Ok(_permit)) = tokio::time::timeout(IO_TIMEOUT, slots.acquire()).await else {
        let busy = response(
            "503 Service Unavailable",
            "text/plain; charset=utf-8",
            "too many scrapes at once\n",
            false,
        );
        return write_answer(&mut stream, &busy).await;
    };
    let request = head.map_or(Request::Bad, |h| parse(&h));
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    tracing::debug!("metrics: {request:?} from {peer}");
    let answer = match request {
        Request::Metrics { format, head } => match snapshot(scrapes).await {
            // Encoded on the blocking pool: the runtime has one thread, the main loop's.
            Some(s) => {
                match tokio::task::spawn_blocking(move || encode::encode(Arc::new(s), format)).await
                {
                    Ok(body) => response("200 OK", format.content_type(), &body, head),
                    Err(_) => response(
                        "500 Internal Server Error",
                        "text/plain; charset=utf-8",
                        "encoding failed\n",
                        false,
                    ),
                }
            }
            None => response(
                "503 Service Unavailable",
                "text/plain; charset=utf-8",
                "l2tpd is busy or stopping\n",
                false,
            ),
        },
        Request::NotFound => response(
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: the metrics are at /metrics\n",
            false,
        ),
        Request::MethodNotAllowed => response(
            "405 Method Not Allowed\r\nAllow: GET, HEAD",
            "text/plain; charset=utf-8",
            "method not allowed\n",
            false,
        ),
        Request::Bad => response(
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "bad request\n",
            false,
        ),
    };
    write_answer(&mut stream, &answer).await
}

/// Writes `answer` and closes the connection, within [`IO_TIMEOUT`].
async fn write_answer(stream: &mut TcpStream, answer: &[u8]) -> io::Result<()> {
    match tokio::time::timeout(IO_TIMEOUT, async {
        stream.write_all(answer).await?;
        stream.shutdown().await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Ok(()),
    }
}

/// The request head, without its final empty line; `None` (a bad request) when it is longer
/// than [`MAX_REQUEST`] bytes, or the client hung up first.
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(end) = head_end(&buf) {
            if end > MAX_REQUEST {
                return Ok(None);
            }
            buf.truncate(end);
            return Ok(Some(buf));
        }
        if buf.len() > MAX_REQUEST {
            return Ok(None);
        }
    }
}

/// Where the empty line that ends a request head starts: after a line's LF, an LF or a CRLF.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.iter().enumerate().find_map(|(i, b)| {
        let rest = buf.get(i + 1..)?;
        (*b == b'\n' && (rest.starts_with(b"\n") || rest.starts_with(b"\r\n"))).then_some(i)
    })
}

/// A snapshot from the main loop; `None` when it does not answer in time or is stopping.
async fn snapshot(scrapes: &mpsc::Sender<Scrape>) -> Option<Snapshot> {
    let (tx, rx) = oneshot::channel();
    let ask = async {
        scrapes.send(Scrape { reply: tx }).await.ok()?;
        rx.await.ok()
    };
    tokio::time::timeout(IO_TIMEOUT, ask).await.ok().flatten()
}

/// A whole HTTP/1.1 response that closes the connection.
pub(crate) fn response(status: &str, content_type: &str, body: &str, head: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        out.extend_from_slice(body.as_bytes());
    }
    out
}
