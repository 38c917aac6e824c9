//! The test's certificates, made with strongSwan's `pki`.

use std::path::Path;
use std::process::Command;

/// A CA, the server's certificate (vpn.example.net, serverAuth and ikeIntermediate, as the
/// recipe's swanctl.conf describes it) and dave's, with strongSwan's `pki`.
pub(super) fn make(dir: &Path) {
    let pki = |args: &[&str], stdin: Option<&Path>, out: &str| {
        let mut cmd = Command::new("pki");
        cmd.args(args).args(["--outform", "pem"]);
        if let Some(f) = stdin {
            cmd.stdin(std::fs::File::open(f).unwrap());
        }
        let o = cmd.output().unwrap_or_else(|e| panic!("pki: {e}"));
        assert!(
            o.status.success() && !o.stdout.is_empty(),
            "pki {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::write(dir.join(out), o.stdout).unwrap();
    };
    let p = |name: &str| dir.join(name);
    pki(
        &["--gen", "--type", "rsa", "--size", "2048"],
        None,
        "ca.key",
    );
    let ca_key = p("ca.key");
    pki(
        &[
            "--self",
            "--ca",
            "--lifetime",
            "30",
            "--in",
            ca_key.to_str().unwrap(),
            "--type",
            "rsa",
            "--dn",
            "O=Example, CN=Example VPN CA",
        ],
        None,
        "ca.pem",
    );
    let ca_pem = p("ca.pem");
    for (name, dn, san, flags) in [
        (
            "server",
            "O=Example, CN=vpn.example.net",
            "vpn.example.net",
            &["--flag", "serverAuth", "--flag", "ikeIntermediate"][..],
        ),
        (
            "dave",
            "O=Example, CN=dave@example.net",
            "dave@example.net",
            &["--flag", "clientAuth"][..],
        ),
    ] {
        let key = format!("{name}.key");
        pki(&["--gen", "--type", "rsa", "--size", "2048"], None, &key);
        let public = format!("{name}.pub");
        pki(
            &["--pub", "--in", p(&key).to_str().unwrap(), "--type", "rsa"],
            None,
            &public,
        );
        let mut args = vec![
            "--issue",
            "--lifetime",
            "30",
            "--cacert",
            ca_pem.to_str().unwrap(),
            "--cakey",
            ca_key.to_str().unwrap(),
            "--type",
            "pub",
            "--dn",
            dn,
            "--san",
            san,
        ];
        args.extend(flags);
        pki(&args, Some(&p(&public)), &format!("{name}.pem"));
    }
}
