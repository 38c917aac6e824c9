//! Values the RFCs forbid, sent by a hand-driven peer to an endpoint that accepts everything:
//! each is answered as the RFC says (StopCCN or CDN with its result and error code, or
//! discarded) and counted. `docs/robustness.md` has the audit these follow. The same peer
//! checks which messages are acknowledged at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::event::Decision;
use crate::rng::DeterministicRng;
use crate::session::SessionConfig;
use crate::time::Instant;
use crate::tunnel::{TunnelConfig, VersionMode};
use crate::wire::avp::types::{ProtocolVersion, ResultCode, circuit_status, pw_type};
use crate::wire::header::{ControlHeader, Cookie, Encapsulation, Packet, Version};
use crate::wire::message::{AvpEntry, DecodeContext, Message, MessageType};
use crate::wire::{Avp, AvpType};
use crate::{Endpoint, EndpointConfig, SessionHandle, TunnelHandle};

const US: u16 = 0x1234;

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 1701))
}

/// A peer written by hand, against one endpoint under test that accepts every tunnel and call.
struct Peer {
    ep: Endpoint,
    now: Instant,
    version: Version,
    /// The endpoint's tunnel id, once its SCCRP named it.
    tid: u32,
    ns: u16,
    nr: u16,
    /// What the endpoint sent, decoded.
    sent: Vec<(ControlHeader, Option<Message>)>,
}

impl Peer {
    fn new(version: Version) -> Peer {
        let ep = Endpoint::new(
            EndpointConfig::default(),
            Box::new(DeterministicRng::new(7)),
        );
        Peer {
            ep,
            now: Instant::from_secs(1),
            version,
            tid: 0,
            ns: 0,
            nr: 0,
            sent: Vec::new(),
        }
    }

    /// Sends `avps` as a message of type `t` (on session `sid` of an L2TPv2 header), then
    /// answers the endpoint's decisions with acceptance and collects what it sent.
    fn send(&mut self, t: MessageType, sid: u16, avps: Vec<AvpEntry>) {
        let mut msg = Message::new(t);
        msg.avps = avps;
        let header = ControlHeader {
            version: self.version,
            tunnel_id: self.tid,
            session_id: sid,
            ns: self.ns,
            nr: self.nr,
        };
        self.ns = self.ns.wrapping_add(1);
        let bytes = msg
            .encode(&header, Encapsulation::Udp, None)
            .expect("encode");
        self.ep
            .handle_datagram(self.now, addr(1), addr(2), Encapsulation::Udp, &bytes);
        self.drain();
    }

    fn drain(&mut self) {
        let mode = match self.version {
            Version::V2 => VersionMode::V2,
            Version::V3 => VersionMode::V3,
        };
        while let Some(d) = self.ep.poll_decision() {
            let r = match d {
                Decision::Tunnel(req) => self
                    .ep
                    .accept_tunnel(
                        self.now,
                        req.id,
                        TunnelHandle(1),
                        Arc::new(TunnelConfig {
                            version: mode,
                            ..TunnelConfig::default()
                        }),
                    )
                    .map(|_| ()),
                Decision::Session(req) => self.ep.accept_session(
                    self.now,
                    req.id,
                    SessionHandle(2),
                    Arc::new(SessionConfig::default()),
                ),
            };
            r.expect("accept");
        }
        while self.ep.poll_event().is_some() {}
        while let Some(tx) = self.ep.poll_transmit() {
            let Ok(Packet::Control { header, body, .. }) =
                Packet::parse(&tx.contents, Encapsulation::Udp)
            else {
                continue;
            };
            let msg = (!body.is_empty())
                .then(|| Message::decode(body, DecodeContext::default()).ok())
                .flatten();
            // An L2TPv3 ACK takes no sequence number (RFC 3931 §5.4.1).
            if msg
                .as_ref()
                .is_some_and(|m| m.message_type != MessageType::Ack)
            {
                self.nr = header.ns.wrapping_add(1);
            }
            self.sent.push((header, msg));
        }
    }

