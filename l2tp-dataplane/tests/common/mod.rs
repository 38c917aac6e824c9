//! Helpers shared by the privileged end-to-end tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub const BIN: &str = env!("CARGO_BIN_EXE_l2tp-static");

/// Why these tests cannot run here, if they cannot.
pub fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    if !Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("no ip(8)".into());
    }
    None
}

/// Why a test that also runs `tools` (each with the argument that makes it print its version
/// and exit 0) cannot run here: what [`unavailable`] says, else the first tool missing.
pub fn unavailable_with(tools: &[(&str, &str)]) -> Option<String> {
    if let Some(why) = unavailable() {
        return Some(why);
    }
    for (tool, arg) in tools {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Some(format!("no {tool}"));
        }
    }
    None
}

/// `args` run in network namespace `ns`, to completion.
pub fn in_ns(ns: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .unwrap()
}

#[macro_export]
macro_rules! require_privileges {
    () => {
        if let Some(why) = common::unavailable() {
            common::skip(&why);
            return;
        }
    };
}

/// Reports why a test cannot run here. With `L2TP_REQUIRE_ALL=1` (as `scripts/test.sh` and CI
/// set it) that is a failure, since a skipped test is not a passed one.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os("L2TP_REQUIRE_ALL").is_none_or(|v| v != "1"),
        "cannot run: {why} (L2TP_REQUIRE_ALL=1)"
    );
    eprintln!("skipped: {why}");
}

/// Moves this thread (and the data-path threads it starts later) into a network namespace of
/// its own with its loopback up. False, after [`skip`], when these tests cannot run here.
pub fn in_own_netns() -> bool {
    if let Some(why) = unavailable() {
        skip(&why);
        return false;
    }
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
    let rtnl = l2tp_dataplane::kernel::Rtnl::open().unwrap();
    rtnl.set_state(rtnl.index("lo").unwrap(), true, None)
        .unwrap();
    true
}

pub fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace, deleted on drop.
pub struct Netns(pub String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// A running `l2tp-static`, stopped with SIGTERM (then SIGKILL) on drop.
pub struct Static {
    pub child: Child,
    pub ifname: String,
    pub stats_file: PathBuf,
    /// The lines it printed after `ready`.
    lines: mpsc::Receiver<String>,
}

impl Static {
    pub fn start(netns: &str, stats_file: &Path, args: &[&str]) -> Self {
        let mut child = Command::new("ip")
            .args(["netns", "exec", netns, BIN])
            .args(args)
            .arg("--stats-file")
            .arg(stats_file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after the test stops listening, so the child never sees EPIPE.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut me = Self {
            child,
            ifname: String::new(),
            stats_file: stats_file.to_owned(),
            lines: rx,
        };
        let line = me
            .lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("l2tp-static in {netns} did not get ready"));
        me.ifname = line
            .strip_prefix("ready ifname=")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        me
    }

    /// Waits (up to `limit`) for a printed line that starts with `prefix`, skipping others.
    pub fn wait_line(&self, prefix: &str, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// CPU time (user and system) the process has used so far.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // After the parenthesised command name come the state (the line's 3rd field), ...,
        // utime and stime (its 14th and 15th).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // (/proc counts in USER_HZ, 100 a second on Linux.)
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }

    /// The counters of the `session` line, fetched with SIGUSR1.
    pub fn session_stats(&self) -> HashMap<String, u64> {
        let _ = std::fs::remove_file(&self.stats_file);
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGUSR1).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.stats_file) {
                let line = text.lines().find(|l| l.starts_with("session ")).unwrap();
                return line
                    .split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
                    .collect();
            }
            assert!(Instant::now() < deadline, "no stats from l2tp-static");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Static {
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two namespaces joined by a veth pair, with the underlay addresses (IPv4 and IPv6).
pub struct Pair {
    pub a: Netns,
    pub b: Netns,
    pub dir: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Pair {
    pub fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}x{n}", std::process::id() % 100_000);
        let a = Netns(format!("l2dp{tag}a"));
        let b = Netns(format!("l2dp{tag}b"));
        run(&["ip", "netns", "add", &a.0]);
        run(&["ip", "netns", "add", &b.0]);
        let (va, vb) = (format!("dp{tag}a"), format!("dp{tag}b"));
        run(&[
            "ip", "link", "add", &va, "netns", &a.0, "type", "veth", "peer", "name", &vb, "netns",
            &b.0,
        ]);
        for (ns, dev, addr, addr6) in [
            (&a.0, &va, "192.0.2.1/24", "2001:db8:ff::1/64"),
            (&b.0, &vb, "192.0.2.2/24", "2001:db8:ff::2/64"),
        ] {
            run(&["ip", "-n", ns, "addr", "add", addr, "dev", dev]);
            run(&["ip", "-n", ns, "addr", "add", addr6, "dev", dev, "nodad"]);
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
            run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let dir = std::env::temp_dir().join(format!("l2tp-dataplane-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        Self { a, b, dir }
    }

    /// Starts the `l2tp-static` pair: `common` for both, `a_extra`/`b_extra` for one side.
    pub fn start(&self, common: &[&str], a_extra: &[&str], b_extra: &[&str]) -> (Static, Static) {
        self.start_over(false, common, a_extra, b_extra)
    }

    /// As [`Pair::start`], over the IPv6 underlay (2001:db8:ff::1 and ::2) when `ipv6`.
    pub fn start_over(
        &self,
        ipv6: bool,
        common: &[&str],
        a_extra: &[&str],
        b_extra: &[&str],
    ) -> (Static, Static) {
        let (ua, ub) = if ipv6 {
            ("2001:db8:ff::1", "2001:db8:ff::2")
        } else {
            ("192.0.2.1", "192.0.2.2")
        };
        // (local, peer) addresses and (tunnel, peer tunnel, session, peer session) ids.
        let side = |ns: &Netns, stats, (local, peer), (tid, ptid, sid, psid), extra| {
            let own = [
                "--local",
                local,
                "--peer",
                peer,
                "--tunnel-id",
                tid,
                "--peer-tunnel-id",
                ptid,
                "--session-id",
                sid,
                "--peer-session-id",
                psid,
                "--ifname",
                "pw%d",
            ];
            Static::start(
                &ns.0,
                &self.dir.join(stats),
                &[&own[..], common, extra].concat(),
            )
        };
        let a = side(
            &self.a,
            "a.stats",
            (ua, ub),
            ("10", "20", "100", "200"),
            a_extra,
        );
        let b = side(
            &self.b,
            "b.stats",
            (ub, ua),
            ("20", "10", "200", "100"),
            b_extra,
        );
        (a, b)
    }

    /// Addresses the overlay: 198.51.100.1 on `a_dev` in a, .2 on `b_dev` in b.
    pub fn address(&self, a_dev: &str, b_dev: &str) {
        for (ns, addr, dev) in [
            (&self.a, "198.51.100.1/24", a_dev),
            (&self.b, "198.51.100.2/24", b_dev),
        ] {
            run(&["ip", "-n", &ns.0, "addr", "add", addr, "dev", dev]);
        }
    }

    /// Pings 198.51.100.2 from a; whether any reply came.
    pub fn ping(&self, count: u32) -> bool {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.a.0, "ping", "-c"])
            .arg(count.to_string())
            .args(["-i", "0.2", "-W", "2", "-w", "10", "198.51.100.2"])
            .output()
            .unwrap();
        println!("{}", String::from_utf8_lossy(&out.stdout));
        out.status.success()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Our end of the tunnel of [`v2_tunnel`].
pub const TUNNEL_LOCAL: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 1701));
/// The peer's end of the tunnel of [`v2_tunnel`].
pub const TUNNEL_REMOTE: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 2), 1701));

