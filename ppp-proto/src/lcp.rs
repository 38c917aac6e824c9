//! LCP Configuration Options (RFC 1661 §6; ACCM from RFC 1662 §7.1) as this crate negotiates
//! them.
//!
//! Requested by us: the MRU if it is not 1500 (§6.1), an ACCM if configured, the
//! Authentication-Protocol when we authenticate the peer (§6.2, our preferred method first; a
//! Nak toward another allowed method is followed, one toward anything else makes us propose
//! the next allowed method), and a Magic-Number (§6.4).
//!
//! Asked by the peer: an MRU down to a configured minimum (Nak'ed with it below), any ACCM
//! (RFC 2661 §6.14: the LNS learns it only to pass it to the LAC, whose async link applies
//! it), PFC and ACFC (§6.5, §6.6: frames are read in every form anyway), an
//! Authentication-Protocol we can answer with our credentials (else Nak'ed toward one we can,
//! or rejected without credentials; EAP is always Nak'ed), and a Magic-Number (0 or ours is
//! Nak'ed with a new random value, §6.4). Everything else is Configure-Rejected:
//! Quality-Protocol, Callback, Multilink (MRRU, Short Sequence, Endpoint Discriminator), Link
//! Discriminator, Internationalization and unknown types, so that negotiation converges with
//! any peer.

use l2tp_proto::rng::Rng;

use crate::auth::AuthMethod;
use crate::config::LinkConfig;
use crate::event::DownReason;
use crate::fsm::machine::{Answer, NakValue, Negotiator, OptBuf};
use crate::timer::TimerKind;
use crate::wire::{PppOption, protocol};

/// LCP option types (RFC 1661 §6, RFC 1662 §7).
pub mod option {
    /// Maximum-Receive-Unit.
    pub const MRU: u8 = 1;
    /// Async-Control-Character-Map.
    pub const ACCM: u8 = 2;
    /// Authentication-Protocol.
    pub const AUTH: u8 = 3;
    /// Quality-Protocol.
    pub const QUALITY: u8 = 4;
    /// Magic-Number.
    pub const MAGIC: u8 = 5;
    /// Protocol-Field-Compression.
    pub const PFC: u8 = 7;
    /// Address-and-Control-Field-Compression.
    pub const ACFC: u8 = 8;
}

/// The default MRU (RFC 1661 §6.1).
pub(crate) const DEFAULT_MRU: u16 = 1500;

/// An ordered set of at most three authentication methods.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(crate) struct Methods([Option<AuthMethod>; 3]);

impl Methods {
    pub(crate) fn new(list: &[AuthMethod]) -> Self {
        let mut out = Self::default();
        let mut n = 0;
        for m in list {
            if n < 3 && !out.contains(*m) {
                out.0[n] = Some(*m);
                n += 1;
            }
        }
        out
    }

    pub(crate) fn contains(&self, m: AuthMethod) -> bool {
        self.0.contains(&Some(m))
    }

    pub(crate) fn first(&self) -> Option<AuthMethod> {
        self.0[0]
    }

    fn first_not_in(&self, mask: u8) -> Option<AuthMethod> {
        self.0
            .iter()
            .flatten()
            .copied()
            .find(|m| mask & m.bit() == 0)
    }
}

/// LCP's option state: what we request and what the peer's acknowledged request said.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LcpOptions {
    // Configuration, copied in so that the link needs no borrow of its profile here.
    mru: u16,
    min_peer_mru: u16,
    accm: Option<u32>,
    accept_compression: bool,
    magic: bool,
    authenticate_peer: Methods,
    can_answer: Methods,
    // What we request.
    want_mru: Option<u16>,
    want_accm: Option<u32>,
    want_auth: Option<AuthMethod>,
    /// Methods the peer turned down in this negotiation.
    auth_refused: u8,
    want_magic: bool,
    pub(crate) local_magic: u32,
    // What the peer asked for and we acknowledged.
    pub(crate) peer_mru: u16,
    pub(crate) peer_accm: Option<u32>,
    pub(crate) peer_magic: u32,
    pub(crate) peer_pfc: bool,
    pub(crate) peer_acfc: bool,
    pub(crate) auth_self: Option<AuthMethod>,
    // Loop-back detection (RFC 1661 §6.4).
    last_naked_magic: u32,
    pub(crate) loops: u8,
}

