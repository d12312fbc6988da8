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

/// An export whose last bytes are on their way (see `Export::close`).
pub struct Closing {
    closing: storage::upload::Closing,
    target: BlobTarget,
}

/// A blob whose every byte is stored but which is not visible yet.
pub struct Staged {
    blob: StagedBlob,
    target: BlobTarget,
}

impl Export {
    pub fn start(access: &Access, container: &str, path: &str, compression: Compression, content_type: &str) -> Export {
        Export::start_sized(access, container, path, compression, content_type, storage::blocks::FIRST_BLOCK_SIZE)
    }

    /// An export whose first blocks have `first_block_size` bytes: small when many blobs
    /// are written at once, so that each holds little memory.
    pub fn start_sized(access: &Access, container: &str, path: &str, compression: Compression, content_type: &str, first_block_size: u64) -> Export {
        Export {
            writer: access.upload(container, path, compression, content_type, first_block_size),
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

    /// The blob's size so far (compressed, when it is).
    pub fn stored_so_far(&self) -> u64 {
        self.writer.stored_so_far()
    }

    /// Waits until every block is stored.
    pub fn finish(self) -> Staged {
        self.close().wait()
    }

    /// Ends the blob's content; its last blocks are staged in the background.
    pub fn close(self) -> Closing {
        match self.writer.close(&interrupt_pending) {
            Ok(closing) => Closing { closing, target: self.target },
            Err(e) => self.target.account.fail(e),
        }
    }
}

impl Closing {
    /// Waits until every block is stored.
    pub fn wait(self) -> Staged {
        match self.closing.wait(&interrupt_pending) {
            Ok(blob) => Staged { blob, target: self.target },
            Err(e) => self.target.account.fail(e),
        }
    }
}

impl Staged {
    pub fn target(&self) -> &BlobTarget {
        &self.target
    }

    /// Makes the blob visible, replacing any previous one of that name.
    pub fn commit(self) {
        commit_all(vec![self]);
    }
}

/// Makes every blob of a statement visible together, once all of them are fully staged:
/// all of them, or none (storage::upload::commit_all). When one commit fails, the blobs
/// committed before it are deleted again and the error names every blob and what became of
/// it. The number of blobs committed is returned.
pub fn commit_all(blobs: Vec<Staged>) -> usize {
    let total = blobs.len();
    if total == 0 {
        return 0;
    }
    let (blobs, targets): (Vec<StagedBlob>, Vec<BlobTarget>) = blobs.into_iter().map(|s| (s.blob, s.target)).unzip();
    match storage::upload::commit_all(blobs, &interrupt_pending) {
        Ok(_) => total,
        Err(failure) => {
            let note = (total > 1).then(|| commit_failure_note(&targets, &failure));
            let account = match failure.failed {
                Some(i) => targets[i].account.clone(),
                None => targets[0].account.clone(),
            };
            account.fail_noted(failure.error, note)
        }
    }
}

fn commit_failure_note(targets: &[BlobTarget], failure: &storage::upload::CommitFailure) -> String {
    let mut note = match failure.failed {
        Some(i) => format!("The statement wrote {} blobs; this error is from committing {}.", targets.len(), targets[i]),
        None => format!("The statement wrote {} blobs and was stopped while committing them.", targets.len()),
    };
    if failure.deleted.is_empty() && failure.left.is_empty() {
        note.push_str(" No blob was committed.");
    }
    if !failure.deleted.is_empty() {
        let names: Vec<String> = failure.deleted.iter().map(|&i| targets[i].to_string()).collect();
        note.push_str(&format!(" Committed before the error and deleted again: {}.", some_of(&names)));
    }
    if !failure.left.is_empty() {
        let names: Vec<String> = failure.left.iter().map(|(i, e)| format!("{} ({e})", targets[*i])).collect();
        note.push_str(&format!(" Committed and could not be deleted, so still visible: {}.", some_of(&names)));
    }
    note
}

/// Names in a message: the first few, and how many more.
fn some_of(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if names.len() > SHOWN {
        text.push_str(&format!("; and {} more", names.len() - SHOWN));
    }
    text
}
