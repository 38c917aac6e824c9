//! The command words of `l2tpctl` and the requests they make.
//!
//! Where a keyword and a name could both fit (`show tunnel profiles` and a tunnel named
//! `profiles`), the keyword wins; such a tunnel is still reachable by its id.

use l2tp_config::{SessionInstanceParams, SessionParams, TunnelInstanceParams, TunnelParams};
use l2tp_ctl::{
    DebugTarget, ListOptions, Params, PppSelector, ProfileKind, Request, Response, Selector, State,
};

/// The command summary printed by `--help` and after a usage error.
pub(crate) const COMMANDS: &str = "\
Commands:
  show system
  show tunnels [state STATE] [limit N]
  show tunnel ID|NAME
  show sessions [TUNNEL] [state STATE] [limit N]
  show session TUNNEL ID|NAME
  show peer|tunnel|session|pseudowire|ppp profiles
  show peer|tunnel|session|pseudowire|ppp profile NAME
  show ip pools
  show ip pool NAME
  show radius
  create tunnel NAME [key=value ...]
  delete tunnel ID|NAME
  create session TUNNEL NAME [key=value ...]
  delete session TUNNEL ID|NAME
  reload
  debug tunnel ID|NAME on|off
  debug session TUNNEL ID|NAME on|off
  disconnect user NAME
  disconnect address ADDRESS
  request speeds TUNNEL [ID|NAME]

A tunnel or session is given by its local id (digits) or its name.
STATE is idle, connecting, up or closing.";

/// The request that `words` ask for, or a usage message.
pub(crate) fn parse(words: &[String]) -> Result<Request, String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    // Options after the command would be taken for its arguments.
    if let Some(opt) = w.iter().skip(1).find(|x| OPTIONS.contains(x)) {
        return Err(format!(
            "`{opt}` is an option: give it before the command (l2tpctl [-S socket] \
             [-j|--json] COMMAND)"
        ));
    }
    match w.as_slice() {
        [] => Err("no command given".into()),
        ["show", rest @ ..] => show(rest),
        ["create", "tunnel", name, params @ ..] => Ok(Request::CreateTunnel {
            name: new_name(name, Kind::Tunnel)?,
            params: key_values(params, Kind::Tunnel)?,
        }),
        ["create", "session", tunnel, name, params @ ..] => Ok(Request::CreateSession {
            tunnel: Selector::parse(tunnel),
            name: new_name(name, Kind::Session)?,
            params: key_values(params, Kind::Session)?,
        }),
        ["delete", "tunnel", t] => Ok(Request::DeleteTunnel {
            tunnel: Selector::parse(t),
        }),
        ["delete", "session", t, s] => Ok(Request::DeleteSession {
            tunnel: Selector::parse(t),
            session: Selector::parse(s),
        }),
        ["reload"] => Ok(Request::Reload),
        ["disconnect", "user", u] => Ok(Request::Disconnect {
            who: PppSelector::User((*u).to_owned()),
        }),
        ["disconnect", "address", a] => Ok(Request::Disconnect {
            who: PppSelector::Address(
                a.parse()
                    .map_err(|_| format!("`{a}` is not an IPv4 address"))?,
            ),
        }),
        ["request", "speeds", t] => Ok(Request::RequestSpeeds {
            tunnel: Selector::parse(t),
            session: None,
        }),
        ["request", "speeds", t, s] => Ok(Request::RequestSpeeds {
            tunnel: Selector::parse(t),
            session: Some(Selector::parse(s)),
        }),
        ["debug", "tunnel", t, on] => Ok(Request::Debug {
            target: DebugTarget::Tunnel {
                tunnel: Selector::parse(t),
            },
            enable: on_off(on)?,
        }),
        ["debug", "session", t, s, on] => Ok(Request::Debug {
            target: DebugTarget::Session {
                tunnel: Selector::parse(t),
                session: Selector::parse(s),
            },
            enable: on_off(on)?,
        }),
        [first, ..] if first.starts_with('-') => Err(format!(
            "unknown option `{first}`: the options are -S socket, -j or --json, -h or --help \
             and -V or --version, before the command"
        )),
        _ => Err(wrong_arguments(&w)),
    }
}

