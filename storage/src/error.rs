//! What can go wrong when talking to blob storage, in terms a caller can act on.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Azure's own text; the name is for a detail (empty when the request named none).
    #[error("container with the given name does not exist")]
    ContainerNotFound { container: String },
    #[error("blob with the given name does not exist")]
    BlobNotFound { container: String, blob: String },
    /// A read pinned to one version of a blob found another (412 ConditionNotMet).
    #[error("blob {blob} was replaced while it was being read; read it again")]
    BlobChanged { blob: String },
    /// The service refused the request for lack of (valid) credentials: 401, or 403 on
    /// authentication, or 404 ResourceNotFound on a private container read anonymously.
    #[error("the storage service refused the credentials ({code}): {message}")]
    Unauthenticated { code: String, message: String },
    /// An anonymous listing was refused: the container is private, or public at the blob
    /// level only, which allows reading blobs by name but not listing them.
    #[error("container {container} cannot be listed without credentials: only public access at the container level allows anonymous listing; public access at the blob level lets anyone read a blob whose name they know, but not list the container")]
    AnonymousListing { container: String },
    /// The credentials were accepted but do not allow this operation.
    #[error("Permission is not sufficient to perform requested operation ({code}): {message}")]
    PermissionDenied { code: String, message: String },
    /// No Entra ID token could be had; the message says from which source and why.
    #[error("{0}")]
    Identity(String),
    /// The SAS token's expiry has passed; nothing was sent.
    #[error("SAS token for account {account} expired at {at}")]
    SasExpired { account: String, at: String },
    /// No exchange: the connection could not be made, or the request not sent.
    #[error("could not connect to {endpoint}: {cause}")]
    Connect { endpoint: String, cause: String },
    /// A connection that was made broke during the exchange (reset, closed before the
    /// answer was complete): the same request may pass on another.
    #[error("the connection to {endpoint} broke: {cause}")]
    Broken { endpoint: String, cause: String },
    #[error("no answer from {endpoint} within {} s", .after.as_secs())]
    Timeout { endpoint: String, after: Duration },
    #[error("cancelled")]
    Cancelled,
    /// Storage requests never follow a redirect: the credentials they carry, and the bytes
    /// they return, belong to the endpoint the account names.
    #[error("the storage endpoint {endpoint} answered {status} with a redirect to {location}; storage requests do not follow redirects")]
    Redirect { endpoint: String, status: u16, location: String },
    #[error("storage service answered {status} {code}: {message}")]
    Service { status: u16, code: String, message: String },
    #[error("invalid answer from the storage service: {0}")]
    InvalidResponse(String),
    /// A failure on this side, not in the service's answer: a thread that could not start,
    /// a request that could not be built, compression that failed.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("could not decompress the blob as {compression}: {cause}")]
    Decompress { compression: &'static str, cause: String },
    #[error("the blob is larger than {limit} bytes, the most one value can hold")]
    TooLarge { limit: usize },
    #[error("the blob would be larger than {limit} bytes, the most {} blocks can hold", crate::blocks::MAX_BLOCKS)]
    BlobTooLarge { limit: u64 },
    #[error("{0}")]
    InvalidName(#[from] input::names::InvalidName),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Classifies an error answer by its status and `x-ms-error-code`.
    pub fn from_response(status: u16, code: Option<&str>, body: &[u8], anonymous: bool) -> Error {
        let code = code.unwrap_or("").to_string();
        let message = service_message(body).unwrap_or_default();
        match (status, code.as_str()) {
            (404, "ContainerNotFound") => Error::ContainerNotFound { container: String::new() },
            (404, "BlobNotFound") => Error::BlobNotFound { container: String::new(), blob: String::new() },
            (412, "ConditionNotMet") => Error::BlobChanged { blob: String::new() },
            // Azure hides private containers from anonymous callers behind a 404.
            (404, "ResourceNotFound") if anonymous => Error::Unauthenticated { code, message },
            (401, _) | (403, "AuthenticationFailed" | "NoAuthenticationInformation" | "PublicAccessNotPermitted" | "InvalidAuthenticationInfo") => {
                Error::Unauthenticated { code, message }
            }
            (403, _) if anonymous => Error::Unauthenticated { code, message },
            // Azurite says AuthorizationFailure where Azure says AuthenticationFailed.
            (403, _) if message.contains("failed to authenticate") => Error::Unauthenticated { code, message },
            (403, _) => Error::PermissionDenied { code, message },
            _ => Error::Service { status, code, message },
        }
    }

    /// Fills in the container and blob a request addressed (`/<container>/<blob>?...`,
    /// percent-encoded) where the error names them.
    pub(crate) fn naming(self, path_and_query: &str) -> Error {
        let path = path_and_query.split('?').next().unwrap_or_default().trim_start_matches('/');
        let (container, blob) = path.split_once('/').unwrap_or((path, ""));
        let decoded = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        match self {
            Error::ContainerNotFound { .. } => Error::ContainerNotFound { container: decoded(container) },
            Error::BlobNotFound { .. } => Error::BlobNotFound { container: decoded(container), blob: decoded(blob) },
            Error::BlobChanged { .. } => Error::BlobChanged { blob: decoded(blob) },
            other => other,
        }
    }

    /// A refusal explained by what the SAS token allows, as the service does not say.
    pub(crate) fn with_credential(self, credential: &crate::Credential) -> Error {
        let crate::Credential::Sas(token) = credential else { return self };
        let about = format!(" (the credential is {})", crate::sas::describe(token));
        match self {
            Error::PermissionDenied { code, message } => Error::PermissionDenied { code, message: message + &about },
            Error::Unauthenticated { code, message } => Error::Unauthenticated { code, message: message + &about },
            other => other,
        }
    }
}

/// The `<Message>` of an Azure error body, first line only.
fn service_message(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Message>")? + "<Message>".len();
    let end = text[start..].find("</Message>")? + start;
    Some(text[start..end].lines().next().unwrap_or_default().trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_answers() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.\nRequestId:1</Message></Error>";
        assert!(matches!(Error::from_response(404, Some("ContainerNotFound"), body, false), Error::ContainerNotFound { .. }));
        match Error::from_response(404, Some("BlobNotFound"), b"", false).naming("/c1/a%20b/%C3%A9.csv?comp=x") {
            Error::BlobNotFound { container, blob } => assert_eq!((container.as_str(), blob.as_str()), ("c1", "a b/\u{e9}.csv")),
            e => panic!("{e:?}"),
        }
        assert!(matches!(Error::from_response(404, Some("ResourceNotFound"), b"", true), Error::Unauthenticated { .. }));
        assert!(matches!(Error::from_response(404, Some("ResourceNotFound"), b"", false), Error::Service { status: 404, .. }));
        match Error::from_response(403, Some("AuthorizationPermissionMismatch"), b"<Message>nope</Message>", false) {
            Error::PermissionDenied { message, .. } => assert_eq!(message, "nope"),
            e => panic!("{e:?}"),
        }
        assert!(matches!(Error::from_response(403, Some("AuthenticationFailed"), b"", false), Error::Unauthenticated { .. }));
        assert!(matches!(Error::from_response(500, None, b"", false), Error::Service { status: 500, .. }));
    }
}
