//! The `l2tpd` config file: lexer, parser, diagnostics, typed config and reload diff.
//!
//! The syntax is that of ProL2TP's `prol2tpd.conf(5)`: blocks `block-type "name" { ... }` holding
//! one `parameter value [value...]` per line, with `#` comments. The block types are `system`
//! (unnamed, at most once), `peer profile`, `tunnel profile`, `session profile`,
//! `pseudowire profile`, `ppp profile` (the daemon's own PPP, named as in OpenL2TP's PPP
//! profiles), `ip pool`, `user`, `radius server`, `dynauth client`, `tunnel` and `session`. Values are booleans (`true`/`false`), numbers
//! (decimal or `0x` hex), strings (quoted when they hold spaces or `#`), IP addresses with an
//! optional port (`192.0.2.1:1701`, `[2001:db8::1]:1701`, or a DNS name, kept unresolved), IP
//! prefixes, MAC addresses, `hex:` byte strings and lists (separated by spaces or commas).
//! Where a parameter takes a string or hex (`secret`, `remote_end_id`), a bare `hex:a1b2` is
//! bytes and a quoted `"hex:a1b2"` is text.
//!
//! [`parse`] checks everything it can without I/O and reports **all** problems as
//! [`Diagnostic`]s (`FILE:LINE:COL: error: message`, plus the source line and a caret line with
//! [`Diagnostic::render`]). The result is a [`Config`]; [`Config::resolve_tunnel`] and
//! [`Config::resolve_session`] give the effective settings of an instance, and [`diff`] compares
//! two configs for SIGHUP reload. [`load`] and [`parse_with`] also read the users files that
//! PPP profiles name ([`parse_users_file`]); a problem in one is a [`Diagnostic`] too
//! (`FILE:LINE: error: message`), so a bad users file rejects the config like a bad line of it.
//! Settings that are accepted but have no effect are [`Config::warnings`].
//!
//! # Inheritance
//!
//! Every profile kind has a built-in profile named `default`, which the file may redefine.
//! Effective settings are layered, each layer overriding the ones after it:
//!
//! 1. the instance block (`tunnel "x"` / `session "x"`);
//! 2. the profile it names with `profile "p"` (a session without `profile` uses its tunnel's
//!    `session_profile_name`);
//! 3. the file's `default` profile of that kind (named profiles inherit from it, as in
//!    OpenL2TP);
//! 4. the built-in defaults documented on each `*Settings` field.
//!
//! Peer profiles do not inherit from the `default` peer profile: it is only the fallback of
//! [`Config::match_peer`].
//!
//! # Parameters left out
//!
//! From the reconstructed ProL2TP reference these are not accepted (an unknown parameter is an
//! error): the 1.x names `trace_flags`, system-wide `debug` categories,
//! `ethernet_profile_name` and the `ethernet profile` block; the peer profile's
//! `peer_port`; the tunnel's `mtu` (set `mtu` in the pseudowire profile); the session's
//! `sequencing_required` and `use_sequence_numbers` (covered by `data_sequencing`),
//! `minimum_bps`, `maximum_bps` and `connect_speed` (covered by `tx_connect_speed` and
//! `rx_connect_speed`), `user_name`, `user_password` and `no_ppp` (pppd's side), and the
//! pppac parameters `pppoe_session_id` and `pppoe_peer_mac`; the pseudowire profile's
//! propppd `ppp_profile` (its `ppp_profile_name` names a `ppp profile` of this file); and from
//! OpenL2TP's PPP profile the options that only pppd or a serial line had (`asyncmap`,
//! `sync_mode`, `auth_mschapv1`, `auth_eap`, the CHAP, PAP and IPCP counters, `multilink`,
//! `use_radius`, `default_route`, `remote_name`). `debug` takes a boolean, not a list of
//! categories.
//!
//! # Secrets
//!
//! [`Secret`] values (tunnel secrets, `user_password`, users' passwords) print as `<redacted>`
//! in `Debug` output, so configs can be logged; no diagnostic quotes a line of a users file.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address;
mod build;
mod changes;
mod config;
mod convert;
mod diagnostic;
mod diff;
mod lexer;
mod model;
mod params;
mod ppp;
mod radius;
mod span;
mod suggest;
mod syntax;
mod users;
mod value;

use std::path::{Path, PathBuf};

