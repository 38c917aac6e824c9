//! The command line: `l2tpd [-h] [-v] [-f] [-c config-file] [-o log-file] [-n] [-d]`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Parser};

/// The default config file.
pub const DEFAULT_CONFIG: &str = "/etc/l2tpd/l2tpd.conf";

/// The options of `l2tpd`.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "l2tpd",
    about = "L2TP daemon: L2TPv2 (RFC 2661) and L2TPv3 (RFC 3931), LAC, LNS and LCCE",
    disable_version_flag = true,
    after_help = "Signals: SIGHUP re-reads the config, SIGTERM/SIGINT stop, SIGUSR1 flushes the \
                  log.\nExit status: 0 clean exit, 1 config or start-up error."
)]
pub struct Args {
    /// Print the version and licence and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// Stay in the foreground instead of forking into the background.
    #[arg(short = 'f', long = "foreground")]
    pub foreground: bool,
    /// The config file.
    #[arg(short = 'c', long = "config-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub config_file: PathBuf,
    /// Log to FILE (timestamped lines) instead of syslog.
    #[arg(short = 'o', long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Read and check the config, report every problem and exit: 0 if valid, 1 if not.
    #[arg(short = 'n', long = "dry-run")]
    pub dry_run: bool,
    /// Raise the log level one step per use (notice, info, debug, trace).
    #[arg(short = 'd', long = "debug", action = ArgAction::Count)]
    pub debug: u8,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run (or dry-run) with these options.
    Run(Args),
    /// Print this text on stdout and exit 0 (`-h`, `-v`).
    Print(String),
    /// Print this usage error on stderr and exit 1.
    Usage(String),
}

/// Parses the command line (`args` includes the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed {
    match Args::try_parse_from(args) {
        Ok(a) if a.version => Parsed::Print(version_text()),
        Ok(a) => Parsed::Run(a),
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            Parsed::Print(e.render().to_string())
        }
        Err(e) => Parsed::Usage(e.render().to_string()),
    }
}

/// The `-v` text: version, then copyright and licence.
pub fn version_text() -> String {
    format!(
        "l2tpd {}\nCopyright (c) the l2tp project contributors. Licensed under MIT or \
         Apache-2.0, at your option.\n",
        env!("CARGO_PKG_VERSION")
    )
}