    fn run(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(t) = self.ep.poll_timeout().filter(|t| *t <= until) {
            self.now = t.max(self.now);
            self.ep.handle_timeout(self.now);
            self.drain();
        }
        self.now = until;
    }

    /// The messages of type `t` the endpoint sent, with their headers.
    fn sent(&self, t: MessageType) -> Vec<(ControlHeader, &Message)> {
        self.sent
            .iter()
            .filter_map(|(h, m)| m.as_ref().map(|m| (*h, m)))
            .filter(|(_, m)| m.message_type == t)
            .collect()
    }

    fn result(&self, t: MessageType) -> Option<(u16, Option<u16>)> {
        let (_, m) = self.sent(t).into_iter().next()?;
        m.result_code().map(|r| (r.result, r.error))
    }

    fn avp(&self, a: Avp) -> AvpEntry {
        AvpEntry::new(a, self.version)
    }

    /// An SCCRQ whose id is `id` (Assigned Tunnel ID or Assigned Control Connection ID).
    fn sccrq(&self, id: u32) -> Vec<AvpEntry> {
        match self.version {
            Version::V2 => vec![
                self.avp(Avp::ProtocolVersion(ProtocolVersion {
                    version: 1,
                    revision: 0,
                })),
                self.avp(Avp::HostName(b"raw".to_vec())),
                self.avp(Avp::FramingCapabilities(3)),
                self.avp(Avp::AssignedTunnelId(id as u16)),
            ],
            Version::V3 => vec![
                self.avp(Avp::HostName(b"raw".to_vec())),
                self.avp(Avp::RouterId(1)),
                self.avp(Avp::AssignedConnectionId(id)),
                self.avp(Avp::PseudowireCapabilities(vec![pw_type::ETH])),
            ],
        }
    }

    /// A tunnel up: SCCRQ, the endpoint's SCCRP, SCCCN.
    fn establish(version: Version) -> Peer {
        let mut p = Peer::new(version);
        p.send(MessageType::Sccrq, 0, p.sccrq(u32::from(US)));
        let (_, sccrp) = p
            .sent(MessageType::Sccrp)
            .into_iter()
            .next()
            .expect("SCCRP");
        p.tid = match version {
            Version::V2 => u32::from(*sccrp.assigned_tunnel_id().expect("id")),
            Version::V3 => *sccrp.assigned_connection_id().expect("id"),
        };
        p.send(MessageType::Scccn, 0, Vec::new());
        assert_eq!(p.ep.tunnel(p.tid).map(|t| t.is_established()), Some(true));
        p.sent.clear();
        p
    }

    /// An ICRQ whose id (Assigned Session ID or Local Session ID) is `id`, plus `extra`.
    fn icrq(&self, id: u32, extra: Vec<Avp>) -> Vec<AvpEntry> {
        let mut avps = match self.version {
            Version::V2 => vec![
                self.avp(Avp::AssignedSessionId(id as u16)),
                self.avp(Avp::CallSerialNumber(1)),
            ],
            Version::V3 => vec![
                self.avp(Avp::LocalSessionId(id)),
                self.avp(Avp::RemoteSessionId(0)),
                self.avp(Avp::CallSerialNumber(1)),
                self.avp(Avp::PseudowireType(pw_type::ETH)),
                self.avp(Avp::RemoteEndId(b"vc".to_vec())),
                self.avp(Avp::CircuitStatus(circuit_status::ACTIVE)),
            ],
        };
        avps.extend(extra.into_iter().map(|a| self.avp(a)));
        avps
    }
}

