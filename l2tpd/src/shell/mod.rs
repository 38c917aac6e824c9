//! The main loop: one task owns the [`Core`], the sockets and the data plane. It feeds the core
//! datagrams, control requests, data-plane reports, signals and timeouts, then carries out what
//! the engine asks for: datagrams to send, tunnel sockets to open and close, data-plane
//! requests (whose outcome it hands back), events for watchers and user scripts.
//!
//! Signals: SIGHUP re-reads the config (off the loop, [`reload`]); SIGTERM and SIGINT stop gracefully, waiting at most
//! [`SHUTDOWN_GRACE`] for the engine to finish, and the peers at least [`stopping::ACK_WAIT`]
//! after the last StopCCN (a second signal stops at once); SIGUSR1 flushes
//! the log and re-opens the log file.
//!
//! Under systemd ([`Notifier`]) the loop says when it is ready, reloading and stopping, keeps
//! the status line's counts current, and sends the watchdog's pings itself: a loop that hangs
//! stops pinging.
//!
//! Once a second the loop also looks after small things: which user scripts exist, learnt
//! marks that expired, the log's buffer; and once a period (ten seconds for the userspace data
//! plane, longer for the kernel's) it sums up what the data plane dropped in one warning, if it
//! dropped anything ([`DropSummary`]).

use std::io;

use std::time::{Duration, Instant};

use l2tp_proto::wire::header::{Encapsulation, Packet};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::control::{self, Call, Lines, PageCall};
use crate::core::Core;
use crate::dataplane::drops::DropSummary;
use crate::dataplane::{DataplaneEvent, DataplaneHost, ShellSocket};
use crate::engine::EngineEvent;
use crate::logging::LogHandle;
use crate::marks::nfq::NfqMessage;
use crate::marks::{self, Learnt, MarkSource};
use crate::metrics;
use crate::notice;
use crate::notify::Notifier;
use crate::radius::{FromRadius, Radius, Setup};
use crate::scripts::ScriptRunner;
use crate::watchers::{self, Watchers};

mod reload;
mod sockets;
mod stopping;

use reload::Reloads;
pub use sockets::Sockets;
use sockets::{FromSocket, Inbound, Listen, receive, receive_nfq, send_all};
pub use stopping::SHUTDOWN_GRACE;
use stopping::Stopping;

/// The longest a stopping daemon waits for the scripts of the last events.
pub const SCRIPT_GRACE: Duration = Duration::from_secs(3);

/// The longest a peer's name may take to resolve.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a stopping daemon waits for its last accounting records to be answered.
pub const RADIUS_GRACE: Duration = Duration::from_secs(3);

/// How long a daemon stopping at once gives the RADIUS task to say whether any accounting
/// record is still unanswered (it answers at once when none is).
const RADIUS_AT_ONCE: Duration = Duration::from_millis(100);

/// The signals the daemon handles, registered before it reports ready so that none of them
/// can kill it with its default action.
#[derive(Debug)]
pub struct Signals {
    hup: Signal,
    term: Signal,
    int: Signal,
    usr1: Signal,
    /// Has no meaning here; handled so that a stray one (a rotation script written for another
    /// daemon) is logged instead of killing the daemon without its clean-up.
    usr2: Signal,
}

impl Signals {
    /// Registers the handlers. Needs the runtime.
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
        })
    }
}

