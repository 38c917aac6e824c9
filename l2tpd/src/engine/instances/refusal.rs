//! What a reload reports of the file's `tunnel` and `session` blocks: what it did to the
//! file's instances, which may differ from the diff of the two files, and the blocks it
//! refused (`clash`), each with a typed reason.

use std::fmt;

use l2tp_ctl as ctl;

use super::instance::InstanceKind;

/// What a reload did to the file's `tunnel` and `session` blocks.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Applied {
    /// The blocks it refused, each logged.
    pub refused: Vec<BlockRefusal>,
    /// What it did to the file's instances, tunnels (added, removed, changed) then sessions:
    /// the diff's blocks less those refused and less those removed that had no instance of
    /// the file's (refused, or named like one made with `l2tpctl`, which stays); with the
    /// blocks an earlier reload refused that this one applied, though the file did not change
    /// them since; a block is added when the file's instance was not there, changed when it
    /// was.
    pub changes: Vec<ctl::ConfigChange>,
}

/// A `tunnel` or `session` block a reload did not apply.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct BlockRefusal {
    /// A tunnel or a session block.
    pub kind: InstanceKind,
    /// The block's name.
    pub name: String,
    /// Why.
    pub reason: RefusalReason,
}

/// Why a reload refused a block: each names an instance made with `l2tpctl` that is still
/// there, or the session block's tunnel block, refused for one.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum RefusalReason {
    /// One of the same kind and name.
    NameTaken,
    /// The session block's tunnel.
    CliTunnel(String),
    /// The session block's tunnel block, refused by the same reload.
    TunnelRefused(String),
    /// The one that holds the block's fixed id (`tunnel_id` or `session_id`, by its kind).
    IdHeld {
        /// The id.
        id: u32,
        /// The name of the tunnel or session that holds it.
        holder: String,
    },
}

impl BlockRefusal {
    /// The reason as a sentence without a final stop, as `l2tpctl reload` prints it.
    pub fn reason_text(&self) -> String {
        let item = self.kind.item();
        match &self.reason {
            RefusalReason::NameTaken => format!("a {item} of that name was made with l2tpctl"),
            RefusalReason::CliTunnel(t) => format!("its tunnel \"{t}\" was made with l2tpctl"),
            RefusalReason::TunnelRefused(t) => format!("its tunnel \"{t}\" was refused"),
            RefusalReason::IdHeld { id, holder } => {
                format!("{item}_id {id} is in use by {item} \"{holder}\", made with l2tpctl")
            }
        }
    }
}

impl fmt::Display for BlockRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} \"{}\" refused: {}",
            self.kind.item(),
            self.name,
            self.reason_text()
        )
    }
}
