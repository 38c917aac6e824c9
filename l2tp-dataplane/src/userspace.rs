//! [`UserspaceDataplane`]: the control side of the userspace data plane. It validates specs,
//! opens sockets and TAPs on the caller's thread (each a quick system call), then hands them to
//! the data-path threads ([`crate::worker`]) and waits, bounded, for them to take them.
//!
//! Each tunnel gets a home thread (the one with the fewest tunnels), which reads its socket.
//! Each session's TAP gets one queue per thread, the first read by the tunnel's home thread
//! (a session that numbers its packets gets that one queue only).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::codec::{CodecSpec, PseudowireType, SessionCodec};
use crate::options::{DataplaneOptions, OffloadSupport};
pub use crate::sink::{
    ControlPacket, ControlSink, CookieReport, EarlyData, PppActivity, PppDrop, PppDropReport,
    PppFrame, SessionDown, SinkEvent,
};
use crate::stats::{
    DataplaneTotals, SessionCounters, SessionStats, TotalCounters, TunnelCounters, TunnelStats,
};
use crate::tap::{Tap, TapOptions};
use crate::worker::ppp::{PppChange, PppCommon, v2_key};
use crate::worker::{Command, CookieReporting, FrameLimit, SessionState, TunnelShared, Worker};
use crate::{socket, sys};

mod ppp;
mod spec;

pub(crate) use ppp::PppTable;
pub use spec::{Error, SessionSpec, TunnelSpec};
use spec::{SetupStep, setup_error};

/// The longest the control side waits for the data-path thread to take a command.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// The interface name template used when a session names none.
pub const DEFAULT_INTERFACE_TEMPLATE: &str = "l2tpeth%d";

/// The MTU assumed for the underlay when a session gives none (see [`default_mtu`]).
const UNDERLAY_MTU: u32 = 1500;

#[derive(Debug)]
struct TunnelEntry {
    encap: Encapsulation,
    version: Version,
    /// The peer's address (no PPP route may lead to it).
    peer_ip: std::net::IpAddr,
    ipv6: bool,
    /// The worker that reads its socket.
    home: usize,
    /// Its socket's (local, peer) addresses and ports, when it is in a group by them.
    tuple: Option<(SocketAddr, SocketAddr)>,
    shared: Arc<TunnelShared>,
    counters: Arc<TunnelCounters>,
    /// Its sessions' ids, so that removing it costs what it holds, not a scan of all sessions.
    sessions: std::collections::HashSet<u32>,
}

#[derive(Debug)]
struct SessionEntry {
    tid: u32,
    /// The workers holding a queue of its TAP, its home worker first.
    workers: Vec<usize>,
    interface_name: String,
    counters: Arc<SessionCounters>,
}

/// A data-path thread as the control side holds it.
#[derive(Debug)]
struct WorkerHandle {
    commands: Sender<Command>,
    /// Native-PPP sessions it receives for, added and removed (see `PppChange`), and the
    /// changes queued since it last took them.
    ppp_changes: Sender<PppChange>,
    ppp_queued: Arc<AtomicUsize>,
    wake: Arc<EventFd>,
    thread: Option<JoinHandle<()>>,
    /// Tunnels it is the home of.
    tunnels: usize,
}

/// The userspace L2TPv3 Ethernet data plane: a session table, one data socket per tunnel and
/// one TAP per session, served by data-path threads of its own. Dropping it stops the threads
/// and deletes every TAP.
#[derive(Debug)]
pub struct UserspaceDataplane {
    totals: Arc<TotalCounters>,
    workers: Vec<WorkerHandle>,
    support: OffloadSupport,
    tunnels: HashMap<u32, TunnelEntry>,
    sessions: HashMap<u32, SessionEntry>,
    /// Native-PPP sessions and the shared TUN.
    ppp: PppTable,
    /// The groups of tunnels whose sockets share their addresses and ports (see
    /// [`TunnelShared::group`]), by (local, peer).
    groups: HashMap<(SocketAddr, SocketAddr), TunnelGroup>,
    /// The last group number given.
    last_group: u64,
}

/// Tunnels whose sockets have the same local and peer addresses and ports.
#[derive(Debug)]
struct TunnelGroup {
    id: u64,
    /// The worker that reads their sockets.
    home: usize,
    tunnels: usize,
}

