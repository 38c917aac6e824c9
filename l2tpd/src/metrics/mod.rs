//! Prometheus metrics: an HTTP endpoint (`metrics_listen`, off by default) that serves what
//! `l2tpctl show system` knows and more, in the OpenMetrics or Prometheus text format.
//!
//! - [`snapshot`]: the plain figures of one scrape, gathered by the main loop;
//! - [`encode`]: those figures as metric families (`prometheus-client`);
//! - [`http`]: the endpoint, which asks the main loop for a snapshot and encodes it outside.
//!
//! Every metric is listed in `l2tpd(8)`, METRICS.

pub mod encode;
pub mod http;
mod radius;
pub mod snapshot;
mod write;

pub use encode::{Format, families};
pub use http::{Scrape, bind, serve};
pub use snapshot::Snapshot;

#[cfg(test)]
mod tests;
