//! Native PPP on the kernel data plane: the daemon terminates a PPP session itself, no pppd.
//!
//! The session's PPPoL2TP socket gives its PPP channel to a `/dev/ppp` file, and a PPP unit
//! (the session's interface, named as pppd's `ifname` would be) is made and connected to it
//! (`l2tp_dataplane::kernel::ppp`). The frames that the kernel hands to the control plane,
//! LCP and authentication on the channel, the other control protocols (IPCP, IPv6CP, CCP,
//! unknown ones) on the unit, are read and passed to the engine as
//! [`DataplaneEvent::PppFrame`], from their Protocol field on; the engine's frames are written
//! on the channel (the kernel adds `FF 03`). IPv4 and IPv6
//! stay blocked (NP mode drop, interface down) until the engine says a network layer is up
//! ([`NativePpp::up`]): the interface then gets its MTU, its addresses (IPv4: ours with the
//! peer's as a /32 point-to-point peer; IPv6: the link-local addresses `fe80::/64` of both
//! interface identifiers, RFC 5072 §5) and is set up, and the kernel carries the packets. The
//! kernel sends every frame with `FF 03` and a two-octet Protocol field: ACFC and PFC only
//! allow the shorter forms (RFC 1661 §6.5, §6.6), so `PppNetwork::acfc` and `pfc` change
//! nothing here.
//!
//! One thread reads the files of every native session, blocked in `epoll_wait` (a thread
//! rather than tasks: registering a file with the runtime is `unsafe` in tokio, and one
//! thread costs less than a task and two registrations per session). When a unit's interface
//! is deleted by someone else (`ip link del`) or a channel goes, the thread reports the
//! session down ([`DataplaneEvent::SessionDown`]), once. Stopping a session forgets its files
//! first, so that its end is not news, then deletes its interface at once; the files close
//! when the last reference goes, and the socket's closing deletes the kernel session. While
//! there are sessions, the thread also reports their data activity once a period
//! ([`super::activity`]).
//!
//! Each session hands the engine at most [`CONTROL_BURST`](l2tp_dataplane::ppp::CONTROL_BURST)
//! control frames at once and [`CONTROL_RATE`](l2tp_dataplane::ppp::CONTROL_RATE) a second ([`ControlBudget`], the budget of the userspace data plane's
//! sessions); the thread reads and drops the rest, counted as `ppp_control_rate` in the data
//! plane's totals ([`NativeDrops`]), so that a peer flooding LCP Echo-Requests or
//! Configure-Requests makes work for the engine at that rate at most, and the frames of other
//! sessions do not queue behind its own. A frame longer than the thread reads
//! ([`MAX_FRAME`]) is dropped by the kernel and counted as `ppp_invalid`.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use l2tp_dataplane::DataplaneTotals;
use l2tp_dataplane::kernel::ppp::{MAX_FRAME, is_oversized, protocol};
use l2tp_dataplane::kernel::{
    Channel, NetworkProtocol, NpMode, PeerAddress, Rtnl, SessionOptions, Unit,
};
use l2tp_dataplane::ppp::ControlBudget;
use nix::errno::Errno;
use nix::libc;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use tokio::sync::mpsc::UnboundedSender;

use super::super::api::{DataplaneEvent, PppNetwork};
use super::activity::{Activity, ControlCount};

/// A session's channel and unit, shared with the reading thread, its control frames counted
/// (for the activity reports), and what it may still hand the engine of them.
#[derive(Debug)]
struct Files {
    channel: Channel,
    unit: Unit,
    control: ControlCount,
    /// Taken by the reading thread only.
    budget: Mutex<ControlBudget>,
}

/// A session whose files the thread reads.
#[derive(Clone, Debug)]
struct Watched {
    files: Arc<Files>,
    tid: u32,
    sid: u32,
}

/// What the data plane shares with the reading thread: its epoll instance (each file's
/// event data is its session's key, shifted left one bit, plus 1 for the unit), the
/// watched sessions by key, and the frames it dropped.
#[derive(Debug)]
struct Shared {
    epoll: Epoll,
    table: Mutex<HashMap<u64, Watched>>,
    drops: NativeDrops,
}

/// The control frames the reading thread dropped, over every session, removed ones included.
#[derive(Debug, Default)]
struct NativeDrops {
    /// Past their session's budget ([`ControlBudget`]).
    control_rate: AtomicU64,
    /// Longer than [`MAX_FRAME`].
    oversized: AtomicU64,
}

