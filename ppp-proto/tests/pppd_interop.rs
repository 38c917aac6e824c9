//! ppp-proto's `Link` against real pppd, in the qemu test guest (`tests/vm/`, whose Debian
//! kernel has PPP): pppd runs this very binary as its `pty` command (`--pty-peer`), which
//! frames PPP in async HDLC (RFC 1662 §4: flags, control escapes, FCS-16) on the pseudo-tty and
//! drives a Link in real time. Both roles, every method:
//!
//! - the Link as LNS (authenticator with PAP, CHAP-MD5 or MS-CHAPv2, assigning 198.51.100.10,
//!   DNS 203.0.113.53 and .54, IPv6CP) and pppd as the client with alice's credentials;
//! - the Link as client and pppd as the authenticator;
//! - a wrong password each way.
//!
//! pppd must report the authentication, the addresses and the DNS servers it got, and the Link
//! the events it should; after a few seconds of LCP echoes the Link closes the link and both
//! ends must agree it ended. pppd's async defaults (ACCM, PFC, ACFC, Van Jacobson compression)
//! are answered as the crate does for any peer.
//!
//! Needs qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`, default
//! `/var/tmp/l2tp-vm`); without them the test is skipped, or fails under `L2TP_REQUIRE_ALL=1`
//! (as CI runs it).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use l2tp_testkit::guest::{self, Share};
use ppp_proto::wire::{FrameKind, classify};
use ppp_proto::{
    AuthMethod, CloseReason, Credentials, DeterministicRng, Event, Instant, Ipv4Config, Ipv4Params,
    Ipv6Config, Link, LinkConfig, NetworkParams, Password,
};

const GUEST_TIMEOUT_S: u64 = 400;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--pty-peer") {
        return peer(&args[2..]);
    }
    // `cargo test FILTER` passes the filter on: run only if it names this test.
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "pppd_interop".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    interop();
    println!("test pppd_interop ... ok");
    ExitCode::SUCCESS
}

// ---- the pty peer ---------------------------------------------------------------------------

/// FCS-16 of RFC 1662 §C.2, bit by bit.
fn fcs16(mut fcs: u16, bytes: &[u8]) -> u16 {
    for &b in bytes {
        fcs ^= u16::from(b);
        for _ in 0..8 {
            fcs = if fcs & 1 != 0 {
                (fcs >> 1) ^ 0x8408
            } else {
                fcs >> 1
            };
        }
    }
    fcs
}

/// A frame in async HDLC: flag, escaped frame and FCS, flag. Every control character is escaped
/// (always allowed, RFC 1662 §7.1).
fn hdlc_encode(frame: &[u8]) -> Vec<u8> {
    let fcs = !fcs16(0xffff, frame);
    let mut out = vec![0x7e];
    for &b in frame.iter().chain(&fcs.to_le_bytes()) {
        if b < 0x20 || b == 0x7e || b == 0x7d {
            out.extend_from_slice(&[0x7d, b ^ 0x20]);
        } else {
            out.push(b);
        }
    }
    out.push(0x7e);
    out
}

/// Collects async HDLC octets into frames (FCS checked and removed).
#[derive(Default)]
struct Deframer {
    buf: Vec<u8>,
    escape: bool,
}

impl Deframer {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        for &b in bytes {
            match b {
                0x7e => {
                    let f = std::mem::take(&mut self.buf);
                    self.escape = false;
                    if f.len() >= 4 && fcs16(0xffff, &f) == 0xf0b8 {
                        out.push(f[..f.len() - 2].to_vec());
                    }
                }
                0x7d => self.escape = true,
                _ => {
                    self.buf.push(if self.escape { b ^ 0x20 } else { b });
                    self.escape = false;
                }
            }
        }
    }
}

fn method(name: &str) -> AuthMethod {
    match name {
        "pap" => AuthMethod::Pap,
        "chap" => AuthMethod::ChapMd5,
        _ => AuthMethod::MsChapV2,
    }
}

