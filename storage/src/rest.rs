//! Signed requests to the Blob service: containers, a listing that keeps every blob
//! property, ranged reads that resume where an answer broke off, and block uploads whose
//! block size grows and whose commit sets Content-Encoding. Signing is reqsign's; every
//! request goes through one retry loop (`retrying`, limits in `retry`).

use std::ops::Range;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request};
use reqsign_azure_storage::{Credential as SigningCredential, RequestSigner};
use reqsign_core::{Context, Signer};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::account::Account;
use input::url::redact_url;
use crate::version::BlobVersion;
use crate::error::{Error, Result};

/// Version of the REST API we speak; Azurite 3.x supports it.
pub const API_VERSION: &str = "2022-11-02";

/// Bodies larger than this go out piece by piece, and such a request fails when it makes no
/// progress for the timeout, not when it takes longer than the timeout: sending a large
/// block over a slow link is not a stall.
const UPLOAD_PIECE: usize = 256 << 10;

/// Characters left as they are in a blob path: `/` separates virtual directories.
const BLOB_PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub struct RestClient {
    account: Account,
    http: reqwest::Client,
    signer: Option<Signer<SigningCredential>>,
    timeout: Duration,
}

pub struct Response {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RestClient {
    /// `timeout` bounds each request: connecting and the whole answer.
    pub fn new(account: &Account, timeout: Duration) -> Result<Self> {
        let http = crate::tls::client_builder()?
            // Below the emulator's 5 s keep-alive, so that an idle pooled connection is not
            // reused just as the server closes it.
            .pool_idle_timeout(Duration::from_secs(4))
            // A redirect is answered with an error (Error::Redirect), never followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Connect { endpoint: account.endpoint.clone(), cause: e.to_string() })?;
        let signer = crate::signing::credential_chain(account, timeout)?.map(|chain| Signer::new(Context::new(), chain, RequestSigner::new()));
        Ok(RestClient { account: account.clone(), http, signer, timeout })
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn anonymous(&self) -> bool {
        self.signer.is_none()
    }

    /// Sends one request, again after failures that may pass (`retry`); `path_and_query`
    /// follows the endpoint and is already percent-encoded. Only for requests that do the same
    /// when repeated: a block list commit goes through `put_block_list`.
    pub async fn send(&self, method: Method, path_and_query: &str, extra: &[(&str, &str)], body: Bytes) -> Result<Response> {
        let what = format!("{method} {}", path_and_query.split('?').next().unwrap_or(""));
        self.retrying(&what, async || self.attempt(method.clone(), path_and_query, extra, body.clone()).await).await
    }

    /// Runs `once` until it succeeds, fails in a way that does not pass, or the retry policy
    /// says stop. Each call of `once` is one attempt; it may carry state from the last.
    async fn retrying<T>(&self, what: &str, mut once: impl AsyncFnMut() -> std::result::Result<T, Failure>) -> Result<T> {
        let policy = crate::retry::policy();
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let Failure { error, retry_after } = match once().await {
                Ok(done) => return Ok(done),
                Err(failure) => failure,
            };
            let wait = match crate::retry::retryable(&error) {
                true => crate::retry::delay(policy, attempt + 1, started.elapsed(), retry_after),
                false => None,
            };
            let Some(wait) = wait else { return Err(error) };
            tracing::debug!(%error, attempt, ?wait, "retrying {what}");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One try of a request, its whole answer read.
    async fn attempt(&self, method: Method, path_and_query: &str, extra: &[(&str, &str)], body: Bytes) -> std::result::Result<Response, Failure> {
        let large = body.len() > UPLOAD_PIECE;
        let progress = Progress::new();
        let exchange = async {
            let resp = self.request(method, path_and_query, extra, body, &progress).await?;
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(|e| self.transport_error(e))?;
            Ok::<_, Failure>(Response { headers, body })
        };
        if !large {
            return exchange.await;
        }
        tokio::select! {
            out = exchange => out,
            () = progress.stalled(self.timeout) => Err(Error::Timeout { endpoint: redact_url(&self.account.endpoint), after: self.timeout }.into()),
        }
    }

    /// Signs and sends a request; returns the answer once its status says success, with
    /// the body still to be read. A body larger than UPLOAD_PIECE goes out piece by piece,
    /// touching `progress`.
    async fn request(&self, method: Method, path_and_query: &str, extra: &[(&str, &str)], body: Bytes, progress: &Progress) -> std::result::Result<reqwest::Response, Failure> {
        let url = format!("{}{}", self.account.endpoint, path_and_query);
        let mut req = Request::builder().method(method).uri(&url).body(()).map_err(|e| Error::Internal(e.to_string()))?;
        let headers = req.headers_mut();
        headers.insert("x-ms-version", HeaderValue::from_static(API_VERSION));
        headers.insert("x-ms-date", HeaderValue::from_str(&httpdate_now()).expect("a date is a valid header"));
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        for (name, value) in extra {
            let value = HeaderValue::from_str(value).map_err(|e| Error::Internal(format!("header {name}: {e}")))?;
            headers.insert(http::HeaderName::from_bytes(name.as_bytes()).expect("static header names are valid"), value);
        }
        let (mut parts, ()) = req.into_parts();
        if let Some(signer) = &self.signer {
            signer
                .sign(&mut parts, None)
                .await
                .map_err(|e| match &self.account.credential {
                    crate::Credential::Token(source) => crate::identity::signing_failure(source, &e),
                    _ => Error::Connect { endpoint: redact_url(&self.account.endpoint), cause: format!("could not sign the request: {e}") },
                })?;
        }
        let large = body.len() > UPLOAD_PIECE;
        let http_body = if large { pieces(body, progress.clone()) } else { reqwest::Body::from(body) };
        let mut req = reqwest::Request::try_from(Request::from_parts(parts, http_body))
            .map_err(|e| Error::Internal(e.without_url().to_string()))?;
        if large {
            // No deadline for the whole exchange: `progress` bounds each step instead.
            *req.timeout_mut() = Some(Duration::from_secs(u64::from(u32::MAX)));
        }
        let resp = self.http.execute(req).await.map_err(|e| self.transport_error(e))?;
        progress.touch();
        let status = resp.status().as_u16();
        if status < 300 {
            return Ok(resp);
        }
        let headers = resp.headers().clone();
        if status < 400 {
            let location = headers.get(http::header::LOCATION).and_then(|v| v.to_str().ok()).map_or_else(|| "nowhere".into(), redact_url);
            return Err(Error::Redirect { endpoint: redact_url(&self.account.endpoint), status, location }.into());
        }
        let body = resp.bytes().await.map_err(|e| self.transport_error(e))?;
        let code = headers.get("x-ms-error-code").and_then(|v| v.to_str().ok());
        let error = Error::from_response(status, code, &body, self.anonymous()).naming(path_and_query).with_credential(&self.account.credential);
        Err(Failure { error, retry_after: crate::retry::retry_after(&headers) })
    }

    /// The current version of a blob: size, ETag, Content-Encoding (Get Blob Properties).
    pub async fn blob_version(&self, container: &str, path: &str) -> Result<BlobVersion> {
        let response = self.send(Method::HEAD, &blob_resource(container, path)?, &[], Bytes::new()).await?;
        let header = |name: &str| response.headers.get(name).and_then(|v| v.to_str().ok());
        let size = header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::InvalidResponse(format!("no Content-Length for blob {path}")))?;
        BlobVersion::new(path, size, header("etag"), header("content-type"), header("content-encoding"))
    }

    /// Bytes `range` of a blob (Get Blob with a range), of the version `etag` names (If-Match:
    /// a replaced blob fails with BlobChanged). An answer cut short is asked again from its
    /// first missing byte, not from the start of the range.
    pub async fn get_range(&self, container: &str, path: &str, range: Range<u64>, etag: &str) -> Result<Bytes> {
        let resource = blob_resource(container, path)?;
        let wanted = range.end.saturating_sub(range.start);
        let mut got = BytesMut::with_capacity(wanted as usize);
        if wanted == 0 {
            return Ok(got.freeze());
        }
        self.retrying(&format!("GET {resource}"), async || {
            let from = range.start + got.len() as u64;
            let bytes = format!("bytes={from}-{}", range.end - 1);
            let headers = [("x-ms-range", bytes.as_str()), ("If-Match", etag)];
            let mut resp = self.request(Method::GET, &resource, &headers, Bytes::new(), &Progress::new()).await?;
            while let Some(piece) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
                got.extend_from_slice(&piece);
            }
            Ok(())
        })
        .await?;
        if got.len() as u64 != wanted {
            return Err(Error::InvalidResponse(format!("asked for {wanted} bytes of blob {path}, got {}", got.len())));
        }
        Ok(got.freeze())
    }

