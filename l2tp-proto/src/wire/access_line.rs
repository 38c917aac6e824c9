//! Access Line Information AVPs (RFC 5515 §5): what a LAC (a BRAS) learnt of a subscriber's
//! DSL line from the access node, sent in the ICRQ so that the LNS can pass it on to RADIUS.
//! They are vendor AVPs of the Broadband (ADSL) Forum, Vendor ID 3561.
//!
//! The AVPs are optional: a value of the wrong length is left out (it is no session's
//! business to refuse a call over line facts), and the M bit, which a LAC MAY set to insist
//! that the LNS knows them (RFC 5515 §5), is honoured for the types below.

use std::fmt;

use super::avp::Avp;
use super::avp::types::RawValue;
use super::message::{AvpEntry, Message};

/// The IANA enterprise number of the Broadband (ADSL) Forum (RFC 5515 §5).
pub const VENDOR_BROADBAND_FORUM: u16 = 3561;

/// Attribute Types of the Access Line Information AVPs (RFC 5515 §5.1–§5.19).
pub mod attr {
    /// Agent-Circuit-Id (§5.1), 2 to 63 octets of text.
    pub const AGENT_CIRCUIT_ID: u16 = 1;
    /// Agent-Remote-Id (§5.2), 2 to 63 octets of text.
    pub const AGENT_REMOTE_ID: u16 = 2;
    /// Actual-Data-Rate-Upstream (§5.3); the data rates run to 138, 64 bits each, bit/s.
    pub const ACTUAL_DATA_RATE_UPSTREAM: u16 = 129;
    /// Minimum-Data-Rate-Downstream-Low-Power (§5.12), the last of the data rates.
    pub const MINIMUM_DATA_RATE_DOWNSTREAM_LOW_POWER: u16 = 138;
    /// Maximum-Interleaving-Delay-Upstream (§5.13); the delays run to 142, 32 bits each, ms.
    pub const MAXIMUM_INTERLEAVING_DELAY_UPSTREAM: u16 = 139;
    /// Actual-Interleaving-Delay-Downstream (§5.16), the last of the delays.
    pub const ACTUAL_INTERLEAVING_DELAY_DOWNSTREAM: u16 = 142;
    /// Access-Loop-Encapsulation (§5.17), 3 octets.
    pub const ACCESS_LOOP_ENCAPSULATION: u16 = 144;
    /// ANCP Access Line Type (§5.18), 4 octets.
    pub const ANCP_ACCESS_LINE_TYPE: u16 = 145;
    /// IWF-Session (§5.19), 4 octets.
    pub const IWF_SESSION: u16 = 254;
}

/// The data rates of §5.3–§5.12, in the order of their Attribute Types (129–138).
pub const RATE_NAMES: [&str; 10] = [
    "actual_data_rate_upstream",
    "actual_data_rate_downstream",
    "minimum_data_rate_upstream",
    "minimum_data_rate_downstream",
    "attainable_data_rate_upstream",
    "attainable_data_rate_downstream",
    "maximum_data_rate_upstream",
    "maximum_data_rate_downstream",
    "minimum_data_rate_upstream_low_power",
    "minimum_data_rate_downstream_low_power",
];

/// The interleaving delays of §5.13–§5.16, in the order of their Attribute Types (139–142).
pub const DELAY_NAMES: [&str; 4] = [
    "maximum_interleaving_delay_upstream",
    "actual_interleaving_delay_upstream",
    "maximum_interleaving_delay_downstream",
    "actual_interleaving_delay_downstream",
];

/// Whether `(vendor, attr_type)` is an Access Line Information AVP this crate decodes.
pub fn is_known(vendor_id: u16, attr_type: u16) -> bool {
    vendor_id == VENDOR_BROADBAND_FORUM
        && matches!(
            attr_type,
            attr::AGENT_CIRCUIT_ID | attr::AGENT_REMOTE_ID | attr::ACTUAL_DATA_RATE_UPSTREAM
                ..=attr::ACTUAL_INTERLEAVING_DELAY_DOWNSTREAM
                    | attr::ACCESS_LOOP_ENCAPSULATION
                    | attr::ANCP_ACCESS_LINE_TYPE
                    | attr::IWF_SESSION
        )
}

/// The Access Line Information of one call (RFC 5515 §5). Absent AVPs are `None`.
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct AccessLine {
    /// Agent-Circuit-Id: the access node and the subscriber's port on it (§5.1).
    pub agent_circuit_id: Option<Vec<u8>>,
    /// Agent-Remote-Id: the operator's identifier of the subscriber (§5.2).
    pub agent_remote_id: Option<Vec<u8>>,
    /// The data rates in bit/s (§5.3–§5.12), in the order of [`RATE_NAMES`].
    pub rates: [Option<u64>; 10],
    /// The interleaving delays in ms (§5.13–§5.16), in the order of [`DELAY_NAMES`].
    pub delays: [Option<u32>; 4],
    /// Access-Loop-Encapsulation: data link, encapsulation 1 and 2 (§5.17).
    pub encapsulation: Option<[u8; 3]>,
    /// ANCP Access Line Type: the transmission system (§5.18; its first octet).
    pub line_type: Option<u8>,
    /// IWF-Session: whether an interworking function was performed (§5.19).
    pub iwf_session: Option<bool>,
}

