//! A storage account as the clients need it: where it is and how to authenticate.

use std::fmt;

use input::url::redact_url;

/// How requests to an account are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Shared Key: one of the account's two base64 access keys.
    SharedKey(String),
    /// A SAS token (the query string, with or without a leading `?`).
    Sas(String),
    /// Entra ID bearer tokens from a source (managed identity, workload identity, service
    /// principal).
    Token(crate::identity::TokenSource),
    /// No credential: only public containers can be read.
    Anonymous,
}

// Never print a secret, whatever formatting a caller picks.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::SharedKey(_) => "SharedKey(<redacted>)",
            Credential::Sas(_) => "Sas(<redacted>)",
            Credential::Anonymous => "Anonymous",
            Credential::Token(_) => "Token(<redacted>)",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// Base URL of the blob service, without a trailing slash: `https://acct.blob.core.windows.net`,
    /// or path-style for emulators, `http://127.0.0.1:10000/devstoreaccount1`.
    pub endpoint: String,
    pub credential: Credential,
}

/// Endpoint of an account that was registered without one.
pub const DEFAULT_ENDPOINT_TEMPLATE: &str = "https://{account}.blob.core.windows.net";

impl Account {
    pub fn new(name: &str, endpoint: &str, credential: Credential) -> Self {
        Account { name: name.to_string(), endpoint: endpoint.trim_end_matches('/').to_string(), credential }
    }

    /// The endpoint for `name` from a template containing `{account}`.
    pub fn endpoint_from_template(template: &str, name: &str) -> String {
        template.replace("{account}", name).trim_end_matches('/').to_string()
    }

    /// Fails before any request when the account's SAS token has expired.
    pub fn check_credential(&self) -> crate::Result<()> {
        match &self.credential {
            Credential::Sas(token) => crate::sas::check_expiry(&self.name, token, chrono::Utc::now()),
            _ => Ok(()),
        }
    }

    pub fn container_url(&self, container: &str) -> String {
        format!("{}/{}", self.endpoint, container)
    }
}

/// Checks an endpoint given by a user: an absolute http(s) URL without query or fragment.
pub fn validate_endpoint(endpoint: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(endpoint)
        .map_err(|e| format!("invalid endpoint \"{endpoint}\": {e}; expected a URL such as https://<account>.blob.core.windows.net"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("invalid endpoint \"{endpoint}\": only http:// and https:// URLs with a host are accepted"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "invalid endpoint \"{}\": an endpoint has no user, query or fragment (give a SAS token as the credential)",
            redact_url(endpoint)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_debug_print() {
        let a = Account::new("acct", "http://127.0.0.1:1/acct/", Credential::SharedKey("c2VjcmV0".into()));
        assert_eq!(a.endpoint, "http://127.0.0.1:1/acct");
        assert!(!format!("{a:?}").contains("c2VjcmV0"));
        assert!(!format!("{:?}", Credential::Sas("sig=abc".into())).contains("abc"));
    }

    #[test]
    fn endpoints() {
        assert_eq!(Account::endpoint_from_template(DEFAULT_ENDPOINT_TEMPLATE, "x1"), "https://x1.blob.core.windows.net");
        assert!(validate_endpoint("http://127.0.0.1:10000/devstoreaccount1").is_ok());
        assert!(validate_endpoint("ftp://host/").is_err());
        assert!(validate_endpoint("not a url").is_err());
        let e = validate_endpoint("https://h/?sig=secret").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