/// Whether `response` is an answer of the kind `request` asks for (a page of it, for a
/// listing). `create session` prints the session, or a message while its call waits for its
/// tunnel (l2tpctl(1), JSON OUTPUT).
pub(crate) fn answers(request: &Request, response: &Response) -> bool {
    use Request as Q;
    use Response as A;
    matches!(
        (request, response),
        (Q::ShowSystem, A::System(_))
            | (Q::ShowTunnels { .. }, A::Tunnels(_))
            | (Q::ShowTunnel { .. } | Q::CreateTunnel { .. }, A::Tunnel(_))
            | (Q::ShowSessions { .. }, A::Sessions(_))
            | (
                Q::ShowSession { .. } | Q::CreateSession { .. },
                A::Session(_)
            )
            | (Q::ShowProfiles { .. }, A::Profiles(_))
            | (Q::ShowProfile { .. }, A::Profile(_))
            | (Q::ShowIpPools, A::IpPools(_))
            | (Q::ShowIpPool { .. }, A::IpPool(_))
            | (Q::ShowRadius, A::Radius(_))
            | (Q::Reload, A::Reloaded(_))
            | (
                Q::CreateSession { .. }
                    | Q::DeleteTunnel { .. }
                    | Q::DeleteSession { .. }
                    | Q::Debug { .. }
                    | Q::Disconnect { .. }
                    | Q::RequestSpeeds { .. },
                A::Done(_)
            )
            | (Q::Watch, A::Watching)
    )
}

/// The options of `l2tpctl`, which go before the command.
const OPTIONS: [&str; 7] = ["-S", "-j", "--json", "-h", "--help", "-V", "--version"];

/// The usage message for `words`, which no command fits: the syntax of the commands that fit
/// them best (those whose keywords the most leading words match), or `unknown command`.
fn wrong_arguments(words: &[&str]) -> String {
    let lines = COMMANDS
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '));
    let mut best: Vec<&str> = Vec::new();
    let mut best_score = 0;
    for line in lines {
        let score = words
            .iter()
            .zip(line.split(' '))
            .take_while(|(word, token)| fits(word, token))
            .count();
        if score > best_score {
            best_score = score;
            best.clear();
        }
        if score == best_score && score > 0 {
            best.push(line);
        }
    }
    let given = words.join(" ");
    match best.as_slice() {
        [] => format!("unknown command `{}`", words.first().copied().unwrap_or("")),
        [one] => format!("wrong arguments for `{given}`: expected `{one}`"),
        many => {
            let mut msg = format!("wrong arguments for `{given}`: expected one of");
            for line in many {
                msg.push_str("\n  ");
                msg.push_str(line);
            }
            msg
        }
    }
}

/// Whether `word` may stand where the summary has `token`: one of a keyword's spellings
/// (`on|off`), or anything for a placeholder (`ID|NAME`, `[key=value`).
fn fits(word: &str, token: &str) -> bool {
    let placeholder = token.starts_with('[') || token.chars().any(|c| c.is_ascii_uppercase());
    placeholder || token.split('|').any(|t| t == word)
}

fn show(w: &[&str]) -> Result<Request, String> {
    let kind = w.first().and_then(|k| ProfileKind::from_word(k));
    match (kind, w) {
        (Some(kind), [_, "profiles"]) => Ok(Request::ShowProfiles { kind }),
        (Some(kind), [_, "profile", name]) => Ok(Request::ShowProfile {
            kind,
            name: (*name).to_owned(),
        }),
        (_, ["system"]) => Ok(Request::ShowSystem),
        (_, ["radius"]) => Ok(Request::ShowRadius),
        (_, ["ip", "pools"]) => Ok(Request::ShowIpPools),
        (_, ["ip", "pool", name]) => Ok(Request::ShowIpPool {
            name: (*name).to_owned(),
        }),
        (_, ["tunnels", rest @ ..]) => Ok(Request::ShowTunnels {
            list: list_options(rest)?,
        }),
        (_, ["tunnel", t]) => Ok(Request::ShowTunnel {
            tunnel: Selector::parse(t),
        }),
        (_, ["sessions", rest @ ..]) => {
            // A first word that is not a filter's keyword names the tunnel.
            let (tunnel, filters) = match rest.split_first() {
                Some((t, filters)) if !LIST_KEYWORDS.contains(t) => {
                    (Some(Selector::parse(t)), filters)
                }
                _ => (None, rest),
            };
            Ok(Request::ShowSessions {
                tunnel,
                list: list_options(filters)?,
            })
        }
        (_, ["session", t, s]) => Ok(Request::ShowSession {
            tunnel: Selector::parse(t),
            session: Selector::parse(s),
        }),
        _ => {
            let mut all = vec!["show"];
            all.extend_from_slice(w);
            Err(wrong_arguments(&all))
        }
    }
}

