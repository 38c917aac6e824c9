//! One link against a scripted peer: raw frames in, frames out. Option handling of each
//! protocol (what is acknowledged, Nak'ed and rejected), the LCP codes outside the automaton,
//! Protocol-Reject, the verdict API, and malformed input of every protocol.

use std::sync::Arc;
use std::time::Duration;

use l2tp_proto::rng::DeterministicRng;
use l2tp_proto::time::Instant;

use super::util::{PASSWORD, USER, client_config, lns_config, lns_network};
use crate::auth::{AuthMethod, AuthenticatorResponse, Verdict};
use crate::config::InterfaceId;
use crate::event::{DownReason, Event};
use crate::fsm::State;
use crate::link::{Link, Phase, VerdictError};
use crate::wire::{ControlPacket, code, protocol, split_protocol};

/// A frame: FF 03, protocol, code, id, length, data.
pub(crate) fn frame(proto: u16, code: u8, id: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xff, 0x03];
    f.extend_from_slice(&proto.to_be_bytes());
    f.extend_from_slice(&[code, id]);
    f.extend_from_slice(&((data.len() + 4) as u16).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// A frame the link sent, decoded.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct Out {
    pub(crate) proto: u16,
    pub(crate) code: u8,
    pub(crate) id: u8,
    pub(crate) data: Vec<u8>,
}

pub(crate) struct One {
    pub(crate) link: Link,
    pub(crate) now: Instant,
    pub(crate) rng: DeterministicRng,
    pub(crate) events: Vec<Event>,
}

impl One {
    pub(crate) fn new(config: crate::config::LinkConfig) -> Self {
        let mut rng = DeterministicRng::new(99);
        let link = Link::new(Arc::new(config), &mut rng);
        Self {
            link,
            now: Instant::from_secs(1),
            rng,
            events: Vec::new(),
        }
    }

    pub(crate) fn send(&mut self, f: &[u8]) -> Vec<Out> {
        self.link.handle_frame(self.now, f, &mut self.rng);
        self.take()
    }

    pub(crate) fn take(&mut self) -> Vec<Out> {
        let mut out = Vec::new();
        while let Some(f) = self.link.poll_transmit() {
            let (proto, info) = split_protocol(f).unwrap_or((0, &[]));
            let p = ControlPacket::parse(info).unwrap_or_else(|e| panic!("we sent {f:02x?}: {e}"));
            assert_eq!(
                &f[..2],
                &[0xff, 0x03],
                "control frames are never compressed"
            );
            out.push(Out {
                proto,
                code: p.code,
                id: p.identifier,
                data: p.data.to_vec(),
            });
        }
        while let Some(e) = self.link.poll_event() {
            self.events.push(e);
        }
        out
    }

    /// Sends the peer's IPv6CP Configure-Request `id` with `opts`, the host saying which
    /// identifiers other links' peers hold; the code and data of the first answer.
    pub(crate) fn ipv6cp_request_with(
        &mut self,
        id: u8,
        opts: &[u8],
        taken: &dyn Fn(InterfaceId) -> bool,
    ) -> (u8, Vec<u8>) {
        let f = frame(protocol::IPV6CP, 1, id, opts);
        self.link
            .handle_frame_with(self.now, &f, &mut self.rng, taken);
        let out = self.take();
        (out[0].code, out[0].data.clone())
    }

    pub(crate) fn advance(&mut self, d: Duration) -> Vec<Out> {
        self.now += d;
        self.link.handle_timeout(self.now);
        self.take()
    }

    /// Opens the link and completes LCP with a peer asking for nothing but `peer_options`.
    pub(crate) fn opened(
        config: crate::config::LinkConfig,
        peer_options: &[u8],
    ) -> (Self, Vec<Out>) {
        let mut one = Self::new(config);
        let now = one.now;
        one.link.set_network(lns_network());
        one.link.open(now);
        let out = one.take();
        let req = out
            .iter()
            .find(|o| o.proto == protocol::LCP && o.code == 1)
            .cloned();
        let req = req.unwrap_or_else(|| panic!("no Configure-Request: {out:?}"));
        let answer = one.send(&frame(protocol::LCP, 1, 0x40, peer_options));
        assert_eq!(answer[0].code, code::CONFIGURE_ACK, "{answer:?}");
        let after = one.send(&frame(protocol::LCP, 2, req.id, &req.data));
        assert_eq!(one.link.lcp_state(), State::Opened);
        (one, after)
    }
}

const MAGIC: [u8; 6] = [5, 6, 0x12, 0x34, 0x56, 0x78];

