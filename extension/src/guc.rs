//! The extension's settings.

use std::ffi::CString;
use std::time::Duration;

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};

/// Passphrase the credentials in `azure_storage.accounts` are encrypted with. Superuser-only
/// to set (granted to azure_storage_admin with GRANT SET ON PARAMETER), shown only to
/// superusers and azure_storage_admin members, and kept out of SHOW ALL.
pub static CREDENTIAL_ENCRYPTION_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// A file holding the passphrase, for servers that keep secrets in files: read by the server
/// when a credential is sealed or opened and `credential_encryption_key` is not set. Set in
/// postgresql.conf or with ALTER SYSTEM only; the file must belong to the server's user and
/// be unreadable by others (mode 0600 or 0400).
pub static CREDENTIAL_ENCRYPTION_KEY_FILE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Endpoint of an account that is used without being registered (public containers).
pub static DEFAULT_ENDPOINT: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"https://{account}.blob.core.windows.net"));

/// Account of `az://` and `azure://` URLs, which name none.
pub static DEFAULT_ACCOUNT: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Where managed identity tokens are asked for. Superuser-only: it decides where requests
/// that prove the server's identity go.
pub static IDENTITY_ENDPOINT: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"http://169.254.169.254/metadata/identity/oauth2/token"));

/// Entra ID authority for workload identities and service principals. Superuser-only: client
/// secrets and federated tokens are sent there.
pub static AUTHORITY_HOST: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c"https://login.microsoftonline.com"));

/// Bound on each request to the storage service, in seconds.
pub static REQUEST_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30);

/// Attempts of a request that fails in a way that may pass (503, 429, a reset connection).
pub static RETRY_ATTEMPTS: GucSetting<i32> = GucSetting::<i32>::new(5);

/// Time after which a failing request is not tried again, in seconds.
pub static RETRY_MAX_TIME: GucSetting<i32> = GucSetting::<i32>::new(120);

/// Blocks of one export being uploaded at once.
pub static UPLOAD_CONCURRENCY: GucSetting<i32> = GucSetting::<i32>::new(4);

/// Blobs a partitioned export keeps open at once.
pub static MAX_OPEN_FILES: GucSetting<i32> = GucSetting::<i32>::new(32);

/// Whether compressed exports carry `Content-Encoding`, for HTTP clients to decompress them.
pub static CONTENT_ENCODING_HEADER: GucSetting<bool> = GucSetting::<bool>::new(false);