pub use changes::{Change, describe_changes, session_changes, tunnel_changes};
pub use config::{Config, DEFAULT_PROFILE, Place};
pub use diagnostic::{Diagnostic, Note, Severity, render_all};
pub use diff::{ConfigDiff, NameDiff, diff};
pub use model::{
    PeerParams, PeerProfile, PeerSettings, PppProfile, Profile, PseudowireParams,
    PseudowireProfile, PseudowireSettings, ResolvedSession, ResolvedTunnel, SessionInstance,
    SessionInstanceParams, SessionInstanceSettings, SessionParams, SessionProfile, SessionSettings,
    System, SystemParams, TunnelInstance, TunnelInstanceParams, TunnelInstanceSettings,
    TunnelParams, TunnelProfile, TunnelSettings,
};
pub use ppp::{
    IpPool, IpPoolParams, IpPoolSettings, PppAuthMethod, PppParams, PppSettings, User, UserOrigin,
    UserParams, UserSettings, UserTable,
};
pub use radius::{
    DYNAUTH_PORT, DynauthClient, DynauthClientParams, DynauthClientSettings, RADIUS_ACCT_PORT,
    RADIUS_AUTH_PORT, RadiusServer, RadiusServerParams, RadiusServerSettings,
};
pub use span::Span;
pub use users::parse_users_file;
pub use value::{
    AuthMode, AuthSource, Bearer, BearerCaps, DataSequencing, Dataplane, DigestType, Encap,
    Endpoint, Framing, FramingCaps, Host, IpPrefix, L2TP_PORT, L2specType, L2tpVersion, LacLns,
    LogLevel, MacAddr, MetricsDetail, PseudowireType, Relogin, Secret, SessionType, TextOrBytes,
};

/// Parses and checks config text. `file_name` is used only in diagnostics. Reads no file: the
/// users files that PPP profiles name are left unread (see [`parse_with`]).
///
/// Returns every error found, sorted by position, if there is any; the warnings of a valid
/// config are in [`Config::warnings`].
pub fn parse(file_name: &str, source: &str) -> Result<Config, Vec<Diagnostic>> {
    parse_inner(file_name, source, None)
}

/// [`parse`], reading each users file that a PPP profile names with `read_file` (given its
/// path): a file that cannot be read, or that has problems, is an error of the config.
pub fn parse_with(
    file_name: &str,
    source: &str,
    mut read_file: impl FnMut(&Path) -> std::io::Result<String>,
) -> Result<Config, Vec<Diagnostic>> {
    parse_inner(file_name, source, Some(&mut read_file))
}

fn parse_inner(
    file_name: &str,
    source: &str,
    read_file: Option<build::ReadFile<'_>>,
) -> Result<Config, Vec<Diagnostic>> {
    let (tokens, mut diags) = lexer::lex(source);
    let (blocks, syntax_diags) = syntax::parse(&tokens);
    diags.extend(syntax_diags);
    let (mut config, build_diags) = build::build(&blocks, read_file);
    diags.extend(build_diags);
    let index = span::LineIndex::new(source);
    for d in diags
        .iter_mut()
        .chain(config.pseudowire_types_at.iter_mut().map(|(_, d)| d))
        .chain(config.places.iter_mut().map(|(_, d)| d))
    {
        d.locate(file_name, &index, source);
    }
    diags.sort_by_key(|d| d.span().start);
    let (errors, warnings): (Vec<_>, Vec<_>) = diags
        .into_iter()
        .partition(|d| d.severity() == Severity::Error);
    if !errors.is_empty() {
        return Err(errors);
    }
    config.warnings = warnings;
    Ok(config)
}

/// Which instance block [`with_instance`] adds.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum InstanceKind {
    /// A `tunnel` block.
    Tunnel,
    /// A `session` block (its parent is the `tunnel` parameter).
    Session,
}

