//! Users files in pppd's `chap-secrets` (and `pap-secrets`) format, read by a pure function.
//!
//! One user per line: `client server secret [address ...]`, words separated by white space.
//! As in pppd:
//!
//! - `#` outside quotes starts a comment that runs to the end of the line;
//! - a word may be quoted, wholly or in part, with `"` or `'` (`"two words"`);
//! - a backslash escapes the next character, with pppd's escapes `\n`, `\r`, `\t`, `\s`
//!   (space), `\a`, `\b`, `\f`, `\v`, `\^C` (a control character), up to three octal digits and
//!   `\xHH`; a backslash at the end of a line joins the next line to it;
//! - `*` as client matches any user name, `*` as server any server name.
//!
//! Where pppd allows more, this reader is strict and says so: a secret read from another file
//! (`@/path`) and address lists, subnets or exclusions are errors. The addresses are: none, `*`
//! or `-` (no fixed address: one from the profile's pool), or one IPv4 address, which that user
//! always gets. Every problem names the file and the line (`FILE:LINE: problem`); none quotes
//! the line, which holds a password.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;

use crate::convert::ipv4_unusable;
use crate::diagnostic::Diagnostic;
use crate::ppp::{User, UserOrigin};
use crate::value::Secret;

/// Reads the text of users file `path`: every user, in line order, or every problem.
pub fn parse_users_file(path: &Path, text: &str) -> Result<Vec<User>, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let mut users: Vec<User> = Vec::new();
    // (client, server) → the line that defines it.
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut problems = Vec::new();
    for (line, words) in entries(text) {
        let problem = |m: String| Diagnostic::external(&file, line, m);
        let words = match words {
            Ok(w) => w,
            Err(m) => {
                problems.push(problem(m));
                continue;
            }
        };
        match user(&words) {
            Ok(mut u) => {
                let key = (u.name.clone(), u.server.clone());
                if let Some(first) = seen.get(&key) {
                    problems.push(problem(format!(
                        "user `{}` for server `{}` is already defined on line {first}",
                        u.name,
                        u.server.as_deref().unwrap_or("*")
                    )));
                    continue;
                }
                seen.insert(key, line);
                u.origin = UserOrigin::File {
                    path: path.to_owned(),
                    line,
                };
                users.push(u);
            }
            Err(m) => problems.push(problem(m)),
        }
    }
    if problems.is_empty() {
        Ok(users)
    } else {
        Err(problems)
    }
}

/// One line's words as a user (its origin still to be filled in).
fn user(words: &[Vec<u8>]) -> Result<User, String> {
    let [client, server, secret, addresses @ ..] = words else {
        return Err(format!(
            "expected `client server secret [address]`, found {} word{}",
            words.len(),
            if words.len() == 1 { "" } else { "s" }
        ));
    };
    let text = |w: &[u8], what: &str| -> Result<String, String> {
        match String::from_utf8(w.to_vec()) {
            Ok(s) if !s.is_empty() => Ok(s),
            Ok(_) => Err(format!("the {what} is empty")),
            Err(_) => Err(format!("the {what} is not UTF-8 text")),
        }
    };
    let name = text(client, "client (user name)")?;
    let server = match text(server, "server name")?.as_str() {
        "*" => None,
        s => Some(s.to_owned()),
    };
    if secret.is_empty() {
        return Err(format!("user `{name}` has an empty secret"));
    }
    if secret.first() == Some(&b'@') {
        return Err(format!(
            "user `{name}`: a secret read from another file (`@file`) is not supported"
        ));
    }
    let ip_addr = match addresses {
        [] => None,
        [a] if a.as_slice() == b"*" || a.as_slice() == b"-" => None,
        [a] => {
            // The word is not quoted back: it may be the end of a password with an unquoted
            // space in it.
            let Ok(ip) = String::from_utf8_lossy(a).parse::<Ipv4Addr>() else {
                return Err(format!(
                    "user `{name}`: the word after the secret is not an IPv4 address (only one \
                     address, `*` or `-` is supported; a secret with white space in it must be \
                     quoted)"
                ));
            };
            if let Some(why) = ipv4_unusable(ip) {
                return Err(format!(
                    "user `{name}`: `{ip}` is {why}: expected the address of a host"
                ));
            }
            Some(ip)
        }
        more => {
            return Err(format!(
                "user `{name}` has {} words after the secret: only one address, `*` or `-` is \
                 supported (a secret with white space in it must be quoted)",
                more.len()
            ));
        }
    };
    Ok(User {
        name,
        server,
        password: Secret::new(secret.clone()),
        ip_addr,
        origin: UserOrigin::Block,
    })
}

/// One logical line: the 1-based line it starts on, and its words or the problem that stopped
/// its reading.
type Entry = (usize, Result<Vec<Vec<u8>>, String>);

