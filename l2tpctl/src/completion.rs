//! The command words of `l2tpctl` as a clap command tree, for shell completion only.
//!
//! `l2tpctl` parses its command words itself ([`crate::command`]): a keyword and a name can
//! share a place (`show tunnel profiles`, `show tunnel lns`), which clap's subcommands do not
//! express. This tree says the same for `clap_complete`: the options come from [`crate::Args`]
//! itself, and the tests hold the tree to the parser and to the command summary both ways, and
//! the files in `dist/completions/` to the tree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::{Arg, ArgAction, Command, CommandFactory};

use crate::Args;

/// The tree: `l2tpctl`'s options and its command words as subcommands.
pub(crate) fn grammar() -> Command {
    let args = Args::command();
    let mut top = Command::new("l2tpctl")
        .version(env!("CARGO_PKG_VERSION"))
        .about(args.get_about().cloned().unwrap_or_default())
        .disable_help_subcommand(true)
        .subcommand_required(true);
    for arg in args.get_arguments().filter(|a| a.get_id() != "command") {
        top = top.arg(arg.clone());
    }
    top.subcommand(show())
        .subcommand(
            Command::new("create")
                .about("Create a tunnel or a session")
                .subcommand_required(true)
                .subcommand(
                    Command::new("tunnel")
                        .about("Create a tunnel instance")
                        .arg(name("name", "NAME"))
                        .arg(key_values()),
                )
                .subcommand(
                    Command::new("session")
                        .about("Create a session instance in a tunnel")
                        .arg(name("tunnel", "TUNNEL"))
                        .arg(name("name", "NAME"))
                        .arg(key_values()),
                ),
        )
        .subcommand(
            Command::new("delete")
                .about("Delete a tunnel or a session")
                .subcommand_required(true)
                .subcommand(Command::new("tunnel").arg(name("tunnel", "ID|NAME")))
                .subcommand(
                    Command::new("session")
                        .arg(name("tunnel", "TUNNEL"))
                        .arg(name("session", "ID|NAME")),
                ),
        )
        .subcommand(Command::new("reload").about("Re-read the config file"))
        .subcommand(
            Command::new("disconnect")
                .about("End the native-PPP sessions of a user, or the one holding an address")
                .subcommand_required(true)
                .subcommand(Command::new("user").arg(name("user", "NAME")))
                .subcommand(Command::new("address").arg(name("address", "ADDRESS"))),
        )
        .subcommand(
            Command::new("request")
                .about("Ask the LAC for something (RFC 5515 connect speeds)")
                .subcommand_required(true)
                .subcommand(
                    Command::new("speeds")
                        .about("Send a CSURQ for a session, or all enabled sessions of a tunnel")
                        .arg(name("tunnel", "TUNNEL"))
                        .arg(name("session", "ID|NAME").required(false)),
                ),
        )
        .subcommand(
            Command::new("debug")
                .about("Switch protocol tracing of a tunnel or session on or off")
                .subcommand_required(true)
                .subcommand(
                    Command::new("tunnel")
                        .arg(name("tunnel", "ID|NAME"))
                        .arg(on_off()),
                )
                .subcommand(
                    Command::new("session")
                        .arg(name("tunnel", "TUNNEL"))
                        .arg(name("session", "ID|NAME"))
                        .arg(on_off()),
                ),
        )
}

