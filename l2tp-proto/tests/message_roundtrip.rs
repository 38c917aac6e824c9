//! Round trips of every control message in both versions, with random AVP values, M bits and
//! hidden AVPs; and the RFC reactions to bad messages.

use l2tp_proto::auth::Secret;
use l2tp_proto::wire::avp::types::{ConnectSpeedUpdate, RawValue, ValueLen};
use l2tp_proto::wire::hidden::HidingKey;
use l2tp_proto::wire::message::Fault;
use l2tp_proto::wire::result::ErrorCode;
use l2tp_proto::wire::{
    Avp, AvpEntry, AvpType, ControlHeader, DecodeContext, Encapsulation, Message, MessageType,
    Packet, Reaction, Version,
};
use proptest::prelude::*;

/// A valid value for `t`, drawn from `bytes`.
fn sample(t: AvpType, bytes: &[u8]) -> Avp {
    let len = match t.value_len() {
        ValueLen::Exactly(n) => n,
        ValueLen::AtLeast(n) => n + bytes.len() % 12,
        ValueLen::OneOf(lens) => lens[bytes.len() % lens.len()],
        ValueLen::EvenAtLeast(n) => n + 2 * (bytes.len() % 4),
        ValueLen::ResultCode => [2, 4, 9][bytes.len() % 3],
    };
    let value: Vec<u8> = bytes.iter().copied().cycle().take(len).collect();
    let mut value = if value.len() < len {
        vec![1; len]
    } else {
        value
    };
    // Identifiers and windows of 0 are out of range (RFC 2661 §4.4.3, RFC 3931 §5.4.3-§5.4.4).
    let id = matches!(
        t,
        AvpType::AssignedTunnelId
            | AvpType::AssignedSessionId
            | AvpType::AssignedConnectionId
            | AvpType::LocalSessionId
            | AvpType::RemoteSessionId
            | AvpType::ReceiveWindowSize
    );
    if id
        && value.iter().all(|b| *b == 0)
        && let Some(last) = value.last_mut()
    {
        *last = 1;
    }
    match Avp::decode(t, &value) {
        // Only the levels and sublayer types RFC 3931 §5.4.4 defines.
        Ok(Avp::DataSequencing(level)) => Avp::DataSequencing(level % 3),
        Ok(Avp::L2SpecificSublayer(ty)) => Avp::L2SpecificSublayer(ty % 2),
        Ok(avp) => avp,
        Err(_) => Avp::Raw(RawValue::default()),
    }
}

/// RFC 5515 §6.1: a Connect Speed Update AVP comes in the form of the tunnel's version.
fn in_form(avp: Avp, version: Version) -> Avp {
    match avp {
        Avp::ConnectSpeedUpdate(u) => {
            Avp::ConnectSpeedUpdate(ConnectSpeedUpdate::new(version, u.session_id, u.tx, u.rx))
        }
        other => other,
    }
}

fn key(version: Version) -> HidingKey {
    let secret = Secret::new(b"s3cr3t".to_vec());
    let key = match version {
        Version::V2 => HidingKey::v2(&secret),
        Version::V3 => HidingKey::v3(&secret),
    };
    key.unwrap_or_else(|e| panic!("{e}"))
}

