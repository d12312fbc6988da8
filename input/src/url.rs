//! Blob URLs: `https://<account>.blob.core.windows.net/<container>/<path>`, or path-style
//! under an endpoint: `<endpoint>/<container>/<path>`.

use percent_encoding::percent_decode_str;

use crate::names;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobUrl {
    pub account: String,
    pub container: String,
    pub path: String,
}

const AZURE_HOST_SUFFIX: &str = ".blob.core.windows.net";

/// Whether a COPY file name is a URL at all (then it is ours to serve or refuse).
pub fn is_url(name: &str) -> bool {
    let lower = name.get(..8).unwrap_or(name).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// `<container>/<path>` after an account's endpoint, percent-decoded and checked.
fn container_and_path(account: &str, rest: &str, url: &str) -> Result<BlobUrl, String> {
    let rest = rest.trim_start_matches('/');
    let (container, path) = rest
        .split_once('/')
        .filter(|(_, p)| !p.is_empty())
        .ok_or_else(|| format!("blob URL \"{url}\" names no blob; expected https://<account>.blob.core.windows.net/<container>/<path>"))?;
    let path = percent_decode_str(path).decode_utf8().map_err(|_| format!("blob URL \"{url}\" is not valid UTF-8 once decoded"))?.into_owned();
    names::validate_account_name(account).map_err(|e| e.to_string())?;
    names::validate_container_name(container).map_err(|e| e.to_string())?;
    names::validate_blob_name(&path).map_err(|e| e.to_string())?;
    Ok(BlobUrl { account: account.to_string(), container: container.to_string(), path })
}

/// Account, container and blob of the URL `name`, tried in order: an Azure host
/// (`<account>.blob.core.windows.net`), a path under one of `endpoints` (endpoint, account:
/// the registered accounts that have one), a path under the default endpoint `template`
/// (`{account}` standing for the account, as `http://127.0.0.1:10000/{account}`). `None`
/// when none of them is a prefix of the URL.
pub fn resolve<'a>(name: &str, endpoints: impl IntoIterator<Item = (&'a str, &'a str)>, template: &str) -> Option<Result<BlobUrl, String>> {
    parse_azure_host(name)
        .or_else(|| endpoints.into_iter().find_map(|(endpoint, account)| parse_under_endpoint(name, endpoint, account)))
        .or_else(|| under_template(name, template))
}

/// A path-style URL under the endpoint `template` names for the account in the URL.
fn under_template(name: &str, template: &str) -> Option<Result<BlobUrl, String>> {
    let (prefix, _) = template.split_once("{account}")?;
    let account = name.strip_prefix(prefix)?.split('/').next()?;
    parse_under_endpoint(name, &template.replace("{account}", account), account)
}

/// Parses a URL whose host is `<account>.blob.core.windows.net`; `None` for other hosts.
pub fn parse_azure_host(url: &str) -> Option<Result<BlobUrl, String>> {
    let parsed = ::url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let account = host.strip_suffix(AZURE_HOST_SUFFIX)?;
    if let Some(refused) = query_or_fragment(url, parsed.query().is_some(), parsed.fragment().is_some()) {
        return Some(Err(refused));
    }
    // The path as written: a URL parser folds `a/../b` into `b`, `%2e%2e` into `..` and `\`
    // into `/`, which would read or write another blob than the one named. Dot segments are
    // then refused by the blob name rules, and so is a backslash. The path starts where the
    // host and port end.
    let after_scheme = &url[url.find("://").map_or(0, |i| i + 3)..];
    let raw_path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    Some(container_and_path(account, raw_path, url))
}

/// Parses a path-style URL under `endpoint` (`http://127.0.0.1:10000/devstoreaccount1`);
/// `None` when the URL is not under it.
pub fn parse_under_endpoint(url: &str, endpoint: &str, account: &str) -> Option<Result<BlobUrl, String>> {
    let endpoint = endpoint.trim_end_matches('/');
    let rest = url.strip_prefix(endpoint)?.strip_prefix('/')?;
    if let Some(refused) = query_or_fragment(url, rest.contains('?'), rest.contains('#')) {
        return Some(Err(refused));
    }
    Some(container_and_path(account, rest, url))
}

/// A query would carry credentials (they are registered instead), and a fragment would cut
/// a blob name at `#` (written %23 in a URL): both refused.
fn query_or_fragment(url: &str, query: bool, fragment: bool) -> Option<String> {
    let shown = redact_url(url);
    if query {
        return Some(format!("blob URL \"{shown}\" has a query string; register a SAS token with account_add instead"));
    }
    fragment.then(|| format!("blob URL \"{shown}\" has a fragment (#...); write a # in a blob name as %23"))
}

