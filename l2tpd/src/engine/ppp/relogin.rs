//! A user who logs in again while an older session of theirs still holds their fixed address:
//! a client that lost its connection (sleep, a move from Wi-Fi to mobile data, a NAT mapping
//! that timed out) and came back at once, in a new tunnel or from a new port, while its old
//! tunnel and session wait for their HELLOs or LCP echoes to fail.
//!
//! With the profile's `relogin replace`, the new session takes the address from the older
//! one, which is disconnected at once: its PPP closed (a Terminate-Request, for a client that
//! is still there) and its call cleared with a CDN, result 3 (administrative, RFC 2661
//! §4.4.2) as `l2tpctl disconnect` clears one. The new session waits for nothing but the
//! address. Only a session that authenticated as the very same name gives way; any other
//! holder refuses the new login, as does `relogin refuse`.

use std::net::Ipv4Addr;

use l2tp_config::Relogin;
use l2tp_ctl::text;
use ppp_proto::CloseReason;

use super::super::ctx::Ctx;
use super::super::pools::PoolError;
use super::state::{Ppp, PppLink, Replacement};
use crate::notice;

/// Fixed address `addr` for server link `st` of session `handle`, held in the pools: taken
/// from an older session of the same user when the profile says `relogin replace` (that
/// session is ended by [`end_replaced`], after the link that asked has run).
pub(super) fn reserve_fixed(
    ppp: &mut Ppp,
    handle: u64,
    st: &PppLink,
    addr: Ipv4Addr,
) -> Result<Ipv4Addr, PoolError> {
    let replace = st.policy.relogin == Relogin::Replace;
    let login = st.user.as_deref().map(|u| (u, replace));
    let (addr, older) = ppp.pools.reserve_for(addr, handle, login)?;
    if let Some(older) = older {
        ppp.replaced.push(Replacement {
            older,
            newer: handle,
            addr,
        });
    }
    Ok(addr)
}

/// Ends the links of the sessions whose addresses went to a new login of their user, at once
/// (the address is no longer theirs, nor may their network stay up with it). Returns their
/// handles: each is to be driven, which clears its session with a CDN.
pub(super) fn end_replaced(ctx: &mut Ctx<'_>) -> Vec<u64> {
    let mut ended = Vec::new();
    for r in std::mem::take(&mut ctx.ppp.replaced) {
        let now = ctx.ppp.clock.to_proto(ctx.now);
        let newer = ctx
            .registry
            .session(r.newer)
            .map_or_else(String::new, |rec| format!("{}/{}", rec.tid(), rec.sid()));
        let Some(rec) = ctx.registry.session_mut(r.older) else {
            continue;
        };
        let older = format!("{}/{}", rec.tid(), rec.sid());
        let Some(st) = rec.ppp.as_deref_mut() else {
            continue;
        };
        let user = st.user.clone().unwrap_or_default();
        let user = text::quoted(&user);
        notice!(
            "session {older}: user {user} logged in again in session {newer}: address {} \
             goes to the new session; disconnecting this one",
            r.addr
        );
        st.link.close(now, CloseReason::Replaced);
        st.link.lower_down(now);
        ended.push(r.older);
    }
    ended
}
