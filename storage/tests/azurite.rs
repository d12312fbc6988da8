//! The storage client against a real Azurite. tests/run.sh starts it and sets AZURITE_* and
//! STALL_ENDPOINT (a loopback server that accepts connections and never answers).

use std::time::{Duration, Instant};

use storage::runtime::{block_on, never};
use storage::rest::{Properties, PublicAccess};
use storage::{Account, BlobStore, Credential, Error, RestClient};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests through `make test` (tests/run.sh), which starts Azurite"))
}

fn account(credential: Credential) -> Account {
    Account::new(&env("AZURITE_ACCOUNT"), &env("AZURITE_ENDPOINT"), credential)
}

fn client(credential: Credential) -> RestClient {
    RestClient::new(&account(credential), Duration::from_secs(10)).unwrap()
}

fn key() -> Credential {
    Credential::SharedKey(env("AZURITE_KEY"))
}

#[test]
fn lists_page_by_page_with_all_properties() {
    let c = client(key());
    let container = "storage-paging";
    block_on(c.create_container(container, PublicAccess::None), &never).unwrap();
    let names = ["a.csv", "b/c d+e.txt", "b/é.txt", "z"];
    for name in names {
        let put = c.put_blob(container, name, format!("data of {name}").into(), &Properties { content_type: Some("text/plain"), content_encoding: Some("identity") });
        block_on(put, &never).unwrap();
    }
    let mut listing = storage::Listing::new(client(key()), container, "", never).page_size(3);
    let seen: Vec<_> = listing.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(listing.pages, 2);
    // A page that cannot be read ends the walk with its error, once.
    let mut missing = storage::Listing::new(client(key()), "no-such-container", "", never);
    assert!(matches!(missing.next(), Some(Err(Error::ContainerNotFound { .. }))));
    assert!(missing.next().is_none());
    assert_eq!(seen.iter().map(|b| b.path.as_str()).collect::<Vec<_>>(), names);
    let first = &seen[0];
    assert_eq!(first.bytes, "data of a.csv".len() as i64);
    assert_eq!(first.content_type.as_deref(), Some("text/plain"));
    assert_eq!(first.content_encoding.as_deref(), Some("identity"));
    assert_eq!(first.content_hash.as_ref().map(String::len), Some(32));
    assert!(first.last_modified.is_some() && first.etag.as_ref().is_some_and(|e| e.starts_with("0x")));

    let prefixed = block_on(c.list_page(container, "b/", None, 5000), &never).unwrap();
    assert_eq!(prefixed.entries.len(), 2);

    // What was written reads back.
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    assert_eq!(block_on(store.get("b/é.txt"), &never).unwrap(), "data of b/é.txt".as_bytes());
    assert!(matches!(block_on(store.get("missing"), &never), Err(Error::BlobNotFound { ref container, ref blob }) if container == "storage-paging" && blob == "missing"));
    block_on(c.delete_container(container), &never).unwrap();
}

#[test]
fn refusals_are_told_apart() {
    let c = client(key());
    assert!(matches!(block_on(c.list_page("no-such-container", "", None, 10), &never), Err(Error::ContainerNotFound { .. })));

    block_on(c.create_container("storage-private", PublicAccess::None), &never).unwrap();
    block_on(c.create_container("storage-public", PublicAccess::Container), &never).unwrap();
    let anonymous = client(Credential::Anonymous);
    let private = block_on(anonymous.list_page("storage-private", "", None, 10), &never);
    // Private, or public at the blob level only: an anonymous listing is refused as such.
    assert!(matches!(private, Err(Error::AnonymousListing { ref container }) if container == "storage-private"));
    assert!(block_on(anonymous.list_page("storage-public", "", None, 10), &never).is_ok());

    let wrong = client(Credential::SharedKey("d3Jvbmcga2V5".into()));
    match block_on(wrong.list_page("storage-private", "", None, 10), &never) {
        Err(Error::Unauthenticated { .. }) => {}
        other => panic!("expected Unauthenticated, got {:?}", other.map(|p| p.entries.len())),
    }
}

