//! The storage client against Azurite behind faultproxy (testkit), which injects failures by
//! rule: what may pass is retried (503, 500, 429 with its Retry-After, a reset connection), a
//! read that breaks mid-body resumes, a block list commit whose answer is lost is checked
//! rather than sent again, and a refusal is not retried. tests/run.sh starts Azurite and sets
//! AZURITE_*; `make build` builds faultproxy.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use storage::rest::PublicAccess;
use storage::retry::{set_policy, RetryPolicy};
use storage::runtime::{block_on, never};
use storage::{Account, BlobStore, BlobWriter, Compression, Credential, Error, RestClient, UploadOptions};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run these tests through `make test` (tests/run.sh), which starts Azurite"))
}

/// A faultproxy in front of Azurite with the given rules, stopped when dropped.
struct Proxy {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Proxy {
    fn start(rules: &[&str]) -> Proxy {
        let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/faultproxy");
        let upstream = format!("127.0.0.1:{}", env("AZURITE_PORT"));
        let mut command = Command::new(binary);
        let log = std::env::temp_dir().join(format!("faultproxy-{}-{}.log", std::process::id(), rules.join(",").len()));
        let _ = std::fs::remove_file(&log);
        command.args(["--listen", "0", "--upstream", &upstream, "--max-seconds", "300", "--log", log.to_str().unwrap()]);
        for rule in rules {
            command.args(["--rule", rule]);
        }
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{binary}: {e} (run `make build`)"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("faultproxy said {line:?}"));
        Proxy { child, port, log }
    }

    fn account(&self) -> Account {
        let endpoint = format!("http://127.0.0.1:{}/{}", self.port, env("AZURITE_ACCOUNT"));
        Account::new(&env("AZURITE_ACCOUNT"), &endpoint, Credential::SharedKey(env("AZURITE_KEY")))
    }

    /// How many requests of operation `op` (faultproxy's names) the proxy saw.
    fn requests_of(&self, op: &str) -> usize {
        std::fs::read_to_string(&self.log).unwrap().lines().filter(|l| l.split_whitespace().nth(3) == Some(op)).count()
    }

    /// The byte ranges of the reads the proxy saw, in order.
    fn ranges(&self) -> Vec<(u64, u64)> {
        let log = std::fs::read_to_string(&self.log).unwrap();
        let mut ranges: Vec<(u64, u64)> = log
            .lines()
            .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("bytes=")))
            .filter_map(|r| r.split_once('-').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))))
            .collect();
        ranges.sort();
        ranges
    }

    /// The proxy's counter `name`.
    fn count(&self, name: &str) -> u64 {
        let stats = std::process::Command::new("curl").args(["-s", &format!("http://127.0.0.1:{}/_faultproxy/stats", self.port)]).output().unwrap();
        let text = String::from_utf8(stats.stdout).unwrap();
        text.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{name}="))?.parse().ok()).unwrap_or_else(|| panic!("no {name} in {text}"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn direct() -> Account {
    Account::new(&env("AZURITE_ACCOUNT"), &env("AZURITE_ENDPOINT"), Credential::SharedKey(env("AZURITE_KEY")))
}

fn read_all(account: &Account, container: &str, path: &str) -> storage::Result<Vec<u8>> {
    let store = BlobStore::new(account, container, Duration::from_secs(10))?;
    store.open_stream(path, Compression::None, &never)?.read_to_end(usize::MAX, &never)
}

