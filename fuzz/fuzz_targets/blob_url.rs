//! Blob URLs of COPY and pgvault: Azure blob and dfs hosts, abfss://, wasbs://, az:// and
//! path-style URLs under an endpoint. Input: a URL, or `<endpoint>\n<url>` to fuzz the
//! endpoint too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use input::names::{validate_account_name, validate_blob_name, validate_container_name};
use input::url::{is_url, parse_azure_host, parse_under_endpoint, resolve, resolve_location, Accounts, BlobUrl};

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
            let blob = format!("{}.blob.core.windows.net", u.account);
            let dfs = format!("{}.dfs.core.windows.net", u.account);
            assert!(host == Some(blob) || host == Some(dfs), "{url:?}");
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
    // Every form, as COPY and pgvault resolve them.
    let accounts = Accounts { endpoints: vec![(endpoint, "devstoreaccount1")], template: "http://127.0.0.1:10000/{account}", default_account: Ok("defaultacct".into()) };
    for (found, blob) in [(resolve(url, &accounts), true), (resolve_location(url, &accounts), false)] {
        match found {
            Some(Ok(u)) => {
                if blob {
                    check(&u, url);
                } else {
                    assert!(validate_account_name(&u.account).is_ok() && validate_container_name(&u.container).is_ok(), "{url:?} -> {u:?}");
                }
                assert!(is_url(url), "{url:?}");
                // A container@host form names the container before its only @ and the account
                // as the host's first label.
                let lower = url.to_ascii_lowercase();
                if ["abfss://", "abfs://", "wasbs://", "wasb://"].iter().any(|s| lower.starts_with(s)) {
                    let authority = url.split("://").nth(1).unwrap_or_default().split('/').next().unwrap_or_default();
                    assert_eq!(authority.matches('@').count(), 1, "{url:?}");
                    let (container, host) = authority.split_once('@').unwrap_or_default();
                    assert_eq!(container, u.container, "{url:?}");
                    assert!(host.to_ascii_lowercase().starts_with(&format!("{}.", u.account)), "{url:?}");
                }
                if lower.starts_with("az://") || lower.starts_with("azure://") {
                    assert_eq!(u.account, "defaultacct", "{url:?}");
                }
            }
            Some(Err(e)) => {
                refused(&e, url);
                // A password never shows: messages show the URL as redact_url gives it.
                let authority = |u: &str| u.split_once("://").map_or("", |(_, r)| r.split(['/', '?', '#', '\\']).next().unwrap_or_default()).to_string();
                let shown = authority(&input::url::redact_url(url));
                if let Some(at) = shown.rfind('@') {
                    assert!(!shown[..at].contains(':'), "{url:?} -> {shown}");
                }
            }
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
