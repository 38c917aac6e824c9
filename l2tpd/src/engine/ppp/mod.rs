//! Native PPP: the PPP of a session that l2tpd terminates itself, a `ppp_proto::Link` per
//! session driven like the L2TP endpoint is (frames, timeouts and `now` in; frames, events and
//! the next deadline out).
//!
//! Each native-PPP session's record holds its [`PppLink`]; the [`Ppp`] part of the engine
//! holds what links share: the ppp profiles' policies, the local users, the address
//! [`Pools`], one timer list for every link, the randomness for magic numbers and challenges,
//! and the counters. What a link asks for becomes data-plane requests (its frames to send; its
//! network layer up or down), watchers' and scripts' `ppp_up`/`ppp_down` events, and, when the
//! link ends of its own accord, the end of its L2TP session with a CDN saying why.
//!
//! The authenticator checks credentials against the local users (`local`), or asks RADIUS
//! (`access`, with `aaa` and `request`) and waits for its answer; an accepted peer gets its
//! address (the user's own, the server's, the profile's `peer_ip_addr`, or one from a pool)
//! before the verdict goes out, so that an address that cannot be given refuses the peer
//! instead of starting IPCP without one. RADIUS accounting (`acct`) follows the link, and
//! Disconnect- and CoA-Requests (`dynauth`) act on it.

mod aaa;
mod access;
mod acct;
mod config;
mod dynauth;
mod ending;
mod local;
mod mtu;
mod outputs;
pub(super) mod policy;
mod proxy;
mod reauth;
mod relogin;
mod request;
pub(super) mod state;
mod values;

use std::sync::Arc;

use l2tp_ctl as ctl;
use l2tp_proto::{self as proto, Refusal};

pub(super) use acct::{hold_removal, release_removal};
pub(super) use config::PppPolicies;
#[cfg(test)]
pub(super) use ending::TERMINATE_WAIT;
pub(super) use ending::{end_session, end_tunnel};
#[cfg(test)]
pub(super) use policy::{LocalUser, Users};
pub(super) use policy::{PppPolicy, Role};
use state::{CLIENT_WAIT, Ppp};

use super::api::RadiusOutcome;
use super::ctx::Ctx;
use aaa::Purpose;
use local::{assign_address, refuse_address, tunnel_local_ipv4};
use outputs::drive;

// ------------------------------------------------------------------ inputs

/// A PPP session's data plane is about to be installed: when l2tpd terminates its PPP itself
/// (its pseudowire profile does not ask for pppd), its link is made, in the role the session
/// gives: the server when we are the LNS of an L2TPv2 call or answered an L2TPv3 peer's call,
/// else the client. Returns whether the session's PPP is native (its data plane is told so
/// even when it carries no native PPP: it then refuses the session, or, `none`, carries
/// nothing).
pub(super) fn prepare(ctx: &mut Ctx<'_>, p: &proto::event::SessionParams) -> bool {
    if p.pw_type != l2tp_config::PseudowireType::Ppp.number() {
        return false;
    }
    let Some(rec) = ctx.registry.session(p.handle.0) else {
        return false;
    };
    if rec.pseudowire.use_pppd {
        return false;
    }
    let Some(policy) = native_policy(ctx.ppp, &rec.pseudowire) else {
        tracing::error!(
            "session {}/{}: no ppp profile \"{}\"; its PPP does not start",
            p.tunnel_id,
            p.session_id,
            rec.pseudowire.ppp_profile_name
        );
        return true;
    };
    if !ctx.facts.native_ppp {
        return true;
    }
    let tunnel = ctx.protocol.ep().tunnel(p.tunnel_id);
    let v3 = (tunnel.as_ref()).is_some_and(|t| t.version == proto::wire::header::Version::V3);
    let underlay = tunnel.map(|t| mtu::Underlay {
        version: t.version,
        encap: t.encap,
        ipv6: t.remote.is_ipv6(),
        l2spec: p.l2spec,
    });
    let pw_mtu = rec.pseudowire.mtu;
    let answered = rec.origin.created_by == ctl::CreatedBy::Net;
    let role = if p.lns || (v3 && answered) {
        Role::Server
    } else {
        Role::Client
    };
    let proxy_lcp = policy.proxy.lcp;
    let explicit_mru = policy.mru;
    let mut link = ctx.ppp.new_link(role, policy);
    if let Some(u) = underlay {
        // What the peer sends us carries our cookie; what we send, the peer's.
        link.mru = explicit_mru.unwrap_or_else(|| u.ppp_mtu(p.cookie.len()));
        link.link.set_mru(link.mru);
        link.path_mtu = u.ppp_mtu(p.peer_cookie.len());
    }
    if let Some(m) = pw_mtu {
        link.path_mtu = link.path_mtu.min(m);
    }
    if role == Role::Server && proxy_lcp {
        link.proxy = p.proxy.clone();
    }
    if let Some(rec) = ctx.registry.session_mut(p.handle.0) {
        rec.ppp = Some(link);
    }
    true
}