fn show() -> Command {
    let with_profiles = |cmd: Command, kind: &str| {
        cmd.subcommand(Command::new("profiles").about(format!("List the {kind} profiles")))
            .subcommand(
                Command::new("profile")
                    .about(format!("Show a {kind} profile"))
                    .arg(name("name", "NAME")),
            )
    };
    Command::new("show")
        .about("Show the daemon, tunnels, sessions, profiles, address pools or RADIUS")
        .subcommand_required(true)
        .subcommand(Command::new("system").about("The daemon and its counters"))
        .subcommand(
            Command::new("tunnels")
                .about("Every tunnel, or those in a state, up to a limit")
                .arg(filters("[state STATE] [limit N]")),
        )
        .subcommand(with_profiles(
            Command::new("tunnel")
                .about("One tunnel, or the tunnel profiles")
                .arg(name("tunnel", "ID|NAME"))
                .args_conflicts_with_subcommands(true),
            "tunnel",
        ))
        .subcommand(
            Command::new("sessions")
                .about("Every session, or those of one tunnel, in a state, up to a limit")
                .arg(filters("[TUNNEL] [state STATE] [limit N]")),
        )
        .subcommand(with_profiles(
            Command::new("session")
                .about("One session, or the session profiles")
                .arg(name("tunnel", "TUNNEL"))
                .arg(name("session", "ID|NAME"))
                .args_conflicts_with_subcommands(true),
            "session",
        ))
        .subcommand(with_profiles(
            Command::new("peer")
                .about("The peer profiles")
                .subcommand_required(true),
            "peer",
        ))
        .subcommand(with_profiles(
            Command::new("pseudowire")
                .about("The pseudowire profiles")
                .subcommand_required(true),
            "pseudowire",
        ))
        .subcommand(with_profiles(
            Command::new("ppp")
                .about("The PPP profiles")
                .subcommand_required(true),
            "PPP",
        ))
        .subcommand(
            Command::new("ip")
                .about("The address pools")
                .subcommand_required(true)
                .subcommand(Command::new("pools").about("List the address pools"))
                .subcommand(
                    Command::new("pool")
                        .about("Show an address pool")
                        .arg(name("name", "NAME")),
                ),
        )
        .subcommand(
            Command::new("radius")
                .about("The RADIUS servers, their state and counters, and dynamic authorization"),
        )
}

fn name(id: &'static str, value_name: &'static str) -> Arg {
    Arg::new(id).value_name(value_name).required(true)
}

/// The optional words of a listing: its tunnel and its filters (`state STATE`, `limit N`).
fn filters(value_name: &'static str) -> Arg {
    Arg::new("filters")
        .value_name(value_name)
        .num_args(0..)
        .action(ArgAction::Append)
}

fn key_values() -> Arg {
    Arg::new("params")
        .value_name("KEY=VALUE")
        .num_args(0..)
        .action(ArgAction::Append)
}

