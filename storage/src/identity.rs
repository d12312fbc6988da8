//! Entra ID (OAuth) tokens for the Blob service: from the instance metadata service (a managed
//! identity, system- or user-assigned), a federated token file (workload identity, as in
//! Kubernetes), or a service principal's client secret.
//!
//! Tokens are kept for the whole process (a PostgreSQL backend, a pgvault run) and fetched
//! again shortly before they expire, so a statement does not ask for one per request and a
//! long one never signs with a stale token.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use reqsign_core::{time::Timestamp, Context, ProvideCredential};

use input::url::redact_url;
use crate::error::{Error, Result};

/// The token audience of Azure Storage.
const RESOURCE: &str = "https://storage.azure.com/";
/// Where Azure hosts serve managed identity tokens; used only when nothing else is configured.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// Entra ID's public cloud authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Starts every message about a token that could not be had.
const FAILURE: &str = "could not get an Entra ID token from";

/// Where tokens come from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// The instance metadata service at `endpoint`; `client_id` picks a user-assigned identity.
    MetadataService { endpoint: String, client_id: Option<String> },
    /// Workload identity: the federated token in `token_file` (read anew each time, as it is
    /// rotated) exchanged at `authority`.
    WorkloadIdentity { authority: String, tenant_id: String, client_id: String, token_file: PathBuf },
    /// A service principal: its client secret exchanged at `authority`.
    ClientSecret { authority: String, tenant_id: String, client_id: String, secret: String },
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl TokenSource {
    /// Says which source this is, for messages; never includes a secret.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::MetadataService { endpoint, client_id: None } => {
                format!("the instance metadata service at {} (system-assigned managed identity)", redact_url(endpoint))
            }
            TokenSource::MetadataService { endpoint, client_id: Some(id) } => {
                format!("the instance metadata service at {} (user-assigned managed identity {id})", redact_url(endpoint))
            }
            TokenSource::WorkloadIdentity { authority, tenant_id, client_id, token_file } => format!(
                "Entra ID at {} (workload identity {client_id} of tenant {tenant_id}, token file {})",
                redact_url(authority),
                token_file.display()
            ),
            TokenSource::ClientSecret { authority, tenant_id, client_id, .. } => {
                format!("Entra ID at {} (service principal {client_id} of tenant {tenant_id}, client secret)", redact_url(authority))
            }
        }
    }

    fn failure(&self, cause: impl fmt::Display) -> Error {
        Error::Identity(format!("{FAILURE} {}: {cause}", self.describe()))
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<Token> {
        let request = match self {
            TokenSource::MetadataService { endpoint, client_id } => {
                let mut query = vec![("api-version", "2018-02-01"), ("resource", RESOURCE)];
                if let Some(id) = client_id {
                    query.push(("client_id", id));
                }
                http.get(endpoint).query(&query).header("Metadata", "true")
            }
            TokenSource::WorkloadIdentity { authority, tenant_id, client_id, token_file } => {
                let assertion = std::fs::read_to_string(token_file)
                    .map_err(|e| self.failure(format!("cannot read the federated token file: {e}")))?;
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("scope", "https://storage.azure.com/.default"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion.trim()),
                ];
                http.post(token_url(authority, tenant_id)).form(&form)
            }
            TokenSource::ClientSecret { authority, tenant_id, client_id, secret } => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("scope", "https://storage.azure.com/.default"),
                    ("client_secret", secret),
                ];
                http.post(token_url(authority, tenant_id)).form(&form)
            }
        };
        let response = request.send().await.map_err(|e| self.failure(transport_cause(&e)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.failure(transport_cause(&e)))?;
        if !status.is_success() {
            return Err(self.failure(format!("answered {status}: {}", refusal(&body))));
        }
        Token::parse(&body).map_err(|cause| self.failure(cause))
    }
}

fn token_url(authority: &str, tenant_id: &str) -> String {
    format!("{}/{tenant_id}/oauth2/v2.0/token", authority.trim_end_matches('/'))
}

/// Why a request got no answer, in the terms of its innermost cause ("Connection refused");
/// the URL is in the source's description.
fn transport_cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time".into();
    }
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    cause
}

/// Entra ID's and the metadata service's JSON error, or the start of whatever came.
fn refusal(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: Option<String>,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<Refusal>(body) {
        Ok(Refusal { error: Some(error), error_description: Some(text) }) => format!("{error}: {}", text.lines().next().unwrap_or("")),
        Ok(Refusal { error: Some(error), .. }) => error,
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string(),
    }
}

/// A bearer token and when it stops being valid.
#[derive(Clone)]
struct Token {
    value: String,
    /// Unix seconds.
    expires_on: i64,
    /// Unix seconds.
    fetched_on: i64,
}

// Never print the token itself.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(expires_on {})", self.expires_on)
    }
}

impl Token {
    /// The metadata service gives `expires_on` (Unix seconds, as a string); Entra ID gives
    /// `expires_in` (seconds, as a number).
    fn parse(body: &[u8]) -> std::result::Result<Token, String> {
        #[derive(serde::Deserialize)]
        struct Answer {
            access_token: String,
            expires_on: Option<serde_json::Value>,
            expires_in: Option<serde_json::Value>,
        }
        let answer: Answer = serde_json::from_slice(body).map_err(|e| format!("the answer is not a token: {e}"))?;
        let seconds = |v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let now = chrono::Utc::now().timestamp();
        let expires_on = match (answer.expires_on.as_ref().and_then(seconds), answer.expires_in.as_ref().and_then(seconds)) {
            (Some(on), _) => on,
            (None, Some(within)) => now + within,
            (None, None) => return Err("the answer has neither expires_on nor expires_in".into()),
        };
        if answer.access_token.is_empty() {
            return Err("the answer holds an empty access_token".into());
        }
        Ok(Token { value: answer.access_token, expires_on, fetched_on: now })
    }