/// Runs the daemon until SIGTERM or SIGINT and a graceful stop.
pub async fn run(
    mut core: Core,
    mut sockets: Sockets,
    mut plane: DataplaneHost,
    control: tokio::net::UnixListener,
    mut signals: Signals,
    log: LogHandle,
    mut notifier: Notifier,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (calls_tx, mut calls) = mpsc::channel::<Call>(64);
    let (pages_tx, mut pages) = mpsc::channel::<PageCall>(64);
    let events_tx = Watchers::new();
    let (dgram_tx, mut datagrams) = mpsc::channel::<FromSocket>(1024);

    for (framing, local, socket, marks) in &sockets.list {
        tokio::spawn(receive(
            (
                Listen {
                    framing: *framing,
                    local: *local,
                    marks: *marks,
                },
                None,
            ),
            socket.clone(),
            dgram_tx.clone(),
            stop_rx.clone(),
        ));
    }
    let (nfq_tx, mut nfq_messages) = mpsc::channel::<NfqMessage>(64);
    if let Some(nfq) = sockets.nfq.take() {
        match tokio::net::UnixDatagram::from_std(nfq) {
            Ok(nfq) => {
                tokio::spawn(receive_nfq(nfq, nfq_tx, stop_rx.clone()));
            }
            Err(e) => tracing::error!("nfq_socket: cannot register it: {e}"),
        }
    }
    tokio::spawn(control::serve(
        control,
        Lines {
            calls: calls_tx,
            pages: pages_tx,
        },
        events_tx.clone(),
        stop_rx.clone(),
    ));
    // Scrapes ask the loop for a snapshot, which the endpoint encodes on its own.
    let (scrapes_tx, mut scrapes) = mpsc::channel::<metrics::Scrape>(8);
    let listeners: Vec<tokio::net::TcpListener> = std::mem::take(&mut sockets.metrics)
        .into_iter()
        .filter_map(|l| match tokio::net::TcpListener::from_std(l) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!("metrics: cannot register a listening socket: {e}");
                None
            }
        })
        .collect();
    if !listeners.is_empty() {
        tokio::spawn(metrics::serve(
            listeners,
            scrapes_tx.clone(),
            stop_rx.clone(),
        ));
    }

    let mut scripts = ScriptRunner::new(
        usize::try_from(core.config().system().max_scripts).unwrap_or(usize::MAX),
    );
    // Which scripts exist, looked at again every second (`flush`): the engine builds no
    // event for a script that does not.
    let kinds = scripts.kinds(&core.config().system().script_dir);
    core.set_script_kinds(kinds);
    let mut dataplane_events = plane.take_events();
    let (radius_tx, mut radius_rx) = mpsc::channel::<FromRadius>(1024);
    let radius = Radius::start(Setup::of(core.config()), radius_tx, stop_rx.clone());
    let mut fallback_events = plane.take_fallback_events();
    let mut flush = tokio::time::interval(Duration::from_secs(1));
    // What the data plane dropped, summed up in one line a period (at a `flush`).
    // Named after the data plane; a fallback's drops (always the userspace plane's, whose
    // period is the shortest) are summed with its own.
    let main = plane.dataplane();
    // Without a data plane, what is summed up is what the daemon read on the tunnels'
    // sockets (the peers' port unreachables).
    let name = match main.name() {
        "none" => "l2tpd (no data plane)".to_string(),
        plane => format!("{plane} data plane"),
    };
    let mut drops = DropSummary::new(Instant::now(), main.drops_period(), name);
    let (resolved_tx, mut resolved_rx) = mpsc::channel::<Resolved>(64);
    let io = Io {
        to_core: dgram_tx.clone(),
        stop: stop_rx.clone(),
        resolved: resolved_tx,
        radius: &radius,
    };
    let watchdog_every = notifier.watchdog_interval();
    let mut watchdog = tokio::time::interval(watchdog_every.unwrap_or(Duration::from_secs(3600)));
    watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping: Option<Stopping> = None;
    // A second SIGTERM or SIGINT: the stop waits for nothing more (l2tpd(8), SIGNALS).
    let mut at_once = false;
    let mut reloads = Reloads::new();
    // What the config's instances asked for at start.
    carry_out(
        &mut core,
        &mut plane,
        &mut sockets,
        &mut scripts,
        &events_tx,
        &io,
    );
    send_all(&mut core, &mut sockets, &mut plane).await;
    notifier.ready(core.counts());
    loop {
        let wake = match (core.poll_timeout(), stopping.and_then(|s| s.deadline())) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep =
            tokio::time::sleep_until(wake.map_or_else(far_future, tokio::time::Instant::from_std));
        tokio::select! {
            _ = signals.term.recv() => {
                reloads.stop();
                if begin_stop(&mut core, &mut stopping, &mut notifier, "SIGTERM") {
                    at_once = true;
                    break;
                }
            }
            _ = signals.int.recv() => {
                reloads.stop();
                if begin_stop(&mut core, &mut stopping, &mut notifier, "SIGINT") {
                    at_once = true;
                    break;
                }
            }
            _ = signals.hup.recv() => {
                notice!("SIGHUP: re-reading the config");
                // Problems are logged by the core; the running config stays.
                reloads.request(&core, &mut notifier, None);
            }
            prepared = reloads.prepared() => {
                reloads.finish(&mut core, prepared, &mut notifier, &radius);
            }
            _ = signals.usr1.recv() => {
                log.flush();
                if let Err(e) = log.reopen() {
                    tracing::error!("SIGUSR1: {e}");
                }
            }
            _ = signals.usr2.recv() => {
                tracing::warn!("SIGUSR2 ignored: it has no meaning for l2tpd (see l2tpd(8), SIGNALS)");
            }
            Some(page) = pages.recv() => {
                let answer = core.handle_page(Instant::now(), &page.request, page.from.as_ref());
                // The client may have gone; nothing to do then.
                let _ = page.reply.send(answer);
            }
            Some(call) = calls.recv() => {
                if matches!(call.request, l2tp_ctl::Request::Reload) {
                    // Answered once read (off the loop) and applied.
                    core.count_control_request();
                    reloads.request(&core, &mut notifier, Some(call.reply));
                    continue;
                }
                let mut answer = core.handle_request(Instant::now(), call.request, &plane);
                if let Ok(l2tp_ctl::Response::Radius(info)) = &mut answer {
                    radius.add_status(info);
                }
                // The client may have gone; nothing to do then.
                let _ = call.reply.send(answer);
            }
            Some(scrape) = scrapes.recv() => {
                let mut snapshot = core.metrics(Instant::now(), &plane);
                snapshot.scripts = scripts.figures();
                radius.add_status(&mut snapshot.radius);
                // The client may have gone; nothing to do then.
                let _ = scrape.reply.send(snapshot);
            }
            Some(from) = datagrams.recv() => match from {
                FromSocket::Datagram(d) => on_datagram(&mut core, &mut plane, d),
                FromSocket::PeerUnreachable(tid) => plane.note_peer_unreachable(tid),
            },
            Some(m) = nfq_messages.recv() => {
                let host_name = l2tp_ctl::text::quoted(&m.host_name).to_string();
                tracing::debug!(
                    "l2tp-nfqd: peer {} tunnel id {} (host name {host_name}) has mark {:#x}",
                    m.peer,
                    m.peer_tid,
                    m.mark
                );
                let learnt = Learnt { mark: m.mark, source: MarkSource::Nfq { host_name } };
                plane.learn_mark(Instant::now(), (m.peer.into(), m.peer_tid), learnt);
            }
            Some((host, result)) = resolved_rx.recv() => {
                core.handle_resolved(Instant::now(), &host, result);
            }
            Some(r) = radius_rx.recv() => match r {
                FromRadius::Outcome { key, outcome } => {
                    core.handle_radius(Instant::now(), key, outcome);
                }
                FromRadius::DynAuth { id, kind, attributes, from } => {
                    tracing::info!("RADIUS: {kind:?}-Request from {from}");
                    let answer = core.handle_dynauth(Instant::now(), kind, &attributes);
                    radius.answer(id, answer);
                }
            },
            Some(e) = next_event(&mut dataplane_events) => {
                dataplane_event(&mut core, &mut plane, e);
            }
            Some(e) = next_event(&mut fallback_events) => {
                dataplane_event(&mut core, &mut plane, e);
            }
            _ = sleep, if wake.is_some() => {
                let now = Instant::now();
                if let Some(took) = stopping.and_then(|s| s.over(now)) {
                    tracing::warn!(
                        "graceful stop took longer than {:.1}s; stopping anyway",
                        took.as_secs_f64()
                    );
                    break;
                }
                core.handle_timeout(now);
            }
            _ = flush.tick() => {
                let kinds = scripts.kinds(&core.config().system().script_dir);
                core.set_script_kinds(kinds);
                plane.expire_marks(Instant::now());
                if let Some(line) = drops.poll(Instant::now(), || plane.drops()) {
                    tracing::warn!("{line}");
                }
                log.flush();
                let counts = core.counts();
                // Room in each watcher's queue for every session's events at once.
                events_tx.set_sessions(counts.sessions as usize);
                notifier.update_status(counts);
            }
            _ = watchdog.tick(), if watchdog_every.is_some() => notifier.watchdog(),
        }
        carry_out(
            &mut core,
            &mut plane,
            &mut sockets,
            &mut scripts,
            &events_tx,
            &io,
        );
        send_all(&mut core, &mut sockets, &mut plane).await;
        if let Some(s) = stopping.as_mut() {
            if core.is_idle() {
                break;
            }
            if core.stopccns_sent() {
                s.goodbyes_out(Instant::now());
            }
        }
    }
    drop(scrapes_tx);
    core.finish_shutdown();
    let mut last_scripts = Vec::new();
    while let Some(e) = core.poll_event() {
        match e {
            EngineEvent::Notify(e) => {
                events_tx.send(e);
            }
            EngineEvent::Script(s) => last_scripts.push(s),
            // The last Stops (with the counters, still in the data plane) and Accounting-Off.
            EngineEvent::Radius(r) => {
                let stats = radius_counters(&r, &plane);
                radius.send(r, stats.as_ref());
            }
            // Nothing else comes after the engine has finished.
            _ => {}
        }
    }
    let answered = if at_once {
        // Only whether any is left: the RADIUS task answers at once when none is.
        Some(radius.flush(RADIUS_AT_ONCE).await)
    } else {
        unless_stopped(&mut at_once, &mut signals, radius.flush(RADIUS_GRACE)).await
    };
    match answered {
        Some(true) => {}
        Some(false) if at_once => {
            tracing::warn!("RADIUS: accounting records still unanswered are lost")
        }
        Some(false) => tracing::warn!(
            "RADIUS: accounting records still unanswered after {}s are lost",
            RADIUS_GRACE.as_secs()
        ),
        None => tracing::warn!("RADIUS: accounting records still unanswered are lost"),
    }
    if let Some(line) = drops.last_look(Instant::now(), || plane.drops()) {
        tracing::warn!("{line}");
    }
    let (t, s) = plane.counts();
    if t + s > 0 {
        tracing::info!("removing {t} tunnel(s) and {s} session(s) from the data plane");
    }
    plane.remove_all();
    let _ = stop_tx.send(true);
    // Give the watchers a moment to read those last events before the runtime ends: each
    // connection ends by itself once its watcher has them, or has been told how many it missed
    // (`watchers::stream`).
    let flush_until = Instant::now() + watchers::FLUSH + Duration::from_millis(200);
    let flushed = async {
        while !events_tx.is_empty() && Instant::now() < flush_until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    unless_stopped(&mut at_once, &mut signals, flushed).await;
    if at_once {
        if !last_scripts.is_empty() {
            tracing::warn!(
                "stopping at once: {} user script(s) of the last events not run",
                last_scripts.len()
            );
        }
        return;
    }
    let sys = core.config().system();
    let timeout = crate::scripts::script_timeout(sys.script_timeout);
    let dir = sys.script_dir.clone();
    for e in last_scripts {
        scripts.submit(&dir, timeout, e);
    }
    unless_stopped(&mut at_once, &mut signals, scripts.drain(SCRIPT_GRACE)).await;
}

