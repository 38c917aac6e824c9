//! `l2tpd [-h] [-v] [-f] [-c config-file] [-o log-file] [-n] [-d]`: see [`l2tpd::app`].

fn main() -> std::process::ExitCode {
    l2tpd::app::main(std::env::args_os())
}
