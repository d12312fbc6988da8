//! Reading blob contents: whole, by range (`version`), or streamed (`stream`), through the
//! REST client; every read after the first request is pinned to the version it found.
//!
//! Names are sent exactly as given (`a//b.csv`, a leading `/` and edge spaces are names of
//! their own in Azure), and an answer cut short resumes from its first missing byte.

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use crate::account::Account;
use crate::error::Result;
use crate::rest::RestClient;

/// Size of one ranged read of `get` and `read`.
const RANGE_CHUNK: u64 = 4 << 20;
/// Ranged reads in flight at once.
const RANGE_CONCURRENT: usize = 4;

/// One container of one account. Its HTTP connections belong to the runtime of the thread
/// that uses them first: a thread of its own (the stream's download thread) opens a store of
/// its own with `reopen`, as a pooled connection cannot be driven from another runtime.
pub struct BlobStore {
    pub(crate) client: RestClient,
    pub(crate) container: String,
}

impl BlobStore {
    pub fn new(account: &Account, container: &str, timeout: Duration) -> Result<Self> {
        input::names::validate_container_name(container)?;
        Ok(BlobStore { client: RestClient::new(account, timeout)?, container: container.to_string() })
    }

    /// The same container with connections of its own.
    pub(crate) fn reopen(&self) -> Result<BlobStore> {
        BlobStore::new(self.client.account(), &self.container, self.client.timeout())
    }

    /// Reads a whole blob into memory, all of it from one version.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>> {
        let blob = self.open(path).await?;
        Ok(self.read(&blob, 0..blob.size()).await?.to_vec())
    }

    /// Bytes `range` of the version `etag` names of `path`, in concurrent ranged reads.
    pub(crate) async fn ranges(&self, path: &str, range: Range<u64>, etag: &str) -> Result<Bytes> {
        let pieces: Vec<Bytes> = futures::stream::iter(split(range, RANGE_CHUNK))
            .map(|piece| self.client.get_range(&self.container, path, piece, etag))
            .buffered(RANGE_CONCURRENT)
            .try_collect()
            .await?;
        if pieces.len() == 1 {
            return Ok(pieces.into_iter().next().expect("one piece"));
        }
        Ok(Bytes::from(pieces.concat()))
    }
}

/// `range` cut into consecutive pieces of at most `size` bytes.
pub(crate) fn split(range: Range<u64>, size: u64) -> impl Iterator<Item = Range<u64>> {
    (range.start..range.end).step_by(size as usize).map(move |start| start..(start + size).min(range.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_ranges() {
        assert_eq!(split(0..10, 4).collect::<Vec<_>>(), vec![0..4, 4..8, 8..10]);
        assert_eq!(split(3..4, 4).collect::<Vec<_>>(), vec![3..4]);
        assert_eq!(split(5..5, 4).count(), 0);
    }
}
