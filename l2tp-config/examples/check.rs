//! `cargo run -p l2tp-config --example check FILE`: prints every problem of a config file.

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/etc/l2tpd/l2tpd.conf".to_owned());
    match l2tp_config::load(&path) {
        Ok(config) => println!("{config:#?}"),
        Err(e) => {
            eprint!("{e}");
            std::process::exit(1);
        }
    }
}
