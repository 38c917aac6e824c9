//! IPv6CP Configuration Options (RFC 5072 §4).
//!
//! Both ends negotiate an Interface-Identifier (§4.1): ours is random (the "u" bit clear) unless
//! the host sets one. A peer asking for zero, for ours (a collision), for one the host says
//! another link's peer uses (links that share one interface need their peers' link-local
//! addresses apart: [`crate::Link::handle_frame_with`]), or for another than the one the host
//! assigned is Nak'ed with a non-zero suggestion different from ours and free; both zero is
//! rejected. A Nak from the peer gives us its suggestion, unless it repeats the one we last
//! suggested, in which case we choose a new random identifier. A peer that asks for none is
//! given the host's assignment, if any, in a Nak, once. IPv6-Compression-Protocol
//! and unknown options are rejected.

use l2tp_proto::rng::Rng;

use crate::config::{InterfaceId, Ipv6Params};
use crate::event::{DownReason, Ipv6Info};
use crate::fsm::machine::{Answer, NakValue, Negotiator, OptBuf};
use crate::timer::TimerKind;
use crate::wire::{ControlPacket, OptionIter, PppOption, code, protocol};

/// IPv6CP option types.
pub mod option {
    /// Interface-Identifier (RFC 5072 §4.1).
    pub const INTERFACE_ID: u8 = 1;
    /// IPv6-Compression-Protocol (RFC 5072, formerly §4.2); rejected.
    pub const COMPRESSION: u8 = 2;
}

/// IPv6CP's option state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ipv6cpOptions {
    pub(crate) params: Ipv6Params,
    /// Our tentative identifier (non-zero).
    local: u64,
    send_id: bool,
    /// The peer's acknowledged identifier.
    peer: u64,
    last_naked: u64,
    /// An identifier was suggested in a Nak in this negotiation.
    hinted: bool,
    /// The identifier the peer's Configure-Request being answered asks for, when the host
    /// says another link's peer uses it (0: none); set by [`Ipv6cpOptions::vet`].
    taken: u64,
    /// A random suggestion the host found free, for that request (0: none).
    fresh: u64,
}

impl Ipv6cpOptions {
    pub(crate) fn new(params: Ipv6Params, rng: &mut dyn Rng) -> Self {
        let local = match params.local {
            Some(id) if id.to_u64() != 0 => id.to_u64(),
            _ => random_id(rng, 0),
        };
        Self {
            params,
            local,
            send_id: true,
            peer: 0,
            last_naked: 0,
            hinted: false,
            taken: 0,
            fresh: 0,
        }
    }

    /// Looks at a received IPv6CP packet (`info`, after the Protocol field) before the
    /// automaton answers it: when it is a Configure-Request for an identifier that
    /// `peer_id_taken` says is in use, it will be Nak'ed with a random one that is not (and is
    /// neither zero nor ours); so will one for zero or for ours. Anything else clears what the
    /// last request left. An identifier the host assigned to the peer that `peer_id_taken`
    /// now says is in use (another link's peer took it first) is given up for good: the peer
    /// is then answered as one with no assignment.
    pub(crate) fn vet(
        &mut self,
        info: &[u8],
        rng: &mut dyn Rng,
        peer_id_taken: &dyn Fn(InterfaceId) -> bool,
    ) {
        self.taken = 0;
        self.fresh = 0;
        if self
            .params
            .peer
            .is_some_and(|a| a.to_u64() != 0 && peer_id_taken(a))
        {
            self.params.peer = None;
        }
        let Ok(p) = ControlPacket::parse(info) else {
            return;
        };
        if p.code != code::CONFIGURE_REQUEST || OptionIter::validate(p.data).is_err() {
            return;
        }
        let Some(id) = OptionIter::new(p.data)
            .flatten()
            .filter(|o| o.kind == option::INTERFACE_ID)
            .find_map(|o| <[u8; 8]>::try_from(o.value).ok())
            .map(u64::from_be_bytes)
        else {
            return;
        };
        let taken = id != 0 && id != self.local && peer_id_taken(InterfaceId::from_u64(id));
        if taken {
            self.taken = id;
        } else if id != 0 && id != self.local {
            // Acceptable as it is: no suggestion needed.
            return;
        }
        // A few draws; 2^-63 per draw of hitting an identifier in use by chance.
        self.fresh = (0..8)
            .map(|_| random_id(rng, self.local))
            .find(|c| *c != id && !peer_id_taken(InterfaceId::from_u64(*c)))
            .unwrap_or(0);
    }

