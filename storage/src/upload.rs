//! Streaming a synchronous producer's bytes into a block blob with bounded memory, and
//! committing the blob only when the producer says it is complete.
//!
//! The producer (a PostgreSQL backend encoding rows, or pgvault reading pg_dump) writes into
//! a `BlobWriter`. Full chunks go to a compression thread, which cuts the compressed stream
//! into blocks (sizes from `blocks::block_size`); an upload thread stages the blocks, several
//! at a time. `finish` waits until every block is staged and yields a `StagedBlob`; only its
//! `commit` writes the block list that makes the blob visible. Dropping the writer or the
//! staged blob at any point commits nothing and stops the upload thread at once, requests in
//! flight included: an existing blob of that name keeps its content, and the staged blocks
//! expire on the service's side.
//!
//! Held at any time: a chunk being filled, FEED_QUEUE chunks waiting for compression, the
//! block being cut, one block waiting and `concurrency` blocks in flight.

use std::io::Write;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tokio::sync::mpsc::error::TrySendError;

use crate::account::Account;
use crate::blocks::{block_id, block_size, MAX_BLOCKS};
use crate::compression::{Codec, Compression};
use crate::error::{Error, Result};
use crate::rest::{Properties, RestClient};
use crate::runtime;

/// Bytes the producer hands over at a time.
const CHUNK: usize = 1 << 20;
/// Chunks waiting for the compression thread.
const FEED_QUEUE: usize = 4;
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
    Staged { blocks: usize, stored: u64 },
    Committed,
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
    feed: tokio::sync::mpsc::Sender<Feed>,
    events: Receiver<Event>,
    commit: tokio::sync::oneshot::Sender<()>,
    alive: Alive,
    written: u64,
}

/// Held by the producer's end; when it is dropped, the upload thread stops.
struct Alive(#[allow(dead_code)] tokio::sync::oneshot::Sender<()>);

/// Every block staged, nothing visible yet.
pub struct StagedBlob {
    events: Receiver<Event>,
    commit: tokio::sync::oneshot::Sender<()>,
    // Dropped last: `commit` waits for the commit while holding it.
    _alive: Alive,
    pub summary: UploadSummary,
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
        let (commit_tx, commit_rx) = tokio::sync::oneshot::channel();
        let (alive_tx, abandoned) = tokio::sync::oneshot::channel();
        let compressor = Compressor { feed: feed_rx, blocks: block_tx, events: events_tx.clone(), compression: options.compression };
        let uploader = Uploader {
            client,
            container: container.to_string(),
            path: path.to_string(),
            upload: rand::random(),
            options,
            blocks: block_rx,
            events: events_tx,
            commit: commit_rx,
        };
        spawn("blob-compress", move || compressor.run())?;
        spawn("blob-upload", move || uploader.run(abandoned))?;
        Ok(BlobWriter { chunk: Vec::with_capacity(CHUNK), feed: feed_tx, events: events_rx, commit: commit_tx, alive: Alive(alive_tx), written: 0 })
    }

    /// Adds bytes to the blob. Waits while the upload is behind, asking `cancelled` every
    /// 50 ms; fails with the upload's error once it has one.
    pub fn write(&mut self, mut data: &[u8], cancelled: &dyn Fn() -> bool) -> Result<()> {
        self.written += data.len() as u64;
        while !data.is_empty() {
            let n = data.len().min(CHUNK - self.chunk.len());
            self.chunk.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.chunk.len() == CHUNK {
                let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
                self.send(Feed::Data(full), cancelled)?;
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the blob's content and waits until every block is staged.
    pub fn finish(mut self, cancelled: &dyn Fn() -> bool) -> Result<StagedBlob> {
        if !self.chunk.is_empty() {
            let last = std::mem::take(&mut self.chunk);
            self.send(Feed::Data(last), cancelled)?;
        }
        self.send(Feed::Finish, cancelled)?;
        match wait(&self.events, cancelled)? {
            Event::Staged { blocks, stored } => Ok(StagedBlob {
                events: self.events,
                commit: self.commit,
                _alive: self.alive,
                summary: UploadSummary { written: self.written, stored, blocks },
            }),
            Event::Failed(e) => Err(e),
            Event::Committed => Err(Error::Internal("the upload thread ended out of order".into())),
        }
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

impl StagedBlob {
    /// Writes the block list: the blob appears, whole, with its properties.
    pub fn commit(self, cancelled: &dyn Fn() -> bool) -> Result<UploadSummary> {
        if self.commit.send(()).is_err() {
            return Err(match wait(&self.events, cancelled)? {
                Event::Failed(e) => e,
                _ => Error::Internal("the upload thread is gone".into()),
            });
        }
        match wait(&self.events, cancelled)? {
            Event::Committed => Ok(self.summary),
            Event::Failed(e) => Err(e),
            Event::Staged { .. } => Err(Error::Internal("the upload thread ended out of order".into())),
        }
    }
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
}

impl Compressor {
    fn run(mut self) {
        let cutter = BlockCutter { blocks: self.blocks.clone(), current: Vec::new(), index: 0 };
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
}

impl BlockCutter {
    fn target(&self) -> usize {
        block_size(self.index) as usize
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
        if self.current.len() == self.target() {
            self.send_current()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stages blocks, several at a time, and commits the block list when told to.
struct Uploader {
    client: RestClient,
    container: String,
    path: String,
    upload: u64,
    options: UploadOptions,
    blocks: tokio::sync::mpsc::Receiver<Block>,
    events: Sender<Event>,
    commit: tokio::sync::oneshot::Receiver<()>,
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
                outcome = self.stage_and_commit() => outcome,
                _ = abandoned => Ok(()),
            }
        };
        // This thread's own runtime: connections belong to the runtime that opened them.
        let outcome = runtime::block_on(work, &runtime::never);
        if let Err(e) = outcome {
            let _ = events.send(Event::Failed(e));
        }
    }

    async fn stage_and_commit(mut self) -> Result<()> {
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
        let _ = self.events.send(Event::Staged { blocks: ids.len(), stored });
        if self.commit.await.is_err() {
            return Ok(()); // dropped before commit: the blob stays as it was
        }
        let properties = Properties {
            content_type: Some(&self.options.content_type),
            content_encoding: self.options.content_encoding.as_deref(),
        };
        client.put_block_list(container, path, &ids, &properties).await?;
        let _ = self.events.send(Event::Committed);
        Ok(())
    }
}
