//! Static (unmanaged) L2TPv3 tunnels and sessions: a `tunnel` with `peer_tunnel_id` and its
//! `session`s with `peer_session_id`, as `ip l2tp add tunnel/session` makes them. There is no
//! control connection (RFC 3931 §3.1 allows the data channel to be set up by manual
//! configuration): no SCCRQ, no HELLO, no CDN. The tunnel and its sessions are up as soon as
//! they are started, and go down only by command, reload or shutdown ([`Ctx::close_tunnel`]).
//!
//! Their records live in the registry like any other; the events the protocol engine would
//! have emitted for them are synthesized ([`super::protocol::Protocol::synthesize`]), so that
//! events, scripts, data-plane requests and views take one path.

use l2tp_config as cfg;
use l2tp_ctl as ctl;
use l2tp_proto::event::{Origin as ProtoOrigin, SessionParams, TunnelParams};
use l2tp_proto::wire::header::Version;
use l2tp_proto::{DataplaneRequest, Event, SessionHandle, TunnelHandle};

use super::ctx::Ctx;
use super::registry::{Control, Origin, SessionIds, SessionProfiles, SessionRec, TunnelRec};
use super::translate;
use crate::notice;

/// Starts static tunnel instance `name`, whose peer is `remote`, and returns its handle, or why
/// it cannot start.
pub(super) fn start_tunnel(
    ctx: &mut Ctx<'_>,
    name: &str,
    (created_by, resolved): (ctl::CreatedBy, &cfg::ResolvedTunnel),
    remote: std::net::SocketAddr,
) -> Result<u64, String> {
    // The config checks make both ids present on a static tunnel.
    let (Some(tid), Some(peer_tid)) = (resolved.tunnel_id, resolved.peer_tunnel_id) else {
        return Err("tunnel_id and peer_tunnel_id are both needed".into());
    };
    if ctx.registry.tunnel_handle(tid).is_some() {
        return Err(format!("tunnel_id {tid} is in use"));
    }
    let s = &resolved.settings;
    let local = translate::local_for(ctx.facts, s, remote);
    let encap = translate::encap(s.encap);
    let handle = ctx.registry.next_handle();
    let mut rec = TunnelRec::for_instance(tid, name, created_by, resolved, ctx.now);
    rec.peer_tid = peer_tid;
    rec.control = Control::Static { local, remote };
    ctx.add_tunnel(handle, rec, encap, (local, remote));
    notice!("static tunnel \"{name}\" (tid {tid}, peer tid {peer_tid}): {local} -> {remote}");
    let th = TunnelHandle(handle);
    ctx.protocol.synthesize(Event::TunnelCreated {
        handle: th,
        tunnel_id: tid,
        remote,
        origin: ProtoOrigin::Local,
    });
    ctx.protocol
        .synthesize(Event::Dataplane(DataplaneRequest::InstallTunnel(
            TunnelParams {
                handle: th,
                tunnel_id: tid,
                peer_tunnel_id: peer_tid,
                version: Version::V3,
                encap,
                local,
                remote,
                udp_checksums: s.use_udp_checksums,
            },
        )));
    ctx.protocol.synthesize(Event::TunnelUp {
        handle: th,
        tunnel_id: tid,
        peer_tunnel_id: peer_tid,
        version: Version::V3,
    });
    Ok(handle)
}

/// Starts static session instance `name` in static tunnel `th` (local id `tid`) and returns
/// its handle, or why it cannot start.
pub(super) fn start_session(
    ctx: &mut Ctx<'_>,
    name: &str,
    created_by: ctl::CreatedBy,
    resolved: &cfg::ResolvedSession,
    (th, tid): (u64, u32),
) -> Result<u64, String> {
    let (Some(sid), Some(peer_sid)) = (resolved.session_id, resolved.peer_session_id) else {
        return Err("session_id and peer_session_id are both needed".into());
    };
    let Some(tunnel) = ctx.registry.tunnel(th) else {
        return Err("its tunnel is gone".into());
    };
    let (peer_tid, tunnel_name) = (tunnel.peer_tid, tunnel.origin.name.clone());
    if ctx.registry.session_handle(tid, sid).is_some() || ctx.registry.static_sid_taken(sid) {
        return Err(format!("session_id {sid} is in use"));
    }
    let s = &resolved.settings;
    let handle = ctx.registry.next_handle();
    let ids = SessionIds {
        tid,
        sid,
        peer_tid,
        peer_sid,
    };
    let pw_type = s.pseudowire_type.number();
    let origin = Origin::instance(created_by, name);
    let profiles = SessionProfiles::of_instance(resolved);
    let mut rec = SessionRec::new(th, ids, origin, profiles, pw_type, tunnel_name, ctx.now);
    rec.is_static = true;
    ctx.registry.insert_session(handle, rec);
    notice!("static session \"{name}\" (tid {tid} sid {sid}, peer sid {peer_sid})");
    let sh = SessionHandle(handle);
    ctx.protocol.synthesize(Event::SessionCreated {
        tunnel: TunnelHandle(th),
        handle: sh,
        tunnel_id: tid,
        session_id: sid,
        origin: ProtoOrigin::Local,
    });
    let sequencing = s.data_sequencing != cfg::DataSequencing::None;
    ctx.protocol
        .synthesize(Event::Dataplane(DataplaneRequest::InstallSession(
            SessionParams {
                handle: sh,
                tunnel_id: tid,
                session_id: sid,
                peer_tunnel_id: peer_tid,
                peer_session_id: peer_sid,
                pw_type,
                // As for managed sessions (l2tpd.conf(5)): `cookie` is ours, which the peer
                // puts on what it sends; `peer_cookie` is the peer's, which we send. (The
                // reverse of `ip l2tp add session`'s `cookie` and `peer_cookie`.)
                cookie: translate::cookie(s.cookie.as_deref()).unwrap_or_default(),
                peer_cookie: translate::cookie(s.peer_cookie.as_deref()).unwrap_or_default(),
                l2spec: translate::l2spec(s.l2spec_type),
                send_seq: sequencing,
                recv_seq: sequencing,
                lns: false,
                interface_name: s
                    .interface_name
                    .clone()
                    .or_else(|| resolved.pseudowire.interface_name.clone()),
                proxy: None,
                connect_speed: None,
            },
        )));
    ctx.protocol.synthesize(Event::SessionUp {
        handle: sh,
        tunnel_id: tid,
        session_id: sid,
        peer_tunnel_id: peer_tid,
        peer_session_id: peer_sid,
    });
    Ok(handle)
}
