//! Printing answers: text for people, JSON for programs (the shapes `l2tpctl(1)` documents).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use l2tp_ctl::{
    IpPoolInfo, OrderedMap, ProfileInfo, Response, SessionDetail, SessionInfo, Settings,
    SystemInfo, TunnelDetail, TunnelInfo, text as escape,
};
use serde_json::Value;

mod radius;

/// `response` as JSON: one value and a newline, or nothing for commands that only succeed.
pub(crate) fn json(response: &Response) -> String {
    use serde_json::to_string_pretty as pretty;
    let text = match response {
        Response::System(s) => pretty(s),
        Response::Tunnels(t) => pretty(t),
        Response::Tunnel(t) => pretty(t),
        Response::Sessions(s) => pretty(s),
        Response::Session(s) => pretty(s),
        Response::Profiles(p) => pretty(&p.iter().map(|p| &p.name).collect::<Vec<_>>()),
        Response::Profile(p) => pretty(&profile_json(p)),
        Response::IpPools(p) => pretty(p),
        Response::IpPool(p) => pretty(p),
        Response::Radius(r) => pretty(r),
        Response::Reloaded(r) => pretty(r),
        Response::Done(msg) => pretty(&done_json(msg)),
        _ => return String::new(),
    };
    match text {
        // The same JSON, with what a terminal would act on escaped.
        Ok(s) => escape::json_for_terminal(&s).into_owned() + "\n",
        Err(e) => format!("{{\"error\": \"cannot print the answer: {e}\"}}\n"),
    }
}

/// `{"ok": true, "message": ...}`, in the order l2tpctl(1) writes it.
fn done_json(message: &str) -> OrderedMap<Value> {
    let mut m = OrderedMap::new();
    m.push("ok", Value::Bool(true));
    m.push("message", Value::String(message.to_owned()));
    m
}

/// `{"name": ..., parameter: value, ...}`, parameters in config-file order.
fn profile_json(p: &ProfileInfo) -> OrderedMap<Value> {
    let mut m = OrderedMap::new();
    m.push("name", Value::String(p.name.clone()));
    for (k, v) in p.settings.iter() {
        m.push(k, serde_json::to_value(v).unwrap_or(Value::Null));
    }
    m
}

/// `NAME: N addresses (M in use), FIRST-LAST ...`.
fn ip_pool(p: &IpPoolInfo) -> String {
    let plural = if p.size == 1 { "" } else { "es" };
    format!(
        "{}: {} address{plural} ({} in use), {}\n",
        esc(&p.name),
        p.size,
        p.in_use,
        esc(&p.ranges.join(" "))
    )
}

/// `response` as text. Values that a peer, a RADIUS server or another client of the daemon
/// chose are escaped where they are written (`l2tp_ctl::text`, via [`esc`] and [`or_dash`]);
/// the whole text is made safe for a terminal at the end all the same.
pub(crate) fn text(response: &Response) -> String {
    terminal_safe(text_of(response))
}