/// The MRU to ask for and the MTU to send with that fit session `p`'s underlay without
/// fragmentation ([`mtu::Underlay::ppp_mtu`]), for a pppd that the profile does not size
/// itself; `None` when its tunnel is gone.
pub(super) fn underlay_sizes(ctx: &Ctx<'_>, p: &proto::event::SessionParams) -> Option<(u16, u16)> {
    let t = ctx.protocol.ep().tunnel(p.tunnel_id)?;
    let u = mtu::Underlay {
        version: t.version,
        encap: t.encap,
        ipv6: t.remote.is_ipv6(),
        l2spec: p.l2spec,
    };
    // What the peer sends us carries our cookie; what we send, the peer's.
    Some((u.ppp_mtu(p.cookie.len()), u.ppp_mtu(p.peer_cookie.len())))
}

/// The policy of the ppp profile a pseudowire profile names.
fn native_policy(
    ppp: &Ppp,
    pseudowire: &l2tp_config::PseudowireSettings,
) -> Option<Arc<PppPolicy>> {
    ppp.policy(&pseudowire.ppp_profile_name)
}

/// Session `handle`'s L2TP session is up: its PPP starts (LCP Configure-Request).
pub(super) fn open(ctx: &mut Ctx<'_>, handle: u64) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    else {
        return;
    };
    // A server that authenticates nobody gives the address now, before IPCP starts.
    if st.role == Role::Server && st.policy.server.authenticate_peer.is_empty() {
        let local_v4 = tunnel_local_ipv4(ctx, handle);
        let Ctx { registry, ppp, .. } = &mut *ctx;
        let Some(rec) = registry.session_mut(handle) else {
            return;
        };
        let (tid, sid) = (rec.tid(), rec.sid());
        let Some(st) = rec.ppp.as_deref_mut() else {
            return;
        };
        if let Err(e) = assign_address(ppp, handle, st, None, local_v4) {
            let _ = refuse_address(ppp, (tid, sid), st, b"(not authenticated)", &e);
            let refusal = st.refusal.take().unwrap_or_else(|| Refusal::result(4));
            let command = proto::Command::EndSession {
                tunnel_id: tid,
                session_id: sid,
                refusal,
                why: format!("PPP: no address to give: {e}"),
            };
            if let Err(e) = ctx.protocol.command(ctx.now, command) {
                tracing::debug!("session {tid}/{sid}: {e:?}");
            }
            return;
        }
    }
    let Ctx { registry, ppp, .. } = &mut *ctx;
    let Some(rec) = registry.session_mut(handle) else {
        return;
    };
    let (tid, sid) = (rec.tid(), rec.sid());
    let Some(st) = rec.ppp.as_deref_mut() else {
        return;
    };
    match st.role {
        Role::Server => {
            // RFC 2661 §4.4.5: the LAC's LCP (and authentication), if the profile takes it.
            let proxied = st
                .proxy
                .take()
                .is_some_and(|avps| proxy::open(ppp, (tid, sid), st, &avps, now));
            if !proxied {
                st.link.open(now);
            }
        }
        Role::Client => st.start_at = Some(now + CLIENT_WAIT),
    }
    drive(ctx, handle);
}

