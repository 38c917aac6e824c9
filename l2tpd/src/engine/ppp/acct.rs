//! RADIUS accounting of server links (RFC 2866, RFC 2869 §2.1): a Start when the session's
//! network layer first comes up, an Interim-Update at the Access-Accept's
//! Acct-Interim-Interval (else the profile's `acct_interim_interval`), and a Stop with the
//! Acct-Terminate-Cause of why the session ended, its Acct-Session-Time and (added by the shell
//! from the data plane) its octets with gigawords and packets both ways.
//!
//! The interim timer is the engine's, in the same timer list as the link's own timers: the
//! engine knows when a session came up and what interval the server gave, the shell knows the
//! counters. The request names its session, and the shell reads the data plane's counters of
//! that session when it sends it. A session's removal from the data plane waits for its Stop
//! ([`hold_removal`]), so that the Stop still finds the counters. The Start carries the
//! peer's IPv4 address: when IPv6CP opens first, it waits for IPCP up to [`START_WAIT`].

use std::time::Duration;

use radius_proto::EncodeError;
use radius_proto::client::Service;
use radius_proto::dict::values::acct_status_type as status;

use super::super::ctx::Ctx;
use super::aaa::{AcctState, Pending, Purpose, push_accounting, push_classes};
use super::request::{SessionFacts, session_attributes, submit};
use super::values::label;

/// How long the Start waits for IPCP once another network protocol (IPv6CP) is up.
const START_WAIT: Duration = Duration::from_secs(3);

/// What a run of the link asked of accounting: an Interim-Update fell due, the link went down
/// for this reason.
#[derive(Debug, Default)]
pub(super) struct Due {
    pub(super) interim: bool,
    pub(super) down: Option<ppp_proto::DownReason>,
}

/// Sends what session `handle`'s accounting owes after a run of its link: the Start once its
/// network is up, an Interim-Update that fell due, the Stop once it is down.
pub(super) fn progress(ctx: &mut Ctx<'_>, handle: u64, due: &Due) {
    let Some(st) = ctx.registry.session(handle).and_then(|r| r.ppp.as_deref()) else {
        return;
    };
    let Some(rl) = st.radius.as_deref() else {
        return;
    };
    if !st.policy.radius.accounting {
        return;
    }
    let (state, up) = (rl.accounting, st.up_since);
    // The timer that fell due before the Start was its wait for IPCP.
    let mut interim = due.interim && state.is_open();
    if let (AcctState::Off, Some(since)) = (state, up) {
        // The Start carries the peer's address: it waits for IPCP, a moment at most.
        let waited = ctx.now.saturating_duration_since(since);
        if st.policy.server.ipv4.is_some() && !st.open.ipv4 && waited < START_WAIT {
            let at = ctx.ppp.clock.to_proto(ctx.now) + (START_WAIT - waited);
            let Some(st) = ctx
                .registry
                .session_mut(handle)
                .and_then(|r| r.ppp.as_deref_mut())
            else {
                return;
            };
            if let Some(rl) = st.radius.as_deref_mut() {
                rl.interim_at = Some(at);
            }
            ctx.ppp.reschedule(handle, st);
            if due.down.is_none() {
                return;
            }
        }
        send(ctx, handle, status::START, None);
    }
    let state = ctx
        .registry
        .session(handle)
        .and_then(|r| r.ppp.as_deref())
        .and_then(|st| st.radius.as_deref())
        .map_or(AcctState::Off, |rl| rl.accounting);
    interim &= state.is_open() && due.down.is_none();
    if interim {
        send(ctx, handle, status::INTERIM_UPDATE, None);
    }
    if let Some(reason) = &due.down
        && state.is_open()
    {
        let cause = ctx
            .registry
            .session(handle)
            .and_then(|r| r.ppp.as_deref())
            .and_then(|st| st.radius.as_deref())
            .and_then(|rl| rl.cause)
            .unwrap_or_else(|| super::aaa::terminate_cause(reason));
        send(ctx, handle, status::STOP, Some(cause));
    }
}

