//! Native-PPP sessions the host ends on purpose (`l2tpctl delete session`, `delete tunnel`,
//! `disconnect`, a RADIUS Disconnect-Request, a reload that removes or changes their block,
//! the daemon's shutdown) say goodbye in PPP first, as pppd and every LAC and LNS do: RFC 1661
//! §3.7, the Close event sends a Terminate-Request (Opened state: after This-Layer-Down). The
//! L2TP session ends (its CDN, or its tunnel's StopCCN) once the peer's Terminate-Ack is in,
//! or after [`TERMINATE_WAIT`] without one: a peer that never answers delays the CDN that
//! long and no more, and nothing waits meanwhile (other sessions, the operator's command).
//!
//! A session waits on its link's own timer entry (`end_at`). A tunnel waits on one entry of
//! its own ([`ClosingTunnels`]) counting its links still closing, so that closing a tunnel of
//! 100 000 sessions adds one timer, not one per session, and sends one StopCCN, not a CDN per
//! session.

use std::time::Duration;

use ppp_proto::{CloseReason, DownReason};

use super::super::ctx::Ctx;
use super::aaa;
use super::outputs::{cdn_for, drive};
use super::state::{Ending, PppLink};

/// The longest a link the host closes waits for the peer's Terminate-Ack before its L2TP
/// session ends anyway (its Restart timer, when shorter).
pub(in crate::engine) const TERMINATE_WAIT: Duration = Duration::from_millis(500);

/// Ends session `handle` on purpose for `reason`: its PPP first (LCP Terminate-Request), its
/// CDN once the link is down or after [`TERMINATE_WAIT`]; at once without a running PPP.
pub(in crate::engine) fn end_session(ctx: &mut Ctx<'_>, handle: u64, reason: CloseReason) {
    if close(ctx, handle, reason) == Closed::NotRunning {
        ctx.close_session(handle);
    }
}

/// What [`close`] did.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Closed {
    /// The link is closing now.
    Now,
    /// The link was closing on purpose already: the first reason and deadline stand.
    Already,
    /// The session has no running PPP (not native, not opened yet, or ended): nothing done.
    NotRunning,
}

/// Closes session `handle`'s PPP (LCP Terminate-Request); its L2TP session ends with a CDN
/// once the link is down or after [`TERMINATE_WAIT`].
pub(super) fn close(ctx: &mut Ctx<'_>, handle: u64, reason: CloseReason) -> Closed {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(rec) = ctx.registry.session_mut(handle).filter(|r| !r.is_static) else {
        return Closed::NotRunning;
    };
    let Some(st) = rec.ppp.as_deref_mut().filter(|st| is_running(st)) else {
        return Closed::NotRunning;
    };
    if st.ending.is_some() {
        return Closed::Already;
    }
    let down = DownReason::Closed(reason);
    note_cause(st, &down);
    ctx.ppp.closing.set_ending(st, Some(Ending::Session));
    st.end_at = Some(Box::new((
        now + wait(st),
        cdn_for(&down),
        format!("PPP: {down}"),
    )));
    st.link.close(now, reason);
    drive(ctx, handle);
    Closed::Now
}

/// Ends tunnel `handle` on purpose for `reason`: the PPP of each of its native-PPP sessions
/// first (LCP Terminate-Request), the StopCCN once every such link is down or after
/// [`TERMINATE_WAIT`]; at once without one. A tunnel waiting already is left to its wait.
pub(in crate::engine) fn end_tunnel(ctx: &mut Ctx<'_>, handle: u64, reason: CloseReason) {
    let Some(rec) = ctx.registry.tunnel(handle) else {
        return;
    };
    let tid = rec.tid();
    if ctx.ppp.closing.contains(tid) {
        return;
    }
    if rec.is_static() {
        return ctx.close_tunnel(handle);
    }
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let down = DownReason::Closed(reason);
    // Every link to wait for is counted before any is closed: one that is down at once
    // (never opened) then cannot end the wait early.
    let mut links: Vec<u64> = ctx
        .protocol
        .ep()
        .sessions(tid)
        .map(|s| s.handle.0)
        .collect();
    let mut bound = TERMINATE_WAIT;
    links.retain(|h| {
        let Some(st) = ctx
            .registry
            .session_mut(*h)
            .and_then(|r| r.ppp.as_deref_mut())
            .filter(|st| is_running(st))
        else {
            return false;
        };
        note_cause(st, &down);
        bound = bound.min(wait(st));
        // A session closing on its own waits with its tunnel now: no CDN of its own.
        ctx.ppp.closing.set_ending(st, Some(Ending::Tunnel));
        st.end_at = None;
        true
    });
    if links.is_empty() {
        return ctx.close_tunnel(handle);
    }
    let at = now + bound;
    let left = u32::try_from(links.len()).unwrap_or(u32::MAX);
    ctx.ppp.closing.insert(tid, handle, at, left);
    for h in links {
        if let Some(st) = ctx
            .registry
            .session_mut(h)
            .and_then(|r| r.ppp.as_deref_mut())
        {
            st.link.close(now, reason);
        }
        drive(ctx, h);
    }
}

/// The StopCCNs of the tunnels whose wait is over.
pub(super) fn run_due(ctx: &mut Ctx<'_>) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    while let Some(h) = ctx.ppp.closing.due(now) {
        ctx.close_tunnel(h);
    }
}

/// Whether link `st` has opened and not finished: one that never opened has no peer to tell,
/// and its session ends as any other.
fn is_running(st: &PppLink) -> bool {
    !st.link.is_finished() && st.link.phase() != ppp_proto::Phase::Dead
}

/// How long link `st` waits for the peer's Terminate-Ack.
fn wait(st: &PppLink) -> Duration {
    let restart = st.policy.link_config(st.role).retries.restart;
    TERMINATE_WAIT.min(restart)
}

/// The Acct-Terminate-Cause (RFC 2866 §5.10) of a link closed for `down`, whatever ends its
/// L2TP session afterwards (the CDN, the tunnel's StopCCN, the peer's answer to either).
fn note_cause(st: &mut PppLink, down: &DownReason) {
    if let Some(rl) = st.radius.as_deref_mut() {
        rl.cause.get_or_insert(aaa::terminate_cause(down));
    }
}
