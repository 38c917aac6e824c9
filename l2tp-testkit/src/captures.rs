//! The one directory where integration tests leave their captures, so that a single CI step
//! (`scripts/judge-captures.sh`) has tshark judge all of them after `cargo test`.
//!
//! The directory is `$L2TP_CAPTURE_DIR`, else `target/captures` in the workspace.

use std::path::{Path, PathBuf};

use crate::pcap::{self, Datagram};
use crate::tshark;

/// The captures directory (created).
pub fn dir() -> PathBuf {
    let d = std::env::var_os("L2TP_CAPTURE_DIR").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("captures")
        },
        PathBuf::from,
    );
    let _ = std::fs::create_dir_all(&d);
    d
}

/// Copies the capture at `from` into the directory as `NAME.pcap`; returns the new path.
pub fn keep(name: &str, from: &Path) -> std::io::Result<PathBuf> {
    let to = dir().join(format!("{name}.pcap"));
    std::fs::copy(from, &to)?;
    Ok(to)
}

/// Writes `datagrams` (UDP over IPv4 or IPv6) as `NAME.pcap` in the directory.
pub fn write_udp(name: &str, datagrams: &[Datagram]) -> Result<PathBuf, pcap::Error> {
    let to = dir().join(format!("{name}.pcap"));
    pcap::write_udp(&to, datagrams)?;
    Ok(to)
}

/// Records the extra tshark arguments `NAME.pcap` is to be decoded with (`NAME.args`, one per
/// line), for `scripts/judge-captures.sh`.
pub fn set_args(name: &str, args: &[&str]) -> std::io::Result<()> {
    let text: String = args.iter().map(|a| format!("{a}\n")).collect();
    std::fs::write(dir().join(format!("{name}.args")), text)
}

/// Has tshark decode `path` (with `extra_args`); the problems it finds (malformed packets,
/// expert infos of severity error, no L2TP at all), one per line, or an error if tshark cannot
/// run.
pub fn problems(path: &Path, extra_args: &[&str]) -> Result<Vec<String>, tshark::Error> {
    let packets = tshark::decode_with(path, extra_args)?;
    if packets.iter().all(|p| p.l2tp.is_empty()) {
        return Ok(vec![format!(
            "no packet of {} decodes as L2TP",
            packets.len()
        )]);
    }
    let mut out = Vec::new();
    for p in &packets {
        if p.malformed {
            out.push(format!("frame {}: malformed ({})", p.number, p.protocols));
        }
        for e in p.errors() {
            out.push(format!("frame {}: {}", p.number, e.message));
        }
    }
    Ok(out)
}