/// Sends Accounting-Request `status` of session `handle` (with `cause` for a Stop), and moves
/// its accounting on.
fn send(ctx: &mut Ctx<'_>, handle: u64, status: u32, cause: Option<u32>) {
    let Some(f) = SessionFacts::of(ctx, handle) else {
        return;
    };
    let Some(st) = ctx.registry.session(handle).and_then(|r| r.ppp.as_deref()) else {
        return;
    };
    let Some(rl) = st.radius.as_deref() else {
        return;
    };
    let user = rl
        .acct_user
        .as_deref()
        .or(st.user.as_deref())
        .unwrap_or_default();
    let net = (
        st.ipv4.map(|i| i.peer),
        st.ipv6.map(|i| i.peer.to_u64()).filter(|id| *id != 0),
    );
    let session_time = st
        .up_since
        .map(|t| ctx.now.saturating_duration_since(t).as_secs());
    let built = session_attributes(ctx, &f, user, &rl.acct_session_id).and_then(|mut a| {
        push_accounting(&mut a, status, rl, net)?;
        if status != status::START {
            let secs = u32::try_from(session_time.unwrap_or(0)).unwrap_or(u32::MAX);
            a.push_acct_session_time(secs)?;
        }
        if let Some(c) = cause {
            a.push_acct_terminate_cause(c)?;
        }
        let left_out = push_classes(&mut a, rl)?;
        Ok::<_, EncodeError>((a, left_out))
    });
    let interim = rl.interim.or(st.policy.radius.interim);
    let a = match built {
        Ok((a, 0)) => a,
        Ok((a, n)) => {
            *ctx.ppp
                .counters
                .values_ignored
                .entry(label::CLASS_NO_ROOM)
                .or_default() += n as u64;
            if ctx.lines.admit(ctx.now, f.tid) {
                tracing::warn!(
                    "session {}/{}: user {}: {n} of the {} Class attributes of its \
                     Access-Accept do not fit in an Accounting-Request; accounting {} sent \
                     without them",
                    f.tid,
                    f.sid,
                    l2tp_ctl::text::quoted(user),
                    rl.class.len(),
                    super::aaa::status_label(status)
                );
            }
            a
        }
        Err(e) => {
            tracing::warn!(
                "session {}/{}: RADIUS accounting {} not sent: {e}",
                f.tid,
                f.sid,
                super::aaa::status_label(status)
            );
            ctx.ppp.aaa.counters.accounting_lost += 1;
            return;
        }
    };
    // The Start has no counters yet (RFC 2866 §5.3); the others have the data plane's.
    let counters = (status != status::START).then_some((f.tid, f.sid));
    let pending = Pending {
        handle,
        purpose: Purpose::Acct(status),
    };
    let now = ctx.ppp.clock.to_proto(ctx.now);
    submit(ctx, pending, Service::Accounting, a, counters);
    let Ctx { ppp, registry, .. } = &mut *ctx;
    let Some(st) = registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    else {
        return;
    };
    let Some(rl) = st.radius.as_deref_mut() else {
        return;
    };
    match status {
        status::START => {
            rl.accounting = AcctState::StartSent;
            rl.interim_at = interim.map(|i| now + i.max(Duration::from_secs(1)));
        }
        status::INTERIM_UPDATE => {
            rl.interim_at = interim.map(|i| now + i.max(Duration::from_secs(1)));
        }
        _ => {
            rl.accounting = AcctState::Stopped;
            rl.interim_at = None;
        }
    }
    ppp.reschedule(handle, st);
}

/// A server answered Accounting-Request `status` of session `handle`.
pub(super) fn answered(ctx: &mut Ctx<'_>, handle: u64, status: u32) {
    ctx.ppp.aaa.counters.accounting_responses += 1;
    if status != status::START {
        return;
    }
    if let Some(rl) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
        .and_then(|st| st.radius.as_deref_mut())
        && rl.accounting == AcctState::StartSent
    {
        rl.accounting = AcctState::Started;
    }
}

/// The data plane is about to remove session `tid`/`sid`: when its accounting still owes the
/// Stop, the removal waits for it (returns true: the caller holds the request back, and
/// [`release_removal`] sends it after the Stop).
pub(in crate::engine) fn hold_removal(ctx: &mut Ctx<'_>, (tid, sid): (u32, u32)) -> bool {
    let Some(rl) = ctx
        .registry
        .session_handle(tid, sid)
        .and_then(|h| ctx.registry.session_mut(h))
        .and_then(|r| r.ppp.as_deref_mut())
        .and_then(|st| st.radius.as_deref_mut())
    else {
        return false;
    };
    if !rl.accounting.is_open() {
        return false;
    }
    rl.hold_removal = true;
    true
}

/// Sends the data plane's removal of session `handle` that [`hold_removal`] held back, if any.
pub(in crate::engine) fn release_removal(ctx: &mut Ctx<'_>, handle: u64) {
    let Some(rec) = ctx.registry.session_mut(handle) else {
        return;
    };
    let (tid, sid) = (rec.tid(), rec.sid());
    let Some(rl) = rec
        .ppp
        .as_deref_mut()
        .and_then(|st| st.radius.as_deref_mut())
    else {
        return;
    };
    if std::mem::take(&mut rl.hold_removal) {
        ctx.out
            .dataplane(crate::dataplane::DataplaneRequest::RemoveSession { tid, sid });
    }
}
