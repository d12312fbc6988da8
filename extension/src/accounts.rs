//! account_* functions: registering storage accounts and granting their use.

use base64::Engine;
use pgrx::pg_sys::Oid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::catalog::{self, AccountRow, AuthType};
use crate::errors::{invalid_name, invalid_parameter, raise, required};
use crate::roles;

fn not_registered(name: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
        format!("storage account {name} is not registered"),
        None,
        Some("SELECT * FROM azure_storage.account_list() shows the registered accounts.".into()),
    )
}

/// Everything `account_add` stores, before encryption.
struct NewAccount {
    name: String,
    auth_type: AuthType,
    /// An access key, a SAS token, or a service principal's client secret.
    credentials: Option<String>,
    endpoint: Option<String>,
    client_id: Option<String>,
    tenant_id: Option<String>,
    federated_token_file: Option<String>,
}

impl NewAccount {
    fn plain(name: String, auth_type: AuthType, credentials: Option<String>) -> NewAccount {
        NewAccount { name, auth_type, credentials, endpoint: None, client_id: None, tenant_id: None, federated_token_file: None }
    }

    fn validate(&self) {
        input::names::validate_account_name(&self.name).unwrap_or_else(|e| invalid_name(e));
        let name = &self.name;
        if self.auth_type != AuthType::ManagedIdentity {
            if let Some(key) = [("client_id", &self.client_id), ("tenant_id", &self.tenant_id), ("federated_token_file", &self.federated_token_file)]
                .into_iter()
                .find_map(|(key, value)| value.as_ref().map(|_| key))
            {
                invalid_parameter(format!("storage account {name}: {key} is for auth_type managed-identity only"));
            }
        }
        match (self.auth_type, &self.credentials) {
            (AuthType::AccessKey, None) => invalid_parameter(format!(
                "storage account {name}: auth_type access-key needs credentials (one of the account's access keys)"
            )),
            (AuthType::AccessKey, Some(key)) => {
                if base64::engine::general_purpose::STANDARD.decode(key.trim()).map_or(true, |k| k.is_empty()) {
                    // The key itself is never repeated in a message.
                    invalid_parameter(format!("the access key given for storage account {name} is not valid base64; an access key looks like the ones shown under Access keys in the Azure portal"))
                }
            }
            (AuthType::Sas, None) => invalid_parameter(format!("storage account {name}: auth_type sas needs credentials (a SAS token)")),
            (AuthType::Sas, Some(token)) => {
                if !token.contains("sig=") {
                    invalid_parameter(format!("the SAS token given for storage account {name} has no sig= field; give the token's whole query string"))
                }
            }
            (AuthType::ManagedIdentity, _) => self.validate_identity(),
        }
        if let Some(endpoint) = &self.endpoint {
            storage::account::validate_endpoint(endpoint).unwrap_or_else(|e| invalid_parameter(e));
        }
    }

    /// A managed identity is the host's (no tenant), a workload identity (tenant, client id,
    /// token file) or a service principal (tenant, client id, client secret as credentials).
    fn validate_identity(&self) {
        let name = &self.name;
        match (&self.tenant_id, &self.federated_token_file, &self.credentials) {
            (None, None, None) => {}
            (None, _, _) => invalid_parameter(format!(
                "storage account {name}: a workload identity or service principal needs tenant_id; \
                 without it, managed-identity uses the host's identity and takes no credentials"
            )),
            (Some(_), Some(_), Some(_)) => invalid_parameter(format!(
                "storage account {name}: give either federated_token_file (workload identity) or credentials (a service principal's client secret), not both"
            )),
            (Some(_), None, None) => invalid_parameter(format!(
                "storage account {name}: with tenant_id, give federated_token_file (workload identity) or credentials (a service principal's client secret)"
            )),
            (Some(_), file, _) => {
                if self.client_id.is_none() {
                    invalid_parameter(format!("storage account {name}: a workload identity or service principal needs client_id"));
                }
                if let Some(file) = file {
                    if !std::path::Path::new(file).is_absolute() {
                        invalid_parameter(format!("storage account {name}: federated_token_file \"{file}\" must be an absolute path"));
                    }
                    // The server reads the file and sends it to Entra ID: only those who may
                    // have the server read its files may name one.
                    if !roles::may_read_server_files() {
                        raise(
                            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                            format!("only superusers and members of pg_read_server_files may register a federated_token_file for storage account {name}"),
                            None,
                            None,
                        );
                    }
                }
            }
        }
    }

    fn store(self) {
        self.validate();
        // A SAS token is kept without the `?` it is often copied with.
        let clear = self.credentials.as_deref().map(|c| c.trim().trim_start_matches('?'));
        let (credentials, encrypted) = catalog::seal(clear);
        catalog::upsert(&AccountRow {
            name: self.name,
            auth_type: self.auth_type,
            storage_type: "blob".into(),
            credentials,
            encrypted,
            endpoint: self.endpoint.map(|e| e.trim_end_matches('/').to_string()),
            client_id: self.client_id,
            tenant_id: self.tenant_id,
            federated_token_file: self.federated_token_file,
            allowed_users: Vec::new(),
        });
    }
}

