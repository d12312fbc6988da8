//! Keeps credentials out of the server log. PostgreSQL logs the text of a failed statement
//! (log_min_error_statement) and, with log_statement, of every statement; a statement that
//! registers an account or sets the encryption passphrase carries a secret in its text, or in
//! its bind parameters (extended protocol), which are logged as a detail or a context.

use std::ffi::CStr;

use pgrx::pg_sys;

static mut PREVIOUS_HOOK: pg_sys::emit_log_hook_type = None;

/// Words of statements whose text may hold a credential or the passphrase.
const SECRET_BEARING: [&str; 3] = ["account_add", "account_options", "credential_encryption_key"];

pub fn carries_secret(statement: &str) -> bool {
    let lower = statement.to_ascii_lowercase();
    SECRET_BEARING.iter().any(|w| lower.contains(w))
}

pub fn install() {
    unsafe {
        PREVIOUS_HOOK = pg_sys::emit_log_hook;
        pg_sys::emit_log_hook = Some(redact);
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
    text.starts_with(b"parameters: ") || text.windows(17).any(|w| w == b"with parameters: ")
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn redact(edata: *mut pg_sys::ErrorData) {
    unsafe {
        let query = pg_sys::debug_query_string;
        if !edata.is_null() && !query.is_null() && carries_secret(&CStr::from_ptr(query).to_string_lossy()) {
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
        }
        // A reload of postgresql.conf logs the new value of each changed setting.
        let message = if edata.is_null() { std::ptr::null_mut() } else { (*edata).message };
        if !message.is_null() && CStr::from_ptr(message).to_bytes().starts_with(CHANGED_KEY) {
            (*edata).message = pg_sys::pstrdup(c"parameter \"azure_storage.credential_encryption_key\" changed".as_ptr());
        }
        if let Some(previous) = PREVIOUS_HOOK {
            previous(edata);
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
        assert!(super::quotes_parameters(b"unnamed portal with parameters: $1 = 'x'"));
        assert!(!super::quotes_parameters(b"SQL function \"f\" statement 1"));
    }
}
