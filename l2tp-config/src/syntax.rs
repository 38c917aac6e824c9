//! Recursive-descent parser from tokens to an untyped syntax tree of blocks and entries.
//!
//! ```text
//! file   := { NEWLINE | block }
//! block  := header "{" body "}"
//! header := item { item }            (block type words, then the quoted name)
//! body   := { NEWLINE | entry | block }
//! entry  := item { item | "," }      (ended by a line end or a "}")
//! ```
//!
//! The grammar allows nested blocks, as `propppd.conf` uses them; the typed layer rejects them
//! for the block types this crate knows. After an error the parser skips to the next line and
//! carries on, so that one run reports every problem.

use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind};
use crate::span::Span;

/// A word or quoted string with its span.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) text: String,
    pub(crate) span: Span,
    pub(crate) quoted: bool,
}

/// `header... { body }`.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) header: Vec<Item>,
    pub(crate) open: Span,
    pub(crate) nodes: Vec<Node>,
}

impl Block {
    /// The span of the header through the opening brace.
    pub(crate) fn header_span(&self) -> Span {
        self.header
            .first()
            .map_or(self.open, |i| i.span.to(self.open))
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    Entry(Entry),
    Block(Block),
}

/// `key value...`.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: Item,
    pub(crate) values: Vec<Item>,
}

/// Words that open a top-level block. A line inside a block that starts with one of them and
/// ends with `{` is taken as the start of the next top-level block, i.e. the current block lacks
/// its `}`.
pub(crate) const TOP_LEVEL_WORDS: &[&str] = &[
    "system",
    "peer",
    "tunnel",
    "session",
    "pseudowire",
    "ppp",
    "ip",
    "user",
    "radius",
    "dynauth",
];

pub(crate) fn parse(tokens: &[Token]) -> (Vec<Block>, Vec<Diagnostic>) {
    let mut p = Parser {
        tokens,
        pos: 0,
        diags: Vec::new(),
    };
    let blocks = p.file();
    (blocks, p.diags)
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    diags: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn file(&mut self) -> Vec<Block> {
        let mut blocks = Vec::new();
        loop {
            let tok = self.peek();
            match tok.kind {
                TokenKind::Eof => return blocks,
                TokenKind::Newline | TokenKind::Comma => self.pos += 1,
                TokenKind::RBrace => {
                    self.diags.push(Diagnostic::error(
                        tok.span,
                        "unexpected `}` with no open block",
                    ));
                    self.pos += 1;
                }
                TokenKind::LBrace | TokenKind::Word | TokenKind::Str => {
                    let items = self.items();
                    if items
                        .first()
                        .is_some_and(|i| !i.quoted && TOP_LEVEL_WORDS.contains(&i.text.as_str()))
                        && self.peek().kind == TokenKind::Newline
                        && let Some(brace) = self.brace_on_a_later_line()
                    {
                        // `tunnel "a"` then `{` alone on the next line: one error, and the
                        // block is read as meant, so that its parameters are checked too.
                        self.diags.push(Diagnostic::error(
                            self.tokens[brace].span,
                            format!(
                                "the `{{` must end the line of its block header: write `{} {{`",
                                header_text(&items)
                            ),
                        ));
                        self.pos = brace;
                    }
                    if self.peek().kind == TokenKind::LBrace {
                        let open = self.peek().span;
                        self.pos += 1;
                        let nodes = self.body(open, &items);
                        blocks.push(Block {
                            header: items,
                            open,
                            nodes,
                        });
                    } else {
                        self.not_a_block(&items);
                        self.skip_line();
                    }
                }
            }
        }
    }

    /// The index of a `{` that follows only line ends from here, if one does.
    fn brace_on_a_later_line(&self) -> Option<usize> {
        let next = self.tokens[self.pos..]
            .iter()
            .position(|t| t.kind != TokenKind::Newline)?;
        let at = self.pos + next;
        (self.tokens[at].kind == TokenKind::LBrace).then_some(at)
    }

    fn not_a_block(&mut self, items: &[Item]) {
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return;
        };
        let span = first.span.to(last.span);
        let msg = if TOP_LEVEL_WORDS.contains(&first.text.as_str()) {
            format!("expected `{{` after block header `{}`", header_text(items))
        } else {
            format!(
                "`{}` is outside any block: parameters belong inside a block such as \
                 `system {{ ... }}`",
                first.text
            )
        };
        self.diags.push(Diagnostic::error(span, msg));
    }

    /// Parses block contents after `{` up to and including the closing `}`.
    fn body(&mut self, open: Span, header: &[Item]) -> Vec<Node> {
        let mut nodes = Vec::new();
        loop {
            let tok = self.peek();
            match tok.kind {
                TokenKind::RBrace => {
                    self.pos += 1;
                    return nodes;
                }
                TokenKind::Eof => {
                    self.unclosed(open, header, "before the end of the file");
                    return nodes;
                }
                TokenKind::Newline | TokenKind::Comma => self.pos += 1,
                TokenKind::LBrace | TokenKind::Word | TokenKind::Str => {
                    let start = self.pos;
                    let items = self.items();
                    if self.peek().kind == TokenKind::LBrace {
                        // Every top-level block but `system` has a name: a bare `radius {`
                        // is a nested block (as `propppd.conf` has them), while
                        // `radius server "r" {` starts the next block.
                        let starts_top_level = match items.as_slice() {
                            [one] => !one.quoted && one.text == "system",
                            [first, ..] => {
                                !first.quoted && TOP_LEVEL_WORDS.contains(&first.text.as_str())
                            }
                            [] => false,
                        };
                        if starts_top_level {
                            // Most likely the current block lacks its `}`: let the caller parse
                            // this line as the next top-level block.
                            self.unclosed(open, header, "before the next block starts");
                            self.pos = start;
                            return nodes;
                        }
                        let inner_open = self.peek().span;
                        self.pos += 1;
                        let inner = self.body(inner_open, &items);
                        nodes.push(Node::Block(Block {
                            header: items,
                            open: inner_open,
                            nodes: inner,
                        }));
                    } else if let Some((key, values)) = items.split_first() {
                        nodes.push(Node::Entry(Entry {
                            key: key.clone(),
                            values: values.to_vec(),
                        }));
                    }
                }
            }
        }
    }

    fn unclosed(&mut self, open: Span, header: &[Item], when: &str) {
        let span = header.first().map_or(open, |i| i.span.to(open));
        self.diags.push(Diagnostic::error(
            span,
            format!(
                "unterminated block `{}`: expected `}}` {when}",
                header_text(header)
            ),
        ));
    }

    /// Collects the words and strings of one line (commas separate list values and are dropped),
    /// stopping before a line end, brace or end of file.
    fn items(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            let tok = self.peek();
            match tok.kind {
                TokenKind::Word | TokenKind::Str => {
                    items.push(Item {
                        text: tok.text.clone(),
                        span: tok.span,
                        quoted: tok.kind == TokenKind::Str,
                    });
                    self.pos += 1;
                }
                TokenKind::Comma => self.pos += 1,
                _ => return items,
            }
        }
    }

    fn skip_line(&mut self) {
        while !matches!(self.peek().kind, TokenKind::Newline | TokenKind::Eof) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> &Token {
        // The lexer always ends the list with Eof and the parser never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }
}

/// A block header as written: its words, and its name in quotes.
fn header_text(header: &[Item]) -> String {
    let words: Vec<String> = header
        .iter()
        .map(|i| {
            if i.quoted {
                format!("\"{}\"", i.text)
            } else {
                i.text.clone()
            }
        })
        .collect();
    words.join(" ")
}
