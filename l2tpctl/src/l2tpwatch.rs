//! `l2tpwatch [-S socket] [-n max-events] [-T seconds] [-t types] [-s types] [-P types] [-v]
//! [-p] [-c]`:
//! print the tunnel and session events of a running `l2tpd`, one line each (see
//! `l2tpwatch(1)`).
//!
//! Exit status: 0 when the event count or the time limit is reached or the daemon stops, 1 when
//! the daemon cannot be reached or refuses, 2 for an invalid command line.

use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use l2tp_ctl::{DEFAULT_SOCKET, Event, EventKind, Reply, Request, Response, text};

mod connect;

#[derive(Debug, Parser)]
#[command(
    name = "l2tpwatch",
    version,
    about = "Print the tunnel and session events of a running l2tpd"
)]
struct Args {
    /// The daemon's control socket.
    #[arg(short = 'S', value_name = "socket", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Exit after this many events.
    #[arg(
        short = 'n',
        value_name = "max-events",
        value_parser = whole_number,
        allow_negative_numbers = true
    )]
    max_events: Option<u64>,
    /// Exit after this many seconds.
    #[arg(
        short = 'T',
        value_name = "seconds",
        value_parser = whole_number,
        allow_negative_numbers = true
    )]
    timeout: Option<u64>,
    /// Tunnel events to show: a comma list of created,up,down,deleted (default all).
    #[arg(short = 't', value_name = "types", value_parser = parse_types)]
    tunnel_types: Option<Types>,
    /// Session events to show: a comma list of created,up,down,deleted (default all).
    #[arg(short = 's', value_name = "types", value_parser = parse_types)]
    session_types: Option<Types>,
    /// PPP events of native-PPP sessions to show: a comma list of up,down (default both).
    #[arg(short = 'P', value_name = "types", value_parser = parse_ppp_types)]
    ppp_types: Option<Types>,
    /// Verbose: protocol version, encapsulation and peer of tunnels; pseudowire type and
    /// interface of sessions.
    #[arg(short = 'v')]
    verbose: bool,
    /// Prefix each line with a timestamp (UTC).
    #[arg(short = 'p')]
    timestamps: bool,
    /// Print CSV: a header line, then one line per event.
    #[arg(short = 'c')]
    csv: bool,
}

/// Which of created, up, down, deleted to show.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct Types {
    created: bool,
    up: bool,
    down: bool,
    deleted: bool,
}

impl Types {
    const ALL: Types = Types {
        created: true,
        up: true,
        down: true,
        deleted: true,
    };
}

fn parse_types(s: &str) -> Result<Types, String> {
    let mut t = Types {
        created: false,
        up: false,
        down: false,
        deleted: false,
    };
    for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match word {
            "created" => t.created = true,
            "up" => t.up = true,
            "down" => t.down = true,
            "deleted" => t.deleted = true,
            "all" => t = Types::ALL,
            other => {
                return Err(format!(
                    "unknown event type \"{other}\"; expected a comma list of created, up, \
                     down, deleted"
                ));
            }
        }
    }
    Ok(t)
}

/// `-P`: PPP links only come up and go down.
fn parse_ppp_types(s: &str) -> Result<Types, String> {
    let words = s.split(',').map(str::trim);
    if words
        .into_iter()
        .any(|w| !["", "up", "down", "all"].contains(&w))
    {
        return Err(format!(
            "expected a comma list of up and down, found \"{s}\""
        ));
    }
    parse_types(s)
}

/// `-n` and `-T`: a number of events or seconds (a negative one is read as a value, so that
/// the message names the option).
fn whole_number(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| {
        format!(
            "expected a whole number from 0 to {}, found \"{s}\"",
            u64::MAX
        )
    })
}

/// How to print events.
#[derive(Clone, Copy, Debug)]
struct Format {
    verbose: bool,
    timestamps: bool,
    csv: bool,
}

impl Args {
    fn shows(&self, kind: EventKind) -> bool {
        use EventKind as K;
        let t = self.tunnel_types.unwrap_or(Types::ALL);
        let s = self.session_types.unwrap_or(Types::ALL);
        let p = self.ppp_types.unwrap_or(Types::ALL);
        match kind {
            K::TunnelCreated => t.created,
            K::TunnelUp => t.up,
            K::TunnelDown => t.down,
            K::TunnelDeleted => t.deleted,
            K::SessionCreated => s.created,
            K::SessionUp => s.up,
            K::SessionDown => s.down,
            K::SessionDeleted => s.deleted,
            K::PppUp => p.up,
            K::PppDown => p.down,
        }
    }