/// `text` with every control character but the line break written as `\xNN`.
pub(crate) fn terminal_safe(text: String) -> String {
    if !text.contains(|c: char| c.is_control() && c != '\n') {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// A text value of the answer for one line: escaped, cut short when long.
fn esc(s: &str) -> String {
    escape::plain(s).to_string()
}

fn text_of(response: &Response) -> String {
    match response {
        Response::System(s) => system(s),
        Response::Tunnels(t) => tunnels(t),
        Response::Tunnel(t) => tunnel(t),
        Response::Sessions(s) => sessions(s),
        Response::Session(s) => session(s),
        Response::Profiles(p) if p.is_empty() => nothing("profile"),
        Response::Profiles(p) => p
            .iter()
            .map(|p| {
                if p.builtin {
                    format!("{} (built-in)\n", esc(&p.name))
                } else {
                    format!("{}\n", esc(&p.name))
                }
            })
            .collect(),
        Response::Profile(p) => {
            let mut out = format!("{} profile {}", p.kind, escape::quoted(&p.name));
            out.push_str(if p.builtin { " (built-in)\n" } else { "\n" });
            out.push_str(&settings(&p.settings, "  "));
            out
        }
        Response::IpPools(pools) if pools.is_empty() => nothing("IP pool"),
        Response::IpPools(pools) => pools.iter().map(ip_pool).collect(),
        Response::IpPool(p) => ip_pool(p),
        Response::Radius(r) => radius::show(r),
        Response::Reloaded(r) => {
            let mut out = String::from("config reloaded");
            if r.changes.is_empty() {
                out.push_str(": no changes\n");
            } else {
                out.push_str(":\n");
                for c in &r.changes {
                    let _ = writeln!(out, "  {}", esc(&c.to_string()));
                }
            }
            for b in &r.refused {
                let _ = writeln!(out, "{}", esc(&b.to_string()));
            }
            for n in &r.restart_needed {
                let _ = writeln!(out, "note: {}", esc(n));
            }
            out
        }
        Response::Done(msg) if msg.is_empty() => String::new(),
        Response::Done(msg) => format!("{}\n", esc(msg)),
        _ => String::new(),
    }
}

/// The one line of a listing with nothing in it, as `show radius` says `no RADIUS server`.
fn nothing(what: &str) -> String {
    format!("no {what}\n")
}

fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

fn limit(n: u32) -> String {
    if n == 0 {
        "no limit".into()
    } else {
        format!("at most {n}")
    }
}

/// `N (M up, K closing), at most L`: how many exist, of those up and closing (K left out when
/// none is), and the limit, which does not count the closing ones.
fn count((total, up): (u32, u32), closing: u32, max: u32) -> String {
    if closing == 0 {
        return format!("{total} ({up} up), {}", limit(max));
    }
    let besides = if max == 0 {
        ""
    } else {
        " besides those closing"
    };
    format!(
        "{total} ({up} up, {closing} closing), {}{besides}",
        limit(max)
    )
}

/// The protocol 115 addresses open, or `no`; `yes` from a daemon that does not list them.
fn ip_encap(s: &SystemInfo) -> String {
    match (s.ip_encap, s.ip_listen.is_empty()) {
        (_, false) => s.ip_listen.join(" "),
        (true, true) => "yes".into(),
        (false, true) => "no".into(),
    }
}

fn system(s: &SystemInfo) -> String {
    let rows = [
        ("config file", s.config_file.clone()),
        ("listening on", s.listen.join(" ")),
        ("ip encapsulation", ip_encap(s)),
        ("host name", s.host_name.clone()),
        (
            "router id",
            format!("{} ({})", s.router_id, Ipv4Addr::from_bits(s.router_id)),
        ),
        ("log level", s.log_level.clone()),
        ("data plane", s.dataplane.clone()),
        ("control socket", s.control_socket.clone()),
        (
            "tunnels",
            count(
                (s.counts.tunnels, s.counts.tunnels_up),
                s.counts.tunnels_closing,
                s.limits.max_tunnels,
            ),
        ),
        (
            "sessions",
            count(
                (s.counts.sessions, s.counts.sessions_up),
                s.counts.sessions_closing,
                s.limits.max_sessions,
            ),
        ),
        (
            "tunnel set-up",
            format!(
                "{} at once, {} per second per peer",
                limit(s.limits.max_setup_tunnels),
                limit(s.limits.peer_setup_rate)
            ),
        ),
    ];
    let mut out = format!(
        "l2tpd {}, pid {}, up {}\n",
        s.version,
        s.pid,
        duration(s.uptime_s)
    );
    for (k, v) in rows {
        let _ = writeln!(out, "  {:<18}{v}", format!("{k}:"));
    }
    out.push_str("statistics:\n");
    out.push_str(&counters(
        &serde_json::to_value(&s.statistics).unwrap_or(Value::Null),
    ));
    out
}

fn counters(v: &Value) -> String {
    let mut out = String::new();
    if let Value::Object(m) = v {
        for (k, v) in m {
            match v {
                // Counters by name: one indented line each, or "-" when none counted.
                Value::Object(inner) if inner.is_empty() => {
                    let _ = writeln!(out, "  {k:<24}-");
                }
                Value::Object(inner) => {
                    let _ = writeln!(out, "  {k}:");
                    // Names longer than the column (deny_remote_tunnel_creates) widen it.
                    let longest = inner.keys().map(String::len).max().unwrap_or(0);
                    let width = 22.max(longest + 2);
                    for (name, n) in inner {
                        let _ = writeln!(out, "    {name:<width$}{n}");
                    }
                }
                _ => {
                    let _ = writeln!(out, "  {k:<24}{v}");
                }
            }
        }
    }
    out
}

fn settings(s: &Settings, indent: &str) -> String {
    let width = s.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for (k, v) in s.iter() {
        let v = v
            .as_ref()
            .map_or_else(|| "-".to_owned(), |v| esc(&v.to_string()));
        let _ = writeln!(out, "{indent}{k:<width$}{v}");
    }
    out
}

/// Left-aligned columns separated by two spaces.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// The Result Code of a StopCCN or CDN, the same for tunnels and sessions:
/// `result 2 error 6: message`, or `-` when there is none.
fn last_result(r: Option<&l2tp_ctl::ResultCode>) -> String {
    r.map_or("-".into(), |r| {
        let message = r
            .message
            .as_ref()
            .map_or(String::new(), |m| format!(": {}", esc(m)));
        format!("result {} error {}{message}", r.result, r.error)
    })
}

/// The name in the first line of `show tunnel` and `show session`: a space and the name in
/// double quotes, `"` and `\` escaped with `\` and control characters as `\xNN` (as `l2tpwatch`
/// prints text); nothing for a tunnel or session opened by a peer, which has no name.
fn titled(name: Option<&str>) -> String {
    name.map_or_else(String::new, |n| format!(" {}", escape::quoted(n)))
}

/// The value escaped, or `-` when there is none.
fn or_dash(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "-".into(), esc)
}

fn tunnels(list: &[TunnelInfo]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            let peer = if t.same_peer.is_empty() {
                esc(&t.peer)
            } else {
                format!("{} *", esc(&t.peer))
            };
            vec![
                t.created_by.flag().to_string(),
                t.tid.to_string(),
                t.peer_tid.to_string(),
                or_dash(&t.name),
                t.state.to_string(),
                t.version.to_string(),
                t.encap.to_string(),
                peer,
                t.sessions.to_string(),
                duration(t.uptime_s),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "", "TID", "PEER-TID", "NAME", "STATE", "VER", "ENCAP", "PEER", "SESSIONS", "UPTIME",
        ],
        &rows,
    );
    out.push_str(&shared_peer_legend(list));
    out
}

