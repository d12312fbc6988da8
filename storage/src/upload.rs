//! Streaming a synchronous producer's bytes into a block blob with bounded memory, and
//! committing the blob only when the producer says it is complete.
//!
//! The producer (a PostgreSQL backend encoding rows, or pgvault reading pg_dump) writes into
//! a `BlobWriter`. Full chunks go to a compression thread, which cuts the compressed stream
//! into blocks (sizes from `blocks::block_size_from`); an upload thread stages the blocks,
//! several at a time. `finish` (or `close`, then `Closing::wait`) waits until every block is
//! staged and yields a `StagedBlob`: the blob's name and block list, nothing running. Only
//! `commit`, or `commit_all` for the blobs of one statement together, writes the block list
//! that makes a blob visible. Dropping the writer or the staged blob at any point commits
//! nothing and stops the upload thread at once, requests in flight included: an existing blob
//! of that name keeps its content, and the staged blocks expire on the service's side.
//!
//! Held at any time: a chunk being filled, FEED_QUEUE chunks waiting for compression, the
//! block being cut, one block waiting and `concurrency` blocks in flight; chunks are a
//! quarter of the first block (at most 1 MiB), so a writer with small first blocks holds
//! little, for exports that keep many blobs open at once.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tokio::sync::mpsc::error::TrySendError;

use crate::account::Account;
use crate::blocks::{block_id, block_size_from, MAX_BLOCKS};
use crate::compression::{Codec, Compression};
use crate::error::{Error, Result};
use crate::rest::{Properties, RestClient};
use crate::runtime::{self, never};

/// Most bytes the producer hands over at a time.
const CHUNK: usize = 1 << 20;
/// Blobs committed at once by `commit_all`.
const COMMIT_CONCURRENCY: usize = 16;
/// Chunks waiting for the compression thread.
const FEED_QUEUE: usize = 2;
/// How often a waiting producer asks whether to stop.
const POLL: Duration = Duration::from_millis(50);

/// How a blob is written.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    pub compression: Compression,
    pub content_type: String,
    /// The blob's `Content-Encoding`. HTTP clients that honour it (browsers, the Azure SDKs,
    /// `curl --compressed`) hand out decompressed bytes, so compressed blobs are best stored
    /// without it, as the bytes they are (see `Compression::media_type`).
    pub content_encoding: Option<String>,
    /// Blocks being staged at once.
    pub concurrency: usize,
    /// Bound on each request (larger blocks get more time, see `RestClient`).
    pub timeout: Duration,
    /// Size of the first blocks (`blocks::FIRST_BLOCK_SIZE` unless many writers are open
    /// at once); later ones double as `blocks::block_size_from` says.
    pub first_block_size: u64,
}

enum Feed {
    Data(Vec<u8>),
    /// The producer is done: flush the compressor and stage the last block.
    Finish,
}

enum Block {
    Data(Bytes),
    End,
}

enum Event {
    Staged { ids: Vec<String>, stored: u64 },
    Failed(Error),
}

/// What a committed (or committable) blob amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadSummary {
    /// Bytes the producer wrote.
    pub written: u64,
    /// Bytes stored (after compression).
    pub stored: u64,
    pub blocks: usize,
}

/// The producer's end of an upload.
pub struct BlobWriter {
    chunk: Vec<u8>,
    chunk_size: usize,
    feed: tokio::sync::mpsc::Sender<Feed>,
    events: Receiver<Event>,
    alive: Alive,
    written: u64,
    /// Bytes the compressor has cut into blocks so far.
    stored: Arc<AtomicU64>,
    compressed: bool,
    target: Target,
}