/// RFC 2661 §4.4.3, RFC 3931 §5.4.3: an SCCRQ assigning the id 0 gets no SCCRP but a StopCCN
/// (result 2, error 3), on tunnel id 0 since the peer named none, carrying our Assigned Tunnel
/// ID; the tunnel is gone and the problem counted.
#[test]
fn an_sccrq_assigning_id_0_is_refused_with_stopccn_2_3() {
    for version in [Version::V2, Version::V3] {
        let mut p = Peer::new(version);
        p.send(MessageType::Sccrq, 0, p.sccrq(0));
        assert!(p.sent(MessageType::Sccrp).is_empty(), "{version:?}");
        let stop = p.sent(MessageType::StopCcn);
        let [(header, msg)] = stop.as_slice() else {
            panic!("{version:?}: one StopCCN, got {:?}", p.sent);
        };
        assert_eq!(header.tunnel_id, 0, "{version:?}");
        let ours = match version {
            Version::V2 => msg.assigned_tunnel_id().map(|v| u32::from(*v)),
            Version::V3 => msg.assigned_connection_id().copied(),
        };
        assert!(ours.is_some_and(|id| id != 0), "{version:?}: {msg:?}");
        assert_eq!(p.result(MessageType::StopCcn), Some((2, Some(3))));
        assert_eq!(p.ep.stats().malformed.body, 1, "{version:?}");
        p.run(Duration::from_secs(30));
        assert_eq!(p.ep.tunnel_count(), 0, "{version:?}");
        // Nothing acknowledges a StopCCN on tunnel id 0: it is not retransmitted either.
        assert_eq!(p.sent(MessageType::StopCcn).len(), 1, "{version:?}");
    }
}

/// A Receive Window Size of 0 would let us send nothing (RFC 3931 §4.2: non-zero).
#[test]
fn an_sccrq_with_a_zero_receive_window_is_refused() {
    for version in [Version::V2, Version::V3] {
        let mut p = Peer::new(version);
        let mut avps = p.sccrq(u32::from(US));
        avps.push(p.avp(Avp::ReceiveWindowSize(0)));
        p.send(MessageType::Sccrq, 0, avps);
        assert!(p.sent(MessageType::Sccrp).is_empty(), "{version:?}");
        assert_eq!(p.result(MessageType::StopCcn), Some((2, Some(3))));
        let (header, _) = p.sent(MessageType::StopCcn)[0];
        assert_eq!(header.tunnel_id, u32::from(US), "{version:?}");
    }
}

/// RFC 2661 §4.4.3, RFC 3931 §5.4.3: a Host Name (like Protocol Version, Tie Breaker,
/// Receive Window Size, Router ID ...) MUST NOT be hidden.
#[test]
fn an_avp_hidden_that_must_not_be_is_malformed() {
    let mut p = Peer::new(Version::V2);
    let mut avps = p.sccrq(u32::from(US));
    avps.insert(0, p.avp(Avp::RandomVector(vec![9; 16])));
    avps[2].hidden = true; // Host Name
    // Hiding needs a key; the hidden value only has to be there, not to unhide.
    let mut msg = Message::new(MessageType::Sccrq);
    msg.avps = avps;
    let key = crate::wire::hidden::HidingKey::v2(&"k".into()).expect("key");
    let header = ControlHeader {
        version: Version::V2,
        tunnel_id: 0,
        session_id: 0,
        ns: 0,
        nr: 0,
    };
    let bytes = msg
        .encode(&header, Encapsulation::Udp, Some(&key))
        .expect("encode");
    p.ep.handle_datagram(p.now, addr(1), addr(2), Encapsulation::Udp, &bytes);
    p.drain();
    assert!(p.sent(MessageType::Sccrp).is_empty());
    assert_eq!(p.result(MessageType::StopCcn), Some((2, Some(3))));
}

