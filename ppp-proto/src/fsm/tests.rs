//! The state transition table of RFC 1661 §4.1, transcribed cell by cell, against
//! [`transition`]. Each row is one event; each cell is `actions/state` (or just `state`) for
//! the states 0 to 9 in the RFC's order, `-` for an illegal transition. The footnote letters
//! (p, r, x) are left out: they describe options, not different actions.

use super::*;

const TABLE: &[(&str, [&str; 10])] = &[
    (
        "Up",
        ["2", "irc,scr/6", "-", "-", "-", "-", "-", "-", "-", "-"],
    ),
    (
        "Down",
        ["-", "-", "0", "tls/1", "0", "1", "1", "1", "1", "tld/1"],
    ),
    (
        "Open",
        ["tls/1", "1", "irc,scr/6", "3", "5", "5", "6", "7", "8", "9"],
    ),
    (
        "Close",
        [
            "0",
            "tlf/0",
            "2",
            "2",
            "4",
            "4",
            "irc,str/4",
            "irc,str/4",
            "irc,str/4",
            "tld,irc,str/4",
        ],
    ),
    (
        "TO+",
        [
            "-", "-", "-", "-", "str/4", "str/5", "scr/6", "scr/6", "scr/8", "-",
        ],
    ),
    (
        "TO-",
        [
            "-", "-", "-", "-", "tlf/2", "tlf/3", "tlf/3", "tlf/3", "tlf/3", "-",
        ],
    ),
    (
        "RCR+",
        [
            "-",
            "-",
            "sta/2",
            "irc,scr,sca/8",
            "4",
            "5",
            "sca/8",
            "sca,tlu/9",
            "sca/8",
            "tld,scr,sca/8",
        ],
    ),
    (
        "RCR-",
        [
            "-",
            "-",
            "sta/2",
            "irc,scr,scn/6",
            "4",
            "5",
            "scn/6",
            "scn/7",
            "scn/6",
            "tld,scr,scn/6",
        ],
    ),
    (
        "RCA",
        [
            "-",
            "-",
            "sta/2",
            "sta/3",
            "4",
            "5",
            "irc/7",
            "scr/6",
            "irc,tlu/9",
            "tld,scr/6",
        ],
    ),
    (
        "RCN",
        [
            "-",
            "-",
            "sta/2",
            "sta/3",
            "4",
            "5",
            "irc,scr/6",
            "scr/6",
            "irc,scr/8",
            "tld,scr/6",
        ],
    ),
    (
        "RTR",
        [
            "-",
            "-",
            "sta/2",
            "sta/3",
            "sta/4",
            "sta/5",
            "sta/6",
            "sta/6",
            "sta/6",
            "tld,zrc,sta/5",
        ],
    ),
    (
        "RTA",
        [
            "-",
            "-",
            "2",
            "3",
            "tlf/2",
            "tlf/3",
            "6",
            "6",
            "8",
            "tld,scr/6",
        ],
    ),
    (
        "RUC",
        [
            "-", "-", "scj/2", "scj/3", "scj/4", "scj/5", "scj/6", "scj/7", "scj/8", "scj/9",
        ],
    ),
    ("RXJ+", ["-", "-", "2", "3", "4", "5", "6", "6", "8", "9"]),
    (
        "RXJ-",
        [
            "-",
            "-",
            "tlf/2",
            "tlf/3",
            "tlf/2",
            "tlf/3",
            "tlf/3",
            "tlf/3",
            "tlf/3",
            "tld,irc,str/5",
        ],
    ),
    (
        "RXR",
        ["-", "-", "2", "3", "4", "5", "6", "7", "8", "ser/9"],
    ),
];

fn cell(text: &str) -> Option<(Actions, State)> {
    if text == "-" {
        return None;
    }
    let (actions, state) = text.rsplit_once('/').unwrap_or(("", text));
    let actions = Actions::parse(actions).unwrap_or_else(|| panic!("bad actions {text}"));
    let n: usize = state.parse().unwrap_or_else(|_| panic!("bad state {text}"));
    Some((actions, State::ALL[n]))
}

#[test]
fn the_table_of_rfc_1661_section_4_1_cell_by_cell() {
    assert_eq!(TABLE.len(), Event::ALL.len());
    let mut checked = 0;
    for (event, (name, row)) in Event::ALL.iter().zip(TABLE) {
        assert_eq!(event.to_string(), *name);
        for (state, text) in State::ALL.iter().zip(row) {
            assert_eq!(
                transition(*state, *event),
                cell(text),
                "{event} in {state}: the RFC says {text}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 160);
}

#[test]
fn the_timer_runs_where_the_table_has_timeouts() {
    for state in State::ALL {
        let has_timeout = transition(state, Event::TimeoutRetry).is_some();
        assert_eq!(state.timer_runs(), has_timeout, "{state}");
    }
}

#[test]
fn names_print_as_in_the_rfc() {
    assert_eq!(State::ReqSent.to_string(), "Req-Sent");
    assert_eq!(State::AckRcvd.to_string(), "Ack-Rcvd");
    assert_eq!(
        (Actions::TLD | Actions::IRC | Actions::STR).to_string(),
        "tld,irc,str"
    );
    assert_eq!(Actions::NONE.to_string(), "-");
    assert_eq!(Actions::parse("tld,bogus"), None);
}
