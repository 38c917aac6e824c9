//! Config problems with their source location, and their rendering for people and for logs.
//!
//! A config with any error is rejected whole; a warning (a setting that is accepted but has no
//! effect, a user defined twice) leaves it valid, and the config keeps it
//! ([`Config::warnings`](crate::Config::warnings)). Rendering follows the compiler convention
//! `FILE:LINE:COL: error: message`, so editors can jump to the location. A problem in a users
//! file has no column (`FILE:LINE: error: message`), and its line is never shown: it holds a
//! password.

use std::fmt;

use crate::span::{LineIndex, Span, line_at};

/// One problem found in a config file, with the location of the offending text.
///
/// [`Display`](fmt::Display) prints the one-line form `FILE:LINE:COL: error: message` (plus one
/// `FILE:LINE:COL: note: ...` line per note), suitable for a log. [`Diagnostic::render`] adds the
/// offending source line and a caret line under the offending text.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Diagnostic {
    file: String,
    severity: Severity,
    message: String,
    span: Span,
    line: usize,
    column: usize,
    /// Located in another file than the config (a users file), by line only.
    external: bool,
    notes: Vec<Note>,
}

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Severity {
    /// The config is rejected.
    Error,
    /// The config is valid; something in it has no effect or is overridden.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// A secondary location attached to a [`Diagnostic`], e.g. where a duplicate was first defined.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Note {
    message: String,
    span: Span,
    line: usize,
    column: usize,
}

impl Diagnostic {
    /// An error at `span`; the file and line/column are filled in by [`Diagnostic::locate`].
    pub(crate) fn error(span: Span, message: impl Into<String>) -> Self {
        Self {
            file: String::new(),
            severity: Severity::Error,
            message: message.into(),
            span,
            line: 0,
            column: 0,
            external: false,
            notes: Vec::new(),
        }
    }

    /// A warning at `span`, located like an error.
    pub(crate) fn warning(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(span, message)
        }
    }

    /// An error at line `line` of another file than the config (a users file). It is already
    /// located: [`Diagnostic::locate`] leaves it alone.
    pub(crate) fn external(file: &str, line: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            external: true,
            ..Self::error(Span::new(usize::MAX, usize::MAX), message)
        }
    }

    /// The same problem, at the same place, as a warning.
    pub(crate) fn into_warning(self) -> Self {
        Self {
            severity: Severity::Warning,
            ..self
        }
    }

    /// The same problem, at the same place, with `message`.
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Attaches a note pointing at `span`.
    pub(crate) fn with_note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            message: message.into(),
            span,
            line: 0,
            column: 0,
        });
        self
    }

    /// Fills in the file name and the line/column of the error and of every note.
    pub(crate) fn locate(&mut self, file: &str, index: &LineIndex, source: &str) {
        if self.external {
            return;
        }
        self.file = file.to_owned();
        (self.line, self.column) = index.line_col(source, self.span.start);
        for note in &mut self.notes {
            (note.line, note.column) = index.line_col(source, note.span.start);
        }
    }

    /// The file name given to [`parse`](crate::parse), or the users file the problem is in.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Whether this is an error or a warning.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The message, without location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The offending text.
    pub fn span(&self) -> Span {
        self.span
    }

    /// 1-based line of the start of the offending text.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column (in characters) of the start of the offending text; 0 for a problem in a
    /// users file, which is located by line only.
    pub fn column(&self) -> usize {
        self.column
    }

    /// Secondary locations, e.g. the first definition of a duplicate.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The diagnostic with, under each location line, the source line it points into and a caret
    /// line marking the offending text. `source` must be the text given to
    /// [`parse`](crate::parse). The result ends with a newline.
    pub fn render(&self, source: &str) -> String {
        let mut out = String::new();
        if self.external {
            // The line of a users file holds a password: never shown.
            out.push_str(&self.to_string());
            out.push('\n');
            return out;
        }
        let header = format!(
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        );
        push_located(&mut out, &header, source, self.span);
        for note in &self.notes {
            let header = format!(
                "{}:{}:{}: note: {}",
                self.file, note.line, note.column, note.message
            );
            push_located(&mut out, &header, source, note.span);
        }
        out
    }
}

/// `c` as a terminal shows it without acting on it: a control character other than a tab as
/// its picture (U+2400 to U+2421: an escape is `␛`), a C1 control or a bidirectional
/// formatting character as U+FFFD. One character for one, so that the carets stay under the
/// text they mark. A file may hold anything, and its lines are shown to whoever runs `l2tpd -n`
/// or `l2tpctl reload`.
fn visible(c: char) -> char {
    match c {
        '\t' => c,
        '\0'..='\x1f' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
        '\x7f' => '\u{2421}',
        '\u{80}'..='\u{9f}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => '\u{fffd}',
        _ => c,
    }
}

/// `s` with every character [`visible`].
fn push_visible(out: &mut String, s: &str) {
    out.extend(s.chars().map(visible));
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, message) = (Shown(&self.file), Shown(&self.message));
        if self.external {
            return write!(f, "{file}:{}: {}: {message}", self.line, self.severity);
        }
        write!(
            f,
            "{file}:{}:{}: {}: {message}",
            self.line, self.column, self.severity
        )?;
        for note in &self.notes {
            let message = Shown(&note.message);
            write!(f, "\n{file}:{}:{}: note: {message}", note.line, note.column)?;
        }
        Ok(())
    }
}

/// Text written with every character [`visible`].
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        self.0.chars().try_for_each(|c| f.write_char(visible(c)))
    }
}

impl std::error::Error for Diagnostic {}

impl Note {
    /// The note's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The text the note points at.
    pub fn span(&self) -> Span {
        self.span
    }

    /// 1-based line of the note's location.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column (in characters) of the note's location.
    pub fn column(&self) -> usize {
        self.column
    }
}

/// Renders every diagnostic with [`Diagnostic::render`], in order.
pub fn render_all(diagnostics: &[Diagnostic], source: &str) -> String {
    diagnostics.iter().map(|d| d.render(source)).collect()
}

fn push_located(out: &mut String, header: &str, source: &str, span: Span) {
    push_visible(out, header);
    out.push('\n');
    let (line, line_start) = line_at(source, span.start);
    let start = span.start.clamp(line_start, line_start + line.len()) - line_start;
    let end = span.end.clamp(line_start, line_start + line.len()) - line_start;
    let start = crate::span::floor_char_boundary(line, start);
    let end = crate::span::floor_char_boundary(line, end.max(start));
    out.push_str("    ");
    push_visible(out, line);
    out.push('\n');
    out.push_str("    ");
    // Copy tabs so the carets line up whatever the terminal's tab width.
    out.extend(
        line[..start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' }),
    );
    let width = line[start..end].chars().count().max(1);
    out.extend(std::iter::repeat_n('^', width));
    out.push('\n');
}
