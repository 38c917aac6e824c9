//! Start-up and shutdown: command line, config, logging, sockets, fork, runtime.
//!
//! The order matters. Everything that can fail for a reason the operator must see (the config,
//! the log file, the sockets, the control socket) happens before the fork, while the terminal
//! is attached; the tokio runtime is built after the fork (house-style crates.md §12).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use l2tp_config::{Config, LoadError, Place};

use crate::cli::{self, Args, Parsed};
use crate::control::{self, ControlSocket};
use crate::core::{self, Core, HostFacts};
use crate::daemon::{self, Forked, PidFile, Readiness};
use crate::dataplane;
use crate::logging::{Destination, Level, LogHandle};
use crate::net::{self, Bound};
use crate::notice;
use crate::notify::Notifier;
use crate::shell::{self, Signals, Sockets};

/// Runs `l2tpd` with `args` (the program name first) and returns its exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = match cli::parse(args) {
        Parsed::Print(text) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Parsed::Usage(text) => {
            eprint!("{text}");
            return ExitCode::from(1);
        }
        Parsed::Run(args) => args,
    };
    // Before anything else is opened: what the parent left open must not reach the scripts
    // and pppd (l2tpd(8), START-UP AND SHUTDOWN). The daemon takes no descriptor from its
    // parent (no socket activation; NOTIFY_SOCKET is a path), so none is kept.
    let inherited = l2tp_dataplane::mark_inherited_cloexec(3);
    let config_path = absolute(&args.config_file);
    let config = match load_config(&config_path) {
        Ok(c) => c,
        Err(text) => {
            eprint!("{text}");
            return ExitCode::from(1);
        }
    };
    if args.dry_run {
        return dry_run(&config_path, &config);
    }
    start(&args, config_path, config, inherited)
}

/// What `autoname_interfaces false` gets: l2tpd numbers interface names itself all the same.
fn autoname_warning(config: &Config) -> Option<&'static str> {
    (!config.system().autoname_interfaces).then_some(
        "autoname_interfaces false is ignored: l2tpd numbers `%d` interface names itself \
         (skipping names already in use), which has no 32768-name limit",
    )
}

/// `l2tpd -n`: the config is valid; check that the data plane it asks for exists here and can
/// carry its sessions.
fn dry_run(path: &Path, config: &Config) -> ExitCode {
    let wanted = config.system().dataplane;
    let kind = match dataplane::choose(wanted) {
        Ok((kind, _)) => kind,
        Err(e) => {
            let place = Place::System("dataplane".into());
            eprintln!("l2tpd: {}", host_problem(path, config, place, e));
            return ExitCode::from(1);
        }
    };
    if let Some(e) = control::group_problem(config) {
        let place = Place::System("control_socket_group".into());
        eprintln!("l2tpd: {}", host_problem(path, config, place, e));
        return ExitCode::from(1);
    }
    for w in config.warnings() {
        eprintln!("l2tpd: {w}");
    }
    // Peers' L2TPv3 calls of a type the list admits but the data plane cannot carry (with
    // the `use_pppd` of the pseudowire profile they take) are refused all the same (L2TPv2
    // calls are not checked against the list).
    let version = l2tp_proto::wire::header::Version::V3;
    for w in config.pseudowire_types_warnings(|ty, pppd| kind.refusal(version, ty, pppd)) {
        eprintln!("l2tpd: {w}");
    }
    if let Some(w) = autoname_warning(config) {
        let place = Place::System("autoname_interfaces".into());
        eprintln!("l2tpd: {}", host_warning(path, config, place, w.into()));
    }
    let refused = dataplane::refusals(config, kind);
    // With `auto` the config is not at fault: another host may have the kernel's L2TP.
    if refused.is_empty() || wanted == l2tp_config::Dataplane::Auto {
        for (session, r) in &refused {
            let place = Place::Session(session.clone());
            let w = format!("on this host, dataplane auto means {}: {r}", kind.name());
            eprintln!("l2tpd: {}", host_warning(path, config, place, w));
        }
        println!("l2tpd: {}: config OK", path.display());
        return ExitCode::SUCCESS;
    }
    for (session, r) in &refused {
        let place = Place::Session(session.clone());
        eprintln!("l2tpd: {}", host_problem(path, config, place, r.clone()));
    }
    eprintln!(
        "l2tpd: {}: {} session(s) that the data plane cannot carry",
        path.display(),
        refused.len()
    );
    ExitCode::from(1)
}

