//! Dynamic authorization (RFC 5176): the session(s) an authenticated Disconnect- or
//! CoA-Request names, and what is done to them. The shell's RADIUS task authenticates the
//! request and sends the answer; the engine decides it.
//!
//! A request is for this NAS if its NAS-Identifier, NAS-IP-Address and NAS-IPv6-Address,
//! when present, are ours (else NAK, Error-Cause 403). It names sessions by Acct-Session-Id,
//! User-Name, Framed-IP-Address, NAS-Port, NAS-Port-Id, Calling-Station-Id and
//! Called-Station-Id, each as our requests give it (RFC 5176 §3): a session matches when every
//! one of them that is present matches (none present: NAK 402; no session: NAK 503). A
//! Disconnect-Request ends the PPP of each session (LCP Terminate-Request; the Stop says
//! Admin-Reset) and is ACKed. A CoA-Request sets Session-Timeout (counted from the
//! authentication), Idle-Timeout and Acct-Interim-Interval; an attribute l2tpd cannot change
//! NAKs the request with 401 (RFC 5176 §3.5), Service-Type Authorize-Only with 405. With
//! `radius_dynauth_require_event_timestamp`, a request without Event-Timestamp is NAKed with
//! 402 (RFC 5176 §3.3, §6).

use std::net::IpAddr;
use std::time::Duration;

use radius_proto::dict::{AttrType, values};
use radius_proto::dynauth::{Answer, DynAuthKind};
use radius_proto::{Attributes, dict::values::error_cause as cause};

use super::super::ctx::Ctx;
use super::aaa::MIN_INTERIM;
use super::policy::Role;
use super::request::{SessionFacts, nas_identifier};
use super::values::label;

/// Attributes that identify the NAS or the session, or that every request may carry.
const IDENTIFYING: &[AttrType] = &[
    AttrType::NAS_IDENTIFIER,
    AttrType::NAS_IP_ADDRESS,
    AttrType::NAS_IPV6_ADDRESS,
    AttrType::NAS_PORT,
    AttrType::NAS_PORT_ID,
    AttrType::NAS_PORT_TYPE,
    AttrType::USER_NAME,
    AttrType::ACCT_SESSION_ID,
    AttrType::FRAMED_IP_ADDRESS,
    AttrType::CALLING_STATION_ID,
    AttrType::CALLED_STATION_ID,
    AttrType::EVENT_TIMESTAMP,
    AttrType::STATE,
    AttrType::PROXY_STATE,
    AttrType::MESSAGE_AUTHENTICATOR,
    AttrType::REPLY_MESSAGE,
    AttrType::ACCT_TERMINATE_CAUSE,
];

/// What a CoA-Request may change.
const CHANGEABLE: &[AttrType] = &[
    AttrType::SESSION_TIMEOUT,
    AttrType::IDLE_TIMEOUT,
    AttrType::ACCT_INTERIM_INTERVAL,
];

/// Decides a Disconnect- or CoA-Request (`kind`) with `attrs`, and carries out a CoA-Request;
/// returns the answer and, for a Disconnect-Request, the sessions to disconnect.
pub(super) fn decide(
    ctx: &mut Ctx<'_>,
    kind: DynAuthKind,
    attrs: &Attributes,
) -> (Answer, Vec<u64>) {
    let mut disconnect = Vec::new();
    let answer = answer(ctx, kind, attrs, &mut disconnect);
    let label = match (kind, answer) {
        (DynAuthKind::Disconnect, Answer::Ack(_)) => "disconnect_ack",
        (DynAuthKind::Disconnect, Answer::Nak(_)) => "disconnect_nak",
        (DynAuthKind::Coa, Answer::Ack(_)) => "coa_ack",
        (DynAuthKind::Coa, Answer::Nak(_)) => "coa_nak",
    };
    *ctx.ppp.aaa.counters.dynauth.entry(label).or_default() += 1;
    (answer, disconnect)
}

