//! Streaming a blob's decompressed bytes to a synchronous consumer with bounded memory.
//!
//! Streams are served by `Downloads`: one thread with its own runtime and HTTP client, for
//! every stream a statement opens in one container, so that many small blobs share
//! connections and a thread instead of each setting up its own. For each stream a task
//! fetches the blob in ranged chunks (several in flight, all of the version seen when the
//! stream opened, each resumed where a broken answer stopped); a compressed blob is
//! decompressed on a blocking thread of that runtime. Pieces go to the consumer (a PostgreSQL
//! backend's COPY parser) over a channel bounded by permits, so download, decompression and
//! parsing overlap, and what is held at any time is bounded: CHUNK * (CONCURRENT + RAW_QUEUE)
//! downloaded bytes at most, plus QUEUE pieces, per stream.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::Semaphore;

use crate::blobs::BlobStore;
use crate::compression::{Codec, Compression};
use crate::error::{Error, Result};
use crate::runtime;
use crate::version::BlobVersion;

/// Size of one ranged download.
const CHUNK: usize = 2 << 20;
/// Downloads in flight at once, per stream.
const CONCURRENT: usize = 4;
/// Pieces waiting for the consumer (whole chunks when there is nothing to decompress).
const QUEUE: usize = 4;
/// Downloaded chunks waiting for decompression.
const RAW_QUEUE: usize = 2;
/// Size of a decompressed piece.
const PIECE: usize = 1 << 20;
/// How often a waiting consumer asks whether to stop.
const POLL: Duration = Duration::from_millis(50);

pub struct BlobStream {
    pieces: Receiver<Bytes>,
    /// Room in the queue of pieces: the producer takes a permit for each piece it sends,
    /// the consumer gives it back when it takes the piece. Closed when the consumer goes.
    room: Arc<Semaphore>,
    current: Bytes,
    /// Set by the download and decompression tasks when they fail, so that the consumer
    /// stops at once instead of first working through what was read ahead.
    failed: Failed,
    finished: bool,
    /// Size of the blob as stored (compressed, when it is).
    pub size: u64,
}

impl BlobStore {
    /// Opens the current version of `path` for streaming: a missing blob fails here,
    /// before any byte is consumed.
    pub fn open_stream(&self, path: &str, compression: Compression, cancelled: &dyn Fn() -> bool) -> Result<BlobStream> {
        let blob = runtime::block_on(self.open(path), cancelled)?;
        self.stream(&blob, compression)
    }

    /// Streams `blob`, every byte from that version, on a download thread of its own.
    pub fn stream(&self, blob: &BlobVersion, compression: Compression) -> Result<BlobStream> {
        self.downloads()?.stream(blob, compression)
    }

    /// A download thread for streams of this container's blobs, which share its HTTP
    /// connections. The thread ends when the `Downloads` and every stream it opened are gone.
    pub fn downloads(&self) -> Result<Downloads> {
        let store = self.reopen()?;
        let (jobs, queued) = tokio::sync::mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("blob-download".into())
            .spawn(move || serve(store, queued))
            .map_err(|e| Error::Internal(format!("could not start the download thread: {e}")))?;
        Ok(Downloads { jobs })
    }
}

