//! The userspace data plane in l2tpd: an adapter from the daemon's [`Dataplane`] to
//! `l2tp_dataplane::UserspaceDataplane`, which carries L2TPv3 Ethernet pseudowires over TAP
//! devices, and native-PPP sessions (L2TPv2, and L2TPv3 PPP pseudowires, [`PppSpec::Native`])
//! with their IP over one shared TUN (`ppp_interface`), on data-path threads of its own.
//!
//! Native PPP: the session's control frames come back as [`DataplaneEvent::PppFrame`] and go
//! out with [`Dataplane::send_ppp`]; [`Dataplane::ppp_up`] routes the peer's IPv4 address and
//! its IPv6 link-local address `fe80::<peer id>` through the TUN (and answers with the TUN's
//! name as the session's interface); the sessions that carried IP are reported at most every
//! [`super::PPP_ACTIVITY_PERIOD`] ([`DataplaneEvent::PppActivity`]). IP packets from a
//! session whose source is not the peer's address are dropped, counted in the session's
//! `rx_errors` and logged at most once a second per session. PPP with pppd is refused: there is no kernel PPP to give pppd.
//!
//! Sockets: an L2TPv3-over-UDP tunnel's own connected socket is handed to the data path (a
//! duplicate of its descriptor), the way the kernel's data plane takes over a tunnel socket.
//! From then on the data path reads it: data packets go to the TAPs, and control messages come
//! back to the daemon as [`DataplaneEvent::Control`]. An IP-encapsulated tunnel gets a raw
//! protocol-115 socket of the data path's own; raw sockets each see a copy of every packet, so
//! the daemon's listen socket still gets the control messages, and the data packets it also
//! sees are left to the data path ([`Dataplane::handle_data`]).
//!
//! The data path's threads and offloads come from `dataplane_threads` and `dataplane_offloads`;
//! what the kernel lacks of them is logged once at start.
//!
//! A session whose TAP interface is deleted by someone else (`ip link del`) is dropped by the
//! data path and reported down ([`DataplaneEvent::SessionDown`]); the core disconnects it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::BorrowedFd;

use l2tp_config::PseudowireType;
use l2tp_dataplane as dp;
use l2tp_proto::wire::header::{Encapsulation, Version};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::api::{
    DataStats, Dataplane, DataplaneError, DataplaneEvent, Kind, PppNetwork, PppSpec,
    SessionInstalled, SessionSpec, TunnelDataStats, TunnelInstalled, TunnelSpec,
};
use super::bridges::BridgeWatch;
use super::names::{InterfaceNames, template};

/// The userspace data plane.
#[derive(Debug)]
pub struct UserspaceAdapter {
    dp: dp::UserspaceDataplane,
    events: Option<UnboundedReceiver<DataplaneEvent>>,
    /// Local session ids by (tid, sid): the data path keys sessions by session id alone.
    /// Ordered, so that a tunnel's sessions are a range.
    sessions: BTreeMap<(u32, u32), u32>,
    /// The native-PPP sessions, by (tid, sid).
    ppp: BTreeSet<(u32, u32)>,
    names: InterfaceNames,
    /// The last counts of the sessions removed so far.
    retired: DataStats,
    /// rtnetlink, for the addresses the data path does not set itself (IPv6), opened when
    /// first needed.
    rtnl: Option<l2tp_dataplane::kernel::Rtnl>,
    /// The bridges the sessions' TAPs are ports of.
    bridges: BridgeWatch,
}

/// Whether this host can make TAP devices; else why not.
pub fn probe() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .map(drop)
        .map_err(|e| format!("cannot open /dev/net/tun for TAP devices: {e}"))
}

