//! The tunnel and session events on their way to watchers (`l2tpwatch`).
//!
//! The main loop hands every event to [`Watchers::send`], which never waits: each watcher has
//! a queue of its own, so one that reads slowly, or not at all (a stopped `l2tpwatch`), neither
//! slows the daemon nor makes the others miss events. A queue holds at most
//! [`WATCHER_QUEUE_BYTES`] of events, or [`WATCHER_QUEUE_BYTES_PER_SESSION`] for each session
//! the daemon has when that is more, counted with their texts, which bounds what a watcher
//! that does not read costs whatever the events hold; what does
//! not fit is counted where it was missed, and the watcher is told how many
//! ([`Item::Lost`]), never left to guess.
//!
//! The queue is long enough for the largest burst one pass of the main loop makes: every
//! session going down at once (a stop, a deleted profile, a data plane lost), two events each,
//! three for a session whose PPP the daemon terminates.
//!
//! [`stream`] writes a watcher's queue to its connection.

mod queue;
mod stream;

pub use queue::{Item, WATCHER_QUEUE_BYTES, WATCHER_QUEUE_BYTES_PER_SESSION, Watcher, Watchers};
pub use stream::{FLUSH, stream};