fn answer(
    ctx: &mut Ctx<'_>,
    kind: DynAuthKind,
    attrs: &Attributes,
    disconnect: &mut Vec<u64>,
) -> Answer {
    let what = match kind {
        DynAuthKind::Disconnect => "Disconnect-Request",
        DynAuthKind::Coa => "CoA-Request",
    };
    // RFC 5176 §3.3 and §6: a NAS may require Event-Timestamp (replay protection); without
    // it, Error-Cause 402 (Missing Attribute, §3.5).
    if ctx.config.system().radius_dynauth_require_event_timestamp
        && !attrs.contains(AttrType::EVENT_TIMESTAMP)
    {
        tracing::info!(
            "{what}: no Event-Timestamp, which radius_dynauth_require_event_timestamp \
             requires; NAK"
        );
        return Answer::Nak(Some(cause::MISSING_ATTRIBUTE));
    }
    if let Some(bad) = attrs.iter().map(|a| a.attr_type).find(|t| {
        !IDENTIFYING.contains(t)
            && !(kind == DynAuthKind::Coa
                && (CHANGEABLE.contains(t) || *t == AttrType::SERVICE_TYPE))
    }) {
        tracing::info!("{what}: attribute {bad} is not supported; NAK");
        return Answer::Nak(Some(cause::UNSUPPORTED_ATTRIBUTE));
    }
    if kind == DynAuthKind::Coa
        && attrs.service_type() == Some(values::service_type::AUTHORIZE_ONLY)
    {
        tracing::info!("{what}: Service-Type Authorize-Only is not supported; NAK");
        return Answer::Nak(Some(cause::UNSUPPORTED_SERVICE));
    }
    if !for_us(ctx, attrs) {
        tracing::info!("{what}: not for this NAS (NAS-Identifier or address); NAK");
        return Answer::Nak(Some(cause::NAS_IDENTIFICATION_MISMATCH));
    }
    let by = [
        AttrType::ACCT_SESSION_ID,
        AttrType::USER_NAME,
        AttrType::FRAMED_IP_ADDRESS,
        AttrType::NAS_PORT,
        AttrType::NAS_PORT_ID,
        AttrType::CALLING_STATION_ID,
        AttrType::CALLED_STATION_ID,
    ];
    if !by.iter().any(|t| attrs.contains(*t)) {
        tracing::info!("{what}: names no session; NAK");
        return Answer::Nak(Some(cause::MISSING_ATTRIBUTE));
    }
    let handles = sessions(ctx, attrs);
    if handles.is_empty() {
        tracing::info!("{what}: no such session; NAK");
        return Answer::Nak(Some(cause::SESSION_CONTEXT_NOT_FOUND));
    }
    match kind {
        DynAuthKind::Disconnect => {
            for &h in &handles {
                if let Some(rl) = ctx
                    .registry
                    .session_mut(h)
                    .and_then(|r| r.ppp.as_deref_mut())
                    .and_then(|st| st.radius.as_deref_mut())
                {
                    rl.cause = Some(values::acct_terminate_cause::ADMIN_RESET);
                }
                let ids = ctx.registry.session(h).map(|r| (r.tid(), r.sid()));
                if let Some((tid, sid)) = ids {
                    crate::notice!("session {tid}/{sid}: {what}: disconnecting it");
                }
                disconnect.push(h);
            }
        }
        DynAuthKind::Coa => {
            for &h in &handles {
                change(ctx, h, attrs);
            }
        }
    }
    Answer::Ack(None)
}

/// Whether the request's NAS identification, when it has one, is ours.
fn for_us(ctx: &Ctx<'_>, attrs: &Attributes) -> bool {
    if let Some(id) = attrs.nas_identifier()
        && id != nas_identifier(ctx)
    {
        return false;
    }
    let ours = ctx.config.system().radius_nas_ip_address;
    let given = [
        attrs.nas_ip_address().map(IpAddr::V4),
        attrs.nas_ipv6_address().map(IpAddr::V6),
    ];
    // Without a configured address, any of ours is one the server may have seen.
    given
        .into_iter()
        .flatten()
        .all(|ip| ours.is_none_or(|o| o.to_canonical() == ip.to_canonical()))
}