/// Held by the producer's end; when it is dropped, the upload thread stops.
struct Alive(#[allow(dead_code)] tokio::sync::oneshot::Sender<()>);

/// Where a blob goes and what it is, to commit it.
#[derive(Clone)]
struct Target {
    account: Account,
    container: String,
    path: String,
    content_type: String,
    content_encoding: Option<String>,
    timeout: Duration,
}

/// A writer whose last bytes are on their way: `wait` gives the staged blob.
pub struct Closing {
    events: Receiver<Event>,
    _alive: Alive,
    written: u64,
    target: Target,
}

/// Every block staged, nothing visible yet, nothing running: the blob's name and its list
/// of blocks, which `commit` (or `commit_all`) writes.
pub struct StagedBlob {
    target: Target,
    ids: Vec<String>,
    pub summary: UploadSummary,
}

/// Why `commit_all` failed, and what became of the blobs it had committed: each is
/// given by its index in the list committed.
#[derive(Debug)]
pub struct CommitFailure {
    pub error: Error,
    /// The blob whose commit failed (none when the commit phase was cancelled).
    pub failed: Option<usize>,
    /// Committed before the failure and deleted again.
    pub deleted: Vec<usize>,
    /// Committed, and still visible: deleting them failed too (with that error).
    pub left: Vec<(usize, Error)>,
}

impl BlobWriter {
    /// Starts the threads of an upload of `container/path`. Nothing is sent before the
    /// first block is full (or `finish`).
    pub fn start(account: &Account, container: &str, path: &str, options: UploadOptions) -> Result<BlobWriter> {
        input::names::validate_container_name(container)?;
        input::names::validate_blob_name(path)?;
        let client = RestClient::new(account, options.timeout)?;
        let (feed_tx, feed_rx) = tokio::sync::mpsc::channel(FEED_QUEUE);
        let (block_tx, block_rx) = tokio::sync::mpsc::channel(1);
        let (events_tx, events_rx) = channel();
        let (alive_tx, abandoned) = tokio::sync::oneshot::channel();
        let stored = Arc::new(AtomicU64::new(0));
        let first_block_size = options.first_block_size.max(1);
        let options_compressed = options.compression != Compression::None;
        let compressor = Compressor {
            feed: feed_rx,
            blocks: block_tx,
            events: events_tx.clone(),
            compression: options.compression,
            first_block_size,
            stored: stored.clone(),
        };
        let target = Target {
            account: account.clone(),
            container: container.to_string(),
            path: path.to_string(),
            content_type: options.content_type.clone(),
            content_encoding: options.content_encoding.clone(),
            timeout: options.timeout,
        };
        let uploader = Uploader {
            client,
            container: container.to_string(),
            path: path.to_string(),
            upload: rand::random(),
            options,
            blocks: block_rx,
            events: events_tx,
        };
        spawn("blob-compress", move || compressor.run())?;
        spawn("blob-upload", move || uploader.run(abandoned))?;
        let chunk_size = ((first_block_size / 4) as usize).clamp(1 << 12, CHUNK);
        Ok(BlobWriter {
            chunk: Vec::new(),
            chunk_size,
            feed: feed_tx,
            events: events_rx,
            alive: Alive(alive_tx),
            written: 0,
            stored,
            compressed: options_compressed,
            target,
        })
    }

    /// Adds bytes to the blob. Waits while the upload is behind, asking `cancelled` every
    /// 50 ms; fails with the upload's error once it has one.
    pub fn write(&mut self, mut data: &[u8], cancelled: &dyn Fn() -> bool) -> Result<()> {
        self.written += data.len() as u64;
        while !data.is_empty() {
            if self.chunk.capacity() == 0 {
                self.chunk = Vec::with_capacity(self.chunk_size);
            }
            let n = data.len().min(self.chunk_size - self.chunk.len());
            self.chunk.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.chunk.len() == self.chunk_size {
                let full = std::mem::take(&mut self.chunk);
                self.send(Feed::Data(full), cancelled)?;
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// How large the stored blob is so far: the bytes written, or with compression the
    /// compressed bytes that have come out of the compressor (which lags behind by what it
    /// holds, up to FEED_QUEUE + 1 chunks).
    pub fn stored_so_far(&self) -> u64 {
        match self.compressed {
            false => self.written,
            true => self.stored.load(Ordering::Relaxed),
        }
    }

    /// Ends the blob's content and waits until every block is staged.
    pub fn finish(self, cancelled: &dyn Fn() -> bool) -> Result<StagedBlob> {
        self.close(cancelled)?.wait(cancelled)
    }

    /// Ends the blob's content without waiting for its last blocks to be staged.
    pub fn close(mut self, cancelled: &dyn Fn() -> bool) -> Result<Closing> {
        if !self.chunk.is_empty() {
            let last = std::mem::take(&mut self.chunk);
            self.send(Feed::Data(last), cancelled)?;
        }
        self.send(Feed::Finish, cancelled)?;
        Ok(Closing { events: self.events, _alive: self.alive, written: self.written, target: self.target })
    }

    fn send(&mut self, feed: Feed, cancelled: &dyn Fn() -> bool) -> Result<()> {
        let pending = match self.feed.try_send(feed) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(feed)) => feed,
            Err(TrySendError::Closed(_)) => return Err(self.failure(cancelled)),
        };
        let feed = self.feed.clone();
        let sent = runtime::block_on(async move { Ok(feed.send(pending).await.is_ok()) }, cancelled)?;
        if sent {
            Ok(())
        } else {
            Err(self.failure(cancelled))
        }
    }

    /// The error that stopped the upload threads.
    fn failure(&self, cancelled: &dyn Fn() -> bool) -> Error {
        match wait(&self.events, cancelled) {
            Ok(Event::Failed(e)) | Err(e) => e,
            Ok(_) => Error::Internal("the upload stopped without saying why".into()),
        }
    }
}

impl Closing {
    /// Waits until every block is staged.
    pub fn wait(self, cancelled: &dyn Fn() -> bool) -> Result<StagedBlob> {
        match wait(&self.events, cancelled)? {
            Event::Staged { ids, stored } => {
                let summary = UploadSummary { written: self.written, stored, blocks: ids.len() };
                Ok(StagedBlob { target: self.target, ids, summary })
            }
            Event::Failed(e) => Err(e),
        }
    }
}

impl StagedBlob {
    pub fn container(&self) -> &str {
        &self.target.container
    }

    pub fn path(&self) -> &str {
        &self.target.path
    }

    /// Writes the block list: the blob appears, whole, with its properties. Cancelled, the
    /// commit may or may not have happened.
    pub fn commit(self, cancelled: &dyn Fn() -> bool) -> Result<UploadSummary> {
        let client = RestClient::new(&self.target.account, self.target.timeout)?;
        let summary = self.summary;
        runtime::block_on(async move { self.commit_with(&client).await.map(|_| summary) }, cancelled)
    }

    async fn commit_with(&self, client: &RestClient) -> Result<()> {
        let properties = Properties { content_type: Some(&self.target.content_type), content_encoding: self.target.content_encoding.as_deref() };
        client.put_block_list(&self.target.container, &self.target.path, &self.ids, &properties).await
    }
}

/// Commits blobs together: all of them become visible, or none stays so. Up to
/// COMMIT_CONCURRENCY commits run at once. When one fails (or `cancelled` says stop), no
/// further commit starts, and the blobs committed so far are deleted again (a commit cut
/// off by the cancel is deleted only if the service shows it happened). A blob that was
/// replaced is then gone, not restored: the service keeps no earlier version to go back to.
/// A single blob is committed as `StagedBlob::commit` does.
pub fn commit_all(blobs: Vec<StagedBlob>, cancelled: &dyn Fn() -> bool) -> std::result::Result<Vec<UploadSummary>, CommitFailure> {
    if blobs.len() == 1 {
        let blob = blobs.into_iter().next().expect("one blob");
        return blob.commit(cancelled).map(|s| vec![s]).map_err(|error| CommitFailure { error, failed: Some(0), deleted: Vec::new(), left: Vec::new() });
    }
    let fail = |error: Error| CommitFailure { error, failed: None, deleted: Vec::new(), left: Vec::new() };
    // One client per account: connections are shared by the blobs of one account.
    let mut clients: Vec<(Account, RestClient)> = Vec::new();
    for blob in &blobs {
        if !clients.iter().any(|(a, _)| *a == blob.target.account) {
            let client = RestClient::new(&blob.target.account, blob.target.timeout).map_err(fail)?;
            clients.push((blob.target.account.clone(), client));
        }
    }
    let client_of = |blob: &StagedBlob| &clients.iter().find(|(a, _)| *a == blob.target.account).expect("a client for every account").1;
    let outcome = runtime::block_on(
        async {
            let mut committed: Vec<usize> = Vec::new();
            let mut in_flight = FuturesUnordered::new();
            let mut next = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            let mut stop: Option<(Error, Option<usize>)> = None;
            loop {
                while stop.is_none() && next < blobs.len() && in_flight.len() < COMMIT_CONCURRENCY {
                    let i = next;
                    let blob = &blobs[i];
                    in_flight.push(async move { (i, blob.commit_with(client_of(blob)).await) });
                    next += 1;
                }
                if in_flight.is_empty() {
                    break;
                }
                tokio::select! {
                    Some((i, outcome)) = in_flight.next() => match outcome {
                        Ok(()) => committed.push(i),
                        Err(e) => if stop.is_none() { stop = Some((e, Some(i))) },
                    },
                    _ = tick.tick() => if stop.is_none() && cancelled() { stop = Some((Error::Cancelled, None)) },
                }
                // Cancelled: commits in flight are cut off; whether each happened is asked below.
                if matches!(stop, Some((Error::Cancelled, _))) {
                    break;
                }
            }
            let cut_off: Vec<usize> = (0..next).filter(|i| !committed.contains(i) && stop.as_ref().is_some_and(|(_, f)| *f != Some(*i))).collect();
            drop(in_flight);
            Ok((committed, cut_off, stop))
        },
        &never,
    );
    let (committed, cut_off, stop) = outcome.map_err(fail)?;
    let Some((error, failed)) = stop else {
        return Ok(blobs.iter().map(|b| b.summary).collect());
    };
    // Undo: delete what was committed, and what a cut-off commit did commit.
    let undo = runtime::block_on(
        async {
            let mut deleted = Vec::new();
            let mut left = Vec::new();
            for i in committed.into_iter().chain(cut_off) {
                let blob = &blobs[i];
                let client = client_of(blob);
                let (container, path) = (blob.target.container.as_str(), blob.target.path.as_str());
                match client.has_committed_blocks(container, path, &blob.ids).await {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => {
                        left.push((i, e));
                        continue;
                    }
                }
                match client.delete_blob(container, path).await {
                    Ok(()) => deleted.push(i),
                    Err(e) => left.push((i, e)),
                }
            }
            Ok((deleted, left))
        },
        &never,
    );
    let (deleted, left) = undo.map_err(fail)?;
    Err(CommitFailure { error, failed, deleted, left })
}

/// The next event of the upload threads, or `Cancelled`.
fn wait(events: &Receiver<Event>, cancelled: &dyn Fn() -> bool) -> Result<Event> {
    loop {
        match events.recv_timeout(POLL) {
            Ok(event) => return Ok(event),
            Err(RecvTimeoutError::Timeout) if cancelled() => return Err(Error::Cancelled),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(Error::Internal("the upload threads ended unexpectedly".into())),
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            runtime::block_signals();
            f()
        })
        .map(|_| ())
        .map_err(|e| Error::Internal(format!("could not start the {name} thread: {e}")))
}

/// Compresses the producer's chunks and cuts the result into blocks.
struct Compressor {
    feed: tokio::sync::mpsc::Receiver<Feed>,
    blocks: tokio::sync::mpsc::Sender<Block>,
    events: Sender<Event>,
    compression: Compression,
    first_block_size: u64,
    stored: Arc<AtomicU64>,
}

impl Compressor {
    fn run(mut self) {
        let cutter = BlockCutter { blocks: self.blocks.clone(), current: Vec::new(), index: 0, first: self.first_block_size, stored: self.stored.clone() };
        let outcome = (|| -> std::io::Result<bool> {
            let mut encoder = self.compression.encoder(cutter)?;
            loop {
                match self.feed.blocking_recv() {
                    Some(Feed::Data(chunk)) => encoder.write_all(&chunk)?,
                    Some(Feed::Finish) => {
                        encoder.finish()?.finish()?;
                        return Ok(true);
                    }
                    // The producer gave up: nothing more is staged, nothing is committed.
                    None => return Ok(false),
                }
            }
        })();
        match outcome {
            Ok(true) => {
                let _ = self.blocks.blocking_send(Block::End);
            }
            Ok(false) => {}
            // A closed block channel means the uploader failed and reports why itself.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                let _ = self.events.send(Event::Failed(Error::BlobTooLarge { limit: crate::blocks::capacity(MAX_BLOCKS) }));
            }
            Err(e) => {
                let _ = self.events.send(Event::Failed(Error::Internal(format!("could not compress the blob: {e}"))));
            }
        }
    }
}

/// Cuts a byte stream into blocks of the scheduled sizes.
struct BlockCutter {
    blocks: tokio::sync::mpsc::Sender<Block>,
    current: Vec<u8>,
    index: u64,
    first: u64,
    stored: Arc<AtomicU64>,
}

impl BlockCutter {
    fn target(&self) -> usize {
        block_size_from(self.first, self.index) as usize
    }

    fn send_current(&mut self) -> std::io::Result<()> {
        if self.index >= MAX_BLOCKS {
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        let block = Bytes::from(std::mem::take(&mut self.current));
        self.index += 1;
        self.blocks.blocking_send(Block::Data(block)).map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }

    /// Sends the last, partial block.
    fn finish(mut self) -> std::io::Result<()> {
        if !self.current.is_empty() {
            self.send_current()?;
        }
        Ok(())
    }
}

impl Write for BlockCutter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.current.capacity() == 0 {
            self.current = Vec::with_capacity(self.target());
        }
        let n = buf.len().min(self.target() - self.current.len());
        self.current.extend_from_slice(&buf[..n]);
        self.stored.fetch_add(n as u64, Ordering::Relaxed);
        if self.current.len() == self.target() {
            self.send_current()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stages blocks, several at a time, and reports their ids.
struct Uploader {
    client: RestClient,
    container: String,
    path: String,
    upload: u64,
    options: UploadOptions,
    blocks: tokio::sync::mpsc::Receiver<Block>,
    events: Sender<Event>,
}

impl Uploader {
    /// `abandoned` resolves when the producer's end is dropped (cancelled, failed, or done
    /// with).
    fn run(self, abandoned: tokio::sync::oneshot::Receiver<()>) {
        let events = self.events.clone();
        // Dropping the work future aborts its requests, so a cancelled upload does not keep
        // this thread and its connections until a stalled request times out.
        let work = async move {
            tokio::select! {
                outcome = self.stage() => outcome,
                _ = abandoned => Ok(()),
            }
        };
        // This thread's own runtime: connections belong to the runtime that opened them.
        let outcome = runtime::block_on(work, &runtime::never);
        if let Err(e) = outcome {
            let _ = events.send(Event::Failed(e));
        }
    }

    async fn stage(mut self) -> Result<()> {
        let mut ids = Vec::new();
        let mut stored = 0u64;
        let mut in_flight = FuturesUnordered::new();
        let concurrency = self.options.concurrency.max(1);
        let (client, container, path) = (&self.client, self.container.as_str(), self.path.as_str());
        loop {
            tokio::select! {
                block = self.blocks.recv(), if in_flight.len() < concurrency => match block {
                    Some(Block::Data(data)) => {
                        let id = block_id(self.upload, ids.len() as u64);
                        stored += data.len() as u64;
                        ids.push(id.clone());
                        in_flight.push(async move { client.put_block(container, path, &id, data).await });
                    }
                    Some(Block::End) => break,
                    // The producer gave up.
                    None => return Ok(()),
                },
                Some(staged) = in_flight.next() => staged?,
            }
        }
        while let Some(staged) = in_flight.next().await {
            staged?;
        }
        let _ = self.events.send(Event::Staged { ids, stored });
        Ok(())
    }
}
