//! Everything about talking to Azure Blob Storage, shared by the `azure_storage` extension
//! and `pgvault`. It knows nothing of PostgreSQL.

pub mod account;
pub mod blobs;
pub mod blocks;
pub mod compression;
pub mod error;
pub mod identity;
pub mod list;
pub mod listing;
pub mod rest;
pub mod retry;
pub mod sas;
mod signing;
pub mod runtime;
pub mod stream;
pub mod tls;
pub mod upload;
pub mod version;

pub use account::{Account, Credential};
pub use identity::TokenSource;
pub use blobs::BlobStore;
pub use compression::{Codec, Compression};
// Names are checked again before any request; their error is one of storage's.
pub use input::names;
pub use stream::{BlobStream, Downloads};
pub use error::{Error, Result};
pub use list::{BlobEntry, Page};
pub use listing::Listing;
pub use rest::RestClient;
pub use upload::{BlobWriter, StagedBlob, UploadOptions};
pub use version::BlobVersion;
