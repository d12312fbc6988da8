//! faultproxy: a fault-injecting HTTP/1.1 reverse proxy for tests.
//!
//! It sits between a storage client and the Azurite emulator on loopback and forwards every
//! request unchanged (method, path and query, headers including Host, body), streaming the
//! answer back, unless a rule injects a fault: an error status, a 429 with Retry-After, a
//! connection reset mid-body or before the request is forwarded, a stall, or a slow body. This
//! lets tests check retries, timeouts and error handling against a real emulator.
//!
//!   faultproxy --listen <PORT> --upstream <127.0.0.1|localhost:PORT> [--max-seconds N]
//!              [--max-requests N] [--seed S] [--log FILE] [--rule RULE]...
//!
//! RULE is `<fault>@<selector>[@<selector>...]`; all selectors must match, the first matching
//! rule applies, at most one fault per request.
//!   faults:    status=<code> | throttle429=<secs> | reset | reset-request | drop-response
//!              | stall=<secs> | throttle=<bytes per sec>
//!   selectors: every=<N> | first=<N> | percent=<P> | op=<get|head|list|block|blocklist|putblob|
//!              delete|container|other> | method=<METHOD> | range
//! `every` and `first` count the requests that matched the rule's other selectors (and that no
//! earlier rule took); `percent` draws from an RNG seeded with --seed. `reset` forwards, sends
//! the head and half the body, then closes with a TCP RST (a bodiless answer: plain close after
//! the head); `reset-request` sends the RST at once, upstream never sees the request;
//! `drop-response` forwards, so the upstream does the work, then closes without answering; a stalled
//! request whose client gives up during the stall is dropped, not forwarded.
//!
//! `GET /_faultproxy/stats` answers counters (never forwarded, never counted); in them
//! `forwarded` counts requests forwarded without any fault, so `requests` is the sum of the rest.
//! The log (--log) has one line per request and never holds query values or header values,
//! which may carry SAS signatures or keys.

use std::fs::File;
use std::io::Write;
use std::net::TcpStream as StdTcpStream;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::Parser;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::{rngs::StdRng, Rng, SeedableRng};
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

#[derive(Parser)]
struct Cli {
    /// Port to listen on, on 127.0.0.1 (0: any free port).
    #[arg(long)]
    listen: u16,
    /// The emulator, HOST:PORT with HOST 127.0.0.1 or localhost.
    #[arg(long)]
    upstream: String,
    /// Exit by itself after this many seconds.
    #[arg(long, default_value_t = 1800)]
    max_seconds: u64,
    /// Exit once this many requests have been answered.
    #[arg(long)]
    max_requests: Option<u64>,
    /// Seed of the RNG behind `percent=` selectors.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Append one line per request to this file.
    #[arg(long)]
    log: Option<String>,
    /// A fault rule, `<fault>@<selector>...`; may be repeated.
    #[arg(long = "rule")]
    rules: Vec<String>,
}

#[derive(Clone, Copy)]
enum Fault {
    Status(u16),
    Throttle429(u64),
    Reset,
    ResetRequest,
    DropResponse,
    Stall(f64),
    Throttle(u64),
}

enum Selector {
    Every(u64),
    First(u64),
    Percent(f64),
    Op(String),
    Method(String),
    Range,
}

struct Rule {
    /// The fault as written, for the log.
    label: String,
    fault: Fault,
    selectors: Vec<Selector>,
}

const OPS: &[&str] = &["get", "head", "list", "block", "blocklist", "putblob", "delete", "container", "other"];