#[test]
fn windows_options_are_rejected_and_negotiation_converges() {
    let mut one = One::new(lns_config(&[AuthMethod::MsChapV2]));
    let now = one.now;
    one.link.open(now);
    let _ = one.take();
    // A Windows client's first request: MRU, Magic-Number, PFC, ACFC, Callback (13),
    // MRRU (17), Endpoint Discriminator (19), plus Short Sequence (18), Link
    // Discriminator (23), Internationalization (28) and Quality-Protocol (4).
    let mut opts = vec![1, 4, 0x05, 0x78];
    opts.extend_from_slice(&MAGIC);
    opts.extend_from_slice(&[7, 2, 8, 2, 13, 3, 6, 17, 4, 0x06, 0x4e, 18, 2]);
    opts.extend_from_slice(&[19, 9, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    opts.extend_from_slice(&[23, 4, 0, 1, 28, 7, 0, 0, 0, 106, b'e']);
    opts.extend_from_slice(&[4, 8, 0xc0, 0x25, 0, 0, 0, 10]);
    let out = one.send(&frame(protocol::LCP, 1, 1, &opts));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].code, code::CONFIGURE_REJECT);
    let rejected: Vec<u8> = crate::wire::OptionIter::new(&out[0].data)
        .flatten()
        .map(|o| o.kind)
        .collect();
    assert_eq!(rejected, vec![13, 17, 18, 19, 23, 28, 4]);
    // The client drops them: acknowledged, with PFC and ACFC.
    let mut again = vec![1, 4, 0x05, 0x78];
    again.extend_from_slice(&MAGIC);
    again.extend_from_slice(&[7, 2, 8, 2]);
    let out = one.send(&frame(protocol::LCP, 1, 2, &again));
    assert_eq!(out[0].code, code::CONFIGURE_ACK);
    assert_eq!(out[0].data, again);
}

#[test]
fn lcp_option_answers() {
    let mut one = One::new(client_config(PASSWORD));
    let now = one.now;
    one.link.open(now);
    let _ = one.take();
    let nak = |one: &mut One, opts: &[u8]| {
        let out = one.send(&frame(protocol::LCP, 1, 2, opts));
        assert_eq!(out[0].code, code::CONFIGURE_NAK, "{opts:02x?}: {out:?}");
        out[0].data.clone()
    };
    // An MRU below the minimum is Nak'ed with it.
    assert_eq!(nak(&mut one, &[1, 4, 0, 64]), vec![1, 4, 0, 128]);
    // EAP is Nak'ed toward the best method we can answer (MS-CHAPv2).
    assert_eq!(
        nak(&mut one, &[3, 4, 0xc2, 0x27]),
        vec![3, 5, 0xc2, 0x23, 0x81]
    );
    // MS-CHAPv1 (0x80) too.
    assert_eq!(
        nak(&mut one, &[3, 5, 0xc2, 0x23, 0x80]),
        vec![3, 5, 0xc2, 0x23, 0x81]
    );
    // A zero Magic-Number is Nak'ed with a non-zero one.
    let v = nak(&mut one, &[5, 6, 0, 0, 0, 0]);
    assert_eq!(v[..2], [5, 6]);
    assert_ne!(v[2..], [0, 0, 0, 0]);
    // Options of the wrong size are rejected.
    let out = one.send(&frame(protocol::LCP, 1, 3, &[1, 3, 5, 7, 3, 0xc0]));
    assert_eq!(out[0].code, code::CONFIGURE_REJECT);
    assert_eq!(out[0].data, vec![1, 3, 5, 7, 3, 0xc0]);
    // ACCM, PAP and CHAP-MD5 are acknowledged.
    for ok in [
        &[2, 6, 0, 0, 0, 0][..],
        &[3, 4, 0xc0, 0x23],
        &[3, 5, 0xc2, 0x23, 5],
    ] {
        let out = one.send(&frame(protocol::LCP, 1, 4, ok));
        assert_eq!(out[0].code, code::CONFIGURE_ACK, "{ok:02x?}");
    }
    // Without credentials, Authentication-Protocol is rejected.
    let mut config = client_config(PASSWORD);
    config.credentials = None;
    let mut one = One::new(config);
    let now = one.now;
    one.link.open(now);
    let _ = one.take();
    let out = one.send(&frame(protocol::LCP, 1, 2, &[3, 4, 0xc0, 0x23]));
    assert_eq!(out[0].code, code::CONFIGURE_REJECT);
}