impl LcpOptions {
    pub(crate) fn new(config: &LinkConfig, rng: &mut dyn Rng) -> Self {
        let can_answer = if config.credentials.is_some() {
            Methods::new(&config.accept_auth)
        } else {
            Methods::default()
        };
        let mut s = Self {
            mru: config.lcp.mru,
            min_peer_mru: config.lcp.min_peer_mru,
            accm: config.lcp.accm,
            accept_compression: config.lcp.accept_compression,
            magic: config.lcp.magic,
            authenticate_peer: Methods::new(&config.authenticate_peer),
            can_answer,
            want_mru: None,
            want_accm: None,
            want_auth: None,
            auth_refused: 0,
            want_magic: false,
            local_magic: random_magic(rng, 0),
            peer_mru: DEFAULT_MRU,
            peer_accm: None,
            peer_magic: 0,
            peer_pfc: false,
            peer_acfc: false,
            auth_self: None,
            last_naked_magic: 0,
            loops: 0,
        };
        s.restart();
        s
    }

    /// The method we authenticate the peer with, as negotiated.
    pub(crate) fn auth_peer(&self) -> Option<AuthMethod> {
        self.want_auth
    }

    /// Sets the MRU to request in place of the configuration's (1500 is not requested).
    pub(crate) fn set_mru(&mut self, mru: u16) {
        self.mru = mru;
        self.want_mru = (mru != DEFAULT_MRU).then_some(mru);
    }

    /// Our MRU as requested.
    pub(crate) fn local_mru(&self) -> u16 {
        self.want_mru.unwrap_or(DEFAULT_MRU)
    }

    /// Our ACCM as requested.
    pub(crate) fn local_accm(&self) -> Option<u32> {
        self.want_accm
    }

    /// Whether the profile authenticates the peer with `m`.
    pub(crate) fn allows_auth_peer(&self, m: AuthMethod) -> bool {
        self.authenticate_peer.contains(m)
    }

    /// Whether the profile authenticates the peer at all.
    pub(crate) fn authenticates_peer(&self) -> bool {
        self.authenticate_peer.first().is_some()
    }

    /// Our side of a negotiation that another party ran (RFC 2661 §4.4.5 proxy LCP): these
    /// are the values our request carried and the peer acknowledged.
    pub(crate) fn set_proxied_request(
        &mut self,
        mru: Option<u16>,
        accm: Option<u32>,
        auth: Option<AuthMethod>,
        magic: Option<u32>,
    ) {
        self.want_mru = mru;
        self.want_accm = accm;
        self.want_auth = auth;
        self.want_magic = magic.is_some();
        if let Some(m) = magic {
            self.local_magic = m;
        }
    }

    /// Our Magic-Number if negotiated, else 0 (RFC 1661 §6.4: zero where none was).
    pub(crate) fn magic(&self) -> u32 {
        if self.want_magic { self.local_magic } else { 0 }
    }
}

impl Negotiator for LcpOptions {
    const PROTOCOL: u16 = protocol::LCP;
    const TIMER: TimerKind = TimerKind::LcpRestart;

    fn restart(&mut self) {
        self.want_mru = (self.mru != DEFAULT_MRU).then_some(self.mru);
        self.want_accm = self.accm;
        self.want_auth = self.authenticate_peer.first();
        self.auth_refused = 0;
        self.want_magic = self.magic;
        self.peer_mru = DEFAULT_MRU;
        self.peer_accm = None;
        self.peer_magic = 0;
        self.peer_pfc = false;
        self.peer_acfc = false;
        self.auth_self = None;
    }

    fn request(&self, out: &mut OptBuf) {
        if let Some(mru) = self.want_mru {
            out.option(option::MRU, &mru.to_be_bytes());
        }
        if let Some(accm) = self.want_accm {
            out.option(option::ACCM, &accm.to_be_bytes());
        }
        if let Some(m) = self.want_auth {
            out.option(option::AUTH, m.option_value());
        }
        if self.want_magic {
            out.option(option::MAGIC, &self.local_magic.to_be_bytes());
        }
    }

