//! The config file parser on arbitrary text: it reports problems, it never panics; a file that
//! parses also diffs against the built-in defaults.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match l2tp_config::parse("fuzz.conf", text) {
        Ok(config) => {
            let empty = l2tp_config::parse("empty.conf", "").unwrap_or(config.clone());
            let _ = l2tp_config::diff(&empty, &config);
            let _ = config.resolved_tunnels();
            let _ = config.resolved_sessions();
        }
        Err(diagnostics) => {
            let _ = l2tp_config::render_all(&diagnostics, text);
        }
    }
});
