//! FreeRADIUS running the configuration of `examples/radius` for a test: copied into a
//! directory of the test with its `raddbdir` and `listen_address` lines replaced, started in
//! the foreground with `-X` (see [`crate::lab::NsLab`]), and tshark judging a capture of its
//! RADIUS with the example's secret ([`judge`]) and printing chosen fields of it ([`fields`]).

use std::path::{Path, PathBuf};

use crate::tshark::{Packet, decode_with, fields_with, unclean};

/// The secret of `examples/radius/clients.conf`.
pub const SECRET: &str = "radius-test-secret";

/// What FreeRADIUS logs once it answers.
pub const READY: &str = "Ready to process requests";

/// tshark's options to decode RADIUS with [`SECRET`] and check every authenticator it can.
pub const TSHARK_PREFS: [&str; 4] = [
    "-o",
    "radius.shared_secret:radius-test-secret",
    "-o",
    "radius.validate_authenticator:TRUE",
];

/// The example configuration, `examples/radius` (also the directory radclient reads its
/// local `dictionary` from).
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/radius")
}

/// Makes `conf` a copy of `examples/radius` that listens on `address` (in the
/// `listen_address` syntax; an IPv6 one as `ipv6addr`, since FreeRADIUS reads `ipaddr` as
/// IPv4), with the directories FreeRADIUS writes to. Panics when the example lost a line
/// this replaces.
pub fn configure(conf: &Path, address: &str) {
    std::fs::create_dir_all(conf).unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
    let entries =
        std::fs::read_dir(example_dir()).unwrap_or_else(|e| panic!("examples/radius: {e}"));
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::copy(entry.path(), conf.join(entry.file_name()))
                .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        }
    }
    let main = conf.join("radiusd.conf");
    let text = std::fs::read_to_string(&main).unwrap_or_else(|e| panic!("{}: {e}", main.display()));
    let v6 = address.contains(':');
    let mut replaced = 0;
    let text: String = text
        .lines()
        .map(|line| {
            let new = if line.starts_with("raddbdir = ") {
                format!("raddbdir = {}", conf.display())
            } else if line.starts_with("listen_address = ") {
                format!("listen_address = {address}")
            } else if v6 && line.trim() == "ipaddr = ${listen_address}" {
                "\t\tipv6addr = ${listen_address}".to_owned()
            } else {
                return format!("{line}\n");
            };
            replaced += 1;
            format!("{new}\n")
        })
        .collect();
    assert_eq!(
        replaced,
        if v6 { 4 } else { 2 },
        "examples/radius/radiusd.conf lost a line the tests set"
    );
    std::fs::write(&main, text).unwrap_or_else(|e| panic!("{}: {e}", main.display()));
    for d in ["run", "log", "radacct"] {
        std::fs::create_dir_all(conf.join(d)).unwrap_or_else(|e| panic!("{d}: {e}"));
    }
}

/// The command that runs FreeRADIUS in the foreground, debugging, on `conf`.
pub fn argv(conf: &Path) -> [String; 4] {
    [
        "freeradius".to_owned(),
        "-X".to_owned(),
        "-d".to_owned(),
        conf.to_str()
            .unwrap_or_else(|| panic!("not UTF-8: {}", conf.display()))
            .to_owned(),
    ]
}

/// Has tshark decode the capture `pcap` with [`TSHARK_PREFS`]: no packet may be malformed,
/// carry an expert error or be anything but RADIUS. Returns the packets.
pub fn judge(pcap: &Path) -> Vec<Packet> {
    let packets = decode_with(pcap, &TSHARK_PREFS)
        .unwrap_or_else(|e| panic!("tshark on {}: {e}", pcap.display()));
    let bad = unclean(&packets);
    assert!(
        bad.is_empty(),
        "tshark found problems in {}:\n{bad}",
        pcap.display()
    );
    for p in &packets {
        assert!(
            p.protocols.ends_with(":radius"),
            "frame {} is not RADIUS: {}",
            p.number,
            p.protocols
        );
    }
    packets
}

/// Has tshark print `fields` (e.g. `radius.code`) of every packet of the capture `pcap`,
/// decoded with [`TSHARK_PREFS`] as [`judge`] does (see [`fields_with`]). Panics when tshark
/// fails.
pub fn fields(pcap: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    fields_with(pcap, &TSHARK_PREFS, fields)
        .unwrap_or_else(|e| panic!("tshark on {}: {e}", pcap.display()))
}
