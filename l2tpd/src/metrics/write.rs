//! The writers of metric families that the families of every subsystem share.

use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;
use std::fmt;

/// A family of one counter without labels.
pub(super) fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> fmt::Result {
    counter_unit(e, name, help, None, v)
}

pub(super) fn counter_unit(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    v: u64,
) -> fmt::Result {
    e.encode_descriptor(name, help, unit, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&v, None)
}

/// A family of one gauge without labels.
pub(super) fn gauge(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    v: f64,
) -> fmt::Result {
    e.encode_descriptor(name, help, unit, MetricType::Gauge)?
        .encode_gauge(&v)
}

/// Writes one counter per label set.
pub(super) fn labelled<S: EncodeLabelSet>(
    m: &mut MetricEncoder,
    rows: impl IntoIterator<Item = (S, u64)>,
) -> fmt::Result {
    for (labels, v) in rows {
        m.encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&v, None)?;
    }
    Ok(())
}

/// Writes one gauge per label set.
pub(super) fn labelled_gauges<S: EncodeLabelSet>(
    m: &mut MetricEncoder,
    rows: impl IntoIterator<Item = (S, u64)>,
) -> fmt::Result {
    for (labels, v) in rows {
        m.encode_family(&labels)?.encode_gauge(&v)?;
    }
    Ok(())
}

/// An info family with one series per label set.
pub(super) fn info_family<S: EncodeLabelSet>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = S>,
) -> fmt::Result {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Info)?;
    for labels in rows {
        m.encode_info(&labels)?;
    }
    Ok(())
}

/// `by` (which has only the non-zero entries) with a zero for each of `known` it lacks.
pub(super) fn with_zeros<'a>(
    by: &'a std::collections::BTreeMap<String, u64>,
    known: impl IntoIterator<Item = &'a str>,
) -> std::collections::BTreeMap<&'a str, u64> {
    let mut out: std::collections::BTreeMap<&str, u64> =
        known.into_iter().map(|k| (k, 0)).collect();
    for (k, v) in by {
        out.insert(k.as_str(), *v);
    }
    out
}
