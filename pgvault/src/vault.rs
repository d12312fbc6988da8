//! Where backups go: a storage account (from flags, environment or a connection string)
//! and a container, given as `<account>/<container>`.

use clap::Args;
use storage::{Account, Credential};

/// Storage account options shared by every command.
#[derive(Args, Debug, Clone)]
pub struct StorageArgs {
    /// Shared key of the account.
    #[arg(long, env = "AZURE_STORAGE_KEY", hide_env_values = true, global = true)]
    pub key: Option<String>,
    /// SAS token for the account or container (instead of a key).
    #[arg(long, env = "AZURE_STORAGE_SAS_TOKEN", hide_env_values = true, global = true)]
    pub sas_token: Option<String>,
    /// Connection string: AccountName, AccountKey or SharedAccessSignature, BlobEndpoint.
    #[arg(long, env = "AZURE_STORAGE_CONNECTION_STRING", hide_env_values = true, global = true)]
    pub connection_string: Option<String>,
    /// Blob endpoint of the account, e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite;
    /// `{account}` stands for the account name. Default: https://{account}.blob.core.windows.net
    #[arg(long, env = "AZURE_STORAGE_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Seconds a request may go without progress before it fails.
    #[arg(long, default_value_t = 30, global = true)]
    pub timeout: u64,
}

/// An account and container.
#[derive(Debug, Clone)]
pub struct Vault {
    pub account: Account,
    pub container: String,
}

impl Vault {
    /// `<account>/<container>[/<prefix>]`: the container and the prefix ("" when none).
    pub fn resolve_with_prefix(location: &str, args: &StorageArgs) -> Result<(Vault, String), String> {
        let mut parts = location.splitn(3, '/');
        let (account, container, prefix) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        storage::names::validate_prefix(prefix).map_err(|e| e.to_string())?;
        Ok((Vault::resolve(&format!("{account}/{container}"), args)?, prefix.to_string()))
    }

    /// `<account>/<container>`, with the credential from the options.
    pub fn resolve(location: &str, args: &StorageArgs) -> Result<Vault, String> {
        let (name, container) = location
            .split_once('/')
            .filter(|(a, c)| !a.is_empty() && !c.is_empty() && !c.contains('/'))
            .ok_or_else(|| format!("vault \"{location}\" is not <account>/<container>"))?;
        storage::names::validate_account_name(name).map_err(|e| e.to_string())?;
        storage::names::validate_container_name(container).map_err(|e| e.to_string())?;
        let parts = match &args.connection_string {
            Some(s) => ConnectionString::parse(s)?,
            None => ConnectionString::default(),
        };
        if let Some(other) = parts.account.as_deref().filter(|a| *a != name) {
            return Err(format!("the connection string is for account {other}, the vault is in account {name}"));
        }
        let credential = match (&args.key, &args.sas_token, parts.key, parts.sas) {
            (Some(key), _, _, _) => Credential::SharedKey(key.clone()),
            (None, Some(sas), _, _) => Credential::Sas(sas.trim_start_matches('?').to_string()),
            (None, None, Some(key), _) => Credential::SharedKey(key),
            (None, None, None, Some(sas)) => Credential::Sas(sas),
            _ => Credential::Anonymous,
        };
        let template = args.endpoint.clone().or(parts.endpoint).unwrap_or_else(|| storage::account::DEFAULT_ENDPOINT_TEMPLATE.to_string());
        let endpoint = Account::endpoint_from_template(&template, name);
        storage::account::validate_endpoint(&endpoint)?;
        Ok(Vault { account: Account::new(name, &endpoint, credential), container: container.to_string() })
    }
}

/// The parts of an Azure Storage connection string pgvault uses.
#[derive(Debug, Default, PartialEq)]
struct ConnectionString {
    account: Option<String>,
    key: Option<String>,
    sas: Option<String>,
    endpoint: Option<String>,
}

impl ConnectionString {
    fn parse(text: &str) -> Result<ConnectionString, String> {
        let mut out = ConnectionString::default();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("connection string part \"{}\" is not key=value", redact(part)))?;
            match key.to_ascii_lowercase().as_str() {
                "accountname" => out.account = Some(value.to_string()),
                "accountkey" => out.key = Some(value.to_string()),
                "sharedaccesssignature" => out.sas = Some(value.trim_start_matches('?').to_string()),
                "blobendpoint" => out.endpoint = Some(value.trim_end_matches('/').to_string()),
                "usedevelopmentstorage" if value.eq_ignore_ascii_case("true") => {
                    out.account = Some("devstoreaccount1".into());
                    // Azurite's documented development key.
                    out.key = Some("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==".into());
                    out.endpoint = Some("http://127.0.0.1:10000/devstoreaccount1".into());
                }
                // Protocol, suffix and the other services' endpoints do not matter here.
                _ => {}
            }
        }
        Ok(out)
    }
}

/// A connection-string part as it may be shown: secrets stay out of messages.
fn redact(part: &str) -> String {
    if part.to_ascii_lowercase().contains("key") || part.to_ascii_lowercase().contains("signature") {
        "(hidden)".into()
    } else {
        part.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> StorageArgs {
        StorageArgs { key: None, sas_token: None, connection_string: None, endpoint: None, timeout: 30 }
    }

    #[test]
    fn vault_locations() {
        let v = Vault::resolve("myacct/backups", &StorageArgs { key: Some("a2V5".into()), ..args() }).unwrap();
        assert_eq!(v.account.endpoint, "https://myacct.blob.core.windows.net");
        assert_eq!(v.container, "backups");
        assert!(matches!(v.account.credential, Credential::SharedKey(_)));
        for bad in ["myacct", "myacct/", "/backups", "myacct/a/b", "My_Acct/backups", "myacct/Backups"] {
            assert!(Vault::resolve(bad, &args()).is_err(), "{bad}");
        }
        let local = Vault::resolve("devstoreaccount1/b1b", &StorageArgs { endpoint: Some("http://127.0.0.1:10000/{account}".into()), ..args() }).unwrap();
        assert_eq!(local.account.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert!(matches!(local.account.credential, Credential::Anonymous));
    }

    #[test]
    fn connection_strings() {
        let text = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;";
        let v = Vault::resolve("devstoreaccount1/c1c", &StorageArgs { connection_string: Some(text.into()), ..args() }).unwrap();
        assert_eq!(v.account.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert!(matches!(v.account.credential, Credential::SharedKey(ref k) if k == "a2V5"));
        let sas = "AccountName=acct1;SharedAccessSignature=?sv=1&sig=x";
        let v = Vault::resolve("acct1/c1c", &StorageArgs { connection_string: Some(sas.into()), ..args() }).unwrap();
        assert!(matches!(v.account.credential, Credential::Sas(ref s) if s == "sv=1&sig=x"));
        let e = Vault::resolve("other1/c1c", &StorageArgs { connection_string: Some(sas.into()), ..args() }).unwrap_err();
        assert!(e.contains("account acct1"), "{e}");
        let e = ConnectionString::parse("AccountKey").unwrap_err();
        assert!(!e.contains("AccountKey="), "{e}");
        // Flags win over the connection string.
        let v = Vault::resolve("acct1/c1c", &StorageArgs { connection_string: Some(sas.into()), key: Some("a2V5".into()), ..args() }).unwrap();
        assert!(matches!(v.account.credential, Credential::SharedKey(_)));
    }
}
