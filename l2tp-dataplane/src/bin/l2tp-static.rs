//! `l2tp-static`: a static L2TPv3 Ethernet pseudowire carried by the userspace data plane, like
//! `ip l2tp add tunnel` + `ip l2tp add session` with no control connection, until SIGTERM or
//! SIGINT.
//!
//! Output on stdout: `ready ifname=NAME` once the TAP is up and frames flow; on SIGUSR1 and at
//! exit, one `session ...` and one `tunnel ...` line of counters (also written to
//! `--stats-file`, replaced atomically, when given); `session down: REASON` if the TAP is
//! deleted meanwhile (the pseudowire then carries nothing until the end of the run). On stderr,
//! at start: the data-path threads and offloads in use, and each one the kernel lacks.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, ValueEnum};
use l2tp_dataplane::{
    ControlSink, Cookie, DataplaneOptions, Encapsulation, L2SpecificSublayer, PseudowireType,
    SessionSpec, SinkEvent, TunnelSpec, UserspaceDataplane,
};
use nix::sys::signal::{SigSet, Signal};

/// The UDP port of L2TP (RFC 3931 §4.1.2.4), used when an address gives none.
const L2TP_PORT: u16 = 1701;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EncapArg {
    Udp,
    Ip,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum L2specArg {
    None,
    Default,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PwArg {
    Eth,
    EthVlan,
}

/// A static L2TPv3 Ethernet pseudowire in userspace (TAP + UDP or IP/115).
#[derive(Debug, Parser)]
#[command(name = "l2tp-static", version)]
struct Args {
    /// Local address, IP or IP:PORT (UDP port default 1701)
    #[arg(long, value_name = "IP[:PORT]", value_parser = address)]
    local: SocketAddr,
    /// Peer address, IP or IP:PORT (UDP port default 1701)
    #[arg(long, value_name = "IP[:PORT]", value_parser = address)]
    peer: SocketAddr,
    /// Encapsulation
    #[arg(long, value_enum, value_name = "udp|ip", default_value = "udp")]
    encap: EncapArg,
    /// Local tunnel id
    #[arg(long, value_name = "ID")]
    tunnel_id: u32,
    /// Peer tunnel id
    #[arg(long, value_name = "ID")]
    peer_tunnel_id: u32,
    /// Local session id (data packets to us carry it)
    #[arg(long, value_name = "ID")]
    session_id: u32,
    /// Peer session id (written into the packets we send)
    #[arg(long, value_name = "ID")]
    peer_session_id: u32,
    /// Cookie we send: 4 or 8 octets in hex
    #[arg(long, value_name = "HEX", value_parser = cookie)]
    cookie: Option<Cookie>,
    /// Cookie we expect from the peer: 4 or 8 octets in hex
    #[arg(long, value_name = "HEX", value_parser = cookie)]
    peer_cookie: Option<Cookie>,
    /// L2-Specific Sublayer
    #[arg(long, value_enum, value_name = "none|default", default_value = "none")]
    l2spec: L2specArg,
    /// Send sequence numbers and require them on receipt (needs --l2spec default)
    #[arg(long)]
    seq: bool,
    /// Pseudowire type
    #[arg(long, value_enum, value_name = "eth|eth-vlan", default_value = "eth")]
    pw_type: PwArg,
    /// VLAN id of an eth-vlan pseudowire (pushed on transmit, popped on receipt)
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u16).range(1..=4094))]
    vlan_id: Option<u16>,
    /// Interface name or %d template
    #[arg(long, value_name = "NAME")]
    ifname: String,
    /// Interface MTU (default: fits a 1500-octet underlay)
    #[arg(long, value_name = "MTU", value_parser = clap::value_parser!(u16).range(68..))]
    mtu: Option<u16>,
    /// Bridge the interface joins
    #[arg(long, value_name = "BRIDGE")]
    bridge: Option<String>,
    /// Send no UDP checksums (IPv4)
    #[arg(long)]
    no_udp_checksums: bool,
    /// Write the counters here on SIGUSR1 and at exit
    #[arg(long, value_name = "FILE")]
    stats_file: Option<PathBuf>,
    /// Carry one frame per read, write and datagram (no TAP offloads, no UDP GSO or GRO)
    #[arg(long)]
    no_offloads: bool,
    /// Data-path threads (0: one per core)
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// What the options ask that does not go together: `--seq` without the sublayer that carries
/// the numbers, a VLAN without an `eth-vlan` pseudowire or the other way round.
fn conflict(args: &Args) -> Option<&'static str> {
    match (args.seq, args.l2spec, args.pw_type, args.vlan_id) {
        (true, L2specArg::None, ..) => Some("--seq needs --l2spec default"),
        (_, _, PwArg::EthVlan, None) => Some("--pw-type eth-vlan needs --vlan-id"),
        (_, _, PwArg::Eth, Some(_)) => Some("--vlan-id needs --pw-type eth-vlan"),
        _ => None,
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(problem) = conflict(&args) {
        // An invalid command line, as clap's own (exit status 2).
        Args::command()
            .error(clap::error::ErrorKind::ArgumentConflict, problem)
            .exit();
    }
    // Block the signals before the data-path thread starts, so that it inherits the mask and
    // only `sigwait` below ever sees them.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGUSR1] {
        signals.add(s);
    }
    signals.thread_block().context("blocking signals")?;

    let encap = match args.encap {
        EncapArg::Udp => Encapsulation::Udp,
        EncapArg::Ip => Encapsulation::Ip,
    };
    let (local, peer) = (args.local, args.peer);
    let mut tunnel = TunnelSpec::new(args.tunnel_id, args.peer_tunnel_id, encap, local, peer);
    tunnel.udp_checksums = !args.no_udp_checksums;
    let mut session = SessionSpec::eth(args.tunnel_id, args.session_id, args.peer_session_id);
    session.pseudowire_type = match args.pw_type {
        PwArg::Eth => PseudowireType::Eth,
        PwArg::EthVlan => PseudowireType::EthVlan,
    };
    session.vlan_id = args.vlan_id;
    session.cookie = args.cookie.unwrap_or(Cookie::NONE);
    session.peer_cookie = args.peer_cookie.unwrap_or(Cookie::NONE);
    session.l2spec = match args.l2spec {
        L2specArg::None => L2SpecificSublayer::None,
        L2specArg::Default => L2SpecificSublayer::Default,
    };
    session.send_seq = args.seq;
    session.recv_seq = args.seq;
    session.interface_name = Some(args.ifname.clone());
    session.mtu = args.mtu;
    session.bridge = args.bridge.clone();

    // There is no control connection: the sink only says when the session's TAP is gone.
    let sink = ControlSink::new(|e| {
        if let SinkEvent::SessionDown(d) = e {
            say(&format!("session down: {}\n", d.reason));
        }
    });
    let options = DataplaneOptions {
        offloads: !args.no_offloads,
        threads: args.threads,
    };
    let mut dp =
        UserspaceDataplane::with_options(Some(sink), options).context("starting the data plane")?;
    eprintln!("l2tp-static: {}", dp.support());
    for m in dp.support().missing() {
        eprintln!("l2tp-static: not available here, carried without: {m}");
    }
    dp.add_tunnel(tunnel).context("adding the tunnel")?;
    let ifname = dp.add_session(session).context("adding the session")?;
    say(&format!("ready ifname={ifname}\n"));

    // SIGUSR1 reports the counters; SIGTERM or SIGINT ends the run.
    while signals.wait().context("waiting for signals")? == Signal::SIGUSR1 {
        report(&dp, &args, &ifname)?;
    }
    report(&dp, &args, &ifname)?;
    dp.remove_all();
    Ok(())
}

