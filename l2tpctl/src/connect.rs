//! Connecting to the daemon's control socket, shared by `l2tpctl` and `l2tpwatch`: a failure
//! names the socket and says why it cannot be used.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// A connection to the control socket at `socket`, or a message for people that names it and
/// says that `l2tpd` does not seem to be running (l2tpctl(1), EXIT STATUS).
pub(crate) fn connect(socket: &Path) -> Result<UnixStream, String> {
    let shown = socket.display();
    UnixStream::connect(socket).map_err(|e| match (e.kind(), not_a_socket(socket)) {
        (io::ErrorKind::NotFound, _) => format!("l2tpd is not running (no socket at {shown})"),
        (io::ErrorKind::PermissionDenied, _) => format!(
            "cannot use the control socket {shown}: permission denied (only root and members \
             of control_socket_group may)"
        ),
        // A path given by mistake: a file or a directory is refused like a socket nobody
        // listens on; say which it is.
        (_, Some(what)) => {
            format!("{shown} is {what}, not a socket; l2tpd does not seem to be running")
        }
        (io::ErrorKind::ConnectionRefused, None) => {
            format!("l2tpd does not seem to be running (nothing answers on {shown})")
        }
        (_, None) => format!("cannot connect to {shown}: {e}; l2tpd does not seem to be running"),
    })
}

/// What is at `path` when it exists and is not a socket.
fn not_a_socket(path: &Path) -> Option<&'static str> {
    let kind = std::fs::metadata(path).ok()?.file_type();
    if kind.is_socket() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_file() {
        Some("a regular file")
    } else {
        Some("neither a socket nor a file")
    }
}
