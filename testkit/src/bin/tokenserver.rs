//! tokenserver: a loopback stand-in for Azure's token issuers, for testing Entra ID (OAuth)
//! authentication against the Azurite emulator started with `--oauth basic`.
//!
//! It serves two endpoints shaped like the real ones:
//! - the instance metadata service (managed identity):
//!   `GET /metadata/identity/oauth2/token?api-version=...&resource=...[&client_id=...]`
//! - the Entra ID v2 token endpoint (client credentials with a secret or a federated assertion):
//!   `POST /<tenant>/oauth2/v2.0/token`
//!
//! plus `GET /stats`, which counts the token requests served and refused.
//!
//! The tokens are unsigned JWTs (`alg: none`). That is enough because Azurite in `basic` mode
//! decodes the bearer token without checking its signature; it only checks `iss`, `aud`, `nbf`,
//! `exp` and `iat`. The server binds 127.0.0.1 only and exits by itself after `--max-seconds`, so
//! a test that forgets it leaves nothing behind for long. Secrets and assertions never reach the
//! log or stderr.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clap::Parser;
use serde_json::{json, Value};

/// The audience Azurite accepts; without the trailing slash, which Azurite's check tolerates best.
const AUDIENCE: &str = "https://storage.azure.com";
/// The only scope the Entra endpoint grants.
const SCOPE: &str = "https://storage.azure.com/.default";
/// Tenant written into the tokens of the metadata service, which has no tenant in its request.
const IMDS_TENANT: &str = "72f988bf-0000-0000-0000-000000000000";
/// Client id of the system-assigned identity, which always exists.
const SYSTEM_ASSIGNED: &str = "system-assigned-00000000";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Bounds on what a request may send, so a broken client cannot make us hoard memory.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

#[derive(Parser)]
#[command(name = "tokenserver", about = "Loopback OAuth token server (IMDS and Entra ID) for tests against Azurite --oauth basic")]
struct Args {
    /// Port to listen on, on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// Lifetime of the tokens issued, in seconds.
    #[arg(long, default_value_t = 3600)]
    lifetime: u64,
    /// The process exits by itself after this many seconds.
    #[arg(long, default_value_t = 3600)]
    max_seconds: u64,
    /// Append one line per request to this file.
    #[arg(long)]
    log: Option<String>,
    /// Client id of a user-assigned managed identity known to the metadata service (repeatable).
    #[arg(long = "user-assigned", value_name = "CLIENT_ID")]
    user_assigned: Vec<String>,
    /// An application with a client secret, as TENANT:CLIENT_ID:SECRET (repeatable).
    #[arg(long = "secret", value_name = "TENANT:CLIENT_ID:SECRET")]
    secrets: Vec<String>,
    /// An application with a federated credential, as TENANT:CLIENT_ID:ASSERTION (repeatable).
    #[arg(long = "assertion", value_name = "TENANT:CLIENT_ID:ASSERTION")]
    assertions: Vec<String>,
}

/// (tenant, client id, credential). The credential is the remainder, so it may contain ':'.
#[derive(Clone)]
struct Triple {
    tenant: String,
    client_id: String,
    credential: String,
}

/// Parses the values of `--<option>`. Done here rather than by a clap value parser because clap
/// would echo a rejected value, and these hold credentials.
fn parse_triples(option: &str, values: &[String]) -> Vec<Triple> {
    let parse = |s: &String| {
        let mut parts = s.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(t), Some(c), Some(k)) if !t.is_empty() && !c.is_empty() && !k.is_empty() => {
                Triple { tenant: t.to_string(), client_id: c.to_string(), credential: k.to_string() }
            }
            _ => {
                eprintln!("tokenserver: --{option} expects TENANT:CLIENT_ID:CREDENTIAL with three non-empty parts");
                std::process::exit(2)
            }
        }
    };
    values.iter().map(parse).collect()
}

struct Server {
    lifetime: u64,
    user_assigned: Vec<String>,
    secrets: Vec<Triple>,
    assertions: Vec<Triple>,
    log: Option<Mutex<File>>,
    imds_served: AtomicU64,
    entra_served: AtomicU64,
    refused: AtomicU64,
    /// Goes into `jti`, so that two tokens issued in the same second still differ.
    next_token: AtomicU64,
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn json(status: u16, body: Value) -> Self {
        Response { status, content_type: "application/json; charset=utf-8", body: body.to_string() }
    }
    fn error(status: u16, error: &str, description: &str) -> Self {
        Self::json(status, json!({"error": error, "error_description": description}))
    }
    fn text(status: u16, body: String) -> Self {
        Response { status, content_type: "text/plain; charset=utf-8", body }
    }
}

