//! The vault, a layer of its own under the commands: where backups go (a storage account
//! from flags, environment, files or a connection string, and a container, given as
//! `<account>/<container>`), what a command's storage calls need (context), its restore
//! points and their manifests (points), verified reads of them (verify), the encryption of
//! their files (crypt) and the job history (jobs).

pub mod context;
pub mod crypt;
pub mod jobs;
pub mod points;
pub mod verify;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use storage::{Account, Credential};

use crate::error::Error;
use crate::secrets;

pub use context::Context;

/// Storage account options shared by every command: flags, else the environment, else the
/// config file. A credential's file form (`--key-file`, ...) takes the place of its flag; a
/// credential typed on the command line is hidden from other users once parsed (secrets).
#[derive(Args, Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageArgs {
    /// Account of a vault or target given as a container name alone, or as an az:// URL.
    #[arg(long, env = "AZURE_STORAGE_ACCOUNT", global = true)]
    pub account: Option<String>,
    /// Shared key of the account. Other local users see a command line (ps) for a moment,
    /// until pgvault hides it: prefer --key-file or AZURE_STORAGE_KEY.
    #[arg(long, env = "AZURE_STORAGE_KEY", hide_env_values = true, global = true)]
    pub key: Option<String>,
    /// File holding the shared key (a trailing newline is ignored); only its owner may read it
    /// (chmod 600).
    #[arg(long, global = true, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// SAS token for the account or container (instead of a key). Other local users see a
    /// command line for a moment: prefer --sas-token-file or AZURE_STORAGE_SAS_TOKEN.
    #[arg(long, env = "AZURE_STORAGE_SAS_TOKEN", hide_env_values = true, global = true)]
    pub sas_token: Option<String>,
    /// File holding the SAS token (a trailing newline is ignored; chmod 600).
    #[arg(long, global = true, value_name = "FILE")]
    pub sas_token_file: Option<PathBuf>,
    /// Connection string: AccountName, AccountKey or SharedAccessSignature, BlobEndpoint. Other
    /// local users see a command line for a moment: prefer --connection-string-file or
    /// AZURE_STORAGE_CONNECTION_STRING.
    #[arg(long, env = "AZURE_STORAGE_CONNECTION_STRING", hide_env_values = true, global = true)]
    pub connection_string: Option<String>,
    /// File holding the connection string (a trailing newline is ignored; chmod 600).
    #[arg(long, global = true, value_name = "FILE")]
    pub connection_string_file: Option<PathBuf>,
    /// Authenticate with the host's managed identity (the instance metadata service), the
    /// user-assigned one given by --client-id if any.
    #[arg(long, global = true)]
    #[serde(default)]
    pub managed_identity: bool,
    /// Token endpoint of the instance metadata service
    /// [default: http://169.254.169.254/metadata/identity/oauth2/token].
    #[arg(long, env = "AZURE_IDENTITY_ENDPOINT", global = true)]
    pub identity_endpoint: Option<String>,
    /// Client id of a user-assigned managed identity, workload identity or service principal.
    #[arg(long, env = "AZURE_CLIENT_ID", global = true)]
    pub client_id: Option<String>,
    /// Entra ID tenant of a workload identity or service principal.
    #[arg(long, env = "AZURE_TENANT_ID", global = true)]
    pub tenant_id: Option<String>,
    /// Client secret of a service principal (with --tenant-id and --client-id). Other local
    /// users see a command line for a moment: prefer --client-secret-file or AZURE_CLIENT_SECRET.
    #[arg(long, env = "AZURE_CLIENT_SECRET", hide_env_values = true, global = true)]
    pub client_secret: Option<String>,
    /// File holding the client secret (a trailing newline is ignored; chmod 600).
    #[arg(long, global = true, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Federated token file of a workload identity (with --tenant-id and --client-id), as
    /// Kubernetes mounts it.
    #[arg(long, env = "AZURE_FEDERATED_TOKEN_FILE", global = true)]
    pub federated_token_file: Option<PathBuf>,
    /// Entra ID authority for workload identities and service principals
    /// [default: https://login.microsoftonline.com].
    #[arg(long, env = "AZURE_AUTHORITY_HOST", global = true)]
    pub authority_host: Option<String>,
    /// Blob endpoint of the account, e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite;
    /// `{account}` stands for the account name. Default: https://{account}.blob.core.windows.net
    #[arg(long, env = "AZURE_STORAGE_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Attempts of a request that fails in a way that may pass (408, 429, 5xx, a broken
    /// connection, no answer within --timeout) [default: 5; 1: no retry].
    #[arg(long, global = true)]
    pub retries: Option<u32>,
    /// Seconds after which a failing request is not tried again [default: 120].
    #[arg(long, global = true)]
    pub retry_time: Option<u64>,
    /// Seconds a request may go without progress before it fails [default: 30].
    #[arg(long, global = true)]
    pub timeout: Option<u64>,
    /// A TOML file with any of these settings (account, key, key_file, sas_token,
    /// sas_token_file, connection_string, connection_string_file, managed_identity,
    /// identity_endpoint, client_id, tenant_id, client_secret, client_secret_file,
    /// federated_token_file, authority_host, endpoint, timeout, retries, retry_time), and
    /// the keys of encryption (encrypt_to, recipients_file, identity) [default: ~/.config/pgvault/config.toml when it exists].
    #[arg(long, env = "PGVAULT_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// The config file's age public keys, for a backup given no --encrypt-to or
    /// --recipients-file.
    #[arg(skip)]
    #[serde(default)]
    pub encrypt_to: Vec<String>,
    /// The config file's recipients file (same use).
    #[arg(skip)]
    pub recipients_file: Option<PathBuf>,
    /// The config file's age identity file, for commands given no --identity.
    #[arg(skip)]
    pub identity: Option<PathBuf>,
}

