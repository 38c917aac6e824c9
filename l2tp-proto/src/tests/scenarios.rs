//! Tunnel and session scenarios.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all, count};
use crate::event::{DataplaneRequest, DownCause, Event};
use crate::session::{CallType, SessionConfig};
use crate::tunnel::{TunnelConfig, VersionMode};
use crate::wire::MessageType;
use crate::wire::header::Version;

fn cfg(version: VersionMode) -> TunnelConfig {
    TunnelConfig {
        version,
        ..TunnelConfig::default()
    }
}

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];

fn expect_version(mode: VersionMode) -> Version {
    if mode == VersionMode::V2 {
        Version::V2
    } else {
        Version::V3
    }
}

#[test]
fn tunnel_and_session_come_up() {
    for mode in BOTH {
        let mut mesh = Mesh::new(2, 1, Link::CLEAN, accept_all(cfg(mode)));
        let tid = mesh.open_tunnel(0, 1, Arc::new(cfg(mode)));
        mesh.open_session(
            0,
            tid,
            CallType::Incoming,
            Arc::new(SessionConfig::default()),
        );
        mesh.run_for(Duration::from_secs(5));
        assert_eq!(mesh.established_tunnels(0), 1, "{mode:?}");
        assert_eq!(mesh.established_tunnels(1), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(0), 1, "{mode:?}");
        assert_eq!(mesh.established_sessions(1), 1, "{mode:?}");
        for node in 0..2 {
            let ev = mesh.events(node);
            assert_eq!(
                count(
                    ev,
                    |e| matches!(e, Event::TunnelUp { version, .. } if *version == expect_version(mode))
                ),
                1
            );
            assert_eq!(
                count(ev, |e| matches!(
                    e,
                    Event::Dataplane(DataplaneRequest::InstallTunnel(_))
                )),
                1
            );
            assert_eq!(
                count(ev, |e| matches!(
                    e,
                    Event::Dataplane(DataplaneRequest::InstallSession(_))
                )),
                1
            );
            assert_eq!(count(ev, |e| matches!(e, Event::SessionUp { .. })), 1);
        }
        // Explicit acknowledgements were sent where nothing else carried the Nr.
        assert!(mesh.nodes[1].endpoint.stats().acks_sent > 0, "{mode:?}");
        let _ = DownCause::Local;
        let _ = MessageType::Sccrq;
    }
}