/// The non-empty logical lines of `text`.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    // A byte order mark, which some editors write at the start of a UTF-8 file, would
    // otherwise be the start of the first user's name.
    let mut i = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut line = 1;
    while i < bytes.len() {
        let start_line = line;
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut word: Option<Vec<u8>> = None;
        let mut quote: Option<u8> = None;
        let mut problem: Option<String> = None;
        // One logical line: up to an unescaped, unquoted line end.
        while i < bytes.len() {
            let c = bytes[i];
            i += 1;
            match (c, quote) {
                (b'\n', None) => {
                    line += 1;
                    break;
                }
                (b'\n', Some(q)) => {
                    line += 1;
                    problem.get_or_insert(format!("unterminated quote `{}`", char::from(q)));
                    break;
                }
                (b'\\', _) => match escape(bytes, &mut i) {
                    Escape::Byte(b) => word.get_or_insert_with(Vec::new).push(b),
                    Escape::LineJoin => line += 1,
                    Escape::Bad(m) => {
                        problem.get_or_insert(m);
                    }
                },
                (b'"' | b'\'', None) => {
                    quote = Some(c);
                    word.get_or_insert_with(Vec::new);
                }
                (c, Some(q)) if c == q => quote = None,
                (b'#', None) => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                (c, None) if c.is_ascii_whitespace() => words.extend(word.take()),
                (c, _) => word.get_or_insert_with(Vec::new).push(c),
            }
        }
        if let Some(q) = quote.filter(|_| problem.is_none()) {
            problem = Some(format!("unterminated quote `{}`", char::from(q)));
        }
        words.extend(word.take());
        match problem {
            Some(p) => out.push((start_line, Err(p))),
            None if words.is_empty() => {}
            None => out.push((start_line, Ok(words))),
        }
    }
    out
}

enum Escape {
    Byte(u8),
    LineJoin,
    Bad(String),
}

/// The escape after a backslash at `bytes[*i]`, as pppd reads it; advances `*i` past it.
fn escape(bytes: &[u8], i: &mut usize) -> Escape {
    let Some(&c) = bytes.get(*i) else {
        return Escape::Bad("a backslash at the end of the file".into());
    };
    *i += 1;
    let digits = |i: &mut usize, radix: u32, max: usize| -> Option<u32> {
        let mut v = None;
        for _ in 0..max {
            let Some(d) = bytes.get(*i).and_then(|&b| char::from(b).to_digit(radix)) else {
                break;
            };
            v = Some(v.unwrap_or(0) * radix + d);
            *i += 1;
        }
        v
    };
    Escape::Byte(match c {
        b'\n' => return Escape::LineJoin,
        b'a' => 0x07,
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b's' => b' ',
        b't' => b'\t',
        b'v' => 0x0b,
        b'0'..=b'7' => {
            *i -= 1;
            match digits(i, 8, 3).and_then(|v| u8::try_from(v).ok()) {
                Some(b) => b,
                None => return Escape::Bad("an octal escape above \\377".into()),
            }
        }
        b'x' => match digits(i, 16, 2) {
            Some(v) => v as u8,
            None => return Escape::Bad("`\\x` without hex digits".into()),
        },
        b'^' => match bytes.get(*i) {
            Some(&b) if b != b'\n' => {
                *i += 1;
                b & 0x1f
            }
            _ => return Escape::Bad("`\\^` without a character".into()),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(usize, Result<Vec<String>, String>)> {
        entries(text)
            .into_iter()
            .map(|(l, w)| {
                (
                    l,
                    w.map(|w| {
                        w.iter()
                            .map(|x| String::from_utf8_lossy(x).into_owned())
                            .collect()
                    }),
                )
            })
            .collect()
    }

    #[test]
    fn words_quotes_escapes_and_comments() {
        let got = words(
            "# comment\n\
             alice * \"pass word\" 192.0.2.7 # trailing\n\
             \n\
             'bob smith'\t*\tse\"cr\"et\n\
             carol * a\\sb\\#c\\x41\\101\\^A \\\n  *\n\
             dave * \"a#b\"\n",
        );
        assert_eq!(
            got,
            vec![
                (
                    2,
                    Ok(vec![
                        "alice".into(),
                        "*".into(),
                        "pass word".into(),
                        "192.0.2.7".into()
                    ])
                ),
                (4, Ok(vec!["bob smith".into(), "*".into(), "secret".into()])),
                (
                    5,
                    Ok(vec![
                        "carol".into(),
                        "*".into(),
                        "a b#cAA\u{1}".into(),
                        "*".into()
                    ])
                ),
                (7, Ok(vec!["dave".into(), "*".into(), "a#b".into()])),
            ]
        );
    }

    #[test]
    fn an_empty_quoted_word_is_a_word() {
        assert_eq!(
            words("a \"\" b\n"),
            vec![(1, Ok(vec!["a".into(), String::new(), "b".into()]))]
        );
    }

    #[test]
    fn unterminated_quotes_and_bad_escapes_are_problems() {
        let got = words("a * \"open\nb * ok\nc * \\x\nd * \\777\n");
        assert_eq!(got[0], (1, Err("unterminated quote `\"`".into())));
        assert_eq!(got[1].0, 2);
        assert!(got[1].1.is_ok());
        assert_eq!(got[2], (3, Err("`\\x` without hex digits".into())));
        assert_eq!(got[3], (4, Err("an octal escape above \\377".into())));
    }
}
