//! Keeps credentials out of the server log. PostgreSQL logs the text of a failed statement
//! (log_min_error_statement) and, with log_statement, of every statement; a statement that
//! registers an account or sets the encryption passphrase carries a secret in its text, or in
//! its bind parameters (extended protocol), which are logged as a detail or a context.
//!
//! The text is not the only sign: a prepared statement or a wrapper function can call
//! account_add with a secret its own text does not show (`execute p('name', '<key>')`). So
//! account_add and the passphrase's check hook mark the statement they run in, and every line
//! logged after that point in the same statement hides it too. A `log_statement` line of an
//! EXECUTE is written before anything runs: it is hidden when the prepared statement's own
//! text carries a secret. What runs through a wrapper is known only once it runs, so a
//! `log_statement` line written before that cannot be hidden (as PostgreSQL says of
//! passwords in CREATE ROLE).

use std::ffi::CStr;

use pgrx::pg_sys;

/// Words of statements whose text may hold a credential or the passphrase.
const SECRET_BEARING: [&str; 3] = ["account_add", "account_options", "credential_encryption_key"];

pub fn carries_secret(statement: &str) -> bool {
    let lower = statement.to_ascii_lowercase();
    SECRET_BEARING.iter().any(|w| lower.contains(w))
}

/// The start time of the statement (statement_timestamp(), set anew for each statement and
/// protocol message) during which a secret-bearing function ran; 0: none.
static mut MARKED_STATEMENT: pg_sys::TimestampTz = 0;

/// Marks the current statement as carrying a secret, whatever its text.
pub fn statement_carries_secret() {
    unsafe { MARKED_STATEMENT = pg_sys::GetCurrentStatementStartTimestamp() }
}

fn statement_marked() -> bool {
    unsafe { MARKED_STATEMENT != 0 && MARKED_STATEMENT == pg_sys::GetCurrentStatementStartTimestamp() }
}