impl UserspaceDataplane {
    /// Starts the data-path threads, with offloads, one per core. Control messages that
    /// arrive on data sockets are counted and dropped.
    pub fn new() -> Result<Self, Error> {
        Self::start(None, DataplaneOptions::default())
    }

    /// Starts the data-path threads; control messages that arrive on data sockets (adopted
    /// ones, typically) are sent to `sink`.
    pub fn with_control_sink(sink: ControlSink) -> Result<Self, Error> {
        Self::start(Some(sink), DataplaneOptions::default())
    }

    /// Starts the data-path threads as `options` say, after probing what the kernel offers
    /// ([`UserspaceDataplane::support`]); control messages that arrive on data sockets go to
    /// `sink`, if any.
    pub fn with_options(
        sink: Option<ControlSink>,
        options: DataplaneOptions,
    ) -> Result<Self, Error> {
        Self::start(sink, options)
    }

    fn start(sink: Option<ControlSink>, options: DataplaneOptions) -> Result<Self, Error> {
        let support = OffloadSupport::probe(&options);
        let sink = sink.map(Arc::new);
        let totals = Arc::new(TotalCounters::default());
        let mut workers = Vec::with_capacity(support.threads);
        let mut common = None;
        for i in 0..support.threads {
            let wake = Arc::new(
                EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
                    .map_err(io::Error::from)?,
            );
            // Worker 0 reports native-PPP activity; it is woken when there is some.
            let common = common
                .get_or_insert_with(|| Arc::new(PppCommon::new(Arc::clone(&wake))))
                .clone();
            let (commands, rx) = mpsc::channel();
            let (ppp_changes, ppp_rx) = mpsc::channel();
            let ppp_queued = Arc::new(AtomicUsize::new(0));
            let shared = (common, Arc::clone(&totals), i == 0);
            let ppp_in = (ppp_rx, Arc::clone(&ppp_queued));
            let worker = Worker::new(Arc::clone(&wake), (rx, ppp_in), sink.clone(), shared)?;
            let thread = std::thread::Builder::new()
                .name(format!("l2tp-dataplane-{i}"))
                .spawn(move || worker.run())?;
            workers.push(WorkerHandle {
                commands,
                ppp_changes,
                ppp_queued,
                wake,
                thread: Some(thread),
                tunnels: 0,
            });
        }
        let common = common.ok_or(Error::WorkerGone)?;
        Ok(Self {
            totals,
            workers,
            support,
            tunnels: HashMap::new(),
            sessions: HashMap::new(),
            ppp: PppTable::new(common),
            groups: HashMap::new(),
            last_group: 0,
        })
    }

    /// What the data plane uses: threads, multi-queue TAPs and offloads, as probed at start.
    pub fn support(&self) -> OffloadSupport {
        self.support
    }

