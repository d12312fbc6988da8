//! Verified reads of a vault's points: which point a name means, whether a point is
//! complete and every file matches its manifest (size and SHA-256), and reading a file
//! through a hash so that what was used is what the manifest says.

use sha2::{Digest, Sha256};
use storage::{BlobStore, Compression};

use super::points::{self, Manifest, MARKER};
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

/// Checks the point; returns its manifest and the problems found (none: valid).
pub fn check_point(ctx: &Context, server: &str, point: &str) -> Result<(Option<Manifest>, Vec<String>), Error> {
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
        problems.extend(check_file(&store, &format!("{folder}/{}", file.name), (file.bytes, &file.sha256), ctx.cancelled(), &|_| ()));
    }
    Ok((Some(manifest), problems))
}

/// The problem with blob `name`, if its size and SHA-256 are not `expected`; `advanced`
/// hears of the bytes read.
pub fn check_file(store: &BlobStore, name: &str, (bytes, sha256): (u64, &str), cancelled: &dyn Fn() -> bool, advanced: &dyn Fn(u64)) -> Option<String> {
    match read_hashed(store, name, cancelled, &mut |piece| {
        advanced(piece.len() as u64);
        Ok(())
    }) {
        Ok(read) => mismatch(name, read, (bytes, sha256)),
        Err(e) => Some(e.to_string()),
    }
}

/// The problem with blob `name`, read as `(bytes, sha256)`, if its manifest says otherwise.
pub fn mismatch(name: &str, (n, sha): (u64, String), (bytes, sha256): (u64, &str)) -> Option<String> {
    if n != bytes {
        Some(format!("{name}: {n} bytes, the manifest says {bytes}"))
    } else if sha != sha256 {
        Some(format!("{name}: SHA-256 {sha} does not match the manifest's {sha256}"))
    } else {
        None
    }
}

/// Streams a blob through `each`; returns its size, or an error if a manifest says it must
/// have another size or SHA-256 (`expected`), found once `each` has seen it all.
pub fn read_verified(store: &BlobStore, name: &str, expected: Option<(u64, &str)>, cancelled: &dyn Fn() -> bool, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<u64, Error> {
    let (bytes, sha256) = read_hashed(store, name, cancelled, each)?;
    match expected {
        Some((b, s)) if b != bytes || s != sha256 => Err(Error::Changed { name: name.to_string(), bytes, sha256, expected_bytes: b, expected_sha256: s.to_string() }),
        _ => Ok(bytes),
    }
}

/// Streams a blob through `each` piece by piece; returns its size and SHA-256.
pub fn read_hashed(store: &BlobStore, name: &str, cancelled: &dyn Fn() -> bool, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<(u64, String), Error> {
    let mut stream = store.open_stream(name, Compression::None, cancelled).map_err(|e| Error::storage(name, e))?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = stream.read(&mut buf, cancelled).map_err(|e| Error::storage(name, e))?;
        if n == 0 {
            return Ok((bytes, format!("{:x}", hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
        each(&buf[..n])?;
    }
}