impl StorageArgs {
    /// These options with the credentials of the file forms read in. `on_command_line` says
    /// whether an option (by its field name) was given on the command line rather than in the
    /// environment: a flag and its file form both on the command line are refused, and a file
    /// form wins over the environment.
    pub fn with_files(mut self, on_command_line: &dyn Fn(&str) -> bool) -> Result<StorageArgs, Error> {
        self.key = secrets::value_or_file("--key", self.key.take(), on_command_line("key"), self.key_file.as_deref())?;
        self.sas_token = secrets::value_or_file("--sas-token", self.sas_token.take(), on_command_line("sas_token"), self.sas_token_file.as_deref())?;
        self.connection_string = secrets::value_or_file("--connection-string", self.connection_string.take(), on_command_line("connection_string"), self.connection_string_file.as_deref())?;
        self.client_secret = secrets::value_or_file("--client-secret", self.client_secret.take(), on_command_line("client_secret"), self.client_secret_file.as_deref())?;
        Ok(self)
    }

    /// These options, completed from the config file.
    pub fn with_config(mut self) -> Result<StorageArgs, Error> {
        let default = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config"))).map(|d| d.join("pgvault/config.toml"));
        let path = match (&self.config, default) {
            (Some(path), _) => path.clone(),
            (None, Some(path)) if path.is_file() => path,
            _ => return Ok(self),
        };
        let named = format!("config file {}", path.display());
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&named, e))?;
        let file: StorageArgs = toml::from_str(&text).map_err(|e| Error::Settings(format!("{named}: {e}")))?;
        let secret = file.key.is_some() || file.sas_token.is_some() || file.connection_string.is_some() || file.client_secret.is_some();
        let mode = std::fs::metadata(&path).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions())).unwrap_or(0);
        if secret && mode & 0o077 != 0 {
            return Err(Error::Settings(format!("{named} holds a credential and others may read it (mode {:o}); chmod 600 it", mode & 0o777)));
        }
        // A credential the config file names a file of is read only when nothing else gave it.
        let credential = |name: &str, given: Option<String>, value: Option<String>, secret_file: Option<PathBuf>| -> Result<Option<String>, Error> {
            match (given, value, secret_file) {
                (_, Some(_), Some(_)) => Err(Error::Settings(format!("{named}: {name} and {name}_file are both set; give one of them"))),
                (Some(given), _, _) => Ok(Some(given)),
                (None, _, Some(secret_file)) => secrets::read_file(&format!("{name}_file"), &secret_file).map(Some).map_err(|e| e.about(&named)),
                (None, value, None) => Ok(value),
            }
        };
        self.key = credential("key", self.key, file.key, file.key_file)?;
        self.sas_token = credential("sas_token", self.sas_token, file.sas_token, file.sas_token_file)?;
        self.connection_string = credential("connection_string", self.connection_string, file.connection_string, file.connection_string_file)?;
        self.client_secret = credential("client_secret", self.client_secret, file.client_secret, file.client_secret_file)?;
        self.account = self.account.or(file.account);
        self.managed_identity |= file.managed_identity;
        self.identity_endpoint = self.identity_endpoint.or(file.identity_endpoint);
        self.client_id = self.client_id.or(file.client_id);
        self.tenant_id = self.tenant_id.or(file.tenant_id);
        self.federated_token_file = self.federated_token_file.or(file.federated_token_file);
        self.authority_host = self.authority_host.or(file.authority_host);
        self.endpoint = self.endpoint.or(file.endpoint);
        self.timeout = self.timeout.or(file.timeout);
        self.retries = self.retries.or(file.retries);
        self.retry_time = self.retry_time.or(file.retry_time);
        self.encrypt_to = file.encrypt_to;
        self.recipients_file = file.recipients_file;
        self.identity = file.identity;
        Ok(self)
    }

    /// Entra ID tokens, when asked for: a service principal (tenant, client id and secret),
    /// a workload identity (tenant, client id and token file), or with --managed-identity the
    /// instance metadata service. Never the metadata service unasked.
    fn token_source(&self) -> Result<Option<storage::TokenSource>, Error> {
        let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        let authority = given(&self.authority_host).unwrap_or_else(|| storage::identity::DEFAULT_AUTHORITY.to_string());
        let entra = |what: &str| -> Result<(String, String), Error> {
            match (given(&self.tenant_id), given(&self.client_id)) {
                (Some(tenant), Some(client)) => Ok((tenant, client)),
                _ => Err(Error::Settings(format!("{what} needs --tenant-id and --client-id (or AZURE_TENANT_ID and AZURE_CLIENT_ID)"))),
            }
        };
        if let Some(secret) = given(&self.client_secret) {
            let (tenant_id, client_id) = entra("a service principal's client secret")?;
            return Ok(Some(storage::TokenSource::ClientSecret { authority, tenant_id, client_id, secret }));
        }
        if let Some(token_file) = self.federated_token_file.clone().filter(|f| !f.as_os_str().is_empty()) {
            let (tenant_id, client_id) = entra("a workload identity's federated token file")?;
            return Ok(Some(storage::TokenSource::WorkloadIdentity { authority, tenant_id, client_id, token_file }));
        }
        if self.managed_identity {
            let endpoint = given(&self.identity_endpoint).unwrap_or_else(|| storage::identity::DEFAULT_METADATA_ENDPOINT.to_string());
            return Ok(Some(storage::TokenSource::MetadataService { endpoint, client_id: given(&self.client_id) }));
        }
        Ok(None)
    }

    pub fn retry_policy(&self) -> storage::retry::RetryPolicy {
        let default = storage::retry::RetryPolicy::default();
        storage::retry::RetryPolicy {
            attempts: self.retries.unwrap_or(default.attempts).max(1),
            total: self.retry_time.map_or(default.total, Duration::from_secs),
        }
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
    /// `<account>/<container>` (or `<container>` with an account from the options), given as
    /// `flag`, with the credential from the options; errors in the value name the flag.
    /// A URL in any of input::url's forms names the account and container instead.
    pub fn for_flag(flag: &str, location: &str, args: &StorageArgs) -> Result<Vault, Error> {
        let (name, container) = match from_url(flag, location, args) {
            Some(Ok((_, prefix))) if !prefix.is_empty() => {
                return Err(Error::Flag {
                    flag: flag.to_string(),
                    reason: format!("\"{}\" names a path (\"{prefix}\"); {flag} is a container, as in abfss://<container>@<account>.dfs.core.windows.net", input::url::redact_url(location)),
                })
            }
            Some(found) => found?.0,
            None => split_location(flag, location, args)?,
        };
        Vault::with_credential(&name, &container, args)
    }

    /// `<account>/<container>[/<prefix>]` as the value of a command-line flag: the container
    /// and the prefix ("" when none); errors in the value name the flag.
    pub fn for_flag_with_prefix(flag: &str, location: &str, args: &StorageArgs) -> Result<(Vault, String), Error> {
        let ((name, container), prefix) = match from_url(flag, location, args) {
            Some(found) => found?,
            None => split_with_prefix(flag, location, args)?,
        };
        Ok((Vault::with_credential(&name, &container, args)?, prefix))
    }

    fn with_credential(name: &str, container: &str, args: &StorageArgs) -> Result<Vault, Error> {
        let parts = match &args.connection_string {
            Some(s) => ConnectionString::parse(s)?,
            None => ConnectionString::default(),
        };
        if let Some(other) = parts.account.as_deref().filter(|a| *a != name) {
            return Err(Error::Settings(format!("the connection string is for account {other}, the vault is in account {name}")));
        }
        let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        let credential = match (given(&args.key), given(&args.sas_token), parts.key, parts.sas) {
            (Some(key), _, _, _) => Credential::SharedKey(key),
            (None, Some(sas), _, _) => Credential::Sas(sas.trim_start_matches('?').to_string()),
            (None, None, Some(key), _) => Credential::SharedKey(key),
            (None, None, None, Some(sas)) => Credential::Sas(sas),
            _ => match args.token_source()? {
                Some(source) => Credential::Token(source),
                None => Credential::Anonymous,
            },
        };
        let template = args.endpoint.clone().or(parts.endpoint).unwrap_or_else(|| storage::account::DEFAULT_ENDPOINT_TEMPLATE.to_string());
        let endpoint = Account::endpoint_from_template(&template, name);
        storage::account::validate_endpoint(&endpoint).map_err(Error::Settings)?;
        let account = Account::new(name, &endpoint, credential);
        account.check_credential().map_err(|e| Error::Settings(format!("{e}; make a new one")))?;
        Ok(Vault { account, container: container.to_string() })
    }
}

