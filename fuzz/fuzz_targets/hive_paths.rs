//! Hive partition paths: any value escapes into one path segment (no `/`, no `=`, nothing a
//! reader would decode differently) that decodes back to the value (one with a NUL, which
//! PostgreSQL text cannot hold, is refused); any blob name yields
//! partition values or a refusal, never a panic, and a folder written by `segment` reads back
//! as its key and value. Sizes: any text parses into a size within the bounds or is refused.
#![no_main]

use input::hive::{escape, parse_size, partition_values, segment, unescape, MAX_FILE_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let escaped = escape(text);
    assert!(!escaped.contains('/') && !escaped.contains('='), "{escaped:?} holds a separator");
    // PostgreSQL text holds no NUL, so a segment decoding to one is refused.
    if text.contains('\0') {
        assert!(unescape(&escaped).is_err(), "{text:?} with a NUL was not refused");
    } else {
        assert_eq!(unescape(&escaped).as_deref(), Ok(text), "{text:?} did not come back");
    }

    let _ = partition_values(text);
    let (key, value) = text.split_once('\u{1}').unwrap_or(("k", text));
    if !key.is_empty() && !text.contains('\0') {
        let path = format!("base/{}/data_0.csv", segment(key, Some(value)));
        let values = partition_values(&path).expect("a written segment reads back");
        assert_eq!(values, vec![(key.to_string(), Some(value.to_string()))]);
    }

    if let Ok(size) = parse_size(text) {
        assert!((1..=MAX_FILE_SIZE).contains(&size));
    }
});
