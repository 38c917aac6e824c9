//! The data-plane host's tunnels whose peers share an address and port, on a data plane that
//! cannot tell their data apart (Linux before 6.10) and on one that can.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::rc::Rc;

use crate::marks::{Learnt, MarkSource};
use l2tp_config::PseudowireType;
use l2tp_proto::DataSequencing;
use l2tp_proto::wire::header::{Encapsulation, L2SpecificSublayer, Version};

use super::*;
use crate::dataplane::api::{
    DataStats, SessionInstalled, SocketRequest, TunnelDataStats, TunnelSpec,
};

/// What a [`Recording`] data plane carries.
#[derive(Debug, Default)]
struct Log {
    tunnels: BTreeSet<u32>,
    sessions: BTreeSet<(u32, u32)>,
    /// The tunnel id of each data packet handed to it.
    data: Vec<u32>,
    /// The sessions it was asked to remove.
    removals: Vec<(u32, u32)>,
}

/// The session id a [`Recording`] data plane refuses to install.
const REFUSED_SID: u32 = 13;

/// A data plane that records what it carries, in a log the test keeps a handle on.
#[derive(Debug)]
struct Recording {
    name: &'static str,
    separates: bool,
    /// It reads the tunnels' sockets itself, as the userspace data plane does.
    adopts: bool,
    /// It takes the data packets offered to it (the kernel's takes a native PPP session's
    /// early ones only).
    takes_data: bool,
    /// It counts the PPP frames it fails to send itself, as the userspace data plane does.
    counts_ppp: bool,
    log: Rc<RefCell<Log>>,
}

impl Recording {
    fn new(name: &'static str, separates: bool) -> (Recording, Rc<RefCell<Log>>) {
        let log = Rc::default();
        let r = Recording {
            name,
            separates,
            adopts: false,
            takes_data: true,
            counts_ppp: false,
            log: Rc::clone(&log),
        };
        (r, log)
    }
}

impl Dataplane for Recording {
    fn name(&self) -> &'static str {
        self.name
    }
    fn separates_shared_peers(&self, _version: Version) -> bool {
        self.separates
    }
    fn install_tunnel(
        &mut self,
        spec: &TunnelSpec,
        _socket: Option<BorrowedFd<'_>>,
    ) -> Result<TunnelInstalled, DataplaneError> {
        self.log.borrow_mut().tunnels.insert(spec.tid);
        Ok(TunnelInstalled {
            adopted_socket: self.adopts,
        })
    }
    fn remove_tunnel(&mut self, tid: u32) -> Result<(), DataplaneError> {
        let mut log = self.log.borrow_mut();
        log.tunnels.remove(&tid);
        log.sessions.retain(|(t, _)| *t != tid);
        Ok(())
    }
    fn install_session(&mut self, spec: &SessionSpec) -> Result<SessionInstalled, DataplaneError> {
        if spec.sid == REFUSED_SID {
            return Err(DataplaneError::Unavailable("refused".into()));
        }
        self.log.borrow_mut().sessions.insert((spec.tid, spec.sid));
        Ok(SessionInstalled::default())
    }
    fn remove_session(&mut self, tid: u32, sid: u32) -> Result<(), DataplaneError> {
        let mut log = self.log.borrow_mut();
        log.removals.push((tid, sid));
        log.sessions.remove(&(tid, sid));
        Ok(())
    }
    fn handle_data(&mut self, _encap: Encapsulation, packet: &[u8]) -> bool {
        let tid = u16::from_be_bytes([packet[4], packet[5]]);
        if self.takes_data {
            self.log.borrow_mut().data.push(u32::from(tid));
        }
        self.takes_data
    }
    fn counts_ppp_send_errors(&self) -> bool {
        self.counts_ppp
    }
    fn session_stats(&self, tid: u32, sid: u32) -> Option<DataStats> {
        let log = self.log.borrow();
        log.sessions.contains(&(tid, sid)).then(DataStats::default)
    }
    /// The userspace data plane keeps its tunnels' own counters; here 100 + the tunnel id.
    fn tunnel_stats(&self, tid: u32) -> Option<TunnelDataStats> {
        let log = self.log.borrow();
        (self.name == "userspace" && log.tunnels.contains(&tid)).then(|| TunnelDataStats {
            peer_unreachable: 100 + u64::from(tid),
        })
    }
    fn counts(&self) -> (usize, usize) {
        let log = self.log.borrow();
        (log.tunnels.len(), log.sessions.len())
    }
    fn remove_all(&mut self) {
        let mut log = self.log.borrow_mut();
        log.tunnels.clear();
        log.sessions.clear();
    }
}

