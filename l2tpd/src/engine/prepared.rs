//! A config ready to apply, and what applying it replaced. Building a config's ppp policies
//! (the users index of every ppp profile) and freeing the old ones both take time in
//! proportion to the users files; a reload does both off the main loop, and only the swap
//! happens on it ([`super::Engine::apply_prepared`]).

use std::collections::HashMap;
use std::sync::Arc;

use l2tp_config::Config;

use super::ppp::{PppPolicies, PppPolicy};

/// A config and its ppp policies, built from it ([`Prepared::new`]) on any thread.
#[derive(Debug)]
pub struct Prepared {
    pub(super) config: Arc<Config>,
    pub(super) ppp: PppPolicies,
}

impl Prepared {
    /// `config` with its ppp policies built.
    pub fn new(config: Arc<Config>) -> Self {
        let ppp = PppPolicies::of(&config);
        Self { config, ppp }
    }

    /// The config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }
}

/// What a config applied replaced: the old config (freed with this, if nothing else holds
/// it) and the old ppp policies (running links keep theirs). Drop it off the main loop.
pub struct Retired {
    pub(super) _config: Arc<Config>,
    pub(super) _policies: HashMap<String, Arc<PppPolicy>>,
}

/// Nothing of what it holds: the policies hold their users' passwords.
impl std::fmt::Debug for Retired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Retired")
    }
}
