//! tshark as an independent judge of the frames this crate emits: whole sessions of two links
//! (each authentication method, IPCP with DNS, IPv6CP, echoes, termination, a wrong password)
//! and the answers to odd input (Configure-Reject of Windows options, Protocol-Reject,
//! Code-Reject) are carried in L2TPv2 data packets, written to a pcap and decoded by tshark.
//! No packet may be malformed or carry an expert error, and tshark's protocol, code and
//! identifier of each frame, and the values of the options it shows, must equal ours.
//!
//! tshark is required: `scripts/deps.sh` installs it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use l2tp_testkit::captures;
use l2tp_testkit::pcap::Datagram;
use l2tp_testkit::tshark;
use ppp_proto::wire::{ControlPacket, FrameKind, classify, protocol, split_protocol};
use ppp_proto::{
    AuthMethod, Credentials, DeterministicRng, Event, Instant, Ipv4Config, Ipv4Params, Ipv6Config,
    Link, LinkConfig, NetworkParams, Password,
};

const LNS: ([u8; 4], u16) = ([192, 0, 2, 2], 1701);
const LAC: ([u8; 4], u16) = ([192, 0, 2, 1], 1701);

fn lns_config(methods: &[AuthMethod]) -> LinkConfig {
    LinkConfig {
        authenticate_peer: methods.to_vec(),
        name: b"lns".to_vec(),
        ipv4: Some(Ipv4Config::default()),
        ipv6: Some(Ipv6Config::default()),
        echo_interval: Some(Duration::from_secs(10)),
        ..LinkConfig::default()
    }
}

fn client_config(password: &str) -> LinkConfig {
    LinkConfig {
        credentials: Some(Credentials {
            user: b"alice".to_vec(),
            password: Password::from(password),
        }),
        ipv4: Some(Ipv4Config {
            request_dns: true,
            ..Ipv4Config::default()
        }),
        ipv6: Some(Ipv6Config::default()),
        echo_interval: Some(Duration::from_secs(10)),
        ..LinkConfig::default()
    }
}

/// An L2TPv2 data packet (no length, no sequence) carrying a PPP frame.
fn l2tp(frame: &[u8], to_lns: bool) -> Datagram {
    let (tunnel, session) = if to_lns {
        (0x1111u16, 0x2222u16)
    } else {
        (0x3333, 0x4444)
    };
    let mut p = vec![0x00, 0x02];
    p.extend_from_slice(&tunnel.to_be_bytes());
    p.extend_from_slice(&session.to_be_bytes());
    p.extend_from_slice(frame);
    let (src, dst) = if to_lns { (LAC, LNS) } else { (LNS, LAC) };
    Datagram::new(SocketAddr::from(src), SocketAddr::from(dst), p)
}

/// Two links talking directly (no loss), as a daemon would drive them: every frame each sends
/// is recorded. Node 0 is the LNS.
fn session(methods: &[AuthMethod], password: &str, wire: &mut Vec<Datagram>) -> [Link; 2] {
    let mut rng = [DeterministicRng::new(7), DeterministicRng::new(8)];
    let mut links = [
        Link::new(Arc::new(lns_config(methods)), &mut rng[0]),
        Link::new(Arc::new(client_config(password)), &mut rng[1]),
    ];
    links[0].set_network(NetworkParams {
        ipv4: Ipv4Params {
            local: Some([198, 51, 100, 1].into()),
            peer: Some([198, 51, 100, 10].into()),
            dns: [
                Some([203, 0, 113, 53].into()),
                Some([203, 0, 113, 54].into()),
            ],
            nbns: [None, None],
        },
        ipv6: Default::default(),
    });
    let mut now = Instant::from_secs(1);
    for l in &mut links {
        l.open(now);
    }
    let users = [("alice", "alice-secret")];
    let end = Instant::from_secs(40);
    while now < end {
        // Move frames until both are quiet.
        loop {
            let mut moved = false;
            for i in 0..2 {
                while let Some(e) = links[i].poll_event() {
                    if let Event::Authenticate(req) = e {
                        let (_, pw) = users[0];
                        let verdict = req.verify(&Password::from(pw));
                        links[i].auth_verdict(now, req.id, verdict).unwrap();
                    }
                }
                let mut frames = Vec::new();
                while let Some(f) = links[i].poll_transmit() {
                    frames.push(f.to_vec());
                }
                for f in frames {
                    moved = true;
                    wire.push(l2tp(&f, i == 1));
                    let (a, b) = links.split_at_mut(1);
                    let to = if i == 0 { &mut b[0] } else { &mut a[0] };
                    to.handle_frame(now, &f, &mut rng[1 - i]);
                }
            }
            if !moved {
                break;
            }
        }
        let next = links.iter().filter_map(Link::poll_timeout).min();
        match next {
            Some(t) if t < end => {
                now = now.max(t);
                for l in &mut links {
                    l.handle_timeout(now);
                }
            }
            _ => break,
        }
    }
    links
}

/// One frame as we see it: protocol, code, identifier and a few values.
#[derive(Debug, PartialEq)]
struct Seen {
    protocol: u16,
    code: u8,
    identifier: u8,
}

fn ours(d: &Datagram) -> Option<Seen> {
    let frame = &d.payload[6..];
    let FrameKind::Link { .. } = classify(frame) else {
        return None;
    };
    let (protocol, info) = split_protocol(frame)?;
    let p = ControlPacket::parse(info).ok()?;
    Some(Seen {
        protocol,
        code: p.code,
        identifier: p.identifier,
    })
}

