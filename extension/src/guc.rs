//! The extension's settings.

use std::ffi::CString;
use std::time::Duration;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Passphrase the credentials in `azure_storage.accounts` are encrypted with. Superuser-only
/// to set (granted to azure_storage_admin with GRANT SET ON PARAMETER) and to show, and kept
/// out of SHOW ALL.
pub static CREDENTIAL_ENCRYPTION_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Endpoint of an account that is used without being registered (public containers).
pub static DEFAULT_ENDPOINT: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"https://{account}.blob.core.windows.net"));

/// Bound on each request to the storage service, in seconds.
pub static REQUEST_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30);

pub fn register() {
    GucRegistry::define_string_guc(
        c"azure_storage.credential_encryption_key",
        c"Passphrase that encrypts the storage credentials registered in this database.",
        c"Credentials are encrypted with AES-256-GCM under a key derived from this passphrase by Argon2id. \
          Set it with ALTER DATABASE ... SET, then run azure_storage.account_encrypt_existing_credentials().",
        &CREDENTIAL_ENCRYPTION_KEY,
        GucContext::Suset,
        GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL,
    );
    GucRegistry::define_string_guc(
        c"azure_storage.default_endpoint",
        c"Blob endpoint of accounts used without registration; {account} stands for the account name.",
        c"Only public containers can be read through accounts that are not registered.",
        &DEFAULT_ENDPOINT,
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
}

pub fn request_timeout() -> Duration {
    Duration::from_secs(REQUEST_TIMEOUT.get().max(1) as u64)
}

pub fn default_endpoint_template() -> String {
    DEFAULT_ENDPOINT
        .get()
        .and_then(|c| c.into_string().ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| storage::account::DEFAULT_ENDPOINT_TEMPLATE.to_string())
}

/// The passphrase, when set to something non-empty.
pub fn encryption_passphrase() -> Option<String> {
    CREDENTIAL_ENCRYPTION_KEY.get().and_then(|c| c.into_string().ok()).filter(|s| !s.is_empty())
}
