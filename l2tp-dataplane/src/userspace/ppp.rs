//! The control side of native PPP ([`crate::ppp`]): sessions, the shared TUN, its addresses
//! and the sessions' routes.
//!
//! The TUN is made when a session's network layer first comes up (one queue per data-path
//! thread when the kernel has multi-queue TUNs, the virtio-net header and offloads when the
//! TAPs have them), MTU 1500, and lives as long as the data plane (or until someone deletes
//! it: the sessions it carried are then reported down, and the next one makes a new TUN). Its
//! IPv6 is kept quiet: no address of the kernel's making, no router solicitations, no
//! duplicate address detection, no router advertisements taken ([`quiet_ipv6`]).
//!
//! At `ppp_up` the TUN gets our address (IPv4 /32; IPv6 `fe80::<our id>/128`; each once
//! however many sessions use it) and the peer's address a route (IPv4 /32; IPv6 the peer's
//! link-local `fe80::<peer id>/128`; through the TUN, our address as its source, the peer's
//! MRU as its MTU), over rtnetlink; they go at `ppp_down` or when the session is removed. The
//! data-path threads share one table of the routes, which gets the session before the kernel
//! gets its route, so that a packet the kernel routes into the TUN finds its session.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::mpsc;

use l2tp_proto::wire::header::Version;
use nix::sys::socket::{MsgFlags, send};

use super::{Error, REPLY_TIMEOUT, UserspaceDataplane};
use crate::kernel::Rtnl;
use crate::kernel::rtnl::PeerAddress;
use crate::ppp::codec::{NetState, PppCodec, PppCodecSpec};
use crate::ppp::routes::{IdMap, PeerDest, Routes, link_local};
use crate::ppp::{DEFAULT_TUN_NAME, PppNet, PppSessionSpec};
use crate::stats::SessionStats;
use crate::tap::{Tap, TapOptions};
use crate::worker::Command;
use crate::worker::ppp::{PppChange, PppCommon, PppRx, PppShared, v2_key};

/// The MTU of the shared TUN; each session's route has its own (the peer's MRU).
const TUN_MTU: u32 = 1500;

/// The smallest MTU of an IPv6 route (RFC 8200 §5).
const IPV6_MIN_MTU: u16 = 1280;

/// The network protocols a session's routes are kept for ([`PppEntry::routed`]).
const V4: usize = 0;
const V6: usize = 1;

/// The native-PPP part of the data plane.
#[derive(Debug)]
pub(crate) struct PppTable {
    sessions: IdMap<u64, PppEntry>,
    /// (tid, key) of every session, so that a tunnel's are a range.
    by_tunnel: BTreeSet<(u32, u64)>,
    common: Arc<PppCommon>,
    tun_name: String,
    tun: Option<TunDevice>,
    rtnl: Option<Rtnl>,
    /// The session (key) whose route each peer address is: IPv4, and IPv6 by interface
    /// identifier (apart, so that an IPv4 session's entry stays small).
    routed: HashMap<std::net::Ipv4Addr, u64>,
    routed6: HashMap<u64, u64>,
    /// Our addresses on the TUN, and how many sessions use each.
    locals: HashMap<IpAddr, usize>,
}

#[derive(Debug)]
struct PppEntry {
    shared: Arc<PppShared>,
    /// The worker that receives its packets.
    home: usize,
    /// Our address, the peer's and the route's MTU, while its IPv4 is routed.
    v4: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr, u16)>,
    /// The same for IPv6, boxed: most sessions carry IPv4 alone, and this stays one word.
    v6: Option<Box<Route>>,
}

impl PppEntry {
    /// The route of `family` ([`V4`] or [`V6`]), if any.
    fn routed(&self, family: usize) -> Option<Route> {
        if family == V4 {
            return self.v4.map(|(local, peer, mtu)| Route {
                local: local.into(),
                peer: PeerDest::V4(peer),
                mtu,
            });
        }
        self.v6.as_deref().copied()
    }

    /// Both routes.
    fn routes(&self) -> [Option<Route>; 2] {
        [self.routed(V4), self.routed(V6)]
    }

    fn set_routed(&mut self, family: usize, r: Option<Route>) {
        if family == V6 {
            self.v6 = r.map(Box::new);
            return;
        }
        self.v4 = r.and_then(|r| match (r.local, r.peer) {
            (IpAddr::V4(l), PeerDest::V4(p)) => Some((l, p, r.mtu)),
            _ => None,
        });
    }