    /// Good for a while yet: a token is renewed when less than half its life, at most five
    /// minutes and at least 30 seconds, is left, so that no request is signed with a token
    /// about to lapse.
    fn fresh(&self, now: i64) -> bool {
        let margin = ((self.expires_on - self.fetched_on) / 2).clamp(30, 300);
        now < self.expires_on - margin
    }
}

/// What this process knows of a source: its last token, or why the last fetch failed
/// (reqsign's chain keeps only that no credential came).
#[derive(Clone)]
enum SourceState {
    Token(Token),
    Failed(String),
}

static SOURCES: Mutex<Option<HashMap<TokenSource, SourceState>>> = Mutex::new(None);
/// One fetch at a time, so that threads starting together share the first token.
static FETCHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn state(source: &TokenSource) -> Option<SourceState> {
    SOURCES.lock().expect("never poisoned").as_ref()?.get(source).cloned()
}

fn remember(source: &TokenSource, state: SourceState) {
    SOURCES.lock().expect("never poisoned").get_or_insert_with(HashMap::new).insert(source.clone(), state);
}

fn cached(source: &TokenSource) -> Option<Token> {
    let now = chrono::Utc::now().timestamp();
    match state(source)? {
        SourceState::Token(token) if token.fresh(now) => Some(token),
        _ => None,
    }
}

/// A token from `source`, cached or fetched.
async fn token(source: &TokenSource, http: &reqwest::Client) -> Result<Token> {
    if let Some(token) = cached(source) {
        return Ok(token);
    }
    let _turn = FETCHING.lock().await;
    if let Some(token) = cached(source) {
        return Ok(token);
    }
    let token = source.fetch(http).await.inspect_err(|e| remember(source, SourceState::Failed(e.to_string())))?;
    tracing::debug!(source = %source.describe(), expires_on = token.expires_on, "fetched an Entra ID token");
    remember(source, SourceState::Token(token.clone()));
    Ok(token)
}

/// Gets a token now, so that a source that cannot give one fails before any work starts, with
/// its own message.
pub async fn ensure_token(source: &TokenSource, timeout: Duration) -> Result<()> {
    token(source, &client(timeout)?).await.map(|_| ())
}

fn client(timeout: Duration) -> Result<reqwest::Client> {
    crate::tls::client_builder()?
        .connect_timeout(timeout)
        .timeout(timeout)
        // Token requests go where they are sent, never through a redirect elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Connect { endpoint: "(token client)".into(), cause: e.to_string() })
}

/// Signs requests with tokens from a source, for reqsign.
#[derive(Debug)]
pub(crate) struct TokenProvider {
    source: TokenSource,
    http: reqwest::Client,
}

impl TokenProvider {
    pub(crate) fn new(source: &TokenSource, timeout: Duration) -> Result<TokenProvider> {
        Ok(TokenProvider { source: source.clone(), http: client(timeout)? })
    }
}

impl ProvideCredential for TokenProvider {
    type Credential = reqsign_azure_storage::Credential;

    async fn provide_credential(&self, _: &Context) -> reqsign_core::Result<Option<Self::Credential>> {
        let token = token(&self.source, &self.http).await.map_err(|e| reqsign_core::Error::credential_invalid(e.to_string()))?;
        let expires = Timestamp::from_second(token.expires_on).map_err(|e| reqsign_core::Error::unexpected(e.to_string()))?;
        Ok(Some(reqsign_azure_storage::Credential::with_bearer_token(&token.value, Some(expires))))
    }
}

/// Why a request could not be signed with a token from `source`: reqsign's signing reports
/// only that no credential came, so the cause is the source's last failure.
pub(crate) fn signing_failure(source: &TokenSource, e: &(dyn std::error::Error + 'static)) -> Error {
    match state(source) {
        Some(SourceState::Failed(why)) => Error::Identity(why),
        _ => Error::Identity(format!("{FAILURE} {}: {e}", source.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_answers() {
        let now = chrono::Utc::now().timestamp();
        let t = Token::parse(format!(r#"{{"access_token":"a","expires_on":"{}"}}"#, now + 3600).as_bytes()).unwrap();
        assert_eq!(t.expires_on, now + 3600);
        let t = Token::parse(br#"{"access_token":"b","expires_in":3599,"token_type":"Bearer"}"#).unwrap();
        assert!((t.expires_on - (now + 3599)).abs() <= 1);
        assert!(Token::parse(br#"{"access_token":"c"}"#).unwrap_err().contains("expires"));
        assert!(Token::parse(b"<html>").unwrap_err().contains("not a token"));
    }

    #[test]
    fn renews_before_expiry() {
        let hour = Token { value: "t".into(), expires_on: 3600, fetched_on: 0 };
        assert!(hour.fresh(3299) && !hour.fresh(3300));
        let minute = Token { value: "t".into(), expires_on: 60, fetched_on: 0 };
        assert!(minute.fresh(29) && !minute.fresh(30));
    }

    #[test]
    fn never_describes_a_secret() {
        let s = TokenSource::ClientSecret { authority: DEFAULT_AUTHORITY.into(), tenant_id: "t".into(), client_id: "c".into(), secret: "s3cr3t".into() };
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(refusal(br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}"#)
            .starts_with("invalid_client: AADSTS7000215"));
    }
}
