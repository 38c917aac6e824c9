//! Linux data planes for the L2TP suite. So far: the **userspace data plane** for L2TPv3
//! Ethernet pseudowires (RFC 3931, RFC 4719), and the TAP devices it uses.
//!
//! # What it does
//!
//! - One TAP per session ([`tap::Tap`]: `/dev/net/tun`, `TUNSETIFF` with
//!   `IFF_TAP | IFF_NO_PI`, a fixed name or a `%d` template, MTU, MAC, bridge port, up; deleted
//!   when dropped).
//! - One data socket per tunnel, bound to the local address and connected to the peer: UDP
//!   (RFC 3931 §4.1.2) or raw IP protocol 115 (§4.1.1; the IPv4 header is stripped on receipt).
//! - Pseudowire types 5 (Ethernet) and 4 (Ethernet VLAN, with an optional VLAN id pushed on
//!   transmit and popped on receipt), cookies of 0, 4 or 8 octets (a mismatch drops the packet
//!   and is counted, §8.2), the Default L2-Specific Sublayer (§4.6) with sequence numbers sent
//!   when asked and, when required on receipt, duplicates and out-of-order packets dropped and
//!   counted ([`codec`]).
//! - A session table keyed by session id (a `HashMap`: O(1) per packet), per-session and
//!   per-tunnel counters ([`SessionStats`], [`TunnelStats`]).
//! - Batched I/O: `recvmmsg` and `sendmmsg` of up to 32 datagrams per call, and TAP reads in
//!   batches of 32 frames sent with one `sendmmsg`.
//! - Offloads ([`offload`], [`DataplaneOptions::offloads`], on by default): TAPs opened with a
//!   virtio-net header and `TUNSETOFFLOAD`, so that a TCP sender's super-frames (up to 64 KiB;
//!   UDP ones from Linux 6.2) leave the TAP whole. The data path segments them (TCP and UDP,
//!   IPv4 and IPv6, checksums completed), numbers and encapsulates each segment on its own (so
//!   cookies, the sublayer and sequencing are per L2TP packet as before), and sends runs of
//!   equal-sized datagrams with UDP GSO (`UDP_SEGMENT`), one `sendmmsg` message per run. The
//!   tunnel socket receives with UDP GRO; the decapsulated segments of a TCP (or UDP) flow are
//!   joined into a super-frame again and written with one `writev`. What the kernel lacks is
//!   probed when the data plane starts ([`OffloadSupport`]) and done without.
//! - A session whose TAP interface is deleted by someone else is dropped by the data path and
//!   reported to the control sink ([`SinkEvent::SessionDown`]).
//!
//! # Threads: why std threads and epoll rather than tokio `AsyncFd`
//!
//! The data path runs on threads of its own ([`DataplaneOptions::threads`], one per core by
//! default), each blocked in `epoll_wait` over its data sockets, its TAP queues and an
//! `eventfd` for commands. Each tunnel is read by one thread (the one with the fewest
//! tunnels); each session's TAP has one queue per thread (`IFF_MULTI_QUEUE`; the kernel spreads
//! the session's flows over them), read by that thread, which sends on the tunnel's shared
//! socket. A session that sends sequence numbers has one queue only, so that its numbers leave
//! in order. The daemon's control plane runs on a `current_thread` tokio runtime; data tasks
//! there would share its one thread, so a busy pseudowire would delay retransmissions, Hellos
//! and the control socket. Dedicated threads cannot stall the control plane, and a plain
//! level-triggered epoll loop around `recvmmsg`, `read` and `sendmmsg` costs one `epoll_wait`
//! per batch instead of a waker, a task wake-up and a readiness re-arm per descriptor. The
//! control side's calls are short: open a socket or a TAP (a few system calls), queue a
//! command, ring the eventfd, and wait at most 5 s for the threads to take it. Counters are
//! relaxed atomics that [`UserspaceDataplane::stats`] reads directly.
//!
//! # Fitting l2tpd's `Dataplane` trait
//!
//! The daemon's author writes a small adapter (`l2tpd/src/dataplane.rs` is theirs):
//!
//! ```text
//! struct UserspaceAdapter { dp: l2tp_dataplane::UserspaceDataplane, tids: HashMap<u32, ...> }
//! install_tunnel(spec)   -> reject version 2 (Unavailable: only L2TPv3 pseudowires);
//!                           dp.add_tunnel(TunnelSpec { tid, peer_tid, encap (Udp|Ip),
//!                           local, peer, udp_checksums, socket: None or a dup of the
//!                           tunnel's connected socket })
//! install_session(spec)  -> reject pseudowire types other than eth/eth_vlan (Unavailable);
//!                           cookies with Cookie::new(&spec.cookie / &spec.peer_cookie)
//!                           (same meaning: `cookie` is sent, `peer_cookie` expected);
//!                           l2spec None|Default; recv_seq = data_sequencing != None (our
//!                           config asks the peer to sequence); send_seq = what the peer's
//!                           Data Sequencing AVP asked (until the engine reports it:
//!                           the same as recv_seq); reorder_timeout_ms, interface_name, mtu,
//!                           mac.0, vlan_id, bridge as they are;
//!                           Ok(SessionInstalled { interface_name: Some(dp.add_session(..)?) })
//! remove_session(tid, sid) -> dp.remove_session(sid)
//! remove_tunnel(tid)     -> dp.remove_tunnel(tid)
//! handle_data(from, pkt) -> dp.handle_data(encap_of_the_socket, pkt)
//! counts()/remove_all()  -> dp.counts() / dp.remove_all()
//! Error::Io(e)           -> DataplaneError::Io(e); UnknownTunnel/UnknownSession -> Unknown;
//!                           everything else -> Unavailable(e.to_string())
//! ```
//!
//! Sockets: the data plane opens its own data socket per tunnel with `SO_REUSEADDR`, on the
//! tunnel's local address and connected to its peer. When the daemon already holds a connected
//! socket on the very same addresses, the kernel gives each datagram to one of the two, so the
//! daemon should either pass its socket in ([`TunnelSpec::socket`], the way the kernel's data
//! plane takes over a tunnel socket) and receive its control messages from the control sink
//! ([`UserspaceDataplane::with_control_sink`]), or feed the data packets its own socket
//! receives to [`UserspaceDataplane::handle_data`]. Both paths are implemented.
//!
//! # Not done (yet)
//!
//! - L2TPv2 and PPP pseudowires over the userspace data plane (a PPP session would read IP
//!   packets from a TUN device: the offload code takes IP packets behind an L2 header of any
//!   length, 0 included, for that).
//! - Receive steering: a tunnel's socket is read by one thread, so one tunnel's received
//!   traffic uses one core; many tunnels spread over all.
//!
//! Logs: this crate logs nothing; cookies are never printed by it.

#![warn(missing_docs, unreachable_pub)]

pub mod codec;
pub mod kernel;
pub mod offload;
mod options;
pub mod reorder;
pub mod socket;
pub mod stats;
#[allow(unsafe_code)]
mod sys;
pub mod tap;
mod userspace;
mod worker;

pub use codec::PseudowireType;
pub use l2tp_proto::wire::header::{Cookie, Encapsulation, L2SpecificSublayer};
pub use options::{DataplaneOptions, OffloadSupport};
pub use stats::{DataplaneTotals, SessionStats, TunnelStats};
pub use userspace::{
    ControlPacket, ControlSink, CookieReport, DEFAULT_INTERFACE_TEMPLATE, Error, SessionDown,
    SessionSpec, SinkEvent, TunnelSpec, UserspaceDataplane, default_mtu,
};