/// Runs `wait` unless the stop is to happen at once (`at_once`), or becomes so: a SIGTERM or
/// SIGINT during the wait ends it, and every later one. `None` when it did not finish.
async fn unless_stopped<T>(
    at_once: &mut bool,
    signals: &mut Signals,
    wait: impl std::future::Future<Output = T>,
) -> Option<T> {
    if *at_once {
        return None;
    }
    let name = tokio::select! {
        done = wait => return Some(done),
        _ = signals.term.recv() => "SIGTERM",
        _ = signals.int.recv() => "SIGINT",
    };
    notice!("{name} again: stopping now");
    *at_once = true;
    None
}

/// A datagram read from a socket, classified once: data packets go to the data plane, the
/// rest to the core.
fn on_datagram(core: &mut Core, plane: &mut DataplaneHost, d: Inbound) {
    let packet = Packet::parse(&d.data, d.encap);
    if d.mark != 0
        && let Ok(p) = &packet
        && let Some(peer_tid) = marks::sccrq_peer_tunnel(p)
    {
        // Before the core sees the SCCRQ: the tunnel's socket opens with the mark.
        let learnt = Learnt {
            mark: d.mark,
            source: MarkSource::Sccrq,
        };
        plane.learn_mark(Instant::now(), (d.remote.ip(), peer_tid), learnt);
    }
    let data = matches!(packet, Ok(Packet::V2Data { .. } | Packet::V3Data { .. }))
        // Over IP, data from no tunnel's peer reached no data socket: the engine counts and
        // logs it.
        && (d.encap == Encapsulation::Udp || plane.is_ip_peer(d.remote.ip()));
    if !(data && plane.handle_data(d.encap, &d.data)) {
        let addrs = (d.local, d.remote);
        core.handle_packet(Instant::now(), addrs, d.encap, packet, d.data.len());
    }
}

