//! Scenario tests of the engine on the mesh harness ([`util`]): every scenario runs in L2TPv2
//! and L2TPv3 where it applies.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod auth_refusals;
mod crossing_cdn;
mod forget;
mod lifecycle;
mod peer_address;
mod probe;
mod property;
mod ranges;
mod scenarios;
mod sent;
mod speed_update;
mod speed_update_lac;
mod util;
mod version_refusal;