impl AccessLine {
    /// The Access Line Information AVPs of `msg`; `None` when it has none.
    pub fn of_message(msg: &Message) -> Option<Box<AccessLine>> {
        let mut line = AccessLine::default();
        let mut any = false;
        for entry in &msg.avps {
            if let Avp::Raw(raw) = &entry.avp
                && raw.vendor_id == VENDOR_BROADBAND_FORUM
            {
                any |= line.take(raw.attr_type, &raw.value);
            }
        }
        any.then(|| Box::new(line))
    }

    /// Records one AVP's value; returns whether it was one of ours with a valid length.
    fn take(&mut self, attr_type: u16, v: &[u8]) -> bool {
        let text = |v: &[u8]| (2..=63).contains(&v.len()).then(|| v.to_vec());
        match attr_type {
            attr::AGENT_CIRCUIT_ID => set(&mut self.agent_circuit_id, text(v)),
            attr::AGENT_REMOTE_ID => set(&mut self.agent_remote_id, text(v)),
            attr::ACTUAL_DATA_RATE_UPSTREAM..=attr::MINIMUM_DATA_RATE_DOWNSTREAM_LOW_POWER => {
                let i = usize::from(attr_type - attr::ACTUAL_DATA_RATE_UPSTREAM);
                set(
                    &mut self.rates[i],
                    <[u8; 8]>::try_from(v).ok().map(u64::from_be_bytes),
                )
            }
            attr::MAXIMUM_INTERLEAVING_DELAY_UPSTREAM
                ..=attr::ACTUAL_INTERLEAVING_DELAY_DOWNSTREAM => {
                let i = usize::from(attr_type - attr::MAXIMUM_INTERLEAVING_DELAY_UPSTREAM);
                set(&mut self.delays[i], u32_of(v))
            }
            attr::ACCESS_LOOP_ENCAPSULATION => {
                set(&mut self.encapsulation, <[u8; 3]>::try_from(v).ok())
            }
            attr::ANCP_ACCESS_LINE_TYPE => set(
                &mut self.line_type,
                v.first().copied().filter(|_| v.len() == 4),
            ),
            attr::IWF_SESSION => set(&mut self.iwf_session, u32_of(v).map(|n| n != 0)),
            _ => false,
        }
    }

    /// Appends these facts to `msg` as Access Line Information AVPs, M bit clear (RFC 5515
    /// §5: an LNS that does not know them ignores them).
    pub fn push_to(&self, msg: &mut Message) {
        let mut push = |attr_type: u16, value: Vec<u8>| msg.avps.push(entry(attr_type, value));
        if let Some(v) = &self.agent_circuit_id {
            push(attr::AGENT_CIRCUIT_ID, v.clone());
        }
        if let Some(v) = &self.agent_remote_id {
            push(attr::AGENT_REMOTE_ID, v.clone());
        }
        for (attr_type, rate) in (attr::ACTUAL_DATA_RATE_UPSTREAM..).zip(self.rates) {
            if let Some(r) = rate {
                push(attr_type, r.to_be_bytes().to_vec());
            }
        }
        for (attr_type, delay) in (attr::MAXIMUM_INTERLEAVING_DELAY_UPSTREAM..).zip(self.delays) {
            if let Some(d) = delay {
                push(attr_type, d.to_be_bytes().to_vec());
            }
        }
        if let Some(e) = self.encapsulation {
            push(attr::ACCESS_LOOP_ENCAPSULATION, e.to_vec());
        }
        if let Some(t) = self.line_type {
            push(attr::ANCP_ACCESS_LINE_TYPE, vec![t, 0, 0, 0]);
        }
        if let Some(iwf) = self.iwf_session {
            push(attr::IWF_SESSION, u32::from(iwf).to_be_bytes().to_vec());
        }
    }

    /// The facts as `name=value` pairs (text values as they are when printable, else `hex:`),
    /// for logs and views.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(v) = &self.agent_circuit_id {
            out.push(("agent_circuit_id", text(v)));
        }
        if let Some(v) = &self.agent_remote_id {
            out.push(("agent_remote_id", text(v)));
        }
        for (name, rate) in RATE_NAMES.iter().zip(self.rates) {
            if let Some(r) = rate {
                out.push((name, r.to_string()));
            }
        }
        for (name, delay) in DELAY_NAMES.iter().zip(self.delays) {
            if let Some(d) = delay {
                out.push((name, d.to_string()));
            }
        }
        if let Some([link, e1, e2]) = self.encapsulation {
            out.push((
                "access_loop_encapsulation",
                format!("{link:02x}{e1:02x}{e2:02x}"),
            ));
        }
        if let Some(t) = self.line_type {
            out.push(("access_line_type", t.to_string()));
        }
        if let Some(iwf) = self.iwf_session {
            out.push(("iwf_session", iwf.to_string()));
        }
        out
    }
}