/// Prints the counters and writes them to the stats file.
fn report(dp: &UserspaceDataplane, args: &Args, ifname: &str) -> Result<()> {
    let mut text = String::new();
    if let Some(s) = dp.stats(args.session_id) {
        text.push_str(&format!(
            "session sid={} ifname={ifname} rx_packets={} rx_bytes={} rx_errors={} \
             tx_packets={} tx_bytes={} tx_errors={} cookie_mismatches={} seq_errors={}\n",
            args.session_id,
            s.rx_packets,
            s.rx_bytes,
            s.rx_errors,
            s.tx_packets,
            s.tx_bytes,
            s.tx_errors,
            s.cookie_mismatches,
            s.seq_errors,
        ));
    }
    if let Some(t) = dp.tunnel_stats(args.tunnel_id) {
        text.push_str(&format!(
            "tunnel tid={} rx_packets={} rx_errors={} rx_malformed={} rx_unknown_session={} \
             rx_control={} peer_unreachable={}\n",
            args.tunnel_id,
            t.rx_packets,
            t.rx_errors,
            t.rx_malformed,
            t.rx_unknown_session,
            t.rx_control,
            t.peer_unreachable,
        ));
    }
    say(&text);
    if let Some(path) = &args.stats_file {
        write_atomically(path, &text)?;
    }
    Ok(())
}

/// Writes to stdout; a reader that went away is not a reason to stop carrying frames.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// `IP` or `IP:PORT` (`[V6]:PORT` for IPv6).
fn address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    let ip: IpAddr = text
        .parse()
        .map_err(|_| format!("{text:?} is not an address"))?;
    Ok(SocketAddr::new(ip, L2TP_PORT))
}

/// A cookie from hex (an optional `0x` or `hex:` prefix allowed).
fn cookie(text: &str) -> Result<Cookie, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("hex:"))
        .unwrap_or(text);
    if !digits.len().is_multiple_of(2) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not hex"));
    }
    let bytes: Vec<u8> = (0..digits.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect();
    Cookie::new(&bytes)
        .filter(|_| !bytes.is_empty())
        .ok_or_else(|| format!("a cookie has 4 or 8 octets, not {}", bytes.len()))
}