fn number(s: &str) -> u32 {
    let s = s.split(',').next().unwrap_or("");
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).unwrap_or(u32::MAX),
        None => s.parse().unwrap_or(u32::MAX),
    }
}

/// tshark's view of each frame, by fields.
fn theirs(path: &std::path::Path) -> Vec<Vec<String>> {
    let fields = [
        "ppp.protocol",
        "ppp.code",
        "ppp.identifier",
        "pap.code",
        "pap.identifier",
        "chap.code",
        "chap.identifier",
        "pap.peer_id",
        "chap.name",
        "ipcp.opt.ip_address",
        "ipv6cp.interface_identifier",
        "lcp.rej_proto",
    ];
    let mut cmd = Command::new(std::env::var_os("TSHARK").unwrap_or("tshark".into()));
    cmd.arg("-r")
        .arg(path)
        .args(["-n", "-T", "fields", "-E", "occurrence=f"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn tshark_decodes_every_frame_we_send() {
    assert!(
        tshark::tshark_available(),
        "tshark is required for this test (run scripts/deps.sh)"
    );
    let mut wire = Vec::new();
    for m in AuthMethod::ALL {
        let mut links = session(&[m], "alice-secret", &mut wire);
        // Close from the LNS: Terminate-Request and -Ack.
        links[0].close(
            Instant::from_secs(41),
            ppp_proto::CloseReason::Administrative,
        );
        while let Some(f) = links[0].poll_transmit() {
            wire.push(l2tp(f, false));
        }
        session(&[m], "wrong-password", &mut wire);
    }
    // Odd input: CCP in the network phase, an unknown LCP code, then a Windows-like LCP
    // request (which also renegotiates LCP).
    let mut links = session(&[], "alice-secret", &mut wire);
    let mut rng = DeterministicRng::new(9);
    let now = Instant::from_secs(50);
    for input in [
        &[0xff, 0x03, 0x80, 0xfd, 1, 1, 0, 10, 0x12, 6, 0, 0, 0, 1][..],
        &[0xff, 0x03, 0xc0, 0x21, 77, 3, 0, 6, 1, 2],
        &[
            0xff, 0x03, 0xc0, 0x21, 1, 9, 0, 15, 1, 4, 5, 0x78, 13, 3, 6, 17, 4, 6, 0x4e,
        ],
    ] {
        wire.push(l2tp(input, true));
        links[0].handle_frame(now, input, &mut rng);
        while let Some(f) = links[0].poll_transmit() {
            wire.push(l2tp(f, false));
        }
    }
    let sent = |code: u8| {
        wire.iter()
            .filter(|d| d.src.port() == 1701 && d.src.ip() == std::net::IpAddr::from(LNS.0))
            .filter_map(ours)
            .any(|s| s.protocol == protocol::LCP && s.code == code)
    };
    assert!(
        sent(4) && sent(7) && sent(8),
        "Configure-, Code- and Protocol-Reject sent"
    );
    let path = captures::write_udp("ppp-proto-judge", &wire).expect("pcap written");
    let packets = tshark::decode(&path).expect("tshark decodes");
    assert_eq!(packets.len(), wire.len());
    let unclean = tshark::unclean(&packets);
    assert!(unclean.is_empty(), "{unclean}");
    for p in &packets {
        assert!(
            p.protocols.contains(":l2tp:ppp"),
            "{}: {}",
            p.number,
            p.protocols
        );
    }
    // Field by field.
    let rows = theirs(&path);
    assert_eq!(rows.len(), wire.len());
    let mut compared = 0;
    for (i, (d, row)) in wire.iter().zip(&rows).enumerate() {
        let Some(seen) = ours(d) else { continue };
        let n = i + 1;
        assert_eq!(
            number(&row[0]),
            u32::from(seen.protocol),
            "frame {n}: {row:?}"
        );
        let (code, id) = match seen.protocol {
            protocol::PAP => (&row[3], &row[4]),
            protocol::CHAP => (&row[5], &row[6]),
            _ => (&row[1], &row[2]),
        };
        assert_eq!(
            number(code),
            u32::from(seen.code),
            "frame {n} code: {row:?}"
        );
        assert_eq!(
            number(id),
            u32::from(seen.identifier),
            "frame {n} id: {row:?}"
        );
        if seen.protocol == protocol::PAP && seen.code == 1 {
            assert_eq!(row[7], "alice", "frame {n}");
        }
        if seen.protocol == protocol::CHAP && seen.code == 1 {
            assert_eq!(row[8], "lns", "frame {n}");
        }
        if seen.protocol == protocol::CHAP && seen.code == 2 {
            assert_eq!(row[8], "alice", "frame {n}");
        }
        if seen.protocol == protocol::LCP && seen.code == 8 {
            assert_eq!(number(&row[11]), u32::from(protocol::CCP), "frame {n}");
        }
        compared += 1;
    }
    assert!(compared > 100, "{compared} frames compared");
    // Some option values: the addresses and identifiers of the IPCP and IPv6CP Acks.
    let addresses: Vec<&str> = rows
        .iter()
        .map(|r| r[9].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert!(addresses.contains(&"198.51.100.10") && addresses.contains(&"198.51.100.1"));
    assert!(rows.iter().any(|r| !r[10].is_empty()));
}