fn arb_message() -> impl Strategy<Value = (Version, Message)> {
    (
        prop_oneof![Just(Version::V2), Just(Version::V3)],
        0..MessageType::ALL.len(),
        proptest::collection::vec(
            (
                0..AvpType::ALL.len(),
                any::<bool>(),
                any::<bool>(),
                proptest::collection::vec(any::<u8>(), 1..24),
            ),
            0..8,
        ),
        proptest::collection::vec(any::<u8>(), 1..24),
    )
        .prop_map(|(version, index, extras, seed)| {
            let message_type = MessageType::ALL[index];
            let mut message = Message::new(message_type);
            // A Random Vector first, so that any later AVP may be hidden.
            message
                .avps
                .push(AvpEntry::new(Avp::RandomVector(seed.clone()), version));
            for t in message_type.required_avps(version) {
                message.avps.push(AvpEntry::new(sample(*t, &seed), version));
            }
            for (i, mandatory, hide, bytes) in extras {
                let t = AvpType::ALL[i];
                if t == AvpType::MessageType {
                    continue;
                }
                let mut entry = AvpEntry::new(in_form(sample(t, &bytes), version), version);
                entry.mandatory = mandatory;
                if hide && !t.never_hidden() {
                    entry.hidden = true;
                    entry.padding = bytes[..bytes.len() % 5].to_vec();
                }
                message.avps.push(entry);
            }
            (version, message)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_message_round_trips((version, message) in arb_message(), encap_ip in any::<bool>()) {
        let encap = if encap_ip && version == Version::V3 { Encapsulation::Ip } else { Encapsulation::Udp };
        let key = key(version);
        let header = ControlHeader { version, tunnel_id: 0xbeef, session_id: 0, ns: 7, nr: 8 };
        let bytes = message.encode(&header, encap, Some(&key));
        prop_assert!(bytes.is_ok(), "{:?}", bytes);
        let bytes = bytes.unwrap_or_default();
        let packet = Packet::parse(&bytes, encap);
        let Ok(Packet::Control { header: parsed, body, .. }) = packet else {
            return Err(TestCaseError::fail(format!("not a control packet: {packet:?}")));
        };
        prop_assert_eq!(parsed, header);
        let ctx = DecodeContext { version: Some(version), hiding_key: Some(&key) };
        let decoded = Message::decode(body, ctx);
        prop_assert!(decoded.is_ok(), "{}", decoded.err().map(|e| e.to_string()).unwrap_or_default());
        let decoded = decoded.unwrap_or_else(|_| Message::new(MessageType::Hello));
        prop_assert_eq!(&decoded.avps, &message.avps);
        prop_assert_eq!(decoded.message_type, message.message_type);
        // Byte for byte, hidden AVPs included.
        let again = decoded.encode(&header, encap, Some(&key)).unwrap_or_default();
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256), v3 in any::<bool>()) {
        let key = key(Version::V2);
        let version = if v3 { Version::V3 } else { Version::V2 };
        let _ = Message::decode(&body, DecodeContext { version: Some(version), hiding_key: Some(&key) });
        let _ = Message::decode(&body, DecodeContext::default());
    }
}

fn encode_v2(message: &Message) -> Vec<u8> {
    let header = ControlHeader {
        version: Version::V2,
        tunnel_id: 1,
        session_id: 2,
        ns: 0,
        nr: 0,
    };
    let bytes = message
        .encode(&header, Encapsulation::Udp, None)
        .unwrap_or_default();
    bytes[12..].to_vec()
}

fn sccrq_v2() -> Message {
    let mut m = Message::new(MessageType::Sccrq);
    m.push(
        Avp::ProtocolVersion(l2tp_proto::wire::avp::types::ProtocolVersion {
            version: 1,
            revision: 0,
        }),
        Version::V2,
    )
    .push(Avp::HostName(b"lac".to_vec()), Version::V2)
    .push(Avp::FramingCapabilities(3), Version::V2)
    .push(Avp::AssignedTunnelId(9), Version::V2);
    m
}

fn icrq_v2() -> Message {
    let mut m = Message::new(MessageType::Icrq);
    m.push(Avp::AssignedSessionId(4), Version::V2)
        .push(Avp::CallSerialNumber(1), Version::V2);
    m
}

fn decode_v2(body: &[u8]) -> Result<Message, l2tp_proto::wire::MessageError> {
    Message::decode(
        body,
        DecodeContext {
            version: Some(Version::V2),
            hiding_key: None,
        },
    )
}

#[test]
fn unknown_mandatory_avp_stops_the_tunnel_or_the_session() {
    for (message, expect) in [
        (
            sccrq_v2(),
            Reaction::StopCcn {
                result: 2,
                error: ErrorCode::UnknownMandatoryAvp,
            },
        ),
        (
            icrq_v2(),
            Reaction::Cdn {
                result: 2,
                error: ErrorCode::UnknownMandatoryAvp,
            },
        ),
    ] {
        let mut m = message.clone();
        m.avps.push(AvpEntry {
            mandatory: true,
            hidden: false,
            avp: Avp::Raw(RawValue {
                vendor_id: 0,
                attr_type: 200,
                value: vec![1],
            }),
            padding: vec![],
        });
        let err = decode_v2(&encode_v2(&m)).err();
        assert_eq!(err.as_ref().map(|e| e.reaction()), Some(expect));
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains(message.message_type.name()) && text.contains("attribute 200"),
            "{text}"
        );
        // Without the M bit the AVP is ignored (kept raw).
        let mut m = message.clone();
        m.avps.push(AvpEntry {
            mandatory: false,
            hidden: false,
            avp: Avp::Raw(RawValue {
                vendor_id: 9,
                attr_type: 200,
                value: vec![1],
            }),
            padding: vec![],
        });
        assert!(decode_v2(&encode_v2(&m)).is_ok());
    }
}