/// `base` with one more `tunnel` or `session` instance named `name`, whose parameters are
/// given as `(key, value)` pairs, as `l2tpctl create` takes them (`peer=192.0.2.1`).
///
/// Each pair is read exactly like a `key value` line of the block in a file, and the result is
/// checked like a whole file: unknown parameters, bad values, missing profiles or tunnels,
/// duplicate names and conflicting settings are all reported. A value with white space or one
/// of `{ } " #` is read as a quoted string; a comma separates list items (`framing_caps=sync,async`).
///
/// The problems are returned as messages without a file position, since there is no file.
pub fn with_instance(
    base: &Config,
    kind: InstanceKind,
    name: &str,
    params: &[(String, String)],
) -> Result<Config, Vec<String>> {
    fn quote(s: &str) -> String {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
    fn value(v: &str) -> String {
        if v.is_empty() || v.contains(|c: char| c.is_whitespace() || "{}\"#".contains(c)) {
            quote(v)
        } else {
            v.to_owned()
        }
    }
    let mut problems = Vec::new();
    // A name goes into log lines and listings as it is: no line break, no escape sequence.
    if name.contains(char::is_control) {
        problems.push(
            "a name cannot hold a control character (a line break, a tab, an escape)".to_owned(),
        );
    }
    let mut source = format!(
        "{} {} {{\n",
        match kind {
            InstanceKind::Tunnel => "tunnel",
            InstanceKind::Session => "session",
        },
        quote(name)
    );
    // Where each parameter's line starts, to name it in the problems.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (k, v) in params {
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            problems.push(format!("`{k}` is not a parameter name"));
            continue;
        }
        if v.contains(['\n', '\r']) {
            problems.push(format!("`{k}`: a value cannot hold a line break"));
            continue;
        }
        lines.push((source.len(), format!("{k}={v}")));
        source.push_str(&format!("{k} {}\n", value(v)));
    }
    source.push_str("}\n");
    if !problems.is_empty() {
        return Err(problems);
    }
    let (tokens, mut diags) = lexer::lex(&source);
    let (blocks, syntax_diags) = syntax::parse(&tokens);
    diags.extend(syntax_diags);
    let (config, build_diags) = build::build_onto(base, &blocks);
    diags.extend(build_diags);
    diags.retain(|d| d.severity() == Severity::Error);
    if diags.is_empty() {
        Ok(config)
    } else {
        let word = |at: usize| {
            lines
                .iter()
                .rev()
                .find(|(start, _)| *start <= at)
                .filter(|(start, _)| {
                    at < source[*start..]
                        .find('\n')
                        .map_or(usize::MAX, |n| start + n)
                })
                .map(|(_, w)| w.as_str())
        };
        Err(diags
            .iter()
            .map(|d| match word(d.span().start) {
                Some(w) => format!("{w}: {}", d.message()),
                None => d.message().to_owned(),
            })
            .collect())
    }
}

/// Reads and parses the config file at `path`, and the users files its PPP profiles name.
///
/// A file that is not UTF-8 text is [`LoadError::Invalid`], with a problem at each place that is
/// not; a users file that is not, an error naming its first such line.
pub fn load(path: impl AsRef<Path>) -> Result<Config, LoadError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let source = match String::from_utf8(bytes) {
        Ok(source) => source,
        Err(e) => {
            let (text, diagnostics) = not_utf8(&name, e.as_bytes());
            return Err(LoadError::Invalid { text, diagnostics });
        }
    };
    parse_with(&name, &source, |p| {
        let bytes = std::fs::read(p)?;
        String::from_utf8(bytes).map_err(|e| {
            let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line {line} is not UTF-8 text (the file must be UTF-8)"),
            )
        })
    })
    .map_err(|diagnostics| LoadError::Invalid {
        text: source,
        diagnostics,
    })
}

/// The text of a config file that is not UTF-8, each invalid sequence replaced by U+FFFD, and a
/// problem at the first of them on each line.
fn not_utf8(file_name: &str, bytes: &[u8]) -> (String, Vec<Diagnostic>) {
    let mut text = String::new();
    let mut at = Vec::new();
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            at.push(text.len());
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    let index = span::LineIndex::new(&text);
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for start in at {
        let mut d = Diagnostic::error(
            Span::new(start, start + char::REPLACEMENT_CHARACTER.len_utf8()),
            "not UTF-8 text: the file must be UTF-8 (convert it with `iconv -t UTF-8`)",
        );
        d.locate(file_name, &index, &text);
        if diagnostics
            .last()
            .is_none_or(|last| last.line() != d.line())
        {
            diagnostics.push(d);
        }
    }
    (text, diagnostics)
}

/// Why [`load`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has problems.
    #[error("{}", render_all(diagnostics, text))]
    Invalid {
        /// The text that was read, for [`Diagnostic::render`].
        text: String,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
}