/// A data plane with `options` (its control sink `sink`) carrying the L2TPv2 tunnel 7 (peer's
/// 8) over UDP from [`TUNNEL_LOCAL`] to [`TUNNEL_REMOTE`].
pub fn v2_tunnel(
    sink: Option<l2tp_dataplane::ControlSink>,
    options: l2tp_dataplane::DataplaneOptions,
) -> l2tp_dataplane::UserspaceDataplane {
    use l2tp_dataplane::{Encapsulation, TunnelSpec, UserspaceDataplane, Version};
    let mut dp = UserspaceDataplane::with_options(sink, options).unwrap();
    let mut t = TunnelSpec::new(7, 8, Encapsulation::Udp, TUNNEL_LOCAL, TUNNEL_REMOTE);
    t.version = Version::V2;
    dp.add_tunnel(t).unwrap();
    dp
}

/// A data plane of one data-path thread, offloads off, whose control sink hands its events to
/// the returned receiver, with the L2TPv2 tunnel of [`v2_tunnel`] to the returned peer socket
/// at [`TUNNEL_REMOTE`], and its native-PPP session 1 (peer's 1). In a namespace of its own
/// ([`in_own_netns`]).
pub fn ppp_v2_session() -> (
    l2tp_dataplane::UserspaceDataplane,
    mpsc::Receiver<l2tp_dataplane::SinkEvent>,
    std::net::UdpSocket,
    SocketAddr,
) {
    use l2tp_dataplane::{ControlSink, DataplaneOptions, PppSessionSpec};
    let (tx, rx) = mpsc::channel();
    let sink = ControlSink::new(move |e| {
        let _ = tx.send(e);
    });
    let options = DataplaneOptions {
        offloads: false,
        threads: 1,
    };
    let peer = std::net::UdpSocket::bind(TUNNEL_REMOTE).unwrap();
    let mut dp = v2_tunnel(Some(sink), options);
    dp.add_ppp_session(PppSessionSpec::new(7, 1, 8, 1)).unwrap();
    (dp, rx, peer, TUNNEL_LOCAL)
}

/// The local end of [`loopback_tunnel`].
pub const LOOPBACK_LOCAL: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 1701));

/// A userspace data plane with one data-path thread and one L2TPv3 tunnel over UDP (id 7, the
/// peer's 8) from [`LOOPBACK_LOCAL`] to 127.0.0.2:1701, and the peer's socket there.
pub fn loopback_tunnel(
    offloads: bool,
) -> (l2tp_dataplane::UserspaceDataplane, std::net::UdpSocket) {
    use l2tp_dataplane::{DataplaneOptions, Encapsulation, TunnelSpec, UserspaceDataplane};
    let options = DataplaneOptions {
        offloads,
        threads: 1,
    };
    let mut dp = UserspaceDataplane::with_options(None, options).unwrap();
    let remote: SocketAddr = ([127, 0, 0, 2], 1701).into();
    let peer = std::net::UdpSocket::bind(remote).unwrap();
    dp.add_tunnel(TunnelSpec::new(
        7,
        8,
        Encapsulation::Udp,
        LOOPBACK_LOCAL,
        remote,
    ))
    .unwrap();
    (dp, peer)
}
