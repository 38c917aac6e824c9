//! l2tpd's kernel data plane carries native PPP sessions (`PppSpec::Native`), without the
//! engine: in the qemu test guest (`tests/vm/`), this binary drives `KernelDataplane` as the
//! engine does, a `ppp_proto` Link fed by `DataplaneEvent::PppFrame` and sending through
//! `send_ppp`, calling `ppp_up` when IPCP and IPv6CP are Opened, against real pppd on the
//! other end of a managed kernel tunnel (`tests/kernel_native_ppp/guest.sh`).
//!
//! One round per L2TP version (L2TPv3, then L2TPv2 with the session options set on the
//! socket, l2tpd the LNS): CHAP-MD5 and IPCP and IPv6CP come up; the interface is named from
//! the session's `interface_name` and has its addresses; pings cross it both ways over IPv4
//! and IPv6; the kernel counts the session's packets. `ppp_down` takes the addresses off and
//! stops IP while the link's own termination still flows; `remove_session` removes the
//! interface and the kernel session. In the L2TPv3 round, a second session's interface is
//! deleted from outside (`ip link del`): the data plane reports that session down, and only
//! it; a third one's kernel session is deleted from outside (`ip l2tp del session`), which the
//! kernel does not signal, and is still removed cleanly. Every frame pppd logs is one the Link
//! received or sent. The data plane reports the pings as the session's data activity
//! (`PppActivity`, received and sent).
//!
//! Needs qemu and the guest built by `tests/vm/build-guest.sh` (in `$L2TP_VM_DIR`, default
//! `/var/tmp/l2tp-vm`); without them the test is skipped, or fails under `L2TP_REQUIRE_ALL=1`
//! (as CI runs it).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, IntoRawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use l2tp_config::PseudowireType;
use l2tp_dataplane::kernel::{self as k, PppoL2tpAddr, pppol2tp_connect};
use l2tp_proto::DataSequencing;
use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};
use l2tp_testkit::guest::{self, Share, pppd_frames, same_frames};
use l2tpd::dataplane::kernel::KernelDataplane;
use l2tpd::dataplane::{Dataplane, DataplaneEvent, PppNetwork, PppSpec, SessionSpec, TunnelSpec};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use ppp_proto::{
    AuthMethod, CloseReason, DeterministicRng, Event, Instant, Ipv4Config, Ipv4Params, Ipv6Config,
    Link, LinkConfig, NetworkParams, Password,
};

const GUEST_TIMEOUT_S: u64 = 300;
/// How long one round may take on the data plane's side.
const ROUND_BOUND: Duration = Duration::from_secs(50);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--daemon-side") => return daemon_side(&args[2..]),
        Some("--pppd") => return pppd(&args[2..]),
        _ => {}
    }
    // `cargo test FILTER` passes the filter on: run only if it names this test.
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty()
        && !filters
            .iter()
            .any(|f| "kernel_native_ppp".contains(f.as_str()))
    {
        return ExitCode::SUCCESS;
    }
    host();
    println!("test kernel_native_ppp ... ok");
    ExitCode::SUCCESS
}

// ---- the two ends in the guest ----------------------------------------------------------------

fn num(s: &str) -> u32 {
    s.parse().unwrap()
}

