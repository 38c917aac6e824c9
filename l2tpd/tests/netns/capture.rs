//! Captures in a [`Lab`]: tcpdump on one end of the veth, tshark judging every packet, and
//! summaries of the L2TP messages captured.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use l2tp_testkit::tshark::{self, Packet};
use nix::sys::signal::Signal;

use super::{Lab, ProcId, SHORT, Side};

/// A running capture.
#[derive(Debug)]
pub struct Capture {
    proc: ProcId,
    /// The pcap file.
    pub path: PathBuf,
}

impl Lab {
    /// Starts tcpdump on `side`'s veth end, writing `capture.pcap`, and waits until it listens.
    pub fn capture(&mut self, side: Side, filter: &str) -> Capture {
        let path = self.path("capture.pcap");
        let ifname = self.ifname(side).to_string();
        let path_s = path.to_str().unwrap().to_string();
        let mut argv = vec![
            "tcpdump",
            "--immediate-mode",
            "-n",
            "-U",
            "-s",
            "0",
            "-i",
            &ifname,
            "-w",
            &path_s,
        ];
        argv.extend(filter.split_whitespace());
        let proc = self.spawn(side, "tcpdump", &argv);
        self.wait_log(proc, "listening on", SHORT);
        Capture { proc, path }
    }

    /// Stops the capture (its file is then complete at `cap.path`).
    pub fn end_capture(&mut self, cap: &Capture) {
        // tcpdump writes every packet as it comes (-U); give the last ones a moment.
        std::thread::sleep(Duration::from_millis(300));
        let status = self.stop(cap.proc, Signal::SIGINT, SHORT);
        assert!(status.is_some(), "tcpdump did not stop on SIGINT");
    }

    /// Stops the capture and has tshark decode it (`extra_args` as for
    /// [`tshark::decode_with`]); fails the test if any packet is malformed or carries an expert
    /// error, or if there is no L2TP packet at all. Returns the packets.
    pub fn judge(&mut self, cap: &Capture, extra_args: &[&str]) -> Vec<Packet> {
        self.end_capture(cap);
        let packets = tshark::decode_with(&cap.path, extra_args)
            .unwrap_or_else(|e| panic!("tshark on {}: {e}", cap.path.display()));
        // Kept for the CI step that judges every capture (scripts/judge-captures.sh).
        let name = self
            .dir
            .file_name()
            .map_or_else(|| "netns".into(), |n| n.to_string_lossy().into_owned());
        l2tp_testkit::captures::keep(&name, &cap.path).unwrap();
        l2tp_testkit::captures::set_args(&name, extra_args).unwrap();
        let bad = l2tp_testkit::tshark::unclean(&packets);
        assert!(
            bad.is_empty(),
            "tshark found problems in {}:\n{bad}\n{}",
            cap.path.display(),
            summary(&packets)
        );
        assert!(
            packets.iter().any(|p| !p.l2tp.is_empty()),
            "no L2TP packet in {} ({} packets)",
            cap.path.display(),
            packets.len()
        );
        packets
    }
}

/// One line per packet: number, version, tunnel/session id and message name.
pub fn summary(packets: &[Packet]) -> String {
    let mut s = String::new();
    for p in packets {
        let _ = match p.first_l2tp() {
            Some(l) => writeln!(
                s,
                "{:>3} v{} tid={} sid={} {}",
                p.number,
                l.version.unwrap_or(0),
                l.tunnel_id.unwrap_or(0),
                l.session_id.unwrap_or(0),
                if l.control == Some(false) {
                    "data"
                } else {
                    tshark::message_name(l.message_type)
                }
            ),
            None => writeln!(s, "{:>3} {}", p.number, p.protocols),
        };
    }
    s
}

/// Asserts that `packets` hold each of the control messages `wanted` (by name).
pub fn assert_messages(packets: &[Packet], wanted: &[&str]) {
    let names = message_names(packets);
    for m in wanted {
        assert!(
            names.contains(m),
            "no {m} in the capture: {names:?}\n{}",
            summary(packets)
        );
    }
}

/// The names of the control messages in the capture, in order (`ZLB` for acknowledgements).
pub fn message_names(packets: &[Packet]) -> Vec<&'static str> {
    packets
        .iter()
        .filter_map(Packet::first_l2tp)
        .filter(|l| l.control == Some(true))
        .map(|l| tshark::message_name(l.message_type))
        .collect()
}