/// The legend of the `*` that marks a tunnel whose peer address and port another tunnel has,
/// read for the tunnels marked: of those a peer opened, clients behind one NAT or one peer's
/// several tunnels (l2tpd(8), L2TP/IPSEC); of those this host opened (a LAC's tunnel blocks,
/// say), tunnels to one peer.
/// Empty when none is marked.
fn shared_peer_legend(list: &[TunnelInfo]) -> String {
    let marked = list.iter().filter(|t| !t.same_peer.is_empty());
    let (net, here) = marked.fold((false, false), |(net, here), t| {
        let by_peer = t.created_by == l2tp_ctl::CreatedBy::Net;
        (net || by_peer, here || !by_peer)
    });
    const NAT: &str = "clients behind one NAT, or one peer's several tunnels";
    const HERE: &str = "tunnels this host opened to one peer";
    let why = match (net, here) {
        (false, false) => return String::new(),
        (true, false) => NAT.to_owned(),
        (false, true) => HERE.to_owned(),
        (true, true) => format!("N: {NAT}; C, L: {HERE}"),
    };
    let see = if net {
        "; see L2TP/IPSEC in l2tpd(8)"
    } else {
        ""
    };
    format!("* another tunnel has the same peer address and port ({why}){see}\n")
}

fn tunnel(t: &TunnelDetail) -> String {
    let i = &t.info;
    let mut out = format!(
        "tunnel {}{} ({})\n",
        i.tid,
        titled(i.name.as_deref()),
        i.created_by.flag()
    );
    let rows = [
        ("peer tunnel id", i.peer_tid.to_string()),
        ("state", state_text(i.state, &t.protocol_state)),
        ("version", i.version.to_string()),
        ("encapsulation", i.encap.to_string()),
        (
            "local",
            if i.local.is_empty() {
                "-".into()
            } else {
                esc(&i.local)
            },
        ),
        ("peer", esc(&i.peer)),
        ("peer host name", or_dash(&i.peer_host_name)),
        ("profile", esc(&i.profile)),
        ("sessions", i.sessions.to_string()),
        ("up for", duration(i.uptime_s)),
        ("debug", (if t.debug { "on" } else { "off" }).into()),
        ("last result", last_result(t.last_result.as_ref())),
    ];
    let mark = t.socket_mark.map(|m| ("socket mark", format!("{m:#x}")));
    for (k, v) in rows.into_iter().chain(mark) {
        let _ = writeln!(out, "  {:<18}{}", format!("{k}:"), v.trim_end());
    }
    out.push_str("settings:\n");
    out.push_str(&settings(&t.settings, "  "));
    out.push_str("statistics:\n");
    out.push_str(&counters(
        &serde_json::to_value(t.stats).unwrap_or(Value::Null),
    ));
    out
}

