//! Both ends disconnect one session at the same moment, their CDNs crossing (RFC 2661 §5.7
//! lets either end clear a call at any time): each end's CDN reaches a peer that has deleted
//! the session already. That is no malformed input, and no other session or the tunnel
//! notices.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all};
use crate::event::{Command, DownCause, Event};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{TunnelConfig, VersionMode};

#[test]
fn crossing_cdns_are_ignored_and_counted_as_late() {
    for mode in [VersionMode::V2, VersionMode::V3] {
        for link in [Link::CLEAN, Link::lossy(0.1)] {
            let cfg = TunnelConfig {
                version: mode,
                ..TunnelConfig::default()
            };
            let mut mesh = Mesh::new(2, 7, link, accept_all(cfg.clone()));
            let tid = mesh.open_tunnel(0, 1, Arc::new(cfg));
            for _ in 0..3 {
                let config = Arc::new(SessionConfig::default());
                mesh.open_session(0, tid, CallType::Incoming, config);
            }
            mesh.run_for(Duration::from_secs(10));
            let what = format!("{mode:?} {link:?}");
            assert_eq!(mesh.established_sessions(1), 3, "{what}");
            // The same call, as each end numbers it; both close it before either hears.
            let s0 = mesh.nodes[0]
                .endpoint
                .sessions(tid)
                .next()
                .expect("session");
            let peer_tid = mesh.nodes[0]
                .endpoint
                .tunnel(tid)
                .expect("tunnel")
                .peer_tunnel_id;
            for (node, tunnel_id, session_id) in
                [(0, tid, s0.session_id), (1, peer_tid, s0.peer_session_id)]
            {
                mesh.command(
                    node,
                    Command::CloseSession {
                        tunnel_id,
                        session_id,
                    },
                );
            }
            mesh.run_for(Duration::from_secs(10));
            for node in 0..2 {
                let downs: Vec<DownCause> = mesh
                    .events(node)
                    .iter()
                    .filter_map(|e| match e {
                        Event::SessionDown { reason, .. } => Some(reason.cause),
                        _ => None,
                    })
                    .collect();
                assert_eq!(downs, vec![DownCause::Local], "{what} node {node}");
                let malformed = mesh.nodes[node].endpoint.stats().malformed;
                assert_eq!(malformed.late_cdn, 1, "{what} node {node}");
                assert_eq!(malformed.unknown_session, 0, "{what} node {node}");
                assert_eq!(mesh.established_sessions(node), 2, "{what} node {node}");
                assert_eq!(mesh.established_tunnels(node), 1, "{what} node {node}");
            }
        }
    }
}
