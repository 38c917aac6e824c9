//! `man/l2tpd.conf.5` against the config parser: every block type and every parameter the parser
//! accepts is documented in the right subsection, nothing else is, each documented default is
//! the parser's, and the page's example parses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use l2tp_config::{
    DynauthClientParams, DynauthClientSettings, IpPoolParams, IpPoolSettings, PeerParams,
    PeerSettings, PppParams, PppSettings, PseudowireParams, PseudowireSettings, RadiusServerParams,
    RadiusServerSettings, SessionInstanceParams, SessionInstanceSettings, SessionParams,
    SessionSettings, System, SystemParams, TunnelInstanceParams, TunnelInstanceSettings,
    TunnelParams, TunnelSettings, UserParams, UserSettings,
};
use l2tp_docs_check::{Section, entries, read, rendered_text, repo_root, section, sections};

const PAGE: &str = "man/l2tpd.conf.5";

/// The block types of the config file, as the parser spells them.
const BLOCK_TYPES: &[&str] = &[
    "system",
    "peer profile",
    "tunnel profile",
    "session profile",
    "pseudowire profile",
    "ppp profile",
    "ip pool",
    "user",
    "radius server",
    "dynauth client",
    "tunnel",
    "session",
];

/// Each subsection of BLOCKS: its title, the parameter names the parser accepts there, and the
/// pretty `Debug` output of the settings with every default applied.
fn block_subsections() -> Vec<(&'static str, &'static [&'static str], String)> {
    vec![
        (
            "The system block",
            SystemParams::KEYS,
            format!("{:#?}", System::default()),
        ),
        (
            "Peer profiles",
            PeerParams::KEYS,
            format!("{:#?}", PeerSettings::default()),
        ),
        (
            "Tunnel profiles and tunnels",
            TunnelParams::KEYS,
            format!("{:#?}", TunnelSettings::default()),
        ),
        (
            "Tunnel instances",
            TunnelInstanceParams::KEYS,
            format!("{:#?}", TunnelInstanceSettings::default()),
        ),
        (
            "Session profiles and sessions",
            SessionParams::KEYS,
            format!("{:#?}", SessionSettings::default()),
        ),
        (
            "Session instances",
            SessionInstanceParams::KEYS,
            format!("{:#?}", SessionInstanceSettings::default()),
        ),
        (
            "Pseudowire profiles",
            PseudowireParams::KEYS,
            format!("{:#?}", PseudowireSettings::default()),
        ),
        (
            "PPP profiles",
            PppParams::KEYS,
            format!("{:#?}", PppSettings::default()),
        ),
        (
            "Address pools",
            IpPoolParams::KEYS,
            format!("{:#?}", IpPoolSettings::default()),
        ),
        (
            "Users",
            UserParams::KEYS,
            format!("{:#?}", UserSettings::default()),
        ),
        (
            "RADIUS servers",
            RadiusServerParams::KEYS,
            format!("{:#?}", RadiusServerSettings::default()),
        ),
        (
            "Dynamic authorization clients",
            DynauthClientParams::KEYS,
            format!("{:#?}", DynauthClientSettings::default()),
        ),
    ]
}

fn page_sections() -> Vec<Section> {
    sections(&read(PAGE))
}

/// The subsections that follow the `.SH BLOCKS` heading.
fn blocks_subsections(all: &[Section]) -> Vec<&Section> {
    let start = all
        .iter()
        .position(|s| !s.sub && s.title == "BLOCKS")
        .expect("the page has a BLOCKS section");
    all[start + 1..].iter().take_while(|s| s.sub).collect()
}

#[test]
fn block_types_match_the_parser() {
    // The parser's table of block types (private to l2tp-config), read from its source so that a
    // new block type fails this test until it is documented here and on the page.
    let source = read("l2tp-config/src/build.rs");
    let table_start = source
        .find("const KINDS")
        .expect("l2tp-config/src/build.rs has its KINDS table");
    let table = &source[table_start..];
    let table = &table[..table.find("];").expect("the KINDS table ends")];
    let in_source: BTreeSet<&str> = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("(\""))
        .filter_map(|l| l.split('"').next())
        .collect();
    let documented: BTreeSet<&str> = BLOCK_TYPES.iter().copied().collect();
    assert_eq!(
        in_source, documented,
        "the parser's block types (l2tp-config/src/build.rs KINDS) differ from those this test \
         and l2tpd.conf(5) document"
    );

    // And the parser really accepts each of them.
    for ty in BLOCK_TYPES {
        let text = match *ty {
            "system" => "system {\n}\n".to_owned(),
            "tunnel" => "tunnel \"t\" {\n    peer 192.0.2.1\n}\n".to_owned(),
            "session" => {
                "tunnel \"t\" {\n    peer 192.0.2.1\n}\nsession \"s\" {\n    tunnel \"t\"\n}\n"
                    .to_owned()
            }
            "ip pool" => "ip pool \"x\" {\n    ranges 192.0.2.10\n}\n".to_owned(),
            "user" => "user \"x\" {\n    password \"pw\"\n}\n".to_owned(),
            "radius server" | "dynauth client" => {
                format!("{ty} \"x\" {{\n    address 192.0.2.1\n    secret \"s\"\n}}\n")
            }
            other => format!("{other} \"x\" {{\n}}\n"),
        };
        if let Err(d) = l2tp_config::parse("probe.conf", &text) {
            panic!(
                "the parser rejects block type `{ty}`: {}",
                l2tp_config::render_all(&d, &text)
            );
        }
    }
}

