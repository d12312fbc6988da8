//! Datasets of many blobs: Hive partition path segments (`kind=Push/day=2026-01-01/`) both
//! ways, and the `file_size_bytes` size strings of split exports.
//!
//! Values are escaped as Hive's `FileUtils.escapePathName` does: control characters and
//! `"#%'*/:=?\{[]^` and DEL become `%XX` (upper-case hex of the byte); everything else,
//! UTF-8 included, stays. Reading decodes every `%XX` (so pyarrow's URI-encoded segments
//! read too) and keeps a `%` that does not start one. NULL is `__HIVE_DEFAULT_PARTITION__`.

/// The segment value that stands for NULL.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Largest file_size_bytes: a block blob's limit (50,000 blocks of 4,000 MiB).
pub const MAX_FILE_SIZE: u64 = 50_000 * 4_000 * (1 << 20);

fn escaped(b: u8) -> bool {
    matches!(b, 0x00..=0x1f | 0x7f | b'"' | b'#' | b'%' | b'\'' | b'*' | b'/' | b':' | b'=' | b'?' | b'\\' | b'{' | b'[' | b']' | b'^')
}

/// `value` as Hive writes it in a path.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii() && escaped(c as u8) {
            out.push_str(&format!("%{:02X}", c as u8));
        } else {
            out.push(c);
        }
    }
    out
}

/// A path segment as written: `%XX` decoded (a `%` that starts none stays). Errors when the
/// decoded bytes are not UTF-8 or hold a NUL.
pub fn unescape(segment: &str) -> Result<String, String> {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(segment).collect();
    if decoded.contains(&0) {
        return Err(format!("partition path segment \"{segment}\" decodes to a NUL byte, which PostgreSQL text cannot hold"));
    }
    String::from_utf8(decoded).map_err(|_| format!("partition path segment \"{segment}\" decodes to bytes that are not UTF-8"))
}

/// The `key=value` segment of one partition column; NULL as the default partition. A text
/// that is the default partition's own name has its first `_` escaped, so that it reads
/// back as that text, not as NULL.
pub fn segment(key: &str, value: Option<&str>) -> String {
    match value {
        Some(DEFAULT_PARTITION) => format!("{}=%5F{}", escape(key), &DEFAULT_PARTITION[1..]),
        Some(v) => format!("{}={}", escape(key), escape(v)),
        None => format!("{}={DEFAULT_PARTITION}", escape(key)),
    }
}

/// The partition values of a blob's name: every folder segment `key=value` (the last
/// segment is the file and is not looked at), decoded, in path order; the default
/// partition is None. A key given twice is an error naming it.
pub fn partition_values(path: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut values: Vec<(String, Option<String>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut folders: Vec<&str> = path.split('/').collect();
    folders.pop();
    for folder in folders {
        let Some((key, value)) = folder.split_once('=') else { continue };
        if key.is_empty() {
            continue;
        }
        let key = unescape(key)?;
        let value = if value == DEFAULT_PARTITION { None } else { Some(unescape(value)?) };
        if !seen.insert(key.clone()) {
            return Err(format!("the partition key \"{key}\" is given twice"));
        }
        values.push((key, value));
    }
    Ok(values)
}

/// The keys of `values` (as partition_values gives them), for messages: `(kind, day)`.
pub fn key_list(values: &[(String, Option<String>)]) -> String {
    format!("({})", values.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", "))
}

/// Whether two blobs' partition values have the same keys in the same order.
pub fn same_keys(a: &[(String, Option<String>)], b: &[(String, Option<String>)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|((x, _), (y, _))| x == y)
}

