//! One watcher's connection: the items of its queue written as lines, and, when the daemon
//! stops, as many of its last events as the watcher reads in time, then the count of those it
//! did not ([`Item::Lost`]), so that a cut is never silent.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use l2tp_ctl::{Event, Reply};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::watch;
use tokio::time::Instant;

use super::queue::{Item, Watcher};

/// How long a stopping daemon gives each watcher to read its last events (l2tpwatch(1)); those
/// of 100 000 sessions take a watcher that keeps up about a second.
pub const FLUSH: Duration = Duration::from_secs(2);

/// Of [`FLUSH`], what is kept to finish the line being written and to say how many events
/// were not read.
const LOST_GRACE: Duration = Duration::from_millis(500);

/// About how many bytes of events go to a watcher in one write.
const WATCH_WRITE: usize = 64 * 1024;

/// The send buffer of a watcher's connection, as asked of the kernel (which doubles it). The
/// queue is in the daemon ([`super::queue::WATCHER_QUEUE_BYTES`]); what the kernel holds on top of it must be
/// little enough for a slow watcher to read in [`LOST_GRACE`], so that the count of the events
/// it missed at a stop reaches it.
const SEND_BUFFER: usize = 16 * 1024;

/// Streams events to a watcher until it hangs up or the daemon stops (`shutdown`), then gives
/// it at most [`FLUSH`] to read what is left.
pub async fn stream(
    mut rd: impl AsyncRead + Unpin,
    mut wr: OwnedWriteHalf,
    mut rx: Watcher,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    if let Err(e) = socket2::SockRef::from(wr.as_ref()).set_send_buffer_size(SEND_BUFFER) {
        tracing::debug!("a watcher's send buffer stays as it was: {e}");
    }
    let mut sink = [0u8; 256];
    let mut out = Outbox::default();
    loop {
        tokio::select! {
            // A piece at a time (`write` is cancel-safe): a stop in the middle of a burst knows
            // what the watcher has.
            n = wr.write(out.unwritten()), if !out.is_empty() => out.wrote(n?),
            item = rx.next(), if out.is_empty() => out.fill(item, &mut rx),
            // Anything the watcher sends is ignored; end of file means it has gone.
            r = rd.read(&mut sink) => if r? == 0 { return Ok(()) },
            _ = shutdown.changed() => break,
        }
    }
    // The daemon's last events (everything deleted) were queued before the stop.
    finish(&mut wr, &mut rx, &mut out, FLUSH).await
}

/// Writes what is left for the watcher for at most `flush`; if that is not enough, finishes
/// the line being written and tells the watcher how many events it did not get.
async fn finish(
    wr: &mut (impl AsyncWrite + Unpin),
    rx: &mut Watcher,
    out: &mut Outbox,
    flush: Duration,
) -> io::Result<()> {
    let until = Instant::now() + flush.saturating_sub(LOST_GRACE);
    loop {
        if out.is_empty() {
            match rx.try_next() {
                Some(item) => out.fill(item, rx),
                None => return wr.flush().await,
            }
        }
        match tokio::time::timeout_at(until, wr.write(out.unwritten())).await {
            Ok(n) => out.wrote(n?),
            Err(_) => break,
        }
    }
    let (rest, mut lost) = out.cut();
    while let Some(item) = rx.try_next() {
        lost += item.events();
    }
    tracing::warn!(
        "stopping: a watcher had not read its last {lost} events after {:.1}s",
        flush.as_secs_f64()
    );
    let tail = rest + &l2tp_ctl::encode_reply(&Reply::EventsLost(lost));
    // If even this does not go in time, the watcher sees the connection end.
    match tokio::time::timeout(LOST_GRACE, wr.write_all(tail.as_bytes())).await {
        Ok(r) => r,
        Err(_) => Ok(()),
    }
}

impl Item {
    /// The events this item stands for.
    fn events(&self) -> u64 {
        match self {
            Item::Event(_) => 1,
            Item::Lost(n) => *n,
        }
    }
}

/// Lines encoded for a watcher and not yet all written.
#[derive(Debug, Default)]
struct Outbox {
    text: String,
    /// How much of `text` the watcher's socket has taken.
    written: usize,
    /// Where each line of `text` ends, and the events it stands for.
    lines: VecDeque<(usize, u64)>,
}

impl Outbox {
    fn is_empty(&self) -> bool {
        self.written == self.text.len()
    }

    fn unwritten(&self) -> &[u8] {
        &self.text.as_bytes()[self.written..]
    }

    fn wrote(&mut self, n: usize) {
        self.written += n;
        if self.is_empty() {
            self.text.clear();
            self.lines.clear();
            self.written = 0;
        }
    }

    /// `first`, and what else is queued, up to about [`WATCH_WRITE`] bytes: a burst of 200 000
    /// events takes a fraction of a second, not one system call each.
    fn fill(&mut self, first: Item, rx: &mut Watcher) {
        self.push(first);
        while self.text.len() < WATCH_WRITE {
            let Some(item) = rx.try_next() else { break };
            self.push(item);
        }
    }

