//! pppd for the PPP pseudowires of the kernel data plane: started with its pppol2tp plugin on
//! a PPPoL2TP socket, logged, watched, and stopped.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use super::super::api::{DataplaneEvent, PppdSpec};

/// How long pppd has to exit after SIGTERM before it gets SIGKILL.
const STOP_BOUND: Duration = Duration::from_secs(3);

/// What pppd needs to know of its session.
#[derive(Debug)]
pub(super) struct PppdArgs<'a> {
    pub(super) tid: u32,
    pub(super) sid: u32,
    pub(super) ifname: &'a str,
    pub(super) lns: bool,
    pub(super) send_seq: bool,
    pub(super) recv_seq: bool,
    /// The pseudowire profile's `local_ip` and `peer_ip`, given to pppd as `LOCAL:PEER`.
    pub(super) local_ip: Option<IpAddr>,
    pub(super) peer_ip: Option<IpAddr>,
    pub(super) spec: &'a PppdSpec,
}

/// pppd's arguments: the plugin on descriptor `fd`, the session's mode, sequencing and ids,
/// its interface name, the link's addresses, then the profile's `pppd_options`, each string
/// split at white space into separate arguments (l2tpd.conf(5): `"ms-dns 192.0.2.53"` is the
/// option `ms-dns` and its value, as pppd reads them from an options file).
pub(super) fn argv(a: &PppdArgs<'_>, fd: i32) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "plugin".into(),
        "pppol2tp.so".into(),
        "pppol2tp".into(),
        fd.to_string(),
    ];
    if a.lns {
        v.push("pppol2tp_lns_mode".into());
    }
    if a.send_seq {
        v.push("pppol2tp_send_seq".into());
    }
    if a.recv_seq {
        v.push("pppol2tp_recv_seq".into());
    }
    v.extend([
        "pppol2tp_tunnel_id".into(),
        a.tid.to_string(),
        "pppol2tp_session_id".into(),
        a.sid.to_string(),
    ]);
    // The kernel names a new unit pppN after its number, and pppd renames it to `ifname`:
    // while many pppd start at once, the name one is to take can still be another's unit's
    // kernel name, and its rename fails ("File exists"). For a name of that form, pppd asks
    // for that unit, which gets the name from the start.
    if let Some(unit) = a
        .ifname
        .strip_prefix("ppp")
        .filter(|n| *n == "0" || !n.starts_with('0'))
        .and_then(|n| n.parse::<u32>().ok())
    {
        v.extend(["unit".into(), unit.to_string()]);
    }
    v.extend([
        "ifname".into(),
        a.ifname.to_owned(),
        // The daemon watches pppd: it must stay in the foreground, and log to stderr.
        "nodetach".into(),
        "logfd".into(),
        "2".into(),
    ]);
    if a.local_ip.is_some() || a.peer_ip.is_some() {
        let ip = |x: Option<IpAddr>| x.map(|x| x.to_string()).unwrap_or_default();
        v.push(format!("{}:{}", ip(a.local_ip), ip(a.peer_ip)));
    }
    if let Some(n) = &a.spec.remote_number {
        v.extend(["remotenumber".into(), n.clone()]);
    }
    if let Some(p) = &a.spec.ipparam {
        v.extend(["ipparam".into(), p.clone()]);
    }
    if let Some((mru, mtu)) = a.spec.sizes {
        v.extend(["mru".into(), mru.to_string(), "mtu".into(), mtu.to_string()]);
    }
    v.extend(
        a.spec
            .pppd_options
            .iter()
            .flat_map(|o| o.split_whitespace().map(str::to_owned)),
    );
    v
}

/// A running pppd.
#[derive(Debug)]
pub(super) struct Pppd {
    pub(super) pid: u32,
    stop: Option<oneshot::Sender<()>>,
    /// Set once the watcher has reaped pppd: its pid may then belong to another process.
    reaped: Arc<AtomicBool>,
}

/// What the service manager gave the daemon alone (notify socket, watchdog), which pppd must
/// not take for its own: a pppd that notified the manager would speak for l2tpd.
const DAEMON_ONLY_ENV: [&str; 4] = [
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "LISTEN_FDS",
];

/// The command that runs pppd for `a` on descriptor `fd`.
fn command(a: &PppdArgs<'_>, fd: i32) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(&a.spec.pppd_path);
    c.args(argv(a, fd))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in DAEMON_ONLY_ENV {
        c.env_remove(name);
    }
    c
}