    fn take_routed(&mut self, family: usize) -> Option<Route> {
        let r = self.routed(family);
        self.set_routed(family, None);
        r
    }
}

/// One route of a session through the TUN.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct Route {
    local: IpAddr,
    peer: PeerDest,
    mtu: u16,
}

#[derive(Debug)]
struct TunDevice {
    name: String,
    index: u32,
}

impl PppTable {
    pub(crate) fn new(common: Arc<PppCommon>) -> Self {
        Self {
            sessions: IdMap::default(),
            by_tunnel: BTreeSet::new(),
            common,
            tun_name: DEFAULT_TUN_NAME.to_owned(),
            tun: None,
            rtnl: None,
            routed: HashMap::new(),
            routed6: HashMap::new(),
            locals: HashMap::new(),
        }
    }

    pub(crate) fn has_key(&self, key: u64) -> bool {
        self.sessions.contains_key(&key)
    }

    /// The worker that receives session `key`'s packets.
    pub(crate) fn home(&self, key: u64) -> Option<usize> {
        self.sessions.get(&key).map(|e| e.home)
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// The session (key) whose route `peer` is.
    fn owner(&self, peer: PeerDest) -> Option<u64> {
        match peer {
            PeerDest::V4(a) => self.routed.get(&a),
            PeerDest::LinkLocal(id) => self.routed6.get(&id),
        }
        .copied()
    }

    fn rtnl(&mut self) -> io::Result<&Rtnl> {
        match &mut self.rtnl {
            Some(r) => Ok(r),
            slot => Ok(slot.insert(Rtnl::open()?)),
        }
    }
}

fn io_error(what: &str, e: &io::Error) -> Error {
    Error::Io(io::Error::new(e.kind(), format!("{what}: {e}")))
}

impl UserspaceDataplane {
    /// Names the shared TUN of native-PPP sessions (`l2tpppp0` by default); taken when the TUN
    /// is next made.
    pub fn set_ppp_interface(&mut self, name: &str) {
        name.clone_into(&mut self.ppp.tun_name);
    }

    /// The shared TUN's name, once it is made.
    pub fn ppp_interface(&self) -> Option<&str> {
        self.ppp.tun.as_ref().map(|t| t.name.as_str())
    }

    /// The key of native-PPP session `sid` of tunnel `tid`.
    fn ppp_key(&self, tid: u32, sid: u32) -> Result<u64, Error> {
        let t = self.tunnels.get(&tid).ok_or(Error::UnknownTunnel(tid))?;
        match t.version {
            Version::V2 => {
                let (Ok(t16), Ok(s16)) = (u16::try_from(tid), u16::try_from(sid)) else {
                    return Err(Error::Invalid(
                        "L2TPv2 tunnel and session ids are 16 bits".into(),
                    ));
                };
                Ok(v2_key(t16, s16))
            }
            Version::V3 => Ok(u64::from(sid)),
        }
    }

    fn ppp_entry(&self, tid: u32, sid: u32) -> Result<(u64, &PppEntry), Error> {
        let key = self.ppp_key(tid, sid)?;
        let e = self
            .ppp
            .sessions
            .get(&key)
            .filter(|e| e.shared.tid == tid)
            .ok_or(Error::UnknownSession(sid))?;
        Ok((key, e))
    }