#[test]
fn unreachable_endpoints_fail_in_bounded_time_and_cancel() {
    let closed_account = Account::new("devstoreaccount1", "http://127.0.0.1:9/devstoreaccount1", key());
    let closed = RestClient::new(&closed_account, Duration::from_secs(5)).unwrap();
    assert!(matches!(block_on(closed.list_page("c1c", "", None, 1), &never), Err(Error::Connect { .. })));

    let stall_account = Account::new("devstoreaccount1", &env("STALL_ENDPOINT"), key());
    let stalled = RestClient::new(&stall_account, Duration::from_secs(1)).unwrap();
    // A timeout is tried again: two attempts of 1 s and a wait.
    storage::retry::set_policy(storage::retry::RetryPolicy { attempts: 2, total: Duration::from_secs(10) });
    let start = Instant::now();
    assert!(matches!(block_on(stalled.list_page("c1c", "", None, 1), &never), Err(Error::Timeout { .. })));
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());

    let patient = RestClient::new(&stall_account, Duration::from_secs(600)).unwrap();
    let start = Instant::now();
    let cancelled = block_on(patient.list_page("c1c", "", None, 1), &|| start.elapsed() > Duration::from_millis(300));
    assert!(matches!(cancelled, Err(Error::Cancelled)));
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
}

fn stream_all(store: &BlobStore, path: &str, compression: storage::Compression) -> Result<Vec<u8>, Error> {
    store.open_stream(path, compression, &never)?.read_to_end(usize::MAX, &never)
}

/// A client of the emulator's account with `container` created.
fn with_container(container: &str) -> RestClient {
    let c = client(key());
    block_on(c.create_container(container, PublicAccess::None), &never).unwrap();
    c
}

#[test]
fn streams_plain_gzip_and_zstd_and_rejects_damage() {
    use std::io::Write;
    use storage::Compression;
    let container = "storage-stream";
    let c = with_container(container);
    // Larger than several download chunks, so ranged reads run concurrently.
    let text: Vec<u8> = (0..400_000).flat_map(|i| format!("{i},row number {i}\n").into_bytes()).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let zs = zstd::encode_all(&text[..], 1).unwrap();
    for (name, data) in [("t.csv", &text), ("t.csv.gz", &gz), ("t.csv.zst", &zs)] {
        block_on(c.put_blob(container, name, data.clone().into(), &Properties::default()), &never).unwrap();
    }
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    // A connection pooled on this thread does not stall the stream's own threads.
    assert_eq!(block_on(store.get("t.csv"), &never).unwrap().len(), text.len());
    assert_eq!(stream_all(&store, "t.csv", Compression::None).unwrap(), text);
    assert_eq!(stream_all(&store, "t.csv.gz", Compression::Gzip).unwrap(), text);
    assert_eq!(stream_all(&store, "t.csv.zst", Compression::Zstd).unwrap(), text);
    // Reading compressed bytes as they are gives them back unchanged.
    assert_eq!(stream_all(&store, "t.csv.gz", Compression::None).unwrap(), gz);

    block_on(c.put_blob(container, "cut.gz", gz[..gz.len() / 2].to_vec().into(), &Properties::default()), &never).unwrap();
    match stream_all(&store, "cut.gz", Compression::Gzip) {
        Err(Error::Decompress { compression: "gzip", cause }) => assert!(cause.contains("truncated"), "{cause}"),
        other => panic!("expected a decompression error, got {:?}", other.map(|v| v.len())),
    }
    assert!(matches!(stream_all(&store, "t.csv", Compression::Gzip), Err(Error::Decompress { .. })));
    assert!(matches!(stream_all(&store, "missing.csv", Compression::None), Err(Error::BlobNotFound { .. })));
    let other = BlobStore::new(&account(key()), "no-such-container", Duration::from_secs(10)).unwrap();
    assert!(matches!(stream_all(&other, "t.csv", Compression::None), Err(Error::ContainerNotFound { .. })));

    // Dropping a stream early stops its producer; a later stream still works.
    let mut early = store.open_stream("t.csv.gz", Compression::Gzip, &never).unwrap();
    let mut buf = [0u8; 10];
    assert_eq!(early.read(&mut buf, &never).unwrap(), 10);
    drop(early);
    assert_eq!(stream_all(&store, "t.csv", Compression::None).unwrap().len(), text.len());
    block_on(c.delete_container(container), &never).unwrap();
}

