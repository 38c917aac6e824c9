//! Mistakes an operator makes when writing a config by hand, and the message each gets: it
//! names the place (line and column) and what would be right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use l2tp_config::{Diagnostic, parse};

/// Every problem of `source` as `LINE:COL: message`.
fn problems(source: &str) -> Vec<String> {
    match parse("l2tpd.conf", source) {
        Ok(_) => panic!("config unexpectedly valid:\n{source}"),
        Err(diags) => diags.iter().map(located).collect(),
    }
}

fn located(d: &Diagnostic) -> String {
    format!("{}:{}: {}", d.line(), d.column(), d.message())
}

#[test]
fn a_number_too_long_for_any_parameter_gets_its_range() {
    assert_eq!(
        problems("system {\n    max_scripts 99999999999999999999999\n}\n"),
        ["2:17: value `99999999999999999999999` is out of range: expected a number from 1 to 4096"]
    );
    assert_eq!(
        problems("tunnel profile \"t\" {\n    hello_timeout 0x1ffffffffffffffff\n}\n"),
        [
            "2:19: value `0x1ffffffffffffffff` is out of range: expected a number from 0 to \
             4294967295"
        ]
    );
    // Not a number at all: said so.
    assert_eq!(
        problems("system {\n    max_scripts 0x\n}\n"),
        ["2:17: expected a number, found `0x`"]
    );
}
