//! Answers the protocol's decisions: whether to accept a peer's SCCRQ or call, and with which
//! profiles. Each request gets a verdict, accept, adopt (a persistent instance takes it, after
//! a tie break) or refuse with a typed reason whose metric label and log text cannot drift
//! apart; then the verdict is carried out.
//!
//! Server role: an SCCRQ picks its peer profile with [`Config::match_peer`] (Host Name AVP,
//! else longest prefix, else `default`) and that profile's tunnel profile;
//! `deny_remote_tunnel_creates`, `drain_tunnels`, `max_tunnels` and `max_sessions` refuse
//! with the RFC result codes, and the peer profile's `lac_lns` limits which L2TPv2 calls the
//! peer may place.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use l2tp_config::{self as cfg, Config};
use l2tp_proto::wire::header::{Encapsulation, Version};
use l2tp_proto::wire::result::result_code::{cdn, stop_ccn};
use l2tp_proto::{self as proto, CallType, Refusal, SessionConfig, TunnelConfig};

use super::api::HostFacts;
use super::ctx::{self, Ctx};
use super::instances::Instances;
use super::registry::{CallFacts, Origin, SessionIds, SessionProfiles, SessionRec, TunnelRec};
use super::translate;
use crate::notice;

/// Why a peer's tunnel is refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum TunnelRefusal {
    /// The daemon is stopping.
    ShuttingDown,
    /// `deny_remote_tunnel_creates`.
    DenyRemoteTunnelCreates,
    /// `drain_tunnels`.
    DrainTunnels,
    /// `max_tunnels` reached.
    MaxTunnels,
    /// The peer profile names a tunnel profile that does not exist.
    NoTunnelProfile,
}

impl TunnelRefusal {
    /// The label of the refusal counter (`show system`, metrics).
    pub(super) fn label(self) -> &'static str {
        match self {
            TunnelRefusal::ShuttingDown => "shutting_down",
            TunnelRefusal::DenyRemoteTunnelCreates => "deny_remote_tunnel_creates",
            TunnelRefusal::DrainTunnels => "drain_tunnels",
            TunnelRefusal::MaxTunnels => "max_tunnels",
            TunnelRefusal::NoTunnelProfile => "no_tunnel_profile",
        }
    }

    /// The StopCCN's result and error codes, and its message: what the peer's operator
    /// reads in their log, as for a refused call.
    fn refusal(self) -> Refusal {
        let (refusal, message) = match self {
            TunnelRefusal::ShuttingDown => {
                (Refusal::result(stop_ccn::SHUTTING_DOWN), "shutting down")
            }
            TunnelRefusal::DenyRemoteTunnelCreates => (
                Refusal::not_authorized(),
                "this host opens no tunnels for peers (deny_remote_tunnel_creates)",
            ),
            TunnelRefusal::DrainTunnels => (
                Refusal::not_authorized(),
                "this host is draining its tunnels (drain_tunnels)",
            ),
            TunnelRefusal::MaxTunnels => (Refusal::limit_reached(), "max_tunnels reached"),
            TunnelRefusal::NoTunnelProfile => return Refusal::no_profile(),
        };
        Refusal {
            message: Some(message.to_owned()),
            ..refusal
        }
    }
}

impl fmt::Display for TunnelRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TunnelRefusal::ShuttingDown => "shutting down",
            TunnelRefusal::DenyRemoteTunnelCreates => "deny_remote_tunnel_creates",
            TunnelRefusal::DrainTunnels => "drain_tunnels",
            TunnelRefusal::MaxTunnels => "max_tunnels",
            TunnelRefusal::NoTunnelProfile => "the peer profile's tunnel profile does not exist",
        })
    }
}

/// Why a peer's call is refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum SessionRefusal {
    /// The call names a tunnel the daemon does not know.
    UnknownTunnel,
    /// The daemon is stopping.
    ShuttingDown,
    /// `max_sessions` reached.
    MaxSessions,
    /// No session profile to give it.
    NoSessionProfile,
    /// An incoming call (ICRQ) from a peer whose `lac_lns` says it is an LNS.
    NotLac,
    /// An outgoing call (OCRQ) from a peer whose `lac_lns` says it is a LAC.
    NotLns,
    /// An L2TPv3 call of a pseudowire type (this one) that the session profile's
    /// `pseudowire_types` does not list.
    PseudowireType(u16),
}

