//! Scenario tests over the two-link harness of [`util`].

mod duplicates;
mod fixtures;
mod frames;
mod property;
mod proxy;
mod renegotiation;
mod repeat_answer;
mod scenarios;
mod slow_verdict;
mod timing;
pub(crate) mod util;
mod verdict_message;