#[test]
fn missing_required_avp_names_message_and_avp() {
    let mut m = sccrq_v2();
    m.avps
        .retain(|e| e.avp.avp_type() != Some(AvpType::HostName));
    let err = decode_v2(&encode_v2(&m)).err();
    assert_eq!(
        err.as_ref().map(|e| e.fault.clone()),
        Some(Fault::MissingAvp)
    );
    assert_eq!(
        err.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        "SCCRQ: AVP Host Name (7) [M] at offset 0: missing required AVP"
    );
    assert!(matches!(
        err.map(|e| e.reaction()),
        Some(Reaction::StopCcn { result: 2, .. })
    ));
}

#[test]
fn malformed_avp_reaction_depends_on_m_bit() {
    let mut body = encode_v2(&icrq_v2());
    // Assigned Session ID with 1 octet: M set -> CDN result 2 error 2.
    body.extend_from_slice(&[0x80, 7, 0, 0, 0, 14, 1]);
    let err = decode_v2(&body).err();
    assert_eq!(
        err.map(|e| e.reaction()),
        Some(Reaction::Cdn {
            result: 2,
            error: ErrorCode::BadLength
        })
    );
    let mut body = encode_v2(&icrq_v2());
    body.extend_from_slice(&[0x00, 7, 0, 0, 0, 14, 1]);
    let message = decode_v2(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(message.ignored.len(), 1);
}

#[test]
fn framing_faults_are_reported_not_panicked() {
    let mut body = encode_v2(&sccrq_v2());
    body.extend_from_slice(&[0x80, 0x00, 0, 0, 0, 7]); // zero length
    assert!(matches!(
        decode_v2(&body).err().map(|e| e.fault),
        Some(Fault::Framing(_))
    ));
    let mut body = encode_v2(&sccrq_v2());
    body.extend_from_slice(&[0x80, 0x40, 0, 0, 0, 7, 1]); // overrun
    assert!(matches!(
        decode_v2(&body).err().map(|e| e.fault),
        Some(Fault::Framing(_))
    ));
}

#[test]
fn hidden_avp_without_random_vector_or_secret() {
    let key = key(Version::V2);
    let mut m = icrq_v2();
    m.avps.insert(
        0,
        AvpEntry::new(Avp::RandomVector(vec![1; 16]), Version::V2),
    );
    m.avps[1].hidden = true;
    let header = ControlHeader {
        version: Version::V2,
        tunnel_id: 1,
        session_id: 0,
        ns: 0,
        nr: 0,
    };
    let bytes = m
        .encode(&header, Encapsulation::Udp, Some(&key))
        .unwrap_or_default();
    // No secret configured.
    let err = decode_v2(&bytes[12..]).err();
    assert_eq!(
        err.as_ref().map(|e| e.fault.clone()),
        Some(Fault::HiddenWithoutSecret)
    );
    assert_eq!(
        err.map(|e| e.reaction()),
        Some(Reaction::Cdn {
            result: 2,
            error: ErrorCode::BadValue
        })
    );
    // The Random Vector removed: the hidden AVP has none before it.
    let mut body = bytes[12..].to_vec();
    body.drain(8..8 + 22);
    let err = Message::decode(
        &body,
        DecodeContext {
            version: Some(Version::V2),
            hiding_key: Some(&key),
        },
    )
    .err();
    assert_eq!(err.map(|e| e.fault), Some(Fault::HiddenWithoutRandomVector));
}

#[test]
fn unknown_message_types() {
    let mut body = Vec::new();
    l2tp_proto::wire::avp::emit_raw(&mut body, false, false, 0, 0, &[0, 99]);
    assert_eq!(
        decode_v2(&body).err().map(|e| e.reaction()),
        Some(Reaction::Ignore)
    );
    let mut body = Vec::new();
    l2tp_proto::wire::avp::emit_raw(&mut body, true, false, 0, 0, &[0, 99]);
    assert!(matches!(
        decode_v2(&body).err().map(|e| e.reaction()),
        Some(Reaction::StopCcn { .. })
    ));
    let mut body = Vec::new();
    l2tp_proto::wire::avp::emit_raw(&mut body, true, false, 0, 7, b"host");
    assert_eq!(
        decode_v2(&body).err().map(|e| e.fault),
        Some(Fault::NoMessageType)
    );
}

#[test]
fn default_m_bits_follow_the_rfcs() {
    assert!(!AvpType::TieBreaker.default_mandatory(Version::V2));
    assert!(AvpType::TieBreaker.default_mandatory(Version::V3));
    assert!(AvpType::CallSerialNumber.default_mandatory(Version::V2));
    assert!(!AvpType::CallSerialNumber.default_mandatory(Version::V3));
    // RFC 3931 §4.7.3: L2TPv3 AVPs in an L2TPv2 message carry no M bit.
    assert!(!AvpType::RouterId.default_mandatory(Version::V2));
}