impl SessionRefusal {
    /// The label of the refusal counter (`show system`, metrics).
    pub(super) fn label(self) -> &'static str {
        match self {
            SessionRefusal::UnknownTunnel => "unknown_tunnel",
            SessionRefusal::ShuttingDown => "shutting_down",
            SessionRefusal::MaxSessions => "max_sessions",
            SessionRefusal::NoSessionProfile => "no_session_profile",
            SessionRefusal::NotLac | SessionRefusal::NotLns => "lac_lns",
            SessionRefusal::PseudowireType(_) => "pseudowire_type",
        }
    }

    /// The CDN's result and error codes, and its message (this reason's text).
    fn refusal(self) -> Refusal {
        let (result, error) = match self {
            SessionRefusal::UnknownTunnel | SessionRefusal::NoSessionProfile => {
                (cdn::GENERAL_ERROR, None)
            }
            SessionRefusal::ShuttingDown => (cdn::ADMINISTRATIVE, None),
            SessionRefusal::MaxSessions => {
                let r = Refusal::limit_reached();
                (r.result, r.error)
            }
            SessionRefusal::NotLac | SessionRefusal::NotLns => (cdn::NO_FACILITIES_PERMANENT, None),
            // RFC 3931 §5.4.3: a pseudowire type the LCCE does not support.
            SessionRefusal::PseudowireType(_) => (cdn::UNSUPPORTED_PW_TYPE, None),
        };
        Refusal {
            result,
            error,
            message: Some(self.to_string()),
        }
    }
}

impl fmt::Display for SessionRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            SessionRefusal::UnknownTunnel => "unknown tunnel",
            SessionRefusal::ShuttingDown => "shutting down",
            SessionRefusal::MaxSessions => "max_sessions reached",
            SessionRefusal::NoSessionProfile => "no session profile",
            SessionRefusal::NotLac => "the peer may not act as a LAC (lac_lns)",
            SessionRefusal::NotLns => "the peer may not act as an LNS (lac_lns)",
            SessionRefusal::PseudowireType(t) => {
                let name = l2tp_ctl::PseudowireType::from_number(*t);
                return write!(f, "pseudowire type {name} not allowed (pseudowire_types)");
            }
        };
        f.write_str(text)
    }
}

/// A peer's tunnel accepted from its peer profile.
#[derive(Debug)]
pub(super) struct AcceptTunnel {
    config: TunnelConfig,
    settings: cfg::TunnelSettings,
    peer_profile: String,
    tunnel_profile: String,
    session_profile: String,
    pw_profile: String,
    lac_lns: cfg::LacLns,
}

/// What to do with a peer's SCCRQ.
#[derive(Debug)]
pub(super) enum TunnelVerdict {
    Accept(Box<AcceptTunnel>),
    /// The tunnel instance of this name takes it.
    Adopt(String),
    Refuse(TunnelRefusal),
}

/// What to do with a peer's call.
#[derive(Debug)]
pub(super) enum SessionVerdict {
    Accept {
        /// Its tunnel's handle.
        tunnel: u64,
        /// The session profile's name.
        profile: String,
        resolved: ResolvedProfiles,
    },
    /// The session instance of this name takes it.
    Adopt {
        tunnel: u64,
        name: String,
    },
    Refuse(SessionRefusal),
    /// Its tunnel is gone: nothing to answer.
    Drop,
}

/// What a session accepted from the network gets from its profiles, resolved once per
/// (session profile, the tunnel's pseudowire profile, pseudowire type) and shared, so that a
/// session costs a few pointers rather than copies of its settings.
#[derive(Clone, Debug)]
pub(super) struct ResolvedProfiles {
    settings: Arc<cfg::SessionSettings>,
    pw_profile: String,
    pseudowire: Arc<cfg::PseudowireSettings>,
    config: Arc<SessionConfig>,
}

/// The admission counters and the cache of resolved session profiles.
#[derive(Debug, Default)]
pub(super) struct Admission {
    /// Emptied by a reload.
    profile_cache: HashMap<(String, String, u16), ResolvedProfiles>,
    tunnels_refused: BTreeMap<&'static str, u64>,
    sessions_refused: BTreeMap<&'static str, u64>,
}

impl Admission {
    /// Forgets the resolved profiles (a reload changed them).
    pub(super) fn clear_cache(&mut self) {
        self.profile_cache.clear();
    }