/// A listen socket (a free port on 127.0.0.1) and its address, and the NAT's address.
fn addresses() -> (Vec<crate::net::Bound>, SocketAddr, SocketAddr) {
    let listen = crate::net::bind_udp(&[SocketAddr::from(([127, 0, 0, 1], 0))], false)
        .unwrap_or_else(|e| panic!("{e}"));
    let local = listen[0].local;
    (listen, local, SocketAddr::from(([127, 0, 0, 2], 1701)))
}

fn open(host: &mut DataplaneHost, tid: u32, local: SocketAddr, remote: SocketAddr) -> ShellSocket {
    host.socket_change(
        Instant::now(),
        SocketChange::Open(SocketRequest {
            tid,
            encap: Encapsulation::Udp,
            local,
            remote,
            peer_tid: tid + 1000,
            version: Version::V2,
        }),
    );
    host.poll_change()
        .unwrap_or_else(|| panic!("no socket for tunnel {tid}"))
}

fn tunnel(tid: u32, local: SocketAddr, peer: SocketAddr) -> DataplaneRequest {
    DataplaneRequest::InstallTunnel(TunnelSpec {
        tid,
        peer_tid: tid + 1000,
        version: Version::V2,
        encap: Encapsulation::Udp,
        local,
        peer,
        udp_checksums: true,
        debug: false,
    })
}

fn session(tid: u32, sid: u32) -> DataplaneRequest {
    DataplaneRequest::InstallSession(Box::new(SessionSpec {
        tid,
        sid,
        peer_tid: tid + 1000,
        peer_sid: sid + 1000,
        pseudowire_type: PseudowireType::Ppp,
        cookie: Vec::new(),
        peer_cookie: Vec::new(),
        l2spec: L2SpecificSublayer::None,
        data_sequencing: DataSequencing::None,
        reorder_timeout_ms: 0,
        interface_name: None,
        mtu: None,
        mac: None,
        vlan_id: None,
        bridge: None,
        local_ip: None,
        peer_ip: None,
        netmask: None,
        lns: true,
        send_seq: false,
        recv_seq: false,
        ppp: Some(crate::dataplane::PppSpec::Native),
        debug: false,
    }))
}

fn installed(outcome: DataplaneOutcome) -> Result<(), String> {
    match outcome {
        DataplaneOutcome::TunnelInstalled { result, .. } => result.map_err(|e| e.to_string()),
        DataplaneOutcome::SessionInstalled { result, .. } => {
            result.map(drop).map_err(|e| e.to_string())
        }
        DataplaneOutcome::Removed => Ok(()),
    }
}

/// An L2TPv2 data packet for tunnel `tid`, session 1.
fn data(tid: u16) -> Vec<u8> {
    let mut p = vec![0x40, 0x02, 0, 10];
    p.extend_from_slice(&tid.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0xff, 0x03]);
    p
}

fn peer_of(change: &ShellSocket) -> Option<SocketAddr> {
    match change {
        ShellSocket::Open { peer, .. } => *peer,
        other => panic!("not an open: {other:?}"),
    }
}

