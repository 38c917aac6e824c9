//! The watch over the bridges that Ethernet sessions' interfaces are ports of (`bridge`).
//!
//! When a bridge is deleted (`ip link del br0`), the kernel takes its ports out of it, and the
//! pseudowire carries on with nothing to bridge to. A thread of its own reads the kernel's
//! link notifications (rtnetlink `RTNLGRP_LINK`, `l2tp_dataplane::kernel::links`): a watched
//! bridge that goes gets one warning per session naming the session, its interface and the
//! bridge, and is counted ([`BridgeWatch::lost`], `show system`'s `bridge_ports_lost`); a
//! bridge of that name made again gets the interfaces back as ports, with an info line. Only
//! bridges are watched here: a session's own interface going is the data plane's business
//! (the userspace data path reads `EBADFD` from its TAP, the kernel data plane watches its
//! interfaces, `kernel/links.rs`), and the daemon forgets a session here before removing it.
//! When notifications are lost (the socket's buffer overflowed), every watched bridge is
//! looked up again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use l2tp_dataplane::kernel::{self as k, LinkEvents, LinkMonitor};

/// A session's interface that should be a port of a bridge.
#[derive(Clone, Debug, Eq, PartialEq)]
struct Port {
    /// Its interface.
    name: String,
    index: u32,
    /// The bridge, by name.
    bridge: String,
    /// Whether it is a port of the bridge, or waits for a bridge of that name.
    state: PortState,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum PortState {
    Joined,
    /// The bridge was deleted: the interface is added back when one of that name appears.
    BridgeGone,
}

/// The watched ports by (tid, sid).
type Table = BTreeMap<(u32, u32), Port>;

#[derive(Debug, Default)]
struct Shared {
    table: Mutex<Table>,
    /// Bridge ports lost to a deleted bridge.
    lost: AtomicU64,
}

/// The table of watched ports, shared with the thread that reads the notifications (started
/// with the first watched port).
#[derive(Debug, Default)]
pub(crate) struct BridgeWatch {
    shared: Arc<Shared>,
    started: bool,
    /// rtnetlink, to find the interfaces' indexes, opened when first needed.
    rtnl: Option<k::Rtnl>,
}

impl BridgeWatch {
    /// Watches interface `name` of session `tid`/`sid`, a port of `bridge` now.
    pub(crate) fn watch(&mut self, tid: u32, sid: u32, name: &str, bridge: &str) {
        if !self.started {
            self.started = true;
            self.start();
        }
        let rtnl = match self.rtnl.take() {
            Some(r) => Ok(r),
            None => k::Rtnl::open(),
        };
        let index = match rtnl.and_then(|r| {
            let index = r.index(name);
            self.rtnl = Some(r);
            index
        }) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(
                    "session {tid}/{sid}: interface {name}: {e}; its bridge {bridge} is not watched"
                );
                return;
            }
        };
        lock(&self.shared).insert(
            (tid, sid),
            Port {
                name: name.to_owned(),
                index,
                bridge: bridge.to_owned(),
                state: PortState::Joined,
            },
        );
    }

    /// Stops watching session `tid`/`sid` (before the data plane removes it).
    pub(crate) fn forget(&self, tid: u32, sid: u32) {
        lock(&self.shared).remove(&(tid, sid));
    }

    /// Bridge ports lost to a deleted bridge so far.
    pub(crate) fn lost(&self) -> u64 {
        self.shared.lost.load(Relaxed)
    }

    fn start(&self) {
        let shared = self.shared.clone();
        let started = LinkMonitor::open()
            .and_then(|m| Ok((m, k::Rtnl::open()?)))
            .and_then(|(monitor, rtnl)| {
                std::thread::Builder::new()
                    .name("l2tpd-bridges".into())
                    .spawn(move || run(&monitor, &rtnl, &shared))
            });
        if let Err(e) = started {
            tracing::warn!(
                "cannot watch link notifications ({e}); an interface whose bridge is deleted \
                 and made again will not be added back to it"
            );
        }
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Table> {
    shared.table.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads notifications for as long as the daemon runs (the thread holds only the table).
fn run(monitor: &LinkMonitor, rtnl: &k::Rtnl, shared: &Shared) {
    loop {
        match monitor.read_events() {
            Ok(events) => handle(shared, &events, |index, bridge| {
                rtnl.set_master(index, bridge)
            }),
            Err(e) if k::links::is_overrun(&e) => {
                tracing::warn!(
                    "link notifications were lost ({e}); looking up the sessions' bridges"
                );
                resync(shared, rtnl);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(
                    "link notifications: {e}; the sessions' bridges are no longer watched"
                );
                return;
            }
        }
    }
}

/// Applies a datagram of notifications: `join(interface, bridge)` makes an interface a port.
fn handle(shared: &Shared, events: &LinkEvents, join: impl Fn(u32, u32) -> std::io::Result<()>) {
    let mut t = lock(shared);
    for g in &events.gone {
        // A session's own interface: no longer a port of anything; its session goes.
        t.retain(|_, p| p.index != g.index);
        let Some(name) = &g.name else { continue };
        for ((tid, sid), p) in t.iter_mut() {
            if p.bridge == *name && p.state == PortState::Joined {
                bridge_gone(shared, (*tid, *sid), p);
            }
        }
    }
    for n in &events.new {
        for ((tid, sid), p) in t.iter_mut() {
            if p.bridge == n.name && p.state == PortState::BridgeGone {
                rejoin(p, *tid, *sid, n.index, &join);
            }
        }
    }
}

fn bridge_gone(shared: &Shared, (tid, sid): (u32, u32), p: &mut Port) {
    p.state = PortState::BridgeGone;
    shared.lost.fetch_add(1, Relaxed);
    tracing::warn!(
        "session {tid}/{sid}: bridge {} was deleted; interface {} is no longer a port of it \
         (it will be added back to a bridge of that name)",
        p.bridge,
        p.name
    );
}

fn rejoin(
    p: &mut Port,
    tid: u32,
    sid: u32,
    bridge: u32,
    join: &impl Fn(u32, u32) -> std::io::Result<()>,
) {
    match join(p.index, bridge) {
        Ok(()) => {
            p.state = PortState::Joined;
            tracing::info!(
                "session {tid}/{sid}: bridge {} is back; interface {} is a port of it again",
                p.bridge,
                p.name
            );
        }
        Err(e) => tracing::warn!(
            "session {tid}/{sid}: cannot add interface {} to {} again: {e}",
            p.name,
            p.bridge
        ),
    }
}

/// After lost notifications: every watched port whose bridge is gone is reported, every one
/// whose bridge exists is made its port (again, or still: that changes nothing).
fn resync(shared: &Shared, rtnl: &k::Rtnl) {
    let mut t = lock(shared);
    for ((tid, sid), p) in t.iter_mut() {
        match rtnl.index(&p.bridge) {
            Ok(bridge) => {
                if p.state == PortState::BridgeGone {
                    rejoin(p, *tid, *sid, bridge, &|i, b| rtnl.set_master(i, b));
                } else if let Err(e) = rtnl.set_master(p.index, bridge) {
                    tracing::warn!(
                        "session {tid}/{sid}: cannot add interface {} to {}: {e}",
                        p.name,
                        p.bridge
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if p.state == PortState::Joined {
                    bridge_gone(shared, (*tid, *sid), p);
                }
            }
            Err(e) => tracing::warn!("looking up bridge {}: {e}", p.bridge),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use l2tp_dataplane::kernel::{LinkGone, LinkNew};

    use super::*;

    fn port(name: &str, index: u32, bridge: &str) -> Port {
        Port {
            name: name.into(),
            index,
            bridge: bridge.into(),
            state: PortState::Joined,
        }
    }

    fn gone(index: u32, name: &str) -> LinkEvents {
        LinkEvents {
            gone: vec![LinkGone {
                index,
                name: Some(name.into()),
                moved: false,
            }],
            new: vec![],
        }
    }

    fn made(index: u32, name: &str) -> LinkEvents {
        LinkEvents {
            gone: vec![],
            new: vec![LinkNew {
                index,
                name: name.into(),
            }],
        }
    }

    #[test]
    fn a_deleted_bridge_is_counted_once_and_a_new_one_gets_its_ports_back() {
        let shared = Shared::default();
        lock(&shared).insert((1, 10), port("pw0", 20, "br0"));
        lock(&shared).insert((1, 11), port("pw1", 21, "br1"));
        let joined = RefCell::new(Vec::new());
        let join = |i, b| {
            joined.borrow_mut().push((i, b));
            Ok(())
        };
        handle(&shared, &gone(5, "br0"), join);
        assert_eq!(shared.lost.load(Relaxed), 1);
        assert_eq!(lock(&shared)[&(1, 10)].state, PortState::BridgeGone);
        assert_eq!(lock(&shared)[&(1, 11)].state, PortState::Joined);
        // The same bridge's later messages, and other interfaces made: nothing.
        handle(&shared, &gone(5, "br0"), join);
        handle(&shared, &made(6, "br1"), join);
        assert_eq!(shared.lost.load(Relaxed), 1);
        assert!(joined.borrow().is_empty());
        // A bridge of that name again: the port joins it, once however often it changes.
        handle(&shared, &made(7, "br0"), join);
        handle(&shared, &made(7, "br0"), join);
        assert_eq!(*joined.borrow(), [(20, 7)]);
        assert_eq!(lock(&shared)[&(1, 10)].state, PortState::Joined);
    }

    #[test]
    fn a_port_that_cannot_join_waits_for_the_next_bridge_of_that_name() {
        let shared = Shared::default();
        lock(&shared).insert((1, 10), port("pw0", 20, "br0"));
        handle(&shared, &gone(5, "br0"), |_, _| Ok(()));
        // Someone made a dummy interface br0: it cannot be a master.
        handle(&shared, &made(6, "br0"), |_, _| {
            Err(std::io::Error::from_raw_os_error(nix::libc::EOPNOTSUPP))
        });
        assert_eq!(lock(&shared)[&(1, 10)].state, PortState::BridgeGone);
        handle(&shared, &made(7, "br0"), |_, _| Ok(()));
        assert_eq!(lock(&shared)[&(1, 10)].state, PortState::Joined);
    }

    #[test]
    fn a_deleted_session_interface_is_forgotten_not_counted() {
        let shared = Shared::default();
        lock(&shared).insert((1, 10), port("pw0", 20, "br0"));
        handle(&shared, &gone(20, "pw0"), |_, _| Ok(()));
        assert!(lock(&shared).is_empty());
        assert_eq!(shared.lost.load(Relaxed), 0);
    }
}
