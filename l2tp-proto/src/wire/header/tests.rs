//! Tests of the L2TP headers: control and data headers of both versions, cookies, the
//! L2-Specific Sublayer, and rejection of malformed headers.

use super::*;

fn control(version: Version, encap: Encapsulation, body: &[u8]) -> Vec<u8> {
    let header = ControlHeader {
        version,
        tunnel_id: 0x1234,
        session_id: 7,
        ns: 3,
        nr: 9,
    };
    let mut out = Vec::new();
    header.emit(encap, body.len(), &mut out);
    out.extend_from_slice(body);
    out
}

#[test]
fn v2_control_round_trip() {
    let bytes = control(Version::V2, Encapsulation::Udp, &[1, 2, 3]);
    assert_eq!(&bytes[..4], &[0xc8, 0x02, 0x00, 15]);
    let Ok(Packet::Control {
        header,
        body,
        message,
    }) = Packet::parse(&bytes, Encapsulation::Udp)
    else {
        panic!("not control")
    };
    assert_eq!(
        header,
        ControlHeader {
            version: Version::V2,
            tunnel_id: 0x1234,
            session_id: 7,
            ns: 3,
            nr: 9
        }
    );
    assert_eq!(body, &[1, 2, 3]);
    assert_eq!(message.len(), 15);
}

#[test]
fn v3_control_over_ip_has_zero_prefix_and_length_excludes_it() {
    let bytes = control(Version::V3, Encapsulation::Ip, &[]);
    assert_eq!(&bytes[..8], &[0, 0, 0, 0, 0xc8, 0x03, 0, 12]);
    let Ok(Packet::Control {
        header, message, ..
    }) = Packet::parse(&bytes, Encapsulation::Ip)
    else {
        panic!("not control")
    };
    assert_eq!(header.tunnel_id, 0x1234);
    assert_eq!(header.session_id, 0);
    assert_eq!(message.len(), 12);
}

#[test]
fn rejects_bad_control_headers() {
    let good = control(Version::V2, Encapsulation::Udp, &[0; 4]);
    fn parse(b: &[u8]) -> Result<Packet<'_>, HeaderError> {
        Packet::parse(b, Encapsulation::Udp)
    }
    let mut b = good.clone();
    b[1] = 0x01;
    assert_eq!(parse(&b), Err(HeaderError::UnsupportedVersion(1)));
    let mut b = good.clone();
    b[0] &= !0x40;
    assert_eq!(parse(&b), Err(HeaderError::ControlWithoutLength));
    let mut b = good.clone();
    b[0] &= !0x08;
    assert_eq!(parse(&b), Err(HeaderError::ControlWithoutSequence));
    let mut b = good.clone();
    b[0] |= 0x02;
    assert_eq!(parse(&b), Err(HeaderError::ControlWithOffset));
    let mut b = good.clone();
    b[0] |= 0x01;
    assert_eq!(parse(&b), Err(HeaderError::ControlWithPriority));
    let mut b = good.clone();
    b[3] += 1;
    assert_eq!(
        parse(&b),
        Err(HeaderError::LengthMismatch {
            field: 17,
            actual: 16
        })
    );
    assert_eq!(
        parse(&good[..15]),
        Err(HeaderError::LengthMismatch {
            field: 16,
            actual: 15
        })
    );
    assert!(matches!(
        parse(&good[..5]),
        Err(HeaderError::Truncated { .. })
    ));
    assert!(matches!(parse(&[]), Err(HeaderError::Truncated { .. })));
    // Reserved bits are ignored on receipt (RFC 2661 §3.1).
    let mut b = good.clone();
    b[0] |= 0x30;
    b[1] |= 0xf0;
    assert!(parse(&b).is_ok());
}

#[test]
fn v2_over_ip_is_rejected() {
    let mut bytes = vec![0, 0, 0, 0];
    bytes.extend(control(Version::V2, Encapsulation::Udp, &[]));
    assert_eq!(
        Packet::parse(&bytes, Encapsulation::Ip),
        Err(HeaderError::V2OverIp)
    );
}

