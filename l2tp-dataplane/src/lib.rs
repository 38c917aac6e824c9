//! Linux data planes for the L2TP suite:
//!
//! - the **userspace data plane** ([`UserspaceDataplane`]) for L2TPv3 Ethernet and Ethernet
//!   VLAN pseudowires (RFC 3931, RFC 4719) over TAP devices, for kernels without L2TP;
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
//! - A session whose TAP interface is deleted by someone else is dropped by the data path and
//!   reported to the control sink ([`SinkEvent::SessionDown`]).
//!
//! ## Threads: why a std thread and epoll rather than tokio `AsyncFd`
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
//! ## Not done
//!
//! L2TPv2 and PPP pseudowires (the kernel data plane carries those), multi-queue TAPs and
//! offloads (`IFF_VNET_HDR`, GSO/GRO); one data-path thread serves every session.
//!
//! # `unsafe`
//!
//! This crate holds the suite's system calls that neither `nix` nor `socket2` offer, in two
//! modules allowed `unsafe` (each block with a `// SAFETY:` comment): `sys` for the userspace
//! data plane (TAP ioctls, `recvmmsg`/`sendmmsg`, socket options) and `kernel::sys` for the
//! kernel one (PPPoL2TP and L2TP/IP socket addresses, PPPoL2TP session options, the `/dev/ppp`
//! ioctls).
//!
//! Logs: this crate logs nothing; cookies are never printed by it.

#![warn(missing_docs, unreachable_pub)]

pub mod codec;
pub mod kernel;
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
pub use stats::{DataplaneTotals, SessionStats, TunnelStats};
pub use userspace::{
    ControlPacket, ControlSink, CookieReport, DEFAULT_INTERFACE_TEMPLATE, Error, SessionDown,
    SessionSpec, SinkEvent, TunnelSpec, UserspaceDataplane, default_mtu,
};