pub fn register() {
    // Defined by hand for its show hook, which pgrx offers for no string setting.
    unsafe {
        pg_sys::DefineCustomStringVariable(
            c"azure_storage.credential_encryption_key".as_ptr(),
            c"Passphrase that encrypts the storage credentials registered in this database.".as_ptr(),
            c"Credentials are encrypted with AES-256-GCM under a key derived from this passphrase by Argon2id. \
              Set it, then run azure_storage.account_encrypt_existing_credentials()."
                .as_ptr(),
            CREDENTIAL_ENCRYPTION_KEY.as_ptr(),
            std::ptr::null(),
            pg_sys::GucContext::PGC_SUSET,
            GucFlags::NO_SHOW_ALL.bits(),
            Some(check_encryption_key),
            None,
            Some(show_encryption_key),
        );
    }
    GucRegistry::define_string_guc(
        c"azure_storage.credential_encryption_key_file",
        c"File holding the passphrase that encrypts storage credentials, used when azure_storage.credential_encryption_key is not set.",
        c"The file must belong to the server's operating-system user and be readable by it alone (mode 0600 or 0400); a trailing newline is ignored.",
        &CREDENTIAL_ENCRYPTION_KEY_FILE,
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"azure_storage.default_endpoint",
        c"Blob endpoint of accounts used without registration; {account} stands for the account name.",
        c"Only public containers can be read through accounts that are not registered.",
        &DEFAULT_ENDPOINT,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"azure_storage.default_account",
        c"Storage account of az:// and azure:// URLs, which name no account.",
        c"Unset: the only registered account the current user may use.",
        &DEFAULT_ACCOUNT,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"azure_storage.identity_endpoint",
        c"Token endpoint of the instance metadata service, for accounts using a managed identity.",
        c"Azure hosts serve it at http://169.254.169.254/metadata/identity/oauth2/token.",
        &IDENTITY_ENDPOINT,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"azure_storage.authority_host",
        c"Entra ID authority that workload identities and service principals get tokens from.",
        c"The public cloud's is https://login.microsoftonline.com.",
        &AUTHORITY_HOST,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"azure_storage.request_timeout",
        c"How long one request to blob storage may take before it fails.",
        c"Bounds connecting and each answer; a transfer as a whole may take longer.",
        &REQUEST_TIMEOUT,
        1,
        3600,
        GucContext::Userset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"azure_storage.retry_attempts",
        c"How many times a request is tried when it fails in a way that may pass.",
        c"Retried: 408, 429, 500, 502, 503, 504, broken connections and answers not given within request_timeout, waiting 0.5 s doubling to 16 s with jitter, or as the service's Retry-After says. 1: no retry.",
        &RETRY_ATTEMPTS,
        1,
        20,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"azure_storage.retry_max_time",
        c"How long a failing request may keep being tried.",
        c"No new attempt starts once this much time has passed since the first.",
        &RETRY_MAX_TIME,
        0,
        3600,
        GucContext::Userset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"azure_storage.upload_concurrency",
        c"How many blocks of one export are uploaded at once.",
        c"Each block in flight is held in memory: 4.5 MiB for the first 500 blocks of a blob, doubling every 500 blocks.",
        &UPLOAD_CONCURRENCY,
        1,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"azure_storage.max_open_files",
        c"How many blobs a partitioned export (COPY TO with partition_by) keeps open at once.",
        c"When a row needs another, the least recently used one is finished; a later row of its partition starts the next data_N file. \
          Each open blob holds up to about 5 MiB for its upload and one connection or more, and a parquet one also its row group in progress (at most 256 MiB divided by this setting).",
        &MAX_OPEN_FILES,
        1,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"azure_storage.content_encoding_header",
        c"Whether compressed exports carry a Content-Encoding header (gzip, zstd).",
        c"Off: a compressed blob is stored as the file it is, with Content-Type application/gzip or application/zstd, and every client downloads those bytes. \
          On: it has the Content-Type of its format and Content-Encoding: gzip or zstd, so browsers, the Azure SDKs and curl --compressed hand out the decompressed bytes.",
        &CONTENT_ENCODING_HEADER,
        GucContext::Userset,
        GucFlags::default(),
    );
}

pub fn upload_concurrency() -> usize {
    UPLOAD_CONCURRENCY.get().max(1) as usize
}

pub fn max_open_files() -> usize {
    MAX_OPEN_FILES.get().max(1) as usize
}

pub fn retry_policy() -> storage::retry::RetryPolicy {
    storage::retry::RetryPolicy { attempts: RETRY_ATTEMPTS.get().max(1) as u32, total: Duration::from_secs(RETRY_MAX_TIME.get().max(0) as u64) }
}

pub fn request_timeout() -> Duration {
    Duration::from_secs(REQUEST_TIMEOUT.get().max(1) as u64)
}

pub fn default_endpoint_template() -> String {
    text(&DEFAULT_ENDPOINT).unwrap_or_else(|| storage::account::DEFAULT_ENDPOINT_TEMPLATE.to_string())
}

pub fn default_account() -> Option<String> {
    text(&DEFAULT_ACCOUNT)
}

pub fn identity_endpoint() -> String {
    text(&IDENTITY_ENDPOINT).unwrap_or_else(|| storage::identity::DEFAULT_METADATA_ENDPOINT.to_string())
}

pub fn authority_host() -> String {
    text(&AUTHORITY_HOST).unwrap_or_else(|| storage::identity::DEFAULT_AUTHORITY.to_string())
}