fn on_off() -> Arg {
    Arg::new("enable")
        .value_name("on|off")
        .value_parser(["on", "off"])
        .required(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::completion_files;

    /// A value for a place of the tree.
    fn sample(arg: &Arg) -> String {
        if let Some(v) = arg.get_possible_values().first() {
            return v.get_name().to_owned();
        }
        let names = arg
            .get_value_names()
            .map(|n| n.join(" "))
            .unwrap_or_default();
        if names.contains("ID") {
            "7".into()
        } else if names.contains("ADDRESS") {
            "198.51.100.10".into()
        } else {
            "lns".into()
        }
    }

    /// Every command line the tree allows, one per leaf, with sample values.
    fn leaves(cmd: &Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let positionals: Vec<&Arg> = cmd.get_positionals().collect();
        if !positionals.is_empty() || !cmd.has_subcommands() {
            let mut line = prefix.to_vec();
            for a in positionals {
                if a.is_required_set() {
                    line.push(sample(a));
                }
            }
            if line.first().map(String::as_str) == Some("create")
                && line.get(1).map(String::as_str) == Some("tunnel")
            {
                line.push("peer=192.0.2.1".into());
            }
            out.push(line);
        }
        for sub in cmd.get_subcommands() {
            let mut p = prefix.to_vec();
            p.push(sub.get_name().to_owned());
            leaves(sub, &p, out);
        }
    }

    /// The command lines of the summary that `--help` prints, alternatives expanded and
    /// placeholders filled in.
    fn summary_lines() -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for line in crate::command::COMMANDS
            .lines()
            .skip_while(|l| *l != "Commands:")
            .skip(1)
            .take_while(|l| !l.is_empty())
        {
            let mut variants: Vec<Vec<String>> = vec![Vec::new()];
            let words: Vec<&str> = line.split_whitespace().collect();
            for w in &words {
                let choices: Vec<String> = match *w {
                    "[key=value" | "...]" | "[state" | "STATE]" | "[limit" | "N]" => continue,
                    "[TUNNEL]" => {
                        // With and without: two variants each.
                        let mut with: Vec<Vec<String>> = variants.clone();
                        for v in &mut with {
                            v.push("lns".into());
                        }
                        variants.extend(with);
                        continue;
                    }
                    w if w.contains("ADDRESS") => vec!["198.51.100.10".to_owned()],
                    w if w.chars().any(|c| c.is_ascii_uppercase()) => {
                        vec![if w.contains("ID") { "7" } else { "lns" }.to_owned()]
                    }
                    w => w.split('|').map(str::to_owned).collect(),
                };
                variants = variants
                    .iter()
                    .flat_map(|v| {
                        choices.iter().map(move |c| {
                            let mut v = v.clone();
                            v.push(c.clone());
                            v
                        })
                    })
                    .collect();
            }
            if words.starts_with(&["create", "tunnel"]) {
                for v in &mut variants {
                    v.push("peer=192.0.2.1".into());
                }
            }
            out.extend(variants);
        }
        out
    }

    #[test]
    fn the_completion_tree_is_consistent() {
        grammar().debug_assert();
    }

    #[test]
    fn every_command_the_tree_completes_is_one_l2tpctl_accepts() {
        let mut lines = Vec::new();
        leaves(&grammar(), &[], &mut lines);
        assert!(lines.len() >= 20, "{lines:?}");
        for line in &lines {
            assert!(
                crate::command::parse(line).is_ok(),
                "the completion tree offers `{}`, which l2tpctl refuses: {:?}",
                line.join(" "),
                crate::command::parse(line)
            );
        }
    }

    #[test]
    fn every_command_of_the_summary_is_in_the_tree() {
        let lines = summary_lines();
        assert!(lines.len() >= 20, "{lines:?}");
        for line in &lines {
            assert!(
                crate::command::parse(line).is_ok(),
                "the summary's `{}` does not parse",
                line.join(" ")
            );
            let argv = std::iter::once("l2tpctl".to_owned()).chain(line.iter().cloned());
            if let Err(e) = grammar().try_get_matches_from(argv) {
                panic!("the completion tree lacks `{}`: {e}", line.join(" "));
            }
        }
    }

    #[test]
    fn the_completion_files_are_the_trees() {
        completion_files::check(&grammar(), "l2tpctl");
    }

    /// Asks the bash completion function what it offers after `line` (whose last word is
    /// being completed).
    fn bash_complete(line: &str) -> Vec<String> {
        let script = completion_files::dir().join("l2tpctl.bash");
        let mut words: Vec<String> = line.split(' ').map(|w| format!("'{w}'")).collect();
        if line.ends_with(' ') {
            words.pop();
            words.push("''".into());
        }
        let cword = words.len() - 1;
        let program = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\n\
             COMP_POINT=${{#COMP_LINE}}\n_l2tpctl l2tpctl \"${{COMP_WORDS[COMP_CWORD]}}\" \
             \"${{COMP_WORDS[COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            script.display(),
            words.join(" ")
        );
        let out = std::process::Command::new("bash")
            .arg("--norc")
            .arg("-c")
            .arg(&program)
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        got.sort();
        got
    }

    #[test]
    fn bash_completes_the_command_words() {
        let has = |line: &str, want: &[&str]| {
            let got = bash_complete(line);
            for w in want {
                assert!(
                    got.iter().any(|g| g == w),
                    "`{line}` offers {got:?}, not {w}"
                );
            }
        };
        has(
            "l2tpctl ",
            &["show", "create", "delete", "reload", "debug", "disconnect"],
        );
        has("l2tpctl disconnect ", &["user", "address"]);
        has(
            "l2tpctl show ",
            &[
                "system",
                "tunnels",
                "tunnel",
                "sessions",
                "session",
                "peer",
                "pseudowire",
            ],
        );
        has("l2tpctl show peer ", &["profiles", "profile"]);
        has("l2tpctl debug tunnel 5 ", &["on", "off"]);
        has("l2tpctl -", &["-S", "--json"]);
        assert!(!bash_complete("l2tpctl show ").iter().any(|w| w == "help"));
    }
}
