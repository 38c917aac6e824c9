//! [`Command::ProbeTunnel`]: a HELLO at once (RFC 2661 §6.5, RFC 3931 §5.4.1), so that a peer
//! that vanished is found within one retransmission cycle rather than after `hello_timeout`.

use std::time::Duration;

use super::util::{count, two_nodes_with_tunnel};
use crate::event::{Command, CommandError, CommandOutcome, DownCause, Event, Probe};
use crate::reliable;
use crate::tunnel::VersionMode;
use crate::wire::MessageType;

const BOTH: [VersionMode; 2] = [VersionMode::V2, VersionMode::V3];

fn probe(mesh: &mut super::util::Mesh, tid: u32) -> Result<CommandOutcome, CommandError> {
    let now = mesh.now;
    mesh.nodes[0]
        .endpoint
        .handle_command(now, Command::ProbeTunnel { tunnel_id: tid })
}

/// A live peer acknowledges the HELLO and nothing else happens; a second probe while the first
/// is unacknowledged sends nothing more.
#[test]
fn a_live_tunnel_acknowledges_one_hello() {
    for mode in BOTH {
        let (mut mesh, tid) = two_nodes_with_tunnel(mode, 3);
        let hellos = mesh.sent_by(0, MessageType::Hello).len();
        let first = probe(&mut mesh, tid);
        let second = probe(&mut mesh, tid);
        assert_eq!(
            first,
            Ok(CommandOutcome::Probed(Probe::HelloSent)),
            "{mode:?}"
        );
        assert_eq!(
            second,
            Ok(CommandOutcome::Probed(Probe::AlreadyWaiting)),
            "{mode:?}"
        );
        mesh.run_for(Duration::from_secs(5));
        assert_eq!(
            mesh.sent_by(0, MessageType::Hello).len(),
            hellos + 1,
            "{mode:?}"
        );
        assert_eq!(mesh.established_tunnels(0), 1, "{mode:?}");
        assert_eq!(mesh.established_tunnels(1), 1, "{mode:?}");
        let down = count(mesh.events(0), |e| matches!(e, Event::TunnelDown { .. }));
        assert_eq!(down, 0, "{mode:?}");
        // Acknowledged: the next probe sends again.
        let third = probe(&mut mesh, tid);
        assert_eq!(
            third,
            Ok(CommandOutcome::Probed(Probe::HelloSent)),
            "{mode:?}"
        );
    }
}

/// A peer gone silent is found dead one retransmission cycle after the probe, long before the
/// HELLO of `hello_timeout` (60 s) would even have been sent.
#[test]
fn a_dead_peer_is_found_within_one_retransmission_cycle() {
    for mode in BOTH {
        let (mut mesh, tid) = two_nodes_with_tunnel(mode, 5);
        mesh.muted[1] = true;
        let probed_at = mesh.now;
        let outcome = probe(&mut mesh, tid);
        assert_eq!(
            outcome,
            Ok(CommandOutcome::Probed(Probe::HelloSent)),
            "{mode:?}"
        );
        let span = reliable::Config::default().retransmission_span();
        mesh.run_for(span - Duration::from_millis(500));
        assert_eq!(mesh.established_tunnels(0), 1, "{mode:?}: down too early");
        mesh.run_for(Duration::from_secs(1));
        let down = mesh.events(0).iter().find_map(|e| match e {
            Event::TunnelDown { reason, .. } => Some(reason.cause),
            _ => None,
        });
        assert_eq!(down, Some(DownCause::RetriesExhausted), "{mode:?}");
        assert!(
            mesh.now.saturating_duration_since(probed_at) < Duration::from_secs(33),
            "{mode:?}"
        );
        // One HELLO, retransmitted: no second probe piled on it.
        let hellos = mesh.sent_by(0, MessageType::Hello);
        let retries = usize::from(reliable::Config::default().max_retries);
        assert_eq!(hellos.len(), 1 + retries, "{mode:?}");
    }
}

/// A closing tunnel is not probed; an unknown one is refused.
#[test]
fn closing_and_unknown_tunnels_are_not_probed() {
    for mode in BOTH {
        let (mut mesh, tid) = two_nodes_with_tunnel(mode, 7);
        mesh.command(0, Command::CloseTunnel { tunnel_id: tid });
        assert_eq!(
            probe(&mut mesh, tid),
            Err(CommandError::TunnelClosing),
            "{mode:?}"
        );
        assert_eq!(
            probe(&mut mesh, tid ^ 1),
            Err(CommandError::NoSuchTunnel),
            "{mode:?}"
        );
        assert_eq!(mesh.sent_by(0, MessageType::Hello).len(), 0, "{mode:?}");
    }
}

/// A tunnel whose `hello_timeout` is zero sends no HELLO, probed or not.
#[test]
fn no_probe_where_hellos_are_off() {
    use std::sync::Arc;

    use super::util::{Link, Mesh, accept_all};
    use crate::tunnel::TunnelConfig;
    for mode in BOTH {
        let cfg = TunnelConfig {
            version: mode,
            hello_timeout: Duration::ZERO,
            ..TunnelConfig::default()
        };
        let mut mesh = Mesh::new(2, 9, Link::CLEAN, accept_all(cfg.clone()));
        let tid = mesh.open_tunnel(0, 1, Arc::new(cfg));
        mesh.run_for(Duration::from_secs(2));
        let outcome = probe(&mut mesh, tid);
        assert_eq!(
            outcome,
            Ok(CommandOutcome::Probed(Probe::HellosOff)),
            "{mode:?}"
        );
        mesh.run_for(Duration::from_secs(2));
        assert_eq!(mesh.sent_by(0, MessageType::Hello).len(), 0, "{mode:?}");
    }
}
