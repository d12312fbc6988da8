//! From an account name to a ready client: name checks, permission, credentials, endpoint.

use storage::{Account, BlobStream, BlobStore, BlobVersion, BlobWriter, Compression, Credential, RestClient, TokenSource, UploadOptions};

use crate::catalog::{self, AuthType};
use crate::errors::{invalid_name, raise, AccountRef};
use crate::{guc, roles};
use pgrx::PgSqlErrorCode;

/// An account that the current user may use, ready for clients.
#[derive(Clone)]
pub struct Access {
    pub account: Account,
    /// Whether the account is registered; an unregistered one is used anonymously.
    pub registered: bool,
}

impl Access {
    pub fn open(account_name: &str) -> Access {
        input::names::validate_account_name(account_name).unwrap_or_else(|e| invalid_name(e));
        let (account, registered) = match catalog::lookup(account_name) {
            Some(row) => {
                roles::require_use(account_name, &row.allowed_users);
                (registered_account(&row), true)
            }
            None => {
                let endpoint = Account::endpoint_from_template(&guc::default_endpoint_template(), account_name);
                (Account::new(account_name, &endpoint, Credential::Anonymous), false)
            }
        };
        storage::retry::set_policy(guc::retry_policy());
        let access = Access { account, registered };
        // Before any request: an expired SAS token fails without one, and a managed identity
        // that cannot get a token says so with its own message.
        access.account.check_credential().unwrap_or_else(|e| access.fail(e));
        if let Credential::Token(source) = &access.account.credential {
            access.run(storage::identity::ensure_token(source, guc::request_timeout()));
        }
        access
    }

    /// The account as errors name it.
    pub fn reference(&self) -> AccountRef {
        AccountRef { name: self.account.name.clone(), registered: self.registered }
    }

    /// Raises a storage error in the terms of Azure's extension.
    pub fn fail(&self, e: storage::Error) -> ! {
        self.reference().fail(e)
    }

    /// A client for listings and other REST calls.
    pub fn rest_client(&self) -> RestClient {
        RestClient::new(&self.account, guc::request_timeout()).unwrap_or_else(|e| self.fail(e))
    }

    /// A client for one container's blobs.
    pub fn store(&self, container: &str) -> BlobStore {
        BlobStore::new(&self.account, container, guc::request_timeout()).unwrap_or_else(|e| self.fail(e))
    }

    /// The decompressed bytes of one version of a blob, streaming.
    pub fn stream(&self, container: &str, blob: &BlobVersion, compression: Compression) -> BlobStream {
        self.store(container).stream(blob, compression).unwrap_or_else(|e| self.fail(e))
    }

    /// A writer of a new version of a blob, which appears only when committed. A compressed
    /// blob has the Content-Type of its compression (`content_type` is its format's), unless
    /// azure_storage.content_encoding_header asks for Content-Encoding.
    /// `first_block_size` is `storage::blocks::FIRST_BLOCK_SIZE` unless many blobs are
    /// written at once.
    pub fn upload(&self, container: &str, path: &str, compression: Compression, content_type: &str, first_block_size: u64) -> BlobWriter {
        let (content_type, content_encoding) = match (compression.media_type(), guc::CONTENT_ENCODING_HEADER.get()) {
            (Some(media_type), false) => (media_type, None),
            (_, _) => (content_type, compression.content_encoding()),
        };
        let options = UploadOptions {
            compression,
            content_type: content_type.to_string(),
            content_encoding: content_encoding.map(str::to_string),
            // Writers with small blocks are among many open at once: fewer blocks in flight each.
            concurrency: if first_block_size < storage::blocks::FIRST_BLOCK_SIZE { guc::upload_concurrency().min(2) } else { guc::upload_concurrency() },
            timeout: guc::request_timeout(),
            first_block_size,
        };
        BlobWriter::start(&self.account, container, path, options).unwrap_or_else(|e| self.fail(e))
    }

    /// Runs one storage call, stopping when PostgreSQL asks the statement to stop.
    pub fn run<T>(&self, fut: impl std::future::Future<Output = storage::Result<T>>) -> T {
        storage::runtime::block_on(fut, &crate::errors::interrupt_pending).unwrap_or_else(|e| self.fail(e))
    }
}

fn registered_account(row: &catalog::AccountRow) -> Account {
    let endpoint = row
        .endpoint
        .clone()
        .unwrap_or_else(|| Account::endpoint_from_template(&guc::default_endpoint_template(), &row.name));
    let missing = || -> ! {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            "missing storage credentials",
            Some(format!("storage account {} is registered without credentials", row.name)),
            Some(format!("Use SELECT azure_storage.account_add('{}', '<access key>')", row.name)),
        )
    };
    let credential = match row.auth_type {
        AuthType::AccessKey => Credential::SharedKey(row.clear_credentials().unwrap_or_else(|| missing())),
        AuthType::Sas => Credential::Sas(row.clear_credentials().unwrap_or_else(|| missing())),
        AuthType::ManagedIdentity => Credential::Token(token_source(row)),
    };
    Account::new(&row.name, &endpoint, credential)
}

/// Where a managed-identity account gets its tokens; `account_add` checked the combination.
fn token_source(row: &catalog::AccountRow) -> TokenSource {
    let (Some(tenant_id), Some(client_id)) = (row.tenant_id.clone(), row.client_id.clone()) else {
        return TokenSource::MetadataService { endpoint: guc::identity_endpoint(), client_id: row.client_id.clone() };
    };
    let authority = guc::authority_host();
    match &row.federated_token_file {
        Some(file) => TokenSource::WorkloadIdentity { authority, tenant_id, client_id, token_file: file.into() },
        None => TokenSource::ClientSecret { authority, tenant_id, client_id, secret: row.clear_credentials().unwrap_or_default() },
    }
}
