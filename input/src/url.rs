//! Blob URLs, every form resolved to an account, a container and a blob (or, for pgvault's
//! flags, a prefix):
//!
//! - `https://<account>.blob.core.windows.net/<container>/<path>`, and the same with the Data
//!   Lake host `<account>.dfs.core.windows.net`;
//! - `abfss://<container>@<account>.dfs.core.windows.net/<path>` (or `abfs://`), Hadoop's and
//!   Spark's Data Lake form;
//! - `wasbs://<container>@<account>.blob.core.windows.net/<path>` (or `wasb://`);
//! - `az://<container>/<path>` (or `azure://`), fsspec's form, whose account is a default
//!   the caller supplies;
//! - a path-style URL `<endpoint>/<container>/<path>` under an account's endpoint.
//!
//! Whatever the form, requests go to the account's own endpoint: a host in a URL only names
//! the account. The path is taken as written (not normalised), percent-decoded, and checked by
//! the blob name rules; query strings and fragments are refused.

use percent_encoding::percent_decode_str;

use crate::names;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobUrl {
    pub account: String,
    pub container: String,
    /// The blob; for a location (`resolve_location`), a name prefix, possibly empty.
    pub path: String,
}

const BLOB_HOST_SUFFIX: &str = ".blob.core.windows.net";
const DFS_HOST_SUFFIX: &str = ".dfs.core.windows.net";

/// Every accepted form, for messages.
pub const ACCEPTED_FORMS: &str = "https://<account>.blob.core.windows.net/<container>/<path>, \
     https://<account>.dfs.core.windows.net/<container>/<path>, \
     abfss://<container>@<account>.dfs.core.windows.net/<path> (or abfs://), \
     wasbs://<container>@<account>.blob.core.windows.net/<path> (or wasb://), \
     az://<container>/<path> (or azure://, with the default account), \
     or <endpoint>/<container>/<path> under an account's endpoint";

/// Schemes whose URLs are ours, matched without regard to case.
const SCHEMES: [&str; 8] = ["https", "http", "abfss", "abfs", "wasbs", "wasb", "az", "azure"];

/// What a URL is resolved against: the accounts that have an endpoint of their own, the
/// endpoint of the others, and the account of URLs that name none.
#[derive(Debug, Clone)]
pub struct Accounts<'a> {
    /// (endpoint, account) of registered accounts with an endpoint, tried in order.
    pub endpoints: Vec<(&'a str, &'a str)>,
    /// The default endpoint, `{account}` standing for the account name
    /// (`http://127.0.0.1:10000/{account}`); path-style URLs under it name their account.
    pub template: &'a str,
    /// The account of `az://` and `azure://` URLs, or why there is none (a sentence that says
    /// how to give one).
    pub default_account: Result<String, String>,
}

/// Whether a COPY file name is a URL at all (then it is ours to serve or refuse).
pub fn is_url(name: &str) -> bool {
    scheme(name).is_some()
}

/// The scheme of `name`, lowercase, when it is one of ours followed by `://`.
fn scheme(name: &str) -> Option<&'static str> {
    let (given, _) = name.split_once("://")?;
    SCHEMES.into_iter().find(|s| s.eq_ignore_ascii_case(given))
}

/// What the path of a URL must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A blob name.
    Blob,
    /// A container, with a name prefix or not (pgvault's `--vault`, `--from`, `--target`).
    Location,
}

/// Account, container and blob of the URL `name`, in any accepted form. `None` when it is an
/// http(s) URL of none of them (another host, not under an endpoint) or not a URL.
pub fn resolve(name: &str, accounts: &Accounts) -> Option<Result<BlobUrl, String>> {
    resolve_as(name, accounts, Want::Blob)
}

/// `resolve` for a container and an optional name prefix (the path, possibly empty), as
/// pgvault's flags take them.
pub fn resolve_location(name: &str, accounts: &Accounts) -> Option<Result<BlobUrl, String>> {
    resolve_as(name, accounts, Want::Location)
}

