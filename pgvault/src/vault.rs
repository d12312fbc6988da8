//! Where backups go: a storage account (from flags, environment or a connection string)
//! and a container, given as `<account>/<container>`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use storage::{Account, Credential};

/// Storage account options shared by every command: flags, else the environment, else the
/// config file.
#[derive(Args, Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageArgs {
    /// Account of a vault or target given as a container name alone.
    #[arg(long, env = "AZURE_STORAGE_ACCOUNT", global = true)]
    pub account: Option<String>,
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
    /// Seconds a request may go without progress before it fails [default: 30].
    #[arg(long, global = true)]
    pub timeout: Option<u64>,
    /// A TOML file with any of these settings (account, key, sas_token, connection_string,
    /// endpoint, timeout) [default: ~/.config/pgvault/config.toml when it exists].
    #[arg(long, env = "PGVAULT_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

impl StorageArgs {
    /// These options, completed from the config file.
    pub fn with_config(mut self) -> Result<StorageArgs, String> {
        let default = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config"))).map(|d| d.join("pgvault/config.toml"));
        let path = match (&self.config, default) {
            (Some(path), _) => path.clone(),
            (None, Some(path)) if path.is_file() => path,
            _ => return Ok(self),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("config file {}: {e}", path.display()))?;
        let file: StorageArgs = toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))?;
        let secret = file.key.is_some() || file.sas_token.is_some() || file.connection_string.is_some();
        let mode = std::fs::metadata(&path).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions())).unwrap_or(0);
        if secret && mode & 0o077 != 0 {
            return Err(format!("config file {} holds a credential and others may read it (mode {:o}); chmod 600 it", path.display(), mode & 0o777));
        }
        self.account = self.account.or(file.account);
        self.key = self.key.or(file.key);
        self.sas_token = self.sas_token.or(file.sas_token);
        self.connection_string = self.connection_string.or(file.connection_string);
        self.endpoint = self.endpoint.or(file.endpoint);
        self.timeout = self.timeout.or(file.timeout);
        Ok(self)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(30))
    }
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

    /// `<account>/<container>` (or `<container>` with an account from the options), with the
    /// credential from the options.
    pub fn resolve(location: &str, args: &StorageArgs) -> Result<Vault, String> {
        let location = match (&args.account, location.contains('/')) {
            (Some(account), false) => format!("{account}/{location}"),
            _ => location.to_string(),
        };
        let (name, container) = location
            .split_once('/')
            .filter(|(a, c)| !a.is_empty() && !c.is_empty() && !c.contains('/'))
            .ok_or_else(|| format!("vault \"{location}\" is not <account>/<container> (or <container> with AZURE_STORAGE_ACCOUNT set)"))?;
        storage::names::validate_account_name(name).map_err(|e| e.to_string())?;
        storage::names::validate_container_name(container).map_err(|e| e.to_string())?;
        let parts = match &args.connection_string {
            Some(s) => ConnectionString::parse(s)?,
            None => ConnectionString::default(),
        };
        if let Some(other) = parts.account.as_deref().filter(|a| *a != name) {
            return Err(format!("the connection string is for account {other}, the vault is in account {name}"));
        }
        let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        let credential = match (given(&args.key), given(&args.sas_token), parts.key, parts.sas) {
            (Some(key), _, _, _) => Credential::SharedKey(key),
            (None, Some(sas), _, _) => Credential::Sas(sas.trim_start_matches('?').to_string()),
            (None, None, Some(key), _) => Credential::SharedKey(key),
            (None, None, None, Some(sas)) => Credential::Sas(sas),
            _ => Credential::Anonymous,
        };
        if let Credential::Sas(sas) = &credential {
            check_sas_expiry(sas, chrono::Utc::now())?;
        }
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

/// A SAS token past its expiry (`se`) fails here, before any work starts, rather than as a
/// refusal from the service.
fn check_sas_expiry(sas: &str, now: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    let Some(expiry) = sas.split('&').find_map(|p| p.strip_prefix("se=")) else { return Ok(()) };
    let expiry = expiry.replace("%3A", ":").replace("%3a", ":");
    let parsed = chrono::DateTime::parse_from_rfc3339(&expiry)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| chrono::NaiveDate::parse_from_str(&expiry, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
    match parsed {
        Ok(at) if at <= now => Err(format!("the SAS token expired at {expiry} (its se parameter); make a new one")),
        _ => Ok(()),
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
        StorageArgs::default()
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
    fn account_from_the_options_and_sas_expiry() {
        let v = Vault::resolve("backups", &StorageArgs { account: Some("acct1".into()), ..args() }).unwrap();
        assert_eq!((v.account.name.as_str(), v.container.as_str()), ("acct1", "backups"));
        assert!(Vault::resolve("backups", &args()).unwrap_err().contains("AZURE_STORAGE_ACCOUNT"));
        let now = chrono::Utc::now();
        assert!(check_sas_expiry("sv=2022-11-02&se=2026-11-20T00%3A00%3A00Z&sig=x", now).unwrap_err().contains("expired at 2026-11-20T00:00:00Z"));
        assert!(check_sas_expiry("sv=2022-11-02&se=2999-01-01&sig=x", now).is_ok());
        assert!(check_sas_expiry("sv=2022-11-02&sig=x", now).is_ok());
        let e = Vault::resolve("acct1/c1c", &StorageArgs { sas_token: Some("?se=2020-01-01&sig=x".into()), ..args() }).unwrap_err();
        assert!(e.contains("expired"), "{e}");
    }

    #[test]
    fn config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "account = \"acct1\"\nkey = \"a2V5\"\ntimeout = 5\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let given = StorageArgs { config: Some(path.clone()), timeout: Some(9), ..args() };
        assert!(given.clone().with_config().unwrap_err().contains("chmod 600"));
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let full = given.with_config().unwrap();
        assert_eq!((full.account.as_deref(), full.key.as_deref(), full.timeout), (Some("acct1"), Some("a2V5"), Some(9)));
        std::fs::write(&path, "acount = \"typo\"\n").unwrap();
        assert!(StorageArgs { config: Some(path), ..args() }.with_config().unwrap_err().contains("unknown field"));
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