fn parse_rule(text: &str) -> Result<Rule, String> {
    let mut parts = text.split('@');
    let label = parts.next().unwrap_or_default().to_string();
    let (name, value) = label.split_once('=').unwrap_or((&label, ""));
    let bad = || format!("bad fault in rule {text:?}");
    let fault = match name {
        "status" => Fault::Status(value.parse().ok().filter(|c| (200..600).contains(c)).ok_or_else(bad)?),
        "throttle429" => Fault::Throttle429(value.parse().map_err(|_| bad())?),
        "reset" if value.is_empty() => Fault::Reset,
        "reset-request" if value.is_empty() => Fault::ResetRequest,
        "drop-response" if value.is_empty() => Fault::DropResponse,
        "stall" => Fault::Stall(value.parse().ok().filter(|s: &f64| *s >= 0.0).ok_or_else(bad)?),
        "throttle" => Fault::Throttle(value.parse().ok().filter(|r| *r > 0).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    let mut selectors = Vec::new();
    for sel in parts {
        let (name, value) = sel.split_once('=').unwrap_or((sel, ""));
        let bad = || format!("bad selector {sel:?} in rule {text:?}");
        selectors.push(match name {
            "every" => Selector::Every(value.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?),
            "first" => Selector::First(value.parse().map_err(|_| bad())?),
            "percent" => Selector::Percent(value.parse().ok().filter(|p| (0.0..=100.0).contains(p)).ok_or_else(bad)?),
            "op" if OPS.contains(&value) => Selector::Op(value.to_string()),
            "method" if !value.is_empty() => Selector::Method(value.to_ascii_uppercase()),
            "range" if value.is_empty() => Selector::Range,
            _ => return Err(bad()),
        });
    }
    Ok(Rule { label, fault, selectors })
}

/// The Azure REST operation of a request, as named by the `op=` selector.
fn operation(method: &Method, query_keys: &[&str], query: &str, headers: &HeaderMap) -> &'static str {
    let has = |key: &str| query_keys.contains(&key);
    let is = |pair: &str| query.split('&').any(|p| p == pair);
    if is("restype=container") {
        return if *method == Method::GET && is("comp=list") { "list" } else { "container" };
    }
    match *method {
        Method::HEAD => "head",
        Method::DELETE => "delete",
        Method::GET if !has("comp") && !has("restype") => "get",
        Method::PUT if is("comp=block") => "block",
        Method::PUT if is("comp=blocklist") => "blocklist",
        Method::PUT if !has("comp") && headers.contains_key("x-ms-blob-type") => "putblob",
        _ => "other",
    }
}

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    forwarded: AtomicU64,
    status: AtomicU64,
    throttle429: AtomicU64,
    reset: AtomicU64,
    reset_request: AtomicU64,
    drop_response: AtomicU64,
    stall: AtomicU64,
    throttle: AtomicU64,
}

struct App {
    upstream: String,
    client: Client<HttpConnector, Incoming>,
    rules: Vec<Rule>,
    /// RNG and per-rule counters, under one lock so that choices are reproducible per order.
    choice: Mutex<(StdRng, Vec<u64>)>,
    stats: Stats,
    log: Option<Mutex<File>>,
    max_requests: Option<u64>,
    /// Requests whose response is done (body finished or dropped), for --max-requests.
    completed: AtomicU64,
}

impl App {
    /// The first rule that matches, counting the request for `every`/`first` on the way.
    fn choose(&self, method: &Method, op: &str, headers: &HeaderMap) -> Option<&Rule> {
        let mut guard = self.choice.lock().unwrap();
        let (rng, counts) = &mut *guard;
        let ranged = headers.contains_key("range") || headers.contains_key("x-ms-range");
        for (i, rule) in self.rules.iter().enumerate() {
            let statics = rule.selectors.iter().all(|s| match s {
                Selector::Op(o) => o == op,
                Selector::Method(m) => m == method.as_str(),
                Selector::Range => ranged,
                _ => true,
            });
            if !statics {
                continue;
            }
            // Drawn only for requests that got this far, so the draws depend on the traffic alone.
            let drawn = rule.selectors.iter().all(|s| match s {
                Selector::Percent(p) => rng.gen::<f64>() * 100.0 < *p,
                _ => true,
            });
            if !drawn {
                continue;
            }
            counts[i] += 1;
            let n = counts[i];
            if rule.selectors.iter().all(|s| match s {
                Selector::Every(k) => n % k == 0,
                Selector::First(k) => n <= *k,
                _ => true,
            }) {
                return Some(rule);
            }
        }
        None
    }