#[pg_extern(sql = false)]
fn account_add(account_name_p: Option<&str>, account_key_p: Option<&str>) {
    crate::log_redaction::statement_carries_secret();
    roles::require_admin("account_add");
    NewAccount::plain(required(account_name_p, "account_name_p").to_string(), AuthType::AccessKey, Some(required(account_key_p, "account_key_p").to_string()))
        .store();
}

const CONFIG_KEYS: &str = "account_name, auth_type, storage_type, credentials, endpoint, client_id, tenant_id, federated_token_file";

#[pg_extern(sql = false)]
fn account_add_config(account_config: Option<JsonB>) {
    crate::log_redaction::statement_carries_secret();
    roles::require_admin("account_add");
    let JsonB(config) = required(account_config, "account_config");
    let Value::Object(map) = config else {
        invalid_parameter(format!("account_config must be a JSON object with the keys {CONFIG_KEYS}"));
    };
    let text = |key: &str| -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => invalid_parameter(format!("account_config key \"{key}\" must be a string, not {}", json_kind(other))),
        }
    };
    if let Some(unknown) = map.keys().find(|k| !CONFIG_KEYS.split(", ").any(|known| known == k.as_str())) {
        invalid_parameter(format!("account_config has an unknown key \"{unknown}\"; accepted keys are {CONFIG_KEYS}"));
    }
    let name = text("account_name").unwrap_or_else(|| invalid_parameter("account_config needs the key \"account_name\""));
    let auth_type = match text("auth_type") {
        None => AuthType::AccessKey,
        Some(label) => AuthType::parse(&label).unwrap_or_else(|| {
            invalid_parameter(format!("invalid auth_type \"{label}\"; accepted values are {}", AuthType::LABELS))
        }),
    };
    if let Some(st) = text("storage_type").filter(|s| s != "blob") {
        invalid_parameter(format!("invalid storage_type \"{st}\"; the accepted value is blob"));
    }
    NewAccount {
        endpoint: text("endpoint"),
        client_id: text("client_id"),
        tenant_id: text("tenant_id"),
        federated_token_file: text("federated_token_file"),
        ..NewAccount::plain(name, auth_type, text("credentials"))
    }
    .store();
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[pg_extern(sql = false)]
fn account_encrypt_existing_credentials() -> i64 {
    roles::require_admin("account_encrypt_existing_credentials");
    if crate::guc::encryption_passphrase().is_none() {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "azure_storage.credential_encryption_key is not set",
            None,
            Some("Set it in postgresql.conf or with ALTER SYSTEM (then SELECT pg_reload_conf()), name a key file in azure_storage.credential_encryption_key_file, or SET it in this session, then call this function again.".into()),
        );
    }
    let mut count = 0;
    for row in catalog::all() {
        if let (Some(clear), false) = (&row.credentials, row.encrypted) {
            let (stored, encrypted) = catalog::seal(Some(clear));
            catalog::set_credentials(&row.name, stored.as_deref().unwrap_or_default(), encrypted);
            count += 1;
        }
    }
    count
}

#[pg_extern(sql = false)]
fn account_remove(account_name_p: Option<&str>) {
    roles::require_admin("account_remove");
    let name = required(account_name_p, "account_name_p");
    if !catalog::remove(name) {
        not_registered(name);
    }
}

fn change_grant(function: &str, account_name_p: Option<&str>, user_p: Option<Oid>, grant: bool) {
    roles::require_admin(function);
    let name = required(account_name_p, "account_name_p");
    let user = required(user_p, "user_p");
    if !roles::role_exists(user) {
        raise(PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT, format!("role with OID {} does not exist", user.to_u32()), None, None);
    }
    let Some(row) = catalog::lookup(name) else { not_registered(name) };
    // Grants of dropped roles are forgotten on the way.
    let mut users: Vec<Oid> = row.allowed_users.into_iter().filter(|r| *r != user && roles::role_exists(*r)).collect();
    if grant {
        users.push(user);
    }
    catalog::set_allowed_users(name, &users);
}

#[pg_extern(sql = false)]
fn account_user_add(account_name_p: Option<&str>, user_p: Option<Oid>) {
    change_grant("account_user_add", account_name_p, user_p, true);
}

#[pg_extern(sql = false)]
fn account_user_remove(account_name_p: Option<&str>, user_p: Option<Oid>) {
    change_grant("account_user_remove", account_name_p, user_p, false);
}

/// Rows of account_list; the SQL function casts the labels to the enums.
#[pg_extern(sql = false)]
fn account_list_rows() -> TableIterator<
    'static,
    (name!(account_name, String), name!(auth_type, String), name!(storage_type, String), name!(allowed_users, Vec<Oid>)),
> {
    roles::require_admin("account_list");
    let rows = catalog::all().into_iter().map(|r| {
        let users = r.allowed_users.into_iter().filter(|u| roles::role_exists(*u)).collect();
        (r.name, r.auth_type.label().to_string(), r.storage_type, users)
    });
    TableIterator::new(rows.collect::<Vec<_>>())
}
