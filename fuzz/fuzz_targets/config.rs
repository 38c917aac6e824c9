//! The config file parser on arbitrary text: it reports problems, it never panics; a file that
//! parses also diffs against the built-in defaults. The same text is also read as a users file
//! (pppd's `chap-secrets` format), on its own and as the users file of every PPP profile.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = l2tp_config::parse_users_file(std::path::Path::new("fuzz.users"), text);
    match l2tp_config::parse_with("fuzz.conf", text, |_| Ok(text.to_owned())) {
        Ok(config) => {
            let empty = l2tp_config::parse("empty.conf", "").unwrap_or(config.clone());
            let _ = l2tp_config::diff(&empty, &config);
            let _ = config.resolved_tunnels();
            let _ = config.resolved_sessions();
            for p in config.ppp_profiles() {
                if let Some(s) = config.ppp_profile_settings(&p.name) {
                    let _ = config.ppp_user(&s, "fuzz");
                }
            }
        }
        Err(diagnostics) => {
            let _ = l2tp_config::render_all(&diagnostics, text);
        }
    }
});