    fn stats_line(&self) -> String {
        let s = &self.stats;
        format!(
            "requests={} forwarded={} status={} throttle429={} reset={} reset-request={} drop-response={} stall={} throttle={}\n",
            s.requests.load(SeqCst),
            s.forwarded.load(SeqCst),
            s.status.load(SeqCst),
            s.throttle429.load(SeqCst),
            s.reset.load(SeqCst),
            s.reset_request.load(SeqCst),
            s.drop_response.load(SeqCst),
            s.stall.load(SeqCst),
            s.throttle.load(SeqCst),
        )
    }
}

/// The log line of one request, written when dropped: so also for a request whose client gave
/// up first (during a stall, say), with status "-".
struct LogLine {
    app: Arc<App>,
    /// Everything before the status.
    text: String,
    status: Option<u16>,
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let Some(file) = &self.app.log else { return };
        let status = self.status.map_or("-".to_string(), |s| s.to_string());
        let mut file = file.lock().unwrap();
        let _ = writeln!(file, "{} {status}", self.text);
        let _ = file.flush();
    }
}

/// Counts a request as answered when dropped (with its response body); ends the process once
/// --max-requests have been answered, after a moment for the last bytes to leave.
struct Done(Arc<App>);

impl Drop for Done {
    fn drop(&mut self) {
        let done = self.0.completed.fetch_add(1, SeqCst) + 1;
        if self.0.max_requests.is_some_and(|max| done >= max) {
            tokio::spawn(async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                std::process::exit(0);
            });
        }
    }
}

/// One client connection. `dup` is a second descriptor of its socket, kept so that a fault can
/// set SO_LINGER 0 on it: the close that follows is then a TCP RST, not an orderly FIN.
struct Conn {
    dup: Mutex<Option<StdTcpStream>>,
}

impl Conn {
    /// Arms the RST; hyper's own close of the connection (after an error) then sends it.
    fn abort(&self) {
        if let Some(dup) = self.dup.lock().unwrap().take() {
            let _ = socket2::SockRef::from(&dup).set_linger(Some(Duration::ZERO));
        }
    }
}

/// How a response body is passed on: paced to a rate, and/or cut short with a reset.
struct Shaper {
    inner: Body,
    pending: Bytes,
    rate: Option<u64>,
    started: Instant,
    sent: u64,
    reset: bool,
    /// Where the reset comes; `None` until known when the length is not: after the first chunk.
    reset_at: Option<u64>,
    conn: Arc<Conn>,
    /// Dropped with the body: the request counts as answered then.
    _done: Done,
}

fn shaped(shaper: Shaper) -> Body {
    // The state is `None` once the body failed, which ends the stream.
    let stream = futures::stream::unfold(Some(shaper), |st| async move {
        let mut st = st?;
        loop {
            if st.pending.is_empty() {
                match st.inner.frame().await? {
                    Ok(frame) => match frame.into_data() {
                        Ok(data) => st.pending = data,
                        Err(trailers) => return Some((Ok(trailers), Some(st))),
                    },
                    Err(e) => return Some((Err(e), None)),
                }
                continue;
            }
            if st.reset {
                let at = *st.reset_at.get_or_insert(st.sent + st.pending.len() as u64);
                if st.sent >= at {
                    // Give hyper and the kernel a moment to deliver what was sent, then reset.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    st.conn.abort();
                    return Some((Err("injected reset".into()), None));
                }
                st.pending.truncate((at - st.sent) as usize);
            }
            let mut n = st.pending.len();
            if let Some(rate) = st.rate {
                // Small pieces, each sent when the average rate allows it.
                n = n.min((rate / 20).clamp(1, 64 * 1024) as usize);
                let due = st.started + Duration::from_secs_f64(st.sent as f64 / rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
            st.sent += n as u64;
            return Some((Ok(Frame::data(st.pending.split_to(n))), Some(st)));
        }
    });
    StreamBody::new(stream).boxed_unsync()
}

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).map_err(|e| match e {}).boxed_unsync()
}