    /// Installs a tunnel: opens (or adopts) its data socket, bound to `local` and connected to
    /// `peer`.
    pub fn add_tunnel(&mut self, spec: TunnelSpec) -> Result<(), Error> {
        if self.tunnels.contains_key(&spec.tid) {
            return Err(Error::TunnelExists(spec.tid));
        }
        if spec.version == Version::V2 && (spec.encap != Encapsulation::Udp || spec.tid > 0xffff) {
            return Err(Error::Invalid(
                "L2TPv2 runs over UDP, with 16-bit tunnel ids (RFC 2661 §3.1)".into(),
            ));
        }
        let socket = match spec.socket {
            Some(s) => {
                socket::configure(
                    s.as_fd(),
                    spec.encap,
                    spec.local.is_ipv6(),
                    spec.udp_checksums,
                )?;
                s
            }
            None => socket::open(spec.encap, spec.local, spec.peer, spec.udp_checksums)?,
        };
        // An adopted socket that is not connected to the peer (the daemon connects the socket
        // of a tunnel whose peer's address and port are another tunnel's to the address
        // only) sends to the peer explicitly.
        let udp = spec.encap == Encapsulation::Udp;
        // Over IP the port means nothing, and a raw IPv6 socket refuses a destination whose
        // port is not its protocol's (or 0): the peer is its address alone.
        let port_of = |a: SocketAddr| if udp { a } else { SocketAddr::new(a.ip(), 0) };
        let peer = port_of(spec.peer);
        let connected = socket2::SockRef::from(&socket)
            .peer_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(port_of);
        let dest = (connected != Some(peer)).then(|| socket2::SockAddr::from(peer));
        let offloads = self.support.requested && udp;
        // GSO needs UDP checksums (the kernel refuses it with SO_NO_CHECK).
        let gso = offloads && self.support.udp_gso && (spec.udp_checksums || spec.local.is_ipv6());
        let gro = offloads && self.support.udp_gro && sys::set_udp_gro(socket.as_fd()).is_ok();
        let counters = Arc::new(TunnelCounters::default());
        // The tunnels of one (local, peer) pair share a group and a home: the kernel gives
        // all their datagrams to one of their sockets.
        let tuple = match (udp, connected) {
            (true, Some(peer)) => socket2::SockRef::from(&socket)
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .map(|local| (local, peer)),
            _ => None,
        };
        let (group, home) = match tuple.and_then(|t| self.groups.get(&t)) {
            Some(g) => (g.id, g.home),
            None => {
                self.last_group += 1;
                let home = (0..self.workers.len())
                    .min_by_key(|&w| self.workers[w].tunnels)
                    .unwrap_or(0);
                (self.last_group, home)
            }
        };
        let shared = Arc::new(TunnelShared {
            tid: spec.tid,
            group,
            encap: spec.encap,
            ipv4: spec.local.is_ipv4(),
            socket,
            dest,
            counters: Arc::clone(&counters),
            totals: Arc::clone(&self.totals),
            gso: AtomicBool::new(gso),
            gso_max: AtomicUsize::new(usize::MAX),
            gro,
        });
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(home, Command::AddTunnel(Arc::clone(&shared), reply))?;
        answer
            .recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| Error::WorkerGone)??;
        self.workers[home].tunnels += 1;
        if let Some(t) = tuple {
            self.groups
                .entry(t)
                .or_insert(TunnelGroup {
                    id: group,
                    home,
                    tunnels: 0,
                })
                .tunnels += 1;
        }
        self.tunnels.insert(
            spec.tid,
            TunnelEntry {
                encap: spec.encap,
                version: spec.version,
                peer_ip: spec.peer.ip(),
                ipv6: spec.local.is_ipv6(),
                home,
                tuple,
                shared,
                counters,
                sessions: std::collections::HashSet::new(),
            },
        );
        Ok(())
    }

    /// Installs a session: creates, configures and brings up its TAP, then starts carrying
    /// frames. Returns the interface's name.
    pub fn add_session(&mut self, spec: SessionSpec) -> Result<String, Error> {
        let tunnel = self
            .tunnels
            .get(&spec.tid)
            .ok_or(Error::UnknownTunnel(spec.tid))?;
        if self.sessions.contains_key(&spec.sid) || self.ppp.has_key(u64::from(spec.sid)) {
            return Err(Error::SessionExists(spec.sid));
        }
        if tunnel.version == Version::V2 {
            return Err(Error::Invalid(
                "L2TPv2 tunnels carry PPP sessions only".into(),
            ));
        }
        if spec.sid == 0 || spec.peer_sid == 0 {
            return Err(Error::Invalid(
                "session id 0 is reserved (RFC 3931 §4.1)".into(),
            ));
        }
        if (spec.send_seq || spec.recv_seq) && spec.l2spec != L2SpecificSublayer::Default {
            return Err(Error::Invalid(
                "sequencing needs the default L2-Specific Sublayer".into(),
            ));
        }
        if spec.vlan_id.is_some_and(|v| v == 0 || v > 4094) {
            return Err(Error::Invalid("VLAN id out of range 1-4094".into()));
        }
        let codec = SessionCodec::new(CodecSpec {
            encap: tunnel.encap,
            peer_sid: spec.peer_sid,
            cookie: spec.cookie,
            peer_cookie: spec.peer_cookie,
            l2spec: spec.l2spec,
            send_seq: spec.send_seq,
            recv_seq: spec.recv_seq,
            pseudowire_type: spec.pseudowire_type,
            vlan_id: spec.vlan_id,
            reorder: spec.recv_seq && spec.reorder_timeout_ms > 0,
        });
        let name = spec
            .interface_name
            .as_deref()
            .unwrap_or(DEFAULT_INTERFACE_TEMPLATE);
        let n = self.workers.len();
        // A session that numbers its packets has one queue, so that they leave in order.
        let queues = if codec.sends_sequence() || !self.support.multi_queue {
            1
        } else {
            n
        };
        let vnet = self.support.requested && self.support.tap_tso;
        let (taps, offloads) = Tap::create_queues(
            name,
            TapOptions {
                vnet,
                queues,
                tun: false,
            },
        )
        .map_err(|e| setup_error(name, SetupStep::Create, &e))?;
        let tap = &taps[0];
        let tap_name = tap.name();
        if let Some(mac) = spec.mac {
            tap.set_mac(mac)
                .map_err(|e| setup_error(tap_name, SetupStep::Mac(mac), &e))?;
        }
        // An Ethernet VLAN pseudowire pushes its tag on frames that leave the TAP untagged.
        let tag = match (spec.pseudowire_type, spec.vlan_id) {
            (PseudowireType::EthVlan, Some(_)) => 4,
            _ => 0,
        };
        let mtu = spec.mtu.map_or_else(
            || default_mtu(tunnel.encap, tunnel.ipv6, codec.header_len() + tag),
            u32::from,
        );
        tap.set_mtu(mtu)
            .map_err(|e| setup_error(tap_name, SetupStep::Mtu(mtu), &e))?;
        if let Some(bridge) = &spec.bridge {
            tap.add_to_bridge(bridge)
                .map_err(|e| setup_error(tap_name, SetupStep::Bridge(bridge), &e))?;
        }
        if let Some((ip, mask)) = spec.ipv4 {
            tap.set_ipv4(ip, mask)
                .map_err(|e| setup_error(tap_name, SetupStep::Ipv4(ip), &e))?;
        }
        tap.set_up()
            .map_err(|e| setup_error(tap_name, SetupStep::Up, &e))?;
        let interface_name = tap.name().to_owned();
        let counters = Arc::new(SessionCounters::default());
        let home = tunnel.home;
        let shared = Arc::clone(&tunnel.shared);
        let mut states = Vec::with_capacity(taps.len());
        let mut codecs = Vec::with_capacity(taps.len());
        for _ in 1..taps.len() {
            codecs.push(codec.fresh());
        }
        codecs.insert(0, codec);
        for (j, (tap, codec)) in taps.into_iter().zip(codecs).enumerate() {
            let first = j == 0;
            let reorder = (first && spec.recv_seq && spec.reorder_timeout_ms > 0).then(|| {
                crate::reorder::ReorderQueue::new(Duration::from_millis(
                    spec.reorder_timeout_ms.into(),
                ))
            });
            states.push((
                (home + j) % n,
                SessionState {
                    sid: spec.sid,
                    tid: spec.tid,
                    tap,
                    tunnel: Arc::clone(&shared),
                    codec,
                    home: first,
                    offloads,
                    reorder,
                    counters: Arc::clone(&counters),
                    totals: Arc::clone(&self.totals),
                    cookie_report: CookieReporting::default(),
                    frame_limit: FrameLimit::new(mtu),
                },
            ));
        }
        let mut workers = Vec::with_capacity(states.len());
        let mut failed = None;
        for (w, state) in states {
            let (reply, answer) = mpsc::sync_channel(1);
            let r = self
                .send(w, Command::AddSession(Box::new(state), reply))
                .and_then(|()| {
                    answer
                        .recv_timeout(REPLY_TIMEOUT)
                        .map_err(|_| Error::WorkerGone)?
                        .map_err(Error::from)
                });
            match r {
                Ok(()) => workers.push(w),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            for w in workers {
                let (reply, answer) = mpsc::sync_channel(1);
                if self
                    .send(w, Command::RemoveSession(spec.sid, reply))
                    .is_ok()
                {
                    let _ = answer.recv_timeout(REPLY_TIMEOUT);
                }
            }
            return Err(e);
        }
        if let Some(t) = self.tunnels.get_mut(&spec.tid) {
            t.sessions.insert(spec.sid);
        }
        self.sessions.insert(
            spec.sid,
            SessionEntry {
                tid: spec.tid,
                workers,
                interface_name: interface_name.clone(),
                counters,
            },
        );
        Ok(interface_name)
    }

    /// Removes a session and deletes its TAP.
    pub fn remove_session(&mut self, sid: u32) -> Result<(), Error> {
        let Some(entry) = self.sessions.remove(&sid) else {
            return Err(Error::UnknownSession(sid));
        };
        if let Some(t) = self.tunnels.get_mut(&entry.tid) {
            t.sessions.remove(&sid);
        }
        let mut answers = Vec::with_capacity(entry.workers.len());
        for &w in &entry.workers {
            let (reply, answer) = mpsc::sync_channel(1);
            self.send(w, Command::RemoveSession(sid, reply))?;
            answers.push(answer);
        }
        for answer in answers {
            answer
                .recv_timeout(REPLY_TIMEOUT)
                .map_err(|_| Error::WorkerGone)?;
        }
        Ok(())
    }

    /// Removes a tunnel, its sessions and their TAPs.
    pub fn remove_tunnel(&mut self, tid: u32) -> Result<(), Error> {
        if !self.tunnels.contains_key(&tid) {
            return Err(Error::UnknownTunnel(tid));
        }
        self.remove_tunnel_ppp(tid)?;
        let Some(entry) = self.tunnels.remove(&tid) else {
            return Err(Error::UnknownTunnel(tid));
        };
        let sids: Vec<u32> = entry.sessions.into_iter().collect();
        for sid in &sids {
            self.sessions.remove(sid);
        }
        if let Some(w) = self.workers.get_mut(entry.home) {
            w.tunnels = w.tunnels.saturating_sub(1);
        }
        if let Some(t) = entry.tuple
            && let Some(g) = self.groups.get_mut(&t)
        {
            g.tunnels -= 1;
            if g.tunnels == 0 {
                self.groups.remove(&t);
            }
        }
        let mut answers = Vec::with_capacity(self.workers.len());
        for w in 0..self.workers.len() {
            let (reply, answer) = mpsc::sync_channel(1);
            self.send(w, Command::RemoveTunnel(tid, sids.clone(), reply))?;
            answers.push(answer);
        }
        for answer in answers {
            answer
                .recv_timeout(REPLY_TIMEOUT)
                .map_err(|_| Error::WorkerGone)?;
        }
        Ok(())
    }

    /// Removes every tunnel and session.
    pub fn remove_all(&mut self) {
        let tids: Vec<u32> = self.tunnels.keys().copied().collect();
        for tid in tids {
            let _ = self.remove_tunnel(tid);
        }
    }

    /// Offers a data packet that arrived on another socket (the control plane's), from the L2TP
    /// header on. Returns whether it was a data packet, which the data path then delivers;
    /// control messages are left to the caller.
    pub fn handle_data(&self, encap: Encapsulation, packet: &[u8]) -> bool {
        if !is_data(encap, packet) {
            return false;
        }
        // The session's home worker decapsulates it; an unknown session is counted by any.
        let home = match l2tp_proto::wire::header::Packet::parse(packet, encap) {
            Ok(l2tp_proto::wire::header::Packet::V3Data { session_id, .. }) => self
                .sessions
                .get(&session_id)
                .and_then(|s| s.workers.first().copied())
                .or_else(|| self.ppp.home(u64::from(session_id)))
                .unwrap_or(0),
            Ok(l2tp_proto::wire::header::Packet::V2Data { header, .. }) => self
                .ppp
                .home(v2_key(header.tunnel_id, header.session_id))
                .unwrap_or(0),
            _ => 0,
        };
        self.send(home, Command::Inject(encap, packet.to_vec()))
            .is_ok()
    }

    /// A snapshot of a session's counters.
    pub fn stats(&self, sid: u32) -> Option<SessionStats> {
        self.sessions.get(&sid).map(|s| s.counters.snapshot())
    }

    /// Counters over every session, including those removed since.
    pub fn totals(&self) -> DataplaneTotals {
        self.totals.snapshot()
    }

    /// A snapshot of a tunnel's counters.
    pub fn tunnel_stats(&self, tid: u32) -> Option<TunnelStats> {
        self.tunnels.get(&tid).map(|t| t.counters.snapshot())
    }

    /// The interface carrying a session.
    pub fn interface_name(&self, sid: u32) -> Option<&str> {
        self.sessions.get(&sid).map(|s| s.interface_name.as_str())
    }

    /// Numbers of installed tunnels and sessions (native-PPP ones included).
    pub fn counts(&self) -> (usize, usize) {
        (self.tunnels.len(), self.sessions.len() + self.ppp.len())
    }

    fn send(&self, worker: usize, command: Command) -> Result<(), Error> {
        let w = self.workers.get(worker).ok_or(Error::WorkerGone)?;
        w.commands.send(command).map_err(|_| Error::WorkerGone)?;
        w.wake.write(1).map_err(io::Error::from)?;
        Ok(())
    }
}