/// What the tasks the shell starts need: the readers of new tunnel sockets, the resolvers of
/// peers' names, and the RADIUS client.
struct Io<'a> {
    to_core: mpsc::Sender<FromSocket>,
    stop: watch::Receiver<bool>,
    resolved: mpsc::Sender<Resolved>,
    radius: &'a Radius,
}

/// The data counters an accounting request `r` asks for, read from the data plane now.
fn radius_counters(
    r: &crate::engine::RadiusRequest,
    plane: &DataplaneHost,
) -> Option<crate::dataplane::DataStats> {
    match r {
        crate::engine::RadiusRequest::Submit {
            counters: Some((tid, sid)),
            ..
        } => plane.session_stats(*tid, *sid),
        _ => None,
    }
}

/// A peer's name and its addresses, or why it has none.
type Resolved = (String, Result<Vec<std::net::IpAddr>, String>);

/// Resolves `host` off the event loop (the system resolver runs on a blocking thread), within
/// [`RESOLVE_TIMEOUT`], and sends the answer to the main loop.
async fn resolve(host: String, to_core: mpsc::Sender<Resolved>) {
    let lookup = tokio::net::lookup_host((host.as_str(), 0));
    let result = match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => Ok(addrs.map(|a| a.ip()).collect()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}s", RESOLVE_TIMEOUT.as_secs())),
    };
    // The daemon may be stopping; nothing to do then.
    let _ = to_core.send((host, result)).await;
}

