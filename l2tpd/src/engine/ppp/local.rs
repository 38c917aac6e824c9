//! The server role's own decisions: the local users' verdict on a peer's credentials, and the
//! addresses a link assigns (the user's own, the profile's `peer_ip_addr`, or one from the
//! profile's pool), held in the pools so that no two sessions get the same.

use std::net::{IpAddr, Ipv4Addr};

use l2tp_ctl::text;
use l2tp_proto::Refusal;
use l2tp_proto::wire::result::result_code::cdn;
use ppp_proto::{AuthRequest, NetworkParams, Verdict};

use super::super::ctx::Ctx;
use super::super::lines::SessionLines;
use super::super::pools::PoolError;
use super::super::registry::TunnelRec;
use super::policy::AuthRefusal;
use super::relogin::reserve_fixed;
use super::state::{Ppp, PppLink, method_label};

/// The IPv4 address of session `handle`'s tunnel at our end, if it runs over IPv4: our address
/// on its links when the profile sets none.
pub(super) fn tunnel_local_ipv4(ctx: &Ctx<'_>, handle: u64) -> Option<Ipv4Addr> {
    let rec = ctx.registry.session(handle)?;
    local_ipv4(ctx.registry.tunnel(rec.tunnel)?)
}

/// The local IPv4 address of `tunnel` (`None` for IPv6 or an unspecified address).
pub(super) fn local_ipv4(tunnel: &TunnelRec) -> Option<Ipv4Addr> {
    let (local, _) = tunnel.socket?;
    match local.ip() {
        IpAddr::V4(a) if !a.is_unspecified() => Some(a),
        _ => None,
    }
}

/// The verdict on the peer's credentials, with its address set on the link when accepted.
pub(super) fn authenticate(
    ppp: &mut Ppp,
    (tid, sid, handle): (u32, u32, u64),
    st: &mut PppLink,
    req: &AuthRequest,
    (local_v4, lines, now): (Option<Ipv4Addr>, &mut SessionLines, std::time::Instant),
) -> Verdict {
    let name = text::quoted(&req.user);
    let method = method_label(req.method());
    st.method = Some(req.method());
    st.user = Some(req.user.clone().into_boxed_slice());
    let (user_ip, verdict) = match st.policy.users.verify(req) {
        Ok((user, verdict)) => (user.ip, verdict),
        Err(refusal) => {
            *ppp.counters
                .auth_failures
                .entry(refusal.label())
                .or_default() += 1;
            if lines.admit(now, tid) {
                tracing::warn!(
                    "session {tid}/{sid}: PPP authentication of user {name} ({method}) \
                     failed: {refusal}"
                );
            }
            st.refusal = Some(Refusal::with(2, "PPP authentication failed"));
            return Verdict::reject("Authentication failed");
        }
    };
    match assign_address(ppp, handle, st, user_ip, local_v4) {
        Ok(()) => verdict,
        Err(e) => refuse_address(ppp, (tid, sid), st, &req.user, &e),
    }
}

/// The verdict on the peer's answer to a re-challenge (`chap_interval`, RFC 1994 §2): the
/// user who logged in, checked against the local users again. The link's addresses stay; a
/// refusal ends the session as a failed login does (logged, counted, CDN result 2).
pub(super) fn reauthenticate(
    ppp: &mut Ppp,
    (tid, sid): (u32, u32),
    st: &mut PppLink,
    req: &AuthRequest,
) -> Verdict {
    let name = String::from_utf8_lossy(&req.user).into_owned();
    let method = method_label(req.method());
    let same_user = st.user.as_deref() == Some(req.user.as_slice());
    let checked = if same_user {
        st.policy.users.verify(req).map(|(_, verdict)| verdict)
    } else {
        Err(AuthRefusal::WrongCredentials)
    };
    match checked {
        Ok(verdict) => {
            tracing::debug!("session {tid}/{sid}: PPP re-challenge of user {name:?} answered");
            verdict
        }
        Err(refusal) => {
            *ppp.counters
                .auth_failures
                .entry(refusal.label())
                .or_default() += 1;
            let why = if same_user {
                refusal.to_string()
            } else {
                let was = st.user().unwrap_or_default();
                format!("the session's user is {was:?}")
            };
            tracing::warn!(
                "session {tid}/{sid}: PPP re-authentication of user {name:?} ({method}) \
                 failed: {why}"
            );
            st.refusal = Some(Refusal::with(2, "PPP authentication failed"));
            Verdict::reject("Authentication failed")
        }
    }
}

/// Sets the addresses the server link assigns: ours, and the peer's (the user's own
/// address, else the profile's `peer_ip_addr`, else one from its pool), held in the pools
/// so that no other session gets it.
pub(super) fn assign_address(
    ppp: &mut Ppp,
    handle: u64,
    st: &mut PppLink,
    user_ip: Option<Ipv4Addr>,
    local_v4: Option<Ipv4Addr>,
) -> Result<(), PoolError> {
    let Some(ipv4) = st.policy.server.ipv4 else {
        return Ok(());
    };
    let local = st.policy.local_ip.or(local_v4);
    let peer = match (user_ip, st.policy.peer_ip, st.policy.pool.as_deref()) {
        (Some(a), _, _) | (None, Some(a), _) => Some(reserve_fixed(ppp, handle, st, a)?),
        (None, None, Some(pool)) => Some(ppp.pools.allocate(pool, handle)?),
        // No address to give: the peer must bring its own.
        (None, None, None) => None,
    };
    set_network(st, ipv4.defaults, local, peer);
    Ok(())
}

fn set_network(
    st: &mut PppLink,
    defaults: ppp_proto::Ipv4Params,
    local: Option<Ipv4Addr>,
    peer: Option<Ipv4Addr>,
) {
    let mut params = NetworkParams {
        ipv4: defaults,
        ..NetworkParams::default()
    };
    params.ipv4.local = local.or(defaults.local);
    params.ipv4.peer = peer;
    if let Some(v6) = st.policy.server.ipv6 {
        params.ipv6 = v6.defaults;
    }
    st.link.set_network(params);
}

pub(super) fn refuse_address(
    ppp: &mut Ppp,
    (tid, sid): (u32, u32),
    st: &mut PppLink,
    user: &[u8],
    e: &PoolError,
) -> Verdict {
    *ppp.counters.address_refusals.entry(e.label()).or_default() += 1;
    tracing::warn!(
        "session {tid}/{sid}: user {} refused: no address to give: {e}",
        text::quoted(user)
    );
    st.refusal = Some(Refusal::with(
        cdn::NO_FACILITIES_TEMPORARY,
        "no address available",
    ));
    Verdict::reject("No address available")
}
