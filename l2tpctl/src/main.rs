//! `l2tpctl [-S socket] [-j|--json] COMMAND`: query and manage a running `l2tpd` over its
//! control socket (see `l2tpctl(1)`).
//!
//! Exit status: 0 success, 1 the daemon refused or failed the command or its answer could not
//! be written out, 2 invalid command line, 3 the daemon could not be reached or stopped before
//! the end of its answer, 4 a reload was applied but some of the file's tunnel or session
//! blocks were refused (the answer lists them). Errors go to stderr as text, also with
//! `--json`.

mod command;
#[cfg(test)]
mod completion;
#[cfg(test)]
mod completion_files;
mod connect;
mod output;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use l2tp_ctl::{CtlError, DEFAULT_SOCKET, Reply, Request, Response};

/// How long to wait for the daemon's answer (a reload re-reads the config file).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Parser)]
#[command(
    name = "l2tpctl",
    version,
    about = "Query and manage a running l2tpd",
    after_help = command::COMMANDS
)]
struct Args {
    /// The daemon's control socket.
    #[arg(short = 'S', value_name = "socket", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Print JSON instead of text.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// The command and its arguments.
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

/// Why a command failed, with its exit status.
enum Failure {
    /// The daemon refused or failed the command (1).
    Refused(CtlError),
    /// The command line is invalid (2).
    Usage(String),
    /// The daemon could not be reached, answered nonsense or stopped while it answered (3).
    Unreachable(String),
    /// A reload was applied but refused some blocks, which its answer lists (4).
    PartlyApplied,
    /// The answer could not be written out (a full disk, say), whatever the daemon did (1).
    Output(String),
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
        Err(Failure::Refused(e)) => {
            // The daemon's message can name what the command named, as it was given.
            let msg = output::terminal_safe(e.message.trim_end().to_owned());
            eprintln!("l2tpctl: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("l2tpctl: {msg}\n\nUsage: l2tpctl [-S socket] [-j|--json] COMMAND\n");
            eprintln!("{}", command::COMMANDS);
            ExitCode::from(2)
        }
        Err(Failure::Unreachable(msg)) => {
            eprintln!("l2tpctl: {msg}");
            ExitCode::from(3)
        }
        Err(Failure::PartlyApplied) => ExitCode::from(4),
        Err(Failure::Output(msg)) => {
            eprintln!("l2tpctl: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let mut request = command::parse(&args.command).map_err(Failure::Usage)?;
    // Listings come in pages: no line grows with the number of sessions.
    if let Request::ShowTunnels { list } | Request::ShowSessions { list, .. } = &mut request {
        list.stream = true;
    }
    let response = ask(&args.socket, &request)?;
    let out = if args.json {
        output::json(&response)
    } else {
        output::text(&response)
    };
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`l2tpctl show tunnels | head -1`) is not an error worth reporting.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Err(Failure::Output(format!("writing the output: {e}")));
        }
        _ => {}
    }
    match response {
        Response::Reloaded(r) if !r.refused.is_empty() => Err(Failure::PartlyApplied),
        _ => Ok(()),
    }
}

/// Sends one request and reads its answer.
fn ask(socket: &Path, request: &Request) -> Result<Response, Failure> {
    let shown = socket.display();
    let stream = connect::connect(socket).map_err(Failure::Unreachable)?;
    let broken = |e: io::Error| Failure::Unreachable(format!("talking to l2tpd on {shown}: {e}"));
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(broken)?;
    stream
        .set_write_timeout(Some(ANSWER_TIMEOUT))
        .map_err(broken)?;
    let mut writer = &stream;
    writer
        .write_all(l2tp_ctl::encode_request(request).as_bytes())
        .map_err(broken)?;
    // A listing comes in pages, one line each, until one is not marked `more`.
    let mut reader = BufReader::new(&stream);
    let mut answer: Option<Response> = None;
    loop {
        let line = read_line(&mut reader, &shown, answer.is_some())?;
        let (reply, more) = l2tp_ctl::decode_page(&line)
            .map_err(|e| Failure::Unreachable(format!("{shown}: {e}")))?;
        let other = || {
            Failure::Unreachable(format!(
                "{shown}: l2tpd answered with something else than was asked for (are l2tpd and \
                 l2tpctl from the same release?)"
            ))
        };
        // Events are for watchers: from the daemon, not a refusal of the command.
        if matches!(reply, Reply::Event(_) | Reply::EventsLost(_)) {
            return Err(other());
        }
        let page = reply.into_result().map_err(Failure::Refused)?;
        if !command::answers(request, &page) {
            return Err(other());
        }
        answer = Some(match (answer, page) {
            (Some(Response::Tunnels(mut all)), Response::Tunnels(t)) => {
                all.extend(t);
                Response::Tunnels(all)
            }
            (Some(Response::Sessions(mut all)), Response::Sessions(s)) => {
                all.extend(s);
                Response::Sessions(all)
            }
            (_, page) => page,
        });
        if !more {
            break;
        }
    }
    answer.ok_or_else(|| Failure::Unreachable(format!("{shown}: no answer")))
}

/// One line of the daemon's answer (at most [`l2tp_ctl::MAX_LINE`] bytes); `begun` when pages
/// of it came before.
fn read_line(
    reader: &mut impl BufRead,
    shown: &std::path::Display<'_>,
    begun: bool,
) -> Result<String, Failure> {
    let broken = |e: io::Error| Failure::Unreachable(format!("talking to l2tpd on {shown}: {e}"));
    let mut line = String::new();
    let n = reader
        .take(l2tp_ctl::MAX_LINE as u64 + 1)
        .read_line(&mut line)
        .map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Unreachable(format!(
                "l2tpd did not answer on {shown} within {}s",
                ANSWER_TIMEOUT.as_secs()
            )),
            _ => broken(e),
        })?;
    if n == 0 && !begun {
        return Err(Failure::Unreachable(format!(
            "l2tpd closed the connection on {shown} without answering"
        )));
    }
    if !line.ends_with('\n') {
        // The daemon stopped, or was stopped, while it sent the answer: a listing's pages up to
        // here are not the whole list.
        return Err(Failure::Unreachable(if n > l2tp_ctl::MAX_LINE {
            format!(
                "{shown}: a line of the answer is longer than {} bytes",
                l2tp_ctl::MAX_LINE
            )
        } else {
            format!("l2tpd closed the connection on {shown} in the middle of its answer")
        }));
    }
    Ok(line)
}
