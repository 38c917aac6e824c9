//! `l2tpd`, the L2TP daemon: a tokio shell around the sans-IO protocol engine.
//!
//! The shell reads the config ([`l2tp_config`]), binds the L2TP sockets and the control socket,
//! forks into the background, and then runs one main loop ([`shell`]) that owns the [`core`]:
//! the config, the protocol engine ([`engine`]) and the data plane ([`dataplane`]). Clients
//! (`l2tpctl`, `l2tpwatch`) talk to it over the control socket ([`control`]) in the
//! [`l2tp_ctl`] protocol.
//!
//! The engine is [`proto_engine::ProtoEngine`], an adapter over `l2tp_proto`'s sans-IO
//! endpoint: it brings up the config's tunnel and session instances and keeps them up,
//! answers peers' requests from the matching profiles, and applies reloads instance by
//! instance. ([`engine::NoEngine`], the engine-less stand-in, remains for tests.)
//!
//! # Seams
//!
//! - [`engine::Engine`]: what the shell needs from the protocol engine (datagrams, time,
//!   config, commands in; datagrams, events, data-plane requests out).
//! - [`dataplane::Dataplane`]: what carries session data (`none` now; kernel and userspace
//!   later).
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
pub mod net;
pub mod notify;
pub mod proto_engine;
pub mod scripts;
pub mod shell;
mod tables;
pub mod view;