/// The keywords of the filters of `show tunnels` and `show sessions`.
const LIST_KEYWORDS: [&str; 2] = ["state", "limit"];

/// `state STATE` and `limit N`, each at most once, in any order.
fn list_options(words: &[&str]) -> Result<ListOptions, String> {
    let mut o = ListOptions::default();
    let mut rest = words;
    while let [key, value, tail @ ..] = rest {
        match *key {
            "state" if o.state.is_none() => {
                o.state = Some(match *value {
                    "idle" => State::Idle,
                    "connecting" => State::Connecting,
                    "up" => State::Up,
                    "closing" => State::Closing,
                    other => {
                        return Err(format!(
                            "unknown state `{other}`: expected idle, connecting, up or closing"
                        ));
                    }
                });
            }
            "limit" if o.limit.is_none() => {
                o.limit = Some(value.parse().map_err(|_| {
                    format!("limit `{value}`: expected a number of at most 4294967295")
                })?);
            }
            "state" | "limit" => return Err(format!("`{key}` given twice")),
            other => return Err(format!("unknown filter `{other}`: expected state or limit")),
        }
        rest = tail;
    }
    match rest {
        [] => Ok(o),
        [word] if LIST_KEYWORDS.contains(word) => Err(format!("`{word}` needs a value")),
        [other] => Err(format!("unknown filter `{other}`: expected state or limit")),
        _ => Err(format!("wrong filters `{}`", words.join(" "))),
    }
}

fn on_off(word: &str) -> Result<bool, String> {
    match word {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("expected `on` or `off`, found `{other}`")),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Tunnel,
    Session,
}

/// The NAME of `create tunnel` or `create session`: not a `key=value` of a parameter of its
/// block, which is a forgotten NAME rather than a name (`create session lns
/// pseudowire_type=eth` would otherwise make a PPP session named `pseudowire_type=eth`).
fn new_name(word: &str, kind: Kind) -> Result<String, String> {
    let (what, keys) = kind.keys();
    match word.split_once('=') {
        Some((key, _)) if keys.contains(&key) => Err(format!(
            "`{word}` is a parameter, not the name of the new {what}: expected `{}`",
            match kind {
                Kind::Tunnel => "create tunnel NAME [key=value ...]",
                Kind::Session => "create session TUNNEL NAME [key=value ...]",
            }
        )),
        _ => Ok(word.to_owned()),
    }
}

impl Kind {
    /// The block's word, and the keys `create` takes for it.
    fn keys(self) -> (&'static str, Vec<&'static str>) {
        match self {
            Kind::Tunnel => (
                "tunnel",
                TunnelParams::KEYS
                    .iter()
                    .chain(TunnelInstanceParams::KEYS)
                    .copied()
                    .collect(),
            ),
            // The parent tunnel is a separate argument, not a parameter.
            Kind::Session => (
                "session",
                SessionParams::KEYS
                    .iter()
                    .chain(SessionInstanceParams::KEYS)
                    .copied()
                    .filter(|k| *k != "tunnel")
                    .collect(),
            ),
        }
    }
}

