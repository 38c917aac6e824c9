//! Servers started in a network namespace: wait until they listen instead of sleeping, and
//! iperf3 from one namespace to another.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server gets to start listening on a machine busy with other tests.
pub const LISTEN_WAIT: Duration = Duration::from_secs(15);

/// Waits until a TCP socket listens on `port` in namespace `ns` (`None`: this namespace);
/// false when none did within `limit`.
pub fn wait_tcp_listening(ns: Option<&str>, port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let filter = format!("sport = :{port}");
    loop {
        let mut command = match ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "ss"]);
                c
            }
            None => Command::new("ss"),
        };
        let listening = command
            .args(["-Hltn", &filter])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success() && !out.stdout.trim_ascii().is_empty());
        if listening {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// iperf3's default port.
pub const IPERF3_PORT: u16 = 5201;

/// Waits (at most [`LISTEN_WAIT`]) for an iperf3 server in `ns`; panics naming it if none came.
pub fn wait_iperf3_server(ns: &str) {
    assert!(
        wait_tcp_listening(Some(ns), IPERF3_PORT, LISTEN_WAIT),
        "no iperf3 server listening in {ns} after {LISTEN_WAIT:?}"
    );
}

/// Starts a one-off iperf3 server in `ns` (`extra`: e.g. `-B ADDR`) once the previous one has
/// let go of its port, and waits until it listens: a server still closing would otherwise be
/// taken for the new one, and the client refused.
pub fn spawn_iperf3_server(ns: &str, extra: &[&str]) -> std::process::Child {
    let deadline = Instant::now() + LISTEN_WAIT;
    while wait_tcp_listening(Some(ns), IPERF3_PORT, Duration::ZERO) {
        assert!(
            Instant::now() < deadline,
            "an iperf3 server in {ns} still listens after {LISTEN_WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let server = Command::new("ip")
        .args(["netns", "exec", ns, "timeout", "30", "iperf3", "-s", "-1"])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start iperf3 -s in {ns}: {e}"));
    wait_iperf3_server(ns);
    server
}

/// Runs iperf3 from namespace `client_ns` to a one-off server on `server_addr` in
/// `server_ns`, `iperf3 -c SERVER_ADDR -J ARGS` (`ARGS`: e.g. `-t 3`, `-R`), each bounded
/// (the server 30 s, the client 25 s); the client's JSON report, or what it printed instead.
pub fn iperf3(
    client_ns: &str,
    server_ns: &str,
    server_addr: &str,
    args: &[&str],
) -> Result<serde_json::Value, String> {
    let mut server = spawn_iperf3_server(server_ns, &["-B", server_addr]);
    let client = Command::new("ip")
        .args(["netns", "exec", client_ns, "timeout", "25"])
        .args(["iperf3", "-c", server_addr, "-J"])
        .args(args)
        .output();
    let _ = server.kill();
    let _ = server.wait();
    let out = client.map_err(|e| format!("cannot run iperf3 -c: {e}"))?;
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "iperf3 printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The throughput an iperf3 report says was received, in Mbit/s; panics when it has none.
pub fn received_mbps(report: &serde_json::Value) -> f64 {
    report["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap_or_else(|| panic!("no throughput in iperf3's report: {report}"))
        / 1e6
}