/// A PPP control frame from the peer of session `tid`/`sid`. Returns the tunnel's peer when
/// the link found the frame malformed (counted here; the caller logs it within a budget).
pub(super) fn frame(
    ctx: &mut Ctx<'_>,
    (tid, sid): (u32, u32),
    frame: &[u8],
) -> Option<std::net::SocketAddr> {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(handle) = ctx.registry.session_handle(tid, sid) else {
        ctx.ppp.counters.frames_discarded += 1;
        tracing::debug!("session {tid}/{sid}: a PPP frame for no session: discarded");
        return None;
    };
    let Ctx { registry, ppp, .. } = ctx;
    let Some(st) = registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    else {
        ppp.counters.frames_discarded += 1;
        tracing::debug!("session {tid}/{sid}: a PPP frame, but no native PPP: discarded");
        return None;
    };
    if st.start_at.take().is_some() {
        st.link.open(now);
    }
    let (malformed, stale, other, renegotiations) = {
        let c = st.link.counters();
        (
            c.malformed,
            c.stale,
            c.auth_other_requests,
            c.renegotiations,
        )
    };
    // The peers of every session must have link-local addresses apart (one shared TUN).
    // (Nor may a peer have the daemon's own identifier, the TUN's address for other links.)
    let Ppp {
        rng,
        peer_ifids,
        local_ifid,
        ..
    } = &mut **ppp;
    let taken = |id: ppp_proto::InterfaceId| {
        let id = id.to_u64();
        id == *local_ifid || peer_ifids.get(&id).is_some_and(|owner| *owner != handle)
    };
    st.link.handle_frame_with(now, frame, rng.as_mut(), &taken);
    // Held from the Ack on: two negotiations at once cannot both take one identifier.
    let acked = st
        .link
        .peer_interface_id()
        .filter(|_| !st.link.is_finished())
        .map_or(0, |id| id.to_u64());
    ppp.note_peer_ifid(handle, st, acked);
    if st.link.counters().auth_other_requests != other {
        tracing::debug!(
            "session {tid}/{sid}: PPP: other credentials than those judged: \
             answered with the verdict, not judged"
        );
    }
    if st.link.counters().stale != stale {
        // A path that duplicates or delays frames brings these: no warning.
        ppp.counters.frames_stale += 1;
        tracing::debug!(
            "session {tid}/{sid}: a stale PPP frame ({}, {} octets: a duplicate or late \
             answer) discarded",
            protocol_name(frame),
            frame.len()
        );
    }
    let started = st
        .link
        .counters()
        .renegotiations
        .wrapping_sub(renegotiations);
    if started != 0 {
        // Bounded per link (`max_renegotiations`); the link's end past it is a notice.
        ppp.counters.renegotiations += u64::from(started);
        tracing::debug!(
            "session {tid}/{sid}: the PPP peer renegotiates ({}), {} times in all",
            protocol_name(frame),
            st.link.counters().renegotiations
        );
    }
    let malformed = st.link.counters().malformed != malformed;
    if malformed {
        ppp.counters.frames_malformed += 1;
    }
    drive(ctx, handle);
    if !malformed {
        return None;
    }
    let peer = ctx
        .registry
        .tunnel_by_tid(tid)
        .and_then(|t| t.socket)
        .map(|(_, peer)| peer);
    Some(peer.unwrap_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0))))
}

/// The name of a PPP frame's protocol, for logs.
pub(super) fn protocol_name(frame: &[u8]) -> String {
    match ppp_proto::wire::split_protocol(frame).map(|(p, _)| p) {
        Some(0xc021) => "LCP".into(),
        Some(0xc023) => "PAP".into(),
        Some(0xc223) => "CHAP".into(),
        Some(0x8021) => "IPCP".into(),
        Some(0x8057) => "IPv6CP".into(),
        Some(p) => format!("protocol {p:#06x}"),
        None => "no protocol".into(),
    }
}

/// The peer's Set-Link-Info (RFC 2661 §6.14) for session `handle`: the ACCM the LNS's PPP
/// negotiated, for a LAC's asynchronous line. A native-PPP LAC has no such line (its frames
/// have no HDLC framing), so the ACCM is kept and shown, and changes nothing else.
pub(super) fn link_info(
    ctx: &mut Ctx<'_>,
    handle: u64,
    accm: Option<l2tp_proto::wire::avp::types::Accm>,
) {
    if let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    {
        st.sli_accm = accm;
    }
}

