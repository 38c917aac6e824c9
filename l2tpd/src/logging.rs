//! Logging: a `tracing` layer that writes timestamped lines to a file, or messages to syslog
//! (`/dev/log`, facility daemon), filtered by a level that SIGHUP can change.
//!
//! The daemon's levels are syslog's: critical, error, warning, notice, info, debug, plus trace
//! below debug for `-d -d -d`. `tracing` has no notice or critical, so those two are `info` and
//! `error` events with the targets [`NOTICE`] and [`CRITICAL`]; the [`notice!`](crate::notice)
//! and [`critical!`](crate::critical) macros set them.
//!
//! File output is buffered: lines at notice or above are written at once, the rest when the
//! buffer fills, on [`LogHandle::flush`] (SIGUSR1, and once a second from the main loop) and at
//! exit. [`LogHandle::reopen`] re-opens the file (append mode), so both logrotate's
//! `copytruncate` and a rename followed by SIGUSR1 work (SIGHUP only reloads the config).
//!
//! Nothing in this crate passes secrets to a log call; config values reach logs only as names.

use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write as _};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The `tracing` target that marks an `info` event as a notice.
pub const NOTICE: &str = "l2tpd::notice";
/// The `tracing` target that marks an `error` event as critical.
pub const CRITICAL: &str = "l2tpd::critical";

/// Logs a notice: significant, normal events (start, stop, reload, tunnel up).
#[macro_export]
macro_rules! notice {
    ($($arg:tt)+) => { ::tracing::info!(target: $crate::logging::NOTICE, $($arg)+) };
}

/// Logs a critical condition.
#[macro_export]
macro_rules! critical {
    ($($arg:tt)+) => { ::tracing::error!(target: $crate::logging::CRITICAL, $($arg)+) };
}

/// The most ids [`id_list`] names.
const LISTED_IDS: usize = 8;

/// Tunnel or session ids for a log line: the first few, comma-separated, then how many more,
/// so that a line stays short when a peer (a NAT of many clients) has hundreds.
pub(crate) fn id_list(ids: &[u32]) -> String {
    let mut out = ids
        .iter()
        .take(LISTED_IDS)
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > LISTED_IDS {
        let _ = write!(out, " and {} more", ids.len() - LISTED_IDS);
    }
    out
}

/// A log level, most severe first.
#[derive(Clone, Copy, Debug, Eq, Ord, PartialEq, PartialOrd)]
pub enum Level {
    /// Critical conditions.
    Critical,
    /// Errors.
    Error,
    /// Warnings.
    Warning,
    /// Normal but significant events (the default).
    Notice,
    /// Informational messages.
    Info,
    /// Debugging messages.
    Debug,
    /// Protocol tracing, below debug.
    Trace,
}

