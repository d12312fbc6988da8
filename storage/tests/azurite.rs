//! The storage client against a real Azurite. tests/run.sh starts it and sets AZURITE_* and
//! STALL_ENDPOINT (a loopback server that accepts connections and never answers).

use std::time::{Duration, Instant};

use storage::runtime::{block_on, never};
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
    block_on(c.create_container(container, false), &never).unwrap();
    let names = ["a.csv", "b/c d+e.txt", "b/é.txt", "z"];
    for name in names {
        let put = c.put_blob(container, name, format!("data of {name}").into(), Some("text/plain"), Some("identity"));
        block_on(put, &never).unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    let mut pages = 0;
    loop {
        let page = block_on(c.list_page(container, "", marker.as_deref(), 3), &never).unwrap();
        pages += 1;
        seen.extend(page.entries);
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.iter().map(|b| b.path.as_str()).collect::<Vec<_>>(), names);
    let first = &seen[0];
    assert_eq!(first.bytes, "data of a.csv".len() as i64);
    assert_eq!(first.content_type.as_deref(), Some("text/plain"));
    assert_eq!(first.content_encoding.as_deref(), Some("identity"));
    assert_eq!(first.content_hash.as_ref().map(String::len), Some(32));
    assert!(first.last_modified.is_some() && first.etag.as_ref().is_some_and(|e| e.starts_with("0x")));

    let prefixed = block_on(c.list_page(container, "b/", None, 5000), &never).unwrap();
    assert_eq!(prefixed.entries.len(), 2);

    // What was written reads back through OpenDAL.
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    assert_eq!(block_on(store.get("b/é.txt"), &never).unwrap(), "data of b/é.txt".as_bytes());
    assert!(matches!(block_on(store.get("missing"), &never), Err(Error::BlobNotFound)));
    block_on(c.delete_container(container), &never).unwrap();
}

#[test]
fn refusals_are_told_apart() {
    let c = client(key());
    assert!(matches!(block_on(c.list_page("no-such-container", "", None, 10), &never), Err(Error::ContainerNotFound)));

    block_on(c.create_container("storage-private", false), &never).unwrap();
    block_on(c.create_container("storage-public", true), &never).unwrap();
    let anonymous = client(Credential::Anonymous);
    let private = block_on(anonymous.list_page("storage-private", "", None, 10), &never);
    assert!(matches!(private, Err(Error::Unauthenticated { .. })));
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
    let mut stream = store.stream(path, compression, &never)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = stream.read(&mut buf, &never)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn streams_plain_gzip_and_zstd_and_rejects_damage() {
    use std::io::Write;
    use storage::Compression;
    let c = client(key());
    let container = "storage-stream";
    block_on(c.create_container(container, false), &never).unwrap();
    // Larger than several download chunks, so ranged reads run concurrently.
    let text: Vec<u8> = (0..400_000).flat_map(|i| format!("{i},row number {i}\n").into_bytes()).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let zs = zstd::encode_all(&text[..], 1).unwrap();
    for (name, data) in [("t.csv", &text), ("t.csv.gz", &gz), ("t.csv.zst", &zs)] {
        block_on(c.put_blob(container, name, data.clone().into(), None, None), &never).unwrap();
    }
    let store = BlobStore::new(&account(key()), container, Duration::from_secs(10)).unwrap();
    // A connection pooled on this thread does not stall the stream's own threads.
    assert_eq!(block_on(store.get("t.csv"), &never).unwrap().len(), text.len());
    assert_eq!(stream_all(&store, "t.csv", Compression::None).unwrap(), text);
    assert_eq!(stream_all(&store, "t.csv.gz", Compression::Gzip).unwrap(), text);
    assert_eq!(stream_all(&store, "t.csv.zst", Compression::Zstd).unwrap(), text);
    // Reading compressed bytes as they are gives them back unchanged.
    assert_eq!(stream_all(&store, "t.csv.gz", Compression::None).unwrap(), gz);

    block_on(c.put_blob(container, "cut.gz", gz[..gz.len() / 2].to_vec().into(), None, None), &never).unwrap();
    match stream_all(&store, "cut.gz", Compression::Gzip) {
        Err(Error::Decompress { compression: "gzip", cause }) => assert!(cause.contains("truncated"), "{cause}"),
        other => panic!("expected a decompression error, got {:?}", other.map(|v| v.len())),
    }
    assert!(matches!(stream_all(&store, "t.csv", Compression::Gzip), Err(Error::Decompress { .. })));
    assert!(matches!(stream_all(&store, "missing.csv", Compression::None), Err(Error::BlobNotFound)));
    let other = BlobStore::new(&account(key()), "no-such-container", Duration::from_secs(10)).unwrap();
    assert!(matches!(stream_all(&other, "t.csv", Compression::None), Err(Error::ContainerNotFound)));

    // Dropping a stream early stops its producer; a later stream still works.
    let mut early = store.stream("t.csv.gz", Compression::Gzip, &never).unwrap();
    let mut buf = [0u8; 10];
    assert_eq!(early.read(&mut buf, &never).unwrap(), 10);
    drop(early);
    assert_eq!(stream_all(&store, "t.csv", Compression::None).unwrap().len(), text.len());
    block_on(c.delete_container(container), &never).unwrap();
}
