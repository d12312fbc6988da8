//! The table of registered accounts, `azure_storage.accounts`. PUBLIC cannot read it; the
//! extension reads and writes it with the privileges of its owner, after its own checks.

use pgrx::pg_sys::Oid;
use pgrx::prelude::*;
use pgrx::spi::SpiResult;

use crate::crypto;
use crate::errors::raise;
use crate::roles;

/// How an account authenticates; the labels of the SQL enum `azure_storage.auth_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    AccessKey,
    ManagedIdentity,
    Sas,
}

impl AuthType {
    pub const LABELS: &'static str = "access-key, managed-identity, sas";

    pub fn label(self) -> &'static str {
        match self {
            AuthType::AccessKey => "access-key",
            AuthType::ManagedIdentity => "managed-identity",
            AuthType::Sas => "sas",
        }
    }

    pub fn parse(label: &str) -> Option<AuthType> {
        match label {
            "access-key" => Some(AuthType::AccessKey),
            "managed-identity" => Some(AuthType::ManagedIdentity),
            "sas" => Some(AuthType::Sas),
            _ => None,
        }
    }
}

/// One row of `azure_storage.accounts`. `credentials` is as stored: encrypted when
/// `encrypted` is true.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub name: String,
    pub auth_type: AuthType,
    pub storage_type: String,
    pub credentials: Option<String>,
    pub encrypted: bool,
    pub endpoint: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub federated_token_file: Option<String>,
    pub allowed_users: Vec<Oid>,
}

impl AccountRow {
    /// The credential in clear, decrypted with the passphrase setting when it is encrypted.
    pub fn clear_credentials(&self) -> Option<String> {
        let stored = self.credentials.as_ref()?;
        if !self.encrypted {
            return Some(stored.clone());
        }
        let name = &self.name;
        let Some(passphrase) = crate::guc::encryption_passphrase() else {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("the credentials of storage account {name} are encrypted and azure_storage.credential_encryption_key is not set"),
                None,
                Some("Set azure_storage.credential_encryption_key to the passphrase they were encrypted with.".into()),
            );
        };
        match crypto::decrypt(&passphrase, stored) {
            Ok(clear) => Some(clear),
            Err(crypto::DecryptError::WrongKey) => raise(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("could not decrypt the credentials of storage account {name}: azure_storage.credential_encryption_key is not the passphrase they were encrypted with"),
                None,
                Some(format!("Set the passphrase used when they were stored, or register them again with azure_storage.account_add('{name}', ...).")),
            ),
            Err(crypto::DecryptError::Malformed) => raise(
                PgSqlErrorCode::ERRCODE_DATA_CORRUPTED,
                format!("the stored credentials of storage account {name} are damaged"),
                None,
                Some(format!("Register them again with azure_storage.account_add('{name}', ...).")),
            ),
        }
    }
}

/// Stored form of a credential: encrypted when the passphrase setting is present.
pub fn seal(clear: Option<&str>) -> (Option<String>, bool) {
    match (clear, crate::guc::encryption_passphrase()) {
        (Some(c), Some(p)) => (Some(crypto::encrypt(&p, c)), true),
        (c, _) => (c.map(str::to_string), false),
    }
}

/// The owner of `azure_storage.accounts`, asked as the caller: with pg_catalog's operator
/// named and the search_path pinned, so that nothing the caller defined runs.
fn owner() -> Oid {
    roles::with_catalog_search_path(|| {
        Spi::get_one::<Oid>(
            "SELECT relowner FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) 'azure_storage.accounts'::pg_catalog.regclass",
        )
    })
    .ok()
        .flatten()
        .unwrap_or_else(|| raise(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE, "table azure_storage.accounts is missing; reinstall the extension", None, None))
}

fn spi<R>(what: &str, f: impl FnOnce() -> SpiResult<R>) -> R {
    let owner = owner();
    roles::as_role(owner, f).unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, format!("{what}: {e}"), None, None))
}

const COLUMNS: &str = "account_name, auth_type::pg_catalog.text, storage_type::pg_catalog.text, credentials, credentials_encrypted, endpoint, client_id, tenant_id, federated_token_file, allowed_users::pg_catalog.oid[]";