/// The URL without its query string and user info, which may hold a SAS token or a password.
pub fn redact_url(url: &str) -> String {
    match ::url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_urls() {
        let u = parse_azure_host("https://myacct.blob.core.windows.net/cont/dir/a%20b.csv.gz").unwrap().unwrap();
        assert_eq!(u, BlobUrl { account: "myacct".into(), container: "cont".into(), path: "dir/a b.csv.gz".into() });
        assert!(parse_azure_host("https://example.com/cont/a.csv").is_none());
        assert!(parse_azure_host("https://myacct.blob.core.windows.net/cont").unwrap().is_err());
        assert!(parse_azure_host("https://myacct.blob.core.windows.net/Bad_Container/x").unwrap().unwrap_err().contains("container"));
        assert!(!parse_azure_host("https://a.blob.core.windows.net/cont/x?sig=s").unwrap().unwrap_err().contains("sig"));
        assert_eq!(redact_url("https://u:p@h/c/b?sig=s"), "https://h/c/b");
        assert!(is_url("HTTPS://x") && is_url("http://x") && !is_url("/tmp/file.csv") && !is_url("h"));
    }

    #[test]
    fn no_path_confusion() {
        let e = parse_azure_host("https://acct.blob.core.windows.net/c1c/x/../b.csv").unwrap().unwrap_err();
        assert!(e.contains("\"..\""), "{e}");
        assert!(parse_azure_host("https://acct.blob.core.windows.net/c1c/a/%2e%2e/b.csv").unwrap().is_err());
        assert!(parse_azure_host("https://acct.blob.core.windows.net/c1c/a/./b.csv").unwrap().is_err());
        // A backslash is not turned into a separator here; the name is refused as such.
        let e = parse_azure_host("https://acct.blob.core.windows.net/c1c/back\\slash.csv").unwrap().unwrap_err();
        assert!(e.contains("back\\slash.csv") && e.contains("backslash"), "{e}");
        let b = parse_azure_host("https://acct.blob.core.windows.net/c1c/x%2Fy.csv").unwrap().unwrap();
        assert_eq!(b.path, "x/y.csv");
        let b = parse_azure_host("https://acct.blob.core.windows.net/c1c/hash%23.csv").unwrap().unwrap();
        assert_eq!(b.path, "hash#.csv");
        for fragment in ["https://acct.blob.core.windows.net#/c1c/b", "https://acct.blob.core.windows.net/c1c/hash#.csv"] {
            let e = parse_azure_host(fragment).unwrap().unwrap_err();
            assert!(e.contains("fragment"), "{e}");
        }
        let e = parse_under_endpoint("http://127.0.0.1:10000/acct/c1c/a#x?sig=s", "http://127.0.0.1:10000/acct", "acct").unwrap().unwrap_err();
        assert!(!e.contains("sig") && !e.contains("#x"), "{e}");
    }

    #[test]
    fn path_style_urls() {
        let e = "http://127.0.0.1:10000/devstoreaccount1";
        let u = parse_under_endpoint("http://127.0.0.1:10000/devstoreaccount1/c01/x.csv", e, "devstoreaccount1").unwrap().unwrap();
        assert_eq!((u.container.as_str(), u.path.as_str()), ("c01", "x.csv"));
        assert!(parse_under_endpoint("http://127.0.0.1:10000/other/c01/x.csv", e, "devstoreaccount1").is_none());
        assert!(parse_under_endpoint("http://127.0.0.1:10000/devstoreaccount10/c/x", e, "devstoreaccount1").is_none());
    }

    #[test]
    fn resolution_order() {
        let template = "http://127.0.0.1:10000/{account}";
        let registered = [("http://127.0.0.1:9999/custom", "acct1"), ("http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1")];
        let got = |name: &str| resolve(name, registered, template).map(|r| r.map(|u| (u.account, u.container, u.path)));
        // An Azure host names its account, whatever is registered.
        assert_eq!(got("https://acct2.blob.core.windows.net/c01/a.csv"), Some(Ok(("acct2".into(), "c01".into(), "a.csv".into()))));
        // A registered endpoint names the account registered with it, not the path's first part.
        assert_eq!(got("http://127.0.0.1:9999/custom/c01/d/a.csv"), Some(Ok(("acct1".into(), "c01".into(), "d/a.csv".into()))));
        // Under the default endpoint, the account is the path's first part.
        assert_eq!(got("http://127.0.0.1:10000/other/c02/b.csv"), Some(Ok(("other".into(), "c02".into(), "b.csv".into()))));
        assert!(got("http://127.0.0.1:10000/Bad_Account/c02/b.csv").unwrap().is_err());
        assert!(got("http://127.0.0.1:10000/other/c02").unwrap().is_err());
        // Another host, or a template without {account}: not a blob URL.
        assert_eq!(got("http://192.0.2.1/acct/c/b.csv"), None);
        assert_eq!(resolve("http://127.0.0.1:10000/x/c/b.csv", [], "http://127.0.0.1:10000/fixed"), None);
        // A query string is refused wherever the URL points, its value unshown.
        let e = got("http://127.0.0.1:9999/custom/c01/a.csv?sig=secret").unwrap().unwrap_err();
        assert!(e.contains("query string") && !e.contains("secret"), "{e}");
    }
}
