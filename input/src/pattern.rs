//! Blob name patterns: `*` is any run of characters but `/`, `?` one character but `/`, and
//! `**` any run of characters, `/` included (`**/` also stands for no folder at all).
//! Everything else matches itself.
//!
//! A pattern is compiled once into a regular expression of the `regex` crate, whose matching
//! takes time linear in the name whatever the pattern (no backtracking), so a pattern such as
//! `*a*a*a*a*a*a*a*b` against a long name costs no more than a plain one. Patterns are also
//! bounded in length and in wildcards, so that compiling one is cheap too.

use std::fmt;

/// A blob name has at most 1024 characters; a pattern for names needs no more.
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Wildcards (`*`, `**`, `?`) in one pattern.
pub const MAX_WILDCARDS: usize = 64;

/// A pattern that cannot be used, with the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPattern {
    pub pattern: String,
    pub rule: String,
}

impl fmt::Display for InvalidPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid blob pattern \"{}\": {}", self.pattern, self.rule)
    }
}

impl std::error::Error for InvalidPattern {}

/// Whether `path` is a pattern rather than a plain name.
pub fn is_pattern(path: &str) -> bool {
    path.contains(['*', '?'])
}

/// The part before the first wildcard: every match starts with it, so listing by it
/// fetches no more than needed.
pub fn literal_prefix(pattern: &str) -> &str {
    &pattern[..pattern.find(['*', '?']).unwrap_or(pattern.len())]
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: regex::Regex,
}

impl Pattern {
    pub fn new(pattern: &str) -> Result<Pattern, InvalidPattern> {
        let invalid = |rule: String| {
            let shown: String = pattern.chars().take(80).collect();
            let shown = if shown.len() < pattern.len() { format!("{shown}...") } else { shown };
            InvalidPattern { pattern: shown, rule }
        };
        let chars = pattern.chars().count();
        if chars > MAX_PATTERN_CHARS {
            return Err(invalid(format!("it has {chars} characters; a pattern has at most {MAX_PATTERN_CHARS}, as a blob name")));
        }
        let mut expression = String::from("^(?s:");
        let mut wildcards = 0;
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            let (piece, used) = if let Some(after) = rest.strip_prefix("**/") {
                ("(?:.*/)?", rest.len() - after.len())
            } else if rest.starts_with("**") {
                (".*", 2)
            } else if c == '*' {
                ("[^/]*", 1)
            } else if c == '?' {
                ("[^/]", 1)
            } else {
                expression.push_str(&regex::escape(&rest[..c.len_utf8()]));
                rest = &rest[c.len_utf8()..];
                continue;
            };
            wildcards += 1;
            expression.push_str(piece);
            rest = &rest[used..];
        }
        if wildcards > MAX_WILDCARDS {
            return Err(invalid(format!("it has {wildcards} wildcards; a pattern has at most {MAX_WILDCARDS} (*, ** and ? each count)")));
        }
        expression.push_str(")$");
        let regex = regex::RegexBuilder::new(&expression)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| invalid(format!("it cannot be compiled: {e}")))?;
        Ok(Pattern { regex })
    }

    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(name)
    }

    #[test]
    fn a_name_matches_itself_as_a_pattern() {
        // blob_set::expand relies on it: a blob named like its pattern is in the matches.
        for name in ["a*b.csv", "x?.csv", "d/**/e.csv", "**", "*?*", "f/*/g?"] {
            assert!(matches(name, name), "{name}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(matches("sales/*.csv", "sales/a.csv"));
        assert!(!matches("sales/*.csv", "sales/2024/a.csv"));
        assert!(matches("sales/**.csv", "sales/2024/01/a.csv"));
        assert!(matches("sales/**/a.csv", "sales/a.csv"));
        assert!(matches("sales/**/a.csv", "sales/x/y/a.csv"));
        assert!(!matches("sales/**/a.csv", "sales/xa.csv"));
        assert!(matches("day=2024-01-0?/*.parquet", "day=2024-01-03/part-0.parquet"));
        assert!(!matches("day=?/x", "day=/x"));
        assert!(!matches("a?c", "a/c"));
        assert!(matches("*", "plain"));
        assert!(!matches("*", "a/b"));
        assert!(matches("**", "a/b"));
        assert!(!matches("*.csv", "a.csv.gz"));
        assert!(matches("*.csv*", "a.csv.gz"));
        assert!(matches("données/*.csv", "données/é.csv"));
        assert!(matches("d?nnées", "données"));
        assert_eq!(literal_prefix("sales/2024-*/x?.csv"), "sales/2024-");
        assert_eq!(literal_prefix("plain"), "plain");
        assert!(is_pattern("a*") && is_pattern("a?") && !is_pattern("a/b"));
    }

    #[test]
    fn regex_characters_match_themselves() {
        assert!(matches("a.b(c)[d]+$^|{1}\\*", "a.b(c)[d]+$^|{1}\\x"));
        assert!(!matches("a.b*", "axb"));
        assert!(!matches("a+*", "aa"));
    }

    #[test]
    fn no_backtracking() {
        // Exponential for a backtracking matcher: 2^60 ways to place the stars.
        let name = "a".repeat(1000);
        let pattern = "*a".repeat(30) + "*b";
        assert!(!matches(&pattern, &name));
        assert!(matches(&("*a".repeat(30) + "*"), &name));
    }

    #[test]
    fn bounds() {
        let long = "a".repeat(MAX_PATTERN_CHARS + 1) + "*";
        let e = Pattern::new(&long).unwrap_err();
        assert!(e.rule.contains("1026 characters"), "{e}");
        assert!(e.to_string().starts_with("invalid blob pattern \"aaaa"), "{e}");
        let many = "?".repeat(MAX_WILDCARDS + 1);
        assert!(Pattern::new(&many).unwrap_err().rule.contains("65 wildcards"));
        assert!(Pattern::new(&"?".repeat(MAX_WILDCARDS)).is_ok());
        // `**/` and `**` count once each.
        assert!(Pattern::new(&"**/".repeat(MAX_WILDCARDS)).is_ok());
    }
}