#[test]
fn failures_that_may_pass_are_retried_and_refusals_are_not() {
    set_policy(RetryPolicy { attempts: 5, total: Duration::from_secs(60) });
    let container = "storage-faults";
    let c = RestClient::new(&direct(), Duration::from_secs(10)).unwrap();
    block_on(c.delete_container(container), &never).unwrap();
    block_on(c.create_container(container, PublicAccess::None), &never).unwrap();
    let data: Vec<u8> = (0..2_500_000u32).flat_map(|i| format!("{i},row {i}\n").into_bytes()).collect();

    // Listing: 503 and 500 on the first tries, then a 429 asking for 2 s.
    let proxy = Proxy::start(&["status=503@op=list@first=1", "status=500@op=list@first=1", "throttle429=2@op=list@first=1"]);
    let through = RestClient::new(&proxy.account(), Duration::from_secs(10)).unwrap();
    let start = Instant::now();
    block_on(through.list_page(container, "", None, 10), &never).unwrap();
    assert!(start.elapsed() >= Duration::from_secs(2), "Retry-After not honoured: {:?}", start.elapsed());
    assert_eq!((proxy.count("status"), proxy.count("throttle429"), proxy.count("forwarded")), (2, 1, 1));
    drop(proxy);

    // An upload whose blocks meet 503s, a reset connection and a 429, and whose commit meets a
    // 503: the blob is whole.
    let proxy = Proxy::start(&[
        "status=503@op=block@every=3",
        "reset-request@op=block@first=1",
        "throttle429=1@op=block@first=1",
        "status=503@op=blocklist@first=1",
    ]);
    let options = UploadOptions { compression: Compression::None, content_type: "text/csv".into(), content_encoding: None, concurrency: 2, timeout: Duration::from_secs(10), first_block_size: storage::blocks::FIRST_BLOCK_SIZE };
    let mut w = BlobWriter::start(&proxy.account(), container, "upload.csv", options.clone()).unwrap();
    w.write(&data, &never).unwrap();
    w.finish(&never).unwrap().commit(&never).unwrap();
    assert_eq!(read_all(&direct(), container, "upload.csv").unwrap(), data);
    assert!(proxy.count("status") >= 2 && proxy.count("reset-request") == 1 && proxy.count("throttle429") == 1);
    drop(proxy);

    // A commit the service made but whose answer was lost: checked, not sent again.
    let proxy = Proxy::start(&["drop-response@op=blocklist@first=1"]);
    let mut w = BlobWriter::start(&proxy.account(), container, "committed.csv", options.clone()).unwrap();
    w.write(&data, &never).unwrap();
    w.finish(&never).unwrap().commit(&never).unwrap();
    assert_eq!(read_all(&direct(), container, "committed.csv").unwrap(), data);
    assert_eq!(proxy.count("drop-response"), 1);
    assert_eq!(proxy.requests_of("blocklist"), 1, "the commit was sent again");
    drop(proxy);

    // A read cut in the middle of the body, twice, resumes from the first byte it lacks and
    // returns every byte once: two ranges start inside a chunk and end where their chunk ends.
    let proxy = Proxy::start(&["reset@op=get@first=2"]);
    assert_eq!(read_all(&proxy.account(), container, "upload.csv").unwrap(), data);
    assert_eq!(proxy.count("reset"), 2);
    const CHUNK: u64 = 2 << 20;
    let ranges = proxy.ranges();
    let resumed: Vec<_> = ranges.iter().filter(|(start, _)| start % CHUNK != 0).collect();
    assert_eq!(resumed.len(), 2, "{ranges:?}");
    for (start, end) in resumed {
        assert!(ranges.contains(&(start / CHUNK * CHUNK, *end)) && (end + 1) % CHUNK == 0 && start % CHUNK > 0, "{ranges:?}");
    }
    drop(proxy);

    // A refusal is final: one request.
    let proxy = Proxy::start(&["status=403@op=list"]);
    let through = RestClient::new(&proxy.account(), Duration::from_secs(10)).unwrap();
    let refused = block_on(through.list_page(container, "", None, 10), &never);
    assert!(matches!(refused, Err(Error::PermissionDenied { .. })), "{:?}", refused.err());
    assert_eq!(proxy.count("requests"), 1);
    drop(proxy);

    // Limits hold: with 2 attempts, two 503s end it.
    set_policy(RetryPolicy { attempts: 2, total: Duration::from_secs(60) });
    let proxy = Proxy::start(&["status=503@op=list"]);
    let through = RestClient::new(&proxy.account(), Duration::from_secs(10)).unwrap();
    let failed = block_on(through.list_page(container, "", None, 10), &never);
    assert!(matches!(failed, Err(Error::Service { status: 503, .. })), "{:?}", failed.err());
    assert_eq!(proxy.count("requests"), 2);
    drop(proxy);

    set_policy(RetryPolicy::default());
    block_on(c.delete_container(container), &never).unwrap();
}