    /// Tunnels refused, by reason label.
    pub(super) fn tunnels_refused(&self) -> &BTreeMap<&'static str, u64> {
        &self.tunnels_refused
    }

    /// Calls refused, by reason label.
    pub(super) fn sessions_refused(&self) -> &BTreeMap<&'static str, u64> {
        &self.sessions_refused
    }

    /// Decides on the peer's SCCRQ `req` and carries the verdict out.
    pub(super) fn on_tunnel_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        instances: &mut Instances,
        req: proto::TunnelRequest,
    ) {
        let verdict = decide_tunnel(ctx, instances, &req);
        match verdict {
            TunnelVerdict::Refuse(why) => {
                *self.tunnels_refused.entry(why.label()).or_default() += 1;
                let r = why.refusal();
                notice!(
                    "refusing a tunnel from {} ({why}): StopCCN result {}{}",
                    req.remote,
                    r.result,
                    r.error
                        .map_or(String::new(), |e| format!(" error {}", e.code()))
                );
                ctx.protocol.reject_tunnel(ctx.now, req.id, r);
            }
            TunnelVerdict::Adopt(name) => instances.adopt_tunnel(ctx, &name, &req),
            TunnelVerdict::Accept(a) => {
                let what = format!("with tunnel profile \"{}\"", a.tunnel_profile);
                let Some((handle, tid)) = ctx.accept_peer_tunnel(&req, a.config, &what) else {
                    return;
                };
                let host = l2tp_ctl::text::quoted(&req.host_name);
                ctx::trace(
                    a.settings.debug,
                    format_args!(
                        "tunnel {tid}: accepted from {} (host name {host}, peer profile \
                         \"{}\", tunnel profile \"{}\")",
                        req.remote, a.peer_profile, a.tunnel_profile
                    ),
                );
                let mut rec =
                    TunnelRec::new(tid, Origin::net(), a.tunnel_profile, a.settings, ctx.now);
                // The encapsulation is the one the peer chose (over IP with a UDP profile, under
                // `listen_encap_ip` for instance), as the protocol runs it.
                rec.settings.encap = match req.encap {
                    Encapsulation::Ip => cfg::Encap::Ip,
                    Encapsulation::Udp => cfg::Encap::Udp,
                };
                rec.set_peer_host(&req.host_name);
                rec.session_profile = a.session_profile;
                rec.pw_profile = a.pw_profile;
                rec.lac_lns = a.lac_lns;
                ctx.add_tunnel(handle, rec, req.encap, (req.local, req.remote));
            }
        }
    }

    /// Decides on the peer's call `req` and carries the verdict out.
    pub(super) fn on_session_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        instances: &mut Instances,
        req: proto::SessionRequest,
    ) {
        let verdict = self.decide_session(ctx, instances, &req);
        match verdict {
            SessionVerdict::Drop => {}
            SessionVerdict::Refuse(why) => {
                *self.sessions_refused.entry(why.label()).or_default() += 1;
                notice!(
                    "tunnel {}: refusing a session from the peer: {why}",
                    req.tunnel_id
                );
                ctx.protocol.reject_session(ctx.now, req.id, why.refusal());
            }
            SessionVerdict::Adopt { tunnel, name } => {
                instances.adopt_call(ctx, tunnel, &name, &req);
            }
            SessionVerdict::Accept {
                tunnel,
                profile,
                resolved,
            } => accept_session(ctx, tunnel, profile, resolved, &req),
        }
    }

    /// The verdict on the peer's call `req`.
    fn decide_session(
        &mut self,
        ctx: &Ctx<'_>,
        instances: &Instances,
        req: &proto::SessionRequest,
    ) -> SessionVerdict {
        let Some(th) = ctx.registry.tunnel_handle(req.tunnel_id) else {
            return SessionVerdict::Refuse(SessionRefusal::UnknownTunnel);
        };
        if ctx.shutting_down {
            return SessionVerdict::Refuse(SessionRefusal::ShuttingDown);
        }
        let max = ctx.config.system().max_sessions;
        if max != 0 && ctx.registry.session_tally().live >= max as usize {
            return SessionVerdict::Refuse(SessionRefusal::MaxSessions);
        }
        let Some(t) = ctx.registry.tunnel(th) else {
            return SessionVerdict::Drop;
        };
        let v2 = ctx.protocol.ep().tunnel(req.tunnel_id).map(|i| i.version) == Some(Version::V2);
        let refused = match (req.call, t.lac_lns) {
            _ if !v2 => None,
            (_, cfg::LacLns::Both) => None,
            (CallType::Incoming, l) if l != cfg::LacLns::Lac => Some(SessionRefusal::NotLac),
            (CallType::Outgoing, l) if l != cfg::LacLns::Lns => Some(SessionRefusal::NotLns),
            _ => None,
        };
        if let Some(why) = refused {
            return SessionVerdict::Refuse(why);
        }
        if let Some(name) = instances.circuit_instance(ctx.registry, th, req) {
            return SessionVerdict::Adopt { tunnel: th, name };
        }
        let key = (t.session_profile.clone(), t.pw_profile.clone(), req.pw_type);
        let resolved = match self.profile_cache.get(&key) {
            Some(r) => r.clone(),
            None => {
                let Some(r) = resolve_profiles(ctx.config, &key.0, &key.1, req.pw_type) else {
                    return SessionVerdict::Refuse(SessionRefusal::NoSessionProfile);
                };
                self.profile_cache.insert(key.clone(), r.clone());
                r
            }
        };
        let allowed = &resolved.settings.pseudowire_types;
        if !v2 && !allowed.is_empty() && !allowed.iter().any(|t| t.number() == req.pw_type) {
            return SessionVerdict::Refuse(SessionRefusal::PseudowireType(req.pw_type));
        }
        SessionVerdict::Accept {
            tunnel: th,
            profile: key.0,
            resolved,
        }
    }
}

