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
mod local;
pub(super) mod policy;
mod proxy;
mod relogin;
mod request;
pub(super) mod state;

use std::sync::Arc;
use std::time::Instant;

use l2tp_ctl::{self as ctl, EventKind, text};
use l2tp_proto::wire::result::result_code::cdn;
use l2tp_proto::{self as proto, Refusal};
use ppp_proto::{AuthRequest, DownReason, Event as LinkEvent};

pub(super) use acct::{hold_removal, release_removal};
pub(super) use config::PppPolicies;
#[cfg(test)]
pub(super) use policy::{LocalUser, Users};
pub(super) use policy::{PppPolicy, Role};
use state::{CLIENT_WAIT, Ppp, PppLink};

use super::api::RadiusOutcome;
use super::ctx::Ctx;
use super::notify;
use super::pools::PoolError;
use crate::dataplane::DataplaneRequest;
use crate::notice;
use aaa::Purpose;
use local::{assign_address, authenticate, reauthenticate, refuse_address, tunnel_local_ipv4};

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
    let v3 = ctx
        .protocol
        .ep()
        .tunnel(p.tunnel_id)
        .is_some_and(|t| t.version == proto::wire::header::Version::V3);
    let answered = rec.origin.created_by == ctl::CreatedBy::Net;
    let role = if p.lns || (v3 && answered) {
        Role::Server
    } else {
        Role::Client
    };
    let proxy_lcp = policy.proxy.lcp;
    let mut link = ctx.ppp.new_link(role, policy);
    if role == Role::Server && proxy_lcp {
        link.proxy = p.proxy.clone();
    }
    if let Some(rec) = ctx.registry.session_mut(p.handle.0) {
        rec.ppp = Some(link);
    }
    true
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
    let malformed = st.link.counters().malformed;
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
        st.link.handle_timeout(now);
        drive(ctx, handle);
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
        rl.cause
            .get_or_insert(aaa::lower_cause(cause, shutting_down));
    }
    st.link.lower_down(now);
    drive(ctx, handle);
}

/// Closes the PPP of the sessions `who` names (LCP Terminate-Request; their L2TP sessions end
/// when their links are down). Returns how many. The user is looked for among every session
/// (the cost of a scan of the records); an address through the pools' index.
pub(super) fn disconnect(ctx: &mut Ctx<'_>, who: &ctl::PppSelector) -> usize {
    let handles: Vec<u64> = match who {
        ctl::PppSelector::Address(a) => ctx.ppp.pools.holder(*a).into_iter().collect(),
        ctl::PppSelector::User(u) => ctx
            .registry
            .sessions()
            .filter(|(_, r)| {
                r.ppp.as_ref().is_some_and(|p| {
                    p.role == Role::Server && p.user.as_deref() == Some(u.as_bytes())
                })
            })
            .map(|(h, _)| h)
            .collect(),
    };
    handles
        .into_iter()
        .filter(|h| close(ctx, *h, ppp_proto::CloseReason::Administrative))
        .count()
}

/// Closes session `handle`'s PPP (LCP Terminate-Request); its L2TP session ends when the link
/// is down. Returns false when the session has no running PPP.
pub(super) fn close(ctx: &mut Ctx<'_>, handle: u64, reason: ppp_proto::CloseReason) -> bool {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
        .filter(|st| !st.link.is_finished())
    else {
        return false;
    };
    st.link.close(now, reason);
    drive(ctx, handle);
    true
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
        close(ctx, h, ppp_proto::CloseReason::Disconnect);
    }
    answer
}

// ------------------------------------------------------------------ the link's outputs