/// `key=value` words, checked against the parameters of a `tunnel` or `session` block.
fn key_values(words: &[&str], kind: Kind) -> Result<Params, String> {
    let (what, keys) = kind.keys();
    // Every problem, not only the first (l2tpctl(1), create tunnel).
    let mut problems = Vec::new();
    let mut params = Params::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            problems.push(format!("expected key=value, found `{w}`"));
            continue;
        };
        if !keys.contains(&k) {
            problems.push(format!("`{k}` is not a parameter of a {what} block"));
        } else if params.get(k).is_some() {
            problems.push(format!("`{k}` is given twice"));
        } else {
            params.push(k, v.to_owned());
        }
    }
    if matches!(kind, Kind::Tunnel) && params.get("peer").is_none() {
        problems.push("create tunnel needs peer=ADDRESS".into());
    }
    if problems.is_empty() {
        Ok(params)
    } else {
        Err(problems.join("\n  "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Request, String> {
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&words)
    }

    #[test]
    fn listings_take_filters() {
        let list = |state, limit| ListOptions {
            state,
            limit,
            stream: false,
        };
        assert_eq!(
            p("show tunnels state up limit 10"),
            Ok(Request::ShowTunnels {
                list: list(Some(State::Up), Some(10))
            })
        );
        assert_eq!(
            p("show sessions lns limit 5 state connecting"),
            Ok(Request::ShowSessions {
                tunnel: Some(Selector::Name("lns".into())),
                list: list(Some(State::Connecting), Some(5))
            })
        );
        assert_eq!(
            p("show sessions state closing"),
            Ok(Request::ShowSessions {
                tunnel: None,
                list: list(Some(State::Closing), None)
            })
        );
        for bad in [
            "show tunnels state sleepy",
            "show tunnels limit -1",
            "show tunnels limit",
            "show sessions lns state up state up",
            "show sessions lns colour blue",
            "show sessions a b",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_command_of_the_interface_parses() {
        let name = |s: &str| Selector::Name(s.into());
        let cases = [
            ("show system", Request::ShowSystem),
            ("show tunnels", Request::show_tunnels()),
            (
                "show tunnel 12",
                Request::ShowTunnel {
                    tunnel: Selector::Id(12),
                },
            ),
            (
                "show tunnel lns",
                Request::ShowTunnel {
                    tunnel: name("lns"),
                },
            ),
            ("show sessions", Request::show_sessions(None)),
            (
                "show sessions lns",
                Request::show_sessions(Some(name("lns"))),
            ),
            (
                "show session lns 7",
                Request::ShowSession {
                    tunnel: name("lns"),
                    session: Selector::Id(7),
                },
            ),
            ("reload", Request::Reload),
            (
                "disconnect user alice",
                Request::Disconnect {
                    who: PppSelector::User("alice".into()),
                },
            ),
            (
                "disconnect address 198.51.100.10",
                Request::Disconnect {
                    who: PppSelector::Address([198, 51, 100, 10].into()),
                },
            ),
            (
                "request speeds lns",
                Request::RequestSpeeds {
                    tunnel: name("lns"),
                    session: None,
                },
            ),
            (
                "request speeds 3 7",
                Request::RequestSpeeds {
                    tunnel: Selector::Id(3),
                    session: Some(Selector::Id(7)),
                },
            ),
            (
                "delete tunnel lns",
                Request::DeleteTunnel {
                    tunnel: name("lns"),
                },
            ),
            (
                "delete session 1 s",
                Request::DeleteSession {
                    tunnel: Selector::Id(1),
                    session: name("s"),
                },
            ),
            (
                "debug tunnel 5 on",
                Request::Debug {
                    target: DebugTarget::Tunnel {
                        tunnel: Selector::Id(5),
                    },
                    enable: true,
                },
            ),
            (
                "debug session 5 6 off",
                Request::Debug {
                    target: DebugTarget::Session {
                        tunnel: Selector::Id(5),
                        session: Selector::Id(6),
                    },
                    enable: false,
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(p(line), Ok(want), "{line}");
        }
        assert_eq!(p("show ip pools"), Ok(Request::ShowIpPools));
        assert_eq!(p("show radius"), Ok(Request::ShowRadius));
        assert!(p("show radius servers").is_err());
        assert_eq!(
            p("show ip pool customers"),
            Ok(Request::ShowIpPool {
                name: "customers".into()
            })
        );
        assert!(p("show ip pool").is_err());
        for kind in ProfileKind::ALL {
            assert_eq!(
                p(&format!("show {kind} profiles")),
                Ok(Request::ShowProfiles { kind })
            );
            assert_eq!(
                p(&format!("show {kind} profile x")),
                Ok(Request::ShowProfile {
                    kind,
                    name: "x".into()
                })
            );
        }
    }

    #[test]
    fn create_checks_its_parameters() {
        let r = p("create tunnel t1 peer=192.0.2.1 profile=branch secret=x");
        let Ok(Request::CreateTunnel { name, params }) = r else {
            panic!("{r:?}");
        };
        assert_eq!(name, "t1");
        assert_eq!(params.len(), 3);
        assert!(p("create tunnel t1 profile=branch").is_err_and(|e| e.contains("peer")));
        assert!(p("create tunnel t1 peer=a colour=red").is_err_and(|e| e.contains("colour")));
        assert!(p("create tunnel t1 peer").is_err_and(|e| e.contains("key=value")));
        assert!(p("create tunnel t1 peer=a peer=b").is_err_and(|e| e.contains("twice")));
        let r = p("create session t1 s1 pseudowire_type=eth session_id=5");
        assert!(matches!(r, Ok(Request::CreateSession { .. })), "{r:?}");
        assert!(p("create session t1 s1 tunnel=x").is_err());
        // A forgotten name.
        assert!(
            p("create session t1 pseudowire_type=eth")
                .is_err_and(|e| e.contains("is a parameter, not the name of the new session"))
        );
        assert!(
            p("create tunnel peer=192.0.2.1")
                .is_err_and(|e| e.contains("is a parameter, not the name of the new tunnel"))
        );
        assert!(matches!(
            p("create tunnel x=y peer=192.0.2.1"),
            Ok(Request::CreateTunnel { .. })
        ));
        // Every problem at once.
        assert_eq!(
            p("create tunnel t1 colour=red peer=a peer=b mtu"),
            Err(
                "`colour` is not a parameter of a tunnel block\n  `peer` is given twice\n  \
                 expected key=value, found `mtu`"
                    .into()
            )
        );
    }

    #[test]
    fn bad_commands_say_what_is_wrong() {
        assert!(p("").is_err_and(|e| e.contains("no command")));
        assert!(p("frobnicate").is_err_and(|e| e.contains("unknown command")));
        assert!(p("show").is_err_and(|e| e.contains("show system") && e.contains("show radius")));
        assert!(p("show tunnel").is_err());
        assert!(p("debug tunnel 5 maybe").is_err_and(|e| e.contains("on")));
        assert!(p("reload now").is_err_and(|e| e.contains("wrong arguments")));
        assert!(p("--bogus").is_err_and(|e| e.contains("unknown option `--bogus`")));
        assert!(p("show tunnels --json").is_err_and(|e| e.starts_with(
            "`--json` is an option: give it before the command (l2tpctl [-S socket]"
        )));
        assert!(p("show system -S /run/x.sock").is_err_and(|e| e.starts_with("`-S` is an")));
    }

    #[test]
    fn wrong_arguments_name_the_expected_syntax() {
        for (line, want) in [
            ("show session 1", "expected `show session TUNNEL ID|NAME`"),
            ("show tunnel 1 2", "expected `show tunnel ID|NAME`"),
            ("show tunnel", "\n  show tunnel ID|NAME\n"),
            (
                "request speeds",
                "expected `request speeds TUNNEL [ID|NAME]`",
            ),
            ("request", "expected `request speeds TUNNEL [ID|NAME]`"),
            (
                "create session t1",
                "expected `create session TUNNEL NAME [key=value ...]`",
            ),
            ("debug tunnel 1", "expected `debug tunnel ID|NAME on|off`"),
            ("reload now", "expected `reload`"),
            ("show radius servers", "expected `show radius`"),
            ("show ip", "show ip pools\n  show ip pool NAME"),
        ] {
            let e = p(line).err().unwrap_or_default();
            assert!(
                e.starts_with(&format!("wrong arguments for `{line}`")) && e.contains(want),
                "{line}: {e}"
            );
        }
        assert!(p("show tunnels extra").is_err_and(|e| e.contains("unknown filter `extra`")));
        assert!(p("show tunnels limit").is_err_and(|e| e.contains("`limit` needs a value")));
        assert!(p("frobnicate now").is_err_and(|e| e == "unknown command `frobnicate`"));
    }
}
