//! One TLS client configuration for the process. Building an HTTP client otherwise reads the
//! whole system certificate store, and every stream builds clients of its own (connections
//! belong to the runtime of the thread that opened them), so a statement reading 200 small
//! blobs read the store hundreds of times.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

static CONFIG: OnceLock<std::result::Result<rustls::ClientConfig, String>> = OnceLock::new();

/// The platform's certificate verification, as reqwest sets it up itself, built once.
fn config() -> Result<rustls::ClientConfig> {
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            Ok(config)
        })
        .clone()
        .map_err(|cause| Error::Connect { endpoint: "(TLS setup)".into(), cause })
}

/// A client builder that uses the shared TLS configuration.
pub fn client_builder() -> Result<reqwest::ClientBuilder> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(config()?))
}
