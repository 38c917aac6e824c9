//! The Connect Speed Update AVP of RFC 5515 §6.1: a session's current connect speeds, in an
//! L2TPv2 form (32-bit speeds, 16-bit session id) and an L2TPv3 form (64-bit speeds, 32-bit
//! session id), told apart by their length.

use super::Value;
use crate::wire::header::Version;

/// Value length of the L2TPv2 form: 2 reserved octets, the 16-bit session id, two 32-bit
/// speeds (AVP length 18, RFC 5515 §6.1).
pub(super) const V2_LEN: usize = 12;
/// Value length of the L2TPv3 form: the 32-bit session id, two 64-bit speeds (AVP length 26).
pub(super) const V3_LEN: usize = 20;

/// The Connect Speed Update AVP (RFC 5515 §6.1), carried in a CSUN (the LAC's new speeds) or
/// a CSURQ (the LNS asks for them; speeds 0).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct ConnectSpeedUpdate {
    /// The form: L2TPv2 (32-bit speeds) or L2TPv3 (64-bit speeds). The form MUST match the
    /// tunnel's version; decoding takes it from the length and the message check compares it.
    pub version: Version,
    /// "Remote Session Id relative to the sender": the id the receiver assigned to the
    /// session, i.e. the receiver's own session id.
    pub session_id: u32,
    /// Current Tx Connect Speed, bits per second, from the LAC towards the user.
    pub tx: u64,
    /// Current Rx Connect Speed, bits per second, from the user towards the LAC.
    pub rx: u64,
}

impl ConnectSpeedUpdate {
    /// An update in the form of `version`. In the L2TPv2 form the session id keeps its low 16
    /// bits (L2TPv2 ids are 16 bits) and a speed above `u32::MAX` is sent as `u32::MAX`.
    pub fn new(version: Version, session_id: u32, tx: u64, rx: u64) -> Self {
        let (session_id, tx, rx) = match version {
            Version::V2 => (session_id & 0xffff, clamp32(tx), clamp32(rx)),
            Version::V3 => (session_id, tx, rx),
        };
        Self {
            version,
            session_id,
            tx,
            rx,
        }
    }

    /// The value length of this form.
    pub fn value_len(&self) -> usize {
        match self.version {
            Version::V2 => V2_LEN,
            Version::V3 => V3_LEN,
        }
    }
}

fn clamp32(v: u64) -> u64 {
    v.min(u64::from(u32::MAX))
}

impl Default for ConnectSpeedUpdate {
    fn default() -> Self {
        Self::new(Version::V2, 0, 0, 0)
    }
}

impl Value for ConnectSpeedUpdate {
    /// Called with a value of length [`V2_LEN`] or [`V3_LEN`] only.
    fn decode(value: &[u8]) -> Self {
        if value.len() == V2_LEN {
            Self {
                version: Version::V2,
                session_id: u32::from(u16::decode(&value[2..])),
                tx: u64::from(u32::decode(&value[4..])),
                rx: u64::from(u32::decode(&value[8..])),
            }
        } else {
            Self {
                version: Version::V3,
                session_id: u32::decode(value),
                tx: u64::decode(&value[4..]),
                rx: u64::decode(&value[12..]),
            }
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self.version {
            Version::V2 => {
                out.extend_from_slice(&[0, 0]);
                ((self.session_id & 0xffff) as u16).encode(out);
                (clamp32(self.tx) as u32).encode(out);
                (clamp32(self.rx) as u32).encode(out);
            }
            Version::V3 => {
                self.session_id.encode(out);
                self.tx.encode(out);
                self.rx.encode(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::avp::types::{Avp, AvpType, ValueError};

    fn encode(avp: &Avp) -> Vec<u8> {
        let mut out = Vec::new();
        avp.encode_value(&mut out);
        out
    }

    #[test]
    fn v2_form_round_trips_byte_for_byte() {
        let wire = [0, 0, 0x01, 0x91, 0, 0x98, 0x96, 0x80, 0, 0x1e, 0x84, 0x80];
        let avp = Avp::decode(AvpType::ConnectSpeedUpdate, &wire);
        let expected = ConnectSpeedUpdate {
            version: Version::V2,
            session_id: 401,
            tx: 10_000_000,
            rx: 2_000_000,
        };
        assert_eq!(avp, Ok(Avp::ConnectSpeedUpdate(expected)));
        assert_eq!(encode(&Avp::ConnectSpeedUpdate(expected)), wire);
    }

    #[test]
    fn v3_form_round_trips_byte_for_byte() {
        let update = ConnectSpeedUpdate::new(Version::V3, 0x8000_0001, 40_000_000_000, 7);
        let wire = encode(&Avp::ConnectSpeedUpdate(update));
        assert_eq!(wire.len(), V3_LEN);
        assert_eq!(&wire[..4], &[0x80, 0, 0, 1]);
        assert_eq!(&wire[4..12], &40_000_000_000u64.to_be_bytes());
        assert_eq!(
            Avp::decode(AvpType::ConnectSpeedUpdate, &wire),
            Ok(Avp::ConnectSpeedUpdate(update))
        );
    }

    #[test]
    fn v2_form_clamps_what_does_not_fit() {
        let update = ConnectSpeedUpdate::new(Version::V2, 0x1_0005, 40_000_000_000, 1);
        assert_eq!((update.session_id, update.tx), (5, u64::from(u32::MAX)));
        assert_eq!(encode(&Avp::ConnectSpeedUpdate(update)).len(), V2_LEN);
    }

    #[test]
    fn malformed_lengths_are_typed_errors() {
        for len in [0, 10, 11, 13, 18, 19, 21, 26] {
            assert_eq!(
                Avp::decode(AvpType::ConnectSpeedUpdate, &vec![0; len]),
                Err(ValueError::BadLength {
                    expected: "12 (L2TPv2) or 20 (L2TPv3)",
                    found: len
                }),
                "{len} octets"
            );
        }
    }

    #[test]
    fn enable_is_an_empty_boolean() {
        assert_eq!(
            Avp::decode(AvpType::ConnectSpeedUpdateEnable, &[]),
            Ok(Avp::ConnectSpeedUpdateEnable(()))
        );
        assert_eq!(encode(&Avp::ConnectSpeedUpdateEnable(())), Vec::<u8>::new());
        assert_eq!(
            Avp::decode(AvpType::ConnectSpeedUpdateEnable, &[1]),
            Err(ValueError::BadLength {
                expected: "0",
                found: 1
            })
        );
    }
}
