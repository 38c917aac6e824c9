//! [`Command::ForgetTunnel`]: a tunnel the peer has forgotten (it restarted and reuses the
//! tunnel's id for a new tunnel) goes without a word to the peer, its sessions with it.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all, count};
use crate::event::{Command, DataplaneRequest, DownCause, Event};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{TunnelConfig, VersionMode};
use crate::wire::MessageType;

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];
const WHY: &str = "peer restarted: it opened tunnel 9 with the same tunnel id";

/// A tunnel from node 0 to node 1 with two sessions up; node 1's id of the tunnel.
fn up(mode: VersionMode) -> (Mesh, u32) {
    let cfg = TunnelConfig {
        version: mode,
        ..TunnelConfig::default()
    };
    let mut mesh = Mesh::new(2, 17, Link::CLEAN, accept_all(cfg.clone()));
    let tid = mesh.open_tunnel(0, 1, Arc::new(cfg));
    for _ in 0..2 {
        let config = Arc::new(SessionConfig::default());
        mesh.open_session(0, tid, CallType::Incoming, config);
    }
    mesh.run_for(Duration::from_secs(5));
    assert_eq!(mesh.established_sessions(1), 2, "{mode:?}");
    let tid = mesh.first_tunnel(1);
    (mesh, tid)
}

/// What node 1 sent of `t` since `from` (an index into `mesh.sent`).
fn sent_since(mesh: &Mesh, from: usize, t: MessageType) -> usize {
    mesh.sent[from..]
        .iter()
        .filter(|s| s.from == 1 && s.message_type == Some(t))
        .count()
}

/// Node 1 forgets tunnel `tid`; returns how many datagrams were sent and how many events node
/// 1 had before.
fn forget(mesh: &mut Mesh, tid: u32) -> (usize, usize) {
    let before = (mesh.sent.len(), mesh.events(1).len());
    mesh.command(
        1,
        Command::ForgetTunnel {
            tunnel_id: tid,
            why: WHY.to_owned(),
        },
    );
    before
}

/// An established tunnel is removed at once: its sessions and it go down (events, data-plane
/// removals) with the local reason, and the peer is sent no StopCCN and no CDN.
#[test]
fn forgetting_a_tunnel_sends_nothing_and_reports_it_down() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode);
        let (mark, seen) = forget(&mut mesh, tid);
        mesh.run_for(Duration::from_secs(1));
        for t in [MessageType::StopCcn, MessageType::Cdn] {
            assert_eq!(sent_since(&mesh, mark, t), 0, "{mode:?}: {t:?} sent");
        }
        assert_eq!(mesh.nodes[1].endpoint.tunnels().count(), 0, "{mode:?}");
        let events = &mesh.events(1)[seen..];
        let sessions_down = count(events, |e| {
            matches!(e, Event::SessionDown { reason, .. }
                if reason.cause == DownCause::TunnelDown && reason.message.as_deref() == Some(WHY.as_bytes()))
        });
        assert_eq!(sessions_down, 2, "{mode:?}: {events:#?}");
        let tunnel_down = events.iter().find_map(|e| match e {
            Event::TunnelDown { reason, .. } => Some(reason.clone()),
            _ => None,
        });
        let reason = tunnel_down.unwrap_or_else(|| panic!("{mode:?}: no TunnelDown"));
        assert_eq!(reason.cause, DownCause::PeerRestarted, "{mode:?}");
        assert_eq!(reason.message.as_deref(), Some(WHY.as_bytes()), "{mode:?}");
        let deleted = count(events, |e| matches!(e, Event::TunnelDeleted { .. }));
        assert_eq!(deleted, 1, "{mode:?}");
        let removed = count(events, |e| {
            matches!(
                e,
                Event::Dataplane(DataplaneRequest::RemoveTunnel { .. })
                    | Event::Dataplane(DataplaneRequest::RemoveSession { .. })
            )
        });
        assert_eq!(removed, 3, "{mode:?}: {events:#?}");
        let unknown = mesh.nodes[1].endpoint.handle_command(
            mesh.now,
            Command::ForgetTunnel {
                tunnel_id: tid,
                why: WHY.into(),
            },
        );
        assert!(unknown.is_err(), "{mode:?}: {unknown:?}");
    }
}

/// A tunnel waiting out its unanswered StopCCN (RFC 2661 §5.7) is deleted at once: the StopCCN
/// is retransmitted no more (to the peer's reused id it would close the new tunnel), and it is
/// not reported down a second time.
#[test]
fn forgetting_a_closing_tunnel_stops_its_stopccn() {
    for mode in BOTH {
        let (mut mesh, tid) = up(mode);
        mesh.muted = vec![true, true];
        mesh.command(1, Command::CloseTunnel { tunnel_id: tid });
        mesh.run_for(Duration::from_secs(3));
        assert!(
            mesh.sent_by(1, MessageType::StopCcn).len() >= 2,
            "{mode:?}: the StopCCN is not retransmitted"
        );
        let (mark, seen) = forget(&mut mesh, tid);
        mesh.run_for(Duration::from_secs(60));
        assert_eq!(sent_since(&mesh, mark, MessageType::StopCcn), 0, "{mode:?}");
        assert_eq!(mesh.nodes[1].endpoint.tunnels().count(), 0, "{mode:?}");
        let events = &mesh.events(1)[seen..];
        assert_eq!(
            count(events, |e| matches!(e, Event::TunnelDown { .. })),
            0,
            "{mode:?}: {events:#?}"
        );
        assert_eq!(
            count(events, |e| matches!(e, Event::TunnelDeleted { .. })),
            1,
            "{mode:?}"
        );
    }
}