#[test]
fn every_block_type_is_documented() {
    let text = rendered_text(&repo_root().join(PAGE));
    let all = page_sections();
    let syntax = l2tp_docs_check::collapse_ws(
        &section(&all, "SYNTAX")
            .lines
            .iter()
            .map(|l| l2tp_docs_check::roff_line_text(l))
            .collect::<Vec<_>>()
            .join(" "),
    );
    // "The block type is one or two words: system, peer profile, ... or session."
    let list = syntax
        .split_once("The block type is one or two words:")
        .and_then(|(_, rest)| rest.split_once('.'))
        .map(|(list, _)| list)
        .expect("the SYNTAX section lists the block types");
    let listed: BTreeSet<&str> = list
        .split([','])
        .flat_map(|item| item.split(" or "))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    let known: BTreeSet<&str> = BLOCK_TYPES.iter().copied().collect();
    assert_eq!(
        listed, known,
        "the block types listed in the SYNTAX section of {PAGE}"
    );
    for ty in BLOCK_TYPES {
        assert!(text.contains(ty), "{PAGE} never mentions `{ty}`");
    }
    let titles: Vec<&str> = blocks_subsections(&all)
        .iter()
        .map(|s| s.title.as_str())
        .collect();
    let expected: Vec<&str> = block_subsections().iter().map(|(t, _, _)| *t).collect();
    assert_eq!(
        titles, expected,
        "the subsections of BLOCKS in {PAGE} are not the ones this test maps to parameter lists"
    );
}

#[test]
fn every_parameter_is_documented_where_it_belongs() {
    let all = page_sections();
    let mut problems = Vec::new();
    for (title, keys, _) in block_subsections() {
        let sub = section(&all, title);
        let tags: Vec<String> = entries(sub)
            .iter()
            .map(|e| l2tp_docs_check::tag_word(&e.tag).to_owned())
            .collect();
        let documented: BTreeSet<&str> = tags.iter().map(String::as_str).collect();
        let accepted: BTreeSet<&str> = keys.iter().copied().collect();
        for missing in accepted.difference(&documented) {
            problems.push(format!(
                "`{missing}` is accepted by the parser but has no entry in `{title}`"
            ));
        }
        for extra in documented.difference(&accepted) {
            problems.push(format!(
                "`{extra}` is documented in `{title}` but the parser does not accept it there"
            ));
        }
        if tags.len() != documented.len() {
            problems.push(format!("`{title}` documents a parameter twice: {tags:?}"));
        }
    }
    assert!(problems.is_empty(), "{PAGE}:\n{}", problems.join("\n"));
}

