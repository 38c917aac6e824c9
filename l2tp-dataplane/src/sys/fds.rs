//! Descriptors a process inherited from its parent, marked close-on-exec so that the programs
//! it starts do not inherit them in turn (`fcntl(2)`, `F_GETFD`/`F_SETFD` with `FD_CLOEXEC`).
//!
//! Rust opens every descriptor of its own close-on-exec, but one left open by the parent
//! without the flag (a shell's redirection, a supervisor's pipe) stays open across every
//! `exec` of the process's children. `nix` and `rustix` set the flag only through a borrowed
//! descriptor, which a number read from `/proc/self/fd` is not: hence the `unsafe` here.

use std::io;
use std::os::fd::RawFd;

use nix::libc;

/// Marks every open descriptor from `first` on close-on-exec, and returns those that were not
/// yet, in ascending order. Reads the open descriptors from `/proc/self/fd`.
///
/// Meant for start-up, while the process has one thread: a descriptor opened by another
/// thread meanwhile could be missed (it would be close-on-exec if Rust opened it).
pub fn mark_inherited_cloexec(first: RawFd) -> io::Result<Vec<RawFd>> {
    // The listing's own descriptor is closed once `collect` has run; setting a flag on a
    // closed descriptor fails with EBADF, which is skipped below.
    let mut open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= first)
        .collect();
    open.sort_unstable();
    let mut marked = Vec::new();
    for fd in open {
        // SAFETY: `fcntl` with `F_GETFD` takes only an integer and reads the descriptor's
        // flags; a number that is not an open descriptor makes it fail with EBADF. No memory
        // is passed.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags < 0 || flags & libc::FD_CLOEXEC != 0 {
            continue;
        }
        // SAFETY: as above; `F_SETFD` sets only the descriptor's flags, which no Rust owner of
        // it relies on (the flag concerns `exec` alone).
        if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        marked.push(fd);
    }
    Ok(marked)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A pipe made without the flag is marked, and is then left alone.
    #[test]
    fn a_descriptor_without_the_flag_is_marked_once() {
        let (rd, wr) = nix::unistd::pipe().unwrap();
        // SAFETY: `F_GETFD` on a descriptor this test holds open.
        let flag = |fd: RawFd| unsafe { libc::fcntl(fd, libc::F_GETFD) } & libc::FD_CLOEXEC;
        assert_eq!(flag(rd.as_raw_fd()), 0);
        let marked = mark_inherited_cloexec(3).unwrap();
        assert!(marked.contains(&rd.as_raw_fd()), "{marked:?}");
        assert!(marked.contains(&wr.as_raw_fd()), "{marked:?}");
        assert_ne!(flag(rd.as_raw_fd()), 0);
        assert_ne!(flag(wr.as_raw_fd()), 0);
        let again = mark_inherited_cloexec(3).unwrap();
        assert!(!again.contains(&rd.as_raw_fd()), "{again:?}");
    }
}