impl Drop for UserspaceDataplane {
    fn drop(&mut self) {
        for w in 0..self.workers.len() {
            let _ = self.send(w, Command::Stop);
        }
        for w in &mut self.workers {
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// Whether an L2TP packet is a data packet: over IP, the first 32 bits are a non-zero session
/// id; over UDP, T = 0 and Ver is 3, or 2 (an L2TPv2 data message, RFC 2661 §3.1).
fn is_data(encap: Encapsulation, packet: &[u8]) -> bool {
    match encap {
        Encapsulation::Ip => packet.get(..4).is_some_and(|id| id != [0, 0, 0, 0]),
        Encapsulation::Udp => packet
            .get(..2)
            .is_some_and(|f| f[0] & 0x80 == 0 && matches!(f[1] & 0x0f, 2 | 3)),
    }
}

/// The MTU a session's TAP gets when none is configured: an Ethernet frame of that payload, in
/// its L2TP, UDP and IP headers (and a VLAN tag the data plane pushes, counted in
/// `session_header_len`), fits a 1500-octet underlay without fragmentation (the kernel's
/// `l2tp_eth` computes the same from the route's MTU).
pub fn default_mtu(encap: Encapsulation, ipv6: bool, session_header_len: usize) -> u32 {
    let ip = if ipv6 { 40 } else { 20 };
    let udp = if encap == Encapsulation::Udp { 8 } else { 0 };
    let ethernet = 14;
    UNDERLAY_MTU - ip - udp - session_header_len as u32 - ethernet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mtus() {
        assert_eq!(default_mtu(Encapsulation::Udp, false, 8), 1450);
        assert_eq!(default_mtu(Encapsulation::Ip, false, 4), 1462);
        assert_eq!(default_mtu(Encapsulation::Udp, true, 20), 1418);
    }

    #[test]
    fn data_packets_are_told_from_control_messages() {
        assert!(is_data(Encapsulation::Udp, &[0x00, 0x03, 0, 0, 0, 0, 0, 1]));
        assert!(!is_data(Encapsulation::Udp, &[0xc8, 0x03, 0, 12]));
        assert!(is_data(Encapsulation::Udp, &[0x00, 0x02, 0, 1]));
        assert!(!is_data(Encapsulation::Udp, &[0xc8, 0x02, 0, 12]));
        assert!(!is_data(Encapsulation::Udp, &[0x00, 0x04, 0, 1]));
        assert!(is_data(Encapsulation::Ip, &[0, 0, 0, 9]));
        assert!(!is_data(Encapsulation::Ip, &[0, 0, 0, 0, 0xc8, 0x03]));
        assert!(!is_data(Encapsulation::Ip, &[0, 0]));
    }

    #[test]
    fn specs_are_checked_before_anything_is_created() {
        let Ok(mut dp) = UserspaceDataplane::new() else {
            panic!("starting the data-path thread");
        };
        assert!(matches!(
            dp.add_session(SessionSpec::eth(1, 2, 3)),
            Err(Error::UnknownTunnel(1))
        ));
        assert!(matches!(
            dp.remove_session(2),
            Err(Error::UnknownSession(2))
        ));
        assert!(matches!(dp.remove_tunnel(1), Err(Error::UnknownTunnel(1))));
        let local: SocketAddr = ([127, 0, 0, 1], 0).into();
        let peer: SocketAddr = ([127, 0, 0, 1], 9).into();
        let spec = TunnelSpec::new(1, 2, Encapsulation::Udp, local, peer);
        dp.add_tunnel(spec).unwrap_or_else(|e| panic!("{e}"));
        let again = TunnelSpec::new(1, 2, Encapsulation::Udp, local, peer);
        assert!(matches!(dp.add_tunnel(again), Err(Error::TunnelExists(1))));
        assert!(matches!(
            dp.add_session(SessionSpec::eth(1, 0, 3)),
            Err(Error::Invalid(_))
        ));
        let mut seq = SessionSpec::eth(1, 2, 3);
        seq.send_seq = true;
        assert!(matches!(dp.add_session(seq), Err(Error::Invalid(_))));
        assert_eq!(dp.counts(), (1, 0));
        assert!(dp.tunnel_stats(1).is_some());
        assert!(dp.stats(2).is_none());
        dp.remove_tunnel(1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dp.counts(), (0, 0));
    }
}