#[test]
fn on_an_old_kernel_the_second_tunnel_of_a_nat_is_carried_apart() {
    let (_listen, local, nat) = addresses();
    let (old, kernel) = Recording::new("kernel", false);
    let mut host = DataplaneHost::new(Box::new(old), false);
    // The first tunnel's socket is connected, the second's and third's are not (they are sent
    // with an explicit destination).
    assert_eq!(peer_of(&open(&mut host, 1, local, nat)), None);
    assert_eq!(peer_of(&open(&mut host, 2, local, nat)), Some(nat));
    assert_eq!(peer_of(&open(&mut host, 3, local, nat)), Some(nat));
    // Another NAT's tunnel is on its own.
    let other = SocketAddr::from(([127, 0, 0, 3], 1701));
    assert_eq!(peer_of(&open(&mut host, 4, local, other)), None);
    for (tid, peer) in [(1, nat), (2, nat), (4, other)] {
        assert_eq!(installed(host.execute(&tunnel(tid, local, peer))), Ok(()));
    }
    assert_eq!(kernel.borrow().tunnels, BTreeSet::from([1, 4]));
    // The first one's sessions are the kernel's; the second one's cannot be carried here.
    assert_eq!(installed(host.execute(&session(1, 7))), Ok(()));
    let refused = installed(host.execute(&session(2, 8)));
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.contains("shares its peer's address and port with tunnel(s) 1, 3")),
        "{refused:?}"
    );
    assert_eq!(kernel.borrow().sessions, BTreeSet::from([(1, 7)]));
    // Data for the second tunnel does not reach the kernel's first one.
    assert!(host.handle_data(Encapsulation::Udp, &data(2)));
    assert!(host.handle_data(Encapsulation::Udp, &data(1)));
    assert_eq!(kernel.borrow().data, vec![1]);
    // Once the first is gone, the oldest tunnel carried apart gets a socket connected to the
    // NAT's address and port, which the shell reads, in place of the first one's.
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 1 });
    host.socket_change(Instant::now(), SocketChange::Close(1));
    match host.poll_change() {
        Some(ShellSocket::Open { tid, socket, .. }) => {
            assert_eq!(tid, 2);
            assert_eq!(socket.peer_addr().ok(), Some(nat));
        }
        other => panic!("no socket in place of tunnel 1's: {other:?}"),
    }
    assert!(matches!(host.poll_change(), Some(ShellSocket::Close(1))));
    assert!(host.poll_change().is_none());
    // And a new tunnel of that NAT is still carried apart.
    assert_eq!(peer_of(&open(&mut host, 5, local, nat)), Some(nat));
    // When all are gone, the next is the kernel's again.
    for tid in [2, 3, 5] {
        host.execute(&DataplaneRequest::RemoveTunnel { tid });
        host.socket_change(Instant::now(), SocketChange::Close(tid));
    }
    while host.poll_change().is_some() {}
    assert_eq!(peer_of(&open(&mut host, 6, local, nat)), None);
}

#[test]
fn a_fallback_carries_the_tunnels_apart_and_session_ids_never_clash() {
    let (_listen, local, nat) = addresses();
    let (old, kernel) = Recording::new("kernel", false);
    let (fallback, _) = Recording::new("userspace", true);
    let mut host = DataplaneHost::new(Box::new(old), false).with_fallback(Some(Box::new(fallback)));
    open(&mut host, 1, local, nat);
    open(&mut host, 2, local, nat);
    for tid in [1, 2] {
        assert_eq!(installed(host.execute(&tunnel(tid, local, nat))), Ok(()));
    }
    assert_eq!(installed(host.execute(&session(1, 7))), Ok(()));
    assert_eq!(installed(host.execute(&session(2, 8))), Ok(()));
    // Session 7 of tunnel 2 would have the kernel give tunnel 1's session 7 its data; session
    // 8 of tunnel 1 would take tunnel 2's.
    let clash = installed(host.execute(&session(2, 7)));
    assert!(clash.is_err_and(|e| e.contains("in use in tunnel 1")));
    let clash = installed(host.execute(&session(1, 8)));
    assert!(clash.is_err_and(|e| e.contains("in use in tunnel 2")));
    assert_eq!(host.counts(), (2, 2));
    assert!(host.session_stats(2, 8).is_some() && host.session_stats(1, 7).is_some());
    // Asked for many at once, each session's counters come from the plane that carries it.
    let d = Some(DataStats::default());
    assert_eq!(
        host.sessions_stats(&[(2, 8), (1, 9), (1, 7)]),
        vec![d, None, d]
    );
    // So do a tunnel's own counters (`show tunnel`'s peer_unreachable).
    assert_eq!(host.tunnel_stats(2).map(|t| t.peer_unreachable), Some(102));
    assert_eq!(host.tunnel_stats(1), None);
    // Port unreachables the shell read on a tunnel's socket add to those of its data plane.
    let before = host.drops().peer_unreachable;
    host.note_peer_unreachable(1);
    host.note_peer_unreachable(2);
    assert_eq!(host.tunnel_stats(1).map(|t| t.peer_unreachable), Some(1));
    assert_eq!(host.tunnel_stats(2).map(|t| t.peer_unreachable), Some(103));
    assert_eq!(host.drops().peer_unreachable, before + 2);
    // Data follows the tunnel id.
    assert!(host.handle_data(Encapsulation::Udp, &data(2)));
    assert!(host.handle_data(Encapsulation::Udp, &data(1)));
    assert_eq!(kernel.borrow().data, vec![1]);
    host.execute(&DataplaneRequest::RemoveSession { tid: 2, sid: 8 });
    assert_eq!(installed(host.execute(&session(1, 8))), Ok(()));
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 2 });
    assert_eq!(host.counts(), (1, 2));
}