fn main() {
    let args = Args::parse();
    let secrets = parse_triples("secret", &args.secrets);
    let assertions = parse_triples("assertion", &args.assertions);
    let log = args.log.as_ref().map(|path| {
        let file = OpenOptions::new().create(true).append(true).open(path).unwrap_or_else(|e| {
            eprintln!("tokenserver: cannot open log file {path}: {e}");
            std::process::exit(2)
        });
        Mutex::new(file)
    });
    let listener = TcpListener::bind(("127.0.0.1", args.port)).unwrap_or_else(|e| {
        eprintln!("tokenserver: cannot listen on 127.0.0.1:{}: {e}", args.port);
        std::process::exit(1)
    });
    let server = Arc::new(Server {
        lifetime: args.lifetime,
        user_assigned: args.user_assigned,
        secrets,
        assertions,
        log,
        imds_served: AtomicU64::new(0),
        entra_served: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        next_token: AtomicU64::new(1),
    });
    let max_seconds = args.max_seconds;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(max_seconds));
        std::process::exit(0);
    });
    println!("tokenserver listening on 127.0.0.1:{}", args.port);
    let _ = std::io::stdout().flush();
    for stream in listener.incoming().flatten() {
        let server = Arc::clone(&server);
        std::thread::spawn(move || server.handle_connection(stream));
    }
}

