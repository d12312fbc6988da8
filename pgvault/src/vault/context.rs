//! What every storage call of one command needs, made once per command and handed down
//! whole: the vault (account and container), how long a request may go without progress,
//! and whether to stop; and the storage clients made from them. Functions given a context
//! make their clients from it; the few given a store it made (the verified reads) are told
//! when to stop beside it.

use std::future::Future;
use std::time::Duration;

use storage::{BlobStore, BlobWriter, Compression, RestClient, UploadOptions};

use super::Vault;
use crate::error::Error;

#[derive(Debug)]
pub struct Context {
    pub vault: Vault,
    timeout: Duration,
    /// A plain function, so that the context can be shared with the threads of a backup.
    cancelled: fn() -> bool,
}

impl Context {
    pub fn new(vault: Vault, timeout: Duration, cancelled: fn() -> bool) -> Context {
        Context { vault, timeout, cancelled }
    }

    /// Whether to stop, as the storage calls that can be cut short ask it.
    pub fn cancelled(&self) -> &(dyn Fn() -> bool + Sync) {
        &self.cancelled
    }

    /// `<account>/<container>`, as messages name the vault.
    pub fn name(&self) -> String {
        format!("{}/{}", self.vault.account.name, self.vault.container)
    }

    /// Runs a storage request until it ends or the command is to stop.
    pub fn run<T>(&self, request: impl Future<Output = storage::Result<T>>) -> storage::Result<T> {
        storage::runtime::block_on(request, &self.cancelled)
    }

    pub fn store(&self) -> Result<BlobStore, Error> {
        Ok(BlobStore::new(&self.vault.account, &self.vault.container, self.timeout)?)
    }

    pub fn client(&self) -> Result<RestClient, Error> {
        Ok(RestClient::new(&self.vault.account, self.timeout)?)
    }

    /// A block upload of `blob` as it is written (no compression); nothing is visible until
    /// it is committed.
    pub fn writer(&self, blob: &str) -> Result<BlobWriter, Error> {
        let options = UploadOptions { compression: Compression::None, content_type: "application/octet-stream".into(), content_encoding: None, concurrency: 4, timeout: self.timeout, first_block_size: storage::blocks::FIRST_BLOCK_SIZE };
        BlobWriter::start(&self.vault.account, &self.vault.container, blob, options).map_err(|e| Error::storage(blob, e))
    }
}
