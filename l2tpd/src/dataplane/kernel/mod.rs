//! The Linux kernel's L2TP data plane in l2tpd: an adapter from the daemon's [`Dataplane`] to
//! `l2tp_dataplane::kernel` (generic netlink `l2tp`, rtnetlink, PPPoL2TP sockets), with pppd
//! for PPP pseudowires.
//!
//! - Tunnels are *managed*: the kernel is given the tunnel's own connected socket, UDP
//!   (RFC 3931 §4.1.2, RFC 2661 §8.1) or L2TP/IP (protocol 115, RFC 3931 §4.1.1) bound with the
//!   tunnel id. It takes the data packets and leaves the control messages to the daemon, which
//!   keeps reading the same socket. When the daemon dies, its sockets close and the kernel
//!   removes their tunnels.
//! - Only a tunnel over IP without a socket of its own (the daemon fell back to raw
//!   protocol-115 listen sockets) is *unmanaged*: the kernel opens its own L2TP/IP socket from
//!   the local and peer addresses, and the daemon's raw socket sees a copy of every packet.
//! - Ethernet sessions (`eth`, `eth_vlan`) get an `l2tpeth`-style interface named by
//!   [`InterfaceNames`], set up over rtnetlink from the pseudowire profile (mtu, mac, bridge,
//!   local_ip/peer_ip/netmask) and brought up. They are watched ([`links`]): when one is deleted
//!   by someone else (the VLAN interface of an `eth_vlan` session, or an `l2tpeth` interface
//!   with its kernel session by `ip l2tp del session`), the session is reported down
//!   ([`DataplaneEvent::SessionDown`]).
//! - PPP sessions get a PPPoL2TP socket (L2TPv3: after the kernel session is created over
//!   netlink; L2TPv2: connecting it creates the session) and a pppd with its pppol2tp plugin,
//!   whose interface is named with pppd's `ifname`. When pppd exits on its own, the session is
//!   reported down ([`DataplaneEvent::SessionDown`]); removing a session stops its pppd.
//! - Native PPP sessions ([`PppSpec::Native`]) get the same socket and no pppd: the daemon
//!   reads and writes the session's PPP control frames on its channel and makes its PPP unit
//!   and interface itself ([`native`]), and carries IP once the engine's network layers are
//!   up ([`Dataplane::ppp_up`]). A unit interface deleted by someone else brings the session
//!   down; removing a session deletes its interface.
//! - What a killed daemon leaves behind is recorded in a state file ([`state`]) and removed by
//!   the next one at start-up.

mod activity;
mod counters;
mod early;
mod links;
mod native;
mod pppd;
mod release;
mod state;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use l2tp_config::PseudowireType;
use l2tp_dataplane::kernel as k;
use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::api::{
    DataStats, Dataplane, DataplaneError, DataplaneEvent, PppNetwork, PppSpec, SessionInstalled,
    SessionSpec, TunnelInstalled, TunnelSpec,
};
use super::names::{InterfaceNames, template};
pub use counters::KERNEL_DROPS_PERIOD;
use counters::{KernelCounters, data_stats};
use early::EarlyFrames;
use links::LinkWatch;

use super::bridges::BridgeWatch;
use native::{NativePpp, Readers};
use pppd::{Pppd, PppdArgs};
use state::StateFile;

#[derive(Debug)]
struct Tunnel {
    spec: TunnelSpec,
    /// A duplicate of the tunnel's socket (managed tunnels), for PPPoL2TP sockets.
    socket: Option<OwnedFd>,
}

#[derive(Debug)]
struct Session {
    ifname: String,
    ppp: Option<Ppp>,
    /// A native session's key in [`EarlyFrames`].
    early: Option<u64>,
}

/// Who terminates a PPP session's PPP.
#[derive(Debug)]
enum Ppp {
    Pppd(Pppd),
    Native(NativePpp),
}