fn sessions(list: &[SessionInfo]) -> String {
    // Native-PPP sessions add who is online: the user and the address.
    let ppp = list
        .iter()
        .any(|s| s.ppp_user.is_some() || s.ppp_ipv4.is_some());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let mut row = vec![
                s.created_by.flag().to_string(),
                s.tid.to_string(),
                s.sid.to_string(),
                s.peer_tid.to_string(),
                s.peer_sid.to_string(),
                or_dash(&s.name),
                s.state.to_string(),
                s.pseudowire_type.to_string(),
                or_dash(&s.interface_name),
                duration(s.uptime_s),
            ];
            if ppp {
                row.push(or_dash(&s.ppp_user));
                row.push(s.ppp_ipv4.map_or("-".into(), |a| a.to_string()));
            }
            row
        })
        .collect();
    let mut head = vec![
        "",
        "TID",
        "SID",
        "PEER-TID",
        "PEER-SID",
        "NAME",
        "STATE",
        "PW",
        "INTERFACE",
        "UPTIME",
    ];
    if ppp {
        head.extend(["USER", "ADDRESS"]);
    }
    table(&head, &rows)
}

fn session(s: &SessionDetail) -> String {
    let i = &s.info;
    let mut out = format!(
        "session {}/{}{} ({})\n",
        i.tid,
        i.sid,
        titled(i.name.as_deref()),
        i.created_by.flag()
    );
    let rows = [
        ("tunnel", or_dash(&i.tunnel_name)),
        ("peer ids", format!("{}/{}", i.peer_tid, i.peer_sid)),
        ("state", state_text(i.state, &s.protocol_state)),
        ("pseudowire", i.pseudowire_type.to_string()),
        ("interface", or_dash(&i.interface_name)),
        ("profile", esc(&i.profile)),
        ("pseudowire profile", esc(&i.pseudowire_profile)),
        ("up for", duration(i.uptime_s)),
        ("debug", (if s.debug { "on" } else { "off" }).into()),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "  {:<20}{v}", format!("{k}:"));
    }
    if let Some(r) = &s.last_result {
        let _ = writeln!(out, "  {:<20}{}", "last result:", last_result(Some(r)));
    }
    let c = &s.call;
    for (k, v) in [
        ("calling number", &c.calling_number),
        ("called number", &c.called_number),
        ("sub-address", &c.sub_address),
        ("remote end id", &c.remote_end_id),
        ("peer host name", &c.peer_host_name),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "  {:<20}{}", format!("{k}:"), esc(v));
        }
    }
    if let Some(tx) = c.tx_connect_speed {
        let speed = match c.rx_connect_speed {
            Some(rx) => format!("{tx}/{rx} bit/s (tx/rx)"),
            None => format!("{tx} bit/s"),
        };
        let _ = writeln!(out, "  {:<20}{speed}", "connect speed:");
    }
    if c.connect_speed_updates {
        let _ = writeln!(out, "  {:<20}enabled (RFC 5515 CSUN)", "speed updates:");
    }
    if !c.access_line.is_empty() {
        out.push_str("  access line:\n");
        for (k, v) in &c.access_line {
            let _ = writeln!(out, "    {:<40}{}", format!("{}:", esc(k)), esc(v));
        }
    }
    if let Some(p) = &s.ppp {
        out.push_str(&ppp(p));
    }
    if let Some(u) = &s.in_use {
        out.push_str(&in_use(u, &s.settings));
    }
    out.push_str("settings:\n");
    out.push_str(&settings(&s.settings, "  "));
    out.push_str("statistics:\n");
    out.push_str(&counters(
        &serde_json::to_value(s.stats).unwrap_or(Value::Null),
    ));
    out
}