impl fmt::Display for AccessLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.pairs().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

/// An Access Line AVP of `attr_type`, M bit clear.
fn entry(attr_type: u16, value: Vec<u8>) -> AvpEntry {
    AvpEntry {
        mandatory: false,
        hidden: false,
        avp: Avp::Raw(RawValue {
            vendor_id: VENDOR_BROADBAND_FORUM,
            attr_type,
            value,
        }),
        padding: Vec::new(),
    }
}

/// Keeps the first valid value of an AVP that comes twice; returns whether `value` was valid.
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    let valid = value.is_some();
    if slot.is_none() {
        *slot = value;
    }
    valid
}

fn u32_of(v: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(v).ok().map(u32::from_be_bytes)
}

/// Printable ASCII as it is, anything else as `hex:` and its octets.
fn text(v: &[u8]) -> String {
    if v.iter().all(|b| (0x20..0x7f).contains(b)) {
        String::from_utf8_lossy(v).into_owned()
    } else {
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        format!("hex:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::Version;
    use crate::wire::message::{DecodeContext, MessageType};

    fn full() -> AccessLine {
        let mut rates = [None; 10];
        rates[0] = Some(1_024_000);
        rates[1] = Some(80_000_000_000); // more than 32 bits
        AccessLine {
            agent_circuit_id: Some(b"dslam-7 eth 1/4:100".to_vec()),
            agent_remote_id: Some(b"subscriber-4711".to_vec()),
            rates,
            delays: [Some(16), Some(8), None, Some(2)],
            encapsulation: Some([1, 2, 0]),
            line_type: Some(5),
            iwf_session: Some(false),
        }
    }

    fn round_trip(line: &AccessLine, mandatory: bool) -> Message {
        let mut msg = Message::new(MessageType::Icrq);
        msg.push(Avp::AssignedSessionId(7), Version::V2);
        msg.push(Avp::CallSerialNumber(1), Version::V2);
        line.push_to(&mut msg);
        for e in msg.avps.iter_mut().skip(2) {
            e.mandatory = mandatory;
        }
        let mut body = Vec::new();
        msg.encode_body(None, &mut body)
            .unwrap_or_else(|e| panic!("{e}"));
        let ctx = DecodeContext {
            version: Some(Version::V2),
            hiding_key: None,
        };
        Message::decode(&body, ctx).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_fact_survives_the_wire() {
        let line = full();
        let back = round_trip(&line, false);
        assert_eq!(AccessLine::of_message(&back).as_deref(), Some(&line));
        assert_eq!(
            line.to_string(),
            "agent_circuit_id=dslam-7 eth 1/4:100 agent_remote_id=subscriber-4711 \
             actual_data_rate_upstream=1024000 actual_data_rate_downstream=80000000000 \
             maximum_interleaving_delay_upstream=16 actual_interleaving_delay_upstream=8 \
             actual_interleaving_delay_downstream=2 access_loop_encapsulation=010200 \
             access_line_type=5 iwf_session=false"
        );
    }

    #[test]
    fn with_the_m_bit_set_they_are_known_so_the_message_stands() {
        // RFC 5515 §5: a LAC MAY set the M bit so that an LNS that does not know the AVPs
        // refuses the call; this one knows them.
        let back = round_trip(&full(), true);
        assert_eq!(AccessLine::of_message(&back).as_deref(), Some(&full()));
    }

    #[test]
    fn values_of_the_wrong_length_are_left_out() {
        let mut msg = Message::new(MessageType::Icrq);
        for (attr_type, value) in [
            (attr::AGENT_CIRCUIT_ID, vec![b'x']),          // under 2 octets
            (attr::AGENT_REMOTE_ID, vec![b'y'; 64]),       // over 63
            (attr::ACTUAL_DATA_RATE_UPSTREAM, vec![0; 4]), // 32 bits, not 64
            (attr::IWF_SESSION, vec![1]),
            (attr::ACCESS_LOOP_ENCAPSULATION, vec![1, 2]),
        ] {
            msg.avps.push(entry(attr_type, value));
        }
        assert_eq!(AccessLine::of_message(&msg), None);
        // Another vendor's AVP of the same number is not ours.
        let mut other = Message::new(MessageType::Icrq);
        other.avps.push(AvpEntry {
            mandatory: false,
            hidden: false,
            avp: Avp::Raw(RawValue {
                vendor_id: 9,
                attr_type: attr::AGENT_CIRCUIT_ID,
                value: b"not a circuit".to_vec(),
            }),
            padding: Vec::new(),
        });
        assert_eq!(AccessLine::of_message(&other), None);
    }

    #[test]
    fn known_types_are_the_rfc_s() {
        let known: Vec<u16> = (0..=300)
            .filter(|&t| is_known(VENDOR_BROADBAND_FORUM, t))
            .collect();
        let mut expected = vec![1, 2];
        expected.extend(129..=142);
        expected.extend([144, 145, 254]);
        assert_eq!(known, expected);
        assert!(!is_known(0, 1));
    }
}