#[test]
fn our_request_follows_naks_and_rejects() {
    let mut config = lns_config(&[AuthMethod::MsChapV2, AuthMethod::ChapMd5]);
    config.lcp.mru = 1400;
    config.lcp.accm = Some(0);
    let mut one = One::new(config);
    let now = one.now;
    one.link.open(now);
    let out = one.take();
    let first = &out[0];
    assert_eq!(
        first.data[..15],
        [1, 4, 0x05, 0x78, 2, 6, 0, 0, 0, 0, 3, 5, 0xc2, 0x23, 0x81]
    );
    // The peer Naks MRU 1200, ACCM 0x000a0000 and CHAP-MD5; rejects nothing yet.
    let nak = [1, 4, 0x04, 0xb0, 2, 6, 0, 0x0a, 0, 0, 3, 5, 0xc2, 0x23, 5];
    let out = one.send(&frame(protocol::LCP, 3, first.id, &nak));
    let second = &out[0];
    assert_eq!(second.code, code::CONFIGURE_REQUEST);
    assert_ne!(second.id, first.id);
    assert_eq!(
        second.data[..15],
        [1, 4, 0x04, 0xb0, 2, 6, 0, 0x0a, 0, 0, 3, 5, 0xc2, 0x23, 5]
    );
    // It rejects the Magic-Number and the ACCM: the request goes on without them.
    let magic = second.data[15..].to_vec();
    let mut rej = vec![2, 6, 0, 0x0a, 0, 0];
    rej.extend_from_slice(&magic);
    let out = one.send(&frame(protocol::LCP, 4, second.id, &rej));
    assert_eq!(out[0].data, vec![1, 4, 0x04, 0xb0, 3, 5, 0xc2, 0x23, 5]);
}

/// A Nak toward a larger MRU than ours (and than the 1500 every end receives) is not taken:
/// the peer's packets would no longer fit the lower layer. A Nak toward a smaller one is.
#[test]
fn a_nak_toward_a_larger_mru_is_not_taken() {
    let mut config = lns_config(&[AuthMethod::ChapMd5]);
    config.lcp.mru = 1400;
    let mut one = One::new(config);
    let now = one.now;
    one.link.open(now);
    let first = one.take().remove(0);
    assert_eq!(first.data[..4], [1, 4, 0x05, 0x78]);
    // 1600: ask for 1400 again.
    let out = one.send(&frame(protocol::LCP, 3, first.id, &[1, 4, 0x06, 0x40]));
    let second = &out[0];
    assert_eq!(second.code, code::CONFIGURE_REQUEST);
    assert_eq!(second.data[..4], [1, 4, 0x05, 0x78]);
    // 1500 (no larger than every end receives): the option goes, as pppd does.
    let out = one.send(&frame(protocol::LCP, 3, second.id, &[1, 4, 0x05, 0xdc]));
    let third = &out[0];
    assert_ne!(third.data[..2], [1, 4]);
    // 1200: taken.
    let out = one.send(&frame(protocol::LCP, 3, third.id, &[1, 4, 0x04, 0xb0]));
    assert_eq!(out[0].data[..4], [1, 4, 0x04, 0xb0]);
}

/// A link's own MRU (one that depends on its lower layer) replaces its config's; 1500 is not
/// requested (RFC 1661 §6.1).
#[test]
fn a_links_own_mru_is_requested_in_place_of_the_configs() {
    for (mru, first) in [
        (1456, vec![1, 4, 0x05, 0xb0]),
        (1500, vec![3, 5, 0xc2, 0x23]),
    ] {
        let mut one = One::new(lns_config(&[AuthMethod::ChapMd5]));
        one.link.set_mru(mru);
        let now = one.now;
        one.link.open(now);
        let out = one.take();
        assert_eq!(out[0].data[..4], first[..], "{mru}");
    }
}

#[test]
fn lcp_codes_outside_the_automaton() {
    let (mut one, _) = One::opened(lns_config(&[]), &MAGIC);
    // Echo-Request: a reply with our Magic-Number and the rest of the data.
    let out = one.send(&frame(
        protocol::LCP,
        code::ECHO_REQUEST,
        7,
        &[0x12, 0x34, 0x56, 0x78, 1, 2, 3],
    ));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].code, out[0].id), (code::ECHO_REPLY, 7));
    assert_eq!(out[0].data[4..], [1, 2, 3]);
    assert_ne!(out[0].data[..4], [0, 0, 0, 0]);
    // Discard-Request, Identification and Time-Remaining: nothing.
    for c in [
        code::DISCARD_REQUEST,
        code::IDENTIFICATION,
        code::TIME_REMAINING,
    ] {
        assert!(
            one.send(&frame(protocol::LCP, c, 1, &[0x12, 0x34, 0x56, 0x78, b'x']))
                .is_empty()
        );
    }
    // An unknown code: Code-Reject carrying the packet.
    let out = one.send(&frame(protocol::LCP, 99, 5, &[1, 2]));
    assert_eq!(out[0].code, code::CODE_REJECT);
    assert_eq!(out[0].data, vec![99, 5, 0, 6, 1, 2]);
    // A Code-Reject of our Echo-Request: no more echoes.
    let _ = one.send(&frame(
        protocol::LCP,
        code::CODE_REJECT,
        1,
        &[9, 0, 0, 8, 0, 0, 0, 0],
    ));
    let out = one.advance(Duration::from_secs(300));
    assert!(out.iter().all(|o| o.code != code::ECHO_REQUEST), "{out:?}");
    assert_eq!(one.link.lcp_state(), State::Opened);
}

