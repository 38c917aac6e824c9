//! Sans-IO PPP for L2TP.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod fsm;
#[allow(dead_code)]
mod outq;
#[allow(dead_code)]
mod timer;
pub mod wire;
