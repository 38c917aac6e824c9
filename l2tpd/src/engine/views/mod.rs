//! The answers of `l2tpctl show`: pure functions of the records, the instances and the
//! protocol's own state. Nothing here changes the engine.
//!
//! This file finds what a command names; `tunnels` and `sessions` answer the listings and
//! details, `figures` the counts and a scrape's figures, `stats` the protocol's counters, and
//! `page` cuts a listing into pages.

use l2tp_ctl::{self as ctl, CtlError, ErrorKind, Selector};

use super::instances::{Instance, InstanceState, Instances};
use super::ppp::state::ClosingTunnels;
use super::protocol::Protocol;
use super::registry::{Registry, SessionRec, TunnelRec};

mod figures;
mod page;
mod sessions;
mod stats;
mod tunnels;

pub use page::{ListCursor, ListPage};
pub(super) use stats::stats;

/// `no tunnel SEL`.
pub(super) fn no_tunnel(t: &Selector) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no tunnel {t}"))
}

/// The instance name `sel` may stand for: a name, or an id's digits (l2tpctl(1): an argument
/// made only of digits selects the one with that id, or one whose name is spelled with them),
/// for the instances that have no tunnel or session, and so no id, now.
pub(super) fn instance_text(sel: &Selector) -> String {
    match sel {
        Selector::Name(n) => n.clone(),
        Selector::Id(id) => id.to_string(),
    }
}

/// `no session SEL in tunnel SEL`.
pub(super) fn no_session(t: &Selector, s: &Selector) -> CtlError {
    CtlError::new(ErrorKind::NotFound, format!("no session {s} in tunnel {t}"))
}

/// What the views read.
#[derive(Clone, Copy, Debug)]
pub(super) struct Views<'a> {
    pub(super) registry: &'a Registry,
    pub(super) instances: &'a Instances,
    pub(super) protocol: &'a Protocol,
    /// The tunnels whose StopCCN waits for their native-PPP links to close.
    pub(super) closing: &'a ClosingTunnels,
}

impl Views<'_> {
    /// Whether tunnel `rec` is going: its StopCCN sent or received, or waiting for its
    /// native-PPP links' Terminate-Acks after `delete tunnel`, a reload or shutdown.
    pub(super) fn tunnel_going(&self, rec: &TunnelRec) -> bool {
        !rec.phase().is_live() || self.closing.contains(rec.tid())
    }

    /// The tunnel `sel` names: the current tunnel by id, or the tunnel instance's own (an
    /// earlier tunnel of the same name may still be closing), else any tunnel it matches.
    /// A name that `show tunnels` lists as an instance without a tunnel (idle) names that
    /// instance, so no tunnel: not an earlier attempt of it still closing under its name,
    /// which is given by its id (l2tpctl(1)).
    pub(super) fn find_tunnel(&self, sel: &Selector) -> Option<u64> {
        let current = match sel {
            Selector::Id(tid) => self.registry.tunnel_handle(*tid),
            Selector::Name(n) => self.instances.tunnel(n).and_then(|i| i.state.handle()),
        };
        current
            .filter(|h| self.registry.tunnel(*h).is_some())
            .or_else(|| {
                if self.waiting(sel) {
                    return None;
                }
                self.registry
                    .tunnels()
                    .find(|(_, t)| sel.matches(t.tid(), t.origin.name.as_deref()))
                    .map(|(h, _)| h)
            })
    }

    /// Whether `sel` names a tunnel instance that has no tunnel now (it waits between
    /// attempts, or was stopped) and that `show tunnels` lists: that instance, not an earlier
    /// attempt of it still closing under its name, is what the commands act on.
    pub(super) fn waiting(&self, sel: &Selector) -> bool {
        matches!(sel, Selector::Name(n) if self
            .instances
            .tunnel(n)
            .is_some_and(|i| i.state.handle().is_none() && shown(i)))
    }

    /// The session `sel` names in tunnel `tunnel`: by id, else (digits too) by name.
    pub(super) fn find_session(&self, tunnel: u64, sel: &Selector) -> Option<u64> {
        if let Selector::Id(sid) = sel {
            let tid = self.registry.tunnel(tunnel)?.tid();
            let by_id = self.registry.session_handle(tid, *sid).filter(|h| {
                self.registry
                    .session(*h)
                    .is_some_and(|s| s.tunnel == tunnel)
            });
            if by_id.is_some() {
                return by_id;
            }
        }
        self.registry
            .sessions()
            .find(|(_, s)| s.tunnel == tunnel && sel.matches(s.sid(), s.origin.name.as_deref()))
            .map(|(h, _)| h)
    }

    /// The error for session `session` of tunnel `tunnel`, which is not found: that there is
    /// no such session when `show tunnels` lists the tunnel (connected or not), else that
    /// there is no such tunnel.
    pub(super) fn no_such_session(&self, tunnel: &Selector, session: &Selector) -> CtlError {
        if self.find_tunnel(tunnel).is_some() || self.shown_instance(tunnel) {
            no_session(tunnel, session)
        } else {
            no_tunnel(tunnel)
        }
    }

    /// Whether `sel` names a tunnel instance that `show tunnels` lists without a tunnel.
    pub(super) fn shown_instance(&self, sel: &Selector) -> bool {
        self.instances
            .tunnel(&instance_text(sel))
            .is_some_and(|i| i.state.handle().is_none() && shown(i))
    }

    /// The name of the tunnel instance `sel` names (`None`: a tunnel no instance made, or an
    /// earlier attempt of an instance that is still closing: the instance's sessions wait for
    /// its next one, not for that tunnel).
    pub(super) fn instance_name(&self, sel: &Selector) -> Option<String> {
        match (self.find_tunnel(sel), sel) {
            (Some(h), _) => {
                let rec = self.registry.tunnel(h)?;
                let name = rec.origin.name.as_deref()?;
                let earlier = !rec.phase().is_live()
                    && self
                        .instances
                        .tunnel(name)
                        .is_some_and(|i| i.state.handle() != Some(h));
                (!earlier).then(|| name.to_owned())
            }
            (None, Selector::Name(n)) => Some(n.clone()),
            // An instance named with the digits, waiting for its tunnel.
            (None, Selector::Id(id)) => {
                let n = id.to_string();
                self.instances.tunnel(&n).is_some().then_some(n)
            }
        }
    }
}

/// Whether a tunnel instance without a tunnel is shown: not one made by `l2tpctl create
/// tunnel` and deleted since, which is gone (l2tpctl(1), `delete tunnel`); a deleted one of the
/// config file is shown as stopped until a reload or restart.
pub(super) fn shown(inst: &Instance<l2tp_config::ResolvedTunnel>) -> bool {
    !(inst.created_by == ctl::CreatedBy::Cli && inst.state == InstanceState::Stopped)
}

/// An AVP's octets as text: as they are when printable, else `hex:` and their hexadecimal.
pub(super) fn text(bytes: &[u8]) -> String {
    if crate::scripts::is_printable(bytes) {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        format!("hex:{}", crate::scripts::hex(bytes))
    }
}

/// Whether session `rec` is going: its CDN sent or received, or its native PPP closing on
/// purpose (the CDN or its tunnel's StopCCN follows the Terminate-Ack).
pub(super) fn session_going(rec: &SessionRec) -> bool {
    !rec.phase().is_live() || rec.ppp.as_ref().is_some_and(|p| p.ending.is_some())
}
