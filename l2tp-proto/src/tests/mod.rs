//! Scenario tests of the engine on the mesh harness ([`util`]): every scenario runs in L2TPv2
//! and L2TPv3 where it applies.

mod lifecycle;
mod property;
mod scenarios;
mod util;
