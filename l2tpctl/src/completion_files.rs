//! Test support: the shell completion files in `dist/completions/` are what `clap_complete`
//! makes of a program's command line. The Debian package installs those files; the tests of
//! `l2tpctl` and `l2tpwatch` regenerate them and fail when they differ, so a change of the
//! command line that leaves them stale fails too. `L2TP_BLESS=1` rewrites them instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use clap_complete::Shell;

/// Each shell, and the file name its completions for `program` have.
pub(crate) fn files(program: &str) -> [(Shell, String); 3] {
    [
        (Shell::Bash, format!("{program}.bash")),
        (Shell::Zsh, format!("_{program}")),
        (Shell::Fish, format!("{program}.fish")),
    ]
}

/// `dist/completions/` of the repository.
pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist/completions")
}

/// What `clap_complete` generates for `command` in `shell`.
pub(crate) fn generate(shell: Shell, mut command: clap::Command, program: &str) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, program, &mut out);
    String::from_utf8(out).unwrap()
}

/// Checks (or, with `L2TP_BLESS=1`, writes) the three completion files of `program`.
pub(crate) fn check(command: &clap::Command, program: &str) {
    let bless = std::env::var_os("L2TP_BLESS").is_some();
    let mut stale = Vec::new();
    for (shell, name) in files(program) {
        let want = generate(shell, command.clone(), program);
        let path = dir().join(&name);
        if bless {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "dist/completions/{stale:?} do not match {program}'s command line; regenerate them with \
         `L2TP_BLESS=1 cargo test -p l2tpctl completion` and commit them"
    );
}