/// One download thread, runtime and HTTP client, for the streams of one container.
pub struct Downloads {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Downloads {
    /// Starts streaming `blob`, every byte from that version.
    pub fn stream(&self, blob: &BlobVersion, compression: Compression) -> Result<BlobStream> {
        let (tx, rx) = channel();
        let room = Arc::new(Semaphore::new(QUEUE));
        let failed = Failed::default();
        let tx = Reporter { tx, room: room.clone(), failed: failed.clone() };
        let job = Job { blob: blob.clone(), compression, tx };
        self.jobs.send(job).map_err(|_| Error::Internal("the download thread has stopped".into()))?;
        Ok(BlobStream { pieces: rx, room, current: Bytes::new(), failed, finished: false, size: blob.size() })
    }
}

/// The download thread: runs each stream's job as a task until no job can come and every
/// task has ended.
fn serve(store: BlobStore, mut queued: tokio::sync::mpsc::UnboundedReceiver<Job>) {
    runtime::block_signals();
    let rt = match runtime::current_thread() {
        Ok(rt) => rt,
        Err(e) => {
            while let Ok(job) = queued.try_recv() {
                job.tx.fail(Error::Internal(format!("could not start the download runtime: {e}")));
            }
            return;
        }
    };
    let store = Arc::new(store);
    // Tasks stay on this thread (a LocalSet), so their futures need not be Send.
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut running = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                job = queued.recv() => match job {
                    Some(job) => {
                        // A task that panics reports it: its consumer must not take the end
                        // of the pieces for the end of the blob.
                        let reporter = job.tx.clone();
                        let run = std::panic::AssertUnwindSafe(job.run(store.clone()));
                        running.spawn_local(async move {
                            if futures::FutureExt::catch_unwind(run).await.is_err() {
                                reporter.fail(Error::Internal("the download task failed".into()));
                            }
                        });
                    }
                    None => break,
                },
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        while running.join_next().await.is_some() {}
    });
}

impl BlobStream {
    /// Reads up to `buf.len()` bytes; 0 means the end of the blob. Waits for the producer,
    /// asking `cancelled` every 50 ms.
    pub fn read(&mut self, buf: &mut [u8], cancelled: &dyn Fn() -> bool) -> Result<usize> {
        loop {
            // Checked before each wait and after the threads end: a failure is set before
            // the channel closes.
            if let Some(e) = self.failed.take() {
                self.finished = true;
                return Err(e);
            }
            if !self.current.is_empty() {
                break;
            }
            if self.finished {
                return Ok(0);
            }
            match self.pieces.recv_timeout(POLL) {
                Ok(piece) => {
                    self.room.add_permits(1);
                    self.current = piece;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if cancelled() {
                        return Err(Error::Cancelled);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => self.finished = true,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }

    /// Reads everything that is left (for values that are one whole blob).
    pub fn read_to_end(&mut self, limit: usize, cancelled: &dyn Fn() -> bool) -> Result<Vec<u8>> {
        let mut all = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = self.read(&mut buf, cancelled)?;
            if n == 0 {
                return Ok(all);
            }
            if all.len() + n > limit {
                return Err(Error::TooLarge { limit });
            }
            all.extend_from_slice(&buf[..n]);
        }
    }
}

impl Drop for BlobStream {
    fn drop(&mut self) {
        // The producer stops at its next chunk, or at once when it waits to hand one over.
        self.room.close();
    }
}

/// The first failure of a stream's threads, for the consumer to take.
#[derive(Clone, Default)]
struct Failed(Arc<std::sync::Mutex<Option<Error>>>, Arc<AtomicBool>);

impl Failed {
    fn set(&self, e: Error) {
        self.0.lock().expect("never poisoned").get_or_insert(e);
        self.1.store(true, Ordering::Release);
    }

    fn take(&self) -> Option<Error> {
        if !self.1.load(Ordering::Acquire) {
            return None;
        }
        self.0.lock().expect("never poisoned").take()
    }
}

/// The producer's end of the channel to the consumer: pieces go in order, each once there is
/// room for it; a failure goes ahead of them (`Failed`).
#[derive(Clone)]
struct Reporter {
    tx: Sender<Bytes>,
    room: Arc<Semaphore>,
    failed: Failed,
}

impl Reporter {
    /// Hands a piece over once the queue has room; `Err` when the consumer is gone.
    async fn send(&self, piece: Bytes) -> std::result::Result<(), ()> {
        self.room.acquire().await.map_err(|_| ())?.forget();
        self.tx.send(piece).map_err(|_| ())
    }

    /// Whether the consumer has dropped its stream (which closes the room).
    fn consumer_gone(&self) -> bool {
        self.room.is_closed()
    }

    /// `send`, from a blocking thread.
    fn send_blocking(&self, piece: Bytes) -> std::result::Result<(), ()> {
        futures::executor::block_on(self.send(piece))
    }

    fn fail(&self, e: Error) {
        self.failed.set(e);
    }
}

/// One stream's download.
struct Job {
    blob: BlobVersion,
    compression: Compression,
    tx: Reporter,
}

impl Job {
    /// Downloads the chunks in order, several at once; a compressed blob's go through a
    /// decompressor on a blocking thread, so that the two overlap with each other and with
    /// the consumer.
    async fn run(self, store: Arc<BlobStore>) {
        let mut raw = None;
        let mut decompressor = None;
        if self.compression != Compression::None {
            let (raw_tx, raw_rx) = tokio::sync::mpsc::channel::<Bytes>(RAW_QUEUE);
            let (tx, compression) = (self.tx.clone(), self.compression);
            decompressor = Some(tokio::task::spawn_blocking(move || {
                let source = ChunkReader { chunks: raw_rx, current: Bytes::new() };
                if let Err(e) = decompress(compression, source, &tx) {
                    tx.fail(e);
                }
            }));
            raw = Some(raw_tx);
        }
        // A consumer that goes away stops the downloads in flight too, within POLL.
        let mut download = Box::pin(self.download(&store, raw.as_ref()));
        let mut tick = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                _ = &mut download => break,
                _ = tick.tick() => if self.tx.consumer_gone() { break },
            }
        }
        drop(download);
        // The decompressor sees its input end and finishes what it holds.
        drop(raw);
        if let Some(decompressor) = decompressor {
            if decompressor.await.is_err() {
                self.tx.fail(Error::Internal("the decompression task failed".into()));
            }
        }
    }

    /// The blob's chunks in order, several in flight, to the decompressor (`raw`) or, for a
    /// plain blob, straight to the consumer.
    async fn download(&self, store: &BlobStore, raw: Option<&tokio::sync::mpsc::Sender<Bytes>>) {
        let mut chunks = futures::stream::iter(crate::blobs::split(0..self.blob.size(), CHUNK as u64))
            .map(|range| store.read(&self.blob, range))
            .buffered(CONCURRENT);
        while let Some(chunk) = chunks.next().await {
            // A failed download goes to the consumer at once, ahead of what was read ahead,
            // and before the decompressor sees its input end (and calls it truncated).
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => return self.tx.fail(e),
            };
            let gone = match raw {
                // The decompressor is gone, and says why if it failed.
                Some(raw) => raw.send(chunk).await.is_err(),
                None => self.tx.send(chunk).await.is_err(),
            };
            if gone {
                return;
            }
        }
    }
}