#[test]
fn other_protocols_are_rejected_only_in_the_network_phase() {
    let (mut one, _) = One::opened(lns_config(&[AuthMethod::Pap]), &MAGIC);
    assert_eq!(one.link.phase(), Phase::Authenticate);
    let ccp = frame(protocol::CCP, 1, 1, &[0x12, 6, 0, 0, 0, 1]);
    assert!(
        one.send(&ccp).is_empty(),
        "discarded while authenticating (RFC 1661 §3.5)"
    );
    assert!(
        one.send(&frame(protocol::IPCP, 1, 1, &[3, 6, 0, 0, 0, 0]))
            .is_empty()
    );
    // The peer authenticates.
    let mut pap = vec![USER.len() as u8];
    pap.extend_from_slice(USER);
    pap.push(PASSWORD.len() as u8);
    pap.extend_from_slice(PASSWORD.as_bytes());
    assert!(one.send(&frame(protocol::PAP, 1, 3, &pap)).is_empty());
    let Some(Event::Authenticate(req)) = one
        .events
        .iter()
        .rev()
        .find(|e| matches!(e, Event::Authenticate(_)))
        .cloned()
    else {
        panic!("{:?}", one.events)
    };
    let now = one.now;
    assert_eq!(
        one.link
            .auth_verdict(now, crate::auth::AuthId(999), Verdict::accept()),
        Err(VerdictError::NoSuchRequest)
    );
    one.link
        .auth_verdict(now, req.id, req.verify(&PASSWORD.into()))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = one.take();
    assert_eq!(
        (out[0].proto, out[0].code, out[0].id),
        (protocol::PAP, 2, 3)
    );
    assert_eq!(one.link.phase(), Phase::Network);
    // A repeated request gets the same answer.
    let out = one.send(&frame(protocol::PAP, 1, 4, &pap));
    assert_eq!(
        (out[0].proto, out[0].code, out[0].id),
        (protocol::PAP, 2, 4)
    );
    // CCP and an unknown protocol: Protocol-Reject with the protocol and the information.
    let out = one.send(&ccp);
    assert_eq!(
        (out[0].proto, out[0].code),
        (protocol::LCP, code::PROTOCOL_REJECT)
    );
    assert_eq!(out[0].data, [0x80, 0xfd, 1, 1, 0, 10, 0x12, 6, 0, 0, 0, 1]);
    let out = one.send(&[0xff, 0x03, 0x00, 0x3d, 1, 2, 3]);
    assert_eq!(out[0].data, [0x00, 0x3d, 1, 2, 3]);
    assert_eq!(one.link.counters().protocol_rejects, 2);
    // Data frames handed to the link are not its business.
    assert!(one.send(&[0x21, 0x45, 0, 0, 20]).is_empty());
}

#[test]
fn ipcp_option_answers() {
    let (mut one, _) = One::opened(lns_config(&[]), &MAGIC);
    assert_eq!(one.link.phase(), Phase::Network);
    let ask = |one: &mut One, opts: &[u8]| {
        let out = one.send(&frame(protocol::IPCP, 1, 9, opts));
        (out[0].code, out[0].data.clone())
    };
    // 0.0.0.0 and DNS: Nak'ed with the assignment and the servers.
    let (c, d) = ask(
        &mut one,
        &[3, 6, 0, 0, 0, 0, 129, 6, 0, 0, 0, 0, 131, 6, 0, 0, 0, 0],
    );
    assert_eq!(c, code::CONFIGURE_NAK);
    assert_eq!(
        d,
        [
            3, 6, 198, 51, 100, 10, 129, 6, 203, 0, 113, 53, 131, 6, 203, 0, 113, 54
        ]
    );
    // Another address: Nak'ed too; the assigned one: acknowledged.
    assert_eq!(
        ask(&mut one, &[3, 6, 198, 51, 100, 99]).1,
        [3, 6, 198, 51, 100, 10]
    );
    assert_eq!(
        ask(&mut one, &[3, 6, 198, 51, 100, 10]).0,
        code::CONFIGURE_ACK
    );
    // NBNS (none configured), VJ compression, the old IP-Addresses: rejected.
    let (c, d) = ask(
        &mut one,
        &[
            3, 6, 198, 51, 100, 10, 130, 6, 0, 0, 0, 0, 2, 6, 0, 0x2d, 15, 1, 1, 10, 0, 0, 0, 0, 0,
            0, 0, 0,
        ],
    );
    assert_eq!(c, code::CONFIGURE_REJECT);
    assert_eq!(
        d,
        [
            130, 6, 0, 0, 0, 0, 2, 6, 0, 0x2d, 15, 1, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0
        ]
    );
}