/// An Azure-style error answer, as the emulator or the service would send it.
fn azure_error(status: u16) -> Response<Body> {
    let code = if status == 500 { "InternalError" } else { "ServerBusy" };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>Injected fault</Message></Error>"
    );
    let mut resp = Response::new(full(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/xml"));
    resp.headers_mut().insert("x-ms-error-code", HeaderValue::from_static(code));
    resp
}

/// Reads a request body to its end, so that the connection stays usable for the next request.
async fn drain(mut body: Incoming) {
    while let Some(Ok(_)) = body.frame().await {}
}

/// Headers about one hop's connection, which hyper manages on each side by itself.
fn strip_hop_headers(headers: &mut HeaderMap) {
    for name in ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect"] {
        headers.remove(name);
    }
}

async fn handle(req: Request<Incoming>, app: Arc<App>, conn: Arc<Conn>) -> Result<Response<Body>, BoxError> {
    let (mut parts, body) = req.into_parts();
    if parts.method == Method::GET && parts.uri.path() == "/_faultproxy/stats" {
        let mut resp = Response::new(full(app.stats_line()));
        resp.headers_mut().insert("content-type", HeaderValue::from_static("text/plain"));
        return Ok(resp);
    }
    let number = app.stats.requests.fetch_add(1, SeqCst) + 1;
    if app.max_requests.is_some_and(|max| number > max) {
        return Err("over --max-requests".into()); // closes the connection; we are about to exit
    }
    let done = Done(app.clone());

    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let keys: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).map(|p| p.split('=').next().unwrap_or_default()).collect();
    let op = operation(&method, &keys, &query, &parts.headers);
    let rule = app.choose(&method, op, &parts.headers);
    let action = rule.map_or("forward", |r| r.label.as_str());
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let shown = if keys.is_empty() { String::new() } else { format!("?{}", keys.join(",")) };
    // The range asked for, to show where a read resumed.
    let range = ["x-ms-range", "range"].iter().find_map(|h| parts.headers.get(*h)?.to_str().ok()).map(|r| format!(" {r}")).unwrap_or_default();
    let text = format!("{secs} {method} {path}{shown} {op}{range} -> {action}");
    let mut log = LogLine { app: app.clone(), text, status: None };
    let fault = rule.map(|r| r.fault);
    let stats = &app.stats;
    match fault {
        None => stats.forwarded.fetch_add(1, SeqCst),
        Some(Fault::Status(_)) => stats.status.fetch_add(1, SeqCst),
        Some(Fault::Throttle429(_)) => stats.throttle429.fetch_add(1, SeqCst),
        Some(Fault::Reset) => stats.reset.fetch_add(1, SeqCst),
        Some(Fault::ResetRequest) => stats.reset_request.fetch_add(1, SeqCst),
        Some(Fault::DropResponse) => stats.drop_response.fetch_add(1, SeqCst),
        Some(Fault::Stall(_)) => stats.stall.fetch_add(1, SeqCst),
        Some(Fault::Throttle(_)) => stats.throttle.fetch_add(1, SeqCst),
    };

    match fault {
        Some(Fault::Status(code)) => {
            let resp = azure_error(code);
            drain(body).await;
            log.status = Some(code);
            return Ok(resp);
        }
        Some(Fault::Throttle429(secs)) => {
            let mut resp = azure_error(429);
            resp.headers_mut().insert("retry-after", HeaderValue::from(secs));
            drain(body).await;
            log.status = Some(429);
            return Ok(resp);
        }
        Some(Fault::ResetRequest) => {
            conn.abort();
            return Err("injected reset-request".into());
        }
        Some(Fault::Stall(secs)) => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
        _ => {}
    }

    // Forward, to the same path and query, with the client's headers (Host included).
    let target = format!("http://{}{}", app.upstream, parts.uri.path_and_query().map_or("/", |pq| pq.as_str()));
    parts.uri = target.parse::<Uri>()?;
    strip_hop_headers(&mut parts.headers);
    let upstream = match app.client.request(Request::from_parts(parts, body)).await {
        Ok(resp) => resp,
        Err(e) => {
            log.status = Some(502);
            let mut resp = Response::new(full(format!("faultproxy: upstream error: {e}\n")));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            return Ok(resp);
        }
    };
    let (mut head, body) = upstream.into_parts();
    strip_hop_headers(&mut head.headers);
    log.status = Some(head.status.as_u16());
    if let Some(Fault::DropResponse) = fault {
        // The upstream has done the work; the client never learns it.
        drop(body);
        conn.abort();
        return Err("injected drop-response".into());
    }

    let mut shaper = Shaper {
        inner: body.map_err(BoxError::from).boxed_unsync(),
        pending: Bytes::new(),
        rate: None,
        started: Instant::now(),
        sent: 0,
        reset: false,
        reset_at: None,
        conn,
        _done: done,
    };
    match fault {
        Some(Fault::Throttle(rate)) => shaper.rate = Some(rate),
        Some(Fault::Reset) => {
            let length = head.headers.get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            let bodiless = method == Method::HEAD
                || length == Some(0)
                || head.status == StatusCode::NO_CONTENT
                || head.status == StatusCode::NOT_MODIFIED;
            if bodiless {
                // Nothing to cut: just close once the headers are out.
                head.headers.insert("connection", HeaderValue::from_static("close"));
            } else {
                shaper.reset = true;
                shaper.reset_at = length.map(|l| l / 2);
            }
        }
        _ => {}
    }
    Ok(Response::from_parts(head, shaped(shaper)))
}