/// The reading thread of the native sessions, started with the first one.
#[derive(Debug, Default)]
pub(super) struct Readers {
    shared: Option<Arc<Shared>>,
    next_key: u64,
}

/// A session whose PPP the daemon terminates.
#[derive(Debug)]
pub(super) struct NativePpp {
    files: Arc<Files>,
    key: u64,
    /// The addresses [`NativePpp::up`] gave the interface.
    addresses: Vec<PeerAddress>,
}

impl Readers {
    /// The shared state, and the thread started when it is not running yet.
    fn shared(&mut self, events: &UnboundedSender<DataplaneEvent>) -> io::Result<Arc<Shared>> {
        if let Some(s) = &self.shared {
            return Ok(s.clone());
        }
        let shared = Arc::new(Shared {
            epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?,
            table: Mutex::default(),
            drops: NativeDrops::default(),
        });
        let (s, events) = (shared.clone(), events.clone());
        std::thread::Builder::new()
            .name("l2tpd-ppp".into())
            .spawn(move || run(&s, &events))?;
        self.shared = Some(shared.clone());
        Ok(shared)
    }

    /// Reads `files` of session `tid`/`sid` from now on; returns the session's key.
    fn watch(
        &mut self,
        files: &Arc<Files>,
        (tid, sid): (u32, u32),
        events: &UnboundedSender<DataplaneEvent>,
    ) -> io::Result<u64> {
        let s = self.shared(events)?;
        let key = self.next_key;
        self.next_key += 1;
        lock(&s.table).insert(
            key,
            Watched {
                files: files.clone(),
                tid,
                sid,
            },
        );
        let added = s
            .epoll
            .add(
                files.channel.as_fd(),
                EpollEvent::new(EpollFlags::EPOLLIN, key << 1),
            )
            .and_then(|()| {
                s.epoll.add(
                    files.unit.as_fd(),
                    EpollEvent::new(EpollFlags::EPOLLIN, (key << 1) | 1),
                )
            });
        if let Err(e) = added {
            self.forget(key, files);
            return Err(e.into());
        }
        Ok(key)
    }

    /// What the thread dropped since it started, under the reasons of the data plane's
    /// totals: `ppp_control_rate` and `ppp_invalid`.
    pub(super) fn drops(&self) -> DataplaneTotals {
        let Some(s) = &self.shared else {
            return DataplaneTotals::default();
        };
        DataplaneTotals {
            ppp_control_rate: s.drops.control_rate.load(Relaxed),
            ppp_invalid: s.drops.oversized.load(Relaxed),
            ..DataplaneTotals::default()
        }
    }

    /// Stops reading session `key`'s files, without a report.
    fn forget(&self, key: u64, files: &Files) {
        if let Some(s) = &self.shared {
            lock(&s.table).remove(&key);
            let _ = s.epoll.delete(files.channel.as_fd());
            let _ = s.epoll.delete(files.unit.as_fd());
        }
    }
}

impl NativePpp {
    /// Takes session `tid`/`sid`'s connected PPPoL2TP socket, sets its options, makes unit
    /// `ifname` (down, IP blocked) and connects the channel to it, and has `readers` read its
    /// frames into `events`.
    pub(super) fn start(
        socket: OwnedFd,
        options: &SessionOptions,
        rtnl: &Rtnl,
        ifname: &str,
        ids: (u32, u32),
        readers: &mut Readers,
        events: &UnboundedSender<DataplaneEvent>,
    ) -> io::Result<Self> {
        let channel = Channel::attach(socket)?;
        channel.set_options(options)?;
        let unit = Unit::create(rtnl, ifname)?;
        channel.connect(&unit)?;
        let files = Arc::new(Files {
            channel,
            unit,
            control: ControlCount::default(),
            budget: Mutex::default(),
        });
        let key = readers.watch(&files, ids, events)?;
        Ok(Self {
            files,
            key,
            addresses: Vec::new(),
        })
    }

    /// Sends a PPP frame (with or without `FF 03`) on the channel.
    pub(super) fn send(&self, frame: &[u8]) -> io::Result<()> {
        self.files.control.sending();
        let r = self.files.channel.send(frame);
        if r.is_err() {
            self.files.control.unsent();
        }
        r
    }

