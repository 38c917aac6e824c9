//! The man pages in `man/`: they render without warnings, and `l2tpd(8)` and `l2tpctl(1)` cover
//! everything the interface contract (`shared/spec/interface.md`) lists. `l2tp-loadgen(1)` and
//! `l2tp-static(8)` are held to their programs' `--help` by the tests of those programs' crates
//! (`tests/man_page.rs`, with [`l2tp_docs_check::help`]), where the binaries are at hand.
//!
//! The lists below are the contract's, written out so that the checks run without `shared/`;
//! when `shared/spec/interface.md` is beside the repository, the tests also check that the lists
//! are still the contract's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use l2tp_config::System;
use l2tp_docs_check::{
    Entry, code_spans, collapse_ws, entries, files_with_suffix, groff, interface_md, md_section,
    read, rendered_text, repo_root, section, sections, tag_word,
};

const SCRIPTS: &[&str] = &[
    "tunnel-created",
    "tunnel-up",
    "tunnel-down",
    "tunnel-deleted",
    "session-created",
    "session-up",
    "session-down",
    "session-deleted",
    "ppp-up",
    "ppp-down",
];

/// Each script environment variable with the events it is set for, as `prol2tpd.8.txt` states
/// them, in the words `l2tpd.8` uses.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("TUNNEL_NAME", ALL_EVENTS),
    ("SESSION_NAME", SESSION_EVENTS),
    ("SESSION_PROFILE_NAME", SESSION_EVENTS),
    ("PSEUDOWIRE_PROFILE_NAME", SESSION_EVENTS),
    ("USER_DATA", SESSION_EVENTS),
    ("INTERFACE_NAME", UP_DOWN_EVENTS),
    ("MTU", UP_DOWN_EVENTS),
    ("LOCAL_IP", UP_DOWN_EVENTS),
    ("PEER_IP", UP_DOWN_EVENTS),
    ("NETMASK", UP_DOWN_EVENTS),
    ("BRIDGE", SESSION_EVENTS),
    ("REMOTE_END_ID", ""),
    ("REMOTE_END_ID_BIN", ""),
    ("CALLING_NUMBER", SESSION_EVENTS),
    ("CALLING_NUMBER_BIN", SESSION_EVENTS),
    ("CALLED_NUMBER", SESSION_EVENTS),
    ("CALLED_NUMBER_BIN", SESSION_EVENTS),
    ("SUB_ADDRESS", SESSION_EVENTS),
    ("SUB_ADDRESS_BIN", SESSION_EVENTS),
    ("PEER_HOST_NAME", ALL_EVENTS),
    ("PEER_HOST_NAME_BIN", ALL_EVENTS),
    ("AGENT_CIRCUIT_ID", SESSION_EVENTS),
    ("AGENT_CIRCUIT_ID_BIN", SESSION_EVENTS),
    ("AGENT_REMOTE_ID", SESSION_EVENTS),
    ("AGENT_REMOTE_ID_BIN", SESSION_EVENTS),
    ("ACTUAL_DATA_RATE_UPSTREAM", SESSION_EVENTS),
    ("ACTUAL_DATA_RATE_DOWNSTREAM", SESSION_EVENTS),
    ("RESULT_CODE", DOWN_EVENTS),
    ("ERROR_CODE", "Set with"),
    ("RESULT_MESSAGE", "Set with"),
    ("RESULT_MESSAGE_BIN", "Set with"),
    ("PPP_USER", PPP_EVENTS),
    ("PPP_USER_BIN", PPP_EVENTS),
    ("PPP_AUTH_METHOD", ""),
    ("PPP_IPADDR", PPP_EVENTS),
    ("PPP_LOCAL_IPADDR", ""),
    ("PPP_IPV6_IFID", ""),
    ("PPP_DOWN_REASON", "Set for the PPP down event"),
];
/// The variables of [`ENVIRONMENT`] that the original contract (prol2tpd.8.txt,
/// interface.md) does not name.
const MORE_ENVIRONMENT: &[&str] = &[
    "CALLING_NUMBER",
    "CALLING_NUMBER_BIN",
    "CALLED_NUMBER",
    "CALLED_NUMBER_BIN",
    "SUB_ADDRESS",
    "SUB_ADDRESS_BIN",
    "PEER_HOST_NAME",
    "PEER_HOST_NAME_BIN",
    "AGENT_CIRCUIT_ID",
    "AGENT_CIRCUIT_ID_BIN",
    "AGENT_REMOTE_ID",
    "AGENT_REMOTE_ID_BIN",
    "ACTUAL_DATA_RATE_UPSTREAM",
    "ACTUAL_DATA_RATE_DOWNSTREAM",
    "RESULT_CODE",
    "ERROR_CODE",
    "RESULT_MESSAGE",
    "RESULT_MESSAGE_BIN",
    "PPP_USER",
    "PPP_USER_BIN",
    "PPP_AUTH_METHOD",
    "PPP_IPADDR",
    "PPP_LOCAL_IPADDR",
    "PPP_IPV6_IFID",
    "PPP_DOWN_REASON",
];
const ALL_EVENTS: &str = "Set for all events";
const SESSION_EVENTS: &str = "Set for all session events";
const UP_DOWN_EVENTS: &str = "Set for the session up and down events";
const PPP_EVENTS: &str = "Set for the PPP up and down events";
const DOWN_EVENTS: &str =
    "Set for the tunnel-down and session-down events, and for the tunnel-deleted";

