//! Scripts that fail, at the default log level: a script that exits with another status than
//! 0, one that cannot be run, and one that is not a file, are each logged as a warning that
//! names the script, its event and its tunnel (and session), as a timed-out one is.

use super::*;

#[test]
fn a_failing_script_is_logged_at_the_default_level() {
    let s = server(None);
    let mut c = Env::new(l2tpd(), "failing-scripts");
    let scripts = c.dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    let up = scripts.join("tunnel-up");
    std::fs::write(&up, "#!/bin/sh\nexit 3\n").unwrap();
    std::fs::set_permissions(&up, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Not executable.
    let created = scripts.join("tunnel-created");
    std::fs::write(&created, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&created, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A directory where the script would be.
    std::fs::create_dir_all(scripts.join("session-created")).unwrap();
    client_config(
        &c,
        s.port,
        &scripts,
        "tunnel \"t\" {\n    peer 127.0.0.1:PORT\n    version 3\n}\n\
         session \"s\" {\n    tunnel \"t\"\n    pseudowire_type eth\n}\n",
    );
    // No -d: the default level, notice.
    c.start(&[]);
    let t = tunnel_up(&c, "t");
    c.wait_log("exited with status 3");
    let log = c.wait_log("not a file");
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {log}"))
            .to_owned()
    };
    let failed = line("exited with status 3");
    assert!(failed.contains(" warning: "), "{failed}");
    assert!(
        failed.contains(&format!(
            "{} (tunnel-up event of tunnel {}",
            up.display(),
            t.tid
        )),
        "{failed}"
    );
    let refused = line("cannot run it");
    assert!(refused.contains(" warning: "), "{refused}");
    assert!(
        refused.contains(&format!(
            "{} (tunnel-created event of tunnel {}",
            created.display(),
            t.tid
        )),
        "{refused}"
    );
    let skipped = line("not a file; skipped");
    assert!(skipped.contains(" warning: "), "{skipped}");
    assert!(
        skipped.contains(&format!(
            "{} (session-created event of session ",
            scripts.join("session-created").display()
        )) && skipped.contains(&format!(" of tunnel {}", t.tid)),
        "{skipped}"
    );
}
