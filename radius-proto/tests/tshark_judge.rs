//! tshark as an independent judge of every kind of packet this crate encodes, the ones only a
//! server sends included: each exchange is written to a pcap and decoded by tshark with the
//! shared secret. No packet may be malformed or carry an expert error, every authenticator
//! tshark can check (those of the answers) must be valid, and the values tshark reads
//! (User-Password revealed with the secret included) must be ours.
//!
//! tshark is required: `scripts/deps.sh` installs it.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::process::Command;

use l2tp_testkit::pcap::{Datagram, Encap};
use radius_proto::dict::ms;
use radius_proto::dict::values::{acct_status_type, error_cause, nas_port_type, tunnel_type};
use radius_proto::packet::{encode_access_request, encode_response, encode_signed_request};
use radius_proto::{Attributes, Code, Ipv6Prefix, Packet, Secret};

const SECRET: &str = "judge-secret";

const NAS: ([u8; 4], u16) = ([192, 0, 2, 1], 40000);

fn to(port: u16) -> ([u8; 4], u16) {
    ([192, 0, 2, 2], port)
}

/// A request from the NAS to `port` and the answer coming back.
fn exchange(port: u16, request: Vec<u8>, answer: Vec<u8>) -> [Datagram; 2] {
    [
        Datagram::new(NAS, to(port), request),
        Datagram::new(to(port), NAS, answer),
    ]
}

fn datagrams() -> Vec<Datagram> {
    let secret = Secret::from(SECRET);
    let mut out = Vec::new();

    // PAP Access-Request and an Access-Accept with the attributes l2tpd honours.
    let ra = [0x31u8; 16];
    let mut a = Attributes::new();
    a.push_user_name("alice").unwrap();
    a.push_user_password(b"pap-secret-pw").unwrap();
    a.push_nas_port_type(nas_port_type::VIRTUAL).unwrap();
    a.push_nas_port_id("tunnel-1/session-2").unwrap();
    a.push_tunnel_type(1, tunnel_type::L2TP).unwrap();
    a.push_tunnel_server_endpoint(1, "192.0.2.1").unwrap();
    let mut request = Vec::new();
    encode_access_request(&mut request, 1, &ra, &a, &secret).unwrap();
    let mut r = Attributes::new();
    r.push_framed_ip_address(Ipv4Addr::new(198, 51, 100, 5))
        .unwrap();
    r.push_framed_pool("pool-a").unwrap();
    r.push_session_timeout(3600).unwrap();
    r.push_delegated_ipv6_prefix(Ipv6Prefix::new("2001:db8:40::".parse().unwrap(), 56))
        .unwrap();
    r.push_tunnel_password(1, b"tunnel-pw", &secret, &ra, [0x81, 0x02])
        .unwrap();
    r.push_vendor(
        ms::CHAP2_SUCCESS,
        b"\x01S=407A5589115FD0D6209F510FE9C04566932CDA56",
    )
    .unwrap();
    let mut answer = Vec::new();
    encode_response(&mut answer, Code::AccessAccept, 1, &ra, &r, &secret, true).unwrap();
    out.extend(exchange(1812, request, answer));

    // An Access-Challenge with State.
    let ra = [0x32u8; 16];
    let mut request = Vec::new();
    encode_access_request(&mut request, 2, &ra, &a, &secret).unwrap();
    let mut c = Attributes::new();
    c.push_state(b"state-1").unwrap();
    c.push_reply_message("one more").unwrap();
    let mut answer = Vec::new();
    encode_response(
        &mut answer,
        Code::AccessChallenge,
        2,
        &ra,
        &c,
        &secret,
        true,
    )
    .unwrap();
    out.extend(exchange(1812, request, answer));

    // Accounting-Request (Stop) and its Accounting-Response.
    let mut s = Attributes::new();
    s.push_acct_status_type(acct_status_type::STOP).unwrap();
    s.push_acct_session_id("0000002a").unwrap();
    s.push_acct_input_octets(123_456).unwrap();
    s.push_acct_delay_time(3).unwrap();
    let mut request = Vec::new();
    encode_signed_request(&mut request, Code::AccountingRequest, 3, &s, &secret, false).unwrap();
    let request_authenticator: [u8; 16] = request[4..20].try_into().unwrap();
    let mut answer = Vec::new();
    encode_response(
        &mut answer,
        Code::AccountingResponse,
        3,
        &request_authenticator,
        &Attributes::new(),
        &secret,
        false,
    )
    .unwrap();
    out.extend(exchange(1813, request, answer));

    // Disconnect-Request with a Message-Authenticator, and a NAK; CoA-Request and an ACK.
    for (code, answer_code, id) in [
        (Code::DisconnectRequest, Code::DisconnectNak, 4),
        (Code::CoaRequest, Code::CoaAck, 5),
    ] {
        let mut d = Attributes::new();
        d.push_acct_session_id("0000002a").unwrap();
        let mut request = Vec::new();
        encode_signed_request(&mut request, code, id, &d, &secret, true).unwrap();
        let request_authenticator: [u8; 16] = request[4..20].try_into().unwrap();
        let mut n = Attributes::new();
        if answer_code == Code::DisconnectNak {
            n.push_error_cause(error_cause::SESSION_CONTEXT_NOT_FOUND)
                .unwrap();
        }
        let mut answer = Vec::new();
        encode_response(
            &mut answer,
            answer_code,
            id,
            &request_authenticator,
            &n,
            &secret,
            true,
        )
        .unwrap();
        // The Dynamic Authorization Client sends to the NAS.
        out.push(Datagram::new(to(3799), ([192, 0, 2, 1], 3799), request));
        out.push(Datagram::new(([192, 0, 2, 1], 3799), to(3799), answer));
    }
    out
}