#[test]
fn one_download_thread_serves_many_streams_at_once() {
    use std::io::Write;
    use storage::Compression;
    let container = "storage-downloads";
    let c = with_container(container);
    // Twelve blobs, plain and gzip, some larger than a download chunk, some empty.
    let mut expected = Vec::new();
    for k in 0..12usize {
        let rows = [0, 3, 400_000, 20][k % 4];
        let text: Vec<u8> = (0..rows).flat_map(|i| format!("{k},{i}\n").into_bytes()).collect();
        let (name, stored, compression) = if k % 3 == 0 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&text).unwrap();
            (format!("b{k}.csv.gz"), gz.finish().unwrap(), Compression::Gzip)
        } else {
            (format!("b{k}.csv"), text.clone(), Compression::None)
        };
        block_on(c.put_blob(container, &name, stored.into(), &Properties::default()), &never).unwrap();
        expected.push((name, compression, text));
    }
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    let downloads = store.downloads().unwrap();
    // All open at once, read in reverse order, the second one dropped half read: the rest
    // still arrive whole.
    let mut streams: Vec<_> = expected
        .iter()
        .map(|(name, compression, _)| downloads.stream(&block_on(store.open(name), &never).unwrap(), *compression).unwrap())
        .collect();
    let mut buf = [0u8; 5];
    streams[1].read(&mut buf, &never).unwrap();
    drop(streams.remove(1));
    let mut expected: Vec<_> = expected.into_iter().enumerate().filter(|(k, _)| *k != 1).map(|(_, e)| e).collect();
    drop(downloads);
    while let (Some(mut stream), Some((name, _, text))) = (streams.pop(), expected.pop()) {
        assert_eq!(stream.read_to_end(usize::MAX, &never).unwrap(), text, "{name}");
    }
    block_on(c.delete_container(container), &never).unwrap();
}

#[test]
fn reads_are_pinned_to_the_version_they_started_with() {
    use storage::{BlobVersion, Compression};
    let container = "storage-pinned";
    let c = with_container(container);
    let old: Vec<u8> = (0..300_000).flat_map(|i| format!("{i},old\n").into_bytes()).collect();
    let put = |data: &[u8]| block_on(c.put_blob(container, "v.csv", data.to_vec().into(), &Properties::default()), &never).unwrap();
    put(&old);
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    let opened = block_on(store.open("v.csv"), &never).unwrap();
    let page = block_on(c.list_page(container, "v.csv", None, 10), &never).unwrap();
    let listed = BlobVersion::from_entry(&page.entries[0]).unwrap();
    assert_eq!((listed.size(), listed.etag()), (opened.size(), opened.etag()));
    assert_eq!(block_on(store.read(&opened, 0..10), &never).unwrap(), &old[..10]);

    // Replaced: every read of the old version fails, ranged or streamed, whatever gave it.
    put(b"new,content\n");
    for version in [&opened, &listed] {
        assert!(matches!(block_on(store.read(version, 10..20), &never), Err(Error::BlobChanged { ref blob }) if blob == "v.csv"));
        let read = store.stream(version, Compression::None).unwrap().read_to_end(usize::MAX, &never).map(|v| v.len());
        assert!(matches!(read, Err(Error::BlobChanged { .. })), "{read:?}");
    }
    // A new version reads the new content.
    assert_eq!(block_on(store.get("v.csv"), &never).unwrap(), b"new,content\n");
    block_on(c.delete_container(container), &never).unwrap();
}

fn upload_options(compression: storage::Compression, concurrency: usize) -> storage::UploadOptions {
    storage::UploadOptions { compression, content_type: "text/csv".into(), content_encoding: compression.content_encoding().map(str::to_string), concurrency, timeout: Duration::from_secs(10), first_block_size: storage::blocks::FIRST_BLOCK_SIZE }
}

