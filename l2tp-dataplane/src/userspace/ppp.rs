//! The control side of native PPP ([`crate::ppp`]): sessions, the shared TUN, its addresses
//! and the sessions' routes.
//!
//! The TUN is made when a session's IPv4 first comes up (one queue per data-path thread when
//! the kernel has multi-queue TUNs, the virtio-net header and offloads when the TAPs have
//! them), IPv6 off, MTU 1500, and lives as long as the data plane (or until someone deletes
//! it: the sessions it carried are then reported down, and the next one makes a new TUN). At
//! `ppp_up` the TUN gets our address (/32, once per address however many sessions use it)
//! and the peer's address a route (/32, through the TUN, our address as its source, the peer's
//! MRU as its MTU), over rtnetlink; both go at `ppp_down` or when the session is removed. The
//! data-path threads share one table of the routes, which gets the session before the kernel
//! gets its route, so that a packet the kernel routes into the TUN finds its session.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::mpsc;

use l2tp_proto::wire::header::{L2SpecificSublayer, Version};
use nix::sys::socket::{MsgFlags, send};

use super::{Error, REPLY_TIMEOUT, UserspaceDataplane};
use crate::kernel::Rtnl;
use crate::kernel::rtnl::PeerAddress;
use crate::ppp::codec::{NetState, PppCodec, PppCodecSpec, PppL2tp};
use crate::ppp::routes::{IdMap, Routes};
use crate::ppp::{DEFAULT_TUN_NAME, PppNet, PppSessionSpec};
use crate::stats::SessionStats;
use crate::tap::{Tap, TapOptions};
use crate::worker::Command;
use crate::worker::ppp::{PppChange, PppCommon, PppRx, PppShared, v2_key};

/// The MTU of the shared TUN; each session's route has its own (the peer's MRU).
const TUN_MTU: u32 = 1500;

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
    /// The session (key) whose route each peer address is.
    routed: HashMap<Ipv4Addr, u64>,
    /// Our addresses on the TUN, and how many sessions use each.
    locals: HashMap<Ipv4Addr, usize>,
}

