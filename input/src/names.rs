//! Azure's naming rules, checked before any request so that a typo gives a clear error
//! instead of a confusing answer from the service.

/// A name that breaks one of Azure's rules: what was given, and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    pub kind: &'static str,
    pub value: String,
    pub rule: &'static str,
}

impl std::fmt::Display for InvalidName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid {} name \"{}\": {}", self.kind, self.value, self.rule)
    }
}

impl std::error::Error for InvalidName {}

pub const ACCOUNT_RULE: &str = "a storage account name has 3 to 24 characters, lowercase letters and digits only";
pub const CONTAINER_RULE: &str = "a container name has 3 to 63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit";
pub const BLOB_RULE: &str = "a blob name has 1 to 1024 characters";
/// URLs resolve `.` and `..` segments away (`a/../b` is `b`), so such a name cannot be
/// addressed as it is: refused rather than read or written under another name.
pub const BLOB_SEGMENT_RULE: &str = "a blob name cannot have \".\" or \"..\" as a path segment (a/../b is read as b in a URL); \
     dots within a segment, as in a..b.csv, are fine";

/// The service reads `\` in a URL path as `/` (so `a\b` would write `a/b`), and control
/// characters are not allowed in names (listings that hold one fail).
pub const BLOB_CHARACTER_RULE: &str = "a blob name cannot contain a backslash (the service reads it as /) or a control character (U+0000 to U+001F, U+007F)";

fn invalid(kind: &'static str, value: &str, rule: &'static str) -> InvalidName {
    // Show at most a readable prefix of absurdly long values.
    let shown: String = value.chars().take(80).collect();
    let shown = if shown.len() < value.len() { format!("{shown}...") } else { shown };
    InvalidName { kind, value: shown, rule }
}

pub fn validate_account_name(name: &str) -> Result<(), InvalidName> {
    let ok = (3..=24).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok { Ok(()) } else { Err(invalid("storage account", name, ACCOUNT_RULE)) }
}

pub fn validate_container_name(name: &str) -> Result<(), InvalidName> {
    let bytes = name.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
        && !name.contains("--");
    // `$root` and `$logs` are the system containers Azure names with a dollar sign.
    if ok || name == "$root" || name == "$logs" {
        Ok(())
    } else {
        Err(invalid("container", name, CONTAINER_RULE))
    }
}

pub fn validate_blob_name(name: &str) -> Result<(), InvalidName> {
    let chars = name.chars().count();
    if !(1..=1024).contains(&chars) {
        return Err(invalid("blob", name, BLOB_RULE));
    }
    if name.split('/').any(|segment| segment == "." || segment == "..") {
        return Err(invalid("blob", name, BLOB_SEGMENT_RULE));
    }
    if name.chars().any(|c| c == '\\' || c.is_ascii_control()) {
        // Control characters shown escaped, so that the message stays one readable line.
        let shown: String = name.chars().map(|c| if c.is_ascii_control() { c.escape_default().to_string() } else { c.to_string() }).collect();
        return Err(invalid("blob", &shown, BLOB_CHARACTER_RULE));
    }
    Ok(())
}

/// A listing prefix may be empty, but is otherwise bound by the blob name length.
pub fn validate_prefix(prefix: &str) -> Result<(), InvalidName> {
    if prefix.chars().count() <= 1024 { Ok(()) } else { Err(invalid("blob prefix", prefix, BLOB_RULE)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        assert!(validate_account_name("abc").is_ok());
        assert!(validate_account_name(&"a".repeat(24)).is_ok());
        assert!(validate_account_name("devstoreaccount1").is_ok());
        for bad in ["ab", &"a".repeat(25), "Abc", "ab-c", "ab_c", "abc ", ""] {
            let e = validate_account_name(bad).unwrap_err();
            assert_eq!(e.rule, ACCOUNT_RULE, "{bad}");
        }
    }

    #[test]
    fn container_names() {
        for good in ["abc", "a-b-c", "0ab", &"a".repeat(63), "$logs"] {
            assert!(validate_container_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "a--b", "-abc", "abc-", "Abc", "a_bc", &"a".repeat(64), "$other"] {
            assert!(validate_container_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blob_names_and_long_values_are_shortened() {
        assert!(validate_blob_name("a/b/c.csv").is_ok());
        assert!(validate_blob_name(&"é".repeat(1024)).is_ok());
        let e = validate_blob_name(&"x".repeat(1025)).unwrap_err();
        assert!(e.value.ends_with("...") && e.value.len() < 100);
        assert!(validate_blob_name("").is_err());
        assert!(validate_blob_name("v1..2/report..csv").is_ok());
        for bad in ["a/../b.csv", "./x.csv", "x/.", ".."] {
            assert_eq!(validate_blob_name(bad).unwrap_err().rule, BLOB_SEGMENT_RULE, "{bad}");
        }
        assert!(validate_prefix("").is_ok());
        for bad in ["back\\slash.csv", "tab\there.csv", "new\nline", "nul\0", "del\u{7f}"] {
            assert_eq!(validate_blob_name(bad).unwrap_err().rule, BLOB_CHARACTER_RULE, "{bad:?}");
        }
        assert_eq!(validate_blob_name("tab\there.csv").unwrap_err().value, "tab\\there.csv");
        assert!(validate_blob_name("é/😀 x+y&z=1#?.csv").is_ok());
    }
}