#[test]
fn a_kernel_that_separates_them_carries_them_all() {
    let (_listen, local, nat) = addresses();
    let (new, kernel) = Recording::new("kernel", true);
    let mut host = DataplaneHost::new(Box::new(new), false);
    assert_eq!(peer_of(&open(&mut host, 1, local, nat)), None);
    assert_eq!(peer_of(&open(&mut host, 2, local, nat)), None);
    for tid in [1, 2] {
        assert_eq!(installed(host.execute(&tunnel(tid, local, nat))), Ok(()));
        assert_eq!(installed(host.execute(&session(tid, 7))), Ok(()));
    }
    assert_eq!(kernel.borrow().sessions, BTreeSet::from([(1, 7), (2, 7)]));
}

/// A tunnel that went down keeps its socket while it waits out its StopCCN (RFC 2661 §5.7,
/// RFC 3931 §4.4), but carries no data any more: the same peer's next tunnel, opened
/// meanwhile from the same address and port, is the kernel's, not carried apart.
#[test]
fn a_tunnel_gone_down_does_not_push_the_peers_next_one_apart() {
    let (_listen, local, peer) = addresses();
    let (old, kernel) = Recording::new("kernel", false);
    let (fallback, _) = Recording::new("userspace", true);
    let mut host = DataplaneHost::new(Box::new(old), false).with_fallback(Some(Box::new(fallback)));
    assert_eq!(peer_of(&open(&mut host, 1, local, peer)), None);
    assert_eq!(installed(host.execute(&tunnel(1, local, peer))), Ok(()));
    // Tunnel 1 goes down; its socket stays until the engine lets it go.
    host.tunnel_down(1);
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 1 });
    assert_eq!(peer_of(&open(&mut host, 2, local, peer)), None);
    assert_eq!(installed(host.execute(&tunnel(2, local, peer))), Ok(()));
    assert_eq!(installed(host.execute(&session(2, 7))), Ok(()));
    assert_eq!(kernel.borrow().sessions, BTreeSet::from([(2, 7)]));
    // Tunnel 1's socket closes later without handing anything over.
    host.socket_change(Instant::now(), SocketChange::Close(1));
    while let Some(change) = host.poll_change() {
        assert!(
            !matches!(change, ShellSocket::Open { tid: 2, .. }),
            "{change:?}"
        );
    }
}

/// A tunnel that went down before it came up (refused by the peer's StopCCN, never installed)
/// does not push the peer's next tunnel apart either.
#[test]
fn a_tunnel_refused_before_it_came_up_does_not_push_the_next_one_apart() {
    let (_listen, local, peer) = addresses();
    let (old, _) = Recording::new("kernel", false);
    let mut host = DataplaneHost::new(Box::new(old), false);
    assert_eq!(peer_of(&open(&mut host, 1, local, peer)), None);
    host.tunnel_down(1);
    assert_eq!(peer_of(&open(&mut host, 2, local, peer)), None);
}