/// `--pty-peer lns|client METHOD PASSWORD LOGFILE`: a Link on stdin/stdout.
fn peer(args: &[String]) -> ExitCode {
    let [role, m, password, log] = args else {
        eprintln!("usage: --pty-peer lns|client METHOD PASSWORD LOGFILE");
        return ExitCode::FAILURE;
    };
    let mut log = std::fs::File::create(log).expect("log file");
    let lns = role == "lns";
    let config = if lns {
        LinkConfig {
            authenticate_peer: vec![method(m)],
            name: b"l2tpd".to_vec(),
            ipv4: Some(Ipv4Config::default()),
            ipv6: Some(Ipv6Config::default()),
            echo_interval: Some(Duration::from_secs(1)),
            ..LinkConfig::default()
        }
    } else {
        LinkConfig {
            credentials: Some(Credentials {
                user: b"alice".to_vec(),
                password: Password::from(password.as_str()),
            }),
            accept_auth: vec![method(m)],
            ipv4: Some(Ipv4Config {
                request_dns: true,
                ..Ipv4Config::default()
            }),
            ipv6: Some(Ipv6Config::default()),
            echo_interval: Some(Duration::from_secs(1)),
            ..LinkConfig::default()
        }
    };
    let start = std::time::Instant::now();
    let clock = || Instant::from_micros(start.elapsed().as_micros() as u64 + 1_000_000);
    let seed = u64::from(std::process::id()) ^ start.elapsed().as_nanos() as u64;
    let mut rng = DeterministicRng::new(seed);
    let mut link = Link::new(Arc::new(config), &mut rng);
    if lns {
        link.set_network(NetworkParams {
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
    }
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut stdout = std::io::stdout().lock();
    let mut deframer = Deframer::default();
    let mut up = (false, false);
    let mut close_at: Option<Instant> = None;
    let mut frames_in = 0;
    link.open(clock());
    loop {
        let now = clock();
        while let Some(f) = link.poll_transmit() {
            if stdout.write_all(&hdlc_encode(f)).is_err() {
                return ExitCode::FAILURE;
            }
        }
        let _ = stdout.flush();
        while let Some(e) = link.poll_event() {
            let line = match &e {
                Event::LinkUp(i) => format!(
                    "LinkUp auth_peer={:?} auth_self={:?} peer_mru={} pfc={} acfc={} peer_accm={:?}",
                    i.auth_peer,
                    i.auth_self,
                    i.peer_mru,
                    i.framing.pfc,
                    i.framing.acfc,
                    i.peer_accm
                ),
                Event::Authenticate(req) => {
                    let v = req.verify(&Password::from(password.as_str()));
                    let _ = link.auth_verdict(now, req.id, v.clone());
                    format!(
                        "Authenticate user={} method={} accept={}",
                        String::from_utf8_lossy(&req.user),
                        req.method(),
                        v.is_accept()
                    )
                }
                Event::Ipv4Up(i) => {
                    up.0 = true;
                    let dns: Vec<String> = i.dns.iter().flatten().map(|a| a.to_string()).collect();
                    format!(
                        "Ipv4Up local={} peer={} dns={}",
                        i.local,
                        i.peer,
                        dns.join(",")
                    )
                }
                Event::Ipv6Up(i) => {
                    up.1 = true;
                    format!(
                        "Ipv6Up local={} peer={}",
                        i.local.link_local(),
                        i.peer.link_local()
                    )
                }
                Event::Down(r) => format!("Down {}", r.kind()),
                other => format!("{other:?}"),
            };
            let _ = writeln!(log, "{line}");
        }
        if link.is_finished() {
            let c = link.counters();
            let _ = writeln!(
                log,
                "Counters frames_in={} frames_out={} echo_sent={} malformed={} protocol_rejects={} seen={frames_in}",
                c.frames_in, c.frames_out, c.echo_sent, c.malformed, c.protocol_rejects
            );
            return ExitCode::SUCCESS;
        }
        if up == (true, true) && close_at.is_none() {
            // A few seconds of echoes both ways, then the Link ends the link.
            close_at = Some(now + Duration::from_secs(2));
        }
        if close_at.is_some_and(|t| t <= now) {
            close_at = Some(Instant::from_micros(u64::MAX));
            link.close(now, CloseReason::Administrative);
            continue;
        }
        let wake = [link.poll_timeout(), close_at].into_iter().flatten().min();
        let wait = wake
            .map_or(Duration::from_secs(1), |t| t - now)
            .min(Duration::from_secs(1));
        match rx.recv_timeout(wait) {
            Ok(bytes) => {
                let mut frames = Vec::new();
                deframer.push(&bytes, &mut frames);
                for f in frames {
                    frames_in += 1;
                    if let FrameKind::Ipv4 { .. } | FrameKind::Ipv6 { .. } = classify(&f) {
                        continue;
                    }
                    link.handle_frame(clock(), &f, &mut rng);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                link.lower_down(clock());
            }
        }
        link.handle_timeout(clock());
    }
}

// ---- the test -------------------------------------------------------------------------------

fn interop() {
    if guest::cannot_run("pppd_interop", &[], false) {
        return;
    }
    let share = Share::new("ppp-interop");
    share.add_binary(&std::env::current_exe().unwrap(), "pppd_interop");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    share.add_file(&here.join("tests/pppd_interop/guest.sh"), "guest.sh");
    let console = guest::run(&share, "ppp-interop", GUEST_TIMEOUT_S);
    let read = |name: &str| share.read(name, &console);
    let check = |name: &str, pppd_wants: &[&str], peer_wants: &[&str]| {
        let (pppd, peer) = (read(&format!("{name}.pppd")), read(&format!("{name}.peer")));
        for w in pppd_wants {
            assert!(
                pppd.contains(w),
                "{name}: pppd did not log {w:?}:\n{pppd}\n---\n{peer}"
            );
        }
        for w in peer_wants {
            assert!(
                peer.contains(w),
                "{name}: the Link did not report {w:?}:\n{peer}\n---\n{pppd}"
            );
        }
        println!("{name}: ok");
    };
    let lns_up = [
        "Ipv4Up local=198.51.100.1 peer=198.51.100.10 dns=",
        "Ipv6Up local=fe80::",
        "Down closed",
    ];
    let pppd_client_up = [
        "local  IP address 198.51.100.10",
        "remote IP address 198.51.100.1",
        "primary   DNS address 203.0.113.53",
        "secondary DNS address 203.0.113.54",
        "local  LL address fe80::",
        // Van Jacobson compression, which pppd asks for, is rejected.
        "rcvd [IPCP ConfRej",
        // The Link answers pppd's echoes.
        "rcvd [LCP EchoRep",
        "rcvd [LCP TermReq",
    ];
    for (m, auth, pppd_auth) in [
        ("pap", "Some(Pap)", "PAP authentication succeeded"),
        ("chap", "Some(ChapMd5)", "CHAP authentication succeeded"),
        (
            "mschapv2",
            "Some(MsChapV2)",
            "CHAP authentication succeeded",
        ),
    ] {
        let mut pppd: Vec<&str> = pppd_client_up.to_vec();
        pppd.push(pppd_auth);
        let link_up = format!("LinkUp auth_peer={auth}");
        let mut peer: Vec<&str> = lns_up.to_vec();
        peer.push(&link_up);
        peer.push("Authenticate user=alice");
        peer.push("accept=true");
        check(&format!("lns-{m}"), &pppd, &peer);
    }
    for (m, auth, pppd_auth) in [
        (
            "pap",
            "Some(Pap)",
            "PAP peer authentication succeeded for alice",
        ),
        ("chap", "Some(ChapMd5)", "sent [CHAP Success"),
        ("mschapv2", "Some(MsChapV2)", "sent [CHAP Success id=0x"),
    ] {
        let link_up = format!("auth_self={auth}");
        check(
            &format!("client-{m}"),
            &[
                pppd_auth,
                "remote IP address 198.51.100.10",
                "rcvd [LCP TermReq",
            ],
            &[
                &link_up,
                "Ipv4Up local=198.51.100.10 peer=198.51.100.1 dns=203.0.113.53,203.0.113.54",
                "Ipv6Up local=fe80::",
                "Down closed",
            ],
        );
    }
    check(
        "lns-wrong",
        // pppd reads the RFC 2759 failure message (E=691 R=0 C=... V=3 M=...).
        &["MS-CHAP authentication failed: Authentication failed"],
        &["accept=false", "Down auth_failed"],
    );
    check(
        "client-wrong",
        &[
            "Peer alice failed CHAP authentication",
            "sent [CHAP Failure",
        ],
        &["Down auth_rejected_by_peer"],
    );
}