/// The default of each scalar field in a pretty `Debug` dump of settings, as the config file
/// spells it: numbers and booleans as they are, enum variants in snake case, strings and paths
/// without quotes. `None` (an unset option, or an enum variant named `None`) and compound values
/// are left out.
fn scalar_defaults(debug: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in debug.lines() {
        let Some(rest) = line.strip_prefix("    ") else {
            continue;
        };
        if rest.starts_with(' ') {
            continue; // nested
        }
        let Some((key, value)) = rest.split_once(": ") else {
            continue;
        };
        let value = value.trim_end_matches(',');
        if value.ends_with(['{', '[', '(']) || value == "None" || value == "[]" {
            continue;
        }
        let spelled = if let Some(s) = value.strip_prefix('"') {
            s.trim_end_matches('"').to_owned()
        } else if value.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            let mut snake = String::new();
            for (i, c) in value.chars().enumerate() {
                if c.is_ascii_uppercase() {
                    if i > 0 {
                        snake.push('_');
                    }
                    snake.push(c.to_ascii_lowercase());
                } else {
                    snake.push(c);
                }
            }
            snake
        } else {
            value.to_owned()
        };
        out.push((key.to_owned(), spelled));
    }
    out
}

#[test]
fn every_parameter_states_its_default_and_scalar_defaults_are_the_parsers() {
    let all = page_sections();
    let mut problems = Vec::new();
    for (title, _, debug) in block_subsections() {
        let entries = entries(section(&all, title));
        for e in &entries {
            let key = l2tp_docs_check::tag_word(&e.tag);
            if !e.body.contains("Default:") && !e.body.contains("Required.") {
                problems.push(format!(
                    "`{key}` in `{title}` says neither `Default:` nor `Required.`"
                ));
            }
        }
        for (key, default) in scalar_defaults(&debug) {
            let Some(e) = entries
                .iter()
                .find(|e| l2tp_docs_check::tag_word(&e.tag) == key)
            else {
                continue; // reported by the other test
            };
            let Some((_, stated)) = e.body.split_once("Default:") else {
                continue;
            };
            let words: Vec<&str> = stated
                .split_whitespace()
                .map(|w| w.trim_end_matches(['.', ',', ';', ')']))
                .collect();
            if !words.contains(&default.as_str()) {
                problems.push(format!(
                    "`{key}` in `{title}`: the parser's default is `{default}`, the page says \
                     `Default:{stated}`"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{PAGE}:\n{}", problems.join("\n"));
}

#[test]
fn the_example_parses() {
    let all = page_sections();
    let examples = l2tp_docs_check::examples(&section(&all, "EXAMPLE").lines);
    assert_eq!(examples.len(), 1, "the EXAMPLE section has one example");
    let text = &examples[0];
    match l2tp_config::parse("l2tpd.conf.5 EXAMPLE", text) {
        Ok(config) => assert!(
            config.warnings().is_empty(),
            "the example has warnings: {:?}",
            config.warnings()
        ),
        Err(d) => panic!("{}", l2tp_config::render_all(&d, text)),
    }
}

#[test]
fn the_examples_of_pools_users_and_users_files_read() {
    let all = page_sections();
    for title in [
        "Address pools",
        "Users",
        "RADIUS servers",
        "Dynamic authorization clients",
    ] {
        for text in l2tp_docs_check::examples(&section(&all, title).lines) {
            if let Err(d) = l2tp_config::parse(title, &text) {
                panic!("{}", l2tp_config::render_all(&d, &text));
            }
        }
    }
    let examples = l2tp_docs_check::examples(&section(&all, "USERS FILES").lines);
    assert_eq!(examples.len(), 1, "USERS FILES has one example");
    let users = l2tp_config::parse_users_file(std::path::Path::new("chap-secrets"), &examples[0])
        .unwrap_or_else(|d| panic!("{d:?}"));
    let got: Vec<(&str, Option<&str>, String, Option<String>)> = users
        .iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.server.as_deref(),
                String::from_utf8_lossy(u.password.as_bytes()).into_owned(),
                u.ip_addr.map(|a| a.to_string()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "alice",
                None,
                "alice's password".to_owned(),
                Some("198.51.100.5".to_owned())
            ),
            ("bob", Some("l2tpd"), "bob-password".to_owned(), None),
            ("carol smith", None, "carol password".to_owned(), None),
        ]
    );
}

/// The system settings that RELOADING says take effect only at the next start: the words
/// between "Changes to" and "take effect at the next start".
fn settings_a_reload_leaves() -> BTreeSet<String> {
    let all = page_sections();
    let text = l2tp_docs_check::collapse_ws(
        &section(&all, "RELOADING")
            .lines
            .iter()
            .map(|l| l2tp_docs_check::roff_line_text(l))
            .collect::<Vec<_>>()
            .join(" "),
    );
    let list = text
        .split_once("Changes to")
        .and_then(|(_, rest)| rest.split_once("take effect at the next start"))
        .map(|(list, _)| list)
        .expect("RELOADING lists the settings that take effect at the next start");
    list.split([',', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty() && *w != "and")
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_reload_warns_of_every_system_setting_it_leaves_and_the_page_lists_them() {
    let listed = settings_a_reload_leaves();
    // Those the daemon names in a reload's "restart l2tpd to apply it" warnings.
    let source = read("l2tpd/src/core/summary.rs");
    let warned: BTreeSet<String> = source
        .split("needs(")
        .skip(1)
        .filter_map(|call| call.trim_start().strip_prefix('"'))
        .filter_map(|call| call.split('"').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        warned, listed,
        "the settings l2tpd/src/core/summary.rs warns of on reload differ from those RELOADING \
         in {PAGE} lists"
    );
    // Every entry of the system block that says a reload does not change it is in the list.
    let all = page_sections();
    for e in entries(section(&all, "The system block")) {
        let key = l2tp_docs_check::tag_word(&e.tag);
        if e.body.contains("a reload does not change it") {
            assert!(
                listed.contains(key),
                "`{key}`: its entry says a reload does not change it, but RELOADING in {PAGE} \
                 does not list it among the settings that take effect at the next start"
            );
        }
    }
}

/// The block a parameter of each subsection of BLOCKS is tried in, with what else it needs.
fn probe_block(title: &str) -> (&'static str, &'static str) {
    match title {
        "The system block" => ("system {", ""),
        "Peer profiles" => ("peer profile \"x\" {", ""),
        "Tunnel profiles and tunnels" => ("tunnel profile \"x\" {", ""),
        "Tunnel instances" => ("tunnel \"x\" {", "    peer 192.0.2.1\n"),
        "Session profiles and sessions" => ("session profile \"x\" {", ""),
        "Session instances" => ("session \"x\" {", ""),
        "Pseudowire profiles" => ("pseudowire profile \"x\" {", ""),
        "PPP profiles" => ("ppp profile \"x\" {", ""),
        "Address pools" => ("ip pool \"x\" {", ""),
        "Users" => ("user \"x\" {", ""),
        "RADIUS servers" => ("radius server \"x\" {", ""),
        "Dynamic authorization clients" => ("dynauth client \"x\" {", ""),
        other => panic!("no probe block for `{other}`"),
    }
}

/// The range the parser accepts for `key` in the block of `title`, if it takes a number: the
/// `from A to B` of its message for a number far too large.
fn parser_range(title: &str, key: &str) -> Option<(u64, u64)> {
    let (open, rest) = probe_block(title);
    let text = format!("{open}\n{rest}    {key} 999999999999999999999999\n}}\n");
    let Err(diags) = l2tp_config::parse("probe.conf", &text) else {
        return None;
    };
    diags.iter().find_map(|d| {
        let (_, range) = d.message().split_once("expected a number from ")?;
        let (a, b) = range.split_once(" to ")?;
        Some((a.parse().ok()?, b.parse().ok()?))
    })
}

#[test]
fn every_numeric_parameter_states_the_range_the_parser_enforces() {
    const TYPE_MAXIMA: [u64; 4] = [255, 65_535, 4_294_967_295, u64::MAX];
    let all = page_sections();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (title, keys, _) in block_subsections() {
        let entries = entries(section(&all, title));
        for key in keys {
            let Some((min, max)) = parser_range(title, key) else {
                continue;
            };
            checked += 1;
            let Some(e) = entries
                .iter()
                .find(|e| l2tp_docs_check::tag_word(&e.tag) == *key)
            else {
                continue; // reported by another test
            };
            let body = &e.body;
            let stated = body.contains(&format!("{min} to {max}"))
                || (TYPE_MAXIMA.contains(&max)
                    && (min == 0 || body.contains(&format!("at least {min}"))));
            if !stated {
                problems.push(format!(
                    "`{key}` in `{title}`: the parser takes {min} to {max}, which the entry does \
                     not say (`{min} to {max}`{})",
                    if TYPE_MAXIMA.contains(&max) {
                        format!(" or `at least {min}`")
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    assert!(checked > 40, "only {checked} numeric parameters found");
    assert!(problems.is_empty(), "{PAGE}:\n{}", problems.join("\n"));
}