/// An LNS link opened, and the interface identifier of its own IPv6CP Configure-Request.
fn opened_with_ipv6cp() -> (One, Vec<u8>) {
    let (one, out) = One::opened(lns_config(&[]), &MAGIC);
    let ours = out
        .iter()
        .find(|o| o.proto == protocol::IPV6CP)
        .map(|o| o.data[2..10].to_vec())
        .unwrap_or_default();
    (one, ours)
}

/// A peer that Configure-Rejects our Interface-Identifier: the request goes on without it
/// (RFC 5072 §4.1), and the link still has our identifier for its own link-local address
/// (§5 leaves the recovery open), never zero (`fe80::` is no host's address).
#[test]
fn a_rejected_interface_id_is_still_ours() {
    let (mut one, out) = One::opened(lns_config(&[]), &MAGIC);
    let Some(first) = out.iter().find(|o| o.proto == protocol::IPV6CP) else {
        panic!("no IPv6CP request")
    };
    let ours = first.data[2..10].to_vec();
    let out = one.send(&frame(
        protocol::IPV6CP,
        code::CONFIGURE_REJECT,
        first.id,
        &first.data,
    ));
    let again = &out[0];
    assert_eq!((again.code, again.data.len()), (code::CONFIGURE_REQUEST, 0));
    let _ = one.send(&frame(protocol::IPV6CP, code::CONFIGURE_ACK, again.id, &[]));
    let out = one.send(&frame(
        protocol::IPV6CP,
        1,
        7,
        &[1, 10, 1, 2, 3, 4, 5, 6, 7, 8],
    ));
    assert_eq!(out[0].code, code::CONFIGURE_ACK);
    let up = one.events.iter().find_map(|e| match e {
        Event::Ipv6Up(info) => Some(*info),
        _ => None,
    });
    let Some(up) = up else {
        panic!("IPv6CP not up: {:?}", one.events)
    };
    assert_eq!(up.local.to_u64().to_be_bytes()[..], ours[..]);
    assert_eq!(up.peer.to_u64(), 0x0102_0304_0506_0708);
}

#[test]
fn ipv6cp_option_answers() {
    let (mut one, ours) = opened_with_ipv6cp();
    let ask = |one: &mut One, opts: &[u8]| {
        let out = one.send(&frame(protocol::IPV6CP, 1, 9, opts));
        (out[0].code, out[0].data.clone())
    };
    // Zero, or ours: Nak'ed with a non-zero identifier that is not ours.
    let mut collide = vec![1, 10];
    collide.extend_from_slice(&ours);
    for req in [vec![1, 10, 0, 0, 0, 0, 0, 0, 0, 0], collide] {
        let (c, d) = ask(&mut one, &req);
        assert_eq!(c, code::CONFIGURE_NAK);
        assert_ne!(d[2..], [0; 8]);
        assert_ne!(d[2..], ours[..]);
    }
    // Another: acknowledged. Compression: rejected.
    assert_eq!(
        ask(&mut one, &[1, 10, 1, 2, 3, 4, 5, 6, 7, 8]).0,
        code::CONFIGURE_ACK
    );
    assert_eq!(
        ask(&mut one, &[2, 6, 0, 0x4f, 0, 0]).0,
        code::CONFIGURE_REJECT
    );
}