/// A problem `l2tpd -n` found with what the file asks of this host: at `place` in the file
/// (`FILE:LINE:COL: error: ...`, as the file's own problems), else naming the file alone (a
/// default the file does not write).
fn host_problem(path: &Path, config: &Config, place: Place, message: String) -> String {
    match config.host_error(&place, message.as_str()) {
        Some(d) => d.to_string(),
        None => format!("{}: {message}", path.display()),
    }
}

/// [`host_problem`] for a warning: `FILE:LINE:COL: warning: ...`, else
/// `FILE: warning: ...`.
fn host_warning(path: &Path, config: &Config, place: Place, message: String) -> String {
    match config.host_warning(&place, message.as_str()) {
        Some(d) => d.to_string(),
        None => format!("{}: warning: {message}", path.display()),
    }
}

/// Reads the config; on failure, the text to print: every problem with its location and
/// source line, then a summary line.
pub fn load_config(path: &Path) -> Result<Config, String> {
    l2tp_config::load(path).map_err(|e| match e {
        LoadError::Invalid { text, diagnostics } => format!(
            "{}l2tpd: {}: {} problem(s) found\n",
            l2tp_config::render_all(&diagnostics, &text),
            path.display(),
            diagnostics.len()
        ),
        e => format!("l2tpd: {e}\n"),
    })
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// What was set up before the fork.
struct Prepared {
    udp: Vec<Bound>,
    ip: Vec<Bound>,
    control: ControlSocket,
    facts: HostFacts,
    dataplane: dataplane::Kind,
    metrics: Vec<std::net::TcpListener>,
    /// The socket of l2tp-nfqd's messages, and its path.
    nfq: Option<(std::os::unix::net::UnixDatagram, PathBuf)>,
}

fn start(
    args: &Args,
    config_path: PathBuf,
    config: Config,
    inherited: std::io::Result<Vec<std::os::fd::RawFd>>,
) -> ExitCode {
    let sys = config.system().clone();
    let level = Level::from(sys.log_level).raised(args.debug);
    let log_file = args.log_file.as_deref().map(absolute);
    let dest = Destination::choose(log_file.as_deref(), args.foreground);
    let log = match LogHandle::install(&dest, level) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("l2tpd: {e}");
            return ExitCode::from(1);
        }
    };
    if log.syslog_unavailable() {
        eprintln!(
            "l2tpd: warning: cannot reach syslog at /dev/log; log messages will be lost \
             (use -o FILE to log to a file)"
        );
    }
    match inherited {
        Ok(fds) if fds.is_empty() => {}
        Ok(fds) => tracing::info!(
            "descriptors inherited from the parent process marked close-on-exec: {fds:?}"
        ),
        Err(e) => tracing::warn!(
            "cannot mark inherited descriptors close-on-exec ({e}): scripts and pppd may \
             inherit them"
        ),
    }
    crate::limits::raise_nofile(sys.max_tunnels);
    let prepared = match prepare(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("l2tpd: {e}");
            tracing::error!("start-up failed: {e}");
            log.flush();
            return ExitCode::from(1);
        }
    };
    log.flush();
    let readiness = if args.foreground {
        None
    } else {
        match daemon::fork_to_background() {
            Ok(Forked::Parent(code)) => return code,
            Ok(Forked::Child(r)) => {
                log.detach_stderr();
                Some(r)
            }
            Err(e) => {
                prepared.control.remove_file();
                eprintln!("l2tpd: cannot fork: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let pid_file = absolute(&sys.pid_file);
    run_daemon(
        args,
        config_path,
        config,
        prepared,
        &pid_file,
        readiness,
        log,
    )
}

fn prepare(config: &Config) -> Result<Prepared, String> {
    let sys = config.system();
    let (dataplane, note) = dataplane::choose(sys.dataplane)?;
    if let Some(note) = note {
        notice!("{note}");
    }
    for w in config.warnings() {
        tracing::warn!("{w}");
    }
    if let Some(w) = autoname_warning(config) {
        tracing::warn!("{w}");
    }
    for (_, r) in dataplane::refusals(config, dataplane) {
        tracing::error!("{r}; the session will be refused");
    }
    let udp = net::bind_udp(&sys.listen, sys.learn_sccrq_mark)?;
    let ip = if core::uses_ip_encap(config) {
        net::open_ip(&sys.listen)
    } else {
        Vec::new()
    };
    let metrics = crate::metrics::bind(&sys.metrics_listen)?;
    let control_path = absolute(&sys.control_socket);
    let control = control::prepare(&control_path, sys.control_socket_group.as_deref())?;
    let nfq = match sys.nfq_socket.as_deref().map(absolute) {
        Some(path) => match net::bind_nfq(&path) {
            Ok(s) => Some((s, path)),
            Err(e) => {
                control.remove_file();
                return Err(e);
            }
        },
        None => None,
    };
    let facts = HostFacts {
        listen: udp.iter().map(|b| b.local).collect(),
        ip_listen: ip.iter().map(|b| b.local.ip()).collect(),
        ip_tunnel_sockets: ip.iter().any(|b| b.framing == net::Framing::L2tpIp),
        control_socket: control_path,
        host_name: net::host_name(),
        router_id: net::derive_router_id(&sys.listen),
        native_ppp: dataplane.carries_native_ppp(),
    };
    Ok(Prepared {
        udp,
        ip,
        control,
        facts,
        dataplane,
        metrics,
        nfq,
    })
}

fn run_daemon(
    args: &Args,
    config_path: PathBuf,
    config: Config,
    prepared: Prepared,
    pid_path: &Path,
    readiness: Option<Readiness>,
    log: LogHandle,
) -> ExitCode {
    let Prepared {
        udp,
        ip,
        control,
        facts,
        dataplane,
        metrics,
        nfq,
    } = prepared;
    let (nfq, nfq_path) = nfq.map_or((None, None), |(s, p)| (Some(s), Some(p)));
    let nfq_at = nfq_path
        .as_ref()
        .map(|p| format!(", l2tp-nfqd messages on {}", p.display()))
        .unwrap_or_default();
    let remove_nfq = || {
        if let Some(p) = &nfq_path {
            let _ = std::fs::remove_file(p);
        }
    };
    let metrics_at: String = metrics
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| format!(", metrics on http://{a}/metrics"))
        .collect();
    let fail = |readiness: Option<Readiness>, msg: String| {
        tracing::error!("start-up failed: {msg}");
        log.flush();
        control.remove_file();
        remove_nfq();
        match readiness {
            Some(r) => r.fail(&msg),
            None => eprintln!("l2tpd: {msg}"),
        }
        ExitCode::from(1)
    };
    let pid_file = match PidFile::create(pid_path) {
        Ok(p) => p,
        Err(e) => return fail(readiness, e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            pid_file.remove();
            return fail(readiness, format!("cannot start the runtime: {e}"));
        }
    };
    let listen: Vec<String> = facts.listen.iter().map(|a| a.to_string()).collect();
    let ip_listen: String = ip
        .iter()
        .map(|b| {
            let kind = match b.framing {
                net::Framing::L2tpIp => "L2TP/IP",
                _ => "raw",
            };
            format!(", IP protocol 115 on {} ({kind})", b.local.ip())
        })
        .collect();
    let setup = runtime.block_on(async {
        let signals = Signals::install().map_err(|e| format!("cannot handle signals: {e}"))?;
        let sockets = Sockets::register(udp, ip)
            .map_err(|e| format!("cannot register sockets: {e}"))?
            .with_metrics(metrics)
            .with_nfq(nfq);
        let listener = control
            .listener
            .try_clone()
            .and_then(tokio::net::UnixListener::from_std)
            .map_err(|e| format!("cannot register the control socket: {e}"))?;
        let primary = dataplane::open(dataplane, config.system())?;
        let fallback = dataplane::fallback(&*primary, config.system());
        let plane = dataplane::DataplaneHost::new(primary, facts.ip_tunnel_sockets)
            .with_sccrq_marks(config.system().learn_sccrq_mark)
            .with_fd_ceiling(crate::limits::tunnel_fd_ceiling())
            .with_fallback(fallback);
        let now = Instant::now();
        let mut core = Core::new(
            config,
            config_path,
            facts,
            args.debug,
            Some(log.clone()),
            now,
        );
        core.start(now);
        Ok::<_, String>((core, sockets, plane, listener, signals))
    });
    let (core, sockets, plane, listener, signals) = match setup {
        Ok(s) => s,
        Err(e) => {
            pid_file.remove();
            return fail(readiness, e);
        }
    };
    let notifier = Notifier::from_env(readiness.is_some());
    if let Some(r) = readiness
        && let Err(e) = r.ready()
    {
        tracing::error!("cannot detach from the terminal: {e}");
    }
    notice!(
        "l2tpd {} started (pid {}): listening on UDP {}{}, control socket \
         {}{metrics_at}{nfq_at}, log level {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        listen.join(" "),
        ip_listen,
        control.path().display(),
        log.level()
    );
    runtime.block_on(shell::run(
        core,
        sockets,
        plane,
        listener,
        signals,
        log.clone(),
        notifier,
    ));
    control.remove_file();
    remove_nfq();
    pid_file.remove();
    notice!("l2tpd stopped");
    log.flush();
    ExitCode::SUCCESS
}