    fn format(&self) -> Format {
        Format {
            verbose: self.verbose,
            timestamps: self.timestamps,
            csv: self.csv,
        }
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("l2tpwatch: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    // A time limit further off than the clock can count is no limit.
    let deadline = args
        .timeout
        .and_then(|s| Instant::now().checked_add(Duration::from_secs(s)));
    let shown = args.socket.display();
    let stream = connect::connect(&args.socket)?;
    let broken = |e: io::Error| format!("talking to l2tpd on {shown}: {e}");
    (&stream)
        .write_all(l2tp_ctl::encode_request(&Request::Watch).as_bytes())
        .map_err(broken)?;
    let mut reader = BufReader::new(&stream);
    // Standard output writes whole lines anyway; this writes whole bursts (see flush_out).
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let format = args.format();
    let mut seen = 0u64;
    let mut acknowledged = false;
    let mut line = Vec::new();
    if format.csv {
        write_out(&mut out, &csv_header(format))?;
        flush_out(&mut out)?;
    }
    loop {
        if args.max_events.is_some_and(|n| seen >= n) {
            return Ok(());
        }
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(w) if !w.is_zero() => Some(w),
                _ => return Ok(()),
            },
            None => None,
        };
        stream.set_read_timeout(wait).map_err(broken)?;
        match reader.read_until(b'\n', &mut line) {
            // The daemon has gone: that ends the watch.
            Ok(0) => return Ok(()),
            Ok(_) if line.ends_with(b"\n") => {}
            // End of stream in the middle of a line: the daemon stopped before this watcher
            // had read its last events, and even their count did not reach it.
            Ok(_) => {
                flush_out(&mut out)?;
                eprintln!("l2tpwatch: l2tpd closed the connection in the middle of an event");
                return Ok(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(broken(e)),
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        line.clear();
        let reply = l2tp_ctl::decode_reply(&text).map_err(|e| format!("{shown}: {e}"))?;
        match reply {
            Reply::Ok(Response::Watching) if !acknowledged => acknowledged = true,
            Reply::Event(ev) if acknowledged => {
                if args.shows(ev.event) {
                    seen += 1;
                    write_out(&mut out, &format_event(&ev, format))?;
                }
                // Out as soon as nothing more has arrived: one write per burst, not per line.
                if reader.buffer().is_empty() {
                    flush_out(&mut out)?;
                }
            }
            // Never silently: on the output, where they are missing, and on standard error.
            Reply::EventsLost(n) if acknowledged => {
                write_out(&mut out, &format_lost(n, now_ms(), format))?;
                flush_out(&mut out)?;
                eprintln!(
                    "l2tpwatch: {n} events lost: l2tpd could not keep them for this watcher \
                     (its queue was full, or the daemon stopped before they were read)"
                );
            }
            Reply::Error(e) => return Err(e.message.trim_end().to_owned()),
            _ => return Err(format!("{shown}: unexpected answer from l2tpd")),
        }
    }
}

/// Writes `line`, to be flushed by [`flush_out`].
fn write_out(out: &mut impl Write, line: &str) -> Result<(), String> {
    gone_or(out.write_all(line.as_bytes()))
}

fn flush_out(out: &mut impl Write) -> Result<(), String> {
    gone_or(out.flush())
}

fn gone_or(r: io::Result<()>) -> Result<(), String> {
    match r {
        Ok(()) => Ok(()),
        // Nobody reads any more (`l2tpwatch | head`): stop quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(format!("writing the output: {e}")),
    }
}

/// The CSV column names, in order, for `format`.
fn csv_columns(format: Format) -> Vec<&'static str> {
    let mut cols = Vec::new();
    if format.timestamps {
        cols.push("time");
    }
    cols.extend([
        "event",
        "tid",
        "sid",
        "peer_tid",
        "peer_sid",
        "name",
        "profile",
        "pw_profile",
        "peer",
        "result",
        "error",
        "message",
    ]);
    if format.verbose {
        cols.extend(["version", "encap", "pseudowire_type", "interface_name"]);
    }
    cols.extend(["ppp_user", "ppp_address", "ppp_reason"]);
    cols
}

fn csv_header(format: Format) -> String {
    let mut s = csv_columns(format).join(",");
    s.push('\n');
    s
}

/// One event as a line (with its newline) in `format`.
fn format_event(ev: &Event, format: Format) -> String {
    let mut s = if format.csv {
        csv_line(ev, format)
    } else {
        text_line(ev, format)
    };
    s.push('\n');
    s
}

/// The line that says `n` events were lost here: `EVENTS LOST: count=N`; in CSV the event
/// `EVENTS LOST` with the count as its message.
fn format_lost(n: u64, time_ms: u64, format: Format) -> String {
    let mut s = String::new();
    if format.timestamps {
        s.push_str(&timestamp(time_ms));
        s.push(if format.csv { ',' } else { ' ' });
    }
    if format.csv {
        // event, then tid ... error empty, then the message; the columns after it empty.
        let after = csv_columns(format).len() - usize::from(format.timestamps) - 12;
        s.push_str(&format!("EVENTS LOST,,,,,,,,,,,{n}"));
        s.push_str(&",".repeat(after));
    } else {
        s.push_str(&format!("EVENTS LOST: count={n}"));
    }
    s.push('\n');
    s
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// `-` for an empty value.
trait OrDash {
    fn or_dash(&self) -> &str;
}

impl OrDash for str {
    fn or_dash(&self) -> &str {
        if self.is_empty() { "-" } else { self }
    }
}

fn csv_line(ev: &Event, format: Format) -> String {
    let r = ev.result.as_ref();
    let mut fields = Vec::new();
    if format.timestamps {
        fields.push(timestamp(ev.time_ms));
    }
    fields.extend([
        ev.event.label().to_owned(),
        ev.tid.to_string(),
        opt(ev.sid),
        opt(ev.peer_tid),
        opt(ev.peer_sid),
        opt(ev.name.as_deref()),
        opt(ev.profile.as_deref()),
        opt(ev.pw_profile.as_deref()),
        opt(ev.peer.as_deref()),
        opt(r.map(|r| r.result)),
        opt(r.map(|r| r.error)),
        opt(r.and_then(|r| r.message.as_deref())),
    ]);
    if format.verbose {
        fields.extend([
            opt(ev.version),
            opt(ev.encap),
            opt(ev.pseudowire_type),
            opt(ev.interface_name.as_deref()),
        ]);
    }
    let p = ev.ppp.as_deref();
    fields.extend([
        opt(p.and_then(|p| p.user.as_deref())),
        opt(p.and_then(|p| p.peer_ipv4)),
        opt(p.and_then(|p| p.reason.as_deref())),
    ]);
    fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
}

/// A CSV field: `\` and control characters escaped as in text output (so that an event stays
/// one line), then quoted (RFC 4180) when it holds a comma or a quote.
fn csv_field(f: &str) -> String {
    let f = text::plain(f).to_string();
    if f.contains([',', '"']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

/// A quoted text value: `"` and `\` escaped with `\`, control characters as `\xNN`
/// (`l2tp_ctl::text`).
fn quoted(s: &str) -> String {
    text::quoted(s).to_string()
}

fn text_line(ev: &Event, format: Format) -> String {
    use EventKind as K;
    let mut s = String::new();
    if format.timestamps {
        s.push_str(&timestamp(ev.time_ms));
        s.push(' ');
    }
    s.push_str(ev.event.label());
    s.push_str(": ");
    let mut f: Vec<String> = vec![format!("tid={}", ev.tid)];
    let num = |name: &str, v: Option<u32>| format!("{name}={}", v.unwrap_or(0));
    let text = |name: &str, v: Option<&str>| format!("{name}={}", quoted(v.unwrap_or("")));
    if ev.event.is_session() {
        f.push(num("sid", ev.sid));
    }
    match ev.event {
        K::TunnelCreated => {
            f.push(text("name", ev.name.as_deref()));
            f.push(text("profile", ev.profile.as_deref()));
            f.push(format!(
                "peer={}",
                text::plain(ev.peer.as_deref().unwrap_or("-"))
            ));
        }
        K::SessionCreated => {
            f.push(text("name", ev.name.as_deref()));
            f.push(text("profile", ev.profile.as_deref()));
            f.push(text("pw_profile", ev.pw_profile.as_deref()));
        }
        K::TunnelUp | K::TunnelDown => f.push(num("peer_tid", ev.peer_tid)),
        K::SessionUp | K::SessionDown => {
            f.push(num("peer_tid", ev.peer_tid));
            f.push(num("peer_sid", ev.peer_sid));
        }
        K::TunnelDeleted | K::SessionDeleted => {}
        K::PppUp | K::PppDown => {
            f.push(num("peer_tid", ev.peer_tid));
            f.push(num("peer_sid", ev.peer_sid));
            let p = ev.ppp.as_deref().cloned().unwrap_or_default();
            f.push(text("user", p.user.as_deref()));
            f.push(format!("address={}", opt(p.peer_ipv4).as_str().or_dash()));
            f.push(format!(
                "auth={}",
                text::plain(p.auth.as_deref().unwrap_or("-"))
            ));
            if ev.event == K::PppDown {
                f.push(format!(
                    "reason={}",
                    text::plain(p.reason.as_deref().unwrap_or("-"))
                ));
            }
        }
    }
    let down = matches!(ev.event, K::TunnelDown | K::SessionDown);
    // Deleted events carry the result when the instance went down with one.
    if down || ev.result.is_some() {
        let r = ev.result.clone().unwrap_or_default();
        f.push(format!("result={}", r.result));
        f.push(format!("error={}", r.error));
        f.push(text("message", r.message.as_deref()));
    }
    if format.verbose {
        if ev.event.is_session() {
            f.push(format!("pw_type={}", opt(ev.pseudowire_type)));
            f.push(text("interface", ev.interface_name.as_deref()));
        } else {
            f.push(format!("version={}", opt(ev.version)));
            f.push(format!("encap={}", opt(ev.encap)));
            if ev.event != K::TunnelCreated {
                f.push(format!(
                    "peer={}",
                    text::plain(ev.peer.as_deref().unwrap_or("-"))
                ));
            }
        }
    }
    s.push_str(&f.join(" "));
    s
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the Unix epoch.
fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_date(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01.
fn civil_date(days: i64) -> (i64, u32, u32) {
    // Count from 0000-03-01, so that a leap day is the last day of its "year", in 400-year
    // eras of 146 097 days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod completion_files;

#[cfg(test)]
mod tests {
    use super::*;
    use l2tp_ctl::{Encap, PseudowireType, ResultCode};

    #[test]
    fn the_completion_files_are_the_command_lines() {
        use clap::CommandFactory;
        completion_files::check(&Args::command(), "l2tpwatch");
    }

    fn ev(kind: EventKind) -> Event {
        Event::new(kind, 1_795_000_000_123, 7)
    }

    const PLAIN: Format = Format {
        verbose: false,
        timestamps: false,
        csv: false,
    };

    /// Events the daemon could not queue are told where they are missing, in both formats,
    /// with as many CSV fields as the header.
    #[test]
    fn lost_events_are_a_line_of_their_own() {
        assert_eq!(format_lost(1843, 0, PLAIN), "EVENTS LOST: count=1843\n");
        for verbose in [false, true] {
            for timestamps in [false, true] {
                let f = Format {
                    verbose,
                    timestamps,
                    csv: true,
                };
                let line = format_lost(7, 1_795_000_000_123, f);
                let fields: Vec<&str> = line.trim_end().split(',').collect();
                assert_eq!(fields.len(), csv_columns(f).len(), "{line}");
                let col = |name| csv_columns(f).iter().position(|c| *c == name);
                assert_eq!(col("event").map(|i| fields[i]), Some("EVENTS LOST"));
                assert_eq!(col("message").map(|i| fields[i]), Some("7"));
            }
        }
    }

    #[test]
    fn text_lines_follow_the_interface() {
        let mut e = ev(EventKind::TunnelCreated);
        e.name = Some("t1".into());
        e.profile = Some("default".into());
        e.peer = Some("192.0.2.1:1701".into());
        e.version = Some(3);
        e.encap = Some(Encap::Udp);
        assert_eq!(
            format_event(&e, PLAIN),
            "TUNNEL CREATED: tid=7 name=\"t1\" profile=\"default\" peer=192.0.2.1:1701\n"
        );
        let v = Format {
            verbose: true,
            ..PLAIN
        };
        assert_eq!(
            format_event(&e, v),
            "TUNNEL CREATED: tid=7 name=\"t1\" profile=\"default\" peer=192.0.2.1:1701 \
             version=3 encap=udp\n"
        );
        let mut e = ev(EventKind::SessionDown);
        e.sid = Some(9);
        e.peer_tid = Some(1);
        e.peer_sid = Some(2);
        e.pseudowire_type = Some(PseudowireType::Eth);
        e.interface_name = Some("l2tpeth0".into());
        e.result = Some(ResultCode {
            result: 3,
            error: 0,
            message: Some("a \"b\"".into()),
        });
        assert_eq!(
            format_event(&e, PLAIN),
            "SESSION DOWN: tid=7 sid=9 peer_tid=1 peer_sid=2 result=3 error=0 \
             message=\"a \\\"b\\\"\"\n"
        );
        assert_eq!(
            format_event(&e, v),
            "SESSION DOWN: tid=7 sid=9 peer_tid=1 peer_sid=2 result=3 error=0 \
             message=\"a \\\"b\\\"\" pw_type=eth interface=\"l2tpeth0\"\n"
        );
        let csv = Format {
            csv: true,
            timestamps: true,
            verbose: false,
        };
        assert_eq!(
            format_event(&e, csv),
            "2026-11-18T11:06:40.123Z,SESSION DOWN,7,9,1,2,,,,,3,0,\"a \"\"b\"\"\",,,\n"
        );
        assert_eq!(
            csv_header(csv),
            "time,event,tid,sid,peer_tid,peer_sid,name,profile,pw_profile,peer,result,error,\
             message,ppp_user,ppp_address,ppp_reason\n"
        );
        let e = ev(EventKind::TunnelDeleted);
        assert_eq!(format_event(&e, PLAIN), "TUNNEL DELETED: tid=7\n");
    }

    /// Text values cannot break the line: quotes and backslashes escaped, control characters
    /// as `\xNN` (l2tpwatch(1), OUTPUT).
    #[test]
    fn text_values_stay_on_their_line() {
        let mut e = ev(EventKind::TunnelCreated);
        e.name = Some("a \"b\"\\c\nd\te".into());
        assert_eq!(
            format_event(&e, PLAIN),
            "TUNNEL CREATED: tid=7 name=\"a \\\"b\\\"\\\\c\\x0ad\\x09e\" profile=\"\" peer=-\n"
        );
    }

    /// A peer's Result Code message, a PPP user or a name that tries to forge a line or send
    /// escape sequences to the terminal stays on its line in text and in CSV, escaped.
    #[test]
    fn hostile_values_stay_on_their_line_in_text_and_csv() {
        let evil = "evil\nl2tpd: tunnel up\x1b[31m\r\u{9b}";
        let mut e = ev(EventKind::PppDown);
        e.sid = Some(9);
        e.ppp = Some(Box::new(l2tp_ctl::PppEventInfo {
            user: Some(evil.into()),
            reason: Some("auth\x1b]0;x\x07".into()),
            ..Default::default()
        }));
        e.result = Some(ResultCode {
            result: 2,
            error: 0,
            message: Some(evil.into()),
        });
        let shown = r"evil\x0al2tpd: tunnel up\x1b[31m\x0d\x9b";
        let line = format_event(&e, PLAIN);
        assert_eq!(
            line,
            format!(
                "PPP DOWN: tid=7 sid=9 peer_tid=0 peer_sid=0 user=\"{shown}\" address=- auth=- \
                 reason=auth\\x1b]0;x\\x07 result=2 error=0 message=\"{shown}\"\n"
            )
        );
        let csv = format_event(&e, Format { csv: true, ..PLAIN });
        for out in [&line, &csv] {
            assert_eq!(out.lines().count(), 1, "{out}");
            assert!(
                !out.trim_end().contains(|c: char| c.is_control()),
                "{out:?}"
            );
        }
        assert!(csv.contains(&format!(",{shown},")), "{csv}");
    }

    #[test]
    fn dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(timestamp(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn ppp_types_are_up_and_down() {
        let t = parse_ppp_types("up").unwrap_or(Types::ALL);
        assert!(t.up && !t.down);
        assert_eq!(parse_ppp_types("all"), Ok(Types::ALL));
        for bad in ["created", "up,deleted", "sideways"] {
            assert!(
                parse_ppp_types(bad).is_err_and(|e| e.contains("up and down")),
                "{bad}"
            );
        }
    }

    #[test]
    fn counts_are_whole_numbers() {
        assert_eq!(whole_number("60"), Ok(60));
        for bad in ["abc", "-1", "1.5", ""] {
            assert!(
                whole_number(bad).is_err_and(|e| e.contains("whole number")),
                "{bad}"
            );
        }
    }

    #[test]
    fn types() {
        assert_eq!(parse_types("created,up,down,deleted"), Ok(Types::ALL));
        let t = parse_types("up,down").unwrap_or(Types::ALL);
        assert!(!t.created && t.up && t.down && !t.deleted);
        assert!(parse_types("upp").is_err());
    }
}
