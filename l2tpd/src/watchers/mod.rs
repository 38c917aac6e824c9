//! The tunnel and session events on their way to watchers (`l2tpwatch`).
//!
//! The main loop hands every event to [`Watchers::send`], which never waits: each watcher has
//! a queue of its own, so one that reads slowly, or not at all (a stopped `l2tpwatch`), neither
//! slows the daemon nor makes the others miss events. A queue holds at most
//! [`WATCHER_QUEUE_BYTES`] of events, counted with their texts, which bounds what a watcher
//! that does not read costs whatever the events hold; what does
//! not fit is counted where it was missed, and the watcher is told how many
//! ([`Item::Lost`]), never left to guess.
//!
//! The queue is long enough for the largest burst one pass of the main loop makes at the
//! scale the daemon is built for: 100 000 sessions going down at once (a stop, a data plane
//! lost) make two events each.
//!
//! [`stream`] writes a watcher's queue to its connection.

mod queue;
mod stream;

pub use queue::{Item, WATCHER_QUEUE_BYTES, Watcher, Watchers};
pub use stream::{FLUSH, stream};
