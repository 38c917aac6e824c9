//! Interface names for sessions, numbered by the daemon rather than the kernel: the kernel's
//! own `%d` numbering stops at 32 768 names per template, and asking it costs a scan of every
//! interface. Each name costs O(log n) here.

use std::collections::{BTreeSet, HashMap, HashSet};

/// The names in use, and per `%d` template the numbers handed out and freed.
#[derive(Debug, Default)]
pub struct InterfaceNames {
    names: HashSet<String>,
    pools: HashMap<String, NumberPool>,
    /// The template, number and name of each session's interface.
    taken: HashMap<(u32, u32), Taken>,
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
    /// Names session `(tid, sid)`'s interface: `template` itself when it has no `%d`, else the
    /// template with the lowest number whose name no session uses.
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
        loop {
            let n = pool.freed.pop_first().unwrap_or_else(|| {
                pool.next += 1;
                pool.next - 1
            });
            let name = template.replacen("%d", &n.to_string(), 1);
            // A number whose name a fixed `interface_name` already took is skipped for good.
            if self.names.insert(name.clone()) {
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
        *self = Self::default();
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
}