/// The `in use:` part of `show session`: what the data path uses, each value the profile
/// gives otherwise followed by the profile's.
fn in_use(u: &l2tp_ctl::SessionInUse, profile: &Settings) -> String {
    let mut out = String::from("in use:\n");
    let was = |key: &str| {
        if !u.differs.iter().any(|d| d == key) {
            return String::new();
        }
        let value = profile
            .get(key)
            .and_then(Option::as_ref)
            .map_or_else(|| "-".to_owned(), |v| esc(&v.to_string()));
        format!(" (profile: {value})")
    };
    let mut rows = vec![(
        "pseudowire",
        format!("{}{}", u.pseudowire_type, was("pseudowire_type")),
    )];
    if let Some(l) = &u.l2spec_type {
        rows.push(("l2spec type", format!("{}{}", esc(l), was("l2spec_type"))));
    }
    if let (Some(rx), Some(tx)) = (u.cookie_length_received, u.cookie_length_sent) {
        rows.push((
            "cookie length",
            format!("{rx} received, {tx} sent{}", was("cookie_length")),
        ));
    }
    let seq = match (u.sequencing_sent, u.sequencing_required) {
        (true, true) => "sent, required",
        (true, false) => "sent",
        (false, true) => "required",
        (false, false) => "none",
    };
    rows.push((
        "data sequencing",
        format!("{seq}{}", was("data_sequencing")),
    ));
    for (k, v) in rows {
        let _ = writeln!(out, "  {:<20}{v}", format!("{k}:"));
    }
    out
}

/// The `ppp:` part of `show session`.
fn ppp(p: &l2tp_ctl::PppDetail) -> String {
    let mut out = String::from("ppp:\n");
    let addr = |a: Option<std::net::Ipv4Addr>| a.map_or("-".to_owned(), |a| a.to_string());
    let dns = p
        .dns
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let rows = [
        ("profile", esc(&p.profile)),
        ("role", esc(&p.role)),
        ("phase", esc(&p.phase)),
        ("user", or_dash(&p.user)),
        ("authentication", or_dash(&p.auth)),
        ("proxied from lac", or_dash(&p.proxied)),
        ("local address", addr(p.local_ipv4)),
        ("peer address", addr(p.peer_ipv4)),
        ("dns", if dns.is_empty() { "-".into() } else { dns }),
        ("local ipv6 ifid", or_dash(&p.local_ipv6_ifid)),
        ("peer ipv6 ifid", or_dash(&p.peer_ipv6_ifid)),
        ("mru", p.mru.map_or("-".into(), |m| m.to_string())),
        ("peer mru", p.peer_mru.map_or("-".into(), |m| m.to_string())),
        ("mtu", p.mtu.map_or("-".into(), |m| m.to_string())),
        ("up for", duration(p.uptime_s)),
        (
            "echo",
            format!("{} sent, {} unanswered now", p.echo_sent, p.echo_missed),
        ),
        (
            "frames",
            format!(
                "{} in, {} out, {} discarded",
                p.frames_in, p.frames_out, p.frames_discarded
            ),
        ),
        ("down reason", or_dash(&p.down_reason)),
        ("set-link-info accm", or_dash(&p.sli_accm)),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "  {:<20}{v}", format!("{k}:"));
    }
    if let Some(r) = &p.radius {
        out.push_str(&radius::session(r));
    }
    out
}

/// A state with the protocol's own word for it in brackets, unless that word says no more
/// (`closing`, not `closing (closing)`).
fn state_text(state: l2tp_ctl::State, protocol: &str) -> String {
    let shown = state.to_string();
    if protocol.is_empty() || protocol == shown {
        shown
    } else {
        format!("{shown} ({protocol})")
    }
}

#[cfg(test)]
mod tests;
