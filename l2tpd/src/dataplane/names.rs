//! Interface names for sessions, numbered by the daemon rather than the kernel: the kernel's
//! own `%d` numbering stops at 32 768 names per template, and asking it costs a scan of every
//! interface. Each name costs O(log n) here, plus one look-up of the name in the system, so
//! that an interface made by someone else (`ip link add l2tpeth0 ...`) is not asked for again.

use std::collections::{BTreeSet, HashMap, HashSet};

/// The names in use, and per `%d` template the numbers handed out and freed.
#[derive(Debug)]
pub struct InterfaceNames {
    names: HashSet<String>,
    pools: HashMap<String, NumberPool>,
    /// The template, number and name of each session's interface.
    taken: HashMap<(u32, u32), Taken>,
    /// Whether an interface of this name exists in the network namespace.
    exists: fn(&str) -> bool,
}

impl Default for InterfaceNames {
    fn default() -> Self {
        Self::with_lookup(system_has)
    }
}

/// Whether this network namespace has an interface named `name`, asked over rtnetlink.
/// Not `if_nametoindex`: its `SIOCGIFINDEX` makes the kernel of a privileged caller run
/// `modprobe` twice (`netdev-NAME`, then `NAME`: `dev_load`) for every name it lacks, which
/// is every new session's, and waits for both.
fn system_has(name: &str) -> bool {
    l2tp_dataplane::kernel::Rtnl::open().is_ok_and(|r| r.index(name).is_ok())
}

#[derive(Debug)]
struct Taken {
    name: String,
    numbered: Option<(String, u32)>,
}

/// Numbers for one `%d` template: the lowest freed number first, else the next new one.
#[derive(Debug, Default)]
struct NumberPool {
    next: u32,
    freed: BTreeSet<u32>,
}

impl InterfaceNames {
    /// Names with `exists` telling which names the system has.
    fn with_lookup(exists: fn(&str) -> bool) -> Self {
        Self {
            names: HashSet::new(),
            pools: HashMap::new(),
            taken: HashMap::new(),
            exists,
        }
    }

    /// Names session `(tid, sid)`'s interface: `template` itself when it has no `%d`, else the
    /// template with the lowest number whose name neither a session nor the system uses.
    pub fn take(&mut self, tid: u32, sid: u32, template: &str) -> String {
        self.release(tid, sid);
        if !template.contains("%d") {
            self.names.insert(template.to_owned());
            self.taken.insert(
                (tid, sid),
                Taken {
                    name: template.to_owned(),
                    numbered: None,
                },
            );
            return template.to_owned();
        }
        let pool = self.pools.entry(template.to_owned()).or_default();
        // Numbers whose names the system has: tried again next time.
        let mut foreign = Vec::new();
        loop {
            let n = pool.freed.pop_first().unwrap_or_else(|| {
                pool.next += 1;
                pool.next - 1
            });
            let name = template.replacen("%d", &n.to_string(), 1);
            if !self.names.contains(&name) && (self.exists)(&name) {
                foreign.push(n);
                continue;
            }
            // A number whose name a fixed `interface_name` already took is skipped for good.
            if self.names.insert(name.clone()) {
                pool.freed.extend(foreign);
                self.taken.insert(
                    (tid, sid),
                    Taken {
                        name: name.clone(),
                        numbered: Some((template.to_owned(), n)),
                    },
                );
                return name;
            }
        }
    }

    /// Gives session `(tid, sid)`'s name (and its number) back.
    pub fn release(&mut self, tid: u32, sid: u32) {
        if let Some(t) = self.taken.remove(&(tid, sid)) {
            self.names.remove(&t.name);
            if let Some((template, n)) = t.numbered
                && let Some(pool) = self.pools.get_mut(&template)
            {
                pool.freed.insert(n);
            }
        }
    }

    /// Forgets every name.
    pub fn clear(&mut self) {
        *self = Self::with_lookup(self.exists);
    }
}

/// The template of a session's interface name: its `interface_name`, else `ppp%d` for PPP and
/// `l2tpeth%d` for the others.
pub(crate) fn template(interface_name: Option<&str>, ppp: bool) -> &str {
    interface_name.unwrap_or(if ppp { "ppp%d" } else { "l2tpeth%d" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_the_lowest_free_number() {
        let mut n = InterfaceNames::default();
        // A fixed name that looks numbered takes that number out of the template's range.
        assert_eq!(n.take(1, 9, "l2tpeth1"), "l2tpeth1");
        assert_eq!(n.take(1, 10, "l2tpeth%d"), "l2tpeth0");
        assert_eq!(n.take(1, 11, "l2tpeth%d"), "l2tpeth2");
        assert_eq!(n.take(2, 12, "l2tpeth%d"), "l2tpeth3");
        // A freed number is handed out again before new ones.
        n.release(1, 10);
        assert_eq!(n.take(2, 13, "l2tpeth%d"), "l2tpeth0");
        n.release(1, 11);
        n.release(1, 9);
        assert_eq!(n.take(2, 14, "l2tpeth%d"), "l2tpeth2");
        assert_eq!(n.take(2, 15, "l2tpeth1"), "l2tpeth1");
        // Many sessions, past the kernel's 32 768 names per template: all distinct.
        let names: HashSet<_> = (100..40_100)
            .map(|sid| n.take(3, sid, "l2tpeth%d"))
            .collect();
        assert_eq!(names.len(), 40_000);
        assert!(names.contains("l2tpeth40003"));
    }

    #[test]
    fn the_system_is_asked_over_rtnetlink() {
        assert!(system_has("lo"));
        assert!(!system_has("l2tpnone0"));
    }

    #[test]
    fn names_the_system_has_are_skipped_while_it_has_them() {
        fn has_1_and_2(name: &str) -> bool {
            name == "l2tpeth1" || name == "l2tpeth2"
        }
        fn has_none(_: &str) -> bool {
            false
        }
        let mut n = InterfaceNames::with_lookup(has_1_and_2);
        assert_eq!(n.take(1, 1, "l2tpeth%d"), "l2tpeth0");
        assert_eq!(n.take(1, 2, "l2tpeth%d"), "l2tpeth3");
        // A fixed name is the operator's choice: not checked.
        assert_eq!(n.take(1, 3, "l2tpeth2"), "l2tpeth2");
        // Once the system's l2tpeth1 is gone, its number is handed out again.
        n.exists = has_none;
        assert_eq!(n.take(1, 4, "l2tpeth%d"), "l2tpeth1");
        assert_eq!(n.take(1, 5, "l2tpeth%d"), "l2tpeth4");
        // The real look-up: this test's host has a loopback interface.
        let mut real = InterfaceNames::default();
        assert_eq!(real.take(1, 1, "lo%d"), "lo0");
        assert!(system_has("lo"));
        assert!(!system_has("l2tpd-no-such0"));
    }
}
