//! `l2tpd`, the L2TP daemon: a tokio shell around the sans-IO protocol engine.
//!
//! Start-up ([`app`]) reads the config ([`l2tp_config`]), binds the L2TP sockets and the control
//! socket, forks into the background, and then runs one main loop ([`shell`]). Clients
//! (`l2tpctl`, `l2tpwatch`) talk to it over the control socket ([`control`]) in the
//! [`l2tp_ctl`] protocol.
//!
//! The flow is one way: the shell ([`shell`]) owns the sockets, the data plane and the tasks;
//! the core ([`core`]) routes between them and the engine and answers control requests; the
//! engine ([`engine`]) decides, over `l2tp_proto`'s sans-IO endpoint: it brings up the config's
//! tunnel and session instances and keeps them up, answers peers' requests from the matching
//! profiles, and applies reloads instance by instance.
//!
//! # Seams
//!
//! - [`engine::Engine`]: datagrams, time, config and commands in; datagrams, events,
//!   socket changes and data-plane requests out.
//! - [`dataplane::Dataplane`]: what carries session data: the kernel's L2TP
//!   ([`dataplane::kernel`]), the userspace data plane ([`dataplane::userspace`]), or none.
//!
//! # Secrets
//!
//! Secrets never reach the logs or the control socket: config values are logged only by name,
//! `show` reports a set secret as `<redacted>`, and request parameters are redacted in `Debug`.
//!
//! The only `unsafe` code is the `fork` call in [`daemon`].
#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod control;
pub mod core;
pub mod daemon;
pub mod dataplane;
pub mod discards;
pub mod engine;
pub mod limits;
pub mod logging;
pub mod marks;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod radius;
pub mod scripts;
pub mod sendlog;
pub mod shell;
pub mod view;
pub mod watchers;
