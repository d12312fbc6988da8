//! Verified reads of a vault's points: which point a name means, whether a point is
//! complete and every file matches its manifest (size and SHA-256 of the stored bytes, and
//! of the plain bytes of an encrypted file when an identity is given), and reading a file
//! (decrypting it where it is encrypted) through hashes, so that what was used is what the
//! manifest says.

use std::io::Read;

use storage::{BlobStore, BlobStream, Compression};

use super::crypt::{self, Identity};
use super::points::{self, Digest, Encryption, FileEntry, Hashing, Manifest, MARKER};
use super::Context;
use crate::error::Error;

/// A point given as `<server>/<point>`, or as `<point>` when one server of the vault has it.
pub fn find_point(ctx: &Context, given: &str) -> Result<(String, String), Error> {
    if let Some((server, point)) = given.split_once('/') {
        points::validate_server(server)?;
        return Ok((server.to_string(), point.to_string()));
    }
    let servers: Vec<String> = points::markers(ctx, "")?.into_iter().filter(|(_, p)| p == given).map(|(s, _)| s).collect();
    match servers.as_slice() {
        [server] => Ok((server.clone(), given.to_string())),
        [] => Err(Error::Usage(format!("no complete restore point {given} in vault {}", ctx.name()))),
        many => Err(Error::Usage(format!("restore point {given} exists for servers {}; give <server>/{given}", many.join(", ")))),
    }
}

/// A file as a command reads it: its blob, whether it is encrypted (and to whom, as far as
/// a manifest says), and the size and SHA-256 its stored and plain bytes must have, where a
/// manifest says (files restored as files carry no checksums).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileRef {
    /// Full blob name in the container.
    pub blob: String,
    /// The recipients, when the file is encrypted.
    pub sealed: Option<Vec<String>>,
    pub stored: Option<Digest>,
    pub plain: Option<Digest>,
}

impl FileRef {
    /// The file `entry` of a point whose files are in `folder`.
    pub fn of(folder: &str, entry: &FileEntry, encryption: Option<&Encryption>) -> FileRef {
        FileRef {
            blob: format!("{folder}/{}", entry.name),
            sealed: entry.stored.as_ref().map(|_| encryption.map(|e| e.recipients.clone()).unwrap_or_default()),
            stored: Some(entry.stored()),
            plain: Some(entry.plain()),
        }
    }
}

/// What reading a file found: its stored bytes, and its plain bytes where they were read
/// (not when it is encrypted and no identity was given).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub stored: Digest,
    pub plain: Option<Digest>,
}

impl Found {
    /// The problems with what was read, against what the manifest says.
    pub fn problems(&self, file: &FileRef) -> Vec<String> {
        let name = &file.blob;
        let mut problems = Vec::new();
        let compare = |found: &Digest, expected: &Option<Digest>, what: &str| -> Option<String> {
            let expected = expected.as_ref()?;
            if found.bytes != expected.bytes {
                Some(format!("{name}: {}{} bytes, the manifest says {}", what, found.bytes, expected.bytes))
            } else if found.sha256 != expected.sha256 {
                Some(format!("{name}: {what}SHA-256 {} does not match the manifest's {}", found.sha256, expected.sha256))
            } else {
                None
            }
        };
        let encrypted = file.sealed.is_some();
        problems.extend(compare(&self.stored, &file.stored, if encrypted { "encrypted: " } else { "" }));
        if encrypted && problems.is_empty() {
            if let Some(plain) = &self.plain {
                problems.extend(compare(plain, &file.plain, "decrypted: "));
            }
        }
        problems
    }
}