    fn check(&self, o: PppOption<'_>, rng: &mut dyn Rng) -> Answer {
        match (o.kind, o.value.len()) {
            (option::MRU, 2) => {
                let mru = o.u16().unwrap_or(0);
                if mru < self.min_peer_mru {
                    Answer::Nak(NakValue::new(&self.min_peer_mru.to_be_bytes()))
                } else {
                    Answer::Ack
                }
            }
            (option::ACCM, 4) => Answer::Ack,
            (option::AUTH, 2..) => match AuthMethod::from_option_value(o.value) {
                Some(m) if self.can_answer.contains(m) => Answer::Ack,
                _ => match self.can_answer.first() {
                    Some(best) => Answer::Nak(NakValue::new(best.option_value())),
                    None => Answer::Reject,
                },
            },
            (option::MAGIC, 4) => {
                let magic = o.u32().unwrap_or(0);
                if magic == 0 || (self.want_magic && magic == self.local_magic) {
                    let fresh = random_magic(rng, self.local_magic);
                    Answer::Nak(NakValue::new(&fresh.to_be_bytes()))
                } else {
                    Answer::Ack
                }
            }
            (option::PFC | option::ACFC, 0) if self.accept_compression => Answer::Ack,
            _ => Answer::Reject,
        }
    }

    fn accept(&mut self, o: PppOption<'_>) {
        match o.kind {
            option::MRU => self.peer_mru = o.u16().unwrap_or(DEFAULT_MRU),
            option::ACCM => self.peer_accm = o.u32(),
            option::AUTH => self.auth_self = AuthMethod::from_option_value(o.value),
            option::MAGIC => self.peer_magic = o.u32().unwrap_or(0),
            option::PFC => self.peer_pfc = true,
            option::ACFC => self.peer_acfc = true,
            _ => {}
        }
    }

    fn naked(&mut self, kind: u8, value: &[u8]) {
        if kind == option::MAGIC {
            self.last_naked_magic = value.try_into().map(u32::from_be_bytes).unwrap_or(0);
        }
    }

    fn nak(&mut self, o: PppOption<'_>, rng: &mut dyn Rng) -> Result<(), DownReason> {
        match o.kind {
            option::MRU => {
                // The peer would rather we received another size: take it if sane and no
                // larger than what we can take without fragmenting the lower layer (ours, or
                // the 1500 every end must receive: RFC 1661 §6.1). A larger one is not taken:
                // we ask for ours again, and Max-Failure bounds a peer that insists.
                match o.u16() {
                    Some(m) if m > self.mru.max(DEFAULT_MRU) => {}
                    Some(m) if m >= 128 && m != DEFAULT_MRU => self.want_mru = Some(m),
                    _ => self.want_mru = None,
                }
            }
            option::ACCM => {
                // Map what both sides want mapped (RFC 1662 §7.1).
                if let (Some(ours), Some(theirs)) = (self.want_accm, o.u32()) {
                    self.want_accm = Some(ours | theirs);
                }
            }
            option::AUTH if self.want_auth.is_some() => {
                let suggested = AuthMethod::from_option_value(o.value);
                if suggested == self.want_auth {
                    // A Nak toward what we asked for says nothing new: ask again.
                    return Ok(());
                }
                self.auth_refused |= self.want_auth.map_or(0, AuthMethod::bit);
                self.want_auth = match suggested {
                    Some(m)
                        if self.authenticate_peer.contains(m)
                            && self.auth_refused & m.bit() == 0 =>
                    {
                        Some(m)
                    }
                    _ => self.authenticate_peer.first_not_in(self.auth_refused),
                };
                if self.want_auth.is_none() {
                    return Err(DownReason::AuthNotNegotiated);
                }
            }
            option::MAGIC if self.want_magic => {
                // Our own Nak coming back means a loop is likelier (RFC 1661 §6.4); either
                // way a new number is chosen.
                let suggested = o.u32().unwrap_or(0);
                if suggested != 0 && suggested == self.last_naked_magic {
                    self.loops = self.loops.saturating_add(1);
                }
                self.local_magic = random_magic(rng, suggested);
            }
            _ => {}
        }
        Ok(())
    }

    fn reject(&mut self, o: PppOption<'_>) -> Result<(), DownReason> {
        match o.kind {
            option::MRU => self.want_mru = None,
            option::ACCM => self.want_accm = None,
            option::AUTH => return Err(DownReason::AuthNotNegotiated),
            // A rejected Magic-Number: the link is not looped back; go on without one
            // (RFC 1661 §6.4).
            option::MAGIC => self.want_magic = false,
            _ => {}
        }
        Ok(())
    }
}

/// A random non-zero Magic-Number different from `not` (with a fallback for a generator that
/// keeps returning those).
fn random_magic(rng: &mut dyn Rng, not: u32) -> u32 {
    (0..8)
        .map(|_| rng.next_u32())
        .find(|&m| m != 0 && m != not)
        .unwrap_or((not ^ 0x5a5a_5a5a) | 1)
}
