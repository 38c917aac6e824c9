//! The project's qemu test guest (tests/vm) as a peer of a [`Lab`]: its eth0 on a TAP in
//! side A's namespace.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Lab, SHORT, Side, ip, l2tpctl_bin, l2tpd_bin};

/// A guest script that starts l2tpd, copied from the share, on the `dataplane` given, with the
/// system block every guest uses and then `config`; and goes on with `then`.
pub fn guest_l2tpd_script(dataplane: &str, config: &str, then: &str) -> String {
    format!(
        "set -u
mkdir -p /tmp/bin /tmp/w && cp /mnt/host/l2tpd /mnt/host/l2tpctl /tmp/bin/
ip link set lo up
cat >/tmp/w/l2tpd.conf <<EOF
system {{
    listen 192.0.2.2:1701
    dataplane {dataplane}
    control_socket /tmp/w/l2tpd.sock
    pid_file /tmp/w/l2tpd.pid
}}
{config}EOF
/tmp/bin/l2tpd -f -c /tmp/w/l2tpd.conf -o /tmp/w/l2tpd.log >/tmp/w/l2tpd.out 2>&1 &
{then}"
    )
}

impl Lab {
    /// A directory of the lab for the guest's /mnt/host: `script` as `peer.sh`, and l2tpd
    /// and l2tpctl without their debugging information (the guest copies them into its
    /// memory).
    pub fn guest_share(&self, script: &str) -> PathBuf {
        let share = self.path("share");
        std::fs::create_dir_all(&share).unwrap();
        std::fs::write(share.join("peer.sh"), script).unwrap();
        for (bin, name) in [
            (PathBuf::from(l2tpd_bin()), "l2tpd"),
            (l2tpctl_bin(), "l2tpctl"),
        ] {
            let out = Command::new("strip")
                .arg("--strip-debug")
                .arg(&bin)
                .arg("-o")
                .arg(share.join(name))
                .output()
                .unwrap();
            assert!(out.status.success(), "strip {}: {out:?}", bin.display());
        }
        share
    }

    /// Boots the guest with `share` as /mnt/host running `script` (stopped after
    /// `timeout_s`), its eth0 (192.0.2.2/24, MAC ending in `mac_suffix`, which also keeps two
    /// guests of one test process apart) on a TAP in side A's namespace, which gets
    /// 192.0.2.1/24 (side A's veth gives its address up); returns qemu, still running, its
    /// console on stdout.
    pub fn boot_guest(&self, share: &Path, script: &str, timeout_s: u64, mac_suffix: u8) -> Child {
        let vm = l2tp_testkit::guest::vm_dir();
        assert!(
            vm.join("vmlinux").exists() && vm.join("initrd.img").exists(),
            "no test guest in {}: run tests/vm/build-guest.sh",
            vm.display()
        );
        let run_guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vm/run-guest.sh");
        let tag = std::process::id() % 100_000;
        let tap = format!("l2vm{tag}{mac_suffix:x}");
        let guest = format!("l2tpd-peer-{tag}-{mac_suffix}");
        let ns = self.ns(Side::A).to_owned();
        ip(&["-n", &ns, "addr", "flush", "dev", self.ifname(Side::A)]);
        let qemu = Command::new("ip")
            .args(["netns", "exec", &ns, "bash"])
            .arg(&run_guest)
            .args(["-n", &guest, "-s"])
            .arg(share)
            .args(["-r", script])
            .args(["-T", &timeout_s.to_string()])
            .args(["-a", "vm.ip0=192.0.2.2/24", "--"])
            .args([
                "-netdev",
                &format!("tap,id=t0,ifname={tap},script=no,downscript=no"),
            ])
            .args([
                "-device",
                &format!("virtio-net-pci,netdev=t0,romfile=,mac=52:54:00:d9:00:{mac_suffix:02x}"),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self
            .run(Side::A, &["ip", "link", "show", &tap], SHORT)
            .status
            .success()
        {
            assert!(Instant::now() < deadline, "qemu did not create {tap}");
            std::thread::sleep(Duration::from_millis(50));
        }
        ip(&["-n", &ns, "addr", "add", "192.0.2.1/24", "dev", &tap]);
        ip(&["-n", &ns, "link", "set", &tap, "up"]);
        qemu
    }
}