/// RFC 2661 §4.1: an L2TPv2 AVP with a reserved bit of its header set is an unrecognized AVP:
/// with the M bit the tunnel is refused (error 8), without it the AVP is ignored.
#[test]
fn an_l2tpv2_avp_with_reserved_bits_is_unrecognized() {
    for mandatory in [true, false] {
        let mut p = Peer::new(Version::V2);
        let mut msg = Message::new(MessageType::Sccrq);
        msg.avps = p.sccrq(u32::from(US));
        msg.avps.push(AvpEntry {
            mandatory,
            ..p.avp(Avp::FirmwareRevision(1))
        });
        let header = ControlHeader {
            version: Version::V2,
            tunnel_id: 0,
            session_id: 0,
            ns: 0,
            nr: 0,
        };
        let mut bytes = msg
            .encode(&header, Encapsulation::Udp, None)
            .expect("encode");
        // The Firmware Revision AVP is the last 8 octets: set a reserved bit in its header.
        let at = bytes.len() - 8;
        bytes[at] |= 0x04;
        p.ep.handle_datagram(p.now, addr(1), addr(2), Encapsulation::Udp, &bytes);
        p.drain();
        if mandatory {
            assert!(p.sent(MessageType::Sccrp).is_empty());
            assert_eq!(p.result(MessageType::StopCcn), Some((2, Some(8))));
        } else {
            assert_eq!(p.sent(MessageType::Sccrp).len(), 1);
        }
    }
}

/// RFC 2661 §4.4.3 and §7.2 wait-ctl-reply: an SCCRP in a protocol version we do not support
/// is answered with StopCCN result 5.
#[test]
fn an_sccrp_in_another_protocol_version_gets_stopccn_5() {
    let mut ep = Endpoint::new(
        EndpointConfig::default(),
        Box::new(DeterministicRng::new(3)),
    );
    let now = Instant::from_secs(1);
    let config = TunnelConfig {
        version: VersionMode::V2,
        ..TunnelConfig::default()
    };
    let tid = match ep.handle_command(
        now,
        crate::event::Command::OpenTunnel {
            handle: TunnelHandle(1),
            config: Arc::new(config),
            local: addr(2),
            remote: addr(1),
        },
    ) {
        Ok(crate::event::CommandOutcome::Tunnel(tid)) => tid,
        other => panic!("{other:?}"),
    };
    while ep.poll_transmit().is_some() {}
    let mut sccrp = Message::new(MessageType::Sccrp);
    let v = Version::V2;
    for a in [
        Avp::ProtocolVersion(ProtocolVersion {
            version: 2,
            revision: 0,
        }),
        Avp::HostName(b"raw".to_vec()),
        Avp::FramingCapabilities(3),
        Avp::AssignedTunnelId(US),
    ] {
        sccrp.push(a, v);
    }
    let header = ControlHeader {
        version: v,
        tunnel_id: tid,
        session_id: 0,
        ns: 0,
        nr: 1,
    };
    let bytes = sccrp
        .encode(&header, Encapsulation::Udp, None)
        .expect("encode");
    ep.handle_datagram(now, addr(2), addr(1), Encapsulation::Udp, &bytes);
    let mut results = Vec::new();
    while let Some(tx) = ep.poll_transmit() {
        if let Ok(Packet::Control { header, body, .. }) =
            Packet::parse(&tx.contents, Encapsulation::Udp)
            && let Ok(m) = Message::decode(body, DecodeContext::default())
        {
            results.push((header.tunnel_id, m.message_type, m.result_code().cloned()));
        }
    }
    assert_eq!(
        results,
        vec![(
            u32::from(US),
            MessageType::StopCcn,
            Some(ResultCode {
                result: 5,
                error: None,
                message: None
            })
        )]
    );
}

/// RFC 2661 §5.3 and RFC 3931 §5.4.4: a call request assigning the session id 0 is refused
/// with CDN 2/3; the CDN carries a non-zero id of ours, the tunnel stays up.
#[test]
fn a_call_request_assigning_session_id_0_is_refused_with_cdn_2_3() {
    for version in [Version::V2, Version::V3] {
        let mut p = Peer::establish(version);
        p.send(MessageType::Icrq, 0, p.icrq(0, Vec::new()));
        assert!(p.sent(MessageType::Icrp).is_empty(), "{version:?}");
        assert_eq!(
            p.result(MessageType::Cdn),
            Some((2, Some(3))),
            "{version:?}"
        );
        let (_, cdn) = p.sent(MessageType::Cdn)[0];
        let ours = match version {
            Version::V2 => cdn.assigned_session_id().map(|v| u32::from(*v)),
            Version::V3 => cdn.local_session_id().copied(),
        };
        assert!(ours.is_some_and(|id| id != 0), "{version:?}: {cdn:?}");
        assert_eq!(p.ep.stats().malformed.body, 1, "{version:?}");
        assert_eq!(p.ep.tunnel(p.tid).map(|t| t.is_established()), Some(true));
        assert_eq!(p.ep.session_count(), 0, "{version:?}");
    }
}