/// The values of the session type argument P3, besides a number.
const SESSION_TYPES: &[&str] = &["PPP", "ETH", "ETH_VLAN"];

const L2TPD_SYNOPSIS: &str = "l2tpd [-h] [-v] [-f] [-c config-file] [-o log-file] [-n] [-d]";

const L2TPD_OPTIONS: &[&str] = &[
    "-h",
    "--help",
    "-v",
    "--version",
    "-f",
    "--foreground",
    "-c",
    "--config-file",
    "-o",
    "--log-file",
    "-n",
    "--dry-run",
    "-d",
    "--debug",
];

/// The tags of the COMMANDS section of `l2tpctl.1`, in order.
const L2TPCTL_COMMANDS: &[&str] = &[
    "show system",
    "show tunnels [state STATE] [limit N]",
    "show tunnel ID|NAME",
    "show sessions [TUNNEL] [state STATE] [limit N]",
    "show session TUNNEL ID|NAME",
    "show peer profiles",
    "show tunnel profiles",
    "show session profiles",
    "show pseudowire profiles",
    "show ppp profiles",
    "show peer profile NAME",
    "show tunnel profile NAME",
    "show session profile NAME",
    "show pseudowire profile NAME",
    "show ppp profile NAME",
    "show ip pools",
    "show ip pool NAME",
    "show radius",
    "create tunnel NAME [key=value ...]",
    "delete tunnel ID|NAME",
    "create session TUNNEL NAME [key=value ...]",
    "delete session TUNNEL ID|NAME",
    "reload",
    "debug tunnel ID|NAME on|off",
    "debug session TUNNEL ID|NAME on|off",
    "disconnect user NAME",
    "disconnect address ADDRESS",
    "request speeds TUNNEL [ID|NAME]",
];

const TUNNEL_FIELDS: &[&str] = &[
    "tid",
    "peer_tid",
    "name",
    "state",
    "version",
    "encap",
    "local",
    "peer",
    "created_by",
    "sessions",
    "uptime_s",
];
/// Tunnel fields l2tpctl(1) documents beyond the original contract.
const MORE_TUNNEL_FIELDS: &[&str] = &["same_peer"];
/// Session fields l2tpctl(1) documents beyond the original contract.
const MORE_SESSION_FIELDS: &[&str] = &["uptime_s", "ppp_user", "ppp_ipv4"];
const SESSION_FIELDS: &[&str] = &[
    "tid",
    "sid",
    "peer_tid",
    "peer_sid",
    "name",
    "state",
    "pseudowire_type",
    "interface_name",
];
/// The JSON string values the contract names for `state`, `encap`, `created_by` and
/// `pseudowire_type`.
const JSON_VALUES: &[&str] = &[
    "idle",
    "connecting",
    "up",
    "closing",
    "udp",
    "ip",
    "config",
    "net",
    "cli",
    "ppp",
    "eth",
    "eth_vlan",
];

fn page(name: &str) -> PathBuf {
    repo_root().join("man").join(name)
}

fn contract_section(heading: &str) -> Option<String> {
    let md = interface_md()?;
    Some(
        md_section(&md, heading)
            .unwrap_or_else(|| panic!("interface.md has no `## {heading}` section"))
            .to_owned(),
    )
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    items.into_iter().collect()
}