    /// Appends the line of one event, or of the count of those a watcher missed.
    fn push(&mut self, item: Item) {
        let events = item.events();
        let reply = match item {
            Item::Event(e) => Reply::Event(Event::clone(&e)),
            Item::Lost(n) => {
                tracing::warn!("a watcher fell behind and missed {n} events");
                Reply::EventsLost(n)
            }
        };
        self.text.push_str(&l2tp_ctl::encode_reply(&reply));
        self.lines.push_back((self.text.len(), events));
    }

    /// Gives up after the line being written: the rest of that line, and the events of the
    /// lines after it.
    fn cut(&mut self) -> (String, u64) {
        let mut rest = String::new();
        let mut events = 0;
        let mut start = 0;
        for &(end, n) in &self.lines {
            if end > self.written {
                if start < self.written {
                    rest = self.text[self.written..end].to_owned();
                } else {
                    events += n;
                }
            }
            start = end;
        }
        self.text.clear();
        self.lines.clear();
        self.written = 0;
        (rest, events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watchers::queue::Watchers;
    use l2tp_ctl::EventKind;
    use tokio::io::AsyncBufReadExt;

    const SENT: u32 = 20_000;

    /// A watcher's connection with `events` queued for it, and the daemon stopping: the
    /// watchers, the watcher's end, and the task that streams to it.
    fn stopping_with(
        events: u32,
    ) -> (
        Watchers,
        tokio::net::UnixStream,
        tokio::task::JoinHandle<io::Result<()>>,
    ) {
        let all = Watchers::new();
        let rx = all.subscribe();
        let (daemon, watcher) = tokio::net::UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
        let (rd, wr) = daemon.into_split();
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(stream(rd, wr, rx, stop_rx));
        for tid in 0..events {
            all.send(Event::new(EventKind::SessionDown, 0, tid));
        }
        stop_tx.send_replace(true);
        (all, watcher, task)
    }

    /// A watcher that reads slowly while the daemon stops gets whole lines, as many events as
    /// it read in time, and then the count of the others: never a silent cut, and the stop
    /// waits no longer than [`FLUSH`].
    #[tokio::test]
    async fn a_slow_watcher_at_the_stop_is_told_how_many_events_it_did_not_get() {
        let (_all, watcher, task) = stopping_with(SENT);
        let started = Instant::now();
        // 20 lines every 10 ms: a few thousand of the 20 000 in 2 s.
        let mut reader = tokio::io::BufReader::new(watcher);
        let mut line = String::new();
        let mut tids = Vec::new();
        let lost = loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(n > 0 && line.ends_with('\n'), "cut: {line:?}");
            match l2tp_ctl::decode_reply(&line).unwrap_or_else(|e| panic!("{e}: {line}")) {
                Reply::Event(e) => tids.push(e.tid),
                Reply::EventsLost(n) => break n,
                r => panic!("unexpected {r:?}"),
            }
            if tids.len() % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let waited = started.elapsed();
        task.await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(waited < FLUSH + Duration::from_millis(500), "{waited:?}");
        assert!(
            !tids.is_empty() && tids.len() < SENT as usize / 2,
            "{}",
            tids.len()
        );
        assert!(tids.iter().enumerate().all(|(i, t)| *t == i as u32));
        assert_eq!(tids.len() as u64 + lost, u64::from(SENT));
        // Nothing after the count: the connection ends.
        line.clear();
        assert_eq!(reader.read_line(&mut line).await.ok(), Some(0), "{line}");
    }

    /// A watcher that keeps up gets every last event, and no count.
    #[tokio::test]
    async fn a_watcher_that_keeps_up_gets_every_last_event() {
        let (all, watcher, task) = stopping_with(SENT);
        let mut lines = tokio::io::BufReader::new(watcher).lines();
        let mut n = 0u32;
        while let Some(l) = lines.next_line().await.unwrap_or_else(|e| panic!("{e}")) {
            match l2tp_ctl::decode_reply(&l).unwrap_or_else(|e| panic!("{e}: {l}")) {
                Reply::Event(e) => assert_eq!(e.tid, n),
                r => panic!("unexpected {r:?}"),
            }
            n += 1;
        }
        assert_eq!(n, SENT);
        task.await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(all.is_empty(), "the watcher left with its connection");
    }

    /// Cutting after a half-written line finishes that line and counts the lines after it,
    /// an `events_lost` line by its count.
    #[test]
    fn a_cut_finishes_the_line_being_written() {
        let mut out = Outbox::default();
        let all = Watchers::new();
        let mut rx = all.subscribe();
        for tid in 0..3 {
            all.send(Event::new(EventKind::TunnelUp, 0, tid));
        }
        let first = rx.try_next().unwrap_or_else(|| panic!("queued"));
        out.fill(first, &mut rx);
        out.push(Item::Lost(5));
        let first_end = out.lines[0].0;
        out.wrote(first_end + 3);
        let (rest, lost) = out.cut();
        assert_eq!(rest.len(), out_line_len(1) - 3);
        assert!(rest.ends_with('\n'));
        assert_eq!(lost, 1 + 5);
        assert!(out.is_empty());
    }

    fn out_line_len(tid: u32) -> usize {
        l2tp_ctl::encode_reply(&Reply::Event(Event::new(EventKind::TunnelUp, 0, tid))).len()
    }
}