/// On a kernel that tells them apart, the socket that gets the datagrams of a NAT's address
/// and port may be that of a tunnel that went down and waits out its StopCCN: its kernel
/// tunnel stays until that socket closes, so that the other tunnels' data still reaches them
/// through it, and goes then.
#[test]
fn a_kernel_tunnel_that_shares_its_peer_stays_until_its_socket_closes() {
    let (_listen, local, nat) = addresses();
    let (new, kernel) = Recording::new("kernel", true);
    let mut host = DataplaneHost::new(Box::new(new), false);
    let mut first = None;
    for tid in [1, 2, 3] {
        let change = open(&mut host, tid, local, nat);
        first.get_or_insert(change);
        assert_eq!(installed(host.execute(&tunnel(tid, local, nat))), Ok(()));
    }
    // The shell's copy of tunnel 1's socket.
    let Some(ShellSocket::Open { socket: first, .. }) = first else {
        panic!("no socket for tunnel 1");
    };
    host.tunnel_down(1);
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 1 });
    assert_eq!(kernel.borrow().tunnels, BTreeSet::from([1, 2, 3]));
    assert_eq!(first.peer_addr().ok(), Some(nat));
    host.socket_change(Instant::now(), SocketChange::Close(1));
    assert_eq!(kernel.borrow().tunnels, BTreeSet::from([2, 3]));
    // Before its tunnel went, its socket stopped matching the NAT's port (connected to port
    // 0), so that the NAT's datagrams go to the others' sockets.
    assert!(first.peer_addr().is_err(), "{:?}", first.peer_addr());
    assert!(matches!(host.poll_change(), Some(ShellSocket::Close(1))));
    assert!(host.poll_change().is_none());
    // The last of the group has no other tunnel's data to wait for: it goes at once.
    host.tunnel_down(3);
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 3 });
    assert_eq!(kernel.borrow().tunnels, BTreeSet::from([2, 3]));
    host.tunnel_down(2);
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 2 });
    assert_eq!(kernel.borrow().tunnels, BTreeSet::from([3]));
    // A socket closed before the tunnel is removed leaves the removal as it was.
    host.socket_change(Instant::now(), SocketChange::Close(3));
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 3 });
    assert!(kernel.borrow().tunnels.is_empty());
}

/// A data plane that reads the tunnels' sockets itself (the userspace one) still reads that of
/// a tunnel that lingers, and what it reads there is the tunnel's until the socket closes.
#[test]
fn a_lingering_tunnel_s_adopted_socket_is_still_read() {
    let (_listen, local, nat) = addresses();
    let (mut reads, _) = Recording::new("userspace", true);
    reads.adopts = true;
    let mut host = DataplaneHost::new(Box::new(reads), false);
    for tid in [1, 2] {
        open(&mut host, tid, local, nat);
        assert_eq!(installed(host.execute(&tunnel(tid, local, nat))), Ok(()));
    }
    assert_eq!(host.control_source(1), Some((local, nat)));
    host.tunnel_down(1);
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 1 });
    assert_eq!(host.control_source(1), Some((local, nat)));
    host.socket_change(Instant::now(), SocketChange::Close(1));
    assert_eq!(host.control_source(1), None);
    // The last of the group goes at once, and no longer reads.
    host.tunnel_down(2);
    host.execute(&DataplaneRequest::RemoveTunnel { tid: 2 });
    assert_eq!(host.control_source(2), None);
}