    /// Carries the network layers that `net` names: the interface's MTU, its addresses (those
    /// of an earlier call that `net` no longer names are removed), link up, and the NP modes
    /// (pass for the layers that are up, drop for the others).
    pub(super) fn up(&mut self, rtnl: &Rtnl, net: &PppNetwork) -> io::Result<()> {
        let unit = &self.files.unit;
        let index = unit.index();
        let wanted = addresses(net);
        rtnl.set_state(index, true, Some(net.mtu))?;
        for a in self.addresses.iter().filter(|a| !wanted.contains(a)) {
            forget_address(rtnl, index, a)?;
        }
        self.addresses.retain(|a| wanted.contains(a));
        for a in &wanted {
            if !self.addresses.contains(a) {
                rtnl.add_address(index, a)?;
                self.addresses.push(*a);
            }
        }
        let mode = |on: bool| if on { NpMode::Pass } else { NpMode::Drop };
        unit.set_npmode(NetworkProtocol::Ipv4, mode(net.ipv4.is_some()))?;
        unit.set_npmode(NetworkProtocol::Ipv6, mode(net.ipv6.is_some()))
    }

    /// Routes `routes` (prefix, length) through the unit's interface; they go with it.
    pub(super) fn routes(&self, rtnl: &Rtnl, routes: &[(IpAddr, u8)]) -> io::Result<()> {
        let index = self.files.unit.index();
        routes
            .iter()
            .try_for_each(|&(dst, len)| rtnl.add_route(index, dst, len))
    }

    /// Stops carrying IP: NP modes drop, the addresses removed, the interface down. Control
    /// frames still flow.
    pub(super) fn down(&mut self, rtnl: &Rtnl) -> io::Result<()> {
        let unit = &self.files.unit;
        unit.set_npmode(NetworkProtocol::Ipv4, NpMode::Drop)?;
        unit.set_npmode(NetworkProtocol::Ipv6, NpMode::Drop)?;
        for a in std::mem::take(&mut self.addresses) {
            forget_address(rtnl, unit.index(), &a)?;
        }
        rtnl.set_state(unit.index(), false, None)
    }

    /// Ends the session's PPP: its files are no longer read (no report follows), its interface
    /// is deleted now; the files close with the last reference to them.
    pub(super) fn stop(self, rtnl: &Rtnl, readers: &Readers) {
        readers.forget(self.key, &self.files);
        let unit = &self.files.unit;
        match rtnl.delete_index(unit.index()) {
            Ok(()) => {}
            // Deleted already (by someone else, which the thread reported).
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
            Err(e) => tracing::warn!("deleting {}: {e}", unit.name()),
        }
    }
}

/// Takes `a` off interface `index`; one that is gone already is fine.
fn forget_address(rtnl: &Rtnl, index: u32, a: &PeerAddress) -> io::Result<()> {
    match rtnl.delete_address(index, a) {
        Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => Ok(()),
        r => r,
    }
}

/// The interface's addresses for `net`: IPv4 ours with the peer's (/32), IPv6 the link-local
/// addresses of both interface identifiers (RFC 5072 §5), /64.
fn addresses(net: &PppNetwork) -> Vec<PeerAddress> {
    let mut v = Vec::with_capacity(2);
    if let Some((local, peer)) = net.ipv4 {
        v.push(PeerAddress {
            local: local.into(),
            peer: peer.into(),
            prefix_len: 32,
        });
    }
    if let Some((local, peer)) = net.ipv6 {
        v.push(PeerAddress {
            local: link_local(local),
            peer: link_local(peer),
            prefix_len: 64,
        });
    }
    v
}

/// `fe80::/64` with interface identifier `id`.
fn link_local(id: u64) -> IpAddr {
    Ipv6Addr::from((0xfe80_u128 << 112) | u128::from(id)).into()
}

/// A lock of the thread's, even if a thread panicked holding it (each update leaves it whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reading thread: reads the control frames of the channels and units into `events` until
/// the daemon stops listening. A file that is gone brings its session down, once. While there
/// are sessions, it reports their data activity once a period ([`Activity`]).
fn run(s: &Shared, events: &UnboundedSender<DataplaneEvent>) {
    let mut ready = [EpollEvent::empty(); 32];
    let mut buf = vec![0u8; MAX_FRAME];
    let mut activity = Activity::new();
    while !events.is_closed() {
        let any = !lock(&s.table).is_empty();
        let timeout = match activity.wait(std::time::Instant::now(), any) {
            None => EpollTimeout::NONE,
            Some(d) => {
                let ms = d.as_micros().div_ceil(1000);
                EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::MAX)
            }
        };
        let n = match s.epoll.wait(&mut ready, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => {
                tracing::warn!(
                    "kernel data plane: waiting for PPP frames: {e}; native PPP sessions are no \
                     longer read"
                );
                return;
            }
        };
        read_ready(s, &ready[..n], &mut buf, events);
        let now = std::time::Instant::now();
        if activity.due(now) {
            // Frames the kernel counted and this thread has not read yet would look like
            // data: read them first (a few rounds at most: frames may keep coming).
            for _ in 0..4 {
                match s.epoll.wait(&mut ready, EpollTimeout::ZERO) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read_ready(s, &ready[..n], &mut buf, events),
                }
            }
            let table = lock(&s.table).clone();
            let sessions = table
                .iter()
                .map(|(key, w)| ((w.tid, w.sid), *key, &w.files.control));
            activity.report(now, sessions, events);
        }
    }
}