/// Account, container and prefix of a URL given as `flag` (`None` when it is not a URL): an
/// https URL of an Azure blob or dfs host, abfss://, abfs://, wasbs://, wasb://, az:// and
/// azure:// with the account of the options, or a path-style URL under --endpoint (or the
/// connection string's BlobEndpoint). The requests go to the account's endpoint as always.
fn from_url(flag: &str, location: &str, args: &StorageArgs) -> Option<Result<((String, String), String), Error>> {
    if !input::url::is_url(location) {
        return None;
    }
    let bad = |reason: String| Error::Flag { flag: flag.to_string(), reason };
    let parts = args.connection_string.as_deref().map(ConnectionString::parse).transpose();
    let parts = match parts {
        Ok(parts) => parts.unwrap_or_default(),
        Err(e) => return Some(Err(e)),
    };
    let template = args.endpoint.clone().unwrap_or_else(|| storage::account::DEFAULT_ENDPOINT_TEMPLATE.to_string());
    let accounts = input::url::Accounts {
        endpoints: parts.endpoint.as_deref().zip(parts.account.as_deref()).into_iter().collect(),
        template: &template,
        default_account: args
            .account
            .clone()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| "give the account with --account (or AZURE_STORAGE_ACCOUNT, or account in the config file)".to_string()),
    };
    Some(match input::url::resolve_location(location, &accounts) {
        Some(Ok(u)) => Ok(((u.account, u.container), u.path)),
        Some(Err(reason)) => Err(bad(reason)),
        None => Err(bad(format!("\"{}\" is not a storage URL; accepted forms: {}", input::url::redact_url(location), input::url::ACCEPTED_FORMS))),
    })
}