#[derive(Debug)]
struct PppEntry {
    shared: Arc<PppShared>,
    /// The worker that receives its packets.
    home: usize,
    /// Our address, the peer's and the route's MTU, while its IPv4 is routed.
    routed: Option<(Ipv4Addr, Ipv4Addr, u16)>,
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
        let l2tp = match tunnel.version {
            Version::V2 => {
                let (Ok(peer_tid), Ok(peer_sid)) =
                    (u16::try_from(spec.peer_tid), u16::try_from(spec.peer_sid))
                else {
                    return Err(Error::Invalid(
                        "L2TPv2 tunnel and session ids are 16 bits".into(),
                    ));
                };
                PppL2tp::V2 { peer_tid, peer_sid }
            }
            Version::V3 => {
                let seq = spec.send_seq || spec.recv_seq;
                if seq && spec.l2spec != L2SpecificSublayer::Default {
                    return Err(Error::Invalid(
                        "sequencing needs the default L2-Specific Sublayer".into(),
                    ));
                }
                PppL2tp::V3 {
                    peer_sid: spec.peer_sid,
                    cookie: spec.cookie,
                    peer_cookie: spec.peer_cookie,
                    l2spec: spec.l2spec,
                }
            }
        };
        let codec = PppCodec::new(PppCodecSpec {
            encap: tunnel.encap,
            l2tp,
            send_seq: spec.send_seq,
            recv_seq: spec.recv_seq,
        });
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
                routed: None,
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
                Err(Error::Io(e))
            }
        }
    }

    /// Carries the IP of native-PPP session `sid` of tunnel `tid` as `net` says (called again
    /// when it changes): IPv4 routed through the shared TUN, made if need be. Returns the
    /// TUN's name when the session carries IPv4. IPv6 is not carried (see [`crate::ppp`]).
    pub fn ppp_up(&mut self, tid: u32, sid: u32, net: &PppNet) -> Result<Option<String>, Error> {
        let (key, e) = self.ppp_entry(tid, sid)?;
        let was = e.routed;
        let tunnel_peer = self.tunnels.get(&tid).map(|t| t.peer_ip);
        let Some((local, peer)) = net.ipv4 else {
            self.ppp_down(tid, sid)?;
            self.set_net(key, None, net);
            return Ok(None);
        };
        if tunnel_peer == Some(IpAddr::V4(peer)) {
            return Err(Error::Invalid(format!(
                "the peer's PPP address {peer} is its tunnel's address: a route to it through \
                 the PPP session would carry the tunnel into itself"
            )));
        }
        if let Some(other) = self.ppp.routed.get(&peer).filter(|k| **k != key) {
            let other = self
                .ppp
                .sessions
                .get(other)
                .map(|o| (o.shared.tid, o.shared.sid));
            return Err(Error::Invalid(format!(
                "the peer's PPP address {peer} is routed to another session ({other:?})"
            )));
        }
        self.ensure_tun()?;
        // No MRU below IPv4's minimum MTU (RFC 791: 68) reaches a route.
        let mtu = if net.mtu == 0 {
            TUN_MTU as u16
        } else {
            net.mtu.max(68)
        };
        if was != Some((local, peer, mtu)) {
            if let Some((l, p, _)) = was
                && (l, p) != (local, peer)
            {
                self.unroute(key);
            }
            // Carried from the first packet the route brings.
            self.set_net(key, Some(peer), net);
            if let Err(e) = self.route(key, (local, peer, mtu)) {
                self.set_net(key, None, net);
                return Err(e);
            }
        }
        self.set_net(key, Some(peer), net);
        Ok(self.ppp_interface().map(str::to_owned))
    }

    /// Stops carrying the IP of native-PPP session `sid` of tunnel `tid`; its control frames
    /// still flow.
    pub fn ppp_down(&mut self, tid: u32, sid: u32) -> Result<(), Error> {
        let (key, _) = self.ppp_entry(tid, sid)?;
        if let Some(e) = self.ppp.sessions.get(&key) {
            let framing = e.shared.net().framing;
            e.shared.set_net(NetState {
                peer_ipv4: None,
                framing,
            });
        }
        self.unroute(key);
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
        self.unroute(key);
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

    fn set_net(&self, key: u64, peer: Option<Ipv4Addr>, net: &PppNet) {
        if let Some(e) = self.ppp.sessions.get(&key) {
            e.shared.set_net(NetState {
                peer_ipv4: peer,
                framing: net.framing,
            });
        }
    }

    /// Routes `peer` to session `key` (our address `local` on the TUN, `mtu` on the route),
    /// in the kernel and in every worker.
    fn route(
        &mut self,
        key: u64,
        (local, peer, mtu): (Ipv4Addr, Ipv4Addr, u16),
    ) -> Result<(), Error> {
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
            .and_then(|e| e.routed)
            .filter(|(l, p, _)| (*l, *p) == (local, peer));
        if previous.is_none() {
            let uses = self.ppp.locals.get(&local).copied().unwrap_or(0);
            if uses == 0 {
                let a = PeerAddress {
                    local: local.into(),
                    peer: local.into(),
                    prefix_len: 32,
                };
                self.ppp
                    .rtnl()
                    .and_then(|r| r.add_address(index, &a))
                    .map_err(|e| io_error(&format!("giving the TUN {local}"), &e))?;
            }
            self.ppp.locals.insert(local, uses + 1);
        }
        // The workers' table first: the kernel's route may bring a packet at once.
        let shared = self
            .ppp
            .sessions
            .get(&key)
            .map(|e| Arc::clone(&e.shared))
            .ok_or(Error::WorkerGone)?;
        let had = self.ppp.common.routes_mut().insert(peer, key, shared) == Some(key);
        let added = self
            .ppp
            .rtnl()
            .and_then(|r| r.replace_route(index, peer, local, mtu));
        if let Err(e) = added {
            if !had {
                self.ppp.common.routes_mut().remove(peer, key);
            }
            if previous.is_none() {
                self.release_local(local);
            }
            return Err(io_error(&format!("a route to {peer} through the TUN"), &e));
        }
        self.ppp.routed.insert(peer, key);
        if let Some(e) = self.ppp.sessions.get_mut(&key) {
            e.routed = Some((local, peer, mtu));
        }
        Ok(())
    }

    /// Takes session `key`'s route away (and our address, when no other session uses it).
    fn unroute(&mut self, key: u64) {
        let Some((local, peer, _)) = self
            .ppp
            .sessions
            .get_mut(&key)
            .and_then(|e| e.routed.take())
        else {
            return;
        };
        self.ppp.common.routes_mut().remove(peer, key);
        if self.ppp.routed.get(&peer) == Some(&key) {
            self.ppp.routed.remove(&peer);
            if let Some(index) = self.ppp.tun.as_ref().map(|t| t.index) {
                // Gone with the TUN, or removed by someone else: nothing left to do.
                let _ = self.ppp.rtnl().and_then(|r| r.delete_route(index, peer));
            }
        }
        self.release_local(local);
    }

    fn release_local(&mut self, local: Ipv4Addr) {
        let Some(uses) = self.ppp.locals.get_mut(&local) else {
            return;
        };
        *uses -= 1;
        if *uses > 0 {
            return;
        }
        self.ppp.locals.remove(&local);
        if let Some(index) = self.ppp.tun.as_ref().map(|t| t.index) {
            let a = PeerAddress {
                local: local.into(),
                peer: local.into(),
                prefix_len: 32,
            };
            let _ = self.ppp.rtnl().and_then(|r| r.delete_address(index, &a));
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
            self.ppp.locals.clear();
            for e in self.ppp.sessions.values_mut() {
                e.routed = None;
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
        // IPv6 is not carried (see `crate::ppp`): no link-local address, no router
        // solicitations into the TUN. Best effort: without IPv6 in the kernel there is no knob.
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{real}/disable_ipv6"), "1");
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
