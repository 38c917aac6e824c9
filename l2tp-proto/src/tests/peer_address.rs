//! A running tunnel hears only its peer: RFC 2661 §8.1 and RFC 3931 §4.1.2.2 fix the
//! addresses and ports once the reply is received, so a control message naming the tunnel
//! from another address or port is discarded and counted, whatever its Ns.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::util::{addr, count, two_nodes_with_tunnel, version_of};
use crate::event::{DownCause, Event};
use crate::guard::Discard;
use crate::tunnel::VersionMode;
use crate::wire::avp::Avp;
use crate::wire::avp::types::ResultCode;
use crate::wire::message::Message;
use crate::wire::{ControlHeader, Encapsulation, MessageType};

/// StopCCNs for node 1's tunnel `tid`, claiming to close the peer's `peer_tid`, one for each
/// Ns from 0 to 31 (the real one among them).
fn stopccns(mode: VersionMode, tid: u32, peer_tid: u32) -> Vec<Vec<u8>> {
    let version = version_of(mode);
    let mut stop = Message::new(MessageType::StopCcn);
    let assigned = if mode == VersionMode::V2 {
        Avp::AssignedTunnelId(u16::try_from(peer_tid).unwrap_or(0))
    } else {
        Avp::AssignedConnectionId(peer_tid)
    };
    stop.push(assigned, version);
    let result = ResultCode {
        result: 1,
        error: None,
        message: None,
    };
    stop.push(Avp::ResultCode(result), version);
    (0..32)
        .map(|ns| {
            let header = ControlHeader {
                version,
                tunnel_id: tid,
                session_id: 0,
                ns,
                nr: 0,
            };
            stop.encode(&header, Encapsulation::Udp, None).unwrap()
        })
        .collect()
}

#[test]
fn control_messages_from_anyone_but_the_peer_are_discarded() {
    for mode in [VersionMode::V2, VersionMode::V3] {
        let (mut mesh, peer_tid) = two_nodes_with_tunnel(mode, 23);
        let tid = mesh.first_tunnel(1);
        let peer = addr(0);
        let elsewhere = [
            // A third host, the peer's address on another port (a NAT that rebound it), and
            // a host whose IPv6 address embeds the peer's IPv4 address in the wrong way.
            addr(2),
            SocketAddr::new(peer.ip(), 40_000),
            SocketAddr::new(
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xc000, 0x201).into(),
                1701,
            ),
        ];
        let stops = stopccns(mode, tid, peer_tid);
        for from in elsewhere {
            for stop in &stops {
                let now = mesh.now;
                mesh.nodes[1].endpoint.handle_datagram(
                    now,
                    addr(1),
                    from,
                    Encapsulation::Udp,
                    stop,
                );
            }
        }
        mesh.run_for(Duration::from_secs(5));
        assert_eq!(
            mesh.established_tunnels(1),
            1,
            "{mode:?}: {:?}",
            mesh.events(1)
        );
        let discarded = |from: SocketAddr| {
            count(mesh.events(1), |e| {
                matches!(e, Event::Discarded { remote, tunnel_id, problem: Discard::WrongPeer { peer: p } }
                    if *remote == from && *tunnel_id == tid && *p == peer)
            })
        };
        for from in elsewhere {
            assert_eq!(discarded(from), stops.len(), "{mode:?} from {from}");
        }
        let stats = mesh.nodes[1].endpoint.stats();
        assert_eq!(stats.malformed.wrong_peer, 3 * 32, "{mode:?}");
        assert_eq!(stats.received.get(MessageType::StopCcn), 0, "{mode:?}");

        // The peer's own address, here in its IPv4-mapped IPv6 form: the StopCCN is taken.
        let mapped = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped().into(), 1701);
        assert_eq!(mapped.ip().to_canonical(), peer.ip());
        for stop in &stops {
            let now = mesh.now;
            mesh.nodes[1]
                .endpoint
                .handle_datagram(now, addr(1), mapped, Encapsulation::Udp, stop);
        }
        mesh.run_for(Duration::from_secs(1));
        let down = count(
            mesh.events(1),
            |e| matches!(e, Event::TunnelDown { reason, .. } if reason.cause == DownCause::Peer),
        );
        assert_eq!(down, 1, "{mode:?}: {:?}", mesh.events(1));
    }
}
