//! Which blobs a path names, for COPY FROM and blob_get: the blob of that name or, when the
//! path has wildcards (input::pattern) and no blob has exactly that name, every blob of
//! the container that matches, in name order. Each comes as the version the statement
//! found (storage::BlobVersion), which every read of it is pinned to.

use std::collections::VecDeque;

use pgrx::PgSqlErrorCode;
use input::pattern;
use storage::{BlobStream, BlobVersion, Compression, Downloads};

use crate::access::Access;
use crate::blob_list::Pages;
use crate::errors::raise;
use crate::parquet_io::ParquetOptions;

/// How one blob becomes rows, decided once per blob: COPY FROM decides it from its options,
/// blob_get from its arguments, each with the blob's name and headers.
pub enum ReadPlan {
    /// A COPY format (csv, text, binary), through COPY's parser.
    Copy { format: &'static str, compression: Compression },
    /// One value of the whole blob (text, json, xml).
    Whole { compression: Compression },
    Parquet(ParquetOptions),
    /// JSON lines, as COPY text rows; `strict_keys` refuses keys that name no column.
    JsonLines { compression: Compression, strict_keys: bool },
}

impl ReadPlan {
    /// The stream the plan reads `blob` through, on the statement's `downloads`; parquet
    /// reads its ranges its own way.
    pub fn open(&self, downloads: &StatementDownloads, blob: &BlobVersion) -> Option<BlobStream> {
        match self {
            ReadPlan::Copy { compression, .. } | ReadPlan::Whole { compression } | ReadPlan::JsonLines { compression, .. } => {
                Some(downloads.stream(blob, *compression))
            }
            ReadPlan::Parquet(_) => None,
        }
    }
}

/// The download thread of a statement's streams in one container, started with the first
/// stream (a statement that reads only parquet never starts it).
pub struct StatementDownloads<'a> {
    access: &'a Access,
    container: &'a str,
    started: std::cell::OnceCell<Downloads>,
}

impl<'a> StatementDownloads<'a> {
    pub fn new(access: &'a Access, container: &'a str) -> Self {
        StatementDownloads { access, container, started: std::cell::OnceCell::new() }
    }

    fn stream(&self, blob: &BlobVersion, compression: Compression) -> BlobStream {
        let access = self.access;
        let downloads = self.started.get_or_init(|| access.store(self.container).downloads().unwrap_or_else(|e| access.fail(e)));
        downloads.stream(blob, compression).unwrap_or_else(|e| access.fail(e))
    }
}

/// The blobs `path` names; an error when there is none.
pub fn expand(access: &Access, container: &str, path: &str) -> Vec<BlobVersion> {
    if !pattern::is_pattern(path) {
        return vec![access.run(access.store(container).open(path))];
    }
    // A blob whose name has a wildcard in it is still read by its name. The listing under
    // the pattern's literal prefix holds it when there is one, so no request of its own.
    let matcher = pattern::Pattern::new(path).unwrap_or_else(|e| crate::errors::invalid_parameter(e.to_string()));
    let mut entries: Vec<storage::BlobEntry> = Pages::new(access, container, pattern::literal_prefix(path))
        .filter(|entry| {
            // A listing of millions of names stops at a cancel or statement_timeout.
            pgrx::check_for_interrupts!();
            matcher.matches(&entry.path)
        })
        .collect();
    // A name matches itself as a pattern (a wildcard matches its own character).
    if let Some(exact) = entries.iter().position(|entry| entry.path == path) {
        entries = vec![entries.swap_remove(exact)];
    }
    // A listing that did not give the ETag: the blob's own properties give it.
    let names: Vec<BlobVersion> = entries
        .iter()
        .map(|entry| BlobVersion::from_entry(entry).unwrap_or_else(|| access.run(access.store(container).open(&entry.path))))
        .collect();
    if names.is_empty() {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
            format!("no blob in container \"{container}\" matches the pattern \"{path}\""),
            None,
            Some("In a pattern, * matches within a folder, ** across folders and ? one character.".into()),
        );
    }
    names
}

/// Streams opened ahead while the blobs ahead are small: their downloads overlap each other
/// and the parsing, so that many small blobs cost little more than one of their total size.
const AHEAD_BLOBS: usize = 8;
const AHEAD_BYTES: u64 = 16 << 20;

/// Runs `each` over `blobs` in order, with what `open` made of a blob (its plan and stream).
/// The next blob is always opened before `each` runs on the current one, and up to
/// AHEAD_BLOBS while together they hold less than AHEAD_BYTES.
pub fn for_each_prefetched<T>(blobs: Vec<BlobVersion>, open: impl Fn(&BlobVersion) -> T, mut each: impl FnMut(BlobVersion, T)) {
    let mut opened: VecDeque<(BlobVersion, T)> = VecDeque::new();
    let mut rest = blobs.into_iter();
    loop {
        while opened.len() < 2 || (opened.len() < AHEAD_BLOBS && opened.iter().map(|(b, _)| b.size()).sum::<u64>() < AHEAD_BYTES) {
            let Some(blob) = rest.next() else { break };
            let stream = open(&blob);
            opened.push_back((blob, stream));
        }
        let Some((blob, stream)) = opened.pop_front() else { return };
        each(blob, stream);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use storage::{BlobEntry, BlobVersion};

    fn blob(name: &str, bytes: i64) -> BlobVersion {
        let entry = BlobEntry {
            path: name.into(),
            bytes,
            last_modified: None,
            etag: Some("0x1".into()),
            content_type: None,
            content_encoding: None,
            content_hash: None,
        };
        BlobVersion::from_entry(&entry).expect("an entry with an ETag")
    }

    /// The order of opens and reads, as "o<name>" and "r<name>".
    fn events(blobs: Vec<BlobVersion>) -> Vec<String> {
        let log = RefCell::new(Vec::new());
        super::for_each_prefetched(
            blobs,
            |b| {
                log.borrow_mut().push(format!("o{}", b.path()));
                b.path().to_string()
            },
            |b, stream| {
                assert_eq!(stream, b.path(), "each blob comes with what was opened for it");
                log.borrow_mut().push(format!("r{}", b.path()));
            },
        );
        log.into_inner()
    }

    #[test]
    fn small_blobs_are_opened_up_to_eight_ahead() {
        let blobs = (0..10).map(|i| blob(&i.to_string(), 1000)).collect();
        let got = events(blobs);
        let want = "o0 o1 o2 o3 o4 o5 o6 o7 r0 o8 r1 o9 r2 r3 r4 r5 r6 r7 r8 r9";
        assert_eq!(got.join(" "), want);
    }

    #[test]
    fn large_blobs_are_opened_one_ahead() {
        let blobs = vec![blob("a", 10 << 20), blob("b", 10 << 20), blob("c", 1), blob("d", 1)];
        // a and b hold more than 16 MiB: only they are open before a is read; then b, c and
        // d together hold less, and c and d are opened before b is read.
        assert_eq!(events(blobs).join(" "), "oa ob ra oc od rb rc rd");
    }

    #[test]
    fn one_blob_and_none() {
        assert_eq!(events(vec![blob("x", 5)]).join(" "), "ox rx");
        assert!(events(Vec::new()).is_empty());
    }
}
