//! IPCP Configuration Options (RFC 1332 §3, RFC 1877).
//!
//! Requested by us: IP-Address (§3.3) with our address, or 0.0.0.0 to be given one (the
//! peer's Nak names it), and, when configured, the primary and secondary DNS and NBNS
//! addresses as 0.0.0.0 (RFC 1877: the peer Naks with its servers; a Reject stops asking).
//!
//! Asked by the peer: IP-Address (Nak'ed with the address the host assigned when it asks for
//! another or for 0.0.0.0, and appended to a Nak, once, when it does not ask, §3.3; without an
//! assignment a non-zero address is kept and 0.0.0.0 is rejected), DNS and NBNS (Nak'ed with the configured servers, rejected when there are
//! none). IP-Addresses (§3.1, deprecated), IP-Compression-Protocol (§3.2, Van Jacobson) and
//! unknown options are rejected.

use std::net::Ipv4Addr;

use l2tp_proto::rng::Rng;

use crate::config::{Ipv4Config, Ipv4Params};
use crate::event::{DownReason, Ipv4Info};
use crate::fsm::machine::{Answer, NakValue, Negotiator, OptBuf};
use crate::timer::TimerKind;
use crate::wire::{OptionIter, PppOption, protocol};

/// IPCP option types.
pub mod option {
    /// IP-Addresses (RFC 1332 §3.1, deprecated).
    pub const IP_ADDRESSES: u8 = 1;
    /// IP-Compression-Protocol (RFC 1332 §3.2).
    pub const IP_COMPRESSION: u8 = 2;
    /// IP-Address (RFC 1332 §3.3).
    pub const IP_ADDRESS: u8 = 3;
    /// Primary DNS Server Address (RFC 1877 §1.1).
    pub const PRIMARY_DNS: u8 = 129;
    /// Primary NBNS Server Address (RFC 1877 §1.2).
    pub const PRIMARY_NBNS: u8 = 130;
    /// Secondary DNS Server Address (RFC 1877 §1.3).
    pub const SECONDARY_DNS: u8 = 131;
    /// Secondary NBNS Server Address (RFC 1877 §1.4).
    pub const SECONDARY_NBNS: u8 = 132;
}

/// Which server option: (is DNS, index 0 or 1).
fn server(kind: u8) -> Option<(bool, usize)> {
    match kind {
        option::PRIMARY_DNS => Some((true, 0)),
        option::SECONDARY_DNS => Some((true, 1)),
        option::PRIMARY_NBNS => Some((false, 0)),
        option::SECONDARY_NBNS => Some((false, 1)),
        _ => None,
    }
}

const SERVER_KINDS: [(u8, bool, usize); 4] = [
    (option::PRIMARY_DNS, true, 0),
    (option::SECONDARY_DNS, true, 1),
    (option::PRIMARY_NBNS, false, 0),
    (option::SECONDARY_NBNS, false, 1),
];

/// IPCP's option state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IpcpOptions {
    pub(crate) params: Ipv4Params,
    request_dns: bool,
    request_nbns: bool,
    // What we request.
    send_address: bool,
    local: u32,
    /// DNS then NBNS, primary then secondary: `Some(0)` asks, `Some(a)` repeats a Nak's value.
    servers: [[Option<u32>; 2]; 2],
    // What the peer asked for and we acknowledged.
    peer: u32,
    /// The peer's address was hinted in a Nak in this negotiation.
    hinted: bool,
}

impl IpcpOptions {
    pub(crate) fn new(config: &Ipv4Config) -> Self {
        let mut s = Self {
            params: config.defaults,
            request_dns: config.request_dns,
            request_nbns: config.request_nbns,
            send_address: true,
            local: 0,
            servers: [[None; 2]; 2],
            peer: 0,
            hinted: false,
        };
        s.restart();
        s
    }

