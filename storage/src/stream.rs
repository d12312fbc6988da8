//! Streaming a blob's decompressed bytes to a synchronous consumer with bounded memory.
//!
//! A download thread fetches the blob in ranged chunks (several in flight, all of the version
//! seen when the stream opened, each resumed where a broken answer stopped), a second thread
//! decompresses them and hands pieces over a bounded channel; the consumer (a PostgreSQL
//! backend's COPY parser) reads them as they come. Download, decompression and parsing thus
//! overlap, and what is held at any time is bounded: CHUNK * (CONCURRENT + RAW_QUEUE)
//! downloaded bytes at most, plus QUEUE pieces.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::blobs::BlobStore;
use crate::compression::{Codec, Compression};
use crate::error::{Error, Result};
use crate::runtime;
use crate::version::BlobVersion;

/// Size of one ranged download.
const CHUNK: usize = 2 << 20;
/// Downloads in flight at once.
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
    current: Bytes,
    stop: Arc<AtomicBool>,
    /// Set by the download and decompression threads when they fail, so that the consumer
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

    /// Streams `blob`, every byte from that version.
    pub fn stream(&self, blob: &BlobVersion, compression: Compression) -> Result<BlobStream> {
        let size = blob.size();
        let (tx, rx) = sync_channel(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let failed = Failed::default();
        let tx = Reporter { tx, failed: failed.clone() };
        let producer = Producer { store: self.reopen()?, blob: blob.clone(), compression, tx, stop: stop.clone() };
        std::thread::Builder::new()
            .name("blob-download".into())
            .spawn(move || producer.run())
            .map_err(|e| Error::Internal(format!("could not start the download thread: {e}")))?;
        Ok(BlobStream { pieces: rx, current: Bytes::new(), stop, failed, finished: false, size })
    }
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
                Ok(piece) => self.current = piece,
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
        self.stop.store(true, Ordering::Relaxed);
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

/// The threads' end of the channel to the consumer: pieces go in order, a failure goes
/// ahead of them (`Failed`).
#[derive(Clone)]
struct Reporter {
    tx: SyncSender<Bytes>,
    failed: Failed,
}

impl Reporter {
    /// Hands a piece over; `Err` when the consumer is gone.
    fn send(&self, piece: Bytes) -> std::result::Result<(), ()> {
        self.tx.send(piece).map_err(|_| ())
    }

    fn fail(&self, e: Error) {
        self.failed.set(e);
    }
}

struct Producer {
    store: BlobStore,
    blob: BlobVersion,
    compression: Compression,
    tx: Reporter,
    stop: Arc<AtomicBool>,
}

impl Producer {
    /// Downloads on this thread's runtime and decompresses on a second thread, so that the
    /// two overlap with each other and with the consumer.
    fn run(self) {
        runtime::block_signals();
        let (raw_tx, raw_rx) = tokio::sync::mpsc::channel::<Bytes>(RAW_QUEUE);
        let decompressor = {
            let (tx, stop, compression) = (self.tx.clone(), self.stop.clone(), self.compression);
            std::thread::Builder::new().name("blob-decompress".into()).spawn(move || {
                runtime::block_signals();
                let source = ChunkReader { chunks: raw_rx, current: Bytes::new() };
                if let Err(e) = decompress(compression, source, &tx, &stop) {
                    tx.fail(e);
                }
            })
        };
        if let Err(e) = decompressor {
            self.tx.fail(Error::Internal(format!("could not start the decompression thread: {e}")));
            return;
        }
        let stopped = || self.stop.load(Ordering::Relaxed);
        let store = &self.store;
        let download = async {
            let mut chunks = futures::stream::iter(crate::blobs::split(0..self.blob.size(), CHUNK as u64))
                .map(|range| store.read(&self.blob, range))
                .buffered(CONCURRENT);
            while let Some(chunk) = chunks.next().await {
                // A failed download goes to the consumer at once, ahead of what was read
                // ahead, and before the decompressor sees its input end (and calls it
                // truncated).
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        self.tx.fail(e);
                        break;
                    }
                };
                if raw_tx.send(chunk).await.is_err() {
                    break; // the decompressor is gone, and says why if it failed
                }
            }
            Ok(())
        };
        if let Err(e) = runtime::block_on(download, &stopped) {
            self.tx.fail(e);
        }
    }
}

/// Turns downloaded chunks into decompressed pieces for the consumer.
fn decompress(compression: Compression, mut source: ChunkReader, tx: &Reporter, stop: &AtomicBool) -> Result<()> {
    if compression == Compression::None {
        while let Some(chunk) = source.next_chunk() {
            if tx.send(chunk).is_err() || stop.load(Ordering::Relaxed) {
                return Ok(());
            }
        }
        return Ok(());
    }
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
        if tx.send(Bytes::from(piece)).is_err() || stop.load(Ordering::Relaxed) {
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