/// `--pppd VERSION TID SID PEER_TID PEER_SID PORT -- PPPD-OPTIONS` in namespace b
/// (192.0.2.2): a managed kernel tunnel on a UDP socket, a PPPoL2TP socket for the session,
/// and pppd on it (the tunnel lives as long as pppd holds the socket).
fn pppd(args: &[String]) -> ExitCode {
    let [v, tid, sid, peer_tid, peer_sid, port, dashes, options @ ..] = args else {
        eprintln!("usage: --pppd VERSION TID SID PEER_TID PEER_SID PORT -- OPTIONS");
        return ExitCode::FAILURE;
    };
    assert_eq!(dashes, "--");
    let port: u16 = port.parse().unwrap();
    let local: SocketAddr = ([192, 0, 2, 2], port).into();
    let peer: SocketAddr = ([192, 0, 2, 1], port).into();
    let udp = UdpSocket::bind(local).unwrap();
    udp.connect(peer).unwrap();
    let genl = k::L2tpGenl::open().expect("generic netlink l2tp");
    genl.create_tunnel(&k::KernelTunnel {
        tid: num(tid),
        peer_tid: num(peer_tid),
        version: v.parse().unwrap(),
        encap: k::Encap::Udp,
        fd: Some(udp.as_raw_fd()),
        local,
        peer,
        udp_checksums: true,
    })
    .expect("the peer's kernel tunnel");
    let socket = pppol2tp_connect(&PppoL2tpAddr {
        tunnel_fd: udp.as_raw_fd(),
        peer,
        tid: num(tid),
        sid: num(sid),
        peer_tid: num(peer_tid),
        peer_sid: num(peer_sid),
        v3: v == "3",
    })
    .expect("PPPoL2TP socket for pppd");
    for fd in [udp.as_fd(), socket.as_fd()] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
    }
    let _tunnel = udp.into_raw_fd();
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
    let (Some(proto), [code, id, ..]) = (k::ppp::protocol(f), f.get(2..).unwrap_or_default())
    else {
        return format!("short {f:02x?}");
    };
    let name = match proto {
        0xc021 => "LCP",
        0xc223 => "CHAP",
        0x8021 => "IPCP",
        0x8057 => "IPV6CP",
        0x80fd => "CCP",
        p => return format!("proto=0x{p:x}"),
    };
    let code = match (proto, code) {
        (0xc223, 1) => "Challenge",
        (0xc223, 2) => "Response",
        (0xc223, 3) => "Success",
        (0xc223, 4) => "Failure",
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
        (_, c) => return format!("{name} code=0x{c:x} id=0x{id:x}"),
    };
    format!("{name} {code} id=0x{id:x}")
}

/// Runs `ip ARGS` (or another command) and returns whether it succeeded and what it printed.
fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let o = Command::new(cmd).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), text)
}

fn session_spec(ids: [u32; 4], lns: bool) -> SessionSpec {
    let [tid, sid, peer_tid, peer_sid] = ids;
    SessionSpec {
        tid,
        sid,
        peer_tid,
        peer_sid,
        pseudowire_type: PseudowireType::Ppp,
        cookie: Vec::new(),
        peer_cookie: Vec::new(),
        l2spec: L2SpecificSublayer::None,
        data_sequencing: DataSequencing::None,
        reorder_timeout_ms: 0,
        interface_name: Some("pppk%d".into()),
        mtu: None,
        mac: None,
        vlan_id: None,
        bridge: None,
        local_ip: None,
        peer_ip: None,
        netmask: None,
        lns,
        send_seq: false,
        recv_seq: false,
        ppp: Some(PppSpec::Native),
        debug: false,
    }
}

