//! `man/l2tp-static.8` documents exactly the options of `l2tp-static --help`, with their value
//! names, defaults and possible values, and its SYNOPSIS names the required ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_man_page_is_the_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_l2tp-static"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let problems = l2tp_docs_check::help::page_problems("man/l2tp-static.8", &help);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
