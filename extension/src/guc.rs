//! The extension's settings.

use std::ffi::CString;
use std::time::Duration;

use pgrx::{pg_sys, GucContext, GucFlags, GucRegistry, GucSetting};

/// Passphrase the credentials in `azure_storage.accounts` are encrypted with. Superuser-only
/// to set (granted to azure_storage_admin with GRANT SET ON PARAMETER), shown only to
/// superusers and azure_storage_admin members, and kept out of SHOW ALL.
pub static CREDENTIAL_ENCRYPTION_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Endpoint of an account that is used without being registered (public containers).
pub static DEFAULT_ENDPOINT: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"https://{account}.blob.core.windows.net"));

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
            None,
            None,
            Some(show_encryption_key),
        );
    }
    GucRegistry::define_string_guc(
        c"azure_storage.default_endpoint",
        c"Blob endpoint of accounts used without registration; {account} stands for the account name.",
        c"Only public containers can be read through accounts that are not registered.",
        &DEFAULT_ENDPOINT,
        GucContext::Suset,
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
        c"Each block in flight is held in memory: 8 MiB for the first 500 blocks of a blob, doubling every 500 blocks.",
        &UPLOAD_CONCURRENCY,
        1,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
}

pub fn upload_concurrency() -> usize {
    UPLOAD_CONCURRENCY.get().max(1) as usize
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

/// The passphrase, when set to something non-empty.
pub fn encryption_passphrase() -> Option<String> {
    text(&CREDENTIAL_ENCRYPTION_KEY)
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