/// Reads the files epoll found `ready`.
fn read_ready(
    s: &Shared,
    ready: &[EpollEvent],
    buf: &mut [u8],
    events: &UnboundedSender<DataplaneEvent>,
) {
    for e in ready {
        let (key, is_unit) = (e.data() >> 1, e.data() & 1 == 1);
        let Some(w) = lock(&s.table).get(&key).cloned() else {
            continue;
        };
        let r = if is_unit {
            drain(|b| w.files.unit.recv(b), buf, &w, &s.drops, events)
        } else {
            drain(|b| w.files.channel.recv(b), buf, &w, &s.drops, events)
        };
        let Err(why) = r else { continue };
        // Reported once, and not when the daemon stopped the session meanwhile.
        if lock(&s.table).remove(&key).is_none() {
            continue;
        }
        let _ = s.epoll.delete(w.files.channel.as_fd());
        let _ = s.epoll.delete(w.files.unit.as_fd());
        let reason = if is_unit {
            format!("its PPP interface {} {why}", w.files.unit.name())
        } else {
            format!("its PPP channel {why}")
        };
        tracing::warn!("session {}/{}: {reason}", w.tid, w.sid);
        let _ = events.send(DataplaneEvent::SessionDown {
            tid: w.tid,
            sid: w.sid,
            reason,
        });
    }
}

/// Reads every frame waiting on one of `w`'s files into `events`, within the session's
/// budget; counts what it drops in `drops`. Fails when the file is gone.
fn drain(
    recv: impl Fn(&mut [u8]) -> io::Result<usize>,
    buf: &mut [u8],
    w: &Watched,
    drops: &NativeDrops,
    events: &UnboundedSender<DataplaneEvent>,
) -> Result<(), String> {
    let (tid, sid) = (w.tid, w.sid);
    loop {
        match recv(buf) {
            Ok(0) => return Err("is gone".into()),
            Ok(n) => {
                let frame = &buf[..n];
                // IPv4 and IPv6 go to the interface; they never come here.
                if matches!(protocol(frame), Some(0x0021 | 0x0057) | None) {
                    continue;
                }
                // A control frame, handed over or not: not data for the activity reports.
                w.files.control.received();
                if !lock(&w.files.budget).take(Instant::now()) {
                    // Past the session's budget: the peer floods control frames. Said in the
                    // data plane's drop summary.
                    drops.control_rate.fetch_add(1, Relaxed);
                    continue;
                }
                let _ = events.send(DataplaneEvent::PppFrame {
                    tid,
                    sid,
                    frame: frame.to_vec(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_oversized(&e) => {
                // Only control frames reach the files (IP goes to the interface).
                w.files.control.received();
                drops.oversized.fetch_add(1, Relaxed);
                tracing::debug!(
                    "session {tid}/{sid}: a PPP frame over {} octets dropped",
                    buf.len()
                );
            }
            Err(e) => return Err(format!("failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interface_gets_point_to_point_and_link_local_addresses() {
        let net = PppNetwork {
            ipv4: Some(([198, 51, 100, 1].into(), [198, 51, 100, 2].into())),
            ipv6: Some((0x0211_22ff_fe33_4455, 0x1)),
            mtu: 1400,
            acfc: false,
            pfc: false,
        };
        let a = addresses(&net);
        assert_eq!(
            a,
            [
                PeerAddress {
                    local: "198.51.100.1".parse().unwrap_or(IpAddr::from([0; 4])),
                    peer: "198.51.100.2".parse().unwrap_or(IpAddr::from([0; 4])),
                    prefix_len: 32,
                },
                PeerAddress {
                    local: "fe80::211:22ff:fe33:4455"
                        .parse()
                        .unwrap_or(IpAddr::from([0; 4])),
                    peer: "fe80::1".parse().unwrap_or(IpAddr::from([0; 4])),
                    prefix_len: 64,
                },
            ]
        );
        assert!(addresses(&PppNetwork::default()).is_empty());
    }
}
