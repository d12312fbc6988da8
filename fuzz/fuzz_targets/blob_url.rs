//! Blob URLs of COPY and blob functions: Azure hosts and path-style URLs under an endpoint.
//! Input: a URL, or `<endpoint>\n<url>` to fuzz the endpoint too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use input::names::{validate_account_name, validate_blob_name, validate_container_name};
use input::url::{is_url, parse_azure_host, parse_under_endpoint, BlobUrl};

const AZURITE: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// What any accepted URL must name: a valid account and container, and a blob name that a
/// URL cannot resolve into another one.
fn check(u: &BlobUrl, url: &str) {
    assert!(validate_account_name(&u.account).is_ok(), "{url:?} -> {u:?}");
    assert!(validate_container_name(&u.container).is_ok(), "{url:?} -> {u:?}");
    assert!(validate_blob_name(&u.path).is_ok(), "{url:?} -> {u:?}");
    assert!(!u.path.is_empty());
    assert!(!u.path.split('/').any(|s| s == "." || s == ".."), "{url:?} -> {u:?}");
}

fn refused(e: &str, url: &str) {
    assert!(!e.is_empty(), "{url:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (endpoint, url) = input.split_once('\n').unwrap_or((AZURITE, input));

    let _ = is_url(url);
    match parse_azure_host(url) {
        Some(Ok(u)) => {
            check(&u, url);
            // The account is the host's first label, as the URL parser reads the host.
            let host = reqwest_host(url);
            assert_eq!(host.as_deref(), Some(format!("{}.blob.core.windows.net", u.account).as_str()), "{url:?}");
        }
        Some(Err(e)) => refused(&e, url),
        None => {}
    }
    // Registered accounts have endpoints like Azurite's; the account name comes from the
    // catalog or the endpoint template, so it need not be valid.
    for account in ["devstoreaccount1", "Bad_Name"] {
        match parse_under_endpoint(url, endpoint, account) {
            Some(Ok(u)) => {
                check(&u, url);
                assert_eq!(u.account, account);
                assert!(url.starts_with(endpoint.trim_end_matches('/')));
            }
            Some(Err(e)) => refused(&e, url),
            None => {}
        }
    }
    let redacted = input::url::redact_url(url);
    let before_fragment = redacted.split('#').next().unwrap_or_default();
    assert!(!before_fragment.contains('?'), "{url:?} -> {redacted:?}");
});

/// The host as `parse_azure_host` sees it (it parses URLs with the `url` crate).
fn reqwest_host(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(|h| h.to_ascii_lowercase())
}