/// The rows `query` selects (with `$1` = `name` when given), as last committed rather than as
/// the transaction's snapshot saw them: in a REPEATABLE READ or SERIALIZABLE transaction a
/// removed grant or account counts at once, the way foreign key checks read the latest rows.
fn read_rows(query: &str, name: Option<&str>) -> SpiResult<Vec<AccountRow>> {
    Spi::connect(|_client| unsafe {
        let query = std::ffi::CString::new(query).expect("the queries are ours, without NUL");
        let mut types = [pg_sys::TEXTOID];
        let plan = pg_sys::SPI_prepare(query.as_ptr(), i32::from(name.is_some()), types.as_mut_ptr());
        let failed = |status: i32| pgrx::spi::SpiError::SpiError(pgrx::spi::SpiErrorCodes::try_from(status).unwrap_or(pgrx::spi::SpiErrorCodes::Unconnected));
        if plan.is_null() {
            return Err(failed(pg_sys::SPI_result));
        }
        let mut values = [name.and_then(|n| n.into_datum()).unwrap_or(pg_sys::Datum::from(0))];
        let nulls = [b' ' as std::ffi::c_char];
        let status = pg_sys::SPI_execute_snapshot(plan, values.as_mut_ptr(), nulls.as_ptr(), pg_sys::GetLatestSnapshot(), std::ptr::null_mut(), true, false, 0);
        if status != pg_sys::SPI_OK_SELECT as i32 {
            return Err(failed(status));
        }
        let table = pg_sys::SPI_tuptable;
        let mut rows = Vec::new();
        for i in 0..pg_sys::SPI_processed as usize {
            let (tuple, desc) = (*(*table).vals.add(i), (*table).tupdesc);
            let auth: String = column(tuple, desc, 2).unwrap_or_default();
            rows.push(AccountRow {
                name: column(tuple, desc, 1).unwrap_or_default(),
                auth_type: AuthType::parse(&auth).unwrap_or(AuthType::AccessKey),
                storage_type: column(tuple, desc, 3).unwrap_or_default(),
                credentials: column(tuple, desc, 4),
                encrypted: column(tuple, desc, 5).unwrap_or(false),
                endpoint: column(tuple, desc, 6),
                client_id: column(tuple, desc, 7),
                tenant_id: column(tuple, desc, 8),
                federated_token_file: column(tuple, desc, 9),
                allowed_users: column::<Vec<Oid>>(tuple, desc, 10).unwrap_or_default(),
            });
        }
        Ok(rows)
    })
}

/// Column `n` (from 1) of an SPI result row.
unsafe fn column<T: FromDatum>(tuple: pg_sys::HeapTuple, desc: pg_sys::TupleDesc, n: i32) -> Option<T> {
    let mut null = false;
    unsafe {
        let datum = pg_sys::SPI_getbinval(tuple, desc, n, &mut null);
        T::from_datum(datum, null)
    }
}

pub fn lookup(name: &str) -> Option<AccountRow> {
    let query = format!("SELECT {COLUMNS} FROM azure_storage.accounts WHERE account_name OPERATOR(pg_catalog.=) $1");
    spi("reading azure_storage.accounts", || read_rows(&query, Some(name))).into_iter().next()
}

pub fn all() -> Vec<AccountRow> {
    let query = format!("SELECT {COLUMNS} FROM azure_storage.accounts ORDER BY account_name");
    spi("reading azure_storage.accounts", || read_rows(&query, None))
}

/// Adds an account, or replaces the credentials of a registered one; its grants stay.
pub fn upsert(row: &AccountRow) {
    spi("writing azure_storage.accounts", || {
        Spi::run_with_args(
            "INSERT INTO azure_storage.accounts AS a
                 (account_name, auth_type, storage_type, credentials, credentials_encrypted, endpoint, client_id,
                  tenant_id, federated_token_file)
             VALUES ($1, $2::azure_storage.auth_type, $3::azure_storage.storage_type, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (account_name) DO UPDATE SET
                 auth_type = EXCLUDED.auth_type, storage_type = EXCLUDED.storage_type,
                 credentials = EXCLUDED.credentials, credentials_encrypted = EXCLUDED.credentials_encrypted,
                 endpoint = EXCLUDED.endpoint, client_id = EXCLUDED.client_id,
                 tenant_id = EXCLUDED.tenant_id, federated_token_file = EXCLUDED.federated_token_file",
            &[
                row.name.as_str().into(),
                row.auth_type.label().into(),
                row.storage_type.as_str().into(),
                row.credentials.clone().into(),
                row.encrypted.into(),
                row.endpoint.clone().into(),
                row.client_id.clone().into(),
                row.tenant_id.clone().into(),
                row.federated_token_file.clone().into(),
            ],
        )
    })
}

/// Removes an account; false when it was not registered.
pub fn remove(name: &str) -> bool {
    spi("writing azure_storage.accounts", || {
        Spi::get_one_with_args::<bool>(
            "WITH d AS (DELETE FROM azure_storage.accounts WHERE account_name OPERATOR(pg_catalog.=) $1 RETURNING 1) \
             SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM d",
            &[name.into()],
        )
    })
    .unwrap_or(false)
}

pub fn set_allowed_users(name: &str, users: &[Oid]) {
    let users: Vec<Oid> = users.to_vec();
    spi("writing azure_storage.accounts", || {
        Spi::run_with_args(
            "UPDATE azure_storage.accounts SET allowed_users = $2::pg_catalog.oid[]::pg_catalog.regrole[] \
             WHERE account_name OPERATOR(pg_catalog.=) $1",
            &[name.into(), users.into()],
        )
    })
}

pub fn set_credentials(name: &str, stored: &str, encrypted: bool) {
    spi("writing azure_storage.accounts", || {
        Spi::run_with_args(
            "UPDATE azure_storage.accounts SET credentials = $2, credentials_encrypted = $3 WHERE account_name OPERATOR(pg_catalog.=) $1",
            &[name.into(), stored.into(), encrypted.into()],
        )
    })
}
