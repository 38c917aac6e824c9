//! Re-challenges (`chap_interval`, RFC 1994 §2) of a peer whose profile asks RADIUS: each
//! Response goes to RADIUS as a new Access-Request, with the login's attributes and the State
//! of the last Access-Accept (RFC 2865 §5.24: a NAS that asks again sends it unchanged).
//!
//! An Access-Accept keeps the session as it is: its addresses, timeouts, Class and interim
//! interval stay the login's (only its State is kept, for the next re-challenge); the peer
//! gets the Success. An Access-Reject (or an Access-Challenge) ends the session as a failed
//! login does. No answer keeps the session up with a warning: a server that is down is no
//! reason to cut off a peer it let in; a CHAP-MD5 peer gets the Success, an MS-CHAPv2 peer,
//! whose Success needs the server's authenticator response, no answer
//! (`ppp_proto::Link::forgo_rechallenge`), and the next re-challenge comes as usual; with
//! `radius_then_local`, the local users decide instead, as they do at login.

use l2tp_config::AuthSource;
use l2tp_ctl::text;
use ppp_proto::{AuthMethod, AuthRequest, Verdict};
use radius_proto::Code;
use radius_proto::dict::AttrType;

use super::super::api::RadiusOutcome;
use super::super::ctx::Ctx;
use super::aaa::Purpose;
use super::access::{ask_or_give_back, radius_mut, reject, reply_messages, take_request, unusable};
use super::state::method_label;

/// The Response to a re-challenge of session `handle`'s peer, under the user who logged in:
/// the Access-Request goes out. One that cannot be built counts as unanswered; the answer is
/// then true (drive the link again).
pub(super) fn ask(ctx: &mut Ctx<'_>, handle: u64, req: AuthRequest) -> bool {
    let purpose = Purpose::Reauth(req.id);
    let Some(req) = ask_or_give_back(ctx, handle, req, purpose) else {
        return false;
    };
    no_answer(ctx, handle, &req);
    true
}

/// The outcome of re-challenge Access-Request `key` of session `handle`: the link gets its
/// verdict, or goes on unanswered (drive it afterwards).
pub(super) fn answered(ctx: &mut Ctx<'_>, handle: u64, key: u64, outcome: RadiusOutcome) {
    let Some(req) = take_request(ctx, handle, key) else {
        return;
    };
    match outcome {
        RadiusOutcome::Reply {
            code: Code::AccessAccept,
            attributes,
            ..
        } => {
            ctx.ppp.aaa.counters.accepts += 1;
            ctx.ppp.aaa.counters.reauth.accepts += 1;
            match unusable(&attributes, &req) {
                Ok(authenticator_response) => {
                    let message = Some(super::access::printable(&reply_messages(&attributes)))
                        .filter(|m| !m.is_empty());
                    if let Some(rl) = radius_mut(ctx, handle) {
                        rl.state = attributes.get(AttrType::STATE).map(Box::from);
                    }
                    let v = Verdict::Accept {
                        authenticator_response,
                        message,
                    };
                    give(ctx, handle, &req, Some(v));
                }
                Err(why) => {
                    // Refused as at login: the server's answer cannot be carried out.
                    *ctx.ppp
                        .counters
                        .auth_failures
                        .entry("radius_unusable")
                        .or_default() += 1;
                    tracing::warn!(
                        "session {}: PPP re-authentication of user {}: the Access-Accept \
                         cannot be used: {why}; refusing the peer",
                        ids(ctx, handle),
                        text::quoted(&req.user)
                    );
                    set_refusal(ctx, handle);
                    give(
                        ctx,
                        handle,
                        &req,
                        Some(Verdict::reject("Authentication failed")),
                    );
                }
            }
        }
        RadiusOutcome::Reply {
            code, attributes, ..
        } if code == Code::AccessReject || code == Code::AccessChallenge => {
            reject(ctx, handle, &req, code, &attributes, true);
        }
        RadiusOutcome::Failed(_) | RadiusOutcome::Reply { .. } | RadiusOutcome::Dropped => {
            no_answer(ctx, handle, &req);
        }
    }
}

/// No server answered: with `radius_then_local` the local users decide, as at login; else the
/// session stays up (see the module documentation).
fn no_answer(ctx: &mut Ctx<'_>, handle: u64, req: &AuthRequest) {
    ctx.ppp.aaa.counters.no_answer += 1;
    ctx.ppp.aaa.counters.reauth.no_answer += 1;
    let Ctx { registry, ppp, .. } = &mut *ctx;
    if let Some(rec) = registry.session_mut(handle) {
        let ids = (rec.tid(), rec.sid());
        if let Some(st) = rec.ppp.as_deref_mut()
            && st.policy.radius.auth == AuthSource::RadiusThenLocal
        {
            ppp.aaa.counters.local_fallbacks += 1;
            let v = super::local::reauthenticate(ppp, ids, st, req);
            return give(ctx, handle, req, Some(v));
        }
    }
    tracing::warn!(
        "session {}: no RADIUS server answered the re-authentication of user {} ({}); the \
         session stays up",
        ids(ctx, handle),
        text::quoted(&req.user),
        method_label(req.method())
    );
    let v = (req.method() != AuthMethod::MsChapV2).then(Verdict::accept);
    give(ctx, handle, req, v);
}

/// Session `handle`'s link gets verdict `v` on `req`, or, `None`, is left unanswered.
fn give(ctx: &mut Ctx<'_>, handle: u64, req: &AuthRequest, v: Option<Verdict>) {
    let now = ctx.ppp.clock.to_proto(ctx.now);
    let Some(((tid, sid), st)) = ctx.registry.ppp_link_mut(handle) else {
        return;
    };
    let taken = match v {
        Some(v) => st.link.auth_verdict(now, req.id, v),
        None => st.link.forgo_rechallenge(now, req.id),
    };
    if let Err(e) = taken {
        tracing::debug!("session {tid}/{sid}: PPP verdict not taken: {e}");
    }
}

fn set_refusal(ctx: &mut Ctx<'_>, handle: u64) {
    if let Some(st) = ctx
        .registry
        .session_mut(handle)
        .and_then(|r| r.ppp.as_deref_mut())
    {
        st.refusal = Some(l2tp_proto::Refusal::with(2, "PPP authentication failed"));
    }
}

/// `TID/SID` of session `handle`, for logs.
fn ids(ctx: &Ctx<'_>, handle: u64) -> String {
    ctx.registry
        .session(handle)
        .map_or_else(String::new, |r| format!("{}/{}", r.tid(), r.sid()))
}