/// RFC 3931 §5.4.4: a Pseudowire Type we did not list in our capabilities gets CDN 14; data
/// sequencing without an L2-Specific Sublayer gets CDN 15; a Data Sequencing level above 2 or
/// an L2-Specific Sublayer type above 1 is out of range (CDN 2/3).
#[test]
fn l2tpv3_call_parameters_the_rfc_refuses() {
    /// AVPs added to the ICRQ, its Pseudowire Type if not Ethernet, the (result, error) due.
    type Case = (Vec<Avp>, Option<u16>, (u16, Option<u16>));
    let cases: [Case; 5] = [
        (vec![], Some(0x0006), (14, Some(0))),
        (vec![Avp::DataSequencing(2)], None, (15, Some(0))),
        (
            vec![Avp::DataSequencing(1), Avp::L2SpecificSublayer(0)],
            None,
            (15, Some(0)),
        ),
        (vec![Avp::DataSequencing(3)], None, (2, Some(3))),
        (vec![Avp::L2SpecificSublayer(2)], None, (2, Some(3))),
    ];
    for (extra, pw, (result, error)) in cases {
        let mut p = Peer::establish(Version::V3);
        let what = format!("{extra:?} pw {pw:?}");
        let mut avps = p.icrq(500, extra);
        if let Some(ty) = pw {
            for e in &mut avps {
                if e.avp.avp_type() == Some(AvpType::PseudowireType) {
                    e.avp = Avp::PseudowireType(ty);
                }
            }
        }
        p.send(MessageType::Icrq, 0, avps);
        assert!(p.sent(MessageType::Icrp).is_empty(), "{what}");
        assert_eq!(p.result(MessageType::Cdn), Some((result, error)), "{what}");
        let (_, cdn) = p.sent(MessageType::Cdn)[0];
        assert_eq!(cdn.remote_session_id(), Some(&500), "{what}");
        let m = &p.ep.stats().malformed;
        assert_eq!(m.call_parameters + m.body, 1, "{what}: counted once");
    }
}

/// RFC 3931 §5.4.4: an Assigned Cookie of zero length means "no cookie", not a malformed
/// AVP; the call comes up without one.
#[test]
fn an_empty_assigned_cookie_is_no_cookie() {
    let mut p = Peer::establish(Version::V3);
    p.send(
        MessageType::Icrq,
        0,
        p.icrq(500, vec![Avp::AssignedCookie(Cookie::NONE)]),
    );
    assert_eq!(p.sent(MessageType::Icrp).len(), 1, "{:?}", p.sent);
    assert!(p.sent(MessageType::Cdn).is_empty());
}