impl UserspaceAdapter {
    /// Starts the data-path threads with `options`, and logs once what the kernel lets them
    /// use; native-PPP sessions will share the TUN `ppp_interface`.
    pub fn open(options: dp::DataplaneOptions, ppp_interface: &str) -> Result<Self, String> {
        probe()?;
        let (tx, rx) = unbounded_channel();
        let sink = dp::ControlSink::new(move |e: dp::SinkEvent| {
            let event = match e {
                dp::SinkEvent::PppFrame(f) => DataplaneEvent::PppFrame {
                    tid: f.tid,
                    sid: f.sid,
                    frame: f.frame,
                },
                dp::SinkEvent::PppEchoReplies(r) => DataplaneEvent::PppFrames {
                    frames: r.into_iter().map(|f| (f.tid, f.sid, f.frame)).collect(),
                },
                dp::SinkEvent::PppActivity(a) => DataplaneEvent::PppActivity {
                    sessions: a
                        .into_iter()
                        .map(|s| (s.tid, s.sid, s.received, s.sent))
                        .collect(),
                },
                dp::SinkEvent::PppDropped(r) => {
                    // Rate-limited by the data path (once a second per session and reason);
                    // nothing for the engine to do.
                    log_ppp_drop(&r);
                    return;
                }
                dp::SinkEvent::Control(p) => DataplaneEvent::Control {
                    tid: p.tid,
                    packet: p.packet,
                },
                dp::SinkEvent::EarlyData(p) => DataplaneEvent::EarlyData {
                    tid: p.tid,
                    packet: p.packet,
                },
                dp::SinkEvent::WrongCookie(r) => DataplaneEvent::WrongCookie {
                    tid: r.tid,
                    sid: r.sid,
                    dropped: r.dropped,
                },
                dp::SinkEvent::SessionDown(d) => DataplaneEvent::SessionDown {
                    tid: d.tid,
                    sid: d.sid,
                    reason: d.reason,
                },
            };
            // The daemon may be stopping; the event is then dropped.
            let _ = tx.send(event);
        });
        let mut dp = dp::UserspaceDataplane::with_options(Some(sink), options)
            .map_err(|e| format!("cannot start the data path: {e}"))?;
        dp.set_ppp_interface(ppp_interface);
        let support = dp.support();
        crate::notice!("userspace data plane: {support}");
        for missing in support.missing() {
            tracing::warn!("userspace data plane: the kernel lacks {missing}; carrying without");
        }
        Ok(Self {
            dp,
            events: Some(rx),
            sessions: BTreeMap::new(),
            ppp: BTreeSet::new(),
            names: InterfaceNames::default(),
            retired: DataStats::default(),
            rtnl: None,
            bridges: BridgeWatch::default(),
        })
    }

    /// Keeps the last counts of data-path session `sid`, which is being removed.
    fn retire(&mut self, sid: u32) {
        if let Some(s) = self.dp.stats(sid) {
            self.retired.add(&data_stats(s));
        }
    }

    /// Keeps the last counts of native-PPP session `tid`/`sid`, which is being removed.
    fn retire_ppp(&mut self, tid: u32, sid: u32) {
        if let Some(s) = self.dp.ppp_stats(tid, sid) {
            self.retired.add(&data_stats(s));
        }
    }

    /// Installs native-PPP session `spec`.
    fn install_ppp(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        let cookie = |b: &[u8]| {
            dp::Cookie::new(b).ok_or_else(|| {
                DataplaneError::Unavailable(format!("a cookie of {} octets", b.len()))
            })
        };
        let s = dp::PppSessionSpec {
            tid: spec.tid,
            sid: spec.sid,
            peer_tid: spec.peer_tid,
            peer_sid: spec.peer_sid,
            cookie: cookie(&spec.cookie)?,
            peer_cookie: cookie(&spec.peer_cookie)?,
            l2spec: spec.l2spec,
            send_seq: spec.send_seq,
            recv_seq: spec.recv_seq,
            lns: spec.lns,
        };
        self.dp.add_ppp_session(s).map_err(error)?;
        self.ppp.insert((spec.tid, spec.sid));
        // No interface until its network layer is up (the shared TUN).
        Ok(SessionInstalled::default())
    }

