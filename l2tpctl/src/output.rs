//! Printing answers: text for people, JSON for programs (the shapes `l2tpctl(1)` documents).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use l2tp_ctl::{
    IpPoolInfo, OrderedMap, ProfileInfo, Response, SessionDetail, SessionInfo, Settings,
    SystemInfo, TunnelDetail, TunnelInfo,
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
        Ok(s) => s + "\n",
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
        p.name,
        p.size,
        p.in_use,
        p.ranges.join(" ")
    )
}

/// `response` as text.
pub(crate) fn text(response: &Response) -> String {
    match response {
        Response::System(s) => system(s),
        Response::Tunnels(t) => tunnels(t),
        Response::Tunnel(t) => tunnel(t),
        Response::Sessions(s) => sessions(s),
        Response::Session(s) => session(s),
        Response::Profiles(p) => p
            .iter()
            .map(|p| {
                if p.builtin {
                    format!("{} (built-in)\n", p.name)
                } else {
                    format!("{}\n", p.name)
                }
            })
            .collect(),
        Response::Profile(p) => {
            let mut out = format!("{} profile \"{}\"", p.kind, p.name);
            out.push_str(if p.builtin { " (built-in)\n" } else { "\n" });
            out.push_str(&settings(&p.settings, "  "));
            out
        }
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
                    let _ = writeln!(out, "  {c}");
                }
            }
            for b in &r.refused {
                let _ = writeln!(out, "{b}");
            }
            for n in &r.restart_needed {
                let _ = writeln!(out, "note: {n}");
            }
            out
        }
        Response::Done(msg) if msg.is_empty() => String::new(),
        Response::Done(msg) => format!("{msg}\n"),
        _ => String::new(),
    }
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

