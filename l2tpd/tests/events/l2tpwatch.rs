//! `l2tpwatch` against a real `l2tpd`: a whole tunnel and session lifecycle printed as text,
//! verbose text and CSV, and its exit at its time limit and when the daemon stops.

use super::*;

pub(crate) fn watch(env: &Env, args: &[&str]) -> Child {
    spawn_piped(
        Command::new(beside_l2tpd("l2tpwatch"))
            .arg("-S")
            .arg(env.sock())
            .args(args),
    )
}

pub(crate) fn text(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Gives freshly started watchers time to connect and be acknowledged (nothing outside the
/// daemon can see that), then checks that the daemon still answers.
pub(crate) fn settle(env: &Env) {
    std::thread::sleep(Duration::from_secs(1));
    let _ = env.request(&Request::ShowSystem);
}

#[test]
fn l2tpwatch_prints_a_whole_lifecycle_as_text_verbose_and_csv() {
    let s = server(None);
    let mut c = Env::new(l2tpd(), "client");
    let scripts = write_scripts(&c.dir, None);
    client_config(&c, s.port, &scripts, "");
    c.start(&["-d"]);
    let plain = watch(&c, &["-n", "8"]);
    let verbose = watch(&c, &["-n", "8", "-v"]);
    let csv = watch(&c, &["-n", "8", "-c", "-v"]);
    let stamped = watch(&c, &["-n", "8", "-p"]);
    let filtered = watch(&c, &["-t", "up,deleted", "-s", "down", "-n", "3"]);
    settle(&c);
    client_config(
        &c,
        s.port,
        &scripts,
        "tunnel \"t\" {\n    peer 127.0.0.1:PORT\n    version 3\n    max_retries 1\n}\n\
         session \"s\" {\n    tunnel \"t\"\n    pseudowire_type eth\n}\n",
    );
    c.signal(Signal::SIGHUP);
    let t = tunnel_up(&c, "t");
    let sess = session_up(&c, "s");
    c.request(&Request::DeleteTunnel {
        tunnel: Selector::Name("t".into()),
    })
    .unwrap();
    let ids = |text: String| {
        text.replace(&format!("tid={}", t.tid), "tid=T")
            .replace(&format!("peer_tid={}", t.peer_tid), "peer_tid=PT")
            .replace(&format!("sid={}", sess.sid), "sid=S")
            .replace(&format!("peer_sid={}", sess.peer_sid), "peer_sid=PS")
            .replace(&format!(":{}", s.port), ":PORT")
    };
    let plain = ids(text(&wait_output(plain)));
    assert_eq!(
        plain,
        "TUNNEL CREATED: tid=T name=\"t\" profile=\"default\" peer=127.0.0.1:PORT\n\
         SESSION CREATED: tid=T sid=S name=\"s\" profile=\"default\" pw_profile=\"default\"\n\
         TUNNEL UP: tid=T peer_tid=PT\n\
         SESSION UP: tid=T sid=S peer_tid=PT peer_sid=PS\n\
         SESSION DOWN: tid=T sid=S peer_tid=PT peer_sid=PS result=1 error=0 message=\"\"\n\
         SESSION DELETED: tid=T sid=S result=1 error=0 message=\"\"\n\
         TUNNEL DOWN: tid=T peer_tid=PT result=1 error=0 message=\"\"\n\
         TUNNEL DELETED: tid=T result=1 error=0 message=\"\"\n",
        "{plain}"
    );
    let verbose = ids(text(&wait_output(verbose)));
    let lines: Vec<&str> = verbose.lines().collect();
    assert_eq!(lines.len(), 8, "{verbose}");
    for (i, end) in [
        (0, "peer=127.0.0.1:PORT version=3 encap=udp"),
        (
            2,
            "TUNNEL UP: tid=T peer_tid=PT version=3 encap=udp peer=127.0.0.1:PORT",
        ),
        (3, "pw_type=eth interface=\"l2tpeth0\""),
        (1, "pw_type=eth interface=\"\""),
    ] {
        assert!(lines[i].ends_with(end), "line {i}: {verbose}");
    }
    let csv = ids(text(&wait_output(csv)));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "event,tid,sid,peer_tid,peer_sid,name,profile,pw_profile,peer,result,error,message,\
         version,encap,pseudowire_type,interface_name,ppp_user,ppp_address,ppp_reason"
    );
    assert_eq!(lines.len(), 9, "{csv}");
    let tid = t.tid.to_string();
    let sid = sess.sid.to_string();
    let (ptid, psid) = (t.peer_tid.to_string(), sess.peer_sid.to_string());
    let port = format!("127.0.0.1:{}", s.port);
    let port = ids(port);
    assert_eq!(
        lines[1],
        format!("TUNNEL CREATED,{tid},,,,t,default,,{port},,,,3,udp,,,,,")
    );
    assert_eq!(
        lines[4],
        format!("SESSION UP,{tid},{sid},{ptid},{psid},,,,,,,,,,eth,l2tpeth0,,,")
    );
    assert_eq!(
        lines[5],
        format!("SESSION DOWN,{tid},{sid},{ptid},{psid},,,,,1,0,,,,eth,l2tpeth0,,,")
    );
    let stamped = text(&wait_output(stamped));
    for line in stamped.lines() {
        let (time, rest) = line.split_once(' ').unwrap();
        assert_eq!(time.len(), "2026-01-01T00:00:00.000Z".len(), "{line}");
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{line}");
        assert!(rest.starts_with("TUNNEL ") || rest.starts_with("SESSION "));
    }
    let filtered = ids(text(&wait_output(filtered)));
    let kinds: Vec<&str> = filtered
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(kinds, ["TUNNEL UP", "SESSION DOWN", "TUNNEL DELETED"]);
}

#[test]
fn l2tpwatch_ends_at_its_time_limit_and_when_the_daemon_stops() {
    let mut c = server(None);
    let start = Instant::now();
    let o = wait_output(watch(&c, &["-T", "1"]));
    assert!(o.status.success(), "{o:?}");
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert!(start.elapsed() < Duration::from_secs(5));
    let w = watch(&c, &[]);
    settle(&c);
    c.signal(Signal::SIGTERM);
    assert!(c.wait_exit().success());
    let o = wait_output(w);
    assert!(o.status.success(), "{o:?}");
    assert!(o.stdout.is_empty());

    // No daemon: named as the cause.
    let o = wait_output(watch(&c, &["-n", "1"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("l2tpd is not running"),
        "{o:?}"
    );
    // A bad type list is a usage error.
    let o = wait_output(watch(&c, &["-t", "upp"]));
    assert_eq!(o.status.code(), Some(2));
}

// ------------------------------------------------------------------------------ statistics
