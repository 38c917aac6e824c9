//! Dev-only checks of the operator files: the man pages in `man/`, the example configs in
//! `examples/` and the systemd unit in `dist/`.
//!
//! The tests in `tests/` hold the checks; this library holds what they share: finding the files,
//! running `groff`, reading man(7) sources, reading the interface contract
//! (`shared/spec/interface.md`, beside the repository) and reading systemd unit files.

pub mod help;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Reads a file of the repository, given relative to its root.
///
/// # Panics
///
/// If the file cannot be read.
pub fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The files directly in directory `rel` of the repository whose names end with `suffix`, sorted.
///
/// # Panics
///
/// If the directory cannot be read.
pub fn files_with_suffix(rel: &str, suffix: &str) -> Vec<PathBuf> {
    let dir = repo_root().join(rel);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    files.sort();
    files
}

/// The interface contract, `shared/spec/interface.md`, when it is beside the repository (as in
/// CI and on developers' machines). `L2TP_INTERFACE_MD` may name another copy.
pub fn interface_md() -> Option<String> {
    let path = std::env::var_os("L2TP_INTERFACE_MD").map_or_else(
        || repo_root().join("../shared/spec/interface.md"),
        PathBuf::from,
    );
    std::fs::read_to_string(path).ok()
}

/// The text of the Markdown section whose `## ` heading is `heading`, up to the next `## `.
pub fn md_section<'a>(md: &'a str, heading: &str) -> Option<&'a str> {
    let start_marker = format!("\n## {heading}\n");
    let start = md.find(&start_marker)? + start_marker.len();
    let rest = &md[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The contents of every inline code span (`` `...` ``) of `text`, in order.
pub fn code_spans(text: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else { break };
        spans.push(&after[..close]);
        rest = &after[close + 1..];
    }
    spans
}

/// The output of `groff` for one page.
#[derive(Debug)]
pub struct Groff {
    /// What groff wrote on standard output.
    pub stdout: String,
    /// What groff wrote on standard error: warnings and errors.
    pub stderr: String,
    /// Whether groff exited with status 0.
    pub success: bool,
}

/// Runs `groff -man` on `page` with `args`.
///
/// # Panics
///
/// If groff cannot be run (it comes with the Debian package `groff-base`).
pub fn groff(page: &Path, args: &[&str]) -> Groff {
    let out = Command::new("groff")
        .arg("-man")
        .args(args)
        .arg(page)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run groff ({e}); install it with `apt-get install groff-base` to check \
                 the man pages"
            )
        });
    Groff {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
    }
}

/// `page` rendered as plain ASCII text without hyphenation, white space collapsed to single
/// spaces, for searching phrases.
pub fn rendered_text(page: &Path) -> String {
    let out = groff(
        page,
        &[
            "-Tascii",
            "-rHY=0",
            "-rLL=250n",
            "-P-c",
            "-P-b",
            "-P-u",
            "-P-o",
        ],
    );
    assert!(
        out.success,
        "groff failed on {}: {}",
        page.display(),
        out.stderr
    );
    collapse_ws(&out.stdout)
}

/// `text` with every run of white space replaced by one space, and trimmed.
pub fn collapse_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A section (`.SH`) or subsection (`.SS`) of a man(7) page.
#[derive(Debug)]
pub struct Section {
    /// The title, with quotes removed.
    pub title: String,
    /// Whether this is a subsection (`.SS`).
    pub sub: bool,
    /// The source lines after the heading, up to the next heading of any level.
    pub lines: Vec<String>,
}

/// Splits a man(7) source into its sections and subsections, in order. Comment lines are
/// dropped.
pub fn sections(source: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in source.lines() {
        if line.starts_with(".\\\"") || line.starts_with("'\\\"") {
            continue;
        }
        let heading = line
            .strip_prefix(".SH ")
            .map(|t| (t, false))
            .or_else(|| line.strip_prefix(".SS ").map(|t| (t, true)));
        match heading {
            Some((title, sub)) => out.push(Section {
                title: title.trim().trim_matches('"').to_owned(),
                sub,
                lines: Vec::new(),
            }),
            None => {
                if let Some(s) = out.last_mut() {
                    s.lines.push(line.to_owned());
                }
            }
        }
    }
    out
}

