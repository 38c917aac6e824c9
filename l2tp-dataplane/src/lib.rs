//! Linux data planes for the L2TP suite:
//!
//! - the **userspace data plane** ([`UserspaceDataplane`]) for L2TPv3 Ethernet and Ethernet
//!   VLAN pseudowires (RFC 3931, RFC 4719) over TAP devices, and for PPP sessions (L2TPv2,
//!   RFC 2661; L2TPv3 PPP pseudowires) whose PPP the control plane terminates itself, their
//!   IP over one shared TUN ([`ppp`]), for kernels without L2TP or PPP;
//! - the **kernel data plane** as a library ([`kernel`]): the generic netlink family `l2tp`,
//!   rtnetlink for the sessions' interfaces and their deletion, PPPoL2TP sockets for pppd, the
//!   PPP channels and units of `/dev/ppp` for PPP without pppd ([`kernel::ppp`]), and L2TP/IP
//!   sockets;
//! - `l2tp-static`, a small binary that carries one static pseudowire on the userspace data
//!   plane (for tests and benchmarks).
//!
//! `l2tpd` drives both through its `Dataplane` trait (`l2tpd/src/dataplane/`): `userspace.rs`
//! adapts [`UserspaceDataplane`], `kernel/` programs the kernel with [`kernel`] and runs pppd.
//!
//! # The userspace data plane
//!
//! - One TAP per session ([`tap::Tap`]: `/dev/net/tun`, `TUNSETIFF` with
//!   `IFF_TAP | IFF_NO_PI`, a fixed name or a `%d` template, MTU, MAC, bridge port, up; deleted
//!   when dropped).
//! - One data socket per tunnel, bound to the local address and connected to the peer: UDP
//!   (RFC 3931 §4.1.2) or raw IP protocol 115 (§4.1.1; the IPv4 header is stripped on receipt).
//!   The caller may pass in its own connected socket instead ([`TunnelSpec::socket`]); control
//!   messages arriving on it then go to the control sink
//!   ([`UserspaceDataplane::with_control_sink`]). Data packets the caller receives on another
//!   socket are fed in with [`UserspaceDataplane::handle_data`].
//! - Pseudowire types 5 (Ethernet) and 4 (Ethernet VLAN, with an optional VLAN id pushed on
//!   transmit and popped on receipt), cookies of 0, 4 or 8 octets, one length each way (a
//!   mismatch drops the packet and is counted, §8.2, and reported at most once a second), the
//!   Default L2-Specific Sublayer (§4.6) with sequence numbers sent when asked and, when
//!   required on receipt, duplicates and out-of-order packets dropped and counted, or held up
//!   to a reorder timeout ([`codec`], [`reorder`]).
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
//! - A data packet for a session not installed yet, read on a UDP tunnel (a peer's first LCP
//!   Configure-Request right behind its ICCN), goes to the control sink behind the control
//!   messages read before it ([`SinkEvent::EarlyData`], within a budget per thread), for the
//!   caller to give back with [`UserspaceDataplane::handle_data`] once it has handled them.
//!
//! ## Threads: why std threads and epoll rather than tokio `AsyncFd`
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
//! Sockets: the data plane opens its own data socket per tunnel with `SO_REUSEADDR`, on the
//! tunnel's local address and connected to its peer. When the daemon already holds a connected
//! socket on the very same addresses, the kernel gives each datagram to one of the two, so the
//! daemon should either pass its socket in ([`TunnelSpec::socket`], the way the kernel's data
//! plane takes over a tunnel socket) and receive its control messages from the control sink
//! ([`UserspaceDataplane::with_control_sink`]), or feed the data packets its own socket
//! receives to [`UserspaceDataplane::handle_data`]. Both paths are implemented. An adopted
//! socket that is not connected to the tunnel's peer is sent on by name (`sendto`), so that
//! the daemon can leave a peer address and port's datagrams to another tunnel's socket.
//!
//! ## Native PPP
//!
//! See [`ppp`]: L2TPv2 data messages (on an adopted L2TPv2 tunnel socket) and L2TPv3 PPP
//! pseudowires, their control frames to the control sink ([`SinkEvent::PppFrame`]), their IP
//! through one TUN that every such session shares, routed by the peer's address (IPv4, or its
//! IPv6 link-local address) by each data-path thread, and checked against it on receipt; the
//! offloads work on the TUN as on the TAPs (IP packets behind an L2 header of length 0).
//!
//! ## Not done (yet)
//!
//! - Global IPv6 over native PPP (the shared TUN carries link-local IPv6 only, see [`ppp`]),
//!   and a reorder timeout for PPP sessions.
//! - Receive steering: a tunnel's socket is read by one thread, so one tunnel's received
//!   traffic uses one core; many tunnels spread over all.
//!
//! # `unsafe`
//!
//! This crate holds the suite's system calls that neither `nix` nor `socket2` offer, in two
//! modules allowed `unsafe` (each block with a `// SAFETY:` comment): `sys` for the userspace
//! data plane (TAP ioctls, `recvmmsg`/`sendmmsg`, socket options, and the daemon's inherited
//! descriptors marked close-on-exec: [`mark_inherited_cloexec`]) and `kernel::sys` for the
//! kernel one (PPPoL2TP and L2TP/IP socket addresses, PPPoL2TP session options, the `/dev/ppp`
//! ioctls).
//!
//! Logs: this crate logs nothing (what the control plane should log comes through the control
//! sink: wrong cookies, spoofed sources, sessions down); cookies are never printed by it.

#![warn(missing_docs, unreachable_pub)]

pub mod bucket;
pub mod codec;
pub mod kernel;
pub mod marks;
pub mod offload;
mod options;
pub mod ppp;
pub mod reorder;
mod sink;
pub mod socket;
pub mod stats;
#[allow(unsafe_code)]
mod sys;
pub mod tap;
mod userspace;
mod worker;

pub use codec::PseudowireType;
pub use l2tp_proto::wire::header::{Cookie, Encapsulation, L2SpecificSublayer, Version};
pub use options::{DataplaneOptions, OffloadSupport};
pub use ppp::{PppNet, PppSessionSpec};
pub use stats::{DataplaneTotals, SessionStats, TunnelStats};
pub use sys::mark_inherited_cloexec;
pub use userspace::{
    ControlPacket, ControlSink, CookieReport, DEFAULT_INTERFACE_TEMPLATE, EarlyData, Error,
    PppActivity, PppDrop, PppDropReport, PppFrame, SessionDown, SessionSpec, SinkEvent, TunnelSpec,
    UserspaceDataplane, default_mtu,
};
