//! Sans-IO RADIUS: the client side of authentication (RFC 2865) and accounting (RFC 2866) for
//! PPP sessions, and the NAS side of dynamic authorization (RFC 5176).
//!
//! This crate performs no I/O and reads no clock: callers hand it datagrams and the current
//! time ([`l2tp_proto::time::Instant`]), and take back datagrams, events and the next deadline.
//! Randomness (Request Authenticators) comes from an injected [`l2tp_proto::rng::Rng`].
//!
//! Shared secrets are held in [`Secret`], whose `Debug` output is redacted, and the values of
//! User-Password, Tunnel-Password and the MPPE keys print as `<hidden>`: nothing this crate
//! formats contains a secret.
//!
//! # Modules
//!
//! - [`packet`], [`attr`], [`dict`], [`code`], [`crypt`]: the codec. Packets and attributes in
//!   wire form with a dictionary of the attributes of RFC 2865, 2866, 2867, 2868, 2869, 3162,
//!   4818, 5176 and 6911 and the Microsoft vendor-specific attributes of RFC 2548, typed
//!   accessors and builders, unknown attributes kept and skipped. Request and Response
//!   Authenticators, Message-Authenticator (RFC 2869 §5.14) first in every Access-Request and
//!   required in Access-Accept, -Reject and -Challenge unless a server is marked as too old
//!   (against the 2024 Blast-RADIUS forgery), User-Password hiding (RFC 2865 §5.2),
//!   Tunnel-Password and MPPE key salting (RFC 2868 §3.5, RFC 2548 §2.4.2). Comparisons are
//!   constant-time.
//! - [`client`]: the policy the daemon drives, shaped like [`l2tp_proto::Endpoint`]: several
//!   authentication and accounting servers with priorities, timeouts, retries, fail-over and a
//!   dead time; a cap on requests in flight per server with a FIFO queue behind it;
//!   Identifiers per (socket, server), with more sockets asked for past 256 requests in flight;
//!   Acct-Delay-Time kept up to date; accounting that cannot be delivered kept in a bounded
//!   queue, and what falls out of it reported; dead servers probed with Status-Server
//!   (RFC 5997) where configured; per-server statistics; a new server list taken
//!   over without losing the requests in flight.
//! - [`dynauth`]: Disconnect-Request and CoA-Request authenticated against the listed clients'
//!   secrets, duplicates detected, ACK and NAK (with Error-Cause) built.
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//!
//! use l2tp_proto::rng::DeterministicRng;
//! use l2tp_proto::time::Instant;
//! use radius_proto::client::{Client, ClientConfig, ServerConfig, Service};
//! use radius_proto::{Attributes, Secret};
//!
//! let server: SocketAddr = "192.0.2.1:1812".parse().unwrap();
//! let config = ClientConfig {
//!     access_servers: vec![ServerConfig::new(server, Secret::from("s3cret"))],
//!     ..ClientConfig::default()
//! };
//! // Use a cryptographically strong generator in a deployment.
//! let mut client = Client::new(config, Box::new(DeterministicRng::new(7))).unwrap();
//!
//! let mut attributes = Attributes::new();
//! attributes.push_user_name("alice").unwrap();
//! attributes.push_user_password(b"password").unwrap();
//! let handle = client.submit(Instant::ZERO, Service::Access, attributes);
//!
//! let mut buf = Vec::new();
//! let transmit = client.poll_transmit(&mut buf).unwrap();
//! assert_eq!(transmit.destination, server);
//! // Send `buf` from socket `transmit.socket`; feed answers to `handle_datagram`, call
//! // `handle_timeout` at `poll_timeout`, and read the outcome for `handle` from `poll_event`.
//! # let _ = handle;
//! ```
//!
//! # Not implemented, deliberately
//!
//! - EAP (RFC 3579): EAP-Message is carried like any attribute, with no EAP state.
//! - Status-Server as a keep-alive of live servers, and answering Status-Server
//!   (RFC 5997): the client only probes dead servers it is told support it.
//! - RADIUS over TCP or TLS (RFC 6613, RFC 6614), proxying, and the extended attributes of
//!   RFC 6929 (types 241 to 246 are carried as unknown attributes).
//! - The Event-Timestamp replay window of RFC 5176 §6.3 (the caller has the wall clock).
//! - MS-CHAPv2 and CHAP computations: they belong to PPP; this crate carries their values.
//! - Matching a Disconnect- or CoA-Request to sessions: the daemon's job.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attr;
pub mod client;
pub mod code;
pub mod crypt;
pub mod dict;
pub mod dynauth;
pub mod packet;

pub use attr::{Attribute, Attributes, EncodeError, Ipv6Prefix};
pub use code::Code;
pub use dict::{AttrType, VendorType};
pub use l2tp_proto::auth::Secret;
pub use packet::{DecodeError, Packet, VerifyError};