#[test]
fn every_page_renders_without_warnings() {
    let mut pages = Vec::new();
    for suffix in [".1", ".5", ".8"] {
        pages.extend(files_with_suffix("man", suffix));
    }
    let names: BTreeSet<String> = pages
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    for expected in [
        "l2tpd.8",
        "l2tpd.conf.5",
        "l2tpctl.1",
        "l2tpwatch.1",
        "l2tp-loadgen.1",
        "l2tp-static.8",
    ] {
        assert!(names.contains(expected), "man/{expected} is missing");
    }
    for p in &pages {
        let source = std::fs::read_to_string(p).unwrap();
        assert!(
            source.is_ascii(),
            "{} has non-ASCII characters: write them as groff escapes",
            p.display()
        );
        for (i, line) in source.lines().enumerate() {
            assert!(
                !line.ends_with([' ', '\t']),
                "{}:{}: trailing white space",
                p.display(),
                i + 1
            );
        }
        let out = groff(p, &["-Tutf8", "-ww", "-z"]);
        assert!(
            out.success && out.stderr.is_empty(),
            "`groff -man -Tutf8 -ww -z {}` warns:\n{}",
            p.display(),
            out.stderr
        );
    }
}

fn l2tpd_page_entries(title: &str) -> Vec<Entry> {
    entries(section(&sections(&read("man/l2tpd.8")), title))
}

