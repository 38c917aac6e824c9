//! An SCCRQ in a version the tunnel's configuration does not run is refused with StopCCN
//! result 5 and a message that names the version this end runs (RFC 2661 §4.4.2, RFC 3931
//! §5.4.2), so that the peer's operator reads which side to change.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all};
use crate::event::{DownCause, Event};
use crate::tunnel::{TunnelConfig, VersionMode};

fn cfg(version: VersionMode) -> TunnelConfig {
    TunnelConfig {
        version,
        ..TunnelConfig::default()
    }
}

#[test]
fn a_version_the_configuration_does_not_run_is_refused_with_its_name() {
    for (ours, theirs, message) in [
        (
            VersionMode::V3,
            VersionMode::V2,
            "L2TPv2 refused: this end runs L2TPv3 only",
        ),
        (
            VersionMode::V2,
            VersionMode::V3,
            "L2TPv3 refused: this end runs L2TPv2 only",
        ),
    ] {
        let mut mesh = Mesh::new(2, 5, Link::CLEAN, accept_all(cfg(ours)));
        mesh.open_tunnel(0, 1, Arc::new(cfg(theirs)));
        mesh.run_for(Duration::from_secs(10));
        assert_eq!(mesh.established_tunnels(0), 0, "{ours:?}");
        // Both ends' down events carry result 5 and the message: the refusing end's own, and
        // the peer's from the StopCCN.
        for (node, cause) in [(1, DownCause::Local), (0, DownCause::Peer)] {
            let downs: Vec<_> = mesh
                .events(node)
                .iter()
                .filter_map(|e| match e {
                    Event::TunnelDown { reason, .. } => {
                        Some((reason.cause, reason.result, reason.message.clone()))
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(
                downs,
                [(cause, 5, Some(message.as_bytes().to_vec()))],
                "{ours:?} node {node}"
            );
        }
    }
}