#[test]
fn uploads_in_blocks_and_commits_only_when_told() {
    use storage::{BlobWriter, Compression};
    let c = client(key());
    let container = "storage-upload";
    block_on(c.delete_container(container), &never).unwrap();
    block_on(c.create_container(container, PublicAccess::None), &never).unwrap();
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    // Several whole blocks and a partial one, written in uneven pieces.
    let data: Vec<u8> = (0..1_500_000u32).flat_map(|i| format!("{i},row {i}\n").into_bytes()).collect();
    assert!(data.len() as u64 > 3 * storage::blocks::FIRST_BLOCK_SIZE);
    for (compression, name) in [(Compression::None, "big.csv"), (Compression::Gzip, "big.csv.gz"), (Compression::Zstd, "big.csv.zst")] {
        let mut w = BlobWriter::start(&account(key()), container, name, upload_options(compression, 3)).unwrap();
        for piece in data.chunks(777_777) {
            w.write(piece, &never).unwrap();
        }
        let staged = w.finish(&never).unwrap();
        assert_eq!(staged.summary.written, data.len() as u64);
        // Staged is not visible.
        let hidden = stream_all(&store, name, compression);
        assert!(matches!(hidden, Err(Error::BlobNotFound { .. })), "{name}: {:?}", hidden.map(|v| v.len()));
        let summary = staged.commit(&never).unwrap();
        assert_eq!(stream_all(&store, name, compression).unwrap(), data, "{name}");
        let entry = block_on(c.list_page(container, name, None, 10), &never).unwrap().entries.remove(0);
        assert_eq!(entry.bytes as u64, summary.stored);
        assert_eq!(entry.content_type.as_deref(), Some("text/csv"));
        assert_eq!(entry.content_encoding.as_deref(), compression.content_encoding());
        if compression == Compression::None {
            assert_eq!(summary.blocks as u64, (data.len() as u64).div_ceil(storage::blocks::FIRST_BLOCK_SIZE));
        }
    }

    // An upload dropped before or after staging leaves the existing blob as it was.
    for commit_stage in [false, true] {
        let mut w = BlobWriter::start(&account(key()), container, "big.csv", upload_options(Compression::None, 2)).unwrap();
        w.write(&b"replacement\n".repeat(2_000_000), &never).unwrap();
        if commit_stage {
            drop(w.finish(&never).unwrap());
        } else {
            drop(w);
        }
        assert_eq!(stream_all(&store, "big.csv", Compression::None).unwrap(), data);
    }

    // Nothing written: an empty blob, when committed.
    let w = BlobWriter::start(&account(key()), container, "empty.csv", upload_options(Compression::None, 2)).unwrap();
    w.finish(&never).unwrap().commit(&never).unwrap();
    assert_eq!(stream_all(&store, "empty.csv", Compression::None).unwrap(), b"");

    // A missing container fails the write or the finish, with the service's reason.
    let mut w = BlobWriter::start(&account(key()), "no-such-container", "x.csv", upload_options(Compression::None, 2)).unwrap();
    let outcome = w.write(&data, &never).and_then(|_| w.finish(&never).map(|_| ()));
    assert!(matches!(outcome, Err(Error::ContainerNotFound { .. })), "{:?}", outcome.err());
    block_on(c.delete_container(container), &never).unwrap();
}

#[test]
fn uploads_to_a_dead_endpoint_fail_in_bounded_time_and_cancel() {
    use storage::{BlobWriter, Compression};
    let stalled = Account::new(&env("AZURITE_ACCOUNT"), &env("STALL_ENDPOINT"), key());
    let mut options = upload_options(Compression::None, 2);
    options.timeout = Duration::from_secs(1);
    storage::retry::set_policy(storage::retry::RetryPolicy { attempts: 2, total: Duration::from_secs(10) });
    let start = Instant::now();
    let mut w = BlobWriter::start(&stalled, "stalled", "x.csv", options.clone()).unwrap();
    let outcome = w.write(&vec![b'x'; 9 << 20], &never).and_then(|_| w.finish(&never).map(|_| ()));
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{:?}", outcome.err());
    // A stalled block fails once it has made no progress for the timeout.
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());

    options.timeout = Duration::from_secs(60);
    let start = Instant::now();
    let w = BlobWriter::start(&stalled, "stalled", "x.csv", options).unwrap();
    // Nothing written: no block to stage, and the commit is what waits.
    let outcome = w.finish(&never).unwrap().commit(&|| start.elapsed() > Duration::from_millis(300));
    assert!(matches!(outcome, Err(Error::Cancelled)));
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
}
