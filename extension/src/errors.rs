//! Raising errors the way users of Azure's extension know them: `azure_storage: <text>`.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

pub const PREFIX: &str = "azure_storage: ";

/// Raises an ERROR; never returns.
pub fn raise(code: PgSqlErrorCode, message: impl AsRef<str>, detail: Option<String>, hint: Option<String>) -> ! {
    let mut report = ErrorReport::new(code, format!("{PREFIX}{}", message.as_ref()), "azure_storage");
    if let Some(d) = detail {
        report = report.set_detail(d);
    }
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR report does not return")
}

pub fn invalid_parameter(message: impl AsRef<str>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, None, None)
}

/// The value of a SQL argument that must not be NULL; an error naming `argument` if it is.
pub fn required<T>(value: Option<T>, argument: &str) -> T {
    value.unwrap_or_else(|| invalid_parameter(format!("{argument} must not be NULL")))
}

pub fn invalid_name(e: input::names::InvalidName) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_NAME, e.to_string(), None, None)
}

/// An account as its errors name it: its name, and whether it is registered (one that is
/// not is used anonymously, which changes what a refusal means). Turns storage errors into
/// the errors users of Azure's extension expect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRef {
    pub name: String,
    pub registered: bool,
}

impl AccountRef {
    pub fn fail(&self, e: storage::Error) -> ! {
        storage_error(&self.name, self.registered, e, None)
    }

    /// `fail` with a note added to the error's detail: what else the statement had done
    /// when the error came.
    pub fn fail_noted(&self, e: storage::Error, note: Option<String>) -> ! {
        storage_error(&self.name, self.registered, e, note)
    }
}

/// The one map from storage errors to PostgreSQL errors (SQLSTATE, message, detail, hint).
fn storage_error(account: &str, registered: bool, e: storage::Error, note: Option<String>) -> ! {
    use storage::Error as E;
    use PgSqlErrorCode as C;
    let raise = |code: C, message: String, detail: Option<String>, hint: Option<String>| -> ! {
        let detail = match (detail, &note) {
            (Some(d), Some(n)) => Some(format!("{d}\n{n}")),
            (d, n) => d.or_else(|| n.clone()),
        };
        raise(code, message, detail, hint)
    };
    match e {
        // Azure's texts, with the name in a detail.
        E::ContainerNotFound { ref container } => {
            let detail = (!container.is_empty()).then(|| format!("container \"{container}\" of storage account {account}"));
            raise(C::ERRCODE_UNDEFINED_OBJECT, e.to_string(), detail, None)
        }
        E::BlobNotFound { ref container, ref blob } => {
            let detail = (!blob.is_empty()).then(|| format!("blob \"{blob}\" in container \"{container}\" of storage account {account}"));
            raise(C::ERRCODE_UNDEFINED_FILE, e.to_string(), detail, None)
        }
        E::Unauthenticated { .. } if !registered => raise(
            C::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            "missing storage credentials".into(),
            Some(format!("storage account {account} is not registered and the container does not allow anonymous access")),
            Some(format!("Use SELECT azure_storage.account_add('{account}', '<access key>')")),
        ),
        E::AnonymousListing { .. } => raise(
            C::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            "missing storage credentials".into(),
            Some(format!("storage account {account} is not registered, and {e}")),
            Some(format!("Read blobs by name, or use SELECT azure_storage.account_add('{account}', '<access key>')")),
        ),
        E::Unauthenticated { code, message } => raise(
            C::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            format!("storage account {account} refused the registered credentials"),
            Some(format!("{code}: {message}")),
            Some(format!("Register a valid credential with azure_storage.account_add('{account}', ...)")),
        ),
        E::PermissionDenied { code, message } => raise(
            C::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "Permission is not sufficient to perform requested operation".into(),
            Some(format!("{code}: {message}")),
            None,
        ),
        E::Identity(message) => raise(
            C::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            format!("could not get an Entra ID token for storage account {account}"),
            Some(message),
            Some("The token endpoints are the settings azure_storage.identity_endpoint (instance metadata service) and azure_storage.authority_host (Entra ID).".into()),
        ),
        E::SasExpired { .. } => raise(
            C::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            e.to_string(),
            None,
            Some(format!("Register a new token with SELECT azure_storage.account_add(azure_storage.account_options_sas('{account}', '<SAS token>', 'blob'));")),
        ),
        E::Connect { .. } | E::Broken { .. } => raise(C::ERRCODE_CONNECTION_FAILURE, "internal error while connecting".into(), Some(e.to_string()), None),
        E::Timeout { .. } => raise(
            C::ERRCODE_CONNECTION_FAILURE,
            "internal error while connecting".into(),
            Some(e.to_string()),
            Some("The bound is the setting azure_storage.request_timeout.".into()),
        ),
        E::Cancelled => {
            // The interrupt that cancelled the transfer is still pending: let PostgreSQL
            // raise it with its own message (cancel, statement timeout, termination), unless
            // the error has a note to carry (blobs committed before it).
            if note.is_none() {
                pgrx::check_for_interrupts!();
            }
            raise(C::ERRCODE_QUERY_CANCELED, "transfer cancelled".into(), None, None)
        }
        E::Decompress { .. } => raise(C::ERRCODE_DATA_CORRUPTED, e.to_string(), None, Some("Check the compression argument, or the blob.".into())),
        E::TooLarge { .. } => raise(C::ERRCODE_PROGRAM_LIMIT_EXCEEDED, e.to_string(), None, Some("Use the csv, tsv or binary decoder for large blobs.".into())),
        E::BlobTooLarge { .. } => raise(C::ERRCODE_PROGRAM_LIMIT_EXCEEDED, e.to_string(), None, None),
        E::InvalidName(n) => invalid_name(n),
        E::BlobChanged { .. } => raise(C::ERRCODE_T_R_SERIALIZATION_FAILURE, e.to_string(), None, None),
        E::Redirect { .. } => raise(
            C::ERRCODE_CONNECTION_FAILURE,
            e.to_string(),
            None,
            Some(format!("Register the endpoint the service really answers at: SELECT azure_storage.account_add(...) with the \"endpoint\" key for storage account {account}.")),
        ),
        E::Service { .. } | E::InvalidResponse(_) => raise(C::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, e.to_string(), None, None),
        E::Internal(_) => raise(C::ERRCODE_INTERNAL_ERROR, e.to_string(), None, None),
    }
}

/// Whether PostgreSQL wants the current statement to stop (cancel, statement timeout,
/// termination). Not every pending interrupt is one: a backend that falls behind on catalog
/// invalidations during a long transfer is asked to catch up, a barrier or a memory-context
/// dump may come, and none of them should end the transfer.
pub fn interrupt_pending() -> bool {
    // SAFETY: sig_atomic_t flags written by signal handlers; reading them has no side effect.
    unsafe {
        std::ptr::read_volatile(std::ptr::addr_of!(pgrx::pg_sys::QueryCancelPending)) != 0
            || std::ptr::read_volatile(std::ptr::addr_of!(pgrx::pg_sys::ProcDiePending)) != 0
    }
}