/// The verdict on the peer's SCCRQ `req`.
fn decide_tunnel(
    ctx: &Ctx<'_>,
    instances: &Instances,
    req: &proto::TunnelRequest,
) -> TunnelVerdict {
    let sys = ctx.config.system();
    if ctx.shutting_down {
        return TunnelVerdict::Refuse(TunnelRefusal::ShuttingDown);
    }
    if sys.drain_tunnels {
        return TunnelVerdict::Refuse(TunnelRefusal::DrainTunnels);
    }
    if sys.deny_remote_tunnel_creates {
        return TunnelVerdict::Refuse(TunnelRefusal::DenyRemoteTunnelCreates);
    }
    if sys.max_tunnels != 0 && ctx.registry.tunnel_tally().live >= sys.max_tunnels as usize {
        return TunnelVerdict::Refuse(TunnelRefusal::MaxTunnels);
    }
    if let Some(name) = instances.peer_instance(ctx.registry, req) {
        return TunnelVerdict::Adopt(name);
    }
    accept_from_profiles(ctx.config, ctx.facts, req)
}

/// Accepts `req` with its peer profile's tunnel profile, if that exists.
fn accept_from_profiles(
    config: &Config,
    facts: &HostFacts,
    req: &proto::TunnelRequest,
) -> TunnelVerdict {
    let host = String::from_utf8_lossy(&req.host_name).into_owned();
    let peer = config.match_peer(req.remote.ip(), Some(&host));
    let peer_settings = peer.params.resolve();
    let Some(settings) = config.tunnel_profile_settings(&peer_settings.tunnel_profile_name) else {
        return TunnelVerdict::Refuse(TunnelRefusal::NoTunnelProfile);
    };
    let mut tunnel_config = translate::tunnel_config(&settings, config.system(), facts);
    tunnel_config.peer_host_name = peer_settings
        .peer_host_name
        .as_ref()
        .map(|h| h.as_bytes().to_vec());
    // The peer profile names the session and pseudowire profiles when it sets them, else its
    // tunnel profile does.
    let session_profile = if peer.params.is_set("session_profile_name") {
        peer_settings.session_profile_name.clone()
    } else {
        settings.session_profile_name.clone()
    };
    let pw_profile = if peer.params.is_set("pseudowire_profile_name") {
        peer_settings.pseudowire_profile_name.clone()
    } else {
        settings.pseudowire_profile_name.clone()
    };
    TunnelVerdict::Accept(Box::new(AcceptTunnel {
        config: tunnel_config,
        settings,
        peer_profile: peer.name.clone(),
        tunnel_profile: peer_settings.tunnel_profile_name.clone(),
        session_profile,
        pw_profile,
        lac_lns: peer_settings.lac_lns,
    }))
}

