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
//! - A session whose TAP interface is deleted by someone else is dropped by the data path and
//!   reported to the control sink ([`SinkEvent::SessionDown`]).
//!
//! # Threads: why a std thread and epoll rather than tokio `AsyncFd`
//!
//! The data path runs on one thread of its own, blocked in `epoll_wait` over every data socket,
//! every TAP and an `eventfd` for commands. The daemon's control plane runs on a
//! `current_thread` tokio runtime; data tasks there would share its one thread, so a busy
//! pseudowire would delay retransmissions, Hellos and the control socket. A dedicated thread
//! cannot stall the control plane, and a plain level-triggered epoll loop around `recvmmsg`,
//! `read` and `sendmmsg` costs one `epoll_wait` per batch instead of a waker, a task wake-up and
//! a readiness re-arm per descriptor. The control side's calls are short: open a socket or a TAP
//! (a few system calls), queue a command, ring the eventfd, and wait at most 5 s for the thread
//! to take it. Counters are relaxed atomics that [`UserspaceDataplane::stats`] reads directly.
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
//! - L2TPv2 and PPP pseudowires; the kernel data plane (netlink); multi-queue TAPs and
//!   offloads (`IFF_VNET_HDR`, GSO/GRO); one data-path thread serves every session.
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