/// RFC 2661 Appendix B.1 and B.2: no message of ours answers an SCCCN, a HELLO or a StopCCN,
/// so each is acknowledged at once (a ZLB, in L2TPv3 an ACK message), not after the delay that
/// lets an acknowledgement ride on a reply. An ICCN, which the LNS may answer with nothing
/// either but which comes in bursts with other calls' messages, keeps the delay.
#[test]
fn an_scccn_a_hello_and_a_stopccn_are_acknowledged_at_once() {
    /// The Nr of every explicit acknowledgement sent since the last call, which clears them.
    fn acks(p: &mut Peer) -> Vec<u16> {
        let nrs = p
            .sent
            .iter()
            .filter(|(_, m)| {
                m.as_ref()
                    .is_none_or(|m| m.message_type == MessageType::Ack)
            })
            .map(|(h, _)| h.nr)
            .collect();
        p.sent.clear();
        nrs
    }
    for version in [Version::V2, Version::V3] {
        let mut p = Peer::new(version);
        p.send(MessageType::Sccrq, 0, p.sccrq(u32::from(US)));
        let (_, sccrp) = p.sent(MessageType::Sccrp)[0];
        p.tid = match version {
            Version::V2 => u32::from(*sccrp.assigned_tunnel_id().expect("id")),
            Version::V3 => *sccrp.assigned_connection_id().expect("id"),
        };
        p.sent.clear();
        p.send(MessageType::Scccn, 0, Vec::new());
        assert_eq!(acks(&mut p), [2], "{version:?}: SCCCN");
        p.send(MessageType::Icrq, 0, p.icrq(500, Vec::new()));
        assert_eq!(p.sent(MessageType::Icrp).len(), 1, "{version:?}");
        assert_eq!(acks(&mut p), [0u16; 0], "{version:?}: the ICRP carries it");
        let iccn = match version {
            Version::V2 => vec![
                p.avp(Avp::TxConnectSpeed(1_000_000)),
                p.avp(Avp::FramingType(1)),
            ],
            Version::V3 => Vec::new(),
        };
        p.send(MessageType::Iccn, 500, iccn);
        assert_eq!(acks(&mut p), [0u16; 0], "{version:?}: ICCN, delayed");
        p.run(Duration::from_secs(1));
        assert_eq!(acks(&mut p), [4], "{version:?}: ICCN, after the delay");
        p.send(MessageType::Hello, 0, Vec::new());
        assert_eq!(acks(&mut p), [5], "{version:?}: HELLO");
        p.send(
            MessageType::StopCcn,
            0,
            vec![
                p.avp(Avp::AssignedTunnelId(US)),
                p.avp(Avp::ResultCode(ResultCode {
                    result: 1,
                    error: None,
                    message: None,
                })),
            ],
        );
        assert_eq!(acks(&mut p), [6], "{version:?}: StopCCN");
    }
}

/// A retransmitted SCCRQ (the peer has not had our SCCRP yet) reaches the tunnel it made; once
/// the peer has sent its SCCCN, an SCCRQ with the same id from the same address and port is a
/// new control connection: the client connected again (Windows' client and xl2tpd always send
/// from port 1701) while its old tunnel waits out its StopCCN (RFC 2661 §5.7).
#[test]
fn an_sccrq_after_the_handshake_with_the_same_id_opens_a_new_tunnel() {
    for version in [Version::V2, Version::V3] {
        let mut p = Peer::new(version);
        p.send(MessageType::Sccrq, 0, p.sccrq(u32::from(US)));
        p.ns = 0;
        p.send(MessageType::Sccrq, 0, p.sccrq(u32::from(US)));
        assert_eq!(p.ep.tunnel_count(), 1, "{version:?}: a retransmission");

        let mut p = Peer::establish(version);
        let old = p.tid;
        let id = match version {
            Version::V2 => Avp::AssignedTunnelId(US),
            Version::V3 => Avp::AssignedConnectionId(u32::from(US)),
        };
        let result = Avp::ResultCode(ResultCode {
            result: 1,
            error: None,
            message: None,
        });
        p.send(MessageType::StopCcn, 0, vec![p.avp(id), p.avp(result)]);
        (p.tid, p.ns, p.nr) = (0, 0, 0);
        p.sent.clear();
        p.send(MessageType::Sccrq, 0, p.sccrq(u32::from(US)));
        let sccrps = p.sent(MessageType::Sccrp);
        assert_eq!(sccrps.len(), 1, "{version:?}: {:?}", p.sent);
        assert_eq!(
            p.ep.tunnel_count(),
            2,
            "{version:?}: the new one beside the closing one"
        );
        let new = match version {
            Version::V2 => u32::from(*sccrps[0].1.assigned_tunnel_id().expect("id")),
            Version::V3 => *sccrps[0].1.assigned_connection_id().expect("id"),
        };
        assert_ne!(new, old, "{version:?}");
        p.tid = new;
        p.nr = 1;
        p.send(MessageType::Scccn, 0, Vec::new());
        assert_eq!(p.ep.tunnel(new).map(|t| t.is_established()), Some(true));
    }
}
