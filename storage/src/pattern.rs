//! Blob name patterns: `*` is any run of characters but `/`, `?` one character but `/`, and
//! `**` any run of characters, `/` included. Everything else matches itself.

/// Whether `path` is a pattern rather than a plain name.
pub fn is_pattern(path: &str) -> bool {
    path.contains(['*', '?'])
}

/// The part before the first wildcard: every match starts with it, so listing by it
/// fetches no more than needed.
pub fn literal_prefix(pattern: &str) -> &str {
    &pattern[..pattern.find(['*', '?']).unwrap_or(pattern.len())]
}

pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    matches_at(&p, &n)
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            let rest = &p[2..];
            // `**/` also matches no folder at all.
            if rest.first() == Some(&'/') && matches_at(&rest[1..], n) {
                return true;
            }
            (0..=n.len()).any(|i| matches_at(rest, &n[i..]))
        }
        Some('*') => {
            let rest = &p[1..];
            for i in 0..=n.len() {
                if matches_at(rest, &n[i..]) {
                    return true;
                }
                if n.get(i) == Some(&'/') {
                    return false;
                }
            }
            false
        }
        Some('?') => n.first().is_some_and(|c| *c != '/') && matches_at(&p[1..], &n[1..]),
        Some(c) => n.first() == Some(c) && matches_at(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches("sales/*.csv", "sales/a.csv"));
        assert!(!matches("sales/*.csv", "sales/2024/a.csv"));
        assert!(matches("sales/**.csv", "sales/2024/01/a.csv"));
        assert!(matches("sales/**/a.csv", "sales/a.csv"));
        assert!(matches("sales/**/a.csv", "sales/x/y/a.csv"));
        assert!(matches("day=2024-01-0?/*.parquet", "day=2024-01-03/part-0.parquet"));
        assert!(!matches("day=?/x", "day=/x"));
        assert!(!matches("a?c", "a/c"));
        assert!(matches("*", "plain"));
        assert!(!matches("*.csv", "a.csv.gz"));
        assert!(matches("*.csv*", "a.csv.gz"));
        assert!(matches("données/*.csv", "données/é.csv"));
        assert_eq!(literal_prefix("sales/2024-*/x?.csv"), "sales/2024-");
        assert_eq!(literal_prefix("plain"), "plain");
        assert!(is_pattern("a*") && is_pattern("a?") && !is_pattern("a/b"));
    }
}