#[test]
fn an_interface_id_another_links_peer_uses_is_naked_with_a_free_one() {
    let (mut one, ours) = opened_with_ipv6cp();
    // Another session's peer has 1::2 (fe80::1:0:0:2); the first random suggestion the link
    // draws is made taken too, so that it must draw again.
    let in_use = InterfaceId([0, 1, 0, 0, 0, 0, 0, 2]);
    let first = std::cell::Cell::new(None);
    let taken = |id: InterfaceId| {
        if id == in_use {
            return true;
        }
        // The first other identifier asked about is "in use" as well.
        if first.get().is_none() {
            first.set(Some(id));
        }
        first.get() == Some(id)
    };
    let ask = |one: &mut One, id: u8, opts: &[u8]| one.ipv6cp_request_with(id, opts, &taken);
    let (c, d) = ask(&mut one, 9, &[1, 10, 0, 1, 0, 0, 0, 0, 0, 2]);
    assert_eq!(c, code::CONFIGURE_NAK);
    let suggested = InterfaceId(d[2..10].try_into().unwrap_or_default());
    assert_ne!(suggested, in_use);
    assert_ne!(suggested.0[..], ours[..]);
    assert_ne!(suggested.to_u64(), 0);
    assert_ne!(
        Some(suggested),
        first.get(),
        "a suggestion the host said is taken"
    );
    assert_eq!(suggested.0[0] & 0x02, 0, "the u bit is clear");
    // The peer takes it: acknowledged.
    let (c, d) = ask(&mut one, 10, &d);
    assert_eq!(c, code::CONFIGURE_ACK);
    assert_eq!(d[2..10], suggested.0);
    // Without the host's word (`handle_frame`), the same identifier is acknowledged: only a
    // shared interface needs the peers apart.
    let (mut two, _) = One::opened(lns_config(&[]), &MAGIC);
    let out = two.send(&frame(
        protocol::IPV6CP,
        1,
        9,
        &[1, 10, 0, 1, 0, 0, 0, 0, 0, 2],
    ));
    assert_eq!(out[0].code, code::CONFIGURE_ACK);
}

/// The host assigned the peer an identifier (RADIUS's Framed-Interface-Id, say) that another
/// link's peer took before this one asked for it: the assignment is given up, the peer asking
/// for it is Nak'ed with a free one, and its next request is acknowledged.
#[test]
fn an_assigned_interface_id_another_links_peer_took_is_given_up() {
    let (mut one, ours) = opened_with_ipv6cp();
    let assigned = InterfaceId([0, 2, 0, 0, 0, 0, 0, 9]);
    let mut network = super::util::lns_network();
    network.ipv6.peer = Some(assigned);
    one.link.set_network(network);
    let taken = |id: InterfaceId| id == assigned;
    let ask = |one: &mut One, id: u8, opts: &[u8]| one.ipv6cp_request_with(id, opts, &taken);
    let mut request = vec![1, 10];
    request.extend_from_slice(&assigned.0);
    let (c, d) = ask(&mut one, 9, &request);
    assert_eq!(c, code::CONFIGURE_NAK);
    let suggested = InterfaceId(d[2..10].try_into().unwrap_or_default());
    assert_ne!(suggested, assigned);
    assert_ne!(suggested.0[..], ours[..]);
    assert_ne!(suggested.to_u64(), 0);
    let (c, _) = ask(&mut one, 10, &d);
    assert_eq!(c, code::CONFIGURE_ACK);
    // Had it asked for an identifier of its own, that would do as well.
    let (c, _) = ask(&mut one, 11, &[1, 10, 0, 0, 0, 0, 0, 0, 0x77, 0x77]);
    assert_eq!(c, code::CONFIGURE_ACK);
}