impl Pppd {
    /// Starts pppd on PPPoL2TP socket `socket` (pppd inherits it; our copy is closed). When
    /// pppd exits on its own, `events` gets a [`DataplaneEvent::SessionDown`].
    pub(super) fn start(
        a: &PppdArgs<'_>,
        socket: OwnedFd,
        events: UnboundedSender<DataplaneEvent>,
    ) -> std::io::Result<Self> {
        let fd = socket.as_raw_fd();
        // The one descriptor pppd inherits. The daemon's runtime has one thread, so no other
        // child is spawned while the flag is off; our copy is closed right after the spawn.
        fcntl(&socket, FcntlArg::F_SETFD(FdFlag::empty()))?;
        let spawned = command(a, fd).spawn();
        drop(socket);
        let mut child = spawned?;
        let pid = child.id().unwrap_or(0);
        let (tid, sid) = (a.tid, a.sid);
        tracing::info!(
            "session {tid}/{sid}: started {} (pid {pid}) on {}",
            a.spec.pppd_path.display(),
            a.ifname
        );
        if let Some(out) = child.stdout.take() {
            tokio::spawn(log_lines(out, pid, tid, sid));
        }
        if let Some(out) = child.stderr.take() {
            tokio::spawn(log_lines(out, pid, tid, sid));
        }
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let reaped = Arc::new(AtomicBool::new(false));
        let reaped_w = reaped.clone();
        tokio::spawn(async move {
            tokio::select! {
                status = child.wait() => {
                    reaped_w.store(true, Ordering::Relaxed);
                    let reason = match status {
                        Ok(s) => format!("pppd (pid {pid}) exited: {s}"),
                        Err(e) => format!("pppd (pid {pid}) lost: {e}"),
                    };
                    let _ = events.send(DataplaneEvent::SessionDown { tid, sid, reason });
                }
                _ = stop_rx => {
                    if tokio::time::timeout(STOP_BOUND, child.wait()).await.is_err() {
                        tracing::warn!(
                            "session {tid}/{sid}: pppd {pid} ignored SIGTERM; killing it"
                        );
                        let _ = child.kill().await;
                    }
                    tracing::debug!("session {tid}/{sid}: pppd {pid} stopped");
                }
            }
        });
        Ok(Self {
            pid,
            stop: Some(stop_tx),
            reaped,
        })
    }

    /// Stops pppd: SIGTERM now, SIGKILL if it is still there after a bound. No
    /// [`DataplaneEvent::SessionDown`] follows.
    pub(super) fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            // SIGTERM now, even if the runtime stops before the watcher runs (at shutdown);
            // the watcher then escalates to SIGKILL after the bound. pppd is our child and
            // its watcher has not reaped it unless it has exited already.
            if !self.reaped.load(Ordering::Relaxed) {
                signal(self.pid, Signal::SIGTERM);
            }
            let _ = tx.send(());
        }
    }
}

async fn log_lines<R: tokio::io::AsyncRead + Unpin>(out: R, pid: u32, tid: u32, sid: u32) {
    let mut lines = BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!("pppd[{pid}] (session {tid}/{sid}): {line}");
    }
}

fn signal(pid: u32, sig: Signal) {
    if let Ok(raw) = i32::try_from(pid)
        && raw > 0
    {
        let _ = kill(Pid::from_raw(raw), sig);
    }
}