/// Two clients behind one NAT with the same tunnel id: the second one's SCCRQ mark is its own
/// tunnel's, not the first tunnel's (whose mark stays), so that the two stay apart, and a
/// restarted client's old tunnel is told from another client's by its mark
/// ([`crate::marks::same_client`]).
#[test]
fn a_second_client_with_the_same_tunnel_id_gets_its_own_mark() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: setting a socket's mark needs CAP_NET_ADMIN");
        return;
    }
    let (_listen, local, nat) = addresses();
    let (plane, _) = Recording::new("kernel", true);
    let mut host = DataplaneHost::new(Box::new(plane), false);
    let key = (nat.ip(), 77);
    let learnt = |mark| Learnt {
        mark,
        source: MarkSource::Sccrq,
    };
    let open_with_peer_tid = |host: &mut DataplaneHost, tid| {
        let request = SocketRequest {
            tid,
            encap: Encapsulation::Udp,
            local,
            remote: nat,
            peer_tid: 77,
            version: Version::V2,
        };
        host.socket_change(Instant::now(), SocketChange::Open(request));
        while host.poll_change().is_some() {}
    };
    host.learn_mark(Instant::now(), key, learnt(7));
    open_with_peer_tid(&mut host, 1);
    assert_eq!(host.tunnel_mark(1), Some(7));
    // The first client's SCCRQ again: nothing changes.
    host.learn_mark(Instant::now(), key, learnt(7));
    assert_eq!(host.tunnel_mark(1), Some(7));
    // Another client's SCCRQ with the same tunnel id, and its tunnel.
    host.learn_mark(Instant::now(), key, learnt(8));
    assert_eq!(
        host.tunnel_mark(1),
        Some(7),
        "the first tunnel took the second's mark"
    );
    open_with_peer_tid(&mut host, 2);
    assert_eq!(host.tunnel_mark(2), Some(8));
    let others = [(1, host.tunnel_mark(1))];
    let (same, other) = crate::marks::same_client(host.tunnel_mark(2), others);
    assert_eq!((same, other), (vec![], vec![1]));
    // A restarted client with its old mark: its old tunnel is its own.
    host.learn_mark(Instant::now(), key, learnt(8));
    open_with_peer_tid(&mut host, 3);
    assert_eq!(host.tunnel_mark(3), Some(8));
    let others = [(1, host.tunnel_mark(1)), (2, host.tunnel_mark(2))];
    let (same, other) = crate::marks::same_client(host.tunnel_mark(3), others);
    assert_eq!((same, other), (vec![2], vec![1]));
}

#[test]
fn an_early_data_packet_no_data_plane_takes_is_counted_as_for_no_session() {
    let (_listen, local, peer) = addresses();
    let (mut kernel, log) = Recording::new("kernel", false);
    kernel.takes_data = false;
    let mut host = DataplaneHost::new(Box::new(kernel), false);
    open(&mut host, 1, local, peer);
    assert_eq!(installed(host.execute(&tunnel(1, local, peer))), Ok(()));
    assert_eq!(host.drops(), l2tp_dataplane::DataplaneTotals::default());
    // Given back after the events before it; the data plane does not take it.
    host.give_back_early(1, &data(1));
    host.give_back_early(1, &data(1));
    assert!(log.borrow().data.is_empty());
    assert_eq!(host.drops().rx_unknown_session, 2);
    assert_eq!(
        host.drops().reasons().iter().map(|r| r.1).sum::<u64>(),
        2,
        "{:?}",
        host.drops()
    );
}

#[test]
fn an_early_data_packet_a_data_plane_takes_is_not_counted() {
    let (_listen, local, peer) = addresses();
    let (kernel, log) = Recording::new("kernel", false);
    let mut host = DataplaneHost::new(Box::new(kernel), false);
    open(&mut host, 1, local, peer);
    host.give_back_early(1, &data(1));
    assert_eq!(log.borrow().data, [1]);
    assert_eq!(host.drops(), l2tp_dataplane::DataplaneTotals::default());
}

#[test]
fn data_for_a_tunnel_apart_without_a_fallback_is_counted_as_for_no_session() {
    let (_listen, local, nat) = addresses();
    let (old, kernel) = Recording::new("kernel", false);
    let mut host = DataplaneHost::new(Box::new(old), false);
    open(&mut host, 1, local, nat);
    open(&mut host, 2, local, nat);
    for tid in [1, 2] {
        assert_eq!(installed(host.execute(&tunnel(tid, local, nat))), Ok(()));
    }
    // Tunnel 2 is carried apart, by no data plane: its data is taken from the shell and
    // dropped, counted; tunnel 1's goes to the kernel.
    assert!(host.handle_data(Encapsulation::Udp, &data(2)));
    assert!(host.handle_data(Encapsulation::Udp, &data(1)));
    host.give_back_early(2, &data(2));
    assert_eq!(kernel.borrow().data, [1]);
    assert_eq!(host.drops().rx_unknown_session, 2, "{:?}", host.drops());
}