/// Checks the point: complete, and every file as its manifest says (with `key`, the plain
/// bytes of encrypted files too). Returns the manifest and the problems found (none: valid).
pub fn check_point(ctx: &Context, server: &str, point: &str, key: Option<&Identity>) -> Result<(Option<Manifest>, Vec<String>), Error> {
    let folder = points::folder(server, point);
    let store = ctx.store()?;
    let mut problems = Vec::new();
    if let Err(e) = ctx.run(store.get(&format!("{folder}/{MARKER}"))) {
        problems.push(format!("{folder} is not complete: its {MARKER} marker cannot be read ({e})"));
    }
    let manifest = match points::read_manifest(&store, server, point, ctx.cancelled()) {
        Ok(m) => m,
        Err(e) => {
            problems.push(e.to_string());
            return Ok((None, problems));
        }
    };
    for file in &manifest.files {
        let file = FileRef::of(&folder, file, manifest.encryption.as_ref());
        match read(&store, &file, key, ctx.cancelled(), &mut |_| Ok(())) {
            Ok(found) => problems.extend(found.problems(&file)),
            Err(e) => problems.push(e.to_string()),
        }
    }
    Ok((Some(manifest), problems))
}

/// Streams a file through `each`; an error if it is not what its manifest says, found once
/// `each` has seen it all. Returns the bytes `each` saw.
pub fn read_verified(store: &BlobStore, file: &FileRef, key: Option<&Identity>, cancelled: &dyn Fn() -> bool, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<u64, Error> {
    let found = read(store, file, key, cancelled, each)?;
    match found.problems(file).into_iter().next() {
        Some(problem) => Err(Error::Content(problem)),
        None => Ok(found.plain.as_ref().unwrap_or(&found.stored).bytes),
    }
}

/// Streams a file through `each` piece by piece: its plain bytes, decrypted with `key` when
/// it is encrypted, or, when it is encrypted and no key is given, its stored bytes (which
/// can then be checked, not used). Returns what was read.
pub fn read(store: &BlobStore, file: &FileRef, key: Option<&Identity>, cancelled: &dyn Fn() -> bool, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<Found, Error> {
    let name = file.blob.as_str();
    let stream = store.open_stream(name, Compression::None, cancelled).map_err(|e| Error::storage(name, e))?;
    let mut stored = Hashed { stream, cancelled, hashing: Hashing::default(), failure: None };
    let mut buf = vec![0u8; PIECE];
    let plain = match (&file.sealed, key) {
        (Some(recipients), Some(key)) => {
            let mut plain = Hashing::default();
            let outcome = (|| {
                let mut reader = key.decrypt(std::io::BufReader::with_capacity(PIECE, &mut stored), name, recipients)?;
                pump(name, &mut reader, &mut buf, &mut |piece| {
                    plain.add(piece);
                    each(piece)
                })?;
                drop(reader);
                // What follows the end of the age stream, if anything, counts as stored bytes.
                pump(name, &mut stored, &mut buf, &mut |_| Ok(()))
            })();
            if let Err(e) = outcome {
                return Err(stored.failure.take().map(|f| Error::storage(name, f)).unwrap_or(e));
            }
            Some(plain.digest())
        }
        (Some(_), None) => {
            pump(name, &mut stored, &mut buf, each).map_err(|e| stored.failure.take().map(|f| Error::storage(name, f)).unwrap_or(e))?;
            None
        }
        (None, _) => {
            pump(name, &mut stored, &mut buf, each).map_err(|e| stored.failure.take().map(|f| Error::storage(name, f)).unwrap_or(e))?;
            None
        }
    };
    let stored = stored.hashing.digest();
    let plain = match (&file.sealed, plain) {
        (None, _) => Some(stored.clone()),
        (Some(_), plain) => plain,
    };
    Ok(Found { stored, plain })
}

/// Size of the pieces a file is read in.
const PIECE: usize = 1 << 20;

/// Reads `reader` to its end through `each`.
fn pump(name: &str, reader: &mut dyn Read, buf: &mut [u8], each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
    loop {
        let n = match reader.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Content(format!("{name}: {}", crypt::read_error(&e)))),
        };
        each(&buf[..n])?;
    }
}

/// A blob's bytes as they come from storage, hashed; a storage error is kept to be told as
/// itself rather than as the I/O error `Read` must return.
struct Hashed<'a> {
    stream: BlobStream,
    cancelled: &'a dyn Fn() -> bool,
    hashing: Hashing,
    failure: Option<storage::Error>,
}

impl Read for Hashed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.stream.read(buf, self.cancelled) {
            Ok(n) => {
                self.hashing.add(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                let said = e.to_string();
                self.failure = Some(e);
                Err(std::io::Error::other(said))
            }
        }
    }
}
