//! The kernel data plane's watch over its Ethernet sessions' interfaces.
//!
//! A thread of its own reads the kernel's link notifications (rtnetlink `RTNLGRP_LINK`, see
//! `l2tp_dataplane::kernel::links`). When a watched interface is deleted by someone else (the
//! VLAN interface of an `eth_vlan` session by `ip link del`, or an `l2tpeth` interface with
//! its kernel session by `ip l2tp del session`), its session is reported down
//! ([`DataplaneEvent::SessionDown`]), once; the core then disconnects it with a CDN. The
//! daemon's own removals are not reported: the data plane forgets a session's interfaces
//! before it deletes them, and notifications about interfaces no longer in the table are
//! ignored. An interface moved to another network namespace still exists: it is only no
//! longer watched. When notifications are lost (the socket's buffer overflowed), every
//! watched interface is looked up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use l2tp_dataplane::kernel::{self as k, LinkGone, LinkMonitor};
use tokio::sync::mpsc::UnboundedSender;

use super::super::api::DataplaneEvent;

/// A watched interface.
#[derive(Clone, Debug)]
struct Watch {
    tid: u32,
    sid: u32,
    name: String,
}

/// Watched interfaces by index.
type Table = Arc<Mutex<HashMap<u32, Watch>>>;

/// The table of watched interfaces, shared with the task that reads the notifications.
#[derive(Debug, Default)]
pub(super) struct LinkWatch {
    table: Table,
}

impl LinkWatch {
    /// Starts the thread that reads link notifications and reports deleted interfaces'
    /// sessions on `events`. (A thread rather than a task: the socket's blocking reads need
    /// no unsafe registration with the runtime, and the thread ends with the first
    /// notification after the daemon dropped `events`.) Without rtnetlink, nothing is watched
    /// (logged).
    pub(super) fn start(events: UnboundedSender<DataplaneEvent>) -> Self {
        let watch = Self::default();
        let table = watch.table.clone();
        let started = LinkMonitor::open()
            .and_then(|m| Ok((m, k::Rtnl::open()?)))
            .and_then(|(monitor, rtnl)| {
                std::thread::Builder::new()
                    .name("l2tpd-links".into())
                    .spawn(move || run(&monitor, &rtnl, &table, &events))
            });
        if let Err(e) = started {
            tracing::warn!(
                "kernel data plane: cannot watch link notifications ({e}); a deleted interface \
                 will not bring its session down"
            );
        }
        watch
    }

    /// Watches interface `index` (`name`) of session `tid`/`sid`.
    pub(super) fn watch(&self, tid: u32, sid: u32, index: u32, name: &str) {
        lock(&self.table).insert(
            index,
            Watch {
                tid,
                sid,
                name: name.to_owned(),
            },
        );
    }

    /// Stops watching session `tid`/`sid`'s interfaces (before the data plane deletes them).
    pub(super) fn forget(&self, tid: u32, sid: u32) {
        lock(&self.table).retain(|_, w| (w.tid, w.sid) != (tid, sid));
    }
}

fn lock(table: &Table) -> std::sync::MutexGuard<'_, HashMap<u32, Watch>> {
    table.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads notifications until the daemon stops listening to `events`.
fn run(
    monitor: &LinkMonitor,
    rtnl: &k::Rtnl,
    table: &Table,
    events: &UnboundedSender<DataplaneEvent>,
) {
    while !events.is_closed() {
        match monitor.read() {
            Ok(gone) => {
                for g in gone {
                    gone_link(table, events, g);
                }
            }
            Err(e) if k::links::is_overrun(&e) => {
                tracing::warn!(
                    "kernel data plane: link notifications were lost ({e}); looking up the \
                     sessions' interfaces"
                );
                resync(rtnl, table, events);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(
                    "kernel data plane: link notifications: {e}; the sessions' interfaces are no \
                     longer watched"
                );
                return;
            }
        }
    }
}

/// Reports the session of a watched interface that is gone (deleted: down; moved: no longer
/// watched). The session's other interfaces are forgotten, so it is reported once.
fn gone_link(table: &Table, events: &UnboundedSender<DataplaneEvent>, g: LinkGone) {
    let mut t = lock(table);
    let Some(w) = t.remove(&g.index) else {
        return;
    };
    let name = g.name.unwrap_or(w.name);
    let (tid, sid) = (w.tid, w.sid);
    if g.moved {
        tracing::info!(
            "session {tid}/{sid}: interface {name} moved to another network namespace; no longer \
             watched"
        );
        return;
    }
    t.retain(|_, x| (x.tid, x.sid) != (tid, sid));
    drop(t);
    let reason = format!("its interface {name} (index {}) was deleted", g.index);
    let _ = events.send(DataplaneEvent::SessionDown { tid, sid, reason });
}

/// After lost notifications: reports the sessions whose watched interfaces no longer exist
/// (one moved away meanwhile counts as deleted).
fn resync(rtnl: &k::Rtnl, table: &Table, events: &UnboundedSender<DataplaneEvent>) {
    let indexes: Vec<u32> = lock(table).keys().copied().collect();
    for index in indexes {
        match rtnl.exists(index) {
            Ok(true) => {}
            Ok(false) => gone_link(
                table,
                events,
                LinkGone {
                    index,
                    name: None,
                    moved: false,
                },
            ),
            Err(e) => tracing::warn!("kernel data plane: looking up interface {index}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::unbounded_channel;

    use super::*;

    fn gone(index: u32, moved: bool) -> LinkGone {
        LinkGone {
            index,
            name: None,
            moved,
        }
    }

    #[test]
    fn a_deleted_interface_brings_its_session_down_once() {
        let w = LinkWatch::default();
        let (tx, mut rx) = unbounded_channel();
        // An eth_vlan session: the l2tpeth interface and its VLAN interface.
        w.watch(1, 2, 10, "l2tpeth0");
        w.watch(1, 2, 11, "l2tpeth0.100");
        w.watch(1, 3, 12, "l2tpeth1");
        gone_link(&w.table, &tx, gone(11, false));
        // The parent goes with it: no second report.
        gone_link(&w.table, &tx, gone(10, false));
        // An interface that is not watched (the daemon deleted it itself).
        gone_link(&w.table, &tx, gone(99, false));
        assert_eq!(
            rx.try_recv().ok(),
            Some(DataplaneEvent::SessionDown {
                tid: 1,
                sid: 2,
                reason: "its interface l2tpeth0.100 (index 11) was deleted".into()
            })
        );
        assert!(rx.try_recv().is_err());
        // Forgotten before removal: nothing is reported.
        w.forget(1, 3);
        gone_link(&w.table, &tx, gone(12, false));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_moved_interface_is_only_forgotten() {
        let w = LinkWatch::default();
        let (tx, mut rx) = unbounded_channel();
        w.watch(1, 2, 10, "l2tpeth0");
        gone_link(&w.table, &tx, gone(10, true));
        assert!(rx.try_recv().is_err());
        assert!(lock(&w.table).is_empty());
    }
}