/// Sessions that carried data: their links are not idle (and, for adaptive echo, alive).
/// Cheap: no timer moves.
pub(super) fn activity(ctx: &mut Ctx<'_>, sessions: &[(u32, u32, bool, bool)]) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    for &(tid, sid, rx, tx) in sessions {
        let Some(st) = ctx
            .registry
            .session_handle(tid, sid)
            .and_then(|h| ctx.registry.session_mut(h))
            .and_then(|r| r.ppp.as_deref_mut())
        else {
            continue;
        };
        if rx {
            st.link.note_activity(now, ppp_proto::Activity::Received);
        }
        if tx {
            st.link.note_activity(now, ppp_proto::Activity::Sent);
        }
    }
}

/// Runs the link timers that are due.
pub(super) fn run_due(ctx: &mut Ctx<'_>) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    while let Some(&(t, handle)) = ctx.ppp.timers.first() {
        if t > now {
            break;
        }
        ctx.ppp.timers.remove(&(t, handle));
        let Some(st) = ctx
            .registry
            .session_mut(handle)
            .and_then(|r| r.ppp.as_deref_mut())
        else {
            continue;
        };
        st.deadline = None;
        let missed = st.link.counters().echo_missed;
        st.link.handle_timeout(now);
        let unanswered = st.link.counters().echo_missed != missed;
        drive(ctx, handle);
        if unanswered {
            probe_tunnel(ctx, handle);
        }
    }
    ending::run_due(ctx);
}

/// Session `handle`'s PPP peer left an LCP Echo-Request unanswered: its tunnel is sent a HELLO
/// at once (RFC 2661 §6.5, RFC 3931 §5.4.1), unless it waits on an acknowledgement already.
/// A peer that restarted or vanished is then found dead one retransmission cycle after the
/// first missed echo, its tunnel and every session in it going down together, and the
/// sessions are placed again in a new tunnel, rather than one cycle after the PPP gave up
/// (`lcp_echo_fail_count` echoes later), while new calls wait in the dead tunnel.
fn probe_tunnel(ctx: &mut Ctx<'_>, handle: u64) {
    let Some((tid, sid)) = ctx.registry.session(handle).map(|r| (r.tid(), r.sid())) else {
        return;
    };
    if super::restart::probe(ctx, tid) {
        tracing::info!(
            "tunnel {tid}: session {tid}/{sid}'s PPP peer left an LCP echo unanswered; \
             checking the tunnel with a HELLO"
        );
    }
}

/// Session `handle`'s L2TP session is going down for `cause`: its PPP ends at once (no CDN
/// of its own).
pub(super) fn lower_down(ctx: &mut Ctx<'_>, handle: u64, cause: proto::DownCause) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let shutting_down = ctx.shutting_down;
    let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    else {
        return;
    };
    if let Some(rl) = st.radius.as_deref_mut()
        && !st.link.is_finished()
    {
        // A link ending already says why (the peer's Terminate-Request, whose CDN this is,
        // is User-Request); else the L2TP session's end does.
        let why = match st.link.down_reason() {
            Some(r) => aaa::terminate_cause(&r),
            None => aaa::lower_cause(cause, shutting_down),
        };
        rl.cause.get_or_insert(why);
    }
    // A link closing on its own: the L2TP session it was to end is going already.
    if st.ending == Some(state::Ending::Session) {
        ctx.ppp.closing.set_ending(st, Some(state::Ending::Ended));
    }
    st.link.lower_down(now);
    drive(ctx, handle);
}