impl Server {
    fn handle_connection(&self, mut stream: TcpStream) {
        // A client that stalls must not pin a thread forever.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let response = match read_request(&mut stream) {
            Ok(request) => self.route(&request),
            Err(Some(message)) => {
                self.log_line("other - - status=400");
                Response::text(400, format!("{message}\n"))
            }
            // The connection broke or timed out: nobody left to answer.
            Err(None) => return,
        };
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
            response.status,
            reason(response.status),
            response.content_type,
            response.body.len()
        );
        let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(response.body.as_bytes()));
        let _ = stream.flush();
    }

    fn route(&self, request: &Request) -> Response {
        let segments: Vec<&str> = request.path.split('/').collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["", "metadata", "identity", "oauth2", "token"]) => {
                let (client_id, response) = self.imds(request);
                self.count(&response, &self.imds_served);
                self.log_line(&format!("imds client_id={} status={}", loggable(client_id.as_deref()), response.status));
                response
            }
            ("POST", ["", tenant, "oauth2", "v2.0", "token"]) if !tenant.is_empty() => {
                let tenant = percent_decode(tenant);
                let (client_id, kind, response) = self.entra(&tenant, request);
                self.count(&response, &self.entra_served);
                self.log_line(&format!(
                    "entra tenant={} client_id={} kind={kind} status={}",
                    loggable(Some(&tenant)),
                    loggable(client_id.as_deref()),
                    response.status
                ));
                response
            }
            ("GET", ["", "stats"]) => {
                let stats = format!(
                    "imds={} entra={} refused={}\n",
                    self.imds_served.load(Ordering::SeqCst),
                    self.entra_served.load(Ordering::SeqCst),
                    self.refused.load(Ordering::SeqCst)
                );
                self.log_line("other GET /stats status=200");
                Response::text(200, stats)
            }
            _ => {
                // The path only, never the query string, which might carry a credential.
                self.log_line(&format!("other {} {} status=404", loggable(Some(&request.method)), loggable(Some(&request.path))));
                Response::text(404, "not found\n".to_string())
            }
        }
    }

    /// The metadata service. Returns the client id asked for (for the log) and the answer.
    fn imds(&self, request: &Request) -> (Option<String>, Response) {
        let query = parse_form(request.query.as_bytes());
        let client_id = query.get("client_id").cloned();
        // Real IMDS insists on this header, as a guard against server-side request forgery.
        if request.headers.get("metadata").map(|v| v.trim().eq_ignore_ascii_case("true")) != Some(true) {
            return (client_id, Response::error(400, "invalid_request", "Required metadata header not specified"));
        }
        if !query.contains_key("api-version") {
            return (client_id, Response::error(400, "invalid_request", "Required query variable 'api-version' is missing"));
        }
        let Some(resource) = query.get("resource") else {
            return (client_id, Response::error(400, "invalid_request", "Required query variable 'resource' is missing"));
        };
        if resource != "https://storage.azure.com/" && resource != AUDIENCE {
            let description = format!("AADSTS500011: The resource principal named {resource} was not found");
            return (client_id, Response::error(400, "invalid_resource", &description));
        }
        let identity = match &client_id {
            None => SYSTEM_ASSIGNED.to_string(),
            Some(id) if self.user_assigned.contains(id) => id.clone(),
            Some(_) => return (client_id, Response::error(400, "invalid_request", "Identity not found")),
        };
        let (token, now) = self.token(IMDS_TENANT, &identity);
        // IMDS quotes its numbers, unlike the Entra endpoint; clients depend on either shape.
        let lifetime = self.lifetime.to_string();
        let body = json!({
            "access_token": token,
            "client_id": identity,
            "expires_in": lifetime,
            "expires_on": (now + self.lifetime).to_string(),
            "ext_expires_in": lifetime,
            "not_before": (now - 5).to_string(),
            "resource": "https://storage.azure.com/",
            "token_type": "Bearer",
        });
        (client_id, Response::json(200, body))
    }

    /// The Entra ID client-credentials grant. Returns the client id and credential kind (for the
    /// log) and the answer.
    fn entra(&self, tenant: &str, request: &Request) -> (Option<String>, &'static str, Response) {
        let form = parse_form(&request.body);
        let client_id = form.get("client_id").cloned();
        let secret = form.get("client_secret");
        let assertion = form.get("client_assertion");
        let kind = if secret.is_some() {
            "secret"
        } else if assertion.is_some() {
            "assertion"
        } else {
            "none"
        };
        let refuse = |status, error, description: &str| (client_id.clone(), kind, Response::error(status, error, description));

        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return refuse(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type. Only client_credentials is supported here.");
        }
        let Some(id) = client_id.as_deref() else {
            return refuse(400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.");
        };
        if form.get("scope").map(String::as_str) != Some(SCOPE) {
            return refuse(400, "invalid_scope", "AADSTS70011: The provided request must include a 'scope' input parameter with the value 'https://storage.azure.com/.default'.");
        }
        let registered = |t: &Triple| t.tenant == tenant && t.client_id == id;
        if !self.secrets.iter().chain(&self.assertions).any(registered) {
            let description = format!("AADSTS700016: Application with identifier '{id}' was not found in the directory '{tenant}'.");
            return refuse(400, "unauthorized_client", &description);
        }
        match (secret, assertion) {
            (Some(secret), _) => {
                if !self.secrets.iter().any(|t| registered(t) && &t.credential == secret) {
                    return refuse(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID");
                }
            }
            (None, Some(assertion)) => {
                if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                    return refuse(400, "invalid_request", "AADSTS50027: Invalid client_assertion_type; expected urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
                }
                if !self.assertions.iter().any(|t| registered(t) && &t.credential == assertion) {
                    return refuse(401, "invalid_client", "AADSTS700211: No matching federated identity record found for presented assertion.");
                }
            }
            (None, None) => {
                return refuse(401, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
            }
        }
        let (token, _) = self.token(tenant, id);
        let body = json!({
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        });
        (client_id, kind, Response::json(200, body))
    }

    /// Issues an unsigned JWT for `subject`; returns it with the issue time it used.
    fn token(&self, tenant: &str, subject: &str) -> (String, u64) {
        let now = unix_now();
        // Backdated a little so that a client clock slightly behind ours still sees it as valid.
        let payload = json!({
            "aud": AUDIENCE,
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": now - 5,
            "nbf": now - 5,
            "exp": now + self.lifetime,
            "oid": subject,
            "appid": subject,
            "tid": tenant,
            "jti": self.next_token.fetch_add(1, Ordering::SeqCst).to_string(),
        });
        let header = json!({"alg": "none", "typ": "JWT"});
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode("unsigned")
        );
        (token, now)
    }

    fn count(&self, response: &Response, served: &AtomicU64) {
        let counter = if response.status == 200 { served } else { &self.refused };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    fn log_line(&self, line: &str) {
        if let Some(log) = &self.log {
            let mut file = log.lock().unwrap_or_else(|e| e.into_inner());
            // Flushed line by line so a test can read the log while the server runs.
            let _ = writeln!(file, "{} {line}", unix_now()).and_then(|_| file.flush());
        }
    }
}

/// Reads one request. `Err(Some(_))` is a malformed request worth a 400; `Err(None)` a broken
/// connection.
fn read_request(stream: &mut TcpStream) -> Result<Request, Option<String>> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    // Read line by line until the blank line that ends the head.
    loop {
        let start = head.len();
        let limit = (MAX_HEAD + 1 - start) as u64;
        match reader.by_ref().take(limit).read_until(b'\n', &mut head) {
            Ok(0) | Err(_) => return Err(None),
            Ok(_) => {}
        }
        if head.len() > MAX_HEAD {
            return Err(Some("request head too large".to_string()));
        }
        if matches!(&head[start..], b"\r\n" | b"\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Some("malformed request line".to_string()));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(Some("unsupported HTTP version".to_string()));
    }
    let mut headers = HashMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(Some("malformed header line".to_string()));
        };
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length = match headers.get("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| Some("bad Content-Length".to_string()))?,
    };
    if length > MAX_BODY {
        return Err(Some("request body too large".to_string()));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).map_err(|_| None)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request { method: method.to_string(), path: path.to_string(), query: query.to_string(), headers, body })
}

/// Decodes `a=1&b=2` as in application/x-www-form-urlencoded (also used for query strings).
/// A repeated name keeps its first value.
fn parse_form(data: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for pair in String::from_utf8_lossy(data).split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(form_decode(name)).or_insert_with(|| form_decode(value));
    }
    map
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Decodes %XX escapes; a malformed escape is kept as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes a client-supplied value safe for a one-line log entry.
fn loggable(value: Option<&str>) -> String {
    match value {
        None | Some("") => "-".to_string(),
        Some(v) => v.chars().take(200).map(|c| if c.is_whitespace() || c.is_control() { '_' } else { c }).collect(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    }
}
