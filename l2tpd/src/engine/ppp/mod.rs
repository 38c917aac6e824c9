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
//! The authenticator checks credentials against the local users; an accepted peer gets its
//! address (the user's own, the profile's `peer_ip_addr`, or one from the profile's pool)
//! before the verdict goes out, so that an address that cannot be given refuses the peer
//! instead of starting IPCP without one.

mod config;
pub(super) mod policy;
pub(super) mod state;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use l2tp_ctl::{self as ctl, EventKind};
use l2tp_proto::{self as proto, Refusal};
use ppp_proto::{AuthRequest, DownReason, Event as LinkEvent, NetworkParams, Verdict};

#[cfg(test)]
pub(super) use policy::{LocalUser, Users};
pub(super) use policy::{PppPolicy, Role};
use state::{CLIENT_WAIT, Ppp, PppLink, method_label};

use super::ctx::Ctx;
use super::notify;
use super::pools::PoolError;
use crate::dataplane::DataplaneRequest;
use crate::notice;

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
    let link = ctx.ppp.new_link(role, policy);
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
            let _ = refuse_address(ppp, (tid, sid), st, "(not authenticated)", &e);
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
    let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    else {
        return;
    };
    match st.role {
        Role::Server => st.link.open(now),
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
    st.link.handle_frame(now, frame, ppp.rng.as_mut());
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

/// Session `handle`'s L2TP session is going down: its PPP ends at once (no CDN of its own).
pub(super) fn lower_down(ctx: &mut Ctx<'_>, handle: u64) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    else {
        return;
    };
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

// ------------------------------------------------------------------ the link's outputs

/// Carries out what session `handle`'s link asks for until it asks nothing more.
fn drive(ctx: &mut Ctx<'_>, handle: u64) {
    let (std_now, now) = (ctx.now, ctx.ppp.clock.to_proto(ctx.now));
    let local_v4 = tunnel_local_ipv4(ctx, handle);
    let mut end: Option<(Refusal, String)> = None;
    let mut sli: Option<l2tp_proto::wire::avp::types::Accm> = None;
    let mut events: Vec<(EventKind, ctl::PppEventInfo)> = Vec::new();
    {
        let Ctx {
            registry, ppp, out, ..
        } = &mut *ctx;
        let Some(rec) = registry.session_mut(handle) else {
            return;
        };
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
        loop {
            let mut progress = false;
            while let Some(f) = st.link.poll_transmit() {
                progress = true;
                out.dataplane(DataplaneRequest::SendPpp {
                    tid,
                    sid,
                    frame: f.to_vec(),
                });
            }
            while let Some(ev) = st.link.poll_event() {
                progress = true;
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
                    LinkEvent::Authenticate(req) => {
                        let verdict = authenticate(ppp, (tid, sid, handle), st, &req, local_v4);
                        if let Err(e) = st.link.auth_verdict(now, req.id, verdict) {
                            tracing::debug!("session {tid}/{sid}: PPP verdict not taken: {e}");
                        }
                    }
                    LinkEvent::Ipv4Up(i) => {
                        st.ipv4 = Some(i);
                        st.open.ipv4 = true;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Ipv6Up(i) => {
                        st.ipv6 = Some(i);
                        st.open.ipv6 = true;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Ipv4Down => {
                        st.open.ipv4 = false;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Ipv6Down => {
                        st.open.ipv6 = false;
                        network_changed(out, (tid, sid), st);
                    }
                    LinkEvent::Down(reason) => {
                        *ppp.counters.down.entry(reason.kind()).or_default() += 1;
                        ppp.pools.release(handle);
                        if st.up_since.is_some() {
                            events.push((EventKind::PppDown, st.event_info(Some(&reason))));
                        }
                        let who = st
                            .user()
                            .map_or(String::new(), |u| format!(" (user {u:?})"));
                        notice!("session {tid}/{sid}: PPP down{who}: {reason}");
                        let refusal = st.refusal.take().unwrap_or_else(|| cdn_for(&reason));
                        let why = format!("PPP: {reason}");
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
            if !progress {
                break;
            }
        }
        // IPCP may have given up without an event (IPv6 alone then): the user is online.
        announce(ppp, (tid, sid), st, &mut events, std_now);
        ppp.reschedule(handle, st);
    }
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
}

/// The IPv4 address of session `handle`'s tunnel at our end, if it runs over IPv4: our address
/// on its links when the profile sets none.
fn tunnel_local_ipv4(ctx: &Ctx<'_>, handle: u64) -> Option<Ipv4Addr> {
    let rec = ctx.registry.session(handle)?;
    let (local, _) = ctx.registry.tunnel(rec.tunnel)?.socket?;
    match local.ip() {
        IpAddr::V4(a) if !a.is_unspecified() => Some(a),
        _ => None,
    }
}

/// The verdict on the peer's credentials, with its address set on the link when accepted.
fn authenticate(
    ppp: &mut Ppp,
    (tid, sid, handle): (u32, u32, u64),
    st: &mut PppLink,
    req: &AuthRequest,
    local_v4: Option<Ipv4Addr>,
) -> Verdict {
    let name = String::from_utf8_lossy(&req.user).into_owned();
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
            tracing::warn!(
                "session {tid}/{sid}: PPP authentication of user {name:?} ({method}) failed: \
                 {refusal}"
            );
            st.refusal = Some(Refusal::with(2, "PPP authentication failed"));
            return Verdict::reject("Authentication failed");
        }
    };
    match assign_address(ppp, handle, st, user_ip, local_v4) {
        Ok(()) => verdict,
        Err(e) => refuse_address(ppp, (tid, sid), st, &name, &e),
    }
}

/// Sets the addresses the server link assigns: ours, and the peer's (the user's own
/// address, else the profile's `peer_ip_addr`, else one from its pool), held in the pools
/// so that no other session gets it.
fn assign_address(
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
        (Some(a), _, _) | (None, Some(a), _) => Some(ppp.pools.reserve(a, handle)?),
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

fn refuse_address(
    ppp: &mut Ppp,
    (tid, sid): (u32, u32),
    st: &mut PppLink,
    user: &str,
    e: &PoolError,
) -> Verdict {
    *ppp.counters.address_refusals.entry(e.label()).or_default() += 1;
    tracing::warn!("session {tid}/{sid}: user {user:?} refused: no address to give: {e}");
    st.refusal = Some(Refusal::with(4, "no address available"));
    Verdict::reject("No address available")
}

/// Tells the data plane the network layer changed.
fn network_changed(out: &mut super::notify::Outbox, (tid, sid): (u32, u32), st: &PppLink) {
    match st.network() {
        Some(net) => out.dataplane(DataplaneRequest::PppUp { tid, sid, net }),
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
    let who = st.user().map_or(String::new(), |u| format!(" user {u:?}"));
    let addr = st
        .peer_ipv4()
        .map_or(String::new(), |a| format!(", peer {a}"));
    notice!("session {tid}/{sid}: PPP up:{who}{addr}");
    events.push((EventKind::PppUp, st.event_info(None)));
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
        DownReason::Closed(_) => (3, "PPP closed by the administrator"),
        _ => (3, "PPP closed"),
    };
    Refusal::with(result, text)
}
