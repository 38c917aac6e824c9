//! `script_timeout` against a real `l2tpd`: with `max_scripts 1`, a tunnel-created script that
//! never ends (and a child it started) is stopped after the time limit, logged and counted,
//! and every other script then runs; a reload's new limit applies to the scripts after it.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::*;
use l2tp_testkit::daemon::process_ended;

/// The scrape of the metrics endpoint on 127.0.0.1:`port`, in the Prometheus text format.
fn scrape(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(UP)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The value of the series `series` (name and labels as scraped), 0 when absent.
fn series(scrape: &str, series: &str) -> u64 {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

/// The pid the hanging script of tunnel `name` wrote into `what` (`pid`, `child`).
fn pid_of(env: &Env, name: &str, what: &str) -> String {
    let file = env.dir.join(format!("records/{name}.{what}.pid"));
    wait_for(UP, &format!("{}", file.display()), env, || {
        let text = std::fs::read_to_string(&file).ok()?;
        text.ends_with('\n').then(|| text.trim().to_owned())
    })
}

const TIMEOUT_SERIES: &str =
    "l2tpd_script_runs_total{script=\"tunnel-created\",result=\"timeout\"}";

/// The client's config: `max_scripts 1`, `script_timeout` `secs`, metrics on `metrics`, and
/// `tunnels` (the hanging ones are named `slow...`).
fn config(env: &Env, server: u16, scripts: &Path, secs: u32, metrics: u16, tunnels: &[&str]) {
    let tunnels: String = tunnels
        .iter()
        .map(|t| format!("tunnel \"{t}\" {{\n    peer 127.0.0.1:{server}\n    version 3\n}}\n"))
        .collect();
    env.write_config(
        &format!(
            "    dataplane none\n    script_dir {}\n    max_scripts 1\n    script_timeout {secs}\n    \
             metrics_listen 127.0.0.1:{metrics}\n",
            scripts.display()
        ),
        &format!("{tunnels}session \"fs\" {{\n    tunnel \"fast\"\n    pseudowire_type eth\n}}\n"),
    );
}

#[test]
fn a_script_that_never_ends_is_stopped_after_script_timeout() {
    let s = server(None);
    let mut c = Env::new(l2tpd(), "client");
    // The tunnel-created script of tunnels "slow..." starts a child that sleeps, and waits.
    let hang = "echo $$ > \"$records/$TUNNEL_NAME.pid.pid\"\n        \
                sleep 1000 &\n        echo $! > \"$records/$TUNNEL_NAME.child.pid\"\n        wait";
    let scripts = write_scripts_hanging(&c.dir, Some(("slow*", hang)));
    let metrics = common::free_port();
    config(&c, s.port, &scripts, 2, metrics, &["slow1", "fast"]);
    c.start(&["-d"]);
    let slow1 = tunnel_up(&c, "slow1");
    let fast = tunnel_up(&c, "fast");
    let fs = session_up(&c, "fs");
    let pid = pid_of(&c, "slow1", "pid");
    let child = pid_of(&c, "slow1", "child");

    // One place for scripts, held by the hanging one: the others run once it is stopped.
    let all = wait_records(&c, "the scripts after the hanging one", |r| {
        order(r, fast.tid, None).len() == 2
            && of_instance(r, fast.tid, Some(fs.sid)).len() == 2
            && order(r, slow1.tid, None).len() == 2
    });
    assert_eq!(
        order(&all, slow1.tid, None),
        ["tunnel-created", "tunnel-up"]
    );
    assert_eq!(order(&all, fast.tid, None), ["tunnel-created", "tunnel-up"]);
    assert_eq!(
        order(&all, fast.tid, Some(fs.sid)),
        ["session-created", "session-up"]
    );
    let log = c.wait_log("still running after 2s");
    let warning = log
        .lines()
        .find(|l| l.contains("still running after"))
        .unwrap();
    assert!(warning.contains(" warning: "), "{warning}");
    for part in [
        format!("{}/tunnel-created", scripts.display()),
        format!("tunnel-created event of tunnel {}", slow1.tid),
        format!("pid {pid}"),
        "its process group".to_owned(),
    ] {
        assert!(warning.contains(&part), "{part:?} not in {warning}");
    }
    wait_for(UP, "the hanging script's child killed", &c, || {
        process_ended(&child).then_some(())
    });
    assert!(process_ended(&pid));
    assert_eq!(series(&scrape(metrics), TIMEOUT_SERIES), 1);

    // A reload's limit applies to the scripts queued after it.
    config(
        &c,
        s.port,
        &scripts,
        1,
        metrics,
        &["slow1", "fast", "slow2"],
    );
    c.signal(Signal::SIGHUP);
    let slow2 = tunnel_up(&c, "slow2");
    let child2 = pid_of(&c, "slow2", "child");
    let log = c.wait_log("still running after 1s");
    let warning = log
        .lines()
        .find(|l| l.contains("still running after 1s"))
        .unwrap();
    assert!(
        warning.contains(&format!("tunnel-created event of tunnel {}", slow2.tid)),
        "{warning}"
    );
    wait_records(&c, "slow2's tunnel-up", |r| {
        order(r, slow2.tid, None) == ["tunnel-created", "tunnel-up"]
    });
    wait_for(UP, "slow2's child killed", &c, || {
        process_ended(&child2).then_some(())
    });
    assert_eq!(series(&scrape(metrics), TIMEOUT_SERIES), 2);
}
