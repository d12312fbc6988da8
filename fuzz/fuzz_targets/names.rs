//! Azure's naming rules: whatever a validator accepts must meet Azure's rule (the validators
//! may refuse more), and every refusal must render, its value shortened. Name patterns: any
//! text compiles or is refused with a rule, and a pattern without wildcards matches itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use input::names::{validate_account_name, validate_blob_name, validate_container_name, validate_prefix};
use input::pattern::{is_pattern, literal_prefix, Pattern};

fn dot_segment(name: &str) -> bool {
    name.split('/').any(|s| s == "." || s == "..")
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else { return };
    let chars = name.chars().count();

    let lower_or_digit = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();

    let account = validate_account_name(name);
    if account.is_ok() {
        assert!((3..=24).contains(&name.len()) && name.bytes().all(lower_or_digit), "account {name:?} accepted");
    }

    let container = validate_container_name(name);
    if container.is_ok() && name != "$root" && name != "$logs" {
        let b = name.as_bytes();
        assert!((3..=63).contains(&b.len()) && b.iter().all(|&c| lower_or_digit(c) || c == b'-'), "container {name:?} accepted");
        assert!(lower_or_digit(b[0]) && lower_or_digit(b[b.len() - 1]) && !name.contains("--"), "container {name:?} accepted");
    }

    let blob = validate_blob_name(name);
    if blob.is_ok() {
        assert!((1..=1024).contains(&chars), "blob of {chars} chars accepted");
        assert!(!dot_segment(name), "blob {name:?} with a dot segment accepted");
    }

    let prefix = validate_prefix(name);
    if prefix.is_ok() {
        assert!(chars <= 1024, "prefix of {chars} chars accepted");
    }

    for e in [account.err(), container.err(), blob.err(), prefix.err()].into_iter().flatten() {
        // At most 80 characters of the value (which may show control characters escaped).
        let shown = e.value.strip_suffix("...").unwrap_or(&e.value);
        assert!(shown.chars().count() <= 80, "{e}");
        assert!(e.to_string().starts_with("invalid "), "{e}");
    }

    match Pattern::new(name) {
        Ok(pattern) => {
            assert!(name.starts_with(literal_prefix(name)));
            if !is_pattern(name) {
                assert!(pattern.matches(name), "pattern {name:?} does not match itself");
            }
            // Any name, against any pattern: the second half of the input as the name.
            let (_, other) = name.split_at(name.char_indices().nth(chars / 2).map_or(name.len(), |(i, _)| i));
            pattern.matches(other);
        }
        Err(e) => assert!(e.to_string().starts_with("invalid blob pattern"), "{e}"),
    }
});