    /// Gives TAP `name` the session's IPv6 address (with its peer address, if any) over
    /// rtnetlink; the data path sets IPv4 ones itself.
    fn set_ipv6(&mut self, name: &str, spec: &SessionSpec) -> Result<(), DataplaneError> {
        use l2tp_dataplane::kernel::{LinkSetup, Rtnl, rtnl};
        let Some(local @ IpAddr::V6(_)) = spec.local_ip else {
            return Ok(());
        };
        let rtnl = match &mut self.rtnl {
            Some(r) => r,
            slot => slot.insert(Rtnl::open().map_err(|e| {
                DataplaneError::Io(std::io::Error::new(e.kind(), format!("rtnetlink: {e}")))
            })?),
        };
        let setup = LinkSetup {
            local_ip: Some(local),
            peer_ip: spec.peer_ip,
            prefix_len: spec.netmask.and_then(rtnl::prefix_len),
            ..LinkSetup::default()
        };
        rtnl.setup(name, &setup).map_err(|e| {
            DataplaneError::Io(std::io::Error::new(
                e.kind(),
                format!("setting {local} on {name}: {e}"),
            ))
        })
    }
}

/// The data path's counters of a session in the daemon's terms.
fn data_stats(s: dp::SessionStats) -> DataStats {
    DataStats {
        rx_packets: s.rx_packets,
        rx_bytes: s.rx_bytes,
        rx_errors: s.rx_errors,
        rx_cookie_mismatches: s.cookie_mismatches,
        rx_seq_errors: s.seq_errors,
        rx_oversize: s.oversize,
        rx_reordered: s.reordered,
        tx_packets: s.tx_packets,
        tx_bytes: s.tx_bytes,
        tx_errors: s.tx_errors,
    }
}

fn error(e: dp::Error) -> DataplaneError {
    match e {
        dp::Error::Io(e) => DataplaneError::Io(e),
        dp::Error::UnknownTunnel(tid) => DataplaneError::Unknown { tid, sid: None },
        other => DataplaneError::Unavailable(other.to_string()),
    }
}

/// The TAP's IPv4 address and netmask from `local_ip` and `netmask` (a host route, /32, when
/// no netmask is given), which the data path sets itself; IPv6 addresses are set over
/// rtnetlink ([`UserspaceAdapter::set_ipv6`]).
fn ipv4(spec: &SessionSpec) -> Result<Option<(Ipv4Addr, Ipv4Addr)>, DataplaneError> {
    match (spec.local_ip, spec.netmask) {
        (None | Some(IpAddr::V6(_)), _) => Ok(None),
        (Some(IpAddr::V4(ip)), None) => Ok(Some((ip, Ipv4Addr::BROADCAST))),
        (Some(IpAddr::V4(ip)), Some(IpAddr::V4(mask))) => Ok(Some((ip, mask))),
        (Some(ip), Some(mask)) => Err(DataplaneError::Unavailable(format!(
            "local_ip {ip} with netmask {mask}: not of the same family"
        ))),
    }
}

