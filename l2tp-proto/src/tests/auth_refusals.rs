//! A tunnel refused for its authentication says why: the StopCCN's Result Code carries a
//! message naming what did not match, which both ends report with the tunnel's going down, so
//! that an operator tells a different secret from a host name or role refusal.

use std::sync::Arc;
use std::time::Duration;

use super::util::{Link, Mesh, accept_all};
use crate::event::{DownCause, Event};
use crate::tunnel::{AuthMode, TunnelConfig, VersionMode};

fn v2(secret: &str, auth_mode: AuthMode) -> TunnelConfig {
    TunnelConfig {
        version: VersionMode::V2,
        secret: secret.into(),
        auth_mode,
        ..TunnelConfig::default()
    }
}

/// A message as text, its invalid UTF-8 replaced.
fn lossy(m: Option<&[u8]>) -> Option<String> {
    m.map(|m| String::from_utf8_lossy(m).into_owned())
}

/// The cause, result and message of each tunnel that went down on `node`.
fn downs(mesh: &Mesh, node: usize) -> Vec<(DownCause, u16, Option<String>)> {
    mesh.events(node)
        .iter()
        .filter_map(|e| match e {
            Event::TunnelDown { reason, .. } => Some((
                reason.cause,
                reason.result,
                lossy(reason.message.as_deref()),
            )),
            _ => None,
        })
        .collect()
}

fn says_secret(downs: &[(DownCause, u16, Option<String>)], cause: DownCause) -> bool {
    downs.iter().any(|(c, r, m)| {
        *c == cause && *r == 4 && m.as_deref().is_some_and(|m| m.contains("secret"))
    })
}

/// Node 0 opens a tunnel with `initiator` to node 1, which accepts with `recipient`; the
/// tunnel is refused for its secret by node `checker`, which says so, and the other node
/// hears why. Returns the mesh.
fn refused_for_the_secret(
    initiator: TunnelConfig,
    recipient: TunnelConfig,
    checker: usize,
) -> Mesh {
    let mut mesh = Mesh::new(2, 3, Link::CLEAN, accept_all(recipient));
    mesh.open_tunnel(0, 1, Arc::new(initiator));
    mesh.run_for(Duration::from_secs(10));
    for (node, cause) in [(checker, DownCause::Local), (1 - checker, DownCause::Peer)] {
        let downs = downs(&mesh, node);
        assert!(says_secret(&downs, cause), "node {node}: {downs:?}");
    }
    mesh
}

/// The initiator finds the SCCRP's Challenge Response wrong.
#[test]
fn a_wrong_challenge_response_in_the_sccrp_is_named() {
    let initiator = v2("s3cret", AuthMode::Challenge);
    refused_for_the_secret(initiator, v2("other", AuthMode::Challenge), 0);
}

/// The recipient finds the SCCCN's Challenge Response wrong (the initiator does not
/// challenge, so it answers the recipient's challenge with its own, different, secret).
#[test]
fn a_wrong_challenge_response_in_the_scccn_is_named() {
    let initiator = v2("s3cret", AuthMode::None);
    let mesh = refused_for_the_secret(initiator, v2("other", AuthMode::Challenge), 1);
    assert_eq!(mesh.nodes[1].endpoint.stats().auth_failures, 1);
}

/// A challenge to a host with no secret.
#[test]
fn a_challenge_without_a_secret_here_is_named() {
    let initiator = v2("s3cret", AuthMode::Challenge);
    refused_for_the_secret(initiator, v2("", AuthMode::None), 1);
}

/// As above with `hide_avps` on the initiator: its hidden Challenge Response cannot be
/// unhidden with the recipient's secret, which is a wrong secret all the same.
#[test]
fn a_hidden_challenge_response_under_another_secret_is_named() {
    let initiator = TunnelConfig {
        hide_avps: true,
        ..v2("s3cret", AuthMode::None)
    };
    let mesh = refused_for_the_secret(initiator, v2("other", AuthMode::Challenge), 1);
    assert_eq!(mesh.nodes[1].endpoint.stats().auth_failures, 1);
}
