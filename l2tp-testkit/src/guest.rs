//! The project's qemu test guest (`tests/vm/`) for a test: where it was built, whether it can
//! run here, a share directory the guest mounts (`bin/` for the host's binaries, `out/` for
//! what the guest leaves), and a script run in it to its end.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The guest's directory: `$L2TP_VM_DIR`, else `/var/tmp/l2tp-vm` (tests/vm/build-guest.sh).
pub fn vm_dir() -> PathBuf {
    std::env::var_os("L2TP_VM_DIR").map_or_else(|| PathBuf::from("/var/tmp/l2tp-vm"), PathBuf::from)
}

/// Whether the guest cannot run here for `test`: no qemu, no built guest, one of `programs`
/// missing (on the PATH or in /usr/sbin), or not root when `root` is asked. Then the test
/// skips (true, with the reason on stderr), or fails under `L2TP_REQUIRE_ALL=1`.
pub fn cannot_run(test: &str, programs: &[&str], root: bool) -> bool {
    let vm = vm_dir();
    let on_path = |p: &str| {
        Path::new("/usr/sbin").join(p).is_file()
            || std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
    };
    let missing = ["qemu-system-x86_64"]
        .iter()
        .chain(programs)
        .find(|p| !on_path(p));
    let why = if root && !nix::unistd::geteuid().is_root() {
        "not root".to_owned()
    } else if let Some(p) = missing {
        format!("`{p}` is not installed (scripts/deps.sh)")
    } else if !vm.join("vmlinux").exists() || !vm.join("initrd.img").exists() {
        format!(
            "no test guest in {}: run tests/vm/build-guest.sh",
            vm.display()
        )
    } else {
        return false;
    };
    assert!(
        std::env::var_os("L2TP_REQUIRE_ALL").is_none_or(|v| v != "1"),
        "cannot run: {why} (L2TP_REQUIRE_ALL=1)"
    );
    eprintln!("{test} skipped: {why}");
    true
}

/// The directory shared with the guest (its `/mnt/host`), removed when dropped unless the
/// test failed.
#[derive(Debug)]
pub struct Share(PathBuf);

impl Share {
    /// A fresh `NAME-PID` in the temporary directory, with `bin/` and `out/`.
    pub fn new(name: &str) -> Share {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["bin", "out"] {
            std::fs::create_dir_all(dir.join(sub))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        Share(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path of `name` in `out/`.
    pub fn out(&self, name: &str) -> PathBuf {
        self.0.join("out").join(name)
    }

    /// Reads `out/NAME`; panics, with `context`, when the guest did not leave it.
    pub fn read(&self, name: &str, context: &str) -> String {
        std::fs::read_to_string(self.out(name))
            .unwrap_or_else(|e| panic!("no {name}: {e}\n{context}"))
    }

    /// Copies the program `from` into `bin/NAME`, without its debugging information.
    pub fn add_binary(&self, from: &Path, name: &str) {
        let to = self.0.join("bin").join(name);
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        let _ = Command::new("strip").arg("--strip-debug").arg(&to).status();
    }

    /// Copies the file `from` to `to` in the share (directories made as needed).
    pub fn add_file(&self, from: &Path, to: &str) {
        let to = self.0.join(to);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("guest results kept: {}/out", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Starts the guest (`tests/vm/run-guest.sh`, named `NAME-PID`) on `share`, running its
/// `guest.sh`, killed after `timeout_s`; `extra` are more options of run-guest.sh. Its console
/// is the child's stdout.
pub fn start(share: &Share, name: &str, timeout_s: u64, extra: &[&str]) -> Child {
    let run_guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vm/run-guest.sh");
    Command::new("bash")
        .arg(run_guest)
        .args(["-n", &format!("{name}-{}", std::process::id())])
        .arg("-s")
        .arg(share.path())
        .args(["-r", "/mnt/host/guest.sh", "-T", &timeout_s.to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run-guest.sh: {e}"))
}

/// Runs the guest as [`start`] does, to its end: its console. Panics unless it ended well
/// and its script said `GUEST DONE`.
pub fn run(share: &Share, name: &str, timeout_s: u64) -> String {
    let mut child = start(share, name, timeout_s, &[]);
    // run-guest.sh kills qemu after timeout_s itself.
    let mut console = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut console);
    }
    let status = child.wait().unwrap_or_else(|e| panic!("run-guest.sh: {e}"));
    assert!(
        status.success() && console.contains("GUEST DONE"),
        "the guest failed ({status}):\n{console}"
    );
    console
}

/// The frames of a pppd log: `sent` or `rcvd` (`dir`), each as `PROTO Code id=0xN`.
pub fn pppd_frames(log: &str, dir: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix(dir)?.strip_prefix(" ["))
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .map(|l| l.trim_end_matches(']').to_owned())
        .collect()
}

/// Asserts that `a` (what one end logged) is `b` (the other end's log of the same frames),
/// except for at most two frames at the end of `b` that were in flight when `a` stopped.
pub fn same_frames(what: &str, a: &[String], b: &[String]) {
    let common = a.len().min(b.len());
    assert!(
        a[..common] == b[..common] && a.len() <= b.len() && b.len() - a.len() <= 2,
        "{what} differ:\n{a:#?}\n---\n{b:#?}"
    );
}