    /// Installs a native-PPP session: from now on its control frames reach the control sink
    /// ([`crate::SinkEvent::PppFrame`]) and [`UserspaceDataplane::send_ppp`] sends its own. It
    /// carries IP once [`UserspaceDataplane::ppp_up`] says so.
    pub fn add_ppp_session(&mut self, spec: PppSessionSpec) -> Result<(), Error> {
        let key = self.ppp_key(spec.tid, spec.sid)?;
        let tunnel = self
            .tunnels
            .get(&spec.tid)
            .ok_or(Error::UnknownTunnel(spec.tid))?;
        let taken = self.ppp.sessions.contains_key(&key)
            || (tunnel.version == Version::V3 && self.sessions.contains_key(&spec.sid));
        if taken {
            return Err(Error::SessionExists(spec.sid));
        }
        if spec.sid == 0 || spec.peer_sid == 0 {
            return Err(Error::Invalid(
                "session id 0 is reserved (RFC 2661 §3.1, RFC 3931 §4.1)".into(),
            ));
        }
        let codec = PppCodec::new(
            PppCodecSpec::session(
                (tunnel.version, tunnel.encap),
                (spec.peer_tid, spec.peer_sid),
                (spec.cookie, spec.peer_cookie),
                spec.l2spec,
                (spec.send_seq, spec.recv_seq),
            )
            .map_err(|why| Error::Invalid(why.into()))?,
        );
        let home = tunnel.home;
        let follows_lns = tunnel.version == Version::V2 && !spec.lns;
        let shared = Arc::new(PppShared::new(
            (spec.tid, spec.sid, key),
            Arc::clone(&tunnel.shared),
            codec,
            follows_lns,
        ));
        let rx = Box::new(PppRx::new(Arc::clone(&shared)));
        self.ppp_change(home, PppChange::Add(rx))?;
        self.ppp.sessions.insert(
            key,
            PppEntry {
                shared,
                home,
                v4: None,
                v6: None,
            },
        );
        self.ppp.by_tunnel.insert((spec.tid, key));
        self.ppp
            .common
            .sessions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Sends a PPP frame from the link (`FF 03`, Protocol, information) on native-PPP session
    /// `sid` of tunnel `tid`.
    pub fn send_ppp(&self, tid: u32, sid: u32, frame: &[u8]) -> Result<(), Error> {
        let (_, e) = self.ppp_entry(tid, sid)?;
        let s = &e.shared;
        let numbered = s.numbered();
        let head = s.codec.header_len(numbered);
        let mut buf = vec![0u8; head + frame.len()];
        buf[head..].copy_from_slice(frame);
        let end = buf.len();
        let r = s.codec.encap_frame(s.ns(numbered), &mut buf, head..end);
        let c = &s.counters;
        // A tunnel's socket that is not connected sends to its peer explicitly.
        let sent: io::Result<usize> = match &s.tunnel.dest {
            Some(dest) => socket2::SockRef::from(&s.tunnel.socket).send_to_with_flags(
                &buf[r],
                dest,
                nix::libc::MSG_DONTWAIT,
            ),
            None => send(s.tunnel.socket.as_raw_fd(), &buf[r], MsgFlags::MSG_DONTWAIT)
                .map_err(io::Error::from),
        };
        match sent {
            Ok(_) => {
                c.tx_packets
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                c.tx_bytes
                    .fetch_add(frame.len() as u64, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                c.tx_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                s.tunnel
                    .totals
                    .tx_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Err(Error::Io(e))
            }
        }
    }

    /// Carries the IP of native-PPP session `sid` of tunnel `tid` as `net` says (called again
    /// when it changes): IPv4 routed through the shared TUN by the peer's address, IPv6 by the
    /// peer's link-local address; the TUN made if need be. Returns the TUN's name when the
    /// session carries IP.
    ///
    /// # Errors
    ///
    /// The peer's address (or interface identifier) is routed to another session, the peer's
    /// IPv4 address is its tunnel's, or the TUN or a route cannot be made.
    pub fn ppp_up(&mut self, tid: u32, sid: u32, net: &PppNet) -> Result<Option<String>, Error> {
        let (key, _) = self.ppp_entry(tid, sid)?;
        let tunnel_peer = self.tunnels.get(&tid).map(|t| t.peer_ip);
        // No MRU below IPv4's minimum MTU (RFC 791: 68), or IPv6's (1280), reaches a route.
        let mtu = if net.mtu == 0 {
            TUN_MTU as u16
        } else {
            net.mtu
        };
        let v4 = net.ipv4.map(|(local, peer)| Route {
            local: local.into(),
            peer: PeerDest::V4(peer),
            mtu: mtu.max(68),
        });
        // An identifier of 0 is no address (the option was rejected): IPv6 is not carried.
        let v6 = net
            .ipv6
            .filter(|(local, peer)| *local != 0 && *peer != 0)
            .map(|(local, peer)| Route {
                local: link_local(local).into(),
                peer: PeerDest::LinkLocal(peer),
                mtu: mtu.max(IPV6_MIN_MTU),
            });
        if let Some((_, peer)) = net.ipv4
            && tunnel_peer == Some(IpAddr::V4(peer))
        {
            return Err(Error::Invalid(format!(
                "the peer's PPP address {peer} is its tunnel's address: a route to it through \
                 the PPP session would carry the tunnel into itself"
            )));
        }
        for r in [v4, v6].into_iter().flatten() {
            if let Some(other) = self.ppp.owner(r.peer).filter(|k| *k != key) {
                let other = self
                    .ppp
                    .sessions
                    .get(&other)
                    .map(|o| (o.shared.tid, o.shared.sid));
                return Err(Error::Invalid(format!(
                    "the peer's PPP address {} is routed to another session ({other:?})",
                    r.peer.addr()
                )));
            }
        }
        if v4.is_none() && v6.is_none() {
            self.unroute(key, V4);
            self.unroute(key, V6);
            self.set_net(key, [None, None], net);
            return Ok(None);
        }
        self.ensure_tun()?;
        let wanted = [v4, v6];
        // Carried from the first packet the routes bring.
        self.set_net(key, wanted, net);
        for family in [V4, V6] {
            if let Err(e) = self.carry(key, family, wanted[family]) {
                let routed = self
                    .ppp
                    .sessions
                    .get(&key)
                    .map_or([None; 2], PppEntry::routes);
                self.set_net(key, routed, net);
                return Err(e);
            }
        }
        Ok(self.ppp_interface().map(str::to_owned))
    }

    /// Stops carrying the IP of native-PPP session `sid` of tunnel `tid`; its control frames
    /// still flow.
    pub fn ppp_down(&mut self, tid: u32, sid: u32) -> Result<(), Error> {
        let (key, _) = self.ppp_entry(tid, sid)?;
        if let Some(e) = self.ppp.sessions.get(&key) {
            let framing = e.shared.net().framing;
            e.shared.set_net(NetState {
                framing,
                ..NetState::default()
            });
        }
        self.unroute(key, V4);
        self.unroute(key, V6);
        Ok(())
    }

    /// Removes native-PPP session `sid` of tunnel `tid`, and its route.
    pub fn remove_ppp_session(&mut self, tid: u32, sid: u32) -> Result<(), Error> {
        let (key, _) = self.ppp_entry(tid, sid)?;
        self.drop_ppp(tid, key)
    }

    /// A snapshot of native-PPP session `sid`'s counters in tunnel `tid`.
    pub fn ppp_stats(&self, tid: u32, sid: u32) -> Option<SessionStats> {
        let (_, e) = self.ppp_entry(tid, sid).ok()?;
        Some(e.shared.counters.snapshot())
    }

    /// Removes the native-PPP sessions of tunnel `tid`.
    pub(super) fn remove_tunnel_ppp(&mut self, tid: u32) -> Result<(), Error> {
        let keys: Vec<u64> = self
            .ppp
            .by_tunnel
            .range((tid, 0)..=(tid, u64::MAX))
            .map(|(_, k)| *k)
            .collect();
        for key in keys {
            self.drop_ppp(tid, key)?;
        }
        Ok(())
    }

    fn drop_ppp(&mut self, tid: u32, key: u64) -> Result<(), Error> {
        if let Some(e) = self.ppp.sessions.get(&key) {
            e.shared.set_net(NetState::default());
        }
        self.unroute(key, V4);
        self.unroute(key, V6);
        let home = self.ppp.sessions.remove(&key).map(|e| e.home);
        self.ppp.by_tunnel.remove(&(tid, key));
        self.ppp
            .common
            .sessions
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        // Only its home worker holds its receive state.
        match home {
            Some(w) => self.ppp_change(w, PppChange::Remove(key)),
            None => Ok(()),
        }
    }

    /// Queues a change of the sessions worker `w` receives for (see [`PppChange`]: it is not
    /// waited for; the first change since the worker last took them wakes it).
    fn ppp_change(&self, w: usize, change: PppChange) -> Result<(), Error> {
        let w = self.workers.get(w).ok_or(Error::WorkerGone)?;
        w.ppp_changes.send(change).map_err(|_| Error::WorkerGone)?;
        // Counted after it is queued: the worker clears the count before it takes them.
        if w.ppp_queued
            .fetch_add(1, std::sync::atomic::Ordering::Release)
            == 0
        {
            w.wake.write(1).map_err(io::Error::from)?;
        }
        Ok(())
    }

    /// Sets what session `key` carries: the peers of `routes`, the framing of `net`.
    fn set_net(&self, key: u64, routes: [Option<Route>; 2], net: &PppNet) {
        let peer_ipv4 = match routes[V4].map(|r| r.peer) {
            Some(PeerDest::V4(a)) => Some(a),
            _ => None,
        };
        let peer_ifid = match routes[V6].map(|r| r.peer) {
            Some(PeerDest::LinkLocal(id)) => Some(id),
            _ => None,
        };
        if let Some(e) = self.ppp.sessions.get(&key) {
            e.shared.set_net(NetState {
                peer_ipv4,
                peer_ifid,
                framing: net.framing,
            });
        }
    }

    /// Makes session `key`'s route of `family` what `want` says: replaced when it changed,
    /// removed when `None`.
    fn carry(&mut self, key: u64, family: usize, want: Option<Route>) -> Result<(), Error> {
        let was = self.ppp.sessions.get(&key).and_then(|e| e.routed(family));
        if was == want {
            return Ok(());
        }
        let Some(want) = want else {
            self.unroute(key, family);
            return Ok(());
        };
        if was.is_some_and(|w| (w.local, w.peer) != (want.local, want.peer)) {
            self.unroute(key, family);
        }
        self.route(key, family, want)
    }

    /// Routes `r.peer` to session `key` (our address `r.local` on the TUN, `r.mtu` on the
    /// route), in the kernel and in the workers' table.
    fn route(&mut self, key: u64, family: usize, r: Route) -> Result<(), Error> {
        let index = self
            .ppp
            .tun
            .as_ref()
            .map(|t| t.index)
            .ok_or(Error::WorkerGone)?;
        let previous = self
            .ppp
            .sessions
            .get(&key)
            .and_then(|e| e.routed(family))
            .filter(|p| (p.local, p.peer) == (r.local, r.peer));
        if previous.is_none() {
            let uses = self.ppp.locals.get(&r.local).copied().unwrap_or(0);
            if uses == 0 {
                self.ppp
                    .rtnl()
                    .and_then(|n| n.add_address(index, &local_address(r.local)))
                    .map_err(|e| io_error(&format!("giving the TUN {}", r.local), &e))?;
            }
            self.ppp.locals.insert(r.local, uses + 1);
        }
        // The workers' table first: the kernel's route may bring a packet at once.
        let shared = self
            .ppp
            .sessions
            .get(&key)
            .map(|e| Arc::clone(&e.shared))
            .ok_or(Error::WorkerGone)?;
        let had = self.ppp.common.routes_mut().insert(r.peer, key, shared) == Some(key);
        let peer = r.peer.addr();
        let added = self
            .ppp
            .rtnl()
            .and_then(|n| n.replace_route(index, peer, r.local, r.mtu));
        if let Err(e) = added {
            if !had {
                self.ppp.common.routes_mut().remove(r.peer, key);
            }
            if previous.is_none() {
                self.release_local(r.local);
            }
            return Err(io_error(&format!("a route to {peer} through the TUN"), &e));
        }
        match r.peer {
            PeerDest::V4(a) => self.ppp.routed.insert(a, key),
            PeerDest::LinkLocal(id) => self.ppp.routed6.insert(id, key),
        };
        if let Some(e) = self.ppp.sessions.get_mut(&key) {
            e.set_routed(family, Some(r));
        }
        Ok(())
    }

    /// Takes session `key`'s route of `family` away (and our address, when no other session
    /// uses it).
    fn unroute(&mut self, key: u64, family: usize) {
        let Some(r) = self
            .ppp
            .sessions
            .get_mut(&key)
            .and_then(|e| e.take_routed(family))
        else {
            return;
        };
        self.ppp.common.routes_mut().remove(r.peer, key);
        if self.ppp.owner(r.peer) == Some(key) {
            match r.peer {
                PeerDest::V4(a) => self.ppp.routed.remove(&a),
                PeerDest::LinkLocal(id) => self.ppp.routed6.remove(&id),
            };
            if let Some(index) = self.ppp.tun.as_ref().map(|t| t.index) {
                // Gone with the TUN, or removed by someone else: nothing left to do.
                let _ = self
                    .ppp
                    .rtnl()
                    .and_then(|n| n.delete_route(index, r.peer.addr()));
            }
        }
        self.release_local(r.local);
    }

    fn release_local(&mut self, local: IpAddr) {
        let Some(uses) = self.ppp.locals.get_mut(&local) else {
            return;
        };
        *uses -= 1;
        if *uses > 0 {
            return;
        }
        self.ppp.locals.remove(&local);
        if let Some(index) = self.ppp.tun.as_ref().map(|t| t.index) {
            let _ = self
                .ppp
                .rtnl()
                .and_then(|n| n.delete_address(index, &local_address(local)));
        }
    }

    /// Makes the shared TUN if it is not there (or was deleted), and hands its queues to the
    /// workers.
    fn ensure_tun(&mut self) -> Result<(), Error> {
        if self
            .ppp
            .common
            .tun_gone
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            // Its addresses and routes went with it; its sessions are reported down. The
            // workers forget their routes too.
            self.ppp.tun = None;
            self.ppp.routed.clear();
            self.ppp.routed6.clear();
            self.ppp.locals.clear();
            for e in self.ppp.sessions.values_mut() {
                for f in [V4, V6] {
                    e.take_routed(f);
                }
                e.shared.set_net(NetState::default());
            }
            *self.ppp.common.routes_mut() = Routes::default();
        }
        if self.ppp.tun.is_some() {
            return Ok(());
        }
        let n = self.workers.len();
        let queues = if self.support.multi_queue { n } else { 1 };
        let options = TapOptions {
            vnet: self.support.requested && self.support.tap_tso,
            queues,
            tun: true,
        };
        let name = self.ppp.tun_name.clone();
        let what = |e: &io::Error| io_error(&format!("making the shared TUN {name}"), e);
        let (tuns, offloads) = Tap::create_queues(&name, options).map_err(|e| what(&e))?;
        let real = tuns[0].name().to_owned();
        quiet_ipv6(&real);
        tuns[0].set_mtu(TUN_MTU).map_err(|e| what(&e))?;
        tuns[0].set_up().map_err(|e| what(&e))?;
        let index = self
            .ppp
            .rtnl()
            .and_then(|r| r.index(&real))
            .map_err(|e| what(&e))?;
        // A worker without a queue of its own (fewer queues than workers) writes what it
        // receives through a duplicate of another's.
        let mut handed = Vec::with_capacity(n);
        for w in n.min(tuns.len())..n {
            handed.push((
                w,
                tuns[w % tuns.len()].try_clone().map_err(|e| what(&e))?,
                false,
            ));
        }
        for (w, tun) in tuns.into_iter().enumerate() {
            handed.push((w, tun, true));
        }
        for (w, tun, read) in handed {
            let (reply, answer) = mpsc::sync_channel(1);
            self.send(w % n, Command::AddTun(tun, offloads, read, reply))?;
            answer
                .recv_timeout(REPLY_TIMEOUT)
                .map_err(|_| Error::WorkerGone)??;
        }
        self.ppp.tun = Some(TunDevice { name: real, index });
        Ok(())
    }
}

/// Our address on the TUN: an IPv4 /32, or an IPv6 link-local /128 (the peers' link-local
/// addresses have routes of their own).
fn local_address(local: IpAddr) -> PeerAddress {
    PeerAddress {
        local,
        peer: local,
        prefix_len: if local.is_ipv4() { 32 } else { 128 },
    }
}

/// Sets the IPv6 of the TUN `name` before it goes up: on, but with no link-local address of the
/// kernel's making (`addr_gen_mode` 1: the TUN gets ours from IPv6CP), no router solicitations
/// and no router advertisements taken (the peers are PPP clients, not routers; global
/// addresses are not given out), no duplicate address detection (each identifier is
/// negotiated, RFC 5072 §4.1), no autoconfiguration. Multicast the host still sends into it
/// is dropped by the data path and counted as `multicast`. Best
/// effort: without IPv6 in the kernel there are no such knobs, and the TUN carries IPv4 only.
/// `addr_gen_mode` goes first, while the TUN is down: it is read when the TUN comes up.
fn quiet_ipv6(name: &str) {
    for (knob, value) in [
        ("addr_gen_mode", "1"),
        ("accept_ra", "0"),
        ("router_solicitations", "0"),
        ("accept_dad", "0"),
        ("dad_transmits", "0"),
        ("autoconf", "0"),
        ("disable_ipv6", "0"),
    ] {
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/{knob}"), value);
    }
}