#[test]
fn l2tpd_synopsis_and_options_are_the_contracts() {
    let text = rendered_text(&page("l2tpd.8"));
    let synopsis = text
        .split_once("SYNOPSIS ")
        .and_then(|(_, rest)| rest.split_once(" DESCRIPTION"))
        .map(|(s, _)| s)
        .expect("l2tpd.8 has a SYNOPSIS");
    assert_eq!(synopsis, L2TPD_SYNOPSIS);

    let documented: BTreeSet<String> = l2tpd_page_entries("OPTIONS")
        .iter()
        .flat_map(|e| {
            e.tag
                .split([',', ' '])
                .filter(|w| w.starts_with('-'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let documented: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
    assert_eq!(documented, set(L2TPD_OPTIONS.iter().copied()));

    if let Some(contract) = contract_section("l2tpd command line") {
        let spans = code_spans(&contract);
        assert!(
            spans.contains(&L2TPD_SYNOPSIS),
            "interface.md's l2tpd synopsis changed"
        );
        let options: BTreeSet<&str> = spans
            .iter()
            .filter(|s| s.starts_with('-'))
            .filter_map(|s| s.split_whitespace().next())
            .collect();
        assert_eq!(options, set(L2TPD_OPTIONS.iter().copied()));
    }
}

#[test]
fn l2tpd_signals_exit_status_and_files() {
    let signals: BTreeSet<String> = l2tpd_page_entries("SIGNALS")
        .iter()
        .flat_map(|e| e.tag.split(", ").map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for sig in ["SIGHUP", "SIGTERM", "SIGINT", "SIGUSR1"] {
        assert!(signals.contains(sig), "l2tpd.8 SIGNALS lacks {sig}");
    }
    let status: Vec<String> = l2tpd_page_entries("EXIT STATUS")
        .iter()
        .map(|e| e.tag.clone())
        .collect();
    assert_eq!(status, ["0", "1"]);

    // The files are the parser's defaults.
    let system = System::default();
    let files: Vec<String> = l2tpd_page_entries("FILES")
        .iter()
        .map(|e| e.tag.clone())
        .collect();
    for path in [
        "/etc/l2tpd/l2tpd.conf".to_owned(),
        format!("{}/", system.script_dir.display()),
        system.control_socket.display().to_string(),
        system.pid_file.display().to_string(),
    ] {
        assert!(files.contains(&path), "l2tpd.8 FILES lacks {path}");
    }
    // The script directory's entry names every script.
    let dir = format!("{}/", system.script_dir.display());
    let entries = l2tpd_page_entries("FILES");
    let scripts = &entries.iter().find(|e| e.tag == dir).unwrap().body;
    for script in SCRIPTS {
        assert!(
            scripts.contains(script),
            "l2tpd.8 FILES {dir} lacks {script}: {scripts}"
        );
    }
}

#[test]
fn l2tpd_user_scripts_are_the_contracts() {
    let all = sections(&read("man/l2tpd.8"));
    // The eight scripts, as `script_dir/NAME` entries of "Events".
    let events: Vec<String> = entries(section(&all, "Events"))
        .iter()
        .map(|e| e.tag.clone())
        .collect();
    let expected: Vec<String> = SCRIPTS.iter().map(|s| format!("script_dir/{s}")).collect();
    assert_eq!(events, expected);

    // P1, P2 and P3 and the session types.
    let args: Vec<String> = entries(section(&all, "Arguments"))
        .iter()
        .map(|e| e.tag.clone())
        .collect();
    let mut expected_args = vec!["P1".to_owned(), "P2".to_owned(), "P3".to_owned()];
    expected_args.extend(SESSION_TYPES.iter().map(|s| (*s).to_owned()));
    expected_args.push("number".to_owned());
    assert_eq!(args, expected_args);

    // Every variable, with the events it is set for.
    let env = entries(section(&all, "Environment"));
    let documented: BTreeSet<&str> = env
        .iter()
        .flat_map(|e| e.tag.split(" or "))
        .map(str::trim)
        .collect();
    assert_eq!(
        documented,
        set(ENVIRONMENT.iter().map(|(v, _)| *v)),
        "the variables of l2tpd.8 Environment"
    );
    for (var, events) in ENVIRONMENT {
        let entry = env
            .iter()
            .find(|e| e.tag.split(" or ").any(|t| t.trim() == *var))
            .unwrap();
        assert!(
            entry.body.contains(events),
            "l2tpd.8: {var} must say `{events}`: {}",
            entry.body
        );
    }

    let text = rendered_text(&page("l2tpd.8"));
    assert!(text.contains("default /etc/l2tpd"));

    if let Some(contract) = contract_section("User scripts") {
        let spans = code_spans(&contract);
        let scripts: BTreeSet<&str> = spans
            .iter()
            .copied()
            .filter(|s| s.starts_with("tunnel-") || s.starts_with("session-"))
            .collect();
        // The contract's eight; the PPP scripts are this project's own.
        let eight = SCRIPTS.iter().copied().filter(|s| !s.starts_with("ppp-"));
        assert_eq!(scripts, set(eight));
        let upper: BTreeSet<&str> = spans
            .iter()
            .copied()
            .filter(|s| s.chars().all(|c| c.is_ascii_uppercase() || c == '_') && s.len() > 1)
            .collect();
        let mut expected = set(ENVIRONMENT.iter().map(|(v, _)| *v));
        expected.retain(|v| !MORE_ENVIRONMENT.contains(v));
        expected.extend(SESSION_TYPES.iter().copied());
        assert_eq!(upper, expected, "interface.md's script variables changed");
    }
}

/// The "Valid for ..." line of every variable in the ProL2TP manual that the contract points
/// to, where it is beside the repository.
#[test]
fn script_variable_events_are_prol2tpds() {
    let Some(manual) =
        std::fs::read_to_string(repo_root().join("../shared/spec/prol2tpd.8.txt")).ok()
    else {
        eprintln!("shared/spec/prol2tpd.8.txt is not beside the repository; skipped");
        return;
    };
    let mut current: Option<&str> = None;
    let mut found = 0;
    for line in manual.lines() {
        let trimmed = line.trim();
        if let Some((var, _)) = ENVIRONMENT
            .iter()
            .find(|(v, _)| line.starts_with(&format!("       {v}")))
        {
            current = Some(var);
        }
        let Some(rest) = trimmed.strip_prefix("Valid for ") else {
            continue;
        };
        let var = current.expect("a Valid for line follows a variable");
        let ours = match rest.trim_end_matches('.') {
            "all event types" => ALL_EVENTS,
            "all session events" => SESSION_EVENTS,
            "session up and down events" => UP_DOWN_EVENTS,
            other => panic!("prol2tpd.8.txt: unknown event set `{other}` for {var}"),
        };
        let (_, expected) = ENVIRONMENT.iter().find(|(v, _)| *v == var).unwrap();
        assert_eq!(*expected, ours, "the events of {var}");
        found += 1;
    }
    assert_eq!(
        found, 11,
        "prol2tpd.8.txt states the events of 11 variables"
    );
}

#[test]
fn l2tpctl_commands_are_the_contracts() {
    let all = sections(&read("man/l2tpctl.1"));
    let tags: Vec<String> = entries(section(&all, "COMMANDS"))
        .iter()
        .map(|e| collapse_ws(&e.tag))
        .collect();
    assert_eq!(tags, L2TPCTL_COMMANDS);

    let text = rendered_text(&page("l2tpctl.1"));
    assert!(
        text.contains("SYNOPSIS l2tpctl [-S socket] [-j|--json] command [argument...]"),
        "l2tpctl.1 SYNOPSIS"
    );
    let socket = System::default().control_socket.display().to_string();
    assert!(text.contains(&socket), "l2tpctl.1 names {socket}");

    if let Some(contract) = contract_section("l2tpctl") {
        let spans = code_spans(&contract);
        assert!(spans.contains(&"l2tpctl [-S socket] [-j|--json] COMMAND"));
        // The literal words of each command of the contract's list, alternatives expanded.
        let mut phrases: Vec<String> = Vec::new();
        let (commands, _) = contract
            .split_once("With `--json`")
            .expect("interface.md describes --json");
        for span in code_spans(commands).into_iter().filter(|s| {
            s.split_whitespace()
                .next()
                .is_some_and(|w| ["show", "create", "delete", "reload", "debug"].contains(&w))
        }) {
            let mut words: Vec<Vec<String>> = vec![Vec::new()];
            for word in span.split_whitespace() {
                if word == "…" && words.iter().all(|w| w == &["show"]) {
                    words = ["peer", "tunnel", "session", "pseudowire"]
                        .iter()
                        .map(|k| vec!["show".to_owned(), (*k).to_owned()])
                        .collect();
                    continue;
                }
                if !word.chars().all(|c| c.is_ascii_lowercase() || c == '|') {
                    break;
                }
                words = words
                    .iter()
                    .flat_map(|w| {
                        word.split('|').map(move |alt| {
                            let mut w = w.clone();
                            w.push(alt.to_owned());
                            w
                        })
                    })
                    .collect();
            }
            phrases.extend(words.iter().map(|w| w.join(" ")));
        }
        assert!(
            phrases.len() >= 20,
            "commands found in interface.md: {phrases:?}"
        );
        for phrase in &phrases {
            assert!(
                tags.iter().any(|t| t.starts_with(phrase.as_str())),
                "interface.md's command `{phrase}` has no entry in l2tpctl.1 COMMANDS"
            );
        }
    }
}

#[test]
fn l2tpctl_json_fields_are_the_contracts() {
    let all = sections(&read("man/l2tpctl.1"));
    let json = section(&all, "JSON OUTPUT");
    let tags: Vec<String> = entries(json)
        .iter()
        .map(|e| tag_word(&e.tag).to_owned())
        .collect();
    // The fields of the original contract, and those the man page has added since.
    let mut expected: Vec<&str> = TUNNEL_FIELDS.to_vec();
    expected.extend(MORE_TUNNEL_FIELDS);
    expected.extend(SESSION_FIELDS);
    expected.extend(MORE_SESSION_FIELDS);
    assert_eq!(
        tags, expected,
        "the fields of l2tpctl.1 JSON OUTPUT, tunnels then sessions"
    );

    let text = collapse_ws(
        &json
            .lines
            .iter()
            .map(|l| l2tp_docs_check::roff_line_text(l))
            .collect::<Vec<_>>()
            .join(" "),
    );
    for value in JSON_VALUES {
        assert!(
            text.contains(&format!("\"{value}\"")),
            "l2tpctl.1 JSON OUTPUT does not name the value \"{value}\""
        );
    }

    if let Some(contract) = contract_section("l2tpctl") {
        let (_, json_part) = contract
            .split_once("With `--json`")
            .expect("interface.md describes --json");
        let fields: BTreeSet<&str> = code_spans(json_part)
            .into_iter()
            .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        let mut ours = set(TUNNEL_FIELDS.iter().copied());
        ours.extend(SESSION_FIELDS);
        assert_eq!(fields, ours, "interface.md's JSON fields changed");
        let values: BTreeSet<&str> = json_part
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        assert_eq!(values, set(JSON_VALUES.iter().copied()));
    }
}

/// The options of `l2tpwatch(1)`, as the interface gives them, plus help and version.
const L2TPWATCH_OPTIONS: &[&str] = &[
    "-S",
    "-n",
    "-T",
    "-t",
    "-s",
    "-P",
    "-v",
    "-p",
    "-c",
    "-h",
    "--help",
    "-V",
    "--version",
];

#[test]
fn l2tpwatch_options_and_lines_are_the_contracts() {
    let all = sections(&read("man/l2tpwatch.1"));
    let documented: BTreeSet<String> = entries(section(&all, "OPTIONS"))
        .iter()
        .flat_map(|e| {
            e.tag
                .split([',', ' '])
                .filter(|w| w.starts_with('-'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let documented: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
    assert_eq!(documented, set(L2TPWATCH_OPTIONS.iter().copied()));

    // One OUTPUT entry per event, whose fields are the interface's, in its order.
    let output = entries(section(&all, "OUTPUT"));
    let Some(contract) = contract_section("l2tpwatch") else {
        return;
    };
    let lines: Vec<&str> = contract
        .lines()
        .filter(|l| l.starts_with("TUNNEL ") || l.starts_with("SESSION "))
        .collect();
    assert_eq!(lines.len(), 8, "interface.md's l2tpwatch lines");
    // The contract's eight; PPP UP and PPP DOWN are this project's own.
    let tags: Vec<&str> = output
        .iter()
        .map(|e| e.tag.as_str())
        .filter(|t| !t.starts_with("PPP "))
        .collect();
    let labels: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(':').map(|(label, _)| label))
        .collect();
    assert_eq!(tags, labels, "the events of l2tpwatch.1 OUTPUT");
    for (line, entry) in lines
        .iter()
        .zip(output.iter().filter(|e| !e.tag.starts_with("PPP ")))
    {
        let fields: Vec<&str> = line
            .split_whitespace()
            .filter_map(|w| w.split_once('=').map(|(k, _)| k))
            .collect();
        let body: Vec<&str> = entry
            .body
            .split_whitespace()
            .filter_map(|w| w.split_once('=').map(|(k, _)| k))
            .collect();
        assert_eq!(body, fields, "l2tpwatch.1 OUTPUT {}", entry.tag);
    }
    for option in ["-S", "-n", "-T", "-t", "-s", "-v", "-p", "-c"] {
        assert!(
            contract.contains(&format!("[{option}")),
            "interface.md's l2tpwatch synopsis lacks {option}"
        );
    }
}

/// The script examples of l2tpd(8) USER SCRIPTS run as written: `session-up` and `ppp-up` with
/// a `logger` that records its arguments, the second with a user name a hostile peer could
/// choose (a line break, an escape sequence, bytes that are not UTF-8), which must reach the
/// log as one line with nothing but printable text.
#[test]
fn the_script_examples_run_and_log_a_hostile_user_on_one_line() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;

    let all = sections(&read("man/l2tpd.8"));
    let start = all.iter().position(|s| s.title == "USER SCRIPTS").unwrap();
    let examples: Vec<String> = all[start..]
        .iter()
        .take_while(|s| s.sub || s.title == "USER SCRIPTS")
        .flat_map(|s| l2tp_docs_check::examples(&s.lines))
        .collect();
    let script = |event: &str| {
        examples
            .iter()
            .find(|e| {
                e.lines()
                    .nth(1)
                    .is_some_and(|l| l.starts_with(&format!("# {event} ")))
            })
            .unwrap_or_else(|| panic!("no {event} example in l2tpd(8) USER SCRIPTS"))
            .clone()
    };
    let dir = std::env::temp_dir().join(format!("l2tp-docs-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let logged = dir.join("logged");
    let logger = dir.join("logger");
    std::fs::write(&logger, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$LOGGED\"\n").unwrap();
    std::fs::set_permissions(&logger, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |event: &str, args: &[&str], env: &[(&str, &OsStr)]| {
        let _ = std::fs::remove_file(&logged);
        let file = dir.join(event);
        std::fs::write(&file, script(event)).unwrap();
        let out = std::process::Command::new("sh")
            .arg(&file)
            .args(args)
            .envs(env.iter().copied())
            .env("PATH", &path)
            .env("LOGGED", &logged)
            .output()
            .unwrap();
        assert!(out.status.success(), "{event}: {out:?}");
        std::fs::read(&logged).unwrap_or_default()
    };
    let log = run(
        "session-up",
        &["1", "2", "PPP"],
        &[("INTERFACE_NAME", OsStr::new("ppp0"))],
    );
    assert_eq!(log, b"-t l2tpd-script session 1/2 (PPP) up on ppp0\n");
    let user = OsStr::from_bytes(b"evil\nl2tpd: tunnel up\x1b[31m\xff");
    let log = run(
        "ppp-up",
        &["1", "2", "PPP"],
        &[
            ("PPP_USER", user),
            ("PPP_IPADDR", OsStr::new("203.0.113.10")),
            ("PPP_AUTH_METHOD", OsStr::new("chap")),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&log),
        "-t l2tpd-script evil?l2tpd: tunnel up?[31m? online at 203.0.113.10 (chap)\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