/// `--daemon-side OUT VERSION TID SID PEER_TID PEER_SID PORT` in namespace a (192.0.2.1).
fn daemon_side(args: &[String]) -> ExitCode {
    let [out, v, tid, sid, peer_tid, peer_sid, port] = args else {
        eprintln!("usage: --daemon-side OUT VERSION TID SID PEER_TID PEER_SID PORT");
        return ExitCode::FAILURE;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ids = [num(tid), num(sid), num(peer_tid), num(peer_sid)];
    let version = if v == "3" { Version::V3 } else { Version::V2 };
    rt.block_on(round(Path::new(out), version, ids, port.parse().unwrap()));
    ExitCode::SUCCESS
}

async fn round(out: &Path, version: Version, ids: [u32; 4], port: u16) {
    let v = if version == Version::V3 { 3 } else { 2 };
    let file = |name: &str| out.join(format!("v{v}.{name}"));
    let mut checks = File::create(file("checks")).unwrap();
    let mut frames = File::create(file("frames")).unwrap();
    let [tid, sid, peer_tid, _] = ids;
    let mut dp = KernelDataplane::open().expect("the kernel data plane");
    let mut events = dp.take_events().unwrap();
    let local: SocketAddr = ([192, 0, 2, 1], port).into();
    let peer: SocketAddr = ([192, 0, 2, 2], port).into();
    let udp = UdpSocket::bind(local).unwrap();
    udp.connect(peer).unwrap();
    let tunnel = TunnelSpec {
        tid,
        peer_tid,
        version,
        encap: Encapsulation::Udp,
        local,
        peer,
        udp_checksums: true,
        debug: false,
    };
    dp.install_tunnel(&tunnel, Some(udp.as_fd())).unwrap();
    // The LNS of an L2TPv2 session (the socket option), as l2tpd is here.
    let spec = session_spec(ids, version == Version::V2);
    let ifname = dp
        .install_session(&spec)
        .expect("a native PPP session")
        .interface_name
        .unwrap();
    writeln!(checks, "installed {ifname}").unwrap();
    // pppd starts now: nothing it sends can be lost before the session is read.
    std::fs::write(file("installed"), "").unwrap();
    if version == Version::V2 {
        // The options an L2TPv2 session gets from its socket: LNS mode here.
        let p = std::fs::read_to_string("/proc/net/pppol2tp").unwrap_or_default();
        writeln!(checks, "pppol2tp:\n{p}").unwrap();
    }

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
    let mut net = PppNetwork {
        mtu: 1500,
        ..PppNetwork::default()
    };
    let (mut ready, mut closing) = (false, false);
    // The data plane's report that the pings moved the session's counters both ways
    // (`PppActivity`, once a period); the link closes once it came, or after two periods.
    let mut active = false;
    let mut close_asked: Option<std::time::Instant> = None;
    loop {
        assert!(start.elapsed() < ROUND_BOUND, "the round did not finish");
        let now = clock();
        while let Some(f) = link.poll_transmit() {
            let f = f.to_vec();
            writeln!(frames, "sent {}", describe(&f)).unwrap();
            dp.send_ppp(tid, sid, &f).expect("send_ppp");
        }
        while let Some(e) = link.poll_event() {
            writeln!(checks, "event {e:?}").unwrap();
            let up = match e {
                Event::LinkUp(i) => {
                    net.mtu = i.peer_mru;
                    net.acfc = i.framing.acfc;
                    net.pfc = i.framing.pfc;
                    None
                }
                Event::Authenticate(req) => {
                    let v = req.verify(&Password::from("alice-secret"));
                    let _ = link.auth_verdict(now, req.id, v);
                    None
                }
                Event::Ipv4Up(i) => {
                    net.ipv4 = Some((i.local, i.peer));
                    Some("ipv4")
                }
                Event::Ipv6Up(i) => {
                    net.ipv6 = Some((i.local.to_u64(), i.peer.to_u64()));
                    Some("ipv6")
                }
                _ => None,
            };
            if let Some(layer) = up {
                let r = dp.ppp_up(tid, sid, &net).expect("ppp_up");
                writeln!(checks, "ppp_up {layer} -> {:?}", r.interface_name).unwrap();
            }
        }
        if link.is_finished() {
            break;
        }
        if !ready && let (Some((l, _)), Some(_)) = (net.ipv6, net.ipv4) {
            ready = true;
            let (l, p) = (ll(l), ll(net.ipv6.unwrap().1));
            std::fs::write(file("ready.tmp"), format!("{ifname} {l} {p}\n")).unwrap();
            std::fs::rename(file("ready.tmp"), file("ready")).unwrap();
        }
        if ready && !closing && file("close").exists() {
            close_asked.get_or_insert_with(std::time::Instant::now);
        }
        if !closing && close_asked.is_some_and(|t| active || t.elapsed() > Duration::from_secs(12))
        {
            closing = true;
            let s = dp
                .session_stats(tid, sid)
                .expect("the kernel session's counters");
            writeln!(
                checks,
                "stats rx_packets {} tx_packets {}",
                s.rx_packets, s.tx_packets
            )
            .unwrap();
            dp.ppp_down(tid, sid).expect("ppp_down");
            let (_, addr) = run("ip", &["addr", "show", "dev", &ifname]);
            writeln!(checks, "after ppp_down:\n{addr}").unwrap();
            let (pinged, _) = run("ping", &["-c", "1", "-W", "1", "198.51.100.2"]);
            writeln!(
                checks,
                "ping after ppp_down: {}",
                if pinged { "answered" } else { "failed" }
            )
            .unwrap();
            link.close(clock(), CloseReason::Administrative);
            continue;
        }
        let wait = link
            .poll_timeout()
            .map_or(Duration::from_millis(100), |t| t - now)
            .min(Duration::from_millis(100));
        tokio::select! {
            e = events.recv() => match e {
                Some(DataplaneEvent::PppFrame { tid: t, sid: s, frame }) if (t, s) == (tid, sid) => {
                    writeln!(frames, "rcvd {}", describe(&frame)).unwrap();
                    if !opened {
                        opened = true;
                        link.open(clock());
                    }
                    link.handle_frame(clock(), &frame, &mut rng);
                }
                Some(DataplaneEvent::PppActivity { sessions }) => {
                    writeln!(checks, "activity {sessions:?}").unwrap();
                    active |= sessions.contains(&(tid, sid, true, true));
                }
                other => writeln!(checks, "unexpected {other:?}").unwrap(),
            },
            () = tokio::time::sleep(wait) => {}
        }
        link.handle_timeout(clock());
    }
    dp.remove_session(tid, sid).expect("remove_session");
    let (there, _) = run("ip", &["link", "show", "dev", &ifname]);
    writeln!(
        checks,
        "after remove_session: {ifname} {}",
        if there { "there" } else { "gone" }
    )
    .unwrap();
    let (_, sessions) = run("ip", &["l2tp", "show", "session"]);
    let kernel = sessions.contains(&format!("Session {sid} in tunnel {tid}"));
    writeln!(
        checks,
        "kernel session {}",
        if kernel { "there" } else { "gone" }
    )
    .unwrap();

    if version == Version::V3 {
        // A second session, whose interface someone else deletes.
        let [_, _, _, peer_sid] = ids;
        let second = session_spec([tid, sid + 2, peer_tid, peer_sid + 2], false);
        let name = dp.install_session(&second).unwrap().interface_name.unwrap();
        std::fs::write(file("second"), format!("{name}\n")).unwrap();
        let got = next_event(&mut events, Duration::from_secs(30)).await;
        writeln!(checks, "after ip link del {name}: {got:?}").unwrap();
        dp.remove_session(tid, sid + 2)
            .expect("removing a session whose interface is gone");
        // Nothing more: the first session's end was not news.
        let more = next_event(&mut events, Duration::from_millis(500)).await;
        writeln!(checks, "then: {more:?}").unwrap();
        // A third session, whose kernel session someone else deletes: Debian 12's kernel
        // tells the PPP channel nothing (the link's echoes find it, as pppd's do), and the
        // session is still removed cleanly.
        let third = session_spec([tid, sid + 4, peer_tid, peer_sid + 4], false);
        let name = dp.install_session(&third).unwrap().interface_name.unwrap();
        std::fs::write(file("third"), format!("{name}\n")).unwrap();
        let got = next_event(&mut events, Duration::from_secs(2)).await;
        writeln!(checks, "after ip l2tp del session: {got:?}").unwrap();
        let r = dp.remove_session(tid, sid + 4);
        let (there, _) = run("ip", &["link", "show", "dev", &name]);
        writeln!(
            checks,
            "removed after ip l2tp del session: {r:?}, {name} {}",
            if there { "there" } else { "gone" }
        )
        .unwrap();
    }
    dp.remove_tunnel(tid).expect("remove_tunnel");
    writeln!(checks, "done").unwrap();
}

/// The next event within `limit` that is not an activity report (the first session's last
/// report may still be queued).
async fn next_event(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<DataplaneEvent>,
    limit: Duration,
) -> Result<Option<DataplaneEvent>, tokio::time::error::Elapsed> {
    tokio::time::timeout(limit, async {
        loop {
            match events.recv().await {
                Some(DataplaneEvent::PppActivity { .. }) => {}
                other => return other,
            }
        }
    })
    .await
}

fn ll(id: u64) -> std::net::Ipv6Addr {
    std::net::Ipv6Addr::from((0xfe80_u128 << 112) | u128::from(id))
}

// ---- the test on the host ---------------------------------------------------------------------

fn host() {
    if guest::cannot_run("kernel_native_ppp", &[], false) {
        return;
    }
    let share = Share::new("kernel-native-ppp");
    share.add_binary(&std::env::current_exe().unwrap(), "kernel_native_ppp");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    share.add_file(&here.join("tests/kernel_native_ppp/guest.sh"), "guest.sh");
    let console = guest::run(&share, "kernel-native-ppp", GUEST_TIMEOUT_S);
    let read = |name: &str| share.read(name, &console);
    for v in [3, 2] {
        // The guest's ids (guest.sh).
        let (tid, sid) = if v == 3 { (10, 100) } else { (11, 101) };
        let f = |name: &str| read(&format!("v{v}.{name}"));
        let (results, checks, pppd, frames) =
            (f("results"), f("checks"), f("pppd.log"), f("frames"));
        let ctx = || {
            format!(
                "{console}\n--- checks\n{checks}\n--- daemon.log\n{}\n--- pppd.log\n{pppd}",
                f("daemon.log")
            )
        };
        for want in [
            "PING a-to-b ok",
            "PING b-to-a ok",
            "PING a-to-b-v6 ok",
            "PING b-to-a-v6 ok",
            "daemon exit 0",
        ] {
            assert!(
                results.contains(want),
                "v{v}: no {want:?}:\n{results}\n{}",
                ctx()
            );
        }
        for want in [
            "installed pppk0",
            "ppp_up ipv4 -> Some(\"pppk0\")",
            "ppp_up ipv6 -> Some(\"pppk0\")",
            "ping after ppp_down: failed",
            "event Down(Closed(Administrative))",
            "after remove_session: pppk0 gone",
            "kernel session gone",
            "done",
        ] {
            assert!(checks.contains(want), "v{v}: no {want:?}\n{}", ctx());
        }
        assert!(!checks.contains("unexpected"), "v{v}:\n{}", ctx());
        // The pings were reported as data both ways (the data plane's activity report, one
        // counter dump a period, control frames left out).
        assert!(
            checks.contains(&format!("activity [({tid}, {sid}, true, true)")),
            "v{v}: no activity report of the pings\n{}",
            ctx()
        );
        if v == 2 {
            assert!(
                checks.contains("/LNS "),
                "the session is not in LNS mode:\n{checks}"
            );
        }
        // The interface while up, and after ppp_down.
        let addr = f("addr.txt");
        for want in [
            "inet 198.51.100.1 peer 198.51.100.2/32",
            "inet6 fe80::",
            ",UP,",
            "mtu 1500",
            "link/ppp",
        ] {
            assert!(
                addr.contains(want),
                "v{v}: addr.txt lacks {want:?}:\n{addr}"
            );
        }
        let down = checks
            .split("after ppp_down:")
            .nth(1)
            .and_then(|s| s.split("ping after").next())
            .unwrap_or_default();
        assert!(
            !down.contains("inet") && !down.contains(",UP,") && down.contains("pppk0"),
            "v{v}: after ppp_down: {down}"
        );
        // The kernel's counters of the session saw the pings.
        let rx: u64 = checks
            .split("stats rx_packets ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(rx >= 16, "v{v}: the kernel session received {rx} packets");
        for want in [
            "CHAP authentication succeeded",
            "local  IP address 198.51.100.2",
            "local  LL address fe80::",
            "rcvd [LCP TermReq",
        ] {
            assert!(
                pppd.contains(want),
                "v{v}: pppd did not log {want:?}\n{}",
                ctx()
            );
        }
        let ours = |dir: &str| -> Vec<String> {
            frames
                .lines()
                .filter_map(|l| l.strip_prefix(dir)?.strip_prefix(' '))
                .map(str::to_owned)
                .collect()
        };
        let (sent, rcvd) = (ours("sent"), ours("rcvd"));
        same_frames(
            "received and pppd's sent",
            &rcvd,
            &pppd_frames(&pppd, "sent"),
        );
        same_frames(
            "pppd's received and sent",
            &pppd_frames(&pppd, "rcvd"),
            &sent,
        );
        assert!(
            rcvd.iter().any(|f| f.starts_with("LCP TermAck")),
            "v{v}: the termination did not flow after ppp_down: {rcvd:#?}"
        );
        println!(
            "kernel_native_ppp: L2TPv{v}: {} frames sent, {} received, pings both ways",
            sent.len(),
            rcvd.len()
        );
    }
    // The interface deleted from outside (the second session took the first one's name,
    // free again).
    let checks = read("v3.checks");
    assert!(
        checks.contains(
            "after ip link del pppk0: Ok(Some(SessionDown { tid: 10, sid: 102, reason: \"its PPP \
             interface pppk0 is gone\" }))"
        ),
        "{checks}"
    );
    assert!(checks.contains("then: Err(Elapsed"), "{checks}");
    assert!(read("v3.results").contains("deleted pppk0"));
    assert!(read("v3.results").contains("deleted session 104"));
    assert!(
        checks.contains("removed after ip l2tp del session: Ok(()), pppk0 gone"),
        "{checks}"
    );
}
