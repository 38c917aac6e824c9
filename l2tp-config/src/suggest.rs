//! "Did you mean" suggestions by edit distance.

/// Words longer than this get no suggestion (the longest name is far shorter).
const MAX_WORD: usize = 64;

/// The candidate closest to `word` by optimal-string-alignment distance (Levenshtein plus
/// transposition of neighbours), if it is close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let len = word.chars().count();
    if !(3..=MAX_WORD).contains(&len) {
        // Any short word is one or two edits from any other: suggestions would be noise. A
        // long one is no typo of any name, and its distances would cost time per candidate.
        return None;
    }
    let limit = (len / 3).max(1);
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    candidates
        .iter()
        // The distance is at least the difference in length: skip the matrix when that
        // alone rules a candidate out (most candidates, for most words).
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .filter_map(|&c| distance_within(word, c, limit).map(|d| (d, c)))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
        .or_else(|| {
            // A name cut short or written out longer, word for word: `ip_pool` for
            // `ip_pool_name`, `tunnel_name` for `tunnel`. The shortest such name, the first of
            // equals.
            candidates
                .iter()
                .copied()
                .filter(|c| {
                    c.strip_prefix(word)
                        .is_some_and(|rest| rest.starts_with('_'))
                        || word
                            .strip_prefix(*c)
                            .is_some_and(|rest| rest.starts_with('_'))
                })
                .min_by_key(|c| c.len())
        })
}

/// `"; did you mean `x`?"` or the empty string.
pub(crate) fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// The distance from `a` to `b` if it is at most `limit`. The matrix is abandoned as soon as two
/// consecutive rows exceed `limit` everywhere: every later cell derives from those two rows
/// (or from its left neighbour, itself derived from them) and cannot come back under it.
fn distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = [
        (0..width).collect::<Vec<_>>(),
        vec![0usize; width],
        vec![0usize; width],
    ];
    // rows[0] is the newest row (i-1), rows[1] the one before; rotating makes the oldest the
    // scratch row for row i.
    let mut prev_min = 0;
    for i in 1..=a.len() {
        rows.rotate_right(1);
        let [cur, up, up2] = &mut rows;
        cur[0] = i;
        let mut row_min = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (up[j] + 1).min(cur[j - 1] + 1).min(up[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(up2[j - 2] + 1);
            }
            cur[j] = best;
            row_min = row_min.min(best);
        }
        if row_min > limit && prev_min > limit {
            return None;
        }
        prev_min = row_min;
    }
    let d = rows[0][b.len()];
    (d <= limit).then_some(d)
}

#[cfg(test)]
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("hello_timout", "hello_timeout"), 1);
        assert_eq!(distance("secrte", "secret"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(did_you_mean("tunel", ["tunnel", "session"]), Some("tunnel"));
        assert_eq!(did_you_mean("zzzz", ["tunnel", "session"]), None);
        assert_eq!(
            did_you_mean("hello_timout", ["hello_timeout", "tunnel"]),
            Some("hello_timeout")
        );
        // The bounded distance agrees with the full one wherever it is within the limit.
        let words = [
            "",
            "a",
            "ab",
            "tunnel",
            "tunel",
            "tunnle",
            "session",
            "sesion",
            "hello_timeout",
            "hello_timout",
            "helo_timeout",
            "secret",
            "secrte",
            "max_tunnels",
            "max_sessions",
            "xyzzy",
            "listen",
            "lsiten",
        ];
        for a in words {
            for b in words {
                for limit in 0..6 {
                    let full = distance(a, b);
                    assert_eq!(
                        distance_within(a, b, limit),
                        (full <= limit).then_some(full),
                        "{a:?} {b:?} {limit}"
                    );
                }
            }
        }
        // A name cut short at a word, or written out longer.
        assert_eq!(
            did_you_mean("ip_pool", ["ip_pool_name", "local_ip_addr"]),
            Some("ip_pool_name")
        );
        assert_eq!(
            did_you_mean("dns", ["dns_addr_1", "dns_addr_2"]),
            Some("dns_addr_1")
        );
        assert_eq!(
            did_you_mean("tunnel_name", ["profile", "tunnel"]),
            Some("tunnel")
        );
        // Not within a word, nor a short word.
        assert_eq!(did_you_mean("ip_po", ["ip_pool_name"]), None);
        assert_eq!(did_you_mean("ip", ["ip_addr"]), None);
        // A long word costs no matrix and gets no suggestion.
        assert_eq!(did_you_mean(&"x".repeat(5000), ["tunnel"]), None);
    }
}
