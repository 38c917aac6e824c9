//! The log lines a test's thread writes, for tests that check what an event logs.
//!
//! One recording subscriber serves the whole test binary, installed as the global default the
//! first time a test asks for it; it keeps the lines of the threads that asked, and drops the
//! others. A scoped subscriber (`tracing::subscriber::with_default`) is not reliable here:
//! while it is the only scoped one, tracing asks a log line's first user, which may be another
//! test's thread without a subscriber, whether anyone wants it, and caches the "no".

use std::cell::RefCell;
use std::sync::Once;

use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// A recorded line: its level and message.
pub(crate) type Line = (tracing::Level, String);

thread_local! {
    static LINES: RefCell<Option<Vec<Line>>> = const { RefCell::new(None) };
}

struct Recorder;

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        LINES.with(|lines| {
            if let Some(v) = lines.borrow_mut().as_mut() {
                let mut text = String::new();
                event.record(&mut Message(&mut text));
                v.push((*event.metadata().level(), text));
            }
        });
    }
}

/// Runs `f`, and returns what it returns with the log lines this thread wrote meanwhile.
pub(crate) fn recorded<T>(f: impl FnOnce() -> T) -> (T, Vec<Line>) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only if another global subscriber is set: then nothing is recorded, and the
        // test that looks for a line says so.
        let _ =
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Recorder));
        // A line another thread met first, while the subscriber was being installed, may be
        // cached as wanted by nobody: ask every line again.
        tracing::callsite::rebuild_interest_cache();
    });
    LINES.with(|l| *l.borrow_mut() = Some(Vec::new()));
    let out = f();
    let lines = LINES.with(|l| l.borrow_mut().take()).unwrap_or_default();
    (out, lines)
}