/// Closes the PPP of the sessions `who` names (LCP Terminate-Request; their L2TP sessions end
/// when their links are down, or after `ending::TERMINATE_WAIT`). Returns how many it closed
/// now and how many were closing on purpose already (left to their first wait). The user (the login name or the
/// Access-Accept's User-Name, as a Disconnect-Request matches it) is looked for among every
/// session (the cost of a scan of the records); an address through the pools' index.
pub(super) fn disconnect(ctx: &mut Ctx<'_>, who: &ctl::PppSelector) -> (usize, usize) {
    let handles: Vec<u64> = match who {
        ctl::PppSelector::Address(a) => ctx.ppp.pools.holder(*a).into_iter().collect(),
        ctl::PppSelector::User(u) => ctx
            .registry
            .sessions()
            .filter(|(_, r)| {
                r.ppp
                    .as_ref()
                    .is_some_and(|p| p.role == Role::Server && p.is_user(u.as_bytes()))
            })
            .map(|(h, _)| h)
            .collect(),
    };
    let (mut now, mut already) = (0, 0);
    for h in handles {
        match ending::close(ctx, h, ppp_proto::CloseReason::Administrative) {
            ending::Closed::Now => now += 1,
            ending::Closed::Already => already += 1,
            ending::Closed::NotRunning => {}
        }
    }
    (now, already)
}

/// The outcome of RADIUS request `key` (from the shell's RADIUS client).
pub(super) fn radius_outcome(ctx: &mut Ctx<'_>, key: u64, outcome: RadiusOutcome) {
    let Some(p) = ctx.ppp.aaa.take(key) else {
        return;
    };
    let lost = matches!(outcome, RadiusOutcome::Dropped | RadiusOutcome::Failed(_));
    match p.purpose {
        Purpose::Auth(_) => {
            access::answered(ctx, p.handle, key, outcome);
            drive(ctx, p.handle);
        }
        Purpose::Reauth(_) => {
            reauth::answered(ctx, p.handle, key, outcome);
            drive(ctx, p.handle);
        }
        Purpose::Acct(_) | Purpose::Daemon(_) if lost => {
            ctx.ppp.aaa.counters.accounting_lost += 1;
        }
        Purpose::Acct(status) => acct::answered(ctx, p.handle, status),
        Purpose::Daemon(_) => ctx.ppp.aaa.counters.accounting_responses += 1,
    }
}

/// The daemon starts: Accounting-On (RFC 2866 §5.1), if the config asks for it.
pub(super) fn accounting_on(ctx: &mut Ctx<'_>) {
    request::daemon_accounting(
        ctx,
        radius_proto::dict::values::acct_status_type::ACCOUNTING_ON,
    );
}

/// The daemon is about to exit: every session whose accounting is open gets its Stop
/// (Admin-Reboot), then Accounting-Off goes out.
pub(super) fn finish(ctx: &mut Ctx<'_>) {
    let open: Vec<u64> = ctx
        .registry
        .sessions()
        .filter(|(_, r)| {
            r.ppp
                .as_deref()
                .and_then(|st| st.radius.as_deref())
                .is_some_and(|rl| rl.accounting.is_open())
        })
        .map(|(h, _)| h)
        .collect();
    for h in open {
        if let Some(rl) = ctx
            .registry
            .session_mut(h)
            .and_then(|r| r.ppp.as_deref_mut())
            .and_then(|st| st.radius.as_deref_mut())
        {
            rl.cause = Some(radius_proto::dict::values::acct_terminate_cause::ADMIN_REBOOT);
        }
        lower_down(ctx, h, proto::DownCause::Local);
    }
    request::daemon_accounting(
        ctx,
        radius_proto::dict::values::acct_status_type::ACCOUNTING_OFF,
    );
}

/// RADIUS requests waiting for their outcome.
pub(super) fn radius_pending(ppp: &Ppp) -> usize {
    ppp.aaa.pending()
}

/// An authenticated Disconnect- or CoA-Request (RFC 5176): its answer, after the sessions it
/// names are disconnected or changed.
pub(super) fn dynauth(
    ctx: &mut Ctx<'_>,
    kind: radius_proto::dynauth::DynAuthKind,
    attrs: &radius_proto::Attributes,
) -> radius_proto::dynauth::Answer {
    let (answer, disconnect) = dynauth::decide(ctx, kind, attrs);
    for h in disconnect {
        ending::close(ctx, h, ppp_proto::CloseReason::Disconnect);
    }
    answer
}