fn system(s: &SystemInfo) -> String {
    let rows = [
        ("config file", s.config_file.clone()),
        ("listening on", s.listen.join(" ")),
        (
            "ip encapsulation",
            (if s.ip_encap { "yes" } else { "no" }).into(),
        ),
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
            format!(
                "{} ({} up), {}",
                s.counts.tunnels,
                s.counts.tunnels_up,
                limit(s.limits.max_tunnels)
            ),
        ),
        (
            "sessions",
            format!(
                "{} ({} up), {}",
                s.counts.sessions,
                s.counts.sessions_up,
                limit(s.limits.max_sessions)
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
                    for (name, n) in inner {
                        let _ = writeln!(out, "    {name:<22}{n}");
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
        let v = v.as_ref().map_or_else(|| "-".to_owned(), |v| v.to_string());
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
            .map_or(String::new(), |m| format!(": {m}"));
        format!("result {} error {}{message}", r.result, r.error)
    })
}

/// The name in the first line of `show tunnel` and `show session`: a space and the name in
/// double quotes, `"` and `\` escaped with `\` and control characters as `\xNN` (as `l2tpwatch`
/// prints text); nothing for a tunnel or session opened by a peer, which has no name.
fn titled(name: Option<&str>) -> String {
    let Some(name) = name else {
        return String::new();
    };
    let mut out = String::from(" \"");
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn or_dash(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

fn tunnels(list: &[TunnelInfo]) -> String {
    let shared = list.iter().any(|t| !t.same_peer.is_empty());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            let peer = if t.same_peer.is_empty() {
                t.peer.clone()
            } else {
                format!("{} *", t.peer)
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
    if shared {
        out.push_str(
            "* another tunnel has the same peer address and port (clients behind one NAT); \
             see l2tpd(8), IPSEC\n",
        );
    }
    out
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
        ("state", format!("{} ({})", i.state, t.protocol_state)),
        ("version", i.version.to_string()),
        ("encapsulation", i.encap.to_string()),
        (
            "local",
            if i.local.is_empty() {
                "-".into()
            } else {
                i.local.clone()
            },
        ),
        ("peer", i.peer.clone()),
        ("peer host name", or_dash(&i.peer_host_name)),
        ("profile", i.profile.clone()),
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
        ("state", format!("{} ({})", i.state, s.protocol_state)),
        ("pseudowire", i.pseudowire_type.to_string()),
        ("interface", or_dash(&i.interface_name)),
        ("profile", i.profile.clone()),
        ("pseudowire profile", i.pseudowire_profile.clone()),
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
        ("peer host name", &c.peer_host_name),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "  {:<20}{v}", format!("{k}:"));
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
            let _ = writeln!(out, "    {:<40}{v}", format!("{k}:"));
        }
    }
    if let Some(p) = &s.ppp {
        out.push_str(&ppp(p));
    }
    out.push_str("settings:\n");
    out.push_str(&settings(&s.settings, "  "));
    out.push_str("statistics:\n");
    out.push_str(&counters(
        &serde_json::to_value(s.stats).unwrap_or(Value::Null),
    ));
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
        ("profile", p.profile.clone()),
        ("role", p.role.clone()),
        ("phase", p.phase.clone()),
        ("user", or_dash(&p.user)),
        ("authentication", or_dash(&p.auth)),
        ("proxied from lac", or_dash(&p.proxied)),
        ("local address", addr(p.local_ipv4)),
        ("peer address", addr(p.peer_ipv4)),
        ("dns", if dns.is_empty() { "-".into() } else { dns }),
        ("local ipv6 ifid", or_dash(&p.local_ipv6_ifid)),
        ("peer ipv6 ifid", or_dash(&p.peer_ipv6_ifid)),
        ("peer mru", p.peer_mru.map_or("-".into(), |m| m.to_string())),
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

#[cfg(test)]
mod tests {
    use l2tp_ctl::{CreatedBy, Encap, ProfileKind, PseudowireType, SettingValue, State};

    use super::*;

    fn tunnel_info() -> TunnelInfo {
        TunnelInfo {
            same_peer: Vec::new(),
            tid: 4711,
            peer_tid: 17,
            name: Some("lns1".into()),
            state: State::Up,
            version: 3,
            encap: Encap::Udp,
            local: "192.0.2.1:1701".into(),
            peer: "[2001:db8::2]:1701".into(),
            created_by: CreatedBy::Config,
            sessions: 2,
            uptime_s: 3725,
            profile: "default".into(),
            peer_host_name: None,
        }
    }

    /// The first line of `show tunnel` and `show session` quotes the name as `l2tpwatch` does,
    /// and gives none for a tunnel or session opened by a peer (not a name `-`).
    #[test]
    fn details_are_titled_with_the_name_if_any() {
        let detail = |info: TunnelInfo| TunnelDetail {
            info,
            protocol_state: "established".into(),
            debug: false,
            settings: Settings::new(),
            stats: Default::default(),
            last_result: None,
            socket_mark: None,
        };
        let first = |r: Response| text(&r).lines().next().unwrap_or("").to_owned();
        let mut t = tunnel_info();
        assert_eq!(
            first(Response::Tunnel(detail(t.clone()))),
            "tunnel 4711 \"lns1\" (C)"
        );
        t.name = Some("a \"b\"\\c\td".into());
        assert_eq!(
            first(Response::Tunnel(detail(t.clone()))),
            "tunnel 4711 \"a \\\"b\\\"\\\\c\\x09d\" (C)"
        );
        t.name = None;
        t.created_by = CreatedBy::Net;
        assert_eq!(first(Response::Tunnel(detail(t))), "tunnel 4711 (N)");
        let s = SessionInfo {
            tid: 4711,
            sid: 90001,
            peer_tid: 17,
            peer_sid: 33,
            name: None,
            state: State::Up,
            pseudowire_type: PseudowireType::Ppp,
            interface_name: None,
            tunnel_name: None,
            created_by: CreatedBy::Net,
            uptime_s: 61,
            profile: "default".into(),
            pseudowire_profile: "default".into(),
            ppp_user: None,
            ppp_ipv4: None,
        };
        let session = |info: SessionInfo| SessionDetail {
            info,
            protocol_state: "established".into(),
            debug: false,
            settings: Settings::new(),
            stats: Default::default(),
            last_result: None,
            call: Default::default(),
            ppp: None,
        };
        assert_eq!(
            first(Response::Session(session(s.clone()))),
            "session 4711/90001 (N)"
        );
        let named = SessionInfo {
            name: Some("call-1".into()),
            created_by: CreatedBy::Config,
            ..s
        };
        assert_eq!(
            first(Response::Session(session(named))),
            "session 4711/90001 \"call-1\" (C)"
        );
    }

    /// A tunnel's and a session's last Result Code read alike, the message after a colon.
    #[test]
    fn last_results_read_alike() {
        let code = |message: Option<&str>| l2tp_ctl::ResultCode {
            result: 2,
            error: 6,
            message: message.map(str::to_owned),
        };
        let line = |shown: String| {
            shown
                .lines()
                .find(|l| l.contains("last result:"))
                .map(|l| l.split_once(':').map_or("", |(_, v)| v.trim()).to_owned())
        };
        let tunnel = TunnelDetail {
            info: tunnel_info(),
            protocol_state: "idle".into(),
            debug: false,
            settings: Settings::new(),
            stats: Default::default(),
            last_result: Some(code(Some("stop requested"))),
            socket_mark: None,
        };
        assert_eq!(
            line(text(&Response::Tunnel(tunnel.clone()))).as_deref(),
            Some("result 2 error 6: stop requested")
        );
        let bare = TunnelDetail {
            last_result: Some(code(None)),
            ..tunnel
        };
        assert_eq!(
            line(text(&Response::Tunnel(bare))).as_deref(),
            Some("result 2 error 6")
        );
        assert_eq!(last_result(None), "-");
    }

    #[test]
    fn tunnel_table() {
        let mut other = tunnel_info();
        other.tid = 9;
        other.name = None;
        other.created_by = CreatedBy::Net;
        other.state = State::Connecting;
        other.uptime_s = 0;
        insta::assert_snapshot!(text(&Response::Tunnels(vec![tunnel_info(), other])));
    }

    #[test]
    fn tunnels_sharing_a_peer_address_are_marked() {
        let mut a = tunnel_info();
        let mut b = tunnel_info();
        b.tid = 4712;
        a.same_peer = vec![4712];
        b.same_peer = vec![4711];
        let shown = text(&Response::Tunnels(vec![a, b]));
        assert_eq!(shown.matches("]:1701 *").count(), 2, "{shown}");
        assert!(shown.contains("same peer address and port"), "{shown}");
        let alone = text(&Response::Tunnels(vec![tunnel_info()]));
        assert!(!alone.contains('*'), "{alone}");
    }

    #[test]
    fn session_table() {
        let s = SessionInfo {
            tid: 4711,
            sid: 90001,
            peer_tid: 17,
            peer_sid: 33,
            name: None,
            state: State::Up,
            pseudowire_type: PseudowireType::Other(17),
            interface_name: Some("l2tpeth0".into()),
            tunnel_name: Some("lns1".into()),
            created_by: CreatedBy::Net,
            uptime_s: 90_061,
            profile: "default".into(),
            pseudowire_profile: "default".into(),
            ppp_user: None,
            ppp_ipv4: None,
        };
        insta::assert_snapshot!(text(&Response::Sessions(vec![s])));
    }

    #[test]
    fn native_ppp_sessions_show_who_is_online() {
        let s = SessionInfo {
            tid: 4711,
            sid: 90001,
            peer_tid: 17,
            peer_sid: 33,
            name: None,
            state: State::Up,
            pseudowire_type: PseudowireType::Ppp,
            interface_name: None,
            tunnel_name: None,
            created_by: CreatedBy::Net,
            uptime_s: 61,
            profile: "default".into(),
            pseudowire_profile: "default".into(),
            ppp_user: Some("alice".into()),
            ppp_ipv4: Some([198, 51, 100, 10].into()),
        };
        insta::assert_snapshot!(text(&Response::Sessions(vec![s.clone()])));
        let d = SessionDetail {
            info: s,
            protocol_state: "established".into(),
            debug: false,
            settings: Settings::new(),
            stats: Default::default(),
            last_result: None,
            call: l2tp_ctl::CallInfo {
                calling_number: Some("5551234".into()),
                tx_connect_speed: std::num::NonZeroU64::new(80_000_000),
                rx_connect_speed: std::num::NonZeroU64::new(20_000_000),
                connect_speed_updates: true,
                access_line: [
                    ("agent_circuit_id".into(), "dslam-7 eth 1/4:100".into()),
                    ("actual_data_rate_downstream".into(), "80000000".into()),
                ]
                .into(),
                ..Default::default()
            },
            ppp: Some(l2tp_ctl::PppDetail {
                profile: "default".into(),
                role: "server".into(),
                phase: "network".into(),
                user: Some("alice".into()),
                auth: Some("mschapv2".into()),
                proxied: Some("lcp".into()),
                local_ipv4: Some([198, 51, 100, 1].into()),
                peer_ipv4: Some([198, 51, 100, 10].into()),
                dns: vec![[192, 0, 2, 53].into()],
                peer_ipv6_ifid: Some(l2tp_ctl::format_ifid(0x0200_5eff_fe00_5301)),
                peer_mru: Some(1400),
                uptime_s: 59,
                echo_sent: 2,
                frames_in: 12,
                frames_out: 13,
                ..Default::default()
            }),
        };
        insta::assert_snapshot!(text(&Response::Session(d)));
    }

    #[test]
    fn profiles_as_names_and_as_objects() {
        let mut settings = Settings::new();
        settings.push("secret", Some(SettingValue::Text("<redacted>".into())));
        settings.push("hello_timeout", Some(SettingValue::Number(60)));
        settings.push("host_name", None);
        let p = ProfileInfo {
            kind: ProfileKind::Tunnel,
            name: "v3".into(),
            builtin: false,
            settings,
        };
        let list = Response::Profiles(vec![p.clone()]);
        assert_eq!(json(&list), "[\n  \"v3\"\n]\n");
        assert_eq!(text(&list), "v3\n");
        insta::assert_snapshot!(json(&Response::Profile(p.clone())));
        insta::assert_snapshot!(text(&Response::Profile(p)));
    }

    #[test]
    fn pools_as_lines_and_as_objects() {
        let pools = vec![
            l2tp_ctl::IpPoolInfo {
                name: "customers".into(),
                ranges: vec![
                    "198.51.100.10-198.51.100.99".into(),
                    "198.51.100.200-198.51.100.250".into(),
                ],
                size: 141,
                in_use: 2,
            },
            l2tp_ctl::IpPoolInfo {
                name: "one".into(),
                ranges: vec!["192.0.2.7-192.0.2.7".into()],
                size: 1,
                in_use: 0,
            },
        ];
        assert_eq!(
            text(&Response::IpPools(pools.clone())),
            "customers: 141 addresses (2 in use), 198.51.100.10-198.51.100.99 \
             198.51.100.200-198.51.100.250\none: 1 address (0 in use), 192.0.2.7-192.0.2.7\n"
        );
        let v: Value =
            serde_json::from_str(&json(&Response::IpPool(pools[1].clone()))).unwrap_or(Value::Null);
        assert_eq!(
            v,
            serde_json::json!({
                "name": "one", "ranges": ["192.0.2.7-192.0.2.7"], "size": 1, "in_use": 0
            })
        );
        let v: Value =
            serde_json::from_str(&json(&Response::IpPools(pools))).unwrap_or(Value::Null);
        assert_eq!(v[0]["size"], 141);
    }

    #[test]
    fn every_command_prints_one_json_value() {
        let done: Value =
            serde_json::from_str(&json(&Response::Done("deleted".into()))).unwrap_or(Value::Null);
        assert_eq!(done, serde_json::json!({"ok": true, "message": "deleted"}));
        // Members in the manual's order, as every other object keeps its own.
        assert_eq!(
            json(&Response::Done("deleted".into())),
            "{\n  \"ok\": true,\n  \"message\": \"deleted\"\n}\n"
        );
        assert_eq!(text(&Response::Done("deleted".into())), "deleted\n");
        let reloaded: Value = serde_json::from_str(&json(&Response::Reloaded(Default::default())))
            .unwrap_or(Value::Null);
        assert_eq!(
            reloaded,
            serde_json::json!({"changes": [], "restart_needed": []})
        );
        assert_eq!(
            text(&Response::Reloaded(Default::default())),
            "config reloaded: no changes\n"
        );
        // Refused blocks: the JSON is checked against a daemon (tests/cli.rs).
        let (item, name, reason) = ("tunnel".into(), "x".into(), "its reason".into());
        let refused = vec![l2tp_ctl::RefusedBlock { item, name, reason }];
        let partly = l2tp_ctl::ReloadSummary {
            refused,
            ..Default::default()
        };
        let shown = "config reloaded: no changes\ntunnel \"x\" refused: its reason\n";
        assert_eq!(text(&Response::Reloaded(partly)), shown);
    }

    #[test]
    fn radius_servers_and_counters_as_text_and_json() {
        let mut info = l2tp_ctl::RadiusInfo {
            servers: vec![
                l2tp_ctl::RadiusServerInfo {
                    name: "primary".into(),
                    service: "authentication".into(),
                    address: "192.0.2.10:1812".into(),
                    priority: 1,
                    state: "dead".into(),
                    dead_for_s: Some(12),
                    requests: 40,
                    timeouts: 3,
                    accepts: 30,
                    rejects: 7,
                    smoothed_rtt_us: 1500,
                    probes: 3,
                    probes_answered: 1,
                    probes_timed_out: 2,
                    ..Default::default()
                },
                l2tp_ctl::RadiusServerInfo {
                    name: "primary".into(),
                    service: "accounting".into(),
                    address: "192.0.2.10:1813".into(),
                    priority: 1,
                    state: "alive".into(),
                    requests: 90,
                    accounting_responses: 88,
                    ..Default::default()
                },
            ],
            access_requests: 40,
            accepts: 30,
            rejects: 7,
            no_answer: 3,
            accounting_lost: 1,
            ..Default::default()
        };
        info.accounting_requests.insert("start".into(), 30);
        info.dynauth_listen = vec!["192.0.2.3:3799".into()];
        info.dynauth.insert("disconnect_ack".into(), 2);
        let shown = text(&Response::Radius(info.clone()));
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[0].starts_with("SERVER"), "{shown}");
        assert!(
            lines[1].contains("dead(12s)")
                && lines[1].contains("1.5")
                && lines[1].ends_with(" 3/1/2"),
            "{shown}"
        );
        assert!(
            lines[2].contains("accounting")
                && lines[2].contains(" 88 ")
                && lines[2].ends_with(" -"),
            "{shown}"
        );
        assert!(shown.contains("40 requests, 30 accepted, 7 rejected, 3 unanswered"));
        assert!(
            shown.contains("accounting: start 30; 0 answered, 1 lost"),
            "{shown}"
        );
        assert!(
            shown.contains("on 192.0.2.3:3799: disconnect_ack 2"),
            "{shown}"
        );
        let v: Value = serde_json::from_str(&json(&Response::Radius(info))).unwrap_or(Value::Null);
        assert_eq!(v["servers"][0]["dead_for_s"], 12);
        assert_eq!(v["accounting_requests"]["start"], 30);
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0), "00:00:00");
        assert_eq!(duration(3725), "01:02:05");
        assert_eq!(duration(90_061), "1d 01:01:01");
    }
}
