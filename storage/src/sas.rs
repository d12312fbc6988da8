//! What a SAS token says about itself: when it expires (`se`), what it permits (`sp`) and
//! what it covers (an account SAS has `ss`/`srt`, a service SAS `sr`). Used to refuse an
//! expired token before any request and to explain a refusal.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};

/// The value of one field of the token, percent-decoded.
fn field(token: &str, name: &str) -> Option<String> {
    let token = token.trim().trim_start_matches('?');
    let raw = token.split('&').find_map(|p| p.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))?;
    Some(percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned())
}

/// When the token stops being valid, if it says so in a form Azure accepts (ISO 8601, a date
/// alone meaning its midnight UTC).
pub fn expiry(token: &str) -> Option<DateTime<Utc>> {
    let se = field(token, "se")?;
    DateTime::parse_from_rfc3339(&se)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDate::parse_from_str(&se, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()))
        .ok()
}

/// Fails with `SasExpired` when the token's expiry has passed.
pub fn check_expiry(account: &str, token: &str, now: DateTime<Utc>) -> Result<()> {
    match expiry(token) {
        Some(at) if at <= now => Err(Error::SasExpired { account: account.to_string(), at: at.format("%Y-%m-%dT%H:%M:%SZ").to_string() }),
        _ => Ok(()),
    }
}

/// What the token covers and permits, for messages: "a service SAS for one container,
/// permissions rl".
pub fn describe(token: &str) -> String {
    let scope = match field(token, "sr").as_deref() {
        Some("c") => "a service SAS for one container",
        Some("b") => "a service SAS for one blob",
        Some(_) => "a service SAS",
        None => "an account SAS",
    };
    match field(token, "sp") {
        Some(permissions) => format!("{scope}, permissions {permissions}"),
        None => scope.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").unwrap().with_timezone(&Utc);
        assert!(check_expiry("a", "sv=2022-11-02&se=2026-11-24T13%3A00%3A00Z&sig=x", now).is_ok());
        let e = check_expiry("a", "?se=2026-11-24T11:00:00Z&sig=x", now).unwrap_err();
        assert_eq!(e.to_string(), "SAS token for account a expired at 2026-11-24T11:00:00Z");
        assert!(check_expiry("a", "se=2026-11-24&sig=x", now).is_err());
        assert!(check_expiry("a", "sig=x", now).is_ok());
        // `sse` is not `se`.
        assert!(check_expiry("a", "sse=2020-01-01&sig=x", now).is_ok());
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe("sv=1&sr=c&sp=rl&sig=x"), "a service SAS for one container, permissions rl");
        assert_eq!(describe("sv=1&ss=b&srt=sco&sp=rwdlac&sig=x"), "an account SAS, permissions rwdlac");
    }
}
