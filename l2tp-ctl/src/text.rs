//! Text from outside (a peer's AVPs and PPP packets, a RADIUS server's attributes, a name given
//! on the control socket) for one line of a log, of `l2tpctl`'s or of `l2tpwatch`'s output.
//!
//! Such text is hostile: a line break in it would forge a log line of its own, an escape
//! sequence would reach the operator's terminal. [`Escaped`] writes it so that it stays on its
//! line and shows what it holds:
//!
//! - a backslash as `\\` (and, [`quoted`], a double quote as `\"`), so that escapes read one way;
//! - a control character (C0, including tab, line feed, carriage return and escape; DEL; C1)
//!   as `\xNN`, its code in two hexadecimal digits, as `l2tpwatch` has always written them;
//! - a bidirectional formatting character (which reorders what a terminal shows) as `\u{NNNN}`;
//! - an octet that is not part of valid UTF-8 as `\xNN`;
//! - at most [`MAX_CHARS`] characters of the text, then `...` when it is longer.

use std::fmt::{self, Write as _};

/// The most characters of a text [`Escaped`] writes (before escaping) by default; a Host Name
/// or a Result Code message can hold a thousand.
pub const MAX_CHARS: usize = 200;

/// `bytes` for a line of text, in double quotes (see the [module](self)).
pub fn quoted(bytes: &(impl AsRef<[u8]> + ?Sized)) -> Escaped<'_> {
    Escaped {
        bytes: bytes.as_ref(),
        quoted: true,
        max: MAX_CHARS,
    }
}

/// `bytes` for a line of text, without quotes (a table cell, a value after a colon).
pub fn plain(bytes: &(impl AsRef<[u8]> + ?Sized)) -> Escaped<'_> {
    Escaped {
        bytes: bytes.as_ref(),
        quoted: false,
        max: MAX_CHARS,
    }
}

/// Text from outside, escaped when written with `Display` (see the [module](self)).
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a> {
    bytes: &'a [u8],
    quoted: bool,
    max: usize,
}

impl Escaped<'_> {
    /// Writes at most `max` characters of the text instead of [`MAX_CHARS`].
    #[must_use]
    pub fn max(self, max: usize) -> Self {
        Self { max, ..self }
    }
}

/// Whether `c` changes the order in which a terminal shows the characters around it.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted {
            f.write_char('"')?;
        }
        let mut left = self.max;
        let mut cut = false;
        'chunks: for chunk in self.bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                if left == 0 {
                    cut = true;
                    break 'chunks;
                }
                left -= 1;
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' if self.quoted => f.write_str("\\\"")?,
                    c if c.is_control() => write!(f, "\\x{:02x}", u32::from(c))?,
                    c if bidi_control(c) => write!(f, "\\u{{{:04x}}}", u32::from(c))?,
                    c => f.write_char(c)?,
                }
            }
            for b in chunk.invalid() {
                if left == 0 {
                    cut = true;
                    break 'chunks;
                }
                left -= 1;
                write!(f, "\\x{b:02x}")?;
            }
        }
        if self.quoted {
            f.write_char('"')?;
        }
        if cut {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// JSON text with the characters that `serde_json` leaves as they are but a terminal acts on
/// (DEL, C1, bidirectional formatting) written as `\uNNNN` escapes: the same JSON value, safe to
/// print. Such characters can only stand inside JSON strings, where the escape means them.
pub fn json_for_terminal(json: &str) -> std::borrow::Cow<'_, str> {
    // Line breaks, tabs and spaces stand between JSON's tokens; in strings they are escaped.
    let unsafe_char =
        |c: char| (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || bidi_control(c);
    if !json.contains(unsafe_char) {
        return json.into();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_line_and_terminal_escapes_stay_on_one_line() {
        let evil = b"evil\nl2tpd: tunnel up\x1b[31m\r\t\x7f";
        assert_eq!(
            quoted(evil).to_string(),
            r#""evil\x0al2tpd: tunnel up\x1b[31m\x0d\x09\x7f""#
        );
        assert_eq!(
            plain(evil).to_string(),
            r"evil\x0al2tpd: tunnel up\x1b[31m\x0d\x09\x7f"
        );
    }

    #[test]
    fn c1_bidi_invalid_utf8_quotes_and_backslashes_are_escaped() {
        // C1 CSI (U+009B), a right-to-left override, a lone continuation octet, a cut UTF-8
        // sequence at the end.
        let bytes = "a\u{9b}b\u{202e}c"
            .bytes()
            .chain([0x80, b'"', b'\\', 0xe2, 0x82]);
        let bytes: Vec<u8> = bytes.collect();
        assert_eq!(
            quoted(&bytes).to_string(),
            r#""a\x9bb\u{202e}c\x80\"\\\xe2\x82""#
        );
        assert_eq!(
            plain(&bytes).to_string(),
            r#"a\x9bb\u{202e}c\x80"\\\xe2\x82"#
        );
    }

    #[test]
    fn printable_text_is_written_as_it_is() {
        assert_eq!(
            quoted("lac-1.example.net").to_string(),
            "\"lac-1.example.net\""
        );
        assert_eq!(plain("jürgen ünd 名前").to_string(), "jürgen ünd 名前");
        assert_eq!(quoted("").to_string(), "\"\"");
    }

    #[test]
    fn long_text_is_cut_short() {
        let long = "x".repeat(1000);
        let shown = quoted(&long).to_string();
        assert_eq!(shown, format!("\"{}\"...", "x".repeat(MAX_CHARS)));
        assert_eq!(plain("abcdef").max(3).to_string(), "abc...");
        assert_eq!(plain("abc").max(3).to_string(), "abc");
        // Escapes count as one character of the text each.
        assert_eq!(
            plain(b"\x1b\x1b\x1b\x1b").max(2).to_string(),
            "\\x1b\\x1b..."
        );
        assert_eq!(plain(b"\xff\xff\xff").max(2).to_string(), "\\xff\\xff...");
    }

    #[test]
    fn json_keeps_its_value_and_loses_what_a_terminal_acts_on() {
        let value = serde_json::json!({"host": "a\u{7f}b\u{9b}31m\u{202e}\u{1b}c\nd"});
        let json = serde_json::to_string_pretty(&value).unwrap_or_default();
        let safe = json_for_terminal(&json);
        assert!(
            !safe.contains(|c: char| (c.is_control() && c != '\n') || bidi_control(c)),
            "{safe}"
        );
        assert!(
            safe.contains(r"a\u007fb\u009b31m\u202e\u001bc\nd"),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back, value);
        assert!(matches!(
            json_for_terminal("{\n  \"a\": 1\n}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