#[test]
fn mschapv2_verdicts() {
    let (mut one, out) = One::opened(lns_config(&[AuthMethod::MsChapV2]), &MAGIC);
    let challenge = out.iter().find(|o| o.proto == protocol::CHAP).cloned();
    let challenge = challenge.unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(challenge.data[0], 16);
    assert_eq!(&challenge.data[17..], b"lns");
    let mut value = vec![49];
    value.extend_from_slice(&[7; 49]);
    value.extend_from_slice(b"DOMAIN\\alice");
    assert!(
        one.send(&frame(protocol::CHAP, 2, challenge.id, &value))
            .is_empty()
    );
    let Some(Event::Authenticate(req)) = one.events.last().cloned() else {
        panic!("{:?}", one.events)
    };
    assert_eq!(req.user, b"DOMAIN\\alice");
    let now = one.now;
    assert_eq!(
        one.link.auth_verdict(now, req.id, Verdict::accept()),
        Err(VerdictError::MissingAuthenticatorResponse)
    );
    let r = AuthenticatorResponse([0xab; 20]);
    one.link
        .auth_verdict(
            now,
            req.id,
            Verdict::Accept {
                authenticator_response: Some(r),
                message: None,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let out = one.take();
    assert_eq!(out[0].code, 3);
    assert_eq!(out[0].data, format!("{r} M=Access granted").into_bytes());
    // A lost Success: the repeated Response gets it again.
    let out = one.send(&frame(protocol::CHAP, 2, challenge.id, &value));
    assert_eq!(out[0].data, format!("{r} M=Access granted").into_bytes());

    // A rejection: E=691 R=0 C=<our challenge> V=3 M=..., then the link closes.
    let (mut one, out) = One::opened(lns_config(&[AuthMethod::MsChapV2]), &MAGIC);
    let challenge = out
        .iter()
        .find(|o| o.proto == protocol::CHAP)
        .cloned()
        .unwrap_or_else(|| panic!());
    assert!(
        one.send(&frame(protocol::CHAP, 2, challenge.id, &value))
            .is_empty()
    );
    let Some(Event::Authenticate(req)) = one.events.last().cloned() else {
        panic!()
    };
    let now = one.now;
    one.link
        .auth_verdict(now, req.id, Verdict::reject("Denied"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = one.take();
    let hex: String = challenge.data[1..17]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(out[0].code, 4);
    assert_eq!(
        out[0].data,
        format!("E=691 R=0 C={hex} V=3 M=Denied").into_bytes()
    );
    let f = crate::auth::wire::MsChapV2Failure::parse(&out[0].data);
    assert_eq!((f.error, f.retry, f.version), (Some(691), false, Some(3)));
    assert_eq!(
        (out[1].proto, out[1].code),
        (protocol::LCP, code::TERMINATE_REQUEST)
    );
    assert_eq!(one.link.down_reason(), Some(DownReason::AuthFailed));
    match &req.credentials {
        crate::auth::PeerCredentials::MsChapV2 { identifier, .. } => {
            assert_eq!(*identifier, challenge.id)
        }
        other => panic!("{other:?}"),
    }

    // A RADIUS server's MS-CHAP-Error goes out as it is.
    let (mut one, out) = One::opened(lns_config(&[AuthMethod::MsChapV2]), &MAGIC);
    let challenge = out.iter().find(|o| o.proto == protocol::CHAP).cloned();
    let challenge = challenge.unwrap_or_else(|| panic!());
    assert!(
        one.send(&frame(protocol::CHAP, 2, challenge.id, &value))
            .is_empty()
    );
    let Some(Event::Authenticate(req)) = one.events.last().cloned() else {
        panic!()
    };
    let radius = "E=648 R=0 C=00112233445566778899AABBCCDDEEFF V=3 M=Password expired";
    let now = one.now;
    one.link
        .auth_verdict(now, req.id, Verdict::reject(radius))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(one.take()[0].data, radius.as_bytes());
}

#[test]
fn the_peer_checks_the_authenticator_response() {
    let (mut one, _) = One::opened(
        client_config(PASSWORD),
        &[3, 5, 0xc2, 0x23, 0x81, 5, 6, 1, 2, 3, 4],
    );
    assert_eq!(one.link.phase(), Phase::Authenticate);
    let mut ch = vec![16];
    ch.extend_from_slice(&[0x5a; 16]);
    ch.extend_from_slice(b"lns");
    let out = one.send(&frame(protocol::CHAP, 1, 77, &ch));
    assert_eq!(
        (out[0].proto, out[0].code, out[0].id),
        (protocol::CHAP, 2, 77)
    );
    assert_eq!(out[0].data[0], 49);
    assert_eq!(&out[0].data[50..], USER);
    // A repeated Challenge gets the very same Response.
    let again = one.send(&frame(protocol::CHAP, 1, 77, &ch));
    assert_eq!(again[0].data, out[0].data);
    // A Success whose S= is wrong ends the link (RFC 2759 §5).
    let bad = format!("{} M=hi", AuthenticatorResponse([1; 20]));
    let _ = one.send(&frame(protocol::CHAP, 3, 77, bad.as_bytes()));
    assert_eq!(
        one.link.down_reason(),
        Some(DownReason::AuthenticatorInvalid)
    );
}

/// Malformed packets of every protocol, in every phase: counted, never a panic, never an
/// answer other than the RFC's.
#[test]
fn malformed_packets_of_every_protocol() {
    let bad_infos: &[&[u8]] = &[
        &[],
        &[1],
        &[1, 1, 0],
        &[1, 1, 0, 3],
        &[1, 1, 0, 200, 1, 2],
        &[1, 1, 0, 6, 1, 9],
        &[1, 1, 0, 6, 3, 0],
        &[2, 0, 0, 5, 1],
        &[3, 0, 0, 6, 1, 1],
        &[4, 0, 0, 5, 7],
        &[7, 1, 0, 4],
        &[8, 1, 0, 5, 0xc0],
        &[9, 1, 0, 6, 0, 0],
        &[10, 1, 0, 4],
        &[1, 1, 0, 5, 5],
        &[2, 1, 0, 6, 60, 1],
    ];
    let protos = [
        protocol::LCP,
        protocol::PAP,
        protocol::CHAP,
        protocol::IPCP,
        protocol::IPV6CP,
        protocol::CCP,
    ];
    for config in [
        lns_config(&[AuthMethod::MsChapV2]),
        lns_config(&[AuthMethod::Pap]),
        lns_config(&[]),
        client_config(PASSWORD),
    ] {
        let (mut one, _) = One::opened(config, &MAGIC);
        for proto in protos {
            for info in bad_infos {
                let mut f = vec![0xff, 0x03];
                f.extend_from_slice(&proto.to_be_bytes());
                f.extend_from_slice(info);
                let out = one.send(&f);
                for o in &out {
                    // Only a Code-Reject, a Protocol-Reject or a Configure answer can be due.
                    assert!(
                        matches!(o.code, 2..=4 | 6 | 7 | 8 | 10) || o.proto != proto,
                        "{proto:04x} {info:02x?}: {o:?}"
                    );
                }
            }
        }
        assert!(one.link.counters().malformed > 10);
        assert!(one.link.counters().frames_in as usize >= protos.len() * bad_infos.len());
    }
    // Bad headers.
    let (mut one, _) = One::opened(lns_config(&[]), &MAGIC);
    for f in [&[][..], &[0xff], &[0xff, 0x05, 0xc0, 0x21], &[0x00, 0x00]] {
        assert!(one.send(f).is_empty());
    }
    assert_eq!(one.link.counters().malformed, 4);
}

#[test]
fn a_repeated_challenge_has_a_new_identifier() {
    let (mut one, out) = One::opened(lns_config(&[AuthMethod::ChapMd5]), &MAGIC);
    let first = out.iter().find(|o| o.proto == protocol::CHAP).cloned();
    let first = first.unwrap_or_else(|| panic!("{out:?}"));
    let again = one.advance(Duration::from_secs(3));
    let second = again.iter().find(|o| o.proto == protocol::CHAP).cloned();
    let second = second.unwrap_or_else(|| panic!("{again:?}"));
    // RFC 1994 §4.1: the Identifier MUST change each time a Challenge is sent.
    assert_eq!(second.id, first.id.wrapping_add(1));
    assert_eq!(second.data, first.data);
    // A Response to the first Challenge is stale now.
    let mut value = vec![16];
    value.extend_from_slice(&[1; 16]);
    value.extend_from_slice(USER);
    assert!(
        one.send(&frame(protocol::CHAP, 2, first.id, &value))
            .is_empty()
    );
    assert!(
        !one.events
            .iter()
            .any(|e| matches!(e, Event::Authenticate(_)))
    );
    assert!(
        one.send(&frame(protocol::CHAP, 2, second.id, &value))
            .is_empty()
    );
    assert!(
        one.events
            .iter()
            .any(|e| matches!(e, Event::Authenticate(_)))
    );
}

#[test]
fn a_peer_that_asks_for_no_address_is_told_once() {
    let (mut one, _) = One::opened(lns_config(&[]), &MAGIC);
    // No IP-Address: Nak'ed with the assignment appended (RFC 1332 §3.3), after its DNS.
    let out = one.send(&frame(protocol::IPCP, 1, 1, &[129, 6, 203, 0, 113, 53]));
    assert_eq!(out[0].code, code::CONFIGURE_NAK);
    assert_eq!(out[0].data, [3, 6, 198, 51, 100, 10]);
    // The peer does not take the hint: not again; the request is acknowledged.
    let out = one.send(&frame(protocol::IPCP, 1, 2, &[129, 6, 203, 0, 113, 53]));
    assert_eq!(out[0].code, code::CONFIGURE_ACK);
    // Likewise the interface identifier the host assigned (RFC 5072 §4.1).
    let (mut one, _) = One::opened(lns_config(&[]), &MAGIC);
    let mut params = lns_network();
    params.ipv6.peer = Some(super::util::iid(0x0200_0000_0000_0001));
    one.link.set_network(params);
    let out = one.send(&frame(protocol::IPV6CP, 1, 1, &[]));
    assert_eq!(out[0].code, code::CONFIGURE_NAK);
    assert_eq!(out[0].data, [1, 10, 2, 0, 0, 0, 0, 0, 0, 1]);
    let out = one.send(&frame(protocol::IPV6CP, 1, 2, &[]));
    assert_eq!(out[0].code, code::CONFIGURE_ACK);
}