fn fail(code: i32, msg: &str) -> ! {
    eprintln!("faultproxy: {msg}");
    std::process::exit(code)
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // Loopback only: the upstream must be this machine, named so that it cannot resolve elsewhere.
    let (host, port) = cli.upstream.rsplit_once(':').unwrap_or_else(|| fail(2, "--upstream must be HOST:PORT"));
    let port: u16 = port.parse().unwrap_or_else(|_| fail(2, "--upstream must be HOST:PORT"));
    if host != "127.0.0.1" && host != "localhost" {
        fail(2, "--upstream must be 127.0.0.1 or localhost");
    }
    let rules: Vec<Rule> = cli.rules.iter().map(|r| parse_rule(r).unwrap_or_else(|e| fail(2, &e))).collect();
    let log = cli.log.as_ref().map(|path| {
        let file = File::options().create(true).append(true).open(path);
        Mutex::new(file.unwrap_or_else(|e| fail(1, &format!("cannot open log {path}: {e}"))))
    });

    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        // The emulator closes idle connections after a few seconds; don't reuse one that old.
        .pool_idle_timeout(Duration::from_secs(2))
        .build(connector);
    let app = Arc::new(App {
        upstream: format!("127.0.0.1:{port}"),
        client,
        choice: Mutex::new((StdRng::seed_from_u64(cli.seed), vec![0; rules.len()])),
        rules,
        stats: Stats::default(),
        log,
        max_requests: cli.max_requests,
        completed: AtomicU64::new(0),
    });

    let listener = TcpListener::bind(("127.0.0.1", cli.listen))
        .await
        .unwrap_or_else(|e| fail(1, &format!("cannot listen on 127.0.0.1:{}: {e}", cli.listen)));
    let bound = listener.local_addr().map(|a| a.port()).unwrap_or(cli.listen);
    println!("faultproxy listening on 127.0.0.1:{bound}");
    let _ = std::io::stdout().flush();

    let max_seconds = cli.max_seconds;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(max_seconds)).await;
        std::process::exit(0);
    });

    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        if app.max_requests.is_some_and(|max| app.stats.requests.load(SeqCst) >= max) {
            continue; // past the limit: accept no more connections (dropping this one)
        }
        let _ = stream.set_nodelay(true);
        let dup = stream.as_fd().try_clone_to_owned().ok().map(StdTcpStream::from);
        let conn = Arc::new(Conn { dup: Mutex::new(dup) });
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, app.clone(), conn.clone()));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