/// The settings a session accepted from the network gets from session profile `profile` and
/// pseudowire profile `tunnel_pw` (or the default ones).
fn resolve_profiles(
    config: &Config,
    profile: &str,
    tunnel_pw: &str,
    pw_type: u16,
) -> Option<ResolvedProfiles> {
    let settings = config
        .session_profile_settings(profile)
        .or_else(|| config.session_profile_settings(cfg::DEFAULT_PROFILE))?;
    let pw_profile = settings
        .pseudowire_profile_name
        .clone()
        .unwrap_or_else(|| tunnel_pw.to_owned());
    let pseudowire = config
        .pseudowire_profile_settings(&pw_profile)
        .or_else(|| config.pseudowire_profile_settings(cfg::DEFAULT_PROFILE))
        .unwrap_or_else(|| cfg::PseudowireParams::default().resolve());
    let mut session_config = translate::session_config(&settings, &pseudowire, config.system());
    session_config.pw_type = pw_type;
    Some(ResolvedProfiles {
        settings: Arc::new(settings),
        pw_profile,
        pseudowire: Arc::new(pseudowire),
        config: Arc::new(session_config),
    })
}

/// Accepts the peer's call `req` in tunnel `th` with `resolved` and records it.
fn accept_session(
    ctx: &mut Ctx<'_>,
    th: u64,
    profile: String,
    resolved: ResolvedProfiles,
    req: &proto::SessionRequest,
) {
    let ResolvedProfiles {
        settings,
        pw_profile,
        pseudowire,
        config,
    } = resolved;
    let handle = ctx.registry.next_handle();
    if let Err(e) = ctx.protocol.accept_session(ctx.now, req.id, handle, config) {
        tracing::warn!("tunnel {}: cannot accept a session: {e}", req.tunnel_id);
        return;
    }
    let Some(t) = ctx.registry.tunnel(th) else {
        return;
    };
    ctx::trace(
        settings.debug || t.debug,
        format_args!(
            "tunnel {} sid {}: accepted {:?} call from the peer (session profile \"{profile}\", \
             pseudowire profile \"{pw_profile}\")",
            req.tunnel_id, req.session_id, req.call
        ),
    );
    let ids = SessionIds {
        tid: req.tunnel_id,
        sid: req.session_id,
        peer_tid: 0,
        peer_sid: req.peer_session_id,
    };
    let profiles = SessionProfiles {
        profile,
        pw_profile,
        settings,
        pseudowire,
    };
    let tunnel_name = t.origin.name.clone();
    let mut rec = SessionRec::new(
        th,
        ids,
        Origin::net(),
        profiles,
        req.pw_type,
        tunnel_name,
        ctx.now,
    );
    rec.call = CallFacts::of_request(req);
    ctx.registry.insert_session(handle, rec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_label_text_and_result_code() {
        let tunnels = [
            (
                TunnelRefusal::ShuttingDown,
                "shutting_down",
                "shutting down",
                6,
            ),
            (
                TunnelRefusal::DenyRemoteTunnelCreates,
                "deny_remote_tunnel_creates",
                "deny_remote_tunnel_creates",
                4,
            ),
            (
                TunnelRefusal::DrainTunnels,
                "drain_tunnels",
                "drain_tunnels",
                4,
            ),
            (TunnelRefusal::MaxTunnels, "max_tunnels", "max_tunnels", 2),
            (
                TunnelRefusal::NoTunnelProfile,
                "no_tunnel_profile",
                "the peer profile's tunnel profile does not exist",
                2,
            ),
        ];
        for (r, label, text, result) in tunnels {
            assert_eq!((r.label(), r.to_string().as_str()), (label, text));
            assert_eq!(r.refusal().result, result, "{r:?}");
        }
        let sessions = [
            (SessionRefusal::UnknownTunnel, "unknown_tunnel", 2),
            (SessionRefusal::ShuttingDown, "shutting_down", 3),
            (SessionRefusal::MaxSessions, "max_sessions", 2),
            (SessionRefusal::NoSessionProfile, "no_session_profile", 2),
            (SessionRefusal::NotLac, "lac_lns", 5),
            (SessionRefusal::NotLns, "lac_lns", 5),
            (SessionRefusal::PseudowireType(4), "pseudowire_type", 14),
        ];
        for (r, label, result) in sessions {
            let refusal = r.refusal();
            assert_eq!((r.label(), refusal.result), (label, result), "{r:?}");
            // The CDN's message is the reason's text, as the log says it.
            assert_eq!(refusal.message, Some(r.to_string()));
        }
        assert_eq!(
            SessionRefusal::MaxSessions
                .refusal()
                .error
                .map(|e| e.code()),
            Some(4)
        );
    }
}