/// The section or subsection titled `title`.
///
/// # Panics
///
/// If there is none.
pub fn section<'a>(sections: &'a [Section], title: &str) -> &'a Section {
    sections
        .iter()
        .find(|s| s.title == title)
        .unwrap_or_else(|| panic!("the page has no section `{title}`"))
}

/// One `.TP` entry: its tag line and the body lines up to the next `.TP`, `.PP` or heading.
#[derive(Debug)]
pub struct Entry {
    /// The tag as text (fonts removed).
    pub tag: String,
    /// The body as text (fonts removed), lines joined with spaces.
    pub body: String,
}

/// The `.TP` entries of a section. Tags of consecutive `.TP` lines that share one body (written
/// with `.PD 0`) each get that body.
pub fn entries(section: &Section) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut lines = section.lines.iter().peekable();
    let mut pending_tags: Vec<String> = Vec::new();
    while let Some(line) = lines.next() {
        if line != ".TP" {
            continue;
        }
        let Some(tag) = lines.next() else { break };
        pending_tags.push(roff_line_text(tag));
        let mut body = Vec::new();
        while let Some(next) = lines.peek() {
            if next.as_str() == ".TP"
                || next.starts_with(".PP")
                || next.starts_with(".SH")
                || next.starts_with(".SS")
            {
                break;
            }
            if let Some(l) = lines.next()
                && !l.starts_with(".PD")
            {
                body.push(roff_line_text(l));
            }
        }
        if body.iter().all(|b| b.trim().is_empty()) && lines.peek().is_some_and(|n| *n == ".TP") {
            continue; // `.PD 0`: the next tag shares this body
        }
        let body = collapse_ws(&body.join(" "));
        for tag in pending_tags.drain(..) {
            out.push(Entry {
                tag,
                body: body.clone(),
            });
        }
    }
    out
}

/// The first word of an entry's tag: the parameter, option or field it describes.
pub fn tag_word(tag: &str) -> &str {
    tag.split_whitespace().next().unwrap_or("")
}

/// The text of one source line: escapes and font changes removed, and for a font macro line
/// (`.B`, `.BR`, ...) its arguments, joined as groff would join them.
pub fn roff_line_text(line: &str) -> String {
    let Some(request) = line.strip_prefix('.') else {
        return unescape(line);
    };
    let (name, args) = request.split_once(' ').unwrap_or((request, ""));
    let args = split_args(args);
    let joined = match name {
        "B" | "I" | "SM" | "SB" => args.join(" "),
        "BR" | "RB" | "BI" | "IB" | "IR" | "RI" => args.concat(),
        "TP" | "PP" | "LP" | "P" | "IP" | "RS" | "RE" | "PD" | "EX" | "EE" | "nf" | "fi" | "br"
        | "sp" => String::new(),
        _ => args.join(" "),
    };
    unescape(&joined)
}

/// Splits macro arguments at spaces, keeping `"quoted strings"` (with `""` for a quote) whole.
fn split_args(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = args.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut arg = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        arg.push('"');
                    } else {
                        break;
                    }
                } else {
                    arg.push(c);
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                arg.push(c);
                chars.next();
            }
        }
        out.push(arg);
    }
    out
}

/// Removes font changes and replaces the escapes these pages use by their characters.
pub fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => {
                chars.next(); // the font letter
            }
            Some('-') => out.push('-'),
            Some('e') | Some('\\') => out.push('\\'),
            Some('&') => {}
            Some('(') => {
                let name: String = chars.by_ref().take(2).collect();
                out.push_str(match name.as_str() {
                    "em" => "--",
                    "dq" => "\"",
                    "bu" => "*",
                    _ => "?",
                });
            }
            Some(' ') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The text of every `.EX` ... `.EE` example in `lines`, escapes removed.
