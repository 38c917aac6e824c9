//! How quickly `l2tp-loadgen` opens sessions once its tunnel is up, against a scripted LNS on
//! 127.0.0.1: a UDP socket that answers the SCCRQ with an SCCRP and then says nothing, as an
//! LNS does that acknowledges the SCCCN only after a delay (RFC 2661 Appendix B.1 lets the
//! acknowledgement wait for a message to ride on).
//!
//! The load generator must send its ICRQ right after the SCCCN: waiting for the next datagram
//! or timer would hold every session of the run behind the peer's delayed acknowledgement,
//! or here behind the SCCCN's retransmission 1 s later.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

use l2tp_proto::wire::avp::message_type;
use l2tp_proto::wire::avp::types::ProtocolVersion;
use l2tp_proto::wire::{
    Avp, ControlHeader, DecodeContext, Encapsulation, Message, MessageType, Packet, Version,
};

/// The longest wait for any one datagram of the load generator.
const WAIT: Duration = Duration::from_secs(20);

/// A control message received: its sender, header, type (`None` for a ZLB) and body.
type Received = (SocketAddr, ControlHeader, Option<MessageType>, Vec<u8>);

/// Receives the next control message.
fn next_control(lns: &UdpSocket) -> Received {
    let mut buf = [0u8; 2048];
    loop {
        let (n, from) = lns
            .recv_from(&mut buf)
            .expect("a datagram from l2tp-loadgen");
        let datagram = buf.get(..n).unwrap();
        if let Ok(Packet::Control { header, body, .. }) =
            Packet::parse(datagram, Encapsulation::Udp)
        {
            return (from, header, message_type(body), body.to_vec());
        }
    }
}

#[test]
fn the_first_icrq_follows_the_scccn_without_waiting_for_its_acknowledgement() {
    let lns = UdpSocket::bind("127.0.0.1:0").unwrap();
    lns.set_read_timeout(Some(WAIT)).unwrap();
    let peer = lns.local_addr().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_l2tp-loadgen"))
        .args(["--peer", &peer, "--version", "2", "--tunnels", "1"])
        .args([
            "--sessions",
            "1",
            "--timeout",
            "30",
            "--teardown-timeout",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let (lac, sccrq, kind, body) = next_control(&lns);
    assert_eq!(kind, Some(MessageType::Sccrq));
    let ctx = DecodeContext {
        version: Some(Version::V2),
        hiding_key: None,
    };
    let sccrq_msg = Message::decode(&body, ctx).unwrap();
    let lac_tunnel = *sccrq_msg.assigned_tunnel_id().unwrap();
    let mut sccrp = Message::new(MessageType::Sccrp);
    sccrp
        .push(
            Avp::ProtocolVersion(ProtocolVersion {
                version: 1,
                revision: 0,
            }),
            Version::V2,
        )
        .push(Avp::FramingCapabilities(3), Version::V2)
        .push(Avp::HostName(b"scripted-lns".to_vec()), Version::V2)
        .push(Avp::AssignedTunnelId(4242), Version::V2)
        .push(Avp::ReceiveWindowSize(10), Version::V2);
    let header = ControlHeader {
        version: Version::V2,
        tunnel_id: u32::from(lac_tunnel),
        session_id: 0,
        ns: 0,
        nr: sccrq.ns.wrapping_add(1),
    };
    lns.send_to(
        &sccrp.encode(&header, Encapsulation::Udp, None).unwrap(),
        lac,
    )
    .unwrap();

    let (_, _, kind, _) = next_control(&lns);
    assert_eq!(kind, Some(MessageType::Scccn));
    // No acknowledgement of the SCCCN: the next message must be the ICRQ, not the SCCCN
    // again after the retransmission timeout.
    let (_, _, kind, _) = next_control(&lns);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(kind, Some(MessageType::Icrq));
}
