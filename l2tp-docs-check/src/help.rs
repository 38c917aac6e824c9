//! Holding a man page to its program's `--help`: the options that clap prints (with their value
//! names, defaults and possible values) against the OPTIONS and SYNOPSIS sections of the page.
//!
//! A program's own tests run it (`env!("CARGO_BIN_EXE_...")` exists only there) and call
//! [`page_problems`] with what it printed.

use crate::{entries, read, roff_line_text, section, sections};

/// One option of a clap `--help` text.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct HelpOption {
    /// `-x`, if the option has a short form.
    pub short: Option<String>,
    /// `--name`, if the option has a long form.
    pub long: Option<String>,
    /// The value name, without the angle brackets (`IP[:PORT]`), for an option that takes one.
    pub value: Option<String>,
    /// The `[default: ...]` value.
    pub default: Option<String>,
    /// The possible values, from `[possible values: ...]` or a `Possible values:` list.
    pub possible: Vec<String>,
}

impl HelpOption {
    /// The short and long forms.
    pub fn flags(&self) -> Vec<&str> {
        self.short
            .iter()
            .chain(&self.long)
            .map(String::as_str)
            .collect()
    }
}

/// A clap `--help` text, read.
#[derive(Clone, Debug, Default)]
pub struct Help {
    /// The options given explicitly on the `Usage:` line (the required ones).
    pub required: Vec<String>,
    /// The options, in order.
    pub options: Vec<HelpOption>,
}

