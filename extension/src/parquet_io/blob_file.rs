//! A parquet file that is one version of a blob: arrow-rs reads it through `ChunkReader`,
//! which here serves byte ranges from the row group loaded last, so that a row group costs
//! one ranged read (in concurrent pieces) rather than one request per page. Every read, the
//! footer's included, is pinned to the version: a blob replaced mid-load fails the load.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes};
use parquet::errors::{ParquetError, Result as ParquetResult};
use parquet::file::reader::{ChunkReader, Length};
use storage::{BlobStore, BlobVersion};

use crate::errors::interrupt_pending;

/// How much of a file's end is read at once for its footer: most footers fit.
const FOOTER_GUESS: u64 = 64 << 10;

#[derive(Clone)]
pub struct BlobFile {
    inner: Arc<Inner>,
}

struct Inner {
    store: BlobStore,
    blob: BlobVersion,
    /// Where the loaded bytes start, and the bytes.
    loaded: Mutex<(u64, Bytes)>,
    /// The storage error behind the last failed read, which a ParquetError cannot carry.
    failure: Mutex<Option<storage::Error>>,
}

impl BlobFile {
    /// Loads the end of the blob, where the footer is.
    pub fn open(store: BlobStore, blob: &BlobVersion) -> storage::Result<BlobFile> {
        let size = blob.size();
        let file = BlobFile { inner: Arc::new(Inner { store, blob: blob.clone(), loaded: Mutex::new((0, Bytes::new())), failure: Mutex::new(None) }) };
        file.load(size.saturating_sub(FOOTER_GUESS)..size)?;
        Ok(file)
    }

    pub fn size(&self) -> u64 {
        self.inner.blob.size()
    }

    /// Reads `range` into memory, in place of what was loaded before (let go first, so that
    /// two row groups are never held at once).
    pub fn load(&self, range: Range<u64>) -> storage::Result<()> {
        let start = range.start;
        *self.inner.loaded.lock().unwrap() = (0, Bytes::new());
        let bytes = self.fetch(range)?;
        *self.inner.loaded.lock().unwrap() = (start, bytes);
        Ok(())
    }

    /// The storage error behind a failed read, if one was.
    pub fn take_failure(&self) -> Option<storage::Error> {
        self.inner.failure.lock().unwrap().take()
    }

    fn fetch(&self, range: Range<u64>) -> storage::Result<Bytes> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        storage::runtime::block_on(self.inner.store.read(&self.inner.blob, range), &interrupt_pending)
    }

    /// `length` bytes from `start`: from memory when loaded, else fetched.
    fn bytes(&self, start: u64, length: u64) -> ParquetResult<Bytes> {
        let end = (start + length).min(self.size());
        {
            let loaded = self.inner.loaded.lock().unwrap();
            let (from, bytes) = &*loaded;
            if start >= *from && end <= from + bytes.len() as u64 {
                return Ok(bytes.slice((start - from) as usize..(end - from) as usize));
            }
        }
        self.fetch(start..end).map_err(|e| {
            let message = e.to_string();
            *self.inner.failure.lock().unwrap() = Some(e);
            ParquetError::General(message)
        })
    }
}

impl Length for BlobFile {
    fn len(&self) -> u64 {
        self.size()
    }
}

impl ChunkReader for BlobFile {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> ParquetResult<Self::T> {
        // Page headers are read from here: the rest of the loaded range, or a piece past it.
        let (from, end) = {
            let loaded = self.inner.loaded.lock().unwrap();
            (loaded.0, loaded.0 + loaded.1.len() as u64)
        };
        let length = if (from..end).contains(&start) { end - start } else { 1 << 20 };
        Ok(self.bytes(start, length)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> ParquetResult<Bytes> {
        self.bytes(start, length as u64)
    }
}