/// A session the data plane refused to install (its TAP's name taken, say) is not removed from
/// it when the engine disconnects it: the data plane has nothing of it, and would only answer
/// that it knows no such session, which the host would log as a warning.
#[test]
fn a_session_that_failed_to_install_is_not_removed_again() {
    let (_listen, local, nat) = addresses();
    let (plane, log) = Recording::new("userspace", true);
    let mut host = DataplaneHost::new(Box::new(plane), false);
    open(&mut host, 1, local, nat);
    assert_eq!(installed(host.execute(&tunnel(1, local, nat))), Ok(()));
    assert!(installed(host.execute(&session(1, REFUSED_SID))).is_err());
    assert_eq!(installed(host.execute(&session(1, 7))), Ok(()));
    for sid in [REFUSED_SID, 7] {
        host.execute(&DataplaneRequest::RemoveSession { tid: 1, sid });
    }
    assert_eq!(log.borrow().removals, vec![(1, 7)]);
    // Only once: a later session of that id is removed again.
    host.execute(&DataplaneRequest::RemoveSession {
        tid: 1,
        sid: REFUSED_SID,
    });
    assert_eq!(log.borrow().removals, vec![(1, 7), (1, REFUSED_SID)]);
}

#[test]
fn a_ppp_frame_the_kernel_fails_to_send_is_a_tx_error_of_the_session_and_totals() {
    let (_listen, local, peer) = addresses();
    let send = |tid, sid| DataplaneRequest::SendPpp {
        tid,
        sid,
        frame: vec![0xc0, 0x21, 5, 1, 0, 4],
    };
    // The Recording plane refuses every PPP frame (it carries no native PPP).
    let (kernel, _) = Recording::new("kernel", false);
    let mut host = DataplaneHost::new(Box::new(kernel), false);
    open(&mut host, 1, local, peer);
    assert_eq!(installed(host.execute(&tunnel(1, local, peer))), Ok(()));
    assert_eq!(installed(host.execute(&session(1, 7))), Ok(()));
    assert_eq!(installed(host.execute(&session(1, 8))), Ok(()));
    host.execute(&send(1, 7));
    host.execute(&send(1, 7));
    let tx_errors = |s: Option<DataStats>| s.map(|s| s.tx_errors);
    assert_eq!(tx_errors(host.session_stats(1, 7)), Some(2));
    assert_eq!(tx_errors(host.session_stats(1, 8)), Some(0));
    let many: Vec<_> = host.sessions_stats(&[(1, 8), (1, 7)]);
    assert_eq!(
        many.into_iter().map(tx_errors).collect::<Vec<_>>(),
        [Some(0), Some(2)]
    );
    assert_eq!(host.drops().tx_errors, 2);
    assert_eq!(tx_errors(host.data_totals()), Some(2));
    // The totals keep them once the session is gone; a later session of that id starts at 0.
    host.execute(&DataplaneRequest::RemoveSession { tid: 1, sid: 7 });
    assert_eq!(installed(host.execute(&session(1, 7))), Ok(()));
    assert_eq!(tx_errors(host.session_stats(1, 7)), Some(0));
    assert_eq!(host.drops().tx_errors, 2);
    // A data plane that counts its refused sends itself is not counted again.
    let (mut userspace, _) = Recording::new("userspace", true);
    userspace.counts_ppp = true;
    let mut host = DataplaneHost::new(Box::new(userspace), false);
    open(&mut host, 1, local, peer);
    assert_eq!(installed(host.execute(&tunnel(1, local, peer))), Ok(()));
    assert_eq!(installed(host.execute(&session(1, 7))), Ok(()));
    host.execute(&send(1, 7));
    assert_eq!(tx_errors(host.session_stats(1, 7)), Some(0));
    assert_eq!(host.drops().tx_errors, 0);
}