/// Reads a clap `--help` (or `-h`) text.
pub fn parse_help(text: &str) -> Help {
    let mut help = Help::default();
    if let Some(usage) = text.lines().find_map(|l| l.strip_prefix("Usage: ")) {
        help.required = usage
            .split_whitespace()
            .filter(|w| w.starts_with('-'))
            .map(str::to_owned)
            .collect();
    }
    let mut in_options = false;
    let mut in_possible = false;
    for line in text.lines() {
        if line == "Options:" {
            in_options = true;
            continue;
        }
        if !in_options {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 0 && !trimmed.is_empty() {
            in_options = false;
            continue;
        }
        if indent <= 6 && trimmed.starts_with('-') {
            help.options.push(option_line(trimmed));
            in_possible = false;
            continue;
        }
        let Some(current) = help.options.last_mut() else {
            continue;
        };
        if trimmed.is_empty() {
            continue;
        }
        let rest = trimmed;
        if rest == "Possible values:" {
            in_possible = true;
            continue;
        }
        if in_possible && let Some(item) = rest.strip_prefix("- ") {
            let name = item.split(':').next().unwrap_or(item).trim();
            current.possible.push(name.to_owned());
            continue;
        }
        bracketed(rest, current);
    }
    help
}

/// An option line: `-x, --name <VALUE>  description`.
fn option_line(line: &str) -> HelpOption {
    let (spec, description) = line.split_once("  ").unwrap_or((line, ""));
    let mut option = HelpOption::default();
    for word in spec.split([',', ' ']).filter(|w| !w.is_empty()) {
        if let Some(v) = word.strip_prefix('<').and_then(|w| w.strip_suffix('>')) {
            option.value = Some(v.to_owned());
        } else if word.starts_with("--") {
            option.long = Some(word.to_owned());
        } else if word.starts_with('-') {
            option.short = Some(word.to_owned());
        }
    }
    bracketed(description, &mut option);
    option
}

/// Takes `[default: x]` and `[possible values: a, b]` from a description line.
fn bracketed(text: &str, option: &mut HelpOption) {
    if let Some(d) = between(text, "[default: ", "]") {
        option.default = Some(d.to_owned());
    }
    if let Some(p) = between(text, "[possible values: ", "]") {
        option.possible = p.split(", ").map(str::to_owned).collect();
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// An OPTIONS entry of a page: its flags and the value its tag names.
#[derive(Debug)]
struct PageOption {
    flags: Vec<String>,
    value: String,
    body: String,
}

fn page_options(source: &str) -> Vec<PageOption> {
    entries(section(&sections(source), "OPTIONS"))
        .into_iter()
        .map(|e| {
            let mut words = e.tag.split_whitespace().peekable();
            let mut flags = Vec::new();
            while let Some(w) = words.next_if(|w| w.starts_with('-')) {
                flags.push(w.trim_end_matches(',').to_owned());
            }
            PageOption {
                flags,
                value: words.collect::<Vec<_>>().join(" "),
                body: e.body,
            }
        })
        .collect()
}

/// What disagrees between the man page `page` (relative to the repository root) and `help`, the
/// `--help` output of its program: options missing on either side, value names (compared
/// without regard to case), defaults (the page says `Default: X.`), possible values, and the
/// required options, which the SYNOPSIS must name. Empty when they agree.
pub fn page_problems(page: &str, help: &str) -> Vec<String> {
    source_problems(page, &read(page), help)
}

/// [`page_problems`] for the man(7) `source` of the page named `page`.
pub fn source_problems(page: &str, source: &str, help: &str) -> Vec<String> {
    let help = parse_help(help);
    let mut problems = Vec::new();
    if help.options.is_empty() {
        problems.push(format!("{page}: no options found in the --help text"));
    }
    let documented = page_options(source);
    for option in &help.options {
        let flags = option.flags();
        let Some(entry) = documented
            .iter()
            .find(|d| flags.iter().any(|f| d.flags.iter().any(|g| g == f)))
        else {
            problems.push(format!("{page}: OPTIONS lacks {}", flags.join(", ")));
            continue;
        };
        let name = flags.join(", ");
        let mut wanted: Vec<&str> = flags.clone();
        wanted.sort_unstable();
        let mut have: Vec<&str> = entry.flags.iter().map(String::as_str).collect();
        have.sort_unstable();
        if wanted != have {
            problems.push(format!("{page}: {name} is documented as {have:?}"));
        }
        let value = option.value.as_deref().unwrap_or("").to_lowercase();
        if entry.value.to_lowercase() != value {
            problems.push(format!(
                "{page}: {name} takes `{value}`, the page says `{}`",
                entry.value
            ));
        }
        if let Some(d) = &option.default
            && !entry.body.contains(&format!("Default: {d}."))
        {
            problems.push(format!("{page}: {name} must say `Default: {d}.`"));
        }
        for p in &option.possible {
            let in_value = entry.value.split('|').any(|v| v == p);
            if !in_value && !entry.body.contains(p.as_str()) {
                problems.push(format!("{page}: {name} does not name the value {p}"));
            }
        }
    }
    for entry in &documented {
        let known = help.options.iter().any(|o| {
            o.flags()
                .iter()
                .any(|f| entry.flags.contains(&(*f).to_owned()))
        });
        if !known {
            problems.push(format!(
                "{page}: OPTIONS documents {:?}, which --help does not have",
                entry.flags
            ));
        }
    }
    let synopsis: String = section(&sections(source), "SYNOPSIS")
        .lines
        .iter()
        .map(|l| roff_line_text(l))
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = synopsis
        .split(|c: char| c.is_whitespace() || c == '|' || c == '[' || c == ']')
        .collect();
    for r in &help.required {
        if !words.contains(&r.as_str()) {
            problems.push(format!("{page}: SYNOPSIS lacks the required {r}"));
        }
    }
    for w in words.iter().filter(|w| w.starts_with('-')) {
        if !help.options.iter().any(|o| o.flags().contains(w)) {
            problems.push(format!(
                "{page}: SYNOPSIS names {w}, which --help does not have"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SHORT: &str = "\
A tool

Usage: tool [OPTIONS] --peer <IP[:PORT]>

Options:
      --peer <IP[:PORT]>    Peer address
      --encap <udp|ip>      Encapsulation [default: udp] [possible values: udp, ip]
      --seq                 Sequencing
  -h, --help                Print help
";

    const LONG: &str = "\
Usage: tool [OPTIONS] --peer <ADDR>

Options:
      --peer <ADDR>
          The peer

      --pw-type <eth|ppp>
          Pseudowire type

          Possible values:
          - eth: Ethernet
          - ppp: PPP
          
          [default: eth]

  -h, --help
          Print help (see a summary with '-h')
";

    #[test]
    fn short_and_long_help_texts_are_read() {
        let h = parse_help(SHORT);
        assert_eq!(h.required, ["--peer"]);
        assert_eq!(h.options.len(), 4);
        assert_eq!(h.options[0].value.as_deref(), Some("IP[:PORT]"));
        assert_eq!(h.options[1].default.as_deref(), Some("udp"));
        assert_eq!(h.options[1].possible, ["udp", "ip"]);
        assert_eq!(h.options[2].value, None);
        assert_eq!(h.options[3].flags(), ["-h", "--help"]);

        let h = parse_help(LONG);
        assert_eq!(h.options.len(), 3);
        assert_eq!(h.options[1].possible, ["eth", "ppp"]);
        assert_eq!(h.options[1].default.as_deref(), Some("eth"));
        assert_eq!(h.options[2].flags(), ["-h", "--help"]);
    }

    const PAGE: &str = "\
.SH SYNOPSIS
.B tool
.BI \\-\\-peer \" ip\\fR[:\\fIport\\fR]\"
.SH OPTIONS
.TP
.BI \\-\\-peer \" ip\\fR[:\\fIport\\fR]\"
The peer.
.TP
.BR \\-\\-encap \" udp\" | ip
Encapsulation.
Default: udp.
.TP
.B \\-\\-seq
Sequencing.
.TP
.BR \\-h \", \" \\-\\-help
Help.
.SH SEE ALSO
";

    #[test]
    fn a_page_that_agrees_has_no_problems() {
        assert_eq!(source_problems("tool.1", PAGE, SHORT), Vec::<String>::new());
    }

    #[test]
    fn every_kind_of_disagreement_is_found() {
        let check = |page: &str, help: &str, needle: &str| {
            let problems = source_problems("tool.1", page, help);
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "expected `{needle}` in {problems:?}"
            );
        };
        // An option the page lacks, and one that --help lacks.
        check(
            PAGE,
            &SHORT.replace("--seq ", "--sequence"),
            "OPTIONS lacks --sequence",
        );
        check(
            PAGE,
            &SHORT.replace("--seq ", "--sequence"),
            "which --help does not have",
        );
        // A value name, a default, a possible value.
        check(
            PAGE,
            &SHORT.replace("<IP[:PORT]>", "<ADDR>  "),
            "takes `addr`",
        );
        check(
            PAGE,
            &SHORT.replace("default: udp", "default: ip"),
            "Default: ip.",
        );
        check(
            PAGE,
            &SHORT.replace("values: udp, ip", "values: udp, ip, gre"),
            "gre",
        );
        // A required option the SYNOPSIS does not name.
        check(
            &PAGE.replacen(".BI \\-\\-peer", ".BI \\-\\-local", 1),
            SHORT,
            "SYNOPSIS lacks the required --peer",
        );
    }
}
