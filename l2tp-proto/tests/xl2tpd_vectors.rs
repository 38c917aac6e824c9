//! Byte-exact vectors from real traffic: xl2tpd talking to xl2tpd (testdata/xl2tpd, made by
//! tools/capture-xl2tpd.sh). The decoder must read every message, the encoder must reproduce
//! each one byte for byte, and the tunnel authentication xl2tpd performed must verify.

use l2tp_proto::auth::{ResponseMessage, Secret, verify_challenge_response};
use l2tp_proto::wire::hidden::HidingKey;
use l2tp_proto::wire::{DecodeContext, Encapsulation, Message, MessageType, Packet};
use l2tp_testkit::vectors::Scenario;

/// Every control message of a capture, decoded: (header, message or None for a ZLB, bytes).
fn decode_all(
    scenario: Scenario,
) -> Vec<(l2tp_proto::wire::ControlHeader, Option<Message>, Vec<u8>)> {
    let datagrams = scenario
        .datagrams()
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.name()));
    assert!(!datagrams.is_empty(), "{}: empty capture", scenario.name());
    let key = scenario
        .secret()
        .and_then(|s| HidingKey::v2(&Secret::new(s)).ok());
    datagrams
        .into_iter()
        .map(|d| {
            let Ok(Packet::Control { header, body, .. }) =
                Packet::parse(&d.payload, Encapsulation::Udp)
            else {
                panic!(
                    "{}: not a control message: {:02x?}",
                    scenario.name(),
                    d.payload
                )
            };
            let message = (!body.is_empty()).then(|| {
                let ctx = DecodeContext {
                    version: Some(header.version),
                    hiding_key: key.as_ref(),
                };
                Message::decode(body, ctx).unwrap_or_else(|e| panic!("{}: {e}", scenario.name()))
            });
            (header, message, d.payload)
        })
        .collect()
}

#[test]
fn every_captured_message_decodes_and_reencodes_byte_for_byte() {
    for scenario in Scenario::ALL {
        let key = scenario
            .secret()
            .and_then(|s| HidingKey::v2(&Secret::new(s)).ok());
        for (header, message, bytes) in decode_all(scenario) {
            let Some(message) = message else {
                // A ZLB: the header alone.
                let mut zlb = Vec::new();
                header.emit(Encapsulation::Udp, 0, &mut zlb);
                assert_eq!(zlb, bytes);
                continue;
            };
            assert!(
                message.ignored.is_empty(),
                "{}: {:?}",
                scenario.name(),
                message.ignored
            );
            let again = message.encode(&header, Encapsulation::Udp, key.as_ref());
            assert_eq!(
                again.as_deref(),
                Ok(&bytes[..]),
                "{} {}",
                scenario.name(),
                message.message_type
            );
        }
    }
}

#[test]
fn captures_hold_the_expected_exchange() {
    for scenario in Scenario::ALL {
        let types: Vec<MessageType> = decode_all(scenario)
            .into_iter()
            .filter_map(|(_, m, _)| m.map(|m| m.message_type))
            .collect();
        for expected in [
            MessageType::Sccrq,
            MessageType::Sccrp,
            MessageType::Scccn,
            MessageType::Icrq,
            MessageType::Icrp,
            MessageType::Iccn,
            MessageType::Cdn,
            MessageType::StopCcn,
        ] {
            assert!(
                types.contains(&expected),
                "{}: no {expected} in {types:?}",
                scenario.name()
            );
        }
        assert_eq!(types.first(), Some(&MessageType::Sccrq));
    }
    let plain: Vec<_> = decode_all(Scenario::Plain)
        .into_iter()
        .filter_map(|(_, m, _)| m)
        .collect();
    assert!(
        plain.iter().any(|m| m.message_type == MessageType::Hello),
        "plain capture has a HELLO"
    );
    let hidden: Vec<_> = decode_all(Scenario::Hidden)
        .into_iter()
        .filter_map(|(_, m, _)| m)
        .collect();
    assert!(
        hidden.iter().all(|m| m.random_vector().is_some()),
        "every message carries a Random Vector"
    );
}

#[test]
fn xl2tpd_challenge_responses_verify_with_our_auth() {
    for scenario in [Scenario::Challenge, Scenario::Hidden] {
        let secret = Secret::new(scenario.secret().unwrap_or_default());
        let messages: Vec<Message> = decode_all(scenario)
            .into_iter()
            .filter_map(|(_, m, _)| m)
            .collect();
        let find = |t| {
            messages
                .iter()
                .find(|m| m.message_type == t)
                .unwrap_or_else(|| panic!("no {t}"))
        };
        let (sccrq, sccrp, scccn) = (
            find(MessageType::Sccrq),
            find(MessageType::Sccrp),
            find(MessageType::Scccn),
        );
        let lac_challenge = sccrq
            .challenge()
            .unwrap_or_else(|| panic!("SCCRQ without Challenge"));
        let lns_challenge = sccrp
            .challenge()
            .unwrap_or_else(|| panic!("SCCRP without Challenge"));
        let sccrp_response = sccrp
            .challenge_response()
            .unwrap_or_else(|| panic!("SCCRP without response"));
        let scccn_response = scccn
            .challenge_response()
            .unwrap_or_else(|| panic!("SCCCN without response"));
        assert!(verify_challenge_response(
            ResponseMessage::Sccrp,
            &secret,
            lac_challenge,
            sccrp_response
        ));
        assert!(verify_challenge_response(
            ResponseMessage::Scccn,
            &secret,
            lns_challenge,
            scccn_response
        ));
        let wrong = Secret::new(b"not-the-secret".to_vec());
        assert!(!verify_challenge_response(
            ResponseMessage::Sccrp,
            &wrong,
            lac_challenge,
            sccrp_response
        ));
        // The response is bound to the message that carries it.
        assert!(!verify_challenge_response(
            ResponseMessage::Scccn,
            &secret,
            lac_challenge,
            sccrp_response
        ));
    }
}