    /// What was negotiated, for the up event.
    pub(crate) fn info(&self) -> Ipv4Info {
        let addr = |v: Option<u32>| v.filter(|a| *a != 0).map(Ipv4Addr::from);
        Ipv4Info {
            local: Ipv4Addr::from(self.local),
            peer: Ipv4Addr::from(self.peer),
            dns: [addr(self.servers[0][0]), addr(self.servers[0][1])],
            nbns: [addr(self.servers[1][0]), addr(self.servers[1][1])],
        }
    }

    fn given(&self, dns: bool, i: usize) -> Option<Ipv4Addr> {
        if dns {
            self.params.dns[i]
        } else {
            self.params.nbns[i]
        }
    }
}

impl Negotiator for IpcpOptions {
    const PROTOCOL: u16 = protocol::IPCP;
    const TIMER: TimerKind = TimerKind::IpcpRestart;

    fn restart(&mut self) {
        self.send_address = true;
        self.local = self.params.local.map_or(0, u32::from);
        let ask = |yes: bool| {
            if yes {
                [Some(0), Some(0)]
            } else {
                [None, None]
            }
        };
        self.servers = [ask(self.request_dns), ask(self.request_nbns)];
        self.peer = 0;
        self.hinted = false;
    }

    fn request(&self, out: &mut OptBuf) {
        if self.send_address {
            out.option(option::IP_ADDRESS, &self.local.to_be_bytes());
        }
        for (kind, dns, i) in SERVER_KINDS {
            if let Some(a) = self.servers[usize::from(!dns)][i] {
                out.option(kind, &a.to_be_bytes());
            }
        }
    }

    fn check(&self, o: PppOption<'_>, _rng: &mut dyn Rng) -> Answer {
        let Some(asked) = o.u32() else {
            return Answer::Reject;
        };
        let nak = |a: Ipv4Addr| Answer::Nak(NakValue::new(&a.octets()));
        match o.kind {
            option::IP_ADDRESS => match self.params.peer {
                Some(p) if u32::from(p) == asked => Answer::Ack,
                Some(p) => nak(p),
                None if asked != 0 => Answer::Ack,
                None => Answer::Reject,
            },
            kind => match server(kind).and_then(|(dns, i)| self.given(dns, i)) {
                Some(a) if u32::from(a) == asked => Answer::Ack,
                Some(a) => nak(a),
                None => Answer::Reject,
            },
        }
    }

    fn accept(&mut self, o: PppOption<'_>) {
        if o.kind == option::IP_ADDRESS {
            self.peer = o.u32().unwrap_or(0);
        }
    }

    fn hint(&self, request: &[u8], out: &mut OptBuf) {
        // RFC 1332 §3.3: a peer that does not ask for an address is told the one assigned to
        // it, once.
        let asks = OptionIter::new(request)
            .flatten()
            .any(|o| o.kind == option::IP_ADDRESS);
        if let (Some(p), false, false) = (self.params.peer, asks, self.hinted) {
            out.option(option::IP_ADDRESS, &p.octets());
        }
    }

    fn naked(&mut self, kind: u8, _value: &[u8]) {
        if kind == option::IP_ADDRESS {
            self.hinted = true;
        }
    }

    fn nak(&mut self, o: PppOption<'_>, _rng: &mut dyn Rng) -> Result<(), DownReason> {
        let Some(value) = o.u32() else {
            return Ok(());
        };
        match o.kind {
            // Our address is ours to keep when the host set it; otherwise take the peer's.
            option::IP_ADDRESS if self.params.local.is_none() && value != 0 => self.local = value,
            kind => {
                if let Some((dns, i)) = server(kind) {
                    let slot = &mut self.servers[usize::from(!dns)][i];
                    if slot.is_some() {
                        *slot = Some(value);
                    }
                }
            }
        }
        Ok(())
    }

    fn reject(&mut self, o: PppOption<'_>) -> Result<(), DownReason> {
        match o.kind {
            option::IP_ADDRESS => self.send_address = false,
            kind => {
                if let Some((dns, i)) = server(kind) {
                    self.servers[usize::from(!dns)][i] = None;
                }
            }
        }
        Ok(())
    }
}