/// Carries out what the engine asked for: events for watchers, user scripts, tunnel sockets,
/// and data-plane requests, whose outcome goes back to the engine (and may ask for more).
fn carry_out(
    core: &mut Core,
    plane: &mut DataplaneHost,
    sockets: &mut Sockets,
    scripts: &mut ScriptRunner,
    events: &Watchers,
    io: &Io<'_>,
) {
    while let Some(e) = core.poll_event() {
        match e {
            // No watcher is not an error.
            EngineEvent::Notify(e) => {
                if e.event == l2tp_ctl::EventKind::TunnelDown {
                    plane.tunnel_down(e.tid);
                }
                events.send(e);
            }
            EngineEvent::Script(s) => {
                // Read at each event, so that a reload applies to the scripts queued after it.
                let sys = core.config().system();
                let timeout = crate::scripts::script_timeout(sys.script_timeout);
                let dir = sys.script_dir.clone();
                scripts.submit(&dir, timeout, s);
            }
            EngineEvent::Socket(change) => plane.socket_change(Instant::now(), change),
            EngineEvent::Resolve { host } => {
                tokio::spawn(resolve(host, io.resolved.clone()));
            }
            EngineEvent::Radius(r) => {
                let stats = radius_counters(&r, plane);
                io.radius.send(r, stats.as_ref());
            }
            EngineEvent::Dataplane(req) => {
                let outcome = plane.execute(&req);
                core.handle_dataplane_outcome(Instant::now(), outcome);
            }
            EngineEvent::StaleTunnels { tid, stale } => {
                let mark = plane.tunnel_mark(tid);
                let marks = stale.iter().map(|t| (*t, plane.tunnel_mark(*t)));
                let (same, other) = crate::marks::same_client(mark, marks);
                for old in other {
                    tracing::info!(
                        "tunnel {old}: kept: tunnel {tid} has its peer's address, port and \
                         tunnel id but another netfilter mark (another client behind a NAT)"
                    );
                }
                if !same.is_empty() {
                    core.forget_stale_tunnels(Instant::now(), tid, &same);
                }
            }
        }
        while let Some(change) = plane.poll_change() {
            match change {
                ShellSocket::Open {
                    tid,
                    socket,
                    local,
                    framing,
                    marks,
                    peer,
                } => {
                    let listen = Listen {
                        framing,
                        local,
                        marks,
                    };
                    sockets.open_tunnel(tid, (socket, peer), listen, &io.to_core, &io.stop);
                }
                ShellSocket::StopReading(tid) => sockets.stop_reading(tid),
                ShellSocket::ResumeReading(tid) => {
                    sockets.resume_reading(tid, &io.to_core, &io.stop);
                }
                ShellSocket::Close(tid) => sockets.close_tunnel(tid),
            }
        }
    }
}