/// Kills a pppd that an earlier daemon left running.
pub(super) fn kill_leftover(pid: u32) {
    if super::state::is_pppd(pid) {
        tracing::warn!("killing pppd {pid}, left by an earlier l2tpd");
        signal(pid, Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn pppd_arguments() {
        let spec = PppdSpec {
            pppd_path: PathBuf::from("/usr/sbin/pppd"),
            pppd_options: vec![
                "noauth".into(),
                "mtu".into(),
                "1400".into(),
                "ms-dns 192.0.2.53".into(),
                " lcp-echo-interval\t30 ".into(),
            ],
            remote_number: None,
            ipparam: None,
            sizes: None,
        };
        let mut a = PppdArgs {
            tid: 7,
            sid: 9,
            ifname: "ppp3",
            lns: true,
            send_seq: false,
            recv_seq: true,
            local_ip: Some("198.51.100.1".parse().unwrap_or(IpAddr::from([0; 4]))),
            peer_ip: Some("198.51.100.2".parse().unwrap_or(IpAddr::from([0; 4]))),
            spec: &spec,
        };
        assert_eq!(
            argv(&a, 5).join(" "),
            "plugin pppol2tp.so pppol2tp 5 pppol2tp_lns_mode pppol2tp_recv_seq \
             pppol2tp_tunnel_id 7 pppol2tp_session_id 9 unit 3 ifname ppp3 nodetach logfd 2 \
             198.51.100.1:198.51.100.2 noauth mtu 1400 ms-dns 192.0.2.53 lcp-echo-interval 30"
        );
        // One argument per word: pppd takes "ms-dns 192.0.2.53" as one unknown option.
        let v = argv(&a, 5);
        let tail: Vec<&str> = v[v.len() - 7..].iter().map(String::as_str).collect();
        assert_eq!(
            tail,
            [
                "noauth",
                "mtu",
                "1400",
                "ms-dns",
                "192.0.2.53",
                "lcp-echo-interval",
                "30"
            ]
        );
        a.lns = false;
        a.send_seq = true;
        a.recv_seq = false;
        a.local_ip = None;
        let v = argv(&a, 5);
        assert!(v.contains(&"pppol2tp_send_seq".to_owned()));
        assert!(!v.contains(&"pppol2tp_lns_mode".to_owned()));
        assert!(v.contains(&":198.51.100.2".to_owned()));
    }

    /// The arguments of an LNS's session 7/9 on `ifname`, without sequencing or addresses.
    fn lns_args<'a>(ifname: &'a str, spec: &'a PppdSpec) -> PppdArgs<'a> {
        PppdArgs {
            tid: 7,
            sid: 9,
            ifname,
            lns: true,
            send_seq: false,
            recv_seq: false,
            local_ip: None,
            peer_ip: None,
            spec,
        }
    }

    /// pppd gets the daemon's environment but the service manager's notify socket and
    /// watchdog, which are l2tpd's alone (a pppd that notified would speak for l2tpd).
    #[test]
    fn pppd_does_not_get_the_service_managers_variables() {
        let spec = PppdSpec {
            pppd_path: PathBuf::from("/usr/sbin/pppd"),
            pppd_options: Vec::new(),
            remote_number: None,
            ipparam: None,
            sizes: None,
        };
        let c = command(&lns_args("ppp0", &spec), 5);
        let removed: Vec<String> = c
            .as_std()
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            assert!(removed.iter().any(|r| r == name), "{name}: {removed:?}");
        }
        assert_eq!(
            c.as_std().get_args().count(),
            argv(&lns_args("ppp0", &spec), 5).len()
        );
    }

    #[test]
    fn a_kernel_like_name_asks_for_its_unit() {
        let spec = PppdSpec {
            pppd_path: PathBuf::from("/usr/sbin/pppd"),
            pppd_options: Vec::new(),
            remote_number: None,
            ipparam: None,
            sizes: None,
        };
        let unit = |ifname: &str| {
            let v = argv(&lns_args(ifname, &spec), 5);
            v.iter().position(|w| w == "unit").map(|i| v[i + 1].clone())
        };
        assert_eq!(unit("ppp0").as_deref(), Some("0"));
        assert_eq!(unit("ppp12").as_deref(), Some("12"));
        // Not a name the kernel gives: pppd renames whatever unit it gets.
        for name in ["ppp", "ppp01", "pppoe0", "l2tp7", "ppp99999999999"] {
            assert_eq!(unit(name), None, "{name}");
        }
    }

    #[test]
    fn the_calling_number_and_the_peer_reach_pppd() {
        let spec = PppdSpec {
            pppd_path: PathBuf::from("/usr/sbin/pppd"),
            pppd_options: vec!["noauth".into()],
            remote_number: Some("5551234".into()),
            ipparam: Some("192.0.2.2".into()),
            sizes: None,
        };
        let v = argv(&lns_args("ppp3", &spec), 5).join(" ");
        assert!(
            v.ends_with("remotenumber 5551234 ipparam 192.0.2.2 noauth"),
            "{v}"
        );
    }

    /// pppd asks for the MRU and sends with the MTU that fit the tunnel's underlay, unless
    /// `pppd_options` say otherwise: pppd takes the last of an option given twice.
    #[test]
    fn pppd_is_sized_to_the_underlay_before_its_options() {
        let mut spec = PppdSpec {
            pppd_path: PathBuf::from("/usr/sbin/pppd"),
            pppd_options: vec!["noauth".into()],
            remote_number: None,
            ipparam: None,
            sizes: Some((1456, 1440)),
        };
        let v = argv(&lns_args("ppp3", &spec), 5).join(" ");
        assert!(
            v.ends_with("nodetach logfd 2 mru 1456 mtu 1440 noauth"),
            "{v}"
        );
        spec.pppd_options = vec!["mtu 1400".into()];
        let v = argv(&lns_args("ppp3", &spec), 5).join(" ");
        assert!(v.ends_with("mru 1456 mtu 1440 mtu 1400"), "{v}");
        spec.sizes = None;
        let v = argv(&lns_args("ppp3", &spec), 5);
        assert!(!v.iter().any(|w| w == "mru"), "{v:?}");
    }
}
