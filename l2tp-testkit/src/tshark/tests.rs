//! Parsing tshark's JSON, without tshark.
#![allow(clippy::unwrap_used)]

use super::*;

const SAMPLE: &str = r#"[{"_source":{"layers":{
    "frame":{"frame.number":"3","frame.protocols":"eth:ethertype:ip:udp:l2tp"},
    "l2tp_raw":["c80200140001000200030004800800000000000c",42,20,0,1],
    "l2tp":{
      "l2tp.flags":"0xc802",
      "l2tp.flags_tree":{"l2tp.type":"1","l2tp.version":"2"},
      "l2tp.length":"20","l2tp.tunnel":"1","l2tp.session":"2","l2tp.Ns":"3","l2tp.Nr":"4",
      "Control Message AVP":{
        "l2tp.avp.mandatory_raw":["8008",54,2,32768,2],
        "l2tp.avp.mandatory":"1","l2tp.avp.hidden":"0","l2tp.avp.length":"8",
        "l2tp.avp.vendor_id":"0","l2tp.avp.type":"0","l2tp.avp.message_type":"12"}
    },
    "_ws.malformed":{"_ws.expert":{"_ws.expert.message":"Malformed Packet (Exception occurred)",
        "_ws.expert.severity":"8388608","_ws.expert.group":"117440512"},
      "_ws.malformed":"Malformed Packet"}
}}}]"#;

#[test]
fn parses_sample_json() {
    let p = parse_json(SAMPLE).unwrap();
    assert_eq!(p.len(), 1);
    let p = &p[0];
    assert_eq!(p.number, 3);
    assert!(p.malformed);
    assert!(!p.is_clean());
    assert_eq!(p.expert[0].severity, Severity::Error);
    assert_eq!(p.expert[0].group, 0x0700_0000);
    let l = p.first_l2tp().unwrap();
    assert_eq!(l.offset, Some(42));
    assert_eq!((l.version, l.control), (Some(2), Some(true)));
    assert_eq!(
        (l.tunnel_id, l.session_id, l.ns, l.nr),
        (Some(1), Some(2), Some(3), Some(4))
    );
    assert_eq!(l.message_type, Some(12));
    assert_eq!(message_name(l.message_type), "ICCN");
    assert_eq!(l.field("l2tp.length"), Some("20"));
    let a = &l.avps[0];
    assert_eq!(a.name, "Control Message AVP");
    assert!(a.mandatory && !a.hidden);
    assert_eq!(
        a.raw.as_deref(),
        Some(&[0x80, 0x08, 0, 0, 0, 0, 0, 0x0c][..])
    );
    assert_eq!(a.value(), Some(&[0, 0x0c][..]));
    assert_eq!(
        a.fields,
        vec![("l2tp.avp.message_type".to_string(), "12".to_string())]
    );
}

#[test]
fn severity_mapping() {
    assert_eq!(Severity::from_raw(0x0060_0000), Severity::Warning);
    assert_eq!(Severity::from_raw(7), Severity::Other(7));
    assert!(Severity::Warning < Severity::Error);
}

#[test]
fn hex_parsing() {
    assert_eq!(hex("0a:ff"), Some(vec![0x0a, 0xff]));
    assert_eq!(hex("0aff"), Some(vec![0x0a, 0xff]));
    assert_eq!(hex("0af"), None);
    assert_eq!(parse_num("0xc802"), Some(0xc802));
}

#[test]
fn rejects_non_json() {
    assert!(matches!(parse_json("nope"), Err(Error::Json(_))));
}