#[test]
fn v2_data_with_every_option() {
    let header = V2DataHeader {
        with_length: true,
        tunnel_id: 5,
        session_id: 6,
        sequence: Some((1, 2)),
        offset: Some(3),
        priority: true,
    };
    let mut bytes = Vec::new();
    header.emit(2, &mut bytes);
    bytes.extend_from_slice(&[0xff, 0x03]);
    assert_eq!(bytes.len(), header.wire_len() + 2);
    assert_eq!(
        Packet::parse(&bytes, Encapsulation::Udp),
        Ok(Packet::V2Data {
            header,
            payload: &[0xff, 0x03]
        })
    );
    let minimal = V2DataHeader {
        tunnel_id: 1,
        session_id: 2,
        ..V2DataHeader::default()
    };
    let mut bytes = Vec::new();
    minimal.emit(0, &mut bytes);
    assert_eq!(bytes, [0x00, 0x02, 0, 1, 0, 2]);
    let mut b = bytes.clone();
    b[0] = 0x02; // O bit without an offset field
    assert!(matches!(
        Packet::parse(&b, Encapsulation::Udp),
        Err(HeaderError::Truncated { .. })
    ));
    let over = [0x02, 0x02, 0, 1, 0, 2, 0, 9, 0];
    assert_eq!(
        Packet::parse(&over, Encapsulation::Udp),
        Err(HeaderError::OffsetOverrun { offset: 9 })
    );
}

#[test]
fn v3_data_over_udp_and_ip() {
    let header = V3DataHeader {
        session_id: 0xdead_beef,
        cookie: Cookie::new(&[1, 2, 3, 4, 5, 6, 7, 8]).unwrap_or_default(),
        sublayer: Some(DefaultSublayer {
            sequenced: true,
            sequence: 0x00ab_cdef,
        }),
    };
    for encap in [Encapsulation::Udp, Encapsulation::Ip] {
        let mut bytes = Vec::new();
        header.emit(encap, &mut bytes);
        assert_eq!(bytes.len(), header.wire_len(encap));
        bytes.extend_from_slice(b"frame");
        let Ok(Packet::V3Data { session_id, rest }) = Packet::parse(&bytes, encap) else {
            panic!("not v3 data")
        };
        let parsed =
            V3DataHeader::parse(session_id, rest, header.cookie, L2SpecificSublayer::Default);
        assert_eq!(parsed, Ok((header, &b"frame"[..])));
        let wrong = Cookie::new(&[1, 2, 3, 4, 5, 6, 7, 9]).unwrap_or_default();
        assert_eq!(
            V3DataHeader::parse(session_id, rest, wrong, L2SpecificSublayer::Default),
            Err(DataError::CookieMismatch)
        );
        assert_eq!(
            V3DataHeader::parse(
                session_id,
                &rest[..10],
                header.cookie,
                L2SpecificSublayer::Default
            ),
            Err(DataError::Truncated)
        );
    }
    assert_eq!(
        DefaultSublayer {
            sequenced: true,
            sequence: 1
        }
        .to_bytes(),
        [0x40, 0, 0, 1]
    );
    assert_eq!(
        Packet::parse(&[0, 3, 0, 0, 0, 0, 0, 0], Encapsulation::Udp),
        Err(HeaderError::ZeroSessionId)
    );
}

#[test]
fn patch_sequence_rewrites_ns_nr() {
    for encap in [Encapsulation::Udp, Encapsulation::Ip] {
        let mut bytes = control(Version::V3, encap, &[]);
        ControlHeader::patch_sequence(&mut bytes, encap, 0xaaaa, 0xbbbb);
        let Ok(Packet::Control { header, .. }) = Packet::parse(&bytes, encap) else {
            panic!()
        };
        assert_eq!((header.ns, header.nr), (0xaaaa, 0xbbbb));
    }
}

#[test]
fn cookie_lengths() {
    assert!(Cookie::new(&[1, 2]).is_none());
    assert_eq!(Cookie::new(&[1, 2, 3, 4]).map(|c| c.len()), Some(4));
    assert!(Cookie::NONE.is_empty());
}
