//! The cost of one generic netlink dump of every kernel session's counters
//! ([`L2tpGenl::session_infos`], what l2tpd's kernel data plane reads once a period for its drop
//! summary), at a given number of sessions.
//!
//! `kernel_dump_cost SESSIONS PER_TUNNEL [DUMPS]` makes SESSIONS L2TPv3 PPP sessions (no
//! interface, no socket: the cheapest kind the kernel has) in unmanaged L2TPv3/UDP tunnels of
//! PER_TUNNEL sessions each, between 192.0.2.1 and 192.0.2.2 (which must be local), then times
//! DUMPS dumps (default 5) and prints the time of each and the number of sessions each found,
//! first read one session at a time ([`L2tpGenl::each_session_info`], as l2tpd's drop summary
//! reads them), then collected whole ([`L2tpGenl::session_infos`]), with the process's peak
//! resident memory before and after each kind. It deletes its tunnels at the end.
//! Needs root and the kernel's `l2tp_netlink`, `l2tp_ppp` modules; run it in the test guest
//! (`tests/vm`), see docs/benchmarks.md.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use l2tp_dataplane::kernel::{Encap, KernelSession, KernelTunnel, L2tpGenl, PwType};

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> std::io::Result<()> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(0))
        .collect();
    let (n, per, dumps) = match args[..] {
        [n, per] => (n, per.max(1), 5),
        [n, per, d, ..] => (n, per.max(1), d),
        _ => {
            eprintln!("usage: kernel_dump_cost SESSIONS PER_TUNNEL [DUMPS]");
            std::process::exit(2);
        }
    };
    let genl = L2tpGenl::open()?;
    let t0 = Instant::now();
    let tunnels = n.div_ceil(per);
    for t in 0..tunnels {
        let tid = 1000 + t;
        let port = u16::try_from(10_000 + t)
            .map_err(|_| std::io::Error::other("too many tunnels for their UDP ports"))?;
        genl.create_tunnel(&KernelTunnel {
            tid,
            peer_tid: tid,
            version: 3,
            encap: Encap::Udp,
            fd: None,
            local: SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), port)),
            peer: SocketAddr::from((Ipv4Addr::new(192, 0, 2, 2), port)),
            udp_checksums: false,
        })?;
        for s in 0..per.min(n - t * per) {
            let sid = t * per + s + 1;
            genl.create_session(&KernelSession {
                tid,
                sid,
                peer_sid: sid,
                pw_type: Some(PwType::Ppp),
                ..KernelSession::default()
            })?;
        }
    }
    println!(
        "made {n} sessions in {tunnels} tunnels in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let start = peak_kib();
    for _ in 0..dumps {
        let t = Instant::now();
        let (mut found, mut errors) = (0u64, 0u64);
        genl.each_session_info(|_, i| {
            found += 1;
            errors += i.rx_errors;
        })?;
        let took = t.elapsed();
        println!(
            "dump, one session at a time: {found} sessions in {:.1} ms ({errors} rx errors)",
            took.as_secs_f64() * 1e3
        );
    }
    let streamed = peak_kib();
    for _ in 0..dumps {
        let t = Instant::now();
        let infos = genl.session_infos()?;
        let took = t.elapsed();
        println!(
            "dump, collected: {} sessions in {:.1} ms",
            infos.len(),
            took.as_secs_f64() * 1e3
        );
    }
    println!(
        "peak resident memory: {start} KiB before the dumps, {streamed} KiB after those one \
         session at a time, {} KiB after the collected ones",
        peak_kib()
    );
    for t in 0..tunnels {
        genl.delete_tunnel(1000 + t)?;
    }
    Ok(())
}