    /// What was negotiated, for the up event. A peer that rejected our identifier leaves us
    /// ours all the same (RFC 5072 §5 leaves the recovery open): it is non-zero and not the
    /// peer's, and the link-local address needs one.
    pub(crate) fn info(&self) -> Ipv6Info {
        Ipv6Info {
            local: InterfaceId::from_u64(self.local),
            peer: InterfaceId::from_u64(self.peer),
        }
    }

    /// The peer's identifier we acknowledged last in this negotiation (0: none yet).
    pub(crate) fn acked_peer(&self) -> u64 {
        self.peer
    }

    /// Takes new parameters from the host.
    pub(crate) fn set_params(&mut self, params: Ipv6Params) {
        self.params = params;
        if let Some(id) = params.local.filter(|id| id.to_u64() != 0) {
            self.local = id.to_u64();
        }
    }

    /// The identifier to suggest to the peer: the host's, or a random one (free, when the
    /// host was asked); never ours.
    fn suggestion(&self, rng: &mut dyn Rng) -> u64 {
        match self.params.peer.map(InterfaceId::to_u64) {
            Some(id) if id != 0 && id != self.local => id,
            _ if self.fresh != 0 => self.fresh,
            _ => random_id(rng, self.local),
        }
    }
}

impl Negotiator for Ipv6cpOptions {
    const PROTOCOL: u16 = protocol::IPV6CP;
    const TIMER: TimerKind = TimerKind::Ipv6cpRestart;

    fn restart(&mut self) {
        self.send_id = true;
        self.peer = 0;
        self.hinted = false;
    }

    fn request(&self, out: &mut OptBuf) {
        if self.send_id {
            out.option(option::INTERFACE_ID, &self.local.to_be_bytes());
        }
    }

    fn check(&self, o: PppOption<'_>, rng: &mut dyn Rng) -> Answer {
        let id = match (o.kind, <[u8; 8]>::try_from(o.value)) {
            (option::INTERFACE_ID, Ok(v)) => u64::from_be_bytes(v),
            _ => return Answer::Reject,
        };
        let ours = if self.send_id { self.local } else { 0 };
        let assigned = self
            .params
            .peer
            .map(InterfaceId::to_u64)
            .filter(|a| *a != 0);
        let taken = self.taken != 0 && id == self.taken && assigned.is_none();
        if id == 0 && ours == 0 {
            Answer::Reject
        } else if id == 0 || id == ours || taken || assigned.is_some_and(|a| a != id) {
            Answer::Nak(NakValue::new(&self.suggestion(rng).to_be_bytes()))
        } else {
            Answer::Ack
        }
    }

    fn accept(&mut self, o: PppOption<'_>) {
        if let (option::INTERFACE_ID, Ok(v)) = (o.kind, <[u8; 8]>::try_from(o.value)) {
            self.peer = u64::from_be_bytes(v);
        }
    }

    fn hint(&self, request: &[u8], out: &mut OptBuf) {
        // RFC 5072 §4.1: the identifier assigned to a peer that does not ask for one is
        // appended to a Nak, once.
        let asks = OptionIter::new(request)
            .flatten()
            .any(|o| o.kind == option::INTERFACE_ID);
        let assigned = self.params.peer.map(InterfaceId::to_u64);
        if let (Some(id), false, false) = (
            assigned.filter(|a| *a != 0 && *a != self.local),
            asks,
            self.hinted,
        ) {
            out.option(option::INTERFACE_ID, &id.to_be_bytes());
        }
    }

    fn naked(&mut self, kind: u8, value: &[u8]) {
        if kind == option::INTERFACE_ID {
            self.last_naked = value.try_into().map(u64::from_be_bytes).unwrap_or(0);
            self.hinted = true;
        }
    }

    fn nak(&mut self, o: PppOption<'_>, rng: &mut dyn Rng) -> Result<(), DownReason> {
        if let (option::INTERFACE_ID, Ok(v)) = (o.kind, <[u8; 8]>::try_from(o.value)) {
            let suggested = u64::from_be_bytes(v);
            self.local = if suggested == 0 || suggested == self.last_naked {
                random_id(rng, suggested)
            } else {
                suggested
            };
        }
        Ok(())
    }

    fn reject(&mut self, o: PppOption<'_>) -> Result<(), DownReason> {
        if o.kind == option::INTERFACE_ID {
            self.send_id = false;
        }
        Ok(())
    }
}

/// A random non-zero identifier with the "u" bit clear (RFC 5072 §4.1), different from `not`.
fn random_id(rng: &mut dyn Rng, not: u64) -> u64 {
    const U_BIT: u64 = 0x0200_0000_0000_0000;
    (0..8)
        .map(|_| rng.next_u64() & !U_BIT)
        .find(|&id| id != 0 && id != not)
        .unwrap_or(((not ^ 0x5a5a_5a5a_5a5a_5a5a) | 1) & !U_BIT)
}