impl Level {
    const ALL: [Level; 7] = [
        Level::Critical,
        Level::Error,
        Level::Warning,
        Level::Notice,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

    /// The level `steps` more verbose (`-d` once per step), stopping at trace.
    pub fn raised(self, steps: u8) -> Level {
        let i = (self as usize + usize::from(steps)).min(Self::ALL.len() - 1);
        Self::ALL[i]
    }

    /// The name as in the config file (`trace` for the level below debug).
    pub fn name(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// The syslog severity (RFC 5424 §6.2.1).
    fn severity(self) -> u8 {
        match self {
            Level::Critical => 2,
            Level::Error => 3,
            Level::Warning => 4,
            Level::Notice => 5,
            Level::Info => 6,
            Level::Debug | Level::Trace => 7,
        }
    }

    fn of(meta: &Metadata<'_>) -> Level {
        match *meta.level() {
            tracing::Level::ERROR if meta.target() == CRITICAL => Level::Critical,
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warning,
            tracing::Level::INFO if meta.target() == NOTICE => Level::Notice,
            tracing::Level::INFO => Level::Info,
            tracing::Level::DEBUG => Level::Debug,
            tracing::Level::TRACE => Level::Trace,
        }
    }

    fn from_u8(n: u8) -> Level {
        Self::ALL[usize::from(n).min(Self::ALL.len() - 1)]
    }
}

impl From<l2tp_config::LogLevel> for Level {
    fn from(l: l2tp_config::LogLevel) -> Self {
        use l2tp_config::LogLevel as L;
        match l {
            L::Critical => Level::Critical,
            L::Error => Level::Error,
            L::Warning => Level::Warning,
            L::Notice => Level::Notice,
            L::Info => Level::Info,
            L::Debug => Level::Debug,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where log lines go.
#[derive(Clone, Debug)]
pub enum Destination {
    /// A file, with timestamped lines.
    File(PathBuf),
    /// Syslog via `/dev/log`, facility daemon; `also_stderr` copies every line to standard
    /// error (a foreground daemon on a terminal).
    Syslog {
        /// Copy lines to stderr as well.
        also_stderr: bool,
    },
}

impl Destination {
    /// The destination for `-o FILE` (`log_file`), or syslog, with a copy on the terminal when
    /// running in the foreground with stderr on a terminal.
    pub fn choose(log_file: Option<&Path>, foreground: bool) -> Destination {
        match log_file {
            Some(p) => Destination::File(p.to_owned()),
            None => Destination::Syslog {
                also_stderr: foreground && io::stderr().is_terminal(),
            },
        }
    }
}

/// Controls the installed logger: level changes, flushing and re-opening.
#[derive(Clone, Debug)]
pub struct LogHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    level: AtomicU8,
    sink: Mutex<Sink>,
}

#[derive(Debug)]
enum Sink {
    File {
        path: PathBuf,
        out: BufWriter<File>,
    },
    Syslog {
        socket: Option<UnixDatagram>,
        also_stderr: bool,
        pid: u32,
    },
}

const SYSLOG_PATH: &str = "/dev/log";
/// Facility `daemon` (RFC 5424 §6.2.1).
const FACILITY_DAEMON: u8 = 3;

impl LogHandle {
    /// Opens the destination and installs the logger as the global `tracing` subscriber.
    ///
    /// Fails if the log file cannot be opened. A missing `/dev/log` is not an error: messages
    /// are dropped (and copied to stderr when requested) until it appears.
    pub fn install(dest: &Destination, level: Level) -> io::Result<LogHandle> {
        let sink = match dest {
            Destination::File(path) => Sink::File {
                path: path.clone(),
                out: BufWriter::with_capacity(16 * 1024, open_log(path)?),
            },
            Destination::Syslog { also_stderr } => Sink::Syslog {
                socket: connect_syslog(),
                also_stderr: *also_stderr,
                pid: std::process::id(),
            },
        };
        let handle = LogHandle {
            shared: Arc::new(Shared {
                level: AtomicU8::new(level as u8),
                sink: Mutex::new(sink),
            }),
        };
        let layer = LineLayer {
            shared: handle.shared.clone(),
        };
        // Only fails if a subscriber is already installed (a second call in tests); the first
        // one stays in charge and this handle still controls its own sink.
        let _ = tracing_subscriber::registry().with(layer).try_init();
        Ok(handle)
    }

    /// Whether syslog output has no `/dev/log` to go to.
    pub fn syslog_unavailable(&self) -> bool {
        matches!(&*self.sink(), Sink::Syslog { socket: None, .. })
    }

    /// The level in effect.
    pub fn level(&self) -> Level {
        Level::from_u8(self.shared.level.load(Ordering::Relaxed))
    }

    /// Changes the level in effect.
    pub fn set_level(&self, level: Level) {
        self.shared.level.store(level as u8, Ordering::Relaxed);
    }

    /// Writes out buffered lines.
    pub fn flush(&self) {
        if let Sink::File { out, .. } = &mut *self.sink() {
            let _ = out.flush();
        }
    }

    /// Flushes, then re-opens the log file (or reconnects to syslog), so that a rotated file is
    /// released.
    pub fn reopen(&self) -> io::Result<()> {
        match &mut *self.sink() {
            Sink::File { path, out } => {
                let _ = out.flush();
                *out = BufWriter::with_capacity(16 * 1024, open_log(path)?);
            }
            Sink::Syslog { socket, .. } => *socket = connect_syslog(),
        }
        Ok(())
    }

    /// The stdio handles are about to be closed (daemonized): stop copying to stderr.
    pub fn detach_stderr(&self) {
        if let Sink::Syslog {
            also_stderr, pid, ..
        } = &mut *self.sink()
        {
            *also_stderr = false;
            // After fork the daemon has a new pid.
            *pid = std::process::id();
        }
    }

    fn sink(&self) -> MutexGuard<'_, Sink> {
        // A panic while logging leaves the sink usable; take it back.
        self.shared
            .sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open_log(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot open log file {}: {e}", path.display()),
            )
        })
}

fn connect_syslog() -> Option<UnixDatagram> {
    let socket = UnixDatagram::unbound().ok()?;
    socket.connect(SYSLOG_PATH).ok()?;
    socket.set_nonblocking(true).ok()?;
    Some(socket)
}

struct LineLayer {
    shared: Arc<Shared>,
}

impl<S: Subscriber> Layer<S> for LineLayer {
    fn register_callsite(
        &self,
        _meta: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        // The level can change at run time, so ask `enabled` every time.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        Level::of(meta) <= Level::from_u8(self.shared.level.load(Ordering::Relaxed))
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = Level::of(event.metadata());
        let mut text = Text::default();
        event.record(&mut text);
        let message = text.finish();
        let mut sink = self
            .shared
            .sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &mut *sink {
            Sink::File { out, .. } => {
                let _ = writeln!(out, "{} {level}: {message}", timestamp(SystemTime::now()));
                if level <= Level::Notice {
                    let _ = out.flush();
                }
            }
            Sink::Syslog {
                socket,
                also_stderr,
                pid,
            } => {
                if *also_stderr {
                    eprintln!("l2tpd: {level}: {message}");
                }
                let pri = FACILITY_DAEMON * 8 + level.severity();
                let line = format!("<{pri}>l2tpd[{pid}]: {message}");
                if let Some(s) = socket
                    && s.send(line.as_bytes()).is_err()
                {
                    // syslogd restarted: reconnect once, else drop the line.
                    *socket = connect_syslog();
                    if let Some(s) = socket {
                        let _ = s.send(line.as_bytes());
                    }
                }
            }
        }
    }
}

/// Collects an event's message and fields into one line: `message key=value ...`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Text {
    fn finish(mut self) -> String {
        if self.message.is_empty() {
            one_line(self.fields.trim_start())
        } else {
            self.message.push_str(&self.fields);
            one_line(&self.message)
        }
    }
}

/// One event is one line, whatever its message holds: a line break as ` | `, any other control
/// character as `\xNN`. Text from outside is escaped where it is logged (`l2tp_ctl::text`);
/// this keeps a line whole and the terminal safe should a message hold one all the same.
fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\n' => out.push_str(" | "),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

/// `2026-11-23T10:00:00.123Z`: RFC 3339, UTC, milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// The proleptic Gregorian date of `days` days after 1970-01-01 (the era arithmetic of Howard
/// Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn long_id_lists_are_cut_short() {
        assert_eq!(id_list(&[]), "");
        assert_eq!(id_list(&[7, 9]), "7, 9");
        let many: Vec<u32> = (1..=300).collect();
        assert_eq!(id_list(&many), "1, 2, 3, 4, 5, 6, 7, 8 and 292 more");
    }

    #[test]
    fn a_message_is_one_line_without_control_characters() {
        assert_eq!(
            one_line("tunnel 1: a\nb\r\x1b[31m\u{9b}c\td"),
            "tunnel 1: a | b\\x0d\\x1b[31m\\x9bc\\x09d"
        );
        assert_eq!(one_line("plain é text"), "plain é text");
    }

    #[test]
    fn timestamps() {
        let t = |s| timestamp(UNIX_EPOCH + Duration::from_millis(s));
        assert_eq!(t(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(t(951_825_600_250), "2000-02-29T12:00:00.250Z");
        assert_eq!(t(1_795_435_199_999), "2026-11-23T11:59:59.999Z");
    }

    #[test]
    fn levels_rise_one_step_per_debug_flag() {
        assert_eq!(Level::Notice.raised(0), Level::Notice);
        assert_eq!(Level::Notice.raised(1), Level::Info);
        assert_eq!(Level::Notice.raised(2), Level::Debug);
        assert_eq!(Level::Notice.raised(3), Level::Trace);
        assert_eq!(Level::Notice.raised(9), Level::Trace);
        assert_eq!(Level::Error.raised(1), Level::Warning);
    }
}