/// The server-role PPP sessions every identifying attribute of `attrs` matches.
fn sessions(ctx: &Ctx<'_>, attrs: &Attributes) -> Vec<u64> {
    let id = attrs.get(AttrType::ACCT_SESSION_ID);
    let user = attrs.get(AttrType::USER_NAME);
    let ip = attrs.framed_ip_address();
    let port = attrs.nas_port();
    let port_id = attrs.get(AttrType::NAS_PORT_ID);
    let calling = attrs.get(AttrType::CALLING_STATION_ID);
    let called = attrs.get(AttrType::CALLED_STATION_ID);
    // An address names its session through the pools' index.
    let candidates: Vec<u64> = match ip {
        Some(a) => ctx.ppp.pools.holder(a).into_iter().collect(),
        None => ctx.registry.sessions().map(|(h, _)| h).collect(),
    };
    candidates
        .into_iter()
        .filter(|&h| {
            let Some(rec) = ctx.registry.session(h) else {
                return false;
            };
            let Some(st) = rec.ppp.as_deref() else {
                return false;
            };
            if st.role != Role::Server || st.link.is_finished() {
                return false;
            }
            let rl = st.radius.as_deref();
            // The port and the stations as the session's requests give them.
            let facts = || SessionFacts::of(ctx, h);
            id.is_none_or(|id| rl.is_some_and(|r| r.acct_session_id.as_bytes() == id))
                && user.is_none_or(|u| st.is_user(u))
                && ip.is_none_or(|a| st.peer_ipv4().is_none_or(|p| p == a))
                && port.is_none_or(|p| facts().is_some_and(|f| f.nas_port() == p))
                && port_id.is_none_or(|p| facts().is_some_and(|f| f.nas_port_id().as_bytes() == p))
                && calling
                    .is_none_or(|c| facts().and_then(|f| f.calling_station()).as_deref() == Some(c))
                && called
                    .is_none_or(|c| facts().and_then(|f| f.called_station()).as_deref() == Some(c))
        })
        .collect()
}

/// Applies a CoA-Request's changes to session `handle`.
fn change(ctx: &mut Ctx<'_>, handle: u64, attrs: &Attributes) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(((tid, sid), st)) = ctx.registry.ppp_link_mut(handle) else {
        return;
    };
    let secs = |t: u32| (t > 0).then(|| Duration::from_secs(u64::from(t)));
    let since = st
        .radius
        .as_deref()
        .and_then(|rl| rl.authenticated_at)
        .unwrap_or(now);
    if let Some(t) = attrs.session_timeout() {
        // Counted from the authentication: what has elapsed is taken off.
        let left = secs(t).map(|d| {
            d.saturating_sub(now.saturating_duration_since(since))
                .max(Duration::from_millis(1))
        });
        st.link.set_session_timeout(now, left);
    }
    if let Some(t) = attrs.idle_timeout() {
        st.link.set_idle_timeout(now, secs(t));
    }
    if let Some(rl) = st.radius.as_deref_mut() {
        if let Some(t) = attrs.session_timeout() {
            rl.session_timeout = Some(t);
        }
        if let Some(t) = attrs.idle_timeout() {
            rl.idle_timeout = Some(t);
        }
        if let Some(i) = attrs.acct_interim_interval() {
            if i > 0 && Duration::from_secs(u64::from(i)) < MIN_INTERIM {
                *ctx.ppp
                    .counters
                    .values_ignored
                    .entry(label::INTERIM_RAISED)
                    .or_default() += 1;
                tracing::warn!(
                    "session {tid}/{sid}: CoA-Request: Acct-Interim-Interval {i} s is below \
                     l2tpd's least, {} s, which is taken",
                    MIN_INTERIM.as_secs()
                );
            }
            // 0, as in an Access-Accept, gives the profile's interval back.
            rl.interim = secs(i).map(|d| d.max(MIN_INTERIM));
            rl.interim_at = rl
                .interim
                .or(st.policy.radius.interim)
                .filter(|_| rl.accounting.is_open())
                .map(|d| now + d);
        }
    }
    crate::notice!("session {tid}/{sid}: CoA-Request: authorization changed");
    ctx.ppp.reschedule(handle, st);
}