/// A file_size_bytes setting: bytes, or a number with KB, MB or GB (powers of 1024; KiB,
/// MiB, GiB and B too), spaces allowed, case ignored.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let refuse = || {
        format!(
            "file_size_bytes \"{text}\" is not a size; give a number of bytes, or one with KB, MB or GB (powers of 1024), between 1 and {MAX_FILE_SIZE} bytes, such as '64MB'"
        )
    };
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    if digits == 0 {
        return Err(refuse());
    }
    let number: u64 = t[..digits].parse().map_err(|_| refuse())?;
    let unit = t[digits..].trim().to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "" | "b" => 1,
        "kb" | "kib" | "k" => 1 << 10,
        "mb" | "mib" | "m" => 1 << 20,
        "gb" | "gib" | "g" => 1 << 30,
        _ => return Err(refuse()),
    };
    match number.checked_mul(factor) {
        Some(n @ 1..=MAX_FILE_SIZE) => Ok(n),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_hive() {
        assert_eq!(escape("a/b=c%d"), "a%2Fb%3Dc%25d");
        assert_eq!(escape("2026-01-01 10:00:00"), "2026-01-01 10%3A00%3A00");
        assert_eq!(escape("tab\there\u{1}"), "tab%09here%01");
        assert_eq!(escape("ünï ✓"), "ünï ✓");
        assert_eq!(escape("{[x]}^?*#'\"\\"), "%7B%5Bx%5D}%5E%3F%2A%23%27%22%5C");
        assert_eq!(segment("kind", Some("Push/Pull")), "kind=Push%2FPull");
        assert_eq!(segment("kind", None), "kind=__HIVE_DEFAULT_PARTITION__");
        let text = format!("k/{}/f", segment("k", Some(DEFAULT_PARTITION)));
        assert_eq!(partition_values(&text).unwrap(), vec![("k".into(), Some(DEFAULT_PARTITION.into()))]);
    }

    #[test]
    fn unescapes_what_escape_wrote() {
        for v in ["", "a/b=c%d", "%", "%%", "%4", "%zz", "100%", "x\u{7f}\u{1f}", "ü/ß", "__HIVE"] {
            assert_eq!(unescape(&escape(v)).unwrap(), v, "{v:?}");
        }
        assert_eq!(unescape("a%20b%2fc").unwrap(), "a b/c");
        assert_eq!(unescape("100%").unwrap(), "100%");
        assert_eq!(unescape("%4").unwrap(), "%4");
        assert!(unescape("%FF").unwrap_err().contains("not UTF-8"));
        assert!(unescape("a%00").unwrap_err().contains("NUL byte"));
    }

    #[test]
    fn reads_partition_values_from_folders() {
        let v = partition_values("events/kind=Push/day=2026-01-01/data_0.parquet").unwrap();
        assert_eq!(v, vec![("kind".into(), Some("Push".into())), ("day".into(), Some("2026-01-01".into()))]);
        let v = partition_values("x/k=__HIVE_DEFAULT_PARTITION__/e=/a=b=c/f=1.csv").unwrap();
        assert_eq!(v, vec![("k".into(), None), ("e".into(), Some("".into())), ("a".into(), Some("b=c".into()))]);
        assert!(partition_values("k=1/k=2/f").unwrap_err().contains("\"k\" is given twice"));
        assert!(partition_values("plain/f=1").unwrap().is_empty());
        assert!(partition_values("=1/f").unwrap().is_empty());
        assert!(partition_values("k=%00/f").unwrap_err().contains("NUL byte"));
        let a = partition_values("a=1/b=2/f").unwrap();
        assert!(same_keys(&a, &partition_values("x/a=3/b=__HIVE_DEFAULT_PARTITION__/f").unwrap()));
        assert!(!same_keys(&a, &partition_values("b=2/a=1/f").unwrap()));
        assert!(!same_keys(&a, &partition_values("a=1/f").unwrap()));
        assert_eq!(key_list(&a), "(a, b)");
    }

    #[test]
    fn ten_thousand_segments() {
        let distinct: String = (0..10_000).map(|i| format!("k{i}=v{i}/")).collect::<String>() + "f.csv";
        let values = partition_values(&distinct).unwrap();
        assert_eq!(values.len(), 10_000);
        assert_eq!(values[9_999], ("k9999".into(), Some("v9999".into())));
        let repeated = "k=1/".repeat(10_000) + "f.csv";
        assert!(partition_values(&repeated).unwrap_err().contains("\"k\" is given twice"));
        let plain = "a/".repeat(10_000) + "f.csv";
        assert!(partition_values(&plain).unwrap().is_empty());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MB").unwrap(), 64 << 20);
        assert_eq!(parse_size(" 512 kb ").unwrap(), 512 << 10);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        for bad in ["", "MB", "-1", "0", "1.5MB", "1TB", "99999999999999999999", "200000000GB"] {
            assert!(parse_size(bad).unwrap_err().contains("is not a size"), "{bad}");
        }
    }
}
