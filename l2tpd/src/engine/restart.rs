//! Peers that restarted. A peer that restarts (or reconnects from UDP port 1701 as the
//! L2TP/IPsec clients of Windows and xl2tpd do) opens a new tunnel from the same address and
//! port, often under the same Assigned Tunnel ID as before: its old tunnel here is dead at the
//! peer, and anything sent to that id (a HELLO, a StopCCN, a CDN) now reaches the new tunnel.
//!
//! When a tunnel that the peer opened comes up, the other tunnels from the same local and remote
//! address and port (over UDP; the address over IP) with the same peer tunnel id are its stale
//! ones. The engine knows
//! no netfilter marks, so the shell hears of them ([`EngineEvent::StaleTunnels`]), keeps those
//! whose socket has the same mark as the new tunnel's (two IPsec clients behind one NAT come from
//! one address and port, and may pick one id; their marks tell them apart), and hands them back
//! ([`super::Engine::forget_stale_tunnels`]): each is removed without a StopCCN or CDN
//! ([`proto::Command::ForgetTunnel`]), its sessions going down as after any tunnel loss.
//!
//! A peer that restarts under a new tunnel id leaves its old tunnels here with nothing to tell
//! them apart from live ones (a peer may keep several tunnels on one port). So when a tunnel
//! the peer opened comes up, its other tunnels from the same address and port (over IP:
//! address) with another peer tunnel id are each sent a HELLO at once
//! ([`proto::Command::ProbeTunnel`]; RFC 2661 §6.5 and RFC 3931 §5.4.1 allow one at any time):
//! a live one acknowledges it, a dead one is closed after one retransmission cycle instead of
//! after `hello_timeout` of silence and that cycle. A tunnel already waiting on an
//! acknowledgement is sent nothing, and one probed less than [`PROBE_SPACING`] ago is not
//! probed again ([`probe`]): a burst of tunnels from one LAC's port 1701, or of its
//! subscribers' PPP going silent at once, costs each tunnel one HELLO, not one per event.
//!
//! [`EngineEvent::StaleTunnels`]: super::EngineEvent::StaleTunnels

use std::time::Duration;

use l2tp_proto as proto;

use super::ctx::Ctx;
use crate::notice;

/// The least time between two probes of one tunnel.
pub(super) const PROBE_SPACING: Duration = Duration::from_secs(10);

/// Probes tunnel `tid` with a HELLO now (see the module's text), unless it was probed less
/// than [`PROBE_SPACING`] ago; whether a HELLO left.
pub(super) fn probe(ctx: &mut Ctx<'_>, tid: u32) -> bool {
    let now = ctx.now;
    let recent = |at: Option<std::time::Instant>| {
        at.is_some_and(|at| now.saturating_duration_since(at) < PROBE_SPACING)
    };
    match ctx.registry.tunnel_by_tid(tid) {
        Some(t) if !recent(t.probed_at) => {}
        _ => return false,
    }
    if ctx.protocol.probe_tunnel(now, tid) != Some(proto::Probe::HelloSent) {
        return false;
    }
    if let Some(t) = ctx.registry.tunnel_by_tid_mut(tid) {
        t.probed_at = Some(now);
    }
    true
}

/// Tunnel `handle` (`info`) is up: when the peer opened it, the shell is asked about the peer's
/// other tunnels from the same address and port with the same tunnel id, if there are any, and
/// those with another tunnel id are probed.
pub(super) fn tunnel_up(ctx: &mut Ctx<'_>, handle: u64, info: &proto::TunnelInfo) {
    if info.origin != proto::Origin::Peer {
        return;
    }
    let stale = stale_tunnels(ctx, handle);
    if !stale.is_empty() {
        ctx.out.stale_tunnels(info.tunnel_id, stale);
    }
    probe_older(ctx, handle, info.tunnel_id);
}

/// Sends each live tunnel of the peer of tunnel `handle` (`tid`) under another peer tunnel id
/// a HELLO, unless it waits on an acknowledgement already.
fn probe_older(ctx: &mut Ctx<'_>, handle: u64, tid: u32) {
    let Some(rec) = ctx.registry.tunnel(handle) else {
        return;
    };
    let (Some((_, remote)), peer_tid) = (rec.socket, rec.peer_tid) else {
        return;
    };
    let older: Vec<u32> = same_peer(ctx, handle)
        .into_iter()
        .filter(|old| {
            ctx.registry
                .tunnel_by_tid(*old)
                .is_some_and(|t| t.peer_tid != peer_tid && !t.is_static() && t.phase().is_live())
        })
        .collect();
    let remote = shown(remote);
    for old in older {
        if probe(ctx, old) {
            notice!(
                "tunnel {old}: the peer {remote} opened a new tunnel {tid}; checking its older \
                 tunnel {old} with a HELLO"
            );
        }
    }
}

/// The peer's address and port; over IP (port 0) its address alone.
fn shown(remote: std::net::SocketAddr) -> String {
    if remote.port() == 0 {
        remote.ip().to_string()
    } else {
        remote.to_string()
    }
}

/// The local ids of the tunnels other than `handle` with its local and remote address (and
/// port, over UDP), static ones among them.
fn same_peer(ctx: &Ctx<'_>, handle: u64) -> Vec<u32> {
    let Some(rec) = ctx.registry.tunnel(handle) else {
        return Vec::new();
    };
    let Some(pair) = rec.socket else {
        return Vec::new();
    };
    match rec.udp_peer() {
        Some(peer) => ctx.registry.same_peer(handle, peer),
        // Over IP (RFC 3931 §4.1.1.2) there is no port and no NAT: the peer's address and its
        // Assigned Control Connection ID name its control connection, and peers over IP are
        // few, so each tunnel is looked at.
        None => ctx
            .registry
            .tunnels()
            .filter(|(h, t)| *h != handle && t.socket == Some(pair))
            .map(|(_, t)| t.tid())
            .collect(),
    }
}

/// The local ids of the tunnels other than `handle` with its local and remote address (and
/// port, over UDP) and its peer tunnel id, static ones aside.
fn stale_tunnels(ctx: &Ctx<'_>, handle: u64) -> Vec<u32> {
    let Some(peer_tid) = ctx.registry.tunnel(handle).map(|t| t.peer_tid) else {
        return Vec::new();
    };
    same_peer(ctx, handle)
        .into_iter()
        .filter(|tid| {
            ctx.registry
                .tunnel_by_tid(*tid)
                .is_some_and(|t| t.peer_tid == peer_tid && !t.is_static())
        })
        .collect()
}

/// The shell's answer for tunnel `tid`: the peer has forgotten tunnels `stale` (each checked
/// again: it may have gone meanwhile), which go without a StopCCN.
pub(super) fn forget(ctx: &mut Ctx<'_>, tid: u32, stale: &[u32]) {
    let Some(handle) = ctx.registry.tunnel_handle(tid) else {
        return;
    };
    let still = stale_tunnels(ctx, handle);
    let Some((_, remote)) = ctx.registry.tunnel(handle).and_then(|t| t.socket) else {
        return;
    };
    let remote = shown(remote);
    for &old in stale.iter().filter(|t| still.contains(t)) {
        notice!(
            "tunnel {old}: the peer {remote} restarted: it opened tunnel {tid} with the same \
             tunnel id; tunnel {old} and its sessions are removed without a StopCCN"
        );
        let why = format!("peer restarted: it opened tunnel {tid} with the same tunnel id");
        ctx.protocol.forget_tunnel(ctx.now, old, why);
    }
}