fn resolve_as(name: &str, accounts: &Accounts, want: Want) -> Option<Result<BlobUrl, String>> {
    match scheme(name) {
        Some("abfss" | "abfs") => Some(parse_container_at_host(name, DFS_HOST_SUFFIX, "abfss://<container>@<account>.dfs.core.windows.net/<path>", want)),
        Some("wasbs" | "wasb") => Some(parse_container_at_host(name, BLOB_HOST_SUFFIX, "wasbs://<container>@<account>.blob.core.windows.net/<path>", want)),
        Some("az" | "azure") => Some(parse_default_account(name, &accounts.default_account, want)),
        // http(s), in the order: an Azure host, a registered endpoint, the default endpoint.
        Some(_) => azure_host(name, want)
            .or_else(|| accounts.endpoints.iter().find_map(|(endpoint, account)| under_endpoint(name, endpoint, account, want)))
            .or_else(|| under_template(name, accounts.template, want)),
        None => None,
    }
}

/// A path-style URL under the endpoint `template` names for the account in the URL.
fn under_template(name: &str, template: &str, want: Want) -> Option<Result<BlobUrl, String>> {
    let (prefix, _) = template.split_once("{account}")?;
    let account = name.strip_prefix(prefix)?.split('/').next()?;
    under_endpoint(name, &template.replace("{account}", account), account, want)
}

/// Parses a URL whose host is `<account>.blob.core.windows.net` or
/// `<account>.dfs.core.windows.net`; `None` for other hosts.
pub fn parse_azure_host(url: &str) -> Option<Result<BlobUrl, String>> {
    azure_host(url, Want::Blob)
}

fn azure_host(url: &str, want: Want) -> Option<Result<BlobUrl, String>> {
    let parsed = ::url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let (account, form) = match host.strip_suffix(BLOB_HOST_SUFFIX) {
        Some(account) => (account, "https://<account>.blob.core.windows.net/<container>/<path>"),
        None => (host.strip_suffix(DFS_HOST_SUFFIX)?, "https://<account>.dfs.core.windows.net/<container>/<path>"),
    };
    if let Some(refused) = query_or_fragment(url, parsed.query().is_some(), parsed.fragment().is_some()) {
        return Some(Err(refused));
    }
    // The path as written: a URL parser folds `a/../b` into `b`, `%2e%2e` into `..` and `\`
    // into `/`, which would read or write another blob than the one named. Dot segments are
    // then refused by the blob name rules, and so is a backslash. The path starts where the
    // host and port end.
    let after_scheme = &url[url.find("://").map_or(0, |i| i + 3)..];
    let raw_path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    Some(container_and_path(account, raw_path, url, form, want))
}

/// Parses a path-style URL under `endpoint` (`http://127.0.0.1:10000/devstoreaccount1`);
/// `None` when the URL is not under it.
pub fn parse_under_endpoint(url: &str, endpoint: &str, account: &str) -> Option<Result<BlobUrl, String>> {
    under_endpoint(url, endpoint, account, Want::Blob)
}

fn under_endpoint(url: &str, endpoint: &str, account: &str, want: Want) -> Option<Result<BlobUrl, String>> {
    let endpoint = endpoint.trim_end_matches('/');
    let rest = url.strip_prefix(endpoint)?;
    // A location may be the container alone (`<endpoint>/<container>`), a blob may not.
    let rest = match rest.strip_prefix('/') {
        Some(rest) => rest,
        None if rest.is_empty() && want == Want::Location => rest,
        None => return None,
    };
    if let Some(refused) = query_or_fragment(url, rest.contains('?'), rest.contains('#')) {
        return Some(Err(refused));
    }
    Some(container_and_path(account, rest, url, "<endpoint>/<container>/<path>", want))
}

/// `<container>/<path>` after an account's endpoint or host, percent-decoded and checked.
fn container_and_path(account: &str, rest: &str, url: &str, form: &str, want: Want) -> Result<BlobUrl, String> {
    let rest = rest.trim_start_matches('/');
    let (container, path) = rest.split_once('/').unwrap_or((rest, ""));
    if container.is_empty() {
        return Err(format!("blob URL \"{}\" names no container; expected {form}", redact_url(url)));
    }
    checked(account, container, path, url, form, want)
}

