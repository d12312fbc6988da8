//! Writing one blob from a backend: bytes in, failures as PostgreSQL errors in Azure's
//! terms, and nothing visible until `Staged::commit`.

use storage::{BlobWriter, Compression, StagedBlob};

use crate::access::Access;
use crate::errors::{interrupt_pending, storage_error};

pub struct Export {
    writer: BlobWriter,
    account: String,
    registered: bool,
}

/// A blob whose every byte is stored but which is not visible yet.
pub struct Staged {
    blob: StagedBlob,
    account: String,
    registered: bool,
}

impl Export {
    pub fn start(access: &Access, container: &str, path: &str, compression: Compression, content_type: &str) -> Export {
        Export {
            writer: access.upload(container, path, compression, content_type),
            account: access.account.name.clone(),
            registered: access.registered,
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        if let Err(e) = self.writer.write(bytes, &interrupt_pending) {
            storage_error(&self.account, self.registered, e)
        }
    }

    /// Waits until every block is stored.
    pub fn finish(self) -> Staged {
        match self.writer.finish(&interrupt_pending) {
            Ok(blob) => Staged { blob, account: self.account, registered: self.registered },
            Err(e) => storage_error(&self.account, self.registered, e),
        }
    }
}

impl Staged {
    /// Makes the blob visible, replacing any previous one of that name.
    pub fn commit(self) {
        if let Err(e) = self.blob.commit(&interrupt_pending) {
            storage_error(&self.account, self.registered, e)
        }
    }
}