/// A string setting's value, unless it is unset or empty.
fn text(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting.get().and_then(|c| c.into_string().ok()).filter(|s| !s.is_empty())
}

/// The passphrase, when set to something non-empty: the setting, else the key file's content.
pub fn encryption_passphrase() -> Option<String> {
    if let Some(passphrase) = text(&CREDENTIAL_ENCRYPTION_KEY) {
        return Some(passphrase);
    }
    let path = text(&CREDENTIAL_ENCRYPTION_KEY_FILE)?;
    let refuse = |why: String| -> ! {
        crate::errors::raise(
            pgrx::PgSqlErrorCode::ERRCODE_CONFIG_FILE_ERROR,
            format!("could not use azure_storage.credential_encryption_key_file \"{path}\": {why}"),
            None,
            Some("The file must belong to the server's operating-system user, have mode 0600 or 0400, and hold the passphrase.".into()),
        )
    };
    let passphrase = read_key_file(std::path::Path::new(&path)).unwrap_or_else(|why| refuse(why));
    if passphrase.is_empty() {
        refuse("the file is empty".into());
    }
    Some(passphrase)
}

/// A key file's passphrase, after checking that only the server's user may read the file.
fn read_key_file(path: &std::path::Path) -> Result<String, String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let server_user = unsafe { libc::geteuid() };
    if meta.uid() != server_user {
        return Err(format!("it belongs to user id {}, not to the server's user (id {server_user})", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!("its mode is {:04o}, so other users may read it", meta.mode() & 0o7777));
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Ok(text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_string())
}

/// Refuses the passphrase where every role could read it: settings of a database, a role or
/// both (ALTER DATABASE / ALTER ROLE ... SET, kept in pg_db_role_setting), a function's SET
/// clause (pg_proc), all of which are also copied into every dump. PGC_S_TEST is how
/// PostgreSQL checks those before storing them.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn check_encryption_key(newval: *mut *mut std::ffi::c_char, _extra: *mut *mut std::ffi::c_void, source: pg_sys::GucSource::Type) -> bool {
    use pg_sys::GucSource as S;
    let stored_in_catalog = [S::PGC_S_GLOBAL, S::PGC_S_DATABASE, S::PGC_S_USER, S::PGC_S_DATABASE_USER, S::PGC_S_TEST].contains(&source);
    let empty = unsafe { (*newval).is_null() || **newval == 0 };
    if source == S::PGC_S_SESSION && !empty {
        // SET or set_config(): the statement's text, or its parameters, carry the passphrase.
        crate::log_redaction::statement_carries_secret();
    }
    if !stored_in_catalog || empty {
        return true;
    }
    unsafe {
        pg_sys::GUC_check_errcode(pgrx::PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE as i32);
        pg_sys::GUC_check_errmsg_string = pg_sys::pstrdup(
            c"azure_storage.credential_encryption_key cannot be set for a database, a role or a function".as_ptr(),
        );
        pg_sys::GUC_check_errdetail_string = pg_sys::pstrdup(
            c"Such settings are kept in pg_db_role_setting or pg_proc, which every role can read, and are copied into every dump next to the credentials they protect.".as_ptr(),
        );
        pg_sys::GUC_check_errhint_string = pg_sys::pstrdup(
            c"Set it in postgresql.conf or with ALTER SYSTEM (files only the server's user reads), name a file of mode 0600 in azure_storage.credential_encryption_key_file, or SET it in a session.".as_ptr(),
        );
    }
    false
}

/// SHOW, current_setting() and pg_settings show the passphrase to superusers and members of
/// azure_storage_admin only; others see whether it is set.
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn show_encryption_key() -> *const std::ffi::c_char {
    let value = unsafe { *CREDENTIAL_ENCRYPTION_KEY.as_ptr() };
    let may_see = unsafe { pg_sys::IsTransactionState() } && crate::roles::is_admin(crate::roles::current_user());
    match (value.is_null(), may_see) {
        (true, _) => c"".as_ptr(),
        (false, true) => value,
        (false, false) => c"(hidden)".as_ptr(),
    }
}
