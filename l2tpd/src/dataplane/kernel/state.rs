//! What a kernel data plane leaves behind if l2tpd is killed, recorded so that the next l2tpd
//! removes it.
//!
//! A managed tunnel (one given the daemon's UDP socket) disappears with its socket, and its
//! sessions and `l2tpeth` interfaces with it, when the process dies. Two things outlive a
//! killed daemon: unmanaged tunnels (L2TPv3 over IP, whose socket the kernel owns) and pppd
//! processes. Their ids are kept, one a line (`tunnel TID`, `pppd PID`), in
//! `/run/l2tpd/kernel-NETNS.state`, where NETNS is the inode of the daemon's network
//! namespace: kernel L2TP state is per namespace, and daemons in different namespaces share
//! `/run`. At start-up, the tunnels listed there are deleted and the pppd processes killed
//! (when `/proc/PID/comm` still says `pppd`).

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::PathBuf;

/// The state file of this network namespace.
#[derive(Debug)]
pub(super) struct StateFile {
    path: PathBuf,
    tunnels: BTreeSet<u32>,
    pppds: BTreeSet<u32>,
}

/// The directory of the state files.
const DIR: &str = "/run/l2tpd";

fn netns_id() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .ok()
        .and_then(|p| {
            let s = p.to_string_lossy().into_owned();
            let start = s.find('[')? + 1;
            let end = s.find(']')?;
            Some(s[start..end].to_owned())
        })
        .unwrap_or_else(|| "0".to_owned())
}

/// What an earlier daemon left: unmanaged tunnel ids and pppd pids.
#[derive(Debug, Default)]
pub(super) struct Leftovers {
    pub(super) tunnels: Vec<u32>,
    pub(super) pppds: Vec<u32>,
}

impl StateFile {
    /// Opens this namespace's state file and returns what it lists.
    pub(super) fn open() -> (Self, Leftovers) {
        let path = PathBuf::from(DIR).join(format!("kernel-{}.state", netns_id()));
        let mut left = Leftovers::default();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                let mut w = line.split_whitespace();
                match (w.next(), w.next().and_then(|n| n.parse().ok())) {
                    (Some("tunnel"), Some(n)) => left.tunnels.push(n),
                    (Some("pppd"), Some(n)) => left.pppds.push(n),
                    _ => {}
                }
            }
        }
        (
            Self {
                path,
                tunnels: BTreeSet::new(),
                pppds: BTreeSet::new(),
            },
            left,
        )
    }

    fn save(&self) {
        if let Err(e) = self.write() {
            tracing::warn!("cannot write {}: {e}", self.path.display());
        }
    }

    fn write(&self) -> io::Result<()> {
        std::fs::create_dir_all(DIR)?;
        let tmp = self.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        for t in &self.tunnels {
            writeln!(f, "tunnel {t}")?;
        }
        for p in &self.pppds {
            writeln!(f, "pppd {p}")?;
        }
        f.sync_data()?;
        std::fs::rename(&tmp, &self.path)
    }

    pub(super) fn add_tunnel(&mut self, tid: u32) {
        if self.tunnels.insert(tid) {
            self.save();
        }
    }

    pub(super) fn remove_tunnel(&mut self, tid: u32) {
        if self.tunnels.remove(&tid) {
            self.save();
        }
    }

    pub(super) fn add_pppd(&mut self, pid: u32) {
        if self.pppds.insert(pid) {
            self.save();
        }
    }

    pub(super) fn remove_pppd(&mut self, pid: u32) {
        if self.pppds.remove(&pid) {
            self.save();
        }
    }

    /// Empties the file (nothing of ours is left in the kernel).
    pub(super) fn clear(&mut self) {
        self.tunnels.clear();
        self.pppds.clear();
        self.save();
    }
}

/// Whether process `pid` is a pppd (checked before killing a pid from the state file, which
/// may have been reused).
pub(super) fn is_pppd(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "pppd")
}
