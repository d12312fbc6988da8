//! Reading and writing blob contents through OpenDAL's azblob service, which handles
//! signing, chunked transfers, retries and timeouts.

use std::time::Duration;

use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::services::Azblob;
use opendal::{ErrorKind, HttpTransporter, Operator};
use opendal_http_transport_reqwest::ReqwestTransport;

use crate::account::{redact_url, Account, Credential};
use crate::error::{Error, Result};

/// One container of one account. Its HTTP connections belong to the runtime of the thread
/// that uses them first: a thread of its own (the stream's download thread) opens a store of
/// its own with `reopen`, as a pooled connection cannot be driven from another runtime.
pub struct BlobStore {
    pub(crate) op: Operator,
    account: Account,
    container: String,
    endpoint: String,
    anonymous: bool,
    timeout: Duration,
}

impl BlobStore {
    pub fn new(account: &Account, container: &str, timeout: Duration) -> Result<Self> {
        crate::names::validate_container_name(container)?;
        let mut builder = Azblob::default().endpoint(&account.endpoint).account_name(&account.name).container(container);
        builder = match crate::signing::credential_chain(account, timeout)? {
            Some(chain) => builder.credential_provider_chain(chain),
            None => builder.skip_signature(),
        };
        let op = Operator::new(builder).map_err(|e| Error::InvalidResponse(e.to_string()))?;
        let http = crate::tls::client_builder()?
            .connect_timeout(timeout)
            .build()
            .map_err(|e| Error::Connect { endpoint: redact_url(&account.endpoint), cause: e.to_string() })?;
        let context = op.context().with_http_transport(HttpTransporter::new(ReqwestTransport::new(http)));
        let op = op.with_context(context);
        let op = op
            .layer(TimeoutLayer::new().with_timeout(timeout).with_io_timeout(timeout))
            .layer(RetryLayer::new().with_jitter().with_max_times(crate::retry::policy().attempts.saturating_sub(1) as usize));
        Ok(BlobStore {
            op,
            account: account.clone(),
            container: container.to_string(),
            endpoint: redact_url(&account.endpoint),
            anonymous: matches!(account.credential, Credential::Anonymous),
            timeout,
        })
    }

    /// The same container with connections of its own.
    pub(crate) fn reopen(&self) -> Result<BlobStore> {
        BlobStore::new(&self.account, &self.container, self.timeout)
    }

    /// Reads a whole blob into memory.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>> {
        crate::names::validate_blob_name(path)?;
        self.op.read(path).await.map(|b| b.to_vec()).map_err(|e| self.error(e))
    }

    /// The size of a blob; fails when it is missing.
    pub async fn size(&self, path: &str) -> Result<u64> {
        crate::names::validate_blob_name(path)?;
        self.op.stat(path).await.map(|m| m.content_length()).map_err(|e| self.error(e))
    }

    /// Bytes `range` of a blob, fetched in concurrent ranged reads.
    pub async fn read_range(&self, path: &str, range: std::ops::Range<u64>) -> Result<bytes::Bytes> {
        const CHUNK: usize = 4 << 20;
        let reader = self.op.reader_with(path).chunk(CHUNK).concurrent(4).await.map_err(|e| self.error(e))?;
        reader.read(range).await.map(|b| b.to_bytes()).map_err(|e| self.error(e))
    }

    /// OpenDAL's byte streams report its errors inside io::Error.
    pub(crate) fn io_error(&self, e: std::io::Error) -> Error {
        let text = e.to_string();
        match e.into_inner().map(|inner| inner.downcast::<opendal::Error>()) {
            Some(Ok(inner)) => self.error(*inner),
            _ => Error::Connect { endpoint: self.endpoint.clone(), cause: text },
        }
    }

    pub(crate) fn error(&self, e: opendal::Error) -> Error {
        let text = e.to_string();
        if let Credential::Token(source) = &self.account.credential {
            // OpenDAL's message for a request it could not sign.
            if text.contains("signing http request") {
                return crate::identity::signing_failure(source, &e);
            }
        }
        let code = if text.contains("ContainerNotFound") { "ContainerNotFound" } else { "" };
        let error = match e.kind() {
            ErrorKind::NotFound if code == "ContainerNotFound" => Error::ContainerNotFound,
            ErrorKind::NotFound => Error::BlobNotFound,
            ErrorKind::PermissionDenied if self.anonymous => Error::Unauthenticated { code: "PermissionDenied".into(), message: text },
            ErrorKind::PermissionDenied => Error::PermissionDenied { code: "PermissionDenied".into(), message: text },
            _ if text.contains("timeout") || text.contains("timed out") || text.contains("elapsed") => Error::Timeout { endpoint: self.endpoint.clone(), after: self.timeout },
            ErrorKind::Unexpected if e.is_temporary() => Error::Connect { endpoint: self.endpoint.clone(), cause: text },
            _ => Error::Service { status: 0, code: format!("{:?}", e.kind()), message: text },
        };
        error.with_credential(&self.account.credential)
    }
}
