//! Native PPP on the kernel data plane against real pppd, in the qemu test guest (`tests/vm/`,
//! whose Debian kernel has L2TP and PPP): `kernel::ppp`'s [`Channel`] and [`Unit`] carry a
//! `ppp_proto` Link that this binary drives, without pppd on its side.
//!
//! In the guest (`tests/ppp_native/guest.sh`), two network namespaces have a static L2TPv3/UDP
//! tunnel between them (`ip l2tp`). In one, this binary (`--pppd`) connects a PPPoL2TP socket
//! and hands it to pppd as the client alice; in the other (`--native`), it connects its own,
//! attaches the channel, makes unit `pppn0` (then pppd starts), and runs a Link, opened by
//! pppd's first frame, that authenticates alice with
//! CHAP-MD5, assigns her 198.51.100.2, and negotiates IPv6CP. When IPCP and IPv6CP are Opened,
//! it gives the interface its addresses (198.51.100.1 peer 198.51.100.2, the link-local
//! addresses from the interface identifiers), its MTU, sets it up and lets IPv4 and IPv6 pass.
//! The guest pings across both ways over IPv4 and IPv6; then the Link closes and the channel
//! and unit are dropped: the interface and the kernel session must be gone. pppd's log of
//! every frame it sent and received must match what the Link received and sent.
//!
//! Needs qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`, default
//! `/var/tmp/l2tp-vm`); without them the test is skipped, or fails under `L2TP_REQUIRE_ALL=1`
//! (as CI runs it).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs::File;
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::{AsFd, IntoRawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use l2tp_dataplane::kernel::ppp::{MAX_FRAME, is_oversized, protocol};
use l2tp_dataplane::kernel::{
    Channel, NetworkProtocol, NpMode, PeerAddress, PppoL2tpAddr, Rtnl, SessionOptions, Unit,
    pppol2tp_connect,
};
use l2tp_testkit::guest::{self, Share, pppd_frames, same_frames};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ppp_proto::{
    AuthMethod, CloseReason, DeterministicRng, Event, Instant, Ipv4Config, Ipv4Params, Ipv6Config,
    Link, LinkConfig, NetworkParams, Password,
};

const GUEST_TIMEOUT_S: u64 = 300;
/// The native side's interface.
const IFNAME: &str = "pppn0";
/// How long the native side waits for each step in the guest.
const NATIVE_BOUND: Duration = Duration::from_secs(80);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--native") => return native(Path::new(&args[2])),
        Some("--pppd") => return pppd(&args[2..]),
        _ => {}
    }
    // `cargo test FILTER` passes the filter on: run only if it names this test.
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "ppp_native".contains(f.as_str())) {
        return ExitCode::SUCCESS;
    }
    host();
    println!("test ppp_native ... ok");
    ExitCode::SUCCESS
}

// ---- the two ends in the guest ----------------------------------------------------------------