/// `abfss://<container>@<account><host_suffix>/<path>` and its kin: the container is the user
/// name, the host names the account.
fn parse_container_at_host(url: &str, host_suffix: &str, form: &str, want: Want) -> Result<BlobUrl, String> {
    let shown = redact_url(url);
    let bad = |problem: String| format!("blob URL \"{shown}\" {problem}; accepted forms: {ACCEPTED_FORMS}");
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    if let Some(refused) = query_or_fragment(url, rest.contains('?'), rest.contains('#')) {
        return Err(refused);
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
    let Some((container, host)) = authority.split_once('@') else {
        return Err(bad(format!("names no container: expected {form}")));
    };
    if host.contains('@') {
        return Err(bad(format!("has more than one @: expected {form}")));
    }
    if container.contains(':') {
        return Err(bad("has a password; credentials are registered, not written in URLs".into()));
    }
    if container.is_empty() {
        return Err(bad(format!("names no container: expected {form}")));
    }
    if host.contains(':') {
        return Err(bad(format!("has a port; requests go to the account's endpoint: expected {form}")));
    }
    let host = host.to_ascii_lowercase();
    let Some(account) = host.strip_suffix(host_suffix).filter(|a| !a.is_empty() && !a.contains('.')) else {
        return Err(bad(format!("has host \"{host}\", not <account>{host_suffix}: expected {form}")));
    };
    checked(account, container, path.strip_prefix('/').unwrap_or(path), url, form, want)
}

/// `az://<container>/<path>`: the account is the default one.
fn parse_default_account(url: &str, default_account: &Result<String, String>, want: Want) -> Result<BlobUrl, String> {
    let shown = redact_url(url);
    let form = "az://<container>/<path>";
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    if let Some(refused) = query_or_fragment(url, rest.contains('?'), rest.contains('#')) {
        return Err(refused);
    }
    let (container, path) = rest.split_once('/').unwrap_or((rest, ""));
    if container.contains('@') || container.contains(':') {
        return Err(format!(
            "blob URL \"{shown}\" has a user name, password or port, which {form} does not take; accepted forms: {ACCEPTED_FORMS}"
        ));
    }
    if container.is_empty() {
        return Err(format!("blob URL \"{shown}\" names no container; expected {form}"));
    }
    if want == Want::Blob && path.is_empty() {
        return Err(format!("blob URL \"{shown}\" names no blob; expected {form}"));
    }
    let account = default_account.as_ref().map_err(|why| format!("blob URL \"{shown}\" names no account: {why}"))?;
    checked(account, container, path, url, form, want)
}

/// The parts, the path percent-decoded, checked by the name rules.
fn checked(account: &str, container: &str, path: &str, url: &str, form: &str, want: Want) -> Result<BlobUrl, String> {
    if want == Want::Blob && path.is_empty() {
        return Err(format!("blob URL \"{}\" names no blob; expected {form}", redact_url(url)));
    }
    let path = percent_decode_str(path).decode_utf8().map_err(|_| format!("blob URL \"{}\" is not valid UTF-8 once decoded", redact_url(url)))?.into_owned();
    names::validate_account_name(account).map_err(|e| e.to_string())?;
    names::validate_container_name(container).map_err(|e| e.to_string())?;
    match want {
        Want::Blob => names::validate_blob_name(&path),
        Want::Location => names::validate_prefix(&path),
    }
    .map_err(|e| e.to_string())?;
    Ok(BlobUrl { account: account.to_string(), container: container.to_string(), path })
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
/// In `abfss://` and `wasbs://` URLs the user name is the container, and stays.
pub fn redact_url(url: &str) -> String {
    if matches!(scheme(url), Some("abfss" | "abfs" | "wasbs" | "wasb" | "az" | "azure")) {
        return redact_by_hand(url, true);
    }
    match ::url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        // Not a URL the parser takes (an empty host after the last @, a control character):
        // cut by hand, user info and all.
        Err(_) => redact_by_hand(url, false),
    }
}

/// `redact_url` by hand, for our own schemes (a URL parser would re-encode what it shows)
/// and for what no parser takes: the query and fragment cut, and the password (`:...` before
/// the last `@`) left out; with `keep_user` false the user name too.
fn redact_by_hand(url: &str, keep_user: bool) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let start = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(start);
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let Some(at) = authority.rfind('@') else { return url.to_string() };
    // The user info is what comes before the last @, its password what follows its first colon.
    let (user, host) = authority.split_at(at);
    let user = if keep_user { user.split(':').next().unwrap_or_default() } else { "" };
    let host = if keep_user { host } else { &host[1..] };
    format!("{head}{user}{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(default_account: Result<&str, &str>) -> Accounts<'static> {
        Accounts {
            endpoints: vec![("http://127.0.0.1:9999/custom", "acct1"), ("http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1")],
            template: "http://127.0.0.1:10000/{account}",
            default_account: default_account.map(str::to_string).map_err(str::to_string),
        }
    }

    fn parts(u: BlobUrl) -> (String, String, String) {
        (u.account, u.container, u.path)
    }

    #[test]
    fn azure_urls() {
        let u = parse_azure_host("https://myacct.blob.core.windows.net/cont/dir/a%20b.csv.gz").unwrap().unwrap();
        assert_eq!(u, BlobUrl { account: "myacct".into(), container: "cont".into(), path: "dir/a b.csv.gz".into() });
        assert!(parse_azure_host("https://example.com/cont/a.csv").is_none());
        assert!(parse_azure_host("https://myacct.blob.core.windows.net/cont").unwrap().is_err());
        assert!(parse_azure_host("https://myacct.blob.core.windows.net/Bad_Container/x").unwrap().unwrap_err().contains("container"));
        assert!(!parse_azure_host("https://a.blob.core.windows.net/cont/x?sig=s").unwrap().unwrap_err().contains("sig"));
        assert_eq!(redact_url("https://u:p@h/c/b?sig=s"), "https://h/c/b");
        // No parser takes these (an empty host; a carriage return): the password goes all the same.
        assert_eq!(redact_url("https://a\rt@e.core.wi6886:secret@"), "https://");
        assert_eq!(redact_url("https://u:secret@/c/b?sig=s"), "https:///c/b");
        assert!(is_url("HTTPS://x") && is_url("http://x") && !is_url("/tmp/file.csv") && !is_url("h"));
    }

    #[test]
    fn schemes_recognised() {
        for url in ["abfss://c@a.dfs.core.windows.net/x", "ABFS://x", "wasbs://x", "WaSb://x", "az://c/x", "AZURE://c/x", "Https://x"] {
            assert!(is_url(url), "{url}");
        }
        for name in ["/tmp/az.csv", "az:/c/x", "azx://c/x", "s3://b/k", "file:///tmp/x", "abfss:", "é://x", ""] {
            assert!(!is_url(name), "{name}");
        }
    }

    #[test]
    fn every_form_names_the_same_blob() {
        let want = ("devstoreaccount1".to_string(), "import".to_string(), "dir/a b.csv".to_string());
        let forms = [
            "https://devstoreaccount1.blob.core.windows.net/import/dir/a%20b.csv",
            "HTTPS://DevStoreAccount1.Blob.Core.Windows.Net/import/dir/a%20b.csv",
            "https://devstoreaccount1.dfs.core.windows.net/import/dir/a%20b.csv",
            "http://devstoreaccount1.dfs.core.windows.net/import/dir/a%20b.csv",
            "abfss://import@devstoreaccount1.dfs.core.windows.net/dir/a%20b.csv",
            "abfs://import@devstoreaccount1.dfs.core.windows.net/dir/a%20b.csv",
            "ABFSS://import@DEVSTOREACCOUNT1.DFS.CORE.WINDOWS.NET/dir/a%20b.csv",
            "wasbs://import@devstoreaccount1.blob.core.windows.net/dir/a%20b.csv",
            "wasb://import@devstoreaccount1.blob.core.windows.net/dir/a%20b.csv",
            "az://import/dir/a%20b.csv",
            "Azure://import/dir/a%20b.csv",
            "http://127.0.0.1:10000/devstoreaccount1/import/dir/a%20b.csv",
        ];
        for url in forms {
            let got = resolve(url, &accounts(Ok("devstoreaccount1"))).unwrap_or_else(|| panic!("{url}: not ours"));
            assert_eq!(got.map(parts), Ok(want.clone()), "{url}");
        }
        // Patterns pass as the path, in every form.
        let u = resolve("abfss://import@devstoreaccount1.dfs.core.windows.net/d/**.csv", &accounts(Err("none"))).unwrap().unwrap();
        assert_eq!(u.path, "d/**.csv");
        let u = resolve("az://import/d/*.csv", &accounts(Ok("acct2"))).unwrap().unwrap();
        assert_eq!(parts(u), ("acct2".into(), "import".into(), "d/*.csv".into()));
    }

    #[test]
    fn az_needs_an_account() {
        let e = resolve("az://import/x.csv", &accounts(Err("set azure_storage.default_account to one of a1, a2"))).unwrap().unwrap_err();
        assert_eq!(e, "blob URL \"az://import/x.csv\" names no account: set azure_storage.default_account to one of a1, a2");
        // What is wrong with the URL itself comes first.
        let e = resolve("az://import", &accounts(Err("none registered"))).unwrap().unwrap_err();
        assert!(e.contains("names no blob"), "{e}");
        let e = resolve("az://import/x.csv", &accounts(Ok("Bad_Account"))).unwrap().unwrap_err();
        assert!(e.contains("invalid storage account name \"Bad_Account\""), "{e}");
        for (url, says) in [
            ("az://import", "names no blob"),
            ("az://import/", "names no blob"),
            ("az:///x.csv", "names no container"),
            ("az://", "names no container"),
            ("az://Import/x.csv", "invalid container name \"Import\""),
            ("az://user:secret@import/x.csv", "has a user name, password or port"),
            ("az://import:443/x.csv", "has a user name, password or port"),
        ] {
            let e = resolve(url, &accounts(Ok("acct2"))).unwrap().unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("secret"), "{url}: {e}");
        }
    }

    #[test]
    fn bad_forms_refused() {
        let accounts = accounts(Ok("acct2"));
        for (url, says) in [
            ("abfss://acct.dfs.core.windows.net/c1c/x.csv", "names no container"),
            ("abfss://@acct.dfs.core.windows.net/x.csv", "names no container"),
            ("abfss://c1c@acct.blob.core.windows.net/x.csv", "has host \"acct.blob.core.windows.net\", not <account>.dfs.core.windows.net"),
            ("abfss://c1c@acct.dfs.core.chinacloudapi.cn/x.csv", "not <account>.dfs.core.windows.net"),
            ("abfss://c1c@dfs.core.windows.net/x.csv", "not <account>.dfs.core.windows.net"),
            ("abfss://c1c@.dfs.core.windows.net/x.csv", "not <account>.dfs.core.windows.net"),
            ("abfss://c1c@a.b.dfs.core.windows.net/x.csv", "not <account>.dfs.core.windows.net"),
            ("abfss://c1c@acct.dfs.core.windows.net./x.csv", "not <account>.dfs.core.windows.net"),
            ("abfss://c1c@acct.dfs.core.windows.net.evil.com/x.csv", "not <account>.dfs.core.windows.net"),
            ("abfss://c1c@127.0.0.1/x.csv", "has host \"127.0.0.1\""),
            ("abfss://c1c@[::1]/x.csv", "has a port"),
            ("abfss://c1c@acct.dfs.core.windows.net:443/x.csv", "has a port"),
            ("abfss://c1c@acct.dfs.core.windows.net", "names no blob"),
            ("abfss://c1c@acct.dfs.core.windows.net/", "names no blob"),
            ("wasbs://c1c@acct.dfs.core.windows.net/x.csv", "not <account>.blob.core.windows.net"),
            ("wasb://acct.blob.core.windows.net/c1c/x.csv", "names no container"),
            ("https://acct.dfs.core.windows.net/c1c", "names no blob"),
            ("https://acct.dfs.core.windows.net/", "names no container"),
        ] {
            let e = resolve(url, &accounts).unwrap().unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
            assert!(e.contains(&format!("\"{url}\"")), "{url}: the message names the URL: {e}");
        }
        // Form errors list the accepted forms.
        let e = resolve("abfss://acct.dfs.core.windows.net/c1c/x.csv", &accounts).unwrap().unwrap_err();
        assert!(e.ends_with(ACCEPTED_FORMS) && e.contains("az://<container>/<path>"), "{e}");
    }

    #[test]
    fn hostile_forms() {
        let accounts = accounts(Ok("acct2"));
        // `@` tricks: the host is never taken from before the last @, nor the container from
        // after the first.
        for url in [
            "abfss://c1c@evil.com@acct.dfs.core.windows.net/x",
            "abfss://c1c@acct.dfs.core.windows.net@evil.com/x",
            "wasbs://c1c@evil.com@acct.blob.core.windows.net/x",
        ] {
            let e = resolve(url, &accounts).unwrap().unwrap_err();
            assert!(e.contains("more than one @"), "{url}: {e}");
        }
        // A password is refused and never shown.
        let e = resolve("abfss://c1c:hunter2@acct.dfs.core.windows.net/x?sig=secret", &accounts).unwrap().unwrap_err();
        assert!(!e.contains("hunter2") && !e.contains("secret"), "{e}");
        let e = resolve("abfss://c1c:hunter2@acct.dfs.core.windows.net/x", &accounts).unwrap().unwrap_err();
        assert!(e.contains("has a password") && e.contains("\"abfss://c1c@acct.dfs.core.windows.net/x\"") && !e.contains("hunter2"), "{e}");
        let e = resolve("wasbs://c1c@evil.com:hunter2@acct.blob.core.windows.net/x", &accounts).unwrap().unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        // Path traversal, encoded or not, and backslashes: refused by the blob name rules.
        for url in [
            "abfss://c1c@acct.dfs.core.windows.net/a/../b.csv",
            "abfss://c1c@acct.dfs.core.windows.net/a/%2e%2e/b.csv",
            "abfss://c1c@acct.dfs.core.windows.net/./b.csv",
            "abfss://c1c@acct.dfs.core.windows.net/..",
            "wasbs://c1c@acct.blob.core.windows.net/a/%2E/b.csv",
            "az://c1c/a/../b.csv",
            "az://c1c/../other/b.csv",
            "https://acct.dfs.core.windows.net/c1c/a/../b.csv",
            "abfss://c1c@acct.dfs.core.windows.net/back\\slash.csv",
            "az://c1c/a%5Cb.csv",
        ] {
            let e = resolve(url, &accounts).unwrap().unwrap_err();
            assert!(e.contains("invalid blob name"), "{url}: {e}");
        }
        // A backslash or an encoded slash cannot end the host or the container.
        for url in ["abfss://c1c@acct.dfs.core.windows.net\\x.csv", "abfss://c1c@evil.com\\@acct.dfs.core.windows.net/x", "az://c1c%2Fother/x.csv", "abfss://c1c%40evil@acct.dfs.core.windows.net/x"] {
            assert!(resolve(url, &accounts).unwrap().is_err(), "{url}");
        }
        // Query strings and fragments, whatever the form, their values unshown.
        for url in ["abfss://c1c@acct.dfs.core.windows.net/x.csv?sig=secret", "wasbs://c1c@acct.blob.core.windows.net/x.csv?sig=secret", "az://c1c/x.csv?sig=secret", "https://acct.dfs.core.windows.net/c1c/x.csv?sig=secret"] {
            let e = resolve(url, &accounts).unwrap().unwrap_err();
            assert!(e.contains("query string") && !e.contains("secret"), "{url}: {e}");
        }
        for url in ["abfss://c1c@acct.dfs.core.windows.net/x#y.csv", "az://c1c/x#y", "az://c1c#/x"] {
            assert!(resolve(url, &accounts).unwrap().unwrap_err().contains("fragment"), "{url}");
        }
        // Encoded characters in a blob name are decoded once: %2523 is the name "%23".
        let u = resolve("abfss://c1c@acct.dfs.core.windows.net/a%2523.csv", &accounts).unwrap().unwrap();
        assert_eq!(u.path, "a%23.csv");
        assert!(resolve("az://c1c/bad%ff.csv", &accounts).unwrap().unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn redaction_keeps_the_container() {
        assert_eq!(redact_url("abfss://c1c:pw@acct.dfs.core.windows.net/x?sig=s#f"), "abfss://c1c@acct.dfs.core.windows.net/x");
        assert_eq!(redact_url("wasbs://c1c@acct.blob.core.windows.net/x"), "wasbs://c1c@acct.blob.core.windows.net/x");
        assert_eq!(redact_url("az://u:p@c1c/x?sig=s"), "az://u@c1c/x");
        assert_eq!(redact_url("az://c1c/x"), "az://c1c/x");
        assert_eq!(redact_url("abfss://c1c:pw@evil.com@acct.dfs.core.windows.net/x"), "abfss://c1c@acct.dfs.core.windows.net/x");
        assert_eq!(redact_url("abfss://c1c@evil.com:pw@acct.dfs.core.windows.net/x:y@z"), "abfss://c1c@evil.com@acct.dfs.core.windows.net/x:y@z");
    }

    #[test]
    fn locations() {
        let accounts = accounts(Ok("acct2"));
        let got = |url: &str| resolve_location(url, &accounts).unwrap().map(parts);
        let location = |a: &str, c: &str, p: &str| Ok((a.to_string(), c.to_string(), p.to_string()));
        assert_eq!(got("abfss://backups@acct.dfs.core.windows.net"), location("acct", "backups", ""));
        assert_eq!(got("abfss://backups@acct.dfs.core.windows.net/"), location("acct", "backups", ""));
        assert_eq!(got("abfss://backups@acct.dfs.core.windows.net/drill/"), location("acct", "backups", "drill/"));
        assert_eq!(got("wasbs://backups@acct.blob.core.windows.net/a%20b"), location("acct", "backups", "a b"));
        assert_eq!(got("https://acct.blob.core.windows.net/backups"), location("acct", "backups", ""));
        assert_eq!(got("https://acct.dfs.core.windows.net/backups/drill"), location("acct", "backups", "drill"));
        assert_eq!(got("az://backups"), location("acct2", "backups", ""));
        assert_eq!(got("http://127.0.0.1:10000/devstoreaccount1/backups"), location("devstoreaccount1", "backups", ""));
        assert_eq!(got("http://127.0.0.1:10000/other/backups/p/"), location("other", "backups", "p/"));
        assert!(got("https://acct.blob.core.windows.net/").unwrap_err().contains("names no container"));
        assert!(got("https://acct.blob.core.windows.net").unwrap_err().contains("names no container"));
        assert!(got("abfss://backups@acct.dfs.core.windows.net/a/../b").is_ok(), "a prefix is a name prefix, not a path");
        assert!(got("https://acct.blob.core.windows.net/backups?sig=x").unwrap_err().contains("query string"));
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
        // User info in an https URL is not shown, even when the URL names no blob.
        let e = parse_azure_host("https://u:hunter2@acct.blob.core.windows.net/c1c").unwrap().unwrap_err();
        assert!(e.contains("names no blob") && !e.contains("hunter2"), "{e}");
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
        let registered = accounts(Err("none"));
        let got = |name: &str| resolve(name, &registered).map(|r| r.map(parts));
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
        let fixed = Accounts { endpoints: vec![], template: "http://127.0.0.1:10000/fixed", default_account: Err("none".into()) };
        assert_eq!(resolve("http://127.0.0.1:10000/x/c/b.csv", &fixed), None);
        // A query string is refused wherever the URL points, its value unshown.
        let e = got("http://127.0.0.1:9999/custom/c01/a.csv?sig=secret").unwrap().unwrap_err();
        assert!(e.contains("query string") && !e.contains("secret"), "{e}");
        // The scheme forms are ours whatever the host: never "not a blob URL".
        assert!(got("abfss://c01@example.com/a.csv").unwrap().is_err());
        assert!(got("wasbs://c01@192.0.2.1/a.csv").unwrap().is_err());
        // Other schemes are not ours, whatever their host.
        assert_eq!(got("ftp://acct.blob.core.windows.net/c01/a.csv"), None);
        assert_eq!(got("abfsx://c01@acct.dfs.core.windows.net/a.csv"), None);
    }
}