impl Dataplane for UserspaceAdapter {
    fn name(&self) -> &'static str {
        "userspace"
    }

    fn install_tunnel(
        &mut self,
        spec: &TunnelSpec,
        socket: Option<BorrowedFd<'_>>,
    ) -> Result<TunnelInstalled, DataplaneError> {
        let encap = spec.encap;
        let mut t = dp::TunnelSpec::new(spec.tid, spec.peer_tid, encap, spec.local, spec.peer);
        t.udp_checksums = spec.udp_checksums;
        t.version = match spec.version {
            Version::V2 => dp::Version::V2,
            Version::V3 => dp::Version::V3,
        };
        let adopted = encap == dp::Encapsulation::Udp;
        if adopted && let Some(fd) = socket {
            t.socket = Some(fd.try_clone_to_owned()?);
        }
        self.dp.add_tunnel(t).map_err(error)?;
        Ok(TunnelInstalled {
            adopted_socket: adopted,
        })
    }

    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError> {
        let gone: Vec<(u32, u32)> = self
            .sessions
            .range((tid, 0)..=(tid, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for (t, sid) in gone {
            if let Some(local) = self.sessions.remove(&(t, sid)) {
                self.retire(local);
            }
            self.bridges.forget(t, sid);
            self.names.release(t, sid);
        }
        let native: Vec<(u32, u32)> = self
            .ppp
            .range((tid, 0)..=(tid, u32::MAX))
            .copied()
            .collect();
        for (t, sid) in native {
            self.retire_ppp(t, sid);
            self.ppp.remove(&(t, sid));
        }
        self.dp.remove_tunnel(tid).map_err(error)
    }

    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        let use_pppd = matches!(spec.ppp, Some(PppSpec::Pppd(_)));
        if let Some(why) = Kind::Userspace.refusal(Version::V3, spec.pseudowire_type, use_pppd) {
            return Err(DataplaneError::Unavailable(why));
        }
        if spec.pseudowire_type == PseudowireType::Ppp {
            return self.install_ppp(spec);
        }
        let cookie = |b: &[u8]| {
            dp::Cookie::new(b).ok_or_else(|| {
                DataplaneError::Unavailable(format!("a cookie of {} octets", b.len()))
            })
        };
        let name = self.names.take(
            spec.tid,
            spec.sid,
            template(spec.interface_name.as_deref(), false),
        );
        let s = dp::SessionSpec {
            tid: spec.tid,
            sid: spec.sid,
            peer_sid: spec.peer_sid,
            pseudowire_type: if spec.pseudowire_type == PseudowireType::EthVlan {
                dp::PseudowireType::EthVlan
            } else {
                dp::PseudowireType::Eth
            },
            cookie: cookie(&spec.cookie)?,
            peer_cookie: cookie(&spec.peer_cookie)?,
            l2spec: spec.l2spec,
            send_seq: spec.send_seq,
            recv_seq: spec.recv_seq,
            reorder_timeout_ms: spec.reorder_timeout_ms,
            interface_name: Some(name),
            mtu: spec.mtu,
            mac: spec.mac.map(|m| m.0),
            vlan_id: spec.vlan_id,
            bridge: spec.bridge.clone(),
            ipv4: ipv4(spec)?,
        };
        match self.dp.add_session(s) {
            Ok(name) => {
                if let Err(e) = self.set_ipv6(&name, spec) {
                    let _ = self.dp.remove_session(spec.sid);
                    self.names.release(spec.tid, spec.sid);
                    return Err(e);
                }
                self.sessions.insert((spec.tid, spec.sid), spec.sid);
                if let Some(bridge) = &spec.bridge {
                    self.bridges.watch(spec.tid, spec.sid, &name, bridge);
                }
                Ok(SessionInstalled {
                    interface_name: Some(name),
                })
            }
            Err(e) => {
                self.names.release(spec.tid, spec.sid);
                Err(error(e))
            }
        }
    }

    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        if self.ppp.remove(&(tid, sid)) {
            self.retire_ppp(tid, sid);
            return self.dp.remove_ppp_session(tid, sid).map_err(error);
        }
        let Some(sid) = self.sessions.remove(&(tid, sid)) else {
            return Err(DataplaneError::Unknown {
                tid,
                sid: Some(sid),
            });
        };
        self.names.release(tid, sid);
        self.bridges.forget(tid, sid);
        self.retire(sid);
        self.dp.remove_session(sid).map_err(error)
    }

    fn handle_data(&mut self, encap: Encapsulation, packet: &[u8]) -> bool {
        match encap {
            Encapsulation::Udp => self.dp.handle_data(dp::Encapsulation::Udp, packet),
            // The data path's own raw socket has a copy already.
            Encapsulation::Ip => packet.get(..4).is_some_and(|id| id != [0, 0, 0, 0]),
        }
    }

    fn send_ppp(&mut self, tid: u32, sid: u32, frame: &[u8]) -> Result<(), DataplaneError> {
        self.dp.send_ppp(tid, sid, frame).map_err(error)
    }

    fn counts_ppp_send_errors(&self) -> bool {
        true
    }

    fn ppp_up(
        &mut self,
        tid: u32,
        sid: u32,
        net: &PppNetwork,
    ) -> Result<SessionInstalled, DataplaneError> {
        let n = dp::PppNet {
            ipv4: net.ipv4,
            ipv6: net.ipv6,
            mtu: net.mtu,
            framing: dp::ppp::Framing {
                acfc: net.acfc,
                pfc: net.pfc,
            },
        };
        let tun = self.dp.ppp_up(tid, sid, &n).map_err(error)?;
        Ok(SessionInstalled {
            interface_name: tun,
        })
    }

    fn ppp_down(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        match self.dp.ppp_down(tid, sid) {
            // Gone with its tunnel (a StopCCN takes the data plane's sessions before their
            // links go down): nothing carries its IP any more.
            Err(dp::Error::UnknownSession(_) | dp::Error::UnknownTunnel(_)) => Ok(()),
            r => r.map_err(error),
        }
    }

    fn session_stats(&self, tid: u32, sid: u32) -> Option<DataStats> {
        if self.ppp.contains(&(tid, sid)) {
            return self.dp.ppp_stats(tid, sid).map(data_stats);
        }
        let sid = self.sessions.get(&(tid, sid))?;
        self.dp.stats(*sid).map(data_stats)
    }

    fn tunnel_stats(&self, tid: u32) -> Option<TunnelDataStats> {
        let t = self.dp.tunnel_stats(tid)?;
        Some(TunnelDataStats {
            peer_unreachable: t.peer_unreachable,
        })
    }

    fn data_totals(&self) -> Option<DataStats> {
        let mut total = self.retired;
        for sid in self.sessions.values() {
            if let Some(s) = self.dp.stats(*sid) {
                total.add(&data_stats(s));
            }
        }
        for (tid, sid) in &self.ppp {
            if let Some(s) = self.dp.ppp_stats(*tid, *sid) {
                total.add(&data_stats(s));
            }
        }
        Some(total)
    }

    fn drops(&self) -> dp::DataplaneTotals {
        self.dp.totals()
    }

    fn bridge_ports_lost(&self) -> u64 {
        self.bridges.lost()
    }

    fn take_events(&mut self) -> Option<UnboundedReceiver<DataplaneEvent>> {
        self.events.take()
    }

    fn counts(&self) -> (usize, usize) {
        self.dp.counts()
    }

    fn remove_all(&mut self) {
        self.dp.remove_all();
        self.sessions.clear();
        self.ppp.clear();
        self.names.clear();
    }
}