    fn transport_error(&self, e: reqwest::Error) -> Error {
        let endpoint = redact_url(&self.account.endpoint);
        if e.is_timeout() {
            return Error::Timeout { endpoint, after: self.timeout };
        }
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        let broken = !e.is_connect() && broke_mid_exchange(&e);
        // The URL may carry a SAS token: keep it out of messages.
        let mut cause = e.without_url().to_string();
        for c in causes {
            cause = format!("{cause}: {c}");
        }
        if broken {
            Error::Broken { endpoint, cause }
        } else {
            Error::Connect { endpoint, cause }
        }
    }

    /// Creates a container with the given anonymous access. An existing container is left as
    /// it is and reported as `false`.
    pub async fn create_container(&self, container: &str, access: PublicAccess) -> Result<bool> {
        input::names::validate_container_name(container)?;
        let headers: &[(&str, &str)] = match access {
            PublicAccess::None => &[],
            PublicAccess::Container => &[("x-ms-blob-public-access", "container")],
            PublicAccess::Blob => &[("x-ms-blob-public-access", "blob")],
        };
        match self.send(Method::PUT, &format!("/{container}?restype=container"), headers, Bytes::new()).await {
            Ok(_) => Ok(true),
            Err(Error::Service { status: 409, ref code, .. }) if code == "ContainerAlreadyExists" => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Uploads a whole blob in one request (Put Blob), with the given properties. Suited to
    /// small blobs; large ones go through block uploads (`upload::BlobWriter`).
    pub async fn put_blob(&self, container: &str, path: &str, data: Bytes, properties: &Properties<'_>) -> Result<()> {
        let mut headers = vec![("x-ms-blob-type", "BlockBlob")];
        properties.add_headers(&mut headers);
        self.send(Method::PUT, &blob_resource(container, path)?, &headers, data).await.map(|_| ())
    }

    /// Stages one block of a blob (Put Block); it stays invisible until a block list names it.
    pub async fn put_block(&self, container: &str, path: &str, block_id: &str, data: Bytes) -> Result<()> {
        let id = utf8_percent_encode(block_id, NON_ALPHANUMERIC);
        let resource = format!("{}?comp=block&blockid={id}", blob_resource(container, path)?);
        self.send(Method::PUT, &resource, &[], data).await.map(|_| ())
    }

    /// Makes the blob consist of the given staged blocks, in order (Put Block List),
    /// replacing any previous content and properties at once.
    pub async fn put_block_list(&self, container: &str, path: &str, block_ids: &[String], properties: &Properties<'_>) -> Result<()> {
        let mut body = String::with_capacity(64 + block_ids.len() * 48);
        body.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for id in block_ids {
            body.push_str("<Latest>");
            body.push_str(id);
            body.push_str("</Latest>");
        }
        body.push_str("</BlockList>");
        let mut headers = Vec::new();
        properties.add_headers(&mut headers);
        let resource = format!("{}?comp=blocklist", blob_resource(container, path)?);
        let body = Bytes::from(body);
        // Never sent again blindly: a commit that failed on the way back may have happened,
        // and the blob's committed blocks say whether it did (block ids carry the upload's
        // random id, so an older version cannot have the same list).
        self.retrying("the block list commit", async || match self.attempt(Method::PUT, &resource, &headers, body.clone()).await {
            Ok(_) => Ok(()),
            Err(failure) if crate::retry::retryable(&failure.error) && self.committed_blocks(container, path).await?.as_deref() == Some(block_ids) => {
                tracing::debug!(error = %failure.error, "the block list was committed although its answer failed");
                Ok(())
            }
            Err(failure) => Err(failure),
        })
        .await
    }

    /// Whether the blob's committed blocks are exactly `block_ids` (a commit of them happened
    /// and nothing replaced it since).
    pub async fn has_committed_blocks(&self, container: &str, path: &str, block_ids: &[String]) -> Result<bool> {
        Ok(self.committed_blocks(container, path).await?.as_deref() == Some(block_ids))
    }

    /// The ids of the blob's committed blocks, in order; `None` when there is no blob.
    async fn committed_blocks(&self, container: &str, path: &str) -> Result<Option<Vec<String>>> {
        #[derive(serde::Deserialize)]
        struct BlockList {
            #[serde(rename = "CommittedBlocks", default)]
            committed: Blocks,
        }
        #[derive(serde::Deserialize, Default)]
        struct Blocks {
            #[serde(rename = "Block", default)]
            blocks: Vec<Block>,
        }
        #[derive(serde::Deserialize)]
        struct Block {
            #[serde(rename = "Name")]
            name: String,
        }
        let resource = format!("{}?comp=blocklist&blocklisttype=committed", blob_resource(container, path)?);
        let response = match self.send(Method::GET, &resource, &[], Bytes::new()).await {
            Ok(response) => response,
            Err(Error::BlobNotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = std::str::from_utf8(&response.body).map_err(|e| Error::InvalidResponse(format!("block list: {e}")))?;
        let list: BlockList = quick_xml::de::from_str(text).map_err(|e| Error::InvalidResponse(format!("block list: {e}")))?;
        Ok(Some(list.committed.blocks.into_iter().map(|b| b.name).collect()))
    }

    /// Deletes a blob; a missing blob is not an error.
    pub async fn delete_blob(&self, container: &str, path: &str) -> Result<()> {
        match self.send(Method::DELETE, &blob_resource(container, path)?, &[], Bytes::new()).await {
            Ok(_) | Err(Error::BlobNotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes a container and everything in it; a missing container is not an error.
    pub async fn delete_container(&self, container: &str) -> Result<()> {
        input::names::validate_container_name(container)?;
        match self.send(Method::DELETE, &format!("/{container}?restype=container"), &[], Bytes::new()).await {
            Ok(_) | Err(Error::ContainerNotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A failed try, with the service's `Retry-After`, if it gave one.
struct Failure {
    error: Error,
    retry_after: Option<Duration>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { error, retry_after: None }
    }
}

/// When a request last moved: a piece of its body went out, or its answer came.
#[derive(Clone)]
struct Progress(std::sync::Arc<std::sync::Mutex<std::time::Instant>>);

impl Progress {
    fn new() -> Progress {
        Progress(std::sync::Arc::new(std::sync::Mutex::new(std::time::Instant::now())))
    }

    fn touch(&self) {
        *self.0.lock().expect("never poisoned") = std::time::Instant::now();
    }

    /// Returns once nothing has moved for `timeout`.
    async fn stalled(&self, timeout: Duration) {
        loop {
            let idle = self.0.lock().expect("never poisoned").elapsed();
            if idle >= timeout {
                return;
            }
            tokio::time::sleep(timeout - idle).await;
        }
    }
}

/// `body` as a stream of pieces that mark progress as the connection takes them.
fn pieces(body: Bytes, progress: Progress) -> reqwest::Body {
    let starts = (0..body.len()).step_by(UPLOAD_PIECE);
    let stream = futures::stream::iter(starts.map(move |start| {
        progress.touch();
        Ok::<Bytes, std::io::Error>(body.slice(start..(start + UPLOAD_PIECE).min(body.len())))
    }));
    reqwest::Body::wrap_stream(stream)
}

/// Who may read a container without credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicAccess {
    /// Nobody.
    None,
    /// Anyone may list the container and read its blobs.
    Container,
    /// Anyone may read a blob whose name they know; listing needs credentials.
    Blob,
}

/// Properties a blob is written with.
#[derive(Debug, Default, Clone, Copy)]
pub struct Properties<'a> {
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
}

impl<'a> Properties<'a> {
    fn add_headers(&self, headers: &mut Vec<(&str, &'a str)>) {
        if let Some(ct) = self.content_type {
            headers.push(("x-ms-blob-content-type", ct));
        }
        if let Some(ce) = self.content_encoding {
            headers.push(("x-ms-blob-content-encoding", ce));
        }
    }
}

/// Whether a transport error is a connection that broke during the exchange, by the kinds
/// of errors behind it: an I/O reset, abort, broken pipe or early end, or hyper's answer
/// cut short.
fn broke_mid_exchange(e: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof) {
                return true;
            }
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_body_write_aborted() || h.is_closed() {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// `/<container>/<path>`, checked and percent-encoded.
fn blob_resource(container: &str, path: &str) -> Result<String> {
    input::names::validate_container_name(container)?;
    input::names::validate_blob_name(path)?;
    Ok(format!("/{container}/{}", utf8_percent_encode(path, BLOB_PATH)))
}

fn httpdate_now() -> String {
    chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
