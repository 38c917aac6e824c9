//! Lexer: splits config text into words, quoted strings, braces, commas and line ends, each with
//! its byte span.
//!
//! A `#` outside a quoted string starts a comment that runs to the end of the line. A quoted
//! string may not span lines; inside it `\"`, `\\`, `\n`, `\t` and `\xHH` are escapes. A byte
//! order mark at the start of the text is skipped.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum TokenKind {
    /// A bare word: a run of characters other than white space, `{`, `}`, `"`, `,` and `#`.
    Word,
    /// A double-quoted string; the token text is its unescaped content.
    Str,
    LBrace,
    RBrace,
    Comma,
    Newline,
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) span: Span,
    /// The word, or the unescaped content of a string; empty for punctuation.
    pub(crate) text: String,
}

/// Tokenises `source`. The token list always ends with [`TokenKind::Eof`]; lexical problems are
/// returned alongside and the lexer carries on after each.
pub(crate) fn lex(source: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer {
        source,
        pos: 0,
        tokens: Vec::new(),
        diags: Vec::new(),
    };
    lexer.run();
    (lexer.tokens, lexer.diags)
}

struct Lexer<'a> {
    source: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
}

impl Lexer<'_> {
    fn run(&mut self) {
        // A byte order mark, which some editors write at the start of a UTF-8 file, is not text.
        if self.source.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '\n' => {
                    self.bump();
                    self.push(TokenKind::Newline, start, String::new());
                }
                c if c.is_whitespace() => {
                    self.bump();
                }
                '#' => {
                    // `secret abc#def`: the `#` ends the word and starts a comment, which may
                    // not be what was meant. The word is not quoted back: it may be a secret.
                    if self
                        .tokens
                        .last()
                        .is_some_and(|t| t.kind == TokenKind::Word && t.span.end == start)
                    {
                        self.diags.push(Diagnostic::warning(
                            Span::new(start, start + 1),
                            "this `#` right after a value starts a comment, so the value ends \
                             before it: put the value in quotes if the `#` is part of it, or a \
                             space before a comment",
                        ));
                    }
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                '{' => {
                    self.bump();
                    self.push(TokenKind::LBrace, start, String::new());
                }
                '}' => {
                    self.bump();
                    self.push(TokenKind::RBrace, start, String::new());
                }
                ',' => {
                    self.bump();
                    self.push(TokenKind::Comma, start, String::new());
                }
                '"' => self.string(),
                _ => {
                    while self.peek().is_some_and(is_word_char) {
                        self.bump();
                    }
                    let text = self.source[start..self.pos].to_owned();
                    self.push(TokenKind::Word, start, text);
                }
            }
        }
        let end = self.source.len();
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(end, end),
            text: String::new(),
        });
    }

    fn string(&mut self) {
        let start = self.pos;
        self.bump(); // opening quote
        let mut text = String::new();
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.bump();
                    self.push(TokenKind::Str, start, text);
                    return;
                }
                '\n' => break,
                '\\' => {
                    let esc_start = self.pos;
                    self.bump();
                    match self.peek() {
                        Some('"') => text.push('"'),
                        Some('\\') => text.push('\\'),
                        Some('n') => text.push('\n'),
                        Some('t') => text.push('\t'),
                        Some('x') => {
                            self.bump();
                            let digits: String = self.source[self.pos..].chars().take(2).collect();
                            match u8::from_str_radix(&digits, 16) {
                                Ok(0) if digits.len() == 2 => {
                                    // No C string (a script's environment, an interface
                                    // name, a path) can hold it.
                                    self.diags.push(Diagnostic::error(
                                        Span::new(esc_start, self.pos + 2),
                                        "`\\x00`: a string cannot hold a NUL byte",
                                    ));
                                    self.pos += 1;
                                }
                                Ok(b) if digits.len() == 2 && b.is_ascii() => {
                                    text.push(char::from(b));
                                    self.pos += 1; // second digit consumed below with the first
                                }
                                _ => {
                                    self.diags.push(Diagnostic::error(
                                        Span::new(esc_start, self.pos),
                                        "invalid `\\x` escape: expected two hex digits for an \
                                         ASCII character (00 to 7f)",
                                    ));
                                    continue;
                                }
                            }
                        }
                        Some('\n') | None => continue,
                        Some(other) => {
                            let end = self.pos + other.len_utf8();
                            self.diags.push(Diagnostic::error(
                                Span::new(esc_start, end),
                                format!(
                                    "unknown escape `\\{other}` in string (known: `\\\"`, `\\\\`, \
                                     `\\n`, `\\t`, `\\xHH`)"
                                ),
                            ));
                            text.push(other);
                        }
                    }
                    self.bump();
                }
                c => {
                    text.push(c);
                    self.bump();
                }
            }
        }
        self.diags.push(Diagnostic::error(
            Span::new(start, self.pos),
            "unterminated string: missing closing `\"` before the end of the line",
        ));
        self.push(TokenKind::Str, start, text);
    }

    fn peek(&self) -> Option<char> {
        self.source[self.pos..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize, text: String) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
            text,
        });
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '{' | '}' | '"' | ',' | '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, String)> {
        lex(src).0.into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn words_strings_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds("tunnel \"a # b\" { # c\n peer [::1]:1701,x\n}"),
            vec![
                (Word, "tunnel".into()),
                (Str, "a # b".into()),
                (LBrace, String::new()),
                (Newline, String::new()),
                (Word, "peer".into()),
                (Word, "[::1]:1701".into()),
                (Comma, String::new()),
                (Word, "x".into()),
                (Newline, String::new()),
                (RBrace, String::new()),
                (Eof, String::new()),
            ]
        );
    }

    #[test]
    fn escapes() {
        let (tokens, diags) = lex(r#""a\"b\\c\x41""#);
        assert!(diags.is_empty());
        assert_eq!(tokens[0].text, "a\"b\\cA");
    }

    /// A NUL byte could reach no script environment (whose scripts would then not run at
    /// all), interface name or path.
    #[test]
    fn a_nul_byte_is_refused() {
        let (tokens, diags) = lex(r#"user_data "a\x00b" x"#);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message().contains("NUL"), "{diags:?}");
        assert_eq!(tokens[1].text, "ab");
        assert_eq!(tokens[2].text, "x");
    }

    #[test]
    fn unterminated_string_stops_at_line_end() {
        let (tokens, diags) = lex("x \"abc\ny");
        assert_eq!(diags.len(), 1);
        assert_eq!(tokens[1].text, "abc");
        assert_eq!(tokens[2].kind, TokenKind::Newline);
    }
}
