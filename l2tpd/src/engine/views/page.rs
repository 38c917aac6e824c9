//! Listings in pages: `show tunnels` and `show sessions` answer a long listing a page at a
//! time, serving the tunnels between two pages.

/// Where the next page of `show tunnels` or `show sessions` starts: at this tunnel or session
/// record, or (for tunnels, once the records are done) at this idle instance. Opaque to the
/// clients of the engine.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum ListCursor {
    /// At the record with this handle.
    Record(u64),
    /// At the tunnel instance of this name.
    Instance(String),
}

/// One page of a listing, and where the next one starts (`None`: this is the last).
#[derive(Clone, Debug)]
pub struct ListPage<T> {
    /// The items of this page that pass the filters.
    pub items: Vec<T>,
    /// Where the next page starts.
    pub next: Option<ListCursor>,
}

/// The rows of a listing's records, by handle from a handle on (`None` for a record not
/// listed, which counts as looked at all the same).
type Records<'a, T> = Box<dyn Iterator<Item = (u64, Option<T>)> + 'a>;

/// The rows of a listing's instances without a record, by name from a name on.
type Idle<'a, T> = Box<dyn Iterator<Item = (&'a String, T)> + 'a>;

/// One page of a listing: its records, then its instances without a record; at most `budget`
/// looked at from `from`, the rows `keep` takes returned.
pub(super) fn page<'a, T>(
    from: Option<&'a ListCursor>,
    budget: usize,
    records: impl FnOnce(Option<u64>) -> Records<'a, T>,
    idle: impl FnOnce(Option<&'a str>) -> Idle<'a, T>,
    keep: impl Fn(&T) -> bool,
) -> ListPage<T> {
    let mut items = Vec::new();
    let mut looked = 0;
    let idle_from = match from {
        Some(ListCursor::Instance(name)) => Some(name.as_str()),
        records_from => {
            let at = match records_from {
                Some(ListCursor::Record(h)) => Some(*h),
                _ => None,
            };
            for (h, row) in records(at) {
                if looked == budget {
                    let next = Some(ListCursor::Record(h));
                    return ListPage { items, next };
                }
                looked += 1;
                items.extend(row.filter(|r| keep(r)));
            }
            None
        }
    };
    for (name, row) in idle(idle_from) {
        if looked == budget {
            let next = Some(ListCursor::Instance(name.clone()));
            return ListPage { items, next };
        }
        looked += 1;
        if keep(&row) {
            items.push(row);
        }
    }
    ListPage { items, next: None }
}