pub fn examples(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in lines {
        match (line.as_str(), current.as_mut()) {
            (".EX", None) => current = Some(Vec::new()),
            (".EE", Some(_)) => {
                if let Some(ex) = current.take() {
                    out.push(ex.join("\n") + "\n");
                }
            }
            (_, Some(ex)) => ex.push(unescape(line)),
            (_, None) => {}
        }
    }
    out
}

/// The IP addresses written in `text` (with or without port, brackets or prefix length).
pub fn ip_literals(text: &str) -> Vec<IpAddr> {
    let is_part = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
    let mut out = Vec::new();
    for token in text.split(|c: char| !is_part(c)) {
        let token = token.trim_matches('.');
        if let Ok(ip) = token.parse::<IpAddr>() {
            out.push(ip);
        } else if let Some((host, port)) = token.rsplit_once(':')
            && port.bytes().all(|b| b.is_ascii_digit())
            && let Ok(ip) = host.parse::<Ipv4Addr>()
        {
            out.push(IpAddr::V4(ip));
        }
    }
    out
}

/// Whether `ip` may appear in documentation: the ranges reserved for it (RFC 5737, RFC 3849),
/// the unspecified and loopback addresses, and IPv4 netmasks.
pub fn is_documentation_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            let bits = v4.to_bits();
            let netmask = bits.leading_ones() + bits.trailing_zeros() == 32;
            matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113))
                || v4.is_unspecified()
                || v4.is_loopback()
                || netmask
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] == 0x2001 && s[1] == 0x0db8)
                || v6 == Ipv6Addr::UNSPECIFIED
                || v6 == Ipv6Addr::LOCALHOST
        }
    }
}

/// One `Key=Value` line of a systemd unit, with its section.
#[derive(Debug)]
pub struct UnitSetting {
    /// The section, without brackets (`Service`).
    pub section: String,
    /// The key.
    pub key: String,
    /// The value, with continuation lines joined.
    pub value: String,
}

/// Reads a systemd unit file: its settings in order (comments and blank lines dropped).
pub fn parse_unit(text: &str) -> Vec<UnitSetting> {
    let mut out: Vec<UnitSetting> = Vec::new();
    let mut section = String::new();
    let mut continuing = false;
    for raw in text.lines() {
        let line = raw.trim();
        if continuing {
            let (part, more) = match line.strip_suffix('\\') {
                Some(p) => (p, true),
                None => (line, false),
            };
            if let Some(last) = out.last_mut() {
                last.value.push(' ');
                last.value.push_str(part.trim());
            }
            continuing = more;
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (value, more) = match value.strip_suffix('\\') {
            Some(v) => (v, true),
            None => (value, false),
        };
        continuing = more;
        out.push(UnitSetting {
            section: section.clone(),
            key: key.trim().to_owned(),
            value: value.trim().to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_lines_become_text() {
        assert_eq!(
            roff_line_text(".BR \\-c \", \" \\-\\-config"),
            "-c, --config"
        );
        assert_eq!(roff_line_text(".B \"show tunnels\""), "show tunnels");
        assert_eq!(
            roff_line_text("\\fBlisten\\fR \\fIip\\fR[\\fB:\\fIport\\fR] ..."),
            "listen ip[:port] ..."
        );
        assert_eq!(roff_line_text(".B \"\"\"up\"\"\""), "\"up\"");
    }

    #[test]
    fn finds_ip_literals() {
        let ips = ip_literals("peer [2001:db8::1]:1701 local 192.0.2.1:1701 mac 02:00:5e:10:00:01");
        assert_eq!(
            ips,
            vec![
                "2001:db8::1"
                    .parse::<IpAddr>()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            ]
        );
        assert!(!is_documentation_ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert!(is_documentation_ip(IpAddr::V4(Ipv4Addr::new(
            255, 255, 255, 0
        ))));
    }

    #[test]
    fn reads_units() {
        let u = parse_unit("[Service]\n# c\nExecStart=/usr/sbin/x \\\n  -f\nType=simple\n");
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].value, "/usr/sbin/x -f");
        assert_eq!(u[1].section, "Service");
    }
}