const FIELDS: [&str; 12] = [
    "radius.code",
    "radius.authenticator.valid",
    "radius.authenticator.invalid",
    "radius.User_Name",
    "radius.User_Password",
    "radius.Tunnel_Password.tag",
    "radius.Framed-IP-Address",
    "radius.Framed_Pool",
    "radius.Delegated_IPv6_Prefix",
    "radius.Acct_Input_Octets",
    "radius.Error_Cause",
    "radius.State",
];

#[test]
fn tshark_decodes_and_checks_every_packet_kind() {
    assert!(
        l2tp_testkit::tshark::tshark_available(),
        "tshark is required for this test (run scripts/deps.sh)"
    );
    let datagrams = datagrams();
    for d in &datagrams {
        // Our own decoder agrees that each is well formed.
        Packet::decode(&d.payload).unwrap();
    }
    let path = std::env::temp_dir().join(format!("radius-judge-{}.pcap", std::process::id()));
    l2tp_testkit::pcap::write_file(&path, Encap::Udp, &datagrams).unwrap();
    let prefs = [
        "-o",
        "radius.shared_secret:judge-secret",
        "-o",
        "radius.validate_authenticator:TRUE",
        "-d",
        "udp.port==3799,radius",
    ];
    let packets = l2tp_testkit::tshark::decode_with(&path, &prefs).unwrap();
    let bad = l2tp_testkit::tshark::unclean(&packets);
    assert!(bad.is_empty(), "{bad}");
    assert_eq!(packets.len(), datagrams.len());
    assert!(packets.iter().all(|p| p.protocols.ends_with(":radius")));

    let mut cmd = Command::new("tshark");
    cmd.args(prefs).arg("-r").arg(&path).args([
        "-n",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=f",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    if std::env::var_os("KEEP_PCAP").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let field = |row: usize, name: &str| {
        let i = FIELDS.iter().position(|f| *f == name).unwrap();
        rows[row][i]
    };
    let codes: Vec<&str> = (0..rows.len()).map(|r| field(r, "radius.code")).collect();
    assert_eq!(
        codes,
        ["1", "2", "1", "11", "4", "5", "40", "42", "43", "44"],
        "{text}"
    );
    // tshark checks the Response Authenticator of every answer (odd rows): all valid.
    for r in (1..rows.len()).step_by(2) {
        let verdict = (
            field(r, "radius.authenticator.valid"),
            field(r, "radius.authenticator.invalid"),
        );
        assert_eq!(verdict, ("1", "0"), "row {r}: {text}");
    }
    assert_eq!(field(0, "radius.User_Name"), "alice");
    assert_eq!(field(0, "radius.User_Password"), "pap-secret-pw");
    assert_eq!(field(1, "radius.Framed-IP-Address"), "198.51.100.5");
    assert_eq!(field(1, "radius.Framed_Pool"), "pool-a");
    // tshark 4.0 does not reveal Tunnel-Password (the FreeRADIUS test does): its tag only.
    assert_eq!(field(1, "radius.Tunnel_Password.tag"), "0x01");
    // Reserved octet, prefix length 56, then only the 7 octets the prefix needs.
    assert_eq!(
        field(1, "radius.Delegated_IPv6_Prefix"),
        "003820010db8004000"
    );
    assert_eq!(field(4, "radius.Acct_Input_Octets"), "123456");
    assert_eq!(field(7, "radius.Error_Cause"), "503");
}
