//! Scenario tests over the two-link harness of [`util`].

mod fixtures;
mod property;
mod scenarios;
pub(crate) mod util;