/// Turns downloaded chunks into decompressed pieces for the consumer.
fn decompress(compression: Compression, source: ChunkReader, tx: &Reporter) -> Result<()> {
    let name = compression.name();
    let mut decoder = compression.decoder(source).map_err(|e| Error::Decompress { compression: name, cause: e.to_string() })?;
    loop {
        let mut piece = vec![0u8; PIECE];
        let mut filled = 0;
        while filled < PIECE {
            match decoder.read(&mut piece[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(decompress_error(e, name)),
            }
        }
        if filled == 0 {
            return Ok(());
        }
        piece.truncate(filled);
        if tx.send_blocking(Bytes::from(piece)).is_err() {
            return Ok(());
        }
    }
}

fn decompress_error(e: std::io::Error, compression: &'static str) -> Error {
    let cause = match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "the compressed data ends early (truncated blob)".to_string(),
        _ => e.to_string(),
    };
    Error::Decompress { compression, cause }
}

/// The downloaded chunks as a `Read`, for the decompressors.
struct ChunkReader {
    chunks: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChunkReader {
    /// The next chunk; `None` at the end, or when the download failed (it reports that).
    fn next_chunk(&mut self) -> Option<Bytes> {
        if !self.current.is_empty() {
            return Some(std::mem::take(&mut self.current));
        }
        self.chunks.blocking_recv()
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.current.is_empty() {
            match self.next_chunk() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