/// The log line of a native-PPP session's dropped frames (counted in its `rx_errors`).
fn log_ppp_drop(r: &dp::PppDropReport) {
    let (tid, sid, n) = (r.tid, r.sid, r.dropped);
    match r.why {
        dp::PppDrop::Spoofed { source, expected } => {
            let family = if source.is_ipv4() { "IPv4" } else { "IPv6" };
            let expected =
                expected.map_or_else(|| format!("none ({family} down)"), |a| a.to_string());
            tracing::warn!(
                "session {tid}/{sid}: {n} {family} packet(s) dropped: source {source} is not the \
                 peer's address {expected}"
            );
        }
        dp::PppDrop::NotCarried(v) => {
            let (family, ncp) = match v {
                dp::ppp::IpVersion::V4 => ("IPv4", "IPCP"),
                dp::ppp::IpVersion::V6 => ("IPv6", "IPv6CP"),
            };
            tracing::info!(
                "session {tid}/{sid}: {n} {family} packet(s) dropped: {ncp} is not opened \
                 (RFC 1661 section 3.5)"
            );
        }
        dp::PppDrop::Invalid => {
            tracing::info!(
                "session {tid}/{sid}: {n} invalid frame(s) dropped: a bad PPP header, or an IP \
                 packet shorter than its header"
            );
        }
    }
}