/// The name of the prepared statement an `EXECUTE name ...` statement runs.
fn executed_name(statement: &str) -> Option<String> {
    let rest = statement.trim_start();
    let keyword = rest.get(..7)?;
    if !keyword.eq_ignore_ascii_case("execute") {
        return None;
    }
    let rest = rest[7..].trim_start();
    if let Some(quoted) = rest.strip_prefix('"') {
        return Some(quoted.split('"').next()?.to_string());
    }
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$').collect();
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// Whether `statement` is an EXECUTE of a prepared statement whose text carries a secret.
unsafe fn executes_secret(statement: &str) -> bool {
    let Some(name) = executed_name(statement) else { return false };
    let Ok(name) = std::ffi::CString::new(name) else { return false };
    unsafe {
        let prepared = pg_sys::FetchPreparedStatement(name.as_ptr(), false);
        if prepared.is_null() || (*prepared).plansource.is_null() || (*(*prepared).plansource).query_string.is_null() {
            return false;
        }
        carries_secret(&CStr::from_ptr((*(*prepared).plansource).query_string).to_string_lossy())
    }
}

const CHANGED_KEY: &[u8] = b"parameter \"azure_storage.credential_encryption_key\" changed to";

/// Lines that quote the statement: log_statement, log_min_duration_statement, and the
/// extended protocol's "parse <name>: ..." (debug2).
fn quotes_statement(message: &[u8]) -> bool {
    [&b"statement: "[..], b"execute ", b"duration: ", b"parse "].iter().any(|p| message.starts_with(p))
}

/// Bind parameters: the detail of an execute line ("parameters: $1 = ..."), the context of
/// an error in a portal ("unnamed portal with parameters: $1 = ...").
fn quotes_parameters(text: &[u8]) -> bool {
    // "parameters: " in PostgreSQL 15, "Parameters: " in 18.
    text.get(..12).is_some_and(|p| p.eq_ignore_ascii_case(b"parameters: ")) || text.windows(17).any(|w| w.eq_ignore_ascii_case(b"with parameters: "))
}

/// Context lines that quote the text of an inner statement or function call.
fn quotes_inner_statement(context: &[u8]) -> bool {
    context.windows(15).any(|w| w == b"SQL statement \"") || carries_secret(&String::from_utf8_lossy(context))
}

/// Hides what carries a credential in a line about to be logged; called by the emit_log
/// hook (pg::hooks) with a non-null `edata`.
pub unsafe fn redact(edata: *mut pg_sys::ErrorData) {
    unsafe {
        let query = pg_sys::debug_query_string;
        let secret = statement_marked()
            || (!query.is_null() && {
                let text = CStr::from_ptr(query).to_string_lossy();
                carries_secret(&text) || executes_secret(&text)
            });
        if secret {
            // The "STATEMENT:" line that follows an error.
            (*edata).hide_stmt = true;
            // The lines of log_statement and log_min_duration_statement quote the statement.
            let message = (*edata).message;
            if !message.is_null() && quotes_statement(CStr::from_ptr(message).to_bytes()) {
                (*edata).message = pg_sys::pstrdup(c"statement: <hidden by azure_storage: it carries a credential>".as_ptr());
            }
            for text in [&mut (*edata).detail, &mut (*edata).detail_log, &mut (*edata).context] {
                if !text.is_null() && quotes_parameters(CStr::from_ptr(*text).to_bytes()) {
                    *text = pg_sys::pstrdup(c"parameters: <hidden by azure_storage: the statement carries a credential>".as_ptr());
                }
            }
            // A wrapper's dynamic SQL is quoted in the context ("SQL statement \"...\"") and
            // in the internal query of an error.
            let context = (*edata).context;
            if !context.is_null() && quotes_inner_statement(CStr::from_ptr(context).to_bytes()) {
                (*edata).context = pg_sys::pstrdup(c"<context hidden by azure_storage: the statement carries a credential>".as_ptr());
            }
            if !(*edata).internalquery.is_null() {
                (*edata).internalquery = pg_sys::pstrdup(c"<hidden by azure_storage: it carries a credential>".as_ptr());
            }
        }
        // A reload of postgresql.conf logs the new value of each changed setting.
        let message = (*edata).message;
        if !message.is_null() && CStr::from_ptr(message).to_bytes().starts_with(CHANGED_KEY) {
            (*edata).message = pg_sys::pstrdup(c"parameter \"azure_storage.credential_encryption_key\" changed".as_ptr());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_secret_bearing_statements() {
        assert!(super::carries_secret("SELECT azure_storage.account_add('a', 'k')"));
        assert!(super::carries_secret("set AZURE_STORAGE.CREDENTIAL_ENCRYPTION_KEY = 'x'"));
        assert!(!super::carries_secret("SELECT * FROM azure_storage.blob_list('a', 'c')"));
        assert!(super::quotes_statement(b"parse <unnamed>: SELECT 1"));
        assert!(super::quotes_parameters(b"parameters: $1 = 'x'"));
        assert!(super::quotes_parameters(b"Parameters: $1 = 'x'"));
        assert!(super::quotes_parameters(b"unnamed portal with parameters: $1 = 'x'"));
        assert!(!super::quotes_parameters(b"SQL function \"f\" statement 1"));
        assert_eq!(super::executed_name("EXECUTE p('a', 'k')").as_deref(), Some("p"));
        assert_eq!(super::executed_name("  execute My_Plan ('a')").as_deref(), Some("my_plan"));
        assert_eq!(super::executed_name("execute \"Q\"('a')").as_deref(), Some("Q"));
        assert_eq!(super::executed_name("select 1"), None);
        assert!(super::quotes_inner_statement(b"SQL statement \"SELECT azure_storage.account_add('a', 'k')\"\nPL/pgSQL function w(text) line 3 at EXECUTE"));
        assert!(!super::quotes_inner_statement(b"PL/pgSQL function w(text) line 3 at PERFORM"));
    }
}