/// The kernel data plane.
#[derive(Debug)]
pub struct KernelDataplane {
    genl: k::L2tpGenl,
    rtnl: k::Rtnl,
    tunnels: HashMap<u32, Tunnel>,
    sessions: HashMap<(u32, u32), Session>,
    names: InterfaceNames,
    state: RefCell<StateFile>,
    /// The Ethernet sessions' interfaces, watched for deletion.
    links: LinkWatch,
    /// The bridges its sessions' interfaces are ports of.
    bridges: BridgeWatch,
    /// The thread that reads the native PPP sessions' frames.
    readers: Readers,
    /// The native sessions' frames that reach a tunnel's socket before the kernel has their
    /// session.
    early: EarlyFrames,
    events_tx: UnboundedSender<DataplaneEvent>,
    events: Option<UnboundedReceiver<DataplaneEvent>>,
    /// The kernel's counters of the daemon's sessions (what they carried and what the kernel
    /// dropped), summed up by a thread of its own.
    counters: KernelCounters,
    /// Everything is being removed (the daemon stops): no counts to keep.
    removing_all: bool,
    /// The running kernel's release (major, minor), if known.
    release: Option<(u32, u32)>,
}

/// Tries to load the L2TP modules (failures are ignored: they may be built in, or loaded).
fn load_modules() {
    for m in k::MODULES {
        let _ = std::process::Command::new("modprobe")
            .args(["-q", m])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Whether this host's kernel has the `l2tp` generic netlink family, after trying to load the
/// L2TP modules; else why not.
pub fn probe() -> Result<(), String> {
    if k::L2tpGenl::open().is_ok() {
        return Ok(());
    }
    load_modules();
    k::L2tpGenl::open().map(drop).map_err(|e| e.to_string())
}

fn io_err(what: &str, e: io::Error) -> DataplaneError {
    DataplaneError::Io(io::Error::new(e.kind(), format!("{what}: {e}")))
}

impl KernelDataplane {
    /// Connects to the kernel's `l2tp` generic netlink family, loading the L2TP modules first
    /// when it is missing, and removes what an earlier, killed daemon left in this network
    /// namespace.
    pub fn open() -> Result<Self, String> {
        probe()?;
        let genl = k::L2tpGenl::open().map_err(|e| format!("generic netlink l2tp: {e}"))?;
        let rtnl = k::Rtnl::open().map_err(|e| format!("rtnetlink: {e}"))?;
        let (mut state, left) = StateFile::open();
        for pid in &left.pppds {
            pppd::kill_leftover(*pid);
        }
        if !left.tunnels.is_empty() {
            let present = genl.tunnel_ids().unwrap_or_default();
            for tid in left.tunnels.iter().filter(|t| present.contains(t)) {
                tracing::warn!("removing kernel tunnel {tid}, left by an earlier l2tpd");
                if let Err(e) = genl.delete_tunnel(*tid) {
                    tracing::warn!("cannot remove kernel tunnel {tid}: {e}");
                }
            }
        }
        state.clear();
        let (events_tx, events) = unbounded_channel();
        let links = LinkWatch::start(events_tx.clone());
        Ok(Self {
            genl,
            rtnl,
            tunnels: HashMap::new(),
            sessions: HashMap::new(),
            names: InterfaceNames::default(),
            state: RefCell::new(state),
            links,
            bridges: BridgeWatch::default(),
            readers: Readers::default(),
            early: EarlyFrames::default(),
            events_tx,
            events: Some(events),
            counters: KernelCounters::start(),
            removing_all: false,
            release: release::running(),
        })
    }

    fn stop_session(&mut self, tid: u32, sid: u32) -> Option<Session> {
        let mut s = self.sessions.remove(&(tid, sid))?;
        if let Some(k) = s.early {
            self.early.remove(k);
        }
        // Its last counts, before pppd (and with it a PPP session) goes. A PPP session whose
        // pppd exited by itself is gone already, and its counts with it.
        if !self.removing_all {
            self.counters
                .retire(tid, sid, self.genl.session_info(tid, sid).ok());
        }
        // Before the interfaces go: their deletion is ours, not news.
        self.links.forget(tid, sid);
        self.bridges.forget(tid, sid);
        match s.ppp.take() {
            Some(Ppp::Pppd(mut p)) => {
                p.stop();
                self.state.borrow_mut().remove_pppd(p.pid);
            }
            Some(Ppp::Native(n)) => n.stop(&self.rtnl, &self.readers),
            None => {}
        }
        self.names.release(tid, sid);
        Some(s)
    }

    /// Makes a kernel session. When its kernel tunnel is gone (deleted outside the daemon,
    /// e.g. by `ip l2tp del tunnel`), the tunnel is reported down, so that it is closed and,
    /// if it persists, made again.
    fn create_session(&self, ks: &k::KernelSession) -> Result<(), DataplaneError> {
        self.genl.create_session(ks).map_err(|e| {
            if e.raw_os_error() == Some(nix::libc::ENODEV) {
                let reason = format!("its kernel tunnel {} is gone", ks.tid);
                tracing::warn!("session {}/{}: {reason}", ks.tid, ks.sid);
                let _ = self.events_tx.send(DataplaneEvent::TunnelDown {
                    tid: ks.tid,
                    reason,
                });
            }
            io_err("creating the kernel session", e)
        })
    }

    /// Makes an Ethernet session and sets its interface up; returns the interface's name, and
    /// watches its interfaces.
    fn install_eth(&mut self, spec: &SessionSpec, ifname: &str) -> Result<String, DataplaneError> {
        let ks = kernel_session(spec, k::PwType::Eth, Some(ifname.to_owned()));
        self.create_session(&ks)?;
        let setup = k::LinkSetup {
            mtu: spec.mtu,
            mac: spec.mac.map(|m| m.0),
            bridge: spec.bridge.clone(),
            local_ip: spec.local_ip,
            peer_ip: spec.peer_ip,
            prefix_len: spec.netmask.and_then(k::rtnl::prefix_len),
        };
        let r = match (spec.pseudowire_type, spec.vlan_id) {
            // An Ethernet VLAN pseudowire with a VLAN id (RFC 4719 §4.2): the session's
            // interface carries tagged frames; the VLAN interface on it carries the untagged
            // ones, and is the one set up from the profile.
            (PseudowireType::EthVlan, Some(vid)) => {
                let name = format!("{ifname}.{vid}");
                self.rtnl
                    .setup(ifname, &k::LinkSetup::default())
                    .and_then(|()| self.rtnl.add_vlan(ifname, &name, vid))
                    .and_then(|()| self.rtnl.setup(&name, &setup))
                    .map(|()| name)
            }
            _ => self.rtnl.setup(ifname, &setup).map(|()| ifname.to_owned()),
        };
        let r = r.and_then(|name| {
            let watched = [ifname, name.as_str()]
                .into_iter()
                .map(|n| Ok((self.rtnl.index(n)?, n)))
                .collect::<io::Result<Vec<_>>>()?;
            for (index, n) in watched {
                self.links.watch(spec.tid, spec.sid, index, n);
            }
            if let Some(bridge) = &spec.bridge {
                self.bridges.watch(spec.tid, spec.sid, &name, bridge);
            }
            Ok(name)
        });
        r.map_err(|e| {
            self.links.forget(spec.tid, spec.sid);
            let _ = self.genl.delete_session(spec.tid, spec.sid);
            io_err(&format!("setting up {ifname}"), e)
        })
    }

    fn install_ppp(&mut self, spec: &SessionSpec, ifname: &str) -> Result<Ppp, DataplaneError> {
        let ppp = match &spec.ppp {
            Some(p) => p,
            None => {
                return Err(DataplaneError::Unavailable(
                    "a PPP session needs pppd (pppd_path)".into(),
                ));
            }
        };
        let t = self.tunnels.get(&spec.tid).ok_or(DataplaneError::Unknown {
            tid: spec.tid,
            sid: None,
        })?;
        let v3 = t.spec.version == Version::V3;
        let fd = t.socket.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        if v3 {
            let ks = kernel_session(spec, k::PwType::Ppp, None);
            self.create_session(&ks)?;
        }
        let addr = k::PppoL2tpAddr {
            tunnel_fd: fd,
            peer: t.spec.peer,
            tid: spec.tid,
            sid: spec.sid,
            peer_tid: spec.peer_tid,
            peer_sid: spec.peer_sid,
            v3,
        };
        let started = k::pppol2tp_connect(&addr)
            .map_err(|e| io_err("connecting the PPPoL2TP socket", e))
            .and_then(|socket| {
                let ppp = match ppp {
                    PppSpec::Pppd(p) => p,
                    PppSpec::Native => {
                        let options = k::SessionOptions {
                            lns_mode: spec.lns,
                            send_seq: spec.send_seq,
                            recv_seq: spec.recv_seq,
                            reorder_timeout_ms: spec.reorder_timeout_ms,
                        };
                        return NativePpp::start(
                            socket,
                            &options,
                            &self.rtnl,
                            ifname,
                            (spec.tid, spec.sid),
                            &mut self.readers,
                            &self.events_tx,
                        )
                        .map(Ppp::Native)
                        .map_err(|e| io_err(&format!("setting up PPP on {ifname}"), e));
                    }
                };
                let args = PppdArgs {
                    tid: spec.tid,
                    sid: spec.sid,
                    ifname,
                    lns: spec.lns,
                    send_seq: spec.send_seq,
                    recv_seq: spec.recv_seq,
                    local_ip: spec.local_ip,
                    peer_ip: spec.peer_ip,
                    spec: ppp,
                };
                Pppd::start(&args, socket, self.events_tx.clone())
                    .map(Ppp::Pppd)
                    .map_err(|e| io_err(&format!("starting {}", ppp.pppd_path.display()), e))
            });
        if started.is_err() {
            let _ = self.genl.delete_session(spec.tid, spec.sid);
        }
        started
    }
}

/// Session `tid`/`sid`'s native PPP.
fn native_of(
    sessions: &mut HashMap<(u32, u32), Session>,
    tid: u32,
    sid: u32,
) -> Result<&mut NativePpp, DataplaneError> {
    match sessions.get_mut(&(tid, sid)) {
        None => Err(DataplaneError::Unknown {
            tid,
            sid: Some(sid),
        }),
        Some(Session {
            ppp: Some(Ppp::Native(n)),
            ..
        }) => Ok(n),
        Some(_) => Err(DataplaneError::Unavailable(format!(
            "session {tid}/{sid} is not a native PPP session"
        ))),
    }
}

fn kernel_session(spec: &SessionSpec, pw: k::PwType, ifname: Option<String>) -> k::KernelSession {
    k::KernelSession {
        tid: spec.tid,
        sid: spec.sid,
        peer_sid: spec.peer_sid,
        pw_type: Some(pw),
        ifname,
        cookie: spec.cookie.clone(),
        peer_cookie: spec.peer_cookie.clone(),
        l2spec_default: spec.l2spec == L2SpecificSublayer::Default,
        send_seq: spec.send_seq,
        recv_seq: spec.recv_seq,
        lns_mode: spec.lns,
        reorder_timeout_ms: spec.reorder_timeout_ms,
    }
}

impl Dataplane for KernelDataplane {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn separates_shared_peers(&self, version: Version) -> bool {
        release::separates_shared_peers(self.release, version)
    }

    fn install_tunnel(
        &mut self,
        spec: &TunnelSpec,
        socket: Option<BorrowedFd<'_>>,
    ) -> Result<TunnelInstalled, DataplaneError> {
        let (fd, owned) = match (spec.encap, socket) {
            (Encapsulation::Udp, None) => {
                return Err(DataplaneError::Unavailable(format!(
                    "tunnel {}: the kernel data plane needs the tunnel's own UDP socket",
                    spec.tid
                )));
            }
            (Encapsulation::Udp, Some(fd)) => {
                if !spec.udp_checksums {
                    k::disable_udp_checksums(fd, spec.local.is_ipv6())?;
                }
                (Some(fd.as_raw_fd()), Some(fd.try_clone_to_owned()?))
            }
            (Encapsulation::Ip, Some(fd)) => (Some(fd.as_raw_fd()), Some(fd.try_clone_to_owned()?)),
            (Encapsulation::Ip, None) => (None, None),
        };
        let kt = k::KernelTunnel {
            tid: spec.tid,
            peer_tid: spec.peer_tid,
            version: if spec.version == Version::V2 { 2 } else { 3 },
            encap: match spec.encap {
                Encapsulation::Udp => k::Encap::Udp,
                Encapsulation::Ip => k::Encap::Ip,
            },
            fd,
            local: spec.local,
            peer: spec.peer,
            udp_checksums: spec.udp_checksums,
        };
        self.genl
            .create_tunnel(&kt)
            .map_err(|e| io_err("creating the kernel tunnel", e))?;
        if fd.is_none() {
            self.state.borrow_mut().add_tunnel(spec.tid);
        }
        self.tunnels.insert(
            spec.tid,
            Tunnel {
                spec: spec.clone(),
                socket: owned,
            },
        );
        Ok(TunnelInstalled {
            adopted_socket: false,
        })
    }

    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError> {
        let sids: Vec<u32> = self
            .sessions
            .keys()
            .filter(|(t, _)| *t == tid)
            .map(|(_, s)| *s)
            .collect();
        for sid in sids {
            self.stop_session(tid, sid);
        }
        let Some(t) = self.tunnels.remove(&tid) else {
            return Err(DataplaneError::Unknown { tid, sid: None });
        };
        let r = self.genl.delete_tunnel(tid);
        if t.socket.is_none() {
            self.state.borrow_mut().remove_tunnel(tid);
        }
        match r {
            // Already gone (deleted outside the daemon).
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(nix::libc::ENODEV | nix::libc::ENOENT)
                ) =>
            {
                Ok(())
            }
            r => r.map_err(|e| io_err("deleting the kernel tunnel", e)),
        }
    }

    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        if !self.tunnels.contains_key(&spec.tid) {
            return Err(DataplaneError::Unknown {
                tid: spec.tid,
                sid: None,
            });
        }
        let ppp = match spec.pseudowire_type {
            PseudowireType::Ppp => true,
            PseudowireType::Eth | PseudowireType::EthVlan => false,
            PseudowireType::Other(n) => {
                return Err(DataplaneError::Unavailable(format!(
                    "the kernel data plane carries ppp, eth and eth_vlan pseudowires, not type \
                     {n}"
                )));
            }
        };
        let ifname = self.names.take(
            spec.tid,
            spec.sid,
            template(spec.interface_name.as_deref(), ppp),
        );
        let installed = if ppp {
            self.install_ppp(spec, &ifname)
                .map(|p| (ifname.clone(), Some(p)))
        } else {
            self.install_eth(spec, &ifname).map(|name| (name, None))
        };
        match installed {
            Ok((ifname, ppp)) => {
                if let Some(Ppp::Pppd(p)) = &ppp {
                    self.state.borrow_mut().add_pppd(p.pid);
                }
                let early = match (&ppp, self.tunnels.get(&spec.tid)) {
                    (Some(Ppp::Native(_)), Some(t)) => self.early.add(&t.spec, spec),
                    _ => None,
                };
                self.sessions.insert(
                    (spec.tid, spec.sid),
                    Session {
                        ifname: ifname.clone(),
                        ppp,
                        early,
                    },
                );
                self.counters.open(spec.tid, spec.sid);
                Ok(SessionInstalled {
                    interface_name: Some(ifname),
                })
            }
            Err(e) => {
                self.names.release(spec.tid, spec.sid);
                Err(e)
            }
        }
    }

    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        let Some(s) = self.stop_session(tid, sid) else {
            return Err(DataplaneError::Unknown {
                tid,
                sid: Some(sid),
            });
        };
        match self.genl.delete_session(tid, sid) {
            Ok(()) => Ok(()),
            // A PPP session goes with its PPPoL2TP socket when pppd exits; an Ethernet session
            // may have been deleted by someone else (`ip l2tp del session`), which is how its
            // interface went and the session came to be removed.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(nix::libc::ENODEV | nix::libc::ENOENT)
                ) =>
            {
                tracing::debug!("session {tid}/{sid}: the kernel session was gone already");
                Ok(())
            }
            Err(e) => Err(io_err(
                &format!("deleting the kernel session ({})", s.ifname),
                e,
            )),
        }
    }

    fn send_ppp(&mut self, tid: u32, sid: u32, frame: &[u8]) -> Result<(), DataplaneError> {
        native_of(&mut self.sessions, tid, sid)?
            .send(frame)
            .map_err(|e| io_err("sending a PPP frame", e))
    }

    fn ppp_up(
        &mut self,
        tid: u32,
        sid: u32,
        net: &PppNetwork,
    ) -> Result<SessionInstalled, DataplaneError> {
        native_of(&mut self.sessions, tid, sid)?
            .up(&self.rtnl, net)
            .map_err(|e| io_err("setting up the PPP interface", e))?;
        let ifname = self.sessions.get(&(tid, sid)).map(|s| s.ifname.clone());
        Ok(SessionInstalled {
            interface_name: ifname,
        })
    }

    fn ppp_down(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        native_of(&mut self.sessions, tid, sid)?
            .down(&self.rtnl)
            .map_err(|e| io_err("taking IP off the PPP interface", e))
    }

    fn ppp_routes(
        &mut self,
        tid: u32,
        sid: u32,
        routes: &[(std::net::IpAddr, u8)],
    ) -> Result<(), DataplaneError> {
        native_of(&mut self.sessions, tid, sid)?
            .routes(&self.rtnl, routes)
            .map_err(|e| io_err("routing to the PPP interface", e))
    }

    fn handle_data(&mut self, encap: Encapsulation, packet: &[u8]) -> bool {
        // A raw protocol-115 listen socket sees a copy of every packet; the kernel has the
        // data packets (session id not 0, RFC 3931 §4.1.1) already. (L2TP/IP sockets get
        // control messages only.)
        if encap == Encapsulation::Ip {
            return packet.get(..4).is_some_and(|id| id != [0, 0, 0, 0]);
        }
        // A native session's frame that came before the kernel had the session (see
        // [`early`]); the rest is the engine's to discard.
        match self.early.take(encap, packet) {
            Some(event) => {
                // The daemon may be stopping; the frame is then dropped.
                let _ = self.events_tx.send(event);
                true
            }
            None => false,
        }
    }

    fn session_stats(&self, tid: u32, sid: u32) -> Option<DataStats> {
        if !self.sessions.contains_key(&(tid, sid)) {
            return None;
        }
        let i = self.genl.session_info(tid, sid).ok()?;
        Some(data_stats(&i))
    }

    fn sessions_stats(&self, keys: &[(u32, u32)]) -> Vec<Option<DataStats>> {
        // From the counters thread's last dump, as the totals: a request per session here
        // would hold the daemon's loop for seconds at 100 000 sessions.
        self.counters.sessions(keys)
    }

    fn data_totals(&self) -> Option<DataStats> {
        // From the counters thread's last dump, a second or so old with a few sessions: a
        // dump here would hold the daemon's loop for seconds at 100 000 sessions.
        Some(self.counters.data())
    }

    fn bridge_ports_lost(&self) -> u64 {
        self.bridges.lost()
    }

    fn drops(&self) -> l2tp_dataplane::DataplaneTotals {
        // The kernel's drops, and the native sessions' control frames the reading thread
        // dropped.
        let mut t = self.counters.drops();
        t += self.readers.drops();
        t
    }

    fn drops_period(&self) -> std::time::Duration {
        KERNEL_DROPS_PERIOD
    }

    fn take_events(&mut self) -> Option<UnboundedReceiver<DataplaneEvent>> {
        self.events.take()
    }

    fn counts(&self) -> (usize, usize) {
        (self.tunnels.len(), self.sessions.len())
    }

    fn remove_all(&mut self) {
        self.removing_all = true;
        let tids: Vec<u32> = self.tunnels.keys().copied().collect();
        for tid in tids {
            if let Err(e) = self.remove_tunnel(tid) {
                tracing::warn!("removing tunnel {tid}: {e}");
            }
        }
        self.names.clear();
        self.state.borrow_mut().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_native_sessions_take_ppp_frames() {
        let mut sessions = HashMap::new();
        sessions.insert(
            (1, 2),
            Session {
                ifname: "l2tpeth0".into(),
                ppp: None,
                early: None,
            },
        );
        assert!(matches!(
            native_of(&mut sessions, 1, 3),
            Err(DataplaneError::Unknown {
                tid: 1,
                sid: Some(3)
            })
        ));
        assert!(matches!(
            native_of(&mut sessions, 1, 2),
            Err(DataplaneError::Unavailable(m)) if m.contains("not a native PPP session")
        ));
    }
}