/// `--pppd TID SID PEER_TID PEER_SID PEER -- PPPD-OPTIONS`: connects an L2TPv3 PPPoL2TP socket
/// and becomes pppd on it, as l2tpd starts pppd.
fn pppd(args: &[String]) -> ExitCode {
    let [tid, sid, peer_tid, peer_sid, peer, dashes, options @ ..] = args else {
        eprintln!("usage: --pppd TID SID PEER_TID PEER_SID PEER -- OPTIONS");
        return ExitCode::FAILURE;
    };
    assert_eq!(dashes, "--");
    let peer: IpAddr = peer.parse().unwrap();
    let socket = pppol2tp_connect(&PppoL2tpAddr {
        tunnel_fd: -1,
        peer: (peer, 1701).into(),
        tid: tid.parse().unwrap(),
        sid: sid.parse().unwrap(),
        peer_tid: peer_tid.parse().unwrap(),
        peer_sid: peer_sid.parse().unwrap(),
        v3: true,
    })
    .expect("PPPoL2TP socket for pppd");
    fcntl(&socket, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
    let fd = socket.into_raw_fd();
    let err = Command::new("pppd")
        .args(["plugin", "pppol2tp.so", "pppol2tp", &fd.to_string()])
        .args(["pppol2tp_tunnel_id", tid, "pppol2tp_session_id", sid])
        .args(options)
        .exec();
    eprintln!("exec pppd: {err}");
    ExitCode::FAILURE
}

/// The frame's protocol, code and identifier as pppd logs them: `LCP ConfReq id=0x1`.
fn describe(frame: &[u8]) -> String {
    let f = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
    let Some(proto) = protocol(f) else {
        return format!("short {f:02x?}");
    };
    let body = &f[if proto < 0x100 && f[0] & 1 == 1 { 1 } else { 2 }..];
    let name = match proto {
        0xc021 => "LCP",
        0xc023 => "PAP",
        0xc223 => "CHAP",
        0x8021 => "IPCP",
        0x8057 => "IPV6CP",
        0x80fd => "CCP",
        p => return format!("proto=0x{p:x}"),
    };
    let [code, id, ..] = body else {
        return format!("{name} short");
    };
    let code = match (proto, code) {
        (0xc223, 1) => "Challenge",
        (0xc223, 2) => "Response",
        (0xc223, 3) => "Success",
        (0xc223, 4) => "Failure",
        (0xc023, 1) => "AuthReq",
        (0xc023, 2) => "AuthAck",
        (0xc023, 3) => "AuthNak",
        (_, 1) => "ConfReq",
        (_, 2) => "ConfAck",
        (_, 3) => "ConfNak",
        (_, 4) => "ConfRej",
        (_, 5) => "TermReq",
        (_, 6) => "TermAck",
        (_, 7) => "CodeRej",
        (0xc021, 8) => "ProtRej",
        (0xc021, 9) => "EchoReq",
        (0xc021, 10) => "EchoRep",
        (0xc021, 11) => "DiscReq",
        (_, c) => return format!("{name} code=0x{c:x} id=0x{id:x}"),
    };
    format!("{name} {code} id=0x{id:x}")
}

/// The state of the native end.
struct Native {
    rtnl: Rtnl,
    channel: Channel,
    unit: Unit,
    frames: File,
    events: File,
    up: (bool, bool),
}

impl Native {
    fn send(&mut self, frame: &[u8]) {
        writeln!(self.frames, "sent {}", describe(frame)).unwrap();
        self.channel
            .send(frame)
            .expect("the channel takes the frame");
    }

    /// Gives the interface what a network layer needs, as the daemon's `ppp_up` does.
    fn network_up(&mut self, mtu: u16, address: PeerAddress, protocol: NetworkProtocol) {
        let index = self.unit.index();
        self.unit.set_mru(mtu).expect("PPPIOCSMRU");
        self.rtnl.set_state(index, true, Some(mtu)).unwrap();
        self.rtnl.add_address(index, &address).unwrap();
        self.unit.set_npmode(protocol, NpMode::Pass).unwrap();
        writeln!(self.events, "up {protocol:?} {address:?} mtu {mtu}").unwrap();
    }
}

/// `--native OUT`: PPP terminated by a Link over the kernel's channel and unit.
fn native(out: &Path) -> ExitCode {
    let rtnl = Rtnl::open().expect("rtnetlink");
    let socket = pppol2tp_connect(&PppoL2tpAddr {
        tunnel_fd: -1,
        peer: "192.0.2.2:1701".parse().unwrap(),
        tid: 10,
        sid: 100,
        peer_tid: 20,
        peer_sid: 200,
        v3: true,
    })
    .expect("PPPoL2TP socket");
    let channel = Channel::attach(socket).expect("attach the channel");
    channel
        .set_options(&SessionOptions::default())
        .expect("session options");
    let unit = Unit::create(&rtnl, IFNAME).expect("make the unit");
    channel
        .connect(&unit)
        .expect("connect the channel to the unit");
    let mut n = Native {
        rtnl,
        channel,
        unit,
        frames: File::create(out.join("native.frames")).unwrap(),
        events: File::create(out.join("native.events")).unwrap(),
        up: (false, false),
    };
    writeln!(
        n.events,
        "channel {} unit {} {} index {}",
        n.channel.number(),
        n.unit.number(),
        n.unit.name(),
        n.unit.index()
    )
    .unwrap();
    // pppd starts now: nothing it sends can be lost before this end reads the channel.
    std::fs::write(out.join("attached"), "").unwrap();

    let config = LinkConfig {
        authenticate_peer: vec![AuthMethod::ChapMd5],
        name: b"l2tpd".to_vec(),
        ipv4: Some(Ipv4Config::default()),
        ipv6: Some(Ipv6Config::default()),
        echo_interval: Some(Duration::from_secs(1)),
        ..LinkConfig::default()
    };
    let start = std::time::Instant::now();
    let clock = || Instant::from_micros(start.elapsed().as_micros() as u64 + 1_000_000);
    let mut rng = DeterministicRng::new(u64::from(std::process::id()));
    let mut link = Link::new(Arc::new(config), &mut rng);
    link.set_network(NetworkParams {
        ipv4: Ipv4Params {
            local: Some([198, 51, 100, 1].into()),
            peer: Some([198, 51, 100, 2].into()),
            dns: [None, None],
            nbns: [None, None],
        },
        ipv6: Default::default(),
    });
    // The link opens with pppd's first frame (its Configure-Request), so that neither end's
    // first frames go before the other end reads them.
    let mut opened = false;
    let mut peer_mru = 1500;
    let mut ll = None;
    let mut closing = false;
    let mut buf = vec![0u8; MAX_FRAME];
    loop {
        let now = clock();
        assert!(
            start.elapsed() < NATIVE_BOUND,
            "the native end did not finish"
        );
        while let Some(f) = link.poll_transmit() {
            let f = f.to_vec();
            n.send(&f);
        }
        while let Some(e) = link.poll_event() {
            writeln!(n.events, "{e:?}").unwrap();
            match e {
                Event::LinkUp(i) => peer_mru = i.peer_mru,
                Event::Authenticate(req) => {
                    let v = req.verify(&Password::from("alice-secret"));
                    writeln!(n.events, "verdict accept={}", v.is_accept()).unwrap();
                    let _ = link.auth_verdict(now, req.id, v);
                }
                Event::Ipv4Up(i) => {
                    let a = PeerAddress {
                        local: i.local.into(),
                        peer: i.peer.into(),
                        prefix_len: 32,
                    };
                    n.network_up(peer_mru, a, NetworkProtocol::Ipv4);
                    n.up.0 = true;
                }
                Event::Ipv6Up(i) => {
                    let (l, p) = (i.local.link_local(), i.peer.link_local());
                    let a = PeerAddress {
                        local: l.into(),
                        peer: p.into(),
                        prefix_len: 64,
                    };
                    n.network_up(peer_mru, a, NetworkProtocol::Ipv6);
                    ll = Some((l, p));
                    n.up.1 = true;
                }
                _ => {}
            }
        }
        if link.is_finished() {
            break;
        }
        if n.up == (true, true)
            && let Some((l, p)) = ll.take()
        {
            std::fs::write(out.join("ready.tmp"), format!("{IFNAME} {l} {p}\n")).unwrap();
            std::fs::rename(out.join("ready.tmp"), out.join("ready")).unwrap();
        }
        if !closing && out.join("close").exists() {
            closing = true;
            writeln!(n.events, "closing").unwrap();
            link.close(now, CloseReason::Administrative);
            continue;
        }
        let wait = link
            .poll_timeout()
            .map_or(Duration::from_millis(100), |t| t - now)
            .min(Duration::from_millis(100));
        let mut fds = [
            PollFd::new(n.channel.as_fd(), PollFlags::POLLIN),
            PollFd::new(n.unit.as_fd(), PollFlags::POLLIN),
        ];
        let ms = u16::try_from(wait.as_millis()).unwrap_or(100);
        poll(&mut fds, PollTimeout::from(ms)).unwrap();
        let ready = fds.map(|f| f.any().unwrap_or(false));
        for (i, ready) in ready.into_iter().enumerate() {
            if !ready {
                continue;
            }
            loop {
                let r = if i == 0 {
                    n.channel.recv(&mut buf)
                } else {
                    n.unit.recv(&mut buf)
                };
                match r {
                    Ok(0) => panic!("{} is gone", ["the channel", "the unit"][i]),
                    Ok(len) => {
                        let f = &buf[..len];
                        writeln!(n.frames, "rcvd {}", describe(f)).unwrap();
                        if matches!(protocol(f), Some(0x21 | 0x57)) {
                            panic!("an IP packet on the control files");
                        }
                        if !opened {
                            opened = true;
                            link.open(clock());
                        }
                        link.handle_frame(clock(), f, &mut rng);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if is_oversized(&e) => writeln!(n.events, "oversized").unwrap(),
                    Err(e) => panic!("reading frames: {e}"),
                }
            }
        }
        link.handle_timeout(clock());
    }
    let c = link.counters();
    writeln!(
        n.events,
        "finished frames_in={} frames_out={} protocol_rejects={}",
        c.frames_in, c.frames_out, c.protocol_rejects
    )
    .unwrap();
    // A unit without a channel reads end-of-file.
    n.channel.disconnect().expect("PPPIOCDISCONN");
    writeln!(
        n.events,
        "unit read after disconnect: {:?}",
        n.unit.recv(&mut buf)
    )
    .unwrap();
    // Closing the unit's file deletes the interface; closing the socket, the kernel session.
    drop(n);
    ExitCode::SUCCESS
}

// ---- the test on the host ---------------------------------------------------------------------

fn host() {
    if guest::cannot_run("ppp_native", &[], false) {
        return;
    }
    let share = Share::new("ppp-native");
    share.add_binary(&std::env::current_exe().unwrap(), "ppp_native");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    share.add_file(&here.join("tests/ppp_native/guest.sh"), "guest.sh");
    let console = guest::run(&share, "ppp-native", GUEST_TIMEOUT_S);
    let read = |name: &str| share.read(name, &console);
    let (pppd, native, events) = (read("pppd.log"), read("native.log"), read("native.events"));
    let ctx = || {
        format!(
            "{console}\n--- native.events\n{events}\n--- native.log\n{native}\n--- pppd.log\n{pppd}"
        )
    };
    let results = read("results");
    for want in [
        "PING a-to-b ok",
        "PING b-to-a ok",
        "PING a-to-b-v6 ok",
        "PING b-to-a-v6 ok",
        "native exit 0",
        &format!("INTERFACE {IFNAME} gone"),
    ] {
        assert!(results.contains(want), "no {want:?}:\n{results}\n{}", ctx());
    }
    // The unit's interface as the daemon sets it up.
    let addr = read("addr.txt");
    for want in [
        "inet 198.51.100.1 peer 198.51.100.2/32",
        "inet6 fe80::",
        "POINTOPOINT",
        ",UP,",
        "mtu 1500",
    ] {
        assert!(addr.contains(want), "addr.txt lacks {want:?}:\n{addr}");
    }
    assert!(
        read("link.txt").contains("link/ppp"),
        "{}",
        read("link.txt")
    );
    let rx: u64 = read("rx_packets").trim().parse().unwrap();
    assert!(rx >= 12, "{IFNAME} received {rx} packets");
    // The kernel session existed while up, and went with the socket.
    assert!(read("sessions-up.txt").contains("Session 100 in tunnel 10"));
    assert!(!read("sessions-down.txt").contains("Session 100"));
    // What pppd saw.
    for want in [
        "CHAP authentication succeeded",
        "local  IP address 198.51.100.2",
        "remote IP address 198.51.100.1",
        "local  LL address fe80::",
        "rcvd [LCP TermReq",
        "sent [LCP TermAck",
    ] {
        assert!(pppd.contains(want), "pppd did not log {want:?}\n{}", ctx());
    }
    assert!(events.contains("verdict accept=true"), "{}", ctx());
    assert!(events.contains("Down(Closed(Administrative))"), "{}", ctx());
    assert!(
        events.contains("unit read after disconnect: Ok(0)"),
        "{}",
        ctx()
    );
    // Every frame, both ways, as the other end logged it.
    let frames = read("native.frames");
    let ours = |dir: &str| -> Vec<String> {
        frames
            .lines()
            .filter_map(|l| l.strip_prefix(dir)?.strip_prefix(' '))
            .map(str::to_owned)
            .collect()
    };
    let (sent, rcvd) = (ours("sent"), ours("rcvd"));
    same_frames(
        "the Link's received frames and pppd's sent ones",
        &rcvd,
        &pppd_frames(&pppd, "sent"),
    );
    same_frames(
        "pppd's received frames and the Link's sent ones",
        &pppd_frames(&pppd, "rcvd"),
        &sent,
    );
    for want in [
        "LCP ConfAck",
        "CHAP Challenge",
        "CHAP Success",
        "IPCP ConfAck",
        "IPV6CP ConfAck",
        "LCP EchoRep",
        "LCP TermReq",
    ] {
        assert!(
            sent.iter().any(|f| f.starts_with(want)),
            "the Link sent no {want}: {sent:#?}"
        );
    }
    for want in [
        "CHAP Response",
        "IPCP ConfReq",
        "IPV6CP ConfReq",
        "LCP TermAck",
    ] {
        assert!(
            rcvd.iter().any(|f| f.starts_with(want)),
            "the Link received no {want}: {rcvd:#?}"
        );
    }
    println!(
        "ppp_native: {} frames sent, {} received, pings both ways, {IFNAME} removed",
        sent.len(),
        rcvd.len()
    );
}
