//! Writing blobs from a backend: bytes in, failures as PostgreSQL errors in Azure's terms,
//! and nothing visible until the blobs are committed, all of a statement's together.

use std::fmt;

use storage::{BlobWriter, Compression, StagedBlob};

use crate::access::Access;
use crate::errors::{interrupt_pending, AccountRef};

/// One blob at the service: the account's endpoint (two registered names may reach one
/// account), the container and the path. Shown with the account's name.
#[derive(Clone, Debug)]
pub struct BlobTarget {
    pub account: AccountRef,
    endpoint: String,
    pub container: String,
    pub path: String,
}

impl BlobTarget {
    pub fn new(access: &Access, container: &str, path: &str) -> BlobTarget {
        BlobTarget {
            account: access.reference(),
            endpoint: access.account.endpoint.clone(),
            container: container.to_string(),
            path: path.to_string(),
        }
    }
}

impl PartialEq for BlobTarget {
    fn eq(&self, other: &BlobTarget) -> bool {
        (&self.endpoint, &self.container, &self.path) == (&other.endpoint, &other.container, &other.path)
    }
}

impl Eq for BlobTarget {}

impl std::hash::Hash for BlobTarget {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.endpoint, &self.container, &self.path).hash(state)
    }
}

impl fmt::Display for BlobTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blob \"{}\" in container \"{}\" of storage account {}", self.path, self.container, self.account.name)
    }
}

pub struct Export {
    writer: BlobWriter,
    target: BlobTarget,
}

/// A blob whose every byte is stored but which is not visible yet.
pub struct Staged {
    blob: StagedBlob,
    target: BlobTarget,
}

impl Export {
    pub fn start(access: &Access, container: &str, path: &str, compression: Compression, content_type: &str) -> Export {
        Export {
            writer: access.upload(container, path, compression, content_type),
            target: BlobTarget::new(access, container, path),
        }
    }

    pub fn target(&self) -> &BlobTarget {
        &self.target
    }

    pub fn write(&mut self, bytes: &[u8]) {
        if let Err(e) = self.writer.write(bytes, &interrupt_pending) {
            self.target.account.fail(e)
        }
    }

    /// Waits until every block is stored.
    pub fn finish(self) -> Staged {
        match self.writer.finish(&interrupt_pending) {
            Ok(blob) => Staged { blob, target: self.target },
            Err(e) => self.target.account.fail(e),
        }
    }
}

impl Staged {
    /// Makes the blob visible, replacing any previous one of that name.
    pub fn commit(self) {
        commit_all(vec![self])
    }
}

/// Makes every blob of a statement visible, in order, once all of them are fully staged.
/// Each commit is one request, so they come close together, but they are separate: if one
/// fails, those before it stay committed and those after it are dropped, and the error says
/// which are which.
pub fn commit_all(blobs: Vec<Staged>) {
    let total = blobs.len();
    let mut committed: Vec<BlobTarget> = Vec::new();
    let mut blobs = blobs.into_iter();
    while let Some(Staged { blob, target }) = blobs.next() {
        if let Err(e) = blob.commit(&interrupt_pending) {
            let dropped: Vec<BlobTarget> = blobs.map(|s| s.target).collect();
            let note = (total > 1).then(|| commit_failure_note(&committed, &target, &dropped));
            target.account.fail_noted(e, note)
        }
        committed.push(target);
    }
}

fn commit_failure_note(committed: &[BlobTarget], failed: &BlobTarget, dropped: &[BlobTarget]) -> String {
    let list = |blobs: &[BlobTarget]| blobs.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; ");
    let mut note = format!("The statement wrote {} blobs; this error is from committing {failed}.", committed.len() + 1 + dropped.len());
    if committed.is_empty() {
        note.push_str(" No blob was committed before it.");
    } else {
        note.push_str(&format!(" Committed before the error, and visible now: {}.", list(committed)));
    }
    if !dropped.is_empty() {
        note.push_str(&format!(" Not committed (they keep their old content): {}.", list(dropped)));
    }
    note
}
