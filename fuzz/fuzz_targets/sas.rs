//! What a SAS token says about itself: expiry parsing, the expiry check and the description
//! used in error messages, on arbitrary tokens.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use storage::sas::{check_expiry, describe, expiry};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let at = expiry(token);
    let fixed = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").unwrap().with_timezone(&Utc);
    for now in [fixed, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let checked = check_expiry("acct", token, now);
        match at {
            Some(at) if at <= now => {
                let e = checked.expect_err("an expired token passes").to_string();
                assert!(e.starts_with("SAS token for account acct expired at "), "{e}");
            }
            _ => assert!(checked.is_ok(), "a token without a past expiry is refused"),
        }
    }
    let d = describe(token);
    assert!(d.starts_with("a service SAS") || d.starts_with("an account SAS"), "{d}");
});