/// Account and container of `<account>/<container>`, or of `<container>` with an account
/// from the options, given as `flag`; both names checked.
fn split_location(flag: &str, location: &str, args: &StorageArgs) -> Result<(String, String), Error> {
    let bad = |reason: String| Error::Flag { flag: flag.to_string(), reason };
    let location = match (&args.account, location.contains('/')) {
        (Some(account), false) => format!("{account}/{location}"),
        _ => location.to_string(),
    };
    let (name, container) = location
        .split_once('/')
        .filter(|(a, c)| !a.is_empty() && !c.is_empty() && !c.contains('/'))
        .ok_or_else(|| bad(format!("\"{location}\" is not <account>/<container> (or <container> with AZURE_STORAGE_ACCOUNT set)")))?;
    storage::names::validate_account_name(name).map_err(|e| bad(e.to_string()))?;
    storage::names::validate_container_name(container).map_err(|e| bad(e.to_string()))?;
    Ok((name.to_string(), container.to_string()))
}

/// `split_location` of `<account>/<container>[/<prefix>]`, and the prefix ("" when none).
fn split_with_prefix(flag: &str, location: &str, args: &StorageArgs) -> Result<((String, String), String), Error> {
    let mut parts = location.splitn(3, '/');
    let (account, container, prefix) = (parts.next().unwrap_or(""), parts.next(), parts.next());
    let Some(container) = container.filter(|_| prefix.is_some()) else {
        return Ok((split_location(flag, location, args)?, String::new()));
    };
    let prefix = prefix.unwrap_or_default();
    storage::names::validate_prefix(prefix).map_err(|e| Error::Flag { flag: flag.to_string(), reason: e.to_string() })?;
    Ok((split_location(flag, &format!("{account}/{container}"), args)?, prefix.to_string()))
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
    fn parse(text: &str) -> Result<ConnectionString, Error> {
        let mut out = ConnectionString::default();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| Error::Settings(format!("connection string part \"{}\" is not key=value", redact(part))))?;
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
        StorageArgs::default()
    }

    #[test]
    fn vault_locations() {
        let v = Vault::for_flag("--vault", "myacct/backups", &StorageArgs { key: Some("a2V5".into()), ..args() }).unwrap();
        assert_eq!(v.account.endpoint, "https://myacct.blob.core.windows.net");
        assert_eq!(v.container, "backups");
        assert!(matches!(v.account.credential, Credential::SharedKey(_)));
        for bad in ["myacct", "myacct/", "/backups", "myacct/a/b", "My_Acct/backups", "myacct/Backups"] {
            assert!(Vault::for_flag("--vault", bad, &args()).is_err(), "{bad}");
        }
        let local = Vault::for_flag("--vault", "devstoreaccount1/b1b", &StorageArgs { endpoint: Some("http://127.0.0.1:10000/{account}".into()), ..args() }).unwrap();
        assert_eq!(local.account.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert!(matches!(local.account.credential, Credential::Anonymous));
    }

    #[test]
    fn vault_urls() {
        let at = |flag: &str, url: &str, a: StorageArgs| Vault::for_flag_with_prefix(flag, url, &a).map(|(v, p)| (v.account.name, v.account.endpoint, v.container, p));
        let azurite = || StorageArgs { endpoint: Some("http://127.0.0.1:10000/{account}".into()), ..args() };
        let same = Ok(("devstoreaccount1".to_string(), "http://127.0.0.1:10000/devstoreaccount1".to_string(), "backups".to_string(), String::new()));
        for url in [
            "devstoreaccount1/backups",
            "abfss://backups@devstoreaccount1.dfs.core.windows.net",
            "abfs://backups@devstoreaccount1.dfs.core.windows.net/",
            "wasbs://backups@devstoreaccount1.blob.core.windows.net",
            "WASB://backups@devstoreaccount1.blob.core.windows.net/",
            "https://devstoreaccount1.blob.core.windows.net/backups",
            "https://devstoreaccount1.dfs.core.windows.net/backups/",
            "http://127.0.0.1:10000/devstoreaccount1/backups",
        ] {
            assert_eq!(at("--vault", url, azurite()).map_err(|e| e.to_string()), same, "{url}");
            let v = Vault::for_flag("--vault", url, &azurite()).unwrap();
            assert_eq!((v.account.name.as_str(), v.container.as_str()), ("devstoreaccount1", "backups"), "{url}");
        }
        // Without --endpoint, the account's own Azure endpoint, whatever the URL's host.
        let v = Vault::for_flag("--vault", "abfss://backups@acct1.dfs.core.windows.net/", &args()).unwrap();
        assert_eq!(v.account.endpoint, "https://acct1.blob.core.windows.net");
        // A prefix, where the flag takes one.
        let got = at("--from", "abfss://restores@acct1.dfs.core.windows.net/drill/x", args()).unwrap();
        assert_eq!((got.2.as_str(), got.3.as_str()), ("restores", "drill/x"));
        let e = Vault::for_flag("--vault", "abfss://backups@acct1.dfs.core.windows.net/sub/", &args()).unwrap_err().to_string();
        assert!(e.starts_with("--vault: ") && e.contains("names a path (\"sub/\")"), "{e}");
        // az:// takes the account of the options.
        let got = at("--target", "az://restores/p/", StorageArgs { account: Some("acct2".into()), ..args() }).unwrap();
        assert_eq!((got.0.as_str(), got.2.as_str(), got.3.as_str()), ("acct2", "restores", "p/"));
        let e = Vault::for_flag("--vault", "az://backups", &args()).unwrap_err().to_string();
        assert!(e.contains("names no account") && e.contains("--account"), "{e}");
        // Bad URLs name the flag, the URL and the accepted forms, and never a secret.
        for (url, says) in [
            ("abfss://acct1.dfs.core.windows.net/backups", "names no container"),
            ("abfss://backups@acct1.blob.core.windows.net", "not <account>.dfs.core.windows.net"),
            ("wasbs://backups@acct1.dfs.core.windows.net", "not <account>.blob.core.windows.net"),
            ("abfss://backups@evil.com@acct1.dfs.core.windows.net", "more than one @"),
            ("https://acct1.blob.core.windows.net/backups?sig=secret", "query string"),
            ("https://example.com/backups", "is not a storage URL"),
            ("abfss://backups:secret@acct1.dfs.core.windows.net", "has a password"),
        ] {
            let e = Vault::for_flag("--vault", url, &args()).unwrap_err().to_string();
            assert!(e.starts_with("--vault: ") && e.contains(says) && !e.contains("secret"), "{url}: {e}");
        }
        let e = Vault::for_flag("--vault", "https://example.com/backups", &args()).unwrap_err().to_string();
        assert!(e.contains("abfss://<container>@<account>.dfs.core.windows.net/<path>"), "{e}");
        // The connection string's account must be the URL's.
        let cs = StorageArgs { connection_string: Some("UseDevelopmentStorage=true".into()), ..args() };
        assert!(Vault::for_flag("--vault", "abfss://backups@acct1.dfs.core.windows.net", &cs).unwrap_err().to_string().contains("the connection string is for account devstoreaccount1"));
        let v = Vault::for_flag("--vault", "http://127.0.0.1:10000/devstoreaccount1/backups", &cs).unwrap();
        assert_eq!((v.account.name.as_str(), v.container.as_str()), ("devstoreaccount1", "backups"));
    }

    #[test]
    fn account_from_the_options_and_sas_expiry() {
        let v = Vault::for_flag("--vault", "backups", &StorageArgs { account: Some("acct1".into()), ..args() }).unwrap();
        assert_eq!((v.account.name.as_str(), v.container.as_str()), ("acct1", "backups"));
        assert!(Vault::for_flag("--vault", "backups", &args()).unwrap_err().to_string().contains("AZURE_STORAGE_ACCOUNT"));
        let e = Vault::for_flag("--vault", "acct1/c1c", &StorageArgs { sas_token: Some("?se=2020-01-01&sig=x".into()), ..args() }).unwrap_err();
        assert_eq!(e.to_string(), "SAS token for account acct1 expired at 2020-01-01T00:00:00Z; make a new one");
        assert!(Vault::for_flag("--vault", "acct1/c1c", &StorageArgs { sas_token: Some("se=2999-01-01&sig=x".into()), ..args() }).is_ok());
    }

    #[test]
    fn token_sources() {
        use storage::TokenSource;
        let credential = |a: StorageArgs| Vault::for_flag("--vault", "acct1/c1c", &a).map(|v| v.account.credential);
        // The metadata service only when asked for.
        assert!(matches!(credential(StorageArgs { client_id: Some("c".into()), ..args() }), Ok(Credential::Anonymous)));
        let mi = credential(StorageArgs { managed_identity: true, client_id: Some("c".into()), identity_endpoint: Some("http://127.0.0.1:9/t".into()), ..args() });
        assert!(matches!(mi, Ok(Credential::Token(TokenSource::MetadataService { ref endpoint, client_id: Some(ref c) })) if endpoint == "http://127.0.0.1:9/t" && c == "c"));
        let sp = credential(StorageArgs { client_secret: Some("s".into()), tenant_id: Some("t".into()), client_id: Some("c".into()), ..args() });
        assert!(matches!(sp, Ok(Credential::Token(TokenSource::ClientSecret { ref authority, .. })) if authority == "https://login.microsoftonline.com"));
        let e = credential(StorageArgs { federated_token_file: Some("/f".into()), client_id: Some("c".into()), ..args() }).unwrap_err().to_string();
        assert!(e.contains("--tenant-id"), "{e}");
        // A key wins over an identity.
        let key = credential(StorageArgs { key: Some("a2V5".into()), managed_identity: true, ..args() });
        assert!(matches!(key, Ok(Credential::SharedKey(_))));
    }

    #[test]
    fn config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "account = \"acct1\"\nkey = \"a2V5\"\ntimeout = 5\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let given = StorageArgs { config: Some(path.clone()), timeout: Some(9), ..args() };
        assert!(given.clone().with_config().unwrap_err().to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let full = given.with_config().unwrap();
        assert_eq!((full.account.as_deref(), full.key.as_deref(), full.timeout), (Some("acct1"), Some("a2V5"), Some(9)));
        std::fs::write(&path, "acount = \"typo\"\n").unwrap();
        assert!(StorageArgs { config: Some(path.clone()), ..args() }.with_config().unwrap_err().to_string().contains("unknown field"));

        // A credential file named in the config file; the config file itself holds no secret.
        let key = dir.path().join("key");
        std::fs::write(&key, "a2V5\n").unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        std::fs::write(&path, format!("key_file = \"{}\"\n", key.display())).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let with_file = StorageArgs { config: Some(path.clone()), ..args() };
        assert_eq!(with_file.clone().with_config().unwrap().key.as_deref(), Some("a2V5"));
        // The environment (or a flag) still wins over the config file.
        assert_eq!(StorageArgs { key: Some("ZW52".into()), ..with_file.clone() }.with_config().unwrap().key.as_deref(), Some("ZW52"));
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o604)).unwrap();
        assert_eq!(with_file.clone().with_config().unwrap_err().to_string(), format!("config file {}: key_file {}: others may read it (mode 604); chmod 600 it", path.display(), key.display()));
        std::fs::write(&path, format!("key = \"a2V5\"\nkey_file = \"{}\"\n", key.display())).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        assert_eq!(with_file.with_config().unwrap_err().to_string(), format!("config file {}: key and key_file are both set; give one of them", path.display()));
    }

    #[test]
    fn credential_files_on_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "ZmlsZQ==\n").unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let flag = |_: &str| true;
        let env = |_: &str| false;
        let given = StorageArgs { key: Some("ZW52".into()), key_file: Some(key.clone()), ..args() };
        assert_eq!(given.clone().with_files(&env).unwrap().key.as_deref(), Some("ZmlsZQ=="));
        assert_eq!(given.with_files(&flag).unwrap_err().to_string(), "--key and --key-file are both given; give one of them");
        let sas = StorageArgs { sas_token_file: Some(key.clone()), client_secret_file: Some(key.clone()), connection_string_file: Some(key), ..args() };
        let read = sas.with_files(&env).unwrap();
        assert_eq!((read.sas_token.as_deref(), read.client_secret.as_deref(), read.connection_string.as_deref()), (Some("ZmlsZQ=="), Some("ZmlsZQ=="), Some("ZmlsZQ==")));
    }

    #[test]
    fn connection_strings() {
        let text = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;";
        let v = Vault::for_flag("--vault", "devstoreaccount1/c1c", &StorageArgs { connection_string: Some(text.into()), ..args() }).unwrap();
        assert_eq!(v.account.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert!(matches!(v.account.credential, Credential::SharedKey(ref k) if k == "a2V5"));
        let sas = "AccountName=acct1;SharedAccessSignature=?sv=1&sig=x";
        let v = Vault::for_flag("--vault", "acct1/c1c", &StorageArgs { connection_string: Some(sas.into()), ..args() }).unwrap();
        assert!(matches!(v.account.credential, Credential::Sas(ref s) if s == "sv=1&sig=x"));
        let e = Vault::for_flag("--vault", "other1/c1c", &StorageArgs { connection_string: Some(sas.into()), ..args() }).unwrap_err().to_string();
        assert!(e.contains("account acct1"), "{e}");
        let e = ConnectionString::parse("AccountKey").unwrap_err().to_string();
        assert!(!e.contains("AccountKey="), "{e}");
        // Flags win over the connection string.
        let v = Vault::for_flag("--vault", "acct1/c1c", &StorageArgs { connection_string: Some(sas.into()), key: Some("a2V5".into()), ..args() }).unwrap();
        assert!(matches!(v.account.credential, Credential::SharedKey(_)));
    }
}