/// Starts (or, on a second signal, ends) a graceful stop; returns whether to stop at once.
fn begin_stop(
    core: &mut Core,
    stopping: &mut Option<Stopping>,
    notifier: &mut Notifier,
    name: &str,
) -> bool {
    if stopping.is_some() {
        notice!("{name} again: stopping now");
        return true;
    }
    notice!("{name}: stopping");
    notifier.stopping();
    let now = Instant::now();
    *stopping = Some(Stopping::new(now));
    core.begin_shutdown(now);
    false
}

/// Hands a data-plane event to the core; a data packet that came before its session
/// ([`DataplaneEvent::EarlyData`]) goes back to the data plane instead. The events before it
/// have been handled, and what the engine asked for on them carried out (the ICCN that installs
/// the session), so the data plane now delivers it, or drops and counts it (as does the host,
/// when no data plane takes it).
fn dataplane_event(core: &mut Core, plane: &mut DataplaneHost, e: DataplaneEvent) {
    match e {
        DataplaneEvent::EarlyData { tid, packet } => plane.give_back_early(tid, &packet),
        e => core.handle_dataplane_event(Instant::now(), e, plane),
    }
}

/// The next data-plane event; pending for ever when the data plane has no channel.
async fn next_event(
    events: &mut Option<tokio::sync::mpsc::UnboundedReceiver<crate::dataplane::DataplaneEvent>>,
) -> Option<crate::dataplane::DataplaneEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400)
}
