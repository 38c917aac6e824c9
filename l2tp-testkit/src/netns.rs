//! Servers started in a network namespace: wait until they listen instead of sleeping.

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