/// Carries out what session `handle`'s link asks for until it asks nothing more.
fn drive(ctx: &mut Ctx<'_>, handle: u64) {
    let (std_now, now) = (ctx.now, ctx.ppp.clock.to_proto(ctx.now));
    let mut end: Option<(Refusal, String)> = None;
    let mut sli: Option<l2tp_proto::wire::avp::types::Accm> = None;
    let mut events: Vec<(EventKind, ctl::PppEventInfo)> = Vec::new();
    // For RADIUS, after the link has run: a request to ask about, accounting that fell due.
    let mut ask: Option<AuthRequest> = None;
    let mut due = acct::Due::default();
    // Whether the link told of anything but frames to send (an echo, most often, does not).
    let mut eventful = false;
    {
        let Ctx {
            registry, ppp, out, ..
        } = &mut *ctx;
        let Some((rec, tunnel)) = registry.session_and_tunnel_mut(handle) else {
            return;
        };
        let local_v4 = tunnel.and_then(local::local_ipv4);
        let (tid, sid) = (rec.tid(), rec.sid());
        let Some(st) = rec.ppp.as_deref_mut() else {
            return;
        };
        if st.start_at.is_some_and(|at| at <= now) {
            st.start_at = None;
            st.link.open(now);
        }
        if st.end_at.as_deref().is_some_and(|(at, ..)| *at <= now) {
            end = st.end_at.take().map(|e| (e.1, e.2));
        }
        if let Some(rl) = st.radius.as_deref_mut()
            && rl.interim_at.is_some_and(|at| at <= now)
        {
            rl.interim_at = None;
            due.interim = true;
        }
        loop {
            let mut progress = false;
            while let Some(ev) = st.link.poll_event() {
                progress = true;
                eventful = true;
                match ev {
                    LinkEvent::LinkUp(info) => {
                        st.info = Some(info);
                        // RFC 2661 §6.14: the LNS tells the LAC what ACCM LCP negotiated.
                        if st.role == Role::Server
                            && (info.peer_accm.is_some() || info.local_accm.is_some())
                        {
                            sli = Some(l2tp_proto::wire::avp::types::Accm {
                                send: info.peer_accm.unwrap_or(u32::MAX),
                                receive: info.local_accm.unwrap_or(u32::MAX),
                            });
                        }
                        if st.role == Role::Client {
                            st.method = info.auth_self;
                            st.user = st
                                .policy
                                .client
                                .credentials
                                .as_ref()
                                .map(|c| c.user.clone().into_boxed_slice());
                        }
                    }
                    LinkEvent::Authenticate(req)
                        if st.link.phase() == ppp_proto::Phase::Network =>
                    {
                        // A re-challenge (`chap_interval`): the same user, checked again.
                        let verdict = reauthenticate(ppp, (tid, sid), st, &req);
                        if let Err(e) = st.link.auth_verdict(now, req.id, verdict) {
                            tracing::debug!("session {tid}/{sid}: PPP verdict not taken: {e}");
                        }
                    }
                    LinkEvent::Authenticate(req)
                        if st.radius.is_some() && st.policy.radius.auth.uses_radius() =>
                    {
                        // The verdict waits for the RADIUS server.
                        st.method = Some(req.method());
                        st.user = Some(req.user.clone().into_boxed_slice());
                        ask = Some(req);
                    }
                    LinkEvent::Authenticate(req) => {
                        let verdict = authenticate(ppp, (tid, sid, handle), st, &req, local_v4);
                        if let Some(rl) = st.radius.as_deref_mut()
                            && verdict.is_accept()
                        {
                            rl.authentic = Some(radius_proto::dict::values::acct_authentic::LOCAL);
                            rl.authenticated_at = Some(now);
                        }
                        if let Err(e) = st.link.auth_verdict(now, req.id, verdict) {
                            tracing::debug!("session {tid}/{sid}: PPP verdict not taken: {e}");
                        }
                    }
                    LinkEvent::Ipv4Up(i) => {
                        // An address the peer chose (we had none to give) is held like any
                        // other, so that no two sessions have one; one held already, kept as
                        // a user's, or our own on the link refuses the peer. (A peer with
                        // none, 0.0.0.0, holds nothing.)
                        if st.role == Role::Server
                            && !i.peer.is_unspecified()
                            && ppp.pools.holder(i.peer) != Some(handle)
                            && let Err(e) = if i.peer == i.local {
                                Err(PoolError::Ours(i.peer))
                            } else {
                                ppp.pools.claim(i.peer, handle)
                            }
                        {
                            let user = st.user.clone().unwrap_or_default();
                            let _ = refuse_address(ppp, (tid, sid), st, &user, &e);
                            st.link.close(now, ppp_proto::CloseReason::Policy);
                            continue;
                        }
                        st.ipv4 = Some(i);
                        st.open.ipv4 = true;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Ipv6Up(i) => {
                        ppp.note_peer_ifid(handle, st, i.peer.to_u64());
                        st.ipv6 = Some(i);
                        st.open.ipv6 = true;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Ipv4Down => {
                        st.open.ipv4 = false;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Ipv6Down => {
                        ppp.note_peer_ifid(handle, st, 0);
                        st.open.ipv6 = false;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Down(reason) => {
                        due.down = Some(reason);
                        if let Some((key, _)) = st.radius.as_deref_mut().and_then(|r| r.auth.take())
                            && let Some(r) = ppp.aaa.cancel(key)
                        {
                            out.radius(r);
                        }
                        *ppp.counters.down.entry(reason.kind()).or_default() += 1;
                        ppp.pools.release(handle);
                        ppp.note_peer_ifid(handle, st, 0);
                        if st.up_since.is_some() {
                            events.push((EventKind::PppDown, st.event_info(Some(&reason))));
                        }
                        let who = st
                            .user
                            .as_deref()
                            .map_or(String::new(), |u| format!(" (user {})", text::quoted(u)));
                        let refusal = st.refusal.take().unwrap_or_else(|| cdn_for(&reason));
                        let text = down_text(&reason, &refusal);
                        notice!("session {tid}/{sid}: PPP down{who}: {text}");
                        let why = format!("PPP: {text}");
                        match reason {
                            DownReason::LowerLayerDown | DownReason::AuthNoVerdict => {}
                            // The peer ended the link; its CDN is to follow.
                            DownReason::PeerTerminated | DownReason::AuthRejectedByPeer => {
                                let r = st.policy.link_config(st.role).retries;
                                let grace = r.restart * (u32::from(r.max_terminate) + 1);
                                st.end_at = Some(Box::new((now + grace, refusal, why)));
                            }
                            _ => end = Some((refusal, why)),
                        }
                    }
                }
                announce(ppp, (tid, sid), st, &mut events, std_now);
            }
            // After the events: a network layer the link opened by sending its Configure-Ack
            // is carried by the data path before the peer can hear of it and send.
            while let Some(f) = st.link.poll_transmit() {
                progress = true;
                out.dataplane(DataplaneRequest::SendPpp {
                    tid,
                    sid,
                    frame: f.to_vec(),
                });
            }
            if !progress {
                break;
            }
        }
        // IPCP may have given up without an event (IPv6 alone then): the user is online.
        announce(ppp, (tid, sid), st, &mut events, std_now);
        ppp.reschedule(handle, st);
    }
    // A fixed address the link took from an older session of its user: that one ends now.
    if !ctx.ppp.replaced.is_empty() {
        for older in relogin::end_replaced(ctx) {
            drive(ctx, older);
        }
    }
    // Nothing but frames (an Echo-Request or its answer): nothing changed that accounting,
    // watchers or the L2TP session have to hear of.
    // (Authenticate, a Set-Link-Info and a link down all come of an event.)
    if !eventful && events.is_empty() && end.is_none() && !due.interim {
        return;
    }
    // Refused at once (the request could not be built): the link has more to say.
    let again = ask.is_some_and(|req| access::ask(ctx, handle, req));
    // Accounting before the events: the Stop reads the session's counters before anything
    // removes the session.
    acct::progress(ctx, handle, &due);
    // Events first: the PPP went down before its session does.
    let Some(rec) = ctx.registry.session(handle) else {
        return;
    };
    let (tid, sid) = (rec.tid(), rec.sid());
    for (kind, info) in events {
        let host = ctx
            .registry
            .tunnel_by_tid(tid)
            .and_then(|t| t.peer_host())
            .map(<[u8]>::to_vec);
        let mut ev = notify::event(kind, tid);
        ev.sid = Some(sid);
        ev.peer_tid = Some(rec.peer_tid);
        ev.peer_sid = Some(rec.peer_sid);
        ev.ppp = Some(Box::new(info));
        ctx.out.session(ev, rec, host.as_deref());
    }
    let v2 = ctx
        .protocol
        .ep()
        .tunnel(tid)
        .is_some_and(|t| t.version == proto::wire::header::Version::V2);
    if let Some(accm) = sli.filter(|_| v2) {
        let command = proto::Command::SetLinkInfo {
            tunnel_id: tid,
            session_id: sid,
            accm,
        };
        if let Err(e) = ctx.protocol.command(ctx.now, command) {
            tracing::debug!("session {tid}/{sid}: no Set-Link-Info: {e:?}");
        }
    }
    if let Some((refusal, why)) = end {
        let command = proto::Command::EndSession {
            tunnel_id: tid,
            session_id: sid,
            refusal,
            why,
        };
        if let Err(e) = ctx.protocol.command(ctx.now, command) {
            tracing::debug!("session {tid}/{sid}: {e:?}");
        }
    }
    if again {
        drive(ctx, handle);
    }
}

/// Tells the data plane the network layer changed, with the networks RADIUS put behind the
/// peer (again on every change: an interface that went down lost its IPv4 routes).
fn network_changed(out: &mut super::notify::Outbox, (tid, sid): (u32, u32), st: &PppLink) {
    match st.network() {
        Some(net) => {
            out.dataplane(DataplaneRequest::PppUp { tid, sid, net });
            if let Some(routes) = st
                .radius
                .as_deref()
                .map(|rl| rl.routes.clone())
                .filter(|r| !r.is_empty())
            {
                out.dataplane(DataplaneRequest::PppRoutes { tid, sid, routes });
            }
        }
        None => out.dataplane(DataplaneRequest::PppDown { tid, sid }),
    }
}

/// Tells watchers, scripts and the log that the user is online, once: when IPCP is Opened,
/// or IPv6CP is and IPCP will not open (the link does not run it, or it stopped negotiating).
/// IPv6CP often opens first; the `ppp-up` script and `PPP UP` then wait the moment it takes
/// IPCP to give the peer its IPv4 address.
fn announce(
    ppp: &mut Ppp,
    (tid, sid): (u32, u32),
    st: &mut PppLink,
    events: &mut Vec<(EventKind, ctl::PppEventInfo)>,
    now: Instant,
) {
    use ppp_proto::fsm::State;
    if st.up_since.is_some() || st.network().is_none() {
        return;
    }
    let ipcp_pending = matches!(
        st.link.ipcp_state(),
        State::Starting | State::ReqSent | State::AckRcvd | State::AckSent
    );
    if !st.open.ipv4 && ipcp_pending {
        return;
    }
    st.up_since = Some(now);
    ppp.counters.up += 1;
    let who = (st.user.as_deref()).map_or(String::new(), |u| format!(" user {}", text::quoted(u)));
    let addr = st
        .peer_ipv4()
        .map_or(String::new(), |a| format!(", peer {a}"));
    notice!("session {tid}/{sid}: PPP up:{who}{addr}");
    events.push((EventKind::PppUp, st.event_info(None)));
}

/// What the log says of a link that went down for `reason` and whose session ends with
/// `refusal`: the reason, unless the peer was refused an address (the link knows only that
/// it refused or closed the peer; the CDN says why).
fn down_text(reason: &DownReason, refusal: &Refusal) -> String {
    match (refusal.result, refusal.message.as_deref()) {
        (cdn::NO_FACILITIES_TEMPORARY, Some(m)) => m.to_owned(),
        _ => reason.to_string(),
    }
}

/// The CDN for a link that ended of its own accord (RFC 2661 §4.4.2 result codes).
fn cdn_for(reason: &DownReason) -> Refusal {
    let (result, text) = match reason {
        DownReason::EchoTimeout => (1, "PPP peer not responding"),
        DownReason::AuthFailed
        | DownReason::AuthNotNegotiated
        | DownReason::AuthTimeout
        | DownReason::AuthRejectedByPeer
        | DownReason::AuthenticatorInvalid => (2, "PPP authentication failed"),
        DownReason::NegotiationFailed | DownReason::Rejected | DownReason::Loopback => {
            (2, "PPP negotiation failed")
        }
        DownReason::NoNetworkProtocol => (2, "PPP: no network protocol"),
        DownReason::IdleTimeout => (3, "PPP idle timeout"),
        DownReason::SessionTimeout => (3, "PPP session timeout"),
        DownReason::PeerTerminated => (3, "PPP terminated by the peer"),
        DownReason::Closed(ppp_proto::CloseReason::Replaced) => {
            (3, "PPP replaced by a new login of the same user")
        }
        DownReason::Closed(_) => (3, "PPP closed by the administrator"),
        _ => (3, "PPP closed"),
    };
    Refusal::with(result, text)
}
