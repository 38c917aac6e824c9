//! The outputs of a server or client link: what its events and frames ask of the data plane,
//! RADIUS, watchers and scripts, the log, and the L2TP session (its end, with a CDN saying
//! why).

use std::time::Instant;

use l2tp_ctl::{self as ctl, EventKind, text};
use l2tp_proto::wire::result::result_code::cdn;
use l2tp_proto::{self as proto, Refusal};
use ppp_proto::{AuthRequest, DownReason, Event as LinkEvent};

use super::super::ctx::Ctx;
use super::super::lines::SessionLines;
use super::super::notify;
use super::super::pools::PoolError;
use super::local::{self, authenticate, reauthenticate, refuse_address};
use super::policy::Role;
use super::state::{Ending, Ppp, PppLink};
use super::values::unusable_address;
use crate::dataplane::DataplaneRequest;
use crate::notice;

/// Carries out what session `handle`'s link asks for until it asks nothing more.
pub(super) fn drive(ctx: &mut Ctx<'_>, handle: u64) {
    let (std_now, now) = (ctx.now, ctx.ppp.clock.to_proto(ctx.now));
    let mut end: Option<(Refusal, String)> = None;
    let mut sli: Option<l2tp_proto::wire::avp::types::Accm> = None;
    let mut events: Vec<(EventKind, ctl::PppEventInfo)> = Vec::new();
    // For RADIUS, after the link has run: a request to ask about, accounting that fell due.
    let mut ask: Option<AuthRequest> = None;
    let mut reask: Option<AuthRequest> = None;
    let mut due = super::acct::Due::default();
    // Whether the link told of anything but frames to send (an echo, most often, does not).
    let mut eventful = false;
    // A link that closed with its tunnel: the tunnel's StopCCN may go.
    let mut tunnel_link_down = false;
    {
        let Ctx {
            registry,
            ppp,
            out,
            lines,
            ..
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
            // A link the host closed whose peer did not acknowledge in time: the CDN goes.
            if st.ending == Some(Ending::Session) {
                ppp.closing.set_ending(st, Some(Ending::Ended));
            }
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
                        if st.link.phase() == ppp_proto::Phase::Network
                            && st.radius.is_some()
                            && st.policy.radius.auth.uses_radius()
                            && st.user.as_deref() == Some(req.user.as_slice()) =>
                    {
                        // A re-challenge (`chap_interval`): the server checks the user again.
                        reask = Some(req);
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
                        let verdict = authenticate(
                            ppp,
                            (tid, sid, handle),
                            st,
                            &req,
                            (local_v4, lines, std_now),
                        );
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
                    LinkEvent::AuthRefused(message) => {
                        // What the peer said of our credentials (MS-CHAPv2's E=691 or E=649,
                        // a PAP Nak's text), before the down line that gives the reason.
                        notice!(
                            "session {tid}/{sid}: PPP: the peer refused our credentials, saying {}",
                            text::quoted(&message)
                        );
                    }
                    LinkEvent::Ipv4Up(i) => {
                        // An address the peer chose (we had none to give) is held like any
                        // other, so that no two sessions have one; one held already, kept as
                        // a user's, our own on the link, a server the peer is given, or one
                        // no host may have refuses the peer. (A peer with none, 0.0.0.0,
                        // holds nothing.)
                        if st.role == Role::Server
                            && !i.peer.is_unspecified()
                            && ppp.pools.holder(i.peer) != Some(handle)
                            && let Err(e) = if i.peer == i.local {
                                Err(PoolError::Ours(i.peer))
                            } else if let Some(why) =
                                unusable_address(&ppp.routed, handle, i.peer, &servers_given(st))
                            {
                                Err(PoolError::Unusable(i.peer, why))
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
                        ppp.routed.release(handle);
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
                        if lines.admit(std_now, tid) {
                            notice!("session {tid}/{sid}: PPP down{who}: {text}");
                        }
                        let why = format!("PPP: {text}");
                        let ending = st.ending;
                        ppp.closing.set_ending(st, None);
                        match (ending, reason) {
                            (Some(Ending::Tunnel), _) => tunnel_link_down = true,
                            (Some(Ending::Ended), _) => {}
                            (Some(Ending::Session), _) => {
                                st.end_at = None;
                                end = Some((refusal, why));
                            }
                            (None, DownReason::LowerLayerDown | DownReason::AuthNoVerdict) => {}
                            // The peer ended the link; its CDN is to follow.
                            (None, DownReason::PeerTerminated | DownReason::AuthRejectedByPeer) => {
                                let r = st.policy.link_config(st.role).retries;
                                let grace = r.restart * (u32::from(r.max_terminate) + 1);
                                st.end_at = Some(Box::new((now + grace, refusal, why)));
                            }
                            _ => end = Some((refusal, why)),
                        }
                    }
                }
                announce(ppp, (tid, sid), st, &mut events, (lines, std_now));
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
        announce(ppp, (tid, sid), st, &mut events, (lines, std_now));
        ppp.reschedule(handle, st);
    }
    // The last link of a tunnel closing with it: the tunnel's StopCCN goes (`super::ending`).
    if tunnel_link_down
        && let Some(tid) = ctx.registry.session(handle).map(|r| r.tid())
        && let Some(h) = ctx.ppp.closing.link_down(tid)
    {
        ctx.close_tunnel(h);
    }
    // A fixed address the link took from an older session of its user: that one ends now.
    if !ctx.ppp.replaced.is_empty() {
        for older in super::relogin::end_replaced(ctx) {
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
    let again = ask.is_some_and(|req| super::access::ask(ctx, handle, req))
        | reask.is_some_and(|req| super::reauth::ask(ctx, handle, req));
    // Accounting before the events: the Stop reads the session's counters before anything
    // removes the session.
    super::acct::progress(ctx, handle, &due);
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
fn network_changed(out: &mut notify::Outbox, (tid, sid): (u32, u32), st: &PppLink) {
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
    (lines, now): (&mut SessionLines, Instant),
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
    if lines.admit(now, tid) {
        notice!("session {tid}/{sid}: PPP up:{who}{addr}");
    }
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
pub(super) fn cdn_for(reason: &DownReason) -> Refusal {
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
        DownReason::Renegotiations => (2, "PPP: too many renegotiations"),
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

/// The DNS and NBNS servers server link `st` offers its peer: the profile's, and those of
/// its Access-Accept.
fn servers_given(st: &PppLink) -> Vec<std::net::Ipv4Addr> {
    let defaults = st.policy.server.ipv4.map(|v4| v4.defaults);
    let radius = st.radius.as_deref().and_then(|rl| rl.dns);
    defaults
        .into_iter()
        .flat_map(|d| d.dns.into_iter().chain(d.nbns))
        .chain(radius.into_iter().flatten())
        .flatten()
        .collect()
}
